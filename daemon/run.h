/* One run of a model on a gang: a job, or a dynamic batch of jobs stacked
 * along dim 0. Worker side: decode inputs, run, split and encode answers. */
#ifndef HWOPTD_RUN_H
#define HWOPTD_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "gang.h"
#include "telemetry/pmu.h"

struct job;
struct model;
struct sched;

#define RUN_MAX_JOBS 256
#define RUN_MAX_CPUS 256

struct run {
	struct model *model;
	uint32_t inst;                 /* the instance it runs on */
	struct job *jobs[RUN_MAX_JOBS];
	size_t n;
	unsigned n_cancelled;          /* scheduler lock */
	int cancel;                    /* the session's cancel flag (atomic) */
	struct gang gang;
	struct sched *sched;
	int cpus[RUN_MAX_CPUS];
	unsigned n_cpus;
	/* PMU counts of the gang's workers over the model's run: before sums
	 * the readings as each joined (the leader's at the start, a helper's
	 * when recruited), after sums the readings at the end. */
	const struct pmu_events *pmu_ev;     /* NULL: not counting */
	struct pmu_counters *pmu[RUN_MAX_CPUS];
	unsigned n_pmu;
	uint64_t pmu_before[PMU_MAX_EVENTS], pmu_after[PMU_MAX_EVENTS];
};

/* Adds one worker's reading to sums (PMU_NONE sticks). */
void run_pmu_add(uint64_t *sums, const struct pmu_counters *c);
/* Reads worker counters c as it joins run r. */
void run_pmu_join(struct run *r, struct pmu_counters *c);

/* Runs r on the calling worker (the gang's leader) and encodes every job's
 * answer into job->line. */
void run_execute(struct run *r);

#endif
