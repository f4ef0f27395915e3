"""Models built with onnx.helper run through hwopt-run and compared with
numpy references; the optimizer's fusions and the arena are checked on the
way. Environment: HWOPT_RUN (default <repo>/bin/hwopt-run)."""
import json
import os
import subprocess

import numpy as np
import pytest

import models

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RUNNER = os.environ.get("HWOPT_RUN") or os.path.join(REPO, "bin", "hwopt-run")


def run_model(tmp_path, name, threads=1, extra=()):
    model, inputs, ref = models.MODELS[name]()
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(model.SerializeToString())
    cmd = [RUNNER, str(path), "--warmup", "1", "--iterations", "2", "--json",
           "--threads", str(threads), "--output-dir", str(tmp_path / "out"), *extra]
    for k, v in inputs.items():
        np.save(tmp_path / f"{k}.npy", v)
        cmd += ["--input", f"{k}={tmp_path / f'{k}.npy'}"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    want = ref(*inputs.values())
    got = {k: np.load(tmp_path / "out" / f"{k}.npy") for k in want}
    return report, got, want


# Float tolerance: float32 accumulation over K up to 1024 against a
# float64 reference.
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", ["mlp", "cnn", "transformer"])
def test_model_matches_numpy(tmp_path, name, threads):
    report, got, want = run_model(tmp_path, name, threads)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-3, atol=1e-4, err_msg=k)
    assert report["planned"] is True
    assert 0 < report["arena_bytes"] <= report["intermediate_bytes"]


def test_dq_matmul_matches_numpy(tmp_path):
    report, got, want = run_model(tmp_path, "dq_matmul")
    # Integer accumulation is exact; only the final float scaling rounds.
    np.testing.assert_allclose(got["y"], want["y"], rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name,fused_at_least", [("mlp", 4), ("cnn", 3), ("transformer", 10)])
def test_fusions_shrink_graph(tmp_path, name, fused_at_least):
    report, _, _ = run_model(tmp_path, name)
    g = report["graph"]
    assert g["fused"] >= fused_at_least, g
    assert g["nodes"] < g["nodes_loaded"], g


def test_transformer_uses_fused_kernels(tmp_path):
    report, _, _ = run_model(tmp_path, "transformer", extra=["--profile"])
    ops = set(report["op_types"])
    assert {"FusedAttention", "LayerNormalization"} <= ops, ops
    assert not ops & {"Softmax", "Erf", "ReduceMean", "Pow", "Sqrt"}, ops


def test_arena_smaller_than_intermediates(tmp_path):
    report, _, _ = run_model(tmp_path, "transformer")
    assert report["arena_bytes"] < report["intermediate_bytes"]
