/* Device profiles: files in [daemon] devices_dir (etc/devices/NAME.conf) that
 * name CPUs in a [match] section and the model tuning that suits them in a
 * [tuning] section. At start the daemon reads <procfs_root>/cpuinfo,
 * matches every profile against it and keeps the most specific match;
 * models_load takes what a [model] section leaves unset from it.
 *
 * Matching: every key a [match] section gives must match (vendor, family,
 * models, model_name on x86; implementer, parts on Arm). Of the profiles
 * that match, the one with the most [match] keys wins; a tie goes to the
 * file name first in sort order. */
#ifndef HWOPTD_DEVICES_H
#define HWOPTD_DEVICES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct hwoptd;

#define DEVICE_MAX_PARTS 16
#define DEVICE_MAX_RANGES 32
#define DEVICE_NAME_MAX 64

/* What /proc/cpuinfo says about the CPU. */
struct device_cpu {
	char vendor[32];       /* vendor_id; on Arm named after the implementer ("ARM") */
	int family, model;     /* x86 "cpu family" and "model"; -1 when absent */
	char model_name[128];  /* "model name"; "" when absent */
	int implementer;       /* Arm "CPU implementer"; -1 when absent */
	uint32_t parts[DEVICE_MAX_PARTS]; /* the distinct "CPU part" values */
	size_t n_parts;
	char name[160];        /* model name, else vendor and parts: logs, the autotune key */
};

struct device_range {
	uint32_t lo, hi;
};

/* [tuning]: the values a [model] section may leave unset. set has the
 * MODEL_SET_* bits (config.h) of the keys given. */
struct device_tuning {
	uint32_t threads_per_instance, max_batch, batch_delay_us;
	uint8_t set;
};

struct device_profile {
	char name[DEVICE_NAME_MAX]; /* the file name without .conf */
	char path[PATH_MAX];
	/* [match]; what is not given matches anything */
	char vendor[32];
	int family;                 /* -1: not given */
	struct device_range models[DEVICE_MAX_RANGES];
	size_t n_models;
	char model_name[128];       /* a substring, any case */
	int implementer;            /* -1: not given */
	struct device_range parts[DEVICE_MAX_RANGES];
	size_t n_parts;
	struct device_tuning tuning;
};

/* Parses cpuinfo text. 0, or -1 when it names no vendor, family or part. */
int device_cpuinfo_parse(const char *text, struct device_cpu *out);
/* Reads a profile. 0, or -1 with "FILE:LINE: reason" in err. */
int device_profile_read(const char *path, struct device_profile *p, char *err, size_t errlen);
/* 0 when p does not match c, else how many [match] keys it gives. */
int device_profile_match(const struct device_profile *p, const struct device_cpu *c);
/* Matches every NAME.conf of dir against c (malformed files are logged as
 * warnings and skipped). 1 with *out set, 0 when none matches or there is
 * no such directory. */
int devices_match_dir(const char *dir, const struct device_cpu *c, struct device_profile *out);

/* At start: reads <procfs_root>/cpuinfo and matches [daemon] devices_dir.
 * 0, or -ENOMEM; no cpuinfo and no match are logged and fine. */
int devices_load(struct hwoptd *d);
void devices_free(struct hwoptd *d);
/* The matched profile, or NULL. */
const struct device_profile *devices_profile(const struct hwoptd *d);
/* The CPU's name as devices_load read it ("" before or without cpuinfo). */
const char *devices_cpu_name(const struct hwoptd *d);
/* {cpu: {...}, devices_dir, profile: {name, path, tuning} or null}. */
cJSON *devices_json(const struct hwoptd *d);

#endif
