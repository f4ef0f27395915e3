#include "policies/plan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const source_names[POL_N_SRC] = {
	"thermal", "battery", "profile", "dvfs", "autoscale", "affinity",
};

const char *pol_source_name(enum pol_source s)
{
	return (unsigned)s < POL_N_SRC ? source_names[s] : "?";
}

void pol_plan_init(struct pol_plan *p, const struct pol_inputs *in, enum pol_profile base)
{
	memset(p, 0, sizeof(*p));
	p->freq_cap_ratio = 1.0;
	p->worker_cap = UINT32_MAX;
	p->classes = POL_CLASS_ALL;
	p->profile = base;
	p->dvfs_level = POL_DVFS_NORMAL;
	p->mem_cap_ratio = 1.0;
	p->n_cpu = in->n_cpus;
	for (size_t i = 0; i < p->n_cpu; i++)
		p->cpu[i].max_hz = NAN;
	p->n_workers = in->n_worker_cpus;
	for (size_t i = 0; i < p->n_workers; i++) {
		p->accept[i] = POL_CLASS_ALL | POL_ACCEPT_HEAVY;
		p->pin_cpu[i] = -1;
	}
}

static void vset(struct pol_why *w, enum pol_source by, const char *fmt, va_list ap)
{
	w->set = true;
	w->by = by;
	vsnprintf(w->why, sizeof(w->why), fmt, ap);
}

void pol_why_set(struct pol_why *w, enum pol_source by, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(w, by, fmt, ap);
	va_end(ap);
}

void pol_cap_freq(struct pol_plan *p, double ratio, enum pol_source by, const char *fmt, ...)
{
	if (!(ratio < p->freq_cap_ratio))
		return;
	p->freq_cap_ratio = ratio;
	va_list ap;
	va_start(ap, fmt);
	vset(&p->freq_cap, by, fmt, ap);
	va_end(ap);
}

void pol_cap_workers(struct pol_plan *p, uint32_t n, enum pol_source by, const char *fmt, ...)
{
	if (n < 1)
		n = 1;
	if (n >= p->worker_cap)
		return;
	p->worker_cap = n;
	va_list ap;
	va_start(ap, fmt);
	vset(&p->worker_cap_why, by, fmt, ap);
	va_end(ap);
}

void pol_restrict_classes(struct pol_plan *p, uint32_t allowed, enum pol_source by,
			  const char *fmt, ...)
{
	/* Interactive jobs always run: the strictest cap still serves them. */
	uint32_t next = (p->classes & allowed) | POL_CLASS_INTERACTIVE;
	if (next == p->classes)
		return;
	p->classes = next;
	va_list ap;
	va_start(ap, fmt);
	vset(&p->classes_why, by, fmt, ap);
	va_end(ap);
}

void pol_force_power_saver(struct pol_plan *p, enum pol_source by, const char *fmt, ...)
{
	if (p->force_power_saver)
		return;
	p->force_power_saver = true;
	va_list ap;
	va_start(ap, fmt);
	vset(&p->force_why, by, fmt, ap);
	va_end(ap);
}

void pol_note(struct pol_plan *p, enum pol_source by, const char *fmt, ...)
{
	if (p->n_notes >= POL_MAX_NOTES)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->notes[p->n_notes], sizeof(p->notes[0]), fmt, ap);
	va_end(ap);
	p->note_by[p->n_notes++] = by;
}
