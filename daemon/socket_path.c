#include "socket_path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* mkdir -p; only directories created here get 0750 and the group, so an
 * existing /run/hwoptd (systemd's RuntimeDirectory) or /tmp is left alone. */
static int make_dirs(const char *dir, gid_t gid, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", dir);
	size_t n = strlen(buf);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char saved = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0750) == 0) {
			/* mkdir honours the umask; set the mode we promised. */
			if (chmod(buf, 0750) < 0 || (gid != (gid_t)-1 && chown(buf, (uid_t)-1, gid) < 0)) {
				snprintf(err, errlen, "cannot set owner and mode of %s: %s", buf,
					 strerror(errno));
				return -errno;
			}
		} else if (errno != EEXIST) {
			int e = errno;
			snprintf(err, errlen, "cannot create directory %s: %s", buf, strerror(e));
			return -e;
		}
		buf[i] = saved;
	}
	return 0;
}

static int is_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	close(fd);
	if (rc == 0)
		return 1;
	/* EAGAIN: a live listener whose backlog is full. */
	return e == EAGAIN ? 1 : 0;
}

int socket_path_prepare(const char *path, gid_t gid, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is longer than %zu bytes", path,
			 sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		int rc = make_dirs(dir, gid, err, errlen);
		if (rc < 0)
			return rc;
	}

	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot inspect %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket; refusing to replace it", path);
		return -EEXIST;
	}
	int live = is_live(path);
	if (live > 0) {
		snprintf(err, errlen,
			 "another hwoptd is already serving %s (stop it first, or choose another --socket)",
			 path);
		return -EADDRINUSE;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale socket %s: %s", path, strerror(errno));
		return -errno;
	}
	log_info("removed stale socket %s", path);
	return 0;
}
