/* procstat: CPU time and utilization (/proc/stat), context switches and
 * forks, memory (/proc/meminfo), load (/proc/loadavg) and pressure stall
 * information (/proc/pressure/{cpu,memory,io}).
 *
 * Utilization is the share of each mode in the jiffies that passed on that
 * CPU since the previous sample, so it does not depend on how punctually
 * the daemon samples. CPUs are matched by number: offline CPUs are absent
 * from /proc/stat and may come back with different counters; a CPU whose
 * counters went backwards gets no rates that sample. The kernel exports
 * these counters in USER_HZ, which is 100 on every Linux ABI. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/prom.h"
#include "daemon/telemetry/fs.h"
#include "daemon/telemetry/source.h"

#define USER_HZ 100.0
#define STAT_BUF_MIN (64u << 10)
/* /proc/stat of a 4096-CPU machine with many interrupts stays well below. */
#define STAT_BUF_MAX (16u << 20)
#define MAX_CPU_NUM (1 << 20)
#define MAX_CPUS 65536

enum { M_USER, M_NICE, M_SYSTEM, M_IDLE, M_IOWAIT, M_IRQ, M_SOFTIRQ, M_STEAL, M_GUEST,
       M_GUEST_NICE, N_FIELDS };
/* The modes that partition a CPU's time (guest time is part of user). */
#define N_MODES 8
/* Fields a line must have: everything since Linux 2.6.11 has steal. */
#define MIN_FIELDS 8

static const char *const mode_name[N_FIELDS] = {
	"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice",
};

struct ps_cpu {
	int cpu;               /* -1 for the "cpu" total line */
	int nf;                /* fields on the line, MIN_FIELDS..N_FIELDS */
	uint64_t f[N_FIELDS];
};

/* One parse of /proc/stat. */
struct ps_set {
	struct ps_cpu *v;
	size_t n, cap;
	struct ps_cpu total;
	bool has_total, has_ctxt, has_forks;
	uint64_t ctxt, forks;
};

struct ps_priv {
	char *buf;
	size_t cap;
	struct ps_set set[2];
	int cur;               /* set[cur] is filled by this sample */
	bool has_prev;         /* set[!cur] holds the previous good sample */
	uint64_t prev_ns;
};

/* --- small parsers ---------------------------------------------------------- */

static const char *skip_sp(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* The next blank-separated token of [*p, end); false at the end. */
static bool next_tok(const char **p, const char *end, const char **tok, size_t *tl)
{
	const char *s = skip_sp(*p, end);
	const char *e = s;
	while (e < end && *e != ' ' && *e != '\t')
		e++;
	*p = e;
	*tok = s;
	*tl = (size_t)(e - s);
	return e > s;
}

static bool parse_u64n(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

/* A plain decimal "12.34" (no sign, exponent, hex, inf or nan). */
static bool parse_decn(const char *s, size_t n, double *v)
{
	char tmp[64];
	size_t dots = 0, digits = 0;
	if (!n || n >= sizeof(tmp))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			dots++;
		else if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else
			return false;
	}
	if (dots > 1 || !digits || s[0] == '.')
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*v = strtod(tmp, NULL);
	return isfinite(*v);
}

/* "key=value" with a plain decimal value. */
static bool parse_kv_dec(const char *tok, size_t tl, const char *key, double *v)
{
	size_t kl = strlen(key);
	return tl > kl + 1 && !memcmp(tok, key, kl) && tok[kl] == '=' &&
	       parse_decn(tok + kl + 1, tl - kl - 1, v);
}

static bool tok_is(const char *tok, size_t tl, const char *word)
{
	return tl == strlen(word) && !memcmp(tok, word, tl);
}

/* o.errors += "name: what", name being the first nl bytes of a line. */
static void add_error(cJSON *o, const char *name, size_t nl, const char *what)
{
	cJSON *errs = cJSON_GetObjectItemCaseSensitive(o, "errors");
	if (!errs)
		errs = cJSON_AddArrayToObject(o, "errors");
	char msg[128];
	snprintf(msg, sizeof(msg), "%.*s: %s", (int)(nl > 40 ? 40 : nl), name, what);
	cJSON *m = cJSON_CreateString(msg);
	if (!cJSON_IsArray(errs) || !cJSON_AddItemToArray(errs, m))
		cJSON_Delete(m);
}

/* parent.name = {"available": false, "reason": ...} */
static void __attribute__((format(printf, 3, 4)))
unavailable_part(cJSON *parent, const char *name, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	cJSON *o = cJSON_AddObjectToObject(parent, name);
	cJSON_AddFalseToObject(o, "available");
	cJSON_AddStringToObject(o, "reason", reason);
}

/* --- /proc/stat -------------------------------------------------------------- */

/* Reads /proc/stat whole, growing the buffer when it does not fit. */
static ssize_t read_stat(struct ps_priv *pv, const char *root)
{
	for (;;) {
		if (!pv->buf) {
			pv->buf = malloc(STAT_BUF_MIN);
			if (!pv->buf)
				return -ENOMEM;
			pv->cap = STAT_BUF_MIN;
		}
		ssize_t n = tm_read(root, "stat", pv->buf, pv->cap);
		if (n != -E2BIG || pv->cap >= STAT_BUF_MAX)
			return n;
		char *nb = realloc(pv->buf, pv->cap * 2);
		if (!nb)
			return -ENOMEM;
		pv->buf = nb;
		pv->cap *= 2;
	}
}

static struct ps_cpu *set_slot(struct ps_set *set)
{
	if (set->n == set->cap) {
		if (set->cap >= MAX_CPUS)
			return NULL;
		size_t nc = set->cap ? set->cap * 2 : 64;
		struct ps_cpu *nv = realloc(set->v, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		set->v = nv;
		set->cap = nc;
	}
	return &set->v[set->n];
}

static bool set_has_cpu(const struct ps_set *set, int cpu)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].cpu == cpu)
			return true;
	return false;
}

/* The numbers after a "cpu" or "cpuN" token. */
static bool parse_cpu_fields(const char *p, const char *end, struct ps_cpu *c)
{
	const char *tok;
	size_t tl;
	c->nf = 0;
	while (next_tok(&p, end, &tok, &tl)) {
		if (c->nf == N_FIELDS)
			return true; /* a newer kernel's extra column */
		if (!parse_u64n(tok, tl, &c->f[c->nf]))
			return false;
		c->nf++;
	}
	for (int i = c->nf; i < N_FIELDS; i++)
		c->f[i] = 0;
	return c->nf >= MIN_FIELDS;
}

static void parse_cpu_line(struct ps_set *set, const char *tok, size_t tl, const char *p,
			   const char *end, cJSON *out)
{
	struct ps_cpu c;
	uint64_t num = 0;
	if (tl == 3) {
		c.cpu = -1;
	} else if (parse_u64n(tok + 3, tl - 3, &num) && num < MAX_CPU_NUM) {
		c.cpu = (int)num;
	} else {
		add_error(out, tok, tl, tm_strerror(-EINVAL));
		return;
	}
	if (!parse_cpu_fields(p, end, &c)) {
		add_error(out, tok, tl, tm_strerror(-EINVAL));
		return;
	}
	if (c.cpu < 0) {
		if (set->has_total) {
			add_error(out, tok, tl, "repeated line");
			return;
		}
		set->total = c;
		set->has_total = true;
		return;
	}
	/* Lines come in CPU order; only an out-of-order one can be a repeat. */
	if (set->n && c.cpu <= set->v[set->n - 1].cpu && set_has_cpu(set, c.cpu)) {
		add_error(out, tok, tl, "repeated line");
		return;
	}
	struct ps_cpu *slot = set_slot(set);
	if (!slot) {
		add_error(out, tok, tl, "too many CPUs");
		return;
	}
	*slot = c;
	set->n++;
}

static void parse_scalar(const char *tok, size_t tl, const char *p, const char *end, uint64_t *v,
			 bool *has, cJSON *out)
{
	const char *num;
	size_t nl;
	if (next_tok(&p, end, &num, &nl) && parse_u64n(num, nl, v) &&
	    !next_tok(&p, end, &num, &nl)) {
		*has = true;
		return;
	}
	add_error(out, tok, tl, tm_strerror(-EINVAL));
}

static void parse_stat(struct ps_set *set, const char *buf, size_t len, cJSON *out,
		       uint64_t *running, bool *has_running, uint64_t *blocked, bool *has_blocked)
{
	const char *p = buf, *end = buf + len;
	set->n = 0;
	set->has_total = set->has_ctxt = set->has_forks = false;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *q = p, *tok;
		size_t tl;
		if (next_tok(&q, eol, &tok, &tl)) {
			if (tl >= 3 && !memcmp(tok, "cpu", 3))
				parse_cpu_line(set, tok, tl, q, eol, out);
			else if (tok_is(tok, tl, "ctxt"))
				parse_scalar(tok, tl, q, eol, &set->ctxt, &set->has_ctxt, out);
			else if (tok_is(tok, tl, "processes"))
				parse_scalar(tok, tl, q, eol, &set->forks, &set->has_forks, out);
			else if (tok_is(tok, tl, "procs_running"))
				parse_scalar(tok, tl, q, eol, running, has_running, out);
			else if (tok_is(tok, tl, "procs_blocked"))
				parse_scalar(tok, tl, q, eol, blocked, has_blocked, out);
		}
		p = eol + 1;
	}
}

/* Jiffies per mode since prev; false when no time passed or a counter went
 * backwards (a CPU that came back online), so no rate is made up. */
static bool cpu_deltas(const struct ps_cpu *c, const struct ps_cpu *prev, uint64_t d[N_MODES],
		       uint64_t *sum)
{
	*sum = 0;
	for (int i = 0; i < N_MODES; i++) {
		if (c->f[i] < prev->f[i])
			return false;
		d[i] = c->f[i] - prev->f[i];
		if (d[i] > UINT64_MAX - *sum)
			return false;
		*sum += d[i];
	}
	return *sum > 0;
}

static void add_cpu_fields(cJSON *o, const struct ps_cpu *c, const struct ps_cpu *prev)
{
	char key[32];
	for (int i = 0; i < c->nf && i < N_FIELDS; i++) {
		snprintf(key, sizeof(key), "%s_seconds", mode_name[i]);
		cJSON_AddNumberToObject(o, key, (double)c->f[i] / USER_HZ);
	}
	uint64_t d[N_MODES], sum;
	if (!prev || !cpu_deltas(c, prev, d, &sum))
		return;
	double pct[N_MODES];
	for (int i = 0; i < N_MODES; i++) {
		pct[i] = 100.0 * (double)d[i] / (double)sum;
		snprintf(key, sizeof(key), "%s_pct", mode_name[i]);
		cJSON_AddNumberToObject(o, key, pct[i]);
	}
	double busy = 100.0 - pct[M_IDLE] - pct[M_IOWAIT];
	cJSON_AddNumberToObject(o, "busy_pct", busy < 0 ? 0 : busy);
}

/* The previous sample's line for cpu, starting the search where the last
 * one matched: both lists are usually in the same order. */
static const struct ps_cpu *find_prev(const struct ps_set *prev, int cpu, size_t *hint)
{
	for (size_t k = 0; k < prev->n; k++) {
		size_t i = (*hint + k) % prev->n;
		if (prev->v[i].cpu == cpu) {
			*hint = i + 1;
			return &prev->v[i];
		}
	}
	return NULL;
}

static void add_rate(cJSON *out, const char *key, bool ok, uint64_t cur, uint64_t prev, double dt)
{
	if (ok && dt > 0 && cur >= prev)
		cJSON_AddNumberToObject(out, key, (double)(cur - prev) / dt);
}

static void emit_stat(struct ps_priv *pv, uint64_t now_ns, cJSON *out, uint64_t running,
		      bool has_running, uint64_t blocked, bool has_blocked)
{
	const struct ps_set *cur = &pv->set[pv->cur];
	const struct ps_set *prev = pv->has_prev ? &pv->set[!pv->cur] : NULL;
	double dt = prev && now_ns > pv->prev_ns ? (double)(now_ns - pv->prev_ns) / 1e9 : 0;

	if (cur->has_total) {
		cJSON *t = cJSON_AddObjectToObject(out, "total");
		add_cpu_fields(t, &cur->total, prev && prev->has_total ? &prev->total : NULL);
	}
	cJSON *cpus = cJSON_AddArrayToObject(out, "cpus");
	size_t hint = 0;
	for (size_t i = 0; i < cur->n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "cpu", cur->v[i].cpu);
		add_cpu_fields(o, &cur->v[i], prev ? find_prev(prev, cur->v[i].cpu, &hint) : NULL);
		cJSON_AddItemToArray(cpus, o);
	}
	if (cur->has_ctxt) {
		cJSON_AddNumberToObject(out, "context_switches", (double)cur->ctxt);
		add_rate(out, "context_switches_per_s", prev && prev->has_ctxt, cur->ctxt,
			 prev ? prev->ctxt : 0, dt);
	}
	if (cur->has_forks) {
		cJSON_AddNumberToObject(out, "forks", (double)cur->forks);
		add_rate(out, "forks_per_s", prev && prev->has_forks, cur->forks,
			 prev ? prev->forks : 0, dt);
	}
	if (has_running)
		cJSON_AddNumberToObject(out, "procs_running", (double)running);
	if (has_blocked)
		cJSON_AddNumberToObject(out, "procs_blocked", (double)blocked);
}

/* --- /proc/meminfo ------------------------------------------------------------ */

/* "Active(anon)" -> "Active_anon", as node_exporter names it; false for a
 * name that cannot become a metric name. */
static bool meminfo_key(const char *s, size_t n, char *key, size_t kl)
{
	size_t o = 0;
	if (!n || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '(')
			ch = '_';
		else if (ch == ')')
			continue;
		else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
		if (o + 1 >= kl)
			return false;
		key[o++] = ch;
	}
	key[o] = '\0';
	return o > 0;
}

/* "Name:   123 kB" -> Name_bytes, "Name:  5" -> Name (a count). */
static bool meminfo_line(const char *p, const char *end, cJSON *mem)
{
	const char *colon = memchr(p, ':', (size_t)(end - p));
	char key[80];
	if (!colon || !meminfo_key(p, (size_t)(colon - p), key, sizeof(key) - 6))
		return false;
	const char *q = colon + 1, *tok, *unit;
	size_t tl, ul;
	uint64_t v;
	if (!next_tok(&q, end, &tok, &tl) || !parse_u64n(tok, tl, &v))
		return false;
	bool kb = next_tok(&q, end, &unit, &ul);
	if (kb && (!tok_is(unit, ul, "kB") || next_tok(&q, end, &tok, &tl)))
		return false;
	if (kb) {
		if (v > UINT64_MAX / 1024)
			return false;
		v *= 1024;
		strcat(key, "_bytes");
	}
	/* Our own keys are no meminfo fields, and neither is a repeat. */
	if (!strcmp(key, "errors") || !strcmp(key, "reason") ||
	    cJSON_GetObjectItemCaseSensitive(mem, key))
		return false;
	cJSON_AddNumberToObject(mem, key, (double)v);
	return true;
}

static void sample_meminfo(const char *root, char *buf, size_t cap, cJSON *out)
{
	ssize_t n = tm_read(root, "meminfo", buf, cap);
	if (n < 0) {
		unavailable_part(out, "meminfo", "cannot read %s/meminfo: %s", root,
				 tm_strerror((int)n));
		return;
	}
	cJSON *mem = cJSON_AddObjectToObject(out, "meminfo");
	cJSON_AddTrueToObject(mem, "available");
	size_t fields = 0;
	const char *p = buf, *end = buf + n;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (meminfo_line(p, eol, mem))
			fields++;
		else if (eol > p)
			add_error(mem, p, colon ? (size_t)(colon - p) : (size_t)(eol - p),
				  tm_strerror(-EINVAL));
		p = eol + 1;
	}
	if (!fields) {
		cJSON_DeleteItemFromObjectCaseSensitive(out, "meminfo");
		unavailable_part(out, "meminfo", "no fields in %s/meminfo", root);
	}
}

/* --- /proc/loadavg ------------------------------------------------------------- */

/* "0.52 0.58 0.59 2/1289 48213" */
static bool parse_loadavg(const char *buf, double load[3], uint64_t *run, uint64_t *total)
{
	const char *p = buf, *end = buf + strlen(buf), *tok;
	size_t tl;
	for (int i = 0; i < 3; i++)
		if (!next_tok(&p, end, &tok, &tl) || !parse_decn(tok, tl, &load[i]))
			return false;
	if (!next_tok(&p, end, &tok, &tl))
		return false;
	const char *slash = memchr(tok, '/', tl);
	return slash && parse_u64n(tok, (size_t)(slash - tok), run) &&
	       parse_u64n(slash + 1, tl - (size_t)(slash - tok) - 1, total);
}

static void sample_loadavg(const char *root, cJSON *out)
{
	char buf[256];
	double load[3];
	uint64_t run, total;
	ssize_t n = tm_read(root, "loadavg", buf, sizeof(buf));
	if (n < 0 || !parse_loadavg(buf, load, &run, &total)) {
		unavailable_part(out, "loadavg", "cannot read %s/loadavg: %s", root,
				 tm_strerror(n < 0 ? (int)n : -EINVAL));
		return;
	}
	cJSON *o = cJSON_AddObjectToObject(out, "loadavg");
	cJSON_AddTrueToObject(o, "available");
	cJSON_AddNumberToObject(o, "load1", load[0]);
	cJSON_AddNumberToObject(o, "load5", load[1]);
	cJSON_AddNumberToObject(o, "load15", load[2]);
	cJSON_AddNumberToObject(o, "tasks_running", (double)run);
	cJSON_AddNumberToObject(o, "tasks_total", (double)total);
}

/* --- /proc/pressure ------------------------------------------------------------ */

/* "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" after its first word. */
static bool psi_fields(const char *p, const char *end, cJSON *o)
{
	static const char *const keys[3] = { "avg10", "avg60", "avg300" };
	const char *tok;
	size_t tl;
	double avg[3];
	uint64_t total;
	for (int i = 0; i < 3; i++)
		if (!next_tok(&p, end, &tok, &tl) || !parse_kv_dec(tok, tl, keys[i], &avg[i]))
			return false;
	if (!next_tok(&p, end, &tok, &tl) || tl <= 6 || memcmp(tok, "total=", 6) ||
	    !parse_u64n(tok + 6, tl - 6, &total) || next_tok(&p, end, &tok, &tl))
		return false;
	cJSON_AddTrueToObject(o, "available");
	cJSON_AddNumberToObject(o, "avg10_pct", avg[0]);
	cJSON_AddNumberToObject(o, "avg60_pct", avg[1]);
	cJSON_AddNumberToObject(o, "avg300_pct", avg[2]);
	cJSON_AddNumberToObject(o, "total_seconds", (double)total / 1e6);
	return true;
}

static void psi_kind(cJSON *res, const char *buf, const char *kind, const char *missing)
{
	const char *p = buf, *end = buf + strlen(buf);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *q = p, *tok;
		size_t tl;
		if (next_tok(&q, eol, &tok, &tl) && tok_is(tok, tl, kind)) {
			cJSON *o = cJSON_CreateObject();
			if (psi_fields(q, eol, o)) {
				cJSON_AddItemToObject(res, kind, o);
				return;
			}
			cJSON_Delete(o);
			unavailable_part(res, kind, "%s", tm_strerror(-EINVAL));
			return;
		}
		p = eol + 1;
	}
	unavailable_part(res, kind, "%s", missing);
}

/* Returns the read's result: 0, or a negative errno. */
static int sample_psi_resource(const char *root, const char *name, cJSON *psi)
{
	char rel[32], buf[512];
	snprintf(rel, sizeof(rel), "pressure/%s", name);
	ssize_t n = tm_read(root, rel, buf, sizeof(buf));
	if (n < 0) {
		unavailable_part(psi, name, "cannot read %s/%s: %s", root, rel, tm_strerror((int)n));
		return (int)n;
	}
	cJSON *res = cJSON_AddObjectToObject(psi, name);
	cJSON_AddTrueToObject(res, "available");
	psi_kind(res, buf, "some", "no some line");
	/* System-wide cpu "full" exists from Linux 5.13 (always zero there). */
	psi_kind(res, buf, "full",
		 strcmp(name, "cpu") ? "no full line" : "no full line (kernel before 5.13)");
	return 0;
}

static void sample_psi(const char *root, cJSON *out)
{
	static const char *const res[3] = { "cpu", "memory", "io" };
	cJSON *psi = cJSON_AddObjectToObject(out, "psi");
	cJSON_AddTrueToObject(psi, "available");
	int missing = 0;
	for (int i = 0; i < 3; i++)
		if (sample_psi_resource(root, res[i], psi) == -ENOENT)
			missing++;
	if (missing < 3)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(out, "psi");
	unavailable_part(out, "psi",
			 "no %s/pressure (a kernel without CONFIG_PSI, before 4.20, or booted with psi=0)",
			 root);
}

/* --- the source ------------------------------------------------------------------ */

static int ps_init(struct tm_source *s, char *reason, size_t rl)
{
	struct ps_priv *pv = calloc(1, sizeof(*pv));
	if (!pv) {
		snprintf(reason, rl, "out of memory");
		return -ENOMEM;
	}
	s->priv = pv;
	return 0;
}

static int ps_sample(struct tm_source *s, uint64_t now_ns, cJSON *out, char *reason, size_t rl)
{
	struct ps_priv *pv = s->priv;
	const char *root = s->env->procfs_root;
	ssize_t n = read_stat(pv, root);
	if (n < 0) {
		snprintf(reason, rl, "cannot read %s/stat: %s", root, tm_strerror((int)n));
		return (int)n;
	}
	uint64_t running = 0, blocked = 0;
	bool has_running = false, has_blocked = false;
	struct ps_set *cur = &pv->set[pv->cur];
	parse_stat(cur, pv->buf, (size_t)n, out, &running, &has_running, &blocked, &has_blocked);
	if (!cur->n && !cur->has_total) {
		snprintf(reason, rl, "no cpu lines in %s/stat", root);
		return -EINVAL;
	}
	emit_stat(pv, now_ns, out, running, has_running, blocked, has_blocked);
	/* The parse is kept in set[cur]: the buffer is free for the others. */
	sample_meminfo(root, pv->buf, pv->cap, out);
	sample_loadavg(root, out);
	sample_psi(root, out);
	pv->cur = !pv->cur;
	pv->has_prev = true;
	pv->prev_ns = now_ns;
	return 0;
}

static void ps_fini(struct tm_source *s)
{
	struct ps_priv *pv = s->priv;
	if (!pv)
		return;
	free(pv->buf);
	free(pv->set[0].v);
	free(pv->set[1].v);
	free(pv);
	s->priv = NULL;
}

/* --- metrics ------------------------------------------------------------------------ */

static bool num(const cJSON *o, const char *key, double *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(it))
		return false;
	*v = it->valuedouble;
	return true;
}

static bool part_ok(const cJSON *o)
{
	return cJSON_IsObject(o) && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "available"));
}

static void cpu_metrics(const cJSON *o, const char *cpu, struct prom *p)
{
	char key[32];
	double v;
	/* Counters per CPU only, so that sum() over cpu stays right. */
	bool per_cpu = strcmp(cpu, "all") != 0;
	for (int i = 0; i < N_MODES && per_cpu; i++) {
		snprintf(key, sizeof(key), "%s_seconds", mode_name[i]);
		if (num(o, key, &v))
			prom_sample(p, "hwopt_cpu_seconds_total", v, "cpu", cpu, "mode", mode_name[i],
				    NULL);
	}
	if (per_cpu && num(o, "guest_seconds", &v))
		prom_sample(p, "hwopt_cpu_guest_seconds_total", v, "cpu", cpu, "mode", "user", NULL);
	if (per_cpu && num(o, "guest_nice_seconds", &v))
		prom_sample(p, "hwopt_cpu_guest_seconds_total", v, "cpu", cpu, "mode", "nice", NULL);
	for (int i = 0; i <= N_MODES; i++) {
		const char *m = i < N_MODES ? mode_name[i] : "busy";
		snprintf(key, sizeof(key), "%s_pct", m);
		if (num(o, key, &v))
			prom_sample(p, "hwopt_cpu_utilization_ratio", v / 100.0, "cpu", cpu, "mode",
				    m, NULL);
	}
}

static void stat_metrics(const cJSON *part, struct prom *p)
{
	prom_family(p, "hwopt_cpu_seconds_total", PROM_COUNTER,
		    "Seconds the CPUs spent in each mode.");
	prom_family(p, "hwopt_cpu_guest_seconds_total", PROM_COUNTER,
		    "Seconds the CPUs spent running guests (also counted in user and nice).");
	prom_family(p, "hwopt_cpu_utilization_ratio", PROM_GAUGE,
		    "Share of each mode in the CPU's time since the previous sample (cpu all: the machine).");
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(part, "cpus")) {
		double n;
		char cpu[16];
		if (!num(c, "cpu", &n))
			continue;
		snprintf(cpu, sizeof(cpu), "%d", (int)n);
		cpu_metrics(c, cpu, p);
	}
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "total");
	if (cJSON_IsObject(t))
		cpu_metrics(t, "all", p);

	double v;
	prom_family(p, "hwopt_context_switches_total", PROM_COUNTER, "Context switches.");
	if (num(part, "context_switches", &v))
		prom_sample(p, "hwopt_context_switches_total", v, NULL);
	prom_family(p, "hwopt_forks_total", PROM_COUNTER, "Processes and threads created.");
	if (num(part, "forks", &v))
		prom_sample(p, "hwopt_forks_total", v, NULL);
	prom_family(p, "hwopt_procs_running", PROM_GAUGE, "Tasks runnable now.");
	if (num(part, "procs_running", &v))
		prom_sample(p, "hwopt_procs_running", v, NULL);
	prom_family(p, "hwopt_procs_blocked", PROM_GAUGE, "Tasks blocked on I/O now.");
	if (num(part, "procs_blocked", &v))
		prom_sample(p, "hwopt_procs_blocked", v, NULL);
}

/* The meminfo fields exported, by their JSON key, with names that pass
 * promtool's lint (snake case, no abbreviated units, no _total on a gauge).
 * Every field stays in the JSON part. */
static const struct {
	const char *key, *metric;
} meminfo_names[] = {
	{ "MemTotal_bytes", "hwopt_memory_total_bytes" },
	{ "MemFree_bytes", "hwopt_memory_free_bytes" },
	{ "MemAvailable_bytes", "hwopt_memory_available_bytes" },
	{ "Buffers_bytes", "hwopt_memory_buffers_bytes" },
	{ "Cached_bytes", "hwopt_memory_cached_bytes" },
	{ "SwapCached_bytes", "hwopt_memory_swap_cached_bytes" },
	{ "Active_bytes", "hwopt_memory_active_bytes" },
	{ "Inactive_bytes", "hwopt_memory_inactive_bytes" },
	{ "SwapTotal_bytes", "hwopt_memory_swap_size_bytes" },
	{ "SwapFree_bytes", "hwopt_memory_swap_free_bytes" },
	{ "Dirty_bytes", "hwopt_memory_dirty_bytes" },
	{ "Writeback_bytes", "hwopt_memory_writeback_bytes" },
	{ "AnonPages_bytes", "hwopt_memory_anon_bytes" },
	{ "Mapped_bytes", "hwopt_memory_mapped_bytes" },
	{ "Shmem_bytes", "hwopt_memory_shmem_bytes" },
	{ "Slab_bytes", "hwopt_memory_slab_bytes" },
	{ "SReclaimable_bytes", "hwopt_memory_slab_reclaimable_bytes" },
	{ "SUnreclaim_bytes", "hwopt_memory_slab_unreclaimable_bytes" },
	{ "PageTables_bytes", "hwopt_memory_page_tables_bytes" },
	{ "CommitLimit_bytes", "hwopt_memory_commit_limit_bytes" },
	{ "Committed_AS_bytes", "hwopt_memory_committed_bytes" },
	{ "AnonHugePages_bytes", "hwopt_memory_anon_huge_pages_bytes" },
	{ "HugePages_Total", "hwopt_memory_huge_pages" },
	{ "HugePages_Free", "hwopt_memory_huge_pages_free" },
	{ "Hugepagesize_bytes", "hwopt_memory_huge_page_size_bytes" },
};

static void meminfo_metrics(const cJSON *mem, struct prom *p)
{
	if (!part_ok(mem))
		return;
	for (size_t i = 0; i < sizeof(meminfo_names) / sizeof(meminfo_names[0]); i++) {
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(mem, meminfo_names[i].key);
		if (!cJSON_IsNumber(it))
			continue;
		/* "MemTotal_bytes" is meminfo's MemTotal, in bytes. */
		const char *unit = strstr(it->string, "_bytes");
		int field = unit ? (int)(unit - it->string) : (int)strlen(it->string);
		char help[160];
		snprintf(help, sizeof(help), "The %.*s field of /proc/meminfo.", field, it->string);
		if (prom_family(p, meminfo_names[i].metric, PROM_GAUGE, help) == 0)
			prom_sample(p, meminfo_names[i].metric, it->valuedouble, NULL);
	}
}

static void loadavg_metrics(const cJSON *la, struct prom *p)
{
	static const char *const keys[3] = { "load1", "load5", "load15" };
	static const char *const help[3] = {
		"1-minute load average.", "5-minute load average.", "15-minute load average.",
	};
	if (!part_ok(la))
		return;
	for (int i = 0; i < 3; i++) {
		char name[32];
		double v;
		snprintf(name, sizeof(name), "hwopt_%s", keys[i]);
		prom_family(p, name, PROM_GAUGE, help[i]);
		if (num(la, keys[i], &v))
			prom_sample(p, name, v, NULL);
	}
}

static void psi_metrics(const cJSON *psi, struct prom *p)
{
	static const char *const res[3] = { "cpu", "memory", "io" };
	if (!part_ok(psi))
		return;
	prom_family(p, "hwopt_pressure_avg10_ratio", PROM_GAUGE,
		    "Share of the last 10 s that tasks stalled on the resource.");
	for (int i = 0; i < 3; i++) {
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(psi, res[i]);
		if (!part_ok(r))
			continue;
		for (int k = 0; k < 2; k++) {
			const char *kind = k ? "full" : "some";
			const cJSON *o = cJSON_GetObjectItemCaseSensitive(r, kind);
			char name[64], help[128];
			double v;
			if (!part_ok(o))
				continue;
			snprintf(name, sizeof(name), "hwopt_pressure_%s_%s_seconds_total", res[i],
				 k ? "stalled" : "waiting");
			snprintf(help, sizeof(help), k ? "Seconds all non-idle tasks stalled on %s."
						       : "Seconds some task waited for %s.", res[i]);
			prom_family(p, name, PROM_COUNTER, help);
			if (num(o, "total_seconds", &v))
				prom_sample(p, name, v, NULL);
			if (num(o, "avg10_pct", &v))
				prom_sample(p, "hwopt_pressure_avg10_ratio", v / 100.0, "resource",
					    res[i], "kind", kind, NULL);
		}
	}
}

static void ps_metrics(const cJSON *part, struct prom *p)
{
	stat_metrics(part, p);
	meminfo_metrics(cJSON_GetObjectItemCaseSensitive(part, "meminfo"), p);
	loadavg_metrics(cJSON_GetObjectItemCaseSensitive(part, "loadavg"), p);
	psi_metrics(cJSON_GetObjectItemCaseSensitive(part, "psi"), p);
}

const struct tm_source_ops tm_procstat = {
	.name = "procstat",
	.init = ps_init,
	.sample = ps_sample,
	.metrics = ps_metrics,
	.fini = ps_fini,
};
