/* hwopt-run: load an ONNX model, run it with given or random inputs, write
 * the outputs and report latency, in the spirit of onnxruntime_perf_test. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "runtime/hwrt.h"

#define MAX_ARGS 64

struct args {
	const char *model;
	const char *in_name[MAX_ARGS], *in_file[MAX_ARGS];
	int n_in;
	const char *dim_name[MAX_ARGS];
	long long dim_val[MAX_ARGS];
	int n_dim;
	const char *keep[MAX_ARGS];
	int n_keep;
	const char *calib_name[MAX_ARGS], *calib_file[MAX_ARGS];
	int n_calib;
	double min_cosine;
	const char *out_dir;
	long threads, warmup, iterations;
	enum hwrt_precision precision;
	bool profile, json;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hwopt-run MODEL [--input NAME=FILE]... [--dim NAME=VALUE]...\n"
		   "                 [--output-dir DIR] [--threads N] [--precision fp32|bf16|int8|int4]\n"
		   "                 [--keep-fp32 PATTERN]... [--calib NAME=FILE]... [--min-cosine C]\n"
		   "                 [--warmup W] [--iterations K] [--profile] [--json]\n"
		   "       hwopt-run --list-ops\n");
}

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "hwopt-run: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* NAME=FILE into the next slot of names and files. */
static int name_file(const char *opt, char *arg, const char **names, const char **files, int *n)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1]) {
		die("%s wants NAME=FILE, not '%s'", opt, arg);
		return -1;
	}
	if (*n == MAX_ARGS) {
		die("too many %s", opt);
		return -1;
	}
	*eq = 0;
	names[*n] = arg;
	files[(*n)++] = eq + 1;
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "input", required_argument, 0, 'i' },      { "dim", required_argument, 0, 'd' },
		{ "output-dir", required_argument, 0, 'o' }, { "threads", required_argument, 0, 't' },
		{ "precision", required_argument, 0, 'p' },  { "keep-fp32", required_argument, 0, 'k' },
		{ "warmup", required_argument, 0, 'w' },     { "iterations", required_argument, 0, 'n' },
		{ "profile", no_argument, 0, 'P' },          { "json", no_argument, 0, 'j' },
		{ "help", no_argument, 0, 'h' },             { "list-ops", no_argument, 0, 'L' },
		{ "calib", required_argument, 0, 'c' },      { "min-cosine", required_argument, 0, 'C' },
		{ 0, 0, 0, 0 },
	};
	a->threads = 1;
	a->warmup = 1;
	a->iterations = 10;
	int c;
	while ((c = getopt_long(argc, argv, "i:d:o:t:p:k:w:n:Pjh", opts, NULL)) != -1) {
		char *eq;
		switch (c) {
		case 'i':
			if (name_file("--input", optarg, a->in_name, a->in_file, &a->n_in) < 0)
				return 1;
			break;
		case 'c':
			if (name_file("--calib", optarg, a->calib_name, a->calib_file, &a->n_calib) < 0)
				return 1;
			break;
		case 'C': {
			char *end;
			errno = 0;
			a->min_cosine = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(a->min_cosine <= 1.0) ||
			    a->min_cosine == 0.0)
				return die("--min-cosine wants a number <= 1 (negative: never refuse), "
					   "not '%s'", optarg);
			break;
		}
		case 'd': {
			eq = strchr(optarg, '=');
			long v;
			if (!eq || eq == optarg || parse_long(eq + 1, 0, 1L << 40, &v) < 0)
				return die("--dim wants NAME=VALUE with VALUE >= 0, not '%s'", optarg);
			if (a->n_dim == MAX_ARGS)
				return die("too many --dim");
			*eq = 0;
			a->dim_name[a->n_dim] = optarg;
			a->dim_val[a->n_dim++] = v;
			break;
		}
		case 'o': a->out_dir = optarg; break;
		case 't':
			if (parse_long(optarg, 1, 1024, &a->threads) < 0)
				return die("--threads wants 1 to 1024, not '%s'", optarg);
			break;
		case 'p':
			if (hwrt_precision_parse(optarg, &a->precision) < 0)
				return die("--precision wants fp32, bf16, int8 or int4, not '%s'",
					   optarg);
			break;
		case 'k':
			if (a->n_keep == MAX_ARGS)
				return die("too many --keep-fp32");
			a->keep[a->n_keep++] = optarg;
			break;
		case 'w':
			if (parse_long(optarg, 0, 1000000, &a->warmup) < 0)
				return die("--warmup wants 0 to 1000000, not '%s'", optarg);
			break;
		case 'n':
			if (parse_long(optarg, 1, 10000000, &a->iterations) < 0)
				return die("--iterations wants 1 to 10000000, not '%s'", optarg);
			break;
		case 'P': a->profile = true; break;
		case 'j': a->json = true; break;
		case 'h': usage(stdout); exit(0);
		case 'L': {
			const struct hwrt_op_info *ops;
			size_t n = hwrt_ops(&ops);
			for (size_t i = 0; i < n; i++)
				printf("%s %d %d\n", ops[i].name, ops[i].since, ops[i].until);
			exit(0);
		}
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	a->model = argv[optind];
	return 0;
}

/* Random data of the right type: floats in [-1, 1), small integers. */
static struct hwrt_tensor *random_input(const struct hwrt_io_info *info, const struct args *a,
					uint64_t *seed, char *err, size_t errlen)
{
	struct hwrt_tensor shape = { .dtype = info->dtype, .rank = info->rank };
	for (int d = 0; d < info->rank; d++) {
		shape.dims[d] = info->dims[d];
		if (shape.dims[d] >= 0)
			continue;
		shape.dims[d] = 1;
		for (int k = 0; k < a->n_dim; k++)
			if (info->dim_names[d] && strcmp(info->dim_names[d], a->dim_name[k]) == 0)
				shape.dims[d] = a->dim_val[k];
	}
	size_t es = hwrt_dtype_size(info->dtype), bytes = es;
	for (int d = 0; d < shape.rank; d++)
		bytes *= (size_t)shape.dims[d];
	struct hwrt_tensor *t = malloc(sizeof(*t) + bytes + 64);
	if (!t) {
		snprintf(err, errlen, "out of memory for input '%s'", info->name);
		return NULL;
	}
	*t = shape;
	t->data = (void *)(((uintptr_t)(t + 1) + 63) & ~(uintptr_t)63);
	hwrt_tensor_fill_random(t, seed);
	return t;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double pct(const uint64_t *s, long n, double p)
{
	long i = (long)(p * (double)(n - 1) + 0.5);
	return (double)s[i] / 1e6;
}

/* What a run holds, released on every exit path. */
struct state {
	struct hwrt_model *m;
	struct hwrt_named_tensor *calib;
	struct hwrt_tensor **calib_owned;
	size_t n_calib;
	struct hwrt_tensor *inputs, **owned, *outputs;
	size_t ni;
	uint64_t *lat;
	struct hwk_pool *pool;
	struct hwrt_session *s;
};

static int run(const struct args *ap, struct state *st)
{
	struct args a = *ap;
	char err[1024];
	const char *keep[MAX_ARGS];
	for (int i = 0; i < a.n_keep; i++)
		keep[i] = a.keep[i];
	struct hwrt_options opt = { .precision = a.precision, .keep_fp32 = keep,
				    .n_keep_fp32 = (size_t)a.n_keep, .min_cosine = a.min_cosine };
	if (hwk_init(err, sizeof(err)) < 0)
		return die("%s", err);
	st->calib = calloc((size_t)a.n_calib + 1, sizeof(*st->calib));
	st->calib_owned = calloc((size_t)a.n_calib + 1, sizeof(*st->calib_owned));
	if (!st->calib || !st->calib_owned)
		return die("out of memory");
	for (int k = 0; k < a.n_calib; k++) {
		struct hwrt_tensor *t = hwrt_tensor_read(a.calib_file[k], NULL, err, sizeof(err));
		if (!t)
			return die("%s", err);
		st->calib_owned[st->n_calib++] = t;
		st->calib[k] = (struct hwrt_named_tensor){ a.calib_name[k], *t };
	}
	opt.calib = st->calib;
	opt.n_calib = st->n_calib;
	struct hwrt_model *m = hwrt_model_load(a.model, &opt, err, sizeof(err));
	if (!m)
		return die("%s: %s", a.model, err);
	st->m = m;
	size_t ni = hwrt_model_n_inputs(m), no = hwrt_model_n_outputs(m);
	struct hwrt_tensor *inputs = st->inputs = calloc(ni + 1, sizeof(*inputs));
	struct hwrt_tensor **owned = st->owned = calloc(ni + 1, sizeof(*owned));
	struct hwrt_tensor *outputs = st->outputs = calloc(no + 1, sizeof(*outputs));
	uint64_t *lat = st->lat = calloc((size_t)a.iterations, sizeof(uint64_t));
	st->ni = ni;
	if (!inputs || !owned || !outputs || !lat)
		return die("out of memory");
	for (int k = 0; k < a.n_in; k++) {
		size_t i;
		for (i = 0; i < ni; i++)
			if (strcmp(hwrt_model_input(m, i)->name, a.in_name[k]) == 0)
				break;
		if (i == ni)
			return die("the model has no input named '%s'", a.in_name[k]);
		if (owned[i])
			return die("input '%s' given twice", a.in_name[k]);
		owned[i] = hwrt_tensor_read(a.in_file[k], NULL, err, sizeof(err));
		if (!owned[i])
			return die("%s", err);
		/* numpy has no bfloat16: files carry its bits as uint16 */
		if (hwrt_model_input(m, i)->dtype == HWRT_BFLOAT16 && owned[i]->dtype == HWRT_UINT16)
			owned[i]->dtype = HWRT_BFLOAT16;
		inputs[i] = *owned[i];
	}
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < ni; i++) {
		if (owned[i])
			continue;
		owned[i] = random_input(hwrt_model_input(m, i), &a, &seed, err, sizeof(err));
		if (!owned[i])
			return die("%s", err);
		inputs[i] = *owned[i];
	}
	struct hwk_pool *pool = st->pool = a.threads > 1 ? hwk_pool_create((size_t)a.threads) : NULL;
	if (a.threads > 1 && !pool)
		return die("cannot start %ld threads", a.threads);
	const struct hwk_parallel *par = pool ? hwk_pool_parallel(pool) : NULL;
	struct hwrt_session *s = st->s = hwrt_session_create(m);
	if (!s)
		return die("out of memory");
	for (long w = 0; w < a.warmup; w++)
		if (hwrt_run(s, inputs, ni, outputs, no, par, err, sizeof(err)) < 0)
			return die("%s", err);
	hwrt_session_profile(s, a.profile);
	for (long it = 0; it < a.iterations; it++) {
		uint64_t t0 = now_ns();
		if (hwrt_run(s, inputs, ni, outputs, no, par, err, sizeof(err)) < 0)
			return die("%s", err);
		lat[it] = now_ns() - t0;
	}
	if (a.out_dir) {
		if (mkdir(a.out_dir, 0755) < 0 && errno != EEXIST)
			return die("cannot create %s: %s", a.out_dir, strerror(errno));
		for (size_t o = 0; o < no; o++) {
			char path[4096];
			const char *name = hwrt_model_output(m, o)->name;
			if (strchr(name, '/'))
				return die("output name '%s' cannot be a file name", name);
			snprintf(path, sizeof(path), "%s/%s.npy", a.out_dir, name);
			if (hwrt_tensor_write_npy(path, &outputs[o], err, sizeof(err)) < 0)
				return die("%s", err);
		}
	}
	double mean = 0;
	for (long it = 0; it < a.iterations; it++)
		mean += (double)lat[it] / 1e6;
	mean /= (double)a.iterations;
	qsort(lat, (size_t)a.iterations, sizeof(*lat), cmp_u64);
	struct hwrt_run_stats rs;
	hwrt_session_stats(s, &rs);
	struct hwrt_model_stats ms;
	hwrt_model_stats(m, &ms);
	const struct hwrt_node_time *nt;
	size_t nn = hwrt_session_node_times(s, &nt);
	const struct hwrt_accuracy *acc;
	size_t n_acc = hwrt_model_accuracy(m, &acc);
	if (a.json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "model", a.model);
		cJSON_AddStringToObject(j, "precision", hwrt_precision_name(a.precision));
		cJSON_AddNumberToObject(j, "threads", (double)a.threads);
		cJSON_AddNumberToObject(j, "iterations", (double)a.iterations);
		cJSON *l = cJSON_AddObjectToObject(j, "latency_ms");
		cJSON_AddNumberToObject(l, "p50", pct(lat, a.iterations, 0.50));
		cJSON_AddNumberToObject(l, "p90", pct(lat, a.iterations, 0.90));
		cJSON_AddNumberToObject(l, "p99", pct(lat, a.iterations, 0.99));
		cJSON_AddNumberToObject(l, "mean", mean);
		cJSON_AddNumberToObject(j, "arena_bytes", (double)rs.arena_bytes);
		cJSON_AddNumberToObject(j, "intermediate_bytes", (double)rs.intermediate_bytes);
		cJSON_AddBoolToObject(j, "planned", rs.planned);
		cJSON *g = cJSON_AddObjectToObject(j, "graph");
		cJSON_AddNumberToObject(g, "opset", ms.opset);
		cJSON_AddNumberToObject(g, "nodes_loaded", (double)ms.nodes_loaded);
		cJSON_AddNumberToObject(g, "nodes", (double)ms.nodes);
		cJSON_AddNumberToObject(g, "folded", (double)ms.folded);
		cJSON_AddNumberToObject(g, "fused", (double)ms.fused);
		cJSON_AddNumberToObject(g, "weight_bytes", (double)ms.weight_bytes);
		cJSON_AddNumberToObject(g, "reduced_nodes", (double)ms.reduced);
		if (n_acc) {
			cJSON *ac = cJSON_AddObjectToObject(j, "accuracy");
			cJSON_AddStringToObject(ac, "inputs", ms.calib_sets ? "calibration" : "random");
			cJSON_AddNumberToObject(ac, "sets", (double)(ms.calib_sets ? ms.calib_sets : 1));
			cJSON_AddBoolToObject(ac, "static_ranges", ms.static_ranges);
			cJSON *ao = cJSON_AddArrayToObject(ac, "outputs");
			for (size_t i = 0; i < n_acc; i++) {
				cJSON *e = cJSON_CreateObject();
				cJSON_AddStringToObject(e, "name", acc[i].output);
				cJSON_AddNumberToObject(e, "max_abs_err", acc[i].max_abs_err);
				cJSON_AddNumberToObject(e, "mse", acc[i].mse);
				cJSON_AddNumberToObject(e, "cosine", acc[i].cosine);
				cJSON_AddItemToArray(ao, e);
			}
		}
		if (a.profile) {
			cJSON *pn = cJSON_AddArrayToObject(j, "nodes");
			cJSON *po = cJSON_AddObjectToObject(j, "op_types");
			for (size_t i = 0; i < nn; i++) {
				double ms_node = nt[i].runs ? (double)nt[i].ns / 1e6 / (double)nt[i].runs : 0;
				cJSON *e = cJSON_CreateObject();
				cJSON_AddStringToObject(e, "name", nt[i].name);
				cJSON_AddStringToObject(e, "op_type", nt[i].op_type);
				cJSON_AddNumberToObject(e, "ms", ms_node);
				cJSON_AddItemToArray(pn, e);
				cJSON *t = cJSON_GetObjectItemCaseSensitive(po, nt[i].op_type);
				if (t)
					cJSON_SetNumberValue(t, t->valuedouble + ms_node);
				else
					cJSON_AddNumberToObject(po, nt[i].op_type, ms_node);
			}
		}
		char *txt = cJSON_Print(j);
		puts(txt);
		free(txt);
		cJSON_Delete(j);
	} else {
		printf("model %s: opset %d, %zu nodes (%zu loaded, %zu folded, %zu fused)\n", a.model,
		       ms.opset, ms.nodes, ms.nodes_loaded, ms.folded, ms.fused);
		printf("precision %s (%zu nodes reduced), %ld thread(s), %ld iterations\n",
		       hwrt_precision_name(a.precision), ms.reduced, a.threads, a.iterations);
		for (size_t i = 0; i < n_acc; i++)
			printf("accuracy of '%s' on %s: cosine %.6f, max abs error %.3g, MSE %.3g\n",
			       acc[i].output, ms.calib_sets ? "calibration inputs" : "random inputs",
			       acc[i].cosine, acc[i].max_abs_err, acc[i].mse);
		printf("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  mean %.3f\n",
		       pct(lat, a.iterations, 0.5), pct(lat, a.iterations, 0.9),
		       pct(lat, a.iterations, 0.99), mean);
		printf("arena %zu bytes for %zu bytes of intermediates%s\n", rs.arena_bytes,
		       rs.intermediate_bytes, rs.planned ? "" : " (partly dynamic)");
		if (a.profile)
			for (size_t i = 0; i < nn; i++)
				printf("  %-32s %-20s %10.3f ms\n", nt[i].name, nt[i].op_type,
				       nt[i].runs ? (double)nt[i].ns / 1e6 / (double)nt[i].runs : 0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	struct state st = { 0 };
	rc = run(&a, &st);
	hwrt_session_free(st.s);
	hwk_pool_destroy(st.pool);
	for (size_t i = 0; st.owned && i < st.ni; i++)
		free(st.owned[i]);
	free(st.inputs), free(st.owned), free(st.outputs), free(st.lat);
	hwrt_model_free(st.m);
	for (size_t i = 0; i < st.n_calib; i++)
		hwrt_tensor_free(st.calib_owned[i]);
	free(st.calib), free(st.calib_owned);
	return rc;
}
