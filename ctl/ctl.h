/* hwoptctl's shared state and helpers; each command group lives in its own
 * cmd_*.c and exports one struct ctl_command. */
#ifndef HWOPT_CTL_H
#define HWOPT_CTL_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "clients/c/hwoptclient.h"

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
	bool timeout_set;            /* --timeout given */
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

/* ctl_call waiting up to timeout_ms instead of ctl->timeout_ms. */
int ctl_call_timeout(struct ctl *ctl, const char *method, cJSON *params, int timeout_ms,
		     cJSON **result);

/* Connects ctl->client when not yet connected (its timeout for the calls
 * that take none is ctl->timeout_ms). CTL_EXIT_OK, or prints why and
 * returns CTL_EXIT_CONNECT. */
int ctl_connect(struct ctl *ctl);

/* Prints why a call of method did not succeed, as ctl_call does, frees
 * error, and returns the exit code: CTL_EXIT_RPC or CTL_EXIT_CONNECT. */
int ctl_report(struct ctl *ctl, const char *method, enum hwopt_call_status st, cJSON *error,
	       int timeout_ms);

/* The timeout of a command that may run long: --timeout when given, else
 * the larger of the default and dflt_ms. */
int ctl_long_timeout(const struct ctl *ctl, int dflt_ms);

/* Checks argc (the command name counts) is at most max; else prints the
 * command's usage and returns CTL_EXIT_USAGE. */
int ctl_args_max(const struct ctl_command *cmd, int argc, int max);

/* Prints "Usage: hwoptctl [OPTIONS] NAME USAGE" to stderr; returns
 * CTL_EXIT_USAGE. */
int ctl_usage(const struct ctl_command *cmd);

/* After getopt_long (optstring starting with ':') returned c, ':' or '?':
 * prints which option is unknown or lacks its value, and the usage;
 * returns CTL_EXIT_USAGE. */
int ctl_bad_option(const struct ctl_command *cmd, int c, int argc, char **argv);

/* Parses the [--all] of jobs and pools: *params is {all: true} with --all,
 * else NULL (the daemon's default: every client's for an admin, one's own
 * otherwise). CTL_EXIT_OK or CTL_EXIT_USAGE. */
int ctl_list_all_option(const struct ctl_command *cmd, int argc, char **argv, cJSON **params);

/* Parses an integer option value in [min, max]; else prints which option
 * is wrong and returns CTL_EXIT_USAGE. */
int ctl_parse_int(const char *cmd, const char *opt, const char *s, long long min,
		  long long max, long long *out);

/* A text table: columns sized to their widest cell. align holds one
 * character per column, 'l' or 'r'. Cells are copied. */
struct ctl_table {
	int ncols, nrows, cap;
	const char *align;
	char **cells; /* nrows * ncols, the header first */
};
void ctl_table_init(struct ctl_table *t, const char *align, ...); /* ncols header strings */
void ctl_table_row(struct ctl_table *t, ...);                      /* ncols strings (NULL: "-") */
void ctl_table_print(struct ctl_table *t);                         /* prints and frees */
void ctl_table_indent(struct ctl_table *t, int indent); /* before print: shifts the rows right */

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

/* "2.40 GHz" / "800 MHz" into buf. */
const char *ctl_hz(double hz, char *buf, int len);
/* Short durations: "850 us", "12.5 ms", "3.20 s", then as ctl_duration. */
const char *ctl_secs(double seconds, char *buf, int len);

/* A line of text built piece by piece; what does not fit is cut. */
struct ctl_line {
	char s[1024];
	size_t n;
};
void ctl_line_add(struct ctl_line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- telemetry (cmd_telemetry.c; top uses these too) ---- */

/* The part name of a telemetry snapshot when it is available; else NULL
 * with *reason (the daemon's, or "not in the sample"). */
const cJSON *ctl_tm_part(const cJSON *sample, const char *name, const char **reason);

/* The key figures of source name in a snapshot, as one line ("busy 12.3%,
 * 8 CPUs, load ..."; "unavailable (REASON)"), appended to l. */
void ctl_tm_summary(struct ctl_line *l, const cJSON *sample, const char *name);

/* The newest sample (telemetry.get {sources}; sources consumed, may be
 * NULL). When the daemon has none yet, or need_rates and it has only its
 * first (rates need two), waits for the next one through a subscription,
 * within ctl->timeout_ms. CTL_EXIT_OK with *sample (caller frees), or the
 * exit code (the reason printed). */
int ctl_tm_latest(struct ctl *ctl, cJSON *sources, bool need_rates, cJSON **sample);

/* From here on SIGINT and SIGTERM do not end hwoptctl: they are blocked
 * and only end ctl_tm_wait, which then returns CTL_TM_SIGNAL. */
void ctl_tm_catch_signals(void);

/* telemetry.subscribe {interval_ms (<= 0: the daemon's), sources
 * (consumed, may be NULL)}: CTL_EXIT_OK with *id and *interval_out (may be
 * NULL) set, or the exit code. */
int ctl_tm_subscribe(struct ctl *ctl, int interval_ms, cJSON *sources, long long *id,
		     int *interval_out);

enum ctl_tm_event { CTL_TM_SAMPLE, CTL_TM_INPUT, CTL_TM_TIMEOUT, CTL_TM_SIGNAL, CTL_TM_FAILED };
/* Waits up to timeout_ms (<0: forever) for the next telemetry.sample of
 * subscription id, for input_fd (>= 0) to become readable, or for a caught
 * signal. CTL_TM_SAMPLE sets *sample (the snapshot; caller frees);
 * CTL_TM_FAILED sets *rc (the reason printed). */
enum ctl_tm_event ctl_tm_wait(struct ctl *ctl, long long id, int input_fd, int timeout_ms,
			      cJSON **sample, int *rc);

extern const struct ctl_command ctl_cmd_status;
extern const struct ctl_command ctl_cmd_topology;
extern const struct ctl_command ctl_cmd_config;
extern const struct ctl_command ctl_cmd_models;
extern const struct ctl_command ctl_cmd_load;
extern const struct ctl_command ctl_cmd_unload;
extern const struct ctl_command ctl_cmd_infer;
extern const struct ctl_command ctl_cmd_jobs;
extern const struct ctl_command ctl_cmd_cancel;
extern const struct ctl_command ctl_cmd_pools;
extern const struct ctl_command ctl_cmd_metrics;
extern const struct ctl_command ctl_cmd_top;
extern const struct ctl_command ctl_cmd_telemetry;
extern const struct ctl_command ctl_cmd_record;
extern const struct ctl_command ctl_cmd_policy;
extern const struct ctl_command ctl_cmd_profile;
extern const struct ctl_command ctl_cmd_explain;
extern const struct ctl_command ctl_cmd_simulate;
extern const struct ctl_command ctl_cmd_shutdown;
extern const struct ctl_command ctl_cmd_version;

#endif
