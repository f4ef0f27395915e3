/* The Prometheus text format, built in memory: families in declaration
 * order, their series in insertion order, duplicates dropped by a hash set
 * of "name{labels}" keys. */
#include "prom.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	char *p;
	size_t len, cap;
};

static bool buf_grow(struct buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap * 2 : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		return false;
	b->p = p;
	b->cap = cap;
	return true;
}

static bool buf_add(struct buf *b, const char *s, size_t n)
{
	if (!buf_grow(b, n))
		return false;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

static bool buf_str(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

struct family {
	char *name, *help;
	enum prom_type type;
	struct buf lines; /* its series, rendered */
};

struct prom {
	struct family *fam;
	size_t n_fam, cap_fam;
	/* open-addressed set of series keys */
	char **keys;
	size_t n_keys, cap_keys;
	size_t n_series, n_dropped;
};

struct prom *prom_new(void)
{
	return calloc(1, sizeof(struct prom));
}

void prom_free(struct prom *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_fam; i++) {
		free(p->fam[i].name);
		free(p->fam[i].help);
		free(p->fam[i].lines.p);
	}
	for (size_t i = 0; i < p->cap_keys; i++)
		free(p->keys[i]);
	free(p->keys);
	free(p->fam);
	free(p);
}

static bool name_ok(const char *s, bool colon)
{
	if (!*s)
		return false;
	for (const char *c = s; *c; c++) {
		bool alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' ||
			     (colon && *c == ':');
		if (!alpha && !(c > s && *c >= '0' && *c <= '9'))
			return false;
	}
	return true;
}

static struct family *find_family(const struct prom *p, const char *name)
{
	for (size_t i = 0; i < p->n_fam; i++)
		if (strcmp(p->fam[i].name, name) == 0)
			return &p->fam[i];
	return NULL;
}

int prom_family(struct prom *p, const char *name, enum prom_type type, const char *help)
{
	if (find_family(p, name))
		return 0;
	if (!name_ok(name, true))
		return -1;
	if (p->n_fam == p->cap_fam) {
		size_t cap = p->cap_fam ? p->cap_fam * 2 : 32;
		struct family *f = realloc(p->fam, cap * sizeof(*f));
		if (!f)
			return -1;
		p->fam = f;
		p->cap_fam = cap;
	}
	struct family *f = &p->fam[p->n_fam];
	memset(f, 0, sizeof(*f));
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	f->type = type;
	if (!f->name || !f->help) {
		free(f->name);
		free(f->help);
		return -1;
	}
	p->n_fam++;
	return 0;
}

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

/* Adds key (n bytes) to the set; false when it was there or memory ran out. */
static bool key_insert(struct prom *p, const char *key, size_t n)
{
	if ((p->n_keys + 1) * 2 > p->cap_keys) {
		size_t cap = p->cap_keys ? p->cap_keys * 2 : 256;
		char **k = calloc(cap, sizeof(*k));
		if (!k)
			return false;
		for (size_t i = 0; i < p->cap_keys; i++) {
			if (!p->keys[i])
				continue;
			size_t j = hash(p->keys[i], strlen(p->keys[i])) & (cap - 1);
			while (k[j])
				j = (j + 1) & (cap - 1);
			k[j] = p->keys[i];
		}
		free(p->keys);
		p->keys = k;
		p->cap_keys = cap;
	}
	size_t j = hash(key, n) & (p->cap_keys - 1);
	for (; p->keys[j]; j = (j + 1) & (p->cap_keys - 1))
		if (strlen(p->keys[j]) == n && memcmp(p->keys[j], key, n) == 0)
			return false;
	p->keys[j] = strndup(key, n);
	if (!p->keys[j])
		return false;
	p->n_keys++;
	return true;
}

static bool add_escaped(struct buf *b, const char *v)
{
	for (; *v; v++) {
		const char *e = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : *v == '\n' ? "\\n" : NULL;
		if (!(e ? buf_str(b, e) : buf_add(b, v, 1)))
			return false;
	}
	return true;
}

/* "name{a="x",b="y"" into b (the brace left open when extra follows). */
static bool add_labels(struct buf *b, va_list ap, const char *extra_name, const char *extra_val)
{
	bool first = true;
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		if (!name_ok(k, false) || strncmp(k, "__", 2) == 0 || !v)
			return false;
		if (!buf_str(b, first ? "{" : ",") || !buf_str(b, k) || !buf_str(b, "=\"") ||
		    !add_escaped(b, v) || !buf_str(b, "\""))
			return false;
		first = false;
	}
	if (extra_name && (!buf_str(b, first ? "{" : ",") || !buf_str(b, extra_name) ||
			   !buf_str(b, "=\"") || !buf_str(b, extra_val) || !buf_str(b, "\"")))
		return false;
	if (!first || extra_name)
		return buf_str(b, "}");
	return true;
}

static void fmt_value(char *out, size_t n, double v)
{
	if (isinf(v)) {
		snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(out, n, "%.0f", v);
		return;
	}
	snprintf(out, n, "%.15g", v);
	if (strtod(out, NULL) != v)
		snprintf(out, n, "%.17g", v);
}

/* One line "name{labels} value" into family f, unless a series with the
 * same name and labels is already there. */
static int add_line(struct prom *p, struct family *f, struct buf *series, double v)
{
	if (!key_insert(p, series->p, series->len)) {
		p->n_dropped++;
		return -1;
	}
	char num[40];
	fmt_value(num, sizeof(num), v);
	if (!buf_add(&f->lines, series->p, series->len) || !buf_str(&f->lines, " ") ||
	    !buf_str(&f->lines, num) || !buf_str(&f->lines, "\n"))
		return -1;
	p->n_series++;
	return 0;
}

int prom_sample(struct prom *p, const char *family, double value, ...)
{
	struct family *f = find_family(p, family);
	if (!f || f->type == PROM_HISTOGRAM || !isfinite(value)) {
		p->n_dropped++;
		return -1;
	}
	struct buf s = { 0 };
	va_list ap;
	va_start(ap, value);
	bool ok = buf_str(&s, family) && add_labels(&s, ap, NULL, NULL);
	va_end(ap);
	int rc = ok ? add_line(p, f, &s, value) : (p->n_dropped++, -1);
	free(s.p);
	return rc;
}

int prom_histogram(struct prom *p, const char *family, const double *le, const uint64_t *counts,
		   size_t n, double sum, uint64_t count, ...)
{
	struct family *f = find_family(p, family);
	if (!f || f->type != PROM_HISTOGRAM || !isfinite(sum)) {
		p->n_dropped++;
		return -1;
	}
	uint64_t cum = 0;
	int rc = 0;
	for (size_t i = 0; i <= n && rc == 0; i++) {
		char bound[40];
		if (i < n) {
			cum += counts[i];
			fmt_value(bound, sizeof(bound), le[i]);
		} else {
			snprintf(bound, sizeof(bound), "+Inf");
		}
		struct buf s = { 0 };
		va_list ap;
		va_start(ap, count);
		bool ok = buf_str(&s, family) && buf_str(&s, "_bucket") &&
			  add_labels(&s, ap, "le", bound);
		va_end(ap);
		rc = ok ? add_line(p, f, &s, (double)(i < n ? cum : count)) : -1;
		free(s.p);
	}
	const char *suffix[] = { "_sum", "_count" };
	for (int k = 0; k < 2 && rc == 0; k++) {
		struct buf s = { 0 };
		va_list ap;
		va_start(ap, count);
		bool ok = buf_str(&s, family) && buf_str(&s, suffix[k]) &&
			  add_labels(&s, ap, NULL, NULL);
		va_end(ap);
		rc = ok ? add_line(p, f, &s, k == 0 ? sum : (double)count) : -1;
		free(s.p);
	}
	return rc;
}

static bool add_help(struct buf *b, const char *help)
{
	for (; *help; help++) {
		const char *e = *help == '\\' ? "\\\\" : *help == '\n' ? "\\n" : NULL;
		if (!(e ? buf_str(b, e) : buf_add(b, help, 1)))
			return false;
	}
	return true;
}

char *prom_render(const struct prom *p, size_t *len)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	struct buf b = { 0 };
	if (!buf_grow(&b, 4096))
		return NULL;
	b.p[0] = '\0';
	for (size_t i = 0; i < p->n_fam; i++) {
		const struct family *f = &p->fam[i];
		if (!f->lines.len)
			continue; /* a family without series says nothing */
		if (!buf_str(&b, "# HELP ") || !buf_str(&b, f->name) || !buf_str(&b, " ") ||
		    !add_help(&b, f->help) || !buf_str(&b, "\n# TYPE ") || !buf_str(&b, f->name) ||
		    !buf_str(&b, " ") || !buf_str(&b, types[f->type]) || !buf_str(&b, "\n") ||
		    !buf_add(&b, f->lines.p, f->lines.len)) {
			free(b.p);
			return NULL;
		}
	}
	if (len)
		*len = b.len;
	return b.p;
}

size_t prom_n_series(const struct prom *p)
{
	return p->n_series;
}

size_t prom_n_dropped(const struct prom *p)
{
	return p->n_dropped;
}
