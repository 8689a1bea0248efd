/* test_sv.c - every move of the subscription-version state machine, legal and not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "soa/sv.h"

#define H 3600
#define T0 1773057600 /* 2026-03-09T12:00:00Z, a Monday */
#define DUE (T0 + 3 * 86400)

static struct bizcal cal;
static struct sv_timers tm;
static struct sv_env env = { &tm, &cal };

static int setup(void **state)
{
	char err[200];

	/* Always open, so business seconds are plain seconds in most tests. */
	if (bizcal_parse(&cal, "sun-sat", "00:00-24:00", "+00:00", "", err, sizeof(err)) != 0)
		return -1;
	tm = (struct sv_timers){
		.t1 = 9 * H, .t2 = 9 * H, .t1_short = H, .t2_short = H,
		.conflict_restrict_min = 12 * 60, .resolve_restrict = 6 * H,
		.cancel_initial = 9 * H, .cancel_final = 9 * H, .conflict_expire = 30 * 86400,
		.old_first_cancel = true,
	};
	return 0;
}

static struct sv make(enum sv_role by, enum sv_lnp_type type)
{
	struct sv_request rq = { .tn = 3035551234, .lrn = 3035550000, .old_spid = "OLD1",
				 .new_spid = "NEW1", .lnp_type = type, .due = DUE };
	struct sv_effects fx;
	struct sv sv;

	if (type == SV_LISP)
		memcpy(rq.old_spid, "NEW1", 5);
	assert_int_equal(sv_create(&sv, &rq, by, &env, T0, &fx), SV_OK);
	return sv;
}

static int apply(struct sv *sv, enum sv_move m, enum sv_role who, int64_t now)
{
	struct sv_args a = { .cause = 50 };
	struct sv_effects fx;

	return sv_apply(sv, m, who, &a, &env, now, &fx);
}

/* Apply and demand success; returns the effects. */
static struct sv_effects must(struct sv *sv, enum sv_move m, enum sv_role who,
			      const struct sv_args *a, int64_t now)
{
	struct sv_effects fx;
	int rc = sv_apply(sv, m, who, a, &env, now, &fx);

	if (rc != SV_OK)
		fail_msg("%s refused: %s", sv_move_name(m), sv_err_text(rc));
	return fx;
}

/* Apply and demand the error, with the SV unchanged. */
static void refused(struct sv *sv, enum sv_move m, enum sv_role who, const struct sv_args *a,
		    int64_t now, int want)
{
	struct sv before = *sv;
	struct sv_effects fx, fx_before;
	int rc;

	memset(&fx, 0x5a, sizeof(fx));
	fx_before = fx;
	rc = sv_apply(sv, m, who, a, &env, now, &fx);
	if (rc != want)
		fail_msg("%s: got %d (%s), want %d", sv_move_name(m), rc, sv_err_text(rc), want);
	assert_memory_equal(sv, &before, sizeof(before));
	assert_memory_equal(&fx, &fx_before, sizeof(fx));
}

static bool has_note(const struct sv_effects *fx, enum sv_note n, unsigned to)
{
	for (size_t i = 0; i < fx->n_notes; i++)
		if (fx->notes[i].note == n && fx->notes[i].to == to)
			return true;
	return false;
}

/* ---- the whole matrix: statuses and roles each move is refused in ---- */

struct expect {
	enum sv_move move;
	const char *from; /* status codes it is legal in */
	const char *who;  /* n = new, o = old, p = NPAC */
};

static const struct expect matrix[] = {
	{ SV_MOVE_CONCUR, "2", "o" },          { SV_MOVE_NEW_CREATE, "20", "n" },
	{ SV_MOVE_CONFLICT, "2", "o" },        { SV_MOVE_RESOLVE, "0", "no" },
	{ SV_MOVE_CANCEL, "206", "no" },       { SV_MOVE_CANCEL_ACK, "9", "no" },
	{ SV_MOVE_ACTIVATE, "2", "n" },        { SV_MOVE_DISCONNECT, "1", "n" },
	{ SV_MOVE_BROADCAST_OK, "3", "p" },    { SV_MOVE_BROADCAST_FAIL, "3", "p" },
	{ SV_MOVE_RESEND, "45", "p" },         { SV_MOVE_SUPERSEDE, "16", "p" },
	{ SV_MOVE_T1_EXPIRE, "20", "p" },      { SV_MOVE_T2_EXPIRE, "20", "p" },
	{ SV_MOVE_CANCEL1_EXPIRE, "9", "p" },  { SV_MOVE_CANCEL2_EXPIRE, "9", "p" },
	{ SV_MOVE_CONFLICT_EXPIRE, "0", "p" }, { SV_MOVE_RELEASE, "6", "p" },
};

static void test_matrix_status(void **state)
{
	struct sv_args a = { .cause = 50, .lrn = 3035550000 };

	assert_int_equal(sizeof(matrix) / sizeof(matrix[0]), SV_N_MOVES);
	for (size_t i = 0; i < SV_N_MOVES; i++) {
		for (int s = 0; s < SV_N_STATUS; s++) {
			struct sv sv = make(SV_BY_NEW, SV_LSPP);

			if (strchr(matrix[i].from, '0' + s))
				continue;
			sv.status = (enum sv_status)s;
			for (int who = SV_BY_NEW; who <= SV_BY_NPAC; who++)
				refused(&sv, matrix[i].move, (enum sv_role)who, &a, DUE + 40 * 86400,
					SV_E_STATE);
		}
	}
}

static void test_matrix_roles(void **state)
{
	static const char roles[] = "nop";
	struct sv_args a = { .cause = 50, .lrn = 3035550000 };

	for (size_t i = 0; i < SV_N_MOVES; i++) {
		for (int who = SV_BY_NEW; who <= SV_BY_NPAC; who++) {
			struct sv sv = make(SV_BY_NEW, SV_LSPP);

			if (strchr(matrix[i].who, roles[who]))
				continue;
			sv.status = (enum sv_status)(matrix[i].from[0] - '0');
			refused(&sv, matrix[i].move, (enum sv_role)who, &a, DUE, SV_E_ROLE);
		}
	}
}

/* ---- creation ---- */

static void test_create_new_first(void **state)
{
	struct sv_request rq = { .tn = 3035551234, .old_spid = "OLD1", .new_spid = "NEW1",
				 .due = DUE };
	struct sv_effects fx;
	struct sv sv;

	assert_int_equal(sv_create(&sv, &rq, SV_BY_NEW, &env, T0, &fx), SV_OK);
	assert_int_equal(sv.status, SV_PENDING);
	assert_true(sv.new_created);
	assert_false(sv.old_created);
	assert_false(sv.authorized);
	assert_int_equal(sv.t1_at, T0 + 9 * H);
	assert_int_equal(sv.t2_at, T0 + 18 * H);
	assert_int_equal(sv.conflict_until, DUE - 86400); /* DUE is noon: noon the day before */
	assert_true(has_note(&fx, SV_NOTE_CREATED, SV_TO_OLD));
	assert_int_equal(sv_next_due(&sv), T0 + 9 * H);
}

static void test_create_refusals(void **state)
{
	struct sv_request rq = { .tn = 3035551234, .old_spid = "OLD1", .new_spid = "NEW1",
				 .due = DUE };
	struct sv_effects fx;
	struct sv sv;

	memset(&sv, 0x11, sizeof(sv));
	struct sv before = sv;

	assert_int_equal(sv_create(&sv, &rq, SV_BY_NPAC, &env, T0, &fx), SV_E_ROLE);
	rq.lnp_type = SV_LISP; /* intra-provider with two providers */
	assert_int_equal(sv_create(&sv, &rq, SV_BY_NEW, &env, T0, &fx), SV_E_ARG);
	rq.lnp_type = SV_LSPP;
	memcpy(rq.old_spid, "NEW1", 5); /* inter-provider with one provider */
	assert_int_equal(sv_create(&sv, &rq, SV_BY_NEW, &env, T0, &fx), SV_E_ARG);
	memcpy(rq.old_spid, "OL1", 4);
	assert_int_equal(sv_create(&sv, &rq, SV_BY_NEW, &env, T0, &fx), SV_E_ARG);
	memcpy(rq.old_spid, "OLD1", 5);
	rq.due = T0 - 3 * 86400;
	assert_int_equal(sv_create(&sv, &rq, SV_BY_NEW, &env, T0, &fx), SV_E_LATE);
	assert_memory_equal(&sv, &before, sizeof(sv));
}

/* ---- concurrence and activation ---- */

static void test_concur_activate(void **state)
{
	struct sv sv = make(SV_BY_NEW, SV_LSPP);
	struct sv_args a = { 0 };
	struct sv_effects fx;

	fx = must(&sv, SV_MOVE_CONCUR, SV_BY_OLD, NULL, T0 + H);
	assert_true(sv.authorized);
	assert_true(has_note(&fx, SV_NOTE_CONCURRED, SV_TO_NEW));
	refused(&sv, SV_MOVE_CONCUR, SV_BY_OLD, NULL, T0 + 2 * H, SV_E_DONE);
	refused(&sv, SV_MOVE_ACTIVATE, SV_BY_NEW, &a, DUE - 1, SV_E_EARLY);
	a.lrn = 3035559999;
	fx = must(&sv, SV_MOVE_ACTIVATE, SV_BY_NEW, &a, DUE);
	assert_int_equal(sv.status, SV_SENDING);
	assert_int_equal(sv.lrn, 3035559999);
	assert_true(fx.broadcast);
	assert_true(has_note(&fx, SV_NOTE_STATUS, SV_TO_BOTH));
	fx = must(&sv, SV_MOVE_BROADCAST_OK, SV_BY_NPAC, NULL, DUE + 1);
	assert_int_equal(fx.from, SV_SENDING);
	assert_int_equal(fx.to, SV_ACTIVE);
	assert_int_equal(sv.activated_at, DUE + 1);
	must(&sv, SV_MOVE_SUPERSEDE, SV_BY_NPAC, NULL, DUE + 86400);
	assert_int_equal(sv.status, SV_OLD);
}

static void test_activate_needs_concurrence_or_t2(void **state)
{
	struct sv sv = make(SV_BY_NEW, SV_LSPP);
	struct sv_args a = { 0 };

	sv.due = T0 + H;
	refused(&sv, SV_MOVE_ACTIVATE, SV_BY_NEW, &a, T0 + 2 * H, SV_E_CONCURRENCE);
	refused(&sv, SV_MOVE_ACTIVATE, SV_BY_NEW, &a, sv.t2_at - 1, SV_E_CONCURRENCE);
	must(&sv, SV_MOVE_ACTIVATE, SV_BY_NEW, &a, sv.t2_at);
	assert_int_equal(sv.status, SV_SENDING);
}

static void test_activate_without_lrn(void **state)
{
	struct sv sv = make(SV_BY_NEW, SV_LSPP);

	sv.lrn = 0;
	sv.authorized = true;
	refused(&sv, SV_MOVE_ACTIVATE, SV_BY_NEW, NULL, DUE, SV_E_ARG);
}

static void test_broadcast_fail_and_resend(void **state)
{
	struct sv sv = make(SV_BY_NEW, SV_LSPP);

	sv.authorized = true;
	must(&sv, SV_MOVE_ACTIVATE, SV_BY_NEW, NULL, DUE);
	must(&sv, SV_MOVE_BROADCAST_FAIL, SV_BY_NPAC, NULL, DUE);
	assert_int_equal(sv.status, SV_FAILED);
	assert_true(must(&sv, SV_MOVE_RESEND, SV_BY_NPAC, NULL, DUE + 60).broadcast);
	assert_int_equal(sv.status, SV_SENDING);
}

/* ---- the old provider first ---- */

static void test_old_first_then_new(void **state)
{
	struct sv sv = make(SV_BY_OLD, SV_LSPP);
	struct sv_args a = { .lrn = 3035557777 };
	struct sv_effects fx;

	assert_false(sv.new_created);
	assert_true(sv.authorized);
	refused(&sv, SV_MOVE_ACTIVATE, SV_BY_NEW, NULL, DUE, SV_E_STATE);
	fx = must(&sv, SV_MOVE_T1_EXPIRE, SV_BY_NPAC, NULL, sv.t1_at);
	assert_true(has_note(&fx, SV_NOTE_NEW_SP_CREATE_REQUEST, SV_TO_NEW));
	must(&sv, SV_MOVE_NEW_CREATE, SV_BY_NEW, &a, sv.t1_at + 60);
	assert_true(sv.new_created);
	assert_int_equal(sv.lrn, 3035557777);
	refused(&sv, SV_MOVE_NEW_CREATE, SV_BY_NEW, &a, sv.t1_at + 120, SV_E_DONE);
	fx = must(&sv, SV_MOVE_T2_EXPIRE, SV_BY_NPAC, NULL, sv.t2_at);
	assert_int_equal(sv.status, SV_PENDING); /* matched: nothing to cancel */
	assert_int_equal(fx.n_notes, 0);
	must(&sv, SV_MOVE_ACTIVATE, SV_BY_NEW, NULL, DUE);
}

static void test_old_first_canceled_at_t2(void **state)
{
	struct sv sv = make(SV_BY_OLD, SV_LSPP);
	struct sv_effects fx;

	refused(&sv, SV_MOVE_T2_EXPIRE, SV_BY_NPAC, NULL, sv.t1_at, SV_E_EARLY);
	assert_int_equal(sv_due_move(&sv, sv.t2_at), SV_MOVE_T1_EXPIRE);
	must(&sv, SV_MOVE_T1_EXPIRE, SV_BY_NPAC, NULL, sv.t2_at);
	assert_int_equal(sv_due_move(&sv, sv.t2_at), SV_MOVE_T2_EXPIRE);
	fx = must(&sv, SV_MOVE_T2_EXPIRE, SV_BY_NPAC, NULL, sv.t2_at);
	assert_int_equal(sv.status, SV_CANCELED);
	assert_true(has_note(&fx, SV_NOTE_NEW_SP_FINAL_CREATE_EXPIRED, SV_TO_BOTH));
	assert_int_equal(sv_next_due(&sv), BIZCAL_NEVER);
}

static void test_old_first_kept_when_configured(void **state)
{
	struct sv sv = make(SV_BY_OLD, SV_LSPP);

	tm.old_first_cancel = false;
	must(&sv, SV_MOVE_T1_EXPIRE, SV_BY_NPAC, NULL, sv.t2_at);
	must(&sv, SV_MOVE_T2_EXPIRE, SV_BY_NPAC, NULL, sv.t2_at);
	tm.old_first_cancel = true;
	assert_int_equal(sv.status, SV_PENDING);
}

static void test_t1_t2_new_first_notes(void **state)
{
	struct sv sv = make(SV_BY_NEW, SV_LSPP);
	struct sv_effects fx;

	refused(&sv, SV_MOVE_T1_EXPIRE, SV_BY_NPAC, NULL, sv.t1_at - 1, SV_E_EARLY);
	fx = must(&sv, SV_MOVE_T1_EXPIRE, SV_BY_NPAC, NULL, sv.t1_at);
	assert_true(has_note(&fx, SV_NOTE_OLD_SP_CONCURRENCE_REQUEST, SV_TO_OLD));
	refused(&sv, SV_MOVE_T1_EXPIRE, SV_BY_NPAC, NULL, sv.t2_at, SV_E_EARLY);
	fx = must(&sv, SV_MOVE_T2_EXPIRE, SV_BY_NPAC, NULL, sv.t2_at);
	assert_true(has_note(&fx, SV_NOTE_OLD_SP_FINAL_CONCURRENCE_EXPIRED, SV_TO_OLD));
	assert_int_equal(sv.status, SV_PENDING);
}

/* ---- conflict ---- */

static void test_conflict_and_resolve(void **state)
{
	struct sv sv = make(SV_BY_NEW, SV_LSPP);
	struct sv_args a = { .cause = 49 };

	refused(&sv, SV_MOVE_CONFLICT, SV_BY_OLD, &a, T0 + H, SV_E_ARG);
	refused(&sv, SV_MOVE_CONFLICT, SV_BY_OLD, NULL, T0 + H, SV_E_ARG);
	a.cause = 52;
	must(&sv, SV_MOVE_CONFLICT, SV_BY_OLD, &a, T0 + H);
	assert_int_equal(sv.status, SV_CONFLICT);
	assert_int_equal(sv.cause, 52);
	assert_false(sv.authorized);
	assert_int_equal(sv.resolve_at, T0 + 7 * H);
	refused(&sv, SV_MOVE_ACTIVATE, SV_BY_NEW, NULL, DUE, SV_E_STATE);
	refused(&sv, SV_MOVE_RESOLVE, SV_BY_NEW, NULL, T0 + 7 * H - 1, SV_E_EARLY);
	must(&sv, SV_MOVE_RESOLVE, SV_BY_NEW, NULL, T0 + 7 * H);
	assert_int_equal(sv.status, SV_PENDING);
	assert_true(sv.authorized);
	assert_int_equal(sv.cause, 0);
	must(&sv, SV_MOVE_ACTIVATE, SV_BY_NEW, NULL, DUE);
}

static void test_conflict_resolved_by_old_at_once(void **state)
{
	struct sv sv = make(SV_BY_NEW, SV_LSPP);
	struct sv_args a = { .cause = 50 };

	must(&sv, SV_MOVE_CONFLICT, SV_BY_OLD, &a, T0);
	must(&sv, SV_MOVE_RESOLVE, SV_BY_OLD, NULL, T0 + 1);
	assert_int_equal(sv.status, SV_PENDING);
}

static void test_conflict_restriction_window(void **state)
{
	struct sv sv = make(SV_BY_NEW, SV_LSPP);
	struct sv_args a = { .cause = 50 };

	refused(&sv, SV_MOVE_CONFLICT, SV_BY_OLD, &a, sv.conflict_until, SV_E_LATE);
	must(&sv, SV_MOVE_CONFLICT, SV_BY_OLD, &a, sv.conflict_until - 1);
}

static void test_conflict_window_business_day(void **state)
{
	struct bizcal keep = cal;
	struct sv_request rq = { .tn = 3035551234, .lrn = 1, .old_spid = "OLD1",
				 .new_spid = "NEW1", .due = 1773619200 }; /* Mon 2026-03-16 */
	struct sv_effects fx;
	char err[100];
	struct sv sv;

	assert_int_equal(bizcal_parse(&cal, "mon-fri", "07:00-19:00", "+00:00", "", err,
				      sizeof(err)), 0);
	assert_int_equal(sv_create(&sv, &rq, SV_BY_NEW, &env, T0, &fx), SV_OK);
	cal = keep;
	/* Noon on the business day before a Monday due date: the Friday. */
	assert_int_equal(sv.conflict_until, 1773619200 - 3 * 86400 + 12 * H);
}

static void test_conflict_expires(void **state)
{
	struct sv sv = make(SV_BY_NEW, SV_LSPP);
	struct sv_args a = { .cause = 54 };

	must(&sv, SV_MOVE_CONFLICT, SV_BY_OLD, &a, T0);
	sv.done = SV_DONE_T1 | SV_DONE_T2;
	refused(&sv, SV_MOVE_CONFLICT_EXPIRE, SV_BY_NPAC, NULL, T0 + 30 * 86400 - 1,
		SV_E_EARLY);
	must(&sv, SV_MOVE_CONFLICT_EXPIRE, SV_BY_NPAC, NULL, T0 + 30 * 86400);
	assert_int_equal(sv.status, SV_CANCELED);
}

static void test_conflict_not_for_intra(void **state)
{
	struct sv sv = make(SV_BY_NEW, SV_LISP);
	struct sv_args a = { .cause = 50 };

	refused(&sv, SV_MOVE_CONFLICT, SV_BY_OLD, &a, T0, SV_E_STATE);
}

/* ---- cancel ---- */

static void test_cancel_one_side(void **state)
{
	struct sv sv = make(SV_BY_NEW, SV_LSPP);

	refused(&sv, SV_MOVE_CANCEL, SV_BY_OLD, NULL, T0, SV_E_ROLE);
	must(&sv, SV_MOVE_CANCEL, SV_BY_NEW, NULL, T0 + 60);
	assert_int_equal(sv.status, SV_CANCELED);
	assert_int_equal(sv.canceled_at, T0 + 60);
}

static void test_cancel_with_ack(void **state)
{
	struct sv sv = make(SV_BY_NEW, SV_LSPP);
	struct sv_effects fx;

	must(&sv, SV_MOVE_CONCUR, SV_BY_OLD, NULL, T0);
	fx = must(&sv, SV_MOVE_CANCEL, SV_BY_NEW, NULL, T0 + 60);
	assert_int_equal(sv.status, SV_CANCEL_PENDING);
	assert_int_equal(sv.pre_cancel, SV_PENDING);
	assert_true(has_note(&fx, SV_NOTE_CANCEL_ACK_REQUEST, SV_TO_OLD));
	assert_int_equal(sv.cancel1_at, T0 + 60 + 9 * H);
	assert_int_equal(sv.cancel2_at, T0 + 60 + 18 * H);
	refused(&sv, SV_MOVE_CANCEL_ACK, SV_BY_NEW, NULL, T0 + 120, SV_E_ROLE);
	must(&sv, SV_MOVE_CANCEL_ACK, SV_BY_OLD, NULL, T0 + 120);
	assert_int_equal(sv.status, SV_CANCELED);
}

static void test_cancel_windows_expire(void **state)
{
	struct sv by_new = make(SV_BY_NEW, SV_LSPP), by_old;
	struct sv_effects fx;

	must(&by_new, SV_MOVE_CONCUR, SV_BY_OLD, NULL, T0);
	by_old = by_new;
	must(&by_new, SV_MOVE_CANCEL, SV_BY_NEW, NULL, T0);
	must(&by_old, SV_MOVE_CANCEL, SV_BY_OLD, NULL, T0);
	refused(&by_new, SV_MOVE_CANCEL2_EXPIRE, SV_BY_NPAC, NULL, T0 + 20 * H, SV_E_EARLY);
	fx = must(&by_new, SV_MOVE_CANCEL1_EXPIRE, SV_BY_NPAC, NULL, T0 + 9 * H);
	assert_true(has_note(&fx, SV_NOTE_CANCEL_ACK_REQUEST, SV_TO_OLD));
	assert_int_equal(by_new.status, SV_CANCEL_PENDING);
	must(&by_new, SV_MOVE_CANCEL2_EXPIRE, SV_BY_NPAC, NULL, T0 + 18 * H);
	assert_int_equal(by_new.status, SV_CANCELED);
	/* An old-SP cancel nobody acknowledged becomes a conflict. */
	must(&by_old, SV_MOVE_CANCEL1_EXPIRE, SV_BY_NPAC, NULL, T0 + 18 * H);
	must(&by_old, SV_MOVE_CANCEL2_EXPIRE, SV_BY_NPAC, NULL, T0 + 18 * H);
	assert_int_equal(by_old.status, SV_CONFLICT);
}

/* ---- disconnect ---- */

static struct sv active_sv(void)
{
	struct sv sv = make(SV_BY_NEW, SV_LSPP);

	sv.authorized = true;
	must(&sv, SV_MOVE_ACTIVATE, SV_BY_NEW, NULL, DUE);
	must(&sv, SV_MOVE_BROADCAST_OK, SV_BY_NPAC, NULL, DUE);
	return sv;
}

static void test_disconnect_future_then_release(void **state)
{
	struct sv sv = active_sv();
	struct sv_args a = { .erd = DUE + 5 * 86400 };
	struct sv_effects fx;

	refused(&sv, SV_MOVE_DISCONNECT, SV_BY_OLD, &a, DUE + 86400, SV_E_ROLE);
	fx = must(&sv, SV_MOVE_DISCONNECT, SV_BY_NEW, &a, DUE + 86400);
	assert_int_equal(sv.status, SV_DISCONNECT_PENDING);
	assert_false(fx.broadcast);
	assert_true(has_note(&fx, SV_NOTE_DONOR_DISCONNECT, SV_TO_OLD));
	assert_int_equal(sv_next_due(&sv), DUE + 5 * 86400);
	refused(&sv, SV_MOVE_RELEASE, SV_BY_NPAC, NULL, DUE + 5 * 86400 - 1, SV_E_EARLY);
	fx = must(&sv, SV_MOVE_RELEASE, SV_BY_NPAC, NULL, DUE + 5 * 86400);
	assert_int_equal(sv.status, SV_SENDING);
	assert_true(fx.broadcast);
	assert_true(sv.disconnecting);
	must(&sv, SV_MOVE_BROADCAST_OK, SV_BY_NPAC, NULL, DUE + 5 * 86400);
	assert_int_equal(sv.status, SV_OLD);
}

static void test_disconnect_now(void **state)
{
	struct sv sv = active_sv();
	struct sv_args a = { .erd = 0 };

	assert_true(must(&sv, SV_MOVE_DISCONNECT, SV_BY_NEW, &a, DUE + 60).broadcast);
	assert_true(sv.disconnecting);
	must(&sv, SV_MOVE_BROADCAST_OK, SV_BY_NPAC, NULL, DUE + 61);
	assert_int_equal(sv.status, SV_OLD);
	assert_int_equal(sv.old_at, DUE + 61);
}

static void test_disconnect_canceled(void **state)
{
	struct sv sv = active_sv();
	struct sv_args a = { .erd = DUE + 5 * 86400 };

	must(&sv, SV_MOVE_DISCONNECT, SV_BY_NEW, &a, DUE);
	refused(&sv, SV_MOVE_CANCEL, SV_BY_OLD, NULL, DUE + 60, SV_E_ROLE);
	must(&sv, SV_MOVE_CANCEL, SV_BY_NEW, NULL, DUE + 60);
	assert_int_equal(sv.status, SV_ACTIVE);
	assert_int_equal(sv.erd, 0);
}

/* ---- intra-provider ---- */

static void test_intra_provider(void **state)
{
	struct sv sv = make(SV_BY_NEW, SV_LISP);

	assert_true(sv.old_created && sv.new_created);
	assert_int_equal(sv_next_due(&sv), BIZCAL_NEVER);
	refused(&sv, SV_MOVE_ACTIVATE, SV_BY_NEW, NULL, DUE - 1, SV_E_EARLY);
	must(&sv, SV_MOVE_ACTIVATE, SV_BY_NEW, NULL, DUE);
	assert_int_equal(sv.status, SV_SENDING);
}

static void test_names(void **state)
{
	assert_string_equal(sv_status_name(SV_CANCEL_PENDING), "cancel-pending");
	assert_string_equal(sv_status_name(SV_CONFLICT), "conflict");
	assert_string_equal(sv_status_name((enum sv_status)10), "?");
	assert_string_equal(sv_move_name(SV_MOVE_RELEASE), "release");
	assert_string_equal(sv_note_name(SV_NOTE_OLD_SP_CONCURRENCE_REQUEST),
			    "subscriptionVersionOldSP-ConcurrenceRequest");
	assert_true(sv_status_open(SV_CANCEL_PENDING));
	assert_false(sv_status_open(SV_ACTIVE));
	assert_false(sv_status_open(SV_OLD));
	assert_int_equal(apply(&(struct sv){ .status = SV_OLD }, SV_MOVE_CANCEL, SV_BY_NEW, T0),
			 SV_E_STATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix_status),
		cmocka_unit_test(test_matrix_roles),
		cmocka_unit_test(test_create_new_first),
		cmocka_unit_test(test_create_refusals),
		cmocka_unit_test(test_concur_activate),
		cmocka_unit_test(test_activate_needs_concurrence_or_t2),
		cmocka_unit_test(test_activate_without_lrn),
		cmocka_unit_test(test_broadcast_fail_and_resend),
		cmocka_unit_test(test_old_first_then_new),
		cmocka_unit_test(test_old_first_canceled_at_t2),
		cmocka_unit_test(test_old_first_kept_when_configured),
		cmocka_unit_test(test_t1_t2_new_first_notes),
		cmocka_unit_test(test_conflict_and_resolve),
		cmocka_unit_test(test_conflict_resolved_by_old_at_once),
		cmocka_unit_test(test_conflict_restriction_window),
		cmocka_unit_test(test_conflict_window_business_day),
		cmocka_unit_test(test_conflict_expires),
		cmocka_unit_test(test_conflict_not_for_intra),
		cmocka_unit_test(test_cancel_one_side),
		cmocka_unit_test(test_cancel_with_ack),
		cmocka_unit_test(test_cancel_windows_expire),
		cmocka_unit_test(test_disconnect_future_then_release),
		cmocka_unit_test(test_disconnect_now),
		cmocka_unit_test(test_disconnect_canceled),
		cmocka_unit_test(test_intra_provider),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
