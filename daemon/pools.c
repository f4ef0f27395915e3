#include "pools.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "client.h"
#include "daemon.h"
#include "dlist.h"

int pools_create(struct hwoptd *d, struct client *c, uint64_t bytes, enum shm_hugepages huge,
		 int numa_node, struct pool_entry **out, char *err, size_t errlen)
{
	/* Checked before and after rounding to pages: the quota holds for what
	 * is really mapped. */
	if (bytes > d->cfg.pool_quota || c->pool_bytes > d->cfg.pool_quota - bytes) {
		snprintf(err, errlen, "a pool of %llu bytes would exceed this client's pool_quota "
			 "(%llu of %llu bytes in use)", (unsigned long long)bytes,
			 (unsigned long long)c->pool_bytes, (unsigned long long)d->cfg.pool_quota);
		return -EDQUOT;
	}
	if (bytes > d->cfg.pool_max_total || d->pool_bytes > d->cfg.pool_max_total - bytes) {
		snprintf(err, errlen, "a pool of %llu bytes would exceed pool_max_total (%llu of "
			 "%llu bytes in use by all clients)", (unsigned long long)bytes,
			 (unsigned long long)d->pool_bytes, (unsigned long long)d->cfg.pool_max_total);
		return -EDQUOT;
	}
	struct pool_entry *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = shm_pool_create(bytes, huge, numa_node, &p->shm, err, errlen);
	if (rc < 0) {
		free(p);
		return rc;
	}
	uint64_t size = shm_pool_size(p->shm);
	if (size > d->cfg.pool_quota - c->pool_bytes) {
		snprintf(err, errlen, "the pool rounds up to %llu bytes of pages, over this client's "
			 "pool_quota (%llu of %llu bytes in use)", (unsigned long long)size,
			 (unsigned long long)c->pool_bytes, (unsigned long long)d->cfg.pool_quota);
		shm_pool_destroy(p->shm);
		free(p);
		return -EDQUOT;
	}
	p->id = ++d->next_pool_id;
	p->owner = c;
	c->pool_bytes += size;
	d->pool_bytes += size;
	DLIST_PUSH(d->pools, p, prev, next);
	*out = p;
	return 0;
}

struct pool_entry *pools_find(struct hwoptd *d, const struct client *c, uint64_t id)
{
	for (struct pool_entry *p = d->pools; p; p = p->next)
		if (p->id == id)
			return p->owner == c ? p : NULL;
	return NULL;
}

static void pool_release(struct hwoptd *d, struct pool_entry *p)
{
	d->pool_bytes -= shm_pool_size(p->shm);
	DLIST_REMOVE(d->pools, p, prev, next);
	shm_pool_destroy(p->shm);
	free(p);
}

bool pools_destroy(struct hwoptd *d, struct pool_entry *p)
{
	if (p->owner) {
		p->owner->pool_bytes -= shm_pool_size(p->shm);
		p->owner = NULL;
	}
	if (p->jobs)
		return true;
	pool_release(d, p);
	return false;
}

unsigned pools_destroy_client(struct hwoptd *d, struct client *c)
{
	unsigned n = 0;
	for (struct pool_entry *p = d->pools, *next; p; p = next) {
		next = p->next;
		if (p->owner == c) {
			pools_destroy(d, p);
			n++;
		}
	}
	return n;
}

void pools_ref(struct pool_entry *p)
{
	p->jobs++;
}

void pools_unref(struct hwoptd *d, struct pool_entry *p)
{
	if (--p->jobs == 0 && !p->owner)
		pool_release(d, p);
}

void pools_free_all(struct hwoptd *d)
{
	while (d->pools)
		pool_release(d, d->pools);
}

cJSON *pools_entry_json(const struct pool_entry *p)
{
	cJSON *o = shm_pool_stats_json(p->shm);
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "pool", (double)p->id);
	cJSON_AddNumberToObject(o, "jobs", p->jobs);
	if (p->owner)
		cJSON_AddItemToObject(o, "client", client_json(p->owner));
	else
		cJSON_AddNullToObject(o, "client");
	return o;
}
