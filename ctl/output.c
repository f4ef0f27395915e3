/* Talking to the daemon and printing what it says. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
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

int ctl_call(struct ctl *ctl, const char *method, cJSON *params, cJSON **result)
{
	cJSON *error = NULL;
	*result = NULL;
	if (!ctl->client) {
		ctl->client = hwopt_client_connect(ctl->socket, ctl->timeout_ms);
		if (!ctl->client) {
			cJSON_Delete(params);
			return connect_failed(ctl, errno);
		}
	}
	switch (hwopt_client_call(ctl->client, method, params, ctl->timeout_ms, result, &error)) {
	case HWOPT_CALL_OK:
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
			ctl->timeout_ms / 1000.0);
		return CTL_EXIT_CONNECT;
	case HWOPT_CALL_BAD_REPLY:
		fprintf(stderr, "hwoptctl: %s: the answer from %s is not JSON-RPC\n", method, ctl->socket);
		return CTL_EXIT_CONNECT;
	case HWOPT_CALL_IO_ERROR:
	default:
		fprintf(stderr, "hwoptctl: %s: connection to %s failed: %s\n", method, ctl->socket,
			strerror(errno));
		return CTL_EXIT_CONNECT;
	}
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

int ctl_args_max(const struct ctl_command *cmd, int argc, int max)
{
	if (argc <= max)
		return CTL_EXIT_OK;
	fprintf(stderr, "Usage: hwoptctl [OPTIONS] %s %s\n", cmd->name, cmd->usage);
	return CTL_EXIT_USAGE;
}
