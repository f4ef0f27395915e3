/* pool.create, pool.alloc, pool.free, pool.destroy, pool.list. */
#include "methods.h"

#include <errno.h>
#include <stdio.h>

#include "client.h"
#include "pools.h"
#include "sched.h"
#include "proto/errors.h"
#include "proto/rpc.h"

static int error_code(int rc)
{
	switch (rc) {
	case -EDQUOT: return HWOPT_E_EXHAUSTED;
	case -EINVAL: return HWOPT_E_INVALID_PARAMS;
	case -ENOTSUP: return HWOPT_E_UNSUPPORTED;
	default: return HWOPT_E_INTERNAL;
	}
}

void method_pool_create(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "bytes", "hugepages", "numa_node", NULL };
	struct hwopt_rpc_error err;
	int64_t bytes, node = -1;
	const char *hp = "auto";
	enum shm_hugepages huge;
	if (method_reject_params(call, params, known))
		return;
	if (hwopt_param_int(params, "bytes", true, 1, INT64_MAX, &bytes, &err) < 0 ||
	    hwopt_param_string(params, "hugepages", false, &hp, &err) < 0 ||
	    hwopt_param_int(params, "numa_node", false, -1, 4095, &node, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	if (shm_hugepages_parse(hp, &huge) < 0) {
		call_error(call, HWOPT_E_INVALID_PARAMS,
			   "params.hugepages: must be \"auto\", \"on\" or \"off\"", NULL);
		return;
	}
	/* Affinity: a pool the client did not place goes where the workers
	 * that read it run (on a machine with more than one node). */
	if (!cJSON_GetObjectItemCaseSensitive(params, "numa_node") && d->cfg.pol.affinity)
		node = sched_workers_numa_node(d->sched);
	char msg[512];
	struct pool_entry *p;
	int rc = pools_create(d, call_client(call), (uint64_t)bytes, huge, (int)node, &p, msg,
			      sizeof(msg));
	if (rc < 0) {
		call_error(call, error_code(rc), msg, NULL);
		return;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "pool", (double)p->id);
	cJSON_AddNumberToObject(r, "bytes", (double)shm_pool_size(p->shm));
	cJSON_AddStringToObject(r, "page_kind", shm_page_kind_name(shm_pool_page_kind(p->shm)));
	cJSON_AddNumberToObject(r, "page_size", (double)shm_pool_page_size(p->shm));
	cJSON_AddNumberToObject(r, "numa_node", shm_pool_numa_node(p->shm));
	cJSON_AddStringToObject(r, "fd", "scm_rights");
	call_reply_fd(call, r, shm_pool_fd(p->shm));
}

/* The caller's pool named by params.pool, or NULL after answering. */
static struct pool_entry *own_pool(struct hwoptd *d, struct hwoptd_call *call,
				   const cJSON *params)
{
	struct hwopt_rpc_error err;
	int64_t id;
	if (hwopt_param_int(params, "pool", true, 1, INT64_MAX, &id, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return NULL;
	}
	struct pool_entry *p = pools_find(d, call_client(call), (uint64_t)id);
	if (!p)
		call_errorf(call, HWOPT_E_NOT_FOUND, "pool %lld is not one of this client's pools",
			    (long long)id);
	return p;
}

void method_pool_alloc(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "pool", "bytes", NULL };
	struct hwopt_rpc_error err;
	int64_t bytes;
	if (method_reject_params(call, params, known))
		return;
	if (hwopt_param_int(params, "bytes", true, 1, INT64_MAX, &bytes, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	struct pool_entry *p = own_pool(d, call, params);
	if (!p)
		return;
	uint64_t off;
	if (shm_pool_alloc(p->shm, (uint64_t)bytes, &off) < 0) {
		struct shm_pool_stats st;
		shm_pool_get_stats(p->shm, &st);
		call_errorf(call, HWOPT_E_EXHAUSTED, "pool %llu has no free extent of %lld bytes "
			    "(%llu free, the largest %llu)", (unsigned long long)p->id, (long long)bytes,
			    (unsigned long long)(st.bytes - st.used),
			    (unsigned long long)st.largest_free);
		return;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "pool", (double)p->id);
	cJSON_AddNumberToObject(r, "offset", (double)off);
	cJSON_AddNumberToObject(r, "bytes", (double)shm_pool_block_left(p->shm, off));
	call_reply(call, r);
}

void method_pool_free(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "pool", "offset", NULL };
	struct hwopt_rpc_error err;
	int64_t off;
	if (method_reject_params(call, params, known))
		return;
	if (hwopt_param_int(params, "offset", true, 0, INT64_MAX, &off, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	struct pool_entry *p = own_pool(d, call, params);
	if (!p)
		return;
	if (shm_pool_free(p->shm, (uint64_t)off) < 0) {
		call_errorf(call, HWOPT_E_NOT_FOUND, "no block of pool %llu starts at offset %lld",
			    (unsigned long long)p->id, (long long)off);
		return;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "pool", (double)p->id);
	cJSON_AddNumberToObject(r, "offset", (double)off);
	cJSON_AddBoolToObject(r, "freed", 1);
	call_reply(call, r);
}

void method_pool_destroy(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "pool", NULL };
	if (method_reject_params(call, params, known))
		return;
	struct pool_entry *p = own_pool(d, call, params);
	if (!p)
		return;
	uint64_t id = p->id;
	bool deferred = pools_destroy(d, p);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "pool", (double)id);
	cJSON_AddBoolToObject(r, "destroyed", 1);
	cJSON_AddBoolToObject(r, "deferred", deferred);
	call_reply(call, r);
}

void method_pool_list(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "all", NULL };
	bool all;
	if (method_reject_params(call, params, known) || !method_list_all(d, call, params, &all))
		return;
	struct client *me = call_client(call);
	cJSON *r = cJSON_CreateObject();
	cJSON *a = cJSON_AddArrayToObject(r, "pools");
	for (struct pool_entry *p = d->pools; p; p = p->next)
		if (p->owner == me || (all && p->owner))
			cJSON_AddItemToArray(a, pools_entry_json(p));
	cJSON *q = cJSON_AddObjectToObject(r, "quota");
	cJSON_AddNumberToObject(q, "bytes", (double)d->cfg.pool_quota);
	cJSON_AddNumberToObject(q, "used", (double)me->pool_bytes);
	if (all) {
		cJSON_AddNumberToObject(r, "total_bytes", (double)d->pool_bytes);
		cJSON_AddNumberToObject(r, "max_total_bytes", (double)d->cfg.pool_max_total);
	}
	call_reply(call, r);
}
