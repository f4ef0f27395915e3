/* The policies' settings: sections [policy], [dvfs], [thermal], [battery],
 * [autoscale] and [affinity] of hwoptd.conf. Parsed here (not in the
 * daemon's config.c) so that policy.set, a reload and `hwoptd --simulate
 * --config FILE` validate the same way. Pure: no I/O. */
#ifndef HWOPT_POL_CONFIG_H
#define HWOPT_POL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

enum pol_profile { POL_POWER_SAVER, POL_BALANCED, POL_PERFORMANCE, POL_N_PROFILES };
const char *pol_profile_name(enum pol_profile p); /* "power-saver", ... */
int pol_profile_parse(const char *s, enum pol_profile *out); /* 0 or -EINVAL */

enum pol_thermal_mode { POL_THERMAL_STEP, POL_THERMAL_PID };
const char *pol_thermal_mode_name(enum pol_thermal_mode m); /* "step", "pid" */
/* Where a class of jobs should run. */
enum pol_placement { POL_PLACE_ANY, POL_PLACE_PERFORMANCE, POL_PLACE_EFFICIENCY };
const char *pol_placement_name(enum pol_placement p); /* "any", "performance", "efficiency" */

#define POL_ZONE_RULES 8

/* A [thermal] zone.TYPE = passive,critical override (trips from config). */
struct pol_zone_rule {
	char type[32];
	double passive_c, critical_c; /* NAN: keep the firmware's */
};

struct pol_config {
	/* [policy] */
	bool enabled;            /* run the engine at all */
	bool dry_run;            /* advice mode: decide and report, never write */
	bool restore_on_exit;    /* put every setting back at exit and after a crash */
	enum pol_profile profile;/* the base profile (profile.set changes it) */
	uint32_t explain_history;/* decisions policy.explain keeps */
	bool autotune;           /* measure threads per instance for each model once */

	/* [dvfs] */
	bool dvfs;
	double idle_s;           /* queue empty this long: idle level */
	double busy_s;           /* queue non-empty this long: boost level */
	double hold_s;           /* hysteresis: a level is kept at least this long */
	double power_saver_freq_ratio; /* generic cpufreq: power-saver's max freq / hw max */
	double idle_freq_ratio;  /* generic cpufreq: idle cap / hw max */
	bool memory_bound;       /* cap frequency in memory-bound phases */
	double memory_bound_ipc;        /* IPC below this ... */
	double memory_bound_miss_ratio; /* ... and cache misses / references above */
	double memory_bound_freq_ratio; /* cap: hw max × this */
	double memory_bound_enter_s, memory_bound_exit_s; /* sustained this long */

	/* [thermal] */
	bool thermal;
	enum pol_thermal_mode thermal_mode;
	double margin_c;         /* "near" a passive trip: within this */
	double hysteresis_c;     /* recover below trip - margin - hysteresis */
	double cooldown_s;       /* ... for this long, then one step down */
	uint32_t max_level;      /* escalation levels (step mode) */
	double level_freq_step;  /* each level caps frequency by this more (0.1: 90%, 80%...) */
	double min_freq_ratio;   /* never cap below hw max × this */
	double max_trip_c;       /* trips above this are absurd (ignored) */
	double target_c;         /* PID mode: the temperature to hold (NAN: passive - margin) */
	double pid_kp, pid_ki, pid_kd;
	struct pol_zone_rule zone_rules[POL_ZONE_RULES];
	size_t n_zone_rules;

	/* [battery] */
	bool battery;
	double low_pct, critical_pct;
	double low_workers_ratio; /* active workers at low battery: workers × this */

	/* [autoscale] */
	bool autoscale;
	uint32_t min_workers;    /* >= 1 */
	uint32_t max_workers;    /* 0: all started workers */
	double target_utilization;      /* busy / active, 0 disables the metric */
	double target_queue_per_worker; /* queued / active, 0 disables */
	double target_queue_p95_s;      /* p95 queue time, 0 disables */
	double tolerance_up, tolerance_down;
	double up_window_s, down_window_s;  /* stabilization windows */
	double up_percent;       /* rate: +this % of the period's start ... */
	uint32_t up_workers;     /* ... or +this many, whichever is more, */
	double up_period_s;      /* ... per this period */
	uint32_t down_workers;   /* rate: -this many */
	double down_percent;     /* ... or -this % (0: not used), whichever is more, */
	double down_period_s;    /* ... per this period */

	/* [affinity] */
	bool affinity;
	enum pol_placement place[3]; /* interactive, normal, batch */
	double heavy_ms;         /* a model whose compute p50 is above this is heavy:
	                            it runs on performance cores (0: none is) */
	uint32_t efficiency_capacity_pct; /* cpu_capacity below this % of the max is an E core */
};

void pol_config_defaults(struct pol_config *c);

/* Is section one of the policy sections? */
bool pol_config_section(const char *section);
/* Sets one key from text; 0, -ENOENT (no such key, reason says so) or
 * -EINVAL (bad value, reason says why). Cross-key rules are checked by
 * pol_config_check. */
int pol_config_set(struct pol_config *c, const char *section, const char *key,
		   const char *value, char *reason, size_t reasonlen);
/* Rules between keys (critical_pct < low_pct, min_workers <= max_workers…):
 * 0, or -EINVAL with "[section] key: reason". */
int pol_config_check(const struct pol_config *c, char *reason, size_t reasonlen);

/* One section's keys and values as an object; NULL for an unknown section. */
cJSON *pol_config_section_json(const struct pol_config *c, const char *section);
/* {"policy": {...}, "dvfs": {...}, ...} */
cJSON *pol_config_json(const struct pol_config *c);
/* The section names, NULL-terminated. */
extern const char *const pol_config_sections[];
/* Names ("section.key") of keys that differ, appended to changed. */
void pol_config_diff(const struct pol_config *a, const struct pol_config *b, cJSON *changed);

#endif
