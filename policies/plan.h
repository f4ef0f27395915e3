/* The plan one engine tick builds: each policy, in order, adds its caps and
 * wishes, and the engine turns the finished plan into actions. Safety caps
 * combine by taking the strictest (lowest frequency, fewest workers, fewest
 * job classes); a later policy cannot loosen them. Every value carries the
 * policy that set it and why. Pure: no I/O. */
#ifndef HWOPT_POL_PLAN_H
#define HWOPT_POL_PLAN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policies/inputs.h"
#include "policies/pol_config.h"

/* Who decided: the engine's order. */
enum pol_source {
	POL_SRC_THERMAL, POL_SRC_BATTERY, POL_SRC_PROFILE, POL_SRC_DVFS,
	POL_SRC_AUTOSCALE, POL_SRC_AFFINITY, POL_N_SRC
};
const char *pol_source_name(enum pol_source s); /* "thermal", ... */

/* Job classes, as bits (sched_queue.h's order). */
#define POL_CLASS_INTERACTIVE 1u
#define POL_CLASS_NORMAL 2u
#define POL_CLASS_BATCH 4u
#define POL_CLASS_ALL 7u
/* A worker's accept mask may also take heavy models' jobs. */
#define POL_ACCEPT_HEAVY 8u

/* DVFS levels within a profile. */
enum pol_dvfs_level { POL_DVFS_IDLE, POL_DVFS_NORMAL, POL_DVFS_BOOST };

struct pol_why {
	bool set;
	enum pol_source by;
	char why[POL_REASON];
};

/* What one CPU should be set to: "" / NAN leaves a setting alone. */
struct pol_cpu_target {
	char governor[POL_WORD];
	char epp[POL_WORD];
	double max_hz;
	struct pol_why why; /* why these values */
};

struct pol_plan {
	/* --- caps (thermal and battery) --- */
	double freq_cap_ratio;      /* of each CPU's hw max; 1: none */
	struct pol_why freq_cap;
	uint32_t worker_cap;        /* UINT32_MAX: none */
	struct pol_why worker_cap_why;
	uint32_t classes;           /* job classes that may start (POL_CLASS_*) */
	struct pol_why classes_why;
	bool force_power_saver;
	struct pol_why force_why;

	/* --- profile and DVFS --- */
	enum pol_profile profile;   /* in force after holds, battery and caps */
	struct pol_why profile_why;
	enum pol_dvfs_level dvfs_level;
	struct pol_why dvfs_why;
	double mem_cap_ratio;       /* memory-bound cap; 1: none */
	struct pol_why mem_why;
	struct pol_cpu_target cpu[POL_MAX_CPUS]; /* by index into inputs.cpus */
	size_t n_cpu;
	char platform_profile[POL_WORD];        /* "" leave */
	struct pol_why platform_why;

	/* --- workers (autoscale, affinity) --- */
	uint32_t active_workers;    /* 0: leave */
	struct pol_why active_why;
	uint32_t accept[POL_MAX_WORKERS]; /* per worker: POL_CLASS_* | POL_ACCEPT_HEAVY */
	int pin_cpu[POL_MAX_WORKERS];     /* per worker: re-pin to this CPU, -1 leave */
	size_t n_workers;
	bool heavy[POL_MAX_MODELS];       /* by index into inputs.models */
	struct pol_why placement_why;

	/* --- notes: things a policy skipped or distrusted, with the reason
	 * (the engine reports a note when it first appears) --- */
#define POL_MAX_NOTES 16
	char notes[POL_MAX_NOTES][POL_REASON];
	enum pol_source note_by[POL_MAX_NOTES];
	size_t n_notes;
};

/* No caps, profile base, everything left alone; n_cpu and n_workers from in. */
void pol_plan_init(struct pol_plan *p, const struct pol_inputs *in, enum pol_profile base);

/* Sets w (by, printf reason). */
void pol_why_set(struct pol_why *w, enum pol_source by, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Caps: each keeps the strictest value; the reason of the one that won. */
void pol_cap_freq(struct pol_plan *p, double ratio, enum pol_source by, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void pol_cap_workers(struct pol_plan *p, uint32_t n, enum pol_source by, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void pol_restrict_classes(struct pol_plan *p, uint32_t allowed, enum pol_source by,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Adds a note (dropped when the plan holds POL_MAX_NOTES already). */
void pol_note(struct pol_plan *p, enum pol_source by, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void pol_force_power_saver(struct pol_plan *p, enum pol_source by, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
