"""The model zoo of the runtime's tests and benchmarks, built with
onnx.helper, each with a numpy reference. Weights come from a fixed seed so
every run builds the same files.

Models: mlp, cnn, transformer (an encoder block with the expanded LayerNorm
and MatMul-Softmax-MatMul attention patterns and the Erf GELU) and dq_matmul
(DynamicQuantizeLinear + MatMulInteger).
"""
import math

import numpy as np

for _alias, _type in (("float", float), ("int", int), ("bool", bool), ("object", object)):
    if _alias not in np.__dict__:
        setattr(np, _alias, _type)

import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

OPSET = 13


def _init(rng, name, shape, scale=None):
    fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
    s = scale if scale is not None else 1.0 / math.sqrt(max(fan_in, 1))
    a = (rng.standard_normal(shape) * s).astype(np.float32)
    return a, numpy_helper.from_array(a, name)


def _model(nodes, inputs, outputs, inits, name):
    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="hwoptd-tests")
    onnx.checker.check_model(m)
    return m


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def mlp(batch=32, d_in=256, hidden=1024, d_out=64, seed=1):
    rng = np.random.default_rng(seed)
    w1, t_w1 = _init(rng, "w1", (d_in, hidden))
    b1, t_b1 = _init(rng, "b1", (hidden,), 0.1)
    w2, t_w2 = _init(rng, "w2", (hidden, hidden))
    b2, t_b2 = _init(rng, "b2", (hidden,), 0.1)
    w3, t_w3 = _init(rng, "w3", (hidden, d_out))
    b3, t_b3 = _init(rng, "b3", (d_out,), 0.1)
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], name="fc1"),
        helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
        helper.make_node("MatMul", ["a1", "w2"], ["h2"], name="fc2"),
        helper.make_node("Add", ["h2", "b2"], ["h2b"], name="fc2_bias"),
        helper.make_node("Relu", ["h2b"], ["a2"], name="relu2"),
        helper.make_node("MatMul", ["a2", "w3"], ["h3"], name="head"),
        helper.make_node("Add", ["h3", "b3"], ["logits"], name="head_bias"),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=-1),
    ]
    m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", d_in])],
               [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", d_out])],
               [t_w1, t_b1, t_w2, t_b2, t_w3, t_b3], "mlp")

    def ref(x):
        a1 = np.maximum(x @ w1 + b1, 0)
        a2 = np.maximum(a1 @ w2 + b2, 0)
        return {"probs": _softmax(a2 @ w3 + b3)}

    x = rng.standard_normal((batch, d_in)).astype(np.float32)
    return m, {"x": x}, ref


def cnn(seed=2):
    rng = np.random.default_rng(seed)
    c1, t_c1 = _init(rng, "c1_w", (16, 3, 3, 3))
    g, t_g = _init(rng, "bn_g", (16,), 0.2)
    g += 1
    t_g = numpy_helper.from_array(g, "bn_g")
    be, t_be = _init(rng, "bn_b", (16,), 0.1)
    mu, t_mu = _init(rng, "bn_m", (16,), 0.1)
    var = (rng.random(16) + 0.5).astype(np.float32)
    t_var = numpy_helper.from_array(var, "bn_v")
    c2, t_c2 = _init(rng, "c2_w", (32, 16, 3, 3))
    c2b, t_c2b = _init(rng, "c2_b", (32,), 0.1)
    fw, t_fw = _init(rng, "fc_w", (32, 10))
    fb, t_fb = _init(rng, "fc_b", (10,), 0.1)
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales")
    nodes = [
        helper.make_node("Conv", ["x", "c1_w"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "bn_g", "bn_b", "bn_m", "bn_v"], ["bn1"],
                         name="bn1", epsilon=1e-5),
        helper.make_node("Relu", ["bn1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["p1", "c2_w", "c2_b"], ["c2"], name="conv2",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Resize", ["r2", "", "scales"], ["up"], name="up", mode="nearest"),
        helper.make_node("AveragePool", ["up"], ["ap"], name="pool2", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["ap"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="fc"),
    ]
    m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
               [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
               [t_c1, t_g, t_be, t_mu, t_var, t_c2, t_c2b, t_fw, t_fb, scales], "cnn")

    def conv(x, w, b=None, pad=1):
        n, c, h, wd = x.shape
        o, _, kh, kw = w.shape
        xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        oh, ow = h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1
        cols = np.empty((n, c, kh, kw, oh, ow), np.float64)
        for i in range(kh):
            for j in range(kw):
                cols[:, :, i, j] = xp[:, :, i:i + oh, j:j + ow]
        y = np.einsum("nckhij,ockh->noij", cols, w)
        return y if b is None else y + b[None, :, None, None]

    def ref(x):
        y = conv(x, c1)
        y = (y - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5) * \
            g[None, :, None, None] + be[None, :, None, None]
        y = np.maximum(y, 0)
        y = y.reshape(1, 16, 16, 2, 16, 2).max(axis=(3, 5))
        y = np.maximum(conv(y, c2, c2b), 0)
        y = y.repeat(2, axis=2).repeat(2, axis=3)
        y = y.reshape(1, 32, 16, 2, 16, 2).mean(axis=(3, 5))
        y = y.mean(axis=(2, 3))
        return {"logits": y @ fw + fb}

    x = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)
    return m, {"x": x}, ref


def _layernorm_nodes(prefix, x, gamma, beta, out):
    c = lambda v: f"{prefix}_{v}"  # noqa: E731
    return [
        helper.make_node("ReduceMean", [x], [c("mean")], name=c("mean"), axes=[-1]),
        helper.make_node("Sub", [x, c("mean")], [c("d")], name=c("sub")),
        helper.make_node("Pow", [c("d"), "two"], [c("d2")], name=c("pow")),
        helper.make_node("ReduceMean", [c("d2")], [c("var")], name=c("var"), axes=[-1]),
        helper.make_node("Add", [c("var"), "eps"], [c("vare")], name=c("add_eps")),
        helper.make_node("Sqrt", [c("vare")], [c("std")], name=c("sqrt")),
        helper.make_node("Div", [c("d"), c("std")], [c("n")], name=c("div")),
        helper.make_node("Mul", [c("n"), gamma], [c("s")], name=c("scale")),
        helper.make_node("Add", [c("s"), beta], [out], name=c("shift")),
    ]


def transformer(seq=64, d=256, heads=4, ff=1024, seed=3):
    rng = np.random.default_rng(seed)
    hd = d // heads
    inits, W = [], {}
    for name, shape, scale in (("wq", (d, d), None), ("wk", (d, d), None), ("wv", (d, d), None),
                               ("wo", (d, d), None), ("w1", (d, ff), None), ("w2", (ff, d), None),
                               ("bq", (d,), 0.1), ("bk", (d,), 0.1), ("bv", (d,), 0.1),
                               ("bo", (d,), 0.1), ("b1", (ff,), 0.1), ("b2", (d,), 0.1),
                               ("g1", (d,), 0.1), ("be1", (d,), 0.1), ("g2", (d,), 0.1),
                               ("be2", (d,), 0.1)):
        a, t = _init(rng, name, shape, scale)
        if name.startswith("g"):
            a += 1
            t = numpy_helper.from_array(a, name)
        W[name] = a
        inits.append(t)
    for name, val in (("two", 2.0), ("eps", 1e-5), ("scale", math.sqrt(hd)), ("sqrt2", math.sqrt(2)),
                      ("one", 1.0), ("half", 0.5)):
        inits.append(numpy_helper.from_array(np.array(val, dtype=np.float32), name))
    inits.append(numpy_helper.from_array(np.array([1, seq, heads, hd], dtype=np.int64), "heads_shape"))
    inits.append(numpy_helper.from_array(np.array([1, seq, d], dtype=np.int64), "model_shape"))
    N = helper.make_node
    nodes = _layernorm_nodes("ln1", "x", "g1", "be1", "h")
    for p in ("q", "k", "v"):
        nodes += [N("MatMul", ["h", f"w{p}"], [f"{p}0"], name=f"{p}_proj"),
                  N("Add", [f"{p}0", f"b{p}"], [f"{p}1"], name=f"{p}_bias"),
                  N("Reshape", [f"{p}1", "heads_shape"], [f"{p}2"], name=f"{p}_split"),
                  N("Transpose", [f"{p}2"], [f"{p}h"], name=f"{p}_heads", perm=[0, 2, 1, 3])]
    nodes += [
        N("Transpose", ["kh"], ["kt"], name="k_t", perm=[0, 1, 3, 2]),
        N("MatMul", ["qh", "kt"], ["s0"], name="scores"),
        N("Div", ["s0", "scale"], ["s1"], name="scale_scores"),
        N("Softmax", ["s1"], ["p"], name="softmax", axis=-1),
        N("MatMul", ["p", "vh"], ["ctx"], name="context"),
        N("Transpose", ["ctx"], ["ctx_t"], name="merge_t", perm=[0, 2, 1, 3]),
        N("Reshape", ["ctx_t", "model_shape"], ["ctx_m"], name="merge"),
        N("MatMul", ["ctx_m", "wo"], ["o0"], name="o_proj"),
        N("Add", ["o0", "bo"], ["o1"], name="o_bias"),
        N("Add", ["x", "o1"], ["r1"], name="residual1"),
    ]
    nodes += _layernorm_nodes("ln2", "r1", "g2", "be2", "h2")
    nodes += [
        N("MatMul", ["h2", "w1"], ["f0"], name="ff1"),
        N("Add", ["f0", "b1"], ["f1"], name="ff1_bias"),
        N("Div", ["f1", "sqrt2"], ["g0"], name="gelu_div"),
        N("Erf", ["g0"], ["g1e"], name="gelu_erf"),
        N("Add", ["g1e", "one"], ["g2e"], name="gelu_add"),
        N("Mul", ["f1", "g2e"], ["g3"], name="gelu_mul"),
        N("Mul", ["g3", "half"], ["g4"], name="gelu_half"),
        N("MatMul", ["g4", "w2"], ["f2"], name="ff2"),
        N("Add", ["f2", "b2"], ["f3"], name="ff2_bias"),
        N("Add", ["r1", "f3"], ["y"], name="residual2"),
    ]
    m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, d])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, seq, d])], inits,
               "transformer")

    def ln(x, g, b):
        mu = x.mean(-1, keepdims=True)
        v = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(v + 1e-5) * g + b

    def ref(x):
        x = x.astype(np.float64)
        h = ln(x, W["g1"], W["be1"])
        q, k, v = ((h @ W[f"w{p}"] + W[f"b{p}"]).reshape(1, seq, heads, hd).transpose(0, 2, 1, 3)
                   for p in "qkv")
        p = _softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd))
        ctx = (p @ v).transpose(0, 2, 1, 3).reshape(1, seq, d)
        r1 = x + ctx @ W["wo"] + W["bo"]
        h2 = ln(r1, W["g2"], W["be2"])
        f1 = h2 @ W["w1"] + W["b1"]
        gl = 0.5 * f1 * (1 + _erf(f1 / math.sqrt(2)))
        return {"y": r1 + gl @ W["w2"] + W["b2"]}

    x = rng.standard_normal((1, seq, d)).astype(np.float32)
    return m, {"x": x}, ref


def dq_matmul(m_rows=16, k=256, n=128, seed=4):
    rng = np.random.default_rng(seed)
    wq = rng.integers(-127, 128, (k, n), dtype=np.int8)
    w_scale = np.float32(0.02)
    inits = [numpy_helper.from_array(wq, "wq"),
             numpy_helper.from_array(np.array(0, dtype=np.int8), "w_zp"),
             numpy_helper.from_array(np.array(w_scale, dtype=np.float32), "w_scale")]
    N = helper.make_node
    nodes = [
        N("DynamicQuantizeLinear", ["x"], ["xq", "x_scale", "x_zp"], name="quantize"),
        N("MatMulInteger", ["xq", "wq", "x_zp", "w_zp"], ["acc"], name="matmul"),
        N("Cast", ["acc"], ["accf"], name="cast", to=TensorProto.FLOAT),
        N("Mul", ["x_scale", "w_scale"], ["s"], name="combined_scale"),
        N("Mul", ["accf", "s"], ["y"], name="dequantize"),
    ]
    m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["m", k])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["m", n])], inits,
               "dq_matmul")

    def ref(x):
        lo, hi = min(0.0, float(x.min())), max(0.0, float(x.max()))
        scale = np.float32((hi - lo) / 255)
        zp = np.clip(np.rint(-lo / scale), 0, 255)
        xq = np.clip(np.rint(x / scale) + zp, 0, 255)
        acc = (xq - zp) @ wq.astype(np.float64)
        return {"y": acc * (np.float64(scale) * np.float64(w_scale))}

    x = rng.standard_normal((m_rows, k)).astype(np.float32)
    return m, {"x": x}, ref


MODELS = {"mlp": mlp, "cnn": cnn, "transformer": transformer, "dq_matmul": dq_matmul}
