/* Config parsing: defaults, every key, sizes, and errors that name
 * file:line and the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"

static char path[64];

static const char *write_conf(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/hwoptd-test-conf-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int load(const char *text, struct hwoptd_config *c, char *err, size_t errlen)
{
	const char *p = write_conf(text);
	int rc = config_load(p, NULL, 0, c, err, errlen);
	unlink(p);
	return rc;
}

static void defaults(void **state)
{
	struct hwoptd_config c;
	char err[512];
	assert_int_equal(config_load(NULL, NULL, 0, &c, err, sizeof(err)), 0);
	assert_int_equal(c.max_connections, 1024);
	assert_int_equal(c.max_line_bytes, 1 << 20);
	assert_int_equal(c.max_queued_bytes, 16 << 20);
	assert_int_equal(c.shutdown_grace_ms, 5000);
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	assert_int_equal(c.admin_gid, (gid_t)-1);
	if (geteuid() == 0) {
		assert_string_equal(c.socket, "/run/hwoptd/hwoptd.sock");
		assert_string_equal(c.state_dir, "/var/lib/hwoptd");
	}
}

static void every_key(void **state)
{
	struct hwoptd_config c;
	char err[512];
	int rc = load("; comment\n# another\n[daemon]\n"
		      "socket = /tmp/x/h.sock\n"
		      "socket_group = root\n"
		      "admin_group = 0\n"
		      "state_dir = /tmp/x/state\n"
		      "log_level = debug\n"
		      "max_connections = 7\n"
		      "max_line_bytes = 64K\n"
		      "max_queued_bytes = 2MiB\n"
		      "shutdown_grace_ms = 0\n",
		      &c, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_string_equal(c.socket, "/tmp/x/h.sock");
	assert_string_equal(c.socket_group, "root");
	assert_int_equal(c.socket_gid, 0);
	assert_int_equal(c.admin_gid, 0);
	assert_string_equal(c.state_dir, "/tmp/x/state");
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_int_equal(c.max_connections, 7);
	assert_int_equal(c.max_line_bytes, 64 << 10);
	assert_int_equal(c.max_queued_bytes, 2 << 20);
	assert_int_equal(c.shutdown_grace_ms, 0);
}

static void sizes(void **state)
{
	uint64_t v;
	assert_int_equal(config_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(config_parse_size("1k", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(config_parse_size("3G", &v), 0);
	assert_int_equal(v, 3ull << 30);
	assert_int_equal(config_parse_size("5MB", &v), 0);
	assert_int_equal(v, 5ull << 20);
	assert_true(config_parse_size("", &v) < 0);
	assert_true(config_parse_size("-1", &v) < 0);
	assert_true(config_parse_size("1T", &v) < 0);
	assert_true(config_parse_size("1 M", &v) < 0);
	assert_true(config_parse_size("12x", &v) < 0);
	assert_true(config_parse_size("99999999999999999999", &v) < 0);
	assert_true(config_parse_size("17179869184G", &v) < 0); /* overflows 64 bits */
}

/* Each bad file: the error must carry "FILE:LINE: [section] key" and a reason. */
static void expect_error(const char *text, int line, const char *where, const char *reason)
{
	struct hwoptd_config c;
	char err[512], want[256];
	int rc = load(text, &c, err, sizeof(err));
	assert_true(rc < 0);
	snprintf(want, sizeof(want), "%s:%d: %s", path, line, where);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got '%s', want prefix '%s'", err, want);
	if (!strstr(err, reason))
		fail_msg("got '%s', want it to mention '%s'", err, reason);
}

static void errors(void **state)
{
	expect_error("[daemon]\nbogus = 1\n", 2, "[daemon] bogus", "unknown key");
	expect_error("[daemon]\n[nope]\nx = 1\n", 3, "[nope] x", "unknown section");
	expect_error("top = 1\n", 1, "[] top", "outside a section");
	expect_error("[daemon]\n\nmax_connections = 0\n", 3, "[daemon] max_connections", "outside 1..65536");
	expect_error("[daemon]\nmax_connections = 70000\n", 2, "[daemon] max_connections", "outside");
	expect_error("[daemon]\nmax_connections = ten\n", 2, "[daemon] max_connections", "whole number");
	expect_error("[daemon]\nmax_connections = 5x\n", 2, "[daemon] max_connections", "whole number");
	expect_error("[daemon]\nmax_line_bytes = 1K\n", 2, "[daemon] max_line_bytes", "outside");
	expect_error("[daemon]\nmax_queued_bytes = lots\n", 2, "[daemon] max_queued_bytes", "size");
	expect_error("[daemon]\nlog_level = loud\n", 2, "[daemon] log_level", "not one of");
	expect_error("[daemon]\nsocket = relative.sock\n", 2, "[daemon] socket", "absolute");
	expect_error("[daemon]\nadmin_group = no-such-group-hwoptd\n", 2, "[daemon] admin_group",
		     "no such group");
	expect_error("[daemon]\nlog_level = info\nlog_level = debug\n", 3, "[daemon] log_level",
		     "twice");
}

static void syntax_error(void **state)
{
	struct hwoptd_config c;
	char err[512];
	assert_true(load("[daemon]\nthis line has no equals sign\n", &c, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, ":2: syntax error"));
}

static void missing_file(void **state)
{
	struct hwoptd_config c;
	char err[512];
	assert_int_equal(config_load("/nonexistent/hwoptd.conf", NULL, 0, &c, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/hwoptd.conf"));
}

static void overrides_win(void **state)
{
	struct hwoptd_config c;
	char err[512];
	const char *p = write_conf("[daemon]\nlog_level = error\nsocket = /tmp/a.sock\n");
	struct config_override ov[] = { { "log_level", "debug", NULL },
					{ "socket", "/tmp/b.sock", NULL },
					{ "sysfs_root", "/tmp/fixture/sys", "telemetry" } };
	assert_int_equal(config_load(p, ov, 3, &c, err, sizeof(err)), 0);
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_string_equal(c.socket, "/tmp/b.sock");
	assert_string_equal(c.sysfs_root, "/tmp/fixture/sys");
	struct config_override bad[] = { { "log_level", "shout", NULL } };
	assert_true(config_load(p, bad, 1, &c, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "command line: log_level"));
	unlink(p);
}

static void failed_load_leaves_output_alone(void **state)
{
	struct hwoptd_config c, before;
	char err[512];
	assert_int_equal(load("[daemon]\nmax_connections = 9\n", &c, err, sizeof(err)), 0);
	before = c;
	assert_true(load("[daemon]\nmax_connections = 3\nbogus = 1\n", &c, err, sizeof(err)) < 0);
	assert_memory_equal(&c, &before, sizeof(c));
}

/* [scheduler], [pools] and [model NAME]: values, and bad input. */
static void job_sections(void **state)
{
	struct hwoptd_config c;
	char err[512];
	assert_int_equal(load("[scheduler]\nworkers = 3\nmax_queue = 10\n[pools]\npool_quota = 2M\n"
			      "[model mlp]\npath = /m/mlp.onnx\nprecision = int8\nmax_batch = 16\n"
			      "keep_fp32 = head*, Softmax\n[model b.2]\npath = /m/b.onnx\n",
			      &c, err, sizeof(err)), 0);
	assert_int_equal(c.workers, 3);
	assert_int_equal(c.max_queue, 10);
	assert_int_equal(c.pool_quota, 2 << 20);
	assert_int_equal(c.n_models, 2);
	assert_string_equal(c.models[0].name, "mlp");
	assert_string_equal(c.models[0].precision, "int8");
	assert_int_equal(c.models[0].max_batch, 16);
	assert_int_equal(c.models[1].instances, 1);
	assert_int_equal(c.models[1].batch_delay_us, 500);

	expect_error("[scheduler]\nworkers = -1\n", 2, "[scheduler] workers", "whole number");
	expect_error("[scheduler]\nmax_queue = 0\n", 2, "[scheduler] max_queue", "outside");
	expect_error("[pools]\npool_quota = lots\n", 2, "[pools] pool_quota", "size");
	expect_error("[model a]\npath = rel.onnx\n", 2, "[model a] path", "absolute");
	expect_error("[model a]\npath = /a\nprecision = fp8\n", 3, "[model a] precision", "fp32");
	expect_error("[model a]\npath = /a\ninstances = 0\n", 3, "[model a] instances", "outside");
	expect_error("[model a]\npath = /a\nmin_cosine = 2\n", 3, "[model a] min_cosine", "at most 1");
	expect_error("[model a]\npath = /a\ncolour = red\n", 3, "[model a] colour", "unknown key");
	expect_error("[model a]\npath = /a\npath = /b\n", 3, "[model a] path", "given twice");
	expect_error("[model a/b]\npath = /a\n", 2, "[model a/b] path", "model names");
	/* A section without its path is refused as a whole. */
	assert_true(load("[model a]\nmax_batch = 4\n", &c, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "[model a] path: missing"));
}

static void diff(void **state)
{
	struct hwoptd_config a, b;
	config_defaults(&a);
	b = a;
	b.max_connections = 3;
	snprintf(b.socket, sizeof(b.socket), "/tmp/other.sock");
	cJSON *applied = cJSON_CreateArray(), *restart = cJSON_CreateArray();
	config_diff(&a, &b, applied, restart);
	assert_int_equal(cJSON_GetArraySize(applied), 1);
	assert_string_equal(cJSON_GetArrayItem(applied, 0)->valuestring, "max_connections");
	assert_int_equal(cJSON_GetArraySize(restart), 1);
	assert_string_equal(cJSON_GetArrayItem(restart, 0)->valuestring, "socket");
	cJSON_Delete(applied);
	cJSON_Delete(restart);

	cJSON *j = config_to_json(&b);
	assert_int_equal(cJSON_GetObjectItem(j, "max_connections")->valueint, 3);
	assert_string_equal(cJSON_GetObjectItem(j, "log_level")->valuestring, "info");
	cJSON_Delete(j);
}

/* The shipped example must parse, and name every key. */
static void example_config(void **state)
{
	struct hwoptd_config c;
	char err[512];
	assert_int_equal(config_load(SRCDIR "/etc/hwoptd.conf", NULL, 0, &c, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(every_key),
		cmocka_unit_test(sizes),
		cmocka_unit_test(errors),
		cmocka_unit_test(syntax_error),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(overrides_win),
		cmocka_unit_test(failed_load_leaves_output_alone),
		cmocka_unit_test(job_sections),
		cmocka_unit_test(diff),
		cmocka_unit_test(example_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
