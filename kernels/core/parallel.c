/* Parallel-for, and the plain pthread pool that tests and benches drive
 * kernels with (the daemon brings its own pinned pool). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

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

struct hwk_pool {
	struct hwk_parallel par;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	pthread_t *threads;
	size_t nthreads;      /* workers, not counting the caller */
	/* The current job; a new generation wakes the workers. */
	unsigned long gen;
	hwk_task_fn task;
	void *ctx;
	size_t n;
	atomic_size_t next;   /* next task index to claim */
	size_t active;        /* workers still inside the current job */
	bool stop;
};

static void drain(struct hwk_pool *p, hwk_task_fn task, void *ctx, size_t n)
{
	size_t i;
	while ((i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed)) < n)
		task(ctx, i);
}

static void *worker(void *arg)
{
	struct hwk_pool *p = arg;
	unsigned long seen = 0;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->gen == seen)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		seen = p->gen;
		hwk_task_fn task = p->task;
		void *ctx = p->ctx;
		size_t n = p->n;
		pthread_mutex_unlock(&p->mu);
		drain(p, task, ctx, n);
		pthread_mutex_lock(&p->mu);
		if (--p->active == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void pool_run(void *impl, size_t n, hwk_task_fn task, void *ctx)
{
	struct hwk_pool *p = impl;
	pthread_mutex_lock(&p->mu);
	p->task = task;
	p->ctx = ctx;
	p->n = n;
	atomic_store_explicit(&p->next, 0, memory_order_relaxed);
	p->active = p->nthreads;
	p->gen++;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);

	drain(p, task, ctx, n); /* the caller works too */

	pthread_mutex_lock(&p->mu);
	while (p->active > 0)
		pthread_cond_wait(&p->done, &p->mu);
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
	p->stop = true;
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
