"""Telemetry through a real daemon: the sources read fixture trees through
[telemetry] sysfs_root/procfs_root (and the --sysfs-root/--procfs-root
flags), telemetry.get with sources and history, subscriptions pushed as
notifications, trace.record files, and bad params, paths and configs."""

import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import HWOPTD, IO_TIMEOUT, REPO, SLOW, check_error, run, wait_for

FIXTURES = os.path.join(REPO, "tests", "fixtures")
SOURCES = ["procstat", "cpufreq", "thermal", "hwmon", "power", "battery", "perf", "schedlat",
           "daemon"]


def fixture_sections(name, **telemetry):
    t = {"sysfs_root": os.path.join(FIXTURES, name, "sys"),
         "procfs_root": os.path.join(FIXTURES, name, "proc"),
         "interval_ms": "200"}
    t.update(telemetry)
    return {"telemetry": t}


def wait_samples(d, n=2):
    """The newest sample once the daemon holds at least n."""
    def ready():
        r = d.result("telemetry.get")
        return r if r["samples"] >= n else None
    return wait_for(ready, what="%d telemetry samples" % n)["sample"]


def test_laptop_fixture_every_source(daemon):
    d = daemon(sections=fixture_sections("laptop"))
    s = wait_samples(d)
    src = s["sources"]
    assert set(src) == set(SOURCES)
    for name in ("procstat", "cpufreq", "thermal", "hwmon", "power", "battery", "daemon"):
        assert src[name]["available"] is True, (name, src[name])
    assert len(src["procstat"]["cpus"]) == 8
    assert src["cpufreq"]["driver"] == "intel_pstate"
    types = {z["type"] for z in src["thermal"]["zones"]}
    assert {"x86_pkg_temp", "acpitz"} <= types
    bat = [p for p in src["battery"]["supplies"] if p["type"] == "Battery"]
    assert bat and 0 <= bat[0]["capacity_pct"] <= 100
    assert src["battery"]["platform_profile"]["profile"] == "balanced"
    names = {z["name"] for z in src["power"]["zones"]}
    assert {"package-0", "core", "dram"} <= names
    # This machine's kernel, not the fixture: the PMU's software events.
    perf = src["perf"]
    assert perf["available"] is True, perf
    assert s["interval_ms"] == 200 and s["seq"] >= 2


def test_cli_roots_override_the_config(daemon):
    root = os.path.join(FIXTURES, "arm-server")
    d = daemon(extra_args=["--sysfs-root", root + "/sys", "--procfs-root", root + "/proc"],
               sections={"telemetry": {"interval_ms": "200"}})
    src = wait_samples(d)["sources"]
    assert len(src["procstat"]["cpus"]) == 16
    assert src["battery"]["available"] is False and src["battery"]["reason"]
    assert src["power"]["available"] is False and src["power"]["reason"]
    r = d.result("config.get")
    assert r["telemetry"]["sysfs_root"] == root + "/sys"


def test_missing_roots_report_unavailable_and_the_daemon_serves(daemon, tmp_path):
    empty = str(tmp_path)
    d = daemon(sections={"telemetry": {"sysfs_root": empty, "procfs_root": empty,
                                       "interval_ms": "200"}})
    src = wait_samples(d)["sources"]
    for name in ("procstat", "cpufreq", "thermal", "hwmon", "power", "battery"):
        assert src[name]["available"] is False, (name, src[name])
        assert isinstance(src[name]["reason"], str) and src[name]["reason"], name
    assert src["daemon"]["available"] is True
    assert d.result("status")["pid"] > 0


def test_sources_config_disables(daemon):
    d = daemon(sections=fixture_sections("laptop", sources="thermal,battery"))
    src = wait_samples(d)["sources"]
    assert src["thermal"]["available"] is True
    assert src["procstat"] == {"available": False,
                               "reason": "disabled by [telemetry] sources"}


def test_get_filters_sources_and_returns_history(daemon):
    d = daemon(sections=fixture_sections("laptop"))
    wait_samples(d, 3)
    r = d.result("telemetry.get", {"sources": ["thermal", "daemon"], "history": 3})
    assert set(r["sample"]["sources"]) == {"thermal", "daemon"}
    h = r["history"]
    assert len(h) == 3
    seqs = [x["seq"] for x in h]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert h[-1]["seq"] <= r["sample"]["seq"]
    r = d.result("telemetry.get", {"history": 100000})
    assert len(r["history"]) == r["samples"] <= r["history_max"]


@pytest.mark.parametrize("params,field", [
    ({"sources": ["nope"]}, "sources"),
    ({"sources": "thermal"}, "sources"),
    ({"sources": []}, "sources"),
    ({"sources": [1]}, "sources"),
    ({"history": -1}, "history"),
    ({"history": "3"}, "history"),
    ({"bogus": 1}, "bogus"),
])
def test_get_bad_params(hwoptd, params, field):
    with hwoptd.connect() as c:
        check_error(c.call("telemetry.get", params), -32602, contains=field)
        assert c.result("telemetry.get")["interval_ms"] > 0  # still serving


def test_subscribe_pushes_until_unsubscribed(daemon):
    d = daemon(sections=fixture_sections("laptop"))
    with d.connect() as c:
        r = c.result("telemetry.subscribe", {"interval_ms": 200, "sources": ["daemon"]})
        sub = r["subscription"]
        assert r["method"] == "telemetry.sample" and r["interval_ms"] == 200
        seqs = []
        while len(seqs) < 3:
            n = c.recv(timeout=IO_TIMEOUT)
            assert "id" not in n and n["method"] == "telemetry.sample", n
            assert n["params"]["subscription"] == sub
            assert set(n["params"]["sample"]["sources"]) == {"daemon"}
            seqs.append(n["params"]["sample"]["seq"])
        assert seqs == sorted(seqs) and len(set(seqs)) == 3
        # Answers interleave with notifications; the unsubscribe answer
        # may follow a notification already on its way.
        rid = c.request("telemetry.unsubscribe", {"subscription": sub})
        while True:
            m = c.recv(timeout=IO_TIMEOUT)
            if m.get("id") == rid:
                assert m["result"] == {"subscription": sub}
                break
        c.expect_silence(0.6 * SLOW)
        check_error(c.call("telemetry.unsubscribe", {"subscription": sub}), -32003)


def test_subscription_of_a_closed_connection_is_dropped(daemon):
    d = daemon(sections=fixture_sections("laptop"))
    for _ in range(5):
        c = d.connect()
        c.result("telemetry.subscribe", {"interval_ms": 100})
        c.close()
    with d.connect() as c:
        # Another connection cannot end a subscription it does not hold.
        check_error(c.call("telemetry.unsubscribe", {"subscription": 1}), -32003)
    time.sleep(0.5)
    assert d.result("status")["pid"] > 0


def test_subscription_limit(hwoptd):
    with hwoptd.connect() as c:
        for _ in range(16):
            c.result("telemetry.subscribe", {"interval_ms": 3600000})
        check_error(c.call("telemetry.subscribe", {"interval_ms": 3600000}), -32002)


def test_record_writes_json_lines(daemon, tmp_path):
    d = daemon(sections=fixture_sections("laptop"))
    path = str(tmp_path / "trace.jsonl")
    with d.connect() as c:
        r = c.call("trace.record", {"seconds": 1, "path": path, "sources": ["thermal", "daemon"]},
                   timeout=IO_TIMEOUT + 5)
    res = r["result"]
    assert res["path"] == path and res["samples"] >= 2
    lines = open(path).read().splitlines()
    assert len(lines) == res["samples"]
    assert os.path.getsize(path) == res["bytes"]
    snaps = [json.loads(l) for l in lines]
    assert all(set(s["sources"]) == {"thermal", "daemon"} for s in snaps)
    seqs = [s["seq"] for s in snaps]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_record_refuses_bad_paths(hwoptd, tmp_path):
    existing = tmp_path / "there"
    existing.write_text("keep me\n")
    link = tmp_path / "link"
    os.symlink(str(tmp_path / "target"), str(link))
    with hwoptd.connect() as c:
        check_error(c.call("trace.record", {"seconds": 1, "path": str(existing)}), -32602,
                    contains="exists")
        assert existing.read_text() == "keep me\n"
        check_error(c.call("trace.record", {"seconds": 1, "path": str(link)}), -32602)
        assert not (tmp_path / "target").exists()
        check_error(c.call("trace.record", {"seconds": 1, "path": "rel.jsonl"}), -32602,
                    contains="absolute")
        check_error(c.call("trace.record", {"seconds": 1, "path": "/nonexistent/dir/x"}),
                    -32003)
        check_error(c.call("trace.record", {"seconds": 0, "path": str(tmp_path / "a")}),
                    -32602, contains="seconds")
        check_error(c.call("trace.record", {"path": str(tmp_path / "a")}), -32602,
                    contains="seconds")


def test_record_as_nobody_needs_a_writable_directory(daemon):
    hwoptd = daemon(socket_group="nogroup")
    import pathlib
    base = pathlib.Path(hwoptd.tmp)  # reachable by nobody
    root_only = base / "root-only"
    root_only.mkdir(mode=0o700)
    open_dir = base / "open"
    open_dir.mkdir()
    os.chmod(str(open_dir), 0o777)
    code = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "trace.record",
                      "params": {"seconds": 1, "path": sys.argv[2]}}).encode() + b"\\n")
print(s.makefile().readline())
"""
    p = run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
             "/usr/bin/python3", "-c", code, hwoptd.sock, str(root_only / "t.jsonl")])
    assert p.returncode == 0, p.stderr
    resp = json.loads(p.stdout)
    assert resp["error"]["code"] == -32001, resp
    assert not (root_only / "t.jsonl").exists()
    # Where nobody may write, the file is made and given to nobody.
    p = run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
             "/usr/bin/python3", "-c", code, hwoptd.sock, str(open_dir / "t.jsonl")])
    resp = json.loads(p.stdout)
    assert resp["result"]["samples"] >= 1, resp
    st = os.stat(str(open_dir / "t.jsonl"))
    assert st.st_uid == 65534, st


@pytest.mark.parametrize("section,key,value", [
    ("telemetry", "sources", "procstat,bogus"),
    ("telemetry", "interval_ms", "5"),
    ("telemetry", "history", "0"),
    ("telemetry", "sysfs_root", "relative/sys"),
    ("telemetry", "perf_events", "cycles;rm"),
    ("metrics", "listen", "nohost"),
    ("metrics", "listen", "::1:9477"),
    ("metrics", "listen", "127.0.0.1:70000"),
    ("telemetry", "bogus", "1"),
])
def test_bad_telemetry_config(tmp_path, section, key, value):
    conf = tmp_path / "bad.conf"
    conf.write_text("[%s]\n%s = %s\n" % (section, key, value))
    p = run([HWOPTD, "--check-config", str(conf)], check=False)
    assert p.returncode == 1
    assert "[%s] %s" % (section, key) in p.stderr, p.stderr


def test_status_survives_garbage_fixture(daemon, tmp_path):
    """A copy of the laptop with broken files: those sensors drop out, the
    source and the daemon carry on."""
    root = tmp_path / "laptop"
    shutil.copytree(os.path.join(FIXTURES, "laptop"), str(root), symlinks=True)
    (root / "sys/class/thermal/thermal_zone0/temp").write_text("garbage\n")
    (root / "proc/stat").write_text("\x00\x01 not a stat file\n")
    d = daemon(sections={"telemetry": {"sysfs_root": str(root / "sys"),
                                       "procfs_root": str(root / "proc"),
                                       "interval_ms": "200"}})
    src = wait_samples(d)["sources"]
    assert src["procstat"]["available"] is False and src["procstat"]["reason"]
    assert src["thermal"]["available"] is True
    z0 = [z for z in src["thermal"]["zones"] if z["zone"] == 0][0]
    assert "temp_celsius" not in z0


def test_jobs_carry_pmu_counts_of_their_workers(daemon, zoo):
    """Counters read at job start and end on its workers come back with the
    timings: software events count here; a hardware event that this
    machine lacks is simply absent, never zero."""
    import numpy as np
    import hwopt
    d = daemon(sections={"telemetry": {"interval_ms": "200"}})
    wait_samples(d, 2)  # the perf source has opened the workers' counters
    pmu_src = d.result("telemetry.get", {"sources": ["perf"]})["sample"]["sources"]["perf"]
    supported = {e["name"] for e in pmu_src["events"] if e["supported"]}
    assert "task-clock" in supported
    c = hwopt.connect(d.sock, timeout=IO_TIMEOUT)
    c.load_model("cnn", zoo.path("cnn"), timeout=60 * SLOW)
    r = c.infer("cnn", {"x": zoo.random_input("cnn", np.random.default_rng(2))})
    c.close()
    pmu = r.timings["pmu"]
    counts = pmu["counts"]
    assert counts["task-clock"] > 0
    assert set(counts) <= supported
    unsupported = {e["name"] for e in pmu_src["events"] if not e["supported"]}
    assert not (set(counts) & unsupported)
    if "cycles" not in supported:
        assert "ipc" not in pmu


def test_reload_keeps_telemetry_until_restart(daemon):
    d = daemon(sections=fixture_sections("laptop"))
    wait_samples(d)
    sections = fixture_sections("arm-server", history="5")
    d.sections.update(sections)
    d.write_config()
    r = d.result("config.reload")
    assert {"sysfs_root", "procfs_root", "history"} <= set(r["restart_required"])
    got = d.result("telemetry.get")
    assert got["history_max"] == 600
    assert len(got["sample"]["sources"]["procstat"]["cpus"]) == 8  # still the laptop
    assert d.result("config.get")["telemetry"]["history"] == 600
