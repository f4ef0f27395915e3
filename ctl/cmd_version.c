/* hwoptctl version */
#include <stdio.h>

#include "ctl.h"

static int run(struct ctl *ctl, int argc, char **argv)
{
	int rc = ctl_args_max(&ctl_cmd_version, argc, 1);
	if (rc)
		return rc;
	cJSON *r = NULL;
	if (!ctl->json)
		printf("hwoptctl %s\n", HWOPTD_VERSION);
	rc = ctl_call(ctl, "hello", NULL, &r);
	if (rc)
		return rc;
	if (ctl->json) {
		cJSON *out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "hwoptctl", HWOPTD_VERSION);
		cJSON_AddStringToObject(out, "hwoptd", ctl_str(r, "version", "?"));
		cJSON_AddNumberToObject(out, "protocol", ctl_num(r, "protocol", 0));
		ctl_print_json(out);
		cJSON_Delete(out);
	} else {
		printf("hwoptd %s (protocol %.0f)\n", ctl_str(r, "version", "?"),
		       ctl_num(r, "protocol", 0));
	}
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_cmd_version = {
	"version", "", "versions of hwoptctl and the daemon",
	"Print hwoptctl's version, then ask the daemon for its version and protocol.",
	run,
};
