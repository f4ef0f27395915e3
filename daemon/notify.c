#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "log.h"

void notify_ready(void)
{
	sd_notify(0, "READY=1");
}

void notify_reloading(void)
{
	/* MONOTONIC_USEC lets Type=notify-reload units match the reload. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void notify_status(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", msg);
}

static void on_watchdog(uv_timer_t *t)
{
	sd_notify(0, "WATCHDOG=1");
}

unsigned notify_watchdog_start(uv_loop_t *loop, uv_timer_t *timer)
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	uint64_t ms = usec / 2000;
	if (ms == 0)
		ms = 1;
	if (uv_timer_init(loop, timer) < 0 || uv_timer_start(timer, on_watchdog, 0, ms) < 0)
		return 0;
	/* The watchdog must not keep the loop alive on its own. */
	uv_unref((uv_handle_t *)timer);
	return (unsigned)ms;
}

int notify_listen_fd(void)
{
	int n = sd_listen_fds(1);
	if (n <= 0)
		return -1;
	if (n > 1)
		log_warning("systemd passed %d sockets; serving only the first", n);
	int fd = SD_LISTEN_FDS_START;
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		log_error("the socket systemd passed (fd %d) is not a listening Unix stream socket", fd);
		return -EINVAL;
	}
	return fd;
}
