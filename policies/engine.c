#include "policies/engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policies/affinity.h"
#include "policies/autoscale.h"
#include "policies/battery.h"
#include "policies/dvfs.h"
#include "policies/thermal.h"

/* What the engine last commanded for one CPU ("" not yet known), and a
 * value that failed (not tried again while the plan still wants it). */
struct cmd_cpu {
	int cpu;
	char governor[POL_WORD], epp[POL_WORD], max_khz[24];
	char refused_governor[POL_WORD], refused_epp[POL_WORD], refused_max_khz[24];
	int max_by;   /* the policy whose cap set max_khz, -1: none */
};

#define MAX_ACTIONS \
	(3 * POL_MAX_CPUS + 2 * POL_MAX_WORKERS + POL_MAX_MODELS + POL_MAX_NOTES + 8)

struct pol_engine {
	struct pol_thermal_state thermal;
	struct pol_battery_state battery;
	struct pol_dvfs_state dvfs;
	struct pol_autoscale_state autoscale;
	struct pol_affinity_state affinity;
	struct pol_plan plan;
	struct pol_inputs in;
	uint64_t ticks;
	double last_time;     /* NAN before the first tick */

	/* commanded */
	struct cmd_cpu cpus[POL_MAX_CPUS];
	size_t n_cpus;
	char platform[POL_WORD];
	char platform_refused[POL_WORD];
	int profile;          /* -1: none yet */
	uint32_t active;      /* 0: not yet */
	uint32_t classes;
	enum pol_source classes_by; /* who restricted them */
	uint32_t accept[POL_MAX_WORKERS];
	int pin[POL_MAX_WORKERS];
	uint32_t active_refused;            /* 0: none */
	int pin_refused[POL_MAX_WORKERS];   /* -1: none */
	bool have_workers;
	char heavy[POL_MAX_MODELS][POL_MODEL_NAME]; /* models commanded heavy */
	size_t n_heavy;

	/* notes of the previous tick: a note is reported when it appears */
	char notes[POL_MAX_NOTES][POL_REASON];
	size_t n_notes;

	double throttled[POL_N_SRC];

	struct pol_action acts[MAX_ACTIONS];
	size_t n_acts;
};

static const char *const kind_names[] = {
	"sysfs", "workers", "classes", "accept", "pin", "heavy", "profile", "note",
};

const char *pol_action_kind_name(enum pol_action_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

struct pol_engine *pol_engine_new(void)
{
	struct pol_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	pol_thermal_init(&e->thermal);
	pol_battery_init(&e->battery);
	pol_dvfs_init(&e->dvfs);
	pol_autoscale_init(&e->autoscale);
	pol_affinity_init(&e->affinity);
	e->last_time = NAN;
	e->profile = -1;
	e->classes = POL_CLASS_ALL;
	for (size_t w = 0; w < POL_MAX_WORKERS; w++)
		e->pin_refused[w] = -1;
	return e;
}

static void clear_actions(struct pol_engine *e)
{
	for (size_t i = 0; i < e->n_acts; i++)
		cJSON_Delete(e->acts[i].inputs);
	e->n_acts = 0;
}

void pol_engine_free(struct pol_engine *e)
{
	if (!e)
		return;
	clear_actions(e);
	free(e);
}

/* --- the inputs each policy looks at ---------------------------------------------------- */

static void add_num(cJSON *o, const char *k, double v)
{
	if (isnan(v))
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, v);
}

static cJSON *inputs_json(const struct pol_engine *e, enum pol_source by)
{
	const struct pol_inputs *in = &e->in;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	switch (by) {
	case POL_SRC_THERMAL:
		cJSON_AddNumberToObject(o, "level", e->thermal.level);
		cJSON_AddBoolToObject(o, "critical", e->thermal.critical);
		if (e->thermal.hot_zone >= 0) {
			cJSON_AddNumberToObject(o, "zone", e->thermal.hot_zone);
			cJSON_AddStringToObject(o, "type", e->thermal.hot_type);
		}
		add_num(o, "temp_celsius", e->thermal.hot_temp_c);
		add_num(o, "passive_celsius", e->thermal.hot_passive_c);
		add_num(o, "critical_celsius", e->thermal.hot_critical_c);
		break;
	case POL_SRC_BATTERY:
		cJSON_AddBoolToObject(o, "on_battery", e->battery.on_battery);
		add_num(o, "capacity_pct", e->battery.capacity_pct);
		cJSON_AddStringToObject(o, "level", pol_battery_level_name(e->battery.level));
		break;
	case POL_SRC_PROFILE:
		cJSON_AddStringToObject(o, "profile", pol_profile_name(e->plan.profile));
		cJSON_AddStringToObject(o, "style", pol_cpufreq_style_name(pol_cpufreq_style(in)));
		cJSON_AddBoolToObject(o, "on_battery", pol_on_battery(in));
		break;
	case POL_SRC_DVFS:
		cJSON_AddNumberToObject(o, "queued",
					in->queued[0] + in->queued[1] + in->queued[2]);
		add_num(o, "busy", in->busy);
		cJSON_AddStringToObject(o, "level", pol_dvfs_level_name(e->dvfs.level));
		add_num(o, "ipc", e->dvfs.ipc);
		add_num(o, "cache_miss_ratio", e->dvfs.miss_ratio);
		break;
	case POL_SRC_AUTOSCALE:
		cJSON_AddNumberToObject(o, "active", in->active);
		cJSON_AddNumberToObject(o, "workers", in->workers);
		add_num(o, "busy_avg", isnan(in->busy_avg) ? in->busy : in->busy_avg);
		cJSON_AddNumberToObject(o, "queued",
					in->queued[0] + in->queued[1] + in->queued[2]);
		add_num(o, "queue_p95_seconds", in->queue_p95_s);
		break;
	case POL_SRC_AFFINITY: {
		cJSON *a = cJSON_AddArrayToObject(o, "allowed_cpus");
		for (size_t i = 0; a && i < in->n_allowed_cpus; i++)
			cJSON_AddItemToArray(a, cJSON_CreateNumber(in->allowed_cpus[i]));
		cJSON_AddBoolToObject(o, "hybrid", e->affinity.hybrid);
		break;
	}
	default:
		break;
	}
	return o;
}

/* --- diffing the plan into actions ---------------------------------------------------- */

static struct pol_action *add(struct pol_engine *e, enum pol_action_kind k, const struct pol_why *w,
			      enum pol_source dflt)
{
	if (e->n_acts == MAX_ACTIONS)
		return NULL;
	struct pol_action *a = &e->acts[e->n_acts++];
	memset(a, 0, sizeof(*a));
	a->kind = k;
	a->index = -1;
	a->by = w && w->set ? w->by : dflt;
	snprintf(a->reason, sizeof(a->reason), "%s", w && w->set ? w->why : "");
	a->inputs = inputs_json(e, a->by);
	return a;
}

static struct cmd_cpu *cmd_cpu(struct pol_engine *e, int cpu)
{
	for (size_t i = 0; i < e->n_cpus; i++)
		if (e->cpus[i].cpu == cpu)
			return &e->cpus[i];
	if (e->n_cpus == POL_MAX_CPUS)
		return NULL;
	struct cmd_cpu *c = &e->cpus[e->n_cpus++];
	memset(c, 0, sizeof(*c));
	c->cpu = cpu;
	c->max_by = -1;
	return c;
}

/* One sysfs setting: commanded starts as observed; an action when the
 * target differs from what was commanded, unless the target is the value
 * that failed last (refused, same size as cmd): that one is tried again
 * only after the plan wanted something else. */
static void setting(struct pol_engine *e, char *cmd, char *refused, size_t cmdlen,
		    const char *observed, const char *target, const char *rel, int index,
		    const struct pol_why *w, enum pol_source dflt)
{
	if (!cmd[0])
		snprintf(cmd, cmdlen, "%s", observed);
	if (refused[0] && strcmp(refused, target) != 0)
		refused[0] = '\0';
	if (!target[0] || strcmp(cmd, target) == 0 || refused[0])
		return;
	struct pol_action *a = add(e, POL_ACT_SYSFS, w, dflt);
	if (!a)
		return;
	snprintf(a->setting, sizeof(a->setting), "%s", rel);
	snprintf(a->from, sizeof(a->from), "%s", cmd);
	snprintf(a->to, sizeof(a->to), "%s", target);
	a->index = index;
	snprintf(cmd, cmdlen, "%s", target);
}

/* The reason for a max frequency: the cap that bound it, or the CPU's. */
static const struct pol_why *max_why(const struct pol_plan *p, const struct pol_cpu *c,
				     const struct pol_cpu_target *t)
{
	double ratio = c->hw_max_hz > 0 ? t->max_hz / c->hw_max_hz : 1;
	if (p->freq_cap_ratio < 1 && p->freq_cap.set && fabs(ratio - p->freq_cap_ratio) < 0.01 &&
	    p->freq_cap_ratio <= p->mem_cap_ratio)
		return &p->freq_cap;
	if (p->mem_cap_ratio < 1 && p->mem_why.set && fabs(ratio - p->mem_cap_ratio) < 0.01)
		return &p->mem_why;
	return &t->why;
}

static void diff_cpus(struct pol_engine *e)
{
	const struct pol_inputs *in = &e->in;
	const struct pol_plan *p = &e->plan;
	char rel[128], obs[24], to[24];
	for (size_t i = 0; i < p->n_cpu && i < in->n_cpus; i++) {
		const struct pol_cpu *c = &in->cpus[i];
		const struct pol_cpu_target *t = &p->cpu[i];
		struct cmd_cpu *cc = c->online ? cmd_cpu(e, c->cpu) : NULL;
		if (!cc)
			continue;
		snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/cpufreq/scaling_governor", c->cpu);
		setting(e, cc->governor, cc->refused_governor, sizeof(cc->governor), c->governor,
			t->governor, rel, c->cpu, &t->why, POL_SRC_PROFILE);
		snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/cpufreq/energy_performance_preference",
			 c->cpu);
		if (c->epp[0])
			setting(e, cc->epp, cc->refused_epp, sizeof(cc->epp), c->epp, t->epp, rel,
				c->cpu, &t->why, POL_SRC_PROFILE);
		if (isnan(t->max_hz) || isnan(c->max_hz))
			continue;
		snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/cpufreq/scaling_max_freq", c->cpu);
		snprintf(obs, sizeof(obs), "%.0f", c->max_hz / 1000.0);
		snprintf(to, sizeof(to), "%.0f", t->max_hz / 1000.0);
		const struct pol_why *w = max_why(p, c, t);
		/* A cap that ends is the capping policy's decision too. */
		struct pol_why lifted;
		if (w == &t->why && cc->max_by >= 0) {
			pol_why_set(&lifted, (enum pol_source)cc->max_by, "%s cap lifted: %s",
				    pol_source_name((enum pol_source)cc->max_by), t->why.why);
			w = &lifted;
		}
		size_t before = e->n_acts;
		setting(e, cc->max_khz, cc->refused_max_khz, sizeof(cc->max_khz), obs, to, rel, c->cpu,
			w, POL_SRC_PROFILE);
		if (e->n_acts > before)
			cc->max_by = w == &t->why || w == &lifted ? -1 : (int)w->by;
	}
	if (in->platform_profile_available)
		setting(e, e->platform, e->platform_refused, sizeof(e->platform), in->platform_profile,
			p->platform_profile, "firmware/acpi/platform_profile", -1, &p->platform_why,
			POL_SRC_PROFILE);
}

static void class_names(uint32_t m, char *buf, size_t len)
{
	static const char *const names[] = { "interactive", "normal", "batch" };
	buf[0] = '\0';
	for (int k = 0; k < 3; k++)
		if (m & (1u << k))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "," : "",
				 names[k]);
	if (m & POL_ACCEPT_HEAVY)
		snprintf(buf + strlen(buf), len - strlen(buf), "%sheavy", buf[0] ? "," : "");
	if (!buf[0])
		snprintf(buf, len, "none");
}

static void diff_workers(struct pol_engine *e)
{
	const struct pol_inputs *in = &e->in;
	const struct pol_plan *p = &e->plan;
	if (!in->daemon_available || !in->workers)
		return;
	if (!e->have_workers) {
		e->active = in->active ? in->active : in->workers;
		for (size_t w = 0; w < POL_MAX_WORKERS; w++) {
			e->accept[w] = POL_CLASS_ALL | POL_ACCEPT_HEAVY;
			e->pin[w] = w < in->n_worker_cpus ? in->worker_cpus[w] : -1;
		}
		e->have_workers = true;
	}
	if (e->active_refused && p->active_workers != e->active_refused)
		e->active_refused = 0;
	if (p->active_workers && p->active_workers != e->active && !e->active_refused) {
		struct pol_action *a = add(e, POL_ACT_WORKERS, &p->active_why, POL_SRC_AUTOSCALE);
		if (a) {
			snprintf(a->setting, sizeof(a->setting), "workers.active");
			snprintf(a->from, sizeof(a->from), "%u", e->active);
			snprintf(a->to, sizeof(a->to), "%u", p->active_workers);
			a->value = p->active_workers;
			e->active = p->active_workers;
		}
	}
	if (p->classes != e->classes) {
		struct pol_why lifted;
		const struct pol_why *w = &p->classes_why;
		if (p->classes == POL_CLASS_ALL) {
			pol_why_set(&lifted, e->classes_by, "%s cap on job classes lifted",
				    pol_source_name(e->classes_by));
			w = &lifted;
		} else if (w->set) {
			e->classes_by = w->by;
		}
		struct pol_action *a = add(e, POL_ACT_CLASSES, w, POL_SRC_THERMAL);
		if (a) {
			snprintf(a->setting, sizeof(a->setting), "classes");
			class_names(e->classes, a->from, sizeof(a->from));
			class_names(p->classes, a->to, sizeof(a->to));
			a->value = p->classes;
			e->classes = p->classes;
		}
	}
	for (size_t w = 0; w < p->n_workers && w < POL_MAX_WORKERS; w++) {
		if (p->accept[w] != e->accept[w]) {
			struct pol_action *a = add(e, POL_ACT_ACCEPT, &p->placement_why, POL_SRC_AFFINITY);
			if (a) {
				snprintf(a->setting, sizeof(a->setting), "worker.%zu.accept", w);
				class_names(e->accept[w], a->from, sizeof(a->from));
				class_names(p->accept[w], a->to, sizeof(a->to));
				a->index = (int)w;
				a->value = p->accept[w];
				e->accept[w] = p->accept[w];
			}
		}
		if (e->pin_refused[w] >= 0 && p->pin_cpu[w] != e->pin_refused[w])
			e->pin_refused[w] = -1;
		if (p->pin_cpu[w] >= 0 && p->pin_cpu[w] != e->pin[w] && e->pin_refused[w] < 0) {
			struct pol_action *a = add(e, POL_ACT_PIN, &p->placement_why, POL_SRC_AFFINITY);
			if (a) {
				snprintf(a->setting, sizeof(a->setting), "worker.%zu.cpu", w);
				snprintf(a->from, sizeof(a->from), "%d", e->pin[w]);
				snprintf(a->to, sizeof(a->to), "%d", p->pin_cpu[w]);
				a->index = (int)w;
				a->value = (uint32_t)p->pin_cpu[w];
				e->pin[w] = p->pin_cpu[w];
			}
		}
	}
}

static bool is_heavy(const struct pol_engine *e, const char *name, size_t *at)
{
	for (size_t i = 0; i < e->n_heavy; i++)
		if (strcmp(e->heavy[i], name) == 0) {
			*at = i;
			return true;
		}
	return false;
}

static void heavy_action(struct pol_engine *e, const char *name, bool heavy, const char *why)
{
	struct pol_why w;
	pol_why_set(&w, POL_SRC_AFFINITY, "%s", why);
	struct pol_action *a = add(e, POL_ACT_HEAVY, &w, POL_SRC_AFFINITY);
	if (!a)
		return;
	snprintf(a->setting, sizeof(a->setting), "model.%s.heavy", name);
	snprintf(a->from, sizeof(a->from), "%s", heavy ? "false" : "true");
	snprintf(a->to, sizeof(a->to), "%s", heavy ? "true" : "false");
	a->value = heavy;
}

/* Models whose compute time makes them heavy run on performance cores. */
static void diff_heavy(struct pol_engine *e, const struct pol_config *c)
{
	const struct pol_inputs *in = &e->in;
	char why[POL_REASON];
	for (size_t m = 0; m < in->n_models; m++) {
		size_t at;
		bool was = is_heavy(e, in->models[m].name, &at);
		if (e->plan.heavy[m] == was)
			continue;
		snprintf(why, sizeof(why), "model %s computes in %.1f ms at the median (heavy above %.0f ms)",
			 in->models[m].name, in->models[m].compute_p50_s * 1000, c->heavy_ms);
		if (was) {
			e->heavy[at][0] = '\0';
			memmove(e->heavy[at], e->heavy[--e->n_heavy], sizeof(e->heavy[at]));
		} else if (e->n_heavy < POL_MAX_MODELS) {
			memcpy(e->heavy[e->n_heavy++], in->models[m].name, POL_MODEL_NAME);
		} else {
			continue;
		}
		heavy_action(e, in->models[m].name, !was, why);
	}
	/* A model that left (unloaded) is no longer heavy. */
	for (size_t i = 0; i < e->n_heavy;) {
		bool present = false;
		for (size_t m = 0; m < in->n_models && !present; m++)
			present = strcmp(in->models[m].name, e->heavy[i]) == 0;
		if (present) {
			i++;
			continue;
		}
		memmove(e->heavy[i], e->heavy[--e->n_heavy], sizeof(e->heavy[i]));
	}
}

static void diff_profile(struct pol_engine *e)
{
	const struct pol_plan *p = &e->plan;
	if ((int)p->profile == e->profile)
		return;
	struct pol_action *a = add(e, POL_ACT_PROFILE, &p->profile_why, POL_SRC_PROFILE);
	if (!a)
		return;
	snprintf(a->setting, sizeof(a->setting), "profile");
	snprintf(a->from, sizeof(a->from), "%s", e->profile < 0 ? "" : pol_profile_name(e->profile));
	snprintf(a->to, sizeof(a->to), "%s", pol_profile_name(p->profile));
	e->profile = (int)p->profile;
}

static void diff_notes(struct pol_engine *e)
{
	const struct pol_plan *p = &e->plan;
	for (size_t i = 0; i < p->n_notes; i++) {
		bool seen = false;
		for (size_t k = 0; k < e->n_notes && !seen; k++)
			seen = strcmp(e->notes[k], p->notes[i]) == 0;
		if (seen)
			continue;
		struct pol_why w;
		pol_why_set(&w, p->note_by[i], "%s", p->notes[i]);
		struct pol_action *a = add(e, POL_ACT_NOTE, &w, p->note_by[i]);
		if (a)
			snprintf(a->setting, sizeof(a->setting), "note");
	}
	e->n_notes = p->n_notes;
	for (size_t i = 0; i < p->n_notes; i++)
		memcpy(e->notes[i], p->notes[i], sizeof(e->notes[i]));
}

static void count_throttled(struct pol_engine *e, double dt)
{
	const struct pol_plan *p = &e->plan;
	bool by[POL_N_SRC] = { false };
	if (p->freq_cap_ratio < 1 && p->freq_cap.set)
		by[p->freq_cap.by] = true;
	if (p->worker_cap != UINT32_MAX && p->worker_cap_why.set)
		by[p->worker_cap_why.by] = true;
	if (p->classes != POL_CLASS_ALL && p->classes_why.set)
		by[p->classes_why.by] = true;
	if (p->force_power_saver && p->force_why.set)
		by[p->force_why.by] = true;
	if (p->mem_cap_ratio < 1)
		by[POL_SRC_DVFS] = true;
	for (int s = 0; s < POL_N_SRC; s++)
		if (by[s])
			e->throttled[s] += dt;
}

size_t pol_engine_tick(struct pol_engine *e, const struct pol_config *c, const struct pol_inputs *in,
		       const struct pol_holds *h, struct pol_action **acts)
{
	clear_actions(e);
	*acts = e->acts;
	if (!isnan(e->last_time) && !(in->time > e->last_time))
		return 0;
	double dt = isnan(e->last_time) ? 0 : in->time - e->last_time;
	/* A gap (the daemon was stopped, a trace was cut) is not time spent
	 * throttled. */
	if (dt > 4 * in->interval_s + 1)
		dt = 0;
	e->last_time = in->time;
	e->ticks++;
	e->in = *in;
	struct pol_holds none = { 0, 0 };
	struct pol_plan *p = &e->plan;
	pol_plan_init(p, in, c->profile);
	/* Safety first: the caps they set bind everything after. */
	/* A policy switched off forgets its state: back on, it starts afresh. */
	if (c->thermal)
		pol_thermal_step(c, in, &e->thermal, p);
	else
		pol_thermal_init(&e->thermal);
	if (c->battery)
		pol_battery_step(c, in, &e->battery, p);
	else
		pol_battery_init(&e->battery);
	pol_profile_step(c, in, c->profile, h ? h : &none, p);
	if (c->dvfs)
		pol_dvfs_step(c, in, &e->dvfs, p);
	else
		pol_dvfs_init(&e->dvfs);
	pol_cpufreq_targets(c, in, p);
	pol_autoscale_step(c, in, &e->autoscale, p);
	pol_affinity_step(c, in, &e->affinity, p);

	diff_profile(e);
	diff_cpus(e);
	diff_workers(e);
	diff_heavy(e, c);
	diff_notes(e);
	count_throttled(e, dt);
	return e->n_acts;
}

void pol_engine_failed(struct pol_engine *e, const struct pol_action *a)
{
	char *cmd = NULL, *refused = NULL;
	size_t len = 0;
	switch (a->kind) {
	case POL_ACT_SYSFS: {
		if (strcmp(a->setting, "firmware/acpi/platform_profile") == 0) {
			cmd = e->platform, refused = e->platform_refused;
			len = sizeof(e->platform);
			break;
		}
		struct cmd_cpu *cc = cmd_cpu(e, a->index);
		if (!cc)
			return;
		if (strstr(a->setting, "scaling_governor"))
			cmd = cc->governor, refused = cc->refused_governor, len = sizeof(cc->governor);
		else if (strstr(a->setting, "energy_performance_preference"))
			cmd = cc->epp, refused = cc->refused_epp, len = sizeof(cc->epp);
		else if (strstr(a->setting, "scaling_max_freq"))
			cmd = cc->max_khz, refused = cc->refused_max_khz, len = sizeof(cc->max_khz);
		break;
	}
	case POL_ACT_WORKERS:
		e->active = (uint32_t)strtoul(a->from, NULL, 10);
		e->active_refused = a->value;
		return;
	case POL_ACT_PIN:
		if (a->index >= 0 && a->index < POL_MAX_WORKERS) {
			e->pin[a->index] = atoi(a->from);
			e->pin_refused[a->index] = (int)a->value;
		}
		return;
	default:
		return;
	}
	if (cmd && strlen(a->from) < len && strlen(a->to) < len) {
		memcpy(cmd, a->from, strlen(a->from) + 1);
		memcpy(refused, a->to, strlen(a->to) + 1);
	}
}

const struct pol_plan *pol_engine_plan(const struct pol_engine *e)
{
	return &e->plan;
}

const struct pol_inputs *pol_engine_inputs(const struct pol_engine *e)
{
	return &e->in;
}

const struct pol_thermal_state *pol_engine_thermal(const struct pol_engine *e)
{
	return &e->thermal;
}

const struct pol_battery_state *pol_engine_battery(const struct pol_engine *e)
{
	return &e->battery;
}

uint64_t pol_engine_ticks(const struct pol_engine *e)
{
	return e->ticks;
}

void pol_engine_throttled(const struct pol_engine *e, double out[POL_N_SRC])
{
	memcpy(out, e->throttled, sizeof(e->throttled));
}

static void why_json(cJSON *o, const char *key, const struct pol_why *w)
{
	if (!w->set)
		return;
	cJSON *x = cJSON_AddObjectToObject(o, key);
	cJSON_AddStringToObject(x, "policy", pol_source_name(w->by));
	cJSON_AddStringToObject(x, "reason", w->why);
}

cJSON *pol_engine_state_json(const struct pol_engine *e, const struct pol_config *c)
{
	const struct pol_plan *p = &e->plan;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "ticks", (double)e->ticks);
	if (!e->ticks)
		return o;
	cJSON_AddNumberToObject(o, "time", e->in.time);
	cJSON *pr = cJSON_AddObjectToObject(o, "profile");
	cJSON_AddStringToObject(pr, "active", pol_profile_name(p->profile));
	cJSON_AddStringToObject(pr, "reason", p->profile_why.why);
	cJSON *caps = cJSON_AddObjectToObject(o, "caps");
	cJSON_AddNumberToObject(caps, "freq_ratio", p->freq_cap_ratio);
	why_json(caps, "freq", &p->freq_cap);
	if (p->worker_cap != UINT32_MAX)
		cJSON_AddNumberToObject(caps, "workers", p->worker_cap);
	else
		cJSON_AddNullToObject(caps, "workers");
	why_json(caps, "workers_by", &p->worker_cap_why);
	char cls[64];
	class_names(p->classes, cls, sizeof(cls));
	cJSON_AddStringToObject(caps, "classes", cls);
	why_json(caps, "classes_by", &p->classes_why);
	cJSON_AddBoolToObject(caps, "power_saver_forced", p->force_power_saver);
	why_json(caps, "power_saver_by", &p->force_why);
	cJSON_AddItemToObject(o, "thermal", pol_thermal_json(c, &e->thermal));
	cJSON_AddItemToObject(o, "battery", pol_battery_json(&e->battery));
	cJSON_AddItemToObject(o, "dvfs", pol_dvfs_json(&e->in, &e->dvfs));
	cJSON_AddItemToObject(o, "autoscale", pol_autoscale_json(c, &e->in, &e->autoscale));
	cJSON_AddItemToObject(o, "affinity", pol_affinity_json(&e->affinity, p, &e->in));
	cJSON *t = cJSON_AddObjectToObject(o, "throttled_seconds");
	cJSON_AddNumberToObject(t, "thermal", e->throttled[POL_SRC_THERMAL]);
	cJSON_AddNumberToObject(t, "battery", e->throttled[POL_SRC_BATTERY]);
	cJSON_AddNumberToObject(t, "memory_bound", e->throttled[POL_SRC_DVFS]);
	cJSON *notes = cJSON_AddArrayToObject(o, "notes");
	for (size_t i = 0; i < p->n_notes; i++) {
		cJSON *n = cJSON_CreateObject();
		cJSON_AddStringToObject(n, "policy", pol_source_name(p->note_by[i]));
		cJSON_AddStringToObject(n, "note", p->notes[i]);
		cJSON_AddItemToArray(notes, n);
	}
	return o;
}

cJSON *pol_action_json(const struct pol_action *a, double time, uint64_t seq)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "time", time);
	cJSON_AddNumberToObject(o, "seq", (double)seq);
	cJSON_AddStringToObject(o, "policy", pol_source_name(a->by));
	cJSON_AddStringToObject(o, "kind", pol_action_kind_name(a->kind));
	if (a->kind != POL_ACT_NOTE) {
		cJSON_AddStringToObject(o, "setting", a->setting);
		cJSON_AddStringToObject(o, "from", a->from);
		cJSON_AddStringToObject(o, "to", a->to);
	}
	cJSON_AddStringToObject(o, "reason", a->reason);
	if (a->inputs)
		cJSON_AddItemToObject(o, "inputs", cJSON_Duplicate(a->inputs, true));
	return o;
}
