/* Newline framing with a cap on line length. Complete lines inside the fed
 * chunk are handed out without copying; only a partial tail is buffered. */
#ifndef HWOPT_PROTO_FRAME_H
#define HWOPT_PROTO_FRAME_H

#include <stddef.h>

struct hwopt_framer {
	char *buf;      /* partial line carried between feeds */
	size_t len;
	size_t cap;
	size_t max;     /* longest accepted line, newline excluded */
};

/* Called once per line, '\n' (and one '\r' before it) removed. line[len] is
 * writable scratch set to '\0'. Return 0 to go on, anything else to stop:
 * framer_feed then returns that value. */
typedef int (*hwopt_line_fn)(void *ctx, char *line, size_t len);

void hwopt_framer_init(struct hwopt_framer *f, size_t max_line);
void hwopt_framer_free(struct hwopt_framer *f);

/* Feeds bytes. Returns 0, the callback's stop value, -EMSGSIZE once a line
 * exceeds max (the framer is then spent: feed no more), or -ENOMEM. */
int hwopt_framer_feed(struct hwopt_framer *f, char *data, size_t n,
		      hwopt_line_fn on_line, void *ctx);

/* Bytes of an unfinished line held back. */
static inline size_t hwopt_framer_pending(const struct hwopt_framer *f)
{
	return f->len;
}

#endif
