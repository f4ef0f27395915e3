/* hwoptd --simulate: the policy engine over a recorded trace (JSON lines of
 * snapshots, as trace.record writes them), touching nothing, printing each
 * decision as a JSON line. The same trace and config give the same output. */
#ifndef HWOPTD_SIMULATE_H
#define HWOPTD_SIMULATE_H

#include <stdio.h>

#include "policies/pol_config.h"

/* Reads trace_path ("-": stdin), writes decisions to out and a summary to
 * diag. Returns the exit status: 0, 1 when the trace cannot be read or holds
 * no snapshot. Lines that are not snapshots are reported and skipped. */
int simulate_run(const char *trace_path, const struct pol_config *c, FILE *out, FILE *diag);

#endif
