/* Unit tests for policies/profile.c: cpufreq style detection, the profile
 * in force (force, holds, base), the EPP ladder for each profile × power
 * source × DVFS level with the nearest offered rung, generic governors and
 * max frequency, caps lowering and restoring max_hz, platform_profile
 * fallbacks, and profile + DVFS over simulated time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policies/dvfs.h"
#include "policies/profile.h"

#define GHZ 1e9

/* Big structs: one of each, reset per test. */
static struct pol_inputs in;
static struct pol_plan plan;
static struct pol_config cfg;

/* --- inputs ------------------------------------------------------------------ */

static void add_word(char (*list)[POL_WORD], size_t *n, const char *words)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", words);
	*n = 0;
	for (char *save = NULL, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		snprintf(list[(*n)++], POL_WORD, "%s", w);
}

static void set_cpus(size_t n, double hw_max, const char *epp, const char *gov)
{
	in.n_cpus = n;
	for (size_t i = 0; i < n; i++) {
		struct pol_cpu *c = &in.cpus[i];
		memset(c, 0, sizeof(*c));
		c->cpu = (int)i;
		c->online = true;
		c->capacity = -1;
		c->cur_hz = 1.2 * GHZ;
		c->min_hz = 0.4 * GHZ;
		c->max_hz = hw_max;
		c->hw_min_hz = 0.4 * GHZ;
		c->hw_max_hz = hw_max;
		snprintf(c->epp, sizeof(c->epp), "%s", epp);
		snprintf(c->governor, sizeof(c->governor), "%s", gov);
	}
}

static void reset(void)
{
	memset(&in, 0, sizeof(in));
	memset(&plan, 0, sizeof(plan));
	pol_config_defaults(&cfg);
	in.cycles = in.instructions = in.cache_references = in.cache_misses = NAN;
	in.busy_avg = in.jobs_per_s = in.latency_p99_s = in.queue_p95_s = NAN;
	in.joules_per_inference = NAN;
}

/* The laptop fixture: intel_pstate in active mode with HWP (policy0). */
static void intel_pstate(size_t ncpus)
{
	reset();
	in.cpufreq_available = true;
	snprintf(in.driver, sizeof(in.driver), "intel_pstate");
	add_word(in.epp_choices, &in.n_epp_choices,
		 "default performance balance_performance balance_power power");
	add_word(in.governor_choices, &in.n_governor_choices, "performance powersave");
	set_cpus(ncpus, 4.7 * GHZ, "balance_performance", "powersave");
}

static void acpi_cpufreq(size_t ncpus)
{
	reset();
	in.cpufreq_available = true;
	snprintf(in.driver, sizeof(in.driver), "acpi-cpufreq");
	add_word(in.governor_choices, &in.n_governor_choices,
		 "conservative ondemand userspace powersave performance schedutil");
	set_cpus(ncpus, 3.0 * GHZ, "", "schedutil");
}

static void supplies(bool on_battery)
{
	in.battery_available = true;
	in.n_supplies = 2;
	struct pol_supply *ac = &in.supplies[0], *bat = &in.supplies[1];
	memset(ac, 0, sizeof(*ac));
	snprintf(ac->name, sizeof(ac->name), "AC");
	snprintf(ac->type, sizeof(ac->type), "Mains");
	ac->online = on_battery ? 0 : 1;
	ac->capacity_pct = ac->energy_wh = ac->power_w = ac->time_to_empty_s = NAN;
	memset(bat, 0, sizeof(*bat));
	snprintf(bat->name, sizeof(bat->name), "BAT0");
	snprintf(bat->type, sizeof(bat->type), "Battery");
	snprintf(bat->status, sizeof(bat->status), "%s", on_battery ? "Discharging" : "Charging");
	bat->online = -1;
	bat->capacity_pct = 60;
	bat->energy_wh = bat->power_w = bat->time_to_empty_s = NAN;
}

/* profile_step then the targets, for one profile and DVFS level. */
static void run(enum pol_profile base, const struct pol_holds *h, enum pol_dvfs_level level)
{
	pol_plan_init(&plan, &in, base);
	pol_profile_step(&cfg, &in, base, h, &plan);
	plan.dvfs_level = level;
	pol_cpufreq_targets(&cfg, &in, &plan);
}

static void assert_contains(const char *s, const char *sub)
{
	if (!strstr(s, sub))
		fail_msg("'%s' does not contain '%s'", s, sub);
}

static bool has_note(const char *sub)
{
	for (size_t i = 0; i < plan.n_notes; i++)
		if (strstr(plan.notes[i], sub))
			return true;
	return false;
}

/* --- style ------------------------------------------------------------------- */

static void test_style_detection(void **state)
{
	(void)state;
	intel_pstate(4);
	assert_int_equal(pol_cpufreq_style(&in), POL_STYLE_EPP);
	assert_string_equal(pol_cpufreq_style_name(POL_STYLE_EPP), "epp");

	snprintf(in.driver, sizeof(in.driver), "amd-pstate-epp");
	assert_int_equal(pol_cpufreq_style(&in), POL_STYLE_EPP);

	/* amd-pstate in passive/guided mode and intel_cpufreq take governors */
	snprintf(in.driver, sizeof(in.driver), "amd-pstate");
	assert_int_equal(pol_cpufreq_style(&in), POL_STYLE_GENERIC);
	snprintf(in.driver, sizeof(in.driver), "intel_cpufreq");
	assert_int_equal(pol_cpufreq_style(&in), POL_STYLE_GENERIC);

	/* intel_pstate without HWP: no EPP choices, or no CPU with an EPP */
	intel_pstate(4);
	in.n_epp_choices = 0;
	assert_int_equal(pol_cpufreq_style(&in), POL_STYLE_GENERIC);
	intel_pstate(4);
	for (size_t i = 0; i < in.n_cpus; i++)
		in.cpus[i].epp[0] = '\0';
	assert_int_equal(pol_cpufreq_style(&in), POL_STYLE_GENERIC);
	/* one CPU with an EPP is enough */
	snprintf(in.cpus[2].epp, POL_WORD, "balance_power");
	assert_int_equal(pol_cpufreq_style(&in), POL_STYLE_EPP);

	acpi_cpufreq(2);
	assert_int_equal(pol_cpufreq_style(&in), POL_STYLE_GENERIC);
	assert_string_equal(pol_cpufreq_style_name(POL_STYLE_GENERIC), "governor");

	/* no cpufreq (a VM) */
	acpi_cpufreq(2);
	in.cpufreq_available = false;
	assert_int_equal(pol_cpufreq_style(&in), POL_STYLE_NONE);
	assert_string_equal(pol_cpufreq_style_name(POL_STYLE_NONE), "none");
	/* cpufreq said available but with no driver, governor or CPU */
	reset();
	in.cpufreq_available = true;
	set_cpus(2, 3.0 * GHZ, "", "");
	assert_int_equal(pol_cpufreq_style(&in), POL_STYLE_NONE);
	acpi_cpufreq(0);
	assert_int_equal(pol_cpufreq_style(&in), POL_STYLE_NONE);
}

static void test_style_none_leaves_cpus_alone(void **state)
{
	(void)state;
	acpi_cpufreq(2);
	in.cpufreq_available = false;
	run(POL_POWER_SAVER, NULL, POL_DVFS_IDLE);
	assert_int_equal(plan.profile, POL_POWER_SAVER);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(plan.cpu[i].governor, "");
		assert_string_equal(plan.cpu[i].epp, "");
		assert_true(isnan(plan.cpu[i].max_hz));
	}
	assert_int_equal(plan.n_notes, 0); /* a VM without cpufreq is normal */

	reset();
	in.cpufreq_available = true;
	set_cpus(2, 3.0 * GHZ, "", "");
	run(POL_BALANCED, NULL, POL_DVFS_NORMAL);
	assert_true(isnan(plan.cpu[0].max_hz));
	assert_true(has_note("cpufreq targets skipped"));
}

/* --- the profile in force -------------------------------------------------------- */

static void test_holds_precedence(void **state)
{
	(void)state;
	intel_pstate(2);
	struct pol_holds none = { 0, 0 }, perf = { 0, 1 }, saver = { 1, 0 }, both = { 2, 3 };

	run(POL_BALANCED, &none, POL_DVFS_NORMAL);
	assert_int_equal(plan.profile, POL_BALANCED);
	assert_true(plan.profile_why.set);
	assert_int_equal(plan.profile_why.by, POL_SRC_PROFILE);
	assert_string_equal(plan.profile_why.why, "base profile");

	run(POL_PERFORMANCE, NULL, POL_DVFS_NORMAL);
	assert_int_equal(plan.profile, POL_PERFORMANCE);
	assert_string_equal(plan.profile_why.why, "base profile");

	run(POL_BALANCED, &perf, POL_DVFS_NORMAL);
	assert_int_equal(plan.profile, POL_PERFORMANCE);
	assert_string_equal(plan.profile_why.why, "a performance hold");

	run(POL_PERFORMANCE, &saver, POL_DVFS_NORMAL);
	assert_int_equal(plan.profile, POL_POWER_SAVER);
	assert_string_equal(plan.profile_why.why, "a power-saver hold");

	/* power-saver beats performance, as in power-profiles-daemon */
	run(POL_BALANCED, &both, POL_DVFS_NORMAL);
	assert_int_equal(plan.profile, POL_POWER_SAVER);
	assert_string_equal(plan.profile_why.why, "a power-saver hold");
	assert_int_equal(plan.profile_why.by, POL_SRC_PROFILE);

	/* a safety force beats every hold and keeps its source and reason */
	pol_plan_init(&plan, &in, POL_PERFORMANCE);
	pol_force_power_saver(&plan, POL_SRC_BATTERY, "on battery at 18%% (low at 20%%)");
	pol_profile_step(&cfg, &in, POL_PERFORMANCE, &perf, &plan);
	assert_int_equal(plan.profile, POL_POWER_SAVER);
	assert_int_equal(plan.profile_why.by, POL_SRC_BATTERY);
	assert_string_equal(plan.profile_why.why, "on battery at 18% (low at 20%)");

	pol_plan_init(&plan, &in, POL_BALANCED);
	pol_force_power_saver(&plan, POL_SRC_THERMAL, "zone 0 critical");
	pol_profile_step(&cfg, &in, POL_BALANCED, &none, &plan);
	assert_int_equal(plan.profile, POL_POWER_SAVER);
	assert_int_equal(plan.profile_why.by, POL_SRC_THERMAL);
}

/* --- EPP style --------------------------------------------------------------------- */

static void test_epp_table(void **state)
{
	(void)state;
	/* [profile][battery][idle, normal, boost], from the spec */
	static const char *const want[3][2][3] = {
		{ { "power", "power", "power" }, { "power", "power", "power" } },
		{ { "balance_power", "balance_performance", "performance" },
		  { "power", "balance_power", "balance_performance" } },
		{ { "balance_performance", "performance", "performance" },
		  { "balance_performance", "performance", "performance" } },
	};
	static const char *const lv[3] = { "idle", "normal", "boost" };
	unsigned checked = 0;
	for (int prof = 0; prof < POL_N_PROFILES; prof++) {
		for (int bat = 0; bat < 2; bat++) {
			for (int l = 0; l < 3; l++) {
				intel_pstate(4);
				supplies(bat);
				run((enum pol_profile)prof, NULL, (enum pol_dvfs_level)l);
				assert_int_equal(plan.n_cpu, 4);
				char why[128];
				snprintf(why, sizeof(why), "%s%s, %s: EPP %s",
					 pol_profile_name((enum pol_profile)prof),
					 bat ? " on battery" : "", lv[l], want[prof][bat][l]);
				for (size_t i = 0; i < 4; i++) {
					const struct pol_cpu_target *t = &plan.cpu[i];
					assert_string_equal(t->epp, want[prof][bat][l]);
					assert_string_equal(t->governor, "powersave");
					/* no cap: the full range (a lifted cap is undone) */
					assert_true(t->max_hz == 4.7 * GHZ);
					assert_true(t->why.set);
					assert_int_equal(t->why.by, POL_SRC_PROFILE);
					assert_string_equal(t->why.why, why);
					checked++;
				}
				assert_int_equal(plan.n_notes, 0);
			}
		}
	}
	assert_int_equal(checked, 3 * 2 * 3 * 4);

	/* same ladder on amd-pstate-epp, whose list has no "default" */
	intel_pstate(2);
	snprintf(in.driver, sizeof(in.driver), "amd-pstate-epp");
	add_word(in.epp_choices, &in.n_epp_choices,
		 "default performance balance_performance balance_power power");
	supplies(true);
	run(POL_BALANCED, NULL, POL_DVFS_IDLE);
	assert_string_equal(plan.cpu[1].epp, "power");
	assert_string_equal(plan.cpu[1].why.why, "balanced on battery, idle: EPP power");
}

static void test_epp_nearest(void **state)
{
	(void)state;
	/* balance_power missing: balanced idle on AC takes power (towards power
	 * on a tie between power and balance_performance) */
	intel_pstate(2);
	add_word(in.epp_choices, &in.n_epp_choices, "performance balance_performance power");
	run(POL_BALANCED, NULL, POL_DVFS_IDLE);
	assert_string_equal(plan.cpu[0].epp, "power");
	assert_string_equal(plan.cpu[0].why.why,
			    "balanced, idle: EPP power (nearest offered)");
	/* a wanted rung present: no "(nearest offered)" */
	run(POL_BALANCED, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[0].epp, "balance_performance");
	assert_string_equal(plan.cpu[0].why.why, "balanced, normal: EPP balance_performance");

	/* balance_performance missing: balance_power (towards power) */
	add_word(in.epp_choices, &in.n_epp_choices, "performance balance_power power");
	run(POL_BALANCED, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[0].epp, "balance_power");
	run(POL_PERFORMANCE, NULL, POL_DVFS_IDLE);
	assert_string_equal(plan.cpu[0].epp, "balance_power");

	/* power missing: power-saver takes the nearest, balance_power */
	add_word(in.epp_choices, &in.n_epp_choices, "performance balance_performance balance_power");
	run(POL_POWER_SAVER, NULL, POL_DVFS_BOOST);
	assert_string_equal(plan.cpu[1].epp, "balance_power");

	/* only performance: everything is performance */
	add_word(in.epp_choices, &in.n_epp_choices, "performance");
	for (int prof = 0; prof < POL_N_PROFILES; prof++) {
		run((enum pol_profile)prof, NULL, POL_DVFS_IDLE);
		assert_string_equal(plan.cpu[0].epp, "performance");
	}

	/* no rung of the ladder offered: EPP left alone */
	add_word(in.epp_choices, &in.n_epp_choices, "default");
	run(POL_BALANCED, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[0].epp, "");
	assert_string_equal(plan.cpu[0].governor, "powersave");
	assert_string_equal(plan.cpu[0].why.why, "balanced, normal: no usable EPP");
}

static void test_epp_offline_and_mixed(void **state)
{
	(void)state;
	intel_pstate(4);
	in.cpus[1].online = false;
	in.cpus[2].epp[0] = '\0';        /* a CPU whose EPP is not exposed */
	in.cpus[3].hw_max_hz = NAN;      /* range unknown */
	run(POL_BALANCED, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[0].epp, "balance_performance");
	assert_true(plan.cpu[0].max_hz == 4.7 * GHZ);
	/* offline: left alone entirely */
	assert_string_equal(plan.cpu[1].governor, "");
	assert_string_equal(plan.cpu[1].epp, "");
	assert_true(isnan(plan.cpu[1].max_hz));
	assert_string_equal(plan.cpu[1].why.why, "offline: left alone");
	assert_string_equal(plan.cpu[2].epp, "");
	assert_string_equal(plan.cpu[2].governor, "powersave");
	assert_string_equal(plan.cpu[3].epp, "balance_performance");
	assert_true(isnan(plan.cpu[3].max_hz));

	/* powersave not offered (odd list): governor left alone */
	add_word(in.governor_choices, &in.n_governor_choices, "performance");
	run(POL_BALANCED, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[0].governor, "");
	assert_string_equal(plan.cpu[0].epp, "balance_performance");
	/* no list at all: intel_pstate always has powersave */
	in.n_governor_choices = 0;
	run(POL_BALANCED, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[0].governor, "powersave");
}

static void test_epp_caps_lower_and_restore(void **state)
{
	(void)state;
	intel_pstate(2);
	supplies(false);

	/* thermal caps 70 %: 4.7 GHz × 0.7 = 3.29 GHz on every CPU */
	pol_plan_init(&plan, &in, POL_PERFORMANCE);
	pol_cap_freq(&plan, 0.7, POL_SRC_THERMAL, "zone 0 hot");
	pol_profile_step(&cfg, &in, POL_PERFORMANCE, NULL, &plan);
	plan.dvfs_level = POL_DVFS_BOOST;
	pol_cpufreq_targets(&cfg, &in, &plan);
	for (size_t i = 0; i < 2; i++) {
		assert_true(plan.cpu[i].max_hz == 3290000000.0);
		assert_string_equal(plan.cpu[i].epp, "performance");
		assert_string_equal(plan.cpu[i].why.why,
				    "performance, boost: EPP performance, max 70% of 4.7 GHz (thermal)");
	}

	/* memory-bound 0.5 is stricter than the thermal 0.7 */
	pol_plan_init(&plan, &in, POL_BALANCED);
	pol_cap_freq(&plan, 0.7, POL_SRC_BATTERY, "low battery");
	plan.mem_cap_ratio = 0.5;
	pol_profile_step(&cfg, &in, POL_BALANCED, NULL, &plan);
	pol_cpufreq_targets(&cfg, &in, &plan);
	assert_true(plan.cpu[0].max_hz == 2350000000.0);
	assert_contains(plan.cpu[0].why.why, "max 50% of 4.7 GHz (memory-bound)");

	/* the cap lifted: the full hw range comes back */
	run(POL_BALANCED, NULL, POL_DVFS_NORMAL);
	assert_true(plan.cpu[0].max_hz == 4.7 * GHZ);
	assert_true(plan.cpu[1].max_hz == 4.7 * GHZ);

	/* EPP style ignores the generic profile and idle ratios */
	run(POL_POWER_SAVER, NULL, POL_DVFS_IDLE);
	assert_true(plan.cpu[0].max_hz == 4.7 * GHZ);

	/* a cap never takes max below hw min */
	pol_plan_init(&plan, &in, POL_BALANCED);
	pol_cap_freq(&plan, 0.05, POL_SRC_THERMAL, "absurd");
	pol_profile_step(&cfg, &in, POL_BALANCED, NULL, &plan);
	pol_cpufreq_targets(&cfg, &in, &plan);
	assert_true(plan.cpu[0].max_hz == 0.4 * GHZ);
}

/* --- generic style -------------------------------------------------------------------- */

static void test_generic_governor(void **state)
{
	(void)state;
	acpi_cpufreq(2);
	run(POL_BALANCED, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[0].governor, "schedutil");
	assert_string_equal(plan.cpu[0].epp, "");
	run(POL_POWER_SAVER, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[1].governor, "schedutil");
	run(POL_PERFORMANCE, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[1].governor, "performance");
	assert_string_equal(plan.cpu[1].why.why, "performance, normal: performance");

	add_word(in.governor_choices, &in.n_governor_choices, "performance conservative ondemand");
	run(POL_BALANCED, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[0].governor, "ondemand");
	add_word(in.governor_choices, &in.n_governor_choices, "performance conservative");
	run(POL_BALANCED, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[0].governor, "conservative");
	/* intel_pstate without HWP */
	add_word(in.governor_choices, &in.n_governor_choices, "performance powersave");
	run(POL_BALANCED, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[0].governor, "powersave");
	/* nothing suitable offered: keep the current governor */
	add_word(in.governor_choices, &in.n_governor_choices, "userspace performance");
	run(POL_POWER_SAVER, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[0].governor, "");
	add_word(in.governor_choices, &in.n_governor_choices, "userspace powersave");
	run(POL_PERFORMANCE, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[0].governor, "");
	/* empty list: keep the current one, but max_hz still applies */
	in.n_governor_choices = 0;
	run(POL_POWER_SAVER, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.cpu[0].governor, "");
	assert_true(plan.cpu[0].max_hz == 1.8 * GHZ);
	assert_string_equal(plan.cpu[0].why.why,
			    "power-saver, normal: governor kept, max 60% of 3.0 GHz (power-saver)");
}

static void test_generic_max_hz(void **state)
{
	(void)state;
	acpi_cpufreq(2);
	struct {
		enum pol_profile prof;
		enum pol_dvfs_level level;
		double hz;
	} rows[] = {
		{ POL_BALANCED, POL_DVFS_NORMAL, 3.0 * GHZ },
		{ POL_BALANCED, POL_DVFS_BOOST, 3.0 * GHZ },
		{ POL_BALANCED, POL_DVFS_IDLE, 2.4 * GHZ },    /* idle 0.8 */
		{ POL_POWER_SAVER, POL_DVFS_NORMAL, 1.8 * GHZ }, /* profile 0.6 */
		{ POL_POWER_SAVER, POL_DVFS_IDLE, 1.8 * GHZ },   /* min(0.6, 0.8) */
		{ POL_PERFORMANCE, POL_DVFS_IDLE, 3.0 * GHZ },   /* no idle cap */
		{ POL_PERFORMANCE, POL_DVFS_BOOST, 3.0 * GHZ },
	};
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		run(rows[r].prof, NULL, rows[r].level);
		for (size_t i = 0; i < 2; i++)
			if (plan.cpu[i].max_hz != rows[r].hz)
				fail_msg("row %zu cpu %zu: %.0f, want %.0f", r, i,
					 plan.cpu[i].max_hz, rows[r].hz);
	}
	run(POL_BALANCED, NULL, POL_DVFS_IDLE);
	assert_string_equal(plan.cpu[0].why.why,
			    "balanced, idle: schedutil, max 80% of 3.0 GHz (idle)");

	/* configured ratios */
	cfg.power_saver_freq_ratio = 0.5;
	cfg.idle_freq_ratio = 0.9;
	run(POL_POWER_SAVER, NULL, POL_DVFS_NORMAL);
	assert_true(plan.cpu[0].max_hz == 1.5 * GHZ);
	run(POL_BALANCED, NULL, POL_DVFS_IDLE);
	assert_true(plan.cpu[0].max_hz == 2.7 * GHZ);
	pol_config_defaults(&cfg);

	/* caps: thermal and memory-bound combine with the profile's, strictest wins */
	pol_plan_init(&plan, &in, POL_POWER_SAVER);
	pol_cap_freq(&plan, 0.5, POL_SRC_THERMAL, "hot");
	pol_profile_step(&cfg, &in, POL_POWER_SAVER, NULL, &plan);
	pol_cpufreq_targets(&cfg, &in, &plan);
	assert_true(plan.cpu[0].max_hz == 1.5 * GHZ);
	assert_contains(plan.cpu[0].why.why, "(thermal)");
	pol_plan_init(&plan, &in, POL_PERFORMANCE);
	plan.mem_cap_ratio = 0.7;
	pol_profile_step(&cfg, &in, POL_PERFORMANCE, NULL, &plan);
	pol_cpufreq_targets(&cfg, &in, &plan);
	assert_true(plan.cpu[0].max_hz == 2.1 * GHZ);
	assert_string_equal(plan.cpu[0].governor, "performance");
	/* lifted: back to the hw max */
	run(POL_PERFORMANCE, NULL, POL_DVFS_NORMAL);
	assert_true(plan.cpu[0].max_hz == 3.0 * GHZ);

	/* whole kHz, never below hw min */
	in.cpus[0].hw_max_hz = 3333333000.0;
	in.cpus[1].hw_min_hz = 2.0 * GHZ;
	run(POL_POWER_SAVER, NULL, POL_DVFS_NORMAL);
	assert_true(plan.cpu[0].max_hz == 2000000000.0); /* 1999999800 rounded */
	assert_true(fmod(plan.cpu[0].max_hz, 1000.0) == 0);
	assert_true(plan.cpu[1].max_hz == 2.0 * GHZ);     /* 1.8 GHz raised to hw min */

	/* offline and unknown range: no max_hz */
	acpi_cpufreq(3);
	in.cpus[1].online = false;
	in.cpus[2].hw_max_hz = NAN;
	run(POL_POWER_SAVER, NULL, POL_DVFS_NORMAL);
	assert_true(plan.cpu[0].max_hz == 1.8 * GHZ);
	assert_true(isnan(plan.cpu[1].max_hz));
	assert_string_equal(plan.cpu[1].governor, "");
	assert_true(isnan(plan.cpu[2].max_hz));
	assert_string_equal(plan.cpu[2].governor, "schedutil");
}

static void test_generic_hybrid(void **state)
{
	(void)state;
	/* P-cores at 5.0 GHz, E-cores at 3.8 GHz: each CPU from its own max */
	acpi_cpufreq(4);
	in.cpus[2].hw_max_hz = in.cpus[3].hw_max_hz = 3.8 * GHZ;
	in.cpus[0].hw_max_hz = in.cpus[1].hw_max_hz = 5.0 * GHZ;
	run(POL_POWER_SAVER, NULL, POL_DVFS_NORMAL);
	assert_true(plan.cpu[0].max_hz == 3.0 * GHZ);
	assert_true(plan.cpu[3].max_hz == 2280000000.0);
	assert_contains(plan.cpu[3].why.why, "of 3.8 GHz");
}

/* --- platform_profile ------------------------------------------------------------------- */

static void platform(const char *choices)
{
	in.platform_profile_available = true;
	snprintf(in.platform_profile, sizeof(in.platform_profile), "balanced");
	add_word(in.platform_choices, &in.n_platform_choices, choices);
}

static void test_platform_profile(void **state)
{
	(void)state;
	intel_pstate(1);
	platform("low-power balanced performance");
	run(POL_POWER_SAVER, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.platform_profile, "low-power");
	assert_true(plan.platform_why.set);
	assert_string_equal(plan.platform_why.why, "power-saver: low-power");
	run(POL_BALANCED, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.platform_profile, "balanced");
	run(POL_PERFORMANCE, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.platform_profile, "performance");

	/* fallbacks */
	platform("cool quiet balanced balanced-performance");
	run(POL_POWER_SAVER, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.platform_profile, "quiet");
	run(POL_PERFORMANCE, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.platform_profile, "balanced-performance");
	platform("cool balanced");
	run(POL_POWER_SAVER, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.platform_profile, "cool");
	assert_int_equal(plan.n_notes, 0);

	/* nothing fits: left alone, with a note */
	run(POL_PERFORMANCE, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.platform_profile, "");
	assert_true(has_note("platform_profile: no choice fits performance"));
	platform("low-power performance");
	run(POL_BALANCED, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.platform_profile, "");

	/* not available: left alone, no note */
	in.platform_profile_available = false;
	run(POL_POWER_SAVER, NULL, POL_DVFS_NORMAL);
	assert_string_equal(plan.platform_profile, "");
	assert_false(plan.platform_why.set);
	assert_int_equal(plan.n_notes, 0);
}

/* --- the engine's order over time --------------------------------------------------------- */

/* One engine tick of the parts this file owns. */
static void tick(struct pol_dvfs_state *st, enum pol_profile base, const struct pol_holds *h)
{
	pol_plan_init(&plan, &in, base);
	pol_profile_step(&cfg, &in, base, h, &plan);
	pol_dvfs_step(&cfg, &in, st, &plan);
	pol_cpufreq_targets(&cfg, &in, &plan);
}

static void test_profile_dvfs_over_time(void **state)
{
	(void)state;
	intel_pstate(2);
	supplies(false);
	in.daemon_available = true;
	in.workers = in.active = 2;
	in.pmu_available = false;
	snprintf(in.pmu_reason, sizeof(in.pmu_reason), "perf_event_paranoid is 3");
	struct pol_dvfs_state st;
	pol_dvfs_init(&st);
	unsigned epp_changes = 0;
	char last[POL_WORD] = "";

	for (int t = 0; t <= 60; t++) {
		in.time = 1000 + t;
		/* 0..14 idle, 15..24 a burst (queued), 25..39 idle, 40.. on battery */
		in.queued[1] = (t >= 15 && t < 25) ? 3 : 0;
		in.busy = (t >= 15 && t < 25) ? 2 : 0;
		if (t == 40)
			supplies(true);
		tick(&st, POL_BALANCED, NULL);
		const char *epp = plan.cpu[0].epp;
		if (strcmp(epp, last) != 0)
			epp_changes++;
		snprintf(last, sizeof(last), "%s", epp);

		if (t < 10)
			assert_string_equal(epp, "balance_performance");
		else if (t < 15)
			assert_string_equal(epp, "balance_power");      /* idle on AC */
		else if (t < 20) /* woke at once at 15; boost due at 18 but the
				  * wake's switch holds normal for 5 s */
			assert_string_equal(epp, "balance_performance");
		else if (t < 25)
			assert_string_equal(epp, "performance");
		if (t == 25)   /* queue empty: back to normal (boost held 20..24) */
			assert_string_equal(epp, "balance_performance");
		if (t >= 35 && t < 40)
			assert_string_equal(epp, "balance_power");
		if (t >= 40) /* on battery: idle leans to power */
			assert_string_equal(epp, "power");
		/* the PMU note every tick */
		assert_true(has_note("PMU unavailable (perf_event_paranoid is 3)"));
		assert_true(plan.cpu[1].max_hz == 4.7 * GHZ);
	}
	assert_int_equal(epp_changes, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_style_detection),
		cmocka_unit_test(test_style_none_leaves_cpus_alone),
		cmocka_unit_test(test_holds_precedence),
		cmocka_unit_test(test_epp_table),
		cmocka_unit_test(test_epp_nearest),
		cmocka_unit_test(test_epp_offline_and_mixed),
		cmocka_unit_test(test_epp_caps_lower_and_restore),
		cmocka_unit_test(test_generic_governor),
		cmocka_unit_test(test_generic_max_hz),
		cmocka_unit_test(test_generic_hybrid),
		cmocka_unit_test(test_platform_profile),
		cmocka_unit_test(test_profile_dvfs_over_time),
	};
	return cmocka_run_group_tests_name("policies/profile", tests, NULL, NULL);
}
