/* x86 CPU feature detection: CPUID plus the XCR0 check. A CPUID bit only
 * says the silicon has an instruction; using its registers also needs the OS
 * to save them on context switch, which XCR0 reports. Skipping that check
 * gives SIGILL (or silent register corruption) under kernels or hypervisors
 * that disable AVX-512 or AMX state. */
#include <string.h>

#include "kernels/cpu/cpu_decode.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

void hwk_cpu_features_from_x86(struct hwk_cpu_features *f, const uint32_t leaf1[4],
			       const uint32_t leaf7_0[4], const uint32_t leaf7_1[4],
			       uint64_t xcr0, int max_leaf)
{
	memset(f, 0, sizeof(*f));
	if (max_leaf < 1)
		return;

	const uint32_t ecx1 = leaf1[2];
	const uint32_t none[4] = { 0, 0, 0, 0 };
	const uint32_t *l7 = max_leaf >= 7 ? leaf7_0 : none;
	const uint32_t *l71 = max_leaf >= 7 && leaf7_0[0] >= 1 ? leaf7_1 : none;

	/* Without OSXSAVE the OS manages no extended state and XCR0 is
	 * meaningless; whatever the caller passed must not enable anything. */
	if (!(ecx1 & HWK_X86_L1_ECX_OSXSAVE))
		xcr0 = 0;
	const uint64_t ymm = HWK_XCR0_SSE | HWK_XCR0_AVX;
	const uint64_t zmm = ymm | HWK_XCR0_OPMASK | HWK_XCR0_ZMM_HI256 | HWK_XCR0_HI16_ZMM;
	const uint64_t tiles = HWK_XCR0_XTILECFG | HWK_XCR0_XTILEDATA;
	const bool os_ymm = (xcr0 & ymm) == ymm;
	const bool os_zmm = (xcr0 & zmm) == zmm;
	const bool os_tiles = (xcr0 & tiles) == tiles;

	/* SSE4.2 uses only XMM state, which every x86-64 OS saves. */
	f->sse42 = ecx1 & HWK_X86_L1_ECX_SSE42;

	/* FMA, F16C and AVX2 operate on YMM registers, so they are usable
	 * only where AVX is. */
	f->avx = os_ymm && (ecx1 & HWK_X86_L1_ECX_AVX);
	f->fma = f->avx && (ecx1 & HWK_X86_L1_ECX_FMA);
	f->f16c = f->avx && (ecx1 & HWK_X86_L1_ECX_F16C);
	f->avx2 = f->avx && (l7[1] & HWK_X86_L7_EBX_AVX2);

	/* Every AVX-512 extension builds on AVX-512F and its ZMM/opmask state. */
	f->avx512f = os_zmm && f->avx && (l7[1] & HWK_X86_L7_EBX_AVX512F);
	f->avx512dq = f->avx512f && (l7[1] & HWK_X86_L7_EBX_AVX512DQ);
	f->avx512bw = f->avx512f && (l7[1] & HWK_X86_L7_EBX_AVX512BW);
	f->avx512vl = f->avx512f && (l7[1] & HWK_X86_L7_EBX_AVX512VL);
	f->avx512vnni = f->avx512f && (l7[2] & HWK_X86_L7_ECX_AVX512VNNI);
	f->avx512bf16 = f->avx512f && (l71[0] & HWK_X86_L71_EAX_AVX512BF16);
	f->avx512fp16 = f->avx512f && (l7[3] & HWK_X86_L7_EDX_AVX512FP16);

	/* AMX tiles need their own XTILECFG/XTILEDATA state; the int8 and bf16
	 * instructions are meaningless without the tile architecture. */
	f->amx_tile = os_tiles && (l7[3] & HWK_X86_L7_EDX_AMX_TILE);
	f->amx_int8 = f->amx_tile && (l7[3] & HWK_X86_L7_EDX_AMX_INT8);
	f->amx_bf16 = f->amx_tile && (l7[3] & HWK_X86_L7_EDX_AMX_BF16);
}

#if defined(__x86_64__) || defined(__i386__)

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	/* Encoded as bytes so old assemblers without the mnemonic still work. */
	__asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

/* Linux (5.16+) enables AMX tile data per process on request; until then
 * the first tile instruction kills the process even though XCR0 has the
 * bits. Asking here, once, makes amx_* mean "usable now". */
static bool amx_permitted(void)
{
#if defined(__linux__) && defined(__x86_64__)
	enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
	return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
	return false;
#endif
}

void hwk_cpu_detect_x86(struct hwk_cpu_features *f)
{
	uint32_t l1[4] = { 0 }, l70[4] = { 0 }, l71[4] = { 0 };
	uint64_t xcr0 = 0;
	int max_leaf = (int)__get_cpuid_max(0, NULL);

	if (max_leaf >= 1)
		__get_cpuid_count(1, 0, &l1[0], &l1[1], &l1[2], &l1[3]);
	if (max_leaf >= 7) {
		__get_cpuid_count(7, 0, &l70[0], &l70[1], &l70[2], &l70[3]);
		if (l70[0] >= 1)
			__get_cpuid_count(7, 1, &l71[0], &l71[1], &l71[2], &l71[3]);
	}
	/* XGETBV faults (#UD) unless the OS has set CR4.OSXSAVE. */
	if (l1[2] & HWK_X86_L1_ECX_OSXSAVE)
		xcr0 = xgetbv0();

	hwk_cpu_features_from_x86(f, l1, l70, l71, xcr0, max_leaf);

	if (f->amx_tile && !amx_permitted())
		f->amx_tile = f->amx_int8 = f->amx_bf16 = false;
}

#else

void hwk_cpu_detect_x86(struct hwk_cpu_features *f)
{
	(void)f;
}

#endif
