"""libhwoptclient's own test (clients/c/tests/test_client.c) against the
fake daemon beside it: descriptor passing, pipelining out of order, pools,
tensors. The binary is built by `make check` (HWOPT_CCLIENT_TEST)."""
import os
import subprocess
import sys

import pytest

from conftest import REPO, assert_no_sanitizer, clean_env

BINARY = os.environ.get("HWOPT_CCLIENT_TEST") or os.path.join(REPO, "build", "ctests", "test_client")


def test_c_client_against_fake_daemon():
    if not os.path.exists(BINARY):
        pytest.skip("build/ctests/test_client is not built (make check builds it)")
    p = subprocess.run([sys.executable, os.path.join(REPO, "clients", "c", "tests", "fake_hwoptd.py"),
                        BINARY], capture_output=True, text=True, timeout=300, env=clean_env())
    assert_no_sanitizer(p.stdout + p.stderr, "test_client")
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
