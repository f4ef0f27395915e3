/* Snapshot JSON → struct pol_inputs. Tolerant: a part that is missing,
 * unavailable or of the wrong shape leaves its group unavailable, and a
 * figure that is absent stays unknown (NAN, -1, ""). */
#include "policies/inputs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int inum(const cJSON *o, const char *k, int dflt)
{
	const cJSON *v = get(o, k);
	return cJSON_IsNumber(v) && v->valuedouble >= -2147483648.0 &&
			       v->valuedouble <= 2147483647.0
		       ? (int)v->valuedouble
		       : dflt;
}

static uint32_t unum(const cJSON *o, const char *k)
{
	double v = num(o, k);
	return v >= 0 && v <= 4294967295.0 ? (uint32_t)v : 0;
}

static void str(const cJSON *o, const char *k, char *buf, size_t len)
{
	const cJSON *v = get(o, k);
	snprintf(buf, len, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

/* An object part that says available: true (a part without the flag is
 * taken as available: older traces). */
static const cJSON *part(const cJSON *sources, const char *name)
{
	const cJSON *p = get(sources, name);
	if (!cJSON_IsObject(p) || cJSON_IsFalse(get(p, "available")))
		return NULL;
	return p;
}

static size_t words(const cJSON *arr, char (*out)[POL_WORD], size_t max)
{
	size_t n = 0;
	const cJSON *w;
	cJSON_ArrayForEach(w, arr) {
		if (n == max)
			break;
		if (cJSON_IsString(w) && strlen(w->valuestring) < POL_WORD)
			snprintf(out[n++], POL_WORD, "%s", w->valuestring);
	}
	return n;
}

static void parse_cpufreq(const cJSON *p, struct pol_inputs *in)
{
	const cJSON *cpus = get(p, "cpus");
	if (!cJSON_IsArray(cpus))
		return;
	in->cpufreq_available = true;
	str(p, "driver", in->driver, sizeof(in->driver));
	in->n_epp_choices = words(get(p, "epp_available"), in->epp_choices, POL_MAX_CHOICES);
	in->n_governor_choices =
		words(get(p, "governors_available"), in->governor_choices, POL_MAX_CHOICES);
	const cJSON *c;
	cJSON_ArrayForEach(c, cpus) {
		if (in->n_cpus == POL_MAX_CPUS)
			break;
		int cpu = inum(c, "cpu", -1);
		if (cpu < 0)
			continue;
		struct pol_cpu *o = &in->cpus[in->n_cpus++];
		o->cpu = cpu;
		o->online = !cJSON_IsFalse(get(c, "online"));
		o->capacity = inum(c, "capacity", -1);
		o->cur_hz = num(c, "cur_hz");
		o->min_hz = num(c, "min_hz");
		o->max_hz = num(c, "max_hz");
		o->hw_min_hz = num(c, "hw_min_hz");
		o->hw_max_hz = num(c, "hw_max_hz");
		str(c, "governor", o->governor, sizeof(o->governor));
		str(c, "epp", o->epp, sizeof(o->epp));
	}
}

static void parse_thermal(const cJSON *p, struct pol_inputs *in)
{
	const cJSON *zones = get(p, "zones");
	if (!cJSON_IsArray(zones))
		return;
	in->thermal_available = true;
	const cJSON *z;
	cJSON_ArrayForEach(z, zones) {
		if (in->n_zones == POL_MAX_ZONES)
			break;
		struct pol_zone *o = &in->zones[in->n_zones++];
		o->zone = inum(z, "zone", -1);
		str(z, "type", o->type, sizeof(o->type));
		o->temp_c = num(z, "temp_celsius");
		const cJSON *t;
		cJSON_ArrayForEach(t, get(z, "trips")) {
			if (o->n_trips == POL_MAX_TRIPS)
				break;
			struct pol_trip *tr = &o->trips[o->n_trips++];
			str(t, "type", tr->type, sizeof(tr->type));
			tr->temp_c = num(t, "temp_celsius");
			tr->hyst_c = num(t, "hyst_celsius");
		}
	}
}

static void parse_battery(const cJSON *p, struct pol_inputs *in)
{
	const cJSON *sup = get(p, "supplies");
	if (cJSON_IsArray(sup)) {
		in->battery_available = true;
		const cJSON *s;
		cJSON_ArrayForEach(s, sup) {
			if (in->n_supplies == POL_MAX_SUPPLIES)
				break;
			struct pol_supply *o = &in->supplies[in->n_supplies++];
			str(s, "name", o->name, sizeof(o->name));
			str(s, "type", o->type, sizeof(o->type));
			str(s, "status", o->status, sizeof(o->status));
			const cJSON *on = get(s, "online");
			o->online = cJSON_IsBool(on) ? cJSON_IsTrue(on) : -1;
			o->capacity_pct = num(s, "capacity_pct");
			o->energy_wh = num(s, "energy_watthours");
			o->power_w = num(s, "power_watts");
			o->time_to_empty_s = num(s, "time_to_empty_seconds");
		}
	}
	const cJSON *pp = get(p, "platform_profile");
	if (cJSON_IsObject(pp) && !cJSON_IsFalse(get(pp, "available"))) {
		str(pp, "profile", in->platform_profile, sizeof(in->platform_profile));
		in->n_platform_choices =
			words(get(pp, "choices"), in->platform_choices, POL_MAX_CHOICES);
		in->platform_profile_available = in->platform_profile[0] != '\0';
	}
}

static double count_of(const cJSON *counts, const char *name)
{
	return num(counts, name);
}

static void parse_perf(const cJSON *p, struct pol_inputs *in)
{
	const cJSON *workers = get(p, "workers");
	double sums[4] = { 0, 0, 0, 0 };
	bool have[4] = { true, true, true, true };
	static const char *const names[4] = { "cycles", "instructions", "cache-references",
					       "cache-misses" };
	size_t n = 0;
	const cJSON *w;
	cJSON_ArrayForEach(w, workers) {
		if (cJSON_IsFalse(get(w, "available")))
			continue;
		const cJSON *counts = get(w, "counts");
		for (int k = 0; k < 4; k++) {
			double v = count_of(counts, names[k]);
			if (isnan(v))
				have[k] = false;
			else
				sums[k] += v;
		}
		n++;
	}
	in->cycles = n && have[0] ? sums[0] : NAN;
	in->instructions = n && have[1] ? sums[1] : NAN;
	in->cache_references = n && have[2] ? sums[2] : NAN;
	in->cache_misses = n && have[3] ? sums[3] : NAN;
	if (!n)
		snprintf(in->pmu_reason, sizeof(in->pmu_reason), "no worker counters");
	else if (isnan(in->cycles) || isnan(in->instructions))
		snprintf(in->pmu_reason, sizeof(in->pmu_reason),
			 "cycles and instructions are not counted here");
	else if (isnan(in->cache_references) || isnan(in->cache_misses))
		snprintf(in->pmu_reason, sizeof(in->pmu_reason),
			 "cache references and misses are not counted here");
	else
		in->pmu_available = true;
}

static size_t int_list(const cJSON *arr, int *out, size_t max)
{
	size_t n = 0;
	const cJSON *v;
	cJSON_ArrayForEach(v, arr) {
		if (n == max)
			break;
		/* a number out of int's range is no CPU (and casting it is undefined) */
		out[n++] = cJSON_IsNumber(v) && v->valuedouble > -2147483649.0 &&
					   v->valuedouble < 2147483648.0
				   ? (int)v->valuedouble
				   : -1;
	}
	return n;
}

static void parse_daemon(const cJSON *p, struct pol_inputs *in)
{
	in->daemon_available = true;
	in->workers = unum(p, "workers");
	const cJSON *a = get(p, "active");
	in->active = cJSON_IsNumber(a) ? unum(p, "active") : in->workers;
	in->busy = num(p, "busy");
	in->busy_avg = num(p, "busy_avg");
	const cJSON *q = get(p, "queued");
	in->queued[0] = unum(q, "interactive");
	in->queued[1] = unum(q, "normal");
	in->queued[2] = unum(q, "batch");
	const cJSON *j = get(p, "jobs");
	in->jobs_per_s = num(j, "per_s");
	in->latency_p99_s = num(j, "latency_p99_seconds");
	in->queue_p95_s = num(j, "queue_p95_seconds");
	in->joules_per_inference = num(p, "joules_per_inference");
	in->n_worker_cpus = int_list(get(p, "worker_cpus"), in->worker_cpus, POL_MAX_WORKERS);
	const cJSON *k;
	size_t i = 0;
	cJSON_ArrayForEach(k, get(p, "worker_kinds")) {
		if (i == POL_MAX_WORKERS)
			break;
		in->worker_kind[i++] = !cJSON_IsString(k)				? 0
				       : strcmp(k->valuestring, "performance") == 0 ? 1
				       : strcmp(k->valuestring, "efficiency") == 0  ? 2
										    : 0;
	}
	/* A cpuset larger than the list holds is not known: a worker pinned past
	 * the cut would look as if the cpuset had lost its CPU. */
	const cJSON *allowed = get(p, "allowed_cpus");
	if (cJSON_GetArraySize(allowed) <= POL_MAX_CPUS)
		in->n_allowed_cpus = int_list(allowed, in->allowed_cpus, POL_MAX_CPUS);
	const cJSON *m;
	cJSON_ArrayForEach(m, get(p, "model_compute")) {
		const cJSON *name = get(m, "model");
		double p50 = num(m, "p50_seconds");
		if (in->n_models == POL_MAX_MODELS)
			break;
		if (!cJSON_IsString(name) || strlen(name->valuestring) >= POL_MODEL_NAME || isnan(p50))
			continue;
		snprintf(in->models[in->n_models].name, POL_MODEL_NAME, "%s", name->valuestring);
		in->models[in->n_models++].compute_p50_s = p50;
	}
}

int pol_inputs_parse(const cJSON *snap, struct pol_inputs *in, char *err, size_t errlen)
{
	memset(in, 0, sizeof(*in));
	in->cycles = in->instructions = in->cache_references = in->cache_misses = NAN;
	in->busy = in->busy_avg = in->jobs_per_s = in->latency_p99_s = NAN;
	in->queue_p95_s = in->joules_per_inference = NAN;
	snprintf(in->pmu_reason, sizeof(in->pmu_reason), "the perf source is off");
	const cJSON *t = get(snap, "time");
	if (!cJSON_IsObject(snap) || !cJSON_IsNumber(t) || !isfinite(t->valuedouble)) {
		snprintf(err, errlen, "not a telemetry snapshot (no numeric \"time\")");
		return -EINVAL;
	}
	in->time = t->valuedouble;
	double seq = num(snap, "seq");
	in->seq = seq >= 0 && seq < 18446744073709551616.0 ? (uint64_t)seq : 0;
	double iv = num(snap, "interval_ms");
	in->interval_s = iv > 0 ? iv / 1000.0 : 1.0;
	const cJSON *src = get(snap, "sources");
	const cJSON *p;
	if ((p = part(src, "cpufreq")))
		parse_cpufreq(p, in);
	if ((p = part(src, "thermal")))
		parse_thermal(p, in);
	if ((p = part(src, "battery")))
		parse_battery(p, in);
	if ((p = part(src, "perf")))
		parse_perf(p, in);
	else if (cJSON_IsObject(get(src, "perf")))
		str(get(src, "perf"), "reason", in->pmu_reason, sizeof(in->pmu_reason));
	if ((p = part(src, "daemon")))
		parse_daemon(p, in);
	return 0;
}

static bool is_type(const struct pol_supply *s, const char *t)
{
	return strcmp(s->type, t) == 0;
}

bool pol_on_battery(const struct pol_inputs *in)
{
	bool ac_online = false, discharging = false;
	for (size_t i = 0; i < in->n_supplies; i++) {
		const struct pol_supply *s = &in->supplies[i];
		if ((is_type(s, "Mains") || is_type(s, "USB") || is_type(s, "USB_C")) && s->online == 1)
			ac_online = true;
		if (is_type(s, "Battery") && strcmp(s->status, "Discharging") == 0)
			discharging = true;
	}
	/* UPower's rule: a battery discharging while no line power is online.
	 * (A battery can discharge on AC when the load outruns the adapter.) */
	return discharging && !ac_online;
}

double pol_battery_pct(const struct pol_inputs *in)
{
	double lo = NAN;
	for (size_t i = 0; i < in->n_supplies; i++) {
		const struct pol_supply *s = &in->supplies[i];
		if (is_type(s, "Battery") && !isnan(s->capacity_pct) &&
		    (isnan(lo) || s->capacity_pct < lo))
			lo = s->capacity_pct;
	}
	return lo;
}
