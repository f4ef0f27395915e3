"""Helpers shared by the Python-client tests (test_models, test_jobs,
test_pools, test_infer_errors): connecting, comparing results, expecting
errors, the "slow" blocker that keeps the only worker busy, pool.list
entries, and a client run as user nobody."""

import contextlib
import os
import textwrap
import threading

import numpy as np
import pytest

import hwopt
from conftest import IO_TIMEOUT, PYCLIENT_DIR, SLOW, wait_for

RTOL, ATOL = 1e-4, 1e-5
LOAD_TIMEOUT = 60 * SLOW
ONE_WORKER = {"scheduler": {"workers": 1}}
BLOCKER_ROWS = 200       # a few seconds of work for one worker: cancelled, never awaited
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def connect(d, name=None):
    """A Python client of daemon d after hello; the client name defaults to
    the running test's module (test_jobs, ...), from PYTEST_CURRENT_TEST."""
    if name is None:
        test = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[0]
        name = os.path.splitext(os.path.basename(test))[0] or "jobs_common"
    c = hwopt.connect(d.sock, timeout=IO_TIMEOUT)
    c.hello(client=name)
    return c


def counters(c, name):
    """The counters of model name (model.list must give exactly one entry)."""
    (entry,) = c.models(name)
    return entry["counters"]


def check_close(y, ref, what=""):
    """y is a float32 array of ref's shape and close to it."""
    assert isinstance(y, np.ndarray), (what, type(y))
    assert y.dtype == np.float32, (what, y.dtype)
    assert list(y.shape) == list(ref.shape), (what, y.shape, ref.shape)
    np.testing.assert_allclose(y, ref, rtol=RTOL, atol=ATOL, err_msg=what)


def expect_error(code, fn, *args, contains=(), **kw):
    """Calls fn, expects RPCError code with a non-empty message; contains (a
    string or a sequence of strings) must all be in the message
    (case-insensitive). Returns the error."""
    with pytest.raises(hwopt.RPCError) as ei:
        fn(*args, **kw)
    e = ei.value
    assert e.code == code, "expected %d, got %s" % (code, e)
    assert isinstance(e.message, str) and e.message
    for s in ([contains] if isinstance(contains, str) else contains):
        assert s.lower() in e.message.lower(), "%r not in the message: %s" % (s, e)
    return e


def load(c, tm, name, **kw):
    """Loads model name of the zoo tm under its own name; its model.list entry."""
    return c.load_model(name, tm.path(name), timeout=LOAD_TIMEOUT, **kw)


def slow_input(rng, rows=BLOCKER_ROWS):
    """A random input of the "slow" model: rows x 512 float32."""
    return rng.standard_normal((rows, 512)).astype(np.float32)


def own_job(c, rid, state=None):
    """This connection's job.list entry for request rid (optionally in state)."""
    for j in c.jobs(all=False):
        if j["request_id"] == rid and (state is None or j["state"] == state):
            return j
    return None


def wait_running(c, rid):
    """Waits until request rid runs; its job.list entry."""
    return wait_for(lambda: own_job(c, rid, "running"), what="request %r running" % (rid,))


def start_blocker(c, rng, rows=BLOCKER_ROWS):
    """Sends a long slow-model job and waits until it runs; its request id."""
    rid = c.infer_async("slow", {"x": slow_input(rng, rows)})
    wait_running(c, rid)
    return rid


def load_and_block(c, tm, rng, *models):
    """Loads "slow" and models, then starts a blocker (with one worker, jobs
    sent after it wait in the queue); the blocker's request id."""
    for name in ("slow",) + models:
        load(c, tm, name)
    return start_blocker(c, rng)


@contextlib.contextmanager
def blocked_client(daemon, tm, seed, *models):
    """Starts a daemon (the daemon fixture) with one worker and yields
    (client, rng, blocker): "slow" and models loaded, the blocker running,
    rng seeded with seed."""
    d = daemon(sections=ONE_WORKER)
    rng = np.random.default_rng(seed)
    with connect(d) as c:
        yield c, rng, load_and_block(c, tm, rng, *models)


def stop_blocker(c, rid):
    """Cancels the blocker (running) and takes its cancelled answer."""
    try:
        r = c.cancel(request_id=rid)
        assert r["state"] == "running", r
    except hwopt.RPCError as e:  # it finished after all: then it succeeded
        assert e.code == -32003, e
        c.infer_result(rid)
        return
    expect_error(-32005, c.infer_result, rid)


def pool_entry(c, pool_id, all=False):
    """The pool.list entry of pool_id (at most one), or None."""
    found = [p for p in c.pools(all=all) if p["pool"] == pool_id]
    assert len(found) <= 1, found
    return found[0] if found else None


def nobody_python(tmp, code):
    """Writes a Python script that runs as user nobody with the hwopt client
    importable, and returns the argv to start it."""
    script = os.path.join(tmp, "as_nobody_%d.py" % threading.get_ident())
    with open(script, "w") as f:
        f.write("import sys\nsys.path.insert(0, %r)\n" % PYCLIENT_DIR)
        f.write(textwrap.dedent(code))
    os.chmod(script, 0o644)
    return AS_NOBODY + ["/usr/bin/python3", script]
