#include "autotune.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "daemon.h"
#include "devices.h"
#include "log.h"
#include "models.h"
#include "sched.h"

#define AT_MAX_T 16                  /* 1, 2, 4, ..., 512 and the worker count */
#define AT_MAX_ENTRIES 256           /* the cache forgets the oldest beyond */
#define AT_MIN_RUNS 3
#define AT_MAX_RUNS 10000
#define AT_WINDOW_NS 100000000ull    /* timed runs per thread count: ~100 ms */
#define AT_SLACK 1.10                /* within 10% of the best counts as the best */
#define AT_MAX_INPUT_BYTES (1ull << 30)
#define AT_VERSION 1

struct autotune {
	char path[PATH_MAX + 16];    /* <state_dir>/autotune.json */
	cJSON *cache;                /* {"version": 1, "entries": [...]} */
	/* One measurement at a time, or they would time each other. */
	struct autotune_job *running;
	struct autotune_job *queue, *queue_tail;
};

/* The cache key of a model's file, and its figures. */
struct autotune_model {
	bool have_key;
	char path[PATH_MAX];         /* real path */
	double size, mtime;          /* bytes; seconds */
	double mtime_nsec;
	char cpu[160];
	uint32_t workers;
	char precision[8];

	bool have;                   /* measured or from the cache */
	bool from_cache;
	size_t n;
	uint32_t t[AT_MAX_T];
	double lat[AT_MAX_T];        /* median seconds a run */
	uint32_t chosen;

	struct autotune_job *job;    /* measuring */
};

/* A measurement: what the thread pool needs, copied, but the graph, which
 * the model keeps alive until the job ends (models.c on_closed). */
struct autotune_job {
	uv_work_t work;
	struct hwoptd *d;
	struct model *m;
	const struct hwrt_model *rt;
	struct autotune_job *next;   /* queued */
	char name[CONFIG_NAME_MAX];
	int cancel;                  /* atomic; the session reads it too */
	size_t n;
	uint32_t t[AT_MAX_T];
	double lat[AT_MAX_T];
	int rc;                      /* 0, -1 with err, HWRT_CANCELLED */
	char err[512];
};

/* --- the cache file ----------------------------------------------------- */

static bool is_num(const cJSON *o, const char *k)
{
	return cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, k));
}

static bool is_str(const cJSON *o, const char *k)
{
	return cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, k));
}

static double num(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k)->valuedouble;
}

static const char *str(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k)->valuestring;
}

/* An entry as autotune wrote it: the key, the figures by thread count and
 * a chosen count among them. */
static bool entry_ok(const cJSON *e)
{
	if (!cJSON_IsObject(e) || !is_str(e, "path") || !is_num(e, "size") || !is_num(e, "mtime") ||
	    !is_num(e, "mtime_nsec") || !is_str(e, "cpu") || !is_num(e, "workers") ||
	    !is_str(e, "precision") || !is_num(e, "chosen"))
		return false;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "threads"), *it;
	if (!cJSON_IsObject(t) || cJSON_GetArraySize(t) < 1 || cJSON_GetArraySize(t) > AT_MAX_T)
		return false;
	double workers = num(e, "workers"), chosen = num(e, "chosen");
	bool have_chosen = false;
	cJSON_ArrayForEach(it, t) {
		char *end;
		long n = strtol(it->string, &end, 10);
		if (*end || n < 1 || n > workers || !cJSON_IsNumber(it) || !(it->valuedouble >= 0))
			return false;
		have_chosen |= (double)n == chosen;
	}
	return have_chosen && workers >= 1 && workers <= 1024;
}

static const char *cache_check(const cJSON *c)
{
	if (!cJSON_IsObject(c))
		return "not a JSON object";
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "version");
	if (!cJSON_IsNumber(v) || v->valuedouble != AT_VERSION)
		return "no \"version\": 1";
	const cJSON *es = cJSON_GetObjectItemCaseSensitive(c, "entries"), *e;
	if (!cJSON_IsArray(es))
		return "no \"entries\" array";
	cJSON_ArrayForEach(e, es)
		if (!entry_ok(e))
			return "an entry lacks its key or figures";
	return NULL;
}

static cJSON *cache_new(void)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddNumberToObject(c, "version", AT_VERSION);
	if (!cJSON_AddArrayToObject(c, "entries")) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

/* tmp file, fsync, rename: a crash leaves the old cache or the new one. */
static int cache_write(struct autotune *at)
{
	char *text = cJSON_Print(at->cache);
	if (!text)
		return -ENOMEM;
	char tmp[sizeof(at->path) + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", at->path);
	int rc = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	(void)fchmod(fd, 0600);
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (rc == 0 && (write(fd, "\n", 1) != 1 || fsync(fd) < 0))
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, at->path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
out:
	if (rc < 0)
		log_warning("autotune: cannot write %s: %s", at->path, strerror(-rc));
	free(text);
	return rc;
}

static char *read_file(const char *path, size_t max)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = malloc(max + 1);
	size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
	int e = ferror(f) ? EIO : n > max ? EFBIG : 0;
	fclose(f);
	if (buf && e) {
		free(buf);
		errno = e;
		return NULL;
	}
	if (buf)
		buf[n] = '\0';
	return buf;
}

int autotune_init(struct hwoptd *d)
{
	struct autotune *at = calloc(1, sizeof(*at));
	if (!at)
		return -ENOMEM;
	snprintf(at->path, sizeof(at->path), "%s/autotune.json", d->cfg.state_dir);
	d->at = at;
	errno = 0;
	char *text = read_file(at->path, 4u << 20);
	const char *why = NULL;
	char reason[256];
	if (!text && errno != ENOENT) {
		snprintf(reason, sizeof(reason), "unreadable: %s", strerror(errno ? errno : ENOMEM));
		why = reason;
	} else if (text) {
		const char *end = NULL;
		at->cache = cJSON_ParseWithOpts(text, &end, true);
		if (!at->cache) {
			snprintf(reason, sizeof(reason), "not JSON (at byte %td)", end ? end - text : 0);
			why = reason;
		} else {
			why = cache_check(at->cache);
		}
	}
	free(text);
	if (why) {
		cJSON_Delete(at->cache);
		at->cache = NULL;
	}
	if (!at->cache && !(at->cache = cache_new()))
		return -ENOMEM;
	if (why) {
		log_warning("autotune: the cache %s is corrupt (%s); replacing it with an empty one",
			    at->path, why);
		cache_write(at);
	} else {
		log_debug("autotune: %d cached measurements in %s",
			  cJSON_GetArraySize(cJSON_GetObjectItem(at->cache, "entries")), at->path);
	}
	return 0;
}

void autotune_free(struct hwoptd *d)
{
	if (!d->at)
		return;
	while (d->at->queue) {
		struct autotune_job *j = d->at->queue;
		d->at->queue = j->next;
		j->m->at->job = NULL;
		free(j);
	}
	cJSON_Delete(d->at->cache);
	free(d->at);
	d->at = NULL;
}

/* --- keys and figures --------------------------------------------------------- */

static struct autotune_model *model_at(struct model *m)
{
	if (!m->at)
		m->at = calloc(1, sizeof(*m->at));
	return m->at;
}

static void compute_key(struct hwoptd *d, struct model *m)
{
	struct autotune_model *a = m->at;
	struct stat st;
	if (a->have_key || !realpath(m->conf.path, a->path) || stat(a->path, &st) < 0)
		return;
	a->size = (double)st.st_size;
	a->mtime = (double)st.st_mtim.tv_sec;
	a->mtime_nsec = (double)st.st_mtim.tv_nsec;
	snprintf(a->cpu, sizeof(a->cpu), "%s", devices_cpu_name(d));
	a->workers = (uint32_t)sched_n_workers(d->sched);
	snprintf(a->precision, sizeof(a->precision), "%s", m->conf.precision);
	a->have_key = true;
}

/* The same file (and CPU, workers, precision); exact: also its size and mtime. */
static bool same_key(const cJSON *e, const struct autotune_model *a, bool exact)
{
	if (strcmp(str(e, "path"), a->path) != 0 || strcmp(str(e, "cpu"), a->cpu) != 0 ||
	    num(e, "workers") != a->workers || strcmp(str(e, "precision"), a->precision) != 0)
		return false;
	return !exact || (num(e, "size") == a->size && num(e, "mtime") == a->mtime &&
			  num(e, "mtime_nsec") == a->mtime_nsec);
}

/* "1: 4.1 ms, 2: 2.3 ms" (microseconds below 0.1 ms) */
static void figures_text(const struct autotune_model *a, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < a->n && n < len; i++) {
		bool us = a->lat[i] < 1e-4;
		n += (size_t)snprintf(buf + n, len - n, "%s%u: %.3g %s", i ? ", " : "", a->t[i],
				      a->lat[i] * (us ? 1e6 : 1e3), us ? "us" : "ms");
	}
}

static int cmp_t(const void *x, const void *y)
{
	const double *a = x, *b = y;
	return (a[0] > b[0]) - (a[0] < b[0]);
}

/* Sorted by thread count: the cache's object keys come in file order. */
static void sort_figures(struct autotune_model *a)
{
	double pairs[AT_MAX_T][2];
	for (size_t i = 0; i < a->n; i++) {
		pairs[i][0] = a->t[i];
		pairs[i][1] = a->lat[i];
	}
	qsort(pairs, a->n, sizeof(pairs[0]), cmp_t);
	for (size_t i = 0; i < a->n; i++) {
		a->t[i] = (uint32_t)pairs[i][0];
		a->lat[i] = pairs[i][1];
	}
}

uint32_t autotune_lookup(struct hwoptd *d, struct model *m)
{
	struct autotune_model *a = model_at(m);
	if (!a || !d->cfg.pol.autotune || !d->at)
		return 0;
	compute_key(d, m);
	if (!a->have_key)
		return 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(d->at->cache, "entries")) {
		if (!same_key(e, a, true))
			continue;
		const cJSON *it;
		a->n = 0;
		cJSON_ArrayForEach(it, cJSON_GetObjectItem(e, "threads")) {
			a->t[a->n] = (uint32_t)strtoul(it->string, NULL, 10);
			a->lat[a->n++] = it->valuedouble;
		}
		sort_figures(a);
		a->chosen = (uint32_t)num(e, "chosen");
		a->have = a->from_cache = true;
		char figs[512];
		figures_text(a, figs, sizeof(figs));
		log_info("autotune: model %s: threads %u from cache (%s)", m->conf.name, a->chosen,
			 figs);
		return a->chosen;
	}
	return 0;
}

static void cache_store(struct hwoptd *d, const struct autotune_model *a)
{
	struct autotune *at = d->at;
	if (!at || !a->have_key)
		return;
	cJSON *es = cJSON_GetObjectItem(at->cache, "entries");
	/* An older measurement of the file (it changed since) goes. */
	for (int i = cJSON_GetArraySize(es) - 1; i >= 0; i--)
		if (same_key(cJSON_GetArrayItem(es, i), a, false))
			cJSON_DeleteItemFromArray(es, i);
	while (cJSON_GetArraySize(es) >= AT_MAX_ENTRIES)
		cJSON_DeleteItemFromArray(es, 0);
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "path", a->path);
	cJSON_AddNumberToObject(e, "size", a->size);
	cJSON_AddNumberToObject(e, "mtime", a->mtime);
	cJSON_AddNumberToObject(e, "mtime_nsec", a->mtime_nsec);
	cJSON_AddStringToObject(e, "cpu", a->cpu);
	cJSON_AddNumberToObject(e, "workers", a->workers);
	cJSON_AddStringToObject(e, "precision", a->precision);
	cJSON *t = cJSON_AddObjectToObject(e, "threads");
	for (size_t i = 0; i < a->n; i++) {
		char k[16];
		snprintf(k, sizeof(k), "%u", a->t[i]);
		cJSON_AddNumberToObject(t, k, a->lat[i]);
	}
	cJSON_AddNumberToObject(e, "chosen", a->chosen);
	cJSON_AddNumberToObject(e, "measured_at", (double)time(NULL));
	if (!entry_ok(e)) { /* out of memory on the way */
		cJSON_Delete(e);
		return;
	}
	cJSON_AddItemToArray(es, e);
	cache_write(at);
}

/* --- measuring (libuv's thread pool) ------------------------------------------ */

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

/* Zeros of every input's shape, unnamed dims 1. */
static struct hwrt_tensor *zero_inputs(const struct hwrt_model *rt, size_t ni, char *err,
				       size_t errlen)
{
	struct hwrt_tensor *in = calloc(ni + 1, sizeof(*in));
	for (size_t i = 0; in && i < ni; i++) {
		const struct hwrt_io_info *io = hwrt_model_input(rt, i);
		if (io->rank < 0 || !hwrt_dtype_size(io->dtype)) {
			snprintf(err, errlen, "input %s: %s", io->name,
				 io->rank < 0 ? "its rank is unknown" : "its type cannot be made up");
			goto fail;
		}
		in[i].dtype = io->dtype;
		in[i].rank = io->rank;
		uint64_t count = 1;
		for (int k = 0; k < io->rank; k++) {
			in[i].dims[k] = io->dims[k] < 0 ? 1 : io->dims[k];
			count *= (uint64_t)in[i].dims[k];
			if (count > AT_MAX_INPUT_BYTES) {
				snprintf(err, errlen, "input %s is too large", io->name);
				goto fail;
			}
		}
		size_t bytes = hwrt_tensor_bytes(&in[i]);
		if (bytes > AT_MAX_INPUT_BYTES || !(in[i].data = calloc(bytes ? bytes : 1, 1))) {
			snprintf(err, errlen, "input %s: no memory for %zu bytes", io->name, bytes);
			goto fail;
		}
	}
	if (!in)
		snprintf(err, errlen, "out of memory");
	return in;
fail:
	for (size_t i = 0; i < ni; i++)
		free(in[i].data);
	free(in);
	return NULL;
}

static void tune_work(uv_work_t *w)
{
	struct autotune_job *j = w->data;
	size_t ni = hwrt_model_n_inputs(j->rt), no = hwrt_model_n_outputs(j->rt);
	struct hwrt_tensor *in = zero_inputs(j->rt, ni, j->err, sizeof(j->err));
	struct hwrt_tensor *out = calloc(no + 1, sizeof(*out));
	uint64_t *lat = malloc(AT_MAX_RUNS * sizeof(*lat));
	struct hwrt_session *s = hwrt_session_create(j->rt);
	j->rc = -1;
	if (!in || !out || !lat || !s) {
		if (in)
			snprintf(j->err, sizeof(j->err), "out of memory");
		goto out;
	}
	hwrt_session_set_cancel(s, &j->cancel);
	size_t done = 0;
	for (; done < j->n; done++) {
		uint32_t t = j->t[done];
		struct hwk_pool *pool = t > 1 ? hwk_pool_create(t) : NULL;
		if (t > 1 && !pool) {
			snprintf(j->err, sizeof(j->err), "cannot start %u threads: %s", t, strerror(errno));
			goto out;
		}
		const struct hwk_parallel *par = pool ? hwk_pool_parallel(pool) : NULL;
		/* One run to warm caches and the arena, then ~100 ms of them. */
		int rc = hwrt_run(s, in, ni, out, no, par, j->err, sizeof(j->err));
		size_t n = 0;
		uint64_t start = uv_hrtime();
		while (rc == 0 && n < AT_MAX_RUNS &&
		       (n < AT_MIN_RUNS || uv_hrtime() - start < AT_WINDOW_NS)) {
			uint64_t t0 = uv_hrtime();
			rc = hwrt_run(s, in, ni, out, no, par, j->err, sizeof(j->err));
			lat[n++] = uv_hrtime() - t0;
		}
		hwk_pool_destroy(pool);
		if (rc != 0) {
			j->rc = rc;
			goto out;
		}
		qsort(lat, n, sizeof(*lat), cmp_u64);
		j->lat[done] = (n % 2 ? (double)lat[n / 2] : ((double)lat[n / 2 - 1] + lat[n / 2]) / 2) /
			       1e9;
	}
	j->rc = 0;
out:
	hwrt_session_free(s);
	for (size_t i = 0; in && i < ni; i++)
		free(in[i].data);
	free(in);
	free(out);
	free(lat);
}

static void start_next(struct hwoptd *d);

static void tune_done(uv_work_t *w, int status)
{
	struct autotune_job *j = w->data;
	struct model *m = j->m;
	struct hwoptd *d = j->d;
	struct autotune_model *a = m->at;
	a->job = NULL;
	bool stopped = status == UV_ECANCELED || __atomic_load_n(&j->cancel, __ATOMIC_RELAXED) ||
		       j->rc == HWRT_CANCELLED;
	if (stopped || m->state != MODEL_READY || d->stopping) {
		log_info("autotune: model %s: %s; the measurement is dropped", j->name,
			 m->state != MODEL_READY ? "unloaded meanwhile" : "stopped");
	} else if (j->rc != 0) {
		log_warning("autotune: model %s: cannot measure: %s; threads stay %u", j->name, j->err,
			    m->threads);
	} else {
		double best = j->lat[0];
		for (size_t i = 1; i < j->n; i++)
			if (j->lat[i] < best)
				best = j->lat[i];
		/* More threads that do not pay would only keep workers from other jobs. */
		size_t pick = 0;
		while (j->lat[pick] > best * AT_SLACK)
			pick++;
		a->n = j->n;
		memcpy(a->t, j->t, sizeof(a->t));
		memcpy(a->lat, j->lat, sizeof(a->lat));
		a->chosen = j->t[pick];
		a->have = true;
		a->from_cache = false;
		sched_set_model_threads(d->sched, m, a->chosen);
		m->src_threads = TUNE_AUTOTUNE;
		char figs[512];
		figures_text(a, figs, sizeof(figs));
		log_info("autotune: model %s: threads %s \xe2\x86\x92 %u", j->name, figs, a->chosen);
		cache_store(d, a);
	}
	d->at->running = NULL;
	free(j);
	models_measure_done(m);
	start_next(d);
}

/* Starts the first queued measurement unless one runs. */
static void start_next(struct hwoptd *d)
{
	struct autotune *at = d->at;
	while (!at->running && at->queue && !d->stopping) {
		struct autotune_job *j = at->queue;
		at->queue = j->next;
		if (!at->queue)
			at->queue_tail = NULL;
		j->next = NULL;
		int rc = uv_queue_work(d->loop, &j->work, tune_work, tune_done);
		if (rc < 0) {
			log_warning("autotune: model %s: cannot start measuring: %s", j->name,
				    uv_strerror(rc));
			j->m->at->job = NULL;
			free(j);
			continue;
		}
		at->running = j;
		char list[128];
		size_t n = 0;
		list[0] = '\0';
		for (size_t i = 0; i < j->n && n < sizeof(list); i++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%u", i ? ", " : "", j->t[i]);
		log_info("autotune: model %s: measuring threads %s", j->name, list);
	}
}

void autotune_model_ready(struct hwoptd *d, struct model *m)
{
	if (!d->at || !d->cfg.pol.autotune || m->src_threads == TUNE_CONFIG || d->stopping)
		return;
	struct autotune_model *a = model_at(m);
	if (!a || a->have || a->job)
		return;
	uint32_t workers = (uint32_t)sched_n_workers(d->sched);
	if (workers < 2) {
		log_debug("autotune: model %s: one worker, nothing to measure", m->conf.name);
		return;
	}
	compute_key(d, m);
	struct autotune_job *j = calloc(1, sizeof(*j));
	if (!j) {
		log_warning("autotune: model %s: out of memory", m->conf.name);
		return;
	}
	j->d = d;
	j->m = m;
	j->rt = m->rt;
	snprintf(j->name, sizeof(j->name), "%s", m->conf.name);
	for (uint32_t t = 1; t < workers && j->n < AT_MAX_T - 1; t *= 2)
		j->t[j->n++] = t;
	j->t[j->n++] = workers;
	j->work.data = j;
	a->job = j;
	if (d->at->queue_tail)
		d->at->queue_tail->next = j;
	else
		d->at->queue = j;
	d->at->queue_tail = j;
	start_next(d);
}

bool autotune_busy(const struct model *m)
{
	return m->at && m->at->job && m->d->at && m->d->at->running == m->at->job;
}

void autotune_cancel(struct model *m)
{
	struct autotune *at = m->d->at;
	struct autotune_job *j = m->at ? m->at->job : NULL;
	if (!j || !at)
		return;
	if (at->running == j) {
		__atomic_store_n(&j->cancel, 1, __ATOMIC_RELAXED);
		return;
	}
	/* Still queued: it never started, so nothing holds m. */
	struct autotune_job *prev = NULL;
	for (struct autotune_job *q = at->queue; q; prev = q, q = q->next) {
		if (q != j)
			continue;
		if (prev)
			prev->next = q->next;
		else
			at->queue = q->next;
		if (at->queue_tail == q)
			at->queue_tail = prev;
		break;
	}
	log_debug("autotune: model %s: its measurement is dropped before it started", j->name);
	m->at->job = NULL;
	free(j);
}

void autotune_stop(struct hwoptd *d)
{
	for (struct model *m = d->models; m; m = m->next)
		autotune_cancel(m);
}

cJSON *autotune_model_json(const struct model *m)
{
	const struct autotune_model *a = m->at;
	if (!a || !a->have)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	cJSON *t = cJSON_AddObjectToObject(o, "threads");
	for (size_t i = 0; i < a->n; i++) {
		char k[16];
		snprintf(k, sizeof(k), "%u", a->t[i]);
		cJSON_AddNumberToObject(t, k, a->lat[i]);
	}
	cJSON_AddNumberToObject(o, "chosen", a->chosen);
	cJSON_AddBoolToObject(o, "from_cache", a->from_cache);
	return o;
}

void autotune_model_free(struct model *m)
{
	autotune_cancel(m); /* a queued measurement; a running one holds m */
	free(m->at);
	m->at = NULL;
}
