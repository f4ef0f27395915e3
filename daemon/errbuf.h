/* Error messages into caller buffers: formats into err when it is not NULL. */
#ifndef HWOPTD_ERRBUF_H
#define HWOPTD_ERRBUF_H

#include <stddef.h>

void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
