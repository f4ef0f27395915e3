"""Synthetic telemetry traces in trace.record's format (one snapshot per
line) for replaying the policy engine with `hwoptd --simulate`."""
import json

T0 = 1_800_000_000.0


def cpufreq_generic(n_cpus=4, hw_max_hz=3.0e9, hw_min_hz=0.8e9, max_hz=None):
    return {"available": True, "driver": "acpi-cpufreq",
            "governors_available": ["conservative", "ondemand", "userspace", "powersave",
                                    "performance", "schedutil"],
            "cpus": [{"cpu": i, "online": True, "cur_hz": hw_max_hz / 2,
                      "min_hz": hw_min_hz, "max_hz": max_hz or hw_max_hz,
                      "hw_min_hz": hw_min_hz, "hw_max_hz": hw_max_hz,
                      "governor": "schedutil"} for i in range(n_cpus)]}


def cpufreq_epp(n_cpus=4, hw_max_hz=4.7e9, epp="balance_performance"):
    return {"available": True, "driver": "intel_pstate",
            "governors_available": ["performance", "powersave"],
            "epp_available": ["default", "performance", "balance_performance",
                              "balance_power", "power"],
            "epp_cpus": list(range(n_cpus)),
            "cpus": [{"cpu": i, "online": True, "cur_hz": 2.0e9, "min_hz": 0.4e9,
                      "max_hz": hw_max_hz, "hw_min_hz": 0.4e9, "hw_max_hz": hw_max_hz,
                      "governor": "powersave", "epp": epp} for i in range(n_cpus)]}


def thermal(temp_c, passive=80.0, critical=100.0, ztype="x86_pkg_temp"):
    return {"available": True,
            "zones": [{"zone": 0, "type": ztype, "temp_celsius": temp_c,
                       "trips": [{"trip": 0, "type": "passive", "temp_celsius": passive},
                                 {"trip": 1, "type": "critical", "temp_celsius": critical}]}],
            "cooling": []}


def battery(pct, on_ac):
    return {"available": True,
            "supplies": [{"name": "AC", "type": "Mains", "online": on_ac},
                         {"name": "BAT0", "type": "Battery",
                          "status": "Charging" if on_ac else "Discharging",
                          "capacity_pct": pct, "energy_watthours": 50.0 * pct / 100,
                          "power_watts": 10.0}],
            "platform_profile": {"available": False, "reason": "no platform_profile"}}


def daemon(workers=8, active=None, busy=0.0, queued=(0, 0, 0), p95=None):
    d = {"available": True, "workers": workers,
         "active": workers if active is None else active,
         "busy": busy, "busy_avg": busy,
         "queued": {"interactive": queued[0], "normal": queued[1], "batch": queued[2]},
         "worker_cpus": list(range(workers)),
         "allowed_cpus": list(range(workers)),
         "jobs": {"ok_total": 0, "failed_total": 0, "per_s": 0.0}}
    if p95 is not None:
        d["jobs"]["queue_p95_seconds"] = p95
    return d


def perf(cycles, instructions, refs, misses, workers=2):
    """Cumulative counts, split evenly over the workers."""
    return {"available": True,
            "workers": [{"worker": w, "tid": 100 + w, "cpu": w, "available": True,
                         "counts": {"cycles": cycles / workers,
                                    "instructions": instructions / workers,
                                    "cache-references": refs / workers,
                                    "cache-misses": misses / workers}}
                        for w in range(workers)]}


def snapshot(i, **parts):
    return {"seq": i + 1, "time": T0 + i, "interval_ms": 1000,
            "sources": {k: v for k, v in parts.items() if v is not None}}


def write(path, snaps):
    with open(path, "w") as f:
        for s in snaps:
            f.write(json.dumps(s) + "\n")
    return path
