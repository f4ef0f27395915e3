/* Shared-memory tensor pools: one memfd per pool, mapped by the daemon and
 * passed to the client once. Blocks inside a pool are allocated by the
 * daemon (shm_pool_alloc, 64-byte aligned) so that every tensor reference
 * can be checked against a live block, not only against the pool's size.
 * A pool is plain data: no locks, no knowledge of clients or jobs; the
 * loop thread owns it. Worker threads only read and write the mapping. */
#ifndef HWOPTD_SHM_POOL_H
#define HWOPTD_SHM_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define SHM_POOL_ALIGN 64

enum shm_hugepages {
	SHM_HUGE_AUTO, /* hugetlb when pages are free, else THP where shmem allows, else normal */
	SHM_HUGE_ON,   /* hugetlb or fail */
	SHM_HUGE_OFF,  /* normal pages */
};
int shm_hugepages_parse(const char *s, enum shm_hugepages *out); /* 0 or -EINVAL */

enum shm_page_kind { SHM_PAGES_NORMAL, SHM_PAGES_THP, SHM_PAGES_HUGETLB };
const char *shm_page_kind_name(enum shm_page_kind k); /* "normal", "thp", "hugetlb" */

struct shm_pool_stats {
	uint64_t bytes;          /* size of the pool */
	uint64_t used;           /* bytes in live blocks */
	uint64_t peak;           /* highest used */
	uint64_t blocks;         /* live blocks */
	uint64_t allocations;    /* successful shm_pool_alloc calls */
	uint64_t frees;          /* successful shm_pool_free calls */
	uint64_t failures;       /* shm_pool_alloc calls that found no room */
	double fragmentation_pct;/* 100 * (1 - largest free extent / free bytes); 0 when nothing is free */
	uint64_t largest_free;   /* bytes of the largest free extent */
};

struct shm_pool;

/* Creates a pool of at least `bytes` (rounded up to the page size in use:
 * the huge page size for hugetlb, the base page size for normal and THP,
 * where huge pages are the kernel's best effort).
 * numa_node < 0: no binding; else the pages are bound to that node with
 * libnuma (MPOL_BIND) before first touch. The memfd is MFD_CLOEXEC with
 * sealing allowed; once sized it is sealed against shrinking and growing
 * (a client that truncated it would make the daemon fault). Pages are
 * faulted in at creation so that a failure shows here, not in a job.
 * On failure returns a negative errno and writes the reason to err:
 * -ENOMEM (no huge pages reserved for "on", or no memory), -EINVAL (bad
 * node, zero or too large size), -ENOTSUP (NUMA asked where libnuma reports
 * none, or "on" where the kernel has no hugetlb). */
int shm_pool_create(uint64_t bytes, enum shm_hugepages huge, int numa_node,
		    struct shm_pool **out, char *err, size_t errlen);
/* Unmaps and closes. */
void shm_pool_destroy(struct shm_pool *p);

int shm_pool_fd(const struct shm_pool *p);           /* the memfd (the daemon's copy) */
void *shm_pool_base(const struct shm_pool *p);
uint64_t shm_pool_size(const struct shm_pool *p);
enum shm_page_kind shm_pool_page_kind(const struct shm_pool *p);
size_t shm_pool_page_size(const struct shm_pool *p);
int shm_pool_numa_node(const struct shm_pool *p);     /* -1 when not bound */

/* Allocates a block of `bytes` (> 0, rounded up to SHM_POOL_ALIGN), first
 * fit. Returns 0 with *offset set, or -ENOMEM when no free extent is large
 * enough (counted in failures), -EINVAL for 0 bytes. */
int shm_pool_alloc(struct shm_pool *p, uint64_t bytes, uint64_t *offset);
/* Frees the block starting at offset; neighbours coalesce. -ENOENT when no
 * live block starts there. */
int shm_pool_free(struct shm_pool *p, uint64_t offset);

/* Checks that [offset, offset + bytes) lies inside one live block,
 * without overflow. 0, or -ERANGE (outside the pool, or offset + bytes
 * overflows), or -ENOENT (inside the pool but not inside one live block).
 * bytes may be 0 (an empty tensor): then offset must lie in a block or at its end. */
int shm_pool_check(const struct shm_pool *p, uint64_t offset, uint64_t bytes);
/* Bytes from offset to the end of the live block holding it; 0 when none. */
uint64_t shm_pool_block_left(const struct shm_pool *p, uint64_t offset);

void shm_pool_get_stats(const struct shm_pool *p, struct shm_pool_stats *st);
/* {bytes, used, peak, free, blocks, allocations, frees, failures,
 *  fragmentation_pct, largest_free, page_kind, page_size, numa_node}. */
cJSON *shm_pool_stats_json(const struct shm_pool *p);

#endif
