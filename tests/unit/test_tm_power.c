/* The power (RAPL) source against the fixture trees: zones found by their
 * energy_uj, the running joule counter across samples and across the
 * counter's wraparound, watts from two samples, root-only energy_uj, the
 * package joules the lead uses per inference, the Prometheus series with
 * node_exporter's names and labels, and this machine's /sys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <sys/stat.h>

#include "daemon/prom.h"
#include "daemon/telemetry/fs.h"
#include "daemon/telemetry/power.h"
#include "daemon/telemetry/source.h"
#include "tm_fixture.h"

#define SEC 1000000000ull
#define PKG "class/powercap/intel-rapl:0"
#define MAX_UJ 262143328850ull

/* --- helpers -------------------------------------------------------------- */

/* A source kept across samples, as the daemon keeps it. */
struct run {
	struct tm_source s;
};

static void run_start(struct run *r, const struct tm_env *env)
{
	char reason[256] = "";
	r->s = (struct tm_source){ .ops = &tm_power, .env = env };
	assert_int_equal(tm_power.init(&r->s, reason, sizeof(reason)), 0);
}

static cJSON *run_sample(struct run *r, uint64_t now_ns)
{
	return tmfx_sample(&tm_power, r->s.env, &r->s, now_ns);
}

static void run_end(struct run *r)
{
	tm_power.fini(&r->s);
}

static cJSON *sample_env(const struct tm_env *env)
{
	struct run r;
	run_start(&r, env);
	cJSON *part = run_sample(&r, SEC);
	run_end(&r);
	return part;
}

static cJSON *sample_fixture(const char *fixture)
{
	struct tm_env env;
	tmfx_env(&env, fixture);
	return sample_env(&env);
}

static const cJSON *zone(const cJSON *part, const char *name)
{
	const cJSON *z;
	cJSON_ArrayForEach(z, item(part, "zones")) {
		const cJSON *n = item(z, "zone");
		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			return z;
	}
	return NULL;
}

static void write_uj(const char *root, const char *zone_dir, uint64_t uj)
{
	char rel[256], text[32];
	snprintf(rel, sizeof(rel), "%s/energy_uj", zone_dir);
	snprintf(text, sizeof(text), "%llu\n", (unsigned long long)uj);
	assert_int_equal(tmfx_write(root, rel, text), 0);
}

static void remove_tree(const char *root, const char *rel)
{
	char path[PATH_MAX], cmd[PATH_MAX + 16];
	assert_int_equal(tm_path(path, sizeof(path), root, rel), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

struct fx {
	struct tm_env env;
	char dir[PATH_MAX];
};

static int fx_setup_named(void **state, const char *fixture)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f || tmfx_copy(&f->env, fixture, f->dir, sizeof(f->dir)) < 0)
		return -1;
	chmod(f->dir, 0755); /* mkdtemp's 0700 would stop the unprivileged child */
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_setup_named(state, "laptop");
}

static int fx_setup_hybrid(void **state)
{
	return fx_setup_named(state, "hybrid");
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	tmfx_remove(f->dir);
	free(f);
	return 0;
}

/* --- fixtures -------------------------------------------------------------- */

static void test_laptop(void **state)
{
	static const char *const order[] = { "intel-rapl:0", "intel-rapl:0:0", "intel-rapl:0:1",
					     "intel-rapl:1" };
	cJSON *part = sample_fixture("laptop");
	assert_true(available(part));
	/* The "intel-rapl" control type has no energy_uj: not a zone. */
	assert_int_equal(cJSON_GetArraySize(item(part, "zones")), 4);
	for (int i = 0; i < 4; i++)
		assert_string_equal(str(cJSON_GetArrayItem(item(part, "zones"), i), "zone"), order[i]);
	const cJSON *pkg = zone(part, "intel-rapl:0");
	assert_string_equal(str(pkg, "name"), "package-0");
	assert_true(cJSON_IsNull(item(pkg, "parent")));
	assert_float_equal(num(pkg, "energy_joules"), 72130.423569, 1e-6);
	assert_float_equal(num(pkg, "max_energy_range_joules"), 262143.32885, 1e-6);
	assert_null(item(pkg, "watts")); /* first sample: counters only */
	const cJSON *dram = zone(part, "intel-rapl:0:1");
	assert_string_equal(str(dram, "name"), "dram");
	assert_string_equal(str(dram, "parent"), "intel-rapl:0");
	assert_float_equal(num(dram, "energy_joules"), 5512.880125, 1e-6);
	assert_string_equal(str(zone(part, "intel-rapl:1"), "name"), "psys");
	cJSON_Delete(part);
}

static void test_hybrid(void **state)
{
	cJSON *part = sample_fixture("hybrid");
	assert_true(available(part));
	assert_int_equal(cJSON_GetArraySize(item(part, "zones")), 4);
	const cJSON *mmio = zone(part, "intel-rapl-mmio:0");
	assert_non_null(mmio);
	assert_string_equal(str(mmio, "name"), "package-0");
	assert_true(cJSON_IsNull(item(mmio, "parent")));
	assert_string_equal(str(zone(part, "intel-rapl:0:1"), "name"), "uncore");
	cJSON_Delete(part);
}

static void test_arm_server_no_rapl(void **state)
{
	cJSON *part = sample_fixture("arm-server");
	assert_false(available(part));
	assert_string_equal(str(part, "reason"),
			    "class/powercap: No such file or directory (no RAPL driver)");
	assert_true(isnan(tm_power_package_joules(part)));
	cJSON_Delete(part);
}

/* --- counters and rates ---------------------------------------------------------- */

static void test_watts(void **state)
{
	struct fx *f = *state;
	struct run r;
	run_start(&r, &f->env);
	cJSON *a = run_sample(&r, 5 * SEC);
	write_uj(f->env.sysfs_root, PKG, 72130423569ull + 12500000ull);
	write_uj(f->env.sysfs_root, PKG ":0", 31254713218ull + 3000000ull);
	cJSON *b = run_sample(&r, 6 * SEC);
	assert_true(available(b));
	const cJSON *pkg = zone(b, "intel-rapl:0");
	assert_float_equal(num(pkg, "energy_joules"), 72130.423569 + 12.5, 1e-6);
	assert_float_equal(num(pkg, "watts"), 12.5, 1e-9);
	assert_float_equal(num(zone(b, "intel-rapl:0:0"), "watts"), 3.0, 1e-9);
	assert_float_equal(num(zone(b, "intel-rapl:0:1"), "watts"), 0.0, 1e-9);

	/* Half a second later, 5 J more: 10 W. */
	write_uj(f->env.sysfs_root, PKG, 72130423569ull + 17500000ull);
	cJSON *c = run_sample(&r, 6 * SEC + SEC / 2);
	assert_float_equal(num(zone(c, "intel-rapl:0"), "watts"), 10.0, 1e-9);
	assert_float_equal(num(zone(c, "intel-rapl:0"), "energy_joules"), 72130.423569 + 17.5, 1e-6);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	run_end(&r);
}

static void test_wraparound(void **state)
{
	struct fx *f = *state;
	const char *root = f->env.sysfs_root;
	struct run r;
	run_start(&r, &f->env);
	write_uj(root, PKG, 262143000000ull); /* 328.85 mJ below the range */
	cJSON *a = run_sample(&r, 10 * SEC);
	assert_float_equal(num(zone(a, "intel-rapl:0"), "energy_joules"), 262143.0, 1e-6);

	write_uj(root, PKG, 1000000ull); /* wrapped, then 1 J more */
	cJSON *b = run_sample(&r, 11 * SEC);
	const cJSON *pkg = zone(b, "intel-rapl:0");
	double wrapped = (double)(MAX_UJ - 262143000000ull + 1000000ull) / 1e6; /* 1.32885 J */
	assert_float_equal(num(pkg, "energy_joules"), 262143.0 + wrapped, 1e-6);
	assert_float_equal(num(pkg, "watts"), wrapped, 1e-9);
	assert_true(num(pkg, "energy_joules") > num(zone(a, "intel-rapl:0"), "energy_joules"));

	/* And it keeps counting from there. */
	write_uj(root, PKG, 3000000ull);
	cJSON *c = run_sample(&r, 11 * SEC + SEC / 2);
	assert_float_equal(num(zone(c, "intel-rapl:0"), "energy_joules"), 262143.0 + wrapped + 2.0,
			   1e-6);
	assert_float_equal(num(zone(c, "intel-rapl:0"), "watts"), 4.0, 1e-9);

	/* The lead's per-inference figure follows the running counter. */
	assert_float_equal(tm_power_package_joules(c), 262143.0 + wrapped + 2.0, 1e-6);

	char *text = tmfx_render(&tm_power, c, NULL);
	tmfx_assert_line(text, "hwopt_rapl_package_watts{index=\"0\",path=\"/sys/class/powercap/"
			  "intel-rapl:0\"} 4\n");
	free(text);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	run_end(&r);
}

static void test_wrap_without_range(void **state)
{
	struct fx *f = *state;
	const char *root = f->env.sysfs_root;
	assert_int_equal(tmfx_unlink(root, PKG "/max_energy_range_uj"), 0);
	struct run r;
	run_start(&r, &f->env);
	cJSON *a = run_sample(&r, SEC);
	assert_null(item(zone(a, "intel-rapl:0"), "max_energy_range_joules"));
	/* A smaller reading with no known range counts as a restart at 0. */
	write_uj(root, PKG, 2000000ull);
	cJSON *b = run_sample(&r, 2 * SEC);
	assert_float_equal(num(zone(b, "intel-rapl:0"), "energy_joules"), 72130.423569 + 2.0, 1e-6);
	assert_float_equal(num(zone(b, "intel-rapl:0"), "watts"), 2.0, 1e-9);
	cJSON_Delete(a);
	cJSON_Delete(b);
	run_end(&r);
}

/* A zone that appears (a module loaded) counts from the next sample. */
static void test_new_zone(void **state)
{
	struct fx *f = *state;
	const char *root = f->env.sysfs_root;
	struct run r;
	run_start(&r, &f->env);
	cJSON *a = run_sample(&r, SEC);
	assert_int_equal(cJSON_GetArraySize(item(a, "zones")), 4);
	char path[PATH_MAX];
	assert_int_equal(tm_path(path, sizeof(path), root, "class/powercap/intel-rapl:2"), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(tmfx_write(root, "class/powercap/intel-rapl:2/name", "package-1\n"), 0);
	write_uj(root, "class/powercap/intel-rapl:2", 5000000ull);
	cJSON *b = run_sample(&r, 2 * SEC);
	assert_int_equal(cJSON_GetArraySize(item(b, "zones")), 5);
	const cJSON *z = zone(b, "intel-rapl:2");
	assert_float_equal(num(z, "energy_joules"), 5.0, 1e-9);
	assert_null(item(z, "watts"));
	assert_null(item(z, "max_energy_range_joules"));
	write_uj(root, "class/powercap/intel-rapl:2", 7000000ull);
	cJSON *c = run_sample(&r, 3 * SEC);
	assert_float_equal(num(zone(c, "intel-rapl:2"), "watts"), 2.0, 1e-9);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	run_end(&r);
}

/* --- broken trees ------------------------------------------------------------ */

static void test_garbage_and_missing(void **state)
{
	struct fx *f = *state;
	const char *root = f->env.sysfs_root;
	assert_int_equal(tmfx_write(root, PKG ":0/energy_uj", "lots\n"), 0);
	assert_int_equal(tmfx_unlink(root, PKG ":1/name"), 0);
	cJSON *part = sample_env(&f->env);
	assert_true(available(part));
	const cJSON *core = zone(part, "intel-rapl:0:0");
	assert_false(cJSON_IsTrue(item(core, "available")));
	assert_string_equal(str(core, "reason"), "energy_uj: unreadable content");
	assert_null(item(core, "energy_joules"));
	const cJSON *dram = zone(part, "intel-rapl:0:1");
	assert_null(item(dram, "name"));
	assert_float_equal(num(dram, "energy_joules"), 5512.880125, 1e-6);

	char *text = tmfx_render(&tm_power, part, NULL);
	assert_null(strstr(text, "hwopt_rapl_core_joules_total{"));
	assert_null(strstr(text, "hwopt_rapl_dram_joules_total{"));
	tmfx_assert_line(text, "hwopt_rapl_package_joules_total{index=\"0\",path=\"/sys/class/powercap/"
			  "intel-rapl:0\"} 72130.423569\n");
	free(text);
	cJSON_Delete(part);
}

static void test_no_zones(void **state)
{
	struct fx *f = *state;
	const char *root = f->env.sysfs_root;
	remove_tree(root, "class/powercap/intel-rapl:0");
	remove_tree(root, "class/powercap/intel-rapl:0:0");
	remove_tree(root, "class/powercap/intel-rapl:0:1");
	remove_tree(root, "class/powercap/intel-rapl:1");
	cJSON *part = sample_env(&f->env);
	assert_false(available(part));
	assert_string_equal(str(part, "reason"), "no zone with energy_uj in class/powercap");
	cJSON_Delete(part);
}

static bool check_one_denied(void *arg)
{
	const struct fx *f = arg;
	cJSON *part = sample_env(&f->env);
	const cJSON *pkg = zone(part, "intel-rapl:0"), *psys = zone(part, "intel-rapl:1");
	const cJSON *reason = item(pkg, "reason");
	bool ok = available(part) && cJSON_IsFalse(item(pkg, "available")) &&
		  cJSON_IsString(reason) &&
		  strcmp(reason->valuestring,
			 "energy_uj: Permission denied (root only since Linux 5.10)") == 0 &&
		  !item(pkg, "energy_joules") && cJSON_IsNumber(item(psys, "energy_joules"));
	/* With the package unreadable, psys stands in. */
	ok = ok && fabs(tm_power_package_joules(part) - 120044.319231) < 1e-6;
	cJSON_Delete(part);
	return ok;
}

static bool check_all_denied(void *arg)
{
	const struct fx *f = arg;
	cJSON *part = sample_env(&f->env);
	const cJSON *reason = item(part, "reason");
	bool ok = !available(part) && cJSON_IsString(reason) &&
		  strcmp(reason->valuestring, "intel-rapl:0 energy_uj: Permission denied (root only "
					      "since Linux 5.10)") == 0;
	cJSON_Delete(part);
	return ok;
}

static void test_permission_denied(void **state)
{
	struct fx *f = *state;
	const char *root = f->env.sysfs_root;
	assert_int_equal(tmfx_chmod(root, PKG "/energy_uj", 0400), 0); /* root only, as 5.10+ */
	assert_true(tmfx_unprivileged(check_one_denied, f));
	assert_int_equal(tmfx_chmod(root, PKG ":0/energy_uj", 0400), 0);
	assert_int_equal(tmfx_chmod(root, PKG ":1/energy_uj", 0400), 0);
	assert_int_equal(tmfx_chmod(root, "class/powercap/intel-rapl:1/energy_uj", 0), 0);
	assert_true(tmfx_unprivileged(check_all_denied, f));
}

/* --- package joules ------------------------------------------------------------ */

static void test_package_joules(void **state)
{
	cJSON *part = sample_fixture("laptop");
	/* package-0 alone: psys already contains it. */
	assert_float_equal(tm_power_package_joules(part), 72130.423569, 1e-6);
	cJSON_Delete(part);
	part = sample_fixture("hybrid");
	/* The MSR zone, not again its intel-rapl-mmio twin. */
	assert_float_equal(tm_power_package_joules(part), 18446.372891, 1e-6);
	cJSON_Delete(part);
	assert_true(isnan(tm_power_package_joules(NULL)));
	cJSON *empty = cJSON_CreateObject();
	assert_true(isnan(tm_power_package_joules(empty)));
	cJSON_Delete(empty);
}

static void test_package_joules_two_sockets(void **state)
{
	struct fx *f = *state;
	const char *root = f->env.sysfs_root;
	char path[PATH_MAX];
	assert_int_equal(tm_path(path, sizeof(path), root, "class/powercap/intel-rapl:1"), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(tmfx_write(root, "class/powercap/intel-rapl:1/name", "package-1\n"), 0);
	write_uj(root, "class/powercap/intel-rapl:1", 1000000000ull);
	cJSON *part = sample_env(&f->env);
	assert_float_equal(tm_power_package_joules(part), 18446.372891 + 1000.0, 1e-6);
	char *text = tmfx_render(&tm_power, part, NULL);
	tmfx_assert_line(text, "hwopt_rapl_package_joules_total{index=\"1\",path=\"/sys/class/powercap/"
			  "intel-rapl:1\"} 1000\n");
	free(text);
	cJSON_Delete(part);

	/* Without the MSR zones, the MMIO one counts. */
	remove_tree(root, "class/powercap/intel-rapl:0");
	remove_tree(root, "class/powercap/intel-rapl:1");
	part = sample_env(&f->env);
	assert_float_equal(tm_power_package_joules(part), 18446.112, 1e-6);
	cJSON_Delete(part);
}

/* --- metrics and the real machine --------------------------------------------- */

static void test_metrics(void **state)
{
	struct fx *f = *state;
	struct run r;
	run_start(&r, &f->env);
	cJSON *a = run_sample(&r, SEC);
	char *text = tmfx_render(&tm_power, a, NULL);
	tmfx_assert_line(text, "# TYPE hwopt_rapl_package_joules_total counter\n");
	tmfx_assert_line(text, "hwopt_rapl_package_joules_total{index=\"0\",path=\"/sys/class/powercap/"
			  "intel-rapl:0\"} 72130.423569\n");
	tmfx_assert_line(text, "hwopt_rapl_core_joules_total{index=\"0\",path=\"/sys/class/powercap/"
			  "intel-rapl:0:0\"} 31254.713218\n");
	tmfx_assert_line(text, "hwopt_rapl_dram_joules_total{index=\"0\",path=\"/sys/class/powercap/"
			  "intel-rapl:0:1\"} 5512.880125\n");
	tmfx_assert_line(text, "hwopt_rapl_psys_joules_total{index=\"0\",path=\"/sys/class/powercap/"
			  "intel-rapl:1\"} 120044.319231\n");
	assert_null(strstr(text, "_watts"));  /* no rate yet */
	assert_null(strstr(text, f->dir));    /* logical paths, not the fixture's */
	free(text);

	write_uj(f->env.sysfs_root, PKG, 72130423569ull + 25000000ull);
	cJSON *b = run_sample(&r, 3 * SEC);
	text = tmfx_render(&tm_power, b, NULL);
	tmfx_assert_line(text, "# TYPE hwopt_rapl_package_watts gauge\n");
	tmfx_assert_line(text, "hwopt_rapl_package_watts{index=\"0\",path=\"/sys/class/powercap/"
			  "intel-rapl:0\"} 12.5\n");
	tmfx_assert_line(text, "hwopt_rapl_package_joules_total{index=\"0\",path=\"/sys/class/powercap/"
			  "intel-rapl:0\"} 72155.423569\n");
	tmfx_assert_line(text, "hwopt_rapl_dram_watts{index=\"0\",path=\"/sys/class/powercap/"
			  "intel-rapl:0:1\"} 0\n");
	free(text);
	cJSON_Delete(a);
	cJSON_Delete(b);
	run_end(&r);

	cJSON *h = sample_fixture("hybrid");
	text = tmfx_render(&tm_power, h, NULL);
	tmfx_assert_line(text, "hwopt_rapl_package_joules_total{index=\"0\",path=\"/sys/class/powercap/"
			  "intel-rapl-mmio:0\"} 18446.112\n");
	tmfx_assert_line(text, "hwopt_rapl_uncore_joules_total{index=\"0\",path=\"/sys/class/powercap/"
			  "intel-rapl:0:1\"} 412.230987\n");
	free(text);
	cJSON_Delete(h);
}

static void test_real_sys(void **state)
{
	struct tm_env env = { .sysfs_root = "/sys", .procfs_root = "/proc" };
	cJSON *part = sample_env(&env);
	if (available(part)) {
		assert_true(cJSON_IsArray(item(part, "zones")));
		free(tmfx_render(&tm_power, part, NULL));
	} else {
		assert_true(strlen(str(part, "reason")) > 0);
		print_message("power on this machine: %s\n", str(part, "reason"));
	}
	cJSON_Delete(part);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_laptop),
		cmocka_unit_test(test_hybrid),
		cmocka_unit_test(test_arm_server_no_rapl),
		cmocka_unit_test_setup_teardown(test_watts, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_wraparound, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_wrap_without_range, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_new_zone, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_garbage_and_missing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_zones, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_permission_denied, fx_setup, fx_teardown),
		cmocka_unit_test(test_package_joules),
		cmocka_unit_test_setup_teardown(test_package_joules_two_sockets, fx_setup_hybrid,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_metrics, fx_setup, fx_teardown),
		cmocka_unit_test(test_real_sys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
