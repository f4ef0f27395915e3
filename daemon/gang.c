#include "gang.h"

#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

/* One parallel-for, on the leader's stack while it runs. */
struct gang_work {
	hwk_task_fn task;
	void *ctx;
	size_t n;
	size_t next; /* next task index to take */
	size_t done; /* tasks finished */
};

#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)

#define cpu_relax gang_cpu_relax

static void futex_wait(uint32_t *addr, uint32_t val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake_all(uint32_t *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void run_tasks(struct gang_work *w)
{
	size_t i;
	while ((i = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED)) < w->n) {
		w->task(w->ctx, i);
		__atomic_add_fetch(&w->done, 1, __ATOMIC_RELEASE);
	}
}

/* Wakes sleeping helpers after a change of seq. */
static void bump(struct gang *g)
{
	ADD(&g->seq, 1);
	if (LOAD(&g->sleepers) > 0)
		futex_wake_all(&g->seq);
}

static void gang_run(void *impl, size_t n, hwk_task_fn task, void *ctx)
{
	struct gang *g = impl;
	if (n > 1 && g->recruit && !g->recruited) {
		g->recruited = true;
		g->recruit(g, g->recruit_ctx);
	}
	if (n == 1 || g->helpers == 0) {
		for (size_t i = 0; i < n; i++)
			task(ctx, i);
		return;
	}
	struct gang_work w = { task, ctx, n, 0, 0 };
	STORE(&g->work, &w);
	bump(g);
	run_tasks(&w);
	while (__atomic_load_n(&w.done, __ATOMIC_ACQUIRE) < n)
		cpu_relax();
	/* Unpublish, then wait out helpers that may still hold &w: a helper
	 * counts itself active before it reads g->work. */
	STORE(&g->work, NULL);
	while (LOAD(&g->active) > 0)
		cpu_relax();
}

void gang_init(struct gang *g, unsigned helpers, uint32_t spin_iters)
{
	*g = (struct gang){
		.par = { .run = gang_run, .impl = g, .threads = 1 + helpers },
		.want = helpers,
		.helpers = helpers,
		.spin_iters = spin_iters,
	};
}

void gang_help(struct gang *g)
{
	uint32_t seen = 0;
	for (;;) {
		uint32_t seq = LOAD(&g->seq);
		for (uint32_t k = 0; seq == seen && k < g->spin_iters; k++) {
			cpu_relax();
			seq = LOAD(&g->seq);
		}
		if (seq == seen) {
			ADD(&g->sleepers, 1);
			futex_wait(&g->seq, seen);
			ADD(&g->sleepers, -1);
			continue;
		}
		seen = seq;
		if (LOAD(&g->ending))
			break;
		ADD(&g->active, 1);
		struct gang_work *w = LOAD(&g->work);
		if (w)
			run_tasks(w);
		ADD(&g->active, -1);
	}
	ADD(&g->left, 1);
}

void gang_end(struct gang *g)
{
	if (g->helpers == 0)
		return;
	STORE(&g->ending, true);
	bump(g);
	while ((unsigned)LOAD(&g->left) < g->helpers)
		sched_yield();
}
