/* hwoptctl metrics, telemetry [--watch], record; and the telemetry helpers
 * top shares (ctl.h): the newest sample, subscriptions, waiting for samples
 * alongside other input and signals.
 *
 * A snapshot is {seq, time, interval_ms, sources: {NAME: PART}}; every part
 * has "available", and "reason" when false. The members of each part are
 * those daemon/telemetry/<source>.c writes; a member that is missing (no
 * rates before the second sample, a file the kernel lacks) prints as "-"
 * or is left out, never as a made-up number. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

static const char *const sources[] = {
	"procstat", "cpufreq", "thermal", "hwmon", "power", "battery", "perf", "schedlat", "daemon",
};
#define N_SOURCES (sizeof(sources) / sizeof(sources[0]))

/* ---- helpers ------------------------------------------------------------------ */

static const cJSON *get(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static bool has_num(const cJSON *o, const char *name)
{
	return cJSON_IsNumber(get(o, name));
}

/* "12.3%" or "-" when absent. */
static const char *pct(const cJSON *o, const char *name, char *buf, int len)
{
	if (!has_num(o, name))
		return "-";
	snprintf(buf, (size_t)len, "%.1f%%", ctl_num(o, name, 0));
	return buf;
}

static const char *celsius(double c, char *buf, int len)
{
	snprintf(buf, (size_t)len, "%.1f°C", c);
	return buf;
}

const cJSON *ctl_tm_part(const cJSON *sample, const char *name, const char **reason)
{
	const cJSON *p = get(get(sample, "sources"), name);
	if (!cJSON_IsObject(p)) {
		*reason = "not in the sample";
		return NULL;
	}
	if (!cJSON_IsTrue(get(p, "available"))) {
		*reason = ctl_str(p, "reason", "no reason given");
		return NULL;
	}
	*reason = NULL;
	return p;
}

/* A sub-part ({available, reason?, ...}) when available, else NULL with
 * *reason. */
static const cJSON *sub(const cJSON *part, const char *name, const char **reason)
{
	const cJSON *p = get(part, name);
	if (!cJSON_IsObject(p)) {
		*reason = "not reported";
		return NULL;
	}
	const cJSON *av = get(p, "available");
	if (av && !cJSON_IsTrue(av)) {
		*reason = ctl_str(p, "reason", "no reason given");
		return NULL;
	}
	return p;
}

/* Appends src's name to a JSON list once; false for an unknown name. */
static bool add_source(cJSON *list, const char *name, size_t len)
{
	for (size_t i = 0; i < N_SOURCES; i++) {
		if (strlen(sources[i]) != len || strncmp(sources[i], name, len) != 0)
			continue;
		const cJSON *e;
		cJSON_ArrayForEach(e, list)
			if (strcmp(e->valuestring, sources[i]) == 0)
				return true;
		cJSON_AddItemToArray(list, cJSON_CreateString(sources[i]));
		return true;
	}
	return false;
}

/* --source NAME[,NAME...] into *list (created on first use). */
static int parse_sources(const struct ctl_command *cmd, const char *arg, cJSON **list)
{
	if (!*list)
		*list = cJSON_CreateArray();
	for (const char *p = arg;;) {
		size_t n = strcspn(p, ",");
		if (!add_source(*list, p, n)) {
			fprintf(stderr, "hwoptctl: %s: no source '%.*s'; the sources are ", cmd->name,
				(int)n, p);
			for (size_t i = 0; i < N_SOURCES; i++)
				fprintf(stderr, "%s%s", i ? ", " : "", sources[i]);
			fputc('\n', stderr);
			return CTL_EXIT_USAGE;
		}
		if (!p[n])
			return CTL_EXIT_OK;
		p += n + 1;
	}
}

static const char *sample_time(const cJSON *sample, char *buf, int len)
{
	time_t t = (time_t)ctl_num(sample, "time", 0);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, (size_t)len, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

/* ---- subscriptions and waiting ---------------------------------------------------- */

static volatile sig_atomic_t caught;
static sigset_t wait_mask; /* the mask while waiting: SIGINT and SIGTERM let in */
static bool catching;

static void on_signal(int sig)
{
	caught = sig;
}

void ctl_tm_catch_signals(void)
{
	sigset_t block;
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	catching = true;
}

int ctl_tm_subscribe(struct ctl *ctl, int interval_ms, cJSON *srcs, long long *id,
		     int *interval_out)
{
	cJSON *p = cJSON_CreateObject(), *r;
	if (interval_ms > 0)
		cJSON_AddNumberToObject(p, "interval_ms", interval_ms);
	if (srcs)
		cJSON_AddItemToObject(p, "sources", srcs);
	int rc = ctl_call(ctl, "telemetry.subscribe", p, &r);
	if (rc)
		return rc;
	const cJSON *sid = get(r, "subscription");
	if (!cJSON_IsNumber(sid)) {
		fprintf(stderr, "hwoptctl: telemetry.subscribe: the answer from %s names no subscription\n",
			ctl->socket);
		cJSON_Delete(r);
		return CTL_EXIT_CONNECT;
	}
	*id = (long long)sid->valuedouble;
	if (interval_out)
		*interval_out = (int)ctl_num(r, "interval_ms", interval_ms > 0 ? interval_ms : 1000);
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum ctl_tm_event ctl_tm_wait(struct ctl *ctl, long long id, int input_fd, int timeout_ms,
			      cJSON **sample, int *rc)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	*sample = NULL;
	*rc = CTL_EXIT_OK;
	for (;;) {
		if (caught)
			return CTL_TM_SIGNAL;
		/* What the handle holds or the socket has, first. */
		cJSON *m;
		enum hwopt_call_status st = hwopt_client_notification(ctl->client, 0, &m);
		if (st == HWOPT_CALL_OK) {
			cJSON *params = cJSON_GetObjectItemCaseSensitive(m, "params");
			const char *method = ctl_str(m, "method", "");
			const cJSON *sid = get(params, "subscription");
			if (strcmp(method, "telemetry.sample") == 0 && cJSON_IsNumber(sid) &&
			    (long long)sid->valuedouble == id &&
			    cJSON_IsObject(get(params, "sample"))) {
				*sample = cJSON_DetachItemFromObjectCaseSensitive(params, "sample");
				cJSON_Delete(m);
				return CTL_TM_SAMPLE;
			}
			cJSON_Delete(m); /* another notification: not ours */
			continue;
		}
		if (st != HWOPT_CALL_TIMEOUT) {
			*rc = ctl_report(ctl, "telemetry.sample", st, NULL, 0);
			return CTL_TM_FAILED;
		}
		struct pollfd pf[2] = {
			{ .fd = hwopt_client_fd(ctl->client), .events = POLLIN },
			{ .fd = input_fd, .events = POLLIN },
		};
		int left = -1;
		if (deadline >= 0) {
			long long l = deadline - now_ms();
			left = l < 0 ? 0 : l > INT_MAX ? INT_MAX : (int)l;
		}
		struct timespec ts = { left / 1000, (long)(left % 1000) * 1000000 };
		int n = ppoll(pf, input_fd >= 0 ? 2 : 1, left < 0 ? NULL : &ts,
			      catching ? &wait_mask : NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "hwoptctl: poll: %s\n", strerror(errno));
			*rc = CTL_EXIT_CONNECT;
			return CTL_TM_FAILED;
		}
		if (n == 0)
			return CTL_TM_TIMEOUT;
		if (input_fd >= 0 && pf[1].revents)
			return CTL_TM_INPUT;
	}
}

int ctl_tm_latest(struct ctl *ctl, cJSON *srcs, bool need_rates, cJSON **sample)
{
	cJSON *p = NULL, *r;
	*sample = NULL;
	if (srcs) {
		p = cJSON_CreateObject();
		cJSON_AddItemToObject(p, "sources", cJSON_Duplicate(srcs, true));
	}
	int rc = ctl_call(ctl, "telemetry.get", p, &r);
	if (rc) {
		cJSON_Delete(srcs);
		return rc;
	}
	cJSON *s = cJSON_DetachItemFromObjectCaseSensitive(r, "sample");
	int have = (int)ctl_num(r, "samples", 0);
	cJSON_Delete(r);
	if (cJSON_IsObject(s) && (!need_rates || have >= 2)) {
		cJSON_Delete(srcs);
		*sample = s;
		return CTL_EXIT_OK;
	}
	/* Too early: wait for the next sample (or the first two). */
	long long id;
	if ((rc = ctl_tm_subscribe(ctl, 0, srcs, &id, NULL))) {
		cJSON_Delete(s);
		return rc;
	}
	int want = cJSON_IsObject(s) || !need_rates ? 1 : 2;
	double seq = cJSON_IsObject(s) ? ctl_num(s, "seq", -1) : -1;
	long long deadline = now_ms() + ctl->timeout_ms;
	for (int got = 0; got < want;) {
		cJSON *next;
		long long left = deadline - now_ms();
		enum ctl_tm_event ev = ctl_tm_wait(ctl, id, -1, left < 0 ? 0 : (int)left, &next, &rc);
		if (ev == CTL_TM_FAILED) {
			cJSON_Delete(s);
			return rc;
		}
		if (ev != CTL_TM_SAMPLE) {
			if (cJSON_IsObject(s))
				break; /* what there is will do */
			fprintf(stderr, "hwoptctl: telemetry.get: no sample from %s within %.1f s\n",
				ctl->socket, ctl->timeout_ms / 1000.0);
			cJSON_Delete(s);
			return CTL_EXIT_CONNECT;
		}
		if (ctl_num(next, "seq", 0) <= seq) {
			cJSON_Delete(next); /* the one we have */
			continue;
		}
		seq = ctl_num(next, "seq", 0);
		cJSON_Delete(s);
		s = next;
		got++;
	}
	cJSON *u = cJSON_CreateObject();
	cJSON_AddNumberToObject(u, "subscription", (double)id);
	if (ctl_call(ctl, "telemetry.unsubscribe", u, &r) == CTL_EXIT_OK)
		cJSON_Delete(r);
	*sample = s;
	return CTL_EXIT_OK;
}

/* ---- metrics ------------------------------------------------------------------------ */

static void unavailable(int indent, const char *name, const char *reason)
{
	printf("%*s%s: unavailable (%s)\n", indent, "", name, reason);
}

static const char *bytes_of(const cJSON *o, const char *name, char *buf, int len)
{
	return has_num(o, name) ? ctl_bytes(ctl_num(o, name, 0), buf, len) : "-";
}

static void psi_line(struct ctl_line *l, const cJSON *psi, const char *res)
{
	const char *why;
	const cJSON *r = sub(psi, res, &why);
	if (l->n)
		ctl_line_add(l, "; ");
	if (!r) {
		ctl_line_add(l, "%s unavailable", res);
		return;
	}
	ctl_line_add(l, "%s", res);
	static const char *const kinds[] = { "some", "full" };
	for (int i = 0; i < 2; i++) {
		const cJSON *k = sub(r, kinds[i], &why);
		if (k && has_num(k, "avg10_pct"))
			ctl_line_add(l, " %s %.2f%%", kinds[i], ctl_num(k, "avg10_pct", 0));
	}
}

static void show_procstat(const cJSON *sample)
{
	const char *why;
	const cJSON *p = ctl_tm_part(sample, "procstat", &why);
	printf("CPU\n");
	if (!p) {
		unavailable(2, "procstat", why);
		return;
	}
	const int w = 11;
	char a[32], b[32], c[32], d[32], e[32];
	const cJSON *t = get(p, "total");
	if (has_num(t, "busy_pct"))
		ctl_kv(2, w, "busy", "%s (user %s, system %s, iowait %s, irq %s)",
		       pct(t, "busy_pct", a, sizeof(a)), pct(t, "user_pct", b, sizeof(b)),
		       pct(t, "system_pct", c, sizeof(c)), pct(t, "iowait_pct", d, sizeof(d)),
		       pct(t, "irq_pct", e, sizeof(e)));
	else
		ctl_kv(2, w, "busy", "- (no rate in this sample)");
	const cJSON *la = sub(p, "loadavg", &why);
	if (la)
		ctl_kv(2, w, "load", "%.2f %.2f %.2f, %.0f of %.0f tasks running",
		       ctl_num(la, "load1", 0), ctl_num(la, "load5", 0), ctl_num(la, "load15", 0),
		       ctl_num(la, "tasks_running", 0), ctl_num(la, "tasks_total", 0));
	else
		ctl_kv(2, w, "load", "unavailable (%s)", why);
	const cJSON *mi = sub(p, "meminfo", &why);
	if (mi) {
		double total = ctl_num(mi, "MemTotal_bytes", 0), avail = ctl_num(mi, "MemAvailable_bytes", -1);
		struct ctl_line l = { 0 };
		if (avail >= 0 && total > 0)
			ctl_line_add(&l, "%s available of %s (%.0f%% used)", ctl_bytes(avail, a, sizeof(a)),
				     ctl_bytes(total, b, sizeof(b)), 100.0 * (1 - avail / total));
		else
			ctl_line_add(&l, "%s total", bytes_of(mi, "MemTotal_bytes", a, sizeof(a)));
		if (ctl_num(mi, "SwapTotal_bytes", 0) > 0)
			ctl_line_add(&l, ", swap %s used of %s",
				     ctl_bytes(ctl_num(mi, "SwapTotal_bytes", 0) -
						       ctl_num(mi, "SwapFree_bytes", 0),
					       a, sizeof(a)),
				     ctl_bytes(ctl_num(mi, "SwapTotal_bytes", 0), b, sizeof(b)));
		ctl_kv(2, w, "memory", "%s", l.s);
	} else {
		ctl_kv(2, w, "memory", "unavailable (%s)", why);
	}
	const cJSON *psi = sub(p, "psi", &why);
	if (psi) {
		struct ctl_line l = { 0 };
		psi_line(&l, psi, "cpu");
		psi_line(&l, psi, "memory");
		psi_line(&l, psi, "io");
		ctl_kv(2, w, "pressure", "%s (avg10)", l.s);
	} else {
		ctl_kv(2, w, "pressure", "unavailable (%s)", why);
	}
	if (has_num(p, "context_switches_per_s"))
		ctl_kv(2, w, "switches", "%.0f/s, forks %.0f/s, %.0f running, %.0f blocked",
		       ctl_num(p, "context_switches_per_s", 0), ctl_num(p, "forks_per_s", 0),
		       ctl_num(p, "procs_running", 0), ctl_num(p, "procs_blocked", 0));
	const cJSON *cpus = get(p, "cpus"), *cpu;
	if (cJSON_GetArraySize(cpus) == 0)
		return;
	struct ctl_table tb;
	ctl_table_init(&tb, "rrrrrrr", "CPU", "BUSY", "USER", "NICE", "SYSTEM", "IOWAIT", "IRQ+SOFT");
	cJSON_ArrayForEach(cpu, cpus) {
		char n[16], f[5][16], irq[16] = "-";
		snprintf(n, sizeof(n), "%.0f", ctl_num(cpu, "cpu", -1));
		if (has_num(cpu, "irq_pct"))
			snprintf(irq, sizeof(irq), "%.1f%%",
				 ctl_num(cpu, "irq_pct", 0) + ctl_num(cpu, "softirq_pct", 0));
		ctl_table_row(&tb, n, pct(cpu, "busy_pct", f[0], 16), pct(cpu, "user_pct", f[1], 16),
			      pct(cpu, "nice_pct", f[2], 16), pct(cpu, "system_pct", f[3], 16),
			      pct(cpu, "iowait_pct", f[4], 16), irq);
	}
	printf("\n");
	ctl_table_indent(&tb, 2);
	ctl_table_print(&tb);
}

static const char *hz_of(const cJSON *o, const char *name, char *buf, int len)
{
	return has_num(o, name) ? ctl_hz(ctl_num(o, name, 0), buf, len) : "-";
}

static void show_cpufreq(const cJSON *sample)
{
	const char *why;
	const cJSON *p = ctl_tm_part(sample, "cpufreq", &why);
	printf("\nFrequencies");
	if (!p) {
		printf("\n");
		unavailable(2, "cpufreq", why);
		return;
	}
	printf(" (driver %s)\n", ctl_str(p, "driver", "unknown"));
	struct ctl_table tb;
	ctl_table_init(&tb, "rrrrrllr", "CPU", "CUR", "MIN", "MAX", "HW MAX", "GOVERNOR", "EPP",
		       "CAPACITY");
	const cJSON *cpu;
	cJSON_ArrayForEach(cpu, get(p, "cpus")) {
		char n[16], f[4][32], cap[16] = "-";
		snprintf(n, sizeof(n), "%.0f", ctl_num(cpu, "cpu", -1));
		if (has_num(cpu, "capacity"))
			snprintf(cap, sizeof(cap), "%.0f", ctl_num(cpu, "capacity", 0));
		if (get(cpu, "online") && !cJSON_IsTrue(get(cpu, "online"))) {
			ctl_table_row(&tb, n, "offline", "-", "-", "-", "-", "-", cap);
			continue;
		}
		ctl_table_row(&tb, n, hz_of(cpu, "cur_hz", f[0], 32), hz_of(cpu, "min_hz", f[1], 32),
			      hz_of(cpu, "max_hz", f[2], 32), hz_of(cpu, "hw_max_hz", f[3], 32),
			      ctl_str(cpu, "governor", "-"), ctl_str(cpu, "epp", "-"), cap);
	}
	ctl_table_indent(&tb, 2);
	ctl_table_print(&tb);
	const cJSON *avail = get(p, "epp_available"), *e;
	if (cJSON_GetArraySize(avail) > 0) {
		struct ctl_line l = { 0 };
		cJSON_ArrayForEach(e, avail)
			if (cJSON_IsString(e))
				ctl_line_add(&l, "%s%s", l.n ? " " : "", e->valuestring);
		printf("  EPP choices: %s\n", l.s);
	}
}

static void show_thermal(const cJSON *sample)
{
	const char *why;
	const cJSON *p = ctl_tm_part(sample, "thermal", &why);
	printf("\nThermal\n");
	if (!p) {
		unavailable(2, "thermal", why);
	} else if (cJSON_GetArraySize(get(p, "zones")) > 0) {
		struct ctl_table tb;
		ctl_table_init(&tb, "rllll", "ZONE", "TYPE", "TEMP", "MODE", "TRIPS");
		const cJSON *z, *t;
		cJSON_ArrayForEach(z, get(p, "zones")) {
			char n[16], temp[160];
			struct ctl_line trips = { 0 };
			snprintf(n, sizeof(n), "%.0f", ctl_num(z, "zone", -1));
			if (has_num(z, "temp_celsius"))
				celsius(ctl_num(z, "temp_celsius", 0), temp, sizeof(temp));
			else
				snprintf(temp, sizeof(temp), "(%s)", ctl_str(z, "error", "no reading"));
			cJSON_ArrayForEach(t, get(z, "trips")) {
				char c[32];
				if (!has_num(t, "temp_celsius"))
					continue;
				ctl_line_add(&trips, "%s%s %s", trips.n ? ", " : "", ctl_str(t, "type", "trip"),
					     celsius(ctl_num(t, "temp_celsius", 0), c, sizeof(c)));
			}
			ctl_table_row(&tb, n, ctl_str(z, "type", "-"), temp, ctl_str(z, "mode", "-"),
				      trips.n ? trips.s : "-");
		}
		ctl_table_indent(&tb, 2);
		ctl_table_print(&tb);
		struct ctl_line cool = { 0 };
		cJSON_ArrayForEach(z, get(p, "cooling"))
			ctl_line_add(&cool, "%s%s %.0f/%.0f", cool.n ? ", " : "", ctl_str(z, "type", "?"),
				     ctl_num(z, "cur_state", 0), ctl_num(z, "max_state", 0));
		if (cool.n)
			printf("  cooling: %s\n", cool.s);
	} else {
		printf("  no thermal zones\n");
	}

	p = ctl_tm_part(sample, "hwmon", &why);
	if (!p) {
		unavailable(2, "hwmon", why);
		return;
	}
	static const char *const arrays[] = { "temps", "fans", "powers", "voltages" };
	const cJSON *chip;
	int rows = 0;
	cJSON_ArrayForEach(chip, get(p, "chips"))
		for (int k = 0; k < 4; k++)
			rows += cJSON_GetArraySize(get(chip, arrays[k]));
	if (!rows) {
		printf("  hwmon: no sensors\n");
		return;
	}
	struct ctl_table tb;
	ctl_table_init(&tb, "llrrr", "CHIP", "SENSOR", "VALUE", "MAX", "CRIT");
	cJSON_ArrayForEach(chip, get(p, "chips")) {
		const char *cname = ctl_str(chip, "name", ctl_str(chip, "chip", "?"));
		for (int k = 0; k < 4; k++) {
			const cJSON *s;
			cJSON_ArrayForEach(s, get(chip, arrays[k])) {
				char v[160], mx[32] = "-", cr[32] = "-";
				if (get(s, "error"))
					snprintf(v, sizeof(v), "(%s)", ctl_str(s, "error", ""));
				else if (k == 0)
					celsius(ctl_num(s, "temp_celsius", 0), v, sizeof(v));
				else if (k == 1)
					snprintf(v, sizeof(v), "%.0f rpm", ctl_num(s, "rpm", 0));
				else if (k == 2)
					snprintf(v, sizeof(v), "%.2f W", ctl_num(s, "watts", 0));
				else
					snprintf(v, sizeof(v), "%.3f V", ctl_num(s, "volts", 0));
				if (has_num(s, "max_celsius"))
					celsius(ctl_num(s, "max_celsius", 0), mx, sizeof(mx));
				if (has_num(s, "crit_celsius"))
					celsius(ctl_num(s, "crit_celsius", 0), cr, sizeof(cr));
				ctl_table_row(&tb, cname, ctl_str(s, "label", ctl_str(s, "sensor", "?")), v,
					      mx, cr);
			}
		}
	}
	printf("\n");
	ctl_table_indent(&tb, 2);
	ctl_table_print(&tb);
}

static void show_power(const cJSON *sample)
{
	const char *why;
	const cJSON *p = ctl_tm_part(sample, "power", &why);
	printf("\nPower (RAPL)\n");
	if (!p) {
		unavailable(2, "power", why);
		return;
	}
	struct ctl_table tb;
	ctl_table_init(&tb, "llrr", "ZONE", "NAME", "POWER", "ENERGY");
	const cJSON *z;
	cJSON_ArrayForEach(z, get(p, "zones")) {
		char w[64] = "-", j[64] = "-";
		if (get(z, "available") && !cJSON_IsTrue(get(z, "available"))) {
			snprintf(w, sizeof(w), "unavailable (%s)", ctl_str(z, "reason", "?"));
		} else {
			if (has_num(z, "watts"))
				snprintf(w, sizeof(w), "%.2f W", ctl_num(z, "watts", 0));
			if (has_num(z, "energy_joules"))
				snprintf(j, sizeof(j), "%.1f J", ctl_num(z, "energy_joules", 0));
		}
		ctl_table_row(&tb, ctl_str(z, "zone", "?"), ctl_str(z, "name", "-"), w, j);
	}
	ctl_table_indent(&tb, 2);
	ctl_table_print(&tb);
}

/* "87%, Discharging, 10.2 W, 2h 3m 4s to empty" for one supply. */
static void supply_line(struct ctl_line *l, const cJSON *s)
{
	char b[64];
	const char *sep = "";
	if (has_num(s, "capacity_pct")) {
		ctl_line_add(l, "%.0f%%", ctl_num(s, "capacity_pct", 0));
		sep = ", ";
	}
	if (get(s, "status")) {
		ctl_line_add(l, "%s%s", sep, ctl_str(s, "status", ""));
		sep = ", ";
	}
	if (cJSON_IsBool(get(s, "online"))) {
		ctl_line_add(l, "%s%s", sep, cJSON_IsTrue(get(s, "online")) ? "online" : "offline");
		sep = ", ";
	}
	if (has_num(s, "power_watts")) {
		ctl_line_add(l, "%s%.2f W", sep, ctl_num(s, "power_watts", 0));
		sep = ", ";
	}
	if (has_num(s, "time_to_empty_seconds"))
		ctl_line_add(l, "%s%s to empty", sep,
			     ctl_duration(ctl_num(s, "time_to_empty_seconds", 0), b, sizeof(b)));
	else if (has_num(s, "time_to_full_seconds"))
		ctl_line_add(l, "%s%s to full", sep,
			     ctl_duration(ctl_num(s, "time_to_full_seconds", 0), b, sizeof(b)));
}

static void show_battery(const cJSON *sample)
{
	const char *why;
	const cJSON *p = ctl_tm_part(sample, "battery", &why);
	printf("\nBattery and power supplies\n");
	if (!p) {
		unavailable(2, "battery", why);
		return;
	}
	const cJSON *sl = get(p, "supplies"), *s;
	if (cJSON_IsObject(sl)) {
		unavailable(2, "supplies", ctl_str(sl, "reason", "?"));
	} else {
		struct ctl_table tb;
		ctl_table_init(&tb, "llrllrl", "SUPPLY", "TYPE", "CAPACITY", "STATUS", "POWER",
			       "ENERGY", "TIME");
		cJSON_ArrayForEach(s, sl) {
			char cap[16] = "-", st[32] = "-", w[32] = "-", e[64] = "-", t[64] = "-", d[48];
			if (has_num(s, "capacity_pct"))
				snprintf(cap, sizeof(cap), "%.0f%%", ctl_num(s, "capacity_pct", 0));
			if (get(s, "status"))
				snprintf(st, sizeof(st), "%s", ctl_str(s, "status", ""));
			else if (cJSON_IsBool(get(s, "online")))
				snprintf(st, sizeof(st), "%s",
					 cJSON_IsTrue(get(s, "online")) ? "online" : "offline");
			if (has_num(s, "power_watts"))
				snprintf(w, sizeof(w), "%.2f W", ctl_num(s, "power_watts", 0));
			if (has_num(s, "energy_watthours"))
				snprintf(e, sizeof(e), "%.1f/%.1f Wh", ctl_num(s, "energy_watthours", 0),
					 ctl_num(s, "energy_full_watthours", 0));
			if (has_num(s, "time_to_empty_seconds"))
				snprintf(t, sizeof(t), "%s to empty",
					 ctl_duration(ctl_num(s, "time_to_empty_seconds", 0), d, sizeof(d)));
			else if (has_num(s, "time_to_full_seconds"))
				snprintf(t, sizeof(t), "%s to full",
					 ctl_duration(ctl_num(s, "time_to_full_seconds", 0), d, sizeof(d)));
			ctl_table_row(&tb, ctl_str(s, "name", "?"), ctl_str(s, "type", "-"), cap, st, w, e,
				      t);
		}
		ctl_table_indent(&tb, 2);
		ctl_table_print(&tb);
	}
	const cJSON *pp = get(p, "platform_profile");
	if (cJSON_IsTrue(get(pp, "available"))) {
		struct ctl_line l = { 0 };
		const cJSON *c;
		cJSON_ArrayForEach(c, get(pp, "choices"))
			if (cJSON_IsString(c))
				ctl_line_add(&l, "%s%s", l.n ? " " : "", c->valuestring);
		printf("  platform profile: %s%s%s%s\n", ctl_str(pp, "profile", "?"),
		       l.n ? " (choices: " : "", l.s, l.n ? ")" : "");
	} else if (pp) {
		unavailable(2, "platform profile", ctl_str(pp, "reason", "?"));
	}
}

static const char *ratio(const cJSON *d, const char *name, bool percent, char *buf, int len)
{
	if (!has_num(d, name))
		return "-";
	double v = ctl_num(d, name, 0);
	if (percent)
		snprintf(buf, (size_t)len, "%.1f%%", v * 100);
	else
		snprintf(buf, (size_t)len, "%.2f", v);
	return buf;
}

/* Why a worker's counters show nothing, into note ("" when they do). */
static void perf_note(const cJSON *u, char *note, size_t len)
{
	note[0] = '\0';
	if (!cJSON_IsTrue(get(u, "available")))
		snprintf(note, len, "unsupported: %s", ctl_str(u, "reason", "?"));
	else if (!get(u, "derived"))
		snprintf(note, len, "ratios from the next sample");
}

static void show_perf(const cJSON *sample)
{
	const char *why;
	const cJSON *p = ctl_tm_part(sample, "perf", &why), *u, *e;
	printf("\nPMU (perf)\n");
	if (!p) {
		unavailable(2, "perf", why);
		return;
	}
	/* No hardware event works (a VM without a virtual PMU): say so, and
	 * show the software counters that still work. */
	struct ctl_line bad = { 0 };
	int hw = 0, hw_good = 0;
	const char *hw_why = NULL;
	cJSON_ArrayForEach(e, get(p, "events")) {
		bool ok = cJSON_IsTrue(get(e, "supported"));
		if (strcmp(ctl_str(e, "kind", ""), "hardware") == 0) {
			hw++;
			hw_good += ok;
			hw_why = hw_why ? hw_why : ctl_str(e, "error", NULL);
		}
		if (!ok)
			ctl_line_add(&bad, "%s%s (%s)", bad.n ? ", " : "", ctl_str(e, "name", "?"),
				     ctl_str(e, "error", "?"));
	}
	if (hw && !hw_good) {
		printf("  unsupported: no hardware counter can be opened (%s)\n",
		       hw_why ? hw_why : "?");
		if (cJSON_GetArraySize(get(p, "workers")) == 0)
			return;
		struct ctl_table tb;
		ctl_table_init(&tb, "rrrrrrr", "WORKER", "TID", "CPU", "CPU TIME", "SWITCHES",
			       "MIGRATIONS", "PAGE FAULTS");
		cJSON_ArrayForEach(u, get(p, "workers")) {
			const cJSON *c = get(u, "counts");
			char f[7][32];
			snprintf(f[0], 32, "%.0f", ctl_num(u, "worker", -1));
			snprintf(f[1], 32, "%.0f", ctl_num(u, "tid", 0));
			snprintf(f[2], 32, "%.0f", ctl_num(u, "cpu", -1));
			if (has_num(c, "task-clock"))
				ctl_secs(ctl_num(c, "task-clock", 0) / 1e9, f[3], 32);
			else
				snprintf(f[3], 32, "-");
			snprintf(f[4], 32, "%.0f", ctl_num(c, "context-switches", 0));
			snprintf(f[5], 32, "%.0f", ctl_num(c, "cpu-migrations", 0));
			snprintf(f[6], 32, "%.0f", ctl_num(c, "page-faults", 0));
			ctl_table_row(&tb, f[0], f[1], ctl_num(u, "cpu", -1) >= 0 ? f[2] : "-", f[3],
				      f[4], f[5], f[6]);
		}
		ctl_table_indent(&tb, 2);
		ctl_table_print(&tb);
		return;
	}
	bool notes = false;
	cJSON_ArrayForEach(u, get(p, "workers")) {
		char note[224];
		perf_note(u, note, sizeof(note));
		notes |= note[0] != '\0';
	}
	if (cJSON_GetArraySize(get(p, "workers")) == 0) {
		printf("  no workers\n");
	} else {
		struct ctl_table tb;
		ctl_table_init(&tb, notes ? "rrrrrrrl" : "rrrrrrr", "WORKER", "TID", "CPU", "IPC",
			       "CACHE MISS", "BRANCH MISS", "MEM BOUND", "NOTE");
		cJSON_ArrayForEach(u, get(p, "workers")) {
			char wk[16], tid[16], cpu[16] = "-", r[4][32], note[224];
			const cJSON *d = get(u, "derived");
			snprintf(wk, sizeof(wk), "%.0f", ctl_num(u, "worker", -1));
			snprintf(tid, sizeof(tid), "%.0f", ctl_num(u, "tid", 0));
			if (ctl_num(u, "cpu", -1) >= 0)
				snprintf(cpu, sizeof(cpu), "%.0f", ctl_num(u, "cpu", -1));
			perf_note(u, note, sizeof(note));
			ctl_table_row(&tb, wk, tid, cpu, ratio(d, "ipc", false, r[0], 32),
				      ratio(d, "cache_miss_ratio", true, r[1], 32),
				      ratio(d, "branch_miss_ratio", true, r[2], 32),
				      ratio(d, "memory_bound_ratio", true, r[3], 32), note);
		}
		ctl_table_indent(&tb, 2);
		ctl_table_print(&tb);
	}
	const cJSON *sw = get(p, "system_wide");
	if (sw && !cJSON_IsTrue(get(sw, "available"))) {
		unavailable(2, "system-wide counters", ctl_str(sw, "reason", "?"));
	} else {
		double sum = 0;
		int n = 0;
		cJSON_ArrayForEach(u, get(p, "cpus")) {
			const cJSON *d = get(u, "derived");
			if (has_num(d, "ipc")) {
				sum += ctl_num(d, "ipc", 0);
				n++;
			}
		}
		if (n)
			printf("  system-wide: mean IPC %.2f over %d CPUs\n", sum / n, n);
	}
	if (bad.n)
		printf("  unsupported events: %s\n", bad.s);
}

static void latency_kv(int w, const char *key, const cJSON *h)
{
	char a[32], b[32];
	if (!cJSON_IsObject(h))
		return;
	if (has_num(h, "p50_seconds"))
		ctl_kv(2, w, key, "p50 %s, p99 %s (%.0f wake-ups in the interval)",
		       ctl_secs(ctl_num(h, "p50_seconds", 0), a, sizeof(a)),
		       ctl_secs(ctl_num(h, "p99_seconds", 0), b, sizeof(b)),
		       ctl_num(h, "interval_count", 0));
	else
		ctl_kv(2, w, key, "- (no wake-ups in the interval)");
}

static void show_schedlat(const cJSON *sample)
{
	const char *why;
	const cJSON *p = ctl_tm_part(sample, "schedlat", &why);
	printf("\nScheduler latency\n");
	if (!p) {
		unavailable(2, "schedlat", why);
		return;
	}
	latency_kv(8, "system", get(p, "system"));
	latency_kv(8, "workers", get(p, "workers"));
	const cJSON *w;
	if (cJSON_GetArraySize(get(p, "per_worker")) == 0)
		return;
	struct ctl_table tb;
	ctl_table_init(&tb, "rrrrr", "WORKER", "TID", "INVOLUNTARY", "MIGRATIONS", "WAKE-UPS");
	cJSON_ArrayForEach(w, get(p, "per_worker")) {
		char c[5][32];
		snprintf(c[0], 32, "%.0f", ctl_num(w, "worker", -1));
		snprintf(c[1], 32, "%.0f", ctl_num(w, "tid", 0));
		snprintf(c[2], 32, "%.0f", ctl_num(w, "involuntary_switches", 0));
		snprintf(c[3], 32, "%.0f", ctl_num(w, "migrations", 0));
		snprintf(c[4], 32, "%.0f", ctl_num(w, "count", 0));
		ctl_table_row(&tb, c[0], c[1], c[2], c[3], c[4]);
	}
	ctl_table_indent(&tb, 2);
	ctl_table_print(&tb);
}

static void show_daemon(const cJSON *sample)
{
	const char *why;
	const cJSON *p = ctl_tm_part(sample, "daemon", &why);
	printf("\nDaemon\n");
	if (!p) {
		unavailable(2, "daemon", why);
		return;
	}
	const int w = 11;
	char a[32], b[32];
	const cJSON *q = get(p, "queued"), *j = get(p, "jobs");
	ctl_kv(2, w, "workers", "%.0f, %.0f busy", ctl_num(p, "workers", 0), ctl_num(p, "busy", 0));
	ctl_kv(2, w, "queued", "%.0f interactive, %.0f normal, %.0f batch",
	       ctl_num(q, "interactive", 0), ctl_num(q, "normal", 0), ctl_num(q, "batch", 0));
	struct ctl_line l = { 0 };
	ctl_line_add(&l, "%.0f ok, %.0f failed, %.0f cancelled, %.0f expired",
		     ctl_num(j, "ok_total", 0), ctl_num(j, "failed_total", 0),
		     ctl_num(j, "cancelled_total", 0), ctl_num(j, "expired_total", 0));
	if (has_num(j, "per_s"))
		ctl_line_add(&l, "; %.2f/s", ctl_num(j, "per_s", 0));
	ctl_kv(2, w, "jobs", "%s", l.s);
	if (has_num(j, "latency_p50_seconds") || has_num(j, "latency_p99_seconds"))
		ctl_kv(2, w, "latency", "p50 %s, p99 %s",
		       has_num(j, "latency_p50_seconds")
			       ? ctl_secs(ctl_num(j, "latency_p50_seconds", 0), a, sizeof(a))
			       : "-",
		       has_num(j, "latency_p99_seconds")
			       ? ctl_secs(ctl_num(j, "latency_p99_seconds", 0), b, sizeof(b))
			       : "-");
	if (has_num(p, "joules_per_inference"))
		ctl_kv(2, w, "energy", "%.3f J per inference", ctl_num(p, "joules_per_inference", 0));
	ctl_kv(2, w, "clients", "%.0f connections, %.0f requests since start",
	       ctl_num(p, "connections", 0), ctl_num(p, "requests_total", 0));
	ctl_kv(2, w, "models", "%.0f loaded, pools %s", ctl_num(p, "models", 0),
	       ctl_bytes(ctl_num(p, "pool_bytes", 0), a, sizeof(a)));
}

static int metrics(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_command *cmd = &ctl_cmd_metrics;
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":j", opts, NULL)) != -1) {
		if (c != 'j')
			return ctl_bad_option(cmd, c, argc, argv);
		ctl->json = true;
	}
	if (optind != argc)
		return ctl_usage(cmd);
	cJSON *s;
	int rc = ctl_tm_latest(ctl, NULL, true, &s);
	if (rc)
		return rc;
	if (ctl->json) {
		ctl_print_json(s);
		cJSON_Delete(s);
		return CTL_EXIT_OK;
	}
	char when[64];
	printf("sample %.0f at %s (every %.0f ms)\n\n", ctl_num(s, "seq", 0),
	       sample_time(s, when, sizeof(when)), ctl_num(s, "interval_ms", 0));
	show_procstat(s);
	show_cpufreq(s);
	show_thermal(s);
	show_power(s);
	show_battery(s);
	show_perf(s);
	show_schedlat(s);
	show_daemon(s);
	cJSON_Delete(s);
	return CTL_EXIT_OK;
}

/* ---- telemetry: one line per source ---------------------------------------------------- */

static void line_procstat(struct ctl_line *l, const cJSON *p)
{
	const char *why;
	const cJSON *t = get(p, "total"), *la = sub(p, "loadavg", &why), *mi = sub(p, "meminfo", &why);
	const cJSON *psi = sub(p, "psi", &why);
	if (has_num(t, "busy_pct"))
		ctl_line_add(l, "busy %.1f%%", ctl_num(t, "busy_pct", 0));
	else
		ctl_line_add(l, "busy -");
	ctl_line_add(l, ", %d CPUs", cJSON_GetArraySize(get(p, "cpus")));
	if (la)
		ctl_line_add(l, ", load %.2f %.2f %.2f", ctl_num(la, "load1", 0),
			     ctl_num(la, "load5", 0), ctl_num(la, "load15", 0));
	if (mi && ctl_num(mi, "MemTotal_bytes", 0) > 0 && has_num(mi, "MemAvailable_bytes"))
		ctl_line_add(l, ", memory %.0f%% used",
			     100.0 * (1 - ctl_num(mi, "MemAvailable_bytes", 0) /
						  ctl_num(mi, "MemTotal_bytes", 1)));
	const cJSON *cpu = sub(psi, "cpu", &why);
	const cJSON *some = sub(cpu, "some", &why);
	if (psi && cpu && some && has_num(some, "avg10_pct"))
		ctl_line_add(l, ", cpu pressure %.2f%%", ctl_num(some, "avg10_pct", 0));
}

static void line_cpufreq(struct ctl_line *l, const cJSON *p)
{
	double lo = INFINITY, hi = 0, sum = 0;
	int n = 0, online = 0;
	const char *gov = NULL, *epp = NULL;
	bool mixed_gov = false, mixed_epp = false;
	const cJSON *c;
	cJSON_ArrayForEach(c, get(p, "cpus")) {
		if (get(c, "online") && !cJSON_IsTrue(get(c, "online")))
			continue;
		online++;
		if (has_num(c, "cur_hz")) {
			double f = ctl_num(c, "cur_hz", 0);
			lo = f < lo ? f : lo;
			hi = f > hi ? f : hi;
			sum += f;
			n++;
		}
		const char *g = ctl_str(c, "governor", NULL), *e = ctl_str(c, "epp", NULL);
		if (g && gov && strcmp(g, gov))
			mixed_gov = true;
		if (e && epp && strcmp(e, epp))
			mixed_epp = true;
		gov = gov ? gov : g;
		epp = epp ? epp : e;
	}
	ctl_line_add(l, "%d CPUs online", online);
	if (n) {
		char a[32], b[32], m[32];
		ctl_line_add(l, ", %s-%s (mean %s)", ctl_hz(lo, a, sizeof(a)), ctl_hz(hi, b, sizeof(b)),
			     ctl_hz(sum / n, m, sizeof(m)));
	}
	if (gov)
		ctl_line_add(l, ", governor %s", mixed_gov ? "mixed" : gov);
	if (epp)
		ctl_line_add(l, ", epp %s", mixed_epp ? "mixed" : epp);
	ctl_line_add(l, ", driver %s", ctl_str(p, "driver", "unknown"));
}

static void line_thermal(struct ctl_line *l, const cJSON *p)
{
	const cJSON *z;
	int n = 0;
	cJSON_ArrayForEach(z, get(p, "zones")) {
		char c[32];
		if (!has_num(z, "temp_celsius"))
			continue;
		ctl_line_add(l, "%s%s %s", n++ ? ", " : "", ctl_str(z, "type", "zone"),
			     celsius(ctl_num(z, "temp_celsius", 0), c, sizeof(c)));
	}
	if (!n)
		ctl_line_add(l, "no zone temperatures");
}

static void line_hwmon(struct ctl_line *l, const cJSON *p)
{
	const cJSON *chip, *s;
	double hot = -INFINITY, rpm = 0;
	const char *hot_chip = NULL, *hot_sensor = NULL;
	int temps = 0, fans = 0;
	cJSON_ArrayForEach(chip, get(p, "chips")) {
		cJSON_ArrayForEach(s, get(chip, "temps")) {
			if (!has_num(s, "temp_celsius"))
				continue;
			temps++;
			if (ctl_num(s, "temp_celsius", 0) > hot) {
				hot = ctl_num(s, "temp_celsius", 0);
				hot_chip = ctl_str(chip, "name", ctl_str(chip, "chip", "?"));
				hot_sensor = ctl_str(s, "label", ctl_str(s, "sensor", "?"));
			}
		}
		cJSON_ArrayForEach(s, get(chip, "fans")) {
			if (has_num(s, "rpm")) {
				fans++;
				rpm = ctl_num(s, "rpm", 0) > rpm ? ctl_num(s, "rpm", 0) : rpm;
			}
		}
	}
	int chips = cJSON_GetArraySize(get(p, "chips"));
	ctl_line_add(l, "%d chip%s, %d temperature%s", chips, chips == 1 ? "" : "s", temps,
		     temps == 1 ? "" : "s");
	if (hot_chip) {
		char c[32];
		ctl_line_add(l, ", hottest %s (%s %s)", celsius(hot, c, sizeof(c)), hot_chip, hot_sensor);
	}
	if (fans)
		ctl_line_add(l, ", %d fan%s up to %.0f rpm", fans, fans == 1 ? "" : "s", rpm);
}

static void line_power(struct ctl_line *l, const cJSON *p)
{
	const cJSON *z;
	int n = 0;
	cJSON_ArrayForEach(z, get(p, "zones")) {
		const char *name = ctl_str(z, "name", ctl_str(z, "zone", "?"));
		if (get(z, "available") && !cJSON_IsTrue(get(z, "available")))
			ctl_line_add(l, "%s%s unavailable", n++ ? ", " : "", name);
		else if (has_num(z, "watts"))
			ctl_line_add(l, "%s%s %.2f W", n++ ? ", " : "", name, ctl_num(z, "watts", 0));
		else
			ctl_line_add(l, "%s%s %.1f J", n++ ? ", " : "", name,
				     ctl_num(z, "energy_joules", 0));
	}
	if (!n)
		ctl_line_add(l, "no zones");
}

static void line_battery(struct ctl_line *l, const cJSON *p)
{
	const cJSON *s;
	int n = 0;
	cJSON_ArrayForEach(s, get(p, "supplies")) {
		ctl_line_add(l, "%s%s ", n++ ? "; " : "", ctl_str(s, "name", "?"));
		supply_line(l, s);
	}
	const cJSON *pp = get(p, "platform_profile");
	if (cJSON_IsTrue(get(pp, "available")))
		ctl_line_add(l, "%sprofile %s", n ? "; " : "", ctl_str(pp, "profile", "?"));
	else if (!n)
		ctl_line_add(l, "no supplies");
}

static void line_perf(struct ctl_line *l, const cJSON *p)
{
	const cJSON *u;
	int n = 0, ok = 0;
	double ipc = 0;
	cJSON_ArrayForEach(u, get(p, "workers")) {
		n++;
		const cJSON *d = get(u, "derived");
		if (has_num(d, "ipc")) {
			ipc += ctl_num(d, "ipc", 0);
			ok++;
		}
	}
	ctl_line_add(l, "%d workers", n);
	if (ok)
		ctl_line_add(l, ", mean IPC %.2f", ipc / ok);
	else
		ctl_line_add(l, ", IPC -");
	const cJSON *e;
	int hw = 0, hw_good = 0;
	const char *hw_why = NULL;
	cJSON_ArrayForEach(e, get(p, "events")) {
		if (strcmp(ctl_str(e, "kind", ""), "hardware") != 0)
			continue;
		hw++;
		hw_good += cJSON_IsTrue(get(e, "supported"));
		hw_why = hw_why ? hw_why : ctl_str(e, "error", NULL);
	}
	if (hw && !hw_good)
		ctl_line_add(l, " (unsupported: no hardware counters: %s)", hw_why ? hw_why : "?");
	const cJSON *sw = get(p, "system_wide");
	if (sw && !cJSON_IsTrue(get(sw, "available")))
		ctl_line_add(l, ", no system-wide counters");
}

static void line_schedlat(struct ctl_line *l, const cJSON *p)
{
	static const char *const keys[] = { "system", "workers" };
	for (int i = 0; i < 2; i++) {
		const cJSON *h = get(p, keys[i]);
		char a[32], b[32];
		if (!has_num(h, "p50_seconds")) {
			ctl_line_add(l, "%s%s -", i ? "; " : "", keys[i]);
			continue;
		}
		ctl_line_add(l, "%s%s p50 %s p99 %s", i ? "; " : "", keys[i],
			     ctl_secs(ctl_num(h, "p50_seconds", 0), a, sizeof(a)),
			     ctl_secs(ctl_num(h, "p99_seconds", 0), b, sizeof(b)));
	}
}

static void line_daemon(struct ctl_line *l, const cJSON *p)
{
	const cJSON *q = get(p, "queued"), *j = get(p, "jobs");
	char a[32];
	ctl_line_add(l, "%.0f workers (%.0f busy), %.0f queued", ctl_num(p, "workers", 0),
		     ctl_num(p, "busy", 0),
		     ctl_num(q, "interactive", 0) + ctl_num(q, "normal", 0) + ctl_num(q, "batch", 0));
	if (has_num(j, "per_s"))
		ctl_line_add(l, ", %.2f jobs/s", ctl_num(j, "per_s", 0));
	if (has_num(j, "latency_p99_seconds"))
		ctl_line_add(l, ", p99 %s", ctl_secs(ctl_num(j, "latency_p99_seconds", 0), a, sizeof(a)));
	ctl_line_add(l, ", %.0f connections", ctl_num(p, "connections", 0));
}

void ctl_tm_summary(struct ctl_line *l, const cJSON *sample, const char *name)
{
	static void (*const fn[N_SOURCES])(struct ctl_line *, const cJSON *) = {
		line_procstat, line_cpufreq, line_thermal, line_hwmon, line_power,
		line_battery,  line_perf,    line_schedlat, line_daemon,
	};
	const char *why;
	const cJSON *p = ctl_tm_part(sample, name, &why);
	if (!p) {
		ctl_line_add(l, "unavailable (%s)", why);
		return;
	}
	for (size_t i = 0; i < N_SOURCES; i++)
		if (strcmp(sources[i], name) == 0)
			fn[i](l, p);
}

static void print_lines(const cJSON *s)
{
	char when[64];
	printf("sample %.0f at %s\n", ctl_num(s, "seq", 0), sample_time(s, when, sizeof(when)));
	for (size_t i = 0; i < N_SOURCES; i++) {
		if (!get(get(s, "sources"), sources[i]))
			continue; /* not asked for */
		struct ctl_line l = { 0 };
		ctl_tm_summary(&l, s, sources[i]);
		printf("%-9s %s\n", sources[i], l.s);
	}
}

static void print_sample(const struct ctl *ctl, const cJSON *s)
{
	if (ctl->json) {
		char *t = cJSON_PrintUnformatted(s);
		if (t) {
			puts(t);
			free(t);
		}
	} else {
		print_lines(s);
	}
	fflush(stdout);
}

static int telemetry(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_command *cmd = &ctl_cmd_telemetry;
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "watch", no_argument, NULL, 'w' },
		{ "source", required_argument, NULL, 'S' },
		{ "interval", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	cJSON *srcs = NULL;
	bool watch = false;
	long long interval = 0;
	int c, rc = CTL_EXIT_OK;
	optind = 0;
	while (rc == CTL_EXIT_OK && (c = getopt_long(argc, argv, ":jwS:i:", opts, NULL)) != -1) {
		switch (c) {
		case 'j': ctl->json = true; break;
		case 'w': watch = true; break;
		case 'S': rc = parse_sources(cmd, optarg, &srcs); break;
		case 'i': rc = ctl_parse_int(cmd->name, "--interval", optarg, 100, 3600000, &interval); break;
		default: rc = ctl_bad_option(cmd, c, argc, argv); break;
		}
	}
	if (rc == CTL_EXIT_OK && optind != argc)
		rc = ctl_usage(cmd);
	if (rc == CTL_EXIT_OK && interval && !watch) {
		fprintf(stderr, "hwoptctl: telemetry: --interval goes with --watch\n");
		rc = ctl_usage(cmd);
	}
	if (rc) {
		cJSON_Delete(srcs);
		return rc;
	}
	cJSON *s;
	if (!watch) {
		if ((rc = ctl_tm_latest(ctl, srcs, false, &s)))
			return rc;
		if (ctl->json)
			ctl_print_json(s);
		else
			print_lines(s);
		cJSON_Delete(s);
		return CTL_EXIT_OK;
	}

	long long id;
	if ((rc = ctl_tm_subscribe(ctl, (int)interval, srcs, &id, NULL)))
		return rc;
	ctl_tm_catch_signals();
	for (bool first = true;; first = false) {
		switch (ctl_tm_wait(ctl, id, -1, -1, &s, &rc)) {
		case CTL_TM_SAMPLE:
			if (!first && !ctl->json)
				putchar('\n');
			print_sample(ctl, s);
			cJSON_Delete(s);
			break;
		case CTL_TM_FAILED:
			return rc;
		default: /* a signal: the subscription ends with the connection */
			return CTL_EXIT_OK;
		}
	}
}

/* ---- record ----------------------------------------------------------------------------- */

/* out made absolute: the real path of its directory and its name. */
static int absolute_out(const char *out, char *abs, size_t len)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(out, '/');
	const char *name = slash ? slash + 1 : out;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		fprintf(stderr, "hwoptctl: record: --out needs a file name, not '%s'\n", out);
		return CTL_EXIT_USAGE;
	}
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == out)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - out), out);
	if (!realpath(dir, real)) {
		fprintf(stderr, "hwoptctl: record: %s: %s\n", dir, strerror(errno));
		return CTL_EXIT_USAGE;
	}
	int n = snprintf(abs, len, "%s%s%s", real, strcmp(real, "/") ? "/" : "", name);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "hwoptctl: record: %s: %s\n", out, strerror(ENAMETOOLONG));
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

static int record(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_command *cmd = &ctl_cmd_record;
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "source", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	cJSON *srcs = NULL;
	long long seconds = 0;
	const char *out = NULL;
	int c, rc = CTL_EXIT_OK;
	optind = 0;
	while (rc == CTL_EXIT_OK && (c = getopt_long(argc, argv, ":n:o:S:j", opts, NULL)) != -1) {
		switch (c) {
		case 'n': rc = ctl_parse_int(cmd->name, "--seconds", optarg, 1, 86400, &seconds); break;
		case 'o': out = optarg; break;
		case 'S': rc = parse_sources(cmd, optarg, &srcs); break;
		case 'j': ctl->json = true; break;
		default: rc = ctl_bad_option(cmd, c, argc, argv); break;
		}
	}
	if (rc == CTL_EXIT_OK && (optind != argc || !seconds || !out))
		rc = ctl_usage(cmd);
	char path[PATH_MAX];
	if (rc == CTL_EXIT_OK)
		rc = absolute_out(out, path, sizeof(path));
	if (rc) {
		cJSON_Delete(srcs);
		return rc;
	}
	cJSON *p = cJSON_CreateObject(), *r;
	cJSON_AddNumberToObject(p, "seconds", (double)seconds);
	cJSON_AddStringToObject(p, "path", path);
	if (srcs)
		cJSON_AddItemToObject(p, "sources", srcs);
	/* The answer comes when the recording ends: wait for it plus the
	 * usual timeout. */
	long long wait = seconds * 1000 + ctl->timeout_ms;
	if ((rc = ctl_call_timeout(ctl, "trace.record", p, wait > INT_MAX ? INT_MAX : (int)wait, &r)))
		return rc;
	if (ctl->json) {
		ctl_print_json(r);
		cJSON_Delete(r);
		return CTL_EXIT_OK;
	}
	const cJSON *stopped = get(r, "stopped");
	printf("recorded %.0f samples (%.0f bytes) to %s", ctl_num(r, "samples", 0),
	       ctl_num(r, "bytes", 0), ctl_str(r, "path", path));
	if (cJSON_IsString(stopped))
		printf(" (stopped early: %s)", stopped->valuestring);
	else if (cJSON_IsTrue(stopped))
		printf(" (stopped early)");
	printf("\n");
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_cmd_metrics = {
	"metrics", "[--json]", "telemetry snapshot: CPU, frequencies, thermal, power, ...",
	"Show the daemon's newest telemetry sample, grouped: CPU (busy % per CPU,\n"
	"load, memory, pressure stall), frequencies (per CPU current, limits,\n"
	"governor, EPP; the driver), thermal (zones with their trip points, hwmon\n"
	"sensors), power (RAPL zones in W and J), battery and power supplies\n"
	"(capacity, status, power, time to empty, the platform profile), PMU (IPC\n"
	"and miss ratios per worker), scheduler run-queue latency (p50/p99) and the\n"
	"daemon (queues, jobs/s, latency). A source the machine or the daemon's\n"
	"rights do not allow shows 'NAME: unavailable (REASON)'. Rates need two\n"
	"samples: right after the daemon starts this waits for the second.\n"
	"--json prints the sample as the daemon sent it.",
	metrics,
};

const struct ctl_command ctl_cmd_telemetry = {
	"telemetry", "[--json] [--watch] [--source NAME]... [--interval MS]",
	"newest telemetry sample, one line per source, or a stream",
	"Print the newest telemetry sample: one line per source with its key\n"
	"figures, or with --json the sample as the daemon sent it.\n"
	"  --watch          subscribe and print every sample as it arrives, until\n"
	"                   interrupted (--json: one JSON object per line)\n"
	"  --source NAME    only these sources (repeatable, or NAME,NAME): procstat,\n"
	"                   cpufreq, thermal, hwmon, power, battery, perf, schedlat,\n"
	"                   daemon\n"
	"  --interval MS    with --watch: a sample every MS milliseconds (rounded up\n"
	"                   to the daemon's sampling interval; default: every sample)",
	telemetry,
};

const struct ctl_command ctl_cmd_record = {
	"record", "--seconds N --out FILE [--source NAME]... [--json]",
	"record telemetry samples to a JSON-lines file",
	"Make the daemon write its telemetry samples for the next N seconds (1 to\n"
	"86400) to FILE, one JSON object per line (made absolute; the daemon writes\n"
	"it, so it must be able to create it there, and it refuses a file that\n"
	"exists). --source limits the sources as for 'telemetry'. Waits until the\n"
	"recording ends (N seconds plus --timeout), then prints how many samples\n"
	"and bytes were written.",
	record,
};
