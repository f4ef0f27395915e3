"""Reduced precisions through hwopt-run: bf16, int8 and int4 weights give
outputs near the numpy reference, report their accuracy against fp32,
honour --keep-fp32, use calibration inputs for static int8 ranges, and
are refused with the figure when the cosine bound is not met."""
import json
import subprocess

import numpy as np
import pytest

import models
from test_models import RUNNER, run_model


def cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# Error bounds against the float64 reference: bf16 rounds weights and
# activations to 8 bits of mantissa, int8 to 8 bits per row/channel, int4
# to 16 levels per block of 32 weights.
BOUNDS = {"bf16": 0.9999, "int8": 0.999, "int4": 0.99}


@pytest.mark.parametrize("prec", ["bf16", "int8", "int4"])
@pytest.mark.parametrize("name,reduced", [("mlp", 3), ("transformer", 6)])
def test_precision_close_to_reference(tmp_path, name, reduced, prec):
    report, got, want = run_model(tmp_path, name, extra=["--precision", prec])
    assert report["precision"] == prec
    assert report["graph"]["reduced_nodes"] == reduced
    acc = report["accuracy"]
    assert acc["inputs"] == "random" and acc["static_ranges"] is False
    (out,) = acc["outputs"]
    assert BOUNDS[prec] <= out["cosine"] <= 1.0 + 1e-9, out
    assert out["max_abs_err"] > 0 and out["mse"] > 0, out
    for k in want:
        assert cosine(got[k], want[k]) >= BOUNDS[prec], k
        assert not np.allclose(got[k], want[k], rtol=1e-6, atol=1e-7), "not quantized?"


def test_cnn_int8_quantizes_convolutions(tmp_path):
    report, got, want = run_model(tmp_path, "cnn", extra=["--precision", "int8"])
    # two convolutions and the classifier Gemm
    assert report["graph"]["reduced_nodes"] == 3
    assert cosine(got["logits"], want["logits"]) >= 0.999


def test_fp32_has_no_accuracy_report(tmp_path):
    report, _, _ = run_model(tmp_path, "mlp")
    assert report["graph"]["reduced_nodes"] == 0
    assert "accuracy" not in report


@pytest.mark.parametrize("pattern,reduced", [("head", 2), ("MatMul", 1), ("fc*", 1),
                                             ("*", 0)])
def test_keep_fp32_patterns(tmp_path, pattern, reduced):
    report, got, want = run_model(tmp_path, "mlp",
                                  extra=["--precision", "int8", "--keep-fp32", pattern])
    assert report["graph"]["reduced_nodes"] == reduced
    if reduced == 0:
        assert "accuracy" not in report
        np.testing.assert_allclose(got["probs"], want["probs"], rtol=1e-3, atol=1e-5)


def test_calibration_gives_static_ranges(tmp_path):
    model, inputs, ref = models.mlp()
    calib = []
    rng = np.random.default_rng(7)
    for i in range(3):
        f = tmp_path / f"calib{i}.npy"
        np.save(f, rng.standard_normal(inputs["x"].shape).astype(np.float32))
        calib += ["--calib", f"x={f}"]
    report, got, want = run_model(tmp_path, "mlp", extra=["--precision", "int8", *calib])
    acc = report["accuracy"]
    assert acc["inputs"] == "calibration" and acc["sets"] == 3
    assert acc["static_ranges"] is True
    assert acc["outputs"][0]["cosine"] >= 0.999
    assert cosine(got["probs"], want["probs"]) >= 0.999
    # static ranges differ from per-row dynamic ones
    dyn, got_dyn, _ = run_model(tmp_path, "mlp", extra=["--precision", "int8"])
    assert not np.array_equal(got["probs"], got_dyn["probs"])


def _runner(tmp_path, name, *extra):
    model, inputs, _ = models.MODELS[name]()
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(model.SerializeToString())
    return subprocess.run([RUNNER, str(path), "--iterations", "1", *extra],
                          capture_output=True, text=True, timeout=300), inputs


def test_refused_below_bound_with_figure(tmp_path):
    p, _ = _runner(tmp_path, "transformer", "--precision", "int4", "--min-cosine", "0.99999")
    assert p.returncode != 0
    msg = p.stderr
    assert "int4 model is refused" in msg and "output 'y'" in msg, msg
    assert "below the bound 0.99999 " in msg and "cosine similarity 0.99" in msg, msg
    assert "on random inputs" in msg, msg
    # the same model passes the default bound
    p, _ = _runner(tmp_path, "transformer", "--precision", "int4")
    assert p.returncode == 0, p.stderr


def test_negative_bound_never_refuses(tmp_path):
    p, _ = _runner(tmp_path, "transformer", "--precision", "int4", "--min-cosine", "-1",
                   "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["accuracy"]["outputs"][0]["cosine"] < 0.99999


@pytest.mark.parametrize("extra,needle", [
    (["--calib", "nope=X"], "calibration input 'nope' is not an input of the model"),
    (["--calib", "x=/nonexistent.npy"], "/nonexistent.npy"),
    (["--min-cosine", "2"], "--min-cosine wants a number <= 1"),
    (["--min-cosine", "abc"], "--min-cosine wants a number <= 1"),
    (["--calib", "x"], "--calib wants NAME=FILE"),
])
def test_calibration_errors(tmp_path, extra, needle):
    if extra[0] == "--calib" and extra[1] == "nope=X":
        f = tmp_path / "c.npy"
        np.save(f, np.zeros((2, 256), np.float32))
        extra = ["--calib", f"nope={f}"]
    p, _ = _runner(tmp_path, "mlp", "--precision", "int8", *extra)
    assert p.returncode != 0
    assert needle in p.stderr, p.stderr


def test_calibration_shape_mismatch_is_an_error(tmp_path):
    f = tmp_path / "c.npy"
    np.save(f, np.zeros((2, 100), np.float32))
    p, _ = _runner(tmp_path, "mlp", "--precision", "int8", "--calib", f"x={f}")
    assert p.returncode != 0
    assert "accuracy check at int8 failed" in p.stderr, p.stderr


def test_calibration_sets_must_name_every_input(tmp_path):
    from onnx import TensorProto, helper, numpy_helper
    w = np.random.default_rng(3).standard_normal((8, 4)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["s"]), helper.make_node("MatMul", ["s", "w"], ["y"])],
        "two", [helper.make_tensor_value_info(k, TensorProto.FLOAT, [2, 8]) for k in "ab"],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
        [numpy_helper.from_array(w, "w")])
    path = tmp_path / "two.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
                     .SerializeToString())
    f = tmp_path / "c.npy"
    np.save(f, np.ones((2, 8), np.float32))
    base = [RUNNER, str(path), "--iterations", "1", "--precision", "int8"]
    p = subprocess.run(base + ["--calib", f"a={f}", "--calib", f"a={f}", "--calib", f"b={f}"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "calibration gives 1 tensors for input 'b' but 2 for 'a'" in p.stderr, p.stderr
    p = subprocess.run(base + ["--calib", f"a={f}", "--calib", f"b={f}", "--json"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["accuracy"]["sets"] == 1
