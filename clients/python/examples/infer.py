#!/usr/bin/python3
"""Runs one ONNX model through hwoptd twice: inputs inline, then through a
shared-memory pool.

    PYTHONPATH=clients/python /usr/bin/python3 clients/python/examples/infer.py model.onnx
    ... model.onnx --dim batch=8 --precision bf16 --socket /tmp/hwoptd.sock

Inputs are random (numpy) or zeros (without numpy); open dimensions take
--dim NAME=N, else 1.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import hwopt  # noqa: E402
from hwopt import tensors  # noqa: E402

np = tensors.np


def parse_dims(items):
    dims = {}
    for item in items:
        name, _, value = item.partition("=")
        if not value.isdigit():
            raise SystemExit("--dim takes NAME=N, not %r" % item)
        dims[name] = int(value)
    return dims


def dim_name(spec, i):
    """The symbolic name of dimension i (dim_names may be a list or a map)."""
    names = spec.get("dim_names")
    if isinstance(names, list) and i < len(names):
        return names[i]
    if isinstance(names, dict):
        return names.get(str(i), names.get(i))
    return None


def concrete_shape(spec, dims):
    return [d if d >= 0 else dims.get(dim_name(spec, i), 1) for i, d in enumerate(spec["shape"])]


def make_input(dtype, shape):
    """Random data with numpy, zeros without."""
    if np is None:
        return hwopt.Tensor(dtype, shape, bytes(tensors.nbytes(dtype, shape)))
    rng = np.random.default_rng(0)
    if dtype in ("float", "double", "float16", "bfloat16"):
        a = rng.standard_normal(shape).astype(np.float32)
        return a if dtype in ("float", "bfloat16") else a.astype({"double": np.float64,
                                                                   "float16": np.float16}[dtype])
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    return rng.integers(0, 10, shape).astype(tensors.DTYPES[dtype].np_str)


def show(name, value):
    if np is not None and isinstance(value, np.ndarray):
        flat = value.ravel()[:6].tolist()
        return "%s %s %s %s" % (name, tensors.dtype_name(value.dtype), list(value.shape), flat)
    if isinstance(value, hwopt.Tensor):
        return "%s %s %s %s" % (name, value.dtype, value.shape, value.tolist()[:6])
    return "%s %r" % (name, value)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="the .onnx file")
    ap.add_argument("--name", help="the model's name in the daemon (default: the file's stem)")
    ap.add_argument("--socket", help="the daemon's socket (default: $HWOPT_SOCKET, ...)")
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--dim", action="append", default=[], metavar="NAME=N")
    args = ap.parse_args()
    name = args.name or os.path.splitext(os.path.basename(args.model))[0]
    dims = parse_dims(args.dim)

    with hwopt.connect(args.socket) as c:
        info = c.hello(client="hwopt-example")
        print("connected to %s %s (protocol %s) at %s" % (info["daemon"], info["version"],
                                                          info["protocol"], c.path))
        t0 = time.monotonic()
        entry = c.load_model(name, args.model, precision=args.precision, timeout=600)
        print("loaded %s (%s) in %.1f ms" % (name, entry.get("precision"),
                                             (time.monotonic() - t0) * 1000))
        try:
            specs = {s["name"]: (s["dtype"], concrete_shape(s, dims)) for s in entry["inputs"]}
            inputs = {n: make_input(dt, shape) for n, (dt, shape) in specs.items()}

            # 1. Inline: inputs and outputs travel as base64 in the JSON lines.
            r = c.infer(name, {n: hwopt.tensor(v, dtype=specs[n][0]) for n, v in inputs.items()})
            print("inline: job %s on CPUs %s, %s" % (r.job, r.workers, r.timings))
            for n, v in r.outputs.items():
                print("  " + show(n, v))

            # 2. Through a pool: only {pool, offset} references cross the socket.
            out_specs = {n: (t["dtype"], t["shape"]) for n, t in r.raw["outputs"].items()}
            sizes = [tensors.nbytes(dt, shape) for dt, shape in
                     list(specs.values()) + list(out_specs.values())]
            total = sum((max(s, 1) + 63) // 64 * 64 for s in sizes)
            with c.create_pool(total) as pool:
                print("pool %s: %d bytes, %s pages" % (pool.id, pool.size, pool.page_kind))
                refs = {}
                for n, (dt, shape) in specs.items():
                    block = pool.alloc(max(tensors.nbytes(dt, shape), 1))
                    block.write(inputs[n], dtype=dt)
                    refs[n] = block.ref(dt, shape)
                outs = {n: pool.alloc(max(tensors.nbytes(dt, shape), 1))
                        for n, (dt, shape) in out_specs.items()}
                r2 = c.infer(name, refs, outputs=outs)
                print("pool: job %s on CPUs %s, %s" % (r2.job, r2.workers, r2.timings))
                for n, v in r2.outputs.items():
                    same = ""
                    if np is not None and isinstance(v, np.ndarray):
                        diff = float(np.max(np.abs(v.astype(np.float64) - r.outputs[n]),
                                            initial=0.0))
                        same = " (max |diff| vs inline: %g)" % diff
                    print("  " + show(n, v) + same)
                print("pool stats:", {k: v for k, v in pool.stats().items()
                                      if k in ("used", "peak", "blocks", "jobs")})
        finally:
            print("unloaded:", c.unload_model(name, timeout=600))


if __name__ == "__main__":
    try:
        main()
    except hwopt.RPCError as e:
        raise SystemExit("hwoptd: %s" % e)
    except (OSError, hwopt.ConnectionClosed) as e:
        raise SystemExit(str(e))
