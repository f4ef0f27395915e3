/* CfC cell step: the backbone (two GEMMs over the u and h parts of its
 * weights, so [u; h] is never copied), the four heads as one GEMM over
 * their stacked weights, then the gate. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/hwk.h"

struct hwk_cfc {
	size_t n_in, n_h, n_bb, n_z;
	enum hwk_cfc_act act;
	/* First layer over [u; h]: the backbone, or the heads without one. */
	struct hwk_f32_packed_b *first_u, *first_h;
	float *first_bias;
	/* Heads over z when there is a backbone: ff1, ff2, ta, tb stacked. */
	struct hwk_f32_packed_b *heads;
	float *heads_bias;
};

void hwk_cfc_destroy(struct hwk_cfc *c)
{
	if (!c)
		return;
	hwk_f32_gemm_packed_b_free(c->first_u);
	hwk_f32_gemm_packed_b_free(c->first_h);
	hwk_f32_gemm_packed_b_free(c->heads);
	free(c->first_bias);
	free(c->heads_bias);
	free(c);
}

/* The four heads stacked into one (4 n_h) x n_z matrix and bias. */
static int stack_heads(const struct hwk_cfc_weights *w, size_t n_z, float **mat, float **bias)
{
	const float *m[4] = { w->w_ff1, w->w_ff2, w->w_ta, w->w_tb };
	const float *b[4] = { w->b_ff1, w->b_ff2, w->b_ta, w->b_tb };
	size_t n_h = w->n_hidden;
	*mat = malloc(4 * n_h * n_z * sizeof(float));
	*bias = calloc(4 * n_h, sizeof(float));
	if (!*mat || !*bias)
		return -ENOMEM;
	for (int i = 0; i < 4; i++) {
		if (!m[i])
			return -EINVAL;
		memcpy(*mat + i * n_h * n_z, m[i], n_h * n_z * sizeof(float));
		if (b[i])
			memcpy(*bias + i * n_h, b[i], n_h * sizeof(float));
	}
	return 0;
}

struct hwk_cfc *hwk_cfc_create(const struct hwk_cfc_weights *w)
{
	if (!w || w->n_in == 0 || w->n_hidden == 0 || (w->n_backbone && !w->w_bb) ||
	    (unsigned)w->backbone_act > HWK_CFC_GELU)
		return errno = EINVAL, NULL;
	struct hwk_cfc *c = calloc(1, sizeof(*c));
	float *stack = NULL, *sbias = NULL;
	int rc = -ENOMEM;
	if (!c)
		return NULL;
	c->n_in = w->n_in;
	c->n_h = w->n_hidden;
	c->n_bb = w->n_backbone;
	c->n_z = w->n_backbone ? w->n_backbone : w->n_in + w->n_hidden;
	c->act = w->backbone_act;
	size_t ld = w->n_in + w->n_hidden; /* row length of a matrix over [u; h] */
	if ((rc = stack_heads(w, c->n_z, &stack, &sbias)) < 0)
		goto fail;
	rc = -ENOMEM;
	if (w->n_backbone) {
		c->first_u = hwk_f32_gemm_pack_b(c->n_in, c->n_bb, w->w_bb, ld, true);
		c->first_h = hwk_f32_gemm_pack_b(c->n_h, c->n_bb, w->w_bb + c->n_in, ld, true);
		c->first_bias = calloc(c->n_bb, sizeof(float));
		c->heads = hwk_f32_gemm_pack_b(c->n_z, 4 * c->n_h, stack, c->n_z, true);
		c->heads_bias = sbias;
		sbias = NULL;
		if (!c->first_u || !c->first_h || !c->first_bias || !c->heads)
			goto fail;
		if (w->b_bb)
			memcpy(c->first_bias, w->b_bb, c->n_bb * sizeof(float));
	} else {
		c->first_u = hwk_f32_gemm_pack_b(c->n_in, 4 * c->n_h, stack, ld, true);
		c->first_h = hwk_f32_gemm_pack_b(c->n_h, 4 * c->n_h, stack + c->n_in, ld, true);
		c->first_bias = sbias;
		sbias = NULL;
		if (!c->first_u || !c->first_h)
			goto fail;
	}
	free(stack);
	return c;
fail:
	free(stack);
	free(sbias);
	hwk_cfc_destroy(c);
	errno = -rc;
	return NULL;
}

static int backbone_act(enum hwk_cfc_act act, size_t n, float *z, const struct hwk_parallel *par)
{
	switch (act) {
	case HWK_CFC_LECUN_TANH:
		for (size_t i = 0; i < n; i++)
			z[i] *= 0.666f;
		if (hwk_f32_vunary(HWK_VUNARY_TANH, NULL, n, z, z, par) < 0)
			return -EINVAL;
		for (size_t i = 0; i < n; i++)
			z[i] *= 1.7159f;
		return 0;
	case HWK_CFC_TANH: return hwk_f32_vunary(HWK_VUNARY_TANH, NULL, n, z, z, par);
	case HWK_CFC_RELU: return hwk_f32_vunary(HWK_VUNARY_RELU, NULL, n, z, z, par);
	case HWK_CFC_SILU: return hwk_f32_vunary(HWK_VUNARY_SILU, NULL, n, z, z, par);
	case HWK_CFC_GELU: return hwk_f32_vunary(HWK_VUNARY_GELU, NULL, n, z, z, par);
	}
	return -EINVAL;
}

int hwk_cfc_step(const struct hwk_cfc *c, size_t batch, const float *u, size_t ldu, float *h,
		 size_t ldh, const float *dt, const struct hwk_parallel *par)
{
	if (!c || (batch && (!u || !h)) || ldu < c->n_in || ldh < c->n_h)
		return -EINVAL;
	if (batch == 0)
		return 0;
	size_t n4 = 4 * c->n_h, nf = c->n_bb ? c->n_bb : n4;
	float *first = hwk_alloc(batch * nf * sizeof(float));
	float *heads = c->n_bb ? hwk_alloc(batch * n4 * sizeof(float)) : first;
	int rc = -ENOMEM;
	if (!first || !heads)
		goto out;
	struct hwk_f32_gemm_epilogue ep = { .bias = c->first_bias };
	rc = hwk_f32_gemm_packed(false, batch, nf, c->n_in, 1.0f, u, ldu, c->first_u, 0.0f, first, nf,
				 NULL, par);
	if (!rc)
		rc = hwk_f32_gemm_packed(false, batch, nf, c->n_h, 1.0f, h, ldh, c->first_h, 1.0f, first,
					 nf, &ep, par);
	if (!rc && c->n_bb) {
		rc = backbone_act(c->act, batch * nf, first, par);
		struct hwk_f32_gemm_epilogue hep = { .bias = c->heads_bias };
		if (!rc)
			rc = hwk_f32_gemm_packed(false, batch, n4, c->n_bb, 1.0f, first, nf, c->heads,
						 0.0f, heads, n4, &hep, par);
	}
	if (rc)
		goto out;
	for (size_t b = 0; b < batch; b++) {
		float *r = heads + b * n4, t = dt ? dt[b] : 1.0f;
		/* ff1 and ff2 through tanh; the gate's argument ta*dt + tb */
		rc = hwk_f32_vunary(HWK_VUNARY_TANH, NULL, 2 * c->n_h, r, r, NULL);
		for (size_t i = 0; i < c->n_h; i++)
			r[2 * c->n_h + i] = r[2 * c->n_h + i] * t + r[3 * c->n_h + i];
		if (!rc)
			rc = hwk_f32_vunary(HWK_VUNARY_SIGMOID, NULL, c->n_h, r + 2 * c->n_h,
					    r + 2 * c->n_h, NULL);
		if (rc)
			goto out;
		for (size_t i = 0; i < c->n_h; i++) {
			float g = r[2 * c->n_h + i];
			h[b * ldh + i] = r[i] * (1.0f - g) + g * r[c->n_h + i];
		}
	}
out:
	hwk_free(first);
	if (heads != first)
		hwk_free(heads);
	return rc;
}
