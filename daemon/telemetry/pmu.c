/* perf_event_open counters with libpfm4 names (see pmu.h).
 *
 * Choices worth knowing:
 * - the defaults resolve as "perf::<name>" so libpfm4 picks the kernel's
 *   generic event, not a same-named event of some core PMU table; when
 *   libpfm4 cannot (not initialised, an old table) the PERF_TYPE_HARDWARE /
 *   SOFTWARE constants stand in. Extras are resolved as given.
 * - every event is read through its group leader (PERF_FORMAT_GROUP with
 *   ids), so a read costs one syscall per group and all members of a group
 *   share one enabled/running window.
 * - the software events never multiplex, so grouping them buys nothing;
 *   and a group mixing the clock PMUs (task-clock, cpu-clock) with the
 *   other software events counts erratically (6.18: a CPU-wide group led by
 *   task-clock leaves context-switches at 0, task-clock under a
 *   context-switches leader reads 0 at times). So task-clock and software
 *   extras are opened alone, the other three defaults as one group.
 * - a member the PMU cannot schedule with its group (EINVAL) is opened
 *   alone instead: it multiplexes, and its ratio partners stay consistent
 *   among themselves.
 * - EACCES/EPERM with kernel counting on (perf_event_paranoid >= 2 for an
 *   unprivileged daemon) retries user-only, noted as user_only. */
#include "pmu.h"

#include <ctype.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <perfmon/pfmlib_perf_event.h>

#include "daemon/errbuf.h"

/* Which group an event is opened in. */
enum pmu_group_tag { G_CORE, G_CACHE, G_BRANCH, G_SW, G_ALONE, G_NEVER };

enum pmu_scope { SCOPE_THREAD, SCOPE_CPU, SCOPE_N };

/* The defaults' positions in every list: the ratios look them up here. */
enum {
	D_CYCLES,
	D_INSTRUCTIONS,
	D_CACHE_REFS,
	D_CACHE_MISSES,
	D_BRANCHES,
	D_BRANCH_MISSES,
	D_STALLED_BACKEND,
	D_TASK_CLOCK,
	D_CTX_SWITCHES,
	D_MIGRATIONS,
	D_PAGE_FAULTS,
	D_N
};

static const struct {
	const char *name;
	uint32_t type;
	uint64_t config;
	enum pmu_group_tag group;
} defaults[D_N] = {
	[D_CYCLES] = { "cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, G_CORE },
	[D_INSTRUCTIONS] = { "instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS,
			     G_CORE },
	[D_CACHE_REFS] = { "cache-references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES,
			   G_CACHE },
	[D_CACHE_MISSES] = { "cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES,
			     G_CACHE },
	[D_BRANCHES] = { "branches", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS,
			 G_BRANCH },
	[D_BRANCH_MISSES] = { "branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES,
			      G_BRANCH },
	[D_STALLED_BACKEND] = { "stalled-cycles-backend", PERF_TYPE_HARDWARE,
				PERF_COUNT_HW_STALLED_CYCLES_BACKEND, G_CORE },
	[D_TASK_CLOCK] = { "task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, G_ALONE },
	[D_CTX_SWITCHES] = { "context-switches", PERF_TYPE_SOFTWARE,
			     PERF_COUNT_SW_CONTEXT_SWITCHES, G_SW },
	[D_MIGRATIONS] = { "cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS,
			   G_SW },
	[D_PAGE_FAULTS] = { "page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, G_SW },
};

struct pmu_scope_state {
	bool tried, ok, user_only;
	int err; /* the last failure's errno */
};

struct pmu_event {
	char name[64];
	struct perf_event_attr attr;
	enum pmu_kind kind;
	enum pmu_group_tag group;
	bool resolved;
	char error[112]; /* why it is not resolved (libpfm4, duplicate) */
	struct pmu_scope_state scope[SCOPE_N];
};

struct pmu_events {
	pthread_mutex_t lock; /* the scope states: pmu_open may run in any thread */
	size_t n;
	struct pmu_event e[PMU_MAX_EVENTS];
};

struct pmu_group {
	int leader;
	size_t n;
	uint8_t idx[PMU_MAX_EVENTS];
	uint64_t id[PMU_MAX_EVENTS];
};

struct pmu_counters {
	pid_t tid; /* as opened: 0 the opener, -1 a CPU */
	size_t n_groups, n_open;
	int fd[PMU_MAX_EVENTS];
	struct pmu_group g[PMU_MAX_EVENTS];
};

/* --- libpfm4 ------------------------------------------------------------- */

static pthread_once_t pfm_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t pfm_lock = PTHREAD_MUTEX_INITIALIZER;
static int pfm_init_rc;

static void pfm_init_once(void)
{
	pfm_init_rc = pfm_initialize();
}

/* name's attr, or a libpfm4 error message into err. */
static bool pfm_resolve(const char *name, struct perf_event_attr *attr, char *err, size_t el)
{
	pthread_once(&pfm_once, pfm_init_once);
	if (pfm_init_rc != PFM_SUCCESS) {
		set_err(err, el, "libpfm4: %s", pfm_strerror(pfm_init_rc));
		return false;
	}
	pfm_perf_encode_arg_t arg;
	memset(&arg, 0, sizeof(arg));
	memset(attr, 0, sizeof(*attr));
	arg.attr = attr;
	arg.size = sizeof(arg);
	/* The library keeps per-call state in globals for some PMUs. */
	pthread_mutex_lock(&pfm_lock);
	int rc = pfm_get_os_event_encoding(name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
	pthread_mutex_unlock(&pfm_lock);
	if (rc != PFM_SUCCESS) {
		set_err(err, el, "libpfm4: %s", pfm_strerror(rc));
		return false;
	}
	return true;
}

static enum pmu_kind kind_of(uint32_t type)
{
	switch (type) {
	case PERF_TYPE_HARDWARE:
	case PERF_TYPE_HW_CACHE:
		return PMU_KIND_HARDWARE;
	case PERF_TYPE_SOFTWARE:
	case PERF_TYPE_TRACEPOINT:
	case PERF_TYPE_BREAKPOINT:
		return PMU_KIND_SOFTWARE;
	default: /* PERF_TYPE_RAW and the dynamic PMU types */
		return PMU_KIND_RAW;
	}
}

static const char *kind_name(enum pmu_kind k)
{
	switch (k) {
	case PMU_KIND_HARDWARE:
		return "hardware";
	case PMU_KIND_SOFTWARE:
		return "software";
	case PMU_KIND_RAW:
		return "raw";
	default:
		return "unknown";
	}
}

/* --- the event list --------------------------------------------------------- */

static void add_default(struct pmu_events *ev, size_t d)
{
	struct pmu_event *e = &ev->e[ev->n++];
	char spec[96], ignored[112];
	snprintf(e->name, sizeof(e->name), "%s", defaults[d].name);
	snprintf(spec, sizeof(spec), "perf::%s", defaults[d].name);
	if (!pfm_resolve(spec, &e->attr, ignored, sizeof(ignored))) {
		memset(&e->attr, 0, sizeof(e->attr));
		e->attr.type = defaults[d].type;
		e->attr.config = defaults[d].config;
		e->attr.exclude_hv = 1;
	}
	e->kind = kind_of(e->attr.type);
	e->group = defaults[d].group;
	e->resolved = true;
}

static bool same_event(const struct perf_event_attr *a, const struct perf_event_attr *b)
{
	return a->type == b->type && a->config == b->config && a->config1 == b->config1 &&
	       a->config2 == b->config2 && a->exclude_user == b->exclude_user &&
	       a->exclude_kernel == b->exclude_kernel;
}

/* An extra, resolved or not; a second name for a listed event is kept out
 * of the counters (it would count twice under two labels). */
static void add_extra(struct pmu_events *ev, const char *name)
{
	struct pmu_event *e = &ev->e[ev->n];
	snprintf(e->name, sizeof(e->name), "%s", name);
	for (size_t i = 0; i < ev->n; i++)
		if (strcmp(ev->e[i].name, e->name) == 0)
			return; /* listed twice in the config: once is enough */
	ev->n++;
	e->group = G_NEVER;
	if (strlen(name) >= sizeof(e->name)) {
		set_err(e->error, sizeof(e->error), "name longer than %zu bytes",
			sizeof(e->name) - 1);
		return;
	}
	if (!pfm_resolve(name, &e->attr, e->error, sizeof(e->error)))
		return;
	e->kind = kind_of(e->attr.type);
	for (size_t i = 0; i + 1 < ev->n; i++) {
		if (ev->e[i].resolved && same_event(&ev->e[i].attr, &e->attr)) {
			set_err(e->error, sizeof(e->error), "the same event as \"%s\"", ev->e[i].name);
			return;
		}
	}
	e->resolved = true;
	e->group = e->kind == PMU_KIND_SOFTWARE ? G_ALONE : G_CORE;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int add_extras(struct pmu_events *ev, const char *extra, char *err, size_t errlen)
{
	char *copy = strdup(extra);
	if (!copy) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *name = trim(tok);
		if (!*name)
			continue;
		if (ev->n == PMU_MAX_EVENTS) {
			set_err(err, errlen, "perf_events: more than %d events with the %d defaults",
				PMU_MAX_EVENTS, D_N);
			rc = -E2BIG;
			break;
		}
		add_extra(ev, name);
	}
	free(copy);
	return rc;
}

int pmu_events_new(const char *extra, struct pmu_events **out, char *err, size_t errlen)
{
	*out = NULL;
	struct pmu_events *ev = calloc(1, sizeof(*ev));
	if (!ev) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&ev->lock, NULL);
	for (size_t d = 0; d < D_N; d++)
		add_default(ev, d);
	int rc = extra ? add_extras(ev, extra, err, errlen) : 0;
	if (rc < 0) {
		pmu_events_free(ev);
		return rc;
	}
	*out = ev;
	return 0;
}

void pmu_events_free(struct pmu_events *ev)
{
	if (!ev)
		return;
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}

size_t pmu_events_count(const struct pmu_events *ev)
{
	return ev->n;
}

const char *pmu_event_name(const struct pmu_events *ev, size_t i)
{
	return i < ev->n ? ev->e[i].name : NULL;
}

enum pmu_kind pmu_event_kind(const struct pmu_events *ev, size_t i)
{
	return i < ev->n ? ev->e[i].kind : PMU_KIND_UNKNOWN;
}

int pmu_event_index(const struct pmu_events *ev, const char *name)
{
	for (size_t i = 0; i < ev->n; i++)
		if (strcmp(ev->e[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The mutex is state, not value: locking it leaves ev as it was. */
static pthread_mutex_t *lock_of(const struct pmu_events *ev)
{
	return (pthread_mutex_t *)&ev->lock;
}

/* Not counting when every scope it was tried in refused it. */
static bool supported_locked(const struct pmu_event *e)
{
	if (!e->resolved)
		return false;
	bool tried = false;
	for (int s = 0; s < SCOPE_N; s++) {
		if (e->scope[s].ok)
			return true;
		tried |= e->scope[s].tried;
	}
	return !tried;
}

bool pmu_event_supported(const struct pmu_events *ev, size_t i)
{
	if (i >= ev->n)
		return false;
	pthread_mutex_lock(lock_of(ev));
	bool ok = supported_locked(&ev->e[i]);
	pthread_mutex_unlock(lock_of(ev));
	return ok;
}

/* --- opening ------------------------------------------------------------------ */

static int perf_open(struct perf_event_attr *a, pid_t tid, int cpu, int group_fd)
{
	long fd = syscall(SYS_perf_event_open, a, tid, cpu, group_fd, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : (int)fd;
}

/* One event, user+kernel, user only when the kernel part is refused. */
static int open_event(const struct pmu_event *e, pid_t tid, int cpu, int group_fd,
		      bool *user_only)
{
	struct perf_event_attr a = e->attr;
	a.size = sizeof(a);
	a.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED |
			PERF_FORMAT_TOTAL_TIME_RUNNING | PERF_FORMAT_ID;
	a.disabled = 0;
	a.inherit = 0;
	a.sample_period = 0;
	a.sample_type = 0;
	*user_only = false;
	int fd = perf_open(&a, tid, cpu, group_fd);
	if ((fd == -EACCES || fd == -EPERM) && !a.exclude_kernel) {
		a.exclude_kernel = 1;
		a.exclude_hv = 1;
		fd = perf_open(&a, tid, cpu, group_fd);
		*user_only = fd >= 0;
	}
	return fd;
}

static void note(struct pmu_events *ev, size_t i, enum pmu_scope s, int fd, bool user_only)
{
	struct pmu_scope_state *st = &ev->e[i].scope[s];
	pthread_mutex_lock(&ev->lock);
	st->tried = true;
	if (fd >= 0) {
		st->ok = true;
		st->user_only |= user_only;
	} else {
		st->err = -fd;
	}
	pthread_mutex_unlock(&ev->lock);
}

static void add_member(struct pmu_counters *c, struct pmu_group *g, size_t i, int fd)
{
	uint64_t id = 0;
	/* Without an id (kernels before 3.12) members match by position. */
	if (ioctl(fd, PERF_EVENT_IOC_ID, &id) < 0)
		id = 0;
	g->idx[g->n] = (uint8_t)i;
	g->id[g->n] = id;
	g->n++;
	c->fd[i] = fd;
	c->n_open++;
}

static struct pmu_group *new_group(struct pmu_counters *c, int leader)
{
	struct pmu_group *g = &c->g[c->n_groups++];
	g->leader = leader;
	g->n = 0;
	return g;
}

/* Event i into *gp (which it leads when NULL); alone when the PMU cannot
 * schedule it with the group. Returns the fd or -errno. */
static int join(struct pmu_counters *c, const struct pmu_event *e, size_t i, pid_t tid, int cpu,
		struct pmu_group **gp, bool *user_only)
{
	struct pmu_group *g = *gp;
	int fd = open_event(e, tid, cpu, g ? g->leader : -1, user_only);
	if (fd >= 0 && g) {
		add_member(c, g, i, fd);
		return fd;
	}
	if (fd == -EINVAL && g) {
		/* it leads a group of its own; *gp stays for the others */
		fd = open_event(e, tid, cpu, -1, user_only);
		if (fd >= 0)
			add_member(c, new_group(c, fd), i, fd);
		return fd;
	}
	if (fd >= 0) {
		*gp = new_group(c, fd);
		add_member(c, *gp, i, fd);
	}
	return fd;
}

struct pmu_counters *pmu_open(struct pmu_events *ev, pid_t tid, int cpu)
{
	struct pmu_counters *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	for (size_t i = 0; i < PMU_MAX_EVENTS; i++)
		c->fd[i] = -1;
	c->tid = tid;
	enum pmu_scope s = tid == -1 ? SCOPE_CPU : SCOPE_THREAD;
	int first_err = 0;
	for (int tag = G_CORE; tag <= G_ALONE; tag++) {
		struct pmu_group *g = NULL;
		for (size_t i = 0; i < ev->n; i++) {
			if (ev->e[i].group != (enum pmu_group_tag)tag)
				continue;
			if (tag == G_ALONE)
				g = NULL;
			bool user_only = false;
			int fd = join(c, &ev->e[i], i, tid, cpu, &g, &user_only);
			note(ev, i, s, fd, user_only);
			if (fd < 0 && !first_err)
				first_err = -fd;
		}
	}
	if (!c->n_open) {
		free(c);
		errno = first_err ? first_err : ENOENT;
		return NULL;
	}
	return c;
}

void pmu_close(struct pmu_counters *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < PMU_MAX_EVENTS; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	free(c);
}

size_t pmu_counters_open(const struct pmu_counters *c)
{
	return c ? c->n_open : 0;
}

bool pmu_exited(const struct pmu_counters *c)
{
	/* The events keep reading (final counts) and poll() hangs up on them
	 * whether or not the task lives, so ask about the thread itself. */
	if (!c || c->tid <= 0)
		return false;
	return syscall(SYS_tgkill, getpid(), c->tid, 0) < 0 && errno == ESRCH;
}

/* --- reading ------------------------------------------------------------------ */

static uint64_t scale(uint64_t v, uint64_t enabled, uint64_t running)
{
	if (running >= enabled)
		return v;
	unsigned __int128 x = (unsigned __int128)v * enabled / running;
	return x >= PMU_NONE ? PMU_NONE - 1 : (uint64_t)x;
}

static int read_group(const struct pmu_group *g, uint64_t *vals)
{
	/* nr, time_enabled, time_running, then {value, id} per member */
	uint64_t buf[3 + 2 * PMU_MAX_EVENTS];
	ssize_t n;
	do
		n = read(g->leader, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENODATA; /* error state: the PMU could not take it */
	uint64_t nr = buf[0];
	if ((size_t)n < 3 * sizeof(uint64_t) || nr > g->n ||
	    (size_t)n < (3 + 2 * nr) * sizeof(uint64_t))
		return -EIO;
	uint64_t enabled = buf[1], running = buf[2];
	if (running == 0 && enabled > 0)
		return 0; /* never on the PMU yet: nothing known */
	for (size_t k = 0; k < nr; k++) {
		uint64_t v = buf[3 + 2 * k], id = buf[4 + 2 * k];
		size_t m = k;
		if (g->id[k] && g->id[k] != id)
			for (m = 0; m < g->n && g->id[m] != id; m++)
				;
		if (m < g->n)
			vals[g->idx[m]] = scale(v, enabled, running);
	}
	return 0;
}

int pmu_read(const struct pmu_counters *c, uint64_t vals[PMU_MAX_EVENTS])
{
	for (size_t i = 0; i < PMU_MAX_EVENTS; i++)
		vals[i] = PMU_NONE;
	int rc = 0;
	for (size_t k = 0; k < c->n_groups; k++) {
		int r = read_group(&c->g[k], vals);
		if (r < 0 && !rc)
			rc = r;
	}
	return rc;
}

/* --- JSON ------------------------------------------------------------------- */

static void scope_json(cJSON *o, const char *key, const struct pmu_scope_state *st)
{
	if (!st->tried)
		return;
	cJSON *s = cJSON_AddObjectToObject(o, key);
	if (!s)
		return;
	cJSON_AddBoolToObject(s, "supported", st->ok);
	if (st->ok) {
		cJSON_AddBoolToObject(s, "user_only", st->user_only);
	} else {
		cJSON_AddNumberToObject(s, "errno", st->err);
		cJSON_AddStringToObject(s, "error", strerror(st->err));
	}
}

static cJSON *event_json(const struct pmu_event *e)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "name", e->name);
	cJSON_AddStringToObject(o, "kind", kind_name(e->kind));
	bool ok = supported_locked(e);
	cJSON_AddBoolToObject(o, "supported", ok);
	if (!e->resolved) {
		cJSON_AddStringToObject(o, "error", e->error);
	} else if (!ok) {
		/* every scope tried failed: the thread one says most */
		const struct pmu_scope_state *st =
			e->scope[SCOPE_THREAD].tried ? &e->scope[SCOPE_THREAD] : &e->scope[SCOPE_CPU];
		cJSON_AddNumberToObject(o, "errno", st->err);
		cJSON_AddStringToObject(o, "error", strerror(st->err));
	}
	scope_json(o, "per_thread", &e->scope[SCOPE_THREAD]);
	scope_json(o, "per_cpu", &e->scope[SCOPE_CPU]);
	return o;
}

cJSON *pmu_events_json(const struct pmu_events *ev)
{
	cJSON *a = cJSON_CreateArray();
	if (!a)
		return NULL;
	pthread_mutex_lock(lock_of(ev));
	for (size_t i = 0; i < ev->n; i++) {
		cJSON *o = event_json(&ev->e[i]);
		if (o)
			cJSON_AddItemToArray(a, o);
	}
	pthread_mutex_unlock(lock_of(ev));
	return a;
}

static uint64_t delta(const uint64_t *before, const uint64_t *after, size_t i)
{
	if (before[i] == PMU_NONE || after[i] == PMU_NONE)
		return PMU_NONE;
	return after[i] >= before[i] ? after[i] - before[i] : 0;
}

static void add_ratio(cJSON *o, const char *key, uint64_t num, uint64_t den)
{
	if (num != PMU_NONE && den != PMU_NONE && den > 0)
		cJSON_AddNumberToObject(o, key, (double)num / (double)den);
}

cJSON *pmu_delta_json(const struct pmu_events *ev, const uint64_t *before, const uint64_t *after)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *counts = o ? cJSON_AddObjectToObject(o, "counts") : NULL;
	if (!counts) {
		cJSON_Delete(o);
		return NULL;
	}
	uint64_t d[PMU_MAX_EVENTS];
	for (size_t i = 0; i < ev->n; i++) {
		d[i] = delta(before, after, i);
		if (d[i] != PMU_NONE)
			cJSON_AddNumberToObject(counts, ev->e[i].name, (double)d[i]);
	}
	add_ratio(o, "ipc", d[D_INSTRUCTIONS], d[D_CYCLES]);
	add_ratio(o, "cache_miss_ratio", d[D_CACHE_MISSES], d[D_CACHE_REFS]);
	add_ratio(o, "branch_miss_ratio", d[D_BRANCH_MISSES], d[D_BRANCHES]);
	add_ratio(o, "memory_bound_ratio", d[D_STALLED_BACKEND], d[D_CYCLES]);
	return o;
}
