#include "stats.h"

#include <math.h>

#include "daemon.h"
#include "sched.h"
#include "server.h"
#include "telemetry/power.h"

cJSON *stats_json(struct hwoptd *d, struct stats_prev *prev, double dt, const cJSON *power_part)
{
	cJSON *o = d->sched ? sched_json(d->sched) : cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(o, "cpus");
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
	}

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
