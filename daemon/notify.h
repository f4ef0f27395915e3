/* systemd glue: readiness and status notifications, the watchdog, and
 * sockets passed by socket activation. All are no-ops outside systemd. */
#ifndef HWOPTD_NOTIFY_H
#define HWOPTD_NOTIFY_H

#include <uv.h>

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Starts pinging WATCHDOG=1 at half of WATCHDOG_USEC, if systemd asked for
 * it (and WATCHDOG_PID, when set, is us). Returns the period in ms, or 0. */
unsigned notify_watchdog_start(uv_loop_t *loop, uv_timer_t *timer);

/* The listening Unix socket systemd passed (LISTEN_FDS), -1 when none, or
 * -EINVAL when what was passed is not a listening Unix stream socket. */
int notify_listen_fd(void);

#endif
