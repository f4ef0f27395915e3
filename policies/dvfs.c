#include "policies/dvfs.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Intervals with less work than this say nothing about the workload. */
#define MEM_MIN_CYCLES 1e6
#define MEM_MIN_REFS 1e3

static const char *const level_names[] = { "idle", "normal", "boost" };

const char *pol_dvfs_level_name(enum pol_dvfs_level l)
{
	return (unsigned)l <= POL_DVFS_BOOST ? level_names[l] : "?";
}

static void mem_reset(struct pol_dvfs_state *st)
{
	st->mem_bound = false;
	st->mem_cond_since = NAN;
	st->ipc = NAN;
	st->miss_ratio = NAN;
	st->have_prev = false;
}

void pol_dvfs_init(struct pol_dvfs_state *st)
{
	memset(st, 0, sizeof(*st));
	st->level = POL_DVFS_NORMAL;
	st->level_since = NAN;
	st->empty_since = NAN;
	st->queued_since = NAN;
	st->last_time = NAN;
	mem_reset(st);
}

/* --- level from the queue ------------------------------------------------------------------ */

static void level_step(const struct pol_config *c, const struct pol_inputs *in,
		       struct pol_dvfs_state *st, struct pol_plan *p)
{
	double now = in->time;
	char why[POL_REASON];

	if (!in->daemon_available) {
		/* No queue to judge: the plain level, which neither caps nor boosts. */
		st->empty_since = NAN;
		st->queued_since = NAN;
		if (st->level != POL_DVFS_NORMAL) {
			st->level = POL_DVFS_NORMAL;
			st->level_since = now;
		}
		p->dvfs_level = st->level;
		pol_why_set(&p->dvfs_why, POL_SRC_DVFS, "queue unknown (daemon figures unavailable)");
		return;
	}

	uint64_t queued = (uint64_t)in->queued[0] + in->queued[1] + in->queued[2];
	/* busy NAN (unknown) is not "empty": never idle on a guess. */
	bool empty = queued == 0 && in->busy == 0;
	bool waiting = queued > 0;
	if (!empty)
		st->empty_since = NAN;
	else if (isnan(st->empty_since))
		st->empty_since = now;
	if (!waiting)
		st->queued_since = NAN;
	else if (isnan(st->queued_since))
		st->queued_since = now;

	enum pol_dvfs_level target = POL_DVFS_NORMAL;
	if (empty && now - st->empty_since >= c->idle_s) {
		target = POL_DVFS_IDLE;
		snprintf(why, sizeof(why), "queue empty for %.0f s", now - st->empty_since);
	} else if (waiting && now - st->queued_since >= c->busy_s) {
		target = POL_DVFS_BOOST;
		snprintf(why, sizeof(why), "%llu jobs queued for %.0f s",
			 (unsigned long long)queued, now - st->queued_since);
	} else if (empty) {
		snprintf(why, sizeof(why), "queue empty for %.0f s (idle after %.0f s)",
			 now - st->empty_since, c->idle_s);
	} else if (waiting) {
		snprintf(why, sizeof(why), "%llu jobs queued for %.0f s (boost after %.0f s)",
			 (unsigned long long)queued, now - st->queued_since, c->busy_s);
	} else if (isnan(in->busy)) {
		snprintf(why, sizeof(why), "nothing queued, busy workers unknown");
	} else {
		snprintf(why, sizeof(why), "%.0f workers busy, nothing queued", in->busy);
	}

	double age = now - st->level_since; /* NAN before the first switch: no hold */
	bool held = false;
	if (target != st->level) {
		/* Leaving idle when work arrives never waits: latency matters more
		 * than a switch saved. */
		bool wake = st->level == POL_DVFS_IDLE && !empty;
		held = age < c->hold_s && !wake;
		if (!held) {
			st->level = target;
			st->level_since = now;
		}
	}
	p->dvfs_level = st->level;
	if (held)
		pol_why_set(&p->dvfs_why, POL_SRC_DVFS, "%s kept %.0f s more (hold %.0f s): %s",
			    pol_dvfs_level_name(st->level), c->hold_s - age, c->hold_s, why);
	else
		pol_why_set(&p->dvfs_why, POL_SRC_DVFS, "%s", why);
}

/* --- memory-bound phases ------------------------------------------------------------------- */

static const char *missing_count(const struct pol_inputs *in)
{
	if (isnan(in->cycles))
		return "cycles";
	if (isnan(in->instructions))
		return "instructions";
	if (isnan(in->cache_references))
		return "cache references";
	if (isnan(in->cache_misses))
		return "cache misses";
	return NULL;
}

static void save_prev(const struct pol_inputs *in, struct pol_dvfs_state *st)
{
	st->have_prev = true;
	st->prev_cycles = in->cycles;
	st->prev_instructions = in->instructions;
	st->prev_refs = in->cache_references;
	st->prev_misses = in->cache_misses;
}

/* Judges the interval since the previous tick; leaves the state alone when
 * there is no interval to judge (first tick, counter reset, too little work). */
static void mem_judge(const struct pol_config *c, const struct pol_inputs *in,
		      struct pol_dvfs_state *st)
{
	if (!st->have_prev) {
		save_prev(in, st);
		return;
	}
	double dcyc = in->cycles - st->prev_cycles;
	double dins = in->instructions - st->prev_instructions;
	double drefs = in->cache_references - st->prev_refs;
	double dmiss = in->cache_misses - st->prev_misses;
	save_prev(in, st);
	/* Counts going backwards: the workers (or the daemon) restarted and
	 * the sums began again; the new values are the next base. */
	if (dcyc < 0 || dins < 0 || drefs < 0 || dmiss < 0)
		return;
	if (dcyc < MEM_MIN_CYCLES || drefs < MEM_MIN_REFS)
		return;

	st->ipc = dins / dcyc;
	st->miss_ratio = dmiss / drefs;
	bool cond = st->ipc < c->memory_bound_ipc && st->miss_ratio > c->memory_bound_miss_ratio;
	if (cond == st->mem_bound) {
		st->mem_cond_since = NAN;
		return;
	}
	if (isnan(st->mem_cond_since))
		st->mem_cond_since = in->time;
	double need = st->mem_bound ? c->memory_bound_exit_s : c->memory_bound_enter_s;
	if (in->time - st->mem_cond_since >= need) {
		st->mem_bound = cond;
		st->mem_cond_since = NAN;
	}
}

static void mem_step(const struct pol_config *c, const struct pol_inputs *in,
		     struct pol_dvfs_state *st, struct pol_plan *p)
{
	if (!c->memory_bound) {
		mem_reset(st);
		return;
	}
	if (!in->pmu_available) {
		pol_note(p, POL_SRC_DVFS, "memory-bound detection skipped: PMU unavailable (%s)",
			 in->pmu_reason[0] ? in->pmu_reason : "no reason given");
		mem_reset(st);
		return;
	}
	const char *missing = missing_count(in);
	if (missing) {
		pol_note(p, POL_SRC_DVFS, "memory-bound detection skipped: %s not counted",
			 missing);
		mem_reset(st);
		return;
	}
	mem_judge(c, in, st);
	if (!st->mem_bound)
		return;
	if (c->memory_bound_freq_ratio < p->mem_cap_ratio)
		p->mem_cap_ratio = c->memory_bound_freq_ratio;
	pol_why_set(&p->mem_why, POL_SRC_DVFS, "memory-bound: IPC %.2f, cache miss ratio %.2f",
		    st->ipc, st->miss_ratio);
}

void pol_dvfs_step(const struct pol_config *c, const struct pol_inputs *in,
		   struct pol_dvfs_state *st, struct pol_plan *p)
{
	/* A clock that goes back is a replay started over: so do we. */
	if (!isnan(st->last_time) && in->time < st->last_time)
		pol_dvfs_init(st);
	st->last_time = in->time;

	if (!c->dvfs) {
		pol_dvfs_init(st);
		st->last_time = in->time;
		p->dvfs_level = POL_DVFS_NORMAL;
		pol_why_set(&p->dvfs_why, POL_SRC_DVFS, "DVFS off");
		return;
	}
	level_step(c, in, st, p);
	mem_step(c, in, st, p);
}

/* --- JSON ---------------------------------------------------------------------------------- */

static cJSON *add_num(cJSON *o, const char *k, double v)
{
	return isnan(v) ? cJSON_AddNullToObject(o, k) : cJSON_AddNumberToObject(o, k, v);
}

cJSON *pol_dvfs_json(const struct pol_inputs *in, const struct pol_dvfs_state *st)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	bool pmu = in && in->pmu_available;
	if (!cJSON_AddStringToObject(o, "level", pol_dvfs_level_name(st->level)) ||
	    !cJSON_AddBoolToObject(o, "memory_bound", st->mem_bound) ||
	    !add_num(o, "ipc", st->ipc) ||
	    !add_num(o, "cache_miss_ratio", st->miss_ratio) ||
	    !cJSON_AddBoolToObject(o, "pmu", pmu) ||
	    (!pmu && in && in->pmu_reason[0] &&
	     !cJSON_AddStringToObject(o, "pmu_reason", in->pmu_reason))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
