/* log.c - key=value event lines on stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"

static _Atomic int min_level = LOG_INFO;
static _Thread_local char thread_rid[40];

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level level)
{
	atomic_store(&min_level, (int)level);
}

bool log_enabled(enum log_level level)
{
	return (int)level >= atomic_load_explicit(&min_level, memory_order_relaxed);
}

int log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s && strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

void log_set_rid(const char *rid)
{
	if (rid == NULL) {
		thread_rid[0] = '\0';
		return;
	}
	/* Set twice per request: a bounded copy, not snprintf. */
	size_t n = strnlen(rid, sizeof(thread_rid) - 1);

	memcpy(thread_rid, rid, n);
	thread_rid[n] = '\0';
}

const char *log_rid(void)
{
	return thread_rid[0] ? thread_rid : "-";
}

/* Append s at line + *n, cut to leave room for the NUL (as snprintf cuts). */
static void put(char *line, size_t cap, size_t *n, const char *s)
{
	size_t k = strnlen(s, cap - 1 - *n);

	memcpy(line + *n, s, k);
	*n += k;
}

/*
 * "ts=...Z level=... rid=... msg=\"...\"" as the one snprintf wrote it. With
 * an access line per request at info, snprintf and the date formatting were
 * most of the cost of logging: the date text is kept per thread for its second.
 */
static size_t head(char *line, size_t cap, int64_t ms, enum log_level level, const char *msg)
{
	static _Thread_local int64_t ts_sec = INT64_MIN;
	static _Thread_local char ts[32];
	int64_t sec = ms / 1000;
	int frac = (int)(ms % 1000);
	char frac_text[6];
	size_t n = 0;

	if (sec != ts_sec || frac < 0) {
		clock_format_rfc3339(sec, ts, sizeof(ts));
		ts[19] = '\0'; /* drop the Z to append milliseconds */
		ts_sec = sec;
	}
	if (frac < 0) {
		snprintf(frac_text, sizeof(frac_text), ".%03d", frac);
	} else {
		frac_text[0] = '.';
		frac_text[1] = (char)('0' + frac / 100);
		frac_text[2] = (char)('0' + frac / 10 % 10);
		frac_text[3] = (char)('0' + frac % 10);
		frac_text[4] = '\0';
	}
	put(line, cap, &n, "ts=");
	put(line, cap, &n, ts);
	put(line, cap, &n, frac_text);
	put(line, cap, &n, "Z level=");
	put(line, cap, &n, level_names[level]);
	put(line, cap, &n, " rid=");
	put(line, cap, &n, log_rid());
	put(line, cap, &n, " msg=\"");
	put(line, cap, &n, msg);
	put(line, cap, &n, "\"");
	line[n] = '\0';
	return n;
}

void log_event(enum log_level level, const char *msg, const char *fmt, ...)
{
	char line[2048];
	int64_t ms;
	size_t n;
	int w;

	if ((int)level < atomic_load(&min_level))
		return;
	ms = clock_now_ms();
	n = head(line, sizeof(line), ms, level, msg);
	if (fmt != NULL && n < sizeof(line) - 2) {
		va_list ap;

		line[n++] = ' ';
		va_start(ap, fmt);
		w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
		n = w < 0 ? n : n + (size_t)w < sizeof(line) ? n + (size_t)w : sizeof(line) - 1;
	}
	line[n++] = '\n';
	/* One write per line keeps lines whole when threads log at once. */
	fwrite(line, 1, n, stderr);
}

void log_quote(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (; *s && o + 5 < outlen; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}
