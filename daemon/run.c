#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "models.h"
#include "pools.h"
#include "proto/errors.h"

static void job_error(struct job *j, int code, const char *msg)
{
	j->outcome = code;
	j->line = call_encode_error(j->call, code, msg, NULL, &j->len);
}

static size_t round64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

/* Makes every input of j point at its bytes: into its pool, or decoded
 * from the request into one buffer. */
static int decode_inputs(struct job *j, const struct hwrt_model *m)
{
	size_t total = 0;
	for (size_t i = 0; i < j->n_in; i++)
		if (j->in[i].form != TENSOR_POOL)
			total += round64(j->in[i].bytes);
	if (total) {
		j->in_buf = aligned_alloc(64, total);
		if (!j->in_buf) {
			job_error(j, HWOPT_E_INTERNAL, "out of memory decoding the inputs");
			return -1;
		}
	}
	size_t off = 0;
	for (size_t i = 0; i < j->n_in; i++) {
		char err[256], msg[400];
		struct tensor_src *t = &j->in[i];
		if (tensor_decode(t, (char *)j->in_buf + off, err, sizeof(err)) < 0) {
			snprintf(msg, sizeof(msg), "params.inputs.%s.%s", hwrt_model_input(m, i)->name, err);
			job_error(j, HWOPT_E_INVALID_PARAMS, msg);
			return -1;
		}
		if (t->form != TENSOR_POOL)
			off += round64(t->bytes);
	}
	return 0;
}

/* Stacks the inputs of n jobs along dim 0 into one buffer per input. */
static int stack_inputs(struct job **jobs, size_t n, size_t n_in, struct hwrt_tensor *in,
			void **bufs, uint64_t *rows)
{
	*rows = 0;
	for (size_t k = 0; k < n; k++)
		*rows += (uint64_t)jobs[k]->in[0].t.dims[0];
	for (size_t i = 0; i < n_in; i++) {
		size_t bytes = 0;
		for (size_t k = 0; k < n; k++)
			bytes += jobs[k]->in[i].bytes;
		bufs[i] = aligned_alloc(64, round64(bytes ? bytes : 1));
		if (!bufs[i])
			return -1;
		size_t off = 0;
		for (size_t k = 0; k < n; k++) {
			memcpy((char *)bufs[i] + off, jobs[k]->in[i].t.data, jobs[k]->in[i].bytes);
			off += jobs[k]->in[i].bytes;
		}
		in[i] = jobs[0]->in[i].t;
		in[i].dims[0] = (int64_t)*rows;
		in[i].data = bufs[i];
	}
	return 0;
}

static cJSON *workers_json(const struct run *r)
{
	cJSON *a = cJSON_CreateArray();
	for (unsigned i = 0; a && i < r->n_cpus; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(r->cpus[i]));
	return a;
}

/* Writes one output to the job's pool reference; the entry for the answer. */
static cJSON *output_to_pool(struct job *j, size_t o, const struct hwrt_tensor *t,
			     const char *name, char *err, size_t errlen)
{
	const struct tensor_dst *dst = &j->out[o];
	size_t bytes = hwrt_tensor_bytes(t);
	if (bytes > dst->cap) {
		snprintf(err, errlen, "params.outputs.%s: the output is %s %zu bytes, the reference "
			 "gives room for %llu", name, hwrt_dtype_name(t->dtype), bytes,
			 (unsigned long long)dst->cap);
		return NULL;
	}
	memcpy((char *)shm_pool_base(dst->pool->shm) + dst->offset, t->data, bytes);
	cJSON *e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "pool", (double)dst->pool->id);
	cJSON_AddNumberToObject(e, "offset", (double)dst->offset);
	cJSON_AddNumberToObject(e, "bytes", (double)bytes);
	cJSON_AddStringToObject(e, "dtype", hwrt_dtype_name(t->dtype));
	cJSON_AddItemToObject(e, "shape", tensor_shape_json(t->dims, t->rank));
	return e;
}

/* Encodes j's answer from its outputs (rows [row, row + rows) of a batch). */
static void job_answer(struct run *r, struct job *j, const struct hwrt_tensor *outs,
		       uint64_t row, uint64_t rows_total, size_t n_live, uint64_t compute_ns,
		       uint64_t now, const cJSON *pmu)
{
	const struct hwrt_model *m = r->model->rt;
	cJSON *res = cJSON_CreateObject();
	cJSON *oj = cJSON_AddObjectToObject(res, "outputs");
	char err[400];
	for (size_t o = 0; o < j->n_out; o++) {
		struct hwrt_tensor t = outs[o];
		const char *name = hwrt_model_output(m, o)->name;
		if (n_live > 1) {
			size_t row_bytes = hwrt_tensor_bytes(&t) / rows_total;
			t.dims[0] = j->in[0].t.dims[0];
			t.data = (char *)t.data + row * row_bytes;
		}
		cJSON *e = j->out[o].pool ? output_to_pool(j, o, &t, name, err, sizeof(err))
					  : tensor_encode(&t, j->base64);
		if (!e) {
			cJSON_Delete(res);
			if (j->out[o].pool)
				job_error(j, HWOPT_E_INVALID_PARAMS, err);
			else
				job_error(j, HWOPT_E_INTERNAL, "out of memory encoding the outputs");
			return;
		}
		cJSON_AddItemToObject(oj, name, e);
	}
	cJSON *tj = cJSON_CreateObject();
	cJSON_AddNumberToObject(tj, "queue_us", (double)(j->start_ns - j->arrival_ns) / 1e3);
	cJSON_AddNumberToObject(tj, "compute_us", (double)compute_ns / 1e3);
	cJSON_AddNumberToObject(tj, "total_us", (double)(now - j->arrival_ns) / 1e3);
	if (pmu)
		cJSON_AddItemToObject(tj, "pmu", cJSON_Duplicate(pmu, 1));
	cJSON *bj = cJSON_CreateObject();
	cJSON_AddNumberToObject(bj, "requests", (double)n_live);
	cJSON_AddNumberToObject(bj, "rows", (double)rows_total);
	cJSON_AddNumberToObject(res, "job", (double)j->id);
	cJSON_AddStringToObject(res, "model", r->model->conf.name);
	cJSON_AddItemToObject(res, "timings", tj);
	cJSON_AddItemToObject(res, "workers", workers_json(r));
	cJSON_AddItemToObject(res, "batch", bj);
	j->outcome = 0;
	j->line = call_encode_result(j->call, res, &j->len);
	if (!j->line)
		j->outcome = HWOPT_E_INTERNAL;
}

void run_pmu_add(uint64_t *sums, const struct pmu_counters *c)
{
	uint64_t v[PMU_MAX_EVENTS];
	for (size_t i = 0; i < PMU_MAX_EVENTS; i++)
		v[i] = PMU_NONE;
	pmu_read(c, v);
	for (size_t i = 0; i < PMU_MAX_EVENTS; i++)
		sums[i] = sums[i] == PMU_NONE || v[i] == PMU_NONE ? PMU_NONE : sums[i] + v[i];
}

void run_pmu_join(struct run *r, struct pmu_counters *c)
{
	if (!r->pmu_ev || !c || r->n_pmu == RUN_MAX_CPUS)
		return;
	r->pmu[r->n_pmu++] = c;
	run_pmu_add(r->pmu_before, c);
}

/* The gang's counts over the run, for every job's timings. */
static cJSON *run_pmu_json(struct run *r)
{
	if (!r->pmu_ev || !r->n_pmu)
		return NULL;
	for (unsigned i = 0; i < r->n_pmu; i++)
		run_pmu_add(r->pmu_after, r->pmu[i]);
	return pmu_delta_json(r->pmu_ev, r->pmu_before, r->pmu_after);
}

/* A batch's outputs must carry its rows along dim 0 to be split back. */
static const char *unbatched_output(const struct hwrt_model *m, const struct hwrt_tensor *outs,
				    size_t n_out, uint64_t rows)
{
	for (size_t o = 0; o < n_out; o++)
		if (outs[o].rank < 1 || (uint64_t)outs[o].dims[0] != rows)
			return hwrt_model_output(m, o)->name;
	return NULL;
}

void run_execute(struct run *r)
{
	struct model *mod = r->model;
	const struct hwrt_model *m = mod->rt;
	size_t n_in = hwrt_model_n_inputs(m), n_out = hwrt_model_n_outputs(m);
	struct job *live[RUN_MAX_JOBS];
	size_t n_live = 0;
	for (size_t k = 0; k < r->n; k++)
		if (decode_inputs(r->jobs[k], m) == 0)
			live[n_live++] = r->jobs[k];
	if (!n_live)
		return;

	struct hwrt_tensor *in = calloc(n_in + n_out, sizeof(*in));
	void **bufs = calloc(n_in + 1, sizeof(*bufs));
	struct hwrt_tensor *outs = in + n_in;
	uint64_t rows = live[0]->n_in ? (uint64_t)live[0]->in[0].t.dims[0] : 1;
	char err[1024];
	int rc = -1;
	snprintf(err, sizeof(err), "out of memory");
	if (in && bufs) {
		if (n_live == 1) {
			for (size_t i = 0; i < n_in; i++)
				in[i] = live[0]->in[i].t;
			rc = 0;
		} else {
			rc = stack_inputs(live, n_live, n_in, in, bufs, &rows);
		}
	}
	struct hwrt_session *sess = mod->inst[r->inst].session;
	if (r->n_pmu) /* the leader's reading, as late as can be */
		run_pmu_add(r->pmu_before, r->pmu[0]);
	uint64_t t0 = jobs_now_ns();
	if (rc == 0) {
		hwrt_session_set_cancel(sess, &r->cancel);
		rc = hwrt_run(sess, in, n_in, outs, n_out, &r->gang.par, err, sizeof(err));
		hwrt_session_set_cancel(sess, NULL);
	}
	uint64_t t1 = jobs_now_ns();
	cJSON *pmu = run_pmu_json(r);
	const char *bad = rc == 0 && n_live > 1 ? unbatched_output(m, outs, n_out, rows) : NULL;
	uint64_t row = 0;
	for (size_t k = 0; k < n_live; k++) {
		struct job *j = live[k];
		char msg[1200];
		j->compute_ns = t1 - t0;
		j->batch_size = n_live;
		if (rc == HWRT_CANCELLED || __atomic_load_n(&j->cancel, __ATOMIC_RELAXED)) {
			job_error(j, HWOPT_E_CANCELLED, "cancelled");
		} else if (rc < 0) {
			snprintf(msg, sizeof(msg), "model %s failed: %s", mod->conf.name, err);
			job_error(j, HWOPT_E_INTERNAL, msg);
		} else if (bad) {
			snprintf(msg, sizeof(msg), "model %s: output %s does not carry the batch's %llu "
				 "rows along dim 0; load it with max_batch 1", mod->conf.name, bad,
				 (unsigned long long)rows);
			job_error(j, HWOPT_E_INTERNAL, msg);
		} else {
			job_answer(r, j, outs, row, rows, n_live, t1 - t0, jobs_now_ns(), pmu);
		}
		row += n_live > 1 ? (uint64_t)j->in[0].t.dims[0] : 0;
	}
	cJSON_Delete(pmu);
	for (size_t i = 0; bufs && i < n_in; i++)
		free(bufs[i]);
	free(bufs);
	free(in);
}
