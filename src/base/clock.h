/* clock.h - the one clock every timer in ringer reads.
 *
 * Production reads the system clock. Tests and replays set where the clock
 * starts (clock_start_at); from then on it advances in real time, so timers
 * and PASSporT ages behave as they would, only on a date the test chose.
 */
#ifndef RINGER_BASE_CLOCK_H
#define RINGER_BASE_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch, UTC. */
int64_t clock_now_ms(void);

/* Seconds since the Unix epoch, UTC. */
int64_t clock_now(void);

/* Make "now" equal to epoch_s at the moment of the call. Thread-safe. */
void clock_start_at(int64_t epoch_s);

/* Undo clock_start_at(): back to the system clock. */
void clock_reset(void);

/*
 * Parse an RFC 3339 UTC instant ("2026-03-10T15:00:00Z", or with a numeric
 * offset) into epoch seconds. Returns 0, or -1 if s is not one.
 */
int clock_parse_rfc3339(const char *s, int64_t *out);

/* Format epoch seconds as "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes). */
void clock_format_rfc3339(int64_t epoch_s, char *out, size_t outlen);

/* Days since the epoch for a proleptic Gregorian date (no time zone involved). */
int64_t clock_days_from_civil(int y, unsigned m, unsigned d);

/* Split epoch seconds into UTC calendar fields; wday 0 = Sunday. */
struct clock_tm {
	int year;
	int mon;  /* 1-12 */
	int mday; /* 1-31 */
	int hour, min, sec;
	int wday; /* 0-6, Sunday = 0 */
};
void clock_split(int64_t epoch_s, struct clock_tm *tm);

/*
 * True if US daylight saving time is in force at the UTC instant t in a zone
 * whose standard time is std_s seconds east of UTC: from the second Sunday of
 * March at 02:00 standard time to the first Sunday of November at 02:00
 * daylight time (the rule since 2007; earlier years are not modelled).
 */
bool clock_us_dst(int64_t t, int std_s);

#endif
