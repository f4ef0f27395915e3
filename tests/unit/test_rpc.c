/* Unit tests for proto/rpc.c (request validation, response lines, typed
 * params, UTF-8 check), proto/errors.c and proto/methods.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "proto/errors.h"
#include "proto/methods.h"
#include "proto/rpc.h"

/* --- helpers ------------------------------------------------------------------ */

struct parsed {
	int rc;
	struct hwopt_rpc_request req;
	struct hwopt_rpc_error err;
	cJSON *reply_id;
};

/* Parses n bytes from a heap copy of exactly that size (no terminator), so
 * ASan catches reads past the line. */
static void parse_n(struct parsed *p, const char *s, size_t n)
{
	char *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, s, n);
	memset(p, 0, sizeof(*p));
	p->err.data = (cJSON *)(uintptr_t)1; /* must be reset by parse */
	p->rc = hwopt_rpc_parse(copy, n, &p->req, &p->err, &p->reply_id);
	free(copy);
	if (p->rc != 0) {
		assert_null(p->err.data);
		assert_int_equal(p->err.code, p->rc);
		assert_null(p->req.root);
		assert_non_null(memchr(p->err.message, '\0', sizeof(p->err.message)));
		assert_true(strlen(p->err.message) > 0);
	}
}

/* String literals may hold NUL bytes: take their size, not strlen. */
#define PARSE(p, lit) parse_n((p), (lit), sizeof(lit) - 1)

static void parsed_free(struct parsed *p)
{
	if (p->rc == 0)
		hwopt_rpc_request_free(&p->req);
	cJSON_Delete(p->reply_id);
	p->reply_id = NULL;
}

static void expect_ok(struct parsed *p, const char *method)
{
	if (p->rc != 0)
		fail_msg("expected success, got %d: %s", p->rc, p->err.message);
	assert_non_null(p->req.root);
	assert_string_equal(p->req.method, method);
}

static void expect_error(struct parsed *p, int code, const char *needle)
{
	if (p->rc != code)
		fail_msg("expected error %d, got %d (%s)", code, p->rc,
			 p->rc ? p->err.message : "success");
	if (needle && !strstr(p->err.message, needle))
		fail_msg("message \"%s\" does not mention \"%s\"", p->err.message, needle);
}

/* The number following "byte " in an error message. */
static size_t byte_in_message(const char *msg)
{
	const char *b = strstr(msg, "byte ");
	if (!b)
		fail_msg("message \"%s\" does not name a byte", msg);
	char *end;
	unsigned long v = strtoul(b + 5, &end, 10);
	assert_true(end > b + 5);
	return (size_t)v;
}

static bool utf8_ok(const char *s, size_t n)
{
	return hwopt_utf8_check((const unsigned char *)s, n) == n;
}

/* --- valid requests ------------------------------------------------------------ */

static void test_parse_number_id(void **state)
{
	(void)state;
	struct parsed p;
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"hello\"}");
	expect_ok(&p, "hello");
	assert_true(cJSON_IsNumber(p.req.id));
	assert_int_equal(p.req.id->valueint, 7);
	assert_null(p.req.params);
	parsed_free(&p);

	PARSE(&p, "{\"method\":\"status\",\"id\":-12,\"jsonrpc\":\"2.0\"}");
	expect_ok(&p, "status");
	assert_true(cJSON_IsNumber(p.req.id));
	assert_true(p.req.id->valuedouble == -12.0);
	parsed_free(&p);
}

static void test_parse_string_id(void **state)
{
	(void)state;
	struct parsed p;
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":\"req-1\",\"method\":\"topology\",\"params\":{}}");
	expect_ok(&p, "topology");
	assert_true(cJSON_IsString(p.req.id));
	assert_string_equal(p.req.id->valuestring, "req-1");
	assert_true(cJSON_IsObject(p.req.params));
	parsed_free(&p);
}

static void test_parse_null_id(void **state)
{
	(void)state;
	struct parsed p;
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"hello\"}");
	expect_ok(&p, "hello");
	/* An explicit null id is a request, not a notification. */
	assert_non_null(p.req.id);
	assert_true(cJSON_IsNull(p.req.id));
	parsed_free(&p);
}

static void test_parse_notification(void **state)
{
	(void)state;
	struct parsed p;
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"method\":\"status\",\"params\":{\"x\":1}}");
	expect_ok(&p, "status");
	assert_null(p.req.id);
	assert_true(cJSON_IsObject(p.req.params));
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(p.req.params, "x")->valueint, 1);
	parsed_free(&p);
}

static void test_parse_surrounding_whitespace(void **state)
{
	(void)state;
	struct parsed p;
	PARSE(&p, "  \t{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\"} \t\r");
	expect_ok(&p, "hello");
	parsed_free(&p);
}

static void test_parse_empty_line(void **state)
{
	(void)state;
	struct parsed p;
	PARSE(&p, "");
	expect_error(&p, HWOPT_E_PARSE, "empty");
	assert_null(p.reply_id);
	parsed_free(&p);
	PARSE(&p, " \t ");
	expect_error(&p, HWOPT_E_PARSE, "empty");
	parsed_free(&p);
}

/* --- parse errors ---------------------------------------------------------------- */

static void test_parse_invalid_json(void **state)
{
	(void)state;
	struct parsed p;
	PARSE(&p, "{\"jsonrpc\":\"2.0\",}");
	expect_error(&p, HWOPT_E_PARSE, "byte");
	assert_int_equal(byte_in_message(p.err.message), 17); /* the '}' */
	assert_null(p.reply_id);
	parsed_free(&p);

	PARSE(&p, "{\"a\":@}");
	expect_error(&p, HWOPT_E_PARSE, "byte");
	assert_int_equal(byte_in_message(p.err.message), 5); /* the '@' */
	parsed_free(&p);

	/* Unterminated object and string: the byte is within the line. */
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hel");
	expect_error(&p, HWOPT_E_PARSE, "byte");
	assert_true(byte_in_message(p.err.message) <= 36);
	assert_null(p.reply_id); /* no id from a line that does not parse */
	parsed_free(&p);

	PARSE(&p, "not json");
	expect_error(&p, HWOPT_E_PARSE, "byte");
	assert_int_equal(byte_in_message(p.err.message), 0);
	parsed_free(&p);
}

static void test_parse_trailing_garbage(void **state)
{
	(void)state;
	struct parsed p;
	static const char obj[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\"}";
	const size_t objlen = sizeof(obj) - 1;

	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\"} x");
	expect_error(&p, HWOPT_E_PARSE, "byte");
	assert_in_range(byte_in_message(p.err.message), objlen, objlen + 1);
	assert_null(p.reply_id);
	parsed_free(&p);

	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\"}{}");
	expect_error(&p, HWOPT_E_PARSE, "byte");
	assert_int_equal(byte_in_message(p.err.message), objlen);
	parsed_free(&p);

	/* Two pipelined requests on one line are not one request. */
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\"} "
		  "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"hello\"}");
	expect_error(&p, HWOPT_E_PARSE, NULL);
	parsed_free(&p);
}

static void test_parse_nul_byte_outside_string(void **state)
{
	(void)state;
	/* A NUL byte is never JSON, wherever it sits in the line. */
	struct parsed p;
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\"}\0");
	expect_error(&p, HWOPT_E_PARSE, NULL);
	parsed_free(&p);
	PARSE(&p, "\0{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\"}");
	expect_error(&p, HWOPT_E_PARSE, NULL);
	parsed_free(&p);
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\0\"id\":1,\"method\":\"hello\"}");
	expect_error(&p, HWOPT_E_PARSE, NULL);
	parsed_free(&p);
	/* Other control bytes are not JSON whitespace either (RFC 8259 allows
	 * only space, tab, CR and LF between tokens). */
	PARSE(&p, "\x01{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\"}");
	expect_error(&p, HWOPT_E_PARSE, NULL);
	parsed_free(&p);
}

static void test_parse_nul_byte_inside_string(void **state)
{
	(void)state;
	/* A raw NUL is never valid JSON. Accepting it inside a string silently
	 * truncates the value: "hel\0lo" would be served as method "hel". */
	struct parsed p;
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hel\0lo\"}");
	expect_error(&p, HWOPT_E_PARSE, NULL);
	parsed_free(&p);
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":\"a\0b\",\"method\":\"hello\"}");
	expect_error(&p, HWOPT_E_PARSE, NULL);
	parsed_free(&p);
}

static void test_parse_nul_escape(void **state)
{
	(void)state;
	/* "\u0000" would cut a C string short ("hel\u0000lo" read as "hel"),
	 * so such requests are refused, wherever the escape sits. */
	struct parsed p;
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hel\\u0000lo\"}");
	expect_error(&p, HWOPT_E_INVALID_REQUEST, NULL);
	parsed_free(&p);
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":\"a\\u0000b\",\"method\":\"hello\"}");
	expect_error(&p, HWOPT_E_INVALID_REQUEST, NULL);
	parsed_free(&p);
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\",\"params\":{\"k\\u0000\":1}}");
	expect_error(&p, HWOPT_E_INVALID_REQUEST, NULL);
	parsed_free(&p);

	/* An escaped backslash followed by "u0000" is six ordinary characters. */
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\\\\u0000\"}");
	expect_ok(&p, "a\\u0000");
	parsed_free(&p);
	/* Other escapes, U+0001 and surrogate pairs included, are fine. */
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\\u0001\\u00e9\\ud83d\\ude00\"}");
	expect_ok(&p, "\x01\xc3\xa9\xf0\x9f\x98\x80");
	parsed_free(&p);
}

/* --- UTF-8 in requests --------------------------------------------------------- */

static void expect_bad_utf8(const char *line, size_t n, size_t at)
{
	struct parsed p;
	parse_n(&p, line, n);
	expect_error(&p, HWOPT_E_PARSE, "UTF-8");
	assert_int_equal(byte_in_message(p.err.message), at);
	assert_null(p.reply_id);
	parsed_free(&p);
}

#define BAD_UTF8(lit, at) expect_bad_utf8((lit), sizeof(lit) - 1, (at))

static void test_parse_invalid_utf8(void **state)
{
	(void)state;
	/* Byte 34 is the first byte of the method name. */
	/* Overlong '/' (2 bytes) and overlong U+0000. */
	BAD_UTF8("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xc0\xaf\"}", 34);
	BAD_UTF8("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xc1\xbf\"}", 34);
	BAD_UTF8("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xe0\x80\xaf\"}", 34);
	BAD_UTF8("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xf0\x80\x80\xaf\"}", 34);
	/* Surrogates U+D800 and U+DFFF. */
	BAD_UTF8("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xed\xa0\x80\"}", 34);
	BAD_UTF8("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ab\xed\xbf\xbf\"}", 36);
	/* Truncated sequences: in the middle and at the very end of the line. */
	BAD_UTF8("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xe2\x82\"}", 34);
	BAD_UTF8("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xf0\x9f\x98\"}", 34);
	BAD_UTF8("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}\xc3", 37);
	/* Past U+10FFFF, and lead bytes that never occur. */
	BAD_UTF8("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xf4\x90\x80\x80\"}", 34);
	BAD_UTF8("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xf5\x80\x80\x80\"}", 34);
	BAD_UTF8("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}", 34);
	/* A stray continuation byte, in the id. */
	BAD_UTF8("{\"jsonrpc\":\"2.0\",\"id\":\"\x80\",\"method\":\"x\"}", 23);
}

static void test_parse_valid_multibyte_utf8(void **state)
{
	(void)state;
	static const char *const names[] = {
		"caf\xc3\xa9",           /* U+00E9 */
		"\xc2\x80",              /* U+0080, smallest 2-byte */
		"\xdf\xbf",              /* U+07FF */
		"\xe0\xa0\x80",          /* U+0800, smallest 3-byte */
		"\xe2\x82\xac",          /* U+20AC */
		"\xed\x9f\xbf",          /* U+D7FF, below the surrogates */
		"\xee\x80\x80",          /* U+E000, above them */
		"\xef\xbf\xbf",          /* U+FFFF */
		"\xf0\x90\x80\x80",      /* U+10000, smallest 4-byte */
		"\xf0\x9f\x98\x80",      /* U+1F600 */
		"\xf4\x8f\xbf\xbf",      /* U+10FFFF, the last */
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char line[128];
		int n = snprintf(line, sizeof(line),
				 "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"method\":\"%s\"}", names[i], names[i]);
		struct parsed p;
		parse_n(&p, line, (size_t)n);
		expect_ok(&p, names[i]);
		assert_string_equal(p.req.id->valuestring, names[i]);
		parsed_free(&p);
	}
}

/* --- invalid requests ------------------------------------------------------------ */

static void test_parse_batch_refused(void **state)
{
	(void)state;
	struct parsed p;
	PARSE(&p, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\"},"
		  "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"status\"}]");
	expect_error(&p, HWOPT_E_INVALID_REQUEST, "batch");
	assert_null(p.reply_id);
	parsed_free(&p);
	PARSE(&p, "[]");
	expect_error(&p, HWOPT_E_INVALID_REQUEST, "batch");
	parsed_free(&p);
}

static void test_parse_non_object_root(void **state)
{
	(void)state;
	static const char *const roots[] = { "\"hello\"", "42", "null", "true", "false", "-1.5e3" };
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		struct parsed p;
		parse_n(&p, roots[i], strlen(roots[i]));
		expect_error(&p, HWOPT_E_INVALID_REQUEST, "object");
		assert_null(p.reply_id);
		parsed_free(&p);
	}
}

static void test_parse_id_wrong_type(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"hello\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"hello\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":[],\"method\":\"hello\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"hello\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":false,\"method\":\"hello\"}",
		/* Even when something else is wrong too. */
		"{\"jsonrpc\":\"1.0\",\"id\":true}",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct parsed p;
		parse_n(&p, lines[i], strlen(lines[i]));
		expect_error(&p, HWOPT_E_INVALID_REQUEST, "id");
		assert_null(p.reply_id);
		parsed_free(&p);
	}
}

static void test_parse_id_round_trips(void **state)
{
	(void)state;
	/* A numeric id the encoder cannot write back (1e999 overflows to
	 * infinity, which cJSON prints as null) must be refused, or else echoed
	 * as that same number: a reply with id null cannot be matched. */
	static const char *const lines[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1e999,\"method\":\"hello\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":-1e999,\"method\":\"hello\"}",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct parsed p;
		parse_n(&p, lines[i], strlen(lines[i]));
		if (p.rc == 0) {
			size_t len;
			char *out = hwopt_rpc_result_line(p.req.id, cJSON_CreateTrue(), &len);
			assert_non_null(out);
			cJSON *back = cJSON_ParseWithLength(out, len);
			assert_non_null(back);
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(back, "id");
			if (!cJSON_IsNumber(id))
				fail_msg("request %s accepted but answered with %s", lines[i], out);
			cJSON_Delete(back);
			free(out);
		} else {
			expect_error(&p, HWOPT_E_INVALID_REQUEST, "id");
		}
		parsed_free(&p);
	}
}

static void test_parse_bad_jsonrpc_echoes_id(void **state)
{
	(void)state;
	struct parsed p;

	PARSE(&p, "{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"hello\"}");
	expect_error(&p, HWOPT_E_INVALID_REQUEST, "jsonrpc");
	assert_true(cJSON_IsNumber(p.reply_id));
	assert_int_equal(p.reply_id->valueint, 7);
	parsed_free(&p);

	PARSE(&p, "{\"id\":\"abc\",\"method\":\"hello\"}");
	expect_error(&p, HWOPT_E_INVALID_REQUEST, "jsonrpc");
	assert_true(cJSON_IsString(p.reply_id));
	assert_string_equal(p.reply_id->valuestring, "abc");
	parsed_free(&p);

	PARSE(&p, "{\"jsonrpc\":2.0,\"id\":null,\"method\":\"hello\"}");
	expect_error(&p, HWOPT_E_INVALID_REQUEST, "jsonrpc");
	assert_true(cJSON_IsNull(p.reply_id));
	parsed_free(&p);

	PARSE(&p, "{\"jsonrpc\":\"2.0 \",\"id\":3,\"method\":\"hello\"}");
	expect_error(&p, HWOPT_E_INVALID_REQUEST, "jsonrpc");
	assert_int_equal(p.reply_id->valueint, 3);
	parsed_free(&p);

	/* Member names are case-sensitive. */
	PARSE(&p, "{\"JSONRPC\":\"2.0\",\"id\":4,\"method\":\"hello\"}");
	expect_error(&p, HWOPT_E_INVALID_REQUEST, "jsonrpc");
	parsed_free(&p);

	/* Without an id there is nothing to echo. */
	PARSE(&p, "{\"jsonrpc\":\"1.0\",\"method\":\"hello\"}");
	expect_error(&p, HWOPT_E_INVALID_REQUEST, "jsonrpc");
	assert_null(p.reply_id);
	parsed_free(&p);
}

static void test_parse_method_not_string(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":42}",
		"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":null}",
		"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":{}}",
		"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":[\"hello\"]}",
		"{\"jsonrpc\":\"2.0\",\"id\":5}",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct parsed p;
		parse_n(&p, lines[i], strlen(lines[i]));
		expect_error(&p, HWOPT_E_INVALID_REQUEST, "method");
		assert_true(cJSON_IsNumber(p.reply_id));
		assert_int_equal(p.reply_id->valueint, 5);
		parsed_free(&p);
	}
}

static void test_parse_params_not_object(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"hello\",\"params\":[1,2]}",
		"{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"hello\",\"params\":[]}",
		"{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"hello\",\"params\":\"x\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"hello\",\"params\":3}",
		"{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"hello\",\"params\":null}",
		"{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"hello\",\"params\":true}",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct parsed p;
		parse_n(&p, lines[i], strlen(lines[i]));
		expect_error(&p, HWOPT_E_INVALID_PARAMS, "params");
		assert_true(cJSON_IsString(p.reply_id));
		assert_string_equal(p.reply_id->valuestring, "p");
		parsed_free(&p);
	}
}

static void test_parse_nesting(void **state)
{
	(void)state;
	/* Moderate nesting in params is fine; absurd nesting is refused without
	 * exhausting the stack. */
	enum { DEEP = 100000, OK_DEPTH = 100 };
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\",\"params\":{\"a\":";
	size_t cap = sizeof(head) + 2 * DEEP + 8;
	char *line = malloc(cap);
	assert_non_null(line);
	for (int round = 0; round < 2; round++) {
		size_t depth = round == 0 ? OK_DEPTH : DEEP;
		size_t n = 0;
		memcpy(line, head, sizeof(head) - 1);
		n += sizeof(head) - 1;
		memset(line + n, '[', depth);
		n += depth;
		memset(line + n, ']', depth);
		n += depth;
		memcpy(line + n, "}}", 2);
		n += 2;
		struct parsed p;
		parse_n(&p, line, n);
		if (round == 0)
			expect_ok(&p, "hello");
		else
			expect_error(&p, HWOPT_E_PARSE, NULL);
		parsed_free(&p);
	}
	free(line);
}

/* --- response lines ------------------------------------------------------------ */

/* Checks that text is one line ending in exactly one '\n', valid UTF-8, and
 * parses to a JSON-RPC response carrying want_id (NULL: JSON null). Returns
 * the parsed response. */
static cJSON *check_response_line(const char *text, size_t len, const cJSON *want_id)
{
	assert_non_null(text);
	assert_int_equal(len, strlen(text));
	assert_true(len >= 2);
	assert_int_equal(text[len - 1], '\n');
	assert_null(memchr(text, '\n', len - 1));
	assert_true(text[len - 2] != '\r' && text[len - 2] != '\n');
	assert_true(utf8_ok(text, len));
	cJSON *msg = cJSON_ParseWithLength(text, len - 1);
	assert_non_null(msg);
	assert_true(cJSON_IsObject(msg));
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(msg, "jsonrpc");
	assert_true(cJSON_IsString(ver));
	assert_string_equal(ver->valuestring, "2.0");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	assert_non_null(id);
	if (!want_id)
		assert_true(cJSON_IsNull(id));
	else if (!cJSON_Compare(id, want_id, true))
		fail_msg("id not echoed in %s", text);
	return msg;
}

static cJSON *sample_ids(void)
{
	/* NULL stands for "no id" (JSON null in the reply); the others are
	 * borrowed from this array. */
	cJSON *ids = cJSON_CreateArray();
	cJSON_AddItemToArray(ids, cJSON_CreateNull());
	cJSON_AddItemToArray(ids, cJSON_CreateNumber(0));
	cJSON_AddItemToArray(ids, cJSON_CreateNumber(7));
	cJSON_AddItemToArray(ids, cJSON_CreateNumber(-3));
	cJSON_AddItemToArray(ids, cJSON_CreateNumber(9007199254740992.0)); /* 2^53 */
	cJSON_AddItemToArray(ids, cJSON_CreateString(""));
	cJSON_AddItemToArray(ids, cJSON_CreateString("abc"));
	cJSON_AddItemToArray(ids, cJSON_CreateString("q\"uo\\te\nnew\rline\ttab\x01"));
	cJSON_AddItemToArray(ids, cJSON_CreateString("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8"));
	return ids;
}

static void test_result_line(void **state)
{
	(void)state;
	cJSON *ids = sample_ids();
	int n = cJSON_GetArraySize(ids);
	for (int i = -1; i < n; i++) {
		const cJSON *id = i < 0 ? NULL : cJSON_GetArrayItem(ids, i);
		cJSON *result = cJSON_CreateObject();
		cJSON_AddTrueToObject(result, "ok");
		cJSON_AddStringToObject(result, "text", "two\nlines");
		cJSON *want = cJSON_Duplicate(result, 1);
		size_t len = 0;
		char *text = hwopt_rpc_result_line(id, result, &len);
		cJSON *msg = check_response_line(text, len, id);
		assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(msg, "result"), want, true));
		assert_null(cJSON_GetObjectItemCaseSensitive(msg, "error"));
		cJSON_Delete(msg);
		cJSON_Delete(want);
		free(text);
	}
	cJSON_Delete(ids);

	/* len may be NULL. */
	char *text = hwopt_rpc_result_line(NULL, cJSON_CreateNumber(1), NULL);
	assert_non_null(text);
	assert_string_equal(text, "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":1}\n");
	free(text);
}

static void test_error_line(void **state)
{
	(void)state;
	cJSON *ids = sample_ids();
	int n = cJSON_GetArraySize(ids);
	for (int i = -1; i < n; i++) {
		const cJSON *id = i < 0 ? NULL : cJSON_GetArrayItem(ids, i);
		for (int with_data = 0; with_data < 2; with_data++) {
			cJSON *data = NULL, *want_data = NULL;
			if (with_data) {
				data = cJSON_CreateObject();
				cJSON_AddNumberToObject(data, "max_line_bytes", 1048576);
				want_data = cJSON_Duplicate(data, 1);
			}
			const char *message = "params.x must be \"an\" integer\nfrom 1 to 2";
			size_t len = 0;
			char *text = hwopt_rpc_error_line(id, HWOPT_E_INVALID_PARAMS, message, data, &len);
			cJSON *msg = check_response_line(text, len, id);
			assert_null(cJSON_GetObjectItemCaseSensitive(msg, "result"));
			const cJSON *e = cJSON_GetObjectItemCaseSensitive(msg, "error");
			assert_true(cJSON_IsObject(e));
			const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
			assert_true(cJSON_IsNumber(code));
			assert_int_equal(code->valueint, HWOPT_E_INVALID_PARAMS);
			const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
			assert_true(cJSON_IsString(m));
			assert_string_equal(m->valuestring, message);
			const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "data");
			if (with_data)
				assert_true(cJSON_Compare(d, want_data, true));
			else
				assert_null(d);
			cJSON_Delete(msg);
			cJSON_Delete(want_data);
			free(text);
		}
	}
	cJSON_Delete(ids);
}

static void test_error_line_for_failed_parse(void **state)
{
	(void)state;
	/* The path the daemon takes: a bad request answered with its own id. */
	struct parsed p;
	PARSE(&p, "{\"jsonrpc\":\"2.0\",\"id\":\"r9\",\"method\":\"hello\",\"params\":[1]}");
	expect_error(&p, HWOPT_E_INVALID_PARAMS, NULL);
	size_t len;
	char *text = hwopt_rpc_error_line(p.reply_id, p.err.code, p.err.message, p.err.data, &len);
	cJSON *msg = check_response_line(text, len, p.reply_id);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(msg, "error");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(e, "code")->valueint, HWOPT_E_INVALID_PARAMS);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring, p.err.message);
	cJSON_Delete(msg);
	free(text);
	parsed_free(&p);
}

/* --- typed params ---------------------------------------------------------------- */

static cJSON *params_of(const char *json)
{
	cJSON *p = cJSON_Parse(json);
	assert_non_null(p);
	return p;
}

static void expect_param_error(const struct hwopt_rpc_error *err, const char *field)
{
	assert_int_equal(err->code, HWOPT_E_INVALID_PARAMS);
	char want[128];
	snprintf(want, sizeof(want), "params.%s", field);
	if (!strstr(err->message, want))
		fail_msg("message \"%s\" does not name %s", err->message, want);
}

static void test_param_string(void **state)
{
	(void)state;
	cJSON *p = params_of("{\"name\":\"resnet\",\"empty\":\"\",\"num\":5,\"nul\":null,\"arr\":[\"a\"]}");
	struct hwopt_rpc_error err;
	const char *out = NULL;

	assert_int_equal(hwopt_param_string(p, "name", true, &out, &err), 0);
	assert_string_equal(out, "resnet");
	assert_int_equal(hwopt_param_string(p, "empty", false, &out, &err), 0);
	assert_string_equal(out, "");

	const char *sentinel = "untouched";
	out = sentinel;
	assert_int_equal(hwopt_param_string(p, "missing", false, &out, &err), 1);
	assert_ptr_equal(out, sentinel);
	assert_int_equal(hwopt_param_string(NULL, "missing", false, &out, &err), 1);
	assert_ptr_equal(out, sentinel);

	assert_int_equal(hwopt_param_string(p, "missing", true, &out, &err), -1);
	expect_param_error(&err, "missing");
	assert_non_null(strstr(err.message, "required"));
	assert_ptr_equal(out, sentinel);
	assert_int_equal(hwopt_param_string(NULL, "model", true, &out, &err), -1);
	expect_param_error(&err, "model");

	static const char *const wrong[] = { "num", "nul", "arr" };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(hwopt_param_string(p, wrong[i], false, &out, &err), -1);
		expect_param_error(&err, wrong[i]);
		assert_non_null(strstr(err.message, "string"));
		assert_ptr_equal(out, sentinel);
	}
	/* Names are case-sensitive. */
	assert_int_equal(hwopt_param_string(p, "NAME", false, &out, &err), 1);
	cJSON_Delete(p);
}

static void test_param_int(void **state)
{
	(void)state;
	cJSON *p = params_of("{\"n\":5,\"neg\":-4,\"zero\":0,\"negzero\":-0.0,\"exp\":1e2,"
			     "\"frac\":1.5,\"tiny\":1e-300,\"big\":1e300,\"str\":\"5\",\"t\":true,"
			     "\"nul\":null,\"obj\":{}}");
	struct hwopt_rpc_error err;
	int64_t out = 0;

	assert_int_equal(hwopt_param_int(p, "n", true, 0, 10, &out, &err), 0);
	assert_int_equal(out, 5);
	/* Both bounds are inclusive. */
	assert_int_equal(hwopt_param_int(p, "n", true, 5, 5, &out, &err), 0);
	assert_int_equal(hwopt_param_int(p, "neg", true, -4, 0, &out, &err), 0);
	assert_true(out == -4);
	assert_int_equal(hwopt_param_int(p, "zero", true, 0, 0, &out, &err), 0);
	assert_int_equal(out, 0);
	assert_int_equal(hwopt_param_int(p, "negzero", true, 0, 0, &out, &err), 0);
	assert_int_equal(out, 0);
	assert_int_equal(hwopt_param_int(p, "exp", true, 0, 1000, &out, &err), 0);
	assert_int_equal(out, 100);

	/* Out of range on either side. */
	out = 77;
	assert_int_equal(hwopt_param_int(p, "n", true, 0, 4, &out, &err), -1);
	expect_param_error(&err, "n");
	assert_non_null(strstr(err.message, "0"));
	assert_non_null(strstr(err.message, "4"));
	assert_int_equal(hwopt_param_int(p, "n", true, 6, 10, &out, &err), -1);
	expect_param_error(&err, "n");
	assert_int_equal(hwopt_param_int(p, "neg", false, 0, 10, &out, &err), -1);
	expect_param_error(&err, "neg");
	assert_int_equal(hwopt_param_int(p, "big", false, INT64_MIN, INT64_MAX, &out, &err), -1);
	expect_param_error(&err, "big");

	/* Not integers. */
	static const char *const wrong[] = { "frac", "tiny", "str", "t", "nul", "obj" };
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		assert_int_equal(hwopt_param_int(p, wrong[i], false, -100, 100, &out, &err), -1);
		expect_param_error(&err, wrong[i]);
		assert_non_null(strstr(err.message, "integer"));
	}
	assert_int_equal(out, 77); /* never written on failure */

	/* Absent. */
	assert_int_equal(hwopt_param_int(p, "none", false, 0, 10, &out, &err), 1);
	assert_int_equal(out, 77);
	assert_int_equal(hwopt_param_int(NULL, "none", false, 0, 10, &out, &err), 1);
	assert_int_equal(hwopt_param_int(p, "threads", true, 0, 10, &out, &err), -1);
	expect_param_error(&err, "threads");
	assert_non_null(strstr(err.message, "required"));
	assert_int_equal(out, 77);
	cJSON_Delete(p);
}

static void test_param_int_int64_edges(void **state)
{
	(void)state;
	/* Values at and past the edges of int64_t, with the full range allowed.
	 * 9223372036854775808 (2^63) is one past INT64_MAX: it must be refused,
	 * not converted (that conversion is undefined behaviour). */
	cJSON *p = params_of("{\"two53\":9007199254740992,\"min\":-9223372036854775808,"
			     "\"two63\":9223372036854775808,\"two64\":18446744073709551616}");
	struct hwopt_rpc_error err;
	int64_t out = 0;

	assert_int_equal(hwopt_param_int(p, "two53", true, INT64_MIN, INT64_MAX, &out, &err), 0);
	assert_true(out == (int64_t)1 << 53);
	assert_int_equal(hwopt_param_int(p, "min", true, INT64_MIN, INT64_MAX, &out, &err), 0);
	assert_true(out == INT64_MIN);
	assert_int_equal(hwopt_param_int(p, "two64", true, INT64_MIN, INT64_MAX, &out, &err), -1);
	expect_param_error(&err, "two64");

	out = 5;
	int rc = hwopt_param_int(p, "two63", true, INT64_MIN, INT64_MAX, &out, &err);
	if (rc != -1)
		fail_msg("2^63 accepted for an int64_t (rc %d, out %lld)", rc, (long long)out);
	expect_param_error(&err, "two63");
	cJSON_Delete(p);
}

static void test_param_bool(void **state)
{
	(void)state;
	cJSON *p = params_of("{\"t\":true,\"f\":false,\"one\":1,\"zero\":0,\"s\":\"true\",\"nul\":null}");
	struct hwopt_rpc_error err;
	bool out = false;

	assert_int_equal(hwopt_param_bool(p, "t", true, &out, &err), 0);
	assert_true(out);
	assert_int_equal(hwopt_param_bool(p, "f", true, &out, &err), 0);
	assert_false(out);

	static const char *const wrong[] = { "one", "zero", "s", "nul" };
	for (size_t i = 0; i < 4; i++) {
		out = true;
		assert_int_equal(hwopt_param_bool(p, wrong[i], false, &out, &err), -1);
		expect_param_error(&err, wrong[i]);
		assert_true(out);
	}
	out = true;
	assert_int_equal(hwopt_param_bool(p, "dry_run", false, &out, &err), 1);
	assert_true(out);
	assert_int_equal(hwopt_param_bool(NULL, "dry_run", false, &out, &err), 1);
	assert_int_equal(hwopt_param_bool(p, "dry_run", true, &out, &err), -1);
	expect_param_error(&err, "dry_run");
	assert_non_null(strstr(err.message, "required"));
	cJSON_Delete(p);
}

static void test_params_only(void **state)
{
	(void)state;
	static const char *const known[] = { "model", "threads", "dry_run", NULL };
	static const char *const none[] = { NULL };
	struct hwopt_rpc_error err;

	cJSON *p = params_of("{\"model\":\"m\",\"threads\":2}");
	assert_int_equal(hwopt_params_only(p, known, &err), 0);
	assert_int_equal(hwopt_params_only(NULL, known, &err), 0);
	assert_int_equal(hwopt_params_only(p, none, &err), -1);
	expect_param_error(&err, "model");
	cJSON_Delete(p);

	p = params_of("{}");
	assert_int_equal(hwopt_params_only(p, none, &err), 0);
	cJSON_Delete(p);

	p = params_of("{\"model\":\"m\",\"thraeds\":2,\"also\":1}");
	assert_int_equal(hwopt_params_only(p, known, &err), -1);
	expect_param_error(&err, "thraeds");
	assert_non_null(strstr(err.message, "unknown"));
	cJSON_Delete(p);

	/* Case matters. */
	p = params_of("{\"Model\":\"m\"}");
	assert_int_equal(hwopt_params_only(p, known, &err), -1);
	expect_param_error(&err, "Model");
	cJSON_Delete(p);
}

static void test_error_message_truncation_keeps_utf8(void **state)
{
	(void)state;
	/* Messages that quote a client's member name are cut to fit; the cut
	 * must not split a character, or the reply is not UTF-8. */
	static const char *const known[] = { "a", NULL };
	for (size_t pad = 0; pad < 3; pad++) {
		char key[512];
		size_t k = 0;
		for (size_t i = 0; i < pad; i++)
			key[k++] = 'x';
		for (int i = 0; i < 120; i++) {
			memcpy(key + k, "\xe2\x82\xac", 3);
			k += 3;
		}
		key[k] = '\0';
		cJSON *p = cJSON_CreateObject();
		cJSON_AddTrueToObject(p, key);
		struct hwopt_rpc_error err;
		assert_int_equal(hwopt_params_only(p, known, &err), -1);
		assert_int_equal(err.code, HWOPT_E_INVALID_PARAMS);
		size_t n = strlen(err.message);
		assert_true(n < sizeof(err.message));
		if (!utf8_ok(err.message, n))
			fail_msg("pad %zu: message cut inside a character at byte %zu of %zu", pad,
				 hwopt_utf8_check((const unsigned char *)err.message, n), n);
		size_t len;
		char *text = hwopt_rpc_error_line(NULL, err.code, err.message, NULL, &len);
		assert_non_null(text);
		assert_true(utf8_ok(text, len));
		free(text);
		cJSON_Delete(p);
	}
}

static void test_error_set(void **state)
{
	(void)state;
	struct hwopt_rpc_error err;
	hwopt_rpc_error_set(&err, HWOPT_E_NOT_FOUND, "model %s (%d) not found", "resnet", 3);
	assert_int_equal(err.code, HWOPT_E_NOT_FOUND);
	assert_string_equal(err.message, "model resnet (3) not found");

	/* Long messages are cut and stay terminated. */
	char big[1000];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	hwopt_rpc_error_set(&err, HWOPT_E_INTERNAL, "%s", big);
	assert_int_equal(strlen(err.message), sizeof(err.message) - 1);
}

/* --- error names and the method table ---------------------------------------- */

static void test_error_names(void **state)
{
	(void)state;
	static const struct { int code; const char *name; } table[] = {
		{ HWOPT_E_PARSE, "parse_error" },
		{ HWOPT_E_INVALID_REQUEST, "invalid_request" },
		{ HWOPT_E_NO_METHOD, "method_not_found" },
		{ HWOPT_E_INVALID_PARAMS, "invalid_params" },
		{ HWOPT_E_INTERNAL, "internal_error" },
		{ HWOPT_E_PERMISSION, "permission_denied" },
		{ HWOPT_E_EXHAUSTED, "resource_exhausted" },
		{ HWOPT_E_NOT_FOUND, "not_found" },
		{ HWOPT_E_DEADLINE, "deadline_exceeded" },
		{ HWOPT_E_CANCELLED, "cancelled" },
		{ HWOPT_E_UNSUPPORTED, "unsupported" },
		{ HWOPT_E_INVALID_MODEL, "invalid_model" },
		{ HWOPT_E_SHUTTING_DOWN, "shutting_down" },
		{ HWOPT_E_BAD_CONFIG, "bad_config" },
	};
	const size_t n = sizeof(table) / sizeof(table[0]);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(hwopt_error_name(table[i].code), table[i].name);
		/* JSON-RPC reserves -32768..-32000; the application range sits in
		 * the implementation-defined -32099..-32000. */
		assert_in_range(-table[i].code, 32000, 32768);
		for (size_t j = 0; j < i; j++) {
			assert_int_not_equal(table[i].code, table[j].code);
			assert_string_not_equal(table[i].name, table[j].name);
		}
	}
	/* Every code in the range without a name says so. */
	size_t named = 0;
	for (int code = -32768; code <= -32000; code++) {
		const char *name = hwopt_error_name(code);
		assert_non_null(name);
		if (strcmp(name, "unknown") != 0)
			named++;
	}
	assert_int_equal(named, n);
	assert_string_equal(hwopt_error_name(0), "unknown");
	assert_string_equal(hwopt_error_name(-1), "unknown");
	assert_string_equal(hwopt_error_name(32700), "unknown");
}

static bool method_name_ok(const char *s)
{
	/* Namespaced lower-case: segment(.segment)*, segment = [a-z][a-z0-9_]* */
	bool seg_start = true;
	for (; *s; s++) {
		if (seg_start) {
			if (!islower((unsigned char)*s))
				return false;
			seg_start = false;
		} else if (*s == '.') {
			seg_start = true;
		} else if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_') {
			return false;
		}
	}
	return !seg_start;
}

static void test_method_table(void **state)
{
	(void)state;
	assert_true(hwopt_n_methods > 0);
	assert_true(HWOPT_PROTOCOL_VERSION >= 1);
	for (size_t i = 0; i < hwopt_n_methods; i++) {
		const struct hwopt_method *m = &hwopt_methods[i];
		assert_non_null(m->name);
		if (!method_name_ok(m->name))
			fail_msg("method name \"%s\" is not namespaced lower case", m->name);
		assert_non_null(m->summary);
		assert_true(strlen(m->summary) > 0);
		assert_null(strchr(m->summary, '\n'));
		assert_in_range(m->perm, HWOPT_PERM_READ, HWOPT_PERM_ADMIN);
		for (size_t j = 0; j < i; j++)
			if (strcmp(m->name, hwopt_methods[j].name) == 0)
				fail_msg("method \"%s\" listed twice", m->name);
		/* Lookup finds this very entry. */
		assert_ptr_equal(hwopt_method_find(m->name), m);
	}
}

static void test_method_find(void **state)
{
	(void)state;
	const struct hwopt_method *m = hwopt_method_find("hello");
	assert_non_null(m);
	assert_string_equal(m->name, "hello");
	/* Clients call hello before anything else: anyone may. */
	assert_int_equal(m->perm, HWOPT_PERM_READ);
	/* Control methods are for admins only. */
	assert_int_equal(hwopt_method_find("shutdown")->perm, HWOPT_PERM_ADMIN);
	assert_int_equal(hwopt_method_find("config.reload")->perm, HWOPT_PERM_ADMIN);

	assert_null(hwopt_method_find(""));
	assert_null(hwopt_method_find("no.such.method"));
	assert_null(hwopt_method_find("HELLO"));
	assert_null(hwopt_method_find("hello "));
	assert_null(hwopt_method_find("hell"));
	assert_null(hwopt_method_find("config"));
}

static void test_perm_names(void **state)
{
	(void)state;
	assert_string_equal(hwopt_perm_name(HWOPT_PERM_READ), "read");
	assert_string_equal(hwopt_perm_name(HWOPT_PERM_SUBMIT), "submit");
	assert_string_equal(hwopt_perm_name(HWOPT_PERM_ADMIN), "admin");
	assert_string_equal(hwopt_perm_name((enum hwopt_perm)99), "unknown");
}

/* --- hwopt_utf8_check against an independent reference ------------------------- */

/* Unicode 15, Table 3-7 (well-formed UTF-8 byte sequences), written as byte
 * ranges rather than by decoding. Returns the length of the well-formed
 * sequence at s, or 0 when there is none. */
static size_t ref_seq_len(const unsigned char *s, size_t avail)
{
	static const struct { unsigned char lo[4], hi[4]; size_t n; } forms[] = {
		{ { 0x00 }, { 0x7f }, 1 },
		{ { 0xc2, 0x80 }, { 0xdf, 0xbf }, 2 },
		{ { 0xe0, 0xa0, 0x80 }, { 0xe0, 0xbf, 0xbf }, 3 },
		{ { 0xe1, 0x80, 0x80 }, { 0xec, 0xbf, 0xbf }, 3 },
		{ { 0xed, 0x80, 0x80 }, { 0xed, 0x9f, 0xbf }, 3 },
		{ { 0xee, 0x80, 0x80 }, { 0xef, 0xbf, 0xbf }, 3 },
		{ { 0xf0, 0x90, 0x80, 0x80 }, { 0xf0, 0xbf, 0xbf, 0xbf }, 4 },
		{ { 0xf1, 0x80, 0x80, 0x80 }, { 0xf3, 0xbf, 0xbf, 0xbf }, 4 },
		{ { 0xf4, 0x80, 0x80, 0x80 }, { 0xf4, 0x8f, 0xbf, 0xbf }, 4 },
	};
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		if (forms[f].n > avail)
			continue;
		bool match = true;
		for (size_t k = 0; k < forms[f].n && match; k++)
			match = s[k] >= forms[f].lo[k] && s[k] <= forms[f].hi[k];
		if (match)
			return forms[f].n;
	}
	return 0;
}

static size_t ref_utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t n = ref_seq_len(s + i, len - i);
		if (n == 0)
			return i;
		i += n;
	}
	return len;
}

static void compare_utf8(const unsigned char *s, size_t len)
{
	size_t got = hwopt_utf8_check(s, len), want = ref_utf8_check(s, len);
	if (got != want) {
		char hex[64] = "";
		for (size_t i = 0; i < len && i < 16; i++)
			snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", s[i]);
		fail_msg("utf8_check(%s) = %zu, reference %zu", hex, got, want);
	}
}

static void test_utf8_reference_self_check(void **state)
{
	(void)state;
	/* The reference itself, on known answers. */
	assert_int_equal(ref_utf8_check((const unsigned char *)"a\xc3\xa9", 3), 3);
	assert_int_equal(ref_utf8_check((const unsigned char *)"\xed\xa0\x80", 3), 0);
	assert_int_equal(ref_utf8_check((const unsigned char *)"ab\xf4\x90\x80\x80", 6), 2);
	assert_int_equal(ref_utf8_check((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 4);
	assert_int_equal(ref_utf8_check((const unsigned char *)"\xe2\x82", 2), 0);
	assert_int_equal(ref_utf8_check((const unsigned char *)"", 0), 0);
	/* Count of well-formed sequences by length: 128, 1920, 61440, 1048576
	 * (code points minus surrogates). */
	size_t count2 = 0, count3 = 0;
	unsigned char b[3];
	for (unsigned v = 0; v < 0x10000; v++) {
		b[0] = (unsigned char)(v >> 8), b[1] = (unsigned char)v;
		count2 += ref_seq_len(b, 2) == 2;
	}
	for (unsigned v = 0; v < 0x1000000; v += 1) {
		b[0] = (unsigned char)(v >> 16), b[1] = (unsigned char)(v >> 8), b[2] = (unsigned char)v;
		if (b[0] < 0xe0 || b[0] > 0xef)
			continue;
		count3 += ref_seq_len(b, 3) == 3;
	}
	assert_int_equal(count2, 1920);
	assert_int_equal(count3, 0x10000 - 0x800 - 0x800);
}

static void test_utf8_exhaustive_short(void **state)
{
	(void)state;
	unsigned char b[8];
	/* Every 1-byte and 2-byte string, bare and between ASCII. */
	for (unsigned v = 0; v < 0x100; v++) {
		b[0] = (unsigned char)v;
		compare_utf8(b, 1);
	}
	for (unsigned v = 0; v < 0x10000; v++) {
		b[0] = (unsigned char)(v >> 8), b[1] = (unsigned char)v;
		compare_utf8(b, 2);
		b[0] = 'a', b[1] = (unsigned char)(v >> 8), b[2] = (unsigned char)v, b[3] = 'z';
		compare_utf8(b, 4);
		compare_utf8(b + 1, 3);
	}
	/* Every 3-byte string. */
	for (unsigned v = 0; v < 0x1000000; v++) {
		b[0] = (unsigned char)(v >> 16), b[1] = (unsigned char)(v >> 8), b[2] = (unsigned char)v;
		compare_utf8(b, 3);
	}
}

static void test_utf8_sampled_long(void **state)
{
	(void)state;
	static const unsigned char edge[] = {
		0x00, 0x41, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
		0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
	};
	const size_t ne = sizeof(edge);
	unsigned char b[16];
	/* Every 4-byte string whose last two bytes are edge values. */
	for (unsigned v = 0; v < 0x10000; v++) {
		b[0] = (unsigned char)(v >> 8), b[1] = (unsigned char)v;
		for (size_t i = 0; i < ne; i++)
			for (size_t j = 0; j < ne; j++) {
				b[2] = edge[i], b[3] = edge[j];
				compare_utf8(b, 4);
			}
	}
	/* Every 4-byte string led by F0..F4 whose last byte is an edge value. */
	for (unsigned lead = 0xf0; lead <= 0xf4; lead++)
		for (unsigned v = 0; v < 0x10000; v++) {
			b[0] = (unsigned char)lead, b[1] = (unsigned char)(v >> 8), b[2] = (unsigned char)v;
			for (size_t j = 0; j < ne; j++) {
				b[3] = edge[j];
				compare_utf8(b, 4);
			}
		}
	/* Random strings of 1..16 bytes drawn mostly from lead and continuation
	 * bytes, so that long valid and nearly valid runs are common. */
	uint64_t x = 0x2545f4914f6cdd1dULL;
	for (int it = 0; it < 2000000; it++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t len = 1 + (size_t)(x % 16);
		uint64_t y = x;
		for (size_t i = 0; i < len; i++) {
			y = y * 6364136223846793005ULL + 1442695040888963407ULL;
			unsigned r = (unsigned)(y >> 33);
			switch (r % 4) {
			case 0: b[i] = edge[(r >> 2) % ne]; break;
			case 1: b[i] = (unsigned char)(0x80 | ((r >> 2) & 0x3f)); break;
			case 2: b[i] = (unsigned char)(0xc0 | ((r >> 2) & 0x3f)); break;
			default: b[i] = (unsigned char)(r >> 8); break;
			}
		}
		compare_utf8(b, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_number_id),
		cmocka_unit_test(test_parse_string_id),
		cmocka_unit_test(test_parse_null_id),
		cmocka_unit_test(test_parse_notification),
		cmocka_unit_test(test_parse_surrounding_whitespace),
		cmocka_unit_test(test_parse_empty_line),
		cmocka_unit_test(test_parse_invalid_json),
		cmocka_unit_test(test_parse_trailing_garbage),
		cmocka_unit_test(test_parse_nul_byte_outside_string),
		cmocka_unit_test(test_parse_nul_byte_inside_string),
		cmocka_unit_test(test_parse_nul_escape),
		cmocka_unit_test(test_parse_invalid_utf8),
		cmocka_unit_test(test_parse_valid_multibyte_utf8),
		cmocka_unit_test(test_parse_batch_refused),
		cmocka_unit_test(test_parse_non_object_root),
		cmocka_unit_test(test_parse_id_wrong_type),
		cmocka_unit_test(test_parse_id_round_trips),
		cmocka_unit_test(test_parse_bad_jsonrpc_echoes_id),
		cmocka_unit_test(test_parse_method_not_string),
		cmocka_unit_test(test_parse_params_not_object),
		cmocka_unit_test(test_parse_nesting),
		cmocka_unit_test(test_result_line),
		cmocka_unit_test(test_error_line),
		cmocka_unit_test(test_error_line_for_failed_parse),
		cmocka_unit_test(test_param_string),
		cmocka_unit_test(test_param_int),
		cmocka_unit_test(test_param_int_int64_edges),
		cmocka_unit_test(test_param_bool),
		cmocka_unit_test(test_params_only),
		cmocka_unit_test(test_error_message_truncation_keeps_utf8),
		cmocka_unit_test(test_error_set),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_method_table),
		cmocka_unit_test(test_method_find),
		cmocka_unit_test(test_perm_names),
		cmocka_unit_test(test_utf8_reference_self_check),
		cmocka_unit_test(test_utf8_exhaustive_short),
		cmocka_unit_test(test_utf8_sampled_long),
	};
	return cmocka_run_group_tests_name("proto/rpc", tests, NULL, NULL);
}
