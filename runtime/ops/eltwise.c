/* Broadcasting binary, variadic, ternary and unary element-wise machinery. */
#include <string.h>

#include "runtime/ops/eltwise.h"

/* Outputs at least this large are split across threads. */
#define PAR_MIN 65536
/* float16/bfloat16 blocks converted to float at a time. */
#define HBLK 256

static int64_t chunk_for(int64_t n, size_t threads)
{
	return (n / (int64_t)threads / 4 + 15) & ~(int64_t)15;
}

/* --- broadcast plans ------------------------------------------------------ */

#define MAX_BIN 8

/* The output's dims collapsed as rt_bcast_loop does, with each input's
 * strides (0 where broadcast); dims[r-1] is the innermost run. */
struct bplan {
	int r, n;
	int64_t dims[HWRT_MAX_RANK], cs[MAX_BIN][HWRT_MAX_RANK];
};

static void bplan_init(struct bplan *p, const struct hwrt_tensor *out, int n,
		       const struct hwrt_tensor *const *in)
{
	int rank = out->rank;
	int64_t st[MAX_BIN][HWRT_MAX_RANK];
	for (int k = 0; k < n; k++) {
		int64_t s[HWRT_MAX_RANK];
		int off = rank - in[k]->rank;
		rt_strides(in[k]->rank, in[k]->dims, s);
		for (int d = 0; d < rank; d++)
			st[k][d] = (d < off || in[k]->dims[d - off] == 1) ? 0 : s[d - off];
	}
	int r = 0;
	for (int d = 0; d < rank; d++) {
		if (out->dims[d] == 1)
			continue;
		bool merge = r > 0;
		for (int k = 0; k < n && merge; k++)
			if (p->cs[k][r - 1] != st[k][d] * out->dims[d])
				merge = false;
		if (merge) {
			p->dims[r - 1] *= out->dims[d];
			for (int k = 0; k < n; k++)
				p->cs[k][r - 1] = st[k][d];
		} else {
			p->dims[r] = out->dims[d];
			for (int k = 0; k < n; k++)
				p->cs[k][r] = st[k][d];
			r++;
		}
	}
	if (r == 0) {
		p->dims[0] = 1;
		for (int k = 0; k < n; k++)
			p->cs[k][0] = 0;
		r = 1;
	}
	p->r = r;
	p->n = n;
}

/* Output elements [start, end) in runs along the innermost dim. */
static void bplan_range(const struct bplan *p, int64_t start, int64_t end, rt_bcast_fn fn,
			void *ctx)
{
	int r = p->r, n = p->n;
	int64_t inner = p->dims[r - 1], idx[HWRT_MAX_RANK] = { 0 };
	int64_t q = start / inner, pos = start % inner;
	for (int d = r - 2; d >= 0; d--) {
		idx[d] = q % p->dims[d];
		q /= p->dims[d];
	}
	int64_t off[MAX_BIN], step[MAX_BIN];
	for (int k = 0; k < n; k++)
		step[k] = p->cs[k][r - 1];
	for (int64_t o = start; o < end;) {
		int64_t len = inner - pos < end - o ? inner - pos : end - o;
		for (int k = 0; k < n; k++) {
			off[k] = pos * step[k];
			for (int d = 0; d < r - 1; d++)
				off[k] += idx[d] * p->cs[k][d];
		}
		fn(ctx, off, step, o, len);
		o += len;
		pos = 0;
		for (int d = r - 2; d >= 0; d--) {
			if (++idx[d] < p->dims[d])
				break;
			idx[d] = 0;
		}
	}
}

struct bpar {
	const struct bplan *p;
	rt_bcast_fn fn;
	void *ctx;
	int64_t total, chunk;
};

static void bpar_task(void *v, size_t t)
{
	struct bpar *b = v;
	int64_t s = (int64_t)t * b->chunk, e = s + b->chunk < b->total ? s + b->chunk : b->total;
	bplan_range(b->p, s, e, b->fn, b->ctx);
}

void rt_bcast_par(const struct hwrt_tensor *out, int n, const struct hwrt_tensor *const *in,
		  rt_bcast_fn fn, void *ctx, const struct hwk_parallel *par)
{
	int64_t total = hwrt_tensor_count(out);
	if (total <= 0)
		return;
	struct bplan p;
	bplan_init(&p, out, n, in);
	size_t threads = hwk_parallel_threads(par);
	if (total < PAR_MIN || threads <= 1) {
		bplan_range(&p, 0, total, fn, ctx);
		return;
	}
	struct bpar b = { &p, fn, ctx, total, chunk_for(total, threads) };
	hwk_parallel_for(par, (size_t)((total + b.chunk - 1) / b.chunk), bpar_task, &b);
}

struct range_par {
	rt_range_fn fn;
	void *ctx;
	int64_t n, chunk;
};

static void range_task(void *v, size_t t)
{
	struct range_par *r = v;
	int64_t s = (int64_t)t * r->chunk;
	r->fn(r->ctx, s, r->n - s < r->chunk ? r->n - s : r->chunk);
}

void rt_parallel_range(const struct hwk_parallel *par, int64_t n, rt_range_fn fn, void *ctx)
{
	if (n <= 0)
		return;
	size_t threads = hwk_parallel_threads(par);
	if (n < PAR_MIN || threads <= 1) {
		fn(ctx, 0, n);
		return;
	}
	struct range_par r = { fn, ctx, n, chunk_for(n, threads) };
	hwk_parallel_for(par, (size_t)((n + r.chunk - 1) / r.chunk), range_task, &r);
}

/* --- float16 / bfloat16 blocks -------------------------------------------- */

static void half_to_f32(enum hwrt_dtype t, const void *x, float *y, size_t n)
{
	rt_to_f32(x, t, y, (int64_t)n);
}

static void f32_to_half(enum hwrt_dtype t, const float *x, void *y, size_t n)
{
	rt_from_f32(x, t, y, (int64_t)n);
}

/* --- binary ------------------------------------------------------------------ */

static rt_bin_kernel bin_kernel(const struct rt_binary *b, enum hwrt_dtype t, bool *half)
{
	*half = false;
	if ((unsigned)t >= RT_DTYPES)
		return NULL;
	if (b->k[t])
		return b->k[t];
	if (rt_is_half(t) && b->k[HWRT_FLOAT]) {
		*half = true;
		return b->k[HWRT_FLOAT];
	}
	return NULL;
}

bool rt_binary_supports(const struct rt_binary *b, enum hwrt_dtype t)
{
	bool half;
	return bin_kernel(b, t, &half) != NULL;
}

int rt_binary_infer(const struct rt_binary *b, const struct hwrt_tensor *const *in,
		    struct hwrt_tensor *const *out, struct rt_err *e)
{
	return rt_variadic_infer(b, 2, in, out, e);
}

struct bin_ctx {
	rt_bin_kernel k;
	const char *a, *b;
	char *o;
	size_t ia, io;
	enum hwrt_dtype t; /* the inputs' type, for the half path */
	bool half, bool_out;
};

static void bin_run(void *p, const int64_t *off, const int64_t *step, int64_t o, int64_t n)
{
	struct bin_ctx *c = p;
	const char *a = c->a + off[0] * (int64_t)c->ia, *b = c->b + off[1] * (int64_t)c->ia;
	char *out = c->o + o * (int64_t)c->io;
	if (!c->half) {
		c->k(a, step[0], b, step[1], out, n);
		return;
	}
	float fa[HBLK], fb[HBLK], fo[HBLK];
	for (int64_t s = 0; s < n; s += HBLK) {
		size_t m = (size_t)(n - s < HBLK ? n - s : HBLK);
		half_to_f32(c->t, a + s * step[0] * 2, fa, step[0] ? m : 1);
		half_to_f32(c->t, b + s * step[1] * 2, fb, step[1] ? m : 1);
		if (c->bool_out) {
			c->k(fa, step[0], fb, step[1], out + s, (int64_t)m);
		} else {
			c->k(fa, step[0], fb, step[1], fo, (int64_t)m);
			f32_to_half(c->t, fo, out + s * 2, m);
		}
	}
}

int rt_binary_run(const struct rt_binary *b, const struct hwrt_tensor *x,
		  const struct hwrt_tensor *y, struct hwrt_tensor *o,
		  const struct hwk_parallel *par, struct rt_err *e)
{
	bool half;
	rt_bin_kernel k = bin_kernel(b, x->dtype, &half);
	if (!k)
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(x->dtype));
	struct bin_ctx c = { k,
			     x->data,
			     y->data,
			     o->data,
			     hwrt_dtype_size(x->dtype),
			     hwrt_dtype_size(o->dtype),
			     x->dtype,
			     half,
			     b->bool_out };
	const struct hwrt_tensor *two[2] = { x, y };
	rt_bcast_par(o, 2, two, bin_run, &c, par);
	return 0;
}

/* --- variadic ------------------------------------------------------------- */

int rt_variadic_infer(const struct rt_binary *b, int n, const struct hwrt_tensor *const *in,
		      struct hwrt_tensor *const *out, struct rt_err *e)
{
	if (n < 1)
		return rt_fail(e, "needs at least one input");
	for (int k = 0; k < n; k++)
		if (!in[k])
			return rt_fail(e, "input %d is missing", k);
	for (int k = 1; k < n; k++)
		if (in[k]->dtype != in[0]->dtype)
			return rt_fail(e, "input types differ: %s and %s",
				       hwrt_dtype_name(in[0]->dtype), hwrt_dtype_name(in[k]->dtype));
	if (!rt_binary_supports(b, in[0]->dtype))
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(in[0]->dtype));
	if (rt_broadcast_shape(n, in, out[0]) < 0)
		return rt_fail(e, "input shapes cannot broadcast");
	out[0]->dtype = b->bool_out ? HWRT_BOOL : in[0]->dtype;
	return 0;
}

struct copy_ctx {
	const char *x;
	char *o;
	size_t es;
};

static void copy_run(void *p, const int64_t *off, const int64_t *step, int64_t o, int64_t n)
{
	struct copy_ctx *c = p;
	const char *x = c->x + off[0] * (int64_t)c->es;
	char *y = c->o + o * (int64_t)c->es;
	if (step[0]) {
		memmove(y, x, (size_t)n * c->es);
		return;
	}
	for (int64_t i = 0; i < n; i++)
		memcpy(y + i * (int64_t)c->es, x, c->es);
}

int rt_variadic_run(const struct rt_binary *b, int n, const struct hwrt_tensor *const *in,
		    struct hwrt_tensor *o, const struct hwk_parallel *par, struct rt_err *e)
{
	if (hwrt_tensor_count(o) <= 0)
		return 0;
	if (n == 1) {
		struct copy_ctx c = { in[0]->data, o->data, hwrt_dtype_size(o->dtype) };
		rt_bcast_par(o, 1, in, copy_run, &c, par);
		return 0;
	}
	if (n == 2)
		return rt_binary_run(b, in[0], in[1], o, par, e);
	/* Fold into o, or into a scratch tensor when a later input shares o's
	 * buffer (o in place of input 0 with the same value passed again). */
	struct hwrt_tensor acc = *o;
	void *scratch = NULL;
	for (int k = 1; k < n; k++)
		if (in[k]->data == o->data) {
			scratch = rt_alloc(hwrt_tensor_bytes(o));
			if (!scratch)
				return rt_fail(e, "out of memory");
			acc.data = scratch;
			break;
		}
	int rc = rt_binary_run(b, in[0], in[1], &acc, par, e);
	for (int k = 2; k < n && rc == 0; k++)
		rc = rt_binary_run(b, &acc, in[k], &acc, par, e);
	if (scratch) {
		if (rc == 0)
			memcpy(o->data, scratch, hwrt_tensor_bytes(o));
		rt_free(scratch);
	}
	return rc;
}

struct scale_ctx {
	void *x;
	enum hwrt_dtype t;
	double s;
};

static void scale_range(void *p, int64_t s, int64_t n)
{
	struct scale_ctx *c = p;
	if (c->t == HWRT_FLOAT) {
		float *x = (float *)c->x + s, f = (float)c->s;
		for (int64_t i = 0; i < n; i++)
			x[i] *= f;
	} else if (c->t == HWRT_DOUBLE) {
		double *x = (double *)c->x + s;
		for (int64_t i = 0; i < n; i++)
			x[i] *= c->s;
	} else if (rt_is_half(c->t)) {
		uint16_t *x = (uint16_t *)c->x + s;
		float buf[HBLK], f = (float)c->s;
		for (int64_t j = 0; j < n; j += HBLK) {
			size_t m = (size_t)(n - j < HBLK ? n - j : HBLK);
			half_to_f32(c->t, x + j, buf, m);
			for (size_t i = 0; i < m; i++)
				buf[i] *= f;
			f32_to_half(c->t, buf, x + j, m);
		}
	}
}

void rt_scale(struct hwrt_tensor *o, double s)
{
	struct scale_ctx c = { o->data, o->dtype, s };
	rt_parallel_range(NULL, hwrt_tensor_count(o), scale_range, &c);
}

/* --- Where ------------------------------------------------------------------ */

int rt_where_infer(const struct hwrt_tensor *const *in, struct hwrt_tensor *const *out,
		   struct rt_err *e)
{
	if (in[0]->dtype != HWRT_BOOL)
		return rt_fail(e, "the condition must be bool, not %s", hwrt_dtype_name(in[0]->dtype));
	if (in[1]->dtype != in[2]->dtype)
		return rt_fail(e, "X and Y types differ: %s and %s", hwrt_dtype_name(in[1]->dtype),
			       hwrt_dtype_name(in[2]->dtype));
	if (!hwrt_dtype_size(in[1]->dtype))
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(in[1]->dtype));
	if (rt_broadcast_shape(3, in, out[0]) < 0)
		return rt_fail(e, "shapes cannot broadcast");
	out[0]->dtype = in[1]->dtype;
	return 0;
}

struct where_ctx {
	const uint8_t *c;
	const char *x, *y;
	char *o;
	size_t es;
};

#define WHERE_LOOP(T)                                                                         \
	do {                                                                                  \
		const T *X = (const T *)w->x + off[1], *Y = (const T *)w->y + off[2];         \
		T *O = (T *)w->o + o;                                                         \
		for (int64_t i = 0; i < n; i++)                                               \
			O[i] = C[i * step[0]] ? X[i * step[1]] : Y[i * step[2]];              \
	} while (0)

static void where_run(void *p, const int64_t *off, const int64_t *step, int64_t o, int64_t n)
{
	struct where_ctx *w = p;
	const uint8_t *C = w->c + off[0];
	switch (w->es) {
	case 1: WHERE_LOOP(uint8_t); break;
	case 2: WHERE_LOOP(uint16_t); break;
	case 4: WHERE_LOOP(uint32_t); break;
	default: WHERE_LOOP(uint64_t); break;
	}
}

int rt_where_run(const struct hwrt_tensor *c, const struct hwrt_tensor *x,
		 const struct hwrt_tensor *y, struct hwrt_tensor *o,
		 const struct hwk_parallel *par, struct rt_err *e)
{
	struct where_ctx w = { c->data, x->data, y->data, o->data, hwrt_dtype_size(o->dtype) };
	if (w.es != 1 && w.es != 2 && w.es != 4 && w.es != 8)
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(o->dtype));
	const struct hwrt_tensor *three[3] = { c, x, y };
	rt_bcast_par(o, 3, three, where_run, &w, par);
	return 0;
}

/* --- unary ------------------------------------------------------------------ */

static rt_un_kernel un_kernel(const struct rt_unary *u, enum hwrt_dtype t, bool *half)
{
	*half = false;
	if ((unsigned)t >= RT_DTYPES)
		return NULL;
	if (u->k[t])
		return u->k[t];
	if (rt_is_half(t) && u->k[HWRT_FLOAT]) {
		*half = true;
		return u->k[HWRT_FLOAT];
	}
	return NULL;
}

bool rt_unary_supports(const struct rt_unary *u, enum hwrt_dtype t)
{
	bool half;
	return un_kernel(u, t, &half) != NULL;
}

int rt_unary_infer(const struct rt_unary *u, const struct hwrt_tensor *const *in,
		   struct hwrt_tensor *const *out, struct rt_err *e)
{
	if (!rt_unary_supports(u, in[0]->dtype))
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(in[0]->dtype));
	rt_set_shape(out[0], in[0]->dtype, in[0]->rank, in[0]->dims);
	return 0;
}

struct un_ctx {
	rt_un_kernel k;
	const struct rt_node *node;
	const char *x;
	char *y;
	size_t es;
	enum hwrt_dtype t;
	bool half;
};

static void un_range(void *p, int64_t s, int64_t n)
{
	struct un_ctx *u = p;
	const char *x = u->x + s * (int64_t)u->es;
	char *y = u->y + s * (int64_t)u->es;
	if (!u->half) {
		u->k(x, y, n, u->node);
		return;
	}
	float buf[HBLK];
	for (int64_t j = 0; j < n; j += HBLK) {
		size_t m = (size_t)(n - j < HBLK ? n - j : HBLK);
		half_to_f32(u->t, x + j * 2, buf, m);
		u->k(buf, buf, (int64_t)m, u->node);
		f32_to_half(u->t, buf, y + j * 2, m);
	}
}

int rt_unary_run(const struct rt_unary *u, const struct rt_node *n, const struct hwrt_tensor *x,
		 struct hwrt_tensor *y, const struct hwk_parallel *par, struct rt_err *e)
{
	bool half;
	rt_un_kernel k = un_kernel(u, x->dtype, &half);
	if (!k)
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(x->dtype));
	struct un_ctx c = { k, n, x->data, y->data, hwrt_dtype_size(x->dtype), x->dtype, half };
	rt_parallel_range(par, hwrt_tensor_count(x), un_range, &c);
	return 0;
}
