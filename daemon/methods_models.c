/* model.load, model.unload, model.list, and infer. */
#include "methods.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jobs.h"
#include "models.h"
#include "proto/errors.h"
#include "proto/rpc.h"

static int param_u32(const cJSON *params, const char *name, uint32_t min, uint32_t max,
		     uint32_t *out, struct hwopt_rpc_error *err)
{
	int64_t v;
	int rc = hwopt_param_int(params, name, false, min, max, &v, err);
	if (rc == 0)
		*out = (uint32_t)v;
	return rc < 0 ? -1 : 0;
}

/* keep_fp32 arrives as an array of patterns; the conf keeps a list. */
static int keep_param(const cJSON *params, struct model_conf *mc, struct hwopt_rpc_error *err)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(params, "keep_fp32");
	if (!k)
		return 0;
	size_t n = 0;
	const cJSON *it;
	if (!cJSON_IsArray(k))
		goto bad;
	cJSON_ArrayForEach(it, k) {
		if (!cJSON_IsString(it) || strchr(it->valuestring, ',') || !it->valuestring[0])
			goto bad;
		size_t len = strlen(it->valuestring);
		if (n + len + 2 > sizeof(mc->keep_fp32)) {
			hwopt_rpc_error_set(err, HWOPT_E_INVALID_PARAMS, "params.keep_fp32: longer than "
					    "%zu bytes in all", sizeof(mc->keep_fp32) - 1);
			return -1;
		}
		n += (size_t)snprintf(mc->keep_fp32 + n, sizeof(mc->keep_fp32) - n, "%s%s", n ? "," : "",
				      it->valuestring);
	}
	return 0;
bad:
	hwopt_rpc_error_set(err, HWOPT_E_INVALID_PARAMS,
			    "params.keep_fp32: must be an array of non-empty patterns without commas");
	return -1;
}

static int parse_load(const cJSON *params, struct model_conf *mc, struct hwopt_rpc_error *err)
{
	const char *name = NULL, *path = NULL, *prec = NULL;
	if (hwopt_param_string(params, "name", true, &name, err) < 0 ||
	    hwopt_param_string(params, "path", true, &path, err) < 0 ||
	    hwopt_param_string(params, "precision", false, &prec, err) < 0)
		return -1;
	if (!config_model_name_ok(name)) {
		hwopt_rpc_error_set(err, HWOPT_E_INVALID_PARAMS,
				    "params.name: 1 to 64 of A-Z a-z 0-9 _ . -");
		return -1;
	}
	config_model_defaults(mc, name);
	if (path[0] != '/' || strlen(path) >= sizeof(mc->path)) {
		hwopt_rpc_error_set(err, HWOPT_E_INVALID_PARAMS,
				    "params.path: must be an absolute path (the daemon's working "
				    "directory is not the caller's)");
		return -1;
	}
	snprintf(mc->path, sizeof(mc->path), "%s", path);
	if (prec) {
		enum hwrt_precision p;
		if (hwrt_precision_parse(prec, &p) < 0) {
			hwopt_rpc_error_set(err, HWOPT_E_INVALID_PARAMS,
					    "params.precision: must be fp32, bf16, int8 or int4");
			return -1;
		}
		snprintf(mc->precision, sizeof(mc->precision), "%s", hwrt_precision_name(p));
	}
	const cJSON *mcos = cJSON_GetObjectItemCaseSensitive(params, "min_cosine");
	if (mcos) {
		if (!cJSON_IsNumber(mcos) || !isfinite(mcos->valuedouble) || mcos->valuedouble > 1) {
			hwopt_rpc_error_set(err, HWOPT_E_INVALID_PARAMS,
					    "params.min_cosine: must be a number at most 1");
			return -1;
		}
		mc->min_cosine = mcos->valuedouble;
	}
	if (keep_param(params, mc, err) < 0 ||
	    param_u32(params, "instances", 1, 64, &mc->instances, err) < 0 ||
	    param_u32(params, "threads_per_instance", 0, 256, &mc->threads_per_instance, err) < 0 ||
	    param_u32(params, "max_batch", 1, 4096, &mc->max_batch, err) < 0 ||
	    param_u32(params, "batch_delay_us", 0, 1000000, &mc->batch_delay_us, err) < 0)
		return -1;
	/* As a [model] section's keys: those given win over the device
	 * profile and autotuning. */
	if (cJSON_GetObjectItemCaseSensitive(params, "threads_per_instance"))
		mc->set |= MODEL_SET_THREADS;
	if (cJSON_GetObjectItemCaseSensitive(params, "max_batch"))
		mc->set |= MODEL_SET_MAX_BATCH;
	if (cJSON_GetObjectItemCaseSensitive(params, "batch_delay_us"))
		mc->set |= MODEL_SET_BATCH_DELAY;
	return 0;
}

void method_model_load(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "name", "path", "precision", "keep_fp32", "min_cosine",
					     "instances", "threads_per_instance", "max_batch",
					     "batch_delay_us", NULL };
	struct hwopt_rpc_error err;
	struct model_conf mc;
	if (method_reject_params(call, params, known))
		return;
	if (parse_load(params, &mc, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	char msg[1024];
	int code;
	if (models_load(d, &mc, call, &code, msg, sizeof(msg)) < 0)
		call_error(call, code, msg, NULL);
}

void method_model_unload(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "name", "grace_ms", NULL };
	struct hwopt_rpc_error err;
	const char *name;
	int64_t grace = 5000;
	if (method_reject_params(call, params, known))
		return;
	if (hwopt_param_string(params, "name", true, &name, &err) < 0 ||
	    hwopt_param_int(params, "grace_ms", false, 0, 600000, &grace, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	struct model *m = models_find(d, name);
	if (!m || m->state != MODEL_READY) {
		call_errorf(call, HWOPT_E_NOT_FOUND, "no model '%.64s' is loaded%s", name,
			    !m ? "" : m->state == MODEL_LOADING ? " (it is still loading)"
							       : " (it is already being unloaded)");
		return;
	}
	models_unload(d, m, (uint32_t)grace, call);
}

void method_model_list(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "name", NULL };
	struct hwopt_rpc_error err;
	const char *name = NULL;
	if (method_reject_params(call, params, known))
		return;
	if (hwopt_param_string(params, "name", false, &name, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	if (name && !models_find(d, name)) {
		call_errorf(call, HWOPT_E_NOT_FOUND, "no model '%.64s' is loaded", name);
		return;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON *a = cJSON_AddArrayToObject(r, "models");
	for (struct model *m = d->models; m; m = m->next)
		if (!name || strcmp(name, m->conf.name) == 0)
			cJSON_AddItemToArray(a, models_json(d, m));
	call_reply(call, r);
}

void method_infer(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	jobs_infer(d, call, params);
}
