/* Unit tests for policies/autoscale.c: the HPA algorithm over simulated
 * time. A tiny plant plays the daemon: `load` workers' worth of work keeps
 * min(load, active) workers busy and queues 4 jobs per missing worker; the
 * count the autoscaler chooses is the next tick's in->active. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "policies/autoscale.h"

/* --- the simulation -------------------------------------------------------------------------- */

struct sim {
	struct pol_config c;
	struct pol_inputs in;
	struct pol_autoscale_state st;
	struct pol_plan p;
	double t, dt;
	uint32_t active;
	double load;        /* workers' worth of work; NAN: figures set by hand */
	uint32_t cap;       /* a thermal worker cap this tick, 0: none */
	unsigned ups, downs, reversals;
	int dir;            /* last move: 1 up, -1 down, 0 none yet */
	double first_down;  /* time of the first scale-down, NAN none */
};

static struct sim *sim_new(uint32_t workers, uint32_t active)
{
	struct sim *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	pol_config_defaults(&s->c);
	s->in.daemon_available = true;
	s->in.workers = workers;
	s->in.busy = 0;
	s->in.busy_avg = NAN;
	s->in.queue_p95_s = NAN;
	s->in.jobs_per_s = NAN;
	s->in.latency_p99_s = NAN;
	s->in.joules_per_inference = NAN;
	s->in.interval_s = 1;
	pol_autoscale_init(&s->st);
	s->active = active;
	s->dt = 1;
	s->load = NAN;
	s->first_down = NAN;
	return s;
}

static void plant(struct sim *s)
{
	double busy = fmin(s->load, (double)s->active);
	s->in.busy = busy;
	s->in.busy_avg = busy;
	s->in.queued[1] = s->load > s->active ? (uint32_t)ceil((s->load - s->active) * 4) : 0;
}

static uint32_t step(struct sim *s)
{
	s->in.time = s->t;
	s->in.active = s->active;
	if (!isnan(s->load))
		plant(s);
	pol_plan_init(&s->p, &s->in, POL_BALANCED);
	if (s->cap)
		pol_cap_workers(&s->p, s->cap, POL_SRC_THERMAL,
				"zone 0 (x86_pkg_temp) 93.0 °C within 5.0 °C of passive trip 95.0 °C");
	pol_autoscale_step(&s->c, &s->in, &s->st, &s->p);
	uint32_t n = s->p.active_workers;
	if (n && n != s->active) {
		int d = n > s->active ? 1 : -1;
		if (d > 0)
			s->ups++;
		else
			s->downs++;
		if (d < 0 && isnan(s->first_down))
			s->first_down = s->t;
		if (s->dir && d != s->dir)
			s->reversals++;
		s->dir = d;
		s->active = n;
	}
	s->t += s->dt;
	return n;
}

/* Steps while t < until. */
static void run(struct sim *s, double until)
{
	while (s->t < until - 1e-9)
		step(s);
}

static bool why_has(const struct sim *s, const char *text)
{
	if (!strstr(s->p.active_why.why, text)) {
		print_error("why \"%s\" lacks \"%s\"\n", s->p.active_why.why, text);
		return false;
	}
	return true;
}

static bool has_note(const struct pol_plan *p, const char *text)
{
	for (size_t i = 0; i < p->n_notes; i++)
		if (strstr(p->notes[i], text) && p->note_by[i] == POL_SRC_AUTOSCALE)
			return true;
	return false;
}

/* --- scaling up ------------------------------------------------------------------------------ */

/* With the up window 0 a burst acts at once, bounded by the default rate:
 * +100 % or +4 (the bigger) per 15 s. */
static void test_burst_scales_up_in_one_tick(void **state)
{
	(void)state;
	struct sim *s = sim_new(16, 1);
	s->load = 12;
	assert_int_equal(step(s), 5); /* t 0: wants 22, 1 + 4 */
	assert_true(s->p.active_why.set);
	assert_int_equal(s->p.active_why.by, POL_SRC_AUTOSCALE);
	assert_true(why_has(s, "utilization 1.00 (target 0.80) → 2"));
	assert_true(why_has(s, "queue/worker 44.0 (target 2.0) → 22"));
	assert_true(why_has(s, "desired 22, scale-up limit 5"));
	assert_int_equal(s->st.desired, 22);
	run(s, 15);
	assert_int_equal(s->active, 5); /* the +4 of t 0 counts until t 15 */
	assert_int_equal(step(s), 10);  /* t 15: 5 × 2 */
	run(s, 30);
	assert_int_equal(s->active, 10);
	assert_int_equal(step(s), 13);  /* t 30: the metrics want 13 */
	assert_int_equal(step(s), 15);  /* t 31: 12 busy / 0.8 */
	run(s, 200);
	assert_int_equal(s->active, 15);
	assert_int_equal(s->ups, 4);
	assert_int_equal(s->downs, 0);
	free(s);
}

static void check_doubling(struct sim *s)
{
	s->load = 50;
	uint32_t want = 1;
	for (int period = 0; period < 5; period++) {
		want *= 2;
		assert_int_equal(step(s), want);
		assert_true(why_has(s, "scale-up limit"));
		run(s, 15.0 * (period + 1));
		assert_int_equal(s->active, want);
	}
	assert_int_equal(s->ups, 5);
}

/* +100 % per 15 s alone (the +N policy at 1, or off): 1 → 2 → 4 → 8... */
static void test_rate_limit_percent(void **state)
{
	(void)state;
	struct sim *s = sim_new(64, 1);
	s->c.up_workers = 1;
	check_doubling(s);
	free(s);
	s = sim_new(64, 1);
	s->c.up_workers = 0;
	check_doubling(s);
	free(s);
}

/* +4 per 15 s alone: 1 → 5 → 9 → 13. */
static void test_rate_limit_pods(void **state)
{
	(void)state;
	struct sim *s = sim_new(64, 1);
	s->c.up_percent = 0;
	s->load = 50;
	for (uint32_t k = 1; k <= 3; k++) {
		assert_int_equal(step(s), 1 + 4 * k);
		run(s, 15.0 * k);
		assert_int_equal(s->active, 1 + 4 * k);
	}
	free(s);
}

/* No rate policy in a direction: no rate limit (stabilization still holds). */
static void test_no_rate_policy(void **state)
{
	(void)state;
	struct sim *s = sim_new(64, 1);
	s->c.up_percent = 0;
	s->c.up_workers = 0;
	s->load = 40;
	assert_int_equal(step(s), 64); /* 1 busy + 156 queued: desired 78, max 64 */
	assert_true(why_has(s, "max 64"));
	free(s);
}

static void test_queue_p95(void **state)
{
	(void)state;
	struct sim *s = sim_new(16, 2);
	s->c.target_queue_per_worker = 0;
	s->in.busy_avg = 0.2;
	s->in.queue_p95_s = 0.25;
	assert_int_equal(step(s), 5); /* ceil(2 × 0.25 / 0.1) */
	assert_true(why_has(s, "queue p95 0.250 s (target 0.100 s) → 5"));
	assert_true(why_has(s, "utilization 0.10 (target 0.80) → 1"));
	assert_false(strstr(s->p.active_why.why, "queue/worker"));
	free(s);
}

/* --- scaling down ---------------------------------------------------------------------------- */

/* Down: nothing until the 300 s window holds only low recommendations, then
 * -1 per 60 s. */
static void test_scale_down_stabilization(void **state)
{
	(void)state;
	struct sim *s = sim_new(8, 8);
	s->load = 8;
	run(s, 400);
	assert_int_equal(s->active, 8);
	assert_int_equal(s->ups + s->downs, 0);
	assert_true(why_has(s, "max 8"));
	s->load = 1; /* wants 2 from t 400 */
	run(s, 500);
	assert_int_equal(s->active, 8);
	assert_int_equal(s->st.desired, 2);
	assert_true(why_has(s, "desired 2, held by the 300 s down-stabilization window at 8"));
	run(s, 699);
	assert_int_equal(s->active, 8);
	/* The last high recommendation (t 399) leaves the window at t 699. */
	assert_int_equal(step(s), 7);
	assert_true(why_has(s, "scale-down limit 7"));
	for (uint32_t n = 6; n >= 2; n--) {
		run(s, 699 + 60.0 * (7 - n));
		assert_int_equal(s->active, n + 1);
		assert_int_equal(step(s), n);
	}
	run(s, 2000);
	assert_int_equal(s->active, 2);
	assert_int_equal(s->downs, 6);
	assert_int_equal(s->ups, 0);
	free(s);
}

/* -N % per period with down_percent: the policy allowing more wins. */
static void test_scale_down_percent(void **state)
{
	(void)state;
	struct sim *s = sim_new(32, 20);
	s->c.down_window_s = 0;
	s->c.down_percent = 50;
	s->c.target_queue_per_worker = 0;
	s->in.busy_avg = 0.8;                /* wants 1 */
	assert_int_equal(step(s), 10);       /* floor(20 × 0.5) < 20 - 1 */
	run(s, 60);
	assert_int_equal(s->active, 10);
	assert_int_equal(step(s), 5);
	run(s, 120);
	assert_int_equal(step(s), 2);        /* floor(2.5) */
	run(s, 180);
	assert_int_equal(step(s), 1);        /* 2 - 1 beats floor(1) */
	free(s);
}

/* --- tolerance ------------------------------------------------------------------------------- */

/* One tick from active with busy workers; why (POL_REASON bytes) gets the reason. */
static uint32_t one_tick(uint32_t active, double busy, double tol_up, double tol_down,
			 char *why)
{
	struct sim *s = sim_new(32, active);
	s->c.target_queue_per_worker = 0;
	s->c.down_window_s = 0;
	s->c.tolerance_up = tol_up;
	s->c.tolerance_down = tol_down;
	s->in.busy_avg = busy;
	uint32_t n = step(s);
	if (why)
		memcpy(why, s->p.active_why.why, POL_REASON);
	free(s);
	return n;
}

static void test_tolerance(void **state)
{
	(void)state;
	char why[POL_REASON] = "";
	assert_int_equal(one_tick(4, 3.36, 0.1, 0.1, why), 4); /* ratio 1.05 */
	assert_non_null(strstr(why, "utilization 0.84 (target 0.80) → 4 (within tolerance)"));
	assert_int_equal(one_tick(4, 3.04, 0.1, 0.1, NULL), 4);  /* 0.95 */
	assert_int_equal(one_tick(4, 3.52, 0.1, 0.1, NULL), 4);  /* 1.10: the edge holds */
	assert_int_equal(one_tick(10, 7.2, 0.1, 0.1, NULL), 10); /* 0.90: the edge holds */
	assert_int_equal(one_tick(4, 3.68, 0.1, 0.1, NULL), 5);  /* 1.15: ceil(4.6) */
	assert_int_equal(one_tick(10, 6.8, 0.1, 0.1, NULL), 9);  /* 0.85: ceil(8.5) */
	/* The tolerance never stops a move back inside the target. */
	assert_int_equal(one_tick(10, 0.8, 0.1, 0.1, NULL), 9);  /* -1 per 60 s */
}

static void test_separate_tolerances(void **state)
{
	(void)state;
	/* Slow to grow, quick to shrink. */
	assert_int_equal(one_tick(10, 10.4, 0.5, 0.05, NULL), 10); /* 1.3 held */
	assert_int_equal(one_tick(10, 7.2, 0.5, 0.05, NULL), 9);   /* 0.9 moves */
	/* Quick to grow, slow to shrink. */
	assert_int_equal(one_tick(10, 8.8, 0.05, 0.5, NULL), 11);  /* 1.1 moves */
	assert_int_equal(one_tick(10, 5.6, 0.05, 0.5, NULL), 10);  /* 0.7 held */
	assert_int_equal(one_tick(10, 3.2, 0.05, 0.5, NULL), 9);   /* 0.4 moves */
}

/* --- bounds and caps ------------------------------------------------------------------------- */

static void test_min_max(void **state)
{
	(void)state;
	struct sim *s = sim_new(16, 1);
	s->c.min_workers = 3;
	s->c.max_workers = 6;
	s->load = 0;
	assert_int_equal(step(s), 3); /* below min: at once */
	assert_true(why_has(s, "min 3"));
	run(s, 100);
	assert_int_equal(s->active, 3);
	s->load = 50;
	assert_int_equal(step(s), 6); /* 3 + 4 > max */
	assert_true(why_has(s, "max 6"));
	run(s, 200);
	assert_int_equal(s->active, 6);
	free(s);

	/* Never more than are started, whatever max_workers says. */
	s = sim_new(4, 1);
	s->c.max_workers = 10;
	s->load = 50;
	assert_int_equal(step(s), 4);
	assert_true(why_has(s, "max 4"));
	free(s);

	/* min above the started workers: the workers win. */
	s = sim_new(2, 2);
	s->c.min_workers = 5;
	s->load = 0;
	assert_int_equal(step(s), 2);
	free(s);

	/* More active than max (max lowered by a reload): down at once. */
	s = sim_new(16, 12);
	s->c.max_workers = 4;
	s->load = 12;
	assert_int_equal(step(s), 4);
	free(s);
}

/* A thermal cap binds at once and, lifted, lets the rate policies bring the
 * workers back. */
static void test_worker_cap_applied_and_lifted(void **state)
{
	(void)state;
	struct sim *s = sim_new(8, 8);
	s->load = 8;
	run(s, 100);
	assert_int_equal(s->active, 8);
	s->cap = 2;
	assert_int_equal(step(s), 2);
	assert_true(why_has(s, "capped at 2 by thermal"));
	run(s, 130);
	assert_int_equal(s->active, 2);
	assert_true(why_has(s, "capped at 2 by thermal"));
	s->cap = 0;
	assert_int_equal(step(s), 6); /* t 130: 2 + 4 */
	assert_true(why_has(s, "scale-up limit 6"));
	assert_null(strstr(s->p.active_why.why, "capped"));
	run(s, 145);
	assert_int_equal(s->active, 6);
	assert_int_equal(step(s), 8);
	assert_int_equal(s->downs, 1);
	assert_int_equal(s->ups, 2);
	free(s);

	/* A cap binds below min_workers too. */
	s = sim_new(8, 2);
	s->c.min_workers = 3;
	s->load = 0;
	s->cap = 1;
	assert_int_equal(step(s), 1);
	assert_true(why_has(s, "capped at 1 by thermal"));
	free(s);
}

/* --- missing figures ------------------------------------------------------------------------- */

static void test_no_metrics(void **state)
{
	(void)state;
	struct sim *s = sim_new(8, 5);
	s->in.daemon_available = false;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(step(s), 5);
		assert_true(why_has(s, "no metrics; desired 5"));
		assert_true(has_note(&s->p, "no usable metrics: daemon figures unavailable"));
	}
	free(s);

	/* The daemon answers but nothing usable: busy unknown, no p95, the
	 * queue metric off. */
	s = sim_new(8, 5);
	s->in.busy = NAN;
	s->in.queued[1] = 30;
	s->c.target_queue_per_worker = 0;
	assert_int_equal(step(s), 5);
	assert_true(why_has(s, "no metrics"));
	assert_true(has_note(&s->p, "no usable metrics: busy and queue p95 unknown"));
	/* busy_avg unknown, busy known: busy stands in. */
	s->in.busy = 5;
	assert_int_equal(step(s), 7); /* ceil(5 / 0.8) */
	assert_true(why_has(s, "utilization 1.00"));
	assert_int_equal(s->p.n_notes, 0);
	/* Metrics disappear: keep the count (and min/max still apply). */
	s->in.busy = NAN;
	assert_int_equal(step(s), 7);
	assert_true(why_has(s, "no metrics"));
	free(s);

	/* Nothing started: leave it. */
	s = sim_new(0, 0);
	assert_int_equal(step(s), 0);
	free(s);

	/* First tick with in->active 0 (not reported): start from workers. */
	s = sim_new(6, 0);
	s->in.busy_avg = 4.8;
	s->c.target_queue_per_worker = 0;
	assert_int_equal(step(s), 6);
	assert_true(why_has(s, "utilization 0.80 (target 0.80) → 6 (within tolerance)"));
	free(s);
}

static void test_autoscale_off(void **state)
{
	(void)state;
	struct sim *s = sim_new(8, 2);
	s->load = 1;
	run(s, 10);
	assert_int_not_equal(s->st.current, 0);
	s->c.autoscale = false;
	assert_int_equal(step(s), 8);
	assert_string_equal(s->p.active_why.why, "autoscale off");
	assert_int_equal(s->st.current, 0);
	s->cap = 3;
	assert_int_equal(step(s), 3);
	assert_true(why_has(s, "autoscale off, capped at 3 by thermal: zone 0 (x86_pkg_temp)"));
	/* Back on: from the daemon's count, afresh. */
	s->cap = 0;
	s->c.autoscale = true;
	s->load = 3;
	assert_int_equal(step(s), 4); /* ceil(3 / 0.8) from 3 active */
	free(s);
}

/* --- traces ---------------------------------------------------------------------------------- */

/* A burst, then a noisy load: up, then down, never back and forth. */
static void test_burst_trace_no_flapping(void **state)
{
	(void)state;
	struct sim *s = sim_new(16, 1);
	s->load = 1;
	run(s, 100);
	unsigned base_ups = s->ups;
	assert_true(base_ups <= 1);
	s->load = 10;
	run(s, 160);
	assert_true(s->active >= 12);
	unsigned burst_ups = s->ups - base_ups;
	assert_true(burst_ups >= 2 && burst_ups <= 4);
	uint32_t peak = s->active;
	/* Noise: 2 and 5 workers' worth, 5 s each. */
	while (s->t < 1200) {
		s->load = ((long)s->t / 5) % 2 ? 5 : 2;
		step(s);
		assert_true(s->active <= peak);
	}
	/* Held 300 s after the burst, then -1 per 60 s down to what the noisy
	 * peaks want (5 / 0.8 → 7), and no more. */
	assert_true(s->first_down >= 459);
	assert_int_equal(s->active, 7);
	assert_int_equal(s->downs, peak - 7);
	assert_int_equal(s->reversals, 1);
	free(s);
}

/* A load flapping every 10 s: scale up to its peak, never down. */
static void test_flapping_load(void **state)
{
	(void)state;
	struct sim *s = sim_new(16, 1);
	while (s->t < 600) {
		s->load = ((long)s->t / 10) % 2 ? 2 : 8;
		step(s);
	}
	assert_int_equal(s->downs, 0);
	assert_true(s->ups <= 4); /* saturated workers show the need in steps */
	assert_int_equal(s->active, 10); /* 8 / 0.8 */
	free(s);
}

/* Ticks of 0.25 s: 1200 recommendations a window, but equal runs merge. */
static void test_fast_ticks(void **state)
{
	(void)state;
	struct sim *s = sim_new(8, 8);
	s->dt = 0.25;
	s->load = 8;
	run(s, 100);
	s->load = 1;
	run(s, 1000);
	assert_true(fabs(s->first_down - 399.75) < 1e-9);
	assert_int_equal(s->active, 2);
	assert_true(s->st.n_recs <= 4);
	free(s);

	/* A recommendation that changes every tick fills the ring: noted. */
	s = sim_new(16, 8);
	s->dt = 0.25;
	s->c.target_queue_per_worker = 0;
	bool noted = false;
	for (int i = 0; i < 2000; i++) {
		s->in.busy_avg = i % 2 ? 0.8 : 8;
		step(s);
		noted |= has_note(&s->p, "recommendation history full");
	}
	assert_true(noted);
	assert_int_equal(s->st.n_recs, POL_AS_HISTORY);
	free(s);
}

static void test_time_backwards(void **state)
{
	(void)state;
	struct sim *s = sim_new(8, 8);
	s->load = 8;
	run(s, 100);
	s->load = 1;
	s->t = 50;
	assert_int_equal(step(s), 8);
	assert_true(has_note(&s->p, "time went backwards"));
	step(s);
	assert_false(has_note(&s->p, "time went backwards"));
	/* The high recommendations count as of t 50: 300 s more. */
	run(s, 350);
	assert_int_equal(s->active, 8);
	assert_int_equal(step(s), 7);
	free(s);
}

/* --- reasons and JSON ------------------------------------------------------------------------ */

/* All three metrics, a window, then a cap: the reason still fits, naming
 * each metric and what decided. */
static void test_reason_fits(void **state)
{
	(void)state;
	struct sim *s = sim_new(256, 200);
	s->in.busy_avg = 199.5;
	s->in.queued[0] = 1000;
	s->in.queue_p95_s = 12.5;
	assert_int_equal(step(s), 256);
	s->in.busy_avg = 1;
	s->in.queued[0] = 0;
	s->in.queue_p95_s = 0.01;
	assert_int_equal(step(s), 256);
	assert_true(strlen(s->p.active_why.why) < POL_REASON - 1);
	assert_true(why_has(s, "utilization 0.00"));
	assert_true(why_has(s, "queue/worker 0.0"));
	assert_true(why_has(s, "queue p95 0.010"));
	assert_true(why_has(s, "desired 26, held by the 300 s down-stabilization window at 256"));
	s->cap = 100;
	assert_int_equal(step(s), 100);
	assert_true(strlen(s->p.active_why.why) < POL_REASON - 1);
	assert_true(why_has(s, "utilization 0.00/0.80 → 2"));
	assert_true(why_has(s, "queue/worker 0.0"));
	assert_true(why_has(s, "queue p95 0.010"));
	assert_true(why_has(s, "capped at 100 by thermal"));
	assert_non_null(strstr(s->st.metrics, "queue p95"));
	free(s);
}

static void test_json(void **state)
{
	(void)state;
	struct sim *s = sim_new(16, 1);
	s->c.max_workers = 12;
	s->c.min_workers = 2;
	s->load = 12;
	step(s);
	cJSON *o = pol_autoscale_json(&s->c, &s->in, &s->st);
	assert_non_null(o);
	assert_int_equal(cJSON_GetObjectItem(o, "current")->valuedouble, 5);
	assert_int_equal(cJSON_GetObjectItem(o, "desired")->valuedouble, 22);
	assert_int_equal(cJSON_GetObjectItem(o, "min")->valuedouble, 2);
	assert_int_equal(cJSON_GetObjectItem(o, "max")->valuedouble, 12);
	const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(o, "metrics"));
	assert_non_null(m);
	assert_non_null(strstr(m, "utilization 1.00 (target 0.80) → 2"));
	cJSON_Delete(o);

	/* Before the first step: the daemon's count. */
	pol_autoscale_init(&s->st);
	s->in.active = 3;
	o = pol_autoscale_json(&s->c, &s->in, &s->st);
	assert_non_null(o);
	assert_int_equal(cJSON_GetObjectItem(o, "current")->valuedouble, 3);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "metrics")), "");
	cJSON_Delete(o);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_scales_up_in_one_tick),
		cmocka_unit_test(test_rate_limit_percent),
		cmocka_unit_test(test_rate_limit_pods),
		cmocka_unit_test(test_no_rate_policy),
		cmocka_unit_test(test_queue_p95),
		cmocka_unit_test(test_scale_down_stabilization),
		cmocka_unit_test(test_scale_down_percent),
		cmocka_unit_test(test_tolerance),
		cmocka_unit_test(test_separate_tolerances),
		cmocka_unit_test(test_min_max),
		cmocka_unit_test(test_worker_cap_applied_and_lifted),
		cmocka_unit_test(test_no_metrics),
		cmocka_unit_test(test_autoscale_off),
		cmocka_unit_test(test_burst_trace_no_flapping),
		cmocka_unit_test(test_flapping_load),
		cmocka_unit_test(test_fast_ticks),
		cmocka_unit_test(test_time_backwards),
		cmocka_unit_test(test_reason_fits),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests_name("policies/autoscale", tests, NULL, NULL);
}
