/* telique.c - CNAM and toll-free CIC decisions over a lookup generation. */
#include "telique.h"

#include <stdio.h>
#include <string.h>

#include "../base/clock.h"

void telique_cnam(const struct numdb *g, uint64_t tn, struct cnam_answer *out)
{
	const char *name;
	bool restricted;

	memset(out, 0, sizeof(*out));
	if (numdb_cnam(g, tn, &name, &restricted) != 0)
		return;
	out->available = true;
	out->restricted = restricted;
	/* A restricted name is never shown, not even to us: it renders as PRIVATE. */
	snprintf(out->name, sizeof(out->name), "%s", restricted ? CNAM_PRIVATE_NAME : name);
}

size_t telique_cnam_clean(const char *in, size_t len, char out[16])
{
	size_t n = 0;
	bool space = false;

	for (size_t i = 0; i < len && n < 15; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch == ' ' || (ch >= '\t' && ch <= '\r')) {
			space = n > 0; /* leading whitespace is dropped */
			continue;
		}
		if (ch < 0x20 || ch > 0x7e)
			continue;
		/* A pending space is written only when a character follows it. */
		if (space && n < 14)
			out[n++] = ' ';
		else if (space)
			break;
		space = false;
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return n;
}

/* xorshift64*: a fast per-thread draw for PERCENT nodes; quality is ample for 0-99. */
static unsigned percent_draw(void)
{
	static _Thread_local uint64_t state;

	if (state == 0)
		state = (uint64_t)clock_now_ms() ^ (uint64_t)(uintptr_t)&state ^ 0x9e3779b97f4a7c15u;
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return (unsigned)((state * 0x2545f4914f6cdd1dull) >> 33) % 100;
}

int telique_cic(const struct numdb *g, uint64_t crn, uint64_t ani, unsigned lata, int64_t now,
		struct cpr_result *out)
{
	const json_t *rec = numdb_cpr(g, crn);
	struct cpr_call call;

	if (rec == NULL)
		return CIC_UNKNOWN_CRN;
	call.ani = ani;
	call.lata = lata;
	call.state = numdb_state(g, ani);
	call.now = now;
	call.percent_draw = percent_draw();
	return cpr_eval(rec, &call, out) == 0 ? CIC_OK : CIC_NO_ROUTE;
}
