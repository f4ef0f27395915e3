/* RAPL energy from class/powercap: every directory with an energy_uj file
 * is a zone ("intel-rapl:0", subzone "intel-rapl:0:1", "intel-rapl-mmio:0").
 * energy_uj wraps at max_energy_range_uj (262 kJ: 22 minutes at 200 W),
 * so each zone keeps a running counter in s->priv that adds the wrapped
 * span, and watts come from that counter between two samples. energy_uj is
 * readable by root only since Linux 5.10 (a power side channel). */
#include "power.h"
#include "source.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/prom.h"
#include "fs.h"

#define POWERCAP_DIR "class/powercap"
#define POWERCAP_PATH "/sys/" POWERCAP_DIR
#define MAX_ZONES 64
#define ZONE_MAX 64
#define REL_MAX 320 /* a d_name (256) and an attribute */

/* One zone's running counter. */
struct rapl_counter {
	char zone[ZONE_MAX];
	uint64_t last_uj;   /* energy_uj at the last good read */
	uint64_t total_uj;  /* the running counter */
	uint64_t last_ns;
};

struct zone_list {
	char name[MAX_ZONES][ZONE_MAX];
	size_t n;
};

/* What is read of a zone only every STATIC_SAMPLES samples (or at once
 * when the listing changes or one of these reads failed). */
#define STATIC_SAMPLES 30

struct zone_static {
	char zone[ZONE_MAX];
	char name[64];
	bool has_name, have_max;
	uint64_t max_uj;
};

struct power_priv {
	struct rapl_counter c[MAX_ZONES];
	size_t n;
	struct zone_list listing; /* class/powercap as the statics saw it */
	struct zone_static zs[MAX_ZONES];
	size_t nz;
	unsigned age;
	bool fresh, dirty;
};

static int cmp_zone(const void *a, const void *b)
{
	return strverscmp(a, b);
}

static bool has_energy(const char *root, const char *zone)
{
	char rel[REL_MAX], path[4096];
	struct stat st;
	snprintf(rel, sizeof(rel), POWERCAP_DIR "/%s/energy_uj", zone);
	return tm_path(path, sizeof(path), root, rel) == 0 && stat(path, &st) == 0 &&
	       S_ISREG(st.st_mode);
}

/* Every entry of class/powercap (zones and control types), sorted. */
static int list_entries(const char *root, struct zone_list *zl)
{
	DIR *d = tm_opendir(root, POWERCAP_DIR);
	if (!d)
		return -errno;
	struct dirent *de;
	zl->n = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strlen(de->d_name) < ZONE_MAX && zl->n < MAX_ZONES)
			strcpy(zl->name[zl->n++], de->d_name);
	closedir(d);
	qsort(zl->name, zl->n, sizeof(zl->name[0]), cmp_zone);
	return 0;
}

static bool same_listing(const struct zone_list *a, const struct zone_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->name[i], b->name[i]) != 0)
			return false;
	return true;
}

/* The zones (entries with an energy_uj file) with their name and range. */
static void refresh(struct power_priv *pp, const char *root, const struct zone_list *zl)
{
	pp->listing = *zl;
	pp->nz = 0;
	pp->age = 0;
	pp->fresh = true;
	pp->dirty = false;
	for (size_t i = 0; i < zl->n; i++) {
		if (!has_energy(root, zl->name[i]))
			continue;
		struct zone_static *z = &pp->zs[pp->nz++];
		char rel[REL_MAX];
		snprintf(z->zone, sizeof(z->zone), "%s", zl->name[i]);
		snprintf(rel, sizeof(rel), POWERCAP_DIR "/%s/name", z->zone);
		int rc = tm_read_str(root, rel, z->name, sizeof(z->name));
		z->has_name = rc == 0;
		snprintf(rel, sizeof(rel), POWERCAP_DIR "/%s/max_energy_range_uj", z->zone);
		int mrc = tm_read_u64(root, rel, &z->max_uj);
		z->have_max = mrc == 0 && z->max_uj > 0;
		if ((rc < 0 && rc != -ENOENT) || (mrc < 0 && mrc != -ENOENT))
			pp->dirty = true;
	}
}

static struct rapl_counter *counter_of(struct power_priv *pp, const char *zone)
{
	for (size_t i = 0; i < pp->n; i++)
		if (strcmp(pp->c[i].zone, zone) == 0)
			return &pp->c[i];
	return NULL;
}

/* Adds a reading to the zone's counter; *watts is NAN on its first one.
 * A smaller reading is a wrap at max_energy_range_uj (or, when the range
 * is unknown, a reset to zero). */
static uint64_t count(struct power_priv *pp, const char *zone, uint64_t uj, bool have_max,
		      uint64_t max_uj, uint64_t now_ns, double *watts)
{
	*watts = NAN;
	struct rapl_counter *c = counter_of(pp, zone);
	if (!c) {
		if (pp->n == MAX_ZONES)
			return uj;
		c = &pp->c[pp->n++];
		snprintf(c->zone, sizeof(c->zone), "%s", zone);
		c->last_uj = c->total_uj = uj;
		c->last_ns = now_ns;
		return uj;
	}
	uint64_t delta;
	if (uj >= c->last_uj)
		delta = uj - c->last_uj;
	else if (have_max && max_uj >= c->last_uj)
		delta = max_uj - c->last_uj + uj;
	else
		delta = uj;
	c->total_uj += delta;
	if (now_ns > c->last_ns)
		*watts = (double)delta / 1e6 / ((double)(now_ns - c->last_ns) / 1e9);
	c->last_uj = uj;
	c->last_ns = now_ns;
	return c->total_uj;
}

static void energy_reason(char *buf, size_t n, int rc)
{
	snprintf(buf, n, "energy_uj: %s%s", tm_strerror(rc),
		 rc == -EACCES ? " (root only since Linux 5.10)" : "");
}

/* "intel-rapl:0:1" -> "intel-rapl:0"; a zone with one ':' is top-level. */
static void add_parent(cJSON *z, const char *zone)
{
	const char *first = strchr(zone, ':'), *last = strrchr(zone, ':');
	if (!first || first == last) {
		cJSON_AddNullToObject(z, "parent");
		return;
	}
	char parent[ZONE_MAX];
	snprintf(parent, sizeof(parent), "%.*s", (int)(last - zone), zone);
	cJSON_AddStringToObject(z, "parent", parent);
}

/* One zone; returns 0 or the energy_uj error (msg gets its text). */
static int add_zone(cJSON *zones, struct power_priv *pp, const char *root,
		    const struct zone_static *zs, uint64_t now_ns, char *msg, size_t ml)
{
	cJSON *z = cJSON_CreateObject();
	if (!z)
		return -ENOMEM;
	cJSON_AddItemToArray(zones, z);
	cJSON_AddStringToObject(z, "zone", zs->zone);
	if (zs->has_name)
		cJSON_AddStringToObject(z, "name", zs->name);
	add_parent(z, zs->zone);
	char rel[REL_MAX];
	uint64_t uj;
	snprintf(rel, sizeof(rel), POWERCAP_DIR "/%s/energy_uj", zs->zone);
	int rc = tm_read_u64(root, rel, &uj);
	if (rc < 0) {
		energy_reason(msg, ml, rc);
		cJSON_AddFalseToObject(z, "available");
		cJSON_AddStringToObject(z, "reason", msg);
		return rc;
	}
	double watts;
	uint64_t total = count(pp, zs->zone, uj, zs->have_max, zs->max_uj, now_ns, &watts);
	cJSON_AddNumberToObject(z, "energy_joules", (double)total / 1e6);
	if (zs->have_max)
		cJSON_AddNumberToObject(z, "max_energy_range_joules", (double)zs->max_uj / 1e6);
	if (!isnan(watts))
		cJSON_AddNumberToObject(z, "watts", watts);
	return 0;
}

static int power_init(struct tm_source *s, char *reason, size_t rl)
{
	s->priv = calloc(1, sizeof(struct power_priv));
	if (!s->priv) {
		snprintf(reason, rl, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int power_sample(struct tm_source *s, uint64_t now_ns, cJSON *out, char *reason,
			size_t rl)
{
	const char *root = s->env->sysfs_root;
	if (!s->priv) {
		snprintf(reason, rl, "not initialized");
		return -EINVAL;
	}
	struct power_priv *pp = s->priv;
	struct zone_list zl;
	int rc = list_entries(root, &zl);
	if (rc < 0) {
		snprintf(reason, rl, "%s: %s (no RAPL driver)", POWERCAP_DIR, tm_strerror(rc));
		return rc;
	}
	if (!pp->fresh || pp->dirty || ++pp->age >= STATIC_SAMPLES || !same_listing(&zl, &pp->listing))
		refresh(pp, root, &zl);
	if (!pp->nz) {
		snprintf(reason, rl, "no zone with energy_uj in %s", POWERCAP_DIR);
		return -ENOENT;
	}
	cJSON *zones = cJSON_AddArrayToObject(out, "zones");
	if (!zones) {
		snprintf(reason, rl, "out of memory");
		return -ENOMEM;
	}
	int first_err = 0;
	size_t good = 0;
	for (size_t i = 0; i < pp->nz; i++) {
		char msg[128];
		rc = add_zone(zones, pp, root, &pp->zs[i], now_ns, msg, sizeof(msg));
		if (rc == 0) {
			good++;
		} else if (!first_err) {
			first_err = rc;
			snprintf(reason, rl, "%s %s", pp->zs[i].zone, msg);
		}
	}
	return good ? 0 : first_err;
}

/* "package-0" -> "package", index 0, as node_exporter's rapl collector
 * names zones; other names ("core", "dram") are indexed by how many zones
 * of that name came before. */
struct rapl_names {
	char name[MAX_ZONES][64];
	unsigned uses[MAX_ZONES];
	size_t n;
};

static unsigned next_use(struct rapl_names *rn, const char *name)
{
	for (size_t i = 0; i < rn->n; i++)
		if (strcmp(rn->name[i], name) == 0)
			return rn->uses[i]++;
	if (rn->n == MAX_ZONES)
		return 0;
	snprintf(rn->name[rn->n], sizeof(rn->name[0]), "%s", name);
	rn->uses[rn->n++] = 1;
	return 0;
}

static void metric_base(struct rapl_names *rn, const char *name, char *base, size_t bl,
			unsigned *index)
{
	size_t o = 0;
	const char *dash = strrchr(name, '-');
	size_t len = strlen(name);
	bool pkg = strncmp(name, "package-", 8) == 0 && dash && dash[1] &&
		   strspn(dash + 1, "0123456789") == strlen(dash + 1);
	if (pkg) {
		len = (size_t)(dash - name);
		*index = (unsigned)strtoul(dash + 1, NULL, 10);
	}
	for (size_t i = 0; i < len && o + 1 < bl; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		base[o++] = ok ? (char)(c | ((c >= 'A' && c <= 'Z') ? 0x20 : 0)) : '_';
	}
	base[o] = '\0';
	if (!pkg)
		*index = next_use(rn, name);
}

static void zone_metrics(const cJSON *z, struct rapl_names *rn, struct prom *p)
{
	const cJSON *zone = cJSON_GetObjectItemCaseSensitive(z, "zone");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(z, "name");
	if (!cJSON_IsString(zone) || !cJSON_IsString(name))
		return;
	char base[64], family[128], help[128], index[16], path[128];
	unsigned idx;
	metric_base(rn, name->valuestring, base, sizeof(base), &idx);
	snprintf(index, sizeof(index), "%u", idx);
	snprintf(path, sizeof(path), POWERCAP_PATH "/%s", zone->valuestring);
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(z, "energy_joules");
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(z, "watts");
	if (cJSON_IsNumber(j)) {
		snprintf(family, sizeof(family), "hwopt_rapl_%s_joules_total", base);
		snprintf(help, sizeof(help), "Energy used by RAPL %s zones in joules.", base);
		prom_family(p, family, PROM_COUNTER, help);
		prom_sample(p, family, j->valuedouble, "index", index, "path", path, NULL);
	}
	if (cJSON_IsNumber(w)) {
		snprintf(family, sizeof(family), "hwopt_rapl_%s_watts", base);
		snprintf(help, sizeof(help), "Power of RAPL %s zones in watts since the last sample.",
			 base);
		prom_family(p, family, PROM_GAUGE, help);
		prom_sample(p, family, w->valuedouble, "index", index, "path", path, NULL);
	}
}

static void power_metrics(const cJSON *part, struct prom *p)
{
	struct rapl_names *rn = calloc(1, sizeof(*rn));
	if (!rn)
		return;
	const cJSON *z;
	cJSON_ArrayForEach(z, cJSON_GetObjectItemCaseSensitive(part, "zones"))
		zone_metrics(z, rn, p);
	free(rn);
}

static void power_fini(struct tm_source *s)
{
	free(s->priv);
	s->priv = NULL;
}

/* Sum of the readable top-level zones whose name starts with prefix, each
 * name once: MSR zones ("intel-rapl:") first, then the others' new names. */
static double sum_top(const cJSON *zones, const char *prefix, size_t *n_found)
{
	const char *seen[MAX_ZONES];
	size_t n = 0;
	double sum = 0;
	for (int pass = 0; pass < 2; pass++) {
		const cJSON *z;
		cJSON_ArrayForEach(z, zones) {
			const cJSON *zone = cJSON_GetObjectItemCaseSensitive(z, "zone");
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(z, "name");
			const cJSON *j = cJSON_GetObjectItemCaseSensitive(z, "energy_joules");
			if (!cJSON_IsString(zone) || !cJSON_IsString(name) || !cJSON_IsNumber(j) ||
			    !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(z, "parent")) ||
			    strncmp(name->valuestring, prefix, strlen(prefix)) != 0)
				continue;
			bool msr = strncmp(zone->valuestring, "intel-rapl:", 11) == 0;
			if (msr != (pass == 0))
				continue;
			bool dup = false;
			for (size_t i = 0; i < n && !dup; i++)
				dup = strcmp(seen[i], name->valuestring) == 0;
			if (dup || n == MAX_ZONES)
				continue;
			seen[n++] = name->valuestring;
			sum += j->valuedouble;
		}
	}
	*n_found = n;
	return sum;
}

double tm_power_package_joules(const cJSON *power_part)
{
	const cJSON *zones = cJSON_GetObjectItemCaseSensitive(power_part, "zones");
	if (!cJSON_IsArray(zones))
		return NAN;
	size_t n;
	double sum = sum_top(zones, "package", &n);
	if (n)
		return sum;
	sum = sum_top(zones, "psys", &n);
	return n ? sum : NAN;
}

const struct tm_source_ops tm_power = {
	.name = "power",
	.init = power_init,
	.sample = power_sample,
	.metrics = power_metrics,
	.fini = power_fini,
};
