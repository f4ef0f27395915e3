#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "daemon.h"
#include "dlist.h"
#include "log.h"
#include "proto/errors.h"
#include "proto/frame.h"
#include "proto/rpc.h"
#include "socket_path.h"

#define READ_CHUNK (64 * 1024)

struct conn {
	uv_pipe_t pipe;
	struct server *srv;
	uint64_t id;
	struct peer_cred cred;
	struct hwopt_framer framer;
	unsigned refs;         /* the handle, plus one per open call */
	unsigned inflight;     /* calls not yet answered */
	unsigned writes;       /* uv_write requests not yet completed */
	bool closing;          /* uv_close started */
	bool finish;           /* close once writes and calls are done */
	bool refused;          /* over max_connections: never counted or read */
	struct client *client; /* jobs and pools of this connection, NULL when refused */
	struct conn *prev, *next;
};

struct server {
	struct hwoptd *d;
	uv_loop_t *loop;
	uv_pipe_t listener;
	bool listening;
	char path[CONFIG_SOCKET_MAX];
	struct conn *conns;
	uint64_t next_id;
	struct server_stats st;
	bool stopping;
	void (*on_drained)(struct hwoptd *d);
	char readbuf[READ_CHUNK];
	bool readbuf_busy;
};

struct hwoptd_call {
	struct conn *conn;
	cJSON *id; /* owned copy; NULL for a notification */
	const struct hwopt_method *method;
	void (*after)(struct hwoptd *d);
};

struct write_req {
	uv_write_t req;
	struct conn *conn;
	uv_pipe_t *fd_handle; /* a descriptor sent with the line, closed once written */
	void (*after)(struct hwoptd *d);
	size_t len;
	char data[];
};

static void conn_maybe_finish(struct conn *c);

/* --- connection lifetime ---------------------------------------------------- */

static void conn_unref(struct conn *c)
{
	if (--c->refs > 0)
		return;
	hwopt_framer_free(&c->framer);
	free(c);
}

static void on_conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	struct server *s = c->srv;
	DLIST_REMOVE(s->conns, c, prev, next);
	if (!c->refused)
		s->st.connections--;
	log_debug("client %llu closed", (unsigned long long)c->id);
	if (c->client) {
		c->client->conn = NULL;
		client_gone(s->d, c->client);
	}
	c->client = NULL;
	conn_unref(c);
	if (s->stopping && !s->conns && !s->listening && s->on_drained) {
		void (*cb)(struct hwoptd *) = s->on_drained;
		s->on_drained = NULL;
		cb(s->d);
	}
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_read_stop((uv_stream_t *)&c->pipe);
	uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static void conn_maybe_finish(struct conn *c)
{
	if (c->finish && !c->closing && c->inflight == 0 && c->writes == 0)
		conn_close(c);
}

/* --- writing ---------------------------------------------------------------- */

static void free_handle(uv_handle_t *h)
{
	free(h);
}

static void on_write(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct conn *c = w->conn;
	c->writes--;
	if (w->fd_handle)
		uv_close((uv_handle_t *)w->fd_handle, free_handle);
	if (status < 0 && status != UV_ECANCELED) {
		log_debug("client %llu: write failed: %s", (unsigned long long)c->id,
			  uv_strerror(status));
		conn_close(c);
	}
	if (w->after)
		w->after(c->srv->d);
	free(w);
	conn_maybe_finish(c);
	conn_unref(c);
}

/* Wraps a duplicate of fd in a pipe handle: libuv sends a stream handle's
 * descriptor as SCM_RIGHTS with a write on an IPC pipe. */
static uv_pipe_t *fd_handle(uv_loop_t *loop, int fd)
{
	int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	uv_pipe_t *h = malloc(sizeof(*h));
	if (dupfd < 0 || !h || uv_pipe_init(loop, h, 0) < 0) {
		if (dupfd >= 0)
			close(dupfd);
		free(h);
		return NULL;
	}
	if (uv_pipe_open(h, dupfd) < 0) {
		close(dupfd);
		uv_close((uv_handle_t *)h, free_handle);
		return NULL;
	}
	return h;
}

/* Queues one encoded line (taken over), with fd (>= 0) as ancillary data on
 * its first byte. after, when set, runs once the line has gone (or the
 * client has). */
static void conn_send(struct conn *c, char *line, size_t len, int fd,
		      void (*after)(struct hwoptd *d))
{
	struct server *s = c->srv;
	struct write_req *w = NULL;
	uv_pipe_t *fh = NULL;
	if (!line || c->closing)
		goto fail;
	w = malloc(sizeof(*w) + len);
	if (!w || (fd >= 0 && !(fh = fd_handle(s->loop, fd))))
		goto fail;
	memcpy(w->data, line, len);
	free(line);
	line = NULL;
	w->conn = c;
	w->after = after;
	w->len = len;
	w->fd_handle = fh;
	uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
	int rc = fh ? uv_write2(&w->req, (uv_stream_t *)&c->pipe, &b, 1, (uv_stream_t *)fh, on_write)
		    : uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_write);
	if (rc < 0) {
		log_debug("client %llu: write: %s", (unsigned long long)c->id, uv_strerror(rc));
		goto fail;
	}
	c->refs++;
	c->writes++;
	/* Bytes the kernel has not taken yet: the reader is not keeping up. */
	size_t queued = uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe);
	if (queued > s->d->cfg.max_queued_bytes) {
		s->st.clients_dropped++;
		log_warning("dropping client %llu (pid %d, uid %u): %zu bytes of answers queued, "
			    "over max_queued_bytes %llu",
			    (unsigned long long)c->id, (int)c->cred.pid, (unsigned)c->cred.uid, queued,
			    (unsigned long long)s->d->cfg.max_queued_bytes);
		conn_close(c);
	}
	return;
fail:
	if (!c->closing)
		log_error("client %llu: out of memory queueing an answer", (unsigned long long)c->id);
	free(line);
	free(w);
	if (fh)
		uv_close((uv_handle_t *)fh, free_handle);
	conn_close(c);
	if (after)
		after(s->d);
}

static void send_error(struct conn *c, const cJSON *id, int code, const char *msg, cJSON *data)
{
	size_t len = 0;
	char *line = hwopt_rpc_error_line(id, code, msg, data, &len);
	c->srv->st.errors++;
	conn_send(c, line, len, -1, NULL);
}

void server_push(struct client *cl, char *line, size_t len)
{
	if (!cl->conn || cl->conn->closing || cl->conn->finish) {
		free(line);
		return;
	}
	conn_send(cl->conn, line, len, -1, NULL);
}

/* --- calls ------------------------------------------------------------------ */

static void call_finish(struct hwoptd_call *call, char *line, size_t len, int fd)
{
	struct conn *c = call->conn;
	c->inflight--;
	c->srv->st.inflight--;
	if (call->id)
		conn_send(c, line, len, fd, call->after);
	else {
		free(line); /* notifications are not answered */
		if (call->after)
			call->after(c->srv->d);
	}
	cJSON_Delete(call->id);
	free(call);
	conn_maybe_finish(c);
	conn_unref(c);
}

void call_reply(struct hwoptd_call *call, cJSON *result)
{
	size_t len = 0;
	char *line = hwopt_rpc_result_line(call->id, result, &len);
	call_finish(call, line, len, -1);
}

void call_reply_fd(struct hwoptd_call *call, cJSON *result, int fd)
{
	size_t len = 0;
	char *line = hwopt_rpc_result_line(call->id, result, &len);
	call_finish(call, line, len, fd);
}

char *call_encode_result(const struct hwoptd_call *call, cJSON *result, size_t *len)
{
	return hwopt_rpc_result_line(call->id, result, len);
}

char *call_encode_error(const struct hwoptd_call *call, int code, const char *message,
			cJSON *data, size_t *len)
{
	return hwopt_rpc_error_line(call->id, code, message, data, len);
}

void call_reply_line(struct hwoptd_call *call, char *line, size_t len, bool is_error)
{
	if (is_error)
		call->conn->srv->st.errors++;
	call_finish(call, line, len, -1);
}

void call_error(struct hwoptd_call *call, int code, const char *message, cJSON *data)
{
	size_t len = 0;
	char *line = hwopt_rpc_error_line(call->id, code, message, data, &len);
	call->conn->srv->st.errors++;
	call_finish(call, line, len, -1);
}

void call_errorf(struct hwoptd_call *call, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	call_error(call, code, msg, NULL);
}

const struct peer_cred *call_peer(const struct hwoptd_call *call)
{
	return &call->conn->cred;
}

struct client *call_client(const struct hwoptd_call *call)
{
	return call->conn->client;
}

const cJSON *call_id(const struct hwoptd_call *call)
{
	return call->id;
}

const struct hwopt_method *call_method(const struct hwoptd_call *call)
{
	return call->method;
}

void call_after_reply(struct hwoptd_call *call, void (*fn)(struct hwoptd *d))
{
	call->after = fn;
}

/* --- requests --------------------------------------------------------------- */

bool peer_in_group(const struct peer_cred *p, gid_t gid)
{
	if (gid == (gid_t)-1)
		return false;
	if (p->gid == gid)
		return true;
	for (int i = 0; i < p->ngroups; i++)
		if (p->groups[i] == gid)
			return true;
	return false;
}

bool peer_is_admin(const struct peer_cred *p, gid_t admin_gid)
{
	return p->uid == 0 || p->uid == geteuid() || peer_in_group(p, admin_gid);
}

bool peer_may_submit(const struct peer_cred *p, const struct hwoptd_config *cfg)
{
	return peer_is_admin(p, cfg->admin_gid) || peer_in_group(p, cfg->submit_gid);
}

/* The refusal of a method outside the caller's class, naming who may. */
static void perm_message(const struct hwoptd_config *cfg, const struct hwopt_method *m,
			 char *msg, size_t len)
{
	const char *who = m->perm == HWOPT_PERM_SUBMIT ? "submit" : "admin";
	char groups[200] = "";
	if (m->perm == HWOPT_PERM_SUBMIT && cfg->submit_group[0])
		snprintf(groups, sizeof(groups), " or group %s", cfg->submit_group);
	if (cfg->admin_group[0])
		snprintf(groups + strlen(groups), sizeof(groups) - strlen(groups), " or group %s",
			 cfg->admin_group);
	snprintf(msg, len, "permission denied: %s needs %s rights (uid 0%s%s)", m->name, who, groups,
		 groups[0] ? "" : m->perm == HWOPT_PERM_SUBMIT ? "; no submit_group or admin_group is configured"
							       : "; no admin_group is configured");
}

static void dispatch(struct conn *c, const struct hwopt_rpc_request *req)
{
	struct server *s = c->srv;
	struct hwoptd *d = s->d;
	const struct hwopt_method *m = hwopt_method_find(req->method);
	method_fn fn = m ? methods_lookup(m->name) : NULL;

	if (!fn) {
		char msg[200];
		snprintf(msg, sizeof(msg), "no such method '%.120s'", req->method);
		if (req->id)
			send_error(c, req->id, HWOPT_E_NO_METHOD, msg, NULL);
		return;
	}
	if (d->stopping) {
		if (req->id)
			send_error(c, req->id, HWOPT_E_SHUTTING_DOWN, "hwoptd is shutting down", NULL);
		return;
	}
	bool allowed = m->perm == HWOPT_PERM_READ ||
		       (m->perm == HWOPT_PERM_SUBMIT ? peer_may_submit(&c->cred, &d->cfg)
						     : peer_is_admin(&c->cred, d->cfg.admin_gid));
	if (!allowed) {
		char msg[400];
		perm_message(&d->cfg, m, msg, sizeof(msg));
		log_info("refused %s to pid %d uid %u", m->name, (int)c->cred.pid, (unsigned)c->cred.uid);
		if (req->id)
			send_error(c, req->id, HWOPT_E_PERMISSION, msg, NULL);
		return;
	}

	struct hwoptd_call *call = calloc(1, sizeof(*call));
	cJSON *id = req->id ? cJSON_Duplicate(req->id, 1) : NULL;
	if (!call || (req->id && !id)) {
		free(call);
		cJSON_Delete(id);
		if (req->id)
			send_error(c, req->id, HWOPT_E_INTERNAL, "out of memory", NULL);
		return;
	}
	call->conn = c;
	call->id = id;
	call->method = m;
	c->refs++;
	c->inflight++;
	s->st.inflight++;
	fn(d, call, req->params);
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

static int on_line(void *ctx, char *line, size_t len)
{
	struct conn *c = ctx;
	if (blank(line, len)) /* keep-alive newlines are not requests */
		return 0;
	c->srv->st.requests++;

	struct hwopt_rpc_request req;
	struct hwopt_rpc_error err;
	cJSON *reply_id = NULL;
	if (hwopt_rpc_parse(line, len, &req, &err, &reply_id) != 0) {
		log_debug("client %llu: %s", (unsigned long long)c->id, err.message);
		send_error(c, reply_id, err.code, err.message, err.data);
		cJSON_Delete(reply_id);
	} else {
		cJSON_Delete(reply_id);
		dispatch(c, &req);
		hwopt_rpc_request_free(&req);
	}
	return c->closing ? 1 : 0;
}

/* --- reading ---------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;
	struct server *s = c->srv;
	/* One buffer serves every client: a read is consumed before the next
	 * begins, and the framer copies only an unfinished tail. */
	if (s->readbuf_busy) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	s->readbuf_busy = true;
	*buf = uv_buf_init(s->readbuf, sizeof(s->readbuf));
}

static void line_too_long(struct conn *c)
{
	char msg[160];
	uint64_t max = c->srv->d->cfg.max_line_bytes;
	snprintf(msg, sizeof(msg), "request line longer than max_line_bytes (%llu); closing",
		 (unsigned long long)max);
	log_warning("client %llu (pid %d): %s", (unsigned long long)c->id, (int)c->cred.pid, msg);
	cJSON *data = cJSON_CreateObject();
	if (data)
		cJSON_AddNumberToObject(data, "max_line_bytes", (double)max);
	send_error(c, NULL, HWOPT_E_INVALID_REQUEST, msg, data);
	uv_read_stop((uv_stream_t *)&c->pipe);
	c->finish = true;
	conn_maybe_finish(c);
}

static bool peer_gone(struct conn *c)
{
	uv_os_fd_t fd;
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0)
		return true;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = stream->data;
	struct server *s = c->srv;
	if (buf->base == s->readbuf)
		s->readbuf_busy = false;
	if (n == 0 || c->closing)
		return;
	if (uv_pipe_pending_count(&c->pipe) > 0) {
		/* libuv keeps descriptors a client sends; none is expected. */
		log_warning("client %llu (pid %d) sent file descriptors; closing", (unsigned long long)c->id,
			    (int)c->cred.pid);
		conn_close(c);
		return;
	}
	/* A reload may have changed the limit; open framers follow it. */
	c->framer.max = s->d->cfg.max_line_bytes;
	int rc = 0;
	c->refs++; /* handlers may close the connection under us */
	if (n > 0) {
		rc = hwopt_framer_feed(&c->framer, buf->base, (size_t)n, on_line, c);
	} else {
		if (n != UV_EOF)
			log_debug("client %llu: read: %s", (unsigned long long)c->id, uv_strerror((int)n));
		if (n == UV_EOF && hwopt_framer_pending(&c->framer) > 0 && !c->closing) {
			/* A last request without its newline is still a request. */
			char nl = '\n';
			rc = hwopt_framer_feed(&c->framer, &nl, 1, on_line, c);
		}
		uv_read_stop(stream);
		/* Answer what was asked, then close: clients may half-close. A
		 * client that has gone altogether (both directions shut: POLLHUP)
		 * cannot read answers; closing now cancels its jobs. */
		c->finish = true;
		if (n != UV_EOF || peer_gone(c))
			conn_close(c);
	}
	if (rc == -EMSGSIZE)
		line_too_long(c);
	else if (rc == -ENOMEM) {
		log_error("client %llu: out of memory framing input", (unsigned long long)c->id);
		conn_close(c);
	}
	conn_maybe_finish(c);
	conn_unref(c);
}

/* --- accepting -------------------------------------------------------------- */

static void read_cred(struct conn *c)
{
	uv_os_fd_t fd;
	struct ucred uc;
	socklen_t len = sizeof(uc);
	c->cred.pid = -1;
	c->cred.uid = (uid_t)-1;
	c->cred.gid = (gid_t)-1;
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0) {
		c->cred.pid = uc.pid;
		c->cred.uid = uc.uid;
		c->cred.gid = uc.gid;
	}
#ifdef SO_PEERGROUPS
	len = sizeof(c->cred.groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c->cred.groups, &len) == 0)
		c->cred.ngroups = (int)(len / sizeof(gid_t));
	/* ERANGE: more groups than we keep; the primary gid still counts. */
#endif
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct server *s = listener->data;
	if (status < 0) {
		log_warning("accept: %s", uv_strerror(status));
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		log_error("accept: out of memory");
		return;
	}
	/* IPC mode lets answers carry descriptors (pool.create). */
	if (uv_pipe_init(s->loop, &c->pipe, 1) != 0) {
		free(c);
		return;
	}
	c->pipe.data = c;
	c->srv = s;
	c->refs = 1;
	c->id = ++s->next_id;
	hwopt_framer_init(&c->framer, s->d->cfg.max_line_bytes);
	DLIST_PUSH(s->conns, c, prev, next);

	int rc = uv_accept(listener, (uv_stream_t *)&c->pipe);
	if (rc < 0) {
		log_warning("accept: %s", uv_strerror(rc));
		c->refused = true;
		conn_close(c);
		return;
	}
	read_cred(c);
	if (s->st.connections >= s->d->cfg.max_connections) {
		char msg[128];
		c->refused = true;
		s->st.connections_refused++;
		snprintf(msg, sizeof(msg), "too many connections (max_connections %u); try again later",
			 s->d->cfg.max_connections);
		log_warning("refused client pid %d uid %u: %s", (int)c->cred.pid, (unsigned)c->cred.uid,
			    msg);
		send_error(c, NULL, HWOPT_E_EXHAUSTED, msg, NULL);
		c->finish = true;
		conn_maybe_finish(c);
		return;
	}
	c->client = client_new(s->d, c->id, &c->cred);
	if (!c->client) {
		log_error("accept: out of memory");
		c->refused = true;
		conn_close(c);
		return;
	}
	c->client->conn = c;
	s->st.connections++;
	s->st.connections_total++;
	log_debug("client %llu connected: pid %d uid %u gid %u", (unsigned long long)c->id,
		  (int)c->cred.pid, (unsigned)c->cred.uid, (unsigned)c->cred.gid);
	rc = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
	if (rc < 0) {
		log_warning("client %llu: read start: %s", (unsigned long long)c->id, uv_strerror(rc));
		conn_close(c);
	}
}

/* --- listening -------------------------------------------------------------- */

int server_new(struct hwoptd *d, uv_loop_t *loop, struct server **out)
{
	struct server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->d = d;
	s->loop = loop;
	int rc = uv_pipe_init(loop, &s->listener, 0);
	if (rc < 0) {
		free(s);
		return rc;
	}
	s->listener.data = s;
	*out = s;
	return 0;
}

static int start_listening(struct server *s, char *err, size_t errlen)
{
	int rc = uv_listen((uv_stream_t *)&s->listener, SOMAXCONN, on_connection);
	if (rc < 0) {
		snprintf(err, errlen, "listen: %s", uv_strerror(rc));
		return rc;
	}
	s->listening = true;
	return 0;
}

int server_listen_path(struct server *s, const char *path, gid_t gid, char *err, size_t errlen)
{
	int rc = socket_path_prepare(path, gid, err, errlen);
	if (rc < 0)
		return rc;
	rc = uv_pipe_bind(&s->listener, path);
	if (rc < 0) {
		snprintf(err, errlen, "cannot bind %s: %s", path, uv_strerror(rc));
		return rc;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	/* Clients cannot connect before listen, so the mode is set in time. */
	if (chmod(path, 0660) < 0 || (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0)) {
		rc = -errno;
		snprintf(err, errlen, "cannot set owner and mode of %s: %s", path, strerror(errno));
		return rc;
	}
	return start_listening(s, err, errlen);
}

int server_listen_fd(struct server *s, int fd, char *err, size_t errlen)
{
	int rc = uv_pipe_open(&s->listener, fd);
	if (rc < 0) {
		snprintf(err, errlen, "cannot use the passed socket (fd %d): %s", fd, uv_strerror(rc));
		return rc;
	}
	return start_listening(s, err, errlen);
}

/* --- stopping --------------------------------------------------------------- */

static void on_listener_closed(uv_handle_t *h)
{
	struct server *s = h->data;
	s->listening = false;
	if (s->stopping && !s->conns && s->on_drained) {
		void (*cb)(struct hwoptd *) = s->on_drained;
		s->on_drained = NULL;
		cb(s->d);
	}
}

void server_stop(struct server *s, void (*on_drained)(struct hwoptd *d))
{
	if (s->stopping)
		return;
	s->stopping = true;
	s->on_drained = on_drained;
	/* Only a path we bound is ours to remove; an activated socket is systemd's. */
	if (s->path[0])
		unlink(s->path);
	uv_close((uv_handle_t *)&s->listener, on_listener_closed);
	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (!c->closing)
			uv_read_stop((uv_stream_t *)&c->pipe);
		c->finish = true;
		conn_maybe_finish(c);
	}
}

void server_abort(struct server *s)
{
	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		conn_close(c);
	}
}

void server_free(struct server *s)
{
	free(s);
}

void server_get_stats(const struct server *s, struct server_stats *st)
{
	*st = s->st;
}

const char *server_path(const struct server *s)
{
	return s->path;
}
