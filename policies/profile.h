/* Profiles with power-profiles-daemon's semantics. The profile in force is
 * the base (profile.set), unless a hold asks otherwise (a power-saver hold
 * beats a performance one) or a safety policy forces power-saver. It is
 * then turned into per-CPU settings: EPP drivers (intel_pstate, amd-pstate-
 * epp in active mode) get governor powersave and an EPP from the profile's
 * ladder (balanced on battery leans to power); generic cpufreq gets a
 * governor and scaling_max_freq; platform_profile follows when present.
 * DVFS levels and frequency caps are applied here too. Pure: no I/O. */
#ifndef HWOPT_POL_PROFILE_H
#define HWOPT_POL_PROFILE_H

#include "policies/plan.h"

struct pol_holds {
	uint32_t power_saver, performance; /* live holds of each kind */
};

/* How the CPUs are driven. */
enum pol_cpufreq_style { POL_STYLE_NONE, POL_STYLE_EPP, POL_STYLE_GENERIC };
enum pol_cpufreq_style pol_cpufreq_style(const struct pol_inputs *in);
const char *pol_cpufreq_style_name(enum pol_cpufreq_style s); /* none, epp, governor */

/* Decides p->profile and p->profile_why from base, holds, and
 * p->force_power_saver (set by thermal and battery before). */
void pol_profile_step(const struct pol_config *c, const struct pol_inputs *in,
		      enum pol_profile base, const struct pol_holds *h, struct pol_plan *p);

/* Fills p->cpu[] (governor, EPP, max_hz) and p->platform_profile from
 * p->profile, p->dvfs_level, on battery or not, and the frequency caps
 * (min of p->freq_cap_ratio, p->mem_cap_ratio and the profile's own). Runs
 * after the DVFS step. */
void pol_cpufreq_targets(const struct pol_config *c, const struct pol_inputs *in,
			 struct pol_plan *p);

#endif
