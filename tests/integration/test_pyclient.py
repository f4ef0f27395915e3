"""The Python client (clients/python/hwopt) against a fake daemon.

No hwoptd runs here: a small fake server in a thread speaks the protocol
on a socketpair (or a temporary Unix socket), answers out of order on
request, and passes memfds with SCM_RIGHTS as the daemon does on
pool.create answers. The fake is deliberately independent of the client's
code (it decodes and encodes with struct/base64 itself).
"""

import base64
import json
import math
import os
import socket
import struct
import sys
import tempfile
import threading
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "clients", "python"))

import hwopt  # noqa: E402
from hwopt import tensors as hwt  # noqa: E402

try:
    import numpy as np
except ImportError:  # the no-numpy paths are still tested
    np = None
if not hwopt.have_numpy():  # HWOPT_NO_NUMPY=1: the client does without it
    np = None

needs_numpy = pytest.mark.skipif(np is None, reason="numpy is not installed")

PAGE = 4096
POOL_GREETING = b"hello from the fake daemon"


def fd_count():
    return len(os.listdir("/proc/self/fd"))


# --- the fake daemon -------------------------------------------------------------


class FakeDaemon(threading.Thread):
    """Serves one connection. Methods (besides the protocol's): test.echo,
    test.hold (answered only at the next test.release, in reverse order,
    after test.release's own answer), test.error, test.stray_fd (an answer
    carrying a descriptor nobody asked for), test.split (an answer sent in
    pieces), test.peek / test.poke (read / write a pool's memfd),
    test.refuse (an error with id null, then close)."""

    def __init__(self, sock, max_line_bytes=1 << 20):
        super().__init__(daemon=True)
        self.sock = sock
        self.max_line_bytes = max_line_bytes
        self.pools = {}      # id -> {"fd", "bytes", "next"}
        self.next_pool = 1
        self.next_job = 100
        self.held = []       # answers kept for test.release
        self.requests = []   # every request received
        self.error = None

    # transport

    def send_obj(self, obj, fds=None):
        line = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        if fds:
            n = socket.send_fds(self.sock, [line], fds)
            if n < len(line):
                self.sock.sendall(line[n:])
        else:
            self.sock.sendall(line)

    def result(self, rid, result, fds=None):
        self.send_obj({"jsonrpc": "2.0", "id": rid, "result": result}, fds)

    def error_answer(self, rid, code, message, data=None, fds=None):
        err = {"code": code, "message": message}
        if data is not None:
            err["data"] = data
        self.send_obj({"jsonrpc": "2.0", "id": rid, "error": err}, fds)

    def run(self):
        buf = b""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    req = json.loads(line)
                    self.requests.append(req)
                    if self.handle(req) == "close":
                        return
        except (OSError, ValueError) as e:  # the client went away, or a bug here
            self.error = e
        finally:
            for p in self.pools.values():
                os.close(p["fd"])
            self.pools.clear()
            self.sock.close()

    # methods

    def handle(self, req):
        rid, method, params = req.get("id"), req["method"], req.get("params", {})
        if method == "hello":
            self.result(rid, {"daemon": "hwoptd", "version": "0.1.0", "protocol": 1,
                              "protocol_compatible": True,
                              "capabilities": {"max_line_bytes": self.max_line_bytes,
                                               "pipelining": True, "batch": False}})
        elif method == "test.echo":
            self.result(rid, {"echo": params})
        elif method == "test.hold":
            self.held.append({"jsonrpc": "2.0", "id": rid, "result": {"tag": params.get("tag")}})
        elif method == "test.release":
            self.result(rid, {"released": len(self.held)})
            for obj in reversed(self.held):
                self.send_obj(obj)
            self.held = []
        elif method == "test.error":
            self.error_answer(rid, params["code"], params["message"], params.get("data"))
        elif method == "test.stray_fd":
            fd = os.memfd_create("stray")
            try:
                if params.get("as_error"):
                    self.error_answer(rid, -32603, "no memory", fds=[fd])
                else:
                    self.result(rid, {"stray": True}, fds=[fd])
            finally:
                os.close(fd)
        elif method == "test.split":
            line = json.dumps({"jsonrpc": "2.0", "id": rid, "result": {"split": params}}).encode() + b"\n"
            for i in range(0, len(line), 7):
                self.sock.sendall(line[i:i + 7])
                time.sleep(0.002)
        elif method == "test.refuse":
            self.error_answer(None, -32002, "too many connections", {"max_connections": 1})
            return "close"
        elif method == "test.peek":
            p = self.pools[params["pool"]]
            data = os.pread(p["fd"], params["bytes"], params["offset"])
            self.result(rid, {"data_b64": base64.b64encode(data).decode()})
        elif method == "test.poke":
            p = self.pools[params["pool"]]
            os.pwrite(p["fd"], base64.b64decode(params["data_b64"]), params["offset"])
            self.result(rid, {"poked": True})
        elif method == "pool.create":
            self.pool_create(rid, params)
        elif method == "pool.alloc":
            p = self.pools.get(params["pool"])
            if p is None:
                return self.error_answer(rid, -32003, "no pool %r" % params["pool"])
            n = (params["bytes"] + 63) // 64 * 64
            if p["next"] + n > p["bytes"]:
                return self.error_answer(rid, -32002, "pool full")
            self.result(rid, {"pool": params["pool"], "offset": p["next"], "bytes": n})
            p["next"] += n
        elif method == "pool.free":
            self.result(rid, {"pool": params["pool"], "offset": params["offset"], "freed": True})
        elif method == "pool.destroy":
            p = self.pools.pop(params["pool"], None)
            if p is None:
                return self.error_answer(rid, -32003, "no pool %r" % params["pool"])
            os.close(p["fd"])
            self.result(rid, {"pool": params["pool"], "destroyed": True, "deferred": False})
        elif method == "pool.list":
            self.result(rid, {"pools": [{"pool": k, "bytes": v["bytes"], "used": v["next"],
                                         "page_kind": "normal"} for k, v in self.pools.items()],
                              "quota": {"bytes": 1 << 30, "used": 0}})
        elif method == "model.load" and params["name"] == "example":
            self.result(rid, {"name": "example", "path": params["path"], "state": "ready",
                              "precision": params.get("precision", "fp32"),
                              "inputs": [{"name": "x", "dtype": "float", "shape": [-1, 4],
                                          "dim_names": ["batch", None]},
                                         {"name": "n", "dtype": "int64", "shape": [2]}],
                              "outputs": [{"name": "x_out", "dtype": "float", "shape": [-1, 4],
                                           "dim_names": ["batch", None]},
                                          {"name": "n_out", "dtype": "int64", "shape": [2]}]})
        elif method == "model.unload" and params["name"] == "example":
            self.result(rid, {"name": "example", "finished": 2, "cancelled": 0})
        elif method in ("model.load", "model.unload", "job.list", "job.cancel", "model.list"):
            self.result(rid, {"method": method, "params": params, "models": [], "jobs": []})
        elif method == "infer":
            self.infer(rid, params)
        else:
            self.error_answer(rid, -32601, "no such method: %s" % method)

    def pool_create(self, rid, params):
        if params.get("hugepages") == "on":
            return self.error_answer(rid, -32603, "no huge pages reserved")
        size = (params["bytes"] + PAGE - 1) // PAGE * PAGE
        fd = os.memfd_create("fake-pool")
        os.ftruncate(fd, size)
        pid = self.next_pool
        self.next_pool += 1
        os.pwrite(fd, POOL_GREETING + b" %d" % pid, 0)
        # Blocks start at 256 so the greeting stays readable.
        self.pools[pid] = {"fd": fd, "bytes": size, "next": 256}
        self.result(rid, {"pool": pid, "bytes": size, "page_kind": "normal", "page_size": PAGE,
                          "numa_node": params.get("numa_node", -1), "fd": "scm_rights"}, fds=[fd])

    def infer(self, rid, params):
        """Model "echo": output NAME_out is input NAME (its bytes), inline in
        the request's encoding or into the POOLREF given for NAME_out.
        Model "hold": held until test.release."""
        self.next_job += 1
        outputs = {}
        for name, t in params["inputs"].items():
            size = {"float": 4, "double": 8, "int64": 8, "uint64": 8, "int32": 4, "uint32": 4,
                    "float16": 2, "bfloat16": 2, "int16": 2, "uint16": 2}.get(t["dtype"], 1)
            count = 1
            for d in t["shape"]:
                count *= d
            if "pool" in t:
                raw = os.pread(self.pools[t["pool"]]["fd"], count * size, t["offset"])
                inline = {"dtype": t["dtype"], "shape": t["shape"],
                          "data_b64": base64.b64encode(raw).decode()}
            else:
                inline = dict(t)
                raw = base64.b64decode(t["data_b64"]) if "data_b64" in t else None
            ref = params.get("outputs", {}).get(name + "_out")
            if ref is not None:
                os.pwrite(self.pools[ref["pool"]]["fd"], raw, ref["offset"])
                outputs[name + "_out"] = {"pool": ref["pool"], "offset": ref["offset"],
                                          "bytes": len(raw), "dtype": t["dtype"], "shape": t["shape"]}
            else:
                outputs[name + "_out"] = inline
        answer = {"jsonrpc": "2.0", "id": rid, "result": {
            "job": self.next_job, "model": params["model"], "outputs": outputs,
            "timings": {"queue_us": 5, "compute_us": 10, "total_us": 20},
            "workers": [0, 1], "batch": {"requests": 1, "rows": 1}}}
        if params["model"] == "hold":
            self.held.append(answer)
        elif params["model"] == "missing":
            self.error_answer(rid, -32003, "no model 'missing'")
        else:
            self.send_obj(answer)


@pytest.fixture
def fake():
    """(client, fake daemon) on a socketpair; both closed at teardown."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    server = FakeDaemon(b)
    server.start()
    client = hwopt.Client(a, timeout=10.0)
    yield client, server
    client.close()
    server.join(10)
    assert not server.is_alive()


@pytest.fixture
def no_numpy(monkeypatch):
    """Runs the test as if numpy were not installed."""
    monkeypatch.setattr(hwt, "np", None)
    assert not hwopt.have_numpy()


# --- socket path and connecting ---------------------------------------------------


def test_default_socket_path_rules(monkeypatch):
    monkeypatch.setenv("HWOPT_SOCKET", "/somewhere/else.sock")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert hwopt.default_socket_path() == "/somewhere/else.sock"

    monkeypatch.setenv("HWOPT_SOCKET", "")  # empty counts as unset, as in hwoptctl
    assert hwopt.default_socket_path() == "/run/hwoptd/hwoptd.sock"

    monkeypatch.delenv("HWOPT_SOCKET")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    assert hwopt.default_socket_path() == "/run/hwoptd/hwoptd.sock"  # root ignores XDG

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert hwopt.default_socket_path() == "/run/user/1000/hwoptd/hwoptd.sock"

    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert hwopt.default_socket_path() == "/tmp/hwoptd-1000/hwoptd.sock"
    monkeypatch.setenv("XDG_RUNTIME_DIR", "")
    assert hwopt.default_socket_path() == "/tmp/hwoptd-1000/hwoptd.sock"


@pytest.fixture
def socket_server():
    """A temporary Unix socket served by FakeDaemons (one per connection);
    yields its path."""
    d = tempfile.mkdtemp(prefix="hwopt-py-")
    path = os.path.join(d, "fake.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    servers = []

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            s = FakeDaemon(conn)
            servers.append(s)
            s.start()

    threading.Thread(target=accept, daemon=True).start()
    yield path
    listener.shutdown(socket.SHUT_RDWR)
    listener.close()
    for s in servers:
        s.join(10)
    os.unlink(path)
    os.rmdir(d)


def test_connect_uses_hwopt_socket(monkeypatch, socket_server):
    monkeypatch.setenv("HWOPT_SOCKET", socket_server)
    with hwopt.connect(timeout=10) as c:
        assert c.path == socket_server
        info = c.hello()
        assert info["daemon"] == "hwoptd" and c.server is info
        assert c.call("test.echo", x=1) == {"echo": {"x": 1}}
    assert c.closed
    with pytest.raises(hwopt.ConnectionClosed):
        c.call("test.echo")
    with pytest.raises(hwopt.ConnectionClosed):
        c.wait(1)


@pytest.mark.parametrize("numpy_on", [True, False])
def test_example_script_runs(socket_server, numpy_on):
    import subprocess
    env = dict(os.environ, HWOPT_SOCKET=socket_server)
    if not numpy_on:
        env["HWOPT_NO_NUMPY"] = "1"
    elif np is None:
        pytest.skip("numpy is not installed")
    p = subprocess.run([sys.executable, os.path.join(REPO, "clients", "python", "examples", "infer.py"),
                        "/models/example.onnx", "--dim", "batch=3"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    assert "loaded example" in out and "inline: job" in out and "pool: job" in out
    assert "x_out float [3, 4]" in out and "unloaded:" in out
    if numpy_on:
        assert "max |diff| vs inline: 0)" in out


def test_connect_missing_socket_names_the_path():
    with pytest.raises(FileNotFoundError) as ei:
        hwopt.connect("/nonexistent/hwoptd.sock", timeout=1)
    assert "/nonexistent/hwoptd.sock" in str(ei.value)


# --- calls, errors, pipelining --------------------------------------------------------


def test_call_and_request_format(fake):
    c, server = fake
    assert c.call("test.echo", a=1, b="x") == {"echo": {"a": 1, "b": "x"}}
    assert c.call("test.echo") == {"echo": {}}
    req = server.requests[0]
    assert req["jsonrpc"] == "2.0" and isinstance(req["id"], int) and req["method"] == "test.echo"
    assert "params" not in server.requests[1]  # absent rather than {}
    c.notify("test.echo", quiet=True)  # no id: no answer expected
    assert c.call("test.echo", n=2) == {"echo": {"n": 2}}
    assert "id" not in server.requests[2]


ERROR_TABLE = [(-32700, "parse_error"), (-32600, "invalid_request"), (-32601, "method_not_found"),
               (-32602, "invalid_params"), (-32603, "internal_error"), (-32001, "permission_denied"),
               (-32002, "resource_exhausted"), (-32003, "not_found"), (-32004, "deadline_exceeded"),
               (-32005, "cancelled"), (-32006, "unsupported"), (-32007, "invalid_model"),
               (-32008, "shutting_down"), (-32009, "bad_config")]


def test_rpc_error_fields_and_names(fake):
    c, _ = fake
    for code, name in ERROR_TABLE:
        rid = c.send("test.error", code=code, message="it failed: %s" % name, data={"k": code})
        with pytest.raises(hwopt.RPCError) as ei:
            c.wait(rid)
        e = ei.value
        assert (e.code, e.name, e.message, e.data, e.request_id) == \
            (code, name, "it failed: %s" % name, {"k": code}, rid)
        assert name in str(e) and str(code) in str(e)
        assert hwopt.ERROR_CODES[name] == code
    with pytest.raises(hwopt.RPCError) as ei:
        c.call("test.error", code=-31999, message="new")
    assert ei.value.name == "unknown" and ei.value.data is None
    with pytest.raises(hwopt.RPCError) as ei:
        c.call("no.such.method")
    assert ei.value.name == "method_not_found"
    # The connection is still usable after errors.
    assert c.call("test.echo", ok=True) == {"echo": {"ok": True}}


def test_pipelined_answers_out_of_order(fake):
    c, _ = fake
    ids = [c.send("test.hold", tag=i) for i in range(5)]
    release = c.send("test.release")
    # Waiting for the first request makes the client read (and buffer) the
    # answers that arrive before it: release's, then 4, 3, 2, 1.
    assert c.wait(ids[0]) == {"tag": 0}
    assert all(c.ready(i) for i in ids[1:]) and c.ready(release)
    assert c.wait(release) == {"released": 5}
    for i, rid in reversed(list(enumerate(ids[1:], 1))):
        assert c.wait(rid) == {"tag": i}
    with pytest.raises(KeyError):
        c.wait(ids[0])  # consumed


def test_as_completed_and_wait_any(fake):
    c, _ = fake
    ids = [c.send("test.hold", tag=i) for i in range(3)]
    release = c.send("test.release")
    order = list(c.as_completed(ids + [release]))
    assert order[0] == release and sorted(order) == sorted(ids + [release])
    assert [c.wait(i)["tag"] for i in ids] == [0, 1, 2]
    c.wait(release)
    rid = c.send("test.echo", x=1)
    assert c.wait_any([rid]) == rid and c.wait(rid) == {"echo": {"x": 1}}


def test_wait_timeout_then_answer(fake):
    c, _ = fake
    rid = c.send("test.hold", tag="late")
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        c.wait(rid, timeout=0.2)
    assert time.monotonic() - t0 < 5
    c.call("test.release")
    assert c.wait(rid) == {"tag": "late"}  # still delivered after the timeout


def test_answer_in_pieces(fake):
    c, _ = fake
    big = "x" * 3000
    assert c.call("test.split", s=big) == {"split": {"s": big}}


def test_threads_share_a_client(fake):
    c, _ = fake
    results, errors = {}, []

    def worker(i):
        try:
            results[i] = c.call("test.hold", tag=i, _timeout=10)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(c._methods) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    c.call("test.release")
    for t in threads:
        t.join(10)
    assert not errors
    assert results == {i: {"tag": i} for i in range(4)}


def test_refused_connection_reports_the_error(fake):
    c, _ = fake
    with pytest.raises(hwopt.ConnectionClosed) as ei:
        c.call("test.refuse")
    assert isinstance(ei.value.error, hwopt.RPCError)
    assert ei.value.error.name == "resource_exhausted"
    assert ei.value.error.data == {"max_connections": 1}
    with pytest.raises(hwopt.ConnectionClosed):
        c.call("test.echo")


def test_max_line_bytes_checked_before_sending(fake):
    c, server = fake
    server.max_line_bytes = 1000
    c.hello()
    assert c.max_line_bytes == 1000
    with pytest.raises(ValueError, match="max_line_bytes"):
        c.call("test.echo", blob="y" * 2000)
    assert c.call("test.echo", blob="y" * 10) == {"echo": {"blob": "y" * 10}}


def test_nan_in_params_is_refused_locally(fake):
    c, _ = fake
    with pytest.raises(ValueError):
        c.send("test.echo", x=float("nan"))


# --- descriptors and pools -----------------------------------------------------------


def test_pool_create_maps_the_memfd(fake):
    c, server = fake
    with c.create_pool(10000) as pool:
        assert pool.size == 3 * PAGE and pool.page_kind == "normal" and pool.page_size == PAGE
        assert isinstance(pool.fd, int) and os.fstat(pool.fd).st_size == pool.size
        greeting = POOL_GREETING + b" %d" % pool.id
        assert pool.mmap[:len(greeting)] == greeting  # bytes the fake daemon wrote
        assert server.requests[-1]["params"] == {"bytes": 10000, "hugepages": "auto", "numa_node": -1}

        block = pool.alloc(100)
        assert (block.offset, block.size) == (256, 128)
        assert block.write(b"client bytes") == 12
        peek = c.call("test.peek", pool=pool.id, offset=block.offset, bytes=12)
        assert base64.b64decode(peek["data_b64"]) == b"client bytes"  # daemon sees ours
        c.call("test.poke", pool=pool.id, offset=block.offset,
               data_b64=base64.b64encode(b"daemon bytes").decode())
        assert block.read()[:12] == b"daemon bytes"  # we see the daemon's

        ref = block.ref("float", [4, 8])
        assert ref == {"pool": pool.id, "offset": 256, "dtype": "float", "shape": [4, 8]}
        with pytest.raises(ValueError):
            block.ref("float", [4, 9])  # 144 bytes do not fit in 128
        assert block.out_ref() == {"pool": pool.id, "offset": 256}
        assert block.out_ref(64) == {"pool": pool.id, "offset": 256, "bytes": 64}
        assert pool.free(block)["freed"] is True
        assert pool.stats()["pool"] == pool.id
        assert c.pools().quota == {"bytes": 1 << 30, "used": 0}
        fd = pool.fd
    assert pool.closed
    with pytest.raises(OSError):
        os.fstat(fd)  # destroy() closed the descriptor
    assert server.requests[-1]["method"] == "pool.destroy"


def test_two_pipelined_pool_creates_get_their_own_memfds(fake):
    c, _ = fake
    echo = c.send("test.echo", before=True)
    first = c.send("pool.create", bytes=PAGE)
    second = c.send("pool.create", bytes=2 * PAGE)
    after = c.send("test.echo", after=True)
    r2 = c.wait(second)  # reads everything, the first pool's answer too
    r1 = c.wait(first)
    try:
        for r, size in ((r1, PAGE), (r2, 2 * PAGE)):
            assert isinstance(r["fd"], int)  # the descriptor replaces "scm_rights"
            assert os.fstat(r["fd"]).st_size == size
            assert os.pread(r["fd"], 64, 0).startswith(POOL_GREETING + b" %d" % r["pool"])
    finally:
        os.close(r1["fd"])
        os.close(r2["fd"])
    assert c.wait(echo) == {"echo": {"before": True}}
    assert c.wait(after) == {"echo": {"after": True}}


def test_pool_create_error_has_no_descriptor(fake):
    c, _ = fake
    with pytest.raises(hwopt.RPCError) as ei:
        c.create_pool(PAGE, hugepages="on")
    assert ei.value.name == "internal_error"


def test_unclaimed_descriptors_are_closed(fake):
    c, server = fake
    assert c.call("test.echo") == {"echo": {}}
    before = fd_count()
    for _ in range(5):
        assert c.call("test.stray_fd") == {"stray": True}
        with pytest.raises(hwopt.RPCError):
            c.call("test.stray_fd", as_error=True)
    ids = [c.send("test.stray_fd") for _ in range(5)] + [c.send("test.echo")]
    for rid in ids:
        c.wait(rid)
    # A pool.create answer nobody waits for: its descriptor goes with forget().
    rid = c.send("pool.create", bytes=PAGE)
    c.call("test.echo")  # its answer is buffered by now
    assert c.ready(rid)
    assert fd_count() == before + 2  # the client's descriptor, and the fake's own copy
    c.forget(rid)
    c.call("pool.destroy", pool=1)
    assert fd_count() == before
    assert not server.error


def test_descriptors_of_unread_answers_close_with_the_client():
    before = fd_count()
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    server = FakeDaemon(b)
    server.start()
    c = hwopt.Client(a, timeout=10)
    pool = c.create_pool(PAGE)
    rid = c.send("pool.create", bytes=PAGE)
    c.call("test.echo")
    assert c.ready(rid)
    c.close()  # the buffered answer's descriptor is closed; the fake closes its memfds
    server.join(10)
    # Only the Pool still holds descriptors: its fd, and the duplicate that
    # Python's mmap keeps for its mapping.
    assert fd_count() == before + 2
    pool.destroy()  # connection gone: releases locally
    assert fd_count() == before


def test_descriptors_follow_the_line_that_starts_with_them():
    """The reader's rule, fed chunk by chunk (what one recvmsg returns): a
    chunk's descriptors go to the lines whose first byte is in that chunk,
    to those that want one, in order; the rest are closed."""
    from hwopt.transport import LineReader

    def memfds(n):
        return [os.memfd_create("t") for _ in range(n)]

    def is_open(fd):
        try:
            os.fstat(fd)
            return True
        except OSError:
            return False

    def wants(msg):
        return isinstance(msg.get("result"), dict) and msg["result"].get("fd") == "scm_rights"

    pool = b'{"id":%d,"result":{"fd":"scm_rights"}}\n'
    plain = b'{"id":%d,"result":{}}\n'
    r = LineReader(None, wants)
    # Two lines start in the chunk; the pool answer (second) takes the descriptor.
    fds = memfds(1)
    out = r._feed(plain % 1 + pool % 2, fds)
    assert [(m["id"], fd) for m, fd in out] == [(1, None), (2, fds[0])]
    os.close(fds[0])
    # A pool answer split over chunks keeps the descriptor of its first chunk.
    fds = memfds(1)
    line = pool % 3
    assert r._feed(line[:5], fds) == []
    out = r._feed(line[5:] + plain % 4, [])
    assert [(m["id"], fd) for m, fd in out] == [(3, fds[0]), (4, None)]
    os.close(fds[0])
    # Descriptors on a chunk where no line starts cannot be claimed: closed.
    fds = memfds(1)
    assert r._feed(b'{"id":5,"res', []) == []
    assert r._feed(b'ult":{"fd":"scm_rights"}}\n', fds) == [({"id": 5, "result": {"fd": "scm_rights"}}, None)]
    assert not is_open(fds[0])
    # Two descriptors, one claimant: the extra is closed once the chunk's lines are parsed.
    fds = memfds(2)
    out = r._feed(pool % 6 + plain % 7, fds)
    assert [(m["id"], fd) for m, fd in out] == [(6, fds[0]), (7, None)]
    assert is_open(fds[0]) and not is_open(fds[1])
    os.close(fds[0])
    # ...but not before: a line still incomplete may claim it later.
    fds = memfds(1)
    out = r._feed(plain % 8 + (pool % 9)[:4], fds)
    assert [(m["id"], fd) for m, fd in out] == [(8, None)] and is_open(fds[0])
    out = r._feed((pool % 9)[4:], [])
    assert out == [({"id": 9, "result": {"fd": "scm_rights"}}, fds[0])]
    os.close(fds[0])
    # An unfinished line at the end of the stream drops its descriptors.
    fds = memfds(1)
    r._feed((pool % 10)[:6], fds)
    r.close()
    assert not is_open(fds[0])
    # Blank lines and \r\n are accepted; a line that is not JSON is reported.
    r = LineReader(None, wants)
    out = r._feed(b'\n\r\n{"id":1,"result":2}\r\nnot json\n', [])
    assert out[0] == ({"id": 1, "result": 2}, None)
    assert isinstance(out[1][0], hwopt.ProtocolError) and len(out) == 2


def test_dropped_client_closes_buffered_descriptors():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    server = FakeDaemon(b)
    server.start()
    c = hwopt.Client(a, timeout=10)
    c.call("test.echo")
    before = fd_count()
    rid = c.send("pool.create", bytes=PAGE)
    c.call("test.echo")
    assert c.ready(rid) and fd_count() == before + 2  # ours, and the fake's copy
    del c  # no close(): the finalizer closes the buffered descriptor
    import gc
    gc.collect()
    assert fd_count() == before + 1
    a.close()
    server.join(10)


# --- inference -------------------------------------------------------------------------


@needs_numpy
def test_infer_inline_and_through_a_pool(fake):
    c, server = fake
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    r = c.infer("echo", {"x": x}, priority="interactive", deadline_ms=50)
    sent = server.requests[-1]["params"]
    assert sent["inputs"]["x"] == {"dtype": "float", "shape": [3, 4],
                                   "data_b64": base64.b64encode(x.tobytes()).decode()}
    assert sent["priority"] == "interactive" and sent["deadline_ms"] == 50
    assert "outputs" not in sent and "batchable" not in sent and "encoding" not in sent
    assert isinstance(r, hwopt.InferResult)
    np.testing.assert_array_equal(r.outputs["x_out"], x)
    assert r["x_out"].dtype == np.float32
    assert r.timings == {"queue_us": 5, "compute_us": 10, "total_us": 20}
    assert r.workers == [0, 1] and r.batch == {"requests": 1, "rows": 1}
    assert r.job == r.raw["job"] and r.model == "echo"

    with c.create_pool(64 * 1024) as pool:
        bin_, bout = pool.alloc(x.nbytes), pool.alloc(x.nbytes)
        bin_.view("float", [3, 4])[...] = x * 2  # fill in place
        r = c.infer("echo", {"x": bin_.ref("float", [3, 4])}, outputs={"x_out": bout})
        sent = server.requests[-1]["params"]
        assert sent["outputs"] == {"x_out": {"pool": pool.id, "offset": bout.offset}}
        np.testing.assert_array_equal(r.outputs["x_out"], x * 2)  # read back from the pool
        np.testing.assert_array_equal(bout.view("float", [3, 4]), x * 2)
        np.testing.assert_array_equal(bout.read("float", [3, 4]), x * 2)
        # A POOLREF dict works too: the client finds the pool it mapped.
        bout.write(np.zeros(12, np.float32))
        r = c.infer("echo", {"x": bin_.ref("float", [3, 4])}, outputs={"x_out": bout.out_ref()})
        np.testing.assert_array_equal(r.outputs["x_out"], x * 2)
        del r
    with pytest.raises(hwopt.RPCError) as ei:
        c.infer("missing", {"x": x})
    assert ei.value.name == "not_found"


@needs_numpy
def test_infer_async_out_of_order(fake):
    c, _ = fake
    held = c.infer_async("hold", {"a": np.ones(2, np.int64)})
    quick = c.infer_async("echo", {"b": np.full(3, 7, np.uint8)})
    np.testing.assert_array_equal(c.infer_result(quick).outputs["b_out"], [7, 7, 7])
    c.call("test.release")
    r = c.infer_result(held)
    assert r.request_id == held
    np.testing.assert_array_equal(r["a_out"], [1, 1])


def test_infer_without_numpy(fake, no_numpy):
    c, server = fake
    t = hwopt.Tensor.from_list([[1.5, -2.0], [float("inf"), 0.25]], "float")
    r = c.infer("echo", {"x": t, "y": hwopt.tensor([1, 2, 3], dtype="int32", encoding="list")})
    out = r.outputs["x_out"]
    assert isinstance(out, hwopt.Tensor) and out == t
    assert out.tolist() == [1.5, -2.0, math.inf, 0.25]
    assert r.outputs["y_out"].tolist() == [1, 2, 3]
    assert server.requests[-1]["params"]["inputs"]["y"]["data"] == [1, 2, 3]
    with c.create_pool(PAGE) as pool:
        bi, bo = pool.alloc(16), pool.alloc(16)
        assert bi.write(t) == 16
        r = c.infer("echo", {"x": bi.ref("float", [2, 2])}, outputs={"x_out": bo})
        assert r.outputs["x_out"] == t
        assert bo.read("float", [2, 2]) == t
        with pytest.raises(RuntimeError):
            bo.view("float", [2, 2])
    with pytest.raises(TypeError):
        c.infer("echo", {"x": [1.0, 2.0]})  # a bare list has no dtype


# --- other methods ----------------------------------------------------------------------


def test_model_job_methods_send_explicit_params(fake):
    c, server = fake
    r = c.load_model("m", "rel/model.onnx", keep_fp32="Softmax", max_batch=8)
    assert r["params"] == {"name": "m", "path": os.path.abspath("rel/model.onnx"),
                           "precision": "fp32", "keep_fp32": ["Softmax"], "max_batch": 8}
    assert c.unload_model("m")["params"] == {"name": "m"}
    assert c.unload_model("m", grace_ms=0)["params"] == {"name": "m", "grace_ms": 0}
    assert c.models() == []
    assert "params" not in server.requests[-1]
    c.models("m")
    assert server.requests[-1]["params"] == {"name": "m"}
    assert c.jobs(all=False) == []
    assert server.requests[-1]["params"] == {"all": False}
    assert c.cancel(job=7)["params"] == {"job": 7}
    assert c.cancel(request_id=3)["params"] == {"request_id": 3}
    with pytest.raises(ValueError):
        c.cancel()
    with pytest.raises(ValueError):
        c.cancel(job=1, request_id=2)


# --- tensors ------------------------------------------------------------------------------


SAMPLES = {
    "float": [0.0, -1.5, 3.4028234663852886e38, 2.0 ** -149, float("nan"), float("inf"), -float("inf")],
    "double": [0.0, -1.5, 1e308, 5e-324, float("nan"), float("inf"), -float("inf")],
    "float16": [0.0, -1.5, 65504.0, 2.0 ** -24, float("nan"), float("inf"), -float("inf")],
    "bfloat16": [0.0, -1.5, 3.3895313892515355e38, 1.0, float("nan"), float("inf"), -float("inf")],
    "uint8": [0, 1, 127, 255, 3, 4, 5],
    "int8": [0, -128, 127, -1, 3, 4, 5],
    "uint16": [0, 65535, 1, 2, 3, 4, 5],
    "int16": [-32768, 32767, 0, -1, 3, 4, 5],
    "int32": [-2 ** 31, 2 ** 31 - 1, 0, -1, 3, 4, 5],
    "uint32": [0, 2 ** 32 - 1, 1, 2, 3, 4, 5],
    "int64": [-2 ** 63, 2 ** 63 - 1, 0, -1, 2 ** 53 + 1, 4, 5],
    "uint64": [0, 2 ** 64 - 1, 1, 2 ** 53 + 1, 3, 4, 5],
    "bool": [True, False, True, True, False, False, True],
}
NP_TYPES = {"float": "float32", "double": "float64", "float16": "float16", "uint8": "uint8",
            "int8": "int8", "uint16": "uint16", "int16": "int16", "int32": "int32",
            "uint32": "uint32", "int64": "int64", "uint64": "uint64", "bool": "bool"}


def _reference_bytes(dtype, values):
    """Little-endian bytes computed without the client's code."""
    if dtype == "bfloat16":
        return b"".join(struct.pack("<H", struct.unpack("<I", struct.pack("<f", v))[0] >> 16)
                        for v in values)
    fmt = {"float": "f", "double": "d", "float16": "e", "uint8": "B", "int8": "b",
           "uint16": "H", "int16": "h", "int32": "i", "uint32": "I", "int64": "q",
           "uint64": "Q", "bool": "?"}[dtype]
    return struct.pack("<%d%s" % (len(values), fmt), *values)


def _wire(obj):
    """Through JSON as the daemon would see it (no bare NaN/Infinity)."""
    return json.loads(json.dumps(obj, allow_nan=False))


def _same_values(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if isinstance(x, float) and math.isnan(x):
            assert isinstance(y, float) and math.isnan(y)
        else:
            assert x == y and type(x) is type(y)


@pytest.mark.parametrize("encoding", ["base64", "list"])
@pytest.mark.parametrize("dtype", sorted(SAMPLES))
def test_tensor_round_trip_without_numpy(dtype, encoding, no_numpy):
    values = SAMPLES[dtype]
    t = hwopt.Tensor.from_list(values, dtype, [1, 7])
    assert t.data == _reference_bytes(dtype, values)
    obj = _wire(hwopt.tensor(t, encoding=encoding))
    assert obj["dtype"] == dtype and obj["shape"] == [1, 7]
    if encoding == "base64":
        assert base64.b64decode(obj["data_b64"]) == t.data
    else:
        assert len(obj["data"]) == 7
        if dtype in ("float", "double", "float16", "bfloat16"):
            assert obj["data"][4:] == ["NaN", "Infinity", "-Infinity"]
    back = hwopt.decode(obj)
    assert isinstance(back, hwopt.Tensor) and back == t
    _same_values(back.tolist(), values)
    assert bytes(back) == t.data and back.nbytes == 7 * hwt.itemsize(dtype) and back.size == 7
    # Raw bytes in, with the dtype and shape spelled out.
    assert hwopt.decode(hwopt.tensor(t.data, dtype=dtype, shape=[7, 1])).data == t.data


@needs_numpy
@pytest.mark.parametrize("encoding", ["base64", "list"])
@pytest.mark.parametrize("dtype", sorted(SAMPLES))
def test_tensor_round_trip_with_numpy(dtype, encoding):
    values = SAMPLES[dtype]
    if dtype == "bfloat16":
        arr = np.array(values, dtype=np.float32).reshape(7, 1)
        obj = _wire(hwopt.tensor(arr, dtype="bfloat16", encoding=encoding))
        want = arr  # every sample is exact in bfloat16
    else:
        arr = np.array(values, dtype=NP_TYPES[dtype]).reshape(7, 1)
        obj = _wire(hwopt.tensor(arr, encoding=encoding))
        want = arr
    assert obj["dtype"] == dtype and obj["shape"] == [7, 1]
    if encoding == "base64":
        assert base64.b64decode(obj["data_b64"]) == _reference_bytes(dtype, values)
    back = hwopt.decode(obj)
    assert isinstance(back, np.ndarray) and back.shape == (7, 1)
    assert back.dtype == (np.float32 if dtype == "bfloat16" else want.dtype)
    np.testing.assert_array_equal(back, want)  # NaN equals NaN here
    back[0, 0] = back[1, 0]  # decoded arrays are writable copies
    # Both paths agree byte for byte.
    hwt_np = hwt.np
    try:
        hwt.np = None
        plain = hwopt.decode(obj)
    finally:
        hwt.np = hwt_np
    assert plain.data == _reference_bytes(dtype, values)


def test_decode_special_floats_and_bools(no_numpy):
    t = hwopt.decode({"dtype": "float", "shape": [4], "data": ["NaN", "Infinity", "-Infinity", 2]})
    v = t.tolist()
    assert math.isnan(v[0]) and v[1:] == [math.inf, -math.inf, 2.0]
    b = hwopt.decode({"dtype": "bool", "shape": [2, 2], "data": [True, False, 0, 1]})
    assert b.tolist() == [True, False, False, True] and b.data == b"\x01\x00\x00\x01"
    s = hwopt.decode({"dtype": "float32", "shape": [], "data": [1.0]})  # alias; a scalar
    assert s.dtype == "float" and s.shape == [] and s.tolist() == [1.0]
    assert hwopt.decode({"dtype": "int8", "shape": [0, 3], "data_b64": ""}).data == b""


@needs_numpy
def test_decode_special_floats_with_numpy():
    a = hwopt.decode({"dtype": "double", "shape": [3], "data": ["NaN", "Infinity", "-Infinity"]})
    assert a.dtype == np.float64 and np.isnan(a[0]) and a[1] == np.inf and a[2] == -np.inf
    b = hwopt.decode({"dtype": "bool", "shape": [3], "data": [True, 0, 1]})
    assert b.dtype == np.bool_ and b.tolist() == [True, False, True]
    s = hwopt.decode({"dtype": "int64", "shape": [], "data": [-5]})
    assert s.shape == () and s == -5


@pytest.mark.parametrize("obj", [
    {"dtype": "float", "shape": [2], "data": [1.0]},                      # too few values
    {"dtype": "float", "shape": [2], "data": [1.0, "nan"]},               # not "NaN"
    {"dtype": "bool", "shape": [1], "data": [2]},
    {"dtype": "uint8", "shape": [1], "data": [256]},
    {"dtype": "int8", "shape": [1], "data": [1.5]},
    {"dtype": "float", "shape": [1], "data_b64": "AAAA"},                 # 3 bytes
    {"dtype": "float", "shape": [1], "data_b64": "AAAAAA"},               # bad padding
    {"dtype": "float", "shape": [1], "data_b64": "AA*AAA=="},
    {"dtype": "complex", "shape": [1], "data": [1]},
    {"dtype": "float", "shape": [-1], "data": []},
    {"dtype": "float", "shape": [1]},
])
def test_decode_refuses_malformed_tensors(obj):
    with pytest.raises(ValueError):
        hwopt.decode(obj)


@needs_numpy
def test_tensor_from_numpy_conversions():
    be = np.arange(4, dtype=">i4")  # big-endian: sent little-endian
    assert base64.b64decode(hwopt.tensor(be)["data_b64"]) == struct.pack("<4i", 0, 1, 2, 3)
    nc = np.arange(12, dtype=np.int16).reshape(3, 4)[:, ::2]  # not contiguous
    obj = hwopt.tensor(nc)
    assert obj["shape"] == [3, 2]
    np.testing.assert_array_equal(hwopt.decode(obj), nc)
    assert hwopt.tensor(np.arange(3), dtype="float")["dtype"] == "float"   # converted
    assert hwopt.tensor(np.zeros(2, np.float32), dtype=np.float32)["dtype"] == "float"
    assert hwopt.tensor(np.float64(2.5))["shape"] == []
    assert hwopt.tensor(np.zeros((2, 3), np.uint8), shape=[6])["shape"] == [6]
    bits = np.array([0x3F80, 0x7FC0], dtype=np.uint16)  # uint16 taken as bfloat16 bits
    back = hwopt.decode(hwopt.tensor(bits, dtype="bfloat16"))
    assert back[0] == 1.0 and np.isnan(back[1])
    rounded = hwopt.decode(hwopt.tensor(np.array([1.00390625 + 1e-6], np.float32), dtype="bfloat16"))
    assert rounded[0] == np.float32(1.0078125)  # nearest, not truncated
    with pytest.raises(ValueError):
        hwopt.tensor(np.zeros(2, np.complex64))
    with pytest.raises(ValueError):
        hwopt.tensor(np.zeros(6, np.float32), shape=[4])


def test_tensor_from_python_values(no_numpy):
    assert hwopt.tensor([[1, 2], [3, 4]], dtype="uint16", encoding="list") == \
        {"dtype": "uint16", "shape": [2, 2], "data": [1, 2, 3, 4]}
    assert hwopt.tensor([1, 2, 3, 4], dtype="int8", shape=[2, 2])["shape"] == [2, 2]
    assert hwopt.tensor(2.5, dtype="double", encoding="list") == \
        {"dtype": "double", "shape": [], "data": [2.5]}
    assert hwopt.tensor([1, 0], dtype="bool", encoding="list")["data"] == [True, False]
    assert hwopt.tensor(["NaN", 1], dtype="float", encoding="list")["data"] == ["NaN", 1.0]
    with pytest.raises(ValueError):
        hwopt.tensor([1, 2, 3], dtype="int8", shape=[2, 2])
    with pytest.raises(ValueError):
        hwopt.tensor([1, 2], dtype=None)
    with pytest.raises(ValueError):
        hwopt.tensor(b"\x00\x00\x00", dtype="float")
    with pytest.raises(ValueError):
        hwopt.tensor([1], dtype="float", encoding="json")
    with pytest.raises(ValueError):
        hwopt.Tensor("float", [2], b"\x00" * 4)
