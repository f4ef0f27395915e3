/* Hardware and software performance counters through perf_event_open,
 * with event names resolved by libpfm4. One event list (pmu_events) is
 * shared by every set of counters (pmu_counters) opened from it: per
 * thread (the scheduler's workers, counted at job start and end) and per
 * CPU (system-wide, the "perf" telemetry source).
 *
 * Events that cannot count here (no PMU in a VM, an unknown name, no
 * permission) stay in the list as unsupported with their reason; the rest
 * count. Ratios are only consistent between events of one group, so the
 * defaults are grouped by the ratio they feed: {cycles, instructions,
 * stalled-cycles-backend}, {cache-references, cache-misses}, {branches,
 * branch-misses}; then {context-switches, cpu-migrations, page-faults} and
 * task-clock alone. Small groups still fit a PMU with four counters and
 * the NMI watchdog holding one. */
#ifndef HWOPTD_TELEMETRY_PMU_H
#define HWOPTD_TELEMETRY_PMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#define PMU_MAX_EVENTS 24
#define PMU_NONE UINT64_MAX

enum pmu_kind { PMU_KIND_UNKNOWN, PMU_KIND_HARDWARE, PMU_KIND_SOFTWARE, PMU_KIND_RAW };

struct pmu_events;
struct pmu_counters;

/* The defaults (cycles, instructions, cache-references, cache-misses,
 * branches, branch-misses, stalled-cycles-backend, task-clock,
 * context-switches, cpu-migrations, page-faults) then extra, the
 * comma-separated libpfm4 names of [telemetry] perf_events ("" or NULL:
 * none). A name libpfm4 cannot resolve, or one naming an event already in
 * the list, is kept as unsupported with its error. -E2BIG when there are
 * more than PMU_MAX_EVENTS in all, -ENOMEM; err says why. */
int pmu_events_new(const char *extra, struct pmu_events **out, char *err, size_t errlen);
void pmu_events_free(struct pmu_events *ev);

size_t pmu_events_count(const struct pmu_events *ev);
const char *pmu_event_name(const struct pmu_events *ev, size_t i);
enum pmu_kind pmu_event_kind(const struct pmu_events *ev, size_t i);
/* Resolved and, once something was opened, counting in some thread or CPU. */
bool pmu_event_supported(const struct pmu_events *ev, size_t i);
/* The index of name (as listed), or -1. */
int pmu_event_index(const struct pmu_events *ev, const char *name);

/* Counters for thread tid (any thread; 0 = the caller) with cpu -1, or for
 * a whole CPU with tid -1 (system-wide: needs CAP_PERFMON or paranoid < 1).
 * Counting starts at once, user and kernel; where the kernel part is
 * refused the event counts user only (noted per event). Events that fail
 * are marked on ev with their errno, per-thread and per-CPU apart, and the
 * rest count. NULL with errno set when out of memory or nothing opened. */
struct pmu_counters *pmu_open(struct pmu_events *ev, pid_t tid, int cpu);
void pmu_close(struct pmu_counters *c);
/* Events open in c. */
size_t pmu_counters_open(const struct pmu_counters *c);

/* Every event's count since open into vals[i] (i = event index), scaled by
 * time_enabled / time_running when the PMU multiplexed it; PMU_NONE for
 * events not counting. One read() per group (no allocation): cheap enough
 * at every job start and end, best from the counted thread itself (no IPI).
 * 0, or the first failing group's negative errno, the other groups still
 * read. Safe from any thread. A thread's counters keep their final counts
 * after it exits. */
int pmu_read(const struct pmu_counters *c, uint64_t vals[PMU_MAX_EVENTS]);
/* The counted thread (of this process) has exited; one syscall. */
bool pmu_exited(const struct pmu_counters *c);

/* [{name, kind, supported, errno, error, per_thread: {supported, user_only,
 * errno, error}, per_cpu: {...}}] */
cJSON *pmu_events_json(const struct pmu_events *ev);

/* {"counts": {name: after - before}, "ipc", "cache_miss_ratio",
 * "branch_miss_ratio", "memory_bound_ratio"} from two pmu_read()s; a count
 * is left out when either side is PMU_NONE, a ratio when an input is left
 * out or its denominator is 0. A count that went back (scaling noise) is 0. */
cJSON *pmu_delta_json(const struct pmu_events *ev, const uint64_t *before, const uint64_t *after);

/* From the "perf" telemetry source, for the scheduler: the event list and
 * worker w's counters (NULL when absent or not open, or s is not "perf").
 * Valid until the source's fini; a worker may pmu_read its own counters
 * while the telemetry thread samples them. */
struct tm_source;
const struct pmu_events *tm_perf_events(const struct tm_source *s);
struct pmu_counters *tm_perf_worker_counters(const struct tm_source *s, size_t worker);

#endif
