/* libhwoptclient: shared-memory pools (pool.create, pool.alloc, pool.free,
 * pool.destroy). The daemon creates the memfd and passes it with the answer
 * to pool.create; the client maps it and names blocks by offset. */
#include "hwoptclient.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void pool_reset(struct hwopt_pool *p)
{
	memset(p, 0, sizeof(*p));
	p->id = -1;
	p->fd = -1;
}

/* A non-negative integer member that fits a double exactly. */
static bool get_u64(const cJSON *obj, const char *name, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble < 9007199254740992.0) ||
	    v->valuedouble != (double)(uint64_t)v->valuedouble)
		return false;
	*out = (uint64_t)v->valuedouble;
	return true;
}

static cJSON *pool_params(long long id)
{
	cJSON *p = cJSON_CreateObject();
	if (p && !cJSON_AddNumberToObject(p, "pool", (double)id)) {
		cJSON_Delete(p);
		p = NULL;
	}
	return p;
}

static enum hwopt_call_status no_memory(cJSON *params, cJSON **error)
{
	cJSON_Delete(params);
	if (error)
		*error = NULL;
	errno = ENOMEM;
	return HWOPT_CALL_IO_ERROR;
}

/* Best effort: the pool must not count against the quota when we cannot
 * use it. */
static void destroy_quietly(struct hwopt_client *c, long long id)
{
	cJSON *r = NULL, *p = pool_params(id);
	int e = errno;
	if (p)
		hwopt_client_call(c, "pool.destroy", p, hwopt_client_timeout(c), &r, NULL);
	cJSON_Delete(r);
	errno = e;
}

enum hwopt_call_status hwopt_pool_create(struct hwopt_client *c, size_t bytes,
					 const char *hugepages, int numa_node,
					 struct hwopt_pool *out, cJSON **error)
{
	pool_reset(out);
	cJSON *p = cJSON_CreateObject(), *r = NULL;
	if (!p || !cJSON_AddNumberToObject(p, "bytes", (double)bytes) ||
	    (hugepages && !cJSON_AddStringToObject(p, "hugepages", hugepages)) ||
	    (numa_node >= 0 && !cJSON_AddNumberToObject(p, "numa_node", numa_node)))
		return no_memory(p, error);
	int fd = -1;
	enum hwopt_call_status rc =
		hwopt_client_call_fd(c, "pool.create", p, hwopt_client_timeout(c), &r, error, &fd);
	if (rc != HWOPT_CALL_OK)
		return rc;

	uint64_t id, size;
	const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "page_kind"));
	bool have_id = get_u64(r, "pool", &id);
	struct stat st;
	if (!have_id || !get_u64(r, "bytes", &size) || size == 0 || (uint64_t)(size_t)size != size ||
	    fd < 0 ||
	    fstat(fd, &st) < 0 || (uint64_t)st.st_size < size) {
		if (have_id)
			destroy_quietly(c, (long long)id);
		if (fd >= 0)
			close(fd);
		cJSON_Delete(r);
		errno = EPROTO;
		return HWOPT_CALL_BAD_REPLY;
	}
	void *base = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		int e = errno;
		destroy_quietly(c, (long long)id);
		close(fd);
		cJSON_Delete(r);
		errno = e;
		return HWOPT_CALL_IO_ERROR;
	}
	out->id = (long long)id;
	out->fd = fd;
	out->base = base;
	out->bytes = (size_t)size;
	snprintf(out->page_kind, sizeof(out->page_kind), "%s", kind ? kind : "");
	cJSON_Delete(r);
	return HWOPT_CALL_OK;
}

enum hwopt_call_status hwopt_pool_alloc(struct hwopt_client *c, const struct hwopt_pool *pool,
					size_t bytes, uint64_t *offset, cJSON **error)
{
	cJSON *p = pool_params(pool->id), *r = NULL;
	if (!p || !cJSON_AddNumberToObject(p, "bytes", (double)bytes))
		return no_memory(p, error);
	enum hwopt_call_status rc =
		hwopt_client_call(c, "pool.alloc", p, hwopt_client_timeout(c), &r, error);
	if (rc != HWOPT_CALL_OK)
		return rc;
	uint64_t off, got;
	/* The block must lie in our mapping, or writing to it would fault. */
	if (!get_u64(r, "offset", &off) || !get_u64(r, "bytes", &got) || got < bytes ||
	    off > pool->bytes || got > pool->bytes - off) {
		cJSON_Delete(r);
		errno = EPROTO;
		return HWOPT_CALL_BAD_REPLY;
	}
	*offset = off;
	cJSON_Delete(r);
	return HWOPT_CALL_OK;
}

enum hwopt_call_status hwopt_pool_free(struct hwopt_client *c, const struct hwopt_pool *pool,
				       uint64_t offset, cJSON **error)
{
	cJSON *p = pool_params(pool->id), *r = NULL;
	if (!p || !cJSON_AddNumberToObject(p, "offset", (double)offset))
		return no_memory(p, error);
	enum hwopt_call_status rc =
		hwopt_client_call(c, "pool.free", p, hwopt_client_timeout(c), &r, error);
	cJSON_Delete(r);
	return rc;
}

enum hwopt_call_status hwopt_pool_destroy(struct hwopt_client *c, struct hwopt_pool *pool,
					  cJSON **error)
{
	enum hwopt_call_status rc = HWOPT_CALL_OK;
	if (error)
		*error = NULL;
	if (pool->id >= 0) {
		cJSON *p = pool_params(pool->id), *r = NULL;
		if (!p) {
			rc = no_memory(NULL, error);
		} else {
			rc = hwopt_client_call(c, "pool.destroy", p, hwopt_client_timeout(c), &r,
					       error);
			cJSON_Delete(r);
		}
	}
	int e = errno;
	hwopt_pool_unmap(pool);
	errno = e;
	return rc;
}

void hwopt_pool_unmap(struct hwopt_pool *pool)
{
	if (pool->base && pool->bytes)
		munmap(pool->base, pool->bytes);
	if (pool->fd >= 0)
		close(pool->fd);
	pool_reset(pool);
}
