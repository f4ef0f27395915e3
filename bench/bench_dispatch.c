/* bench_dispatch: what hwoptd's dispatch costs, each figure beside a peer
 * measured in the same run. bench/dispatch.py starts the daemon and calls
 * one subcommand per part of `make bench-dispatch`:
 *
 *   latency     one client, one request at a time: infer of a tiny model
 *               (base64) against hwrt_run in this process, a Unix-socket
 *               echo of the same request bytes, and the `status` method.
 *   throughput  1, 8, 64 pipelining clients (a thread and a connection
 *               each), batchable or not, against the echo with the same
 *               clients and the runtime in process on every core.
 *   pool        a 64 MiB input through a shared-memory pool against inline
 *               base64.
 *   oversub     N clients each sending one request after another, all
 *               started at once (the peer, N separate ONNX Runtime
 *               processes, is run by the driver).
 *
 * Every subcommand repeats its variants in rounds, interleaved so that drift
 * on a shared machine falls on all alike, and prints "JSON {...}" lines with
 * the medians over rounds. It checks the daemon's outputs against the model
 * run in process and exits non-zero on any error or wrong answer: a
 * benchmark that times wrong answers measures nothing. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clients/c/hwoptclient.h"
#include "proto/base64.h"
#include "runtime/hwrt.h"

#define ANSWER_TIMEOUT_MS 60000
#define MAX_CLIENTS 256
#define MAX_ROUNDS 64
#define SEQ_RING 1024 /* send times of requests in flight, by id; > any inflight */

/* ---- small utilities -------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double us_between(uint64_t t0, uint64_t t1)
{
	return (double)(t1 - t0) / 1e3;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000u), (long)(t % 1000000000u) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Any failure ends the benchmark: exit() from any thread stops them all. */
__attribute__((noreturn, format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench_dispatch: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		fail("out of memory (%zu bytes)", n);
	return p;
}

/* A growing array of latencies in microseconds. */
struct samples {
	double *v;
	size_t n, cap;
};

static void samples_add(struct samples *s, double x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4096;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			fail("out of memory");
	}
	s->v[s->n++] = x;
}

static void samples_merge(struct samples *to, const struct samples *from)
{
	for (size_t i = 0; i < from->n; i++)
		samples_add(to, from->v[i]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile; sorts v in place. NaN when empty. */
static double percentile(double *v, size_t n, double p)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);
	return v[rank ? rank - 1 : 0];
}

static double samples_pct(struct samples *s, double p)
{
	return percentile(s->v, s->n, p);
}

/* The median of n values (copied: the caller's order is kept). */
static double median_of(const double *v, size_t n)
{
	double tmp[MAX_ROUNDS];
	memcpy(tmp, v, n * sizeof(*v));
	return percentile(tmp, n, 50);
}

/* CPU time of another process (utime + stime from /proc, in clock ticks). */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return NAN;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name, which may hold spaces: skip to ')'. */
	const char *p = strrchr(buf, ')');
	unsigned long long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return NAN;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the model in process ----------------------------------------------------- */

/* The bench's models have one input and one output, both float. */
struct local_model {
	struct hwrt_model *m;
	const char *in_name, *out_name;
};

static void local_load(struct local_model *lm, const char *path)
{
	char err[512];
	struct hwrt_options opt = { .precision = HWRT_PREC_FP32 };
	lm->m = hwrt_model_load(path, &opt, err, sizeof(err));
	if (!lm->m)
		fail("%s: %s", path, err);
	if (hwrt_model_n_inputs(lm->m) != 1 || hwrt_model_n_outputs(lm->m) != 1 ||
	    hwrt_model_input(lm->m, 0)->dtype != HWRT_FLOAT ||
	    hwrt_model_output(lm->m, 0)->dtype != HWRT_FLOAT)
		fail("%s: the bench takes models of one float input and one float output", path);
	lm->in_name = hwrt_model_input(lm->m, 0)->name;
	lm->out_name = hwrt_model_output(lm->m, 0)->name;
}

/* Runs once on the calling thread; the output's data belongs to s. */
static void local_run(struct hwrt_session *s, const struct hwrt_tensor *in, struct hwrt_tensor *out)
{
	char err[512];
	if (hwrt_run(s, in, 1, out, 1, NULL, err, sizeof(err)) != 0)
		fail("in-process run: %s", err);
}

/* A float input of the given shape, filled reproducibly in [-1, 1). */
static struct hwrt_tensor random_input(const int64_t *dims, int rank, uint64_t seed)
{
	struct hwrt_tensor t = { .dtype = HWRT_FLOAT, .rank = rank };
	memcpy(t.dims, dims, (size_t)rank * sizeof(*dims));
	t.data = xmalloc(hwrt_tensor_bytes(&t));
	hwrt_tensor_fill_random(&t, &seed);
	return t;
}

/* What an answer must hold: the output computed in process. */
struct expect {
	const char *name;
	float *v;
	size_t n;
	double rtol, atol;
};

static struct expect expect_from(const struct local_model *lm, const struct hwrt_tensor *in,
				 double rtol, double atol)
{
	struct hwrt_session *s = hwrt_session_create(lm->m);
	if (!s)
		fail("cannot create a session");
	struct hwrt_tensor out;
	local_run(s, in, &out);
	struct expect e = { lm->out_name, NULL, (size_t)hwrt_tensor_count(&out), rtol, atol };
	e.v = xmalloc(e.n * sizeof(float));
	memcpy(e.v, out.data, e.n * sizeof(float));
	hwrt_session_free(s);
	return e;
}

/* ---- answers ------------------------------------------------------------------- */

__attribute__((noreturn)) static void fail_rpc(const char *what, enum hwopt_call_status st,
					      cJSON *error)
{
	char *text = error ? cJSON_PrintUnformatted(error) : NULL;
	fail("%s: %s", what,
	     st == HWOPT_CALL_RPC_ERROR ? (text ? text : "error") :
	     st == HWOPT_CALL_TIMEOUT ? "no answer in time" :
	     st == HWOPT_CALL_BAD_REPLY ? "not a JSON-RPC answer" : strerror(errno));
}

static double json_number(const cJSON *o, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		x = cJSON_GetObjectItemCaseSensitive(x, b);
	return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* Fails unless result.outputs holds e's output with e's values. */
static void check_output(const cJSON *result, const struct expect *e, const char *what)
{
	const cJSON *outs = cJSON_GetObjectItemCaseSensitive(result, "outputs");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(outs, e->name);
	char dtype[16];
	int64_t shape[HWOPT_TENSOR_MAX_RANK];
	int rank;
	void *data = NULL;
	size_t bytes;
	int rc = t ? hwopt_tensor_decode(t, dtype, shape, &rank, &data, &bytes) : -ENOENT;
	if (rc < 0)
		fail("%s: output %s: %s", what, e->name, strerror(-rc));
	if (strcmp(dtype, "float") != 0 || bytes != e->n * sizeof(float))
		fail("%s: output %s is %s of %zu bytes, expected float of %zu", what, e->name,
		     dtype, bytes, e->n * sizeof(float));
	const float *got = data;
	for (size_t i = 0; i < e->n; i++)
		if (!(fabs((double)got[i] - e->v[i]) <= e->atol + e->rtol * fabs((double)e->v[i])))
			fail("%s: output %s[%zu] is %.9g, in process %.9g", what, e->name, i,
			     (double)got[i], (double)e->v[i]);
	free(data);
}

/* Receives one answer and checks it; returns the result (caller frees). */
static cJSON *recv_checked(struct hwopt_client *c, const struct expect *e, const char *what,
			   long long *id)
{
	cJSON *res = NULL, *err = NULL;
	enum hwopt_call_status st = hwopt_client_recv(c, ANSWER_TIMEOUT_MS, id, &res, &err);
	if (st != HWOPT_CALL_OK)
		fail_rpc(what, st, err);
	check_output(res, e, what);
	return res;
}

/* ---- the daemon ----------------------------------------------------------------- */

static struct hwopt_client *connect_or_fail(const char *sock)
{
	struct hwopt_client *c = hwopt_client_connect(sock, 5000);
	if (!c)
		fail("cannot connect to %s: %s", sock, strerror(errno));
	hwopt_client_set_timeout(c, ANSWER_TIMEOUT_MS);
	return c;
}

static cJSON *call_or_fail(struct hwopt_client *c, const char *method, cJSON *params)
{
	cJSON *res = NULL, *err = NULL;
	enum hwopt_call_status st = hwopt_client_call(c, method, params, ANSWER_TIMEOUT_MS, &res, &err);
	if (st != HWOPT_CALL_OK)
		fail_rpc(method, st, err);
	return res;
}

/* Models named in the config load after the socket opens: wait for each. */
static void wait_ready(struct hwopt_client *c, const char *model)
{
	for (int tries = 0; tries < 600; tries++) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", model);
		cJSON *res = NULL, *err = NULL;
		enum hwopt_call_status st = hwopt_client_call(c, "model.list", p, 5000, &res, &err);
		if (st != HWOPT_CALL_OK && st != HWOPT_CALL_RPC_ERROR)
			fail_rpc("model.list", st, err);
		const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "models"), 0);
		const cJSON *state = cJSON_GetObjectItemCaseSensitive(m, "state");
		bool ready = cJSON_IsString(state) && strcmp(state->valuestring, "ready") == 0;
		cJSON_Delete(res);
		cJSON_Delete(err);
		if (ready)
			return;
		usleep(50000);
	}
	fail("model %s did not become ready", model);
}

static pid_t daemon_pid(struct hwopt_client *c)
{
	cJSON *res = call_or_fail(c, "status", NULL);
	pid_t pid = (pid_t)json_number(res, "pid", NULL);
	cJSON_Delete(res);
	return pid;
}

/* infer params for one input sent as base64, rendered once and sent many
 * times with hwopt_client_send_text. */
static char *infer_params_b64(const char *model, const char *input, const struct hwrt_tensor *t,
			      bool batchable)
{
	size_t bytes = hwrt_tensor_bytes(t), b64 = hwopt_b64_encoded_len(bytes);
	char *s = xmalloc(b64 + 512 + strlen(model) + strlen(input));
	int n = sprintf(s, "{\"model\":\"%s\",\"inputs\":{\"%s\":{\"dtype\":\"float\",\"shape\":[",
			model, input);
	for (int d = 0; d < t->rank; d++)
		n += sprintf(s + n, "%s%lld", d ? "," : "", (long long)t->dims[d]);
	n += sprintf(s + n, "],\"data_b64\":\"");
	hwopt_b64_encode(t->data, bytes, s + n);
	sprintf(s + n + b64, "\"}}%s}", batchable ? ",\"batchable\":true" : "");
	return s;
}

static long long send_or_fail(struct hwopt_client *c, const char *method, const char *params)
{
	long long id;
	enum hwopt_call_status st = hwopt_client_send_text(c, method, params, &id);
	if (st != HWOPT_CALL_OK)
		fail_rpc(method, st, NULL);
	return id;
}

/* ---- the echo peer --------------------------------------------------------------- */

static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Writes back every byte it reads: the floor any socket daemon pays. */
static void *echo_serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	const size_t cap = 256 * 1024;
	char *buf = xmalloc(cap);
	ssize_t n;
	while ((n = recv(fd, buf, cap, 0)) > 0 && write_all(fd, buf, (size_t)n))
		;
	free(buf);
	return NULL;
}

/* Binds the calling thread to one CPU (cpu < 0: leaves it be). */
static void pin_to(int cpu)
{
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fail("cannot bind to CPU %d: %s", cpu, strerror(errno));
}

/* In a forked echo: closes every inherited descriptor but stdio and its
 * own sockets (ascending), so that no other socket of the bench (its
 * daemon connection, another echo's pair) is held open by the echo. */
static void close_others(const int *keep, int n)
{
	unsigned from = 3;
	for (int i = 0; i < n; i++) {
		if ((unsigned)keep[i] > from)
			close_range(from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	close_range(from, ~0u, 0);
}

/* Forks a process, as hwoptd is one, serving n socket pairs with a thread
 * each, all on CPU cpu (< 0: where the kernel puts them); fds[i] receive
 * the bench's ends. Call before starting threads. */
static pid_t echo_spawn(int n, int *fds, int cpu)
{
	int theirs[MAX_CLIENTS];
	for (int i = 0; i < n; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			fail("socketpair: %s", strerror(errno));
		fds[i] = sv[0];
		theirs[i] = sv[1];
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		pthread_t th[MAX_CLIENTS];
		pin_to(cpu); /* its threads inherit it */
		close_others(theirs, n);
		for (int i = 0; i < n; i++)
			pthread_create(&th[i], NULL, echo_serve, (void *)(intptr_t)theirs[i]);
		for (int i = 0; i < n; i++)
			pthread_join(th[i], NULL);
		_exit(0);
	}
	for (int i = 0; i < n; i++)
		close(theirs[i]);
	return pid;
}

static void echo_stop(pid_t pid, int n, const int *fds)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
	int status;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("the echo peer failed");
}

static void send_all(int fd, const char *p, size_t n)
{
	if (!write_all(fd, p, n))
		fail("echo send: %s", strerror(errno));
}

/* One round trip of len bytes through the echo. */
static void echo_roundtrip(int fd, const char *line, size_t len, char *buf)
{
	send_all(fd, line, len);
	for (size_t got = 0; got < len;) {
		ssize_t r = recv(fd, buf + got, len - got, 0);
		if (r <= 0)
			fail("echo recv: %s", r ? strerror(errno) : "closed");
		got += (size_t)r;
	}
	if (memcmp(buf, line, len) != 0)
		fail("the echo peer changed the bytes");
}

/* The line hwopt_client_send_text writes for these params. */
static char *request_line(const char *method, const char *params, size_t *len)
{
	char *s = xmalloc(strlen(params) + strlen(method) + 128);
	*len = (size_t)sprintf(s, "{\"jsonrpc\":\"2.0\",\"id\":1000000,\"method\":\"%s\",\"params\":%s}\n",
			       method, params);
	return s;
}

/* ---- options ------------------------------------------------------------------------ */

struct opts {
	const char *socket, *model, *model_batch, *path, *input;
	int clients[8], n_clients;
	int inflight, iters, rounds, requests;
	double seconds;
};

static void parse_clients(struct opts *o, char *list)
{
	o->n_clients = 0;
	for (char *tok = strtok(list, ","); tok && o->n_clients < 8; tok = strtok(NULL, ",")) {
		int n = atoi(tok);
		if (n < 1 || n > MAX_CLIENTS)
			fail("--clients: %s is not in 1..%d", tok, MAX_CLIENTS);
		o->clients[o->n_clients++] = n;
	}
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "model", required_argument, NULL, 'm' },
		{ "model-batch", required_argument, NULL, 'b' },
		{ "path", required_argument, NULL, 'p' },
		{ "input", required_argument, NULL, 'i' },
		{ "clients", required_argument, NULL, 'c' },
		{ "inflight", required_argument, NULL, 'f' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "requests", required_argument, NULL, 'q' },
		{ "seconds", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct opts){ .clients = { 1 }, .n_clients = 1, .inflight = 32, .iters = 2000,
			    .rounds = 5, .requests = 100, .seconds = 1.0 };
	int ch;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 's': o->socket = optarg; break;
		case 'm': o->model = optarg; break;
		case 'b': o->model_batch = optarg; break;
		case 'p': o->path = optarg; break;
		case 'i': o->input = optarg; break;
		case 'c': parse_clients(o, optarg); break;
		case 'f': o->inflight = atoi(optarg); break;
		case 'n': o->iters = atoi(optarg); break;
		case 'r': o->rounds = atoi(optarg); break;
		case 'q': o->requests = atoi(optarg); break;
		case 't': o->seconds = atof(optarg); break;
		default: exit(2);
		}
	}
	if (!o->socket || !o->model || !o->path)
		fail("--socket, --model and --path are required");
	if (o->rounds < 1 || o->rounds > MAX_ROUNDS || o->iters < 10 || o->requests < 1 ||
	    o->inflight < 1 || o->inflight >= SEQ_RING || o->seconds <= 0)
		fail("an option is out of range");
}

/* ---- (a) latency: one request at a time ------------------------------------------- */

/* p50 and p99 of one variant in each round. */
struct pct_rounds {
	double p50[MAX_ROUNDS], p99[MAX_ROUNDS];
};

static void record_round(struct pct_rounds *pr, int r, struct samples *s)
{
	pr->p50[r] = samples_pct(s, 50);
	pr->p99[r] = samples_pct(s, 99);
	s->n = 0;
}

/* The daemon's own account of a request: arrival to answer encoded. */
struct daemon_timings {
	struct samples queue, compute, total;
};

static void daemon_rtt_round(struct hwopt_client *c, const char *params, const struct expect *e,
			     int iters, struct samples *lat, struct daemon_timings *dt)
{
	for (int i = 0; i < iters; i++) {
		uint64_t t0 = now_ns();
		send_or_fail(c, "infer", params);
		cJSON *res = NULL, *err = NULL;
		enum hwopt_call_status st = hwopt_client_recv(c, ANSWER_TIMEOUT_MS, NULL, &res, &err);
		uint64_t t1 = now_ns();
		if (st != HWOPT_CALL_OK)
			fail_rpc("infer", st, err);
		check_output(res, e, "infer");
		samples_add(lat, us_between(t0, t1));
		samples_add(&dt->queue, json_number(res, "timings", "queue_us"));
		samples_add(&dt->compute, json_number(res, "timings", "compute_us"));
		samples_add(&dt->total, json_number(res, "timings", "total_us"));
		cJSON_Delete(res);
	}
}

static void status_rtt_round(struct hwopt_client *c, int iters, struct samples *lat)
{
	for (int i = 0; i < iters; i++) {
		uint64_t t0 = now_ns();
		cJSON *res = call_or_fail(c, "status", NULL);
		samples_add(lat, us_between(t0, now_ns()));
		cJSON_Delete(res);
	}
}

static void echo_rtt_round(int fd, const char *line, size_t len, int iters, struct samples *lat)
{
	char *buf = xmalloc(len);
	for (int i = 0; i < iters; i++) {
		uint64_t t0 = now_ns();
		echo_roundtrip(fd, line, len, buf);
		samples_add(lat, us_between(t0, now_ns()));
	}
	free(buf);
}

/* The echo floor comes in two kinds on a VM: a round trip between two
 * threads on one CPU is two context switches, while one between CPUs also
 * wakes an idle vCPU each way (an IPI through the hypervisor), several times
 * dearer. The kernel's placement picks either from run to run, so both are
 * measured with the bench and the echo bound to CPUs: the bench on `same`,
 * one echo there too and one on `cross` (-1 when there is one CPU only). */
struct echo_pair {
	int same, cross;
	int fd[2];
	pid_t pid[2];
	cpu_set_t mask; /* the bench's own CPUs, restored between echo rounds */
};

static void echo_pair_start(struct echo_pair *ep)
{
	if (sched_getaffinity(0, sizeof(ep->mask), &ep->mask) < 0)
		fail("sched_getaffinity: %s", strerror(errno));
	ep->same = ep->cross = -1;
	for (int cpu = 0; cpu < CPU_SETSIZE && ep->cross < 0; cpu++)
		if (CPU_ISSET(cpu, &ep->mask))
			*(ep->same < 0 ? &ep->same : &ep->cross) = cpu;
	for (int k = 0; k < 2; k++)
		if (k == 0 || ep->cross >= 0)
			ep->pid[k] = echo_spawn(1, &ep->fd[k], k == 0 ? ep->same : ep->cross);
}

/* One round of each echo, recorded as round r of ec[0] (same CPU) and
 * ec[1] (across CPUs); the daemon's rounds run unbound. */
static void echo_pair_round(struct echo_pair *ep, const char *line, size_t len, int iters,
			    struct samples *lat, struct pct_rounds *ec, int r)
{
	pin_to(ep->same);
	for (int k = 0; k < 2; k++) {
		if (k == 1 && ep->cross < 0)
			break;
		echo_rtt_round(ep->fd[k], line, len, iters, lat);
		record_round(&ec[k], r, lat);
	}
	if (sched_setaffinity(0, sizeof(ep->mask), &ep->mask) < 0)
		fail("sched_setaffinity: %s", strerror(errno));
}

static void echo_pair_stop(struct echo_pair *ep)
{
	for (int k = 0; k < 2; k++)
		if (k == 0 || ep->cross >= 0)
			echo_stop(ep->pid[k], 1, &ep->fd[k]);
}

static void local_rtt_round(struct hwrt_session *s, const struct hwrt_tensor *in, int iters,
			    struct samples *lat)
{
	struct hwrt_tensor out;
	for (int i = 0; i < iters; i++) {
		uint64_t t0 = now_ns();
		local_run(s, in, &out);
		samples_add(lat, us_between(t0, now_ns()));
	}
}

/* What the client library spends on one answer: parsing the line and
 * decoding the output, part of the daemon's round trip but not the echo's. */
static double client_parse_us(struct hwopt_client *c, const char *params)
{
	send_or_fail(c, "infer", params);
	cJSON *res = NULL, *err = NULL;
	if (hwopt_client_recv(c, ANSWER_TIMEOUT_MS, NULL, &res, &err) != HWOPT_CALL_OK)
		fail("infer failed");
	cJSON *msg = cJSON_CreateObject();
	cJSON_AddStringToObject(msg, "jsonrpc", "2.0");
	cJSON_AddNumberToObject(msg, "id", 1000000);
	cJSON_AddItemToObject(msg, "result", res);
	char *line = cJSON_PrintUnformatted(msg);
	cJSON_Delete(msg);
	const int n = 20000;
	uint64_t t0 = now_ns();
	for (int i = 0; i < n; i++) {
		cJSON *m = cJSON_Parse(line);
		const cJSON *outs = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(m, "result"), "outputs");
		char dtype[16];
		int64_t shape[HWOPT_TENSOR_MAX_RANK];
		int rank;
		void *data = NULL;
		size_t bytes;
		hwopt_tensor_decode(outs ? outs->child : NULL, dtype, shape, &rank, &data, &bytes);
		free(data);
		cJSON_Delete(m);
	}
	double us = us_between(t0, now_ns()) / n;
	free(line);
	return us;
}

static void print_pct(const char *key, const struct pct_rounds *pr, int rounds, bool last)
{
	printf("\"%s_p50_us\":%.2f,\"%s_p99_us\":%.2f%s", key, median_of(pr->p50, (size_t)rounds),
	       key, median_of(pr->p99, (size_t)rounds), last ? "" : ",");
}

/* Added latency per round (daemon minus peer), then the median. */
static double added(const double *a, const double *b, int rounds)
{
	double d[MAX_ROUNDS];
	for (int r = 0; r < rounds; r++)
		d[r] = a[r] - b[r];
	return median_of(d, (size_t)rounds);
}

static int cmd_latency(const struct opts *o)
{
	struct local_model lm;
	local_load(&lm, o->path);
	struct hwrt_tensor x = random_input((int64_t[]){ 1, 16 }, 2, 7);
	struct expect e = expect_from(&lm, &x, 1e-5, 1e-7);
	char *params = infer_params_b64(o->model, lm.in_name, &x, false);
	size_t line_len;
	char *line = request_line("infer", params, &line_len);

	struct hwopt_client *c = connect_or_fail(o->socket);
	wait_ready(c, o->model);
	struct hwrt_session *sess = hwrt_session_create(lm.m);
	if (!sess)
		fail("cannot create a session");
	struct echo_pair ep;
	echo_pair_start(&ep);

	/* Warm every path: first-touch pages, the daemon's arenas, caches. */
	struct samples lat = { 0 };
	struct daemon_timings dt = { 0 };
	struct pct_rounds d = { 0 }, lo = { 0 }, st = { 0 }, ec[2] = { 0 };
	daemon_rtt_round(c, params, &e, 300, &lat, &dt);
	echo_pair_round(&ep, line, line_len, 300, &lat, ec, 0);
	local_rtt_round(sess, &x, 300, &lat);
	status_rtt_round(c, 300, &lat);
	lat.n = dt.queue.n = dt.compute.n = dt.total.n = 0;

	for (int r = 0; r < o->rounds; r++) {
		daemon_rtt_round(c, params, &e, o->iters, &lat, &dt);
		record_round(&d, r, &lat);
		echo_pair_round(&ep, line, line_len, o->iters, &lat, ec, r);
		local_rtt_round(sess, &x, o->iters, &lat);
		record_round(&lo, r, &lat);
		status_rtt_round(c, o->iters, &lat);
		record_round(&st, r, &lat);
	}
	double parse_us = client_parse_us(c, params);
	echo_pair_stop(&ep);

	printf("JSON {\"bench\":\"dispatch_latency\",\"model\":\"%s\",\"rounds\":%d,"
	       "\"iterations\":%d,\"request_bytes\":%zu,", o->model, o->rounds, o->iters, line_len);
	print_pct("daemon", &d, o->rounds, false);
	print_pct("inproc", &lo, o->rounds, false);
	print_pct("echo_same_cpu", &ec[0], o->rounds, false);
	print_pct("status", &st, o->rounds, false);
	if (ep.cross >= 0)
		print_pct("echo_cross_cpu", &ec[1], o->rounds, false);
	printf("\"added_vs_inproc_p50_us\":%.2f,\"added_vs_inproc_p99_us\":%.2f,"
	       "\"added_vs_echo_same_cpu_p50_us\":%.2f,\"added_vs_echo_same_cpu_p99_us\":%.2f,",
	       added(d.p50, lo.p50, o->rounds), added(d.p99, lo.p99, o->rounds),
	       added(d.p50, ec[0].p50, o->rounds), added(d.p99, ec[0].p99, o->rounds));
	if (ep.cross >= 0)
		printf("\"added_vs_echo_cross_cpu_p50_us\":%.2f,"
		       "\"added_vs_echo_cross_cpu_p99_us\":%.2f,",
		       added(d.p50, ec[1].p50, o->rounds), added(d.p99, ec[1].p99, o->rounds));
	printf("\"daemon_queue_p50_us\":%.2f,\"daemon_compute_p50_us\":%.2f,"
	       "\"daemon_total_p50_us\":%.2f,\"client_parse_us\":%.2f}\n",
	       samples_pct(&dt.queue, 50), samples_pct(&dt.compute, 50),
	       samples_pct(&dt.total, 50), parse_us);
	hwopt_client_close(c);
	hwrt_session_free(sess);
	hwrt_model_free(lm.m);
	return 0;
}

/* ---- (b) throughput: pipelining clients --------------------------------------------- */

/* One measured run: every thread starts together and counts the answers
 * that arrive inside [begin, end); warm-up before it, drain after it. */
struct tp_window {
	pthread_barrier_t barrier;
	uint64_t begin, end;
	int inflight;
};

struct tp_thread {
	pthread_t th;
	struct tp_window *w;
	struct hwopt_client *c; /* the daemon's connection, or */
	int fd;                 /* the echo's */
	const char *params;     /* daemon: infer params */
	const char *line;       /* echo: the request line */
	size_t line_len;
	const struct expect *e;
	uint64_t done;          /* answers inside the window */
	double batch_sum;       /* requests of the runs that served them */
	struct samples lat;
};

static void tp_count(struct tp_thread *t, uint64_t sent, uint64_t got, double batch)
{
	if (got < t->w->begin || got >= t->w->end)
		return;
	t->done++;
	t->batch_sum += batch;
	samples_add(&t->lat, us_between(sent, got));
}

static void *tp_daemon_thread(void *arg)
{
	struct tp_thread *t = arg;
	uint64_t sent_at[SEQ_RING];
	int outstanding = 0;
	pthread_barrier_wait(&t->w->barrier);
	for (;;) {
		uint64_t now = now_ns();
		bool sending = now < t->w->end;
		while (sending && outstanding < t->w->inflight) {
			uint64_t t0 = now_ns();
			long long id = send_or_fail(t->c, "infer", t->params);
			sent_at[id % SEQ_RING] = t0;
			outstanding++;
		}
		if (!outstanding)
			break;
		long long id;
		cJSON *res = recv_checked(t->c, t->e, "infer", &id);
		if (id < 0)
			fail("an answer without our id");
		tp_count(t, sent_at[id % SEQ_RING], now_ns(), json_number(res, "batch", "requests"));
		cJSON_Delete(res);
		outstanding--;
	}
	return NULL;
}

/* Echo answers come in order, so a FIFO of send times pairs them. */
static void *tp_echo_thread(void *arg)
{
	struct tp_thread *t = arg;
	uint64_t sent_at[SEQ_RING];
	uint64_t n_sent = 0, n_got = 0, bytes_got = 0;
	char buf[64 * 1024];
	pthread_barrier_wait(&t->w->barrier);
	for (;;) {
		bool sending = now_ns() < t->w->end;
		while (sending && n_sent - n_got < (uint64_t)t->w->inflight) {
			sent_at[n_sent++ % SEQ_RING] = now_ns();
			send_all(t->fd, t->line, t->line_len);
		}
		if (n_sent == n_got)
			break;
		ssize_t r = recv(t->fd, buf, sizeof(buf), 0);
		if (r <= 0)
			fail("echo recv: %s", r ? strerror(errno) : "closed");
		uint64_t now = now_ns();
		bytes_got += (uint64_t)r;
		for (; n_got < bytes_got / t->line_len; n_got++)
			tp_count(t, sent_at[n_got % SEQ_RING], now, 1);
	}
	return NULL;
}

/* The figures of one run. */
struct tp_stats {
	double rps, p50, p99, batch_mean;
	double client_cpu, server_cpu; /* cores busy on average over the window */
};

/* Runs n threads over the window; server is the process whose CPU is read
 * alongside the bench's own. */
static struct tp_stats tp_measure(struct tp_thread *t, int n, void *(*fn)(void *),
				  struct tp_window *w, double seconds, pid_t server)
{
	pthread_barrier_init(&w->barrier, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++) {
		t[i].w = w;
		if (pthread_create(&t[i].th, NULL, fn, &t[i]) != 0)
			fail("cannot start a client thread");
	}
	/* Warm-up 0.2 s: connections' buffers, the daemon's arenas and batch
	 * pace settle before counting starts. */
	w->begin = now_ns() + 200000000u;
	w->end = w->begin + (uint64_t)(seconds * 1e9);
	pthread_barrier_wait(&w->barrier);
	sleep_until(w->begin);
	double c0 = self_cpu_s(), s0 = proc_cpu_s(server);
	sleep_until(w->end);
	double c1 = self_cpu_s(), s1 = proc_cpu_s(server);
	struct samples all = { 0 };
	uint64_t done = 0;
	double batch = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(t[i].th, NULL);
		done += t[i].done;
		batch += t[i].batch_sum;
		samples_merge(&all, &t[i].lat);
		free(t[i].lat.v);
		t[i].lat = (struct samples){ 0 };
		t[i].done = 0;
		t[i].batch_sum = 0;
	}
	pthread_barrier_destroy(&w->barrier);
	struct tp_stats st = { (double)done / seconds, samples_pct(&all, 50), samples_pct(&all, 99),
			       done ? batch / (double)done : NAN, (c1 - c0) / seconds,
			       (s1 - s0) / seconds };
	free(all.v);
	return st;
}

static struct tp_stats tp_daemon(const struct opts *o, int n, const char *params,
				 const struct expect *e, pid_t daemon)
{
	struct tp_thread t[MAX_CLIENTS] = { 0 };
	struct tp_window w = { .inflight = o->inflight };
	for (int i = 0; i < n; i++) {
		t[i].c = connect_or_fail(o->socket);
		t[i].params = params;
		t[i].e = e;
	}
	struct tp_stats st = tp_measure(t, n, tp_daemon_thread, &w, o->seconds, daemon);
	for (int i = 0; i < n; i++)
		hwopt_client_close(t[i].c);
	return st;
}

static struct tp_stats tp_echo(const struct opts *o, int n, const char *line, size_t len)
{
	struct tp_thread t[MAX_CLIENTS] = { 0 };
	struct tp_window w = { .inflight = o->inflight };
	int fds[MAX_CLIENTS];
	pid_t pid = echo_spawn(n, fds, -1);
	for (int i = 0; i < n; i++) {
		t[i].fd = fds[i];
		t[i].line = line;
		t[i].line_len = len;
	}
	struct tp_stats st = tp_measure(t, n, tp_echo_thread, &w, o->seconds, pid);
	echo_stop(pid, n, fds);
	return st;
}

/* The runtime in this process, one thread and session per core: what the
 * machine computes with no dispatch at all (rows per second). */
struct inproc_thread {
	pthread_t th;
	const struct hwrt_model *m;
	const struct hwrt_tensor *in;
	pthread_barrier_t *barrier;
	const uint64_t *begin, *end;
	uint64_t runs;
};

static void *inproc_thread_main(void *arg)
{
	struct inproc_thread *t = arg;
	struct hwrt_session *s = hwrt_session_create(t->m);
	if (!s)
		fail("cannot create a session");
	struct hwrt_tensor out;
	pthread_barrier_wait(t->barrier);
	uint64_t now;
	while ((now = now_ns()) < *t->end) {
		local_run(s, t->in, &out);
		t->runs += now >= *t->begin;
	}
	hwrt_session_free(s);
	return NULL;
}

static double tp_inproc(const struct hwrt_model *m, int rows, int threads, double seconds)
{
	struct hwrt_tensor x = random_input((int64_t[]){ rows, 16 }, 2, 11);
	struct inproc_thread t[MAX_CLIENTS];
	pthread_barrier_t barrier;
	uint64_t begin = 0, end = UINT64_MAX;
	pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1);
	for (int i = 0; i < threads; i++) {
		t[i] = (struct inproc_thread){ .m = m, .in = &x, .barrier = &barrier,
					       .begin = &begin, .end = &end };
		pthread_create(&t[i].th, NULL, inproc_thread_main, &t[i]);
	}
	begin = now_ns() + 100000000u;
	end = begin + (uint64_t)(seconds * 1e9);
	pthread_barrier_wait(&barrier);
	uint64_t runs = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i].th, NULL);
		runs += t[i].runs;
	}
	pthread_barrier_destroy(&barrier);
	free(x.data);
	return (double)runs * rows / seconds;
}

/* Medians over rounds of each figure of a variant. */
struct tp_rounds {
	struct tp_stats r[MAX_ROUNDS];
};

static void print_tp(const char *variant, int clients, const struct opts *o,
		     const struct tp_rounds *tr)
{
	double v[6][MAX_ROUNDS];
	for (int r = 0; r < o->rounds; r++) {
		const struct tp_stats *s = &tr->r[r];
		double f[6] = { s->rps, s->p50, s->p99, s->batch_mean, s->client_cpu, s->server_cpu };
		for (int k = 0; k < 6; k++)
			v[k][r] = f[k];
	}
	size_t n = (size_t)o->rounds;
	printf("JSON {\"bench\":\"dispatch_throughput\",\"variant\":\"%s\",\"clients\":%d,"
	       "\"inflight\":%d,\"seconds\":%.2f,\"rounds\":%d,\"rps\":%.0f,\"p50_us\":%.1f,"
	       "\"p99_us\":%.1f,\"batch_mean\":%.2f,\"client_cpu\":%.2f,\"server_cpu\":%.2f,"
	       "\"rps_rounds\":[", variant, clients, o->inflight, o->seconds, o->rounds,
	       median_of(v[0], n), median_of(v[1], n), median_of(v[2], n), median_of(v[3], n),
	       median_of(v[4], n), median_of(v[5], n));
	for (int r = 0; r < o->rounds; r++)
		printf("%s%.0f", r ? "," : "", v[0][r]);
	printf("]}\n");
}

static int cmd_throughput(const struct opts *o)
{
	if (!o->model_batch)
		fail("--model-batch is required");
	struct local_model lm;
	local_load(&lm, o->path);
	struct hwrt_tensor x = random_input((int64_t[]){ 1, 16 }, 2, 7);
	/* A batched row goes through a GEMM of more rows: allow the rounding
	 * of another summation order. */
	struct expect e = expect_from(&lm, &x, 1e-4, 1e-6);
	char *plain = infer_params_b64(o->model, lm.in_name, &x, false);
	char *batch = infer_params_b64(o->model_batch, lm.in_name, &x, true);
	size_t line_len;
	char *line = request_line("infer", plain, &line_len);
	struct hwopt_client *c = connect_or_fail(o->socket);
	wait_ready(c, o->model);
	wait_ready(c, o->model_batch);
	pid_t daemon = daemon_pid(c);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int threads = cores < 1 ? 1 : cores > MAX_CLIENTS ? MAX_CLIENTS : (int)cores;

	static struct tp_rounds plain_r[8], batch_r[8], echo_r[8];
	double inproc1[MAX_ROUNDS], inproc64[MAX_ROUNDS];
	for (int r = 0; r < o->rounds; r++) {
		for (int k = 0; k < o->n_clients; k++) {
			int n = o->clients[k];
			plain_r[k].r[r] = tp_daemon(o, n, plain, &e, daemon);
			batch_r[k].r[r] = tp_daemon(o, n, batch, &e, daemon);
			echo_r[k].r[r] = tp_echo(o, n, line, line_len);
		}
		inproc1[r] = tp_inproc(lm.m, 1, threads, o->seconds / 2);
		inproc64[r] = tp_inproc(lm.m, 64, threads, o->seconds / 2);
	}
	for (int k = 0; k < o->n_clients; k++) {
		print_tp("daemon", o->clients[k], o, &plain_r[k]);
		print_tp("daemon_batchable", o->clients[k], o, &batch_r[k]);
		print_tp("echo", o->clients[k], o, &echo_r[k]);
	}
	printf("JSON {\"bench\":\"dispatch_throughput_inproc\",\"threads\":%d,\"rounds\":%d,"
	       "\"rows_per_s_batch1\":%.0f,\"rows_per_s_batch64\":%.0f}\n", threads, o->rounds,
	       median_of(inproc1, (size_t)o->rounds), median_of(inproc64, (size_t)o->rounds));
	hwopt_client_close(c);
	hwrt_model_free(lm.m);
	return 0;
}

/* ---- (c) a large input: shared-memory pool against inline base64 ---------------------- */

/* Two inputs whose means differ by 1: requests alternate between them, so
 * an answer computed on the other request's (stale) bytes is caught. */
struct big_inputs {
	struct hwrt_tensor t[2];
	struct expect e[2];
};

static void big_inputs_make(struct big_inputs *b, const struct local_model *lm)
{
	const struct hwrt_io_info *io = hwrt_model_input(lm->m, 0);
	for (int k = 0; k < 2; k++) {
		b->t[k] = random_input(io->dims, io->rank, 13);
		float *v = b->t[k].data;
		for (int64_t i = 0; i < hwrt_tensor_count(&b->t[k]); i++)
			v[i] = fabsf(v[i]) + (float)k;
		/* The daemon sums on more threads, in another order. */
		b->e[k] = expect_from(lm, &b->t[k], 1e-4, 1e-6);
	}
}

/* Where one request's time went, in microseconds: the client's
 * preparation of the input (memcpy or base64), sending the line (the
 * library's copy, and the socket's transfer into the daemon's line buffer,
 * since a big line only goes out as fast as the daemon reads it), and the
 * wait for the answer after that. */
struct big_times {
	double total, prepare, send, wait;
};

static struct big_times big_times_of(uint64_t t0, uint64_t t1, uint64_t t2, uint64_t t3)
{
	return (struct big_times){ us_between(t0, t3), us_between(t0, t1), us_between(t1, t2),
				   us_between(t2, t3) };
}

/* The pool path: copy into the block, infer with a reference to it. */
static struct big_times pool_request(struct hwopt_client *c, const char *params, void *block,
				     const struct hwrt_tensor *t, const struct expect *e,
				     cJSON **res)
{
	uint64_t t0 = now_ns();
	memcpy(block, t->data, hwrt_tensor_bytes(t));
	uint64_t t1 = now_ns();
	send_or_fail(c, "infer", params);
	uint64_t t2 = now_ns();
	*res = recv_checked(c, e, "infer (pool)", NULL);
	return big_times_of(t0, t1, t2, now_ns());
}

/* The base64 path: encode into the params text (its buffer reused, as a
 * client sending many would), infer with data_b64. */
static struct big_times b64_request(struct hwopt_client *c, char *params, size_t data_at,
				    const struct hwrt_tensor *t, const struct expect *e,
				    cJSON **res)
{
	uint64_t t0 = now_ns();
	hwopt_b64_encode(t->data, hwrt_tensor_bytes(t), params + data_at);
	uint64_t t1 = now_ns();
	send_or_fail(c, "infer", params);
	uint64_t t2 = now_ns();
	*res = recv_checked(c, e, "infer (base64)", NULL);
	return big_times_of(t0, t1, t2, now_ns());
}

static char *pool_params(const char *model, const char *input, const struct hwopt_pool *p,
			 uint64_t off, const struct hwrt_tensor *t)
{
	char *s = xmalloc(512);
	int n = snprintf(s, 512, "{\"model\":\"%s\",\"inputs\":{\"%s\":{\"pool\":%lld,\"offset\":%llu,"
			 "\"dtype\":\"float\",\"shape\":[", model, input, p->id,
			 (unsigned long long)off);
	for (int d = 0; d < t->rank; d++)
		n += snprintf(s + n, 512 - (size_t)n, "%s%lld", d ? "," : "", (long long)t->dims[d]);
	snprintf(s + n, 512 - (size_t)n, "]}}}");
	return s;
}

/* Per-request samples of one path over all rounds. */
struct big_path {
	struct samples total, prepare, send, wait, queue, compute, daemon_total;
};

static void big_record(struct big_path *p, struct big_times t, cJSON *res)
{
	samples_add(&p->total, t.total);
	samples_add(&p->prepare, t.prepare);
	samples_add(&p->send, t.send);
	samples_add(&p->wait, t.wait);
	samples_add(&p->queue, json_number(res, "timings", "queue_us"));
	samples_add(&p->compute, json_number(res, "timings", "compute_us"));
	samples_add(&p->daemon_total, json_number(res, "timings", "total_us"));
	cJSON_Delete(res);
}

/* Medians in milliseconds, keys prefixed with the path's name. */
static void print_big(const char *path, struct big_path *p)
{
	struct {
		const char *key;
		struct samples *s;
	} f[] = { { "", &p->total }, { "_prepare", &p->prepare }, { "_send", &p->send },
		  { "_wait", &p->wait }, { "_daemon_queue", &p->queue },
		  { "_daemon_compute", &p->compute }, { "_daemon_total", &p->daemon_total } };
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		printf("\"%s%s_ms\":%.2f,", path, f[i].key, samples_pct(f[i].s, 50) / 1e3);
}

static int cmd_pool(const struct opts *o)
{
	struct local_model lm;
	local_load(&lm, o->path);
	struct big_inputs b;
	big_inputs_make(&b, &lm);
	size_t bytes = hwrt_tensor_bytes(&b.t[0]);

	struct hwopt_client *c = connect_or_fail(o->socket);
	wait_ready(c, o->model);
	struct hwopt_pool pool;
	uint64_t off;
	cJSON *err = NULL;
	if (hwopt_pool_create(c, bytes, NULL, -1, &pool, &err) != HWOPT_CALL_OK ||
	    hwopt_pool_alloc(c, &pool, bytes, &off, &err) != HWOPT_CALL_OK)
		fail_rpc("pool.create/alloc", HWOPT_CALL_RPC_ERROR, err);
	char *pparams = pool_params(o->model, lm.in_name, &pool, off, &b.t[0]);
	char *bparams = infer_params_b64(o->model, lm.in_name, &b.t[0], false);
	size_t data_at = (size_t)(strstr(bparams, "\"data_b64\":\"") - bparams) + 12;

	struct big_path pp = { 0 }, bp = { 0 };
	void *block = (char *)pool.base + off;
	cJSON *res;
	/* Warm-up: the pool's pages, the daemon's line buffer and arenas. */
	pool_request(c, pparams, block, &b.t[1], &b.e[1], &res);
	cJSON_Delete(res);
	b64_request(c, bparams, data_at, &b.t[1], &b.e[1], &res);
	cJSON_Delete(res);
	for (int r = 0; r < o->rounds; r++) {
		for (int i = 0; i < o->requests; i++) {
			struct big_times t = pool_request(c, pparams, block, &b.t[i & 1], &b.e[i & 1],
							  &res);
			big_record(&pp, t, res);
		}
		for (int i = 0; i < o->requests; i++) {
			struct big_times t = b64_request(c, bparams, data_at, &b.t[i & 1],
							 &b.e[i & 1], &res);
			big_record(&bp, t, res);
		}
	}
	printf("JSON {\"bench\":\"dispatch_pool\",\"model\":\"%s\",\"input_bytes\":%zu,"
	       "\"line_bytes_b64\":%zu,\"rounds\":%d,\"requests\":%d,", o->model, bytes,
	       strlen(bparams), o->rounds, o->requests);
	print_big("pool", &pp);
	print_big("b64", &bp);
	printf("\"ratio\":%.2f}\n", samples_pct(&bp.total, 50) / samples_pct(&pp.total, 50));
	hwopt_pool_destroy(c, &pool, NULL);
	hwopt_client_close(c);
	hwrt_model_free(lm.m);
	return 0;
}

/* ---- (d) oversubscription: clients one request after another ---------------------- */

struct seq_thread {
	pthread_t th;
	struct hwopt_client *c;
	const char *params;
	const struct expect *e;
	int requests;
	pthread_barrier_t *barrier;
	uint64_t end;
	struct samples lat;
};

/* One request, its answer checked; returns when the answer is in. */
static void infer_once(struct hwopt_client *c, const char *params, const struct expect *e)
{
	send_or_fail(c, "infer", params);
	cJSON_Delete(recv_checked(c, e, "infer", NULL));
}

static void *seq_thread_main(void *arg)
{
	struct seq_thread *t = arg;
	infer_once(t->c, t->params, t->e); /* warm-up, before the start */
	infer_once(t->c, t->params, t->e);
	pthread_barrier_wait(t->barrier);
	for (int i = 0; i < t->requests; i++) {
		uint64_t t0 = now_ns();
		infer_once(t->c, t->params, t->e);
		t->end = now_ns();
		samples_add(&t->lat, us_between(t0, t->end));
	}
	return NULL;
}

static int cmd_oversub(const struct opts *o)
{
	if (!o->input)
		fail("--input is required");
	struct local_model lm;
	local_load(&lm, o->path);
	char err[512];
	struct hwrt_tensor *x = hwrt_tensor_read(o->input, NULL, err, sizeof(err));
	if (!x)
		fail("%s: %s", o->input, err);
	/* The daemon's threads split the reductions otherwise than one thread. */
	struct expect e = expect_from(&lm, x, 1e-3, 1e-4);
	char *params = infer_params_b64(o->model, lm.in_name, x, false);
	int n = o->clients[0];
	struct seq_thread t[MAX_CLIENTS] = { 0 };
	pthread_barrier_t barrier;
	pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++) {
		struct hwopt_client *c = connect_or_fail(o->socket);
		if (i == 0)
			wait_ready(c, o->model);
		t[i] = (struct seq_thread){ .c = c, .params = params, .e = &e,
					    .requests = o->requests, .barrier = &barrier };
		if (pthread_create(&t[i].th, NULL, seq_thread_main, &t[i]) != 0)
			fail("cannot start a client thread");
	}
	pthread_barrier_wait(&barrier);
	uint64_t start = now_ns(), end = start;
	struct samples all = { 0 };
	for (int i = 0; i < n; i++) {
		pthread_join(t[i].th, NULL);
		end = t[i].end > end ? t[i].end : end;
		samples_merge(&all, &t[i].lat);
		hwopt_client_close(t[i].c);
	}
	double wall = (double)(end - start) / 1e9;
	printf("JSON {\"bench\":\"dispatch_oversub\",\"model\":\"%s\",\"clients\":%d,"
	       "\"requests\":%zu,\"wall_s\":%.4f,\"rps\":%.2f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
	       o->model, n, all.n, wall, (double)all.n / wall, samples_pct(&all, 50) / 1e3,
	       samples_pct(&all, 99) / 1e3);
	pthread_barrier_destroy(&barrier);
	hwrt_tensor_free(x);
	hwrt_model_free(lm.m);
	return 0;
}

/* ---- main ------------------------------------------------------------------------------ */

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_dispatch COMMAND --socket SOCK --model NAME --path MODEL.onnx [OPTIONS]\n"
		"  latency    [--iterations N] [--rounds R]\n"
		"  throughput --model-batch NAME [--clients 1,8,64] [--inflight K] [--seconds S] "
		"[--rounds R]\n"
		"  pool       [--requests N] [--rounds R]\n"
		"  oversub    --input X.npy [--clients N] [--requests N]\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return 2;
	}
	/* A daemon that goes away mid-send must fail a call, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct opts o;
	parse_opts(argc, argv, &o);
	if (strcmp(argv[1], "latency") == 0)
		return cmd_latency(&o);
	if (strcmp(argv[1], "throughput") == 0)
		return cmd_throughput(&o);
	if (strcmp(argv[1], "pool") == 0)
		return cmd_pool(&o);
	if (strcmp(argv[1], "oversub") == 0)
		return cmd_oversub(&o);
	usage();
	return 2;
}
