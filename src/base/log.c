/* log.c - key=value event lines on stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
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
	snprintf(thread_rid, sizeof(thread_rid), "%s", rid);
}

const char *log_rid(void)
{
	return thread_rid[0] ? thread_rid : "-";
}

void log_event(enum log_level level, const char *msg, const char *fmt, ...)
{
	char line[2048], ts[32];
	int64_t ms = clock_now_ms();
	size_t n;
	int w;

	if ((int)level < atomic_load(&min_level))
		return;
	clock_format_rfc3339(ms / 1000, ts, sizeof(ts));
	ts[19] = '\0'; /* drop the Z to append milliseconds */
	w = snprintf(line, sizeof(line), "ts=%s.%03dZ level=%s rid=%s msg=\"%s\"", ts,
		     (int)(ms % 1000), level_names[level], log_rid(), msg);
	n = w < 0 ? 0 : (size_t)w < sizeof(line) ? (size_t)w : sizeof(line) - 1;
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
