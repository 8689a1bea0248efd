/* bizcal.h - NPAC business hours: which instants count toward a timer.
 *
 * Porting timers (T1, T2, the conflict and cancellation windows) run only in
 * business hours: chosen weekdays, a daily open-close span in the region's
 * local time, minus holidays. The calendar turns "9 business hours after
 * now" into one absolute UTC instant, which is what gets stored; nothing
 * re-evaluates a timer later. Local time is the region's standard time, a
 * fixed offset from UTC, plus an hour while US daylight saving time is in
 * force when the calendar follows it (us_dst, clock_us_dst()).
 */
#ifndef RINGER_SOA_BIZCAL_H
#define RINGER_SOA_BIZCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BIZCAL_MAX_HOLIDAYS 64
#define BIZCAL_NEVER INT64_MAX /* a timer that can never expire */

struct bizcal {
	unsigned days;     /* bit per weekday, bit 0 = Sunday */
	int open_min;      /* local minute of the day business starts */
	int close_min;     /* local minute it ends (exclusive), > open_min */
	int utc_offset_min; /* standard local time = UTC + this */
	bool us_dst;        /* an hour ahead from March to November (US rule) */
	int64_t holidays[BIZCAL_MAX_HOLIDAYS]; /* local day numbers (days since 1970-01-01) */
	size_t n_holidays;
};

/*
 * Build a calendar from its settings: days "mon-fri" or "mon,tue,sat",
 * hours "07:00-19:00", offset "-05:00" (or "+00:00"), holidays a comma list
 * of YYYY-MM-DD (may be empty). Returns 0, or -1 with err set and *cal
 * untouched.
 */
int bizcal_parse(struct bizcal *cal, const char *days, const char *hours, const char *offset,
		 const char *holidays, char *err, size_t errlen);

/* Follow the US daylight saving rule (on) or keep standard time all year. */
void bizcal_set_us_dst(struct bizcal *cal, bool on);

/* Minutes east of UTC of local time at the UTC instant t (standard or daylight). */
int bizcal_offset_at(const struct bizcal *cal, int64_t t);

/* The local day number the UTC instant t falls on. */
int64_t bizcal_day(const struct bizcal *cal, int64_t t);

/*
 * The UTC instant of local minute min (0..1440) of local day `day`. A wall
 * time that occurs twice (the hour before the November switch) answers the
 * first; one skipped in March answers the instant an hour later on the clock.
 */
int64_t bizcal_instant(const struct bizcal *cal, int64_t day, int min);

/* True if local day `day` is a business day (a chosen weekday, not a holiday). */
bool bizcal_is_business_day(const struct bizcal *cal, int64_t day);

/* The last business day strictly before `day` (within ten years, else day - 1). */
int64_t bizcal_prev_business_day(const struct bizcal *cal, int64_t day);

/* The n-th business day after `day` (n >= 1; n = 0 answers day itself). */
int64_t bizcal_add_days(const struct bizcal *cal, int64_t day, unsigned n);

/*
 * The instant `seconds` of business time after `from`: time outside business
 * hours does not count. 0 seconds answers from. BIZCAL_NEVER when the
 * calendar has no business time within ten years.
 */
int64_t bizcal_add(const struct bizcal *cal, int64_t from, int64_t seconds);

/* Parse "YYYY-MM-DD" into a day number. Returns 0, or -1 (out untouched). */
int bizcal_parse_date(const char *s, int64_t *out);

#endif
