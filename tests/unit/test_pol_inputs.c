/* Unit tests for policies/inputs.c: snapshot JSON -> struct pol_inputs, in
 * the shapes the daemon's telemetry builds them (daemon/telemetry/cpufreq.c,
 * thermal.c, battery.c, power.c, perf.c, daemon/sched.c and stats.c), from
 * the fixture machines' real sources, and malformed: missing parts, wrong
 * types, "available": false, absurd numbers, arrays beyond POL_MAX_*. None
 * may crash; what cannot be read stays unavailable, NAN, -1 or "". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policies/inputs.h"
#include "tm_fixture.h"

/* JSON text without the escaping: J({"a": [1, 2]}). The operand of # is
 * not macro-expanded, so true and false stay JSON's. */
#define J(...) #__VA_ARGS__

/* cmocka's assert_float_equal compares floats: too coarse for times and
 * joules. NAN never matches. */
#define assert_near(a, b, eps)                                                               \
	do {                                                                                 \
		double a_ = (a), b_ = (b);                                                   \
		if (!(fabs(a_ - b_) <= (eps)))                                               \
			fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                  \
	} while (0)

static struct pol_inputs *new_inputs(void)
{
	struct pol_inputs *in = malloc(sizeof(*in));
	assert_non_null(in);
	memset(in, 0x5a, sizeof(*in)); /* the parser must clear everything itself */
	return in;
}

/* Parses text (which must be JSON) into in; returns the parser's result. */
static int parse_text(const char *text, struct pol_inputs *in, char *err, size_t errlen)
{
	cJSON *snap = cJSON_Parse(text);
	if (!snap)
		fail_msg("test JSON does not parse: %s", text);
	int rc = pol_inputs_parse(snap, in, err, errlen);
	cJSON_Delete(snap);
	return rc;
}

static void parse_ok(const char *text, struct pol_inputs *in)
{
	char err[128] = "";
	assert_int_equal(parse_text(text, in, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

/* Every group unavailable and every figure unknown, as after a snapshot with
 * no usable part. */
static void assert_all_unknown(const struct pol_inputs *in)
{
	assert_false(in->cpufreq_available);
	assert_int_equal(in->n_cpus, 0);
	assert_string_equal(in->driver, "");
	assert_int_equal(in->n_epp_choices, 0);
	assert_int_equal(in->n_governor_choices, 0);
	assert_false(in->thermal_available);
	assert_int_equal(in->n_zones, 0);
	assert_false(in->battery_available);
	assert_int_equal(in->n_supplies, 0);
	assert_false(in->platform_profile_available);
	assert_string_equal(in->platform_profile, "");
	assert_int_equal(in->n_platform_choices, 0);
	assert_false(in->pmu_available);
	assert_true(isnan(in->cycles));
	assert_true(isnan(in->instructions));
	assert_true(isnan(in->cache_references));
	assert_true(isnan(in->cache_misses));
	assert_false(in->daemon_available);
	assert_int_equal(in->workers, 0);
	assert_int_equal(in->active, 0);
	assert_true(isnan(in->busy));
	assert_true(isnan(in->busy_avg));
	assert_int_equal(in->queued[0] + in->queued[1] + in->queued[2], 0);
	assert_true(isnan(in->jobs_per_s));
	assert_true(isnan(in->latency_p99_s));
	assert_true(isnan(in->queue_p95_s));
	assert_true(isnan(in->joules_per_inference));
	assert_int_equal(in->n_worker_cpus, 0);
	assert_int_equal(in->n_allowed_cpus, 0);
	assert_int_equal(in->n_models, 0);
	for (size_t w = 0; w < POL_MAX_WORKERS; w++)
		assert_int_equal(in->worker_kind[w], 0);
}

/* --- a whole snapshot as the daemon writes it ------------------------------------------------ */

/* A laptop: intel_pstate with EPP, one CPU offline (listed without its
 * frequency fields), two thermal zones (one unreadable, with an "error"),
 * AC + battery + USB-C, platform_profile, RAPL with a subzone and psys, the
 * workers' counters, and the daemon's group (sched_json + stats_json). */
static const char *const laptop_snapshot = J({
	"seq": 42, "time": 1800000000.5, "interval_ms": 1000,
	"sources": {
		"procstat": {"available": true, "cpus": []},
		"cpufreq": {"available": true,
			"cpus": [
				{"cpu": 0, "online": true, "cur_hz": 1200034000, "min_hz": 400000000,
				 "max_hz": 4700000000, "hw_min_hz": 400000000, "hw_max_hz": 4700000000,
				 "governor": "powersave", "epp": "balance_performance"},
				{"cpu": 1, "online": true, "capacity": 1024, "cur_hz": 2800000000,
				 "min_hz": 400000000, "max_hz": 3000000000, "hw_min_hz": 400000000,
				 "hw_max_hz": 4700000000, "governor": "performance", "epp": "performance",
				 "errors": [{"file": "cpuinfo_cur_freq", "error": "EACCES"}]},
				{"cpu": 2, "online": false, "capacity": 512}
			],
			"driver": "intel_pstate",
			"epp_available": ["default", "performance", "balance_performance",
					  "balance_power", "power"],
			"governors_available": ["performance", "powersave"],
			"epp_cpus": [0, 1]},
		"thermal": {"available": true,
			"zones": [
				{"zone": 0, "type": "acpitz", "temp_celsius": 27.8, "mode": "enabled",
				 "trips": [{"trip": 0, "type": "critical", "temp_celsius": 103, "hyst_celsius": 0},
					   {"trip": 1, "type": "passive", "temp_celsius": 97, "hyst_celsius": 2}]},
				{"zone": 3, "type": "x86_pkg_temp", "error": "temp: EIO", "mode": "enabled",
				 "trips": [{"trip": 0, "type": "passive", "error": "temp: EINVAL"}]}
			],
			"cooling": [{"device": 0, "type": "Processor", "cur_state": 0, "max_state": 3}]},
		"hwmon": {"available": true, "chips": []},
		"power": {"available": true,
			"zones": [
				{"zone": "intel-rapl:0", "name": "package-0", "parent": null,
				 "energy_joules": 72130.5, "max_energy_range_joules": 262143.3, "watts": 12.5},
				{"zone": "intel-rapl:0:0", "name": "core", "parent": "intel-rapl:0",
				 "energy_joules": 31254.7, "watts": 3},
				{"zone": "intel-rapl:1", "name": "psys", "parent": null,
				 "energy_joules": 120044.3, "watts": 20}
			]},
		"battery": {"available": true,
			"supplies": [
				{"name": "AC", "type": "Mains", "online": false},
				{"name": "BAT0", "type": "Battery", "status": "Discharging", "present": true,
				 "capacity_pct": 87, "technology": "Li-ion", "cycle_count": 213,
				 "voltage_volts": 12.1, "energy_watthours": 45.23,
				 "energy_full_watthours": 52, "energy_full_design_watthours": 57,
				 "energy_source": "energy_now", "power_watts": 8.45,
				 "power_source": "power_now", "time_to_empty_seconds": 19269.5},
				{"name": "ucsi-source-psy-USBC000:001", "type": "USB", "online": false}
			],
			"platform_profile": {"available": true, "profile": "balanced",
					     "choices": ["low-power", "balanced", "performance"]}},
		"perf": {"available": true,
			"workers": [
				{"worker": 0, "tid": 101, "cpu": 0, "available": true,
				 "counts": {"cycles": 1000000, "instructions": 1500000,
					    "cache-references": 4000, "cache-misses": 1000},
				 "derived": {"ipc": 1.5}},
				{"worker": 1, "tid": 102, "cpu": 1, "available": false,
				 "reason": "perf_event_open: Permission denied"},
				{"worker": 2, "tid": 103, "cpu": 1, "available": true,
				 "counts": {"cycles": 3000000, "instructions": 500000,
					    "cache-references": 6000, "cache-misses": 3000}}
			],
			"system_wide": {"available": false, "reason": "perf_event_open on cpu 0: EACCES"},
			"cpus": []},
		"schedlat": {"available": false, "reason": "no BTF"},
		"daemon": {"available": true,
			"queued": {"interactive": 1, "normal": 5, "batch": 9},
			"workers": 4, "active": 3, "busy": 2,
			"worker_cpus": [0, 1, 1, -1],
			"worker_kinds": ["performance", "efficiency", "efficiency", "performance"],
			"allowed_cpus": [0, 1, 3],
			"model_compute": [{"model": "resnet50", "p50_seconds": 0.083},
					  {"model": "tiny", "p50_seconds": 0.0004}],
			"connections": 2, "requests_total": 77, "models": 2, "pool_bytes": 0,
			"jobs": {"ok_total": 50, "failed_total": 1, "cancelled_total": 0,
				 "expired_total": 0, "per_s": 12.5, "latency_p50_seconds": 0.02,
				 "latency_p99_seconds": 0.25, "queue_p95_seconds": 0.004},
			"busy_avg": 1.75, "joules_per_inference": 0.9}
	}
});

static void test_laptop_snapshot(void **state)
{
	(void)state;
	struct pol_inputs *in = new_inputs();
	parse_ok(laptop_snapshot, in);
	assert_int_equal(in->seq, 42);
	assert_near(in->time, 1800000000.5, 1e-6);
	assert_near(in->interval_s, 1.0, 1e-12);

	/* cpufreq */
	assert_true(in->cpufreq_available);
	assert_string_equal(in->driver, "intel_pstate");
	assert_int_equal(in->n_epp_choices, 5);
	assert_string_equal(in->epp_choices[0], "default");
	assert_string_equal(in->epp_choices[4], "power");
	assert_int_equal(in->n_governor_choices, 2);
	assert_string_equal(in->governor_choices[1], "powersave");
	assert_int_equal(in->n_cpus, 3);
	const struct pol_cpu *c0 = &in->cpus[0], *c1 = &in->cpus[1], *c2 = &in->cpus[2];
	assert_int_equal(c0->cpu, 0);
	assert_true(c0->online);
	assert_int_equal(c0->capacity, -1); /* no cpu_capacity on x86 */
	assert_near(c0->cur_hz, 1200034000.0, 0.5);
	assert_near(c0->min_hz, 400e6, 0.5);
	assert_near(c0->max_hz, 4700e6, 0.5);
	assert_near(c0->hw_min_hz, 400e6, 0.5);
	assert_near(c0->hw_max_hz, 4700e6, 0.5);
	assert_string_equal(c0->governor, "powersave");
	assert_string_equal(c0->epp, "balance_performance");
	assert_int_equal(c1->capacity, 1024);
	assert_near(c1->max_hz, 3000e6, 0.5);
	assert_string_equal(c1->governor, "performance");
	assert_string_equal(c1->epp, "performance");
	/* offline: listed, but no frequencies, governor or EPP */
	assert_int_equal(c2->cpu, 2);
	assert_false(c2->online);
	assert_int_equal(c2->capacity, 512);
	assert_true(isnan(c2->cur_hz) && isnan(c2->min_hz) && isnan(c2->max_hz));
	assert_true(isnan(c2->hw_min_hz) && isnan(c2->hw_max_hz));
	assert_string_equal(c2->governor, "");
	assert_string_equal(c2->epp, "");

	/* thermal */
	assert_true(in->thermal_available);
	assert_int_equal(in->n_zones, 2);
	const struct pol_zone *z0 = &in->zones[0], *z1 = &in->zones[1];
	assert_int_equal(z0->zone, 0);
	assert_string_equal(z0->type, "acpitz");
	assert_near(z0->temp_c, 27.8, 1e-9);
	assert_int_equal(z0->n_trips, 2);
	assert_string_equal(z0->trips[0].type, "critical");
	assert_near(z0->trips[0].temp_c, 103, 1e-9);
	assert_near(z0->trips[0].hyst_c, 0, 1e-9);
	assert_string_equal(z0->trips[1].type, "passive");
	assert_near(z0->trips[1].temp_c, 97, 1e-9);
	assert_near(z0->trips[1].hyst_c, 2, 1e-9);
	/* an unreadable zone keeps its number and type, temperature unknown */
	assert_int_equal(z1->zone, 3);
	assert_string_equal(z1->type, "x86_pkg_temp");
	assert_true(isnan(z1->temp_c));
	assert_int_equal(z1->n_trips, 1);
	assert_string_equal(z1->trips[0].type, "passive");
	assert_true(isnan(z1->trips[0].temp_c));
	assert_true(isnan(z1->trips[0].hyst_c));

	/* power: the package, not its subzone, not psys (which contains it) */

	/* battery */
	assert_true(in->battery_available);
	assert_int_equal(in->n_supplies, 3);
	const struct pol_supply *ac = &in->supplies[0], *bat = &in->supplies[1],
				*usb = &in->supplies[2];
	assert_string_equal(ac->name, "AC");
	assert_string_equal(ac->type, "Mains");
	assert_int_equal(ac->online, 0);
	assert_string_equal(ac->status, "");
	assert_true(isnan(ac->capacity_pct) && isnan(ac->energy_wh) && isnan(ac->power_w) &&
		    isnan(ac->time_to_empty_s));
	assert_string_equal(bat->name, "BAT0");
	assert_string_equal(bat->type, "Battery");
	assert_string_equal(bat->status, "Discharging");
	assert_int_equal(bat->online, -1);
	assert_near(bat->capacity_pct, 87, 1e-9);
	assert_near(bat->energy_wh, 45.23, 1e-9);
	assert_near(bat->power_w, 8.45, 1e-9);
	assert_near(bat->time_to_empty_s, 19269.5, 1e-9);
	assert_string_equal(usb->name, "ucsi-source-psy-USBC000:001");
	assert_string_equal(usb->type, "USB");
	assert_int_equal(usb->online, 0);
	assert_true(pol_on_battery(in));
	assert_near(pol_battery_pct(in), 87, 1e-9);
	assert_true(in->platform_profile_available);
	assert_string_equal(in->platform_profile, "balanced");
	assert_int_equal(in->n_platform_choices, 3);
	assert_string_equal(in->platform_choices[0], "low-power");
	assert_string_equal(in->platform_choices[2], "performance");

	/* perf: the available workers summed */
	assert_true(in->pmu_available);
	assert_near(in->cycles, 4e6, 1e-6);
	assert_near(in->instructions, 2e6, 1e-6);
	assert_near(in->cache_references, 10000, 1e-6);
	assert_near(in->cache_misses, 4000, 1e-6);

	/* daemon */
	assert_true(in->daemon_available);
	assert_int_equal(in->workers, 4);
	assert_int_equal(in->active, 3);
	assert_near(in->busy, 2, 1e-12);
	assert_near(in->busy_avg, 1.75, 1e-12);
	assert_int_equal(in->queued[0], 1);
	assert_int_equal(in->queued[1], 5);
	assert_int_equal(in->queued[2], 9);
	assert_near(in->jobs_per_s, 12.5, 1e-12);
	assert_near(in->latency_p99_s, 0.25, 1e-12);
	assert_near(in->queue_p95_s, 0.004, 1e-12);
	assert_near(in->joules_per_inference, 0.9, 1e-12);
	assert_int_equal(in->n_worker_cpus, 4);
	assert_int_equal(in->worker_cpus[0], 0);
	assert_int_equal(in->worker_cpus[2], 1);
	assert_int_equal(in->worker_cpus[3], -1);
	assert_int_equal(in->worker_kind[0], 1);
	assert_int_equal(in->worker_kind[1], 2);
	assert_int_equal(in->worker_kind[2], 2);
	assert_int_equal(in->worker_kind[3], 1);
	assert_int_equal(in->worker_kind[4], 0);
	assert_int_equal(in->n_allowed_cpus, 3);
	assert_int_equal(in->allowed_cpus[2], 3);
	assert_int_equal(in->n_models, 2);
	assert_string_equal(in->models[0].name, "resnet50");
	assert_near(in->models[0].compute_p50_s, 0.083, 1e-12);
	assert_string_equal(in->models[1].name, "tiny");
	free(in);
}

/* trace_gen.py's shapes (the replay tests' traces): generic cpufreq and a
 * daemon group without busy_avg, p95, kinds or models. */
static void test_trace_gen_snapshot(void **state)
{
	(void)state;
	struct pol_inputs *in = new_inputs();
	parse_ok(J({"seq": 1, "time": 1800000000.0, "interval_ms": 1000, "sources": {
		"cpufreq": {"available": true, "driver": "acpi-cpufreq",
			"governors_available": ["conservative", "ondemand", "userspace", "powersave",
						"performance", "schedutil"],
			"cpus": [{"cpu": 0, "online": true, "cur_hz": 1500000000.0, "min_hz": 800000000.0,
				  "max_hz": 3000000000.0, "hw_min_hz": 800000000.0,
				  "hw_max_hz": 3000000000.0, "governor": "schedutil"}]},
		"thermal": {"available": true, "zones": [{"zone": 0, "type": "x86_pkg_temp",
			"temp_celsius": 50.0, "trips": [
				{"trip": 0, "type": "passive", "temp_celsius": 80.0},
				{"trip": 1, "type": "critical", "temp_celsius": 100.0}]}], "cooling": []},
		"battery": {"available": true, "supplies": [
				{"name": "AC", "type": "Mains", "online": true},
				{"name": "BAT0", "type": "Battery", "status": "Charging", "capacity_pct": 50,
				 "energy_watthours": 25.0, "power_watts": 10.0}],
			"platform_profile": {"available": false, "reason": "no platform_profile"}},
		"daemon": {"available": true, "workers": 8, "active": 8, "busy": 0.0, "busy_avg": 0.0,
			"queued": {"interactive": 0, "normal": 0, "batch": 0},
			"worker_cpus": [0, 1, 2, 3, 4, 5, 6, 7], "allowed_cpus": [0, 1, 2, 3, 4, 5, 6, 7],
			"jobs": {"ok_total": 0, "failed_total": 0, "per_s": 0.0}}}}), in);
	assert_true(in->cpufreq_available);
	assert_string_equal(in->driver, "acpi-cpufreq");
	assert_int_equal(in->n_epp_choices, 0);
	assert_int_equal(in->n_governor_choices, 6);
	assert_string_equal(in->cpus[0].epp, "");
	assert_int_equal(in->cpus[0].capacity, -1);
	assert_true(in->thermal_available);
	assert_int_equal(in->zones[0].n_trips, 2);
	assert_true(isnan(in->zones[0].trips[0].hyst_c));
	assert_true(in->battery_available);
	assert_false(pol_on_battery(in));
	assert_near(pol_battery_pct(in), 50, 1e-12);
	assert_false(in->platform_profile_available);
	assert_false(in->pmu_available);
	assert_string_equal(in->pmu_reason, "the perf source is off");
	assert_true(in->daemon_available);
	assert_int_equal(in->workers, 8);
	assert_near(in->busy_avg, 0, 0);
	assert_near(in->jobs_per_s, 0, 0);
	assert_true(isnan(in->queue_p95_s));
	assert_true(isnan(in->latency_p99_s));
	assert_true(isnan(in->joules_per_inference));
	assert_int_equal(in->n_worker_cpus, 8);
	assert_int_equal(in->worker_kind[0], 0); /* no worker_kinds: hwloc knows one kind */
	assert_int_equal(in->n_models, 0);
	free(in);
}

/* --- the fixture machines' real sources ------------------------------------------------------ */

static const struct tm_source_ops *const fixture_sources[] = {
	&tm_cpufreq, &tm_thermal, &tm_power, &tm_battery,
};
#define N_FX (sizeof(fixture_sources) / sizeof(fixture_sources[0]))

/* A snapshot of fixture's sources, each sampled twice as the daemon does
 * (rates need a previous sample), with "available" marked. */
static cJSON *fixture_snapshot(const char *fixture)
{
	struct tm_env env;
	tmfx_env(&env, fixture);
	cJSON *snap = cJSON_CreateObject();
	cJSON_AddNumberToObject(snap, "seq", 7);
	cJSON_AddNumberToObject(snap, "time", 1800000100.25);
	cJSON_AddNumberToObject(snap, "interval_ms", 500);
	cJSON *sources = cJSON_AddObjectToObject(snap, "sources");
	for (size_t i = 0; i < N_FX; i++) {
		struct tm_source s = { .ops = fixture_sources[i], .env = &env };
		char reason[256] = "";
		cJSON *part = NULL;
		if (s.ops->init(&s, reason, sizeof(reason)) < 0) {
			part = cJSON_CreateObject();
			cJSON_AddFalseToObject(part, "available");
			cJSON_AddStringToObject(part, "reason", reason);
		} else {
			for (uint64_t k = 1; k <= 2; k++) {
				cJSON_Delete(part);
				part = tmfx_sample(s.ops, &env, &s, k * 1000000000u);
			}
			if (s.ops->fini)
				s.ops->fini(&s);
		}
		cJSON_AddItemToObject(sources, s.ops->name, part);
	}
	return snap;
}

static void parse_fixture(const char *fixture, struct pol_inputs *in)
{
	cJSON *snap = fixture_snapshot(fixture);
	char err[64] = "";
	assert_int_equal(pol_inputs_parse(snap, in, err, sizeof(err)), 0);
	cJSON_Delete(snap);
}

static void test_fixture_laptop(void **state)
{
	(void)state;
	struct pol_inputs *in = new_inputs();
	parse_fixture("laptop", in);
	assert_int_equal(in->seq, 7);
	assert_near(in->interval_s, 0.5, 1e-12);
	assert_true(in->cpufreq_available);
	assert_string_equal(in->driver, "intel_pstate");
	assert_int_equal(in->n_cpus, 8);
	assert_int_equal(in->n_epp_choices, 5);
	for (size_t i = 0; i < in->n_cpus; i++) {
		assert_int_equal(in->cpus[i].cpu, (int)i);
		assert_true(in->cpus[i].online);
		assert_int_equal(in->cpus[i].capacity, -1);
		assert_near(in->cpus[i].hw_max_hz, 4.7e9, 0.5);
		assert_near(in->cpus[i].max_hz, 4.7e9, 0.5);
		assert_false(isnan(in->cpus[i].cur_hz));
		assert_string_equal(in->cpus[i].governor, "powersave");
		assert_string_equal(in->cpus[i].epp, "balance_performance");
	}
	assert_true(in->thermal_available);
	assert_int_equal(in->n_zones, 2);
	assert_string_equal(in->zones[0].type, "acpitz");
	assert_near(in->zones[0].temp_c, 27.8, 1e-9);
	assert_int_equal(in->zones[0].n_trips, 2);
	assert_string_equal(in->zones[0].trips[1].type, "passive");
	assert_near(in->zones[0].trips[1].temp_c, 97, 1e-9);
	assert_near(in->zones[0].trips[1].hyst_c, 2, 1e-9);
	assert_string_equal(in->zones[1].type, "x86_pkg_temp");
	assert_near(in->zones[1].temp_c, 45, 1e-9);
	assert_true(in->battery_available);
	assert_int_equal(in->n_supplies, 3);
	assert_true(pol_on_battery(in)); /* discharging, AC and USB-C offline */
	assert_near(pol_battery_pct(in), 87, 1e-9);
	assert_near(in->supplies[1].time_to_empty_s, 19269.58579881657, 1e-6);
	assert_true(in->platform_profile_available);
	assert_string_equal(in->platform_profile, "balanced");
	assert_int_equal(in->n_platform_choices, 3);
	/* The package alone, exactly as the daemon's own figure. */
	assert_false(in->daemon_available);
	assert_false(in->pmu_available);
	free(in);
}

static void test_fixture_arm_server(void **state)
{
	(void)state;
	struct pol_inputs *in = new_inputs();
	parse_fixture("arm-server", in);
	assert_true(in->cpufreq_available);
	assert_string_equal(in->driver, "cppc_cpufreq");
	assert_int_equal(in->n_cpus, 16);
	assert_int_equal(in->n_epp_choices, 0);
	assert_int_equal(in->n_governor_choices, 6);
	for (size_t i = 0; i < in->n_cpus; i++) {
		assert_int_equal(in->cpus[i].capacity, 1024);
		assert_string_equal(in->cpus[i].governor, "schedutil");
		assert_string_equal(in->cpus[i].epp, "");
		assert_near(in->cpus[i].hw_max_hz, 3e9, 0.5);
	}
	assert_true(in->thermal_available);
	assert_int_equal(in->n_zones, 2);
	assert_int_equal(in->zones[1].n_trips, 3);
	assert_string_equal(in->zones[1].trips[1].type, "hot");
	assert_near(in->zones[1].trips[2].temp_c, 110, 1e-9);
	/* no power supplies, no platform_profile, no RAPL */
	assert_false(in->battery_available);
	assert_false(in->platform_profile_available);
	assert_int_equal(in->n_supplies, 0);
	assert_false(pol_on_battery(in));
	assert_true(isnan(pol_battery_pct(in)));
	free(in);
}

static void test_fixture_hybrid(void **state)
{
	(void)state;
	struct pol_inputs *in = new_inputs();
	parse_fixture("hybrid", in);
	assert_int_equal(in->n_cpus, 12);
	for (size_t i = 0; i < in->n_cpus; i++)
		assert_int_equal(in->cpus[i].capacity, i < 8 ? 1024 : 623);
	assert_near(in->cpus[11].hw_max_hz, 3.4e9, 0.5);
	assert_true(in->thermal_available);
	assert_int_equal(in->n_zones, 1);
	assert_near(in->zones[0].trips[0].temp_c, 0, 0); /* firmware nonsense, kept */
	assert_true(in->battery_available);
	assert_int_equal(in->n_supplies, 1);
	assert_int_equal(in->supplies[0].online, 1);
	assert_false(pol_on_battery(in));
	assert_true(isnan(pol_battery_pct(in)));
	assert_false(in->platform_profile_available); /* {"available": false, "reason"} */
	/* package-0 twice (MSR and MMIO): counted once, as the daemon does. */
	free(in);
}

/* --- not a snapshot -------------------------------------------------------------------------- */

static void test_not_a_snapshot(void **state)
{
	(void)state;
	struct pol_inputs *in = new_inputs();
	char err[128];
	static const char *const bad[] = {
		"null", "[]", "[{\"time\": 1}]", "\"time\"", "12", "true", "{}",
		J({"time": "1800000000"}), J({"time": null}), J({"time": [1]}), J({"time": {"s": 1}}),
		J({"time": 1e999}), J({"time": -1e999}), J({"seq": 1, "sources": {}}),
		J({"Time": 5}),
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(in, 0x5a, sizeof(*in));
		err[0] = '\0';
		assert_int_equal(parse_text(bad[i], in, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "not a telemetry snapshot (no numeric \"time\")");
		assert_all_unknown(in);
	}
	/* NULL, and no room for the error */
	memset(in, 0x5a, sizeof(*in));
	assert_int_equal(pol_inputs_parse(NULL, in, NULL, 0), -EINVAL);
	assert_all_unknown(in);
	cJSON *s = cJSON_CreateString("x");
	assert_int_equal(pol_inputs_parse(s, in, err, 4), -EINVAL);
	assert_string_equal(err, "not");
	cJSON_Delete(s);
	free(in);
}

/* Just a time: every group unavailable, the defaults for the rest. */
static void test_time_only(void **state)
{
	(void)state;
	struct pol_inputs *in = new_inputs();
	parse_ok(J({"time": -3.5}), in);
	assert_near(in->time, -3.5, 0);
	assert_int_equal(in->seq, 0);
	assert_near(in->interval_s, 1.0, 0);
	assert_all_unknown(in);
	assert_string_equal(in->pmu_reason, "the perf source is off");
	free(in);
}

/* --- unavailable and missing parts ----------------------------------------------------------- */

static void test_unavailable_parts(void **state)
{
	(void)state;
	struct pol_inputs *in = new_inputs();
	parse_ok(J({"seq": 3, "time": 10, "interval_ms": 250, "sources": {
		"cpufreq": {"available": false, "reason": "no cpufreq"},
		"thermal": {"available": false, "reason": "no zones",
			    "zones": [{"zone": 0, "temp_celsius": 99}]},
		"battery": {"available": false, "reason": "no supplies",
			    "supplies": [{"type": "Battery", "status": "Discharging"}],
			    "platform_profile": {"available": true, "profile": "quiet"}},
		"power": {"available": false, "reason": "class/powercap: ENOENT (no RAPL driver)",
			  "zones": [{"zone": "intel-rapl:0", "name": "package-0", "parent": null,
				     "energy_joules": 5}]},
		"perf": {"available": false, "reason": "perf_event_open: ENOSYS",
			 "workers": [{"available": true, "counts": {"cycles": 1}}]},
		"daemon": {"available": false, "reason": "stopping", "workers": 8}}}), in);
	assert_int_equal(in->seq, 3);
	assert_near(in->interval_s, 0.25, 1e-12);
	assert_all_unknown(in);
	/* perf tells why */
	assert_string_equal(in->pmu_reason, "perf_event_open: ENOSYS");
	assert_false(pol_on_battery(in));
	assert_true(isnan(pol_battery_pct(in)));
	free(in);

	/* perf unavailable without a reason: none given */
	in = new_inputs();
	parse_ok(J({"time": 1, "sources": {"perf": {"available": false}}}), in);
	assert_false(in->pmu_available);
	assert_string_equal(in->pmu_reason, "");
	free(in);
}

/* Parts that are there but hold nothing the policies can use. */
static void test_parts_missing_their_lists(void **state)
{
	(void)state;
	struct pol_inputs *in = new_inputs();
	parse_ok(J({"time": 1, "sources": {
		"cpufreq": {"available": true, "driver": "intel_pstate",
			    "epp_available": ["power"]},
		"thermal": {"available": true, "cooling": []},
		"battery": {"available": true,
			    "supplies": {"available": false, "reason": "class/power_supply: ENOENT"},
			    "platform_profile": {"available": false, "reason": "ENOENT"}},
		"power": {"available": true},
		"perf": {"available": true, "system_wide": {"available": true}},
		"daemon": {"available": true}}}), in);
	/* cpufreq without its cpus is not a cpufreq reading */
	assert_false(in->cpufreq_available);
	assert_string_equal(in->driver, "");
	assert_int_equal(in->n_epp_choices, 0);
	assert_false(in->thermal_available);
	assert_false(in->battery_available);
	assert_false(in->platform_profile_available);
	assert_false(in->pmu_available);
	assert_string_equal(in->pmu_reason, "no worker counters");
	assert_true(isnan(in->cycles));
	/* the daemon group is there, with nothing in it */
	assert_true(in->daemon_available);
	assert_int_equal(in->workers, 0);
	assert_int_equal(in->active, 0);
	assert_true(isnan(in->busy) && isnan(in->busy_avg) && isnan(in->jobs_per_s));
	assert_true(isnan(in->latency_p99_s) && isnan(in->queue_p95_s));
	assert_true(isnan(in->joules_per_inference));
	assert_int_equal(in->n_worker_cpus + in->n_allowed_cpus + in->n_models, 0);
	free(in);

	/* A platform_profile with an empty profile is not one. */
	in = new_inputs();
	parse_ok(J({"time": 1, "sources": {"battery": {"available": true, "supplies": [],
		"platform_profile": {"available": true, "profile": "", "choices": ["quiet"]}}}}), in);
	assert_true(in->battery_available);
	assert_int_equal(in->n_supplies, 0);
	assert_false(in->platform_profile_available);
	assert_false(pol_on_battery(in));
	free(in);

	/* older traces: parts without the flag count as available */
	in = new_inputs();
	parse_ok(J({"time": 1, "sources": {
		"cpufreq": {"cpus": [{"cpu": 0}]},
		"thermal": {"zones": []},
		"battery": {"supplies": [], "platform_profile": {"profile": "cool"}},
		"daemon": {"workers": 2}}}), in);
	assert_true(in->cpufreq_available);
	assert_int_equal(in->n_cpus, 1);
	assert_true(in->cpus[0].online);
	assert_int_equal(in->cpus[0].capacity, -1);
	assert_true(isnan(in->cpus[0].max_hz));
	assert_true(in->thermal_available);
	assert_int_equal(in->n_zones, 0);
	assert_true(in->battery_available);
	assert_true(in->platform_profile_available);
	assert_string_equal(in->platform_profile, "cool");
	assert_true(in->daemon_available);
	assert_int_equal(in->workers, 2);
	assert_int_equal(in->active, 2); /* no "active": all started are active */
	free(in);
}

/* --- wrong types ----------------------------------------------------------------------------- */

static void test_sources_of_wrong_type(void **state)
{
	(void)state;
	static const char *const docs[] = {
		J({"time": 1, "sources": null}),
		J({"time": 1, "sources": 5}),
		J({"time": 1, "sources": "cpufreq"}),
		J({"time": 1, "sources": [{"cpus": []}]}),
		J({"time": 1, "sources": [["cpufreq"]]}),
		J({"time": 1, "sources": {"cpufreq": [], "thermal": "hot", "battery": 1,
					  "power": null, "perf": true, "daemon": [1, 2]}}),
	};
	struct pol_inputs *in = new_inputs();
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		memset(in, 0x5a, sizeof(*in));
		parse_ok(docs[i], in);
		assert_all_unknown(in);
		assert_string_equal(in->pmu_reason, "the perf source is off");
	}
	free(in);
}

static void test_fields_of_wrong_type(void **state)
{
	(void)state;
	struct pol_inputs *in = new_inputs();
	parse_ok(J({"seq": "7", "time": 100, "interval_ms": "1000", "sources": {
		"cpufreq": {"available": "yes", "driver": 5,
			"epp_available": "power", "governors_available": {"a": "powersave", "b": 1},
			"cpus": [
				"cpu0", 3, null, [0], [{"cpu": 9}], {},
				{"cpu": "1"},
				{"cpu": 4, "online": "no", "capacity": "1024", "cur_hz": "2 GHz",
				 "min_hz": null, "max_hz": [1], "hw_min_hz": {}, "hw_max_hz": true,
				 "governor": 1, "epp": ["power"]},
				{"cpu": 5, "online": 0}
			]},
		"thermal": {"zones": [
			7, "zone",
			{"zone": "0", "type": 3, "temp_celsius": "hot",
			 "trips": [5, "passive", {"type": null, "temp_celsius": "90", "hyst_celsius": false}]},
			{"zone": 1, "trips": {"type": "passive", "temp_celsius": 80}},
			{"zone": 2, "trips": "none"}]},
		"battery": {"supplies": [
			"BAT0", 1,
			{"name": 1, "type": ["Battery"], "status": true, "online": 1,
			 "capacity_pct": "50", "energy_watthours": null, "power_watts": {},
			 "time_to_empty_seconds": "long"}],
			"platform_profile": {"profile": 3, "choices": "balanced"}},
		"power": {"zones": [5, "package-0",
			{"zone": "intel-rapl:0", "name": "package-0", "parent": null, "energy_joules": "5"}]},
		"perf": {"workers": [5, {"available": true, "counts": [1, 2, 3, 4]},
				     {"counts": {"cycles": "1", "instructions": 2,
						 "cache-references": 3, "cache-misses": 4}}]},
		"daemon": {"workers": "8", "active": "2", "busy": "1", "busy_avg": null,
			"queued": [1, 2, 3], "jobs": "fast", "joules_per_inference": false,
			"worker_cpus": [0, "1", null, 2.9, true], "worker_kinds": [1, "performance", null],
			"allowed_cpus": {"a": 1}, "model_compute": ["m", 5,
				{"model": 5, "p50_seconds": 1}, {"model": "m", "p50_seconds": "1"},
				{"model": "ok", "p50_seconds": 0.5}]}}}), in);
	assert_int_equal(in->seq, 0);
	assert_near(in->interval_s, 1.0, 0);

	assert_true(in->cpufreq_available);
	assert_string_equal(in->driver, "");
	assert_int_equal(in->n_epp_choices, 0);
	/* an object's string members pass as words: harmless */
	assert_true(in->n_governor_choices <= 1);
	/* only entries with a numeric cpu count */
	assert_int_equal(in->n_cpus, 2);
	const struct pol_cpu *c = &in->cpus[0];
	assert_int_equal(c->cpu, 4);
	assert_true(c->online); /* only false is offline */
	assert_int_equal(c->capacity, -1);
	assert_true(isnan(c->cur_hz) && isnan(c->min_hz) && isnan(c->max_hz));
	assert_true(isnan(c->hw_min_hz) && isnan(c->hw_max_hz));
	assert_string_equal(c->governor, "");
	assert_string_equal(c->epp, "");
	assert_int_equal(in->cpus[1].cpu, 5);
	assert_true(in->cpus[1].online);

	assert_true(in->thermal_available);
	assert_int_equal(in->n_zones, 5);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(in->zones[i].zone, -1);
		assert_string_equal(in->zones[i].type, "");
		assert_true(isnan(in->zones[i].temp_c));
	}
	const struct pol_zone *z = &in->zones[2];
	assert_int_equal(z->n_trips, 3);
	for (size_t i = 0; i < z->n_trips; i++) {
		assert_string_equal(z->trips[i].type, "");
		assert_true(isnan(z->trips[i].temp_c));
		assert_true(isnan(z->trips[i].hyst_c));
	}
	assert_int_equal(in->zones[3].zone, 1);
	assert_int_equal(in->zones[4].n_trips, 0);

	assert_true(in->battery_available);
	assert_int_equal(in->n_supplies, 3);
	const struct pol_supply *s = &in->supplies[2];
	assert_string_equal(s->name, "");
	assert_string_equal(s->type, "");
	assert_string_equal(s->status, "");
	assert_int_equal(s->online, -1);
	assert_true(isnan(s->capacity_pct) && isnan(s->energy_wh) && isnan(s->power_w) &&
		    isnan(s->time_to_empty_s));
	assert_false(in->platform_profile_available);
	assert_int_equal(in->n_platform_choices, 0);
	assert_false(pol_on_battery(in));
	assert_true(isnan(pol_battery_pct(in)));


	assert_false(in->pmu_available);
	assert_true(isnan(in->cycles) && isnan(in->instructions));
	assert_true(isnan(in->cache_references) && isnan(in->cache_misses));
	assert_string_equal(in->pmu_reason, "cycles and instructions are not counted here");

	assert_true(in->daemon_available);
	assert_int_equal(in->workers, 0);
	assert_int_equal(in->active, 0);
	assert_true(isnan(in->busy) && isnan(in->busy_avg));
	assert_int_equal(in->queued[0] + in->queued[1] + in->queued[2], 0);
	assert_true(isnan(in->jobs_per_s) && isnan(in->latency_p99_s) && isnan(in->queue_p95_s));
	assert_true(isnan(in->joules_per_inference));
	assert_int_equal(in->n_worker_cpus, 5);
	assert_int_equal(in->worker_cpus[0], 0);
	assert_int_equal(in->worker_cpus[1], -1);
	assert_int_equal(in->worker_cpus[2], -1);
	assert_int_equal(in->worker_cpus[3], 2);
	assert_int_equal(in->worker_cpus[4], -1);
	assert_int_equal(in->worker_kind[0], 0);
	assert_int_equal(in->worker_kind[1], 1);
	assert_int_equal(in->worker_kind[2], 0);
	/* an object is not a list of CPUs (its numbers are not taken as one) */
	assert_true(in->n_allowed_cpus <= 1);
	assert_int_equal(in->n_models, 1);
	assert_string_equal(in->models[0].name, "ok");
	free(in);
}

/* --- absurd numbers -------------------------------------------------------------------------- */

static void test_absurd_numbers(void **state)
{
	(void)state;
	struct pol_inputs *in = new_inputs();
	parse_ok(J({"seq": 1e300, "time": 1e15, "interval_ms": -1000, "sources": {
		"cpufreq": {"cpus": [
			{"cpu": -1}, {"cpu": 1e300}, {"cpu": -1e300}, {"cpu": 2147483648},
			{"cpu": 2147483647, "capacity": 1e40, "hw_max_hz": -5, "max_hz": 1e308},
			{"cpu": 3.7, "capacity": -2147483649}]},
		"thermal": {"zones": [{"zone": 1e30, "temp_celsius": -1e300,
			"trips": [{"type": "passive", "temp_celsius": 1e300}]}]},
		"battery": {"supplies": [{"type": "Battery", "status": "Discharging",
					  "capacity_pct": -40},
					 {"type": "Battery", "status": "Full", "capacity_pct": 1e9}]},
		"daemon": {"workers": 1e12, "active": -4, "busy": -1e300,
			"queued": {"interactive": -1, "normal": 4294967296, "batch": 4294967295},
			"worker_cpus": [1e30, -1e30, 2147483648, -2147483649, 7],
			"allowed_cpus": [1e300, 3],
			"model_compute": [{"model": "m", "p50_seconds": -1},
					  {"model": "n", "p50_seconds": 1e300}]}}}), in);
	assert_int_equal(in->seq, 0); /* not a sequence number */
	assert_near(in->time, 1e15, 0);
	assert_near(in->interval_s, 1.0, 0);

	/* CPU numbers out of int's range are no CPU numbers */
	assert_int_equal(in->n_cpus, 2);
	assert_int_equal(in->cpus[0].cpu, 2147483647);
	assert_int_equal(in->cpus[0].capacity, -1);
	assert_near(in->cpus[0].hw_max_hz, -5, 0); /* figures pass: the policies judge */
	assert_int_equal(in->cpus[1].cpu, 3);
	assert_int_equal(in->cpus[1].capacity, -1);

	assert_int_equal(in->zones[0].zone, -1);
	assert_near(in->zones[0].temp_c, -1e300, 0);
	assert_near(in->zones[0].trips[0].temp_c, 1e300, 0);

	assert_true(pol_on_battery(in));
	assert_near(pol_battery_pct(in), -40, 0); /* the lowest, as reported */

	assert_int_equal(in->workers, 0);
	assert_int_equal(in->active, 0);
	assert_int_equal(in->queued[0], 0);
	assert_int_equal(in->queued[1], 0);
	assert_int_equal(in->queued[2], 4294967295u);
	/* CPU numbers beyond int are unknown (-1), not whatever a cast makes */
	assert_int_equal(in->n_worker_cpus, 5);
	assert_int_equal(in->worker_cpus[0], -1);
	assert_int_equal(in->worker_cpus[1], -1);
	assert_int_equal(in->worker_cpus[2], -1);
	assert_int_equal(in->worker_cpus[3], -1);
	assert_int_equal(in->worker_cpus[4], 7);
	assert_int_equal(in->n_allowed_cpus, 2);
	assert_int_equal(in->allowed_cpus[0], -1);
	assert_int_equal(in->allowed_cpus[1], 3);
	assert_int_equal(in->n_models, 2);
	free(in);

	/* A huge seq that fits uint64_t is kept; interval 0 is the default. */
	in = new_inputs();
	parse_ok(J({"seq": 9007199254740992, "time": 0, "interval_ms": 0}), in);
	assert_true(in->seq == UINT64_C(9007199254740992));
	assert_near(in->interval_s, 1.0, 0);
	free(in);
}

/* --- arrays beyond the limits ---------------------------------------------------------------- */

static cJSON *numbers(size_t n, int first)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(first + (int)i));
	return a;
}

static cJSON *words_array(size_t n, const char *stem)
{
	cJSON *a = cJSON_CreateArray();
	char buf[32];
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s%zu", stem, i);
		cJSON_AddItemToArray(a, cJSON_CreateString(buf));
	}
	return a;
}

static void test_huge_arrays(void **state)
{
	(void)state;
	const size_t over = 3; /* times the limits */
	cJSON *snap = cJSON_CreateObject();
	cJSON_AddNumberToObject(snap, "time", 5);
	cJSON *src = cJSON_AddObjectToObject(snap, "sources");

	cJSON *cf = cJSON_AddObjectToObject(src, "cpufreq");
	cJSON_AddItemToObject(cf, "epp_available", words_array(over * POL_MAX_CHOICES, "epp"));
	cJSON_AddItemToObject(cf, "governors_available", words_array(over * POL_MAX_CHOICES, "g"));
	cJSON *cpus = cJSON_AddArrayToObject(cf, "cpus");
	for (size_t i = 0; i < over * POL_MAX_CPUS; i++) {
		cJSON *c = cJSON_CreateObject();
		cJSON_AddNumberToObject(c, "cpu", (double)i);
		cJSON_AddNumberToObject(c, "hw_max_hz", 3e9);
		cJSON_AddItemToArray(cpus, c);
	}

	cJSON *zones = cJSON_AddArrayToObject(cJSON_AddObjectToObject(src, "thermal"), "zones");
	for (size_t i = 0; i < over * POL_MAX_ZONES; i++) {
		cJSON *z = cJSON_CreateObject();
		cJSON_AddNumberToObject(z, "zone", (double)i);
		cJSON_AddNumberToObject(z, "temp_celsius", 40);
		cJSON *trips = cJSON_AddArrayToObject(z, "trips");
		for (size_t k = 0; k < over * POL_MAX_TRIPS; k++) {
			cJSON *t = cJSON_CreateObject();
			cJSON_AddStringToObject(t, "type", "active");
			cJSON_AddNumberToObject(t, "temp_celsius", (double)k);
			cJSON_AddItemToArray(trips, t);
		}
		cJSON_AddItemToArray(zones, z);
	}

	cJSON *bat = cJSON_AddObjectToObject(src, "battery");
	cJSON *sup = cJSON_AddArrayToObject(bat, "supplies");
	for (size_t i = 0; i < over * POL_MAX_SUPPLIES; i++) {
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "type", "Battery");
		cJSON_AddStringToObject(s, "status", "Discharging");
		cJSON_AddNumberToObject(s, "capacity_pct", 90.0 - (double)i);
		cJSON_AddItemToArray(sup, s);
	}
	cJSON *pp = cJSON_AddObjectToObject(bat, "platform_profile");
	cJSON_AddStringToObject(pp, "profile", "p0");
	cJSON_AddItemToObject(pp, "choices", words_array(over * POL_MAX_CHOICES, "p"));

	cJSON *workers = cJSON_AddArrayToObject(cJSON_AddObjectToObject(src, "perf"), "workers");
	for (size_t i = 0; i < over * POL_MAX_WORKERS; i++) {
		cJSON *w = cJSON_CreateObject();
		cJSON *counts = cJSON_AddObjectToObject(w, "counts");
		cJSON_AddNumberToObject(counts, "cycles", 1);
		cJSON_AddNumberToObject(counts, "instructions", 2);
		cJSON_AddNumberToObject(counts, "cache-references", 3);
		cJSON_AddNumberToObject(counts, "cache-misses", 4);
		cJSON_AddItemToArray(workers, w);
	}

	cJSON *d = cJSON_AddObjectToObject(src, "daemon");
	cJSON_AddNumberToObject(d, "workers", (double)(over * POL_MAX_WORKERS));
	cJSON_AddItemToObject(d, "worker_cpus", numbers(over * POL_MAX_WORKERS, 0));
	cJSON_AddItemToObject(d, "worker_kinds", words_array(over * POL_MAX_WORKERS, "k"));
	cJSON *ms = cJSON_AddArrayToObject(d, "model_compute");
	for (size_t i = 0; i < over * POL_MAX_MODELS; i++) {
		cJSON *m = cJSON_CreateObject();
		char name[32];
		snprintf(name, sizeof(name), "model%zu", i);
		cJSON_AddStringToObject(m, "model", name);
		cJSON_AddNumberToObject(m, "p50_seconds", 0.001 * (double)i);
		cJSON_AddItemToArray(ms, m);
	}

	struct pol_inputs *in = new_inputs();
	char err[64] = "";
	assert_int_equal(pol_inputs_parse(snap, in, err, sizeof(err)), 0);
	assert_int_equal(in->n_cpus, POL_MAX_CPUS);
	assert_int_equal(in->cpus[POL_MAX_CPUS - 1].cpu, POL_MAX_CPUS - 1);
	assert_int_equal(in->n_epp_choices, POL_MAX_CHOICES);
	assert_int_equal(in->n_governor_choices, POL_MAX_CHOICES);
	assert_string_equal(in->governor_choices[POL_MAX_CHOICES - 1], "g11");
	assert_int_equal(in->n_zones, POL_MAX_ZONES);
	for (size_t i = 0; i < in->n_zones; i++)
		assert_int_equal(in->zones[i].n_trips, POL_MAX_TRIPS);
	assert_int_equal(in->n_supplies, POL_MAX_SUPPLIES);
	assert_near(pol_battery_pct(in), 90.0 - (POL_MAX_SUPPLIES - 1), 1e-9);
	assert_int_equal(in->n_platform_choices, POL_MAX_CHOICES);
	assert_true(in->pmu_available);
	assert_near(in->cycles, (double)(over * POL_MAX_WORKERS), 0); /* every worker counts */
	assert_int_equal(in->workers, over * POL_MAX_WORKERS);
	assert_int_equal(in->n_worker_cpus, POL_MAX_WORKERS);
	assert_int_equal(in->worker_cpus[POL_MAX_WORKERS - 1], POL_MAX_WORKERS - 1);
	assert_int_equal(in->n_models, POL_MAX_MODELS);
	assert_string_equal(in->models[POL_MAX_MODELS - 1].name, "model31");
	cJSON_Delete(snap);
	free(in);
}

/* A cpuset larger than the list can hold is not known: workers pinned
 * beyond its first POL_MAX_CPUS CPUs must not look as if they lost theirs. */
static void test_allowed_cpus_beyond_limit(void **state)
{
	(void)state;
	cJSON *snap = cJSON_CreateObject();
	cJSON_AddNumberToObject(snap, "time", 5);
	cJSON *d = cJSON_AddObjectToObject(cJSON_AddObjectToObject(snap, "sources"), "daemon");
	cJSON_AddNumberToObject(d, "workers", 2);
	cJSON_AddItemToObject(d, "worker_cpus", numbers(2, 300));
	cJSON_AddItemToObject(d, "allowed_cpus", numbers(2 * POL_MAX_CPUS, 0));
	struct pol_inputs *in = new_inputs();
	char err[64];
	assert_int_equal(pol_inputs_parse(snap, in, err, sizeof(err)), 0);
	assert_int_equal(in->n_worker_cpus, 2);
	assert_int_equal(in->worker_cpus[1], 301);
	assert_int_equal(in->n_allowed_cpus, 0);

	/* exactly POL_MAX_CPUS: all of them */
	cJSON_ReplaceItemInObject(d, "allowed_cpus", numbers(POL_MAX_CPUS, 0));
	assert_int_equal(pol_inputs_parse(snap, in, err, sizeof(err)), 0);
	assert_int_equal(in->n_allowed_cpus, POL_MAX_CPUS);
	assert_int_equal(in->allowed_cpus[POL_MAX_CPUS - 1], POL_MAX_CPUS - 1);
	cJSON_Delete(snap);
	free(in);
}

/* Words that do not fit POL_WORD are left out of the choices (a cut one
 * would be a choice nobody offered); fields are cut; long model names are
 * skipped. */
static void test_long_strings(void **state)
{
	(void)state;
	struct pol_inputs *in = new_inputs();
	parse_ok(J({"time": 1, "sources": {
		"cpufreq": {"driver": "a-driver-name-far-longer-than-thirty-one-characters",
			"epp_available": ["power", "balance_performance_but_much_longer_than_31"],
			"cpus": [{"cpu": 0, "governor": "schedutil_with_a_very_long_suffix_x"}]},
		"daemon": {"model_compute": [
			{"model": "m1234567890123456789012345678901234567890123456789012345678901234",
			 "p50_seconds": 1},
			{"model": "m123456789012345678901234567890123456789012345678901234567890123",
			 "p50_seconds": 2}]}}}), in);
	assert_int_equal(strlen(in->driver), POL_WORD - 1);
	assert_int_equal(in->n_epp_choices, 1);
	assert_string_equal(in->epp_choices[0], "power");
	assert_int_equal(strlen(in->cpus[0].governor), POL_WORD - 1);
	assert_int_equal(in->n_models, 1);
	assert_int_equal(strlen(in->models[0].name), POL_MODEL_NAME - 1);
	assert_near(in->models[0].compute_p50_s, 2, 0);
	free(in);
}

/* --- perf ------------------------------------------------------------------------------------ */

static void perf_case(const char *perf_part, bool available, const char *reason)
{
	char text[2048];
	snprintf(text, sizeof(text), "{\"time\": 1, \"sources\": {\"perf\": %s}}", perf_part);
	struct pol_inputs *in = new_inputs();
	parse_ok(text, in);
	if (in->pmu_available != available || (reason && strcmp(in->pmu_reason, reason) != 0))
		fail_msg("%s: available %d reason \"%s\"", perf_part, in->pmu_available,
			 in->pmu_reason);
	free(in);
}

static void test_perf(void **state)
{
	(void)state;
	perf_case(J({"available": true, "workers": []}), false, "no worker counters");
	perf_case(J({"available": true, "workers": [{"available": false, "reason": "exited"}]}),
		  false, "no worker counters");
	perf_case(J({"available": true, "workers": [{"available": true, "counts": {}}]}), false,
		  "cycles and instructions are not counted here");
	/* a VM without cache events */
	perf_case(J({"available": true, "workers": [{"available": true,
		"counts": {"cycles": 1, "instructions": 2}}]}), false,
		  "cache references and misses are not counted here");
	/* one worker lacking an event spoils the sum */
	perf_case(J({"available": true, "workers": [
		{"counts": {"cycles": 1, "instructions": 2, "cache-references": 3, "cache-misses": 4}},
		{"counts": {"cycles": 1, "instructions": 2, "cache-references": 3}}]}), false,
		  "cache references and misses are not counted here");
	perf_case(J({"available": true, "workers": [
		{"counts": {"cycles": 0, "instructions": 0, "cache-references": 0, "cache-misses": 0}}]}),
		  true, NULL);

	struct pol_inputs *in = new_inputs();
	parse_ok(J({"time": 1, "sources": {"perf": {"workers": [
		{"counts": {"cycles": 1, "instructions": 2}}]}}}), in);
	assert_near(in->cycles, 1, 0);
	assert_near(in->instructions, 2, 0);
	assert_true(isnan(in->cache_references));
	assert_true(isnan(in->cache_misses));
	free(in);
}

/* --- power source rules ---------------------------------------------------------------------- */

static bool on_battery_of(const char *supplies)
{
	char text[2048];
	snprintf(text, sizeof(text), "{\"time\": 1, \"sources\": {\"battery\": {\"supplies\": %s}}}",
		 supplies);
	struct pol_inputs *in = new_inputs();
	parse_ok(text, in);
	bool on = pol_on_battery(in);
	free(in);
	return on;
}

static void test_on_battery(void **state)
{
	(void)state;
	assert_false(on_battery_of("[]"));
	assert_true(on_battery_of(J([{"type": "Battery", "status": "Discharging"}])));
	assert_true(on_battery_of(J([{"type": "Mains", "online": false},
				     {"type": "Battery", "status": "Discharging"}])));
	/* a battery that discharges on AC (the load outruns the adapter) */
	assert_false(on_battery_of(J([{"type": "Mains", "online": true},
				      {"type": "Battery", "status": "Discharging"}])));
	assert_false(on_battery_of(J([{"type": "USB", "online": true},
				      {"type": "Battery", "status": "Discharging"}])));
	assert_false(on_battery_of(J([{"type": "USB_C", "online": true},
				      {"type": "Battery", "status": "Discharging"}])));
	/* a Mains supply whose online flag is unknown is not online */
	assert_true(on_battery_of(J([{"type": "Mains"},
				     {"type": "Battery", "status": "Discharging"}])));
	/* a UPS or another type being online does not count as line power */
	assert_true(on_battery_of(J([{"type": "UPS", "online": true},
				     {"type": "Battery", "status": "Discharging"}])));
	assert_false(on_battery_of(J([{"type": "Battery", "status": "Charging"}])));
	assert_false(on_battery_of(J([{"type": "Battery", "status": "Not charging"}])));
	assert_false(on_battery_of(J([{"type": "Battery", "status": "Full"}])));
	assert_false(on_battery_of(J([{"type": "Battery", "status": "Unknown"}])));
	assert_false(on_battery_of(J([{"type": "Battery"}])));
	assert_false(on_battery_of(J([{"type": "battery", "status": "Discharging"}])));
	/* two batteries, one discharging (the other full, idle) */
	assert_true(on_battery_of(J([{"type": "Battery", "status": "Full"},
				     {"type": "Battery", "status": "Discharging"}])));
	assert_false(on_battery_of(J([{"type": "Battery", "status": "Discharging"},
				      {"type": "Mains", "online": false},
				      {"type": "USB", "online": true}])));
}

static double pct_of(const char *supplies)
{
	char text[2048];
	snprintf(text, sizeof(text), "{\"time\": 1, \"sources\": {\"battery\": {\"supplies\": %s}}}",
		 supplies);
	struct pol_inputs *in = new_inputs();
	parse_ok(text, in);
	double pct = pol_battery_pct(in);
	free(in);
	return pct;
}

static void test_battery_pct(void **state)
{
	(void)state;
	assert_true(isnan(pct_of("[]")));
	assert_true(isnan(pct_of(J([{"type": "Mains", "online": true, "capacity_pct": 10}]))));
	assert_true(isnan(pct_of(J([{"type": "Battery", "status": "Discharging"}]))));
	assert_near(pct_of(J([{"type": "Battery", "capacity_pct": 55}])), 55, 0);
	assert_near(pct_of(J([{"type": "Battery", "capacity_pct": 80},
				     {"type": "Battery"},
				     {"type": "Battery", "capacity_pct": 12},
				     {"type": "UPS", "capacity_pct": 3}])),
			   12, 0);
	assert_near(pct_of(J([{"type": "Battery", "capacity_pct": 0}])), 0, 0);
}

/* The parser fills in from scratch each time: nothing of the previous
 * snapshot survives. */
static void test_reparse_clears(void **state)
{
	(void)state;
	struct pol_inputs *in = new_inputs();
	parse_ok(laptop_snapshot, in);
	assert_true(in->daemon_available);
	parse_ok(J({"time": 2}), in);
	assert_all_unknown(in);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_laptop_snapshot),
		cmocka_unit_test(test_trace_gen_snapshot),
		cmocka_unit_test(test_fixture_laptop),
		cmocka_unit_test(test_fixture_arm_server),
		cmocka_unit_test(test_fixture_hybrid),
		cmocka_unit_test(test_not_a_snapshot),
		cmocka_unit_test(test_time_only),
		cmocka_unit_test(test_unavailable_parts),
		cmocka_unit_test(test_parts_missing_their_lists),
		cmocka_unit_test(test_sources_of_wrong_type),
		cmocka_unit_test(test_fields_of_wrong_type),
		cmocka_unit_test(test_absurd_numbers),
		cmocka_unit_test(test_huge_arrays),
		cmocka_unit_test(test_allowed_cpus_beyond_limit),
		cmocka_unit_test(test_long_strings),
		cmocka_unit_test(test_perf),
		cmocka_unit_test(test_on_battery),
		cmocka_unit_test(test_battery_pct),
		cmocka_unit_test(test_reparse_clears),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
