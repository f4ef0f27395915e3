#include "policies/profile.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* --- style ------------------------------------------------------------------------------ */

static const char *const style_names[] = { "none", "epp", "governor" };

const char *pol_cpufreq_style_name(enum pol_cpufreq_style s)
{
	return (unsigned)s <= POL_STYLE_GENERIC ? style_names[s] : "?";
}

static bool any_cpu_epp(const struct pol_inputs *in)
{
	for (size_t i = 0; i < in->n_cpus; i++)
		if (in->cpus[i].epp[0] != '\0')
			return true;
	return false;
}

static bool any_cpu_governor(const struct pol_inputs *in)
{
	for (size_t i = 0; i < in->n_cpus; i++)
		if (in->cpus[i].governor[0] != '\0')
			return true;
	return false;
}

enum pol_cpufreq_style pol_cpufreq_style(const struct pol_inputs *in)
{
	if (!in->cpufreq_available || in->n_cpus == 0)
		return POL_STYLE_NONE;
	/* EPP counts only with the active-mode drivers; intel_cpufreq (passive
	 * intel_pstate) and amd-pstate (guided/passive) take governors. */
	bool epp_driver = strcmp(in->driver, "intel_pstate") == 0 ||
			  strcmp(in->driver, "amd-pstate-epp") == 0;
	if (epp_driver && in->n_epp_choices > 0 && any_cpu_epp(in))
		return POL_STYLE_EPP;
	if (in->driver[0] != '\0' || in->n_governor_choices > 0 ||
	    any_cpu_governor(in))
		return POL_STYLE_GENERIC;
	return POL_STYLE_NONE;
}

/* --- profile in force -------------------------------------------------------------------- */

void pol_profile_step(const struct pol_config *c, const struct pol_inputs *in,
		      enum pol_profile base, const struct pol_holds *h, struct pol_plan *p)
{
	(void)c;
	(void)in;
	/* Safety first, then power-profiles-daemon's rule: a power-saver hold
	 * beats a performance one, and any hold beats the base. */
	if (p->force_power_saver) {
		p->profile = POL_POWER_SAVER;
		pol_why_set(&p->profile_why, p->force_why.by, "%s", p->force_why.why);
	} else if (h && h->power_saver > 0) {
		p->profile = POL_POWER_SAVER;
		pol_why_set(&p->profile_why, POL_SRC_PROFILE, "a power-saver hold");
	} else if (h && h->performance > 0) {
		p->profile = POL_PERFORMANCE;
		pol_why_set(&p->profile_why, POL_SRC_PROFILE, "a performance hold");
	} else {
		p->profile = base;
		pol_why_set(&p->profile_why, POL_SRC_PROFILE, "base profile");
	}
}

/* --- EPP ---------------------------------------------------------------------------------- */

enum { EPP_POWER, EPP_BALANCE_POWER, EPP_BALANCE_PERFORMANCE, EPP_PERFORMANCE, EPP_N };

static const char *const epp_ladder[EPP_N] = {
	"power", "balance_power", "balance_performance", "performance",
};

/* [profile][on battery][dvfs level: idle, normal, boost] */
static const unsigned char epp_table[POL_N_PROFILES][2][3] = {
	[POL_POWER_SAVER] = {
		{ EPP_POWER, EPP_POWER, EPP_POWER },
		{ EPP_POWER, EPP_POWER, EPP_POWER },
	},
	[POL_BALANCED] = {
		{ EPP_BALANCE_POWER, EPP_BALANCE_PERFORMANCE, EPP_PERFORMANCE },
		/* on battery, balanced leans to power */
		{ EPP_POWER, EPP_BALANCE_POWER, EPP_BALANCE_PERFORMANCE },
	},
	[POL_PERFORMANCE] = {
		{ EPP_BALANCE_PERFORMANCE, EPP_PERFORMANCE, EPP_PERFORMANCE },
		{ EPP_BALANCE_PERFORMANCE, EPP_PERFORMANCE, EPP_PERFORMANCE },
	},
};

static bool in_list(const char (*list)[POL_WORD], size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* The wanted rung if the driver offers it, else the nearest one it does
 * (towards power on a tie: never spend more than asked); NULL if none. */
static const char *epp_pick(const struct pol_inputs *in, unsigned want)
{
	for (int d = 0; d < EPP_N; d++) {
		int lo = (int)want - d, hi = (int)want + d;
		if (lo >= 0 && in_list(in->epp_choices, in->n_epp_choices, epp_ladder[lo]))
			return epp_ladder[lo];
		if (hi < EPP_N && in_list(in->epp_choices, in->n_epp_choices, epp_ladder[hi]))
			return epp_ladder[hi];
	}
	return NULL;
}

/* --- helpers ------------------------------------------------------------------------------- */

static const char *level_name(enum pol_dvfs_level l)
{
	switch (l) {
	case POL_DVFS_IDLE: return "idle";
	case POL_DVFS_NORMAL: return "normal";
	case POL_DVFS_BOOST: return "boost";
	}
	return "?";
}

/* The lowest of the ratios that apply, and what set it. */
struct limit {
	double ratio;
	const char *what;
};

static void limit_by(struct limit *l, double ratio, const char *what)
{
	if (!isnan(ratio) && ratio < l->ratio) {
		l->ratio = ratio;
		l->what = what;
	}
}

static const char *cap_source(const struct pol_plan *p)
{
	return p->freq_cap.set ? pol_source_name(p->freq_cap.by) : "cap";
}

/* hw max × ratio, in whole kHz (sysfs takes kHz), never below hw min;
 * NAN when the CPU is offline or its range is unknown. */
static double target_hz(const struct pol_cpu *cpu, double ratio)
{
	if (!cpu->online || isnan(cpu->hw_max_hz) || cpu->hw_max_hz <= 0)
		return NAN;
	if (ratio > 1)
		ratio = 1;
	double hz = round(cpu->hw_max_hz * ratio / 1000.0) * 1000.0;
	if (!isnan(cpu->hw_min_hz) && hz < cpu->hw_min_hz)
		hz = cpu->hw_min_hz;
	return hz;
}

/* ", max 60% of 4.7 GHz (thermal)" or "" when not capped */
static void fmt_max(char *buf, size_t len, const struct pol_cpu *cpu, const struct limit *l)
{
	buf[0] = '\0';
	if (l->ratio < 1 && !isnan(cpu->hw_max_hz))
		snprintf(buf, len, ", max %.0f%% of %.1f GHz (%s)", l->ratio * 100,
			 cpu->hw_max_hz / 1e9, l->what);
}

static void set_word(char *dst, const char *src)
{
	snprintf(dst, POL_WORD, "%s", src ? src : "");
}

/* --- styles -------------------------------------------------------------------------------- */

static void targets_epp(const struct pol_inputs *in, struct pol_plan *p, bool battery,
			const char *ctx)
{
	unsigned want = epp_table[p->profile][battery][p->dvfs_level];
	const char *epp = epp_pick(in, want);
	/* intel_pstate and amd-pstate-epp ignore EPP under the performance
	 * governor: powersave is what lets EPP count. */
	const char *gov = in->n_governor_choices == 0 ||
			  in_list(in->governor_choices, in->n_governor_choices, "powersave")
			  ? "powersave" : NULL;
	/* The hardware picks the frequency; only the safety caps bound it, and
	 * without them the full range is restored. */
	struct limit l = { 1.0, NULL };
	limit_by(&l, p->freq_cap_ratio, cap_source(p));
	limit_by(&l, p->mem_cap_ratio, "memory-bound");

	for (size_t i = 0; i < p->n_cpu && i < in->n_cpus; i++) {
		const struct pol_cpu *cpu = &in->cpus[i];
		struct pol_cpu_target *t = &p->cpu[i];
		if (!cpu->online) {
			pol_why_set(&t->why, POL_SRC_PROFILE, "offline: left alone");
			continue;
		}
		set_word(t->governor, gov);
		if (cpu->epp[0] != '\0')
			set_word(t->epp, epp);
		t->max_hz = target_hz(cpu, l.ratio);
		char max[64];
		fmt_max(max, sizeof(max), cpu, &l);
		if (epp && cpu->epp[0] != '\0')
			pol_why_set(&t->why, POL_SRC_PROFILE, "%s: EPP %s%s%s", ctx, epp,
				    strcmp(epp, epp_ladder[want]) != 0 ? " (nearest offered)" : "", max);
		else
			pol_why_set(&t->why, POL_SRC_PROFILE, "%s: no usable EPP%s", ctx, max);
	}
}

static const char *generic_governor(const struct pol_inputs *in, enum pol_profile prof)
{
	static const char *const saving[] = { "schedutil", "ondemand", "conservative", "powersave" };
	if (in->n_governor_choices == 0)
		return NULL; /* cannot tell what is offered: keep the current one */
	if (prof == POL_PERFORMANCE)
		return in_list(in->governor_choices, in->n_governor_choices, "performance")
		       ? "performance" : NULL;
	for (size_t i = 0; i < sizeof(saving) / sizeof(saving[0]); i++)
		if (in_list(in->governor_choices, in->n_governor_choices, saving[i]))
			return saving[i];
	return NULL;
}

static void targets_generic(const struct pol_config *c, const struct pol_inputs *in,
			    struct pol_plan *p, const char *ctx)
{
	const char *gov = generic_governor(in, p->profile);
	struct limit l = { 1.0, NULL };
	if (p->profile == POL_POWER_SAVER)
		limit_by(&l, c->power_saver_freq_ratio, "power-saver");
	if (p->dvfs_level == POL_DVFS_IDLE && p->profile != POL_PERFORMANCE)
		limit_by(&l, c->idle_freq_ratio, "idle");
	limit_by(&l, p->freq_cap_ratio, cap_source(p));
	limit_by(&l, p->mem_cap_ratio, "memory-bound");

	for (size_t i = 0; i < p->n_cpu && i < in->n_cpus; i++) {
		const struct pol_cpu *cpu = &in->cpus[i];
		struct pol_cpu_target *t = &p->cpu[i];
		if (!cpu->online) {
			pol_why_set(&t->why, POL_SRC_PROFILE, "offline: left alone");
			continue;
		}
		set_word(t->governor, gov);
		t->max_hz = target_hz(cpu, l.ratio);
		char max[64];
		fmt_max(max, sizeof(max), cpu, &l);
		pol_why_set(&t->why, POL_SRC_PROFILE, "%s: %s%s", ctx,
			    gov ? gov : "governor kept", max);
	}
}

static void platform_target(const struct pol_inputs *in, struct pol_plan *p)
{
	static const char *const prefs[POL_N_PROFILES][4] = {
		[POL_POWER_SAVER] = { "low-power", "quiet", "cool", NULL },
		[POL_BALANCED] = { "balanced", NULL },
		[POL_PERFORMANCE] = { "performance", "balanced-performance", NULL },
	};
	p->platform_profile[0] = '\0';
	if (!in->platform_profile_available)
		return;
	for (size_t i = 0; prefs[p->profile][i]; i++) {
		const char *s = prefs[p->profile][i];
		if (in_list(in->platform_choices, in->n_platform_choices, s)) {
			set_word(p->platform_profile, s);
			pol_why_set(&p->platform_why, POL_SRC_PROFILE, "%s: %s",
				    pol_profile_name(p->profile), s);
			return;
		}
	}
	pol_note(p, POL_SRC_PROFILE, "platform_profile: no choice fits %s",
		 pol_profile_name(p->profile));
}

void pol_cpufreq_targets(const struct pol_config *c, const struct pol_inputs *in,
			 struct pol_plan *p)
{
	if ((unsigned)p->profile >= POL_N_PROFILES)
		p->profile = POL_BALANCED;
	if ((unsigned)p->dvfs_level > POL_DVFS_BOOST)
		p->dvfs_level = POL_DVFS_NORMAL;
	platform_target(in, p);

	bool battery = pol_on_battery(in);
	char ctx[64];
	snprintf(ctx, sizeof(ctx), "%s%s, %s", pol_profile_name(p->profile),
		 battery ? " on battery" : "", level_name(p->dvfs_level));

	switch (pol_cpufreq_style(in)) {
	case POL_STYLE_EPP:
		targets_epp(in, p, battery, ctx);
		break;
	case POL_STYLE_GENERIC:
		targets_generic(c, in, p, ctx);
		break;
	case POL_STYLE_NONE:
		if (in->cpufreq_available)
			pol_note(p, POL_SRC_PROFILE,
				 "cpufreq targets skipped: no driver or governors reported");
		break;
	}
}
