/* Workload-aware DVFS within the profile: the queue empty for idle_s gives
 * the idle level (a lower EPP or a frequency cap), a queue that stays for
 * busy_s the boost level; a memory-bound phase (low IPC and a high cache
 * miss ratio over the interval, from the workers' PMU counts) caps the
 * frequency by memory_bound_freq_ratio. Every switch has hysteresis. Pure. */
#ifndef HWOPT_POL_DVFS_H
#define HWOPT_POL_DVFS_H

#include "policies/plan.h"

struct pol_dvfs_state {
	enum pol_dvfs_level level;
	double level_since;       /* the last switch, NAN before the first (no hold) */
	double empty_since;       /* queue empty since, NAN: not empty */
	double queued_since;      /* queue non-empty since, NAN: empty */
	bool mem_bound;
	double mem_cond_since;    /* the condition for switching holds since, NAN: not */
	double ipc, miss_ratio;   /* last interval's, NAN unknown */
	bool have_prev;
	double prev_cycles, prev_instructions, prev_refs, prev_misses;
	bool pmu_noted;           /* unused: the note is made every tick it holds */
	double last_time;         /* the previous tick's time, NAN before the first */
};

void pol_dvfs_init(struct pol_dvfs_state *st);
void pol_dvfs_step(const struct pol_config *c, const struct pol_inputs *in,
		   struct pol_dvfs_state *st, struct pol_plan *p);
const char *pol_dvfs_level_name(enum pol_dvfs_level l); /* idle, normal, boost */
/* {level, memory_bound, ipc, cache_miss_ratio, pmu} */
cJSON *pol_dvfs_json(const struct pol_inputs *in, const struct pol_dvfs_state *st);

#endif
