/* The "perf" source: the PMU counters of each scheduler worker thread and
 * of each online CPU (system-wide), through pmu.h.
 *
 * Counts are cumulative since init (Prometheus counters; a count the
 * multiplexing scale pulled back is held at its highest); the ratios (ipc
 * and others) are from the interval since the previous sample, so the first
 * sample has none. System-wide counting needs CAP_PERFMON or a low
 * perf_event_paranoid: without it "system_wide" is unavailable with the
 * reason while the workers' own counters (user-only if need be) go on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/prom.h"
#include "daemon/telemetry/fs.h"
#include "daemon/telemetry/pmu.h"
#include "daemon/telemetry/source.h"

/* One worker thread's or one CPU's counters. */
struct perf_unit {
	pid_t tid;
	int cpu;
	struct pmu_counters *c;
	int open_err; /* errno when c is NULL */
	bool have_prev;
	uint64_t prev[PMU_MAX_EVENTS];  /* the last read, for interval ratios */
	uint64_t shown[PMU_MAX_EVENTS]; /* the highest count reported */
};

struct perf_priv {
	struct pmu_events *ev;
	size_t n_workers, n_cpus;
	struct perf_unit *workers, *cpus;
	char sw_reason[192]; /* empty: system-wide counting works */
};

static void unit_open(struct perf_unit *u, struct pmu_events *ev, pid_t tid, int cpu)
{
	u->tid = tid;
	u->cpu = cpu;
	for (size_t i = 0; i < PMU_MAX_EVENTS; i++)
		u->shown[i] = PMU_NONE;
	u->c = pmu_open(ev, tid, tid == -1 ? cpu : -1);
	u->open_err = u->c ? 0 : errno;
}

static void open_workers(struct perf_priv *pp, const struct tm_env *env)
{
	pp->n_workers = env->n_workers < TM_MAX_WORKERS ? env->n_workers : TM_MAX_WORKERS;
	for (size_t w = 0; w < pp->n_workers; w++)
		unit_open(&pp->workers[w], pp->ev, env->worker_tids[w], env->worker_cpus[w]);
}

/* Per online CPU; a refusal on the first CPU (no privilege) ends it. */
static void open_cpus(struct perf_priv *pp, const struct tm_env *env, size_t ncpu)
{
	for (size_t cpu = 0; cpu < ncpu; cpu++) {
		struct perf_unit *u = &pp->cpus[pp->n_cpus];
		unit_open(u, pp->ev, -1, (int)cpu);
		if (!u->c && cpu == 0) {
			char par[32] = "";
			int n = snprintf(pp->sw_reason, sizeof(pp->sw_reason),
					 "perf_event_open on cpu 0: %s", strerror(u->open_err));
			if (tm_read_str(env->procfs_root, "sys/kernel/perf_event_paranoid", par,
					sizeof(par)) >= 0 && n > 0 && (size_t)n < sizeof(pp->sw_reason))
				snprintf(pp->sw_reason + n, sizeof(pp->sw_reason) - (size_t)n,
					 " (perf_event_paranoid %s)", par);
			return;
		}
		pp->n_cpus++;
	}
}

static void perf_fini(struct tm_source *s)
{
	struct perf_priv *pp = s->priv;
	if (!pp)
		return;
	for (size_t i = 0; i < pp->n_workers; i++)
		pmu_close(pp->workers[i].c);
	for (size_t i = 0; i < pp->n_cpus; i++)
		pmu_close(pp->cpus[i].c);
	free(pp->workers);
	free(pp->cpus);
	pmu_events_free(pp->ev);
	free(pp);
	s->priv = NULL;
}

static int perf_init(struct tm_source *s, char *reason, size_t rl)
{
	const struct tm_env *env = s->env;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	size_t ncpu = n > 0 ? (size_t)n : 1;
	struct perf_priv *pp = calloc(1, sizeof(*pp));
	if (!pp) {
		snprintf(reason, rl, "out of memory");
		return -ENOMEM;
	}
	s->priv = pp;
	int rc = pmu_events_new(env->perf_events, &pp->ev, reason, rl);
	if (rc < 0) {
		perf_fini(s);
		return rc;
	}
	pp->workers = calloc(env->n_workers ? env->n_workers : 1, sizeof(*pp->workers));
	pp->cpus = calloc(ncpu, sizeof(*pp->cpus));
	if (!pp->workers || !pp->cpus) {
		perf_fini(s);
		snprintf(reason, rl, "out of memory");
		return -ENOMEM;
	}
	open_workers(pp, env);
	open_cpus(pp, env, ncpu);
	return 0;
}

/* counts (cumulative) and derived (last interval) of one unit's read. */
static void unit_json(const struct pmu_events *ev, struct perf_unit *u, cJSON *o)
{
	if (!u->c) {
		char why[96];
		snprintf(why, sizeof(why), "perf_event_open: %s", strerror(u->open_err));
		cJSON_AddFalseToObject(o, "available");
		cJSON_AddStringToObject(o, "reason", why);
		return;
	}
	if (u->tid != -1 && pmu_exited(u->c)) {
		cJSON_AddFalseToObject(o, "available");
		cJSON_AddStringToObject(o, "reason", "the thread exited");
		return;
	}
	uint64_t v[PMU_MAX_EVENTS];
	pmu_read(u->c, v); /* a group that failed reads as not counting */
	cJSON_AddTrueToObject(o, "available");
	cJSON *counts = cJSON_AddObjectToObject(o, "counts");
	size_t n = pmu_events_count(ev);
	for (size_t i = 0; i < n && counts; i++) {
		if (v[i] != PMU_NONE && (u->shown[i] == PMU_NONE || v[i] > u->shown[i]))
			u->shown[i] = v[i];
		if (u->shown[i] != PMU_NONE)
			cJSON_AddNumberToObject(counts, pmu_event_name(ev, i), (double)u->shown[i]);
	}
	if (u->have_prev) {
		cJSON *d = pmu_delta_json(ev, u->prev, v);
		if (d) {
			cJSON_DeleteItemFromObject(d, "counts");
			cJSON_AddItemToObject(o, "derived", d);
		}
	}
	memcpy(u->prev, v, sizeof(v));
	u->have_prev = true;
}

static void add_workers(struct perf_priv *pp, cJSON *out)
{
	cJSON *a = cJSON_AddArrayToObject(out, "workers");
	for (size_t w = 0; a && w < pp->n_workers; w++) {
		struct perf_unit *u = &pp->workers[w];
		cJSON *o = cJSON_CreateObject();
		if (!o)
			return;
		cJSON_AddNumberToObject(o, "worker", (double)w);
		cJSON_AddNumberToObject(o, "tid", u->tid);
		cJSON_AddNumberToObject(o, "cpu", u->cpu);
		unit_json(pp->ev, u, o);
		cJSON_AddItemToArray(a, o);
	}
}

static void add_cpus(struct perf_priv *pp, cJSON *out)
{
	cJSON *sw = cJSON_AddObjectToObject(out, "system_wide");
	if (sw) {
		cJSON_AddBoolToObject(sw, "available", !pp->sw_reason[0]);
		if (pp->sw_reason[0])
			cJSON_AddStringToObject(sw, "reason", pp->sw_reason);
	}
	cJSON *a = cJSON_AddArrayToObject(out, "cpus");
	for (size_t i = 0; a && i < pp->n_cpus; i++) {
		struct perf_unit *u = &pp->cpus[i];
		cJSON *o = cJSON_CreateObject();
		if (!o)
			return;
		cJSON_AddNumberToObject(o, "cpu", u->cpu);
		unit_json(pp->ev, u, o);
		cJSON_AddItemToArray(a, o);
	}
}

/* The errno of the first unit, when none has a counter open. */
static int nothing_open(const struct perf_priv *pp)
{
	int err = 0;
	for (size_t i = 0; i < pp->n_workers; i++) {
		if (pp->workers[i].c)
			return 0;
		err = err ? err : pp->workers[i].open_err;
	}
	for (size_t i = 0; i < pp->n_cpus; i++)
		if (pp->cpus[i].c)
			return 0;
	return err ? err : EACCES;
}

static int perf_sample(struct tm_source *s, uint64_t now_ns, cJSON *out, char *reason, size_t rl)
{
	struct perf_priv *pp = s->priv;
	if (!pp) {
		snprintf(reason, rl, "not initialised");
		return -EINVAL;
	}
	int err = nothing_open(pp);
	if (err) {
		snprintf(reason, rl, "no counter could be opened: %s%s%s",
			 pp->n_workers ? strerror(err) : "no worker threads",
			 pp->sw_reason[0] ? "; " : "", pp->sw_reason);
		return -err;
	}
	cJSON *events = pmu_events_json(pp->ev);
	if (events)
		cJSON_AddItemToObject(out, "events", events);
	add_workers(pp, out);
	add_cpus(pp, out);
	return 0;
}

/* --- Prometheus ---------------------------------------------------------------- */

static const char *const ratios[][2] = {
	{ "ipc", "hwopt_pmu_ipc" },
	{ "cache_miss_ratio", "hwopt_pmu_cache_miss_ratio" },
	{ "branch_miss_ratio", "hwopt_pmu_branch_miss_ratio" },
	{ "memory_bound_ratio", "hwopt_pmu_memory_bound_ratio" },
};

static void declare(struct prom *p)
{
	prom_family(p, "hwopt_pmu_events_total", PROM_COUNTER,
		    "Performance counter counts of a scheduler worker thread (task-clock in nanoseconds).");
	prom_family(p, "hwopt_pmu_cpu_events_total", PROM_COUNTER,
		    "Performance counter counts of a whole CPU (task-clock in nanoseconds).");
	prom_family(p, "hwopt_pmu_event_supported", PROM_GAUGE,
		    "1 when the performance event counts on this machine, else 0.");
	prom_family(p, "hwopt_pmu_ipc", PROM_GAUGE,
		    "Instructions per cycle of a worker thread over the last interval.");
	prom_family(p, "hwopt_pmu_cache_miss_ratio", PROM_GAUGE,
		    "Cache misses per cache reference of a worker thread over the last interval.");
	prom_family(p, "hwopt_pmu_branch_miss_ratio", PROM_GAUGE,
		    "Mispredicted branches per branch of a worker thread over the last interval.");
	prom_family(p, "hwopt_pmu_memory_bound_ratio", PROM_GAUGE,
		    "Backend-stalled cycles per cycle of a worker thread over the last interval.");
}

static void worker_metrics(const cJSON *w, struct prom *p)
{
	const cJSON *id = cJSON_GetObjectItem(w, "worker");
	const cJSON *cpu = cJSON_GetObjectItem(w, "cpu");
	if (!cJSON_IsNumber(id))
		return;
	char ws[24], cs[24] = "";
	snprintf(ws, sizeof(ws), "%d", id->valueint);
	if (cJSON_IsNumber(cpu) && cpu->valueint >= 0)
		snprintf(cs, sizeof(cs), "%d", cpu->valueint);
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(w, "counts"))
		if (cJSON_IsNumber(c))
			prom_sample(p, "hwopt_pmu_events_total", c->valuedouble, "worker", ws, "cpu",
				    cs, "event", c->string, NULL);
	const cJSON *d = cJSON_GetObjectItem(w, "derived");
	for (size_t i = 0; d && i < sizeof(ratios) / sizeof(ratios[0]); i++) {
		const cJSON *r = cJSON_GetObjectItem(d, ratios[i][0]);
		if (cJSON_IsNumber(r))
			prom_sample(p, ratios[i][1], r->valuedouble, "worker", ws, NULL);
	}
}

static void cpu_metrics(const cJSON *u, struct prom *p)
{
	const cJSON *cpu = cJSON_GetObjectItem(u, "cpu");
	if (!cJSON_IsNumber(cpu))
		return;
	char cs[24];
	snprintf(cs, sizeof(cs), "%d", cpu->valueint);
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(u, "counts"))
		if (cJSON_IsNumber(c))
			prom_sample(p, "hwopt_pmu_cpu_events_total", c->valuedouble, "cpu", cs,
				    "event", c->string, NULL);
}

static void perf_metrics(const cJSON *part, struct prom *p)
{
	declare(p);
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(part, "events")) {
		const cJSON *name = cJSON_GetObjectItem(e, "name");
		if (cJSON_IsString(name))
			prom_sample(p, "hwopt_pmu_event_supported",
				    cJSON_IsTrue(cJSON_GetObjectItem(e, "supported")) ? 1 : 0, "event",
				    name->valuestring, NULL);
	}
	const cJSON *u;
	cJSON_ArrayForEach(u, cJSON_GetObjectItem(part, "workers"))
		worker_metrics(u, p);
	cJSON_ArrayForEach(u, cJSON_GetObjectItem(part, "cpus"))
		cpu_metrics(u, p);
}

/* --- for the scheduler ------------------------------------------------------------ */

static const struct perf_priv *priv_of(const struct tm_source *s)
{
	return s && s->ops == &tm_perf ? s->priv : NULL;
}

const struct pmu_events *tm_perf_events(const struct tm_source *s)
{
	const struct perf_priv *pp = priv_of(s);
	return pp ? pp->ev : NULL;
}

struct pmu_counters *tm_perf_worker_counters(const struct tm_source *s, size_t worker)
{
	const struct perf_priv *pp = priv_of(s);
	return pp && worker < pp->n_workers ? pp->workers[worker].c : NULL;
}

const struct tm_source_ops tm_perf = {
	.name = "perf",
	.init = perf_init,
	.sample = perf_sample,
	.metrics = perf_metrics,
	.fini = perf_fini,
};
