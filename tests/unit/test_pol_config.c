/* Policy settings: defaults, each kind of key and its errors, ranges, the
 * rules between keys, JSON that reads back as the same settings, and diff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policies/pol_config.h"

static char reason[256];

static int set(struct pol_config *c, const char *section, const char *key, const char *value)
{
	reason[0] = '\0';
	return pol_config_set(c, section, key, value, reason, sizeof(reason));
}

/* Fails with -EINVAL and a reason containing want. */
static void bad(const char *section, const char *key, const char *value, const char *want)
{
	struct pol_config c, d;
	pol_config_defaults(&c);
	memcpy(&d, &c, sizeof(c));
	int rc = set(&c, section, key, value);
	if (rc != -EINVAL || !strstr(reason, want))
		fail_msg("[%s] %s = '%s': rc %d, reason '%s' (wanted '%s')", section, key, value,
			 rc, reason, want);
	assert_memory_equal(&c, &d, sizeof(c)); /* a bad value changes nothing */
}

static void defaults(void **state)
{
	struct pol_config c;
	pol_config_defaults(&c);
	assert_true(c.enabled);
	assert_false(c.dry_run);
	assert_true(c.restore_on_exit);
	assert_int_equal(c.profile, POL_BALANCED);
	assert_int_equal(c.explain_history, 256);
	assert_true(c.dvfs);
	assert_true(c.idle_s == 10 && c.busy_s == 3 && c.hold_s == 5);
	assert_true(c.power_saver_freq_ratio == 0.6 && c.idle_freq_ratio == 0.8);
	assert_true(c.memory_bound && c.memory_bound_ipc == 0.7);
	assert_true(c.memory_bound_miss_ratio == 0.3 && c.memory_bound_freq_ratio == 0.7);
	assert_true(c.memory_bound_enter_s == 3 && c.memory_bound_exit_s == 5);
	assert_true(c.thermal);
	assert_int_equal(c.thermal_mode, POL_THERMAL_STEP);
	assert_true(c.margin_c == 5 && c.hysteresis_c == 3 && c.cooldown_s == 10);
	assert_int_equal(c.max_level, 5);
	assert_true(c.level_freq_step == 0.1 && c.min_freq_ratio == 0.4 && c.max_trip_c == 150);
	assert_true(isnan(c.target_c));
	assert_true(c.pid_kp == 0.05 && c.pid_ki == 0.005 && c.pid_kd == 0);
	assert_int_equal(c.n_zone_rules, 0);
	assert_true(c.battery && c.low_pct == 20 && c.critical_pct == 5);
	assert_true(c.low_workers_ratio == 0.5);
	assert_true(c.autoscale);
	assert_int_equal(c.min_workers, 1);
	assert_int_equal(c.max_workers, 0);
	assert_true(c.target_utilization == 0.8 && c.target_queue_per_worker == 2);
	assert_true(c.target_queue_p95_s == 0.1);
	assert_true(c.tolerance_up == 0.1 && c.tolerance_down == 0.1);
	assert_true(c.up_window_s == 0 && c.down_window_s == 300);
	assert_true(c.up_percent == 100 && c.up_period_s == 15);
	assert_int_equal(c.up_workers, 4);
	assert_int_equal(c.down_workers, 1);
	assert_true(c.down_percent == 0 && c.down_period_s == 60);
	assert_true(c.affinity);
	assert_int_equal(c.place[0], POL_PLACE_PERFORMANCE);
	assert_int_equal(c.place[1], POL_PLACE_ANY);
	assert_int_equal(c.place[2], POL_PLACE_EFFICIENCY);
	assert_true(c.heavy_ms == 50);
	assert_int_equal(c.efficiency_capacity_pct, 80);
	assert_int_equal(pol_config_check(&c, reason, sizeof(reason)), 0);
}

static void names(void **state)
{
	enum pol_profile p;
	for (int i = 0; i < POL_N_PROFILES; i++) {
		assert_int_equal(pol_profile_parse(pol_profile_name((enum pol_profile)i), &p), 0);
		assert_int_equal(p, i);
	}
	assert_string_equal(pol_profile_name(POL_POWER_SAVER), "power-saver");
	assert_string_equal(pol_profile_name(POL_BALANCED), "balanced");
	assert_string_equal(pol_profile_name(POL_PERFORMANCE), "performance");
	assert_string_equal(pol_profile_name(POL_N_PROFILES), "?");
	assert_int_equal(pol_profile_parse("Balanced", &p), -EINVAL);
	assert_int_equal(pol_profile_parse("", &p), -EINVAL);
	assert_string_equal(pol_thermal_mode_name(POL_THERMAL_PID), "pid");
	assert_string_equal(pol_placement_name(POL_PLACE_EFFICIENCY), "efficiency");

	size_t n = 0;
	while (pol_config_sections[n]) {
		assert_true(pol_config_section(pol_config_sections[n]));
		n++;
	}
	assert_int_equal(n, 6);
	assert_string_equal(pol_config_sections[0], "policy");
	assert_string_equal(pol_config_sections[5], "affinity");
	assert_false(pol_config_section("daemon"));
	assert_false(pol_config_section(""));
}

static void booleans(void **state)
{
	struct pol_config c;
	pol_config_defaults(&c);
	const char *yes[] = { "true", "yes", "on", "1", "TRUE", "Yes" };
	const char *no[] = { "false", "no", "off", "0", "False", "OFF" };
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(set(&c, "policy", "dry_run", yes[i]), 0);
		assert_true(c.dry_run);
		assert_int_equal(set(&c, "policy", "dry_run", no[i]), 0);
		assert_false(c.dry_run);
	}
	assert_int_equal(set(&c, "dvfs", "enabled", "off"), 0);
	assert_false(c.dvfs);
	assert_int_equal(set(&c, "thermal", "enabled", "no"), 0);
	assert_false(c.thermal);
	assert_int_equal(set(&c, "battery", "enabled", "0"), 0);
	assert_false(c.battery);
	assert_int_equal(set(&c, "autoscale", "enabled", "false"), 0);
	assert_false(c.autoscale);
	assert_int_equal(set(&c, "affinity", "enabled", "off"), 0);
	assert_false(c.affinity);
	assert_int_equal(set(&c, "dvfs", "memory_bound", "off"), 0);
	assert_false(c.memory_bound);
	bad("policy", "enabled", "maybe", "must be true or false");
	bad("policy", "enabled", "", "must be true or false");
	bad("policy", "enabled", "2", "must be true or false");
	bad("dvfs", "memory_bound", "y", "must be true or false");
}

static void numbers(void **state)
{
	struct pol_config c;
	pol_config_defaults(&c);
	assert_int_equal(set(&c, "dvfs", "idle_s", "0.5"), 0);
	assert_true(c.idle_s == 0.5);
	assert_int_equal(set(&c, "dvfs", "busy_s", "86400"), 0);
	assert_true(c.busy_s == 86400);
	assert_int_equal(set(&c, "dvfs", "hold_s", "0"), 0);
	assert_true(c.hold_s == 0);
	assert_int_equal(set(&c, "autoscale", "down_window_s", "1e2"), 0);
	assert_true(c.down_window_s == 100);
	assert_int_equal(set(&c, "thermal", "pid_kp", "0.25"), 0);
	assert_true(c.pid_kp == 0.25);
	assert_int_equal(set(&c, "policy", "explain_history", "100000"), 0);
	assert_int_equal(c.explain_history, 100000);
	assert_int_equal(set(&c, "thermal", "max_level", "20"), 0);
	assert_int_equal(c.max_level, 20);

	bad("dvfs", "idle_s", "ten", "'ten' is not a number");
	bad("dvfs", "idle_s", "5s", "'5s' is not a number");
	bad("dvfs", "idle_s", "", "is not a number");
	bad("dvfs", "idle_s", "nan", "is not a number");
	bad("dvfs", "idle_s", "inf", "is not a number");
	bad("dvfs", "idle_s", " 5", "is not a number");
	bad("dvfs", "idle_s", "-1", "must be between 0 and 86400");
	bad("dvfs", "busy_s", "86400.5", "must be between 0 and 86400");
	bad("policy", "explain_history", "0", "must be between 1 and 100000");
	bad("policy", "explain_history", "100001", "must be between 1 and 100000");
	bad("policy", "explain_history", "1.5", "'1.5' is not a whole number");
	bad("policy", "explain_history", "-3", "'-3' is not a whole number");
	bad("policy", "explain_history", "99999999999", "is not a whole number");
	bad("thermal", "max_level", "21", "must be between 1 and 20");
	bad("thermal", "max_level", "0", "must be between 1 and 20");
	bad("autoscale", "min_workers", "0", "must be between 1 and");
	bad("affinity", "efficiency_capacity_pct", "0", "must be between 1 and 100");
	bad("affinity", "efficiency_capacity_pct", "101", "must be between 1 and 100");
}

static void ranges(void **state)
{
	struct pol_config c;
	pol_config_defaults(&c);
	/* Frequency ratios: (0, 1]. */
	bad("thermal", "min_freq_ratio", "0", "must be above 0 and at most 1");
	bad("thermal", "min_freq_ratio", "1.01", "must be above 0 and at most 1");
	bad("dvfs", "power_saver_freq_ratio", "0", "must be above 0 and at most 1");
	bad("dvfs", "idle_freq_ratio", "-0.5", "must be above 0 and at most 1");
	bad("dvfs", "memory_bound_freq_ratio", "2", "must be above 0 and at most 1");
	assert_int_equal(set(&c, "thermal", "min_freq_ratio", "1"), 0);
	assert_int_equal(set(&c, "dvfs", "idle_freq_ratio", "0.01"), 0);
	/* Other ratios: [0, 1]. */
	assert_int_equal(set(&c, "thermal", "level_freq_step", "0"), 0);
	assert_int_equal(set(&c, "battery", "low_workers_ratio", "1"), 0);
	assert_int_equal(set(&c, "autoscale", "target_utilization", "0"), 0);
	bad("thermal", "level_freq_step", "1.5", "must be between 0 and 1");
	bad("dvfs", "memory_bound_miss_ratio", "-0.1", "must be between 0 and 1");
	bad("autoscale", "tolerance_up", "1.1", "must be between 0 and 1");
	bad("autoscale", "tolerance_down", "-1", "must be between 0 and 1");
	/* Percentages. */
	assert_int_equal(set(&c, "battery", "low_pct", "100"), 0);
	assert_int_equal(set(&c, "battery", "critical_pct", "0"), 0);
	bad("battery", "low_pct", "101", "must be between 0 and 100");
	bad("battery", "critical_pct", "-1", "must be between 0 and 100");
	bad("autoscale", "down_percent", "100.5", "must be between 0 and 100");
	assert_int_equal(set(&c, "autoscale", "up_percent", "900"), 0);
	assert_true(c.up_percent == 900);
	bad("autoscale", "up_percent", "1001", "must be between 0 and 1000");
	/* PID gains, temperatures. */
	bad("thermal", "pid_ki", "101", "must be between 0 and 100");
	bad("thermal", "pid_kd", "-0.1", "must be between 0 and 100");
	bad("thermal", "max_trip_c", "0", "must be between 1 and 1000");
	bad("thermal", "margin_c", "-1", "must be between 0 and 100");
	/* target_c: a number, or empty for "derive it". */
	assert_int_equal(set(&c, "thermal", "target_c", "85.5"), 0);
	assert_true(c.target_c == 85.5);
	assert_int_equal(set(&c, "thermal", "target_c", ""), 0);
	assert_true(isnan(c.target_c));
	bad("thermal", "target_c", "hot", "'hot' is not a number (or empty)");
	bad("thermal", "target_c", "-5", "must be between 0 and 1000");
}

static void enums(void **state)
{
	struct pol_config c;
	pol_config_defaults(&c);
	assert_int_equal(set(&c, "policy", "profile", "performance"), 0);
	assert_int_equal(c.profile, POL_PERFORMANCE);
	assert_int_equal(set(&c, "policy", "profile", "power-saver"), 0);
	assert_int_equal(c.profile, POL_POWER_SAVER);
	bad("policy", "profile", "turbo", "must be one of power-saver, balanced, performance");
	bad("policy", "profile", "", "must be one of power-saver, balanced, performance");
	assert_int_equal(set(&c, "thermal", "mode", "pid"), 0);
	assert_int_equal(c.thermal_mode, POL_THERMAL_PID);
	bad("thermal", "mode", "PID", "must be one of step, pid");
	assert_int_equal(set(&c, "affinity", "interactive", "any"), 0);
	assert_int_equal(set(&c, "affinity", "normal", "efficiency"), 0);
	assert_int_equal(set(&c, "affinity", "batch", "performance"), 0);
	assert_int_equal(c.place[0], POL_PLACE_ANY);
	assert_int_equal(c.place[1], POL_PLACE_EFFICIENCY);
	assert_int_equal(c.place[2], POL_PLACE_PERFORMANCE);
	bad("affinity", "batch", "little", "must be one of any, performance, efficiency");
}

static void unknown(void **state)
{
	struct pol_config c;
	pol_config_defaults(&c);
	assert_int_equal(set(&c, "policy", "colour", "red"), -ENOENT);
	assert_string_equal(reason, "unknown key");
	assert_int_equal(set(&c, "daemon", "socket", "/x"), -ENOENT);
	assert_string_equal(reason, "unknown section");
	/* Keys belong to their section only. */
	assert_int_equal(set(&c, "dvfs", "low_pct", "10"), -ENOENT);
	assert_string_equal(reason, "unknown key");
	assert_int_equal(set(&c, "battery", "zone.acpitz", "80"), -ENOENT);
	assert_int_equal(set(&c, "thermal", "zone", "80"), -ENOENT);
}

static void zone_rules(void **state)
{
	struct pol_config c;
	pol_config_defaults(&c);
	assert_int_equal(set(&c, "thermal", "zone.acpitz", "80,95"), 0);
	assert_int_equal(set(&c, "thermal", "zone.x86_pkg_temp", ",100"), 0);
	assert_int_equal(set(&c, "thermal", "zone.soc-thermal", "70"), 0);
	assert_int_equal(set(&c, "thermal", "zone.B0", "70.5,"), 0);
	assert_int_equal(c.n_zone_rules, 4);
	assert_string_equal(c.zone_rules[0].type, "acpitz");
	assert_true(c.zone_rules[0].passive_c == 80 && c.zone_rules[0].critical_c == 95);
	assert_string_equal(c.zone_rules[1].type, "x86_pkg_temp");
	assert_true(isnan(c.zone_rules[1].passive_c) && c.zone_rules[1].critical_c == 100);
	assert_true(c.zone_rules[2].passive_c == 70 && isnan(c.zone_rules[2].critical_c));
	assert_true(c.zone_rules[3].passive_c == 70.5 && isnan(c.zone_rules[3].critical_c));

	/* A repeated type replaces its rule in place. */
	assert_int_equal(set(&c, "thermal", "zone.acpitz", "85,97"), 0);
	assert_int_equal(c.n_zone_rules, 4);
	assert_true(c.zone_rules[0].passive_c == 85 && c.zone_rules[0].critical_c == 97);
	/* A rule that overrides nothing removes the type's rule. */
	assert_int_equal(set(&c, "thermal", "zone.soc-thermal", ","), 0);
	assert_int_equal(c.n_zone_rules, 3);
	assert_string_equal(c.zone_rules[2].type, "B0");
	assert_int_equal(set(&c, "thermal", "zone.nothere", ""), 0);
	assert_int_equal(c.n_zone_rules, 3);

	bad("thermal", "zone.acpitz", "hot", "is not PASSIVE[,CRITICAL]");
	bad("thermal", "zone.acpitz", "80,95,99", "is not PASSIVE[,CRITICAL]");
	bad("thermal", "zone.acpitz", "80;95", "is not PASSIVE[,CRITICAL]");
	bad("thermal", "zone.acpitz", "-5,95", "is not PASSIVE[,CRITICAL]");
	bad("thermal", "zone.acpitz", "nan", "is not PASSIVE[,CRITICAL]");
	bad("thermal", "zone.acpitz", "96,95", "must be below the critical one");
	bad("thermal", "zone.", "80", "zone types are 1 to 31");
	bad("thermal", "zone.a b", "80", "zone types are 1 to 31");
	bad("thermal", "zone.a.b", "80", "zone types are 1 to 31");
	bad("thermal", "zone.0123456789012345678901234567890123", "80", "zone types are 1 to 31");
	assert_int_equal(set(&c, "thermal", "zone.0123456789012345678901234567890", "80"), 0);

	/* At most POL_ZONE_RULES. */
	pol_config_defaults(&c);
	char key[32];
	for (int i = 0; i < POL_ZONE_RULES; i++) {
		snprintf(key, sizeof(key), "zone.z%d", i);
		assert_int_equal(set(&c, "thermal", key, "80"), 0);
	}
	assert_int_equal(set(&c, "thermal", "zone.one_more", "80"), -EINVAL);
	assert_string_equal(reason, "more than 8 zone rules");
	assert_int_equal(set(&c, "thermal", "zone.z3", "81"), 0); /* replacing still works */
	assert_int_equal(c.n_zone_rules, POL_ZONE_RULES);
}

static void check_rules(void **state)
{
	struct pol_config c;
	pol_config_defaults(&c);
	assert_int_equal(set(&c, "battery", "critical_pct", "25"), 0);
	assert_int_equal(pol_config_check(&c, reason, sizeof(reason)), -EINVAL);
	assert_string_equal(reason, "[battery] critical_pct: must not exceed low_pct (20)");
	assert_int_equal(set(&c, "battery", "critical_pct", "20"), 0); /* equal is fine */
	assert_int_equal(pol_config_check(&c, reason, sizeof(reason)), 0);

	assert_int_equal(set(&c, "autoscale", "min_workers", "6"), 0);
	assert_int_equal(pol_config_check(&c, reason, sizeof(reason)), 0); /* max 0: all */
	assert_int_equal(set(&c, "autoscale", "max_workers", "4"), 0);
	assert_int_equal(pol_config_check(&c, reason, sizeof(reason)), -EINVAL);
	assert_string_equal(reason, "[autoscale] min_workers: must not exceed max_workers (4)");
	assert_int_equal(set(&c, "autoscale", "max_workers", "6"), 0);
	assert_int_equal(pol_config_check(&c, reason, sizeof(reason)), 0);

	/* Hysteresis wider than the margin is allowed. */
	assert_int_equal(set(&c, "thermal", "hysteresis_c", "20"), 0);
	assert_int_equal(pol_config_check(&c, reason, sizeof(reason)), 0);
}

/* Every key of json set from its text form into c. */
static void set_from_json(struct pol_config *c, const cJSON *j)
{
	const cJSON *sec, *k;
	cJSON_ArrayForEach(sec, j) {
		cJSON_ArrayForEach(k, sec) {
			char text[64];
			if (cJSON_IsBool(k))
				snprintf(text, sizeof(text), "%s",
					 cJSON_IsTrue(k) ? "true" : "false");
			else if (cJSON_IsNumber(k))
				snprintf(text, sizeof(text), "%.17g", k->valuedouble);
			else if (cJSON_IsString(k))
				snprintf(text, sizeof(text), "%s", k->valuestring);
			else if (cJSON_IsNull(k))
				text[0] = '\0';
			else
				fail_msg("%s.%s: unexpected JSON type", sec->string, k->string);
			if (set(c, sec->string, k->string, text) != 0)
				fail_msg("%s.%s = '%s': %s", sec->string, k->string, text, reason);
		}
	}
}

static void json_types(void **state)
{
	struct pol_config c;
	pol_config_defaults(&c);
	assert_int_equal(set(&c, "thermal", "zone.acpitz", "80,95"), 0);
	assert_int_equal(set(&c, "thermal", "zone.x86_pkg_temp", ",100.5"), 0);
	assert_int_equal(set(&c, "thermal", "zone.soc", "70"), 0);
	cJSON *j = pol_config_json(&c);
	assert_non_null(j);
	assert_int_equal(cJSON_GetArraySize(j), 6);
	const cJSON *pol = cJSON_GetObjectItem(j, "policy");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(pol, "enabled")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(pol, "dry_run")));
	assert_string_equal(cJSON_GetObjectItem(pol, "profile")->valuestring, "balanced");
	assert_int_equal(cJSON_GetObjectItem(pol, "explain_history")->valueint, 256);
	const cJSON *th = cJSON_GetObjectItem(j, "thermal");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(th, "target_c")));
	assert_string_equal(cJSON_GetObjectItem(th, "mode")->valuestring, "step");
	assert_true(cJSON_GetObjectItem(th, "pid_kp")->valuedouble == 0.05);
	assert_string_equal(cJSON_GetObjectItem(th, "zone.acpitz")->valuestring, "80,95");
	assert_string_equal(cJSON_GetObjectItem(th, "zone.x86_pkg_temp")->valuestring, ",100.5");
	assert_string_equal(cJSON_GetObjectItem(th, "zone.soc")->valuestring, "70");
	const cJSON *af = cJSON_GetObjectItem(j, "affinity");
	assert_string_equal(cJSON_GetObjectItem(af, "interactive")->valuestring, "performance");
	assert_string_equal(cJSON_GetObjectItem(af, "normal")->valuestring, "any");
	assert_string_equal(cJSON_GetObjectItem(af, "batch")->valuestring, "efficiency");
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(af, "efficiency_capacity_pct")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "dvfs"), "enabled")));

	/* Each section on its own is the same object. */
	for (size_t i = 0; pol_config_sections[i]; i++) {
		cJSON *s = pol_config_section_json(&c, pol_config_sections[i]);
		assert_true(cJSON_Compare(s, cJSON_GetObjectItem(j, pol_config_sections[i]), 1));
		cJSON_Delete(s);
	}
	assert_null(pol_config_section_json(&c, "daemon"));
	cJSON_Delete(j);
}

/* Values unlike the defaults, for every key. */
static void set_everything(struct pol_config *c)
{
	static const char *const kv[][3] = {
		{ "policy", "enabled", "false" },
		{ "policy", "dry_run", "yes" },
		{ "policy", "restore_on_exit", "off" },
		{ "policy", "profile", "performance" },
		{ "policy", "explain_history", "17" },
		{ "policy", "autotune", "false" },
		{ "dvfs", "enabled", "0" },
		{ "dvfs", "idle_s", "12.25" },
		{ "dvfs", "busy_s", "0.1" },
		{ "dvfs", "hold_s", "7" },
		{ "dvfs", "power_saver_freq_ratio", "0.55" },
		{ "dvfs", "idle_freq_ratio", "0.3" },
		{ "dvfs", "memory_bound", "false" },
		{ "dvfs", "memory_bound_ipc", "1.1" },
		{ "dvfs", "memory_bound_miss_ratio", "0.45" },
		{ "dvfs", "memory_bound_freq_ratio", "0.65" },
		{ "dvfs", "memory_bound_enter_s", "4" },
		{ "dvfs", "memory_bound_exit_s", "6.5" },
		{ "thermal", "enabled", "no" },
		{ "thermal", "mode", "pid" },
		{ "thermal", "margin_c", "4" },
		{ "thermal", "hysteresis_c", "2.5" },
		{ "thermal", "cooldown_s", "30" },
		{ "thermal", "max_level", "8" },
		{ "thermal", "level_freq_step", "0.07" },
		{ "thermal", "min_freq_ratio", "0.33" },
		{ "thermal", "max_trip_c", "130" },
		{ "thermal", "target_c", "77.7" },
		{ "thermal", "pid_kp", "0.1" },
		{ "thermal", "pid_ki", "0.01" },
		{ "thermal", "pid_kd", "0.3" },
		{ "thermal", "zone.acpitz", "80,95" },
		{ "thermal", "zone.x86_pkg_temp", ",100" },
		{ "thermal", "zone.gpu", "66.6" },
		{ "battery", "enabled", "off" },
		{ "battery", "low_pct", "30" },
		{ "battery", "critical_pct", "8" },
		{ "battery", "low_workers_ratio", "0.25" },
		{ "autoscale", "enabled", "false" },
		{ "autoscale", "min_workers", "2" },
		{ "autoscale", "max_workers", "12" },
		{ "autoscale", "target_utilization", "0.7" },
		{ "autoscale", "target_queue_per_worker", "3.5" },
		{ "autoscale", "target_queue_p95_s", "0.25" },
		{ "autoscale", "tolerance_up", "0.05" },
		{ "autoscale", "tolerance_down", "0.2" },
		{ "autoscale", "up_window_s", "5" },
		{ "autoscale", "down_window_s", "120" },
		{ "autoscale", "up_percent", "50" },
		{ "autoscale", "up_workers", "2" },
		{ "autoscale", "up_period_s", "10" },
		{ "autoscale", "down_workers", "3" },
		{ "autoscale", "down_percent", "10" },
		{ "autoscale", "down_period_s", "30" },
		{ "affinity", "enabled", "false" },
		{ "affinity", "interactive", "any" },
		{ "affinity", "normal", "efficiency" },
		{ "affinity", "batch", "performance" },
		{ "affinity", "heavy_ms", "12.5" },
		{ "affinity", "efficiency_capacity_pct", "60" },
	};
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		if (set(c, kv[i][0], kv[i][1], kv[i][2]) != 0)
			fail_msg("[%s] %s = %s: %s", kv[i][0], kv[i][1], kv[i][2], reason);
}

static void json_round_trip(void **state)
{
	struct pol_config a, b;
	pol_config_defaults(&a);
	set_everything(&a);

	/* Every key differs from the defaults: diff names them all. */
	pol_config_defaults(&b);
	cJSON *changed = cJSON_CreateArray();
	pol_config_diff(&b, &a, changed);
	cJSON *ja = pol_config_json(&a);
	size_t n_keys = 0;
	const cJSON *sec, *k;
	cJSON_ArrayForEach(sec, ja) {
		cJSON_ArrayForEach(k, sec) {
			if (strncmp(k->string, "zone.", 5) != 0)
				n_keys++;
		}
	}
	assert_int_equal(cJSON_GetArraySize(changed), (int)n_keys + 1); /* + thermal.zone */
	cJSON_Delete(changed);

	/* Defaults, then every key from a's JSON: the same settings. */
	set_from_json(&b, ja);
	cJSON *jb = pol_config_json(&b);
	if (!cJSON_Compare(ja, jb, 1)) {
		char *ta = cJSON_Print(ja), *tb = cJSON_Print(jb);
		fail_msg("JSON differs:\n%s\n%s", ta, tb);
	}
	changed = cJSON_CreateArray();
	pol_config_diff(&a, &b, changed);
	assert_int_equal(cJSON_GetArraySize(changed), 0);
	cJSON_Delete(changed);
	cJSON_Delete(jb);

	/* And the defaults survive the trip too (target_c null → NAN). */
	struct pol_config d, e;
	pol_config_defaults(&d);
	e = a;
	cJSON *jd = pol_config_json(&d);
	set_from_json(&e, jd);
	assert_true(isnan(e.target_c));
	cJSON *je = pol_config_json(&e);
	/* a's zone rules are still in e: rules are only added or replaced. */
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(je, "thermal"), "zone.acpitz");
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(je, "thermal"), "zone.x86_pkg_temp");
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(je, "thermal"), "zone.gpu");
	assert_true(cJSON_Compare(jd, je, 1));
	cJSON_Delete(jd);
	cJSON_Delete(je);
	cJSON_Delete(ja);
}

/* Numbers that print with many digits still read back exactly. */
static void json_exact_numbers(void **state)
{
	struct pol_config a, b;
	pol_config_defaults(&a);
	pol_config_defaults(&b);
	assert_int_equal(set(&a, "dvfs", "idle_s", "0.1234567890123456789"), 0);
	assert_int_equal(set(&a, "thermal", "zone.acpitz", "80.123456789012345,95.3"), 0);
	cJSON *ja = pol_config_json(&a);
	set_from_json(&b, ja);
	assert_true(a.idle_s == b.idle_s);
	assert_true(a.zone_rules[0].passive_c == b.zone_rules[0].passive_c);
	assert_true(b.zone_rules[0].critical_c == 95.3);
	cJSON_Delete(ja);
}

static bool has(const cJSON *arr, const char *s)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr) {
		if (strcmp(e->valuestring, s) == 0)
			return true;
	}
	return false;
}

static void diff(void **state)
{
	struct pol_config a, b;
	pol_config_defaults(&a);
	pol_config_defaults(&b);
	cJSON *changed = cJSON_CreateArray();
	pol_config_diff(&a, &b, changed);
	assert_int_equal(cJSON_GetArraySize(changed), 0);

	assert_int_equal(set(&b, "battery", "low_pct", "25"), 0);
	assert_int_equal(set(&b, "affinity", "batch", "any"), 0);
	assert_int_equal(set(&b, "thermal", "target_c", "80"), 0);
	assert_int_equal(set(&b, "dvfs", "enabled", "off"), 0);
	assert_int_equal(set(&b, "thermal", "zone.acpitz", "80,95"), 0);
	assert_int_equal(set(&b, "thermal", "zone.cpu", "70"), 0);
	pol_config_diff(&a, &b, changed);
	assert_int_equal(cJSON_GetArraySize(changed), 5);
	assert_true(has(changed, "battery.low_pct"));
	assert_true(has(changed, "affinity.batch"));
	assert_true(has(changed, "thermal.target_c"));
	assert_true(has(changed, "dvfs.enabled"));
	assert_true(has(changed, "thermal.zone"));
	cJSON_Delete(changed);

	/* Zone rules compare as a set: the order they were given in is no change. */
	assert_int_equal(set(&a, "thermal", "zone.cpu", "70"), 0);
	assert_int_equal(set(&a, "thermal", "zone.acpitz", "80,95"), 0);
	a.low_pct = b.low_pct;
	a.place[2] = b.place[2];
	a.target_c = b.target_c;
	a.dvfs = b.dvfs;
	changed = cJSON_CreateArray();
	pol_config_diff(&a, &b, changed);
	assert_int_equal(cJSON_GetArraySize(changed), 0);
	/* ... but a changed trip is. */
	assert_int_equal(set(&a, "thermal", "zone.cpu", "70,90"), 0);
	pol_config_diff(&a, &b, changed);
	assert_int_equal(cJSON_GetArraySize(changed), 1);
	assert_string_equal(cJSON_GetArrayItem(changed, 0)->valuestring, "thermal.zone");
	cJSON_Delete(changed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(names),
		cmocka_unit_test(booleans),
		cmocka_unit_test(numbers),
		cmocka_unit_test(ranges),
		cmocka_unit_test(enums),
		cmocka_unit_test(unknown),
		cmocka_unit_test(zone_rules),
		cmocka_unit_test(check_rules),
		cmocka_unit_test(json_types),
		cmocka_unit_test(json_round_trip),
		cmocka_unit_test(json_exact_numbers),
		cmocka_unit_test(diff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
