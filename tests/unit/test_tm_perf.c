/* PMU counters (pmu.h) and the "perf" telemetry source on the real kernel:
 * software events must count everywhere; hardware events count where the
 * machine has a PMU (/sys/bus/event_source/devices/cpu and kin) and are
 * unsupported with ENOENT where it has none (a VM without a vPMU). The
 * derived figures are checked with synthetic counts, apart from hardware. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "daemon/prom.h"
#include "daemon/telemetry/pmu.h"
#include "daemon/telemetry/source.h"
#include "tm_fixture.h"

/* --- helpers -------------------------------------------------------------- */

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Burns ns of this thread's CPU time. */
static void burn(uint64_t ns)
{
	uint64_t end = now_ns(CLOCK_THREAD_CPUTIME_ID) + ns;
	volatile uint64_t x = 0;
	while (now_ns(CLOCK_THREAD_CPUTIME_ID) < end)
		for (int i = 0; i < 1000; i++)
			x += (uint64_t)i;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Does the machine have a core PMU (x86 "cpu", hybrid "cpu_core", Arm)? */
static bool has_cpu_pmu(void)
{
	DIR *d = opendir("/sys/bus/event_source/devices");
	if (!d)
		return false;
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d)))
		found = !strcmp(de->d_name, "cpu") || !strcmp(de->d_name, "cpu_core") ||
			!strcmp(de->d_name, "cpu_atom") || !strncmp(de->d_name, "armv", 4) ||
			!strncmp(de->d_name, "arm_", 4);
	closedir(d);
	return found;
}

static int paranoid(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
	int v = 2;
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 2;
		fclose(f);
	}
	return v;
}

static struct pmu_events *events(const char *extra)
{
	struct pmu_events *ev = NULL;
	char err[256] = "";
	int rc = pmu_events_new(extra, &ev, err, sizeof(err));
	if (rc)
		fail_msg("pmu_events_new(%s): %d %s", extra, rc, err);
	return ev;
}

static size_t idx(const struct pmu_events *ev, const char *name)
{
	int i = pmu_event_index(ev, name);
	if (i < 0)
		fail_msg("no event %s", name);
	return (size_t)i;
}

static const cJSON *event_entry(const cJSON *arr, const char *name)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr)
		if (!strcmp(cJSON_GetObjectItem(e, "name")->valuestring, name))
			return e;
	return NULL;
}

/* Hardware events: unsupported with ENOENT without a PMU; else untested. */
static void check_hardware(const struct pmu_events *ev, const uint64_t *vals)
{
	if (has_cpu_pmu())
		return;
	cJSON *j = pmu_events_json(ev);
	for (size_t i = 0; i < pmu_events_count(ev); i++) {
		if (pmu_event_kind(ev, i) != PMU_KIND_HARDWARE)
			continue;
		const cJSON *e = event_entry(j, pmu_event_name(ev, i));
		assert_false(pmu_event_supported(ev, i));
		assert_false(cJSON_IsTrue(cJSON_GetObjectItem(e, "supported")));
		assert_int_equal((int)num(e, "errno"), ENOENT);
		if (vals)
			assert_true(vals[i] == PMU_NONE);
	}
	cJSON_Delete(j);
}

/* A thread that burns CPU until told to stop (or exits at once). */
struct burner {
	pthread_t th;
	_Atomic pid_t tid;
	atomic_bool stop;
	bool idle; /* sleeps instead of burning */
};

static void *burner_main(void *arg)
{
	struct burner *b = arg;
	atomic_store(&b->tid, gettid());
	while (!atomic_load(&b->stop)) {
		if (b->idle)
			sleep_ms(1);
		else
			burn(1000000);
	}
	return NULL;
}

static void burner_start(struct burner *b, bool idle)
{
	memset(b, 0, sizeof(*b));
	b->idle = idle;
	assert_int_equal(pthread_create(&b->th, NULL, burner_main, b), 0);
	while (!atomic_load(&b->tid))
		sleep_ms(1);
}

/* pthread_join returns when the thread's tid is cleared, before the kernel
 * ends its perf events; its /proc entry goes after that. */
static void burner_stop(struct burner *b)
{
	atomic_store(&b->stop, true);
	pthread_join(b->th, NULL);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)atomic_load(&b->tid));
	for (int i = 0; i < 1000 && access(path, F_OK) == 0; i++)
		sleep_ms(1);
}

/* --- the event list ------------------------------------------------------- */

static void test_events_defaults_and_extras(void **state)
{
	struct pmu_events *ev = events(" NOT_AN_EVENT , cpu-clock,,minor-faults, cycles, "
				       "PERF_COUNT_HW_CPU_CYCLES");
	const char *want[] = { "cycles", "instructions", "cache-references", "cache-misses",
			       "branches", "branch-misses", "stalled-cycles-backend", "task-clock",
			       "context-switches", "cpu-migrations", "page-faults", "NOT_AN_EVENT",
			       "cpu-clock", "minor-faults", "PERF_COUNT_HW_CPU_CYCLES" };
	size_t n = sizeof(want) / sizeof(want[0]);
	/* "cycles" a second time is listed once */
	assert_int_equal(pmu_events_count(ev), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(pmu_event_name(ev, i), want[i]);
	assert_int_equal(pmu_event_kind(ev, idx(ev, "cycles")), PMU_KIND_HARDWARE);
	assert_int_equal(pmu_event_kind(ev, idx(ev, "task-clock")), PMU_KIND_SOFTWARE);
	assert_int_equal(pmu_event_kind(ev, idx(ev, "cpu-clock")), PMU_KIND_SOFTWARE);
	assert_int_equal(pmu_event_kind(ev, idx(ev, "NOT_AN_EVENT")), PMU_KIND_UNKNOWN);

	cJSON *j = pmu_events_json(ev);
	const cJSON *bad = event_entry(j, "NOT_AN_EVENT");
	assert_non_null(bad);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(bad, "supported")));
	assert_string_equal(cJSON_GetObjectItem(bad, "kind")->valuestring, "unknown");
	assert_non_null(strstr(cJSON_GetObjectItem(bad, "error")->valuestring, "libpfm4"));
	const cJSON *dup = event_entry(j, "PERF_COUNT_HW_CPU_CYCLES");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(dup, "supported")));
	assert_non_null(strstr(cJSON_GetObjectItem(dup, "error")->valuestring, "\"cycles\""));
	/* not opened anywhere yet: resolved means supported so far */
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(event_entry(j, "cpu-clock"), "supported")));
	assert_null(cJSON_GetObjectItem(event_entry(j, "cpu-clock"), "per_thread"));
	cJSON_Delete(j);
	pmu_events_free(ev);

	ev = events(NULL);
	assert_int_equal(pmu_events_count(ev), 11);
	pmu_events_free(ev);
}

static void test_events_too_many(void **state)
{
	char extra[512] = "";
	for (int i = 0; i < 14; i++)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), "%sev%d",
			 i ? "," : "", i);
	struct pmu_events *ev = NULL;
	char err[256] = "";
	assert_int_equal(pmu_events_new(extra, &ev, err, sizeof(err)), -E2BIG);
	assert_null(ev);
	assert_non_null(strstr(err, "24"));
	/* 13 extras fill the list exactly */
	strrchr(extra, ',')[0] = '\0';
	assert_int_equal(pmu_events_new(extra, &ev, err, sizeof(err)), 0);
	assert_int_equal(pmu_events_count(ev), PMU_MAX_EVENTS);
	pmu_events_free(ev);
}

/* --- counting ------------------------------------------------------------- */

static void test_open_self(void **state)
{
	struct pmu_events *ev = events("cpu-clock,NOT_AN_EVENT");
	struct pmu_counters *c = pmu_open(ev, 0, -1);
	assert_non_null(c);
	uint64_t a[PMU_MAX_EVENTS], b[PMU_MAX_EVENTS];
	size_t tc = idx(ev, "task-clock"), pf = idx(ev, "page-faults");
	size_t cs = idx(ev, "context-switches"), cc = idx(ev, "cpu-clock");

	assert_int_equal(pmu_read(c, a), 0);
	burn(30000000);
	assert_int_equal(pmu_read(c, b), 0);
	assert_true(a[tc] != PMU_NONE && b[tc] != PMU_NONE);
	assert_true(b[tc] - a[tc] >= 25000000);
	assert_true(b[cc] - a[cc] >= 25000000);

	size_t pg = (size_t)sysconf(_SC_PAGESIZE), npages = 64;
	char *m = mmap(NULL, npages * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(pmu_read(c, a), 0);
	for (size_t i = 0; i < npages; i++)
		m[i * pg] = 1;
	assert_int_equal(pmu_read(c, b), 0);
	munmap(m, npages * pg);
	assert_true(b[pf] - a[pf] >= npages / 2);

	assert_int_equal(pmu_read(c, a), 0);
	for (int i = 0; i < 3; i++) {
		sched_yield();
		sleep_ms(1);
	}
	assert_int_equal(pmu_read(c, b), 0);
	assert_true(b[cs] - a[cs] >= 3);

	assert_true(b[idx(ev, "NOT_AN_EVENT")] == PMU_NONE);
	for (size_t i = pmu_events_count(ev); i < PMU_MAX_EVENTS; i++)
		assert_true(b[i] == PMU_NONE);
	check_hardware(ev, b);

	cJSON *j = pmu_events_json(ev);
	const cJSON *t = cJSON_GetObjectItem(event_entry(j, "task-clock"), "per_thread");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(t, "supported")));
	assert_true(cJSON_IsBool(cJSON_GetObjectItem(t, "user_only")));
	cJSON_Delete(j);
	pmu_close(c);
	pmu_events_free(ev);
}

/* Another thread by tid: its task-clock grows, the idle caller's does not. */
static void test_open_other_thread(void **state)
{
	struct pmu_events *ev = events(NULL);
	struct burner b;
	burner_start(&b, false);
	struct pmu_counters *other = pmu_open(ev, atomic_load(&b.tid), -1);
	struct pmu_counters *self = pmu_open(ev, 0, -1);
	assert_non_null(other);
	assert_non_null(self);
	size_t tc = idx(ev, "task-clock");
	uint64_t o1[PMU_MAX_EVENTS], o2[PMU_MAX_EVENTS], s1[PMU_MAX_EVENTS], s2[PMU_MAX_EVENTS];
	assert_int_equal(pmu_read(other, o1), 0);
	assert_int_equal(pmu_read(self, s1), 0);
	sleep_ms(200);
	assert_int_equal(pmu_read(other, o2), 0);
	assert_int_equal(pmu_read(self, s2), 0);
	uint64_t od = o2[tc] - o1[tc], sd = s2[tc] - s1[tc];
	print_message("burner task-clock +%llu ns, caller +%llu ns\n", (unsigned long long)od,
		      (unsigned long long)sd);
	assert_true(od >= 50000000);
	assert_true(sd < od / 4);
	assert_false(pmu_exited(other));
	burner_stop(&b);
	/* an exited thread's counters keep their final counts */
	assert_true(pmu_exited(other));
	assert_false(pmu_exited(self));
	assert_int_equal(pmu_read(other, o1), 0);
	sleep_ms(10);
	assert_int_equal(pmu_read(other, o2), 0);
	assert_true(o2[tc] >= od && o2[tc] == o1[tc]);
	pmu_close(other);
	pmu_close(self);
	pmu_events_free(ev);
}

static void test_open_cpu_wide(void **state)
{
	if (geteuid() != 0) {
		skip();
		return;
	}
	struct pmu_events *ev = events(NULL);
	struct pmu_counters *c = pmu_open(ev, -1, 0);
	assert_non_null(c);
	/* on CPU 0 for a while, so its switches and faults are ours too */
	cpu_set_t old, one;
	assert_int_equal(sched_getaffinity(0, sizeof(old), &old), 0);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	uint64_t a[PMU_MAX_EVENTS], b[PMU_MAX_EVENTS];
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), npages = 64;
	char *m = mmap(NULL, npages * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(pmu_read(c, a), 0);
	for (size_t i = 0; i < npages; i++)
		m[i * pg] = 1;
	for (int i = 0; i < 10; i++)
		sleep_ms(5);
	assert_int_equal(pmu_read(c, b), 0);
	sched_setaffinity(0, sizeof(old), &old);
	munmap(m, npages * pg);
	/* a CPU's task-clock is its wall time, busy or not */
	size_t tc = idx(ev, "task-clock");
	assert_true(b[tc] - a[tc] >= 40000000);
	assert_true(b[idx(ev, "context-switches")] - a[idx(ev, "context-switches")] >= 10);
	assert_true(b[idx(ev, "page-faults")] - a[idx(ev, "page-faults")] >= npages / 2);
	check_hardware(ev, b);
	cJSON *j = pmu_events_json(ev);
	const cJSON *t = cJSON_GetObjectItem(event_entry(j, "task-clock"), "per_cpu");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(t, "supported")));
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(t, "user_only")));
	cJSON_Delete(j);
	pmu_close(c);
	/* no such CPU */
	errno = 0;
	assert_null(pmu_open(ev, -1, 100000));
	assert_int_not_equal(errno, 0);
	pmu_events_free(ev);
}

static void test_delta_math(void **state)
{
	struct pmu_events *ev = events("cpu-clock");
	uint64_t a[PMU_MAX_EVENTS], b[PMU_MAX_EVENTS];
	for (size_t i = 0; i < PMU_MAX_EVENTS; i++)
		a[i] = b[i] = PMU_NONE;
	a[idx(ev, "cycles")] = 1000, b[idx(ev, "cycles")] = 5000;
	a[idx(ev, "instructions")] = 0, b[idx(ev, "instructions")] = 6000;
	a[idx(ev, "cache-references")] = 100, b[idx(ev, "cache-references")] = 300;
	a[idx(ev, "cache-misses")] = 10, b[idx(ev, "cache-misses")] = 60;
	a[idx(ev, "branches")] = 0, b[idx(ev, "branches")] = 1000;
	a[idx(ev, "branch-misses")] = 5, b[idx(ev, "branch-misses")] = 25;
	a[idx(ev, "stalled-cycles-backend")] = 0, b[idx(ev, "stalled-cycles-backend")] = 1000;
	a[idx(ev, "task-clock")] = 700, b[idx(ev, "task-clock")] = 500; /* went back */
	a[idx(ev, "cpu-clock")] = 1; /* b: not counting */
	cJSON *d = pmu_delta_json(ev, a, b);
	assert_non_null(d);
	assert_true(num(d, "ipc") == 1.5);
	assert_true(num(d, "cache_miss_ratio") == 0.25);
	assert_true(num(d, "branch_miss_ratio") == 0.02);
	assert_true(num(d, "memory_bound_ratio") == 0.25);
	const cJSON *counts = cJSON_GetObjectItem(d, "counts");
	assert_true(num(counts, "cycles") == 4000);
	assert_true(num(counts, "instructions") == 6000);
	assert_true(num(counts, "task-clock") == 0);
	assert_null(cJSON_GetObjectItem(counts, "cpu-clock"));
	assert_null(cJSON_GetObjectItem(counts, "page-faults"));
	cJSON_Delete(d);

	/* a zero denominator or a missing input leaves the ratio out */
	b[idx(ev, "cycles")] = 1000;
	b[idx(ev, "cache-misses")] = PMU_NONE;
	d = pmu_delta_json(ev, a, b);
	assert_null(cJSON_GetObjectItem(d, "ipc"));
	assert_null(cJSON_GetObjectItem(d, "memory_bound_ratio"));
	assert_null(cJSON_GetObjectItem(d, "cache_miss_ratio"));
	assert_true(num(d, "branch_miss_ratio") == 0.02);
	cJSON_Delete(d);
	pmu_events_free(ev);
}

/* --- the source ----------------------------------------------------------- */

static bool has_line(const char *text, const char *prefix)
{
	const char *p = strstr(text, prefix);
	return p && (p == text || p[-1] == '\n');
}

/* metrics() from a part as a machine with a PMU fills it. */
static void test_metrics_synthetic(void **state)
{
	cJSON *part = cJSON_Parse(
		"{\"events\":[{\"name\":\"cycles\",\"kind\":\"hardware\",\"supported\":true},"
		"{\"name\":\"r01c2\",\"kind\":\"raw\",\"supported\":false,\"errno\":2}],"
		"\"workers\":[{\"worker\":3,\"tid\":77,\"cpu\":5,\"available\":true,"
		"\"counts\":{\"cycles\":4000,\"instructions\":6000},"
		"\"derived\":{\"ipc\":1.5,\"cache_miss_ratio\":0.25,\"branch_miss_ratio\":0.02,"
		"\"memory_bound_ratio\":0.125}},"
		"{\"worker\":4,\"available\":false,\"reason\":\"x\"}],"
		"\"system_wide\":{\"available\":true},"
		"\"cpus\":[{\"cpu\":1,\"available\":true,\"counts\":{\"cycles\":9}}]}");
	assert_non_null(part);
	struct prom *p = prom_new();
	tm_perf.metrics(part, p);
	char *text = prom_render(p, NULL);
	const char *want[] = {
		"hwopt_pmu_events_total{worker=\"3\",cpu=\"5\",event=\"cycles\"} 4000",
		"hwopt_pmu_events_total{worker=\"3\",cpu=\"5\",event=\"instructions\"} 6000",
		"hwopt_pmu_cpu_events_total{cpu=\"1\",event=\"cycles\"} 9",
		"hwopt_pmu_event_supported{event=\"cycles\"} 1",
		"hwopt_pmu_event_supported{event=\"r01c2\"} 0",
		"hwopt_pmu_ipc{worker=\"3\"} 1.5",
		"hwopt_pmu_cache_miss_ratio{worker=\"3\"} 0.25",
		"hwopt_pmu_branch_miss_ratio{worker=\"3\"} 0.02",
		"hwopt_pmu_memory_bound_ratio{worker=\"3\"} 0.125",
		"# TYPE hwopt_pmu_ipc gauge",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!has_line(text, want[i]))
			fail_msg("missing: %s\n%s", want[i], text);
	assert_null(strstr(text, "worker=\"4\""));
	free(text);
	prom_free(p);
	cJSON_Delete(part);
}

static void real_env(struct tm_env *env)
{
	memset(env, 0, sizeof(*env));
	snprintf(env->sysfs_root, sizeof(env->sysfs_root), "/sys");
	snprintf(env->procfs_root, sizeof(env->procfs_root), "/proc");
}

/* The part or the text into the file named by $var, to look at. */
static void dump(const char *var, const cJSON *part, const char *text)
{
	const char *path = getenv(var);
	FILE *f = path ? fopen(path, "we") : NULL;
	if (!f)
		return;
	char *js = part ? cJSON_Print(part) : NULL;
	fputs(js ? js : text, f);
	fclose(f);
	free(js);
}

static void test_source_workers(void **state)
{
	struct burner w[2];
	burner_start(&w[0], false);
	burner_start(&w[1], true);
	struct tm_env env;
	real_env(&env);
	snprintf(env.perf_events, sizeof(env.perf_events), "NOT_AN_EVENT");
	env.n_workers = 2;
	env.worker_tids[0] = atomic_load(&w[0].tid);
	env.worker_tids[1] = atomic_load(&w[1].tid);
	env.worker_cpus[0] = -1;
	env.worker_cpus[1] = 0;
	struct tm_source s = { .ops = &tm_perf, .env = &env };
	char reason[256] = "";
	assert_int_equal(tm_perf.init(&s, reason, sizeof(reason)), 0);
	assert_non_null(tm_perf_events(&s));
	assert_non_null(tm_perf_worker_counters(&s, 0));
	assert_non_null(tm_perf_worker_counters(&s, 1));
	assert_null(tm_perf_worker_counters(&s, 2));

	cJSON *p1 = tmfx_sample(&tm_perf, &env, &s, 1000000000);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p1, "available")));
	const cJSON *w0 = cJSON_GetArrayItem(cJSON_GetObjectItem(p1, "workers"), 0);
	assert_null(cJSON_GetObjectItem(w0, "derived"));
	double tc1 = num(cJSON_GetObjectItem(w0, "counts"), "task-clock");
	sleep_ms(150);
	cJSON *p2 = tmfx_sample(&tm_perf, &env, &s, 1150000000);
	const cJSON *workers = cJSON_GetObjectItem(p2, "workers");
	assert_int_equal(cJSON_GetArraySize(workers), 2);
	w0 = cJSON_GetArrayItem(workers, 0);
	const cJSON *w1 = cJSON_GetArrayItem(workers, 1);
	assert_true(num(w0, "tid") == env.worker_tids[0]);
	assert_true(num(w1, "cpu") == 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(w0, "available")));
	double tc2 = num(cJSON_GetObjectItem(w0, "counts"), "task-clock");
	assert_true(tc2 - tc1 >= 50e6);
	assert_true(num(cJSON_GetObjectItem(w1, "counts"), "context-switches") >= 10);
	assert_true(cJSON_IsObject(cJSON_GetObjectItem(w0, "derived")));
	if (!has_cpu_pmu())
		assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(w0, "counts"), "cycles"));

	const cJSON *bad = event_entry(cJSON_GetObjectItem(p2, "events"), "NOT_AN_EVENT");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(bad, "supported")));
	const cJSON *sw = cJSON_GetObjectItem(p2, "system_wide");
	if (geteuid() == 0) {
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(sw, "available")));
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(p2, "cpus")),
				 sysconf(_SC_NPROCESSORS_ONLN));
	}
	dump("TM_PERF_DUMP_JSON", p2, NULL);

	struct prom *p = prom_new();
	tm_perf.metrics(p2, p);
	char *text = prom_render(p, NULL);
	assert_non_null(text);
	assert_true(has_line(text, "# TYPE hwopt_pmu_events_total counter"));
	assert_true(has_line(text, "hwopt_pmu_events_total{worker=\"0\",cpu=\"\",event=\"task-clock\"} "));
	assert_true(has_line(text, "hwopt_pmu_events_total{worker=\"1\",cpu=\"0\",event=\"page-faults\"} "));
	assert_true(has_line(text, "hwopt_pmu_event_supported{event=\"task-clock\"} 1"));
	assert_true(has_line(text, "hwopt_pmu_event_supported{event=\"NOT_AN_EVENT\"} 0"));
	if (!has_cpu_pmu())
		assert_true(has_line(text, "hwopt_pmu_event_supported{event=\"cycles\"} 0"));
	if (geteuid() == 0)
		assert_true(has_line(text, "hwopt_pmu_cpu_events_total{cpu=\"0\",event=\"task-clock\"} "));
	dump("TM_PERF_DUMP_PROM", NULL, text);
	free(text);
	prom_free(p);

	/* a worker that exited is reported, the rest go on */
	burner_stop(&w[1]);
	cJSON *p3 = tmfx_sample(&tm_perf, &env, &s, 1300000000);
	w1 = cJSON_GetArrayItem(cJSON_GetObjectItem(p3, "workers"), 1);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(w1, "available")));
	assert_non_null(strstr(cJSON_GetObjectItem(w1, "reason")->valuestring, "exited"));
	w0 = cJSON_GetArrayItem(cJSON_GetObjectItem(p3, "workers"), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(w0, "available")));

	cJSON_Delete(p1);
	cJSON_Delete(p2);
	cJSON_Delete(p3);
	tm_perf.fini(&s);
	assert_null(s.priv);
	burner_stop(&w[0]);
}

static void test_source_no_workers(void **state)
{
	struct tm_env env;
	real_env(&env);
	struct tm_source s = { .ops = &tm_perf, .env = &env };
	char reason[256] = "";
	assert_int_equal(tm_perf.init(&s, reason, sizeof(reason)), 0);
	assert_null(tm_perf_worker_counters(&s, 0));
	cJSON *part = tmfx_sample(&tm_perf, &env, &s, 1);
	if (geteuid() == 0) {
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(part, "available")));
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(part, "workers")), 0);
		assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(part, "cpus")) >= 1);
	}
	cJSON_Delete(part);
	tm_perf.fini(&s);

	/* too many extras: the source is unavailable with the reason */
	for (int i = 0; i < 20; i++)
		snprintf(env.perf_events + strlen(env.perf_events),
			 sizeof(env.perf_events) - strlen(env.perf_events), "x%d,", i);
	assert_int_equal(tm_perf.init(&s, reason, sizeof(reason)), -E2BIG);
	assert_non_null(strstr(reason, "perf_events"));
	assert_null(s.priv);
	assert_null(tm_perf_events(&s));
}

/* A worker tid that is no thread: that worker is unavailable, not the rest. */
static void test_source_bad_worker(void **state)
{
	struct burner b;
	burner_start(&b, true);
	struct tm_env env;
	real_env(&env);
	env.n_workers = 2;
	env.worker_tids[0] = 0x3ffffff0;
	env.worker_tids[1] = atomic_load(&b.tid);
	env.worker_cpus[0] = env.worker_cpus[1] = -1;
	struct tm_source s = { .ops = &tm_perf, .env = &env };
	char reason[256] = "";
	assert_int_equal(tm_perf.init(&s, reason, sizeof(reason)), 0);
	assert_null(tm_perf_worker_counters(&s, 0));
	assert_non_null(tm_perf_worker_counters(&s, 1));
	cJSON *part = tmfx_sample(&tm_perf, &env, &s, 1);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(part, "available")));
	const cJSON *ws = cJSON_GetObjectItem(part, "workers");
	const cJSON *w0 = cJSON_GetArrayItem(ws, 0), *w1 = cJSON_GetArrayItem(ws, 1);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(w0, "available")));
	assert_string_equal(cJSON_GetObjectItem(w0, "reason")->valuestring,
			    "perf_event_open: No such process");
	assert_null(cJSON_GetObjectItem(w0, "counts"));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(w1, "available")));
	/* the failed thread does not make task-clock unsupported */
	const cJSON *tc = event_entry(cJSON_GetObjectItem(part, "events"), "task-clock");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(tc, "supported")));

	struct prom *p = prom_new();
	tm_perf.metrics(part, p);
	char *text = prom_render(p, NULL);
	assert_null(strstr(text, "worker=\"0\""));
	assert_non_null(strstr(text, "worker=\"1\""));
	free(text);
	prom_free(p);
	cJSON_Delete(part);
	tm_perf.fini(&s);
	burner_stop(&b);
}

/* As nobody: CPU-wide counting is refused (paranoid >= 1), the thread's own
 * software events still count (user-only at paranoid >= 2). */
static bool unprivileged_check(void *arg)
{
	int par = *(int *)arg;
	struct tm_env env;
	real_env(&env);
	env.n_workers = 1;
	env.worker_tids[0] = gettid();
	env.worker_cpus[0] = -1;
	struct tm_source s = { .ops = &tm_perf, .env = &env };
	char reason[256] = "";
	if (tm_perf.init(&s, reason, sizeof(reason)) != 0)
		return false;
	burn(20000000);
	cJSON *part = tmfx_sample(&tm_perf, &env, &s, 1);
	bool ok;
	if (par >= 3) {
		/* Debian's level 3: no perf_event_open at all without CAP_PERFMON */
		ok = !cJSON_IsTrue(cJSON_GetObjectItem(part, "available")) &&
		     strstr(cJSON_GetObjectItem(part, "reason")->valuestring, "opened");
	} else {
		const cJSON *sw = cJSON_GetObjectItem(part, "system_wide");
		const cJSON *why = cJSON_GetObjectItem(sw, "reason");
		const cJSON *w0 = cJSON_GetArrayItem(cJSON_GetObjectItem(part, "workers"), 0);
		const cJSON *tc = cJSON_GetObjectItem(cJSON_GetObjectItem(w0, "counts"), "task-clock");
		const cJSON *ev = event_entry(cJSON_GetObjectItem(part, "events"), "task-clock");
		const cJSON *pt = cJSON_GetObjectItem(ev, "per_thread");
		const cJSON *pc = cJSON_GetObjectItem(ev, "per_cpu");
		ok = cJSON_IsTrue(cJSON_GetObjectItem(part, "available")) &&
		     cJSON_IsFalse(cJSON_GetObjectItem(sw, "available")) && cJSON_IsString(why) &&
		     strstr(why->valuestring, "cpu 0") && cJSON_IsNumber(tc) &&
		     tc->valuedouble >= 10e6 && cJSON_IsTrue(cJSON_GetObjectItem(ev, "supported")) &&
		     cJSON_IsTrue(cJSON_GetObjectItem(pt, "user_only")) == (par >= 2) &&
		     cJSON_IsFalse(cJSON_GetObjectItem(pc, "supported")) &&
		     cJSON_GetArraySize(cJSON_GetObjectItem(part, "cpus")) == 0;
		if (!ok) {
			char *js = cJSON_Print(part);
			fprintf(stderr, "unprivileged sample: %s\n", js);
			free(js);
		}
	}
	cJSON_Delete(part);
	tm_perf.fini(&s);
	return ok;
}

static void test_source_unprivileged(void **state)
{
	int par = paranoid();
	if (geteuid() != 0 || par < 1) {
		skip();
		return;
	}
	assert_true(tmfx_unprivileged(unprivileged_check, &par));
}

/* --- cost ------------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_read_cost(void **state)
{
	struct pmu_events *ev = events(NULL);
	struct pmu_counters *c = pmu_open(ev, 0, -1);
	assert_non_null(c);
	enum { N = 20001 };
	static uint64_t t[N];
	uint64_t v[PMU_MAX_EVENTS];
	for (int i = 0; i < 1000; i++)
		pmu_read(c, v);
	for (int i = 0; i < N; i++) {
		uint64_t t0 = now_ns(CLOCK_MONOTONIC);
		assert_int_equal(pmu_read(c, v), 0);
		t[i] = now_ns(CLOCK_MONOTONIC) - t0;
	}
	qsort(t, N, sizeof(t[0]), cmp_u64);
	print_message("pmu_read on the calling thread (%zu events open): median %llu ns, "
		      "p99 %llu ns\n",
		      pmu_counters_open(c), (unsigned long long)t[N / 2],
		      (unsigned long long)t[N * 99 / 100]);
	pmu_close(c);
	pmu_events_free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_defaults_and_extras),
		cmocka_unit_test(test_events_too_many),
		cmocka_unit_test(test_open_self),
		cmocka_unit_test(test_open_other_thread),
		cmocka_unit_test(test_open_cpu_wide),
		cmocka_unit_test(test_delta_math),
		cmocka_unit_test(test_metrics_synthetic),
		cmocka_unit_test(test_source_workers),
		cmocka_unit_test(test_source_no_workers),
		cmocka_unit_test(test_source_bad_worker),
		cmocka_unit_test(test_source_unprivileged),
		cmocka_unit_test(test_read_cost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
