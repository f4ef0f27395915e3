/* One run of a model on a gang: a job, or a dynamic batch of jobs stacked
 * along dim 0. Worker side: decode inputs, run, split and encode answers. */
#ifndef HWOPTD_RUN_H
#define HWOPTD_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "gang.h"

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
};

/* Runs r on the calling worker (the gang's leader) and encodes every job's
 * answer into job->line. */
void run_execute(struct run *r);

#endif
