#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "runtime/hwrt.h"

enum key_type { K_PATH, K_SOCKET, K_GROUP, K_LEVEL, K_U32, K_SIZE, K_SOURCES, K_LISTEN, K_EVENTS };

struct key_def {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	uint64_t min, max;
	bool restart; /* takes effect only at restart */
};

#define OFF(f) offsetof(struct hwoptd_config, f)
static const struct key_def keys[] = {
	{ "daemon", "socket", K_SOCKET, OFF(socket), 0, 0, true },
	{ "daemon", "socket_group", K_GROUP, OFF(socket_group), 0, 0, true },
	{ "daemon", "admin_group", K_GROUP, OFF(admin_group), 0, 0, false },
	{ "daemon", "submit_group", K_GROUP, OFF(submit_group), 0, 0, false },
	{ "daemon", "state_dir", K_PATH, OFF(state_dir), 0, 0, true },
	{ "daemon", "devices_dir", K_PATH, OFF(devices_dir), 0, 0, true },
	{ "daemon", "log_level", K_LEVEL, OFF(log_level), 0, 0, false },
	{ "daemon", "max_connections", K_U32, OFF(max_connections), 1, 65536, false },
	{ "daemon", "max_line_bytes", K_SIZE, OFF(max_line_bytes), 4096, 1ull << 30, false },
	{ "daemon", "max_queued_bytes", K_SIZE, OFF(max_queued_bytes), 64 << 10, 1ull << 30, false },
	{ "daemon", "shutdown_grace_ms", K_U32, OFF(shutdown_grace_ms), 0, 600000, false },
	{ "scheduler", "workers", K_U32, OFF(workers), 0, 1024, true },
	{ "scheduler", "spin_us", K_U32, OFF(spin_us), 0, 100000, false },
	{ "scheduler", "max_queue", K_U32, OFF(max_queue), 1, 1000000, false },
	{ "scheduler", "max_client_jobs", K_U32, OFF(max_client_jobs), 1, 1000000, false },
	{ "scheduler", "batch_age_ms", K_U32, OFF(batch_age_ms), 0, 3600000, false },
	{ "scheduler", "max_tensor_bytes", K_SIZE, OFF(max_tensor_bytes), 1024, 1ull << 36, false },
	{ "scheduler", "max_models", K_U32, OFF(max_models), 1, 1024, false },
	{ "pools", "pool_quota", K_SIZE, OFF(pool_quota), 0, 1ull << 40, false },
	{ "pools", "pool_max_total", K_SIZE, OFF(pool_max_total), 0, 1ull << 40, false },
	{ "telemetry", "sysfs_root", K_PATH, OFF(sysfs_root), 0, 0, true },
	{ "telemetry", "procfs_root", K_PATH, OFF(procfs_root), 0, 0, true },
	{ "telemetry", "interval_ms", K_U32, OFF(interval_ms), 100, 3600000, true },
	{ "telemetry", "history", K_U32, OFF(history), 1, 100000, true },
	{ "telemetry", "sources", K_SOURCES, OFF(sources), 0, 0, true },
	{ "telemetry", "perf_events", K_EVENTS, OFF(perf_events), 0, 0, true },
	{ "metrics", "listen", K_LISTEN, OFF(metrics_listen), 0, 0, true },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

void config_defaults(struct hwoptd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->socket_gid = (gid_t)-1;
	c->admin_gid = (gid_t)-1;
	c->log_level = LOG_LVL_INFO;
	c->max_connections = 1024;
	c->max_line_bytes = 1u << 20;
	c->max_queued_bytes = 16u << 20;
	c->shutdown_grace_ms = 5000;
	c->submit_gid = (gid_t)-1;
	c->spin_us = 50;
	c->max_queue = 4096;
	c->max_client_jobs = 1024;
	c->batch_age_ms = 1000;
	c->max_tensor_bytes = 1ull << 30;
	c->max_models = 64;
	c->pool_quota = 1ull << 30;
	c->pool_max_total = 8ull << 30;
	snprintf(c->sysfs_root, sizeof(c->sysfs_root), "/sys");
	snprintf(c->procfs_root, sizeof(c->procfs_root), "/proc");
	c->interval_ms = 1000;
	c->history = 600;
	snprintf(c->sources, sizeof(c->sources), "all");
	snprintf(c->metrics_listen, sizeof(c->metrics_listen), "127.0.0.1:9477");
	pol_config_defaults(&c->pol);

	uid_t uid = geteuid();
	const char *xdg_run = getenv("XDG_RUNTIME_DIR");
	const char *xdg_state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	if (uid == 0)
		snprintf(c->socket, sizeof(c->socket), "/run/hwoptd/hwoptd.sock");
	else if (xdg_run && *xdg_run)
		snprintf(c->socket, sizeof(c->socket), "%s/hwoptd/hwoptd.sock", xdg_run);
	else
		snprintf(c->socket, sizeof(c->socket), "/tmp/hwoptd-%u/hwoptd.sock", (unsigned)uid);
	if (uid == 0)
		snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/hwoptd");
	else if (xdg_state && *xdg_state)
		snprintf(c->state_dir, sizeof(c->state_dir), "%s/hwoptd", xdg_state);
	else
		snprintf(c->state_dir, sizeof(c->state_dir), "%s/.local/state/hwoptd",
			 home && *home ? home : "/tmp");
}

int config_parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	unsigned shift = 0;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		default: return -EINVAL;
		}
		end++;
		if (strcasecmp(end, "iB") == 0 || strcasecmp(end, "B") == 0)
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_group(char *name, gid_t *gid, const char *value, char *reason, size_t rl)
{
	if (!*value) {
		name[0] = '\0';
		*gid = (gid_t)-1;
		return 0;
	}
	if (strlen(value) >= CONFIG_GROUP_MAX) {
		snprintf(reason, rl, "group name too long");
		return -EINVAL;
	}
	struct group gr, *res = NULL;
	char buf[16384];
	int rc = getgrnam_r(value, &gr, buf, sizeof(buf), &res);
	if (rc != 0 || !res) {
		/* A numeric gid is accepted for groups without a name here. */
		uint64_t n;
		if (parse_u64(value, &n) == 0 && n < (gid_t)-1) {
			snprintf(name, CONFIG_GROUP_MAX, "%s", value);
			*gid = (gid_t)n;
			return 0;
		}
		snprintf(reason, rl, "no such group '%s'", value);
		return -EINVAL;
	}
	snprintf(name, CONFIG_GROUP_MAX, "%s", value);
	*gid = res->gr_gid;
	return 0;
}

bool config_model_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= CONFIG_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

static int parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v != v)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_u32(uint32_t *dst, const char *value, uint64_t min, uint64_t max, char *reason,
		   size_t rl)
{
	uint64_t v;
	if (parse_u64(value, &v) < 0) {
		snprintf(reason, rl, "'%s' is not a whole number", value);
		return -EINVAL;
	}
	if (v < min || v > max) {
		snprintf(reason, rl, "%" PRIu64 " is outside %" PRIu64 "..%" PRIu64, v, min, max);
		return -EINVAL;
	}
	*dst = (uint32_t)v;
	return 0;
}

/* One key of a [model NAME] section. */
static int set_model_key(struct model_conf *m, const char *key, const char *value, char *reason,
			 size_t rl)
{
	if (strcmp(key, "path") == 0) {
		if (value[0] != '/') {
			snprintf(reason, rl, "must be an absolute path");
			return -EINVAL;
		}
		if (strlen(value) >= sizeof(m->path)) {
			snprintf(reason, rl, "path too long");
			return -EINVAL;
		}
		snprintf(m->path, sizeof(m->path), "%s", value);
		return 0;
	}
	if (strcmp(key, "precision") == 0) {
		enum hwrt_precision p;
		if (hwrt_precision_parse(value, &p) < 0) {
			snprintf(reason, rl, "'%s' is not one of fp32, bf16, int8, int4", value);
			return -EINVAL;
		}
		snprintf(m->precision, sizeof(m->precision), "%s", hwrt_precision_name(p));
		return 0;
	}
	if (strcmp(key, "keep_fp32") == 0) {
		if (strlen(value) >= sizeof(m->keep_fp32)) {
			snprintf(reason, rl, "longer than %zu bytes", sizeof(m->keep_fp32) - 1);
			return -EINVAL;
		}
		snprintf(m->keep_fp32, sizeof(m->keep_fp32), "%s", value);
		return 0;
	}
	if (strcmp(key, "min_cosine") == 0) {
		if (parse_double(value, &m->min_cosine) < 0 || m->min_cosine > 1) {
			snprintf(reason, rl, "'%s' is not a number at most 1", value);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "instances") == 0)
		return set_u32(&m->instances, value, 1, 64, reason, rl);
	/* Keys given are marked: those left out come from the device profile
	 * or autotuning (models_load). */
	int rc = -ENOENT;
	uint8_t bit = 0;
	if (strcmp(key, "threads_per_instance") == 0) {
		rc = set_u32(&m->threads_per_instance, value, 0, 1024, reason, rl);
		bit = MODEL_SET_THREADS;
	} else if (strcmp(key, "max_batch") == 0) {
		rc = set_u32(&m->max_batch, value, 1, 4096, reason, rl);
		bit = MODEL_SET_MAX_BATCH;
	} else if (strcmp(key, "batch_delay_us") == 0) {
		rc = set_u32(&m->batch_delay_us, value, 0, 1000000, reason, rl);
		bit = MODEL_SET_BATCH_DELAY;
	}
	if (bit) {
		if (rc == 0)
			m->set |= bit;
		return rc;
	}
	snprintf(reason, rl, "unknown key");
	return -ENOENT;
}

void config_model_defaults(struct model_conf *m, const char *name)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->precision, sizeof(m->precision), "fp32");
	m->instances = 1;
	m->max_batch = 1;
	m->batch_delay_us = 500;
}

/* The [model NAME] section called name, made on first sight. */
static struct model_conf *model_section(struct hwoptd_config *c, const char *name, char *reason,
					size_t rl)
{
	for (size_t i = 0; i < c->n_models; i++)
		if (strcmp(c->models[i].name, name) == 0)
			return &c->models[i];
	if (!config_model_name_ok(name)) {
		snprintf(reason, rl, "model names are 1 to 64 of A-Z a-z 0-9 _ . -");
		return NULL;
	}
	if (c->n_models == CONFIG_MAX_MODELS) {
		snprintf(reason, rl, "more than %d [model] sections", CONFIG_MAX_MODELS);
		return NULL;
	}
	struct model_conf *m = &c->models[c->n_models++];
	config_model_defaults(m, name);
	return m;
}

/* [telemetry] sources: "all" or a comma-separated list of known names. */
static int set_sources(char *dst, const char *value, char *reason, size_t rl)
{
	if (strlen(value) >= CONFIG_SOURCES_MAX) {
		snprintf(reason, rl, "longer than %d bytes", CONFIG_SOURCES_MAX - 1);
		return -EINVAL;
	}
	if (strcmp(value, "all") != 0) {
		char copy[CONFIG_SOURCES_MAX], *save = NULL;
		snprintf(copy, sizeof(copy), "%s", value);
		for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
			if (config_source_index(t) < 0) {
				snprintf(reason, rl, "'%s' is not a telemetry source (%s)", t,
					 CONFIG_SOURCE_NAMES);
				return -EINVAL;
			}
	}
	snprintf(dst, CONFIG_SOURCES_MAX, "%s", value);
	return 0;
}

int config_source_index(const char *name)
{
	static const char *const names[] = { CONFIG_SOURCE_LIST };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

bool config_source_enabled(const struct hwoptd_config *c, const char *name)
{
	if (strcmp(c->sources, "all") == 0)
		return true;
	char copy[CONFIG_SOURCES_MAX], *save = NULL;
	snprintf(copy, sizeof(copy), "%s", c->sources);
	for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		if (strcmp(t, name) == 0)
			return true;
	return false;
}

/* [metrics] listen: empty (off), an absolute socket path, HOST:PORT or
 * [V6]:PORT. */
int config_parse_listen(const char *v, struct config_listen *out)
{
	memset(out, 0, sizeof(*out));
	if (!*v)
		return 0;
	if (v[0] == '/') {
		if (strlen(v) >= CONFIG_SOCKET_MAX)
			return -ENAMETOOLONG;
		out->kind = LISTEN_UNIX;
		snprintf(out->path, sizeof(out->path), "%s", v);
		return 0;
	}
	const char *colon = strrchr(v, ':');
	if (!colon || colon == v)
		return -EINVAL;
	size_t hl = (size_t)(colon - v);
	if (v[0] == '[') {
		if (hl < 3 || v[hl - 1] != ']')
			return -EINVAL;
		snprintf(out->host, sizeof(out->host), "%.*s", (int)(hl - 2), v + 1);
	} else {
		if (memchr(v, ':', hl))
			return -EINVAL; /* a bare IPv6 address needs brackets */
		snprintf(out->host, sizeof(out->host), "%.*s", (int)hl, v);
	}
	uint64_t port;
	if (hl >= sizeof(out->host) || parse_u64(colon + 1, &port) < 0 || port > 65535)
		return -EINVAL;
	out->port = (uint16_t)port;
	out->kind = LISTEN_TCP;
	return 0;
}

static int set_listen(char *dst, const char *value, char *reason, size_t rl)
{
	struct config_listen l;
	if (strlen(value) >= CONFIG_SOCKET_MAX || config_parse_listen(value, &l) < 0) {
		snprintf(reason, rl, "'%s' is not HOST:PORT, [IPV6]:PORT, an absolute socket path "
			 "or empty", value);
		return -EINVAL;
	}
	snprintf(dst, CONFIG_SOCKET_MAX, "%s", value);
	return 0;
}

/* [telemetry] perf_events: libpfm4 names (checked when the PMU opens). */
static int set_events(char *dst, const char *value, char *reason, size_t rl)
{
	if (strlen(value) >= CONFIG_EVENTS_MAX) {
		snprintf(reason, rl, "longer than %d bytes", CONFIG_EVENTS_MAX - 1);
		return -EINVAL;
	}
	for (const char *p = value; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_-:.=,/ ", *p)) {
			snprintf(reason, rl, "'%c' cannot be part of an event name", *p);
			return -EINVAL;
		}
	snprintf(dst, CONFIG_EVENTS_MAX, "%s", value);
	return 0;
}

static const struct key_def *find_key(const char *section, const char *key)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, key) == 0)
			return &keys[i];
	return NULL;
}

static bool known_section(const char *section)
{
	if (strncmp(section, "model ", 6) == 0 || pol_config_section(section))
		return true;
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0)
			return true;
	return false;
}

int config_set(struct hwoptd_config *c, const char *section, const char *key,
	       const char *value, char *reason, size_t rl)
{
	if (!known_section(section)) {
		snprintf(reason, rl, *section ? "unknown section" : "key outside a section");
		return -ENOENT;
	}
	if (strncmp(section, "model ", 6) == 0) {
		struct model_conf *m = model_section(c, section + 6, reason, rl);
		return m ? set_model_key(m, key, value, reason, rl) : -EINVAL;
	}
	if (pol_config_section(section))
		return pol_config_set(&c->pol, section, key, value, reason, rl);
	const struct key_def *k = find_key(section, key);
	if (!k) {
		snprintf(reason, rl, "unknown key");
		return -ENOENT;
	}
	char *base = (char *)c;
	uint64_t v;
	switch (k->type) {
	case K_SOCKET:
	case K_PATH: {
		size_t cap = k->type == K_SOCKET ? CONFIG_SOCKET_MAX : PATH_MAX;
		if (*value && value[0] != '/') {
			snprintf(reason, rl, "must be an absolute path");
			return -EINVAL;
		}
		if (strlen(value) >= cap) {
			snprintf(reason, rl, "path longer than %zu bytes", cap - 1);
			return -EINVAL;
		}
		if (!*value) /* empty: keep the default */
			return 0;
		snprintf(base + k->offset, cap, "%s", value);
		return 0;
	}
	case K_SOURCES:
		return set_sources(base + k->offset, value, reason, rl);
	case K_LISTEN:
		return set_listen(base + k->offset, value, reason, rl);
	case K_EVENTS:
		return set_events(base + k->offset, value, reason, rl);
	case K_GROUP:
		return set_group(base + k->offset,
				 k->offset == OFF(socket_group)  ? &c->socket_gid
				 : k->offset == OFF(admin_group) ? &c->admin_gid
								 : &c->submit_gid,
				 value, reason, rl);
	case K_LEVEL:
		if (log_level_parse(value, &c->log_level) < 0) {
			snprintf(reason, rl, "'%s' is not one of error, warning, info, debug", value);
			return -EINVAL;
		}
		return 0;
	case K_U32:
	case K_SIZE:
		if ((k->type == K_SIZE ? config_parse_size(value, &v) : parse_u64(value, &v)) < 0) {
			snprintf(reason, rl, "'%s' is not %s", value,
				 k->type == K_SIZE ? "a size (e.g. 4096, 64K, 1M)" : "a whole number");
			return -EINVAL;
		}
		if (v < k->min || v > k->max) {
			snprintf(reason, rl, "%" PRIu64 " is outside %" PRIu64 "..%" PRIu64, v, k->min,
				 k->max);
			return -EINVAL;
		}
		if (k->type == K_SIZE)
			*(uint64_t *)(base + k->offset) = v;
		else
			*(uint32_t *)(base + k->offset) = (uint32_t)v;
		return 0;
	}
	return -EINVAL;
}

struct parse_ctx {
	struct hwoptd_config *cfg;
	uint64_t seen; /* bit per key: a repeated key is an error */
	uint64_t model_seen[CONFIG_MAX_MODELS]; /* bit per model key */
	bool failed;
	char section[64];
	char key[64];
	char reason[256];
	char pol_seen[160][80]; /* "section.key" of the policy sections */
	size_t n_pol_seen;
};

static bool repeated(struct parse_ctx *p, const char *section, const char *name)
{
	static const char *const model_keys[] = { "path", "precision", "keep_fp32", "min_cosine",
						  "instances", "threads_per_instance",
						  "max_batch", "batch_delay_us" };
	uint64_t *seen = &p->seen, bit = 0;
	if (pol_config_section(section)) {
		char k[80];
		snprintf(k, sizeof(k), "%s.%.60s", section, name);
		for (size_t i = 0; i < p->n_pol_seen; i++)
			if (strcmp(p->pol_seen[i], k) == 0)
				return true;
		if (p->n_pol_seen < sizeof(p->pol_seen) / sizeof(p->pol_seen[0]))
			memcpy(p->pol_seen[p->n_pol_seen++], k, sizeof(k));
		return false;
	}
	if (strncmp(section, "model ", 6) == 0) {
		for (size_t i = 0; i < p->cfg->n_models; i++)
			if (strcmp(p->cfg->models[i].name, section + 6) == 0)
				seen = &p->model_seen[i];
		for (size_t i = 0; i < sizeof(model_keys) / sizeof(model_keys[0]); i++)
			if (strcmp(model_keys[i], name) == 0)
				bit = 1ull << i;
	} else {
		const struct key_def *k = find_key(section, name);
		bit = k ? 1ull << (k - keys) : 0;
	}
	bool again = (*seen & bit) != 0;
	*seen |= bit;
	return again;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *p = user;
	if (p->failed)
		return 0;
	int rc = config_set(p->cfg, section, name, value, p->reason, sizeof(p->reason));
	if (rc == 0 && repeated(p, section, name)) {
		snprintf(p->reason, sizeof(p->reason), "key given twice");
		rc = -EINVAL;
	}
	if (rc < 0) {
		p->failed = true;
		snprintf(p->section, sizeof(p->section), "%s", section);
		snprintf(p->key, sizeof(p->key), "%s", name);
		return 0;
	}
	return 1;
}

int config_ini_headers(FILE *f, int (*fn)(void *ctx, const char *name, int line), void *ctx)
{
	char line[4096];
	int n = 0;
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		n++;
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '[')
			continue;
		char *end = strchr(p, ']');
		if (!end)
			continue; /* inih reports the syntax error */
		*end = '\0';
		int rc = fn(ctx, p + 1, n);
		if (rc)
			return rc;
	}
	return 0;
}

struct section_check {
	const char *path;
	char *err;
	size_t errlen;
};

static int unknown_section(void *ctx, const char *name, int line)
{
	struct section_check *c = ctx;
	if (known_section(name))
		return 0;
	snprintf(c->err, c->errlen, "%s:%d: [%s]: unknown section", c->path, line, name);
	return -EINVAL;
}

/* inih calls back only for keys, so an empty unknown section would pass
 * unseen; headers are checked in a pass of their own. */
static int check_sections(FILE *f, const char *path, char *err, size_t errlen)
{
	struct section_check c = { path, err, errlen };
	return config_ini_headers(f, unknown_section, &c);
}

int config_load(const char *path, const struct config_override *ov, size_t n_ov,
		struct hwoptd_config *out, char *err, size_t errlen)
{
	struct hwoptd_config c;
	config_defaults(&c);

	if (path) {
		struct parse_ctx p = { .cfg = &c };
		FILE *f = fopen(path, "r");
		if (!f) {
			int e = errno;
			snprintf(err, errlen, "%s: %s", path, strerror(e));
			return -e;
		}
		int line = ini_parse_file(f, on_entry, &p);
		if (line == 0 && check_sections(f, path, err, errlen) < 0) {
			fclose(f);
			return -EINVAL;
		}
		fclose(f);
		if (line != 0) {
			if (line < 0)
				snprintf(err, errlen, "%s: out of memory while parsing", path);
			else if (p.failed)
				snprintf(err, errlen, "%s:%d: [%s] %s: %s", path, line, p.section, p.key,
					 p.reason);
			else
				snprintf(err, errlen, "%s:%d: syntax error (expected [section] or key = value)",
					 path, line);
			return -EINVAL;
		}
	}
	/* Device profiles: beside the config file, else the system's. */
	if (!c.devices_dir[0]) {
		const char *slash = path ? strrchr(path, '/') : NULL;
		if (!path)
			snprintf(c.devices_dir, sizeof(c.devices_dir), "/etc/hwoptd/devices");
		else if (!slash)
			snprintf(c.devices_dir, sizeof(c.devices_dir), "devices");
		else
			snprintf(c.devices_dir, sizeof(c.devices_dir), "%.*s/devices",
				 (int)(slash - path), path);
	}
	for (size_t i = 0; i < c.n_models; i++)
		if (!c.models[i].path[0]) {
			snprintf(err, errlen, "%s: [model %s] path: missing; every model needs one",
				 path ? path : "command line", c.models[i].name);
			return -EINVAL;
		}
	for (size_t i = 0; i < n_ov; i++) {
		char reason[256];
		if (config_set(&c, ov[i].section ? ov[i].section : "daemon", ov[i].key, ov[i].value,
			       reason, sizeof(reason)) < 0) {
			snprintf(err, errlen, "command line: %s: %s", ov[i].key, reason);
			return -EINVAL;
		}
	}
	char why[256];
	if (pol_config_check(&c.pol, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", path ? path : "command line", why);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

static cJSON *key_json(const struct hwoptd_config *c, const struct key_def *k)
{
	const char *base = (const char *)c;
	switch (k->type) {
	case K_SOCKET:
	case K_PATH:
	case K_GROUP:
	case K_SOURCES:
	case K_LISTEN:
	case K_EVENTS:
		return cJSON_CreateString(base + k->offset);
	case K_LEVEL:
		return cJSON_CreateString(log_level_name(c->log_level));
	case K_U32:
		return cJSON_CreateNumber(*(const uint32_t *)(base + k->offset));
	case K_SIZE:
		return cJSON_CreateNumber((double)*(const uint64_t *)(base + k->offset));
	}
	return NULL;
}

cJSON *config_section_json(const struct hwoptd_config *c, const char *section)
{
	if (pol_config_section(section))
		return pol_config_section_json(&c->pol, section);
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].section, section) != 0)
			continue;
		cJSON *v = key_json(c, &keys[i]);
		if (!v || !cJSON_AddItemToObject(o, keys[i].name, v)) {
			cJSON_Delete(v);
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

cJSON *config_to_json(const struct hwoptd_config *c)
{
	return config_section_json(c, "daemon");
}

static cJSON *model_json(const struct model_conf *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", m->name);
	cJSON_AddStringToObject(o, "path", m->path);
	cJSON_AddStringToObject(o, "precision", m->precision);
	cJSON_AddStringToObject(o, "keep_fp32", m->keep_fp32);
	cJSON_AddNumberToObject(o, "instances", m->instances);
	cJSON_AddNumberToObject(o, "threads_per_instance", m->threads_per_instance);
	cJSON_AddNumberToObject(o, "max_batch", m->max_batch);
	cJSON_AddNumberToObject(o, "batch_delay_us", m->batch_delay_us);
	if (!cJSON_AddNumberToObject(o, "min_cosine", m->min_cosine)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *config_models_json(const struct hwoptd_config *c)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < c->n_models; i++) {
		cJSON *m = model_json(&c->models[i]);
		if (!m || !cJSON_AddItemToArray(a, m)) {
			cJSON_Delete(m);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static const struct model_conf *find_model(const struct hwoptd_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_models; i++)
		if (strcmp(c->models[i].name, name) == 0)
			return &c->models[i];
	return NULL;
}

/* [model] sections load at start only: any change waits for a restart. */
static void models_diff(const struct hwoptd_config *a, const struct hwoptd_config *b,
			cJSON *restart_required)
{
	char label[CONFIG_NAME_MAX + 8];
	for (size_t i = 0; i < b->n_models; i++) {
		const struct model_conf *o = find_model(a, b->models[i].name);
		if (!o || memcmp(o, &b->models[i], sizeof(*o)) != 0) {
			snprintf(label, sizeof(label), "model %s", b->models[i].name);
			cJSON_AddItemToArray(restart_required, cJSON_CreateString(label));
		}
	}
	for (size_t i = 0; i < a->n_models; i++)
		if (!find_model(b, a->models[i].name)) {
			snprintf(label, sizeof(label), "model %s", a->models[i].name);
			cJSON_AddItemToArray(restart_required, cJSON_CreateString(label));
		}
}

void config_diff(const struct hwoptd_config *a, const struct hwoptd_config *b,
		 cJSON *applied, cJSON *restart_required)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		cJSON *va = key_json(a, &keys[i]);
		cJSON *vb = key_json(b, &keys[i]);
		if (va && vb && !cJSON_Compare(va, vb, 1))
			cJSON_AddItemToArray(keys[i].restart ? restart_required : applied,
					     cJSON_CreateString(keys[i].name));
		cJSON_Delete(va);
		cJSON_Delete(vb);
	}
	models_diff(a, b, restart_required);
	pol_config_diff(&a->pol, &b->pol, applied);
}
