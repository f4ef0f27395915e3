/* The policy engine in the daemon: ticks after every telemetry sample,
 * applies the actions (sysfs through the actuator, workers and classes
 * through the scheduler), keeps the recent decisions for policy.explain, the
 * holds of connected clients, and the counters the metrics show. Loop
 * thread. */
#ifndef HWOPTD_POLICY_H
#define HWOPTD_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "policies/pol_config.h"

struct hwoptd;
struct client;
struct prom;

struct policy;

/* Opens the actuator (restoring what a crashed run left in its journal).
 * Never fails the daemon: without a usable state directory every sysfs
 * write fails (counted, the policy degraded) and policy.get says why. */
int policy_start(struct hwoptd *d);
/* Puts every setting back (restore_on_exit) and frees. */
void policy_stop(struct hwoptd *d);

/* A telemetry sample is in: one engine tick. */
void policy_on_sample(struct hwoptd *d);

/* The config changed (policy.set, reload): from enabled to disabled or to
 * dry_run, every setting goes back and the workers are all freed. */
void policy_config_changed(struct hwoptd *d, const struct pol_config *old);

/* Holds: tied to c, released when it goes. Returns the id, or -ENOSPC. */
int64_t policy_hold_add(struct hwoptd *d, struct client *c, enum pol_profile p, const char *reason);
/* 0, -ENOENT (no such hold) or -EPERM (another client's, and c is no admin). */
int policy_hold_release(struct hwoptd *d, struct client *c, int64_t id, bool admin);
cJSON *policy_holds_json(const struct hwoptd *d);
void policy_client_gone(struct hwoptd *d, struct client *c);

/* The profile in force and why: {active, base, reason, holds, style, driver,
 * platform_profile, choices}. */
cJSON *policy_profile_json(const struct hwoptd *d);
/* policy.get's answer. */
cJSON *policy_json(const struct hwoptd *d);
/* The newest limit decisions (oldest first), of one policy when named. */
cJSON *policy_explain_json(const struct hwoptd *d, size_t limit, const char *policy);

void policy_metrics(const struct hwoptd *d, struct prom *p);

#endif
