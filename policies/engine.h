/* The policy engine: one tick turns a snapshot (and the holds) into a plan,
 * policy by policy in a fixed order - thermal, battery, profile, DVFS,
 * autoscale, affinity - and the plan into actions: each a change from what
 * the engine last commanded (at first, what the snapshot showed), with the
 * policy that decided, its reason and the inputs it looked at. The engine
 * applies nothing: the daemon's actuators do, and an offline replay just
 * prints them. Pure and deterministic: the same snapshots and config give
 * the same actions. */
#ifndef HWOPT_POL_ENGINE_H
#define HWOPT_POL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "policies/inputs.h"
#include "policies/plan.h"
#include "policies/pol_config.h"
#include "policies/profile.h"

enum pol_action_kind {
	POL_ACT_SYSFS,      /* write `to` to sysfs file `setting` */
	POL_ACT_WORKERS,    /* set the active (unparked) workers to `value` */
	POL_ACT_CLASSES,    /* let only job classes `value` (POL_CLASS_*) start */
	POL_ACT_ACCEPT,     /* worker `index` takes classes `value` (| POL_ACCEPT_HEAVY) */
	POL_ACT_PIN,        /* pin worker `index` to CPU `value` */
	POL_ACT_HEAVY,      /* model `setting` "model.NAME.heavy" runs on performance cores: `value` 1/0 */
	POL_ACT_PROFILE,    /* the profile in force changed to `to` (no write of its own) */
	POL_ACT_NOTE,       /* nothing to do: a policy skipped or distrusted something */
};
const char *pol_action_kind_name(enum pol_action_kind k);

struct pol_action {
	enum pol_action_kind kind;
	enum pol_source by;
	char setting[128];  /* sysfs path relative to the root, or "workers.active",
			       "classes", "worker.N.accept", "worker.N.cpu", "profile", "note" */
	char from[64], to[64];
	int index;          /* worker (ACCEPT, PIN), CPU (SYSFS cpufreq), else -1 */
	uint32_t value;     /* WORKERS, CLASSES, ACCEPT, PIN */
	char reason[POL_REASON];
	cJSON *inputs;      /* owned: the figures the decision looked at */
};

struct pol_engine;

struct pol_engine *pol_engine_new(void);
void pol_engine_free(struct pol_engine *e);

/* One tick. *acts (an array owned by the engine, valid until the next tick)
 * gets the actions; returns how many. Ticks must come in time order; a
 * snapshot no newer than the last is ignored (0 actions). */
size_t pol_engine_tick(struct pol_engine *e, const struct pol_config *c, const struct pol_inputs *in,
		       const struct pol_holds *h, struct pol_action **acts);

/* An action the daemon could not apply: the engine forgets it commanded it,
 * so the value it believes in force stays the old one (a later tick retries
 * only when the plan changes again). */
void pol_engine_failed(struct pol_engine *e, const struct pol_action *a);

/* The latest plan (after a tick), and the inputs it was made from. */
const struct pol_plan *pol_engine_plan(const struct pol_engine *e);
const struct pol_inputs *pol_engine_inputs(const struct pol_engine *e);
uint64_t pol_engine_ticks(const struct pol_engine *e);

/* The thermal and battery policies' state (levels, estimates). */
struct pol_thermal_state;
struct pol_battery_state;
const struct pol_thermal_state *pol_engine_thermal(const struct pol_engine *e);
const struct pol_battery_state *pol_engine_battery(const struct pol_engine *e);

/* Seconds spent under a cap (frequency, workers, job classes or forced
 * power-saver), by the policy that set it: thermal, battery, and the DVFS
 * memory-bound frequency cap - out[POL_N_SRC] by source. */
void pol_engine_throttled(const struct pol_engine *e, double out[POL_N_SRC]);

/* {profile, caps, thermal, battery, dvfs, autoscale, affinity}: the state
 * policy.get shows. */
cJSON *pol_engine_state_json(const struct pol_engine *e, const struct pol_config *c);

/* One action as a decision object: {time, seq, policy, kind, setting, from,
 * to, reason, inputs}. */
cJSON *pol_action_json(const struct pol_action *a, double time, uint64_t seq);

#endif
