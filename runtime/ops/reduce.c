/* Reductions over a set of axes, Softmax/LogSoftmax along an axis, and
 * float type conversions shared by the reduction and normalization ops. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "runtime/ops/reduce.h"

/* ---- conversions ---- */

bool rt_is_float_type(enum hwrt_dtype dt)
{
	return dt == HWRT_FLOAT || dt == HWRT_DOUBLE || dt == HWRT_FLOAT16 || dt == HWRT_BFLOAT16;
}


int64_t rt_dims_prod(const int64_t *dims, int a, int b)
{
	int64_t p = 1;
	for (int i = a; i < b; i++)
		p *= dims[i];
	return p;
}

/* ---- reductions ---- */

int rt_reduce_check(const struct rt_node *n, const struct rt_graph *g, bool axes_input,
		    struct rt_err *e)
{
	if (rt_check_io(n, 1, axes_input ? 2 : 1, 1, 1, e))
		return -1;
	if (axes_input && rt_attr_find(n, "axes"))
		return rt_fail(e, "axes is an input from opset 13, not an attribute");
	if (!axes_input && rt_attr_find(n, "noop_with_empty_axes"))
		return rt_fail(e, "noop_with_empty_axes needs opset 13 and the axes input");
	return 0;
}

/* The reduced axes as a bit mask. */
static int get_axes(const struct rt_node *n, const struct hwrt_tensor *const *in, int rank,
		    unsigned *mask, struct rt_err *e)
{
	const int64_t *a = NULL;
	int na = rt_attr_ints(n, "axes", &a);
	const struct hwrt_tensor *t = n->n_in > 1 ? in[1] : NULL;
	if (t) {
		if (t->dtype != HWRT_INT64 || t->rank != 1)
			return rt_fail(e, "axes must be a 1-D int64 tensor");
		if (!t->data && t->dims[0] != 0)
			return RT_NEED_VALUE;
		a = t->data;
		na = (int)(t->dims[0] > 64 ? 64 : t->dims[0]);
	}
	*mask = 0;
	if (na <= 0) {
		if (!rt_attr_int(n, "noop_with_empty_axes", 0))
			*mask = (1u << rank) - 1;
		return 0;
	}
	for (int i = 0; i < na; i++) {
		int ax = rt_axis(a[i], rank);
		if (ax < 0 || rank == 0)
			return rt_fail(e, "axis %lld is out of range for rank %d", (long long)a[i],
				       rank);
		if (*mask & (1u << ax))
			return rt_fail(e, "axis %lld is repeated", (long long)a[i]);
		*mask |= 1u << ax;
	}
	return 0;
}

int rt_reduce_infer(const struct rt_node *n, enum rt_red kind, const struct hwrt_tensor *const *in,
		    struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	switch (x->dtype) {
	case HWRT_FLOAT: case HWRT_DOUBLE: case HWRT_FLOAT16: case HWRT_BFLOAT16:
	case HWRT_INT32: case HWRT_INT64: case HWRT_UINT32: case HWRT_UINT64: break;
	case HWRT_INT8: case HWRT_UINT8:
		if (kind == RT_RED_MAX || kind == RT_RED_MIN)
			break;
		/* fallthrough */
	default: return rt_fail(e, "type %s is not supported", hwrt_dtype_name(x->dtype));
	}
	unsigned mask;
	int r = get_axes(n, in, x->rank, &mask, e);
	if (r)
		return r;
	bool keep = rt_attr_int(n, "keepdims", 1) != 0;
	int64_t dims[HWRT_MAX_RANK];
	int rank = 0;
	for (int i = 0; i < x->rank; i++) {
		if (!(mask & (1u << i)))
			dims[rank++] = x->dims[i];
		else if (keep)
			dims[rank++] = 1;
	}
	rt_set_shape(out[0], x->dtype, rank, dims);
	return 0;
}

/* One pass: y[o][i] = reduce over r of x[o][r][i]. */
struct step {
	enum rt_red kind;
	const void *x;
	void *y;
	int64_t O, R, I;
	int64_t ochunk, ichunk, n_ic;
	void (*fn)(const struct step *s, int64_t o0, int64_t o1, int64_t i0, int64_t i1);
};

#define NAN_F(v) ((v) != (v))
#define NAN_I(v) 0

/* Over contiguous rows (I == 1) with an accumulator of type A, else along
 * the rows of the output, which keeps the inner loop unit-stride. */
#define RED_LOOP(T, A, INIT, COMB)                                                            \
	if (s->I == 1) {                                                                      \
		for (int64_t o = o0; o < o1; o++) {                                           \
			const T *p = X + o * s->R;                                            \
			A acc = INIT;                                                         \
			for (int64_t r = 0; r < s->R; r++) {                                  \
				A v = p[r];                                                   \
				acc = COMB;                                                   \
			}                                                                     \
			Y[o] = (T)acc;                                                        \
		}                                                                             \
	} else {                                                                              \
		for (int64_t o = o0; o < o1; o++) {                                           \
			T *q = Y + o * s->I;                                                  \
			const T *p = X + o * s->R * s->I;                                     \
			for (int64_t i = i0; i < i1; i++)                                     \
				q[i] = p[i];                                                  \
			for (int64_t r = 1; r < s->R; r++) {                                  \
				const T *pr = p + r * s->I;                                   \
				for (int64_t i = i0; i < i1; i++) {                           \
					T acc = q[i], v = pr[i];                              \
					q[i] = (T)(COMB);                                     \
				}                                                             \
			}                                                                     \
		}                                                                             \
	}

#define RED_FN(NAME, T, A, ISNAN)                                                             \
	static void NAME(const struct step *s, int64_t o0, int64_t o1, int64_t i0, int64_t i1) \
	{                                                                                     \
		const T *X = s->x;                                                            \
		T *Y = s->y;                                                                  \
		switch (s->kind) {                                                            \
		case RT_RED_SUM:                                                              \
		case RT_RED_MEAN: {                                                           \
			RED_LOOP(T, A, 0, acc + v)                                            \
			break;                                                                \
		}                                                                             \
		case RT_RED_PROD: {                                                           \
			RED_LOOP(T, A, 1, acc * v)                                            \
			break;                                                                \
		}                                                                             \
		case RT_RED_MAX: {                                                            \
			RED_LOOP(T, T, p[0], (v > acc || ISNAN(v)) ? v : acc)                 \
			break;                                                                \
		}                                                                             \
		case RT_RED_MIN: {                                                            \
			RED_LOOP(T, T, p[0], (v < acc || ISNAN(v)) ? v : acc)                 \
			break;                                                                \
		}                                                                             \
		}                                                                             \
	}

RED_FN(red_f64, double, double, NAN_F)
RED_FN(red_i8, int8_t, int64_t, NAN_I)
RED_FN(red_u8, uint8_t, uint64_t, NAN_I)
RED_FN(red_i32, int32_t, int64_t, NAN_I)
RED_FN(red_u32, uint32_t, uint64_t, NAN_I)
RED_FN(red_i64, int64_t, int64_t, NAN_I)
RED_FN(red_u64, uint64_t, uint64_t, NAN_I)
/* Float products and short sums of contiguous rows accumulate in double. */
RED_FN(red_f32_generic, float, double, NAN_F)

/* Float sums of contiguous rows in eight lanes so they vectorize. */
static void red_f32(const struct step *s, int64_t o0, int64_t o1, int64_t i0, int64_t i1)
{
	if (s->I != 1 || (s->kind != RT_RED_SUM && s->kind != RT_RED_MEAN) || s->R < 16) {
		red_f32_generic(s, o0, o1, i0, i1);
		return;
	}
	const float *X = s->x;
	float *Y = s->y;
	for (int64_t o = o0; o < o1; o++) {
		const float *p = X + o * s->R;
		float l[8] = { 0 };
		int64_t r = 0;
		for (; r + 8 <= s->R; r += 8)
			for (int k = 0; k < 8; k++)
				l[k] += p[r + k];
		float acc = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
		for (; r < s->R; r++)
			acc += p[r];
		Y[o] = acc;
	}
}

static void step_task(void *p, size_t t)
{
	const struct step *s = p;
	int64_t oc = (int64_t)t / s->n_ic, ic = (int64_t)t % s->n_ic;
	int64_t o0 = oc * s->ochunk, o1 = o0 + s->ochunk < s->O ? o0 + s->ochunk : s->O;
	int64_t i0 = ic * s->ichunk, i1 = i0 + s->ichunk < s->I ? i0 + s->ichunk : s->I;
	s->fn(s, o0, o1, i0, i1);
}

/* Splits the outputs over tasks; each output is computed the same way
 * whatever the split, so results do not depend on the thread count. */
static void run_step(struct step *s, const struct hwk_parallel *par)
{
	int64_t threads = (int64_t)hwk_parallel_threads(par);
	s->ochunk = s->O;
	s->ichunk = s->I;
	s->n_ic = 1;
	size_t tasks = 1;
	if (threads > 1 && s->O * s->R * s->I >= 65536) {
		int64_t want = threads * 4;
		if (s->O >= want || s->I < 64) {
			s->ochunk = (s->O + want - 1) / want;
			tasks = (size_t)((s->O + s->ochunk - 1) / s->ochunk);
		} else {
			s->ochunk = 1;
			int64_t nic = (want + s->O - 1) / s->O;
			s->ichunk = ((s->I + nic - 1) / nic + 15) & ~(int64_t)15;
			s->n_ic = (s->I + s->ichunk - 1) / s->ichunk;
			tasks = (size_t)(s->O * s->n_ic);
		}
	}
	hwk_parallel_for(par, tasks, step_task, s);
}

/* Long contiguous reductions into few outputs (a full reduction) go in
 * fixed blocks whose partial results are then reduced: the blocking never
 * depends on the thread count, so neither do the results. */
#define RED_BLOCK 16384
struct blocked {
	const struct step *s;
	char *part;
	int64_t nb;
	size_t es;
};

static void block_task(void *p, size_t t)
{
	const struct blocked *b = p;
	int64_t o = (int64_t)t / b->nb, k = (int64_t)t % b->nb;
	int64_t r0 = k * RED_BLOCK, len = b->s->R - r0 < RED_BLOCK ? b->s->R - r0 : RED_BLOCK;
	struct step sub = *b->s;
	sub.x = (const char *)b->s->x + (size_t)(o * b->s->R + r0) * b->es;
	sub.y = b->part + (size_t)t * b->es;
	sub.O = 1;
	sub.R = len;
	b->s->fn(&sub, 0, 1, 0, 1);
}

static int run_blocked(struct step *s, size_t es, const struct hwk_parallel *par)
{
	struct blocked b = { s, NULL, (s->R + RED_BLOCK - 1) / RED_BLOCK, es };
	if (!(b.part = rt_alloc((size_t)(s->O * b.nb) * es)))
		return -1;
	hwk_parallel_for(par, (size_t)(s->O * b.nb), block_task, &b);
	struct step fin = *s;
	fin.x = b.part;
	fin.R = b.nb;
	run_step(&fin, NULL);
	rt_free(b.part);
	return 0;
}

/* The value a reduction over no elements gives. */
static void fill_identity(void *y, enum hwrt_dtype dt, enum rt_red kind, int64_t n)
{
	if (rt_is_float_type(dt)) {
		double v = kind == RT_RED_SUM ? 0 : kind == RT_RED_MEAN ? NAN
			 : kind == RT_RED_PROD ? 1 : kind == RT_RED_MAX ? -INFINITY : INFINITY;
		for (int64_t i = 0; i < n; i++)
			rt_from_f64(&v, dt, (char *)y + i * (int64_t)hwrt_dtype_size(dt), 1);
		return;
	}
	int64_t v = kind == RT_RED_PROD ? 1 : 0;
	uint64_t u = (uint64_t)v;
	bool mx = kind == RT_RED_MAX, mn = kind == RT_RED_MIN;
	for (int64_t i = 0; i < n; i++) {
		switch (dt) {
		case HWRT_INT8: ((int8_t *)y)[i] = mx ? INT8_MIN : mn ? INT8_MAX : (int8_t)v; break;
		case HWRT_UINT8: ((uint8_t *)y)[i] = mn ? UINT8_MAX : (uint8_t)u; break;
		case HWRT_INT32: ((int32_t *)y)[i] = mx ? INT32_MIN : mn ? INT32_MAX : (int32_t)v; break;
		case HWRT_UINT32: ((uint32_t *)y)[i] = mn ? UINT32_MAX : (uint32_t)u; break;
		case HWRT_INT64: ((int64_t *)y)[i] = mx ? INT64_MIN : mn ? INT64_MAX : v; break;
		case HWRT_UINT64: ((uint64_t *)y)[i] = mn ? UINT64_MAX : u; break;
		default: break;
		}
	}
}

static void mean_divide(void *y, enum hwrt_dtype dt, int64_t n, int64_t cnt)
{
#define DIV(T, D)                                                                             \
	for (int64_t i = 0; i < n; i++)                                                       \
		((T *)y)[i] = (T)(((T *)y)[i] / (D)cnt);
	switch (dt) {
	case HWRT_FLOAT: DIV(float, float) break;
	case HWRT_DOUBLE: DIV(double, double) break;
	case HWRT_INT32: DIV(int32_t, int32_t) break;
	case HWRT_UINT32: DIV(uint32_t, uint32_t) break;
	case HWRT_INT64: DIV(int64_t, int64_t) break;
	case HWRT_UINT64: DIV(uint64_t, uint64_t) break;
	default: break;
	}
#undef DIV
}

int rt_reduce_run(const struct rt_node *n, enum rt_red kind, const struct hwrt_tensor *const *in,
		  struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *X = in[0];
	struct hwrt_tensor *Y = out[0];
	unsigned mask;
	if (get_axes(n, in, X->rank, &mask, e))
		return -1;
	int64_t n_out = hwrt_tensor_count(Y), rcount = 1;
	if (n_out == 0)
		return 0;
	/* Size-1 dims drop out and neighbours alike in kind merge. */
	int64_t d[HWRT_MAX_RANK];
	bool red[HWRT_MAX_RANK];
	int m = 0;
	for (int i = 0; i < X->rank; i++) {
		bool r = (mask >> i) & 1;
		if (r)
			rcount *= X->dims[i];
		if (X->dims[i] == 1)
			continue;
		if (m && red[m - 1] == r) {
			d[m - 1] *= X->dims[i];
		} else {
			d[m] = X->dims[i];
			red[m++] = r;
		}
	}
	enum hwrt_dtype dt = X->dtype;
	if (rcount == 0) {
		fill_identity(Y->data, dt, kind, n_out);
		return 0;
	}
	bool half = dt == HWRT_FLOAT16 || dt == HWRT_BFLOAT16;
	enum hwrt_dtype wt = half ? HWRT_FLOAT : dt;
	size_t es = hwrt_dtype_size(wt);
	void (*fn)(const struct step *, int64_t, int64_t, int64_t, int64_t);
	switch (wt) {
	case HWRT_FLOAT: fn = red_f32; break;
	case HWRT_DOUBLE: fn = red_f64; break;
	case HWRT_INT8: fn = red_i8; break;
	case HWRT_UINT8: fn = red_u8; break;
	case HWRT_INT32: fn = red_i32; break;
	case HWRT_UINT32: fn = red_u32; break;
	case HWRT_INT64: fn = red_i64; break;
	case HWRT_UINT64: fn = red_u64; break;
	default: return rt_fail(e, "type %s is not supported", hwrt_dtype_name(dt));
	}
	int64_t n_in = hwrt_tensor_count(X);
	void *in_buf = NULL, *out_buf = NULL, *owned = NULL;
	const void *src = X->data;
	void *final = Y->data;
	if (half) {
		in_buf = rt_alloc((size_t)n_in * es);
		out_buf = rt_alloc((size_t)n_out * es);
		if (!in_buf || !out_buf)
			goto oom;
		rt_to_f32(X->data, dt, in_buf, n_in);
		src = in_buf;
		final = out_buf;
	}
	int k = m - 1;
	while (k >= 0 && !red[k])
		k--;
	if (k < 0)
		memmove(final, src, (size_t)n_out * es);
	/* One pass per reduced group, innermost first. */
	while (k >= 0) {
		int prev = k - 1;
		while (prev >= 0 && !red[prev])
			prev--;
		struct step s = { .kind = kind, .x = src, .O = rt_dims_prod(d, 0, k), .R = d[k],
				  .I = rt_dims_prod(d, k + 1, m), .fn = fn };
		void *dst = final;
		if (prev >= 0 && !(dst = rt_alloc((size_t)(s.O * s.I) * es)))
			goto oom;
		s.y = dst;
		if (s.I == 1 && s.O < 16 && s.R >= 2 * RED_BLOCK) {
			if (run_blocked(&s, es, x->par)) {
				if (prev >= 0)
					rt_free(dst);
				goto oom;
			}
		} else {
			run_step(&s, x->par);
		}
		if (owned)
			rt_free(owned);
		owned = prev >= 0 ? dst : NULL;
		src = dst;
		/* Drop group k; its kept neighbours become one. */
		if (k + 1 < m && k > 0) {
			d[k - 1] *= d[k + 1];
			for (int j = k; j + 2 < m; j++)
				d[j] = d[j + 2], red[j] = red[j + 2];
			m -= 2;
		} else {
			for (int j = k; j + 1 < m; j++)
				d[j] = d[j + 1], red[j] = red[j + 1];
			m -= 1;
		}
		k = prev;
	}
	if (kind == RT_RED_MEAN)
		mean_divide(final, wt, n_out, rcount);
	if (half)
		rt_from_f32(final, dt, Y->data, n_out);
	rt_free(in_buf);
	rt_free(out_buf);
	return 0;
oom:
	rt_free(in_buf);
	rt_free(out_buf);
	rt_free(owned);
	return rt_fail(e, "out of memory");
}

/* ---- Softmax, LogSoftmax ---- */

int rt_softmax_check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 1, 1, 1, 1, e);
}

int rt_softmax_infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		     struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	if (!rt_is_float_type(x->dtype))
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(x->dtype));
	if (x->rank < 1)
		return rt_fail(e, "the input must have rank >= 1");
	const struct rt_attr *a = rt_attr_find(n, "axis");
	if (a && rt_axis(a->i, x->rank) < 0)
		return rt_fail(e, "axis %lld is out of range for rank %d", (long long)a->i,
			       x->rank);
	rt_set_shape(out[0], x->dtype, x->rank, x->dims);
	return 0;
}

struct sm {
	const void *x;
	void *y;
	int64_t N, I, ichunk, n_ic;
	bool log;
};

/* Along a strided axis: lanes of up to SM_LANES columns side by side. */
#define SM_LANES 64
#define SM_FN(NAME, T, EXP, LOG)                                                              \
	static void NAME(void *p, size_t t)                                                   \
	{                                                                                     \
		const struct sm *s = p;                                                       \
		int64_t o = (int64_t)t / s->n_ic, i0 = (int64_t)t % s->n_ic * s->ichunk;      \
		int64_t i1 = i0 + s->ichunk < s->I ? i0 + s->ichunk : s->I;                   \
		const T *X = (const T *)s->x + o * s->N * s->I;                               \
		T *Y = (T *)s->y + o * s->N * s->I;                                           \
		for (; i0 < i1; i0 += SM_LANES) {                                             \
			int64_t w = i1 - i0 < SM_LANES ? i1 - i0 : SM_LANES;                  \
			T mx[SM_LANES], sum[SM_LANES];                                        \
			for (int64_t i = 0; i < w; i++)                                       \
				mx[i] = X[i0 + i], sum[i] = 0;                                \
			for (int64_t k = 1; k < s->N; k++)                                    \
				for (int64_t i = 0; i < w; i++) {                             \
					T v = X[k * s->I + i0 + i];                           \
					mx[i] = (v > mx[i] || v != v) ? v : mx[i];            \
				}                                                             \
			for (int64_t k = 0; k < s->N; k++)                                    \
				for (int64_t i = 0; i < w; i++) {                             \
					int64_t j = k * s->I + i0 + i;                        \
					T v = EXP(X[j] - mx[i]);                              \
					sum[i] += v;                                          \
					if (!s->log)                                          \
						Y[j] = v;                                     \
				}                                                             \
			for (int64_t i = 0; i < w; i++)                                       \
				sum[i] = s->log ? mx[i] + LOG(sum[i]) : 1 / sum[i];           \
			for (int64_t k = 0; k < s->N; k++)                                    \
				for (int64_t i = 0; i < w; i++) {                             \
					int64_t j = k * s->I + i0 + i;                        \
					Y[j] = s->log ? X[j] - sum[i] : Y[j] * sum[i];        \
				}                                                             \
		}                                                                             \
	}

SM_FN(sm_f32, float, expf, logf)
SM_FN(sm_f64, double, exp, log)

int rt_softmax_run(const struct rt_node *n, bool log, const struct hwrt_tensor *const *in,
		   struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *X = in[0];
	struct hwrt_tensor *Y = out[0];
	int64_t cnt = hwrt_tensor_count(X);
	if (cnt == 0)
		return 0;
	bool old = x->g && x->g->opset < 13;
	int r = X->rank;
	int axis = rt_axis(rt_attr_int(n, "axis", old ? 1 : -1), r);
	if (old && axis < 0 && rt_attr_int(n, "axis", 1) == r)
		axis = r; /* coerced to [N, 1] */
	if (axis < 0)
		return rt_fail(e, "axis is out of range for rank %d", r);
	int64_t O = rt_dims_prod(X->dims, 0, axis), N, I;
	if (old) {
		N = rt_dims_prod(X->dims, axis, r);
		I = 1;
	} else {
		N = X->dims[axis];
		I = rt_dims_prod(X->dims, axis + 1, r);
	}
	enum hwrt_dtype dt = X->dtype;
	bool half = dt == HWRT_FLOAT16 || dt == HWRT_BFLOAT16;
	const void *src = X->data;
	void *dst = Y->data, *buf = NULL;
	if (half) {
		if (!(buf = rt_alloc((size_t)cnt * sizeof(float))))
			return rt_fail(e, "out of memory");
		rt_to_f32(X->data, dt, buf, cnt);
		src = dst = buf;
	}
	int rc = 0;
	if (dt != HWRT_DOUBLE && I == 1) {
		rc = log ? hwk_f32_logsoftmax((size_t)O, (size_t)N, src, (size_t)N, dst, (size_t)N,
					      x->par)
			 : hwk_f32_softmax((size_t)O, (size_t)N, src, (size_t)N, dst, (size_t)N,
					   x->par);
	} else {
		struct sm s = { src, dst, N, I, I, 1, log };
		int64_t threads = (int64_t)hwk_parallel_threads(x->par);
		if (threads > 1 && cnt >= 32768 && O < threads * 4 && I >= 2 * SM_LANES) {
			int64_t nic = (threads * 4 + O - 1) / O;
			s.ichunk = ((I + nic - 1) / nic + SM_LANES - 1) / SM_LANES * SM_LANES;
			s.n_ic = (I + s.ichunk - 1) / s.ichunk;
		}
		const struct hwk_parallel *par = cnt >= 32768 ? x->par : NULL;
		hwk_parallel_for(par, (size_t)(O * s.n_ic), dt == HWRT_DOUBLE ? sm_f64 : sm_f32, &s);
	}
	if (half && !rc)
		rt_from_f32(buf, dt, Y->data, cnt);
	rt_free(buf);
	if (rc)
		return rt_fail(e, "softmax kernel failed (%d)", rc);
	return 0;
}
