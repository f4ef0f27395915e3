/* hwoptd: command line, configuration, then the loop in daemon.c. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "simulate.h"

#define DEFAULT_CONFIG "/etc/hwoptd/hwoptd.conf"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hwoptd [OPTION]...\n"
		"Own this machine's compute for ML inference; serve clients on a Unix socket.\n"
		"Runs in the foreground; systemd or launchd supervise it.\n"
		"\n"
		"  -c, --config FILE        configuration file (default " DEFAULT_CONFIG
		" when present)\n"
		"  -s, --socket PATH        listen on PATH (overrides [daemon] socket)\n"
		"      --state-dir DIR      state directory (overrides [daemon] state_dir)\n"
		"  -l, --log-level LEVEL    error, warning, info or debug (overrides log_level)\n"
		"      --sysfs-root DIR     read sysfs from DIR (overrides [telemetry] sysfs_root)\n"
		"      --procfs-root DIR    read procfs from DIR (overrides procfs_root)\n"
		"      --check-config FILE  check FILE and exit: 0 when valid, 1 with the error\n"
		"      --simulate TRACE     run the policies over a trace.record file (\"-\": stdin)\n"
		"                           and print their decisions as JSON lines; touches\n"
		"                           nothing (the config's [policy] sections apply)\n"
		"  -V, --version            print the version and exit\n"
		"  -h, --help               print this help and exit\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop gracefully, SIGHUP reloads the configuration.\n"
		"See hwoptd(8) and hwoptd.conf(5).\n");
}

int main(int argc, char **argv)
{
	enum { OPT_STATE_DIR = 256, OPT_CHECK, OPT_SYSFS, OPT_PROCFS, OPT_SIMULATE };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "log-level", required_argument, NULL, 'l' },
		{ "check-config", required_argument, NULL, OPT_CHECK },
		{ "sysfs-root", required_argument, NULL, OPT_SYSFS },
		{ "procfs-root", required_argument, NULL, OPT_PROCFS },
		{ "simulate", required_argument, NULL, OPT_SIMULATE },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct hwoptd d;
	const char *config = NULL, *check = NULL, *simulate = NULL;
	char err[1024];
	int c;

	while ((c = getopt_long(argc, argv, "c:s:l:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's': d.ov[d.n_ov++] = (struct config_override){ "socket", optarg, NULL }; break;
		case OPT_STATE_DIR: d.ov[d.n_ov++] = (struct config_override){ "state_dir", optarg, NULL }; break;
		case 'l': d.ov[d.n_ov++] = (struct config_override){ "log_level", optarg, NULL }; break;
		case OPT_CHECK: check = optarg; break;
		case OPT_SIMULATE: simulate = optarg; break;
		case OPT_SYSFS:
			d.ov[d.n_ov++] = (struct config_override){ "sysfs_root", optarg, "telemetry" };
			break;
		case OPT_PROCFS:
			d.ov[d.n_ov++] = (struct config_override){ "procfs_root", optarg, "telemetry" };
			break;
		case 'V': printf("hwoptd %s\n", HWOPTD_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (d.n_ov == DAEMON_MAX_OVERRIDES) {
			fprintf(stderr, "hwoptd: an option is given too many times\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hwoptd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	if (check) {
		struct hwoptd_config cfg;
		if (config_load(check, NULL, 0, &cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		printf("%s: ok\n", check);
		return 0;
	}

	if (simulate) {
		/* Only the file named: a replay must not depend on this machine's
		 * /etc. */
		struct hwoptd_config cfg;
		if (config_load(config, NULL, 0, &cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "hwoptd: %s\n", err);
			return 1;
		}
		return simulate_run(simulate, &cfg.pol, stdout, stderr);
	}

	if (!config && access(DEFAULT_CONFIG, F_OK) == 0)
		config = DEFAULT_CONFIG;
	static char abs_config[PATH_MAX];
	/* Absolute, so status and reloads name the same file whatever the cwd. */
	if (config && realpath(config, abs_config))
		config = abs_config;
	d.config_path = config;
	log_init(LOG_LVL_INFO);
	if (config_load(config, d.ov, d.n_ov, &d.cfg, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	log_set_level(d.cfg.log_level);
	return daemon_run(&d);
}
