/* Lifecycle: start serving, reload, stop gracefully. */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autotune.h"
#include "devices.h"
#include "jobs.h"
#include "kernels_info.h"
#include "metrics_http.h"
#include "log.h"
#include "models.h"
#include "notify.h"
#include "pools.h"
#include "policy.h"
#include "sched.h"
#include "telemetry/telemetry.h"
#include "topology.h"

int daemon_reload(struct hwoptd *d, cJSON *changed, cJSON *restart_required,
		  char *err, size_t errlen)
{
	struct hwoptd_config next;
	notify_reloading();
	int rc = config_load(d->config_path, d->ov, d->n_ov, &next, err, errlen);
	if (rc < 0) {
		log_error("reload failed, keeping the configuration in force: %s", err);
		notify_status("Serving; last reload failed: %s", err);
		notify_ready();
		return rc;
	}
	cJSON *ch = changed ? changed : cJSON_CreateArray();
	cJSON *rr = restart_required ? restart_required : cJSON_CreateArray();
	config_diff(&d->cfg, &next, ch, rr);
	/* Keys bound to the running socket and state stay as started. */
	snprintf(next.socket, sizeof(next.socket), "%s", d->cfg.socket);
	snprintf(next.socket_group, sizeof(next.socket_group), "%s", d->cfg.socket_group);
	next.socket_gid = d->cfg.socket_gid;
	snprintf(next.state_dir, sizeof(next.state_dir), "%s", d->cfg.state_dir);
	memcpy(next.devices_dir, d->cfg.devices_dir, sizeof(next.devices_dir));
	/* The worker pool, telemetry, the metrics endpoint and the [model]
	 * sections are set up at start. */
	next.workers = d->cfg.workers;
	memcpy(next.sysfs_root, d->cfg.sysfs_root, sizeof(next.sysfs_root));
	memcpy(next.procfs_root, d->cfg.procfs_root, sizeof(next.procfs_root));
	next.interval_ms = d->cfg.interval_ms;
	next.history = d->cfg.history;
	memcpy(next.sources, d->cfg.sources, sizeof(next.sources));
	memcpy(next.perf_events, d->cfg.perf_events, sizeof(next.perf_events));
	memcpy(next.metrics_listen, d->cfg.metrics_listen, sizeof(next.metrics_listen));
	memcpy(next.models, d->cfg.models, sizeof(next.models));
	next.n_models = d->cfg.n_models;
	struct pol_config old_pol = d->cfg.pol;
	d->cfg = next;
	policy_config_changed(d, &old_pol);
	d->config_loaded_at = time(NULL);
	log_set_level(d->cfg.log_level);
	const cJSON *it;
	cJSON_ArrayForEach(it, rr)
		log_warning("reload: %s changed; it takes effect at the next restart", it->valuestring);
	log_info("configuration reloaded from %s (%d keys changed)",
		 d->config_path ? d->config_path : "built-in defaults", cJSON_GetArraySize(ch));
	if (!changed)
		cJSON_Delete(ch);
	if (!restart_required)
		cJSON_Delete(rr);
	notify_status("Serving on %s", d->socket_activated ? "an activated socket" : d->cfg.socket);
	notify_ready();
	return 0;
}

static void on_drained(struct hwoptd *d)
{
	log_debug("every connection closed");
	uv_timer_stop(&d->grace);
	uv_stop(d->loop);
}

static void on_grace(uv_timer_t *t)
{
	struct hwoptd *d = t->data;
	struct server_stats st;
	server_get_stats(d->srv, &st);
	log_warning("shutdown grace (%u ms) over with %llu requests in flight; closing %llu "
		    "connections", d->cfg.shutdown_grace_ms, (unsigned long long)st.inflight,
		    (unsigned long long)st.connections);
	server_abort(d->srv);
}

void daemon_stop(struct hwoptd *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = true;
	log_info("stopping: %s", why);
	notify_stopping();
	notify_status("Stopping: %s", why);
	telemetry_stop(d->tm); /* answers recordings, so the drain is not held up */
	autotune_stop(d);
	uv_timer_start(&d->grace, on_grace, d->cfg.shutdown_grace_ms, 0);
	server_stop(d->srv, on_drained);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct hwoptd *d = h->data;
	if (signum == SIGHUP) {
		char err[1024];
		log_info("SIGHUP: reloading %s", d->config_path ? d->config_path : "built-in defaults");
		daemon_reload(d, NULL, NULL, err, sizeof(err));
		return;
	}
	daemon_stop(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* Many clients mean many descriptors; take what the hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warning("cannot raise the open-file limit: %s", strerror(errno));
	}
}

static int make_state_dir(const char *dir)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(buf, 0750) < 0 && errno != EEXIST) {
			log_error("cannot create state directory %s: %s", buf, strerror(errno));
			return -errno;
		}
		*p = saved;
		if (!saved)
			break;
	}
	if (access(dir, W_OK) < 0) {
		log_error("state directory %s is not writable: %s", dir, strerror(errno));
		return -errno;
	}
	return 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int daemon_run(struct hwoptd *d)
{
	char err[1024];
	int rc;

	raise_nofile();
	/* A forced ISA this CPU cannot run is a start-up error, not a crash later. */
	if (kernels_init(err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	if (make_state_dir(d->cfg.state_dir) < 0)
		return 1;
	rc = hwoptd_topology_load(&d->topo, err, sizeof(err));
	if (rc < 0) {
		log_error("cannot read the machine topology: %s", err);
		return 1;
	}
	d->loop = uv_default_loop();
	d->started_ns = uv_hrtime();
	d->started_at = time(NULL);
	d->config_loaded_at = d->started_at;
	if (server_new(d, d->loop, &d->srv) < 0) {
		log_error("out of memory");
		hwoptd_topology_free(d->topo);
		return 1;
	}
	if (sched_start(d, &d->sched, err, sizeof(err)) < 0) {
		log_error("cannot start the workers: %s", err);
		d->exit_code = 1;
		goto out;
	}

	if (telemetry_start(d, err, sizeof(err)) < 0) {
		log_error("cannot start telemetry: %s", err);
		d->exit_code = 1;
		goto out;
	}

	/* Before any client: a journal a crash left is restored first. */
	if (policy_start(d) < 0) {
		log_error("out of memory");
		d->exit_code = 1;
		goto out;
	}

	int fd = notify_listen_fd();
	if (fd == -EINVAL) {
		d->exit_code = 1;
		goto out;
	}
	if (fd >= 0) {
		d->socket_activated = true;
		rc = server_listen_fd(d->srv, fd, err, sizeof(err));
	} else {
		rc = server_listen_path(d->srv, d->cfg.socket, d->cfg.socket_gid, err, sizeof(err));
	}
	if (rc < 0) {
		log_error("%s", err);
		d->exit_code = 1;
		goto out;
	}

	/* The daemon serves without its metrics endpoint rather than not at all;
	 * the log says why. */
	if (metrics_http_start(d, err, sizeof(err)) < 0)
		log_error("metrics endpoint off: %s", err);

	uv_signal_init(d->loop, &d->sig_term);
	uv_signal_init(d->loop, &d->sig_int);
	uv_signal_init(d->loop, &d->sig_hup);
	d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
	uv_signal_start(&d->sig_term, on_signal, SIGTERM);
	uv_signal_start(&d->sig_int, on_signal, SIGINT);
	uv_signal_start(&d->sig_hup, on_signal, SIGHUP);
	uv_timer_init(d->loop, &d->grace);
	d->grace.data = d;
	signal(SIGPIPE, SIG_IGN);

	unsigned wd = notify_watchdog_start(d->loop, &d->watchdog);
	log_info("hwoptd %s serving %s (pid %d)%s", HWOPTD_VERSION,
		 d->socket_activated ? "a socket passed by systemd" : d->cfg.socket, (int)getpid(),
		 wd ? "; watchdog on" : "");
	notify_status("Serving on %s", d->socket_activated ? "an activated socket" : d->cfg.socket);
	/* The device profile and the autotune cache fill what [model]
	 * sections leave unset. */
	if (devices_load(d) < 0 || autotune_init(d) < 0) {
		log_error("out of memory");
		d->exit_code = 1;
		uv_stop(d->loop);
	} else {
		models_load_config(d);
	}
	notify_ready();

	uv_run(d->loop, UV_RUN_DEFAULT);
	log_info("stopped");
out:
	/* Every connection is gone, so every job was cancelled; the workers
	 * finish what is running and hand it back before they stop. */
	if (d->sched) {
		sched_stop(d->sched);
		sched_close_handles(d->sched);
	}
	/* Settings back as they were, with every job done. */
	policy_stop(d);
	metrics_http_close(d->http);
	telemetry_close_handles(d->tm);
	/* Close what is left (signals, timers) and let their callbacks run. */
	uv_walk(d->loop, close_walk, NULL);
	uv_run(d->loop, UV_RUN_DEFAULT);
	uv_loop_close(d->loop);
	metrics_http_free(d->http);
	telemetry_free(d->tm);
	models_free_all(d);
	autotune_free(d);
	devices_free(d);
	pools_free_all(d);
	sched_free(d->sched);
	server_free(d->srv);
	hwoptd_topology_free(d->topo);
	return d->exit_code;
}
