/* Shared by the row ops (softmax, log-softmax, layernorm, rmsnorm): the
 * argument checks and the split of rows into tasks. */
#ifndef HWK_F32_ROWS_H
#define HWK_F32_ROWS_H

#include "kernels/hwk.h"

/* 0: go ahead; 1: nothing to do (rows or n is 0); -EINVAL: NULL data, ld <
 * n, an extent that overflows, or x and y overlapping other than exactly
 * in place (x == y with ldx == ldy). */
int hwk_rows_check(size_t rows, size_t n, const float *x, size_t ldx, const float *y, size_t ldy);

/* Calls fn(ctx, r0, r1) over consecutive blocks of rows covering [0, rows):
 * one block on the calling thread when par has one thread, otherwise blocks
 * of a fixed number of rows (from n alone, about 8K floats each) run on par.
 * Each row belongs to exactly one block. */
void hwk_rows_run(size_t rows, size_t n, const struct hwk_parallel *par,
		  void (*fn)(void *ctx, size_t r0, size_t r1), void *ctx);

#endif
