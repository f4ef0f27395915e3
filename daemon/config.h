/* hwoptd.conf: INI read with libinih into a validated struct. Loading never
 * touches the config in force: callers parse into a fresh struct and swap it
 * in only when the whole file was good. */
#ifndef HWOPTD_CONFIG_H
#define HWOPTD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "log.h"

#define CONFIG_SOCKET_MAX 108 /* sizeof(sun_path) */
#define CONFIG_GROUP_MAX 64

struct hwoptd_config {
	char socket[CONFIG_SOCKET_MAX];
	char socket_group[CONFIG_GROUP_MAX];
	gid_t socket_gid;
	char admin_group[CONFIG_GROUP_MAX];
	gid_t admin_gid;
	char state_dir[PATH_MAX];
	enum log_level log_level;
	uint32_t max_connections;
	uint64_t max_line_bytes;
	uint64_t max_queued_bytes;
	uint32_t shutdown_grace_ms;
};

/* A command-line value that overrides the file, re-applied on every load. */
struct config_override {
	const char *key; /* "socket", "state_dir", "log_level" (section daemon) */
	const char *value;
};

/* Built-in defaults; socket and state_dir depend on the effective uid. */
void config_defaults(struct hwoptd_config *c);

/* Defaults, then the file (NULL: none), then the overrides. On error returns
 * a negative errno and writes "FILE:LINE: [section] key: reason" to err. */
int config_load(const char *path, const struct config_override *ov, size_t n_ov,
		struct hwoptd_config *out, char *err, size_t errlen);

/* Sets one key from text, validating it. 0, or -EINVAL/-ENOENT with reason. */
int config_set(struct hwoptd_config *c, const char *section, const char *key,
	       const char *value, char *reason, size_t reasonlen);

cJSON *config_to_json(const struct hwoptd_config *c);

/* Names of keys that differ, split into those a reload applies and those
 * that need a restart. Arrays of strings, appended to. */
void config_diff(const struct hwoptd_config *a, const struct hwoptd_config *b,
		 cJSON *applied, cJSON *restart_required);

/* Parses "1048576", "64K", "1M", "2G" (binary multiples). */
int config_parse_size(const char *s, uint64_t *out);

#endif
