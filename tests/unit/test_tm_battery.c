/* The battery source against the fixture trees: supplies read and converted
 * (µWh, µAh x µV, µW, µA x µV), time to empty and to full, either sub-part
 * missing, garbage and unreadable files, the Prometheus series, and this
 * machine's /sys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <sys/stat.h>

#include "daemon/prom.h"
#include "daemon/telemetry/fs.h"
#include "daemon/telemetry/source.h"
#include "tm_fixture.h"

#define BAT "class/power_supply/BAT0"

/* --- helpers -------------------------------------------------------------- */

static cJSON *sample_env(const struct tm_env *env)
{
	struct tm_source s = { .ops = &tm_battery, .env = env };
	char reason[256] = "";
	assert_int_equal(tm_battery.init(&s, reason, sizeof(reason)), 0);
	cJSON *part = tmfx_sample(&tm_battery, env, &s, 1000000000ull);
	tm_battery.fini(&s);
	return part;
}

static cJSON *sample_fixture(const char *fixture)
{
	struct tm_env env;
	tmfx_env(&env, fixture);
	return sample_env(&env);
}

static const cJSON *supply(const cJSON *part, const char *name)
{
	const cJSON *s;
	cJSON_ArrayForEach(s, item(part, "supplies")) {
		const cJSON *n = item(s, "name");
		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			return s;
	}
	return NULL;
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
	cJSON *part = sample_fixture("laptop");
	assert_true(available(part));
	const cJSON *arr = item(part, "supplies");
	assert_int_equal(cJSON_GetArraySize(arr), 3);
	assert_string_equal(str(cJSON_GetArrayItem(arr, 0), "name"), "AC");
	assert_string_equal(str(cJSON_GetArrayItem(arr, 1), "name"), "BAT0");

	const cJSON *ac = supply(part, "AC");
	assert_string_equal(str(ac, "type"), "Mains");
	assert_true(cJSON_IsFalse(item(ac, "online")));
	assert_null(item(ac, "status"));

	const cJSON *bat = supply(part, "BAT0");
	assert_string_equal(str(bat, "type"), "Battery");
	assert_string_equal(str(bat, "status"), "Discharging");
	assert_true(cJSON_IsTrue(item(bat, "present")));
	assert_string_equal(str(bat, "technology"), "Li-ion");
	assert_int_equal((int)num(bat, "cycle_count"), 213);
	assert_int_equal((int)num(bat, "capacity_pct"), 87);
	assert_float_equal(num(bat, "voltage_volts"), 12.1, 1e-9);
	assert_float_equal(num(bat, "energy_watthours"), 45.23, 1e-9);
	assert_float_equal(num(bat, "energy_full_watthours"), 52.0, 1e-9);
	assert_float_equal(num(bat, "energy_full_design_watthours"), 57.0, 1e-9);
	assert_string_equal(str(bat, "energy_source"), "energy_now");
	assert_float_equal(num(bat, "power_watts"), 8.45, 1e-9);
	assert_string_equal(str(bat, "power_source"), "power_now");
	assert_float_equal(num(bat, "time_to_empty_seconds"), 45.23 / 8.45 * 3600, 1e-6);
	assert_null(item(bat, "time_to_full_seconds"));

	const cJSON *usb = supply(part, "ucsi-source-psy-USBC000:001");
	assert_string_equal(str(usb, "type"), "USB");
	assert_true(cJSON_IsFalse(item(usb, "online")));
	assert_null(item(usb, "power_watts"));

	const cJSON *pp = item(part, "platform_profile");
	assert_true(cJSON_IsTrue(item(pp, "available")));
	assert_string_equal(str(pp, "profile"), "balanced");
	assert_int_equal(cJSON_GetArraySize(item(pp, "choices")), 3);
	assert_string_equal(cJSON_GetArrayItem(item(pp, "choices"), 0)->valuestring, "low-power");
	assert_string_equal(cJSON_GetArrayItem(item(pp, "choices"), 2)->valuestring, "performance");
	cJSON_Delete(part);
}

static void test_hybrid_no_profile(void **state)
{
	cJSON *part = sample_fixture("hybrid");
	assert_true(available(part));
	assert_int_equal(cJSON_GetArraySize(item(part, "supplies")), 1);
	const cJSON *ac = supply(part, "AC");
	assert_string_equal(str(ac, "type"), "Mains");
	assert_true(cJSON_IsTrue(item(ac, "online")));
	const cJSON *pp = item(part, "platform_profile");
	assert_true(cJSON_IsFalse(item(pp, "available")));
	assert_string_equal(str(pp, "reason"),
			    "firmware/acpi/platform_profile: No such file or directory");
	assert_null(item(pp, "profile"));
	char *text = tmfx_render(&tm_battery, part, NULL);
	tmfx_assert_line(text, "hwopt_power_supply_online{power_supply=\"AC\"} 1\n");
	assert_null(strstr(text, "hwopt_platform_profile_info{"));
	free(text);
	cJSON_Delete(part);
}

static void test_arm_server_nothing(void **state)
{
	cJSON *part = sample_fixture("arm-server");
	assert_false(available(part));
	assert_string_equal(str(part, "reason"),
			    "no power supplies in class/power_supply (No such file or directory) "
			    "and no firmware/acpi/platform_profile");
	cJSON_Delete(part);
}

static void test_empty_supply_dir(void **state)
{
	struct fx *f = *state;
	remove_tree(f->env.sysfs_root, "class/power_supply/AC");
	cJSON *part = sample_env(&f->env);
	assert_false(available(part));
	assert_non_null(strstr(str(part, "reason"), "(empty)"));
	cJSON_Delete(part);
}

static void test_profile_only(void **state)
{
	struct fx *f = *state;
	remove_tree(f->env.sysfs_root, "class/power_supply");
	cJSON *part = sample_env(&f->env);
	assert_true(available(part));
	const cJSON *sup = item(part, "supplies");
	assert_true(cJSON_IsObject(sup));
	assert_true(cJSON_IsFalse(item(sup, "available")));
	assert_string_equal(str(sup, "reason"), "class/power_supply: No such file or directory");
	assert_string_equal(str(item(part, "platform_profile"), "profile"), "balanced");
	char *text = tmfx_render(&tm_battery, part, NULL);
	tmfx_assert_line(text, "hwopt_platform_profile_info{profile=\"balanced\"} 1\n");
	assert_null(strstr(text, "hwopt_power_supply_info{"));
	free(text);
	cJSON_Delete(part);
}

/* --- derived figures ------------------------------------------------------------ */

static void test_current_times_voltage(void **state)
{
	struct fx *f = *state;
	const char *r = f->env.sysfs_root;
	assert_int_equal(tmfx_unlink(r, BAT "/power_now"), 0);
	/* Some drivers report a discharging current as negative. */
	assert_int_equal(tmfx_write(r, BAT "/current_now", "-700000\n"), 0);
	cJSON *part = sample_env(&f->env);
	const cJSON *bat = supply(part, "BAT0");
	assert_float_equal(num(bat, "power_watts"), 0.7 * 12.1, 1e-9);
	assert_string_equal(str(bat, "power_source"), "current_now*voltage_now");
	assert_float_equal(num(bat, "time_to_empty_seconds"), 45.23 / (0.7 * 12.1) * 3600, 1e-6);
	cJSON_Delete(part);

	/* Neither power nor voltage: no power, no estimate. */
	assert_int_equal(tmfx_unlink(r, BAT "/voltage_now"), 0);
	part = sample_env(&f->env);
	bat = supply(part, "BAT0");
	assert_null(item(bat, "power_watts"));
	assert_null(item(bat, "time_to_empty_seconds"));
	assert_float_equal(num(bat, "energy_watthours"), 45.23, 1e-9);
	cJSON_Delete(part);
}

static void test_charge_times_voltage(void **state)
{
	struct fx *f = *state;
	const char *r = f->env.sysfs_root;
	assert_int_equal(tmfx_unlink(r, BAT "/energy_now"), 0);
	assert_int_equal(tmfx_unlink(r, BAT "/energy_full"), 0);
	assert_int_equal(tmfx_unlink(r, BAT "/energy_full_design"), 0);
	assert_int_equal(tmfx_write(r, BAT "/charge_now", "3738000\n"), 0);
	assert_int_equal(tmfx_write(r, BAT "/charge_full", "4297000\n"), 0);
	assert_int_equal(tmfx_write(r, BAT "/charge_full_design", "4711000\n"), 0);
	assert_int_equal(tmfx_write(r, BAT "/status", "Charging\n"), 0);
	cJSON *part = sample_env(&f->env);
	const cJSON *bat = supply(part, "BAT0");
	double now = 3.738 * 12.1, full = 4.297 * 12.1;
	assert_float_equal(num(bat, "energy_watthours"), now, 1e-9);
	assert_float_equal(num(bat, "energy_full_watthours"), full, 1e-9);
	assert_float_equal(num(bat, "energy_full_design_watthours"), 4.711 * 12.1, 1e-9);
	assert_string_equal(str(bat, "energy_source"), "charge_now*voltage_now");
	assert_null(item(bat, "time_to_empty_seconds"));
	assert_float_equal(num(bat, "time_to_full_seconds"), (full - now) / 8.45 * 3600, 1e-6);

	char *text = tmfx_render(&tm_battery, part, NULL);
	tmfx_assert_line(text, "hwopt_power_supply_time_to_full_seconds{power_supply=\"BAT0\"} ");
	assert_null(strstr(text, "hwopt_power_supply_time_to_empty_seconds{"));
	tmfx_assert_line(text, "hwopt_power_supply_info{power_supply=\"BAT0\",type=\"Battery\","
			  "status=\"Charging\"} 1\n");
	free(text);
	cJSON_Delete(part);
}

static void test_full_and_idle(void **state)
{
	struct fx *f = *state;
	const char *r = f->env.sysfs_root;
	assert_int_equal(tmfx_write(r, BAT "/status", "Full\n"), 0);
	assert_int_equal(tmfx_write(r, BAT "/power_now", "0\n"), 0);
	cJSON *part = sample_env(&f->env);
	const cJSON *bat = supply(part, "BAT0");
	assert_float_equal(num(bat, "power_watts"), 0.0, 1e-9);
	assert_null(item(bat, "time_to_empty_seconds"));
	assert_null(item(bat, "time_to_full_seconds"));
	cJSON_Delete(part);

	/* Discharging at zero draw (just unplugged) has no estimate either. */
	assert_int_equal(tmfx_write(r, BAT "/status", "Discharging\n"), 0);
	part = sample_env(&f->env);
	assert_null(item(supply(part, "BAT0"), "time_to_empty_seconds"));
	cJSON_Delete(part);
}

/* --- broken trees ------------------------------------------------------------ */

static void test_garbage(void **state)
{
	struct fx *f = *state;
	const char *r = f->env.sysfs_root;
	assert_int_equal(tmfx_write(r, BAT "/capacity", "abc\n"), 0);
	assert_int_equal(tmfx_write(r, BAT "/power_now", "n/a\n"), 0);
	assert_int_equal(tmfx_write(r, BAT "/energy_full", "\n"), 0);
	assert_int_equal(tmfx_write(r, "class/power_supply/AC/online", "2\n"), 0);
	assert_int_equal(tmfx_write(r, "firmware/acpi/platform_profile", "\n"), 0);
	cJSON *part = sample_env(&f->env);
	assert_true(available(part));
	const cJSON *bat = supply(part, "BAT0");
	assert_null(item(bat, "capacity_pct"));
	assert_null(item(bat, "power_watts"));
	assert_null(item(bat, "time_to_empty_seconds"));
	assert_null(item(bat, "energy_full_watthours"));
	assert_float_equal(num(bat, "energy_watthours"), 45.23, 1e-9);
	assert_null(item(supply(part, "AC"), "online"));
	const cJSON *pp = item(part, "platform_profile");
	assert_true(cJSON_IsFalse(item(pp, "available")));
	assert_string_equal(str(pp, "reason"), "firmware/acpi/platform_profile: unreadable content");

	char *text = tmfx_render(&tm_battery, part, NULL);
	assert_null(strstr(text, "hwopt_power_supply_capacity{"));
	assert_null(strstr(text, "hwopt_power_supply_online{power_supply=\"AC\"}"));
	tmfx_assert_line(text, "hwopt_power_supply_energy_watthour{power_supply=\"BAT0\"} 45.23\n");
	free(text);
	cJSON_Delete(part);
}

static bool check_denied(void *arg)
{
	const struct fx *f = arg;
	cJSON *part = sample_env(&f->env);
	const cJSON *pp = item(part, "platform_profile"), *bat = supply(part, "BAT0");
	const cJSON *reason = item(pp, "reason");
	bool ok = available(part) && cJSON_IsFalse(item(pp, "available")) &&
		  cJSON_IsString(reason) &&
		  strcmp(reason->valuestring, "firmware/acpi/platform_profile: Permission denied") ==
			  0 &&
		  !item(bat, "capacity_pct") && cJSON_IsNumber(item(bat, "energy_watthours"));
	cJSON_Delete(part);
	return ok;
}

static void test_permission_denied(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tmfx_chmod(f->env.sysfs_root, "firmware/acpi/platform_profile", 0), 0);
	assert_int_equal(tmfx_chmod(f->env.sysfs_root, BAT "/capacity", 0), 0);
	assert_true(tmfx_unprivileged(check_denied, f));
}

/* --- metrics and the real machine --------------------------------------------- */

static void test_metrics(void **state)
{
	cJSON *part = sample_fixture("laptop");
	char *text = tmfx_render(&tm_battery, part, NULL);
	tmfx_assert_line(text, "# TYPE hwopt_power_supply_capacity gauge\n");
	tmfx_assert_line(text, "hwopt_power_supply_info{power_supply=\"BAT0\",type=\"Battery\","
			  "status=\"Discharging\"} 1\n");
	tmfx_assert_line(text, "hwopt_power_supply_info{power_supply=\"AC\",type=\"Mains\",status=\"\"} 1\n");
	tmfx_assert_line(text, "hwopt_power_supply_online{power_supply=\"AC\"} 0\n");
	tmfx_assert_line(text, "hwopt_power_supply_online{power_supply=\"ucsi-source-psy-USBC000:001\"} 0\n");
	tmfx_assert_line(text, "hwopt_power_supply_capacity{power_supply=\"BAT0\"} 87\n");
	tmfx_assert_line(text, "hwopt_power_supply_power_watt{power_supply=\"BAT0\"} 8.45\n");
	tmfx_assert_line(text, "hwopt_power_supply_energy_watthour{power_supply=\"BAT0\"} 45.23\n");
	tmfx_assert_line(text, "hwopt_power_supply_energy_full{power_supply=\"BAT0\"} 52\n");
	tmfx_assert_line(text, "hwopt_power_supply_energy_full_design{power_supply=\"BAT0\"} 57\n");
	tmfx_assert_line(text, "hwopt_power_supply_voltage_volts{power_supply=\"BAT0\"} 12.1\n");
	tmfx_assert_line(text, "hwopt_power_supply_present{power_supply=\"BAT0\"} 1\n");
	tmfx_assert_line(text, "hwopt_power_supply_time_to_empty_seconds{power_supply=\"BAT0\"} 19269.");
	tmfx_assert_line(text, "hwopt_platform_profile_info{profile=\"balanced\"} 1\n");
	free(text);
	cJSON_Delete(part);
}

static void test_real_sys(void **state)
{
	struct tm_env env = { .sysfs_root = "/sys", .procfs_root = "/proc" };
	cJSON *part = sample_env(&env);
	if (available(part)) {
		assert_non_null(item(part, "supplies"));
		assert_non_null(item(part, "platform_profile"));
		free(tmfx_render(&tm_battery, part, NULL));
	} else {
		assert_true(strlen(str(part, "reason")) > 0);
		print_message("battery on this machine: %s\n", str(part, "reason"));
	}
	cJSON_Delete(part);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_laptop),
		cmocka_unit_test(test_hybrid_no_profile),
		cmocka_unit_test(test_arm_server_nothing),
		cmocka_unit_test_setup_teardown(test_empty_supply_dir, fx_setup_hybrid, fx_teardown),
		cmocka_unit_test_setup_teardown(test_profile_only, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_current_times_voltage, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_charge_times_voltage, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_full_and_idle, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_garbage, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_permission_denied, fx_setup, fx_teardown),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_real_sys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
