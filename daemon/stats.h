/* The daemon's own part of each telemetry snapshot ("daemon"): workers,
 * queue depth by class, jobs and their rate, interval latency quantiles,
 * connections, pools and energy per inference. Loop thread. */
#ifndef HWOPTD_STATS_H
#define HWOPTD_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "job_stats.h"

struct hwoptd;

/* What the previous snapshot saw, for rates over the interval. */
struct stats_prev {
	bool have;
	uint64_t jobs_done;
	struct js_hist_time latency;
	bool have_joules;
	double joules;
	uint64_t busy_ns;             /* sched_busy_ns */
	struct js_hist_time queue;    /* all models' queue times */
};

/* dt: seconds since the previous snapshot (0 for the first). power_part:
 * the new sample's power part or NULL. */
cJSON *stats_json(struct hwoptd *d, struct stats_prev *prev, double dt, const cJSON *power_part);

#endif
