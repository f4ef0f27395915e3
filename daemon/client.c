#include "client.h"

#include <stdlib.h>

#include "daemon.h"
#include "dlist.h"
#include "jobs.h"
#include "telemetry/telemetry.h"
#include "policy.h"
#include "pools.h"

struct client *client_new(struct hwoptd *d, uint64_t id, const struct peer_cred *cred)
{
	struct client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->d = d;
	c->id = id;
	c->cred = *cred;
	c->refs = 1;
	DLIST_PUSH(d->clients, c, prev, next);
	return c;
}

void client_ref(struct client *c)
{
	c->refs++;
}

void client_unref(struct client *c)
{
	if (--c->refs > 0)
		return;
	struct hwoptd *d = c->d;
	DLIST_REMOVE(d->clients, c, prev, next);
	free(c);
}

void client_gone(struct hwoptd *d, struct client *c)
{
	c->gone = true;
	telemetry_client_gone(d->tm, c);
	policy_client_gone(d, c);
	unsigned n = c->n_jobs;
	jobs_cancel_client(d, c);
	unsigned p = pools_destroy_client(d, c);
	if (n || p)
		log_info("client %llu (pid %d) disconnected: %u jobs cancelled, %u pools destroyed",
			 (unsigned long long)c->id, (int)c->cred.pid, n, p);
	client_unref(c);
}

cJSON *client_json(const struct client *c)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "connection", (double)c->id);
	cJSON_AddNumberToObject(o, "pid", c->cred.pid);
	cJSON_AddNumberToObject(o, "uid", c->cred.uid);
	return o;
}
