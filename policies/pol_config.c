#include "policies/pol_config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const profile_names[POL_N_PROFILES] = {
	"power-saver", "balanced", "performance",
};

const char *pol_profile_name(enum pol_profile p)
{
	return (unsigned)p < POL_N_PROFILES ? profile_names[p] : "?";
}

int pol_profile_parse(const char *s, enum pol_profile *out)
{
	for (int i = 0; i < POL_N_PROFILES; i++)
		if (strcmp(s, profile_names[i]) == 0) {
			*out = (enum pol_profile)i;
			return 0;
		}
	return -EINVAL;
}

void pol_config_defaults(struct pol_config *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = true;
	c->dry_run = false;
	c->restore_on_exit = true;
	c->profile = POL_BALANCED;
	c->explain_history = 256;
	c->autotune = true;

	c->dvfs = true;
	c->idle_s = 10;
	c->busy_s = 3;
	c->hold_s = 5;
	c->power_saver_freq_ratio = 0.6;
	c->idle_freq_ratio = 0.8;
	c->memory_bound = true;
	c->memory_bound_ipc = 0.7;
	c->memory_bound_miss_ratio = 0.3;
	c->memory_bound_freq_ratio = 0.7;
	c->memory_bound_enter_s = 3;
	c->memory_bound_exit_s = 5;

	c->thermal = true;
	c->thermal_mode = POL_THERMAL_STEP;
	c->margin_c = 5;
	c->hysteresis_c = 3;
	c->cooldown_s = 10;
	c->max_level = 5;
	c->level_freq_step = 0.1;
	c->min_freq_ratio = 0.4;
	c->max_trip_c = 150;
	c->target_c = NAN;
	c->pid_kp = 0.05;
	c->pid_ki = 0.005;
	c->pid_kd = 0;

	c->battery = true;
	c->low_pct = 20;
	c->critical_pct = 5;
	c->low_workers_ratio = 0.5;

	c->autoscale = true;
	c->min_workers = 1;
	c->max_workers = 0;
	c->target_utilization = 0.8;
	c->target_queue_per_worker = 2;
	c->target_queue_p95_s = 0.1;
	c->tolerance_up = 0.1;
	c->tolerance_down = 0.1;
	c->up_window_s = 0;
	c->down_window_s = 300;
	c->up_percent = 100;
	c->up_workers = 4;
	c->up_period_s = 15;
	c->down_workers = 1;
	c->down_percent = 0;
	c->down_period_s = 60;

	c->affinity = true;
	c->place[0] = POL_PLACE_PERFORMANCE;
	c->place[1] = POL_PLACE_ANY;
	c->place[2] = POL_PLACE_EFFICIENCY;
	c->heavy_ms = 50;
	c->efficiency_capacity_pct = 80;
}

/* --- keys: parsing, validation, JSON (below) -------------------------------------------------- */

static const char *const mode_names[] = { "step", "pid" };
static const char *const place_names[] = { "any", "performance", "efficiency" };

const char *pol_thermal_mode_name(enum pol_thermal_mode m)
{
	return (unsigned)m < 2 ? mode_names[m] : "?";
}

const char *pol_placement_name(enum pol_placement p)
{
	return (unsigned)p < 3 ? place_names[p] : "?";
}

const char *const pol_config_sections[] = {
	"policy", "dvfs", "thermal", "battery", "autoscale", "affinity", NULL,
};

enum key_type {
	K_BOOL,
	K_U32,
	K_NUM,     /* a finite double in [min, max] */
	K_RATIO,   /* a double in (0, 1]: 0 would stop the machine */
	K_NUM_NAN, /* K_NUM, or empty for NAN ("derive it") */
	K_PROFILE,
	K_TMODE,
	K_PLACE,
};

struct key_def {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	double min, max;
};

/* Ranges: seconds 0..1 day, ratios 0..1, percentages 0..100, PID gains 0..100,
 * temperatures (trips, margins) in °C up to 1000. */
#define DAY 86400.0
#define OFF(f) offsetof(struct pol_config, f)
static const struct key_def keys[] = {
	{ "policy", "enabled", K_BOOL, OFF(enabled), 0, 0 },
	{ "policy", "dry_run", K_BOOL, OFF(dry_run), 0, 0 },
	{ "policy", "restore_on_exit", K_BOOL, OFF(restore_on_exit), 0, 0 },
	{ "policy", "profile", K_PROFILE, OFF(profile), 0, 0 },
	{ "policy", "explain_history", K_U32, OFF(explain_history), 1, 100000 },
	{ "policy", "autotune", K_BOOL, OFF(autotune), 0, 0 },

	{ "dvfs", "enabled", K_BOOL, OFF(dvfs), 0, 0 },
	{ "dvfs", "idle_s", K_NUM, OFF(idle_s), 0, DAY },
	{ "dvfs", "busy_s", K_NUM, OFF(busy_s), 0, DAY },
	{ "dvfs", "hold_s", K_NUM, OFF(hold_s), 0, DAY },
	{ "dvfs", "power_saver_freq_ratio", K_RATIO, OFF(power_saver_freq_ratio), 0, 1 },
	{ "dvfs", "idle_freq_ratio", K_RATIO, OFF(idle_freq_ratio), 0, 1 },
	{ "dvfs", "memory_bound", K_BOOL, OFF(memory_bound), 0, 0 },
	{ "dvfs", "memory_bound_ipc", K_NUM, OFF(memory_bound_ipc), 0, 100 },
	{ "dvfs", "memory_bound_miss_ratio", K_NUM, OFF(memory_bound_miss_ratio), 0, 1 },
	{ "dvfs", "memory_bound_freq_ratio", K_RATIO, OFF(memory_bound_freq_ratio), 0, 1 },
	{ "dvfs", "memory_bound_enter_s", K_NUM, OFF(memory_bound_enter_s), 0, DAY },
	{ "dvfs", "memory_bound_exit_s", K_NUM, OFF(memory_bound_exit_s), 0, DAY },

	{ "thermal", "enabled", K_BOOL, OFF(thermal), 0, 0 },
	{ "thermal", "mode", K_TMODE, OFF(thermal_mode), 0, 0 },
	{ "thermal", "margin_c", K_NUM, OFF(margin_c), 0, 100 },
	{ "thermal", "hysteresis_c", K_NUM, OFF(hysteresis_c), 0, 100 },
	{ "thermal", "cooldown_s", K_NUM, OFF(cooldown_s), 0, DAY },
	{ "thermal", "max_level", K_U32, OFF(max_level), 1, 20 },
	{ "thermal", "level_freq_step", K_NUM, OFF(level_freq_step), 0, 1 },
	{ "thermal", "min_freq_ratio", K_RATIO, OFF(min_freq_ratio), 0, 1 },
	{ "thermal", "max_trip_c", K_NUM, OFF(max_trip_c), 1, 1000 },
	{ "thermal", "target_c", K_NUM_NAN, OFF(target_c), 0, 1000 },
	{ "thermal", "pid_kp", K_NUM, OFF(pid_kp), 0, 100 },
	{ "thermal", "pid_ki", K_NUM, OFF(pid_ki), 0, 100 },
	{ "thermal", "pid_kd", K_NUM, OFF(pid_kd), 0, 100 },

	{ "battery", "enabled", K_BOOL, OFF(battery), 0, 0 },
	{ "battery", "low_pct", K_NUM, OFF(low_pct), 0, 100 },
	{ "battery", "critical_pct", K_NUM, OFF(critical_pct), 0, 100 },
	{ "battery", "low_workers_ratio", K_NUM, OFF(low_workers_ratio), 0, 1 },

	{ "autoscale", "enabled", K_BOOL, OFF(autoscale), 0, 0 },
	{ "autoscale", "min_workers", K_U32, OFF(min_workers), 1, 1024 },
	{ "autoscale", "max_workers", K_U32, OFF(max_workers), 0, 1024 },
	{ "autoscale", "target_utilization", K_NUM, OFF(target_utilization), 0, 1 },
	{ "autoscale", "target_queue_per_worker", K_NUM, OFF(target_queue_per_worker), 0, 10000 },
	{ "autoscale", "target_queue_p95_s", K_NUM, OFF(target_queue_p95_s), 0, DAY },
	{ "autoscale", "tolerance_up", K_NUM, OFF(tolerance_up), 0, 1 },
	{ "autoscale", "tolerance_down", K_NUM, OFF(tolerance_down), 0, 1 },
	{ "autoscale", "up_window_s", K_NUM, OFF(up_window_s), 0, DAY },
	{ "autoscale", "down_window_s", K_NUM, OFF(down_window_s), 0, DAY },
	/* HPA allows growing by more than 100 % a period (900 % doubles thrice). */
	{ "autoscale", "up_percent", K_NUM, OFF(up_percent), 0, 1000 },
	{ "autoscale", "up_workers", K_U32, OFF(up_workers), 0, 1024 },
	{ "autoscale", "up_period_s", K_NUM, OFF(up_period_s), 0, DAY },
	{ "autoscale", "down_workers", K_U32, OFF(down_workers), 0, 1024 },
	{ "autoscale", "down_percent", K_NUM, OFF(down_percent), 0, 100 },
	{ "autoscale", "down_period_s", K_NUM, OFF(down_period_s), 0, DAY },

	{ "affinity", "enabled", K_BOOL, OFF(affinity), 0, 0 },
	{ "affinity", "interactive", K_PLACE, OFF(place[0]), 0, 0 },
	{ "affinity", "normal", K_PLACE, OFF(place[1]), 0, 0 },
	{ "affinity", "batch", K_PLACE, OFF(place[2]), 0, 0 },
	{ "affinity", "heavy_ms", K_NUM, OFF(heavy_ms), 0, DAY * 1000 },
	{ "affinity", "efficiency_capacity_pct", K_U32, OFF(efficiency_capacity_pct), 1, 100 },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

#define ZONE_PREFIX "zone."

bool pol_config_section(const char *section)
{
	for (size_t i = 0; pol_config_sections[i]; i++)
		if (strcmp(section, pol_config_sections[i]) == 0)
			return true;
	return false;
}

static const struct key_def *find_key(const char *section, const char *key)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, key) == 0)
			return &keys[i];
	return NULL;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* A finite number, nothing after it ("0.5", "1e3"; not "nan", "inf", "5s"). */
static int parse_num(const char *s, double *out)
{
	char *end;
	if (!*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_u32(const char *s, uint32_t *out, char *reason, size_t rl)
{
	char *end;
	if (!isdigit((unsigned char)*s)) {
		snprintf(reason, rl, "'%s' is not a whole number", s);
		return -EINVAL;
	}
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX) {
		snprintf(reason, rl, "'%s' is not a whole number", s);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_name(const char *s, const char *const *names, size_t n, const char *list,
		      int *out, char *reason, size_t rl)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	snprintf(reason, rl, "must be one of %s", list);
	return -EINVAL;
}

static int set_num(const struct key_def *k, double *dst, const char *value, char *reason,
		   size_t rl)
{
	double v;
	if (k->type == K_NUM_NAN && !*value) {
		*dst = NAN;
		return 0;
	}
	if (parse_num(value, &v) < 0) {
		snprintf(reason, rl, "'%s' is not a number%s", value,
			 k->type == K_NUM_NAN ? " (or empty)" : "");
		return -EINVAL;
	}
	if (k->type == K_RATIO && (v <= 0 || v > 1)) {
		snprintf(reason, rl, "must be above 0 and at most 1");
		return -EINVAL;
	}
	if (v < k->min || v > k->max) {
		snprintf(reason, rl, "must be between %.15g and %.15g", k->min, k->max);
		return -EINVAL;
	}
	*dst = v;
	return 0;
}

static int set_key(struct pol_config *c, const struct key_def *k, const char *value, char *reason,
		   size_t rl)
{
	char *base = (char *)c;
	int idx, rc;
	uint32_t u;
	bool b;

	switch (k->type) {
	case K_BOOL:
		if (parse_bool(value, &b) < 0) {
			snprintf(reason, rl, "must be true or false");
			return -EINVAL;
		}
		*(bool *)(base + k->offset) = b;
		return 0;
	case K_U32:
		if ((rc = parse_u32(value, &u, reason, rl)) < 0)
			return rc;
		if (u < k->min || u > k->max) {
			snprintf(reason, rl, "must be between %.15g and %.15g", k->min, k->max);
			return -EINVAL;
		}
		*(uint32_t *)(base + k->offset) = u;
		return 0;
	case K_NUM:
	case K_RATIO:
	case K_NUM_NAN:
		return set_num(k, (double *)(base + k->offset), value, reason, rl);
	case K_PROFILE:
		rc = parse_name(value, profile_names, POL_N_PROFILES,
				"power-saver, balanced, performance", &idx, reason, rl);
		if (rc == 0)
			c->profile = (enum pol_profile)idx;
		return rc;
	case K_TMODE:
		rc = parse_name(value, mode_names, 2, "step, pid", &idx, reason, rl);
		if (rc == 0)
			c->thermal_mode = (enum pol_thermal_mode)idx;
		return rc;
	case K_PLACE:
		rc = parse_name(value, place_names, 3, "any, performance, efficiency", &idx,
				reason, rl);
		if (rc == 0)
			*(enum pol_placement *)(base + k->offset) = (enum pol_placement)idx;
		return rc;
	}
	return -EINVAL;
}

/* --- [thermal] zone.TYPE = PASSIVE[,CRITICAL] ------------------------------------------------- */

static bool zone_type_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n >= sizeof(((struct pol_zone_rule *)0)->type))
		return false;
	for (; *t; t++)
		if (!isalnum((unsigned char)*t) && *t != '_' && *t != '-')
			return false;
	return true;
}

/* One trip of a rule: empty is NAN (keep the firmware's). */
static int parse_trip(const char *s, size_t len, double *out)
{
	char buf[64];
	if (len == 0) {
		*out = NAN;
		return 0;
	}
	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	double v;
	if (parse_num(buf, &v) < 0 || v < 0 || v > 1000)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_zone_rule(struct pol_config *c, const char *type, const char *value, char *reason,
			 size_t rl)
{
	if (!zone_type_ok(type)) {
		snprintf(reason, rl, "zone types are 1 to 31 of A-Z a-z 0-9 _ -");
		return -EINVAL;
	}
	const char *comma = strchr(value, ',');
	size_t plen = comma ? (size_t)(comma - value) : strlen(value);
	double passive, critical = NAN;
	if (parse_trip(value, plen, &passive) < 0 ||
	    (comma && parse_trip(comma + 1, strlen(comma + 1), &critical) < 0)) {
		snprintf(reason, rl, "'%s' is not PASSIVE[,CRITICAL] (°C between 0 and 1000, "
			 "either may be empty)", value);
		return -EINVAL;
	}
	if (!isnan(passive) && !isnan(critical) && passive >= critical) {
		snprintf(reason, rl,
			 "the passive trip (%g °C) must be below the critical one (%g °C)",
			 passive, critical);
		return -EINVAL;
	}

	size_t i;
	for (i = 0; i < c->n_zone_rules; i++)
		if (strcmp(c->zone_rules[i].type, type) == 0)
			break;
	/* A rule that overrides nothing ("" or ",") removes the type's rule. */
	if (isnan(passive) && isnan(critical)) {
		if (i < c->n_zone_rules) {
			memmove(&c->zone_rules[i], &c->zone_rules[i + 1],
				(c->n_zone_rules - i - 1) * sizeof(c->zone_rules[0]));
			c->n_zone_rules--;
		}
		return 0;
	}
	if (i == c->n_zone_rules) {
		if (c->n_zone_rules == POL_ZONE_RULES) {
			snprintf(reason, rl, "more than %d zone rules", POL_ZONE_RULES);
			return -EINVAL;
		}
		c->n_zone_rules++;
	}
	struct pol_zone_rule *r = &c->zone_rules[i];
	snprintf(r->type, sizeof(r->type), "%s", type);
	r->passive_c = passive;
	r->critical_c = critical;
	return 0;
}

int pol_config_set(struct pol_config *c, const char *section, const char *key,
		   const char *value, char *reason, size_t reasonlen)
{
	if (!pol_config_section(section)) {
		snprintf(reason, reasonlen, "unknown section");
		return -ENOENT;
	}
	if (strcmp(section, "thermal") == 0 && strncmp(key, ZONE_PREFIX, strlen(ZONE_PREFIX)) == 0)
		return set_zone_rule(c, key + strlen(ZONE_PREFIX), value, reason, reasonlen);
	const struct key_def *k = find_key(section, key);
	if (!k) {
		snprintf(reason, reasonlen, "unknown key");
		return -ENOENT;
	}
	return set_key(c, k, value, reason, reasonlen);
}

int pol_config_check(const struct pol_config *c, char *reason, size_t reasonlen)
{
	if (c->critical_pct > c->low_pct) {
		snprintf(reason, reasonlen, "[battery] critical_pct: must not exceed low_pct (%g)",
			 c->low_pct);
		return -EINVAL;
	}
	if (c->max_workers != 0 && c->min_workers > c->max_workers) {
		snprintf(reason, reasonlen,
			 "[autoscale] min_workers: must not exceed max_workers (%u)",
			 (unsigned)c->max_workers);
		return -EINVAL;
	}
	return 0;
}

/* --- JSON and diff ---------------------------------------------------------------------------- */

/* The shortest text that reads back as the same double. */
static void fmt_num(char *buf, size_t len, double v)
{
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* A rule in the text form the parser takes: "80,95", ",100", "80". */
static void zone_rule_text(const struct pol_zone_rule *r, char *buf, size_t len)
{
	char p[32] = "", cr[32] = "";
	if (!isnan(r->passive_c))
		fmt_num(p, sizeof(p), r->passive_c);
	if (!isnan(r->critical_c))
		fmt_num(cr, sizeof(cr), r->critical_c);
	snprintf(buf, len, "%s%s%s", p, isnan(r->critical_c) ? "" : ",", cr);
}

static cJSON *key_json(const struct pol_config *c, const struct key_def *k)
{
	const char *base = (const char *)c;
	double d;
	switch (k->type) {
	case K_BOOL:
		return cJSON_CreateBool(*(const bool *)(base + k->offset));
	case K_U32:
		return cJSON_CreateNumber(*(const uint32_t *)(base + k->offset));
	case K_NUM:
	case K_RATIO:
	case K_NUM_NAN:
		d = *(const double *)(base + k->offset);
		return isnan(d) ? cJSON_CreateNull() : cJSON_CreateNumber(d);
	case K_PROFILE:
		return cJSON_CreateString(pol_profile_name(c->profile));
	case K_TMODE:
		return cJSON_CreateString(pol_thermal_mode_name(c->thermal_mode));
	case K_PLACE:
		return cJSON_CreateString(
			pol_placement_name(*(const enum pol_placement *)(base + k->offset)));
	}
	return NULL;
}

static bool add_item(cJSON *o, const char *name, cJSON *v)
{
	if (v && cJSON_AddItemToObject(o, name, v))
		return true;
	cJSON_Delete(v);
	return false;
}

cJSON *pol_config_section_json(const struct pol_config *c, const char *section)
{
	if (!pol_config_section(section))
		return NULL;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    !add_item(o, keys[i].name, key_json(c, &keys[i])))
			goto fail;
	if (strcmp(section, "thermal") == 0)
		for (size_t i = 0; i < c->n_zone_rules && i < POL_ZONE_RULES; i++) {
			char name[sizeof(ZONE_PREFIX) + sizeof(c->zone_rules[i].type)], text[80];
			snprintf(name, sizeof(name), ZONE_PREFIX "%s", c->zone_rules[i].type);
			zone_rule_text(&c->zone_rules[i], text, sizeof(text));
			if (!add_item(o, name, cJSON_CreateString(text)))
				goto fail;
		}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

cJSON *pol_config_json(const struct pol_config *c)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	for (size_t i = 0; pol_config_sections[i]; i++)
		if (!add_item(o, pol_config_sections[i],
			      pol_config_section_json(c, pol_config_sections[i]))) {
			cJSON_Delete(o);
			return NULL;
		}
	return o;
}

/* Equal, NAN included (NAN is "unset", and two unset values agree). */
static bool same_trip(double x, double y)
{
	return isnan(x) ? isnan(y) : x == y;
}

/* Rules are a set keyed by zone type: their order does not matter. */
static bool zone_rules_equal(const struct pol_config *a, const struct pol_config *b)
{
	if (a->n_zone_rules != b->n_zone_rules)
		return false;
	for (size_t i = 0; i < a->n_zone_rules; i++) {
		const struct pol_zone_rule *ra = &a->zone_rules[i], *rb = NULL;
		for (size_t j = 0; j < b->n_zone_rules; j++)
			if (strcmp(ra->type, b->zone_rules[j].type) == 0)
				rb = &b->zone_rules[j];
		if (!rb || !same_trip(ra->passive_c, rb->passive_c) ||
		    !same_trip(ra->critical_c, rb->critical_c))
			return false;
	}
	return true;
}

static void add_name(cJSON *changed, const char *section, const char *key)
{
	char name[64];
	snprintf(name, sizeof(name), "%s.%s", section, key);
	cJSON *s = cJSON_CreateString(name);
	if (s && !cJSON_AddItemToArray(changed, s))
		cJSON_Delete(s);
}

/* Exact: cJSON_Compare would call numbers a few ulps apart equal. */
static bool key_equal(const struct pol_config *a, const struct pol_config *b,
		      const struct key_def *k)
{
	const char *pa = (const char *)a + k->offset, *pb = (const char *)b + k->offset;
	switch (k->type) {
	case K_BOOL:
		return *(const bool *)pa == *(const bool *)pb;
	case K_U32:
		return *(const uint32_t *)pa == *(const uint32_t *)pb;
	case K_NUM:
	case K_RATIO:
	case K_NUM_NAN:
		return same_trip(*(const double *)pa, *(const double *)pb);
	case K_PROFILE:
		return a->profile == b->profile;
	case K_TMODE:
		return a->thermal_mode == b->thermal_mode;
	case K_PLACE:
		return *(const enum pol_placement *)pa == *(const enum pol_placement *)pb;
	}
	return true;
}

void pol_config_diff(const struct pol_config *a, const struct pol_config *b, cJSON *changed)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (!key_equal(a, b, &keys[i]))
			add_name(changed, keys[i].section, keys[i].name);
	if (!zone_rules_equal(a, b))
		add_name(changed, "thermal", "zone");
}
