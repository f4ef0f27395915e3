/* One telemetry source: init / sample / metrics / fini. A source fills its
 * own part of a snapshot (a JSON object) and renders that part as
 * Prometheus series. It never stops the others: a source that cannot work
 * here returns a negative errno with a reason, and the framework reports
 * {"available": false, "reason": ...} for it. Parts of a source that fail
 * on their own (PSI, one sensor) carry their own available/reason inside
 * the part; a garbage file is left out, never reported as a number. */
#ifndef HWOPTD_TELEMETRY_SOURCE_H
#define HWOPTD_TELEMETRY_SOURCE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

struct prom;

#define TM_MAX_WORKERS 256

/* What sources may know of the machine and the daemon. */
struct tm_env {
	char sysfs_root[PATH_MAX];   /* "/sys" */
	char procfs_root[PATH_MAX];  /* "/proc" */
	char perf_events[512];       /* extra libpfm4 event names, comma-separated */
	size_t n_workers;            /* the scheduler's worker threads */
	pid_t worker_tids[TM_MAX_WORKERS];
	int worker_cpus[TM_MAX_WORKERS]; /* -1: not pinned */
};

struct tm_source {
	const struct tm_source_ops *ops;
	const struct tm_env *env;
	void *priv;                  /* the source's own state */
};

struct tm_source_ops {
	const char *name;
	/* Prepares s->priv (may stay NULL). A negative errno marks the source
	 * unavailable for good, with reason. */
	int (*init)(struct tm_source *s, char *reason, size_t rl);
	/* Fills out (an empty object) with one sample; now_ns is CLOCK_MONOTONIC
	 * and is used for rates against the previous sample. 0, or a negative
	 * errno with reason when nothing could be read this time. */
	int (*sample)(struct tm_source *s, uint64_t now_ns, cJSON *out, char *reason, size_t rl);
	/* Renders a part that sample filled (available) as Prometheus series. */
	void (*metrics)(const cJSON *part, struct prom *p);
	void (*fini)(struct tm_source *s);
};

extern const struct tm_source_ops tm_procstat, tm_cpufreq, tm_thermal, tm_hwmon, tm_power,
	tm_battery, tm_perf, tm_schedlat;

#endif
