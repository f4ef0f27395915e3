/* The method table: every method the daemon serves, who may call it, and a
 * one-line summary. The daemon binds handlers to these names; ctl and the
 * documentation test read the same table. */
#ifndef HWOPT_PROTO_METHODS_H
#define HWOPT_PROTO_METHODS_H

#include <stddef.h>

/* Bumped on incompatible protocol changes; clients compare it from hello. */
#define HWOPT_PROTOCOL_VERSION 1

enum hwopt_perm {
	HWOPT_PERM_READ,   /* any peer that can open the socket */
	HWOPT_PERM_SUBMIT, /* admins and the submit group */
	HWOPT_PERM_ADMIN,  /* uid 0, the daemon's own uid, the admin group */
};

struct hwopt_method {
	const char *name;
	enum hwopt_perm perm;
	const char *summary;
};

extern const struct hwopt_method hwopt_methods[];
extern const size_t hwopt_n_methods;

const struct hwopt_method *hwopt_method_find(const char *name);
const char *hwopt_perm_name(enum hwopt_perm perm);

#endif
