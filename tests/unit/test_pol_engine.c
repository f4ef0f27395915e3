/* Unit tests for policies/engine.c: one tick runs thermal, battery, profile,
 * DVFS, the cpufreq targets, autoscale and affinity on a plan and diffs the
 * plan against what the engine last commanded (at first, what the snapshot
 * showed) into actions with the deciding policy, its reason and its inputs.
 * Snapshots are built as the daemon's telemetry writes them (JSON, parsed by
 * pol_inputs_parse), one machine description per test, time in 1 s ticks. */
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
#include "policies/engine.h"
#include "policies/thermal.h"

#define T0 1800000000.0
#define MAXC 16
#define MAXW 16

#define assert_near(a, b, eps)                                                               \
	do {                                                                                 \
		double a_ = (a), b_ = (b);                                                   \
		if (!(fabs(a_ - b_) <= (eps)))                                               \
			fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                  \
	} while (0)

/* --- the machine and its snapshots ----------------------------------------------------------- */

enum style { NO_CPUFREQ, EPP, GENERIC };

struct machine {
	double t;              /* the next snapshot's time */
	double interval_ms;
	uint64_t seq;

	enum style style;
	size_t n_cpus;
	char governor[MAXC][32], epp[MAXC][32];
	double max_hz[MAXC], hw_max_hz[MAXC], hw_min_hz;
	int capacity[MAXC];    /* -1: none */
	bool offline[MAXC];

	double temp;           /* NAN: no thermal part */
	double passive, critical;

	double battery_pct;    /* NAN: no battery part */
	bool on_ac;
	const char *platform;  /* NULL: no platform_profile */

	bool perf;             /* a perf part with these cumulative counts */
	double cycles, instructions, refs, misses;

	bool daemon;
	uint32_t workers, active;
	double busy;
	uint32_t queued[3];
	int worker_cpus[MAXW];
	size_t n_worker_cpus;
	int allowed[MAXC];
	size_t n_allowed;
	const char *model;     /* NULL: no model_compute entry */
	double model_p50_s;
};

/* A laptop-like machine with EPP on AC, cool, with 4 workers (one busy) on
 * CPUs 0-3, every setting already where a balanced profile wants it. */
static void machine_init(struct machine *m)
{
	memset(m, 0, sizeof(*m));
	m->t = T0;
	m->interval_ms = 1000;
	m->style = EPP;
	m->n_cpus = 4;
	m->hw_min_hz = 400e6;
	for (size_t i = 0; i < MAXC; i++) {
		snprintf(m->governor[i], sizeof(m->governor[i]), "powersave");
		snprintf(m->epp[i], sizeof(m->epp[i]), "balance_performance");
		m->max_hz[i] = m->hw_max_hz[i] = 4.7e9;
		m->capacity[i] = -1;
	}
	m->temp = 50;
	m->passive = 80;
	m->critical = 100;
	m->battery_pct = 90;
	m->on_ac = true;
	m->daemon = true;
	m->workers = m->active = 4;
	m->busy = 1;
	m->n_worker_cpus = 4;
	m->n_allowed = 4;
	for (int i = 0; i < 4; i++)
		m->worker_cpus[i] = m->allowed[i] = i;
	m->model_p50_s = NAN;
}

/* Generic cpufreq (acpi-cpufreq, governors): 3 GHz, schedutil. */
static void machine_generic(struct machine *m)
{
	m->style = GENERIC;
	for (size_t i = 0; i < MAXC; i++) {
		snprintf(m->governor[i], sizeof(m->governor[i]), "schedutil");
		m->epp[i][0] = '\0';
		m->max_hz[i] = m->hw_max_hz[i] = 3e9;
	}
	m->hw_min_hz = 800e6;
}

/* The hybrid fixture's shape: CPUs 0-7 P (1024), 8-11 E (623); workers on
 * CPUs 0, 1, 8, 9. */
static void machine_hybrid(struct machine *m)
{
	m->n_cpus = 12;
	for (size_t i = 0; i < 12; i++) {
		m->capacity[i] = i < 8 ? 1024 : 623;
		m->max_hz[i] = m->hw_max_hz[i] = i < 8 ? 4.7e9 : 3.4e9;
	}
	static const int cpus[] = { 0, 1, 8, 9 };
	memcpy(m->worker_cpus, cpus, sizeof(cpus));
	m->n_allowed = 12;
	for (int i = 0; i < 12; i++)
		m->allowed[i] = i;
}

static cJSON *cpufreq_part(const struct machine *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "available");
	cJSON *cpus = cJSON_AddArrayToObject(o, "cpus");
	for (size_t i = 0; i < m->n_cpus; i++) {
		cJSON *c = cJSON_CreateObject();
		cJSON_AddNumberToObject(c, "cpu", (double)i);
		cJSON_AddBoolToObject(c, "online", !m->offline[i]);
		if (m->capacity[i] >= 0)
			cJSON_AddNumberToObject(c, "capacity", m->capacity[i]);
		if (!m->offline[i]) {
			cJSON_AddNumberToObject(c, "cur_hz", m->hw_max_hz[i] / 2);
			cJSON_AddNumberToObject(c, "min_hz", m->hw_min_hz);
			cJSON_AddNumberToObject(c, "max_hz", m->max_hz[i]);
			cJSON_AddNumberToObject(c, "hw_min_hz", m->hw_min_hz);
			cJSON_AddNumberToObject(c, "hw_max_hz", m->hw_max_hz[i]);
			cJSON_AddStringToObject(c, "governor", m->governor[i]);
			if (m->style == EPP)
				cJSON_AddStringToObject(c, "epp", m->epp[i]);
		}
		cJSON_AddItemToArray(cpus, c);
	}
	if (m->style == EPP) {
		static const char *const epps[] = { "default", "performance", "balance_performance",
						    "balance_power", "power" };
		static const char *const govs[] = { "performance", "powersave" };
		cJSON_AddStringToObject(o, "driver", "intel_pstate");
		cJSON_AddItemToObject(o, "epp_available", cJSON_CreateStringArray(epps, 5));
		cJSON_AddItemToObject(o, "governors_available", cJSON_CreateStringArray(govs, 2));
	} else {
		static const char *const govs[] = { "conservative", "ondemand", "userspace",
						    "powersave", "performance", "schedutil" };
		cJSON_AddStringToObject(o, "driver", "acpi-cpufreq");
		cJSON_AddItemToObject(o, "governors_available", cJSON_CreateStringArray(govs, 6));
	}
	return o;
}

static cJSON *thermal_part(const struct machine *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "available");
	cJSON *z = cJSON_CreateObject();
	cJSON_AddNumberToObject(z, "zone", 0);
	cJSON_AddStringToObject(z, "type", "x86_pkg_temp");
	cJSON_AddNumberToObject(z, "temp_celsius", m->temp);
	cJSON_AddStringToObject(z, "mode", "enabled");
	cJSON *trips = cJSON_AddArrayToObject(z, "trips");
	cJSON *t = cJSON_CreateObject();
	cJSON_AddNumberToObject(t, "trip", 0);
	cJSON_AddStringToObject(t, "type", "passive");
	cJSON_AddNumberToObject(t, "temp_celsius", m->passive);
	cJSON_AddItemToArray(trips, t);
	t = cJSON_CreateObject();
	cJSON_AddNumberToObject(t, "trip", 1);
	cJSON_AddStringToObject(t, "type", "critical");
	cJSON_AddNumberToObject(t, "temp_celsius", m->critical);
	cJSON_AddItemToArray(trips, t);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "zones"), z);
	cJSON_AddArrayToObject(o, "cooling");
	return o;
}

static cJSON *battery_part(const struct machine *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "available");
	cJSON *sup = cJSON_AddArrayToObject(o, "supplies");
	cJSON *ac = cJSON_CreateObject();
	cJSON_AddStringToObject(ac, "name", "AC");
	cJSON_AddStringToObject(ac, "type", "Mains");
	cJSON_AddBoolToObject(ac, "online", m->on_ac);
	cJSON_AddItemToArray(sup, ac);
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "name", "BAT0");
	cJSON_AddStringToObject(b, "type", "Battery");
	cJSON_AddStringToObject(b, "status", m->on_ac ? "Charging" : "Discharging");
	cJSON_AddBoolToObject(b, "present", true);
	cJSON_AddNumberToObject(b, "capacity_pct", m->battery_pct);
	cJSON_AddItemToArray(sup, b);
	cJSON *pp = cJSON_AddObjectToObject(o, "platform_profile");
	if (m->platform) {
		static const char *const choices[] = { "low-power", "balanced", "performance" };
		cJSON_AddTrueToObject(pp, "available");
		cJSON_AddStringToObject(pp, "profile", m->platform);
		cJSON_AddItemToObject(pp, "choices", cJSON_CreateStringArray(choices, 3));
	} else {
		cJSON_AddFalseToObject(pp, "available");
		cJSON_AddStringToObject(pp, "reason", "firmware/acpi/platform_profile: ENOENT");
	}
	return o;
}

static cJSON *perf_part(const struct machine *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "available");
	cJSON *w = cJSON_CreateObject();
	cJSON_AddNumberToObject(w, "worker", 0);
	cJSON_AddTrueToObject(w, "available");
	cJSON *c = cJSON_AddObjectToObject(w, "counts");
	cJSON_AddNumberToObject(c, "cycles", m->cycles);
	cJSON_AddNumberToObject(c, "instructions", m->instructions);
	cJSON_AddNumberToObject(c, "cache-references", m->refs);
	cJSON_AddNumberToObject(c, "cache-misses", m->misses);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "workers"), w);
	return o;
}

static cJSON *daemon_part(const struct machine *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "available");
	cJSON *q = cJSON_AddObjectToObject(o, "queued");
	cJSON_AddNumberToObject(q, "interactive", m->queued[0]);
	cJSON_AddNumberToObject(q, "normal", m->queued[1]);
	cJSON_AddNumberToObject(q, "batch", m->queued[2]);
	cJSON_AddNumberToObject(o, "workers", m->workers);
	cJSON_AddNumberToObject(o, "active", m->active);
	cJSON_AddNumberToObject(o, "busy", m->busy);
	cJSON_AddItemToObject(o, "worker_cpus",
			      cJSON_CreateIntArray(m->worker_cpus, (int)m->n_worker_cpus));
	cJSON_AddItemToObject(o, "allowed_cpus", cJSON_CreateIntArray(m->allowed, (int)m->n_allowed));
	cJSON *mc = cJSON_AddArrayToObject(o, "model_compute");
	if (m->model) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "model", m->model);
		cJSON_AddNumberToObject(x, "p50_seconds", m->model_p50_s);
		cJSON_AddItemToArray(mc, x);
	}
	cJSON *j = cJSON_AddObjectToObject(o, "jobs");
	cJSON_AddNumberToObject(j, "ok_total", 10);
	cJSON_AddNumberToObject(j, "failed_total", 0);
	cJSON_AddNumberToObject(j, "per_s", 1);
	cJSON_AddNumberToObject(o, "busy_avg", m->busy);
	return o;
}

/* The snapshot of m at m->t, parsed. */
static void snapshot(const struct machine *m, struct pol_inputs *in)
{
	cJSON *s = cJSON_CreateObject();
	cJSON_AddNumberToObject(s, "seq", (double)m->seq);
	cJSON_AddNumberToObject(s, "time", m->t);
	cJSON_AddNumberToObject(s, "interval_ms", m->interval_ms);
	cJSON *src = cJSON_AddObjectToObject(s, "sources");
	if (m->style != NO_CPUFREQ)
		cJSON_AddItemToObject(src, "cpufreq", cpufreq_part(m));
	if (!isnan(m->temp))
		cJSON_AddItemToObject(src, "thermal", thermal_part(m));
	if (!isnan(m->battery_pct))
		cJSON_AddItemToObject(src, "battery", battery_part(m));
	if (m->perf) {
		cJSON_AddItemToObject(src, "perf", perf_part(m));
	} else {
		cJSON *p = cJSON_AddObjectToObject(src, "perf");
		cJSON_AddFalseToObject(p, "available");
		cJSON_AddStringToObject(p, "reason", "perf_event_open: EACCES");
	}
	if (m->daemon)
		cJSON_AddItemToObject(src, "daemon", daemon_part(m));
	char err[128] = "";
	assert_int_equal(pol_inputs_parse(s, in, err, sizeof(err)), 0);
	cJSON_Delete(s);
}

/* --- the engine under test ------------------------------------------------------------------- */

struct env {
	struct machine m;
	struct pol_config c;
	struct pol_holds h;
	struct pol_inputs in;
	struct pol_engine *e;
	struct pol_action *acts;
	size_t n;
};

static int env_setup(void **state)
{
	struct env *v = calloc(1, sizeof(*v));
	if (!v)
		return -1;
	machine_init(&v->m);
	pol_config_defaults(&v->c);
	/* Autoscale and the memory-bound detection have tests of their own
	 * (and the latter's note would show up in every tick here). */
	v->c.autoscale = false;
	v->c.memory_bound = false;
	v->e = pol_engine_new();
	if (!v->e) {
		free(v);
		return -1;
	}
	*state = v;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *v = *state;
	pol_engine_free(v->e);
	free(v);
	return 0;
}

/* A tick at the machine's time; the clock then moves 1 s on. */
static size_t tick(struct env *v)
{
	v->m.seq++;
	snapshot(&v->m, &v->in);
	v->n = pol_engine_tick(v->e, &v->c, &v->in, &v->h, &v->acts);
	v->m.t += 1;
	return v->n;
}

/* Ticks until (not including) the time t - T0. */
static void run_until(struct env *v, double t)
{
	while (v->m.t < T0 + t - 1e-9)
		tick(v);
}

/* Applies what the engine commanded (as the daemon would), so that the next
 * snapshot shows it. */
static void apply(struct env *v)
{
	for (size_t i = 0; i < v->n; i++) {
		const struct pol_action *a = &v->acts[i];
		int cpu = a->index;
		switch (a->kind) {
		case POL_ACT_SYSFS:
			if (strstr(a->setting, "scaling_governor"))
				snprintf(v->m.governor[cpu], 32, "%.31s", a->to);
			else if (strstr(a->setting, "energy_performance_preference"))
				snprintf(v->m.epp[cpu], 32, "%.31s", a->to);
			else if (strstr(a->setting, "scaling_max_freq"))
				v->m.max_hz[cpu] = atof(a->to) * 1000;
			else if (strstr(a->setting, "platform_profile"))
				v->m.platform = strcmp(a->to, "low-power") == 0 ? "low-power"
						: strcmp(a->to, "performance") == 0 ? "performance"
										      : "balanced";
			break;
		case POL_ACT_WORKERS:
			v->m.active = a->value;
			break;
		case POL_ACT_PIN:
			v->m.worker_cpus[a->index] = (int)a->value;
			break;
		default:
			break;
		}
	}
}

static size_t count_kind(const struct env *v, enum pol_action_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < v->n; i++)
		n += v->acts[i].kind == k;
	return n;
}

/* The action on setting (exact), or NULL. */
static const struct pol_action *find(const struct env *v, const char *setting)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->acts[i].setting, setting) == 0)
			return &v->acts[i];
	return NULL;
}

static const char *cpu_file(int cpu, const char *file)
{
	static char buf[4][128];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "devices/system/cpu/cpu%d/cpufreq/%s", cpu, file);
	return buf[k];
}

#define GOV "scaling_governor"
#define EPPF "energy_performance_preference"
#define MAXF "scaling_max_freq"

/* An action a on setting with these values; fails the test otherwise. */
static const struct pol_action *expect(const struct env *v, const char *setting,
				       enum pol_action_kind kind, enum pol_source by, const char *from,
				       const char *to, const char *reason)
{
	const struct pol_action *a = find(v, setting);
	if (!a) {
		for (size_t i = 0; i < v->n; i++)
			print_error("  action %zu: %s %s %s -> %s (%s)\n", i, v->acts[i].setting,
				    pol_source_name(v->acts[i].by), v->acts[i].from, v->acts[i].to,
				    v->acts[i].reason);
		fail_msg("no action on %s", setting);
	}
	assert_int_equal(a->kind, kind);
	if (a->by != by)
		fail_msg("%s decided by %s, expected %s", setting, pol_source_name(a->by),
			 pol_source_name(by));
	assert_string_equal(a->from, from);
	assert_string_equal(a->to, to);
	if (reason && strcmp(a->reason, reason) != 0)
		fail_msg("%s: reason \"%s\"\n  expected \"%s\"", setting, a->reason, reason);
	assert_non_null(a->inputs);
	return a;
}

static void dump(const struct env *v)
{
	for (size_t i = 0; i < v->n; i++)
		print_message("  %s %s %s: %s -> %s (%s)\n", pol_action_kind_name(v->acts[i].kind),
			      pol_source_name(v->acts[i].by), v->acts[i].setting, v->acts[i].from,
			      v->acts[i].to, v->acts[i].reason);
}

static void expect_none(const struct env *v)
{
	if (v->n) {
		dump(v);
		fail_msg("%zu actions, expected none", v->n);
	}
}

/* --- names and lifetime ---------------------------------------------------------------------- */

static void test_names(void **state)
{
	(void)state;
	static const char *const kinds[] = { "sysfs", "workers", "classes", "accept",
					     "pin", "heavy", "profile", "note" };
	for (int k = 0; k < 8; k++)
		assert_string_equal(pol_action_kind_name((enum pol_action_kind)k), kinds[k]);
	assert_string_equal(pol_action_kind_name((enum pol_action_kind)8), "?");
	assert_string_equal(pol_action_kind_name((enum pol_action_kind)-1), "?");
	pol_engine_free(NULL);
	struct pol_engine *e = pol_engine_new();
	assert_non_null(e);
	assert_int_equal(pol_engine_ticks(e), 0);
	double thr[POL_N_SRC];
	pol_engine_throttled(e, thr);
	for (int s = 0; s < POL_N_SRC; s++)
		assert_near(thr[s], 0, 0);
	pol_engine_free(e);
}

/* --- the first ticks ------------------------------------------------------------------------- */

/* The first tick reports the profile in force and writes only what differs
 * from what the snapshot shows. */
static void test_first_tick(void **state)
{
	struct env *v = *state;
	snprintf(v->m.epp[1], 32, "power");
	snprintf(v->m.governor[2], 32, "performance");
	v->m.max_hz[3] = 3e9;
	assert_int_equal(tick(v), 4);
	/* the profile first, then CPU by CPU */
	assert_int_equal(v->acts[0].kind, POL_ACT_PROFILE);
	const struct pol_action *a =
		expect(v, "profile", POL_ACT_PROFILE, POL_SRC_PROFILE, "", "balanced", "base profile");
	assert_int_equal(a->index, -1);
	a = expect(v, cpu_file(1, EPPF), POL_ACT_SYSFS, POL_SRC_PROFILE, "power",
		   "balance_performance", "balanced, normal: EPP balance_performance");
	assert_int_equal(a->index, 1);
	assert_string_equal(cJSON_GetObjectItem(a->inputs, "profile")->valuestring, "balanced");
	assert_string_equal(cJSON_GetObjectItem(a->inputs, "style")->valuestring, "epp");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(a->inputs, "on_battery")));
	a = expect(v, cpu_file(2, GOV), POL_ACT_SYSFS, POL_SRC_PROFILE, "performance", "powersave",
		   "balanced, normal: EPP balance_performance");
	assert_int_equal(a->index, 2);
	/* the full range restored: no cap holds */
	a = expect(v, cpu_file(3, MAXF), POL_ACT_SYSFS, POL_SRC_PROFILE, "3000000", "4700000",
		   "balanced, normal: EPP balance_performance");
	assert_int_equal(a->index, 3);
	assert_int_equal(count_kind(v, POL_ACT_SYSFS), 3);
	assert_int_equal(pol_engine_ticks(v->e), 1);
	assert_near(pol_engine_inputs(v->e)->time, T0, 0);
	assert_int_equal(pol_engine_plan(v->e)->profile, POL_BALANCED);

	/* Nothing changed: nothing to do, whether or not the snapshot caught
	 * up (the engine diffs against what it commanded). */
	assert_int_equal(tick(v), 0);
	snprintf(v->m.epp[1], 32, "balance_performance");
	snprintf(v->m.governor[2], 32, "powersave");
	v->m.max_hz[3] = 4.7e9;
	assert_int_equal(tick(v), 0);
	assert_int_equal(pol_engine_ticks(v->e), 3);
}

/* A machine already as the plan wants: only the profile is reported. */
static void test_first_tick_nothing_to_write(void **state)
{
	struct env *v = *state;
	assert_int_equal(tick(v), 1);
	expect(v, "profile", POL_ACT_PROFILE, POL_SRC_PROFILE, "", "balanced", "base profile");
	for (int i = 0; i < 5; i++)
		assert_int_equal(tick(v), 0);
}

/* An offline CPU is left alone; one that comes back is diffed against what
 * it shows. */
static void test_offline_cpu(void **state)
{
	struct env *v = *state;
	v->m.offline[2] = true;
	snprintf(v->m.epp[2], 32, "power");
	tick(v);
	assert_null(find(v, cpu_file(2, EPPF)));
	v->m.offline[2] = false;
	tick(v);
	expect(v, cpu_file(2, EPPF), POL_ACT_SYSFS, POL_SRC_PROFILE, "power", "balance_performance",
	       NULL);
}

/* The profile follows the base and holds; the EPP follows the profile. */
static void test_profile_changes(void **state)
{
	struct env *v = *state;
	tick(v);
	v->h.performance = 1;
	assert_int_equal(tick(v), 5);
	expect(v, "profile", POL_ACT_PROFILE, POL_SRC_PROFILE, "balanced", "performance",
	       "a performance hold");
	for (int c = 0; c < 4; c++)
		expect(v, cpu_file(c, EPPF), POL_ACT_SYSFS, POL_SRC_PROFILE, "balance_performance",
		       "performance", "performance, normal: EPP performance");
	v->h.power_saver = 1; /* beats the performance hold */
	tick(v);
	expect(v, "profile", POL_ACT_PROFILE, POL_SRC_PROFILE, "performance", "power-saver",
	       "a power-saver hold");
	expect(v, cpu_file(0, EPPF), POL_ACT_SYSFS, POL_SRC_PROFILE, "performance", "power",
	       "power-saver, normal: EPP power");
	v->h.power_saver = v->h.performance = 0;
	v->c.profile = POL_PERFORMANCE;
	tick(v);
	expect(v, "profile", POL_ACT_PROFILE, POL_SRC_PROFILE, "power-saver", "performance",
	       "base profile");
	/* NULL holds are none */
	v->m.seq++;
	snapshot(&v->m, &v->in);
	v->c.profile = POL_BALANCED;
	v->n = pol_engine_tick(v->e, &v->c, &v->in, NULL, &v->acts);
	expect(v, "profile", POL_ACT_PROFILE, POL_SRC_PROFILE, "performance", "balanced",
	       "base profile");
}

/* platform_profile follows the profile, from what the firmware shows. */
static void test_platform_profile(void **state)
{
	struct env *v = *state;
	v->m.platform = "performance";
	tick(v);
	expect(v, "firmware/acpi/platform_profile", POL_ACT_SYSFS, POL_SRC_PROFILE, "performance",
	       "balanced", "balanced: balanced");
	apply(v);
	assert_int_equal(tick(v), 0);
	v->c.profile = POL_POWER_SAVER;
	tick(v);
	const struct pol_action *a = expect(v, "firmware/acpi/platform_profile", POL_ACT_SYSFS,
					    POL_SRC_PROFILE, "balanced", "low-power",
					    "power-saver: low-power");
	assert_int_equal(a->index, -1);
}

/* --- time ------------------------------------------------------------------------------------ */

/* A snapshot no newer than the last is ignored: no actions, no tick, the
 * plan and inputs of the last tick kept. */
static void test_time_order(void **state)
{
	struct env *v = *state;
	tick(v); /* T0 */
	tick(v); /* T0 + 1 */
	v->m.t = T0 + 1;
	v->m.temp = 99;                      /* would cap */
	v->c.profile = POL_POWER_SAVER;      /* would change the profile */
	v->acts = NULL;
	assert_int_equal(tick(v), 0);
	assert_non_null(v->acts);
	v->m.t = T0 - 100;
	assert_int_equal(tick(v), 0);
	assert_int_equal(pol_engine_ticks(v->e), 2);
	assert_near(pol_engine_inputs(v->e)->time, T0 + 1, 0);
	assert_near(pol_engine_inputs(v->e)->zones[0].temp_c, 50, 0);
	assert_near(pol_engine_plan(v->e)->freq_cap_ratio, 1, 0);
	assert_int_equal(pol_engine_plan(v->e)->profile, POL_BALANCED);
	/* newer again: it counts */
	v->m.t = T0 + 1.5;
	assert_true(tick(v) > 0);
	assert_int_equal(pol_engine_ticks(v->e), 3);
	expect(v, "profile", POL_ACT_PROFILE, POL_SRC_THERMAL, "balanced", "power-saver", NULL);
}

/* --- thermal --------------------------------------------------------------------------------- */

#define HOT_REASON "zone 0 (x86_pkg_temp) 76.0 °C within 5.0 °C of passive trip 80.0 °C: level 1"

/* Near a passive trip the thermal cap beats the profile's full range; the
 * cap's end is thermal's decision too. */
static void test_thermal_cap_and_lift(void **state)
{
	struct env *v = *state;
	tick(v); /* t 0 */
	v->m.temp = 76;
	assert_int_equal(tick(v), 4 + 2); /* t 1 */
	for (int c = 0; c < 4; c++) {
		const struct pol_action *a = expect(v, cpu_file(c, MAXF), POL_ACT_SYSFS,
						    POL_SRC_THERMAL, "4700000", "4230000", HOT_REASON);
		assert_near(cJSON_GetObjectItem(a->inputs, "level")->valuedouble, 1, 0);
		assert_near(cJSON_GetObjectItem(a->inputs, "temp_celsius")->valuedouble, 76, 0);
		assert_near(cJSON_GetObjectItem(a->inputs, "passive_celsius")->valuedouble, 80, 0);
		assert_near(cJSON_GetObjectItem(a->inputs, "zone")->valuedouble, 0, 0);
		assert_string_equal(cJSON_GetObjectItem(a->inputs, "type")->valuestring,
				    "x86_pkg_temp");
	}
	/* batch waits; one worker of 4 parked (autoscale off: within the cap) */
	const struct pol_action *a = expect(v, "classes", POL_ACT_CLASSES, POL_SRC_THERMAL,
					    "interactive,normal,batch", "interactive,normal",
					    HOT_REASON);
	assert_int_equal(a->value, POL_CLASS_INTERACTIVE | POL_CLASS_NORMAL);
	a = expect(v, "workers.active", POL_ACT_WORKERS, POL_SRC_AUTOSCALE, "4", "3",
		   "autoscale off, capped at 3 by thermal: " HOT_REASON);
	assert_int_equal(a->value, 3);
	/* no EPP change: the profile is untouched below critical */
	assert_null(find(v, cpu_file(0, EPPF)));
	apply(v);

	/* cool, below passive - margin - hysteresis: held for the cooldown */
	v->m.temp = 60;
	for (int i = 0; i < 10; i++)
		assert_int_equal(tick(v), 0); /* t 2 .. 11 */
	assert_int_equal(tick(v), 4 + 2); /* t 12: 10 s below */
	for (int c = 0; c < 4; c++)
		expect(v, cpu_file(c, MAXF), POL_ACT_SYSFS, POL_SRC_THERMAL, "4230000", "4700000",
		       "thermal cap lifted: balanced, normal: EPP balance_performance");
	expect(v, "classes", POL_ACT_CLASSES, POL_SRC_THERMAL, "interactive,normal",
	       "interactive,normal,batch", "thermal cap on job classes lifted");
	expect(v, "workers.active", POL_ACT_WORKERS, POL_SRC_AUTOSCALE, "3", "4", "autoscale off");
	apply(v);
	assert_int_equal(tick(v), 0);
}

/* Governor style in power-saver: the profile's own limit (60 %) is the
 * profile's; a stricter thermal cap wins with thermal's reason; when it
 * lifts, the profile's limit is restored by thermal's decision. */
static void test_thermal_cap_beats_profile_limit(void **state)
{
	struct env *v = *state;
	machine_generic(&v->m);
	v->c.profile = POL_POWER_SAVER;
	v->c.level_freq_step = 0.3;
	tick(v);
	expect(v, cpu_file(0, MAXF), POL_ACT_SYSFS, POL_SRC_PROFILE, "3000000", "1800000",
	       "power-saver, normal: schedutil, max 60% of 3.0 GHz (power-saver)");
	assert_null(find(v, cpu_file(0, GOV))); /* schedutil already */
	apply(v);
	v->m.temp = 81; /* over passive: + 2 levels, 1 - 2 × 0.3 = 0.4 */
	tick(v);
	expect(v, cpu_file(0, MAXF), POL_ACT_SYSFS, POL_SRC_THERMAL, "1800000", "1200000",
	       "zone 0 (x86_pkg_temp) 81.0 °C over passive trip 80.0 °C: level 2");
	apply(v);
	v->m.temp = 50;
	run_until(v, 12);
	tick(v); /* t 12: level 1, 0.7: the profile's 0.6 binds again */
	expect(v, cpu_file(0, MAXF), POL_ACT_SYSFS, POL_SRC_THERMAL, "1200000", "1800000",
	       "thermal cap lifted: power-saver, normal: schedutil, max 60% of 3.0 GHz "
	       "(power-saver)");
	apply(v);
	run_until(v, 30);
	expect_none(v);
	/* the profile's own change later is the profile's */
	v->c.profile = POL_BALANCED;
	tick(v);
	expect(v, cpu_file(0, MAXF), POL_ACT_SYSFS, POL_SRC_PROFILE, "1800000", "3000000",
	       "balanced, normal: schedutil");
}

/* A critical trip: power-saver forced by thermal, interactive only. */
static void test_thermal_critical(void **state)
{
	struct env *v = *state;
	tick(v);
	v->m.temp = 97;
	tick(v);
	const char *why = "zone 0 (x86_pkg_temp) 97.0 °C within 5.0 °C of critical trip 100.0 °C: "
			  "critical";
	expect(v, "profile", POL_ACT_PROFILE, POL_SRC_THERMAL, "balanced", "power-saver", why);
	expect(v, "classes", POL_ACT_CLASSES, POL_SRC_THERMAL, "interactive,normal,batch",
	       "interactive", why);
	expect(v, cpu_file(0, MAXF), POL_ACT_SYSFS, POL_SRC_THERMAL, "4700000", "2350000", why);
	expect(v, cpu_file(0, EPPF), POL_ACT_SYSFS, POL_SRC_PROFILE, "balance_performance", "power",
	       NULL);
	expect(v, "workers.active", POL_ACT_WORKERS, POL_SRC_AUTOSCALE, "4", "1", NULL);
	cJSON *s = pol_engine_state_json(v->e, &v->c);
	const cJSON *caps = cJSON_GetObjectItem(s, "caps");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(caps, "power_saver_forced")));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(caps, "power_saver_by"),
						"policy")->valuestring,
			    "thermal");
	assert_string_equal(cJSON_GetObjectItem(caps, "classes")->valuestring, "interactive");
	assert_near(cJSON_GetObjectItem(caps, "workers")->valuedouble, 1, 0);
	cJSON_Delete(s);
}

/* A policy switched off lifts its caps (attributed to it) and forgets its
 * state: switched back on, it starts from level 0. */
static void test_policy_switched_off(void **state)
{
	struct env *v = *state;
	tick(v);
	v->m.temp = 76;
	v->m.on_ac = false;
	v->m.battery_pct = 15;
	tick(v);
	tick(v);
	assert_int_equal(pol_engine_thermal(v->e)->level, 2);
	assert_int_equal(pol_engine_battery(v->e)->level, POL_BAT_LOW);
	v->c.thermal = false;
	v->c.battery = false;
	tick(v);
	assert_int_equal(pol_engine_thermal(v->e)->level, 0);
	assert_int_equal(pol_engine_battery(v->e)->level, POL_BAT_NORMAL);
	expect(v, cpu_file(0, MAXF), POL_ACT_SYSFS, POL_SRC_THERMAL, "3760000", "4700000",
	       "thermal cap lifted: balanced on battery, normal: EPP balance_power");
	expect(v, "classes", POL_ACT_CLASSES, POL_SRC_THERMAL, "interactive,normal",
	       "interactive,normal,batch", "thermal cap on job classes lifted");
	expect(v, "profile", POL_ACT_PROFILE, POL_SRC_PROFILE, "power-saver", "balanced",
	       "base profile");
	v->c.thermal = true;
	tick(v);
	assert_int_equal(pol_engine_thermal(v->e)->level, 1);
	expect(v, cpu_file(0, MAXF), POL_ACT_SYSFS, POL_SRC_THERMAL, "4700000", "4230000", NULL);
}

/* --- failures -------------------------------------------------------------------------------- */

/* pol_engine_failed: the engine goes back to believing the old value and,
 * as docs/policies.md and engine.h say, does not retry while its plan for
 * that setting stays the same ("a value that the kernel refuses is not
 * retried every second"); it tries again when the plan changes, "from"
 * being the value it believes in force. (Observed before engine.c was
 * fixed: the restored old value differed from the unchanged plan, so the
 * refused value was emitted again at every tick.) */
static void test_failed_sysfs(void **state)
{
	struct env *v = *state;
	tick(v);
	v->c.profile = POL_POWER_SAVER;
	tick(v);
	const struct pol_action *a =
		expect(v, cpu_file(1, EPPF), POL_ACT_SYSFS, POL_SRC_PROFILE, "balance_performance",
		       "power", NULL);
	pol_engine_failed(v->e, a);
	/* the others applied */
	apply(v);
	snprintf(v->m.epp[1], 32, "balance_performance");

	/* the same plan: not retried, tick after tick */
	for (int i = 0; i < 3; i++) {
		tick(v);
		expect_none(v);
	}

	/* the plan changes: tried again, from the value in force */
	v->c.profile = POL_PERFORMANCE;
	tick(v);
	expect(v, cpu_file(1, EPPF), POL_ACT_SYSFS, POL_SRC_PROFILE, "balance_performance",
	       "performance", NULL);
	expect(v, cpu_file(0, EPPF), POL_ACT_SYSFS, POL_SRC_PROFILE, "power", "performance", NULL);
	apply(v);
	assert_int_equal(tick(v), 0);
}

/* A refused value is retried once the plan wanted something else in
 * between, even when that was the value in force (no write then). */
static void test_failed_retried_after_plan_moved(void **state)
{
	struct env *v = *state;
	tick(v);
	v->c.profile = POL_POWER_SAVER;
	tick(v);
	pol_engine_failed(v->e, find(v, cpu_file(3, EPPF)));
	apply(v);
	snprintf(v->m.epp[3], 32, "balance_performance");
	tick(v);
	assert_null(find(v, cpu_file(3, EPPF)));
	v->c.profile = POL_BALANCED; /* wants what cpu3 has */
	tick(v);
	assert_null(find(v, cpu_file(3, EPPF)));
	expect(v, cpu_file(0, EPPF), POL_ACT_SYSFS, POL_SRC_PROFILE, "power", "balance_performance",
	       NULL);
	apply(v);
	v->c.profile = POL_POWER_SAVER;
	tick(v);
	expect(v, cpu_file(3, EPPF), POL_ACT_SYSFS, POL_SRC_PROFILE, "balance_performance", "power",
	       NULL);
	assert_int_equal(count_kind(v, POL_ACT_SYSFS), 4);
}

/* The max frequency, the governor and platform_profile the same way. */
static void test_failed_other_settings(void **state)
{
	struct env *v = *state;
	machine_generic(&v->m);
	v->m.platform = "balanced";
	tick(v);
	v->c.profile = POL_POWER_SAVER;
	tick(v);
	pol_engine_failed(v->e, expect(v, cpu_file(0, MAXF), POL_ACT_SYSFS, POL_SRC_PROFILE,
				       "3000000", "1800000", NULL));
	pol_engine_failed(v->e, expect(v, "firmware/acpi/platform_profile", POL_ACT_SYSFS,
				       POL_SRC_PROFILE, "balanced", "low-power", NULL));
	tick(v);
	expect_none(v);
	v->c.profile = POL_PERFORMANCE;
	tick(v);
	expect(v, cpu_file(0, GOV), POL_ACT_SYSFS, POL_SRC_PROFILE, "schedutil", "performance",
	       NULL);
	/* cpu0's max: believed 3 GHz, wanted 3 GHz: nothing; the others back up */
	assert_null(find(v, cpu_file(0, MAXF)));
	expect(v, cpu_file(1, MAXF), POL_ACT_SYSFS, POL_SRC_PROFILE, "1800000", "3000000", NULL);
	expect(v, "firmware/acpi/platform_profile", POL_ACT_SYSFS, POL_SRC_PROFILE, "balanced",
	       "performance", NULL);
	pol_engine_failed(v->e, find(v, cpu_file(0, GOV)));
	tick(v);
	expect_none(v);
	v->c.profile = POL_BALANCED;
	tick(v);
	/* believed schedutil, wanted schedutil: nothing for cpu0 */
	assert_null(find(v, cpu_file(0, GOV)));
	expect(v, cpu_file(1, GOV), POL_ACT_SYSFS, POL_SRC_PROFILE, "performance", "schedutil", NULL);
}

/* Worker counts and pins: the same rule. */
static void test_failed_workers_and_pin(void **state)
{
	struct env *v = *state;
	tick(v);
	v->m.allowed[3] = 7; /* CPU 3 left the cpuset, 7 came */
	v->m.temp = 76;      /* and a thermal worker cap */
	tick(v);
	const struct pol_action *pin =
		expect(v, "worker.3.cpu", POL_ACT_PIN, POL_SRC_AFFINITY, "3", "7",
		       "a worker's CPU left the cpuset: 4 workers spread over the 4 CPUs of the "
		       "daemon's cpuset");
	assert_int_equal(pin->index, 3);
	assert_int_equal(pin->value, 7);
	assert_near(cJSON_GetArraySize(cJSON_GetObjectItem(pin->inputs, "allowed_cpus")), 4, 0);
	pol_engine_failed(v->e, pin);
	pol_engine_failed(v->e, expect(v, "workers.active", POL_ACT_WORKERS, POL_SRC_AUTOSCALE, "4",
				       "3", NULL));
	v->m.temp = 73; /* the hysteresis band: level 1 holds */
	tick(v);
	assert_null(find(v, "worker.3.cpu"));
	assert_null(find(v, "workers.active"));
	/* the cpuset changes again: the pin is retried, from what is in force */
	v->m.allowed[3] = 6;
	tick(v);
	expect(v, "worker.3.cpu", POL_ACT_PIN, POL_SRC_AFFINITY, "3", "6", NULL);
}

/* --- notes ----------------------------------------------------------------------------------- */

static size_t notes_with(const struct env *v, const char *text)
{
	size_t n = 0;
	for (size_t i = 0; i < v->n; i++)
		if (v->acts[i].kind == POL_ACT_NOTE && strstr(v->acts[i].reason, text))
			n++;
	return n;
}

/* A note is reported when it appears, not again while it holds, and again
 * once it went away and came back. */
static void test_notes(void **state)
{
	struct env *v = *state;
	v->c.memory_bound = true;
	const char *pmu = "memory-bound detection skipped: PMU unavailable (perf_event_open: EACCES)";
	tick(v);
	assert_int_equal(notes_with(v, pmu), 1);
	const struct pol_action *a = find(v, "note");
	assert_non_null(a);
	assert_int_equal(a->kind, POL_ACT_NOTE);
	assert_int_equal(a->by, POL_SRC_DVFS);
	assert_string_equal(a->reason, pmu);
	assert_string_equal(a->from, "");
	assert_string_equal(a->to, "");
	assert_int_equal(a->index, -1);
	assert_non_null(cJSON_GetObjectItem(a->inputs, "level"));
	for (int i = 0; i < 3; i++)
		assert_int_equal(tick(v), 0);
	/* the PMU works: gone */
	v->m.perf = true;
	v->m.cycles = v->m.instructions = v->m.refs = v->m.misses = 1;
	assert_int_equal(tick(v), 0);
	assert_int_equal(tick(v), 0);
	/* and back */
	v->m.perf = false;
	tick(v);
	assert_int_equal(notes_with(v, pmu), 1);
	assert_int_equal(v->n, 1);
	assert_int_equal(tick(v), 0);

	/* the note is in the state while it holds */
	cJSON *s = pol_engine_state_json(v->e, &v->c);
	const cJSON *notes = cJSON_GetObjectItem(s, "notes");
	assert_int_equal(cJSON_GetArraySize(notes), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(notes, 0), "policy")->valuestring,
			    "dvfs");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(notes, 0), "note")->valuestring,
			    pmu);
	cJSON_Delete(s);
}

/* Several notes at once: each is reported on its own when it appears. */
static void test_several_notes(void **state)
{
	struct env *v = *state;
	v->c.memory_bound = true;
	v->m.passive = 200; /* absurd: ignored, and the passive trip derived */
	const char *absurd = "zone 0 (x86_pkg_temp): passive trip 200.0 °C ignored (outside "
			     "0..150 °C)";
	const char *derived = "zone 0 (x86_pkg_temp): no valid passive trip, using critical "
			      "100.0 - 10 = 90.0 °C";
	tick(v);
	assert_int_equal(count_kind(v, POL_ACT_NOTE), 3);
	assert_int_equal(notes_with(v, absurd), 1);
	assert_int_equal(notes_with(v, derived), 1);
	assert_int_equal(notes_with(v, "PMU unavailable"), 1);
	for (size_t i = 0; i < v->n; i++)
		if (v->acts[i].kind == POL_ACT_NOTE)
			assert_int_equal(v->acts[i].by,
					 strstr(v->acts[i].reason, "PMU") ? POL_SRC_DVFS
									  : POL_SRC_THERMAL);
	assert_int_equal(tick(v), 0);
	/* the trip fixed: its notes go, the PMU one stays (not reported again) */
	v->m.passive = 80;
	assert_int_equal(tick(v), 0);
	v->m.passive = 200;
	tick(v);
	assert_int_equal(v->n, 2);
	assert_int_equal(notes_with(v, absurd), 1);
	assert_int_equal(notes_with(v, derived), 1);
}

/* --- throttled time -------------------------------------------------------------------------- */

static double throttled(const struct env *v, enum pol_source s)
{
	double t[POL_N_SRC];
	pol_engine_throttled(v->e, t);
	return t[s];
}

/* Seconds under a cap, by the policy that set it; a gap of more than four
 * intervals plus 1 s (the daemon stopped) is not counted. */
static void test_throttled_seconds(void **state)
{
	struct env *v = *state;
	tick(v); /* t 0 */
	v->m.temp = 76;
	tick(v); /* t 1: capped from now; the second before was not */
	assert_near(throttled(v, POL_SRC_THERMAL), 1, 1e-9);
	tick(v);
	tick(v); /* t 3 */
	assert_near(throttled(v, POL_SRC_THERMAL), 3, 1e-9);
	v->m.t += 4.5; /* t 8.5: a 5.5 s gap (> 4 × 1 s + 1 s) */
	tick(v);
	assert_near(throttled(v, POL_SRC_THERMAL), 3, 1e-9);
	v->m.t += 4; /* t 13.5: exactly 5 s: counted */
	tick(v);
	assert_near(throttled(v, POL_SRC_THERMAL), 8, 1e-9);
	/* 2 s intervals: 9 s is no gap */
	v->m.interval_ms = 2000;
	v->m.t += 8;
	tick(v);
	assert_near(throttled(v, POL_SRC_THERMAL), 17, 1e-9);
	assert_near(throttled(v, POL_SRC_BATTERY), 0, 0);
	assert_near(throttled(v, POL_SRC_DVFS), 0, 0);
	assert_near(throttled(v, POL_SRC_PROFILE), 0, 0);

	cJSON *s = pol_engine_state_json(v->e, &v->c);
	const cJSON *t = cJSON_GetObjectItem(s, "throttled_seconds");
	assert_near(cJSON_GetObjectItem(t, "thermal")->valuedouble, 17, 1e-9);
	assert_near(cJSON_GetObjectItem(t, "battery")->valuedouble, 0, 0);
	assert_near(cJSON_GetObjectItem(t, "memory_bound")->valuedouble, 0, 0);
	cJSON_Delete(s);
}

/* On battery at low charge: battery's caps count as battery's time. */
static void test_throttled_battery(void **state)
{
	struct env *v = *state;
	v->m.on_ac = false;
	v->m.battery_pct = 15;
	tick(v);
	tick(v);
	tick(v);
	assert_near(throttled(v, POL_SRC_BATTERY), 2, 1e-9);
	assert_near(throttled(v, POL_SRC_THERMAL), 0, 0);
	v->m.on_ac = true;
	tick(v);
	tick(v);
	assert_near(throttled(v, POL_SRC_BATTERY), 2, 1e-9);
}

/* A memory-bound phase: the DVFS cap on the max frequency, its time. */
static void test_memory_bound(void **state)
{
	struct env *v = *state;
	v->c.memory_bound = true;
	v->m.perf = true;
	v->m.busy = 4;
	tick(v); /* t 0: the base */
	for (int i = 1; i <= 6; i++) {
		/* IPC 0.5, miss ratio 0.5 each second */
		v->m.cycles += 2e9;
		v->m.instructions += 1e9;
		v->m.refs += 1e7;
		v->m.misses += 5e6;
		tick(v);
		if (i < 4)
			expect_none(v);
		else if (i == 4) /* held 3 s (t 1 .. 4) */
			for (int c = 0; c < 4; c++)
				expect(v, cpu_file(c, MAXF), POL_ACT_SYSFS, POL_SRC_DVFS, "4700000",
				       "3290000", "memory-bound: IPC 0.50, cache miss ratio 0.50");
	}
	assert_near(throttled(v, POL_SRC_DVFS), 3, 1e-9); /* t 4, 5, 6 */
	assert_near(throttled(v, POL_SRC_THERMAL), 0, 0);
	cJSON *s = pol_engine_state_json(v->e, &v->c);
	assert_true(cJSON_IsTrue(
		cJSON_GetObjectItem(cJSON_GetObjectItem(s, "dvfs"), "memory_bound")));
	assert_near(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "throttled_seconds"), "memory_bound")
			    ->valuedouble,
		    3, 1e-9);
	cJSON_Delete(s);
}

/* --- workers and classes --------------------------------------------------------------------- */

/* The autoscaler's decisions become worker actions. */
static void test_autoscale_workers(void **state)
{
	struct env *v = *state;
	v->c.autoscale = true;
	v->m.workers = 8;
	v->m.active = 2;
	v->m.busy = 2;
	v->m.queued[1] = 20;
	v->m.n_worker_cpus = 8;
	v->m.n_allowed = 8;
	for (int i = 0; i < 8; i++)
		v->m.worker_cpus[i] = v->m.allowed[i] = i;
	tick(v);
	const struct pol_action *a = expect(v, "workers.active", POL_ACT_WORKERS, POL_SRC_AUTOSCALE,
					    "2", "6", NULL);
	assert_int_equal(a->value, 6);
	assert_int_equal(a->index, -1);
	assert_non_null(strstr(a->reason, "desired 10, scale-up limit 6"));
	assert_near(cJSON_GetObjectItem(a->inputs, "active")->valuedouble, 2, 0);
	assert_near(cJSON_GetObjectItem(a->inputs, "workers")->valuedouble, 8, 0);
	assert_near(cJSON_GetObjectItem(a->inputs, "queued")->valuedouble, 20, 0);
	assert_near(cJSON_GetObjectItem(a->inputs, "busy_avg")->valuedouble, 2, 0);
	apply(v);
	/* within the period: held */
	tick(v);
	assert_null(find(v, "workers.active"));
}

/* Low battery: power-saver, fewer workers, batch waits; on AC all lifted,
 * each by battery. */
static void test_battery_low(void **state)
{
	struct env *v = *state;
	tick(v);
	v->m.on_ac = false;
	v->m.battery_pct = 15;
	tick(v);
	const char *why = "on battery at 15% (low at 20%)";
	const struct pol_action *a = expect(v, "classes", POL_ACT_CLASSES, POL_SRC_BATTERY,
					    "interactive,normal,batch", "interactive,normal", why);
	assert_int_equal(a->value, POL_CLASS_INTERACTIVE | POL_CLASS_NORMAL);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(a->inputs, "on_battery")));
	assert_near(cJSON_GetObjectItem(a->inputs, "capacity_pct")->valuedouble, 15, 0);
	assert_string_equal(cJSON_GetObjectItem(a->inputs, "level")->valuestring, "low");
	expect(v, "profile", POL_ACT_PROFILE, POL_SRC_BATTERY, "balanced", "power-saver", why);
	expect(v, "workers.active", POL_ACT_WORKERS, POL_SRC_AUTOSCALE, "4", "2",
	       "autoscale off, capped at 2 by battery: on battery at 15% (low at 20%)");
	expect(v, cpu_file(0, EPPF), POL_ACT_SYSFS, POL_SRC_PROFILE, "balance_performance", "power",
	       "power-saver on battery, normal: EPP power");
	apply(v);
	assert_int_equal(tick(v), 0);

	/* critical: interactive only */
	v->m.battery_pct = 4;
	tick(v);
	expect(v, "classes", POL_ACT_CLASSES, POL_SRC_BATTERY, "interactive,normal", "interactive",
	       "on battery at 4% (critical at 5%)");

	v->m.on_ac = true;
	tick(v);
	expect(v, "classes", POL_ACT_CLASSES, POL_SRC_BATTERY, "interactive",
	       "interactive,normal,batch", "battery cap on job classes lifted");
	expect(v, "profile", POL_ACT_PROFILE, POL_SRC_PROFILE, "power-saver", "balanced",
	       "base profile");
	expect(v, "workers.active", POL_ACT_WORKERS, POL_SRC_AUTOSCALE, "2", "4", "autoscale off");
}

/* Thermal and battery caps on job classes at once: the lift goes to the
 * policy of the last restriction. */
static void test_classes_two_caps(void **state)
{
	struct env *v = *state;
	tick(v);
	v->m.temp = 76;
	tick(v);
	expect(v, "classes", POL_ACT_CLASSES, POL_SRC_THERMAL, "interactive,normal,batch",
	       "interactive,normal", NULL);
	v->m.on_ac = false;
	v->m.battery_pct = 3;
	v->m.temp = 60;
	tick(v);
	expect(v, "classes", POL_ACT_CLASSES, POL_SRC_BATTERY, "interactive,normal", "interactive",
	       NULL);
	v->m.on_ac = true;
	tick(v); /* thermal still holds batch back */
	expect(v, "classes", POL_ACT_CLASSES, POL_SRC_THERMAL, "interactive", "interactive,normal",
	       NULL);
	/* cool since t 2: thermal lifts its cap at t 12 */
	while (v->m.t < T0 + 12)
		assert_null((tick(v), find(v, "classes")));
	tick(v);
	expect(v, "classes", POL_ACT_CLASSES, POL_SRC_THERMAL, "interactive,normal",
	       "interactive,normal,batch", "thermal cap on job classes lifted");
}

/* --- affinity -------------------------------------------------------------------------------- */

#define HYBRID_WHY                                                                           \
	"hybrid cores: interactive on performance, normal on any, batch on efficiency; heavy "  \
	"models on performance"

/* On a hybrid machine: accept masks per worker, and a slow model made
 * heavy; a model that leaves is forgotten without an action (the daemon
 * has nothing to set), and is made heavy again when it comes back. */
static void test_hybrid_accept_and_heavy(void **state)
{
	struct env *v = *state;
	machine_hybrid(&v->m);
	v->m.model = "bert";
	v->m.model_p50_s = 0.2;
	tick(v);
	expect(v, "worker.0.accept", POL_ACT_ACCEPT, POL_SRC_AFFINITY,
	       "interactive,normal,batch,heavy", "interactive,normal,heavy", HYBRID_WHY);
	expect(v, "worker.1.accept", POL_ACT_ACCEPT, POL_SRC_AFFINITY,
	       "interactive,normal,batch,heavy", "interactive,normal,heavy", HYBRID_WHY);
	const struct pol_action *a = expect(v, "worker.2.accept", POL_ACT_ACCEPT, POL_SRC_AFFINITY,
					    "interactive,normal,batch,heavy", "normal,batch",
					    HYBRID_WHY);
	assert_int_equal(a->index, 2);
	assert_int_equal(a->value, POL_CLASS_NORMAL | POL_CLASS_BATCH);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(a->inputs, "hybrid")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a->inputs, "allowed_cpus")), 12);
	expect(v, "worker.3.accept", POL_ACT_ACCEPT, POL_SRC_AFFINITY,
	       "interactive,normal,batch,heavy", "normal,batch", HYBRID_WHY);
	a = expect(v, "model.bert.heavy", POL_ACT_HEAVY, POL_SRC_AFFINITY, "false", "true",
		   "model bert computes in 200.0 ms at the median (heavy above 50 ms)");
	assert_int_equal(a->value, 1);
	assert_int_equal(count_kind(v, POL_ACT_HEAVY), 1);
	assert_int_equal(count_kind(v, POL_ACT_PIN), 0);
	assert_int_equal(tick(v), 0);

	/* the model unloaded: forgotten, nothing to do */
	v->m.model = NULL;
	assert_int_equal(tick(v), 0);
	/* loaded again: a new model, heavy again */
	v->m.model = "bert";
	tick(v);
	assert_int_equal(v->n, 1);
	expect(v, "model.bert.heavy", POL_ACT_HEAVY, POL_SRC_AFFINITY, "false", "true", NULL);
	assert_int_equal(tick(v), 0);
	/* faster now: no longer heavy */
	v->m.model_p50_s = 0.01;
	tick(v);
	a = expect(v, "model.bert.heavy", POL_ACT_HEAVY, POL_SRC_AFFINITY, "true", "false",
		   "model bert computes in 10.0 ms at the median (heavy above 50 ms)");
	assert_int_equal(a->value, 0);
	assert_int_equal(tick(v), 0);

	/* the E workers parked by a cap: batch falls back to the P workers */
	v->m.model_p50_s = 0.2;
	v->m.temp = 76; /* 4 workers, level 1: 3 active; then level 2: 2 */
	tick(v);
	tick(v);
	expect(v, "worker.0.accept", POL_ACT_ACCEPT, POL_SRC_AFFINITY, "interactive,normal,heavy",
	       "interactive,normal,batch,heavy", HYBRID_WHY "; fallback: no active efficiency core");
}

/* A slow model on a machine with one kind of core is not heavy. */
static void test_heavy_needs_hybrid(void **state)
{
	struct env *v = *state;
	v->m.model = "bert";
	v->m.model_p50_s = 0.2;
	tick(v);
	assert_int_equal(count_kind(v, POL_ACT_HEAVY), 0);
	assert_int_equal(count_kind(v, POL_ACT_ACCEPT), 0);
}

/* The cpuset shrinks: workers re-pinned; applied, nothing more. */
static void test_repin(void **state)
{
	struct env *v = *state;
	tick(v);
	v->m.n_allowed = 2; /* CPUs 0, 1 left */
	tick(v);
	assert_int_equal(count_kind(v, POL_ACT_PIN), 2);
	expect(v, "worker.2.cpu", POL_ACT_PIN, POL_SRC_AFFINITY, "2", "0", NULL);
	expect(v, "worker.3.cpu", POL_ACT_PIN, POL_SRC_AFFINITY, "3", "1", NULL);
	apply(v);
	assert_int_equal(tick(v), 0);
	/* the cpuset is back: crowded while CPUs are free, spread again */
	v->m.n_allowed = 4;
	tick(v);
	expect(v, "worker.2.cpu", POL_ACT_PIN, POL_SRC_AFFINITY, "0", "2",
	       "workers share a CPU while one is free: 4 workers spread over the 4 CPUs of the "
	       "daemon's cpuset");
	expect(v, "worker.3.cpu", POL_ACT_PIN, POL_SRC_AFFINITY, "1", "3", NULL);
}

/* No daemon group, or no workers: no worker actions. */
static void test_no_workers(void **state)
{
	struct env *v = *state;
	v->m.daemon = false;
	v->c.autoscale = true;
	tick(v);
	assert_int_equal(v->n, 1);
	v->m.daemon = true;
	v->m.workers = 0;
	v->m.n_worker_cpus = 0;
	tick(v);
	assert_int_equal(v->n, 0);
}

/* --- JSON ------------------------------------------------------------------------------------ */

static void test_action_json(void **state)
{
	struct env *v = *state;
	snprintf(v->m.epp[2], 32, "power");
	v->c.memory_bound = true;
	tick(v);
	const struct pol_action *a = find(v, cpu_file(2, EPPF));
	cJSON *o = pol_action_json(a, 1234.5, 99);
	assert_non_null(o);
	assert_near(cJSON_GetObjectItem(o, "time")->valuedouble, 1234.5, 0);
	assert_near(cJSON_GetObjectItem(o, "seq")->valuedouble, 99, 0);
	assert_string_equal(cJSON_GetObjectItem(o, "policy")->valuestring, "profile");
	assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring, "sysfs");
	assert_string_equal(cJSON_GetObjectItem(o, "setting")->valuestring, cpu_file(2, EPPF));
	assert_string_equal(cJSON_GetObjectItem(o, "from")->valuestring, "power");
	assert_string_equal(cJSON_GetObjectItem(o, "to")->valuestring, "balance_performance");
	assert_string_equal(cJSON_GetObjectItem(o, "reason")->valuestring,
			    "balanced, normal: EPP balance_performance");
	const cJSON *in = cJSON_GetObjectItem(o, "inputs");
	assert_true(cJSON_IsObject(in));
	assert_true(in != a->inputs); /* a copy: the action's goes with the next tick */
	assert_string_equal(cJSON_GetObjectItem(in, "style")->valuestring, "epp");
	assert_int_equal(cJSON_GetArraySize(o), 9);
	cJSON_Delete(o);

	/* a note: no setting, from or to */
	a = find(v, "note");
	assert_non_null(a);
	o = pol_action_json(a, 1, 2);
	assert_null(cJSON_GetObjectItem(o, "setting"));
	assert_null(cJSON_GetObjectItem(o, "from"));
	assert_null(cJSON_GetObjectItem(o, "to"));
	assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring, "note");
	assert_string_equal(cJSON_GetObjectItem(o, "policy")->valuestring, "dvfs");
	assert_non_null(strstr(cJSON_GetObjectItem(o, "reason")->valuestring, "PMU unavailable"));
	/* NAN inputs are null */
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "inputs"), "ipc")));
	cJSON_Delete(o);

	/* without inputs */
	struct pol_action bare = { .kind = POL_ACT_WORKERS, .by = POL_SRC_AUTOSCALE,
				   .setting = "workers.active", .from = "1", .to = "2" };
	o = pol_action_json(&bare, 0, 0);
	assert_null(cJSON_GetObjectItem(o, "inputs"));
	assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring, "workers");
	assert_string_equal(cJSON_GetObjectItem(o, "reason")->valuestring, "");
	cJSON_Delete(o);
}

static bool has_keys(const cJSON *o, const char *const *keys)
{
	int n = 0;
	for (; keys[n]; n++)
		if (!cJSON_GetObjectItem(o, keys[n])) {
			print_error("missing key %s\n", keys[n]);
			return false;
		}
	if (cJSON_GetArraySize(o) != n) {
		char *t = cJSON_PrintUnformatted(o);
		print_error("keys beyond the documented ones: %s\n", t);
		free(t);
		return false;
	}
	return true;
}

/* The keys docs/protocol.md documents for policy.get's state. */
static void test_state_json(void **state)
{
	struct env *v = *state;
	cJSON *s = pol_engine_state_json(v->e, &v->c);
	static const char *const before[] = { "ticks", NULL };
	assert_true(has_keys(s, before));
	assert_near(cJSON_GetObjectItem(s, "ticks")->valuedouble, 0, 0);
	cJSON_Delete(s);

	tick(v);
	s = pol_engine_state_json(v->e, &v->c);
	static const char *const top[] = { "ticks", "time", "profile", "caps", "thermal",
					   "battery", "dvfs", "autoscale", "affinity",
					   "throttled_seconds", "notes", NULL };
	assert_true(has_keys(s, top));
	assert_near(cJSON_GetObjectItem(s, "ticks")->valuedouble, 1, 0);
	assert_near(cJSON_GetObjectItem(s, "time")->valuedouble, T0, 0);
	static const char *const profile[] = { "active", "reason", NULL };
	const cJSON *p = cJSON_GetObjectItem(s, "profile");
	assert_true(has_keys(p, profile));
	assert_string_equal(cJSON_GetObjectItem(p, "active")->valuestring, "balanced");
	assert_string_equal(cJSON_GetObjectItem(p, "reason")->valuestring, "base profile");
	static const char *const caps_free[] = { "freq_ratio", "workers", "classes",
						 "power_saver_forced", NULL };
	const cJSON *caps = cJSON_GetObjectItem(s, "caps");
	assert_true(has_keys(caps, caps_free));
	assert_near(cJSON_GetObjectItem(caps, "freq_ratio")->valuedouble, 1, 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(caps, "workers")));
	assert_string_equal(cJSON_GetObjectItem(caps, "classes")->valuestring,
			    "interactive,normal,batch");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(caps, "power_saver_forced")));
	static const char *const thermal[] = { "mode", "level", "critical", "cap_ratio", "hottest",
					       NULL };
	assert_true(has_keys(cJSON_GetObjectItem(s, "thermal"), thermal));
	static const char *const battery[] = { "level", "on_battery", "capacity_pct",
					       "time_remaining_seconds", "time_remaining_source",
					       "joules_per_inference", "reason", NULL };
	assert_true(has_keys(cJSON_GetObjectItem(s, "battery"), battery));
	static const char *const dvfs[] = { "level", "memory_bound", "ipc", "cache_miss_ratio",
					    "pmu", "pmu_reason", NULL };
	assert_true(has_keys(cJSON_GetObjectItem(s, "dvfs"), dvfs));
	static const char *const autoscale[] = { "current", "desired", "min", "max", "metrics",
						 NULL };
	assert_true(has_keys(cJSON_GetObjectItem(s, "autoscale"), autoscale));
	static const char *const affinity[] = { "hybrid", "workers", NULL };
	const cJSON *aff = cJSON_GetObjectItem(s, "affinity");
	assert_true(has_keys(aff, affinity));
	static const char *const worker[] = { "worker", "cpu", "kind", "accept", "heavy", NULL };
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(aff, "workers")), 4);
	assert_true(has_keys(cJSON_GetArrayItem(cJSON_GetObjectItem(aff, "workers"), 0), worker));
	static const char *const thr[] = { "thermal", "battery", "memory_bound", NULL };
	assert_true(has_keys(cJSON_GetObjectItem(s, "throttled_seconds"), thr));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "notes")), 0);
	cJSON_Delete(s);

	/* under caps: who set them */
	v->m.temp = 76;
	v->m.on_ac = false;
	v->m.battery_pct = 10;
	tick(v);
	s = pol_engine_state_json(v->e, &v->c);
	caps = cJSON_GetObjectItem(s, "caps");
	static const char *const caps_held[] = { "freq_ratio", "freq", "workers", "workers_by",
						 "classes", "classes_by", "power_saver_forced",
						 "power_saver_by", NULL };
	assert_true(has_keys(caps, caps_held));
	assert_near(cJSON_GetObjectItem(caps, "freq_ratio")->valuedouble, 0.9, 1e-12);
	const cJSON *f = cJSON_GetObjectItem(caps, "freq");
	assert_string_equal(cJSON_GetObjectItem(f, "policy")->valuestring, "thermal");
	assert_string_equal(cJSON_GetObjectItem(f, "reason")->valuestring, HOT_REASON);
	assert_near(cJSON_GetObjectItem(caps, "workers")->valuedouble, 2, 0);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(caps, "workers_by"), "policy")->valuestring,
		"battery");
	assert_string_equal(cJSON_GetObjectItem(caps, "classes")->valuestring, "interactive,normal");
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(caps, "classes_by"), "policy")->valuestring,
		"thermal");
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(caps, "power_saver_by"), "policy")
			->valuestring,
		"battery");
	p = cJSON_GetObjectItem(s, "profile");
	assert_string_equal(cJSON_GetObjectItem(p, "active")->valuestring, "power-saver");
	assert_string_equal(cJSON_GetObjectItem(p, "reason")->valuestring,
			    "on battery at 10% (low at 20%)");
	assert_near(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "thermal"), "level")->valuedouble, 1,
		    0);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(s, "battery"), "level")->valuestring, "low");
	cJSON_Delete(s);
}

/* --- capacity -------------------------------------------------------------------------------- */

/* The largest machine the inputs hold, with everything changing at once:
 * every CPU's governor, EPP and max frequency, every worker's accept mask
 * and CPU, every model heavy. No action may be lost. */
static void test_every_action_at_once(void **state)
{
	struct env *v = *state;
	struct pol_inputs *in = &v->in;
	memset(in, 0, sizeof(*in));
	in->time = T0;
	in->interval_s = 1;
	in->busy = in->busy_avg = in->jobs_per_s = in->latency_p99_s = NAN;
	in->queue_p95_s = in->joules_per_inference = NAN;
	in->cycles = in->instructions = in->cache_references = in->cache_misses = NAN;
	in->cpufreq_available = true;
	snprintf(in->driver, POL_WORD, "intel_pstate");
	static const char *const epps[] = { "performance", "balance_performance", "balance_power",
					    "power" };
	for (size_t i = 0; i < 4; i++)
		snprintf(in->epp_choices[i], POL_WORD, "%s", epps[i]);
	in->n_epp_choices = 4;
	snprintf(in->governor_choices[0], POL_WORD, "performance");
	snprintf(in->governor_choices[1], POL_WORD, "powersave");
	in->n_governor_choices = 2;
	in->n_cpus = POL_MAX_CPUS;
	for (int c = 0; c < POL_MAX_CPUS; c++) {
		struct pol_cpu *cpu = &in->cpus[c];
		cpu->cpu = c;
		cpu->online = true;
		cpu->capacity = c % 2 ? 512 : 1024;
		cpu->cur_hz = cpu->min_hz = cpu->hw_min_hz = 1e9;
		cpu->max_hz = 2e9;
		cpu->hw_max_hz = 3e9;
		snprintf(cpu->governor, POL_WORD, "performance");
		snprintf(cpu->epp, POL_WORD, "performance");
	}
	in->battery_available = true;
	in->n_supplies = 1;
	snprintf(in->supplies[0].type, POL_WORD, "Battery");
	snprintf(in->supplies[0].status, POL_WORD, "Discharging");
	in->supplies[0].online = -1;
	in->supplies[0].capacity_pct = 10;
	in->supplies[0].energy_wh = in->supplies[0].power_w = NAN;
	in->supplies[0].time_to_empty_s = NAN;
	in->daemon_available = true;
	in->workers = in->active = POL_MAX_WORKERS;
	in->busy = 1;
	in->n_worker_cpus = POL_MAX_WORKERS;
	for (int w = 0; w < POL_MAX_WORKERS; w++)
		in->worker_cpus[w] = w;
	in->n_allowed_cpus = POL_MAX_CPUS - 1;
	for (int c = 1; c < POL_MAX_CPUS; c++)
		in->allowed_cpus[c - 1] = c; /* CPU 0 left */
	in->n_models = POL_MAX_MODELS;
	for (int m = 0; m < POL_MAX_MODELS; m++) {
		snprintf(in->models[m].name, POL_MODEL_NAME, "model-%d", m);
		in->models[m].compute_p50_s = 1;
	}
	v->n = pol_engine_tick(v->e, &v->c, in, &v->h, &v->acts);
	size_t sysfs = count_kind(v, POL_ACT_SYSFS), accept = count_kind(v, POL_ACT_ACCEPT);
	size_t pin = count_kind(v, POL_ACT_PIN), heavy = count_kind(v, POL_ACT_HEAVY);
	assert_int_equal(count_kind(v, POL_ACT_PROFILE), 1);
	assert_int_equal(count_kind(v, POL_ACT_WORKERS), 1);
	assert_int_equal(count_kind(v, POL_ACT_CLASSES), 1);
	assert_int_equal(sysfs, 3 * POL_MAX_CPUS);
	assert_int_equal(accept, POL_MAX_WORKERS);
	assert_int_equal(pin, POL_MAX_WORKERS);
	/* the same inputs a second later: what was dropped would come now, if at all */
	in->time += 1;
	v->n = pol_engine_tick(v->e, &v->c, in, &v->h, &v->acts);
	size_t again = v->n, heavy2 = count_kind(v, POL_ACT_HEAVY);
	if (heavy != POL_MAX_MODELS || heavy2)
		fail_msg("heavy actions: %zu at the first tick, %zu at the second (of %d)", heavy,
			 heavy2, POL_MAX_MODELS);
	assert_int_equal(again, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_names),
		T(test_first_tick),
		T(test_first_tick_nothing_to_write),
		T(test_offline_cpu),
		T(test_profile_changes),
		T(test_platform_profile),
		T(test_time_order),
		T(test_thermal_cap_and_lift),
		T(test_thermal_cap_beats_profile_limit),
		T(test_thermal_critical),
		T(test_policy_switched_off),
		T(test_failed_sysfs),
		T(test_failed_retried_after_plan_moved),
		T(test_failed_other_settings),
		T(test_failed_workers_and_pin),
		T(test_notes),
		T(test_several_notes),
		T(test_throttled_seconds),
		T(test_throttled_battery),
		T(test_memory_bound),
		T(test_autoscale_workers),
		T(test_battery_low),
		T(test_classes_two_caps),
		T(test_hybrid_accept_and_heavy),
		T(test_heavy_needs_hybrid),
		T(test_repin),
		T(test_no_workers),
		T(test_action_json),
		T(test_state_json),
		T(test_every_action_at_once),
	};
	return cmocka_run_group_tests_name("policies/engine", tests, NULL, NULL);
}
