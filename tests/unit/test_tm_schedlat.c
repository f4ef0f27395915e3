/* schedlat: run-queue latency through eBPF. As root the programs really
 * attach: two "worker" threads sleep briefly and spin while four spinners
 * keep the CPUs busy, so workers wait in the run queue and get preempted.
 * Without privilege, under lockdown, or in a build without eBPF
 * (HWOPT_NO_BPF) init fails with a reason. metrics() is checked against a
 * part built here, so it runs in either build. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "daemon/prom.h"
#include "daemon/telemetry/source.h"
#include "tm_fixture.h"

/* --- helpers -------------------------------------------------------------- */

static void host_env(struct tm_env *env)
{
	memset(env, 0, sizeof(*env));
	snprintf(env->sysfs_root, sizeof(env->sysfs_root), "/sys");
	snprintf(env->procfs_root, sizeof(env->procfs_root), "/proc");
}

static char *render(const cJSON *part)
{
	struct prom *p = prom_new();
	assert_non_null(p);
	tm_schedlat.metrics(part, p);
	char *text = prom_render(p, NULL);
	prom_free(p);
	assert_non_null(text);
	return text;
}

/* A part as sample fills it: buckets 1, 2, 4 us. */
static cJSON *made_part(void)
{
	const char *json =
		"{\"attach\":\"tp_btf\",\"available\":true,"
		"\"system\":{\"buckets_le_us\":[1,2,4],\"counts\":[3,2,1],\"count\":7,"
		"\"sum_seconds\":0.00005},"
		"\"workers\":{\"buckets_le_us\":[1,2,4],\"counts\":[1,0,0],\"count\":1,"
		"\"sum_seconds\":0.000001},"
		"\"per_worker\":[{\"worker\":0,\"tid\":100,\"involuntary_switches\":5,"
		"\"migrations\":2,\"count\":1,\"sum_seconds\":0.000001}]}";
	cJSON *part = cJSON_Parse(json);
	assert_non_null(part);
	return part;
}

static void test_metrics_render(void **state)
{
	cJSON *part = made_part();
	char *text = render(part);

	assert_non_null(strstr(text, "# TYPE hwopt_runqueue_latency_seconds histogram"));
	assert_non_null(strstr(text, "hwopt_runqueue_latency_seconds_bucket{scope=\"system\","
				     "le=\"1e-06\"} 3"));
	/* cumulative: 3 + 2 */
	assert_non_null(strstr(text, "hwopt_runqueue_latency_seconds_bucket{scope=\"system\","
				     "le=\"2e-06\"} 5"));
	assert_non_null(strstr(text, "hwopt_runqueue_latency_seconds_bucket{scope=\"system\","
				     "le=\"+Inf\"} 7"));
	assert_non_null(strstr(text, "hwopt_runqueue_latency_seconds_sum{scope=\"system\"}"));
	assert_non_null(strstr(text, "hwopt_runqueue_latency_seconds_count{scope=\"system\"} 7"));
	assert_non_null(strstr(text, "hwopt_runqueue_latency_seconds_count{scope=\"workers\"} 1"));
	assert_non_null(strstr(text, "hwopt_worker_involuntary_switches_total{worker=\"0\"} 5"));
	assert_non_null(strstr(text, "hwopt_worker_migrations_total{worker=\"0\"} 2"));
	assert_non_null(strstr(text, "hwopt_schedlat_attach_info{mode=\"tp_btf\"} 1"));
	free(text);
	cJSON_Delete(part);
}

/* Garbage in a part: that histogram is left out, the rest renders. */
static void test_metrics_garbage(void **state)
{
	cJSON *part = made_part();
	cJSON *sys = cJSON_GetObjectItem(part, "system");
	cJSON_ReplaceItemInObject(sys, "counts", cJSON_CreateString("many"));
	cJSON *wk = cJSON_GetObjectItem(part, "workers");
	cJSON_ReplaceItemInObject(wk, "count", cJSON_CreateNumber(-1));
	char *text = render(part);

	assert_null(strstr(text, "scope=\"system\""));
	assert_null(strstr(text, "scope=\"workers\""));
	assert_non_null(strstr(text, "hwopt_worker_migrations_total{worker=\"0\"} 2"));
	free(text);
	cJSON_Delete(part);

	text = render(NULL);
	assert_null(strstr(text, "_bucket"));
	free(text);
}

#ifdef HWOPT_NO_BPF

static void test_built_without_bpf(void **state)
{
	struct tm_env env;
	struct tm_source s = { .ops = &tm_schedlat, .env = &env };
	char reason[256] = "";

	host_env(&env);
	assert_int_equal(tm_schedlat.init(&s, reason, sizeof(reason)), -ENOTSUP);
	assert_non_null(strstr(reason, "built without eBPF: "));
	assert_null(s.priv);
	tm_schedlat.fini(&s);
}

#else

/* --- load ----------------------------------------------------------------- */

static atomic_bool stop;

struct worker {
	pthread_t th;
	atomic_int tid;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void spin_for(uint64_t ns)
{
	uint64_t end = mono_ns() + ns;
	while (mono_ns() < end && !atomic_load(&stop))
		;
}

static void *spinner(void *arg)
{
	while (!atomic_load(&stop))
		spin_for(1000000);
	return NULL;
}

/* Sleeps briefly (a wakeup each time) and spins (preempted by spinners). */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct timespec nap = { 0, 200000 };

	atomic_store(&w->tid, (int)syscall(SYS_gettid));
	/* Each burst outlasts a CFS slice (a few ms with six threads on two
	 * CPUs), so the spinners preempt it: involuntary switches are sure. */
	while (!atomic_load(&stop)) {
		nanosleep(&nap, NULL);
		spin_for(20000000);
	}
	return NULL;
}

struct load {
	pthread_t spinners[4];
	struct worker workers[2];
};

static void load_start(struct load *l, struct tm_env *env)
{
	atomic_store(&stop, false);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&l->spinners[i], NULL, spinner, NULL), 0);
	for (int i = 0; i < 2; i++) {
		atomic_store(&l->workers[i].tid, 0);
		assert_int_equal(pthread_create(&l->workers[i].th, NULL, worker_main, &l->workers[i]),
				 0);
	}
	for (int i = 0; i < 2; i++) {
		while (!atomic_load(&l->workers[i].tid))
			sched_yield();
		env->worker_tids[i] = atomic_load(&l->workers[i].tid);
		env->worker_cpus[i] = -1;
	}
	env->n_workers = 2;
}

static void load_stop(struct load *l)
{
	atomic_store(&stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(l->spinners[i], NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(l->workers[i].th, NULL);
}

static void nap_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static double jnum(const cJSON *o, const char *path1, const char *key)
{
	const cJSON *h = path1 ? cJSON_GetObjectItemCaseSensitive(o, path1) : o;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, key);
	if (!cJSON_IsNumber(v))
		fail_msg("%s.%s is not a number", path1 ? path1 : "", key);
	return v->valuedouble;
}

#define assert_ok(rc, reason)                                                       \
	do {                                                                        \
		int rc_ = (rc);                                                     \
		if (rc_ != 0)                                                       \
			fail_msg("init: %d %s", rc_, reason);                       \
	} while (0)

static bool root(void)
{
	if (geteuid() == 0)
		return true;
	print_message("not root: eBPF load tests skipped\n");
	return false;
}

/* --- tests ---------------------------------------------------------------- */

static void test_live(void **state)
{
	struct tm_env env;
	struct tm_source s = { .ops = &tm_schedlat };
	struct load l;
	char reason[512] = "";

	if (!root())
		skip();
	host_env(&env);
	s.env = &env;
	load_start(&l, &env);
	int rc = tm_schedlat.init(&s, reason, sizeof(reason));
	if (rc)
		load_stop(&l);
	assert_ok(rc, reason);
	nap_ms(300);
	cJSON *a = tmfx_sample(&tm_schedlat, &env, &s, mono_ns());
	nap_ms(200);
	cJSON *b = tmfx_sample(&tm_schedlat, &env, &s, mono_ns());
	load_stop(&l);

	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(b, "available")));
	assert_string_equal(cJSON_GetObjectItem(b, "attach")->valuestring, "tp_btf");
	double c1 = jnum(a, "system", "count"), c2 = jnum(b, "system", "count");
	assert_true(c1 > 0);
	assert_true(c2 > c1);
	assert_true(jnum(b, "system", "sum_seconds") > 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "system"),
								   "buckets_le_us")),
			 26);
	/* the interval's percentiles: p50 <= p99, both bucket bounds */
	double p50 = jnum(b, "system", "p50_seconds"), p99 = jnum(b, "system", "p99_seconds");
	assert_true(p50 > 0 && p50 <= p99);
	assert_true(jnum(b, "system", "interval_count") == c2 - c1);
	assert_true(jnum(b, "workers", "count") > 0);

	const cJSON *per = cJSON_GetObjectItem(b, "per_worker"), *w;
	double inv = 0, wcount = 0;
	assert_int_equal(cJSON_GetArraySize(per), 2);
	cJSON_ArrayForEach(w, per) {
		int i = (int)jnum(w, NULL, "worker");
		assert_true(i == 0 || i == 1);
		assert_int_equal((int)jnum(w, NULL, "tid"), env.worker_tids[i]);
		inv += jnum(w, NULL, "involuntary_switches");
		wcount += jnum(w, NULL, "count");
		assert_true(jnum(w, NULL, "migrations") >= 0);
	}
	assert_true(inv > 0);
	assert_true(wcount == jnum(b, "workers", "count"));

	char *text = render(b);
	assert_non_null(strstr(text, "hwopt_runqueue_latency_seconds_bucket{scope=\"system\","
				     "le=\"1e-06\"}"));
	assert_non_null(strstr(text, "hwopt_runqueue_latency_seconds_bucket{scope=\"workers\","
				     "le=\"+Inf\"}"));
	assert_non_null(strstr(text, "hwopt_runqueue_latency_seconds_sum{scope=\"system\"}"));
	assert_non_null(strstr(text, "hwopt_runqueue_latency_seconds_count{scope=\"workers\"}"));
	assert_non_null(strstr(text, "hwopt_worker_involuntary_switches_total{worker=\"1\"}"));
	assert_non_null(strstr(text, "hwopt_schedlat_attach_info{mode=\"tp_btf\"} 1"));
	free(text);

	/* what a sample costs: two workers, this machine's CPUs */
	uint64_t t0 = mono_ns();
	for (int i = 0; i < 100; i++)
		cJSON_Delete(tmfx_sample(&tm_schedlat, &env, &s, mono_ns()));
	print_message("sample: %.1f us\n", (double)(mono_ns() - t0) / 100 / 1000);

	cJSON_Delete(a);
	cJSON_Delete(b);
	tm_schedlat.fini(&s);
	assert_null(s.priv);
}

/* The raw_tp programs, as on kernels where tp_btf does not load. */
static void test_raw_tp(void **state)
{
	struct tm_env env;
	struct tm_source s = { .ops = &tm_schedlat };
	struct load l;
	char reason[512] = "";

	if (!root())
		skip();
	host_env(&env);
	s.env = &env;
	load_start(&l, &env);
	setenv("HWOPTD_SCHEDLAT_ATTACH", "raw_tp", 1);
	int rc = tm_schedlat.init(&s, reason, sizeof(reason));
	unsetenv("HWOPTD_SCHEDLAT_ATTACH");
	if (rc)
		load_stop(&l);
	assert_ok(rc, reason);
	nap_ms(150);
	cJSON *b = tmfx_sample(&tm_schedlat, &env, &s, mono_ns());
	load_stop(&l);

	assert_string_equal(cJSON_GetObjectItem(b, "attach")->valuestring, "raw_tp");
	assert_true(jnum(b, "system", "count") > 0);
	assert_true(jnum(b, "workers", "count") > 0);
	cJSON_Delete(b);
	tm_schedlat.fini(&s);
}

/* No workers: the workers histogram is empty, per_worker an empty list. */
static void test_no_workers(void **state)
{
	struct tm_env env;
	struct tm_source s = { .ops = &tm_schedlat };
	char reason[512] = "";

	if (!root())
		skip();
	host_env(&env);
	s.env = &env;
	assert_ok(tm_schedlat.init(&s, reason, sizeof(reason)), reason);
	nap_ms(20);
	cJSON *b = tmfx_sample(&tm_schedlat, &env, &s, mono_ns());
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(b, "available")));
	assert_true(jnum(b, "workers", "count") == 0);
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "workers"), "p99_seconds"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(b, "per_worker")), 0);
	cJSON_Delete(b);
	tm_schedlat.fini(&s);
	tm_schedlat.fini(&s); /* twice is harmless */
}

static bool init_unprivileged(void *arg)
{
	struct tm_env env;
	struct tm_source s = { .ops = &tm_schedlat, .env = &env };
	char reason[256] = "";

	host_env(&env);
	int rc = tm_schedlat.init(&s, reason, sizeof(reason));
	if (rc != -EPERM || !strstr(reason, "not root") || !strstr(reason, "CAP_BPF") || s.priv) {
		fprintf(stderr, "rc %d reason '%s'\n", rc, reason);
		return false;
	}
	return true;
}

static void test_unprivileged(void **state)
{
	assert_true(tmfx_unprivileged(init_unprivileged, NULL));
}

static void test_lockdown(void **state)
{
	struct tm_env env;
	struct tm_source s = { .ops = &tm_schedlat, .env = &env };
	char dir[] = "/tmp/hwopt-sl-XXXXXX", reason[256] = "";

	if (!root())
		skip();
	assert_non_null(mkdtemp(dir));
	host_env(&env);
	snprintf(env.sysfs_root, sizeof(env.sysfs_root), "%s", dir);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/kernel/security", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(tmfx_write(dir, "kernel/security/lockdown", "none integrity [confidentiality]\n"),
			 0);
	assert_int_equal(tm_schedlat.init(&s, reason, sizeof(reason)), -EPERM);
	assert_string_equal(reason, "kernel lockdown (confidentiality) forbids eBPF");
	assert_null(s.priv);

	/* integrity does not forbid reading; a directory there is ignored */
	assert_int_equal(tmfx_write(dir, "kernel/security/lockdown", "none [integrity] confidentiality\n"),
			 0);
	assert_ok(tm_schedlat.init(&s, reason, sizeof(reason)), reason);
	tm_schedlat.fini(&s);
	snprintf(cmd, sizeof(cmd), "rm -f %s/kernel/security/lockdown && mkdir %s/kernel/security/lockdown",
		 dir, dir);
	assert_int_equal(system(cmd), 0);
	assert_ok(tm_schedlat.init(&s, reason, sizeof(reason)), reason);
	tm_schedlat.fini(&s);
	tmfx_remove(dir);
}

#endif /* HWOPT_NO_BPF */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_render),
		cmocka_unit_test(test_metrics_garbage),
#ifdef HWOPT_NO_BPF
		cmocka_unit_test(test_built_without_bpf),
#else
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_raw_tp),
		cmocka_unit_test(test_no_workers),
		cmocka_unit_test(test_unprivileged),
		cmocka_unit_test(test_lockdown),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
