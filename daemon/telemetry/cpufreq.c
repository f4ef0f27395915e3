/* cpufreq: per-CPU frequencies, limits, governor and energy-performance
 * preference from devices/system/cpu/cpuN/cpufreq/, and cpu_capacity so
 * that policies can tell P-cores from E-cores.
 *
 * Offline CPUs are listed with "online": false and no frequency fields:
 * their policy is inactive and the kernel answers EBUSY. A file that is
 * garbage or unreadable leaves its field out and is named in the CPU's
 * "errors"; an optional file (energy_performance_preference,
 * cpuinfo_cur_freq, cpu_capacity) that is absent is just left out. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/prom.h"
#include "daemon/telemetry/fs.h"
#include "daemon/telemetry/source.h"

#define CPU_DIR "devices/system/cpu"
#define MAX_CPUS 65536
/* Samples between re-reads of what does not change while a CPU stays
 * online (hardware limits, capacity, driver): each read is a syscall
 * triplet, and a laptop has dozens of them per sample. */
#define REFRESH 60

struct cf_cpu {
	int cpu;
	bool filled, online;   /* the statics below are for this online state */
	int cap_rc, hw_min_rc, hw_max_rc;
	uint64_t cap, hw_min_hz, hw_max_hz;
	int epp_rc;            /* -ENOENT: the driver has no EPP, stop asking */
};

struct cf_priv {
	struct cf_cpu *cpus;   /* sorted by number */
	size_t n, cap;
	int *scan;             /* this sample's directory listing */
	size_t scan_n, scan_cap;
	unsigned samples;
	bool driver_ok, epp_avail_done, gov_avail_done;
	char driver[64];
	char epp_avail[512];
	char gov_avail[512];
};

/* --- helpers ------------------------------------------------------------------ */

static void add_error(cJSON *o, const char *file, int rc)
{
	cJSON *errs = cJSON_GetObjectItemCaseSensitive(o, "errors");
	if (!errs)
		errs = cJSON_AddArrayToObject(o, "errors");
	char msg[128];
	snprintf(msg, sizeof(msg), "%s: %s", file, tm_strerror(rc));
	cJSON *m = cJSON_CreateString(msg);
	if (!cJSON_IsArray(errs) || !cJSON_AddItemToArray(errs, m))
		cJSON_Delete(m);
}

/* "cpu12" -> 12; -1 for anything else (cpufreq, cpuidle, online...). */
static int cpu_number(const char *name)
{
	uint64_t v;
	if (strncmp(name, "cpu", 3) || !name[3] || (name[3] == '0' && name[4]))
		return -1;
	for (const char *p = name + 3; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	if (tm_parse_u64(name + 3, &v) < 0 || v >= (1u << 20))
		return -1;
	return (int)v;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int list_cpus(struct cf_priv *pv, const char *root)
{
	DIR *d = tm_opendir(root, CPU_DIR);
	if (!d)
		return -errno;
	pv->scan_n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		int cpu = cpu_number(de->d_name);
		if (cpu < 0)
			continue;
		if (pv->scan_n == pv->scan_cap) {
			size_t nc = pv->scan_cap ? pv->scan_cap * 2 : 64;
			int *nv = nc <= MAX_CPUS ? realloc(pv->scan, nc * sizeof(*nv)) : NULL;
			if (!nv)
				break;
			pv->scan = nv;
			pv->scan_cap = nc;
		}
		pv->scan[pv->scan_n++] = cpu;
	}
	closedir(d);
	qsort(pv->scan, pv->scan_n, sizeof(*pv->scan), cmp_int);
	return 0;
}

/* Makes pv->cpus follow the listing; the cache survives only when the set
 * of CPUs is the same. */
static int sync_cpus(struct cf_priv *pv)
{
	bool same = pv->n == pv->scan_n;
	for (size_t i = 0; same && i < pv->n; i++)
		same = pv->cpus[i].cpu == pv->scan[i];
	if (same)
		return 0;
	if (pv->scan_n > pv->cap) {
		struct cf_cpu *nv = realloc(pv->cpus, pv->scan_n * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		pv->cpus = nv;
		pv->cap = pv->scan_n;
	}
	pv->n = pv->scan_n;
	for (size_t i = 0; i < pv->n; i++)
		pv->cpus[i] = (struct cf_cpu){ .cpu = pv->scan[i] };
	pv->driver_ok = pv->epp_avail_done = pv->gov_avail_done = false;
	return 0;
}

/* Whether cpu is in a kernel CPU list such as "0-3,5,8-11". */
static bool in_cpu_list(const char *list, int cpu)
{
	const char *p = list;
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b = a;
		if (end == p)
			return false;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p)
				return false;
		}
		if (cpu >= a && cpu <= b)
			return true;
		if (*end != ',')
			return false;
		p = end + 1;
	}
	return false;
}

/* From the system's online list (one read for all), else cpuN/online;
 * a CPU with neither (cpu0 on many x86 kernels) cannot go offline. */
static bool cpu_online(const char *root, int cpu, const char *online_list)
{
	char rel[64];
	uint64_t v;
	if (online_list)
		return in_cpu_list(online_list, cpu);
	snprintf(rel, sizeof(rel), CPU_DIR "/cpu%d/online", cpu);
	return tm_read_u64(root, rel, &v) < 0 || v != 0;
}

static bool has_cpufreq_dir(const char *root, int cpu)
{
	char rel[64], path[4096];
	struct stat st;
	snprintf(rel, sizeof(rel), CPU_DIR "/cpu%d/cpufreq", cpu);
	return tm_path(path, sizeof(path), root, rel) == 0 && stat(path, &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

static int read_khz(const char *root, const char *dir, const char *file, uint64_t *hz)
{
	char rel[128];
	uint64_t khz;
	snprintf(rel, sizeof(rel), "%s/%s", dir, file);
	int rc = tm_read_u64(root, rel, &khz);
	if (rc == 0 && khz > UINT64_MAX / 1000)
		rc = -EINVAL;
	*hz = khz * 1000;
	return rc;
}

/* A value read now or cached: into o[key], or into the CPU's errors.
 * Absent optional files are not errors. */
static void put_u64(cJSON *o, const char *key, const char *file, int rc, uint64_t v,
		    bool optional)
{
	if (rc == 0)
		cJSON_AddNumberToObject(o, key, (double)v);
	else if (!(optional && rc == -ENOENT))
		add_error(o, file, rc);
}

static int add_khz(cJSON *o, const char *root, const char *dir, const char *file,
		   const char *key, bool optional)
{
	uint64_t hz = 0;
	int rc = read_khz(root, dir, file, &hz);
	put_u64(o, key, file, rc, hz, optional);
	return rc;
}

static int add_str(cJSON *o, const char *root, const char *dir, const char *file,
		   const char *key, bool optional)
{
	char rel[128], buf[128];
	snprintf(rel, sizeof(rel), "%s/%s", dir, file);
	int rc = tm_read_str(root, rel, buf, sizeof(buf));
	if (rc == 0)
		cJSON_AddStringToObject(o, key, buf);
	else if (!(optional && rc == -ENOENT))
		add_error(o, file, rc);
	return rc;
}

/* "default performance balance_performance balance_power power" */
static void add_word_list(cJSON *out, const char *key, const char *words)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", words);
	cJSON *arr = cJSON_AddArrayToObject(out, key);
	for (char *save = NULL, *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		cJSON_AddItemToArray(arr, cJSON_CreateString(w));
}

/* --- sampling --------------------------------------------------------------------- */

static void fill_static(struct cf_cpu *c, const char *root, bool online, bool has_dir)
{
	char rel[64], dir[64];
	snprintf(rel, sizeof(rel), CPU_DIR "/cpu%d/cpu_capacity", c->cpu);
	c->cap_rc = tm_read_u64(root, rel, &c->cap);
	snprintf(dir, sizeof(dir), CPU_DIR "/cpu%d/cpufreq", c->cpu);
	c->hw_min_rc = c->hw_max_rc = -ENOENT;
	if (online && has_dir) {
		c->hw_min_rc = read_khz(root, dir, "cpuinfo_min_freq", &c->hw_min_hz);
		c->hw_max_rc = read_khz(root, dir, "cpuinfo_max_freq", &c->hw_max_hz);
	}
	c->epp_rc = 0;
	c->online = online;
	c->filled = true;
}

/* What can change any time: the current frequency, the policy's limits,
 * governor and preference. */
static void sample_policy(struct cf_priv *pv, struct cf_cpu *c, cJSON *o, const char *root,
			  cJSON *epp_cpus)
{
	char dir[64], rel[128];
	snprintf(dir, sizeof(dir), CPU_DIR "/cpu%d/cpufreq", c->cpu);
	/* scaling_cur_freq is the kernel's current estimate; drivers without
	 * it only offer cpuinfo_cur_freq (the hardware's view). */
	if (add_khz(o, root, dir, "scaling_cur_freq", "cur_hz", true) == -ENOENT &&
	    add_khz(o, root, dir, "cpuinfo_cur_freq", "cur_hz", true) == -ENOENT)
		add_error(o, "scaling_cur_freq", -ENOENT);
	add_khz(o, root, dir, "scaling_min_freq", "min_hz", false);
	add_khz(o, root, dir, "scaling_max_freq", "max_hz", false);
	put_u64(o, "hw_min_hz", "cpuinfo_min_freq", c->hw_min_rc, c->hw_min_hz, false);
	put_u64(o, "hw_max_hz", "cpuinfo_max_freq", c->hw_max_rc, c->hw_max_hz, false);
	add_str(o, root, dir, "scaling_governor", "governor", false);
	if (c->epp_rc != -ENOENT) {
		c->epp_rc = add_str(o, root, dir, "energy_performance_preference", "epp", true);
		if (c->epp_rc == 0)
			cJSON_AddItemToArray(epp_cpus, cJSON_CreateNumber(c->cpu));
	}
	if (!pv->driver_ok) {
		snprintf(rel, sizeof(rel), "%s/scaling_driver", dir);
		pv->driver_ok = tm_read_str(root, rel, pv->driver, sizeof(pv->driver)) == 0;
	}
	if (!pv->gov_avail_done) {
		snprintf(rel, sizeof(rel), "%s/scaling_available_governors", dir);
		if (tm_read_str(root, rel, pv->gov_avail, sizeof(pv->gov_avail)) < 0)
			pv->gov_avail[0] = '\0';
		pv->gov_avail_done = true;
	}
	if (!pv->epp_avail_done && c->epp_rc == 0) {
		snprintf(rel, sizeof(rel), "%s/energy_performance_available_preferences", dir);
		if (tm_read_str(root, rel, pv->epp_avail, sizeof(pv->epp_avail)) < 0)
			pv->epp_avail[0] = '\0';
		pv->epp_avail_done = true;
	}
}

/* Returns whether the CPU has a cpufreq directory. */
static bool sample_cpu(struct cf_priv *pv, struct cf_cpu *c, cJSON *cpus, const char *root,
		       const char *online_list, cJSON *epp_cpus)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "cpu", c->cpu);
	bool online = cpu_online(root, c->cpu, online_list);
	bool has_dir = has_cpufreq_dir(root, c->cpu);
	if (!c->filled || c->online != online)
		fill_static(c, root, online, has_dir);
	cJSON_AddBoolToObject(o, "online", online);
	put_u64(o, "capacity", "cpu_capacity", c->cap_rc, c->cap, true);
	if (online && has_dir)
		sample_policy(pv, c, o, root, epp_cpus);
	cJSON_AddItemToArray(cpus, o);
	return has_dir;
}

static int cf_init(struct tm_source *s, char *reason, size_t rl)
{
	s->priv = calloc(1, sizeof(struct cf_priv));
	if (!s->priv) {
		snprintf(reason, rl, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int cf_sample(struct tm_source *s, uint64_t now_ns, cJSON *out, char *reason, size_t rl)
{
	struct cf_priv *pv = s->priv;
	const char *root = s->env->sysfs_root;
	char path[4096];
	if (tm_path(path, sizeof(path), root, CPU_DIR) < 0)
		snprintf(path, sizeof(path), "%s", CPU_DIR);
	int rc = list_cpus(pv, root);
	if (rc == 0)
		rc = sync_cpus(pv);
	if (rc < 0) {
		snprintf(reason, rl, "cannot list %s: %s", path, tm_strerror(rc));
		return rc;
	}
	if (!pv->n) {
		snprintf(reason, rl, "no CPUs in %s", path);
		return -ENOENT;
	}
	if (pv->samples++ % REFRESH == 0) {
		for (size_t i = 0; i < pv->n; i++)
			pv->cpus[i].filled = false;
		pv->driver_ok = pv->epp_avail_done = pv->gov_avail_done = false;
	}
	char online_buf[1024];
	const char *online_list =
		tm_read_str(root, CPU_DIR "/online", online_buf, sizeof(online_buf)) == 0 ? online_buf
											   : NULL;
	cJSON *cpus = cJSON_AddArrayToObject(out, "cpus");
	cJSON *epp_cpus = cJSON_CreateArray();
	size_t with_cpufreq = 0;
	for (size_t i = 0; i < pv->n; i++)
		with_cpufreq += sample_cpu(pv, &pv->cpus[i], cpus, root, online_list, epp_cpus);
	if (!with_cpufreq) {
		cJSON_Delete(epp_cpus);
		snprintf(reason, rl, "no cpufreq in %s (the kernel exposes no frequency scaling here)",
			 path);
		return -ENOENT;
	}
	if (pv->driver_ok)
		cJSON_AddStringToObject(out, "driver", pv->driver);
	if (pv->epp_avail_done && pv->epp_avail[0])
		add_word_list(out, "epp_available", pv->epp_avail);
	if (pv->gov_avail_done && pv->gov_avail[0])
		add_word_list(out, "governors_available", pv->gov_avail);
	cJSON_AddItemToObject(out, "epp_cpus", epp_cpus);
	return 0;
}

static void cf_fini(struct tm_source *s)
{
	struct cf_priv *pv = s->priv;
	if (!pv)
		return;
	free(pv->cpus);
	free(pv->scan);
	free(pv);
	s->priv = NULL;
}

/* --- metrics ------------------------------------------------------------------------ */

static const struct {
	const char *key, *name, *help;
} hz_families[] = {
	{ "cur_hz", "hwopt_cpu_scaling_frequency_hertz", "Current frequency of the CPU." },
	{ "min_hz", "hwopt_cpu_scaling_frequency_min_hertz", "Lowest frequency the policy allows." },
	{ "max_hz", "hwopt_cpu_scaling_frequency_max_hertz", "Highest frequency the policy allows." },
	{ "hw_min_hz", "hwopt_cpu_frequency_min_hertz", "Lowest frequency of the hardware." },
	{ "hw_max_hz", "hwopt_cpu_frequency_max_hertz", "Highest frequency of the hardware." },
};

static void cpu_series(const cJSON *c, struct prom *p)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "cpu");
	if (!cJSON_IsNumber(n))
		return;
	char cpu[16];
	snprintf(cpu, sizeof(cpu), "%d", n->valueint);
	prom_sample(p, "hwopt_cpu_online", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "online")),
		    "cpu", cpu, NULL);
	for (size_t i = 0; i < sizeof(hz_families) / sizeof(hz_families[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, hz_families[i].key);
		if (cJSON_IsNumber(v))
			prom_sample(p, hz_families[i].name, v->valuedouble, "cpu", cpu, NULL);
	}
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "capacity");
	if (cJSON_IsNumber(v))
		prom_sample(p, "hwopt_cpu_capacity", v->valuedouble, "cpu", cpu, NULL);
	v = cJSON_GetObjectItemCaseSensitive(c, "governor");
	if (cJSON_IsString(v))
		prom_sample(p, "hwopt_cpu_scaling_governor", 1, "cpu", cpu, "governor",
			    v->valuestring, NULL);
	v = cJSON_GetObjectItemCaseSensitive(c, "epp");
	if (cJSON_IsString(v))
		prom_sample(p, "hwopt_cpu_energy_performance_preference_info", 1, "cpu", cpu,
			    "preference", v->valuestring, NULL);
}

static void cf_metrics(const cJSON *part, struct prom *p)
{
	for (size_t i = 0; i < sizeof(hz_families) / sizeof(hz_families[0]); i++)
		prom_family(p, hz_families[i].name, PROM_GAUGE, hz_families[i].help);
	prom_family(p, "hwopt_cpu_online", PROM_GAUGE, "Whether the CPU is online.");
	prom_family(p, "hwopt_cpu_capacity", PROM_GAUGE,
		    "The CPU's capacity relative to the fastest CPU's 1024.");
	prom_family(p, "hwopt_cpu_scaling_governor", PROM_GAUGE,
		    "The CPU's cpufreq governor (value 1).");
	prom_family(p, "hwopt_cpu_energy_performance_preference_info", PROM_GAUGE,
		    "The CPU's energy-performance preference (value 1).");
	prom_family(p, "hwopt_cpufreq_driver_info", PROM_GAUGE, "The cpufreq driver (value 1).");
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(part, "cpus"))
		cpu_series(c, p);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(part, "driver");
	if (cJSON_IsString(d))
		prom_sample(p, "hwopt_cpufreq_driver_info", 1, "driver", d->valuestring, NULL);
}

const struct tm_source_ops tm_cpufreq = {
	.name = "cpufreq",
	.init = cf_init,
	.sample = cf_sample,
	.metrics = cf_metrics,
	.fini = cf_fini,
};
