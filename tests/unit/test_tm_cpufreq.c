/* cpufreq against the fixture trees: kHz to Hz, governor, EPP where the
 * driver has it, cpu_capacity telling P- from E-cores, offline CPUs, the
 * cpuinfo_cur_freq fallback, missing, garbage and unreadable files, the
 * Prometheus rendering, and this machine's /sys (no cpufreq in a VM). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "daemon/prom.h"
#include "daemon/telemetry/source.h"
#include "tm_fixture.h"

#define T0 (100ull * 1000000000ull)
#define SEC 1000000000ull
#define CPUDIR "devices/system/cpu"

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
	c->s.ops = &tm_cpufreq;
	c->s.env = &c->env;
	char reason[256] = "";
	assert_int_equal(tm_cpufreq.init(&c->s, reason, sizeof(reason)), 0);
}

static void ctx_close(struct ctx *c)
{
	tm_cpufreq.fini(&c->s);
	if (c->copied)
		tmfx_remove(c->dir);
}

static cJSON *sample(struct ctx *c, uint64_t now_ns)
{
	cJSON *part = tmfx_sample(&tm_cpufreq, &c->env, &c->s, now_ns);
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

static const char *getstr(const cJSON *o, const char *key)
{
	const cJSON *it = get(o, key);
	if (!cJSON_IsString(it))
		fail_msg("no string %s", key);
	return it->valuestring;
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
	fail_msg("no cpu %d", cpu);
	return NULL;
}

static bool has_error(const cJSON *o, const char *msg)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, get(o, "errors")) {
		if (cJSON_IsString(e) && !strcmp(e->valuestring, msg))
			return true;
	}
	return false;
}

/* Writes cpuN/cpufreq/file (through the fixture's policy link). */
static void write_freq(struct ctx *c, int cpu, const char *file, const char *text)
{
	char rel[128];
	snprintf(rel, sizeof(rel), CPUDIR "/cpu%d/cpufreq/%s", cpu, file);
	assert_int_equal(tmfx_write(c->env.sysfs_root, rel, text), 0);
}

static void unlink_freq(struct ctx *c, int cpu, const char *file)
{
	char rel[128];
	snprintf(rel, sizeof(rel), CPUDIR "/cpu%d/cpufreq/%s", cpu, file);
	assert_int_equal(tmfx_unlink(c->env.sysfs_root, rel), 0);
}

static void check_freqs(const cJSON *o, double cur, double min, double max, double hw_min,
			double hw_max)
{
	assert_true(getnum(o, "cur_hz") == cur);
	assert_true(getnum(o, "min_hz") == min);
	assert_true(getnum(o, "max_hz") == max);
	assert_true(getnum(o, "hw_min_hz") == hw_min);
	assert_true(getnum(o, "hw_max_hz") == hw_max);
}

/* --- the fixtures ------------------------------------------------------------- */

static void test_laptop(void **state)
{
	static const double cur_khz[8] = { 1200034, 2800000, 799992, 3900112,
					   1400000, 4700000, 400000,  2234561 };
	struct ctx c;
	ctx_open(&c, "laptop", false);
	cJSON *part = sample(&c, T0);
	assert_true(available(part));
	assert_string_equal(getstr(part, "driver"), "intel_pstate");
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), 8);
	for (int cpu = 0; cpu < 8; cpu++) {
		const cJSON *o = cpu_obj(part, cpu);
		assert_true(cJSON_IsTrue(get(o, "online")));
		check_freqs(o, cur_khz[cpu] * 1000, 400e6, 4.7e9, 400e6, 4.7e9);
		assert_string_equal(getstr(o, "governor"), "powersave");
		assert_string_equal(getstr(o, "epp"), "balance_performance");
		assert_null(get(o, "capacity"));
		assert_null(get(o, "errors"));
	}
	const cJSON *avail = get(part, "epp_available");
	assert_int_equal(cJSON_GetArraySize(avail), 5);
	assert_string_equal(cJSON_GetArrayItem(avail, 0)->valuestring, "default");
	assert_string_equal(cJSON_GetArrayItem(avail, 4)->valuestring, "power");
	assert_int_equal(cJSON_GetArraySize(get(part, "epp_cpus")), 8);
	cJSON_Delete(part);
	ctx_close(&c);
}

static void test_arm_server(void **state)
{
	struct ctx c;
	ctx_open(&c, "arm-server", false);
	cJSON *part = sample(&c, T0);
	assert_true(available(part));
	assert_string_equal(getstr(part, "driver"), "cppc_cpufreq");
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), 16);
	for (int cpu = 0; cpu < 16; cpu++) {
		const cJSON *o = cpu_obj(part, cpu);
		static const double cur[4] = { 2.8e9, 3e9, 1e9, 2.99e9 };
		check_freqs(o, cur[cpu % 4], 1e9, 3e9, 1e9, 3e9);
		assert_string_equal(getstr(o, "governor"), "schedutil");
		assert_true(getnum(o, "capacity") == 1024);
		assert_null(get(o, "epp"));
		assert_null(get(o, "errors"));
	}
	/* No EPP on cppc_cpufreq: nothing about it but an empty list. */
	assert_null(get(part, "epp_available"));
	assert_int_equal(cJSON_GetArraySize(get(part, "epp_cpus")), 0);
	cJSON_Delete(part);
	ctx_close(&c);
}

static void test_hybrid(void **state)
{
	struct ctx c;
	ctx_open(&c, "hybrid", false);
	cJSON *part = sample(&c, T0);
	assert_true(available(part));
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), 12);
	/* Sorted by number, whatever order the directory lists them in. */
	assert_true(getnum(cJSON_GetArrayItem(get(part, "cpus"), 2), "cpu") == 2);
	assert_true(getnum(cJSON_GetArrayItem(get(part, "cpus"), 11), "cpu") == 11);
	for (int cpu = 0; cpu < 12; cpu++) {
		const cJSON *o = cpu_obj(part, cpu);
		bool p_core = cpu < 8;
		assert_true(getnum(o, "capacity") == (p_core ? 1024 : 623));
		assert_true(getnum(o, "max_hz") == (p_core ? 4.7e9 : 3.4e9));
		assert_true(getnum(o, "hw_max_hz") == (p_core ? 4.7e9 : 3.4e9));
		assert_true(getnum(o, "hw_min_hz") == 400e6);
		assert_string_equal(getstr(o, "epp"), "balance_performance");
	}
	assert_true(getnum(cpu_obj(part, 9), "cur_hz") == 3.4e9);
	assert_string_equal(getstr(part, "driver"), "intel_pstate");
	assert_int_equal(cJSON_GetArraySize(get(part, "epp_cpus")), 12);
	cJSON_Delete(part);
	ctx_close(&c);
}

/* --- changes, missing files ---------------------------------------------------- */

/* Values are re-read each sample; a CPU going offline keeps only its
 * identity, online flag and capacity. */
static void test_cpu_offline(void **state)
{
	struct ctx c;
	ctx_open(&c, "hybrid", true);
	cJSON *part = sample(&c, T0);
	assert_true(cJSON_IsTrue(get(cpu_obj(part, 7), "online")));
	cJSON_Delete(part);

	assert_int_equal(tmfx_write(c.env.sysfs_root, CPUDIR "/cpu7/online", "0\n"), 0);
	assert_int_equal(tmfx_write(c.env.sysfs_root, CPUDIR "/online", "0-6,8-11\n"), 0);
	write_freq(&c, 1, "scaling_cur_freq", "1300000\n");
	part = sample(&c, T0 + SEC);
	assert_true(available(part));
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), 12);
	const cJSON *o = cpu_obj(part, 7);
	assert_false(cJSON_IsTrue(get(o, "online")));
	assert_true(getnum(o, "capacity") == 1024);
	assert_null(get(o, "cur_hz"));
	assert_null(get(o, "governor"));
	assert_null(get(o, "errors"));
	assert_true(getnum(cpu_obj(part, 1), "cur_hz") == 1.3e9);
	assert_int_equal(cJSON_GetArraySize(get(part, "epp_cpus")), 11);
	char *text = tmfx_render(&tm_cpufreq, part, NULL);
	assert_non_null(strstr(text, "\nhwopt_cpu_online{cpu=\"7\"} 0\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_online{cpu=\"6\"} 1\n"));
	assert_null(strstr(text, "hwopt_cpu_scaling_frequency_hertz{cpu=\"7\"}"));
	free(text);
	cJSON_Delete(part);

	/* cpu0 has no online file (as on x86): the system's list decides. */
	assert_int_equal(tmfx_write(c.env.sysfs_root, CPUDIR "/online", "1-6,8-11\n"), 0);
	part = sample(&c, T0 + 2 * SEC);
	assert_false(cJSON_IsTrue(get(cpu_obj(part, 0), "online")));
	cJSON_Delete(part);
	/* Neither file: a CPU that cannot go offline. */
	assert_int_equal(tmfx_unlink(c.env.sysfs_root, CPUDIR "/online"), 0);
	part = sample(&c, T0 + 3 * SEC);
	assert_true(cJSON_IsTrue(get(cpu_obj(part, 0), "online")));
	assert_false(cJSON_IsTrue(get(cpu_obj(part, 7), "online")));
	cJSON_Delete(part);
	ctx_close(&c);
}

/* Hardware limits and capacity are read again every 60 samples (or when
 * the CPU goes on- or offline); the policy's values every sample. */
static void test_statics_cached(void **state)
{
	struct ctx c;
	ctx_open(&c, "laptop", true);
	cJSON_Delete(sample(&c, T0));
	write_freq(&c, 2, "cpuinfo_max_freq", "4800000\n");
	write_freq(&c, 2, "scaling_max_freq", "3000000\n");
	write_freq(&c, 2, "scaling_governor", "performance\n");
	write_freq(&c, 2, "energy_performance_preference", "power\n");
	cJSON *part = sample(&c, T0 + SEC);
	const cJSON *o = cpu_obj(part, 2);
	assert_true(getnum(o, "hw_max_hz") == 4.7e9);
	assert_true(getnum(o, "max_hz") == 3e9);
	assert_string_equal(getstr(o, "governor"), "performance");
	assert_string_equal(getstr(o, "epp"), "power");
	cJSON_Delete(part);
	for (int i = 2; i < 60; i++)
		cJSON_Delete(sample(&c, T0 + (uint64_t)i * SEC));
	part = sample(&c, T0 + 60 * SEC);
	assert_true(getnum(cpu_obj(part, 2), "hw_max_hz") == 4.8e9);
	cJSON_Delete(part);

	/* Offline and back: read again at once. */
	write_freq(&c, 2, "cpuinfo_max_freq", "4900000\n");
	assert_int_equal(tmfx_write(c.env.sysfs_root, CPUDIR "/online", "0-1,3-7\n"), 0);
	cJSON_Delete(sample(&c, T0 + 61 * SEC));
	assert_int_equal(tmfx_write(c.env.sysfs_root, CPUDIR "/online", "0-7\n"), 0);
	part = sample(&c, T0 + 62 * SEC);
	assert_true(getnum(cpu_obj(part, 2), "hw_max_hz") == 4.9e9);
	cJSON_Delete(part);
	ctx_close(&c);
}

static void test_cur_freq_fallback(void **state)
{
	struct ctx c;
	ctx_open(&c, "arm-server", true);
	unlink_freq(&c, 1, "scaling_cur_freq");
	write_freq(&c, 1, "cpuinfo_cur_freq", "2100000\n");
	cJSON *part = sample(&c, T0);
	assert_true(getnum(cpu_obj(part, 1), "cur_hz") == 2.1e9);
	assert_null(get(cpu_obj(part, 1), "errors"));
	cJSON_Delete(part);
	ctx_close(&c);

	/* intel_pstate has no cpuinfo_cur_freq: without scaling_cur_freq the
	 * CPU says so. */
	ctx_open(&c, "laptop", true);
	unlink_freq(&c, 3, "scaling_cur_freq");
	part = sample(&c, T0);
	assert_null(get(cpu_obj(part, 3), "cur_hz"));
	assert_true(has_error(cpu_obj(part, 3), "scaling_cur_freq: No such file or directory"));
	assert_true(getnum(cpu_obj(part, 3), "max_hz") == 4.7e9);
	cJSON_Delete(part);
	ctx_close(&c);
}

static void test_missing(void **state)
{
	struct ctx c;
	char cmd[PATH_MAX * 2 + 128];
	ctx_open(&c, "laptop", true);
	/* EPP on some CPUs only: listed where present, no error elsewhere. */
	unlink_freq(&c, 5, "energy_performance_preference");
	cJSON *part = sample(&c, T0);
	assert_null(get(cpu_obj(part, 5), "epp"));
	assert_null(get(cpu_obj(part, 5), "errors"));
	assert_int_equal(cJSON_GetArraySize(get(part, "epp_cpus")), 7);
	cJSON_Delete(part);

	/* No cpufreq at all: the source is unavailable with why. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/" CPUDIR "/cpufreq' '%s/" CPUDIR "'/cpu*/cpufreq",
		 c.env.sysfs_root, c.env.sysfs_root);
	assert_int_equal(system(cmd), 0);
	part = sample(&c, T0 + SEC);
	assert_false(available(part));
	char want[PATH_MAX + 128];
	snprintf(want, sizeof(want),
		 "no cpufreq in %s/" CPUDIR " (the kernel exposes no frequency scaling here)",
		 c.env.sysfs_root);
	assert_string_equal(reason_of(part), want);
	cJSON_Delete(part);

	/* No CPU directory: cannot list it. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/devices'", c.env.sysfs_root);
	assert_int_equal(system(cmd), 0);
	part = sample(&c, T0 + 2 * SEC);
	assert_false(available(part));
	assert_non_null(strstr(reason_of(part), "No such file or directory"));
	cJSON_Delete(part);
	ctx_close(&c);
}

/* --- garbage and permissions ------------------------------------------------------ */

static void test_garbage(void **state)
{
	struct ctx c;
	char path[PATH_MAX + 64];
	ctx_open(&c, "hybrid", true);
	write_freq(&c, 2, "scaling_cur_freq", "abc\n");
	write_freq(&c, 3, "scaling_max_freq", "99999999999999999999\n");
	write_freq(&c, 4, "cpuinfo_max_freq", "18446744073709552\n"); /* overflows as Hz */
	write_freq(&c, 5, "scaling_governor", "\x01\x02\n");
	write_freq(&c, 6, "scaling_governor", "");
	assert_int_equal(tmfx_write(c.env.sysfs_root, CPUDIR "/cpu9/cpu_capacity", "-3\n"), 0);
	unlink_freq(&c, 10, "scaling_min_freq");
	snprintf(path, sizeof(path), "%s/" CPUDIR "/cpu10/cpufreq/scaling_min_freq",
		 c.env.sysfs_root);
	assert_int_equal(mkdir(path, 0755), 0);
	/* Entries that are not CPUs. */
	snprintf(path, sizeof(path), "%s/" CPUDIR "/cpufoo", c.env.sysfs_root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/" CPUDIR "/cpu01", c.env.sysfs_root);
	assert_int_equal(mkdir(path, 0755), 0);

	cJSON *part = sample(&c, T0);
	assert_true(available(part));
	assert_int_equal(cJSON_GetArraySize(get(part, "cpus")), 12);
	const cJSON *o = cpu_obj(part, 2);
	assert_null(get(o, "cur_hz"));
	assert_true(has_error(o, "scaling_cur_freq: unreadable content"));
	assert_true(getnum(o, "max_hz") == 4.7e9);
	assert_string_equal(getstr(o, "governor"), "powersave");
	assert_null(get(cpu_obj(part, 3), "max_hz"));
	assert_true(has_error(cpu_obj(part, 3), "scaling_max_freq: unreadable content"));
	assert_null(get(cpu_obj(part, 4), "hw_max_hz"));
	assert_true(has_error(cpu_obj(part, 4), "cpuinfo_max_freq: unreadable content"));
	assert_null(get(cpu_obj(part, 5), "governor"));
	assert_true(has_error(cpu_obj(part, 5), "scaling_governor: unreadable content"));
	assert_true(has_error(cpu_obj(part, 6), "scaling_governor: unreadable content"));
	assert_null(get(cpu_obj(part, 9), "capacity"));
	assert_true(has_error(cpu_obj(part, 9), "cpu_capacity: unreadable content"));
	assert_null(get(cpu_obj(part, 10), "min_hz"));
	assert_true(has_error(cpu_obj(part, 10), "scaling_min_freq: Is a directory"));
	assert_null(get(cpu_obj(part, 0), "errors"));

	char *text = tmfx_render(&tm_cpufreq, part, NULL);
	assert_null(strstr(text, "hwopt_cpu_scaling_frequency_hertz{cpu=\"2\"}"));
	assert_non_null(strstr(text, "\nhwopt_cpu_scaling_frequency_hertz{cpu=\"1\"} 4700000000\n"));
	free(text);
	cJSON_Delete(part);
	ctx_close(&c);
}

static bool denied_check(void *arg)
{
	struct tm_env *env = arg;
	struct tm_source s = { .ops = &tm_cpufreq, .env = env };
	char reason[256] = "";
	if (tm_cpufreq.init(&s, reason, sizeof(reason)) < 0)
		return false;
	cJSON *part = tmfx_sample(&tm_cpufreq, env, &s, T0);
	const cJSON *o = cJSON_GetArrayItem(get(part, "cpus"), 0);
	const cJSON *cur = get(o, "cur_hz"), *max = get(o, "max_hz");
	bool ok = available(part) && !cur && has_error(o, "scaling_cur_freq: Permission denied") &&
		  cJSON_IsNumber(max) && max->valuedouble == 4.7e9 &&
		  has_error(o, "energy_performance_preference: Permission denied") &&
		  cJSON_IsNumber(get(cJSON_GetArrayItem(get(part, "cpus"), 1), "cur_hz"));
	cJSON_Delete(part);
	tm_cpufreq.fini(&s);
	return ok;
}

static void test_permission_denied(void **state)
{
	struct ctx c;
	ctx_open(&c, "laptop", true);
	assert_int_equal(chmod(c.dir, 0755), 0);
	char rel[128];
	snprintf(rel, sizeof(rel), CPUDIR "/cpufreq/policy0/scaling_cur_freq");
	assert_int_equal(tmfx_chmod(c.env.sysfs_root, rel, 0), 0);
	snprintf(rel, sizeof(rel), CPUDIR "/cpufreq/policy0/energy_performance_preference");
	assert_int_equal(tmfx_chmod(c.env.sysfs_root, rel, 0), 0);
	assert_true(tmfx_unprivileged(denied_check, &c.env));
	ctx_close(&c);
}

/* --- metrics ------------------------------------------------------------------------ */

static void test_metrics(void **state)
{
	struct ctx c;
	ctx_open(&c, "hybrid", false);
	cJSON *part = sample(&c, T0);
	char *text = tmfx_render(&tm_cpufreq, part, NULL);
	assert_non_null(strstr(text, "# TYPE hwopt_cpu_scaling_frequency_hertz gauge\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_scaling_frequency_hertz{cpu=\"0\"} 3100000000\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_scaling_frequency_min_hertz{cpu=\"11\"} 400000000\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_scaling_frequency_max_hertz{cpu=\"8\"} 3400000000\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_frequency_min_hertz{cpu=\"0\"} 400000000\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_frequency_max_hertz{cpu=\"7\"} 4700000000\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_capacity{cpu=\"0\"} 1024\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_capacity{cpu=\"8\"} 623\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_scaling_governor{cpu=\"3\",governor=\"powersave\"} 1\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_energy_performance_preference_info{cpu=\"10\","
				     "preference=\"balance_performance\"} 1\n"));
	assert_non_null(strstr(text, "\nhwopt_cpufreq_driver_info{driver=\"intel_pstate\"} 1\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_online{cpu=\"11\"} 1\n"));
	free(text);
	cJSON_Delete(part);
	ctx_close(&c);

	ctx_open(&c, "arm-server", false);
	part = sample(&c, T0);
	text = tmfx_render(&tm_cpufreq, part, NULL);
	assert_non_null(strstr(text, "\nhwopt_cpufreq_driver_info{driver=\"cppc_cpufreq\"} 1\n"));
	assert_non_null(strstr(text, "\nhwopt_cpu_scaling_governor{cpu=\"15\",governor=\"schedutil\"} 1\n"));
	assert_null(strstr(text, "\nhwopt_cpu_energy_performance_preference_info{"));
	free(text);
	cJSON_Delete(part);
	ctx_close(&c);

	/* Broken pieces of a part render nothing and crash nothing. */
	cJSON *bad = cJSON_Parse("{\"available\":true,\"cpus\":[{\"cpu\":\"x\"},3,{\"cpu\":1,"
				 "\"cur_hz\":\"fast\",\"governor\":7}],\"driver\":5}");
	text = tmfx_render(&tm_cpufreq, bad, NULL);
	assert_null(strstr(text, "hwopt_cpu_scaling_frequency_hertz{"));
	assert_null(strstr(text, "hwopt_cpufreq_driver_info{"));
	free(text);
	cJSON_Delete(bad);
}

/* --- this machine --------------------------------------------------------------------- */

static void test_host(void **state)
{
	struct tm_env env;
	memset(&env, 0, sizeof(env));
	snprintf(env.sysfs_root, sizeof(env.sysfs_root), "/sys");
	snprintf(env.procfs_root, sizeof(env.procfs_root), "/proc");
	struct tm_source s = { .ops = &tm_cpufreq, .env = &env };
	char reason[256] = "";
	assert_int_equal(tm_cpufreq.init(&s, reason, sizeof(reason)), 0);
	cJSON *part = tmfx_sample(&tm_cpufreq, &env, &s, T0);
	struct stat st;
	if (stat("/sys/devices/system/cpu/cpu0/cpufreq", &st) != 0) {
		/* A VM like this one: no frequency scaling exposed. */
		assert_false(available(part));
		assert_string_equal(reason_of(part),
				    "no cpufreq in /sys/devices/system/cpu (the kernel exposes no "
				    "frequency scaling here)");
	} else {
		assert_true(available(part));
		assert_true(cJSON_IsNumber(get(cpu_obj(part, 0), "hw_max_hz")));
	}
	cJSON_Delete(part);
	tm_cpufreq.fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_laptop),
		cmocka_unit_test(test_arm_server),
		cmocka_unit_test(test_hybrid),
		cmocka_unit_test(test_cpu_offline),
		cmocka_unit_test(test_statics_cached),
		cmocka_unit_test(test_cur_freq_fallback),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_permission_denied),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
