"""make bench-telemetry: what watching the machine costs, beside Prometheus's
node_exporter (Debian's prometheus-node-exporter) measured in the same run.

  (a) the cost of one sample per source, in microseconds: the median of the
      sample_seconds each source reports over 100 samples taken 100 ms
      apart, on this machine's /sys and /proc and on the laptop fixture;
  (b) idle daemon CPU over a window (default 60 s) at 1 Hz with every
      source on and no client, as % of one core, from /proc/PID/stat;
      node_exporter idles through the same window (Prometheus would scrape
      it; here nobody does, as nobody scrapes hwoptd);
  (c) scrape latency of GET /metrics with every source on: median and p99
      of 200 scrapes over a kept-alive connection, against node_exporter's.

Targets (issue 6): idle CPU <= 0.2% of a core, scrape <= 2 ms. Figures are
printed and written as JSON rows, never judged.

usage: telemetry.py --hwoptd BIN --out-dir DIR --json FILE [--idle-seconds N]
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SOURCES = ["procstat", "cpufreq", "thermal", "hwmon", "power", "battery", "perf", "schedlat"]
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def rpc(sock, method, params=None):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    req = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        req["params"] = params
    s.sendall(json.dumps(req).encode() + b"\n")
    f = s.makefile("rb")
    r = json.loads(f.readline())
    s.close()
    if "error" in r:
        raise RuntimeError("%s: %s" % (method, r["error"]))
    return r["result"]


class Hwoptd:
    def __init__(self, binary, out_dir, name, interval_ms, port, fixture=None):
        self.dir = os.path.abspath(os.path.join(out_dir, name))
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.sock = os.path.join(self.dir, "hwoptd.sock")
        conf = os.path.join(self.dir, "hwoptd.conf")
        with open(conf, "w") as f:
            f.write("[telemetry]\ninterval_ms = %d\n" % interval_ms)
            if fixture:
                root = os.path.join(REPO, "tests", "fixtures", fixture)
                f.write("sysfs_root = %s/sys\nprocfs_root = %s/proc\n" % (root, root))
            f.write("[metrics]\nlisten = %s\n" % ("127.0.0.1:%d" % port if port else ""))
        self.log = open(os.path.join(self.dir, "hwoptd.log"), "wb")
        self.p = subprocess.Popen([binary, "-c", conf, "-s", self.sock, "--state-dir",
                                   os.path.join(self.dir, "state"), "-l", "warning"],
                                  stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                if rpc(self.sock, "telemetry.get")["samples"] >= 1:
                    break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline or self.p.poll() is not None:
                raise SystemExit("hwoptd did not start; see %s" % self.log.name)
            time.sleep(0.05)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=60)
        self.log.close()
        if rc != 0:
            raise SystemExit("hwoptd exited %d; see %s" % (rc, self.log.name))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def sample_costs(d, n=100):
    """Median and p90 of each source's sample_seconds, in microseconds."""
    deadline = time.monotonic() + 60
    while rpc(d.sock, "telemetry.get")["samples"] < n + 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    hist = rpc(d.sock, "telemetry.get", {"history": n})["history"]
    out = {}
    for name in SOURCES:
        v = sorted(s["sources"][name]["sample_seconds"] * 1e6 for s in hist
                   if s["sources"][name].get("available"))
        if v:
            out[name] = {"median_us": statistics.median(v), "p90_us": v[int(0.9 * (len(v) - 1))],
                         "samples": len(v)}
        else:
            out[name] = {"unavailable": hist[-1]["sources"][name].get("reason", "")}
    return out


def scrape_latency(port, n=200):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times, size = [], 0
    for i in range(n + 10):
        t0 = time.perf_counter()
        c.request("GET", "/metrics")
        r = c.getresponse()
        body = r.read()
        dt = time.perf_counter() - t0
        if r.status != 200:
            raise SystemExit("GET /metrics: %d" % r.status)
        if i >= 10:  # warm-up
            times.append(dt * 1e3)
        size = len(body)
        if r.getheader("Connection", "").lower() == "close":
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.close()
    times.sort()
    return {"median_ms": statistics.median(times), "p99_ms": times[int(0.99 * (len(times) - 1))],
            "bytes": size, "series": None}


def node_exporter(port):
    exe = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if not exe:
        return None
    p = subprocess.Popen([exe, "--web.listen-address=127.0.0.1:%d" % port],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p
        except OSError:
            time.sleep(0.1)
    p.kill()
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hwoptd", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--idle-seconds", type=float, default=60)
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    rows = []

    # (a) per-source sample cost, here and on the laptop fixture.
    costs = {}
    for name, fixture in (("machine", None), ("laptop", "laptop")):
        d = Hwoptd(a.hwoptd, a.out_dir, "cost-" + name, 100, 0, fixture)
        try:
            costs[name] = sample_costs(d)
        finally:
            d.stop()
    print("(a) one sample per source, µs (median / p90 of 100)")
    print("    %-10s %22s %22s" % ("source", "this machine", "laptop fixture"))
    for s in SOURCES:
        cells = []
        for name in ("machine", "laptop"):
            c = costs[name][s]
            cells.append("%8.1f / %8.1f" % (c["median_us"], c["p90_us"]) if "median_us" in c
                         else "unavailable")
            rows.append(dict(bench="sample_cost", tree=name, source=s, **c))
        print("    %-10s %22s %22s" % (s, cells[0], cells[1]))

    # (b) idle CPU at 1 Hz, beside node_exporter over the same window.
    port, ne_port = free_port(), free_port()
    d = Hwoptd(a.hwoptd, a.out_dir, "idle", 1000, port)
    ne = node_exporter(ne_port)
    try:
        time.sleep(2)
        t0, c0 = time.monotonic(), cpu_seconds(d.p.pid)
        n0 = cpu_seconds(ne.pid) if ne else 0
        time.sleep(a.idle_seconds)
        wall = time.monotonic() - t0
        idle = (cpu_seconds(d.p.pid) - c0) / wall * 100
        ne_idle = (cpu_seconds(ne.pid) - n0) / wall * 100 if ne else None
        print("(b) idle CPU over %.0f s at 1 Hz, %% of one core: hwoptd %.3f%% (target <= 0.2%%)"
              % (wall, idle) + ("; node_exporter %.3f%%" % ne_idle if ne else
                                "; node_exporter not installed"))
        rows.append(dict(bench="idle_cpu", seconds=wall, hwoptd_pct=idle,
                         node_exporter_pct=ne_idle))

        # (c) scrape latency with every source on.
        h = scrape_latency(port)
        n = scrape_latency(ne_port) if ne else None
        print("(c) GET /metrics, ms (median / p99 of 200): hwoptd %.3f / %.3f (%d bytes; target "
              "<= 2 ms)" % (h["median_ms"], h["p99_ms"], h["bytes"]) +
              ("; node_exporter %.3f / %.3f (%d bytes): hwoptd is %.1fx faster"
               % (n["median_ms"], n["p99_ms"], n["bytes"], n["median_ms"] / h["median_ms"])
               if n else ""))
        rows.append(dict(bench="scrape", hwoptd=h, node_exporter=n))
    finally:
        if ne:
            ne.terminate()
            ne.wait(timeout=30)
        d.stop()
    with open(a.json, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print("JSON rows:", a.json)


if __name__ == "__main__":
    main()
