"""Shared-memory pools through the Python client: the descriptor passed by
pool.create, the daemon's block allocator and its statistics, destroying a
pool a job still uses, and pools going away with their client."""

import mmap
import os
import stat

import numpy as np
import pytest

import hwopt
from conftest import wait_for
from jobs_common import blocked_client, check_close, connect, expect_error, load, pool_entry


def test_pool_fd_is_shared_memory_both_ways(hwoptd, zoo):
    tm = zoo
    rng = np.random.default_rng(81)
    with connect(hwoptd) as c:
        load(c, tm, "mlp")
        pool = c.create_pool(100000, hugepages="off")
        try:
            assert pool.page_kind == "normal"
            assert pool.page_size == mmap.PAGESIZE
            assert pool.size >= 100000 and pool.size % pool.page_size == 0
            assert pool.numa_node == -1
            assert pool.info["fd"] == "scm_rights" or isinstance(pool.info["fd"], int)
            st = os.fstat(pool.fd)
            assert stat.S_ISREG(st.st_mode) and st.st_size == pool.size
            e = pool_entry(c, pool.id)
            assert e["bytes"] == pool.size and e["page_kind"] == "normal"
            assert e["used"] == 0 and e["blocks"] == 0 and e["jobs"] == 0
            assert e["client"]["pid"] == os.getpid()

            x = tm.random_input("mlp", rng, rows=4)
            xin = pool.alloc(x.nbytes)
            yout = pool.alloc(x.shape[0] * 16 * 4)
            # Write the input through our mapping; the daemon reads it there.
            xin.view("float", x.shape)[...] = x
            r = c.infer("mlp", {"x": xin.ref("float", x.shape)}, outputs={"probs": yout})
            check_close(r.outputs["probs"], tm.ref("mlp", x), "pool in/out")
            # The daemon wrote the output into the same memory we map.
            check_close(yout.view("float", [4, 16]).copy(), tm.ref("mlp", x), "mapping")
            raw = os.pread(pool.fd, x.shape[0] * 64, yout.offset)
            check_close(np.frombuffer(raw, np.float32).reshape(4, 16), tm.ref("mlp", x), "fd")
            # Overwriting the input changes the next result: no stale copy.
            x2 = tm.random_input("mlp", rng, rows=4)
            xin.write(x2)
            r = c.infer("mlp", {"x": xin.ref("float", x2.shape)})
            check_close(r.outputs["probs"], tm.ref("mlp", x2), "rewritten input")
        finally:
            res = pool.destroy()
        assert res == {"pool": pool.id, "destroyed": True, "deferred": False}
        assert pool.closed and pool_entry(c, pool.id) is None
        assert c.pools().quota["used"] == 0


def test_alloc_free_statistics(hwoptd):
    with connect(hwoptd) as c:
        with c.create_pool(1 << 16, hugepages="off") as pool:
            size = pool.size
            a = pool.alloc(1000)          # rounded up to 1024
            b = pool.alloc(1024)
            d = pool.alloc(1)             # 64
            assert a.size == 1024 and d.size == 64
            assert (a.offset, b.offset, d.offset) == (0, 1024, 2048)
            assert all(blk.offset % 64 == 0 for blk in (a, b, d))
            e = pool_entry(c, pool.id)
            assert e["used"] == 2112 and e["peak"] == 2112 and e["blocks"] == 3, e
            assert e["allocations"] == 3 and e["frees"] == 0 and e["failures"] == 0, e
            assert e["free"] == size - 2112 and e["largest_free"] == size - 2112, e
            assert e["fragmentation_pct"] == 0, e

            # Freeing the middle block leaves a hole: fragmented.
            assert pool.free(b) == {"pool": pool.id, "offset": 1024, "freed": True}
            e = pool_entry(c, pool.id)
            assert e["used"] == 1088 and e["peak"] == 2112 and e["blocks"] == 2, e
            assert e["frees"] == 1 and e["largest_free"] == size - 2112, e
            assert e["fragmentation_pct"] > 0, e
            # The hole is reused first (first fit).
            b2 = pool.alloc(512)
            assert b2.offset == 1024
            pool.free(b2)

            # Too large: refused, counted as a failure, the message gives the free bytes.
            err = expect_error(-32002, pool.alloc, size)
            assert str(size - 1088) in err.message, err
            # A block that does not start there cannot be freed.
            expect_error(-32003, pool.free, 64)
            expect_error(-32003, pool.free, 1024)   # already freed

            pool.free(a)
            pool.free(d)
            e = pool_entry(c, pool.id)
            assert e["used"] == 0 and e["peak"] == 2112 and e["blocks"] == 0, e
            assert e["allocations"] == 4 and e["frees"] == 4 and e["failures"] == 1, e
            assert e["largest_free"] == size and e["fragmentation_pct"] == 0, e  # coalesced
            whole = pool.alloc(size)
            assert whole.offset == 0 and whole.size == size
        expect_error(-32003, c.call, "pool.alloc", pool=pool.id, bytes=64)


def test_destroy_while_a_job_uses_the_pool_is_deferred(daemon, zoo):
    tm = zoo
    with blocked_client(daemon, tm, 91, "mlp") as (c, rng, blocker):
        pool = c.create_pool(1 << 16, hugepages="off")
        x = tm.random_input("mlp", rng, rows=3)
        xin, yout = pool.alloc(x.nbytes), pool.alloc(3 * 64)
        xin.write(x)
        rid = c.infer_async("mlp", {"x": xin.ref("float", x.shape)}, outputs={"probs": yout})
        wait_for(lambda: (pool_entry(c, pool.id) or {}).get("jobs", 0) > 0,
                 what="the queued job to hold the pool")
        used_before = c.pools().quota["used"]
        assert used_before == pool.size

        # Destroyed from the client's view at once, its memory kept for the job.
        res = c.call("pool.destroy", pool=pool.id)
        assert res == {"pool": pool.id, "destroyed": True, "deferred": True}
        assert pool_entry(c, pool.id) is None and pool_entry(c, pool.id, all=True) is None
        assert c.pools().quota["used"] == 0
        # ...but its memory still counts in the daemon's total while the job holds it.
        assert c.call("pool.list", all=True)["total_bytes"] == pool.size
        expect_error(-32003, c.call, "pool.alloc", pool=pool.id, bytes=64)
        expect_error(-32003, c.call, "pool.destroy", pool=pool.id)
        # New references to it are refused.
        expect_error(-32602, c.infer, "mlp", {"x": xin.ref("float", x.shape)},
                     contains="pool")

        # Let the queued job run: it completes, reading and writing the pool.
        c.cancel(request_id=blocker)
        with pytest.raises(hwopt.RPCError):
            c.infer_result(blocker)
        r = c.infer_result(rid)
        check_close(r.outputs["probs"], tm.ref("mlp", x), "job on a destroyed pool")
        # Our mapping still shows what the daemon wrote.
        check_close(yout.read("float", [3, 16]), tm.ref("mlp", x), "mapping")
        pool.close()
        # Its memory is released once the job is done.
        wait_for(lambda: c.call("pool.list", all=True)["total_bytes"] == 0,
                 what="the deferred pool's bytes released")
        assert list(c.pools(all=True)) == []


def test_pools_go_with_their_client(hwoptd):
    with connect(hwoptd, "owner") as a, connect(hwoptd, "observer") as b:
        p1 = a.create_pool(1 << 16)
        p2 = a.create_pool(1 << 20, hugepages="off")
        p1.alloc(128)
        ids = {p1.id, p2.id}
        assert {p["pool"] for p in a.pools()} == ids
        assert a.pools().quota["used"] == p1.size + p2.size
        # Another client does not see them as its own, and cannot use them.
        assert list(b.pools(all=False)) == []
        assert {p["pool"] for p in b.pools(all=True)} == ids   # root: admin
        expect_error(-32003, b.call, "pool.alloc", pool=p1.id, bytes=64)
        expect_error(-32003, b.call, "pool.free", pool=p1.id, offset=0)
        expect_error(-32003, b.call, "pool.destroy", pool=p1.id)
        assert {p["pool"] for p in a.pools()} == ids
        a.close()
        wait_for(lambda: list(b.pools(all=True)) == [], what="the closed client's pools to go")
        r = b.call("pool.list", all=True)
        assert r["total_bytes"] == 0, r
        p1.close()
        p2.close()
