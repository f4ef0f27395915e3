/* Getting a socket path ready to bind: its directory exists (created 0750
 * with the socket group when we make it), and nothing live is there. */
#ifndef HWOPTD_SOCKET_PATH_H
#define HWOPTD_SOCKET_PATH_H

#include <stddef.h>
#include <sys/types.h>

/* 0 when path is free to bind (a stale socket was removed); -EADDRINUSE
 * when a live server answers there; -EEXIST when it is not a socket; other
 * negative errno on failure. err explains. */
int socket_path_prepare(const char *path, gid_t gid, char *err, size_t errlen);

#endif
