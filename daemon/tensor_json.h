/* Tensors in requests and answers: the three TENSOR forms of the protocol
 * (inline list, inline base64, pool reference), checked on the loop thread
 * when a request arrives and decoded on a worker when its job runs. */
#ifndef HWOPTD_TENSOR_JSON_H
#define HWOPTD_TENSOR_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "runtime/hwrt.h"

struct hwoptd;
struct client;
struct pool_entry;

enum tensor_form { TENSOR_LIST, TENSOR_B64, TENSOR_POOL };

struct tensor_src {
	enum tensor_form form;
	struct hwrt_tensor t;     /* dtype, rank, dims; data set by tensor_decode */
	size_t bytes;
	cJSON *json;              /* LIST: the array; B64: the string (both detached, owned) */
	struct pool_entry *pool;  /* POOL: referenced (pools_ref) */
	uint64_t offset;
};

/* dtype names of the protocol ("float32" is taken for "float"). */
int tensor_dtype_parse(const char *s, enum hwrt_dtype *out);

/* Checks a TENSOR object and takes what the job needs from it (the data
 * item is detached from obj). where names it in errors ("params.inputs.x").
 * Returns 0, or -1 with a message in err. */
int tensor_parse(struct hwoptd *d, struct client *c, const char *where, cJSON *obj,
		 struct tensor_src *out, char *err, size_t errlen);
/* Releases what tensor_parse took (pool ref, JSON), and owned data. */
void tensor_src_release(struct hwoptd *d, struct tensor_src *t);

/* Worker side: makes t->t.data point at the bytes: into the pool, or into
 * buf (t->bytes long) decoded from JSON. Returns 0, or -1 with err. */
int tensor_decode(struct tensor_src *t, void *buf, char *err, size_t errlen);

/* A POOLREF for an output: {pool, offset, bytes?}. */
struct tensor_dst {
	struct pool_entry *pool;  /* referenced */
	uint64_t offset, cap;
};
int tensor_dst_parse(struct hwoptd *d, struct client *c, const char *where, const cJSON *obj,
		     struct tensor_dst *out, char *err, size_t errlen);

/* An inline TENSOR answer: {dtype, shape, data} or {dtype, shape, data_b64}. */
cJSON *tensor_encode(const struct hwrt_tensor *t, bool base64);
/* [d0,d1,...] */
cJSON *tensor_shape_json(const int64_t *dims, int rank);

#endif
