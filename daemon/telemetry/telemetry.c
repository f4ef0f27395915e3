#include "telemetry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "daemon/client.h"
#include "daemon/daemon.h"
#include "daemon/policy.h"
#include "daemon/dlist.h"
#include "daemon/log.h"
#include "daemon/prom.h"
#include "daemon/sched.h"
#include "daemon/server.h"
#include "daemon/stats.h"
#include "proto/errors.h"
#include "pmu.h"
#include "source.h"

#define MAX_CLIENT_SUBS 16
#define POWER_PART 4 /* "power" in CONFIG_SOURCE_LIST */
#define PERF_PART 6

static const struct tm_source_ops *const ops_table[CONFIG_N_SOURCES] = {
	&tm_procstat, &tm_cpufreq, &tm_thermal, &tm_hwmon, &tm_power, &tm_battery, &tm_perf,
	&tm_schedlat,
};

/* One sample: each part as compact JSON text, spliced into answers. */
struct snap {
	uint64_t seq;
	double time;            /* wall clock, seconds since the epoch */
	char *part[TM_N_PARTS];
};

struct sub {
	int64_t id;
	struct client *client;
	uint64_t every_ns, next_ns;
	uint32_t mask;
	struct sub *prev, *next;
};

struct rec {
	struct hwoptd_call *call;
	struct client *client;
	int fd;
	char path[PATH_MAX];
	uint64_t until_ns;
	uint32_t mask;
	uint64_t samples, bytes;
	int err;                /* first write error */
	struct rec *prev, *next;
};

/* What the pool thread leaves for the loop after one round of sampling. */
struct fresh {
	cJSON *part;            /* NULL: unavailable, reason says why */
	char reason[256];
	double seconds;         /* time the sample took */
};

struct telemetry {
	struct hwoptd *d;
	struct tm_env env;
	uint32_t interval_ms;
	bool enabled[CONFIG_N_SOURCES];
	bool inited;            /* init ran (on the pool thread) */
	int init_rc[CONFIG_N_SOURCES];
	char init_reason[CONFIG_N_SOURCES][256];
	struct tm_source src[CONFIG_N_SOURCES];

	uv_timer_t timer;
	uv_work_t work;
	bool working, stopping, closed;
	uint64_t overruns;
	struct fresh fresh[CONFIG_N_SOURCES];
	uint64_t sample_ns;     /* monotonic time of the round in fresh */

	struct snap *ring;
	size_t cap, n, head;    /* head: the next slot to fill */
	uint64_t seq;
	cJSON *latest[TM_N_PARTS];
	uint64_t latest_ns;
	bool up[CONFIG_N_SOURCES];
	double dur[CONFIG_N_SOURCES];
	struct stats_prev prev;
	bool pmu_wired;

	struct sub *subs;
	int64_t next_sub;
	struct rec *recs;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *telemetry_part_name(size_t i)
{
	static const char *const names[] = { CONFIG_SOURCE_LIST, "daemon" };
	return i < TM_N_PARTS ? names[i] : NULL;
}

int telemetry_part_index(const char *name)
{
	for (size_t i = 0; i < TM_N_PARTS; i++)
		if (strcmp(telemetry_part_name(i), name) == 0)
			return (int)i;
	return -1;
}

int telemetry_parts_mask(const cJSON *names, uint32_t *mask, char *err, size_t errlen)
{
	if (!names) {
		*mask = TM_ALL_PARTS;
		return 0;
	}
	if (!cJSON_IsArray(names) || cJSON_GetArraySize(names) == 0) {
		snprintf(err, errlen, "must be a non-empty array of source names");
		return -1;
	}
	uint32_t m = 0;
	int k = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, names) {
		int i = cJSON_IsString(it) ? telemetry_part_index(it->valuestring) : -1;
		if (i < 0) {
			snprintf(err, errlen, "[%d]: not one of %s, daemon", k, CONFIG_SOURCE_NAMES);
			return -1;
		}
		m |= 1u << i;
		k++;
	}
	*mask = m;
	return 0;
}

/* --- sampling (pool thread) ------------------------------------------------- */

static void init_sources(struct telemetry *t)
{
	for (size_t i = 0; i < CONFIG_N_SOURCES; i++) {
		struct tm_source *s = &t->src[i];
		s->ops = ops_table[i];
		s->env = &t->env;
		if (!t->enabled[i])
			continue;
		t->init_rc[i] = s->ops->init(s, t->init_reason[i], sizeof(t->init_reason[i]));
		if (t->init_rc[i] < 0 && !t->init_reason[i][0])
			snprintf(t->init_reason[i], sizeof(t->init_reason[i]), "%s",
				 strerror(-t->init_rc[i]));
	}
	t->inited = true;
}

static void sample_work(uv_work_t *w)
{
	struct telemetry *t = w->data;
	if (!t->inited)
		init_sources(t);
	t->sample_ns = mono_ns();
	for (size_t i = 0; i < CONFIG_N_SOURCES; i++) {
		struct fresh *f = &t->fresh[i];
		f->part = NULL;
		f->reason[0] = '\0';
		f->seconds = 0;
		if (!t->enabled[i] || t->init_rc[i] < 0)
			continue;
		uint64_t t0 = mono_ns();
		cJSON *part = cJSON_CreateObject();
		int rc = part ? t->src[i].ops->sample(&t->src[i], t0, part, f->reason,
						      sizeof(f->reason))
			      : -ENOMEM;
		f->seconds = (double)(mono_ns() - t0) / 1e9;
		if (rc < 0) {
			cJSON_Delete(part);
			if (!f->reason[0])
				snprintf(f->reason, sizeof(f->reason), "%s", strerror(-rc));
			continue;
		}
		f->part = part;
	}
}

/* --- the ring (loop thread) ------------------------------------------------- */

static cJSON *unavailable(const char *reason)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddFalseToObject(o, "available");
	cJSON_AddStringToObject(o, "reason", reason);
	return o;
}

/* Puts "available": true first in a part. */
static void mark_available(cJSON *o)
{
	cJSON *a = o ? cJSON_CreateTrue() : NULL;
	if (!a)
		return;
	cJSON_AddItemToObject(o, "available", a);
	cJSON_DetachItemViaPointer(o, a);
	cJSON_InsertItemInArray(o, 0, a);
}

/* The final form of source i's part: "available" first. */
static cJSON *finish_part(struct telemetry *t, size_t i)
{
	if (!t->enabled[i])
		return unavailable("disabled by [telemetry] sources");
	if (t->init_rc[i] < 0)
		return unavailable(t->init_reason[i]);
	struct fresh *f = &t->fresh[i];
	cJSON *o = f->part;
	f->part = NULL;
	if (!o)
		return unavailable(f->reason);
	mark_available(o);
	cJSON_AddNumberToObject(o, "sample_seconds", f->seconds);
	return o;
}

static void snap_clear(struct snap *s)
{
	for (size_t i = 0; i < TM_N_PARTS; i++) {
		free(s->part[i]);
		s->part[i] = NULL;
	}
}

static const struct snap *snap_at(const struct telemetry *t, size_t back)
{
	if (back >= t->n)
		return NULL;
	return &t->ring[(t->head + t->cap - 1 - back) % t->cap];
}

size_t telemetry_n_samples(const struct telemetry *t)
{
	return t ? t->n : 0;
}

static cJSON *snap_json(const struct telemetry *t, const struct snap *s, uint32_t mask)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "seq", (double)s->seq);
	cJSON_AddNumberToObject(o, "time", s->time);
	cJSON_AddNumberToObject(o, "interval_ms", t->interval_ms);
	cJSON *src = cJSON_AddObjectToObject(o, "sources");
	for (size_t i = 0; src && i < TM_N_PARTS; i++)
		if ((mask & (1u << i)) && s->part[i])
			cJSON_AddItemToObject(src, telemetry_part_name(i), cJSON_CreateRaw(s->part[i]));
	if (!src || !cJSON_GetObjectItemCaseSensitive(o, "time")) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *telemetry_snapshot_json(const struct telemetry *t, size_t back, uint32_t mask)
{
	const struct snap *s = t ? snap_at(t, back) : NULL;
	return s ? snap_json(t, s, mask) : NULL;
}

const cJSON *telemetry_latest_part(const struct telemetry *t, size_t part)
{
	return t && part < TM_N_PARTS ? t->latest[part] : NULL;
}

uint64_t telemetry_latest_mono_ns(const struct telemetry *t)
{
	return t ? t->latest_ns : 0;
}

uint32_t telemetry_interval_ms(const struct telemetry *t)
{
	return t ? t->interval_ms : 0;
}

const struct tm_source *telemetry_source(const struct telemetry *t, size_t part)
{
	if (!t || part >= CONFIG_N_SOURCES || !t->inited || !t->enabled[part] ||
	    t->init_rc[part] < 0)
		return NULL;
	return &t->src[part];
}

/* --- subscribers and recordings ------------------------------------------- */

static void push_subs(struct telemetry *t, const struct snap *s, uint64_t now)
{
	for (struct sub *u = t->subs; u; u = u->next) {
		/* Half an interval of slack: timer jitter must not skip a round. */
		if (now + t->interval_ms * 500000ull < u->next_ns)
			continue;
		u->next_ns += u->every_ns;
		if (u->next_ns < now)
			u->next_ns = now + u->every_ns;
		cJSON *n = cJSON_CreateObject();
		cJSON_AddStringToObject(n, "jsonrpc", "2.0");
		cJSON_AddStringToObject(n, "method", "telemetry.sample");
		cJSON *p = cJSON_AddObjectToObject(n, "params");
		cJSON_AddNumberToObject(p, "subscription", (double)u->id);
		cJSON *sj = snap_json(t, s, u->mask);
		if (!sj || !cJSON_AddItemToObject(p, "sample", sj)) {
			cJSON_Delete(sj);
			cJSON_Delete(n);
			continue;
		}
		char *text = cJSON_PrintUnformatted(n);
		cJSON_Delete(n);
		if (!text)
			continue;
		size_t len = strlen(text);
		char *line = realloc(text, len + 2);
		if (!line) {
			free(text);
			continue;
		}
		line[len] = '\n';
		line[len + 1] = '\0';
		server_push(u->client, line, len + 1);
	}
}

static void rec_end(struct telemetry *t, struct rec *r, const char *why)
{
	DLIST_REMOVE(t->recs, r, prev, next);
	if (close(r->fd) < 0 && !r->err)
		r->err = errno;
	if (r->err) {
		call_errorf(r->call, HWOPT_E_INTERNAL, "trace.record: %s: %s after %llu samples",
			    r->path, strerror(r->err), (unsigned long long)r->samples);
	} else {
		cJSON *res = cJSON_CreateObject();
		cJSON_AddStringToObject(res, "path", r->path);
		cJSON_AddNumberToObject(res, "samples", (double)r->samples);
		cJSON_AddNumberToObject(res, "bytes", (double)r->bytes);
		if (why)
			cJSON_AddStringToObject(res, "stopped", why);
		call_reply(r->call, res);
	}
	client_unref(r->client);
	free(r);
}

static void write_recs(struct telemetry *t, const struct snap *s, uint64_t now)
{
	for (struct rec *r = t->recs, *next; r; r = next) {
		next = r->next;
		cJSON *sj = snap_json(t, s, r->mask);
		char *text = sj ? cJSON_PrintUnformatted(sj) : NULL;
		cJSON_Delete(sj);
		if (!text) {
			r->err = ENOMEM;
		} else if (!r->err) {
			size_t len = strlen(text);
			text[len] = '\n'; /* replaces the NUL: write len + 1 bytes */
			for (size_t off = 0; off <= len;) {
				ssize_t w = write(r->fd, text + off, len + 1 - off);
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0) {
					r->err = errno;
					break;
				}
				off += (size_t)w;
			}
			if (!r->err) {
				r->samples++;
				r->bytes += len + 1;
			}
		}
		free(text);
		if (r->err || now + t->interval_ms * 500000ull >= r->until_ns)
			rec_end(t, r, NULL);
	}
}

/* --- one round done (loop thread) -------------------------------------------- */

static struct pmu_counters *worker_counters(const void *ctx, size_t i)
{
	return tm_perf_worker_counters(ctx, i);
}

/* Once the perf source has opened the workers' counters, jobs count too. */
static void wire_pmu(struct telemetry *t)
{
	const struct tm_source *perf = telemetry_source(t, PERF_PART);
	if (t->pmu_wired || !perf || !t->d->sched)
		return;
	t->pmu_wired = true;
	const struct pmu_events *ev = tm_perf_events(perf);
	if (ev)
		sched_set_pmu(t->d->sched, ev, worker_counters, perf);
}


static void sample_done(uv_work_t *w, int status)
{
	struct telemetry *t = w->data;
	t->working = false;
	if (status < 0 || t->stopping) {
		for (size_t i = 0; i < CONFIG_N_SOURCES; i++) {
			cJSON_Delete(t->fresh[i].part);
			t->fresh[i].part = NULL;
		}
		return;
	}
	struct snap *s = &t->ring[t->head];
	snap_clear(s);
	s->seq = ++t->seq;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->time = (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1e3;
	double dt = t->latest_ns ? (double)(t->sample_ns - t->latest_ns) / 1e9 : 0;
	for (size_t i = 0; i < TM_N_PARTS; i++) {
		cJSON *part = i < CONFIG_N_SOURCES
				      ? finish_part(t, i)
				      : stats_json(t->d, &t->prev, dt, t->latest[POWER_PART]);
		if (i == TM_PART_DAEMON)
			mark_available(part);
		if (i < CONFIG_N_SOURCES) {
			t->up[i] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part, "available"));
			t->dur[i] = t->fresh[i].seconds;
		}
		s->part[i] = part ? cJSON_PrintUnformatted(part) : NULL;
		cJSON_Delete(t->latest[i]);
		t->latest[i] = part;
	}
	t->latest_ns = t->sample_ns;
	wire_pmu(t);
	t->head = (t->head + 1) % t->cap;
	if (t->n < t->cap)
		t->n++;
	uint64_t now = mono_ns();
	push_subs(t, s, now);
	write_recs(t, s, now);
	policy_on_sample(t->d);
}

static void on_tick(uv_timer_t *h)
{
	struct telemetry *t = h->data;
	if (t->working) {
		t->overruns++;
		return;
	}
	t->working = true;
	if (uv_queue_work(h->loop, &t->work, sample_work, sample_done) < 0)
		t->working = false;
}

/* --- life ---------------------------------------------------------------------- */

int telemetry_start(struct hwoptd *d, char *err, size_t errlen)
{
	struct telemetry *t = calloc(1, sizeof(*t));
	if (!t || !(t->ring = calloc(d->cfg.history, sizeof(*t->ring)))) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t->d = d;
	t->cap = d->cfg.history;
	t->interval_ms = d->cfg.interval_ms;
	snprintf(t->env.sysfs_root, sizeof(t->env.sysfs_root), "%s", d->cfg.sysfs_root);
	snprintf(t->env.procfs_root, sizeof(t->env.procfs_root), "%s", d->cfg.procfs_root);
	snprintf(t->env.perf_events, sizeof(t->env.perf_events), "%s", d->cfg.perf_events);
	size_t nw = d->sched ? sched_n_workers(d->sched) : 0;
	t->env.n_workers = nw < TM_MAX_WORKERS ? nw : TM_MAX_WORKERS;
	for (size_t i = 0; i < t->env.n_workers; i++) {
		t->env.worker_tids[i] = sched_worker_tid(d->sched, i);
		t->env.worker_cpus[i] = sched_worker_cpu(d->sched, i);
	}
	for (size_t i = 0; i < CONFIG_N_SOURCES; i++)
		t->enabled[i] = config_source_enabled(&d->cfg, telemetry_part_name(i));
	uv_timer_init(d->loop, &t->timer);
	t->timer.data = t;
	t->work.data = t;
	uv_timer_start(&t->timer, on_tick, 0, t->interval_ms);
	d->tm = t;
	log_info("telemetry: sampling every %u ms, keeping %u samples, sources %s, sysfs %s, "
		 "procfs %s", t->interval_ms, d->cfg.history, d->cfg.sources, t->env.sysfs_root,
		 t->env.procfs_root);
	return 0;
}

void telemetry_stop(struct telemetry *t)
{
	if (!t || t->stopping)
		return;
	t->stopping = true;
	uv_timer_stop(&t->timer);
	while (t->recs)
		rec_end(t, t->recs, "daemon stopping");
	while (t->subs) {
		struct sub *u = t->subs;
		DLIST_REMOVE(t->subs, u, prev, next);
		free(u);
	}
}

void telemetry_close_handles(struct telemetry *t)
{
	if (!t || t->closed)
		return;
	telemetry_stop(t);
	t->closed = true;
	/* A round in flight cannot be cancelled once running; the loop's last
	 * run waits for it and sample_done drops its results. */
	uv_cancel((uv_req_t *)&t->work);
	uv_close((uv_handle_t *)&t->timer, NULL);
}

void telemetry_free(struct telemetry *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < CONFIG_N_SOURCES; i++)
		if (t->inited && t->enabled[i] && t->init_rc[i] >= 0 && t->src[i].ops->fini)
			t->src[i].ops->fini(&t->src[i]);
	for (size_t i = 0; i < t->cap; i++)
		snap_clear(&t->ring[i]);
	for (size_t i = 0; i < TM_N_PARTS; i++)
		cJSON_Delete(t->latest[i]);
	free(t->ring);
	free(t);
}

/* --- subscriptions and recordings -------------------------------------------- */

uint32_t telemetry_sub_interval(const struct telemetry *t, uint32_t interval_ms)
{
	uint64_t k = (interval_ms + (uint64_t)t->interval_ms - 1) / t->interval_ms;
	return (uint32_t)((k ? k : 1) * t->interval_ms);
}

int64_t telemetry_subscribe(struct telemetry *t, struct client *c, uint32_t interval_ms,
			    uint32_t mask)
{
	unsigned n = 0;
	for (struct sub *u = t->subs; u; u = u->next)
		n += u->client == c;
	if (n >= MAX_CLIENT_SUBS)
		return -ENOSPC;
	struct sub *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	uint32_t every = telemetry_sub_interval(t, interval_ms);
	u->id = ++t->next_sub;
	u->client = c;
	u->every_ns = (uint64_t)every * 1000000u;
	u->next_ns = 0; /* the next sample goes out at once */
	u->mask = mask;
	DLIST_PUSH(t->subs, u, prev, next);
	return u->id;
}

int telemetry_unsubscribe(struct telemetry *t, struct client *c, int64_t id)
{
	for (struct sub *u = t->subs; u; u = u->next)
		if (u->id == id && u->client == c) {
			DLIST_REMOVE(t->subs, u, prev, next);
			free(u);
			return 0;
		}
	return -ENOENT;
}

void telemetry_record(struct telemetry *t, struct hwoptd_call *call, struct client *c, int fd,
		      const char *path, uint32_t seconds, uint32_t mask)
{
	struct rec *r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		call_error(call, HWOPT_E_EXHAUSTED, "out of memory", NULL);
		return;
	}
	r->call = call;
	r->client = c;
	client_ref(c);
	r->fd = fd;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->until_ns = mono_ns() + (uint64_t)seconds * 1000000000u;
	r->mask = mask;
	DLIST_PUSH(t->recs, r, prev, next);
}

void telemetry_client_gone(struct telemetry *t, struct client *c)
{
	if (!t)
		return;
	for (struct sub *u = t->subs, *next; u; u = next) {
		next = u->next;
		if (u->client == c) {
			DLIST_REMOVE(t->subs, u, prev, next);
			free(u);
		}
	}
	for (struct rec *r = t->recs, *next; r; r = next) {
		next = r->next;
		if (r->client == c)
			rec_end(t, r, "client gone");
	}
}

/* --- metrics --------------------------------------------------------------------- */

void telemetry_metrics(const struct telemetry *t, struct prom *p)
{
	prom_family(p, "hwopt_collector_up", PROM_GAUGE,
		    "Whether a telemetry source gave data in the last sample (1) or not (0).");
	prom_family(p, "hwopt_collector_duration_seconds", PROM_GAUGE,
		    "Time the last sample of a telemetry source took.");
	prom_family(p, "hwopt_telemetry_samples_total", PROM_COUNTER,
		    "Telemetry samples taken since the daemon started.");
	prom_family(p, "hwopt_telemetry_overruns_total", PROM_COUNTER,
		    "Sampling rounds skipped because the previous one had not finished.");
	prom_sample(p, "hwopt_telemetry_samples_total", (double)t->seq, NULL);
	prom_sample(p, "hwopt_telemetry_overruns_total", (double)t->overruns, NULL);
	if (!t->seq)
		return;
	for (size_t i = 0; i < CONFIG_N_SOURCES; i++) {
		if (!t->enabled[i])
			continue;
		const char *name = telemetry_part_name(i);
		prom_sample(p, "hwopt_collector_up", t->up[i] ? 1 : 0, "collector", name, NULL);
		if (t->init_rc[i] >= 0)
			prom_sample(p, "hwopt_collector_duration_seconds", t->dur[i], "collector", name,
				    NULL);
		if (t->up[i] && t->latest[i] && t->src[i].ops->metrics)
			t->src[i].ops->metrics(t->latest[i], p);
	}
}
