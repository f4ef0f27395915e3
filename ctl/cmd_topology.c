/* hwoptctl topology: the machine as the daemon sees it. */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"

#define KEY_WIDTH 13
#define WRAP_COLUMN 78

static const cJSON *get(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *cache_type_short(const char *type)
{
	/* lscpu's L1d/L1i spelling reads faster in a table. */
	if (!strcmp(type, "data"))
		return "d";
	if (!strcmp(type, "instruction"))
		return "i";
	return "";
}

static void print_caches(const cJSON *caches)
{
	if (cJSON_GetArraySize(caches) <= 0)
		return;
	printf("\ncaches:\n");
	printf("  %-5s %-11s %10s %5s %6s %6s  %s\n", "LEVEL", "TYPE", "SIZE", "LINE", "WAYS",
	       "COUNT", "SHARED BY");
	const cJSON *c;
	cJSON_ArrayForEach(c, caches) {
		char level[16], size[32], ways[16];
		const char *type = ctl_str(c, "type", "?");
		snprintf(level, sizeof(level), "L%d%s", (int)ctl_num(c, "level", 0),
			 cache_type_short(type));
		ctl_bytes(ctl_num(c, "size_bytes", 0), size, sizeof(size));
		/* hwloc: -1 fully associative, 0 unknown */
		int assoc = (int)ctl_num(c, "associativity", 0);
		if (assoc < 0)
			snprintf(ways, sizeof(ways), "full");
		else if (assoc == 0)
			snprintf(ways, sizeof(ways), "?");
		else
			snprintf(ways, sizeof(ways), "%d", assoc);
		int shared = (int)ctl_num(c, "shared_by_pus", 0);
		printf("  %-5s %-11s %10s %5d %6s %6d  %d PU%s\n", level, type, size,
		       (int)ctl_num(c, "line_bytes", 0), ways, (int)ctl_num(c, "count", 0),
		       shared, shared == 1 ? "" : "s");
	}
}

static void print_numa(const cJSON *nodes)
{
	if (cJSON_GetArraySize(nodes) <= 0)
		return;
	printf("\nNUMA nodes:\n");
	const cJSON *n;
	cJSON_ArrayForEach(n, nodes) {
		char mem[32];
		const char *cpus = ctl_str(n, "cpus", "");
		ctl_bytes(ctl_num(n, "memory_bytes", 0), mem, sizeof(mem));
		printf("  node %-3d %10s  cpus %s\n", (int)ctl_num(n, "os_index", -1), mem,
		       *cpus ? cpus : "(none: memory only)");
	}
}

static void print_kinds(const cJSON *kinds)
{
	if (cJSON_GetArraySize(kinds) <= 0)
		return;
	printf("\ncore kinds:\n");
	const cJSON *k;
	cJSON_ArrayForEach(k, kinds) {
		char eff[24];
		int e = (int)ctl_num(k, "efficiency", -1);
		if (e < 0)
			snprintf(eff, sizeof(eff), "unknown");
		else
			snprintf(eff, sizeof(eff), "%d", e);
		printf("  efficiency %-8s cpus %-12s", eff, ctl_str(k, "cpus", "?"));
		const cJSON *infos = get(k, "infos");
		const cJSON *i;
		const char *sep = " ";
		cJSON_ArrayForEach(i, infos) {
			if (cJSON_IsString(i)) {
				printf("%s%s=%s", sep, i->string, i->valuestring);
				sep = ", ";
			}
		}
		if (!strcmp(ctl_str(k, "source", ""), "none"))
			printf("%s(the OS reports no core kinds)", sep);
		printf("\n");
	}
}

/* Space-separated names, wrapped before WRAP_COLUMN. */
static void print_features(const cJSON *features)
{
	printf("\nfeatures:\n");
	int col = 0;
	const cJSON *f;
	cJSON_ArrayForEach(f, features) {
		if (!cJSON_IsString(f))
			continue;
		int len = (int)strlen(f->valuestring);
		if (col > 0 && col + 1 + len > WRAP_COLUMN) {
			printf("\n");
			col = 0;
		}
		col += printf("%s%s", col == 0 ? "  " : " ", f->valuestring);
	}
	fputs(col == 0 ? "  (none detected)\n" : "\n", stdout);
}

/* The ISA libhwk runs at and each op's chosen variant. */
static void print_kernels(const cJSON *k)
{
	if (!k)
		return;
	printf("\nkernels: %s%s (best here: %s)\n", ctl_str(k, "isa", "?"),
	       cJSON_IsTrue(get(k, "forced")) ? ", forced by HWK_ISA" : "",
	       ctl_str(k, "best_isa", "?"));
	const cJSON *op;
	cJSON_ArrayForEach(op, get(k, "ops"))
		printf("  %-22s %s\n", ctl_str(op, "op", "?"), ctl_str(op, "variant", "?"));
}

static void print_topology(const cJSON *r)
{
	const cJSON *cpu = get(r, "cpu");
	const char *model = ctl_str(cpu, "model_name", NULL);
	const char *vendor = ctl_str(cpu, "vendor", NULL);
	const cJSON *allowed = get(r, "allowed_cpus");
	int pus = (int)ctl_num(r, "pus", 0);

	ctl_kv(0, KEY_WIDTH, "arch", "%s", ctl_str(r, "arch", "unknown"));
	if (model && vendor)
		ctl_kv(0, KEY_WIDTH, "cpu", "%s (%s)", model, vendor);
	else
		ctl_kv(0, KEY_WIDTH, "cpu", "%s", model ? model : vendor ? vendor : "unknown");
	ctl_kv(0, KEY_WIDTH, "packages", "%d", (int)ctl_num(r, "packages", 0));
	ctl_kv(0, KEY_WIDTH, "cores", "%d", (int)ctl_num(r, "cores", 0));
	ctl_kv(0, KEY_WIDTH, "PUs", "%d", pus);
	ctl_kv(0, KEY_WIDTH, "allowed cpus", "%s (%d of %d)", ctl_str(allowed, "list", "?"),
	       (int)ctl_num(allowed, "count", 0), pus);

	print_caches(get(r, "caches"));
	print_numa(get(r, "numa_nodes"));
	print_kinds(get(r, "core_kinds"));
	print_features(get(cpu, "features"));
	print_kernels(get(r, "kernels"));
}

static int run(struct ctl *ctl, int argc, char **argv)
{
	/* argv[0] is the command name itself. */
	if (argc > 1) {
		fprintf(stderr, "hwoptctl topology: unexpected argument '%s'\n"
				"usage: hwoptctl topology\n", argv[1]);
		return CTL_EXIT_USAGE;
	}

	cJSON *result = NULL;
	int rc = ctl_call(ctl, "topology", NULL, &result);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (ctl->json)
		ctl_print_json(result);
	else
		print_topology(result);
	cJSON_Delete(result);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_cmd_topology = {
	"topology",
	"",
	"machine topology and CPU features",
	"Shows the machine as hwoptd sees it: architecture, CPU model, packages,\n"
	"cores and PUs (hardware threads), the CPUs the daemon may run on now\n"
	"(its affinity, which cgroup cpusets and taskset can shrink), caches\n"
	"grouped by level and type with their size, line, associativity, count\n"
	"and how many PUs share each, NUMA nodes with their memory, core kinds\n"
	"(e.g. performance and efficiency cores, ranked by hwloc; efficiency\n"
	"\"unknown\" when the OS does not rank them) and the SIMD/matrix features\n"
	"the kernels can use (checked against OS support, e.g. XCR0 on x86), and\n"
	"the ISA libhwk runs at with the variant chosen for each kernel op.\n"
	"With --json, prints the daemon's reply as is (see docs/protocol.md).",
	run,
};
