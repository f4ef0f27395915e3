"""make bench-models: the test models (tests/models/models.py) run by
hwopt-run and by ONNX Runtime (onnxruntime-node) in the same run, on 1 and
2 threads; prints latency ratios (ours / ONNX Runtime, lower is better) and
writes JSON rows.

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


def median_p50(cmd, repeats, env=None):
    runs = []
    for _ in range(repeats):
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        if p.returncode != 0:
            raise RuntimeError(p.stderr.strip())
        runs.append(json.loads(p.stdout)["latency_ms"]["p50"])
    return float(np.median(runs))


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
    print(f"{'model':<12} {'thr':>3} {'hwopt ms':>10} {'ORT ms':>10} {'ratio':>7}")
    for name in ("mlp", "cnn", "transformer"):
        model, inputs, _ = models.MODELS[name]()
        path = os.path.join(a.out_dir, f"{name}.onnx")
        with open(path, "wb") as f:
            f.write(model.SerializeToString())
        args = []
        for k, v in inputs.items():
            npy = os.path.join(a.out_dir, f"{name}_{k}.npy")
            np.save(npy, v)
            args.append((k, npy))
        for threads in (1, 2):
            ours = median_p50([a.runner, path, "--json", "--threads", str(threads), "--warmup", "5",
                               "--iterations", str(a.iterations)]
                              + [x for k, npy in args for x in ("--input", f"{k}={npy}")],
                              a.repeats)
            peer = None
            if ort_ok:
                peer = median_p50([node, os.path.join(os.path.dirname(__file__), "ort_run.js"), path,
                                   str(threads), "5", str(a.iterations)]
                                  + [f"{k}={npy}" for k, npy in args], a.repeats, env)
            ratio = ours / peer if peer else None
            print(f"{name:<12} {threads:>3} {ours:>10.3f} {peer if peer else float('nan'):>10.3f} "
                  f"{ratio if ratio else float('nan'):>7.2f}")
            rows.append({"model": name, "threads": threads, "precision": "fp32",
                         "hwopt_p50_ms": ours, "ort_p50_ms": peer, "ratio": ratio})
    with open(os.path.join(a.out_dir, "models.json"), "w") as f:
        json.dump(rows, f, indent=1)
    print(f"JSON rows: {os.path.join(a.out_dir, 'models.json')}")


if __name__ == "__main__":
    main()
