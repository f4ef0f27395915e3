/* libhwoptclient: TENSOR objects of the protocol (docs/protocol.md,
 * "Tensors"): builders for requests, a decoder for inline results. */
#include "hwoptclient.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/base64.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tensor bytes travel little-endian: this file does not swap them"
#endif

enum kind { K_FLOAT, K_DOUBLE, K_HALF, K_BF16, K_BOOL, K_SINT, K_UINT };

static const struct dtype {
	const char *name;
	size_t size;
	enum kind kind;
} dtypes[] = {
	{ "float", 4, K_FLOAT },   { "uint8", 1, K_UINT },    { "int8", 1, K_SINT },
	{ "uint16", 2, K_UINT },   { "int16", 2, K_SINT },    { "int32", 4, K_SINT },
	{ "int64", 8, K_SINT },    { "bool", 1, K_BOOL },     { "float16", 2, K_HALF },
	{ "double", 8, K_DOUBLE }, { "uint32", 4, K_UINT },   { "uint64", 8, K_UINT },
	{ "bfloat16", 2, K_BF16 },
};

static const struct dtype *dtype_find(const char *name)
{
	if (!name)
		return NULL;
	if (strcmp(name, "float32") == 0)
		name = "float";
	for (size_t i = 0; i < sizeof(dtypes) / sizeof(dtypes[0]); i++)
		if (strcmp(dtypes[i].name, name) == 0)
			return &dtypes[i];
	return NULL;
}

size_t hwopt_tensor_dtype_size(const char *dtype)
{
	const struct dtype *d = dtype_find(dtype);
	return d ? d->size : 0;
}

/* Elements of shape into *count; false when a dim is negative or the
 * product overflows. */
static bool shape_count(const int64_t *shape, int rank, uint64_t *count)
{
	uint64_t n = 1;
	for (int i = 0; i < rank; i++) {
		if (shape[i] < 0 || __builtin_mul_overflow(n, (uint64_t)shape[i], &n))
			return false;
	}
	*count = n;
	return true;
}

/* {dtype, shape} with the canonical dtype name; NULL on a bad argument
 * (errno EINVAL) or no memory. */
static cJSON *tensor_head(const char *dtype, const int64_t *shape, int rank, size_t *bytes)
{
	const struct dtype *d = dtype_find(dtype);
	uint64_t count, nbytes;
	if (!d || rank < 0 || (rank > 0 && !shape) || !shape_count(shape, rank, &count) ||
	    __builtin_mul_overflow(count, (uint64_t)d->size, &nbytes)) {
		errno = EINVAL;
		return NULL;
	}
	*bytes = (size_t)nbytes;
	cJSON *t = cJSON_CreateObject();
	cJSON *s = cJSON_AddArrayToObject(t, "shape");
	bool ok = s && cJSON_AddStringToObject(t, "dtype", d->name);
	for (int i = 0; ok && i < rank; i++) {
		cJSON *n = cJSON_CreateNumber((double)shape[i]);
		ok = n && cJSON_AddItemToArray(s, n);
	}
	if (!ok) {
		cJSON_Delete(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

cJSON *hwopt_tensor_pool(long long pool, uint64_t offset, const char *dtype,
			 const int64_t *shape, int rank)
{
	size_t bytes;
	if (pool < 0) {
		errno = EINVAL;
		return NULL;
	}
	cJSON *t = tensor_head(dtype, shape, rank, &bytes);
	if (t && (!cJSON_AddNumberToObject(t, "pool", (double)pool) ||
		  !cJSON_AddNumberToObject(t, "offset", (double)offset))) {
		cJSON_Delete(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

cJSON *hwopt_tensor_b64(const char *dtype, const int64_t *shape, int rank, const void *data,
			size_t bytes)
{
	size_t want;
	cJSON *t = tensor_head(dtype, shape, rank, &want);
	if (!t)
		return NULL;
	if (want != bytes || (bytes && !data)) {
		cJSON_Delete(t);
		errno = EINVAL;
		return NULL;
	}
	size_t len = hwopt_b64_encoded_len(bytes);
	/* Encoded straight into the string the item owns: no second copy. */
	char *text = len == SIZE_MAX ? NULL : cJSON_malloc(len + 1);
	cJSON *s = text ? cJSON_CreateString("") : NULL;
	if (!s) {
		cJSON_free(text);
		cJSON_Delete(t);
		errno = ENOMEM;
		return NULL;
	}
	hwopt_b64_encode(data, bytes, text);
	text[len] = '\0';
	cJSON_free(s->valuestring);
	s->valuestring = text;
	cJSON_AddItemToObject(t, "data_b64", s);
	return t;
}

/* ---- decoding ------------------------------------------------------------------ */

static uint16_t float_to_half(float f)
{
	uint32_t x;
	memcpy(&x, &f, sizeof(x));
	uint32_t sign = (x >> 16) & 0x8000, man = x & 0x7fffff;
	int exp = (int)((x >> 23) & 0xff);
	if (exp == 0xff)
		return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
	int e = exp - 127 + 15;
	if (e >= 0x1f)
		return (uint16_t)(sign | 0x7c00);
	uint32_t h, rem, mid;
	if (e <= 0) { /* subnormal half, or zero */
		if (e < -10)
			return (uint16_t)sign;
		man |= 0x800000;
		int shift = 14 - e;
		h = man >> shift;
		rem = man & ((1u << shift) - 1);
		mid = 1u << (shift - 1);
	} else {
		h = ((uint32_t)e << 10) | (man >> 13);
		rem = man & 0x1fff;
		mid = 0x1000;
	}
	if (rem > mid || (rem == mid && (h & 1)))
		h++; /* to nearest even; a carry rounds up to infinity */
	return (uint16_t)(sign | h);
}

static uint16_t float_to_bf16(float f)
{
	uint32_t x;
	memcpy(&x, &f, sizeof(x));
	if ((x & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((x >> 16) | 0x40); /* NaN stays NaN */
	x += 0x7fff + ((x >> 16) & 1);
	return (uint16_t)(x >> 16);
}

static bool integral(double v)
{
	if (v > -9.2e18 && v < 9.2e18)
		return (double)(long long)v == v;
	return v == v && v - v == 0; /* huge finite doubles are integers */
}

/* Stores one element of a `data` list at out; false when it does not fit
 * the dtype. */
static bool put_value(const struct dtype *d, const cJSON *v, unsigned char *out)
{
	double x;
	if (cJSON_IsNumber(v)) {
		x = v->valuedouble;
	} else if (cJSON_IsBool(v) && d->kind == K_BOOL) {
		x = cJSON_IsTrue(v);
	} else if (cJSON_IsString(v) && d->kind <= K_BF16) {
		if (strcmp(v->valuestring, "NaN") == 0)
			x = __builtin_nan("");
		else if (strcmp(v->valuestring, "Infinity") == 0)
			x = __builtin_inf();
		else if (strcmp(v->valuestring, "-Infinity") == 0)
			x = -__builtin_inf();
		else
			return false;
	} else {
		return false;
	}
	switch (d->kind) {
	case K_FLOAT: {
		float f = (float)x;
		memcpy(out, &f, 4);
		return true;
	}
	case K_DOUBLE:
		memcpy(out, &x, 8);
		return true;
	case K_HALF:
	case K_BF16: {
		uint16_t h = d->kind == K_HALF ? float_to_half((float)x) : float_to_bf16((float)x);
		memcpy(out, &h, 2);
		return true;
	}
	case K_BOOL:
		if (x != 0 && x != 1)
			return false;
		*out = (unsigned char)x;
		return true;
	case K_SINT: {
		double lim = d->size == 8 ? 9223372036854775808.0 : (double)(1ull << (d->size * 8 - 1));
		if (!integral(x) || x < -lim || x >= lim)
			return false;
		long long i = (long long)x;
		switch (d->size) {
		case 1: { int8_t y = (int8_t)i; memcpy(out, &y, 1); break; }
		case 2: { int16_t y = (int16_t)i; memcpy(out, &y, 2); break; }
		case 4: { int32_t y = (int32_t)i; memcpy(out, &y, 4); break; }
		default: { int64_t y = i; memcpy(out, &y, 8); break; }
		}
		return true;
	}
	case K_UINT: {
		double lim = d->size == 8 ? 18446744073709551616.0 : (double)(1ull << (d->size * 8));
		if (!integral(x) || x < 0 || x >= lim)
			return false;
		unsigned long long u = (unsigned long long)x;
		switch (d->size) {
		case 1: { uint8_t y = (uint8_t)u; memcpy(out, &y, 1); break; }
		case 2: { uint16_t y = (uint16_t)u; memcpy(out, &y, 2); break; }
		case 4: { uint32_t y = (uint32_t)u; memcpy(out, &y, 4); break; }
		default: { uint64_t y = u; memcpy(out, &y, 8); break; }
		}
		return true;
	}
	}
	return false;
}

int hwopt_tensor_decode(const cJSON *tensor, char dtype[16], int64_t *shape, int *rank,
			void **data, size_t *bytes)
{
	*data = NULL;
	*bytes = 0;
	*rank = 0;
	dtype[0] = '\0';
	if (!cJSON_IsObject(tensor))
		return -EINVAL;
	const cJSON *jd = cJSON_GetObjectItemCaseSensitive(tensor, "dtype");
	const cJSON *js = cJSON_GetObjectItemCaseSensitive(tensor, "shape");
	if (!cJSON_IsString(jd) || !cJSON_IsArray(js))
		return -EINVAL;
	const struct dtype *d = dtype_find(jd->valuestring);
	if (!d)
		return -ENOTSUP;
	snprintf(dtype, 16, "%s", d->name);

	int n = cJSON_GetArraySize(js);
	if (n > HWOPT_TENSOR_MAX_RANK)
		return -E2BIG;
	int i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, js) {
		if (!cJSON_IsNumber(it) || !integral(it->valuedouble) || it->valuedouble < 0 ||
		    it->valuedouble >= 9007199254740992.0)
			return -EINVAL;
		shape[i++] = (int64_t)it->valuedouble;
	}
	uint64_t count, nbytes;
	if (!shape_count(shape, n, &count) || __builtin_mul_overflow(count, (uint64_t)d->size, &nbytes) ||
	    nbytes >= SIZE_MAX)
		return -E2BIG;
	*rank = n;
	*bytes = (size_t)nbytes;
	if (cJSON_GetObjectItemCaseSensitive(tensor, "pool"))
		return -ENODATA;

	const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(tensor, "data_b64");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(tensor, "data");
	unsigned char *buf;
	if (cJSON_IsString(b64)) {
		size_t len = strlen(b64->valuestring), bad;
		if (hwopt_b64_decoded_max(len) < nbytes)
			return -EINVAL; /* too short: no need to decode */
		buf = malloc(hwopt_b64_decoded_max(len) + 1);
		if (!buf)
			return -ENOMEM;
		if (hwopt_b64_decode(b64->valuestring, len, buf, &bad) != (long long)nbytes) {
			free(buf);
			return -EINVAL;
		}
	} else if (cJSON_IsArray(list)) {
		if ((uint64_t)cJSON_GetArraySize(list) != count)
			return -EINVAL;
		buf = malloc(nbytes ? nbytes : 1);
		if (!buf)
			return -ENOMEM;
		unsigned char *p = buf;
		cJSON_ArrayForEach(it, list) {
			if (!put_value(d, it, p)) {
				free(buf);
				return -EINVAL;
			}
			p += d->size;
		}
	} else {
		return -EINVAL;
	}
	*data = buf;
	return 0;
}
