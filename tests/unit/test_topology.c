/* The topology report on the real machine: shape, sanity of the numbers, and
 * allowed_cpus following the thread's affinity on every call. */
#include <sched.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/topology.h"
#include "kernels/hwk.h"

static int setup(void **state)
{
	struct hwoptd_topology *t = NULL;
	char err[256] = "";
	int rc = hwoptd_topology_load(&t, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "hwoptd_topology_load: %d %s\n", rc, err);
		return -1;
	}
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	hwoptd_topology_free(*state);
	return 0;
}

static const cJSON *member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!v)
		fail_msg("missing member \"%s\"", name);
	return v;
}

static double num(const cJSON *o, const char *name)
{
	const cJSON *v = member(o, name);
	if (!cJSON_IsNumber(v))
		fail_msg("\"%s\" is not a number", name);
	return v->valuedouble;
}

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = member(o, name);
	if (!cJSON_IsString(v))
		fail_msg("\"%s\" is not a string", name);
	return v->valuestring;
}

static const cJSON *arr(const cJSON *o, const char *name)
{
	const cJSON *v = member(o, name);
	if (!cJSON_IsArray(v))
		fail_msg("\"%s\" is not an array", name);
	return v;
}

static int affinity_count(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	return CPU_COUNT(&set);
}

static void test_shape_and_counts(void **state)
{
	cJSON *j = hwoptd_topology_json(*state);
	assert_non_null(j);

	assert_string_equal(str(j, "arch"), hwk_cpu_arch());
	int pus = (int)num(j, "pus");
	int cores = (int)num(j, "cores");
	assert_true(pus >= 1);
	assert_true(cores >= 1);
	assert_true(cores <= pus);
	assert_true(num(j, "packages") >= 0);

	const cJSON *cpu = member(j, "cpu");
	const cJSON *vendor = member(cpu, "vendor");
	assert_true(cJSON_IsString(vendor) || cJSON_IsNull(vendor));
	const cJSON *model = member(cpu, "model_name");
	assert_true(cJSON_IsString(model) || cJSON_IsNull(model));
	const cJSON *features = arr(cpu, "features");
	const char *names[HWK_CPU_FEATURE_MAX];
	int n = hwk_cpu_feature_names(hwk_cpu_features(), names, HWK_CPU_FEATURE_MAX);
	assert_int_equal(cJSON_GetArraySize(features), n);
	for (int i = 0; i < n; i++)
		assert_string_equal(cJSON_GetArrayItem(features, i)->valuestring, names[i]);

	const cJSON *allowed = member(j, "allowed_cpus");
	assert_int_equal((int)num(allowed, "count"), affinity_count());
	assert_true(strlen(str(allowed, "list")) > 0);

	const cJSON *numa = arr(j, "numa_nodes");
	assert_true(cJSON_GetArraySize(numa) >= 1);
	const cJSON *node;
	cJSON_ArrayForEach(node, numa) {
		assert_true(num(node, "os_index") >= 0);
		assert_true(num(node, "memory_bytes") >= 0);
		str(node, "cpus");
	}

	const cJSON *caches = arr(j, "caches");
	assert_true(cJSON_GetArraySize(caches) >= 1);
	const cJSON *c;
	cJSON_ArrayForEach(c, caches) {
		int level = (int)num(c, "level");
		assert_true(level >= 1 && level <= 5);
		const char *type = str(c, "type");
		assert_true(!strcmp(type, "unified") || !strcmp(type, "data") ||
			    !strcmp(type, "instruction"));
		assert_true(num(c, "size_bytes") > 0);
		assert_true(num(c, "line_bytes") >= 0);
		num(c, "associativity");
		assert_true(num(c, "count") >= 1);
		int shared = (int)num(c, "shared_by_pus");
		assert_true(shared >= 1 && shared <= pus);
	}

	const cJSON *kinds = arr(j, "core_kinds");
	assert_true(cJSON_GetArraySize(kinds) >= 1);
	const cJSON *k;
	cJSON_ArrayForEach(k, kinds) {
		assert_true(num(k, "efficiency") >= -1);
		assert_true(strlen(str(k, "cpus")) > 0);
		assert_true(cJSON_IsObject(member(k, "infos")));
		const char *source = str(k, "source");
		assert_true(!strcmp(source, "hwloc") || !strcmp(source, "none"));
	}

	/* Every PU belongs to exactly one core entry. */
	const cJSON *detail = arr(j, "cores_detail");
	assert_int_equal(cJSON_GetArraySize(detail), cores);
	int pu_total = 0;
	cJSON_ArrayForEach(c, detail) {
		num(c, "os_index");
		num(c, "package");
		const cJSON *p = arr(c, "pus");
		assert_true(cJSON_GetArraySize(p) >= 1);
		pu_total += cJSON_GetArraySize(p);
	}
	assert_int_equal(pu_total, pus);

	cJSON_Delete(j);
}

static void test_fresh_object_each_call(void **state)
{
	cJSON *a = hwoptd_topology_json(*state);
	cJSON *b = hwoptd_topology_json(*state);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_true(cJSON_Compare(a, b, 1));
	cJSON_Delete(a);
	/* b must not share storage with a */
	assert_true(num(b, "pus") >= 1);
	cJSON_Delete(b);
}

static void test_allowed_cpus_follow_affinity(void **state)
{
	cpu_set_t saved, one;
	CPU_ZERO(&saved);
	assert_int_equal(sched_getaffinity(0, sizeof(saved), &saved), 0);

	/* CPU 0, or the lowest CPU we may use when a cpuset excludes CPU 0. */
	int cpu = 0;
	while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &saved))
		cpu++;
	assert_true(cpu < CPU_SETSIZE);
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);

	cJSON *j = hwoptd_topology_json(*state);
	/* Restore before asserting: a failed assertion must not leave the
	 * rest of the run pinned to one CPU. */
	int restored = sched_setaffinity(0, sizeof(saved), &saved);

	assert_int_equal(restored, 0);
	assert_non_null(j);
	const cJSON *allowed = member(j, "allowed_cpus");
	assert_int_equal((int)num(allowed, "count"), 1);
	char want[16];
	snprintf(want, sizeof(want), "%d", cpu);
	assert_string_equal(str(allowed, "list"), want);
	cJSON_Delete(j);

	j = hwoptd_topology_json(*state);
	assert_non_null(j);
	assert_int_equal((int)num(member(j, "allowed_cpus"), "count"), CPU_COUNT(&saved));
	cJSON_Delete(j);
}

static void test_hwloc_handle(void **state)
{
	hwloc_topology_t topo = hwoptd_topology_hwloc(*state);
	assert_non_null(topo);
	cJSON *j = hwoptd_topology_json(*state);
	assert_non_null(j);
	assert_int_equal(hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU), (int)num(j, "pus"));
	cJSON_Delete(j);
}

/* A synthetic machine (hwloc's HWLOC_SYNTHETIC) pins down the counts, the
 * cache grouping, and the core-kinds fallback, which real homogeneous
 * machines may or may not exercise. */
static void test_synthetic_machine(void **state)
{
	(void)state;
	assert_int_equal(setenv("HWLOC_SYNTHETIC", "pack:2 l3:1 core:2 l1d:1 pu:2", 1), 0);
	struct hwoptd_topology *t = NULL;
	char err[256] = "";
	int rc = hwoptd_topology_load(&t, err, sizeof(err));
	unsetenv("HWLOC_SYNTHETIC");
	assert_int_equal(rc, 0);

	cJSON *j = hwoptd_topology_json(t);
	assert_non_null(j);
	assert_int_equal((int)num(j, "packages"), 2);
	assert_int_equal((int)num(j, "cores"), 4);
	assert_int_equal((int)num(j, "pus"), 8);

	const cJSON *caches = arr(j, "caches");
	assert_int_equal(cJSON_GetArraySize(caches), 2);
	const cJSON *l1 = cJSON_GetArrayItem(caches, 0), *l3 = cJSON_GetArrayItem(caches, 1);
	assert_int_equal((int)num(l1, "level"), 1);
	assert_string_equal(str(l1, "type"), "data");
	assert_int_equal((int)num(l1, "count"), 4);
	assert_int_equal((int)num(l1, "shared_by_pus"), 2);
	assert_int_equal((int)num(l3, "level"), 3);
	assert_string_equal(str(l3, "type"), "unified");
	assert_int_equal((int)num(l3, "count"), 2);
	assert_int_equal((int)num(l3, "shared_by_pus"), 4);

	const cJSON *kinds = arr(j, "core_kinds");
	assert_int_equal(cJSON_GetArraySize(kinds), 1);
	const cJSON *k = cJSON_GetArrayItem(kinds, 0);
	assert_int_equal((int)num(k, "efficiency"), -1);
	assert_string_equal(str(k, "cpus"), "0-7");
	assert_string_equal(str(k, "source"), "none");
	assert_int_equal(cJSON_GetArraySize(member(k, "infos")), 0);

	const cJSON *detail = arr(j, "cores_detail");
	assert_int_equal(cJSON_GetArraySize(detail), 4);
	const cJSON *last = cJSON_GetArrayItem(detail, 3);
	assert_int_equal((int)num(last, "package"), 1);
	const cJSON *pus = arr(last, "pus");
	assert_int_equal(cJSON_GetArraySize(pus), 2);
	assert_int_equal(cJSON_GetArrayItem(pus, 0)->valueint, 6);
	assert_int_equal(cJSON_GetArrayItem(pus, 1)->valueint, 7);

	cJSON_Delete(j);
	hwoptd_topology_free(t);
}

/* cJSON allocator that fails once its budget is spent. */
static int alloc_budget;

static void *failing_malloc(size_t n)
{
	if (alloc_budget <= 0)
		return NULL;
	alloc_budget--;
	return malloc(n);
}

/* Every cJSON allocation failure must yield NULL, not a crash or a partial
 * object (leaks show up under `make check SANITIZE=address`). */
static void test_out_of_memory(void **state)
{
	cJSON_Hooks hooks = { .malloc_fn = failing_malloc, .free_fn = free };
	bool succeeded = false;
	for (int budget = 0; budget < 100000 && !succeeded; budget++) {
		alloc_budget = budget;
		cJSON_InitHooks(&hooks);
		cJSON *j = hwoptd_topology_json(*state);
		cJSON_InitHooks(NULL);
		if (j) {
			succeeded = true;
			assert_true(num(j, "pus") >= 1);
			cJSON_Delete(j);
		}
	}
	assert_true(succeeded);
}

static void test_free_null(void **state)
{
	(void)state;
	hwoptd_topology_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape_and_counts),
		cmocka_unit_test(test_fresh_object_each_call),
		cmocka_unit_test(test_allowed_cpus_follow_affinity),
		cmocka_unit_test(test_hwloc_handle),
		cmocka_unit_test(test_synthetic_machine),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_free_null),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
