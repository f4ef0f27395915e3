"""Who may do what: the socket's mode and group, read methods for anyone who
can open the socket, admin methods for root and admin_group only."""

import grp
import json
import os
import pwd
import shutil
import signal
import stat
import textwrap

import pytest

from conftest import HWOPTCTL, check_error, run, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become nobody")

NOBODY = pwd.getpwnam("nobody").pw_uid
NOGROUP = grp.getgrnam("nogroup").gr_gid
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@pytest.fixture
def nobody_ctl(daemon):
    """hwoptctl copied where nobody can run it; returns a runner."""
    path = os.path.join(daemon.tmp, "hwoptctl")
    shutil.copy(HWOPTCTL, path)
    os.chmod(path, 0o755)

    def ctl(sock, *args):
        return run(AS_NOBODY + [path, "-s", sock] + list(args))
    return ctl


def nobody_python(tmp, sock, requests):
    """Runs a raw client as nobody; returns its answers."""
    script = os.path.join(tmp, "client_as_nobody.py")
    with open(script, "w") as f:
        f.write(textwrap.dedent("""
            import json, socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(60)
            s.connect(sys.argv[1])
            reqs = json.loads(sys.argv[2])
            s.sendall("".join(json.dumps(r) + "\\n" for r in reqs).encode())
            buf = b""
            while buf.count(b"\\n") < len(reqs):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            print(json.dumps([json.loads(l) for l in buf.splitlines()]))
        """))
    os.chmod(script, 0o644)
    p = run(AS_NOBODY + ["/usr/bin/python3", script, sock, json.dumps(requests)])
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_socket_and_directory_modes(daemon):
    d = daemon(socket_group="nogroup")
    st = os.stat(d.sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert st.st_gid == NOGROUP
    dst = os.stat(os.path.dirname(d.sock))
    assert stat.S_IMODE(dst.st_mode) == 0o750
    assert dst.st_gid == NOGROUP


def test_socket_mode_without_group(daemon):
    d = daemon()
    st = os.stat(d.sock)
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert st.st_gid == os.getegid()
    assert stat.S_IMODE(os.stat(os.path.dirname(d.sock)).st_mode) == 0o750


def test_existing_socket_directory_is_left_alone(daemon):
    run_dir = os.path.join(daemon.tmp, "run")
    os.mkdir(run_dir)
    os.chmod(run_dir, 0o755)
    daemon(socket_group="nogroup")
    st = os.stat(run_dir)
    assert stat.S_IMODE(st.st_mode) == 0o755
    assert st.st_gid == 0


def test_nobody_reads_but_is_refused_admin(daemon, nobody_ctl):
    d = daemon(socket_group="nogroup")
    p = nobody_ctl(d.sock, "status")
    assert p.returncode == 0, p.stderr
    assert str(d.pid) in p.stdout

    p = nobody_ctl(d.sock, "--json", "status")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["pid"] == d.pid

    p = nobody_ctl(d.sock, "config", "get")
    assert p.returncode == 0, p.stderr

    p = nobody_ctl(d.sock, "config", "reload")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "permission denied" in p.stderr

    p = nobody_ctl(d.sock, "shutdown")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "permission denied" in p.stderr

    # Still running and serving.
    assert d.proc.poll() is None
    assert d.result("status")["pid"] == d.pid
    assert "refused shutdown" in d.log_text()
    assert "refused config.reload" in d.log_text()


def test_nobody_raw_hello_and_admin_errors(daemon):
    d = daemon(socket_group="nogroup")
    got = nobody_python(daemon.tmp, d.sock, [
        {"jsonrpc": "2.0", "id": 1, "method": "hello"},
        {"jsonrpc": "2.0", "id": 2, "method": "config.reload"},
        {"jsonrpc": "2.0", "id": 3, "method": "shutdown"},
        {"jsonrpc": "2.0", "id": 4, "method": "topology"},
    ])
    assert [g["id"] for g in got] == [1, 2, 3, 4]
    peer = got[0]["result"]["peer"]
    assert peer["uid"] == NOBODY and peer["gid"] == NOGROUP and peer["admin"] is False
    methods = set(got[0]["result"]["methods"])
    assert {"hello", "status", "topology", "config.get"} <= methods
    assert "config.reload" not in methods and "shutdown" not in methods
    check_error(got[1], -32001, id=2, contains="permission denied")
    check_error(got[2], -32001, id=3, contains="permission denied")
    assert got[3]["result"]["pus"] >= 1
    assert d.proc.poll() is None


def test_other_users_cannot_open_the_socket(daemon, nobody_ctl):
    # Without socket_group the socket is root's group: nobody cannot connect.
    d = daemon()
    p = nobody_ctl(d.sock, "status")
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert d.sock in p.stderr


def test_admin_group_makes_nobody_an_admin(daemon, nobody_ctl):
    d = daemon(socket_group="nogroup", admin_group="nogroup")
    got = nobody_python(daemon.tmp, d.sock, [{"jsonrpc": "2.0", "id": 1, "method": "hello"}])
    assert got[0]["result"]["peer"]["admin"] is True
    assert "config.reload" in got[0]["result"]["methods"]

    p = nobody_ctl(d.sock, "config", "reload")
    assert p.returncode == 0, p.stderr
    assert "reloaded" in p.stdout

    p = nobody_ctl(d.sock, "shutdown")
    assert p.returncode == 0, p.stderr
    assert d.wait_exit() == 0


def test_admin_group_applies_on_reload(daemon, nobody_ctl):
    d = daemon(socket_group="nogroup")
    p = nobody_ctl(d.sock, "config", "reload")
    assert p.returncode == 1 and "permission denied" in p.stderr

    d.write_config(admin_group="nogroup")
    d.kill(signal.SIGHUP)
    wait_for(lambda: d.result("config.get")["daemon"]["admin_group"] == "nogroup",
             what="the reload")
    p = nobody_ctl(d.sock, "config", "reload")
    assert p.returncode == 0, p.stderr

    # And taking it away again works too (root reloads this time).
    d.write_config(admin_group="")
    r = d.result("config.reload")
    assert "admin_group" in r["changed"]
    p = nobody_ctl(d.sock, "config", "reload")
    assert p.returncode == 1 and "permission denied" in p.stderr


def test_admin_group_as_a_supplementary_group(daemon, nobody_ctl):
    # Primary group elsewhere; nogroup only as a supplementary group
    # (SO_PEERGROUPS): it opens the socket and grants admin rights.
    d = daemon(socket_group="nogroup", admin_group="nogroup")
    path = os.path.join(daemon.tmp, "hwoptctl")
    argv = ["setpriv", "--reuid=nobody", "--regid=54321", "--groups=%d" % NOGROUP, path,
            "-s", d.sock]
    p = run(argv + ["--json", "version"])
    assert p.returncode == 0, p.stderr
    p = run(argv + ["config", "reload"])
    assert p.returncode == 0, p.stderr
    assert "reloaded" in p.stdout


def test_supplementary_group_is_not_admin_without_admin_group(daemon, nobody_ctl):
    d = daemon(socket_group="nogroup")
    path = os.path.join(daemon.tmp, "hwoptctl")
    argv = ["setpriv", "--reuid=nobody", "--regid=54321", "--groups=%d" % NOGROUP, path,
            "-s", d.sock]
    p = run(argv + ["status"])
    assert p.returncode == 0, p.stderr
    p = run(argv + ["shutdown"])
    assert p.returncode == 1 and "permission denied" in p.stderr
    assert d.proc.poll() is None


def test_the_daemons_own_user_is_an_admin(daemon, nobody_ctl):
    # hwoptd running as nobody: nobody is an admin (its own uid), root too,
    # another user of the socket's group is not.
    from conftest import HWOPTD
    binary = os.path.join(daemon.tmp, "hwoptd")
    shutil.copy(HWOPTD, binary)
    os.chmod(binary, 0o755)
    for sub in ("run", "state"):
        os.mkdir(os.path.join(daemon.tmp, sub), 0o750)
        os.chown(os.path.join(daemon.tmp, sub), NOBODY, NOGROUP)
    d = daemon(binary=binary, argv_prefix=AS_NOBODY)
    st = os.stat(d.sock)
    assert st.st_uid == NOBODY and st.st_gid == NOGROUP
    assert d.result("hello")["peer"]["admin"] is True  # root

    p = nobody_ctl(d.sock, "config", "reload")
    assert p.returncode == 0, p.stderr

    path = os.path.join(daemon.tmp, "hwoptctl")
    other = ["setpriv", "--reuid=54321", "--regid=nogroup", "--clear-groups", path, "-s", d.sock]
    p = run(other + ["status"])
    assert p.returncode == 0, p.stderr
    p = run(other + ["config", "reload"])
    assert p.returncode == 1 and "permission denied" in p.stderr

    p = nobody_ctl(d.sock, "shutdown")
    assert p.returncode == 0, p.stderr
    assert d.wait_exit() == 0
