"""hwopt-run refuses bad input with a clear message and a non-zero exit:
missing files, unknown input names, wrong dtype or shape, bad options,
corrupt and invalid models (dangling input, cycle, type mismatch,
unsupported operator or opset)."""
import os
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import models

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RUNNER = os.environ.get("HWOPT_RUN") or os.path.join(REPO, "bin", "hwopt-run")


def run(*args):
    p = subprocess.run([RUNNER, *map(str, args)], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stderr


@pytest.fixture
def mlp(tmp_path):
    m, inputs, _ = models.mlp(batch=2, d_in=8, hidden=16, d_out=4)
    path = tmp_path / "mlp.onnx"
    path.write_bytes(m.SerializeToString())
    return path


def save_graph(tmp_path, nodes, inputs, outputs, opset=13, inits=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / "bad.onnx"
    path.write_bytes(m.SerializeToString())
    return path


def vi(name, dtype=TensorProto.FLOAT, shape=(2, 3)):
    return helper.make_tensor_value_info(name, dtype, list(shape))


def test_missing_model(tmp_path):
    rc, err = run(tmp_path / "nope.onnx")
    assert rc != 0 and "cannot open" in err


def test_corrupt_model(tmp_path):
    p = tmp_path / "junk.onnx"
    p.write_bytes(b"\x0a\xff\xff\xff\xff\x0f garbage")
    rc, err = run(p)
    assert rc != 0 and "protobuf" in err


def test_truncated_model(tmp_path, mlp):
    data = mlp.read_bytes()
    p = tmp_path / "cut.onnx"
    p.write_bytes(data[: len(data) // 2])
    rc, err = run(p)
    assert rc != 0 and err.strip()


def test_unknown_input_name(tmp_path, mlp):
    np.save(tmp_path / "x.npy", np.zeros((2, 8), np.float32))
    rc, err = run(mlp, "--input", f"nope={tmp_path / 'x.npy'}")
    assert rc != 0 and "no input named 'nope'" in err


def test_wrong_dtype(tmp_path, mlp):
    np.save(tmp_path / "x.npy", np.zeros((2, 8), np.int32))
    rc, err = run(mlp, "--input", f"x={tmp_path / 'x.npy'}")
    assert rc != 0 and "must be float, not int32" in err


def test_wrong_shape(tmp_path, mlp):
    np.save(tmp_path / "x.npy", np.zeros((2, 9), np.float32))
    rc, err = run(mlp, "--input", f"x={tmp_path / 'x.npy'}")
    assert rc != 0 and "dimension 1 must be 8, not 9" in err


def test_missing_input_file(tmp_path, mlp):
    rc, err = run(mlp, "--input", f"x={tmp_path / 'absent.npy'}")
    assert rc != 0 and "cannot open" in err


def test_corrupt_npy(tmp_path, mlp):
    p = tmp_path / "x.npy"
    p.write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'")
    rc, err = run(mlp, "--input", f"x={p}")
    assert rc != 0 and ".npy" in err


@pytest.mark.parametrize("opt", [["--threads", "0"], ["--precision", "fp7"],
                                 ["--iterations", "-1"], ["--dim", "batch"]])
def test_bad_options(mlp, opt):
    rc, err = run(mlp, *opt)
    assert rc != 0 and err.strip()


def test_dangling_input(tmp_path):
    p = save_graph(tmp_path, [helper.make_node("Add", ["x", "ghost"], ["y"], name="add1")],
                   [vi("x")], [vi("y")])
    rc, err = run(p)
    assert rc != 0 and "add1" in err and "ghost" in err


def test_cycle(tmp_path):
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="n1"),
             helper.make_node("Relu", ["a"], ["b"], name="n2"),
             helper.make_node("Relu", ["a"], ["y"], name="n3")]
    p = save_graph(tmp_path, nodes, [vi("x")], [vi("y")])
    rc, err = run(p)
    assert rc != 0 and "cycle" in err


def test_type_mismatch(tmp_path):
    nodes = [helper.make_node("Add", ["x", "i"], ["y"], name="mixed")]
    p = save_graph(tmp_path, nodes, [vi("x"), vi("i", TensorProto.INT64)], [vi("y")])
    rc, err = run(p)
    assert rc != 0 and "mixed" in err and "differ" in err


def test_unsupported_operator(tmp_path):
    nodes = [helper.make_node("Det", ["x"], ["y"], name="det")]
    p = save_graph(tmp_path, nodes, [vi("x", shape=(3, 3))], [vi("y", shape=())])
    rc, err = run(p)
    assert rc != 0 and "'Det'" in err and "det" in err


def test_unsupported_opset(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r")]
    p = save_graph(tmp_path, nodes, [vi("x")], [vi("y")], opset=18)
    rc, err = run(p)
    assert rc != 0 and "opset 18" in err


def test_operator_newer_than_opset(tmp_path):
    nodes = [helper.make_node("HardSwish", ["x"], ["y"], name="hs")]
    p = save_graph(tmp_path, nodes, [vi("x")], [vi("y")], opset=13)
    rc, err = run(p)
    assert rc != 0 and "HardSwish" in err and "opset 14" in err


def test_internal_operator_refused(tmp_path):
    nodes = [helper.make_node("FusedAttention", ["x", "x", "x"], ["y"], name="fa")]
    p = save_graph(tmp_path, nodes, [vi("x", shape=(1, 1, 2, 2))], [vi("y", shape=(1, 1, 2, 2))])
    rc, err = run(p)
    assert rc != 0 and "not supported" in err


def test_runtime_gather_out_of_range(tmp_path):
    nodes = [helper.make_node("Gather", ["x", "i"], ["y"], name="g")]
    p = save_graph(tmp_path, nodes, [vi("x", shape=(3,)), vi("i", TensorProto.INT64, (1,))],
                   [vi("y", shape=(1,))])
    np.save(tmp_path / "x.npy", np.zeros(3, np.float32))
    np.save(tmp_path / "i.npy", np.array([7], np.int64))
    rc, err = run(p, "--input", f"x={tmp_path / 'x.npy'}", "--input", f"i={tmp_path / 'i.npy'}")
    assert rc != 0 and "g" in err and "range" in err


def test_corrupt_pb_input(tmp_path, mlp):
    p = tmp_path / "x.pb"
    p.write_bytes(b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x42\x07")
    rc, err = run(mlp, "--input", f"x={p}")
    assert rc != 0 and "x.pb" in err


def test_pb_input_with_wrong_element_count(tmp_path, mlp):
    from onnx import numpy_helper
    t = numpy_helper.from_array(np.zeros((2, 8), np.float32), "x")
    t.raw_data = t.raw_data[:-4]  # one float short of the declared shape
    p = tmp_path / "x.pb"
    p.write_bytes(t.SerializeToString())
    rc, err = run(mlp, "--input", f"x={p}")
    assert rc != 0 and "raw data holds 60 bytes" in err
