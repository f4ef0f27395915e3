/* What the power source's part gives to the rest of the daemon. */
#ifndef HWOPTD_TELEMETRY_POWER_H
#define HWOPTD_TELEMETRY_POWER_H

#include <cjson/cJSON.h>

/* Joules the CPU packages have used so far (the running counters, which
 * survive wraparound), from a part the power source filled: the sum of the
 * top-level "package-N" zones, each package counted once (the MSR zone
 * preferred over its intel-rapl-mmio twin); psys when there is no package
 * zone (psys already includes the packages, so it is never added to them).
 * NAN when no such zone is readable. */
double tm_power_package_joules(const cJSON *power_part);

#endif
