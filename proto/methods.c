#include "methods.h"

#include <string.h>

const struct hwopt_method hwopt_methods[] = {
	{ "hello", HWOPT_PERM_READ, "protocol version, daemon version and capabilities" },
	{ "status", HWOPT_PERM_READ, "uptime, pid, connections, requests served, config path" },
	{ "topology", HWOPT_PERM_READ, "packages, cores, caches, NUMA nodes, core kinds, CPU features" },
	{ "config.get", HWOPT_PERM_READ, "the configuration in force" },
	{ "config.reload", HWOPT_PERM_ADMIN, "re-read the configuration file atomically" },
	{ "shutdown", HWOPT_PERM_ADMIN, "stop the daemon gracefully" },
	{ "model.load", HWOPT_PERM_SUBMIT, "load an ONNX model and serve it" },
	{ "model.unload", HWOPT_PERM_SUBMIT, "stop serving a model once its jobs end" },
	{ "model.list", HWOPT_PERM_READ, "loaded models: inputs, outputs, memory, counters" },
	{ "infer", HWOPT_PERM_SUBMIT, "run a model on inputs inline or in a pool" },
	{ "job.list", HWOPT_PERM_SUBMIT, "queued and running jobs (an admin sees all)" },
	{ "job.cancel", HWOPT_PERM_SUBMIT, "cancel a queued or running job" },
	{ "pool.create", HWOPT_PERM_SUBMIT, "make a shared-memory pool; its memfd comes with the answer" },
	{ "pool.alloc", HWOPT_PERM_SUBMIT, "allocate a 64-byte aligned block in a pool" },
	{ "pool.free", HWOPT_PERM_SUBMIT, "free a block of a pool" },
	{ "pool.destroy", HWOPT_PERM_SUBMIT, "destroy a pool once no job refers to it" },
	{ "pool.list", HWOPT_PERM_SUBMIT, "pools with their use and fragmentation" },
	{ "telemetry.get", HWOPT_PERM_READ, "the newest telemetry sample, or the last N, by source" },
	{ "telemetry.subscribe", HWOPT_PERM_READ, "push telemetry.sample notifications every interval" },
	{ "telemetry.unsubscribe", HWOPT_PERM_READ, "stop a telemetry subscription" },
	{ "trace.record", HWOPT_PERM_READ, "write the next N seconds of samples to a file as JSON lines" },
	{ "policy.get", HWOPT_PERM_READ, "policy settings and state: caps, levels, workers, actuator" },
	{ "policy.set", HWOPT_PERM_ADMIN, "change policy settings (validated, all or nothing)" },
	{ "policy.explain", HWOPT_PERM_READ, "recent policy decisions with their inputs and reasons" },
	{ "profile.get", HWOPT_PERM_READ, "the power profile in force, and why" },
	{ "profile.set", HWOPT_PERM_ADMIN, "set the base power profile" },
	{ "hold.add", HWOPT_PERM_SUBMIT, "hold power-saver or performance while connected" },
	{ "hold.release", HWOPT_PERM_SUBMIT, "release a profile hold" },
	{ "hold.list", HWOPT_PERM_READ, "the profile holds of connected clients" },
};

const size_t hwopt_n_methods = sizeof(hwopt_methods) / sizeof(hwopt_methods[0]);

const struct hwopt_method *hwopt_method_find(const char *name)
{
	for (size_t i = 0; i < hwopt_n_methods; i++)
		if (strcmp(hwopt_methods[i].name, name) == 0)
			return &hwopt_methods[i];
	return NULL;
}

const char *hwopt_perm_name(enum hwopt_perm perm)
{
	switch (perm) {
	case HWOPT_PERM_READ: return "read";
	case HWOPT_PERM_SUBMIT: return "submit";
	case HWOPT_PERM_ADMIN: return "admin";
	}
	return "unknown";
}
