/* GET /metrics and GET /healthz over HTTP with libmicrohttpd, on the loop
 * thread: MHD runs in external-epoll mode and libuv polls its epoll fd, so
 * a scrape reads the daemon's state without locks. Listens where
 * [metrics] listen says: HOST:PORT, [V6]:PORT, or a Unix socket path. */
#ifndef HWOPTD_METRICS_HTTP_H
#define HWOPTD_METRICS_HTTP_H

#include <stddef.h>

struct hwoptd;
struct metrics_http;

/* Starts d->http (stays NULL when listen is empty). A negative errno with
 * err when the address cannot be bound. */
int metrics_http_start(struct hwoptd *d, char *err, size_t errlen);
/* Stops listening and closes its handles (before the loop's last run). */
void metrics_http_close(struct metrics_http *h);
/* Frees it once the loop has run the close callbacks. */
void metrics_http_free(struct metrics_http *h);

#endif
