/* libhwoptclient: a client for hwoptd's JSON-RPC over a Unix socket
 * (docs/protocol.md). A handle is one connection; it is not thread-safe
 * (one thread at a time). Calls either block for their answer
 * (hwopt_client_call) or are pipelined: many requests sent with
 * hwopt_client_send, their answers taken in arrival order with
 * hwopt_client_recv. Both styles mix: answers that arrive while a blocking
 * call waits for its own are kept for hwopt_client_recv. Notifications
 * (messages without an id, such as telemetry.sample) are kept apart, in
 * arrival order, for hwopt_client_notification; no other call returns them.
 *
 * Ownership: cJSON values passed in as params are consumed (freed by the
 * library, also on failure); cJSON values handed out (results, errors,
 * tensors) belong to the caller, who frees them with cJSON_Delete. Answers
 * are read with recvmsg: file descriptors the daemon passes (SCM_RIGHTS,
 * received close-on-exec) belong to the answer line they came with, are
 * handed out by the *_fd variants, and are closed when nobody takes them. */
#ifndef HWOPTCLIENT_H
#define HWOPTCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hwopt_client;

/* The socket a client uses when none is named: $HWOPT_SOCKET, else
 * /run/hwoptd/hwoptd.sock for root, else $XDG_RUNTIME_DIR/hwoptd/hwoptd.sock,
 * else /tmp/hwoptd-$UID/hwoptd.sock. Writes into buf and returns it. */
const char *hwopt_default_socket(char *buf, size_t len);

/* Connects within timeout_ms (<0: forever). Returns NULL and sets errno on
 * failure. The handle's default timeout (for the calls below that take
 * none) is 60 s. */
struct hwopt_client *hwopt_client_connect(const char *path, int timeout_ms);
/* Closes the connection, frees the handle, closes descriptors nobody took
 * and drops answers nobody received. NULL is a no-op. Pools stay mapped:
 * unmap them with hwopt_pool_unmap (the daemon destroys them). */
void hwopt_client_close(struct hwopt_client *c);

/* The timeout in milliseconds (<0: forever) of the calls that take none:
 * hwopt_client_send's wait for socket room, and the hwopt_pool_* calls. */
void hwopt_client_set_timeout(struct hwopt_client *c, int timeout_ms);
int hwopt_client_timeout(const struct hwopt_client *c);

enum hwopt_call_status {
	HWOPT_CALL_OK = 0,       /* *result set */
	HWOPT_CALL_RPC_ERROR,    /* the daemon answered with an error: *error set */
	HWOPT_CALL_IO_ERROR,     /* send/receive failed, or the daemon closed: errno */
	HWOPT_CALL_TIMEOUT,      /* no answer within the deadline */
	HWOPT_CALL_BAD_REPLY,    /* the reply was not JSON-RPC (or not as documented) */
};

/* Sends {method, params} (params consumed, may be NULL) and waits up to
 * timeout_ms (<0: forever) for the answer with the same id. On OK *result
 * is the result (caller frees); on RPC_ERROR *error is the error object
 * (caller frees; error may be NULL to drop it). An error answer with id
 * null (the daemon speaking about the connection: too many clients, line
 * too long) counts as this call's answer. A descriptor that came with the
 * answer is closed. A timeout while the request was half written leaves the
 * connection unusable (later calls fail with EPIPE). */
enum hwopt_call_status hwopt_client_call(struct hwopt_client *c, const char *method,
					 cJSON *params, int timeout_ms,
					 cJSON **result, cJSON **error);

/* hwopt_client_call that also hands out the descriptor that came with the
 * answer (pool.create's memfd): *fd is it (caller closes), or -1 when none
 * came. fd may be NULL (then the descriptor is closed). */
enum hwopt_call_status hwopt_client_call_fd(struct hwopt_client *c, const char *method,
					    cJSON *params, int timeout_ms, cJSON **result,
					    cJSON **error, int *fd);

/* Pipelining: sends one request (params consumed, may be NULL) with one
 * write when the socket has room, and returns without waiting for the
 * answer; *id (may be NULL) is the request's id. While waiting for room it
 * reads answers into the handle's buffer. OK, IO_ERROR (errno) or TIMEOUT
 * (the handle's timeout; the connection is then unusable). */
enum hwopt_call_status hwopt_client_send(struct hwopt_client *c, const char *method,
					 cJSON *params, long long *id);
/* The same with params as JSON text of an object (NULL: no params), copied
 * as is (newlines become spaces): a benchmark renders them once and sends
 * them many times without building cJSON trees. */
enum hwopt_call_status hwopt_client_send_text(struct hwopt_client *c, const char *method,
					      const char *params_json, long long *id);

/* The next answer, whatever its id, waiting up to timeout_ms (<0: forever;
 * 0: only what has arrived). *id is its id (-1 when null or not a number:
 * an error about the connection). OK sets *result, RPC_ERROR *error (may
 * be NULL to drop it); both caller-freed. BAD_REPLY: a line that is not a
 * JSON-RPC answer was consumed (*id set when it had one). TIMEOUT: nothing
 * complete arrived. A descriptor that came with the answer is closed.
 * Notifications that arrive meanwhile are kept for
 * hwopt_client_notification. */
enum hwopt_call_status hwopt_client_recv(struct hwopt_client *c, int timeout_ms, long long *id,
					 cJSON **result, cJSON **error);
/* hwopt_client_recv that hands out the answer's descriptor: *fd (caller
 * closes) or -1; fd may be NULL. */
enum hwopt_call_status hwopt_client_recv_fd(struct hwopt_client *c, int timeout_ms,
					    long long *id, cJSON **result, cJSON **error,
					    int *fd);

/* ---- notifications ---------------------------------------------------------- */

/* The next notification: a message with a method and no id, such as
 * {"jsonrpc":"2.0","method":"telemetry.sample","params":{...}} after
 * telemetry.subscribe. Waits up to timeout_ms (<0: forever; 0: only what
 * has arrived). OK sets *msg to the whole message (caller frees; read its
 * "method" and "params"); TIMEOUT: none arrived; IO_ERROR (errno): the
 * connection failed or the daemon closed it. Answers that arrive meanwhile
 * are kept for hwopt_client_recv. Notifications nobody takes pile up in the
 * handle until it is closed. */
enum hwopt_call_status hwopt_client_notification(struct hwopt_client *c, int timeout_ms,
						 cJSON **msg);

/* The connection's socket, to wait for it with poll() alongside other
 * descriptors (POLLIN). Read it only through this library, and take what
 * the handle has already buffered first: call hwopt_client_notification
 * (or hwopt_client_recv) with timeout 0 until it says TIMEOUT, then poll. */
int hwopt_client_fd(const struct hwopt_client *c);

/* ---- inference ------------------------------------------------------------ */

/* Calls `infer`: model, inputs ({NAME: TENSOR}, consumed), outputs
 * ({NAME: POOLREF}, consumed, may be NULL: all outputs inline), priority
 * ("interactive", "normal", "batch"; NULL: the daemon's default),
 * deadline_ms (<= 0: none), waiting up to timeout_ms for the answer. The
 * result holds job, model, outputs, timings, workers and batch. */
enum hwopt_call_status hwopt_client_infer(struct hwopt_client *c, const char *model,
					  cJSON *inputs, cJSON *outputs, const char *priority,
					  int deadline_ms, int timeout_ms, cJSON **result,
					  cJSON **error);

/* ---- shared-memory pools ---------------------------------------------------- */

/* A pool mapped in this process. base is MAP_SHARED read-write over the
 * daemon's memfd; blocks are allocated by the daemon (hwopt_pool_alloc) and
 * addressed as base + offset. */
struct hwopt_pool {
	long long id;       /* the daemon's pool id; -1 when none */
	int fd;             /* the memfd; -1 when none */
	void *base;         /* the mapping; NULL when unmapped */
	size_t bytes;       /* size of the pool and of the mapping */
	char page_kind[16]; /* "hugetlb", "thp" or "normal" */
};

/* Calls pool.create {bytes, hugepages ("auto", "on", "off"; NULL: auto),
 * numa_node (<0: no binding)}, takes the memfd that came with the answer
 * and maps it. On OK *out describes the pool (release with
 * hwopt_pool_destroy). On failure *out is {id -1, fd -1, base NULL} and
 * nothing is left open: IO_ERROR with errno when mapping failed (the pool
 * is destroyed again), BAD_REPLY (errno EPROTO) when no descriptor came. */
enum hwopt_call_status hwopt_pool_create(struct hwopt_client *c, size_t bytes,
					 const char *hugepages, int numa_node,
					 struct hwopt_pool *out, cJSON **error);
/* pool.alloc: a block of at least bytes (the daemon rounds up to 64); its
 * offset into *offset. RPC_ERROR -32002 when no free extent is large
 * enough. BAD_REPLY when the block the daemon names lies outside the pool. */
enum hwopt_call_status hwopt_pool_alloc(struct hwopt_client *c, const struct hwopt_pool *pool,
					size_t bytes, uint64_t *offset, cJSON **error);
/* pool.free of the block starting at offset (-32003 when none starts there). */
enum hwopt_call_status hwopt_pool_free(struct hwopt_client *c, const struct hwopt_pool *pool,
				       uint64_t offset, cJSON **error);
/* pool.destroy, then hwopt_pool_unmap whatever the daemon answered. The
 * daemon keeps the memory while jobs still refer to it. */
enum hwopt_call_status hwopt_pool_destroy(struct hwopt_client *c, struct hwopt_pool *pool,
					  cJSON **error);
/* Unmaps and closes without telling the daemon (after a disconnect, the
 * daemon has destroyed the pool); resets *pool to {id -1, fd -1, base NULL}. */
void hwopt_pool_unmap(struct hwopt_pool *pool);

/* ---- tensors ---------------------------------------------------------------- */

/* Most dims hwopt_tensor_decode hands out; shape arrays need this room. */
#define HWOPT_TENSOR_MAX_RANK 8

/* Bytes of one element of a protocol dtype ("float", "int64", "bfloat16",
 * ...; "float32" is "float"); 0 for an unknown name. */
size_t hwopt_tensor_dtype_size(const char *dtype);

/* A pool-reference TENSOR {pool, offset, dtype, shape}, caller-owned.
 * NULL with errno EINVAL for an unknown dtype, a negative dim or rank, or
 * ENOMEM. shape may be NULL when rank is 0 (a scalar). */
cJSON *hwopt_tensor_pool(long long pool, uint64_t offset, const char *dtype,
			 const int64_t *shape, int rank);
/* An inline TENSOR {dtype, shape, data_b64}: bytes of data (little-endian,
 * row-major) in standard base64. NULL with errno EINVAL when bytes is not
 * the shape's size (or as above), ENOMEM. The data is copied. */
cJSON *hwopt_tensor_b64(const char *dtype, const int64_t *shape, int rank, const void *data,
			size_t bytes);
/* Decodes an inline TENSOR of a result (a `data` list, with "NaN",
 * "Infinity", "-Infinity" for floats, or `data_b64`): dtype (the canonical
 * name), shape (room for HWOPT_TENSOR_MAX_RANK dims), *rank, *data
 * (malloc'ed, caller frees; never NULL on success) and *bytes. Returns 0,
 * or a negative errno: -EINVAL malformed (wrong length, bad base64, value
 * out of range for the dtype), -ENOTSUP unknown dtype, -E2BIG rank over
 * HWOPT_TENSOR_MAX_RANK or a size that overflows, -ENOMEM; -ENODATA for a
 * pool reference ({pool, offset, ...}): dtype, shape, rank and *bytes are
 * set, *data is NULL, and the bytes are in the pool. */
int hwopt_tensor_decode(const cJSON *tensor, char dtype[16], int64_t *shape, int *rank,
			void **data, size_t *bytes);

#ifdef __cplusplus
}
#endif
#endif
