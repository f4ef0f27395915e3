/* procstat against the fixture trees: values read and converted (jiffies
 * to seconds, kB to bytes, PSI microseconds to seconds), utilization and
 * per-second rates from two samples, CPUs that go offline and come back
 * with smaller counters, missing, garbage and unreadable files, the
 * Prometheus rendering, and this machine's own /proc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "daemon/prom.h"
#include "daemon/telemetry/source.h"
#include "tm_fixture.h"

#define T0 (100ull * 1000000000ull)
#define SEC 1000000000ull
#define MAXCPU 64

/* --- helpers -------------------------------------------------------------- */

struct ctx {
	struct tm_env env;
	struct tm_source s;
	char dir[PATH_MAX];
	bool copied;
};

static void ctx_open(struct ctx *c, const char *fixture, bool copy)
{
	memset(c, 0, sizeof(*c));
	if (copy) {
		assert_int_equal(tmfx_copy(&c->env, fixture, c->dir, sizeof(c->dir)), 0);
		c->copied = true;
	} else {
		tmfx_env(&c->env, fixture);
	}
	c->s.ops = &tm_procstat;
	c->s.env = &c->env;
	char reason[256] = "";
	assert_int_equal(tm_procstat.init(&c->s, reason, sizeof(reason)), 0);
}

static void ctx_close(struct ctx *c)
{
	tm_procstat.fini(&c->s);
	if (c->copied)
		tmfx_remove(c->dir);
}

static cJSON *sample(struct ctx *c, uint64_t now_ns)
{
	cJSON *part = tmfx_sample(&tm_procstat, &c->env, &c->s, now_ns);
	assert_non_null(part);
	return part;
}

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static double getnum(const cJSON *o, const char *key)
{
	const cJSON *it = get(o, key);
	if (!cJSON_IsNumber(it))
		fail_msg("no number %s", key);
	return it->valuedouble;
}

static const char *reason_of(const cJSON *o)
{
	const cJSON *r = get(o, "reason");
	return cJSON_IsString(r) ? r->valuestring : "";
}

static const cJSON *cpu_obj(const cJSON *part, int cpu)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, get(part, "cpus")) {
		if (getnum(c, "cpu") == cpu)
			return c;
	}
	return NULL;
}

static bool has_error(const cJSON *o, const char *msg)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, get(o, "errors")) {
		if (cJSON_IsString(e) && strstr(e->valuestring, msg))
			return true;
	}
	return false;
}

/* An independent reading of a stat file: cpu lines (index MAXCPU for the
 * total) and ctxt/processes. */
struct stat_file {
	bool has[MAXCPU + 1];
	unsigned long long f[MAXCPU + 1][10];
	unsigned long long ctxt, processes;
	int ncpu;
};

static void read_stat_file(const char *root, struct stat_file *st)
{
	char path[PATH_MAX + 16], line[4096];
	snprintf(path, sizeof(path), "%s/stat", root);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	memset(st, 0, sizeof(*st));
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[10];
		int cpu = MAXCPU, n;
		if (!strncmp(line, "cpu ", 4))
			n = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
				   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
		else if (sscanf(line, "cpu%d", &cpu) == 1)
			n = sscanf(strchr(line, ' '),
				   "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
				   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
		else {
			sscanf(line, "ctxt %llu", &st->ctxt);
			sscanf(line, "processes %llu", &st->processes);
			continue;
		}
		assert_int_equal(n, 10);
		assert_true(cpu >= 0 && cpu <= MAXCPU);
		st->has[cpu] = true;
		memcpy(st->f[cpu], v, sizeof(v));
		if (cpu < MAXCPU)
			st->ncpu++;
	}
	fclose(f);
}

/* Writes a stat file from st, leaving out CPUs whose has[] is false; the
 * lines after the cpu lines are the usual ones. */
static void write_stat_file(const char *root, const struct stat_file *st)
{
	char *text = malloc(1 << 16);
	assert_non_null(text);
	size_t o = 0;
	for (int c = -1; c < MAXCPU; c++) {
		int i = c < 0 ? MAXCPU : c;
		if (!st->has[i])
			continue;
		o += (size_t)sprintf(text + o, c < 0 ? "cpu " : "cpu%d", c);
		for (int k = 0; k < 10; k++)
			o += (size_t)sprintf(text + o, " %llu", st->f[i][k]);
		o += (size_t)sprintf(text + o, "\n");
	}
	o += (size_t)sprintf(text + o,
			     "intr 12345 0 0 0 7 0\nctxt %llu\nbtime 1716106216\nprocesses %llu\n"
			     "procs_running 4\nprocs_blocked 1\nsoftirq 10 1 2 3 4 0 0 0 0 0 0\n",
			     st->ctxt, st->processes);
	assert_int_equal(tmfx_write(root, "stat", text), 0);
	free(text);
}

/* Adds to every CPU line user +u, system +10, idle +(85 - u), iowait +5
 * (100 jiffies in all), and to the total line the sums. */
static void advance(struct stat_file *st, int (*user_of)(int cpu))
{
	memset(st->f[MAXCPU], 0, sizeof(st->f[MAXCPU]));
	for (int c = 0; c < MAXCPU; c++) {
		if (!st->has[c])
			continue;
		int u = user_of(c);
		st->f[c][0] += (unsigned)u;
		st->f[c][2] += 10;
		st->f[c][3] += (unsigned)(85 - u);
		st->f[c][4] += 5;
		for (int k = 0; k < 10; k++)
			st->f[MAXCPU][k] += st->f[c][k];
	}
	st->has[MAXCPU] = true;
}

static int user_30(int cpu)
{
	return 30;
}

static int user_by_cpu(int cpu)
{
	return 10 + cpu;
}

/* --- values against every fixture ------------------------------------------- */

/* Every cpu line as seconds, and no rates on a first sample. */
static void check_cpu_seconds(const cJSON *part, const char *root)
{
	static const char *const modes[10] = { "user", "nice", "system", "idle", "iowait", "irq",
					       "softirq", "steal", "guest", "guest_nice" };
	struct stat_file st;
	read_stat_file(root, &st);
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), st.ncpu);
	for (int c = 0; c <= MAXCPU; c++) {
		if (!st.has[c])
			continue;
		const cJSON *o = c == MAXCPU ? get(part, "total") : cpu_obj(part, c);
		assert_non_null(o);
		for (int k = 0; k < 10; k++) {
			char key[32];
			snprintf(key, sizeof(key), "%s_seconds", modes[k]);
			assert_true(getnum(o, key) == (double)st.f[c][k] / 100.0);
		}
		assert_null(get(o, "user_pct"));
		assert_null(get(o, "busy_pct"));
	}
	assert_true(getnum(part, "context_switches") == (double)st.ctxt);
	assert_true(getnum(part, "forks") == (double)st.processes);
	assert_null(get(part, "context_switches_per_s"));
	assert_null(get(part, "errors"));
}

static void test_laptop(void **state)
{
	struct ctx c;
	ctx_open(&c, "laptop", false);
	cJSON *part = sample(&c, T0);
	assert_true(available(part));
	check_cpu_seconds(part, c.env.procfs_root);
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), 8);
	assert_true(getnum(part, "procs_running") == 3);
	assert_true(getnum(part, "procs_blocked") == 0);

	const cJSON *mem = get(part, "meminfo");
	assert_true(available(mem));
	assert_true(getnum(mem, "MemTotal_bytes") == 16080404.0 * 1024);
	assert_true(getnum(mem, "MemFree_bytes") == 7215444.0 * 1024);
	assert_true(getnum(mem, "MemAvailable_bytes") == 11391820.0 * 1024);
	assert_true(getnum(mem, "Buffers_bytes") == 412288.0 * 1024);
	assert_true(getnum(mem, "Cached_bytes") == 4028972.0 * 1024);
	assert_true(getnum(mem, "SwapTotal_bytes") == 8388604.0 * 1024);
	assert_true(getnum(mem, "SwapFree_bytes") == 8355836.0 * 1024);
	assert_true(getnum(mem, "Dirty_bytes") == 1460.0 * 1024);
	assert_true(getnum(mem, "Active_anon_bytes") == 1504968.0 * 1024);
	assert_true(getnum(mem, "VmallocTotal_bytes") == 34359738367.0 * 1024);
	assert_true(getnum(mem, "HugePages_Total") == 0);
	assert_true(getnum(mem, "Hugepagesize_bytes") == 2048.0 * 1024);
	assert_null(get(mem, "errors"));

	const cJSON *la = get(part, "loadavg");
	assert_true(available(la));
	assert_true(getnum(la, "load1") == 0.52);
	assert_true(getnum(la, "load5") == 0.58);
	assert_true(getnum(la, "load15") == 0.59);
	assert_true(getnum(la, "tasks_running") == 2);
	assert_true(getnum(la, "tasks_total") == 1289);

	const cJSON *psi = get(part, "psi");
	assert_true(available(psi));
	const cJSON *cpu = get(psi, "cpu"), *io = get(psi, "io"), *memp = get(psi, "memory");
	assert_true(available(cpu) && available(io) && available(memp));
	assert_true(getnum(get(cpu, "some"), "avg10_pct") == 1.25);
	assert_true(getnum(get(cpu, "some"), "avg60_pct") == 0.87);
	assert_true(getnum(get(cpu, "some"), "avg300_pct") == 0.61);
	assert_true(getnum(get(cpu, "some"), "total_seconds") == 184032714 / 1e6);
	assert_true(available(get(cpu, "full")));
	assert_true(getnum(get(cpu, "full"), "total_seconds") == 0);
	assert_true(getnum(get(io, "full"), "avg10_pct") == 0.11);
	assert_true(getnum(get(io, "full"), "total_seconds") == 30551209 / 1e6);
	assert_true(getnum(get(memp, "some"), "total_seconds") == 2013345 / 1e6);
	cJSON_Delete(part);
	ctx_close(&c);
}

static void test_arm_server(void **state)
{
	struct ctx c;
	ctx_open(&c, "arm-server", false);
	cJSON *part = sample(&c, T0);
	assert_true(available(part));
	check_cpu_seconds(part, c.env.procfs_root);
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), 16);
	assert_true(getnum(part, "procs_running") == 9);
	assert_true(getnum(part, "procs_blocked") == 1);

	const cJSON *mem = get(part, "meminfo");
	assert_true(available(mem));
	assert_true(getnum(mem, "MemTotal_bytes") == 263672260.0 * 1024);
	assert_true(getnum(mem, "SwapTotal_bytes") == 0);
	assert_true(getnum(mem, "HugePages_Total") == 512);
	assert_true(getnum(mem, "HugePages_Free") == 500);
	assert_null(get(mem, "DirectMap4k_bytes"));

	assert_true(getnum(get(part, "loadavg"), "load15") == 6.10);
	assert_true(getnum(get(part, "loadavg"), "tasks_total") == 2211);

	/* A 5.10 kernel: cpu pressure has no "full" line. */
	const cJSON *cpu = get(get(part, "psi"), "cpu");
	assert_true(available(cpu));
	assert_true(getnum(get(cpu, "some"), "avg10_pct") == 2.04);
	assert_true(getnum(get(cpu, "some"), "total_seconds") == 7761230014 / 1e6);
	assert_false(available(get(cpu, "full")));
	assert_non_null(strstr(reason_of(get(cpu, "full")), "5.13"));
	assert_true(available(get(get(get(part, "psi"), "io"), "full")));

	char *text = tmfx_render(&tm_procstat, part, NULL);
	assert_non_null(strstr(text, "\nhwopt_pressure_cpu_waiting_seconds_total 7761.230014\n"));
	assert_null(strstr(text, "hwopt_pressure_cpu_stalled_seconds_total"));
	assert_non_null(strstr(text, "\nhwopt_memory_huge_pages 512\n"));
	free(text);
	cJSON_Delete(part);
	ctx_close(&c);
}

static void test_hybrid(void **state)
{
	struct ctx c;
	ctx_open(&c, "hybrid", false);
	cJSON *part = sample(&c, T0);
	assert_true(available(part));
	check_cpu_seconds(part, c.env.procfs_root);
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), 12);
	assert_true(getnum(get(part, "meminfo"), "MemTotal_bytes") == 32553040.0 * 1024);
	assert_true(getnum(get(part, "loadavg"), "load1") == 1.07);
	const cJSON *psi = get(part, "psi");
	assert_true(available(get(get(psi, "cpu"), "full")));
	assert_true(getnum(get(get(psi, "io"), "some"), "avg10_pct") == 0.06);
	cJSON_Delete(part);
	ctx_close(&c);
}

/* --- rates ------------------------------------------------------------------- */

static void test_rates(void **state)
{
	struct ctx c;
	struct stat_file st;
	ctx_open(&c, "laptop", true);
	cJSON *first = sample(&c, T0);
	assert_true(available(first));
	cJSON_Delete(first);

	read_stat_file(c.env.procfs_root, &st);
	advance(&st, user_30);
	st.ctxt += 5000;
	st.processes += 20;
	write_stat_file(c.env.procfs_root, &st);
	cJSON *part = sample(&c, T0 + SEC);
	assert_true(available(part));
	for (int cpu = 0; cpu <= 8; cpu++) {
		const cJSON *o = cpu < 8 ? cpu_obj(part, cpu) : get(part, "total");
		assert_non_null(o);
		assert_true(getnum(o, "user_pct") == 30);
		assert_true(getnum(o, "nice_pct") == 0);
		assert_true(getnum(o, "system_pct") == 10);
		assert_true(getnum(o, "idle_pct") == 55);
		assert_true(getnum(o, "iowait_pct") == 5);
		assert_true(getnum(o, "irq_pct") == 0);
		assert_true(getnum(o, "softirq_pct") == 0);
		assert_true(getnum(o, "steal_pct") == 0);
		assert_true(getnum(o, "busy_pct") == 40);
	}
	assert_true(getnum(part, "context_switches_per_s") == 5000);
	assert_true(getnum(part, "forks_per_s") == 20);
	assert_true(getnum(part, "procs_running") == 4);
	cJSON_Delete(part);

	/* Half a second later with the same counters: rates per second double,
	 * and a CPU with no jiffies gone by has no utilization. */
	st.ctxt += 5000;
	write_stat_file(c.env.procfs_root, &st);
	part = sample(&c, T0 + SEC + SEC / 2);
	assert_true(getnum(part, "context_switches_per_s") == 10000);
	assert_true(getnum(part, "forks_per_s") == 0);
	assert_null(get(cpu_obj(part, 0), "user_pct"));
	cJSON_Delete(part);

	/* The same time again: no per-second rates rather than a division by 0. */
	part = sample(&c, T0 + SEC + SEC / 2);
	assert_null(get(part, "context_switches_per_s"));
	cJSON_Delete(part);
	ctx_close(&c);
}

/* cpu3 goes offline, then comes back with smaller counters. */
static void test_cpu_offline_online(void **state)
{
	struct ctx c;
	struct stat_file st;
	ctx_open(&c, "laptop", true);
	cJSON_Delete(sample(&c, T0));

	read_stat_file(c.env.procfs_root, &st);
	unsigned long long cpu3[10];
	memcpy(cpu3, st.f[3], sizeof(cpu3));
	st.has[3] = false;
	advance(&st, user_by_cpu);
	write_stat_file(c.env.procfs_root, &st);
	cJSON *part = sample(&c, T0 + SEC);
	assert_true(available(part));
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), 7);
	assert_null(cpu_obj(part, 3));
	/* Matched by number: cpu4 sits where cpu3 was and keeps its own rates. */
	for (int cpu = 0; cpu < 8; cpu++) {
		if (cpu == 3)
			continue;
		assert_true(getnum(cpu_obj(part, cpu), "user_pct") == 10 + cpu);
		assert_true(getnum(cpu_obj(part, cpu), "idle_pct") == 75 - cpu);
	}
	cJSON_Delete(part);

	/* Back online with idle lower than before it left. */
	st.has[3] = true;
	memcpy(st.f[3], cpu3, sizeof(cpu3));
	st.f[3][3] -= 1000;
	st.f[3][0] += 50;
	advance(&st, user_by_cpu);
	write_stat_file(c.env.procfs_root, &st);
	part = sample(&c, T0 + 2 * SEC);
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), 8);
	const cJSON *o = cpu_obj(part, 3);
	assert_non_null(o);
	assert_true(getnum(o, "idle_seconds") == (double)st.f[3][3] / 100.0);
	assert_null(get(o, "user_pct"));
	assert_null(get(o, "busy_pct"));
	assert_true(getnum(cpu_obj(part, 4), "user_pct") == 14);
	cJSON_Delete(part);

	/* The sample after: cpu3 has rates again. */
	advance(&st, user_by_cpu);
	write_stat_file(c.env.procfs_root, &st);
	part = sample(&c, T0 + 3 * SEC);
	assert_true(getnum(cpu_obj(part, 3), "user_pct") == 13);
	cJSON_Delete(part);
	ctx_close(&c);
}

static void test_counters_backwards(void **state)
{
	struct ctx c;
	struct stat_file st;
	ctx_open(&c, "hybrid", true);
	cJSON_Delete(sample(&c, T0));
	read_stat_file(c.env.procfs_root, &st);
	advance(&st, user_30);
	st.f[2][0] -= 500;          /* cpu2's user went backwards */
	st.f[MAXCPU][3] -= 100000;  /* and the total's idle */
	st.ctxt -= 10;
	write_stat_file(c.env.procfs_root, &st);
	cJSON *part = sample(&c, T0 + SEC);
	assert_true(available(part));
	assert_null(get(cpu_obj(part, 2), "user_pct"));
	assert_null(get(get(part, "total"), "user_pct"));
	assert_null(get(part, "context_switches_per_s"));
	assert_true(getnum(part, "context_switches") == (double)st.ctxt);
	assert_true(getnum(cpu_obj(part, 1), "user_pct") == 30);
	const cJSON *o;
	cJSON_ArrayForEach(o, get(part, "cpus")) {
		const cJSON *b = get(o, "busy_pct");
		assert_true(!b || (b->valuedouble >= 0 && b->valuedouble <= 100));
	}
	cJSON_Delete(part);
	ctx_close(&c);
}

/* --- missing, garbage, unreadable --------------------------------------------- */

static void test_missing_files(void **state)
{
	struct ctx c;
	ctx_open(&c, "laptop", true);
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/pressure'", c.env.procfs_root);
	assert_int_equal(system(cmd), 0);
	cJSON *part = sample(&c, T0);
	assert_true(available(part));
	assert_false(available(get(part, "psi")));
	assert_non_null(strstr(reason_of(get(part, "psi")), "CONFIG_PSI"));
	assert_true(available(get(part, "meminfo")));
	assert_true(available(get(part, "loadavg")));
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), 8);
	cJSON_Delete(part);

	assert_int_equal(tmfx_unlink(c.env.procfs_root, "meminfo"), 0);
	part = sample(&c, T0 + SEC);
	assert_true(available(part));
	assert_false(available(get(part, "meminfo")));
	assert_non_null(strstr(reason_of(get(part, "meminfo")), "No such file"));
	assert_true(available(get(part, "loadavg")));
	cJSON_Delete(part);

	assert_int_equal(tmfx_unlink(c.env.procfs_root, "stat"), 0);
	part = sample(&c, T0 + 2 * SEC);
	assert_false(available(part));
	assert_non_null(strstr(reason_of(part), "/stat: No such file"));
	cJSON_Delete(part);
	ctx_close(&c);

	/* One resource missing: the others stay. */
	ctx_open(&c, "hybrid", true);
	assert_int_equal(tmfx_unlink(c.env.procfs_root, "pressure/io"), 0);
	part = sample(&c, T0);
	assert_true(available(get(part, "psi")));
	assert_false(available(get(get(part, "psi"), "io")));
	assert_true(available(get(get(part, "psi"), "memory")));
	char *text = tmfx_render(&tm_procstat, part, NULL);
	assert_null(strstr(text, "hwopt_pressure_io_"));
	assert_non_null(strstr(text, "hwopt_pressure_memory_stalled_seconds_total"));
	free(text);
	cJSON_Delete(part);
	ctx_close(&c);
}

static void test_garbage(void **state)
{
	struct ctx c;
	struct stat_file st;
	ctx_open(&c, "laptop", true);
	const char *root = c.env.procfs_root;
	/* A truncated cpu3 line, a cpu line with a word, a garbage ctxt. */
	read_stat_file(root, &st);
	char text[4096];
	size_t o = 0;
	for (int cpu = 0; cpu < 8; cpu++) {
		if (cpu == 3) {
			o += (size_t)sprintf(text + o, "cpu3 %llu %llu\n", st.f[3][0], st.f[3][1]);
			continue;
		}
		o += (size_t)sprintf(text + o, "cpu%d", cpu);
		for (int k = 0; k < 10; k++)
			o += (size_t)sprintf(text + o, cpu == 5 && k == 4 ? " 12x" : " %llu",
					     st.f[cpu][k]);
		o += (size_t)sprintf(text + o, "\n");
	}
	sprintf(text + o, "ctxt many\nprocesses 77\ncpuX 1 2 3 4 5 6 7 8\n");
	assert_int_equal(tmfx_write(root, "stat", text), 0);
	/* meminfo with one bad line, loadavg with a negative, a bad PSI line. */
	assert_int_equal(tmfx_write(root, "meminfo", "MemTotal:       16080404 kB\n"
						     "MemFree:        lots kB\n"
						     "Cached:         -5 kB\n"
						     "Buffers:        12 MB\n"
						     "Dirty:          1460 kB\n"
						     "errors:         5\n"),
			 0);
	assert_int_equal(tmfx_write(root, "loadavg", "-0.52 0.58 0.59 2/1289 48213\n"), 0);
	assert_int_equal(tmfx_write(root, "pressure/memory",
				    "some avg10=abc avg60=0.00 avg300=0.00 total=5\n"
				    "full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n"),
			 0);
	assert_int_equal(tmfx_write(root, "pressure/io", "\x01\x02garbage\n"), 0);

	cJSON *part = sample(&c, T0);
	assert_true(available(part));
	assert_null(get(part, "total"));
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), 6);
	assert_null(cpu_obj(part, 3));
	assert_null(cpu_obj(part, 5));
	assert_true(has_error(part, "cpu3: unreadable content"));
	assert_true(has_error(part, "cpu5: unreadable content"));
	assert_true(has_error(part, "cpuX: unreadable content"));
	assert_true(has_error(part, "ctxt: unreadable content"));
	assert_null(get(part, "context_switches"));
	assert_true(getnum(part, "forks") == 77);

	const cJSON *mem = get(part, "meminfo");
	assert_true(available(mem));
	assert_true(getnum(mem, "MemTotal_bytes") == 16080404.0 * 1024);
	assert_true(getnum(mem, "Dirty_bytes") == 1460.0 * 1024);
	assert_null(get(mem, "MemFree_bytes"));
	assert_null(get(mem, "Cached_bytes"));
	assert_null(get(mem, "Buffers_bytes"));
	assert_null(get(mem, "Buffers"));
	assert_true(has_error(mem, "MemFree: unreadable content"));
	assert_true(has_error(mem, "errors: unreadable content"));

	assert_false(available(get(part, "loadavg")));
	const cJSON *psi = get(part, "psi");
	assert_true(available(psi));
	assert_false(available(get(get(psi, "memory"), "some")));
	assert_true(available(get(get(psi, "memory"), "full")));
	assert_true(getnum(get(get(psi, "memory"), "full"), "total_seconds") == 7 / 1e6);
	assert_false(available(get(get(psi, "io"), "some")));
	assert_false(available(get(get(psi, "io"), "full")));

	char *prom = tmfx_render(&tm_procstat, part, NULL);
	assert_null(strstr(prom, "hwopt_load1 "));
	assert_null(strstr(prom, "hwopt_memory_free_bytes"));
	free(prom);
	cJSON_Delete(part);

	/* Nothing that looks like a cpu line: the sample fails. */
	assert_int_equal(tmfx_write(root, "stat", "abc\n"), 0);
	part = sample(&c, T0 + SEC);
	assert_false(available(part));
	assert_non_null(strstr(reason_of(part), "no cpu lines"));
	cJSON_Delete(part);
	assert_int_equal(tmfx_write(root, "stat", ""), 0);
	part = sample(&c, T0 + 2 * SEC);
	assert_false(available(part));
	cJSON_Delete(part);
	ctx_close(&c);
}

/* A directory where a file should be, and a /proc/stat far larger than the
 * first buffer (a long intr line, as on big machines). */
static void test_odd_files(void **state)
{
	struct ctx c;
	struct stat_file st;
	ctx_open(&c, "arm-server", true);
	const char *root = c.env.procfs_root;
	char path[PATH_MAX + 16];
	assert_int_equal(tmfx_unlink(root, "loadavg"), 0);
	snprintf(path, sizeof(path), "%s/loadavg", root);
	assert_int_equal(mkdir(path, 0755), 0);

	read_stat_file(root, &st);
	size_t cap = 1 << 20, o = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (int cpu = -1; cpu < 16; cpu++) {
		int i = cpu < 0 ? MAXCPU : cpu;
		o += (size_t)sprintf(text + o, cpu < 0 ? "cpu " : "cpu%d", cpu);
		for (int k = 0; k < 10; k++)
			o += (size_t)sprintf(text + o, " %llu", st.f[i][k]);
		o += (size_t)sprintf(text + o, "\n");
	}
	o += (size_t)sprintf(text + o, "intr 99");
	while (o < 300000)
		o += (size_t)sprintf(text + o, " 0 12345");
	sprintf(text + o, "\nctxt 4242\nprocesses 17\nprocs_running 2\nprocs_blocked 0\n");
	assert_int_equal(tmfx_write(root, "stat", text), 0);
	free(text);

	cJSON *part = sample(&c, T0);
	assert_true(available(part));
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), 16);
	assert_true(getnum(part, "context_switches") == 4242);
	assert_true(getnum(part, "procs_running") == 2);
	assert_false(available(get(part, "loadavg")));
	assert_non_null(strstr(reason_of(get(part, "loadavg")), "Is a directory"));
	cJSON_Delete(part);
	ctx_close(&c);
}

struct denied_arg {
	struct tm_env *env;
	const char *want;      /* "stat": the sample fails; "io": psi io only */
};

static bool denied_check(void *arg)
{
	struct denied_arg *a = arg;
	struct tm_source s = { .ops = &tm_procstat, .env = a->env };
	char reason[256] = "";
	if (tm_procstat.init(&s, reason, sizeof(reason)) < 0)
		return false;
	cJSON *part = tmfx_sample(&tm_procstat, a->env, &s, T0);
	bool ok;
	if (!strcmp(a->want, "stat")) {
		ok = !available(part) && strstr(reason_of(part), "/stat: Permission denied");
	} else {
		const cJSON *psi = get(part, "psi");
		ok = available(part) && available(psi) && available(get(psi, "cpu")) &&
		     !available(get(psi, "io")) &&
		     strstr(reason_of(get(psi, "io")), "Permission denied") &&
		     cJSON_GetArraySize(get(part, "cpus")) == 8;
	}
	cJSON_Delete(part);
	tm_procstat.fini(&s);
	return ok;
}

static void test_permission_denied(void **state)
{
	struct ctx c;
	ctx_open(&c, "laptop", true);
	/* mkdtemp made the copy private to root; the child must get in. */
	assert_int_equal(chmod(c.dir, 0755), 0);
	struct denied_arg a = { .env = &c.env, .want = "io" };
	assert_int_equal(tmfx_chmod(c.env.procfs_root, "pressure/io", 0), 0);
	assert_true(tmfx_unprivileged(denied_check, &a));
	assert_int_equal(tmfx_chmod(c.env.procfs_root, "stat", 0), 0);
	a.want = "stat";
	assert_true(tmfx_unprivileged(denied_check, &a));
	ctx_close(&c);
}

/* --- metrics ------------------------------------------------------------------- */

static void test_metrics(void **state)
{
	struct ctx c;
	struct stat_file st;
	ctx_open(&c, "laptop", true);
	cJSON *part = sample(&c, T0);
	char *text = tmfx_render(&tm_procstat, part, NULL);
	/* First sample: counters, no utilization yet. */
	assert_non_null(strstr(text, "# TYPE hwopt_cpu_seconds_total counter\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 4328.11\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_seconds_total{cpu=\"7\",mode=\"idle\"} 87251.46\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_guest_seconds_total{cpu=\"0\",mode=\"user\"} 0\n"));
	assert_null(strstr(text, "hwopt_cpu_seconds_total{cpu=\"all\""));
	assert_null(strstr(text, "\nhwopt_cpu_utilization_ratio{"));
	assert_non_null(strstr(text, "# TYPE hwopt_context_switches_total counter\n"));
	assert_non_null(strstr(text, "\nhwopt_context_switches_total 412093877\n"));
	assert_non_null(strstr(text, "\nhwopt_forks_total 1204577\n"));
	assert_non_null(strstr(text, "\nhwopt_procs_running 3\n"));
	assert_non_null(strstr(text, "\nhwopt_procs_blocked 0\n"));
	assert_non_null(strstr(text, "# TYPE hwopt_memory_total_bytes gauge\n"));
	assert_non_null(strstr(text, "\nhwopt_memory_total_bytes 16466333696\n"));
	assert_non_null(strstr(text, "\nhwopt_memory_anon_bytes 2674057216\n"));
	assert_non_null(strstr(text, "\nhwopt_memory_huge_pages 0\n"));
	assert_non_null(strstr(text, "\nhwopt_load1 0.52\n"));
	assert_non_null(strstr(text, "\nhwopt_load5 0.58\n"));
	assert_non_null(strstr(text, "\nhwopt_load15 0.59\n"));
	assert_non_null(strstr(text, "# TYPE hwopt_pressure_cpu_waiting_seconds_total counter\n"));
	assert_non_null(strstr(text, "\nhwopt_pressure_cpu_waiting_seconds_total 184.032714\n"));
	assert_non_null(strstr(text, "\nhwopt_pressure_cpu_stalled_seconds_total 0\n"));
	assert_non_null(strstr(text, "\nhwopt_pressure_memory_waiting_seconds_total 2.013345\n"));
	assert_non_null(strstr(text, "\nhwopt_pressure_memory_stalled_seconds_total 1.004421\n"));
	assert_non_null(strstr(text, "\nhwopt_pressure_io_waiting_seconds_total 41.102388\n"));
	assert_non_null(strstr(text, "\nhwopt_pressure_io_stalled_seconds_total 30.551209\n"));
	assert_non_null(strstr(text, "\nhwopt_pressure_avg10_ratio{resource=\"cpu\",kind=\"some\"} 0.0125\n"));
	assert_non_null(strstr(text, "\nhwopt_pressure_avg10_ratio{resource=\"io\",kind=\"full\"} 0.0011\n"));
	free(text);
	cJSON_Delete(part);

	/* Second sample: utilization gauges per CPU and for all. */
	read_stat_file(c.env.procfs_root, &st);
	advance(&st, user_30);
	write_stat_file(c.env.procfs_root, &st);
	part = sample(&c, T0 + SEC);
	text = tmfx_render(&tm_procstat, part, NULL);
	assert_non_null(strstr(text, "# TYPE hwopt_cpu_utilization_ratio gauge\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_utilization_ratio{cpu=\"0\",mode=\"user\"} 0.3\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_utilization_ratio{cpu=\"5\",mode=\"busy\"} 0.4\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_utilization_ratio{cpu=\"all\",mode=\"idle\"} 0.55\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_utilization_ratio{cpu=\"all\",mode=\"iowait\"} 0.05\n"));
	free(text);
	cJSON_Delete(part);

	/* An unavailable part's pieces render nothing and crash nothing. */
	cJSON *bad = cJSON_Parse("{\"available\":true,\"cpus\":[{\"cpu\":\"x\"},7],"
				 "\"meminfo\":{\"available\":false,\"reason\":\"r\"},"
				 "\"psi\":{\"available\":true,\"cpu\":5},\"loadavg\":[]}");
	text = tmfx_render(&tm_procstat, bad, NULL);
	assert_null(strstr(text, "hwopt_memory_"));
	assert_null(strstr(text, "\nhwopt_load1 "));
	free(text);
	cJSON_Delete(bad);
	ctx_close(&c);
}

/* --- this machine ----------------------------------------------------------------- */

static void test_host(void **state)
{
	struct tm_env env;
	memset(&env, 0, sizeof(env));
	snprintf(env.sysfs_root, sizeof(env.sysfs_root), "/sys");
	snprintf(env.procfs_root, sizeof(env.procfs_root), "/proc");
	struct tm_source s = { .ops = &tm_procstat, .env = &env };
	char reason[256] = "";
	assert_int_equal(tm_procstat.init(&s, reason, sizeof(reason)), 0);
	cJSON *part = tmfx_sample(&tm_procstat, &env, &s, T0);
	assert_true(available(part));
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), sysconf(_SC_NPROCESSORS_ONLN));
	assert_null(get(part, "errors"));
	assert_true(available(get(part, "meminfo")));
	assert_true(getnum(get(part, "meminfo"), "MemTotal_bytes") > 0);
	assert_true(available(get(part, "loadavg")));
	if (access("/proc/pressure/cpu", R_OK) == 0)
		assert_true(available(get(get(part, "psi"), "cpu")));
	cJSON_Delete(part);

	usleep(30000);
	part = tmfx_sample(&tm_procstat, &env, &s, T0 + 30000000);
	assert_true(available(part));
	assert_true(getnum(part, "context_switches_per_s") >= 0);
	const cJSON *t = get(part, "total");
	const cJSON *b = get(t, "busy_pct");
	if (b)
		assert_true(b->valuedouble >= 0 && b->valuedouble <= 100);
	char *text = tmfx_render(&tm_procstat, part, NULL);
	assert_non_null(strstr(text, "\nhwopt_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} "));
	free(text);
	cJSON_Delete(part);
	tm_procstat.fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_laptop),
		cmocka_unit_test(test_arm_server),
		cmocka_unit_test(test_hybrid),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_cpu_offline_online),
		cmocka_unit_test(test_counters_backwards),
		cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_odd_files),
		cmocka_unit_test(test_permission_denied),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
