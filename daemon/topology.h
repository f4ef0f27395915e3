/* The machine's topology (packages, cores, PUs, caches, NUMA nodes, core
 * kinds) from hwloc, plus the CPU features libhwk detected, as the JSON the
 * `topology` method returns. Loaded once at start: hwloc discovery reads
 * hundreds of sysfs files. */
#ifndef HWOPTD_TOPOLOGY_H
#define HWOPTD_TOPOLOGY_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <hwloc.h>

struct hwoptd_topology;

/* Discovers this machine. Returns 0 with *out set, or a negative errno with
 * a message in err (when err is not NULL). Restricted to what the process is
 * allowed to use at load time (cgroup cpusets), as hwloc does by default. */
int hwoptd_topology_load(struct hwoptd_topology **out, char *err, size_t errlen);
void hwoptd_topology_free(struct hwoptd_topology *t);

/* A fresh JSON object each call (caller frees), NULL when out of memory.
 * allowed_cpus is read anew from the calling thread's affinity each time;
 * everything else comes from the topology loaded at start. */
cJSON *hwoptd_topology_json(const struct hwoptd_topology *t);

/* The loaded hwloc topology, for pinning workers. Owned by t; read-only use
 * from several threads is safe. */
hwloc_topology_t hwoptd_topology_hwloc(const struct hwoptd_topology *t);
/* "performance" or "efficiency" by hwloc's cpukinds for CPU cpu, NULL when
 * hwloc knows one kind only (or not this CPU). */
const char *hwoptd_topology_cpu_kind(const struct hwoptd_topology *t, int cpu);

#endif
