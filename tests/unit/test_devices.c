/* Device profiles: cpuinfo parsing (x86 and Arm fixtures in
 * tests/fixtures/cpuinfo), the shipped profiles of etc/devices against
 * them, malformed profiles (refused with FILE:LINE, skipped in a
 * directory), and which of several matching profiles wins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/devices.h"

#define FIXTURES SRCDIR "/tests/fixtures/cpuinfo"
#define PROFILES SRCDIR "/etc/devices"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void fixture_cpu(const char *name, struct device_cpu *c)
{
	char path[512];
	snprintf(path, sizeof(path), FIXTURES "/%s/cpuinfo", name);
	assert_int_equal(device_cpuinfo_parse(slurp(path), c), 0);
}

/* A fresh directory for profiles written by a test. */
static char tmpdir[64];

static int make_tmpdir(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hwopt-devices-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *write_profile(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* --- cpuinfo ------------------------------------------------------------------- */

static void cpuinfo_x86(void **state)
{
	struct device_cpu c;
	fixture_cpu("epyc-genoa", &c);
	assert_string_equal(c.vendor, "AuthenticAMD");
	assert_int_equal(c.family, 25);
	assert_int_equal(c.model, 17);
	assert_string_equal(c.model_name, "AMD EPYC 9654 96-Core Processor");
	assert_string_equal(c.name, "AMD EPYC 9654 96-Core Processor");
	assert_int_equal(c.implementer, -1);
	assert_int_equal(c.n_parts, 0);

	fixture_cpu("xeon-sapphire-rapids", &c);
	assert_string_equal(c.vendor, "GenuineIntel");
	assert_int_equal(c.family, 6);
	assert_int_equal(c.model, 143);
	assert_string_equal(c.model_name, "Intel(R) Xeon(R) Platinum 8480+");
}

static void cpuinfo_arm(void **state)
{
	struct device_cpu c;
	fixture_cpu("graviton2", &c);
	assert_string_equal(c.vendor, "ARM"); /* named after implementer 0x41 */
	assert_int_equal(c.implementer, 0x41);
	assert_int_equal(c.n_parts, 1); /* four processors, one kind of core */
	assert_int_equal(c.parts[0], 0xd0c);
	assert_int_equal(c.family, -1);
	assert_int_equal(c.model, -1);
	assert_string_equal(c.model_name, "");
	assert_string_equal(c.name, "ARM part 0xd0c");

	fixture_cpu("rk3588-big-little", &c);
	assert_int_equal(c.n_parts, 2);
	assert_int_equal(c.parts[0], 0xd05);
	assert_int_equal(c.parts[1], 0xd0b);
	assert_string_equal(c.name, "ARM part 0xd05,0xd0b");

	/* An implementer without a name, and text that names nothing. */
	assert_int_equal(device_cpuinfo_parse("CPU implementer\t: 0x99\nCPU part\t: 0x001\n", &c), 0);
	assert_string_equal(c.vendor, "0x99");
	assert_int_equal(device_cpuinfo_parse("processor : 0\nBogoMIPS : 1.0\n", &c), -1);
	assert_int_equal(device_cpuinfo_parse("", &c), -1);
}

/* --- the shipped profiles ----------------------------------------------------------- */

static void shipped_profiles_match_fixtures(void **state)
{
	static const struct {
		const char *fixture, *profile; /* NULL: none matches */
		uint32_t threads, max_batch;
	} cases[] = {
		{ "epyc-genoa", "amd-zen4", 8, 8 },
		{ "epyc-milan", "amd-zen3", 8, 8 },
		{ "xeon-sapphire-rapids", "intel-sapphire-rapids", 8, 16 },
		{ "core-raptor-lake", "intel-alder-raptor-lake", 4, 4 },
		{ "graviton2", "arm-neoverse-n1", 4, 8 },
		{ "graviton3", "arm-neoverse-v1", 8, 16 },
		{ "core2-duo", NULL, 0, 0 },
		{ "rk3588-big-little", NULL, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct device_cpu c;
		struct device_profile p;
		fixture_cpu(cases[i].fixture, &c);
		int rc = devices_match_dir(PROFILES, &c, &p);
		if (!cases[i].profile) {
			if (rc != 0)
				fail_msg("%s matched %s", cases[i].fixture, p.name);
			continue;
		}
		if (rc != 1)
			fail_msg("%s matched no profile", cases[i].fixture);
		assert_string_equal(p.name, cases[i].profile);
		assert_int_equal(p.tuning.threads_per_instance, cases[i].threads);
		assert_int_equal(p.tuning.max_batch, cases[i].max_batch);
		assert_true(p.tuning.set & MODEL_SET_THREADS);
	}
}

static void shipped_profiles_parse(void **state)
{
	static const char *const names[] = {
		"amd-zen3", "amd-zen4", "amd-zen5", "intel-sapphire-rapids",
		"intel-alder-raptor-lake", "arm-neoverse-n1", "arm-neoverse-v1",
		"arm-neoverse-n2", "arm-neoverse-v2",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[512], err[1024] = "";
		struct device_profile p;
		snprintf(path, sizeof(path), PROFILES "/%s.conf", names[i]);
		if (device_profile_read(path, &p, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		assert_string_equal(p.name, names[i]);
		assert_int_equal(p.tuning.set, MODEL_SET_THREADS | MODEL_SET_MAX_BATCH |
						       MODEL_SET_BATCH_DELAY);
	}
	/* Zen 4's ranges as Linux has them: 10h-1Fh and 60h-AFh. */
	struct device_profile p;
	char err[1024];
	assert_int_equal(device_profile_read(PROFILES "/amd-zen4.conf", &p, err, sizeof(err)), 0);
	assert_int_equal(p.n_models, 2);
	assert_int_equal(p.models[0].lo, 0x10);
	assert_int_equal(p.models[0].hi, 0x1f);
	assert_int_equal(p.models[1].lo, 0x60);
	assert_int_equal(p.models[1].hi, 0xaf);
}

/* --- matching ------------------------------------------------------------------------- */

static int score(const char *text, const struct device_cpu *c)
{
	struct device_profile p;
	char err[1024];
	const char *path = write_profile("t.conf", text);
	if (device_profile_read(path, &p, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	return device_profile_match(&p, c);
}

static void matching_rules(void **state)
{
	struct device_cpu genoa, bl;
	fixture_cpu("epyc-genoa", &genoa);
	fixture_cpu("rk3588-big-little", &bl);
	const char *tune = "[tuning]\nmax_batch = 2\n";
	char buf[512];
#define S(match, cpu) (snprintf(buf, sizeof(buf), "[match]\n%s%s", match, tune), score(buf, cpu))
	assert_int_equal(S("vendor = authenticamd\n", &genoa), 1);   /* any case */
	assert_int_equal(S("vendor = GenuineIntel\n", &genoa), 0);
	assert_int_equal(S("family = 0x19\n", &genoa), 1);          /* hex or decimal */
	assert_int_equal(S("family = 25\nmodels = 17\n", &genoa), 2);
	assert_int_equal(S("family = 25\nmodels = 0x00-0x0f, 0x20-0x5f\n", &genoa), 0);
	assert_int_equal(S("model_name = epyc 9654\n", &genoa), 1); /* a substring, any case */
	assert_int_equal(S("model_name = EPYC 9754\n", &genoa), 0);
	/* Arm keys never match an x86 CPU, nor x86 keys an Arm one. */
	assert_int_equal(S("implementer = 0x41\n", &genoa), 0);
	assert_int_equal(S("parts = 0xd0c\n", &genoa), 0);
	assert_int_equal(S("family = 25\n", &bl), 0);
	/* Every kind of core must be listed. */
	assert_int_equal(S("implementer = 0x41\nparts = 0xd0b\n", &bl), 0);
	assert_int_equal(S("implementer = 0x41\nparts = 0xd0b, 0xd05\n", &bl), 2);
	assert_int_equal(S("parts = 0xd00-0xd0f\n", &bl), 1);
#undef S
}

static void precedence(void **state)
{
	struct device_cpu genoa;
	struct device_profile p;
	fixture_cpu("epyc-genoa", &genoa);
	write_profile("a-vendor.conf", "[match]\nvendor = AuthenticAMD\n[tuning]\nmax_batch = 1\n");
	write_profile("b-family.conf", "[match]\nvendor = AuthenticAMD\nfamily = 25\n"
				       "[tuning]\nmax_batch = 2\n");
	write_profile("c-models.conf", "[match]\nvendor = AuthenticAMD\nfamily = 25\nmodels = 0x10-0x1f\n"
				       "[tuning]\nmax_batch = 3\n");
	write_profile("d-intel.conf", "[match]\nvendor = GenuineIntel\nfamily = 6\nmodels = 0x8f\n"
				      "model_name = Xeon\n[tuning]\nmax_batch = 4\n");
	/* The most [match] keys win. */
	assert_int_equal(devices_match_dir(tmpdir, &genoa, &p), 1);
	assert_string_equal(p.name, "c-models");
	assert_int_equal(p.tuning.max_batch, 3);
	assert_int_equal(p.tuning.set, MODEL_SET_MAX_BATCH);
	/* As many as c: the file name first in sort order wins, either way round. */
	write_profile("0-name.conf", "[match]\nvendor = AuthenticAMD\nfamily = 25\nmodel_name = EPYC\n"
				     "[tuning]\nmax_batch = 5\n");
	assert_int_equal(devices_match_dir(tmpdir, &genoa, &p), 1);
	assert_string_equal(p.name, "0-name");
	write_profile("z-name.conf", "[match]\nvendor = AuthenticAMD\nfamily = 25\nmodel_name = 9654\n"
				     "[tuning]\nmax_batch = 6\n");
	assert_int_equal(devices_match_dir(tmpdir, &genoa, &p), 1);
	assert_string_equal(p.name, "0-name");
	/* More specific still, and last in order. */
	write_profile("zz-exact.conf", "[match]\nvendor = AuthenticAMD\nfamily = 25\nmodels = 17\n"
				       "model_name = EPYC 9654\n[tuning]\nthreads_per_instance = 12\n");
	assert_int_equal(devices_match_dir(tmpdir, &genoa, &p), 1);
	assert_string_equal(p.name, "zz-exact");
	assert_int_equal(p.tuning.threads_per_instance, 12);
	/* Files not named *.conf, and hidden ones, are not profiles. */
	write_profile("zzz.conf.disabled", "[match]\nvendor = AuthenticAMD\nfamily = 25\nmodels = 17\n"
					   "model_name = EPYC\nimplementer = 1\n[tuning]\nmax_batch = 9\n");
	write_profile(".hidden.conf", "[match]\nvendor = AuthenticAMD\nfamily = 25\nmodels = 17\n"
				      "model_name = EPYC\nparts = 1\n[tuning]\nmax_batch = 9\n");
	assert_int_equal(devices_match_dir(tmpdir, &genoa, &p), 1);
	assert_string_equal(p.name, "zz-exact");
}

/* --- malformed ------------------------------------------------------------------------ */

static void expect_bad(const char *text, const char *where, const char *why)
{
	struct device_profile p;
	char err[1024] = "", want[512];
	const char *path = write_profile("bad.conf", text);
	assert_int_equal(device_profile_read(path, &p, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/bad.conf:%s", tmpdir, where);
	if (!strstr(err, want) || !strstr(err, why))
		fail_msg("for %s: got \"%s\", want \"%s\" and \"%s\"", text, err, want, why);
}

static void malformed_profiles(void **state)
{
	expect_bad("[match]\nvendor = X\ncolour = red\n[tuning]\nmax_batch = 2\n", "3:",
		   "[match] colour: unknown key");
	expect_bad("[match]\nvendor = X\n[tuning]\nthreads = 2\n", "4:", "[tuning] threads: unknown key");
	expect_bad("[match]\nvendor = X\nvendor = Y\n[tuning]\nmax_batch = 2\n", "3:", "given twice");
	expect_bad("[match]\nfamily = six\n[tuning]\nmax_batch = 2\n", "2:", "[match] family");
	expect_bad("[match]\nmodels = 0x1f-0x10\n[tuning]\nmax_batch = 2\n", "2:", "backwards");
	expect_bad("[match]\nmodels = 1,,x\n[tuning]\nmax_batch = 2\n", "2:", "not a number");
	expect_bad("[match]\nimplementer = 0x141\n[tuning]\nmax_batch = 2\n", "2:", "implementer");
	expect_bad("[match]\nvendor = X\n[tuning]\nthreads_per_instance = 0\n", "4:",
		   "from 1 to 1024");
	expect_bad("[match]\nvendor = X\n[tuning]\nmax_batch = 5000\n", "4:", "from 1 to 4096");
	expect_bad("[match]\nvendor = X\n[tuning]\nbatch_delay_us = -1\n", "4:", "batch_delay_us");
	expect_bad("[match]\nvendor = X\n[tunning]\nmax_batch = 2\n", "4:", "unknown section");
	/* An unknown section without keys is found by the header pass. */
	expect_bad("[match]\nvendor = X\n[tuning]\nmax_batch = 2\n[extra]\n", "5:", "unknown section");
	expect_bad("vendor = X\n[tuning]\nmax_batch = 2\n", "1:", "outside a section");
	expect_bad("[match]\nvendor = X\nthis is not ini\n[tuning]\nmax_batch = 2\n", "3:",
		   "syntax error");
	expect_bad("[match]\n[tuning]\nmax_batch = 2\n", "1:", "names no CPU");
	expect_bad("[tuning]\nmax_batch = 2\n", "1:", "names no CPU");
	expect_bad("[match]\nvendor = X\n\n[tuning]\n", "4:", "sets nothing");

	/* In a directory a malformed profile is skipped, the others still count. */
	struct device_cpu genoa;
	struct device_profile p;
	fixture_cpu("epyc-genoa", &genoa);
	write_profile("bad.conf", "[match]\nvendor = AuthenticAMD\nfamily = 25\nmodels = 17\n"
				  "model_name = EPYC\nbogus = 1\n[tuning]\nmax_batch = 9\n");
	write_profile("good.conf", "[match]\nvendor = AuthenticAMD\n[tuning]\nmax_batch = 7\n");
	assert_int_equal(devices_match_dir(tmpdir, &genoa, &p), 1);
	assert_string_equal(p.name, "good");
	assert_int_equal(p.tuning.max_batch, 7);
}

static void missing_directory(void **state)
{
	struct device_cpu c;
	struct device_profile p;
	fixture_cpu("epyc-genoa", &c);
	assert_int_equal(devices_match_dir("/nonexistent/hwoptd/devices", &c, &p), 0);
	assert_int_equal(devices_match_dir(SRCDIR "/VERSION", &c, &p), 0); /* not a directory */
}

/* devices_load as the daemon calls it: cpuinfo under procfs_root. */
static void load_for_the_daemon(void **state)
{
	static struct hwoptd d;
	snprintf(d.cfg.procfs_root, sizeof(d.cfg.procfs_root), FIXTURES "/graviton3");
	snprintf(d.cfg.devices_dir, sizeof(d.cfg.devices_dir), PROFILES);
	assert_int_equal(devices_load(&d), 0);
	const struct device_profile *p = devices_profile(&d);
	assert_non_null(p);
	assert_string_equal(p->name, "arm-neoverse-v1");
	assert_string_equal(devices_cpu_name(&d), "ARM part 0xd40");
	cJSON *j = devices_json(&d);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "profile"), "name")->valuestring,
			    "arm-neoverse-v1");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "cpu"), "implementer")->valuestring,
			    "0x41");
	cJSON_Delete(j);
	devices_free(&d);

	/* No cpuinfo: no profile, and that is fine. */
	snprintf(d.cfg.procfs_root, sizeof(d.cfg.procfs_root), "/nonexistent");
	assert_int_equal(devices_load(&d), 0);
	assert_null(devices_profile(&d));
	assert_string_equal(devices_cpu_name(&d), "");
	j = devices_json(&d);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "profile")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "cpu")));
	cJSON_Delete(j);
	devices_free(&d);
}

/* [daemon] devices_dir: beside the config file unless given. */
static void devices_dir_default(void **state)
{
	struct hwoptd_config c;
	char err[512], path[128];
	assert_int_equal(config_load(NULL, NULL, 0, &c, err, sizeof(err)), 0);
	assert_string_equal(c.devices_dir, "/etc/hwoptd/devices");
	snprintf(path, sizeof(path), "%s/h.conf", tmpdir);
	FILE *f = fopen(path, "w");
	fputs("[daemon]\nlog_level = info\n", f);
	fclose(f);
	assert_int_equal(config_load(path, NULL, 0, &c, err, sizeof(err)), 0);
	char want[160];
	snprintf(want, sizeof(want), "%s/devices", tmpdir);
	assert_string_equal(c.devices_dir, want);
	f = fopen(path, "w");
	fputs("[daemon]\ndevices_dir = /opt/profiles\n", f);
	fclose(f);
	assert_int_equal(config_load(path, NULL, 0, &c, err, sizeof(err)), 0);
	assert_string_equal(c.devices_dir, "/opt/profiles");
	f = fopen(path, "w");
	fputs("[daemon]\ndevices_dir = relative\n", f);
	fclose(f);
	assert_true(config_load(path, NULL, 0, &c, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "devices_dir"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cpuinfo_x86),
		cmocka_unit_test(cpuinfo_arm),
		cmocka_unit_test(shipped_profiles_match_fixtures),
		cmocka_unit_test(shipped_profiles_parse),
		cmocka_unit_test_setup_teardown(matching_rules, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(precedence, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(malformed_profiles, make_tmpdir, remove_tmpdir),
		cmocka_unit_test(missing_directory),
		cmocka_unit_test(load_for_the_daemon),
		cmocka_unit_test_setup_teardown(devices_dir_default, make_tmpdir, remove_tmpdir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
