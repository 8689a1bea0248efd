/* sv.h - the NPAC subscription version (SV) and its state machine.
 *
 * One SV is one attempt to move a number to a new provider (DOMAIN.md 1.2 -
 * 1.5). Every change is a move: who makes it (new provider, old provider or
 * the NPAC itself when a timer expires), from which statuses, under which
 * guard. The moves live in one table in sv.c; a move the table does not
 * allow fails with a reason and leaves the SV exactly as it was.
 *
 * This is pure logic: no SQL, no HTTP. Timer expiries are absolute UTC
 * instants computed with the business calendar when a window opens.
 */
#ifndef RINGER_SOA_SV_H
#define RINGER_SOA_SV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bizcal.h"

/* NPAC status codes (SOA BDD files); the numbers are the wire values. */
enum sv_status {
	SV_CONFLICT = 0,
	SV_ACTIVE = 1,
	SV_PENDING = 2,
	SV_SENDING = 3,
	SV_FAILED = 4,
	SV_PARTIAL_FAILURE = 5,
	SV_DISCONNECT_PENDING = 6,
	SV_OLD = 7,
	SV_CANCELED = 8,
	SV_CANCEL_PENDING = 9,
};
#define SV_N_STATUS 10

enum sv_lnp_type { SV_LSPP = 0, SV_LISP = 1 }; /* inter- and intra-provider ports */

/* Who makes a move. */
enum sv_role { SV_BY_NEW = 0, SV_BY_OLD = 1, SV_BY_NPAC = 2 };

enum sv_move {
	SV_MOVE_CONCUR,          /* old SP: create or concur, authorization TRUE */
	SV_MOVE_NEW_CREATE,      /* new SP: its create after the old SP created first */
	SV_MOVE_CONFLICT,        /* old SP: authorization FALSE with a cause code */
	SV_MOVE_RESOLVE,         /* either SP: conflict -> pending */
	SV_MOVE_CANCEL,          /* either SP that created it; the current SP for disconnects */
	SV_MOVE_CANCEL_ACK,      /* the other SP acknowledges a cancel */
	SV_MOVE_ACTIVATE,        /* new SP, on or after the due date */
	SV_MOVE_DISCONNECT,      /* current SP of an active SV */
	SV_MOVE_BROADCAST_OK,    /* NPAC: the routing data took the change */
	SV_MOVE_BROADCAST_FAIL,  /* NPAC: it did not */
	SV_MOVE_RESEND,          /* NPAC: try a failed broadcast again */
	SV_MOVE_SUPERSEDE,       /* NPAC: a newer SV of the number went active */
	SV_MOVE_T1_EXPIRE,       /* NPAC timers ... */
	SV_MOVE_T2_EXPIRE,
	SV_MOVE_CANCEL1_EXPIRE,
	SV_MOVE_CANCEL2_EXPIRE,
	SV_MOVE_CONFLICT_EXPIRE,
	SV_MOVE_RELEASE,         /* the effective release date of a disconnect */
};
#define SV_N_MOVES 18

enum sv_err {
	SV_OK = 0,
	SV_E_STATE = -1,       /* not allowed from the SV's status */
	SV_E_ROLE = -2,        /* not allowed for this provider */
	SV_E_EARLY = -3,       /* a window has not opened yet */
	SV_E_LATE = -4,        /* a window has closed */
	SV_E_CONCURRENCE = -5, /* the old SP has not concurred and T2 has not expired */
	SV_E_ARG = -6,         /* an argument is missing or out of range */
	SV_E_DONE = -7,        /* already done (concurred twice, created twice) */
};

/* Notifications a move sends (DOMAIN.md 1.6); the store turns them into events. */
enum sv_note {
	SV_NOTE_STATUS,                 /* subscriptionVersionStatusAttributeValueChange */
	SV_NOTE_NEW_SP_CREATE_REQUEST,  /* ... to the new SP after an old-SP create */
	SV_NOTE_OLD_SP_CONCURRENCE_REQUEST,
	SV_NOTE_OLD_SP_FINAL_CONCURRENCE_EXPIRED,
	SV_NOTE_NEW_SP_FINAL_CREATE_EXPIRED,
	SV_NOTE_CANCEL_ACK_REQUEST,
	SV_NOTE_DONOR_DISCONNECT,       /* subscriptionVersionDonorSP-CustomerDisconnectDate */
	SV_NOTE_CREATED,                /* object creation */
	SV_NOTE_CONCURRED,
};

/* Whom a notification is for: bit 0 new SP, bit 1 old SP. */
#define SV_TO_NEW 1u
#define SV_TO_OLD 2u
#define SV_TO_BOTH 3u

/* Timer settings (DOMAIN.md 1.5); durations are business seconds. */
struct sv_timers {
	int64_t t1, t2;             /* long (wireline) */
	int64_t t1_short, t2_short; /* short (wireless) */
	int conflict_restrict_min;  /* local minute on the business day before due; -1 = none */
	bool short_conflict_restrict; /* apply that window to short-timer SVs too */
	int64_t resolve_restrict;   /* after a conflict, before the new SP may resolve */
	int64_t cancel_initial, cancel_final;
	int64_t conflict_expire;    /* calendar seconds in conflict before canceled */
	bool old_first_cancel;      /* cancel an old-SP create the new SP never matched, at T2 */
};

struct sv_env {
	const struct sv_timers *tm;
	const struct bizcal *cal;
};

struct sv {
	int64_t id;
	uint64_t tn;
	uint64_t lrn; /* 0 until known */
	char old_spid[5], new_spid[5];
	enum sv_status status;
	enum sv_status pre_cancel; /* restored by a cancel of a disconnect-pending SV */
	enum sv_lnp_type lnp_type;
	bool wireless;             /* short timers */
	bool new_created, old_created;
	bool authorized;           /* the old SP concurred */
	bool disconnecting;        /* a sending SV is being removed, not routed */
	int cause;                 /* conflict cause code, 0 = none */
	enum sv_role canceled_by;
	unsigned done;             /* SV_DONE_* bits: timers that already fired */
	int64_t due;               /* new SP due date */
	int64_t created_at, modified_at;
	int64_t t1_at, t2_at;
	int64_t conflict_until;    /* the old SP may put it in conflict before this */
	int64_t conflict_at, resolve_at, conflict_expire_at;
	int64_t cancel1_at, cancel2_at;
	int64_t activated_at, erd, old_at, canceled_at;
};

#define SV_DONE_T1 1u
#define SV_DONE_T2 2u
#define SV_DONE_CANCEL1 4u

/* What a create carries. */
struct sv_request {
	uint64_t tn, lrn;
	char old_spid[5], new_spid[5];
	enum sv_lnp_type lnp_type;
	bool wireless;
	int64_t due;
};

struct sv_args {
	int cause;   /* SV_MOVE_CONFLICT: 50..54 */
	int64_t erd; /* SV_MOVE_DISCONNECT: effective release date, 0 = now */
	uint64_t lrn; /* SV_MOVE_ACTIVATE / NEW_CREATE: 0 keeps the SV's */
};

#define SV_MAX_NOTES 4

struct sv_effects {
	enum sv_status from, to;
	struct {
		enum sv_note note;
		unsigned to; /* SV_TO_* */
	} notes[SV_MAX_NOTES];
	size_t n_notes;
	bool broadcast; /* the SV went sending: route (or remove) it now */
};

/*
 * A new SV, created by the new SP (by = SV_BY_NEW) or the old one. An intra-
 * provider port (SV_LISP) needs old == new SPID and no concurrence. Returns
 * SV_OK with *out and *fx filled, or an sv_err with both untouched.
 */
int sv_create(struct sv *out, const struct sv_request *rq, enum sv_role by,
	      const struct sv_env *env, int64_t now, struct sv_effects *fx);

/*
 * Make move m as `who` at now. Returns SV_OK with *sv changed and *fx filled
 * (fx->to may equal fx->from), or an sv_err with *sv and *fx untouched.
 */
int sv_apply(struct sv *sv, enum sv_move m, enum sv_role who, const struct sv_args *a,
	     const struct sv_env *env, int64_t now, struct sv_effects *fx);

/* The first timer move due at or before now, or -1 when none is. */
int sv_due_move(const struct sv *sv, int64_t now);

/* The instant of the SV's next timer, or BIZCAL_NEVER. */
int64_t sv_next_due(const struct sv *sv);

/* True if an SV in this status still blocks a new SV for its number. */
bool sv_status_open(enum sv_status s);

/* "pending", "disconnect-pending", ...; "?" for an unknown value. */
const char *sv_status_name(enum sv_status s);

/* "activate", ...; and a sentence for an sv_err. */
const char *sv_move_name(enum sv_move m);
const char *sv_err_text(int err);

/* The NPAC name of a notification. */
const char *sv_note_name(enum sv_note n);

#endif
