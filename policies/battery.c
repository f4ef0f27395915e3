#include "policies/battery.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Percentage points above a threshold before a level is left: battery
 * gauges wobble by a point or so, and a level must not flap with them. */
#define BAT_HYSTERESIS_PCT 2.0
/* The trend estimate needs this much history and this much drop. */
#define TREND_MIN_S 60.0
#define TREND_MIN_DROP_PCT 1.0

static const char *const level_names[] = { "normal", "low", "critical" };

const char *pol_battery_level_name(enum pol_battery_level l)
{
	return (unsigned)l <= POL_BAT_CRITICAL ? level_names[l] : "?";
}

static void trend_reset(struct pol_battery_state *st)
{
	st->trend_t0 = NAN;
	st->trend_pct0 = NAN;
}

void pol_battery_init(struct pol_battery_state *st)
{
	memset(st, 0, sizeof(*st));
	st->level = POL_BAT_NORMAL;
	st->on_battery = false;
	st->capacity_pct = NAN;
	st->time_remaining_s = NAN;
	st->time_source = NULL;
	st->joules_per_inference = NAN;
	trend_reset(st);
}

static bool is_battery(const struct pol_supply *s)
{
	return strcmp(s->type, "Battery") == 0;
}

static bool has_battery(const struct pol_inputs *in)
{
	for (size_t i = 0; i < in->n_supplies && i < POL_MAX_SUPPLIES; i++)
		if (is_battery(&in->supplies[i]))
			return true;
	return false;
}

/* The time left on battery and where the figure came from; NAN when no
 * source can tell. */
static void estimate(const struct pol_inputs *in, struct pol_battery_state *st, double pct)
{
	double tte = NAN, wh = 0, w = 0;
	bool have_energy = false;
	for (size_t i = 0; i < in->n_supplies && i < POL_MAX_SUPPLIES; i++) {
		const struct pol_supply *s = &in->supplies[i];
		if (!is_battery(s))
			continue;
		if (!isnan(s->time_to_empty_s) && s->time_to_empty_s > 0)
			tte = (isnan(tte) ? 0 : tte) + s->time_to_empty_s;
		if (!isnan(s->energy_wh) && !isnan(s->power_w)) {
			wh += s->energy_wh;
			w += s->power_w;
			have_energy = true;
		}
	}
	st->time_remaining_s = NAN;
	st->time_source = NULL;
	if (!isnan(tte)) {
		st->time_remaining_s = tte;
		st->time_source = "kernel";
		return;
	}
	if (have_energy && w > 0) {
		st->time_remaining_s = wh / w * 3600.0;
		st->time_source = "energy/power";
		return;
	}
	if (isnan(pct) || isnan(st->trend_t0))
		return;
	double dt = in->time - st->trend_t0;
	double drop = st->trend_pct0 - pct;
	if (dt >= TREND_MIN_S && drop >= TREND_MIN_DROP_PCT) {
		st->time_remaining_s = pct / (drop / dt);
		st->time_source = "trend";
	}
}

/* The capacity trend's start point: the first reading on battery, moved up
 * when the gauge recalibrates upwards (a rise on battery is not a drain). */
static void trend_track(const struct pol_inputs *in, struct pol_battery_state *st, double pct)
{
	if (isnan(pct))
		return;
	if (isnan(st->trend_t0) || pct > st->trend_pct0) {
		st->trend_t0 = in->time;
		st->trend_pct0 = pct;
	}
}

/* The level on battery at pct, from the level in force: thresholds are
 * entered at once and left only BAT_HYSTERESIS_PCT above them. */
static enum pol_battery_level next_level(const struct pol_config *c, enum pol_battery_level l,
					 double pct)
{
	if (pct <= c->critical_pct)
		return POL_BAT_CRITICAL;
	if (l == POL_BAT_CRITICAL && pct > c->critical_pct + BAT_HYSTERESIS_PCT)
		l = POL_BAT_LOW;
	if (pct <= c->low_pct)
		return l == POL_BAT_CRITICAL ? l : POL_BAT_LOW;
	if (l == POL_BAT_LOW && pct > c->low_pct + BAT_HYSTERESIS_PCT)
		l = POL_BAT_NORMAL;
	return l;
}

void pol_battery_step(const struct pol_config *c, const struct pol_inputs *in,
		      struct pol_battery_state *st, struct pol_plan *p)
{
	if (!isnan(in->joules_per_inference))
		st->joules_per_inference = in->joules_per_inference;

	bool on = pol_on_battery(in);
	double pct = pol_battery_pct(in);
	st->on_battery = on;
	st->capacity_pct = pct;

	if (!c->battery) {
		/* Off: no level, no caps, no estimates. */
		st->level = POL_BAT_NORMAL;
		st->time_remaining_s = NAN;
		st->time_source = NULL;
		trend_reset(st);
		snprintf(st->why, sizeof(st->why), "battery policy off");
		return;
	}

	if (!on) {
		/* On AC (or no battery at all): everything lifted at once. */
		st->level = POL_BAT_NORMAL;
		st->time_remaining_s = NAN;
		st->time_source = NULL;
		trend_reset(st);
		snprintf(st->why, sizeof(st->why), "%s", has_battery(in) ? "on AC" : "no battery");
		return;
	}

	trend_track(in, st, pct);
	estimate(in, st, pct);

	if (isnan(pct)) {
		/* Discharging but no gauge: keep the level we had rather than
		 * guess either way. */
		pol_note(p, POL_SRC_BATTERY, "on battery but the charge is unknown: level %s held",
			 pol_battery_level_name(st->level));
		snprintf(st->why, sizeof(st->why), "on battery, charge unknown");
	} else {
		enum pol_battery_level prev = st->level;
		st->level = next_level(c, prev, pct);
		char *w = st->why;
		size_t n = sizeof(st->why);
		if (st->level == POL_BAT_CRITICAL && pct <= c->critical_pct)
			snprintf(w, n, "on battery at %.0f%% (critical at %.0f%%)", pct,
				 c->critical_pct);
		else if (st->level == POL_BAT_CRITICAL)
			snprintf(w, n, "on battery at %.0f%% (critical until above %.0f%%)", pct,
				 c->critical_pct + BAT_HYSTERESIS_PCT);
		else if (st->level == POL_BAT_LOW && pct <= c->low_pct)
			snprintf(w, n, "on battery at %.0f%% (low at %.0f%%)", pct, c->low_pct);
		else if (st->level == POL_BAT_LOW)
			snprintf(w, n, "on battery at %.0f%% (low until above %.0f%%)", pct,
				 c->low_pct + BAT_HYSTERESIS_PCT);
		else
			snprintf(w, n, "on battery at %.0f%%", pct);
	}

	if (st->level == POL_BAT_NORMAL)
		return;
	pol_force_power_saver(p, POL_SRC_BATTERY, "%s", st->why);
	if (in->workers > 0) {
		double n = floor(in->workers * c->low_workers_ratio);
		pol_cap_workers(p, n < 1 ? 1 : (uint32_t)n, POL_SRC_BATTERY, "%s", st->why);
	}
	/* Low: batch waits for AC; critical: only what a user waits on. */
	uint32_t allowed = POL_CLASS_INTERACTIVE;
	if (st->level == POL_BAT_LOW)
		allowed |= POL_CLASS_NORMAL;
	pol_restrict_classes(p, allowed, POL_SRC_BATTERY, "%s", st->why);
}

/* NAN is null in JSON. */
static bool add_num(cJSON *o, const char *k, double x)
{
	return isnan(x) ? cJSON_AddNullToObject(o, k) != NULL
			: cJSON_AddNumberToObject(o, k, x) != NULL;
}

cJSON *pol_battery_json(const struct pol_battery_state *st)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	const char *src = st->time_source;
	bool ok = cJSON_AddStringToObject(o, "level", pol_battery_level_name(st->level)) &&
		  cJSON_AddBoolToObject(o, "on_battery", st->on_battery) &&
		  add_num(o, "capacity_pct", st->capacity_pct) &&
		  add_num(o, "time_remaining_seconds", st->time_remaining_s) &&
		  (src ? cJSON_AddStringToObject(o, "time_remaining_source", src)
		       : cJSON_AddNullToObject(o, "time_remaining_source")) &&
		  add_num(o, "joules_per_inference", st->joules_per_inference) &&
		  cJSON_AddStringToObject(o, "reason", st->why);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
