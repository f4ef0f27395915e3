/* CPU features: detect once per process, name them for reports. */
#include <pthread.h>
#include <string.h>

#include "kernels/cpu/cpu_decode.h"
#include "kernels/hwk.h"

static struct hwk_cpu_features detected;
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;

static void detect(void)
{
	memset(&detected, 0, sizeof(detected));
#if defined(__x86_64__) || defined(__i386__)
	hwk_cpu_detect_x86(&detected);
#elif defined(__aarch64__)
	hwk_cpu_detect_arm(&detected);
#endif
}

const struct hwk_cpu_features *hwk_cpu_features(void)
{
	/* pthread_once gives every caller the finished struct without a lock
	 * on the hot path, and runs CPUID/arch_prctl exactly once. */
	pthread_once(&detect_once, detect);
	return &detected;
}

static const char *const feature_tokens[HWK_CPU_FEATURE_MAX] = {
	"sse4.2", "avx", "avx2", "fma", "f16c",
	"avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512vnni", "avx512bf16", "avx512fp16",
	"amx-tile", "amx-int8", "amx-bf16",
	"asimd", "asimddp", "fphp", "sve", "sve2", "i8mm", "bf16", "sme",
};

int hwk_cpu_feature_names(const struct hwk_cpu_features *f, const char **names, int max)
{
	/* Same order as feature_tokens; the order is part of the report format. */
	const bool present[HWK_CPU_FEATURE_MAX] = {
		f->sse42, f->avx, f->avx2, f->fma, f->f16c,
		f->avx512f, f->avx512dq, f->avx512bw, f->avx512vl, f->avx512vnni, f->avx512bf16, f->avx512fp16,
		f->amx_tile, f->amx_int8, f->amx_bf16,
		f->asimd, f->asimddp, f->fphp, f->sve, f->sve2, f->i8mm, f->bf16, f->sme,
	};
	int n = 0;

	for (int i = 0; i < HWK_CPU_FEATURE_MAX; i++) {
		if (!present[i])
			continue;
		if (names) {
			if (n >= max)
				break;
			names[n] = feature_tokens[i];
		}
		n++;
	}
	return n;
}

const char *hwk_cpu_arch(void)
{
#if defined(__x86_64__)
	return "x86_64";
#elif defined(__aarch64__)
	return "aarch64";
#else
	return "unknown";
#endif
}
