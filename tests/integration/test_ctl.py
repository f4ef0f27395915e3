"""hwoptctl: output, --json, and its documented exit codes
(0 ok, 1 daemon error, 2 usage, 3 cannot connect)."""

import json
import os
import socket
import threading

import pytest

from conftest import HWOPTCTL, check_status, connect_accepted, ctl, run, version


def test_status_human(hwoptd):
    p = ctl(hwoptd.sock, "status")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "hwoptd:" in out and version() in out and "pid %d" % hwoptd.pid in out
    assert "socket:" in out and hwoptd.sock in out
    assert os.path.realpath(hwoptd.conf) in out
    assert hwoptd.state_dir in out
    assert "connections:" in out and "requests:" in out
    assert p.stderr == ""


def test_status_json(hwoptd):
    p = ctl(hwoptd.sock, "--json", "status")
    assert p.returncode == 0, p.stderr
    st = json.loads(p.stdout)
    check_status(st, sock=hwoptd.sock)
    assert st["pid"] == hwoptd.pid
    p2 = ctl(hwoptd.sock, "-j", "status")
    assert p2.returncode == 0 and json.loads(p2.stdout)["pid"] == hwoptd.pid


def test_topology_json(hwoptd):
    p = ctl(hwoptd.sock, "--json", "topology")
    assert p.returncode == 0, p.stderr
    t = json.loads(p.stdout)
    assert t["pus"] >= 1
    assert t["cores"] >= 1
    for k in ("arch", "cpu", "packages", "caches", "numa_nodes", "core_kinds",
              "allowed_cpus", "cores_detail"):
        assert k in t, k
    assert t["allowed_cpus"]["count"] == len(os.sched_getaffinity(0))
    # The same as the daemon says on a raw socket.
    assert t == hwoptd.result("topology")


def test_topology_human(hwoptd):
    t = hwoptd.result("topology")
    p = ctl(hwoptd.sock, "topology")
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    out = p.stdout
    assert t["arch"] in out
    if t["cpu"]["model_name"]:
        assert t["cpu"]["model_name"] in out
    assert t["allowed_cpus"]["list"] in out
    for feature in t["cpu"]["features"]:
        assert feature in out
    # Text, not JSON.
    with pytest.raises(ValueError):
        json.loads(out)


def test_config_get_human_and_json(hwoptd):
    p = ctl(hwoptd.sock, "config")
    assert p.returncode == 0, p.stderr
    assert "[daemon]" in p.stdout
    assert os.path.realpath(hwoptd.conf) in p.stdout
    lines = {l.split("=")[0].strip(): l for l in p.stdout.splitlines() if "=" in l}
    assert "max_connections" in lines and "1024" in lines["max_connections"]
    assert "from the command line" in lines["socket"]
    assert "from the command line" not in lines["max_connections"]

    p = ctl(hwoptd.sock, "--json", "config", "get")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == hwoptd.result("config.get")


def test_config_reload_human(hwoptd):
    p = ctl(hwoptd.sock, "config", "reload")
    assert p.returncode == 0, p.stderr
    assert "reloaded %s" % os.path.realpath(hwoptd.conf) in p.stdout
    assert "nothing changed" in p.stdout

    hwoptd.write_config(max_connections=99, socket_group="nogroup")
    p = ctl(hwoptd.sock, "config", "reload")
    assert p.returncode == 0, p.stderr
    assert "applied: max_connections" in p.stdout
    assert "next restart: socket_group" in p.stdout

    p = ctl(hwoptd.sock, "--json", "config", "reload")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["reloaded"] is True and r["changed"] == [] and r["restart_required"] == ["socket_group"]


def test_exit_1_on_a_bad_config_reload(hwoptd):
    hwoptd.write_config(raw="[daemon]\nmax_connections = lots\n")
    p = ctl(hwoptd.sock, "config", "reload")
    assert p.returncode == 1
    assert "%s:2:" % os.path.realpath(hwoptd.conf) in p.stderr
    assert "max_connections" in p.stderr and "-32009" in p.stderr

    p = ctl(hwoptd.sock, "--json", "config", "reload")
    assert p.returncode == 1
    assert json.loads(p.stdout)["code"] == -32009
    # The old configuration is still in force.
    assert hwoptd.result("config.get")["daemon"]["max_connections"] == 1024


def test_exit_1_when_the_daemon_is_full(daemon):
    d = daemon(max_connections=1)
    with connect_accepted(d.sock):  # the one connection allowed
        p = ctl(d.sock, "status")
        assert p.returncode == 1, (p.stdout, p.stderr)
        assert "too many connections" in p.stderr
        assert "-32002" in p.stderr


def test_version(hwoptd):
    p = ctl(hwoptd.sock, "version")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["hwoptctl %s" % version(),
                                     "hwoptd %s (protocol 1)" % version()]
    p = ctl(hwoptd.sock, "--json", "version")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"hwoptctl": version(), "hwoptd": version(), "protocol": 1}


def test_socket_from_environment(hwoptd):
    p = ctl(None, "--json", "status", env={"HWOPT_SOCKET": hwoptd.sock})
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["pid"] == hwoptd.pid


def test_help():
    p = run([HWOPTCTL, "help"])
    assert p.returncode == 0
    assert p.stdout.startswith("Usage: hwoptctl")
    for cmd in ("status", "topology", "config", "shutdown", "version", "help"):
        assert "\n  %s" % cmd in p.stdout, cmd
    assert "Exit status" in p.stdout
    p = run([HWOPTCTL, "--help"])
    assert p.returncode == 0 and p.stdout.startswith("Usage: hwoptctl")


@pytest.mark.parametrize("cmd", ["status", "topology", "config", "shutdown", "version"])
def test_help_command(cmd):
    p = run([HWOPTCTL, "help", cmd])
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("Usage: hwoptctl [OPTIONS] %s" % cmd)
    assert len(p.stdout.splitlines()) >= 3


@pytest.mark.parametrize("args", [
    ["frobnicate"],
    ["status", "extra"],
    ["config", "frob"],
    ["config", "reload", "now"],
    ["shutdown", "now"],
    ["help", "nosuchcommand"],
    [],
    ["--bogus", "status"],
    ["-t"],
    ["-t", "0", "status"],
    ["-t", "-1", "status"],
    ["-t", "abc", "status"],
    ["-t", "5s", "status"],
    ["-t", "", "status"],
    ["-t", "1e9", "status"],
    ["-t", "inf", "status"],
    ["-t", "nan", "status"],
])
def test_usage_errors_exit_2(tmpdir_nobody, args):
    # No daemon runs at this socket: a usage error must be found first.
    sock = os.path.join(tmpdir_nobody, "none.sock")
    p = ctl(sock, *args)
    assert p.returncode == 2, (args, p.returncode, p.stdout, p.stderr)
    assert p.stderr.strip()
    assert p.stdout == ""


def test_timeout_accepts_fractions(hwoptd):
    p = ctl(hwoptd.sock, "-t", "0.5", "status")
    assert p.returncode == 0, p.stderr
    p = ctl(hwoptd.sock, "--timeout=30", "status")
    assert p.returncode == 0, p.stderr


def test_exit_3_without_a_daemon(tmpdir_nobody):
    sock = os.path.join(tmpdir_nobody, "run", "nobody-home.sock")
    for args in (["status"], ["--json", "topology"], ["config", "reload"], ["shutdown"],
                 ["version"]):
        p = ctl(sock, *args)
        assert p.returncode == 3, (args, p.stderr)
        assert sock in p.stderr
        assert "systemctl status hwoptd" in p.stderr


def test_exit_3_on_a_stale_socket_and_a_regular_file(tmpdir_nobody):
    stale = os.path.join(tmpdir_nobody, "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()
    plain = os.path.join(tmpdir_nobody, "plain")
    open(plain, "w").close()
    for path in (stale, plain):
        p = ctl(path, "status")
        assert p.returncode == 3, p.stderr
        assert path in p.stderr and "systemctl status hwoptd" in p.stderr


def test_exit_3_when_no_answer_comes(tmpdir_nobody):
    # A server that accepts and never answers: --timeout gives up.
    path = os.path.join(tmpdir_nobody, "mute.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    conns = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except socket.timeout:
                pass
    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        p = ctl(path, "-t", "0.5", "status")
        assert p.returncode == 3, p.stderr
        assert "no answer" in p.stderr and path in p.stderr
    finally:
        stop.set()
        t.join()
        for c in conns:
            c.close()
        srv.close()


def test_exit_3_when_the_answer_is_not_json_rpc(tmpdir_nobody):
    path = os.path.join(tmpdir_nobody, "liar.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)

    def serve():
        c, _ = srv.accept()
        c.recv(4096)
        c.sendall(b"HTTP/1.0 400 Bad Request\n")
        c.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        p = ctl(path, "-t", "10", "status")
        assert p.returncode == 3, p.stderr
        assert path in p.stderr
    finally:
        t.join(10)
        srv.close()
