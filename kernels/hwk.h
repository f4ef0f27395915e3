/* libhwk: hardware-specific compute kernels and the CPU facts that choose
 * them. This is the library's one public header. */
#ifndef HWK_H
#define HWK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- CPU features ----------------------------------------------------------
 * A flag is true only when the CPU has the instructions AND the operating
 * system saves their register state (x86: XCR0; Arm: the kernel reports
 * hwcaps only for what it enables), so a kernel may run when its flag is set.
 * AMX flags additionally mean this process was granted the tile data state
 * (Linux ARCH_REQ_XCOMP_PERM) during detection. */
struct hwk_cpu_features {
	/* x86-64 */
	bool sse42, avx, avx2, fma, f16c;
	bool avx512f, avx512dq, avx512bw, avx512vl, avx512vnni, avx512bf16, avx512fp16;
	bool amx_tile, amx_int8, amx_bf16;
	/* aarch64 */
	bool asimd, asimddp, fphp, sve, sve2, i8mm, bf16, sme;
};

/* The number of feature tokens hwk_cpu_feature_names() knows. */
#define HWK_CPU_FEATURE_MAX 23

/* Detected once (pthread_once) on first call; thread-safe; never NULL. */
const struct hwk_cpu_features *hwk_cpu_features(void);

/* Writes the names of the features present in f, in a fixed order, as the
 * tokens "sse4.2","avx","avx2","fma","f16c","avx512f","avx512dq","avx512bw","avx512vl",
 * "avx512vnni","avx512bf16","avx512fp16","amx-tile","amx-int8","amx-bf16",
 * "asimd","asimddp","fphp","sve","sve2","i8mm","bf16","sme" (static
 * strings). Returns the count written, at most max; with names NULL it
 * writes nothing and returns how many features are present. */
int hwk_cpu_feature_names(const struct hwk_cpu_features *f, const char **names, int max);

/* "x86_64", "aarch64", or "unknown": the architecture libhwk was built for. */
const char *hwk_cpu_arch(void);

/* --- ISA variants and dispatch -------------------------------------------
 * Every op has variants, one per ISA it was written for, and a scalar
 * reference. At start the best variant the CPU can run is chosen per op;
 * HWK_ISA=<token> (or hwk_set_isa_ceiling) caps the choice, so tests can run
 * every variant this machine executes. Within an architecture the ISAs are
 * ordered: a ceiling admits its own variants and all lower ones. */
enum hwk_isa {
	HWK_ISA_SCALAR = 0,
	/* x86-64, in order */
	HWK_ISA_AVX2,        /* + FMA, F16C */
	HWK_ISA_AVX512F,     /* + DQ, BW, VL */
	HWK_ISA_AVX512VNNI,
	HWK_ISA_AVX512BF16,
	HWK_ISA_AMX,         /* tile + int8 + bf16 */
	/* aarch64, in order */
	HWK_ISA_NEON,
	HWK_ISA_NEONDOT,
	HWK_ISA_I8MM,
	HWK_ISA_SVE,
	HWK_ISA_SVE2,
	HWK_ISA_COUNT
};

const char *hwk_isa_name(enum hwk_isa isa);          /* "avx512vnni" */
int hwk_isa_parse(const char *name, enum hwk_isa *out); /* 0 or -EINVAL */
/* Compiled into this build and runnable on this CPU. */
bool hwk_isa_runnable(enum hwk_isa isa);
/* The best runnable ISA of this machine. */
enum hwk_isa hwk_isa_best(void);

/* Reads HWK_ISA (when set) and chooses every op's variant. Called on first
 * use of any op; call it at start to report a bad HWK_ISA early. Returns 0,
 * -EINVAL for an unknown token, -ENOTSUP when this CPU cannot run it; err
 * (may be NULL) says which in words. */
int hwk_init(char *err, size_t errlen);
/* Caps the variants at isa and re-chooses (not thread-safe: call while no
 * kernel runs). -ENOTSUP when isa is not runnable here. */
int hwk_set_isa_ceiling(enum hwk_isa isa);
enum hwk_isa hwk_isa_ceiling(void);

/* One variant of an op; impl is the op's own function-pointer struct. */
struct hwk_variant {
	enum hwk_isa isa;
	const char *name;  /* e.g. "6x64-avx512f" */
	const void *impl;
};

/* An op and its variants, best first; the last is the scalar reference. */
struct hwk_op {
	const char *name;  /* e.g. "f32-gemm" */
	const struct hwk_variant *variants;
	size_t n_variants;
	const struct hwk_variant *chosen; /* set by hwk_init / set_isa_ceiling */
};

/* The chosen variant of op (initializing libhwk on first use). */
const struct hwk_variant *hwk_op_variant(struct hwk_op *op);

/* Every op libhwk has, with its chosen variant: for `hwoptctl topology`. */
size_t hwk_ops(struct hwk_op *const **ops);

/* --- Parallel-for ---------------------------------------------------------
 * Kernels never make threads. They split work into independent tasks and
 * hand them to whoever drives them: the daemon's worker pool, or the simple
 * pool below. Every task writes disjoint outputs and the split never
 * depends on the thread count's effect on arithmetic order, so results are
 * identical for any number of threads. */
typedef void (*hwk_task_fn)(void *ctx, size_t index);

struct hwk_parallel {
	/* Runs task(ctx, i) for each i in [0, n), on up to `threads` threads
	 * at once, and returns when all have finished. */
	void (*run)(void *impl, size_t n, hwk_task_fn task, void *ctx);
	void *impl;
	size_t threads; /* >= 1; kernels size their tasks by it */
};

/* par NULL (or n <= 1) runs the tasks on the calling thread. */
void hwk_parallel_for(const struct hwk_parallel *par, size_t n, hwk_task_fn task, void *ctx);
size_t hwk_parallel_threads(const struct hwk_parallel *par);

/* A plain pthread pool: threads-1 workers plus the calling thread. */
struct hwk_pool;
struct hwk_pool *hwk_pool_create(size_t threads); /* NULL on failure, errno */
void hwk_pool_destroy(struct hwk_pool *pool);
const struct hwk_parallel *hwk_pool_parallel(struct hwk_pool *pool);

/* --- Caches ---------------------------------------------------------------
 * Sizes for cache blocking, per core (L3: per instance), from sysconf, then
 * sysfs, then conservative defaults. HWK_L1D, HWK_L2, HWK_L3 (bytes)
 * override, for experiments. */
struct hwk_caches {
	size_t l1d, l2, l3;
	size_t line;
};
const struct hwk_caches *hwk_caches(void);

/* --- Memory ---------------------------------------------------------------
 * 64-byte aligned allocations for packed weights and scratch. */
void *hwk_alloc(size_t bytes); /* NULL on failure (or bytes 0) */
void hwk_free(void *p);

/* --- f32 GEMM (section: f32-gemm) --- */
/* C = epilogue(alpha * op(A) * op(B) + beta * C), all row-major:
 * op(A) is M x K (A is M x K, or K x M when trans_a), op(B) is K x N (B is
 * K x N, or N x K when trans_b), C is M x N. Any size, including 0: with
 * K == 0 or alpha == 0, A and B are not read and C = epilogue(beta * C).
 * beta == 0 never reads C (NaN there is overwritten). Leading dimensions
 * count floats and must cover a row: lda >= (trans_a ? M : K), ldb >=
 * (trans_b ? K : N), ldc >= N (checked only when that matrix is read or
 * written). Elements of C outside the M x N window are never touched.
 *
 * The epilogue (NULL: none) is applied to each tile while it is in
 * registers, in this order: + bias[j] (per column, N floats), then the
 * activation, then the clip to [clip_min, clip_max]. GELU and SiLU use
 * vector approximations with |error| < 1e-6 * max(1, |x|) (measured in
 * tests/unit/kernels/test_f32_gemm.c).
 *
 * par (may be NULL) runs tasks that each own a tile of C and the whole K
 * range, so results are bit-identical for any thread count. Returns 0,
 * -EINVAL for bad arguments, -ENOMEM when scratch cannot be allocated. */
enum hwk_f32_gemm_act {
	HWK_F32_GEMM_ACT_NONE = 0,
	HWK_F32_GEMM_ACT_RELU,      /* max(x, 0) */
	HWK_F32_GEMM_ACT_GELU,      /* x/2 (1 + erf(x / sqrt 2)) */
	HWK_F32_GEMM_ACT_GELU_TANH, /* x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
	HWK_F32_GEMM_ACT_SILU,      /* x / (1 + e^-x) */
};

struct hwk_f32_gemm_epilogue {
	const float *bias;          /* NULL, or N floats added to every row */
	enum hwk_f32_gemm_act act;
	bool clip;                  /* clamp to [clip_min, clip_max] last */
	float clip_min, clip_max;
};

int hwk_f32_gemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, float alpha,
		 const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
		 size_t ldc, const struct hwk_f32_gemm_epilogue *ep, const struct hwk_parallel *par);

/* B packed once (weights at model load) in the layout of the microkernel
 * chosen now; hwk_f32_gemm_packed gives the same bits as hwk_f32_gemm with
 * the unpacked B. If the ISA ceiling changes afterwards, the packed B keeps
 * using the variant it was packed for. */
struct hwk_f32_packed_b;
/* Bytes hwk_f32_gemm_pack_b will allocate for a K x N op(B). */
size_t hwk_f32_gemm_packed_b_size(size_t K, size_t N);
/* NULL with errno EINVAL (B NULL with K*N > 0, ldb too small) or ENOMEM. */
struct hwk_f32_packed_b *hwk_f32_gemm_pack_b(size_t K, size_t N, const float *B, size_t ldb,
					     bool trans_b);
void hwk_f32_gemm_packed_b_free(struct hwk_f32_packed_b *pb);
/* As hwk_f32_gemm; N and K must be those B was packed with (-EINVAL). */
int hwk_f32_gemm_packed(bool trans_a, size_t M, size_t N, size_t K, float alpha, const float *A,
			size_t lda, const struct hwk_f32_packed_b *B, float beta, float *C,
			size_t ldc, const struct hwk_f32_gemm_epilogue *ep,
			const struct hwk_parallel *par);
/* --- end f32-gemm --- */

/* --- reduced-precision weight GEMM (section: rpw-gemm) --- */
/* C = epilogue(alpha * A * W + beta * C) with A f32 (M x K, row-major, lda
 * >= K) and the weights W (K x N) stored in a reduced precision and packed
 * once (at model load):
 *   HWK_RPW_BF16        uint16_t bf16 bits
 *   HWK_RPW_F16         uint16_t IEEE half bits
 *   HWK_RPW_FP8_E4M3FN, HWK_RPW_FP8_E5M2
 *                       uint8_t codes, w = fp8(code) * scale (per tensor,
 *                       as hwk_fp8_to_f32)
 * C, alpha, beta, the epilogue, ldc and par behave as in hwk_f32_gemm
 * (tasks own tiles of C: bit-identical results for any thread count).
 *
 * Precision: f16 and fp8 weights, and bf16 weights on CPUs without a bf16
 * dot-product instruction, are decoded exactly to f32 and multiplied in
 * f32 (error as hwk_f32_gemm, against the decoded weights). bf16 weights
 * packed for the AVX-512 BF16 variant ("12x32-avx512bf16",
 * vdpbf16ps) also round A to bf16 (nearest even, denormals to zero), a
 * relative error up to 2^-8 per element of A (and bf16 denormal weights
 * count as 0): |C - exact| <= (2^-8 +
 * (K+2) 2^-24) * sum_k |a_ik w_kj| plus the epilogue's own error. */
enum hwk_rpw_type { HWK_RPW_BF16, HWK_RPW_F16, HWK_RPW_FP8_E4M3FN, HWK_RPW_FP8_E5M2 };

struct hwk_rpw_packed_b;
/* B is K x N (row-major, ldb >= N), or N x K with trans_b (ldb >= K), in
 * elements of the type; scale is used by fp8 only (finite, > 0). Packs for
 * the variant chosen now, which the packed weights keep. NULL with errno
 * EINVAL (bad type, B NULL with K*N > 0, ldb too small, bad fp8 scale) or
 * ENOMEM. */
struct hwk_rpw_packed_b *hwk_rpw_gemm_pack_b(enum hwk_rpw_type type, size_t K, size_t N,
					     const void *B, size_t ldb, bool trans_b, float scale);
void hwk_rpw_gemm_packed_b_free(struct hwk_rpw_packed_b *pb);
/* The microkernel the weights were packed for: "12x32-avx512bf16" (bf16
 * pairs), or the f32-gemm variant the decoded weights feed ("12x32-avx512f"). */
const char *hwk_rpw_gemm_packed_variant(const struct hwk_rpw_packed_b *pb);
/* 0; -EINVAL for bad arguments (N, K not those B was packed with), -ENOMEM
 * when scratch cannot be allocated. */
int hwk_rpw_gemm(size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
		 const struct hwk_rpw_packed_b *B, float beta, float *C, size_t ldc,
		 const struct hwk_f32_gemm_epilogue *ep, const struct hwk_parallel *par);
/* --- end rpw-gemm --- */

/* --- int8 quantization and GEMM (section: int8) --- */
/* Quantization follows ONNX QuantizeLinear / DequantizeLinear:
 *   q = saturate(rne(x / scale) + zp)      rne: round half to even; the
 *                                          division is an IEEE f32 division
 *   y = (float)(q - zp) * scale
 * saturating to [0, 255] (u8) or [-128, 127] (s8). NaN quantizes to zp
 * (the code of 0.0), +inf to the type's maximum, -inf to its minimum.
 * Every variant gives bit-identical results (the default rounding mode,
 * round to nearest even, is assumed).
 *
 * Matrices are row-major, rows x cols with a leading dimension in elements.
 * scale and zp are per tensor (one value), per row (rows values) or per
 * column (cols values), as axis says; zp NULL means 0 (symmetric), else each
 * zp must lie in the type's range. Each scale must be finite and > 0.
 * par may be NULL (the calling thread does all). Functions return 0, or
 * -EINVAL for bad arguments (nothing is written then). */
enum hwk_qtype { HWK_QU8, HWK_QS8 };
enum hwk_qaxis { HWK_QAXIS_TENSOR, HWK_QAXIS_ROW, HWK_QAXIS_COL };

int hwk_quantize_f32(enum hwk_qtype type, size_t rows, size_t cols, const float *x, size_t ldx,
		     void *q, size_t ldq, enum hwk_qaxis axis, const float *scale,
		     const int32_t *zp, const struct hwk_parallel *par);
int hwk_dequantize_f32(enum hwk_qtype type, size_t rows, size_t cols, const void *q, size_t ldq,
		       float *y, size_t ldy, enum hwk_qaxis axis, const float *scale,
		       const int32_t *zp, const struct hwk_parallel *par);

/* Dynamic quantization of activations, per row, to u8: ONNX
 * DynamicQuantizeLinear applied to each row r separately, in f32:
 *   lo = min(0, min_j x[r][j]),  hi = max(0, max_j x[r][j])  (NaN ignored)
 *   scale[r] = (hi - lo) / 255, or 1 where that is 0
 *   zp[r]    = rne(clamp(0 - lo / scale[r], 0, 255))
 *   q[r][j]  = saturate(rne(x[r][j] / scale[r]) + zp[r])
 * (an all-zero row gets scale 1 and zero point 0, as ONNX Runtime does;
 * a row holding +-inf gets an infinite scale, zero point 0 and all codes
 * 0). scale and zp take rows values. */
int hwk_qu8_dynamic_quantize_rows(size_t rows, size_t cols, const float *x, size_t ldx,
				  uint8_t *q, size_t ldq, float *scale, uint8_t *zp,
				  const struct hwk_parallel *par);

/* u8 x s8 -> s32 GEMM, C = (A - a_zp)(B - b_zp), with A u8 (M x K) and B s8
 * (K x N) packed once. The s32 result is exact modulo 2^32, so exact
 * whenever the true value fits in int32: always for K <= 33025
 * (255 * 255 * K < 2^31). Every variant, thread count and split gives
 * bit-identical output (tasks split M x N only, never K).
 *
 * Outputs (per element, m row, n column, acc the exact s32 above):
 *   HWK_QS8_S32: acc
 *   HWK_QS8_F32: y = fmaf((float)acc, a_scale[m] * b_scale[n], bias[n])
 *                (one f32 product a_scale*b_scale, then one fused
 *                multiply-add; bias 0 when none)
 *   HWK_QS8_U8:  saturate(rne(y / c_scale) + c_zp), y as for F32: the F32
 *                result quantized by QuantizeLinear's rule above. */
struct hwk_qs8_weights {
	size_t k, n;
	const int8_t *b;        /* K x N (row-major, ldb >= N), or N x K with trans */
	size_t ldb;
	bool trans;             /* b is N x K row-major (ldb >= K) */
	const int8_t *zp;       /* zp_count values: 0 (none), 1 (per tensor) or n */
	size_t zp_count;
	const float *scale;     /* scale_count values: 0 (s32 output only), 1 or n */
	size_t scale_count;
	const float *bias;      /* n values, or NULL */
};
struct hwk_qs8_packed;
/* Packs for the GEMM variant chosen now (which the packed weights keep:
 * a later ISA ceiling does not change them). k or n may be 0 (K = 0 gives
 * acc = 0). -ENOMEM when out of memory. */
int hwk_qs8_gemm_pack(const struct hwk_qs8_weights *w, struct hwk_qs8_packed **out);
void hwk_qs8_gemm_packed_free(struct hwk_qs8_packed *p);
/* The variant the weights were packed for ("6x64c4-avx512vnni"). */
const char *hwk_qs8_gemm_packed_variant(const struct hwk_qs8_packed *p);

enum hwk_qs8_output { HWK_QS8_S32, HWK_QS8_F32, HWK_QS8_U8 };
struct hwk_qs8_gemm_args {
	size_t m;
	const uint8_t *a;       /* M x K, lda >= K */
	size_t lda;
	const uint8_t *a_zp;    /* a_zp_count values: 0 (none), 1 (per tensor) or m */
	size_t a_zp_count;
	const float *a_scale;   /* F32, U8: a_scale_count values, 1 or m */
	size_t a_scale_count;
	enum hwk_qs8_output out;
	void *c;                /* M x N of int32_t, float or uint8_t */
	size_t ldc;             /* in elements, >= N */
	float c_scale;          /* U8 */
	uint8_t c_zp;           /* U8 */
};
int hwk_qs8_gemm(const struct hwk_qs8_packed *b, const struct hwk_qs8_gemm_args *args,
		 const struct hwk_parallel *par);
/* --- end int8 --- */

/* --- pooling and depthwise convolution (section: conv-pool) --- */
/* 2D windows over NCHW planes, ONNX semantics: pads at the begin and end of
 * each axis, dilation, ceil_mode (a last window must start inside the input
 * or its begin padding), count_include_pad for averages (positions past the
 * end padding, which ceil_mode can reach, are not counted). A NaN in a
 * window makes its max NaN, as np.max does. Results are identical for
 * every ISA variant and thread count. */
struct hwk_window2d {
	size_t kh, kw;               /* kernel */
	size_t sh, sw;               /* strides, >= 1 */
	size_t dh, dw;               /* dilations, >= 1 */
	size_t pad_t, pad_l, pad_b, pad_r;
	bool ceil_mode;
	bool count_include_pad;      /* average pooling only */
};

/* Output height and width for an h x w input; -EINVAL when the window
 * does not fit (or a stride/dilation/kernel is 0). */
int hwk_window2d_output(const struct hwk_window2d *p, size_t h, size_t w, size_t *oh, size_t *ow);

enum hwk_pool_kind { HWK_POOL_MAX, HWK_POOL_AVG };

/* y[planes][oh][ow] from x[planes][h][w]; planes = N*C. Max pooling
 * ignores padding; a window with no element inside gives -inf. */
int hwk_f32_pool2d(enum hwk_pool_kind kind, const struct hwk_window2d *p, size_t planes,
		   size_t h, size_t w, const float *x, float *y, const struct hwk_parallel *par);

/* y[plane] = max or mean of x[plane][0..hw). */
int hwk_f32_global_pool(enum hwk_pool_kind kind, size_t planes, size_t hw, const float *x,
			float *y, const struct hwk_parallel *par);

/* Depthwise convolution, NCHW, one kh x kw filter per channel (any size; the
 * variants vectorize along output rows, strides 1 and 2 without gathers):
 * y = clip(conv(x, w[c]) + bias[c],
 * out_min, out_max). bias may be NULL. x is n*c planes of h x w; w is
 * c x kh x kw; y is n*c planes of oh x ow. */
int hwk_f32_dwconv2d(const struct hwk_window2d *p, size_t n, size_t c, size_t h, size_t w,
		     const float *x, const float *weights, const float *bias, float out_min,
		     float out_max, float *y, const struct hwk_parallel *par);
/* --- end conv-pool --- */

/* --- convolution (section: conv) --- */
/* ONNX Conv over NCHW f32: x is n x c_in x h x w, weights are
 * c_out x (c_in/groups) x kh x kw, y is n x c_out x oh x ow with oh, ow from
 * hwk_window2d_output (win.ceil_mode must be false; count_include_pad is
 * ignored). Implicit GEMM: the weights are packed once into the f32 GEMM
 * microkernel's A panels; each task forms the input patches (im2col) of a
 * tile of output pixels, one k block at a time, in a bounded scratch buffer
 * (1x1 stride-1 unpadded convolutions read x in place) and writes y in
 * NCHW directly. On AVX-512, outputs at least 12 pixels wide (when most
 * vector lanes do work) take a direct kernel instead: each task copies the
 * input rows it needs into a zero-padded band split by stride phase (x
 * itself when unpadded and stride 1), and the kernel reads every tap as a
 * contiguous run of a band row, with no patch matrix. Depthwise
 * convolutions (groups == c_in == c_out) with no activation or ReLU go to
 * hwk_f32_dwconv2d.
 *
 * The epilogue is the GEMM's (NULL: none): + bias[co] (c_out floats, one
 * per output channel), the activation, then the clip. Tasks split images,
 * groups, pixel tiles and output-channel blocks, never the reduction, whose
 * order depends only on the shape, the variant and the cache sizes: results
 * are bit-identical for any thread count. If the ISA ceiling changes after
 * packing, the packed weights keep using their variant. */
struct hwk_conv2d {
	size_t c_in, c_out, groups;  /* groups >= 1 divides c_in and c_out */
	struct hwk_window2d win;
};
struct hwk_f32_conv2d_packed;
/* NULL with errno EINVAL (bad geometry, weights NULL) or ENOMEM. */
struct hwk_f32_conv2d_packed *hwk_f32_conv2d_pack(const struct hwk_conv2d *p,
						  const float *weights);
void hwk_f32_conv2d_packed_free(struct hwk_f32_conv2d_packed *w);
/* The GEMM variant the weights were packed for ("12x32-avx512f"). */
const char *hwk_f32_conv2d_packed_variant(const struct hwk_f32_conv2d_packed *w);
/* 0, -EINVAL (NULL x/y with n > 0, window does not fit, bad epilogue),
 * -ENOMEM. */
int hwk_f32_conv2d(const struct hwk_f32_conv2d_packed *w, size_t n, size_t h, size_t wd,
		   const float *x, float *y, const struct hwk_f32_gemm_epilogue *ep,
		   const struct hwk_parallel *par);

/* 1D convolution, x n x c_in x l, weights c_out x (c_in/groups) x k, y
 * n x c_out x ol: the 2D path with h = 1 (packed weights are 2D ones). */
struct hwk_conv1d {
	size_t c_in, c_out, groups;
	size_t k, stride, dilation, pad_begin, pad_end;
};
struct hwk_f32_conv2d_packed *hwk_f32_conv1d_pack(const struct hwk_conv1d *p,
						  const float *weights);
/* Output length; -EINVAL when the window does not fit. */
int hwk_conv1d_output(const struct hwk_conv1d *p, size_t l, size_t *ol);
int hwk_f32_conv1d(const struct hwk_f32_conv2d_packed *w, size_t n, size_t l, const float *x,
		   float *y, const struct hwk_f32_gemm_epilogue *ep,
		   const struct hwk_parallel *par);

/* Event-driven 1D convolution of spike trains: the input is binary, one
 * uint8_t per (image, channel, time), n x c_in x l, nonzero meaning a
 * spike. The result is dense conv1d of the 0/1 signal, y = bias + sum over
 * spikes (c, t) of the weight columns w[:, c, kk] at the outputs o with
 * o*stride + kk*dilation - pad_begin == t: only spikes cost work (one
 * vector add of c_out/groups floats per spike and tap). Sums run in order
 * of (c, t) per output, so results equal dense conv1d up to f32 rounding
 * (exactly when every partial sum is exact, e.g. small integer weights)
 * and are identical for any thread count (tasks split images and output
 * time blocks). bias may be NULL. */
struct hwk_f32_conv1d_spike_weights;
struct hwk_f32_conv1d_spike_weights *hwk_f32_conv1d_spike_pack(const struct hwk_conv1d *p,
							       const float *weights);
void hwk_f32_conv1d_spike_free(struct hwk_f32_conv1d_spike_weights *w);
int hwk_f32_conv1d_spikes(const struct hwk_f32_conv1d_spike_weights *w, size_t n, size_t l,
			  const uint8_t *spikes, const float *bias, float *y,
			  const struct hwk_parallel *par);
/* --- end conv --- */

/* --- int4 weight-only GEMM (section: qb4) --- */
/* Weights in blocks of 32 along K with one f32 scale per block and, when
 * asymmetric, one f32 minimum: w = q*scale + min (q in 0..15), or
 * symmetric w = (q - 8)*scale. Block b of row n holds 16 bytes: byte j has
 * q[j] in its low nibble and q[j+16] in its high one. */
struct hwk_qb4_weights {
	size_t n, k;           /* output features, input features (k % 32 == 0) */
	const uint8_t *q;      /* n x k/2 bytes, row after row */
	const float *scale;    /* n x k/32 */
	const float *min;      /* n x k/32, or NULL for symmetric */
};

/* Quantizes a row-major n x k f32 matrix (k % 32 == 0): symmetric blocks
 * map max|w| to 7 (q = clamp(round(w/scale) + 8, 0, 15)); asymmetric ones
 * map [min, max] onto 0..15. min may be NULL (symmetric). Round half to even. */
int hwk_qb4_quantize(size_t n, size_t k, const float *w, uint8_t *q, float *scale, float *min);

/* y[m][n] = sum_k x[m][k] * w[n][k] + bias[n] (bias may be NULL), the
 * weights dequantized on the fly. x is m x k (ldx), y is m x n (ldy).
 * Split over rows of y and blocks of n only: thread counts do not change
 * results. */
int hwk_f32_qb4_gemm(size_t m, const float *x, size_t ldx, const struct hwk_qb4_weights *w,
		     const float *bias, float *y, size_t ldy, const struct hwk_parallel *par);
/* --- end qb4 --- */

/* --- reduced-precision conversions (section: cvt) --- */
/* bf16 and f16 round to nearest even and keep NaN a (quiet) NaN. fp8
 * follows the OCP formats ONNX uses: E4M3FN (max 448, no infinity) and E5M2
 * (max 57344, with infinity), rounding to nearest even; with saturate, Inf
 * and values beyond the maximum become +-max, without it they become NaN
 * (E4M3FN) or +-Inf (E5M2), as ONNX Cast and QuantizeLinear define. The fp8
 * calls scale: y = fp8(x / scale) and x = f32(y) * scale (per tensor). */
enum hwk_fp8 { HWK_FP8_E4M3FN, HWK_FP8_E5M2 };

void hwk_f32_to_bf16(size_t n, const float *x, uint16_t *y);
void hwk_bf16_to_f32(size_t n, const uint16_t *x, float *y);
void hwk_f32_to_f16(size_t n, const float *x, uint16_t *y);
void hwk_f16_to_f32(size_t n, const uint16_t *x, float *y);
/* -EINVAL for an unknown format or a scale that is not finite and > 0. */
int hwk_f32_to_fp8(enum hwk_fp8 fmt, bool saturate, float scale, size_t n, const float *x,
		   uint8_t *y);
int hwk_fp8_to_f32(enum hwk_fp8 fmt, float scale, size_t n, const uint8_t *x, float *y);
/* --- end cvt --- */

/* --- reservoir computing and CfC (section: rnn) --- */
/* A sparse matrix in CSR form: row r holds col[k], val[k] for k in
 * [row_ptr[r], row_ptr[r+1]). */
struct hwk_csr {
	size_t rows, cols;
	const uint32_t *row_ptr; /* rows + 1 entries, non-decreasing */
	const uint32_t *col;     /* < cols */
	const float *val;
};

/* y = A x. -EINVAL for a malformed matrix (checked as it is read). Rows are
 * split across par; each y[r] sums in column order whatever the threads. */
int hwk_f32_spmv(const struct hwk_csr *a, const float *x, float *y, const struct hwk_parallel *par);

/* Spectral radius of an n x n matrix (dense row-major w, or sparse ws) by
 * power iteration. Complex dominant pairs make single-step norm ratios
 * oscillate, so the estimate is the geometric mean of the growth over the
 * last half of the iterations (Gelfand's formula), stopping when it moves
 * less than tol (relative) over 16 iterations or after max_iter. */
int hwk_spectral_radius(size_t n, const float *w, const struct hwk_csr *ws, unsigned max_iter,
			float tol, float *rho);

/* Echo-state network: x' = (1 - a) x + a tanh(W_in u + W x + b), for a
 * batch of states at once. W dense (n_res x n_res) or sparse; W_in is
 * n_res x n_in; weights are packed at creation. */
struct hwk_esn;
struct hwk_esn *hwk_esn_create(size_t n_in, size_t n_res, const float *w_in, const float *w,
			       const struct hwk_csr *w_sparse, const float *bias, float leak);
void hwk_esn_destroy(struct hwk_esn *e);
/* u is batch x n_in (ldu), x is batch x n_res (ldx), updated in place. */
int hwk_esn_step(const struct hwk_esn *e, size_t batch, const float *u, size_t ldu, float *x,
		 size_t ldx, const struct hwk_parallel *par);

/* Closed-form continuous-time cell (CfC, Hasani et al. 2022, the default
 * form of the ncps package):
 *   z   = act(W_bb [u; h] + b_bb)            (no backbone: z = [u; h])
 *   ff1 = tanh(W_ff1 z + b_ff1), ff2 = tanh(W_ff2 z + b_ff2)
 *   g   = sigmoid((W_ta z + b_ta) dt + (W_tb z + b_tb))
 *   h'  = ff1 (1 - g) + g ff2
 * Each head matrix is n_hidden x n_z, n_z = n_backbone or n_in + n_hidden. */
enum hwk_cfc_act { HWK_CFC_LECUN_TANH, HWK_CFC_TANH, HWK_CFC_RELU, HWK_CFC_SILU, HWK_CFC_GELU };
struct hwk_cfc_weights {
	size_t n_in, n_hidden, n_backbone;  /* n_backbone 0: no backbone */
	enum hwk_cfc_act backbone_act;      /* LeCun tanh: 1.7159 tanh(0.666 x) */
	const float *w_bb, *b_bb;           /* n_backbone x (n_in + n_hidden), n_backbone */
	const float *w_ff1, *b_ff1, *w_ff2, *b_ff2, *w_ta, *b_ta, *w_tb, *b_tb;
};
struct hwk_cfc;
struct hwk_cfc *hwk_cfc_create(const struct hwk_cfc_weights *w);
void hwk_cfc_destroy(struct hwk_cfc *c);
/* h (batch x n_hidden, ldh) is updated in place; dt per batch row, or NULL
 * for 1. */
int hwk_cfc_step(const struct hwk_cfc *c, size_t batch, const float *u, size_t ldu, float *h,
		 size_t ldh, const float *dt, const struct hwk_parallel *par);
/* --- end rnn --- */

/* --- attention (section: attention) --- */
/* Scaled dot-product attention, flash-style: for each batch b, head h and
 * query row i,
 *   o[b][h][i] = sum_j softmax_j(q[b][h][i] . k[b][g][j] * scale + mask[b][i][j]) v[b][g][j]
 * with g = h / (num_heads / num_kv_heads) (grouped-query attention;
 * num_kv_heads == num_heads is multi-head, 1 is multi-query). The S x S
 * score matrix never exists: keys are visited in blocks with a running
 * maximum and sum per row (online softmax), in f32.
 *
 * Layout: each tensor is [batch][heads][seq][head_dim] with strides in
 * floats for batch, head and row (strides[0], [1], [2]); the head_dim
 * elements of a row are contiguous, and a row stride must be >= head_dim.
 * q and o have num_heads heads and q_len rows, k and v num_kv_heads heads
 * and kv_len rows. hwk_f32_attention_strides fills dense strides. Any
 * head_dim >= 1 (vectorized along it, tails masked).
 *
 * causal: query row i sits at position kv_len - q_len + i (bottom-right
 * aligned: prefill when q_len == kv_len; the new rows of a decode step
 * otherwise) and sees keys j <= that position. mask (may be NULL) is
 * additive, q_len x kv_len per batch (row stride mask_ld >= kv_len, batch
 * stride mask_batch_stride, 0 to share one mask), the same for every head;
 * it may hold -inf. A row that sees no key (causal with kv_len < q_len, or
 * all its mask -inf) gives zeros; kv_len 0 gives zeros. scale 0 means
 * 1/sqrt(head_dim); otherwise any finite value. NaN or +inf in the inputs
 * give NaN rows.
 *
 * Accuracy: the vector variants are within 2e-5 + 1e-4 |ref| of a double
 * reference for |q|, |k|, |v| <= 1 (tests/unit/kernels/test_attention.c).
 * par (may be NULL) runs one task per (batch, head, block of 64 query
 * rows), so results are bit-identical for any thread count. Returns 0,
 * -EINVAL for bad arguments (nothing written), -ENOMEM for scratch. */
struct hwk_f32_attention {
	size_t batch, num_heads, num_kv_heads, head_dim;
	size_t q_len, kv_len;
	const float *q;
	size_t q_strides[3];
	const float *k;
	size_t k_strides[3];
	const float *v;
	size_t v_strides[3];
	float *o;
	size_t o_strides[3];
	float scale;               /* 0: 1/sqrt(head_dim) */
	bool causal;
	const float *mask;         /* NULL, or additive q_len x kv_len per batch */
	size_t mask_ld, mask_batch_stride;
};
int hwk_f32_attention(const struct hwk_f32_attention *a, const struct hwk_parallel *par);
/* Dense [batch][heads][seq][head_dim] strides. */
void hwk_f32_attention_strides(size_t heads, size_t seq, size_t head_dim, size_t strides[3]);

/* A KV cache for token-by-token decoding: K and V of every position so far,
 * [batch][num_kv_heads][capacity][head_dim], grown (doubling, copied) as
 * rows are appended. Not thread-safe: one user at a time. */
struct hwk_f32_kv_cache;
/* capacity may be 0 (grown on first append). NULL with errno EINVAL or ENOMEM. */
struct hwk_f32_kv_cache *hwk_f32_kv_cache_create(size_t batch, size_t num_kv_heads,
						 size_t head_dim, size_t capacity);
void hwk_f32_kv_cache_free(struct hwk_f32_kv_cache *c);
size_t hwk_f32_kv_cache_len(const struct hwk_f32_kv_cache *c);
void hwk_f32_kv_cache_clear(struct hwk_f32_kv_cache *c);  /* length 0, memory kept */
int hwk_f32_kv_cache_reserve(struct hwk_f32_kv_cache *c, size_t capacity);
/* Appends n positions: k and v are [batch][num_kv_heads][n][head_dim] with
 * the given strides. 0, -EINVAL, or -ENOMEM (the cache is unchanged). */
int hwk_f32_kv_cache_append(struct hwk_f32_kv_cache *c, size_t n, const float *k,
			    const size_t k_strides[3], const float *v, const size_t v_strides[3]);
/* Attention of q_len query rows, the last q_len positions appended
 * (q_len <= length), against every cached position: hwk_f32_attention with
 * kv_len = the cache length (so causal row i sees positions
 * <= length - q_len + i). q and o are [batch][num_heads][q_len][head_dim]. */
int hwk_f32_kv_cache_attention(const struct hwk_f32_kv_cache *c, size_t num_heads, size_t q_len,
			       const float *q, const size_t q_strides[3], float *o,
			       const size_t o_strides[3], float scale, bool causal,
			       const struct hwk_parallel *par);
/* --- end attention --- */

/* --- element-wise and row ops (section: eltwise) --- */
/* f32 element-wise ops, y[i] = f(x[i]) for i < n. y == x (in place) is
 * allowed; any other overlap of x and y is -EINVAL. Large arrays are split
 * into fixed chunks run on par (may be NULL); every element is computed the
 * same way whatever the thread count. NaN inputs give NaN. Accuracy per op
 * and ISA: docs/kernels.md. */
enum hwk_vunary_op {
	HWK_VUNARY_RELU,        /* max(x, 0) */
	HWK_VUNARY_LEAKY_RELU,  /* x < 0 ? alpha x : x */
	HWK_VUNARY_GELU,        /* x Phi(x) = 0.5 x (1 + erf(x/sqrt2)) */
	HWK_VUNARY_GELU_TANH,   /* 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) */
	HWK_VUNARY_SILU,        /* x sigmoid(x) */
	HWK_VUNARY_SIGMOID,     /* 1 / (1 + e^-x) */
	HWK_VUNARY_TANH,
	HWK_VUNARY_HARDSWISH,   /* x max(0, min(1, x/6 + 1/2)); -inf gives -0 */
	HWK_VUNARY_HARDSIGMOID, /* max(0, min(1, alpha x + beta)) */
	HWK_VUNARY_CLIP,        /* min(max(x, min), max); min > max gives max */
	HWK_VUNARY_EXP,
	HWK_VUNARY_COUNT
};

/* Parameters; NULL means the ONNX defaults: alpha 0.01 (LeakyRelu),
 * alpha 0.2 and beta 0.5 (HardSigmoid), min -inf and max +inf (Clip). */
struct hwk_vunary_params {
	float alpha, beta; /* LeakyRelu alpha; HardSigmoid alpha, beta (finite) */
	float min, max;    /* Clip bounds (not NaN) */
};

/* 0, or -EINVAL for an unknown op, NULL x/y with n > 0, partial overlap,
 * or a bad parameter. */
int hwk_f32_vunary(enum hwk_vunary_op op, const struct hwk_vunary_params *params, size_t n,
		   const float *x, float *y, const struct hwk_parallel *par);

/* Row ops over `rows` rows of n floats; row r of x starts at x + r*ldx,
 * of y at y + r*ldy (ld >= n; floats in the gaps are never touched). In
 * place when x == y and ldx == ldy; other overlaps are -EINVAL. Rows are
 * split across par (may be NULL); each row is computed by one task, the
 * same way for any thread count. -EINVAL also for NULL pointers where data
 * is needed, ld < n, or sizes whose byte extent overflows. */

/* y = exp(x - max) / sum(exp(x - max)) per row. A NaN or +inf in a row,
 * or a row all -inf, gives a row of NaN (as the ONNX reference does);
 * -inf entries alone give 0. */
int hwk_f32_softmax(size_t rows, size_t n, const float *x, size_t ldx, float *y, size_t ldy,
		    const struct hwk_parallel *par);
/* y = x - max - log(sum(exp(x - max))) per row; specials as softmax, and
 * -inf entries give -inf. */
int hwk_f32_logsoftmax(size_t rows, size_t n, const float *x, size_t ldx, float *y, size_t ldy,
		       const struct hwk_parallel *par);

/* ONNX LayerNormalization over the last axis (stash_type float):
 * mean = sum(x)/n, var = sum((x-mean)^2)/n, rstd = 1/sqrt(var + epsilon),
 * y = (x - mean) rstd gamma + beta. gamma and beta hold n floats, NULL
 * meaning 1 and 0. mean and inv_std_dev (may be NULL) receive one float per
 * row (the ONNX Mean and InvStdDev outputs). epsilon must be finite and
 * >= 0; a constant row with epsilon > 0 gives y = beta. */
int hwk_f32_layernorm(size_t rows, size_t n, const float *x, size_t ldx, const float *gamma,
		      const float *beta, float epsilon, float *y, size_t ldy, float *mean,
		      float *inv_std_dev, const struct hwk_parallel *par);
/* ONNX RMSNormalization over the last axis: y = x / sqrt(sum(x^2)/n + epsilon)
 * * gamma (gamma NULL means 1). */
int hwk_f32_rmsnorm(size_t rows, size_t n, const float *x, size_t ldx, const float *gamma,
		    float epsilon, float *y, size_t ldy, const struct hwk_parallel *par);

/* BatchNormalization for inference, folded: scale = gamma / sqrt(var + eps),
 * bias = beta - mean * scale, per channel, computed in double (gamma,
 * beta NULL mean 1, 0). -EINVAL for a negative or NaN var, a bad epsilon,
 * or var + epsilon == 0. */
int hwk_f32_batchnorm_fold(size_t channels, const float *gamma, const float *beta,
			   const float *mean, const float *var, float epsilon, float *scale,
			   float *bias);
/* y = x scale[c] + bias[c] over NCHW: batch x channels planes of `spatial`
 * floats each, contiguous. In place when y == x. */
int hwk_f32_batchnorm(size_t batch, size_t channels, size_t spatial, const float *x,
		      const float *scale, const float *bias, float *y,
		      const struct hwk_parallel *par);
/* --- end eltwise --- */

#ifdef __cplusplus
}
#endif

#endif
