/* JSON-RPC 2.0 request validation, response encoding and typed parameter
 * access. Every error names what was wrong so a client can fix its call. */
#ifndef HWOPT_PROTO_RPC_H
#define HWOPT_PROTO_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct hwopt_rpc_error {
	int code;
	char message[256];
	cJSON *data; /* optional detail, owned */
};

struct hwopt_rpc_request {
	cJSON *root;          /* owns everything below */
	const cJSON *id;      /* NULL for a notification */
	const char *method;
	const cJSON *params;  /* an object, or NULL when absent */
};

/* Parses and validates one line. On success returns 0 and fills req (free
 * with hwopt_rpc_request_free). On failure returns the error code, fills err
 * and sets *reply_id to a copy of the request's id when it could be read
 * (else NULL: answer with id null). A failed notification still gets an
 * error reply only when the failure is about the request itself. */
int hwopt_rpc_parse(const char *line, size_t len, struct hwopt_rpc_request *req,
		    struct hwopt_rpc_error *err, cJSON **reply_id);
void hwopt_rpc_request_free(struct hwopt_rpc_request *req);

/* Encode one response line, '\n'-terminated. result/data are consumed;
 * id is borrowed (NULL means JSON null). Returns malloc'd text or NULL. */
char *hwopt_rpc_result_line(const cJSON *id, cJSON *result, size_t *len);
char *hwopt_rpc_error_line(const cJSON *id, int code, const char *message,
			   cJSON *data, size_t *len);

void hwopt_rpc_error_set(struct hwopt_rpc_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Typed params. Each returns 0 when present and valid, 1 when absent and
 * optional (out untouched), or -1 with err set to invalid params naming the
 * field. params may be NULL. */
int hwopt_param_string(const cJSON *params, const char *name, bool required,
		       const char **out, struct hwopt_rpc_error *err);
int hwopt_param_int(const cJSON *params, const char *name, bool required,
		    int64_t min, int64_t max, int64_t *out, struct hwopt_rpc_error *err);
int hwopt_param_bool(const cJSON *params, const char *name, bool required,
		     bool *out, struct hwopt_rpc_error *err);
/* Rejects members not in the NULL-terminated list. */
int hwopt_params_only(const cJSON *params, const char *const *known,
		      struct hwopt_rpc_error *err);

/* Index of the first byte that is not valid UTF-8, or len when all is. */
size_t hwopt_utf8_check(const unsigned char *s, size_t len);

#endif
