/* Hardware monitors from class/hwmon/hwmonN: temperatures (millidegrees C),
 * fans (RPM), power (microwatts) and voltages (millivolts). hwmonN numbers
 * follow driver load order, so a chip is named as node_exporter names it,
 * from its device path ("platform_coretemp_0"; cleaned as it cleans it:
 * lower case, [^a-z0-9:_] -> '_'), else from its name file, else "hwmonN";
 * two dirs that end up with one name both get "_hwmonN" appended so no
 * (chip, sensor) series is ever produced twice. */
#include "source.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/prom.h"
#include "fs.h"

#define HWMON_DIR "class/hwmon"
#define MAX_CHIPS 64
#define MAX_NUM 256 /* sensor numbers kept: temp0..temp255 */
#define REL_MAX 192
#define CHIP_MAX 128

enum kind { K_TEMP, K_FAN, K_POWER, K_IN, N_KINDS };
static const char *const kind_prefix[N_KINDS] = { "temp", "fan", "power", "in" };
static const char *const kind_array[N_KINDS] = { "temps", "fans", "powers", "voltages" };

struct chip {
	unsigned idx;
	char chip[CHIP_MAX];
	char name[64];
	bool has_name;
};

/* Which sensor numbers exist, per kind. */
struct sensor_set {
	uint64_t bits[N_KINDS][MAX_NUM / 64];
	size_t n;
};

/* node_exporter's cleanMetricName: lower case, [^a-z0-9:_] -> '_', then
 * '_' trimmed at both ends. */
static void clean_name(char *out, size_t n, const char *in)
{
	size_t o = 0;
	for (; *in && o + 1 < n; in++) {
		unsigned char c = (unsigned char)tolower((unsigned char)*in);
		out[o++] = (isdigit(c) || (c >= 'a' && c <= 'z') || c == ':' || c == '_') ? (char)c : '_';
	}
	out[o] = '\0';
	size_t start = strspn(out, "_");
	memmove(out, out + start, o - start + 1);
	o -= start;
	while (o && out[o - 1] == '_')
		out[--o] = '\0';
}

/* "<type>_<name>" from the last two components of the device link's
 * target, as node_exporter does; false when there is no usable link. */
static bool chip_from_device(struct chip *c, const char *root)
{
	char rel[REL_MAX], path[PATH_MAX], real[PATH_MAX];
	if (tm_path(path, sizeof(path), root, tm_relf(rel, sizeof(rel), HWMON_DIR "/hwmon%u/device",
						       c->idx)) < 0 ||
	    !realpath(path, real))
		return false;
	char *slash = strrchr(real, '/');
	if (!slash || !slash[1])
		return false;
	char dev[CHIP_MAX / 2], type[CHIP_MAX / 2] = "";
	clean_name(dev, sizeof(dev), slash + 1);
	*slash = '\0';
	slash = strrchr(real, '/');
	if (slash)
		clean_name(type, sizeof(type), slash + 1);
	if (!*dev)
		return false;
	if (*type)
		snprintf(c->chip, sizeof(c->chip), "%s_%s", type, dev);
	else
		snprintf(c->chip, sizeof(c->chip), "%s", dev);
	return true;
}

static void identify(struct chip *c, const char *root)
{
	char rel[REL_MAX];
	c->has_name = tm_read_str(root, tm_relf(rel, sizeof(rel), HWMON_DIR "/hwmon%u/name", c->idx),
				  c->name, sizeof(c->name)) == 0;
	if (chip_from_device(c, root))
		return;
	if (c->has_name) {
		clean_name(c->chip, sizeof(c->chip), c->name);
		if (*c->chip)
			return;
	}
	snprintf(c->chip, sizeof(c->chip), "hwmon%u", c->idx);
}

/* Chips sharing a name all get their hwmon index appended: which one keeps
 * the plain name would otherwise depend on driver load order. */
static void disambiguate(struct chip *chips, size_t n)
{
	bool dup[MAX_CHIPS] = { false };
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(chips[i].chip, chips[j].chip) == 0)
				dup[i] = dup[j] = true;
	for (size_t i = 0; i < n; i++) {
		if (!dup[i])
			continue;
		size_t l = strlen(chips[i].chip);
		if (l > CHIP_MAX - 16)
			l = CHIP_MAX - 16;
		snprintf(chips[i].chip + l, CHIP_MAX - l, "_hwmon%u", chips[i].idx);
	}
}

static int list_chips(const char *root, unsigned *idx, size_t *n)
{
	DIR *d = tm_opendir(root, HWMON_DIR);
	if (!d)
		return -errno;
	size_t k = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (k < MAX_CHIPS && tm_parse_indexed(de->d_name, "hwmon", &idx[k]) == 0)
			k++;
	closedir(d);
	qsort(idx, k, sizeof(idx[0]), tm_cmp_unsigned);
	*n = k;
	return 0;
}

/* "<kind><num>_<property>" -> kind and num. */
static bool parse_sensor_file(const char *f, enum kind *k, unsigned *num)
{
	for (int i = 0; i < N_KINDS; i++) {
		size_t pl = strlen(kind_prefix[i]);
		if (strncmp(f, kind_prefix[i], pl) != 0 || !isdigit((unsigned char)f[pl]))
			continue;
		char *end;
		unsigned long v = strtoul(f + pl, &end, 10);
		if (*end != '_' || v >= MAX_NUM)
			return false;
		*k = (enum kind)i;
		*num = (unsigned)v;
		return true;
	}
	return false;
}

static int scan_sensors(const char *root, const char *dir, struct sensor_set *set)
{
	memset(set, 0, sizeof(*set));
	DIR *d = tm_opendir(root, dir);
	if (!d)
		return -errno;
	struct dirent *de;
	while ((de = readdir(d))) {
		enum kind k;
		unsigned num;
		if (!parse_sensor_file(de->d_name, &k, &num))
			continue;
		uint64_t bit = 1ull << (num % 64);
		if (!(set->bits[k][num / 64] & bit)) {
			set->bits[k][num / 64] |= bit;
			set->n++;
		}
	}
	closedir(d);
	return 0;
}

static void add_error(cJSON *o, const char *file, int rc)
{
	char msg[128];
	snprintf(msg, sizeof(msg), "%s: %s", file, tm_strerror(rc));
	cJSON_AddStringToObject(o, "error", msg);
}

/* dir/<sensor>_<prop> as a signed number scaled by div. */
static int read_scaled(const char *root, const char *dir, const char *sensor, const char *prop,
		       double div, double *v)
{
	char rel[REL_MAX];
	int64_t x;
	int rc = tm_read_s64(root, tm_relf(rel, sizeof(rel), "%s/%s_%s", dir, sensor, prop), &x);
	if (rc == 0)
		*v = (double)x / div;
	return rc;
}

static const char *const value_key[N_KINDS] = { "temp_celsius", "rpm", "watts", "volts" };
static const double value_div[N_KINDS] = { 1e3, 1, 1e6, 1e3 };

/* Names, labels, limits and the sensor list rarely change: they are read
 * again every STATIC_SAMPLES samples, at once when the hwmonN listing
 * changes or when one of them failed; the values every time. */
#define STATIC_SAMPLES 30

struct hwmon_priv {
	unsigned idx[MAX_CHIPS]; /* the listing the cache was built from */
	size_t n;
	cJSON *chips; /* static attributes: chip objects, sensors without values */
	bool in_device[MAX_CHIPS]; /* attributes in hwmonN/device (old kernels) */
	unsigned age;
	bool dirty;
};

/* A limit read at refresh; a failure other than absence retries soon. */
static void add_limit(struct hwmon_priv *hp, cJSON *o, const char *root, const char *dir,
		      const char *sensor, const char *prop, const char *key)
{
	double v;
	int rc = read_scaled(root, dir, sensor, prop, 1e3, &v);
	if (rc == 0)
		cJSON_AddNumberToObject(o, key, v);
	else if (rc != -ENOENT)
		hp->dirty = true;
}

/* A sensor's static object, or NULL when it has no value file at all
 * (alarm or limit files only). "value_file" is the cache's own. */
static cJSON *sensor_static(struct hwmon_priv *hp, const char *root, const char *dir, enum kind k,
			    unsigned num)
{
	char sensor[32], rel[REL_MAX], label[96];
	snprintf(sensor, sizeof(sensor), "%s%u", kind_prefix[k], num);
	double v;
	const char *prop = "input";
	int rc = read_scaled(root, dir, sensor, prop, 1, &v);
	if (rc == -ENOENT && k == K_POWER) {
		prop = "average";
		rc = read_scaled(root, dir, sensor, prop, 1, &v);
	}
	if (rc == -ENOENT)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "sensor", sensor);
	cJSON_AddStringToObject(o, "value_file", prop);
	rc = tm_read_str(root, tm_relf(rel, sizeof(rel), "%s/%s_label", dir, sensor), label,
			 sizeof(label));
	if (rc == 0)
		cJSON_AddStringToObject(o, "label", label);
	else if (rc != -ENOENT)
		hp->dirty = true;
	if (k == K_TEMP) {
		add_limit(hp, o, root, dir, sensor, "crit", "crit_celsius");
		add_limit(hp, o, root, dir, sensor, "max", "max_celsius");
	}
	return o;
}

static void add_sensors(struct hwmon_priv *hp, cJSON *c, const char *root, const char *dir,
			const struct sensor_set *set)
{
	for (int k = 0; k < N_KINDS; k++) {
		cJSON *arr = NULL;
		for (unsigned num = 0; num < MAX_NUM; num++) {
			if (!(set->bits[k][num / 64] & (1ull << (num % 64))))
				continue;
			cJSON *o = sensor_static(hp, root, dir, (enum kind)k, num);
			if (!o)
				continue;
			if (!arr)
				arr = cJSON_AddArrayToObject(c, kind_array[k]);
			if (arr)
				cJSON_AddItemToArray(arr, o);
			else
				cJSON_Delete(o);
		}
	}
}

static void chip_dir(char *dir, size_t n, unsigned idx, bool in_device)
{
	tm_relf(dir, n, HWMON_DIR "/hwmon%u%s", idx, in_device ? "/device" : "");
}

static cJSON *chip_static(struct hwmon_priv *hp, const char *root, const struct chip *ch,
			  bool *in_device)
{
	cJSON *c = cJSON_CreateObject();
	if (!c)
		return NULL;
	cJSON_AddNumberToObject(c, "hwmon", ch->idx);
	cJSON_AddStringToObject(c, "chip", ch->chip);
	if (ch->has_name)
		cJSON_AddStringToObject(c, "name", ch->name);
	char dir[REL_MAX];
	struct sensor_set set;
	*in_device = false;
	chip_dir(dir, sizeof(dir), ch->idx, false);
	int rc = scan_sensors(root, dir, &set);
	/* Drivers of old kernels keep their attributes in the device dir. */
	if (rc == 0 && !set.n) {
		chip_dir(dir, sizeof(dir), ch->idx, true);
		*in_device = scan_sensors(root, dir, &set) == 0 && set.n;
		if (!*in_device)
			set.n = 0;
	}
	if (rc < 0) {
		add_error(c, "hwmon dir", rc);
		hp->dirty = true;
	} else if (set.n) {
		add_sensors(hp, c, root, dir, &set);
	}
	return c;
}

static void drop_cache(struct hwmon_priv *hp)
{
	cJSON_Delete(hp->chips);
	hp->chips = NULL;
}

static int refresh(struct hwmon_priv *hp, const char *root, const unsigned *idx, size_t n)
{
	struct chip chips[MAX_CHIPS];
	drop_cache(hp);
	memcpy(hp->idx, idx, n * sizeof(idx[0]));
	hp->n = n;
	hp->age = 0;
	hp->dirty = false;
	for (size_t i = 0; i < n; i++) {
		memset(&chips[i], 0, sizeof(chips[i]));
		chips[i].idx = idx[i];
		identify(&chips[i], root);
	}
	disambiguate(chips, n);
	hp->chips = cJSON_CreateArray();
	if (!hp->chips)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		cJSON *c = chip_static(hp, root, &chips[i], &hp->in_device[i]);
		if (!c) {
			drop_cache(hp);
			return -ENOMEM;
		}
		cJSON_AddItemToArray(hp->chips, c);
	}
	return 0;
}

static void copy_item(cJSON *to, const cJSON *from, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, key);
	if (v)
		cJSON_AddItemToObject(to, key, cJSON_Duplicate(v, true));
}

/* A sensor of this sample: the cached attributes and a fresh value. */
static cJSON *sensor_now(const cJSON *st, const char *root, const char *dir, enum kind k)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(st, "sensor");
	const cJSON *prop = cJSON_GetObjectItemCaseSensitive(st, "value_file");
	cJSON *o = cJSON_IsString(name) && cJSON_IsString(prop) ? cJSON_CreateObject() : NULL;
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "sensor", name->valuestring);
	copy_item(o, st, "label");
	double v = 0;
	int rc = read_scaled(root, dir, name->valuestring, prop->valuestring, value_div[k], &v);
	if (rc < 0) {
		char file[64];
		snprintf(file, sizeof(file), "%s_%s", name->valuestring, prop->valuestring);
		add_error(o, file, rc);
		return o;
	}
	cJSON_AddNumberToObject(o, value_key[k], v);
	copy_item(o, st, "crit_celsius");
	copy_item(o, st, "max_celsius");
	return o;
}

static void add_chip(cJSON *chips, const cJSON *st, const char *root, bool in_device)
{
	const cJSON *idx = cJSON_GetObjectItemCaseSensitive(st, "hwmon");
	cJSON *c = cJSON_IsNumber(idx) ? cJSON_CreateObject() : NULL;
	if (!c)
		return;
	cJSON_AddItemToArray(chips, c);
	cJSON_AddNumberToObject(c, "hwmon", idx->valueint);
	copy_item(c, st, "chip");
	copy_item(c, st, "name");
	copy_item(c, st, "error");
	char dir[REL_MAX];
	chip_dir(dir, sizeof(dir), (unsigned)idx->valueint, in_device);
	for (int k = 0; k < N_KINDS; k++) {
		const cJSON *sts = cJSON_GetObjectItemCaseSensitive(st, kind_array[k]), *ss;
		cJSON *arr = sts ? cJSON_AddArrayToObject(c, kind_array[k]) : NULL;
		if (!arr)
			continue;
		cJSON_ArrayForEach(ss, sts)
			cJSON_AddItemToArray(arr, sensor_now(ss, root, dir, (enum kind)k));
	}
}

static int hwmon_init(struct tm_source *s, char *reason, size_t rl)
{
	s->priv = calloc(1, sizeof(struct hwmon_priv));
	if (!s->priv) {
		snprintf(reason, rl, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int hwmon_sample(struct tm_source *s, uint64_t now_ns, cJSON *out, char *reason,
			size_t rl)
{
	struct hwmon_priv *hp = s->priv;
	const char *root = s->env->sysfs_root;
	unsigned idx[MAX_CHIPS];
	size_t n = 0;
	int rc = hp ? list_chips(root, idx, &n) : -EINVAL;
	if (rc < 0) {
		snprintf(reason, rl, "%s: %s (no hwmon driver)", HWMON_DIR, tm_strerror(rc));
		return rc;
	}
	if (!n) {
		snprintf(reason, rl, "no hwmon devices in %s", HWMON_DIR);
		return -ENOENT;
	}
	bool same = n == hp->n && memcmp(idx, hp->idx, n * sizeof(idx[0])) == 0;
	if ((!hp->chips || hp->dirty || ++hp->age >= STATIC_SAMPLES || !same) &&
	    refresh(hp, root, idx, n) < 0) {
		snprintf(reason, rl, "out of memory");
		return -ENOMEM;
	}
	cJSON *arr = cJSON_AddArrayToObject(out, "chips");
	if (!arr) {
		snprintf(reason, rl, "out of memory");
		return -ENOMEM;
	}
	size_t i = 0;
	for (const cJSON *st = hp->chips->child; st && i < n; st = st->next, i++)
		add_chip(arr, st, root, hp->in_device[i]);
	return 0;
}

static double num_or_nan(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* One sensor's series; a sensor with an error has none. */
static void sensor_metrics(const cJSON *o, int k, const char *chip, struct prom *p)
{
	static const char *const family[N_KINDS] = { "hwopt_hwmon_temp_celsius",
						     "hwopt_hwmon_fan_rpm", "hwopt_hwmon_power_watt",
						     "hwopt_hwmon_in_volts" };
	const cJSON *sv = cJSON_GetObjectItemCaseSensitive(o, "sensor");
	if (!cJSON_IsString(sv))
		return;
	const char *sensor = sv->valuestring;
	double v = num_or_nan(o, value_key[k]);
	if (isnan(v))
		return;
	prom_sample(p, family[k], v, "chip", chip, "sensor", sensor, NULL);
	if (k == K_TEMP && !isnan(v = num_or_nan(o, "crit_celsius")))
		prom_sample(p, "hwopt_hwmon_temp_crit_celsius", v, "chip", chip, "sensor", sensor,
			    NULL);
	if (k == K_TEMP && !isnan(v = num_or_nan(o, "max_celsius")))
		prom_sample(p, "hwopt_hwmon_temp_max_celsius", v, "chip", chip, "sensor", sensor,
			    NULL);
	const cJSON *label = cJSON_GetObjectItemCaseSensitive(o, "label");
	if (cJSON_IsString(label))
		prom_sample(p, "hwopt_hwmon_sensor_label", 1, "chip", chip, "sensor", sensor, "label",
			    label->valuestring, NULL);
}

static void chip_metrics(const cJSON *c, struct prom *p)
{
	const cJSON *cv = cJSON_GetObjectItemCaseSensitive(c, "chip");
	if (!cJSON_IsString(cv))
		return;
	const char *chip = cv->valuestring;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
	if (cJSON_IsString(name)) {
		char clean[64];
		clean_name(clean, sizeof(clean), name->valuestring);
		prom_sample(p, "hwopt_hwmon_chip_names", 1, "chip", chip, "chip_name", clean, NULL);
	}
	for (int k = 0; k < N_KINDS; k++) {
		const cJSON *o;
		cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(c, kind_array[k]))
			sensor_metrics(o, k, chip, p);
	}
}

static void hwmon_metrics(const cJSON *part, struct prom *p)
{
	prom_family(p, "hwopt_hwmon_chip_names", PROM_GAUGE,
		    "Annotation metric for human-readable chip names.");
	prom_family(p, "hwopt_hwmon_sensor_label", PROM_GAUGE, "Label for a given chip and sensor.");
	prom_family(p, "hwopt_hwmon_temp_celsius", PROM_GAUGE,
		    "Hardware monitor temperature in degrees Celsius.");
	prom_family(p, "hwopt_hwmon_temp_crit_celsius", PROM_GAUGE,
		    "Hardware monitor critical temperature limit in degrees Celsius.");
	prom_family(p, "hwopt_hwmon_temp_max_celsius", PROM_GAUGE,
		    "Hardware monitor maximum temperature limit in degrees Celsius.");
	prom_family(p, "hwopt_hwmon_fan_rpm", PROM_GAUGE,
		    "Hardware monitor fan speed in revolutions per minute.");
	prom_family(p, "hwopt_hwmon_power_watt", PROM_GAUGE,
		    "Hardware monitor power (input, else average) in watts.");
	prom_family(p, "hwopt_hwmon_in_volts", PROM_GAUGE, "Hardware monitor voltage in volts.");
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(part, "chips"))
		chip_metrics(c, p);
}

static void hwmon_fini(struct tm_source *s)
{
	if (s->priv)
		drop_cache(s->priv);
	free(s->priv);
	s->priv = NULL;
}

const struct tm_source_ops tm_hwmon = {
	.name = "hwmon",
	.init = hwmon_init,
	.sample = hwmon_sample,
	.metrics = hwmon_metrics,
	.fini = hwmon_fini,
};
