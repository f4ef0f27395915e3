/* Scheduler run-queue latency through eBPF (libbpf CO-RE skeleton built
 * from schedlat.bpf.c): a log2 histogram for the whole system and one for
 * the daemon's workers, with each worker's involuntary switches and
 * migrations. tp_btf programs are tried first, raw_tp ones when those do
 * not load. Without root (CAP_BPF + CAP_PERFMON), under lockdown, or in a
 * build without eBPF (HWOPT_NO_BPF) the source is unavailable with a
 * reason and the daemon carries on. */
#include "daemon/telemetry/source.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "daemon/prom.h"

#define SL_NSLOT 26     /* slot i: latency <= 2^i us; one more above all */
#define SL_MAX_SLOTS 64 /* what metrics() accepts from a part */
#define FAMILY "hwopt_runqueue_latency_seconds"

#ifdef HWOPT_NO_BPF

#ifndef HWOPT_NO_BPF_WHY
#define HWOPT_NO_BPF_WHY "not configured"
#endif

static int sl_init(struct tm_source *s, char *reason, size_t rl)
{
	snprintf(reason, rl, "built without eBPF: %s", HWOPT_NO_BPF_WHY);
	return -ENOTSUP;
}

static int sl_sample(struct tm_source *s, uint64_t now_ns, cJSON *out, char *reason, size_t rl)
{
	snprintf(reason, rl, "built without eBPF: %s", HWOPT_NO_BPF_WHY);
	return -ENOTSUP;
}

static void sl_fini(struct tm_source *s)
{
}

#else /* !HWOPT_NO_BPF */

#include <linux/capability.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon/log.h"
#include "daemon/telemetry/fs.h"
#include "schedlat.skel.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* The BPF side's value layout (schedlat.bpf.c); init checks the size. */
struct sl_stat {
	uint64_t slots[SL_NSLOT + 1];
	uint64_t count;
	uint64_t sum_ns;
	uint64_t involuntary;
	uint64_t migrations;
};

struct schedlat {
	struct schedlat_bpf *skel;
	const char *mode;      /* "tp_btf" or "raw_tp" */
	int ncpu;              /* possible CPUs: per-CPU values come in that many */
	size_t n_workers;
	struct sl_stat *percpu; /* lookup buffer, ncpu values */
	struct sl_stat prev_sys, prev_wk; /* for the interval's percentiles */
};

/* libbpf's messages: the first warning of a load attempt becomes the
 * reason; warnings reach the log (debug while a fallback remains). */
static char libbpf_first[200];
static bool libbpf_quiet;

__attribute__((format(printf, 2, 0)))
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level != LIBBPF_WARN)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	const char *m = strncmp(msg, "libbpf: ", 8) == 0 ? msg + 8 : msg;
	if (!libbpf_first[0])
		snprintf(libbpf_first, sizeof(libbpf_first), "%.*s",
			 (int)sizeof(libbpf_first) - 1, m);
	if (libbpf_quiet)
		log_debug("schedlat: libbpf: %s", m);
	else
		log_warning("schedlat: libbpf: %s", m);
	return 0;
}

static bool has_cap(unsigned int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

/* Tracing programs need CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN before
 * 5.8); unprivileged_bpf_disabled only says it louder. */
static int check_privilege(const struct tm_env *env, char *reason, size_t rl)
{
	uint64_t disabled = 0;

	if (has_cap(CAP_SYS_ADMIN) || (has_cap(CAP_BPF) && has_cap(CAP_PERFMON)))
		return 0;
	bool off = tm_read_u64(env->procfs_root, "sys/kernel/unprivileged_bpf_disabled",
			       &disabled) == 0 && disabled;
	snprintf(reason, rl, "%s: eBPF needs CAP_BPF and CAP_PERFMON%s",
		 geteuid() ? "not root" : "root without capabilities",
		 off ? " (unprivileged eBPF is disabled)" : "");
	return -EPERM;
}

/* "none integrity [confidentiality]": confidentiality forbids reading
 * kernel memory, which every program here does. */
static int check_lockdown(const struct tm_env *env, const char **level, char *reason, size_t rl)
{
	char buf[128];

	*level = NULL;
	if (tm_read(env->sysfs_root, "kernel/security/lockdown", buf, sizeof(buf)) < 0)
		return 0;
	if (strstr(buf, "[confidentiality]")) {
		snprintf(reason, rl, "kernel lockdown (confidentiality) forbids eBPF");
		return -EPERM;
	}
	if (strstr(buf, "[integrity]"))
		*level = "integrity";
	return 0;
}

static void set_mode(struct schedlat_bpf *skel, bool btf)
{
	bpf_program__set_autoload(skel->progs.tp_wakeup, btf);
	bpf_program__set_autoload(skel->progs.tp_wakeup_new, btf);
	bpf_program__set_autoload(skel->progs.tp_switch, btf);
	bpf_program__set_autoload(skel->progs.raw_wakeup, !btf);
	bpf_program__set_autoload(skel->progs.raw_wakeup_new, !btf);
	bpf_program__set_autoload(skel->progs.raw_switch, !btf);
}

/* Worker thread id -> index; a bad or repeated tid is left out. */
static int fill_workers(struct schedlat_bpf *skel, const struct tm_env *env, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t tid = (uint32_t)env->worker_tids[i], idx = (uint32_t)i;
		if (env->worker_tids[i] <= 0)
			continue;
		if (bpf_map__update_elem(skel->maps.workers, &tid, sizeof(tid), &idx, sizeof(idx),
					 BPF_NOEXIST) < 0 && errno != EEXIST)
			return -errno;
	}
	return 0;
}

static int attach_all(struct schedlat_bpf *skel, bool btf)
{
	struct {
		struct bpf_program *prog;
		struct bpf_link **link;
	} a[] = {
		{ btf ? skel->progs.tp_wakeup : skel->progs.raw_wakeup,
		  btf ? &skel->links.tp_wakeup : &skel->links.raw_wakeup },
		{ btf ? skel->progs.tp_wakeup_new : skel->progs.raw_wakeup_new,
		  btf ? &skel->links.tp_wakeup_new : &skel->links.raw_wakeup_new },
		{ btf ? skel->progs.tp_switch : skel->progs.raw_switch,
		  btf ? &skel->links.tp_switch : &skel->links.raw_switch },
	};

	for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
		*a[i].link = bpf_program__attach(a[i].prog);
		if (!*a[i].link)
			return -errno;
	}
	return 0;
}

/* One attempt in one mode: open, size the maps, load, fill, attach. */
static int try_mode(struct schedlat *sl, const struct tm_env *env, bool btf, char *err, size_t el)
{
	size_t n = sl->n_workers;
	struct schedlat_bpf *skel;
	const char *step = "open";
	int rc;

	libbpf_first[0] = '\0';
	skel = schedlat_bpf__open();
	if (!skel) {
		rc = -errno;
		goto fail;
	}
	if (bpf_map__value_size(skel->maps.stats) != sizeof(struct sl_stat)) {
		snprintf(err, el, "BPF object and schedlat.c disagree on the value layout");
		schedlat_bpf__destroy(skel);
		return -EINVAL;
	}
	set_mode(skel, btf);
	step = "size maps";
	if ((rc = bpf_map__set_max_entries(skel->maps.stats, (uint32_t)(1 + n))) < 0 ||
	    (rc = bpf_map__set_max_entries(skel->maps.workers, n ? (uint32_t)n : 1)) < 0 ||
	    (rc = bpf_map__set_max_entries(skel->maps.lastcpu, n ? (uint32_t)n : 1)) < 0)
		goto fail;
	step = "load";
	if ((rc = schedlat_bpf__load(skel)) < 0)
		goto fail;
	step = "fill workers";
	if ((rc = fill_workers(skel, env, n)) < 0)
		goto fail;
	step = "attach";
	if ((rc = attach_all(skel, btf)) < 0)
		goto fail;
	sl->skel = skel;
	sl->mode = btf ? "tp_btf" : "raw_tp";
	return 0;
fail:
	if (rc >= 0)
		rc = -EINVAL;
	snprintf(err, el, "%s %s: %s%s%s", btf ? "tp_btf" : "raw_tp", step, strerror(-rc),
		 libbpf_first[0] ? ": " : "", libbpf_first);
	schedlat_bpf__destroy(skel);
	return rc;
}

/* tp_btf, then raw_tp. HWOPTD_SCHEDLAT_ATTACH=raw_tp skips tp_btf (tests
 * of the fallback on a kernel where tp_btf works). */
static int load(struct schedlat *sl, const struct tm_env *env, char *reason, size_t rl)
{
	const char *force = getenv("HWOPTD_SCHEDLAT_ATTACH");
	char e1[300] = "", e2[300] = "";
	int rc = -ENOTSUP;

	libbpf_set_print(libbpf_print);
	if (!force || strcmp(force, "raw_tp") != 0) {
		libbpf_quiet = true;
		rc = try_mode(sl, env, true, e1, sizeof(e1));
		libbpf_quiet = false;
		if (rc == 0)
			return 0;
		log_debug("schedlat: %s; trying raw_tp", e1);
	}
	rc = try_mode(sl, env, false, e2, sizeof(e2));
	if (rc == 0)
		return 0;
	snprintf(reason, rl, "libbpf: %s%s%s", e2, e1[0] ? "; " : "", e1);
	return rc;
}

static void sl_fini(struct tm_source *s)
{
	struct schedlat *sl = s->priv;

	if (!sl)
		return;
	schedlat_bpf__destroy(sl->skel);
	free(sl->percpu);
	free(sl);
	s->priv = NULL;
}

static int sl_init(struct tm_source *s, char *reason, size_t rl)
{
	const struct tm_env *env = s->env;
	const char *lockdown;
	struct schedlat *sl;
	int rc;

	if ((rc = check_privilege(env, reason, rl)) < 0 ||
	    (rc = check_lockdown(env, &lockdown, reason, rl)) < 0)
		return rc;
	sl = calloc(1, sizeof(*sl));
	if (!sl) {
		snprintf(reason, rl, "out of memory");
		return -ENOMEM;
	}
	s->priv = sl;
	sl->n_workers = env->n_workers < TM_MAX_WORKERS ? env->n_workers : TM_MAX_WORKERS;
	sl->ncpu = libbpf_num_possible_cpus();
	if (sl->ncpu <= 0) {
		rc = sl->ncpu < 0 ? sl->ncpu : -EINVAL;
		snprintf(reason, rl, "libbpf: possible CPUs: %s", strerror(-rc));
		goto fail;
	}
	sl->percpu = calloc((size_t)sl->ncpu, sizeof(*sl->percpu));
	if (!sl->percpu) {
		rc = -ENOMEM;
		snprintf(reason, rl, "out of memory");
		goto fail;
	}
	if ((rc = load(sl, env, reason, rl)) < 0) {
		if (lockdown) {
			size_t l = strlen(reason);
			snprintf(reason + l, rl - l, " (kernel lockdown: %s)", lockdown);
		}
		goto fail;
	}
	log_debug("schedlat: attached (%s), %zu workers", sl->mode, sl->n_workers);
	return 0;
fail:
	sl_fini(s);
	return rc;
}

static void stat_add(struct sl_stat *to, const struct sl_stat *v)
{
	for (int k = 0; k <= SL_NSLOT; k++)
		to->slots[k] += v->slots[k];
	to->count += v->count;
	to->sum_ns += v->sum_ns;
	to->involuntary += v->involuntary;
	to->migrations += v->migrations;
}

/* Entry i of the stats map summed over CPUs. */
static int read_stat(struct schedlat *sl, uint32_t i, struct sl_stat *out)
{
	size_t sz = (size_t)sl->ncpu * sizeof(*sl->percpu);

	memset(out, 0, sizeof(*out));
	if (bpf_map__lookup_elem(sl->skel->maps.stats, &i, sizeof(i), sl->percpu, sz, 0) < 0)
		return -errno;
	for (int c = 0; c < sl->ncpu; c++)
		stat_add(out, &sl->percpu[c]);
	return 0;
}

static uint64_t delta(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : 0;
}

/* The bound (seconds) of the slot where the interval's cumulative count
 * reaches q of its total; false when none was counted or it lies above
 * the last bound. */
static bool quantile(const struct sl_stat *cur, const struct sl_stat *prev, double q,
		     double *out)
{
	uint64_t total = 0, cum = 0, need;

	for (int k = 0; k <= SL_NSLOT; k++)
		total += delta(cur->slots[k], prev->slots[k]);
	if (!total)
		return false;
	need = (uint64_t)(q * (double)total);
	if ((double)need < q * (double)total)
		need++;
	for (int k = 0; k < SL_NSLOT; k++) {
		cum += delta(cur->slots[k], prev->slots[k]);
		if (cum >= need) {
			*out = (double)(1ull << k) * 1e-6;
			return true;
		}
	}
	return false;
}

static cJSON *hist_json(const struct sl_stat *cur, const struct sl_stat *prev)
{
	cJSON *o = cJSON_CreateObject(), *le = cJSON_CreateArray(), *c = cJSON_CreateArray();
	uint64_t interval = 0;
	double v;

	for (int k = 0; k < SL_NSLOT; k++) {
		cJSON_AddItemToArray(le, cJSON_CreateNumber((double)(1ull << k)));
		cJSON_AddItemToArray(c, cJSON_CreateNumber((double)cur->slots[k]));
	}
	cJSON_AddItemToObject(o, "buckets_le_us", le);
	cJSON_AddItemToObject(o, "counts", c);
	cJSON_AddNumberToObject(o, "count", (double)cur->count);
	cJSON_AddNumberToObject(o, "sum_seconds", (double)cur->sum_ns * 1e-9);
	for (int k = 0; k <= SL_NSLOT; k++)
		interval += delta(cur->slots[k], prev->slots[k]);
	cJSON_AddNumberToObject(o, "interval_count", (double)interval);
	if (quantile(cur, prev, 0.5, &v))
		cJSON_AddNumberToObject(o, "p50_seconds", v);
	if (quantile(cur, prev, 0.99, &v))
		cJSON_AddNumberToObject(o, "p99_seconds", v);
	return o;
}

static cJSON *worker_json(const struct tm_env *env, size_t i, const struct sl_stat *w)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "worker", (double)i);
	cJSON_AddNumberToObject(o, "tid", (double)env->worker_tids[i]);
	cJSON_AddNumberToObject(o, "involuntary_switches", (double)w->involuntary);
	cJSON_AddNumberToObject(o, "migrations", (double)w->migrations);
	cJSON_AddNumberToObject(o, "count", (double)w->count);
	cJSON_AddNumberToObject(o, "sum_seconds", (double)w->sum_ns * 1e-9);
	return o;
}

static int sl_sample(struct tm_source *s, uint64_t now_ns, cJSON *out, char *reason, size_t rl)
{
	struct schedlat *sl = s->priv;
	struct sl_stat sys, wk, w;
	cJSON *per;
	int rc;

	if (!sl || !sl->skel) {
		snprintf(reason, rl, "not loaded");
		return -ENODEV;
	}
	if ((rc = read_stat(sl, 0, &sys)) < 0) {
		snprintf(reason, rl, "reading the histogram: %s", strerror(-rc));
		return rc;
	}
	memset(&wk, 0, sizeof(wk));
	per = cJSON_CreateArray();
	for (size_t i = 0; i < sl->n_workers; i++) {
		if (read_stat(sl, (uint32_t)(1 + i), &w) < 0)
			continue; /* that worker is left out this time */
		stat_add(&wk, &w);
		cJSON_AddItemToArray(per, worker_json(s->env, i, &w));
	}
	cJSON_AddStringToObject(out, "attach", sl->mode);
	cJSON_AddItemToObject(out, "system", hist_json(&sys, &sl->prev_sys));
	cJSON_AddItemToObject(out, "workers", hist_json(&wk, &sl->prev_wk));
	cJSON_AddItemToObject(out, "per_worker", per);
	sl->prev_sys = sys;
	sl->prev_wk = wk;
	return 0;
}

#endif /* HWOPT_NO_BPF */

/* --- metrics: from the part alone, so they build either way ------------ */

static bool num(const cJSON *o, const char *key, double *v)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(j))
		return false;
	*v = j->valuedouble;
	return true;
}

static void hist_metric(const cJSON *h, const char *scope, struct prom *p)
{
	const cJSON *le = cJSON_GetObjectItemCaseSensitive(h, "buckets_le_us");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(h, "counts");
	double bounds[SL_MAX_SLOTS], sum, count;
	uint64_t counts[SL_MAX_SLOTS];
	int n = cJSON_GetArraySize(le);

	if (!cJSON_IsArray(le) || !cJSON_IsArray(c) || n != cJSON_GetArraySize(c) || n < 1 ||
	    n > SL_MAX_SLOTS || !num(h, "sum_seconds", &sum) || !num(h, "count", &count) ||
	    !(count >= 0) || count > 1e18)
		return;
	for (int i = 0; i < n; i++) {
		const cJSON *b = cJSON_GetArrayItem(le, i), *k = cJSON_GetArrayItem(c, i);
		if (!cJSON_IsNumber(b) || !cJSON_IsNumber(k) || !(k->valuedouble >= 0) ||
		    k->valuedouble > 1e18)
			return;
		bounds[i] = b->valuedouble * 1e-6;
		counts[i] = (uint64_t)k->valuedouble;
	}
	prom_histogram(p, FAMILY, bounds, counts, (size_t)n, sum, (uint64_t)count, "scope", scope,
		       NULL);
}

static void worker_metrics(const cJSON *per, struct prom *p)
{
	const cJSON *w;
	char label[16];
	double idx, v;

	cJSON_ArrayForEach(w, per) {
		if (!num(w, "worker", &idx))
			continue;
		snprintf(label, sizeof(label), "%d", (int)idx);
		if (num(w, "involuntary_switches", &v))
			prom_sample(p, "hwopt_worker_involuntary_switches_total", v, "worker",
				    label, NULL);
		if (num(w, "migrations", &v))
			prom_sample(p, "hwopt_worker_migrations_total", v, "worker", label, NULL);
	}
}

static void sl_metrics(const cJSON *part, struct prom *p)
{
	const cJSON *mode = cJSON_GetObjectItemCaseSensitive(part, "attach");
	const cJSON *per = cJSON_GetObjectItemCaseSensitive(part, "per_worker");

	prom_family(p, FAMILY, PROM_HISTOGRAM,
		    "Time tasks waited in the run queue between becoming runnable and running.");
	prom_family(p, "hwopt_worker_involuntary_switches_total", PROM_COUNTER,
		    "Times a worker thread was switched out while still runnable.");
	prom_family(p, "hwopt_worker_migrations_total", PROM_COUNTER,
		    "Times a worker thread started running on another CPU than last time.");
	prom_family(p, "hwopt_schedlat_attach_info", PROM_GAUGE,
		    "How the scheduler latency programs are attached (tp_btf or raw_tp).");
	if (cJSON_IsString(mode))
		prom_sample(p, "hwopt_schedlat_attach_info", 1, "mode", mode->valuestring, NULL);
	hist_metric(cJSON_GetObjectItemCaseSensitive(part, "system"), "system", p);
	hist_metric(cJSON_GetObjectItemCaseSensitive(part, "workers"), "workers", p);
	if (cJSON_IsArray(per))
		worker_metrics(per, p);
}

const struct tm_source_ops tm_schedlat = {
	.name = "schedlat",
	.init = sl_init,
	.sample = sl_sample,
	.metrics = sl_metrics,
	.fini = sl_fini,
};
