"""make bench-models: the test models (tests/models/models.py) run by
hwopt-run and by ONNX Runtime (onnxruntime-node) in the same run, on 1 and
2 threads; prints fp32 latency ratios (ours / ONNX Runtime, lower is
better), and for our bf16, int8 (dynamic, and static from calibration
inputs) and int4 the speed-up over our fp32 with the cosine similarity of
the outputs to fp32; writes JSON rows.

usage: models.py HWOPT_RUN OUT_DIR [ORT_DIR] [--iterations K] [--repeats R]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "models"))
import models  # noqa: E402


def p50(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip())
    report = json.loads(p.stdout)
    return report["latency_ms"]["p50"], report


def interleaved_medians(cmds, repeats):
    """Runs every command once per round, `repeats` rounds, so drift on a
    shared machine falls on all alike; medians of p50 and the last report
    of each."""
    runs = {k: [] for k in cmds}
    reports = {}
    for _ in range(repeats):
        for k, (cmd, env) in cmds.items():
            t, reports[k] = p50(cmd, env)
            runs[k].append(t)
    return {k: float(np.median(v)) for k, v in runs.items()}, reports


def cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runner")
    ap.add_argument("out_dir")
    ap.add_argument("ort_dir", nargs="?")
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    node = shutil.which("node")
    ort_ok = bool(node and a.ort_dir and os.path.isdir(os.path.join(a.ort_dir, "node_modules",
                                                                      "onnxruntime-node")))
    if not ort_ok:
        print("bench-models: node or onnxruntime-node missing; ONNX Runtime column skipped")
    env = dict(os.environ, NODE_PATH=os.path.join(a.ort_dir or "", "node_modules"))
    rows = []
    print("fp32 against ONNX Runtime (ratio = ours / ORT, lower is better); reduced precisions "
          "against our fp32 (speed-up = fp32 / precision, cosine of the outputs to fp32 on the "
          "bench input)")
    print(f"{'model':<12} {'thr':>3} {'precision':<12} {'hwopt ms':>9} {'ORT ms':>9} "
          f"{'ratio':>6} {'speed-up':>8} {'cosine':>9}")
    for name in ("mlp", "cnn", "transformer"):
        model, inputs, _ = models.MODELS[name]()
        path = os.path.join(a.out_dir, f"{name}.onnx")
        with open(path, "wb") as f:
            f.write(model.SerializeToString())
        args, calib = [], []
        rng = np.random.default_rng(11)
        for k, v in inputs.items():
            npy = os.path.join(a.out_dir, f"{name}_{k}.npy")
            np.save(npy, v)
            args.append((k, npy))
            for i in range(4):
                c = os.path.join(a.out_dir, f"{name}_{k}_calib{i}.npy")
                np.save(c, rng.standard_normal(v.shape).astype(v.dtype))
                calib += ["--calib", f"{k}={c}"]
        variants = {"fp32": [], "bf16": ["--precision", "bf16"],
                    "int8": ["--precision", "int8"],
                    "int8-static": ["--precision", "int8", *calib],
                    "int4": ["--precision", "int4"]}
        for threads in (1, 2):
            cmds = {}
            for prec, extra in variants.items():
                out_dir = os.path.join(a.out_dir, f"{name}_{prec}_{threads}")
                cmds[prec] = ([a.runner, path, "--json", "--threads", str(threads), "--warmup", "5",
                               "--iterations", str(a.iterations), "--output-dir", out_dir, *extra]
                              + [x for k, npy in args for x in ("--input", f"{k}={npy}")], None)
            if ort_ok:
                cmds["ort"] = ([node, os.path.join(os.path.dirname(__file__), "ort_run.js"), path,
                                str(threads), "5", str(a.iterations)]
                               + [f"{k}={npy}" for k, npy in args], env)
            med, reps = interleaved_medians(cmds, a.repeats)
            outs = {}
            for prec in variants:
                out_dir = os.path.join(a.out_dir, f"{name}_{prec}_{threads}")
                outs[prec] = {o: np.load(os.path.join(out_dir, o)) for o in os.listdir(out_dir)}
                ours, rep = med[prec], reps[prec]
                row = {"model": name, "threads": threads, "precision": prec,
                       "hwopt_p50_ms": ours, "reduced_nodes": rep["graph"]["reduced_nodes"]}
                if prec == "fp32":
                    peer = med.get("ort")
                    row.update(ort_p50_ms=peer, ratio=ours / peer if peer else None)
                    print(f"{name:<12} {threads:>3} {prec:<12} {ours:>9.3f} "
                          f"{peer if peer else float('nan'):>9.3f} "
                          f"{row['ratio'] if peer else float('nan'):>6.2f}")
                else:
                    cos = min(cosine(outs[prec][o], outs["fp32"][o]) for o in outs["fp32"])
                    row.update(speedup=med["fp32"] / ours, cosine=cos,
                               reported_cosine=min(x["cosine"]
                                                   for x in rep["accuracy"]["outputs"]))
                    print(f"{name:<12} {threads:>3} {prec:<12} {ours:>9.3f} {'':>9} {'':>6} "
                          f"{row['speedup']:>8.2f} {cos:>9.6f}")
                rows.append(row)
    with open(os.path.join(a.out_dir, "models.json"), "w") as f:
        json.dump(rows, f, indent=1)
    print(f"JSON rows: {os.path.join(a.out_dir, 'models.json')}")


if __name__ == "__main__":
    main()
