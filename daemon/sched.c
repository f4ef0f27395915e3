#include "sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <hwloc.h>
#include <uv.h>

#include "client.h"
#include "daemon.h"
#include "jobs.h"
#include "log.h"
#include "models.h"
#include "run.h"
#include "topology.h"

struct worker {
	struct sched *s;
	pthread_t thread;
	size_t index;
	int cpu;                   /* first PU of its core, -1 when unpinned */
	pid_t tid;                 /* set by the thread itself (atomic) */
	struct pmu_counters *pmu;  /* its PMU counters, once telemetry opened them (atomic) */
	hwloc_bitmap_t cpuset;     /* NULL: unpinned */
	pthread_cond_t cv;
	bool idle;                 /* on the idle stack */
	bool busy;                 /* leading or helping */
	struct gang *join;         /* recruited as a helper of this gang */
	int kick;                  /* set when taken off the idle stack (atomic) */
	struct worker *next_idle;
	bool parked;               /* takes no job and helps no gang (policy) */
	uint32_t accept;           /* classes it takes, bits by class | SCHED_ACCEPT_HEAVY */
};

struct sched {
	struct hwoptd *d;
	pthread_mutex_t lock;
	struct sq *q;
	struct worker *workers;
	size_t n_workers;
	struct worker *idle;        /* stack of idle workers */
	const struct pmu_events *pmu_ev; /* set with the workers' counters (atomic) */
	size_t n_busy;
	uint64_t busy_ns;           /* integral of n_busy over time, up to busy_at */
	uint64_t busy_at;
	size_t n_active;            /* workers not parked */
	uint32_t classes;           /* classes that may start (bits by class) */
	bool stopping;
	/* finished jobs for the loop thread */
	struct job *done, *done_tail;
	uv_async_t async;
	uv_timer_t expiry;          /* answers jobs whose deadline passes in the queue */
	uint64_t expiry_at;         /* the deadline it is armed for */
	bool async_open;
};

#define now_ns jobs_now_ns

/* --- under the lock ----------------------------------------------------- */

/* The instances of m that may run at once: all of them with every worker
 * active, fewer (at least one) while workers are parked. */
static uint32_t inst_limit(const struct sched *s, const struct model *m)
{
	if (s->n_active >= s->n_workers)
		return m->n_inst;
	uint32_t n = (uint32_t)((m->n_inst * s->n_active + s->n_workers - 1) / s->n_workers);
	return n ? n : 1;
}

static bool worker_takes(const struct worker *w, const struct sq_item *it)
{
	const struct job *j = (const struct job *)it;
	if (__atomic_load_n(&j->model->heavy, __ATOMIC_RELAXED))
		return w->accept & SCHED_ACCEPT_HEAVY;
	return w->accept & (1u << it->cls);
}

static bool job_runnable(void *ctx, const struct sq_item *it)
{
	const struct worker *w = ctx;
	const struct sched *s = w->s;
	const struct job *j = (const struct job *)it;
	if (!(s->classes & (1u << it->cls)) || !worker_takes(w, it))
		return false;
	return j->model->free_inst > 0 && j->model->n_inst - j->model->free_inst < inst_limit(s, j->model);
}

/* Busy workers integrated over time: the utilization the autoscaler reads. */
static void busy_change(struct sched *s, long delta)
{
	uint64_t now = now_ns();
	s->busy_ns += (uint64_t)s->n_busy * (now - s->busy_at);
	s->busy_at = now;
	s->n_busy = (size_t)((long)s->n_busy + delta);
}

static void batch_limits(void *ctx, const void *key, uint32_t *max_rows, uint64_t *delay_ns)
{
	const struct model *m = key;
	*max_rows = m->max_batch;
	*delay_ns = m->batch_delay_ns;
}

static void push_done(struct sched *s, struct job *j)
{
	j->state = JOB_DONE;
	j->done_next = NULL;
	if (s->done_tail)
		s->done_tail->done_next = j;
	else
		s->done = j;
	s->done_tail = j;
}

/* Queued jobs whose deadline has passed are answered and never run. */
static bool expire(struct sched *s, uint64_t now)
{
	bool any = false;
	struct sq_item *it;
	while ((it = sq_pop_expired(s->q, now))) {
		struct job *j = (struct job *)it;
		j->outcome = -32004;
		j->end_ns = now;
		push_done(s, j);
		any = true;
	}
	return any;
}

static void remove_idle(struct sched *s, struct worker *w)
{
	for (struct worker **p = &s->idle; *p; p = &(*p)->next_idle)
		if (*p == w) {
			*p = w->next_idle;
			break;
		}
	w->idle = false;
}

/* Takes the top idle worker off the stack, without waking it. */
static struct worker *take_idle(struct sched *s)
{
	struct worker *w = s->idle;
	if (!w)
		return NULL;
	s->idle = w->next_idle;
	w->idle = false;
	return w;
}

/* An idle worker that takes it (affinity), else the top one. */
static struct worker *take_idle_for(struct sched *s, const struct sq_item *it)
{
	for (struct worker *w = s->idle; w; w = w->next_idle)
		if (worker_takes(w, it)) {
			remove_idle(s, w);
			return w;
		}
	return take_idle(s);
}

/* Ends a taken worker's spin or sleep. */
static void wake(struct worker *w)
{
	__atomic_store_n(&w->kick, 1, __ATOMIC_RELEASE);
	pthread_cond_signal(&w->cv);
}

/* The gang's first parallel loop with more than one task: takes up to its
 * wanted helpers from the idle workers (under the lock) and wakes them. */
static unsigned recruit(struct gang *g, void *ctx)
{
	struct run *r = ctx;
	struct sched *s = r->sched;
	unsigned n = 0;
	pthread_mutex_lock(&s->lock);
	struct worker *h;
	/* A recruit may start helping at once; gang_end, which counts them,
	 * runs on this thread after we return. */
	while (n < g->want && r->n_cpus < RUN_MAX_CPUS && (h = take_idle(s))) {
		h->busy = true;
		h->join = g;
		run_pmu_join(r, __atomic_load_n(&h->pmu, __ATOMIC_ACQUIRE));
		r->cpus[r->n_cpus++] = h->cpu;
		wake(h);
		n++;
	}
	g->helpers = n;
	busy_change(s, (long)n);
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Builds a run from picked jobs: takes an instance. */
static struct run *start_run(struct sched *s, struct worker *w, struct sq_item **items, size_t n,
			     uint64_t now)
{
	struct job *first = (struct job *)items[0];
	struct model *m = first->model;
	struct run *r = calloc(1, sizeof(*r));
	if (!r) {
		for (size_t i = 0; i < n; i++) {
			struct job *j = (struct job *)items[i];
			j->outcome = -32603;
			j->end_ns = now;
			push_done(s, j);
		}
		return NULL;
	}
	r->model = m;
	for (uint32_t i = 0; i < m->n_inst; i++)
		if (!m->inst[i].busy) {
			r->inst = i;
			break;
		}
	m->inst[r->inst].busy = true;
	m->free_inst--;
	for (size_t i = 0; i < n; i++) {
		struct job *j = (struct job *)items[i];
		j->state = JOB_RUNNING;
		j->start_ns = now;
		j->run = r;
		r->jobs[i] = j;
		if (__atomic_load_n(&j->cancel, __ATOMIC_RELAXED))
			r->n_cancelled++;
	}
	r->n = n;
	if (r->n_cancelled == n)
		r->cancel = 1;
	r->cpus[r->n_cpus++] = w->cpu;
	r->sched = s;
	/* The leader's counters come first; run_execute reads them. */
	r->pmu_ev = __atomic_load_n(&s->pmu_ev, __ATOMIC_ACQUIRE);
	struct pmu_counters *lc = __atomic_load_n(&w->pmu, __ATOMIC_ACQUIRE);
	if (r->pmu_ev && lc)
		r->pmu[r->n_pmu++] = lc;
	uint32_t spin = s->d->cfg.spin_us * 200u; /* ~5 ns a poll */
	/* Kernels size their tasks by the threads the gang may have; helpers
	 * join only when a parallel loop has work for them (recruit), so a
	 * model too small to split never wakes a second worker. */
	gang_init(&r->gang, m->threads > 1 ? m->threads - 1 : 0, spin ? spin : 1);
	r->gang.helpers = 0;
	r->gang.recruit = recruit;
	r->gang.recruit_ctx = r;
	busy_change(s, 1);
	return r;
}

static void end_run(struct sched *s, struct run *r, uint64_t now)
{
	struct model *m = r->model;
	struct hwrt_run_stats st;
	hwrt_session_stats(m->inst[r->inst].session, &st);
	m->inst[r->inst].arena_bytes = st.arena_bytes;
	m->inst[r->inst].busy = false;
	m->free_inst++;
	busy_change(s, -(long)(1 + r->gang.helpers));
	if (r->n > 1)
		__atomic_add_fetch(&m->c.batches, 1, __ATOMIC_RELAXED);
	for (size_t i = 0; i < r->n; i++) {
		r->jobs[i]->run = NULL;
		r->jobs[i]->n_workers = (uint16_t)r->n_cpus;
		push_done(s, r->jobs[i]);
	}
}

/* --- workers ------------------------------------------------------------- */

static void pin(struct worker *w)
{
	if (!w->cpuset)
		return;
	hwloc_topology_t topo = hwoptd_topology_hwloc(w->s->d->topo);
	if (hwloc_set_cpubind(topo, w->cpuset, HWLOC_CPUBIND_THREAD) < 0)
		log_warning("worker %zu: cannot pin to CPU %d: %s", w->index, w->cpu, strerror(errno));
}

static void wait_idle(struct sched *s, struct worker *w, uint64_t wake_at)
{
	w->idle = true;
	w->busy = false;
	w->next_idle = s->idle;
	s->idle = w;
	__atomic_store_n(&w->kick, 0, __ATOMIC_RELAXED);
	/* Poll briefly first: a job that arrives within spin_us starts without
	 * a sleep and a wake-up. */
	uint64_t spin_ns = (uint64_t)s->d->cfg.spin_us * 1000u;
	if (spin_ns) {
		pthread_mutex_unlock(&s->lock);
		uint64_t until = now_ns() + spin_ns;
		while (!__atomic_load_n(&w->kick, __ATOMIC_ACQUIRE) && now_ns() < until)
			for (int k = 0; k < 64; k++)
				gang_cpu_relax();
		pthread_mutex_lock(&s->lock);
	}
	if (w->idle && !s->stopping) {
		if (wake_at == UINT64_MAX) {
			pthread_cond_wait(&w->cv, &s->lock);
		} else {
			struct timespec ts = { (time_t)(wake_at / 1000000000u),
					       (long)(wake_at % 1000000000u) };
			pthread_cond_timedwait(&w->cv, &s->lock, &ts);
		}
	}
	if (w->idle)
		remove_idle(s, w);
}

static void wake_loop(struct sched *s)
{
	uv_async_send(&s->async);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct sched *s = w->s;
	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	pin(w);
	pthread_mutex_lock(&s->lock);
	for (;;) {
		if (w->join) {
			struct gang *g = w->join;
			pthread_mutex_unlock(&s->lock);
			gang_help(g);
			pthread_mutex_lock(&s->lock);
			w->join = NULL;
			w->busy = false;
			continue;
		}
		if (s->stopping)
			break;
		if (w->parked) {
			/* Parked: off the idle stack, so neither a job nor a gang
			 * finds it, until unparked. */
			pthread_cond_wait(&w->cv, &s->lock);
			continue;
		}
		uint64_t now = now_ns();
		bool finished = expire(s, now);
		struct sq_item *items[RUN_MAX_JOBS];
		uint64_t wake_at = UINT64_MAX;
		const struct sq_ops ops = { job_runnable, batch_limits, w };
		size_t n = sq_pick(s->q, now, &ops, items, RUN_MAX_JOBS, &wake_at);
		if (n) {
			w->busy = true;
			struct run *r = start_run(s, w, items, n, now);
			pthread_mutex_unlock(&s->lock);
			if (r)
				run_execute(r);
			else
				wake_loop(s);
			pthread_mutex_lock(&s->lock);
			if (r) {
				end_run(s, r, now_ns());
				pthread_mutex_unlock(&s->lock);
				/* The answers are ready: send them before waiting
				 * for the helpers to leave. */
				wake_loop(s);
				gang_end(&r->gang);
				free(r);
				pthread_mutex_lock(&s->lock);
			}
			continue;
		}
		if (finished) {
			pthread_mutex_unlock(&s->lock);
			wake_loop(s);
			pthread_mutex_lock(&s->lock);
			continue;
		}
		wait_idle(s, w, wake_at);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* --- loop side ----------------------------------------------------------- */

/* Hands finished jobs to the loop thread in the order they ended. */
static void drain_done(struct sched *s)
{
	pthread_mutex_lock(&s->lock);
	struct job *j = s->done;
	s->done = s->done_tail = NULL;
	pthread_mutex_unlock(&s->lock);
	while (j) {
		struct job *next = j->done_next;
		jobs_finish(s->d, j);
		j = next;
	}
}

static void on_async(uv_async_t *a)
{
	drain_done(a->data);
}

/* Deadlines of queued jobs pass while every worker is busy: a timer answers
 * them then, at most a few milliseconds late. */
static void on_expiry(uv_timer_t *t);

static void arm_expiry(struct sched *s, uint64_t next)
{
	if (next == UINT64_MAX) {
		uv_timer_stop(&s->expiry);
		return;
	}
	uint64_t now = now_ns();
	uint64_t ms = next > now ? (next - now + 999999) / 1000000 : 0;
	s->expiry_at = next;
	uv_timer_start(&s->expiry, on_expiry, ms, 0);
}

static void on_expiry(uv_timer_t *t)
{
	struct sched *s = t->data;
	pthread_mutex_lock(&s->lock);
	bool any = expire(s, now_ns());
	uint64_t next = sq_next_deadline(s->q);
	pthread_mutex_unlock(&s->lock);
	if (any)
		drain_done(s);
	arm_expiry(s, next);
}

static size_t count_cores(hwloc_topology_t topo)
{
	int n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
	return n > 0 ? (size_t)n : 0;
}

int sched_start(struct hwoptd *d, struct sched **out, char *err, size_t errlen)
{
	struct sched *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->d = d;
	s->classes = SCHED_ALL_CLASSES;
	hwloc_topology_t topo = hwoptd_topology_hwloc(d->topo);
	size_t cores = count_cores(topo);
	s->n_workers = d->cfg.workers ? d->cfg.workers : cores ? cores : 1;
	s->q = sq_new((uint64_t)d->cfg.batch_age_ms * 1000000u);
	s->n_active = s->n_workers;
	s->busy_at = now_ns();
	s->workers = calloc(s->n_workers, sizeof(*s->workers));
	if (!s->q || !s->workers || pthread_mutex_init(&s->lock, NULL) != 0) {
		snprintf(err, errlen, "out of memory");
		sq_free(s->q);
		free(s->workers);
		free(s);
		return -ENOMEM;
	}
	uv_async_init(d->loop, &s->async, on_async);
	s->async.data = s;
	uv_timer_init(d->loop, &s->expiry);
	s->expiry.data = s;
	s->async_open = true;

	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (size_t i = 0; i < s->n_workers; i++) {
		struct worker *w = &s->workers[i];
		w->s = s;
		w->index = i;
		w->cpu = -1;
		w->accept = SCHED_ALL_CLASSES | SCHED_ACCEPT_HEAVY;
		pthread_cond_init(&w->cv, &ca);
		hwloc_obj_t core = cores ? hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)(i % cores))
					 : NULL;
		if (core && core->cpuset) {
			w->cpuset = hwloc_bitmap_dup(core->cpuset);
			w->cpu = hwloc_bitmap_first(core->cpuset);
		}
	}
	pthread_condattr_destroy(&ca);
	for (size_t i = 0; i < s->n_workers; i++) {
		int rc = pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]);
		if (rc != 0) {
			snprintf(err, errlen, "cannot start worker %zu: %s", i, strerror(rc));
			s->n_workers = i;
			sched_stop(s);
			sched_free(s);
			return -rc;
		}
	}
	log_info("scheduler: %zu workers%s", s->n_workers,
		 cores ? ", one per allowed core, pinned" : " (no core topology: unpinned)");
	*out = s;
	return 0;
}

void sched_set_pmu(struct sched *s, const struct pmu_events *ev,
		   struct pmu_counters *(*counters)(const void *ctx, size_t i), const void *ctx)
{
	for (size_t i = 0; i < s->n_workers; i++)
		__atomic_store_n(&s->workers[i].pmu, counters(ctx, i), __ATOMIC_RELEASE);
	__atomic_store_n(&s->pmu_ev, ev, __ATOMIC_RELEASE);
}

pid_t sched_worker_tid(struct sched *s, size_t i)
{
	/* A worker sets its tid first thing; wait the moment it may take. */
	for (int k = 0; k < 10000; k++) {
		pid_t tid = __atomic_load_n(&s->workers[i].tid, __ATOMIC_ACQUIRE);
		if (tid)
			return tid;
		usleep(100);
	}
	return 0;
}

void sched_stop(struct sched *s)
{
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	for (size_t i = 0; i < s->n_workers; i++)
		pthread_cond_signal(&s->workers[i].cv);
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < s->n_workers; i++)
		pthread_join(s->workers[i].thread, NULL);
	drain_done(s);
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_workers; i++) {
		pthread_cond_destroy(&s->workers[i].cv);
		hwloc_bitmap_free(s->workers[i].cpuset);
	}
	free(s->workers);
	sq_free(s->q);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* The handles close with the loop; sched_free waits for that. */
void sched_close_handles(struct sched *s)
{
	if (!s->async_open)
		return;
	s->async_open = false;
	uv_close((uv_handle_t *)&s->async, NULL);
	uv_close((uv_handle_t *)&s->expiry, NULL);
}

int sched_submit(struct sched *s, struct job *j)
{
	pthread_mutex_lock(&s->lock);
	if (sq_len(s->q) >= s->d->cfg.max_queue) {
		pthread_mutex_unlock(&s->lock);
		return -EAGAIN;
	}
	j->state = JOB_QUEUED;
	int rc = sq_push(s->q, &j->q);
	struct worker *w = rc == 0 ? take_idle_for(s, &j->q) : NULL;
	if (w)
		wake(w);
	uint64_t next = j->q.deadline_ns ? sq_next_deadline(s->q) : UINT64_MAX;
	pthread_mutex_unlock(&s->lock);
	/* Deadlines may pass while every worker is busy: the timer answers them. */
	if (next != UINT64_MAX && (!uv_is_active((uv_handle_t *)&s->expiry) ||
				   next < s->expiry_at))
		arm_expiry(s, next);
	return rc;
}

int sched_cancel(struct sched *s, struct job *j)
{
	pthread_mutex_lock(&s->lock);
	int st = j->state;
	if (st == JOB_QUEUED) {
		sq_remove(s->q, &j->q);
		j->state = JOB_DONE;
	} else if (st == JOB_RUNNING && !__atomic_exchange_n(&j->cancel, 1, __ATOMIC_RELAXED)) {
		struct run *r = j->run;
		if (++r->n_cancelled == r->n)
			__atomic_store_n(&r->cancel, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&s->lock);
	return st;
}

int sched_job_state(struct sched *s, const struct job *j)
{
	pthread_mutex_lock(&s->lock);
	int st = j->state;
	pthread_mutex_unlock(&s->lock);
	return st;
}

size_t sched_n_workers(const struct sched *s)
{
	return s->n_workers;
}

int sched_worker_cpu(const struct sched *s, size_t i)
{
	return i < s->n_workers ? s->workers[i].cpu : -1;
}

void sched_set_model_threads(struct sched *s, struct model *m, uint32_t threads)
{
	pthread_mutex_lock(&s->lock);
	m->threads = threads ? threads : 1;
	pthread_mutex_unlock(&s->lock);
}

size_t sched_model_arenas(struct sched *s, const struct model *m)
{
	size_t total = 0;
	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < m->n_inst; i++)
		total += m->inst[i].arena_bytes;
	pthread_mutex_unlock(&s->lock);
	return total;
}

void sched_model_counts(struct sched *s, const struct model *m, unsigned *queued,
			unsigned *running)
{
	*queued = *running = 0;
	pthread_mutex_lock(&s->lock);
	for (struct client *c = s->d->clients; c; c = c->next)
		for (struct job *j = c->jobs; j; j = j->cnext)
			if (j->model == m) {
				*queued += j->state == JOB_QUEUED;
				*running += j->state == JOB_RUNNING;
			}
	pthread_mutex_unlock(&s->lock);
}

cJSON *sched_json(struct sched *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *q = cJSON_AddObjectToObject(o, "queued");
	cJSON *cpus = cJSON_AddArrayToObject(o, "cpus");
	pthread_mutex_lock(&s->lock);
	cJSON_AddNumberToObject(o, "workers", (double)s->n_workers);
	cJSON_AddNumberToObject(o, "active", (double)s->n_active);
	cJSON_AddNumberToObject(o, "busy", (double)s->n_busy);
	for (int c = 0; c < SQ_N_CLASSES; c++)
		cJSON_AddNumberToObject(q, sched_class_name((enum sched_class)c),
					(double)sq_len_class(s->q, (enum sched_class)c));
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < s->n_workers; i++)
		cJSON_AddItemToArray(cpus, cJSON_CreateNumber(s->workers[i].cpu));
	return o;
}

/* --- policy hooks -------------------------------------------------------- */

/* Idle workers re-pick after the rules changed (a job they passed over may
 * now be theirs). Under the lock. */
static void wake_all_idle(struct sched *s)
{
	struct worker *w;
	while ((w = take_idle(s)))
		wake(w);
}

void sched_set_active(struct sched *s, size_t n)
{
	if (n < 1)
		n = 1;
	if (n > s->n_workers)
		n = s->n_workers;
	pthread_mutex_lock(&s->lock);
	s->n_active = n;
	for (size_t i = 0; i < s->n_workers; i++) {
		struct worker *w = &s->workers[i];
		bool park = i >= n;
		if (park == w->parked)
			continue;
		w->parked = park;
		if (park && w->idle)
			remove_idle(s, w);
		/* A running worker parks when its job ends; a waiting one now. */
		pthread_cond_signal(&w->cv);
	}
	wake_all_idle(s);
	pthread_mutex_unlock(&s->lock);
}

size_t sched_active(struct sched *s)
{
	pthread_mutex_lock(&s->lock);
	size_t n = s->n_active;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void sched_set_classes(struct sched *s, uint32_t classes)
{
	pthread_mutex_lock(&s->lock);
	s->classes = classes & SCHED_ALL_CLASSES;
	wake_all_idle(s);
	pthread_mutex_unlock(&s->lock);
}

uint32_t sched_classes(struct sched *s)
{
	pthread_mutex_lock(&s->lock);
	uint32_t c = s->classes;
	pthread_mutex_unlock(&s->lock);
	return c;
}

void sched_set_accept(struct sched *s, size_t i, uint32_t accept)
{
	if (i >= s->n_workers)
		return;
	pthread_mutex_lock(&s->lock);
	s->workers[i].accept = accept;
	wake_all_idle(s);
	pthread_mutex_unlock(&s->lock);
}

int sched_pin_worker(struct sched *s, size_t i, int cpu, char *err, size_t errlen)
{
	if (i >= s->n_workers) {
		snprintf(err, errlen, "no worker %zu", i);
		return -EINVAL;
	}
	hwloc_topology_t topo = hwoptd_topology_hwloc(s->d->topo);
	hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo, (unsigned)cpu);
	if (!pu) {
		snprintf(err, errlen, "no CPU %d in the topology", cpu);
		return -EINVAL;
	}
	hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu);
	hwloc_bitmap_t set = hwloc_bitmap_dup(core && core->cpuset ? core->cpuset : pu->cpuset);
	if (!set) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct worker *w = &s->workers[i];
	if (hwloc_set_thread_cpubind(topo, w->thread, set, 0) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot pin worker %zu to CPU %d: %s", i, cpu, strerror(e));
		hwloc_bitmap_free(set);
		return -e;
	}
	pthread_mutex_lock(&s->lock);
	hwloc_bitmap_free(w->cpuset);
	w->cpuset = set;
	w->cpu = cpu;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int sched_workers_numa_node(struct sched *s)
{
	hwloc_topology_t topo = hwoptd_topology_hwloc(s->d->topo);
	if (hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE) < 2)
		return -1;
	hwloc_bitmap_t cpus = hwloc_bitmap_alloc(), nodes = hwloc_bitmap_alloc();
	int node = -1;
	if (cpus && nodes) {
		pthread_mutex_lock(&s->lock);
		for (size_t i = 0; i < s->n_active; i++)
			if (s->workers[i].cpuset)
				hwloc_bitmap_or(cpus, cpus, s->workers[i].cpuset);
		pthread_mutex_unlock(&s->lock);
		hwloc_cpuset_to_nodeset(topo, cpus, nodes);
		if (hwloc_bitmap_weight(nodes) == 1)
			node = hwloc_bitmap_first(nodes);
	}
	hwloc_bitmap_free(cpus);
	hwloc_bitmap_free(nodes);
	return node;
}

uint64_t sched_busy_ns(struct sched *s)
{
	pthread_mutex_lock(&s->lock);
	busy_change(s, 0);
	uint64_t v = s->busy_ns;
	pthread_mutex_unlock(&s->lock);
	return v;
}
