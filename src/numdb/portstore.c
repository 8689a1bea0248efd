/* portstore.c - writing, verifying and reading the ported-number generation file.
 *
 * Layout (all integers little-endian, every section 8-byte aligned):
 *   header   128 bytes, its own checksum and one over everything after it
 *   slots    uint32[1000000]: NPA-NXX -> code entry + 1, 0 = no number there
 *   profiles struct port_profile[profiles]
 *   pidx     profile id of each number, width bytes, in number order
 *   codes    struct ps_code[codes], ascending NPA-NXX
 *   data     per code a sorted uint16 line list, or a bitmap and rank words
 * A number's position in pidx is its code's first + its rank inside the code.
 */
#include "portstore.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PS_MAGIC "RNGPORT1"
#define PS_VERSION 1u
#define PS_SLOTS 1000000u
#define PS_LINES 10000u
#define BM_WORDS 157u                           /* 10048 bits */
#define BM_BYTES (BM_WORDS * 8u + BM_WORDS * 2u) /* bitmap, then uint16 ranks */
#define BM_SPAN ((BM_BYTES + 7u) & ~7u)
#define PIDX_BUF (1u << 20)

enum { KIND_LIST = 0, KIND_BITMAP = 1 };

struct ps_header {
	char magic[8];
	uint32_t version, header_bytes;
	uint64_t numbers;
	uint32_t codes, profiles;
	uint32_t width, reserved0;
	uint64_t max_version;
	int64_t built_at;
	uint64_t off_slots, off_profiles, off_pidx, off_codes, off_data, file_bytes;
	uint64_t absorbed_seq;
	uint64_t sum_body;
	uint64_t sum_header; /* of every byte before it */
};

struct ps_code {
	uint32_t npanxx;
	uint32_t first; /* index in pidx of the code's first number */
	uint32_t data8; /* offset in the data section, in 8-byte units */
	uint16_t count;
	uint16_t kind;
};

_Static_assert(sizeof(struct ps_header) == 128, "header is 128 bytes");
_Static_assert(sizeof(struct ps_code) == 16, "code entry is 16 bytes");
_Static_assert(sizeof(struct port_profile) == 24, "profile is 24 bytes");

/* ---- checksum: four multiply-xor lanes over 64-bit words ---- */

static uint64_t mix(uint64_t h, uint64_t w)
{
	h ^= w * 0x9e3779b97f4a7c15ull;
	h = (h << 31) | (h >> 33);
	return h * 0xc2b2ae3d27d4eb4full;
}

static uint64_t ps_sum(const uint8_t *p, size_t n)
{
	uint64_t l[4] = { 1, 2, 3, 4 }, w, h;
	size_t i = 0;

	for (; i + 32 <= n; i += 32)
		for (int k = 0; k < 4; k++) {
			memcpy(&w, p + i + 8 * k, 8);
			l[k] = mix(l[k], w);
		}
	h = mix(mix(mix(mix((uint64_t)n, l[0]), l[1]), l[2]), l[3]);
	for (; i < n; i++)
		h = mix(h, p[i]);
	return h ^ (h >> 29);
}

static uint64_t align8(uint64_t v)
{
	return (v + 7u) & ~(uint64_t)7u;
}

/* ---- building ---- */

struct portbuild {
	char path[512], tmp[520];
	int fd;
	struct port_profile *profiles;
	uint32_t n_profiles;
	unsigned width;
	uint64_t numbers, last_tn;
	bool any;
	/* the code being filled */
	uint32_t cur_code;
	uint16_t lines[PS_LINES];
	uint32_t n_lines;
	/* finished codes and their data, kept in memory (about 0.5 byte a number) */
	struct ps_code *codes;
	uint32_t n_codes, cap_codes;
	uint8_t *data;
	size_t data_len, data_cap;
	/* profile ids, written through a buffer at off_pidx */
	uint8_t *pbuf;
	size_t pbuf_len;
	uint64_t off_pidx, pidx_written;
	bool failed;
};

static void set_err(char *err, size_t errlen, const char *what, const char *path)
{
	if (err && errlen)
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
}

static unsigned width_for(uint32_t n)
{
	if (n <= 65536u)
		return 2;
	return n <= (1u << 24) ? 3 : 4;
}

int portbuild_begin(const char *path, const struct port_profile *profiles, uint32_t n,
		    struct portbuild **out, char *err, size_t errlen)
{
	struct portbuild *b = calloc(1, sizeof(*b));

	if (b == NULL || strlen(path) >= sizeof(b->path)) {
		free(b);
		snprintf(err, errlen, "cannot build %s: path too long or out of memory", path);
		return -1;
	}
	snprintf(b->path, sizeof(b->path), "%s", path);
	snprintf(b->tmp, sizeof(b->tmp), "%s.tmp", path);
	b->profiles = malloc((size_t)(n ? n : 1) * sizeof(*profiles));
	b->pbuf = malloc(PIDX_BUF);
	b->fd = open(b->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (b->profiles == NULL || b->pbuf == NULL || b->fd < 0) {
		set_err(err, errlen, "cannot create", b->tmp);
		portbuild_abort(b);
		return -1;
	}
	if (n)
		memcpy(b->profiles, profiles, (size_t)n * sizeof(*profiles));
	for (uint32_t i = 0; i < n; i++) {
		/* Fixed fields, zero padding: the file is the same for the same input. */
		struct port_profile p = { .lrn = b->profiles[i].lrn };

		snprintf(p.spid, sizeof(p.spid), "%.4s", b->profiles[i].spid);
		snprintf(p.cnam_dpc, sizeof(p.cnam_dpc), "%.9s", b->profiles[i].cnam_dpc);
		memset(&b->profiles[i], 0, sizeof(p));
		memcpy(&b->profiles[i], &p, sizeof(p));
	}
	b->n_profiles = n;
	b->width = width_for(n);
	b->off_pidx = align8(sizeof(struct ps_header) + (uint64_t)PS_SLOTS * 4u +
			     (uint64_t)n * sizeof(struct port_profile));
	*out = b;
	return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 1024;
	void *v;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	v = realloc(*p, c * elem);
	if (v == NULL)
		return -1;
	*p = v;
	*cap = c;
	return 0;
}

static int pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int pidx_flush(struct portbuild *b)
{
	if (b->pbuf_len == 0)
		return 0;
	if (pwrite_all(b->fd, b->pbuf, b->pbuf_len, b->off_pidx + b->pidx_written) != 0)
		return -1;
	b->pidx_written += b->pbuf_len;
	b->pbuf_len = 0;
	return 0;
}

static void put_bitmap(uint8_t *d, const uint16_t *lines, uint32_t n)
{
	uint64_t words[BM_WORDS] = { 0 };
	uint16_t ranks[BM_WORDS];
	uint32_t r = 0;

	for (uint32_t i = 0; i < n; i++)
		words[lines[i] >> 6] |= 1ull << (lines[i] & 63u);
	for (uint32_t w = 0; w < BM_WORDS; w++) {
		ranks[w] = (uint16_t)r;
		r += (uint32_t)__builtin_popcountll(words[w]);
	}
	memcpy(d, words, sizeof(words));
	memcpy(d + sizeof(words), ranks, sizeof(ranks));
}

/* Encode the code being filled into the data buffer. */
static int code_flush(struct portbuild *b)
{
	struct ps_code *c;
	size_t span, list = align8((uint64_t)b->n_lines * 2u);
	uint16_t kind = list > BM_SPAN ? KIND_BITMAP : KIND_LIST;

	if (b->n_lines == 0)
		return 0;
	span = kind == KIND_BITMAP ? BM_SPAN : list;
	if (b->n_codes == b->cap_codes) {
		size_t cap = b->cap_codes;

		if (grow((void **)&b->codes, &cap, cap + 1, sizeof(*b->codes)) != 0)
			return -1;
		b->cap_codes = (uint32_t)cap;
	}
	if (grow((void **)&b->data, &b->data_cap, b->data_len + span, 1) != 0)
		return -1;
	memset(b->data + b->data_len, 0, span);
	if (kind == KIND_BITMAP)
		put_bitmap(b->data + b->data_len, b->lines, b->n_lines);
	else
		memcpy(b->data + b->data_len, b->lines, (size_t)b->n_lines * 2u);
	c = &b->codes[b->n_codes++];
	c->npanxx = b->cur_code;
	c->first = (uint32_t)(b->numbers - b->n_lines);
	c->data8 = (uint32_t)(b->data_len / 8u);
	c->count = (uint16_t)b->n_lines;
	c->kind = kind;
	b->data_len += span;
	b->n_lines = 0;
	return 0;
}

int portbuild_add(struct portbuild *b, uint64_t tn, uint32_t profile)
{
	uint32_t code = (uint32_t)(tn / PS_LINES);

	if (b->failed || tn > 9999999999ull || profile >= b->n_profiles ||
	    (b->any && tn <= b->last_tn) || b->numbers >= UINT32_MAX ||
	    b->data_len / 8u >= UINT32_MAX - BM_SPAN)
		return -1;
	if (b->any && code != b->cur_code && code_flush(b) != 0) {
		b->failed = true;
		return -1;
	}
	b->cur_code = code;
	b->lines[b->n_lines++] = (uint16_t)(tn % PS_LINES);
	b->any = true;
	b->last_tn = tn;
	b->numbers++;
	memcpy(b->pbuf + b->pbuf_len, &profile, b->width); /* little-endian low bytes */
	b->pbuf_len += b->width;
	if (b->pbuf_len + 4u > PIDX_BUF && pidx_flush(b) != 0) {
		b->failed = true;
		return -1;
	}
	return 0;
}

/* Slots, profiles, codes and data around the already written pidx. */
static int write_sections(struct portbuild *b, struct ps_header *h)
{
	uint32_t *slots = calloc(PS_SLOTS, sizeof(uint32_t));
	int rc = -1;

	if (slots == NULL)
		return -1;
	for (uint32_t i = 0; i < b->n_codes; i++)
		slots[b->codes[i].npanxx] = i + 1;
	h->off_slots = sizeof(*h);
	h->off_profiles = h->off_slots + (uint64_t)PS_SLOTS * 4u;
	h->off_pidx = b->off_pidx;
	h->off_codes = align8(h->off_pidx + b->numbers * b->width);
	h->off_data = align8(h->off_codes + (uint64_t)b->n_codes * sizeof(struct ps_code));
	h->file_bytes = h->off_data + b->data_len;
	if (pwrite_all(b->fd, slots, (size_t)PS_SLOTS * 4u, h->off_slots) == 0 &&
	    pwrite_all(b->fd, b->profiles, (size_t)b->n_profiles * sizeof(struct port_profile),
		       h->off_profiles) == 0 &&
	    pwrite_all(b->fd, b->codes, (size_t)b->n_codes * sizeof(struct ps_code),
		       h->off_codes) == 0 &&
	    pwrite_all(b->fd, b->data, b->data_len, h->off_data) == 0 &&
	    ftruncate(b->fd, (off_t)h->file_bytes) == 0)
		rc = 0;
	free(slots);
	return rc;
}

/* Read the body back (from the page cache) for its checksum. */
static int body_sum(int fd, uint64_t size, uint64_t *out)
{
	uint8_t *m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);

	if (m == MAP_FAILED)
		return -1;
	*out = ps_sum(m + sizeof(struct ps_header), size - sizeof(struct ps_header));
	munmap(m, size);
	return 0;
}

static void fsync_dir(const char *path)
{
	char copy[512];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int portbuild_finish(struct portbuild *b, uint64_t max_version, uint64_t seq, char *err,
		     size_t errlen)
{
	struct ps_header h;

	memset(&h, 0, sizeof(h));
	if (b->failed || code_flush(b) != 0 || pidx_flush(b) != 0)
		goto fail;
	memcpy(h.magic, PS_MAGIC, 8);
	h.version = PS_VERSION;
	h.header_bytes = sizeof(h);
	h.numbers = b->numbers;
	h.codes = b->n_codes;
	h.profiles = b->n_profiles;
	h.width = b->width;
	h.max_version = max_version;
	h.absorbed_seq = seq;
	h.built_at = (int64_t)time(NULL);
	if (write_sections(b, &h) != 0 || body_sum(b->fd, h.file_bytes, &h.sum_body) != 0)
		goto fail;
	h.sum_header = ps_sum((const uint8_t *)&h, offsetof(struct ps_header, sum_header));
	/* The header goes last: until it is written the file is not valid. */
	if (pwrite_all(b->fd, &h, sizeof(h), 0) != 0 || fsync(b->fd) != 0)
		goto fail;
	if (rename(b->tmp, b->path) != 0)
		goto fail;
	fsync_dir(b->path);
	b->tmp[0] = '\0';
	portbuild_abort(b);
	return 0;
fail:
	set_err(err, errlen, "cannot write", b->tmp);
	portbuild_abort(b);
	return -1;
}

void portbuild_abort(struct portbuild *b)
{
	if (b == NULL)
		return;
	if (b->fd >= 0)
		close(b->fd);
	if (b->tmp[0])
		unlink(b->tmp);
	free(b->profiles);
	free(b->codes);
	free(b->data);
	free(b->pbuf);
	free(b);
}

/* ---- reading ---- */

struct portstore {
	atomic_long refs;
	const uint8_t *map;
	size_t size;
	const struct ps_header *h;
	const uint32_t *slots;
	const struct port_profile *profiles;
	const uint8_t *pidx;
	const struct ps_code *codes;
	const uint8_t *data;
	uint64_t data_bytes;
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
};

static int bad(char *err, size_t errlen, const char *path, const char *why)
{
	snprintf(err, errlen, "%s: not a usable ported-number file: %s", path, why);
	return -1;
}

static const char *check_header(const struct ps_header *h, size_t size)
{
	uint64_t pidx_end;

	if (memcmp(h->magic, PS_MAGIC, 8) != 0)
		return "wrong magic";
	if (h->version != PS_VERSION || h->header_bytes != sizeof(*h))
		return "unknown format version";
	if (h->sum_header != ps_sum((const uint8_t *)h, offsetof(struct ps_header, sum_header)))
		return "header checksum mismatch";
	if (h->file_bytes != size)
		return "truncated or extended (size differs from the header)";
	if (h->width != width_for(h->profiles) || h->codes > PS_SLOTS ||
	    h->numbers > (uint64_t)h->codes * PS_LINES)
		return "inconsistent counts";
	if (h->off_pidx > size || h->off_codes > size || h->off_profiles > size)
		return "section offsets out of bounds";
	pidx_end = h->off_pidx + h->numbers * h->width;
	if (h->off_slots != sizeof(*h) || h->off_profiles != h->off_slots + PS_SLOTS * 4ull ||
	    h->off_pidx < h->off_profiles + (uint64_t)h->profiles * sizeof(struct port_profile) ||
	    h->off_codes < pidx_end || h->off_data < h->off_codes + h->codes * 16ull ||
	    h->off_data > size || (h->off_pidx | h->off_codes | h->off_data) % 8u != 0)
		return "section offsets out of bounds";
	return NULL;
}

static const char *check_profiles(const struct portstore *s)
{
	for (uint32_t i = 0; i < s->h->profiles; i++)
		if (s->profiles[i].spid[4] != '\0' || s->profiles[i].cnam_dpc[9] != '\0')
			return "profile strings not terminated";
	return NULL;
}

static const char *check_code(const struct portstore *s, const struct ps_code *c,
			      uint64_t first)
{
	uint64_t off = (uint64_t)c->data8 * 8u;
	uint64_t span = c->kind == KIND_BITMAP ? BM_SPAN : align8((uint64_t)c->count * 2u);
	const uint8_t *d = s->data + off;

	if (c->npanxx >= PS_SLOTS || s->slots[c->npanxx] != (uint32_t)(c - s->codes) + 1)
		return "code index and slot table disagree";
	if (c->first != first || c->count == 0 || c->count > PS_LINES || c->kind > KIND_BITMAP)
		return "code entry counts inconsistent";
	if (off + span > s->data_bytes)
		return "code data out of bounds";
	if (c->kind == KIND_LIST) {
		uint16_t prev = 0, v;

		for (uint32_t i = 0; i < c->count; i++) {
			memcpy(&v, d + 2u * i, 2);
			if (v >= PS_LINES || (i && v <= prev))
				return "line list not ascending";
			prev = v;
		}
		return NULL;
	}
	{
		uint64_t w;
		uint16_t r;
		uint32_t total = 0;

		for (uint32_t i = 0; i < BM_WORDS; i++) {
			memcpy(&w, d + 8u * i, 8);
			memcpy(&r, d + BM_WORDS * 8u + 2u * i, 2);
			if (r != total)
				return "bitmap rank directory inconsistent";
			total += (uint32_t)__builtin_popcountll(w);
		}
		if (total != c->count)
			return "bitmap population differs from the count";
	}
	return NULL;
}

static const char *check_index(const struct portstore *s)
{
	uint64_t first = 0;
	uint32_t used = 0;

	for (uint32_t i = 0; i < PS_SLOTS; i++)
		if (s->slots[i] != 0 && s->slots[i] > s->h->codes)
			return "slot points past the code table";
		else if (s->slots[i] != 0)
			used++;
	if (used != s->h->codes)
		return "slot table and code count disagree";
	for (uint32_t i = 0; i < s->h->codes; i++) {
		const char *why = check_code(s, &s->codes[i], first);

		if (why)
			return why;
		if (i && s->codes[i].npanxx <= s->codes[i - 1].npanxx)
			return "codes not ascending";
		first += s->codes[i].count;
	}
	return first == s->h->numbers ? NULL : "code counts differ from the number count";
}

static const char *verify(struct portstore *s)
{
	const struct ps_header *h = s->h;
	const char *why;

	if ((why = check_header(h, s->size)) != NULL)
		return why;
	if (h->sum_body != ps_sum(s->map + sizeof(*h), s->size - sizeof(*h)))
		return "body checksum mismatch";
	s->slots = (const uint32_t *)(s->map + h->off_slots);
	s->profiles = (const struct port_profile *)(s->map + h->off_profiles);
	s->pidx = s->map + h->off_pidx;
	s->codes = (const struct ps_code *)(s->map + h->off_codes);
	s->data = s->map + h->off_data;
	s->data_bytes = s->size - h->off_data;
	if ((why = check_profiles(s)) != NULL)
		return why;
	return check_index(s);
}

int portstore_open(const char *path, struct portstore **out, char *err, size_t errlen)
{
	struct portstore *s = calloc(1, sizeof(*s));
	const char *why;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *m;

	if (s == NULL || fd < 0 || fstat(fd, &st) != 0) {
		set_err(err, errlen, "cannot open", path);
		goto fail;
	}
	if ((uint64_t)st.st_size < sizeof(struct ps_header)) {
		bad(err, errlen, path, "shorter than a header");
		goto fail;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		set_err(err, errlen, "cannot map", path);
		goto fail;
	}
	close(fd);
	fd = -1;
	s->map = m;
	s->size = (size_t)st.st_size;
	s->h = m;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->mtime = st.st_mtim;
	if ((why = verify(s)) != NULL) {
		bad(err, errlen, path, why);
		munmap(m, s->size);
		goto fail;
	}
	atomic_init(&s->refs, 1);
	*out = s;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(s);
	return -1;
}

struct portstore *portstore_ref(struct portstore *s)
{
	if (s)
		atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void portstore_unref(struct portstore *s)
{
	if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) {
		munmap((void *)s->map, s->size);
		free(s);
	}
}

static uint32_t pidx_at(const struct portstore *s, uint64_t i)
{
	uint32_t v = 0;

	memcpy(&v, s->pidx + i * s->h->width, s->h->width);
	return v;
}

/* Rank of line inside code c, or -1 when the line is absent. */
static long code_rank(const struct portstore *s, const struct ps_code *c, unsigned line)
{
	const uint8_t *d = s->data + (uint64_t)c->data8 * 8u;

	if (c->kind == KIND_LIST) {
		const uint16_t *v = (const uint16_t *)(const void *)d;
		size_t lo = 0, hi = c->count;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (v[mid] == line)
				return (long)mid;
			if (v[mid] < line)
				lo = mid + 1;
			else
				hi = mid;
		}
		return -1;
	}
	{
		const uint64_t *w = (const uint64_t *)(const void *)d;
		const uint16_t *rank = (const uint16_t *)(const void *)(d + BM_WORDS * 8u);
		uint64_t word, bit = 1ull << (line & 63u);

		/* The rank sits 1.2 KiB past the word: fetch both lines at once, not in turn. */
		__builtin_prefetch(&rank[line >> 6]);
		word = w[line >> 6];
		if ((word & bit) == 0)
			return -1;
		return (long)rank[line >> 6] + __builtin_popcountll(word & (bit - 1));
	}
}

bool portstore_find(const struct portstore *s, uint64_t tn, uint32_t *profile)
{
	uint32_t slot, id;
	const struct ps_code *c;
	long r;

	if (s == NULL || tn > 9999999999ull)
		return false;
	slot = s->slots[tn / PS_LINES];
	if (slot == 0)
		return false;
	c = &s->codes[slot - 1];
	/*
	 * The profile index entry comes after the rank, which comes after the
	 * bitmap: three misses in a row at national scale. Numbers spread evenly
	 * enough over a code that its share of the code's lines is a good guess
	 * at the rank, so that entry is fetched alongside the bitmap.
	 */
	__builtin_prefetch(s->pidx + ((uint64_t)c->first + (uint64_t)(tn % PS_LINES) * c->count /
				      PS_LINES) * s->h->width);
	r = code_rank(s, c, (unsigned)(tn % PS_LINES));
	if (r < 0)
		return false;
	id = pidx_at(s, (uint64_t)c->first + (uint64_t)r);
	if (id >= s->h->profiles)
		return false; /* only a crafted file gets here: its checksums were right */
	*profile = id;
	return true;
}

const struct port_profile *portstore_profile(const struct portstore *s, uint32_t id)
{
	return &s->profiles[id];
}

void portstore_get_info(const struct portstore *s, struct portstore_info *info)
{
	info->numbers = s->h->numbers;
	info->codes = s->h->codes;
	info->profiles = s->h->profiles;
	info->profile_width = s->h->width;
	info->max_version = s->h->max_version;
	info->absorbed_seq = s->h->absorbed_seq;
	info->built_at = s->h->built_at;
	info->file_bytes = s->size;
}

int portstore_peek(const char *path, struct portstore_info *info)
{
	struct ps_header h;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	    memcmp(h.magic, PS_MAGIC, 8) == 0 && h.version == PS_VERSION &&
	    h.sum_header == ps_sum((const uint8_t *)&h, offsetof(struct ps_header, sum_header)) &&
	    h.file_bytes == (uint64_t)st.st_size) {
		memset(info, 0, sizeof(*info));
		info->numbers = h.numbers;
		info->codes = h.codes;
		info->profiles = h.profiles;
		info->profile_width = h.width;
		info->max_version = h.max_version;
		info->absorbed_seq = h.absorbed_seq;
		info->built_at = h.built_at;
		info->file_bytes = h.file_bytes;
		rc = 0;
	}
	close(fd);
	return rc;
}

bool portstore_same_file(const struct portstore *s, const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino &&
	       (size_t)st.st_size == s->size && st.st_mtim.tv_sec == s->mtime.tv_sec &&
	       st.st_mtim.tv_nsec == s->mtime.tv_nsec;
}

/* Visit code c's numbers from line `from` on. */
static int walk_code(const struct portstore *s, const struct ps_code *c, unsigned from,
		     portstore_visit_fn fn, void *ctx)
{
	const uint8_t *d = s->data + (uint64_t)c->data8 * 8u;
	uint64_t base = (uint64_t)c->npanxx * PS_LINES;
	uint32_t k = 0;
	int rc;

	for (unsigned line = 0; line < PS_LINES && k < c->count; line++) {
		bool present;

		if (c->kind == KIND_LIST) {
			uint16_t v;

			memcpy(&v, d + 2u * k, 2);
			present = v == line;
		} else {
			uint64_t w;

			memcpy(&w, d + 8u * (line >> 6), 8);
			present = (w >> (line & 63u)) & 1u;
		}
		if (!present)
			continue;
		if (line >= from && pidx_at(s, c->first + k) < s->h->profiles &&
		    (rc = fn(ctx, base + line, pidx_at(s, c->first + k))) != 0)
			return rc;
		k++;
	}
	return 0;
}

int portstore_walk(const struct portstore *s, uint64_t from, portstore_visit_fn fn, void *ctx)
{
	uint32_t lo = 0, hi = s->h->codes, code = (uint32_t)(from / PS_LINES);
	int rc;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (s->codes[mid].npanxx < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (uint32_t i = lo; i < s->h->codes; i++) {
		unsigned start = s->codes[i].npanxx == code ? (unsigned)(from % PS_LINES) : 0;

		if ((rc = walk_code(s, &s->codes[i], start, fn, ctx)) != 0)
			return rc;
	}
	return 0;
}
