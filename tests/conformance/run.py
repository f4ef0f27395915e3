"""ONNX backend node tests against hwopt-run.

Generates the test cases with Debian's python3-onnx (backend-test-tools
generate-data) into a cache directory, runs every case whose operators the
runtime claims (hwopt-run --list-ops), compares each output with the
expected one, and prints totals. Exit status 1 when any case of a claimed
operator fails.

usage: run.py HWOPT_RUN DATA_DIR [--jobs N] [--filter SUBSTRING] [--verbose]
              [--write-doc docs/ops.md] [--check-doc docs/ops.md]

--write-doc regenerates the operator table (docs/ops.md) from the runtime's
operator list and this run's per-operator results; --check-doc fails when
the document names a different set of operators than the runtime claims.
"""
import argparse
import concurrent.futures
import os
import subprocess
import sys
import tempfile

import numpy as np

# numpy 1.24 dropped these aliases; onnx 1.12's test generators use them.
for _alias, _type in (("float", float), ("int", int), ("bool", bool), ("object", object),
                      ("complex", complex), ("str", str)):
    if _alias not in np.__dict__:
        setattr(np, _alias, _type)

import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402

RTOL, ATOL = 1e-3, 1e-5

# Cases that need a looser tolerance, and why.
TOLERANCE = {
}

# Cases of claimed operators left out, and why. Kept short: each entry is a
# documented limit of the runtime (docs/ops.md lists them).
_STRING = "string tensors: the runtime has numeric and bool tensors only"
_RANDOM = ("training-mode Dropout draws a random mask; the expected output is one "
           "draw of numpy's generator")
_LIKE = ("the generated input 'like' has shape [1] where the model declares [3, 4]; "
         "inputs that contradict the declared shape are refused")
EXCLUDED = {
    "test_cast_FLOAT_to_STRING": _STRING,
    "test_cast_STRING_to_FLOAT": _STRING,
    "test_castlike_FLOAT_to_STRING_expanded": _STRING,
    "test_castlike_STRING_to_FLOAT_expanded": _STRING,
    "test_identity_opt": "optional values: the runtime has tensors only",
    "test_identity_sequence": "sequences: the runtime has tensors only",
    "test_castlike_BFLOAT16_to_FLOAT_expanded": _LIKE,
    "test_castlike_FLOAT_to_BFLOAT16_expanded": _LIKE,
    "test_training_dropout": _RANDOM,
    "test_training_dropout_default": _RANDOM,
    "test_training_dropout_default_mask": _RANDOM,
    "test_training_dropout_mask": _RANDOM,
}


def generate(data_dir):
    node_dir = os.path.join(data_dir, "node")
    if os.path.isdir(node_dir) and os.listdir(node_dir):
        return node_dir
    os.makedirs(data_dir, exist_ok=True)
    from onnx.backend.test.cmd_tools import main as tools_main
    argv = sys.argv
    sys.argv = ["backend-test-tools", "generate-data", "-o", data_dir]
    try:
        tools_main()
    finally:
        sys.argv = argv
    return node_dir


def claimed_ops(runner):
    out = subprocess.run([runner, "--list-ops"], check=True, capture_output=True, text=True)
    return {line.split()[0] for line in out.stdout.splitlines() if line.strip()}


def compare(name, got, want, rtol, atol):
    if got.dtype != want.dtype:
        return f"{name}: dtype {got.dtype}, expected {want.dtype}"
    if got.shape != want.shape:
        return f"{name}: shape {got.shape}, expected {want.shape}"
    if want.dtype.kind in "fc":
        ok = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
        if not ok.all():
            i = np.argwhere(~ok)[0]
            return (f"{name}: {int((~ok).sum())} of {ok.size} differ; at {tuple(i)} "
                    f"got {got[tuple(i)]!r}, expected {want[tuple(i)]!r}")
    elif not np.array_equal(got, want):
        return f"{name}: values differ"
    return None


def run_case(runner, case_dir):
    model = onnx.load(os.path.join(case_dir, "model.onnx"))
    init = {t.name for t in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in init]
    outputs = [o.name for o in model.graph.output]
    name = os.path.basename(case_dir)
    rtol, atol = TOLERANCE.get(name, (RTOL, ATOL))
    sets = sorted(d for d in os.listdir(case_dir) if d.startswith("test_data_set"))
    for ds in sets:
        ds_dir = os.path.join(case_dir, ds)
        with tempfile.TemporaryDirectory() as out_dir:
            cmd = [runner, os.path.join(case_dir, "model.onnx"), "--warmup", "0",
                   "--iterations", "1", "--output-dir", out_dir]
            for k, inp in enumerate(inputs):
                cmd += ["--input", f"{inp}={os.path.join(ds_dir, f'input_{k}.pb')}"]
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            except subprocess.TimeoutExpired:
                return f"{ds}: timed out"
            if p.returncode != 0:
                return f"{ds}: {p.stderr.strip()}"
            for k, out in enumerate(outputs):
                want = numpy_helper.to_array(onnx.load_tensor(os.path.join(ds_dir, f"output_{k}.pb")))
                try:
                    got = np.load(os.path.join(out_dir, f"{out}.npy"))
                except OSError as e:
                    return f"{ds}: output {out}: {e}"
                err = compare(out, got, want, rtol, atol)
                if err:
                    return f"{ds}: {err}"
    return None


DOC_HEAD = """# Operators

Generated by `make docs-ops` (tests/conformance/run.py --write-doc) from the
runtime's operator table (`hwopt-run --list-ops`) and a run of the ONNX
backend node tests generated by Debian's python3-onnx {onnx_version}. Do not
edit by hand.

Opsets 7 to 17 of the default domain are supported; older models load when
each operator is implemented from the version they import. Types: float32
everywhere, float16, bfloat16 and double where noted by the tests, int64 and
int32 for shape operators, uint8 and int8 for quantized ones, bool.
Tolerance: rtol {rtol}, atol {atol} unless listed below.

| Operator | Opsets | Node tests passed |
|---|---|---|
"""


def op_rows(runner):
    out = subprocess.run([runner, "--list-ops"], check=True, capture_output=True, text=True)
    return [line.split() for line in out.stdout.splitlines() if line.strip()]


def write_doc(path, runner, per_op, passed, total, excluded):
    rows = op_rows(runner)
    with open(path, "w") as f:
        f.write(DOC_HEAD.format(onnx_version=onnx.__version__, rtol=RTOL, atol=ATOL))
        for name, since, until in sorted(rows):
            ok, n = per_op.get(name, (0, 0))
            f.write(f"| {name} | {since}-{until} | {ok} of {n} |\n")
        f.write(f"\nIn all, {passed} of {total} generated node tests pass.\n")
        f.write("\n## Cases left out, and why\n\n")
        for case, why in sorted(excluded.items()):
            f.write(f"- `{case}`: {why}\n")
        if TOLERANCE:
            f.write("\n## Cases with a looser tolerance\n\n")
            for case, (rt, at) in sorted(TOLERANCE.items()):
                f.write(f"- `{case}`: rtol {rt}, atol {at}\n")


def check_doc(path, runner):
    names = {r[0] for r in op_rows(runner)}
    documented = set()
    with open(path) as f:
        for line in f:
            if line.startswith("| ") and not line.startswith("| Operator"):
                documented.add(line.split("|")[1].strip())
    if names != documented:
        print(f"{path} is stale (run make docs-ops): missing {sorted(names - documented)}, "
              f"extra {sorted(documented - names)}")
        return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runner")
    ap.add_argument("data_dir")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--filter", default="")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--write-doc")
    ap.add_argument("--check-doc")
    a = ap.parse_args()
    if a.check_doc and not check_doc(a.check_doc, a.runner):
        return 1
    node_dir = generate(a.data_dir)
    ops = claimed_ops(a.runner)
    cases = sorted(d for d in os.listdir(node_dir) if a.filter in d)
    runnable, unclaimed, excluded = [], 0, 0
    case_ops = {}
    for c in cases:
        model = onnx.load(os.path.join(node_dir, c, "model.onnx"), load_external_data=False)
        types = {n.op_type for n in model.graph.node}
        case_ops[c] = types
        domains = {n.domain for n in model.graph.node} - {"", "ai.onnx"}
        if domains or not types <= ops:
            unclaimed += 1
        elif c in EXCLUDED:
            excluded += 1
        else:
            runnable.append(c)
    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        for c, err in zip(runnable, ex.map(lambda c: run_case(a.runner, os.path.join(node_dir, c)), runnable)):
            if err:
                failed.append((c, err))
            elif a.verbose:
                print(f"ok   {c}")
    for c, err in failed:
        print(f"FAIL {c}: {err}")
    passed = len(runnable) - len(failed)
    if a.write_doc:
        # a case counts for every operator it uses
        failed_names = {c for c, _ in failed}
        per_op = {}
        for c in runnable:
            for op in case_ops[c]:
                ok, n = per_op.get(op, (0, 0))
                per_op[op] = (ok + (c not in failed_names), n + 1)
        write_doc(a.write_doc, a.runner, per_op, passed, len(cases),
                  {c: EXCLUDED[c] for c in cases if c in EXCLUDED})
    print(f"conformance: {passed} of {len(cases)} node tests pass; {len(failed)} fail; "
          f"{excluded} excluded (documented); {unclaimed} use operators not claimed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
