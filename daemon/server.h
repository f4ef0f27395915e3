/* The Unix-socket JSON-RPC server on the libuv loop: accepts clients, frames
 * and validates requests, checks permissions, hands calls to handlers, and
 * writes answers. A handler may answer at once or later (a call keeps its
 * connection alive); answers to a client that has gone are dropped. */
#ifndef HWOPTD_SERVER_H
#define HWOPTD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "proto/methods.h"

struct hwoptd;
struct server;
struct conn;

#define PEER_MAX_GROUPS 64

struct peer_cred {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int ngroups; /* supplementary groups (SO_PEERGROUPS), may be 0 */
	gid_t groups[PEER_MAX_GROUPS];
};

/* One request being served. Exactly one of call_reply / call_error must be
 * called for every call, now or later; it frees the call. */
struct hwoptd_call;

typedef void (*method_fn)(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);

void call_reply(struct hwoptd_call *call, cJSON *result);
/* Answers with result and passes fd (duplicated; the caller keeps its own)
 * as SCM_RIGHTS on the answer's first byte. */
void call_reply_fd(struct hwoptd_call *call, cJSON *result, int fd);
/* Encode an answer without sending it: safe on any thread while the call is
 * open (it reads only the call's id). result and data are consumed. */
char *call_encode_result(const struct hwoptd_call *call, cJSON *result, size_t *len);
char *call_encode_error(const struct hwoptd_call *call, int code, const char *message,
			cJSON *data, size_t *len);
/* Sends an encoded answer (taken over; NULL: out of memory) and frees the call. */
void call_reply_line(struct hwoptd_call *call, char *line, size_t len, bool is_error);
void call_error(struct hwoptd_call *call, int code, const char *message, cJSON *data);
void call_errorf(struct hwoptd_call *call, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const struct peer_cred *call_peer(const struct hwoptd_call *call);
/* The caller's connection state (jobs, pools). */
struct client *call_client(const struct hwoptd_call *call);
/* The request's id (NULL for a notification). */
const cJSON *call_id(const struct hwoptd_call *call);
const struct hwopt_method *call_method(const struct hwoptd_call *call);
/* Runs fn once this call's answer has been handed to the socket (or the
 * client is gone); used by shutdown to answer before stopping. */
void call_after_reply(struct hwoptd_call *call, void (*fn)(struct hwoptd *d));

/* Sends a line the daemon starts (a notification; taken over) to a client;
 * dropped when its connection is gone or closing. A reader too slow for
 * max_queued_bytes is dropped as for answers. */
struct client;
void server_push(struct client *c, char *line, size_t len);

/* Limits read on every use, so a reload applies to open connections too. */
struct server_limits {
	uint32_t max_connections;
	uint64_t max_line_bytes;
	uint64_t max_queued_bytes;
};

int server_new(struct hwoptd *d, uv_loop_t *loop, struct server **out);
/* Binds path (creating its directory 0750 and the socket 0660 with gid, or
 * the primary group when gid is -1); refuses a live socket, replaces a stale
 * one. err explains a failure. */
int server_listen_path(struct server *s, const char *path, gid_t gid, char *err, size_t errlen);
/* Serves an already listening socket (socket activation). */
int server_listen_fd(struct server *s, int fd, char *err, size_t errlen);

struct hwoptd_config;
bool peer_in_group(const struct peer_cred *p, gid_t gid);
bool peer_is_admin(const struct peer_cred *p, gid_t admin_gid);
bool peer_may_submit(const struct peer_cred *p, const struct hwoptd_config *cfg);

/* Graceful stop: stop accepting and reading; connections close as their
 * answers drain; on_drained runs when none is left. */
void server_stop(struct server *s, void (*on_drained)(struct hwoptd *d));
/* Grace expired: close every connection now. */
void server_abort(struct server *s);
/* Releases the server once the loop has closed every handle. */
void server_free(struct server *s);

struct server_stats {
	uint64_t connections;        /* open now */
	uint64_t connections_total;  /* accepted since start */
	uint64_t connections_refused;/* over max_connections */
	uint64_t clients_dropped;    /* slow readers over max_queued_bytes */
	uint64_t requests;           /* requests read (valid or not) */
	uint64_t errors;             /* error answers sent */
	uint64_t inflight;           /* calls not yet answered */
};
void server_get_stats(const struct server *s, struct server_stats *st);
const char *server_path(const struct server *s); /* "" when activated */

#endif
