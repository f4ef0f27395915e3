/* Machine topology from hwloc, rendered as the `topology` method's JSON.
 *
 * Choices worth knowing (also in docs/protocol.md):
 * - caches are grouped by (level, type) AND by their geometry and sharing,
 *   so a hybrid CPU whose P- and E-core L2s differ yields two L2 entries
 *   rather than one entry that misstates half the caches;
 * - when the OS reports no CPU kinds, core_kinds holds one kind covering
 *   every PU with efficiency -1 and "source":"none" (kinds hwloc reports
 *   carry "source":"hwloc"), so clients always find at least one kind;
 * - when the OS reports no Core objects, each PU counts as a core (hwloc's
 *   own convention), with -1 for the unknown core index. */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/topology.h"
#include "daemon/errbuf.h"
#include "kernels/hwk.h"

struct hwoptd_topology {
	hwloc_topology_t topo;
};


int hwoptd_topology_load(struct hwoptd_topology **out, char *err, size_t errlen)
{
	*out = NULL;
	/* A library built for another hwloc ABI would misread every struct. */
	if ((hwloc_get_api_version() >> 16) != (HWLOC_API_VERSION >> 16)) {
		set_err(err, errlen, "hwloc library API %#x does not match headers %#x",
			hwloc_get_api_version(), (unsigned)HWLOC_API_VERSION);
		return -ENOTSUP;
	}

	struct hwoptd_topology *t = calloc(1, sizeof(*t));
	if (!t) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	errno = 0; /* so a failure without errno is not blamed on a stale one */
	if (hwloc_topology_init(&t->topo) < 0) {
		int e = errno ? errno : ENOMEM;
		set_err(err, errlen, "hwloc_topology_init: %s", strerror(e));
		free(t);
		return -e;
	}
	/* hwloc drops instruction caches by default; the report wants them.
	 * Failure only loses L1i from the report, so it is not fatal. */
	(void)hwloc_topology_set_icache_types_filter(t->topo, HWLOC_TYPE_FILTER_KEEP_ALL);
	errno = 0;
	if (hwloc_topology_load(t->topo) < 0) {
		int e = errno ? errno : EIO;
		set_err(err, errlen, "hwloc_topology_load: %s", strerror(e));
		hwloc_topology_destroy(t->topo);
		free(t);
		return -e;
	}
	*out = t;
	return 0;
}

void hwoptd_topology_free(struct hwoptd_topology *t)
{
	if (!t)
		return;
	hwloc_topology_destroy(t->topo);
	free(t);
}

hwloc_topology_t hwoptd_topology_hwloc(const struct hwoptd_topology *t)
{
	return t->topo;
}

/* --- JSON helpers: each returns false on allocation failure -------------- */

/* Adds item under key, or frees it if it cannot be added. */
static bool attach(cJSON *parent, const char *key, cJSON *item)
{
	if (!item)
		return false;
	bool ok = key ? cJSON_AddItemToObject(parent, key, item)
		      : cJSON_AddItemToArray(parent, item);
	if (!ok)
		cJSON_Delete(item);
	return ok;
}

static bool add_num(cJSON *o, const char *key, double v)
{
	return cJSON_AddNumberToObject(o, key, v) != NULL;
}

/* A NULL string becomes JSON null so the shape stays the same. */
static bool add_str(cJSON *o, const char *key, const char *s)
{
	return s ? cJSON_AddStringToObject(o, key, s) != NULL
		 : cJSON_AddNullToObject(o, key) != NULL;
}

/* "0-3,8" style list of a bitmap. */
static bool add_cpulist(cJSON *o, const char *key, hwloc_const_bitmap_t set)
{
	char *s = NULL;
	if (hwloc_bitmap_list_asprintf(&s, set) < 0 || !s)
		return false;
	bool ok = add_str(o, key, s);
	free(s);
	return ok;
}

/* hwloc's "unknown" index as -1, which JSON readers can test for. */
static double os_index_num(unsigned idx)
{
	return idx == HWLOC_UNKNOWN_INDEX ? -1.0 : (double)idx;
}

/* --- sections ---------------------------------------------------------------- */

static const char *cpu_info(hwloc_topology_t topo, const char *name)
{
	/* x86 puts CPUVendor/CPUModel on packages; some Arm and other
	 * platforms attach them to the machine (root) object instead. */
	hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
	const char *v = pkg ? hwloc_obj_get_info_by_name(pkg, name) : NULL;
	if (!v)
		v = hwloc_obj_get_info_by_name(hwloc_get_root_obj(topo), name);
	return v;
}

static cJSON *cpu_json(hwloc_topology_t topo)
{
	cJSON *cpu = cJSON_CreateObject();
	if (!cpu)
		return NULL;
	const char *names[HWK_CPU_FEATURE_MAX];
	int n = hwk_cpu_feature_names(hwk_cpu_features(), names, HWK_CPU_FEATURE_MAX);
	if (!add_str(cpu, "vendor", cpu_info(topo, "CPUVendor")) ||
	    !add_str(cpu, "model_name", cpu_info(topo, "CPUModel")) ||
	    !attach(cpu, "features", cJSON_CreateStringArray(names, n))) {
		cJSON_Delete(cpu);
		return NULL;
	}
	return cpu;
}

struct cache_group {
	unsigned level;
	hwloc_obj_cache_type_t type;
	unsigned long long size;
	unsigned line;
	int assoc;
	int shared_by;
	int count;
};

static int cache_type_rank(hwloc_obj_cache_type_t type)
{
	/* lscpu's order: L1d before L1i, unified last. */
	switch (type) {
	case HWLOC_OBJ_CACHE_DATA: return 0;
	case HWLOC_OBJ_CACHE_INSTRUCTION: return 1;
	default: return 2;
	}
}

static const char *cache_type_name(hwloc_obj_cache_type_t type)
{
	switch (type) {
	case HWLOC_OBJ_CACHE_DATA: return "data";
	case HWLOC_OBJ_CACHE_INSTRUCTION: return "instruction";
	default: return "unified";
	}
}

static int cache_group_cmp(const void *pa, const void *pb)
{
	const struct cache_group *a = pa, *b = pb;
	if (a->level != b->level)
		return a->level < b->level ? -1 : 1;
	int ra = cache_type_rank(a->type), rb = cache_type_rank(b->type);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return a->shared_by - b->shared_by;
}

static cJSON *caches_json(hwloc_topology_t topo)
{
	/* Distinct cache shapes are few (a handful per level), so a linear
	 * search over a growing array is plenty. */
	struct cache_group *groups = NULL;
	size_t n = 0, cap = 0;
	cJSON *arr = NULL;
	int depths = hwloc_topology_get_depth(topo);

	for (int d = 0; d < depths; d++) {
		if (!hwloc_obj_type_is_cache(hwloc_get_depth_type(topo, d)))
			continue;
		for (hwloc_obj_t o = hwloc_get_next_obj_by_depth(topo, d, NULL); o;
		     o = hwloc_get_next_obj_by_depth(topo, d, o)) {
			const struct hwloc_cache_attr_s *c = &o->attr->cache;
			struct cache_group key = {
				.level = c->depth, .type = c->type,
				.size = (unsigned long long)c->size, .line = c->linesize,
				.assoc = c->associativity,
				.shared_by = o->cpuset ? hwloc_bitmap_weight(o->cpuset) : 0,
			};
			size_t i;
			for (i = 0; i < n; i++) {
				struct cache_group *g = &groups[i];
				if (g->level == key.level && g->type == key.type &&
				    g->size == key.size && g->line == key.line &&
				    g->assoc == key.assoc && g->shared_by == key.shared_by)
					break;
			}
			if (i == n) {
				if (n == cap) {
					size_t ncap = cap ? cap * 2 : 8;
					struct cache_group *ng = realloc(groups, ncap * sizeof(*ng));
					if (!ng)
						goto fail;
					groups = ng;
					cap = ncap;
				}
				groups[n++] = key;
			}
			groups[i].count++;
		}
	}
	if (n > 1)
		qsort(groups, n, sizeof(*groups), cache_group_cmp);

	arr = cJSON_CreateArray();
	if (!arr)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const struct cache_group *g = &groups[i];
		cJSON *c = cJSON_CreateObject();
		if (!attach(arr, NULL, c) ||
		    !add_num(c, "level", g->level) ||
		    !add_str(c, "type", cache_type_name(g->type)) ||
		    !add_num(c, "size_bytes", (double)g->size) ||
		    !add_num(c, "line_bytes", g->line) ||
		    /* hwloc: -1 fully associative, 0 unknown */
		    !add_num(c, "associativity", g->assoc) ||
		    !add_num(c, "count", g->count) ||
		    !add_num(c, "shared_by_pus", g->shared_by))
			goto fail;
	}
	free(groups);
	return arr;
fail:
	free(groups);
	cJSON_Delete(arr);
	return NULL;
}

static cJSON *numa_json(hwloc_topology_t topo)
{
	cJSON *arr = cJSON_CreateArray();
	if (!arr)
		return NULL;
	for (hwloc_obj_t o = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, NULL); o;
	     o = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, o)) {
		cJSON *n = cJSON_CreateObject();
		/* A memory-only node (CXL, HBM) has an empty cpuset: "". */
		if (!attach(arr, NULL, n) ||
		    !add_num(n, "os_index", os_index_num(o->os_index)) ||
		    !add_num(n, "memory_bytes", (double)o->attr->numanode.local_memory) ||
		    !add_cpulist(n, "cpus", o->cpuset)) {
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}

static cJSON *core_kind_json(int efficiency, hwloc_const_bitmap_t cpus,
			     const struct hwloc_info_s *infos, unsigned nr_infos,
			     const char *source)
{
	cJSON *k = cJSON_CreateObject();
	cJSON *inf = cJSON_CreateObject();
	if (!k || !inf)
		goto fail;
	for (unsigned i = 0; i < nr_infos; i++)
		if (!add_str(inf, infos[i].name, infos[i].value))
			goto fail;
	if (!add_num(k, "efficiency", efficiency) || !add_cpulist(k, "cpus", cpus))
		goto fail;
	bool ok = attach(k, "infos", inf);
	inf = NULL; /* owned by k now, or already freed */
	if (!ok || !add_str(k, "source", source))
		goto fail;
	return k;
fail:
	cJSON_Delete(inf);
	cJSON_Delete(k);
	return NULL;
}

static cJSON *core_kinds_json(hwloc_topology_t topo)
{
	cJSON *arr = cJSON_CreateArray();
	hwloc_bitmap_t set = hwloc_bitmap_alloc();
	if (!arr || !set)
		goto fail;

	int nr = hwloc_cpukinds_get_nr(topo, 0);
	for (int i = 0; i < nr; i++) {
		int eff = -1;
		unsigned nr_infos = 0;
		struct hwloc_info_s *infos = NULL;
		if (hwloc_cpukinds_get_info(topo, (unsigned)i, set, &eff, &nr_infos, &infos, 0) < 0)
			continue; /* only on a racing kind removal; skip it */
		if (!attach(arr, NULL, core_kind_json(eff, set, infos, nr_infos, "hwloc")))
			goto fail;
	}
	if (cJSON_GetArraySize(arr) == 0 &&
	    !attach(arr, NULL, core_kind_json(-1, hwloc_topology_get_topology_cpuset(topo),
					      NULL, 0, "none")))
		goto fail;
	hwloc_bitmap_free(set);
	return arr;
fail:
	hwloc_bitmap_free(set);
	cJSON_Delete(arr);
	return NULL;
}

static cJSON *pus_of(hwloc_topology_t topo, hwloc_obj_t core)
{
	cJSON *arr = cJSON_CreateArray();
	if (!arr)
		return NULL;
	for (hwloc_obj_t pu = hwloc_get_next_obj_inside_cpuset_by_type(
		     topo, core->cpuset, HWLOC_OBJ_PU, NULL);
	     pu; pu = hwloc_get_next_obj_inside_cpuset_by_type(topo, core->cpuset,
								 HWLOC_OBJ_PU, pu)) {
		if (!attach(arr, NULL, cJSON_CreateNumber(os_index_num(pu->os_index)))) {
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}

static cJSON *cores_detail_json(hwloc_topology_t topo)
{
	cJSON *arr = cJSON_CreateArray();
	if (!arr)
		return NULL;
	/* Without Core objects each PU stands for a core of its own. */
	hwloc_obj_type_t type =
		hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
	for (hwloc_obj_t o = hwloc_get_next_obj_by_type(topo, type, NULL); o;
	     o = hwloc_get_next_obj_by_type(topo, type, o)) {
		hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, o);
		cJSON *c = cJSON_CreateObject();
		if (!attach(arr, NULL, c) ||
		    !add_num(c, "os_index",
			     type == HWLOC_OBJ_CORE ? os_index_num(o->os_index) : -1) ||
		    !add_num(c, "package", pkg ? os_index_num(pkg->os_index) : -1) ||
		    !attach(c, "pus", pus_of(topo, o))) {
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}

/* The calling thread's affinity, read now: cgroup cpuset changes and
 * taskset after start shrink or move it while the topology stays put. */
static cJSON *allowed_json(void)
{
	cJSON *o = NULL;
	hwloc_bitmap_t set = NULL;
	cpu_set_t *mask = NULL;
	size_t ncpus = CPU_SETSIZE, size = 0;

	/* A fixed cpu_set_t caps at 1024 CPUs; grow until the kernel's mask
	 * fits (EINVAL means "too small"). */
	for (;;) {
		mask = CPU_ALLOC(ncpus);
		if (!mask)
			return NULL;
		size = CPU_ALLOC_SIZE(ncpus);
		if (sched_getaffinity(0, size, mask) == 0)
			break;
		CPU_FREE(mask);
		mask = NULL;
		if (errno != EINVAL || ncpus >= (1u << 20))
			return NULL;
		ncpus *= 2;
	}

	set = hwloc_bitmap_alloc();
	o = cJSON_CreateObject();
	if (!set || !o)
		goto fail;
	for (size_t cpu = 0; cpu < ncpus; cpu++)
		if (CPU_ISSET_S(cpu, size, mask) && hwloc_bitmap_set(set, (unsigned)cpu) < 0)
			goto fail;
	if (!add_cpulist(o, "list", set) || !add_num(o, "count", CPU_COUNT_S(size, mask)))
		goto fail;
	hwloc_bitmap_free(set);
	CPU_FREE(mask);
	return o;
fail:
	cJSON_Delete(o);
	hwloc_bitmap_free(set);
	CPU_FREE(mask);
	return NULL;
}

cJSON *hwoptd_topology_json(const struct hwoptd_topology *t)
{
	hwloc_topology_t topo = t->topo;
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;

	int pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
	int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
	if (cores <= 0)
		cores = pus;

	if (!add_str(root, "arch", hwk_cpu_arch()) ||
	    !attach(root, "cpu", cpu_json(topo)) ||
	    !add_num(root, "packages", hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE)) ||
	    !add_num(root, "cores", cores) ||
	    !add_num(root, "pus", pus) ||
	    !attach(root, "caches", caches_json(topo)) ||
	    !attach(root, "numa_nodes", numa_json(topo)) ||
	    !attach(root, "core_kinds", core_kinds_json(topo)) ||
	    !attach(root, "allowed_cpus", allowed_json()) ||
	    !attach(root, "cores_detail", cores_detail_json(topo))) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

const char *hwoptd_topology_cpu_kind(const struct hwoptd_topology *t, int cpu)
{
	hwloc_topology_t topo = hwoptd_topology_hwloc(t);
	int nr = topo ? hwloc_cpukinds_get_nr(topo, 0) : 0;
	if (nr < 2 || cpu < 0)
		return NULL;
	hwloc_bitmap_t set = hwloc_bitmap_alloc();
	if (!set)
		return NULL;
	hwloc_bitmap_only(set, (unsigned)cpu);
	int k = hwloc_cpukinds_get_by_cpuset(topo, set, 0);
	hwloc_bitmap_free(set);
	/* hwloc ranks kinds from the most power-efficient to the most
	 * performant: the last is the performance kind. */
	if (k < 0)
		return NULL;
	return k == nr - 1 ? "performance" : "efficiency";
}
