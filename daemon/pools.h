/* The daemon's shared-memory pools: ids, owners, quotas, and the jobs that
 * keep a pool alive after its owner lets go. Loop thread only; workers
 * touch a pool's memory, never this bookkeeping. */
#ifndef HWOPTD_POOLS_H
#define HWOPTD_POOLS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "shm_pool.h"

struct hwoptd;
struct client;

struct pool_entry {
	uint64_t id;
	struct shm_pool *shm;
	struct client *owner;   /* NULL once destroyed (kept alive by jobs) */
	unsigned jobs;          /* queued and running jobs referring to it */
	struct pool_entry *prev, *next;
};

/* Makes a pool for c within its quota and the daemon's total. -EDQUOT
 * (over a quota; err says which) or shm_pool_create's errors. */
int pools_create(struct hwoptd *d, struct client *c, uint64_t bytes, enum shm_hugepages huge,
		 int numa_node, struct pool_entry **out, char *err, size_t errlen);
/* c's pool with that id, or NULL (another client's pool is not found). */
struct pool_entry *pools_find(struct hwoptd *d, const struct client *c, uint64_t id);
/* Takes it out of its owner's hands; the memory goes when no job refers to
 * it. Returns true when that is deferred. */
bool pools_destroy(struct hwoptd *d, struct pool_entry *p);
/* Destroys every pool of c; returns how many. */
unsigned pools_destroy_client(struct hwoptd *d, struct client *c);
void pools_ref(struct pool_entry *p);
void pools_unref(struct hwoptd *d, struct pool_entry *p);
/* At exit, after every job has ended. */
void pools_free_all(struct hwoptd *d);

/* The pool.list entry of p. */
cJSON *pools_entry_json(const struct pool_entry *p);

#endif
