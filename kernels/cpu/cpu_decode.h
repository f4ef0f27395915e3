/* libhwk internals: turning raw CPU identification into struct
 * hwk_cpu_features. The decoders are pure and built on every architecture,
 * so unit tests check them with fixture register values on any machine. */
#ifndef HWK_CPU_DECODE_H
#define HWK_CPU_DECODE_H

#include <stdint.h>

#include "kernels/hwk.h"

/* Decodes x86 CPUID output. Each leaf is {eax, ebx, ecx, edx}: leaf1 is
 * CPUID(1), leaf7_0 is CPUID(7,0), leaf7_1 is CPUID(7,1). max_leaf is
 * CPUID(0).eax; leaves above it are ignored, as is leaf7_1 when
 * leaf7_0.eax (the highest subleaf) is 0. xcr0 is XGETBV(0); it is ignored
 * (treated as 0) when leaf1 says OSXSAVE is off, because then the OS saves no
 * extended state and XGETBV itself would fault. Clears *f first. */
void hwk_cpu_features_from_x86(struct hwk_cpu_features *f, const uint32_t leaf1[4],
			       const uint32_t leaf7_0[4], const uint32_t leaf7_1[4],
			       uint64_t xcr0, int max_leaf);

/* Decodes Linux arm64 AT_HWCAP / AT_HWCAP2 values. Clears *f first. */
void hwk_cpu_features_from_hwcaps(struct hwk_cpu_features *f, unsigned long hwcap,
				  unsigned long hwcap2);

/* Fill *f from the running CPU; each is a no-op (leaving *f as it is) when
 * built for another architecture. Called once by hwk_cpu_features(). */
void hwk_cpu_detect_x86(struct hwk_cpu_features *f);
void hwk_cpu_detect_arm(struct hwk_cpu_features *f);

/* CPUID bits (Intel SDM vol. 2A, CPUID; AMD APM vol. 3). */
#define HWK_X86_L1_ECX_FMA        (1u << 12)
#define HWK_X86_L1_ECX_SSE42      (1u << 20)
#define HWK_X86_L1_ECX_OSXSAVE    (1u << 27)
#define HWK_X86_L1_ECX_AVX        (1u << 28)
#define HWK_X86_L1_ECX_F16C       (1u << 29)
#define HWK_X86_L7_EBX_AVX2       (1u << 5)
#define HWK_X86_L7_EBX_AVX512F    (1u << 16)
#define HWK_X86_L7_EBX_AVX512DQ   (1u << 17)
#define HWK_X86_L7_EBX_AVX512BW   (1u << 30)
#define HWK_X86_L7_EBX_AVX512VL   (1u << 31)
#define HWK_X86_L7_ECX_AVX512VNNI (1u << 11)
#define HWK_X86_L7_EDX_AMX_BF16   (1u << 22)
#define HWK_X86_L7_EDX_AVX512FP16 (1u << 23)
#define HWK_X86_L7_EDX_AMX_TILE   (1u << 24)
#define HWK_X86_L7_EDX_AMX_INT8   (1u << 25)
#define HWK_X86_L71_EAX_AVX512BF16 (1u << 5)

/* XCR0 state components the OS must enable before the registers are used. */
#define HWK_XCR0_SSE       (1ull << 1)  /* XMM */
#define HWK_XCR0_AVX       (1ull << 2)  /* upper halves of YMM */
#define HWK_XCR0_OPMASK    (1ull << 5)  /* k0-k7 */
#define HWK_XCR0_ZMM_HI256 (1ull << 6)  /* upper halves of ZMM0-15 */
#define HWK_XCR0_HI16_ZMM  (1ull << 7)  /* ZMM16-31 */
#define HWK_XCR0_XTILECFG  (1ull << 17)
#define HWK_XCR0_XTILEDATA (1ull << 18)

/* Linux arm64 hwcaps (arch/arm64/include/uapi/asm/hwcap.h), spelled out
 * here because the decoder is built on every architecture and older
 * headers lack the newer bits. */
#define HWK_HWCAP_ASIMD    (1ul << 1)
#define HWK_HWCAP_FPHP     (1ul << 9)
#define HWK_HWCAP_ASIMDHP  (1ul << 10)
#define HWK_HWCAP_ASIMDDP  (1ul << 20)
#define HWK_HWCAP_SVE      (1ul << 22)
#define HWK_HWCAP2_SVE2    (1ul << 1)
#define HWK_HWCAP2_I8MM    (1ul << 13)
#define HWK_HWCAP2_BF16    (1ul << 14)
#define HWK_HWCAP2_SME     (1ul << 23)

#endif
