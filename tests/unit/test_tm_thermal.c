/* The thermal source against the fixture trees: zones, trips and cooling
 * devices read and converted, broken zones listed with an error instead of
 * a number, a missing class/thermal, permission denied, the Prometheus
 * series, and this machine's /sys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/stat.h>

#include "daemon/prom.h"
#include "daemon/telemetry/fs.h"
#include "daemon/telemetry/source.h"
#include "tm_fixture.h"

/* --- helpers -------------------------------------------------------------- */

static cJSON *sample_env(const struct tm_env *env)
{
	struct tm_source s = { .ops = &tm_thermal, .env = env };
	char reason[256] = "";
	assert_int_equal(tm_thermal.init(&s, reason, sizeof(reason)), 0);
	cJSON *part = tmfx_sample(&tm_thermal, env, &s, 1000000000ull);
	tm_thermal.fini(&s);
	return part;
}

static cJSON *sample_fixture(const char *fixture)
{
	struct tm_env env;
	tmfx_env(&env, fixture);
	return sample_env(&env);
}

struct fx {
	struct tm_env env;
	char dir[PATH_MAX];
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f || tmfx_copy(&f->env, "laptop", f->dir, sizeof(f->dir)) < 0)
		return -1;
	chmod(f->dir, 0755); /* mkdtemp's 0700 would stop the unprivileged child */
	*state = f;
	return 0;
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
	cJSON *part = sample_fixture("laptop");
	assert_true(available(part));
	assert_int_equal(cJSON_GetArraySize(item(part, "zones")), 2);
	const cJSON *z0 = at(part, "zones", 0);
	assert_int_equal((int)num(z0, "zone"), 0);
	assert_string_equal(str(z0, "type"), "acpitz");
	assert_float_equal(num(z0, "temp_celsius"), 27.8, 1e-9);
	assert_string_equal(str(z0, "mode"), "enabled");
	assert_int_equal(cJSON_GetArraySize(item(z0, "trips")), 2);
	const cJSON *t0 = at(z0, "trips", 0), *t1 = at(z0, "trips", 1);
	assert_int_equal((int)num(t0, "trip"), 0);
	assert_string_equal(str(t0, "type"), "critical");
	assert_float_equal(num(t0, "temp_celsius"), 103.0, 1e-9);
	assert_float_equal(num(t0, "hyst_celsius"), 0.0, 1e-9);
	assert_string_equal(str(t1, "type"), "passive");
	assert_float_equal(num(t1, "temp_celsius"), 97.0, 1e-9);
	assert_float_equal(num(t1, "hyst_celsius"), 2.0, 1e-9);

	const cJSON *z1 = at(part, "zones", 1);
	assert_string_equal(str(z1, "type"), "x86_pkg_temp");
	assert_float_equal(num(z1, "temp_celsius"), 45.0, 1e-9);
	assert_float_equal(num(at(z1, "trips", 0), "temp_celsius"), 95.0, 1e-9);
	assert_null(item(at(z1, "trips", 0), "hyst_celsius"));
	assert_null(item(z1, "error"));

	assert_int_equal(cJSON_GetArraySize(item(part, "cooling")), 4);
	const cJSON *c1 = at(part, "cooling", 1);
	assert_int_equal((int)num(c1, "device"), 1);
	assert_string_equal(str(c1, "type"), "Processor");
	assert_int_equal((int)num(c1, "cur_state"), 1);
	assert_int_equal((int)num(c1, "max_state"), 3);
	assert_string_equal(str(at(part, "cooling", 2), "type"), "Fan");
	assert_int_equal((int)num(at(part, "cooling", 3), "max_state"), 100);
	cJSON_Delete(part);
}

static void test_arm_server(void **state)
{
	cJSON *part = sample_fixture("arm-server");
	assert_true(available(part));
	assert_int_equal(cJSON_GetArraySize(item(part, "zones")), 2);
	const cJSON *z1 = at(part, "zones", 1);
	assert_string_equal(str(z1, "type"), "cpu-thermal");
	assert_float_equal(num(z1, "temp_celsius"), 52.5, 1e-9);
	assert_null(item(z1, "mode")); /* no mode file there */
	assert_int_equal(cJSON_GetArraySize(item(z1, "trips")), 3);
	assert_string_equal(str(at(z1, "trips", 1), "type"), "hot");
	assert_float_equal(num(at(z1, "trips", 2), "temp_celsius"), 110.0, 1e-9);
	assert_true(cJSON_IsArray(item(part, "cooling")));
	assert_int_equal(cJSON_GetArraySize(item(part, "cooling")), 0);
	cJSON_Delete(part);
}

static void test_hybrid(void **state)
{
	cJSON *part = sample_fixture("hybrid");
	assert_true(available(part));
	assert_int_equal(cJSON_GetArraySize(item(part, "zones")), 1);
	const cJSON *z0 = at(part, "zones", 0);
	assert_string_equal(str(z0, "type"), "x86_pkg_temp");
	assert_float_equal(num(z0, "temp_celsius"), 52.0, 1e-9);
	assert_float_equal(num(at(z0, "trips", 1), "temp_celsius"), 0.0, 1e-9);
	const cJSON *c1 = at(part, "cooling", 1);
	assert_string_equal(str(c1, "type"), "TCC Offset");
	assert_int_equal((int)num(c1, "max_state"), 63);
	cJSON_Delete(part);
}

/* --- broken trees ------------------------------------------------------------ */

static void test_garbage(void **state)
{
	struct fx *f = *state;
	const char *r = f->env.sysfs_root;
	assert_int_equal(tmfx_write(r, "class/thermal/thermal_zone0/temp", "garbage\n"), 0);
	assert_int_equal(tmfx_write(r, "class/thermal/thermal_zone1/trip_point_0_temp", "9x\n"), 0);
	assert_int_equal(tmfx_write(r, "class/thermal/cooling_device0/cur_state", "-\n"), 0);
	cJSON *part = sample_env(&f->env);
	assert_true(available(part));
	const cJSON *z0 = at(part, "zones", 0);
	assert_null(item(z0, "temp_celsius"));
	assert_string_equal(str(z0, "error"), "temp: unreadable content");
	assert_string_equal(str(z0, "type"), "acpitz");
	const cJSON *z1 = at(part, "zones", 1);
	assert_float_equal(num(z1, "temp_celsius"), 45.0, 1e-9);
	assert_null(item(at(z1, "trips", 0), "temp_celsius"));
	assert_non_null(item(at(z1, "trips", 0), "error"));
	const cJSON *c0 = at(part, "cooling", 0);
	assert_null(item(c0, "cur_state"));
	assert_non_null(item(c0, "error"));

	/* No series for what could not be read. */
	char *text = tmfx_render(&tm_thermal, part, NULL);
	assert_null(strstr(text, "zone=\"0\"} "));
	assert_null(strstr(text, "hwopt_cooling_device_cur_state{name=\"0\""));
	tmfx_assert_line(text, "hwopt_thermal_zone_temp_celsius{type=\"x86_pkg_temp\",zone=\"1\"} 45\n");
	free(text);
	cJSON_Delete(part);
}

static void test_directory_and_huge_file(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];
	/* A directory where temp should be. */
	assert_int_equal(tm_path(path, sizeof(path), f->env.sysfs_root,
				 "class/thermal/thermal_zone0/temp"), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	/* A megabyte of digits. */
	assert_int_equal(tm_path(path, sizeof(path), f->env.sysfs_root,
				 "class/thermal/thermal_zone1/temp"), 0);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 1 << 20; i++)
		fputc('1', fp);
	assert_int_equal(fclose(fp), 0);
	cJSON *part = sample_env(&f->env);
	assert_true(available(part));
	assert_null(item(at(part, "zones", 0), "temp_celsius"));
	assert_non_null(item(at(part, "zones", 0), "error"));
	assert_null(item(at(part, "zones", 1), "temp_celsius"));
	assert_non_null(item(at(part, "zones", 1), "error"));
	cJSON_Delete(part);
}

static void test_missing_files(void **state)
{
	struct fx *f = *state;
	const char *r = f->env.sysfs_root;
	assert_int_equal(tmfx_unlink(r, "class/thermal/thermal_zone1/type"), 0);
	assert_int_equal(tmfx_unlink(r, "class/thermal/thermal_zone1/mode"), 0);
	assert_int_equal(tmfx_unlink(r, "class/thermal/thermal_zone0/temp"), 0);
	/* A gap in the trip points ends the list. */
	assert_int_equal(tmfx_unlink(r, "class/thermal/thermal_zone0/trip_point_0_type"), 0);
	assert_int_equal(tmfx_unlink(r, "class/thermal/thermal_zone0/trip_point_0_temp"), 0);
	assert_int_equal(tmfx_unlink(r, "class/thermal/cooling_device3/max_state"), 0);
	cJSON *part = sample_env(&f->env);
	assert_true(available(part));
	const cJSON *z0 = at(part, "zones", 0);
	assert_string_equal(str(z0, "error"), "temp: No such file or directory");
	assert_int_equal(cJSON_GetArraySize(item(z0, "trips")), 0);
	const cJSON *z1 = at(part, "zones", 1);
	assert_null(item(z1, "type"));
	assert_null(item(z1, "mode"));
	assert_float_equal(num(z1, "temp_celsius"), 45.0, 1e-9);
	const cJSON *c3 = at(part, "cooling", 3);
	assert_string_equal(str(c3, "error"), "max_state: No such file or directory");
	assert_null(item(c3, "cur_state"));

	/* The zone keeps its series with an empty type label. */
	char *text = tmfx_render(&tm_thermal, part, NULL);
	tmfx_assert_line(text, "hwopt_thermal_zone_temp_celsius{type=\"\",zone=\"1\"} 45\n");
	free(text);
	cJSON_Delete(part);
}

static void test_no_thermal_dir(void **state)
{
	struct fx *f = *state;
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/class/thermal'", f->env.sysfs_root);
	assert_int_equal(system(cmd), 0);
	cJSON *part = sample_env(&f->env);
	assert_false(available(part));
	assert_non_null(strstr(str(part, "reason"), "class/thermal"));
	cJSON_Delete(part);

	/* An empty class/thermal (a VM) has nothing to report either. */
	snprintf(cmd, sizeof(cmd), "mkdir '%s/class/thermal'", f->env.sysfs_root);
	assert_int_equal(system(cmd), 0);
	part = sample_env(&f->env);
	assert_false(available(part));
	assert_string_equal(str(part, "reason"), "no thermal zones or cooling devices in class/thermal");
	cJSON_Delete(part);
}

static bool check_denied(void *arg)
{
	const struct fx *f = arg;
	cJSON *part = sample_env(&f->env);
	const cJSON *z0 = cJSON_GetArrayItem(item(part, "zones"), 0);
	const cJSON *err = item(z0, "error");
	const cJSON *z1 = cJSON_GetArrayItem(item(part, "zones"), 1);
	bool ok = available(part) && cJSON_IsString(err) &&
		  strcmp(err->valuestring, "temp: Permission denied") == 0 &&
		  !item(z0, "temp_celsius") && cJSON_IsNumber(item(z1, "temp_celsius"));
	cJSON_Delete(part);
	return ok;
}

static void test_permission_denied(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tmfx_chmod(f->env.sysfs_root, "class/thermal/thermal_zone0/temp", 0), 0);
	assert_true(tmfx_unprivileged(check_denied, f));
}

/* --- what is read each sample ---------------------------------------------------- */

static double trip0(const cJSON *part, int zone)
{
	return num(at(at(part, "zones", zone), "trips", 0), "temp_celsius");
}

/* Temperatures and cur_state are read every sample; trip points and limits
 * are kept for up to 30 samples, unless the listing changes or one of them
 * could not be read. */
static void test_static_cache(void **state)
{
	struct fx *f = *state;
	const char *r = f->env.sysfs_root;
	struct tm_source s = { .ops = &tm_thermal, .env = &f->env };
	char reason[256];
	assert_int_equal(tm_thermal.init(&s, reason, sizeof(reason)), 0);
	cJSON *part = tmfx_sample(&tm_thermal, &f->env, &s, 1);
	assert_float_equal(trip0(part, 1), 95.0, 1e-9);
	cJSON_Delete(part);

	assert_int_equal(tmfx_write(r, "class/thermal/thermal_zone1/temp", "50000\n"), 0);
	assert_int_equal(tmfx_write(r, "class/thermal/cooling_device0/cur_state", "2\n"), 0);
	assert_int_equal(tmfx_write(r, "class/thermal/thermal_zone1/trip_point_0_temp", "90000\n"), 0);
	part = tmfx_sample(&tm_thermal, &f->env, &s, 2);
	assert_float_equal(num(at(part, "zones", 1), "temp_celsius"), 50.0, 1e-9);
	assert_int_equal((int)num(at(part, "cooling", 0), "cur_state"), 2);
	assert_float_equal(trip0(part, 1), 95.0, 1e-9);
	cJSON_Delete(part);
	int n = 2;
	for (bool seen = false; !seen; n++) {
		assert_true(n <= 31);
		part = tmfx_sample(&tm_thermal, &f->env, &s, (uint64_t)n + 1);
		seen = trip0(part, 1) == 90.0;
		cJSON_Delete(part);
	}

	/* A new zone is there on the next sample (with the statics read again:
	 * a trip point broken meanwhile shows up). */
	char path[PATH_MAX];
	assert_int_equal(tm_path(path, sizeof(path), r, "class/thermal/thermal_zone2"), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(tmfx_write(r, "class/thermal/thermal_zone2/type", "iwlwifi_1\n"), 0);
	assert_int_equal(tmfx_write(r, "class/thermal/thermal_zone2/temp", "41000\n"), 0);
	assert_int_equal(tmfx_write(r, "class/thermal/thermal_zone0/trip_point_0_temp", "?\n"), 0);
	part = tmfx_sample(&tm_thermal, &f->env, &s, 100);
	assert_int_equal(cJSON_GetArraySize(item(part, "zones")), 3);
	assert_string_equal(str(at(part, "zones", 2), "type"), "iwlwifi_1");
	assert_non_null(item(at(at(part, "zones", 0), "trips", 0), "error"));
	cJSON_Delete(part);

	/* A trip that failed is read again on the next sample. */
	assert_int_equal(tmfx_write(r, "class/thermal/thermal_zone0/trip_point_0_temp", "101000\n"), 0);
	part = tmfx_sample(&tm_thermal, &f->env, &s, 101);
	assert_float_equal(trip0(part, 0), 101.0, 1e-9);
	cJSON_Delete(part);
	tm_thermal.fini(&s);
}

/* --- metrics and the real machine --------------------------------------------- */

static void test_metrics(void **state)
{
	cJSON *part = sample_fixture("laptop");
	char *text = tmfx_render(&tm_thermal, part, NULL);
	tmfx_assert_line(text, "# TYPE hwopt_thermal_zone_temp_celsius gauge\n");
	tmfx_assert_line(text, "hwopt_thermal_zone_temp_celsius{type=\"acpitz\",zone=\"0\"} 27.8\n");
	tmfx_assert_line(text, "hwopt_thermal_zone_temp_celsius{type=\"x86_pkg_temp\",zone=\"1\"} 45\n");
	tmfx_assert_line(text, "hwopt_thermal_zone_trip_celsius{zone=\"0\",type=\"acpitz\",trip=\"0\","
			  "trip_type=\"critical\"} 103\n");
	tmfx_assert_line(text, "hwopt_thermal_zone_trip_celsius{zone=\"1\",type=\"x86_pkg_temp\",trip=\"1\","
			  "trip_type=\"passive\"} 0\n");
	tmfx_assert_line(text, "hwopt_cooling_device_cur_state{name=\"1\",type=\"Processor\"} 1\n");
	tmfx_assert_line(text, "hwopt_cooling_device_max_state{name=\"1\",type=\"Processor\"} 3\n");
	tmfx_assert_line(text, "hwopt_cooling_device_max_state{name=\"3\",type=\"intel_powerclamp\"} 100\n");
	free(text);
	cJSON_Delete(part);
}

static void test_real_sys(void **state)
{
	struct tm_env env = { .sysfs_root = "/sys", .procfs_root = "/proc" };
	cJSON *part = sample_env(&env);
	if (available(part)) {
		assert_true(cJSON_IsArray(item(part, "zones")));
		char *text = tmfx_render(&tm_thermal, part, NULL);
		free(text);
	} else {
		assert_true(strlen(str(part, "reason")) > 0);
		print_message("thermal on this machine: %s\n", str(part, "reason"));
	}
	cJSON_Delete(part);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_laptop),
		cmocka_unit_test(test_arm_server),
		cmocka_unit_test(test_hybrid),
		cmocka_unit_test_setup_teardown(test_garbage, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_directory_and_huge_file, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_missing_files, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_thermal_dir, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_permission_denied, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_static_cache, fx_setup, fx_teardown),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_real_sys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
