/* hwoptctl models [NAME], load NAME PATH [OPTIONS], unload NAME */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

/* "[1,3,N,224]": open dims by their symbolic name, else "?". */
static void print_shape(FILE *f, const cJSON *io)
{
	const cJSON *shape = cJSON_GetObjectItemCaseSensitive(io, "shape");
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(io, "dim_names");
	const cJSON *d;
	int i = 0;
	if (!cJSON_IsArray(shape)) {
		fputs("[?]", f);
		return;
	}
	fputc('[', f);
	cJSON_ArrayForEach(d, shape) {
		if (i)
			fputc(',', f);
		if (cJSON_IsNumber(d) && d->valuedouble >= 0) {
			fprintf(f, "%.0f", d->valuedouble);
		} else {
			const cJSON *n = NULL;
			if (cJSON_IsArray(names)) {
				n = cJSON_GetArrayItem(names, i);
			} else if (cJSON_IsObject(names)) {
				char key[16];
				snprintf(key, sizeof(key), "%d", i);
				n = cJSON_GetObjectItemCaseSensitive(names, key);
			}
			fputs(cJSON_IsString(n) && *n->valuestring ? n->valuestring : "?", f);
		}
		i++;
	}
	fputc(']', f);
}

/* "x float [1,3]; mask bool [N]" into a malloc'ed string. */
static char *io_text(const cJSON *list)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	const cJSON *io;
	int i = 0;
	if (!f)
		return NULL;
	cJSON_ArrayForEach(io, list) {
		fprintf(f, "%s%s %s ", i++ ? "; " : "", ctl_str(io, "name", "?"),
			ctl_str(io, "dtype", "?"));
		print_shape(f, io);
	}
	fclose(f);
	return text;
}

static void model_row(struct ctl_table *t, const cJSON *m)
{
	const cJSON *mem = cJSON_GetObjectItemCaseSensitive(m, "memory_bytes");
	const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(m, "counters");
	char membuf[32], inst[48], req[24], ok[24], failed[24];
	char *inputs = io_text(cJSON_GetObjectItemCaseSensitive(m, "inputs"));
	double tpi = ctl_num(m, "threads_per_instance", 0);
	if (tpi > 0)
		snprintf(inst, sizeof(inst), "%.0fx%.0f", ctl_num(m, "instances", 1), tpi);
	else
		snprintf(inst, sizeof(inst), "%.0fxauto", ctl_num(m, "instances", 1));
	snprintf(req, sizeof(req), "%.0f", ctl_num(cnt, "requests", 0));
	snprintf(ok, sizeof(ok), "%.0f", ctl_num(cnt, "ok", 0));
	snprintf(failed, sizeof(failed), "%.0f", ctl_num(cnt, "failed", 0));
	ctl_table_row(t, ctl_str(m, "name", "?"), ctl_str(m, "state", "?"),
		      ctl_str(m, "precision", "?"), inputs ? inputs : "?",
		      ctl_bytes(ctl_num(mem, "total", 0), membuf, sizeof(membuf)), inst, req, ok,
		      failed);
	free(inputs);
}

static void print_models_table(const cJSON *models)
{
	struct ctl_table t;
	const cJSON *m;
	ctl_table_init(&t, "lllllrrrr", "NAME", "STATE", "PRECISION", "INPUTS", "MEMORY",
		       "INSTxTHR", "REQUESTS", "OK", "FAILED");
	cJSON_ArrayForEach(m, models)
		model_row(&t, m);
	ctl_table_print(&t);
}

/* Everything else about one model, below its table row. */
static void print_model_detail(const cJSON *m)
{
	const cJSON *mem = cJSON_GetObjectItemCaseSensitive(m, "memory_bytes");
	const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(m, "counters");
	const cJSON *acc = cJSON_GetObjectItemCaseSensitive(m, "accuracy");
	const int w = 10;
	char a[32], b[32], when[64];
	char *outputs = io_text(cJSON_GetObjectItemCaseSensitive(m, "outputs"));
	putchar('\n');
	ctl_kv(0, w, "path", "%s", ctl_str(m, "path", "?"));
	ctl_kv(0, w, "outputs", "%s", outputs ? outputs : "?");
	free(outputs);
	ctl_kv(0, w, "precision", "%s, %.0f nodes below fp32", ctl_str(m, "precision", "?"),
	       ctl_num(m, "reduced_nodes", 0));
	ctl_kv(0, w, "batching", "max_batch %.0f, delay %.0f us%s", ctl_num(m, "max_batch", 1),
	       ctl_num(m, "batch_delay_us", 0),
	       cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m, "batchable"))
		       ? ", not batchable"
		       : "");
	ctl_kv(0, w, "memory", "weights %s, arenas %s",
	       ctl_bytes(ctl_num(mem, "weights", 0), a, sizeof(a)),
	       ctl_bytes(ctl_num(mem, "arenas", 0), b, sizeof(b)));
	time_t at = (time_t)ctl_num(m, "loaded_at", 0);
	struct tm tm;
	localtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	ctl_kv(0, w, "loaded", "%s in %.0f ms", when, ctl_num(m, "load_ms", 0));
	const cJSON *it;
	cJSON_ArrayForEach(it, acc)
		ctl_kv(0, w, "accuracy", "%s: cosine %.6f, max_abs_err %.3g, mse %.3g",
		       ctl_str(it, "output", "?"), ctl_num(it, "cosine", 0),
		       ctl_num(it, "max_abs_err", 0), ctl_num(it, "mse", 0));
	ctl_kv(0, w, "jobs", "%.0f queued, %.0f running; %.0f cancelled, %.0f expired",
	       ctl_num(cnt, "queued", 0), ctl_num(cnt, "running", 0), ctl_num(cnt, "cancelled", 0),
	       ctl_num(cnt, "expired", 0));
	ctl_kv(0, w, "batches", "%.0f runs served %.0f batched requests", ctl_num(cnt, "batches", 0),
	       ctl_num(cnt, "batched_requests", 0));
	double done = ctl_num(cnt, "ok", 0) + ctl_num(cnt, "failed", 0);
	if (done > 0)
		ctl_kv(0, w, "time", "queue %.3f ms, compute %.3f ms on average",
		       ctl_num(cnt, "queue_us_total", 0) / done / 1000,
		       ctl_num(cnt, "compute_us_total", 0) / done / 1000);
}

static int models(struct ctl *ctl, int argc, char **argv)
{
	int rc = ctl_args_max(&ctl_cmd_models, argc, 2);
	if (rc)
		return rc;
	cJSON *params = NULL, *r;
	if (argc == 2) {
		params = cJSON_CreateObject();
		cJSON_AddStringToObject(params, "name", argv[1]);
	}
	if ((rc = ctl_call(ctl, "model.list", params, &r)))
		return rc;
	if (ctl->json) {
		ctl_print_json(r);
		cJSON_Delete(r);
		return CTL_EXIT_OK;
	}
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(r, "models");
	if (cJSON_GetArraySize(list) == 0 && argc == 2) {
		fprintf(stderr, "hwoptctl: model.list: no model named %s is loaded\n", argv[1]);
		rc = CTL_EXIT_RPC;
	} else if (cJSON_GetArraySize(list) == 0) {
		printf("no models loaded; load one with 'hwoptctl load NAME PATH'\n");
	} else {
		print_models_table(list);
		if (argc == 2)
			print_model_detail(cJSON_GetArrayItem(list, 0));
	}
	cJSON_Delete(r);
	return rc;
}

enum { OPT_PRECISION = 256, OPT_KEEP, OPT_INSTANCES, OPT_THREADS, OPT_MAX_BATCH, OPT_DELAY,
       OPT_COSINE, OPT_GRACE };

static int load(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "precision", required_argument, NULL, OPT_PRECISION },
		{ "keep-fp32", required_argument, NULL, OPT_KEEP },
		{ "instances", required_argument, NULL, OPT_INSTANCES },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "max-batch", required_argument, NULL, OPT_MAX_BATCH },
		{ "batch-delay-us", required_argument, NULL, OPT_DELAY },
		{ "min-cosine", required_argument, NULL, OPT_COSINE },
		{ NULL, 0, NULL, 0 },
	};
	const struct ctl_command *cmd = &ctl_cmd_load;
	cJSON *p = cJSON_CreateObject();
	cJSON *keep = cJSON_CreateArray();
	int c, rc = CTL_EXIT_OK;
	long long v;
	optind = 0; /* glibc: start over, on this argv */
	while (rc == CTL_EXIT_OK && (c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_PRECISION:
			cJSON_AddStringToObject(p, "precision", optarg);
			break;
		case OPT_KEEP:
			cJSON_AddItemToArray(keep, cJSON_CreateString(optarg));
			break;
		case OPT_INSTANCES:
		case OPT_THREADS:
		case OPT_MAX_BATCH:
		case OPT_DELAY: {
			static const char *const keys[] = { "instances", "threads_per_instance",
							     "max_batch", "batch_delay_us" };
			static const long long lo[] = { 1, 0, 1, 0 };
			static const long long hi[] = { 64, 4096, 65536, 1000000 };
			int k = c - OPT_INSTANCES;
			char opt[32];
			snprintf(opt, sizeof(opt), "--%s", opts[c - OPT_PRECISION].name);
			rc = ctl_parse_int(cmd->name, opt, optarg, lo[k], hi[k], &v);
			if (!rc)
				cJSON_AddNumberToObject(p, keys[k], (double)v);
			break;
		}
		case OPT_COSINE: {
			char *end;
			errno = 0;
			double cos = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(cos <= 1)) {
				fprintf(stderr, "hwoptctl: load: --min-cosine takes a number up to 1 "
						"(negative: never refuse), not '%s'\n", optarg);
				rc = CTL_EXIT_USAGE;
			} else {
				cJSON_AddNumberToObject(p, "min_cosine", cos);
			}
			break;
		}
		default:
			rc = ctl_bad_option(cmd, c, argc, argv);
			break;
		}
	}
	if (!rc && argc - optind != 2)
		rc = ctl_usage(cmd);
	char path[PATH_MAX];
	if (!rc && !realpath(argv[optind + 1], path)) {
		fprintf(stderr, "hwoptctl: load: %s: %s\n", argv[optind + 1], strerror(errno));
		rc = CTL_EXIT_USAGE;
	}
	if (rc) {
		cJSON_Delete(p);
		cJSON_Delete(keep);
		return rc;
	}
	cJSON_AddStringToObject(p, "name", argv[optind]);
	cJSON_AddStringToObject(p, "path", path);
	if (cJSON_GetArraySize(keep))
		cJSON_AddItemToObject(p, "keep_fp32", keep);
	else
		cJSON_Delete(keep);

	cJSON *r;
	if ((rc = ctl_call_timeout(ctl, "model.load", p, ctl_long_timeout(ctl, 600000), &r)))
		return rc;
	if (ctl->json) {
		ctl_print_json(r);
	} else {
		printf("loaded %s from %s in %.0f ms\n\n", ctl_str(r, "name", argv[optind]), path,
		       ctl_num(r, "load_ms", 0));
		cJSON *one = cJSON_CreateArray();
		cJSON_AddItemReferenceToArray(one, r);
		print_models_table(one);
		cJSON_Delete(one);
	}
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

static int unload(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "grace-ms", required_argument, NULL, OPT_GRACE },
		{ NULL, 0, NULL, 0 },
	};
	const struct ctl_command *cmd = &ctl_cmd_unload;
	long long grace = -1;
	int c, rc = CTL_EXIT_OK;
	optind = 0;
	while (rc == CTL_EXIT_OK && (c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == OPT_GRACE) {
			rc = ctl_parse_int(cmd->name, "--grace-ms", optarg, 0, 600000, &grace);
		} else {
			rc = ctl_bad_option(cmd, c, argc, argv);
		}
	}
	if (rc)
		return rc;
	if (argc - optind != 1)
		return ctl_usage(cmd);
	cJSON *p = cJSON_CreateObject(), *r;
	cJSON_AddStringToObject(p, "name", argv[optind]);
	if (grace >= 0)
		cJSON_AddNumberToObject(p, "grace_ms", (double)grace);
	int timeout = ctl_long_timeout(ctl, (int)(grace >= 0 ? grace : 5000) + 30000);
	if ((rc = ctl_call_timeout(ctl, "model.unload", p, timeout, &r)))
		return rc;
	if (ctl->json)
		ctl_print_json(r);
	else
		printf("unloaded %s: %.0f jobs finished during the grace, %.0f cancelled\n",
		       ctl_str(r, "name", argv[optind]), ctl_num(r, "finished", 0),
		       ctl_num(r, "cancelled", 0));
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_cmd_models = {
	"models", "[NAME]", "loaded models: state, inputs, memory, counters",
	"List the loaded models: name, state (loading, ready, unloading), precision,\n"
	"inputs (name, dtype, shape; an open dim shows its symbolic name), memory,\n"
	"instances x threads per instance, and requests served, ok and failed.\n"
	"With NAME, only that model, followed by its path, outputs, batching, load\n"
	"time, accuracy of a reduced precision, and job counters.",
	models,
};

const struct ctl_command ctl_cmd_load = {
	"load",
	"NAME PATH [--precision P] [--keep-fp32 PAT]... [--instances N] [--threads N] "
	"[--max-batch N] [--batch-delay-us N] [--min-cosine C]",
	"load an ONNX model and serve it as NAME",
	"Load the ONNX model at PATH (made absolute; the daemon must be able to read it)\n"
	"and serve it as NAME (1 to 64 of A-Z a-z 0-9 _ . -). The answer comes when the\n"
	"model is ready. Needs the submit class.\n"
	"\n"
	"  --precision P        fp32 (default), bf16, int8 or int4\n"
	"  --keep-fp32 PAT      node names or op types (globs) kept in fp32; repeatable\n"
	"  --instances N        sessions that may run at once (1..64, default 1)\n"
	"  --threads N          workers one job may use (0: workers / instances)\n"
	"  --max-batch N        rows of dim 0 a dynamic batch may stack (default 1: none)\n"
	"  --batch-delay-us N   how long a batchable request waits for others (default 500)\n"
	"  --min-cosine C       accuracy bound of a reduced precision (default 0.99;\n"
	"                       negative: never refuse)\n"
	"\n"
	"Waits up to 10 minutes unless --timeout is given.",
	load,
};

const struct ctl_command ctl_cmd_unload = {
	"unload", "NAME [--grace-ms N]", "stop serving a model",
	"Stop accepting requests for model NAME; queued and running jobs finish, and\n"
	"those still unfinished after --grace-ms (default 5000, up to 600000) are\n"
	"cancelled. Prints how many jobs finished and how many were cancelled.",
	unload,
};
