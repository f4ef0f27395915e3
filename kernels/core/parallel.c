/* Parallel-for, and the plain pthread pool that tests and benches drive
 * kernels with (the daemon brings its own pinned pool). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "kernels/hwk.h"

void hwk_parallel_for(const struct hwk_parallel *par, size_t n, hwk_task_fn task, void *ctx)
{
	if (!par || par->threads <= 1 || n <= 1) {
		for (size_t i = 0; i < n; i++)
			task(ctx, i);
		return;
	}
	par->run(par->impl, n, task, ctx);
}

size_t hwk_parallel_threads(const struct hwk_parallel *par)
{
	return par && par->threads > 1 ? par->threads : 1;
}

/* Wake-up latency: a futex/condvar wake costs tens of microseconds on a
 * VM, more than a small GEMM takes. So workers spin on the job word for a
 * while after each job (back-to-back calls, as layers of a model make,
 * find them awake), and the caller spins on the completion count, before
 * either sleeps on the condvars. The spin is bounded in time, so an idle
 * pool does not hold the cores.
 *
 * A worker joins a job before it claims tasks, and the caller closes the
 * job once it has drained the tasks itself: it then waits only for the
 * workers that joined, never for one the (shared) machine has not run yet
 * (that one finds the job closed and skips it). */
#define SPIN_NS 100000L

/* job: generation << 32 | CLOSED | workers inside. */
#define JOB_CLOSED 0x80000000ul
#define JOB_COUNT 0x7ffffffful

struct hwk_pool {
	struct hwk_parallel par;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	pthread_t *threads;
	size_t nthreads;      /* workers, not counting the caller */
	/* The current job, written before job's generation is bumped. */
	hwk_task_fn task;
	void *ctx;
	size_t n;
	atomic_size_t next;   /* next task index to claim */
	atomic_uint_least64_t job;
	atomic_size_t sleepers;    /* workers in (or entering) the work wait */
	atomic_bool caller_asleep; /* the caller in (or entering) the done wait */
	atomic_bool stop;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Spins until cond(p, arg) holds or SPIN_NS pass; true if it holds. */
static bool spin_until(struct hwk_pool *p, bool (*cond)(struct hwk_pool *, uint64_t), uint64_t arg)
{
	long t0 = 0;
	for (unsigned i = 0;; i++) {
		if (cond(p, arg))
			return true;
		if ((i & 63) == 63) {
			long t = now_ns();
			if (!t0)
				t0 = t;
			else if (t - t0 > SPIN_NS)
				return false;
		}
		cpu_relax();
	}
}

/* seq_cst loads: each pairs with a store on the other side in a
 * store-then-load handshake (sleepers/job, caller_asleep/job). */
static bool has_work(struct hwk_pool *p, uint64_t seen_gen)
{
	return (atomic_load(&p->job) >> 32) != seen_gen || atomic_load(&p->stop);
}

static bool all_done(struct hwk_pool *p, uint64_t unused)
{
	(void)unused;
	return (atomic_load(&p->job) & JOB_COUNT) == 0;
}

static void drain(struct hwk_pool *p, hwk_task_fn task, void *ctx, size_t n)
{
	size_t i;
	while ((i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed)) < n)
		task(ctx, i);
}

static void *worker(void *arg)
{
	struct hwk_pool *p = arg;
	uint64_t seen = 0;
	for (;;) {
		if (!spin_until(p, has_work, seen)) {
			pthread_mutex_lock(&p->mu);
			atomic_fetch_add(&p->sleepers, 1);
			while (!has_work(p, seen))
				pthread_cond_wait(&p->work, &p->mu);
			atomic_fetch_sub(&p->sleepers, 1);
			pthread_mutex_unlock(&p->mu);
		}
		if (atomic_load(&p->stop))
			break;
		uint64_t j = atomic_load(&p->job);
		seen = j >> 32;
		bool joined = false;
		while (!(j & JOB_CLOSED) && (j >> 32) == seen)
			if (atomic_compare_exchange_weak(&p->job, &j, j + 1)) {
				joined = true;
				break;
			}
		if (!joined)
			continue;
		drain(p, p->task, p->ctx, p->n);
		uint64_t left = atomic_fetch_sub(&p->job, 1) - 1;
		if ((left & JOB_COUNT) == 0 && (left & JOB_CLOSED) && atomic_load(&p->caller_asleep)) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->done);
			pthread_mutex_unlock(&p->mu);
		}
	}
	return NULL;
}

static void pool_run(void *impl, size_t n, hwk_task_fn task, void *ctx)
{
	struct hwk_pool *p = impl;
	/* The previous job is closed with no worker inside: nobody reads these. */
	p->task = task;
	p->ctx = ctx;
	p->n = n;
	atomic_store_explicit(&p->next, 0, memory_order_relaxed);
	uint64_t gen = (atomic_load_explicit(&p->job, memory_order_relaxed) >> 32) + 1;
	atomic_store(&p->job, (gen & 0xffffffffu) << 32);
	if (atomic_load(&p->sleepers)) {
		pthread_mutex_lock(&p->mu);
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mu);
	}

	drain(p, task, ctx, n); /* the caller works too */

	if ((atomic_fetch_or(&p->job, JOB_CLOSED) & JOB_COUNT) == 0 || spin_until(p, all_done, 0))
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->caller_asleep, true);
	while (!all_done(p, 0))
		pthread_cond_wait(&p->done, &p->mu);
	atomic_store(&p->caller_asleep, false);
	pthread_mutex_unlock(&p->mu);
}

struct hwk_pool *hwk_pool_create(size_t threads)
{
	struct hwk_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (threads == 0)
		threads = 1;
	p->nthreads = threads - 1;
	p->par = (struct hwk_parallel){ pool_run, p, threads };
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->threads = calloc(p->nthreads ? p->nthreads : 1, sizeof(pthread_t));
	if (!p->threads) {
		hwk_pool_destroy(p);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < p->nthreads; i++) {
		int rc = pthread_create(&p->threads[i], NULL, worker, p);
		if (rc != 0) {
			p->nthreads = i;
			hwk_pool_destroy(p);
			errno = rc;
			return NULL;
		}
	}
	return p;
}

void hwk_pool_destroy(struct hwk_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->stop, true);
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; p->threads && i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p->threads);
	free(p);
}

const struct hwk_parallel *hwk_pool_parallel(struct hwk_pool *p)
{
	return &p->par;
}
