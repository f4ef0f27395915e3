#include "devices.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "config.h"
#include "daemon.h"
#include "log.h"

struct devices {
	struct device_cpu cpu;
	bool cpu_known;
	struct device_profile prof;
	bool matched;
};

/* --- cpuinfo ---------------------------------------------------------------- */

/* A number as cpuinfo and the profiles write them: 0x... hex, else decimal. */
static int parse_num(const char *s, uint32_t *out)
{
	while (*s == ' ' || *s == '\t')
		s++;
	int base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!isxdigit((unsigned char)*s))
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* lscpu's names of Arm implementers. */
static const char *implementer_name(int id)
{
	static const struct {
		int id;
		const char *name;
	} t[] = { { 0x41, "ARM" },	 { 0x42, "Broadcom" }, { 0x43, "Cavium" },
		  { 0x46, "Fujitsu" },	 { 0x48, "HiSilicon" }, { 0x4e, "NVIDIA" },
		  { 0x50, "APM" },	 { 0x51, "Qualcomm" }, { 0x53, "Samsung" },
		  { 0x61, "Apple" },	 { 0x6d, "Microsoft" }, { 0xc0, "Ampere" } };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].id == id)
			return t[i].name;
	return NULL;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

int device_cpuinfo_parse(const char *text, struct device_cpu *c)
{
	memset(c, 0, sizeof(*c));
	c->family = c->model = c->implementer = -1;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
		p += len + (nl ? 1 : 0);
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *val = colon + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		trim(line);
		trim(val);
		uint32_t v;
		/* x86 repeats every key per processor: the first one counts. */
		if (strcmp(line, "vendor_id") == 0 && !c->vendor[0])
			snprintf(c->vendor, sizeof(c->vendor), "%s", val);
		else if (strcmp(line, "cpu family") == 0 && c->family < 0 && parse_num(val, &v) == 0)
			c->family = (int)v;
		else if (strcmp(line, "model") == 0 && c->model < 0 && parse_num(val, &v) == 0)
			c->model = (int)v;
		else if (strcmp(line, "model name") == 0 && !c->model_name[0])
			snprintf(c->model_name, sizeof(c->model_name), "%s", val);
		else if (strcmp(line, "CPU implementer") == 0 && c->implementer < 0 &&
			 parse_num(val, &v) == 0)
			c->implementer = (int)v;
		else if (strcmp(line, "CPU part") == 0 && parse_num(val, &v) == 0) {
			size_t i = 0;
			while (i < c->n_parts && c->parts[i] != v)
				i++;
			if (i == c->n_parts && c->n_parts < DEVICE_MAX_PARTS)
				c->parts[c->n_parts++] = v;
		}
	}
	if (!c->vendor[0] && c->implementer >= 0) {
		const char *n = implementer_name(c->implementer);
		if (n)
			snprintf(c->vendor, sizeof(c->vendor), "%s", n);
		else
			snprintf(c->vendor, sizeof(c->vendor), "0x%02x", c->implementer);
	}
	if (c->model_name[0]) {
		snprintf(c->name, sizeof(c->name), "%s", c->model_name);
	} else if (c->n_parts) {
		size_t n = (size_t)snprintf(c->name, sizeof(c->name), "%s part", c->vendor);
		for (size_t i = 0; i < c->n_parts && n < sizeof(c->name); i++)
			n += (size_t)snprintf(c->name + n, sizeof(c->name) - n, "%s0x%03x", i ? "," : " ",
					      c->parts[i]);
	} else {
		snprintf(c->name, sizeof(c->name), "%s", c->vendor);
	}
	return c->vendor[0] || c->family >= 0 || c->n_parts ? 0 : -1;
}

/* --- profiles ------------------------------------------------------------- */

struct parse_ctx {
	struct device_profile *p;
	unsigned seen;        /* bit per key: a repeated key is an error */
	char reason[192];
};

/* "0xd0c, 0xd40" or "0x10-0x1f,0x61": numbers and ranges. */
static int parse_ranges(const char *value, struct device_range *r, size_t *n, char *reason,
			size_t rl)
{
	char copy[512], *save = NULL;
	if (strlen(value) >= sizeof(copy)) {
		snprintf(reason, rl, "list too long");
		return -1;
	}
	snprintf(copy, sizeof(copy), "%s", value);
	*n = 0;
	for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
		char *dash = strchr(t, '-');
		uint32_t lo, hi;
		if (dash)
			*dash = '\0';
		if (parse_num(t, &lo) < 0 || (dash && parse_num(dash + 1, &hi) < 0)) {
			snprintf(reason, rl, "'%s' is not a number or a range N-M", value);
			return -1;
		}
		if (!dash)
			hi = lo;
		if (hi < lo) {
			snprintf(reason, rl, "range %s-%s runs backwards", t, dash + 1);
			return -1;
		}
		if (*n == DEVICE_MAX_RANGES) {
			snprintf(reason, rl, "more than %d numbers or ranges", DEVICE_MAX_RANGES);
			return -1;
		}
		r[(*n)++] = (struct device_range){ lo, hi };
	}
	if (!*n) {
		snprintf(reason, rl, "empty list");
		return -1;
	}
	return 0;
}

static int set_u32(uint32_t *dst, const char *value, uint32_t min, uint32_t max, char *reason,
		   size_t rl)
{
	uint32_t v;
	if (parse_num(value, &v) < 0 || v < min || v > max) {
		snprintf(reason, rl, "'%s' is not a whole number from %u to %u", value, min, max);
		return -1;
	}
	*dst = v;
	return 0;
}

static const char *const match_keys[] = { "vendor", "family", "models", "model_name",
					  "implementer", "parts" };
static const char *const tuning_keys[] = { "threads_per_instance", "max_batch", "batch_delay_us" };
#define N_MATCH_KEYS (sizeof(match_keys) / sizeof(match_keys[0]))
#define N_TUNING_KEYS (sizeof(tuning_keys) / sizeof(tuning_keys[0]))

static int key_index(const char *section, const char *name)
{
	if (strcmp(section, "match") == 0) {
		for (size_t i = 0; i < N_MATCH_KEYS; i++)
			if (strcmp(match_keys[i], name) == 0)
				return (int)i;
	} else if (strcmp(section, "tuning") == 0) {
		for (size_t i = 0; i < N_TUNING_KEYS; i++)
			if (strcmp(tuning_keys[i], name) == 0)
				return (int)(N_MATCH_KEYS + i);
	}
	return -1;
}

static int set_key(struct device_profile *p, int k, const char *value, char *reason, size_t rl)
{
	uint32_t v;
	switch (k) {
	case 0: /* vendor */
		if (!*value || strlen(value) >= sizeof(p->vendor)) {
			snprintf(reason, rl, "must be 1 to %zu characters", sizeof(p->vendor) - 1);
			return -1;
		}
		snprintf(p->vendor, sizeof(p->vendor), "%s", value);
		return 0;
	case 1: /* family */
		if (parse_num(value, &v) < 0 || v > 0xffff) {
			snprintf(reason, rl, "'%s' is not a family number", value);
			return -1;
		}
		p->family = (int)v;
		return 0;
	case 2:
		return parse_ranges(value, p->models, &p->n_models, reason, rl);
	case 3: /* model_name */
		if (!*value || strlen(value) >= sizeof(p->model_name)) {
			snprintf(reason, rl, "must be 1 to %zu characters", sizeof(p->model_name) - 1);
			return -1;
		}
		snprintf(p->model_name, sizeof(p->model_name), "%s", value);
		return 0;
	case 4: /* implementer */
		if (parse_num(value, &v) < 0 || v > 0xff) {
			snprintf(reason, rl, "'%s' is not an implementer code (0x00 to 0xff)", value);
			return -1;
		}
		p->implementer = (int)v;
		return 0;
	case 5:
		return parse_ranges(value, p->parts, &p->n_parts, reason, rl);
	case 6:
		p->tuning.set |= MODEL_SET_THREADS;
		return set_u32(&p->tuning.threads_per_instance, value, 1, 1024, reason, rl);
	case 7:
		p->tuning.set |= MODEL_SET_MAX_BATCH;
		return set_u32(&p->tuning.max_batch, value, 1, 4096, reason, rl);
	case 8:
		p->tuning.set |= MODEL_SET_BATCH_DELAY;
		return set_u32(&p->tuning.batch_delay_us, value, 0, 1000000, reason, rl);
	}
	return -1;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;
	if (strcmp(section, "match") != 0 && strcmp(section, "tuning") != 0) {
		snprintf(c->reason, sizeof(c->reason),
			 *section ? "[%s]: unknown section (profiles have [match] and [tuning])"
				  : "%skey outside a section",
			 section);
		return 0;
	}
	int k = key_index(section, name);
	if (k < 0) {
		snprintf(c->reason, sizeof(c->reason), "[%s] %s: unknown key", section, name);
		return 0;
	}
	if (c->seen & (1u << k)) {
		snprintf(c->reason, sizeof(c->reason), "[%s] %s: given twice", section, name);
		return 0;
	}
	c->seen |= 1u << k;
	char why[160];
	if (set_key(c->p, k, value, why, sizeof(why)) < 0) {
		snprintf(c->reason, sizeof(c->reason), "[%s] %s: %s", section, name, why);
		return 0;
	}
	return 1;
}

struct headers {
	int match_line, tuning_line;
	char *name;
	size_t namelen;
};

static int header(void *ctx, const char *name, int line)
{
	struct headers *h = ctx;
	if (strcmp(name, "match") == 0)
		h->match_line = h->match_line ? h->match_line : line;
	else if (strcmp(name, "tuning") == 0)
		h->tuning_line = h->tuning_line ? h->tuning_line : line;
	else {
		snprintf(h->name, h->namelen, "%s", name);
		return line;
	}
	return 0;
}

/* inih calls back for keys only: section headers get a pass of their own.
 * Returns the line of an unknown header (0: none) and where [match] and
 * [tuning] start. */
static int check_headers(FILE *f, int *match_line, int *tuning_line, char *name, size_t namelen)
{
	struct headers h = { 0, 0, name, namelen };
	int bad = config_ini_headers(f, header, &h);
	*match_line = h.match_line;
	*tuning_line = h.tuning_line;
	return bad;
}

int device_profile_read(const char *path, struct device_profile *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->family = p->implementer = -1;
	snprintf(p->path, sizeof(p->path), "%s", path);
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".conf") == 0)
		len -= 5;
	if (len == 0 || len >= sizeof(p->name)) {
		snprintf(err, errlen, "%s: the name must be 1 to %d characters before .conf", path,
			 DEVICE_NAME_MAX - 1);
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%.*s", (int)len, base);

	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct parse_ctx c = { .p = p };
	int line = ini_parse_file(f, on_entry, &c);
	int match_line = 0, tuning_line = 0;
	char section[128] = "";
	int bad = line == 0 ? check_headers(f, &match_line, &tuning_line, section, sizeof(section))
			    : 0;
	fclose(f);
	if (line < 0) {
		snprintf(err, errlen, "%s: out of memory while parsing", path);
		return -1;
	}
	if (line > 0) {
		snprintf(err, errlen, "%s:%d: %s", path, line,
			 c.reason[0] ? c.reason : "syntax error (expected [section] or key = value)");
		return -1;
	}
	if (bad) {
		snprintf(err, errlen, "%s:%d: [%s]: unknown section (profiles have [match] and "
			 "[tuning])", path, bad, section);
		return -1;
	}
	/* A profile that would match every CPU, or tune nothing, is a mistake. */
	bool any_match = false;
	for (size_t i = 0; i < N_MATCH_KEYS; i++)
		any_match |= (c.seen >> i) & 1u;
	if (!any_match) {
		snprintf(err, errlen, "%s:%d: [match] names no CPU (vendor, family, models, "
			 "model_name, implementer or parts)", path, match_line ? match_line : 1);
		return -1;
	}
	if (!p->tuning.set) {
		snprintf(err, errlen, "%s:%d: [tuning] sets nothing (threads_per_instance, max_batch "
			 "or batch_delay_us)", path, tuning_line ? tuning_line : 1);
		return -1;
	}
	return 0;
}

static bool in_ranges(const struct device_range *r, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (v >= r[i].lo && v <= r[i].hi)
			return true;
	return false;
}

int device_profile_match(const struct device_profile *p, const struct device_cpu *c)
{
	int score = 0;
	if (p->vendor[0]) {
		if (strcasecmp(p->vendor, c->vendor) != 0)
			return 0;
		score++;
	}
	if (p->family >= 0) {
		if (p->family != c->family)
			return 0;
		score++;
	}
	if (p->n_models) {
		if (c->model < 0 || !in_ranges(p->models, p->n_models, (uint32_t)c->model))
			return 0;
		score++;
	}
	if (p->model_name[0]) {
		if (!strcasestr(c->model_name, p->model_name))
			return 0;
		score++;
	}
	if (p->implementer >= 0) {
		if (p->implementer != c->implementer)
			return 0;
		score++;
	}
	if (p->n_parts) {
		/* Every kind of core there is must be listed: a profile for a
		 * server core says nothing of a big.LITTLE mix that has one. */
		if (!c->n_parts)
			return 0;
		for (size_t i = 0; i < c->n_parts; i++)
			if (!in_ranges(p->parts, p->n_parts, c->parts[i]))
				return 0;
		score++;
	}
	return score;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int devices_match_dir(const char *dir, const struct device_cpu *c, struct device_profile *out)
{
	DIR *dp = opendir(dir);
	if (!dp) {
		if (errno == ENOENT || errno == ENOTDIR)
			log_info("device profiles: no directory %s; none applies", dir);
		else
			log_warning("device profiles: cannot read %s: %s", dir, strerror(errno));
		return 0;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(dp))) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len <= 5 || strcmp(e->d_name + len - 5, ".conf") != 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nn = realloc(names, nc * sizeof(*nn));
			if (!nn)
				break;
			names = nn;
			cap = nc;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(dp);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);

	struct device_profile *p = malloc(sizeof(*p));
	int best = 0;
	char others[512] = ""; /* the other matching profiles, for the log */
	size_t ol = 0;
	for (size_t i = 0; p && i < n; i++) {
		char path[PATH_MAX], err[PATH_MAX + 256];
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path))
			continue;
		if (device_profile_read(path, p, err, sizeof(err)) < 0) {
			log_warning("device profile skipped: %s", err);
			continue;
		}
		int score = device_profile_match(p, c);
		if (!score)
			continue;
		/* The most specific wins; of equals, the first in sort order. */
		const char *loser = score > best ? (best ? out->name : NULL) : p->name;
		if (loser && ol < sizeof(others))
			ol += (size_t)snprintf(others + ol, sizeof(others) - ol, "%s%s", ol ? ", " : "",
					       loser);
		if (score > best) {
			*out = *p;
			best = score;
		}
	}
	if (best && ol)
		log_info("device profiles %s also match this CPU; %s matches more closely or sorts "
			 "first", others, out->name);
	free(p);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return best > 0;
}

/* --- the daemon's ------------------------------------------------------------ */

/* /proc files say they are empty: read to the end. */
static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = 0, cap = 16384;
	char *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
		if (cap - n - 1 == 0 && cap < (64u << 20)) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		} else if (cap - n - 1 == 0) {
			break;
		}
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static void log_tuning(const struct device_profile *p, const char *cpu)
{
	char t[160];
	size_t n = 0;
	const struct device_tuning *tu = &p->tuning;
	t[0] = '\0';
	if (tu->set & MODEL_SET_THREADS)
		n += (size_t)snprintf(t + n, sizeof(t) - n, "threads_per_instance %u",
				      tu->threads_per_instance);
	if ((tu->set & MODEL_SET_MAX_BATCH) && n < sizeof(t))
		n += (size_t)snprintf(t + n, sizeof(t) - n, "%smax_batch %u", n ? ", " : "",
				      tu->max_batch);
	if ((tu->set & MODEL_SET_BATCH_DELAY) && n < sizeof(t))
		snprintf(t + n, sizeof(t) - n, "%sbatch_delay_us %u", n ? ", " : "", tu->batch_delay_us);
	log_info("device profile %s (%s) matches this CPU (%s): %s for models that leave them unset",
		 p->name, p->path, cpu, t);
}

int devices_load(struct hwoptd *d)
{
	struct devices *dv = calloc(1, sizeof(*dv));
	if (!dv)
		return -ENOMEM;
	d->dev = dv;
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/cpuinfo", d->cfg.procfs_root);
	char *text = read_all(path);
	if (!text) {
		log_info("device profiles: cannot read %s (%s); none applies", path, strerror(errno));
		return 0;
	}
	dv->cpu_known = device_cpuinfo_parse(text, &dv->cpu) == 0;
	free(text);
	if (!dv->cpu_known) {
		log_info("device profiles: %s names no CPU vendor, family or part; none applies", path);
		return 0;
	}
	dv->matched = devices_match_dir(d->cfg.devices_dir, &dv->cpu, &dv->prof) == 1;
	if (dv->matched)
		log_tuning(&dv->prof, dv->cpu.name);
	else
		log_info("device profiles: none in %s matches this CPU (%s)", d->cfg.devices_dir,
			 dv->cpu.name);
	return 0;
}

void devices_free(struct hwoptd *d)
{
	free(d->dev);
	d->dev = NULL;
}

const struct device_profile *devices_profile(const struct hwoptd *d)
{
	return d->dev && d->dev->matched ? &d->dev->prof : NULL;
}

const char *devices_cpu_name(const struct hwoptd *d)
{
	return d->dev && d->dev->cpu_known ? d->dev->cpu.name : "";
}

static cJSON *tuning_json(const struct device_tuning *t)
{
	cJSON *o = cJSON_CreateObject();
	if (t->set & MODEL_SET_THREADS)
		cJSON_AddNumberToObject(o, "threads_per_instance", t->threads_per_instance);
	if (t->set & MODEL_SET_MAX_BATCH)
		cJSON_AddNumberToObject(o, "max_batch", t->max_batch);
	if (t->set & MODEL_SET_BATCH_DELAY)
		cJSON_AddNumberToObject(o, "batch_delay_us", t->batch_delay_us);
	return o;
}

cJSON *devices_json(const struct hwoptd *d)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "devices_dir", d->cfg.devices_dir);
	const struct devices *dv = d->dev;
	if (dv && dv->cpu_known) {
		const struct device_cpu *c = &dv->cpu;
		cJSON *cj = cJSON_AddObjectToObject(o, "cpu");
		cJSON_AddStringToObject(cj, "name", c->name);
		cJSON_AddStringToObject(cj, "vendor", c->vendor);
		if (c->family >= 0)
			cJSON_AddNumberToObject(cj, "family", c->family);
		if (c->model >= 0)
			cJSON_AddNumberToObject(cj, "model", c->model);
		if (c->implementer >= 0) {
			char hex[16];
			snprintf(hex, sizeof(hex), "0x%02x", c->implementer);
			cJSON_AddStringToObject(cj, "implementer", hex);
		}
		if (c->n_parts) {
			cJSON *pa = cJSON_AddArrayToObject(cj, "parts");
			for (size_t i = 0; i < c->n_parts; i++) {
				char hex[16];
				snprintf(hex, sizeof(hex), "0x%03x", c->parts[i]);
				cJSON_AddItemToArray(pa, cJSON_CreateString(hex));
			}
		}
	} else {
		cJSON_AddNullToObject(o, "cpu");
	}
	if (dv && dv->matched) {
		cJSON *p = cJSON_AddObjectToObject(o, "profile");
		cJSON_AddStringToObject(p, "name", dv->prof.name);
		cJSON_AddStringToObject(p, "path", dv->prof.path);
		cJSON_AddItemToObject(p, "tuning", tuning_json(&dv->prof.tuning));
	} else {
		cJSON_AddNullToObject(o, "profile");
	}
	return o;
}
