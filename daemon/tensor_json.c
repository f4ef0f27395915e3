#include "tensor_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "daemon.h"
#include "pools.h"
#include "proto/base64.h"

static const struct {
	const char *name;
	enum hwrt_dtype dt;
} dtypes[] = {
	{ "float", HWRT_FLOAT },     { "float32", HWRT_FLOAT },   { "uint8", HWRT_UINT8 },
	{ "int8", HWRT_INT8 },       { "uint16", HWRT_UINT16 },   { "int16", HWRT_INT16 },
	{ "int32", HWRT_INT32 },     { "int64", HWRT_INT64 },     { "bool", HWRT_BOOL },
	{ "float16", HWRT_FLOAT16 }, { "double", HWRT_DOUBLE },   { "uint32", HWRT_UINT32 },
	{ "uint64", HWRT_UINT64 },   { "bfloat16", HWRT_BFLOAT16 },
};

int tensor_dtype_parse(const char *s, enum hwrt_dtype *out)
{
	for (size_t i = 0; i < sizeof(dtypes) / sizeof(dtypes[0]); i++)
		if (strcmp(dtypes[i].name, s) == 0) {
			*out = dtypes[i].dt;
			return 0;
		}
	return -EINVAL;
}

/* A JSON number that is a whole number in [0, 2^64). */
static bool as_u64(const cJSON *v, uint64_t *out)
{
	if (!cJSON_IsNumber(v))
		return false;
	double x = v->valuedouble;
	if (!(x >= 0) || x >= 18446744073709551616.0 || x != floor(x))
		return false;
	*out = (uint64_t)x;
	return true;
}

static int parse_shape(const char *where, const cJSON *shape, struct hwrt_tensor *t, size_t *bytes,
		       uint64_t max_bytes, char *err, size_t errlen)
{
	if (!cJSON_IsArray(shape)) {
		snprintf(err, errlen, "%s.shape: must be an array of non-negative integers", where);
		return -1;
	}
	int rank = cJSON_GetArraySize(shape);
	if (rank > HWRT_MAX_RANK) {
		snprintf(err, errlen, "%s.shape: rank %d is over the limit of %d", where, rank,
			 HWRT_MAX_RANK);
		return -1;
	}
	uint64_t count = 1;
	bool overflow = false;
	int i = 0;
	const cJSON *dim;
	cJSON_ArrayForEach(dim, shape) {
		uint64_t v;
		if (!as_u64(dim, &v) || v > INT64_MAX) {
			snprintf(err, errlen, "%s.shape[%d]: must be a non-negative integer", where, i);
			return -1;
		}
		t->dims[i++] = (int64_t)v;
		overflow |= __builtin_mul_overflow(count, v, &count);
	}
	t->rank = rank;
	uint64_t b;
	if (overflow || __builtin_mul_overflow(count, (uint64_t)hwrt_dtype_size(t->dtype), &b)) {
		snprintf(err, errlen, "%s.shape: the element count overflows 64 bits", where);
		return -1;
	}
	if (b > max_bytes) {
		snprintf(err, errlen, "%s: the tensor holds %llu bytes, over max_tensor_bytes (%llu)",
			 where, (unsigned long long)b, (unsigned long long)max_bytes);
		return -1;
	}
	*bytes = (size_t)b;
	return 0;
}

/* Finds the caller's pool and checks [offset, offset + bytes) lies in one
 * of its live blocks. */
static int check_ref(struct hwoptd *d, struct client *c, const char *where, const cJSON *obj,
		     uint64_t bytes, struct pool_entry **pool, uint64_t *offset, char *err,
		     size_t errlen)
{
	uint64_t id, off;
	if (!as_u64(cJSON_GetObjectItemCaseSensitive(obj, "pool"), &id)) {
		snprintf(err, errlen, "%s.pool: must be a pool id", where);
		return -1;
	}
	if (!as_u64(cJSON_GetObjectItemCaseSensitive(obj, "offset"), &off)) {
		snprintf(err, errlen, "%s.offset: must be a non-negative integer", where);
		return -1;
	}
	struct pool_entry *p = pools_find(d, c, id);
	if (!p) {
		snprintf(err, errlen, "%s.pool: pool %llu is not one of this client's pools", where,
			 (unsigned long long)id);
		return -1;
	}
	uint64_t end;
	int rc = shm_pool_check(p->shm, off, bytes);
	if (rc == -ERANGE && __builtin_add_overflow(off, bytes, &end)) {
		snprintf(err, errlen, "%s: offset %llu + size %llu overflows 64 bits", where,
			 (unsigned long long)off, (unsigned long long)bytes);
		return -1;
	}
	if (rc == -ERANGE) {
		snprintf(err, errlen, "%s: bytes [%llu, %llu) lie outside pool %llu (%llu bytes)", where,
			 (unsigned long long)off, (unsigned long long)end, (unsigned long long)id,
			 (unsigned long long)shm_pool_size(p->shm));
		return -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: bytes [%llu, %llu) of pool %llu do not lie in one allocated "
			 "block (pool.alloc)", where, (unsigned long long)off,
			 (unsigned long long)(off + bytes), (unsigned long long)id);
		return -1;
	}
	*pool = p;
	*offset = off;
	return 0;
}

int tensor_parse(struct hwoptd *d, struct client *c, const char *where, cJSON *obj,
		 struct tensor_src *out, char *err, size_t errlen)
{
	static const char *const known[] = { "dtype", "shape", "data", "data_b64", "pool", "offset" };
	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(obj)) {
		snprintf(err, errlen, "%s: must be a tensor object {dtype, shape, data | data_b64 | "
			 "pool and offset}", where);
		return -1;
	}
	const cJSON *m;
	cJSON_ArrayForEach(m, obj) {
		size_t k = 0;
		while (k < sizeof(known) / sizeof(known[0]) && strcmp(known[k], m->string) != 0)
			k++;
		if (k == sizeof(known) / sizeof(known[0])) {
			snprintf(err, errlen, "%s: unknown member '%.64s'", where, m->string);
			return -1;
		}
	}
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(obj, "dtype");
	if (!cJSON_IsString(dt) || tensor_dtype_parse(dt->valuestring, &out->t.dtype) < 0) {
		snprintf(err, errlen, "%s.dtype: must be one of float, uint8, int8, uint16, int16, "
			 "int32, int64, bool, float16, double, uint32, uint64, bfloat16", where);
		return -1;
	}
	if (parse_shape(where, cJSON_GetObjectItemCaseSensitive(obj, "shape"), &out->t, &out->bytes,
			d->cfg.max_tensor_bytes, err, errlen) < 0)
		return -1;
	cJSON *data = cJSON_GetObjectItemCaseSensitive(obj, "data");
	cJSON *b64 = cJSON_GetObjectItemCaseSensitive(obj, "data_b64");
	bool pool = cJSON_GetObjectItemCaseSensitive(obj, "pool") != NULL;
	if ((data != NULL) + (b64 != NULL) + pool != 1) {
		snprintf(err, errlen, "%s: give exactly one of data, data_b64, or pool and offset", where);
		return -1;
	}
	uint64_t count = out->bytes / hwrt_dtype_size(out->t.dtype);
	if (data) {
		if (!cJSON_IsArray(data) || (uint64_t)cJSON_GetArraySize(data) != count) {
			snprintf(err, errlen, "%s.data: must be an array of %llu values (the shape's "
				 "element count)%s", where, (unsigned long long)count,
				 cJSON_IsArray(data) ? "" : "; it is not an array");
			if (cJSON_IsArray(data))
				snprintf(err + strlen(err), errlen - strlen(err), "; it has %d",
					 cJSON_GetArraySize(data));
			return -1;
		}
		out->form = TENSOR_LIST;
		out->json = cJSON_DetachItemViaPointer(obj, data);
		return 0;
	}
	if (b64) {
		size_t want = hwopt_b64_encoded_len(out->bytes);
		if (!cJSON_IsString(b64) || strlen(b64->valuestring) != want) {
			snprintf(err, errlen, "%s.data_b64: must be a base64 string of %zu characters "
				 "(%zu bytes)", where, want, out->bytes);
			return -1;
		}
		out->form = TENSOR_B64;
		out->json = cJSON_DetachItemViaPointer(obj, b64);
		return 0;
	}
	out->form = TENSOR_POOL;
	if (check_ref(d, c, where, obj, out->bytes, &out->pool, &out->offset, err, errlen) < 0)
		return -1;
	pools_ref(out->pool);
	return 0;
}

int tensor_dst_parse(struct hwoptd *d, struct client *c, const char *where, const cJSON *obj,
		     struct tensor_dst *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(obj)) {
		snprintf(err, errlen, "%s: must be a pool reference {pool, offset, bytes?}", where);
		return -1;
	}
	const cJSON *m;
	cJSON_ArrayForEach(m, obj)
		if (strcmp(m->string, "pool") && strcmp(m->string, "offset") && strcmp(m->string, "bytes")) {
			snprintf(err, errlen, "%s: unknown member '%.64s'", where, m->string);
			return -1;
		}
	uint64_t cap = 0;
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(obj, "bytes");
	if (b && !as_u64(b, &cap)) {
		snprintf(err, errlen, "%s.bytes: must be a non-negative integer", where);
		return -1;
	}
	if (check_ref(d, c, where, obj, cap, &out->pool, &out->offset, err, errlen) < 0)
		return -1;
	out->cap = b ? cap : shm_pool_block_left(out->pool->shm, out->offset);
	pools_ref(out->pool);
	return 0;
}

void tensor_src_release(struct hwoptd *d, struct tensor_src *t)
{
	if (t->pool)
		pools_unref(d, t->pool);
	cJSON_Delete(t->json);
	t->pool = NULL;
	t->json = NULL;
}

/* --- decoding (worker) --------------------------------------------------- */

static bool special_float(const cJSON *v, double *x)
{
	if (!cJSON_IsString(v))
		return false;
	if (strcmp(v->valuestring, "NaN") == 0)
		*x = NAN;
	else if (strcmp(v->valuestring, "Infinity") == 0)
		*x = INFINITY;
	else if (strcmp(v->valuestring, "-Infinity") == 0)
		*x = -INFINITY;
	else
		return false;
	return true;
}

static bool is_float(enum hwrt_dtype t)
{
	return t == HWRT_FLOAT || t == HWRT_DOUBLE || t == HWRT_FLOAT16 || t == HWRT_BFLOAT16;
}

static uint16_t to_bf16(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	if ((u & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((u >> 16) | 0x40);
	return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

static void store(enum hwrt_dtype t, void *base, size_t i, double x)
{
	switch (t) {
	case HWRT_FLOAT: ((float *)base)[i] = (float)x; break;
	case HWRT_DOUBLE: ((double *)base)[i] = x; break;
	case HWRT_FLOAT16: {
		_Float16 h = (_Float16)(float)x;
		memcpy((char *)base + 2 * i, &h, 2);
		break;
	}
	case HWRT_BFLOAT16: ((uint16_t *)base)[i] = to_bf16((float)x); break;
	case HWRT_UINT8: ((uint8_t *)base)[i] = (uint8_t)x; break;
	case HWRT_INT8: ((int8_t *)base)[i] = (int8_t)x; break;
	case HWRT_UINT16: ((uint16_t *)base)[i] = (uint16_t)x; break;
	case HWRT_INT16: ((int16_t *)base)[i] = (int16_t)x; break;
	case HWRT_INT32: ((int32_t *)base)[i] = (int32_t)x; break;
	case HWRT_INT64: ((int64_t *)base)[i] = (int64_t)x; break;
	case HWRT_UINT32: ((uint32_t *)base)[i] = (uint32_t)x; break;
	case HWRT_UINT64: ((uint64_t *)base)[i] = (uint64_t)x; break;
	case HWRT_BOOL: ((uint8_t *)base)[i] = x != 0; break;
	default: break;
	}
}

/* The range an integer type holds, as doubles (int64/uint64 bounds are
 * inexact but the check only guards the conversion). */
static void int_range(enum hwrt_dtype t, double *lo, double *hi)
{
	switch (t) {
	case HWRT_UINT8: *lo = 0, *hi = 255; break;
	case HWRT_INT8: *lo = -128, *hi = 127; break;
	case HWRT_UINT16: *lo = 0, *hi = 65535; break;
	case HWRT_INT16: *lo = -32768, *hi = 32767; break;
	case HWRT_INT32: *lo = -2147483648.0, *hi = 2147483647.0; break;
	case HWRT_UINT32: *lo = 0, *hi = 4294967295.0; break;
	case HWRT_UINT64: *lo = 0, *hi = 18446744073709549568.0; break;
	case HWRT_BOOL: *lo = 0, *hi = 1; break;
	default: *lo = -9223372036854774784.0, *hi = 9223372036854774784.0; break;
	}
}

static int decode_list(struct tensor_src *t, void *buf, char *err, size_t errlen)
{
	enum hwrt_dtype dt = t->t.dtype;
	bool fl = is_float(dt);
	double lo = 0, hi = 0;
	if (!fl)
		int_range(dt, &lo, &hi);
	size_t i = 0;
	const cJSON *v;
	cJSON_ArrayForEach(v, t->json) {
		double x;
		if (cJSON_IsNumber(v))
			x = v->valuedouble;
		else if (dt == HWRT_BOOL && cJSON_IsBool(v))
			x = cJSON_IsTrue(v);
		else if (!(fl && special_float(v, &x))) {
			snprintf(err, errlen, "data[%zu]: not a number%s", i,
				 fl ? " (or \"NaN\", \"Infinity\", \"-Infinity\")" : "");
			return -1;
		}
		if (!fl && (x != floor(x) || x < lo || x > hi)) {
			snprintf(err, errlen, "data[%zu]: %.17g is not a %s", i, x, hwrt_dtype_name(dt));
			return -1;
		}
		store(dt, buf, i++, x);
	}
	return 0;
}

int tensor_decode(struct tensor_src *t, void *buf, char *err, size_t errlen)
{
	switch (t->form) {
	case TENSOR_POOL:
		t->t.data = (char *)shm_pool_base(t->pool->shm) + t->offset;
		return 0;
	case TENSOR_B64: {
		const char *s = t->json->valuestring;
		size_t bad = 0;
		long long n = hwopt_b64_decode(s, strlen(s), buf, &bad);
		if (n < 0) {
			snprintf(err, errlen, "data_b64: not base64 at character %zu", bad);
			return -1;
		}
		if ((size_t)n != t->bytes) {
			snprintf(err, errlen, "data_b64: decodes to %lld bytes, the shape needs %zu", n,
				 t->bytes);
			return -1;
		}
		t->t.data = buf;
		return 0;
	}
	case TENSOR_LIST:
		t->t.data = buf;
		return decode_list(t, buf, err, errlen);
	}
	return -1;
}

/* --- encoding (worker) --------------------------------------------------- */

cJSON *tensor_shape_json(const int64_t *dims, int rank)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; a && i < rank; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)dims[i]));
	return a;
}

/* A raw JSON item that takes over text (malloc'ed, NUL-terminated):
 * output arrays are built as text, and cJSON would copy them again. */
static cJSON *raw_item(char *text)
{
	cJSON *r = text ? cJSON_CreateRaw("") : NULL;
	if (!r) {
		free(text);
		return NULL;
	}
	cJSON_free(r->valuestring);
	r->valuestring = text;
	return r;
}

static double load(enum hwrt_dtype t, const void *base, size_t i)
{
	switch (t) {
	case HWRT_FLOAT: return ((const float *)base)[i];
	case HWRT_DOUBLE: return ((const double *)base)[i];
	case HWRT_FLOAT16: {
		_Float16 h;
		memcpy(&h, (const char *)base + 2 * i, 2);
		return (double)h;
	}
	case HWRT_BFLOAT16: {
		uint32_t u = (uint32_t)((const uint16_t *)base)[i] << 16;
		float f;
		memcpy(&f, &u, 4);
		return f;
	}
	default: return 0;
	}
}

static int put_int(char *p, size_t room, enum hwrt_dtype t, const void *base, size_t i)
{
	switch (t) {
	case HWRT_UINT8: return snprintf(p, room, "%u", ((const uint8_t *)base)[i]);
	case HWRT_INT8: return snprintf(p, room, "%d", ((const int8_t *)base)[i]);
	case HWRT_UINT16: return snprintf(p, room, "%u", ((const uint16_t *)base)[i]);
	case HWRT_INT16: return snprintf(p, room, "%d", ((const int16_t *)base)[i]);
	case HWRT_INT32: return snprintf(p, room, "%d", ((const int32_t *)base)[i]);
	case HWRT_UINT32: return snprintf(p, room, "%u", ((const uint32_t *)base)[i]);
	case HWRT_INT64: return snprintf(p, room, "%lld", (long long)((const int64_t *)base)[i]);
	case HWRT_UINT64:
		return snprintf(p, room, "%llu", (unsigned long long)((const uint64_t *)base)[i]);
	case HWRT_BOOL: return snprintf(p, room, "%s", ((const uint8_t *)base)[i] ? "true" : "false");
	default: return snprintf(p, room, "0");
	}
}

/* "[v,v,...]": floats with enough digits to read back the same value,
 * non-finite ones as the strings the protocol names. */
static char *list_text(const struct hwrt_tensor *t, size_t count)
{
	size_t cap = count * 26 + 3, len = 0;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	s[len++] = '[';
	bool fl = is_float(t->dtype);
	int digits = t->dtype == HWRT_DOUBLE ? 17 : 9;
	for (size_t i = 0; i < count; i++) {
		if (i)
			s[len++] = ',';
		if (fl) {
			double x = load(t->dtype, t->data, i);
			if (isnan(x))
				len += (size_t)snprintf(s + len, cap - len, "\"NaN\"");
			else if (isinf(x))
				len += (size_t)snprintf(s + len, cap - len, x > 0 ? "\"Infinity\"" : "\"-Infinity\"");
			else
				len += (size_t)snprintf(s + len, cap - len, "%.*g", digits, x);
		} else {
			len += (size_t)put_int(s + len, cap - len, t->dtype, t->data, i);
		}
	}
	s[len++] = ']';
	s[len] = '\0';
	return s;
}

static char *b64_text(const void *data, size_t bytes)
{
	size_t n = hwopt_b64_encoded_len(bytes);
	char *s = n == SIZE_MAX ? NULL : malloc(n + 3);
	if (!s)
		return NULL;
	s[0] = '"';
	hwopt_b64_encode(data, bytes, s + 1);
	s[n + 1] = '"';
	s[n + 2] = '\0';
	return s;
}

cJSON *tensor_encode(const struct hwrt_tensor *t, bool base64)
{
	size_t count = (size_t)hwrt_tensor_count(t);
	cJSON *o = cJSON_CreateObject();
	cJSON *data = raw_item(base64 ? b64_text(t->data, hwrt_tensor_bytes(t)) : list_text(t, count));
	cJSON *shape = tensor_shape_json(t->dims, t->rank);
	if (!o || !data || !shape) {
		cJSON_Delete(o);
		cJSON_Delete(data);
		cJSON_Delete(shape);
		return NULL;
	}
	cJSON_AddStringToObject(o, "dtype", hwrt_dtype_name(t->dtype));
	cJSON_AddItemToObject(o, "shape", shape);
	cJSON_AddItemToObject(o, base64 ? "data_b64" : "data", data);
	return o;
}
