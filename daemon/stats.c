#include "stats.h"

#include <math.h>
#include <sched.h>

#include "daemon.h"
#include "models.h"
#include "sched.h"
#include "server.h"
#include "telemetry/power.h"
#include "topology.h"

/* What the policies need beyond the counts: where the workers run, the
 * daemon's cpuset, and each model's compute time (heavy or not). */
static void add_placement(struct hwoptd *d, cJSON *o)
{
	cJSON *cpus = cJSON_DetachItemFromObjectCaseSensitive(o, "cpus");
	if (cpus)
		cJSON_AddItemToObject(o, "worker_cpus", cpus);
	cJSON *kinds = NULL;
	const cJSON *c;
	cJSON_ArrayForEach(c, cpus) {
		const char *k = hwoptd_topology_cpu_kind(d->topo, (int)c->valuedouble);
		if (!k)
			break;
		if (!kinds)
			kinds = cJSON_AddArrayToObject(o, "worker_kinds");
		cJSON_AddItemToArray(kinds, cJSON_CreateString(k));
	}
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		cJSON *a = cJSON_AddArrayToObject(o, "allowed_cpus");
		for (int i = 0; a && i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				cJSON_AddItemToArray(a, cJSON_CreateNumber(i));
	}
	cJSON *ms = cJSON_AddArrayToObject(o, "model_compute");
	for (struct model *m = d->models; ms && m; m = m->next) {
		double p50 = js_time_quantile(&m->c.compute_h, NULL, 0.5);
		if (p50 < 0)
			continue;
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "model", m->conf.name);
		cJSON_AddNumberToObject(x, "p50_seconds", p50);
		cJSON_AddItemToArray(ms, x);
	}
}

cJSON *stats_json(struct hwoptd *d, struct stats_prev *prev, double dt, const cJSON *power_part)
{
	cJSON *o = d->sched ? sched_json(d->sched) : cJSON_CreateObject();
	if (!o)
		return NULL;
	add_placement(d, o);
	struct server_stats st = { 0 };
	if (d->srv)
		server_get_stats(d->srv, &st);
	cJSON_AddNumberToObject(o, "connections", (double)st.connections);
	cJSON_AddNumberToObject(o, "requests_total", (double)st.requests);
	cJSON_AddNumberToObject(o, "models", d->n_models);
	cJSON_AddNumberToObject(o, "pool_bytes", (double)d->pool_bytes);

	cJSON *j = cJSON_AddObjectToObject(o, "jobs");
	uint64_t done = d->jobs_ok + d->jobs_failed;
	cJSON_AddNumberToObject(j, "ok_total", (double)d->jobs_ok);
	cJSON_AddNumberToObject(j, "failed_total", (double)d->jobs_failed);
	cJSON_AddNumberToObject(j, "cancelled_total", (double)d->jobs_cancelled);
	cJSON_AddNumberToObject(j, "expired_total", (double)d->jobs_expired);
	if (prev->have && dt > 0) {
		cJSON_AddNumberToObject(j, "per_s", (double)(done - prev->jobs_done) / dt);
		double p50 = js_time_quantile(&d->latency_h, &prev->latency, 0.50);
		double p99 = js_time_quantile(&d->latency_h, &prev->latency, 0.99);
		if (p50 >= 0) {
			cJSON_AddNumberToObject(j, "latency_p50_seconds", p50);
			cJSON_AddNumberToObject(j, "latency_p99_seconds", p99);
		}
		double q95 = js_time_quantile(&d->queue_h, &prev->queue, 0.95);
		if (q95 >= 0)
			cJSON_AddNumberToObject(j, "queue_p95_seconds", q95);
	}
	uint64_t busy_ns = d->sched ? sched_busy_ns(d->sched) : 0;
	if (prev->have && dt > 0)
		cJSON_AddNumberToObject(o, "busy_avg", (double)(busy_ns - prev->busy_ns) / 1e9 / dt);
	prev->busy_ns = busy_ns;
	prev->queue = d->queue_h;

	/* Joules per inference: package energy over answered jobs, where RAPL
	 * (or another whole-package counter) exists. */
	double joules = power_part ? tm_power_package_joules(power_part) : NAN;
	if (!isnan(joules)) {
		if (prev->have && prev->have_joules && done > prev->jobs_done)
			cJSON_AddNumberToObject(o, "joules_per_inference",
						(joules - prev->joules) / (double)(done - prev->jobs_done));
		prev->joules = joules;
		prev->have_joules = true;
	} else {
		prev->have_joules = false;
	}
	prev->have = true;
	prev->jobs_done = done;
	prev->latency = d->latency_h;
	return o;
}
