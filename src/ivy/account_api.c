/* account_api.c - /v2/account(s), /v2/users, sign-up, confirmation, password, audit. */
#include "account_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/clock.h"
#include "ivy_api.h"

#define NOT_FOUND_ACCOUNT "Account not found."
#define NOT_FOUND_USER "User not found."

/* ---- rendering ---- */

static json_t *link(const char *href, const char *rel, const char *method)
{
	return json_pack("{s:s, s:s, s:s}", "href", href, "rel", rel, "method", method);
}

static json_t *user_json(const struct ivy_user *u)
{
	char self[48];
	json_t *j;

	snprintf(self, sizeof(self), "/users/%lld", (long long)u->id);
	j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:b, s:s, s:I}", "id", (json_int_t)u->id,
		      "first_name", u->first_name, "last_name", u->last_name, "email", u->email,
		      "role", ivy_role_name(u->role), "active", u->active, "locale", u->locale,
		      "account_id", (json_int_t)u->account_id);
	if (j)
		json_object_set_new(j, "links", json_pack("[o]", link(self, "self", "GET")));
	return j;
}

static json_t *account_json(const struct ivy_account *a, const struct ivy_caller *c)
{
	char created[32];
	json_t *j;

	clock_format_rfc3339(a->created_at, created, sizeof(created));
	j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}",
		      "id", (json_int_t)a->id, "name", a->name, "status", a->status,
		      "plan", a->plan, "email", a->email, "phone", a->phone,
		      "created_at", created, "locale", a->locale, "balance", a->balance,
		      "balance_preference_in_dollars", a->balance_pref,
		      "recharge_preference_in_dollars", a->recharge_pref,
		      "maximum_recharge_preference_in_dollars", a->max_recharge_pref,
		      "international_enabled", a->international);
	if (j == NULL)
		return NULL;
	if (a->parent_id)
		json_object_set_new(j, "parent_id", json_integer(a->parent_id));
	if (c && c->tok.user_id && c->account.id == a->id)
		json_object_set_new(j, "current_user",
				    json_pack("{s:I, s:s, s:s, s:s, s:s}", "id",
					      (json_int_t)c->user.id, "first_name",
					      c->user.first_name, "last_name", c->user.last_name,
					      "email", c->user.email, "role",
					      ivy_role_name(c->user.role)));
	json_object_set_new(j, "links", json_pack("[o, o]", link("/account", "self", "GET"),
						  link("/account", "edit", "PUT")));
	return j;
}

static void bad_request(const struct http_req *req, struct http_resp *resp, const char *msg)
{
	http_resp_error(req, resp, 400, "VALIDATION_ERROR", msg);
}

/* Parse an id: decimal digits, no sign or leading zero. Returns 0 or -1. */
static int id_parse(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || s[0] < '1' || s[0] > '9' || strlen(s) > 18)
		return -1;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Parse the {id} path parameter. Returns 0 or -1. */
static int path_id(const struct http_req *req, int64_t *out)
{
	return id_parse(http_param(req, "id"), out);
}

/*
 * The optional id member key of b: *out 0 when it is absent or null. A form
 * body brings it as a string of digits. Returns 0, or -1 when it is anything
 * else (not quietly the caller's own account).
 */
static int body_id(const json_t *b, const char *key, int64_t *out)
{
	const json_t *v = json_object_get(b, key);

	if (v == NULL || json_is_null(v)) {
		*out = 0;
		return 0;
	}
	if (json_is_string(v))
		return id_parse(json_string_value(v), out);
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

/* Load account id if it is within the caller's subtree. Returns 0, 1 (answer 404), -1. */
static int account_visible(sqlite3 *db, const struct ivy_caller *c, int64_t id,
			   struct ivy_account *out)
{
	int rc = account_get(db, id, out);

	if (rc != 0)
		return rc;
	return account_in_subtree(&c->account, out) ? 0 : 1;
}

/*
 * The account ?account_id= names (the caller's own when absent) if the caller
 * may see it: 0, or -1 after answering 404 (also for a malformed id) or 500.
 */
static int query_account(const struct http_req *req, struct http_resp *resp,
			 const struct ivy_caller *c, struct ivy_account *a)
{
	const char *s = http_query(req, "account_id");
	int64_t id;
	int rc = 1;

	if (s == NULL) {
		*a = c->account;
		return 0;
	}
	if (id_parse(s, &id) == 0 && (rc = account_visible(ivy_db(), c, id, a)) == 0)
		return 0;
	if (rc > 0)
		http_resp_error(req, resp, 404, "RESOURCE_NOT_FOUND", NOT_FOUND_ACCOUNT);
	else
		ivy_server_error(req, resp);
	return -1;
}

static void audit(sqlite3 *db, const struct ivy_caller *c, const char *action,
		  const char *kind, int64_t id, int64_t account_id, const char *detail)
{
	char target[48];

	snprintf(target, sizeof(target), "%s:%lld", kind, (long long)id);
	ivy_audit(db, &c->actor, action, target, account_id, detail);
}

/* ---- /v2/account ---- */

static void account_show(struct http_req *req, struct http_resp *resp)
{
	struct ivy_caller c;

	if (ivy_authorize(req, resp, PERM_ACCOUNT_READ, &c) == 0)
		http_resp_json(resp, 200, account_json(&c.account, &c));
}

/* Read the optional string fields of an update; -1 when one is not a string. */
static int update_read(const json_t *b, struct account_update *u)
{
	static const char *const keys[] = { "name", "locale", "balance_preference_in_dollars",
					    "recharge_preference_in_dollars",
					    "maximum_recharge_preference_in_dollars" };
	const char **dst[] = { &u->name, &u->locale, &u->balance_pref, &u->recharge_pref,
			       &u->max_recharge_pref };

	for (size_t i = 0; i < 5; i++) {
		json_t *v = json_object_get(b, keys[i]);

		if (v && !json_is_string(v))
			return -1;
		*dst[i] = json_string_value(v);
	}
	return 0;
}

static void account_put(struct http_req *req, struct http_resp *resp)
{
	struct account_update u = { 0 };
	sqlite3 *db = ivy_db();
	struct ivy_caller c;
	json_t *b = NULL;
	int rc;

	if (ivy_authorize(req, resp, PERM_ACCOUNT_WRITE, &c) != 0)
		return;
	b = ivy_body(req);
	if (b == NULL || update_read(b, &u) != 0) {
		bad_request(req, resp, "Invalid account fields.");
	} else if ((rc = account_update(db, c.account.id, &u)) != 0) {
		if (rc > 0)
			bad_request(req, resp, "Invalid account fields.");
		else
			ivy_server_error(req, resp);
	} else if (account_get(db, c.account.id, &c.account) != 0) {
		ivy_server_error(req, resp);
	} else {
		audit(db, &c, "account.update", "account", c.account.id, c.account.id, NULL);
		http_resp_json(resp, 200, account_json(&c.account, &c));
	}
	json_decref(b);
}

/* ---- /v2/accounts: the caller's subtree ---- */

static void add_account(const struct ivy_account *a, void *arg)
{
	json_array_append_new(arg, account_json(a, NULL));
}

static void accounts_list(struct http_req *req, struct http_resp *resp)
{
	struct ivy_caller c;
	json_t *arr;

	if (ivy_authorize(req, resp, PERM_CHILD_READ, &c) != 0)
		return;
	arr = json_array();
	if (account_list_below(ivy_db(), &c.account, add_account, arr) != 0) {
		json_decref(arr);
		ivy_server_error(req, resp);
		return;
	}
	http_resp_json(resp, 200, json_pack("{s:o}", "accounts", arr));
}

static void accounts_create(struct http_req *req, struct http_resp *resp)
{
	sqlite3 *db = ivy_db();
	struct ivy_account parent, a;
	struct ivy_caller c;
	int64_t id, pid = 0;
	json_t *b;
	int rc;

	if (ivy_authorize(req, resp, PERM_CHILD_WRITE, &c) != 0)
		return;
	b = ivy_body(req);
	if (b == NULL || !ivy_str(b, "name") || body_id(b, "parent_id", &pid) != 0 ||
	    (json_object_get(b, "email") && !ivy_str(b, "email"))) {
		bad_request(req, resp, "name is required; email must be a string; parent_id an "
			    "account id.");
	} else if ((rc = account_visible(db, &c, pid ? pid : c.account.id, &parent)) != 0) {
		if (rc > 0)
			http_resp_error(req, resp, 404, "RESOURCE_NOT_FOUND", NOT_FOUND_ACCOUNT);
		else
			ivy_server_error(req, resp);
	} else if ((rc = account_create(db, parent.id, ivy_str(b, "name"), ivy_str(b, "email"),
					"active", &id)) != 0 || account_get(db, id, &a) != 0) {
		if (rc > 0)
			bad_request(req, resp, "Accounts nest at most three deep.");
		else
			ivy_server_error(req, resp);
	} else {
		audit(db, &c, "account.create", "account", id, parent.id, a.name);
		http_resp_json(resp, 201, account_json(&a, NULL));
	}
	json_decref(b);
}

/* Load {id} for the caller: 0, or -1 after answering 404 or 500. */
static int account_param(const struct http_req *req, struct http_resp *resp,
			 const struct ivy_caller *c, struct ivy_account *a)
{
	int64_t id;
	int rc;

	if (path_id(req, &id) != 0 || (rc = account_visible(ivy_db(), c, id, a)) > 0) {
		http_resp_error(req, resp, 404, "RESOURCE_NOT_FOUND", NOT_FOUND_ACCOUNT);
		return -1;
	}
	if (rc < 0) {
		ivy_server_error(req, resp);
		return -1;
	}
	return 0;
}

static void accounts_show(struct http_req *req, struct http_resp *resp)
{
	struct ivy_account a;
	struct ivy_caller c;

	if (ivy_authorize(req, resp, PERM_CHILD_READ, &c) == 0 &&
	    account_param(req, resp, &c, &a) == 0)
		http_resp_json(resp, 200, account_json(&a, NULL));
}

static void accounts_status(struct http_req *req, struct http_resp *resp, const char *status)
{
	sqlite3 *db = ivy_db();
	struct ivy_account a;
	struct ivy_caller c;
	int rc;

	if (ivy_authorize(req, resp, PERM_CHILD_WRITE, &c) != 0 ||
	    account_param(req, resp, &c, &a) != 0)
		return;
	if (a.id == c.account.id) {
		http_resp_error(req, resp, 403, "FORBIDDEN",
				"An account cannot change its own status.");
		return;
	}
	/* Resume lifts a suspension only (an active account stays as it is): it does not
	 * stand in for a confirmation. */
	if (strcmp(a.status, status) == 0)
		rc = 0; /* already there: nothing to do */
	else if (strcmp(status, "active") == 0)
		rc = account_move_status(db, a.id, "suspended", status);
	else /* suspend only an active account: a closed or unconfirmed one stays so */
		rc = account_move_status(db, a.id, "active", status);
	if (rc == 1) {
		http_resp_error(req, resp, 409, "INVALID_STATE",
				strcmp(status, "active") == 0 ? "The account is not suspended."
							       : "The account is not active.");
		return;
	}
	if (rc != 0 || account_get(db, a.id, &a) != 0) {
		ivy_server_error(req, resp);
		return;
	}
	audit(db, &c, strcmp(status, "active") ? "account.suspend" : "account.resume", "account",
	      a.id, a.id, NULL);
	http_resp_json(resp, 200, account_json(&a, NULL));
}

static void accounts_suspend(struct http_req *req, struct http_resp *resp)
{
	accounts_status(req, resp, "suspended");
}

static void accounts_resume(struct http_req *req, struct http_resp *resp)
{
	accounts_status(req, resp, "active");
}

/* ---- /v2/users ---- */

static void add_user(const struct ivy_user *u, void *arg)
{
	json_array_append_new(arg, user_json(u));
}

static void users_list(struct http_req *req, struct http_resp *resp)
{
	struct ivy_account a;
	struct ivy_caller c;
	json_t *arr;

	if (ivy_authorize(req, resp, PERM_USER_READ, &c) != 0 ||
	    query_account(req, resp, &c, &a) != 0)
		return;
	arr = json_array();
	if (user_list(ivy_db(), a.id, add_user, arr) != 0) {
		json_decref(arr);
		ivy_server_error(req, resp);
		return;
	}
	http_resp_json(resp, 200, json_pack("{s:o, s:[o]}", "users", arr, "links",
					    link("/users", "self", "GET")));
}

/* The contract's examples say "user" and "administrator"; they are member and admin. */
static int role_read(const char *s)
{
	if (s && strcmp(s, "user") == 0)
		return ROLE_MEMBER;
	if (s && strcmp(s, "administrator") == 0)
		return ROLE_ADMIN;
	return ivy_role_parse(s);
}

/* Apply the body's fields to u. Returns 0, or -1 when one has the wrong type or value. */
static int user_fields(const json_t *b, struct ivy_user *u)
{
	static const char *const keys[] = { "first_name", "last_name", "email", "locale" };
	char *dst[] = { u->first_name, u->last_name, u->email, u->locale };
	size_t len[] = { sizeof(u->first_name), sizeof(u->last_name), sizeof(u->email),
			 sizeof(u->locale) };
	json_t *v;

	for (size_t i = 0; i < 4; i++) {
		v = json_object_get(b, keys[i]);
		if (v && (!json_is_string(v) || strlen(json_string_value(v)) >= len[i]))
			return -1;
		if (v)
			snprintf(dst[i], len[i], "%s", json_string_value(v));
	}
	if ((v = json_object_get(b, "role")) && (u->role = role_read(json_string_value(v))) < 0)
		return -1;
	if ((v = json_object_get(b, "active")) && !json_is_boolean(v))
		return -1;
	if (v)
		u->active = json_is_true(v);
	return 0;
}

/* Only an owner may make or change an owner; a client acting without a user may not. */
static bool role_grantable(const struct ivy_caller *c, int role)
{
	return role != ROLE_OWNER || (c->tok.user_id != 0 && c->user.role == ROLE_OWNER);
}

static void user_store_error(const struct http_req *req, struct http_resp *resp, int rc)
{
	if (rc == 1)
		http_resp_error(req, resp, 409, "USER_EMAIL_CONFLICT",
				"A user with this email address already exists.");
	else if (rc == 2)
		bad_request(req, resp, "Invalid email format or missing required fields.");
	else
		ivy_server_error(req, resp);
}

static void users_create(struct http_req *req, struct http_resp *resp)
{
	struct ivy_user u = { .role = ROLE_MEMBER, .active = true };
	sqlite3 *db = ivy_db();
	struct ivy_account a;
	struct ivy_caller c;
	int64_t aid = 0;
	json_t *b;
	int rc;

	if (ivy_authorize(req, resp, PERM_USER_WRITE, &c) != 0)
		return;
	b = ivy_body(req);
	snprintf(u.locale, sizeof(u.locale), "en-US");
	if (b == NULL || user_fields(b, &u) != 0 || !ivy_str(b, "email") ||
	    body_id(b, "account_id", &aid) != 0 ||
	    (json_object_get(b, "password") && !ivy_str(b, "password"))) {
		bad_request(req, resp, "Invalid email format or missing required fields.");
	} else if (!role_grantable(&c, u.role)) {
		http_resp_error(req, resp, 403, "FORBIDDEN", "Only an owner may add an owner.");
	} else if ((rc = account_visible(db, &c, aid ? aid : c.account.id, &a)) != 0) {
		if (rc > 0)
			http_resp_error(req, resp, 404, "RESOURCE_NOT_FOUND", NOT_FOUND_ACCOUNT);
		else
			ivy_server_error(req, resp);
	} else {
		u.account_id = a.id;
		rc = user_create(db, &u, ivy_str(b, "password"));
		if (rc != 0) {
			user_store_error(req, resp, rc);
		} else {
			audit(db, &c, "user.create", "user", u.id, a.id, ivy_role_name(u.role));
			http_resp_json(resp, 201, user_json(&u));
		}
	}
	json_decref(b);
}

/* Load {id} for the caller: 0, or -1 after answering 404 or 500. */
static int user_param(const struct http_req *req, struct http_resp *resp,
		      const struct ivy_caller *c, struct ivy_user *u)
{
	struct ivy_account a;
	int64_t id;
	int rc = 1;

	if (path_id(req, &id) == 0 && (rc = user_get(ivy_db(), id, u)) == 0)
		rc = account_visible(ivy_db(), c, u->account_id, &a);
	if (rc > 0)
		http_resp_error(req, resp, 404, "RESOURCE_NOT_FOUND", NOT_FOUND_USER);
	else if (rc < 0)
		ivy_server_error(req, resp);
	return rc == 0 ? 0 : -1;
}

static void users_show(struct http_req *req, struct http_resp *resp)
{
	struct ivy_caller c;
	struct ivy_user u;

	if (ivy_authorize(req, resp, PERM_USER_READ, &c) == 0 &&
	    user_param(req, resp, &c, &u) == 0)
		http_resp_json(resp, 200, user_json(&u));
}

static void users_put(struct http_req *req, struct http_resp *resp)
{
	struct ivy_caller c;
	struct ivy_user u;
	json_t *b;
	int old_role, rc;

	if (ivy_authorize(req, resp, PERM_USER_WRITE, &c) != 0 ||
	    user_param(req, resp, &c, &u) != 0)
		return;
	b = ivy_body(req);
	old_role = u.role;
	if (b == NULL || user_fields(b, &u) != 0) {
		bad_request(req, resp, "Invalid email format or missing required fields.");
	} else if (!role_grantable(&c, u.role) || !role_grantable(&c, old_role)) {
		http_resp_error(req, resp, 403, "FORBIDDEN", "Only an owner may change an owner.");
	} else if ((rc = user_save(ivy_db(), &u)) != 0) {
		user_store_error(req, resp, rc);
	} else {
		audit(ivy_db(), &c, "user.update", "user", u.id, u.account_id,
		      ivy_role_name(u.role));
		http_resp_json(resp, 200, user_json(&u));
	}
	json_decref(b);
}

static void users_delete(struct http_req *req, struct http_resp *resp)
{
	struct ivy_caller c;
	struct ivy_user u;

	if (ivy_authorize(req, resp, PERM_USER_WRITE, &c) != 0 ||
	    user_param(req, resp, &c, &u) != 0)
		return;
	if (!role_grantable(&c, u.role) || u.id == c.tok.user_id) {
		http_resp_error(req, resp, 403, "FORBIDDEN",
				"Permission denied to perform this action.");
	} else if (user_delete(ivy_db(), u.id) != 0) {
		ivy_server_error(req, resp);
	} else {
		audit(ivy_db(), &c, "user.delete", "user", u.id, u.account_id, NULL);
		http_resp_set(resp, 204, "application/json", "", 0);
	}
}

/* ---- sign-up, confirmation, password reset (no token needed) ---- */

/*
 * Count a request of kind from its address (login throttling's store and
 * window): 0 to go on, or -1 after answering 429 with Retry-After, or 500.
 */
static int anon_throttle(const struct http_req *req, struct http_resp *resp, const char *kind)
{
	unsigned wait = 0;
	char ra[16];
	int rc = request_throttle(ivy_db(), &ivy_settings()->login, kind, req->client_text,
				  &wait);

	if (rc == 0)
		return 0;
	if (rc < 0) {
		ivy_server_error(req, resp);
		return -1;
	}
	http_resp_error(req, resp, 429, "TOO_MANY_REQUESTS",
			"Too many requests from this address; try again later.");
	snprintf(ra, sizeof(ra), "%u", wait);
	http_resp_header(resp, "Retry-After", ra);
	return -1;
}

static void anon_audit(const struct http_req *req, const char *action, int64_t user_id,
		       int64_t account_id)
{
	char target[48];
	struct ivy_actor a;

	snprintf(target, sizeof(target), "user:%lld", (long long)user_id);
	ivy_actor_anon(req, "anonymous", account_id, &a);
	ivy_audit(ivy_db(), &a, action, target, account_id, NULL);
}

static json_t *signup_json(const struct ivy_account *a, const json_t *addr, const char *token)
{
	char self[48];

	snprintf(self, sizeof(self), "/account/%lld", (long long)a->id);
	return json_pack("{s:I, s:s, s:b, s:s, s:b, s:s, s:s, s:O, s:s, s:[o, o]}",
			 "id", (json_int_t)a->id, "name", a->name, "active", 0,
			 "locale", a->locale, "international_enabled", a->international,
			 "balance_preference_in_dollars", a->balance_pref,
			 "recharge_preference_in_dollars", a->recharge_pref, "address", addr,
			 "confirmation_token", token, "links",
			 link("/confirmation", "confirmAccount", "POST"),
			 link(self, "self", "GET"));
}

/* Make the account and its owner. Returns 0, 1 (email taken), 2 (bad fields) or -1. */
static int signup_make(sqlite3 *db, const json_t *b, struct ivy_account *a,
		       char token[IVY_SECRET_MAX])
{
	const json_t *addr = json_object_get(b, "address");
	struct ivy_user u = { .role = ROLE_OWNER, .active = false };
	const char *email = ivy_str(addr, "email");
	int64_t id;
	int rc;

	if (!ivy_str(b, "name") || email == NULL || strlen(email) >= sizeof(u.email))
		return 2;
	if (user_get_by_email(db, email, &u) == 0)
		return 1;
	snprintf(u.email, sizeof(u.email), "%s", email);
	snprintf(u.locale, sizeof(u.locale), "en-US");
	if ((rc = account_create(db, ivy_settings()->signup_parent, ivy_str(b, "name"), email,
				 "pending_confirmation", &id)) != 0)
		return rc > 0 ? 2 : -1;
	u.account_id = id;
	if ((rc = user_create(db, &u, ivy_str(b, "password"))) != 0) {
		account_set_status(db, id, "closed"); /* nobody can ever confirm it */
		return rc;
	}
	if (onetime_issue(db, "confirm", u.id, ivy_settings()->confirm_ttl, token) != 0 ||
	    account_get(db, id, a) != 0)
		return -1;
	return 0;
}

static void signup(struct http_req *req, struct http_resp *resp)
{
	char token[IVY_SECRET_MAX];
	struct ivy_account a;
	json_t *b;
	int rc;

	if (anon_throttle(req, resp, "signup") != 0)
		return;
	b = ivy_body(req);
	rc = b ? signup_make(ivy_db(), b, &a, token) : 2;
	if (rc == 0) {
		anon_audit(req, "account.sign_up", 0, a.id);
		http_resp_json(resp, 201, signup_json(&a, json_object_get(b, "address"), token));
	} else if (rc == 1) {
		http_resp_error(req, resp, 409, "ACCOUNT_ALREADY_EXISTS",
				"An account with this email address already exists.");
	} else if (rc == 2) {
		http_resp_error(req, resp, 400, "VALIDATION_ERROR",
				"Validation failed: name and a valid address.email are required.");
	} else {
		ivy_server_error(req, resp);
	}
	json_decref(b);
}

static void confirmation(struct http_req *req, struct http_resp *resp)
{
	sqlite3 *db = ivy_db();
	json_t *b = ivy_body(req);
	struct ivy_user u;
	int64_t uid;
	int rc = b ? onetime_use(db, "confirm", ivy_str(b, "confirmation_token"), &uid) : 1;

	if (rc == 0 && (rc = user_get(db, uid, &u)) == 0) {
		u.active = true;
		if (user_save(db, &u) != 0 ||
		    account_move_status(db, u.account_id, "pending_confirmation", "active") < 0) {
			ivy_server_error(req, resp);
		} else {
			anon_audit(req, "user.confirm", u.id, u.account_id);
			http_resp_json(resp, 201, json_pack("{s:s, s:[o]}", "message",
				"Account confirmed successfully. You can now log in.", "links",
				link("/oauth/token", "login", "POST")));
		}
	} else if (rc < 0) {
		ivy_server_error(req, resp);
	} else {
		http_resp_error(req, resp, 400, "INVALID_CONFIRMATION_TOKEN",
				"Invalid or expired confirmation token.");
	}
	json_decref(b);
}

static void password_forgot(struct http_req *req, struct http_resp *resp)
{
	sqlite3 *db = ivy_db();
	char token[IVY_SECRET_MAX];
	const char *email;
	struct ivy_user u;
	json_t *b;
	int rc;

	/* Counted whatever the answer: it also tells which addresses have a user. */
	if (anon_throttle(req, resp, "reset") != 0)
		return;
	b = ivy_body(req);
	email = b ? ivy_str(b, "email") : NULL;
	if (email == NULL || strchr(email, '@') == NULL) {
		http_resp_error(req, resp, 400, "INVALID_EMAIL_FORMAT",
				"Invalid email address format.");
	} else if ((rc = user_get_by_email(db, email, &u)) > 0) {
		http_resp_error(req, resp, 404, "EMAIL_NOT_FOUND",
				"No account found with that email address.");
	} else if (rc < 0 || onetime_issue(db, "reset", u.id, ivy_settings()->reset_ttl,
					   token) != 0) {
		ivy_server_error(req, resp);
	} else {
		anon_audit(req, "user.password_reset_requested", u.id, u.account_id);
		/* Without mail, the token is only handed out where that was switched on. */
		http_resp_json(resp, 201, json_pack("{s:o, s:[o]}", "reset_password_token",
			ivy_settings()->reveal_tokens ? json_string(token) : json_null(), "links",
			link("/oauth/token", "self", "GET")));
	}
	json_decref(b);
}

static void password_reset(struct http_req *req, struct http_resp *resp)
{
	sqlite3 *db = ivy_db();
	json_t *b = ivy_body(req);
	const char *pw = b ? ivy_str(b, "password") : NULL;
	const char *pw2 = b ? ivy_str(b, "password_confirmation") : NULL;
	struct ivy_user u;
	int64_t uid;
	int rc = 1;

	/* Check the new password first so that a typo does not use up the token. */
	if (pw && pw2 && strcmp(pw, pw2) == 0 && user_password_ok(pw))
		rc = onetime_use(db, "reset", ivy_str(b, "reset_password_token"), &uid);
	if (rc == 0 && (rc = user_get(db, uid, &u)) > 0) {
		http_resp_error(req, resp, 404, "ACCOUNT_NOT_FOUND_FOR_TOKEN",
				"Account not found for the provided reset token.");
	} else if (rc > 0) {
		http_resp_error(req, resp, 400, "INVALID_RESET_TOKEN_OR_PASSWORD",
				"Password reset token is invalid or has expired. Or, passwords do "
				"not match / meet complexity requirements.");
	} else if (rc < 0 || user_set_password(db, uid, pw) != 0 || user_revoke_tokens(db, uid)) {
		ivy_server_error(req, resp);
	} else {
		anon_audit(req, "user.password_reset", u.id, u.account_id);
		http_resp_json(resp, 200, json_pack("{s:s, s:[o]}", "message",
			"Your password has been reset.", "links",
			link("/oauth/token", "self", "GET")));
	}
	json_decref(b);
}

/* ---- /v2/audit ---- */

static void add_entry(const struct ivy_audit_entry *e, void *arg)
{
	char at[32];

	clock_format_rfc3339(e->at, at, sizeof(at));
	json_array_append_new(arg, json_pack("{s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:s}",
		"id", (json_int_t)e->id, "at", at, "actor", e->actor, "source", e->source,
		"account_id", (json_int_t)e->account_id, "action", e->action, "target", e->target,
		"detail", e->detail));
}

static void audit_list(struct http_req *req, struct http_resp *resp)
{
	const char *lim = http_query(req, "limit");
	long n = lim ? strtol(lim, NULL, 10) : 100;
	struct ivy_account a;
	struct ivy_caller c;
	json_t *arr;

	if (ivy_authorize(req, resp, PERM_AUDIT_READ, &c) != 0 ||
	    query_account(req, resp, &c, &a) != 0)
		return;
	arr = json_array();
	if (ivy_audit_list(ivy_db(), a.path, n < 1 || n > 1000 ? 100 : (unsigned)n,
			   add_entry, arr) != 0) {
		json_decref(arr);
		ivy_server_error(req, resp);
		return;
	}
	http_resp_json(resp, 200, json_pack("{s:o}", "entries", arr));
}

static struct http_route routes[19];

int account_api_mount(struct http_router *r)
{
	const struct http_family *f = ivy_family();
	const struct http_route list[] = {
		{ "GET", "/v2/account", HTTP_JSON, f, account_show, false },
		{ "PUT", "/v2/account", HTTP_JSON, f, account_put, true },
		{ "GET", "/v2/accounts", HTTP_JSON, f, accounts_list, false },
		{ "POST", "/v2/accounts", HTTP_JSON, f, accounts_create, true },
		{ "GET", "/v2/accounts/{id}", HTTP_JSON, f, accounts_show, false },
		{ "POST", "/v2/accounts/{id}/suspend", HTTP_JSON, f, accounts_suspend, true },
		{ "POST", "/v2/accounts/{id}/resume", HTTP_JSON, f, accounts_resume, true },
		{ "GET", "/v2/users", HTTP_JSON, f, users_list, false },
		{ "POST", "/v2/users", HTTP_JSON, f, users_create, true },
		{ "GET", "/v2/users/{id}", HTTP_JSON, f, users_show, false },
		{ "PUT", "/v2/users/{id}", HTTP_JSON, f, users_put, true },
		{ "DELETE", "/v2/users/{id}", HTTP_JSON, f, users_delete, false },
		{ "POST", "/v2/sign-up", HTTP_JSON, f, signup, true },
		{ "POST", "/v2/confirmation", HTTP_JSON, f, confirmation, true },
		{ "POST", "/v2/password", HTTP_JSON, f, password_forgot, true },
		{ "PUT", "/v2/password", HTTP_JSON, f, password_reset, true },
		{ "GET", "/v2/audit", HTTP_JSON, f, audit_list, false },
	};
	size_t n = sizeof(list) / sizeof(list[0]);

	memcpy(routes, list, sizeof(list));
	return http_router_add(r, routes, n);
}
