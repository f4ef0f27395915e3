/* libhwk's core: ISA names and ceilings, variant choice, parallel-for and
 * the pool, caches, aligned memory. */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "tests/unit/kernels/harness.h"

static void isa_names_round_trip(void)
{
	for (int i = 0; i < HWK_ISA_COUNT; i++) {
		enum hwk_isa back;
		CHECK(hwk_isa_parse(hwk_isa_name((enum hwk_isa)i), &back) == 0 && back == (enum hwk_isa)i,
		      "isa %d", i);
	}
	enum hwk_isa x;
	CHECK(hwk_isa_parse("avx1024", &x) == -EINVAL, "unknown token accepted");
	CHECK(hwk_isa_runnable(HWK_ISA_SCALAR), "scalar must always run");
	CHECK(hwk_isa_runnable(hwk_isa_best()), "best must run");
#if defined(__x86_64__)
	CHECK(!hwk_isa_runnable(HWK_ISA_NEON), "neon on x86");
	CHECK(hwk_set_isa_ceiling(HWK_ISA_SVE) == -ENOTSUP, "sve ceiling on x86");
#elif defined(__aarch64__)
	CHECK(!hwk_isa_runnable(HWK_ISA_AVX2), "avx2 on arm");
	CHECK(hwk_set_isa_ceiling(HWK_ISA_AVX2) == -ENOTSUP, "avx2 ceiling on arm");
#endif
}

/* The ceiling picks, per op, the best variant not above it. */
static void ceiling_chooses_variants(void)
{
	struct hwk_op *const *ops;
	size_t n = hwk_ops(&ops);
	for (size_t i = 0; i < n; i++) {
		const struct hwk_variant *v = hwk_op_variant(ops[i]);
		CHECK(v != NULL, "op %s has no variant", ops[i]->name);
		CHECK(v && (v->isa == HWK_ISA_SCALAR || v->isa <= hwk_isa_ceiling()),
		      "op %s chose %s above the ceiling", ops[i]->name, v ? v->name : "?");
		const struct hwk_variant *last = &ops[i]->variants[ops[i]->n_variants - 1];
		CHECK(last->isa == HWK_ISA_SCALAR, "op %s: last variant %s is not scalar",
		      ops[i]->name, last->name);
	}
}

struct hits {
	atomic_int *count;
	size_t n;
};

static void hit(void *ctx, size_t i)
{
	struct hits *h = ctx;
	if (i < h->n)
		atomic_fetch_add(&h->count[i], 1);
}

/* Every index runs exactly once, for any pool size and job size. */
static void parallel_for_covers_each_index_once(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 7, 64, 1000, 4099 };
	for (size_t threads = 1; threads <= 5; threads++) {
		struct hwk_pool *pool = hwk_pool_create(threads);
		CHECK(pool != NULL, "pool of %zu", threads);
		if (!pool)
			continue;
		const struct hwk_parallel *par = hwk_pool_parallel(pool);
		CHECK(hwk_parallel_threads(par) == threads, "threads %zu", threads);
		for (int round = 0; round < 20; round++)
			for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
				size_t n = sizes[s];
				atomic_int *count = calloc(n + 1, sizeof(atomic_int));
				struct hits h = { count, n };
				hwk_parallel_for(par, n, hit, &h);
				for (size_t i = 0; i < n; i++)
					CHECK(atomic_load(&count[i]) == 1,
					      "threads %zu n %zu index %zu ran %d times", threads, n, i,
					      atomic_load(&count[i]));
				free(count);
			}
		hwk_pool_destroy(pool);
	}
	/* NULL runs serially. */
	atomic_int count[5] = { 0 };
	struct hits h = { count, 5 };
	hwk_parallel_for(NULL, 5, hit, &h);
	for (int i = 0; i < 5; i++)
		CHECK(atomic_load(&count[i]) == 1, "serial index %d", i);
	CHECK(hwk_parallel_threads(NULL) == 1, "NULL is one thread");
}

static void caches_are_sane(void)
{
	const struct hwk_caches *c = hwk_caches();
	CHECK(c->l1d >= 4096 && c->l1d <= (4u << 20), "l1d %zu", c->l1d);
	CHECK(c->l2 >= c->l1d, "l2 %zu < l1d %zu", c->l2, c->l1d);
	CHECK(c->l3 >= c->l2 || c->l3 >= c->l1d, "l3 %zu", c->l3);
	CHECK(c->line == 32 || c->line == 64 || c->line == 128 || c->line == 256, "line %zu", c->line);
}

static void alloc_is_aligned(void)
{
	CHECK(hwk_alloc(0) == NULL, "zero bytes");
	CHECK(hwk_alloc(SIZE_MAX - 8) == NULL, "overflow");
	for (size_t n = 1; n < 5000; n += 997) {
		unsigned char *p = hwk_alloc(n);
		CHECK(p && ((uintptr_t)p & 63) == 0, "alignment of %zu bytes", n);
		if (p)
			memset(p, 0xab, n + 64); /* the slack past the end is ours */
		hwk_free(p);
	}
}

int main(void)
{
	/* A bad HWK_ISA is reported by hwk_init, and the best ISA is used. */
	setenv("HWK_ISA", "avx1024", 1);
	char err[200] = "";
	int rc = hwk_init(err, sizeof(err));
	if (rc != -EINVAL || !strstr(err, "avx1024")) {
		printf("hwk_init with HWK_ISA=avx1024 gave %d '%s'\n1 passed, 1 failed\n", rc, err);
		return 1;
	}
	if (hwk_isa_ceiling() != hwk_isa_best()) {
		printf("a bad HWK_ISA must leave the best ISA in force\n");
		return 1;
	}
	unsetenv("HWK_ISA");

	static const struct ht_test tests[] = {
		{ "isa_names_round_trip", isa_names_round_trip },
		{ "ceiling_chooses_variants", ceiling_chooses_variants },
		{ "parallel_for_covers_each_index_once", parallel_for_covers_each_index_once },
		{ "caches_are_sane", caches_are_sane },
		{ "alloc_is_aligned", alloc_is_aligned },
	};
	return ht_run("core", tests, sizeof(tests) / sizeof(tests[0]));
}
