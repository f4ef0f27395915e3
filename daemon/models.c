#include "models.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autotune.h"
#include "daemon.h"
#include "devices.h"
#include "dlist.h"
#include "jobs.h"
#include "log.h"
#include "proto/errors.h"
#include "sched.h"
#include "tensor_json.h"

/* --- loading (libuv's thread pool) ------------------------------------------ */

/* keep_fp32 is a comma-separated list in the conf; the runtime wants an array. */
static size_t split_keep(char *buf, const char **out, size_t max)
{
	size_t n = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && n < max;
	     tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		size_t len = strlen(tok);
		while (len && tok[len - 1] == ' ')
			tok[--len] = '\0';
		if (len)
			out[n++] = tok;
	}
	return n;
}

static void load_work(uv_work_t *w)
{
	struct model *m = w->data;
	char keep_buf[CONFIG_KEEP_MAX];
	const char *keep[64];
	snprintf(keep_buf, sizeof(keep_buf), "%s", m->conf.keep_fp32);
	struct hwrt_options opt = { 0 };
	hwrt_precision_parse(m->conf.precision, &opt.precision);
	opt.keep_fp32 = keep;
	opt.n_keep_fp32 = split_keep(keep_buf, keep, 64);
	opt.min_cosine = m->conf.min_cosine;
	m->rt = hwrt_model_load(m->conf.path, &opt, m->load_err, sizeof(m->load_err));
	if (!m->rt) {
		m->load_code = HWOPT_E_INVALID_MODEL;
		return;
	}
	m->inst = calloc(m->n_inst, sizeof(*m->inst));
	for (uint32_t i = 0; m->inst && i < m->n_inst; i++)
		if (!(m->inst[i].session = hwrt_session_create(m->rt)))
			break;
	if (!m->inst || !m->inst[m->n_inst - 1].session) {
		snprintf(m->load_err, sizeof(m->load_err), "out of memory making %u sessions",
			 m->n_inst);
		m->load_code = HWOPT_E_INTERNAL;
	}
}

static void model_release(struct model *m)
{
	for (uint32_t i = 0; m->inst && i < m->n_inst; i++)
		hwrt_session_free(m->inst[i].session);
	free(m->inst);
	hwrt_model_free(m->rt);
	autotune_model_free(m);
	free(m);
}

static void unlink_model(struct hwoptd *d, struct model *m)
{
	DLIST_REMOVE(d->models, m, prev, next);
	d->n_models--;
}

static void on_closed(uv_handle_t *h)
{
	struct model *m = h->data;
	/* A measurement runs on m's graph: it frees m when it ends. */
	if (autotune_busy(m)) {
		m->release_deferred = true;
		return;
	}
	model_release(m);
}

void models_measure_done(struct model *m)
{
	if (m->release_deferred)
		model_release(m);
}

/* The grace timer is the last handle a model owns. */
static void model_destroy(struct hwoptd *d, struct model *m)
{
	unlink_model(d, m);
	autotune_cancel(m);
	if (uv_is_closing((uv_handle_t *)&m->grace)) {
		/* Shutting down: the loop is closing every handle; free at the end. */
		m->next = d->dead_models;
		d->dead_models = m;
		return;
	}
	uv_close((uv_handle_t *)&m->grace, on_closed);
}

/* Every input's dim 0 open: requests can be stacked. */
static bool dim0_open(const struct hwrt_model *rt)
{
	size_t n = hwrt_model_n_inputs(rt);
	for (size_t i = 0; i < n; i++) {
		const struct hwrt_io_info *io = hwrt_model_input(rt, i);
		if (io->rank < 1 || io->dims[0] >= 0)
			return false;
	}
	return n > 0;
}

static void load_done(uv_work_t *w, int status)
{
	struct model *m = w->data;
	struct hwoptd *d = m->d;
	m->load_ms = (double)(uv_hrtime() - m->load_started_ns) / 1e6;
	if (status == UV_ECANCELED) {
		m->load_code = HWOPT_E_SHUTTING_DOWN;
		snprintf(m->load_err, sizeof(m->load_err), "hwoptd is shutting down");
	}
	if (m->load_code == 0 && d->stopping) {
		m->load_code = HWOPT_E_SHUTTING_DOWN;
		snprintf(m->load_err, sizeof(m->load_err), "hwoptd is shutting down");
	}
	if (m->load_code) {
		log_error("model %s: cannot load %s: %s", m->conf.name, m->conf.path, m->load_err);
		if (m->load_call)
			call_error(m->load_call, m->load_code, m->load_err, NULL);
		model_destroy(d, m);
		return;
	}
	m->state = MODEL_READY;
	m->free_inst = m->n_inst;
	m->batchable = m->max_batch > 1 && dim0_open(m->rt);
	m->loaded_at = time(NULL);
	struct hwrt_model_stats st;
	hwrt_model_stats(m->rt, &st);
	log_info("model %s loaded from %s in %.0f ms: %s, %zu nodes, %u instances x %u threads%s",
		 m->conf.name, m->conf.path, m->load_ms, m->conf.precision, st.nodes, m->n_inst,
		 m->threads, m->batchable ? ", batching" : "");
	if (m->load_call)
		call_reply(m->load_call, models_json(d, m));
	m->load_call = NULL;
	autotune_model_ready(d, m);
}

/* A caller other than root may load only a file it could read itself: the
 * daemon must not read files on behalf of those who may not. */
static int peer_may_read(const struct peer_cred *p, const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? HWOPT_E_NOT_FOUND : HWOPT_E_INVALID_PARAMS;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return HWOPT_E_INVALID_PARAMS;
	}
	if (!p || p->uid == 0)
		return 0;
	mode_t bit = p->uid == st.st_uid		 ? S_IRUSR
		     : peer_in_group(p, st.st_gid) ? S_IRGRP
						   : S_IROTH;
	if (!(st.st_mode & bit)) {
		snprintf(err, errlen, "%s: the caller (uid %u) may not read it", path, (unsigned)p->uid);
		return HWOPT_E_PERMISSION;
	}
	return 0;
}

/* Threads, max_batch and the batch delay: what the [model] section (or
 * model.load) gives, else for threads the autotune cache, else the device
 * profile, else the defaults (workers / instances, 1, the conf's 500 us). */
static void resolve_tuning(struct hwoptd *d, struct model *m)
{
	const struct model_conf *mc = &m->conf;
	const struct device_profile *dp = devices_profile(d);
	const struct device_tuning *dt = dp ? &dp->tuning : NULL;
	uint32_t workers = (uint32_t)sched_n_workers(d->sched);
	if (dp)
		snprintf(m->tune_device, sizeof(m->tune_device), "%s", dp->name);

	uint32_t cached = 0;
	if (mc->threads_per_instance) {
		m->threads = mc->threads_per_instance;
		m->src_threads = TUNE_CONFIG;
	} else if ((cached = autotune_lookup(d, m))) {
		m->threads = cached;
		m->src_threads = TUNE_AUTOTUNE;
	} else if (dt && (dt->set & MODEL_SET_THREADS)) {
		m->threads = dt->threads_per_instance < workers ? dt->threads_per_instance : workers;
		m->src_threads = TUNE_DEVICE;
	} else {
		m->threads = workers / m->n_inst ? workers / m->n_inst : 1;
		m->src_threads = TUNE_DEFAULT;
	}
	if (!m->threads)
		m->threads = 1;

	m->max_batch = mc->max_batch ? mc->max_batch : 1;
	m->src_max_batch = (mc->set & MODEL_SET_MAX_BATCH) ? TUNE_CONFIG : TUNE_DEFAULT;
	if (!(mc->set & MODEL_SET_MAX_BATCH) && dt && (dt->set & MODEL_SET_MAX_BATCH)) {
		m->max_batch = dt->max_batch;
		m->src_max_batch = TUNE_DEVICE;
	}
	uint32_t delay = mc->batch_delay_us;
	m->src_delay = (mc->set & MODEL_SET_BATCH_DELAY) ? TUNE_CONFIG : TUNE_DEFAULT;
	if (!(mc->set & MODEL_SET_BATCH_DELAY) && dt && (dt->set & MODEL_SET_BATCH_DELAY)) {
		delay = dt->batch_delay_us;
		m->src_delay = TUNE_DEVICE;
	}
	m->batch_delay_ns = (uint64_t)delay * 1000u;
}

int models_load(struct hwoptd *d, const struct model_conf *mc, struct hwoptd_call *call,
		int *code, char *err, size_t errlen)
{
	if (models_find(d, mc->name)) {
		snprintf(err, errlen, "params.name: a model named '%s' is already loaded", mc->name);
		*code = HWOPT_E_INVALID_PARAMS;
		return -1;
	}
	if (d->n_models >= d->cfg.max_models) {
		snprintf(err, errlen, "%u models are loaded, the limit (max_models)", d->n_models);
		*code = HWOPT_E_EXHAUSTED;
		return -1;
	}
	int rc = peer_may_read(call ? call_peer(call) : NULL, mc->path, err, errlen);
	if (rc) {
		*code = rc;
		return -1;
	}
	struct model *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		*code = HWOPT_E_INTERNAL;
		return -1;
	}
	m->d = d;
	m->conf = *mc;
	m->state = MODEL_LOADING;
	m->n_inst = mc->instances ? mc->instances : 1;
	resolve_tuning(d, m);
	m->load_call = call;
	m->load_started_ns = uv_hrtime();
	uv_timer_init(d->loop, &m->grace);
	m->grace.data = m;
	m->work.data = m;
	DLIST_PUSH(d->models, m, prev, next);
	d->n_models++;
	rc = uv_queue_work(d->loop, &m->work, load_work, load_done);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start loading: %s", uv_strerror(rc));
		*code = HWOPT_E_INTERNAL;
		m->load_call = NULL;
		model_destroy(d, m);
		return -1;
	}
	return 0;
}

void models_load_config(struct hwoptd *d)
{
	for (size_t i = 0; i < d->cfg.n_models; i++) {
		char err[1024];
		int code;
		if (models_load(d, &d->cfg.models[i], NULL, &code, err, sizeof(err)) < 0)
			log_error("model %s: %s", d->cfg.models[i].name, err);
	}
}

struct model *models_find(struct hwoptd *d, const char *name)
{
	for (struct model *m = d->models; m; m = m->next)
		if (strcmp(m->conf.name, name) == 0)
			return m;
	return NULL;
}

/* --- unloading ----------------------------------------------------------- */

static void unload_finish(struct hwoptd *d, struct model *m)
{
	uv_timer_stop(&m->grace);
	if (m->unload_call) {
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "name", m->conf.name);
		cJSON_AddNumberToObject(r, "finished",
					(double)(m->c.ok + m->c.failed + m->c.expired - m->unload_done_before));
		cJSON_AddNumberToObject(r, "cancelled",
					(double)(m->c.cancelled - m->unload_cancelled_before));
		call_reply(m->unload_call, r);
		m->unload_call = NULL;
	}
	log_info("model %s unloaded", m->conf.name);
	model_destroy(d, m);
}

static void on_grace(uv_timer_t *t)
{
	struct model *m = t->data;
	unsigned n = jobs_cancel_model(m->d, m);
	if (n)
		log_info("model %s: unload grace over, %u jobs cancelled", m->conf.name, n);
}

void models_unload(struct hwoptd *d, struct model *m, uint32_t grace_ms, struct hwoptd_call *call)
{
	m->state = MODEL_UNLOADING;
	m->unload_call = call;
	m->unload_done_before = m->c.ok + m->c.failed + m->c.expired;
	m->unload_cancelled_before = m->c.cancelled;
	if (m->in_flight == 0) {
		unload_finish(d, m);
		return;
	}
	uv_timer_start(&m->grace, on_grace, grace_ms, 0);
}

void models_job_done(struct hwoptd *d, struct model *m)
{
	m->in_flight--;
	if (m->state == MODEL_UNLOADING && m->in_flight == 0)
		unload_finish(d, m);
}

void models_free_all(struct hwoptd *d)
{
	while (d->dead_models) {
		struct model *m = d->dead_models;
		d->dead_models = m->next;
		model_release(m);
	}
	while (d->models) {
		struct model *m = d->models;
		unlink_model(d, m);
		if (m->unload_call)
			call_error(m->unload_call, HWOPT_E_SHUTTING_DOWN, "hwoptd is shutting down", NULL);
		m->unload_call = NULL;
		model_release(m);
	}
}

/* --- listing ------------------------------------------------------------- */

static cJSON *io_json(const struct hwrt_io_info *io)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", io->name);
	cJSON_AddStringToObject(o, "dtype", hwrt_dtype_name(io->dtype));
	if (io->rank < 0) {
		cJSON_AddNullToObject(o, "shape");
		return o;
	}
	cJSON_AddItemToObject(o, "shape", tensor_shape_json(io->dims, io->rank));
	cJSON *names = cJSON_AddArrayToObject(o, "dim_names");
	for (int i = 0; i < io->rank; i++)
		cJSON_AddItemToArray(names, io->dims[i] < 0 ? cJSON_CreateString(io->dim_names[i]
										 ? io->dim_names[i] : "")
							    : cJSON_CreateNull());
	return o;
}

static const char *state_name(enum model_state s)
{
	return s == MODEL_LOADING ? "loading" : s == MODEL_READY ? "ready" : "unloading";
}

static cJSON *source_json(const struct model *m, uint8_t src)
{
	char buf[80];
	switch (src) {
	case TUNE_CONFIG: return cJSON_CreateString("config");
	case TUNE_AUTOTUNE: return cJSON_CreateString("autotune");
	case TUNE_DEVICE:
		snprintf(buf, sizeof(buf), "device:%s", m->tune_device);
		return cJSON_CreateString(buf);
	}
	return cJSON_CreateString("default");
}

static void add_tuning(struct model *m, cJSON *o)
{
	cJSON *t = cJSON_AddObjectToObject(o, "tuning_source");
	cJSON_AddItemToObject(t, "threads_per_instance", source_json(m, m->src_threads));
	cJSON_AddItemToObject(t, "max_batch", source_json(m, m->src_max_batch));
	cJSON_AddItemToObject(t, "batch_delay_us", source_json(m, m->src_delay));
	cJSON *a = autotune_model_json(m);
	if (a)
		cJSON_AddItemToObject(o, "autotune", a);
}

static void add_counters(struct hwoptd *d, struct model *m, cJSON *o)
{
	cJSON *c = cJSON_AddObjectToObject(o, "counters");
	unsigned queued = 0, running = 0;
	if (m->rt)
		sched_model_counts(d->sched, m, &queued, &running);
	cJSON_AddNumberToObject(c, "requests", (double)m->c.requests);
	cJSON_AddNumberToObject(c, "ok", (double)m->c.ok);
	cJSON_AddNumberToObject(c, "failed", (double)m->c.failed);
	cJSON_AddNumberToObject(c, "cancelled", (double)m->c.cancelled);
	cJSON_AddNumberToObject(c, "expired", (double)m->c.expired);
	cJSON_AddNumberToObject(c, "batches", (double)__atomic_load_n(&m->c.batches, __ATOMIC_RELAXED));
	cJSON_AddNumberToObject(c, "batched_requests", (double)m->c.batched_requests);
	cJSON_AddNumberToObject(c, "queued", queued);
	cJSON_AddNumberToObject(c, "running", running);
	cJSON_AddNumberToObject(c, "queue_us_total", (double)m->c.queue_us_total);
	cJSON_AddNumberToObject(c, "compute_us_total", (double)m->c.compute_us_total);
}

cJSON *models_json(struct hwoptd *d, struct model *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", m->conf.name);
	cJSON_AddStringToObject(o, "path", m->conf.path);
	cJSON_AddStringToObject(o, "state", state_name(m->state));
	cJSON_AddStringToObject(o, "precision", m->conf.precision);
	cJSON_AddNumberToObject(o, "instances", m->n_inst);
	cJSON_AddNumberToObject(o, "threads_per_instance", m->threads);
	cJSON_AddNumberToObject(o, "max_batch", m->max_batch);
	cJSON_AddNumberToObject(o, "batch_delay_us", (double)(m->batch_delay_ns / 1000u));
	cJSON_AddBoolToObject(o, "batchable", m->batchable);
	add_tuning(m, o);
	add_counters(d, m, o);
	if (m->state == MODEL_LOADING)
		return o;
	struct hwrt_model_stats st;
	hwrt_model_stats(m->rt, &st);
	cJSON_AddNumberToObject(o, "reduced_nodes", (double)st.reduced);
	cJSON *in = cJSON_AddArrayToObject(o, "inputs");
	for (size_t i = 0; i < hwrt_model_n_inputs(m->rt); i++)
		cJSON_AddItemToArray(in, io_json(hwrt_model_input(m->rt, i)));
	cJSON *out = cJSON_AddArrayToObject(o, "outputs");
	for (size_t i = 0; i < hwrt_model_n_outputs(m->rt); i++)
		cJSON_AddItemToArray(out, io_json(hwrt_model_output(m->rt, i)));
	size_t arenas = sched_model_arenas(d->sched, m);
	cJSON *mem = cJSON_AddObjectToObject(o, "memory_bytes");
	cJSON_AddNumberToObject(mem, "weights", (double)st.weight_bytes);
	cJSON_AddNumberToObject(mem, "arenas", (double)arenas);
	cJSON_AddNumberToObject(mem, "total", (double)(st.weight_bytes + arenas));
	cJSON_AddNumberToObject(o, "loaded_at", (double)m->loaded_at);
	cJSON_AddNumberToObject(o, "load_ms", m->load_ms);
	const struct hwrt_accuracy *acc;
	size_t na = hwrt_model_accuracy(m->rt, &acc);
	cJSON *aj = cJSON_AddArrayToObject(o, "accuracy");
	for (size_t i = 0; i < na; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "output", acc[i].output);
		cJSON_AddNumberToObject(e, "cosine", acc[i].cosine);
		cJSON_AddNumberToObject(e, "max_abs_err", acc[i].max_abs_err);
		cJSON_AddNumberToObject(e, "mse", acc[i].mse);
		cJSON_AddItemToArray(aj, e);
	}
	return o;
}
