#include "fs.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tm_path(char *out, size_t outlen, const char *root, const char *rel)
{
	size_t rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	while (*rel == '/')
		rel++;
	int n = snprintf(out, outlen, "%.*s/%s", (int)rl, root, rel);
	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

ssize_t tm_read(const char *root, const char *rel, char *buf, size_t len)
{
	char path[4096];
	int rc = tm_path(path, sizeof(path), root, rel);
	if (rc < 0)
		return rc;
	if (len < 2)
		return -EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	bool full = false;
	for (;;) {
		if (got == len - 1) {
			char extra;
			ssize_t n = read(fd, &extra, 1);
			full = n > 0;
			break;
		}
		ssize_t n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	if (full)
		return -E2BIG;
	if (got && buf[got - 1] == '\n')
		buf[--got] = '\0';
	return (ssize_t)got;
}

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	return s;
}

static bool only_blanks(const char *s)
{
	return *skip_blanks(s) == '\0';
}

int tm_parse_u64(const char *s, uint64_t *v)
{
	s = skip_blanks(s);
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || !only_blanks(end))
		return -EINVAL;
	*v = x;
	return 0;
}

int tm_parse_s64(const char *s, int64_t *v)
{
	s = skip_blanks(s);
	if (!isdigit((unsigned char)*s) && !(*s == '-' && isdigit((unsigned char)s[1])))
		return -EINVAL;
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || !only_blanks(end))
		return -EINVAL;
	*v = x;
	return 0;
}

int tm_read_u64(const char *root, const char *rel, uint64_t *v)
{
	char buf[64];
	ssize_t n = tm_read(root, rel, buf, sizeof(buf));
	if (n < 0)
		return n == -E2BIG ? -EINVAL : (int)n;
	return tm_parse_u64(buf, v);
}

int tm_read_s64(const char *root, const char *rel, int64_t *v)
{
	char buf[64];
	ssize_t n = tm_read(root, rel, buf, sizeof(buf));
	if (n < 0)
		return n == -E2BIG ? -EINVAL : (int)n;
	return tm_parse_s64(buf, v);
}

int tm_read_str(const char *root, const char *rel, char *buf, size_t len)
{
	ssize_t n = tm_read(root, rel, buf, len);
	if (n < 0)
		return (int)n;
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	char *s = buf;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t l = strlen(s);
	while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
		l--;
	memmove(buf, s, l);
	buf[l] = '\0';
	if (!l)
		return -EINVAL;
	for (size_t i = 0; i < l; i++)
		if (!isprint((unsigned char)buf[i]))
			return -EINVAL;
	return 0;
}

DIR *tm_opendir(const char *root, const char *rel)
{
	char path[4096];
	if (tm_path(path, sizeof(path), root, rel) < 0) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return opendir(path);
}

const char *tm_strerror(int rc)
{
	switch (rc) {
	case -EINVAL: return "unreadable content";
	case -E2BIG: return "file too large";
	default: return strerror(-rc);
	}
}

const char *tm_relf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return buf;
}

int tm_parse_indexed(const char *name, const char *prefix, unsigned *n)
{
	size_t pl = strlen(prefix);
	if (strncmp(name, prefix, pl) != 0)
		return -1;
	const char *s = name + pl;
	if (!*s || strlen(s) > 6 || strspn(s, "0123456789") != strlen(s))
		return -1;
	*n = (unsigned)strtoul(s, NULL, 10);
	return 0;
}

int tm_cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return (x > y) - (x < y);
}
