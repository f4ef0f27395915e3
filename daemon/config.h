/* hwoptd.conf: INI read with libinih into a validated struct. Loading never
 * touches the config in force: callers parse into a fresh struct and swap it
 * in only when the whole file was good. */
#ifndef HWOPTD_CONFIG_H
#define HWOPTD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "policies/pol_config.h"

#define CONFIG_SOCKET_MAX 108 /* sizeof(sun_path) */
#define CONFIG_GROUP_MAX 64
#define CONFIG_MAX_MODELS 32
#define CONFIG_NAME_MAX 65   /* model names: 1..64 of A-Z a-z 0-9 _ . - */
#define CONFIG_KEEP_MAX 1024 /* keep_fp32: comma-separated patterns */
#define CONFIG_SOURCES_MAX 256
#define CONFIG_EVENTS_MAX 512
/* The telemetry sources, in snapshot order. */
#define CONFIG_SOURCE_LIST "procstat", "cpufreq", "thermal", "hwmon", "power", "battery", \
		"perf", "schedlat"
#define CONFIG_SOURCE_NAMES "procstat, cpufreq, thermal, hwmon, power, battery, perf, schedlat"
#define CONFIG_N_SOURCES 8

/* A [model NAME] section: loaded at start. */
struct model_conf {
	char name[CONFIG_NAME_MAX];
	char path[PATH_MAX];
	char precision[8];
	char keep_fp32[CONFIG_KEEP_MAX];
	uint32_t instances;
	uint32_t threads_per_instance; /* 0: workers / instances */
	uint32_t max_batch;
	uint32_t batch_delay_us;
	double min_cosine; /* 0: the runtime's default */
	uint8_t set;       /* MODEL_SET_*: keys the section (or model.load) gave */
};
#define MODEL_SET_THREADS 1u
#define MODEL_SET_MAX_BATCH 2u
#define MODEL_SET_BATCH_DELAY 4u

struct hwoptd_config {
	char socket[CONFIG_SOCKET_MAX];
	char socket_group[CONFIG_GROUP_MAX];
	gid_t socket_gid;
	char admin_group[CONFIG_GROUP_MAX];
	gid_t admin_gid;
	char state_dir[PATH_MAX];
	char devices_dir[PATH_MAX]; /* device profiles; config_load resolves "" */
	enum log_level log_level;
	uint32_t max_connections;
	uint64_t max_line_bytes;
	uint64_t max_queued_bytes;
	uint32_t shutdown_grace_ms;
	char submit_group[CONFIG_GROUP_MAX];
	gid_t submit_gid;

	/* [scheduler] */
	uint32_t workers;          /* 0: one per allowed core */
	uint32_t spin_us;          /* an idle worker polls this long before sleeping */
	uint32_t max_queue;        /* queued jobs, all clients */
	uint32_t max_client_jobs;  /* queued and running jobs of one connection */
	uint32_t batch_age_ms;     /* a batch job older than this competes as normal */
	uint64_t max_tensor_bytes; /* one input or output */
	uint32_t max_models;

	/* [pools] */
	uint64_t pool_quota;       /* pool bytes one connection may hold */
	uint64_t pool_max_total;   /* pool bytes of all clients */

	/* [telemetry] */
	char sysfs_root[PATH_MAX];
	char procfs_root[PATH_MAX];
	uint32_t interval_ms;      /* sampling period */
	uint32_t history;          /* samples kept */
	char sources[CONFIG_SOURCES_MAX]; /* "all" or names */
	char perf_events[CONFIG_EVENTS_MAX]; /* extra libpfm4 event names */

	/* [metrics] */
	char metrics_listen[CONFIG_SOCKET_MAX]; /* "" off, HOST:PORT, or a socket path */

	/* [policy], [dvfs], [thermal], [battery], [autoscale], [affinity] */
	struct pol_config pol;

	struct model_conf models[CONFIG_MAX_MODELS];
	size_t n_models;
};

/* A command-line value that overrides the file, re-applied on every load. */
struct config_override {
	const char *key; /* "socket", "state_dir", "log_level", "sysfs_root"... */
	const char *value;
	const char *section; /* NULL: "daemon" */
};

enum listen_kind { LISTEN_OFF, LISTEN_TCP, LISTEN_UNIX };
struct config_listen {
	enum listen_kind kind;
	char host[64];
	uint16_t port;
	char path[CONFIG_SOCKET_MAX];
};
/* Parses a [metrics] listen value; -EINVAL when malformed. */
int config_parse_listen(const char *v, struct config_listen *out);

/* Index of a telemetry source name in CONFIG_SOURCE_LIST, or -1. */
int config_source_index(const char *name);
/* Does [telemetry] sources include name? */
bool config_source_enabled(const struct hwoptd_config *c, const char *name);

/* Built-in defaults; socket and state_dir depend on the effective uid. */
void config_defaults(struct hwoptd_config *c);

/* Defaults, then the file (NULL: none), then the overrides. On error returns
 * a negative errno and writes "FILE:LINE: [section] key: reason" to err. */
int config_load(const char *path, const struct config_override *ov, size_t n_ov,
		struct hwoptd_config *out, char *err, size_t errlen);

/* Sets one key from text, validating it. 0, or -EINVAL/-ENOENT with reason. */
int config_set(struct hwoptd_config *c, const char *section, const char *key,
	       const char *value, char *reason, size_t reasonlen);

/* The [daemon] keys as an object; config_section_json gives another
 * section's ("scheduler", "pools"), config_models_json the [model] ones. */
cJSON *config_to_json(const struct hwoptd_config *c);
cJSON *config_section_json(const struct hwoptd_config *c, const char *section);
cJSON *config_models_json(const struct hwoptd_config *c);

/* A [model] section's defaults. */
void config_model_defaults(struct model_conf *m, const char *name);

/* Is s a valid model name? */
bool config_model_name_ok(const char *s);

/* Names of keys that differ, split into those a reload applies and those
 * that need a restart. Arrays of strings, appended to. */
void config_diff(const struct hwoptd_config *a, const struct hwoptd_config *b,
		 cJSON *applied, cJSON *restart_required);

/* Calls fn(ctx, name, line) for each "[name]" header of f, from its start
 * (inih calls back for keys only: an empty section would pass unseen);
 * returns fn's first nonzero return, else 0. */
int config_ini_headers(FILE *f, int (*fn)(void *ctx, const char *name, int line), void *ctx);

/* Parses "1048576", "64K", "1M", "2G" (binary multiples). */
int config_parse_size(const char *s, uint64_t *out);

#endif
