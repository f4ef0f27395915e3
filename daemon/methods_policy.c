/* policy.get, policy.set, policy.explain, profile.get, profile.set,
 * hold.add, hold.release, hold.list. */
#include "methods.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "policy.h"
#include "proto/errors.h"
#include "proto/rpc.h"

#define EXPLAIN_DEFAULT 50
#define EXPLAIN_MAX 1024

void method_policy_get(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { NULL };
	if (method_reject_params(call, params, known))
		return;
	call_reply(call, policy_json(d));
}

/* A JSON value as the text the config parser takes. */
static bool value_text(const cJSON *v, char *buf, size_t len)
{
	if (cJSON_IsString(v))
		return (size_t)snprintf(buf, len, "%s", v->valuestring) < len;
	if (cJSON_IsBool(v))
		return snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false") > 0;
	if (cJSON_IsNumber(v))
		return snprintf(buf, len, "%.17g", v->valuedouble) > 0;
	if (cJSON_IsNull(v))
		return snprintf(buf, len, "%s", "") >= 0;
	return false;
}

/* {"set": {"section.key": value, ...}}: all or nothing. */
void method_policy_set(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "set", NULL };
	if (method_reject_params(call, params, known))
		return;
	const cJSON *set = cJSON_GetObjectItemCaseSensitive(params, "set");
	if (!cJSON_IsObject(set) || !set->child) {
		call_errorf(call, HWOPT_E_INVALID_PARAMS,
			    "invalid params: params.set: expected an object of \"section.key\": value");
		return;
	}
	struct pol_config next = d->cfg.pol;
	const cJSON *it;
	cJSON_ArrayForEach(it, set) {
		char section[32], value[1024], reason[256];
		const char *dot = strchr(it->string, '.');
		if (!dot || (size_t)(dot - it->string) >= sizeof(section) || !pol_config_section(
			    (snprintf(section, sizeof(section), "%.*s", (int)(dot - it->string), it->string), section))) {
			call_errorf(call, HWOPT_E_INVALID_PARAMS,
				    "invalid params: params.set.%s: not a policy key (section.key, sections "
				    "policy, dvfs, thermal, battery, autoscale, affinity)", it->string);
			return;
		}
		if (!value_text(it, value, sizeof(value))) {
			call_errorf(call, HWOPT_E_INVALID_PARAMS,
				    "invalid params: params.set.%s: expected a string, number, boolean or null",
				    it->string);
			return;
		}
		if (pol_config_set(&next, section, dot + 1, value, reason, sizeof(reason)) < 0) {
			call_errorf(call, HWOPT_E_INVALID_PARAMS, "invalid params: params.set.%s: %s",
				    it->string, reason);
			return;
		}
	}
	char why[256];
	if (pol_config_check(&next, why, sizeof(why)) < 0) {
		call_errorf(call, HWOPT_E_INVALID_PARAMS, "invalid params: params.set: %s", why);
		return;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON *changed = cJSON_AddArrayToObject(r, "changed");
	pol_config_diff(&d->cfg.pol, &next, changed);
	struct pol_config old = d->cfg.pol;
	d->cfg.pol = next;
	policy_config_changed(d, &old);
	cJSON_AddItemToObject(r, "config", pol_config_json(&d->cfg.pol));
	call_reply(call, r);
}

void method_policy_explain(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "limit", "policy", NULL };
	static const char *const policies[] = { "thermal", "battery", "profile", "dvfs",
						"autoscale", "affinity", NULL };
	struct hwopt_rpc_error err;
	int64_t limit = EXPLAIN_DEFAULT;
	const char *policy = NULL;
	if (method_reject_params(call, params, known))
		return;
	if (hwopt_param_int(params, "limit", false, 1, EXPLAIN_MAX, &limit, &err) < 0 ||
	    hwopt_param_string(params, "policy", false, &policy, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	if (policy) {
		size_t i = 0;
		while (policies[i] && strcmp(policies[i], policy) != 0)
			i++;
		if (!policies[i]) {
			call_errorf(call, HWOPT_E_INVALID_PARAMS,
				    "invalid params: params.policy: '%s' is not a policy (thermal, battery, "
				    "profile, dvfs, autoscale, affinity)", policy);
			return;
		}
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "decisions", policy_explain_json(d, (size_t)limit, policy));
	call_reply(call, r);
}

void method_profile_get(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { NULL };
	if (method_reject_params(call, params, known))
		return;
	call_reply(call, policy_profile_json(d));
}

static bool profile_param(struct hwoptd_call *call, const cJSON *params, const char *const *allowed,
			  enum pol_profile *out)
{
	struct hwopt_rpc_error err;
	const char *name;
	if (hwopt_param_string(params, "profile", true, &name, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return false;
	}
	for (size_t i = 0; allowed[i]; i++)
		if (strcmp(allowed[i], name) == 0)
			return pol_profile_parse(name, out) == 0;
	call_errorf(call, HWOPT_E_INVALID_PARAMS, "invalid params: params.profile: '%s' is not one of %s",
		    name, allowed[1] && allowed[2] ? "power-saver, balanced, performance"
						   : "power-saver, performance");
	return false;
}

void method_profile_set(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "profile", NULL };
	static const char *const all[] = { "power-saver", "balanced", "performance", NULL };
	enum pol_profile p;
	if (method_reject_params(call, params, known) || !profile_param(call, params, all, &p))
		return;
	struct pol_config old = d->cfg.pol;
	d->cfg.pol.profile = p;
	policy_config_changed(d, &old);
	call_reply(call, policy_profile_json(d));
}

void method_hold_add(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "profile", "reason", NULL };
	/* As power-profiles-daemon: a hold asks for power-saver or performance. */
	static const char *const holdable[] = { "power-saver", "performance", NULL };
	struct hwopt_rpc_error err;
	enum pol_profile p;
	const char *reason = "";
	if (method_reject_params(call, params, known) || !profile_param(call, params, holdable, &p))
		return;
	if (hwopt_param_string(params, "reason", true, &reason, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	if (strlen(reason) > 256) {
		call_errorf(call, HWOPT_E_INVALID_PARAMS,
			    "invalid params: params.reason: longer than 256 bytes");
		return;
	}
	int64_t id = policy_hold_add(d, call_client(call), p, reason);
	if (id < 0) {
		call_errorf(call, HWOPT_E_EXHAUSTED, "too many holds");
		return;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "hold", (double)id);
	cJSON_AddItemToObject(r, "profile", policy_profile_json(d));
	call_reply(call, r);
}

void method_hold_release(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "hold", NULL };
	struct hwopt_rpc_error err;
	int64_t id;
	if (method_reject_params(call, params, known))
		return;
	if (hwopt_param_int(params, "hold", true, 1, INT64_MAX, &id, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	int rc = policy_hold_release(d, call_client(call), id,
				     peer_is_admin(call_peer(call), d->cfg.admin_gid));
	if (rc == -ENOENT) {
		call_errorf(call, HWOPT_E_NOT_FOUND, "no hold %lld", (long long)id);
		return;
	}
	if (rc == -EPERM) {
		call_errorf(call, HWOPT_E_PERMISSION,
			    "permission denied: hold %lld belongs to another client", (long long)id);
		return;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "released", (double)id);
	cJSON_AddItemToObject(r, "profile", policy_profile_json(d));
	call_reply(call, r);
}

void method_hold_list(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { NULL };
	if (method_reject_params(call, params, known))
		return;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "holds", policy_holds_json(d));
	call_reply(call, r);
}
