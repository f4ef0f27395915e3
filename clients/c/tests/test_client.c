/* libhwoptclient against the fake daemon (fake_hwoptd.py): descriptor
 * passing, pipelining with answers out of order, blocking calls mixed with
 * pipelined ones, notifications, pools, tensors. From the repository root:
 *   make build/libhwoptclient.a
 *   cc -std=c11 -D_GNU_SOURCE -I. -o build/test_client clients/c/tests/test_client.c \
 *      build/libhwoptclient.a -lcjson -lm
 *   /usr/bin/python3 clients/c/tests/fake_hwoptd.py build/test_client */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clients/c/hwoptclient.h"

static int failures;
#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                     \
		}                                                                       \
	} while (0)

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static cJSON *obj1(const char *k, double v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, k, v);
	return o;
}

static void test_basic(struct hwopt_client *c)
{
	cJSON *r, *e;
	CHECK(hwopt_client_call(c, "status", NULL, 2000, &r, &e) == HWOPT_CALL_OK);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
	cJSON_Delete(r);
	CHECK(hwopt_client_call(c, "nosuch", NULL, 2000, &r, &e) == HWOPT_CALL_RPC_ERROR);
	CHECK(r == NULL && cJSON_GetObjectItem(e, "code")->valueint == -32601);
	cJSON_Delete(e);
	/* Nothing pending: a receive with timeout 0 says so at once. */
	long long id;
	CHECK(hwopt_client_recv(c, 0, &id, &r, &e) == HWOPT_CALL_TIMEOUT);
}

static void test_pipelining(struct hwopt_client *c)
{
	enum { N = 2000 };
	static char seen[N + 1];
	long long first = -1, id;
	/* Params rendered once, sent as text, plus cJSON params. */
	for (int i = 0; i < N; i++) {
		enum hwopt_call_status rc;
		if (i % 2) {
			char text[64];
			snprintf(text, sizeof(text), "{\"v\":\n%d}", i);
			rc = hwopt_client_send_text(c, "echo", text, &id);
		} else {
			rc = hwopt_client_send(c, "echo", obj1("v", i), &id);
		}
		CHECK(rc == HWOPT_CALL_OK);
		if (first < 0)
			first = id;
	}
	long long flush_id;
	CHECK(hwopt_client_send(c, "flush", NULL, &flush_id) == HWOPT_CALL_OK);
	int got = 0, out_of_order = 0;
	long long prev = -1;
	for (;;) {
		cJSON *r, *e;
		enum hwopt_call_status rc = hwopt_client_recv(c, 5000, &id, &r, &e);
		CHECK(rc == HWOPT_CALL_OK);
		if (rc != HWOPT_CALL_OK)
			break;
		if (id == flush_id) {
			cJSON_Delete(r);
			break;
		}
		int i = (int)(id - first);
		CHECK(i >= 0 && i < N && !seen[i]);
		CHECK(cJSON_GetObjectItem(r, "v")->valueint == i);
		if (i >= 0 && i < N)
			seen[i] = 1;
		out_of_order += id < prev;
		prev = id;
		got++;
		cJSON_Delete(r);
	}
	CHECK(got == N);
	CHECK(out_of_order > 0);
}

/* A blocking call while pipelined answers are due: they are kept for recv. */
static void test_mixed(struct hwopt_client *c)
{
	long long ids[3], id;
	for (int i = 0; i < 3; i++)
		CHECK(hwopt_client_send(c, "echo", obj1("v", 100 + i), &ids[i]) == HWOPT_CALL_OK);
	cJSON *r, *e;
	CHECK(hwopt_client_call(c, "flush", NULL, 2000, &r, &e) == HWOPT_CALL_OK);
	cJSON_Delete(r);
	for (int i = 2; i >= 0; i--) { /* held answers come reversed */
		CHECK(hwopt_client_recv(c, 0, &id, &r, &e) == HWOPT_CALL_OK);
		CHECK(id == ids[i]);
		CHECK(cJSON_GetObjectItem(r, "v")->valueint == 100 + i);
		cJSON_Delete(r);
	}
	CHECK(hwopt_client_recv(c, 0, &id, &r, &e) == HWOPT_CALL_TIMEOUT);
}

/* Notifications are kept apart from answers, in order, for
 * hwopt_client_notification; answers met while waiting for one stay for
 * recv. */
static void test_notifications(struct hwopt_client *c)
{
	cJSON *r, *e, *m;
	long long id, nid;
	/* Three notifications before the call's answer: the call skips them. */
	CHECK(hwopt_client_call(c, "notify", obj1("n", 3), 2000, &r, &e) == HWOPT_CALL_OK);
	CHECK(cJSON_GetObjectItem(r, "sent")->valueint == 3);
	cJSON_Delete(r);
	CHECK(hwopt_client_recv(c, 0, &id, &r, &e) == HWOPT_CALL_TIMEOUT);
	for (int i = 0; i < 3; i++) {
		CHECK(hwopt_client_notification(c, 0, &m) == HWOPT_CALL_OK);
		CHECK(strcmp(cJSON_GetObjectItem(m, "method")->valuestring, "tick") == 0);
		CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "params"), "i")->valueint == i);
		CHECK(cJSON_GetObjectItem(m, "id") == NULL);
		cJSON_Delete(m);
	}
	CHECK(hwopt_client_notification(c, 0, &m) == HWOPT_CALL_TIMEOUT && m == NULL);

	/* Pipelined, the answer first: waiting for a notification keeps the
	 * answer for recv. The socket polls readable until both are taken. */
	cJSON *p = obj1("n", 2);
	cJSON_AddTrueToObject(p, "first");
	CHECK(hwopt_client_send(c, "notify", p, &nid) == HWOPT_CALL_OK);
	struct pollfd pf = { .fd = hwopt_client_fd(c), .events = POLLIN };
	CHECK(poll(&pf, 1, 2000) == 1);
	for (int i = 0; i < 2; i++) {
		CHECK(hwopt_client_notification(c, 2000, &m) == HWOPT_CALL_OK);
		CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "params"), "i")->valueint == i);
		cJSON_Delete(m);
	}
	CHECK(hwopt_client_recv(c, 0, &id, &r, &e) == HWOPT_CALL_OK);
	CHECK(id == nid && cJSON_GetObjectItem(r, "sent")->valueint == 2);
	cJSON_Delete(r);
	CHECK(hwopt_client_recv(c, 0, &id, &r, &e) == HWOPT_CALL_TIMEOUT);

	/* Notifications nobody took are freed with the handle. */
	CHECK(hwopt_client_call(c, "notify", obj1("n", 2), 2000, &r, &e) == HWOPT_CALL_OK);
	cJSON_Delete(r);
}

static void test_fds(struct hwopt_client *c)
{
	cJSON *r, *e;
	int fd, before = open_fds();
	/* A descriptor on an answer that does not announce it. */
	CHECK(hwopt_client_call_fd(c, "fdtest", NULL, 2000, &r, &e, &fd) == HWOPT_CALL_OK);
	CHECK(fd >= 0);
	char buf[8] = { 0 };
	CHECK(read(fd, buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0);
	close(fd);
	cJSON_Delete(r);
	/* Nobody takes it: closed. */
	CHECK(hwopt_client_call(c, "fdtest", NULL, 2000, &r, &e) == HWOPT_CALL_OK);
	cJSON_Delete(r);
	CHECK(open_fds() == before);
	/* No descriptor: -1. */
	CHECK(hwopt_client_call_fd(c, "status", NULL, 2000, &r, &e, &fd) == HWOPT_CALL_OK);
	CHECK(fd == -1);
	cJSON_Delete(r);

	/* Glued: the answers to status and pool.create come in one read, the
	 * memfd with the second line. */
	long long s1, s2, id;
	cJSON *p = obj1("bytes", 4096);
	CHECK(hwopt_client_send(c, "status", NULL, &s1) == HWOPT_CALL_OK);
	CHECK(hwopt_client_send(c, "pool.create", p, &s2) == HWOPT_CALL_OK);
	usleep(200 * 1000);
	CHECK(hwopt_client_recv_fd(c, 2000, &id, &r, &e, &fd) == HWOPT_CALL_OK);
	CHECK(id == s1 && fd == -1);
	cJSON_Delete(r);
	CHECK(hwopt_client_recv_fd(c, 2000, &id, &r, &e, &fd) == HWOPT_CALL_OK);
	CHECK(id == s2 && fd >= 0);
	long long pool = (long long)cJSON_GetObjectItem(r, "pool")->valuedouble;
	cJSON_Delete(r);
	if (fd >= 0)
		close(fd);
	CHECK(hwopt_client_call(c, "pool.destroy", obj1("pool", (double)pool), 2000, &r, &e) ==
	      HWOPT_CALL_OK);
	cJSON_Delete(r);

	/* Glued, the descriptor unannounced: the last line of the read takes it. */
	CHECK(hwopt_client_send(c, "status", NULL, &s1) == HWOPT_CALL_OK);
	CHECK(hwopt_client_send(c, "fdtest", NULL, &s2) == HWOPT_CALL_OK);
	usleep(200 * 1000);
	CHECK(hwopt_client_recv_fd(c, 2000, &id, &r, &e, &fd) == HWOPT_CALL_OK);
	CHECK(id == s1 && fd == -1);
	cJSON_Delete(r);
	CHECK(hwopt_client_recv_fd(c, 2000, &id, &r, &e, &fd) == HWOPT_CALL_OK);
	CHECK(id == s2 && fd >= 0);
	cJSON_Delete(r);
	if (fd >= 0)
		close(fd);

	/* Coalesced: the memfd's write also holds the next answer; the answer
	 * that says it carries a descriptor takes it. */
	CHECK(hwopt_client_send(c, "pool.create_coalesced", obj1("bytes", 4096), &s1) ==
	      HWOPT_CALL_OK);
	CHECK(hwopt_client_send(c, "status", NULL, &s2) == HWOPT_CALL_OK);
	CHECK(hwopt_client_recv_fd(c, 2000, &id, &r, &e, &fd) == HWOPT_CALL_OK);
	CHECK(id == s1 && fd >= 0);
	if (fd >= 0)
		close(fd);
	pool = (long long)cJSON_GetObjectItem(r, "pool")->valuedouble;
	cJSON_Delete(r);
	CHECK(hwopt_client_recv_fd(c, 2000, &id, &r, &e, &fd) == HWOPT_CALL_OK);
	CHECK(id == s2 && fd == -1);
	cJSON_Delete(r);
	CHECK(hwopt_client_call(c, "pool.destroy", obj1("pool", (double)pool), 2000, &r, &e) ==
	      HWOPT_CALL_OK);
	cJSON_Delete(r);

	/* pool.create answered to a call that does not take descriptors. */
	CHECK(hwopt_client_call(c, "pool.create", obj1("bytes", 100), 2000, &r, &e) ==
	      HWOPT_CALL_OK);
	pool = (long long)cJSON_GetObjectItem(r, "pool")->valuedouble;
	cJSON_Delete(r);
	CHECK(hwopt_client_call(c, "pool.destroy", obj1("pool", (double)pool), 2000, &r, &e) ==
	      HWOPT_CALL_OK);
	cJSON_Delete(r);
	CHECK(open_fds() == before);
}

static void test_pools(struct hwopt_client *c)
{
	int before = open_fds();
	struct hwopt_pool pool;
	cJSON *e, *r;
	CHECK(hwopt_pool_create(c, 10000, "auto", -1, &pool, &e) == HWOPT_CALL_OK);
	CHECK(pool.id > 0 && pool.fd >= 0 && pool.base && pool.bytes == 12288);
	CHECK(strcmp(pool.page_kind, "normal") == 0);
	uint64_t a, b;
	CHECK(hwopt_pool_alloc(c, &pool, 100, &a, &e) == HWOPT_CALL_OK);
	CHECK(hwopt_pool_alloc(c, &pool, 1000, &b, &e) == HWOPT_CALL_OK);
	CHECK(a == 0 && b == 128);
	/* What we write the daemon reads, and the other way round. */
	memcpy((char *)pool.base + b, "shared!", 7);
	cJSON *p = obj1("pool", (double)pool.id);
	cJSON_AddNumberToObject(p, "offset", (double)b);
	cJSON_AddNumberToObject(p, "bytes", 7);
	CHECK(hwopt_client_call(c, "pool.read", p, 2000, &r, &e) == HWOPT_CALL_OK);
	CHECK(strcmp(cJSON_GetObjectItem(r, "data_b64")->valuestring, "c2hhcmVkIQ==") == 0);
	cJSON_Delete(r);
	p = obj1("pool", (double)pool.id);
	cJSON_AddNumberToObject(p, "offset", (double)a);
	cJSON_AddStringToObject(p, "data_b64", "ZGFlbW9u");
	CHECK(hwopt_client_call(c, "pool.write", p, 2000, &r, &e) == HWOPT_CALL_OK);
	cJSON_Delete(r);
	CHECK(memcmp((char *)pool.base + a, "daemon", 6) == 0);
	/* Errors pass through. */
	uint64_t big;
	CHECK(hwopt_pool_alloc(c, &pool, 1 << 20, &big, &e) == HWOPT_CALL_RPC_ERROR);
	CHECK(cJSON_GetObjectItem(e, "code")->valueint == -32002);
	cJSON_Delete(e);
	CHECK(hwopt_pool_free(c, &pool, a, &e) == HWOPT_CALL_OK);
	CHECK(hwopt_pool_free(c, &pool, a, &e) == HWOPT_CALL_RPC_ERROR);
	cJSON_Delete(e);
	CHECK(hwopt_pool_destroy(c, &pool, &e) == HWOPT_CALL_OK);
	CHECK(pool.id == -1 && pool.fd == -1 && pool.base == NULL);
	CHECK(open_fds() == before);

	/* Unmap without the daemon. */
	CHECK(hwopt_pool_create(c, 1, NULL, -1, &pool, &e) == HWOPT_CALL_OK);
	hwopt_pool_unmap(&pool);
	CHECK(pool.fd == -1 && pool.base == NULL);
	CHECK(open_fds() == before);
}

static void test_tensors(void)
{
	float x[6] = { 1.5f, -2.0f, NAN, INFINITY, 0.0f, 3.25f };
	int64_t shape[2] = { 2, 3 }, got_shape[HWOPT_TENSOR_MAX_RANK];
	cJSON *t = hwopt_tensor_b64("float32", shape, 2, x, sizeof(x));
	CHECK(t != NULL);
	CHECK(strcmp(cJSON_GetObjectItem(t, "dtype")->valuestring, "float") == 0);
	CHECK(hwopt_tensor_b64("float", shape, 2, x, sizeof(x) - 4) == NULL && errno == EINVAL);
	CHECK(hwopt_tensor_b64("complex", shape, 2, x, sizeof(x)) == NULL && errno == EINVAL);
	char dt[16];
	int rank;
	void *data;
	size_t bytes;
	CHECK(hwopt_tensor_decode(t, dt, got_shape, &rank, &data, &bytes) == 0);
	CHECK(strcmp(dt, "float") == 0 && rank == 2 && got_shape[0] == 2 && got_shape[1] == 3);
	CHECK(bytes == sizeof(x) && memcmp(data, x, sizeof(x)) == 0);
	free(data);
	cJSON_Delete(t);

	/* The list form, with the float spellings JSON lacks. */
	t = cJSON_Parse("{\"dtype\":\"float\",\"shape\":[4],\"data\":[1,\"NaN\",\"-Infinity\",2.5]}");
	CHECK(hwopt_tensor_decode(t, dt, got_shape, &rank, &data, &bytes) == 0);
	float *f = data;
	CHECK(bytes == 16 && f[0] == 1 && isnan(f[1]) && isinf(f[2]) && f[2] < 0 && f[3] == 2.5f);
	free(data);
	cJSON_Delete(t);
	t = cJSON_Parse("{\"dtype\":\"float16\",\"shape\":[3],\"data\":[1,-2,65504]}");
	CHECK(hwopt_tensor_decode(t, dt, got_shape, &rank, &data, &bytes) == 0);
	uint16_t *h = data;
	CHECK(h[0] == 0x3c00 && h[1] == 0xc000 && h[2] == 0x7bff);
	free(data);
	cJSON_Delete(t);
	t = cJSON_Parse("{\"dtype\":\"bool\",\"shape\":[],\"data\":[true]}");
	CHECK(hwopt_tensor_decode(t, dt, got_shape, &rank, &data, &bytes) == 0);
	CHECK(rank == 0 && bytes == 1 && *(unsigned char *)data == 1);
	free(data);
	cJSON_Delete(t);
	t = cJSON_Parse("{\"dtype\":\"int8\",\"shape\":[2],\"data\":[1,200]}");
	CHECK(hwopt_tensor_decode(t, dt, got_shape, &rank, &data, &bytes) == -EINVAL);
	cJSON_Delete(t);
	t = cJSON_Parse("{\"dtype\":\"int64\",\"shape\":[2],\"data\":[1]}");
	CHECK(hwopt_tensor_decode(t, dt, got_shape, &rank, &data, &bytes) == -EINVAL);
	cJSON_Delete(t);
	t = cJSON_Parse("{\"dtype\":\"int32\",\"shape\":[1],\"data_b64\":\"AQID\"}");
	CHECK(hwopt_tensor_decode(t, dt, got_shape, &rank, &data, &bytes) == -EINVAL);
	cJSON_Delete(t);
	t = cJSON_Parse("{\"dtype\":\"cfloat\",\"shape\":[1],\"data\":[1]}");
	CHECK(hwopt_tensor_decode(t, dt, got_shape, &rank, &data, &bytes) == -ENOTSUP);
	cJSON_Delete(t);

	t = hwopt_tensor_pool(3, 128, "int64", shape, 2);
	char *s = cJSON_PrintUnformatted(t);
	CHECK(strcmp(s, "{\"shape\":[2,3],\"dtype\":\"int64\",\"pool\":3,\"offset\":128}") == 0);
	free(s);
	CHECK(hwopt_tensor_decode(t, dt, got_shape, &rank, &data, &bytes) == -ENODATA);
	CHECK(bytes == 48 && rank == 2 && data == NULL);
	cJSON_Delete(t);
	CHECK(hwopt_tensor_dtype_size("bfloat16") == 2 && hwopt_tensor_dtype_size("x") == 0);
}

static void test_infer(struct hwopt_client *c)
{
	/* A large inline input: the request is several MiB, written in many
	 * pieces while the fake daemon reads. */
	size_t n = 1 << 20;
	float *x = malloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		x[i] = (float)i;
	int64_t shape[1] = { (int64_t)n };
	cJSON *in = cJSON_CreateObject();
	cJSON_AddItemToObject(in, "x", hwopt_tensor_b64("float", shape, 1, x, n * sizeof(float)));
	cJSON *r, *e;
	CHECK(hwopt_client_infer(c, "m", in, NULL, "interactive", 100, 5000, &r, &e) ==
	      HWOPT_CALL_OK);
	char dt[16];
	int64_t s[HWOPT_TENSOR_MAX_RANK];
	int rank;
	void *data;
	size_t bytes;
	const cJSON *out = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "outputs"), "x");
	CHECK(hwopt_tensor_decode(out, dt, s, &rank, &data, &bytes) == 0);
	CHECK(bytes == n * sizeof(float) && memcmp(data, x, bytes) == 0);
	free(data);
	cJSON_Delete(r);

	/* Through a pool, both ways. */
	struct hwopt_pool pool;
	uint64_t ioff, ooff;
	CHECK(hwopt_pool_create(c, 2 * n * sizeof(float) + 128, NULL, -1, &pool, &e) ==
	      HWOPT_CALL_OK);
	CHECK(hwopt_pool_alloc(c, &pool, n * sizeof(float), &ioff, &e) == HWOPT_CALL_OK);
	CHECK(hwopt_pool_alloc(c, &pool, n * sizeof(float), &ooff, &e) == HWOPT_CALL_OK);
	memcpy((char *)pool.base + ioff, x, n * sizeof(float));
	in = cJSON_CreateObject();
	cJSON_AddItemToObject(in, "x", hwopt_tensor_pool(pool.id, ioff, "float", shape, 1));
	cJSON *outs = cJSON_CreateObject();
	cJSON *ref = cJSON_AddObjectToObject(outs, "x");
	cJSON_AddNumberToObject(ref, "pool", (double)pool.id);
	cJSON_AddNumberToObject(ref, "offset", (double)ooff);
	CHECK(hwopt_client_infer(c, "m", in, outs, NULL, 0, 5000, &r, &e) == HWOPT_CALL_OK);
	out = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "outputs"), "x");
	CHECK(hwopt_tensor_decode(out, dt, s, &rank, &data, &bytes) == -ENODATA);
	CHECK(memcmp((char *)pool.base + ooff, x, n * sizeof(float)) == 0);
	cJSON_Delete(r);
	CHECK(hwopt_pool_destroy(c, &pool, &e) == HWOPT_CALL_OK);
	free(x);

	/* A block the daemon places outside the pool is refused. */
	CHECK(hwopt_pool_create(c, 4096, NULL, -1, &pool, &e) == HWOPT_CALL_OK);
	uint64_t off;
	CHECK(hwopt_pool_alloc(c, &pool, 77, &off, &e) == HWOPT_CALL_BAD_REPLY && errno == EPROTO);
	hwopt_pool_unmap(&pool);
}

static void test_bye(const char *sock)
{
	struct hwopt_client *c = hwopt_client_connect(sock, 2000);
	cJSON *r, *e;
	CHECK(hwopt_client_call(c, "bye", NULL, 2000, &r, &e) == HWOPT_CALL_RPC_ERROR);
	CHECK(cJSON_GetObjectItem(e, "code")->valueint == -32002);
	cJSON_Delete(e);
	CHECK(hwopt_client_call(c, "status", NULL, 2000, &r, &e) == HWOPT_CALL_IO_ERROR);
	hwopt_client_close(c);
}

static void test_timeout(const char *sock)
{
	struct hwopt_client *c = hwopt_client_connect(sock, 2000);
	cJSON *r, *e;
	cJSON *p = obj1("ms", 300);
	CHECK(hwopt_client_call(c, "slow", p, 50, &r, &e) == HWOPT_CALL_TIMEOUT);
	/* The late answer is kept, and the next call still gets its own. */
	CHECK(hwopt_client_call(c, "status", NULL, 2000, &r, &e) == HWOPT_CALL_OK);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
	cJSON_Delete(r);
	long long id;
	CHECK(hwopt_client_recv(c, 0, &id, &r, &e) == HWOPT_CALL_OK);
	CHECK(cJSON_GetObjectItem(r, "slept")->valueint == 300);
	cJSON_Delete(r);
	hwopt_client_close(c);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: fake_hwoptd.py %s\n", argv[0]);
		return 2;
	}
	int before = open_fds();
	struct hwopt_client *c = hwopt_client_connect(argv[1], 2000);
	if (!c) {
		perror("connect");
		return 1;
	}
	test_basic(c);
	test_pipelining(c);
	test_mixed(c);
	test_notifications(c);
	test_fds(c);
	test_pools(c);
	test_tensors();
	test_infer(c);
	hwopt_client_close(c);
	test_bye(argv[1]);
	test_timeout(argv[1]);
	CHECK(open_fds() == before);
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("libhwoptclient: all checks passed\n");
	return 0;
}
