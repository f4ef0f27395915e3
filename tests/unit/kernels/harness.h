/* A small test harness for libhwk's tests. Kernel tests depend on nothing
 * but libc, like libhwk itself, so the same sources cross-compile statically
 * and run under qemu-aarch64 (Debian has no arm64 cmocka to link there).
 * Output ends with the plain "N passed, N failed" line. */
#ifndef HWK_TEST_HARNESS_H
#define HWK_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/hwk.h"

static int ht_failed_checks;
static const char *ht_current;

/* Records a failure and keeps going: a test reports every bad case. */
#define CHECK(cond, ...)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			ht_failed_checks++;                                           \
			if (ht_failed_checks <= 50) {                                 \
				fprintf(stderr, "  %s:%d: %s: check failed: %s: ",     \
					__FILE__, __LINE__, ht_current, #cond);       \
				fprintf(stderr, __VA_ARGS__);                         \
				fputc('\n', stderr);                                  \
			}                                                             \
		}                                                                     \
	} while (0)

/* The variant under test, for messages. */
static inline const char *ht_variant(struct hwk_op *op)
{
	return hwk_op_variant(op)->name;
}

typedef void (*ht_fn)(void);
struct ht_test {
	const char *name;
	ht_fn fn;
};

/* Runs each test under every ISA ceiling this machine can execute, so every
 * runnable variant meets its scalar reference. */
static inline int ht_run(const char *suite, const struct ht_test *tests, size_t n)
{
	int passed = 0, failed = 0;
	for (int isa = 0; isa < HWK_ISA_COUNT; isa++) {
		if (!hwk_isa_runnable((enum hwk_isa)isa))
			continue;
		const char *only = getenv("HWK_TEST_ISA");
		if (only && *only && strcmp(only, hwk_isa_name((enum hwk_isa)isa)) != 0)
			continue;
		hwk_set_isa_ceiling((enum hwk_isa)isa);
		for (size_t i = 0; i < n; i++) {
			char label[160];
			snprintf(label, sizeof(label), "%s/%s[%s]", suite, tests[i].name,
				 hwk_isa_name((enum hwk_isa)isa));
			ht_current = label;
			int before = ht_failed_checks;
			tests[i].fn();
			if (ht_failed_checks == before) {
				passed++;
				printf("ok   %s\n", label);
			} else {
				failed++;
				printf("FAIL %s (%d checks)\n", label, ht_failed_checks - before);
			}
		}
	}
	printf("%s: %d passed, %d failed\n", suite, passed, failed);
	return failed ? 1 : 0;
}

/* Deterministic data: xorshift, uniform in [lo, hi). */
static inline float ht_randf(unsigned long long *s, float lo, float hi)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return lo + (hi - lo) * (float)((*s >> 11) * (1.0 / 9007199254740992.0));
}

static inline void ht_fill(float *p, size_t n, unsigned long long seed, float lo, float hi)
{
	unsigned long long s = seed * 0x9e3779b97f4a7c15ull + 1;
	for (size_t i = 0; i < n; i++)
		p[i] = ht_randf(&s, lo, hi);
}

/* |a-b| <= atol + rtol*|b|, NaN only against NaN. Returns the worst index or
 * -1 when all are close. */
static inline long ht_close(const float *a, const float *b, size_t n, float atol, float rtol)
{
	long worst = -1;
	float wd = 0;
	for (size_t i = 0; i < n; i++) {
		if (isnan(a[i]) || isnan(b[i])) {
			if (!(isnan(a[i]) && isnan(b[i])))
				return (long)i;
			continue;
		}
		float d = fabsf(a[i] - b[i]);
		if (d > atol + rtol * fabsf(b[i]) && d > wd) {
			wd = d;
			worst = (long)i;
		}
	}
	return worst;
}

#endif
