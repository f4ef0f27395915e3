/* hwoptctl status */
#include <stdio.h>
#include <time.h>

#include "ctl.h"

static int run(struct ctl *ctl, int argc, char **argv)
{
	int rc = ctl_args_max(&ctl_cmd_status, argc, 1);
	cJSON *r;
	if (rc || (rc = ctl_call(ctl, "status", NULL, &r)))
		return rc;
	if (ctl->json) {
		ctl_print_json(r);
		cJSON_Delete(r);
		return CTL_EXIT_OK;
	}
	const cJSON *conn = cJSON_GetObjectItemCaseSensitive(r, "connections");
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(r, "requests");
	const cJSON *act = cJSON_GetObjectItemCaseSensitive(r, "socket_activated");
	char up[64], when[64];
	time_t started = (time_t)ctl_num(r, "started_at", 0);
	struct tm tm;
	localtime_r(&started, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	const int w = 12;
	ctl_kv(0, w, "hwoptd", "%s, pid %.0f", ctl_str(r, "version", "?"), ctl_num(r, "pid", 0));
	ctl_kv(0, w, "uptime", "%s (since %s)", ctl_duration(ctl_num(r, "uptime_s", 0), up, sizeof(up)),
	       when);
	ctl_kv(0, w, "socket", "%s", cJSON_IsTrue(act) ? "passed by systemd (socket activation)"
						     : ctl_str(r, "socket", "?"));
	ctl_kv(0, w, "config", "%s", ctl_str(r, "config_path", "(built-in defaults)"));
	ctl_kv(0, w, "state dir", "%s", ctl_str(r, "state_dir", "?"));
	ctl_kv(0, w, "log level", "%s", ctl_str(r, "log_level", "?"));
	ctl_kv(0, w, "connections", "%.0f open of %.0f max, %.0f since start, %.0f refused, %.0f dropped",
	       ctl_num(conn, "open", 0), ctl_num(conn, "max", 0), ctl_num(conn, "total", 0),
	       ctl_num(conn, "refused", 0), ctl_num(conn, "dropped_slow", 0));
	ctl_kv(0, w, "requests", "%.0f served, %.0f errors, %.0f in flight", ctl_num(req, "served", 0),
	       ctl_num(req, "errors", 0), ctl_num(req, "in_flight", 0));
	cJSON_Delete(r);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_cmd_status = {
	"status", "", "daemon health: uptime, connections, requests",
	"Show the daemon's version, pid, uptime, socket, configuration file, state\n"
	"directory, and counts of connections and requests.",
	run,
};
