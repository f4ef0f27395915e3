"""hwoptctl metrics, top, telemetry and record against a daemon sampling the
laptop fixture tree (tests/fixtures/laptop/{sys,proc}), so that the values
are known: battery BAT0 at 87%, thermal zones acpitz 27.8 °C and
x86_pkg_temp 45.0 °C, RAPL zones package-0, core, dram and psys, 8 CPUs.
No test asserts a time."""

import json
import os
import pty
import re
import select
import signal
import subprocess
import termios
import time

import pytest

from conftest import (HWOPTCTL, IO_TIMEOUT, REPO, assert_no_sanitizer, clean_env, ctl, run,
                      wait_for)

SOURCES = ["procstat", "cpufreq", "thermal", "hwmon", "power", "battery", "perf", "schedlat",
           "daemon"]
FIXTURE = os.path.join(REPO, "tests", "fixtures", "laptop")


def telemetry_section(**extra):
    sec = {"sysfs_root": os.path.join(FIXTURE, "sys"),
           "procfs_root": os.path.join(FIXTURE, "proc"),
           "interval_ms": "200"}
    sec.update(extra)
    return {"telemetry": sec, "metrics": {"listen": ""}}


@pytest.fixture
def laptop(daemon):
    return daemon(sections=telemetry_section())


def test_metrics_text(laptop):
    p = ctl(laptop.sock, "metrics")
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    out = p.stdout
    for group in ("CPU", "Frequencies", "Thermal", "Power (RAPL)", "Battery", "PMU",
                  "Scheduler latency", "Daemon"):
        assert re.search(r"^%s" % re.escape(group), out, re.M), (group, out)
    # The battery's capacity.
    assert re.search(r"^\s+BAT0\s.*\b87%", out, re.M), out
    # The thermal zones and their temperatures.
    assert re.search(r"^\s+0\s+acpitz\s+27\.8", out, re.M), out
    assert re.search(r"^\s+1\s+x86_pkg_temp\s+45\.0", out, re.M), out
    # Every RAPL zone.
    for zone, name in (("intel-rapl:0", "package-0"), ("intel-rapl:0:0", "core"),
                       ("intel-rapl:0:1", "dram"), ("intel-rapl:1", "psys")):
        assert re.search(r"^\s+%s\s+%s\s" % (re.escape(zone), name), out, re.M), (zone, out)
    assert "intel_pstate" in out and "powersave" in out
    with pytest.raises(ValueError):
        json.loads(out)


def test_metrics_json_has_every_source(laptop):
    p = ctl(laptop.sock, "metrics", "--json")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert isinstance(s["seq"], int) and isinstance(s["time"], (int, float))
    assert set(s["sources"]) == set(SOURCES)
    for name, part in s["sources"].items():
        assert isinstance(part["available"], bool), name
        if not part["available"]:
            assert part["reason"], name
    assert s["sources"]["battery"]["available"] is True
    # The global --json does the same.
    p = ctl(laptop.sock, "--json", "metrics")
    assert p.returncode == 0, p.stderr
    assert set(json.loads(p.stdout)["sources"]) == set(SOURCES)


def test_metrics_unavailable_source_is_one_line(daemon):
    d = daemon(sections=telemetry_section(sources="procstat,thermal,power"))
    p = ctl(d.sock, "metrics")
    assert p.returncode == 0, p.stderr
    for name in ("cpufreq", "battery", "hwmon", "perf", "schedlat"):
        lines = [l for l in p.stdout.splitlines() if l.strip().startswith(name + ":")]
        assert len(lines) == 1, (name, p.stdout)
        assert "unavailable (" in lines[0] and "sources" in lines[0], lines[0]
    assert "27.8" in p.stdout and "package-0" in p.stdout


def test_top_once(laptop):
    p = ctl(laptop.sock, "top", "--once")
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    bars = re.findall(r"^cpu(\d+)\s+\[[| ]+\]", p.stdout, re.M)
    assert sorted(int(b) for b in bars) == list(range(8)), p.stdout
    assert "\x1b[" not in p.stdout  # not a terminal: no escapes
    assert "27.8" in p.stdout and "package-0" in p.stdout and "87%" in p.stdout
    for label in ("daemon", "ipc", "battery", "power"):
        assert re.search(r"^%s\s" % label, p.stdout, re.M), (label, p.stdout)


def test_top_live_quits_on_q_and_restores_the_terminal(laptop):
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    proc = subprocess.Popen([HWOPTCTL, "-s", laptop.sock, "top", "--interval", "200"],
                            stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                            env=clean_env(), start_new_session=True)
    out = b""
    try:
        def frames():
            nonlocal out
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                out += os.read(master, 65536)
            return out.count(b"sample ") >= 2
        wait_for(frames, what="two frames of top")
        during = termios.tcgetattr(slave)
        assert not during[3] & termios.ICANON and not during[3] & termios.ECHO
        os.write(master, b"q")
        assert proc.wait(IO_TIMEOUT) == 0
        after = termios.tcgetattr(slave)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)
    assert after[3] == before[3]
    assert b"\x1b[H" in out and re.search(rb"cpu7\s+\[", out)
    assert_no_sanitizer(proc.stderr.read().decode(), "hwoptctl")


def test_top_without_a_terminal_ends_on_sigint(laptop):
    proc = subprocess.Popen([HWOPTCTL, "-s", laptop.sock, "top"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
    try:
        first = proc.stdout.readline()
        assert first.startswith(b"hwoptd top"), first
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=IO_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert b"\x1b[" not in out
    assert_no_sanitizer(err.decode(), "hwoptctl")


def test_telemetry_json_and_text(laptop):
    p = ctl(laptop.sock, "telemetry", "--json")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert set(s["sources"]) == set(SOURCES)
    assert s["interval_ms"] == 200

    p = ctl(laptop.sock, "telemetry")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("sample ")
    assert [l.split()[0] for l in lines[1:]] == SOURCES
    text = dict(l.split(None, 1) for l in lines[1:])
    assert "acpitz 27.8" in text["thermal"]
    assert "BAT0 87%" in text["battery"] and "profile balanced" in text["battery"]
    assert "package-0" in text["power"]


def test_telemetry_sources(laptop):
    p = ctl(laptop.sock, "telemetry", "--json", "--source", "power,battery", "--source", "power")
    assert p.returncode == 0, p.stderr
    assert set(json.loads(p.stdout)["sources"]) == {"power", "battery"}
    p = ctl(laptop.sock, "telemetry", "--source", "thermal")
    assert p.returncode == 0, p.stderr
    assert [l.split()[0] for l in p.stdout.splitlines()[1:]] == ["thermal"]


def test_telemetry_watch_json(laptop):
    proc = subprocess.Popen([HWOPTCTL, "-s", laptop.sock, "telemetry", "--watch", "--json",
                             "--source", "procstat", "--interval", "200"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=clean_env())
    try:
        lines = []
        deadline = time.monotonic() + IO_TIMEOUT
        while len(lines) < 2 and time.monotonic() < deadline:
            r, _, _ = select.select([proc.stdout], [], [], 0.1)
            if r:
                line = proc.stdout.readline()
                if not line:
                    break
                lines.append(json.loads(line))
        assert len(lines) >= 2, lines
        assert lines[1]["seq"] > lines[0]["seq"]
        assert set(lines[0]["sources"]) == {"procstat"}
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=IO_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert_no_sanitizer(err.decode(), "hwoptctl")


def test_telemetry_watch_exit_3_when_the_daemon_stops(laptop):
    proc = subprocess.Popen([HWOPTCTL, "-s", laptop.sock, "telemetry", "--watch"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=clean_env())
    try:
        assert proc.stdout.readline().startswith(b"sample ")
        assert laptop.stop() == 0
        _, err = proc.communicate(timeout=IO_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 3, err
    assert laptop.sock.encode() in err
    assert_no_sanitizer(err.decode(), "hwoptctl")


def test_record(laptop, tmpdir_nobody):
    out = os.path.join(tmpdir_nobody, "trace.jsonl")
    # A relative name: made absolute against hwoptctl's working directory.
    p = run([HWOPTCTL, "-s", laptop.sock, "record", "--seconds", "1", "--out", "trace.jsonl",
             "--source", "procstat,power"], cwd=tmpdir_nobody)
    assert p.returncode == 0, p.stderr
    m = re.match(r"recorded (\d+) samples \((\d+) bytes\) to (.*)$", p.stdout.strip())
    assert m, p.stdout
    assert m.group(3) == os.path.realpath(out)
    with open(out) as f:
        text = f.read()
    assert int(m.group(2)) == len(text.encode())
    samples = [json.loads(l) for l in text.splitlines()]
    assert len(samples) == int(m.group(1)) and len(samples) >= 2
    seqs = [s["seq"] for s in samples]
    assert seqs == sorted(set(seqs)), seqs
    assert all(set(s["sources"]) == {"procstat", "power"} for s in samples)


def test_record_refuses_an_existing_file(laptop, tmpdir_nobody):
    out = os.path.join(tmpdir_nobody, "exists.jsonl")
    with open(out, "w") as f:
        f.write("keep\n")
    p = ctl(laptop.sock, "record", "--seconds", "1", "--out", out)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "trace.record" in p.stderr and out in p.stderr
    assert p.stdout == ""
    with open(out) as f:
        assert f.read() == "keep\n"


@pytest.mark.parametrize("args", [
    ["telemetry", "--source", "bogus"],
    ["telemetry", "--watch", "--source", "procstat,bogus"],
    ["record", "--seconds", "1", "--out", "x.jsonl", "--source", "nope"],
])
def test_bad_source_exit_2(tmpdir_nobody, args):
    sock = os.path.join(tmpdir_nobody, "none.sock")
    p = ctl(sock, *args)
    assert p.returncode == 2, (args, p.stdout, p.stderr)
    for name in SOURCES:
        assert name in p.stderr, p.stderr
    assert p.stdout == ""


@pytest.mark.parametrize("args", [
    ["metrics", "extra"],
    ["metrics", "--bogus"],
    ["top", "--interval", "5"],
    ["top", "--interval"],
    ["top", "extra"],
    ["--json", "top", "--once"],
    ["telemetry", "--interval", "500"],
    ["telemetry", "--watch", "--interval", "abc"],
    ["record", "--out", "x.jsonl"],
    ["record", "--seconds", "1"],
    ["record", "--seconds", "0", "--out", "x.jsonl"],
    ["record", "--seconds", "1", "--out", "/nonexistent-dir/x.jsonl"],
    ["record", "--seconds", "1", "--out", "dir/"],
])
def test_usage_errors_exit_2(tmpdir_nobody, args):
    sock = os.path.join(tmpdir_nobody, "none.sock")
    p = ctl(sock, *args)
    assert p.returncode == 2, (args, p.stdout, p.stderr)
    assert p.stderr.strip()
    assert p.stdout == ""


def test_exit_3_without_a_daemon(tmpdir_nobody):
    sock = os.path.join(tmpdir_nobody, "run", "nobody-home.sock")
    for args in (["metrics"], ["top", "--once"], ["top"], ["telemetry"],
                 ["telemetry", "--watch"],
                 ["record", "--seconds", "1", "--out", os.path.join(tmpdir_nobody, "t.jsonl")]):
        p = ctl(sock, *args)
        assert p.returncode == 3, (args, p.stderr)
        assert sock in p.stderr


@pytest.mark.parametrize("cmd", ["metrics", "top", "telemetry", "record"])
def test_help_command(cmd):
    p = run([HWOPTCTL, "help", cmd])
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("Usage: hwoptctl [OPTIONS] %s" % cmd)
    p = run([HWOPTCTL, "help"])
    assert "\n  %s " % cmd in p.stdout
