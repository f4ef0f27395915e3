/* The method table, the daemon's handlers and docs/protocol.md agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/daemon.h"
#include "proto/methods.h"

static char *read_all(const char *p)
{
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void every_method_has_a_handler(void **state)
{
	for (size_t i = 0; i < hwopt_n_methods; i++)
		if (!methods_lookup(hwopt_methods[i].name))
			fail_msg("method %s has no handler", hwopt_methods[i].name);
	assert_null(methods_lookup("no.such.method"));
}

static void names_unique_and_namespaced(void **state)
{
	for (size_t i = 0; i < hwopt_n_methods; i++) {
		for (size_t j = i + 1; j < hwopt_n_methods; j++)
			assert_string_not_equal(hwopt_methods[i].name, hwopt_methods[j].name);
		assert_ptr_equal(hwopt_method_find(hwopt_methods[i].name), &hwopt_methods[i]);
	}
}

/* Each method needs a "### `name`" section that states its class. */
static void every_method_documented(void **state)
{
	char *doc = read_all(SRCDIR "/docs/protocol.md");
	for (size_t i = 0; i < hwopt_n_methods; i++) {
		char head[128], cls[64];
		snprintf(head, sizeof(head), "\n### `%s`\n", hwopt_methods[i].name);
		const char *at = strstr(doc, head);
		if (!at)
			fail_msg("docs/protocol.md has no section %s", head + 1);
		const char *next = strstr(at + strlen(head), "\n### ");
		size_t len = next ? (size_t)(next - at) : strlen(at);
		snprintf(cls, sizeof(cls), "Class %s.", hwopt_perm_name(hwopt_methods[i].perm));
		char *section = strndup(at, len);
		if (!strstr(section, cls))
			fail_msg("docs for %s do not say '%s'", hwopt_methods[i].name, cls);
		if (!strstr(section, "→ {"))
			fail_msg("docs for %s have no example", hwopt_methods[i].name);
		free(section);
	}
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_method_has_a_handler),
		cmocka_unit_test(names_unique_and_namespaced),
		cmocka_unit_test(every_method_documented),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
