/* CPU feature decoding from fixture register values (runs on any machine),
 * the names list, and detection on the real machine against /proc/cpuinfo. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernels/cpu/cpu_decode.h"
#include "kernels/hwk.h"

/* --- x86 fixtures ------------------------------------------------------------- */

/* XCR0 as Linux sets it on AVX-512 machines: x87, SSE, AVX, opmask,
 * ZMM_Hi256, Hi16_ZMM, PKRU. */
#define XCR0_AVX512_OS 0x2e7ull
#define XCR0_AVX_ONLY 0x7ull
#define XCR0_AMX_OS (XCR0_AVX512_OS | HWK_XCR0_XTILECFG | HWK_XCR0_XTILEDATA)

/* Zen 4-like: AVX2, AVX-512 F/BW/VL/VNNI/BF16, no FP16, no AMX. */
static const uint32_t zen4_leaf1[4] = {
	0x00a10f11, 0,
	HWK_X86_L1_ECX_SSE42 | HWK_X86_L1_ECX_OSXSAVE | HWK_X86_L1_ECX_AVX |
		HWK_X86_L1_ECX_FMA | HWK_X86_L1_ECX_F16C,
	0,
};
static const uint32_t zen4_leaf7_0[4] = {
	1, /* highest subleaf */
	HWK_X86_L7_EBX_AVX2 | HWK_X86_L7_EBX_AVX512F | HWK_X86_L7_EBX_AVX512BW |
		HWK_X86_L7_EBX_AVX512VL,
	HWK_X86_L7_ECX_AVX512VNNI,
	0,
};
static const uint32_t zen4_leaf7_1[4] = { HWK_X86_L71_EAX_AVX512BF16, 0, 0, 0 };

/* Sapphire Rapids-like: Zen 4's set plus FP16 and AMX. */
static const uint32_t spr_leaf7_0[4] = {
	1,
	HWK_X86_L7_EBX_AVX2 | HWK_X86_L7_EBX_AVX512F | HWK_X86_L7_EBX_AVX512BW |
		HWK_X86_L7_EBX_AVX512VL,
	HWK_X86_L7_ECX_AVX512VNNI,
	HWK_X86_L7_EDX_AVX512FP16 | HWK_X86_L7_EDX_AMX_TILE | HWK_X86_L7_EDX_AMX_INT8 |
		HWK_X86_L7_EDX_AMX_BF16,
};

static void assert_no_arm(const struct hwk_cpu_features *f)
{
	assert_false(f->asimd || f->asimddp || f->fphp || f->sve || f->sve2 || f->i8mm ||
		     f->bf16 || f->sme);
}

static void assert_no_avx512(const struct hwk_cpu_features *f)
{
	assert_false(f->avx512f);
	assert_false(f->avx512bw);
	assert_false(f->avx512vl);
	assert_false(f->avx512vnni);
	assert_false(f->avx512bf16);
	assert_false(f->avx512fp16);
}

static void assert_no_amx(const struct hwk_cpu_features *f)
{
	assert_false(f->amx_tile);
	assert_false(f->amx_int8);
	assert_false(f->amx_bf16);
}

static void test_x86_zen4_full_os_support(void **state)
{
	(void)state;
	struct hwk_cpu_features f;
	memset(&f, 0xff, sizeof(f)); /* the decoder must clear stale flags */
	hwk_cpu_features_from_x86(&f, zen4_leaf1, zen4_leaf7_0, zen4_leaf7_1,
				  XCR0_AVX512_OS, 0x10);
	assert_true(f.sse42);
	assert_true(f.avx);
	assert_true(f.avx2);
	assert_true(f.fma);
	assert_true(f.f16c);
	assert_true(f.avx512f);
	assert_true(f.avx512bw);
	assert_true(f.avx512vl);
	assert_true(f.avx512vnni);
	assert_true(f.avx512bf16);
	assert_false(f.avx512fp16);
	assert_no_amx(&f);
	assert_no_arm(&f);
}

/* A hypervisor or kernel that leaves ZMM state off: the CPUID bits are
 * there, but using ZMM registers would fault. */
static void test_x86_avx512_bits_without_zmm_state(void **state)
{
	(void)state;
	struct hwk_cpu_features f;
	hwk_cpu_features_from_x86(&f, zen4_leaf1, zen4_leaf7_0, zen4_leaf7_1,
				  XCR0_AVX_ONLY, 0x10);
	assert_true(f.avx);
	assert_true(f.avx2);
	assert_true(f.fma);
	assert_true(f.f16c);
	assert_no_avx512(&f);

	/* Each ZMM component is required, not just one of them. */
	const uint64_t partial[] = {
		XCR0_AVX512_OS & ~HWK_XCR0_OPMASK,
		XCR0_AVX512_OS & ~HWK_XCR0_ZMM_HI256,
		XCR0_AVX512_OS & ~HWK_XCR0_HI16_ZMM,
	};
	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
		hwk_cpu_features_from_x86(&f, zen4_leaf1, zen4_leaf7_0, zen4_leaf7_1,
					  partial[i], 0x10);
		assert_true(f.avx2);
		assert_no_avx512(&f);
	}
}

static void test_x86_no_osxsave_means_no_avx(void **state)
{
	(void)state;
	uint32_t leaf1[4];
	memcpy(leaf1, zen4_leaf1, sizeof(leaf1));
	leaf1[2] &= ~HWK_X86_L1_ECX_OSXSAVE;

	struct hwk_cpu_features f;
	/* Even a full XCR0 value must be ignored without OSXSAVE. */
	hwk_cpu_features_from_x86(&f, leaf1, spr_leaf7_0, zen4_leaf7_1, XCR0_AMX_OS, 0x20);
	assert_true(f.sse42);
	assert_false(f.avx);
	assert_false(f.avx2);
	assert_false(f.fma);
	assert_false(f.f16c);
	assert_no_avx512(&f);
	assert_no_amx(&f);
}

static void test_x86_no_ymm_state(void **state)
{
	(void)state;
	struct hwk_cpu_features f;
	/* SSE state only: AVX and everything on top of it is off. */
	hwk_cpu_features_from_x86(&f, zen4_leaf1, zen4_leaf7_0, zen4_leaf7_1, 0x3, 0x10);
	assert_true(f.sse42);
	assert_false(f.avx);
	assert_false(f.avx2);
	assert_false(f.fma);
	assert_false(f.f16c);
	assert_no_avx512(&f);
}

static void test_x86_amx_with_and_without_tile_state(void **state)
{
	(void)state;
	struct hwk_cpu_features f;

	hwk_cpu_features_from_x86(&f, zen4_leaf1, spr_leaf7_0, zen4_leaf7_1, XCR0_AMX_OS, 0x20);
	assert_true(f.amx_tile);
	assert_true(f.amx_int8);
	assert_true(f.amx_bf16);
	assert_true(f.avx512fp16);
	assert_true(f.avx512bf16);

	hwk_cpu_features_from_x86(&f, zen4_leaf1, spr_leaf7_0, zen4_leaf7_1, XCR0_AVX512_OS,
				  0x20);
	assert_no_amx(&f);
	assert_true(f.avx512fp16); /* AVX-512 state is still there */

	hwk_cpu_features_from_x86(&f, zen4_leaf1, spr_leaf7_0, zen4_leaf7_1,
				  XCR0_AVX512_OS | HWK_XCR0_XTILECFG, 0x20);
	assert_no_amx(&f);
	hwk_cpu_features_from_x86(&f, zen4_leaf1, spr_leaf7_0, zen4_leaf7_1,
				  XCR0_AVX512_OS | HWK_XCR0_XTILEDATA, 0x20);
	assert_no_amx(&f);

	/* The int8/bf16 bits mean nothing without the tile architecture. */
	uint32_t l7[4];
	memcpy(l7, spr_leaf7_0, sizeof(l7));
	l7[3] &= ~HWK_X86_L7_EDX_AMX_TILE;
	hwk_cpu_features_from_x86(&f, zen4_leaf1, l7, zen4_leaf7_1, XCR0_AMX_OS, 0x20);
	assert_no_amx(&f);
}

static void test_x86_leaf_limits(void **state)
{
	(void)state;
	struct hwk_cpu_features f;

	/* Leaf 7 above max_leaf holds garbage (often a copy of the top leaf). */
	hwk_cpu_features_from_x86(&f, zen4_leaf1, zen4_leaf7_0, zen4_leaf7_1, XCR0_AVX512_OS, 6);
	assert_true(f.avx);
	assert_false(f.avx2);
	assert_no_avx512(&f);

	/* Subleaf 1 exists only when leaf 7.0 EAX says so. */
	uint32_t l7[4];
	memcpy(l7, zen4_leaf7_0, sizeof(l7));
	l7[0] = 0;
	hwk_cpu_features_from_x86(&f, zen4_leaf1, l7, zen4_leaf7_1, XCR0_AVX512_OS, 0x10);
	assert_true(f.avx512vnni);
	assert_false(f.avx512bf16);

	hwk_cpu_features_from_x86(&f, zen4_leaf1, zen4_leaf7_0, zen4_leaf7_1, XCR0_AVX512_OS, 0);
	const char *names[HWK_CPU_FEATURE_MAX];
	assert_int_equal(hwk_cpu_feature_names(&f, names, HWK_CPU_FEATURE_MAX), 0);
}

static void test_x86_avx512_extensions_need_foundation(void **state)
{
	(void)state;
	uint32_t l7[4];
	memcpy(l7, zen4_leaf7_0, sizeof(l7));
	l7[1] &= ~HWK_X86_L7_EBX_AVX512F;
	struct hwk_cpu_features f;
	hwk_cpu_features_from_x86(&f, zen4_leaf1, l7, zen4_leaf7_1, XCR0_AVX512_OS, 0x10);
	assert_true(f.avx2);
	assert_no_avx512(&f);
}

/* --- aarch64 fixtures ------------------------------------------------------- */

#define HWCAP_FP (1ul << 0) /* always present; must not confuse the decoder */

static void test_arm_with_sve(void **state)
{
	(void)state;
	/* Neoverse V2-like: SVE2, i8mm, bf16, dot product, fp16; no SME. */
	unsigned long hwcap = HWCAP_FP | HWK_HWCAP_ASIMD | HWK_HWCAP_FPHP | HWK_HWCAP_ASIMDHP |
			      HWK_HWCAP_ASIMDDP | HWK_HWCAP_SVE;
	unsigned long hwcap2 = HWK_HWCAP2_SVE2 | HWK_HWCAP2_I8MM | HWK_HWCAP2_BF16;
	struct hwk_cpu_features f;
	memset(&f, 0xff, sizeof(f));
	hwk_cpu_features_from_hwcaps(&f, hwcap, hwcap2);
	assert_true(f.asimd);
	assert_true(f.asimddp);
	assert_true(f.fphp);
	assert_true(f.sve);
	assert_true(f.sve2);
	assert_true(f.i8mm);
	assert_true(f.bf16);
	assert_false(f.sme);
	assert_false(f.sse42 || f.avx || f.avx2 || f.fma || f.f16c);
	assert_no_avx512(&f);
	assert_no_amx(&f);

	const char *names[HWK_CPU_FEATURE_MAX];
	int n = hwk_cpu_feature_names(&f, names, HWK_CPU_FEATURE_MAX);
	const char *want[] = { "asimd", "asimddp", "fphp", "sve", "sve2", "i8mm", "bf16" };
	assert_int_equal(n, 7);
	for (int i = 0; i < n; i++)
		assert_string_equal(names[i], want[i]);
}

static void test_arm_without_sve(void **state)
{
	(void)state;
	/* Neoverse N1-like (Graviton 2): NEON, dot product, fp16; no SVE. */
	unsigned long hwcap = HWCAP_FP | HWK_HWCAP_ASIMD | HWK_HWCAP_FPHP | HWK_HWCAP_ASIMDHP |
			      HWK_HWCAP_ASIMDDP;
	struct hwk_cpu_features f;
	hwk_cpu_features_from_hwcaps(&f, hwcap, 0);
	assert_true(f.asimd);
	assert_true(f.asimddp);
	assert_true(f.fphp);
	assert_false(f.sve);
	assert_false(f.sve2);
	assert_false(f.i8mm);
	assert_false(f.bf16);
	assert_false(f.sme);

	/* An SVE2 bit without SVE (a misreporting kernel) is not trusted. */
	hwk_cpu_features_from_hwcaps(&f, hwcap, HWK_HWCAP2_SVE2);
	assert_false(f.sve2);

	/* Scalar fp16 alone is not enough for fp16 vector kernels. */
	hwk_cpu_features_from_hwcaps(&f, HWK_HWCAP_ASIMD | HWK_HWCAP_FPHP, 0);
	assert_false(f.fphp);

	hwk_cpu_features_from_hwcaps(&f, 0, HWK_HWCAP2_SME);
	assert_true(f.sme);
	assert_false(f.asimd);
}

/* --- names -------------------------------------------------------------------- */

static const char *const all_tokens[HWK_CPU_FEATURE_MAX] = {
	"sse4.2", "avx", "avx2", "fma", "f16c",
	"avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512vnni", "avx512bf16", "avx512fp16",
	"amx-tile", "amx-int8", "amx-bf16",
	"asimd", "asimddp", "fphp", "sve", "sve2", "i8mm", "bf16", "sme",
};

static void test_names_order_and_limits(void **state)
{
	(void)state;
	struct hwk_cpu_features f;
	memset(&f, 0, sizeof(f));
	const char *names[HWK_CPU_FEATURE_MAX + 1];

	assert_int_equal(hwk_cpu_feature_names(&f, names, HWK_CPU_FEATURE_MAX), 0);

	f = (struct hwk_cpu_features){
		.sse42 = true, .avx = true, .avx2 = true, .fma = true, .f16c = true,
		.avx512f = true, .avx512dq = true, .avx512bw = true, .avx512vl = true, .avx512vnni = true,
		.avx512bf16 = true, .avx512fp16 = true,
		.amx_tile = true, .amx_int8 = true, .amx_bf16 = true,
		.asimd = true, .asimddp = true, .fphp = true, .sve = true, .sve2 = true,
		.i8mm = true, .bf16 = true, .sme = true,
	};
	int n = hwk_cpu_feature_names(&f, names, HWK_CPU_FEATURE_MAX + 1);
	assert_int_equal(n, HWK_CPU_FEATURE_MAX);
	for (int i = 0; i < n; i++)
		assert_string_equal(names[i], all_tokens[i]);

	/* NULL counts; a short array is filled and not overrun. */
	assert_int_equal(hwk_cpu_feature_names(&f, NULL, 0), HWK_CPU_FEATURE_MAX);
	names[3] = "sentinel";
	assert_int_equal(hwk_cpu_feature_names(&f, names, 3), 3);
	assert_string_equal(names[2], "avx2");
	assert_string_equal(names[3], "sentinel");
	assert_int_equal(hwk_cpu_feature_names(&f, names, 0), 0);

	/* Order holds with gaps. */
	memset(&f, 0, sizeof(f));
	f.sme = f.avx512vnni = f.sse42 = true;
	assert_int_equal(hwk_cpu_feature_names(&f, names, HWK_CPU_FEATURE_MAX), 3);
	assert_string_equal(names[0], "sse4.2");
	assert_string_equal(names[1], "avx512vnni");
	assert_string_equal(names[2], "sme");
}

/* --- the real machine ------------------------------------------------------- */

static void test_arch(void **state)
{
	(void)state;
#if defined(__x86_64__)
	assert_string_equal(hwk_cpu_arch(), "x86_64");
#elif defined(__aarch64__)
	assert_string_equal(hwk_cpu_arch(), "aarch64");
#else
	assert_string_equal(hwk_cpu_arch(), "unknown");
#endif
}

static void *call_features(void *arg)
{
	(void)arg;
	return (void *)hwk_cpu_features();
}

static void test_detect_once_threadsafe(void **state)
{
	(void)state;
	pthread_t th[8];
	void *got[8];
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&th[i], NULL, call_features, NULL), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_join(th[i], &got[i]), 0);
	const struct hwk_cpu_features *f = hwk_cpu_features();
	assert_non_null(f);
	for (int i = 0; i < 8; i++)
		assert_ptr_equal(got[i], f);
}

/* The first "flags" (x86) / "Features" (Arm) line of /proc/cpuinfo, with a
 * space on each side so tokens can be found as " token ". */
static char cpuinfo_flags[8192];

static int read_cpuinfo_flags(const char *key)
{
	FILE *fp = fopen("/proc/cpuinfo", "r");
	if (!fp)
		return -1;
	char line[sizeof(cpuinfo_flags) - 2];
	int found = -1;
	size_t klen = strlen(key);
	while (found < 0 && fgets(line, sizeof(line), fp)) {
		char *colon = strchr(line, ':');
		if (strncmp(line, key, klen) != 0 || !colon ||
		    (line[klen] != ' ' && line[klen] != '\t' && line[klen] != ':'))
			continue;
		snprintf(cpuinfo_flags, sizeof(cpuinfo_flags), " %s ", colon + 1);
		char *nl = strchr(cpuinfo_flags, '\n');
		if (nl)
			*nl = ' ';
		found = 0;
	}
	fclose(fp);
	return found;
}

static bool cpuinfo_has(const char *token)
{
	char needle[64];
	snprintf(needle, sizeof(needle), " %s ", token);
	return strstr(cpuinfo_flags, needle) != NULL;
}

struct flag_check {
	const char *cpuinfo; /* NULL ends the table */
	size_t offset;       /* of the bool in struct hwk_cpu_features */
};

#define CHECK(tok, field) { tok, offsetof(struct hwk_cpu_features, field) }

#if defined(__x86_64__) || defined(__i386__)
/* The kernel clears these flags when it does not enable their register
 * state, so they must agree with the XCR0-checked detection. */
static const char cpuinfo_key[] = "flags";
static const struct flag_check checks[] = {
	CHECK("sse4_2", sse42), CHECK("avx", avx), CHECK("avx2", avx2),
	CHECK("fma", fma), CHECK("f16c", f16c), CHECK("avx512f", avx512f),
	CHECK("avx512bw", avx512bw), CHECK("avx512vl", avx512vl),
	CHECK("avx512_vnni", avx512vnni), CHECK("avx512_bf16", avx512bf16),
	{ NULL, 0 },
};
#elif defined(__aarch64__)
static const char cpuinfo_key[] = "Features";
static const struct flag_check checks[] = {
	CHECK("asimd", asimd), CHECK("asimddp", asimddp), CHECK("sve", sve),
	CHECK("sve2", sve2), CHECK("i8mm", i8mm), CHECK("bf16", bf16),
	CHECK("sme", sme),
	{ NULL, 0 },
};
#else
static const char cpuinfo_key[] = "";
static const struct flag_check checks[] = { { NULL, 0 } };
#endif

static void test_detected_matches_cpuinfo(void **state)
{
	(void)state;
	const struct hwk_cpu_features *f = hwk_cpu_features();
	if (!checks[0].cpuinfo || read_cpuinfo_flags(cpuinfo_key) < 0)
		skip(); /* an architecture without a table, or no /proc */
	for (size_t i = 0; checks[i].cpuinfo; i++) {
		bool detected = *(const bool *)((const char *)f + checks[i].offset);
		bool listed = cpuinfo_has(checks[i].cpuinfo);
		if (detected != listed)
			fail_msg("%s: detected %d but /proc/cpuinfo says %d", checks[i].cpuinfo,
				 detected, listed);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x86_zen4_full_os_support),
		cmocka_unit_test(test_x86_avx512_bits_without_zmm_state),
		cmocka_unit_test(test_x86_no_osxsave_means_no_avx),
		cmocka_unit_test(test_x86_no_ymm_state),
		cmocka_unit_test(test_x86_amx_with_and_without_tile_state),
		cmocka_unit_test(test_x86_leaf_limits),
		cmocka_unit_test(test_x86_avx512_extensions_need_foundation),
		cmocka_unit_test(test_arm_with_sve),
		cmocka_unit_test(test_arm_without_sve),
		cmocka_unit_test(test_names_order_and_limits),
		cmocka_unit_test(test_arch),
		cmocka_unit_test(test_detect_once_threadsafe),
		cmocka_unit_test(test_detected_matches_cpuinfo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
