"""The connection to hwoptd and its methods.

One Client is one Unix-socket connection speaking JSON-RPC 2.0, one object
per line. Requests may be pipelined: send() returns the request id at once
and wait(id) returns that request's result, buffering answers to other
requests (infer answers may come out of order). call() is send() + wait().

A Client may be shared by threads: sends are serialized, one thread at a
time reads from the socket and files every answer under its id, and each
waiter takes its own.
"""

import itertools
import json
import os
import socket
import threading
import time
import weakref

from . import tensors
from .errors import ConnectionClosed, ProtocolError, RPCError
from .pools import Block, Pool
from .transport import LineReader, _close_fds

PROTOCOL_VERSION = 1


def default_socket_path():
    """The socket a client uses when none is named, as hwoptctl and the C
    client choose it: $HWOPT_SOCKET, else /run/hwoptd/hwoptd.sock for root,
    else $XDG_RUNTIME_DIR/hwoptd/hwoptd.sock, else /tmp/hwoptd-$UID/hwoptd.sock
    (the effective uid, as the daemon uses)."""
    env = os.environ.get("HWOPT_SOCKET")
    if env:
        return env
    euid = os.geteuid()
    if euid == 0:
        return "/run/hwoptd/hwoptd.sock"
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return os.path.join(xdg, "hwoptd", "hwoptd.sock")
    return "/tmp/hwoptd-%d/hwoptd.sock" % euid


def connect(path=None, timeout=30.0):
    """Connects to hwoptd and returns a Client.

    path: the socket (default: default_socket_path()). timeout: seconds for
    connecting, for sending, and the default wait for each answer (None: no
    limit; a slow model.load or a long queue may need more than 30 s, so the
    long-running methods also take their own timeout).
    """
    path = os.fspath(path) if path is not None else default_socket_path()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            try:
                sock.connect(path)
                break
            except BlockingIOError:
                # A full listen backlog answers EAGAIN on Unix sockets: wait for room.
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError("cannot connect to hwoptd at %s: backlog full" % path)
                time.sleep(0.01)
    except OSError as e:
        sock.close()
        if e.errno is not None:
            raise type(e)(e.errno, "cannot connect to hwoptd at %s: %s (set HWOPT_SOCKET or "
                          "pass path=)" % (path, e.strerror)) from e
        raise
    return Client(sock, timeout=timeout, path=path)


def _params(**kw):
    """Params without the members left at None: the daemon applies its own
    default for an absent member, and rejects null."""
    return {k: v for k, v in kw.items() if v is not None}


class InferResult:
    """The answer to one infer request.

    outputs: name -> decoded tensor (a numpy array, or a hwopt.Tensor without
    numpy); outputs written to a pool are read back from the pool (a copy),
    or left as the daemon's {pool, offset, bytes, dtype, shape} when the pool
    is not one this client has mapped. timings, workers, job, batch, model:
    as in the result; raw: the result object itself; request_id: the
    JSON-RPC id. result["name"] is result.outputs["name"].
    """

    def __init__(self, raw, outputs, request_id=None):
        self.raw = raw
        self.outputs = outputs
        self.request_id = request_id
        self.job = raw.get("job")
        self.model = raw.get("model")
        self.timings = raw.get("timings", {})
        self.workers = raw.get("workers", [])
        self.batch = raw.get("batch", {})

    def __getitem__(self, name):
        return self.outputs[name]

    def __repr__(self):
        return "InferResult(job=%r, outputs=%s, timings=%r)" % (
            self.job, sorted(self.outputs), self.timings)


class PoolList(list):
    """pool.list's entries, with the caller's quota {bytes, used} as .quota."""

    def __init__(self, entries, quota):
        super().__init__(entries)
        self.quota = quota


class Client:
    """A connection to hwoptd. Use connect(); Client(sock) wraps a connected
    Unix stream socket (e.g. one half of a socketpair, in tests)."""

    def __init__(self, sock, timeout=30.0, path=None):
        self.path = path
        self.timeout = timeout
        self.server = None           # the hello result, once hello() ran
        self.max_line_bytes = None   # from hello: requests longer are refused locally
        self.orphan_errors = []      # RPCErrors sent with id null, ProtocolErrors
        self._sock = sock
        sock.settimeout(timeout)
        self._reader = LineReader(sock, self._wants_fd)
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()
        self._recv_lock = threading.Lock()
        self._state = threading.Lock()   # guards the three dicts below
        self._methods = {}    # id -> method, for requests not yet consumed by wait()
        self._answers = {}    # id -> (answer object, descriptor or None)
        self._infer_ctx = {}  # id -> {output name: Pool} for infer requests
        self._pools = weakref.WeakValueDictionary()  # pool id -> Pool this client mapped
        self._closed = False
        # A client dropped without close() still closes the descriptors of
        # answers nobody took.
        self._finalizer = weakref.finalize(self, _close_answer_fds, self._answers)

    # --- connection ----------------------------------------------------------

    def close(self):
        """Closes the connection. The daemon then cancels this client's jobs
        and destroys its pools; Pool objects keep their mapping until closed.
        Descriptors of answers nobody waited for are closed."""
        if self._closed:
            return
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked reading
        except OSError:
            pass
        with self._recv_lock:
            self._reader.close()
            self._sock.close()
        with self._state:
            self._methods.clear()
            self._infer_ctx.clear()
            _close_answer_fds(self._answers)

    @property
    def closed(self):
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<hwopt.Client %s%s>" % (self.path or "socket", " closed" if self._closed else "")

    # --- requests and answers ------------------------------------------------

    def send(self, method, /, **params):
        """Sends a request and returns its id without waiting."""
        return self._send(method, params)

    def notify(self, method, /, **params):
        """Sends a notification: the daemon runs it and sends no answer."""
        self._send(method, params, notify=True)

    def call(self, method, /, *, _timeout=None, **params):
        """Sends a request and returns its result; raises RPCError.

        For a pool.create answer the received descriptor replaces the
        "scm_rights" marker in result["fd"] (an int the caller now owns);
        create_pool() does this for you."""
        return self.wait(self._send(method, params), _timeout)

    def _send(self, method, params, notify=False):
        if self._closed:
            raise ConnectionClosed("the client is closed")
        rid = None if notify else next(self._ids)
        req = {"jsonrpc": "2.0", "method": method}
        if rid is not None:
            req["id"] = rid
        if params:
            req["params"] = params
        line = json.dumps(req, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8") + b"\n"
        if self.max_line_bytes is not None and len(line) - 1 > self.max_line_bytes:
            raise ValueError("the %s request is %d bytes, over the daemon's max_line_bytes %d "
                             "(the daemon would close the connection): pass large tensors "
                             "through a pool" % (method, len(line) - 1, self.max_line_bytes))
        if rid is not None:
            with self._state:
                self._methods[rid] = method
        try:
            with self._send_lock:
                self._sock.sendall(line)
        except OSError as e:
            with self._state:
                self._methods.pop(rid, None)
            if isinstance(e, (BrokenPipeError, ConnectionResetError)):
                raise ConnectionClosed("the daemon closed the connection", self._last_error()) from e
            raise
        return rid

    def wait(self, request_id, timeout=None):
        """The result of request request_id, waiting for it (timeout seconds;
        None: the client's timeout). Raises RPCError for an error answer,
        TimeoutError (the answer is still taken later), ConnectionClosed,
        and KeyError for an id that is not awaited (unknown, already
        consumed, or forgotten)."""
        msg, fd, method = self._take(request_id, timeout)
        if "error" in msg:
            if fd is not None:
                _close_fds([fd])
            raise RPCError.from_object(msg["error"], request_id)
        if "result" not in msg:
            if fd is not None:
                _close_fds([fd])
            raise ProtocolError("answer to request %r has neither result nor error" % (request_id,))
        result = msg["result"]
        if fd is not None:
            result = dict(result)
            result["fd"] = fd
        elif method == "pool.create":
            raise ProtocolError("the pool.create answer carried no descriptor (SCM_RIGHTS)")
        return result

    def ready(self, request_id):
        """True when the answer to request_id has arrived (wait() returns at once)."""
        with self._state:
            return request_id in self._answers

    def wait_any(self, request_ids, timeout=None):
        """The id, among request_ids, of an answer that has arrived (the
        earliest to arrive when several have); waits for one. Does not
        consume it: follow with wait() or infer_result()."""
        ids = list(request_ids)
        if not ids:
            raise ValueError("wait_any needs at least one request id")
        wanted = set(ids)
        deadline = self._deadline(timeout)
        while True:
            with self._state:
                for rid in self._answers:  # a dict keeps arrival order
                    if rid in wanted:
                        return rid
                if self._closed:
                    raise ConnectionClosed("the client is closed")
                unknown = [rid for rid in ids if rid not in self._methods]
            if unknown:
                raise KeyError("no request %r is waiting for an answer" % (unknown[0],))
            self._pump(ids, deadline)

    def as_completed(self, request_ids, timeout=None):
        """Yields the ids of request_ids as their answers arrive (each wait
        up to timeout). Consume each with wait() or infer_result()."""
        left = list(request_ids)
        while left:
            rid = self.wait_any(left, timeout)
            left.remove(rid)
            yield rid

    def forget(self, request_id):
        """Stops waiting for request_id: its answer, already here or still to
        come, is dropped (and a descriptor it carries closed)."""
        with self._state:
            self._methods.pop(request_id, None)
            self._infer_ctx.pop(request_id, None)
            ans = self._answers.pop(request_id, None)
        if ans is not None and ans[1] is not None:
            _close_fds([ans[1]])

    def _deadline(self, timeout):
        t = self.timeout if timeout is None else timeout
        if t is None or t == float("inf"):
            return None
        return time.monotonic() + t

    def _take(self, request_id, timeout):
        deadline = self._deadline(timeout)
        while True:
            with self._state:
                if request_id in self._answers:
                    msg, fd = self._answers.pop(request_id)
                    return msg, fd, self._methods.pop(request_id, None)
                if self._closed:
                    raise ConnectionClosed("the client is closed")
                if request_id not in self._methods:
                    raise KeyError("no request %r is waiting for an answer" % (request_id,))
            self._pump([request_id], deadline)

    def _pump(self, ids, deadline):
        """Reads one chunk from the socket (unless another thread is reading,
        or one of ids is answered meanwhile) and files its answers."""
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._recv_lock.acquire(timeout=-1 if left is None else left):
            raise TimeoutError("no answer to request %s in time" % (ids[0],))
        try:
            with self._state:
                if any(rid in self._answers for rid in ids):
                    return
            if self._closed:
                raise ConnectionClosed("the client is closed")
            if self._reader.eof:
                raise ConnectionClosed("the daemon closed the connection", self._last_error())
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            items = self._reader.read(left)
            for msg, fd in items:
                self._file(msg, fd)
            if not items and not self._reader.eof and deadline is not None \
                    and time.monotonic() >= deadline:
                raise TimeoutError("no answer to request %s in time" % (ids[0],))
        finally:
            self._recv_lock.release()

    def _wants_fd(self, msg):
        """A successful pool.create answer takes the next received descriptor."""
        if not isinstance(msg, dict) or not isinstance(msg.get("result"), dict):
            return False
        with self._state:
            method = self._methods.get(msg.get("id"))
        return method == "pool.create" or msg["result"].get("fd") == "scm_rights"

    def _file(self, msg, fd):
        if isinstance(msg, ProtocolError) or not isinstance(msg, dict):
            self.orphan_errors.append(msg if isinstance(msg, ProtocolError)
                                      else ProtocolError("answer is not an object: %r" % (msg,)))
        else:
            rid = msg.get("id")
            with self._state:
                if rid is not None and rid in self._methods and rid not in self._answers:
                    self._answers[rid] = (msg, fd)
                    return
            if rid is None and "error" in msg:
                self.orphan_errors.append(RPCError.from_object(msg["error"]))
            # else: a forgotten request's answer, or an id we never sent
        if fd is not None:
            _close_fds([fd])

    def _last_error(self):
        return self.orphan_errors[-1] if self.orphan_errors else None

    # --- daemon ----------------------------------------------------------------

    def hello(self, client="hwopt-python", protocol=PROTOCOL_VERSION):
        """Says hello; remembers the result as .server and the daemon's
        max_line_bytes, so that a request the daemon would refuse (and close
        the connection for) fails here with a clear message instead."""
        result = self.call("hello", client=client, protocol=protocol)
        self.server = result
        mlb = (result.get("capabilities") or {}).get("max_line_bytes")
        if isinstance(mlb, int) and mlb > 0:
            self.max_line_bytes = mlb
        return result

    def status(self):
        return self.call("status")

    def topology(self):
        return self.call("topology")

    def config(self):
        return self.call("config.get")

    # --- models ----------------------------------------------------------------

    def models(self, name=None):
        """model.list's entries (only `name`'s when given)."""
        return self.call("model.list", **_params(name=name))["models"]

    def load_model(self, name, path, precision="fp32", keep_fp32=None, instances=None,
                   threads_per_instance=None, max_batch=None, batch_delay_us=None,
                   min_cosine=None, *, timeout=None):
        """Loads an ONNX model and returns its model.list entry. path is made
        absolute here (the daemon refuses relative paths: its working
        directory is not yours). keep_fp32 takes a list of names/op globs
        (a single string is one). The answer comes when the model is ready,
        which may take longer than the client's timeout: pass timeout."""
        if isinstance(keep_fp32, str):
            keep_fp32 = [keep_fp32]
        params = _params(name=name, path=os.path.abspath(os.fspath(path)), precision=precision,
                         keep_fp32=list(keep_fp32) if keep_fp32 is not None else None,
                         instances=instances, threads_per_instance=threads_per_instance,
                         max_batch=max_batch, batch_delay_us=batch_delay_us, min_cosine=min_cosine)
        return self.call("model.load", _timeout=timeout, **params)

    def unload_model(self, name, grace_ms=None, *, timeout=None):
        """Unloads a model; returns {name, finished, cancelled}. The answer
        comes when the model is gone (up to grace_ms, default 5 s)."""
        return self.call("model.unload", _timeout=timeout, **_params(name=name, grace_ms=grace_ms))

    # --- inference -------------------------------------------------------------

    def infer(self, model, inputs, outputs=None, priority=None, deadline_ms=None,
              batchable=None, encoding=None, *, timeout=None):
        """Runs the model once and returns an InferResult.

        inputs: {name: value}; a value is a numpy array (sent inline as
        base64), a hwopt.Tensor, or a TENSOR dict passed through as is
        (hwopt.tensor(...) for other encodings, Block.ref(dtype, shape) for
        an input already in a pool). outputs: {name: Block or POOLREF dict}
        for outputs the daemon should write into a pool; the rest come
        inline. timeout: how long to wait for the answer (default: the
        client's)."""
        rid = self.infer_async(model, inputs, outputs, priority, deadline_ms, batchable, encoding)
        return self.infer_result(rid, timeout)

    def infer_async(self, model, inputs, outputs=None, priority=None, deadline_ms=None,
                    batchable=None, encoding=None):
        """Sends an infer request and returns its id (see infer()); collect
        the answer with infer_result(id), in any order."""
        if not isinstance(inputs, dict):
            raise TypeError("inputs must map input names to tensors")
        enc_inputs = {name: _input_tensor(name, v) for name, v in inputs.items()}
        enc_outputs, ctx = {}, {}
        for name, o in (outputs or {}).items():
            if isinstance(o, Block):
                enc_outputs[name] = o.out_ref()
                ctx[name] = o.pool
            elif isinstance(o, dict):
                enc_outputs[name] = dict(o)
            else:
                raise TypeError("outputs[%r]: expected a Block or a POOLREF dict {pool, offset[, bytes]}, "
                                "not %s" % (name, type(o).__name__))
        params = _params(model=model, inputs=enc_inputs, outputs=enc_outputs or None,
                         priority=priority, deadline_ms=deadline_ms, batchable=batchable,
                         encoding=encoding)
        rid = self._send("infer", params)
        with self._state:
            self._infer_ctx[rid] = ctx
        return rid

    def infer_result(self, request_id, timeout=None):
        """The InferResult of an infer_async() request (waits for it).
        Raises RPCError (e.g. .name "deadline_exceeded", "cancelled")."""
        try:
            result = self.wait(request_id, timeout)
        except (RPCError, ProtocolError, KeyError):
            with self._state:
                self._infer_ctx.pop(request_id, None)
            raise
        with self._state:
            ctx = self._infer_ctx.pop(request_id, {})
        outputs = {}
        for name, t in (result.get("outputs") or {}).items():
            outputs[name] = self._output(name, t, ctx)
        return InferResult(result, outputs, request_id)

    def _output(self, name, t, ctx):
        if isinstance(t, dict) and "pool" in t and "data" not in t and "data_b64" not in t:
            pool = ctx.get(name) or self._pools.get(t["pool"])
            if pool is None or pool.closed or pool.id != t["pool"]:
                return t  # not a pool mapped here: the caller reads it
            return pool.read_at(t["offset"], t["dtype"], t["shape"])
        return tensors.decode(t)

    # --- jobs ------------------------------------------------------------------

    def jobs(self, all=None):
        """job.list's entries: the caller's queued and running jobs (an
        admin's default is every client's; all=False: only its own)."""
        return self.call("job.list", **_params(all=all))["jobs"]

    def cancel(self, job=None, request_id=None):
        """Cancels a job by the daemon's job id or by the JSON-RPC id of one
        of this connection's infer requests (exactly one of them). Returns
        {job, state}; the infer request itself then fails with
        RPCError(name="cancelled")."""
        if (job is None) == (request_id is None):
            raise ValueError("cancel takes exactly one of job= and request_id=")
        return self.call("job.cancel", **_params(job=job, request_id=request_id))

    # --- pools -----------------------------------------------------------------

    def pools(self, all=None):
        """pool.list's entries as a PoolList (a list with .quota)."""
        r = self.call("pool.list", **_params(all=all))
        return PoolList(r.get("pools", []), r.get("quota"))

    def create_pool(self, bytes, hugepages="auto", numa_node=-1, *, timeout=None):
        """Creates a shared-memory pool and maps it: returns a Pool (a context
        manager that destroys it). bytes is rounded up by the daemon to its
        page size; Pool.size is the real size."""
        result = self.call("pool.create", _timeout=timeout, bytes=bytes, hugepages=hugepages,
                           numa_node=numa_node)
        fd = result.get("fd")
        try:
            pool = Pool(self, result, fd)
        except BaseException:
            if isinstance(fd, int):
                _close_fds([fd])
            try:  # do not leave the daemon holding quota for a pool we cannot use
                self.call("pool.destroy", pool=result.get("pool"))
            except (RPCError, OSError, ProtocolError):
                pass
            raise
        self._pools[pool.id] = pool
        return pool


def _close_answer_fds(answers):
    """Closes the descriptors of buffered answers and forgets them."""
    fds = [fd for _, fd in answers.values() if fd is not None]
    answers.clear()
    _close_fds(fds)


def _input_tensor(name, value):
    """One infer input as a TENSOR dict."""
    if isinstance(value, dict):
        return value
    if isinstance(value, tensors.Tensor):
        return value.to_dict("base64")
    if isinstance(value, Block):
        raise TypeError("inputs[%r]: a Block needs its dtype and shape: pass block.ref(dtype, shape)"
                        % (name,))
    np = tensors.np
    if np is not None and isinstance(value, (np.ndarray, np.generic)):
        return tensors.tensor(value)
    raise TypeError("inputs[%r]: expected a numpy array, a hwopt.Tensor or a TENSOR dict "
                    "(hwopt.tensor(values, dtype=..., shape=...)), not %s"
                    % (name, type(value).__name__))
