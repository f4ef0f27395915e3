/* ISA names, what each needs from the CPU, and choosing variants. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/core/registry.h"
#include "kernels/hwk.h"

static const char *const names[HWK_ISA_COUNT] = {
	"scalar", "avx2", "avx512f", "avx512vnni", "avx512bf16", "amx",
	"neon", "neondot", "i8mm", "sve", "sve2",
};

const char *hwk_isa_name(enum hwk_isa isa)
{
	return (unsigned)isa < HWK_ISA_COUNT ? names[isa] : "unknown";
}

int hwk_isa_parse(const char *name, enum hwk_isa *out)
{
	for (int i = 0; i < HWK_ISA_COUNT; i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (enum hwk_isa)i;
			return 0;
		}
	return -EINVAL;
}

static bool is_x86(enum hwk_isa isa)
{
	return isa >= HWK_ISA_AVX2 && isa <= HWK_ISA_AMX;
}

static bool is_arm(enum hwk_isa isa)
{
	return isa >= HWK_ISA_NEON && isa <= HWK_ISA_SVE2;
}

bool hwk_isa_runnable(enum hwk_isa isa)
{
	const struct hwk_cpu_features *f = hwk_cpu_features();
	switch (isa) {
	case HWK_ISA_SCALAR: return true;
#if defined(__x86_64__)
	case HWK_ISA_AVX2: return f->avx2 && f->fma && f->f16c;
	case HWK_ISA_AVX512F:
		return f->avx512f && f->avx512dq && f->avx512bw && f->avx512vl && f->avx2 && f->fma;
	case HWK_ISA_AVX512VNNI: return hwk_isa_runnable(HWK_ISA_AVX512F) && f->avx512vnni;
	case HWK_ISA_AVX512BF16:
		return hwk_isa_runnable(HWK_ISA_AVX512VNNI) && f->avx512bf16;
	case HWK_ISA_AMX: return f->amx_tile && f->amx_int8 && f->amx_bf16;
#endif
#if defined(__aarch64__)
	case HWK_ISA_NEON: return f->asimd;
	case HWK_ISA_NEONDOT: return f->asimd && f->asimddp;
	case HWK_ISA_I8MM: return f->asimd && f->asimddp && f->i8mm;
	case HWK_ISA_SVE: return f->sve;
	case HWK_ISA_SVE2: return f->sve && f->sve2;
#endif
	default: return false;
	}
}

enum hwk_isa hwk_isa_best(void)
{
	enum hwk_isa best = HWK_ISA_SCALAR;
	for (int i = 1; i < HWK_ISA_COUNT; i++)
		if (hwk_isa_runnable((enum hwk_isa)i))
			best = (enum hwk_isa)i;
	return best;
}

/* A variant fits under the ceiling when it is scalar, or of the ceiling's
 * architecture and not above it in that architecture's order. */
static bool admits(enum hwk_isa ceiling, enum hwk_isa v)
{
	if (v == HWK_ISA_SCALAR)
		return true;
	if ((is_x86(v) && !is_x86(ceiling)) || (is_arm(v) && !is_arm(ceiling)))
		return false;
	return v <= ceiling && hwk_isa_runnable(v);
}

static enum hwk_isa ceiling = HWK_ISA_SCALAR;

static void choose_all(void)
{
	struct hwk_op *const *ops;
	size_t n = hwk_ops(&ops);
	for (size_t i = 0; i < n; i++) {
		struct hwk_op *op = ops[i];
		op->chosen = &op->variants[op->n_variants - 1];
		for (size_t k = 0; k < op->n_variants; k++)
			if (admits(ceiling, op->variants[k].isa)) {
				op->chosen = &op->variants[k];
				break;
			}
	}
}

static int init_rc;
static char init_err[160];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
	const char *env = getenv("HWK_ISA");
	enum hwk_isa want = hwk_isa_best();
	if (env && *env) {
		enum hwk_isa isa;
		if (hwk_isa_parse(env, &isa) < 0) {
			snprintf(init_err, sizeof(init_err),
				 "HWK_ISA=%s is not an ISA token (scalar, avx2, avx512f, avx512vnni, "
				 "avx512bf16, amx, neon, neondot, i8mm, sve, sve2)", env);
			init_rc = -EINVAL;
		} else if (!hwk_isa_runnable(isa)) {
			snprintf(init_err, sizeof(init_err),
				 "HWK_ISA=%s: this CPU (or this build) cannot run %s; best here is %s", env,
				 env, hwk_isa_name(want));
			init_rc = -ENOTSUP;
		} else {
			want = isa;
		}
	}
	/* A bad HWK_ISA is reported, and the best ISA is used meanwhile. */
	ceiling = want;
	choose_all();
}

int hwk_init(char *err, size_t errlen)
{
	pthread_once(&once, init_once);
	if (init_rc && err && errlen)
		snprintf(err, errlen, "%s", init_err);
	return init_rc;
}

int hwk_set_isa_ceiling(enum hwk_isa isa)
{
	pthread_once(&once, init_once);
	if ((unsigned)isa >= HWK_ISA_COUNT || !hwk_isa_runnable(isa))
		return -ENOTSUP;
	ceiling = isa;
	choose_all();
	return 0;
}

enum hwk_isa hwk_isa_ceiling(void)
{
	pthread_once(&once, init_once);
	return ceiling;
}

const struct hwk_variant *hwk_op_variant(struct hwk_op *op)
{
	if (!op->chosen)
		pthread_once(&once, init_once);
	return op->chosen;
}
