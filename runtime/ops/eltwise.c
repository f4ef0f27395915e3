/* Broadcasting binary and unary element-wise machinery. */
#include <string.h>

#include "runtime/ops/eltwise.h"

int rt_binary_infer(const struct rt_binary *b, const struct hwrt_tensor *const *in,
		    struct hwrt_tensor *const *out, struct rt_err *e)
{
	if (in[0]->dtype != in[1]->dtype)
		return rt_fail(e, "input types differ: %s and %s", hwrt_dtype_name(in[0]->dtype),
			       hwrt_dtype_name(in[1]->dtype));
	if ((unsigned)in[0]->dtype >= RT_DTYPES || !b->k[in[0]->dtype])
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(in[0]->dtype));
	const struct hwrt_tensor *two[2] = { in[0], in[1] };
	if (rt_broadcast_shape(2, two, out[0]) < 0)
		return rt_fail(e, "shapes cannot broadcast (ranks %d and %d)", in[0]->rank,
			       in[1]->rank);
	out[0]->dtype = b->bool_out ? HWRT_BOOL : in[0]->dtype;
	return 0;
}

struct bin_ctx {
	rt_bin_kernel k;
	const char *a, *b;
	char *o;
	size_t ia, io;
};

static void bin_run(void *p, const int64_t *off, const int64_t *step, int64_t o, int64_t n)
{
	struct bin_ctx *c = p;
	c->k(c->a + off[0] * (int64_t)c->ia, step[0], c->b + off[1] * (int64_t)c->ia, step[1],
	     c->o + o * (int64_t)c->io, n);
}

struct bin_par {
	struct bin_ctx c;
	int64_t n, chunk;
};

static void bin_task(void *p, size_t t)
{
	struct bin_par *bp = p;
	int64_t s = (int64_t)t * bp->chunk, n = bp->n - s < bp->chunk ? bp->n - s : bp->chunk;
	bp->c.k(bp->c.a + s * (int64_t)bp->c.ia, 1, bp->c.b + s * (int64_t)bp->c.ia, 1,
		bp->c.o + s * (int64_t)bp->c.io, n);
}

int rt_binary_run(const struct rt_binary *b, const struct hwrt_tensor *x,
		  const struct hwrt_tensor *y, struct hwrt_tensor *o,
		  const struct hwk_parallel *par, struct rt_err *e)
{
	struct bin_ctx c = { b->k[x->dtype], x->data, y->data, o->data, hwrt_dtype_size(x->dtype),
			     hwrt_dtype_size(o->dtype) };
	int64_t n = hwrt_tensor_count(o);
	if (n <= 0)
		return 0;
	/* Same shapes and big: one contiguous loop split across threads. */
	if (rt_same_shape(x, y) && n >= 65536 && hwk_parallel_threads(par) > 1) {
		struct bin_par bp = { c, n, (n / (int64_t)hwk_parallel_threads(par) / 4 + 15) & ~15 };
		size_t tasks = (size_t)((n + bp.chunk - 1) / bp.chunk);
		hwk_parallel_for(par, tasks, bin_task, &bp);
		return 0;
	}
	const struct hwrt_tensor *two[2] = { x, y };
	rt_bcast_loop(o, 2, two, bin_run, &c);
	return 0;
}

int rt_unary_infer(const struct rt_unary *u, const struct hwrt_tensor *const *in,
		   struct hwrt_tensor *const *out, struct rt_err *e)
{
	if ((unsigned)in[0]->dtype >= RT_DTYPES || !u->k[in[0]->dtype])
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(in[0]->dtype));
	rt_set_shape(out[0], in[0]->dtype, in[0]->rank, in[0]->dims);
	return 0;
}

struct un_par {
	rt_un_kernel k;
	const struct rt_node *node;
	const char *x;
	char *y;
	size_t es;
	int64_t n, chunk;
};

static void un_task(void *p, size_t t)
{
	struct un_par *u = p;
	int64_t s = (int64_t)t * u->chunk, n = u->n - s < u->chunk ? u->n - s : u->chunk;
	u->k(u->x + s * (int64_t)u->es, u->y + s * (int64_t)u->es, n, u->node);
}

int rt_unary_run(const struct rt_unary *u, const struct rt_node *n, const struct hwrt_tensor *x,
		 struct hwrt_tensor *y, const struct hwk_parallel *par, struct rt_err *e)
{
	int64_t cnt = hwrt_tensor_count(x);
	if (cnt <= 0)
		return 0;
	struct un_par p = { u->k[x->dtype], n, x->data, y->data, hwrt_dtype_size(x->dtype), cnt,
			    cnt };
	size_t threads = hwk_parallel_threads(par);
	if (cnt >= 65536 && threads > 1)
		p.chunk = (cnt / (int64_t)threads / 4 + 15) & ~15;
	hwk_parallel_for(par, (size_t)((cnt + p.chunk - 1) / p.chunk), un_task, &p);
	return 0;
}
