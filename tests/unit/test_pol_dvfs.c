/* Unit tests for policies/dvfs.c over simulated time (1 s ticks): idle
 * after idle_s, an immediate wake, boost after busy_s, the hold_s
 * hysteresis (switches counted on flapping queues), memory-bound phases
 * entered and left with hysteresis, the PMU-unavailable note, counter
 * resets, and the JSON. */
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

#include <cjson/cJSON.h>

#include "policies/dvfs.h"

#define T0 5000.0

static struct pol_inputs in;
static struct pol_plan plan;
static struct pol_config cfg;
static struct pol_dvfs_state st;

/* --- helpers --------------------------------------------------------------------- */

static void reset(void)
{
	memset(&in, 0, sizeof(in));
	memset(&plan, 0, sizeof(plan));
	pol_config_defaults(&cfg);
	pol_dvfs_init(&st);
	in.daemon_available = true;
	in.workers = in.active = 4;
	in.busy = 0;
	in.busy_avg = in.jobs_per_s = in.latency_p99_s = in.queue_p95_s = NAN;
	in.joules_per_inference = NAN;
	in.pmu_available = true;
	in.cycles = in.instructions = in.cache_references = in.cache_misses = 0;
}

static void step_at(double t)
{
	in.time = t;
	pol_plan_init(&plan, &in, POL_BALANCED);
	pol_dvfs_step(&cfg, &in, &st, &plan);
	assert_true(plan.dvfs_why.set);
	assert_int_equal(plan.dvfs_why.by, POL_SRC_DVFS);
}

static void queue(uint32_t queued, double busy)
{
	in.queued[0] = 0;
	in.queued[1] = queued;
	in.queued[2] = 0;
	in.busy = busy;
}

static bool has_note(const char *sub)
{
	for (size_t i = 0; i < plan.n_notes; i++)
		if (strstr(plan.notes[i], sub))
			return true;
	return false;
}

/* Advances the cumulative PMU sums by one interval's worth. */
static void pmu_add(double cycles, double ipc, double refs, double miss_ratio)
{
	in.cycles += cycles;
	in.instructions += cycles * ipc;
	in.cache_references += refs;
	in.cache_misses += refs * miss_ratio;
}

/* --- levels ---------------------------------------------------------------------- */

static void test_names_and_init(void **state)
{
	(void)state;
	assert_string_equal(pol_dvfs_level_name(POL_DVFS_IDLE), "idle");
	assert_string_equal(pol_dvfs_level_name(POL_DVFS_NORMAL), "normal");
	assert_string_equal(pol_dvfs_level_name(POL_DVFS_BOOST), "boost");
	assert_string_equal(pol_dvfs_level_name((enum pol_dvfs_level)7), "?");
	pol_dvfs_init(&st);
	assert_int_equal(st.level, POL_DVFS_NORMAL);
	assert_false(st.mem_bound);
	assert_true(isnan(st.level_since) && isnan(st.empty_since) && isnan(st.queued_since));
	assert_true(isnan(st.ipc) && isnan(st.miss_ratio));
}

static void test_idle_after_idle_s(void **state)
{
	(void)state;
	reset();
	queue(0, 0);
	for (int t = 0; t <= 30; t++) {
		step_at(T0 + t);
		if (t < 10) {
			assert_int_equal(plan.dvfs_level, POL_DVFS_NORMAL);
		} else {
			assert_int_equal(plan.dvfs_level, POL_DVFS_IDLE);
		}
		if (t == 9)
			assert_string_equal(plan.dvfs_why.why, "queue empty for 9 s (idle after 10 s)");
		if (t == 12)
			assert_string_equal(plan.dvfs_why.why, "queue empty for 12 s");
		/* DVFS never caps memory on its own */
		assert_true(plan.mem_cap_ratio == 1.0);
	}

	/* configured idle_s */
	reset();
	cfg.idle_s = 2;
	queue(0, 0);
	step_at(T0);
	step_at(T0 + 1);
	assert_int_equal(plan.dvfs_level, POL_DVFS_NORMAL);
	step_at(T0 + 2);
	assert_int_equal(plan.dvfs_level, POL_DVFS_IDLE);
}

static void test_busy_workers_are_not_idle(void **state)
{
	(void)state;
	/* workers busy with nothing queued: normal, never idle, never boost */
	reset();
	queue(0, 2);
	for (int t = 0; t <= 60; t++) {
		step_at(T0 + t);
		assert_int_equal(plan.dvfs_level, POL_DVFS_NORMAL);
	}
	assert_string_equal(plan.dvfs_why.why, "2 workers busy, nothing queued");

	/* busy unknown: never idle on a guess */
	reset();
	queue(0, NAN);
	for (int t = 0; t <= 30; t++)
		step_at(T0 + t);
	assert_int_equal(plan.dvfs_level, POL_DVFS_NORMAL);
	assert_string_equal(plan.dvfs_why.why, "nothing queued, busy workers unknown");

	/* no daemon figures: normal */
	reset();
	in.daemon_available = false;
	step_at(T0);
	assert_int_equal(plan.dvfs_level, POL_DVFS_NORMAL);
	assert_string_equal(plan.dvfs_why.why, "queue unknown (daemon figures unavailable)");
}

static void test_immediate_wake(void **state)
{
	(void)state;
	reset();
	queue(0, 0);
	for (int t = 0; t <= 10; t++)
		step_at(T0 + t);
	assert_int_equal(plan.dvfs_level, POL_DVFS_IDLE); /* switched at 10 */
	/* a job arrives 1 s after the switch: normal at once despite hold_s */
	queue(1, 0);
	step_at(T0 + 11);
	assert_int_equal(plan.dvfs_level, POL_DVFS_NORMAL);
	assert_string_equal(plan.dvfs_why.why, "1 jobs queued for 0 s (boost after 3 s)");

	/* a worker picking a job up (busy, nothing queued) wakes too */
	reset();
	queue(0, 0);
	for (int t = 0; t <= 10; t++)
		step_at(T0 + t);
	assert_int_equal(plan.dvfs_level, POL_DVFS_IDLE);
	queue(0, 1);
	step_at(T0 + 11);
	assert_int_equal(plan.dvfs_level, POL_DVFS_NORMAL);

	/* and it is held now: empty again does not go back to idle before
	 * idle_s of emptiness (and hold_s) */
	queue(0, 0);
	for (int t = 12; t < 22; t++) {
		step_at(T0 + t);
		assert_int_equal(plan.dvfs_level, POL_DVFS_NORMAL);
	}
	step_at(T0 + 22);
	assert_int_equal(plan.dvfs_level, POL_DVFS_IDLE);
}

static void test_boost_after_busy_s(void **state)
{
	(void)state;
	reset();
	queue(2, 4);
	for (int t = 0; t <= 10; t++) {
		step_at(T0 + t);
		assert_int_equal(plan.dvfs_level, t < 3 ? POL_DVFS_NORMAL : POL_DVFS_BOOST);
		if (t == 2)
			assert_string_equal(plan.dvfs_why.why, "2 jobs queued for 2 s (boost after 3 s)");
		if (t == 3)
			assert_string_equal(plan.dvfs_why.why, "2 jobs queued for 3 s");
	}
	/* all classes count */
	reset();
	in.queued[0] = 1;
	in.queued[2] = 2;
	for (int t = 0; t <= 3; t++)
		step_at(T0 + t);
	assert_int_equal(plan.dvfs_level, POL_DVFS_BOOST);
	assert_string_equal(plan.dvfs_why.why, "3 jobs queued for 3 s");

	/* the queue must stay non-empty the whole time */
	reset();
	for (int t = 0; t <= 20; t++) {
		queue(t % 3 == 2 ? 0 : 5, 4); /* empty every third tick */
		step_at(T0 + t);
		assert_int_equal(plan.dvfs_level, POL_DVFS_NORMAL);
	}
}

static void test_hold_hysteresis(void **state)
{
	(void)state;
	reset();
	queue(2, 4);
	for (int t = 0; t <= 3; t++)
		step_at(T0 + t);
	assert_int_equal(plan.dvfs_level, POL_DVFS_BOOST); /* switched at 3 */
	/* the queue drains at 4: boost is kept until 3 + hold_s */
	queue(0, 1);
	for (int t = 4; t < 8; t++) {
		step_at(T0 + t);
		assert_int_equal(plan.dvfs_level, POL_DVFS_BOOST);
	}
	step_at(T0 + 7);
	assert_string_equal(plan.dvfs_why.why,
			    "boost kept 1 s more (hold 5 s): 1 workers busy, nothing queued");
	step_at(T0 + 8);
	assert_int_equal(plan.dvfs_level, POL_DVFS_NORMAL);
	assert_string_equal(plan.dvfs_why.why, "1 workers busy, nothing queued");

	/* hold_s 0: no hysteresis */
	reset();
	cfg.hold_s = 0;
	queue(2, 4);
	for (int t = 0; t <= 3; t++)
		step_at(T0 + t);
	queue(0, 1);
	step_at(T0 + 4);
	assert_int_equal(plan.dvfs_level, POL_DVFS_NORMAL);
}

/* Runs a queue pattern for n ticks and counts level switches; also checks
 * that every switch but a wake from idle comes hold_s after the one before. */
static unsigned run_pattern(const char *pattern, int n, double hold_s)
{
	reset();
	cfg.hold_s = hold_s;
	size_t len = strlen(pattern);
	unsigned switches = 0;
	enum pol_dvfs_level last = POL_DVFS_NORMAL;
	double last_switch = NAN;
	for (int t = 0; t < n; t++) {
		/* '.' empty, 'b' busy only, 'q' jobs queued */
		char ch = pattern[(size_t)t % len];
		queue(ch == 'q' ? 3 : 0, ch == '.' ? 0 : 2);
		step_at(T0 + t);
		if (plan.dvfs_level != last) {
			bool wake = last == POL_DVFS_IDLE;
			if (!wake && !isnan(last_switch) && T0 + t - last_switch < hold_s)
				fail_msg("switch at %d only %.0f s after the last", t,
					 T0 + t - last_switch);
			switches++;
			last = plan.dvfs_level;
			last_switch = T0 + t;
		}
	}
	return switches;
}

static void test_flapping_queue_bounded(void **state)
{
	(void)state;
	/* toggling every tick: neither idle_s nor busy_s is ever reached */
	assert_int_equal(run_pattern("q.", 600, 5), 0);
	assert_int_equal(run_pattern("qb", 600, 5), 0);
	/* 4 s queued, 2 s empty: boost is due every cycle, normal after; the
	 * hold caps it at one switch per 5 s, and without the hold it is more */
	unsigned held = run_pattern("qqqq..", 600, 5);
	unsigned free_run = run_pattern("qqqq..", 600, 0);
	assert_true(held > 0);
	assert_true(held <= 600 / 5 + 1);
	assert_true(free_run > held);
	/* empty for 11 s, a 1 s blip: idle at the 10th empty second, then an
	 * immediate wake: exactly two switches per 12 s cycle */
	unsigned blips = run_pattern("...........b", 600, 5);
	assert_int_equal(blips, 2 * (600 / 12));
	/* a long random-looking trace stays within the bound */
	char trace[257];
	uint32_t x = 12345;
	for (size_t i = 0; i < 256; i++) {
		x = x * 1103515245u + 12345u;
		unsigned r = (x >> 16) % 10;
		trace[i] = r < 5 ? 'q' : r < 8 ? '.' : 'b';
	}
	trace[256] = '\0';
	unsigned rnd = run_pattern(trace, 3600, 5);
	assert_true(rnd <= 2 * (3600 / 5) + 1);
}

/* --- memory-bound ------------------------------------------------------------------ */

static void test_memory_bound_enter_exit(void **state)
{
	(void)state;
	reset();
	queue(1, 2);
	step_at(T0); /* first tick: a base, nothing judged */
	assert_true(isnan(st.ipc));
	assert_false(st.mem_bound);
	int entered = -1, left = -1;
	for (int t = 1; t <= 30; t++) {
		if (t <= 12)
			pmu_add(1e9, 0.41, 1e7, 0.52);  /* memory-bound */
		else
			pmu_add(1e9, 1.8, 1e7, 0.05);   /* compute-bound */
		step_at(T0 + t);
		if (plan.mem_cap_ratio < 1 && entered < 0)
			entered = t;
		if (entered >= 0 && plan.mem_cap_ratio == 1 && left < 0)
			left = t;
		if (t == 6) {
			assert_true(st.mem_bound);
			assert_true(fabs(plan.mem_cap_ratio - 0.7) < 1e-12);
			assert_true(plan.mem_why.set);
			assert_int_equal(plan.mem_why.by, POL_SRC_DVFS);
			assert_string_equal(plan.mem_why.why,
					    "memory-bound: IPC 0.41, cache miss ratio 0.52");
		}
		assert_int_equal(plan.n_notes, 0);
	}
	/* the condition holds from t=1: enter 3 s later; it stops at 13: leave 5 s later */
	assert_int_equal(entered, 4);
	assert_int_equal(left, 18);
	assert_true(fabs(st.ipc - 1.8) < 1e-9);
	assert_true(fabs(st.miss_ratio - 0.05) < 1e-9);
	assert_false(plan.mem_why.set);
}

static void test_memory_bound_hysteresis(void **state)
{
	(void)state;
	reset();
	cfg.memory_bound_freq_ratio = 0.6;
	step_at(T0);
	/* one memory-bound interval between compute ones never enters */
	for (int t = 1; t <= 20; t++) {
		if (t % 3 == 0)
			pmu_add(2e8, 0.3, 1e5, 0.6);
		else
			pmu_add(2e8, 1.2, 1e5, 0.6); /* misses but high IPC: not bound */
		step_at(T0 + t);
		assert_true(plan.mem_cap_ratio == 1.0);
	}
	/* enter */
	for (int t = 21; t <= 24; t++) {
		pmu_add(2e8, 0.3, 1e5, 0.6);
		step_at(T0 + t);
	}
	assert_true(st.mem_bound);
	assert_true(plan.mem_cap_ratio == 0.6);
	/* short compute blips (4 s) inside the phase never leave */
	for (int t = 25; t <= 60; t++) {
		if (t % 5 == 0)
			pmu_add(2e8, 0.3, 1e5, 0.6);
		else
			pmu_add(2e8, 0.9, 1e5, 0.1);
		step_at(T0 + t);
		assert_true(plan.mem_cap_ratio == 0.6);
	}
	/* the boundary is strict: IPC exactly 0.7 is not below 0.7 */
	reset();
	step_at(T0);
	for (int t = 1; t <= 10; t++) {
		pmu_add(1e9, 0.75, 1e7, 0.9);
		step_at(T0 + t);
	}
	assert_false(st.mem_bound);
}

static void test_memory_bound_little_work(void **state)
{
	(void)state;
	reset();
	step_at(T0);
	for (int t = 1; t <= 4; t++) {
		pmu_add(1e9, 0.4, 1e7, 0.5);
		step_at(T0 + t);
	}
	assert_true(st.mem_bound);
	/* idle workers: too few cycles or references to judge, state kept */
	for (int t = 5; t <= 30; t++) {
		if (t % 2)
			pmu_add(5e5, 2.0, 1e7, 0.0);  /* dcycles < 1e6 */
		else
			pmu_add(5e9, 2.0, 500, 0.0);  /* drefs < 1e3 */
		step_at(T0 + t);
		assert_true(st.mem_bound);
		assert_true(plan.mem_cap_ratio == 0.7);
		assert_true(fabs(st.ipc - 0.4) < 1e-9); /* the last judged interval */
	}
	/* not bound and little work: nothing entered either */
	reset();
	step_at(T0);
	for (int t = 1; t <= 30; t++) {
		pmu_add(1e5, 0.1, 1e7, 0.9);
		step_at(T0 + t);
	}
	assert_false(st.mem_bound);
	assert_true(isnan(st.ipc));
}

static void test_pmu_unavailable_note(void **state)
{
	(void)state;
	reset();
	in.pmu_available = false;
	snprintf(in.pmu_reason, sizeof(in.pmu_reason), "perf_event_paranoid is 4");
	in.cycles = in.instructions = in.cache_references = in.cache_misses = NAN;
	for (int t = 0; t < 5; t++) {
		step_at(T0 + t);
		/* every tick, same text */
		assert_int_equal(plan.n_notes, 1);
		assert_int_equal(plan.note_by[0], POL_SRC_DVFS);
		assert_string_equal(plan.notes[0],
				    "memory-bound detection skipped: PMU unavailable "
				    "(perf_event_paranoid is 4)");
		assert_true(plan.mem_cap_ratio == 1.0);
		assert_false(st.mem_bound);
	}
	/* the PMU going away in a memory-bound phase lifts the cap */
	reset();
	step_at(T0);
	for (int t = 1; t <= 4; t++) {
		pmu_add(1e9, 0.4, 1e7, 0.5);
		step_at(T0 + t);
	}
	assert_true(plan.mem_cap_ratio == 0.7);
	in.pmu_available = false;
	step_at(T0 + 5);
	assert_true(plan.mem_cap_ratio == 1.0);
	assert_true(has_note("PMU unavailable (no reason given)"));
	/* back: a fresh base first, then judged again */
	in.pmu_available = true;
	pmu_add(1e9, 0.4, 1e7, 0.5);
	step_at(T0 + 6);
	assert_true(isnan(st.ipc));
	assert_int_equal(plan.n_notes, 0);

	/* an event not counted (NAN) */
	reset();
	in.cache_misses = NAN;
	step_at(T0);
	assert_true(has_note("memory-bound detection skipped: cache misses not counted"));

	/* memory_bound off, or DVFS off: no detection and no note */
	reset();
	in.pmu_available = false;
	cfg.memory_bound = false;
	step_at(T0);
	assert_int_equal(plan.n_notes, 0);
	cfg.memory_bound = true;
	cfg.dvfs = false;
	queue(0, 0);
	for (int t = 1; t <= 20; t++)
		step_at(T0 + t);
	assert_int_equal(plan.n_notes, 0);
	assert_int_equal(plan.dvfs_level, POL_DVFS_NORMAL);
	assert_string_equal(plan.dvfs_why.why, "DVFS off");
}

static void test_counter_reset(void **state)
{
	(void)state;
	reset();
	step_at(T0);
	for (int t = 1; t <= 4; t++) {
		pmu_add(1e9, 0.4, 1e7, 0.5);
		step_at(T0 + t);
	}
	assert_true(st.mem_bound);
	/* the workers restarted: the sums begin again, far below the last */
	in.cycles = 2e9;
	in.instructions = 3.6e9;      /* a bogus IPC 1.8 if judged against 0 */
	in.cache_references = 1e7;
	in.cache_misses = 1e5;
	step_at(T0 + 5);
	assert_true(st.mem_bound);    /* nothing judged: state kept */
	assert_true(fabs(st.ipc - 0.4) < 1e-9);
	assert_true(st.prev_cycles == 2e9);
	/* the next interval is judged against the new base */
	pmu_add(1e9, 0.45, 1e7, 0.5);
	step_at(T0 + 6);
	assert_true(fabs(st.ipc - 0.45) < 1e-9);
	assert_true(st.mem_bound);
	/* one counter alone going back is a reset too */
	in.cache_misses -= 1;
	in.cycles += 1e9;
	step_at(T0 + 7);
	assert_true(fabs(st.ipc - 0.45) < 1e-9);
}

static void test_clock_back_restarts(void **state)
{
	(void)state;
	reset();
	queue(0, 0);
	for (int t = 0; t <= 12; t++)
		step_at(T0 + t);
	assert_int_equal(plan.dvfs_level, POL_DVFS_IDLE);
	/* a replay started over: times go back; state starts over */
	step_at(T0 - 100);
	assert_int_equal(plan.dvfs_level, POL_DVFS_NORMAL);
	assert_string_equal(plan.dvfs_why.why, "queue empty for 0 s (idle after 10 s)");
}

static void test_json(void **state)
{
	(void)state;
	reset();
	in.pmu_available = false;
	snprintf(in.pmu_reason, sizeof(in.pmu_reason), "no PMU in this VM");
	step_at(T0);
	cJSON *j = pol_dvfs_json(&in, &st);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring, "normal");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "memory_bound")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "ipc")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "cache_miss_ratio")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "pmu")));
	assert_string_equal(cJSON_GetObjectItem(j, "pmu_reason")->valuestring, "no PMU in this VM");
	cJSON_Delete(j);

	reset();
	queue(0, 0);
	step_at(T0);
	for (int t = 1; t <= 10; t++) {
		pmu_add(1e9, 0.5, 1e7, 0.4);
		step_at(T0 + t);
	}
	j = pol_dvfs_json(&in, &st);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring, "idle");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "memory_bound")));
	assert_true(fabs(cJSON_GetObjectItem(j, "ipc")->valuedouble - 0.5) < 1e-9);
	assert_true(fabs(cJSON_GetObjectItem(j, "cache_miss_ratio")->valuedouble - 0.4) < 1e-9);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "pmu")));
	assert_null(cJSON_GetObjectItem(j, "pmu_reason"));
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_init),
		cmocka_unit_test(test_idle_after_idle_s),
		cmocka_unit_test(test_busy_workers_are_not_idle),
		cmocka_unit_test(test_immediate_wake),
		cmocka_unit_test(test_boost_after_busy_s),
		cmocka_unit_test(test_hold_hysteresis),
		cmocka_unit_test(test_flapping_queue_bounded),
		cmocka_unit_test(test_memory_bound_enter_exit),
		cmocka_unit_test(test_memory_bound_hysteresis),
		cmocka_unit_test(test_memory_bound_little_work),
		cmocka_unit_test(test_pmu_unavailable_note),
		cmocka_unit_test(test_counter_reset),
		cmocka_unit_test(test_clock_back_restarts),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests_name("policies/dvfs", tests, NULL, NULL);
}
