/* libhwk: hardware-specific compute kernels and the CPU facts that choose
 * them. This is the library's one public header. */
#ifndef HWK_H
#define HWK_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- CPU features ----------------------------------------------------------
 * A flag is true only when the CPU has the instructions AND the operating
 * system saves their register state (x86: XCR0; Arm: the kernel reports
 * hwcaps only for what it enables), so a kernel may run when its flag is set.
 * AMX flags additionally mean this process was granted the tile data state
 * (Linux ARCH_REQ_XCOMP_PERM) during detection. */
struct hwk_cpu_features {
	/* x86-64 */
	bool sse42, avx, avx2, fma, f16c;
	bool avx512f, avx512bw, avx512vl, avx512vnni, avx512bf16, avx512fp16;
	bool amx_tile, amx_int8, amx_bf16;
	/* aarch64 */
	bool asimd, asimddp, fphp, sve, sve2, i8mm, bf16, sme;
};

/* The number of feature tokens hwk_cpu_feature_names() knows. */
#define HWK_CPU_FEATURE_MAX 22

/* Detected once (pthread_once) on first call; thread-safe; never NULL. */
const struct hwk_cpu_features *hwk_cpu_features(void);

/* Writes the names of the features present in f, in a fixed order, as the
 * tokens "sse4.2","avx","avx2","fma","f16c","avx512f","avx512bw","avx512vl",
 * "avx512vnni","avx512bf16","avx512fp16","amx-tile","amx-int8","amx-bf16",
 * "asimd","asimddp","fphp","sve","sve2","i8mm","bf16","sme" (static
 * strings). Returns the count written, at most max; with names NULL it
 * writes nothing and returns how many features are present. */
int hwk_cpu_feature_names(const struct hwk_cpu_features *f, const char **names, int max);

/* "x86_64", "aarch64", or "unknown": the architecture libhwk was built for. */
const char *hwk_cpu_arch(void);

#ifdef __cplusplus
}
#endif

#endif
