/* log.h - one line per event, key=value, with the request id of the thread.
 *
 * Lines go to stderr as "ts=... level=... rid=... msg=..." followed by the
 * caller's key=value pairs. Never log secrets, tokens or lists of numbers.
 */
#ifndef RINGER_BASE_LOG_H
#define RINGER_BASE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Set the lowest level written. Default LOG_INFO. */
void log_set_level(enum log_level level);

/* Whether a line at level would be written (to skip building one that would not). */
bool log_enabled(enum log_level level);

/* Parse "debug", "info", "warn" or "error"; returns -1 for anything else. */
int log_level_parse(const char *s);

/* Set the request id that this thread's log lines carry; NULL clears it. */
void log_set_rid(const char *rid);

/* The request id set on this thread, or "-". */
const char *log_rid(void);

/*
 * Write one line. msg is a short fixed text ("import rejected"); fmt, if not
 * NULL, adds key=value pairs after it.
 */
void log_event(enum log_level level, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Copy s into out (always NUL-terminated) with ", \\ and every byte outside
 * printable ASCII written as \\xNN, so client text stays inside one field.
 */
void log_quote(const char *s, char *out, size_t outlen);

#define log_debug(msg, ...) log_event(LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) log_event(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_event(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_event(LOG_ERROR, msg, __VA_ARGS__)

#endif
