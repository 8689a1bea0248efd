/* clock.c - settable wall clock and calendar arithmetic without libc time zones. */
#include "clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Added to the system clock; set by clock_start_at(). */
static _Atomic int64_t offset_ms;

static int64_t system_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_now_ms(void)
{
	return system_ms() + atomic_load_explicit(&offset_ms, memory_order_relaxed);
}

int64_t clock_now(void)
{
	int64_t ms = clock_now_ms();

	return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

void clock_start_at(int64_t epoch_s)
{
	atomic_store(&offset_ms, epoch_s * 1000 - system_ms());
}

void clock_reset(void)
{
	atomic_store(&offset_ms, 0);
}

/* Howard Hinnant's days_from_civil: exact for every proleptic Gregorian date. */
int64_t clock_days_from_civil(int y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

void clock_split(int64_t t, struct clock_tm *tm)
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t secs = t - days * 86400;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;

	tm->year = (int)(yoe + era * 400 + (m <= 2));
	tm->mon = (int)m;
	tm->mday = (int)d;
	tm->hour = (int)(secs / 3600);
	tm->min = (int)(secs / 60 % 60);
	tm->sec = (int)(secs % 60);
	tm->wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
}

static int take_num(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int expect(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

int clock_parse_rfc3339(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p = s;

	if (s == NULL)
		return -1;
	if (take_num(&p, 4, &y) || expect(&p, '-') || take_num(&p, 2, &mo) ||
	    expect(&p, '-') || take_num(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (take_num(&p, 2, &h) || expect(&p, ':') || take_num(&p, 2, &mi) ||
	    expect(&p, ':') || take_num(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		/* RFC 3339 wants at least one digit after the point. */
		if (p[1] < '0' || p[1] > '9')
			return -1;
		do
			p++;
		while (*p >= '0' && *p <= '9');
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (take_num(&p, 2, &oh) || expect(&p, ':') || take_num(&p, 2, &om))
			return -1;
	} else {
		return -1;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || oh > 23 || om > 59)
		return -1;
	int64_t days = clock_days_from_civil(y, (unsigned)mo, (unsigned)d);
	struct clock_tm check;

	clock_split(days * 86400, &check);
	if (check.mday != d) /* 31 April and friends */
		return -1;
	*out = days * 86400 + h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
	return 0;
}

void clock_format_rfc3339(int64_t t, char *out, size_t outlen)
{
	struct clock_tm tm;

	clock_split(t, &tm);
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.year, tm.mon, tm.mday,
		 tm.hour, tm.min, tm.sec);
}

/* The UTC-clock instant of 02:00 on the month's n-th Sunday (n = 1 is the first). */
static int64_t nth_sunday_2am(int year, unsigned mon, int n)
{
	int64_t day = clock_days_from_civil(year, mon, 1);
	int64_t wday = ((day % 7) + 11) % 7; /* 1970-01-01 was a Thursday */

	day += (7 - wday) % 7 + 7 * (n - 1);
	return day * 86400 + 2 * 3600;
}

bool clock_us_dst(int64_t t, int std_s)
{
	struct clock_tm tm;
	int64_t start, end;

	clock_split(t + std_s, &tm);
	start = nth_sunday_2am(tm.year, 3, 2) - std_s;
	end = nth_sunday_2am(tm.year, 11, 1) - (std_s + 3600);
	return t >= start && t < end;
}
