#include "policies/affinity.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = { "unknown", "performance", "efficiency" };

const char *pol_core_kind_name(enum pol_core_kind k)
{
	return (unsigned)k < 3 ? kind_names[k] : "?";
}

void pol_affinity_init(struct pol_affinity_state *st)
{
	memset(st, 0, sizeof(*st));
}

static const struct pol_cpu *find_cpu(const struct pol_inputs *in, int cpu)
{
	for (size_t i = 0; i < in->n_cpus; i++)
		if (in->cpus[i].cpu == cpu)
			return &in->cpus[i];
	return NULL;
}

/* cpu_capacity first (the scheduler's own view), hwloc's cpukinds next. */
static void classify(const struct pol_config *c, const struct pol_inputs *in,
		     struct pol_affinity_state *st)
{
	int max_cap = -1;
	for (size_t i = 0; i < in->n_cpus; i++)
		if (in->cpus[i].capacity > max_cap)
			max_cap = in->cpus[i].capacity;
	st->n = in->n_worker_cpus;
	bool perf = false, eff = false;
	for (size_t w = 0; w < st->n; w++) {
		const struct pol_cpu *cpu = find_cpu(in, in->worker_cpus[w]);
		enum pol_core_kind k = POL_CORE_UNKNOWN;
		if (cpu && cpu->capacity >= 0 && max_cap > 0)
			k = (uint64_t)cpu->capacity * 100 < (uint64_t)max_cap * c->efficiency_capacity_pct
				    ? POL_CORE_EFFICIENCY
				    : POL_CORE_PERFORMANCE;
		else if (in->worker_kind[w] == POL_CORE_PERFORMANCE ||
			 in->worker_kind[w] == POL_CORE_EFFICIENCY)
			k = (enum pol_core_kind)in->worker_kind[w];
		st->kind[w] = k;
		perf |= k == POL_CORE_PERFORMANCE;
		eff |= k == POL_CORE_EFFICIENCY;
	}
	st->hybrid = perf && eff;
}

static bool cpu_allowed(const struct pol_inputs *in, int cpu)
{
	for (size_t i = 0; i < in->n_allowed_cpus; i++)
		if (in->allowed_cpus[i] == cpu)
			return true;
	return false;
}

/* When the cpuset lost a worker's CPU (or workers crowd one CPU while
 * another allowed one is free), spread the workers over the allowed CPUs
 * in order. */
static void repin(const struct pol_inputs *in, struct pol_plan *p)
{
	if (!in->n_allowed_cpus || !in->n_worker_cpus)
		return;
	bool lost = false, crowded = false;
	size_t n = in->n_worker_cpus < POL_MAX_WORKERS ? in->n_worker_cpus : POL_MAX_WORKERS;
	for (size_t w = 0; w < n; w++) {
		if (in->worker_cpus[w] < 0)
			return; /* unpinned workers: nothing to keep apart */
		if (!cpu_allowed(in, in->worker_cpus[w]))
			lost = true;
		for (size_t v = 0; v < w; v++)
			if (in->worker_cpus[v] == in->worker_cpus[w])
				crowded = true;
	}
	if (crowded && !lost) {
		/* Crowded only matters when a free allowed CPU exists. */
		size_t used = 0;
		for (size_t a = 0; a < in->n_allowed_cpus; a++)
			for (size_t w = 0; w < n; w++)
				if (in->worker_cpus[w] == in->allowed_cpus[a]) {
					used++;
					break;
				}
		if (used == in->n_allowed_cpus)
			return;
	} else if (!lost) {
		return;
	}
	for (size_t w = 0; w < n; w++) {
		int to = in->allowed_cpus[w % in->n_allowed_cpus];
		if (to != in->worker_cpus[w])
			p->pin_cpu[w] = to;
	}
	pol_why_set(&p->placement_why, POL_SRC_AFFINITY,
		    "%s: %zu workers spread over the %zu CPUs of the daemon's cpuset",
		    lost ? "a worker's CPU left the cpuset" : "workers share a CPU while one is free",
		    n, in->n_allowed_cpus);
}

void pol_affinity_step(const struct pol_config *c, const struct pol_inputs *in,
		       struct pol_affinity_state *st, struct pol_plan *p)
{
	classify(c, in, st);
	size_t n = p->n_workers;
	for (size_t w = 0; w < n; w++) {
		p->accept[w] = POL_CLASS_ALL | POL_ACCEPT_HEAVY;
		p->pin_cpu[w] = -1;
	}
	if (!c->affinity) {
		if (!p->placement_why.set)
			pol_why_set(&p->placement_why, POL_SRC_AFFINITY, "affinity off: every worker takes every job");
		return;
	}
	repin(in, p);
	if (!st->hybrid) {
		if (!p->placement_why.set)
			pol_why_set(&p->placement_why, POL_SRC_AFFINITY,
				    "one kind of core: every worker takes every job");
		return;
	}
	for (size_t m = 0; m < in->n_models; m++)
		p->heavy[m] = c->heavy_ms > 0 && in->models[m].compute_p50_s * 1000 > c->heavy_ms;
	/* Which kinds have an active worker (the first active_workers stay). */
	size_t active = p->active_workers && p->active_workers < n ? p->active_workers : n;
	bool have[3] = { false, false, false };
	for (size_t w = 0; w < active; w++)
		have[st->kind[w]] = true;
	char fell[96] = "";
	for (size_t w = 0; w < n; w++) {
		uint32_t m = 0;
		enum pol_core_kind k = st->kind[w];
		for (int cls = 0; cls < 3; cls++) {
			enum pol_placement pl = c->place[cls];
			enum pol_core_kind want = pl == POL_PLACE_PERFORMANCE ? POL_CORE_PERFORMANCE
						  : pl == POL_PLACE_EFFICIENCY ? POL_CORE_EFFICIENCY
									       : POL_CORE_UNKNOWN;
			if (want == POL_CORE_UNKNOWN || want == k || !have[want])
				m |= 1u << cls;
			if (want != POL_CORE_UNKNOWN && !have[want] && !strstr(fell, pol_core_kind_name(want)))
				snprintf(fell + strlen(fell), sizeof(fell) - strlen(fell), "%sno active %s core",
					 fell[0] ? ", " : "", pol_core_kind_name(want));
		}
		/* Heavy models' jobs go to performance cores. */
		if (c->heavy_ms <= 0 || k != POL_CORE_EFFICIENCY || !have[POL_CORE_PERFORMANCE])
			m |= POL_ACCEPT_HEAVY;
		p->accept[w] = m;
	}
	if (!p->placement_why.set)
		pol_why_set(&p->placement_why, POL_SRC_AFFINITY,
			    "hybrid cores: interactive on %s, normal on %s, batch on %s; heavy models on "
			    "performance%s%s",
			    c->place[0] == POL_PLACE_ANY ? "any" : c->place[0] == POL_PLACE_PERFORMANCE ? "performance" : "efficiency",
			    c->place[1] == POL_PLACE_ANY ? "any" : c->place[1] == POL_PLACE_PERFORMANCE ? "performance" : "efficiency",
			    c->place[2] == POL_PLACE_ANY ? "any" : c->place[2] == POL_PLACE_PERFORMANCE ? "performance" : "efficiency",
			    fell[0] ? "; fallback: " : "", fell);
}

cJSON *pol_affinity_json(const struct pol_affinity_state *st, const struct pol_plan *p,
			 const struct pol_inputs *in)
{
	static const char *const cls[] = { "interactive", "normal", "batch" };
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "hybrid", st->hybrid);
	cJSON *a = cJSON_AddArrayToObject(o, "workers");
	for (size_t w = 0; w < st->n && w < p->n_workers; w++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "worker", (double)w);
		cJSON_AddNumberToObject(x, "cpu", in->worker_cpus[w]);
		cJSON_AddStringToObject(x, "kind", pol_core_kind_name(st->kind[w]));
		cJSON *acc = cJSON_AddArrayToObject(x, "accept");
		for (int k = 0; k < 3; k++)
			if (p->accept[w] & (1u << k))
				cJSON_AddItemToArray(acc, cJSON_CreateString(cls[k]));
		cJSON_AddBoolToObject(x, "heavy", (p->accept[w] & POL_ACCEPT_HEAVY) != 0);
		cJSON_AddItemToArray(a, x);
	}
	return o;
}
