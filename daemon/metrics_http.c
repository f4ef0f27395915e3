#include "metrics_http.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <uv.h>

#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "socket_path.h"
#include "telemetry/telemetry.h"

struct metrics_http {
	struct hwoptd *d;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer;
	int handles;            /* open libuv handles */
	char unix_path[CONFIG_SOCKET_MAX];
	uint64_t scrapes;
};

static void run_mhd(struct metrics_http *h);

static void on_timer(uv_timer_t *t)
{
	run_mhd(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	run_mhd(p->data);
}

/* Serves what is ready, then arms the timer for MHD's own timeouts (idle
 * connections, partial requests). */
static void run_mhd(struct metrics_http *h)
{
	if (!h->mhd)
		return;
	MHD_run(h->mhd);
	MHD_UNSIGNED_LONG_LONG ms;
	if (MHD_get_timeout(h->mhd, &ms) == MHD_YES)
		uv_timer_start(&h->timer, on_timer, ms, 0);
	else
		uv_timer_stop(&h->timer);
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, char *body,
			       size_t len, const char *type)
{
	struct MHD_Response *r = body ? MHD_create_response_from_buffer(len, body,
									 MHD_RESPMEM_MUST_FREE)
				      : NULL;
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	char *body = strdup(text);
	return respond(conn, status, body, body ? strlen(body) : 0, "text/plain; charset=utf-8");
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Healthy: serving, and telemetry has sampled within three intervals (or
 * it is still starting). */
static enum MHD_Result healthz(struct metrics_http *h, struct MHD_Connection *conn)
{
	struct hwoptd *d = h->d;
	char msg[256];
	if (d->stopping)
		return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "unhealthy: stopping\n");
	uint64_t last = telemetry_latest_mono_ns(d->tm);
	uint64_t limit = 3ull * telemetry_interval_ms(d->tm) * 1000000u + 5000000000ull;
	uint64_t now = mono_ns();
	if (d->tm && last && now - last > limit) {
		snprintf(msg, sizeof(msg), "unhealthy: the last telemetry sample is %.1f s old\n",
			 (double)(now - last) / 1e9);
		return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
	}
	return respond_text(conn, MHD_HTTP_OK, "ok\n");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct metrics_http *h = cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		char *body = strdup("only GET and HEAD\n");
		struct MHD_Response *r = body ? MHD_create_response_from_buffer(
							strlen(body), body, MHD_RESPMEM_MUST_FREE)
					      : NULL;
		if (!r) {
			free(body);
			return MHD_NO;
		}
		MHD_add_response_header(r, "Allow", "GET, HEAD");
		enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
		MHD_destroy_response(r);
		return rc;
	}
	if (strcmp(url, "/metrics") == 0) {
		size_t len = 0;
		char *text = metrics_render(h->d, &len);
		h->scrapes++;
		if (!text)
			return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		return respond(conn, MHD_HTTP_OK, text, len, "text/plain; version=0.0.4; charset=utf-8");
	}
	if (strcmp(url, "/healthz") == 0)
		return healthz(h, conn);
	if (strcmp(url, "/") == 0)
		return respond_text(conn, MHD_HTTP_OK, "hwoptd: GET /metrics, GET /healthz\n");
	return respond_text(conn, MHD_HTTP_NOT_FOUND, "not found: GET /metrics or /healthz\n");
}

static int bind_tcp(const struct config_listen *l, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char port[8];
	snprintf(port, sizeof(port), "%u", l->port);
	int rc = getaddrinfo(l->host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "[metrics] listen %s:%s: %s", l->host, port, gai_strerror(rc));
		return -EINVAL;
	}
	int fd = -1, e = 0;
	for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			e = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, 64) < 0) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "[metrics] listen %s:%s: %s", l->host, port, strerror(e));
		return -e;
	}
	return fd;
}

static int bind_unix(const struct config_listen *l, gid_t gid, char *err, size_t errlen)
{
	int rc = socket_path_prepare(l->path, gid, err, errlen);
	if (rc < 0)
		return rc;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", l->path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		int e = errno;
		snprintf(err, errlen, "[metrics] listen %s: %s", l->path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	/* Readable by the socket's group, like the control socket. */
	if (chmod(l->path, 0660) < 0 || (gid != (gid_t)-1 && chown(l->path, (uid_t)-1, gid) < 0))
		log_warning("metrics socket %s: %s", l->path, strerror(errno));
	return fd;
}

static void on_closed(uv_handle_t *hd)
{
	struct metrics_http *h = hd->data;
	h->handles--;
}

int metrics_http_start(struct hwoptd *d, char *err, size_t errlen)
{
	struct config_listen l;
	if (config_parse_listen(d->cfg.metrics_listen, &l) < 0) {
		snprintf(err, errlen, "[metrics] listen: '%s' is malformed", d->cfg.metrics_listen);
		return -EINVAL;
	}
	if (l.kind == LISTEN_OFF) {
		log_info("metrics: off ([metrics] listen is empty)");
		return 0;
	}
	int fd = l.kind == LISTEN_TCP ? bind_tcp(&l, err, errlen)
				      : bind_unix(&l, d->cfg.socket_gid, err, errlen);
	if (fd < 0)
		return fd;
	struct metrics_http *h = calloc(1, sizeof(*h));
	if (!h) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->d = d;
	h->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				  MHD_OPTION_END);
	if (!h->mhd) {
		close(fd);
		free(h);
		snprintf(err, errlen, "[metrics] listen %s: libmicrohttpd would not start",
			 d->cfg.metrics_listen);
		return -EIO;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	uv_poll_init(d->loop, &h->poll, info->epoll_fd);
	uv_timer_init(d->loop, &h->timer);
	h->poll.data = h->timer.data = h;
	h->handles = 2;
	uv_poll_start(&h->poll, UV_READABLE, on_poll);
	if (l.kind == LISTEN_UNIX)
		snprintf(h->unix_path, sizeof(h->unix_path), "%s", l.path);
	d->http = h;
	log_info("metrics: serving GET /metrics and /healthz on %s%s", l.kind == LISTEN_UNIX ? "" : "http://",
		 d->cfg.metrics_listen);
	return 0;
}

void metrics_http_close(struct metrics_http *h)
{
	if (!h || !h->mhd)
		return;
	uv_poll_stop(&h->poll);
	uv_timer_stop(&h->timer);
	uv_close((uv_handle_t *)&h->poll, on_closed);
	uv_close((uv_handle_t *)&h->timer, on_closed);
	/* MHD closes the listen socket and any connection. */
	MHD_stop_daemon(h->mhd);
	h->mhd = NULL;
	if (h->unix_path[0])
		unlink(h->unix_path);
}

void metrics_http_free(struct metrics_http *h)
{
	if (!h)
		return;
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	free(h);
}
