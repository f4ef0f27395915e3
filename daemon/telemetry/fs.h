/* Reading sysfs and procfs through a root: every telemetry path is relative
 * ("class/thermal", "stat") and joined to [telemetry] sysfs_root or
 * procfs_root, so tests read fixture trees. Errors are negative errnos:
 * -ENOENT missing, -EACCES denied, -EINVAL garbage, -E2BIG too long. */
#ifndef HWOPTD_TELEMETRY_FS_H
#define HWOPTD_TELEMETRY_FS_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* root + "/" + rel into out; -ENAMETOOLONG when it does not fit. */
int tm_path(char *out, size_t outlen, const char *root, const char *rel);

/* Reads a whole file into buf, NUL-terminated, one trailing newline
 * stripped. Returns its length or a negative errno; -E2BIG when the file
 * does not fit (buf then holds a truncated prefix). */
ssize_t tm_read(const char *root, const char *rel, char *buf, size_t len);

/* One number, the file's only content (surrounding blanks allowed). */
int tm_read_u64(const char *root, const char *rel, uint64_t *v);
int tm_read_s64(const char *root, const char *rel, int64_t *v);

/* The first line, trimmed, when it is one printable word or phrase. */
int tm_read_str(const char *root, const char *rel, char *buf, size_t len);

/* Opens root/rel for listing; NULL with errno set. */
DIR *tm_opendir(const char *root, const char *rel);

/* Strict whole-string number parsers (leading/trailing blanks allowed). */
int tm_parse_u64(const char *s, uint64_t *v);
int tm_parse_s64(const char *s, int64_t *v);

/* Formats a relative path into buf; returns buf. */
const char *tm_relf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "<prefix>N" with N all digits (at most 6): 0 with N in *n, else -1. */
int tm_parse_indexed(const char *name, const char *prefix, unsigned *n);
/* qsort comparator of unsigned ints. */
int tm_cmp_unsigned(const void *a, const void *b);

/* A short message for a negative errno from the readers above. */
const char *tm_strerror(int rc);

#endif
