/* Fixture trees for the telemetry source tests: a writable copy of
 * tests/fixtures/NAME to break (missing files, garbage, no permission), and
 * a helper that runs a check without root's power to read anything. */
#ifndef HWOPT_TESTS_TM_FIXTURE_H
#define HWOPT_TESTS_TM_FIXTURE_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "daemon/prom.h"
#include "daemon/telemetry/source.h"

/* The JSON accessors below fail the running cmocka test: include
 * <cmocka.h> (after setjmp.h, stdarg.h, stddef.h, stdint.h) first. */

/* The checked-in tree itself (read-only use). */
static inline void tmfx_env(struct tm_env *env, const char *fixture)
{
	memset(env, 0, sizeof(*env));
	snprintf(env->sysfs_root, sizeof(env->sysfs_root), "%s/tests/fixtures/%s/sys", SRCDIR,
		 fixture);
	snprintf(env->procfs_root, sizeof(env->procfs_root), "%s/tests/fixtures/%s/proc", SRCDIR,
		 fixture);
}

/* A private copy under /tmp; dir receives its path. env points into it. */
static inline int tmfx_copy(struct tm_env *env, const char *fixture, char *dir, size_t dl)
{
	snprintf(dir, dl, "/tmp/hwopt-fx-XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0755) < 0) /* the unprivileged child must enter it */
		return -errno;
	char cmd[PATH_MAX * 2 + 64];
	snprintf(cmd, sizeof(cmd), "cp -a '%s/tests/fixtures/%s/.' '%s/'", SRCDIR, fixture, dir);
	if (system(cmd) != 0)
		return -EIO;
	memset(env, 0, sizeof(*env));
	snprintf(env->sysfs_root, sizeof(env->sysfs_root), "%s/sys", dir);
	snprintf(env->procfs_root, sizeof(env->procfs_root), "%s/proc", dir);
	return 0;
}

static inline void tmfx_remove(const char *dir)
{
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* The fixture writers stay out of line: inlined, gcc sees a caller's
 * 4096-byte root and warns that the joined path might not fit. */
#define TMFX_OUTOFLINE __attribute__((noinline, unused))

/* Writes (replaces) root/rel with text. */
static TMFX_OUTOFLINE int tmfx_write(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX * 2 + 2];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

static TMFX_OUTOFLINE int tmfx_unlink(const char *root, const char *rel)
{
	char path[PATH_MAX * 2 + 2];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return unlink(path) == 0 ? 0 : -errno;
}

static TMFX_OUTOFLINE int tmfx_chmod(const char *root, const char *rel, mode_t mode)
{
	char path[PATH_MAX * 2 + 2];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return chmod(path, mode) == 0 ? 0 : -errno;
}

/* Runs fn in a child that is not root (uid/gid 65534 when we are root), so
 * mode 000 files really are unreadable. Returns fn's result (true: pass). */
static inline bool tmfx_unprivileged(bool (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
				       setresuid(65534, 65534, 65534) < 0))
			_exit(2);
		_exit(fn(arg) ? 0 : 1);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ops' Prometheus series for part; *dropped (NULL: must be none) gets
 * the series the renderer dropped. Caller frees. */
static inline char *tmfx_render(const struct tm_source_ops *ops, const cJSON *part, size_t *dropped)
{
	struct prom *p = prom_new();
	assert_non_null(p);
	ops->metrics(part, p);
	if (dropped)
		*dropped = prom_n_dropped(p);
	else
		assert_int_equal(prom_n_dropped(p), 0);
	char *text = prom_render(p, NULL);
	assert_non_null(text);
	prom_free(p);
	return text;
}

static inline void tmfx_assert_line(const char *text, const char *line)
{
	if (!text)
		fail_msg("no metrics text");
	else if (!strstr(text, line))
		fail_msg("missing \"%s\" in:\n%s", line, text);
}

/* Runs one sample of ops against env: part gets the source's object with
 * "available" (and "reason") added as the daemon does. Caller frees. */
static inline cJSON *tmfx_sample(const struct tm_source_ops *ops, const struct tm_env *env,
				 struct tm_source *s, uint64_t now_ns)
{
	char reason[256] = "";
	cJSON *part = cJSON_CreateObject();
	int rc = ops->sample(s, now_ns, part, reason, sizeof(reason));
	if (rc < 0) {
		cJSON_Delete(part);
		part = cJSON_CreateObject();
		cJSON_AddFalseToObject(part, "available");
		cJSON_AddStringToObject(part, "reason", reason);
	} else {
		cJSON_AddTrueToObject(part, "available");
	}
	return part;
}

/* Members of a sampled part, failing the test when absent or mistyped. */
static inline bool available(const cJSON *part)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part, "available"));
}

static inline const cJSON *item(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static inline double num(const cJSON *o, const char *key)
{
	const cJSON *v = item(o, key);
	if (!cJSON_IsNumber(v))
		fail_msg("%s is not a number", key);
	return v->valuedouble;
}

static inline const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = item(o, key);
	if (!cJSON_IsString(v))
		fail_msg("%s is not a string", key);
	return v->valuestring;
}

static inline const cJSON *at(const cJSON *o, const char *key, int i)
{
	const cJSON *a = item(o, key);
	assert_true(cJSON_IsArray(a));
	const cJSON *e = cJSON_GetArrayItem(a, i);
	assert_non_null(e);
	return e;
}

#endif
