/* Tensor files: numpy .npy (versions 1 to 3, little-endian, C order) and
 * ONNX TensorProto .pb. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/load.h"
#include "runtime/tensor.h"
#include "runtime/tensorproto.h"

#define TENSOR_FILE_MAX ((size_t)4 << 30)

static const struct {
	const char *descr;
	enum hwrt_dtype dt;
} npy_types[] = {
	{ "f4", HWRT_FLOAT }, { "f8", HWRT_DOUBLE }, { "f2", HWRT_FLOAT16 }, { "i1", HWRT_INT8 },
	{ "u1", HWRT_UINT8 }, { "i2", HWRT_INT16 }, { "u2", HWRT_UINT16 }, { "i4", HWRT_INT32 },
	{ "u4", HWRT_UINT32 }, { "i8", HWRT_INT64 }, { "u8", HWRT_UINT64 }, { "b1", HWRT_BOOL },
};

static struct hwrt_tensor *copy_out(const struct hwrt_tensor *t, const void *data,
				    struct rt_err *e)
{
	struct hwrt_tensor *o = rt_tensor_new(t->dtype, t->rank, t->dims);
	if (!o) {
		rt_fail(e, "out of memory for a %s tensor of rank %d", hwrt_dtype_name(t->dtype),
			t->rank);
		return NULL;
	}
	size_t b = hwrt_tensor_bytes(o);
	if (b)
		memcpy(o->data, data, b);
	return o;
}

/* Finds 'key': in the header dict and returns the text after the colon. */
static const char *dict_value(const char *h, const char *key)
{
	char pat[32];
	snprintf(pat, sizeof(pat), "'%s'", key);
	const char *p = strstr(h, pat);
	if (!p)
		return NULL;
	p = strchr(p + strlen(pat), ':');
	if (!p)
		return NULL;
	p++;
	while (*p == ' ')
		p++;
	return p;
}

static struct hwrt_tensor *read_npy(const unsigned char *buf, size_t len, struct rt_err *e)
{
	if (len < 10)
		return rt_fail(e, "truncated .npy header"), NULL;
	unsigned major = buf[6];
	size_t hlen, off;
	if (major == 1) {
		hlen = buf[8] | (size_t)buf[9] << 8;
		off = 10;
	} else if (major == 2 || major == 3) {
		if (len < 12)
			return rt_fail(e, "truncated .npy header"), NULL;
		hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
		off = 12;
	} else {
		return rt_fail(e, ".npy version %u is not supported", major), NULL;
	}
	if (hlen > len - off || hlen > 65536)
		return rt_fail(e, "truncated .npy header"), NULL;
	char h[65537];
	memcpy(h, buf + off, hlen);
	h[hlen] = 0;
	const char *descr = dict_value(h, "descr"), *fo = dict_value(h, "fortran_order"),
		   *shape = dict_value(h, "shape");
	if (!descr || !fo || !shape || *descr != '\'' || *shape != '(')
		return rt_fail(e, "malformed .npy header"), NULL;
	if (strncmp(fo, "False", 5) != 0)
		return rt_fail(e, ".npy arrays in Fortran order are not supported"), NULL;
	if (descr[1] == '>')
		return rt_fail(e, "big-endian .npy arrays are not supported"), NULL;
	struct hwrt_tensor t = { 0 };
	for (size_t i = 0; i < sizeof(npy_types) / sizeof(npy_types[0]); i++)
		if (strncmp(descr + 2, npy_types[i].descr, 2) == 0 && descr[4] == '\'')
			t.dtype = npy_types[i].dt;
	if (!t.dtype)
		return rt_fail(e, ".npy dtype %.8s is not supported", descr), NULL;
	const char *p = shape + 1;
	while (*p && *p != ')') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == ')')
			break;
		char *end;
		errno = 0;
		long long d = strtoll(p, &end, 10);
		if (end == p || errno || d < 0)
			return rt_fail(e, "malformed .npy shape"), NULL;
		if (t.rank == HWRT_MAX_RANK)
			return rt_fail(e, ".npy rank exceeds %d", HWRT_MAX_RANK), NULL;
		t.dims[t.rank++] = d;
		p = end;
	}
	if (rt_count_dims(t.rank, t.dims) < 0)
		return rt_fail(e, ".npy shape is too large"), NULL;
	size_t bytes = hwrt_tensor_bytes(&t);
	if (len - off - hlen != bytes)
		return rt_fail(e, ".npy holds %zu data bytes, the shape needs %zu",
			       len - off - hlen, bytes), NULL;
	return copy_out(&t, buf + off + hlen, e);
}

static struct hwrt_tensor *read_pb(const void *buf, size_t len, char **name, struct rt_err *e)
{
	Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
	if (!tp)
		return rt_fail(e, "neither a .npy file nor a TensorProto"), NULL;
	struct hwrt_tensor t;
	void *owned = NULL;
	struct hwrt_tensor *o = NULL;
	if (rt_tensor_from_proto(tp, NULL, NULL, &t, &owned, e) == 0) {
		o = copy_out(&t, t.data, e);
		if (o && name)
			*name = tp->name && *tp->name ? strdup(tp->name) : NULL;
	}
	rt_free(owned);
	onnx__tensor_proto__free_unpacked(tp, NULL);
	return o;
}

struct hwrt_tensor *hwrt_tensor_read(const char *path, char **name, char *err, size_t errlen)
{
	struct rt_err e;
	void *buf;
	size_t len;
	if (name)
		*name = NULL;
	if (rt_read_file(path, &buf, &len, TENSOR_FILE_MAX, &e) < 0) {
		snprintf(err, errlen, "%s", e.msg);
		return NULL;
	}
	struct hwrt_tensor *t = len >= 6 && memcmp(buf, "\x93NUMPY", 6) == 0
					? read_npy(buf, len, &e)
					: read_pb(buf, len, name, &e);
	free(buf);
	if (!t)
		snprintf(err, errlen, "%s: %s", path, e.msg);
	return t;
}

int hwrt_tensor_write_npy(const char *path, const struct hwrt_tensor *t, char *err,
			  size_t errlen)
{
	const char *descr = t->dtype == HWRT_BFLOAT16 ? "u2" : NULL; /* bits, as numpy lacks it */
	for (size_t i = 0; i < sizeof(npy_types) / sizeof(npy_types[0]); i++)
		if (npy_types[i].dt == t->dtype)
			descr = npy_types[i].descr;
	if (!descr) {
		snprintf(err, errlen, "%s: type %s has no .npy form", path,
			 hwrt_dtype_name(t->dtype));
		return -1;
	}
	char h[512], shape[400] = "";
	size_t sl = 0;
	for (int d = 0; d < t->rank; d++)
		sl += (size_t)snprintf(shape + sl, sizeof(shape) - sl, "%lld,%s",
				       (long long)t->dims[d], d + 1 < t->rank ? " " : "");
	if (t->rank > 1) /* numpy writes (3,) for rank 1 and (2, 3) above */
		shape[sl - 1] = 0;
	int hl = snprintf(h + 10, sizeof(h) - 10,
			  "{'descr': '%c%s', 'fortran_order': False, 'shape': (%s), }",
			  descr[1] == '1' ? '|' : '<', descr, shape);
	size_t total = 10 + (size_t)hl + 1, pad = (64 - total % 64) % 64;
	memset(h + 10 + hl, ' ', pad);
	h[10 + hl + pad] = '\n';
	size_t hlen = (size_t)hl + pad + 1;
	memcpy(h, "\x93NUMPY\x01\x00", 8);
	h[8] = (char)(hlen & 0xff);
	h[9] = (char)(hlen >> 8);
	FILE *f = fopen(path, "wb");
	if (!f) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	size_t bytes = hwrt_tensor_bytes(t);
	int ok = fwrite(h, 1, 10 + hlen, f) == 10 + hlen &&
		 (bytes == 0 || fwrite(t->data, 1, bytes, f) == bytes);
	if (fclose(f) != 0)
		ok = 0;
	if (!ok) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void hwrt_tensor_free(struct hwrt_tensor *t)
{
	rt_tensor_free(t);
}
