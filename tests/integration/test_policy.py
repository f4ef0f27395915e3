"""The policy engine in a running daemon, against copies of the fixture
trees: writes land in the files, exit puts them back, SIGKILL then a restart
restores from the journal, a read-only file is a reported failure while the
daemon keeps serving, holds follow their connections, and the workers are
parked and re-pinned."""
import json
import os
import shutil
import signal
import subprocess

import pytest

from conftest import REPO, check_error, connect, wait_for

FIXTURES = os.path.join(REPO, "tests", "fixtures")

CPUFREQ = "devices/system/cpu/cpufreq/policy%d/%s"
EPP = "energy_performance_preference"


def copy_fixture(tmp, name="laptop"):
    root = os.path.join(str(tmp), "fx-" + name)
    shutil.copytree(os.path.join(FIXTURES, name), root, symlinks=True)
    return root


def sections(root, **extra):
    s = {"telemetry": {"sysfs_root": os.path.join(root, "sys"),
                       "procfs_root": os.path.join(root, "proc"),
                       "interval_ms": "200"},
         "policy": {"dry_run": "false"},
         # Neither an idle nor a boost level: the profile alone decides EPP.
         "dvfs": {"idle_s": "86400", "busy_s": "86400"}}
    for k, v in extra.items():
        s.setdefault(k, {}).update(v)
    return s


def read(root, rel):
    with open(os.path.join(root, "sys", rel)) as f:
        return f.read().strip()


def write(root, rel, value):
    with open(os.path.join(root, "sys", rel), "w") as f:
        f.write(value + "\n")


def epps(root):
    return [read(root, CPUFREQ % (i, EPP)) for i in range(8)]


def wait_epps(root, value, what=None):
    return wait_for(lambda: all(e == value for e in epps(root)), what=what or "EPP " + value)


def journal(d):
    return os.path.join(d.state_dir, "policy-journal.jsonl")


def daemon_part(d):
    s = d.result("telemetry.get")["sample"]
    return s["sources"]["daemon"] if s else {}


def decisions(d, **params):
    return d.result("policy.explain", params)["decisions"]


def test_writes_land_and_exit_restores(daemon, tmp_path):
    root = copy_fixture(tmp_path)
    before = epps(root)
    assert set(before) == {"balance_performance"}
    d = daemon(sections=sections(root))
    # The laptop fixture discharges: balanced leans to power.
    wait_epps(root, "balance_power")
    assert read(root, "firmware/acpi/platform_profile") == "balanced"
    r = d.result("profile.set", {"profile": "power-saver"})
    assert r["base"] == "power-saver"
    wait_epps(root, "power")
    wait_for(lambda: read(root, "firmware/acpi/platform_profile") == "low-power",
             what="platform_profile low-power")
    lines = [json.loads(l) for l in open(journal(d))]
    originals = {os.path.basename(os.path.dirname(l["path"])) + "/" +
                 os.path.basename(l["path"]): l["original"] for l in lines}
    assert originals["policy0/" + EPP] == "balance_performance"
    assert originals["acpi/platform_profile"] == "balanced"
    assert len(lines) == len(originals), "each setting journaled once"
    applied = [x for x in decisions(d, policy="profile") if x["result"] == "applied"]
    assert any(x["to"] == "power" and x["setting"].endswith(EPP) for x in applied)
    pg = d.result("policy.get")
    assert pg["actuator"]["settings_held"] >= 9 and pg["degraded"] == {}
    d.stop()
    assert epps(root) == before
    assert read(root, "firmware/acpi/platform_profile") == "balanced"
    assert not os.path.exists(journal(d))


def test_sigkill_then_restart_restores_from_the_journal(daemon, tmp_path):
    root = copy_fixture(tmp_path)
    d = daemon(sections=sections(root, policy={"profile": "power-saver"}))
    wait_epps(root, "power")
    d.expect_code = -signal.SIGKILL
    d.kill(signal.SIGKILL)
    d.wait_exit()
    assert set(epps(root)) == {"power"} and os.path.exists(journal(d))
    # The next start restores before anything else (here in advice mode,
    # so nothing is written again).
    d2 = daemon(name="again", sections=sections(root, policy={"dry_run": "true"}))
    assert set(epps(root)) == {"balance_performance"}
    assert read(root, "firmware/acpi/platform_profile") == "balanced"
    d2.wait_log("restored")
    assert d2.result("policy.get")["actuator"]["restored_at_start"] >= 9
    assert not os.path.exists(journal(d2))


def test_restore_on_exit_off_leaves_settings(daemon, tmp_path):
    root = copy_fixture(tmp_path)
    d = daemon(sections=sections(root, policy={"profile": "power-saver",
                                               "restore_on_exit": "false"}))
    wait_epps(root, "power")
    d.stop()
    assert set(epps(root)) == {"power"} and not os.path.exists(journal(d))


def test_read_only_file_fails_and_the_daemon_keeps_serving(daemon, tmp_path):
    root = copy_fixture(tmp_path)
    ro = os.path.join(root, "sys", CPUFREQ % (3, EPP))
    if subprocess.run(["mount", "--bind", ro, ro]).returncode != 0:
        pytest.skip("cannot bind-mount (not root?)")
    try:
        assert subprocess.run(["mount", "-o", "remount,ro,bind", ro]).returncode == 0
        d = daemon(sections=sections(root))
        wait_for(lambda: read(root, CPUFREQ % (2, EPP)) == "balance_power", what="cpu2 EPP")
        failed = wait_for(lambda: [x for x in decisions(d) if x["result"] == "failed"],
                          what="a failed decision")
        assert "policy3/" + EPP in failed[0]["setting"] or "cpu3/" in failed[0]["setting"]
        assert "Read-only file system" in failed[0]["error"], failed[0]
        pg = d.result("policy.get")
        assert "profile" in pg["degraded"] and "Read-only" in pg["degraded"]["profile"]
        assert read(root, CPUFREQ % (3, EPP)) == "balance_performance"
        # Everyone else is still served.
        assert d.result("status")["pid"] == d.pid
        assert d.result("profile.set", {"profile": "performance"})["base"] == "performance"
        wait_for(lambda: read(root, CPUFREQ % (0, EPP)) == "performance", what="cpu0 EPP")
        d.stop()
        assert read(root, CPUFREQ % (0, EPP)) == "balance_performance"
    finally:
        subprocess.run(["umount", ro])


def test_dry_run_advises_and_writes_nothing(daemon, tmp_path):
    root = copy_fixture(tmp_path)
    d = daemon(sections=sections(root, policy={"dry_run": "true", "profile": "power-saver"}))
    advice = wait_for(lambda: [x for x in decisions(d, policy="profile")
                               if x["result"] == "advice" and x["to"] == "power"],
                      what="advice")
    assert advice[0]["reason"] and advice[0]["inputs"]["profile"] == "power-saver"
    assert set(epps(root)) == {"balance_performance"}
    assert not os.path.exists(journal(d))
    assert d.result("policy.get")["dry_run"] is True


def test_holds_follow_their_connection(daemon, tmp_path):
    root = copy_fixture(tmp_path)
    d = daemon(sections=sections(root))
    wait_epps(root, "balance_power")
    perf = connect(d.sock)
    h1 = perf.result("hold.add", {"profile": "performance", "reason": "benchmark"})["hold"]
    wait_epps(root, "performance")
    assert d.result("profile.get")["active"] == "performance"
    saver = connect(d.sock)
    h2 = saver.result("hold.add", {"profile": "power-saver", "reason": "on the train"})["hold"]
    # A power-saver hold beats a performance one.
    wait_epps(root, "power")
    holds = d.result("hold.list")["holds"]
    assert {h["hold"] for h in holds} == {h1, h2}
    assert {h["reason"] for h in holds} == {"benchmark", "on the train"}
    # Its own connection's close releases it.
    saver.close()
    wait_epps(root, "performance")
    r = perf.result("hold.release", {"hold": h1})
    assert r["released"] == h1
    wait_epps(root, "balance_power")
    check_error(perf.call("hold.release", {"hold": h1}), -32003)
    perf.close()


def test_bad_params(daemon, tmp_path):
    root = copy_fixture(tmp_path)
    d = daemon(sections=sections(root))
    check_error(d.call("profile.set", {"profile": "turbo"}), -32602, contains="params.profile")
    check_error(d.call("profile.set", {}), -32602, contains="profile")
    check_error(d.call("hold.add", {"profile": "balanced", "reason": "x"}), -32602,
                contains="power-saver, performance")
    check_error(d.call("hold.add", {"profile": "performance", "reason": "x" * 300}), -32602,
                contains="256")
    check_error(d.call("hold.release", {"hold": "one"}), -32602, contains="params.hold")
    check_error(d.call("policy.explain", {"policy": "weather"}), -32602, contains="weather")
    check_error(d.call("policy.explain", {"limit": 0}), -32602, contains="limit")
    check_error(d.call("policy.set", {"set": {"thermal.margin_c": "hot"}}), -32602,
                contains="params.set.thermal.margin_c")
    check_error(d.call("policy.set", {"set": {"daemon.socket": "/x"}}), -32602,
                contains="not a policy key")
    check_error(d.call("policy.set", {"set": {"battery.critical_pct": 50}}), -32602,
                contains="critical_pct")
    check_error(d.call("policy.set", {"set": []}), -32602, contains="params.set")
    check_error(d.call("policy.get", {"x": 1}), -32602, contains="x")
    # Nothing was half applied; a good set works.
    assert d.result("policy.get")["config"]["battery"]["critical_pct"] == 5
    r = d.result("policy.set", {"set": {"thermal.margin_c": 7, "policy.explain_history": "64"}})
    assert sorted(r["changed"]) == ["policy.explain_history", "thermal.margin_c"]
    assert r["config"]["thermal"]["margin_c"] == 7


def test_disabling_restores_everything(daemon, tmp_path):
    root = copy_fixture(tmp_path)
    d = daemon(sections=sections(root, policy={"profile": "power-saver"}))
    wait_epps(root, "power")
    d.result("policy.set", {"set": {"policy.enabled": False}})
    wait_epps(root, "balance_performance")
    d.result("policy.set", {"set": {"policy.enabled": True}})
    wait_epps(root, "power")


def test_thermal_escalates_and_recovers_on_a_live_fixture(daemon, tmp_path):
    root = copy_fixture(tmp_path)
    d = daemon(sections=sections(root, thermal={"cooldown_s": "0.5"}))
    wait_epps(root, "balance_power")
    maxf = CPUFREQ % (0, "scaling_max_freq")
    assert read(root, maxf) == "4700000"
    # x86_pkg_temp's passive trip is 95 °C: 93 °C is within the margin.
    write(root, "class/thermal/thermal_zone1/temp", "93000")
    wait_for(lambda: read(root, maxf) == str(int(4700000 * 0.5)), what="level 5 cap")
    st = d.result("policy.get")["state"]
    assert st["thermal"]["level"] == 5 and st["caps"]["classes"] == "interactive,normal"
    write(root, "class/thermal/thermal_zone1/temp", "40000")
    wait_for(lambda: read(root, maxf) == "4700000", what="recovery")
    thermal = [x for x in decisions(d, policy="thermal", limit=200)
               if x.get("setting") == "devices/system/cpu/cpu0/cpufreq/scaling_max_freq"]
    values = [int(x["to"]) for x in thermal]
    down = values[:values.index(min(values)) + 1]
    up = values[len(down):]
    assert down == sorted(down, reverse=True) and up == sorted(up) and len(up) == 5, values
    m = d.result("policy.get")["state"]["throttled_seconds"]
    assert m["thermal"] > 0


def test_autoscaler_parks_idle_workers_and_reports_it(daemon, tmp_path):
    root = copy_fixture(tmp_path)
    d = daemon(sections=sections(root, scheduler={"workers": "2"},
                                 autoscale={"down_window_s": "0", "down_period_s": "1"}))
    wait_for(lambda: daemon_part(d).get("active") == 1, what="one active worker")
    x = [x for x in decisions(d, policy="autoscale") if x["kind"] == "workers"]
    assert x[0]["from"] == "2" and x[0]["to"] == "1" and "utilization" in x[0]["reason"]


def test_cpuset_change_repins_workers(daemon, tmp_path):
    if os.cpu_count() < 2:
        pytest.skip("needs two CPUs")
    root = copy_fixture(tmp_path)
    d = daemon(sections=sections(root, scheduler={"workers": "2"}))
    cpus = lambda: daemon_part(d).get("worker_cpus")
    wait_for(lambda: cpus() == [0, 1], what="workers on CPUs 0 and 1")
    # The loop thread's affinity is the daemon's cpuset as it sees it.
    subprocess.run(["taskset", "-p", "-c", "0", str(d.pid)], check=True, capture_output=True)
    wait_for(lambda: cpus() == [0, 0], what="worker 1 re-pinned to CPU 0")
    pin = [x for x in decisions(d, policy="affinity") if x["kind"] == "pin"]
    assert pin and pin[0]["setting"] == "worker.1.cpu" and pin[0]["to"] == "0"
    assert "cpuset" in pin[0]["reason"]
