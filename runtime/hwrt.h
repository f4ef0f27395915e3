/* libhwrt: the ONNX model runtime. Loads a model, optimizes its graph once,
 * and runs it many times. This is the library's one public header; it
 * knows libhwk (kernels/) and nothing of the daemon. */
#ifndef HWRT_H
#define HWRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/hwk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element types, numbered as ONNX's TensorProto.DataType. */
enum hwrt_dtype {
	HWRT_UNDEFINED = 0,
	HWRT_FLOAT = 1,
	HWRT_UINT8 = 2,
	HWRT_INT8 = 3,
	HWRT_UINT16 = 4,
	HWRT_INT16 = 5,
	HWRT_INT32 = 6,
	HWRT_INT64 = 7,
	HWRT_STRING = 8,
	HWRT_BOOL = 9,
	HWRT_FLOAT16 = 10,
	HWRT_DOUBLE = 11,
	HWRT_UINT32 = 12,
	HWRT_UINT64 = 13,
	HWRT_BFLOAT16 = 16,
};

#define HWRT_MAX_RANK 8

/* A dense row-major tensor. data is owned by whoever made it. */
struct hwrt_tensor {
	enum hwrt_dtype dtype;
	int rank;
	int64_t dims[HWRT_MAX_RANK];
	void *data;
};

const char *hwrt_dtype_name(enum hwrt_dtype t); /* "float", "int64", ... */
size_t hwrt_dtype_size(enum hwrt_dtype t);      /* 0 for unsupported types */
int64_t hwrt_tensor_count(const struct hwrt_tensor *t);
size_t hwrt_tensor_bytes(const struct hwrt_tensor *t);
/* Fills t with reproducible random data from *seed (nonzero, advanced):
 * floats in [-1, 1), integers in [0, 16), bools 0 or 1, other types bytes
 * of 0 to 15. For benchmark and calibration inputs. */
void hwrt_tensor_fill_random(struct hwrt_tensor *t, uint64_t *seed);

enum hwrt_precision {
	HWRT_PREC_FP32 = 0,
	HWRT_PREC_BF16, /* bf16 weights for MatMul/Gemm */
	HWRT_PREC_INT8, /* dynamic int8 MatMul/Gemm/Conv, per-channel weights */
	HWRT_PREC_INT4, /* int4 weight-only MatMul/Gemm */
};
const char *hwrt_precision_name(enum hwrt_precision p);
int hwrt_precision_parse(const char *s, enum hwrt_precision *out);

/* A tensor for a named graph input. */
struct hwrt_named_tensor {
	const char *name;
	struct hwrt_tensor t;
};

struct hwrt_options {
	enum hwrt_precision precision;
	/* Node names or op types (glob patterns) kept in fp32. */
	const char *const *keep_fp32;
	size_t n_keep_fp32;
	/* Reduced precisions are checked at load: the model runs on
	 * calibration inputs in fp32 and at the precision, and is refused when
	 * an output's cosine similarity to fp32 falls below min_cosine (0:
	 * 0.99; negative: never refused). Calibration tensors are given by
	 * input name, the k-th tensor of each input making set k; every set
	 * names every input. With them, int8 activations get static ranges;
	 * without, they are quantized per row as they run and the check uses
	 * one set of random inputs (hwrt_tensor_fill_random; unnamed dims
	 * 1). */
	const struct hwrt_named_tensor *calib;
	size_t n_calib;
	double min_cosine;
	bool no_optimize; /* skip folding and fusion (for debugging) */
	/* Runs whose intermediates need more are refused; 0: no limit. */
	size_t max_arena_bytes;
};

struct hwrt_model;

/* Loads and optimizes a model. Relative external-data paths resolve against
 * the model file's directory. On failure returns NULL and writes a message
 * naming the offending node, operator or opset into err. */
struct hwrt_model *hwrt_model_load(const char *path, const struct hwrt_options *opt, char *err,
				   size_t errlen);
/* The same from bytes; external data resolves against base_dir (may be NULL,
 * then external data is refused). The bytes may be freed after the call. */
struct hwrt_model *hwrt_model_load_buffer(const void *buf, size_t len, const char *base_dir,
					  const struct hwrt_options *opt, char *err,
					  size_t errlen);
void hwrt_model_free(struct hwrt_model *m);

/* A graph input or output. Symbolic or unknown dims are -1 with dim_names[i]
 * set ("" when unnamed). */
struct hwrt_io_info {
	const char *name;
	enum hwrt_dtype dtype;
	int rank; /* -1: rank unknown */
	int64_t dims[HWRT_MAX_RANK];
	const char *dim_names[HWRT_MAX_RANK];
};
size_t hwrt_model_n_inputs(const struct hwrt_model *m);
size_t hwrt_model_n_outputs(const struct hwrt_model *m);
const struct hwrt_io_info *hwrt_model_input(const struct hwrt_model *m, size_t i);
const struct hwrt_io_info *hwrt_model_output(const struct hwrt_model *m, size_t i);

/* Statistics of the optimized graph. */
struct hwrt_model_stats {
	size_t nodes_loaded, nodes;  /* before and after optimization */
	size_t folded, fused, removed;
	size_t weight_bytes;
	int opset;
	size_t reduced;              /* nodes whose weights are below fp32 */
	size_t calib_sets;           /* sets the accuracy check ran (0: random) */
	bool static_ranges;          /* int8 activations use calibrated ranges */
};
void hwrt_model_stats(const struct hwrt_model *m, struct hwrt_model_stats *st);

/* The load-time accuracy of a reduced-precision model, one entry per
 * output, against fp32 over all calibration sets (none for fp32 models
 * or when no node was reduced). Integer outputs compare as numbers. */
struct hwrt_accuracy {
	const char *output;
	double max_abs_err, mse, cosine;
};
size_t hwrt_model_accuracy(const struct hwrt_model *m, const struct hwrt_accuracy **out);

/* A session holds what one run needs: the arena and bound shapes. One
 * session runs on one thread at a time; make one per concurrent caller. */
struct hwrt_session;
struct hwrt_session *hwrt_session_create(const struct hwrt_model *m);
void hwrt_session_free(struct hwrt_session *s);

/* Runs the model. inputs are in model-input order; outputs receive tensors
 * whose data the session owns until the next run or free. Returns 0, -1
 * with a message in err, or HWRT_CANCELLED when the session's cancel flag
 * was set. */
#define HWRT_CANCELLED (-2)
int hwrt_run(struct hwrt_session *s, const struct hwrt_tensor *inputs, size_t n_inputs,
	     struct hwrt_tensor *outputs, size_t n_outputs, const struct hwk_parallel *par,
	     char *err, size_t errlen);

/* Runs of this session stop at the next node boundary once *flag is
 * nonzero (another thread sets it); NULL: never. The flag is read, never
 * written. */
void hwrt_session_set_cancel(struct hwrt_session *s, const volatile int *flag);

/* Memory of the last run: the arena the plan placed intermediates in, and
 * what they would take one buffer each. */
struct hwrt_run_stats {
	size_t arena_bytes, intermediate_bytes;
	bool planned; /* false: some shape depended on data; buffers were dynamic */
};
void hwrt_session_stats(const struct hwrt_session *s, struct hwrt_run_stats *st);

/* Per-node timing, on when enabled before a run. */
struct hwrt_node_time {
	const char *name, *op_type;
	uint64_t ns; /* summed over runs */
	uint64_t runs;
};
void hwrt_session_profile(struct hwrt_session *s, bool on);
size_t hwrt_session_node_times(const struct hwrt_session *s, const struct hwrt_node_time **out);

/* Tensor files. hwrt_tensor_read takes a .npy file or an ONNX TensorProto
 * (.pb), told apart by content; the tensor and its data are one block
 * freed with hwrt_tensor_free. name (may be NULL) receives the
 * TensorProto's name, malloc'ed, or NULL. */
struct hwrt_tensor *hwrt_tensor_read(const char *path, char **name, char *err, size_t errlen);
int hwrt_tensor_write_npy(const char *path, const struct hwrt_tensor *t, char *err,
			  size_t errlen);
void hwrt_tensor_free(struct hwrt_tensor *t);

/* The operator table: name, domain and the opset range supported. */
struct hwrt_op_info {
	const char *name;
	int since, until; /* opset versions of the default domain */
};
size_t hwrt_ops(const struct hwrt_op_info **out);

#ifdef __cplusplus
}
#endif
#endif
