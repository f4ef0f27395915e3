/* hwoptctl: the command line of hwoptd. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/c/hwoptclient.h"
#include "ctl.h"

static const struct ctl_command *const commands[] = {
	&ctl_cmd_status,  &ctl_cmd_topology, &ctl_cmd_config, &ctl_cmd_models,    &ctl_cmd_load,
	&ctl_cmd_unload,  &ctl_cmd_infer,    &ctl_cmd_jobs,   &ctl_cmd_cancel,    &ctl_cmd_pools,
	&ctl_cmd_metrics, &ctl_cmd_top,      &ctl_cmd_telemetry, &ctl_cmd_record,
	&ctl_cmd_policy,  &ctl_cmd_profile,  &ctl_cmd_explain, &ctl_cmd_simulate,
	&ctl_cmd_shutdown, &ctl_cmd_version,
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: hwoptctl [-s|--socket PATH] [-j|--json] [-t|--timeout SEC] COMMAND [ARGS]\n"
		   "\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		/* Long synopses (options) are in 'help NAME'; here up to the
		 * first option. */
		char left[64];
		const char *u = commands[i]->usage, *opt = strstr(u, " [-");
		int ulen = opt ? (int)(opt - u) : (int)strlen(u);
		snprintf(left, sizeof(left), "%s %.*s%s", commands[i]->name, ulen, u,
			 opt ? " [OPTIONS]" : "");
		if (strlen(left) > 24)
			fprintf(f, "  %s\n  %-24s %s\n", left, "", commands[i]->summary);
		else
			fprintf(f, "  %-24s %s\n", left, commands[i]->summary);
	}
	fprintf(f, "  %-24s %s\n", "help [COMMAND]", "show help for a command");
	fprintf(f, "\nThe socket defaults to $HWOPT_SOCKET, else the daemon's default socket.\n"
		   "Exit status: 0 ok, 1 the daemon answered with an error, 2 usage error,\n"
		   "3 cannot connect to hwoptd. See hwoptctl(1).\n");
}

static const struct ctl_command *find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static int help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return CTL_EXIT_OK;
	}
	const struct ctl_command *c = find(argv[1]);
	if (!c && strcmp(argv[1], "help") != 0) {
		fprintf(stderr, "hwoptctl: no command '%s'; see 'hwoptctl help'\n", argv[1]);
		return CTL_EXIT_USAGE;
	}
	if (!c) {
		printf("Usage: hwoptctl help [COMMAND]\n\nShow the commands, or one command's help.\n");
		return CTL_EXIT_OK;
	}
	printf("Usage: hwoptctl [OPTIONS] %s %s\n\n%s\n", c->name, c->usage, c->help);
	return CTL_EXIT_OK;
}

static int parse_timeout(const char *s, int *ms)
{
	char *end;
	errno = 0;
	double sec = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(sec) || sec <= 0 || sec > 86400)
		return -1;
	*ms = (int)(sec * 1000);
	if (*ms == 0)
		*ms = 1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char sockbuf[256];
	struct ctl ctl = { .timeout_ms = 10000 };
	int c;

	/* '+': options end at the command, so commands may take their own. */
	while ((c = getopt_long(argc, argv, "+s:jt:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': ctl.socket = optarg; break;
		case 'j': ctl.json = true; break;
		case 't':
			if (parse_timeout(optarg, &ctl.timeout_ms) < 0) {
				fprintf(stderr, "hwoptctl: --timeout takes seconds (> 0), not '%s'\n", optarg);
				return CTL_EXIT_USAGE;
			}
			ctl.timeout_set = true;
			break;
		case 'h': usage(stdout); return CTL_EXIT_OK;
		default: usage(stderr); return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (!ctl.socket)
		ctl.socket = hwopt_default_socket(sockbuf, sizeof(sockbuf));

	const char *name = argv[optind];
	if (strcmp(name, "help") == 0)
		return help(argc - optind, argv + optind);
	const struct ctl_command *cmd = find(name);
	if (!cmd) {
		fprintf(stderr, "hwoptctl: no command '%s'; see 'hwoptctl help'\n", name);
		return CTL_EXIT_USAGE;
	}
	int rc = cmd->run(&ctl, argc - optind, argv + optind);
	hwopt_client_close(ctl.client);
	return rc;
}
