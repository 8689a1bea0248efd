/* text.h - small text helpers: a bounded growable buffer, UTF-8, escaping. */
#ifndef RINGER_BASE_TEXT_H
#define RINGER_BASE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A growable byte buffer with a hard ceiling set at creation. Appending past
 * the ceiling fails (-1) and leaves the buffer as it was, so a caller turns
 * "too big" into a 413 or a rejected line instead of running out of memory.
 * data is always NUL-terminated when not NULL.
 */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

/* Start an empty buffer that may grow to max bytes. No allocation. */
void buf_init(struct buf *b, size_t max);

/* Append n bytes. Returns 0, or -1 (too big or out of memory). */
int buf_append(struct buf *b, const void *p, size_t n);

/* Append a NUL-terminated string. */
int buf_puts(struct buf *b, const char *s);

/* Append printf-style. Returns 0 or -1. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hand the bytes to the caller (who frees them); the buffer is empty after. */
char *buf_steal(struct buf *b, size_t *len);

/* Free the bytes; the buffer is empty after. */
void buf_release(struct buf *b);

/* True if s[0..len) is well-formed UTF-8 with no NUL and no C0 control but tab. */
bool text_utf8_clean(const char *s, size_t len);

/* True if s[0..len) is printable ASCII (0x20-0x7e). */
bool text_printable_ascii(const char *s, size_t len);

/* Append s with &, <, >, " and ' escaped for XML text. */
int buf_put_xml(struct buf *b, const char *s);

/*
 * Find key in an application/x-www-form-urlencoded body and decode its value
 * (+ and %XX) into out. Returns the decoded length, -1 if the key is absent,
 * -2 if the value is malformed or does not fit in outlen - 1 bytes.
 */
long text_form_value(const char *body, size_t len, const char *key, char *out,
		     size_t outlen);

#endif
