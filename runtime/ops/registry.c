/* The operator table, from the list the build generates out of the
 * RT_OP_DEFINE lines of the files in runtime/ops. */
#include <stdlib.h>
#include <string.h>

#include "runtime/op.h"
#include "runtime/tensor.h"

#define X(NAME) extern const struct rt_op rt_op_##NAME;
#include "runtime_op_list.h"
#undef X

static const struct rt_op *const table[] = {
#define X(NAME) &rt_op_##NAME,
#include "runtime_op_list.h"
#undef X
};
#define N_OPS (sizeof(table) / sizeof(table[0]))

const struct rt_op *rt_op_internal(const char *name)
{
	for (size_t i = 0; i < N_OPS; i++)
		if (strcmp(table[i]->name, name) == 0)
			return table[i];
	return NULL;
}

const struct rt_op *rt_op_lookup(const char *domain, const char *name)
{
	if (domain && *domain && strcmp(domain, "ai.onnx") != 0)
		return NULL;
	const struct rt_op *op = rt_op_internal(name);
	return op && !(op->flags & RT_OP_INTERNAL) ? op : NULL;
}

size_t hwrt_ops(const struct hwrt_op_info **out)
{
	static struct hwrt_op_info info[N_OPS];
	size_t n = 0;
	for (size_t i = 0; i < N_OPS; i++)
		if (!(table[i]->flags & RT_OP_INTERNAL))
			info[n++] = (struct hwrt_op_info){ table[i]->name, table[i]->since, 17 };
	*out = info;
	return n;
}

int rt_check_io(const struct rt_node *n, int min_in, int max_in, int min_out, int max_out,
		struct rt_err *e)
{
	if (n->n_in < min_in || n->n_in > max_in)
		return rt_fail(e, "takes %d to %d inputs, has %d", min_in, max_in, n->n_in);
	if (n->n_out < min_out || n->n_out > max_out)
		return rt_fail(e, "has %d to %d outputs, not %d", min_out, max_out, n->n_out);
	for (int k = 0; k < min_in; k++)
		if (n->in[k] < 0)
			return rt_fail(e, "required input %d is missing", k);
	return 0;
}

void rt_set_shape(struct hwrt_tensor *dst, enum hwrt_dtype dt, int rank, const int64_t *dims)
{
	dst->dtype = dt;
	dst->rank = rank;
	for (int i = 0; i < rank; i++)
		dst->dims[i] = dims[i];
}

int rt_axis(int64_t axis, int rank)
{
	if (axis < -rank || axis >= (rank ? rank : 1))
		return -1;
	return (int)(axis < 0 ? axis + rank : axis);
}

int64_t rt_int_at(const struct hwrt_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case HWRT_INT32: return ((const int32_t *)t->data)[i];
	case HWRT_INT64: return ((const int64_t *)t->data)[i];
	default: return (int64_t)rt_num_at(t, i);
	}
}

double rt_num_at(const struct hwrt_tensor *t, int64_t i)
{
	const void *p = t->data;
	switch (t->dtype) {
	case HWRT_FLOAT: return ((const float *)p)[i];
	case HWRT_DOUBLE: return ((const double *)p)[i];
	case HWRT_FLOAT16: return rt_f16_to_f32(((const uint16_t *)p)[i]);
	case HWRT_BFLOAT16: return rt_bf16_to_f32(((const uint16_t *)p)[i]);
	case HWRT_INT8: return ((const int8_t *)p)[i];
	case HWRT_UINT8: case HWRT_BOOL: return ((const uint8_t *)p)[i];
	case HWRT_INT16: return ((const int16_t *)p)[i];
	case HWRT_UINT16: return ((const uint16_t *)p)[i];
	case HWRT_INT32: return ((const int32_t *)p)[i];
	case HWRT_UINT32: return ((const uint32_t *)p)[i];
	case HWRT_INT64: return (double)((const int64_t *)p)[i];
	case HWRT_UINT64: return (double)((const uint64_t *)p)[i];
	default: return 0;
	}
}
