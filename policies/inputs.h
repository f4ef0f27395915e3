/* What the policies see of one telemetry snapshot, parsed from the snapshot
 * JSON the daemon keeps (and trace.record writes), so that the live engine
 * and an offline replay read exactly the same figures. Pure: no I/O.
 *
 * Every group has its own `available`; a figure a source could not read is
 * NAN (doubles) or -1 (integers), never a made-up default. */
#ifndef HWOPT_POL_INPUTS_H
#define HWOPT_POL_INPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define POL_MAX_CPUS 256
#define POL_MAX_ZONES 32
#define POL_MAX_TRIPS 12
#define POL_MAX_SUPPLIES 8
#define POL_MAX_CHOICES 12
#define POL_MAX_WORKERS 256
#define POL_MAX_MODELS 32
#define POL_MODEL_NAME 65
#define POL_WORD 32   /* governor, EPP, profile names */
#define POL_REASON 160

struct pol_cpu {
	int cpu;
	bool online;
	int capacity;          /* cpu_capacity, -1 unknown */
	double cur_hz, min_hz, max_hz, hw_min_hz, hw_max_hz; /* NAN unknown */
	char governor[POL_WORD]; /* "" unknown */
	char epp[POL_WORD];      /* "" none */
};

struct pol_trip {
	char type[POL_WORD];   /* passive, active, hot, critical */
	double temp_c;         /* NAN unknown */
	double hyst_c;         /* NAN unknown */
};

struct pol_zone {
	int zone;              /* thermal_zoneN */
	char type[POL_WORD];   /* x86_pkg_temp, acpitz... */
	double temp_c;         /* NAN unknown */
	struct pol_trip trips[POL_MAX_TRIPS];
	size_t n_trips;
};

struct pol_supply {
	char name[POL_WORD];
	char type[POL_WORD];   /* Battery, Mains, USB... */
	char status[POL_WORD]; /* Discharging, Charging, Full, ... ("" unknown) */
	int online;            /* Mains/USB: 1/0, -1 unknown */
	double capacity_pct, energy_wh, power_w, time_to_empty_s; /* NAN unknown */
};

struct pol_inputs {
	uint64_t seq;
	double time;           /* snapshot wall time, seconds; the engine's clock */
	double interval_s;

	/* cpufreq */
	bool cpufreq_available;
	char driver[POL_WORD];
	char epp_choices[POL_MAX_CHOICES][POL_WORD];
	size_t n_epp_choices;
	char governor_choices[POL_MAX_CHOICES][POL_WORD];
	size_t n_governor_choices;
	struct pol_cpu cpus[POL_MAX_CPUS];
	size_t n_cpus;

	/* thermal */
	bool thermal_available;
	struct pol_zone zones[POL_MAX_ZONES];
	size_t n_zones;

	/* battery and platform_profile */
	bool battery_available;
	struct pol_supply supplies[POL_MAX_SUPPLIES];
	size_t n_supplies;
	bool platform_profile_available;
	char platform_profile[POL_WORD];
	char platform_choices[POL_MAX_CHOICES][POL_WORD];
	size_t n_platform_choices;


	/* perf: the workers' counts summed (cumulative since the daemon
	 * started; NAN when an event is not counted) */
	bool pmu_available;
	char pmu_reason[POL_REASON]; /* why not, when !pmu_available */
	double cycles, instructions, cache_references, cache_misses;

	/* daemon */
	bool daemon_available;
	uint32_t workers;         /* started */
	uint32_t active;          /* not parked */
	double busy;              /* busy workers now */
	double busy_avg;          /* mean busy workers over the interval, NAN unknown */
	uint32_t queued[3];       /* interactive, normal, batch */
	double jobs_per_s;        /* NAN unknown */
	double latency_p99_s;     /* NAN unknown */
	double queue_p95_s;       /* queue time p95 over the interval, NAN unknown */
	double joules_per_inference; /* NAN unknown */
	int worker_cpus[POL_MAX_WORKERS]; /* -1 unpinned */
	size_t n_worker_cpus;
	/* hwloc's cpukinds of each worker's core, where it knows more than one
	 * kind: 0 unknown, 1 performance, 2 efficiency (enum pol_core_kind) */
	uint8_t worker_kind[POL_MAX_WORKERS];
	int allowed_cpus[POL_MAX_CPUS];   /* the daemon's cpuset */
	size_t n_allowed_cpus;
	struct {
		char name[POL_MODEL_NAME];
		double compute_p50_s;     /* since the model loaded */
	} models[POL_MAX_MODELS];
	size_t n_models;
};

/* Fills in from a snapshot {seq, time, interval_ms, sources: {...}}. Parts
 * that are missing or unavailable leave their group unavailable. Returns 0,
 * or -EINVAL with err when snap is not a snapshot at all (no numeric time). */
int pol_inputs_parse(const cJSON *snap, struct pol_inputs *in, char *err, size_t errlen);

/* On battery: a battery discharges and no Mains or USB supply is online
 * (UPower's rule). No supplies at all: false. */
bool pol_on_battery(const struct pol_inputs *in);
/* The lowest capacity among batteries, NAN when there is none. */
double pol_battery_pct(const struct pol_inputs *in);

#endif
