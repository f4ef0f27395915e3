/* hello, status, topology, shutdown. */
#include "methods.h"

#include <unistd.h>

#include "kernels/hwk.h"
#include "proto/errors.h"
#include "proto/methods.h"
#include "proto/rpc.h"
#include "devices.h"
#include "kernels_info.h"
#include "sched.h"
#include "topology.h"

static const char *const no_params[] = { NULL };

void method_hello(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "client", "protocol", NULL };
	struct hwopt_rpc_error err;
	const char *client = NULL;
	int64_t want = 0;
	if (method_reject_params(call, params, known))
		return;
	if (hwopt_param_string(params, "client", false, &client, &err) < 0 ||
	    hwopt_param_int(params, "protocol", false, 1, 1 << 30, &want, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	const struct peer_cred *peer = call_peer(call);
	bool admin = peer_is_admin(peer, d->cfg.admin_gid);

	cJSON *r = cJSON_CreateObject();
	cJSON *methods = cJSON_AddArrayToObject(r, "methods");
	cJSON *caps = cJSON_AddObjectToObject(r, "capabilities");
	cJSON *pj = cJSON_AddObjectToObject(r, "peer");
	cJSON_AddStringToObject(r, "daemon", "hwoptd");
	cJSON_AddStringToObject(r, "version", HWOPTD_VERSION);
	cJSON_AddNumberToObject(r, "protocol", HWOPT_PROTOCOL_VERSION);
	/* A client asking for a newer protocol learns it here and decides. */
	cJSON_AddBoolToObject(r, "protocol_compatible", want == 0 || want == HWOPT_PROTOCOL_VERSION);
	for (size_t i = 0; i < hwopt_n_methods; i++) {
		const struct hwopt_method *m = &hwopt_methods[i];
		if (m->perm == HWOPT_PERM_READ || admin ||
		    (m->perm == HWOPT_PERM_SUBMIT && peer_may_submit(peer, &d->cfg)))
			cJSON_AddItemToArray(methods, cJSON_CreateString(m->name));
	}
	cJSON_AddBoolToObject(caps, "batch", 0);
	cJSON_AddBoolToObject(caps, "pipelining", 1);
	cJSON_AddNumberToObject(caps, "max_line_bytes", (double)d->cfg.max_line_bytes);
	const char *feat[32];
	int nf = hwk_cpu_feature_names(hwk_cpu_features(), feat, 32);
	cJSON_AddStringToObject(caps, "arch", hwk_cpu_arch());
	cJSON_AddItemToObject(caps, "cpu_features", cJSON_CreateStringArray(feat, nf));
	cJSON_AddNumberToObject(pj, "pid", peer->pid);
	cJSON_AddNumberToObject(pj, "uid", peer->uid);
	cJSON_AddNumberToObject(pj, "gid", peer->gid);
	cJSON_AddBoolToObject(pj, "admin", admin);
	if (!cJSON_GetObjectItem(r, "protocol_compatible") || !pj) {
		cJSON_Delete(r);
		call_error(call, HWOPT_E_INTERNAL, "out of memory", NULL);
		return;
	}
	call_reply(call, r);
}

void method_status(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	if (method_reject_params(call, params, no_params))
		return;
	struct server_stats st;
	server_get_stats(d->srv, &st);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "version", HWOPTD_VERSION);
	cJSON_AddNumberToObject(r, "pid", getpid());
	cJSON_AddNumberToObject(r, "uptime_s", (double)(uv_hrtime() - d->started_ns) / 1e9);
	cJSON_AddNumberToObject(r, "started_at", (double)d->started_at);
	if (d->config_path)
		cJSON_AddStringToObject(r, "config_path", d->config_path);
	else
		cJSON_AddNullToObject(r, "config_path");
	cJSON_AddNumberToObject(r, "config_loaded_at", (double)d->config_loaded_at);
	cJSON_AddStringToObject(r, "socket", d->socket_activated ? "" : server_path(d->srv));
	cJSON_AddBoolToObject(r, "socket_activated", d->socket_activated);
	cJSON_AddStringToObject(r, "state_dir", d->cfg.state_dir);
	cJSON_AddStringToObject(r, "log_level", log_level_name(d->cfg.log_level));
	cJSON *c = cJSON_AddObjectToObject(r, "connections");
	cJSON_AddNumberToObject(c, "open", (double)st.connections);
	cJSON_AddNumberToObject(c, "max", d->cfg.max_connections);
	cJSON_AddNumberToObject(c, "total", (double)st.connections_total);
	cJSON_AddNumberToObject(c, "refused", (double)st.connections_refused);
	cJSON_AddNumberToObject(c, "dropped_slow", (double)st.clients_dropped);
	cJSON *q = cJSON_AddObjectToObject(r, "requests");
	/* This request is counted as read, not yet as answered. */
	cJSON_AddNumberToObject(q, "served", (double)st.requests);
	cJSON_AddNumberToObject(q, "errors", (double)st.errors);
	cJSON_AddNumberToObject(q, "in_flight", (double)st.inflight);
	cJSON *sj = sched_json(d->sched);
	cJSON_AddNumberToObject(sj, "models", d->n_models);
	cJSON_AddNumberToObject(sj, "pool_bytes", (double)d->pool_bytes);
	cJSON_AddItemToObject(r, "scheduler", sj);
	if (!q) {
		cJSON_Delete(r);
		call_error(call, HWOPT_E_INTERNAL, "out of memory", NULL);
		return;
	}
	call_reply(call, r);
}

void method_topology(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	if (method_reject_params(call, params, no_params))
		return;
	cJSON *r = hwoptd_topology_json(d->topo);
	cJSON *k = r ? kernels_json() : NULL;
	cJSON *dev = k ? devices_json(d) : NULL;
	if (k)
		cJSON_AddItemToObject(r, "kernels", k);
	if (dev)
		cJSON_AddItemToObject(r, "device", dev);
	if (!r || !k || !dev) {
		cJSON_Delete(r);
		call_error(call, HWOPT_E_INTERNAL, "cannot describe the topology", NULL);
		return;
	}
	call_reply(call, r);
}

static void stop_after_reply(struct hwoptd *d)
{
	daemon_stop(d, "shutdown requested");
}

void method_shutdown(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	if (method_reject_params(call, params, no_params))
		return;
	const struct peer_cred *p = call_peer(call);
	log_info("shutdown requested by pid %d uid %u", (int)p->pid, (unsigned)p->uid);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "stopping", 1);
	cJSON_AddNumberToObject(r, "grace_ms", d->cfg.shutdown_grace_ms);
	/* Stop only once the answer is on its way, so the caller gets it. */
	call_after_reply(call, stop_after_reply);
	call_reply(call, r);
}
