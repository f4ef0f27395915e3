#!/usr/bin/python3
"""What a policy decision costs.

1. Replay: `hwoptd --simulate` over a synthetic hour (3600 snapshots of an
   8-CPU laptop: a heat ramp, a battery drain, load bursts, a memory-bound
   phase); hwoptd prints the per-tick median and p99 (parse and decide).
2. Live: a daemon on a copy of the laptop fixture, applying, sampling every
   200 ms for --seconds; the tick (snapshot to inputs, decide, apply)
   histogram from /metrics-equivalent policy.get figures, beside the
   telemetry sample itself (the collector's own duration) in the same run.
Prints a table and writes JSON."""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import trace_gen as tg  # noqa: E402


def synthetic_hour(path):
    snaps = []
    c = ins = refs = miss = 0.0
    for i in range(3600):
        phase = (i // 300) % 4
        temp = 60 + (18 if phase == 1 else 0) + (i % 7) * 0.3
        pct = max(3.0, 100 - i / 40)
        mem = phase == 3
        c += 2e9
        ins += 2e9 * (0.4 if mem else 1.8)
        refs += 2e7
        miss += 2e7 * (0.6 if mem else 0.05)
        busy = 8.0 if phase == 2 and i % 60 < 30 else 1.0
        snaps.append(tg.snapshot(
            i, cpufreq=tg.cpufreq_epp(n_cpus=8), thermal=tg.thermal(temp),
            battery=tg.battery(pct, on_ac=i > 3000), perf=tg.perf(c, ins, refs, miss, workers=8),
            daemon=tg.daemon(workers=8, busy=busy,
                             queued=(0, 32 if busy > 4 else 0, 0))))
    tg.write(path, snaps)
    return len(snaps)


def replay(hwoptd, trace, runs):
    out = []
    for _ in range(runs):
        r = subprocess.run([hwoptd, "--simulate", trace], capture_output=True, text=True,
                           timeout=600)
        if r.returncode != 0:
            sys.exit("simulate failed: " + r.stderr)
        m = re.search(r"(\d+) snapshots, (\d+) decisions.*median ([\d.]+) us, p99 ([\d.]+) us",
                      r.stderr)
        out.append({"snapshots": int(m.group(1)), "decisions": int(m.group(2)),
                    "median_us": float(m.group(3)), "p99_us": float(m.group(4)),
                    "stdout_bytes": len(r.stdout)})
    return out


def rpc(sock, method, params=None):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall((json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                           "params": params or {}}) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf)["result"]


def live(hwoptd, seconds):
    tmp = tempfile.mkdtemp(prefix="hwopt-bench-pol-")
    try:
        root = os.path.join(tmp, "fx")
        shutil.copytree(os.path.join(REPO, "tests", "fixtures", "laptop"), root, symlinks=True)
        sock = os.path.join(tmp, "s.sock")
        conf = os.path.join(tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("[daemon]\nsocket = %s\nstate_dir = %s/state\nlog_level = warning\n"
                    "[telemetry]\nsysfs_root = %s/sys\nprocfs_root = %s/proc\ninterval_ms = 200\n"
                    "[metrics]\nlisten =\n" % (sock, tmp, root, root))
        p = subprocess.Popen([hwoptd, "--config", conf], stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if os.path.exists(sock):
                    break
                time.sleep(0.05)
            time.sleep(seconds)
            pg = rpc(sock, "policy.get")
            tm = rpc(sock, "telemetry.get")
        finally:
            p.terminate()
            p.wait(timeout=30)
        tick = pg["tick"]
        sample = tm["sample"]["sources"]
        sample_s = sum(v.get("sample_seconds", 0) for v in sample.values()
                       if isinstance(v, dict))
        return {"ticks": tick["count"], "tick_mean_us": tick["mean_seconds"] * 1e6,
                "tick_last_us": tick["last_seconds"] * 1e6,
                "telemetry_sample_us": sample_s * 1e6}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hwoptd", default=os.path.join(REPO, "bin", "hwoptd"))
    ap.add_argument("--json", default=None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=20)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="hwopt-bench-trace-")
    try:
        trace = os.path.join(tmp, "hour.jsonl")
        synthetic_hour(trace)
        rep = replay(a.hwoptd, trace, a.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lv = live(a.hwoptd, a.seconds)
    res = {"replay": {"runs": rep, "median_us": median([r["median_us"] for r in rep]),
                      "p99_us": median([r["p99_us"] for r in rep]),
                      "decisions": rep[0]["decisions"],
                      "deterministic": len({r["stdout_bytes"] for r in rep}) == 1},
           "live": lv}
    res["live"]["tick_vs_sample"] = (lv["tick_mean_us"] / lv["telemetry_sample_us"]
                                     if lv["telemetry_sample_us"] else None)
    print("policy decision latency")
    print("  replay, 3600 snapshots x %d runs: median %.1f us, p99 %.1f us per tick, %d decisions"
          % (a.runs, res["replay"]["median_us"], res["replay"]["p99_us"],
             res["replay"]["decisions"]))
    print("  live (laptop fixture, 200 ms): %d ticks, mean %.1f us per tick (decide and apply); "
          "the telemetry sample it reads took %.1f us: ratio %.2f"
          % (lv["ticks"], lv["tick_mean_us"], lv["telemetry_sample_us"],
             res["live"]["tick_vs_sample"] or 0))
    if a.json:
        os.makedirs(os.path.dirname(a.json) or ".", exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
