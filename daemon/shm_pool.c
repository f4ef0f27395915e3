/* Shared-memory tensor pools (see shm_pool.h).
 *
 * The allocator keeps two arrays sorted by offset: the free extents (always
 * coalesced, so no two touch) and the live blocks. First fit scans the free
 * extents; free, check and block_left find a block by binary search. Free
 * extents are separated by live blocks, so there are never more than
 * blocks + 1 of them: both arrays grow together in alloc, and free never
 * needs memory and cannot fail for lack of it. */
#include "daemon/shm_pool.h"
#include "daemon/errbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define POOL_NAME "hwoptd-pool"
#define MAX_POOL_BYTES (1ull << 40)
#define MEMINFO_PATH "/proc/meminfo"
#define THP_SHMEM_PATH "/sys/kernel/mm/transparent_hugepage/shmem_enabled"
#define THP_PMD_SIZE_PATH "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"
#define THP_DEFAULT_PMD_SIZE (2ull << 20)
#define INITIAL_CAP 16

struct extent {
	uint64_t off, len;
};

struct shm_pool {
	int fd;
	void *base;
	uint64_t size;
	size_t page_size;
	enum shm_page_kind kind;
	int numa_node;

	struct extent *free_ext; /* capacity cap + 1 */
	size_t n_free;
	struct extent *blocks;   /* capacity cap */
	size_t n_blocks;
	size_t cap;

	uint64_t used, peak, allocations, frees, failures;
};


/* --- names ------------------------------------------------------------------ */

int shm_hugepages_parse(const char *s, enum shm_hugepages *out)
{
	static const struct { const char *name; enum shm_hugepages v; } names[] = {
		{ "auto", SHM_HUGE_AUTO }, { "on", SHM_HUGE_ON }, { "off", SHM_HUGE_OFF },
	};
	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].v;
			return 0;
		}
	}
	return -EINVAL;
}

const char *shm_page_kind_name(enum shm_page_kind k)
{
	switch (k) {
	case SHM_PAGES_NORMAL: return "normal";
	case SHM_PAGES_THP: return "thp";
	case SHM_PAGES_HUGETLB: return "hugetlb";
	}
	return "unknown";
}

/* --- arithmetic ------------------------------------------------------------- */

/* Rounds v up to a multiple of a (a power of two or not); false on overflow. */
static bool round_up(uint64_t v, uint64_t a, uint64_t *out)
{
	uint64_t rem = v % a;
	if (rem == 0) {
		*out = v;
		return true;
	}
	if (v > UINT64_MAX - (a - rem))
		return false;
	*out = v + (a - rem);
	return true;
}

/* --- what the kernel offers ------------------------------------------------- */

struct hugetlb_info {
	uint64_t page_size; /* bytes; 0 when the kernel has no hugetlb */
	uint64_t total, free, rsvd; /* pages */
};

static void read_hugetlb_info(struct hugetlb_info *hi)
{
	memset(hi, 0, sizeof(*hi));
	FILE *f = fopen(MEMINFO_PATH, "re");
	if (!f)
		return;
	char line[256], key[64];
	uint64_t v;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63[^:]: %" SCNu64, key, &v) != 2)
			continue;
		if (strcmp(key, "Hugepagesize") == 0)
			hi->page_size = v <= UINT64_MAX / 1024 ? v * 1024 : 0; /* kB */
		else if (strcmp(key, "HugePages_Total") == 0)
			hi->total = v;
		else if (strcmp(key, "HugePages_Free") == 0)
			hi->free = v;
		else if (strcmp(key, "HugePages_Rsvd") == 0)
			hi->rsvd = v;
	}
	fclose(f);
}

/* Free pages not already promised to another mapping. */
static uint64_t hugetlb_available(const struct hugetlb_info *hi)
{
	return hi->free > hi->rsvd ? hi->free - hi->rsvd : 0;
}

/* The bracketed word of shmem_enabled is the setting in force. "force"
 * makes every shmem mapping huge, so it counts as allowed too. */
static bool thp_shmem_allowed(void)
{
	char buf[256];
	FILE *f = fopen(THP_SHMEM_PATH, "re");
	if (!f)
		return false;
	bool ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return false;
	char *lb = strchr(buf, '['), *rb = lb ? strchr(lb, ']') : NULL;
	if (!rb)
		return false;
	*rb = '\0';
	static const char *const allowed[] = { "always", "within_size", "advise", "force" };
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(lb + 1, allowed[i]) == 0)
			return true;
	return false;
}

static uint64_t thp_pmd_size(void)
{
	uint64_t v = 0;
	FILE *f = fopen(THP_PMD_SIZE_PATH, "re");
	if (f) {
		if (fscanf(f, "%" SCNu64, &v) != 1)
			v = 0;
		fclose(f);
	}
	return v ? v : THP_DEFAULT_PMD_SIZE;
}

static int check_numa_node(int node, char *err, size_t errlen)
{
	if (node < 0)
		return 0;
	if (numa_available() < 0) {
		set_err(err, errlen, "NUMA node %d asked for, but libnuma reports no NUMA support", node);
		return -ENOTSUP;
	}
	int max = numa_max_node();
	if (node > max || !numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)node)) {
		set_err(err, errlen, "NUMA node %d does not exist (nodes 0..%d)", node, max);
		return -EINVAL;
	}
	return 0;
}

/* --- mapping ---------------------------------------------------------------- */

static void unmap_pool(struct shm_pool *p)
{
	if (p->base)
		munmap(p->base, (size_t)p->size);
	if (p->fd >= 0)
		close(p->fd);
	p->base = NULL;
	p->fd = -1;
}

/* mbind rather than numa_tonode_memory: libnuma's helper reports errors
 * only on stderr, and its bitmask allocator exits on failure. */
static int bind_node(void *base, uint64_t size, int node)
{
	const size_t word_bits = sizeof(unsigned long) * CHAR_BIT;
	size_t words = (size_t)node / word_bits + 1;
	unsigned long *mask = calloc(words, sizeof(*mask));
	if (!mask)
		return -ENOMEM;
	mask[(size_t)node / word_bits] = 1ul << ((size_t)node % word_bits);
	/* The kernel reads maxnode - 1 bits, hence the + 1. */
	int rc = mbind(base, (unsigned long)size, MPOL_BIND, mask, words * word_bits + 1, 0);
	int e = errno;
	free(mask);
	return rc < 0 ? -e : 0;
}

/* Faults every page in now, under the policy already set, so that a lack
 * of memory is an error here rather than a SIGBUS in a worker. */
static int populate(void *base, uint64_t size, size_t page)
{
	if (madvise(base, (size_t)size, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno == EFAULT || errno == ENOMEM) /* EFAULT: no page where the policy allows */
		return -ENOMEM;
	if (errno != EINVAL)
		return -errno;
	/* Kernels before 5.14: touch each page (the memfd is zero already). */
	volatile unsigned char *c = base;
	for (uint64_t o = 0; o < size; o += page)
		c[o] = 0;
	return 0;
}

/* One attempt with given page flavour: memfd sized and sealed, mapped,
 * bound, advised, faulted in. On failure nothing is left open. */
static int map_attempt(struct shm_pool *p, uint64_t size, size_t page, unsigned mfd_flags,
		       bool try_thp, char *err, size_t errlen)
{
	const char *what;
	int e;
	p->fd = memfd_create(POOL_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING | mfd_flags);
	if (p->fd < 0) {
		what = "memfd_create";
		goto fail_errno;
	}
	if (ftruncate(p->fd, (off_t)size) < 0) {
		what = "ftruncate";
		goto fail_errno;
	}
	/* A client that shrank the file would make the daemon's accesses fault. */
	if (fcntl(p->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		what = "sealing the memfd";
		goto fail_errno;
	}
	p->base = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
	if (p->base == MAP_FAILED) {
		p->base = NULL;
		what = "mmap";
		goto fail_errno;
	}
	p->size = size;
	p->page_size = page;
	p->kind = (mfd_flags & MFD_HUGETLB) ? SHM_PAGES_HUGETLB : SHM_PAGES_NORMAL;

	/* Policy and advice before the first touch: they do not move pages
	 * that already exist. */
	if (p->numa_node >= 0 && (e = -bind_node(p->base, size, p->numa_node)) != 0) {
		set_err(err, errlen, "binding the pool to NUMA node %d: %s", p->numa_node, strerror(e));
		goto fail;
	}
	if (try_thp && madvise(p->base, (size_t)size, MADV_HUGEPAGE) == 0)
		p->kind = SHM_PAGES_THP;
	if ((e = -populate(p->base, size, page)) != 0) {
		set_err(err, errlen, "faulting in %" PRIu64 " bytes: %s", size, strerror(e));
		goto fail;
	}
	return 0;

fail_errno:
	e = errno;
	set_err(err, errlen, "%s (%" PRIu64 " bytes): %s", what, size, strerror(e));
fail:
	unmap_pool(p);
	return -e;
}

/* Pool size for a page size, or 0 when it cannot be mapped here. */
static uint64_t pool_size(uint64_t bytes, uint64_t page)
{
	uint64_t size;
	if (!round_up(bytes, page, &size) || size > SIZE_MAX || size > (uint64_t)INT64_MAX)
		return 0;
	return size;
}

static void format_size(char *buf, size_t len, uint64_t bytes)
{
	if (bytes % (1u << 20) == 0)
		snprintf(buf, len, "%" PRIu64 " MiB", bytes >> 20);
	else
		snprintf(buf, len, "%" PRIu64 " KiB", bytes >> 10);
}

static int map_hugetlb(struct shm_pool *p, uint64_t bytes, const struct hugetlb_info *hi,
		       char *err, size_t errlen)
{
	if (hi->page_size == 0 || hi->page_size > SIZE_MAX) {
		set_err(err, errlen, "huge pages asked for, but this kernel has no hugetlb "
			"(no Hugepagesize in " MEMINFO_PATH ")");
		return -ENOTSUP;
	}
	uint64_t size = pool_size(bytes, hi->page_size);
	if (size == 0) {
		set_err(err, errlen, "pool of %" PRIu64 " bytes is too large", bytes);
		return -EINVAL;
	}
	int rc = map_attempt(p, size, (size_t)hi->page_size, MFD_HUGETLB, false, err, errlen);
	if (rc == -ENOMEM) {
		char hp[32];
		format_size(hp, sizeof(hp), hi->page_size);
		char node[48] = "";
		if (p->numa_node >= 0)
			snprintf(node, sizeof(node), " (and they must be on NUMA node %d)", p->numa_node);
		set_err(err, errlen, "no free huge pages: need %" PRIu64 " of %s, %" PRIu64
			" free of %" PRIu64 " reserved; set /proc/sys/vm/nr_hugepages%s",
			size / hi->page_size, hp, hugetlb_available(hi), hi->total, node);
	}
	return rc;
}

static int map_normal(struct shm_pool *p, uint64_t bytes, bool try_thp, char *err, size_t errlen)
{
	long sc = sysconf(_SC_PAGESIZE);
	uint64_t page = sc > 0 ? (uint64_t)sc : 4096;
	uint64_t size = pool_size(bytes, page);
	if (size == 0) {
		set_err(err, errlen, "pool of %" PRIu64 " bytes is too large", bytes);
		return -EINVAL;
	}
	/* THP pools keep base-page rounding and report the base page size:
	 * huge pages there are the kernel's best effort, not a guarantee. */
	try_thp = try_thp && size >= thp_pmd_size() && thp_shmem_allowed();
	return map_attempt(p, size, (size_t)page, 0, try_thp, err, errlen);
}

static int map_pages(struct shm_pool *p, uint64_t bytes, enum shm_hugepages huge,
		     char *err, size_t errlen)
{
	if (huge == SHM_HUGE_OFF)
		return map_normal(p, bytes, false, err, errlen);
	struct hugetlb_info hi;
	read_hugetlb_info(&hi);
	if (huge == SHM_HUGE_ON)
		return map_hugetlb(p, bytes, &hi, err, errlen);
	/* auto: hugetlb only when it would not waste most of a page and the
	 * pages look free; any failure falls back quietly. */
	if (hi.page_size && bytes >= hi.page_size) {
		uint64_t size = pool_size(bytes, hi.page_size);
		if (size && hugetlb_available(&hi) >= size / hi.page_size &&
		    map_hugetlb(p, bytes, &hi, NULL, 0) == 0)
			return 0;
	}
	return map_normal(p, bytes, true, err, errlen);
}

/* --- allocator -------------------------------------------------------------- */

/* First index whose offset is greater than off. */
static size_t upper_bound(const struct extent *v, size_t n, uint64_t off)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The live block with the greatest start <= off, or NULL. */
static const struct extent *block_at_or_before(const struct shm_pool *p, uint64_t off)
{
	size_t i = upper_bound(p->blocks, p->n_blocks, off);
	return i ? &p->blocks[i - 1] : NULL;
}

static void insert_at(struct extent *v, size_t *n, size_t i, struct extent e)
{
	memmove(&v[i + 1], &v[i], (*n - i) * sizeof(*v));
	v[i] = e;
	(*n)++;
}

static void remove_at(struct extent *v, size_t *n, size_t i)
{
	memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
	(*n)--;
}

/* Room for `blocks` live blocks and blocks + 1 free extents. */
static int reserve(struct shm_pool *p, size_t blocks)
{
	if (blocks <= p->cap)
		return 0;
	size_t cap = p->cap ? p->cap : INITIAL_CAP;
	while (cap < blocks) {
		if (cap > SIZE_MAX / 2 / sizeof(struct extent) - 1)
			return -ENOMEM;
		cap *= 2;
	}
	struct extent *b = realloc(p->blocks, cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	p->blocks = b;
	struct extent *f = realloc(p->free_ext, (cap + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM; /* blocks grew, cap did not: still consistent */
	p->free_ext = f;
	p->cap = cap;
	return 0;
}

static int allocator_init(struct shm_pool *p)
{
	int rc = reserve(p, INITIAL_CAP);
	if (rc)
		return rc;
	p->free_ext[0] = (struct extent){ 0, p->size };
	p->n_free = 1;
	return 0;
}

/* Returns a block's bytes to the free list, joining its neighbours. */
static void release_extent(struct shm_pool *p, struct extent b)
{
	size_t i = upper_bound(p->free_ext, p->n_free, b.off); /* first extent after b */
	struct extent *prev = i > 0 ? &p->free_ext[i - 1] : NULL;
	struct extent *next = i < p->n_free ? &p->free_ext[i] : NULL;
	bool join_prev = prev && prev->off + prev->len == b.off;
	bool join_next = next && b.off + b.len == next->off;

	if (join_prev && join_next) {
		prev->len += b.len + next->len;
		remove_at(p->free_ext, &p->n_free, i);
	} else if (join_prev) {
		prev->len += b.len;
	} else if (join_next) {
		next->off = b.off;
		next->len += b.len;
	} else {
		insert_at(p->free_ext, &p->n_free, i, b); /* room: n_free <= n_blocks + 1 */
	}
}

int shm_pool_alloc(struct shm_pool *p, uint64_t bytes, uint64_t *offset)
{
	if (bytes == 0)
		return -EINVAL;
	uint64_t need;
	size_t i = p->n_free;
	if (round_up(bytes, SHM_POOL_ALIGN, &need))
		for (i = 0; i < p->n_free && p->free_ext[i].len < need; i++)
			;
	if (i == p->n_free) {
		p->failures++;
		return -ENOMEM;
	}
	if (reserve(p, p->n_blocks + 1) < 0)
		return -ENOMEM; /* the daemon is out of memory, not the pool */

	struct extent *f = &p->free_ext[i];
	struct extent b = { f->off, need };
	f->off += need;
	f->len -= need;
	if (f->len == 0)
		remove_at(p->free_ext, &p->n_free, i);
	insert_at(p->blocks, &p->n_blocks, upper_bound(p->blocks, p->n_blocks, b.off), b);

	p->used += need;
	if (p->used > p->peak)
		p->peak = p->used;
	p->allocations++;
	*offset = b.off;
	return 0;
}

int shm_pool_free(struct shm_pool *p, uint64_t offset)
{
	size_t i = upper_bound(p->blocks, p->n_blocks, offset);
	if (i == 0 || p->blocks[i - 1].off != offset)
		return -ENOENT;
	struct extent b = p->blocks[i - 1];
	remove_at(p->blocks, &p->n_blocks, i - 1);
	release_extent(p, b);
	p->used -= b.len;
	p->frees++;
	return 0;
}

int shm_pool_check(const struct shm_pool *p, uint64_t offset, uint64_t bytes)
{
	/* Written so that nothing is added: offset + bytes may not fit. */
	if (offset > p->size || bytes > p->size - offset)
		return -ERANGE;
	const struct extent *b = block_at_or_before(p, offset);
	if (!b)
		return -ENOENT;
	uint64_t into = offset - b->off;
	if (into > b->len || bytes > b->len - into)
		return -ENOENT;
	return 0;
}

uint64_t shm_pool_block_left(const struct shm_pool *p, uint64_t offset)
{
	const struct extent *b = block_at_or_before(p, offset);
	if (!b || offset - b->off >= b->len)
		return 0;
	return b->len - (offset - b->off);
}

/* --- life cycle and accessors ----------------------------------------------- */

int shm_pool_create(uint64_t bytes, enum shm_hugepages huge, int numa_node,
		    struct shm_pool **out, char *err, size_t errlen)
{
	*out = NULL;
	if (bytes == 0 || bytes > MAX_POOL_BYTES) {
		set_err(err, errlen, "pool size %" PRIu64 " is out of range (1 byte to 1 TiB)", bytes);
		return -EINVAL;
	}
	if (huge != SHM_HUGE_AUTO && huge != SHM_HUGE_ON && huge != SHM_HUGE_OFF) {
		set_err(err, errlen, "bad hugepages mode %d", (int)huge);
		return -EINVAL;
	}
	int rc = check_numa_node(numa_node, err, errlen);
	if (rc)
		return rc;

	struct shm_pool *p = calloc(1, sizeof(*p));
	if (!p) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->fd = -1;
	p->numa_node = numa_node < 0 ? -1 : numa_node;
	rc = map_pages(p, bytes, huge, err, errlen);
	if (rc == 0 && (rc = allocator_init(p)) != 0)
		set_err(err, errlen, "out of memory");
	if (rc) {
		shm_pool_destroy(p);
		return rc;
	}
	*out = p;
	return 0;
}

void shm_pool_destroy(struct shm_pool *p)
{
	if (!p)
		return;
	unmap_pool(p);
	free(p->blocks);
	free(p->free_ext);
	free(p);
}

int shm_pool_fd(const struct shm_pool *p) { return p->fd; }
void *shm_pool_base(const struct shm_pool *p) { return p->base; }
uint64_t shm_pool_size(const struct shm_pool *p) { return p->size; }
enum shm_page_kind shm_pool_page_kind(const struct shm_pool *p) { return p->kind; }
size_t shm_pool_page_size(const struct shm_pool *p) { return p->page_size; }
int shm_pool_numa_node(const struct shm_pool *p) { return p->numa_node; }

/* --- statistics ------------------------------------------------------------- */

void shm_pool_get_stats(const struct shm_pool *p, struct shm_pool_stats *st)
{
	uint64_t largest = 0;
	for (size_t i = 0; i < p->n_free; i++)
		if (p->free_ext[i].len > largest)
			largest = p->free_ext[i].len;
	uint64_t free_bytes = p->size - p->used;
	*st = (struct shm_pool_stats){
		.bytes = p->size,
		.used = p->used,
		.peak = p->peak,
		.blocks = p->n_blocks,
		.allocations = p->allocations,
		.frees = p->frees,
		.failures = p->failures,
		.fragmentation_pct = free_bytes ? 100.0 * (1.0 - (double)largest / (double)free_bytes) : 0.0,
		.largest_free = largest,
	};
}

cJSON *shm_pool_stats_json(const struct shm_pool *p)
{
	struct shm_pool_stats st;
	shm_pool_get_stats(p, &st);
	const struct { const char *name; double v; } nums[] = {
		{ "bytes", (double)st.bytes },
		{ "used", (double)st.used },
		{ "peak", (double)st.peak },
		{ "free", (double)(st.bytes - st.used) },
		{ "blocks", (double)st.blocks },
		{ "allocations", (double)st.allocations },
		{ "frees", (double)st.frees },
		{ "failures", (double)st.failures },
		{ "fragmentation_pct", st.fragmentation_pct },
		{ "largest_free", (double)st.largest_free },
	};
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (!cJSON_AddNumberToObject(o, nums[i].name, nums[i].v))
			goto fail;
	if (!cJSON_AddStringToObject(o, "page_kind", shm_page_kind_name(p->kind)) ||
	    !cJSON_AddNumberToObject(o, "page_size", (double)p->page_size) ||
	    !cJSON_AddNumberToObject(o, "numa_node", p->numa_node))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}
