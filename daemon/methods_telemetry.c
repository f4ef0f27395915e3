/* telemetry.get, telemetry.subscribe, telemetry.unsubscribe, trace.record. */
#include "methods.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "proto/errors.h"
#include "proto/rpc.h"
#include "telemetry/telemetry.h"

/* params.sources into a mask; false after answering a bad one. */
static bool sources_param(struct hwoptd_call *call, const cJSON *params, uint32_t *mask)
{
	char err[256];
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(params, "sources");
	if (telemetry_parts_mask(s, mask, err, sizeof(err)) < 0) {
		call_errorf(call, HWOPT_E_INVALID_PARAMS, "invalid params: params.sources%s", err);
		return false;
	}
	return true;
}

void method_telemetry_get(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "sources", "history", NULL };
	struct hwopt_rpc_error err;
	uint32_t mask;
	int64_t history = -1;
	if (method_reject_params(call, params, known) || !sources_param(call, params, &mask))
		return;
	if (hwopt_param_int(params, "history", false, 0, 100000, &history, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	size_t n = telemetry_n_samples(d->tm);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "interval_ms", telemetry_interval_ms(d->tm));
	cJSON_AddNumberToObject(r, "samples", (double)n);
	cJSON_AddNumberToObject(r, "history_max", d->cfg.history);
	cJSON *latest = telemetry_snapshot_json(d->tm, 0, mask);
	cJSON_AddItemToObject(r, "sample", latest ? latest : cJSON_CreateNull());
	if (history >= 0) {
		cJSON *a = cJSON_AddArrayToObject(r, "history");
		size_t k = (size_t)history < n ? (size_t)history : n;
		for (size_t back = k; back-- > 0;) /* oldest first */
			cJSON_AddItemToArray(a, telemetry_snapshot_json(d->tm, back, mask));
	}
	call_reply(call, r);
}

void method_telemetry_subscribe(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "sources", "interval_ms", NULL };
	struct hwopt_rpc_error err;
	uint32_t mask;
	int64_t interval = telemetry_interval_ms(d->tm);
	if (method_reject_params(call, params, known) || !sources_param(call, params, &mask))
		return;
	if (hwopt_param_int(params, "interval_ms", false, 100, 3600000, &interval, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	if (!d->tm) {
		call_error(call, HWOPT_E_UNSUPPORTED, "telemetry is not running", NULL);
		return;
	}
	int64_t id = telemetry_subscribe(d->tm, call_client(call), (uint32_t)interval, mask);
	if (id == -ENOSPC) {
		call_error(call, HWOPT_E_EXHAUSTED,
			   "this connection already holds 16 subscriptions; unsubscribe one first",
			   NULL);
		return;
	}
	if (id < 0) {
		call_error(call, HWOPT_E_EXHAUSTED, "out of memory", NULL);
		return;
	}
	uint32_t every = telemetry_sub_interval(d->tm, (uint32_t)interval);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "subscription", (double)id);
	cJSON_AddNumberToObject(r, "interval_ms", every);
	cJSON_AddStringToObject(r, "method", "telemetry.sample");
	call_reply(call, r);
}

void method_telemetry_unsubscribe(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "subscription", NULL };
	struct hwopt_rpc_error err;
	int64_t id;
	if (method_reject_params(call, params, known))
		return;
	if (hwopt_param_int(params, "subscription", true, 1, INT64_MAX, &id, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	if (!d->tm || telemetry_unsubscribe(d->tm, call_client(call), id) < 0) {
		call_errorf(call, HWOPT_E_NOT_FOUND,
			    "not found: this connection has no subscription %lld", (long long)id);
		return;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "subscription", (double)id);
	call_reply(call, r);
}

/* The daemon creates the file for the caller, so a caller other than root
 * may only write where it could itself: the directory must be writable and
 * searchable by it. */
static int peer_may_create(const struct peer_cred *p, const char *path, char *err, size_t el)
{
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s", path);
	const char *dir = dirname(copy);
	struct stat st;
	if (stat(dir, &st) < 0) {
		snprintf(err, el, "%s: %s", dir, strerror(errno));
		return errno == ENOENT ? HWOPT_E_NOT_FOUND : HWOPT_E_INVALID_PARAMS;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, el, "%s: not a directory", dir);
		return HWOPT_E_INVALID_PARAMS;
	}
	if (p->uid == 0)
		return 0;
	mode_t need = p->uid == st.st_uid	       ? S_IWUSR | S_IXUSR
		      : peer_in_group(p, st.st_gid) ? S_IWGRP | S_IXGRP
						    : S_IWOTH | S_IXOTH;
	if ((st.st_mode & need) != need) {
		snprintf(err, el, "%s: the caller (uid %u) may not create files there", dir,
			 (unsigned)p->uid);
		return HWOPT_E_PERMISSION;
	}
	return 0;
}

void method_trace_record(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params)
{
	static const char *const known[] = { "seconds", "path", "sources", NULL };
	struct hwopt_rpc_error err;
	const char *path;
	int64_t seconds;
	uint32_t mask;
	char msg[PATH_MAX + 128];
	if (method_reject_params(call, params, known) || !sources_param(call, params, &mask))
		return;
	if (hwopt_param_int(params, "seconds", true, 1, 86400, &seconds, &err) < 0 ||
	    hwopt_param_string(params, "path", true, &path, &err) < 0) {
		call_error(call, err.code, err.message, NULL);
		return;
	}
	if (path[0] != '/' || strlen(path) >= PATH_MAX) {
		call_error(call, HWOPT_E_INVALID_PARAMS,
			   "invalid params: params.path: must be an absolute path (the daemon's "
			   "working directory is not the caller's)", NULL);
		return;
	}
	if (!d->tm) {
		call_error(call, HWOPT_E_UNSUPPORTED, "telemetry is not running", NULL);
		return;
	}
	const struct peer_cred *p = call_peer(call);
	int code = peer_may_create(p, path, msg, sizeof(msg));
	if (code) {
		call_error(call, code, msg, NULL);
		return;
	}
	/* Never follow a link or replace a file: the daemon may be root. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		int e = errno;
		call_errorf(call, e == EEXIST ? HWOPT_E_INVALID_PARAMS : HWOPT_E_INTERNAL,
			    "%s: %s%s", path, strerror(e),
			    e == EEXIST ? " (trace.record never overwrites a file)" : "");
		return;
	}
	if (geteuid() == 0 && p->uid != 0 && fchown(fd, p->uid, p->gid) < 0) {
		int e = errno;
		close(fd);
		unlink(path);
		call_errorf(call, HWOPT_E_INTERNAL, "%s: chown to the caller: %s", path, strerror(e));
		return;
	}
	telemetry_record(d->tm, call, call_client(call), fd, path, (uint32_t)seconds, mask);
}
