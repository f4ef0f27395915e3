#include "methods.h"

#include <string.h>

#include "proto/errors.h"
#include "proto/rpc.h"

/* Every name in proto's method table has a handler here; a unit test checks
 * the two tables agree. */
static const struct {
	const char *name;
	method_fn fn;
} bindings[] = {
	{ "hello", method_hello },
	{ "status", method_status },
	{ "topology", method_topology },
	{ "config.get", method_config_get },
	{ "config.reload", method_config_reload },
	{ "shutdown", method_shutdown },
	{ "model.load", method_model_load },
	{ "model.unload", method_model_unload },
	{ "model.list", method_model_list },
	{ "infer", method_infer },
	{ "job.list", method_job_list },
	{ "job.cancel", method_job_cancel },
	{ "pool.create", method_pool_create },
	{ "pool.alloc", method_pool_alloc },
	{ "pool.free", method_pool_free },
	{ "pool.destroy", method_pool_destroy },
	{ "pool.list", method_pool_list },
	{ "telemetry.get", method_telemetry_get },
	{ "telemetry.subscribe", method_telemetry_subscribe },
	{ "telemetry.unsubscribe", method_telemetry_unsubscribe },
	{ "policy.get", method_policy_get },
	{ "policy.set", method_policy_set },
	{ "policy.explain", method_policy_explain },
	{ "profile.get", method_profile_get },
	{ "profile.set", method_profile_set },
	{ "hold.add", method_hold_add },
	{ "hold.release", method_hold_release },
	{ "hold.list", method_hold_list },
	{ "trace.record", method_trace_record },
};

method_fn methods_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(bindings) / sizeof(bindings[0]); i++)
		if (strcmp(bindings[i].name, name) == 0)
			return bindings[i].fn;
	return NULL;
}

bool method_reject_params(struct hwoptd_call *call, const cJSON *params,
			  const char *const *known)
{
	struct hwopt_rpc_error err;
	if (hwopt_params_only(params, known, &err) == 0)
		return false;
	call_error(call, err.code, err.message, NULL);
	return true;
}
