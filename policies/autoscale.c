/* The autoscaler: the Kubernetes HPA's algorithm (autoscaling/v2 with
 * behavior) over the daemon's active workers. Each tick: one proposal per
 * metric, the largest is the desired count; the stabilization windows and
 * the rate policies (from the recorded recommendations and changes) bound
 * it; then min, max and the safety caps. Pure: time is in->time only. */
#include "policies/autoscale.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Figures like 3.36 / 4 / 0.8 are not exact in binary: a ratio of
 * 1.1000000000000001 is still within a 0.1 tolerance, and 4 × 1.25 is 5,
 * not 6. */
#define EPS 1e-9
/* A proposal is a count of workers: a p95 of hours must not overflow it. */
#define MAX_PROPOSAL 1000000.0

void pol_autoscale_init(struct pol_autoscale_state *st)
{
	memset(st, 0, sizeof(*st));
}

/* --- text ----------------------------------------------------------------------------------- */

struct sbuf {
	char *s;
	size_t len;  /* of s */
	size_t used; /* what the text needs, may exceed len - 1 (truncated) */
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	size_t at = b->used < b->len ? b->used : b->len;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->s + at, b->len - at, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->used += (size_t)n;
}

/* Copies src into dst, cut at a UTF-8 character boundary ("→" is three
 * bytes; half of one would make the JSON the engine prints invalid). */
static void copy_text(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);
	if (n >= len) {
		n = len - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memmove(dst, src, n); /* dst may be src: cutting in place */
	dst[n] = '\0';
}

/* --- history: recommendations and changes ---------------------------------------------------- */

static struct pol_as_rec *rec_at(struct pol_autoscale_state *st, size_t i)
{
	return &st->recs[(st->recs_head + i) % POL_AS_HISTORY];
}

static struct pol_as_event *event_at(struct pol_autoscale_state *st, size_t i)
{
	return &st->events[(st->events_head + i) % POL_AS_HISTORY];
}

/* Entries at or before cutoff can never be inside a window again (time only
 * goes forward): drop them. */
static void prune(struct pol_autoscale_state *st, double rec_cutoff, double event_cutoff)
{
	while (st->n_recs && !(rec_at(st, 0)->t > rec_cutoff)) {
		st->recs_head = (st->recs_head + 1) % POL_AS_HISTORY;
		st->n_recs--;
	}
	while (st->n_events && !(event_at(st, 0)->t > event_cutoff)) {
		st->events_head = (st->events_head + 1) % POL_AS_HISTORY;
		st->n_events--;
	}
}

/* Records a recommendation. A run of equal ones keeps only its newest time:
 * for the min or max over any window that ends now it is the same, and a
 * steady load then costs one entry however fast the ticks come. Returns
 * whether an entry still inside a window had to be dropped (ring full). */
static bool push_rec(struct pol_autoscale_state *st, double t, uint32_t n)
{
	if (st->n_recs) {
		struct pol_as_rec *last = rec_at(st, st->n_recs - 1);
		if (last->n == n) {
			last->t = t;
			return false;
		}
	}
	if (st->n_recs == POL_AS_HISTORY) {
		st->recs[st->recs_head] = (struct pol_as_rec){ t, n };
		st->recs_head = (st->recs_head + 1) % POL_AS_HISTORY;
		return true;
	}
	*rec_at(st, st->n_recs++) = (struct pol_as_rec){ t, n };
	return false;
}

static void push_event(struct pol_autoscale_state *st, double t, int32_t delta)
{
	if (st->n_events == POL_AS_HISTORY) {
		st->events[st->events_head] = (struct pol_as_event){ t, delta };
		st->events_head = (st->events_head + 1) % POL_AS_HISTORY;
		return;
	}
	*event_at(st, st->n_events++) = (struct pol_as_event){ t, delta };
}

/* Workers added (up) or removed (!up) by changes after cutoff: as HPA's
 * getReplicasChangePerPeriod, an event exactly period_s old no longer
 * counts. */
static int64_t changed_since(struct pol_autoscale_state *st, double cutoff, bool up)
{
	int64_t sum = 0;
	for (size_t i = 0; i < st->n_events; i++) {
		const struct pol_as_event *e = event_at(st, i);
		if (!(e->t > cutoff))
			continue;
		if (up && e->delta > 0)
			sum += e->delta;
		else if (!up && e->delta < 0)
			sum -= e->delta;
	}
	return sum;
}

static double newest_time(struct pol_autoscale_state *st)
{
	double t = -INFINITY;
	if (st->n_recs)
		t = rec_at(st, st->n_recs - 1)->t;
	if (st->n_events && event_at(st, st->n_events - 1)->t > t)
		t = event_at(st, st->n_events - 1)->t;
	return t;
}

static void retime(struct pol_autoscale_state *st, double now)
{
	for (size_t i = 0; i < st->n_recs; i++)
		if (rec_at(st, i)->t > now)
			rec_at(st, i)->t = now;
	for (size_t i = 0; i < st->n_events; i++)
		if (event_at(st, i)->t > now)
			event_at(st, i)->t = now;
}

/* --- bounds and metrics ---------------------------------------------------------------------- */

/* min and max: max_workers (0: all) but never more than are started. */
static void bounds(const struct pol_config *c, const struct pol_inputs *in, uint32_t *lo,
		   uint32_t *hi)
{
	uint32_t max = c->max_workers;
	if (in && in->workers && (!max || max > in->workers))
		max = in->workers;
	uint32_t min = c->min_workers ? c->min_workers : 1;
	if (max && min > max)
		min = max;
	*lo = min;
	*hi = max;
}

struct metric {
	const char *name;
	const char *unit;   /* after the figures: "" or " s" */
	int prec;
	double value, target;
	bool on;
	bool tolerated;     /* within the tolerance: proposes the current count */
	uint32_t proposal;
};

static void propose(const struct pol_config *c, struct metric *m, uint32_t current)
{
	double ratio = m->value / m->target;
	if (ratio >= 1 ? ratio - 1 <= c->tolerance_up + EPS : 1 - ratio <= c->tolerance_down + EPS) {
		m->tolerated = true;
		m->proposal = current;
		return;
	}
	double x = ceil((double)current * ratio - EPS);
	if (x < 0)
		x = 0;
	if (x > MAX_PROPOSAL)
		x = MAX_PROPOSAL;
	m->proposal = (uint32_t)x;
}

static bool known(double v)
{
	return isfinite(v) && v >= 0;
}

/* Fills m[3] (utilization, queue/worker, queue p95); returns how many are on. */
static int metrics(const struct pol_config *c, const struct pol_inputs *in, uint32_t current,
		   struct metric m[3])
{
	double busy = known(in->busy_avg) ? in->busy_avg : in->busy;
	double queued = (double)in->queued[0] + in->queued[1] + in->queued[2];
	m[0] = (struct metric){ .name = "utilization", .unit = "", .prec = 2,
				.value = busy / current, .target = c->target_utilization };
	m[1] = (struct metric){ .name = "queue/worker", .unit = "", .prec = 1,
				.value = queued / current, .target = c->target_queue_per_worker };
	m[2] = (struct metric){ .name = "queue p95", .unit = " s", .prec = 3,
				.value = in->queue_p95_s, .target = c->target_queue_p95_s };
	/* The daemon's group is all or nothing: zeroed queue counts of an
	 * unavailable daemon are not an empty queue. */
	int on = 0;
	for (int i = 0; i < 3; i++) {
		m[i].on = in->daemon_available && m[i].target > 0 && known(m[i].value);
		if (m[i].on) {
			propose(c, &m[i], current);
			on++;
		}
	}
	return on;
}

static void add_metrics(struct sbuf *b, const struct metric m[3], bool compact)
{
	bool first = true;
	for (int i = 0; i < 3; i++) {
		if (!m[i].on)
			continue;
		if (!first)
			sb_add(b, "; ");
		first = false;
		if (compact)
			sb_add(b, "%s %.*f/%.*f%s → %u%s", m[i].name, m[i].prec, m[i].value,
			       m[i].prec, m[i].target, m[i].unit, m[i].proposal,
			       m[i].tolerated ? " (tolerated)" : "");
		else
			sb_add(b, "%s %.*f%s (target %.*f%s) → %u%s", m[i].name, m[i].prec,
			       m[i].value, m[i].unit, m[i].prec, m[i].target, m[i].unit,
			       m[i].proposal, m[i].tolerated ? " (within tolerance)" : "");
	}
	if (first)
		sb_add(b, "no metrics");
}

/* --- the step -------------------------------------------------------------------------------- */

/* Each stage's result, for the reason: desired → stabilized → rate limited
 * → min/max → safety cap. */
struct stages {
	uint32_t current, desired, stabilized, limited, bounded, final;
	uint32_t min, max;
};

/* The stages that moved the value, in order; compact: only the last (the one
 * that decided the result), when the whole story does not fit. */
static void add_tail(struct sbuf *b, const struct pol_config *c, const struct pol_plan *p,
		     const struct stages *s, bool compact)
{
	char phrase[4][96];
	int n = 0;
	if (s->stabilized > s->desired)
		snprintf(phrase[n++], sizeof(phrase[0]),
			 "held by the %g s down-stabilization window at %u", c->down_window_s,
			 s->stabilized);
	else if (s->stabilized < s->desired)
		snprintf(phrase[n++], sizeof(phrase[0]),
			 "held by the %g s up-stabilization window at %u", c->up_window_s,
			 s->stabilized);
	if (s->limited < s->stabilized)
		snprintf(phrase[n++], sizeof(phrase[0]), "scale-up limit %u", s->limited);
	else if (s->limited > s->stabilized)
		snprintf(phrase[n++], sizeof(phrase[0]), "scale-down limit %u", s->limited);
	if (s->bounded > s->limited)
		snprintf(phrase[n++], sizeof(phrase[0]), "min %u", s->bounded);
	else if (s->bounded < s->limited)
		snprintf(phrase[n++], sizeof(phrase[0]), "max %u", s->bounded);
	if (s->final < s->bounded)
		snprintf(phrase[n++], sizeof(phrase[0]), "capped at %u by %s", s->final,
			 pol_source_name(p->worker_cap_why.by));
	sb_add(b, "; desired %u", s->desired);
	for (int i = compact && n ? n - 1 : 0; i < n; i++)
		sb_add(b, ", %s", phrase[i]);
}

static void explain(const struct pol_config *c, struct pol_autoscale_state *st,
		    struct pol_plan *p, const struct metric m[3], const struct stages *s)
{
	char buf[512], mbuf[384];
	/* The full form when it fits, else the compact one ("1.60/0.80", only
	 * the deciding stage). */
	for (int compact = 0; compact < 2; compact++) {
		struct sbuf mb = { mbuf, sizeof(mbuf), 0 };
		add_metrics(&mb, m, compact);
		struct sbuf b = { buf, sizeof(buf), 0 };
		sb_add(&b, "%s", mbuf);
		add_tail(&b, c, p, s, compact);
		if (b.used < POL_REASON)
			break;
	}
	copy_text(st->metrics, sizeof(st->metrics), mbuf);
	copy_text(buf, POL_REASON, buf);
	pol_why_set(&p->active_why, POL_SRC_AUTOSCALE, "%s", buf);
}

static void autoscale_off(const struct pol_inputs *in, struct pol_autoscale_state *st,
			  struct pol_plan *p)
{
	/* Re-enabling starts afresh from the daemon's figures. */
	pol_autoscale_init(st);
	uint32_t n = in->workers;
	if (n && n > p->worker_cap) {
		char buf[POL_REASON * 2];
		struct sbuf b = { buf, sizeof(buf), 0 };
		sb_add(&b, "autoscale off, capped at %u by %s: %s", p->worker_cap,
		       pol_source_name(p->worker_cap_why.by), p->worker_cap_why.why);
		copy_text(buf, POL_REASON, buf);
		pol_why_set(&p->active_why, POL_SRC_AUTOSCALE, "%s", buf);
		n = p->worker_cap;
	} else {
		pol_why_set(&p->active_why, POL_SRC_AUTOSCALE, "autoscale off");
	}
	p->active_workers = n;
}

/* HPA's stabilizeRecommendationWithBehaviors: the lowest recommendation of
 * the up window and the highest of the down window (the current one
 * included) bound a move away from current. */
static uint32_t stabilize(const struct pol_config *c, const struct pol_inputs *in,
			  struct pol_autoscale_state *st, uint32_t current, uint32_t desired)
{
	uint32_t up = desired, down = desired;
	double up_cut = in->time - c->up_window_s, down_cut = in->time - c->down_window_s;
	for (size_t i = 0; i < st->n_recs; i++) {
		const struct pol_as_rec *r = rec_at(st, i);
		if (r->t > up_cut && r->n < up)
			up = r->n;
		if (r->t > down_cut && r->n > down)
			down = r->n;
	}
	uint32_t s = current;
	if (s < up)
		s = up;
	if (s > down)
		s = down;
	return s;
}

/* HPA's calculateScaleUpLimitWithScalingRules and
 * calculateScaleDownLimitWithBehaviors with selectPolicy Max (the policy
 * allowing the biggest change wins); a policy of 0 is not used, and a
 * direction with no policy is not rate limited. */
static uint32_t rate_limit(const struct pol_config *c, const struct pol_inputs *in,
			   struct pol_autoscale_state *st, uint32_t current, uint32_t want)
{
	if (want > current) {
		int64_t start = (int64_t)current - changed_since(st, in->time - c->up_period_s, true);
		bool any = false;
		int64_t lim = INT64_MIN;
		if (c->up_workers > 0) {
			lim = start + c->up_workers;
			any = true;
		}
		if (c->up_percent > 0) {
			int64_t pct = (int64_t)ceil((double)start * (1 + c->up_percent / 100) - EPS);
			if (pct > lim)
				lim = pct;
			any = true;
		}
		if (!any)
			return want;
		/* Changes of the period used it up: hold until they age out. */
		if (lim < current)
			lim = current;
		return (int64_t)want > lim ? (uint32_t)lim : want;
	}
	if (want < current) {
		int64_t start = (int64_t)current + changed_since(st, in->time - c->down_period_s, false);
		bool any = false;
		int64_t lim = INT64_MAX;
		if (c->down_workers > 0) {
			lim = start - c->down_workers;
			any = true;
		}
		if (c->down_percent > 0) {
			int64_t pct = (int64_t)floor((double)start * (1 - c->down_percent / 100) + EPS);
			if (pct < lim)
				lim = pct;
			any = true;
		}
		if (!any)
			return want;
		if (lim > current)
			lim = current;
		return (int64_t)want < lim ? (uint32_t)lim : want;
	}
	return want;
}

void pol_autoscale_step(const struct pol_config *c, const struct pol_inputs *in,
			struct pol_autoscale_state *st, struct pol_plan *p)
{
	if (!c->autoscale) {
		autoscale_off(in, st, p);
		return;
	}
	if (!in->workers) {
		/* Nothing started (or the daemon's figures are missing): leave. */
		p->active_workers = 0;
		pol_why_set(&p->active_why, POL_SRC_AUTOSCALE, "no workers started");
		return;
	}
	if (!isfinite(in->time)) {
		p->active_workers = 0;
		pol_note(p, POL_SRC_AUTOSCALE, "autoscale skipped: snapshot time unknown");
		return;
	}
	/* A replay restarted or the clock stepped back: entries from the
	 * "future" would sit in the windows for that much longer. Re-time them
	 * to now rather than drop them: forgetting a high recommendation would
	 * scale down at once. */
	if (newest_time(st) > in->time) {
		retime(st, in->time);
		pol_note(p, POL_SRC_AUTOSCALE, "time went backwards: autoscale history re-timed");
	}

	struct stages s;
	s.current = st->current ? st->current : in->active ? in->active : in->workers;
	bounds(c, in, &s.min, &s.max);

	struct metric m[3];
	if (metrics(c, in, s.current, m)) {
		s.desired = 0;
		for (int i = 0; i < 3; i++)
			if (m[i].on && m[i].proposal > s.desired)
				s.desired = m[i].proposal;
	} else {
		s.desired = s.current;
		pol_note(p, POL_SRC_AUTOSCALE, "no usable metrics: %s",
			 in->daemon_available ? "busy and queue p95 unknown or their targets 0"
					      : "daemon figures unavailable");
	}

	double longest_window = fmax(c->up_window_s, c->down_window_s);
	double longest_period = fmax(c->up_period_s, c->down_period_s);
	prune(st, in->time - longest_window, in->time - longest_period);

	/* The workers found at start count as recommended then: the daemon
	 * does not scale down before a whole down window has seen less. */
	if (!st->n_recs && !st->n_events)
		push_rec(st, in->time, s.current);
	s.stabilized = stabilize(c, in, st, s.current, s.desired);
	if (push_rec(st, in->time, s.desired))
		pol_note(p, POL_SRC_AUTOSCALE,
			 "recommendation history full: the stabilization window is shorter than "
			 "configured");
	s.limited = rate_limit(c, in, st, s.current, s.stabilized);
	s.bounded = s.limited;
	if (s.bounded < s.min)
		s.bounded = s.min;
	if (s.max && s.bounded > s.max)
		s.bounded = s.max;
	s.final = s.bounded;
	if (s.final > p->worker_cap)
		s.final = p->worker_cap;
	if (s.final < 1)
		s.final = 1;

	/* The change made, caps included, is what the rate policies count. */
	if (s.final != s.current)
		push_event(st, in->time, (int32_t)((int64_t)s.final - s.current));
	st->current = s.final;
	st->desired = s.desired;
	p->active_workers = s.final;
	explain(c, st, p, m, &s);
}

cJSON *pol_autoscale_json(const struct pol_config *c, const struct pol_inputs *in,
			  const struct pol_autoscale_state *st)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	uint32_t current = st->current;
	if (!current && in)
		current = in->active ? in->active : in->workers;
	uint32_t min, max;
	bounds(c, in, &min, &max);
	if (!cJSON_AddNumberToObject(o, "current", current) ||
	    !cJSON_AddNumberToObject(o, "desired", st->desired) ||
	    !cJSON_AddNumberToObject(o, "min", min) ||
	    !cJSON_AddNumberToObject(o, "max", max) ||
	    !cJSON_AddStringToObject(o, "metrics", st->metrics)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
