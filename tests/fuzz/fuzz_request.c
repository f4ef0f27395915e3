/* libFuzzer target for the request path: framing, JSON-RPC validation, typed
 * params and response encoding, as the daemon uses them.
 *
 * Input layout: byte 0 picks the chunk size the stream is fed in, byte 1 the
 * maximum line length; the rest is the byte stream a client would send.
 *
 * Properties checked (abort on violation):
 *  - the framer delivers exactly the lines a one-shot split of the stream
 *    gives (one '\r' before '\n' removed), whatever the chunking, and fails
 *    with -EMSGSIZE exactly when a line is over the cap;
 *  - hwopt_rpc_parse returns 0 or a JSON-RPC error code with a valid UTF-8
 *    message, and a well-formed request on success;
 *  - the param helpers agree with the JSON types and ranges, and their
 *    errors name the field in valid UTF-8;
 *  - every encoded response is one '\n'-terminated line of valid UTF-8 JSON
 *    that echoes the request id, and our own parser reads that id back.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "proto/errors.h"
#include "proto/frame.h"
#include "proto/methods.h"
#include "proto/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "fuzz_request: %s:%d: check failed: %s\n",   \
				__FILE__, __LINE__, #cond);                          \
			abort();                                                     \
		}                                                                    \
	} while (0)

#define STOP_RC 7 /* returned by the line callback for "shutdown" */

struct ctx {
	const char *stream; /* pristine copy of the bytes fed */
	size_t n;
	size_t pos;         /* start of the next line the framer must deliver */
	size_t max;
	bool eof;           /* a final '\n' was fed after the stream */
	bool stopped;
};

static bool utf8_ok(const char *s, size_t n)
{
	return hwopt_utf8_check((const unsigned char *)s, n) == n;
}

static void check_message(const struct hwopt_rpc_error *err)
{
	const char *nul = memchr(err->message, '\0', sizeof(err->message));
	CHECK(nul != NULL);
	size_t n = (size_t)(nul - err->message);
	CHECK(n > 0);
	CHECK(utf8_ok(err->message, n));
}

/* Checks one encoded response line and returns it parsed. want_id NULL
 * means the reply must carry id null. */
static cJSON *check_line(char *text, size_t len, const cJSON *want_id)
{
	CHECK(text != NULL);
	CHECK(len >= 2 && len == strlen(text));
	CHECK(text[len - 1] == '\n');
	CHECK(memchr(text, '\n', len - 1) == NULL);
	CHECK(utf8_ok(text, len));

	/* Parse from an exact-size copy without terminator. */
	char *copy = malloc(len - 1);
	CHECK(copy != NULL);
	memcpy(copy, text, len - 1);
	const char *end = NULL;
	cJSON *msg = cJSON_ParseWithLengthOpts(copy, len - 1, &end, 0);
	CHECK(msg != NULL);
	CHECK(end == copy + len - 1);
	CHECK(cJSON_IsObject(msg));
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(msg, "jsonrpc");
	CHECK(cJSON_IsString(ver) && strcmp(ver->valuestring, "2.0") == 0);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	CHECK(id != NULL);
	if (want_id)
		CHECK(cJSON_Compare(id, want_id, true));
	else
		CHECK(cJSON_IsNull(id));

	/* Our own request parser reads the id back from the response (which
	 * has no method, so it is an invalid request carrying that id). */
	struct hwopt_rpc_request req;
	struct hwopt_rpc_error err;
	cJSON *rid = NULL;
	int rc = hwopt_rpc_parse(copy, len - 1, &req, &err, &rid);
	CHECK(rc == HWOPT_E_INVALID_REQUEST);
	CHECK(rid != NULL);
	CHECK(cJSON_Compare(rid, id, true));
	cJSON_Delete(rid);
	free(copy);
	return msg;
}

static void check_error_line(const cJSON *id, int code, const char *message, cJSON *data)
{
	cJSON *want_data = data ? cJSON_Duplicate(data, 1) : NULL;
	size_t len = 0;
	char *text = hwopt_rpc_error_line(id, code, message, data, &len);
	if (!text) { /* only under memory pressure */
		cJSON_Delete(want_data);
		return;
	}
	cJSON *msg = check_line(text, len, id);
	CHECK(cJSON_GetObjectItemCaseSensitive(msg, "result") == NULL);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(msg, "error");
	CHECK(cJSON_IsObject(e));
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
	CHECK(cJSON_IsNumber(c) && c->valuedouble == (double)code);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
	CHECK(cJSON_IsString(m) && strcmp(m->valuestring, message) == 0);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "data");
	if (want_data)
		CHECK(d != NULL);
	else
		CHECK(d == NULL);
	cJSON_Delete(want_data);
	cJSON_Delete(msg);
	free(text);
}

static bool all_finite(const cJSON *v)
{
	if (cJSON_IsNumber(v))
		return isfinite(v->valuedouble);
	for (const cJSON *c = v->child; c; c = c->next)
		if (!all_finite(c))
			return false;
	return true;
}

/* Nesting depth: 0 for a scalar. */
static int depth(const cJSON *v)
{
	int d = 0;
	for (const cJSON *c = v->child; c; c = c->next) {
		int cd = depth(c);
		if (cd > d)
			d = cd;
	}
	return cJSON_IsArray(v) || cJSON_IsObject(v) ? d + 1 : 0;
}

/* Structural equality, members in order (cJSON_Compare looks members up by
 * name, which goes wrong with duplicate keys). Numbers may lose the last
 * bits in cJSON's printer. */
static bool same_json(const cJSON *a, const cJSON *b)
{
	if ((a->type & 0xff) != (b->type & 0xff))
		return false;
	if (cJSON_IsNumber(a)) {
		double x = a->valuedouble, y = b->valuedouble;
		return x == y || fabs(x - y) <= 1e-14 * fmax(fabs(x), fabs(y));
	}
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	const cJSON *ca = a->child, *cb = b->child;
	for (; ca && cb; ca = ca->next, cb = cb->next) {
		if (cJSON_IsObject(a) && strcmp(ca->string, cb->string) != 0)
			return false;
		if (!same_json(ca, cb))
			return false;
	}
	return ca == NULL && cb == NULL;
}

static void check_param_error(const struct hwopt_rpc_error *err, const cJSON *id,
			      const cJSON *params)
{
	CHECK(err->code == HWOPT_E_INVALID_PARAMS);
	check_message(err);
	CHECK(strstr(err->message, "params.") != NULL);
	check_error_line(id, err->code, err->message, cJSON_Duplicate(params, 1));
}

static const struct { int64_t min, max; } ranges[] = {
	{ INT64_MIN, INT64_MAX },
	{ 0, 100 },
	{ -5, 5 },
	{ INT64_MIN, 0 },
	{ 1, (int64_t)1 << 53 },
	{ 0, UINT32_MAX },
};

static void exercise_params(const struct hwopt_rpc_request *req)
{
	const cJSON *params = req->params;
	const cJSON *id = req->id;
	struct hwopt_rpc_error err;
	int rc;

	/* An absent member (the fuzzer may well supply this name, too). */
	static const char probe[] = "\x01" "absent";
	if (!cJSON_GetObjectItemCaseSensitive(params, probe)) {
		const char *sv = "untouched";
		CHECK(hwopt_param_string(params, probe, false, &sv, &err) == 1);
		CHECK(strcmp(sv, "untouched") == 0);
		CHECK(hwopt_param_string(params, probe, true, &sv, &err) == -1);
		check_param_error(&err, id, params);
	}

	static const char *const known[] = { "model", "threads", "dry_run", "name", "x", NULL };
	bool all_known = true;
	const cJSON *it;
	int members = 0;
	cJSON_ArrayForEach(it, params) {
		if (++members > 16)
			break;
		const char *name = it->string;
		CHECK(name != NULL);
		bool is_known = false;
		for (const char *const *k = known; *k; k++)
			is_known |= strcmp(name, *k) == 0;
		all_known &= is_known;

		/* The helpers look a name up like this, so with duplicate keys
		 * the first one counts. */
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, name);
		CHECK(v != NULL);

		const char *s = NULL;
		rc = hwopt_param_string(params, name, true, &s, &err);
		if (cJSON_IsString(v)) {
			CHECK(rc == 0 && s == v->valuestring);
		} else {
			CHECK(rc == -1 && s == NULL);
			check_param_error(&err, id, params);
		}

		bool b = false;
		rc = hwopt_param_bool(params, name, false, &b, &err);
		if (cJSON_IsBool(v)) {
			CHECK(rc == 0 && b == (bool)cJSON_IsTrue(v));
		} else {
			CHECK(rc == -1);
			check_param_error(&err, id, params);
		}

		for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
			int64_t out = 0x5a5a;
			rc = hwopt_param_int(params, name, true, ranges[r].min, ranges[r].max, &out, &err);
			if (rc == 0) {
				CHECK(cJSON_IsNumber(v));
				CHECK(out >= ranges[r].min && out <= ranges[r].max);
				CHECK((double)out == v->valuedouble);
			} else {
				CHECK(rc == -1 && out == 0x5a5a);
				check_param_error(&err, id, params);
				/* Refused only when it is not an integer in range. */
				if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
				    fabs(v->valuedouble) < 4503599627370496.0) /* 2^52 */
					CHECK((int64_t)v->valuedouble < ranges[r].min ||
					      (int64_t)v->valuedouble > ranges[r].max);
			}
		}
	}
	if (members <= 16) {
		rc = hwopt_params_only(params, known, &err);
		if (all_known) {
			CHECK(rc == 0);
		} else {
			CHECK(rc == -1);
			check_param_error(&err, id, params);
		}
	}
}

static void handle_request(struct hwopt_rpc_request *req)
{
	CHECK(req->root != NULL && cJSON_IsObject(req->root));
	CHECK(req->method != NULL);
	CHECK(req->params == NULL || cJSON_IsObject(req->params));
	CHECK(req->id == NULL || cJSON_IsString(req->id) || cJSON_IsNumber(req->id) ||
	      cJSON_IsNull(req->id));
	const struct hwopt_method *m = hwopt_method_find(req->method);
	if (m)
		CHECK(strcmp(m->name, req->method) == 0);

	/* The replies below nest the request (or its params) two levels down;
	 * keep them within cJSON's nesting limit so they parse back. */
	bool shallow = depth(req->root) < CJSON_NESTING_LIMIT - 4;
	if (shallow)
		exercise_params(req);

	/* A result: the whole request echoed back. */
	cJSON *result = shallow ? cJSON_Duplicate(req->root, 1) : cJSON_CreateString(req->method);
	if (result) {
		cJSON *want = all_finite(result) ? cJSON_Duplicate(result, 1) : NULL;
		size_t len = 0;
		char *text = hwopt_rpc_result_line(req->id, result, &len);
		if (text) {
			cJSON *msg = check_line(text, len, req->id);
			CHECK(cJSON_GetObjectItemCaseSensitive(msg, "error") == NULL);
			const cJSON *back = cJSON_GetObjectItemCaseSensitive(msg, "result");
			CHECK(back != NULL);
			if (want)
				CHECK(same_json(back, want));
			cJSON_Delete(msg);
			free(text);
		}
		cJSON_Delete(want);
	}

	/* An error, as for an unknown method. */
	char message[300];
	snprintf(message, sizeof(message), "no method %.200s", req->method);
	size_t mlen = strlen(message);
	mlen = hwopt_utf8_check((const unsigned char *)message, mlen);
	message[mlen] = '\0';
	cJSON *data = cJSON_CreateObject();
	if (data)
		cJSON_AddStringToObject(data, "method", req->method);
	check_error_line(req->id, HWOPT_E_NO_METHOD, message, data);
}

static int on_line(void *vctx, char *line, size_t len)
{
	struct ctx *c = vctx;

	/* The framer's line equals the next line of the one-shot split. */
	CHECK(!c->stopped);
	CHECK(c->pos <= c->n);
	const char *nl = memchr(c->stream + c->pos, '\n', c->n - c->pos);
	size_t raw = nl ? (size_t)(nl - (c->stream + c->pos)) : c->n - c->pos;
	CHECK(nl || c->eof);
	size_t want = raw;
	if (want > 0 && c->stream[c->pos + want - 1] == '\r')
		want--;
	CHECK(want <= c->max);
	CHECK(len == want);
	CHECK(memcmp(line, c->stream + c->pos, len) == 0);
	CHECK(line[len] == '\0');
	c->pos += raw + (nl ? 1 : 0);

	/* Parse from an exact-size copy: reads past the line would be caught. */
	char *copy = malloc(len ? len : 1);
	CHECK(copy != NULL);
	memcpy(copy, line, len);
	struct hwopt_rpc_request req;
	struct hwopt_rpc_error err;
	cJSON *reply_id = NULL;
	int rc = hwopt_rpc_parse(copy, len, &req, &err, &reply_id);
	free(copy);
	int ret = 0;
	if (rc != 0) {
		CHECK(rc == HWOPT_E_PARSE || rc == HWOPT_E_INVALID_REQUEST ||
		      rc == HWOPT_E_INVALID_PARAMS);
		CHECK(err.code == rc);
		CHECK(req.root == NULL);
		check_message(&err);
		CHECK(strcmp(hwopt_error_name(rc), "unknown") != 0);
		if (reply_id)
			CHECK(cJSON_IsString(reply_id) || cJSON_IsNumber(reply_id) ||
			      cJSON_IsNull(reply_id));
		check_error_line(reply_id, err.code, err.message, err.data);
	} else {
		handle_request(&req);
		if (strcmp(req.method, "shutdown") == 0)
			ret = STOP_RC;
		hwopt_rpc_request_free(&req);
	}
	cJSON_Delete(reply_id);
	if (ret)
		c->stopped = true;
	return ret;
}

/* What the one-shot split says about the unconsumed rest of the stream:
 * whether it holds a line over the cap. */
static bool rest_overflows(const struct ctx *c)
{
	const char *p = c->stream + c->pos;
	size_t left = c->n - c->pos;
	const char *nl = memchr(p, '\n', left);
	if (nl) {
		size_t len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		return len > c->max;
	}
	/* An unterminated tail: max+1 bytes may still end in the '\r' of a
	 * CRLF, so only a longer one must be refused; refusing max+1 bytes
	 * that do not end in '\r' is allowed too. */
	if (left > c->max + 1)
		return true;
	return left == c->max + 1 && p[left - 1] != '\r';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t chunk;
	if (data[0] & 0x80)
		chunk = SIZE_MAX; /* all at once */
	else if (data[0] & 0x40)
		chunk = ((size_t)(data[0] & 0x3f) + 1) * 37;
	else
		chunk = (size_t)(data[0] & 0x3f) + 1;
	size_t max;
	if (data[1] == 0xff)
		max = 1 << 20;
	else if (data[1] & 0x80)
		max = (size_t)(data[1] & 0x7f) * 64;
	else
		max = data[1];

	struct ctx c = {
		.stream = (const char *)data + 2,
		.n = size - 2,
		.max = max,
	};
	struct hwopt_framer f;
	hwopt_framer_init(&f, max);
	int rc = 0;
	size_t off = 0;
	while (off < c.n && rc == 0) {
		size_t k = c.n - off < chunk ? c.n - off : chunk;
		/* Each chunk in its own writable buffer of exactly its size. */
		char *buf = malloc(k);
		CHECK(buf != NULL);
		memcpy(buf, c.stream + off, k);
		rc = hwopt_framer_feed(&f, buf, k, on_line, &c);
		free(buf);
		off += k;
	}

	if (rc == STOP_RC) {
		CHECK(c.stopped);
	} else if (rc == -EMSGSIZE) {
		CHECK(rest_overflows(&c));
	} else {
		CHECK(rc == 0);
		/* Every complete line was delivered; the tail waits. */
		CHECK(memchr(c.stream + c.pos, '\n', c.n - c.pos) == NULL);
		CHECK(hwopt_framer_pending(&f) == c.n - c.pos);
		CHECK(!rest_overflows(&c) || c.n - c.pos == c.max + 1);
		if (c.pos < c.n) {
			/* End of stream: the daemon completes the last line. */
			char nl = '\n';
			c.eof = true;
			bool over = rest_overflows(&c);
			rc = hwopt_framer_feed(&f, &nl, 1, on_line, &c);
			if (over)
				CHECK(rc == -EMSGSIZE && c.pos < c.n);
			else
				CHECK((rc == 0 || rc == STOP_RC) && c.pos == c.n);
		}
	}
	hwopt_framer_free(&f);
	return 0;
}
