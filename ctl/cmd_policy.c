/* hwoptctl policy, profile, explain and simulate: the policy engine's state
 * and settings (policy.get, policy.set), its decisions (policy.explain),
 * the power profile and its holds (profile.get, profile.set, hold.add,
 * hold.release, hold.list), and replaying a recorded trace through
 * `hwoptd --simulate`.
 *
 * The answers are those of daemon/policy.c; a member that is missing or
 * null (no sample judged yet, no battery, no PMU) is left out of the text
 * or shown as "-", never made up. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define KEY_WIDTH 9 /* the key column of policy's text */

static const cJSON *get(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static bool has_num(const cJSON *o, const char *name)
{
	return cJSON_IsNumber(get(o, name));
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		perror("hwoptctl");
		exit(CTL_EXIT_CONNECT);
	}
	return q;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d) {
		perror("hwoptctl");
		exit(CTL_EXIT_CONNECT);
	}
	return d;
}

/* A line of text under the previous ctl_kv line's value. */
static void more(int width, const char *text)
{
	printf("%*s%s\n", width + 2, "", text);
}

/* "HH:MM:SS" of a daemon time (seconds since the epoch), local. */
static const char *clock_of(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;
	localtime_r(&s, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
	return buf;
}

/* A configuration value as text: strings as they are, numbers shortest,
 * null (a value left to be derived) as "(unset)". */
static const char *value_text(const cJSON *v, char *buf, size_t len)
{
	if (!v)
		return "(none)";
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	if (cJSON_IsNumber(v)) {
		snprintf(buf, len, "%.15g", v->valuedouble);
		return buf;
	}
	if (cJSON_IsNull(v))
		return "(unset)";
	char *s = cJSON_PrintUnformatted(v);
	snprintf(buf, len, "%s", s ? s : "?");
	free(s);
	return buf;
}

/* Only [--json] among argv[1..]; the positional arguments end up in
 * argv[optind..argc). */
static int json_option(struct ctl *ctl, const struct ctl_command *cmd, int argc, char **argv)
{
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
	return CTL_EXIT_OK;
}

/* ---- policy ------------------------------------------------------------------------------ */

/* " (by POLICY: REASON)" of a {policy, reason} object, or "". */
static void by_whom(struct ctl_line *l, const cJSON *why)
{
	if (cJSON_IsObject(why))
		ctl_line_add(l, " (by %s: %s)", ctl_str(why, "policy", "?"), ctl_str(why, "reason", "?"));
}

static void show_caps(const cJSON *caps)
{
	int n = 0;
	struct ctl_line l;
	if (ctl_num(caps, "freq_ratio", 1) < 1) {
		l = (struct ctl_line){ 0 };
		ctl_line_add(&l, "frequency at most %.0f%% of each CPU's maximum",
			     ctl_num(caps, "freq_ratio", 1) * 100);
		by_whom(&l, get(caps, "freq"));
		n++ ? more(KEY_WIDTH, l.s) : ctl_kv(0, KEY_WIDTH, "caps", "%s", l.s);
	}
	if (has_num(caps, "workers")) {
		l = (struct ctl_line){ 0 };
		ctl_line_add(&l, "at most %.0f active workers", ctl_num(caps, "workers", 0));
		by_whom(&l, get(caps, "workers_by"));
		n++ ? more(KEY_WIDTH, l.s) : ctl_kv(0, KEY_WIDTH, "caps", "%s", l.s);
	}
	if (cJSON_IsObject(get(caps, "classes_by"))) {
		l = (struct ctl_line){ 0 };
		ctl_line_add(&l, "only %s jobs start", ctl_str(caps, "classes", "?"));
		by_whom(&l, get(caps, "classes_by"));
		n++ ? more(KEY_WIDTH, l.s) : ctl_kv(0, KEY_WIDTH, "caps", "%s", l.s);
	}
	if (cJSON_IsTrue(get(caps, "power_saver_forced"))) {
		l = (struct ctl_line){ 0 };
		ctl_line_add(&l, "power-saver forced");
		by_whom(&l, get(caps, "power_saver_by"));
		n++ ? more(KEY_WIDTH, l.s) : ctl_kv(0, KEY_WIDTH, "caps", "%s", l.s);
	}
	if (!n)
		ctl_kv(0, KEY_WIDTH, "caps", "none");
}

static void show_thermal(const cJSON *th, const cJSON *cfg)
{
	struct ctl_line l = { 0 };
	if (cJSON_IsFalse(get(cfg, "enabled"))) {
		ctl_kv(0, KEY_WIDTH, "thermal", "off (thermal.enabled = false)");
		return;
	}
	ctl_line_add(&l, "level %.0f", ctl_num(th, "level", 0));
	if (has_num(cfg, "max_level"))
		ctl_line_add(&l, " of %.0f", ctl_num(cfg, "max_level", 0));
	ctl_line_add(&l, " (%s)", ctl_str(th, "mode", "?"));
	if (cJSON_IsTrue(get(th, "critical")))
		ctl_line_add(&l, ", CRITICAL");
	if (ctl_num(th, "cap_ratio", 1) < 1)
		ctl_line_add(&l, ", cap %.0f%%", ctl_num(th, "cap_ratio", 1) * 100);
	const cJSON *h = get(th, "hottest");
	if (!cJSON_IsObject(h)) {
		ctl_line_add(&l, "; no zone temperature known");
	} else {
		ctl_line_add(&l, "; hottest zone %.0f (%s)", ctl_num(h, "zone", -1),
			     ctl_str(h, "type", "?"));
		if (has_num(h, "temp_celsius"))
			ctl_line_add(&l, " %.1f °C", ctl_num(h, "temp_celsius", 0));
		if (has_num(h, "passive_celsius"))
			ctl_line_add(&l, ", passive trip %.1f °C", ctl_num(h, "passive_celsius", 0));
		if (has_num(h, "critical_celsius"))
			ctl_line_add(&l, ", critical %.1f °C", ctl_num(h, "critical_celsius", 0));
	}
	ctl_kv(0, KEY_WIDTH, "thermal", "%s", l.s);
}

static void show_battery(const cJSON *b, const cJSON *cfg)
{
	struct ctl_line l = { 0 };
	char t[64];
	if (cJSON_IsFalse(get(cfg, "enabled"))) {
		ctl_kv(0, KEY_WIDTH, "battery", "off (battery.enabled = false)");
		return;
	}
	ctl_line_add(&l, "%s", ctl_str(b, "level", "?"));
	const char *why = ctl_str(b, "reason", "");
	if (*why)
		ctl_line_add(&l, ": %s", why);
	else if (has_num(b, "capacity_pct"))
		ctl_line_add(&l, ", %.0f%%", ctl_num(b, "capacity_pct", 0));
	if (has_num(b, "time_remaining_seconds")) {
		ctl_line_add(&l, ", %s left", ctl_duration(ctl_num(b, "time_remaining_seconds", 0), t,
							   sizeof(t)));
		const char *src = ctl_str(b, "time_remaining_source", NULL);
		if (src)
			ctl_line_add(&l, " (%s)", src);
	}
	ctl_kv(0, KEY_WIDTH, "battery", "%s", l.s);
}

static void show_dvfs(const cJSON *d, const cJSON *cfg)
{
	struct ctl_line l = { 0 };
	if (cJSON_IsFalse(get(cfg, "enabled"))) {
		ctl_kv(0, KEY_WIDTH, "dvfs", "off (dvfs.enabled = false)");
		return;
	}
	ctl_line_add(&l, "%s, ", ctl_str(d, "level", "?"));
	if (cJSON_IsTrue(get(d, "memory_bound")))
		ctl_line_add(&l, "memory-bound");
	else
		ctl_line_add(&l, "not memory-bound");
	if (has_num(d, "ipc"))
		ctl_line_add(&l, " (IPC %.2f", ctl_num(d, "ipc", 0));
	if (has_num(d, "cache_miss_ratio"))
		ctl_line_add(&l, "%scache misses %.0f%%", has_num(d, "ipc") ? ", " : " (",
			     ctl_num(d, "cache_miss_ratio", 0) * 100);
	if (has_num(d, "ipc") || has_num(d, "cache_miss_ratio"))
		ctl_line_add(&l, ")");
	if (!cJSON_IsTrue(get(d, "pmu")))
		ctl_line_add(&l, "; no PMU: %s", ctl_str(d, "pmu_reason", "unavailable"));
	ctl_kv(0, KEY_WIDTH, "dvfs", "%s", l.s);
}

static void show_workers(const cJSON *a, const cJSON *cfg)
{
	if (!cJSON_IsObject(a))
		return;
	struct ctl_line l = { 0 };
	ctl_line_add(&l, "%.0f active, %.0f desired (%.0f to %.0f)", ctl_num(a, "current", 0),
		     ctl_num(a, "desired", 0), ctl_num(a, "min", 0), ctl_num(a, "max", 0));
	if (cJSON_IsFalse(get(cfg, "enabled")))
		ctl_line_add(&l, "; autoscale off");
	ctl_kv(0, KEY_WIDTH, "workers", "%s", l.s);
}

static void show_policy(const cJSON *r)
{
	const cJSON *prof = get(r, "profile"), *st = get(r, "state"), *cfg = get(r, "config");
	const cJSON *deg = get(r, "degraded"), *act = get(r, "actuator"), *tick = get(r, "tick");
	char a[64], b[64];
	struct ctl_line l = { 0 };

	if (!cJSON_IsTrue(get(r, "enabled")))
		ctl_kv(0, KEY_WIDTH, "policies", "disabled (policy.enabled = false): nothing judged or written");
	else if (cJSON_IsTrue(get(r, "dry_run")))
		ctl_kv(0, KEY_WIDTH, "policies",
		       "enabled, advice mode (policy.dry_run): decisions logged, nothing written");
	else
		ctl_kv(0, KEY_WIDTH, "policies", "enabled, applying");

	ctl_line_add(&l, "%s", ctl_str(prof, "active", "?"));
	if (strcmp(ctl_str(prof, "active", "?"), ctl_str(prof, "base", "?")) != 0)
		ctl_line_add(&l, " (base %s)", ctl_str(prof, "base", "?"));
	ctl_line_add(&l, ": %s", ctl_str(prof, "reason", "?"));
	const cJSON *holds = get(prof, "holds"), *h;
	int nh = 0;
	cJSON_ArrayForEach(h, holds) {
		if (cJSON_IsNumber(h) && h->valuedouble > 0)
			ctl_line_add(&l, "%s%.0f %s", nh++ ? ", " : "; holds: ", h->valuedouble, h->string);
	}
	ctl_kv(0, KEY_WIDTH, "profile", "%s", l.s);

	if (ctl_num(st, "ticks", 0) <= 0) {
		if (cJSON_IsTrue(get(r, "enabled")))
			ctl_kv(0, KEY_WIDTH, "state", "no telemetry sample judged yet");
	} else {
		show_caps(get(st, "caps"));
		show_thermal(get(st, "thermal"), get(cfg, "thermal"));
		show_battery(get(st, "battery"), get(cfg, "battery"));
		show_dvfs(get(st, "dvfs"), get(cfg, "dvfs"));
		show_workers(get(st, "autoscale"), get(cfg, "autoscale"));
	}

	int nd = 0;
	cJSON_ArrayForEach(h, deg) {
		l = (struct ctl_line){ 0 };
		ctl_line_add(&l, "%s: %s", h->string, cJSON_IsString(h) ? h->valuestring : "?");
		nd++ ? more(KEY_WIDTH, l.s) : ctl_kv(0, KEY_WIDTH, "degraded", "%s", l.s);
	}
	if (!nd && deg)
		ctl_kv(0, KEY_WIDTH, "degraded", "none");

	if (cJSON_IsTrue(get(act, "available"))) {
		l = (struct ctl_line){ 0 };
		ctl_line_add(&l, "%.0f writes, %.0f failures, %.0f settings held",
			     ctl_num(act, "writes_total", 0), ctl_num(act, "failures_total", 0),
			     ctl_num(act, "settings_held", 0));
		if (ctl_num(act, "restored_at_start", 0) > 0)
			ctl_line_add(&l, ", %.0f restored at start",
				     ctl_num(act, "restored_at_start", 0));
		ctl_line_add(&l, " (journal %s)", ctl_str(act, "journal", "?"));
		ctl_kv(0, KEY_WIDTH, "actuator", "%s", l.s);
	} else if (act) {
		ctl_kv(0, KEY_WIDTH, "actuator", "unavailable, advice only: %s",
		       ctl_str(act, "reason", "no reason given"));
	}

	if (tick)
		ctl_kv(0, KEY_WIDTH, "tick", "%.0f ticks, last %s, mean %s", ctl_num(tick, "count", 0),
		       ctl_secs(ctl_num(tick, "last_seconds", 0), a, sizeof(a)),
		       ctl_secs(ctl_num(tick, "mean_seconds", 0), b, sizeof(b)));

	int nn = 0;
	cJSON_ArrayForEach(h, get(st, "notes")) {
		l = (struct ctl_line){ 0 };
		ctl_line_add(&l, "%s: %s", ctl_str(h, "policy", "?"), ctl_str(h, "note", "?"));
		nn++ ? more(KEY_WIDTH, l.s) : ctl_kv(0, KEY_WIDTH, "notes", "%s", l.s);
	}
}

/* The value of "section.key" in a policy config object (NULL: none). */
static const cJSON *config_value(const cJSON *cfg, const char *name)
{
	const char *dot = strchr(name, '.');
	char section[64];
	if (!dot || (size_t)(dot - name) >= sizeof(section))
		return NULL;
	snprintf(section, sizeof(section), "%.*s", (int)(dot - name), name);
	return get(get(cfg, section), dot + 1);
}

/* thermal.zone changed: the zone.TYPE keys that differ between old and new. */
static int print_zone_changes(const cJSON *old, const cJSON *now)
{
	const cJSON *ot = get(old, "thermal"), *nt = get(now, "thermal"), *it;
	char a[256], b[256];
	int n = 0;
	cJSON_ArrayForEach(it, nt) {
		if (strncmp(it->string, "zone.", 5) != 0)
			continue;
		const cJSON *was = get(ot, it->string);
		if (was && cJSON_Compare(was, it, true))
			continue;
		printf("thermal.%s: %s → %s\n", it->string, value_text(was, a, sizeof(a)),
		       value_text(it, b, sizeof(b)));
		n++;
	}
	cJSON_ArrayForEach(it, ot) {
		if (strncmp(it->string, "zone.", 5) != 0 || get(nt, it->string))
			continue;
		printf("thermal.%s: %s → (none)\n", it->string, value_text(it, a, sizeof(a)));
		n++;
	}
	return n;
}

static int policy_set(struct ctl *ctl, int n, char **kv)
{
	const struct ctl_command *cmd = &ctl_cmd_policy;
	if (n == 0) {
		fprintf(stderr, "hwoptctl: policy set needs KEY=VALUE (e.g. thermal.margin_c=8)\n");
		return ctl_usage(cmd);
	}
	cJSON *set = cJSON_CreateObject();
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(kv[i], '=');
		if (!eq || eq == kv[i]) {
			fprintf(stderr,
				"hwoptctl: policy set: '%s' is not KEY=VALUE (e.g. thermal.margin_c=8)\n",
				kv[i]);
			cJSON_Delete(set);
			return ctl_usage(cmd);
		}
		char *key = xstrdup(kv[i]);
		key[eq - kv[i]] = '\0';
		cJSON_DeleteItemFromObjectCaseSensitive(set, key); /* the last one counts */
		cJSON_AddStringToObject(set, key, eq + 1);
		free(key);
	}
	/* The values before, to show what changed from what. */
	cJSON *before = NULL, *r;
	int rc;
	if (!ctl->json && (rc = ctl_call(ctl, "policy.get", NULL, &before))) {
		cJSON_Delete(set);
		return rc;
	}
	cJSON *p = cJSON_CreateObject();
	cJSON_AddItemToObject(p, "set", set);
	if ((rc = ctl_call(ctl, "policy.set", p, &r))) {
		cJSON_Delete(before);
		return rc;
	}
	if (ctl->json) {
		ctl_print_json(r);
		cJSON_Delete(r);
		return CTL_EXIT_OK;
	}
	const cJSON *old = get(before, "config"), *now = get(r, "config"), *it;
	int shown = 0;
	cJSON_ArrayForEach(it, get(r, "changed")) {
		if (!cJSON_IsString(it))
			continue;
		if (strcmp(it->valuestring, "thermal.zone") == 0) {
			shown += print_zone_changes(old, now);
			continue;
		}
		char a[256], b[256];
		printf("%s: %s → %s\n", it->valuestring,
		       value_text(config_value(old, it->valuestring), a, sizeof(a)),
		       value_text(config_value(now, it->valuestring), b, sizeof(b)));
		shown++;
	}
	if (!shown)
		printf("nothing changed\n");
	cJSON_Delete(before);
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

static int policy_run(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_command *cmd = &ctl_cmd_policy;
	int rc = json_option(ctl, cmd, argc, argv);
	if (rc)
		return rc;
	if (optind < argc && strcmp(argv[optind], "set") == 0)
		return policy_set(ctl, argc - optind - 1, argv + optind + 1);
	if (optind < argc) {
		fprintf(stderr, "hwoptctl: policy takes 'set', not '%s'\n", argv[optind]);
		return ctl_usage(cmd);
	}
	cJSON *r;
	if ((rc = ctl_call(ctl, "policy.get", NULL, &r)))
		return rc;
	if (ctl->json)
		ctl_print_json(r);
	else
		show_policy(r);
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

/* ---- profile ------------------------------------------------------------------------------ */

#define PROFILE_WIDTH 16

static void show_profile(const cJSON *p)
{
	const int w = PROFILE_WIDTH;
	const cJSON *h;
	struct ctl_line l = { 0 };
	ctl_kv(0, w, "active", "%s", ctl_str(p, "active", "?"));
	ctl_kv(0, w, "base", "%s", ctl_str(p, "base", "?"));
	ctl_kv(0, w, "reason", "%s", ctl_str(p, "reason", "?"));
	cJSON_ArrayForEach(h, get(p, "holds"))
		ctl_line_add(&l, "%s%s %.0f", l.n ? ", " : "", h->string,
			     cJSON_IsNumber(h) ? h->valuedouble : 0);
	ctl_kv(0, w, "holds", "%s", l.n ? l.s : "none");
	if (ctl_str(p, "style", NULL))
		ctl_kv(0, w, "style", "%s", ctl_str(p, "style", "?"));
	if (ctl_str(p, "driver", NULL))
		ctl_kv(0, w, "driver", "%s", ctl_str(p, "driver", "?"));
	if (ctl_str(p, "platform_profile", NULL))
		ctl_kv(0, w, "platform profile", "%s", ctl_str(p, "platform_profile", "?"));
}

static int profile_holds(struct ctl *ctl)
{
	cJSON *r;
	int rc = ctl_call(ctl, "hold.list", NULL, &r);
	if (rc)
		return rc;
	if (ctl->json) {
		ctl_print_json(r);
		cJSON_Delete(r);
		return CTL_EXIT_OK;
	}
	const cJSON *holds = get(r, "holds"), *h;
	if (cJSON_GetArraySize(holds) == 0) {
		printf("no holds\n");
		cJSON_Delete(r);
		return CTL_EXIT_OK;
	}
	struct ctl_table t;
	ctl_table_init(&t, "rlllrl", "HOLD", "PROFILE", "SINCE", "PID", "UID", "REASON");
	cJSON_ArrayForEach(h, holds) {
		char id[32], since[64], pid[32], uid[32];
		const cJSON *c = get(h, "client");
		time_t s = (time_t)ctl_num(h, "since", 0);
		struct tm tm;
		localtime_r(&s, &tm);
		strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(id, sizeof(id), "%.0f", ctl_num(h, "hold", 0));
		snprintf(pid, sizeof(pid), "%.0f", ctl_num(c, "pid", 0));
		snprintf(uid, sizeof(uid), "%.0f", ctl_num(c, "uid", 0));
		const char *why = ctl_str(h, "reason", "");
		ctl_table_row(&t, id, ctl_str(h, "profile", "?"), since, pid, uid, *why ? why : "-");
	}
	ctl_table_print(&t);
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

static int profile_set(struct ctl *ctl, const char *name)
{
	cJSON *p = cJSON_CreateObject(), *r;
	cJSON_AddStringToObject(p, "profile", name);
	int rc = ctl_call(ctl, "profile.set", p, &r);
	if (rc)
		return rc;
	if (ctl->json) {
		ctl_print_json(r);
	} else {
		/* The answer's "active" is the last tick's: the new base
		 * applies at the next telemetry sample. */
		printf("base profile: %s\n", ctl_str(r, "base", name));
		if (strcmp(ctl_str(r, "active", ""), ctl_str(r, "base", name)) != 0)
			printf("in force until the next sample: %s (%s)\n", ctl_str(r, "active", "?"),
			       ctl_str(r, "reason", "?"));
	}
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

/* profile hold: signals end the wait (no command) or are passed to the
 * command when they were sent to hwoptctl alone. */
static volatile sig_atomic_t hold_sig, hold_chld, hold_child;

static void hold_on_signal(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	if (sig == SIGCHLD) {
		hold_chld = 1;
	} else {
		hold_sig = sig;
		/* A terminal's ^C reaches the whole process group: the
		 * command has it already. kill(1) reaches hwoptctl alone. */
		if (hold_child > 0 && si && si->si_code <= 0)
			kill((pid_t)hold_child, sig);
	}
	errno = saved;
}

/* The reason of a hold: "running CMD ARGS" or "hwoptctl (pid N)", cut to
 * the daemon's 256 bytes at a character boundary. */
static void hold_reason(char **cmdv, char *buf, size_t len)
{
	struct ctl_line l = { 0 };
	if (cmdv) {
		ctl_line_add(&l, "running");
		for (int i = 0; cmdv[i]; i++)
			ctl_line_add(&l, " %s", cmdv[i]);
	} else {
		ctl_line_add(&l, "hwoptctl profile hold (pid %d)", (int)getpid());
	}
	size_t n = l.n < len - 1 ? l.n : len - 1;
	while (n > 0 && n < l.n && ((unsigned char)l.s[n] & 0xc0) == 0x80)
		n--;
	memcpy(buf, l.s, n);
	buf[n] = '\0';
}

static int profile_hold(struct ctl *ctl, const char *name, const char *reason, char **cmdv)
{
	char dflt[257];
	if (!reason) {
		hold_reason(cmdv, dflt, sizeof(dflt));
		reason = dflt;
	}
	/* Signals are blocked from here and let in only while waiting. */
	sigset_t block, orig, wait_mask;
	struct sigaction sa = { .sa_sigaction = hold_on_signal, .sa_flags = SA_SIGINFO | SA_NOCLDSTOP };
	struct sigaction old_int, old_term, old_chld;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &orig);
	wait_mask = orig;
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGCHLD);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGCHLD, &sa, &old_chld);

	cJSON *p = cJSON_CreateObject(), *r;
	cJSON_AddStringToObject(p, "profile", name);
	cJSON_AddStringToObject(p, "reason", reason);
	int rc = ctl_call(ctl, "hold.add", p, &r);
	if (rc)
		return rc;
	long long id = (long long)ctl_num(r, "hold", -1);
	if (id < 0) {
		fprintf(stderr, "hwoptctl: hold.add: the answer from %s names no hold\n", ctl->socket);
		cJSON_Delete(r);
		return CTL_EXIT_CONNECT;
	}
	if (!cmdv) {
		if (ctl->json) {
			char *s = cJSON_PrintUnformatted(r);
			if (s)
				puts(s);
			free(s);
		} else {
			/* Not the answer's "active": that is the last tick's, before
			 * the hold counted. */
			printf("hold %lld: %s (%s)\n", id, name, reason);
			printf("holding until interrupted (SIGINT or SIGTERM)\n");
		}
	}
	cJSON_Delete(r);
	fflush(stdout);
	fflush(stderr);

	pid_t child = -1;
	if (cmdv) {
		child = fork();
		if (child < 0) {
			fprintf(stderr, "hwoptctl: profile hold: fork: %s\n", strerror(errno));
			return CTL_EXIT_CONNECT; /* the hold ends with the connection */
		}
		if (child == 0) {
			sigaction(SIGINT, &old_int, NULL);
			sigaction(SIGTERM, &old_term, NULL);
			sigaction(SIGCHLD, &old_chld, NULL);
			sigprocmask(SIG_SETMASK, &orig, NULL);
			execvp(cmdv[0], cmdv);
			int e = errno;
			fprintf(stderr, "hwoptctl: profile hold: cannot run %s: %s\n", cmdv[0], strerror(e));
			_exit(e == ENOENT ? 127 : 126);
		}
		hold_child = child;
	}

	bool connected = true;
	int status = 0;
	for (;;) {
		if (child > 0 && hold_chld) {
			hold_chld = 0;
			pid_t w = waitpid(child, &status, WNOHANG);
			if (w == child)
				break;
		}
		if (child < 0 && hold_sig)
			break;
		while (connected) {
			cJSON *m;
			enum hwopt_call_status st = hwopt_client_notification(ctl->client, 0, &m);
			if (st == HWOPT_CALL_OK) {
				cJSON_Delete(m); /* not for us */
				continue;
			}
			if (st == HWOPT_CALL_TIMEOUT)
				break;
			connected = false;
			fprintf(stderr, "hwoptctl: profile hold: the connection to hwoptd at %s was lost; "
					"hold %lld is gone\n", ctl->socket, id);
		}
		if (!connected && child < 0)
			return CTL_EXIT_CONNECT;
		struct pollfd pf = { .fd = connected ? hwopt_client_fd(ctl->client) : -1,
				     .events = POLLIN };
		if (ppoll(&pf, 1, NULL, &wait_mask) < 0 && errno != EINTR) {
			fprintf(stderr, "hwoptctl: poll: %s\n", strerror(errno));
			if (child > 0)
				continue; /* still wait for the command */
			return CTL_EXIT_CONNECT;
		}
	}
	hold_child = 0;

	if (child > 0)
		rc = WIFEXITED(status) ? WEXITSTATUS(status)
		     : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
					   : 1;
	if (connected) {
		p = cJSON_CreateObject();
		cJSON_AddNumberToObject(p, "hold", (double)id);
		int rrc = ctl_call(ctl, "hold.release", p, &r);
		if (rrc && child < 0)
			return rrc;
		if (!rrc && child < 0) {
			if (ctl->json) {
				char *s = cJSON_PrintUnformatted(r);
				if (s)
					puts(s);
				free(s);
			} else {
				printf("released hold %lld\n", id);
			}
		}
		cJSON_Delete(r);
	}
	return rc;
}

/* Parses the arguments after "profile": [--json] [set NAME | hold NAME
 * [--reason TEXT] [-- COMMAND...] | holds]. */
static int profile_run(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_command *cmd = &ctl_cmd_profile;
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	/* The command starts after the first "--" that is not --reason's value. */
	char **cmdv = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--reason") == 0 || strcmp(argv[i], "-r") == 0) {
			i++;
			continue;
		}
		if (strcmp(argv[i], "--") == 0) {
			cmdv = argv + i + 1;
			argv[i] = NULL;
			argc = i;
			break;
		}
	}
	const char *reason = NULL;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":jr:", opts, NULL)) != -1) {
		switch (c) {
		case 'j': ctl->json = true; break;
		case 'r': reason = optarg; break;
		default: return ctl_bad_option(cmd, c, argc, argv);
		}
	}
	const char *sub = optind < argc ? argv[optind] : NULL;
	int npos = argc - optind - (sub ? 1 : 0);
	char **pos = argv + optind + (sub ? 1 : 0);
	if (sub && strcmp(sub, "set") != 0 && strcmp(sub, "hold") != 0 && strcmp(sub, "holds") != 0) {
		fprintf(stderr, "hwoptctl: profile takes 'set', 'hold' or 'holds', not '%s'\n", sub);
		return ctl_usage(cmd);
	}
	bool hold = sub && strcmp(sub, "hold") == 0;
	if (!hold && (reason || cmdv)) {
		fprintf(stderr, "hwoptctl: profile: %s goes with 'profile hold'\n",
			reason ? "--reason" : "a command");
		return ctl_usage(cmd);
	}
	if (cmdv && !cmdv[0]) {
		fprintf(stderr, "hwoptctl: profile hold: no command after '--'\n");
		return ctl_usage(cmd);
	}
	if (!sub) {
		cJSON *r;
		int rc = ctl_call(ctl, "profile.get", NULL, &r);
		if (rc)
			return rc;
		if (ctl->json)
			ctl_print_json(r);
		else
			show_profile(r);
		cJSON_Delete(r);
		return CTL_EXIT_OK;
	}
	if (strcmp(sub, "holds") == 0) {
		if (npos)
			return ctl_usage(cmd);
		return profile_holds(ctl);
	}
	if (npos != 1) {
		if (npos > 1 && hold)
			fprintf(stderr, "hwoptctl: profile hold: put the command after '--'\n");
		else
			fprintf(stderr, "hwoptctl: profile %s needs one profile name\n", sub);
		return ctl_usage(cmd);
	}
	if (hold)
		return profile_hold(ctl, pos[0], reason, cmdv);
	return profile_set(ctl, pos[0]);
}

/* ---- explain -------------------------------------------------------------------------------- */

static int explain_run(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_command *cmd = &ctl_cmd_explain;
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'n' },
		{ "policy", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	long long limit = 0;
	const char *policy = NULL;
	int c, rc = CTL_EXIT_OK;
	optind = 0;
	while (rc == CTL_EXIT_OK && (c = getopt_long(argc, argv, ":jn:p:", opts, NULL)) != -1) {
		switch (c) {
		case 'j': ctl->json = true; break;
		case 'n': rc = ctl_parse_int(cmd->name, "--limit", optarg, 1, 1024, &limit); break;
		case 'p': policy = optarg; break;
		default: rc = ctl_bad_option(cmd, c, argc, argv); break;
		}
	}
	if (rc)
		return rc;
	if (optind != argc)
		return ctl_usage(cmd);
	cJSON *p = NULL, *r;
	if (limit || policy) {
		p = cJSON_CreateObject();
		if (limit)
			cJSON_AddNumberToObject(p, "limit", (double)limit);
		if (policy)
			cJSON_AddStringToObject(p, "policy", policy);
	}
	if ((rc = ctl_call(ctl, "policy.explain", p, &r)))
		return rc;
	const cJSON *decs = get(r, "decisions"), *d;
	if (ctl->json) {
		ctl_print_json(decs ? decs : r);
		cJSON_Delete(r);
		return CTL_EXIT_OK;
	}
	if (cJSON_GetArraySize(decs) == 0) {
		printf("no decisions%s%s\n", policy ? " by " : "", policy ? policy : "");
		cJSON_Delete(r);
		return CTL_EXIT_OK;
	}
	struct ctl_table t;
	ctl_table_init(&t, "lllll", "TIME", "POLICY", "CHANGE", "RESULT", "REASON");
	cJSON_ArrayForEach(d, decs) {
		char when[32];
		struct ctl_line change = { 0 }, why = { 0 };
		if (ctl_str(d, "setting", NULL))
			ctl_line_add(&change, "%s %s → %s", ctl_str(d, "setting", "?"),
				     *ctl_str(d, "from", "") ? ctl_str(d, "from", "") : "(none)",
				     ctl_str(d, "to", "?"));
		else
			ctl_line_add(&change, "(%s)", ctl_str(d, "kind", "note"));
		ctl_line_add(&why, "%s", ctl_str(d, "reason", ""));
		if (ctl_str(d, "error", NULL))
			ctl_line_add(&why, " [error: %s]", ctl_str(d, "error", ""));
		ctl_table_row(&t, clock_of(ctl_num(d, "time", 0), when, sizeof(when)),
			      ctl_str(d, "policy", "?"), change.s, ctl_str(d, "result", "-"), why.s);
	}
	ctl_table_print(&t);
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

/* ---- simulate ---------------------------------------------------------------------------------- */

/* $HWOPTD, else hwoptd next to this hwoptctl (or in ../sbin, where `make
 * install` puts it), else "hwoptd" for a search of PATH. */
static const char *hwoptd_path(char *buf, size_t len)
{
	const char *env = getenv("HWOPTD");
	if (env && *env)
		return env;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			static const char *const rel[] = { "/hwoptd", "/../sbin/hwoptd" };
			for (size_t i = 0; i < 2; i++) {
				int w = snprintf(buf, len, "%s%s", exe, rel[i]);
				if (w > 0 && (size_t)w < len && access(buf, X_OK) == 0)
					return buf;
			}
		}
	}
	return "hwoptd";
}

/* The decisions of one policy on one setting, as they came. */
struct series {
	char *policy, *setting;
	long changes;
	char **vals; /* consecutive repeats collapsed */
	size_t n, cap;
};

struct sim {
	struct series *s;
	size_t n, cap;
	char **pols; /* policies in the order they first decided */
	long *notes; /* notes per policy */
	size_t npol;
	long decisions, not_json;
	char *summary; /* hwoptd's "simulate: ..." line */
};

static size_t sim_policy(struct sim *sm, const char *pol)
{
	for (size_t i = 0; i < sm->npol; i++)
		if (strcmp(sm->pols[i], pol) == 0)
			return i;
	sm->pols = xrealloc(sm->pols, (sm->npol + 1) * sizeof(*sm->pols));
	sm->notes = xrealloc(sm->notes, (sm->npol + 1) * sizeof(*sm->notes));
	sm->pols[sm->npol] = xstrdup(pol);
	sm->notes[sm->npol] = 0;
	return sm->npol++;
}

static void series_value(struct series *s, const char *v)
{
	if (!*v || (s->n && strcmp(s->vals[s->n - 1], v) == 0))
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->vals = xrealloc(s->vals, s->cap * sizeof(*s->vals));
	}
	s->vals[s->n++] = xstrdup(v);
}

static void sim_decision(struct sim *sm, const char *line)
{
	cJSON *d = cJSON_Parse(line);
	if (!cJSON_IsObject(d)) {
		sm->not_json++;
		cJSON_Delete(d);
		return;
	}
	sm->decisions++;
	const char *pol = ctl_str(d, "policy", "?"), *setting = ctl_str(d, "setting", NULL);
	size_t pi = sim_policy(sm, pol);
	if (!setting) {
		sm->notes[pi]++;
		cJSON_Delete(d);
		return;
	}
	struct series *s = NULL;
	for (size_t i = 0; i < sm->n && !s; i++)
		if (strcmp(sm->s[i].policy, pol) == 0 && strcmp(sm->s[i].setting, setting) == 0)
			s = &sm->s[i];
	if (!s) {
		if (sm->n == sm->cap) {
			sm->cap = sm->cap ? sm->cap * 2 : 16;
			sm->s = xrealloc(sm->s, sm->cap * sizeof(*sm->s));
		}
		s = &sm->s[sm->n++];
		*s = (struct series){ .policy = xstrdup(pol), .setting = xstrdup(setting) };
	}
	s->changes++;
	series_value(s, ctl_str(d, "from", ""));
	series_value(s, ctl_str(d, "to", ""));
	cJSON_Delete(d);
}

static void sim_stderr(struct sim *sm, const char *line)
{
	if (strncmp(line, "simulate: ", 10) == 0) {
		free(sm->summary);
		sm->summary = xstrdup(line);
	} else {
		fprintf(stderr, "%s\n", line);
	}
}

/* Shown values: all up to 16, else the first 12, how many are left out,
 * and the last 3. */
#define SHOW_VALUES 16
static char *series_text(const struct series *s)
{
	size_t len = 1;
	for (size_t i = 0; i < s->n; i++)
		len += strlen(s->vals[i]) + 8;
	len += 64;
	char *buf = xrealloc(NULL, len), *p = buf;
	*p = '\0';
	for (size_t i = 0; i < s->n; i++) {
		if (s->n > SHOW_VALUES && i == 12) {
			p += snprintf(p, len - (size_t)(p - buf), " → … (%zu more)", s->n - 15);
			i = s->n - 3;
		}
		p += snprintf(p, len - (size_t)(p - buf), "%s%s", i ? " → " : "", s->vals[i]);
	}
	return buf;
}

static void sim_print(const struct sim *sm)
{
	if (sm->n) {
		struct ctl_table t;
		ctl_table_init(&t, "llrl", "POLICY", "SETTING", "CHANGES", "VALUES");
		for (size_t p = 0; p < sm->npol; p++)
			for (size_t i = 0; i < sm->n; i++) {
				const struct series *s = &sm->s[i];
				if (strcmp(s->policy, sm->pols[p]) != 0)
					continue;
				char n[32];
				char *v = series_text(s);
				snprintf(n, sizeof(n), "%ld", s->changes);
				ctl_table_row(&t, s->policy, s->setting, n, v);
				free(v);
			}
		ctl_table_print(&t);
	} else {
		printf("no changes\n");
	}
	struct ctl_line l = { 0 };
	for (size_t p = 0; p < sm->npol; p++)
		if (sm->notes[p])
			ctl_line_add(&l, "%s%s %ld", l.n ? ", " : "", sm->pols[p], sm->notes[p]);
	if (l.n)
		printf("notes: %s (their text: --json)\n", l.s);
}

static void sim_free(struct sim *sm)
{
	for (size_t i = 0; i < sm->n; i++) {
		for (size_t k = 0; k < sm->s[i].n; k++)
			free(sm->s[i].vals[k]);
		free(sm->s[i].vals);
		free(sm->s[i].policy);
		free(sm->s[i].setting);
	}
	free(sm->s);
	for (size_t i = 0; i < sm->npol; i++)
		free(sm->pols[i]);
	free(sm->pols);
	free(sm->notes);
	free(sm->summary);
}

/* Lines read from one descriptor. */
struct reader {
	int fd;
	char *buf;
	size_t n, cap;
	void (*line)(struct sim *, const char *);
};

/* Reads what is there; calls r->line for each whole line (and the rest at
 * EOF). False at EOF or on an error. */
static bool reader_fill(struct reader *r, struct sim *sm)
{
	if (r->cap - r->n < 65536) {
		r->cap = r->cap ? r->cap * 2 : 65536 * 2;
		r->buf = xrealloc(r->buf, r->cap);
	}
	ssize_t got = read(r->fd, r->buf + r->n, r->cap - r->n - 1);
	if (got < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (got <= 0) {
		if (r->n) {
			r->buf[r->n] = '\0';
			r->line(sm, r->buf);
			r->n = 0;
		}
		return false;
	}
	r->n += (size_t)got;
	char *start = r->buf, *nl;
	while ((nl = memchr(start, '\n', r->n - (size_t)(start - r->buf)))) {
		*nl = '\0';
		r->line(sm, start);
		start = nl + 1;
	}
	r->n -= (size_t)(start - r->buf);
	memmove(r->buf, start, r->n);
	return true;
}

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static int simulate_run(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_command *cmd = &ctl_cmd_simulate;
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":jc:", opts, NULL)) != -1) {
		switch (c) {
		case 'j': ctl->json = true; break;
		case 'c': config = optarg; break;
		default: return ctl_bad_option(cmd, c, argc, argv);
		}
	}
	if (optind != argc - 1)
		return ctl_usage(cmd);
	const char *trace = argv[optind];

	char pathbuf[PATH_MAX + 32];
	const char *hwoptd = hwoptd_path(pathbuf, sizeof(pathbuf));
	char *args[] = { (char *)hwoptd, "--simulate", (char *)trace,
			 config ? "--config" : NULL, (char *)config, NULL };
	int out[2] = { -1, -1 }, err[2] = { -1, -1 };
	if (!ctl->json && (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)) {
		fprintf(stderr, "hwoptctl: simulate: pipe: %s\n", strerror(errno));
		return CTL_EXIT_CONNECT;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "hwoptctl: simulate: fork: %s\n", strerror(errno));
		return CTL_EXIT_CONNECT;
	}
	if (pid == 0) {
		if (!ctl->json && (dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0))
			_exit(CTL_EXIT_CONNECT);
		execvp(hwoptd, args);
		fprintf(stderr, "hwoptctl: simulate: cannot run %s: %s (set HWOPTD to its path)\n",
			hwoptd, strerror(errno));
		_exit(CTL_EXIT_CONNECT);
	}
	int status;
	if (ctl->json) {
		/* Its lines pass through unchanged. */
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR) {
				fprintf(stderr, "hwoptctl: simulate: waitpid: %s\n", strerror(errno));
				return CTL_EXIT_CONNECT;
			}
		return exit_status(status);
	}
	close(out[1]);
	close(err[1]);
	struct sim sm = { 0 };
	struct reader rd[2] = {
		{ .fd = out[0], .line = sim_decision },
		{ .fd = err[0], .line = sim_stderr },
	};
	bool open[2] = { true, true };
	while (open[0] || open[1]) {
		struct pollfd pf[2] = {
			{ .fd = open[0] ? rd[0].fd : -1, .events = POLLIN },
			{ .fd = open[1] ? rd[1].fd : -1, .events = POLLIN },
		};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "hwoptctl: simulate: poll: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < 2; i++)
			if (open[i] && pf[i].revents)
				open[i] = reader_fill(&rd[i], &sm);
	}
	close(out[0]);
	close(err[0]);
	free(rd[0].buf);
	free(rd[1].buf);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "hwoptctl: simulate: waitpid: %s\n", strerror(errno));
			sim_free(&sm);
			return CTL_EXIT_CONNECT;
		}
	int rc = exit_status(status);
	if (sm.decisions || rc == 0)
		sim_print(&sm);
	if (sm.not_json)
		fprintf(stderr, "hwoptctl: simulate: %ld lines from %s were not JSON decisions\n",
			sm.not_json, hwoptd);
	if (sm.summary)
		printf("%s\n", sm.summary);
	sim_free(&sm);
	return rc;
}

/* ---- the commands ---------------------------------------------------------------------------------- */

const struct ctl_command ctl_cmd_policy = {
	"policy", "[--json] | set KEY=VALUE...", "policy engine state, or change its settings",
	"policy prints what the policy engine is doing (policy.get): whether it runs\n"
	"and writes (or only advises: dry_run), the profile in force and why, the\n"
	"caps in force and the policy that set each (frequency, workers, job\n"
	"classes, forced power-saver), the thermal level and hottest zone, the\n"
	"battery level and time left, the DVFS level and whether the work is\n"
	"memory-bound, active and desired workers, degraded policies (a write that\n"
	"failed), the actuator's writes, failures and settings held, the time a\n"
	"tick takes, and the engine's notes. --json prints the answer as is.\n"
	"\n"
	"policy set KEY=VALUE... changes the [policy], [dvfs], [thermal], [battery],\n"
	"[autoscale] and [affinity] settings of the running daemon (policy.set; the\n"
	"configuration file is not written, a reload goes back to it): KEY is\n"
	"section.key, as in hwoptd.conf(5), e.g. thermal.margin_c=8\n"
	"dvfs.enabled=false thermal.zone.acpitz=80,95. All or nothing: one bad key\n"
	"or value changes nothing and the daemon's error is printed (exit status\n"
	"1). Prints each setting that changed, old → new.",
	policy_run,
};

const struct ctl_command ctl_cmd_profile = {
	"profile",
	"[--json] | set NAME | hold NAME [--reason TEXT] [-- COMMAND [ARG...]] | holds",
	"power profile: show, set, hold, list holds",
	"profile prints the power profile in force, the base profile, why, the\n"
	"holds, and how the profile is applied here (EPP or governor style, the\n"
	"cpufreq driver, the ACPI platform profile). NAME is power-saver, balanced\n"
	"or performance.\n"
	"  set NAME         make NAME the base profile (profile.set); it applies at\n"
	"                   the daemon's next telemetry sample\n"
	"  hold NAME        hold power-saver or performance while hwoptctl runs\n"
	"                   (hold.add, as power-profiles-daemon's holds: a\n"
	"                   power-saver hold wins over a performance one). Without\n"
	"                   a command: prints the hold's id and waits; SIGINT or\n"
	"                   SIGTERM releases it (exit status 0). With -- COMMAND:\n"
	"                   runs it, releases the hold when it exits, and exits\n"
	"                   with its status (128+N when signal N killed it; 127 when\n"
	"                   it cannot be found). A SIGINT or SIGTERM sent to hwoptctl\n"
	"                   alone is passed on to the command.\n"
	"  --reason TEXT    the hold's reason (default: the command, or hwoptctl's\n"
	"                   pid); at most 256 bytes\n"
	"  holds            list the holds (hold.list): id, profile, since, the\n"
	"                   client's pid and uid, reason\n"
	"A hold ends with its connection: if the daemon stops, hwoptctl says so\n"
	"(exit status 3 without a command; a command runs on).",
	profile_run,
};

const struct ctl_command ctl_cmd_explain = {
	"explain", "[--limit N] [--policy NAME] [--json]", "the policy engine's recent decisions",
	"Print the policy engine's recent decisions (policy.explain), oldest first,\n"
	"one a line: the time (local), the policy, the setting and its change\n"
	"(from → to; a note shows (note)), the result (applied, failed, advice,\n"
	"noted) and the reason; a failed write shows its error.\n"
	"  --limit N        the newest N decisions (1 to 1024; default the daemon's, 50)\n"
	"  --policy NAME    only those of thermal, battery, profile, dvfs, autoscale\n"
	"                   or affinity\n"
	"  --json           print the decisions as a JSON array, with their inputs",
	explain_run,
};

const struct ctl_command ctl_cmd_simulate = {
	"simulate", "TRACE [--config FILE] [--json]", "replay a telemetry trace through the policies",
	"Run the policies over TRACE, a file 'record' wrote (one telemetry snapshot\n"
	"a line; '-' reads standard input), with `hwoptd --simulate`: nothing is\n"
	"written and no daemon is needed. hwoptd is $HWOPTD when set, else the\n"
	"hwoptd next to hwoptctl (or in ../sbin), else found on PATH.\n"
	"  --config FILE    take the policy sections of FILE (default: the built-in\n"
	"                   defaults, not /etc/hwoptd/hwoptd.conf)\n"
	"  --json           pass hwoptd's decisions through, one JSON object a line\n"
	"Without --json: per policy and setting, the number of changes and the\n"
	"values in order (repeats collapsed; a long run shows its first 12 and\n"
	"last 3), the notes per policy, then hwoptd's summary line (snapshots,\n"
	"decisions, lines skipped, decision latency). Lines of the trace that\n"
	"hwoptd skips are reported on standard error. The exit status is hwoptd's:\n"
	"1 when the trace or FILE cannot be read or the trace holds no snapshot;\n"
	"3 when hwoptd cannot be run.",
	simulate_run,
};
