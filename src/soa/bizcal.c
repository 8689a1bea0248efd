/* bizcal.c - business days, business hours and timers measured in them. */
#include "bizcal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/clock.h"

#define SEARCH_DAYS (366 * 10) /* a calendar with no business time gives up here */

static const char *const wday_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static int wday_parse(const char *s, size_t n)
{
	for (int i = 0; i < 7; i++)
		if (n == 3 && strncasecmp(s, wday_names[i], 3) == 0)
			return i;
	return -1;
}

/* "mon-fri", "sat", or a comma list of those. */
static int days_parse(const char *s, unsigned *out)
{
	unsigned mask = 0;

	while (*s) {
		size_t n = strcspn(s, ",");
		int a = wday_parse(s, n < 3 ? n : 3), b = a;

		if (n == 7 && s[3] == '-')
			b = wday_parse(s + 4, 3);
		else if (n != 3)
			return -1;
		if (a < 0 || b < 0)
			return -1;
		for (int d = a;; d = (d + 1) % 7) {
			mask |= 1u << d;
			if (d == b)
				break;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	if (mask == 0)
		return -1;
	*out = mask;
	return 0;
}

static int hhmm_parse(const char *s, int *out)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');

	if (h > 24 || m > 59 || (h == 24 && m != 0))
		return -1;
	*out = h * 60 + m;
	return 0;
}

static int hours_parse(const char *s, int *open, int *close)
{
	int a, b;

	if (strlen(s) != 11 || s[5] != '-' || hhmm_parse(s, &a) || hhmm_parse(s + 6, &b) ||
	    a >= b)
		return -1;
	*open = a;
	*close = b;
	return 0;
}

static int offset_parse(const char *s, int *out)
{
	int v;

	if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || hhmm_parse(s + 1, &v) ||
	    v > 14 * 60)
		return -1;
	*out = s[0] == '-' ? -v : v;
	return 0;
}

int bizcal_parse_date(const char *s, int64_t *out)
{
	int y, m, d;
	char tail;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return -1;
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	int64_t day = clock_days_from_civil(y, (unsigned)m, (unsigned)d);
	struct clock_tm tm;

	clock_split(day * 86400, &tm);
	if (tm.mday != d) /* 2026-02-30 and the like */
		return -1;
	*out = day;
	return 0;
}

static int cmp_day(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int holidays_parse(const char *s, struct bizcal *cal)
{
	char one[16];

	cal->n_holidays = 0;
	while (*s) {
		size_t n = strcspn(s, ",");

		while (n && *s == ' ') {
			s++;
			n--;
		}
		if (n >= sizeof(one) || cal->n_holidays == BIZCAL_MAX_HOLIDAYS)
			return -1;
		memcpy(one, s, n);
		one[n] = '\0';
		if (bizcal_parse_date(one, &cal->holidays[cal->n_holidays++]) != 0)
			return -1;
		s += n;
		if (*s == ',')
			s++;
	}
	qsort(cal->holidays, cal->n_holidays, sizeof(cal->holidays[0]), cmp_day);
	return 0;
}

int bizcal_parse(struct bizcal *cal, const char *days, const char *hours, const char *offset,
		 const char *holidays, char *err, size_t errlen)
{
	struct bizcal c = { 0 };

	if (days_parse(days, &c.days) != 0) {
		snprintf(err, errlen, "business days \"%s\" are not like mon-fri", days);
		return -1;
	}
	if (hours_parse(hours, &c.open_min, &c.close_min) != 0) {
		snprintf(err, errlen, "business hours \"%s\" are not like 07:00-19:00", hours);
		return -1;
	}
	if (offset_parse(offset, &c.utc_offset_min) != 0) {
		snprintf(err, errlen, "UTC offset \"%s\" is not like -05:00", offset);
		return -1;
	}
	if (holidays_parse(holidays, &c) != 0) {
		snprintf(err, errlen, "holidays \"%s\" are not a list of up to %d YYYY-MM-DD",
			 holidays, BIZCAL_MAX_HOLIDAYS);
		return -1;
	}
	*cal = c;
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

void bizcal_set_us_dst(struct bizcal *cal, bool on)
{
	cal->us_dst = on;
}

int bizcal_offset_at(const struct bizcal *cal, int64_t t)
{
	int std = cal->utc_offset_min;

	return cal->us_dst && clock_us_dst(t, std * 60) ? std + 60 : std;
}

int64_t bizcal_day(const struct bizcal *cal, int64_t t)
{
	return floor_div(t + (int64_t)bizcal_offset_at(cal, t) * 60, 86400);
}

int64_t bizcal_instant(const struct bizcal *cal, int64_t day, int min)
{
	int64_t std = day * 86400 + (int64_t)min * 60 - (int64_t)cal->utc_offset_min * 60;

	/* Daylight reading first: it is right whenever daylight time is in force then. */
	if (cal->us_dst && clock_us_dst(std - 3600, cal->utc_offset_min * 60))
		return std - 3600;
	return std;
}

bool bizcal_is_business_day(const struct bizcal *cal, int64_t day)
{
	int wday = (int)((day % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */

	if (!(cal->days & (1u << wday)))
		return false;
	return bsearch(&day, cal->holidays, cal->n_holidays, sizeof(day), cmp_day) == NULL;
}

int64_t bizcal_prev_business_day(const struct bizcal *cal, int64_t day)
{
	for (int i = 1; i <= SEARCH_DAYS; i++)
		if (bizcal_is_business_day(cal, day - i))
			return day - i;
	return day - 1;
}

int64_t bizcal_add_days(const struct bizcal *cal, int64_t day, unsigned n)
{
	for (int i = 0; n > 0 && i < SEARCH_DAYS; i++) {
		day++;
		if (bizcal_is_business_day(cal, day))
			n--;
	}
	return day;
}

int64_t bizcal_add(const struct bizcal *cal, int64_t from, int64_t seconds)
{
	int64_t t = from, left = seconds;
	int64_t day = bizcal_day(cal, from);

	for (int i = 0; left > 0 && i < SEARCH_DAYS; i++, day++) {
		int64_t open = bizcal_instant(cal, day, cal->open_min);
		int64_t close = bizcal_instant(cal, day, cal->close_min);

		if (!bizcal_is_business_day(cal, day) || t >= close)
			continue;
		if (t < open)
			t = open;
		if (left <= close - t)
			return t + left;
		left -= close - t;
		t = close;
	}
	return left > 0 ? BIZCAL_NEVER : t;
}
