#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "models.h"
#include "pools.h"
#include "policy.h"
#include "prom.h"
#include "sched.h"
#include "shm_pool.h"
#include "telemetry/telemetry.h"

static void server_metrics(struct hwoptd *d, struct prom *p)
{
	struct server_stats st = { 0 };
	server_get_stats(d->srv, &st);
	prom_family(p, "hwopt_build_info", PROM_GAUGE, "The daemon's version (value 1).");
	prom_family(p, "hwopt_start_time_seconds", PROM_GAUGE,
		    "When the daemon started, seconds since the epoch.");
	prom_family(p, "hwopt_connections", PROM_GAUGE, "Client connections open now.");
	prom_family(p, "hwopt_connections_total", PROM_COUNTER, "Client connections accepted.");
	prom_family(p, "hwopt_connections_refused_total", PROM_COUNTER,
		    "Connections refused over max_connections.");
	prom_family(p, "hwopt_clients_dropped_total", PROM_COUNTER,
		    "Clients dropped for reading too slowly (max_queued_bytes).");
	prom_family(p, "hwopt_requests_total", PROM_COUNTER, "Requests read, valid or not.");
	prom_family(p, "hwopt_request_errors_total", PROM_COUNTER, "Error answers sent.");
	prom_sample(p, "hwopt_build_info", 1, "version", HWOPTD_VERSION, NULL);
	prom_sample(p, "hwopt_start_time_seconds", (double)d->started_at, NULL);
	prom_sample(p, "hwopt_connections", (double)st.connections, NULL);
	prom_sample(p, "hwopt_connections_total", (double)st.connections_total, NULL);
	prom_sample(p, "hwopt_connections_refused_total", (double)st.connections_refused, NULL);
	prom_sample(p, "hwopt_clients_dropped_total", (double)st.clients_dropped, NULL);
	prom_sample(p, "hwopt_requests_total", (double)st.requests, NULL);
	prom_sample(p, "hwopt_request_errors_total", (double)st.errors, NULL);
}

static void sched_metrics(struct hwoptd *d, struct prom *p)
{
	if (!d->sched)
		return;
	cJSON *s = sched_json(d->sched);
	prom_family(p, "hwopt_workers", PROM_GAUGE, "Worker threads of the scheduler.");
	prom_family(p, "hwopt_workers_busy", PROM_GAUGE, "Workers leading or helping a job now.");
	prom_family(p, "hwopt_queue_depth", PROM_GAUGE, "Jobs waiting, by priority class.");
	prom_sample(p, "hwopt_workers", cJSON_GetNumberValue(cJSON_GetObjectItem(s, "workers")),
		    NULL);
	prom_sample(p, "hwopt_workers_busy", cJSON_GetNumberValue(cJSON_GetObjectItem(s, "busy")),
		    NULL);
	const cJSON *q = cJSON_GetObjectItem(s, "queued"), *it;
	cJSON_ArrayForEach(it, q)
		prom_sample(p, "hwopt_queue_depth", it->valuedouble, "priority", it->string, NULL);
	cJSON_Delete(s);
}

static void time_hist(struct prom *p, const char *fam, const struct js_hist_time *h,
		      const char *model)
{
	prom_histogram(p, fam, js_time_le, h->counts, JS_TIME_BUCKETS, h->sum, h->count, "model",
		       model, NULL);
}

static void job_metrics(struct hwoptd *d, struct prom *p)
{
	prom_family(p, "hwopt_jobs_total", PROM_COUNTER,
		    "Inference jobs ended, by model and outcome (ok, failed, cancelled, expired).");
	prom_family(p, "hwopt_job_queue_seconds", PROM_HISTOGRAM,
		    "Time jobs that ran waited in the queue.");
	prom_family(p, "hwopt_job_compute_seconds", PROM_HISTOGRAM,
		    "Time the run that served a job took.");
	prom_family(p, "hwopt_batch_size", PROM_HISTOGRAM,
		    "Requests by the size of the batch (requests) that served them.");
	prom_family(p, "hwopt_model_jobs_in_flight", PROM_GAUGE, "Jobs of a model queued or running.");
	prom_family(p, "hwopt_job_latency_seconds", PROM_HISTOGRAM,
		    "Answered jobs, arrival to answer, every model.");
	for (struct model *m = d->models; m; m = m->next) {
		const char *name = m->conf.name;
		const struct model_counters *c = &m->c;
		prom_sample(p, "hwopt_jobs_total", (double)c->ok, "model", name, "outcome", "ok", NULL);
		prom_sample(p, "hwopt_jobs_total", (double)c->failed, "model", name, "outcome",
			    "failed", NULL);
		prom_sample(p, "hwopt_jobs_total", (double)c->cancelled, "model", name, "outcome",
			    "cancelled", NULL);
		prom_sample(p, "hwopt_jobs_total", (double)c->expired, "model", name, "outcome",
			    "expired", NULL);
		time_hist(p, "hwopt_job_queue_seconds", &c->queue_h, name);
		time_hist(p, "hwopt_job_compute_seconds", &c->compute_h, name);
		prom_histogram(p, "hwopt_batch_size", js_batch_le, c->batch_h.counts, JS_BATCH_BUCKETS,
			       c->batch_h.sum, c->batch_h.count, "model", name, NULL);
		prom_sample(p, "hwopt_model_jobs_in_flight", m->in_flight, "model", name, NULL);
	}
	prom_histogram(p, "hwopt_job_latency_seconds", js_time_le, d->latency_h.counts,
		       JS_TIME_BUCKETS, d->latency_h.sum, d->latency_h.count, NULL);
}

static void pool_metrics(struct hwoptd *d, struct prom *p)
{
	uint64_t n = 0, used = 0;
	for (struct pool_entry *e = d->pools; e; e = e->next) {
		struct shm_pool_stats st;
		shm_pool_get_stats(e->shm, &st);
		n++;
		used += st.used;
	}
	prom_family(p, "hwopt_pools", PROM_GAUGE, "Shared-memory tensor pools alive.");
	prom_family(p, "hwopt_pool_bytes", PROM_GAUGE, "Bytes of every pool alive.");
	prom_family(p, "hwopt_pool_used_bytes", PROM_GAUGE, "Bytes in live blocks of every pool.");
	prom_sample(p, "hwopt_pools", (double)n, NULL);
	prom_sample(p, "hwopt_pool_bytes", (double)d->pool_bytes, NULL);
	prom_sample(p, "hwopt_pool_used_bytes", (double)used, NULL);
}

static void energy_metrics(struct hwoptd *d, struct prom *p)
{
	const cJSON *dp = telemetry_latest_part(d->tm, TM_PART_DAEMON);
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(dp, "joules_per_inference");
	if (!cJSON_IsNumber(j))
		return;
	prom_family(p, "hwopt_energy_per_inference_joules", PROM_GAUGE,
		    "Package energy per answered job over the last telemetry interval (RAPL).");
	prom_sample(p, "hwopt_energy_per_inference_joules", j->valuedouble, NULL);
}

void metrics_collect(struct hwoptd *d, struct prom *p)
{
	server_metrics(d, p);
	sched_metrics(d, p);
	job_metrics(d, p);
	pool_metrics(d, p);
	energy_metrics(d, p);
	policy_metrics(d, p);
	if (d->tm)
		telemetry_metrics(d->tm, p);
}

char *metrics_render(struct hwoptd *d, size_t *len)
{
	struct prom *p = prom_new();
	if (!p)
		return NULL;
	metrics_collect(d, p);
	char *text = prom_render(p, len);
	prom_free(p);
	return text;
}
