"""hwoptctl policy, profile, explain and simulate.

The daemons sample a copy of the laptop fixture tree (tests/fixtures/laptop)
in the test's temporary directory, so that the policies' writes (EPP,
scaling_max_freq, the platform profile) land there: battery BAT0 at 87% and
discharging, thermal zones acpitz 27.8 °C and x86_pkg_temp 45.0 °C, 8 CPUs
under intel_pstate with EPP. simulate runs `hwoptd --simulate` over small
traces written here. No test asserts a time."""

import json
import os
import re
import shutil
import signal
import subprocess

import pytest

from conftest import (HWOPTCTL, HWOPTD, IO_TIMEOUT, REPO, assert_no_sanitizer, clean_env, ctl,
                      run, wait_for)

FIXTURE = os.path.join(REPO, "tests", "fixtures", "laptop")
POLICIES = ["thermal", "battery", "profile", "dvfs", "autoscale", "affinity"]
SUMMARY_KEYS = ["policies", "profile", "caps", "thermal", "battery", "dvfs", "workers",
                "degraded", "actuator", "tick"]


@pytest.fixture
def laptop(daemon, tmp_path):
    """A daemon sampling a copy of the laptop fixture every 200 ms and
    applying its policies there; .fx is the copy."""
    fx = tmp_path / "fx"
    shutil.copytree(FIXTURE, fx, symlinks=True)
    d = daemon(sections={"telemetry": {"sysfs_root": str(fx / "sys"),
                                       "procfs_root": str(fx / "proc"),
                                       "interval_ms": "200"},
                         # Writes land in the copy: let them.
                         "policy": {"dry_run": "false"}})
    d.fx = fx
    return d


def judged(d, ticks=1):
    """Waits until the policy engine has judged `ticks` samples."""
    wait_for(lambda: d.result("policy.get")["state"]["ticks"] >= ticks,
             what="the policy engine's first ticks")


def epp(d, n=0):
    with open(d.fx / "sys" / "devices" / "system" / "cpu" / "cpufreq" / ("policy%d" % n) /
              "energy_performance_preference") as f:
        return f.read().strip()


def holds(d):
    return d.result("hold.list")["holds"]


def popen_ctl(sock, *args, env=None):
    return subprocess.Popen([HWOPTCTL, "-s", sock] + list(args), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=clean_env(env))


def finish(proc, timeout=IO_TIMEOUT):
    """communicate() that never leaves the process behind."""
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert_no_sanitizer(err, "hwoptctl")
    return out, err


# --- policy ------------------------------------------------------------------------------


def test_policy_text(laptop):
    judged(laptop)
    p = ctl(laptop.sock, "policy")
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    keys = [m.group(1) for m in re.finditer(r"^(\w+):", p.stdout, re.M)]
    for k in SUMMARY_KEYS:
        assert k in keys, (k, p.stdout)
    text = p.stdout
    assert re.search(r"^policies:\s+enabled, applying$", text, re.M), text
    assert re.search(r"^profile:\s+balanced: base profile", text, re.M), text
    assert re.search(r"^thermal:\s+level 0 of 5 \(step\); hottest zone 1 \(x86_pkg_temp\) 45\.0 °C",
                     text, re.M), text
    assert re.search(r"^battery:\s+normal: on battery at 87%.* left", text, re.M), text
    assert re.search(r"^dvfs:\s+normal, not memory-bound", text, re.M), text
    assert re.search(r"^workers:\s+\d+ active, \d+ desired", text, re.M), text
    assert re.search(r"^degraded:\s+none$", text, re.M), text
    assert re.search(r"^actuator:\s+\d+ writes, 0 failures, \d+ settings held \(journal .*\)$",
                     text, re.M), text
    assert re.search(r"^tick:\s+\d+ ticks, last .*, mean ", text, re.M), text
    with pytest.raises(ValueError):
        json.loads(text)


def test_policy_json(laptop):
    judged(laptop)
    for args in (["policy", "--json"], ["--json", "policy"]):
        p = ctl(laptop.sock, *args)
        assert p.returncode == 0, p.stderr
        r = json.loads(p.stdout)
        for k in ("enabled", "dry_run", "profile", "config", "state", "degraded", "actuator",
                  "tick"):
            assert k in r, (k, r)
        assert r["enabled"] is True and r["dry_run"] is False
        assert r["profile"]["base"] == "balanced"
        assert r["state"]["ticks"] >= 1
        assert r["state"]["battery"]["capacity_pct"] == 87


def test_policy_set(laptop):
    p = ctl(laptop.sock, "policy", "set", "dvfs.idle_s=20", "thermal.margin_c=7")
    assert p.returncode == 0, p.stderr
    assert sorted(p.stdout.splitlines()) == ["dvfs.idle_s: 10 → 20", "thermal.margin_c: 5 → 7"]
    cfg = laptop.result("policy.get")["config"]
    assert cfg["dvfs"]["idle_s"] == 20 and cfg["thermal"]["margin_c"] == 7

    p = ctl(laptop.sock, "policy", "set", "dvfs.idle_s=20")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "nothing changed\n"

    # A zone rule, and a key given twice (the last one counts).
    p = ctl(laptop.sock, "policy", "set", "thermal.zone.acpitz=80,95", "dvfs.hold_s=1",
            "dvfs.hold_s=6")
    assert p.returncode == 0, p.stderr
    assert sorted(p.stdout.splitlines()) == ["dvfs.hold_s: 5 → 6",
                                             "thermal.zone.acpitz: (none) → 80,95"]

    p = ctl(laptop.sock, "policy", "set", "--json", "policy.dry_run=true")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["changed"] == ["policy.dry_run"] and r["config"]["policy"]["dry_run"] is True
    p = ctl(laptop.sock, "policy")
    assert p.returncode == 0, p.stderr
    assert re.search(r"^policies:\s+enabled, advice mode", p.stdout, re.M), p.stdout


@pytest.mark.parametrize("kv,message", [
    ("foo.bar=1", "not a policy key"),
    ("dvfs.idle_s=abc", "dvfs.idle_s"),
    ("thermal.min_freq_ratio=0", "thermal.min_freq_ratio"),
    ("policy.profile=turbo", "policy.profile"),
])
def test_policy_set_refused(laptop, kv, message):
    before = laptop.result("policy.get")["config"]
    # All or nothing: the good value along with the bad one is not applied.
    p = ctl(laptop.sock, "policy", "set", "dvfs.busy_s=9", kv)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stdout == ""
    assert p.stderr.startswith("hwoptctl: policy.set: invalid params"), p.stderr
    assert message in p.stderr and "(error -32602)" in p.stderr, p.stderr
    assert laptop.result("policy.get")["config"] == before


# --- profile --------------------------------------------------------------------------------


def test_profile_get_and_set(laptop):
    judged(laptop)
    p = ctl(laptop.sock, "profile")
    assert p.returncode == 0, p.stderr
    kv = dict(re.findall(r"^([a-z ]+):\s+(.*)$", p.stdout, re.M))
    assert kv["active"] == "balanced" and kv["base"] == "balanced", p.stdout
    assert kv["reason"] == "base profile"
    assert kv["style"] == "epp" and kv["driver"] == "intel_pstate", p.stdout
    assert "power-saver 0" in kv["holds"] and "performance 0" in kv["holds"]
    # balanced on battery leans to power (all the way when idle).
    wait_for(lambda: epp(laptop) in ("balance_power", "power"), what="a balanced EPP")

    p = ctl(laptop.sock, "profile", "set", "power-saver")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == "base profile: power-saver"
    for n in range(8):
        wait_for(lambda: epp(laptop, n) == "power", what="EPP power on policy%d" % n)
    p = ctl(laptop.sock, "profile", "--json")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["base"] == "power-saver" and r["active"] == "power-saver", r

    p = ctl(laptop.sock, "profile", "set", "performance", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["base"] == "performance"
    wait_for(lambda: epp(laptop) in ("performance", "balance_performance"),
             what="a performance EPP")

    p = ctl(laptop.sock, "profile", "set", "turbo")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stdout == ""
    assert "profile.set" in p.stderr and "'turbo' is not one of" in p.stderr, p.stderr
    assert laptop.result("profile.get")["base"] == "performance"


def test_profile_hold_runs_a_command(laptop, tmp_path):
    judged(laptop)
    gate = tmp_path / "gate"
    proc = popen_ctl(laptop.sock, "profile", "hold", "performance", "--reason", "pytest hold",
                     "--", "sh", "-c", 'while [ ! -e "$1" ]; do sleep 0.02; done; exit 3',
                     "sh", str(gate))
    try:
        got = wait_for(lambda: [h for h in holds(laptop) if h["reason"] == "pytest hold"],
                       what="the hold")
        assert len(got) == 1 and got[0]["profile"] == "performance", got
        p = ctl(laptop.sock, "profile", "holds")
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert lines[0].split() == ["HOLD", "PROFILE", "SINCE", "PID", "UID", "REASON"]
        assert re.search(r"^\s*%d\s+performance\s.*\spytest hold$" % got[0]["hold"], p.stdout,
                         re.M), p.stdout
        p = ctl(laptop.sock, "profile", "holds", "--json")
        assert [h["hold"] for h in json.loads(p.stdout)["holds"]] == [got[0]["hold"]]
        # The hold wins over the base profile at the next tick.
        wait_for(lambda: laptop.result("profile.get")["active"] == "performance",
                 what="the performance hold in force")
        assert proc.poll() is None
        gate.touch()
        out, err = finish(proc)
    finally:
        gate.touch()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 3, (out, err)
    assert out == "" and err == ""
    assert holds(laptop) == []
    p = ctl(laptop.sock, "profile", "holds")
    assert p.returncode == 0 and p.stdout == "no holds\n", p.stdout


def test_profile_hold_exit_status_of_the_command(laptop):
    p = ctl(laptop.sock, "profile", "hold", "power-saver", "--", "sh", "-c", "exit 3")
    assert p.returncode == 3, (p.stdout, p.stderr)
    p = ctl(laptop.sock, "profile", "hold", "power-saver", "--", "true")
    assert p.returncode == 0, (p.stdout, p.stderr)
    # Killed by a signal: 128 + N.
    p = ctl(laptop.sock, "profile", "hold", "power-saver", "--", "sh", "-c", "kill -TERM $$")
    assert p.returncode == 128 + signal.SIGTERM, (p.stdout, p.stderr)
    p = ctl(laptop.sock, "profile", "hold", "performance", "--", "no-such-command-hwopt")
    assert p.returncode == 127, (p.stdout, p.stderr)
    assert "no-such-command-hwopt" in p.stderr
    assert holds(laptop) == []


def test_profile_hold_until_sigint(laptop):
    proc = popen_ctl(laptop.sock, "profile", "hold", "power-saver")
    try:
        first = proc.stdout.readline()
        m = re.match(r"hold (\d+): power-saver \(hwoptctl profile hold \(pid %d\)\)$"
                     % proc.pid, first)
        assert m, first
        hid = int(m.group(1))
        assert [h["hold"] for h in holds(laptop)] == [hid]
        assert holds(laptop)[0]["reason"], "a default reason"
        wait_for(lambda: laptop.result("profile.get")["active"] == "power-saver",
                 what="the power-saver hold in force")
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        out, err = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "released hold %d" % hid in out
    assert holds(laptop) == []


def test_profile_hold_json_until_sigterm(laptop):
    proc = popen_ctl(laptop.sock, "--json", "profile", "hold", "performance", "--reason", "x")
    try:
        r = json.loads(proc.stdout.readline())
        assert isinstance(r["hold"], int) and r["profile"]["holds"]["performance"] == 1, r
        proc.send_signal(signal.SIGTERM)
        out, err = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert json.loads(out)["released"] == r["hold"]
    assert holds(laptop) == []


def test_profile_hold_ends_when_the_daemon_stops(laptop):
    proc = popen_ctl(laptop.sock, "profile", "hold", "performance")
    try:
        assert proc.stdout.readline().startswith("hold ")
        assert laptop.stop() == 0
        out, err = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 3, (out, err)
    assert laptop.sock in err and "lost" in err, err


def test_profile_hold_refused(laptop):
    # As power-profiles-daemon: no balanced holds.
    p = ctl(laptop.sock, "profile", "hold", "balanced", "--", "true")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "hold.add" in p.stderr and "'balanced' is not one of" in p.stderr, p.stderr
    p = ctl(laptop.sock, "profile", "hold", "performance", "--reason", "x" * 300, "--", "true")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "256" in p.stderr


# --- explain -----------------------------------------------------------------------------------


def test_explain(laptop):
    # The first tick sets the EPP of every CPU (balanced on battery).
    wait_for(lambda: laptop.result("policy.explain", {"policy": "profile"})["decisions"],
             what="a decision by the profile policy")
    p = ctl(laptop.sock, "explain", "--policy", "profile")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["TIME", "POLICY", "CHANGE", "RESULT", "REASON"]
    assert len(lines) >= 2
    for line in lines[1:]:
        assert re.match(r"\d\d:\d\d:\d\d  profile\s", line), line
    assert re.search(r"cpufreq/energy_performance_preference balance_performance → \S+"
                     r"\s+applied\s+\S", p.stdout), p.stdout

    p = ctl(laptop.sock, "explain", "--policy", "profile", "--json")
    assert p.returncode == 0, p.stderr
    decs = json.loads(p.stdout)
    assert isinstance(decs, list) and decs
    assert all(d["policy"] == "profile" for d in decs), decs
    assert [d["seq"] for d in decs] == sorted(d["seq"] for d in decs)  # oldest first
    for d in decs:
        for k in ("time", "seq", "kind", "setting", "from", "to", "reason", "result"):
            assert k in d, (k, d)

    p = ctl(laptop.sock, "--json", "explain", "--limit", "2")
    assert p.returncode == 0, p.stderr
    assert 1 <= len(json.loads(p.stdout)) <= 2

    p = ctl(laptop.sock, "explain")
    assert p.returncode == 0, p.stderr
    assert {l.split()[1] for l in p.stdout.splitlines()[1:]} <= set(POLICIES)


def test_explain_errors(laptop):
    p = ctl(laptop.sock, "explain", "--policy", "bogus")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "policy.explain" in p.stderr and "'bogus' is not a policy" in p.stderr, p.stderr
    assert p.stdout == ""


def test_explain_nothing_yet(daemon, tmp_path):
    # Policies off: no decisions.
    fx = tmp_path / "fx"
    shutil.copytree(FIXTURE, fx, symlinks=True)
    d = daemon(sections={"telemetry": {"sysfs_root": str(fx / "sys"),
                                       "procfs_root": str(fx / "proc"), "interval_ms": "200"},
                         "policy": {"enabled": "false"}})
    p = ctl(d.sock, "explain", "--policy", "thermal")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "no decisions by thermal\n"
    p = ctl(d.sock, "explain", "--json")
    assert p.returncode == 0 and json.loads(p.stdout) == []
    p = ctl(d.sock, "policy")
    assert p.returncode == 0, p.stderr
    assert re.search(r"^policies:\s+disabled", p.stdout, re.M), p.stdout
    assert re.search(r"^profile:\s+balanced: policies are disabled$", p.stdout, re.M), p.stdout
    assert not re.search(r"^(caps|thermal|battery):", p.stdout, re.M), p.stdout


# --- simulate ------------------------------------------------------------------------------------

HEAT = [50, 60, 70, 86, 88, 92, 93, 80, 60, 50]


def snapshot(i, temp):
    cpus = [{"cpu": c, "online": True, "cur_hz": 2.0e9, "min_hz": 4.0e8, "max_hz": 3.0e9,
             "hw_min_hz": 4.0e8, "hw_max_hz": 3.0e9, "governor": "powersave",
             "epp": "balance_performance"} for c in range(2)]
    return {"seq": i + 1, "time": 1700000000.0 + i, "interval_ms": 1000, "sources": {
        "cpufreq": {"available": True, "driver": "intel_pstate", "cpus": cpus,
                    "epp_available": ["default", "performance", "balance_performance",
                                      "balance_power", "power"]},
        "thermal": {"available": True, "zones": [
            {"zone": 0, "type": "x86_pkg_temp", "temp_celsius": temp,
             "trips": [{"type": "passive", "temp_celsius": 90.0},
                       {"type": "critical", "temp_celsius": 105.0}]}]},
        "daemon": {"available": True, "workers": 4, "active": 4, "busy": 0,
                   "queued": {"interactive": 0, "normal": 0, "batch": 0}},
    }}


@pytest.fixture
def trace(tmp_path):
    """A zone heating past its passive trip (90 °C) and cooling again."""
    path = tmp_path / "trace.jsonl"
    path.write_text("".join(json.dumps(snapshot(i, t)) + "\n" for i, t in enumerate(HEAT)))
    return path


def simulate(*args, env=None):
    e = {"HWOPTD": HWOPTD}
    e.update(env or {})
    return run([HWOPTCTL, "simulate"] + [str(a) for a in args], env=e)


def collapsed(values):
    out = []
    for v in values:
        if v and (not out or out[-1] != v):
            out.append(v)
    return out


def test_simulate_json(trace):
    p = simulate(trace, "--json")
    assert p.returncode == 0, p.stderr
    decs = [json.loads(l) for l in p.stdout.splitlines()]
    assert decs and all(d["policy"] in POLICIES for d in decs), decs
    caps = [d for d in decs if d["policy"] == "thermal" and d.get("setting", "").endswith(
        "cpu0/cpufreq/scaling_max_freq")]
    assert caps, decs
    assert caps[0]["from"] == "3000000" and int(caps[-1]["to"]) < 3000000, caps
    assert all("passive trip 90.0" in d["reason"] for d in caps), caps
    # hwoptd's own output, unchanged: the same as running it directly.
    direct = run([HWOPTD, "--simulate", str(trace)])
    assert direct.returncode == 0
    strip = [{k: v for k, v in d.items() if k != "time"} for d in decs]
    assert strip == [{k: v for k, v in json.loads(l).items() if k != "time"}
                     for l in direct.stdout.splitlines()]
    assert re.search(r"^simulate: 10 snapshots, %d decisions, 0 lines skipped" % len(decs),
                     p.stderr, re.M), p.stderr


def test_simulate_summary(trace):
    decs = [json.loads(l) for l in simulate(trace, "--json").stdout.splitlines()]
    p = simulate(trace)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["POLICY", "SETTING", "CHANGES", "VALUES"]
    assert re.match(r"simulate: 10 snapshots, %d decisions, 0 lines skipped; " % len(decs),
                    lines[-1]), lines[-1]
    rows = {}
    for line in lines[1:]:
        m = re.match(r"(\S+)\s+(\S+)\s+(\d+)\s+(.*)$", line)
        if not m or line.startswith(("notes:", "simulate:")):
            continue
        rows[(m.group(1), m.group(2))] = (int(m.group(3)), m.group(4).split(" → "))
    # Every setting with its count and values, as the JSON lines say.
    expect = {}
    for d in decs:
        if "setting" not in d:
            continue
        n, vals = expect.get((d["policy"], d["setting"]), (0, []))
        expect[(d["policy"], d["setting"])] = (n + 1, vals + [d["from"], d["to"]])
    assert set(rows) == set(expect), (rows, expect)
    for key, (n, vals) in expect.items():
        assert rows[key] == (n, collapsed(vals)), (key, rows[key], vals)
    cap = rows[("thermal", "devices/system/cpu/cpu0/cpufreq/scaling_max_freq")]
    assert cap[0] >= 2 and cap[1][0] == "3000000", cap
    vals = [int(v) for v in cap[1]]
    assert vals == sorted(vals, reverse=True), "heating only lowers the cap: %r" % vals
    notes = [d["policy"] for d in decs if "setting" not in d]
    if notes:
        assert any(l.startswith("notes: ") for l in lines), lines


def test_simulate_config(trace, tmp_path):
    off = tmp_path / "off.conf"
    off.write_text("[thermal]\nenabled = false\n")
    p = simulate(trace, "--config", off)
    assert p.returncode == 0, p.stderr
    assert not re.search(r"^thermal\s", p.stdout, re.M), p.stdout
    p = simulate(trace, "--config", off, "--json")
    assert p.returncode == 0, p.stderr
    assert not [l for l in p.stdout.splitlines() if json.loads(l)["policy"] == "thermal"]


def test_simulate_skips_bad_lines(trace, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(trace.read_text() + "not json\n{\"no\": \"time\"}\n")
    p = simulate(bad)
    assert p.returncode == 0, p.stderr
    assert "%s:11: not JSON, skipped" % bad in p.stderr, p.stderr
    assert "%s:12:" % bad in p.stderr, p.stderr
    assert re.search(r"^simulate: 10 snapshots, \d+ decisions, 2 lines skipped", p.stdout,
                     re.M), p.stdout


def test_simulate_missing_trace(tmp_path):
    missing = tmp_path / "missing.jsonl"
    for args in ([missing], [missing, "--json"]):
        p = simulate(*args)
        assert p.returncode != 0, (p.stdout, p.stderr)
        assert "%s: No such file or directory" % missing in p.stderr, p.stderr
        assert not p.stdout.strip() or "POLICY" not in p.stdout


def test_simulate_bad_config(trace, tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("[thermal\n")
    p = simulate(trace, "--config", bad)
    assert p.returncode != 0, (p.stdout, p.stderr)
    assert str(bad) in p.stderr, p.stderr
    assert p.stdout == ""
    bad.write_text("[thermal]\nmargin_c = abc\n")
    p = simulate(trace, "--config", bad, "--json")
    assert p.returncode != 0, (p.stdout, p.stderr)
    assert str(bad) in p.stderr and "margin_c" in p.stderr, p.stderr
    assert p.stdout == ""
    p = simulate(trace, "--config", tmp_path / "none.conf")
    assert p.returncode != 0
    assert "none.conf" in p.stderr


def test_simulate_empty_trace(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    p = simulate(empty)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "holds no telemetry snapshot" in p.stderr


def test_simulate_finds_hwoptd(trace):
    env = {k: v for k, v in clean_env().items() if k != "HWOPTD"}
    beside = os.path.join(os.path.dirname(os.path.realpath(HWOPTCTL)), "hwoptd")
    if os.access(beside, os.X_OK):
        p = subprocess.run([HWOPTCTL, "simulate", str(trace)], capture_output=True, text=True,
                           env=env, timeout=IO_TIMEOUT)
        assert p.returncode == 0, p.stderr
        assert "simulate: 10 snapshots" in p.stdout
    p = simulate(trace, env={"HWOPTD": "/nonexistent/hwoptd"})
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert "cannot run /nonexistent/hwoptd" in p.stderr and "HWOPTD" in p.stderr, p.stderr


def test_simulate_stdin(trace):
    with open(trace) as f:
        p = subprocess.run([HWOPTCTL, "simulate", "-"], stdin=f, capture_output=True, text=True,
                           env=clean_env({"HWOPTD": HWOPTD}), timeout=IO_TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert "simulate: 10 snapshots" in p.stdout


# --- usage, help, no daemon ---------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["policy", "extra"],
    ["policy", "--bogus"],
    ["policy", "set"],
    ["policy", "set", "nokey"],
    ["policy", "set", "=5"],
    ["profile", "bogus"],
    ["profile", "set"],
    ["profile", "set", "a", "b"],
    ["profile", "hold"],
    ["profile", "hold", "performance", "sleep", "1"],
    ["profile", "hold", "performance", "--"],
    ["profile", "hold", "performance", "--reason"],
    ["profile", "--reason", "x"],
    ["profile", "set", "performance", "--", "true"],
    ["profile", "holds", "extra"],
    ["explain", "extra"],
    ["explain", "--limit", "0"],
    ["explain", "--limit", "abc"],
    ["explain", "--policy"],
    ["simulate"],
    ["simulate", "a.jsonl", "b.jsonl"],
    ["simulate", "a.jsonl", "--config"],
    ["simulate", "a.jsonl", "--bogus"],
])
def test_usage_errors_exit_2(tmpdir_nobody, args):
    sock = os.path.join(tmpdir_nobody, "none.sock")
    p = ctl(sock, *args)
    assert p.returncode == 2, (args, p.stdout, p.stderr)
    assert p.stderr.startswith(("hwoptctl: ", "Usage: hwoptctl")), p.stderr
    assert p.stdout == ""


def test_exit_3_without_a_daemon(tmpdir_nobody):
    sock = os.path.join(tmpdir_nobody, "run", "nobody-home.sock")
    for args in (["policy"], ["policy", "set", "dvfs.idle_s=3"], ["profile"],
                 ["profile", "set", "balanced"], ["profile", "holds"],
                 ["profile", "hold", "performance"], ["profile", "hold", "performance", "--", "true"],
                 ["explain"]):
        p = ctl(sock, *args)
        assert p.returncode == 3, (args, p.stderr)
        assert sock in p.stderr


@pytest.mark.parametrize("cmd", ["policy", "profile", "explain", "simulate"])
def test_help_command(cmd):
    p = run([HWOPTCTL, "help", cmd])
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("Usage: hwoptctl [OPTIONS] %s" % cmd)
    p = run([HWOPTCTL, "help"])
    assert "\n  %s " % cmd in p.stdout
