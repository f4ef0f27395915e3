/* The sysfs actuator against temporary trees of regular files that play
 * sysfs: journal before the first write, read-back, restore, recovery after
 * a crash, corrupt journals, path checks and errors counted by errno. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "policies/actuator.h"

#define POLICY0 "devices/system/cpu/cpufreq/policy0"
#define GOV POLICY0 "/scaling_governor"
#define MAXF POLICY0 "/scaling_max_freq"
#define PROFILE "firmware/acpi/platform_profile"

/* Formats into an array, failing the test when it does not fit. */
#define FMT(buf, ...) assert_true(snprintf(buf, sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

struct fx {
	char dir[64];
	char root[PATH_MAX];  /* dir/sys */
	char state[PATH_MAX]; /* dir/state/hwoptd: made by the actuator */
	char journal[PATH_MAX];
	unsigned logged;
	char last_log[1024];
};

static void log_cb(void *ctx, const char *msg)
{
	struct fx *f = ctx;
	f->logged++;
	FMT(f->last_log, "%s", msg);
}

static void put(const struct fx *f, const char *rel, const char *text)
{
	char path[PATH_MAX];
	FMT(path, "%s/%s", f->root, rel);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* The file's whole text, untrimmed (static buffer). */
static const char *get(const struct fx *f, const char *rel)
{
	static char buf[4096];
	char path[PATH_MAX];
	FMT(path, "%s/%s", f->root, rel);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void mkdirs(const char *root, const char *rel)
{
	char cmd[PATH_MAX * 2];
	FMT(cmd, "mkdir -p '%s/%s'", root, rel);
	assert_int_equal(system(cmd), 0);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	FMT(f->dir, "/tmp/hwoptd-test-act-XXXXXX");
	if (!mkdtemp(f->dir) || chmod(f->dir, 0755) < 0) /* the unprivileged child enters it */
		return -1;
	FMT(f->root, "%s/sys", f->dir);
	FMT(f->state, "%s/state/hwoptd", f->dir);
	FMT(f->journal, "%s/" POL_JOURNAL_NAME, f->state);
	mkdirs(f->root, POLICY0);
	mkdirs(f->root, "devices/system/cpu/cpu0");
	mkdirs(f->root, "firmware/acpi");
	put(f, GOV, "powersave\n");
	put(f, MAXF, "4700000\n");
	put(f, PROFILE, "balanced\n");
	char link[PATH_MAX];
	FMT(link, "%s/devices/system/cpu/cpu0/cpufreq", f->root);
	if (symlink("../cpufreq/policy0", link) < 0)
		return -1;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	FMT(cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

static struct pol_actuator *open_act(struct fx *f, unsigned *restored)
{
	struct pol_actuator *a = NULL;
	char err[512] = "";
	int rc = pol_actuator_open(f->root, f->state, log_cb, f, &a, restored, err, sizeof(err));
	if (rc != 0)
		fail_msg("open: %d %s", rc, err);
	return a;
}

/* Lines in the journal; -1 when it does not exist. */
static int journal_lines(const struct fx *f)
{
	FILE *fp = fopen(f->journal, "r");
	if (!fp)
		return -1;
	int n = 0, ch;
	while ((ch = fgetc(fp)) != EOF)
		n += ch == '\n';
	fclose(fp);
	return n;
}

static cJSON *journal_line(const struct fx *f, int want)
{
	char line[2048];
	FILE *fp = fopen(f->journal, "r");
	assert_non_null(fp);
	for (int i = 0; fgets(line, sizeof(line), fp); i++)
		if (i == want) {
			fclose(fp);
			return cJSON_Parse(line);
		}
	fclose(fp);
	return NULL;
}

static void append_journal(const struct fx *f, const char *text)
{
	FILE *fp = fopen(f->journal, "a");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* --- writes and the journal ------------------------------------------------------------------- */

static void test_write_journals_once(void **state)
{
	struct fx *f = *state;
	struct pol_actuator *a = open_act(f, NULL);
	char old[POL_VALUE_MAX], err[512] = "";
	struct stat sb;
	/* state/hwoptd did not exist: made 0700. */
	assert_int_equal(stat(f->state, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(journal_lines(f), -1);

	assert_int_equal(pol_actuator_write(a, GOV, "performance", old, err, sizeof(err)), 0);
	assert_string_equal(old, "powersave");
	assert_string_equal(get(f, GOV), "performance\n"); /* like sysfs reads */
	assert_int_equal(journal_lines(f), 1);
	assert_int_equal(stat(f->journal, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	cJSON *l = journal_line(f, 0);
	char real[PATH_MAX], rroot[PATH_MAX];
	assert_non_null(realpath(f->root, rroot));
	FMT(real, "%s/" GOV, rroot);
	assert_string_equal(jstr(l, "root"), rroot);
	assert_string_equal(jstr(l, "path"), real);
	assert_string_equal(jstr(l, "original"), "powersave");
	cJSON_Delete(l);

	/* The second write of the same file journals nothing more. */
	assert_int_equal(pol_actuator_write(a, GOV, "schedutil", old, err, sizeof(err)), 0);
	assert_string_equal(old, "performance");
	assert_string_equal(get(f, GOV), "schedutil\n");
	assert_int_equal(journal_lines(f), 1);

	/* A shorter value leaves no old bytes behind. */
	assert_int_equal(pol_actuator_write(a, MAXF, "800", NULL, err, sizeof(err)), 0);
	assert_string_equal(get(f, MAXF), "800\n");
	assert_int_equal(journal_lines(f), 2);

	char buf[POL_VALUE_MAX];
	assert_int_equal(pol_actuator_read(a, MAXF, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "800");
	char tiny[3];
	assert_int_equal(pol_actuator_read(a, MAXF, tiny, sizeof(tiny)), -EOVERFLOW);

	struct pol_actuator_stats st;
	pol_actuator_stats(a, &st);
	assert_int_equal(st.writes, 3);
	assert_int_equal(st.unchanged, 0);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.held, 2);
	assert_string_equal(pol_actuator_journal_path(a), f->journal);

	cJSON *j = pol_actuator_json(a);
	assert_string_equal(jstr(j, "path"), f->journal);
	const cJSON *s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "settings"), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "settings")), 2);
	assert_string_equal(jstr(s0, "path"), real);
	assert_string_equal(jstr(s0, "original"), "powersave");
	assert_string_equal(jstr(s0, "current"), "schedutil");
	cJSON_Delete(j);

	pol_actuator_close(a, true);
	assert_int_equal(f->logged, 0);
}

static void test_unchanged_value(void **state)
{
	struct fx *f = *state;
	struct pol_actuator *a = open_act(f, NULL);
	char old[POL_VALUE_MAX], err[512] = "";
	assert_int_equal(pol_actuator_write(a, PROFILE, "balanced", old, err, sizeof(err)), 0);
	assert_string_equal(old, "balanced");
	assert_int_equal(journal_lines(f), -1); /* nothing to put back: no journal */
	struct pol_actuator_stats st;
	pol_actuator_stats(a, &st);
	assert_int_equal(st.unchanged, 1);
	assert_int_equal(st.writes, 0);
	assert_int_equal(st.held, 0);
	pol_actuator_close(a, true);
	assert_string_equal(get(f, PROFILE), "balanced\n"); /* not even rewritten */
}

static void test_restore(void **state)
{
	struct fx *f = *state;
	struct pol_actuator *a = open_act(f, NULL);
	char err[512] = "";
	assert_int_equal(pol_actuator_write(a, GOV, "performance", NULL, err, sizeof(err)), 0);
	assert_int_equal(pol_actuator_write(a, PROFILE, "low-power", NULL, err, sizeof(err)), 0);
	assert_int_equal(pol_actuator_write(a, GOV, "schedutil", NULL, err, sizeof(err)), 0);
	assert_int_equal(journal_lines(f), 2);

	assert_int_equal(pol_actuator_restore(a), 0);
	assert_string_equal(get(f, GOV), "powersave\n");
	assert_string_equal(get(f, PROFILE), "balanced\n");
	assert_int_equal(journal_lines(f), -1);
	struct pol_actuator_stats st;
	pol_actuator_stats(a, &st);
	assert_int_equal(st.held, 0);

	/* Later writes journal afresh. */
	assert_int_equal(pol_actuator_write(a, GOV, "performance", NULL, err, sizeof(err)), 0);
	assert_int_equal(journal_lines(f), 1);
	pol_actuator_close(a, true);
	assert_string_equal(get(f, GOV), "powersave\n");
	assert_int_equal(journal_lines(f), -1);
	assert_int_equal(f->logged, 0);
}

/* Restore writes only what differs, and counts what it cannot put back. */
static void test_restore_failure(void **state)
{
	struct fx *f = *state;
	struct pol_actuator *a = open_act(f, NULL);
	char err[512] = "", path[PATH_MAX];
	assert_int_equal(pol_actuator_write(a, GOV, "performance", NULL, err, sizeof(err)), 0);
	assert_int_equal(pol_actuator_write(a, PROFILE, "quiet", NULL, err, sizeof(err)), 0);
	FMT(path, "%s/" PROFILE, f->root);
	assert_int_equal(unlink(path), 0); /* the device went away */
	assert_int_equal(pol_actuator_restore(a), 1);
	assert_int_equal(f->logged, 1);
	assert_non_null(strstr(f->last_log, "platform_profile"));
	assert_string_equal(get(f, GOV), "powersave\n");
	assert_int_equal(journal_lines(f), -1);
	pol_actuator_close(a, true);
}

static void test_no_restore_on_exit(void **state)
{
	struct fx *f = *state;
	struct pol_actuator *a = open_act(f, NULL);
	char err[512] = "";
	assert_int_equal(pol_actuator_write(a, GOV, "performance", NULL, err, sizeof(err)), 0);
	assert_int_equal(journal_lines(f), 1);
	pol_actuator_close(a, false);
	assert_string_equal(get(f, GOV), "performance\n");
	assert_int_equal(journal_lines(f), -1);
	/* And the next start has nothing to restore. */
	unsigned restored = 99;
	a = open_act(f, &restored);
	assert_int_equal(restored, 0);
	pol_actuator_close(a, true);
	assert_string_equal(get(f, GOV), "performance\n");
}

/* cpu0/cpufreq is a symlink to policy0: one setting, one journal line. */
static void test_alias_journals_once(void **state)
{
	struct fx *f = *state;
	struct pol_actuator *a = open_act(f, NULL);
	char old[POL_VALUE_MAX], err[512] = "";
	assert_int_equal(pol_actuator_write(a, "devices/system/cpu/cpu0/cpufreq/scaling_max_freq",
					    "3000000", old, err, sizeof(err)), 0);
	assert_string_equal(old, "4700000");
	assert_int_equal(pol_actuator_write(a, MAXF, "2000000", old, err, sizeof(err)), 0);
	assert_string_equal(old, "3000000");
	assert_int_equal(journal_lines(f), 1);
	cJSON *l = journal_line(f, 0);
	assert_non_null(strstr(jstr(l, "path"), "/" POLICY0 "/scaling_max_freq"));
	assert_null(strstr(jstr(l, "path"), "cpu0"));
	assert_string_equal(jstr(l, "original"), "4700000");
	cJSON_Delete(l);
	struct pol_actuator_stats st;
	pol_actuator_stats(a, &st);
	assert_int_equal(st.held, 1);
	pol_actuator_close(a, true);
	assert_string_equal(get(f, MAXF), "4700000\n");
}

/* --- crashes ---------------------------------------------------------------------------------- */

static void test_crash_recovery(void **state)
{
	struct fx *f = *state;
	struct pol_actuator *a = open_act(f, NULL);
	char err[512] = "";
	assert_int_equal(pol_actuator_write(a, GOV, "performance", NULL, err, sizeof(err)), 0);
	assert_int_equal(pol_actuator_write(a, MAXF, "1000000", NULL, err, sizeof(err)), 0);
	assert_int_equal(pol_actuator_write(a, PROFILE, "balanced", NULL, err, sizeof(err)), 0);
	pol_actuator_abandon(a); /* the daemon crashed */
	assert_int_equal(journal_lines(f), 2);
	assert_string_equal(get(f, GOV), "performance\n");

	unsigned restored = 0;
	a = open_act(f, &restored);
	assert_int_equal(restored, 2);
	assert_string_equal(get(f, GOV), "powersave\n");
	assert_string_equal(get(f, MAXF), "4700000\n");
	assert_string_equal(get(f, PROFILE), "balanced\n");
	assert_int_equal(journal_lines(f), -1);
	struct pol_actuator_stats st;
	pol_actuator_stats(a, &st);
	assert_int_equal(st.held, 0);
	pol_actuator_close(a, true);
	assert_int_equal(f->logged, 0);
}

/* A crash after the journal line but before (or during) the write: the
 * original equals the current value and nothing needs writing. */
static void test_crash_before_write(void **state)
{
	struct fx *f = *state;
	struct pol_actuator *a = open_act(f, NULL);
	char err[512] = "";
	assert_int_equal(pol_actuator_write(a, GOV, "performance", NULL, err, sizeof(err)), 0);
	put(f, GOV, "powersave\n");
	pol_actuator_abandon(a);
	unsigned restored = 99;
	a = open_act(f, &restored);
	assert_int_equal(restored, 0);
	assert_string_equal(get(f, GOV), "powersave\n");
	assert_int_equal(journal_lines(f), -1);
	pol_actuator_close(a, true);
}

static void test_corrupt_journal(void **state)
{
	struct fx *f = *state;
	char rroot[PATH_MAX], text[PATH_MAX * 4], outside[PATH_MAX], big[POL_VALUE_MAX + 8];
	assert_non_null(realpath(f->root, rroot));
	mkdirs(f->dir, "state/hwoptd");
	/* A file outside the root that a bad line names: it must stay as it is. */
	FMT(outside, "%s/outside", f->dir);
	FILE *fp = fopen(outside, "w");
	assert_non_null(fp);
	fputs("keep\n", fp);
	fclose(fp);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';

	put(f, GOV, "performance\n");
	put(f, MAXF, "1\n");
	append_journal(f, "this is not json\n");
	append_journal(f, "[1,2,3]\n");
	append_journal(f, "\n"); /* blank: ignored silently */
	FMT(text, "{\"root\":\"%s\",\"path\":7,\"original\":\"x\"}\n", rroot);
	append_journal(f, text);
	FMT(text, "{\"root\":\"%s\",\"path\":\"%s/" GOV "\"}\n", rroot, rroot);
	append_journal(f, text);
	FMT(text, "{\"root\":\"%s\",\"path\":\"%s\",\"original\":\"gone\"}\n",
		 rroot, outside);
	append_journal(f, text);
	FMT(text,
		 "{\"root\":\"%s\",\"path\":\"%s/devices/../" PROFILE
		 "\",\"original\":\"quiet\"}\n",
		 rroot, rroot);
	append_journal(f, text);
	FMT(text, "{\"root\":\"%s\",\"path\":\"%s/" MAXF "\",\"original\":\"%s\"}\n",
		 rroot, rroot, big);
	append_journal(f, text);
	FMT(text, "{\"root\":\"%s\",\"path\":\"%s/nope\",\"original\":\"1\"}\n",
		 rroot, rroot);
	append_journal(f, text);
	FMT(text, "{\"root\":\"%s\",\"path\":\"%s/" GOV "\",\"original\":\"powersave\"}\n",
		 rroot, rroot);
	append_journal(f, text);
	append_journal(f, "{\"root\":\"/sy"); /* torn last line of a crash */

	unsigned restored = 0;
	struct pol_actuator *a = open_act(f, &restored);
	assert_int_equal(restored, 1);
	assert_string_equal(get(f, GOV), "powersave\n");
	assert_string_equal(get(f, MAXF), "1\n");
	assert_string_equal(get(f, PROFILE), "balanced\n");
	fp = fopen(outside, "r");
	char line[64] = "";
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	assert_string_equal(line, "keep\n");
	assert_int_equal(f->logged, 9);
	assert_int_equal(journal_lines(f), -1);
	pol_actuator_close(a, true);
}

/* Two lines for one path (the journal outlived a restore): newest first,
 * so the oldest original is what stays. */
static void test_journal_newest_first(void **state)
{
	struct fx *f = *state;
	char rroot[PATH_MAX], text[PATH_MAX * 2];
	assert_non_null(realpath(f->root, rroot));
	mkdirs(f->dir, "state/hwoptd");
	FMT(text, "{\"root\":\"%s\",\"path\":\"%s/" GOV "\",\"original\":\"ondemand\"}\n"
		 "{\"root\":\"%s\",\"path\":\"%s/" GOV "\",\"original\":\"performance\"}\n",
		 rroot, rroot, rroot, rroot);
	append_journal(f, text);
	unsigned restored = 0;
	struct pol_actuator *a = open_act(f, &restored);
	assert_int_equal(restored, 2);
	assert_string_equal(get(f, GOV), "ondemand\n");
	pol_actuator_close(a, true);
}

/* --- errors ----------------------------------------------------------------------------------- */

static void test_bad_paths(void **state)
{
	struct fx *f = *state;
	struct pol_actuator *a = open_act(f, NULL);
	char err[512] = "", buf[POL_VALUE_MAX];
	const char *bad[] = { "../outside", POLICY0 "/../policy0/scaling_governor", "..",
			      "/etc/passwd", "", "devices/.." };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(pol_actuator_write(a, bad[i], "x", NULL, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "is not a path inside the sysfs root"));
		assert_int_equal(pol_actuator_read(a, bad[i], buf, sizeof(buf)), -EINVAL);
	}
	/* Dots that are not a ".." component are fine. */
	put(f, "firmware/acpi/..x", "1\n");
	assert_int_equal(pol_actuator_write(a, "firmware/acpi/..x", "2", NULL, err, sizeof(err)),
			 0);

	/* A symlink out of the root: restore could not put it back after a crash. */
	char link[PATH_MAX], outside[PATH_MAX];
	FMT(outside, "%s/outside", f->dir);
	FILE *fp = fopen(outside, "w");
	fputs("keep\n", fp);
	fclose(fp);
	FMT(link, "%s/escape", f->root);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(pol_actuator_write(a, "escape", "x", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "outside"));

	/* Values: at most POL_VALUE_MAX - 1 bytes, one line. */
	char big[POL_VALUE_MAX + 1];
	memset(big, '7', POL_VALUE_MAX);
	big[POL_VALUE_MAX] = '\0';
	assert_int_equal(pol_actuator_write(a, GOV, big, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(pol_actuator_write(a, GOV, "a\nb", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than one line"));
	/* A trailing newline is just whitespace. */
	assert_int_equal(pol_actuator_write(a, PROFILE, "quiet\n", NULL, err, sizeof(err)), 0);
	assert_string_equal(get(f, PROFILE), "quiet\n");
	assert_string_equal(get(f, GOV), "powersave\n");

	struct pol_actuator_stats st;
	pol_actuator_stats(a, &st);
	assert_int_equal(st.failures, 9);
	assert_int_equal(st.failures_by_errno[4], 9);
	assert_int_equal(st.held, 2);
	pol_actuator_close(a, true);
	assert_string_equal(get(f, "firmware/acpi/..x"), "1\n");
	assert_string_equal(get(f, PROFILE), "balanced\n");
}

static void test_missing_file(void **state)
{
	struct fx *f = *state;
	struct pol_actuator *a = open_act(f, NULL);
	char err[512] = "", old[POL_VALUE_MAX] = "junk";
	assert_int_equal(pol_actuator_write(a, POLICY0 "/energy_performance_preference",
					    "power", old, err, sizeof(err)), -ENOENT);
	assert_string_equal(old, "");
	assert_non_null(strstr(err, "energy_performance_preference"));
	assert_non_null(strstr(err, "No such file"));
	char buf[POL_VALUE_MAX];
	assert_int_equal(pol_actuator_read(a, "nope", buf, sizeof(buf)), -ENOENT);
	struct pol_actuator_stats st;
	pol_actuator_stats(a, &st);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.failures_by_errno[0], 1);
	assert_int_equal(st.held, 0);
	assert_int_equal(journal_lines(f), -1);
	pol_actuator_close(a, true);
}

/* A value that reads back as something else: a null device in the tree
 * takes anything and reads back empty. */
static void test_read_back_mismatch(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];
	FMT(path, "%s/devices/null", f->root);
	if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) < 0) {
		print_message("skipped: mknod: %s\n", strerror(errno));
		skip();
	}
	int fd = open(path, O_WRONLY);
	if (fd < 0) {
		print_message("skipped: open a null device: %s\n", strerror(errno));
		skip();
	}
	close(fd);
	struct pol_actuator *a = open_act(f, NULL);
	char err[512] = "";
	assert_int_equal(pol_actuator_write(a, "devices/null", "x", NULL, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "read back '' after writing 'x'"));
	struct pol_actuator_stats st;
	pol_actuator_stats(a, &st);
	assert_int_equal(st.failures_by_errno[3], 1);
	assert_int_equal(st.writes, 0);
	assert_int_equal(st.held, 1); /* journaled before the write that failed */
	assert_int_equal(journal_lines(f), 1);
	assert_int_equal(pol_actuator_restore(a), 0); /* "" is what it reads */
	pol_actuator_close(a, true);
}

/* If the journal cannot be written the setting is not made. */
static void test_journal_failure(void **state)
{
	struct fx *f = *state;
	struct pol_actuator *a = open_act(f, NULL);
	char err[512] = "";
	assert_int_equal(mkdir(f->journal, 0700), 0); /* open(O_WRONLY) on it: EISDIR */
	assert_int_equal(pol_actuator_write(a, GOV, "performance", NULL, err, sizeof(err)),
			 -EISDIR);
	assert_non_null(strstr(err, "cannot journal " GOV));
	assert_string_equal(get(f, GOV), "powersave\n");
	struct pol_actuator_stats st;
	pol_actuator_stats(a, &st);
	assert_int_equal(st.held, 0);
	assert_int_equal(st.failures_by_errno[4], 1);
	assert_int_equal(rmdir(f->journal), 0);
	pol_actuator_close(a, true);
}

/* The journal of a crash cannot be read: the state directory is unusable. */
static void test_unreadable_journal(void **state)
{
	struct fx *f = *state;
	mkdirs(f->dir, "state/hwoptd/" POL_JOURNAL_NAME);
	struct pol_actuator *a = NULL;
	char err[512] = "";
	assert_true(pol_actuator_open(f->root, f->state, log_cb, f, &a, NULL, err, sizeof(err)) <
		    0);
	assert_null(a);
	assert_non_null(strstr(err, POL_JOURNAL_NAME));
	/* A state "directory" that is a file. */
	char file[PATH_MAX];
	FMT(file, "%s/sys/" PROFILE, f->dir);
	assert_int_equal(pol_actuator_open(f->root, file, log_cb, f, &a, NULL, err, sizeof(err)),
			 -ENOTDIR);
	assert_non_null(strstr(err, "state directory"));
}

/* Permission denied needs an unprivileged writer: root opens 0444 files. */
static bool check_denied(struct fx *f)
{
	struct pol_actuator *a = NULL;
	char err[512] = "", state[PATH_MAX];
	/* The root-owned state directory is unusable... */
	int rc = pol_actuator_open(f->root, f->state, log_cb, f, &a, NULL, err, sizeof(err));
	if (rc != -EACCES || !strstr(err, "state directory"))
		return false;
	/* ... one of its own is fine, and the write itself is refused. */
	FMT(state, "%s/nobody-state", f->dir);
	if (pol_actuator_open(f->root, state, log_cb, f, &a, NULL, err, sizeof(err)) != 0)
		return false;
	rc = pol_actuator_write(a, GOV, "performance", NULL, err, sizeof(err));
	struct pol_actuator_stats st;
	pol_actuator_stats(a, &st);
	bool ok = rc == -EACCES && strstr(err, "Permission denied") && st.failures == 1 &&
		  st.failures_by_errno[1] == 1 && st.held == 1;
	pol_actuator_close(a, true);
	return ok;
}

static void test_permission_denied(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX], state_dir[PATH_MAX];
	if (geteuid() != 0) {
		print_message("skipped: needs root to drop to nobody\n");
		skip();
	}
	FMT(path, "%s/" GOV, f->root);
	assert_int_equal(chmod(path, 0444), 0);
	FMT(state_dir, "%s/state", f->dir);
	assert_int_equal(mkdir(state_dir, 0755), 0);
	assert_int_equal(mkdir(f->state, 0755), 0);
	FMT(state_dir, "%s/nobody-state", f->dir);
	assert_int_equal(mkdir(state_dir, 0700), 0);
	assert_int_equal(chown(state_dir, 65534, 65534), 0);

	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		_exit(check_denied(f) ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_string_equal(get(f, GOV), "powersave\n");
}

static void test_errno_names(void **state)
{
	assert_string_equal(pol_actuator_errno_name(0), "ENOENT");
	assert_string_equal(pol_actuator_errno_name(1), "EACCES");
	assert_string_equal(pol_actuator_errno_name(2), "EROFS");
	assert_string_equal(pol_actuator_errno_name(3), "EIO");
	assert_string_equal(pol_actuator_errno_name(4), "other");
	assert_string_equal(pol_actuator_errno_name(5), "?");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_write_journals_once),
		T(test_unchanged_value),
		T(test_restore),
		T(test_restore_failure),
		T(test_no_restore_on_exit),
		T(test_alias_journals_once),
		T(test_crash_recovery),
		T(test_crash_before_write),
		T(test_corrupt_journal),
		T(test_journal_newest_first),
		T(test_bad_paths),
		T(test_missing_file),
		T(test_read_back_mismatch),
		T(test_journal_failure),
		T(test_unreadable_journal),
		T(test_permission_denied),
		cmocka_unit_test(test_errno_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
