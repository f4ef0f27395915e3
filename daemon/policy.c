#include "policy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "daemon.h"
#include "log.h"
#include "models.h"
#include "policies/actuator.h"
#include "policies/battery.h"
#include "policies/engine.h"
#include "policies/thermal.h"
#include "prom.h"
#include "sched.h"
#include "telemetry/telemetry.h"

#define MAX_HOLDS 256
#define HOLD_REASON_MAX 256
/* Decision latency buckets (seconds): a tick is tens of microseconds. */
#define TICK_BUCKETS 9
static const double tick_le[TICK_BUCKETS] = { 25e-6, 50e-6, 100e-6, 250e-6, 500e-6,
					       1e-3, 2.5e-3, 5e-3, 10e-3 };

struct hold {
	int64_t id;
	struct client *c;
	enum pol_profile profile;
	char reason[HOLD_REASON_MAX + 1];
	time_t since;
	struct hold *next;
};

enum result { R_APPLIED, R_FAILED, R_ADVICE, R_NOTED, R_N };
static const char *const result_names[R_N] = { "applied", "failed", "advice", "noted" };

struct policy {
	struct pol_engine *e;
	struct pol_actuator *act;
	char act_err[256];          /* why there is no actuator */
	unsigned restored_at_start;
	struct hold *holds;
	size_t n_holds;
	int64_t next_hold;

	cJSON **ring;               /* decisions, oldest at ring[(head - n) % cap] */
	size_t cap, head, n;
	uint64_t decisions_total;

	uint64_t actions[POL_N_SRC][R_N];
	char degraded[POL_N_SRC][512]; /* the last failure, "" when fine */
	char degraded_setting[POL_N_SRC][128]; /* ... until this setting is written */
	uint64_t tick_counts[TICK_BUCKETS + 1];
	uint64_t ticks;
	double tick_sum, tick_last;
};

static void log_cb(void *ctx, const char *msg)
{
	log_warning("policy: %s", msg);
}

static int ring_alloc(struct policy *p, size_t cap)
{
	cJSON **r = calloc(cap, sizeof(*r));
	if (!r)
		return -ENOMEM;
	/* Keep the newest that fit. */
	size_t keep = p->n < cap ? p->n : cap;
	for (size_t i = 0; i < p->n; i++) {
		cJSON *x = p->ring[(p->head + p->cap - p->n + i) % p->cap];
		if (i >= p->n - keep)
			r[i - (p->n - keep)] = x;
		else
			cJSON_Delete(x);
	}
	free(p->ring);
	p->ring = r;
	p->cap = cap;
	p->n = keep;
	p->head = keep % cap;
	return 0;
}

int policy_start(struct hwoptd *d)
{
	struct policy *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->e = pol_engine_new();
	p->next_hold = 1;
	if (!p->e || ring_alloc(p, d->cfg.pol.explain_history) < 0) {
		pol_engine_free(p->e);
		free(p);
		return -ENOMEM;
	}
	int rc = pol_actuator_open(d->cfg.sysfs_root, d->cfg.state_dir, log_cb, NULL, &p->act,
				   &p->restored_at_start, p->act_err, sizeof(p->act_err));
	if (rc < 0) {
		p->act = NULL;
		log_warning("policy: settings cannot be written (each write fails): %s", p->act_err);
	} else if (p->restored_at_start) {
		log_warning("policy: restored %u settings a previous run left changed (%s)",
			    p->restored_at_start, pol_actuator_journal_path(p->act));
	}
	d->policy = p;
	return 0;
}

static void free_holds(struct policy *p)
{
	while (p->holds) {
		struct hold *h = p->holds;
		p->holds = h->next;
		free(h);
	}
	p->n_holds = 0;
}

void policy_stop(struct hwoptd *d)
{
	struct policy *p = d->policy;
	if (!p)
		return;
	if (p->act)
		pol_actuator_close(p->act, d->cfg.pol.restore_on_exit);
	for (size_t i = 0; i < p->n; i++)
		cJSON_Delete(p->ring[(p->head + p->cap - p->n + i) % p->cap]);
	free(p->ring);
	free_holds(p);
	pol_engine_free(p->e);
	free(p);
	d->policy = NULL;
}

/* --- applying -------------------------------------------------------------------------- */

static void record(struct policy *p, cJSON *dec)
{
	if (!dec)
		return;
	cJSON_Delete(p->ring[p->head]);
	p->ring[p->head] = dec;
	p->head = (p->head + 1) % p->cap;
	if (p->n < p->cap)
		p->n++;
	p->decisions_total++;
}

static struct model *model_of_setting(struct hwoptd *d, const char *setting)
{
	/* "model.NAME.heavy" */
	char name[CONFIG_NAME_MAX];
	const char *start = setting + 6, *end = strrchr(setting, '.');
	if (strncmp(setting, "model.", 6) != 0 || !end || end <= start ||
	    (size_t)(end - start) >= sizeof(name))
		return NULL;
	memcpy(name, start, (size_t)(end - start));
	name[end - start] = '\0';
	return models_find(d, name);
}

/* Applies one action; returns its result, err says why when it failed. */
static enum result apply(struct hwoptd *d, struct policy *p, const struct pol_action *a, char *err,
			 size_t errlen)
{
	if (a->kind == POL_ACT_NOTE || a->kind == POL_ACT_PROFILE)
		return R_NOTED;
	if (d->cfg.pol.dry_run)
		return R_ADVICE;
	switch (a->kind) {
	case POL_ACT_SYSFS: {
		if (!p->act) {
			snprintf(err, errlen, "no actuator: %.200s", p->act_err);
			return R_FAILED;
		}
		int rc = pol_actuator_write(p->act, a->setting, a->to, NULL, err, errlen);
		return rc < 0 ? R_FAILED : R_APPLIED;
	}
	case POL_ACT_WORKERS:
		sched_set_active(d->sched, a->value);
		return R_APPLIED;
	case POL_ACT_CLASSES:
		sched_set_classes(d->sched, a->value);
		return R_APPLIED;
	case POL_ACT_ACCEPT:
		sched_set_accept(d->sched, (size_t)a->index, a->value);
		return R_APPLIED;
	case POL_ACT_PIN:
		return sched_pin_worker(d->sched, (size_t)a->index, (int)a->value, err, errlen) < 0
			       ? R_FAILED
			       : R_APPLIED;
	case POL_ACT_HEAVY: {
		struct model *m = model_of_setting(d, a->setting);
		if (!m) {
			snprintf(err, errlen, "the model is gone");
			return R_FAILED;
		}
		__atomic_store_n(&m->heavy, a->value != 0, __ATOMIC_RELAXED);
		return R_APPLIED;
	}
	default:
		return R_NOTED;
	}
}

static void apply_all(struct hwoptd *d, struct policy *p, const struct pol_inputs *in,
		      struct pol_action *acts, size_t n)
{
	char err[256];
	for (size_t i = 0; i < n; i++) {
		const struct pol_action *a = &acts[i];
		err[0] = '\0';
		enum result r = apply(d, p, a, err, sizeof(err));
		p->actions[a->by][r]++;
		if (r == R_FAILED) {
			pol_engine_failed(p->e, a);
			snprintf(p->degraded[a->by], sizeof(p->degraded[0]), "%s: %s", a->setting, err);
			snprintf(p->degraded_setting[a->by], sizeof(p->degraded_setting[0]), "%s",
				 a->setting);
			log_warning("policy %s: %s %s -> %s failed: %s", pol_source_name(a->by),
				    a->setting, a->from, a->to, err);
		} else if (r == R_APPLIED && strcmp(a->setting, p->degraded_setting[a->by]) == 0) {
			p->degraded[a->by][0] = '\0';
			p->degraded_setting[a->by][0] = '\0';
		}
		if (r == R_APPLIED || r == R_ADVICE)
			log_info("policy %s: %s %s -> %s%s: %s", pol_source_name(a->by), a->setting,
				 a->from, a->to, r == R_ADVICE ? " (advice)" : "", a->reason);
		else if (a->kind == POL_ACT_NOTE)
			log_warning("policy %s: %s", pol_source_name(a->by), a->reason);
		cJSON *dec = pol_action_json(a, in->time, in->seq);
		if (dec) {
			cJSON_AddStringToObject(dec, "result", result_names[r]);
			if (r == R_FAILED)
				cJSON_AddStringToObject(dec, "error", err);
		}
		record(p, dec);
	}
}

/* The newest sample as one snapshot object, its parts borrowed. */
static cJSON *latest_snapshot(const struct telemetry *t)
{
	cJSON *snap = telemetry_snapshot_json(t, 0, 0);
	if (!snap)
		return NULL;
	cJSON *src = cJSON_GetObjectItemCaseSensitive(snap, "sources");
	for (size_t i = 0; src && i < TM_N_PARTS; i++) {
		const cJSON *part = telemetry_latest_part(t, i);
		if (part)
			cJSON_AddItemReferenceToObject(src, telemetry_part_name(i), (cJSON *)part);
	}
	return snap;
}

static void count_holds(const struct policy *p, struct pol_holds *h)
{
	h->power_saver = h->performance = 0;
	for (const struct hold *x = p->holds; x; x = x->next) {
		if (x->profile == POL_POWER_SAVER)
			h->power_saver++;
		else if (x->profile == POL_PERFORMANCE)
			h->performance++;
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void policy_on_sample(struct hwoptd *d)
{
	struct policy *p = d->policy;
	if (!p || !d->cfg.pol.enabled || d->stopping)
		return;
	double t0 = now_s();
	cJSON *snap = latest_snapshot(d->tm);
	if (!snap)
		return;
	static struct pol_inputs in; /* large; the loop thread's alone */
	char err[128];
	int rc = pol_inputs_parse(snap, &in, err, sizeof(err));
	cJSON_Delete(snap);
	if (rc < 0)
		return;
	struct pol_holds h;
	count_holds(p, &h);
	struct pol_action *acts;
	size_t n = pol_engine_tick(p->e, &d->cfg.pol, &in, &h, &acts);
	apply_all(d, p, &in, acts, n);
	double dt = now_s() - t0;
	size_t b = 0;
	while (b < TICK_BUCKETS && dt > tick_le[b])
		b++;
	p->tick_counts[b]++;
	p->ticks++;
	p->tick_sum += dt;
	p->tick_last = dt;
}

/* Everything back as found: settings restored, every worker taking every
 * job. The engine starts afresh from what the machine then shows. */
static void release_all(struct hwoptd *d, struct policy *p, const char *why)
{
	if (p->act) {
		unsigned failed = pol_actuator_restore(p->act);
		log_info("policy: settings restored (%s)%s", why, failed ? "; some failed" : "");
	}
	if (d->sched) {
		sched_set_active(d->sched, sched_n_workers(d->sched));
		sched_set_classes(d->sched, SCHED_ALL_CLASSES);
		for (size_t i = 0; i < sched_n_workers(d->sched); i++)
			sched_set_accept(d->sched, i, SCHED_ALL_CLASSES | SCHED_ACCEPT_HEAVY);
	}
	for (struct model *m = d->models; m; m = m->next)
		__atomic_store_n(&m->heavy, false, __ATOMIC_RELAXED);
	memset(p->degraded, 0, sizeof(p->degraded));
	memset(p->degraded_setting, 0, sizeof(p->degraded_setting));
	struct pol_engine *e = pol_engine_new();
	if (e) {
		pol_engine_free(p->e);
		p->e = e;
	}
}

void policy_config_changed(struct hwoptd *d, const struct pol_config *old)
{
	struct policy *p = d->policy;
	if (!p)
		return;
	const struct pol_config *c = &d->cfg.pol;
	if ((old->enabled && !c->enabled) || (!old->dry_run && c->dry_run))
		release_all(d, p, !c->enabled ? "policies disabled" : "advice mode");
	else if ((!old->enabled && c->enabled) || (old->dry_run && !c->dry_run)) {
		/* Start from what the machine shows now. */
		struct pol_engine *e = pol_engine_new();
		if (e) {
			pol_engine_free(p->e);
			p->e = e;
		}
	}
	if (c->explain_history != p->cap && ring_alloc(p, c->explain_history) < 0)
		log_warning("policy: out of memory resizing the decision history");
}

/* --- holds -------------------------------------------------------------------------------- */

int64_t policy_hold_add(struct hwoptd *d, struct client *c, enum pol_profile prof, const char *reason)
{
	struct policy *p = d->policy;
	if (!p || p->n_holds >= MAX_HOLDS)
		return -ENOSPC;
	struct hold *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->id = p->next_hold++;
	h->c = c;
	h->profile = prof;
	snprintf(h->reason, sizeof(h->reason), "%s", reason);
	h->since = time(NULL);
	h->next = p->holds;
	p->holds = h;
	p->n_holds++;
	log_info("policy: hold %lld (%s) by pid %d: %s", (long long)h->id, pol_profile_name(prof),
		 (int)c->cred.pid, h->reason);
	return h->id;
}

int policy_hold_release(struct hwoptd *d, struct client *c, int64_t id, bool admin)
{
	struct policy *p = d->policy;
	for (struct hold **pp = p ? &p->holds : NULL; pp && *pp; pp = &(*pp)->next) {
		struct hold *h = *pp;
		if (h->id != id)
			continue;
		if (h->c != c && !admin)
			return -EPERM;
		*pp = h->next;
		p->n_holds--;
		log_info("policy: hold %lld released", (long long)id);
		free(h);
		return 0;
	}
	return -ENOENT;
}

void policy_client_gone(struct hwoptd *d, struct client *c)
{
	struct policy *p = d->policy;
	for (struct hold **pp = p ? &p->holds : NULL; pp && *pp;) {
		struct hold *h = *pp;
		if (h->c != c) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		p->n_holds--;
		log_info("policy: hold %lld released (its client went)", (long long)h->id);
		free(h);
	}
}

cJSON *policy_holds_json(const struct hwoptd *d)
{
	const struct policy *p = d->policy;
	cJSON *a = cJSON_CreateArray();
	for (const struct hold *h = p ? p->holds : NULL; a && h; h = h->next) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "hold", (double)h->id);
		cJSON_AddStringToObject(o, "profile", pol_profile_name(h->profile));
		cJSON_AddStringToObject(o, "reason", h->reason);
		cJSON_AddNumberToObject(o, "since", (double)h->since);
		cJSON_AddItemToObject(o, "client", client_json(h->c));
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

/* --- views ---------------------------------------------------------------------------------- */

cJSON *policy_profile_json(const struct hwoptd *d)
{
	const struct policy *p = d->policy;
	cJSON *o = cJSON_CreateObject();
	bool ticked = p && pol_engine_ticks(p->e) > 0;
	struct pol_holds h = { 0, 0 };
	if (p)
		count_holds(p, &h);
	/* The profile as it stands now, holds and base included: decided
	 * again from the last plan's safety caps, so an answer to profile.set
	 * or hold.add already shows its effect. */
	enum pol_profile active = d->cfg.pol.profile;
	char reason[POL_REASON];
	snprintf(reason, sizeof(reason), "%s", !d->cfg.pol.enabled ? "policies are disabled"
						: ticked ? "" : "no telemetry sample yet");
	struct pol_plan *pl = ticked ? malloc(sizeof(*pl)) : NULL;
	if (pl) {
		memcpy(pl, pol_engine_plan(p->e), sizeof(*pl));
		pol_profile_step(&d->cfg.pol, pol_engine_inputs(p->e), d->cfg.pol.profile, &h, pl);
		active = pl->profile;
		snprintf(reason, sizeof(reason), "%s", pl->profile_why.why);
		free(pl);
	}
	cJSON_AddStringToObject(o, "active", pol_profile_name(active));
	cJSON_AddStringToObject(o, "base", pol_profile_name(d->cfg.pol.profile));
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON *hs = cJSON_AddObjectToObject(o, "holds");
	cJSON_AddNumberToObject(hs, "power-saver", h.power_saver);
	cJSON_AddNumberToObject(hs, "performance", h.performance);
	cJSON *ch = cJSON_AddArrayToObject(o, "choices");
	for (int i = 0; i < POL_N_PROFILES; i++)
		cJSON_AddItemToArray(ch, cJSON_CreateString(pol_profile_name((enum pol_profile)i)));
	if (ticked) {
		const struct pol_inputs *in = pol_engine_inputs(p->e);
		cJSON_AddStringToObject(o, "style", pol_cpufreq_style_name(pol_cpufreq_style(in)));
		if (in->driver[0])
			cJSON_AddStringToObject(o, "driver", in->driver);
		if (in->platform_profile_available)
			cJSON_AddStringToObject(o, "platform_profile", in->platform_profile);
	}
	return o;
}

cJSON *policy_json(const struct hwoptd *d)
{
	const struct policy *p = d->policy;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "enabled", d->cfg.pol.enabled);
	cJSON_AddBoolToObject(o, "dry_run", d->cfg.pol.dry_run);
	cJSON_AddItemToObject(o, "profile", policy_profile_json(d));
	cJSON_AddItemToObject(o, "config", pol_config_json(&d->cfg.pol));
	if (!p)
		return o;
	cJSON_AddItemToObject(o, "state", pol_engine_state_json(p->e, &d->cfg.pol));
	cJSON *deg = cJSON_AddObjectToObject(o, "degraded");
	for (int s = 0; s < POL_N_SRC; s++)
		if (p->degraded[s][0])
			cJSON_AddStringToObject(deg, pol_source_name((enum pol_source)s), p->degraded[s]);
	cJSON *act = cJSON_AddObjectToObject(o, "actuator");
	if (p->act) {
		struct pol_actuator_stats st;
		pol_actuator_stats(p->act, &st);
		cJSON_AddBoolToObject(act, "available", true);
		cJSON_AddStringToObject(act, "journal", pol_actuator_journal_path(p->act));
		cJSON_AddNumberToObject(act, "writes_total", (double)st.writes);
		cJSON_AddNumberToObject(act, "failures_total", (double)st.failures);
		cJSON_AddNumberToObject(act, "settings_held", st.held);
		cJSON_AddNumberToObject(act, "restored_at_start", p->restored_at_start);
		cJSON *aj = pol_actuator_json(p->act);
		cJSON *list = aj ? cJSON_DetachItemFromObjectCaseSensitive(aj, "settings") : NULL;
		cJSON_AddItemToObject(act, "settings", list ? list : cJSON_CreateArray());
		cJSON_Delete(aj);
	} else {
		cJSON_AddBoolToObject(act, "available", false);
		cJSON_AddStringToObject(act, "reason", p->act_err);
	}
	cJSON *tick = cJSON_AddObjectToObject(o, "tick");
	cJSON_AddNumberToObject(tick, "count", (double)p->ticks);
	cJSON_AddNumberToObject(tick, "last_seconds", p->tick_last);
	cJSON_AddNumberToObject(tick, "mean_seconds", p->ticks ? p->tick_sum / (double)p->ticks : 0);
	return o;
}

cJSON *policy_explain_json(const struct hwoptd *d, size_t limit, const char *policy)
{
	const struct policy *p = d->policy;
	cJSON *a = cJSON_CreateArray();
	if (!p || !a)
		return a;
	/* Walk newest to oldest, then reverse into oldest first. */
	cJSON *picked[1024];
	size_t k = 0;
	if (limit > 1024)
		limit = 1024;
	for (size_t i = 0; i < p->n && k < limit; i++) {
		cJSON *x = p->ring[(p->head + p->cap - 1 - i) % p->cap];
		const cJSON *pol = cJSON_GetObjectItemCaseSensitive(x, "policy");
		if (policy && !(cJSON_IsString(pol) && strcmp(pol->valuestring, policy) == 0))
			continue;
		picked[k++] = x;
	}
	while (k-- > 0)
		cJSON_AddItemToArray(a, cJSON_Duplicate(picked[k], true));
	return a;
}

/* --- metrics ---------------------------------------------------------------------------------- */

void policy_metrics(const struct hwoptd *d, struct prom *pr)
{
	const struct policy *p = d->policy;
	if (!p)
		return;
	prom_family(pr, "hwopt_policy_enabled", PROM_GAUGE,
		    "Whether the policy engine runs (1) and writes (dry_run 0).");
	prom_sample(pr, "hwopt_policy_enabled", d->cfg.pol.enabled ? 1 : 0, "mode",
		    d->cfg.pol.dry_run ? "advice" : "apply", NULL);
	prom_family(pr, "hwopt_policy_actions_total", PROM_COUNTER,
		    "Policy decisions by policy and result (applied, failed, advice, noted).");
	for (int s = 0; s < POL_N_SRC; s++)
		for (int r = 0; r < R_N; r++)
			prom_sample(pr, "hwopt_policy_actions_total", (double)p->actions[s][r], "policy",
				    pol_source_name((enum pol_source)s), "result", result_names[r], NULL);
	prom_family(pr, "hwopt_policy_degraded", PROM_GAUGE,
		    "Whether a policy's last write failed (1) until one succeeds again.");
	for (int s = 0; s < POL_N_SRC; s++)
		prom_sample(pr, "hwopt_policy_degraded", p->degraded[s][0] ? 1 : 0, "policy",
			    pol_source_name((enum pol_source)s), NULL);
	if (p->act) {
		struct pol_actuator_stats st;
		pol_actuator_stats(p->act, &st);
		prom_family(pr, "hwopt_policy_writes_total", PROM_COUNTER,
			    "Settings written by the actuator and read back equal.");
		prom_sample(pr, "hwopt_policy_writes_total", (double)st.writes, NULL);
		prom_family(pr, "hwopt_policy_write_failures_total", PROM_COUNTER,
			    "Actuator writes that failed, by errno (EIO: read back another value).");
		for (size_t i = 0; i < 5; i++)
			prom_sample(pr, "hwopt_policy_write_failures_total",
				    (double)st.failures_by_errno[i], "errno", pol_actuator_errno_name(i),
				    NULL);
		prom_family(pr, "hwopt_policy_settings_held", PROM_GAUGE,
			    "Settings changed by the daemon, journaled to be restored.");
		prom_sample(pr, "hwopt_policy_settings_held", st.held, NULL);
	}
	double thr[POL_N_SRC];
	pol_engine_throttled(p->e, thr);
	prom_family(pr, "hwopt_policy_throttled_seconds_total", PROM_COUNTER,
		    "Time spent under a cap, by reason (thermal, battery, memory_bound).");
	prom_sample(pr, "hwopt_policy_throttled_seconds_total", thr[POL_SRC_THERMAL], "reason",
		    "thermal", NULL);
	prom_sample(pr, "hwopt_policy_throttled_seconds_total", thr[POL_SRC_BATTERY], "reason",
		    "battery", NULL);
	prom_sample(pr, "hwopt_policy_throttled_seconds_total", thr[POL_SRC_DVFS], "reason",
		    "memory_bound", NULL);
	struct pol_holds h = { 0, 0 };
	count_holds(p, &h);
	prom_family(pr, "hwopt_policy_holds", PROM_GAUGE, "Profile holds of connected clients.");
	prom_sample(pr, "hwopt_policy_holds", h.power_saver, "profile", "power-saver", NULL);
	prom_sample(pr, "hwopt_policy_holds", h.performance, "profile", "performance", NULL);
	if (pol_engine_ticks(p->e)) {
		const struct pol_plan *pl = pol_engine_plan(p->e);
		prom_family(pr, "hwopt_policy_profile", PROM_GAUGE,
			    "The power profile in force (1) by name.");
		for (int i = 0; i < POL_N_PROFILES; i++)
			prom_sample(pr, "hwopt_policy_profile", pl->profile == (enum pol_profile)i,
				    "profile", pol_profile_name((enum pol_profile)i), NULL);
		prom_family(pr, "hwopt_policy_freq_cap_ratio", PROM_GAUGE,
			    "The frequency cap in force, as a fraction of each CPU's maximum.");
		prom_sample(pr, "hwopt_policy_freq_cap_ratio",
			    fmin(pl->freq_cap_ratio, pl->mem_cap_ratio), NULL);
		const struct pol_thermal_state *th = pol_engine_thermal(p->e);
		prom_family(pr, "hwopt_policy_thermal_level", PROM_GAUGE,
			    "The thermal policy's escalation level (0: none), critical apart.");
		prom_sample(pr, "hwopt_policy_thermal_level", th->level, "critical",
			    th->critical ? "true" : "false", NULL);
		const struct pol_battery_state *bat = pol_engine_battery(p->e);
		prom_family(pr, "hwopt_policy_battery_level", PROM_GAUGE,
			    "The battery policy's level in force (1) by name.");
		for (int l = POL_BAT_NORMAL; l <= POL_BAT_CRITICAL; l++)
			prom_sample(pr, "hwopt_policy_battery_level", bat->level == (enum pol_battery_level)l,
				    "level", pol_battery_level_name((enum pol_battery_level)l), NULL);
		prom_family(pr, "hwopt_policy_battery_time_remaining_seconds", PROM_GAUGE,
			    "Battery time left on battery, and how it was estimated.");
		if (!isnan(bat->time_remaining_s) && bat->time_source)
			prom_sample(pr, "hwopt_policy_battery_time_remaining_seconds",
				    bat->time_remaining_s, "source", bat->time_source, NULL);
		prom_family(pr, "hwopt_policy_worker_cap", PROM_GAUGE,
			    "Active workers allowed by the thermal and battery caps.");
		if (pl->worker_cap != UINT32_MAX)
			prom_sample(pr, "hwopt_policy_worker_cap", pl->worker_cap, NULL);
	}
	if (d->sched) {
		prom_family(pr, "hwopt_workers_active", PROM_GAUGE,
			    "Workers taking jobs (the others are parked).");
		prom_sample(pr, "hwopt_workers_active", (double)sched_active(d->sched), NULL);
	}
	prom_family(pr, "hwopt_policy_tick_seconds", PROM_HISTOGRAM,
		    "Time one policy tick takes: parse the snapshot, decide and apply.");
	prom_histogram(pr, "hwopt_policy_tick_seconds", tick_le, p->tick_counts, TICK_BUCKETS,
		       p->tick_sum, p->ticks, NULL);
}
