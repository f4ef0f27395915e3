"""Models and inference through the Python client (clients/python/hwopt):
model.load / model.list / model.unload, models named in the configuration,
results against the numpy references of tests/models/models.py, and the
three ways a tensor travels (inline list, inline base64, pool reference)
giving bit-identical outputs."""

import numpy as np
import pytest

import hwopt
from conftest import wait_for
from jobs_common import LOAD_TIMEOUT, check_close, connect, counters, expect_error, load

ZERO_COUNTERS = {"requests": 0, "ok": 0, "failed": 0, "cancelled": 0, "expired": 0,
                 "batches": 0, "batched_requests": 0, "queued": 0, "running": 0}


def check_entry(entry, name, path, in_shape, out_name, out_shape, batchable):
    assert entry["name"] == name
    assert entry["path"] == path
    assert entry["state"] == "ready"
    assert entry["precision"] == "fp32"
    assert entry["batchable"] is batchable
    assert [(i["name"], i["dtype"], i["shape"]) for i in entry["inputs"]] == \
        [("x", "float", in_shape)], entry["inputs"]
    assert [(o["name"], o["dtype"], o["shape"]) for o in entry["outputs"]] == \
        [(out_name, "float", out_shape)], entry["outputs"]
    for k, v in ZERO_COUNTERS.items():
        assert entry["counters"][k] == v, (k, entry["counters"])
    assert entry["memory_bytes"]["weights"] > 0


# --- 1. load, infer, unload -----------------------------------------------------


def test_load_infer_unload(hwoptd, zoo):
    tm = zoo
    rng = np.random.default_rng(11)
    with connect(hwoptd) as c:
        assert c.models() == []
        e = load(c, tm, "mlp", max_batch=4)
        check_entry(e, "mlp", tm.path("mlp"), [-1, 16], "probs", [-1, 16], True)
        assert e["max_batch"] == 4
        assert e["inputs"][0]["dim_names"][0] == "batch"
        e = load(c, tm, "cnn")
        check_entry(e, "cnn", tm.path("cnn"), [1, 3, 32, 32], "logits", [1, 10], False)
        e = load(c, tm, "transformer")
        check_entry(e, "transformer", tm.path("transformer"), [1, 8, 32], "y", [1, 8, 32], False)
        assert sorted(m["name"] for m in c.models()) == ["cnn", "mlp", "transformer"]

        runs = {"mlp": 3, "cnn": 2, "transformer": 2}
        for name, n in runs.items():
            out = tm.io[name][1]
            for k in range(n):
                x = tm.random_input(name, rng, rows=k + 1)
                r = c.infer(name, {"x": x})
                assert r.model == name
                assert isinstance(r.job, int) and r.job > 0
                assert r.batch == {"requests": 1, "rows": x.shape[0]}
                assert set(r.outputs) == {out}
                check_close(r.outputs[out], tm.ref(name, x), "%s run %d" % (name, k))
                for t in ("queue_us", "compute_us", "total_us"):
                    assert r.timings[t] >= 0
                assert r.workers and all(isinstance(w, int) for w in r.workers)
            cn = counters(c, name)
            assert cn["requests"] == n and cn["ok"] == n, cn
            assert cn["failed"] == cn["cancelled"] == cn["expired"] == 0, cn
            assert cn["queued"] == cn["running"] == 0, cn

        u = c.unload_model("mlp", timeout=LOAD_TIMEOUT)
        assert u == {"name": "mlp", "finished": 0, "cancelled": 0}
        assert sorted(m["name"] for m in c.models()) == ["cnn", "transformer"]
        e = expect_error(-32003, c.infer, "mlp", {"x": tm.random_input("mlp", rng)})
        assert "mlp" in e.message
        expect_error(-32003, c.models, "mlp")
        expect_error(-32003, c.unload_model, "mlp")

        # The others are untouched, and the name can be loaded again.
        x = tm.random_input("cnn", rng)
        check_close(c.infer("cnn", {"x": x})["logits"], tm.ref("cnn", x), "cnn after unload")
        e = load(c, tm, "mlp")
        assert e["counters"]["requests"] == 0
        x = tm.random_input("mlp", rng, rows=2)
        check_close(c.infer("mlp", {"x": x})["probs"], tm.ref("mlp", x), "mlp reloaded")


def test_models_from_the_configuration(daemon, zoo):
    tm = zoo
    d = daemon(sections={
        "model mlp": {"path": tm.path("mlp"), "max_batch": 4, "batch_delay_us": 100},
        "model transformer": {"path": tm.path("transformer")},
    })
    rng = np.random.default_rng(12)
    with connect(d) as c:
        def ready():
            ms = {m["name"]: m for m in c.models()}
            if set(ms) == {"mlp", "transformer"} and \
                    all(m["state"] == "ready" for m in ms.values()):
                return ms
            return None
        ms = wait_for(ready, timeout=LOAD_TIMEOUT, interval=0.05, what="configured models ready")
        assert ms["mlp"]["path"] == tm.path("mlp")
        assert ms["mlp"]["max_batch"] == 4 and ms["mlp"]["batch_delay_us"] == 100
        assert ms["mlp"]["batchable"] is True
        assert ms["transformer"]["max_batch"] == 1
        for name in ("mlp", "transformer"):
            x = tm.random_input(name, rng, rows=2)
            r = c.infer(name, {"x": x})
            check_close(r.outputs[tm.io[name][1]], tm.ref(name, x), name)
            assert counters(c, name)["ok"] == 1


def test_load_refuses_bad_models_and_params(hwoptd, zoo, tmp_path):
    """A file that is not ONNX, a missing file, a relative path, a taken or
    bad name, a bad precision: each refused with the right code and a
    message, and the daemon keeps serving the model already loaded."""
    tm = zoo
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x08\x07this is not a model" * 50)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    rng = np.random.default_rng(5)
    with connect(hwoptd) as c:
        load(c, tm, "mlp")
        expect_error(-32007, c.call, "model.load", name="junk", path=str(junk))
        expect_error(-32007, c.call, "model.load", name="empty", path=str(empty))
        expect_error(-32003, c.call, "model.load", name="gone", path=str(tmp_path / "nope.onnx"),
                     contains="nope.onnx")
        expect_error(-32602, c.call, "model.load", name="rel", path="relative/m.onnx",
                     contains="absolute")
        expect_error(-32602, c.call, "model.load", name="mlp", path=tm.path("mlp"),
                     contains="already loaded")
        expect_error(-32602, c.call, "model.load", name="a/b", path=tm.path("mlp"),
                     contains="params.name")
        expect_error(-32602, c.call, "model.load", name="p", path=tm.path("mlp"),
                     precision="fp8", contains="params.precision")
        expect_error(-32602, c.call, "model.load", name="k", path=tm.path("mlp"),
                     keep_fp32="head", contains="params.keep_fp32")
        assert [m["name"] for m in c.models()] == ["mlp"]
        x = tm.random_input("mlp", rng)
        check_close(c.infer("mlp", {"x": x}).outputs["probs"], tm.ref("mlp", x), "mlp")


def test_config_model_that_fails_to_load(daemon, zoo, tmp_path):
    """A [model] section whose file is not a model is logged and left out;
    the others load and the daemon serves."""
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    d = daemon(sections={"model junk": {"path": str(junk)},
                         "model mlp": {"path": zoo.path("mlp")}})
    with connect(d) as c:
        wait_for(lambda: [m["name"] for m in c.models() if m["state"] == "ready"] == ["mlp"],
                 timeout=LOAD_TIMEOUT, interval=0.05, what="mlp ready")
        d.wait_log("model junk: cannot load")
        assert [m["name"] for m in c.models()] == ["mlp"]


# --- 2. inline list, inline base64 and pool references ------------------------------


def _bits(a):
    assert isinstance(a, np.ndarray) and a.dtype == np.float32, a
    return list(a.shape), a.tobytes()


@pytest.mark.parametrize("name,rows", [("mlp", 3), ("cnn", 1), ("transformer", 1)])
def test_encodings_give_identical_outputs(hwoptd, zoo, name, rows):
    tm = zoo
    inp, out = tm.io[name]
    rng = np.random.default_rng(13)
    x = tm.random_input(name, rng, rows=rows)
    with connect(hwoptd) as c:
        load(c, tm, name)
        # Inline list in, list out (auto).
        r_list = c.infer(name, {inp: hwopt.tensor(x, encoding="list")})
        assert "data" in r_list.raw["outputs"][out], r_list.raw["outputs"][out].keys()
        # Inline base64 in, base64 out (auto).
        r_b64 = c.infer(name, {inp: x})
        assert "data_b64" in r_b64.raw["outputs"][out], r_b64.raw["outputs"][out].keys()
        # The explicit encodings the other way round.
        r_list_b64 = c.infer(name, {inp: hwopt.tensor(x, encoding="list")}, encoding="base64")
        assert "data_b64" in r_list_b64.raw["outputs"][out]
        r_b64_list = c.infer(name, {inp: x}, encoding="list")
        assert "data" in r_b64_list.raw["outputs"][out]
        check_close(r_list[out], tm.ref(name, x), "list")

        with c.create_pool(1 << 20) as pool:
            xin = pool.alloc(x.nbytes)
            xin.write(x)
            y_bytes = r_list[out].nbytes
            yout = pool.alloc(y_bytes)
            # Pool reference in, inline out: base64 (auto: list only for all-list inputs).
            r_pool = c.infer(name, {inp: xin.ref("float", x.shape)})
            assert "data_b64" in r_pool.raw["outputs"][out], r_pool.raw["outputs"][out].keys()
            # Pool reference in, output written to the pool.
            r_pp = c.infer(name, {inp: xin.ref("float", x.shape)}, outputs={out: yout})
            o = r_pp.raw["outputs"][out]
            assert "data" not in o and "data_b64" not in o, o
            assert o["pool"] == pool.id and o["offset"] == yout.offset, o
            assert o["bytes"] == y_bytes and o["dtype"] == "float", o
            assert o["shape"] == list(r_list[out].shape), o
            from_pool = yout.read("float", o["shape"])
            # Inline input, output to the pool with an explicit room.
            zout = pool.alloc(y_bytes)
            r_ip = c.infer(name, {inp: x}, outputs={out: {"pool": pool.id, "offset": zout.offset,
                                                          "bytes": y_bytes}})
            from_pool2 = zout.read("float", o["shape"])

            want = _bits(r_list[out])
            for what, y in (("base64", r_b64[out]), ("list->base64", r_list_b64[out]),
                            ("base64->list", r_b64_list[out]), ("pool in", r_pool[out]),
                            ("pool in/out (client)", r_pp[out]), ("pool in/out (read)", from_pool),
                            ("inline in, pool out (client)", r_ip[out]),
                            ("inline in, pool out (read)", from_pool2)):
                assert _bits(y) == want, "%s output differs from the inline-list one" % what
        cn = counters(c, name)
        assert cn["ok"] == 7 and cn["failed"] == 0, cn
