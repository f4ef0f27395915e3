/* Core affinity: which workers take which jobs, and where workers run.
 * Workers on performance cores take interactive jobs and heavy models',
 * workers on efficiency cores take batch jobs (the [affinity] rules say
 * which class goes where); a class whose kind of core has no active worker
 * falls back to every worker. A core's kind comes from cpu_capacity (below
 * efficiency_capacity_pct of the largest) or hwloc's cpukinds. When the
 * daemon's cpuset loses a worker's CPU, workers are re-pinned over the
 * CPUs that remain. Pure: no I/O. */
#ifndef HWOPT_POL_AFFINITY_H
#define HWOPT_POL_AFFINITY_H

#include "policies/plan.h"

enum pol_core_kind { POL_CORE_UNKNOWN, POL_CORE_PERFORMANCE, POL_CORE_EFFICIENCY };

struct pol_affinity_state {
	enum pol_core_kind kind[POL_MAX_WORKERS]; /* as of the last tick */
	size_t n;
	bool hybrid;                              /* both kinds present */
};

void pol_affinity_init(struct pol_affinity_state *st);
/* Runs after autoscale (p->active_workers says which workers stay: the
 * first n). */
void pol_affinity_step(const struct pol_config *c, const struct pol_inputs *in,
		       struct pol_affinity_state *st, struct pol_plan *p);
const char *pol_core_kind_name(enum pol_core_kind k); /* unknown, performance, efficiency */
/* {hybrid, workers: [{worker, cpu, kind, accept: [...], heavy}]} */
cJSON *pol_affinity_json(const struct pol_affinity_state *st, const struct pol_plan *p,
			 const struct pol_inputs *in);

#endif
