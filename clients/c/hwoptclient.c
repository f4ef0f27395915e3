#include "hwoptclient.h"

#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct hwopt_client {
	int fd;
	long long next_id;
	char *buf; /* bytes received past the last answer */
	size_t len, cap;
};

const char *hwopt_default_socket(char *buf, size_t len)
{
	const char *env = getenv("HWOPT_SOCKET");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (env && *env)
		snprintf(buf, len, "%s", env);
	else if (geteuid() == 0)
		snprintf(buf, len, "/run/hwoptd/hwoptd.sock");
	else if (xdg && *xdg)
		snprintf(buf, len, "%s/hwoptd/hwoptd.sock", xdg);
	else
		snprintf(buf, len, "/tmp/hwoptd-%u/hwoptd.sock", (unsigned)geteuid());
	return buf;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline (-1: none), at least 0. */
static int left(long long deadline)
{
	if (deadline < 0)
		return -1;
	long long l = deadline - now_ms();
	return l < 0 ? 0 : (int)l;
}

struct hwopt_client *hwopt_client_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* A full backlog answers EAGAIN on Unix sockets: wait for room. */
		if (errno != EINPROGRESS && errno != EAGAIN) {
			int e = errno;
			close(fd);
			errno = e;
			return NULL;
		}
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int rc = poll(&p, 1, timeout_ms);
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (rc <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
			close(fd);
			errno = rc == 0 ? ETIMEDOUT : soerr ? soerr : errno;
			return NULL;
		}
	}
	struct hwopt_client *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	c->fd = fd;
	c->next_id = 1;
	return c;
}

void hwopt_client_close(struct hwopt_client *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

static int send_all(struct hwopt_client *c, const char *p, size_t n, long long deadline)
{
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return HWOPT_CALL_IO_ERROR;
		struct pollfd pf = { .fd = c->fd, .events = POLLOUT };
		int rc = poll(&pf, 1, left(deadline));
		if (rc == 0)
			return HWOPT_CALL_TIMEOUT;
		if (rc < 0 && errno != EINTR)
			return HWOPT_CALL_IO_ERROR;
	}
	return HWOPT_CALL_OK;
}

/* Reads until one whole line is buffered; returns its length (without
 * '\n') through *linelen. */
static int recv_line(struct hwopt_client *c, size_t *linelen, long long deadline)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			*linelen = (size_t)(nl - c->buf);
			return HWOPT_CALL_OK;
		}
		if (c->cap - c->len < 65536) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *nb = realloc(c->buf, cap);
			if (!nb) {
				errno = ENOMEM;
				return HWOPT_CALL_IO_ERROR;
			}
			c->buf = nb;
			c->cap = cap;
		}
		ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (r > 0) {
			c->len += (size_t)r;
			continue;
		}
		if (r == 0) {
			errno = ECONNRESET;
			return HWOPT_CALL_IO_ERROR;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return HWOPT_CALL_IO_ERROR;
		struct pollfd pf = { .fd = c->fd, .events = POLLIN };
		int rc = poll(&pf, 1, left(deadline));
		if (rc == 0)
			return HWOPT_CALL_TIMEOUT;
		if (rc < 0 && errno != EINTR)
			return HWOPT_CALL_IO_ERROR;
	}
}

static void consume(struct hwopt_client *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

enum hwopt_call_status hwopt_client_call(struct hwopt_client *c, const char *method,
					 cJSON *params, int timeout_ms,
					 cJSON **result, cJSON **error)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	long long id = c->next_id++;
	*result = NULL;
	if (error)
		*error = NULL;

	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "jsonrpc", "2.0");
	cJSON_AddNumberToObject(req, "id", (double)id);
	cJSON_AddStringToObject(req, "method", method);
	if (params)
		cJSON_AddItemToObject(req, "params", params);
	char *text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (!text) {
		errno = ENOMEM;
		return HWOPT_CALL_IO_ERROR;
	}
	size_t n = strlen(text);
	text[n] = '\n'; /* overwrite the terminator: send n+1 bytes */
	int rc = send_all(c, text, n + 1, deadline);
	free(text);
	if (rc == HWOPT_CALL_IO_ERROR) {
		/* The daemon may have said why before closing (too many
		 * connections): read what it left, without waiting. */
		int e = errno;
		size_t len;
		if (recv_line(c, &len, now_ms()) == HWOPT_CALL_OK) {
			cJSON *msg = cJSON_ParseWithLength(c->buf, len);
			cJSON *err = cJSON_DetachItemFromObjectCaseSensitive(msg, "error");
			consume(c, len + 1);
			cJSON_Delete(msg);
			if (err) {
				if (error)
					*error = err;
				else
					cJSON_Delete(err);
				return HWOPT_CALL_RPC_ERROR;
			}
		}
		errno = e;
		return rc;
	}
	if (rc != HWOPT_CALL_OK)
		return rc;

	for (;;) {
		size_t len;
		if ((rc = recv_line(c, &len, deadline)) != HWOPT_CALL_OK)
			return rc;
		cJSON *msg = cJSON_ParseWithLength(c->buf, len);
		consume(c, len + 1);
		if (!msg)
			return HWOPT_CALL_BAD_REPLY;
		const cJSON *rid = cJSON_GetObjectItemCaseSensitive(msg, "id");
		cJSON *res = cJSON_DetachItemFromObjectCaseSensitive(msg, "result");
		cJSON *err = cJSON_DetachItemFromObjectCaseSensitive(msg, "error");
		/* An error with id null is the daemon speaking about the
		 * connection (too many clients, line too long): it is ours. */
		bool ours = cJSON_IsNumber(rid) ? rid->valuedouble == (double)id
						: (cJSON_IsNull(rid) || !rid) && err;
		cJSON_Delete(msg);
		if (!ours) {
			cJSON_Delete(res);
			cJSON_Delete(err);
			continue;
		}
		if (err) {
			cJSON_Delete(res);
			if (error)
				*error = err;
			else
				cJSON_Delete(err);
			return HWOPT_CALL_RPC_ERROR;
		}
		if (!res)
			return HWOPT_CALL_BAD_REPLY;
		*result = res;
		return HWOPT_CALL_OK;
	}
}
