/* Golden metrics: each fixture machine's sources (all but perf and
 * schedlat, which read this machine's kernel) sampled twice, one second
 * apart, rendered as Prometheus text and compared byte for byte with
 * tests/fixtures/golden/NAME.prom. `make golden` (HWOPT_REGEN_GOLDEN=1)
 * rewrites the files after a deliberate change; review the diff. The text
 * must also pass `promtool check metrics` when promtool is installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/prom.h"
#include "daemon/telemetry/source.h"
#include "tm_fixture.h"

static const struct tm_source_ops *const fixture_sources[] = {
	&tm_procstat, &tm_cpufreq, &tm_thermal, &tm_hwmon, &tm_power, &tm_battery,
};
#define N_SRC (sizeof(fixture_sources) / sizeof(fixture_sources[0]))

static char *render(const char *fixture)
{
	struct tm_env env;
	tmfx_env(&env, fixture);
	struct tm_source src[N_SRC];
	cJSON *parts[N_SRC] = { 0 };
	for (size_t i = 0; i < N_SRC; i++) {
		char reason[256] = "";
		src[i] = (struct tm_source){ .ops = fixture_sources[i], .env = &env };
		if (src[i].ops->init(&src[i], reason, sizeof(reason)) < 0) {
			src[i].ops = NULL;
			continue;
		}
		for (int k = 1; k <= 2; k++) {
			cJSON_Delete(parts[i]);
			parts[i] = tmfx_sample(fixture_sources[i], &env, &src[i],
					       (uint64_t)k * 1000000000u);
		}
	}
	struct prom *p = prom_new();
	for (size_t i = 0; i < N_SRC; i++) {
		if (parts[i] && cJSON_IsTrue(cJSON_GetObjectItem(parts[i], "available")))
			fixture_sources[i]->metrics(parts[i], p);
		cJSON_Delete(parts[i]);
		if (src[i].ops && src[i].ops->fini)
			src[i].ops->fini(&src[i]);
	}
	assert_int_equal(prom_n_dropped(p), 0);
	char *text = prom_render(p, NULL);
	prom_free(p);
	return text;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	size_t got = fread(buf, 1, (size_t)n, f);
	buf[got] = '\0';
	fclose(f);
	return buf;
}

static void promtool_check(const char *text)
{
	if (system("command -v promtool >/dev/null 2>&1") != 0)
		return;
	FILE *pt = popen("promtool check metrics >/tmp/hwopt-promtool.out 2>&1", "w");
	assert_non_null(pt);
	fputs(text, pt);
	int st = pclose(pt);
	if (st != 0) {
		char *out = slurp("/tmp/hwopt-promtool.out");
		fprintf(stderr, "promtool check metrics:\n%s\n", out ? out : "");
		free(out);
	}
	assert_int_equal(st, 0);
}

static void golden(const char *fixture)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/tests/fixtures/golden/%s.prom", SRCDIR, fixture);
	char *text = render(fixture);
	assert_non_null(text);
	assert_non_null(strstr(text, "# TYPE hwopt_"));
	promtool_check(text);
	const char *regen = getenv("HWOPT_REGEN_GOLDEN");
	if (regen && *regen && strcmp(regen, "0") != 0) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
		printf("rewrote %s\n", path);
	}
	char *want = slurp(path);
	if (!want || strcmp(want, text) != 0) {
		char got[4200];
		snprintf(got, sizeof(got), "/tmp/hwopt-golden-%s.prom", fixture);
		FILE *f = fopen(got, "w");
		if (f) {
			fputs(text, f);
			fclose(f);
		}
		fail_msg("%s differs from the golden file (rendered into %s; diff them, and run "
			 "`make golden` if the change is deliberate)", path, got);
	}
	free(want);
	free(text);
}

static void laptop(void **state) { golden("laptop"); }
static void arm_server(void **state) { golden("arm-server"); }
static void hybrid(void **state) { golden("hybrid"); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(laptop),
		cmocka_unit_test(arm_server),
		cmocka_unit_test(hybrid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
