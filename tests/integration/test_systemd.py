"""systemd integration without systemd: sd_notify messages on a datagram
socket we own, and socket activation through systemd-socket-activate."""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import (EXIT_TIMEOUT, HWOPTD, assert_no_sanitizer, clean_env, connect, ctl,
                      wait_for, write_config)


class NotifyListener(threading.Thread):
    """Collects the datagrams sd_notify sends to NOTIFY_SOCKET."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.messages = []  # (monotonic time, [lines])
        self.lock = threading.Lock()
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.append(data.decode("utf-8", "replace").splitlines())

    def lines(self):
        with self.lock:
            return [l for m in self.messages for l in m]

    def count(self, line):
        return self.lines().count(line)

    def index(self, line, start=0):
        return self.lines().index(line, start)

    def stop(self):
        self.stop_event.set()
        self.join(5)
        self.sock.close()


@pytest.fixture
def notify(tmpdir_nobody):
    n = NotifyListener(os.path.join(tmpdir_nobody, "notify.sock"))
    n.start()
    yield n
    n.stop()


def test_sd_notify_ready_watchdog_status_stopping(daemon, notify):
    d = daemon(env={"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"})
    wait_for(lambda: "READY=1" in notify.lines(), what="READY=1")
    status = [l for l in notify.lines() if l.startswith("STATUS=")]
    assert status and d.sock in status[0], notify.lines()
    assert "watchdog on" in d.log_text()
    # Pings every 200 ms (half of WATCHDOG_USEC); wait for a few.
    wait_for(lambda: notify.count("WATCHDOG=1") >= 3, what="three WATCHDOG=1 pings")
    assert "STOPPING=1" not in notify.lines()

    # SIGHUP: RELOADING=1 then READY=1 again.
    ready_before = notify.count("READY=1")
    d.kill(signal.SIGHUP)
    wait_for(lambda: notify.count("READY=1") > ready_before, what="READY=1 after the reload")
    lines = notify.lines()
    assert "RELOADING=1" in lines
    reloading = lines.index("RELOADING=1")
    assert any(l.startswith("MONOTONIC_USEC=") for l in lines[reloading:])
    assert "READY=1" in lines[reloading:]

    d.stop(signal.SIGTERM)
    assert d.proc.returncode == 0
    wait_for(lambda: "STOPPING=1" in notify.lines(), what="STOPPING=1")
    # STATUS follows STOPPING in its own datagram: wait for it too.
    wait_for(lambda: any(l.startswith("STATUS=Stopping") for l in notify.lines()),
             what="STATUS=Stopping")
    lines = notify.lines()
    assert lines.index("READY=1") < lines.index("STOPPING=1")


def test_sd_notify_failed_reload(daemon, notify):
    d = daemon(env={"NOTIFY_SOCKET": notify.path})
    wait_for(lambda: "READY=1" in notify.lines(), what="READY=1")
    d.write_config(raw="[daemon]\nmax_connections = -1\n")
    d.kill(signal.SIGHUP)
    wait_for(lambda: notify.count("READY=1") >= 2, what="READY=1 after the failed reload")
    assert any(l.startswith("STATUS=") and "reload failed" in l and "max_connections" in l
               for l in notify.lines()), notify.lines()
    assert d.result("status")["pid"] == d.pid


def test_no_watchdog_without_watchdog_usec(daemon, notify):
    d = daemon(env={"NOTIFY_SOCKET": notify.path})
    wait_for(lambda: "READY=1" in notify.lines(), what="READY=1")
    time.sleep(0.5)
    assert "WATCHDOG=1" not in notify.lines()
    assert "watchdog on" not in d.log_text()


def test_no_watchdog_for_another_pid(daemon, notify):
    # WATCHDOG_PID names the process meant to ping; it is not this daemon.
    daemon(env={"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000",
                "WATCHDOG_PID": str(os.getpid())})
    wait_for(lambda: "READY=1" in notify.lines(), what="READY=1")
    time.sleep(0.5)
    assert "WATCHDOG=1" not in notify.lines()


ACTIVATE = shutil.which("systemd-socket-activate")


@pytest.mark.skipif(not ACTIVATE, reason="systemd-socket-activate is not installed")
def test_socket_activation(tmpdir_nobody):
    tmp = tmpdir_nobody
    act = os.path.join(tmp, "act.sock")
    conf = os.path.join(tmp, "act.conf")
    write_config(conf, {"max_connections": 64})
    log_path = os.path.join(tmp, "act.log")
    argv = [ACTIVATE, "-l", act, "--", HWOPTD, "--config", conf,
            "--state-dir", os.path.join(tmp, "state"), "--log-level", "debug"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                env=clean_env())
    try:
        wait_for(lambda: os.path.exists(act) or proc.poll() is not None,
                 what="the activator to listen")
        assert proc.poll() is None, open(log_path).read()
        # The first connection starts the daemon, which accepts it.
        with connect(act) as c:
            st = c.result("status")
        assert st["socket_activated"] is True
        assert st["socket"] == ""
        assert st["connections"]["max"] == 64
        # systemd-socket-activate execs the daemon in its own process.
        assert st["pid"] == proc.pid

        p = ctl(act, "status")
        assert p.returncode == 0, p.stderr
        assert "socket activation" in p.stdout

        os.kill(st["pid"], signal.SIGTERM)
        assert proc.wait(EXIT_TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = open(log_path, errors="replace").read()
    assert_no_sanitizer(text)
    assert "socket passed by systemd" in text
    # The socket is systemd's: the daemon leaves it in place.
    assert os.path.exists(act)
    # And the configured socket path was never created.
    assert not os.path.exists(os.path.join(tmp, "run"))


def test_passed_fd_that_is_not_a_socket_is_refused(tmpdir_nobody):
    tmp = tmpdir_nobody
    conf = os.path.join(tmp, "fd.conf")
    write_config(conf, {})
    plain = os.path.join(tmp, "plain-file")
    open(plain, "w").close()
    script = 'exec 3<"$F"; export LISTEN_PID=$$ LISTEN_FDS=1; exec "$@"'
    p = subprocess.run(["/bin/sh", "-c", script, "sh", HWOPTD, "--config", conf,
                        "--state-dir", os.path.join(tmp, "state")],
                       env=clean_env({"F": plain}), capture_output=True, text=True,
                       timeout=EXIT_TIMEOUT, stdin=subprocess.DEVNULL)
    assert_no_sanitizer(p.stderr)
    assert p.returncode == 1, p.stderr
    assert "not a listening Unix stream socket" in p.stderr
