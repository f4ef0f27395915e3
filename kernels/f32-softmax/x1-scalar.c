/* f32 softmax and log-softmax of a row, reference: libm exp and log in
 * double, sums in double, one rounding per output. */
#include <math.h>

#include "kernels/f32-softmax/softmax.h"

static double rowmax(size_t n, const float *x)
{
	double m = -INFINITY;
	for (size_t i = 0; i < n; i++)
		m = x[i] > m || isnan(x[i]) ? x[i] : m; /* NaN sticks */
	return m;
}

void hwk_f32_softmax_ukernel_x1__scalar(size_t n, const float *x, float *y);
void hwk_f32_softmax_ukernel_x1__scalar(size_t n, const float *x, float *y)
{
	double m = rowmax(n, x), s = 0;
	for (size_t i = 0; i < n; i++)
		s += exp((double)x[i] - m);
	/* exps again rather than stored in y: keeps double precision */
	for (size_t i = 0; i < n; i++)
		y[i] = (float)(exp((double)x[i] - m) / s);
}

void hwk_f32_logsoftmax_ukernel_x1__scalar(size_t n, const float *x, float *y);
void hwk_f32_logsoftmax_ukernel_x1__scalar(size_t n, const float *x, float *y)
{
	double m = rowmax(n, x), s = 0;
	for (size_t i = 0; i < n; i++)
		s += exp((double)x[i] - m);
	double ls = m + log(s);
	for (size_t i = 0; i < n; i++)
		y[i] = (float)((double)x[i] - ls);
}

const struct hwk_f32_softmax_ukernels hwk_f32_softmax_ukernels__scalar = {
	hwk_f32_softmax_ukernel_x1__scalar, hwk_f32_logsoftmax_ukernel_x1__scalar
};
