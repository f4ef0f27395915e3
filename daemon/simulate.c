#include "simulate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policies/engine.h"

/* A trace line holds one snapshot: some tens of KiB on a big machine. */
#define MAX_LINE (64u << 20)

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int simulate_run(const char *trace_path, const struct pol_config *c, FILE *out, FILE *diag)
{
	FILE *f = strcmp(trace_path, "-") == 0 ? stdin : fopen(trace_path, "re");
	if (!f) {
		fprintf(diag, "hwoptd: cannot open %s: %s\n", trace_path, strerror(errno));
		return 1;
	}
	struct pol_engine *e = pol_engine_new();
	struct pol_inputs *in = malloc(sizeof(*in));
	size_t cap_t = 1024, n_t = 0;
	double *tick_s = malloc(cap_t * sizeof(*tick_s));
	if (!e || !in || !tick_s) {
		fprintf(diag, "hwoptd: out of memory\n");
		pol_engine_free(e);
		free(in);
		free(tick_s);
		if (f != stdin)
			fclose(f);
		return 1;
	}
	char *line = NULL;
	size_t len = 0, lineno = 0, bad = 0, decisions = 0;
	ssize_t got;
	while ((got = getline(&line, &len, f)) != -1) {
		lineno++;
		if (got <= 1)
			continue;
		char err[128];
		if ((size_t)got > MAX_LINE) {
			fprintf(diag, "%s:%zu: line longer than %u bytes, skipped\n", trace_path, lineno,
				MAX_LINE);
			bad++;
			continue;
		}
		double t0 = mono();
		cJSON *snap = cJSON_ParseWithLength(line, (size_t)got);
		if (!snap) {
			fprintf(diag, "%s:%zu: not JSON, skipped\n", trace_path, lineno);
			bad++;
			continue;
		}
		int rc = pol_inputs_parse(snap, in, err, sizeof(err));
		cJSON_Delete(snap);
		if (rc < 0) {
			fprintf(diag, "%s:%zu: %s, skipped\n", trace_path, lineno, err);
			bad++;
			continue;
		}
		struct pol_action *acts;
		size_t n = pol_engine_tick(e, c, in, NULL, &acts);
		double dt = mono() - t0;
		if (n_t == cap_t) {
			double *bigger = realloc(tick_s, 2 * cap_t * sizeof(*tick_s));
			if (bigger) {
				tick_s = bigger;
				cap_t *= 2;
			}
		}
		if (n_t < cap_t)
			tick_s[n_t++] = dt;
		for (size_t i = 0; i < n; i++) {
			cJSON *o = pol_action_json(&acts[i], in->time, in->seq);
			char *s = o ? cJSON_PrintUnformatted(o) : NULL;
			if (s) {
				fprintf(out, "%s\n", s);
				decisions++;
			}
			free(s);
			cJSON_Delete(o);
		}
	}
	int status = 0;
	if (ferror(f)) {
		fprintf(diag, "hwoptd: reading %s: %s\n", trace_path, strerror(errno));
		status = 1;
	}
	uint64_t ticks = pol_engine_ticks(e);
	if (!ticks && !status) {
		fprintf(diag, "hwoptd: %s holds no telemetry snapshot\n", trace_path);
		status = 1;
	}
	if (n_t) {
		qsort(tick_s, n_t, sizeof(*tick_s), cmp_double);
		fprintf(diag,
			"simulate: %llu snapshots, %zu decisions, %zu lines skipped; decision latency per "
			"tick (parse and decide) median %.1f us, p99 %.1f us\n",
			(unsigned long long)ticks, decisions, bad, tick_s[n_t / 2] * 1e6,
			tick_s[(size_t)((double)(n_t - 1) * 0.99)] * 1e6);
	}
	free(line);
	free(tick_s);
	free(in);
	pol_engine_free(e);
	if (f != stdin)
		fclose(f);
	return status;
}
