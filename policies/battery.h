/* The power-source policy: on battery at or below low_pct, power-saver,
 * fewer workers and batch paused; at or below critical_pct, interactive jobs
 * only; all of it lifted back on AC. Also estimates the battery time left
 * and keeps energy per inference. Pure: no I/O. */
#ifndef HWOPT_POL_BATTERY_H
#define HWOPT_POL_BATTERY_H

#include "policies/plan.h"

enum pol_battery_level { POL_BAT_NORMAL, POL_BAT_LOW, POL_BAT_CRITICAL };

struct pol_battery_state {
	enum pol_battery_level level;
	bool on_battery;
	double capacity_pct;           /* NAN: no battery */
	double time_remaining_s;       /* NAN: cannot tell */
	const char *time_source;       /* "kernel", "energy/power", "trend", NULL */
	double joules_per_inference;   /* the latest known, NAN: none */
	/* trend: capacity over time while discharging */
	double trend_t0, trend_pct0;   /* NAN: no start point */
	char why[POL_REASON];          /* the level's reason ("on AC", "on battery at 18% (low at 20%)") */
};

void pol_battery_init(struct pol_battery_state *st);
void pol_battery_step(const struct pol_config *c, const struct pol_inputs *in,
		      struct pol_battery_state *st, struct pol_plan *p);
const char *pol_battery_level_name(enum pol_battery_level l); /* normal, low, critical */
/* {level, on_battery, capacity_pct, time_remaining_seconds, time_remaining_source,
 * joules_per_inference, reason} */
cJSON *pol_battery_json(const struct pol_battery_state *st);

#endif
