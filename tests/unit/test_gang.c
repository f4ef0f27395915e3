/* The gang's parallel-for: every task runs exactly once per call, across
 * many calls in a row (the helpers never run a task of a finished call),
 * and the gang ends with every helper gone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/gang.h"

#define MAX_TASKS 97

struct counts {
	int hits[MAX_TASKS];
	unsigned generation;
};

static void count_task(void *ctx, size_t i)
{
	struct counts *c = ctx;
	__atomic_add_fetch(&c->hits[i], 1, __ATOMIC_RELAXED);
}

static void *helper(void *arg)
{
	gang_help(arg);
	return NULL;
}

static void run_gang(unsigned helpers, uint32_t spin)
{
	struct gang g;
	pthread_t th[8];
	gang_init(&g, helpers, spin);
	assert_int_equal(g.par.threads, 1 + helpers);
	for (unsigned i = 0; i < helpers; i++)
		assert_int_equal(pthread_create(&th[i], NULL, helper, &g), 0);
	/* Calls of every size, each with fresh counters on the stack: a
	 * helper late from one call must not touch the next. */
	for (int round = 0; round < 3000; round++) {
		struct counts c;
		memset(&c, 0, sizeof(c));
		size_t n = 1 + (size_t)(round * 7) % MAX_TASKS;
		hwk_parallel_for(&g.par, n, count_task, &c);
		for (size_t i = 0; i < MAX_TASKS; i++)
			if (c.hits[i] != (i < n))
				fail_msg("round %d, task %zu of %zu ran %d times", round, i, n, c.hits[i]);
	}
	gang_end(&g);
	assert_int_equal(g.left, (int)helpers);
	for (unsigned i = 0; i < helpers; i++)
		pthread_join(th[i], NULL);
}

static void no_helpers(void **state)
{
	run_gang(0, 100);
}

static void spinning_helpers(void **state)
{
	run_gang(3, 1u << 20);
}

/* Helpers that sleep on the futex between calls. */
static void sleeping_helpers(void **state)
{
	run_gang(2, 1);
}

/* A gang ended before its helpers arrived still lets them go. */
static void end_before_join(void **state)
{
	struct gang g;
	pthread_t th;
	gang_init(&g, 1, 10);
	pthread_t *t = &th;
	struct counts c = { 0 };
	hwk_parallel_for(&g.par, 5, count_task, &c); /* the leader runs them all */
	for (int i = 0; i < 5; i++)
		assert_int_equal(c.hits[i], 1);
	assert_int_equal(pthread_create(t, NULL, helper, &g), 0);
	gang_end(&g);
	pthread_join(th, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_helpers),
		cmocka_unit_test(spinning_helpers),
		cmocka_unit_test(sleeping_helpers),
		cmocka_unit_test(end_before_join),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
