/* util_text.c — see util.h: UTF-8, hex, base64 and terminal-safe text */
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Decode the UTF-8 sequence at p (before end) into *cp; its length, or 0
 * when it is not well-formed (overlong, surrogate, past U+10FFFF). */
static size_t utf8_next(const unsigned char *p, const unsigned char *end,
	unsigned *cp)
{
	unsigned c = *p, min;
	size_t len;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		len = 2, min = 0x80, c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3, min = 0x800, c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

void cv_hex(const void *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Each byte's hex value + 1; 0 for a byte that is not a hex digit. */
static const unsigned char hex_value[256] = {
	['0'] = 0 + 1,
	['1'] = 1 + 1,
	['2'] = 2 + 1,
	['3'] = 3 + 1,
	['4'] = 4 + 1,
	['5'] = 5 + 1,
	['6'] = 6 + 1,
	['7'] = 7 + 1,
	['8'] = 8 + 1,
	['9'] = 9 + 1,
	['a'] = 10 + 1,
	['b'] = 11 + 1,
	['c'] = 12 + 1,
	['d'] = 13 + 1,
	['e'] = 14 + 1,
	['f'] = 15 + 1,
	['A'] = 10 + 1,
	['B'] = 11 + 1,
	['C'] = 12 + 1,
	['D'] = 13 + 1,
	['E'] = 14 + 1,
	['F'] = 15 + 1,
};

static bool upper_hex(unsigned char c)
{
	return c >= 'A' && c <= 'F';
}

int cv_hex_digit(char c)
{
	return (int)hex_value[(unsigned char)c] - 1;
}

bool cv_unhex(const char *s, size_t n, unsigned char *out, bool any_case)
{
	/* a table, not a test per range (verify --deep decodes ~25 MB of
	 * manifest digits); a NUL is not a digit, so a short string ends
	 * the loop before its end is passed */
	const unsigned char *h = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		unsigned hi = hex_value[h[2 * i]];
		unsigned lo = hi ? hex_value[h[2 * i + 1]] : 0;
		if (!lo)
			return false;
		if (!any_case &&
			(upper_hex(h[2 * i]) || upper_hex(h[2 * i + 1])))
			return false;
		out[i] = (unsigned char)((hi - 1) << 4 | (lo - 1));
	}
	return true;
}

size_t cv_base64_encode(const void *p, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = p;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)u[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)u[i + 1] << 8;
		if (i + 2 < n)
			v |= u[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

/* The value of c in base64's standard alphabet ('+', '/') or its URL-safe
 * one ('-', '_'); *alphabet records which of the two the input uses (0
 * until a character tells), -1 for neither or a second alphabet. */
static int b64_value(char c, int *alphabet)
{
	int which = 0, v = -1;
	if (c >= 'A' && c <= 'Z')
		v = c - 'A';
	else if (c >= 'a' && c <= 'z')
		v = c - 'a' + 26;
	else if (c >= '0' && c <= '9')
		v = c - '0' + 52;
	else if (c == '+' || c == '/')
		v = c == '+' ? 62 : 63, which = 1;
	else if (c == '-' || c == '_')
		v = c == '-' ? 62 : 63, which = 2;
	if (which && *alphabet && *alphabet != which)
		return -1; /* one alphabet per string */
	if (which)
		*alphabet = which;
	return v;
}

long cv_base64_decode(const char *in, unsigned char *out, size_t cap)
{
	size_t n = strlen(in), o = 0;
	if (n % 4 == 0 && n >= 4 && in[n - 1] == '=')
		n -= in[n - 2] == '=' ? 2 : 1; /* padding: only where due */
	if (n % 4 == 1)
		return -1;
	int alphabet = 0;
	uint32_t acc = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(in[i], &alphabet);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 != 3)
			continue;
		if (o + 3 > cap)
			return -1;
		for (int j = 2; j >= 0; j--)
			out[o++] = (unsigned char)(acc >> (8 * j));
		acc = 0;
	}
	/* a last group of 2 or 3 characters carries 1 or 2 bytes; the bits
	 * left over must be zero, or another string would decode to the
	 * same bytes (a signature is one string, not several) */
	size_t rest = n % 4, take = rest ? rest - 1 : 0;
	unsigned spare = rest == 2 ? 4 : 2;
	if (rest && (acc & ((1u << spare) - 1)) != 0)
		return -1;
	if (o + take > cap)
		return -1;
	acc >>= rest ? spare : 0;
	for (size_t j = take; j > 0; j--)
		out[o++] = (unsigned char)(acc >> (8 * (j - 1)));
	return (long)o;
}

bool cv_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	unsigned cp;
	while (p < end) {
		/* runs of ASCII, 32 bytes at a time (verify --deep reads
		 * hundreds of MB of mostly ASCII JSON) */
		for (uint64_t w[4]; end - p >= 32; p += 32) {
			memcpy(w, p, sizeof(w));
			if ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ull)
				break;
		}
		if (p == end)
			break;
		size_t k = utf8_next(p, end, &cp);
		if (!k)
			return false;
		p += k;
	}
	return true;
}

/* What a terminal would act on rather than show. */
static bool term_active(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) ||
	       (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

void cv_term_safe_append(struct buf *b, const char *s, size_t n, int flags)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		unsigned cp;
		size_t k = utf8_next(p, end, &cp);
		if (!k) {
			buf_printf(b, "\\x%02x", *p++);
			continue;
		}
		if (!term_active(cp) ||
			(cp == '\n' && (flags & CV_SAFE_NEWLINES)))
			buf_append(b, p, k);
		else if (cp == '\t')
			buf_puts(b, "\\t");
		else if (cp == '\n')
			buf_puts(b, "\\n");
		else if (cp < 0x80)
			buf_printf(b, "\\x%02x", cp);
		else
			buf_printf(b, "\\u%04X", cp);
		p += k;
	}
}

char *cv_term_safe(const char *s, int flags)
{
	if (!s)
		return NULL;
	struct buf b;
	buf_init(&b);
	cv_term_safe_append(&b, s, strlen(s), flags);
	return buf_steal(&b);
}

const char *cv_safe(struct cv_safe *k, const char *s)
{
	if (!s)
		return NULL;
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 8;
		k->s = xrealloc(k->s, k->cap * sizeof(*k->s));
	}
	return k->s[k->n++] = cv_term_safe(s, 0);
}

void cv_safe_finish(struct cv_safe *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->s[i]);
	free(k->s);
	memset(k, 0, sizeof(*k));
}
