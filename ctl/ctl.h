/* hwoptctl's shared state and helpers; each command group lives in its own
 * cmd_*.c and exports one struct ctl_command. */
#ifndef HWOPT_CTL_H
#define HWOPT_CTL_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* Documented exit codes. */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_RPC = 1,     /* the daemon answered with an error */
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_CONNECT = 3, /* cannot connect, or the connection failed */
};

struct ctl {
	const char *socket;
	bool json;
	int timeout_ms;
	struct hwopt_client *client; /* connected on first call */
};

struct ctl_command {
	const char *name;
	const char *usage;   /* arguments after the name, "" if none */
	const char *summary;
	const char *help;    /* longer text for `hwoptctl help NAME` */
	int (*run)(struct ctl *ctl, int argc, char **argv);
};

/* Calls a method; params consumed. Returns CTL_EXIT_OK with *result set, or
 * prints the reason to stderr and returns CTL_EXIT_RPC / CTL_EXIT_CONNECT. */
int ctl_call(struct ctl *ctl, const char *method, cJSON *params, cJSON **result);

/* Checks argc (the command name counts) is at most max; else prints the
 * command's usage and returns CTL_EXIT_USAGE. */
int ctl_args_max(const struct ctl_command *cmd, int argc, int max);

/* Prints a JSON value, indented, to stdout. */
void ctl_print_json(const cJSON *v);

/* Aligned "key:   value" lines; width is the key column. */
void ctl_kv(int indent, int width, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "1.5 GiB"-style sizes into buf. */
const char *ctl_bytes(double bytes, char *buf, int len);
/* "3d 4h 5m 6s"-style durations into buf. */
const char *ctl_duration(double seconds, char *buf, int len);

/* Reads a member with a fallback, for rendering. */
double ctl_num(const cJSON *obj, const char *name, double dflt);
const char *ctl_str(const cJSON *obj, const char *name, const char *dflt);

extern const struct ctl_command ctl_cmd_status;
extern const struct ctl_command ctl_cmd_topology;
extern const struct ctl_command ctl_cmd_config;
extern const struct ctl_command ctl_cmd_shutdown;
extern const struct ctl_command ctl_cmd_version;

#endif
