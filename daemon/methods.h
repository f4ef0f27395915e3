/* Method handlers, grouped by namespace; bound to names in methods.c. */
#ifndef HWOPTD_METHODS_H
#define HWOPTD_METHODS_H

#include "daemon.h"

void method_hello(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_status(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_topology(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_shutdown(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_config_get(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_config_reload(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);

void method_model_load(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_model_unload(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_model_list(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_infer(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_job_list(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_job_cancel(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_pool_create(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_pool_alloc(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_pool_free(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_pool_destroy(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_pool_list(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_telemetry_get(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_telemetry_subscribe(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_telemetry_unsubscribe(struct hwoptd *d, struct hwoptd_call *call,
				  const cJSON *params);
void method_trace_record(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);

/* For listings: all (params.all, default true for admins) or the caller's
 * own. Returns false after answering a bad param or a non-admin's all. */
bool method_list_all(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params, bool *all);

/* Answers invalid params when params has members outside known (NULL-ended).
 * Returns true when the call was answered. */
void method_policy_get(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_policy_set(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_policy_explain(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_profile_get(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_profile_set(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_hold_add(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_hold_release(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
void method_hold_list(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);

bool method_reject_params(struct hwoptd_call *call, const cJSON *params,
			  const char *const *known);

#endif
