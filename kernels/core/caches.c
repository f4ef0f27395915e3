/* Cache sizes for blocking, and aligned memory. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/hwk.h"

static struct hwk_caches caches;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* sysfs: /sys/devices/system/cpu/cpu0/cache/indexN/{level,type,size}. */
static size_t sysfs_cache(int level, const char *type)
{
	for (int i = 0; i < 8; i++) {
		char path[96], buf[32], t[32];
		int lv = 0;
		FILE *f;
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
		if (!(f = fopen(path, "r")))
			break;
		if (fscanf(f, "%d", &lv) != 1)
			lv = 0;
		fclose(f);
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
		if (!(f = fopen(path, "r")))
			continue;
		if (fscanf(f, "%31s", t) != 1)
			t[0] = '\0';
		fclose(f);
		if (lv != level || strcmp(t, type) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
		if (!(f = fopen(path, "r")))
			continue;
		unsigned long v = 0;
		char unit = 0;
		if (fgets(buf, sizeof(buf), f) && sscanf(buf, "%lu%c", &v, &unit) >= 1) {
			fclose(f);
			return unit == 'K' ? v << 10 : unit == 'M' ? v << 20 : v;
		}
		fclose(f);
	}
	return 0;
}

static size_t pick(const char *env, long sc, int level, const char *type, size_t dflt)
{
	const char *e = getenv(env);
	if (e && *e) {
		char *end;
		unsigned long long v = strtoull(e, &end, 10);
		if (!*end && v >= 1024)
			return (size_t)v;
	}
	if (sc > 0)
		return (size_t)sc;
	size_t s = sysfs_cache(level, type);
	return s ? s : dflt;
}

static void detect(void)
{
	long l1 = -1, l2 = -1, l3 = -1, line = -1;
#ifdef _SC_LEVEL1_DCACHE_SIZE
	l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE);
	l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
	l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
	line = sysconf(_SC_LEVEL1_DCACHE_LINESIZE);
#endif
	caches.l1d = pick("HWK_L1D", l1, 1, "Data", 32 << 10);
	caches.l2 = pick("HWK_L2", l2, 2, "Unified", 512 << 10);
	caches.l3 = pick("HWK_L3", l3, 3, "Unified", 0);
	if (caches.l3 == 0)
		caches.l3 = caches.l2; /* no L3: block as if L2 were last */
	caches.line = line > 0 ? (size_t)line : 64;
}

const struct hwk_caches *hwk_caches(void)
{
	pthread_once(&once, detect);
	return &caches;
}

void *hwk_alloc(size_t bytes)
{
	if (bytes == 0)
		return NULL;
	/* Rounded up so vector tails may read a whole register past the end. */
	size_t rounded = (bytes + 127) & ~(size_t)63;
	if (rounded < bytes)
		return NULL;
	void *p = NULL;
	if (posix_memalign(&p, 64, rounded) != 0)
		return NULL;
	return p;
}

void hwk_free(void *p)
{
	free(p);
}
