/* hwoptctl pools [--all] */
#include <stdio.h>

#include "ctl.h"

static int pools(struct ctl *ctl, int argc, char **argv)
{
	cJSON *p, *r;
	int rc = ctl_list_all_option(&ctl_cmd_pools, argc, argv, &p);
	if (rc || (rc = ctl_call(ctl, "pool.list", p, &r)))
		return rc;
	if (ctl->json) {
		ctl_print_json(r);
		cJSON_Delete(r);
		return CTL_EXIT_OK;
	}
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(r, "pools"), *q;
	if (cJSON_GetArraySize(list) == 0) {
		printf("no pools\n");
	} else {
		struct ctl_table t;
		ctl_table_init(&t, "rrrrrrrrlrrrr", "POOL", "SIZE", "USED", "PEAK", "FREE", "BLOCKS",
			       "FRAG", "LARGEST FREE", "PAGES", "NUMA", "JOBS", "PID", "UID");
		cJSON_ArrayForEach(q, list) {
			const cJSON *cl = cJSON_GetObjectItemCaseSensitive(q, "client");
			char id[32], size[32], used[32], peak[32], fr[32], blocks[32], frag[32];
			char largest[32], pages[64], psz[32], numa[32], jobs[32], pid[32], uid[32];
			double node = ctl_num(q, "numa_node", -1);
			snprintf(id, sizeof(id), "%.0f", ctl_num(q, "pool", 0));
			snprintf(blocks, sizeof(blocks), "%.0f", ctl_num(q, "blocks", 0));
			snprintf(frag, sizeof(frag), "%.1f%%", ctl_num(q, "fragmentation_pct", 0));
			snprintf(pages, sizeof(pages), "%s %s", ctl_str(q, "page_kind", "?"),
				 ctl_bytes(ctl_num(q, "page_size", 0), psz, sizeof(psz)));
			if (node < 0)
				snprintf(numa, sizeof(numa), "-");
			else
				snprintf(numa, sizeof(numa), "%.0f", node);
			snprintf(jobs, sizeof(jobs), "%.0f", ctl_num(q, "jobs", 0));
			snprintf(pid, sizeof(pid), "%.0f", ctl_num(cl, "pid", 0));
			snprintf(uid, sizeof(uid), "%.0f", ctl_num(cl, "uid", 0));
			ctl_table_row(&t, id, ctl_bytes(ctl_num(q, "bytes", 0), size, sizeof(size)),
				      ctl_bytes(ctl_num(q, "used", 0), used, sizeof(used)),
				      ctl_bytes(ctl_num(q, "peak", 0), peak, sizeof(peak)),
				      ctl_bytes(ctl_num(q, "free", 0), fr, sizeof(fr)), blocks, frag,
				      ctl_bytes(ctl_num(q, "largest_free", 0), largest, sizeof(largest)),
				      pages, numa, jobs, pid, uid);
		}
		ctl_table_print(&t);
	}
	const cJSON *quota = cJSON_GetObjectItemCaseSensitive(r, "quota");
	if (quota) {
		char used[32], lim[32];
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(quota, "bytes");
		printf("\nquota: %s used of %s\n", ctl_bytes(ctl_num(quota, "used", 0), used, sizeof(used)),
		       cJSON_IsNumber(b) ? ctl_bytes(b->valuedouble, lim, sizeof(lim)) : "no limit");
	}
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_cmd_pools = {
	"pools", "[--all]", "shared-memory pools: use, fragmentation, quota",
	"List shared-memory pools: size, bytes used now and at the peak, free bytes,\n"
	"live blocks, fragmentation (100 * (1 - largest free extent / free bytes)), the\n"
	"largest free extent, page kind and size, NUMA node, jobs that refer to the\n"
	"pool, and its client; then the caller's pool quota. A client sees its own pools\n"
	"(none, for hwoptctl's own connection); an admin sees every client's. --all\n"
	"asks for every client's explicitly.",
	pools,
};
