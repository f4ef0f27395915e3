/* Unit tests for policies/thermal.c: step escalation and one-step-per-cooldown
 * recovery, the hysteresis band, absurd and configured trips, the passive
 * trip derived from the critical one, critical mode, PID on a simple plant
 * model, unknown temperatures and machines without zones. Inputs are built in
 * C and time advances in 1 s ticks. */
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

#include "policies/thermal.h"

/* --- fixture ----------------------------------------------------------------- */

struct env {
	struct pol_config c;
	struct pol_inputs in;
	struct pol_plan p;
	struct pol_thermal_state st;
	double t;            /* the next tick's time */
	unsigned ups, downs; /* level transitions seen by tick() */
};

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	pol_config_defaults(&e->c);
	memset(&e->in, 0, sizeof(e->in));
	e->in.thermal_available = true;
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
	pol_thermal_init(&e->st);
	e->t = 1000;
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	free(*state);
	return 0;
}

/* Adds a zone with no trips; returns its index. */
static size_t zone_add(struct env *e, int zone, const char *type, double temp)
{
	size_t i = e->in.n_zones++;
	struct pol_zone *z = &e->in.zones[i];
	memset(z, 0, sizeof(*z));
	z->zone = zone;
	snprintf(z->type, sizeof(z->type), "%s", type);
	z->temp_c = temp;
	return i;
}

static void trip_add(struct env *e, size_t zi, const char *type, double temp)
{
	struct pol_zone *z = &e->in.zones[zi];
	struct pol_trip *t = &z->trips[z->n_trips++];
	snprintf(t->type, sizeof(t->type), "%s", type);
	t->temp_c = temp;
	t->hyst_c = NAN;
}

/* The usual CPU package zone: passive 95, critical 105. */
static size_t pkg_zone(struct env *e, double temp)
{
	size_t i = zone_add(e, 0, "x86_pkg_temp", temp);
	trip_add(e, i, "active", 70);
	trip_add(e, i, "passive", 95);
	trip_add(e, i, "critical", 105);
	return i;
}

/* One engine tick at e->t (then e->t += 1), counting level transitions. */
static void tick(struct env *e)
{
	uint32_t before = e->st.level;
	e->in.time = e->t;
	pol_plan_init(&e->p, &e->in, POL_BALANCED);
	pol_thermal_step(&e->c, &e->in, &e->st, &e->p);
	if (e->st.level > before)
		e->ups++;
	else if (e->st.level < before)
		e->downs++;
	e->t += 1;
}

static void ticks(struct env *e, int n)
{
	for (int i = 0; i < n; i++)
		tick(e);
}

static bool has_note(const struct pol_plan *p, const char *text)
{
	for (size_t i = 0; i < p->n_notes; i++)
		if (strstr(p->notes[i], text) && p->note_by[i] == POL_SRC_THERMAL)
			return true;
	return false;
}

static void assert_no_caps(const struct pol_plan *p)
{
	assert_true(p->freq_cap_ratio == 1.0);
	assert_false(p->freq_cap.set);
	assert_int_equal(p->worker_cap, UINT32_MAX);
	assert_int_equal(p->classes, POL_CLASS_ALL);
	assert_false(p->force_power_saver);
}

#define assert_contains(s, sub) \
	do { \
		if (!strstr((s), (sub))) \
			fail_msg("'%s' does not contain '%s'", (s), (sub)); \
	} while (0)

/* --- step mode ---------------------------------------------------------------- */

static void test_cool_no_caps(void **state)
{
	struct env *e = *state;
	pkg_zone(e, 60);
	ticks(e, 30);
	assert_int_equal(e->st.level, 0);
	assert_false(e->st.critical);
	assert_no_caps(&e->p);
	assert_int_equal(e->p.n_notes, 0);
	assert_int_equal(e->st.hot_zone, 0);
	assert_string_equal(e->st.hot_type, "x86_pkg_temp");
	assert_true(e->st.hot_passive_c == 95);
	assert_true(e->st.hot_critical_c == 105);
}

static void test_level_effects(void **state)
{
	struct env *e = *state;
	size_t z = pkg_zone(e, 93);
	tick(e);
	assert_int_equal(e->st.level, 1);
	tick(e);
	assert_int_equal(e->st.level, 2);
	assert_in_range((long)llround(e->p.freq_cap_ratio * 1000), 800, 800);
	assert_int_equal(e->p.freq_cap.by, POL_SRC_THERMAL);
	assert_string_equal(e->p.freq_cap.why,
			    "zone 0 (x86_pkg_temp) 93.0 °C within 5.0 °C of passive trip 95.0 °C"
			    ": level 2");
	/* 8 - ceil(8 * 2 / 6) = 5 */
	assert_int_equal(e->p.worker_cap, 5);
	assert_int_equal(e->p.worker_cap_why.by, POL_SRC_THERMAL);
	assert_int_equal(e->p.classes, POL_CLASS_INTERACTIVE | POL_CLASS_NORMAL);
	assert_contains(e->p.classes_why.why, "level 2");
	assert_false(e->p.force_power_saver);

	/* Over the trip: +2 per tick, capped at max_level. */
	e->in.zones[z].temp_c = 96;
	tick(e);
	assert_int_equal(e->st.level, 4);
	assert_contains(e->p.freq_cap.why, "96.0 °C over passive trip 95.0 °C: level 4");
	tick(e);
	assert_int_equal(e->st.level, 5);
	ticks(e, 10);
	assert_int_equal(e->st.level, 5);
	/* max(0.4, 1 - 5 * 0.1) = 0.5; 8 - ceil(8 * 5 / 6) = 1 */
	assert_true(fabs(e->p.freq_cap_ratio - 0.5) < 1e-9);
	assert_int_equal(e->p.worker_cap, 1);
	assert_false(e->st.critical);

	/* A higher level_freq_step reaches min_freq_ratio. */
	e->c.level_freq_step = 0.2;
	tick(e);
	assert_true(fabs(e->p.freq_cap_ratio - 0.4) < 1e-9);
	assert_true(fabs(e->st.ratio - 0.4) < 1e-9);
}

/* A ramp up to the trip and back down: 5 steps up, fast, then exactly one
 * step down per cooldown, never back up. */
static void test_ramp_up_then_down(void **state)
{
	struct env *e = *state;
	size_t z = pkg_zone(e, 80);
	double first_near = NAN, at_max = NAN;
	double downs_at[8];
	unsigned nd = 0;
	/* Up 0.5 °C per second from 80 to 98, hold, then down to 60. */
	for (int i = 0; i <= 36; i++) {
		e->in.zones[z].temp_c = 80 + 0.5 * i;
		tick(e);
		if (isnan(first_near) && e->st.level > 0)
			first_near = e->t - 1;
		if (isnan(at_max) && e->st.level == 5)
			at_max = e->t - 1;
	}
	assert_int_equal(e->ups, 5);
	assert_true(at_max - first_near <= 4); /* 0 -> 5 in 5 ticks */
	ticks(e, 20);
	for (int i = 0; i <= 76; i++) {
		e->in.zones[z].temp_c = 98 - 0.5 * i;
		uint32_t before = e->st.level;
		tick(e);
		if (e->st.level < before && nd < 8)
			downs_at[nd++] = e->t - 1;
	}
	for (int i = 0; i < 120; i++) {
		uint32_t before = e->st.level;
		tick(e);
		if (e->st.level < before && nd < 8)
			downs_at[nd++] = e->t - 1;
	}
	assert_int_equal(e->ups, 5);
	assert_int_equal(e->downs, 5);
	assert_int_equal(nd, 5);
	for (unsigned i = 1; i < nd; i++)
		assert_true(downs_at[i] - downs_at[i - 1] >= e->c.cooldown_s);
	assert_int_equal(e->st.level, 0);
	assert_no_caps(&e->p);
}

static void test_one_step_per_cooldown(void **state)
{
	struct env *e = *state;
	size_t z = pkg_zone(e, 96);
	ticks(e, 3);
	assert_int_equal(e->st.level, 5);
	e->in.zones[z].temp_c = 70; /* below 95 - 5 - 3 = 87 */
	double t0 = e->t;
	tick(e);
	assert_int_equal(e->st.level, 5);
	assert_contains(e->p.freq_cap.why, "below 87.0 °C for 0 s");
	while (e->t < t0 + 10)
		tick(e);
	assert_int_equal(e->st.level, 5);
	tick(e); /* t0 + 10 */
	assert_int_equal(e->st.level, 4);
	ticks(e, 9);
	assert_int_equal(e->st.level, 4);
	tick(e);
	assert_int_equal(e->st.level, 3);
	/* Reheat near the trip: straight back up, the cooldown restarts. */
	e->in.zones[z].temp_c = 91;
	tick(e);
	assert_int_equal(e->st.level, 4);
	assert_true(isnan(e->st.cool_since));
}

static void test_hysteresis_band_holds(void **state)
{
	struct env *e = *state;
	size_t z = pkg_zone(e, 91);
	ticks(e, 3);
	assert_int_equal(e->st.level, 3);
	/* 87 <= temp < 90: neither near nor cool. */
	e->in.zones[z].temp_c = 88;
	ticks(e, 200);
	assert_int_equal(e->st.level, 3);
	assert_int_equal(e->downs, 0);
	assert_true(isnan(e->st.cool_since));
	assert_contains(e->p.freq_cap.why, "88.0 °C, held until below 87.0 °C");
	e->in.zones[z].temp_c = 87; /* the line itself is not below it */
	ticks(e, 30);
	assert_int_equal(e->st.level, 3);

	/* Cooling interrupted by the band restarts the cooldown. */
	e->in.zones[z].temp_c = 86;
	ticks(e, 8);
	e->in.zones[z].temp_c = 88;
	tick(e);
	e->in.zones[z].temp_c = 86;
	ticks(e, 8);
	assert_int_equal(e->st.level, 3);
	ticks(e, 2);
	assert_int_equal(e->st.level, 3);
	tick(e);
	assert_int_equal(e->st.level, 2);
	assert_int_equal(e->ups, 3);
	assert_int_equal(e->downs, 1);
}

/* The hottest zone relative to its own trip governs, not the hottest one. */
static void test_governing_zone(void **state)
{
	struct env *e = *state;
	pkg_zone(e, 80);                       /* 15 below its trip */
	size_t b = zone_add(e, 4, "acpitz", 62); /* 3 below its trip */
	trip_add(e, b, "passive", 65);
	trip_add(e, b, "critical", 90);
	tick(e);
	assert_int_equal(e->st.level, 1);
	assert_int_equal(e->st.hot_zone, 4);
	assert_string_equal(e->st.hot_type, "acpitz");
	assert_string_equal(e->p.freq_cap.why,
			    "zone 4 (acpitz) 62.0 °C within 5.0 °C of passive trip 65.0 °C"
			    ": level 1");
	/* Recovery needs every zone below its line: acpitz cool, pkg not. */
	e->in.zones[b].temp_c = 50;
	e->in.zones[0].temp_c = 88;
	ticks(e, 40);
	assert_int_equal(e->st.level, 1);
	e->in.zones[0].temp_c = 80;
	ticks(e, 11);
	assert_int_equal(e->st.level, 0);
}

/* --- trips ------------------------------------------------------------------- */

static void test_absurd_trips_ignored(void **state)
{
	struct env *e = *state;
	size_t z = zone_add(e, 3, "acpitz", 91);
	trip_add(e, z, "passive", -273);
	trip_add(e, z, "passive", 93);
	trip_add(e, z, "critical", 200);
	trip_add(e, z, "critical", NAN);
	trip_add(e, z, "hot", 0);
	for (int i = 0; i < 3; i++) {
		tick(e);
		/* Noted every tick, so the engine sees it as long as it holds. */
		assert_true(has_note(&e->p, "zone 3 (acpitz): passive trip -273.0 °C ignored"
					    " (outside 0..150 °C)"));
		assert_true(has_note(&e->p, "zone 3 (acpitz): critical trip 200.0 °C ignored"
					    " (outside 0..150 °C)"));
		assert_true(has_note(&e->p, "zone 3 (acpitz): critical trip of unknown temperature"
					    " ignored"));
		assert_true(has_note(&e->p, "zone 3 (acpitz): hot trip 0.0 °C ignored"));
	}
	assert_int_equal(e->p.n_notes, 4);
	assert_true(e->st.warned & (1u << 0));
	/* The valid passive trip still works; no critical trip at all. */
	assert_int_equal(e->st.level, 3);
	assert_false(e->st.critical);
	assert_true(isnan(e->st.hot_critical_c));
	assert_true(e->st.hot_passive_c == 93);

	/* max_trip_c is configurable. */
	e->c.max_trip_c = 90;
	tick(e);
	assert_true(has_note(&e->p, "zone 3 (acpitz): passive trip 93.0 °C ignored"
				    " (outside 0..90 °C)"));
}

static void test_zone_only_absurd_is_ignored(void **state)
{
	struct env *e = *state;
	size_t z = zone_add(e, 2, "acpitz", 300);
	trip_add(e, z, "passive", 3000);
	trip_add(e, z, "critical", -5);
	size_t q = zone_add(e, 5, "iwlwifi_1", 300); /* no trips, no note */
	(void)q;
	ticks(e, 5);
	assert_int_equal(e->st.level, 0);
	assert_false(e->st.critical);
	assert_int_equal(e->st.hot_zone, -1);
	assert_int_equal(e->p.n_notes, 2);
	assert_true(has_note(&e->p, "zone 2 (acpitz): passive trip 3000.0 °C ignored"
				    " (outside 0..150 °C)"));
	assert_true(has_note(&e->p, "zone 2 (acpitz): critical trip -5.0 °C ignored"));
	assert_false(e->p.freq_cap.set);
	assert_int_equal(e->p.classes, POL_CLASS_ALL);
}

/* A flood of broken zones leaves room for the other policies' notes. */
static void test_notes_bounded(void **state)
{
	struct env *e = *state;
	for (int i = 0; i < 20; i++) {
		size_t z = zone_add(e, i, "acpitz", 40);
		trip_add(e, z, "passive", -1);
	}
	tick(e);
	assert_true(e->p.n_notes <= POL_MAX_NOTES / 2);
	assert_true(e->p.n_notes > 0);
}

static void test_config_rule_overrides(void **state)
{
	struct env *e = *state;
	size_t z = zone_add(e, 1, "acpitz", 70);
	trip_add(e, z, "passive", 60);
	trip_add(e, z, "critical", 110);
	tick(e);
	assert_int_equal(e->st.level, 2); /* over 60: +2 */

	pol_thermal_init(&e->st);
	e->c.n_zone_rules = 2;
	snprintf(e->c.zone_rules[0].type, sizeof(e->c.zone_rules[0].type), "x86_pkg_temp");
	e->c.zone_rules[0].passive_c = 50;
	e->c.zone_rules[0].critical_c = NAN;
	/* zone.acpitz = 80, */
	snprintf(e->c.zone_rules[1].type, sizeof(e->c.zone_rules[1].type), "acpitz");
	e->c.zone_rules[1].passive_c = 80;
	e->c.zone_rules[1].critical_c = NAN;
	ticks(e, 5);
	assert_int_equal(e->st.level, 0);
	assert_true(e->st.hot_passive_c == 80);
	assert_true(e->st.hot_critical_c == 110); /* NAN in the rule keeps the firmware's */
	e->in.zones[z].temp_c = 76;
	tick(e);
	assert_int_equal(e->st.level, 1);
	assert_contains(e->p.freq_cap.why, "76.0 °C within 5.0 °C of passive trip 80.0 °C");

	/* zone.acpitz = ,95: critical from config, passive from firmware. */
	pol_thermal_init(&e->st);
	e->c.zone_rules[1].passive_c = NAN;
	e->c.zone_rules[1].critical_c = 95;
	e->in.zones[z].temp_c = 91;
	tick(e);
	assert_true(e->st.critical);
	assert_true(e->st.hot_passive_c == 60);
	assert_true(e->st.hot_critical_c == 95);
	assert_contains(e->p.force_why.why, "critical trip 95.0 °C");

	/* An absurd configured trip is ignored like a firmware one. */
	pol_thermal_init(&e->st);
	e->c.zone_rules[1].passive_c = 500;
	e->c.zone_rules[1].critical_c = NAN;
	e->in.zones[z].temp_c = 70;
	tick(e);
	assert_true(has_note(&e->p, "configured passive trip 500.0 °C ignored"));
	/* The firmware's passive was replaced, so critical - 10 = 100 is used. */
	assert_true(e->st.hot_passive_c == 100);
	assert_int_equal(e->st.level, 0);
}

static void test_passive_derived_from_critical(void **state)
{
	struct env *e = *state;
	size_t z = zone_add(e, 7, "pch_cannonlake", 84);
	trip_add(e, z, "critical", 100);
	tick(e);
	assert_int_equal(e->st.level, 0);
	assert_true(e->st.hot_passive_c == 90);
	assert_true(has_note(&e->p, "zone 7 (pch_cannonlake): no valid passive trip,"
				    " using critical 100.0 - 10 = 90.0 °C"));
	e->in.zones[z].temp_c = 85;
	tick(e);
	assert_int_equal(e->st.level, 1);
	assert_contains(e->p.freq_cap.why, "85.0 °C within 5.0 °C of derived passive trip 90.0 °C");
	assert_true(has_note(&e->p, "no valid passive trip")); /* still, every tick */

	/* "hot" stands in for a missing critical trip. */
	size_t h = zone_add(e, 8, "soc", 40);
	trip_add(e, h, "hot", 80);
	e->in.zones[z].temp_c = 50;
	e->in.zones[h].temp_c = 76;
	pol_thermal_init(&e->st);
	tick(e);
	assert_true(e->st.critical); /* 76 >= 80 - 5 */
	assert_int_equal(e->st.hot_zone, 8);
	assert_true(e->st.hot_passive_c == 70);
	assert_true(e->st.hot_critical_c == 80);
}

/* --- critical ---------------------------------------------------------------- */

static void test_critical(void **state)
{
	struct env *e = *state;
	size_t z = pkg_zone(e, 60);
	tick(e);
	e->in.zones[z].temp_c = 100.5; /* >= 105 - 5 */
	tick(e);
	assert_true(e->st.critical);
	assert_int_equal(e->st.level, 5);
	assert_int_equal(e->p.classes, POL_CLASS_INTERACTIVE);
	assert_true(e->p.force_power_saver);
	assert_int_equal(e->p.force_why.by, POL_SRC_THERMAL);
	assert_string_equal(e->p.force_why.why, "zone 0 (x86_pkg_temp) 100.5 °C within 5.0 °C of "
						"critical trip 105.0 °C: critical");
	assert_true(fabs(e->p.freq_cap_ratio - 0.5) < 1e-9);
	assert_int_equal(e->p.worker_cap, 1);

	/* 98 is not below 105 - 5 - 3 = 97: critical holds however long. */
	e->in.zones[z].temp_c = 98;
	ticks(e, 100);
	assert_true(e->st.critical);
	assert_true(e->p.force_power_saver);
	assert_contains(e->p.force_why.why, "critical until below 97.0 °C for 10 s");

	/* Below the line for cooldown_s: critical ends, the level stays
	 * (96 is over the passive trip) and recovers later. */
	e->in.zones[z].temp_c = 96;
	ticks(e, 10);
	assert_true(e->st.critical);
	tick(e);
	assert_false(e->st.critical);
	assert_false(e->p.force_power_saver);
	assert_int_equal(e->p.classes, POL_CLASS_INTERACTIVE | POL_CLASS_NORMAL);
	assert_int_equal(e->st.level, 5);
	e->in.zones[z].temp_c = 70;
	e->ups = e->downs = 0;
	ticks(e, 9);
	assert_int_equal(e->st.level, 5);
	ticks(e, 100);
	assert_int_equal(e->st.level, 0);
	assert_int_equal(e->downs, 5);
	assert_int_equal(e->ups, 0);
	assert_no_caps(&e->p);
}

static void test_critical_interrupted_cooldown(void **state)
{
	struct env *e = *state;
	size_t z = pkg_zone(e, 101);
	tick(e);
	assert_true(e->st.critical);
	e->in.zones[z].temp_c = 90;
	ticks(e, 9);
	e->in.zones[z].temp_c = 98; /* back above the recovery line */
	tick(e);
	e->in.zones[z].temp_c = 90;
	ticks(e, 10);
	assert_true(e->st.critical);
	tick(e);
	assert_false(e->st.critical);
}

/* --- PID --------------------------------------------------------------------- */

/* temp relaxes towards ambient + k * ratio with time constant tau. */
struct plant {
	double temp, ambient, k, tau;
};

static void plant_step(struct plant *pl, double ratio, double dt)
{
	double eq = pl->ambient + pl->k * ratio;
	pl->temp += (eq - pl->temp) * (1 - exp(-dt / pl->tau));
}

static void test_pid_converges(void **state)
{
	struct env *e = *state;
	e->c.thermal_mode = POL_THERMAL_PID;
	size_t z = pkg_zone(e, 50); /* target 95 - 5 = 90 */
	e->in.zones[z].trips[2].temp_c = 110; /* critical 110: crit line 105 */
	struct plant pl = { .temp = 50, .ambient = 40, .k = 62, .tau = 15 };
	double worst_late = 0;
	bool batch_paused_when_capped = true;
	for (int i = 0; i < 1800; i++) {
		e->in.zones[z].temp_c = pl.temp;
		tick(e);
		double r = e->p.freq_cap_ratio;
		assert_true(r >= e->c.min_freq_ratio - 1e-12 && r <= 1.0);
		assert_true(e->st.ratio >= e->c.min_freq_ratio - 1e-12 && e->st.ratio <= 1.0);
		assert_false(e->st.critical);
		if (r < 1 && (e->p.classes & POL_CLASS_BATCH))
			batch_paused_when_capped = false;
		if (i >= 1200 && fabs(pl.temp - 90) > worst_late)
			worst_late = fabs(pl.temp - 90);
		plant_step(&pl, r, 1.0);
	}
	assert_true(batch_paused_when_capped);
	if (worst_late > 1.5)
		fail_msg("PID settles %.2f °C off target", worst_late);
	/* Equilibrium: 40 + 62 r = 90 -> r = 0.806. */
	assert_true(fabs(e->p.freq_cap_ratio - 50.0 / 62) < 0.03);
	assert_contains(e->p.freq_cap.why, "target 90.0 °C: max ");
	assert_contains(e->p.freq_cap.why, "zone 0 (x86_pkg_temp) ");
	assert_int_equal(e->st.level, 0);
	assert_int_equal(e->p.worker_cap, UINT32_MAX);

	/* A configured target wins over passive - margin. */
	e->c.target_c = 75;
	for (int i = 0; i < 1800; i++) {
		e->in.zones[z].temp_c = pl.temp;
		tick(e);
		plant_step(&pl, e->p.freq_cap_ratio, 1.0);
	}
	assert_true(fabs(pl.temp - 75) < 1.5);
	assert_contains(e->p.freq_cap.why, "target 75.0 °C");
}

static void test_pid_saturation_and_windup(void **state)
{
	struct env *e = *state;
	e->c.thermal_mode = POL_THERMAL_PID;
	size_t z = pkg_zone(e, 50);
	e->in.zones[z].trips[2].temp_c = 150;
	/* Long cold spell: the output saturates at 1, the integral must not
	 * wind negative (it would delay the response to the next heat). */
	ticks(e, 600);
	assert_true(e->st.integral == 0);
	assert_true(e->p.freq_cap_ratio == 1.0);
	assert_no_caps(&e->p);

	/* A plant that cannot cool enough (hot ambient): saturated at the
	 * minimum, the integral stops growing. */
	struct plant pl = { .temp = 50, .ambient = 85, .k = 30, .tau = 10 };
	for (int i = 0; i < 1200; i++) {
		e->in.zones[z].temp_c = pl.temp;
		tick(e);
		assert_true(e->p.freq_cap_ratio >= e->c.min_freq_ratio - 1e-12);
		plant_step(&pl, e->p.freq_cap_ratio, 1.0);
	}
	assert_true(fabs(e->p.freq_cap_ratio - e->c.min_freq_ratio) < 1e-9);
	double bound = (1 - e->c.min_freq_ratio) / e->c.pid_ki + 1;
	if (e->st.integral > bound)
		fail_msg("integral wound up to %.1f (bound %.1f)", e->st.integral, bound);
	/* Ambient back to normal: the cap lifts within a couple of minutes. */
	pl.ambient = 40;
	int lifted = -1;
	for (int i = 0; i < 600 && lifted < 0; i++) {
		e->in.zones[z].temp_c = pl.temp;
		tick(e);
		if (e->p.freq_cap_ratio > 0.9)
			lifted = i;
		plant_step(&pl, e->p.freq_cap_ratio, 1.0);
	}
	assert_true(lifted >= 0 && lifted < 200);
}

static void test_pid_first_tick_p_only(void **state)
{
	struct env *e = *state;
	e->c.thermal_mode = POL_THERMAL_PID;
	e->c.pid_kd = 1.0;
	size_t z = pkg_zone(e, 94); /* err 4 against 90 */
	tick(e);
	assert_true(e->st.integral == 0);
	assert_true(fabs(e->st.ratio - (1 - 0.05 * 4)) < 1e-9);
	assert_true(fabs(e->p.freq_cap_ratio - 0.8) < 1e-9);
	assert_string_equal(e->p.freq_cap.why,
			    "zone 0 (x86_pkg_temp) 94.0 °C, target 90.0 °C: max 80% frequency");
	assert_int_equal(e->p.classes, POL_CLASS_INTERACTIVE | POL_CLASS_NORMAL);
	/* Second tick, 2 s later: I and D join. */
	e->t += 1;
	e->in.zones[z].temp_c = 92;
	tick(e);
	double integral = 2 * 2.0;
	double u = 0.05 * 2 + 0.005 * integral + 1.0 * (2 - 4) / 2.0;
	assert_true(fabs(e->st.integral - integral) < 1e-9);
	assert_true(fabs(e->st.ratio - (1 - u > 1 ? 1 : 1 - u)) < 1e-9);
}

static void test_pid_critical(void **state)
{
	struct env *e = *state;
	e->c.thermal_mode = POL_THERMAL_PID;
	size_t z = pkg_zone(e, 101);
	tick(e);
	assert_true(e->st.critical);
	assert_int_equal(e->st.level, 5);
	assert_int_equal(e->p.classes, POL_CLASS_INTERACTIVE);
	assert_true(e->p.force_power_saver);
	assert_true(e->p.freq_cap_ratio <= 0.5 + 1e-9);
	e->in.zones[z].temp_c = 60;
	ticks(e, 11);
	assert_false(e->st.critical);
	assert_int_equal(e->st.level, 0);
	assert_false(e->p.force_power_saver);
}

/* --- unknowns ---------------------------------------------------------------- */

static void test_nan_temps(void **state)
{
	struct env *e = *state;
	size_t a = pkg_zone(e, NAN);
	ticks(e, 5);
	assert_int_equal(e->st.level, 0);
	assert_int_equal(e->st.hot_zone, -1);
	assert_no_caps(&e->p);
	assert_int_equal(e->p.n_notes, 0);

	/* The other zone with a known temperature governs. */
	size_t b = zone_add(e, 1, "acpitz", 92);
	trip_add(e, b, "passive", 95);
	trip_add(e, b, "critical", 120);
	tick(e);
	assert_int_equal(e->st.level, 1);
	assert_int_equal(e->st.hot_zone, 1);

	/* Every temperature lost while throttled: hold (safety), no recovery. */
	e->in.zones[b].temp_c = NAN;
	ticks(e, 100);
	assert_int_equal(e->st.level, 1);
	assert_true(fabs(e->p.freq_cap_ratio - 0.9) < 1e-9);
	assert_contains(e->p.freq_cap.why, "no zone temperature known");
	assert_int_equal(e->st.hot_zone, -1);
	/* Back: cool, recovers. */
	e->in.zones[a].temp_c = 50;
	e->in.zones[b].temp_c = 50;
	ticks(e, 11);
	assert_int_equal(e->st.level, 0);
}

static void test_no_zones(void **state)
{
	struct env *e = *state;
	ticks(e, 20);
	assert_int_equal(e->st.level, 0);
	assert_no_caps(&e->p);
	assert_int_equal(e->p.n_notes, 0);
	e->in.thermal_available = false;
	ticks(e, 20);
	assert_no_caps(&e->p);
	e->c.thermal_mode = POL_THERMAL_PID;
	ticks(e, 20);
	assert_no_caps(&e->p);
	assert_true(e->st.ratio == 1.0);

	cJSON *j = pol_thermal_json(&e->c, &e->st);
	assert_non_null(j);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "hottest")));
	assert_string_equal(cJSON_GetObjectItem(j, "mode")->valuestring, "pid");
	cJSON_Delete(j);
}

static void test_no_workers_no_worker_cap(void **state)
{
	struct env *e = *state;
	e->in.workers = 0;
	e->in.active = 0;
	pkg_zone(e, 101);
	tick(e);
	assert_true(e->st.critical);
	assert_int_equal(e->p.worker_cap, UINT32_MAX);
	assert_true(e->p.freq_cap_ratio < 1);
}

static void test_disabled(void **state)
{
	struct env *e = *state;
	pkg_zone(e, 101);
	e->c.thermal = false;
	ticks(e, 5);
	assert_int_equal(e->st.level, 0);
	assert_false(e->st.critical);
	assert_no_caps(&e->p);
}

static void test_json(void **state)
{
	struct env *e = *state;
	pkg_zone(e, 93);
	ticks(e, 2);
	cJSON *j = pol_thermal_json(&e->c, &e->st);
	assert_non_null(j);
	char *s = cJSON_PrintUnformatted(j);
	assert_non_null(s);
	assert_string_equal(s, "{\"mode\":\"step\",\"level\":2,\"critical\":false,"
			       "\"cap_ratio\":0.8,\"hottest\":{\"zone\":0,"
			       "\"type\":\"x86_pkg_temp\",\"temp_celsius\":93,"
			       "\"passive_celsius\":95,\"critical_celsius\":105}}");
	free(s);
	cJSON_Delete(j);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)
	const struct CMUnitTest tests[] = {
		T(test_cool_no_caps),
		T(test_level_effects),
		T(test_ramp_up_then_down),
		T(test_one_step_per_cooldown),
		T(test_hysteresis_band_holds),
		T(test_governing_zone),
		T(test_absurd_trips_ignored),
		T(test_zone_only_absurd_is_ignored),
		T(test_notes_bounded),
		T(test_config_rule_overrides),
		T(test_passive_derived_from_critical),
		T(test_critical),
		T(test_critical_interrupted_cooldown),
		T(test_pid_converges),
		T(test_pid_saturation_and_windup),
		T(test_pid_first_tick_p_only),
		T(test_pid_critical),
		T(test_nan_temps),
		T(test_no_zones),
		T(test_no_workers_no_worker_cap),
		T(test_disabled),
		T(test_json),
	};
#undef T
	return cmocka_run_group_tests_name("policies/thermal", tests, NULL, NULL);
}
