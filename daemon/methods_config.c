/* config.get and config.reload. */
#include "methods.h"

#include <stdio.h>

#include "proto/errors.h"

static const char *const no_params[] = { NULL };

void method_config_get(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	if (method_reject_params(call, params, no_params))
		return;
	cJSON *r = cJSON_CreateObject();
	cJSON *daemon = config_to_json(&d->cfg);
	cJSON *ov = cJSON_CreateObject();
	if (!r || !daemon || !ov) {
		cJSON_Delete(r);
		cJSON_Delete(daemon);
		cJSON_Delete(ov);
		call_error(call, HWOPT_E_INTERNAL, "out of memory", NULL);
		return;
	}
	if (d->config_path)
		cJSON_AddStringToObject(r, "path", d->config_path);
	else
		cJSON_AddNullToObject(r, "path");
	cJSON_AddNumberToObject(r, "loaded_at", (double)d->config_loaded_at);
	cJSON_AddItemToObject(r, "daemon", daemon);
	cJSON_AddItemToObject(r, "scheduler", config_section_json(&d->cfg, "scheduler"));
	cJSON_AddItemToObject(r, "pools", config_section_json(&d->cfg, "pools"));
	cJSON_AddItemToObject(r, "telemetry", config_section_json(&d->cfg, "telemetry"));
	cJSON_AddItemToObject(r, "metrics", config_section_json(&d->cfg, "metrics"));
	for (const char *const *sec = pol_config_sections; *sec; sec++)
		cJSON_AddItemToObject(r, *sec, config_section_json(&d->cfg, *sec));
	cJSON_AddItemToObject(r, "models", config_models_json(&d->cfg));
	for (size_t i = 0; i < d->n_ov; i++)
		cJSON_AddStringToObject(ov, d->ov[i].key, d->ov[i].value);
	cJSON_AddItemToObject(r, "overrides", ov);
	call_reply(call, r);
}

void method_config_reload(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	if (method_reject_params(call, params, no_params))
		return;
	char err[1024];
	cJSON *r = cJSON_CreateObject();
	cJSON *changed = cJSON_AddArrayToObject(r, "changed");
	cJSON *restart = cJSON_AddArrayToObject(r, "restart_required");
	if (!restart) {
		cJSON_Delete(r);
		call_error(call, HWOPT_E_INTERNAL, "out of memory", NULL);
		return;
	}
	if (daemon_reload(d, changed, restart, err, sizeof(err)) < 0) {
		cJSON_Delete(r);
		cJSON *data = cJSON_CreateObject();
		if (data && d->config_path)
			cJSON_AddStringToObject(data, "path", d->config_path);
		call_error(call, HWOPT_E_BAD_CONFIG, err, data);
		return;
	}
	cJSON_AddBoolToObject(r, "reloaded", 1);
	if (d->config_path)
		cJSON_AddStringToObject(r, "path", d->config_path);
	else
		cJSON_AddNullToObject(r, "path");
	call_reply(call, r);
}
