/* Thermal zones and cooling devices from class/thermal. Temperatures are in
 * millidegrees Celsius there; a zone whose temp fails (EIO and ENODATA are
 * common on real zones) or holds garbage is listed with an "error" and no
 * temperature, so a broken sensor never turns into a number. */
#include "source.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/prom.h"
#include "fs.h"

#define THERMAL_DIR "class/thermal"
#define MAX_ENTRIES 256 /* zones or cooling devices kept per sample */
#define MAX_TRIPS 32
#define REL_MAX 160

/* Type, mode, trip points and cooling limits rarely change: they are read
 * again every STATIC_SAMPLES samples, at once when the listing changes or
 * when one of them failed, and the temperatures and cur_state every time. */
#define STATIC_SAMPLES 30

struct thermal_scan {
	unsigned zones[MAX_ENTRIES], cdevs[MAX_ENTRIES];
	size_t nz, nc;
};

struct thermal_priv {
	struct thermal_scan sc; /* the listing the cache was built from */
	cJSON *zones, *cooling; /* the static attributes, one object each */
	unsigned age;
	bool dirty;
};

static void add_error(cJSON *o, const char *file, int rc)
{
	char msg[128];
	snprintf(msg, sizeof(msg), "%s: %s", file, tm_strerror(rc));
	cJSON_AddStringToObject(o, "error", msg);
}

static int read_celsius(const char *root, const char *rel, double *c)
{
	int64_t v;
	int rc = tm_read_s64(root, rel, &v);
	if (rc == 0)
		*c = (double)v / 1000.0;
	return rc;
}

/* Trip points are numbered from 0 without gaps; the first one with neither
 * type nor temp ends the list. */
static void add_trips(struct thermal_priv *tp, cJSON *zone, const char *root, unsigned n)
{
	cJSON *trips = cJSON_AddArrayToObject(zone, "trips");
	char rel[REL_MAX], type[64];
	for (unsigned k = 0; trips && k < MAX_TRIPS; k++) {
		int trc = tm_read_str(root,
				      tm_relf(rel, sizeof(rel), THERMAL_DIR "/thermal_zone%u/trip_point_%u_type",
					   n, k),
				      type, sizeof(type));
		double t;
		int rc = read_celsius(root,
				      tm_relf(rel, sizeof(rel), THERMAL_DIR "/thermal_zone%u/trip_point_%u_temp",
					   n, k),
				      &t);
		if (trc == -ENOENT && rc == -ENOENT)
			break;
		cJSON *trip = cJSON_CreateObject();
		if (!trip)
			return;
		cJSON_AddItemToArray(trips, trip);
		cJSON_AddNumberToObject(trip, "trip", k);
		if (trc == 0)
			cJSON_AddStringToObject(trip, "type", type);
		if (rc == 0) {
			cJSON_AddNumberToObject(trip, "temp_celsius", t);
		} else {
			add_error(trip, "temp", rc);
			tp->dirty = true;
		}
		if (read_celsius(root,
				 tm_relf(rel, sizeof(rel), THERMAL_DIR "/thermal_zone%u/trip_point_%u_hyst", n,
				      k),
				 &t) == 0)
			cJSON_AddNumberToObject(trip, "hyst_celsius", t);
	}
}

static cJSON *zone_static(struct thermal_priv *tp, const char *root, unsigned n)
{
	cJSON *z = cJSON_CreateObject();
	if (!z)
		return NULL;
	cJSON_AddNumberToObject(z, "zone", n);
	char rel[REL_MAX], buf[64];
	if (tm_read_str(root, tm_relf(rel, sizeof(rel), THERMAL_DIR "/thermal_zone%u/type", n), buf,
			sizeof(buf)) == 0)
		cJSON_AddStringToObject(z, "type", buf);
	if (tm_read_str(root, tm_relf(rel, sizeof(rel), THERMAL_DIR "/thermal_zone%u/mode", n), buf,
			sizeof(buf)) == 0)
		cJSON_AddStringToObject(z, "mode", buf);
	add_trips(tp, z, root, n);
	return z;
}

static cJSON *cooling_static(struct thermal_priv *tp, const char *root, unsigned n)
{
	cJSON *c = cJSON_CreateObject();
	if (!c)
		return NULL;
	cJSON_AddNumberToObject(c, "device", n);
	char rel[REL_MAX], buf[64];
	if (tm_read_str(root, tm_relf(rel, sizeof(rel), THERMAL_DIR "/cooling_device%u/type", n), buf,
			sizeof(buf)) == 0)
		cJSON_AddStringToObject(c, "type", buf);
	uint64_t max;
	int rc = tm_read_u64(root, tm_relf(rel, sizeof(rel), THERMAL_DIR "/cooling_device%u/max_state", n),
			     &max);
	if (rc == 0) {
		cJSON_AddNumberToObject(c, "max_state", (double)max);
	} else {
		add_error(c, "max_state", rc);
		tp->dirty = true;
	}
	return c;
}

static void copy_item(cJSON *to, const cJSON *from, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, key);
	if (v)
		cJSON_AddItemToObject(to, key, cJSON_Duplicate(v, true));
}

/* A zone of this sample: the cached attributes and a fresh temp. */
static void add_zone(cJSON *zones, const cJSON *st, const char *root)
{
	const cJSON *nv = cJSON_GetObjectItemCaseSensitive(st, "zone");
	cJSON *z = cJSON_IsNumber(nv) ? cJSON_CreateObject() : NULL;
	if (!z)
		return;
	cJSON_AddItemToArray(zones, z);
	unsigned n = (unsigned)nv->valueint;
	cJSON_AddNumberToObject(z, "zone", n);
	copy_item(z, st, "type");
	char rel[REL_MAX];
	double t;
	int rc = read_celsius(root, tm_relf(rel, sizeof(rel), THERMAL_DIR "/thermal_zone%u/temp", n),
			      &t);
	if (rc == 0)
		cJSON_AddNumberToObject(z, "temp_celsius", t);
	else
		add_error(z, "temp", rc);
	copy_item(z, st, "mode");
	copy_item(z, st, "trips");
}

static void add_cooling(cJSON *cooling, const cJSON *st, const char *root)
{
	const cJSON *nv = cJSON_GetObjectItemCaseSensitive(st, "device");
	cJSON *c = cJSON_IsNumber(nv) ? cJSON_CreateObject() : NULL;
	if (!c)
		return;
	cJSON_AddItemToArray(cooling, c);
	unsigned n = (unsigned)nv->valueint;
	cJSON_AddNumberToObject(c, "device", n);
	copy_item(c, st, "type");
	if (cJSON_GetObjectItemCaseSensitive(st, "error")) {
		copy_item(c, st, "error");
		return;
	}
	char rel[REL_MAX];
	uint64_t cur;
	int rc = tm_read_u64(root, tm_relf(rel, sizeof(rel), THERMAL_DIR "/cooling_device%u/cur_state", n),
			     &cur);
	if (rc < 0) {
		add_error(c, "cur_state", rc);
		return;
	}
	cJSON_AddNumberToObject(c, "cur_state", (double)cur);
	copy_item(c, st, "max_state");
}

static int scan(const char *root, struct thermal_scan *sc)
{
	DIR *d = tm_opendir(root, THERMAL_DIR);
	if (!d)
		return -errno;
	struct dirent *de;
	sc->nz = sc->nc = 0;
	while ((de = readdir(d))) {
		unsigned n;
		if (tm_parse_indexed(de->d_name, "thermal_zone", &n) == 0 && sc->nz < MAX_ENTRIES)
			sc->zones[sc->nz++] = n;
		else if (tm_parse_indexed(de->d_name, "cooling_device", &n) == 0 && sc->nc < MAX_ENTRIES)
			sc->cdevs[sc->nc++] = n;
	}
	closedir(d);
	qsort(sc->zones, sc->nz, sizeof(sc->zones[0]), tm_cmp_unsigned);
	qsort(sc->cdevs, sc->nc, sizeof(sc->cdevs[0]), tm_cmp_unsigned);
	return 0;
}

static bool same_listing(const struct thermal_scan *a, const struct thermal_scan *b)
{
	return a->nz == b->nz && a->nc == b->nc &&
	       memcmp(a->zones, b->zones, a->nz * sizeof(a->zones[0])) == 0 &&
	       memcmp(a->cdevs, b->cdevs, a->nc * sizeof(a->cdevs[0])) == 0;
}

static void drop_cache(struct thermal_priv *tp)
{
	cJSON_Delete(tp->zones);
	cJSON_Delete(tp->cooling);
	tp->zones = tp->cooling = NULL;
}

static int refresh(struct thermal_priv *tp, const char *root, const struct thermal_scan *sc)
{
	drop_cache(tp);
	tp->sc = *sc;
	tp->age = 0;
	tp->dirty = false;
	tp->zones = cJSON_CreateArray();
	tp->cooling = cJSON_CreateArray();
	if (!tp->zones || !tp->cooling) {
		drop_cache(tp);
		return -ENOMEM;
	}
	for (size_t i = 0; i < sc->nz; i++)
		cJSON_AddItemToArray(tp->zones, zone_static(tp, root, sc->zones[i]));
	for (size_t i = 0; i < sc->nc; i++)
		cJSON_AddItemToArray(tp->cooling, cooling_static(tp, root, sc->cdevs[i]));
	return 0;
}

static int thermal_init(struct tm_source *s, char *reason, size_t rl)
{
	s->priv = calloc(1, sizeof(struct thermal_priv));
	if (!s->priv) {
		snprintf(reason, rl, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int thermal_sample(struct tm_source *s, uint64_t now_ns, cJSON *out, char *reason,
			  size_t rl)
{
	struct thermal_priv *tp = s->priv;
	const char *root = s->env->sysfs_root;
	struct thermal_scan sc;
	int rc = tp ? scan(root, &sc) : -EINVAL;
	if (rc < 0) {
		snprintf(reason, rl, "%s: %s (no thermal driver)", THERMAL_DIR, tm_strerror(rc));
		return rc;
	}
	if (!sc.nz && !sc.nc) {
		snprintf(reason, rl, "no thermal zones or cooling devices in %s", THERMAL_DIR);
		return -ENOENT;
	}
	if ((!tp->zones || tp->dirty || ++tp->age >= STATIC_SAMPLES || !same_listing(&sc, &tp->sc)) &&
	    refresh(tp, root, &sc) < 0) {
		snprintf(reason, rl, "out of memory");
		return -ENOMEM;
	}
	cJSON *zones = cJSON_AddArrayToObject(out, "zones");
	cJSON *cooling = cJSON_AddArrayToObject(out, "cooling");
	if (!zones || !cooling) {
		snprintf(reason, rl, "out of memory");
		return -ENOMEM;
	}
	const cJSON *st;
	cJSON_ArrayForEach(st, tp->zones)
		add_zone(zones, st, root);
	cJSON_ArrayForEach(st, tp->cooling)
		add_cooling(cooling, st, root);
	return 0;
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static void zone_metrics(const cJSON *z, struct prom *p)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(z, "zone");
	if (!cJSON_IsNumber(n))
		return;
	char zone[16];
	snprintf(zone, sizeof(zone), "%d", n->valueint);
	const char *type = str_of(z, "type");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(z, "temp_celsius");
	if (cJSON_IsNumber(t))
		prom_sample(p, "hwopt_thermal_zone_temp_celsius", t->valuedouble, "type", type, "zone",
			    zone, NULL);
	const cJSON *trip;
	cJSON_ArrayForEach(trip, cJSON_GetObjectItemCaseSensitive(z, "trips")) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(trip, "trip");
		t = cJSON_GetObjectItemCaseSensitive(trip, "temp_celsius");
		if (!cJSON_IsNumber(k) || !cJSON_IsNumber(t))
			continue;
		char kbuf[16];
		snprintf(kbuf, sizeof(kbuf), "%d", k->valueint);
		prom_sample(p, "hwopt_thermal_zone_trip_celsius", t->valuedouble, "zone", zone, "type",
			    type, "trip", kbuf, "trip_type", str_of(trip, "type"), NULL);
	}
}

static void cooling_metrics(const cJSON *c, struct prom *p)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "device");
	const cJSON *cur = cJSON_GetObjectItemCaseSensitive(c, "cur_state");
	const cJSON *max = cJSON_GetObjectItemCaseSensitive(c, "max_state");
	if (!cJSON_IsNumber(n) || !cJSON_IsNumber(cur) || !cJSON_IsNumber(max))
		return;
	char name[16];
	snprintf(name, sizeof(name), "%d", n->valueint);
	const char *type = str_of(c, "type");
	prom_sample(p, "hwopt_cooling_device_cur_state", cur->valuedouble, "name", name, "type", type,
		    NULL);
	prom_sample(p, "hwopt_cooling_device_max_state", max->valuedouble, "name", name, "type", type,
		    NULL);
}

static void thermal_metrics(const cJSON *part, struct prom *p)
{
	prom_family(p, "hwopt_thermal_zone_temp_celsius", PROM_GAUGE,
		    "Thermal zone temperature in degrees Celsius.");
	prom_family(p, "hwopt_thermal_zone_trip_celsius", PROM_GAUGE,
		    "Thermal zone trip point temperature in degrees Celsius.");
	prom_family(p, "hwopt_cooling_device_cur_state", PROM_GAUGE,
		    "Current throttle state of the cooling device.");
	prom_family(p, "hwopt_cooling_device_max_state", PROM_GAUGE,
		    "Maximum throttle state of the cooling device.");
	const cJSON *o;
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(part, "zones"))
		zone_metrics(o, p);
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(part, "cooling"))
		cooling_metrics(o, p);
}

static void thermal_fini(struct tm_source *s)
{
	if (s->priv)
		drop_cache(s->priv);
	free(s->priv);
	s->priv = NULL;
}

const struct tm_source_ops tm_thermal = {
	.name = "thermal",
	.init = thermal_init,
	.sample = thermal_sample,
	.metrics = thermal_metrics,
	.fini = thermal_fini,
};
