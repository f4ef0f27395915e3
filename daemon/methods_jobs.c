/* job.list and job.cancel. */
#include "methods.h"

#include "client.h"
#include "jobs.h"
#include "proto/errors.h"
#include "proto/rpc.h"

/* Admins see every client's jobs and pools unless they ask for their own. */
bool method_list_all(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params,
		     bool *all)
{
	struct hwopt_rpc_error err;
	bool admin = peer_is_admin(call_peer(call), d->cfg.admin_gid);
	*all = admin;
	if (hwopt_param_bool(params, "all", false, all, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return false;
	}
	if (*all && !admin) {
		call_error(call, HWOPT_E_PERMISSION,
			   "permission denied: params.all: only admins see other clients'", NULL);
		return false;
	}
	return true;
}

void method_job_list(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "all", NULL };
	bool all;
	if (method_reject_params(call, params, known) || !method_list_all(d, call, params, &all))
		return;
	struct client *me = call_client(call);
	uint64_t now = jobs_now_ns();
	cJSON *r = cJSON_CreateObject();
	cJSON *a = cJSON_AddArrayToObject(r, "jobs");
	for (struct client *c = d->clients; c; c = c->next)
		if (all || c == me)
			for (struct job *j = c->jobs; j; j = j->cnext)
				cJSON_AddItemToArray(a, jobs_json(d, j, now));
	call_reply(call, r);
}

static struct job *by_request_id(struct client *c, const cJSON *rid)
{
	for (struct job *j = c->jobs; j; j = j->cnext) {
		const cJSON *id = call_id(j->call);
		if (id && cJSON_Compare(id, rid, 1))
			return j;
	}
	return NULL;
}

void method_job_cancel(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "job", "request_id", NULL };
	struct hwopt_rpc_error err;
	int64_t id = -1;
	if (method_reject_params(call, params, known))
		return;
	const cJSON *rid = cJSON_GetObjectItemCaseSensitive(params, "request_id");
	if (hwopt_param_int(params, "job", false, 1, INT64_MAX, &id, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	if ((id > 0) == (rid != NULL)) {
		call_error(call, HWOPT_E_INVALID_PARAMS,
			   "params: give one of job (the daemon's id) or request_id", NULL);
		return;
	}
	if (rid && !cJSON_IsString(rid) && !cJSON_IsNumber(rid)) {
		call_error(call, HWOPT_E_INVALID_PARAMS,
			   "params.request_id: must be a string or a number", NULL);
		return;
	}
	struct client *me = call_client(call);
	struct job *j = rid ? by_request_id(me, rid) : jobs_find(d, (uint64_t)id);
	if (!j) {
		call_error(call, HWOPT_E_NOT_FOUND, "no such job in flight (it may have finished)", NULL);
		return;
	}
	if (j->client != me && !peer_is_admin(call_peer(call), d->cfg.admin_gid)) {
		call_error(call, HWOPT_E_PERMISSION,
			   "permission denied: the job belongs to another client", NULL);
		return;
	}
	uint64_t jid = j->id;
	enum job_state st = jobs_cancel(d, j);
	if (st == JOB_DONE) {
		call_error(call, HWOPT_E_NOT_FOUND, "the job has just finished", NULL);
		return;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "job", (double)jid);
	cJSON_AddStringToObject(r, "state", st == JOB_QUEUED ? "queued" : "running");
	call_reply(call, r);
}
