/* libhwoptclient: connection, framing, pipelining and descriptor passing.
 *
 * Receiving. Answers are read with recvmsg into one buffer; the bytes are
 * counted as stream offsets so that a descriptor can be tied to a line.
 * The kernel hands descriptors out with the read that takes the first byte
 * of the write that carried them, and ends that read with that write's
 * bytes; earlier writes' bytes may come in the same read. So the
 * descriptors of one read belong to a line starting in it: the line whose
 * answer says it carries one ("fd": "scm_rights", as pool.create's does),
 * else the last line starting in that read (the daemon writes one answer
 * per write). A descriptor no line takes is closed.
 *
 * Notifications (a method and no id: telemetry.sample) are kept in their
 * own queue for hwopt_client_notification; answers met while waiting for
 * one go to the answers' stash, and the other way round. */
#include "hwoptclient.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RX_ROOM (64 * 1024)        /* free room each read gets */
#define RX_KEEP (4 * 1024 * 1024)  /* buffers above this are freed when empty */
#define TX_INIT 4096
#define RX_MAX_FDS 253             /* SCM_MAX_FD */
#define NO_LINE UINT64_MAX

/* A descriptor received with the bytes [start, end) of the stream. */
struct rx_fd {
	int fd;
	uint64_t start, end;
	uint64_t anchor; /* the last line start in [start, end); NO_LINE when none */
};

/* One answer (or notification) taken off the stream. */
struct answer {
	struct answer *next;
	enum hwopt_call_status status; /* OK, RPC_ERROR or BAD_REPLY */
	cJSON *note;                   /* a notification: the whole message (status OK) */
	long long id;                  /* -1 when not a number */
	bool id_null;                  /* id null or absent */
	cJSON *result, *error;
	int fd;
};

struct hwopt_client {
	int fd;
	long long next_id;
	int timeout_ms;
	bool eof;    /* the daemon closed its side */
	bool broken; /* a request was cut mid-line: the stream is out of step */

	/* Received bytes: buf[head, len) not yet taken, buf[0] is stream
	 * offset base, no '\n' in buf[head, scan). */
	char *buf;
	size_t head, len, cap, scan;
	uint64_t base;
	bool last_nl; /* the last byte received was '\n' (true at start) */

	struct rx_fd *fds; /* in arrival order */
	size_t nfds, fdcap;

	struct answer *stash, *stash_tail; /* answers kept for hwopt_client_recv */
	struct answer *notes, *notes_tail; /* notifications not yet taken */

	char *out; /* the request being written, reused */
	size_t outcap;
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

static long long deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* Milliseconds left before deadline (-1: none), at least 0. */
static int left(long long deadline)
{
	if (deadline < 0)
		return -1;
	long long l = deadline - now_ms();
	return l < 0 ? 0 : l > INT32_MAX ? INT32_MAX : (int)l;
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
			int e = rc == 0 ? ETIMEDOUT : soerr ? soerr : errno;
			close(fd);
			errno = e;
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
	c->timeout_ms = 60000;
	c->last_nl = true;
	return c;
}

static void answer_free(struct answer *a)
{
	cJSON_Delete(a->result);
	cJSON_Delete(a->error);
	cJSON_Delete(a->note);
	if (a->fd >= 0)
		close(a->fd);
}

static void queue_push(struct answer **head, struct answer **tail, struct answer *a)
{
	struct answer *s = malloc(sizeof(*s));
	if (!s) {
		answer_free(a); /* lost; its owner will time out */
		return;
	}
	*s = *a;
	s->next = NULL;
	if (*tail)
		(*tail)->next = s;
	else
		*head = s;
	*tail = s;
}

/* Takes the first of a queue into *a; false when it is empty. */
static bool queue_pop(struct answer **head, struct answer **tail, struct answer *a)
{
	struct answer *s = *head;
	if (!s)
		return false;
	*head = s->next;
	if (!*head)
		*tail = NULL;
	*a = *s;
	free(s);
	return true;
}

void hwopt_client_close(struct hwopt_client *c)
{
	if (!c)
		return;
	int e = errno;
	close(c->fd);
	for (size_t i = 0; i < c->nfds; i++)
		close(c->fds[i].fd);
	struct answer a;
	while (queue_pop(&c->stash, &c->stash_tail, &a) || queue_pop(&c->notes, &c->notes_tail, &a))
		answer_free(&a);
	free(c->fds);
	free(c->buf);
	free(c->out);
	free(c);
	errno = e;
}

void hwopt_client_set_timeout(struct hwopt_client *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

int hwopt_client_timeout(const struct hwopt_client *c)
{
	return c->timeout_ms;
}

/* ---- receiving ---------------------------------------------------------------- */

/* Makes RX_ROOM bytes of room after len: drops taken bytes, then grows. */
static int rx_room(struct hwopt_client *c)
{
	if (c->head == c->len && c->cap > RX_KEEP) {
		free(c->buf);
		c->buf = NULL;
		c->base += c->head;
		c->head = c->len = c->scan = c->cap = 0;
	}
	if (c->head > 0 && c->cap - c->len < RX_ROOM) {
		memmove(c->buf, c->buf + c->head, c->len - c->head);
		c->base += c->head;
		c->len -= c->head;
		c->scan -= c->head;
		c->head = 0;
	}
	if (c->cap - c->len >= RX_ROOM)
		return 0;
	size_t cap = c->cap ? c->cap : 2 * RX_ROOM;
	while (cap - c->len < RX_ROOM) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	char *nb = realloc(c->buf, cap);
	if (!nb)
		return -ENOMEM;
	c->buf = nb;
	c->cap = cap;
	return 0;
}

static int fds_push(struct hwopt_client *c, const int *fds, size_t n, uint64_t start,
		    uint64_t end, uint64_t anchor)
{
	if (c->nfds + n > c->fdcap) {
		size_t cap = c->fdcap ? c->fdcap : 8;
		while (cap < c->nfds + n)
			cap *= 2;
		struct rx_fd *nf = realloc(c->fds, cap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		c->fds = nf;
		c->fdcap = cap;
	}
	for (size_t i = 0; i < n; i++)
		c->fds[c->nfds++] = (struct rx_fd){ fds[i], start, end, anchor };
	return 0;
}

/* One recvmsg into the buffer, without waiting. Returns the bytes read, 0
 * at the end of the stream (c->eof set), or -errno (-EAGAIN: nothing). */
static ssize_t rx_read(struct hwopt_client *c)
{
	int rc = rx_room(c);
	if (rc < 0)
		return rc;
	union {
		char b[CMSG_SPACE(sizeof(int) * RX_MAX_FDS)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = c->buf + c->len, .iov_len = c->cap - c->len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.b, .msg_controllen = sizeof(cbuf.b),
	};
	ssize_t r;
	do
		r = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;

	int fds[RX_MAX_FDS];
	size_t nfds = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n && nfds < RX_MAX_FDS; i++)
			memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	}
	if (r == 0) {
		c->eof = true;
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		return 0;
	}
	size_t from = c->len;
	c->len += (size_t)r;
	if (nfds) {
		/* The last line start among the bytes just read. */
		uint64_t anchor = NO_LINE;
		for (size_t q = c->len - 1; q > from; q--)
			if (c->buf[q - 1] == '\n') {
				anchor = c->base + q;
				break;
			}
		if (anchor == NO_LINE && c->last_nl)
			anchor = c->base + from;
		if (anchor == NO_LINE ||
		    fds_push(c, fds, nfds, c->base + from, c->base + c->len, anchor) < 0)
			for (size_t i = 0; i < nfds; i++)
				close(fds[i]); /* no line to go with, or no memory */
	}
	c->last_nl = c->buf[c->len - 1] == '\n';
	return r;
}

/* Waits up to deadline for the socket to become readable. */
static enum hwopt_call_status rx_wait(struct hwopt_client *c, long long deadline)
{
	struct pollfd pf = { .fd = c->fd, .events = POLLIN };
	int rc = poll(&pf, 1, left(deadline));
	if (rc == 0)
		return HWOPT_CALL_TIMEOUT;
	if (rc < 0 && errno != EINTR)
		return HWOPT_CALL_IO_ERROR;
	return HWOPT_CALL_OK;
}

/* The descriptor of the line starting at stream offset ls, or -1; closes
 * descriptors no later line can take. See the top of the file. */
static int fds_take(struct hwopt_client *c, uint64_t ls, bool marked)
{
	int fd = -1;
	size_t i = 0, keep = 0;
	if (c->nfds == 0)
		return -1;
	for (; i < c->nfds && c->fds[i].start <= ls; i++) {
		struct rx_fd *f = &c->fds[i];
		if (f->end <= ls) {
			close(f->fd); /* its read held no line that took it */
		} else if (fd < 0 && (marked || f->anchor == ls)) {
			fd = f->fd;
		} else if (f->anchor == ls) {
			close(f->fd); /* a second one for the same line */
		} else {
			c->fds[keep++] = *f; /* for a later line of the same read */
		}
	}
	memmove(c->fds + keep, c->fds + i, (c->nfds - i) * sizeof(*c->fds));
	c->nfds = keep + (c->nfds - i);
	return fd;
}

/* Parses one line into *a and ties its descriptor to it. */
static void parse_answer(struct hwopt_client *c, const char *line, size_t n, uint64_t ls,
			 struct answer *a)
{
	*a = (struct answer){ .status = HWOPT_CALL_BAD_REPLY, .id = -1, .id_null = true, .fd = -1 };
	cJSON *msg = cJSON_ParseWithLength(line, n);
	bool marked = false;
	if (cJSON_IsObject(msg) && !cJSON_HasObjectItem(msg, "id") &&
	    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(msg, "method")) &&
	    !cJSON_HasObjectItem(msg, "result") && !cJSON_HasObjectItem(msg, "error")) {
		/* A notification: kept whole. */
		a->status = HWOPT_CALL_OK;
		a->note = msg;
		msg = NULL;
	} else if (cJSON_IsObject(msg)) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
		if (cJSON_IsNumber(id)) {
			/* Ours are small positive integers; others stay -1. */
			if (id->valuedouble >= 0 && id->valuedouble < 9007199254740992.0)
				a->id = (long long)id->valuedouble;
			a->id_null = false;
		} else if (id && !cJSON_IsNull(id)) {
			a->id_null = false; /* a string: not one of ours */
		}
		a->result = cJSON_DetachItemFromObjectCaseSensitive(msg, "result");
		a->error = cJSON_DetachItemFromObjectCaseSensitive(msg, "error");
		if (a->error) {
			cJSON_Delete(a->result);
			a->result = NULL;
			a->status = HWOPT_CALL_RPC_ERROR;
		} else if (a->result) {
			a->status = HWOPT_CALL_OK;
			const cJSON *how = cJSON_GetObjectItemCaseSensitive(a->result, "fd");
			marked = cJSON_IsString(how) && strcmp(how->valuestring, "scm_rights") == 0;
		}
	}
	cJSON_Delete(msg);
	a->fd = fds_take(c, ls, marked);
}

/* Takes the next answer off the stream (not the stash). Returns OK with *a
 * filled (a->status says what it is), or IO_ERROR / TIMEOUT. */
static enum hwopt_call_status next_answer(struct hwopt_client *c, long long deadline,
					  struct answer *a)
{
	for (;;) {
		char *nl = c->scan < c->len ? memchr(c->buf + c->scan, '\n', c->len - c->scan) : NULL;
		if (nl) {
			size_t start = c->head, n = (size_t)(nl - c->buf) - start;
			c->head = c->scan = start + n + 1;
			if (n > 0 && c->buf[start + n - 1] == '\r')
				n--;
			if (n == 0) { /* a blank line */
				int fd = fds_take(c, c->base + start, false);
				if (fd >= 0)
					close(fd);
				continue;
			}
			parse_answer(c, c->buf + start, n, c->base + start, a);
			return HWOPT_CALL_OK;
		}
		c->scan = c->len;
		if (c->eof) {
			errno = ECONNRESET;
			return HWOPT_CALL_IO_ERROR;
		}
		ssize_t r = rx_read(c);
		if (r >= 0)
			continue;
		if (r != -EAGAIN) {
			errno = (int)-r;
			return HWOPT_CALL_IO_ERROR;
		}
		enum hwopt_call_status rc = rx_wait(c, deadline);
		if (rc != HWOPT_CALL_OK)
			return rc;
	}
}

/* Hands an answer out and frees what the caller did not take. */
static enum hwopt_call_status deliver(struct answer *a, cJSON **result, cJSON **error, int *fd)
{
	enum hwopt_call_status st = a->status;
	if (result) {
		*result = a->result;
		a->result = NULL;
	}
	if (error && st == HWOPT_CALL_RPC_ERROR) {
		*error = a->error;
		a->error = NULL;
	}
	if (fd) {
		*fd = a->fd;
		a->fd = -1;
	}
	answer_free(a);
	if (st == HWOPT_CALL_BAD_REPLY)
		errno = EPROTO;
	return st;
}

static void stash_push(struct hwopt_client *c, struct answer *a)
{
	queue_push(&c->stash, &c->stash_tail, a);
}

/* next_answer that keeps notifications for hwopt_client_notification. */
static enum hwopt_call_status next_reply(struct hwopt_client *c, long long deadline,
					 struct answer *a)
{
	for (;;) {
		enum hwopt_call_status rc = next_answer(c, deadline, a);
		if (rc != HWOPT_CALL_OK || !a->note)
			return rc;
		queue_push(&c->notes, &c->notes_tail, a);
	}
}

enum hwopt_call_status hwopt_client_recv_fd(struct hwopt_client *c, int timeout_ms,
					    long long *id, cJSON **result, cJSON **error,
					    int *fd)
{
	struct answer a;
	if (id)
		*id = -1;
	*result = NULL;
	if (error)
		*error = NULL;
	if (fd)
		*fd = -1;
	if (!queue_pop(&c->stash, &c->stash_tail, &a)) {
		enum hwopt_call_status rc = next_reply(c, deadline_of(timeout_ms), &a);
		if (rc != HWOPT_CALL_OK)
			return rc;
	}
	if (id)
		*id = a.id;
	return deliver(&a, result, error, fd);
}

enum hwopt_call_status hwopt_client_recv(struct hwopt_client *c, int timeout_ms, long long *id,
					 cJSON **result, cJSON **error)
{
	return hwopt_client_recv_fd(c, timeout_ms, id, result, error, NULL);
}

enum hwopt_call_status hwopt_client_notification(struct hwopt_client *c, int timeout_ms,
						 cJSON **msg)
{
	long long deadline = deadline_of(timeout_ms);
	struct answer a;
	*msg = NULL;
	while (!queue_pop(&c->notes, &c->notes_tail, &a)) {
		enum hwopt_call_status rc = next_answer(c, deadline, &a);
		if (rc != HWOPT_CALL_OK)
			return rc;
		if (!a.note)
			stash_push(c, &a); /* an answer: for hwopt_client_recv */
		else
			break;
	}
	*msg = a.note;
	a.note = NULL;
	answer_free(&a);
	return HWOPT_CALL_OK;
}

int hwopt_client_fd(const struct hwopt_client *c)
{
	return c->fd;
}

/* ---- sending ------------------------------------------------------------------ */

static int tx_reserve(struct hwopt_client *c, size_t need)
{
	if (need <= c->outcap)
		return 0;
	size_t cap = c->outcap ? c->outcap : TX_INIT;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	char *nb = realloc(c->out, cap);
	if (!nb)
		return -ENOMEM;
	c->out = nb;
	c->outcap = cap;
	return 0;
}

/* Writes {"jsonrpc":"2.0","id":ID,"method":"METHOD" into c->out; returns
 * its length or -ENOMEM. */
static long long tx_head(struct hwopt_client *c, const char *method, long long id)
{
	size_t mlen = strlen(method);
	if (mlen > SIZE_MAX / 8 || tx_reserve(c, 128 + 6 * mlen) < 0)
		return -ENOMEM;
	size_t n = (size_t)sprintf(c->out, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"", id);
	for (const unsigned char *p = (const unsigned char *)method; *p; p++) {
		if (*p == '"' || *p == '\\') {
			c->out[n++] = '\\';
			c->out[n++] = (char)*p;
		} else if (*p < 0x20) {
			n += (size_t)sprintf(c->out + n, "\\u%04x", *p);
		} else {
			c->out[n++] = (char)*p;
		}
	}
	c->out[n++] = '"';
	return (long long)n;
}

/* Writes all n bytes of c->out. While the socket has no room it reads
 * answers into the buffer, so that a daemon writing to us is not held up. */
static enum hwopt_call_status tx_write(struct hwopt_client *c, size_t n, long long deadline)
{
	const char *p = c->out;
	bool started = false, reading = true;
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			started = true;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN) {
			if (started)
				c->broken = true;
			return HWOPT_CALL_IO_ERROR;
		}
		struct pollfd pf = { .fd = c->fd,
				     .events = POLLOUT | (reading && !c->eof ? POLLIN : 0) };
		int rc = poll(&pf, 1, left(deadline));
		if (rc == 0) {
			if (started)
				c->broken = true; /* half a line went out */
			return HWOPT_CALL_TIMEOUT;
		}
		if (rc < 0 && errno != EINTR)
			return HWOPT_CALL_IO_ERROR;
		if (rc > 0 && (pf.revents & POLLIN)) {
			ssize_t r = rx_read(c);
			if (r < 0 && r != -EAGAIN)
				reading = false; /* no memory: just wait for room */
		}
	}
	return HWOPT_CALL_OK;
}

/* Sends one request: params (consumed) or params_text, never both. */
static enum hwopt_call_status send_request(struct hwopt_client *c, const char *method,
					   cJSON *params, const char *params_text,
					   long long deadline, long long *idp)
{
	long long id = c->next_id++;
	if (idp)
		*idp = id;
	if (c->broken) {
		cJSON_Delete(params);
		errno = EPIPE;
		return HWOPT_CALL_IO_ERROR;
	}
	long long head = tx_head(c, method, id);
	size_t n = head < 0 ? 0 : (size_t)head;
	static const char key[] = ",\"params\":";
	const size_t tail = 3; /* "}\n" and the terminator */
	if (head >= 0 && params) {
		memcpy(c->out + n, key, sizeof(key) - 1);
		n += sizeof(key) - 1;
		/* Rendered in place; when the buffer is too small, rendered
		 * apart once and the buffer grown for the next ones. */
		size_t room = c->outcap - n - tail;
		if (room <= INT32_MAX && cJSON_PrintPreallocated(params, c->out + n, (int)room, 0)) {
			n += strlen(c->out + n);
		} else {
			char *text = cJSON_PrintUnformatted(params);
			size_t plen = text ? strlen(text) : 0;
			if (!text || tx_reserve(c, n + plen + tail) < 0) {
				head = -ENOMEM;
			} else {
				memcpy(c->out + n, text, plen);
				n += plen;
			}
			free(text);
		}
	} else if (head >= 0 && params_text) {
		size_t plen = strlen(params_text);
		if (tx_reserve(c, n + sizeof(key) + plen + tail) < 0) {
			head = -ENOMEM;
		} else {
			memcpy(c->out + n, key, sizeof(key) - 1);
			n += sizeof(key) - 1;
			char *d = c->out + n;
			memcpy(d, params_text, plen);
			for (char *q = d; (q = memchr(q, '\n', plen - (size_t)(q - d))); q++)
				*q = ' ';
			for (char *q = d; (q = memchr(q, '\r', plen - (size_t)(q - d))); q++)
				*q = ' ';
			n += plen;
		}
	}
	cJSON_Delete(params);
	if (head < 0 || tx_reserve(c, n + tail) < 0) {
		errno = ENOMEM;
		return HWOPT_CALL_IO_ERROR;
	}
	c->out[n++] = '}';
	c->out[n++] = '\n';
	enum hwopt_call_status rc = tx_write(c, n, deadline);
	int e = errno;
	if (c->outcap > RX_KEEP) { /* one huge request: give the memory back */
		free(c->out);
		c->out = NULL;
		c->outcap = 0;
	}
	errno = e;
	return rc;
}

enum hwopt_call_status hwopt_client_send(struct hwopt_client *c, const char *method,
					 cJSON *params, long long *id)
{
	return send_request(c, method, params, NULL, deadline_of(c->timeout_ms), id);
}

enum hwopt_call_status hwopt_client_send_text(struct hwopt_client *c, const char *method,
					      const char *params_json, long long *id)
{
	return send_request(c, method, NULL, params_json, deadline_of(c->timeout_ms), id);
}

/* ---- blocking calls ----------------------------------------------------------- */

enum hwopt_call_status hwopt_client_call_fd(struct hwopt_client *c, const char *method,
					    cJSON *params, int timeout_ms, cJSON **result,
					    cJSON **error, int *fd)
{
	long long deadline = deadline_of(timeout_ms), id;
	struct answer a;
	*result = NULL;
	if (error)
		*error = NULL;
	if (fd)
		*fd = -1;

	enum hwopt_call_status rc = send_request(c, method, params, NULL, deadline, &id);
	if (rc == HWOPT_CALL_IO_ERROR && !c->broken) {
		/* The daemon may have said why before closing (too many
		 * connections): read what it left, without waiting. */
		int e = errno;
		if (next_reply(c, now_ms(), &a) == HWOPT_CALL_OK) {
			if (a.status == HWOPT_CALL_RPC_ERROR && a.id_null)
				return deliver(&a, NULL, error, NULL);
			stash_push(c, &a); /* another request's answer */
		}
		errno = e;
		return rc;
	}
	if (rc != HWOPT_CALL_OK)
		return rc;

	for (;;) {
		if ((rc = next_reply(c, deadline, &a)) != HWOPT_CALL_OK)
			return rc;
		/* An error with id null is the daemon speaking about the
		 * connection (too many clients, line too long): it is ours. A
		 * line that is not JSON-RPC names no one: report it here. */
		bool ours = (!a.id_null && a.id == id) ||
			    (a.id_null && a.status != HWOPT_CALL_OK);
		if (ours)
			return deliver(&a, result, error, fd);
		stash_push(c, &a);
	}
}

enum hwopt_call_status hwopt_client_call(struct hwopt_client *c, const char *method,
					 cJSON *params, int timeout_ms,
					 cJSON **result, cJSON **error)
{
	return hwopt_client_call_fd(c, method, params, timeout_ms, result, error, NULL);
}

enum hwopt_call_status hwopt_client_infer(struct hwopt_client *c, const char *model,
					  cJSON *inputs, cJSON *outputs, const char *priority,
					  int deadline_ms, int timeout_ms, cJSON **result,
					  cJSON **error)
{
	cJSON *p = cJSON_CreateObject();
	bool ok = p && model && inputs && cJSON_AddStringToObject(p, "model", model);
	bool in_owned = false, out_owned = false;
	if (ok)
		ok = in_owned = cJSON_AddItemToObject(p, "inputs", inputs);
	if (ok && outputs)
		ok = out_owned = cJSON_AddItemToObject(p, "outputs", outputs);
	if (ok && priority)
		ok = cJSON_AddStringToObject(p, "priority", priority) != NULL;
	if (ok && deadline_ms > 0)
		ok = cJSON_AddNumberToObject(p, "deadline_ms", deadline_ms) != NULL;
	if (!ok) {
		if (!in_owned)
			cJSON_Delete(inputs);
		if (!out_owned)
			cJSON_Delete(outputs);
		cJSON_Delete(p);
		*result = NULL;
		if (error)
			*error = NULL;
		errno = model && inputs ? ENOMEM : EINVAL;
		return HWOPT_CALL_IO_ERROR;
	}
	return hwopt_client_call(c, "infer", p, timeout_ms, result, error);
}
