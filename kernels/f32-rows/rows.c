/* Argument checks and the row split shared by the row ops. */
#include <errno.h>
#include <stdint.h>

#include "kernels/f32-rows/rows.h"

/* Bytes from the first float of row 0 to past the last float of the last
 * row; 0 on overflow. */
static size_t extent(size_t rows, size_t n, size_t ld)
{
	if (ld != 0 && rows - 1 > (SIZE_MAX / sizeof(float) - n) / ld)
		return 0;
	return ((rows - 1) * ld + n) * sizeof(float);
}

int hwk_rows_check(size_t rows, size_t n, const float *x, size_t ldx, const float *y, size_t ldy)
{
	if (rows == 0 || n == 0)
		return 1;
	if (!x || !y || ldx < n || ldy < n)
		return -EINVAL;
	size_t ex = extent(rows, n, ldx), ey = extent(rows, n, ldy);
	if (!ex || !ey)
		return -EINVAL;
	if (x == y)
		return ldx == ldy ? 0 : -EINVAL;
	uintptr_t xa = (uintptr_t)x, ya = (uintptr_t)y;
	if (xa < ya + ey && ya < xa + ex)
		return -EINVAL;
	return 0;
}

struct rows_job {
	size_t rows, per;
	void (*fn)(void *ctx, size_t r0, size_t r1);
	void *ctx;
};

static void rows_task(void *p, size_t t)
{
	const struct rows_job *j = p;
	size_t r0 = t * j->per, r1 = r0 + j->per < j->rows ? r0 + j->per : j->rows;
	j->fn(j->ctx, r0, r1);
}

void hwk_rows_run(size_t rows, size_t n, const struct hwk_parallel *par,
		  void (*fn)(void *ctx, size_t r0, size_t r1), void *ctx)
{
	size_t per = n >= 8192 ? 1 : 8192 / n;
	if (hwk_parallel_threads(par) <= 1 || rows <= per) {
		fn(ctx, 0, rows);
		return;
	}
	struct rows_job job = { rows, per, fn, ctx };
	hwk_parallel_for(par, (rows + per - 1) / per, rows_task, &job);
}
