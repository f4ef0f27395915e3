/* The hwmon source against the fixture trees: chips named from their device
 * links like node_exporter, sensors read and converted (millidegrees,
 * microwatts, millivolts), colliding chip names made unique, broken and
 * unreadable sensors, the Prometheus series, and this machine's /sys. */
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
	struct tm_source s = { .ops = &tm_hwmon, .env = env };
	char reason[256] = "";
	assert_int_equal(tm_hwmon.init(&s, reason, sizeof(reason)), 0);
	cJSON *part = tmfx_sample(&tm_hwmon, env, &s, 1000000000ull);
	tm_hwmon.fini(&s);
	return part;
}

static cJSON *sample_fixture(const char *fixture)
{
	struct tm_env env;
	tmfx_env(&env, fixture);
	return sample_env(&env);
}

/* The chip whose hwmon number is idx. */
static const cJSON *chip(const cJSON *part, int idx)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, item(part, "chips"))
		if (num(c, "hwmon") == idx)
			return c;
	fail_msg("no hwmon%d", idx);
	return NULL;
}

static const cJSON *sensor(const cJSON *c, const char *kind, const char *name)
{
	const cJSON *s;
	cJSON_ArrayForEach(s, item(c, kind))
		if (strcmp(str(s, "sensor"), name) == 0)
			return s;
	return NULL;
}

static int count_lines(const char *text, const char *prefix)
{
	int n = 0;
	for (const char *s = text; (s = strstr(s, prefix)); s++)
		n++;
	return n;
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

/* The laptop's coretemp dir (class/hwmon/hwmon2 links to it). */
#define CORETEMP "devices/platform/coretemp.0/hwmon/hwmon2"

/* --- fixtures -------------------------------------------------------------- */

static void test_laptop(void **state)
{
	cJSON *part = sample_fixture("laptop");
	assert_true(available(part));
	assert_int_equal(cJSON_GetArraySize(item(part, "chips")), 3);

	/* No device link: the name file names the chip. */
	const cJSON *acpi = chip(part, 0);
	assert_string_equal(str(acpi, "chip"), "acpitz");
	assert_string_equal(str(acpi, "name"), "acpitz");
	const cJSON *t = sensor(acpi, "temps", "temp1");
	assert_non_null(t);
	assert_float_equal(num(t, "temp_celsius"), 27.8, 1e-9);
	assert_float_equal(num(t, "crit_celsius"), 103.0, 1e-9);
	assert_null(item(t, "max_celsius"));
	assert_null(item(acpi, "fans"));

	/* The device link names the others: <bus>_<device>, cleaned as
	 * node_exporter cleans it (':' stays). */
	const cJSON *fan = chip(part, 1);
	assert_string_equal(str(fan, "chip"), "platform_pnp0c0b:00");
	assert_string_equal(str(fan, "name"), "acpi_fan");
	assert_int_equal((int)num(sensor(fan, "fans", "fan1"), "rpm"), 2400);
	assert_float_equal(num(sensor(fan, "powers", "power1"), "watts"), 1.5, 1e-9);

	const cJSON *core = chip(part, 2);
	assert_string_equal(str(core, "chip"), "platform_coretemp_0");
	assert_string_equal(str(core, "name"), "coretemp");
	assert_int_equal(cJSON_GetArraySize(item(core, "temps")), 5);
	t = at(core, "temps", 0);
	assert_string_equal(str(t, "sensor"), "temp1");
	assert_string_equal(str(t, "label"), "Package id 0");
	assert_float_equal(num(t, "temp_celsius"), 45.0, 1e-9);
	assert_float_equal(num(t, "crit_celsius"), 100.0, 1e-9);
	assert_float_equal(num(t, "max_celsius"), 80.0, 1e-9);
	t = at(core, "temps", 4);
	assert_string_equal(str(t, "sensor"), "temp5");
	assert_string_equal(str(t, "label"), "Core 3");
	assert_float_equal(num(t, "temp_celsius"), 45.0, 1e-9);
	cJSON_Delete(part);
}

static void test_arm_server(void **state)
{
	cJSON *part = sample_fixture("arm-server");
	assert_true(available(part));
	assert_int_equal(cJSON_GetArraySize(item(part, "chips")), 2);
	const cJSON *x = chip(part, 0);
	assert_string_equal(str(x, "chip"), "platform_apmc0d29:00");
	assert_string_equal(str(x, "name"), "apm_xgene");
	assert_float_equal(num(sensor(x, "temps", "temp1"), "temp_celsius"), 52.0, 1e-9);
	assert_float_equal(num(sensor(x, "powers", "power1"), "watts"), 61.25, 1e-9);
	assert_string_equal(str(sensor(x, "powers", "power2"), "label"), "IO power");
	assert_float_equal(num(sensor(x, "powers", "power2"), "watts"), 18.5, 1e-9);

	const cJSON *psu = chip(part, 1);
	assert_string_equal(str(psu, "chip"), "psu_monitor");
	assert_float_equal(num(sensor(psu, "voltages", "in0"), "volts"), 12.05, 1e-9);
	assert_float_equal(num(sensor(psu, "voltages", "in1"), "volts"), 0.85, 1e-9);
	/* power1_average stands in for a missing power1_input. */
	assert_float_equal(num(sensor(psu, "powers", "power1"), "watts"), 95.0, 1e-9);
	assert_int_equal((int)num(sensor(psu, "fans", "fan1"), "rpm"), 6120);
	cJSON_Delete(part);
}

static void test_hybrid_sensor_order(void **state)
{
	static const char *const order[] = { "temp1",  "temp2",  "temp6",  "temp10", "temp14",
					     "temp18", "temp19", "temp20", "temp21" };
	cJSON *part = sample_fixture("hybrid");
	assert_true(available(part));
	const cJSON *core = chip(part, 0);
	assert_string_equal(str(core, "chip"), "platform_coretemp_0");
	assert_int_equal(cJSON_GetArraySize(item(core, "temps")), 9);
	for (int i = 0; i < 9; i++)
		assert_string_equal(str(at(core, "temps", i), "sensor"), order[i]);
	assert_string_equal(str(sensor(core, "temps", "temp18"), "label"), "Core 16");
	assert_float_equal(num(sensor(core, "temps", "temp18"), "temp_celsius"), 52.0, 1e-9);
	cJSON_Delete(part);
}

/* --- colliding names ---------------------------------------------------------- */

static void make_chip(const char *root, const char *dir, const char *name)
{
	char path[PATH_MAX], rel[PATH_MAX];
	assert_int_equal(tm_path(path, sizeof(path), root, dir), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(rel, sizeof(rel), "%s/name", dir);
	assert_int_equal(tmfx_write(root, rel, name), 0);
	snprintf(rel, sizeof(rel), "%s/temp1_input", dir);
	assert_int_equal(tmfx_write(root, rel, "30000\n"), 0);
}

static void test_colliding_chips(void **state)
{
	struct fx *f = *state;
	const char *r = f->env.sysfs_root;
	char path[PATH_MAX];
	/* A second acpitz without a device link, and a second hwmon under
	 * coretemp.0: each pair would give one chip label twice. */
	make_chip(r, "class/hwmon/hwmon7", "acpitz\n");
	make_chip(r, "devices/platform/coretemp.0/hwmon/hwmon3", "coretemp\n");
	assert_int_equal(tm_path(path, sizeof(path), r, "class/hwmon/hwmon3"), 0);
	assert_int_equal(symlink("../../devices/platform/coretemp.0/hwmon/hwmon3", path), 0);
	assert_int_equal(tm_path(path, sizeof(path), r, "devices/platform/coretemp.0/hwmon/hwmon3/device"), 0);
	assert_int_equal(symlink("../../../coretemp.0", path), 0);

	cJSON *part = sample_env(&f->env);
	assert_true(available(part));
	assert_int_equal(cJSON_GetArraySize(item(part, "chips")), 5);
	assert_string_equal(str(chip(part, 0), "chip"), "acpitz_hwmon0");
	assert_string_equal(str(chip(part, 7), "chip"), "acpitz_hwmon7");
	assert_string_equal(str(chip(part, 1), "chip"), "platform_pnp0c0b:00");
	assert_string_equal(str(chip(part, 2), "chip"), "platform_coretemp_0_hwmon2");
	assert_string_equal(str(chip(part, 3), "chip"), "platform_coretemp_0_hwmon3");

	size_t dropped;
	char *text = tmfx_render(&tm_hwmon, part, &dropped);
	assert_int_equal(dropped, 0);
	assert_int_equal(count_lines(text, "hwopt_hwmon_temp_celsius{chip=\"acpitz_hwmon"), 2);
	tmfx_assert_line(text, "hwopt_hwmon_temp_celsius{chip=\"acpitz_hwmon0\",sensor=\"temp1\"} 27.8\n");
	tmfx_assert_line(text, "hwopt_hwmon_temp_celsius{chip=\"acpitz_hwmon7\",sensor=\"temp1\"} 30\n");
	tmfx_assert_line(text, "hwopt_hwmon_temp_celsius{chip=\"platform_coretemp_0_hwmon2\","
			  "sensor=\"temp1\"} 45\n");
	tmfx_assert_line(text, "hwopt_hwmon_temp_celsius{chip=\"platform_coretemp_0_hwmon3\","
			  "sensor=\"temp1\"} 30\n");
	tmfx_assert_line(text, "hwopt_hwmon_chip_names{chip=\"acpitz_hwmon7\",chip_name=\"acpitz\"} 1\n");
	free(text);
	cJSON_Delete(part);
}

/* --- broken trees ------------------------------------------------------------ */

static void test_garbage(void **state)
{
	struct fx *f = *state;
	const char *r = f->env.sysfs_root;
	assert_int_equal(tmfx_write(r, CORETEMP "/temp2_input", "hot\n"), 0);
	assert_int_equal(tmfx_write(r, CORETEMP "/temp3_crit", "1e5\n"), 0);
	assert_int_equal(tmfx_write(r, "devices/platform/PNP0C0B:00/hwmon/hwmon1/fan1_input", "\n"),
			 0);
	cJSON *part = sample_env(&f->env);
	assert_true(available(part));
	const cJSON *core = chip(part, 2);
	const cJSON *t2 = sensor(core, "temps", "temp2");
	assert_non_null(t2);
	assert_null(item(t2, "temp_celsius"));
	assert_string_equal(str(t2, "error"), "temp2_input: unreadable content");
	assert_string_equal(str(t2, "label"), "Core 0");
	const cJSON *t3 = sensor(core, "temps", "temp3");
	assert_float_equal(num(t3, "temp_celsius"), 43.0, 1e-9);
	assert_null(item(t3, "crit_celsius"));
	assert_non_null(item(sensor(chip(part, 1), "fans", "fan1"), "error"));

	size_t dropped;
	char *text = tmfx_render(&tm_hwmon, part, &dropped);
	assert_int_equal(dropped, 0);
	assert_null(strstr(text, "sensor=\"temp2\"} "));
	assert_null(strstr(text, "hwopt_hwmon_fan_rpm{"));
	assert_null(strstr(text, "hwopt_hwmon_temp_crit_celsius{chip=\"platform_coretemp_0\",sensor=\"temp3\""));
	tmfx_assert_line(text, "hwopt_hwmon_temp_celsius{chip=\"platform_coretemp_0\",sensor=\"temp3\"} 43\n");
	free(text);
	cJSON_Delete(part);
}

static void test_missing_files(void **state)
{
	struct fx *f = *state;
	const char *r = f->env.sysfs_root;
	assert_int_equal(tmfx_unlink(r, "class/hwmon/hwmon0/name"), 0);
	assert_int_equal(tmfx_unlink(r, CORETEMP "/temp1_input"), 0);
	assert_int_equal(tmfx_unlink(r, CORETEMP "/temp4_label"), 0);
	/* A dangling device link falls back to the name file. */
	assert_int_equal(tmfx_unlink(r, CORETEMP "/device"), 0);
	char path[PATH_MAX];
	assert_int_equal(tm_path(path, sizeof(path), r, CORETEMP "/device"), 0);
	assert_int_equal(symlink("../../../nowhere", path), 0);
	cJSON *part = sample_env(&f->env);
	assert_true(available(part));
	const cJSON *acpi = chip(part, 0);
	assert_string_equal(str(acpi, "chip"), "hwmon0");
	assert_null(item(acpi, "name"));
	const cJSON *core = chip(part, 2);
	assert_string_equal(str(core, "chip"), "coretemp");
	/* temp1 has limits and a label but no input: not a sensor. */
	assert_null(sensor(core, "temps", "temp1"));
	assert_string_equal(str(at(core, "temps", 0), "sensor"), "temp2");
	assert_null(item(sensor(core, "temps", "temp4"), "label"));
	assert_float_equal(num(sensor(core, "temps", "temp4"), "temp_celsius"), 44.0, 1e-9);
	cJSON_Delete(part);
}

static void test_no_hwmon_dir(void **state)
{
	struct fx *f = *state;
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/class/hwmon'", f->env.sysfs_root);
	assert_int_equal(system(cmd), 0);
	cJSON *part = sample_env(&f->env);
	assert_false(available(part));
	assert_non_null(strstr(str(part, "reason"), "class/hwmon"));
	cJSON_Delete(part);

	snprintf(cmd, sizeof(cmd), "mkdir '%s/class/hwmon'", f->env.sysfs_root);
	assert_int_equal(system(cmd), 0);
	part = sample_env(&f->env);
	assert_false(available(part));
	assert_string_equal(str(part, "reason"), "no hwmon devices in class/hwmon");
	cJSON_Delete(part);
}

static bool check_denied(void *arg)
{
	const struct fx *f = arg;
	cJSON *part = sample_env(&f->env);
	const cJSON *core = NULL, *c;
	cJSON_ArrayForEach(c, item(part, "chips"))
		if (cJSON_IsNumber(item(c, "hwmon")) && item(c, "hwmon")->valueint == 2)
			core = c;
	const cJSON *t3 = sensor(core, "temps", "temp3"), *t4 = sensor(core, "temps", "temp4");
	const cJSON *err = item(t3, "error");
	bool ok = available(part) && cJSON_IsString(err) &&
		  strcmp(err->valuestring, "temp3_input: Permission denied") == 0 &&
		  !item(t3, "temp_celsius") && cJSON_IsNumber(item(t4, "temp_celsius"));
	cJSON_Delete(part);
	return ok;
}

static void test_permission_denied(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tmfx_chmod(f->env.sysfs_root, CORETEMP "/temp3_input", 0), 0);
	assert_true(tmfx_unprivileged(check_denied, f));
}

/* --- what is read each sample ---------------------------------------------------- */

/* Values are read every sample; names, labels and limits are kept for up
 * to 30 samples, unless the hwmonN listing changes. */
static void test_static_cache(void **state)
{
	struct fx *f = *state;
	const char *r = f->env.sysfs_root;
	struct tm_source s = { .ops = &tm_hwmon, .env = &f->env };
	char reason[256];
	assert_int_equal(tm_hwmon.init(&s, reason, sizeof(reason)), 0);
	cJSON *part = tmfx_sample(&tm_hwmon, &f->env, &s, 1);
	cJSON_Delete(part);

	assert_int_equal(tmfx_write(r, CORETEMP "/temp2_input", "61000\n"), 0);
	assert_int_equal(tmfx_write(r, CORETEMP "/temp2_label", "Core 9\n"), 0);
	part = tmfx_sample(&tm_hwmon, &f->env, &s, 2);
	const cJSON *t2 = sensor(chip(part, 2), "temps", "temp2");
	assert_float_equal(num(t2, "temp_celsius"), 61.0, 1e-9);
	assert_string_equal(str(t2, "label"), "Core 0");
	cJSON_Delete(part);
	int n = 2;
	for (bool seen = false; !seen; n++) {
		assert_true(n <= 31);
		part = tmfx_sample(&tm_hwmon, &f->env, &s, (uint64_t)n + 1);
		seen = strcmp(str(sensor(chip(part, 2), "temps", "temp2"), "label"), "Core 9") == 0;
		cJSON_Delete(part);
	}

	/* A new hwmon dir is there on the next sample. */
	make_chip(r, "class/hwmon/hwmon9", "nvme\n");
	part = tmfx_sample(&tm_hwmon, &f->env, &s, 100);
	assert_int_equal(cJSON_GetArraySize(item(part, "chips")), 4);
	assert_string_equal(str(chip(part, 9), "chip"), "nvme");
	assert_float_equal(num(sensor(chip(part, 9), "temps", "temp1"), "temp_celsius"), 30.0, 1e-9);
	cJSON_Delete(part);
	tm_hwmon.fini(&s);
}

/* --- metrics and the real machine --------------------------------------------- */

static void test_metrics(void **state)
{
	cJSON *part = sample_fixture("laptop");
	size_t dropped;
	char *text = tmfx_render(&tm_hwmon, part, &dropped);
	assert_int_equal(dropped, 0);
	tmfx_assert_line(text, "# TYPE hwopt_hwmon_temp_celsius gauge\n");
	tmfx_assert_line(text, "hwopt_hwmon_temp_celsius{chip=\"platform_coretemp_0\",sensor=\"temp1\"} 45\n");
	tmfx_assert_line(text, "hwopt_hwmon_temp_crit_celsius{chip=\"platform_coretemp_0\","
			  "sensor=\"temp1\"} 100\n");
	tmfx_assert_line(text, "hwopt_hwmon_temp_max_celsius{chip=\"platform_coretemp_0\","
			  "sensor=\"temp2\"} 80\n");
	tmfx_assert_line(text, "hwopt_hwmon_temp_celsius{chip=\"acpitz\",sensor=\"temp1\"} 27.8\n");
	tmfx_assert_line(text, "hwopt_hwmon_fan_rpm{chip=\"platform_pnp0c0b:00\",sensor=\"fan1\"} 2400\n");
	tmfx_assert_line(text, "hwopt_hwmon_power_watt{chip=\"platform_pnp0c0b:00\",sensor=\"power1\"} 1.5\n");
	tmfx_assert_line(text, "hwopt_hwmon_sensor_label{chip=\"platform_coretemp_0\",sensor=\"temp3\","
			  "label=\"Core 1\"} 1\n");
	tmfx_assert_line(text, "hwopt_hwmon_chip_names{chip=\"platform_coretemp_0\","
			  "chip_name=\"coretemp\"} 1\n");
	tmfx_assert_line(text, "hwopt_hwmon_chip_names{chip=\"platform_pnp0c0b:00\","
			  "chip_name=\"acpi_fan\"} 1\n");
	free(text);
	cJSON_Delete(part);

	part = sample_fixture("arm-server");
	text = tmfx_render(&tm_hwmon, part, &dropped);
	assert_int_equal(dropped, 0);
	tmfx_assert_line(text, "hwopt_hwmon_in_volts{chip=\"psu_monitor\",sensor=\"in0\"} 12.05\n");
	tmfx_assert_line(text, "hwopt_hwmon_power_watt{chip=\"platform_apmc0d29:00\",sensor=\"power1\"} "
			  "61.25\n");
	free(text);
	cJSON_Delete(part);
}

static void test_real_sys(void **state)
{
	struct tm_env env = { .sysfs_root = "/sys", .procfs_root = "/proc" };
	cJSON *part = sample_env(&env);
	if (available(part)) {
		assert_true(cJSON_IsArray(item(part, "chips")));
		size_t dropped;
		char *text = tmfx_render(&tm_hwmon, part, &dropped);
		assert_int_equal(dropped, 0);
		free(text);
	} else {
		assert_true(strlen(str(part, "reason")) > 0);
		print_message("hwmon on this machine: %s\n", str(part, "reason"));
	}
	cJSON_Delete(part);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_laptop),
		cmocka_unit_test(test_arm_server),
		cmocka_unit_test(test_hybrid_sensor_order),
		cmocka_unit_test_setup_teardown(test_colliding_chips, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_garbage, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_missing_files, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_hwmon_dir, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_permission_denied, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_static_cache, fx_setup, fx_teardown),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_real_sys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
