/* The one policy module that touches the machine: sysfs writes with a
 * crash journal. Plain POSIX I/O, single-threaded (the engine's loop). */
#include "policies/actuator.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_MAX 4096 /* a sysfs attribute is at most a page */

struct held {
	char *path;                   /* realpath: aliases are one setting */
	char original[POL_VALUE_MAX]; /* as read before our first write */
};

struct pol_actuator {
	char root[PATH_MAX];    /* realpath of the sysfs root (as given if it has none) */
	char journal[PATH_MAX]; /* <state_dir>/policy-journal.jsonl */
	int dirfd;              /* the state directory: fsync after create/unlink */
	int jfd;                /* the journal, open from the first journaled write; -1 */
	pol_log_fn log;
	void *log_ctx;
	struct held *held;      /* in journal order: restore walks it backwards */
	size_t n_held, cap_held;
	struct pol_actuator_stats st;
};

static const char *const errno_names[5] = { "ENOENT", "EACCES", "EROFS", "EIO", "other" };

const char *pol_actuator_errno_name(size_t i)
{
	return i < 5 ? errno_names[i] : "?";
}

static size_t errno_index(int e)
{
	switch (e) {
	case ENOENT: return 0;
	case EACCES: return 1;
	case EROFS: return 2;
	case EIO: return 3;
	default: return 4;
	}
}

static void __attribute__((format(printf, 2, 3))) logf_(const struct pol_actuator *a,
							 const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (!a->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->log(a->log_ctx, msg);
}

static void __attribute__((format(printf, 3, 4))) seterr(char *err, size_t errlen,
							  const char *fmt, ...)
{
	va_list ap;
	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* Has path a ".." component? */
static bool has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return true;
	return false;
}

/* Is real (a realpath) inside root (a realpath)? */
static bool under(const char *root, const char *real)
{
	size_t n = strlen(root);
	if (n == 1 && root[0] == '/')
		return real[0] == '/' && real[1] != '\0';
	return strncmp(real, root, n) == 0 && real[n] == '/';
}

static int build_path(const struct pol_actuator *a, const char *rel, char *out, size_t outlen)
{
	if (!*rel || rel[0] == '/' || has_dotdot(rel))
		return -EINVAL;
	if ((size_t)snprintf(out, outlen, "%s/%s", a->root, rel) >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

/* The file's text, trailing whitespace trimmed. -EOVERFLOW when it does not
 * fit buf. */
static int read_value(const char *path, char *buf, size_t buflen)
{
	char tmp[READ_MAX + 1];
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n < READ_MAX) {
		ssize_t r = read(fd, tmp + n, READ_MAX - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	tmp[n] = '\0';
	trim(tmp);
	if (strlen(tmp) >= buflen)
		return -EOVERFLOW;
	memcpy(buf, tmp, strlen(tmp) + 1);
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* sysfs: no O_CREAT (a missing attribute is ENOENT, not a new file) and no
 * O_TRUNC. A regular file (a test fixture) is truncated and gets a newline,
 * so that it reads like sysfs afterwards. */
static int write_value(const char *path, const char *value)
{
	char buf[POL_VALUE_MAX + 1];
	struct stat sb;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(value);
	memcpy(buf, value, len);
	int rc = fstat(fd, &sb) < 0 ? -errno : 0;
	if (rc == 0 && S_ISREG(sb.st_mode)) {
		buf[len++] = '\n';
		if (ftruncate(fd, 0) < 0)
			rc = -errno;
	}
	if (rc == 0)
		rc = write_all(fd, buf, len);
	if (close(fd) < 0 && rc == 0 && errno != EINTR)
		rc = -errno;
	return rc;
}

/* Writes value to path and reads it back. */
static int write_verify(const char *path, const char *value, char *err, size_t errlen)
{
	char back[POL_VALUE_MAX];
	int rc = write_value(path, value);
	if (rc < 0) {
		seterr(err, errlen, "writing '%s' to %s: %s", value, path, strerror(-rc));
		return rc;
	}
	rc = read_value(path, back, sizeof(back));
	if (rc < 0) {
		seterr(err, errlen, "reading back %s after writing '%s': %s", path, value,
		       strerror(-rc));
		return rc;
	}
	if (strcmp(back, value) != 0) {
		seterr(err, errlen, "%s: read back '%s' after writing '%s'", path, back, value);
		return -EIO;
	}
	return 0;
}

/* Puts original back at path (a realpath) unless it is there already.
 * 1: written, 0: nothing to do, or a negative errno (logged). */
static int put_back(const struct pol_actuator *a, const char *path, const char *original)
{
	char cur[POL_VALUE_MAX], err[PATH_MAX + 2 * POL_VALUE_MAX + 64];
	int rc = read_value(path, cur, sizeof(cur));
	if (rc == 0 && strcmp(cur, original) == 0)
		return 0;
	if (rc < 0 && rc != -EOVERFLOW) {
		logf_(a, "cannot restore %s to '%s': %s", path, original, strerror(-rc));
		return rc;
	}
	rc = write_verify(path, original, err, sizeof(err));
	if (rc < 0) {
		logf_(a, "cannot restore %s to '%s': %s", path, original, err);
		return rc;
	}
	return 1;
}

/* --- the journal ------------------------------------------------------------------------------ */

static int journal_open(struct pol_actuator *a)
{
	if (a->jfd >= 0)
		return 0;
	bool created = true;
	int fd = openat(a->dirfd, POL_JOURNAL_NAME,
			O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		created = false;
		fd = openat(a->dirfd, POL_JOURNAL_NAME, O_WRONLY | O_APPEND | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	/* A new directory entry is durable only once the directory is synced. */
	if (created && fsync(a->dirfd) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	a->jfd = fd;
	return 0;
}

/* Appends {"root", "path", "original"} and syncs it. A failed append is cut
 * off again so the next line does not start in the middle of this one. */
static int journal_append(struct pol_actuator *a, const char *path, const char *original)
{
	int rc = journal_open(a);
	if (rc < 0)
		return rc;
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "root", a->root) ||
	    !cJSON_AddStringToObject(o, "path", path) ||
	    !cJSON_AddStringToObject(o, "original", original)) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		return -ENOMEM;
	size_t len = strlen(text);
	char *line = malloc(len + 2);
	if (!line) {
		cJSON_free(text);
		return -ENOMEM;
	}
	memcpy(line, text, len);
	line[len++] = '\n';
	cJSON_free(text);

	struct stat sb;
	if (fstat(a->jfd, &sb) < 0)
		rc = -errno;
	if (rc == 0 && (rc = write_all(a->jfd, line, len)) < 0 && ftruncate(a->jfd, sb.st_size) < 0)
		logf_(a, "%s: cannot cut off a partial line: %s", a->journal, strerror(errno));
	if (rc == 0 && fsync(a->jfd) < 0)
		rc = -errno;
	free(line);
	return rc;
}

/* Removes the journal (all its settings are back, or are to stay). */
static int journal_remove(struct pol_actuator *a)
{
	int rc = 0;
	if (a->jfd >= 0) {
		close(a->jfd);
		a->jfd = -1;
	}
	if (unlinkat(a->dirfd, POL_JOURNAL_NAME, 0) < 0) {
		if (errno != ENOENT) {
			rc = -errno;
			logf_(a, "cannot remove %s: %s", a->journal, strerror(errno));
		}
	} else if (fsync(a->dirfd) < 0) {
		rc = -errno;
	}
	return rc;
}

/* One line of a journal left by a crash: 0 and the setting, or -EINVAL
 * with why (the line is skipped). */
static int journal_line(const char *line, char *path, char *original, const char **why)
{
	cJSON *o = cJSON_Parse(line);
	const cJSON *root = cJSON_GetObjectItemCaseSensitive(o, "root");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "path");
	const cJSON *orig = cJSON_GetObjectItemCaseSensitive(o, "original");
	char rroot[PATH_MAX];
	int rc = -EINVAL;

	if (!cJSON_IsObject(o))
		*why = "not a JSON object";
	else if (!cJSON_IsString(root) || !cJSON_IsString(p) || !cJSON_IsString(orig))
		*why = "root, path or original missing or not a string";
	else if (strlen(orig->valuestring) >= POL_VALUE_MAX)
		*why = "original value too long";
	else if (p->valuestring[0] != '/' || has_dotdot(p->valuestring) ||
		 strlen(p->valuestring) >= PATH_MAX)
		*why = "path is not absolute or has '..'";
	else if (!realpath(root->valuestring, rroot))
		*why = "root does not exist";
	else if (!realpath(p->valuestring, path))
		*why = "path does not exist";
	else if (!under(rroot, path))
		*why = "path is outside root";
	else {
		snprintf(original, POL_VALUE_MAX, "%s", orig->valuestring);
		rc = 0;
	}
	cJSON_Delete(o);
	return rc;
}

static int read_file(int fd, char **out, size_t *outlen)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
}

/* A journal found at open: a crash left settings changed. Restores them
 * newest first (so the oldest original of a path wins) and removes it. */
static int recover(struct pol_actuator *a, unsigned *restored, char *err, size_t errlen)
{
	int fd = openat(a->dirfd, POL_JOURNAL_NAME, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		seterr(err, errlen, "%s: %s", a->journal, strerror(errno));
		return -errno;
	}
	char *text = NULL;
	size_t len = 0;
	int rc = read_file(fd, &text, &len);
	close(fd);
	if (rc < 0) {
		seterr(err, errlen, "%s: %s", a->journal, strerror(-rc));
		return rc;
	}
	if (memchr(text, '\0', len)) /* NULs (a torn block) end lines too */
		for (size_t i = 0; i < len; i++)
			if (text[i] == '\0')
				text[i] = '\n';

	size_t n_lines = 0;
	for (size_t i = 0; i < len; i++)
		n_lines += text[i] == '\n';
	char **lines = calloc(n_lines + 1, sizeof(*lines));
	if (!lines) {
		free(text);
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n_lines = 0;
	for (char *p = text, *save = NULL, *l; (l = strtok_r(p, "\n", &save)); p = NULL)
		lines[n_lines++] = l;

	char path[PATH_MAX], original[POL_VALUE_MAX];
	for (size_t i = n_lines; i-- > 0;) {
		const char *why = "";
		if (journal_line(lines[i], path, original, &why) < 0) {
			logf_(a, "%s: entry %zu skipped: %s", a->journal, i + 1, why);
			continue;
		}
		if (put_back(a, path, original) > 0 && restored)
			(*restored)++;
	}
	free(lines);
	free(text);
	rc = journal_remove(a);
	if (rc < 0)
		seterr(err, errlen, "cannot remove %s: %s", a->journal, strerror(-rc));
	return rc;
}

/* --- the actuator ----------------------------------------------------------------------------- */

static int mkdir_p(const char *dir)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void actuator_free(struct pol_actuator *a)
{
	for (size_t i = 0; i < a->n_held; i++)
		free(a->held[i].path);
	free(a->held);
	if (a->jfd >= 0)
		close(a->jfd);
	if (a->dirfd >= 0)
		close(a->dirfd);
	free(a);
}

int pol_actuator_open(const char *sysfs_root, const char *state_dir, pol_log_fn log, void *log_ctx,
		      struct pol_actuator **out, unsigned *restored, char *err, size_t errlen)
{
	*out = NULL;
	if (restored)
		*restored = 0;
	struct pol_actuator *a = calloc(1, sizeof(*a));
	if (!a) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	a->dirfd = a->jfd = -1;
	a->log = log;
	a->log_ctx = log_ctx;
	/* A root that does not exist yet stays as given: its writes fail ENOENT. */
	if (!realpath(sysfs_root, a->root))
		snprintf(a->root, sizeof(a->root), "%s", sysfs_root);
	if ((size_t)snprintf(a->journal, sizeof(a->journal), "%s/%s", state_dir,
			     POL_JOURNAL_NAME) >= sizeof(a->journal)) {
		seterr(err, errlen, "state directory %s: %s", state_dir, strerror(ENAMETOOLONG));
		actuator_free(a);
		return -ENAMETOOLONG;
	}
	int rc = mkdir_p(state_dir);
	if (rc == 0 && (a->dirfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		rc = -errno;
	if (rc == 0 && faccessat(a->dirfd, ".", W_OK | X_OK, AT_EACCESS) < 0)
		rc = -errno;
	if (rc < 0) {
		seterr(err, errlen, "state directory %s: %s", state_dir, strerror(-rc));
		actuator_free(a);
		return rc;
	}
	rc = recover(a, restored, err, errlen);
	if (rc < 0) {
		actuator_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

static struct held *find_held(const struct pol_actuator *a, const char *real)
{
	for (size_t i = 0; i < a->n_held; i++)
		if (strcmp(a->held[i].path, real) == 0)
			return &a->held[i];
	return NULL;
}

static int add_held(struct pol_actuator *a, const char *real, const char *original)
{
	if (a->n_held == a->cap_held) {
		size_t cap = a->cap_held ? a->cap_held * 2 : 16;
		struct held *h = realloc(a->held, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		a->held = h;
		a->cap_held = cap;
	}
	struct held *h = &a->held[a->n_held];
	if (!(h->path = strdup(real)))
		return -ENOMEM;
	snprintf(h->original, sizeof(h->original), "%s", original);
	a->n_held++;
	return 0;
}

static int failed(struct pol_actuator *a, int rc)
{
	a->st.failures++;
	a->st.failures_by_errno[errno_index(-rc)]++;
	return rc;
}

int pol_actuator_write(struct pol_actuator *a, const char *rel, const char *value, char *old,
		       char *err, size_t errlen)
{
	char path[PATH_MAX], real[PATH_MAX], cur[POL_VALUE_MAX], val[POL_VALUE_MAX];
	int rc;

	if (old)
		old[0] = '\0';
	if ((rc = build_path(a, rel, path, sizeof(path))) < 0) {
		seterr(err, errlen, "'%s' is not a path inside the sysfs root", rel);
		return failed(a, rc);
	}
	if (strlen(value) >= sizeof(val)) {
		seterr(err, errlen, "%s: the value is longer than %d bytes", rel,
		       POL_VALUE_MAX - 1);
		return failed(a, -EINVAL);
	}
	memcpy(val, value, strlen(value) + 1);
	trim(val); /* compared with what reads back, which is trimmed */
	if (strchr(val, '\n')) {
		seterr(err, errlen, "%s: the value has more than one line", rel);
		return failed(a, -EINVAL);
	}
	if (!realpath(path, real)) {
		rc = -errno;
		seterr(err, errlen, "%s: %s", rel, strerror(errno));
		return failed(a, rc);
	}
	/* A setting restore could not put back after a crash is not made. */
	if (!under(a->root, real)) {
		seterr(err, errlen, "%s resolves to %s, outside %s", rel, real, a->root);
		return failed(a, -EINVAL);
	}
	if ((rc = read_value(real, cur, sizeof(cur))) < 0) {
		seterr(err, errlen, "%s: cannot read the current value: %s", rel, strerror(-rc));
		return failed(a, rc);
	}
	if (old)
		snprintf(old, POL_VALUE_MAX, "%s", cur);
	if (strcmp(cur, val) == 0) {
		a->st.unchanged++;
		return 0;
	}
	if (!find_held(a, real)) {
		if ((rc = journal_append(a, real, cur)) < 0) {
			seterr(err, errlen, "cannot journal %s in %s: %s", rel, a->journal,
			       strerror(-rc));
			return failed(a, rc);
		}
		if ((rc = add_held(a, real, cur)) < 0) {
			seterr(err, errlen, "%s: out of memory", rel);
			return failed(a, rc);
		}
	}
	if ((rc = write_verify(real, val, err, errlen)) < 0)
		return failed(a, rc);
	a->st.writes++;
	return 0;
}

int pol_actuator_read(const struct pol_actuator *a, const char *rel, char *buf, size_t buflen)
{
	char path[PATH_MAX];
	int rc = build_path(a, rel, path, sizeof(path));
	return rc < 0 ? rc : read_value(path, buf, buflen);
}

unsigned pol_actuator_restore(struct pol_actuator *a)
{
	unsigned failures = 0;
	for (size_t i = a->n_held; i-- > 0;)
		if (put_back(a, a->held[i].path, a->held[i].original) < 0)
			failures++;
	journal_remove(a);
	for (size_t i = 0; i < a->n_held; i++)
		free(a->held[i].path);
	a->n_held = 0;
	return failures;
}

void pol_actuator_close(struct pol_actuator *a, bool restore_on_exit)
{
	if (!a)
		return;
	if (restore_on_exit)
		pol_actuator_restore(a);
	else
		journal_remove(a);
	actuator_free(a);
}

void pol_actuator_abandon(struct pol_actuator *a)
{
	if (a)
		actuator_free(a);
}

void pol_actuator_stats(const struct pol_actuator *a, struct pol_actuator_stats *st)
{
	*st = a->st;
	st->held = (unsigned)a->n_held;
}

cJSON *pol_actuator_json(const struct pol_actuator *a)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_CreateArray();
	if (!o || !arr || !cJSON_AddStringToObject(o, "path", a->journal) ||
	    !cJSON_AddItemToObject(o, "settings", arr)) {
		cJSON_Delete(arr);
		cJSON_Delete(o);
		return NULL;
	}
	for (size_t i = 0; i < a->n_held; i++) {
		char cur[POL_VALUE_MAX];
		cJSON *s = cJSON_CreateObject();
		if (!s || !cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			cJSON_Delete(o);
			return NULL;
		}
		bool ok = cJSON_AddStringToObject(s, "path", a->held[i].path) &&
			  cJSON_AddStringToObject(s, "original", a->held[i].original);
		if (ok && read_value(a->held[i].path, cur, sizeof(cur)) == 0)
			ok = cJSON_AddStringToObject(s, "current", cur);
		else if (ok)
			ok = cJSON_AddNullToObject(s, "current");
		if (!ok) {
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

const char *pol_actuator_journal_path(const struct pol_actuator *a)
{
	return a->journal;
}
