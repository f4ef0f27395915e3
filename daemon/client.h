/* A connected client as the jobs and pools see it: its credentials, its
 * jobs in flight and its pools. Made when the connection is accepted; the
 * connection's close cancels its jobs and destroys its pools. Loop thread
 * only. */
#ifndef HWOPTD_CLIENT_H
#define HWOPTD_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "server.h"

struct hwoptd;
struct job;

struct client {
	struct hwoptd *d;
	uint64_t id;            /* the connection's id */
	struct peer_cred cred;
	bool gone;              /* the connection has closed */
	struct conn *conn;      /* NULL once gone */
	unsigned refs;          /* the connection, plus one per job in flight */
	struct job *jobs;       /* queued and running, newest first */
	unsigned n_jobs;
	uint64_t pool_bytes;    /* bytes of the pools it holds (quota) */
	struct client *prev, *next;
};

struct client *client_new(struct hwoptd *d, uint64_t id, const struct peer_cred *cred);
/* The connection closed: cancel its jobs, destroy its pools, drop its ref. */
void client_gone(struct hwoptd *d, struct client *c);
void client_ref(struct client *c);
void client_unref(struct client *c);

/* {connection, pid, uid} for listings. */
cJSON *client_json(const struct client *c);

#endif
