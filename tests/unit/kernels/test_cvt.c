/* Conversions f32 <-> bf16, f16, fp8: the scalar codecs against
 * independent references, every variant against the scalar codecs. */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "kernels/f32-cvt/cvt.h"
#include "tests/unit/kernels/harness.h"

static float f_of(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

#if defined(__aarch64__)
#define STRIDE 65521u /* qemu is slow */
#else
#define STRIDE 16411u
#endif

/* A spread of f32 bit patterns: every STRIDE-th, plus all around the f16 and
 * bf16 rounding boundaries near 1.0 and near the f16 maximum. */
static size_t sample(float **out)
{
	size_t n = 0, cap = (1ull << 32) / STRIDE + 70000;
	float *v = malloc(cap * 4);
	for (uint64_t u = 0; u < (1ull << 32); u += STRIDE)
		v[n++] = f_of((uint32_t)u);
	for (uint32_t u = 0x3f800000 - 20000; u < 0x3f800000 + 20000; u++)
		v[n++] = f_of(u);
	for (uint32_t u = 0x477fe000 - 10000; u < 0x477fe000 + 10000; u++)
		v[n++] = f_of(u);
	static const float special[] = { 0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 65504.0f,
					 65520.0f, 65519.99f, 6.1e-5f, 5.96e-8f, 2.98e-8f, 1e-45f };
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		v[n++] = special[i];
	*out = v;
	return n;
}

/* bf16 reference: the nearer of the two candidates, ties to even. */
static uint16_t bf16_ref(float x)
{
	uint32_t u;
	memcpy(&u, &x, 4);
	if (isnan(x))
		return (uint16_t)((u >> 16) | 0x40);
	if (isinf(x))
		return (uint16_t)(u >> 16);
	uint32_t lo = u & 0xffff0000u, hi = lo + 0x10000u;
	double dl = fabs((double)f_of(lo) - x), dh = fabs((double)f_of(hi) - x);
	if (isinf(f_of(hi)) && !isinf(x))
		dh = fabs(ldexp(1.0, 128) - fabs((double)x)); /* inf counts as 2^128 */
	if (dl < dh || (dl == dh && !((lo >> 16) & 1)))
		return (uint16_t)(lo >> 16);
	return (uint16_t)(hi >> 16);
}

static void bf16(void)
{
	float *v;
	size_t n = sample(&v);
	uint16_t *y = malloc(n * 2);
	float *back = malloc(n * 4);
	hwk_f32_to_bf16(n, v, y);
	hwk_bf16_to_f32(n, y, back);
	for (size_t i = 0; i < n; i++) {
		uint16_t want = bf16_ref(v[i]);
		CHECK(y[i] == want, "bf16(%a) = %04x want %04x [%s]", (double)v[i], y[i], want,
		      ht_variant(&hwk_op_f32_cvt));
		uint32_t u = (uint32_t)y[i] << 16, b;
		memcpy(&b, &back[i], 4);
		CHECK(b == u, "bf16 %04x decoded to %08x", y[i], b);
	}
	free(v);
	free(y);
	free(back);
}

static void f16(void)
{
	float *v;
	size_t n = sample(&v);
	uint16_t *y = malloc(n * 2);
	hwk_f32_to_f16(n, v, y);
	for (size_t i = 0; i < n; i++) {
		_Float16 h = (_Float16)v[i]; /* the compiler's IEEE conversion */
		uint16_t want;
		memcpy(&want, &h, 2);
		if (isnan(v[i]))
			CHECK((y[i] & 0x7c00) == 0x7c00 && (y[i] & 0x3ff), "NaN became %04x", y[i]);
		else
			CHECK(y[i] == want, "f16(%a) = %04x want %04x [%s]", (double)v[i], y[i], want,
			      ht_variant(&hwk_op_f32_cvt));
	}
	/* Every f16 decodes exactly. */
	uint16_t all[65536];
	float dec[65536];
	for (uint32_t i = 0; i < 65536; i++)
		all[i] = (uint16_t)i;
	hwk_f16_to_f32(65536, all, dec);
	for (uint32_t i = 0; i < 65536; i++) {
		_Float16 h;
		memcpy(&h, &all[i], 2);
		float want = (float)h;
		CHECK(isnan(want) ? isnan(dec[i]) : memcmp(&want, &dec[i], 4) == 0,
		      "f16 %04x -> %a want %a", i, (double)dec[i], (double)want);
	}
	free(v);
	free(y);
}

static void fp8_known_values(void)
{
	struct { enum hwk_fp8 f; uint8_t code; float v; } k[] = {
		{ HWK_FP8_E4M3FN, 0x7e, 448.0f }, { HWK_FP8_E4M3FN, 0x38, 1.0f },
		{ HWK_FP8_E4M3FN, 0x08, 0.015625f }, { HWK_FP8_E4M3FN, 0x01, 0.001953125f },
		{ HWK_FP8_E4M3FN, 0xfe, -448.0f }, { HWK_FP8_E4M3FN, 0x00, 0.0f },
		{ HWK_FP8_E5M2, 0x7b, 57344.0f }, { HWK_FP8_E5M2, 0x3c, 1.0f },
		{ HWK_FP8_E5M2, 0x01, 1.52587890625e-05f }, { HWK_FP8_E5M2, 0x7c, INFINITY },
		{ HWK_FP8_E5M2, 0xfc, -INFINITY },
	};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		float y;
		hwk_fp8_to_f32(k[i].f, 1.0f, 1, &k[i].code, &y);
		CHECK(y == k[i].v, "fmt %d code %02x -> %g want %g", k[i].f, k[i].code, y, k[i].v);
	}
	float y;
	uint8_t nan = 0x7f;
	hwk_fp8_to_f32(HWK_FP8_E4M3FN, 1.0f, 1, &nan, &y);
	CHECK(isnan(y), "E4M3FN 0x7f is NaN");
	hwk_fp8_to_f32(HWK_FP8_E5M2, 1.0f, 1, &nan, &y);
	CHECK(isnan(y), "E5M2 0x7f is NaN");
}

/* Every code decodes and encodes back to itself; every midpoint between
 * neighbours rounds to the even code; beyond max, saturation decides. */
static void fp8_round_trip_and_ties(void)
{
	for (int f = 0; f < 2; f++) {
		enum hwk_fp8 fmt = (enum hwk_fp8)f;
		uint8_t codes[256], back[256];
		float vals[256];
		for (int c = 0; c < 256; c++)
			codes[c] = (uint8_t)c;
		hwk_fp8_to_f32(fmt, 1.0f, 256, codes, vals);
		hwk_f32_to_fp8(fmt, false, 1.0f, 256, vals, back);
		for (int c = 0; c < 256; c++) {
			if (isnan(vals[c]))
				continue;
			bool negzero = c == 0x80;
			CHECK(back[c] == c || (negzero && back[c] == 0x80), "fmt %d code %02x -> %g -> %02x",
			      f, c, vals[c], back[c]);
		}
		/* positive codes in order: midpoints */
		int maxc = fmt == HWK_FP8_E4M3FN ? 0x7e : 0x7b;
		for (int c = 0; c < maxc; c++) {
			float mid = (float)(((double)vals[c] + vals[c + 1]) / 2);
			uint8_t q;
			hwk_f32_to_fp8(fmt, true, 1.0f, 1, &mid, &q);
			int even = (c & 1) ? c + 1 : c;
			CHECK(q == even, "fmt %d midpoint of %02x/%02x (%g) -> %02x", f, c, c + 1, mid, q);
		}
		float big[] = { 1e6f, INFINITY, -1e6f, -INFINITY };
		uint8_t s[4], ns[4];
		hwk_f32_to_fp8(fmt, true, 1.0f, 4, big, s);
		hwk_f32_to_fp8(fmt, false, 1.0f, 4, big, ns);
		CHECK(s[0] == maxc && s[1] == maxc && s[2] == (0x80 | maxc) && s[3] == (0x80 | maxc),
		      "fmt %d saturate %02x %02x %02x %02x", f, s[0], s[1], s[2], s[3]);
		if (fmt == HWK_FP8_E4M3FN)
			CHECK((ns[0] & 0x7f) == 0x7f && (ns[1] & 0x7f) == 0x7f, "E4M3FN overflow is NaN");
		else
			CHECK(ns[0] == 0x7c && ns[1] == 0x7c && ns[2] == 0xfc && ns[3] == 0xfc,
			      "E5M2 overflow is inf: %02x %02x %02x %02x", ns[0], ns[1], ns[2], ns[3]);
	}
	/* E4M3FN: 464 is the tie between 448 (even) and 480 (NaN's slot): 448. */
	float t = 464.0f, t2 = 465.0f;
	uint8_t q;
	hwk_f32_to_fp8(HWK_FP8_E4M3FN, false, 1.0f, 1, &t, &q);
	CHECK(q == 0x7e, "E4M3FN 464 -> %02x", q);
	hwk_f32_to_fp8(HWK_FP8_E4M3FN, false, 1.0f, 1, &t2, &q);
	CHECK(q == 0x7f, "E4M3FN 465 -> %02x (NaN without saturation)", q);
}

static void fp8_scale_and_variants(void)
{
	size_t n = 1000;
	float *x = malloc(n * 4), *y = malloc(n * 4);
	uint8_t *q = malloc(n);
	ht_fill(x, n, 3, -100, 100);
	for (int f = 0; f < 2; f++) {
		CHECK(hwk_f32_to_fp8((enum hwk_fp8)f, true, 0.5f, n, x, q) == 0, "encode");
		CHECK(hwk_fp8_to_f32((enum hwk_fp8)f, 0.5f, n, q, y) == 0, "decode");
		for (size_t i = 0; i < n; i++) {
			float want = hwk_cvt_fp8_to_f32_1((enum hwk_fp8)f, q[i]) * 0.5f;
			CHECK(y[i] == want, "fmt %d [%zu] %g want %g [%s]", f, i, y[i], want,
			      ht_variant(&hwk_op_f32_cvt));
			/* relative error of 3 (E4M3) or 2 (E5M2) mantissa bits */
			float rel = f == 0 ? 1.0f / 16 : 1.0f / 8;
			CHECK(fabsf(y[i] - x[i]) <= rel * fabsf(x[i]) + 0.5f * 0.002f, "fmt %d %g -> %g", f,
			      x[i], y[i]);
		}
	}
	CHECK(hwk_f32_to_fp8(HWK_FP8_E5M2, true, 0.0f, n, x, q) == -EINVAL, "scale 0");
	CHECK(hwk_fp8_to_f32((enum hwk_fp8)9, 1.0f, n, q, y) == -EINVAL, "bad format");
	CHECK(hwk_fp8_to_f32(HWK_FP8_E5M2, NAN, n, q, y) == -EINVAL, "NaN scale");
	free(x);
	free(y);
	free(q);
}

int main(void)
{
	static const struct ht_test tests[] = {
		{ "bf16", bf16 },
		{ "f16", f16 },
		{ "fp8_known_values", fp8_known_values },
		{ "fp8_round_trip_and_ties", fp8_round_trip_and_ties },
		{ "fp8_scale_and_variants", fp8_scale_and_variants },
	};
	return ht_run("cvt", tests, sizeof(tests) / sizeof(tests[0]));
}
