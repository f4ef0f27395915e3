/* The telemetry engine: samples every enabled source on libuv's thread pool
 * each interval_ms (sysfs reads may block: a battery behind an embedded
 * controller takes milliseconds), adds the daemon's own figures on the loop
 * thread, keeps the last `history` snapshots in a ring, and feeds
 * subscribers, trace recordings and the metrics endpoint. */
#ifndef HWOPTD_TELEMETRY_H
#define HWOPTD_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "daemon/config.h"

struct hwoptd;
struct hwoptd_call;
struct client;
struct prom;
struct tm_source;

/* Parts of a snapshot: the sources in CONFIG_SOURCE_LIST order, then the
 * daemon's own ("daemon"). */
#define TM_N_PARTS (CONFIG_N_SOURCES + 1)
#define TM_PART_DAEMON CONFIG_N_SOURCES
#define TM_ALL_PARTS ((1u << TM_N_PARTS) - 1)

struct telemetry;

int telemetry_start(struct hwoptd *d, char *err, size_t errlen);
/* Ends recordings (answering them) and subscriptions; stops the timer. */
void telemetry_stop(struct telemetry *t);
/* Closes its handles before the loop's last run; then telemetry_free. */
void telemetry_close_handles(struct telemetry *t);
void telemetry_free(struct telemetry *t);

const char *telemetry_part_name(size_t i);
/* A part's index by name, or -1. */
int telemetry_part_index(const char *name);
/* Parses ["procstat", ...] into a mask; NULL gives every part. -1 with err
 * naming the bad entry. */
int telemetry_parts_mask(const cJSON *names, uint32_t *mask, char *err, size_t errlen);

/* Samples held, newest first by back = 0..n-1. */
size_t telemetry_n_samples(const struct telemetry *t);
/* {seq, time, interval_ms, sources: {name: part}} of the sample back steps
 * from the newest, with the parts in mask; NULL when there is none. */
cJSON *telemetry_snapshot_json(const struct telemetry *t, size_t back, uint32_t mask);
/* The newest sample's part (parsed), NULL before the first. */
const cJSON *telemetry_latest_part(const struct telemetry *t, size_t part);
uint64_t telemetry_latest_mono_ns(const struct telemetry *t);
uint32_t telemetry_interval_ms(const struct telemetry *t);
/* The source of a part, for the scheduler's PMU reads; NULL when it is
 * disabled or its init failed. */
const struct tm_source *telemetry_source(const struct telemetry *t, size_t part);

/* Collector state and each available source's series. */
void telemetry_metrics(const struct telemetry *t, struct prom *p);

/* Pushes telemetry.sample notifications to c every interval_ms (rounded up
 * to a multiple of the sampling interval) until unsubscribed or gone. Returns its id,
 * or -ENOSPC when c holds too many. */
int64_t telemetry_subscribe(struct telemetry *t, struct client *c, uint32_t interval_ms,
			    uint32_t mask);
/* A subscription's period for a wanted interval_ms: a whole number of
 * sampling intervals, at least one. */
uint32_t telemetry_sub_interval(const struct telemetry *t, uint32_t interval_ms);
/* 0, or -ENOENT when c has no such subscription. */
int telemetry_unsubscribe(struct telemetry *t, struct client *c, int64_t id);
/* Writes the next samples as JSON lines to fd (taken over) for seconds,
 * then answers call with {path, samples, bytes}. */
void telemetry_record(struct telemetry *t, struct hwoptd_call *call, struct client *c, int fd,
		      const char *path, uint32_t seconds, uint32_t mask);
/* c is gone: drop its subscriptions and end its recordings. */
void telemetry_client_gone(struct telemetry *t, struct client *c);

#endif
