/* Helpers of the data-movement operators: see shape_util.h. */
#include "runtime/ops/shape_util.h"

#include <stdlib.h>
#include <string.h>

int su_check_dtype(const struct hwrt_tensor *t, const char *what, struct rt_err *e)
{
	if (!hwrt_dtype_size(t->dtype))
		return rt_fail(e, "%s has unsupported type %s", what, hwrt_dtype_name(t->dtype));
	return 0;
}

int su_read_ints(const struct hwrt_tensor *t, const char *what, int64_t *v, int max,
		 struct rt_err *e)
{
	if (t->dtype != HWRT_INT64 && t->dtype != HWRT_INT32)
		return rt_fail(e, "%s must be int64 or int32, not %s", what,
			       hwrt_dtype_name(t->dtype));
	if (t->rank > 1)
		return rt_fail(e, "%s must be 1-D, has rank %d", what, t->rank);
	int64_t n = hwrt_tensor_count(t);
	if (n < 0 || n > max)
		return rt_fail(e, "%s has %lld values, at most %d allowed", what, (long long)n,
			       max);
	for (int64_t i = 0; i < n; i++)
		v[i] = rt_int_at(t, i);
	return (int)n;
}

int su_check_dims(int rank, const int64_t *dims, struct rt_err *e)
{
	if (rank < 0 || rank > HWRT_MAX_RANK)
		return rt_fail(e, "output rank %d exceeds %d", rank, HWRT_MAX_RANK);
	for (int i = 0; i < rank; i++)
		if (dims[i] < 0)
			return rt_fail(e, "output dim %d is negative (%lld)", i, (long long)dims[i]);
	if (rt_count_dims(rank, dims) < 0)
		return rt_fail(e, "output is too large");
	return 0;
}

int su_axes(const int64_t *axes, int n, int rank, unsigned *mask, struct rt_err *e)
{
	*mask = 0;
	for (int i = 0; i < n; i++) {
		int a = rt_axis(axes[i], rank);
		if (a < 0 || a >= rank)
			return rt_fail(e, "axis %lld is out of range for rank %d",
				       (long long)axes[i], rank);
		if (*mask & (1u << a))
			return rt_fail(e, "axis %lld is repeated", (long long)axes[i]);
		*mask |= 1u << a;
	}
	return 0;
}

void su_strides(const struct hwrt_tensor *t, int64_t *strides)
{
	rt_strides(t->rank, t->dims, strides);
}

#define FILL INT64_MIN

struct job {
	int rank; /* >= 1 */
	const int64_t *dims;
	int64_t *off[SU_MAX_DIMS]; /* byte offsets per index, FILL */
	int64_t rows, rows_per_task, inner;
	bool contig; /* last dim copies as one block */
	bool last_fills; /* the last dim's map has FILL entries */
	const char *src;
	char *dst;
	size_t esz;
	const void *fill;
};

static void put(char *d, const char *s, size_t esz)
{
	switch (esz) {
	case 1: *d = *s; break;
	case 2: memcpy(d, s, 2); break;
	case 4: memcpy(d, s, 4); break;
	case 8: memcpy(d, s, 8); break;
	default: memcpy(d, s, esz);
	}
}

static void fill_n(char *d, int64_t n, const void *fill, size_t esz)
{
	if (!fill) {
		memset(d, 0, (size_t)n * esz);
		return;
	}
	for (int64_t i = 0; i < n; i++)
		put(d + i * (int64_t)esz, fill, esz);
}

/* One row along the last axis: element i from s + last[i] bytes. */
static void gather_row(const struct job *j, char *dst, const char *s, const int64_t *last,
		       int64_t L)
{
	if (j->esz == 4 && !j->last_fills) {
		for (int64_t i = 0; i < L; i++)
			memcpy(dst + i * 4, s + last[i], 4);
		return;
	}
	for (int64_t i = 0; i < L; i++) {
		char *d = dst + i * (int64_t)j->esz;
		if (last[i] == FILL)
			fill_n(d, 1, j->fill, j->esz);
		else
			put(d, s + last[i], j->esz);
	}
}

static void gather_task(void *ctx, size_t t)
{
	const struct job *j = ctx;
	int64_t r0 = (int64_t)t * j->rows_per_task, r1 = r0 + j->rows_per_task;
	if (r1 > j->rows)
		r1 = j->rows;
	if (r0 >= r1)
		return;
	int outer = j->rank - 1;
	int64_t idx[SU_MAX_DIMS];
	int64_t rem = r0;
	for (int d = outer - 1; d >= 0; d--) {
		idx[d] = rem % j->dims[d];
		rem /= j->dims[d];
	}
	const int64_t *last = j->off[outer];
	int64_t L = j->inner, rowbytes = L * (int64_t)j->esz, prev = -1;
	for (int64_t r = r0; r < r1; r++) {
		int64_t o = 0;
		bool fill = false;
		for (int d = 0; d < outer; d++) {
			int64_t v = j->off[d][idx[d]];
			if (v == FILL)
				fill = true;
			o += v;
		}
		char *dst = j->dst + r * rowbytes;
		if (fill) {
			fill_n(dst, L, j->fill, j->esz);
			prev = -1;
		} else if (j->contig) {
			memcpy(dst, j->src + o + last[0], (size_t)rowbytes);
		} else if (o == prev) {
			/* the row above read the same source row (upsampling) */
			memcpy(dst, dst - rowbytes, (size_t)rowbytes);
		} else {
			prev = o;
			gather_row(j, dst, j->src + o, last, L);
		}
		for (int d = outer - 1; d >= 0; d--) {
			if (++idx[d] < j->dims[d])
				break;
			idx[d] = 0;
		}
	}
}

int su_gather_run(const struct su_gather *gp, const void *src, void *dst, size_t esz,
		  const void *fill, const struct hwk_parallel *par, struct rt_err *e)
{
	struct su_gather g = { 0 };
	int64_t base = gp->base;
	/* drop unit dims into the base, then merge contiguous identity dims */
	for (int d = 0; d < gp->rank; d++) {
		if (gp->dims[d] == 0)
			return 0;
		if (gp->dims[d] == 1) {
			int64_t i = gp->map[d] ? gp->map[d][0] : 0;
			if (i < 0) {
				fill_n(dst, rt_count_dims(gp->rank, gp->dims), fill, esz);
				return 0;
			}
			base += i * gp->stride[d];
			continue;
		}
		int k = g.rank;
		if (k > 0 && !g.map[k - 1] && !gp->map[d] &&
		    g.stride[k - 1] == gp->stride[d] * gp->dims[d]) {
			g.dims[k - 1] *= gp->dims[d];
			g.stride[k - 1] = gp->stride[d];
			continue;
		}
		g.dims[k] = gp->dims[d];
		g.stride[k] = gp->stride[d];
		g.map[k] = gp->map[d];
		g.rank++;
	}
	const char *s = (const char *)src + base * (int64_t)esz;
	if (g.rank == 0) {
		put(dst, s, esz);
		return 0;
	}
	int64_t total = 0;
	for (int d = 0; d < g.rank; d++)
		total += g.dims[d];
	int64_t *tab = malloc((size_t)total * sizeof(int64_t));
	if (!tab)
		return rt_fail(e, "out of memory");
	struct job j = { .rank = g.rank, .dims = g.dims, .src = s, .dst = dst, .esz = esz,
			 .fill = fill };
	int64_t *p = tab;
	for (int d = 0; d < g.rank; d++) {
		j.off[d] = p;
		for (int64_t i = 0; i < g.dims[d]; i++) {
			int64_t v = g.map[d] ? g.map[d][i] : i;
			p[i] = v < 0 ? FILL : v * g.stride[d] * (int64_t)esz;
		}
		p += g.dims[d];
	}
	j.inner = g.dims[g.rank - 1];
	j.contig = !g.map[g.rank - 1] && g.stride[g.rank - 1] == 1;
	for (int64_t i = 0; i < j.inner; i++)
		j.last_fills |= j.off[g.rank - 1][i] == FILL;
	j.rows = 1;
	for (int d = 0; d < g.rank - 1; d++)
		j.rows *= g.dims[d];
	/* a few tasks per thread once there is enough to move */
	int64_t bytes = j.rows * j.inner * (int64_t)esz;
	int64_t tasks = 1;
	size_t th = hwk_parallel_threads(par);
	if (th > 1 && bytes > (1 << 18))
		tasks = j.rows < (int64_t)th * 4 ? j.rows : (int64_t)th * 4;
	j.rows_per_task = (j.rows + tasks - 1) / tasks;
	tasks = (j.rows + j.rows_per_task - 1) / j.rows_per_task;
	hwk_parallel_for(par, (size_t)tasks, gather_task, &j);
	free(tab);
	return 0;
}

bool su_has_order_key(enum hwrt_dtype t)
{
	switch (t) {
	case HWRT_FLOAT: case HWRT_DOUBLE: case HWRT_FLOAT16: case HWRT_BFLOAT16: case HWRT_INT8:
	case HWRT_INT16: case HWRT_INT32: case HWRT_INT64: case HWRT_UINT8: case HWRT_UINT16:
	case HWRT_UINT32: case HWRT_UINT64: return true;
	default: return false;
	}
}

static uint64_t fkey(double v)
{
	uint64_t b;
	memcpy(&b, &v, 8);
	return b >> 63 ? ~b : b | ((uint64_t)1 << 63);
}

uint64_t su_order_key(const struct hwrt_tensor *t, int64_t i)
{
	const uint64_t sign = (uint64_t)1 << 63;
	const void *p = t->data;
	switch (t->dtype) {
	case HWRT_FLOAT: return fkey(((const float *)p)[i]);
	case HWRT_DOUBLE: return fkey(((const double *)p)[i]);
	case HWRT_FLOAT16: case HWRT_BFLOAT16: return fkey(rt_num_at(t, i));
	case HWRT_INT8: case HWRT_INT16: case HWRT_INT32: case HWRT_INT64:
		return (uint64_t)rt_int_at(t, i) ^ sign;
	case HWRT_UINT8: return ((const uint8_t *)p)[i];
	case HWRT_UINT16: return ((const uint16_t *)p)[i];
	case HWRT_UINT32: return ((const uint32_t *)p)[i];
	case HWRT_UINT64: return ((const uint64_t *)p)[i];
	default: return 0;
	}
}
