#include "base64.h"

#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for a base64 character, 64 for '=', 255 for anything else. */
static const uint8_t *decode_table(void)
{
	static uint8_t t[256];
	static int ready;
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		uint8_t tmp[256];
		for (int i = 0; i < 256; i++)
			tmp[i] = 255;
		for (int i = 0; i < 64; i++)
			tmp[(unsigned char)alphabet[i]] = (uint8_t)i;
		tmp['='] = 64;
		/* Every thread computes the same bytes, so a race is harmless. */
		for (int i = 0; i < 256; i++)
			__atomic_store_n(&t[i], tmp[i], __ATOMIC_RELAXED);
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	return t;
}

size_t hwopt_b64_encoded_len(size_t n)
{
	size_t groups = n / 3 + (n % 3 != 0);
	if (groups > SIZE_MAX / 4)
		return SIZE_MAX;
	return groups * 4;
}

void hwopt_b64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t i = 0;
	for (; i + 3 <= n; i += 3, out += 4) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[0] = alphabet[v >> 18];
		out[1] = alphabet[(v >> 12) & 63];
		out[2] = alphabet[(v >> 6) & 63];
		out[3] = alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		out[0] = alphabet[v >> 18];
		out[1] = alphabet[(v >> 12) & 63];
		out[2] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		out[3] = '=';
	}
}

size_t hwopt_b64_decoded_max(size_t len)
{
	return len / 4 * 3;
}

long long hwopt_b64_decode(const char *in, size_t len, void *out, size_t *bad_at)
{
	const uint8_t *t = decode_table();
	const unsigned char *s = (const unsigned char *)in;
	unsigned char *o = out;
	if (len % 4) {
		*bad_at = len;
		return -1;
	}
	size_t full = len >= 4 ? len - 4 : 0;
	size_t i = 0;
	/* Every group but the last cannot hold padding. */
	for (; i < full; i += 4, o += 3) {
		uint8_t a = t[s[i]], b = t[s[i + 1]], c = t[s[i + 2]], d = t[s[i + 3]];
		if ((a | b | c | d) & 0xC0) {
			size_t k = i;
			while (t[s[k]] < 64)
				k++;
			*bad_at = k;
			return -1;
		}
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
		o[0] = (unsigned char)(v >> 16);
		o[1] = (unsigned char)(v >> 8);
		o[2] = (unsigned char)v;
	}
	if (i == len)
		return o - (unsigned char *)out;
	uint8_t a = t[s[i]], b = t[s[i + 1]], c = t[s[i + 2]], d = t[s[i + 3]];
	size_t bad = a > 63 ? i : b > 63 ? i + 1 : c > 64 ? i + 2 : d > 64 ? i + 3 : SIZE_MAX;
	if (bad == SIZE_MAX && c == 64 && d != 64)
		bad = i + 3; /* "xx=y" */
	if (bad != SIZE_MAX) {
		*bad_at = bad;
		return -1;
	}
	uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)(c & 63) << 6 | (d & 63);
	*o++ = (unsigned char)(v >> 16);
	if (c != 64)
		*o++ = (unsigned char)(v >> 8);
	if (d != 64)
		*o++ = (unsigned char)v;
	return o - (unsigned char *)out;
}
