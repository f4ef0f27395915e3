/* Applies sysfs settings safely. Before its first write to a file the
 * actuator journals the original value (JSON lines, fsync'd) in the state
 * directory; each write is read back; restore puts every original back
 * (newest first) and removes the journal. A journal left by a crash is
 * restored when the next actuator opens. Errors never abort: a write that
 * fails (EACCES, EROFS, ENOENT, a read-back that differs: EIO) is returned
 * and counted by errno.
 *
 * The journal, <state_dir>/policy-journal.jsonl, one line per setting:
 *   {"root": "/sys", "path": "/abs/realpath", "original": "text as read, trimmed"}
 * Only paths under the sysfs root recorded in the line ("root") are
 * restored; a corrupt line is skipped with a warning. */
#ifndef HWOPT_POL_ACTUATOR_H
#define HWOPT_POL_ACTUATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define POL_JOURNAL_NAME "policy-journal.jsonl"

struct pol_actuator;

/* Where warnings go (the daemon's log; stderr in tests). */
typedef void (*pol_log_fn)(void *ctx, const char *msg);

/* Opens the actuator for sysfs_root, journaling into state_dir (created
 * 0700 when missing). A journal found there (a crash) is restored first and
 * removed; *restored (may be NULL) gets how many settings were put back.
 * 0, or a negative errno with err (the state directory is unusable). */
int pol_actuator_open(const char *sysfs_root, const char *state_dir, pol_log_fn log, void *log_ctx,
		      struct pol_actuator **out, unsigned *restored, char *err, size_t errlen);

/* Writes value to rel (relative to the sysfs root): journals the original
 * first, writes, reads back. Returns 0; -ENOENT, -EACCES, -EROFS, -EINVAL
 * (the kernel refused the value), -EIO (read back something else) or
 * another negative errno, with err saying what happened. A value equal to
 * the current one is not written (0). *old (may be NULL, POL_VALUE_MAX
 * bytes) gets the value before. */
#define POL_VALUE_MAX 128
int pol_actuator_write(struct pol_actuator *a, const char *rel, const char *value, char *old,
		       char *err, size_t errlen);

/* Reads rel's current value (trimmed) into buf. 0 or a negative errno. */
int pol_actuator_read(const struct pol_actuator *a, const char *rel, char *buf, size_t buflen);

/* Puts every journaled original back, newest first, and removes the
 * journal. Returns how many could not be restored (each logged). */
unsigned pol_actuator_restore(struct pol_actuator *a);

/* restore_on_exit: restore first; otherwise the journal is removed and the
 * settings stay as they are. Frees a. */
void pol_actuator_close(struct pol_actuator *a, bool restore_on_exit);
/* For tests: a crash. Frees a without restoring or touching the journal. */
void pol_actuator_abandon(struct pol_actuator *a);

struct pol_actuator_stats {
	uint64_t writes, unchanged, failures;
	uint64_t failures_by_errno[5]; /* ENOENT, EACCES, EROFS, EIO (read-back), other */
	unsigned held;                 /* settings journaled (to be restored) */
};
void pol_actuator_stats(const struct pol_actuator *a, struct pol_actuator_stats *st);
/* "ENOENT", "EACCES", "EROFS", "EIO", "other": the index in failures_by_errno */
const char *pol_actuator_errno_name(size_t i);
/* {path, settings: [{path, original, current}]} for policy.get */
cJSON *pol_actuator_json(const struct pol_actuator *a);
const char *pol_actuator_journal_path(const struct pol_actuator *a);

#endif
