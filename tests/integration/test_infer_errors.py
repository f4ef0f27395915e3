"""Bad infer requests and exhausted limits, through the Python client
(TENSOR dicts pass through it unchanged, so malformed tensors need no raw
socket): each is answered with the documented code and a message naming
the problem, and the daemon keeps serving, with right answers, afterwards."""

import json
import os
import re
import subprocess

import numpy as np
import pytest

import hwopt
from conftest import SLOW, clean_env, wait_for
from jobs_common import (check_close, connect, counters, expect_error, load, load_and_block,
                         nobody_python, own_job, pool_entry)


def still_serving(c, tm, rng):
    """A good request right after: answered, and right."""
    x = tm.random_input("mlp", rng, rows=2)
    check_close(c.infer("mlp", {"x": x})["probs"], tm.ref("mlp", x), "after an error")


def f32(shape, data=None, **extra):
    """An inline float TENSOR dict."""
    n = int(np.prod(shape)) if shape else 1
    t = {"dtype": "float", "shape": list(shape),
         "data": list(data) if data is not None else [0.5] * n}
    t.update(extra)
    return t


@pytest.fixture
def served(hwoptd, zoo):
    """(client, models, rng) with mlp loaded on the default daemon."""
    c = connect(hwoptd)
    load(c, zoo, "mlp", max_batch=4)
    yield c, zoo, np.random.default_rng(101)
    c.close()


def test_unknown_model(served):
    c, tm, rng = served
    expect_error(-32003, c.infer, "no-such-model", {"x": f32([1, 16])},
                 contains="no-such-model")
    still_serving(c, tm, rng)


def test_missing_and_extra_inputs(served):
    c, tm, rng = served
    expect_error(-32602, c.infer, "mlp", {}, contains=["missing", "'x'"])
    expect_error(-32602, c.infer, "mlp", {"x": f32([1, 16]), "bogus": f32([1, 16])},
                 contains=["bogus"])
    expect_error(-32602, c.infer, "mlp", {"y": f32([1, 16])}, contains=["'y'"])
    # An output the model does not have.
    expect_error(-32602, c.infer, "mlp", {"x": f32([1, 16])},
                 outputs={"nope": {"pool": 1, "offset": 0}}, contains=["nope"])
    still_serving(c, tm, rng)


def test_wrong_dtype(served):
    c, tm, rng = served
    e = expect_error(-32602, c.infer, "mlp", {"x": np.zeros((1, 16), np.int32)},
                     contains=["params.inputs.x", "dtype", "int32", "float"])
    expect_error(-32602, c.infer, "mlp", {"x": np.zeros((1, 16), np.float64)},
                 contains=["params.inputs.x", "double"])
    expect_error(-32602, c.infer, "mlp", {"x": {"dtype": "complex64", "shape": [1, 16],
                                                 "data": [0] * 16}},
                 contains=["params.inputs.x.dtype"])
    assert "x" in e.message
    still_serving(c, tm, rng)


def test_wrong_shape(served):
    c, tm, rng = served
    for shape in ([2, 8], [16], [1, 16, 1]):
        e = expect_error(-32602, c.infer, "mlp", {"x": np.zeros(shape, np.float32)},
                         contains=["params.inputs.x", "shape"])
        got = "[%s]" % ",".join(map(str, shape))
        assert got in e.message.replace(" ", ""), e
        # The expected shape: an open batch dim, then 16.
        assert re.search(r"\[(batch|N|\?|-1),16\]", e.message.replace(" ", "")), e
    still_serving(c, tm, rng)


def test_data_of_the_wrong_length(served):
    c, tm, rng = served
    expect_error(-32602, c.infer, "mlp", {"x": f32([1, 16], [0.1] * 15)},
                 contains=["params.inputs.x", "data", "16"])
    expect_error(-32602, c.infer, "mlp", {"x": f32([2, 16], [0.1] * 33)},
                 contains=["params.inputs.x", "32"])
    expect_error(-32602, c.infer, "mlp", {"x": f32([1, 16], ["zero"] * 16)},
                 contains=["data[0]"])
    still_serving(c, tm, rng)


def test_bad_base64(served):
    c, tm, rng = served
    good = hwopt.tensor(np.zeros((1, 16), np.float32))["data_b64"]
    # The right length, characters outside the alphabet.
    bad = "!" * len(good)
    expect_error(-32602, c.infer, "mlp", {"x": {"dtype": "float", "shape": [1, 16],
                                                 "data_b64": bad}},
                 contains=["params.inputs.x", "base64"])
    # Padding missing / too short.
    expect_error(-32602, c.infer, "mlp", {"x": {"dtype": "float", "shape": [1, 16],
                                                 "data_b64": good.rstrip("=")}},
                 contains=["params.inputs.x", "base64"])
    expect_error(-32602, c.infer, "mlp", {"x": {"dtype": "float", "shape": [1, 16],
                                                 "data_b64": good[:-8]}},
                 contains=["base64"])
    still_serving(c, tm, rng)


def test_bad_pool_references(served, hwoptd):
    c, tm, rng = served
    with c.create_pool(1 << 16, hugepages="off") as pool:
        blk = pool.alloc(64)           # [1,16] floats: 64 bytes
        size = pool.size

        def ref(offset, shape=(1, 16)):
            return {"x": {"pool": pool.id, "offset": offset, "dtype": "float",
                          "shape": list(shape)}}

        # The good one first: the block works.
        blk.write(np.ones((1, 16), np.float32))
        check_close(c.infer("mlp", ref(blk.offset))["probs"],
                    tm.ref("mlp", np.ones((1, 16), np.float32)))
        # Outside the pool.
        expect_error(-32602, c.infer, "mlp", ref(size), contains=["params.inputs.x", "outside"])
        expect_error(-32602, c.infer, "mlp", ref(size - 32), contains=["outside"])
        # Offset + size past 2^64: the 64-byte tensor is outside; a 4 KiB one overflows.
        expect_error(-32602, c.infer, "mlp", ref(18446744073709549568),
                     contains=["params.inputs.x", "18446744073709549568"])
        expect_error(-32602, c.infer, "mlp", ref(18446744073709549568, (64, 16)),
                     contains=["params.inputs.x", "overflow"])
        # Inside the pool but in no allocated block, or running past the block.
        expect_error(-32602, c.infer, "mlp", ref(4096), contains=["block"])
        expect_error(-32602, c.infer, "mlp", ref(blk.offset, (2, 16)), contains=["block"])
        # An output reference outside its block.
        expect_error(-32602, c.infer, "mlp", ref(blk.offset),
                     outputs={"probs": {"pool": pool.id, "offset": 8192}}, contains=["block"])
        # A pool that does not exist.
        expect_error(-32602, c.infer, "mlp", {"x": {"pool": 999999, "offset": 0,
                                                     "dtype": "float", "shape": [1, 16]}},
                     contains=["999999"])
        # A pool of another client.
        with connect(hwoptd, "other") as other:
            e = expect_error(-32602, other.infer, "mlp", ref(blk.offset),
                             contains=["params.inputs.x.pool", str(pool.id)])
            assert "not one of this client's" in e.message
            still_serving(other, tm, rng)
        # The output does not fit its reference.
        small = pool.alloc(64)
        expect_error(-32602, c.infer, "mlp", {"x": np.zeros((2, 16), np.float32)},
                     outputs={"probs": small}, contains=["params.outputs.probs"])
        entry = pool_entry(c, pool.id)
        assert entry is not None and entry["jobs"] == 0, entry
    still_serving(c, tm, rng)


def test_shape_overflow(served):
    c, tm, rng = served
    big = 2 ** 40
    expect_error(-32602, c.infer, "mlp", {"x": {"dtype": "float", "shape": [big, big],
                                                 "data": []}},
                 contains=["params.inputs.x", "overflow"])
    expect_error(-32602, c.infer, "mlp", {"x": {"dtype": "float", "shape": [2 ** 62, 16],
                                                 "data_b64": ""}},
                 contains=["params.inputs.x"])
    # Over max_tensor_bytes (1G by default) without overflowing.
    expect_error(-32602, c.infer, "mlp", {"x": {"dtype": "float", "shape": [2 ** 30, 16],
                                                 "data": []}},
                 contains=["max_tensor_bytes"])
    expect_error(-32602, c.infer, "mlp", {"x": {"dtype": "float", "shape": [-1, 16],
                                                 "data": []}},
                 contains=["shape"])
    still_serving(c, tm, rng)


def test_pool_quota(daemon, zoo):
    d = daemon(sections={"pools": {"pool_quota": "1M"}})
    with connect(d) as c:
        expect_error(-32002, c.create_pool, 2 << 20, contains=["pool_quota"])
        p = c.create_pool(768 << 10, hugepages="off")
        expect_error(-32002, c.create_pool, 512 << 10, contains=["pool_quota"])
        assert c.pools().quota == {"bytes": 1 << 20, "used": p.size}
        # The quota is per client: another one has its own.
        with connect(d, "other") as o:
            with o.create_pool(768 << 10, hugepages="off"):
                pass
        p.destroy()
        with c.create_pool(1 << 20, hugepages="off") as whole:
            assert whole.size == 1 << 20
        assert c.status()["pid"] == d.pid


def test_queue_full(daemon, zoo):
    tm = zoo
    d = daemon(sections={"scheduler": {"workers": 1, "max_queue": 1}})
    rng = np.random.default_rng(111)
    with connect(d) as c:
        blocker = load_and_block(c, tm, rng, "mlp")
        x = tm.random_input("mlp", rng)
        queued = c.infer_async("mlp", {"x": x})          # the queue's one place
        wait_for(lambda: own_job(c, queued), what="the job queued")
        expect_error(-32002, c.infer, "slow", {"x": np.zeros((1, 512), np.float32)},
                     contains=["max_queue"])
        with connect(d, "other") as o:
            expect_error(-32002, o.infer, "mlp", {"x": x}, contains=["max_queue"])
        c.cancel(request_id=blocker)
        with pytest.raises(hwopt.RPCError):
            c.infer_result(blocker)
        check_close(c.infer_result(queued)["probs"], tm.ref("mlp", x))
        # Room again.
        check_close(c.infer("mlp", {"x": x})["probs"], tm.ref("mlp", x))


def _nobody_infer(tmp, sock, x):
    """Runs, as nobody, a client that calls hello, infer (mlp) and job.list;
    returns {step: result or {"code", "message"}}."""
    argv = nobody_python(tmp, """
        import json, sys
        import numpy as np
        import hwopt
        c = hwopt.connect(sys.argv[1], timeout=60)
        out = {"hello": c.hello(client="nobody")}
        x = np.array(json.loads(sys.argv[2]), np.float32)
        steps = (("infer", lambda: c.infer("mlp", {"x": x}).outputs["probs"].tolist()),
                 ("jobs", lambda: c.jobs()),
                 ("pool", lambda: c.call("pool.list")))
        for key, fn in steps:
            try:
                out[key] = fn()
            except hwopt.RPCError as e:
                out[key] = {"code": e.code, "message": e.message}
        print(json.dumps(out))
    """)
    p = subprocess.run(argv + [sock, json.dumps(x.tolist())],
                       capture_output=True, text=True, timeout=60 * SLOW,
                       env=clean_env({"PYTHONDONTWRITEBYTECODE": "1"}))
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become nobody")
@pytest.mark.parametrize("submit_group", [None, "nogroup"])
def test_submit_needs_submit_group(daemon, zoo, submit_group):
    tm = zoo
    d = daemon(socket_group="nogroup", submit_group=submit_group)
    rng = np.random.default_rng(121)
    with connect(d) as c:
        load(c, tm, "mlp")
        x = tm.random_input("mlp", rng, rows=2)
        got = _nobody_infer(d.tmp, d.sock, x)
        assert got["hello"]["peer"]["admin"] is False
        if submit_group is None:
            assert "infer" not in got["hello"]["methods"]
            for step in ("infer", "jobs", "pool"):
                assert isinstance(got[step], dict) and got[step].get("code") == -32001, got
                assert "permission denied" in got[step]["message"], got
            assert counters(c, "mlp")["requests"] == 0
        else:
            assert "infer" in got["hello"]["methods"]
            check_close(np.array(got["infer"], np.float32), tm.ref("mlp", x), "as nobody")
            assert got["jobs"] == []
            assert got["pool"]["pools"] == []
            assert counters(c, "mlp")["ok"] == 1
        still_serving(c, tm, rng)
