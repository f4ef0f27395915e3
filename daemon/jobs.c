#include "jobs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "daemon.h"
#include "dlist.h"
#include "log.h"
#include "methods.h"
#include "models.h"
#include "pools.h"
#include "proto/errors.h"
#include "proto/rpc.h"
#include "sched.h"


static void job_free(struct hwoptd *d, struct job *j)
{
	for (size_t i = 0; j->in && i < j->n_in; i++)
		tensor_src_release(d, &j->in[i]);
	for (size_t o = 0; j->out && o < j->n_out; o++)
		if (j->out[o].pool)
			pools_unref(d, j->out[o].pool);
	free(j->in);
	free(j->out);
	free(j->in_buf);
	free(j->line);
	free(j);
}

/* --- making a job ---------------------------------------------------------- */

static void shape_text(const struct hwrt_io_info *io, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "[");
	for (int i = 0; i < io->rank && n < len; i++) {
		if (io->dims[i] >= 0)
			n += (size_t)snprintf(buf + n, len - n, "%s%lld", i ? "," : "",
					      (long long)io->dims[i]);
		else
			n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "",
					      io->dim_names[i] && io->dim_names[i][0] ? io->dim_names[i] : "?");
	}
	if (n < len)
		snprintf(buf + n, len - n, "]");
	if (io->rank < 0)
		snprintf(buf, len, "(any shape)");
}

static void tensor_shape_text(const struct hwrt_tensor *t, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "[");
	for (int i = 0; i < t->rank && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%lld", i ? "," : "", (long long)t->dims[i]);
	if (n < len)
		snprintf(buf + n, len - n, "]");
}

/* Does the tensor fit the model's declaration of that input? */
static int check_input(const struct hwrt_io_info *io, const struct tensor_src *t, char *err,
		       size_t errlen)
{
	char want[200], got[200];
	if (t->t.dtype != io->dtype) {
		snprintf(err, errlen, "params.inputs.%s: dtype %s, the model expects %s", io->name,
			 hwrt_dtype_name(t->t.dtype), hwrt_dtype_name(io->dtype));
		return -1;
	}
	if (io->rank < 0)
		return 0;
	bool ok = t->t.rank == io->rank;
	for (int i = 0; ok && i < io->rank; i++)
		ok = io->dims[i] < 0 || io->dims[i] == t->t.dims[i];
	if (!ok) {
		shape_text(io, want, sizeof(want));
		tensor_shape_text(&t->t, got, sizeof(got));
		snprintf(err, errlen, "params.inputs.%s: shape %s does not match the model's %s %s",
			 io->name, got, hwrt_dtype_name(io->dtype), want);
		return -1;
	}
	return 0;
}

static void missing_input(const struct hwrt_model *m, size_t i, char *err, size_t errlen)
{
	const struct hwrt_io_info *io = hwrt_model_input(m, i);
	char want[200];
	shape_text(io, want, sizeof(want));
	snprintf(err, errlen, "params.inputs: missing input '%s' (%s %s)", io->name,
		 hwrt_dtype_name(io->dtype), want);
}

static void unknown_name(const char *where, const char *name, const struct hwrt_model *m,
			 bool inputs, char *err, size_t errlen)
{
	size_t n = (size_t)snprintf(err, errlen, "%s.%.64s: the model has no %s '%.64s' (it has",
				    where, name, inputs ? "input" : "output", name);
	size_t count = inputs ? hwrt_model_n_inputs(m) : hwrt_model_n_outputs(m);
	for (size_t i = 0; i < count && n < errlen; i++)
		n += (size_t)snprintf(err + n, errlen - n, "%s %s", i ? "," : "",
				      (inputs ? hwrt_model_input(m, i) : hwrt_model_output(m, i))->name);
	if (n < errlen)
		snprintf(err + n, errlen - n, ")");
}

static int index_of(const struct hwrt_model *m, bool inputs, const char *name)
{
	size_t count = inputs ? hwrt_model_n_inputs(m) : hwrt_model_n_outputs(m);
	for (size_t i = 0; i < count; i++)
		if (strcmp((inputs ? hwrt_model_input(m, i) : hwrt_model_output(m, i))->name, name) == 0)
			return (int)i;
	return -1;
}

static int parse_inputs(struct hwoptd *d, struct job *j, cJSON *inputs, char *err, size_t errlen)
{
	const struct hwrt_model *m = j->model->rt;
	if (!cJSON_IsObject(inputs)) {
		snprintf(err, errlen, "params.inputs: must be an object {NAME: TENSOR}");
		return -1;
	}
	cJSON *it;
	cJSON_ArrayForEach(it, inputs) {
		int i = index_of(m, true, it->string);
		if (i < 0) {
			unknown_name("params.inputs", it->string, m, true, err, errlen);
			return -1;
		}
		if (j->in[i].json || j->in[i].pool || j->in[i].bytes) {
			snprintf(err, errlen, "params.inputs.%s: given twice", it->string);
			return -1;
		}
		char where[128];
		snprintf(where, sizeof(where), "params.inputs.%.64s", it->string);
		if (tensor_parse(d, j->client, where, it, &j->in[i], err, errlen) < 0 ||
		    check_input(hwrt_model_input(m, (size_t)i), &j->in[i], err, errlen) < 0)
			return -1;
		if (j->in[i].form != TENSOR_LIST)
			j->base64 = true;
		if (j->in[i].form == TENSOR_POOL && j->in[i].offset % hwrt_dtype_size(j->in[i].t.dtype)) {
			snprintf(err, errlen, "%s.offset: %llu is not a multiple of the %s size (%zu)",
				 where, (unsigned long long)j->in[i].offset,
				 hwrt_dtype_name(j->in[i].t.dtype), hwrt_dtype_size(j->in[i].t.dtype));
			return -1;
		}
	}
	for (size_t i = 0; i < j->n_in; i++)
		if (!j->in[i].json && !j->in[i].pool && !cJSON_GetObjectItemCaseSensitive(
				inputs, hwrt_model_input(m, i)->name)) {
			missing_input(m, i, err, errlen);
			return -1;
		}
	return 0;
}

static int parse_outputs(struct hwoptd *d, struct job *j, const cJSON *outputs, char *err,
			 size_t errlen)
{
	const struct hwrt_model *m = j->model->rt;
	if (!outputs)
		return 0;
	if (!cJSON_IsObject(outputs)) {
		snprintf(err, errlen, "params.outputs: must be an object {NAME: POOLREF}");
		return -1;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, outputs) {
		int o = index_of(m, false, it->string);
		if (o < 0) {
			unknown_name("params.outputs", it->string, m, false, err, errlen);
			return -1;
		}
		if (j->out[o].pool) {
			snprintf(err, errlen, "params.outputs.%s: given twice", it->string);
			return -1;
		}
		char where[128];
		snprintf(where, sizeof(where), "params.outputs.%.64s", it->string);
		if (tensor_dst_parse(d, j->client, where, it, &j->out[o], err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Batching needs every input to share one open dim 0. */
static void batching_key(struct job *j)
{
	j->q.rows = 1;
	if (!j->model->batchable || j->n_in == 0)
		return;
	uint64_t h = 1469598103934665603ull; /* FNV-1a over the other dims */
	int64_t rows = j->in[0].t.rank > 0 ? j->in[0].t.dims[0] : -1;
	for (size_t i = 0; i < j->n_in; i++) {
		const struct hwrt_tensor *t = &j->in[i].t;
		if (t->rank < 1 || t->dims[0] != rows)
			return;
		for (int k = 1; k <= t->rank; k++) {
			uint64_t v = k < t->rank ? (uint64_t)t->dims[k] : 0xfffffffful + (uint64_t)k;
			h = (h ^ v) * 1099511628211ull;
		}
	}
	if (rows <= 0 || rows > UINT32_MAX)
		return;
	j->q.batch_key = j->model;
	j->q.shape_key = h;
	j->q.rows = (uint32_t)rows;
}

static int parse_options(struct job *j, const cJSON *params, bool *batchable, int *encoding,
			 char *err, size_t errlen)
{
	const cJSON *pr = cJSON_GetObjectItemCaseSensitive(params, "priority");
	j->q.cls = SQ_NORMAL;
	if (pr && (!cJSON_IsString(pr) || sched_class_parse(pr->valuestring, &j->q.cls) < 0)) {
		snprintf(err, errlen, "params.priority: must be \"interactive\", \"normal\" or \"batch\"");
		return -1;
	}
	const cJSON *dl = cJSON_GetObjectItemCaseSensitive(params, "deadline_ms");
	if (dl) {
		if (!cJSON_IsNumber(dl) || !(dl->valuedouble > 0) || dl->valuedouble > 86400000.0) {
			snprintf(err, errlen, "params.deadline_ms: must be a number of milliseconds in "
				 "(0, 86400000]");
			return -1;
		}
		j->q.deadline_ns = j->arrival_ns + (uint64_t)(dl->valuedouble * 1e6);
	}
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(params, "batchable");
	if (b && !cJSON_IsBool(b)) {
		snprintf(err, errlen, "params.batchable: must be a boolean");
		return -1;
	}
	*batchable = cJSON_IsTrue(b);
	const cJSON *enc = cJSON_GetObjectItemCaseSensitive(params, "encoding");
	if (enc) {
		if (!cJSON_IsString(enc) || (strcmp(enc->valuestring, "list") != 0 &&
					     strcmp(enc->valuestring, "base64") != 0)) {
			snprintf(err, errlen, "params.encoding: must be \"list\" or \"base64\"");
			return -1;
		}
		*encoding = strcmp(enc->valuestring, "base64") == 0;
	}
	return 0;
}

void jobs_infer(struct hwoptd *d, struct hwoptd_call *call, const cJSON *cparams)
{
	static const char *const known[] = { "model", "inputs", "outputs", "priority",
					     "deadline_ms", "batchable", "encoding", NULL };
	/* The handler owns the request until it returns: data items are moved
	 * into the job rather than copied. */
	cJSON *params = (cJSON *)cparams;
	struct hwopt_rpc_error perr;
	const char *name = NULL;
	char err[1024];
	if (method_reject_params(call, params, known))
		return;
	if (hwopt_param_string(params, "model", true, &name, &perr) < 0) {
		call_error(call, perr.code, perr.message, NULL);
		return;
	}
	struct model *m = models_find(d, name);
	if (!m || m->state != MODEL_READY) {
		call_errorf(call, HWOPT_E_NOT_FOUND, "no model '%.64s' is loaded%s", name,
			    m && m->state == MODEL_LOADING ? " yet (it is loading)"
			    : m ? " (it is being unloaded)" : "");
		return;
	}
	struct client *c = call_client(call);
	if (c->n_jobs >= d->cfg.max_client_jobs) {
		call_errorf(call, HWOPT_E_EXHAUSTED, "this client has %u jobs in flight, the limit "
			    "(max_client_jobs)", c->n_jobs);
		return;
	}
	struct job *j = calloc(1, sizeof(*j));
	if (!j) {
		call_error(call, HWOPT_E_INTERNAL, "out of memory", NULL);
		return;
	}
	j->d = d;
	j->model = m;
	j->client = c;
	j->arrival_ns = jobs_now_ns();
	j->n_in = hwrt_model_n_inputs(m->rt);
	j->n_out = hwrt_model_n_outputs(m->rt);
	j->in = calloc(j->n_in + 1, sizeof(*j->in));
	j->out = calloc(j->n_out + 1, sizeof(*j->out));
	bool batchable = false;
	int rc = -1, encoding = -1;
	if (!j->in || !j->out)
		snprintf(err, sizeof(err), "out of memory");
	else if (parse_options(j, params, &batchable, &encoding, err, sizeof(err)) == 0 &&
		 parse_inputs(d, j, cJSON_GetObjectItemCaseSensitive(params, "inputs"), err,
			      sizeof(err)) == 0 &&
		 parse_outputs(d, j, cJSON_GetObjectItemCaseSensitive(params, "outputs"), err,
			       sizeof(err)) == 0)
		rc = 0;
	if (rc < 0) {
		int code = j->in && j->out ? HWOPT_E_INVALID_PARAMS : HWOPT_E_INTERNAL;
		job_free(d, j);
		call_error(call, code, err, NULL);
		return;
	}
	/* An explicit encoding wins; else only all-list requests get lists. */
	if (encoding >= 0)
		j->base64 = encoding == 1;
	if (batchable)
		batching_key(j);
	else
		j->q.rows = 1;
	j->q.client = c->id;
	j->q.arrival_ns = j->arrival_ns;
	j->id = ++d->next_job_id;
	j->call = call;
	rc = sched_submit(d->sched, j);
	if (rc < 0) {
		j->call = NULL;
		job_free(d, j);
		if (rc == -EAGAIN)
			call_errorf(call, HWOPT_E_EXHAUSTED, "the queue holds max_queue (%u) jobs; try "
				    "again later", d->cfg.max_queue);
		else
			call_error(call, HWOPT_E_INTERNAL, "out of memory", NULL);
		return;
	}
	client_ref(c);
	c->n_jobs++;
	DLIST_PUSH(c->jobs, j, cprev, cnext);
	m->in_flight++;
	m->c.requests++;
}

/* --- ending a job ------------------------------------------------------------ */

static const char *outcome_message(int code)
{
	switch (code) {
	case HWOPT_E_DEADLINE: return "deadline exceeded: the job did not start before its deadline_ms";
	case HWOPT_E_CANCELLED: return "cancelled";
	default: return "internal error";
	}
}

void jobs_finish(struct hwoptd *d, struct job *j)
{
	struct client *c = j->client;
	struct model *m = j->model;
	DLIST_REMOVE(c->jobs, j, cprev, cnext);
	c->n_jobs--;

	struct model_counters *mc = &m->c;
	switch (j->outcome) {
	case 0: mc->ok++; d->jobs_ok++; break;
	case HWOPT_E_CANCELLED: mc->cancelled++; d->jobs_cancelled++; break;
	case HWOPT_E_DEADLINE: mc->expired++; d->jobs_expired++; break;
	default: mc->failed++; d->jobs_failed++; break;
	}
	if (j->start_ns) {
		mc->queue_us_total += (j->start_ns - j->arrival_ns) / 1000;
		mc->compute_us_total += j->compute_ns / 1000;
		js_time_observe(&mc->queue_h, (double)(j->start_ns - j->arrival_ns) / 1e9);
		js_time_observe(&d->queue_h, (double)(j->start_ns - j->arrival_ns) / 1e9);
		js_time_observe(&mc->compute_h, (double)j->compute_ns / 1e9);
		js_batch_observe(&mc->batch_h, (double)j->batch_size);
		if (j->outcome == 0)
			js_time_observe(&d->latency_h, (double)(jobs_now_ns() - j->arrival_ns) / 1e9);
		/* Requests served in a batch of two or more. */
		if (j->batch_size > 1)
			mc->batched_requests++;
	}
	if (j->call) {
		if (j->line) {
			call_reply_line(j->call, j->line, j->len, j->outcome != 0);
			j->line = NULL;
		} else {
			call_error(j->call, j->outcome ? j->outcome : HWOPT_E_INTERNAL,
				   outcome_message(j->outcome), NULL);
		}
	}
	job_free(d, j);
	client_unref(c);
	models_job_done(d, m);
}

enum job_state jobs_cancel(struct hwoptd *d, struct job *j)
{
	enum job_state st = (enum job_state)sched_cancel(d->sched, j);
	if (st == JOB_QUEUED) {
		j->outcome = HWOPT_E_CANCELLED;
		jobs_finish(d, j);
	}
	return st;
}

void jobs_cancel_client(struct hwoptd *d, struct client *c)
{
	for (struct job *j = c->jobs, *next; j; j = next) {
		next = j->cnext;
		jobs_cancel(d, j);
	}
}

unsigned jobs_cancel_model(struct hwoptd *d, struct model *m)
{
	unsigned n = 0;
	for (struct client *c = d->clients; c; c = c->next)
		for (struct job *j = c->jobs, *next; j; j = next) {
			next = j->cnext;
			if (j->model == m && !__atomic_load_n(&j->cancel, __ATOMIC_RELAXED)) {
				jobs_cancel(d, j);
				n++;
			}
		}
	return n;
}

struct job *jobs_find(struct hwoptd *d, uint64_t id)
{
	for (struct client *c = d->clients; c; c = c->next)
		for (struct job *j = c->jobs; j; j = j->cnext)
			if (j->id == id)
				return j;
	return NULL;
}

cJSON *jobs_json(struct hwoptd *d, const struct job *j, uint64_t now)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *rid = call_id(j->call);
	int st = sched_job_state(d->sched, j);
	cJSON_AddNumberToObject(o, "job", (double)j->id);
	cJSON_AddItemToObject(o, "request_id", rid ? cJSON_Duplicate(rid, 1) : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "model", j->model->conf.name);
	cJSON_AddStringToObject(o, "priority", sched_class_name(j->q.cls));
	cJSON_AddStringToObject(o, "state", st == JOB_QUEUED ? "queued" : st == JOB_RUNNING ? "running"
											  : "done");
	cJSON_AddBoolToObject(o, "batchable", j->q.batch_key != NULL);
	cJSON_AddNumberToObject(o, "rows", j->q.rows);
	cJSON_AddNumberToObject(o, "age_us", (double)(now - j->arrival_ns) / 1e3);
	if (j->q.deadline_ns)
		cJSON_AddNumberToObject(o, "deadline_in_us",
					((double)j->q.deadline_ns - (double)now) / 1e3);
	else
		cJSON_AddNullToObject(o, "deadline_in_us");
	cJSON_AddBoolToObject(o, "cancelling", __atomic_load_n(&j->cancel, __ATOMIC_RELAXED));
	cJSON_AddItemToObject(o, "client", client_json(j->client));
	return o;
}

uint64_t jobs_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
