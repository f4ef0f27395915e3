/* aarch64 CPU feature detection through the Linux auxiliary vector. The
 * kernel reports a hwcap only when it both found the feature in the ID
 * registers and enabled it (e.g. SVE/SME state switching), so no separate
 * OS-support check is needed, unlike XCR0 on x86. */
#include <string.h>

#include "kernels/cpu/cpu_decode.h"

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

void hwk_cpu_features_from_hwcaps(struct hwk_cpu_features *f, unsigned long hwcap,
				  unsigned long hwcap2)
{
	memset(f, 0, sizeof(*f));
	f->asimd = hwcap & HWK_HWCAP_ASIMD;
	f->asimddp = f->asimd && (hwcap & HWK_HWCAP_ASIMDDP);
	/* fp16 kernels use both the scalar and the vector half-precision
	 * forms; the kernel reports them together, but require both anyway. */
	f->fphp = (hwcap & HWK_HWCAP_FPHP) && (hwcap & HWK_HWCAP_ASIMDHP);
	f->sve = hwcap & HWK_HWCAP_SVE;
	f->sve2 = f->sve && (hwcap2 & HWK_HWCAP2_SVE2);
	f->i8mm = hwcap2 & HWK_HWCAP2_I8MM;
	f->bf16 = hwcap2 & HWK_HWCAP2_BF16;
	f->sme = hwcap2 & HWK_HWCAP2_SME;
}

#if defined(__aarch64__) && defined(__linux__)

void hwk_cpu_detect_arm(struct hwk_cpu_features *f)
{
	hwk_cpu_features_from_hwcaps(f, getauxval(AT_HWCAP), getauxval(AT_HWCAP2));
}

#else

void hwk_cpu_detect_arm(struct hwk_cpu_features *f)
{
	(void)f;
}

#endif
