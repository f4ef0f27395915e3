/* Loaded models: loading off the loop, sessions per instance, unloading
 * with a grace, and the counters model.list shows. The registry is the
 * loop thread's; a model's instances are handed out under the scheduler's
 * lock. */
#ifndef HWOPTD_MODELS_H
#define HWOPTD_MODELS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "config.h"
#include "job_stats.h"
#include "runtime/hwrt.h"
#include "server.h"

struct hwoptd;

enum model_state { MODEL_LOADING, MODEL_READY, MODEL_UNLOADING };

/* Where a model's threads, max_batch and batch delay came from. */
enum tune_source { TUNE_DEFAULT, TUNE_CONFIG, TUNE_DEVICE, TUNE_AUTOTUNE };

struct autotune_model;

struct model_instance {
	struct hwrt_session *session;
	bool busy;                  /* scheduler lock */
	size_t arena_bytes;         /* as of its last run (scheduler lock) */
};

struct model_counters {
	uint64_t requests, ok, failed, cancelled, expired;
	uint64_t batches, batched_requests;
	uint64_t queue_us_total, compute_us_total;
	/* jobs that ran: their queue and compute times, and the size of the
	 * batch each was served in */
	struct js_hist_time queue_h, compute_h;
	struct js_hist_batch batch_h;
};

struct model {
	struct hwoptd *d;
	struct model_conf conf;
	enum model_state state;
	struct hwrt_model *rt;
	struct model_instance *inst;
	uint32_t n_inst;
	uint32_t free_inst;         /* scheduler lock */
	uint32_t threads;           /* workers one job may use */
	uint32_t max_batch;
	uint64_t batch_delay_ns;
	bool batchable;             /* max_batch > 1 and every input's dim 0 is open */
	bool heavy;                 /* runs on performance cores (affinity policy; atomic) */
	/* tuning (loop thread): the sources of threads, max_batch and
	 * batch_delay_ns; TUNE_DEVICE names the profile in tune_device */
	uint8_t src_threads, src_max_batch, src_delay;
	char tune_device[64];
	struct autotune_model *at;  /* autotune.c's: cache key, figures, measurement */
	bool release_deferred;      /* closed while measured: freed when that ends */
	time_t loaded_at;
	double load_ms;
	struct model_counters c;    /* loop thread */
	unsigned in_flight;         /* jobs queued or running (loop thread) */

	/* loading */
	uv_work_t work;
	struct hwoptd_call *load_call;
	char load_err[1024];
	int load_code;
	uint64_t load_started_ns;
	/* unloading */
	uv_timer_t grace;
	bool grace_started;
	struct hwoptd_call *unload_call;
	uint64_t unload_done_before; /* ok+failed+expired at unload time */
	uint64_t unload_cancelled_before;

	struct model *prev, *next;
};

/* Starts loading; the call (NULL for a config model) is answered when the
 * model is ready or has failed. Returns 0, or -1 with err and *code set
 * (the name is taken, max_models reached). */
int models_load(struct hwoptd *d, const struct model_conf *mc, struct hwoptd_call *call,
		int *code, char *err, size_t errlen);
/* Stops new jobs; answers call once the model has no job left. */
void models_unload(struct hwoptd *d, struct model *m, uint32_t grace_ms, struct hwoptd_call *call);
struct model *models_find(struct hwoptd *d, const char *name);
/* A measurement that held m has ended: frees m if it was unloaded
 * meanwhile (loop thread). */
void models_measure_done(struct model *m);
/* A job of m has ended (loop thread). */
void models_job_done(struct hwoptd *d, struct model *m);
/* The model.list entry. */
cJSON *models_json(struct hwoptd *d, struct model *m);
/* Loads the [model] sections of the configuration. */
void models_load_config(struct hwoptd *d);
/* At exit, after the workers have stopped. */
void models_free_all(struct hwoptd *d);

#endif
