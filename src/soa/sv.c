/* sv.c - the subscription-version state machine, one table of moves.
 *
 * A row names a move, the statuses it may start from, who may make it, a
 * guard that may refuse it and the change it makes. sv_apply() runs the
 * guard and the change on a copy and publishes the copy only on success, so
 * a refused move changes nothing.
 */
#include "sv.h"

#include <string.h>

#define ST(s) (1u << (s))
#define WHO(r) (1u << (r))
#define EITHER (WHO(SV_BY_NEW) | WHO(SV_BY_OLD))

typedef int (*guard_fn)(const struct sv *sv, enum sv_role who, const struct sv_args *a,
			const struct sv_env *env, int64_t now);
typedef void (*change_fn)(struct sv *sv, enum sv_role who, const struct sv_args *a,
			  const struct sv_env *env, int64_t now, struct sv_effects *fx);

struct rule {
	enum sv_move move;
	unsigned from; /* ST() bits */
	unsigned who;  /* WHO() bits */
	guard_fn guard;
	change_fn change;
};

static void note(struct sv_effects *fx, enum sv_note n, unsigned to)
{
	if (fx->n_notes < SV_MAX_NOTES) {
		fx->notes[fx->n_notes].note = n;
		fx->notes[fx->n_notes].to = to;
		fx->n_notes++;
	}
}

static void go(struct sv *sv, enum sv_status to, struct sv_effects *fx)
{
	sv->status = to;
	fx->to = to;
	if (to == SV_SENDING)
		fx->broadcast = true;
	if (fx->to != fx->from)
		note(fx, SV_NOTE_STATUS, SV_TO_BOTH);
}

static int64_t timer_t1(const struct sv *sv, const struct sv_env *env)
{
	return sv->wireless ? env->tm->t1_short : env->tm->t1;
}

static int64_t timer_t2(const struct sv *sv, const struct sv_env *env)
{
	return sv->wireless ? env->tm->t2_short : env->tm->t2;
}

static bool both_created(const struct sv *sv)
{
	return sv->new_created && sv->old_created;
}

/* ---- guards ---- */

static int g_concur(const struct sv *sv, enum sv_role who, const struct sv_args *a,
		    const struct sv_env *env, int64_t now)
{
	return sv->old_created ? SV_E_DONE : SV_OK;
}

static int g_new_create(const struct sv *sv, enum sv_role who, const struct sv_args *a,
			const struct sv_env *env, int64_t now)
{
	return sv->new_created ? SV_E_DONE : SV_OK;
}

static int g_conflict(const struct sv *sv, enum sv_role who, const struct sv_args *a,
		      const struct sv_env *env, int64_t now)
{
	if (sv->lnp_type == SV_LISP)
		return SV_E_STATE;
	if (a == NULL || a->cause < 50 || a->cause > 54)
		return SV_E_ARG;
	return now >= sv->conflict_until ? SV_E_LATE : SV_OK;
}

static int g_resolve(const struct sv *sv, enum sv_role who, const struct sv_args *a,
		     const struct sv_env *env, int64_t now)
{
	return who == SV_BY_NEW && now < sv->resolve_at ? SV_E_EARLY : SV_OK;
}

/* Only a provider that created the SV may cancel it; the current SP a disconnect. */
static int g_cancel(const struct sv *sv, enum sv_role who, const struct sv_args *a,
		    const struct sv_env *env, int64_t now)
{
	if (sv->status == SV_DISCONNECT_PENDING)
		return who == SV_BY_NEW ? SV_OK : SV_E_ROLE;
	if ((who == SV_BY_NEW && !sv->new_created) || (who == SV_BY_OLD && !sv->old_created))
		return SV_E_ROLE;
	return SV_OK;
}

static int g_cancel_ack(const struct sv *sv, enum sv_role who, const struct sv_args *a,
			const struct sv_env *env, int64_t now)
{
	return who == sv->canceled_by ? SV_E_ROLE : SV_OK;
}

static int g_activate(const struct sv *sv, enum sv_role who, const struct sv_args *a,
		      const struct sv_env *env, int64_t now)
{
	uint64_t lrn = a && a->lrn ? a->lrn : sv->lrn;

	if (!sv->new_created)
		return SV_E_STATE;
	if (lrn == 0)
		return SV_E_ARG;
	if (now < sv->due)
		return SV_E_EARLY;
	if (sv->lnp_type == SV_LISP || sv->authorized || now >= sv->t2_at)
		return SV_OK;
	return SV_E_CONCURRENCE;
}

static int g_disconnect(const struct sv *sv, enum sv_role who, const struct sv_args *a,
			const struct sv_env *env, int64_t now)
{
	return a && a->erd < 0 ? SV_E_ARG : SV_OK;
}

static int g_timer(const struct sv *sv, enum sv_move m, int64_t now)
{
	return sv_due_move(sv, now) == (int)m ? SV_OK : SV_E_EARLY;
}

#define TIMER_GUARD(name, move)                                                          \
	static int name(const struct sv *sv, enum sv_role who, const struct sv_args *a,  \
			const struct sv_env *env, int64_t now)                           \
	{                                                                                 \
		return g_timer(sv, move, now);                                            \
	}

TIMER_GUARD(g_t1, SV_MOVE_T1_EXPIRE)
TIMER_GUARD(g_t2, SV_MOVE_T2_EXPIRE)
TIMER_GUARD(g_cancel1, SV_MOVE_CANCEL1_EXPIRE)
TIMER_GUARD(g_cancel2, SV_MOVE_CANCEL2_EXPIRE)
TIMER_GUARD(g_conflict_exp, SV_MOVE_CONFLICT_EXPIRE)
TIMER_GUARD(g_release, SV_MOVE_RELEASE)

/* ---- changes ---- */

static void c_concur(struct sv *sv, enum sv_role who, const struct sv_args *a,
		     const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	sv->old_created = true;
	sv->authorized = true;
	note(fx, SV_NOTE_CONCURRED, SV_TO_NEW);
}

static void c_new_create(struct sv *sv, enum sv_role who, const struct sv_args *a,
			 const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	sv->new_created = true;
	if (a && a->lrn)
		sv->lrn = a->lrn;
	note(fx, SV_NOTE_CREATED, SV_TO_OLD);
}

static void c_conflict(struct sv *sv, enum sv_role who, const struct sv_args *a,
		       const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	sv->old_created = true;
	sv->authorized = false;
	sv->cause = a->cause;
	sv->conflict_at = now;
	sv->resolve_at = bizcal_add(env->cal, now, env->tm->resolve_restrict);
	sv->conflict_expire_at = now + env->tm->conflict_expire;
	go(sv, SV_CONFLICT, fx);
}

/* A resolved conflict counts as the old SP's concurrence. */
static void c_resolve(struct sv *sv, enum sv_role who, const struct sv_args *a,
		      const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	sv->authorized = true;
	sv->cause = 0;
	go(sv, SV_PENDING, fx);
}

static void c_cancel(struct sv *sv, enum sv_role who, const struct sv_args *a,
		     const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	if (sv->status == SV_DISCONNECT_PENDING) {
		sv->erd = 0;
		go(sv, SV_ACTIVE, fx);
		return;
	}
	sv->canceled_by = who;
	if (!both_created(sv)) {
		sv->canceled_at = now;
		go(sv, SV_CANCELED, fx);
		return;
	}
	sv->pre_cancel = sv->status;
	sv->cancel1_at = bizcal_add(env->cal, now, env->tm->cancel_initial);
	sv->cancel2_at = bizcal_add(env->cal, sv->cancel1_at, env->tm->cancel_final);
	sv->done &= ~SV_DONE_CANCEL1;
	go(sv, SV_CANCEL_PENDING, fx);
	note(fx, SV_NOTE_CANCEL_ACK_REQUEST, who == SV_BY_NEW ? SV_TO_OLD : SV_TO_NEW);
}

static void c_canceled(struct sv *sv, enum sv_role who, const struct sv_args *a,
		       const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	sv->canceled_at = now;
	go(sv, SV_CANCELED, fx);
}

static void c_activate(struct sv *sv, enum sv_role who, const struct sv_args *a,
		       const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	if (a && a->lrn)
		sv->lrn = a->lrn;
	sv->disconnecting = false;
	go(sv, SV_SENDING, fx);
}

static void c_disconnect(struct sv *sv, enum sv_role who, const struct sv_args *a,
			 const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	note(fx, SV_NOTE_DONOR_DISCONNECT, SV_TO_OLD);
	if (a && a->erd > now) {
		sv->erd = a->erd;
		go(sv, SV_DISCONNECT_PENDING, fx);
		return;
	}
	sv->erd = now;
	sv->disconnecting = true;
	go(sv, SV_SENDING, fx);
}

static void c_broadcast_ok(struct sv *sv, enum sv_role who, const struct sv_args *a,
			   const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	if (sv->disconnecting) {
		sv->old_at = now;
		go(sv, SV_OLD, fx);
		return;
	}
	sv->activated_at = now;
	go(sv, SV_ACTIVE, fx);
}

static void c_broadcast_fail(struct sv *sv, enum sv_role who, const struct sv_args *a,
			     const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	go(sv, SV_FAILED, fx);
}

static void c_resend(struct sv *sv, enum sv_role who, const struct sv_args *a,
		     const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	go(sv, SV_SENDING, fx);
}

static void c_old(struct sv *sv, enum sv_role who, const struct sv_args *a,
		  const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	sv->old_at = now;
	go(sv, SV_OLD, fx);
}

static void c_t1(struct sv *sv, enum sv_role who, const struct sv_args *a,
		 const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	sv->done |= SV_DONE_T1;
	if (!sv->old_created)
		note(fx, SV_NOTE_OLD_SP_CONCURRENCE_REQUEST, SV_TO_OLD);
	else if (!sv->new_created)
		note(fx, SV_NOTE_NEW_SP_CREATE_REQUEST, SV_TO_NEW);
}

static void c_t2(struct sv *sv, enum sv_role who, const struct sv_args *a,
		 const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	sv->done |= SV_DONE_T1 | SV_DONE_T2;
	if (!sv->old_created) {
		note(fx, SV_NOTE_OLD_SP_FINAL_CONCURRENCE_EXPIRED, SV_TO_OLD);
	} else if (!sv->new_created) {
		note(fx, SV_NOTE_NEW_SP_FINAL_CREATE_EXPIRED, SV_TO_BOTH);
		if (env->tm->old_first_cancel) {
			sv->canceled_at = now;
			go(sv, SV_CANCELED, fx);
		}
	}
}

static void c_cancel1(struct sv *sv, enum sv_role who, const struct sv_args *a,
		      const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	sv->done |= SV_DONE_CANCEL1;
	note(fx, SV_NOTE_CANCEL_ACK_REQUEST,
	     sv->canceled_by == SV_BY_NEW ? SV_TO_OLD : SV_TO_NEW);
}

/* Nobody acknowledged: a new-SP cancel stands, an old-SP cancel becomes a conflict. */
static void c_cancel2(struct sv *sv, enum sv_role who, const struct sv_args *a,
		      const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	if (sv->canceled_by == SV_BY_NEW) {
		sv->canceled_at = now;
		go(sv, SV_CANCELED, fx);
		return;
	}
	sv->authorized = false;
	sv->cause = 54;
	sv->conflict_at = now;
	sv->resolve_at = bizcal_add(env->cal, now, env->tm->resolve_restrict);
	sv->conflict_expire_at = now + env->tm->conflict_expire;
	go(sv, SV_CONFLICT, fx);
}

static void c_release(struct sv *sv, enum sv_role who, const struct sv_args *a,
		      const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	sv->disconnecting = true;
	go(sv, SV_SENDING, fx);
}

/* ---- the table ---- */

static const struct rule rules[] = {
	{ SV_MOVE_CONCUR, ST(SV_PENDING), WHO(SV_BY_OLD), g_concur, c_concur },
	{ SV_MOVE_NEW_CREATE, ST(SV_PENDING) | ST(SV_CONFLICT), WHO(SV_BY_NEW), g_new_create,
	  c_new_create },
	{ SV_MOVE_CONFLICT, ST(SV_PENDING), WHO(SV_BY_OLD), g_conflict, c_conflict },
	{ SV_MOVE_RESOLVE, ST(SV_CONFLICT), EITHER, g_resolve, c_resolve },
	{ SV_MOVE_CANCEL, ST(SV_PENDING) | ST(SV_CONFLICT) | ST(SV_DISCONNECT_PENDING), EITHER,
	  g_cancel, c_cancel },
	{ SV_MOVE_CANCEL_ACK, ST(SV_CANCEL_PENDING), EITHER, g_cancel_ack, c_canceled },
	{ SV_MOVE_ACTIVATE, ST(SV_PENDING), WHO(SV_BY_NEW), g_activate, c_activate },
	{ SV_MOVE_DISCONNECT, ST(SV_ACTIVE), WHO(SV_BY_NEW), g_disconnect, c_disconnect },
	{ SV_MOVE_BROADCAST_OK, ST(SV_SENDING), WHO(SV_BY_NPAC), NULL, c_broadcast_ok },
	{ SV_MOVE_BROADCAST_FAIL, ST(SV_SENDING), WHO(SV_BY_NPAC), NULL, c_broadcast_fail },
	{ SV_MOVE_RESEND, ST(SV_FAILED) | ST(SV_PARTIAL_FAILURE), WHO(SV_BY_NPAC), NULL,
	  c_resend },
	{ SV_MOVE_SUPERSEDE, ST(SV_ACTIVE) | ST(SV_DISCONNECT_PENDING), WHO(SV_BY_NPAC), NULL,
	  c_old },
	{ SV_MOVE_T1_EXPIRE, ST(SV_PENDING) | ST(SV_CONFLICT), WHO(SV_BY_NPAC), g_t1, c_t1 },
	{ SV_MOVE_T2_EXPIRE, ST(SV_PENDING) | ST(SV_CONFLICT), WHO(SV_BY_NPAC), g_t2, c_t2 },
	{ SV_MOVE_CANCEL1_EXPIRE, ST(SV_CANCEL_PENDING), WHO(SV_BY_NPAC), g_cancel1, c_cancel1 },
	{ SV_MOVE_CANCEL2_EXPIRE, ST(SV_CANCEL_PENDING), WHO(SV_BY_NPAC), g_cancel2, c_cancel2 },
	{ SV_MOVE_CONFLICT_EXPIRE, ST(SV_CONFLICT), WHO(SV_BY_NPAC), g_conflict_exp,
	  c_canceled },
	{ SV_MOVE_RELEASE, ST(SV_DISCONNECT_PENDING), WHO(SV_BY_NPAC), g_release, c_release },
};

static const struct rule *rule_find(enum sv_move m)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].move == m)
			return &rules[i];
	return NULL;
}

int sv_apply(struct sv *sv, enum sv_move m, enum sv_role who, const struct sv_args *a,
	     const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	const struct rule *r = rule_find(m);
	struct sv_effects e = { 0 };
	struct sv next = *sv;
	int rc;

	if (r == NULL || (unsigned)who > SV_BY_NPAC)
		return SV_E_ARG;
	if (!(r->from & ST(sv->status)))
		return SV_E_STATE;
	if (!(r->who & WHO(who)))
		return SV_E_ROLE;
	if (r->guard && (rc = r->guard(sv, who, a, env, now)) != SV_OK)
		return rc;
	e.from = e.to = sv->status;
	r->change(&next, who, a, env, now, &e);
	next.modified_at = now;
	*sv = next;
	*fx = e;
	return SV_OK;
}

/* ---- creation ---- */

static int request_check(const struct sv_request *rq, enum sv_role by, int64_t now)
{
	if (by != SV_BY_NEW && by != SV_BY_OLD)
		return SV_E_ROLE;
	if (rq->tn == 0 || strlen(rq->old_spid) != 4 || strlen(rq->new_spid) != 4 || rq->due <= 0)
		return SV_E_ARG;
	if ((rq->lnp_type == SV_LISP) != (strcmp(rq->old_spid, rq->new_spid) == 0))
		return SV_E_ARG;
	if (rq->lnp_type != SV_LSPP && rq->lnp_type != SV_LISP)
		return SV_E_ARG;
	return rq->due < now - 86400 ? SV_E_LATE : SV_OK;
}

static int64_t restrict_until(const struct sv *sv, const struct sv_env *env)
{
	const struct sv_timers *tm = env->tm;
	int64_t before;

	if (tm->conflict_restrict_min < 0 || (sv->wireless && !tm->short_conflict_restrict))
		return BIZCAL_NEVER;
	before = bizcal_prev_business_day(env->cal, bizcal_day(env->cal, sv->due));
	return bizcal_instant(env->cal, before, tm->conflict_restrict_min);
}

int sv_create(struct sv *out, const struct sv_request *rq, enum sv_role by,
	      const struct sv_env *env, int64_t now, struct sv_effects *fx)
{
	struct sv_effects e = { 0 };
	struct sv sv = { 0 };
	int rc = request_check(rq, by, now);

	if (rc != SV_OK)
		return rc;
	sv.tn = rq->tn;
	sv.lrn = rq->lrn;
	memcpy(sv.old_spid, rq->old_spid, 5);
	memcpy(sv.new_spid, rq->new_spid, 5);
	sv.lnp_type = rq->lnp_type;
	sv.wireless = rq->wireless;
	sv.due = rq->due;
	sv.status = sv.pre_cancel = SV_PENDING;
	sv.created_at = sv.modified_at = now;
	sv.new_created = by == SV_BY_NEW || rq->lnp_type == SV_LISP;
	sv.old_created = by == SV_BY_OLD || rq->lnp_type == SV_LISP;
	sv.authorized = sv.old_created;
	sv.canceled_by = by;
	if (rq->lnp_type == SV_LSPP) {
		sv.t1_at = bizcal_add(env->cal, now, timer_t1(&sv, env));
		sv.t2_at = bizcal_add(env->cal, sv.t1_at, timer_t2(&sv, env));
		sv.conflict_until = restrict_until(&sv, env);
	} else {
		sv.done = SV_DONE_T1 | SV_DONE_T2;
	}
	e.from = e.to = SV_PENDING;
	note(&e, SV_NOTE_CREATED, by == SV_BY_NEW ? SV_TO_OLD : SV_TO_NEW);
	*out = sv;
	*fx = e;
	return SV_OK;
}

/* ---- timers ---- */

static bool timer_runs(const struct sv *sv, enum sv_move m, int64_t *at)
{
	bool open = sv->status == SV_PENDING || sv->status == SV_CONFLICT;

	switch (m) {
	case SV_MOVE_T1_EXPIRE:
		*at = sv->t1_at;
		return open && sv->lnp_type == SV_LSPP && !(sv->done & SV_DONE_T1);
	case SV_MOVE_T2_EXPIRE:
		*at = sv->t2_at;
		return open && sv->lnp_type == SV_LSPP && !(sv->done & SV_DONE_T2);
	case SV_MOVE_CANCEL1_EXPIRE:
		*at = sv->cancel1_at;
		return sv->status == SV_CANCEL_PENDING && !(sv->done & SV_DONE_CANCEL1);
	case SV_MOVE_CANCEL2_EXPIRE:
		*at = sv->cancel2_at;
		return sv->status == SV_CANCEL_PENDING && (sv->done & SV_DONE_CANCEL1);
	case SV_MOVE_CONFLICT_EXPIRE:
		*at = sv->conflict_expire_at;
		return sv->status == SV_CONFLICT;
	case SV_MOVE_RELEASE:
		*at = sv->erd;
		return sv->status == SV_DISCONNECT_PENDING;
	default:
		return false;
	}
}

static const enum sv_move timer_moves[] = {
	SV_MOVE_T1_EXPIRE, SV_MOVE_T2_EXPIRE, SV_MOVE_CANCEL1_EXPIRE, SV_MOVE_CANCEL2_EXPIRE,
	SV_MOVE_CONFLICT_EXPIRE, SV_MOVE_RELEASE,
};

int sv_due_move(const struct sv *sv, int64_t now)
{
	int best = -1;
	int64_t best_at = BIZCAL_NEVER, at;

	for (size_t i = 0; i < sizeof(timer_moves) / sizeof(timer_moves[0]); i++)
		if (timer_runs(sv, timer_moves[i], &at) && at <= now && at < best_at) {
			best = (int)timer_moves[i];
			best_at = at;
		}
	return best;
}

int64_t sv_next_due(const struct sv *sv)
{
	int64_t best = BIZCAL_NEVER, at;

	for (size_t i = 0; i < sizeof(timer_moves) / sizeof(timer_moves[0]); i++)
		if (timer_runs(sv, timer_moves[i], &at) && at < best)
			best = at;
	return best;
}

/* ---- names ---- */

bool sv_status_open(enum sv_status s)
{
	return s == SV_PENDING || s == SV_CONFLICT || s == SV_CANCEL_PENDING || s == SV_SENDING ||
	       s == SV_FAILED || s == SV_PARTIAL_FAILURE;
}

const char *sv_status_name(enum sv_status s)
{
	static const char *const names[SV_N_STATUS] = {
		"conflict", "active", "pending", "sending", "failed", "partial-failure",
		"disconnect-pending", "old", "canceled", "cancel-pending",
	};

	return (unsigned)s < SV_N_STATUS ? names[s] : "?";
}

const char *sv_move_name(enum sv_move m)
{
	static const char *const names[SV_N_MOVES] = {
		"concur", "new-create", "conflict", "resolve", "cancel", "cancel-ack", "activate",
		"disconnect", "broadcast-ok", "broadcast-fail", "resend", "supersede",
		"t1-expire", "t2-expire", "cancel-initial-expire", "cancel-final-expire",
		"conflict-expire", "release",
	};

	return (unsigned)m < SV_N_MOVES ? names[m] : "?";
}

const char *sv_err_text(int err)
{
	switch (err) {
	case SV_OK: return "ok";
	case SV_E_STATE: return "not allowed in the port's current status";
	case SV_E_ROLE: return "not allowed for this provider";
	case SV_E_EARLY: return "too early: the window for this has not opened";
	case SV_E_LATE: return "too late: the window for this has closed";
	case SV_E_CONCURRENCE:
		return "the old provider has not concurred and the final concurrence window "
		       "has not expired";
	case SV_E_ARG: return "a required value is missing or out of range";
	case SV_E_DONE: return "already done";
	default: return "unknown error";
	}
}

const char *sv_note_name(enum sv_note n)
{
	switch (n) {
	case SV_NOTE_STATUS: return "subscriptionVersionStatusAttributeValueChange";
	case SV_NOTE_NEW_SP_CREATE_REQUEST: return "subscriptionVersionNewSP-CreateRequest";
	case SV_NOTE_OLD_SP_CONCURRENCE_REQUEST:
		return "subscriptionVersionOldSP-ConcurrenceRequest";
	case SV_NOTE_OLD_SP_FINAL_CONCURRENCE_EXPIRED:
		return "subscriptionVersionOldSPFinalConcurrenceWindowExpiration";
	case SV_NOTE_NEW_SP_FINAL_CREATE_EXPIRED:
		return "subscriptionVersionNewSPFinalCreateWindowExpiration";
	case SV_NOTE_CANCEL_ACK_REQUEST:
		return "subscriptionVersionCancellationAcknowledgeRequest";
	case SV_NOTE_DONOR_DISCONNECT: return "subscriptionVersionDonorSP-CustomerDisconnectDate";
	case SV_NOTE_CREATED: return "subscriptionVersionObjectCreation";
	case SV_NOTE_CONCURRED: return "subscriptionVersionOldSP-Concurrence";
	default: return "?";
	}
}
