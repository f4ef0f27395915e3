#include "rpc.h"
#include "errors.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hwopt_rpc_error_set(struct hwopt_rpc_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	err->code = code;
	va_start(ap, fmt);
	int n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	/* A cut message must not end inside a UTF-8 sequence: it goes on the wire. */
	if (n >= (int)sizeof(err->message)) {
		size_t len = strlen(err->message);
		size_t ok = hwopt_utf8_check((const unsigned char *)err->message, len);
		err->message[ok] = '\0';
	}
}

size_t hwopt_utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1; cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2; cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3; cp = c & 0x07;
		} else {
			return i;
		}
		if (i + n >= len)
			return i;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and code points past U+10FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return i;
		i += n + 1;
	}
	return len;
}

/* cJSON keeps strings NUL-terminated, so "\u0000" would silently cut a
 * method name or id short; such requests are refused instead. Finds an
 * escape whose backslash is not itself escaped. */
static bool has_nul_escape(const char *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (p[i] != '\\')
			continue;
		if (i + 6 <= len && p[i + 1] == 'u' && memcmp(p + i + 2, "0000", 4) == 0)
			return true;
		i++; /* skip the escaped character */
	}
	return false;
}

/* Numbers must come back as sent: within ±2^53 a double is exact. */
static bool id_type_ok(const cJSON *id)
{
	if (cJSON_IsNumber(id))
		return isfinite(id->valuedouble) && fabs(id->valuedouble) <= 9007199254740992.0;
	return cJSON_IsString(id) || cJSON_IsNull(id);
}

/* cJSON takes control bytes as whitespace between tokens and keeps them raw
 * inside strings, where a NUL would cut a method name short. JSON allows
 * none of them but tab, CR and LF. */
static size_t first_control_byte(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 && c != '\t' && c != '\r' && c != '\n')
			return i;
	}
	return len;
}

static bool only_space(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return false;
	return true;
}

int hwopt_rpc_parse(const char *line, size_t len, struct hwopt_rpc_request *req,
		    struct hwopt_rpc_error *err, cJSON **reply_id)
{
	memset(req, 0, sizeof(*req));
	err->data = NULL;
	*reply_id = NULL;

	size_t bad = hwopt_utf8_check((const unsigned char *)line, len);
	if (bad != len) {
		hwopt_rpc_error_set(err, HWOPT_E_PARSE, "invalid UTF-8 at byte %zu", bad);
		return err->code;
	}
	bad = first_control_byte(line, len);
	if (bad != len) {
		hwopt_rpc_error_set(err, HWOPT_E_PARSE, "control byte 0x%02x at byte %zu",
				    (unsigned char)line[bad], bad);
		return err->code;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
	if (!root || !end || !only_space(end, line + len)) {
		size_t at = end && end >= line ? (size_t)(end - line) : 0;
		if (!root) {
			const char *ep = cJSON_GetErrorPtr();
			if (ep && ep >= line && ep <= line + len)
				at = (size_t)(ep - line);
		}
		cJSON_Delete(root);
		if (only_space(line, line + len))
			hwopt_rpc_error_set(err, HWOPT_E_PARSE, "empty request line");
		else
			hwopt_rpc_error_set(err, HWOPT_E_PARSE, "invalid JSON at byte %zu", at);
		return err->code;
	}
	if (has_nul_escape(line, len)) {
		cJSON_Delete(root);
		hwopt_rpc_error_set(err, HWOPT_E_INVALID_REQUEST,
				    "strings containing U+0000 (\\u0000) are not supported");
		return err->code;
	}
	if (cJSON_IsArray(root)) {
		cJSON_Delete(root);
		hwopt_rpc_error_set(err, HWOPT_E_INVALID_REQUEST,
				    "batch requests are not supported: send one request object per line");
		return err->code;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		hwopt_rpc_error_set(err, HWOPT_E_INVALID_REQUEST, "request must be a JSON object");
		return err->code;
	}

	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
	if (id && !id_type_ok(id)) {
		cJSON_Delete(root);
		hwopt_rpc_error_set(err, HWOPT_E_INVALID_REQUEST,
				    "id must be a string, null, or a number within ±2^53");
		return err->code;
	}
	if (id)
		*reply_id = cJSON_Duplicate(id, 1);

	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "jsonrpc");
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(root, "method");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
	if (!cJSON_IsString(ver) || strcmp(ver->valuestring, "2.0") != 0) {
		hwopt_rpc_error_set(err, HWOPT_E_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
	} else if (!cJSON_IsString(method)) {
		hwopt_rpc_error_set(err, HWOPT_E_INVALID_REQUEST, "method must be a string");
	} else if (params && !cJSON_IsObject(params)) {
		hwopt_rpc_error_set(err, HWOPT_E_INVALID_PARAMS,
				    "params must be an object (named parameters)");
	} else {
		req->root = root;
		req->id = id;
		req->method = method->valuestring;
		req->params = params;
		return 0;
	}
	cJSON_Delete(root);
	return err->code;
}

void hwopt_rpc_request_free(struct hwopt_rpc_request *req)
{
	cJSON_Delete(req->root);
	memset(req, 0, sizeof(*req));
}

static char *finish(cJSON *msg, size_t *len)
{
	char *text = cJSON_PrintUnformatted(msg);
	cJSON_Delete(msg);
	if (!text)
		return NULL;
	size_t n = strlen(text);
	char *line = realloc(text, n + 2);
	if (!line) {
		free(text);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	if (len)
		*len = n + 1;
	return line;
}

static cJSON *envelope(const cJSON *id)
{
	cJSON *msg = cJSON_CreateObject();
	if (!msg)
		return NULL;
	cJSON *idc = id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull();
	if (!cJSON_AddStringToObject(msg, "jsonrpc", "2.0") || !idc) {
		cJSON_Delete(idc);
		cJSON_Delete(msg);
		return NULL;
	}
	cJSON_AddItemToObject(msg, "id", idc);
	return msg;
}

char *hwopt_rpc_result_line(const cJSON *id, cJSON *result, size_t *len)
{
	cJSON *msg = envelope(id);
	if (!msg || !result) {
		cJSON_Delete(result);
		cJSON_Delete(msg);
		return NULL;
	}
	cJSON_AddItemToObject(msg, "result", result);
	return finish(msg, len);
}

char *hwopt_rpc_error_line(const cJSON *id, int code, const char *message,
			   cJSON *data, size_t *len)
{
	cJSON *msg = envelope(id);
	cJSON *e = cJSON_CreateObject();
	if (!msg || !e || !cJSON_AddNumberToObject(e, "code", code) ||
	    !cJSON_AddStringToObject(e, "message", message)) {
		cJSON_Delete(data);
		cJSON_Delete(e);
		cJSON_Delete(msg);
		return NULL;
	}
	if (data)
		cJSON_AddItemToObject(e, "data", data);
	cJSON_AddItemToObject(msg, "error", e);
	return finish(msg, len);
}

static const cJSON *member(const cJSON *params, const char *name)
{
	return params ? cJSON_GetObjectItemCaseSensitive(params, name) : NULL;
}

static int absent(const char *name, bool required, struct hwopt_rpc_error *err)
{
	if (!required)
		return 1;
	hwopt_rpc_error_set(err, HWOPT_E_INVALID_PARAMS, "params.%s is required", name);
	return -1;
}

int hwopt_param_string(const cJSON *params, const char *name, bool required,
		       const char **out, struct hwopt_rpc_error *err)
{
	const cJSON *v = member(params, name);
	if (!v)
		return absent(name, required, err);
	if (!cJSON_IsString(v)) {
		hwopt_rpc_error_set(err, HWOPT_E_INVALID_PARAMS, "params.%s must be a string", name);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

int hwopt_param_int(const cJSON *params, const char *name, bool required,
		    int64_t min, int64_t max, int64_t *out, struct hwopt_rpc_error *err)
{
	const cJSON *v = member(params, name);
	if (!v)
		return absent(name, required, err);
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	/* Range-check in double first: casting 2^63 or more is undefined. */
	bool ok = cJSON_IsNumber(v) && d == floor(d) && d >= -9223372036854775808.0 &&
		  d < 9223372036854775808.0;
	if (!ok || (int64_t)d < min || (int64_t)d > max) {
		hwopt_rpc_error_set(err, HWOPT_E_INVALID_PARAMS,
				    "params.%s must be an integer from %lld to %lld", name,
				    (long long)min, (long long)max);
		return -1;
	}
	*out = (int64_t)d;
	return 0;
}

int hwopt_param_bool(const cJSON *params, const char *name, bool required,
		     bool *out, struct hwopt_rpc_error *err)
{
	const cJSON *v = member(params, name);
	if (!v)
		return absent(name, required, err);
	if (!cJSON_IsBool(v)) {
		hwopt_rpc_error_set(err, HWOPT_E_INVALID_PARAMS, "params.%s must be true or false", name);
		return -1;
	}
	*out = cJSON_IsTrue(v);
	return 0;
}

int hwopt_params_only(const cJSON *params, const char *const *known,
		      struct hwopt_rpc_error *err)
{
	const cJSON *it;
	if (!params)
		return 0;
	cJSON_ArrayForEach(it, params) {
		bool ok = false;
		for (const char *const *k = known; *k; k++)
			if (it->string && strcmp(it->string, *k) == 0)
				ok = true;
		if (!ok) {
			hwopt_rpc_error_set(err, HWOPT_E_INVALID_PARAMS, "unknown parameter params.%s",
					    it->string ? it->string : "?");
			return -1;
		}
	}
	return 0;
}
