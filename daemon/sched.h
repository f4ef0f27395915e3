/* The scheduler: the queue (sched_queue.h) under one lock, the pinned
 * worker threads that take jobs from it, and the handing back of finished
 * jobs to the loop thread. A job runs on a gang: the worker that picked it
 * leads, and up to its model's threads - 1 idle workers help through the
 * kernels' parallel-for; instances of a model thus run on disjoint workers. */
#ifndef HWOPTD_SCHED_H
#define HWOPTD_SCHED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "sched_queue.h"

struct hwoptd;
struct job;
struct model;

struct sched;

/* Starts cfg.workers workers (0: one per allowed core), each pinned to a
 * core with hwloc. Returns 0 or a negative errno with err. */
int sched_start(struct hwoptd *d, struct sched **out, char *err, size_t errlen);
/* Stops and joins the workers; jobs still queued stay queued (the caller
 * cancels them first). Finished jobs not yet handed back are, at once. */
void sched_stop(struct sched *s);
/* Closes its loop handles (before the loop's last run); then sched_free. */
void sched_close_handles(struct sched *s);
void sched_free(struct sched *s);

/* Queues j. -EAGAIN when the queue holds max_queue jobs, -ENOMEM. */
int sched_submit(struct sched *s, struct job *j);
/* Cancels j under the lock: removes a queued job (and returns JOB_QUEUED:
 * the caller answers it), or flags a running one (JOB_RUNNING). */
int sched_cancel(struct sched *s, struct job *j);
/* The job's state, read under the lock. */
int sched_job_state(struct sched *s, const struct job *j);

size_t sched_n_workers(const struct sched *s);
/* Jobs count PMU events ev on their workers from now on: counters(ctx, i)
 * gives worker i's (NULL: none). The counters must outlive the workers. */
struct pmu_events;
struct pmu_counters;
void sched_set_pmu(struct sched *s, const struct pmu_events *ev,
		   struct pmu_counters *(*counters)(const void *ctx, size_t i), const void *ctx);
/* Worker i's thread id (0 if it never started). */
pid_t sched_worker_tid(struct sched *s, size_t i);
/* The OS index of the first CPU worker i is pinned to (-1: not pinned). */
int sched_worker_cpu(const struct sched *s, size_t i);

/* Under the lock: how many of m's jobs are queued and running. */
void sched_model_counts(struct sched *s, const struct model *m, unsigned *queued,
			unsigned *running);
/* Sets the workers one job of m may use (>= 1), under the lock: jobs
 * that start from now on take it (autotuning). */
void sched_set_model_threads(struct sched *s, struct model *m, uint32_t threads);
/* Arena bytes of m's instances as of their last runs. */
size_t sched_model_arenas(struct sched *s, const struct model *m);
/* {workers, active, busy, queued: {interactive, normal, batch}, cpus}. */
cJSON *sched_json(struct sched *s);

/* --- what the policies change (loop thread) ---
 * Job classes as bits by enum sched_class; a worker's accept mask may also
 * hold SCHED_ACCEPT_HEAVY (it takes the jobs of models marked heavy). */
#define SCHED_ALL_CLASSES 7u
#define SCHED_ACCEPT_HEAVY 8u
/* Workers 0..n-1 take jobs; the others park once their job ends (a running
 * job is never stopped). Models run fewer instances at once in proportion. */
void sched_set_active(struct sched *s, size_t n);
size_t sched_active(struct sched *s);
/* Only these classes start (queued jobs of the others wait; deadlines
 * still expire them). */
void sched_set_classes(struct sched *s, uint32_t classes);
uint32_t sched_classes(struct sched *s);
/* Worker i takes only these classes (| SCHED_ACCEPT_HEAVY). */
void sched_set_accept(struct sched *s, size_t i, uint32_t accept);
/* Pins worker i to the core of CPU cpu. 0 or a negative errno with err. */
int sched_pin_worker(struct sched *s, size_t i, int cpu, char *err, size_t errlen);
/* The NUMA node (OS index) all active workers run on, -1 when they span
 * several or the machine has one node only (nothing to place). */
int sched_workers_numa_node(struct sched *s);
/* Busy workers integrated over time since start, in worker-nanoseconds. */
uint64_t sched_busy_ns(struct sched *s);

#endif
