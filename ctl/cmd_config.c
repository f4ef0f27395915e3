/* hwoptctl config [get|reload] */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static void print_names(const char *label, const cJSON *arr)
{
	const cJSON *it;
	if (cJSON_GetArraySize(arr) == 0)
		return;
	printf("%s:", label);
	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it))
			printf(" %s", it->valuestring);
	putchar('\n');
}

static int get(struct ctl *ctl)
{
	cJSON *r;
	int rc = ctl_call(ctl, "config.get", NULL, &r);
	if (rc)
		return rc;
	if (ctl->json) {
		ctl_print_json(r);
		cJSON_Delete(r);
		return CTL_EXIT_OK;
	}
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(r, "daemon");
	const cJSON *ov = cJSON_GetObjectItemCaseSensitive(r, "overrides");
	printf("# %s\n[daemon]\n", ctl_str(r, "path", "built-in defaults"));
	const cJSON *it;
	cJSON_ArrayForEach(it, d) {
		char val[512];
		if (cJSON_IsString(it))
			snprintf(val, sizeof(val), "%s", it->valuestring);
		else
			snprintf(val, sizeof(val), "%.0f", it->valuedouble);
		bool over = cJSON_GetObjectItemCaseSensitive(ov, it->string) != NULL;
		printf("%-18s = %s%s\n", it->string, val, over ? "   ; from the command line" : "");
	}
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

static int reload(struct ctl *ctl)
{
	cJSON *r;
	int rc = ctl_call(ctl, "config.reload", NULL, &r);
	if (rc)
		return rc;
	if (ctl->json) {
		ctl_print_json(r);
	} else {
		const cJSON *ch = cJSON_GetObjectItemCaseSensitive(r, "changed");
		const cJSON *rr = cJSON_GetObjectItemCaseSensitive(r, "restart_required");
		printf("reloaded %s\n", ctl_str(r, "path", "built-in defaults"));
		if (cJSON_GetArraySize(ch) == 0 && cJSON_GetArraySize(rr) == 0)
			printf("nothing changed\n");
		print_names("applied", ch);
		print_names("changed, applies at the next restart", rr);
	}
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

static int run(struct ctl *ctl, int argc, char **argv)
{
	int rc = ctl_args_max(&ctl_cmd_config, argc, 2);
	if (rc)
		return rc;
	if (argc < 2 || strcmp(argv[1], "get") == 0)
		return get(ctl);
	if (strcmp(argv[1], "reload") == 0)
		return reload(ctl);
	fprintf(stderr, "hwoptctl: config takes 'get' or 'reload', not '%s'\n", argv[1]);
	return CTL_EXIT_USAGE;
}

const struct ctl_command ctl_cmd_config = {
	"config", "[get|reload]", "show or reload the configuration",
	"config get (the default) prints the configuration in force as INI, marking\n"
	"values set on the daemon's command line. config reload makes the daemon re-read\n"
	"its file (admin only); a bad file leaves the old configuration in force and\n"
	"the error is printed. Keys that need a restart (socket, socket_group,\n"
	"state_dir) are listed when they changed.",
	run,
};
