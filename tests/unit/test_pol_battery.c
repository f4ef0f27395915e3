/* Unit tests for policies/battery.c: the low and critical levels on a drain,
 * their hysteresis, AC restoring everything at once, the time-remaining
 * sources (kernel, energy/power, trend), desktops without a battery, and the
 * policy switched off. Inputs are built in C and time advances in 1 s ticks. */
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

#include "policies/battery.h"

/* --- fixture ----------------------------------------------------------------- */

struct env {
	struct pol_config c;
	struct pol_inputs in;
	struct pol_plan p;
	struct pol_battery_state st;
	double t;              /* the next tick's time */
	unsigned transitions;  /* level changes seen by tick() */
};

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	pol_config_defaults(&e->c);
	memset(&e->in, 0, sizeof(e->in));
	e->in.daemon_available = true;
	e->in.workers = 8;
	e->in.active = 8;
	e->in.busy_avg = NAN;
	e->in.jobs_per_s = NAN;
	e->in.latency_p99_s = NAN;
	e->in.queue_p95_s = NAN;
	e->in.joules_per_inference = NAN;
	e->in.cycles = e->in.instructions = NAN;
	e->in.cache_references = e->in.cache_misses = NAN;
	pol_battery_init(&e->st);
	e->t = 5000;
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	free(*state);
	return 0;
}

static struct pol_supply *supply_add(struct env *e, const char *name, const char *type,
				     const char *status, int online)
{
	e->in.battery_available = true;
	struct pol_supply *s = &e->in.supplies[e->in.n_supplies++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->type, sizeof(s->type), "%s", type);
	snprintf(s->status, sizeof(s->status), "%s", status);
	s->online = online;
	s->capacity_pct = s->energy_wh = s->power_w = s->time_to_empty_s = NAN;
	return s;
}

/* A laptop: AC adapter (index 0) and BAT0 (index 1), on battery at pct. */
static struct pol_supply *laptop(struct env *e, double pct)
{
	supply_add(e, "AC", "Mains", "", 0);
	struct pol_supply *b = supply_add(e, "BAT0", "Battery", "Discharging", -1);
	b->capacity_pct = pct;
	return b;
}

static void plug(struct env *e, bool ac)
{
	e->in.supplies[0].online = ac ? 1 : 0;
	snprintf(e->in.supplies[1].status, sizeof(e->in.supplies[1].status), "%s",
		 ac ? "Charging" : "Discharging");
}

static void tick(struct env *e)
{
	enum pol_battery_level before = e->st.level;
	e->in.time = e->t;
	pol_plan_init(&e->p, &e->in, POL_BALANCED);
	pol_battery_step(&e->c, &e->in, &e->st, &e->p);
	if (e->st.level != before)
		e->transitions++;
	e->t += 1;
}

static void ticks(struct env *e, int n)
{
	for (int i = 0; i < n; i++)
		tick(e);
}

static void assert_no_caps(const struct pol_plan *p)
{
	assert_true(p->freq_cap_ratio == 1.0);
	assert_int_equal(p->worker_cap, UINT32_MAX);
	assert_int_equal(p->classes, POL_CLASS_ALL);
	assert_false(p->force_power_saver);
	assert_int_equal(p->n_notes, 0);
}

static void assert_low_caps(const struct pol_plan *p, uint32_t workers)
{
	assert_true(p->force_power_saver);
	assert_int_equal(p->force_why.by, POL_SRC_BATTERY);
	assert_int_equal(p->worker_cap, workers);
	assert_int_equal(p->worker_cap_why.by, POL_SRC_BATTERY);
	assert_int_equal(p->classes, POL_CLASS_INTERACTIVE | POL_CLASS_NORMAL);
	assert_true(p->freq_cap_ratio == 1.0); /* power-saver does the rest */
}

/* --- levels ------------------------------------------------------------------ */

static void test_drain_low_critical_ac(void **state)
{
	struct env *e = *state;
	struct pol_supply *b = laptop(e, 100);
	double low_at = NAN, crit_at = NAN;
	for (int pct = 100; pct >= 3; pct--) {
		b->capacity_pct = pct;
		for (int i = 0; i < 10; i++) {
			tick(e);
			if (isnan(low_at) && e->st.level == POL_BAT_LOW)
				low_at = pct;
			if (isnan(crit_at) && e->st.level == POL_BAT_CRITICAL)
				crit_at = pct;
			if (pct > 20) {
				assert_int_equal(e->st.level, POL_BAT_NORMAL);
				assert_no_caps(&e->p);
			} else if (pct > 5) {
				assert_int_equal(e->st.level, POL_BAT_LOW);
				assert_low_caps(&e->p, 4);
			} else {
				assert_int_equal(e->st.level, POL_BAT_CRITICAL);
			}
		}
		if (pct == 40)
			assert_string_equal(e->st.why, "on battery at 40%");
		if (pct == 18) {
			const char *why = "on battery at 18% (low at 20%)";
			assert_string_equal(e->p.force_why.why, why);
			assert_string_equal(e->p.worker_cap_why.why, why);
			assert_string_equal(e->p.classes_why.why, why);
		}
	}
	assert_true(low_at == 20);
	assert_true(crit_at == 5);
	assert_int_equal(e->transitions, 2);
	assert_true(e->st.on_battery);
	assert_true(e->st.capacity_pct == 3);
	assert_true(e->p.force_power_saver);
	assert_int_equal(e->p.classes, POL_CLASS_INTERACTIVE);
	assert_int_equal(e->p.worker_cap, 4);
	assert_string_equal(e->p.classes_why.why, "on battery at 3% (critical at 5%)");

	/* AC back: everything lifted at once, whatever the charge. */
	plug(e, true);
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_NORMAL);
	assert_false(e->st.on_battery);
	assert_no_caps(&e->p);
	assert_string_equal(e->st.why, "on AC");
	assert_int_equal(e->transitions, 3);
	/* Unplugged again at 3%: critical at once. */
	plug(e, false);
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_CRITICAL);
}

static void test_low_hysteresis(void **state)
{
	struct env *e = *state;
	struct pol_supply *b = laptop(e, 25);
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_NORMAL);
	b->capacity_pct = 20;
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_LOW);
	/* A gauge wobbling between 19 and 22 keeps LOW. */
	static const double wobble[] = { 21, 19, 22, 20, 21.5, 19, 22, 21 };
	for (size_t i = 0; i < sizeof(wobble) / sizeof(wobble[0]); i++) {
		b->capacity_pct = wobble[i];
		ticks(e, 3);
		assert_int_equal(e->st.level, POL_BAT_LOW);
	}
	assert_string_equal(e->p.force_why.why, "on battery at 21% (low until above 22%)");
	assert_int_equal(e->transitions, 1);
	b->capacity_pct = 22.5;
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_NORMAL);
	assert_no_caps(&e->p);
	/* From NORMAL, 21 is not low. */
	b->capacity_pct = 21;
	ticks(e, 5);
	assert_int_equal(e->st.level, POL_BAT_NORMAL);
	assert_int_equal(e->transitions, 2);
}

static void test_critical_hysteresis(void **state)
{
	struct env *e = *state;
	struct pol_supply *b = laptop(e, 6);
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_LOW);
	b->capacity_pct = 5;
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_CRITICAL);
	b->capacity_pct = 7;
	ticks(e, 5);
	assert_int_equal(e->st.level, POL_BAT_CRITICAL);
	assert_int_equal(e->p.classes, POL_CLASS_INTERACTIVE);
	assert_string_equal(e->p.classes_why.why, "on battery at 7% (critical until above 7%)");
	b->capacity_pct = 6;
	ticks(e, 5);
	assert_int_equal(e->st.level, POL_BAT_CRITICAL);
	b->capacity_pct = 8;
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_LOW);
	assert_low_caps(&e->p, 4);
	assert_int_equal(e->transitions, 3);
	/* Back down: critical again at the threshold. */
	b->capacity_pct = 5;
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_CRITICAL);
	/* A recalibrated gauge jumping high leaves both levels at once. */
	b->capacity_pct = 60;
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_NORMAL);
	assert_no_caps(&e->p);
}

static void test_thresholds_from_config(void **state)
{
	struct env *e = *state;
	e->c.low_pct = 40;
	e->c.critical_pct = 15;
	e->c.low_workers_ratio = 0.3;
	struct pol_supply *b = laptop(e, 40);
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_LOW);
	assert_low_caps(&e->p, 2); /* floor(8 * 0.3) */
	assert_string_equal(e->p.force_why.why, "on battery at 40% (low at 40%)");
	b->capacity_pct = 15;
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_CRITICAL);
	/* At least one worker. */
	e->c.low_workers_ratio = 0.1;
	tick(e);
	assert_int_equal(e->p.worker_cap, 1);
	/* No workers known: no worker cap. */
	e->in.workers = 0;
	e->in.active = 0;
	tick(e);
	assert_int_equal(e->p.worker_cap, UINT32_MAX);
	assert_true(e->p.force_power_saver);
}

/* A battery discharging while the adapter is online (a load above the
 * adapter's rating) is not "on battery". */
static void test_discharging_on_ac(void **state)
{
	struct env *e = *state;
	laptop(e, 4);
	e->in.supplies[0].online = 1;
	ticks(e, 3);
	assert_false(e->st.on_battery);
	assert_int_equal(e->st.level, POL_BAT_NORMAL);
	assert_no_caps(&e->p);
	assert_true(isnan(e->st.time_remaining_s));
}

static void test_no_battery(void **state)
{
	struct env *e = *state;
	ticks(e, 5);
	assert_int_equal(e->st.level, POL_BAT_NORMAL);
	assert_false(e->st.on_battery);
	assert_true(isnan(e->st.capacity_pct));
	assert_true(isnan(e->st.time_remaining_s));
	assert_null(e->st.time_source);
	assert_no_caps(&e->p);
	assert_string_equal(e->st.why, "no battery");

	/* A desktop with a mains supply only. */
	supply_add(e, "AC", "Mains", "", 1);
	ticks(e, 5);
	assert_int_equal(e->st.level, POL_BAT_NORMAL);
	assert_no_caps(&e->p);
	assert_string_equal(e->st.why, "no battery");

	cJSON *j = pol_battery_json(&e->st);
	assert_non_null(j);
	char *s = cJSON_PrintUnformatted(j);
	assert_non_null(s);
	assert_string_equal(s, "{\"level\":\"normal\",\"on_battery\":false,\"capacity_pct\":null,"
			       "\"time_remaining_seconds\":null,\"time_remaining_source\":null,"
			       "\"joules_per_inference\":null,\"reason\":\"no battery\"}");
	free(s);
	cJSON_Delete(j);
}

static void test_charge_unknown(void **state)
{
	struct env *e = *state;
	struct pol_supply *b = laptop(e, 15);
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_LOW);
	b->capacity_pct = NAN;
	for (int i = 0; i < 3; i++) {
		tick(e);
		assert_int_equal(e->st.level, POL_BAT_LOW);
		assert_int_equal(e->p.n_notes, 1);
		assert_string_equal(e->p.notes[0],
				    "on battery but the charge is unknown: level low held");
		assert_int_equal(e->p.note_by[0], POL_SRC_BATTERY);
		assert_true(e->p.force_power_saver);
	}
	assert_true(isnan(e->st.capacity_pct));
}

static void test_disabled(void **state)
{
	struct env *e = *state;
	struct pol_supply *b = laptop(e, 3);
	b->time_to_empty_s = 600;
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_CRITICAL);
	e->c.battery = false;
	ticks(e, 5);
	assert_int_equal(e->st.level, POL_BAT_NORMAL);
	assert_no_caps(&e->p);
	assert_true(isnan(e->st.time_remaining_s));
	assert_null(e->st.time_source);
	assert_string_equal(e->st.why, "battery policy off");
	e->c.battery = true;
	tick(e);
	assert_int_equal(e->st.level, POL_BAT_CRITICAL);
}

/* --- estimates --------------------------------------------------------------- */

static void test_estimate_kernel(void **state)
{
	struct env *e = *state;
	struct pol_supply *b = laptop(e, 50);
	b->time_to_empty_s = 5400;
	b->energy_wh = 30;
	b->power_w = 10; /* the kernel's figure wins */
	tick(e);
	assert_true(e->st.time_remaining_s == 5400);
	assert_string_equal(e->st.time_source, "kernel");
	/* A second battery's time adds up. */
	struct pol_supply *b2 = supply_add(e, "BAT1", "Battery", "Discharging", -1);
	b2->capacity_pct = 80;
	b2->time_to_empty_s = 600;
	tick(e);
	assert_true(e->st.time_remaining_s == 6000);
	assert_true(e->st.capacity_pct == 50); /* the lowest */

	/* Only while on battery. */
	plug(e, true);
	snprintf(b2->status, sizeof(b2->status), "Charging");
	tick(e);
	assert_true(isnan(e->st.time_remaining_s));
	assert_null(e->st.time_source);
}

static void test_estimate_energy_power(void **state)
{
	struct env *e = *state;
	struct pol_supply *b = laptop(e, 50);
	b->energy_wh = 30;
	b->power_w = 10;
	tick(e);
	assert_true(fabs(e->st.time_remaining_s - 10800) < 1e-6);
	assert_string_equal(e->st.time_source, "energy/power");
	/* No power draw reported: no division by zero, no estimate yet. */
	b->power_w = 0;
	tick(e);
	assert_true(isnan(e->st.time_remaining_s));
	assert_null(e->st.time_source);
	/* Summed over batteries. */
	b->power_w = 6;
	struct pol_supply *b2 = supply_add(e, "BAT1", "Battery", "Unknown", -1);
	b2->energy_wh = 15;
	b2->power_w = 0;
	b2->capacity_pct = 90;
	tick(e);
	assert_true(fabs(e->st.time_remaining_s - 45.0 / 6 * 3600) < 1e-6);
}

static void test_estimate_trend(void **state)
{
	struct env *e = *state;
	struct pol_supply *b = laptop(e, 80);
	double t0 = e->t;
	tick(e);
	assert_true(isnan(e->st.time_remaining_s));
	/* 1% per 30 s. */
	while (e->t < t0 + 60) {
		b->capacity_pct = 80 - floor((e->t - t0) / 30);
		tick(e);
		assert_true(isnan(e->st.time_remaining_s)); /* < 60 s of history */
		assert_null(e->st.time_source);
	}
	b->capacity_pct = 78;
	tick(e); /* t0 + 60: 2% in 60 s */
	assert_string_equal(e->st.time_source, "trend");
	assert_true(fabs(e->st.time_remaining_s - 78 * 30) < 1e-6);

	/* 60 s but under 1% drop: not enough to judge. */
	plug(e, true);
	tick(e);
	assert_true(isnan(e->st.time_remaining_s));
	plug(e, false);
	b->capacity_pct = 78;
	t0 = e->t;
	tick(e);
	while (e->t < t0 + 120) {
		b->capacity_pct = 77.5;
		tick(e);
		assert_true(isnan(e->st.time_remaining_s));
	}
	/* The gauge recalibrating upwards restarts the trend. */
	b->capacity_pct = 85;
	tick(e);
	t0 = e->t - 1;
	b->capacity_pct = 84;
	while (e->t < t0 + 60) {
		tick(e);
		assert_true(isnan(e->st.time_remaining_s));
	}
	tick(e);
	assert_string_equal(e->st.time_source, "trend");
	assert_true(fabs(e->st.time_remaining_s - 84 * 60) < 1e-6);
}

static void test_joules_per_inference(void **state)
{
	struct env *e = *state;
	tick(e);
	assert_true(isnan(e->st.joules_per_inference));
	e->in.joules_per_inference = 0.25;
	tick(e);
	assert_true(e->st.joules_per_inference == 0.25);
	e->in.joules_per_inference = NAN;
	ticks(e, 3);
	assert_true(e->st.joules_per_inference == 0.25); /* the last known */
	e->in.joules_per_inference = 0.5;
	tick(e);
	assert_true(e->st.joules_per_inference == 0.5);
}

static void test_json(void **state)
{
	struct env *e = *state;
	struct pol_supply *b = laptop(e, 18);
	b->time_to_empty_s = 1200;
	e->in.joules_per_inference = 0.125;
	tick(e);
	cJSON *j = pol_battery_json(&e->st);
	assert_non_null(j);
	char *s = cJSON_PrintUnformatted(j);
	assert_non_null(s);
	assert_string_equal(s, "{\"level\":\"low\",\"on_battery\":true,\"capacity_pct\":18,"
			       "\"time_remaining_seconds\":1200,"
			       "\"time_remaining_source\":\"kernel\","
			       "\"joules_per_inference\":0.125,"
			       "\"reason\":\"on battery at 18% (low at 20%)\"}");
	free(s);
	cJSON_Delete(j);
	assert_string_equal(pol_battery_level_name(POL_BAT_NORMAL), "normal");
	assert_string_equal(pol_battery_level_name(POL_BAT_LOW), "low");
	assert_string_equal(pol_battery_level_name(POL_BAT_CRITICAL), "critical");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)
	const struct CMUnitTest tests[] = {
		T(test_drain_low_critical_ac),
		T(test_low_hysteresis),
		T(test_critical_hysteresis),
		T(test_thresholds_from_config),
		T(test_discharging_on_ac),
		T(test_no_battery),
		T(test_charge_unknown),
		T(test_disabled),
		T(test_estimate_kernel),
		T(test_estimate_energy_power),
		T(test_estimate_trend),
		T(test_joules_per_inference),
		T(test_json),
	};
#undef T
	return cmocka_run_group_tests_name("policies/battery", tests, NULL, NULL);
}
