/* Power supplies from class/power_supply (batteries, mains, USB) and the
 * ACPI platform profile. Batteries report energy in µWh, or only charge in
 * µAh (then energy = charge x voltage_now), and power in µW, or only
 * current in µA (then power = current x voltage); drivers disagree on the
 * sign of a discharging current or power, so magnitudes are used and the
 * direction comes from status. */
#include "source.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/prom.h"
#include "fs.h"

#define SUPPLY_DIR "class/power_supply"
#define PROFILE_FILE "firmware/acpi/platform_profile"
#define CHOICES_FILE "firmware/acpi/platform_profile_choices"
#define MAX_SUPPLIES 32
#define NAME_MAX_LEN 64
#define REL_MAX 192

struct supply_list {
	char name[MAX_SUPPLIES][NAME_MAX_LEN];
	size_t n;
};

static int cmp_name(const void *a, const void *b)
{
	return strverscmp(a, b);
}

static int scan(const char *root, struct supply_list *sl)
{
	DIR *d = tm_opendir(root, SUPPLY_DIR);
	if (!d)
		return -errno;
	struct dirent *de;
	sl->n = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strlen(de->d_name) < NAME_MAX_LEN &&
		    sl->n < MAX_SUPPLIES)
			strcpy(sl->name[sl->n++], de->d_name);
	closedir(d);
	qsort(sl->name, sl->n, sizeof(sl->name[0]), cmp_name);
	return 0;
}

/* One supply's attribute files. */
struct attr_reader {
	const char *root, *supply;
};

static int attr_s64(const struct attr_reader *a, const char *attr, int64_t *v)
{
	char rel[REL_MAX];
	snprintf(rel, sizeof(rel), SUPPLY_DIR "/%s/%s", a->supply, attr);
	return tm_read_s64(a->root, rel, v);
}

/* A magnitude in the attribute's micro-unit, scaled to the base unit. */
static bool attr_abs(const struct attr_reader *a, const char *attr, double *v)
{
	int64_t x;
	if (attr_s64(a, attr, &x) < 0)
		return false;
	*v = fabs((double)x) / 1e6;
	return true;
}

static bool attr_str(const struct attr_reader *a, const char *attr, char *buf, size_t n)
{
	char rel[REL_MAX];
	snprintf(rel, sizeof(rel), SUPPLY_DIR "/%s/%s", a->supply, attr);
	return tm_read_str(a->root, rel, buf, n) == 0;
}

static void add_flag(cJSON *o, const struct attr_reader *a, const char *attr)
{
	int64_t v;
	if (attr_s64(a, attr, &v) == 0 && (v == 0 || v == 1))
		cJSON_AddBoolToObject(o, attr, v == 1);
}

/* energy_now/full/full_design in Wh, from energy_* or charge_* x volts. */
static void add_energy(cJSON *o, const struct attr_reader *a, double volts, double *now,
		       double *full)
{
	static const char *const suffix[] = { "now", "full", "full_design" };
	static const char *const key[] = { "energy_watthours", "energy_full_watthours",
					   "energy_full_design_watthours" };
	double wh[3];
	bool have_energy = false;
	for (int i = 0; i < 3; i++) {
		char attr[32];
		double v;
		snprintf(attr, sizeof(attr), "energy_%s", suffix[i]);
		wh[i] = NAN;
		if (attr_abs(a, attr, &v)) {
			wh[i] = v;
			have_energy = true;
		}
	}
	bool from_charge = false;
	if (!have_energy && !isnan(volts)) {
		for (int i = 0; i < 3; i++) {
			char attr[32];
			double ah;
			snprintf(attr, sizeof(attr), "charge_%s", suffix[i]);
			if (attr_abs(a, attr, &ah)) {
				wh[i] = ah * volts;
				from_charge = true;
			}
		}
	}
	for (int i = 0; i < 3; i++)
		if (!isnan(wh[i]))
			cJSON_AddNumberToObject(o, key[i], wh[i]);
	if (have_energy || from_charge)
		cJSON_AddStringToObject(o, "energy_source",
					have_energy ? "energy_now" : "charge_now*voltage_now");
	*now = wh[0];
	*full = wh[1];
}

static double add_power(cJSON *o, const struct attr_reader *a, double volts)
{
	double w, amps;
	const char *src = "power_now";
	if (!attr_abs(a, "power_now", &w)) {
		if (isnan(volts) || !attr_abs(a, "current_now", &amps))
			return NAN;
		w = amps * volts;
		src = "current_now*voltage_now";
	}
	cJSON_AddNumberToObject(o, "power_watts", w);
	cJSON_AddStringToObject(o, "power_source", src);
	return w;
}

/* Estimates from the present draw; none while it is zero (idle, full). */
static void add_times(cJSON *o, const char *status, double now, double full, double watts)
{
	if (isnan(watts) || watts <= 0)
		return;
	if (strcmp(status, "Discharging") == 0 && !isnan(now))
		cJSON_AddNumberToObject(o, "time_to_empty_seconds", now / watts * 3600.0);
	else if (strcmp(status, "Charging") == 0 && !isnan(now) && !isnan(full))
		cJSON_AddNumberToObject(o, "time_to_full_seconds",
					(full > now ? full - now : 0) / watts * 3600.0);
}

static void add_supply(cJSON *arr, const char *root, const char *name)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return;
	cJSON_AddItemToArray(arr, o);
	cJSON_AddStringToObject(o, "name", name);
	struct attr_reader a = { root, name };
	char type[32] = "", status[32] = "", buf[64];
	if (attr_str(&a, "type", type, sizeof(type)))
		cJSON_AddStringToObject(o, "type", type);
	add_flag(o, &a, "online");
	/* Mains and USB supplies: online is all there is. */
	if (strcmp(type, "Battery") != 0 && strcmp(type, "UPS") != 0)
		return;
	if (attr_str(&a, "status", status, sizeof(status)))
		cJSON_AddStringToObject(o, "status", status);
	add_flag(o, &a, "present");
	int64_t v;
	if (attr_s64(&a, "capacity", &v) == 0 && v >= 0 && v <= 100)
		cJSON_AddNumberToObject(o, "capacity_pct", (double)v);
	if (attr_str(&a, "technology", buf, sizeof(buf)))
		cJSON_AddStringToObject(o, "technology", buf);
	if (attr_s64(&a, "cycle_count", &v) == 0 && v >= 0)
		cJSON_AddNumberToObject(o, "cycle_count", (double)v);
	double volts = NAN, now, full;
	if (attr_abs(&a, "voltage_now", &volts))
		cJSON_AddNumberToObject(o, "voltage_volts", volts);
	add_energy(o, &a, volts, &now, &full);
	add_times(o, status, now, full, add_power(o, &a, volts));
}

static cJSON *unavailable(const char *what, int rc)
{
	cJSON *o = cJSON_CreateObject();
	char msg[128];
	snprintf(msg, sizeof(msg), "%s: %s", what, tm_strerror(rc));
	cJSON_AddFalseToObject(o, "available");
	cJSON_AddStringToObject(o, "reason", msg);
	return o;
}

/* The profile sub-part, or NULL with *err when the file is not there. */
static cJSON *profile_json(const char *root, int *err)
{
	char profile[64], choices[256];
	int rc = tm_read_str(root, PROFILE_FILE, profile, sizeof(profile));
	*err = rc;
	if (rc < 0)
		return rc == -ENOENT ? NULL : unavailable(PROFILE_FILE, rc);
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddTrueToObject(o, "available");
	cJSON_AddStringToObject(o, "profile", profile);
	cJSON *arr = cJSON_AddArrayToObject(o, "choices");
	if (arr && tm_read_str(root, CHOICES_FILE, choices, sizeof(choices)) == 0)
		for (char *save, *t = strtok_r(choices, " ", &save); t; t = strtok_r(NULL, " ", &save))
			cJSON_AddItemToArray(arr, cJSON_CreateString(t));
	return o;
}

static int battery_init(struct tm_source *s, char *reason, size_t rl)
{
	return 0;
}

static int battery_sample(struct tm_source *s, uint64_t now_ns, cJSON *out, char *reason,
			  size_t rl)
{
	const char *root = s->env->sysfs_root;
	struct supply_list sl;
	int src = scan(root, &sl), prc;
	cJSON *profile = profile_json(root, &prc);
	if ((src < 0 || !sl.n) && prc == -ENOENT) {
		snprintf(reason, rl, "no power supplies in %s (%s) and no %s", SUPPLY_DIR,
			 src < 0 ? tm_strerror(src) : "empty", PROFILE_FILE);
		cJSON_Delete(profile);
		return src < 0 ? src : -ENOENT;
	}
	if (src < 0) {
		cJSON_AddItemToObject(out, "supplies", unavailable(SUPPLY_DIR, src));
	} else {
		cJSON *arr = cJSON_AddArrayToObject(out, "supplies");
		for (size_t i = 0; arr && i < sl.n; i++)
			add_supply(arr, root, sl.name[i]);
	}
	cJSON_AddItemToObject(out, "platform_profile",
			      profile ? profile : unavailable(PROFILE_FILE, prc));
	return 0;
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static void gauge(struct prom *p, const char *family, const cJSON *o, const char *key,
		  const char *supply)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsNumber(v))
		prom_sample(p, family, v->valuedouble, "power_supply", supply, NULL);
	else if (cJSON_IsBool(v))
		prom_sample(p, family, cJSON_IsTrue(v) ? 1 : 0, "power_supply", supply, NULL);
}

static void supply_metrics(const cJSON *o, struct prom *p)
{
	const char *name = str_of(o, "name");
	if (!*name)
		return;
	prom_sample(p, "hwopt_power_supply_info", 1, "power_supply", name, "type", str_of(o, "type"),
		    "status", str_of(o, "status"), NULL);
	gauge(p, "hwopt_power_supply_online", o, "online", name);
	gauge(p, "hwopt_power_supply_present", o, "present", name);
	gauge(p, "hwopt_power_supply_capacity", o, "capacity_pct", name);
	gauge(p, "hwopt_power_supply_voltage_volts", o, "voltage_volts", name);
	gauge(p, "hwopt_power_supply_power_watt", o, "power_watts", name);
	gauge(p, "hwopt_power_supply_energy_watthour", o, "energy_watthours", name);
	gauge(p, "hwopt_power_supply_energy_full", o, "energy_full_watthours", name);
	gauge(p, "hwopt_power_supply_energy_full_design", o, "energy_full_design_watthours", name);
	gauge(p, "hwopt_power_supply_time_to_empty_seconds", o, "time_to_empty_seconds", name);
	gauge(p, "hwopt_power_supply_time_to_full_seconds", o, "time_to_full_seconds", name);
}

static void declare(struct prom *p)
{
	static const char *const fam[][2] = {
		{ "hwopt_power_supply_info", "Power supply type and status; value 1." },
		{ "hwopt_power_supply_online", "Whether the power supply is online (1) or not (0)." },
		{ "hwopt_power_supply_present", "Whether the battery is present (1) or not (0)." },
		{ "hwopt_power_supply_capacity", "Battery charge in percent." },
		{ "hwopt_power_supply_voltage_volts", "Battery voltage in volts." },
		{ "hwopt_power_supply_power_watt", "Battery charge or discharge power in watts." },
		{ "hwopt_power_supply_energy_watthour", "Energy in the battery in watt-hours." },
		{ "hwopt_power_supply_energy_full", "Energy of the battery when full in watt-hours." },
		{ "hwopt_power_supply_energy_full_design",
		  "Design energy of the battery when full in watt-hours." },
		{ "hwopt_power_supply_time_to_empty_seconds",
		  "Estimated time until the battery is empty at the present draw." },
		{ "hwopt_power_supply_time_to_full_seconds",
		  "Estimated time until the battery is full at the present charge rate." },
		{ "hwopt_platform_profile_info", "Selected ACPI platform profile; value 1." },
	};
	for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++)
		prom_family(p, fam[i][0], PROM_GAUGE, fam[i][1]);
}

static void battery_metrics(const cJSON *part, struct prom *p)
{
	declare(p);
	const cJSON *o;
	const cJSON *supplies = cJSON_GetObjectItemCaseSensitive(part, "supplies");
	if (cJSON_IsArray(supplies))
		cJSON_ArrayForEach(o, supplies)
			supply_metrics(o, p);
	o = cJSON_GetObjectItemCaseSensitive(part, "platform_profile");
	const cJSON *profile = cJSON_GetObjectItemCaseSensitive(o, "profile");
	if (cJSON_IsString(profile))
		prom_sample(p, "hwopt_platform_profile_info", 1, "profile", profile->valuestring, NULL);
}

static void battery_fini(struct tm_source *s)
{
}

const struct tm_source_ops tm_battery = {
	.name = "battery",
	.init = battery_init,
	.sample = battery_sample,
	.metrics = battery_metrics,
	.fini = battery_fini,
};
