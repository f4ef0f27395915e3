"""ConvInteger over the window geometries the integer im2col handles
(strides, dilations, asymmetric pads, groups, 1-D and 2-D), exact against
a numpy reference; and int8 Conv (--precision int8) on the same
geometries, close to float."""
import subprocess

import numpy as np
import pytest
from onnx import TensorProto, helper, mapping, numpy_helper

from test_models import RUNNER

GEOMETRIES = [
    # (x shape, w shape, attrs)
    ((1, 3, 9, 11), (4, 3, 3, 3), dict(pads=[1, 1, 1, 1])),
    ((2, 4, 10, 9), (6, 2, 3, 2), dict(group=2, strides=[2, 3], pads=[0, 2, 1, 0])),
    ((1, 2, 12, 12), (3, 2, 3, 3), dict(dilations=[2, 3], pads=[2, 1, 0, 3])),
    ((1, 3, 7, 8), (5, 3, 1, 1), dict(strides=[2, 2])),
    ((1, 2, 17), (3, 2, 4), dict(strides=[2], pads=[3, 1], dilations=[2])),
]


def conv_ref(x, w, strides=None, pads=None, dilations=None, group=1):
    """Direct convolution in int64 (or float64) over zero-padded x."""
    sp = x.ndim - 2
    strides = strides or [1] * sp
    dilations = dilations or [1] * sp
    pads = pads or [0] * (2 * sp)
    xp = np.pad(x, [(0, 0), (0, 0)] + [(pads[i], pads[sp + i]) for i in range(sp)])
    n, c = x.shape[:2]
    m, cg = w.shape[:2]
    ks = w.shape[2:]
    out = [(xp.shape[2 + i] - (ks[i] - 1) * dilations[i] - 1) // strides[i] + 1
           for i in range(sp)]
    y = np.zeros((n, m, *out), dtype=np.result_type(x, w, np.int64))
    mg = m // group
    for o in range(m):
        g = o // mg
        for idx in np.ndindex(*out):
            sl = tuple(slice(idx[i] * strides[i], idx[i] * strides[i] + (ks[i] - 1) * dilations[i]
                             + 1, dilations[i]) for i in range(sp))
            patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + sl]
            y[(slice(None), o) + idx] = (patch * w[o]).reshape(n, -1).sum(axis=1)
    return y


def run(tmp_path, nodes, inputs, inits, out_name, out_type, extra=()):
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(k, mapping.NP_TYPE_TO_TENSOR_TYPE[v.dtype], v.shape)
         for k, v in inputs.items()],
        [helper.make_tensor_value_info(out_name, out_type, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    cmd = [RUNNER, str(path), "--iterations", "1", "--output-dir", str(tmp_path / "out"), *extra]
    for k, v in inputs.items():
        np.save(tmp_path / f"{k}.npy", v)
        cmd += ["--input", f"{k}={tmp_path / f'{k}.npy'}"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return np.load(tmp_path / "out" / f"{out_name}.npy")


@pytest.mark.parametrize("geo", range(len(GEOMETRIES)))
def test_conv_integer_exact(tmp_path, geo):
    xs, ws, attrs = GEOMETRIES[geo]
    rng = np.random.default_rng(geo)
    x = rng.integers(0, 256, xs).astype(np.uint8)
    w = rng.integers(-128, 128, ws).astype(np.int8)
    xzp = np.array(7, np.uint8)
    node = helper.make_node("ConvInteger", ["x", "w", "xzp"], ["y"], **attrs)
    got = run(tmp_path, [node], {"x": x}, [numpy_helper.from_array(w, "w"),
                                           numpy_helper.from_array(xzp, "xzp")],
              "y", TensorProto.INT32)
    want = conv_ref(x.astype(np.int64) - 7, w.astype(np.int64), **attrs)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("geo", range(len(GEOMETRIES)))
def test_int8_conv_close_to_float(tmp_path, geo):
    xs, ws, attrs = GEOMETRIES[geo]
    rng = np.random.default_rng(100 + geo)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], **attrs)
    got = run(tmp_path, [node], {"x": x}, [numpy_helper.from_array(w, "w"),
                                           numpy_helper.from_array(b, "b")],
              "y", TensorProto.FLOAT, extra=["--precision", "int8"])
    want = conv_ref(x.astype(np.float64), w.astype(np.float64), **attrs)
    want += b.reshape((1, -1) + (1,) * (x.ndim - 2))
    cos = float(got.ravel() @ want.ravel() / (np.linalg.norm(got) * np.linalg.norm(want)))
    assert cos > 0.999, cos
    assert np.abs(got - want).max() < 0.05 * np.abs(want).max()
