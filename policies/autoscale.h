/* The autoscaler, with the Kubernetes HPA's algorithm over active workers:
 * for each metric (worker utilization, queue length per worker, p95 queue
 * time) desired = ceil(current × metric / target), skipped within the
 * tolerance; the largest wins; stabilization windows (the highest
 * recommendation over the down window, the lowest over the up window); rate
 * policies per period; min, max and the safety caps. Parked workers finish
 * their jobs first: the daemon never kills a running job. Pure: no I/O. */
#ifndef HWOPT_POL_AUTOSCALE_H
#define HWOPT_POL_AUTOSCALE_H

#include "policies/plan.h"

#define POL_AS_HISTORY 512

struct pol_as_rec { double t; uint32_t n; };     /* a recommendation */
struct pol_as_event { double t; int32_t delta; }; /* a change made */

struct pol_autoscale_state {
	uint32_t current;          /* active workers as the autoscaler last set (0: not yet) */
	uint32_t desired;          /* the last unbounded recommendation */
	struct pol_as_rec recs[POL_AS_HISTORY];
	size_t n_recs, recs_head;
	struct pol_as_event events[POL_AS_HISTORY];
	size_t n_events, events_head;
	char metrics[POL_REASON];  /* the last metrics and proposals, for policy.get */
};

void pol_autoscale_init(struct pol_autoscale_state *st);
void pol_autoscale_step(const struct pol_config *c, const struct pol_inputs *in,
			struct pol_autoscale_state *st, struct pol_plan *p);
/* {current, desired, min, max, metrics} */
cJSON *pol_autoscale_json(const struct pol_config *c, const struct pol_inputs *in,
			  const struct pol_autoscale_state *st);

#endif
