/* hwoptctl jobs [--all], cancel ID */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* "850 us", "12.5 ms", "3.2s", "4m 5s". */
static const char *micros(double us, char *buf, int len)
{
	if (us < 1000)
		snprintf(buf, (size_t)len, "%.0f us", us);
	else if (us < 10e6)
		snprintf(buf, (size_t)len, "%.1f ms", us / 1000);
	else
		ctl_duration(us / 1e6, buf, len);
	return buf;
}

int ctl_list_all_option(const struct ctl_command *cmd, int argc, char **argv, cJSON **params)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	bool all = false;
	*params = NULL;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":a", opts, NULL)) != -1) {
		if (c != 'a')
			return ctl_bad_option(cmd, c, argc, argv);
		all = true;
	}
	if (optind != argc)
		return ctl_usage(cmd);
	if (all) {
		*params = cJSON_CreateObject();
		cJSON_AddTrueToObject(*params, "all");
	}
	return CTL_EXIT_OK;
}

static int jobs(struct ctl *ctl, int argc, char **argv)
{
	cJSON *p, *r;
	int rc = ctl_list_all_option(&ctl_cmd_jobs, argc, argv, &p);
	if (rc || (rc = ctl_call(ctl, "job.list", p, &r)))
		return rc;
	if (ctl->json) {
		ctl_print_json(r);
		cJSON_Delete(r);
		return CTL_EXIT_OK;
	}
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(r, "jobs"), *j;
	if (cJSON_GetArraySize(list) == 0) {
		printf("no jobs queued or running\n");
		cJSON_Delete(r);
		return CTL_EXIT_OK;
	}
	struct ctl_table t;
	ctl_table_init(&t, "rlllrlrrrrl", "JOB", "MODEL", "PRIORITY", "STATE", "ROWS", "BATCHABLE",
		       "AGE", "DEADLINE IN", "PID", "UID", "REQUEST ID");
	cJSON_ArrayForEach(j, list) {
		const cJSON *cl = cJSON_GetObjectItemCaseSensitive(j, "client");
		const cJSON *rid = cJSON_GetObjectItemCaseSensitive(j, "request_id");
		const cJSON *dl = cJSON_GetObjectItemCaseSensitive(j, "deadline_in_us");
		char id[32], rows[32], age[32], dead[32], pid[32], uid[32], req[64];
		snprintf(id, sizeof(id), "%.0f", ctl_num(j, "job", 0));
		snprintf(rows, sizeof(rows), "%.0f", ctl_num(j, "rows", 1));
		snprintf(pid, sizeof(pid), "%.0f", ctl_num(cl, "pid", 0));
		snprintf(uid, sizeof(uid), "%.0f", ctl_num(cl, "uid", 0));
		if (cJSON_IsNumber(rid))
			snprintf(req, sizeof(req), "%.0f", rid->valuedouble);
		else
			snprintf(req, sizeof(req), "%s", cJSON_IsString(rid) ? rid->valuestring : "-");
		ctl_table_row(&t, id, ctl_str(j, "model", "?"), ctl_str(j, "priority", "?"),
			      ctl_str(j, "state", "?"), rows,
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "batchable")) ? "yes" : "no",
			      micros(ctl_num(j, "age_us", 0), age, sizeof(age)),
			      cJSON_IsNumber(dl) ? micros(dl->valuedouble, dead, sizeof(dead)) : "-",
			      pid, uid, req);
	}
	ctl_table_print(&t);
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

static int cancel(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_command *cmd = &ctl_cmd_cancel;
	long long id;
	if (argc != 2)
		return ctl_usage(cmd);
	int rc = ctl_parse_int(cmd->name, "ID", argv[1], 0, 9007199254740991LL, &id);
	if (rc)
		return rc;
	cJSON *p = cJSON_CreateObject(), *r;
	cJSON_AddNumberToObject(p, "job", (double)id);
	if ((rc = ctl_call(ctl, "job.cancel", p, &r)))
		return rc;
	if (ctl->json)
		ctl_print_json(r);
	else
		printf("cancelled job %.0f (it was %s)\n", ctl_num(r, "job", (double)id),
		       ctl_str(r, "state", "queued or running"));
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_cmd_jobs = {
	"jobs", "[--all]", "queued and running inference jobs",
	"List queued and running jobs: id, model, priority, state, rows, age, time\n"
	"left before the deadline, and the client (pid, uid, the id of its request).\n"
	"A client sees its own jobs (none, for hwoptctl's own connection); an admin\n"
	"sees every client's. --all asks for every client's explicitly.",
	jobs,
};

const struct ctl_command ctl_cmd_cancel = {
	"cancel", "ID", "cancel a queued or running job",
	"Cancel job ID (from 'hwoptctl jobs' or an infer answer): a queued job is\n"
	"removed, a running one stops at the next node boundary; its client gets error\n"
	"-32005. Only the job's client or an admin may cancel it.",
	cancel,
};
