/* The Prometheus text exposition format 0.0.4, built in memory. Series may
 * be added in any order: render groups them by family (HELP and TYPE once),
 * and drops a second series with the same name and labels, a series of an
 * undeclared family and a non-finite value, so a broken sensor can never
 * produce a duplicate series or fail a scrape. */
#ifndef HWOPTD_PROM_H
#define HWOPTD_PROM_H

#include <stddef.h>
#include <stdint.h>

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM };

struct prom;

struct prom *prom_new(void);
void prom_free(struct prom *p);

/* Declares a family; declaring it again is harmless (the first help and
 * type stay). name must match [a-zA-Z_:][a-zA-Z0-9_:]*. */
int prom_family(struct prom *p, const char *name, enum prom_type type, const char *help);

/* One sample of a declared counter or gauge; labels are name, value pairs
 * ending with NULL. Label values are escaped here. */
int prom_sample(struct prom *p, const char *family, double value, ...)
	__attribute__((sentinel));

/* One histogram series: counts[i] observations <= le[i] (not cumulative;
 * render accumulates), n bounds, then +Inf from count. */
int prom_histogram(struct prom *p, const char *family, const double *le, const uint64_t *counts,
		   size_t n, double sum, uint64_t count, ...) __attribute__((sentinel));

/* The whole text; free() it. NULL when out of memory. */
char *prom_render(const struct prom *p, size_t *len);

/* Series kept and dropped so far (tests, hwopt_scrape_* metrics). */
size_t prom_n_series(const struct prom *p);
size_t prom_n_dropped(const struct prom *p);

#endif
