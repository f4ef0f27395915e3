/* The Prometheus exposition of the daemon: its own counters (requests,
 * jobs by model and outcome, time and batch histograms, queue depth,
 * workers, pools) and every telemetry source's series from the newest
 * snapshot. Loop thread. */
#ifndef HWOPTD_METRICS_H
#define HWOPTD_METRICS_H

#include <stddef.h>

struct hwoptd;
struct prom;

/* Adds every series to p. */
void metrics_collect(struct hwoptd *d, struct prom *p);
/* The whole text; free() it. NULL when out of memory. */
char *metrics_render(struct hwoptd *d, size_t *len);

#endif
