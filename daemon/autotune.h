/* First-start autotuning ([policy] autotune): when a model whose config
 * leaves threads_per_instance unset becomes ready, its threads are measured
 * once in libuv's thread pool (its own session and an hwk_pool of t
 * threads, for t = 1, 2, 4, ... and the worker count, on zero inputs), the
 * smallest t within 10% of the best median latency is applied, and the
 * result is kept in <state_dir>/autotune.json, keyed by the model file
 * (real path, size, mtime), its precision, the CPU model name and the
 * worker count. A later load of the same file takes the cached threads at
 * once. Everything here runs on the loop thread except the measurement. */
#ifndef HWOPTD_AUTOTUNE_H
#define HWOPTD_AUTOTUNE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct hwoptd;
struct model;

/* At start, once state_dir exists: reads the cache (a corrupt one is
 * logged and replaced). 0 or -ENOMEM. */
int autotune_init(struct hwoptd *d);
void autotune_free(struct hwoptd *d);

/* models_load: with autotuning on, the cached thread count for m's file
 * on this machine (0: none). Keeps m's cache key for later. */
uint32_t autotune_lookup(struct hwoptd *d, struct model *m);
/* m is ready: measures it unless its threads came from its config or the
 * cache, autotuning is off or there is one worker only. */
void autotune_model_ready(struct hwoptd *d, struct model *m);
/* Is a measurement of m running? (Then m must outlive it: models.c.) */
bool autotune_busy(const struct model *m);
/* Stops m's measurement at the next run; its result is dropped. */
void autotune_cancel(struct model *m);
/* Stops every measurement (the daemon is stopping). */
void autotune_stop(struct hwoptd *d);
/* m's "autotune" for model.list: {threads: {"1": s, ...}, chosen,
 * from_cache}, or NULL when nothing was measured. */
cJSON *autotune_model_json(const struct model *m);
/* With m (model_release). */
void autotune_model_free(struct model *m);

#endif
