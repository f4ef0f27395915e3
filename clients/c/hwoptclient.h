/* libhwoptclient: a blocking client for hwoptd's JSON-RPC over a Unix socket.
 * One call at a time per handle; every call has a deadline. */
#ifndef HWOPTCLIENT_H
#define HWOPTCLIENT_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct hwopt_client;

/* The socket a client uses when none is named: $HWOPT_SOCKET, else
 * /run/hwoptd/hwoptd.sock for root, else $XDG_RUNTIME_DIR/hwoptd/hwoptd.sock,
 * else /tmp/hwoptd-$UID/hwoptd.sock. Writes into buf and returns it. */
const char *hwopt_default_socket(char *buf, size_t len);

/* Connects within timeout_ms. Returns NULL and sets errno on failure. */
struct hwopt_client *hwopt_client_connect(const char *path, int timeout_ms);
void hwopt_client_close(struct hwopt_client *c);

enum hwopt_call_status {
	HWOPT_CALL_OK = 0,       /* *result set */
	HWOPT_CALL_RPC_ERROR,    /* the daemon answered with an error: *error set */
	HWOPT_CALL_IO_ERROR,     /* send/receive failed, or the daemon closed: errno */
	HWOPT_CALL_TIMEOUT,      /* no answer within the deadline */
	HWOPT_CALL_BAD_REPLY,    /* the reply was not JSON-RPC */
};

/* Sends {method, params} (params consumed, may be NULL) and waits up to
 * timeout_ms (<0: forever) for the answer with the same id. On OK *result
 * is the result (caller frees); on RPC_ERROR *error is the error object. */
enum hwopt_call_status hwopt_client_call(struct hwopt_client *c, const char *method,
					 cJSON *params, int timeout_ms,
					 cJSON **result, cJSON **error);

#endif
