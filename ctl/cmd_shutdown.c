/* hwoptctl shutdown */
#include <stdio.h>

#include "ctl.h"

static int run(struct ctl *ctl, int argc, char **argv)
{
	int rc = ctl_args_max(&ctl_cmd_shutdown, argc, 1);
	cJSON *r;
	if (rc || (rc = ctl_call(ctl, "shutdown", NULL, &r)))
		return rc;
	if (ctl->json)
		ctl_print_json(r);
	else
		printf("hwoptd is stopping (grace %.0f ms)\n", ctl_num(r, "grace_ms", 0));
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_cmd_shutdown = {
	"shutdown", "", "stop the daemon gracefully (admin)",
	"Ask hwoptd to stop: it stops accepting, lets requests in flight finish within\n"
	"shutdown_grace_ms, and exits 0. Needs uid 0 or the admin group. Under systemd,\n"
	"prefer 'systemctl stop hwoptd' so the unit does not restart it.",
	run,
};
