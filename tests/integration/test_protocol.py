"""The JSON-RPC protocol on a raw socket: methods, ids, framing, errors that
keep the connection open."""

import json
import os

import pytest

from conftest import check_error, check_status, connect, version

ALL_METHODS = {"hello", "status", "topology", "config.get", "config.reload", "shutdown",
               "model.load", "model.unload", "model.list", "infer", "job.list", "job.cancel",
               "pool.create", "pool.alloc", "pool.free", "pool.destroy", "pool.list",
               "telemetry.get", "telemetry.subscribe", "telemetry.unsubscribe", "trace.record",
               "policy.get", "policy.set", "policy.explain", "profile.get", "profile.set",
               "hold.add", "hold.release", "hold.list"}
CONFIG_KEYS = {"socket", "socket_group", "admin_group", "state_dir", "devices_dir", "log_level",
               "max_connections", "max_line_bytes", "max_queued_bytes", "shutdown_grace_ms",
               "submit_group"}
# config.get's policy sections and their keys (zone.TYPE rules only when set).
POLICY_CONFIG_KEYS = {
    "policy": {"enabled", "dry_run", "restore_on_exit", "profile", "explain_history",
               "autotune"},
    "dvfs": {"enabled", "idle_s", "busy_s", "hold_s", "power_saver_freq_ratio",
             "idle_freq_ratio", "memory_bound", "memory_bound_ipc", "memory_bound_miss_ratio",
             "memory_bound_freq_ratio", "memory_bound_enter_s", "memory_bound_exit_s"},
    "thermal": {"enabled", "mode", "margin_c", "hysteresis_c", "cooldown_s", "max_level",
                "level_freq_step", "min_freq_ratio", "max_trip_c", "target_c", "pid_kp",
                "pid_ki", "pid_kd"},
    "battery": {"enabled", "low_pct", "critical_pct", "low_workers_ratio"},
    "autoscale": {"enabled", "min_workers", "max_workers", "target_utilization",
                  "target_queue_per_worker", "target_queue_p95_s", "tolerance_up",
                  "tolerance_down", "up_window_s", "down_window_s", "up_percent", "up_workers",
                  "up_period_s", "down_workers", "down_percent", "down_period_s"},
    "affinity": {"enabled", "interactive", "normal", "batch", "heavy_ms",
                 "efficiency_capacity_pct"},
}


def test_hello(hwoptd):
    with hwoptd.connect() as c:
        resp = c.call("hello", {"client": "pytest \u00e9\U0001F600", "protocol": 1})
    r = resp["result"]
    assert r["protocol"] == 1
    assert r["daemon"] == "hwoptd"
    assert r["version"] == version()
    assert set(r["methods"]) == ALL_METHODS  # root is an admin: every method
    caps = r["capabilities"]
    assert caps["batch"] is False
    assert isinstance(caps["cpu_features"], list)
    assert all(isinstance(f, str) and f for f in caps["cpu_features"])
    peer = r["peer"]
    assert peer["pid"] == os.getpid()
    assert peer["uid"] == os.getuid()
    assert peer["gid"] == os.getgid()
    assert peer["admin"] is True


def test_hello_without_params_and_bad_params(hwoptd):
    with hwoptd.connect() as c:
        assert c.result("hello")["protocol"] == 1
        assert c.result("hello", {})["protocol"] == 1
        check_error(c.call("hello", {"client": 5}, id=10), -32602, id=10, contains="client")
        check_error(c.call("hello", {"protocol": "one"}, id=11), -32602, id=11,
                    contains="protocol")
        check_error(c.call("hello", {"protocol": 1.5}, id=12), -32602, id=12, contains="protocol")
        check_error(c.call("hello", {"frobnicate": True}, id=13), -32602, id=13,
                    contains="frobnicate")
        # The connection is still good after each error.
        assert c.result("hello")["daemon"] == "hwoptd"


def test_hello_newer_protocol_is_reported_incompatible(hwoptd):
    r = hwoptd.result("hello", {"protocol": 2})
    assert r["protocol"] == 1
    assert r["protocol_compatible"] is False
    assert hwoptd.result("hello", {"protocol": 1})["protocol_compatible"] is True


def test_status_raw(hwoptd):
    with hwoptd.connect() as c:
        st = c.result("status")
    check_status(st, sock=hwoptd.sock)
    assert st["pid"] == hwoptd.pid
    assert st["version"] == version()
    assert st["config_path"] == os.path.realpath(hwoptd.conf)
    assert st["state_dir"] == hwoptd.state_dir
    assert os.path.isdir(hwoptd.state_dir)
    assert st["log_level"] == "debug"
    assert st["connections"]["max"] == 1024  # the built-in default
    assert st["requests"]["served"] >= 1
    assert st["requests"]["in_flight"] >= 0


def test_status_counts_requests_and_errors(hwoptd):
    with hwoptd.connect() as c:
        before = c.result("status")
        check_error(c.call("no.such.method"), -32601)
        c.result("hello")
        after = c.result("status")
    assert after["requests"]["served"] >= before["requests"]["served"] + 3
    assert after["requests"]["errors"] >= before["requests"]["errors"] + 1
    assert after["connections"]["total"] >= before["connections"]["total"]


def test_topology_raw(hwoptd):
    with hwoptd.connect() as c:
        t = c.result("topology")
    assert isinstance(t["arch"], str) and t["arch"]
    assert set(t["cpu"]) >= {"vendor", "model_name", "features"}
    assert isinstance(t["cpu"]["features"], list)
    assert t["pus"] >= 1
    assert 1 <= t["cores"] <= t["pus"]
    assert t["packages"] >= 1
    assert isinstance(t["caches"], list)
    for cache in t["caches"]:
        assert cache["level"] >= 1 and cache["size_bytes"] > 0 and cache["count"] >= 1
    assert isinstance(t["numa_nodes"], list)
    assert len(t["core_kinds"]) >= 1
    allowed = os.sched_getaffinity(0)
    assert t["allowed_cpus"]["count"] == len(allowed)
    assert isinstance(t["allowed_cpus"]["list"], str) and t["allowed_cpus"]["list"]
    assert len(t["cores_detail"]) == t["cores"]
    pus = [p for core in t["cores_detail"] for p in core["pus"]]
    assert len(pus) == t["pus"] and len(set(pus)) == t["pus"]


def _cpulist(text):
    cpus = set()
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            cpus.update(range(int(a), int(b) + 1))
        else:
            cpus.add(int(part))
    return cpus


def test_topology_allowed_cpus_follow_affinity(daemon):
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        pytest.skip("needs two CPUs")
    one = allowed[-1]
    d = daemon(preexec_fn=lambda: os.sched_setaffinity(0, {one}))
    t = d.result("topology")
    assert t["allowed_cpus"]["count"] == 1
    assert _cpulist(t["allowed_cpus"]["list"]) == {one}
    assert t["pus"] >= 2  # the machine is still the whole machine


def test_config_get(hwoptd):
    r = hwoptd.result("config.get")
    assert r["path"] == os.path.realpath(hwoptd.conf)
    assert isinstance(r["loaded_at"], (int, float))
    assert set(r["daemon"]) == CONFIG_KEYS
    assert r["daemon"]["socket"] == hwoptd.sock
    assert r["daemon"]["state_dir"] == hwoptd.state_dir
    # Device profiles default to "devices" beside the config file.
    assert r["daemon"]["devices_dir"] == os.path.join(
        os.path.dirname(os.path.realpath(hwoptd.conf)), "devices")
    assert r["daemon"]["log_level"] == "debug"
    assert r["daemon"]["max_line_bytes"] == 1 << 20
    assert r["daemon"]["max_queued_bytes"] == 16 << 20
    assert r["daemon"]["max_connections"] == 1024
    assert r["daemon"]["shutdown_grace_ms"] == 5000
    for section, keys in POLICY_CONFIG_KEYS.items():
        assert set(r[section]) == keys, section
    assert r["thermal"]["target_c"] is None
    assert r["policy"]["profile"] == "balanced"
    assert r["overrides"] == {"socket": hwoptd.sock, "state_dir": hwoptd.state_dir,
                              "log_level": "debug"}
    check_error(hwoptd.call("config.get", {"x": 1}), -32602, contains="x")


def test_config_file_values_in_force(daemon):
    d = daemon(max_connections=77, max_line_bytes="64K", max_queued_bytes="1M",
               shutdown_grace_ms=1234, admin_group="nogroup")
    r = d.result("config.get")["daemon"]
    assert r["max_connections"] == 77
    assert r["max_line_bytes"] == 64 << 10
    assert r["max_queued_bytes"] == 1 << 20
    assert r["shutdown_grace_ms"] == 1234
    assert r["admin_group"] == "nogroup"
    assert d.result("status")["connections"]["max"] == 77
    assert d.result("hello")["capabilities"].get("max_line_bytes", 64 << 10) == 64 << 10


def test_pipelined_requests_answered_in_order(hwoptd):
    with hwoptd.connect() as c:
        ids = [1, "two", 3.5, -4, 0, "", "\u00e9\u4e2d\U0001F600", "a\"b\\c\n"]
        data = "".join(json.dumps({"jsonrpc": "2.0", "id": i, "method": "hello"}) + "\n"
                       for i in ids)
        c.send(data)
        got = [c.recv() for _ in ids]
    assert [g["id"] for g in got] == ids
    assert all(g["result"]["daemon"] == "hwoptd" for g in got)


def test_null_id_is_answered_with_null(hwoptd):
    with hwoptd.connect() as c:
        c.send(b'{"jsonrpc":"2.0","id":null,"method":"hello"}\n')
        resp = c.recv()
    assert resp["id"] is None and resp["result"]["daemon"] == "hwoptd"


def test_notifications_get_no_answer(hwoptd):
    with hwoptd.connect() as c:
        c.send(b'{"jsonrpc":"2.0","method":"status"}\n'
               b'{"jsonrpc":"2.0","method":"no.such.method"}\n'
               b'{"jsonrpc":"2.0","method":"hello","params":{"client":"n"}}\n'
               b'{"jsonrpc":"2.0","id":42,"method":"hello"}\n')
        first = c.recv()
        assert first["id"] == 42 and "result" in first
        c.expect_silence(0.3)


def test_blank_lines_are_ignored(hwoptd):
    with hwoptd.connect() as c:
        c.send(b"\n\n   \n\t\n\r\n \t \r\n")
        c.expect_silence(0.3)
        c.send(b'\n{"jsonrpc":"2.0","id":7,"method":"hello"}\r\n\n')
        assert c.recv()["id"] == 7
        c.expect_silence(0.2)


def test_request_split_across_writes(hwoptd):
    line = b'{"jsonrpc":"2.0","id":"split","method":"status"}\n'
    with hwoptd.connect() as c:
        for b in line:
            c.send(bytes([b]))
        assert c.recv()["id"] == "split"


def test_parse_error_keeps_connection_open(hwoptd):
    with hwoptd.connect() as c:
        c.send(b"this is not json\n")
        check_error(c.recv(), -32700, id=None)
        c.send(b'{"jsonrpc":"2.0","id":1,"method":"hello"\n')  # unterminated object
        check_error(c.recv(), -32700, id=None)
        c.send(b'{"jsonrpc":"2.0","id":2,"method":"hello"} trailing\n')
        check_error(c.recv(), -32700, id=None)
        assert c.result("status")["pid"] == hwoptd.pid


def test_invalid_utf8_is_a_parse_error(hwoptd):
    bad = [b'{"jsonrpc":"2.0","id":1,"method":"\xff"}',
           b'{"jsonrpc":"2.0","id":1,"method":"hello","params":{"client":"\xc0\xaf"}}',
           b'{"jsonrpc":"2.0","id":1,"method":"hello","params":{"client":"\xed\xa0\x80"}}',
           b'{"jsonrpc":"2.0","id":1,"method":"hello","params":{"client":"\xe2\x82"}}',
           b'{"jsonrpc":"2.0","id":1,"method":"hello","params":{"client":"\xf5\x80\x80\x80"}}']
    with hwoptd.connect() as c:
        for line in bad:
            c.send(line + b"\n")
            check_error(c.recv(), -32700, id=None, contains="UTF-8")
        # Valid multi-byte text is fine.
        c.send('{"jsonrpc":"2.0","id":2,"method":"hello","params":{"client":"\u00e9\u4e2d\U0001F600"}}\n'.encode())
        assert "result" in c.recv()


@pytest.mark.parametrize("line,code,id,contains", [
    ('{"jsonrpc":"1.0","id":5,"method":"status"}', -32600, 5, "jsonrpc"),
    ('{"id":"x","method":"status"}', -32600, "x", "jsonrpc"),
    ('{"jsonrpc":2.0,"id":6,"method":"status"}', -32600, 6, "jsonrpc"),
    ('{"jsonrpc":"2.0","id":{"a":1},"method":"status"}', -32600, None, "id"),
    ('{"jsonrpc":"2.0","id":[1],"method":"status"}', -32600, None, "id"),
    ('{"jsonrpc":"2.0","id":true,"method":"status"}', -32600, None, "id"),
    ('{"jsonrpc":"2.0","id":7}', -32600, 7, "method"),
    ('{"jsonrpc":"2.0","id":8,"method":5}', -32600, 8, "method"),
    ('{"jsonrpc":"2.0","id":9,"method":"status","params":[1]}', -32602, 9, "params"),
    ('{"jsonrpc":"2.0","id":10,"method":"status","params":"x"}', -32602, 10, "params"),
    ('{"jsonrpc":"2.0","id":11,"method":"status","params":3}', -32602, 11, "params"),
    ('{"jsonrpc":"2.0","id":12,"method":"status","params":{"verbose":true}}', -32602, 12,
     "verbose"),
    ('{"jsonrpc":"2.0","id":13,"method":"topology","params":{"x":1}}', -32602, 13, "params.x"),
    ('{"jsonrpc":"2.0","id":14,"method":"no.such"}', -32601, 14, "no.such"),
    ('{"jsonrpc":"2.0","id":15,"method":""}', -32601, 15, None),
    ('{"jsonrpc":"2.0","id":16,"method":"STATUS"}', -32601, 16, None),
    ('[{"jsonrpc":"2.0","id":1,"method":"status"}]', -32600, None, "batch"),
    ('[]', -32600, None, "batch"),
    ('"just a string"', -32600, None, None),
    ('42', -32600, None, None),
    ('null', -32600, None, None),
])
def test_invalid_requests(hwoptd, line, code, id, contains):
    with hwoptd.connect() as c:
        c.send(line.encode() + b"\n")
        check_error(c.recv(), code, id=id, contains=contains)
        # The connection stays open and serves the next request.
        assert c.result("hello")["daemon"] == "hwoptd"


@pytest.mark.parametrize("line", [
    b'{"jsonrpc":"2.0","id":1,"method":"status\\u0000x"}',
    b'{"jsonrpc":"2.0","id":"a\\u0000b","method":"hello"}',
    b'{"jsonrpc":"2.0","id":2,"method":"hello","params":{"client":"x\\u0000"}}',
])
def test_strings_with_nul_are_refused(hwoptd, line):
    # cJSON keeps C strings, so U+0000 would cut a method or id short and
    # run the wrong method or answer with the wrong id: refused instead.
    with hwoptd.connect() as c:
        c.send(line + b"\n")
        resp = c.recv()
        assert resp["id"] is None
        assert resp["error"]["code"] == -32600
        assert "U+0000" in resp["error"]["message"]
        # An escaped backslash followed by u0000 is plain text, not NUL.
        c.send(b'{"jsonrpc":"2.0","id":"a\\\\u0000","method":"hello"}\n')
        resp = c.recv()
        assert resp["id"] == "a\\u0000" and "result" in resp


def test_final_line_without_newline_then_half_close(hwoptd):
    with hwoptd.connect() as c:
        c.send(b'{"jsonrpc":"2.0","id":1,"method":"hello"}\n'
               b'{"jsonrpc":"2.0","id":2,"method":"status"}')
        c.shutdown_write()
        got = c.read_until_eof()
    assert [g["id"] for g in got] == [1, 2]
    assert got[1]["result"]["pid"] == hwoptd.pid


def test_half_close_after_many_requests_answers_all(hwoptd):
    n = 300
    with hwoptd.connect() as c:
        c.send("".join('{"jsonrpc":"2.0","id":%d,"method":"config.get"}\n' % i for i in range(n)))
        c.shutdown_write()
        got = c.read_until_eof()
    assert [g["id"] for g in got] == list(range(n))
    assert all(g["result"]["daemon"]["max_connections"] == 1024 for g in got)


def test_line_at_max_line_bytes_is_accepted(daemon):
    d = daemon(max_line_bytes=4096)
    base = '{"jsonrpc":"2.0","id":1,"method":"hello"}'
    exact = base + " " * (4096 - len(base))
    assert len(exact) == 4096
    with d.connect() as c:
        c.send(exact.encode() + b"\n")
        assert c.recv()["id"] == 1
        c.send(exact.encode() + b"\r\n")  # the '\r' is not part of the line
        assert c.recv()["id"] == 1
        c.send(exact.encode() + b" \n")  # 4097 bytes: one too many
        err = check_error(c.recv(), -32600, id=None, contains="max_line_bytes")
        assert err.get("data", {}).get("max_line_bytes", 4096) == 4096
        assert c.read_until_eof() == []


def test_over_long_line_split_across_writes(daemon):
    d = daemon(max_line_bytes="4K")
    with d.connect() as c:
        c.send(b'{"jsonrpc":"2.0","id":1,"method":"hello"}\n' + b'{"a":"' + b"x" * 3000)
        assert c.recv()["id"] == 1
        c.send(b"x" * 3000)
        check_error(c.recv(), -32600, id=None, contains="max_line_bytes")
        try:
            rest = c.read_until_eof()
        except BrokenPipeError:
            rest = []
        assert rest == []


def test_admin_methods_allowed_for_root(hwoptd):
    # Root is an admin; config.reload of an unchanged file changes nothing.
    r = hwoptd.result("config.reload")
    assert r["reloaded"] is True
    assert r["path"] == os.path.realpath(hwoptd.conf)
    assert r["changed"] == [] and r["restart_required"] == []
    check_error(hwoptd.call("config.reload", {"force": True}), -32602, contains="force")
    check_error(hwoptd.call("shutdown", {"now": True}), -32602, contains="now")
    # Neither refused call stopped the daemon.
    assert hwoptd.result("status")["pid"] == hwoptd.pid


def test_connection_closed_by_client_without_reading(hwoptd):
    # Answers to a client that has gone are dropped without harm.
    for _ in range(20):
        c = connect(hwoptd.sock)
        c.send(b'{"jsonrpc":"2.0","id":1,"method":"topology"}\n' * 50)
        c.close()
    assert hwoptd.result("status")["pid"] == hwoptd.pid
