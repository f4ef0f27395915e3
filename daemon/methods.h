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

/* Answers invalid params when params has members outside known (NULL-ended).
 * Returns true when the call was answered. */
bool method_reject_params(struct hwoptd_call *call, const cJSON *params,
			  const char *const *known);

#endif
