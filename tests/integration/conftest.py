"""Shared fixtures for hwoptd's integration tests.

Every test starts its own hwoptd in a fresh temporary directory (0755 so
that user nobody can reach the socket), talks to it over the Unix socket
(raw, with the small Client below) or through hwoptctl, and on teardown
stops it with SIGTERM and checks that it exited 0 without sanitizer
reports.

Environment: HWOPTD, HWOPTCTL (binaries; default <repo>/bin/...),
HWOPT_SRCDIR (the repository; default two directories up),
HWOPT_SANITIZE ("" or e.g. "address,undefined": slower, so waits are
longer; no test asserts on timing).
"""

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

REPO = os.path.abspath(os.environ.get("HWOPT_SRCDIR") or
                       os.path.join(os.path.dirname(__file__), "..", ".."))
HWOPTD = os.environ.get("HWOPTD") or os.path.join(REPO, "bin", "hwoptd")
HWOPTCTL = os.environ.get("HWOPTCTL") or os.path.join(REPO, "bin", "hwoptctl")
SANITIZE = os.environ.get("HWOPT_SANITIZE", "")

# Generous waits: sanitizer builds are several times slower. They bound how
# long a test waits for something that should happen, never what it asserts.
SLOW = 3.0 if SANITIZE else 1.0
READY_TIMEOUT = 20.0
IO_TIMEOUT = 20.0 * SLOW
EXIT_TIMEOUT = 30.0 * SLOW

SANITIZER_MARKS = ("AddressSanitizer", "runtime error", "LeakSanitizer",
                   "UndefinedBehaviorSanitizer", "ThreadSanitizer")

# Variables that would make a daemon think it runs under systemd.
_SYSTEMD_VARS = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS",
                 "LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM", "HWOPT_SOCKET")


def version():
    with open(os.path.join(REPO, "VERSION")) as f:
        return f.read().strip()


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in _SYSTEMD_VARS}
    env.pop("HWK_ISA", None)  # tests force the kernel ISA explicitly
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    if extra:
        env.update(extra)
    return env


def sanitizer_lines(text):
    return [l for l in text.splitlines() if any(m in l for m in SANITIZER_MARKS)]


def assert_no_sanitizer(text, what="hwoptd"):
    bad = sanitizer_lines(text)
    assert not bad, "%s reported sanitizer errors:\n%s" % (what, text[-20000:])


def wait_for(pred, timeout=IO_TIMEOUT, interval=0.02, what="condition"):
    """Polls pred() until it returns something true; returns that value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# --- raw client ----------------------------------------------------------------


class Closed(Exception):
    """The daemon closed the connection."""


class Client:
    """One connection to the daemon: raw bytes in, parsed lines out."""

    def __init__(self, path, timeout=IO_TIMEOUT):
        self.path = path
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.eof = False
        self.next_id = 1

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def send_obj(self, obj):
        self.send(json.dumps(obj) + "\n")

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
        self.buf += chunk

    def recv_line(self, timeout=None):
        """Next line (bytes, without '\\n'); raises Closed at EOF and
        socket.timeout when nothing arrives in time."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while b"\n" not in self.buf:
            if self.eof:
                raise Closed("connection closed; %d bytes of an unfinished line" % len(self.buf))
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no line within the timeout")
            self._fill(left)
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def recv(self, timeout=None):
        """Next line, parsed."""
        return json.loads(self.recv_line(timeout))

    def read_until_eof(self, timeout=None):
        """Every remaining line (parsed) until the daemon closes; fails if it
        does not close in time."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("the daemon did not close the connection")
            try:
                self._fill(left)
            except socket.timeout:
                pass
        lines = [l for l in self.buf.split(b"\n") if l]
        assert self.buf == b"" or self.buf.endswith(b"\n"), "unfinished line at EOF: %r" % self.buf[-200:]
        self.buf = b""
        return [json.loads(l) for l in lines]

    def expect_silence(self, seconds=0.3):
        """Asserts that nothing arrives for a moment (the connection stays
        open and quiet)."""
        try:
            line = self.recv_line(timeout=seconds)
        except socket.timeout:
            return
        raise AssertionError("unexpected line: %r" % line)

    def request(self, method, params=None, id=None):
        if id is None:
            id = self.next_id
            self.next_id += 1
        req = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            req["params"] = params
        self.send_obj(req)
        return id

    def call(self, method, params=None, id=None, timeout=None):
        """Sends one request and returns the whole response object."""
        id = self.request(method, params, id)
        resp = self.recv(timeout)
        assert resp.get("id") == id, "answer for id %r, expected %r: %r" % (resp.get("id"), id, resp)
        assert resp.get("jsonrpc") == "2.0", resp
        return resp

    def result(self, method, params=None):
        resp = self.call(method, params)
        assert "error" not in resp, resp
        return resp["result"]


def connect(path, timeout=IO_TIMEOUT):
    return Client(path, timeout)


def connect_accepted(path, timeout=IO_TIMEOUT):
    """A connection the daemon has accepted and counted (hello answered).
    Retries while it is full: connections closed just before (the readiness
    probe, say) may not have been seen closing yet."""
    def attempt():
        c = Client(path)
        try:
            c.request("hello", id="accepted?")
            resp = c.recv()
        except (Closed, OSError):
            c.close()
            return None
        if "error" in resp:
            check_error(resp, -32002, id=None)
            c.close()
            return None
        return c
    return wait_for(attempt, timeout, what="the daemon to accept a connection")


def call(path, method, params=None):
    """One request on a fresh connection; the response object."""
    with Client(path) as c:
        return c.call(method, params)


def result(path, method, params=None):
    with Client(path) as c:
        return c.result(method, params)


def assert_refused_as_full(sock):
    """A new client over max_connections gets one -32002 line, then EOF."""
    extra = connect(sock)
    got = extra.read_until_eof()
    extra.close()
    check_error(got[0], -32002, id=None)


def check_error(resp, code, id="__any__", contains=None):
    assert "error" in resp, "expected error %d, got %r" % (code, resp)
    assert "result" not in resp, resp
    assert resp["jsonrpc"] == "2.0", resp
    assert resp["error"]["code"] == code, resp
    assert isinstance(resp["error"]["message"], str) and resp["error"]["message"], resp
    if id != "__any__":
        assert "id" in resp and resp["id"] == id and type(resp["id"]) is type(id), resp
    if contains:
        assert contains.lower() in resp["error"]["message"].lower(), resp
    return resp["error"]


def check_status(st, sock=None):
    """The shape of a status result."""
    for k in ("version", "pid", "uptime_s", "started_at", "config_path", "socket",
              "socket_activated", "state_dir", "log_level", "connections", "requests"):
        assert k in st, "status lacks %s: %r" % (k, st)
    for k in ("open", "max", "total", "refused", "dropped_slow"):
        assert isinstance(st["connections"][k], (int, float)), st
    for k in ("served", "errors", "in_flight"):
        assert isinstance(st["requests"][k], (int, float)), st
    sch = st["scheduler"]
    assert sch["workers"] >= 1 and len(sch["cpus"]) == sch["workers"], st
    assert set(sch["queued"]) == {"interactive", "normal", "batch"}, st
    assert st["connections"]["open"] >= 1, st
    assert st["uptime_s"] >= 0
    if sock is not None:
        assert st["socket"] == sock
        assert st["socket_activated"] is False


# --- the daemon ------------------------------------------------------------------


def write_config(path, keys, sections=None):
    lines = ["# written by tests/integration/conftest.py", "[daemon]"]
    for k, v in keys.items():
        if v is None:
            continue
        lines.append("%s = %s" % (k, v))
    for name, body in (sections or {}).items():
        lines.append("[%s]" % name)
        for k, v in body.items():
            lines.append("%s = %s" % (k, v))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


class Daemon:
    def __init__(self, tmp, name, config, cli_socket=True, cli_log_level="debug",
                 cli_state_dir=True, env=None, extra_args=(), preexec_fn=None,
                 argv_prefix=None, sock=None, wait=True, pass_fds=(),
                 rel_config=False, binary=None, sections=None):
        self.tmp = tmp
        self.name = name
        self.dir = tmp
        self.sock = sock or os.path.join(tmp, "run", "hwoptd.sock")
        self.state_dir = os.path.join(tmp, "state")
        self.conf = os.path.join(tmp, name + ".conf")
        self.log_path = os.path.join(tmp, name + ".log")
        self.config_keys = dict(config)
        # Other sections ({"scheduler": {...}, "model mlp": {...}}), kept
        # across write_config() rewrites.
        self.sections = {k: dict(v) for k, v in (sections or {}).items()}
        # No metrics endpoint unless a test asks: daemons must not race for
        # the default port.
        self.sections.setdefault("metrics", {"listen": ""})
        # The policy engine decides but changes nothing (neither sysfs,
        # where tests point at the repository's fixtures, nor the workers)
        # unless a test asks for it.
        self.sections.setdefault("policy", {}).setdefault("dry_run", "true")
        # Nor does it spend the first seconds of every model measuring it.
        self.sections["policy"].setdefault("autotune", "false")
        write_config(self.conf, self.config_keys, self.sections)
        # rel_config: name the file relative to the daemon's cwd (tmp).
        argv = list(argv_prefix or []) + [
            binary or HWOPTD, "--config",
            os.path.basename(self.conf) if rel_config else self.conf]
        if cli_socket:
            argv += ["--socket", self.sock]
        if cli_state_dir:
            argv += ["--state-dir", self.state_dir]
        if cli_log_level:
            argv += ["--log-level", cli_log_level]
        argv += list(extra_args)
        self.argv = argv
        self.stopped = False
        self.expect_code = 0
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=clean_env(env),
                                     preexec_fn=preexec_fn, pass_fds=pass_fds, cwd=tmp)
        if wait:
            self.wait_ready()

    @property
    def pid(self):
        return self.proc.pid

    def log_text(self):
        if not self._log.closed:
            self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, text, timeout=IO_TIMEOUT):
        return wait_for(lambda: text in self.log_text(), timeout, what="%r in the log" % text)

    def wait_ready(self, timeout=READY_TIMEOUT * SLOW):
        deadline = time.monotonic() + timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                raise AssertionError("hwoptd exited %d before it served:\n%s" % (rc, self.log_text()))
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(2)
                s.connect(self.sock)
                s.close()
                return
            except OSError:
                s.close()
            if time.monotonic() > deadline:
                raise AssertionError("hwoptd did not accept on %s within %.0f s:\n%s"
                                     % (self.sock, timeout, self.log_text()))
            time.sleep(0.02)

    def connect(self, timeout=IO_TIMEOUT):
        return Client(self.sock, timeout)

    def call(self, method, params=None):
        return call(self.sock, method, params)

    def result(self, method, params=None):
        return result(self.sock, method, params)

    def write_config(self, keys=None, raw=None, **kw):
        """Rewrites the config file (for reloads): keys replace the start-up
        keys entirely when given, kw updates them; raw writes text as is."""
        if raw is not None:
            with open(self.conf, "w") as f:
                f.write(raw)
            return
        if keys is not None:
            self.config_keys = dict(keys)
        self.config_keys.update(kw)
        write_config(self.conf, self.config_keys, self.sections)

    def kill(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=EXIT_TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("hwoptd did not exit within %.0f s:\n%s" % (timeout, self.log_text()[-5000:]))

    def stop(self, sig=signal.SIGTERM, timeout=EXIT_TIMEOUT):
        """Signals the daemon and returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.wait_exit(timeout)
        self.stopped = True
        self._log.close()
        return rc

    def finish(self):
        """Teardown: stops it if needed, checks exit status and log."""
        if self.proc.poll() is None:
            rc = self.stop()
        else:
            rc = self.proc.wait()
            if not self._log.closed:
                self._log.close()
        text = self.log_text()
        assert_no_sanitizer(text)
        assert rc == self.expect_code, "hwoptd exited %r (expected %r):\n%s" % (
            rc, self.expect_code, text[-5000:])


@pytest.fixture
def tmpdir_nobody():
    """A temporary directory user nobody can traverse (0755)."""
    d = tempfile.mkdtemp(prefix="hwopt-it-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def daemon(tmpdir_nobody):
    """Factory: daemon(**config_keys, _opts...) starts an hwoptd.

    Keyword arguments are [daemon] config keys, except these options:
    cli_socket, cli_log_level, cli_state_dir, env, extra_args, preexec_fn,
    argv_prefix, sock, wait, pass_fds, rel_config, binary, name, and
    sections: other config sections, {"scheduler": {"workers": 1},
    "model mlp": {"path": ...}} (written after [daemon], in order).
    """
    started = []
    opts = ("cli_socket", "cli_log_level", "cli_state_dir", "env", "extra_args",
            "preexec_fn", "argv_prefix", "sock", "wait", "pass_fds", "rel_config", "binary",
            "sections")

    def start(name=None, **kw):
        o = {k: kw.pop(k) for k in list(kw) if k in opts}
        wait = o.pop("wait", True)
        d = Daemon(tmpdir_nobody, name or "hwoptd%d" % len(started), kw, wait=False, **o)
        started.append(d)
        if wait:
            d.wait_ready()
        return d

    start.tmp = tmpdir_nobody
    yield start
    errors = []
    for d in started:
        try:
            d.finish()
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n\n".join(errors)


@pytest.fixture
def hwoptd(daemon):
    """One daemon with the default test configuration."""
    return daemon()


def run(argv, timeout=EXIT_TIMEOUT, env=None, input=None, **kw):
    """Runs a command; returns CompletedProcess with text stdout/stderr.
    Sanitizer reports on stderr fail the test."""
    p = subprocess.run(argv, stdin=subprocess.DEVNULL if input is None else None,
                       input=input, capture_output=True, text=True, timeout=timeout,
                       env=clean_env(env), **kw)
    assert_no_sanitizer(p.stderr, argv[0])
    return p


def ctl(sock, *args, env=None, timeout=EXIT_TIMEOUT, binary=None, prefix=()):
    """Runs hwoptctl -s SOCK ARGS..."""
    argv = list(prefix) + [binary or HWOPTCTL]
    if sock is not None:
        argv += ["-s", sock]
    return run(argv + list(args), env=env, timeout=timeout)


class StatusProber(threading.Thread):
    """A well-behaved client calling status in a loop, to show that abuse on
    other connections never disturbs it. reconnect_every=0 keeps one
    connection; n>0 opens a fresh one every n calls."""

    def __init__(self, sock, reconnect_every=5):
        super().__init__(daemon=True)
        self.sock = sock
        self.reconnect_every = reconnect_every
        self.stop_event = threading.Event()
        self.ok = 0
        self.failures = []
        self.client = connect_accepted(sock)  # connected before the abuse starts

    def run(self):
        n = 0
        try:
            while not self.stop_event.is_set():
                if self.reconnect_every and n and n % self.reconnect_every == 0:
                    self.client.close()
                    self.client = connect_accepted(self.sock)
                n += 1
                try:
                    resp = self.client.call("status", id="probe-%d" % n)
                    st = resp["result"]
                    check_status(st)
                    self.ok += 1
                except Exception as e:  # noqa: BLE001 - recorded and asserted
                    self.failures.append("call %d: %r" % (n, e))
                    return
                self.stop_event.wait(0.005)
        finally:
            self.client.close()

    def __enter__(self):
        self.start()
        # Make sure it has really worked before the abuse begins.
        wait_for(lambda: self.ok >= 1 or self.failures, what="the prober's first status")
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.join(IO_TIMEOUT + 5)
        assert not self.is_alive(), "the status prober hangs"
        assert not self.failures, "status failed during the abuse: %s" % self.failures
        assert self.ok >= 1


@pytest.fixture
def prober():
    """prober(sock, reconnect_every=5) -> context manager running a
    StatusProber during the block."""
    return StatusProber


# --- the Python client and test models ---------------------------------------------
#
# Tests of models, inference, jobs and pools talk through the Python client
# (clients/python: `import hwopt` works once this conftest is loaded) and use
# small ONNX models built once per session from tests/models/models.py, the
# runtime's model zoo with its numpy references.

PYCLIENT_DIR = os.path.join(REPO, "clients", "python")
if PYCLIENT_DIR not in sys.path:
    sys.path.insert(0, PYCLIENT_DIR)

# The slow model: x [batch, SLOW_DIM] is tiled SLOW_TILE times along dim 0,
# goes through SLOW_NODES MatMuls with one shared orthogonal weight
# (values keep their scale however long the chain) and is averaged back to
# [batch, SLOW_DIM]. Its cost grows with the rows sent while the request
# stays small; cancellation (checked at node boundaries) has many points to
# stop at. Some 10-20 ms per input row on one core of the test machine.
SLOW_DIM = 512
SLOW_NODES = 48
SLOW_TILE = 64


def _load_zoo():
    path = os.path.join(REPO, "tests", "models", "models.py")
    spec = importlib.util.spec_from_file_location("hwopt_model_zoo", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _slow_model(nodes=SLOW_NODES, dim=SLOW_DIM, tile=SLOW_TILE, seed=5):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    w = q.astype(np.float32)
    N = helper.make_node
    chain = ["t"] + ["h%d" % i for i in range(1, nodes)] + ["hn"]
    graph_nodes = [N("Tile", ["x", "repeats"], ["t"], name="tile")]
    graph_nodes += [N("MatMul", [chain[i], "w"], [chain[i + 1]], name="mm%d" % i)
                    for i in range(nodes)]
    graph_nodes += [N("Reshape", ["hn", "split_shape"], ["r"], name="split"),
                    N("ReduceMean", ["r"], ["y"], name="mean", axes=[0], keepdims=0)]
    g = helper.make_graph(
        graph_nodes, "slow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", dim])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", dim])],
        [numpy_helper.from_array(w, "w"),
         numpy_helper.from_array(np.array([tile, 1], dtype=np.int64), "repeats"),
         numpy_helper.from_array(np.array([tile, -1, dim], dtype=np.int64), "split_shape")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="hwoptd-tests")
    onnx.checker.check_model(m)

    def ref(x):
        y = x.astype(np.float64)
        for _ in range(nodes):
            y = y @ w
        return {"y": y}
    return m, ref


class ModelZoo:
    """Paths, numpy references and I/O names of the session's models:
    mlp ([batch,16] -> [batch,16], "x" -> "probs"), cnn ([1,3,32,32] ->
    [1,10], "x" -> "logits"), transformer ([1,8,32] -> [1,8,32], "x" ->
    "y"), slow ([batch,512] -> [batch,512], "x" -> "y")."""

    def __init__(self, directory):
        import onnx
        zoo = _load_zoo()
        self.dir = directory
        self.paths, self.refs, self.samples = {}, {}, {}
        built = {
            "mlp": zoo.mlp(batch=4, d_in=16, hidden=16, d_out=16),
            "cnn": zoo.cnn(),
            "transformer": zoo.transformer(seq=8, d=32, heads=2, ff=64),
        }
        m, ref = _slow_model()
        built["slow"] = (m, None, ref)
        for name, (model, sample, ref) in built.items():
            path = os.path.join(directory, name + ".onnx")
            onnx.save(model, path)
            os.chmod(path, 0o644)
            self.paths[name] = path
            self.refs[name] = ref
            self.samples[name] = sample
        self.io = {"mlp": ("x", "probs"), "cnn": ("x", "logits"),
                   "transformer": ("x", "y"), "slow": ("x", "y")}
        self.input_shape = {"mlp": [None, 16], "cnn": [1, 3, 32, 32],
                            "transformer": [1, 8, 32], "slow": [None, SLOW_DIM]}

    def path(self, name):
        return self.paths[name]

    def ref(self, name, x):
        """The numpy reference output of model name for input x."""
        return self.refs[name](x)[self.io[name][1]]

    def random_input(self, name, rng, rows=1):
        import numpy as np
        shape = [rows if d is None else d for d in self.input_shape[name]]
        return rng.standard_normal(shape).astype(np.float32)


@pytest.fixture(scope="session")
def zoo():
    """The session's ModelZoo, built once into a temporary directory that
    every user can read (model.load by a non-root caller needs that)."""
    d = tempfile.mkdtemp(prefix="hwopt-models-", dir="/tmp")
    os.chmod(d, 0o755)
    try:
        yield ModelZoo(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
