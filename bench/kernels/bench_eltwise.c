/* Element-wise and row ops: GB/s (bytes read + written: x once, y once;
 * gamma/beta not counted) beside the STREAM-like triad measured in the same
 * run, at a size far beyond L2 (16M floats) and one in L1/L2 (4K floats),
 * on 1 and 2 threads. Ratio = op GB/s / triad GB/s at the same thread
 * count (for the in-cache size the ratio only shows how far above DRAM
 * speed the op runs). Row ops use rows of 1024 floats; batchnorm NCHW
 * planes of 16K (4K size: 4 planes of 1024). BENCH_REPS, BENCH_MIN_S as
 * in common.h; BENCH_ELTWISE_OPS=gelu,softmax picks ops. */
#include <errno.h>
#include <math.h>

#include "bench/kernels/common.h"

enum kind { UNARY, SOFTMAX, LOGSOFTMAX, LAYERNORM, RMSNORM, BATCHNORM };

struct bop {
	const char *name, *op;
	enum kind kind;
	enum hwk_vunary_op u;
};

static const struct bop bops[] = {
	{ "relu", "f32-relu", UNARY, HWK_VUNARY_RELU },
	{ "gelu", "f32-gelu", UNARY, HWK_VUNARY_GELU },
	{ "gelu-tanh", "f32-gelu-tanh", UNARY, HWK_VUNARY_GELU_TANH },
	{ "silu", "f32-silu", UNARY, HWK_VUNARY_SILU },
	{ "sigmoid", "f32-sigmoid", UNARY, HWK_VUNARY_SIGMOID },
	{ "tanh", "f32-tanh", UNARY, HWK_VUNARY_TANH },
	{ "exp", "f32-exp", UNARY, HWK_VUNARY_EXP },
	{ "hardswish", "f32-hardswish", UNARY, HWK_VUNARY_HARDSWISH },
	{ "softmax", "f32-softmax", SOFTMAX, 0 },
	{ "logsoftmax", "f32-logsoftmax", LOGSOFTMAX, 0 },
	{ "layernorm", "f32-layernorm", LAYERNORM, 0 },
	{ "rmsnorm", "f32-rmsnorm", RMSNORM, 0 },
	{ "batchnorm", "f32-batchnorm", BATCHNORM, 0 },
};

#define ROW 1024

struct ctx {
	const struct bop *b;
	size_t n;
	const float *x, *g, *bt;
	float *y;
	const struct hwk_parallel *par;
};

static void run(void *p)
{
	struct ctx *c = p;
	size_t rows = c->n / ROW;
	int rc = 0;
	switch (c->b->kind) {
	case UNARY: rc = hwk_f32_vunary(c->b->u, NULL, c->n, c->x, c->y, c->par); break;
	case SOFTMAX: rc = hwk_f32_softmax(rows, ROW, c->x, ROW, c->y, ROW, c->par); break;
	case LOGSOFTMAX: rc = hwk_f32_logsoftmax(rows, ROW, c->x, ROW, c->y, ROW, c->par); break;
	case LAYERNORM:
		rc = hwk_f32_layernorm(rows, ROW, c->x, ROW, c->g, c->bt, 1e-5f, c->y, ROW, NULL, NULL,
				       c->par);
		break;
	case RMSNORM: rc = hwk_f32_rmsnorm(rows, ROW, c->x, ROW, c->g, 1e-5f, c->y, ROW, c->par); break;
	case BATCHNORM: {
		size_t sp = c->n >= (1u << 20) ? 16384 : ROW;
		rc = hwk_f32_batchnorm(1, c->n / sp, sp, c->x, c->g, c->bt, c->y, c->par);
		break;
	}
	}
	if (rc) {
		fprintf(stderr, "%s: %d\n", c->b->name, rc);
		exit(1);
	}
}

static const char *variant_of(const char *op)
{
	struct hwk_op *const *ops;
	size_t n = hwk_ops(&ops);
	for (size_t i = 0; i < n; i++)
		if (strcmp(ops[i]->name, op) == 0)
			return hwk_op_variant(ops[i])->name;
	return "?";
}

static bool wanted(const char *name)
{
	const char *e = getenv("BENCH_ELTWISE_OPS");
	if (!e || !*e)
		return true;
	size_t len = strlen(name);
	for (const char *p = e; (p = strstr(p, name)) != NULL; p += len)
		if ((p == e || p[-1] == ',') && (p[len] == ',' || p[len] == 0))
			return true;
	return false;
}

int main(void)
{
	char err[200];
	if (hwk_init(err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	const size_t big = 16u << 20, small = 4096;
	float *x = hwk_alloc(big * 4), *y = hwk_alloc(big * 4), *g = hwk_alloc(big * 4),
	      *bt = hwk_alloc(big * 4);
	if (!x || !y || !g || !bt) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	unsigned long long s = 1;
	for (size_t i = 0; i < big; i++) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		x[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 12.0 - 6.0);
		g[i] = 1.0f + (float)(i % 7) * 0.01f;
		bt[i] = 0.1f;
		y[i] = 0;
	}
	struct hwk_pool *pool2 = hwk_pool_create(2);
	const struct hwk_parallel *pars[2] = { NULL, hwk_pool_parallel(pool2) };
	double triad[2];
	for (int t = 0; t < 2; t++)
		triad[t] = bench_triad_gbs(big, pars[t]);
	printf("eltwise: ISA %s; triad (3 x %zu floats) %.1f GB/s on 1 thread, %.1f on 2\n",
	       hwk_isa_name(hwk_isa_ceiling()), big, triad[0], triad[1]);
	bench_json("\"bench\":\"eltwise\",\"op\":\"triad\",\"n\":%zu,\"threads\":1,\"gbs\":%.2f", big, triad[0]);
	bench_json("\"bench\":\"eltwise\",\"op\":\"triad\",\"n\":%zu,\"threads\":2,\"gbs\":%.2f", big, triad[1]);
	printf("%-11s %-12s %9s %3s %9s %8s %7s\n", "op", "variant", "floats", "thr", "ns/float",
	       "GB/s", "/triad");
	for (size_t k = 0; k < sizeof(bops) / sizeof(bops[0]); k++) {
		if (!wanted(bops[k].name))
			continue;
		for (int sz = 0; sz < 2; sz++)
			for (int t = 0; t < 2; t++) {
				size_t n = sz ? small : big;
				struct ctx c = { &bops[k], n, x, g, bt, y, pars[t] };
				double sec = bench_time(run, &c, bench_reps(), bench_min_s());
				double gbs = 8.0 * (double)n / sec / 1e9, ratio = gbs / triad[t];
				const char *v = variant_of(bops[k].op);
				printf("%-11s %-12s %9zu %3d %9.3f %8.1f %7.2f\n", bops[k].name, v, n, t + 1,
				       sec / (double)n * 1e9, gbs, ratio);
				bench_json("\"bench\":\"eltwise\",\"op\":\"%s\",\"variant\":\"%s\",\"n\":%zu,"
					   "\"threads\":%d,\"ns_per_float\":%.4f,\"gbs\":%.2f,"
					   "\"triad_gbs\":%.2f,\"ratio\":%.3f",
					   bops[k].name, v, n, t + 1, sec / (double)n * 1e9, gbs, triad[t], ratio);
			}
	}
	hwk_pool_destroy(pool2);
	hwk_free(x);
	hwk_free(y);
	hwk_free(g);
	hwk_free(bt);
	return 0;
}
