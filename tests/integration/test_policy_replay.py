"""The policy engine replayed offline (`hwoptd --simulate`) over synthetic
traces: a heat ramp, a battery drain, a load burst and a memory-bound phase.
Each test counts transitions, so oscillation or a missed step fails it, and
every replay runs twice to show it is deterministic."""
import json
import os
import subprocess

import pytest

from conftest import HWOPTD
import trace_gen as tg


def simulate(trace, config=None, tmp_path=None):
    argv = [HWOPTD, "--simulate", str(trace)]
    if config is not None:
        conf = os.path.join(str(tmp_path), "sim.conf")
        with open(conf, "w") as f:
            f.write(config)
        argv += ["--config", conf]
    runs = [subprocess.run(argv, capture_output=True, text=True, timeout=60) for _ in range(2)]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout, "replay is not deterministic"
    assert "simulate:" in runs[0].stderr
    return [json.loads(l) for l in runs[0].stdout.splitlines()], runs[0].stderr


def setting(decs, suffix, policy=None):
    return [d for d in decs if d.get("setting", "").endswith(suffix)
            and (policy is None or d["policy"] == policy)]


def direction_changes(values):
    steps = [b - a for a, b in zip(values, values[1:]) if b != a]
    return sum(1 for a, b in zip(steps, steps[1:]) if (a > 0) != (b > 0))


def test_heat_ramp_escalates_then_recovers_step_by_step(tmp_path):
    # 60 °C rising 1 °C a second to 77 (near the 80 °C passive trip: within
    # the 5 °C margin from 75), held there 10 s, then cooling to 60.
    # Under a steady load, so DVFS stays at its normal level.
    temps = [60.0 + i for i in range(18)] + [77.0] * 10 + [60.0] * 120
    snaps = [tg.snapshot(i, cpufreq=tg.cpufreq_generic(), thermal=tg.thermal(t),
                         daemon=tg.daemon(workers=4, busy=3.0))
             for i, t in enumerate(temps)]
    decs, _ = simulate(tg.write(tmp_path / "heat.jsonl", snaps))
    cpu0 = setting(decs, "cpu0/cpufreq/scaling_max_freq", "thermal")
    khz = [int(d["to"]) for d in cpu0]
    # Five levels down (90% .. 50% of 3 GHz), then five single steps back.
    assert khz[:5] == [2700000, 2400000, 2100000, 1800000, 1500000], khz
    assert khz[5:] == [1800000, 2100000, 2400000, 2700000, 3000000], khz
    assert len(cpu0) == 10 and direction_changes([3000000] + khz) == 1
    # Escalation starts the tick the zone comes within the margin (75 °C).
    first = cpu0[0]
    assert first["time"] == tg.T0 + 15 and "75.0 °C" in first["reason"], first
    assert first["inputs"]["passive_celsius"] == 80
    # Recovery waits cooldown_s (10 s) below 72 °C between steps.
    ups = [d["time"] for d in cpu0[5:]]
    assert all(b - a >= 10 for a, b in zip(ups, ups[1:])), ups
    # Batch paused once, resumed once; the worker cap comes and goes too.
    classes = [d for d in decs if d["kind"] == "classes"]
    assert [c["to"] for c in classes] == ["interactive,normal", "interactive,normal,batch"]
    workers = [int(d["to"]) for d in decs if d["kind"] == "workers"]
    assert min(workers) >= 1 and workers[-1] == 4 and direction_changes([4] + workers) == 1


def test_critical_trip_runs_interactive_only_and_forces_power_saver(tmp_path):
    temps = [70.0] * 3 + [99.0] * 5 + [60.0] * 100
    snaps = [tg.snapshot(i, cpufreq=tg.cpufreq_generic(), thermal=tg.thermal(t),
                         daemon=tg.daemon(workers=4))
             for i, t in enumerate(temps)]
    decs, _ = simulate(tg.write(tmp_path / "crit.jsonl", snaps))
    classes = [d for d in decs if d["kind"] == "classes"]
    assert classes[0]["to"] == "interactive" and classes[0]["policy"] == "thermal"
    assert classes[-1]["to"] == "interactive,normal,batch"
    profiles = [(d["to"], d["policy"]) for d in decs if d["kind"] == "profile"]
    assert ("power-saver", "thermal") in profiles and profiles[-1][0] == "balanced"


def test_absurd_trip_is_ignored_with_a_note(tmp_path):
    snaps = [tg.snapshot(i, cpufreq=tg.cpufreq_generic(),
                         thermal=tg.thermal(95.0, passive=-273.0, critical=400.0))
             for i in range(5)]
    decs, _ = simulate(tg.write(tmp_path / "absurd.jsonl", snaps))
    notes = [d for d in decs if d["kind"] == "note" and d["policy"] == "thermal"]
    assert notes and any("-273.0" in n["reason"] for n in notes), notes
    assert not setting(decs, "scaling_max_freq", "thermal")
    # A note is reported when it appears, not every tick.
    assert len(notes) <= 2


def test_battery_drain_reaches_power_saver_at_the_threshold_and_restores_on_ac(tmp_path):
    pcts = list(range(30, 9, -1))            # 30% .. 10%, one point a second
    # A worker stays busy, so DVFS keeps its normal level throughout.
    snaps = [tg.snapshot(i, cpufreq=tg.cpufreq_epp(), battery=tg.battery(p, False),
                         daemon=tg.daemon(workers=4, busy=1.0))
             for i, p in enumerate(pcts)]
    n = len(snaps)
    snaps += [tg.snapshot(n + i, cpufreq=tg.cpufreq_epp(), battery=tg.battery(10, True),
                          daemon=tg.daemon(workers=4, busy=1.0)) for i in range(5)]
    decs, _ = simulate(tg.write(tmp_path / "drain.jsonl", snaps))
    profiles = [d for d in decs if d["kind"] == "profile"]
    assert [(p["to"], p["policy"]) for p in profiles] == [
        ("balanced", "profile"), ("power-saver", "battery"), ("balanced", "profile")], profiles
    # Exactly at 20%: the tick whose capacity is 20.
    assert profiles[1]["time"] == tg.T0 + pcts.index(20)
    assert "20%" in profiles[1]["reason"]
    epp = [d["to"] for d in setting(decs, "cpu0/cpufreq/energy_performance_preference")]
    # Balanced on battery leans to power, power-saver, then balanced on AC.
    assert epp == ["balance_power", "power", "balance_performance"], epp
    restored = profiles[2]["time"]
    assert restored == tg.T0 + n, "AC restores at once"
    classes = [d["to"] for d in decs if d["kind"] == "classes"]
    assert classes == ["interactive,normal", "interactive,normal,batch"]


def test_load_burst_scales_up_at_once_and_down_only_after_stabilization(tmp_path):
    idle = lambda: tg.daemon(workers=8, active=2)
    busy = lambda: tg.daemon(workers=8, active=2, busy=2.0, queued=(0, 64, 0))
    plan = [idle] * 20 + [busy] * 30 + [idle] * 500
    snaps = [tg.snapshot(i, daemon=f()) for i, f in enumerate(plan)]
    config = "[autoscale]\nmin_workers = 1\n"
    decs, _ = simulate(tg.write(tmp_path / "burst.jsonl", snaps), config, tmp_path)
    moves = [(d["time"] - tg.T0, int(d["from"]), int(d["to"]))
             for d in decs if d["kind"] == "workers"]
    ups = [m for m in moves if m[2] > m[1]]
    downs = [m for m in moves if m[2] < m[1]]
    # Up on the burst's first tick: +4 (the larger of +100% and +4 per 15 s),
    # then to the maximum in the next period.
    assert ups[0] == (20, 2, 6), moves
    assert ups[1][2] == 8 and ups[1][0] >= 20 + 15, moves
    # Nothing down while idle before the burst, nor within 300 s of its end.
    assert all(t >= 49 + 300 for t, _, _ in downs), moves
    # Then one worker per 60 s.
    times = [t for t, _, _ in downs]
    assert all(b - a >= 60 for a, b in zip(times, times[1:])), moves
    assert all(f - t == 1 for _, f, t in downs), moves
    assert direction_changes([2] + [m[2] for m in moves]) == 1


def test_memory_bound_phase_caps_frequency(tmp_path):
    snaps = []
    c = i_ = r = m = 0.0
    for i in range(40):
        mem = 5 <= i < 20
        c += 2e9
        i_ += 2e9 * (0.4 if mem else 1.8)
        r += 2e7
        m += 2e7 * (0.6 if mem else 0.05)
        snaps.append(tg.snapshot(i, cpufreq=tg.cpufreq_generic(), perf=tg.perf(c, i_, r, m),
                                 daemon=tg.daemon(workers=2, busy=2.0, queued=(0, 1, 0))))
    decs, _ = simulate(tg.write(tmp_path / "membound.jsonl", snaps))
    caps = setting(decs, "cpu0/cpufreq/scaling_max_freq", "dvfs")
    assert [d["to"] for d in caps] == ["2100000", "3000000"], caps   # 70% of 3 GHz, then back
    assert "memory-bound" in caps[0]["reason"] and caps[0]["inputs"]["ipc"] < 0.7
    assert 5 + 3 <= caps[0]["time"] - tg.T0 <= 5 + 5
    assert caps[1]["time"] - tg.T0 >= 20 + 5


def test_no_pmu_skips_memory_bound_and_says_so(tmp_path):
    snaps = [tg.snapshot(i, cpufreq=tg.cpufreq_generic(),
                         perf={"available": False, "reason": "perf_event_open: No such file"})
             for i in range(4)]
    decs, _ = simulate(tg.write(tmp_path / "nopmu.jsonl", snaps))
    notes = [d["reason"] for d in decs if d["kind"] == "note" and d["policy"] == "dvfs"]
    assert any("PMU unavailable" in n and "No such file" in n for n in notes), notes


def test_bad_lines_are_reported_and_skipped(tmp_path):
    trace = tmp_path / "mixed.jsonl"
    good = [json.dumps(tg.snapshot(i, thermal=tg.thermal(50.0))) for i in range(3)]
    trace.write_text(good[0] + "\n{not json\n" + '{"seq": 1}\n' + "\n".join(good[1:]) + "\n")
    r = subprocess.run([HWOPTD, "--simulate", str(trace)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "mixed.jsonl:2: not JSON" in r.stderr
    assert "mixed.jsonl:3: not a telemetry snapshot" in r.stderr
    assert "3 snapshots" in r.stderr and "2 lines skipped" in r.stderr


def test_unreadable_or_empty_trace_fails(tmp_path):
    r = subprocess.run([HWOPTD, "--simulate", str(tmp_path / "none.jsonl")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "cannot open" in r.stderr
    (tmp_path / "empty.jsonl").write_text("")
    r = subprocess.run([HWOPTD, "--simulate", str(tmp_path / "empty.jsonl")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "no telemetry snapshot" in r.stderr
    bad = tmp_path / "bad.conf"
    bad.write_text("[thermal]\nmargin_c = hot\n")
    r = subprocess.run([HWOPTD, "--simulate", str(tmp_path / "empty.jsonl"), "--config", str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "margin_c" in r.stderr
