/* Unit tests for policies/affinity.c: P/E classification from cpu_capacity
 * (first) or hwloc's CPU kinds, the accept mask of each worker per job class
 * with the fallback when a kind has no active worker, heavy models, and
 * re-pinning when the daemon's cpuset loses a worker's CPU or workers crowd
 * one CPU while an allowed one is free. Inputs are built in C, and from the
 * fixture machines' cpufreq sources. */
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

#include "policies/affinity.h"
#include "tm_fixture.h"

#define I POL_CLASS_INTERACTIVE
#define N POL_CLASS_NORMAL
#define B POL_CLASS_BATCH
#define H POL_ACCEPT_HEAVY
#define EVERY (POL_CLASS_ALL | POL_ACCEPT_HEAVY)

/* --- fixture --------------------------------------------------------------------------------- */

struct env {
	struct pol_config c;
	struct pol_inputs in;
	struct pol_affinity_state st;
	struct pol_plan p;
};

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	pol_config_defaults(&e->c);
	e->in.time = 100;
	e->in.interval_s = 1;
	e->in.cpufreq_available = true;
	e->in.daemon_available = true;
	e->in.busy = e->in.busy_avg = NAN;
	pol_affinity_init(&e->st);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	free(*state);
	return 0;
}

static void cpu_add(struct env *e, int cpu, int capacity)
{
	struct pol_cpu *c = &e->in.cpus[e->in.n_cpus++];
	memset(c, 0, sizeof(*c));
	c->cpu = cpu;
	c->online = true;
	c->capacity = capacity;
	c->cur_hz = c->min_hz = c->max_hz = c->hw_min_hz = c->hw_max_hz = NAN;
}

/* A worker pinned to cpu (-1: unpinned) with hwloc's kind (0 unknown). */
static void worker_add(struct env *e, int cpu, enum pol_core_kind hwloc)
{
	size_t w = e->in.n_worker_cpus++;
	e->in.worker_cpus[w] = cpu;
	e->in.worker_kind[w] = (uint8_t)hwloc;
	e->in.workers = e->in.active = (uint32_t)e->in.n_worker_cpus;
}

static void allow(struct env *e, int cpu)
{
	e->in.allowed_cpus[e->in.n_allowed_cpus++] = cpu;
}

static void model_add(struct env *e, const char *name, double p50_s)
{
	size_t m = e->in.n_models++;
	snprintf(e->in.models[m].name, sizeof(e->in.models[m].name), "%s", name);
	e->in.models[m].compute_p50_s = p50_s;
}

/* One step with `active` workers kept by the autoscaler (0: leave). */
static void step(struct env *e, uint32_t active)
{
	pol_plan_init(&e->p, &e->in, POL_BALANCED);
	e->p.active_workers = active;
	pol_affinity_step(&e->c, &e->in, &e->st, &e->p);
}

/* The hybrid fixture's cores: 0-7 performance (1024), 8-11 efficiency (623). */
static void hybrid_cpus(struct env *e)
{
	for (int c = 0; c < 12; c++)
		cpu_add(e, c, c < 8 ? 1024 : 623);
}

static bool why_is(const struct env *e, const char *text)
{
	if (!e->p.placement_why.set || e->p.placement_why.by != POL_SRC_AFFINITY ||
	    strcmp(e->p.placement_why.why, text) != 0) {
		print_error("placement why: \"%s\" (set %d, by %d)\n  expected: \"%s\"\n",
			    e->p.placement_why.why, e->p.placement_why.set, e->p.placement_why.by,
			    text);
		return false;
	}
	return true;
}

static void assert_masks(const struct env *e, const uint32_t *want, size_t n)
{
	assert_int_equal(e->p.n_workers, n);
	for (size_t w = 0; w < n; w++)
		if (e->p.accept[w] != want[w])
			fail_msg("worker %zu accepts %#x, expected %#x", w, e->p.accept[w], want[w]);
}

static void assert_no_pins(const struct env *e)
{
	for (size_t w = 0; w < e->p.n_workers; w++)
		if (e->p.pin_cpu[w] != -1)
			fail_msg("worker %zu re-pinned to %d", w, e->p.pin_cpu[w]);
}

/* --- names ----------------------------------------------------------------------------------- */

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(pol_core_kind_name(POL_CORE_UNKNOWN), "unknown");
	assert_string_equal(pol_core_kind_name(POL_CORE_PERFORMANCE), "performance");
	assert_string_equal(pol_core_kind_name(POL_CORE_EFFICIENCY), "efficiency");
	assert_string_equal(pol_core_kind_name((enum pol_core_kind)3), "?");
	assert_string_equal(pol_core_kind_name((enum pol_core_kind)-1), "?");
}

/* --- classification -------------------------------------------------------------------------- */

static void test_classify_by_capacity(void **state)
{
	struct env *e = *state;
	hybrid_cpus(e);
	worker_add(e, 0, POL_CORE_UNKNOWN);
	worker_add(e, 8, POL_CORE_UNKNOWN);
	worker_add(e, 7, POL_CORE_UNKNOWN);
	worker_add(e, 11, POL_CORE_UNKNOWN);
	step(e, 0);
	assert_int_equal(e->st.n, 4);
	assert_int_equal(e->st.kind[0], POL_CORE_PERFORMANCE);
	assert_int_equal(e->st.kind[1], POL_CORE_EFFICIENCY);
	assert_int_equal(e->st.kind[2], POL_CORE_PERFORMANCE);
	assert_int_equal(e->st.kind[3], POL_CORE_EFFICIENCY);
	assert_true(e->st.hybrid);
}

/* Below efficiency_capacity_pct % of the largest is efficiency; at it is not. */
static void test_classify_threshold(void **state)
{
	struct env *e = *state;
	cpu_add(e, 0, 1000);
	cpu_add(e, 1, 800);
	cpu_add(e, 2, 799);
	cpu_add(e, 3, 0);
	for (int c = 0; c < 4; c++)
		worker_add(e, c, POL_CORE_UNKNOWN);
	step(e, 0);
	assert_int_equal(e->st.kind[0], POL_CORE_PERFORMANCE);
	assert_int_equal(e->st.kind[1], POL_CORE_PERFORMANCE);
	assert_int_equal(e->st.kind[2], POL_CORE_EFFICIENCY);
	assert_int_equal(e->st.kind[3], POL_CORE_EFFICIENCY);
	assert_true(e->st.hybrid);

	e->c.efficiency_capacity_pct = 50;
	step(e, 0);
	assert_int_equal(e->st.kind[2], POL_CORE_PERFORMANCE);
	assert_int_equal(e->st.kind[3], POL_CORE_EFFICIENCY);

	/* 0: nothing is an efficiency core */
	e->c.efficiency_capacity_pct = 0;
	step(e, 0);
	for (size_t w = 0; w < 4; w++)
		assert_int_equal(e->st.kind[w], POL_CORE_PERFORMANCE);
	assert_false(e->st.hybrid);
}

/* Without cpu_capacity (x86), hwloc's kinds decide. */
static void test_classify_by_hwloc(void **state)
{
	struct env *e = *state;
	for (int c = 0; c < 4; c++)
		cpu_add(e, c, -1);
	worker_add(e, 0, POL_CORE_PERFORMANCE);
	worker_add(e, 1, POL_CORE_EFFICIENCY);
	worker_add(e, 2, POL_CORE_UNKNOWN);
	worker_add(e, -1, POL_CORE_EFFICIENCY); /* unpinned: still hwloc's word */
	step(e, 0);
	assert_int_equal(e->st.kind[0], POL_CORE_PERFORMANCE);
	assert_int_equal(e->st.kind[1], POL_CORE_EFFICIENCY);
	assert_int_equal(e->st.kind[2], POL_CORE_UNKNOWN);
	assert_int_equal(e->st.kind[3], POL_CORE_EFFICIENCY);
	assert_true(e->st.hybrid);

	/* a kind out of range is unknown */
	e->in.worker_kind[0] = 7;
	step(e, 0);
	assert_int_equal(e->st.kind[0], POL_CORE_UNKNOWN);
	assert_true(e->st.hybrid == false);
}

/* cpu_capacity first: the scheduler's own view beats hwloc's, where known. */
static void test_capacity_beats_hwloc(void **state)
{
	struct env *e = *state;
	cpu_add(e, 0, 1024);
	cpu_add(e, 1, 1024);
	cpu_add(e, 2, -1);
	worker_add(e, 0, POL_CORE_EFFICIENCY);
	worker_add(e, 1, POL_CORE_PERFORMANCE);
	step(e, 0);
	assert_int_equal(e->st.kind[0], POL_CORE_PERFORMANCE);
	assert_int_equal(e->st.kind[1], POL_CORE_PERFORMANCE);
	assert_false(e->st.hybrid);
	/* a worker whose CPU has no capacity (or is not listed) falls back to hwloc */
	worker_add(e, 2, POL_CORE_EFFICIENCY);
	worker_add(e, 300, POL_CORE_EFFICIENCY);
	step(e, 0);
	assert_int_equal(e->st.kind[2], POL_CORE_EFFICIENCY);
	assert_int_equal(e->st.kind[3], POL_CORE_EFFICIENCY);
	assert_true(e->st.hybrid);
}

/* No capacities and no kinds: every kind unknown. */
static void test_classify_nothing_known(void **state)
{
	struct env *e = *state;
	worker_add(e, 0, POL_CORE_UNKNOWN);
	worker_add(e, 1, POL_CORE_UNKNOWN);
	step(e, 0);
	assert_int_equal(e->st.kind[0], POL_CORE_UNKNOWN);
	assert_int_equal(e->st.kind[1], POL_CORE_UNKNOWN);
	assert_false(e->st.hybrid);
	const uint32_t want[] = { EVERY, EVERY };
	assert_masks(e, want, 2);
	assert_true(why_is(e, "one kind of core: every worker takes every job"));
}

/* --- one kind: every worker takes every job -------------------------------------------------- */

static void test_one_kind(void **state)
{
	struct env *e = *state;
	for (int c = 0; c < 16; c++)
		cpu_add(e, c, 1024);
	for (int c = 0; c < 4; c++) {
		worker_add(e, c, POL_CORE_UNKNOWN);
		allow(e, c);
	}
	model_add(e, "huge", 5.0);
	step(e, 2);
	assert_false(e->st.hybrid);
	const uint32_t want[] = { EVERY, EVERY, EVERY, EVERY };
	assert_masks(e, want, 4);
	assert_no_pins(e);
	assert_false(e->p.heavy[0]); /* nowhere better to send it */
	assert_true(why_is(e, "one kind of core: every worker takes every job"));
}

/* --- hybrid: masks per class ------------------------------------------------------------------ */

static void hybrid_workers(struct env *e)
{
	hybrid_cpus(e);
	worker_add(e, 0, POL_CORE_UNKNOWN);
	worker_add(e, 1, POL_CORE_UNKNOWN);
	worker_add(e, 8, POL_CORE_UNKNOWN);
	worker_add(e, 9, POL_CORE_UNKNOWN);
	for (int c = 0; c < 12; c++)
		allow(e, c);
}

static void test_hybrid_default_rules(void **state)
{
	struct env *e = *state;
	hybrid_workers(e);
	step(e, 0);
	assert_true(e->st.hybrid);
	/* interactive and heavy on P, batch on E, normal anywhere */
	const uint32_t want[] = { I | N | H, I | N | H, N | B, N | B };
	assert_masks(e, want, 4);
	assert_no_pins(e);
	assert_true(why_is(e, "hybrid cores: interactive on performance, normal on any, batch on "
			      "efficiency; heavy models on performance"));
	/* active_workers equal to (or above) the workers: all active, the same */
	step(e, 4);
	assert_masks(e, want, 4);
	step(e, 9);
	assert_masks(e, want, 4);
}

/* The autoscaler parks the last workers: with both E workers parked, batch
 * falls back to every worker. */
static void test_fallback_no_active_efficiency(void **state)
{
	struct env *e = *state;
	hybrid_workers(e);
	step(e, 2);
	const uint32_t want[] = { I | N | B | H, I | N | B | H, N | B, N | B };
	assert_masks(e, want, 4);
	assert_true(why_is(e, "hybrid cores: interactive on performance, normal on any, batch on "
			      "efficiency; heavy models on performance; fallback: no active "
			      "efficiency core"));
	/* one E worker active again: the rule holds again */
	step(e, 3);
	const uint32_t back[] = { I | N | H, I | N | H, N | B, N | B };
	assert_masks(e, back, 4);
}

/* E workers first: with the P workers parked, interactive and heavy jobs
 * fall back to every worker. */
static void test_fallback_no_active_performance(void **state)
{
	struct env *e = *state;
	hybrid_cpus(e);
	worker_add(e, 8, POL_CORE_UNKNOWN);
	worker_add(e, 9, POL_CORE_UNKNOWN);
	worker_add(e, 0, POL_CORE_UNKNOWN);
	worker_add(e, 1, POL_CORE_UNKNOWN);
	model_add(e, "bert", 0.2);
	step(e, 2);
	assert_true(e->st.hybrid);
	assert_true(e->p.heavy[0]);
	const uint32_t want[] = { I | N | B | H, I | N | B | H, I | N | H, I | N | H };
	assert_masks(e, want, 4);
	assert_true(why_is(e, "hybrid cores: interactive on performance, normal on any, batch on "
			      "efficiency; heavy models on performance; fallback: no active "
			      "performance core"));
	/* a single active worker: everything falls to it, both kinds named once */
	e->c.place[1] = POL_PLACE_PERFORMANCE;
	step(e, 1);
	const uint32_t one[] = { I | N | B | H, I | N | B | H, I | N | H, I | N | H };
	assert_masks(e, one, 4);
	assert_true(strstr(e->p.placement_why.why, "fallback: no active performance core") != NULL);
	assert_null(strstr(strstr(e->p.placement_why.why, "fallback") + 9, "performance core, "));
}

/* Classes follow the [affinity] rules. */
static void test_placement_rules(void **state)
{
	struct env *e = *state;
	hybrid_workers(e);
	e->c.place[0] = POL_PLACE_ANY;
	e->c.place[1] = POL_PLACE_EFFICIENCY;
	e->c.place[2] = POL_PLACE_PERFORMANCE;
	step(e, 0);
	const uint32_t want[] = { I | B | H, I | B | H, I | N, I | N };
	assert_masks(e, want, 4);
	assert_true(why_is(e, "hybrid cores: interactive on any, normal on efficiency, batch on "
			      "performance; heavy models on performance"));
	/* everything anywhere: only heavy models are placed */
	e->c.place[0] = e->c.place[1] = e->c.place[2] = POL_PLACE_ANY;
	step(e, 0);
	const uint32_t any[] = { EVERY, EVERY, POL_CLASS_ALL, POL_CLASS_ALL };
	assert_masks(e, any, 4);
}

/* A worker of unknown kind on a hybrid machine takes only what may run
 * anywhere (and heavy models: it is not known to be an E core). */
static void test_unknown_worker_on_hybrid(void **state)
{
	struct env *e = *state;
	hybrid_cpus(e);
	worker_add(e, 0, POL_CORE_UNKNOWN);
	worker_add(e, 8, POL_CORE_UNKNOWN);
	worker_add(e, -1, POL_CORE_UNKNOWN);
	step(e, 0);
	assert_int_equal(e->st.kind[2], POL_CORE_UNKNOWN);
	const uint32_t want[] = { I | N | H, N | B, N | H };
	assert_masks(e, want, 3);
}

/* --- heavy models ---------------------------------------------------------------------------- */

static void test_heavy_models(void **state)
{
	struct env *e = *state;
	hybrid_workers(e);
	model_add(e, "tiny", 0.001);
	model_add(e, "edge", 0.050);   /* at heavy_ms: not above it */
	model_add(e, "bert", 0.0501);
	model_add(e, "llm", 3.0);
	step(e, 0);
	assert_false(e->p.heavy[0]);
	assert_false(e->p.heavy[1]);
	assert_true(e->p.heavy[2]);
	assert_true(e->p.heavy[3]);
	assert_int_equal(e->p.accept[0] & H, H);
	assert_int_equal(e->p.accept[2] & H, 0);

	/* heavy_ms 0: no model is heavy, every worker takes them */
	e->c.heavy_ms = 0;
	step(e, 0);
	for (size_t m = 0; m < 4; m++)
		assert_false(e->p.heavy[m]);
	const uint32_t want[] = { I | N | H, I | N | H, N | B | H, N | B | H };
	assert_masks(e, want, 4);

	e->c.heavy_ms = 1;
	step(e, 0);
	assert_false(e->p.heavy[0]);
	assert_true(e->p.heavy[1]);
}

/* --- off ------------------------------------------------------------------------------------- */

static void test_affinity_off(void **state)
{
	struct env *e = *state;
	hybrid_workers(e);
	model_add(e, "llm", 3.0);
	e->c.affinity = false;
	step(e, 2);
	assert_true(e->st.hybrid); /* still classified, for policy.get */
	const uint32_t want[] = { EVERY, EVERY, EVERY, EVERY };
	assert_masks(e, want, 4);
	assert_false(e->p.heavy[0]);
	assert_no_pins(e);
	assert_true(why_is(e, "affinity off: every worker takes every job"));
}

/* --- re-pinning ------------------------------------------------------------------------------ */

static void test_repin_lost_cpu(void **state)
{
	struct env *e = *state;
	for (int c = 0; c < 4; c++)
		cpu_add(e, c, 1024);
	worker_add(e, 0, POL_CORE_UNKNOWN);
	worker_add(e, 1, POL_CORE_UNKNOWN);
	worker_add(e, 3, POL_CORE_UNKNOWN);
	allow(e, 0);
	allow(e, 1);
	allow(e, 2);
	step(e, 0);
	assert_int_equal(e->p.pin_cpu[0], -1); /* already where the spread puts it */
	assert_int_equal(e->p.pin_cpu[1], -1);
	assert_int_equal(e->p.pin_cpu[2], 2);
	assert_true(why_is(e, "a worker's CPU left the cpuset: 3 workers spread over the 3 CPUs "
			      "of the daemon's cpuset"));
	/* the masks are untouched */
	const uint32_t want[] = { EVERY, EVERY, EVERY };
	assert_masks(e, want, 3);

	/* once moved, nothing more to do */
	e->in.worker_cpus[2] = 2;
	step(e, 0);
	assert_no_pins(e);
	assert_true(why_is(e, "one kind of core: every worker takes every job"));
}

/* The spread is in order: worker w to the (w mod n)-th allowed CPU. */
static void test_repin_spread_in_order(void **state)
{
	struct env *e = *state;
	for (int c = 0; c < 6; c++)
		worker_add(e, c, POL_CORE_UNKNOWN);
	allow(e, 0);
	allow(e, 1);
	allow(e, 3);
	step(e, 0);
	const int want[] = { -1, -1, 3, 0, 1, 3 };
	for (size_t w = 0; w < 6; w++)
		assert_int_equal(e->p.pin_cpu[w], want[w]);
	assert_true(why_is(e, "a worker's CPU left the cpuset: 6 workers spread over the 3 CPUs "
			      "of the daemon's cpuset"));
}

static void test_repin_crowded(void **state)
{
	struct env *e = *state;
	worker_add(e, 2, POL_CORE_UNKNOWN);
	worker_add(e, 2, POL_CORE_UNKNOWN);
	worker_add(e, 3, POL_CORE_UNKNOWN);
	allow(e, 2);
	allow(e, 3);
	allow(e, 4);
	allow(e, 5);
	step(e, 0);
	assert_int_equal(e->p.pin_cpu[0], -1);
	assert_int_equal(e->p.pin_cpu[1], 3);
	assert_int_equal(e->p.pin_cpu[2], 4);
	assert_true(why_is(e, "workers share a CPU while one is free: 3 workers spread over the 4 "
			      "CPUs of the daemon's cpuset"));
}

/* Sharing is fine when every allowed CPU is taken already. */
static void test_crowded_without_free_cpu(void **state)
{
	struct env *e = *state;
	worker_add(e, 0, POL_CORE_UNKNOWN);
	worker_add(e, 0, POL_CORE_UNKNOWN);
	worker_add(e, 1, POL_CORE_UNKNOWN);
	worker_add(e, 1, POL_CORE_UNKNOWN);
	allow(e, 0);
	allow(e, 1);
	step(e, 0);
	assert_no_pins(e);
	assert_true(why_is(e, "one kind of core: every worker takes every job"));
}

/* Unpinned workers, or no cpuset known: nothing to keep apart. */
static void test_no_repin_without_pins_or_cpuset(void **state)
{
	struct env *e = *state;
	worker_add(e, 5, POL_CORE_UNKNOWN);
	worker_add(e, -1, POL_CORE_UNKNOWN);
	worker_add(e, 5, POL_CORE_UNKNOWN);
	allow(e, 0);
	allow(e, 1);
	step(e, 0);
	assert_no_pins(e);

	e->in.worker_cpus[1] = 9; /* pinned, but the cpuset is unknown */
	e->in.n_allowed_cpus = 0;
	step(e, 0);
	assert_no_pins(e);

	/* no workers at all */
	e->in.n_worker_cpus = 0;
	e->in.workers = e->in.active = 0;
	allow(e, 0);
	step(e, 0);
	assert_int_equal(e->p.n_workers, 0);
	assert_int_equal(e->st.n, 0);
	assert_false(e->st.hybrid);
}

/* Re-pinning is part of affinity: not with affinity off (docs/policies.md);
 * on a hybrid machine its reason takes over the placement's, and the masks
 * are still made. */
static void test_repin_with_affinity_off_and_hybrid(void **state)
{
	struct env *e = *state;
	hybrid_cpus(e);
	worker_add(e, 0, POL_CORE_UNKNOWN);
	worker_add(e, 8, POL_CORE_UNKNOWN);
	for (int c = 1; c < 12; c++)
		allow(e, c); /* CPU 0 left */
	e->c.affinity = false;
	step(e, 0);
	assert_no_pins(e);
	assert_true(why_is(e, "affinity off: every worker takes every job"));
	const uint32_t every[] = { EVERY, EVERY };
	assert_masks(e, every, 2);

	e->c.affinity = true;
	step(e, 0);
	assert_int_equal(e->p.pin_cpu[0], 1);
	assert_int_equal(e->p.pin_cpu[1], 2);
	assert_true(why_is(e, "a worker's CPU left the cpuset: 2 workers spread over the 11 CPUs "
			      "of the daemon's cpuset"));
	const uint32_t want[] = { I | N | H, N | B };
	assert_masks(e, want, 2);
}

/* A cpuset that lost every worker's CPU, with more workers than CPUs. */
static void test_repin_more_workers_than_cpus(void **state)
{
	struct env *e = *state;
	for (int w = 0; w < 5; w++)
		worker_add(e, 10 + w, POL_CORE_UNKNOWN);
	allow(e, 0);
	allow(e, 1);
	step(e, 0);
	const int want[] = { 0, 1, 0, 1, 0 };
	for (size_t w = 0; w < 5; w++)
		assert_int_equal(e->p.pin_cpu[w], want[w]);
}

/* --- the state across steps, limits ----------------------------------------------------------- */

static void test_state_follows_inputs(void **state)
{
	struct env *e = *state;
	hybrid_workers(e);
	step(e, 0);
	assert_true(e->st.hybrid);
	assert_int_equal(e->st.n, 4);
	/* the E workers moved to P cores */
	e->in.worker_cpus[2] = 2;
	e->in.worker_cpus[3] = 3;
	step(e, 0);
	assert_false(e->st.hybrid);
	assert_int_equal(e->st.kind[3], POL_CORE_PERFORMANCE);
	/* fewer workers */
	e->in.n_worker_cpus = 1;
	step(e, 0);
	assert_int_equal(e->st.n, 1);
	assert_int_equal(e->p.n_workers, 1);
	pol_affinity_init(&e->st);
	assert_int_equal(e->st.n, 0);
	assert_false(e->st.hybrid);
}

static void test_max_workers(void **state)
{
	struct env *e = *state;
	for (int c = 0; c < POL_MAX_CPUS; c++)
		cpu_add(e, c, c % 2 ? 512 : 1024);
	for (int w = 0; w < POL_MAX_WORKERS; w++)
		worker_add(e, w, POL_CORE_UNKNOWN);
	for (int c = 1; c < POL_MAX_CPUS; c++)
		allow(e, c);
	for (int m = 0; m < POL_MAX_MODELS; m++)
		model_add(e, "m", 1.0);
	step(e, 128);
	assert_true(e->st.hybrid);
	for (size_t w = 0; w < POL_MAX_WORKERS; w++) {
		assert_int_equal(e->p.accept[w], w % 2 ? (N | B) : (I | N | H));
		assert_int_equal(e->p.pin_cpu[w], w < POL_MAX_WORKERS - 1 ? (int)w + 1 : 1);
	}
	for (size_t m = 0; m < POL_MAX_MODELS; m++)
		assert_true(e->p.heavy[m]);
}

/* --- JSON ------------------------------------------------------------------------------------ */

static void test_json(void **state)
{
	struct env *e = *state;
	hybrid_workers(e);
	step(e, 0);
	cJSON *o = pol_affinity_json(&e->st, &e->p, &e->in);
	assert_non_null(o);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "hybrid")));
	const cJSON *ws = cJSON_GetObjectItem(o, "workers");
	assert_int_equal(cJSON_GetArraySize(ws), 4);
	const cJSON *w0 = cJSON_GetArrayItem(ws, 0), *w2 = cJSON_GetArrayItem(ws, 2);
	assert_int_equal(cJSON_GetObjectItem(w0, "worker")->valueint, 0);
	assert_int_equal(cJSON_GetObjectItem(w0, "cpu")->valueint, 0);
	assert_string_equal(cJSON_GetObjectItem(w0, "kind")->valuestring, "performance");
	char *acc = cJSON_PrintUnformatted(cJSON_GetObjectItem(w0, "accept"));
	assert_string_equal(acc, "[\"interactive\",\"normal\"]");
	free(acc);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(w0, "heavy")));
	assert_int_equal(cJSON_GetObjectItem(w2, "worker")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItem(w2, "cpu")->valueint, 8);
	assert_string_equal(cJSON_GetObjectItem(w2, "kind")->valuestring, "efficiency");
	acc = cJSON_PrintUnformatted(cJSON_GetObjectItem(w2, "accept"));
	assert_string_equal(acc, "[\"normal\",\"batch\"]");
	free(acc);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(w2, "heavy")));
	cJSON_Delete(o);

	/* before any step: no workers */
	struct pol_affinity_state st;
	pol_affinity_init(&st);
	o = pol_affinity_json(&st, &e->p, &e->in);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "hybrid")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "workers")), 0);
	cJSON_Delete(o);
}

/* --- the fixture machines -------------------------------------------------------------------- */

/* inputs from the fixture's real cpufreq source, with workers on cpus. */
static void fixture_inputs(struct env *e, const char *fixture, const int *cpus, size_t n)
{
	struct tm_env env;
	tmfx_env(&env, fixture);
	struct tm_source s = { .ops = &tm_cpufreq, .env = &env };
	char reason[256] = "";
	assert_int_equal(s.ops->init(&s, reason, sizeof(reason)), 0);
	cJSON *part = tmfx_sample(s.ops, &env, &s, 1000000000u);
	if (s.ops->fini)
		s.ops->fini(&s);
	cJSON *snap = cJSON_CreateObject();
	cJSON_AddNumberToObject(snap, "time", 1);
	cJSON *src = cJSON_AddObjectToObject(snap, "sources");
	cJSON_AddItemToObject(src, "cpufreq", part);
	cJSON *d = cJSON_AddObjectToObject(src, "daemon");
	cJSON_AddTrueToObject(d, "available");
	cJSON_AddNumberToObject(d, "workers", (double)n);
	cJSON_AddItemToObject(d, "worker_cpus", cJSON_CreateIntArray(cpus, (int)n));
	char err[64];
	assert_int_equal(pol_inputs_parse(snap, &e->in, err, sizeof(err)), 0);
	cJSON_Delete(snap);
}

static void test_fixture_machines(void **state)
{
	struct env *e = *state;
	static const int cpus[] = { 0, 7, 8, 11 };
	fixture_inputs(e, "hybrid", cpus, 4);
	step(e, 0);
	assert_true(e->st.hybrid);
	const uint32_t want[] = { I | N | H, I | N | H, N | B, N | B };
	assert_masks(e, want, 4);

	fixture_inputs(e, "arm-server", cpus, 4);
	step(e, 0);
	assert_false(e->st.hybrid);
	for (size_t w = 0; w < 4; w++)
		assert_int_equal(e->st.kind[w], POL_CORE_PERFORMANCE);

	/* the laptop has no cpu_capacity and hwloc names no kinds: unknown */
	fixture_inputs(e, "laptop", cpus, 2);
	step(e, 0);
	assert_false(e->st.hybrid);
	assert_int_equal(e->st.kind[0], POL_CORE_UNKNOWN);
	assert_int_equal(e->st.kind[1], POL_CORE_UNKNOWN);
}

#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_kind_names),
		T(test_classify_by_capacity),
		T(test_classify_threshold),
		T(test_classify_by_hwloc),
		T(test_capacity_beats_hwloc),
		T(test_classify_nothing_known),
		T(test_one_kind),
		T(test_hybrid_default_rules),
		T(test_fallback_no_active_efficiency),
		T(test_fallback_no_active_performance),
		T(test_placement_rules),
		T(test_unknown_worker_on_hybrid),
		T(test_heavy_models),
		T(test_affinity_off),
		T(test_repin_lost_cpu),
		T(test_repin_spread_in_order),
		T(test_repin_crowded),
		T(test_crowded_without_free_cpu),
		T(test_no_repin_without_pins_or_cpuset),
		T(test_repin_with_affinity_off_and_hybrid),
		T(test_repin_more_workers_than_cpus),
		T(test_state_follows_inputs),
		T(test_max_workers),
		T(test_json),
		T(test_fixture_machines),
	};
	return cmocka_run_group_tests_name("policies/affinity", tests, NULL, NULL);
}
