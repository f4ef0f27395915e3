/* hwoptctl infer MODEL --input NAME=FILE... [--output-dir DIR] [--priority P]
 * [--deadline-ms N] [--pool]
 *
 * Inputs are read with libhwrt's tensor reader (.npy, or an ONNX TensorProto
 * .pb) and sent inline as base64, or with --pool through a shared-memory
 * pool the command creates for the call: inputs are copied into blocks of
 * it, and outputs whose shape model.list gives in full get blocks too. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
#include "runtime/hwrt.h"

_Static_assert(HWOPT_TENSOR_MAX_RANK <= HWRT_MAX_RANK, "decoded tensors must fit hwrt_tensor");

#define MAX_IO 256
#define SHOW_VALUES 8

struct input {
	char *name; /* malloc'ed */
	const char *path;
	struct hwrt_tensor *t;
};

/* An output given a block of the pool. */
struct out_block {
	const char *name; /* in the model.list answer */
	uint64_t offset;
	size_t bytes;
};

struct infer {
	const char *model, *output_dir, *priority;
	int deadline_ms;
	bool use_pool;
	struct input in[MAX_IO];
	int n_in;
	struct out_block out[MAX_IO];
	int n_out;
	struct hwopt_pool pool;
	cJSON *models; /* model.list answer, for --pool */
};

static const enum hwrt_dtype dtypes[] = {
	HWRT_FLOAT, HWRT_UINT8, HWRT_INT8, HWRT_UINT16, HWRT_INT16, HWRT_INT32, HWRT_INT64,
	HWRT_BOOL, HWRT_FLOAT16, HWRT_DOUBLE, HWRT_UINT32, HWRT_UINT64, HWRT_BFLOAT16,
};

static enum hwrt_dtype dtype_of(const char *name)
{
	for (size_t i = 0; i < sizeof(dtypes) / sizeof(dtypes[0]); i++)
		if (strcmp(hwrt_dtype_name(dtypes[i]), name) == 0)
			return dtypes[i];
	return HWRT_UNDEFINED;
}

static size_t round64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

/* ---- arguments ----------------------------------------------------------------- */

/* NAME=FILE, or FILE.pb whose TensorProto names the input. */
static int add_input(struct infer *inf, const char *arg)
{
	if (inf->n_in == MAX_IO) {
		fprintf(stderr, "hwoptctl: infer: more than %d inputs\n", MAX_IO);
		return CTL_EXIT_USAGE;
	}
	struct input *in = &inf->in[inf->n_in];
	const char *eq = strchr(arg, '=');
	char err[256], *pbname = NULL;
	in->path = eq ? eq + 1 : arg;
	in->t = hwrt_tensor_read(in->path, &pbname, err, sizeof(err));
	if (!in->t) {
		fprintf(stderr, "hwoptctl: infer: %s\n", err); /* it names the file */
		return CTL_EXIT_USAGE;
	}
	if (eq) {
		in->name = strndup(arg, (size_t)(eq - arg));
		free(pbname);
	} else {
		in->name = pbname;
	}
	inf->n_in++; /* freed with the others from here on */
	if (!in->name || !*in->name) {
		fprintf(stderr, "hwoptctl: infer: --input %s: name the input (NAME=FILE)%s\n", arg,
			eq ? "" : "; only a TensorProto .pb file carries a name");
		return CTL_EXIT_USAGE;
	}
	for (int i = 0; i < inf->n_in - 1; i++)
		if (strcmp(inf->in[i].name, in->name) == 0) {
			fprintf(stderr, "hwoptctl: infer: input %s given twice\n", in->name);
			return CTL_EXIT_USAGE;
		}
	if (hwopt_tensor_dtype_size(hwrt_dtype_name(in->t->dtype)) == 0) {
		fprintf(stderr, "hwoptctl: infer: %s: dtype %s cannot travel in the protocol\n",
			in->path, hwrt_dtype_name(in->t->dtype));
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

static int parse_args(struct infer *inf, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "output-dir", required_argument, NULL, 'o' },
		{ "priority", required_argument, NULL, 'p' },
		{ "deadline-ms", required_argument, NULL, 'd' },
		{ "pool", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const struct ctl_command *cmd = &ctl_cmd_infer;
	int c, rc = CTL_EXIT_OK;
	long long v;
	optind = 0;
	while (rc == CTL_EXIT_OK && (c = getopt_long(argc, argv, ":i:o:p:d:P", opts, NULL)) != -1) {
		switch (c) {
		case 'i': rc = add_input(inf, optarg); break;
		case 'o': inf->output_dir = optarg; break;
		case 'p': inf->priority = optarg; break;
		case 'P': inf->use_pool = true; break;
		case 'd':
			rc = ctl_parse_int(cmd->name, "--deadline-ms", optarg, 1, INT_MAX, &v);
			inf->deadline_ms = (int)v;
			break;
		default: rc = ctl_bad_option(cmd, c, argc, argv); break;
		}
	}
	if (rc)
		return rc;
	if (argc - optind != 1 || inf->n_in == 0)
		return ctl_usage(cmd);
	inf->model = argv[optind];
	if (inf->output_dir && mkdir(inf->output_dir, 0777) < 0 && errno != EEXIST) {
		fprintf(stderr, "hwoptctl: infer: --output-dir %s: %s\n", inf->output_dir,
			strerror(errno));
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

/* ---- the request ------------------------------------------------------------------ */

static cJSON *inline_input(const struct input *in)
{
	return hwopt_tensor_b64(hwrt_dtype_name(in->t->dtype), in->t->dims, in->t->rank,
				in->t->data, hwrt_tensor_bytes(in->t));
}

/* Outputs whose dtype and shape model.list gives in full: their sizes. */
static int plan_outputs(struct ctl *ctl, struct infer *inf)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "name", inf->model);
	int rc = ctl_call(ctl, "model.list", p, &inf->models);
	if (rc)
		return rc;
	const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(inf->models, "models"), 0);
	const cJSON *o, *d;
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(m, "outputs")) {
		const char *name = ctl_str(o, "name", NULL);
		uint64_t bytes = hwopt_tensor_dtype_size(ctl_str(o, "dtype", ""));
		const cJSON *shape = cJSON_GetObjectItemCaseSensitive(o, "shape");
		bool known = name && bytes && cJSON_IsArray(shape) && inf->n_out < MAX_IO;
		cJSON_ArrayForEach(d, shape) {
			if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > (double)(1ull << 53) ||
			    __builtin_mul_overflow(bytes, (uint64_t)d->valuedouble, &bytes))
				known = false;
		}
		if (known && bytes > 0 && bytes < SIZE_MAX / 2)
			inf->out[inf->n_out++] = (struct out_block){ name, 0, (size_t)bytes };
	}
	return CTL_EXIT_OK;
}

/* Creates the pool, allocates blocks, copies the inputs in; *inputs and
 * *outputs are the request's members. */
static int fill_pool(struct ctl *ctl, struct infer *inf, cJSON *inputs, cJSON *outputs)
{
	size_t total = 0;
	uint64_t offs[MAX_IO];
	cJSON *err = NULL;
	enum hwopt_call_status st;
	for (int i = 0; i < inf->n_in; i++)
		total += round64(hwrt_tensor_bytes(inf->in[i].t));
	for (int i = 0; i < inf->n_out; i++)
		total += round64(inf->out[i].bytes);
	if (total == 0)
		total = 64;
	st = hwopt_pool_create(ctl->client, total, NULL, -1, &inf->pool, &err);
	if (st != HWOPT_CALL_OK)
		return ctl_report(ctl, "pool.create", st, err, hwopt_client_timeout(ctl->client));
	for (int i = 0; i < inf->n_in; i++) {
		const struct input *in = &inf->in[i];
		size_t bytes = hwrt_tensor_bytes(in->t);
		cJSON *t;
		if (bytes == 0) { /* no block for an empty tensor */
			t = inline_input(in);
		} else {
			st = hwopt_pool_alloc(ctl->client, &inf->pool, bytes, &offs[i], &err);
			if (st != HWOPT_CALL_OK)
				return ctl_report(ctl, "pool.alloc", st, err,
						  hwopt_client_timeout(ctl->client));
			memcpy((char *)inf->pool.base + offs[i], in->t->data, bytes);
			t = hwopt_tensor_pool(inf->pool.id, offs[i], hwrt_dtype_name(in->t->dtype),
					      in->t->dims, in->t->rank);
		}
		cJSON_AddItemToObject(inputs, in->name, t);
	}
	for (int i = 0; i < inf->n_out; i++) {
		struct out_block *o = &inf->out[i];
		st = hwopt_pool_alloc(ctl->client, &inf->pool, o->bytes, &o->offset, &err);
		if (st != HWOPT_CALL_OK)
			return ctl_report(ctl, "pool.alloc", st, err, hwopt_client_timeout(ctl->client));
		cJSON *ref = cJSON_AddObjectToObject(outputs, o->name);
		cJSON_AddNumberToObject(ref, "pool", (double)inf->pool.id);
		cJSON_AddNumberToObject(ref, "offset", (double)o->offset);
		cJSON_AddNumberToObject(ref, "bytes", (double)o->bytes);
	}
	return CTL_EXIT_OK;
}

/* ---- the answer ------------------------------------------------------------------- */

static float half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, x;
	if (exp == 0x1f) {
		x = sign | 0x7f800000 | (man << 13);
	} else if (exp) {
		x = sign | ((exp + 112) << 23) | (man << 13);
	} else if (man) { /* subnormal: normalize */
		int e = -1;
		do {
			e++;
			man <<= 1;
		} while (!(man & 0x400));
		x = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
	} else {
		x = sign;
	}
	float f;
	memcpy(&f, &x, sizeof(f));
	return f;
}

static void print_value(enum hwrt_dtype t, const unsigned char *p)
{
	union {
		float f;
		double d;
		int8_t i8;
		int16_t i16;
		int32_t i32;
		int64_t i64;
		uint8_t u8;
		uint16_t u16;
		uint32_t u32;
		uint64_t u64;
	} v;
	memcpy(&v, p, hwrt_dtype_size(t));
	switch (t) {
	case HWRT_FLOAT: printf("%.6g", v.f); break;
	case HWRT_DOUBLE: printf("%.10g", v.d); break;
	case HWRT_FLOAT16: printf("%.5g", half_to_float(v.u16)); break;
	case HWRT_BFLOAT16: {
		uint32_t x = (uint32_t)v.u16 << 16;
		float f;
		memcpy(&f, &x, sizeof(f));
		printf("%.4g", f);
		break;
	}
	case HWRT_BOOL: fputs(v.u8 ? "true" : "false", stdout); break;
	case HWRT_INT8: printf("%d", v.i8); break;
	case HWRT_INT16: printf("%d", v.i16); break;
	case HWRT_INT32: printf("%d", v.i32); break;
	case HWRT_INT64: printf("%lld", (long long)v.i64); break;
	case HWRT_UINT8: printf("%u", v.u8); break;
	case HWRT_UINT16: printf("%u", v.u16); break;
	case HWRT_UINT32: printf("%u", v.u32); break;
	case HWRT_UINT64: printf("%llu", (unsigned long long)v.u64); break;
	default: fputs("?", stdout); break;
	}
}

static void print_output(const char *name, const struct hwrt_tensor *t, bool in_pool)
{
	int64_t count = hwrt_tensor_count(t);
	printf("  %s  %s [", name, hwrt_dtype_name(t->dtype));
	for (int i = 0; i < t->rank; i++)
		printf(i ? ",%lld" : "%lld", (long long)t->dims[i]);
	printf("]%s  ", in_pool ? " (pool)" : "");
	for (int64_t i = 0; i < count && i < SHOW_VALUES; i++) {
		if (i)
			fputs(", ", stdout);
		print_value(t->dtype, (const unsigned char *)t->data + i * (int64_t)hwrt_dtype_size(t->dtype));
	}
	if (count == 0)
		fputs("(empty)", stdout);
	if (count > SHOW_VALUES)
		printf(", ... (%lld values)", (long long)count);
	putchar('\n');
}

/* A file name from an output name: A-Z a-z 0-9 . _ - kept, the rest '_',
 * no leading dot, made unique among the names already written. */
static void file_name(const char *name, char used[][96], int n_used, char *out, size_t len)
{
	char base[96];
	size_t j = 0;
	for (const char *p = name; *p && j < sizeof(base) - 8; p++) {
		char ch = *p;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || (ch == '.' && j > 0);
		base[j++] = ok ? ch : '_';
	}
	base[j] = '\0';
	if (j == 0)
		snprintf(base, sizeof(base), "output");
	snprintf(out, len, "%s", base);
	for (int k = 2;; k++) {
		bool taken = false;
		for (int i = 0; i < n_used; i++)
			taken |= strcmp(used[i], out) == 0;
		if (!taken)
			break;
		snprintf(out, len, "%.80s_%d", base, k);
	}
}

static int show_result(struct ctl *ctl, struct infer *inf, const cJSON *r)
{
	static char used[MAX_IO][96];
	int n_used = 0, rc = CTL_EXIT_OK;
	const cJSON *outs = cJSON_GetObjectItemCaseSensitive(r, "outputs"), *o;
	if (ctl->json)
		ctl_print_json(r);
	else
		printf("model %s, job %.0f\noutputs:\n", ctl_str(r, "model", inf->model),
		       ctl_num(r, "job", 0));
	cJSON_ArrayForEach(o, outs) {
		char dtype[16];
		struct hwrt_tensor t = { 0 };
		void *data = NULL;
		size_t bytes;
		bool in_pool = false;
		int e = hwopt_tensor_decode(o, dtype, t.dims, &t.rank, &data, &bytes);
		t.dtype = dtype_of(dtype);
		if (e == -ENODATA) { /* in our pool */
			const cJSON *pool = cJSON_GetObjectItemCaseSensitive(o, "pool");
			double off = ctl_num(o, "offset", -1);
			if (inf->pool.base && cJSON_IsNumber(pool) &&
			    pool->valuedouble == (double)inf->pool.id && off >= 0 &&
			    off <= (double)inf->pool.bytes && bytes <= inf->pool.bytes - (size_t)off) {
				t.data = (char *)inf->pool.base + (size_t)off;
				in_pool = true;
				e = 0;
			} else {
				e = -ERANGE;
			}
		} else {
			t.data = data;
		}
		if (e < 0 || t.dtype == HWRT_UNDEFINED) {
			fprintf(stderr, "hwoptctl: infer: output %s: %s\n", o->string ? o->string : "?",
				e == -ERANGE ? "refers to memory outside this command's pool"
					     : strerror(-e));
			rc = CTL_EXIT_CONNECT;
			free(data);
			continue;
		}
		if (!ctl->json)
			print_output(o->string, &t, in_pool);
		if (inf->output_dir && n_used < MAX_IO) {
			char fname[96], path[PATH_MAX], err[256];
			file_name(o->string, used, n_used, fname, sizeof(fname));
			snprintf(used[n_used++], sizeof(used[0]), "%s", fname);
			snprintf(path, sizeof(path), "%s/%s.npy", inf->output_dir, fname);
			if (hwrt_tensor_write_npy(path, &t, err, sizeof(err)) < 0) {
				fprintf(stderr, "hwoptctl: infer: %s: %s\n", path, err);
				rc = CTL_EXIT_USAGE;
			} else if (!ctl->json) {
				printf("    wrote %s\n", path);
			}
		}
		free(data);
	}
	if (!ctl->json) {
		const cJSON *tm = cJSON_GetObjectItemCaseSensitive(r, "timings");
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(r, "batch"), *w;
		printf("timings: queue %.0f us, compute %.0f us, total %.0f us\n",
		       ctl_num(tm, "queue_us", 0), ctl_num(tm, "compute_us", 0),
		       ctl_num(tm, "total_us", 0));
		printf("workers:");
		cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(r, "workers"))
			printf(" %.0f", w->valuedouble);
		printf("\nbatch:   %.0f request(s), %.0f row(s)\n", ctl_num(b, "requests", 1),
		       ctl_num(b, "rows", 0));
	}
	return rc;
}

static int run(struct ctl *ctl, int argc, char **argv)
{
	struct infer inf = { .pool = { .id = -1, .fd = -1 } };
	cJSON *inputs = NULL, *outputs = NULL, *r = NULL, *err = NULL;
	int rc = parse_args(&inf, argc, argv);
	if (rc || (rc = ctl_connect(ctl)))
		goto out;
	inputs = cJSON_CreateObject();
	if (inf.use_pool) {
		outputs = cJSON_CreateObject();
		if ((rc = plan_outputs(ctl, &inf)) || (rc = fill_pool(ctl, &inf, inputs, outputs)))
			goto out;
		if (cJSON_GetArraySize(outputs) == 0) {
			cJSON_Delete(outputs);
			outputs = NULL;
		}
	} else {
		for (int i = 0; i < inf.n_in; i++) {
			cJSON *t = inline_input(&inf.in[i]);
			if (!t) {
				fprintf(stderr, "hwoptctl: infer: input %s: %s\n", inf.in[i].name,
					strerror(errno));
				rc = CTL_EXIT_USAGE;
				goto out;
			}
			cJSON_AddItemToObject(inputs, inf.in[i].name, t);
		}
	}
	int timeout = ctl_long_timeout(ctl, 300000);
	enum hwopt_call_status st = hwopt_client_infer(ctl->client, inf.model, inputs, outputs,
						       inf.priority, inf.deadline_ms, timeout, &r,
						       &err);
	inputs = outputs = NULL; /* consumed */
	if (st != HWOPT_CALL_OK)
		rc = ctl_report(ctl, "infer", st, err, timeout);
	else
		rc = show_result(ctl, &inf, r);
out:
	if (inf.pool.id >= 0) {
		cJSON *e2 = NULL;
		hwopt_pool_destroy(ctl->client, &inf.pool, &e2);
		cJSON_Delete(e2);
	}
	hwopt_pool_unmap(&inf.pool);
	cJSON_Delete(inputs);
	cJSON_Delete(outputs);
	cJSON_Delete(r);
	cJSON_Delete(inf.models);
	for (int i = 0; i < inf.n_in; i++) {
		free(inf.in[i].name);
		hwrt_tensor_free(inf.in[i].t);
	}
	return rc;
}

const struct ctl_command ctl_cmd_infer = {
	"infer",
	"MODEL --input NAME=FILE... [--output-dir DIR] [--priority P] [--deadline-ms N] [--pool]",
	"run a model once on tensors from files",
	"Run model MODEL once. Each --input NAME=FILE reads a tensor from a .npy file or\n"
	"an ONNX TensorProto (.pb; --input FILE.pb takes the name the file carries).\n"
	"Prints each output's name, dtype, shape and first values, then the job's\n"
	"timings, the CPUs of its workers and its batch.\n"
	"\n"
	"  --output-dir DIR   also write each output to DIR/NAME.npy (NAME with\n"
	"                     characters other than A-Z a-z 0-9 . _ - made '_')\n"
	"  --priority P       interactive, normal (default) or batch\n"
	"  --deadline-ms N    refuse to start the job after N ms (error -32004)\n"
	"  --pool             pass the tensors through a shared-memory pool made for the\n"
	"                     call instead of inline base64: inputs are copied into it,\n"
	"                     and outputs whose shape the model fixes are written there\n"
	"\n"
	"Needs the submit class. Waits up to 5 minutes unless --timeout is given.",
	run,
};
