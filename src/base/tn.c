/* tn.c - NANP number parsing; the rules are DOMAIN.md section 2.3. */
#include "tn.h"

#include <string.h>

int digits_parse(const char *s, size_t len, unsigned n, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || len != n || n == 0 || n > 19)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* N11 codes (211 ... 911) are service codes, never an NPA or an NXX. */
static bool is_n11(unsigned code)
{
	return code % 100 == 11;
}

bool tn_npa_valid(unsigned npa)
{
	if (npa < 200 || npa > 999)
		return false;
	/* A 9 in the middle digit is held back for expanding the plan. */
	if ((npa / 10) % 10 == 9)
		return false;
	return !is_n11(npa);
}

bool tn_nxx_valid(unsigned nxx)
{
	if (nxx < 200 || nxx > 999)
		return false;
	return !is_n11(nxx);
}

bool tn_npa_tollfree(unsigned npa)
{
	switch (npa) {
	case 800: case 833: case 844: case 855: case 866: case 877: case 888:
		return true;
	default:
		return false;
	}
}

int tn_parse_digits(const char *s, size_t len, uint64_t *out)
{
	if (s == NULL)
		return TN_EFORMAT;
	if (len == 12 && s[0] == '+' && s[1] == '1') {
		s += 2;
		len -= 2;
	} else if (len == 11 && s[0] == '1') {
		s += 1;
		len -= 1;
	}
	return digits_parse(s, len, TN_STR_LEN, out) == 0 ? TN_OK : TN_EFORMAT;
}

int tn_parse(const char *s, size_t len, uint64_t *out)
{
	uint64_t v;

	if (tn_parse_digits(s, len, &v) != TN_OK)
		return TN_EFORMAT;
	if (!tn_npa_valid(tn_npa(v)))
		return TN_ENPA;
	if (!tn_nxx_valid(tn_npanxx(v) % 1000))
		return TN_ENXX;
	*out = v;
	return TN_OK;
}

int tn_parse_dashed(const char *s, size_t len, uint64_t *out)
{
	char d[TN_STR_LEN];

	if (s != NULL && len == 12 && s[3] == '-' && s[7] == '-') {
		memcpy(d, s, 3);
		memcpy(d + 3, s + 4, 3);
		memcpy(d + 6, s + 8, 4);
		return tn_parse(d, sizeof(d), out);
	}
	return tn_parse(s, len, out);
}

int tn_parse_str(const char *s, uint64_t *out)
{
	return tn_parse(s, s ? strlen(s) : 0, out);
}

void tn_format(uint64_t tn, char out[TN_STR_LEN + 1])
{
	for (int i = TN_STR_LEN - 1; i >= 0; i--) {
		out[i] = (char)('0' + tn % 10);
		tn /= 10;
	}
	out[TN_STR_LEN] = '\0';
}
