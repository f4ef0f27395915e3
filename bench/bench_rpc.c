/* Round-trip latency of one request on one connection: hwoptd's `status`
 * against a bare Unix-socket echo of a line of the same size, measured in
 * the same run. The echo is the floor any socket daemon pays; the ratio is
 * what hwoptd adds. Prints a table and one JSON line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clients/c/hwoptclient.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(double *v, int n, double p)
{
	int i = (int)(p / 100.0 * (n - 1) + 0.5);
	return v[i];
}

/* The echo peer: reads lines, writes each back with one send. */
static void echo_server(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	char buf[65536];
	ssize_t n;
	while (fd >= 0 && (n = recv(fd, buf, sizeof(buf), 0)) > 0)
		if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
			break;
	if (fd >= 0)
		close(fd);
}

static int echo_bench(int iters, size_t line_len, double *lat)
{
	char path[] = "/tmp/hwopt-bench-echo-XXXXXX";
	if (!mkdtemp(path))
		return -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/e.sock", path);
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0)
		return -1;
	/* A separate process, as hwoptd is: the same scheduling costs. */
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		echo_server(lfd);
		_exit(0);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	char *line = malloc(line_len);
	memset(line, 'x', line_len - 1);
	line[line_len - 1] = '\n';
	char *in = malloc(line_len);
	for (int i = 0; i < iters; i++) {
		double t0 = now_us();
		if (send(fd, line, line_len, 0) != (ssize_t)line_len)
			return -1;
		size_t got = 0;
		while (got < line_len) {
			ssize_t r = recv(fd, in + got, line_len - got, 0);
			if (r <= 0)
				return -1;
			got += (size_t)r;
		}
		lat[i] = now_us() - t0;
	}
	close(fd);
	waitpid(pid, NULL, 0);
	close(lfd);
	unlink(sa.sun_path);
	rmdir(path);
	free(line);
	free(in);
	return 0;
}

int main(int argc, char **argv)
{
	char sockbuf[256];
	const char *sock = argc > 1 ? argv[1] : hwopt_default_socket(sockbuf, sizeof(sockbuf));
	int iters = argc > 2 ? atoi(argv[2]) : 10000;
	if (iters < 10)
		iters = 10;
	double *lat = calloc((size_t)iters, sizeof(double));
	double *peer = calloc((size_t)iters, sizeof(double));

	struct hwopt_client *c = hwopt_client_connect(sock, 5000);
	if (!c) {
		fprintf(stderr, "bench_rpc: cannot connect to %s: %s\n", sock, strerror(errno));
		return 1;
	}
	cJSON *res, *err;
	size_t reply_len = 0;
	/* Warm up, and learn the answer's size for the echo peer. */
	for (int i = 0; i < 200; i++) {
		if (hwopt_client_call(c, "status", NULL, 5000, &res, &err) != HWOPT_CALL_OK) {
			fprintf(stderr, "bench_rpc: status failed\n");
			return 1;
		}
		char *s = cJSON_PrintUnformatted(res);
		reply_len = strlen(s) + 40;
		free(s);
		cJSON_Delete(res);
	}
	for (int i = 0; i < iters; i++) {
		double t0 = now_us();
		if (hwopt_client_call(c, "status", NULL, 5000, &res, &err) != HWOPT_CALL_OK) {
			fprintf(stderr, "bench_rpc: status failed\n");
			return 1;
		}
		lat[i] = now_us() - t0;
		cJSON_Delete(res);
	}
	hwopt_client_close(c);
	if (echo_bench(iters, reply_len, peer) < 0) {
		fprintf(stderr, "bench_rpc: echo peer failed: %s\n", strerror(errno));
		return 1;
	}
	qsort(lat, (size_t)iters, sizeof(double), cmp);
	qsort(peer, (size_t)iters, sizeof(double), cmp);
	double p50 = pct(lat, iters, 50), p99 = pct(lat, iters, 99);
	double e50 = pct(peer, iters, 50), e99 = pct(peer, iters, 99);
	printf("%-28s %10s %10s\n", "round trip (us)", "p50", "p99");
	printf("%-28s %10.1f %10.1f\n", "hwoptd status", p50, p99);
	printf("%-28s %10.1f %10.1f\n", "unix socket echo (peer)", e50, e99);
	printf("%-28s %10.2f %10.2f\n", "ratio hwoptd / echo", p50 / e50, p99 / e99);
	printf("{\"bench\":\"status_rtt\",\"iterations\":%d,\"reply_bytes\":%zu,"
	       "\"hwoptd_p50_us\":%.2f,\"hwoptd_p99_us\":%.2f,\"echo_p50_us\":%.2f,"
	       "\"echo_p99_us\":%.2f,\"ratio_p50\":%.3f,\"ratio_p99\":%.3f}\n",
	       iters, reply_len, p50, p99, e50, e99, p50 / e50, p99 / e99);
	free(lat);
	free(peer);
	return 0;
}
