/* Talking to the daemon and printing what it says. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/c/hwoptclient.h"
#include "ctl.h"

static int connect_failed(const struct ctl *ctl, int err)
{
	fprintf(stderr,
		"hwoptctl: cannot connect to hwoptd at %s: %s\n"
		"Is the daemon running? Try 'systemctl status hwoptd', or name the socket with --socket.\n",
		ctl->socket, strerror(err));
	return CTL_EXIT_CONNECT;
}

int ctl_connect(struct ctl *ctl)
{
	if (ctl->client)
		return CTL_EXIT_OK;
	ctl->client = hwopt_client_connect(ctl->socket, ctl->timeout_ms);
	if (!ctl->client)
		return connect_failed(ctl, errno);
	hwopt_client_set_timeout(ctl->client, ctl->timeout_ms);
	return CTL_EXIT_OK;
}

int ctl_report(struct ctl *ctl, const char *method, enum hwopt_call_status st, cJSON *error,
	       int timeout_ms)
{
	switch (st) {
	case HWOPT_CALL_OK:
		cJSON_Delete(error);
		return CTL_EXIT_OK;
	case HWOPT_CALL_RPC_ERROR: {
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(error, "message");
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
		if (ctl->json) {
			ctl_print_json(error);
		}
		fprintf(stderr, "hwoptctl: %s: %s (error %d)\n", method,
			cJSON_IsString(msg) ? msg->valuestring : "error",
			cJSON_IsNumber(code) ? code->valueint : 0);
		cJSON_Delete(error);
		return CTL_EXIT_RPC;
	}
	case HWOPT_CALL_TIMEOUT:
		fprintf(stderr, "hwoptctl: %s: no answer from %s within %.1f s\n", method, ctl->socket,
			timeout_ms / 1000.0);
		break;
	case HWOPT_CALL_BAD_REPLY:
		fprintf(stderr, "hwoptctl: %s: the answer from %s is not JSON-RPC as documented\n",
			method, ctl->socket);
		break;
	case HWOPT_CALL_IO_ERROR:
	default:
		fprintf(stderr, "hwoptctl: %s: connection to %s failed: %s\n", method, ctl->socket,
			strerror(errno));
		break;
	}
	cJSON_Delete(error);
	return CTL_EXIT_CONNECT;
}

int ctl_call_timeout(struct ctl *ctl, const char *method, cJSON *params, int timeout_ms,
		     cJSON **result)
{
	cJSON *error = NULL;
	*result = NULL;
	int rc = ctl_connect(ctl);
	if (rc) {
		cJSON_Delete(params);
		return rc;
	}
	enum hwopt_call_status st =
		hwopt_client_call(ctl->client, method, params, timeout_ms, result, &error);
	return ctl_report(ctl, method, st, error, timeout_ms);
}

int ctl_call(struct ctl *ctl, const char *method, cJSON *params, cJSON **result)
{
	return ctl_call_timeout(ctl, method, params, ctl->timeout_ms, result);
}

int ctl_long_timeout(const struct ctl *ctl, int dflt_ms)
{
	if (ctl->timeout_set || ctl->timeout_ms >= dflt_ms)
		return ctl->timeout_ms;
	return dflt_ms;
}

void ctl_print_json(const cJSON *v)
{
	char *s = cJSON_Print(v);
	if (s) {
		puts(s);
		free(s);
	}
}

void ctl_kv(int indent, int width, const char *key, const char *fmt, ...)
{
	char label[128];
	va_list ap;
	snprintf(label, sizeof(label), "%s:", key);
	printf("%*s%-*s ", indent, "", width + 1, label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

const char *ctl_bytes(double bytes, char *buf, int len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;
	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	if (u == 0 || bytes == floor(bytes))
		snprintf(buf, (size_t)len, "%.0f %s", bytes, units[u]);
	else
		snprintf(buf, (size_t)len, "%.1f %s", bytes, units[u]);
	return buf;
}

const char *ctl_duration(double s, char *buf, int len)
{
	long long t = (long long)s;
	long long d = t / 86400, h = t / 3600 % 24, m = t / 60 % 60, sec = t % 60;
	if (d)
		snprintf(buf, (size_t)len, "%lldd %lldh %lldm %llds", d, h, m, sec);
	else if (h)
		snprintf(buf, (size_t)len, "%lldh %lldm %llds", h, m, sec);
	else if (m)
		snprintf(buf, (size_t)len, "%lldm %llds", m, sec);
	else
		snprintf(buf, (size_t)len, "%.1fs", s);
	return buf;
}

double ctl_num(const cJSON *obj, const char *name, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

const char *ctl_str(const cJSON *obj, const char *name, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

const char *ctl_hz(double hz, char *buf, int len)
{
	if (hz >= 1e9)
		snprintf(buf, (size_t)len, "%.2f GHz", hz / 1e9);
	else
		snprintf(buf, (size_t)len, "%.0f MHz", hz / 1e6);
	return buf;
}

const char *ctl_secs(double s, char *buf, int len)
{
	if (s < 1e-3)
		snprintf(buf, (size_t)len, "%.0f us", s * 1e6);
	else if (s < 1)
		snprintf(buf, (size_t)len, "%.1f ms", s * 1e3);
	else if (s < 60)
		snprintf(buf, (size_t)len, "%.2f s", s);
	else
		ctl_duration(s, buf, len);
	return buf;
}

void ctl_line_add(struct ctl_line *l, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(l->s) - l->n;
	if (room <= 1)
		return;
	va_start(ap, fmt);
	int w = vsnprintf(l->s + l->n, room, fmt, ap);
	va_end(ap);
	if (w > 0)
		l->n += (size_t)w < room ? (size_t)w : room - 1;
}

int ctl_usage(const struct ctl_command *cmd)
{
	fprintf(stderr, "Usage: hwoptctl [OPTIONS] %s %s\nSee 'hwoptctl help %s'.\n", cmd->name,
		cmd->usage, cmd->name);
	return CTL_EXIT_USAGE;
}

int ctl_args_max(const struct ctl_command *cmd, int argc, int max)
{
	if (argc <= max)
		return CTL_EXIT_OK;
	fprintf(stderr, "Usage: hwoptctl [OPTIONS] %s %s\n", cmd->name, cmd->usage);
	return CTL_EXIT_USAGE;
}

int ctl_bad_option(const struct ctl_command *cmd, int c, int argc, char **argv)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
	char shortopt[3] = { '-', (char)optopt, 0 };
	if (optopt && strncmp(arg, "--", 2) != 0)
		arg = shortopt;
	if (c == ':')
		fprintf(stderr, "hwoptctl: %s: %s needs a value\n", cmd->name, arg);
	else
		fprintf(stderr, "hwoptctl: %s: unknown option '%s'\n", cmd->name, arg);
	return ctl_usage(cmd);
}

int ctl_parse_int(const char *cmd, const char *opt, const char *s, long long min,
		  long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "hwoptctl: %s: %s takes an integer from %lld to %lld, not '%s'\n", cmd,
			opt, min, max, s);
		return CTL_EXIT_USAGE;
	}
	*out = v;
	return CTL_EXIT_OK;
}

static void table_add(struct ctl_table *t, va_list ap)
{
	if (t->nrows == t->cap) {
		int cap = t->cap ? t->cap * 2 : 16;
		char **nc = realloc(t->cells, (size_t)cap * (size_t)t->ncols * sizeof(*nc));
		if (!nc) {
			perror("hwoptctl");
			exit(CTL_EXIT_CONNECT);
		}
		t->cells = nc;
		t->cap = cap;
	}
	for (int i = 0; i < t->ncols; i++) {
		const char *v = va_arg(ap, const char *);
		char *d = strdup(v ? v : "-");
		if (!d) {
			perror("hwoptctl");
			exit(CTL_EXIT_CONNECT);
		}
		t->cells[t->nrows * t->ncols + i] = d;
	}
	t->nrows++;
}

void ctl_table_init(struct ctl_table *t, const char *align, ...)
{
	va_list ap;
	*t = (struct ctl_table){ .ncols = (int)strlen(align), .align = align };
	va_start(ap, align);
	table_add(t, ap);
	va_end(ap);
}

void ctl_table_row(struct ctl_table *t, ...)
{
	va_list ap;
	va_start(ap, t);
	table_add(t, ap);
	va_end(ap);
}

/* Display width of UTF-8 text: code points, not bytes. */
static int text_width(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

void ctl_table_print(struct ctl_table *t)
{
	int width[32] = { 0 };
	int nc = t->ncols < 32 ? t->ncols : 32;
	for (int r = 0; r < t->nrows; r++)
		for (int i = 0; i < nc; i++) {
			int w = text_width(t->cells[r * t->ncols + i]);
			if (w > width[i])
				width[i] = w;
		}
	for (int r = 0; r < t->nrows; r++) {
		for (int i = 0; i < nc; i++) {
			const char *v = t->cells[r * t->ncols + i];
			int pad = width[i] - text_width(v);
			bool last = i == nc - 1;
			if (t->align[i] == 'r')
				printf("%*s%s", pad, "", v);
			else
				printf("%s%*s", v, last ? 0 : pad, "");
			if (!last)
				fputs("  ", stdout);
		}
		putchar('\n');
	}
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	*t = (struct ctl_table){ 0 };
}

void ctl_table_indent(struct ctl_table *t, int indent)
{
	for (int r = 0; r < t->nrows; r++) {
		char **cell = &t->cells[r * t->ncols];
		size_t n = strlen(*cell);
		char *d = malloc((size_t)indent + n + 1);
		if (!d) {
			perror("hwoptctl");
			exit(CTL_EXIT_CONNECT);
		}
		memset(d, ' ', (size_t)indent);
		memcpy(d + indent, *cell, n + 1);
		free(*cell);
		*cell = d;
	}
}
