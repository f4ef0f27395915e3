/* Shared-memory pools: the memfd (sealed, close-on-exec, shared), page
 * kinds (normal, hugetlb with pages reserved for the test, THP where the
 * test can switch it on), NUMA binding, and the block allocator against a
 * shadow model. Tests that change a kernel setting restore it in their
 * teardown, which cmocka runs even when the test fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/shm_pool.h"

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"
#define NR_OVERCOMMIT_HUGEPAGES "/proc/sys/vm/nr_overcommit_hugepages"
#define THP_SHMEM "/sys/kernel/mm/transparent_hugepage/shmem_enabled"

/* --- helpers -------------------------------------------------------------- */

static size_t base_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static struct shm_pool *make_pool(uint64_t bytes)
{
	struct shm_pool *p = NULL;
	char err[256] = "";
	int rc = shm_pool_create(bytes, SHM_HUGE_OFF, -1, &p, err, sizeof(err));
	if (rc)
		fail_msg("shm_pool_create(%" PRIu64 "): %d %s", bytes, rc, err);
	return p;
}

static uint64_t must_alloc(struct shm_pool *p, uint64_t bytes)
{
	uint64_t off = UINT64_MAX;
	assert_int_equal(shm_pool_alloc(p, bytes, &off), 0);
	return off;
}

static struct shm_pool_stats stats(const struct shm_pool *p)
{
	struct shm_pool_stats st;
	shm_pool_get_stats(p, &st);
	return st;
}

static bool read_u64(const char *path, uint64_t *v)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ok = fscanf(f, "%" SCNu64, v) == 1;
	fclose(f);
	return ok;
}

static bool write_str(const char *path, const char *s)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return false;
	bool ok = fputs(s, f) >= 0;
	return fclose(f) == 0 && ok;
}

static bool write_u64(const char *path, uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64 "\n", v);
	return write_str(path, buf);
}

/* A /proc/meminfo value (kB for sizes, pages for HugePages_*); 0 if absent. */
static uint64_t meminfo(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "re");
	assert_non_null(f);
	char line[256];
	uint64_t v = 0;
	size_t n = strlen(key);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0 && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/* The bracketed word, or "" when the file is missing. */
static void thp_setting(char *out, size_t len)
{
	char buf[256] = "";
	out[0] = '\0';
	FILE *f = fopen(THP_SHMEM, "re");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f)) {
		char *lb = strchr(buf, '['), *rb = lb ? strchr(lb, ']') : NULL;
		if (rb)
			snprintf(out, len, "%.*s", (int)(rb - lb - 1), lb + 1);
	}
	fclose(f);
}

static double json_num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	assert_non_null(v);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

/* --- names ---------------------------------------------------------------- */

static void names(void **state)
{
	enum shm_hugepages h = SHM_HUGE_OFF;
	assert_int_equal(shm_hugepages_parse("auto", &h), 0);
	assert_int_equal(h, SHM_HUGE_AUTO);
	assert_int_equal(shm_hugepages_parse("on", &h), 0);
	assert_int_equal(h, SHM_HUGE_ON);
	assert_int_equal(shm_hugepages_parse("off", &h), 0);
	assert_int_equal(h, SHM_HUGE_OFF);
	assert_int_equal(shm_hugepages_parse("", &h), -EINVAL);
	assert_int_equal(shm_hugepages_parse("ON", &h), -EINVAL);
	assert_int_equal(shm_hugepages_parse("yes", &h), -EINVAL);
	assert_int_equal(h, SHM_HUGE_OFF); /* untouched on error */
	assert_string_equal(shm_page_kind_name(SHM_PAGES_NORMAL), "normal");
	assert_string_equal(shm_page_kind_name(SHM_PAGES_THP), "thp");
	assert_string_equal(shm_page_kind_name(SHM_PAGES_HUGETLB), "hugetlb");
}

/* --- creation and the memfd ------------------------------------------------ */

static void create_destroy(void **state)
{
	struct shm_pool *p = make_pool(1);
	assert_int_equal(shm_pool_size(p), base_page());
	assert_int_equal(shm_pool_page_size(p), base_page());
	assert_int_equal(shm_pool_page_kind(p), SHM_PAGES_NORMAL);
	assert_int_equal(shm_pool_numa_node(p), -1);
	assert_non_null(shm_pool_base(p));
	assert_true(shm_pool_fd(p) >= 0);
	shm_pool_destroy(p);
	shm_pool_destroy(NULL);

	p = make_pool(3 * base_page() + 1);
	assert_int_equal(shm_pool_size(p), 4 * base_page());
	shm_pool_destroy(p);

	/* auto without huge pages to spare and below the THP size: normal. */
	char err[256] = "";
	assert_int_equal(shm_pool_create(10000, SHM_HUGE_AUTO, -1, &p, err, sizeof(err)), 0);
	assert_int_equal(shm_pool_page_kind(p), SHM_PAGES_NORMAL);
	assert_int_equal(shm_pool_size(p) % base_page(), 0);
	shm_pool_destroy(p);
}

static void create_limits(void **state)
{
	struct shm_pool *p = (struct shm_pool *)&p; /* must be reset to NULL */
	char err[256] = "";
	assert_int_equal(shm_pool_create(0, SHM_HUGE_OFF, -1, &p, err, sizeof(err)), -EINVAL);
	assert_null(p);
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(shm_pool_create((1ull << 40) + 1, SHM_HUGE_OFF, -1, &p, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(shm_pool_create(UINT64_MAX, SHM_HUGE_AUTO, -1, &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(shm_pool_create(UINT64_MAX, SHM_HUGE_ON, -1, &p, NULL, 0), -EINVAL);
	assert_int_equal(shm_pool_create(4096, (enum shm_hugepages)42, -1, &p, err, sizeof(err)),
			 -EINVAL);
	assert_null(p);
}

static void fd_sealed_cloexec(void **state)
{
	struct shm_pool *p = make_pool(8192);
	int fd = shm_pool_fd(p);

	int fl = fcntl(fd, F_GETFD);
	assert_true(fl >= 0);
	assert_true(fl & FD_CLOEXEC);
	assert_int_equal(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);

	struct stat sb;
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_size, 8192);

	errno = 0;
	assert_int_equal(ftruncate(fd, 4096), -1);
	assert_int_equal(errno, EPERM);
	errno = 0;
	assert_int_equal(ftruncate(fd, 1 << 20), -1);
	assert_int_equal(errno, EPERM);
	errno = 0; /* F_SEAL_SEAL: no more seals, e.g. one that would stop the daemon writing */
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
	assert_int_equal(errno, EPERM);

	char link[64], target[128];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_non_null(strstr(target, "memfd:hwoptd-pool"));
	shm_pool_destroy(p);
}

static void second_mapping_shares(void **state)
{
	struct shm_pool *p = make_pool(3 * base_page());
	size_t size = (size_t)shm_pool_size(p);
	unsigned char *a = shm_pool_base(p);
	unsigned char *b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, shm_pool_fd(p), 0);
	assert_true(b != MAP_FAILED);

	for (size_t i = 0; i < size; i++)
		assert_int_equal(a[i], 0);
	a[0] = 0x11;
	a[size - 1] = 0x22;
	memset(a + base_page(), 0x5a, 100);
	assert_int_equal(b[0], 0x11);
	assert_int_equal(b[size - 1], 0x22);
	assert_int_equal(b[base_page() + 99], 0x5a);
	b[7] = 0x77; /* and back: the client's writes reach the daemon */
	assert_int_equal(a[7], 0x77);

	munmap(b, size);
	shm_pool_destroy(p);
}

/* Creation faults every page in, so all are resident before any use. */
static void pages_faulted_in(void **state)
{
	struct shm_pool *p = make_pool(64 * base_page());
	size_t n = 64;
	unsigned char vec[64];
	assert_int_equal(mincore(shm_pool_base(p), (size_t)shm_pool_size(p), vec), 0);
	for (size_t i = 0; i < n; i++)
		assert_true(vec[i] & 1);
	shm_pool_destroy(p);
}

/* --- allocator ------------------------------------------------------------- */

static void alloc_alignment(void **state)
{
	struct shm_pool *p = make_pool(4096);
	uint64_t off = 12345;
	assert_int_equal(shm_pool_alloc(p, 0, &off), -EINVAL);
	assert_int_equal(off, 12345);

	assert_int_equal(must_alloc(p, 1), 0);
	assert_int_equal(must_alloc(p, 64), 64);
	assert_int_equal(must_alloc(p, 65), 128);
	assert_int_equal(must_alloc(p, 100), 256);
	assert_int_equal(must_alloc(p, 1), 384);
	assert_int_equal(shm_pool_block_left(p, 0), 64);
	assert_int_equal(shm_pool_block_left(p, 128), 128);
	assert_int_equal(shm_pool_block_left(p, 130), 126);
	assert_int_equal(shm_pool_block_left(p, 448), 0);

	struct shm_pool_stats st = stats(p);
	assert_int_equal(st.used, 64 + 64 + 128 + 128 + 64);
	assert_int_equal(st.blocks, 5);
	assert_int_equal(st.allocations, 5);
	assert_int_equal(st.failures, 0);

	/* Sizes that would overflow when rounded are simply too large. */
	assert_int_equal(shm_pool_alloc(p, UINT64_MAX, &off), -ENOMEM);
	assert_int_equal(shm_pool_alloc(p, UINT64_MAX - 62, &off), -ENOMEM);
	assert_int_equal(stats(p).failures, 2);
	shm_pool_destroy(p);
}

static void first_fit_reuse(void **state)
{
	struct shm_pool *p = make_pool(4096);
	uint64_t a = must_alloc(p, 512), x = must_alloc(p, 64);
	uint64_t b = must_alloc(p, 256), y = must_alloc(p, 64);
	assert_int_equal(a, 0);
	assert_int_equal(b, 576);
	assert_int_equal(shm_pool_free(p, a), 0);
	assert_int_equal(shm_pool_free(p, b), 0);
	/* Holes: 512 at 0, 256 at 576, the tail at y + 64. Best fit would put
	 * 200 (256 rounded) into the exact 256 hole; first fit takes the first
	 * hole that is large enough. */
	assert_int_equal(x, 512);
	assert_int_equal(must_alloc(p, 200), 0);
	assert_int_equal(must_alloc(p, 300), y + 64);    /* 320: neither hole fits */
	assert_int_equal(must_alloc(p, 256), 256);       /* rest of the first hole */
	assert_int_equal(must_alloc(p, 256), 576);       /* the second hole, exactly */
	assert_int_equal(must_alloc(p, 64), y + 64 + 320);
	assert_int_equal(stats(p).largest_free, 4096 - (y + 64 + 320 + 64));
	shm_pool_destroy(p);
}

/* Three adjacent blocks freed in every order join into one extent, both
 * when fenced off from the tail and when they join it too. */
static void coalescing(void **state)
{
	static const int orders[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	for (int o = 0; o < 6; o++) {
		struct shm_pool *p = make_pool(4096);
		uint64_t blk[3];
		for (int i = 0; i < 3; i++)
			blk[i] = must_alloc(p, 256);
		uint64_t fence = must_alloc(p, 64);
		for (int i = 0; i < 3; i++)
			assert_int_equal(shm_pool_free(p, blk[orders[o][i]]), 0);

		struct shm_pool_stats st = stats(p);
		assert_int_equal(st.blocks, 1);
		assert_int_equal(st.largest_free, 4096 - 768 - 64);
		assert_true(st.fragmentation_pct > 0.0); /* the hole and the tail */
		assert_int_equal(must_alloc(p, 768), 0); /* one extent of 768 */
		assert_int_equal(shm_pool_free(p, 0), 0);

		assert_int_equal(shm_pool_free(p, fence), 0);
		st = stats(p);
		assert_int_equal(st.blocks, 0);
		assert_int_equal(st.used, 0);
		assert_int_equal(st.largest_free, 4096);
		assert_true(st.fragmentation_pct == 0.0);
		assert_int_equal(must_alloc(p, 4096), 0);
		shm_pool_destroy(p);
	}
	for (int o = 0; o < 6; o++) { /* unfenced: the last free joins the tail */
		struct shm_pool *p = make_pool(4096);
		uint64_t blk[3];
		for (int i = 0; i < 3; i++)
			blk[i] = must_alloc(p, 256);
		for (int i = 0; i < 3; i++)
			assert_int_equal(shm_pool_free(p, blk[orders[o][i]]), 0);
		struct shm_pool_stats st = stats(p);
		assert_int_equal(st.largest_free, 4096);
		assert_true(st.fragmentation_pct == 0.0);
		shm_pool_destroy(p);
	}
}

static void exhaustion(void **state)
{
	struct shm_pool *p = make_pool(4096);
	uint64_t off = 77;
	assert_int_equal(must_alloc(p, 4096), 0);
	assert_int_equal(shm_pool_alloc(p, 1, &off), -ENOMEM);
	assert_int_equal(off, 77);
	assert_int_equal(shm_pool_alloc(p, 8192, &off), -ENOMEM);
	struct shm_pool_stats st = stats(p);
	assert_int_equal(st.failures, 2);
	assert_int_equal(st.allocations, 1);
	assert_int_equal(st.largest_free, 0);
	assert_true(st.fragmentation_pct == 0.0); /* nothing free */
	assert_int_equal(shm_pool_free(p, 0), 0);
	assert_int_equal(must_alloc(p, 4000), 0);
	assert_int_equal(shm_pool_alloc(p, 128, &off), -ENOMEM); /* 4032..4096 is 64 */
	assert_int_equal(must_alloc(p, 64), 4032);
	shm_pool_destroy(p);
}

static void free_errors(void **state)
{
	struct shm_pool *p = make_pool(4096);
	uint64_t a = must_alloc(p, 256);
	assert_int_equal(shm_pool_free(p, a + 64), -ENOENT);  /* inside, not the start */
	assert_int_equal(shm_pool_free(p, 1024), -ENOENT);    /* free space */
	assert_int_equal(shm_pool_free(p, 1ull << 40), -ENOENT);
	assert_int_equal(shm_pool_free(p, UINT64_MAX), -ENOENT);
	assert_int_equal(shm_pool_free(p, a), 0);
	assert_int_equal(shm_pool_free(p, a), -ENOENT);       /* twice */
	struct shm_pool_stats st = stats(p);
	assert_int_equal(st.frees, 1);
	assert_int_equal(st.used, 0);
	shm_pool_destroy(p);
}

static void check_ranges(void **state)
{
	struct shm_pool *p = make_pool(4096);
	uint64_t a = must_alloc(p, 256), b = must_alloc(p, 256), c = must_alloc(p, 256);
	assert_int_equal(shm_pool_free(p, c), 0);
	uint64_t end = 4096;

	assert_int_equal(shm_pool_check(p, a, 256), 0);
	assert_int_equal(shm_pool_check(p, a + 10, 100), 0);
	assert_int_equal(shm_pool_check(p, b + 255, 1), 0);
	assert_int_equal(shm_pool_check(p, a + 200, 100), -ENOENT);   /* spans a and b */
	assert_int_equal(shm_pool_check(p, a, 512), -ENOENT);
	assert_int_equal(shm_pool_check(p, b, 257), -ENOENT);         /* into freed c */
	assert_int_equal(shm_pool_check(p, c, 16), -ENOENT);          /* freed block */
	assert_int_equal(shm_pool_check(p, 2048, 16), -ENOENT);       /* never allocated */
	assert_int_equal(shm_pool_check(p, end, 1), -ERANGE);         /* past the end */
	assert_int_equal(shm_pool_check(p, end - 10, 20), -ERANGE);
	assert_int_equal(shm_pool_check(p, 0, end + 1), -ERANGE);
	assert_int_equal(shm_pool_check(p, end + 1, 0), -ERANGE);
	assert_int_equal(shm_pool_check(p, UINT64_MAX, 1), -ERANGE);  /* offset + bytes wraps */
	assert_int_equal(shm_pool_check(p, 1, UINT64_MAX), -ERANGE);
	assert_int_equal(shm_pool_check(p, 64, UINT64_MAX - 63), -ERANGE); /* wraps to exactly 0 */
	assert_int_equal(shm_pool_check(p, UINT64_MAX, UINT64_MAX), -ERANGE);

	/* Empty tensors: in a block or at its end, nowhere else. */
	assert_int_equal(shm_pool_check(p, a, 0), 0);
	assert_int_equal(shm_pool_check(p, a + 100, 0), 0);
	assert_int_equal(shm_pool_check(p, b + 256, 0), 0);  /* end of b */
	assert_int_equal(shm_pool_check(p, b + 257, 0), -ENOENT);
	assert_int_equal(shm_pool_check(p, 2048, 0), -ENOENT);
	assert_int_equal(shm_pool_check(p, end, 0), -ENOENT); /* tail is free */
	assert_int_equal(shm_pool_free(p, a), 0);
	assert_int_equal(shm_pool_check(p, 0, 0), -ENOENT);

	/* A block that ends at the pool's end. */
	assert_int_equal(must_alloc(p, 4096 - 512), 512);
	assert_int_equal(shm_pool_check(p, end, 0), 0);
	assert_int_equal(shm_pool_check(p, 512, end - 512), 0);
	assert_int_equal(shm_pool_check(p, end - 1, 1), 0);
	assert_int_equal(shm_pool_block_left(p, end - 1), 1);
	assert_int_equal(shm_pool_block_left(p, end), 0);
	assert_int_equal(shm_pool_block_left(p, UINT64_MAX), 0);
	shm_pool_destroy(p);
}

static void stats_numbers(void **state)
{
	struct shm_pool *p = make_pool(4096);
	uint64_t q[4];
	for (int i = 0; i < 4; i++)
		q[i] = must_alloc(p, 1000); /* 1024 each: the whole pool */
	assert_int_equal(shm_pool_free(p, q[1]), 0);
	struct shm_pool_stats st = stats(p);
	assert_int_equal(st.bytes, 4096);
	assert_int_equal(st.used, 3072);
	assert_int_equal(st.peak, 4096);
	assert_int_equal(st.largest_free, 1024);
	assert_true(st.fragmentation_pct == 0.0);
	assert_int_equal(shm_pool_free(p, q[3]), 0);
	uint64_t off;
	assert_int_equal(shm_pool_alloc(p, 2048, &off), -ENOMEM); /* 2048 free, in two pieces */
	st = stats(p);
	assert_int_equal(st.used, 2048);
	assert_int_equal(st.peak, 4096);
	assert_int_equal(st.blocks, 2);
	assert_int_equal(st.allocations, 4);
	assert_int_equal(st.frees, 2);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.largest_free, 1024);
	assert_true(st.fragmentation_pct == 50.0);

	cJSON *j = shm_pool_stats_json(p);
	assert_non_null(j);
	assert_true(json_num(j, "bytes") == 4096);
	assert_true(json_num(j, "used") == 2048);
	assert_true(json_num(j, "peak") == 4096);
	assert_true(json_num(j, "free") == 2048);
	assert_true(json_num(j, "blocks") == 2);
	assert_true(json_num(j, "allocations") == 4);
	assert_true(json_num(j, "frees") == 2);
	assert_true(json_num(j, "failures") == 1);
	assert_true(json_num(j, "fragmentation_pct") == 50.0);
	assert_true(json_num(j, "largest_free") == 1024);
	assert_true(json_num(j, "page_size") == (double)base_page());
	assert_true(json_num(j, "numa_node") == -1);
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "page_kind");
	assert_true(cJSON_IsString(kind));
	assert_string_equal(kind->valuestring, "normal");
	assert_int_equal(cJSON_GetArraySize(j), 13);
	cJSON_Delete(j);
	shm_pool_destroy(p);
}

/* Thousands of blocks: lookups stay correct across the whole array. */
static void many_blocks(void **state)
{
	enum { N = 20480 }; /* N * 64 is a whole number of pages */
	struct shm_pool *p = make_pool(N * 64);
	for (uint64_t i = 0; i < N; i++)
		assert_int_equal(must_alloc(p, 64), i * 64);
	for (uint64_t i = 0; i < N; i += 2)
		assert_int_equal(shm_pool_free(p, i * 64), 0);
	struct shm_pool_stats st = stats(p);
	assert_int_equal(st.blocks, N / 2);
	assert_int_equal(st.largest_free, 64);
	for (uint64_t i = 0; i < N; i++) {
		int want = (i % 2) ? 0 : -ENOENT;
		assert_int_equal(shm_pool_check(p, i * 64 + 8, 56), want);
	}
	for (uint64_t i = 1; i < N; i += 2)
		assert_int_equal(shm_pool_free(p, i * 64), 0);
	st = stats(p);
	assert_int_equal(st.largest_free, N * 64);
	assert_true(st.fragmentation_pct == 0.0);
	shm_pool_destroy(p);
}

/* --- random operations against a shadow model ------------------------------ */

struct shadow_block {
	uint64_t off, len, req;
	unsigned char tag;
};

struct shadow {
	struct shadow_block *v;
	size_t n;
	uint64_t size;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int by_off(const void *a, const void *b)
{
	const struct shadow_block *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Where first fit must place `need` bytes (UINT64_MAX: nowhere), and the
 * largest gap. The shadow is kept sorted. */
static uint64_t shadow_first_fit(const struct shadow *s, uint64_t need, uint64_t *largest)
{
	uint64_t at = UINT64_MAX, cur = 0;
	*largest = 0;
	for (size_t i = 0; i <= s->n; i++) {
		uint64_t next = i < s->n ? s->v[i].off : s->size;
		assert_true(next >= cur); /* no overlap */
		uint64_t gap = next - cur;
		if (gap > *largest)
			*largest = gap;
		if (at == UINT64_MAX && need && gap >= need)
			at = cur;
		if (i < s->n)
			cur = s->v[i].off + s->v[i].len;
	}
	return at;
}

static void verify_against_shadow(const struct shm_pool *p, const struct shadow *s, bool deep)
{
	uint64_t used = 0, largest;
	for (size_t i = 0; i < s->n; i++)
		used += s->v[i].len;
	shadow_first_fit(s, 0, &largest);
	struct shm_pool_stats st = stats(p);
	assert_int_equal(st.used, used);
	assert_int_equal(st.blocks, s->n);
	assert_int_equal(st.largest_free, largest);
	assert_int_equal(st.bytes - st.used + used, s->size); /* free + used == size */
	assert_true(st.peak >= st.used);
	uint64_t free_bytes = s->size - used;
	double frag = free_bytes ? 100.0 * (1.0 - (double)largest / (double)free_bytes) : 0.0;
	assert_true(st.fragmentation_pct == frag);
	if (!deep)
		return;
	const unsigned char *base = shm_pool_base(p);
	for (size_t i = 0; i < s->n; i++) {
		const struct shadow_block *b = &s->v[i];
		assert_int_equal(shm_pool_check(p, b->off, b->len), 0);
		assert_int_not_equal(shm_pool_check(p, b->off, b->len + 1), 0);
		assert_int_equal(shm_pool_block_left(p, b->off), b->len);
		assert_int_equal(base[b->off], b->tag);
		assert_int_equal(base[b->off + b->req - 1], b->tag);
	}
}

static void random_stress(void **state)
{
	enum { OPS = 10000, MAX_LIVE = 512 };
	struct shadow s = { .v = calloc(MAX_LIVE, sizeof(struct shadow_block)), .size = 256 << 10 };
	assert_non_null(s.v);
	struct shm_pool *p = make_pool(s.size);
	unsigned char *base = shm_pool_base(p);
	uint64_t allocs = 0, frees = 0, failures = 0;

	for (int op = 0; op < OPS; op++) {
		uint64_t r = rnd();
		if (s.n < MAX_LIVE && (s.n == 0 || r % 100 < 55)) {
			uint64_t req = (r >> 8) % 4 ? 1 + (r >> 16) % 1024 : 1 + (r >> 16) % 16384;
			uint64_t need = (req + 63) & ~63ull, largest, off = UINT64_MAX;
			uint64_t want = shadow_first_fit(&s, need, &largest);
			int rc = shm_pool_alloc(p, req, &off);
			if (want == UINT64_MAX) {
				assert_int_equal(rc, -ENOMEM);
				failures++;
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(off, want);
			unsigned char tag = (unsigned char)(1 + op % 255);
			memset(base + off, tag, req);
			s.v[s.n++] = (struct shadow_block){ off, need, req, tag };
			qsort(s.v, s.n, sizeof(*s.v), by_off);
			allocs++;
		} else {
			size_t i = (r >> 8) % s.n;
			struct shadow_block b = s.v[i];
			if (b.len > 64) /* not a block start: refused, nothing changes */
				assert_int_equal(shm_pool_free(p, b.off + 64), -ENOENT);
			for (uint64_t k = 0; k < b.req; k += 61)
				assert_int_equal(base[b.off + k], b.tag);
			assert_int_equal(shm_pool_free(p, b.off), 0);
			memmove(&s.v[i], &s.v[i + 1], (s.n - i - 1) * sizeof(*s.v));
			s.n--;
			frees++;
		}
		verify_against_shadow(p, &s, op % 97 == 0);
	}
	verify_against_shadow(p, &s, true);
	struct shm_pool_stats st = stats(p);
	assert_int_equal(st.allocations, allocs);
	assert_int_equal(st.frees, frees);
	assert_int_equal(st.failures, failures);
	assert_true(failures > 0); /* the pool did fill up at times */

	while (s.n) {
		assert_int_equal(shm_pool_free(p, s.v[s.n - 1].off), 0);
		s.n--;
	}
	st = stats(p);
	assert_int_equal(st.used, 0);
	assert_int_equal(st.largest_free, s.size);
	assert_true(st.fragmentation_pct == 0.0);
	shm_pool_destroy(p);
	free(s.v);
}

/* --- huge pages ------------------------------------------------------------ */

static uint64_t saved_nr_hugepages = UINT64_MAX;

static int save_nr_hugepages(void **state)
{
	if (!read_u64(NR_HUGEPAGES, &saved_nr_hugepages))
		saved_nr_hugepages = UINT64_MAX;
	return 0;
}

static int restore_nr_hugepages(void **state)
{
	if (saved_nr_hugepages == UINT64_MAX)
		return 0;
	uint64_t now = UINT64_MAX;
	if (read_u64(NR_HUGEPAGES, &now) && now != saved_nr_hugepages &&
	    !write_u64(NR_HUGEPAGES, saved_nr_hugepages))
		return -1; /* cmocka reports the failed teardown */
	return 0;
}

static void hugetlb_none_reserved(void **state)
{
	uint64_t nr = 1, over = 1;
	if (!read_u64(NR_HUGEPAGES, &nr) || !read_u64(NR_OVERCOMMIT_HUGEPAGES, &over))
		skip(); /* no hugetlb here */
	if (nr != 0 || over != 0)
		skip(); /* someone reserved pages: leave the machine's setting alone */

	struct shm_pool *p = NULL;
	char err[256] = "";
	assert_int_equal(shm_pool_create(1, SHM_HUGE_ON, -1, &p, err, sizeof(err)), -ENOMEM);
	assert_null(p);
	assert_non_null(strstr(err, "no free huge pages"));
	assert_non_null(strstr(err, "/proc/sys/vm/nr_hugepages"));

	/* auto falls back without complaint. */
	uint64_t hp = meminfo("Hugepagesize") * 1024;
	assert_int_equal(shm_pool_create(2 * hp, SHM_HUGE_AUTO, -1, &p, err, sizeof(err)), 0);
	assert_int_not_equal(shm_pool_page_kind(p), SHM_PAGES_HUGETLB);
	assert_int_equal(shm_pool_page_size(p), base_page());
	shm_pool_destroy(p);
}

static void hugetlb_reserved(void **state)
{
	if (geteuid() != 0 || saved_nr_hugepages == UINT64_MAX)
		skip();
	uint64_t hp = meminfo("Hugepagesize") * 1024;
	uint64_t avail0 = meminfo("HugePages_Free") - meminfo("HugePages_Rsvd");
	if (hp == 0 || !write_u64(NR_HUGEPAGES, saved_nr_hugepages + 4))
		skip();
	uint64_t avail = meminfo("HugePages_Free") - meminfo("HugePages_Rsvd");
	if (avail < avail0 + 4)
		skip(); /* the kernel found no memory for them; teardown restores */

	struct shm_pool *p = NULL;
	char err[256] = "";
	assert_int_equal(shm_pool_create(hp + 1, SHM_HUGE_ON, -1, &p, err, sizeof(err)), 0);
	assert_int_equal(shm_pool_page_kind(p), SHM_PAGES_HUGETLB);
	assert_int_equal(shm_pool_page_size(p), hp);
	assert_int_equal(shm_pool_size(p), 2 * hp);
	assert_int_equal(fcntl(shm_pool_fd(p), F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	assert_true(fcntl(shm_pool_fd(p), F_GETFD) & FD_CLOEXEC);
	/* Both pages are taken at creation, not on first use. */
	assert_int_equal(meminfo("HugePages_Free") - meminfo("HugePages_Rsvd"), avail - 2);

	unsigned char *q = mmap(NULL, 2 * hp, PROT_READ | PROT_WRITE, MAP_SHARED, shm_pool_fd(p), 0);
	assert_true(q != MAP_FAILED);
	((unsigned char *)shm_pool_base(p))[2 * hp - 1] = 0xab;
	assert_int_equal(q[2 * hp - 1], 0xab);
	munmap(q, 2 * hp);

	cJSON *j = shm_pool_stats_json(p);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "page_kind")->valuestring, "hugetlb");
	assert_true(json_num(j, "page_size") == (double)hp);
	cJSON_Delete(j);

	/* More than is left: -ENOMEM naming the shortfall. */
	struct shm_pool *big = NULL;
	assert_int_equal(shm_pool_create(3 * hp, SHM_HUGE_ON, -1, &big, err, sizeof(err)), -ENOMEM);
	assert_null(big);
	assert_non_null(strstr(err, "need 3 of"));
	/* auto: too few free, so normal pages. */
	assert_int_equal(shm_pool_create(3 * hp, SHM_HUGE_AUTO, -1, &big, err, sizeof(err)), 0);
	assert_int_not_equal(shm_pool_page_kind(big), SHM_PAGES_HUGETLB);
	shm_pool_destroy(big);
	shm_pool_destroy(p);

	/* auto: enough free and at least a page's worth, so hugetlb... */
	assert_int_equal(shm_pool_create(hp, SHM_HUGE_AUTO, -1, &p, err, sizeof(err)), 0);
	assert_int_equal(shm_pool_page_kind(p), SHM_PAGES_HUGETLB);
	shm_pool_destroy(p);
	/* ...but not for less than a page. */
	assert_int_equal(shm_pool_create(hp / 2, SHM_HUGE_AUTO, -1, &p, err, sizeof(err)), 0);
	assert_int_not_equal(shm_pool_page_kind(p), SHM_PAGES_HUGETLB);
	shm_pool_destroy(p);
	/* off means off. */
	assert_int_equal(shm_pool_create(hp, SHM_HUGE_OFF, -1, &p, err, sizeof(err)), 0);
	assert_int_equal(shm_pool_page_kind(p), SHM_PAGES_NORMAL);
	shm_pool_destroy(p);

	/* Bound to node 0 (every machine has one). */
	if (numa_available() >= 0) {
		assert_int_equal(shm_pool_create(hp, SHM_HUGE_ON, 0, &p, err, sizeof(err)), 0);
		assert_int_equal(shm_pool_page_kind(p), SHM_PAGES_HUGETLB);
		assert_int_equal(shm_pool_numa_node(p), 0);
		shm_pool_destroy(p);
	}
	/* All pages came back. */
	assert_int_equal(meminfo("HugePages_Free") - meminfo("HugePages_Rsvd"), avail);
}

/* --- transparent huge pages --------------------------------------------------- */

static char saved_thp[32];

static int save_thp(void **state)
{
	thp_setting(saved_thp, sizeof(saved_thp));
	return 0;
}

static int restore_thp(void **state)
{
	char now[32];
	thp_setting(now, sizeof(now));
	if (saved_thp[0] && strcmp(now, saved_thp) != 0 && !write_str(THP_SHMEM, saved_thp))
		return -1;
	return 0;
}

static enum shm_page_kind auto_kind(uint64_t bytes)
{
	struct shm_pool *p = NULL;
	char err[256] = "";
	int rc = shm_pool_create(bytes, SHM_HUGE_AUTO, -1, &p, err, sizeof(err));
	if (rc)
		fail_msg("create: %d %s", rc, err);
	enum shm_page_kind k = shm_pool_page_kind(p);
	assert_int_equal(shm_pool_page_size(p), base_page());
	shm_pool_destroy(p);
	return k;
}

/* auto follows shmem_enabled. The test flips it to "never" and "advise"
 * when it can (root), and restores the original. */
static void thp_follows_shmem_enabled(void **state)
{
	if (!saved_thp[0])
		skip(); /* no THP in this kernel */
	uint64_t over = 1, free_hp = meminfo("HugePages_Free");
	read_u64(NR_OVERCOMMIT_HUGEPAGES, &over);
	if (free_hp || over)
		skip(); /* auto would take hugetlb pages */

	bool allowed = strcmp(saved_thp, "never") != 0 && strcmp(saved_thp, "deny") != 0;
	assert_int_equal(auto_kind(4 << 20), allowed ? SHM_PAGES_THP : SHM_PAGES_NORMAL);
	assert_int_equal(auto_kind(1 << 20), SHM_PAGES_NORMAL); /* below the THP size */
	if (geteuid() != 0 || !write_str(THP_SHMEM, "advise"))
		skip();
	assert_int_equal(auto_kind(4 << 20), SHM_PAGES_THP);
	assert_int_equal(auto_kind(1 << 20), SHM_PAGES_NORMAL);
	struct shm_pool *p = NULL;
	assert_int_equal(shm_pool_create(4 << 20, SHM_HUGE_OFF, -1, &p, NULL, 0), 0);
	assert_int_equal(shm_pool_page_kind(p), SHM_PAGES_NORMAL);
	shm_pool_destroy(p);
	assert_true(write_str(THP_SHMEM, "never"));
	assert_int_equal(auto_kind(4 << 20), SHM_PAGES_NORMAL);
}

/* --- NUMA ------------------------------------------------------------------- */

static void numa_binding(void **state)
{
	struct shm_pool *p = NULL;
	char err[256] = "";
	if (numa_available() < 0) {
		assert_int_equal(shm_pool_create(4096, SHM_HUGE_OFF, 0, &p, err, sizeof(err)), -ENOTSUP);
		skip();
	}
	int max = numa_max_node();
	assert_int_equal(shm_pool_create(1 << 20, SHM_HUGE_OFF, 0, &p, err, sizeof(err)), 0);
	assert_int_equal(shm_pool_numa_node(p), 0);

	unsigned long mask[16] = { 0 };
	int mode = -1;
	char *base = shm_pool_base(p);
	assert_int_equal(get_mempolicy(&mode, mask, sizeof(mask) * CHAR_BIT, base, MPOL_F_ADDR), 0);
	assert_int_equal(mode, MPOL_BIND);
	assert_int_equal(mask[0], 1);
	for (size_t off = 0; off < (1 << 20); off += base_page()) {
		int node = -1;
		assert_int_equal(get_mempolicy(&node, NULL, 0, base + off, MPOL_F_NODE | MPOL_F_ADDR), 0);
		assert_int_equal(node, 0);
	}
	cJSON *j = shm_pool_stats_json(p);
	assert_true(json_num(j, "numa_node") == 0);
	cJSON_Delete(j);
	shm_pool_destroy(p);

	assert_int_equal(shm_pool_create(4096, SHM_HUGE_OFF, 99, &p, err, sizeof(err)), -EINVAL);
	assert_null(p);
	char want[96];
	snprintf(want, sizeof(want), "NUMA node 99 does not exist (nodes 0..%d)", max);
	assert_string_equal(err, want);
	assert_int_equal(shm_pool_create(4096, SHM_HUGE_OFF, max + 1, &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(shm_pool_create(4096, SHM_HUGE_OFF, INT_MAX, &p, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(create_destroy),
		cmocka_unit_test(create_limits),
		cmocka_unit_test(fd_sealed_cloexec),
		cmocka_unit_test(second_mapping_shares),
		cmocka_unit_test(pages_faulted_in),
		cmocka_unit_test(alloc_alignment),
		cmocka_unit_test(first_fit_reuse),
		cmocka_unit_test(coalescing),
		cmocka_unit_test(exhaustion),
		cmocka_unit_test(free_errors),
		cmocka_unit_test(check_ranges),
		cmocka_unit_test(stats_numbers),
		cmocka_unit_test(many_blocks),
		cmocka_unit_test(random_stress),
		cmocka_unit_test(hugetlb_none_reserved),
		cmocka_unit_test_setup_teardown(hugetlb_reserved, save_nr_hugepages, restore_nr_hugepages),
		cmocka_unit_test_setup_teardown(thp_follows_shmem_enabled, save_thp, restore_thp),
		cmocka_unit_test(numa_binding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
