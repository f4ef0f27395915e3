#include "frame.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void hwopt_framer_init(struct hwopt_framer *f, size_t max_line)
{
	f->buf = NULL;
	f->len = 0;
	f->cap = 0;
	/* max + 1 must not wrap; no real line comes near this. */
	f->max = max_line > SIZE_MAX / 2 ? SIZE_MAX / 2 : max_line;
}

void hwopt_framer_free(struct hwopt_framer *f)
{
	free(f->buf);
	f->buf = NULL;
	f->len = f->cap = 0;
}

static int append(struct hwopt_framer *f, const char *p, size_t n)
{
	if (f->len + n + 1 > f->cap) {
		size_t cap = f->cap ? f->cap : 4096;
		while (cap < f->len + n + 1)
			cap *= 2;
		char *nb = realloc(f->buf, cap);
		if (!nb)
			return -ENOMEM;
		f->buf = nb;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, p, n);
	f->len += n;
	return 0;
}

static int emit(char *line, size_t len, size_t max, hwopt_line_fn fn, void *ctx)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > max)
		return -EMSGSIZE;
	line[len] = '\0';
	return fn(ctx, line, len);
}

int hwopt_framer_feed(struct hwopt_framer *f, char *data, size_t n,
		      hwopt_line_fn on_line, void *ctx)
{
	/* Writing '\0' over the '\n' of each line keeps lines in place. */
	char *p = data, *end = data + n;
	int rc;

	if (f->len > 0) {
		char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		/* +1 allows the '\r' that emit() strips. */
		if (f->len + take > f->max + 1)
			return -EMSGSIZE;
		if ((rc = append(f, p, take)) != 0)
			return rc;
		if (!nl)
			return 0;
		p = nl + 1;
		size_t len = f->len;
		f->len = 0;
		if ((rc = emit(f->buf, len, f->max, on_line, ctx)) != 0)
			return rc;
	}
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		*nl = '\0';
		if ((rc = emit(p, (size_t)(nl - p), f->max, on_line, ctx)) != 0)
			return rc;
		p = nl + 1;
	}
	if (p < end) {
		if ((size_t)(end - p) > f->max + 1)
			return -EMSGSIZE;
		return append(f, p, (size_t)(end - p));
	}
	return 0;
}
