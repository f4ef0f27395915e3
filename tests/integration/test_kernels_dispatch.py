"""HWK_ISA forces libhwk's kernel ISA; the daemon reports the choice and
refuses to start on an ISA it cannot run."""
import os
import platform

import pytest

from conftest import HWOPTD, connect, run


def start_args(tmp):
    return [HWOPTD, "--socket", os.path.join(tmp, "s.sock"),
            "--state-dir", os.path.join(tmp, "state")]


def test_topology_reports_kernel_dispatch(hwoptd):
    with connect(hwoptd.sock) as c:
        k = c.result("topology")["kernels"]
    assert k["isa"] == k["best_isa"]
    assert k["forced"] is False
    for op in k["ops"]:
        assert op["op"] and op["variant"] and op["isa"]


def test_unknown_hwk_isa_refuses_to_start(tmpdir_nobody):
    p = run(start_args(tmpdir_nobody), env={"HWK_ISA": "avx1024"})
    assert p.returncode == 1
    assert "HWK_ISA=avx1024" in p.stderr and "not an ISA token" in p.stderr


def test_unrunnable_hwk_isa_refuses_to_start(tmpdir_nobody):
    foreign = "sve" if platform.machine() == "x86_64" else "avx2"
    p = run(start_args(tmpdir_nobody), env={"HWK_ISA": foreign})
    assert p.returncode == 1
    assert "cannot run %s" % foreign in p.stderr


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86 ISA tokens")
def test_forced_hwk_isa_caps_every_op(daemon):
    d = daemon(env={"HWK_ISA": "scalar"})
    with connect(d.sock) as c:
        k = c.result("topology")["kernels"]
    assert k["isa"] == "scalar" and k["forced"] is True
    assert all(op["isa"] == "scalar" for op in k["ops"])
