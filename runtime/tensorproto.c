/* TensorProto decoding: typed fields, raw bytes and external data files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/tensor.h"
#include "runtime/tensorproto.h"

static int map_external(Onnx__TensorProto *tp, const char *base_dir, struct rt_graph *g,
			size_t bytes, struct hwrt_tensor *out, void **owned, struct rt_err *e)
{
	const char *loc = NULL;
	long long offset = 0, length = -1;
	for (size_t i = 0; i < tp->n_external_data; i++) {
		const char *k = tp->external_data[i]->key, *v = tp->external_data[i]->value;
		if (!k || !v)
			continue;
		char *end;
		if (strcmp(k, "location") == 0) {
			loc = v;
		} else if (strcmp(k, "offset") == 0 || strcmp(k, "length") == 0) {
			errno = 0;
			long long x = strtoll(v, &end, 10);
			if (errno || *end || x < 0)
				return rt_fail(e, "tensor '%s': external data %s '%s' is not a "
					       "non-negative integer", tp->name, k, v);
			if (k[0] == 'o')
				offset = x;
			else
				length = x;
		}
	}
	if (!loc || !*loc)
		return rt_fail(e, "tensor '%s': external data without a location", tp->name);
	if (!base_dir)
		return rt_fail(e, "tensor '%s': external data '%s' needs the model's directory",
			       tp->name, loc);
	/* Data files sit beside the model: no absolute paths, no escaping. */
	if (loc[0] == '/' || strstr(loc, "..") )
		return rt_fail(e, "tensor '%s': external data location '%s' must be a path "
			       "inside the model's directory", tp->name, loc);
	if (length >= 0 && (size_t)length != bytes)
		return rt_fail(e, "tensor '%s': external data length %lld, the shape needs %zu "
			       "bytes", tp->name, length, bytes);
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/%s", base_dir, loc) >= (int)sizeof(path))
		return rt_fail(e, "tensor '%s': external data path too long", tp->name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_fail(e, "tensor '%s': cannot open external data %s: %s", tp->name, path,
			       strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return rt_fail(e, "tensor '%s': external data %s is not a regular file", tp->name,
			       path);
	}
	if ((unsigned long long)offset > (unsigned long long)st.st_size ||
	    bytes > (size_t)(st.st_size - offset)) {
		close(fd);
		return rt_fail(e, "tensor '%s': external data %s holds %lld bytes, the tensor "
			       "needs %zu at offset %lld", tp->name, path, (long long)st.st_size,
			       bytes, offset);
	}
	*owned = NULL;
	if (bytes == 0) {
		close(fd);
		out->data = rt_alloc(0);
		*owned = out->data;
		return out->data ? 0 : rt_fail(e, "out of memory");
	}
	long page = sysconf(_SC_PAGESIZE);
	size_t es = hwrt_dtype_size(out->dtype);
	if ((size_t)offset % es == 0) {
		/* Mapped in place: the weights stay in the page cache, shared. */
		off_t start = (off_t)(offset / page * page);
		size_t len = bytes + (size_t)(offset - start);
		void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, start);
		close(fd);
		if (p == MAP_FAILED)
			return rt_fail(e, "tensor '%s': cannot map %s: %s", tp->name, path,
				       strerror(errno));
		struct rt_mapping *m = realloc(g->maps, (size_t)(g->n_maps + 1) * sizeof(*m));
		if (!m) {
			munmap(p, len);
			return rt_fail(e, "out of memory");
		}
		g->maps = m;
		g->maps[g->n_maps++] = (struct rt_mapping){ p, len };
		out->data = (char *)p + (offset - start);
		return 0;
	}
	void *buf = rt_alloc(bytes);
	if (!buf) {
		close(fd);
		return rt_fail(e, "tensor '%s': out of memory for %zu bytes", tp->name, bytes);
	}
	ssize_t got = pread(fd, buf, bytes, (off_t)offset);
	close(fd);
	if (got < 0 || (size_t)got != bytes) {
		rt_free(buf);
		return rt_fail(e, "tensor '%s': short read from %s", tp->name, path);
	}
	out->data = buf;
	*owned = buf;
	return 0;
}

int rt_tensor_from_proto(Onnx__TensorProto *tp, const char *base_dir, struct rt_graph *g,
			 struct hwrt_tensor *out, void **owned, struct rt_err *e)
{
	const char *name = tp->name ? tp->name : "";
	memset(out, 0, sizeof(*out));
	*owned = NULL;
	if (tp->segment)
		return rt_fail(e, "tensor '%s': segmented tensors are not supported", name);
	if (tp->n_dims > HWRT_MAX_RANK)
		return rt_fail(e, "tensor '%s': rank %zu exceeds the supported %d", name,
			       tp->n_dims, HWRT_MAX_RANK);
	enum hwrt_dtype dt = (enum hwrt_dtype)tp->data_type;
	size_t es = hwrt_dtype_size(dt);
	if (es == 0)
		return rt_fail(e, "tensor '%s': data type %d is not supported", name,
			       (int)tp->data_type);
	out->dtype = dt;
	out->rank = (int)tp->n_dims;
	for (size_t i = 0; i < tp->n_dims; i++) {
		if (tp->dims[i] < 0)
			return rt_fail(e, "tensor '%s': negative dimension %lld", name,
				       (long long)tp->dims[i]);
		out->dims[i] = tp->dims[i];
	}
	int64_t count = rt_count_dims(out->rank, out->dims);
	if (count < 0)
		return rt_fail(e, "tensor '%s': shape is too large", name);
	size_t bytes = (size_t)count * es;

	if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
		return map_external(tp, base_dir, g, bytes, out, owned, e);

	if (tp->has_raw_data) {
		if (tp->raw_data.len != bytes)
			return rt_fail(e, "tensor '%s': raw data holds %zu bytes, the shape needs %zu",
				       name, tp->raw_data.len, bytes);
		if (bytes && ((uintptr_t)tp->raw_data.data % 16) == 0) {
			/* In place: take the decoder's buffer (malloc'ed). */
			out->data = tp->raw_data.data;
			*owned = tp->raw_data.data;
			tp->raw_data.data = NULL;
			tp->raw_data.len = 0;
			tp->has_raw_data = 0;
			return 0;
		}
		void *buf = rt_alloc(bytes);
		if (!buf)
			return rt_fail(e, "tensor '%s': out of memory", name);
		if (bytes)
			memcpy(buf, tp->raw_data.data, bytes);
		out->data = buf;
		*owned = buf;
		return 0;
	}

	size_t have;
	switch (dt) {
	case HWRT_FLOAT: have = tp->n_float_data; break;
	case HWRT_INT64: have = tp->n_int64_data; break;
	case HWRT_DOUBLE: have = tp->n_double_data; break;
	case HWRT_UINT32: case HWRT_UINT64: have = tp->n_uint64_data; break;
	default: have = tp->n_int32_data; break;
	}
	if (have != (size_t)count)
		return rt_fail(e, "tensor '%s': %zu values for a shape of %lld elements", name, have,
			       (long long)count);
	void *buf = rt_alloc(bytes);
	if (!buf)
		return rt_fail(e, "tensor '%s': out of memory", name);
	for (int64_t i = 0; i < count; i++) {
		switch (dt) {
		case HWRT_FLOAT: ((float *)buf)[i] = tp->float_data[i]; break;
		case HWRT_INT64: ((int64_t *)buf)[i] = tp->int64_data[i]; break;
		case HWRT_DOUBLE: ((double *)buf)[i] = tp->double_data[i]; break;
		case HWRT_UINT32: ((uint32_t *)buf)[i] = (uint32_t)tp->uint64_data[i]; break;
		case HWRT_UINT64: ((uint64_t *)buf)[i] = tp->uint64_data[i]; break;
		case HWRT_INT32: ((int32_t *)buf)[i] = tp->int32_data[i]; break;
		case HWRT_INT16: ((int16_t *)buf)[i] = (int16_t)tp->int32_data[i]; break;
		case HWRT_UINT16: case HWRT_FLOAT16: case HWRT_BFLOAT16:
			((uint16_t *)buf)[i] = (uint16_t)tp->int32_data[i];
			break;
		case HWRT_INT8: ((int8_t *)buf)[i] = (int8_t)tp->int32_data[i]; break;
		case HWRT_UINT8: ((uint8_t *)buf)[i] = (uint8_t)tp->int32_data[i]; break;
		case HWRT_BOOL: ((uint8_t *)buf)[i] = tp->int32_data[i] != 0; break;
		default: break;
		}
	}
	out->data = buf;
	*owned = buf;
	return 0;
}
