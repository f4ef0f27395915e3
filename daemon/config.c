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

enum key_type { K_PATH, K_SOCKET, K_GROUP, K_LEVEL, K_U32, K_SIZE };

struct key_def {
	const char *name;
	enum key_type type;
	size_t offset;
	uint64_t min, max;
	bool restart; /* takes effect only at restart */
};

#define OFF(f) offsetof(struct hwoptd_config, f)
static const struct key_def daemon_keys[] = {
	{ "socket", K_SOCKET, OFF(socket), 0, 0, true },
	{ "socket_group", K_GROUP, OFF(socket_group), 0, 0, true },
	{ "admin_group", K_GROUP, OFF(admin_group), 0, 0, false },
	{ "state_dir", K_PATH, OFF(state_dir), 0, 0, true },
	{ "log_level", K_LEVEL, OFF(log_level), 0, 0, false },
	{ "max_connections", K_U32, OFF(max_connections), 1, 65536, false },
	{ "max_line_bytes", K_SIZE, OFF(max_line_bytes), 4096, 64ull << 20, false },
	{ "max_queued_bytes", K_SIZE, OFF(max_queued_bytes), 64 << 10, 1ull << 30, false },
	{ "shutdown_grace_ms", K_U32, OFF(shutdown_grace_ms), 0, 600000, false },
};
#define N_KEYS (sizeof(daemon_keys) / sizeof(daemon_keys[0]))

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

int config_set(struct hwoptd_config *c, const char *section, const char *key,
	       const char *value, char *reason, size_t rl)
{
	if (strcmp(section, "daemon") != 0) {
		snprintf(reason, rl, *section ? "unknown section" : "key outside a section");
		return -ENOENT;
	}
	const struct key_def *k = NULL;
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(daemon_keys[i].name, key) == 0)
			k = &daemon_keys[i];
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
	case K_GROUP:
		return set_group(base + k->offset,
				 k->offset == OFF(socket_group) ? &c->socket_gid : &c->admin_gid,
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
	unsigned seen; /* bit per key: a repeated key is an error */
	bool failed;
	char section[64];
	char key[64];
	char reason[256];
};

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *p = user;
	if (p->failed)
		return 0;
	int rc = config_set(p->cfg, section, name, value, p->reason, sizeof(p->reason));
	if (rc == 0 && strcmp(section, "daemon") == 0) {
		for (size_t i = 0; i < N_KEYS; i++)
			if (strcmp(daemon_keys[i].name, name) == 0) {
				if (p->seen & (1u << i)) {
					snprintf(p->reason, sizeof(p->reason), "key given twice");
					rc = -EINVAL;
				}
				p->seen |= 1u << i;
			}
	}
	if (rc < 0) {
		p->failed = true;
		snprintf(p->section, sizeof(p->section), "%s", section);
		snprintf(p->key, sizeof(p->key), "%s", name);
		return 0;
	}
	return 1;
}

/* inih calls back only for keys, so an empty unknown section would pass
 * unseen; headers are checked in a pass of their own. */
static int check_sections(FILE *f, const char *path, char *err, size_t errlen)
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
		if (strcmp(p + 1, "daemon") != 0) {
			snprintf(err, errlen, "%s:%d: [%s]: unknown section", path, n, p + 1);
			return -EINVAL;
		}
	}
	return 0;
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
	for (size_t i = 0; i < n_ov; i++) {
		char reason[256];
		if (config_set(&c, "daemon", ov[i].key, ov[i].value, reason, sizeof(reason)) < 0) {
			snprintf(err, errlen, "command line: %s: %s", ov[i].key, reason);
			return -EINVAL;
		}
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

cJSON *config_to_json(const struct hwoptd_config *c)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	for (size_t i = 0; i < N_KEYS; i++) {
		cJSON *v = key_json(c, &daemon_keys[i]);
		if (!v || !cJSON_AddItemToObject(o, daemon_keys[i].name, v)) {
			cJSON_Delete(v);
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

void config_diff(const struct hwoptd_config *a, const struct hwoptd_config *b,
		 cJSON *applied, cJSON *restart_required)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		cJSON *va = key_json(a, &daemon_keys[i]);
		cJSON *vb = key_json(b, &daemon_keys[i]);
		if (va && vb && !cJSON_Compare(va, vb, 1))
			cJSON_AddItemToArray(daemon_keys[i].restart ? restart_required : applied,
					     cJSON_CreateString(daemon_keys[i].name));
		cJSON_Delete(va);
		cJSON_Delete(vb);
	}
}
