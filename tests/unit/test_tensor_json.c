/* TENSOR parsing, decoding and encoding, and the base64 codec under them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/client.h"
#include "daemon/daemon.h"
#include "daemon/pools.h"
#include "daemon/tensor_json.h"
#include "proto/base64.h"

static struct hwoptd d;
static struct client *me, *other;

static int setup(void **state)
{
	config_defaults(&d.cfg);
	struct peer_cred cred = { .pid = 1, .uid = 0, .gid = 0 };
	me = client_new(&d, 1, &cred);
	other = client_new(&d, 2, &cred);
	return me && other ? 0 : -1;
}

static int teardown(void **state)
{
	pools_free_all(&d);
	client_unref(me);
	client_unref(other);
	return 0;
}

/* Parses text as a TENSOR; returns 0 or -1 with the message in err. */
static int parse(const char *text, struct tensor_src *t, char *err)
{
	cJSON *o = cJSON_Parse(text);
	assert_non_null(o);
	int rc = tensor_parse(&d, me, "params.inputs.x", o, t, err, 512);
	cJSON_Delete(o);
	return rc;
}

static void expect_error(const char *text, const char *needle)
{
	struct tensor_src t;
	char err[512] = "";
	assert_int_equal(parse(text, &t, err), -1);
	if (!strstr(err, needle))
		fail_msg("%s: error '%s' lacks '%s'", text, err, needle);
	assert_true(strncmp(err, "params.inputs.x", 15) == 0);
}

static void base64_round_trip(void **state)
{
	unsigned char in[300], out[300];
	char enc[420];
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (size_t n = 0; n <= sizeof(in); n += 1 + n / 7) {
		size_t len = hwopt_b64_encoded_len(n);
		hwopt_b64_encode(in, n, enc);
		size_t bad = 0;
		assert_int_equal(hwopt_b64_decode(enc, len, out, &bad), (long long)n);
		assert_memory_equal(in, out, n);
	}
	size_t bad = 0;
	assert_string_equal((hwopt_b64_encode("fo", 2, enc), enc[4] = 0, enc), "Zm8=");
	assert_int_equal(hwopt_b64_decode("Zm9v!mFy", 8, out, &bad), -1);
	assert_int_equal(bad, 4);
	assert_int_equal(hwopt_b64_decode("Zg==Zm9v", 8, out, &bad), -1);
	assert_int_equal(bad, 2);
	assert_int_equal(hwopt_b64_decode("Zm9", 3, out, &bad), -1);
	assert_int_equal(hwopt_b64_decode("Zg=a", 4, out, &bad), -1);
}

static void list_and_base64_decode(void **state)
{
	struct tensor_src t;
	char err[512];
	float buf[4];
	assert_int_equal(parse("{\"dtype\":\"float\",\"shape\":[2,2],\"data\":[1,2.5,\"NaN\",\"-Infinity\"]}",
			       &t, err), 0);
	assert_int_equal(t.bytes, 16);
	assert_int_equal(tensor_decode(&t, buf, err, sizeof(err)), 0);
	assert_true(buf[0] == 1 && buf[1] == 2.5f && isnan(buf[2]) && isinf(buf[3]) && buf[3] < 0);
	tensor_src_release(&d, &t);

	/* [1.0f, 2.0f] little-endian */
	assert_int_equal(parse("{\"dtype\":\"float32\",\"shape\":[2],\"data_b64\":\"AACAPwAAAEA=\"}", &t,
			       err), 0);
	assert_int_equal(tensor_decode(&t, buf, err, sizeof(err)), 0);
	assert_true(buf[0] == 1 && buf[1] == 2);
	tensor_src_release(&d, &t);

	int8_t ib[3];
	assert_int_equal(parse("{\"dtype\":\"int8\",\"shape\":[3],\"data\":[1,2,300]}", &t, err), 0);
	assert_int_equal(tensor_decode(&t, ib, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "data[2]"));
	tensor_src_release(&d, &t);
	assert_int_equal(parse("{\"dtype\":\"bool\",\"shape\":[3],\"data\":[true,0,1]}", &t, err), 0);
	assert_int_equal(tensor_decode(&t, ib, err, sizeof(err)), 0);
	assert_true(ib[0] == 1 && ib[1] == 0 && ib[2] == 1);
	tensor_src_release(&d, &t);
}

static void parse_errors(void **state)
{
	expect_error("[1]", "must be a tensor object");
	expect_error("{\"dtype\":\"float\",\"shape\":[1],\"data\":[1],\"extra\":1}", "unknown member 'extra'");
	expect_error("{\"dtype\":\"complex\",\"shape\":[1],\"data\":[1]}", ".dtype");
	expect_error("{\"dtype\":\"float\",\"shape\":[-1],\"data\":[1]}", ".shape[0]");
	expect_error("{\"dtype\":\"float\",\"shape\":[1.5],\"data\":[1]}", ".shape[0]");
	expect_error("{\"dtype\":\"float\",\"shape\":[1099511627776,1099511627776],\"data\":[]}",
		     "overflows");
	expect_error("{\"dtype\":\"float\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data\":[1]}", "rank");
	expect_error("{\"dtype\":\"float\",\"shape\":[1073741824],\"data\":[]}", "max_tensor_bytes");
	expect_error("{\"dtype\":\"float\",\"shape\":[3],\"data\":[1,2]}", "it has 2");
	expect_error("{\"dtype\":\"float\",\"shape\":[2],\"data_b64\":\"AACAPw==\"}", "12 characters");
	expect_error("{\"dtype\":\"float\",\"shape\":[1],\"data\":[1],\"data_b64\":\"AACAPw==\"}",
		     "exactly one");
	expect_error("{\"dtype\":\"float\",\"shape\":[1]}", "exactly one");
	expect_error("{\"dtype\":\"float\",\"shape\":[1],\"pool\":77,\"offset\":0}",
		     "not one of this client's pools");
}

static void pool_references(void **state)
{
	struct pool_entry *p, *theirs;
	char err[512];
	assert_int_equal(pools_create(&d, me, 1 << 16, SHM_HUGE_OFF, -1, &p, err, sizeof(err)), 0);
	assert_int_equal(pools_create(&d, other, 1 << 16, SHM_HUGE_OFF, -1, &theirs, err, sizeof(err)), 0);
	uint64_t off;
	assert_int_equal(shm_pool_alloc(p->shm, 256, &off), 0);
	char text[256];
	struct tensor_src t;
	snprintf(text, sizeof(text), "{\"dtype\":\"float\",\"shape\":[64],\"pool\":%llu,\"offset\":%llu}",
		 (unsigned long long)p->id, (unsigned long long)off);
	assert_int_equal(parse(text, &t, err), 0);
	assert_int_equal(p->jobs, 1);
	assert_int_equal(tensor_decode(&t, NULL, err, sizeof(err)), 0);
	assert_ptr_equal(t.t.data, (char *)shm_pool_base(p->shm) + off);
	/* Destroyed while referenced: kept until the reference goes. */
	assert_true(pools_destroy(&d, p));
	assert_non_null(d.pools);
	tensor_src_release(&d, &t);
	assert_ptr_equal(d.pools, theirs);

	assert_int_equal(pools_create(&d, me, 1 << 16, SHM_HUGE_OFF, -1, &p, err, sizeof(err)), 0);
	assert_int_equal(shm_pool_alloc(p->shm, 256, &off), 0);
	snprintf(text, sizeof(text), "{\"dtype\":\"float\",\"shape\":[65],\"pool\":%llu,\"offset\":0}",
		 (unsigned long long)p->id);
	expect_error(text, "do not lie in one allocated block");
	snprintf(text, sizeof(text), "{\"dtype\":\"float\",\"shape\":[16],\"pool\":%llu,\"offset\":65536}",
		 (unsigned long long)p->id);
	expect_error(text, "outside pool");
	snprintf(text, sizeof(text),
		 "{\"dtype\":\"float\",\"shape\":[1024],\"pool\":%llu,\"offset\":18446744073709549568}",
		 (unsigned long long)p->id);
	expect_error(text, "overflows 64 bits");
	snprintf(text, sizeof(text), "{\"dtype\":\"float\",\"shape\":[1],\"pool\":%llu,\"offset\":0}",
		 (unsigned long long)theirs->id);
	expect_error(text, "not one of this client's pools");
	/* Quota: 1 MiB per client. */
	d.cfg.pool_quota = 1 << 20;
	struct pool_entry *big;
	assert_int_equal(pools_create(&d, me, 2 << 20, SHM_HUGE_OFF, -1, &big, err, sizeof(err)),
			 -EDQUOT);
	assert_non_null(strstr(err, "pool_quota"));
	assert_int_equal(pools_destroy_client(&d, me), 1);
	assert_int_equal(me->pool_bytes, 0);
}

static void encode(void **state)
{
	float v[3] = { 1.5f, NAN, -INFINITY };
	struct hwrt_tensor t = { HWRT_FLOAT, 1, { 3 }, v };
	cJSON *o = tensor_encode(&t, false);
	char *s = cJSON_PrintUnformatted(o);
	assert_string_equal(s, "{\"dtype\":\"float\",\"shape\":[3],\"data\":[1.5,\"NaN\",\"-Infinity\"]}");
	free(s);
	cJSON_Delete(o);
	float w[2] = { 1.0f, 2.0f };
	struct hwrt_tensor u = { HWRT_FLOAT, 2, { 1, 2 }, w };
	o = tensor_encode(&u, true);
	s = cJSON_PrintUnformatted(o);
	assert_string_equal(s, "{\"dtype\":\"float\",\"shape\":[1,2],\"data_b64\":\"AACAPwAAAEA=\"}");
	free(s);
	cJSON_Delete(o);
	/* Every float survives the list form exactly. */
	float r[4] = { 0.1f, 1e-38f, 3.4028235e38f, -7.0000005f };
	struct hwrt_tensor x = { HWRT_FLOAT, 1, { 4 }, r };
	o = tensor_encode(&x, false);
	cJSON *data = cJSON_GetObjectItem(o, "data");
	cJSON *back = cJSON_Parse(data->valuestring);
	for (int i = 0; i < 4; i++)
		assert_true((float)cJSON_GetArrayItem(back, i)->valuedouble == r[i]);
	cJSON_Delete(back);
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(base64_round_trip),
		cmocka_unit_test(list_and_base64_decode),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(pool_references),
		cmocka_unit_test(encode),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
