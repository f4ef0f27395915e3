#include "policies/thermal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The thermal policy leaves room in the plan's notes for the later policies:
 * a machine with many zones of nonsense trips must not crowd them out. */
#define THERMAL_MAX_NOTES (POL_MAX_NOTES / 2)
/* No valid passive trip: throttle this far below the critical one. */
#define DERIVED_PASSIVE_BELOW_C 10.0
/* While throttled, batch jobs wait: they are the work that can. */
#define NO_BATCH (POL_CLASS_INTERACTIVE | POL_CLASS_NORMAL)

/* One zone as the policy judges it: effective trips after config rules and
 * the absurd ones dropped. */
struct zone_view {
	const struct pol_zone *z;
	double passive, critical; /* NAN: none valid */
	bool derived;             /* passive = critical - 10 */
};

void pol_thermal_init(struct pol_thermal_state *st)
{
	memset(st, 0, sizeof(*st));
	st->level = 0;
	st->critical = false;
	st->cool_since = NAN;
	st->crit_cool_since = NAN;
	st->last_time = NAN;
	st->integral = 0;
	st->prev_err = NAN;
	st->ratio = 1.0;
	st->hot_zone = -1;
	st->hot_temp_c = st->hot_passive_c = st->hot_critical_c = NAN;
}

static void reasonf(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reasonf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

static size_t thermal_notes(const struct pol_plan *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_notes; i++)
		n += p->note_by[i] == POL_SRC_THERMAL;
	return n;
}

/* A note about zone z, within the thermal policy's share of the notes. */
static void zone_note(struct pol_plan *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void zone_note(struct pol_plan *p, const char *fmt, ...)
{
	if (thermal_notes(p) >= THERMAL_MAX_NOTES)
		return;
	char buf[POL_REASON];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pol_note(p, POL_SRC_THERMAL, "%s", buf);
}

static bool trip_valid(const struct pol_config *c, double t)
{
	return !isnan(t) && t > 0 && t <= c->max_trip_c;
}

/* Keeps the lowest valid trip in *best; an absurd one is noted (every tick,
 * so the engine reports it as long as the firmware says it). */
static void take_trip(const struct pol_config *c, const struct pol_zone *z, const char *kind,
		      double t, const char *origin, double *best, bool *absurd, struct pol_plan *p)
{
	if (trip_valid(c, t)) {
		if (isnan(*best) || t < *best)
			*best = t;
		return;
	}
	*absurd = true;
	if (isnan(t))
		zone_note(p, "zone %d (%s): %s%s trip of unknown temperature ignored", z->zone,
			  z->type, origin, kind);
	else
		zone_note(p, "zone %d (%s): %s%s trip %.1f °C ignored (outside 0..%.0f °C)",
			  z->zone, z->type, origin, kind, t, c->max_trip_c);
}

static const struct pol_zone_rule *zone_rule(const struct pol_config *c, const char *type)
{
	for (size_t i = 0; i < c->n_zone_rules && i < POL_ZONE_RULES; i++)
		if (strcmp(c->zone_rules[i].type, type) == 0)
			return &c->zone_rules[i];
	return NULL;
}

/* The zone's effective trips; false when it has none to act on. */
static bool zone_trips(const struct pol_config *c, const struct pol_zone *z, size_t idx,
		       struct zone_view *v, struct pol_thermal_state *st, struct pol_plan *p)
{
	double passive = NAN, crit = NAN, hot = NAN;
	bool absurd = false;
	const struct pol_zone_rule *r = zone_rule(c, z->type);
	bool rule_passive = r && !isnan(r->passive_c);
	bool rule_crit = r && !isnan(r->critical_c);

	for (size_t i = 0; i < z->n_trips && i < POL_MAX_TRIPS; i++) {
		const struct pol_trip *t = &z->trips[i];
		if (strcmp(t->type, "passive") == 0 && !rule_passive)
			take_trip(c, z, "passive", t->temp_c, "", &passive, &absurd, p);
		else if (strcmp(t->type, "critical") == 0 && !rule_crit)
			take_trip(c, z, "critical", t->temp_c, "", &crit, &absurd, p);
		else if (strcmp(t->type, "hot") == 0 && !rule_crit)
			take_trip(c, z, "hot", t->temp_c, "", &hot, &absurd, p);
		/* "active" trips start fans: nothing for us to do. */
	}
	/* A configured trip replaces the firmware's of its kind outright. */
	if (rule_passive)
		take_trip(c, z, "passive", r->passive_c, "configured ", &passive, &absurd, p);
	if (rule_crit)
		take_trip(c, z, "critical", r->critical_c, "configured ", &crit, &absurd, p);
	if (isnan(crit))
		crit = hot;

	if (idx < 64) {
		if (absurd)
			st->warned |= UINT64_C(1) << idx;
		else
			st->warned &= ~(UINT64_C(1) << idx);
	}

	v->z = z;
	v->passive = passive;
	v->critical = crit;
	v->derived = false;
	if (isnan(passive) && !isnan(crit)) {
		v->passive = crit - DERIVED_PASSIVE_BELOW_C;
		v->derived = true;
		zone_note(p,
			  "zone %d (%s): no valid passive trip, using critical %.1f - %.0f"
			  " = %.1f °C",
			  z->zone, z->type, crit, DERIVED_PASSIVE_BELOW_C, v->passive);
	}
	return !isnan(v->passive);
}

/* What the zones say this tick. */
struct verdict {
	size_t n;             /* zones judged (valid trip, known temperature) */
	bool near, over, crit;
	bool all_cool;        /* every zone below passive - margin - hysteresis */
	bool all_crit_cool;   /* every zone below critical - margin - hysteresis */
	struct zone_view gov; /* the governing zone: highest temp - passive */
	struct zone_view crit_zone; /* the zone closest to (or over) its critical line */
};

static void judge(const struct pol_config *c, const struct pol_inputs *in,
		  struct pol_thermal_state *st, struct pol_plan *p, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->all_cool = v->all_crit_cool = true;
	if (!in->thermal_available)
		return;
	double best = NAN, best_crit = NAN;
	for (size_t i = 0; i < in->n_zones && i < POL_MAX_ZONES; i++) {
		const struct pol_zone *z = &in->zones[i];
		struct zone_view zv;
		if (!zone_trips(c, z, i, &zv, st, p) || isnan(z->temp_c))
			continue;
		double t = z->temp_c;
		v->n++;
		if (t >= zv.passive - c->margin_c)
			v->near = true;
		if (t >= zv.passive)
			v->over = true;
		if (!(t < zv.passive - c->margin_c - c->hysteresis_c))
			v->all_cool = false;
		if (!isnan(zv.critical)) {
			if (t >= zv.critical - c->margin_c)
				v->crit = true;
			if (!(t < zv.critical - c->margin_c - c->hysteresis_c))
				v->all_crit_cool = false;
			if (isnan(best_crit) || t - zv.critical > best_crit) {
				best_crit = t - zv.critical;
				v->crit_zone = zv;
			}
		}
		if (isnan(best) || t - zv.passive > best) {
			best = t - zv.passive;
			v->gov = zv;
		}
	}
}

static double level_ratio(const struct pol_config *c, uint32_t level)
{
	if (level == 0)
		return 1.0;
	double r = 1.0 - level * c->level_freq_step;
	return r < c->min_freq_ratio ? c->min_freq_ratio : r;
}

static uint32_t level_workers(const struct pol_config *c, uint32_t workers, uint32_t level)
{
	uint64_t cut = ((uint64_t)workers * level + c->max_level) / ((uint64_t)c->max_level + 1);
	return cut >= workers ? 1 : (uint32_t)(workers - cut);
}

/* Step mode: escalate fast, recover one step per cooldown. */
static void step_level(const struct pol_config *c, const struct pol_inputs *in,
		       struct pol_thermal_state *st, const struct verdict *v)
{
	uint32_t max = c->max_level;
	if (v->n == 0)
		return; /* nothing to judge by: hold (safety first) */
	if (v->near) {
		uint32_t up = v->over ? 2 : 1;
		st->level = st->level + up > max ? max : st->level + up;
		st->cool_since = NAN;
	} else if (v->all_cool && !st->critical) {
		if (isnan(st->cool_since))
			st->cool_since = in->time;
		if (st->level > 0 && in->time - st->cool_since >= c->cooldown_s) {
			st->level--;
			st->cool_since = in->time;
		}
	} else {
		/* The hysteresis band (or still critical): hold. */
		st->cool_since = NAN;
	}
}

static void critical_update(const struct pol_config *c, const struct pol_inputs *in,
			    struct pol_thermal_state *st, const struct verdict *v)
{
	if (v->n == 0)
		return; /* hold */
	if (v->crit) {
		st->critical = true;
		st->crit_cool_since = NAN;
		return;
	}
	if (!st->critical)
		return;
	if (!v->all_crit_cool) {
		st->crit_cool_since = NAN;
		return;
	}
	if (isnan(st->crit_cool_since))
		st->crit_cool_since = in->time;
	if (in->time - st->crit_cool_since >= c->cooldown_s) {
		st->critical = false;
		st->crit_cool_since = NAN;
		/* The level recovers from max_level one cooldown at a time,
		 * starting now. */
		st->cool_since = NAN;
	}
}

/* PID mode: the cap ratio that holds the governing zone at the target. */
static void pid_update(const struct pol_config *c, const struct pol_inputs *in,
		       struct pol_thermal_state *st, const struct verdict *v, double *target)
{
	*target = NAN;
	if (v->n == 0) {
		/* Nothing to steer by: hold the cap, restart I and D later. */
		st->last_time = NAN;
		return;
	}
	double temp = v->gov.z->temp_c;
	*target = !isnan(c->target_c) ? c->target_c : v->gov.passive - c->margin_c;
	double err = temp - *target;
	double dt = isnan(st->last_time) ? 0 : in->time - st->last_time;
	bool first = !(dt > 0) || isnan(st->prev_err);

	double u, ratio;
	if (first) {
		u = c->pid_kp * err + c->pid_ki * st->integral;
	} else {
		/* Anti-windup: integrate only if the output is not already
		 * saturated in the direction err pushes it. */
		double d = c->pid_kd * (err - st->prev_err) / dt;
		double u0 = c->pid_kp * err + c->pid_ki * st->integral + d;
		double r0 = 1.0 - u0;
		bool sat_low = r0 <= c->min_freq_ratio && err > 0;
		bool sat_high = r0 >= 1.0 && err < 0;
		if (!sat_low && !sat_high)
			st->integral += err * dt;
		u = c->pid_kp * err + c->pid_ki * st->integral + d;
	}
	ratio = 1.0 - u;
	if (!(ratio >= c->min_freq_ratio))
		ratio = c->min_freq_ratio; /* also catches NAN */
	if (ratio > 1.0)
		ratio = 1.0;
	st->ratio = ratio;
	st->prev_err = err;
	st->last_time = in->time;
}

static void set_hot(struct pol_thermal_state *st, const struct verdict *v)
{
	if (v->n == 0 || !v->gov.z) {
		st->hot_zone = -1;
		st->hot_type[0] = '\0';
		st->hot_temp_c = st->hot_passive_c = st->hot_critical_c = NAN;
		return;
	}
	st->hot_zone = v->gov.z->zone;
	snprintf(st->hot_type, sizeof(st->hot_type), "%s", v->gov.z->type);
	st->hot_temp_c = v->gov.z->temp_c;
	st->hot_passive_c = v->gov.passive;
	st->hot_critical_c = v->gov.critical;
}

/* The governing zone against its trip, e.g. "zone 0 (x86_pkg_temp) 93.0 °C
 * within 5.0 °C of passive trip 95.0 °C". */
static void describe_gov(const struct pol_config *c, const struct pol_inputs *in,
			 const struct pol_thermal_state *st, const struct verdict *v, char *buf,
			 size_t n)
{
	if (v->n == 0) {
		reasonf(buf, n, "no zone temperature known, holding");
		return;
	}
	const struct zone_view *g = &v->gov;
	double t = g->z->temp_c;
	double line = g->passive - c->margin_c - c->hysteresis_c;
	const char *what = g->derived ? "derived passive trip" : "passive trip";
	if (t >= g->passive)
		reasonf(buf, n, "zone %d (%s) %.1f °C over %s %.1f °C", g->z->zone, g->z->type, t,
			what, g->passive);
	else if (t >= g->passive - c->margin_c)
		reasonf(buf, n, "zone %d (%s) %.1f °C within %.1f °C of %s %.1f °C", g->z->zone,
			g->z->type, t, c->margin_c, what, g->passive);
	else if (!isnan(st->cool_since))
		reasonf(buf, n,
			"zone %d (%s) %.1f °C below %.1f °C for %.0f s"
			" (one step down per %.0f s)",
			g->z->zone, g->z->type, t, line, in->time - st->cool_since, c->cooldown_s);
	else
		reasonf(buf, n, "zone %d (%s) %.1f °C, held until below %.1f °C (%s %.1f °C)",
			g->z->zone, g->z->type, t, line, what, g->passive);
}

/* At (or still recovering from) a critical trip: everything but interactive
 * work stops and the CPUs run as slow as the caps allow. */
static void apply_critical(const struct pol_config *c, const struct pol_inputs *in,
			   struct pol_thermal_state *st, const struct verdict *v,
			   struct pol_plan *p)
{
	char why[POL_REASON * 2];
	const struct zone_view *z = v->crit_zone.z ? &v->crit_zone : NULL;
	if (v->n == 0 || !z)
		reasonf(why, sizeof(why), "critical: no zone temperature known, holding");
	else if (z->z->temp_c >= z->critical - c->margin_c)
		reasonf(why, sizeof(why),
			"zone %d (%s) %.1f °C within %.1f °C of critical trip %.1f °C: critical",
			z->z->zone, z->z->type, z->z->temp_c, c->margin_c, z->critical);
	else
		reasonf(why, sizeof(why),
			"zone %d (%s) %.1f °C, critical until below %.1f °C for %.0f s",
			z->z->zone, z->z->type, z->z->temp_c,
			z->critical - c->margin_c - c->hysteresis_c, c->cooldown_s);
	double r = level_ratio(c, c->max_level);
	if (st->ratio < r)
		r = st->ratio; /* PID may already cap harder */
	st->ratio = r;
	pol_cap_freq(p, r, POL_SRC_THERMAL, "%s", why);
	if (in->workers > 0)
		pol_cap_workers(p, level_workers(c, in->workers, c->max_level), POL_SRC_THERMAL,
				"%s", why);
	pol_restrict_classes(p, POL_CLASS_INTERACTIVE, POL_SRC_THERMAL, "%s", why);
	pol_force_power_saver(p, POL_SRC_THERMAL, "%s", why);
}

void pol_thermal_step(const struct pol_config *c, const struct pol_inputs *in,
		      struct pol_thermal_state *st, struct pol_plan *p)
{
	if (!c->thermal) {
		pol_thermal_init(st); /* re-enabling starts afresh */
		return;
	}
	struct verdict v;
	judge(c, in, st, p, &v);
	set_hot(st, &v);
	critical_update(c, in, st, &v);

	char why[POL_REASON * 2];
	char gov[POL_REASON * 2];

	if (c->thermal_mode == POL_THERMAL_PID) {
		double target = NAN;
		pid_update(c, in, st, &v, &target);
		st->level = st->critical ? c->max_level : 0;
		if (st->critical) {
			apply_critical(c, in, st, &v, p);
			return;
		}
		if (!(st->ratio < 1.0))
			return;
		if (v.n > 0)
			reasonf(why, sizeof(why),
				"zone %d (%s) %.1f °C, target %.1f °C: max %.0f%% frequency",
				v.gov.z->zone, v.gov.z->type, v.gov.z->temp_c, target,
				st->ratio * 100);
		else
			reasonf(why, sizeof(why),
				"no zone temperature known: holding max %.0f%% frequency",
				st->ratio * 100);
		pol_cap_freq(p, st->ratio, POL_SRC_THERMAL, "%s", why);
		pol_restrict_classes(p, NO_BATCH, POL_SRC_THERMAL, "%s", why);
		return;
	}

	step_level(c, in, st, &v);
	if (st->critical)
		st->level = c->max_level;
	st->ratio = level_ratio(c, st->level);
	if (st->critical) {
		apply_critical(c, in, st, &v, p);
		return;
	}
	if (st->level == 0)
		return;
	describe_gov(c, in, st, &v, gov, sizeof(gov));
	reasonf(why, sizeof(why), "%s: level %u", gov, (unsigned)st->level);
	pol_cap_freq(p, st->ratio, POL_SRC_THERMAL, "%s", why);
	if (in->workers > 0)
		pol_cap_workers(p, level_workers(c, in->workers, st->level), POL_SRC_THERMAL,
				"%s", why);
	pol_restrict_classes(p, NO_BATCH, POL_SRC_THERMAL, "%s", why);
}

/* NAN is null in JSON. */
static bool add_num(cJSON *o, const char *k, double x)
{
	return isnan(x) ? cJSON_AddNullToObject(o, k) != NULL
			: cJSON_AddNumberToObject(o, k, x) != NULL;
}

cJSON *pol_thermal_json(const struct pol_config *c, const struct pol_thermal_state *st)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	bool ok = cJSON_AddStringToObject(o, "mode",
					  c->thermal_mode == POL_THERMAL_PID ? "pid" : "step") &&
		  cJSON_AddNumberToObject(o, "level", st->level) &&
		  cJSON_AddBoolToObject(o, "critical", st->critical) &&
		  add_num(o, "cap_ratio", st->ratio);
	if (ok && st->hot_zone < 0) {
		ok = cJSON_AddNullToObject(o, "hottest");
	} else if (ok) {
		cJSON *h = cJSON_AddObjectToObject(o, "hottest");
		ok = h && cJSON_AddNumberToObject(h, "zone", st->hot_zone) &&
		     cJSON_AddStringToObject(h, "type", st->hot_type) &&
		     add_num(h, "temp_celsius", st->hot_temp_c) &&
		     add_num(h, "passive_celsius", st->hot_passive_c) &&
		     add_num(h, "critical_celsius", st->hot_critical_c);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
