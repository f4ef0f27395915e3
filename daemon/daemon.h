/* The daemon's state, owned by the loop thread and wired together in main.c. */
#ifndef HWOPTD_DAEMON_H
#define HWOPTD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "config.h"
#include "job_stats.h"
#include "server.h"

struct hwoptd_topology;
struct client;
struct model;
struct pool_entry;
struct sched;
struct telemetry;
struct metrics_http;
struct policy;
struct devices;
struct autotune;

#define DAEMON_MAX_OVERRIDES 8

struct hwoptd {
	uv_loop_t *loop;
	struct hwoptd_config cfg;          /* in force */
	const char *config_path;           /* NULL: built-in defaults */
	struct config_override ov[DAEMON_MAX_OVERRIDES];
	size_t n_ov;
	time_t config_loaded_at;

	struct server *srv;
	bool socket_activated;
	struct hwoptd_topology *topo;

	struct sched *sched;
	struct client *clients;            /* connected, and gone with jobs in flight */
	struct model *models, *dead_models;
	unsigned n_models;
	struct pool_entry *pools;
	uint64_t pool_bytes;               /* all pools, those kept alive by jobs too */
	uint64_t next_pool_id, next_job_id;
	struct js_hist_time latency_h;     /* answered jobs, arrival to answer */
	struct js_hist_time queue_h;       /* jobs that ran, arrival to start */
	uint64_t jobs_ok, jobs_failed, jobs_cancelled, jobs_expired;

	struct telemetry *tm;
	struct metrics_http *http;
	struct policy *policy;
	struct devices *dev;               /* the CPU and its device profile (devices.c) */
	struct autotune *at;               /* the autotune cache (autotune.c) */

	uint64_t started_ns;               /* uv_hrtime at start */
	time_t started_at;                 /* wall clock at start */

	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t watchdog, grace;
	bool stopping;
	int exit_code;
};

/* Re-reads the config file; on success swaps it in and fills changed and
 * restart_required (may be NULL). On failure the old config stays and err
 * says why. */
int daemon_reload(struct hwoptd *d, cJSON *changed, cJSON *restart_required,
		  char *err, size_t errlen);

/* Serves until stopped; returns the exit status. */
int daemon_run(struct hwoptd *d);

/* Begins a graceful stop (idempotent). */
void daemon_stop(struct hwoptd *d, const char *why);

/* Handler for a method name, NULL when the name has none. */
method_fn methods_lookup(const char *name);

#endif
