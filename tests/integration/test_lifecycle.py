"""Start-up, signals, reloads and stopping."""

import json
import os
import signal
import socket
import stat

import pytest

from conftest import (HWOPTD, SLOW, assert_refused_as_full, check_error, connect, ctl, run, version,
                      wait_for)


def grace_wait(ms):
    """How long to wait for an exit: the grace period plus generous slack."""
    return ms / 1000.0 + 15 * SLOW


# --- stopping ------------------------------------------------------------------------


@pytest.mark.parametrize("sig,name", [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")])
def test_signal_stops_gracefully(daemon, sig, name):
    d = daemon(shutdown_grace_ms=2000)
    idle = connect(d.sock)
    assert idle.result("hello")["daemon"] == "hwoptd"
    d.kill(sig)
    assert d.wait_exit(grace_wait(2000)) == 0
    # The idle client was let go, and the socket file removed.
    assert idle.read_until_eof() == []
    idle.close()
    assert not os.path.exists(d.sock)
    log = d.log_text()
    assert "stopping: %s" % name in log
    assert "stopped" in log


def requests_read(d):
    return d.result("status")["requests"]["served"]


def wait_requests_read(d, base, n):
    """Waits until the daemon has read n requests since requests_read()
    returned base, not counting our own status polls (each counts itself)."""
    polls = [0]

    def done():
        polls[0] += 1
        return requests_read(d) - polls[0] >= base + n
    wait_for(done, what="%d requests to be read" % n)


def test_stop_drains_answers_already_asked_for(daemon):
    d = daemon(shutdown_grace_ms=20000)
    c = connect(d.sock)
    n = 500
    base = requests_read(d)
    c.send(b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"topology"}\n' % i for i in range(n)))
    wait_requests_read(d, base, n)
    d.kill(signal.SIGTERM)
    got = c.read_until_eof()
    c.close()
    # Everything read before the stop is answered in full and in order.
    assert [g["id"] for g in got] == list(range(n))
    assert all("result" in g for g in got)
    assert d.wait_exit(grace_wait(20000)) == 0
    assert "shutdown grace" not in d.log_text()


def test_grace_expires_for_a_client_that_never_reads(daemon):
    d = daemon(shutdown_grace_ms=300)
    c = connect(d.sock)
    base = requests_read(d)
    # Megabytes of answers the client never reads: writes stay pending.
    c.send(b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"topology"}\n' % i for i in range(3000)))
    wait_requests_read(d, base, 3000)
    d.kill(signal.SIGTERM)
    assert d.wait_exit(grace_wait(300)) == 0
    c.close()
    assert "shutdown grace (300 ms) over" in d.log_text()


def test_shutdown_method(daemon):
    d = daemon(shutdown_grace_ms=1500)
    other = connect(d.sock)
    assert other.result("hello")["daemon"] == "hwoptd"
    with connect(d.sock) as c:
        resp = c.call("shutdown", id="bye")
        assert resp["result"] == {"stopping": True, "grace_ms": 1500}
        assert c.read_until_eof() == []
    assert d.wait_exit(grace_wait(1500)) == 0
    assert other.read_until_eof() == []
    other.close()
    assert not os.path.exists(d.sock)
    assert "shutdown requested by pid %d" % os.getpid() in d.log_text()


def test_shutdown_answers_requests_pipelined_before_it(daemon):
    d = daemon()
    with connect(d.sock) as c:
        c.send(b'{"jsonrpc":"2.0","id":1,"method":"hello"}\n'
               b'{"jsonrpc":"2.0","id":2,"method":"shutdown"}\n')
        got = c.read_until_eof()
    assert [g["id"] for g in got] == [1, 2]
    assert got[1]["result"]["stopping"] is True
    assert d.wait_exit() == 0


def test_shutdown_as_a_notification(daemon):
    d = daemon()
    with connect(d.sock) as c:
        c.send(b'{"jsonrpc":"2.0","method":"shutdown"}\n')
        assert c.read_until_eof() == []  # no answer, and the daemon lets go
    assert d.wait_exit() == 0


def test_hwoptctl_shutdown(daemon):
    d = daemon(shutdown_grace_ms=2500)
    p = ctl(d.sock, "shutdown")
    assert p.returncode == 0, p.stderr
    assert "stopping" in p.stdout and "2500" in p.stdout
    assert d.wait_exit(grace_wait(2500)) == 0


def test_hwoptctl_json_shutdown(daemon):
    d = daemon()
    p = ctl(d.sock, "--json", "shutdown")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"stopping": True, "grace_ms": 5000}
    assert d.wait_exit() == 0


# --- reloading -----------------------------------------------------------------------


def test_sighup_applies_a_good_config(daemon):
    d = daemon(cli_log_level=None, log_level="info", max_connections=50)
    before = d.result("config.get")
    assert before["daemon"]["log_level"] == "info"
    assert "debug:" not in d.log_text()
    d.write_config(log_level="debug", max_connections=60, shutdown_grace_ms=1500)
    d.kill(signal.SIGHUP)
    after = wait_for(lambda: (lambda r: r["daemon"]["max_connections"] == 60 and r)(
        d.result("config.get")), what="the reload")
    assert after["daemon"]["log_level"] == "debug"
    assert after["daemon"]["shutdown_grace_ms"] == 1500
    assert after["loaded_at"] >= before["loaded_at"]
    st = d.result("status")
    assert st["connections"]["max"] == 60
    assert st["log_level"] == "debug"
    log = d.log_text()
    assert "SIGHUP" in log and "configuration reloaded" in log
    # The new level is in force: debug lines are written now.
    d.result("hello")
    assert "debug:" in d.log_text()


def test_reload_lower_max_connections_applies_to_new_clients(daemon):
    d = daemon(max_connections=10)
    held = [connect(d.sock) for _ in range(3)]
    for c in held:
        c.result("hello")
    d.write_config(max_connections=3)
    r = held[0].result("config.reload")
    assert r["changed"] == ["max_connections"]
    # Those already connected stay; a new one is over the limit.
    assert held[1].result("status")["connections"]["max"] == 3
    assert_refused_as_full(d.sock)
    for c in held:
        c.close()


def test_sighup_with_a_bad_config_keeps_the_old_one(daemon):
    d = daemon(max_connections=40)
    d.write_config(raw="[daemon]\n# a comment\nmax_connections = many\n")
    d.kill(signal.SIGHUP)
    d.wait_log("reload failed")
    log = d.log_text()
    assert "%s:3: [daemon] max_connections" % os.path.realpath(d.conf) in log
    assert d.proc.poll() is None
    cfg = d.result("config.get")
    assert cfg["daemon"]["max_connections"] == 40
    assert d.result("status")["connections"]["max"] == 40

    # The same through the protocol: error -32009 with the reason.
    resp = d.call("config.reload")
    err = check_error(resp, -32009, contains="%s:3:" % os.path.realpath(d.conf))
    assert "max_connections" in err["message"]
    assert err["data"]["path"] == os.path.realpath(d.conf)
    assert d.result("config.get")["daemon"]["max_connections"] == 40

    # Fixed file: the reload goes through.
    d.write_config(max_connections=41)
    r = d.result("config.reload")
    assert r["reloaded"] is True and r["changed"] == ["max_connections"]
    assert d.result("status")["connections"]["max"] == 41


def test_reload_of_a_removed_config_file_fails(daemon):
    d = daemon(max_connections=40)
    os.unlink(d.conf)
    err = check_error(d.call("config.reload"), -32009, contains=os.path.realpath(d.conf))
    assert "No such file" in err["message"]
    assert d.result("config.get")["daemon"]["max_connections"] == 40


def test_reload_reports_restart_required(daemon):
    sock = os.path.join(daemon.tmp, "run", "from-config.sock")
    state = os.path.join(daemon.tmp, "state-from-config")
    d = daemon(cli_socket=False, cli_state_dir=False, sock=sock, socket=sock, state_dir=state)
    assert d.result("status")["socket"] == sock
    new_sock = os.path.join(daemon.tmp, "run", "elsewhere.sock")
    d.write_config(socket=new_sock, state_dir=state + "2", socket_group="nogroup",
                   max_connections=33)
    r = d.result("config.reload")
    assert sorted(r["restart_required"]) == ["socket", "socket_group", "state_dir"]
    assert r["changed"] == ["max_connections"]
    # Still where it started.
    st = d.result("status")
    assert st["socket"] == sock and st["state_dir"] == state
    assert st["connections"]["max"] == 33
    cfg = d.result("config.get")["daemon"]
    assert cfg["socket"] == sock and cfg["socket_group"] == ""
    assert not os.path.exists(new_sock)
    assert "takes effect at the next restart" in d.log_text()


def test_command_line_overrides_survive_reloads(daemon):
    d = daemon()  # --socket, --state-dir and --log-level debug
    other = os.path.join(daemon.tmp, "run", "other.sock")
    d.write_config(log_level="error", socket=other)
    r = d.result("config.reload")
    assert r["changed"] == [] and r["restart_required"] == []
    cfg = d.result("config.get")
    assert cfg["daemon"]["log_level"] == "debug"
    assert cfg["daemon"]["socket"] == d.sock


# --- starting ------------------------------------------------------------------------


def test_second_daemon_on_a_live_socket_exits_1(daemon):
    first = daemon(name="first")
    second = daemon(name="second", wait=False)
    second.expect_code = 1
    assert second.wait_exit() == 1
    log = second.log_text()
    assert "already serving %s" % first.sock in log
    # The first one is untouched.
    assert os.path.exists(first.sock)
    assert first.result("status")["pid"] == first.pid


def test_stale_socket_is_replaced(daemon):
    path = os.path.join(daemon.tmp, "run", "hwoptd.sock")
    os.makedirs(os.path.dirname(path))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()  # the file stays, nobody listens
    assert stat.S_ISSOCK(os.lstat(path).st_mode)
    d = daemon()
    assert d.result("status")["pid"] == d.pid
    assert "removed stale socket %s" % path in d.log_text()


def test_regular_file_at_socket_path_is_refused(daemon):
    path = os.path.join(daemon.tmp, "run", "hwoptd.sock")
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as f:
        f.write("precious\n")
    d = daemon(wait=False)
    d.expect_code = 1
    assert d.wait_exit() == 1
    assert "not a socket" in d.log_text()
    with open(path) as f:
        assert f.read() == "precious\n"


def test_socket_path_too_long_is_refused(daemon):
    path = os.path.join(daemon.tmp, "run", "x" * 120 + ".sock")
    d = daemon(sock=path, wait=False)
    d.expect_code = 1
    assert d.wait_exit() == 1
    assert "longer than" in d.log_text()


def test_state_dir_that_cannot_be_created(daemon):
    blocker = os.path.join(daemon.tmp, "state")
    with open(blocker, "w") as f:
        f.write("a file where the state directory should be\n")
    d = daemon(wait=False, cli_state_dir=False, state_dir=blocker + "/sub")
    d.expect_code = 1
    assert d.wait_exit() == 1
    assert "state directory" in d.log_text()


def test_bad_config_at_start_exits_1(daemon):
    d = daemon(wait=False, max_queued_bytes="1K")
    d.expect_code = 1
    assert d.wait_exit() == 1
    # Line 1 is a comment, line 2 "[daemon]".
    assert "%s:3: [daemon] max_queued_bytes" % os.path.realpath(d.conf) in d.log_text()


def test_missing_config_file_exits_1(tmpdir_nobody):
    missing = os.path.join(tmpdir_nobody, "nope.conf")
    p = run([HWOPTD, "--config", missing, "--socket", os.path.join(tmpdir_nobody, "s.sock"),
             "--state-dir", os.path.join(tmpdir_nobody, "state")])
    assert p.returncode == 1
    assert missing in p.stderr and "No such file" in p.stderr


def test_bad_log_level_option_exits_1(tmpdir_nobody):
    p = run([HWOPTD, "--socket", os.path.join(tmpdir_nobody, "s.sock"),
             "--state-dir", os.path.join(tmpdir_nobody, "state"), "--log-level", "loud"])
    assert p.returncode == 1
    assert "log_level" in p.stderr and "loud" in p.stderr


def test_relative_socket_option_exits_1(tmpdir_nobody):
    p = run([HWOPTD, "--socket", "relative.sock", "--state-dir",
             os.path.join(tmpdir_nobody, "state")], cwd=tmpdir_nobody)
    assert p.returncode == 1
    assert "socket" in p.stderr and "absolute" in p.stderr


def test_relative_config_path_is_made_absolute(daemon):
    d = daemon(rel_config=True, max_connections=21)
    assert d.argv[2] == os.path.basename(d.conf)
    st = d.result("status")
    assert st["config_path"] == os.path.realpath(d.conf)
    # Reloads read the same file whatever the daemon's cwd.
    d.write_config(max_connections=22)
    assert d.result("config.reload")["changed"] == ["max_connections"]


# --- command line --------------------------------------------------------------------


def _conf(tmp, text):
    path = os.path.join(tmp, "check.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def test_check_config_good(tmpdir_nobody):
    path = _conf(tmpdir_nobody, "# comment\n; another\n[daemon]\nlog_level = warning\n"
                 "max_connections = 16\nmax_line_bytes = 64KiB\nmax_queued_bytes = 1M\n"
                 "shutdown_grace_ms = 0\nsocket_group = nogroup\nadmin_group =\n"
                 "socket = /run/x/y.sock\nstate_dir = /var/tmp/x\n")
    p = run([HWOPTD, "--check-config", path])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "%s: ok" % path


def test_check_config_shipped_example(tmpdir_nobody):
    from conftest import REPO
    path = os.path.join(REPO, "etc", "hwoptd.conf")
    if not os.path.exists(path):
        pytest.skip("no etc/hwoptd.conf")
    p = run([HWOPTD, "--check-config", path])
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("text,line,section,key,reason", [
    ("[daemon]\nbogus = 1\n", 2, "daemon", "bogus", "unknown key"),
    ("[daemon]\nlog_level = info\n[frob]\nx = 1\n", 4, "frob", "x", "unknown section"),
    ("[daemon]\nmax_connections = abc\n", 2, "daemon", "max_connections", "abc"),
    ("[daemon]\nmax_connections = 0\n", 2, "daemon", "max_connections", "outside"),
    ("[daemon]\nlog_level = loud\n", 2, "daemon", "log_level", "loud"),
    ("[daemon]\nmax_line_bytes = 1K\n", 2, "daemon", "max_line_bytes", "outside"),
    ("[daemon]\nmax_queued_bytes = 12Q\n", 2, "daemon", "max_queued_bytes", "size"),
    ("[daemon]\nsocket = relative.sock\n", 2, "daemon", "socket", "absolute"),
    ("[daemon]\nsocket_group = no-such-group-here\n", 2, "daemon", "socket_group", "no such group"),
    ("[daemon]\nmax_connections = 5\n\nmax_connections = 6\n", 4, "daemon", "max_connections",
     "twice"),
])
def test_check_config_bad(tmpdir_nobody, text, line, section, key, reason):
    path = _conf(tmpdir_nobody, text)
    p = run([HWOPTD, "--check-config", path])
    assert p.returncode == 1
    assert p.stdout == ""
    msg = p.stderr.strip()
    assert msg.startswith("%s:%d: [%s] %s: " % (path, line, section, key)), msg
    assert reason in msg


def test_check_config_syntax_error(tmpdir_nobody):
    path = _conf(tmpdir_nobody, "[daemon]\nlog_level = info\nthis line is not ini\n")
    p = run([HWOPTD, "--check-config", path])
    assert p.returncode == 1
    assert p.stderr.startswith("%s:3:" % path)


def test_check_config_missing_file(tmpdir_nobody):
    path = os.path.join(tmpdir_nobody, "absent.conf")
    p = run([HWOPTD, "--check-config", path])
    assert p.returncode == 1
    assert path in p.stderr


def test_version_and_help():
    p = run([HWOPTD, "--version"])
    assert p.returncode == 0
    assert p.stdout.strip() == "hwoptd %s" % version()
    p = run([HWOPTD, "-V"])
    assert p.returncode == 0 and version() in p.stdout
    p = run([HWOPTD, "--help"])
    assert p.returncode == 0
    assert p.stdout.startswith("Usage: hwoptd")
    for opt in ("--config", "--socket", "--state-dir", "--log-level", "--check-config"):
        assert opt in p.stdout


@pytest.mark.parametrize("args", [["--bogus"], ["-x"], ["extra-argument"], ["--config"]])
def test_usage_errors_exit_2(args):
    p = run([HWOPTD] + args)
    assert p.returncode == 2
    assert "Usage" in p.stderr
