/* The thermal policy (safety first): escalate fast near a passive trip,
 * recover one step at a time after a cooldown, or hold a target with PID;
 * at a critical trip only interactive jobs run and power-saver is forced.
 * Pure: no I/O. */
#ifndef HWOPT_POL_THERMAL_H
#define HWOPT_POL_THERMAL_H

#include "policies/plan.h"

struct pol_thermal_state {
	uint32_t level;          /* step mode: 0 (none) .. max_level */
	bool critical;
	double cool_since;       /* time the hottest zone went below the recovery line, NAN: not below */
	double last_time;        /* the previous tick's time, NAN before the first */
	double crit_cool_since;  /* critical: time every zone went below critical - margin - hysteresis,
	                          * NAN: not below */
	/* PID mode */
	double integral, prev_err, ratio; /* ratio: the cap in force (1: none) */
	/* the hottest zone relative to its passive trip, for policy.get */
	int hot_zone;            /* -1: none */
	char hot_type[POL_WORD];
	double hot_temp_c, hot_passive_c, hot_critical_c;
	/* zones with ignored (absurd) trips at the last tick, bit per zone index < 64 */
	uint64_t warned;
};

void pol_thermal_init(struct pol_thermal_state *st);
void pol_thermal_step(const struct pol_config *c, const struct pol_inputs *in,
		      struct pol_thermal_state *st, struct pol_plan *p);
/* {mode, level, critical, cap_ratio, hottest: {zone, type, temp_celsius, passive_celsius, critical_celsius}} */
cJSON *pol_thermal_json(const struct pol_config *c, const struct pol_thermal_state *st);

#endif
