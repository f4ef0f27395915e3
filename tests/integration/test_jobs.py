"""Jobs through the Python client: many concurrent clients, dynamic
batching, deadlines, cancellation, job.list's view per client, and a client
killed with SIGKILL in the middle of its jobs.

The "slow" model (conftest.ModelZoo, fixture zoo) keeps the workers busy
where a test needs jobs to wait in the queue: with [scheduler] workers = 1
one slow job occupies the only worker. A blocker is sent with many rows (a few seconds
of work) and cancelled when the test is done with it, so no test waits for
it to finish; nothing here asserts on timing.
"""

import json
import os
import pwd
import select
import signal
import subprocess
import textwrap
import threading

import numpy as np
import pytest

import hwopt
from conftest import EXIT_TIMEOUT, IO_TIMEOUT, PYCLIENT_DIR, SLOW, clean_env, wait_for
from jobs_common import (BLOCKER_ROWS, ONE_WORKER, blocked_client, check_close, connect,
                         counters, expect_error, load, load_and_block, nobody_python, own_job,
                         slow_input, stop_blocker, wait_running)


def read_json_line(proc, timeout=IO_TIMEOUT):
    """The next stdout line of a child, parsed; fails on EOF or timeout."""
    r, _, _ = select.select([proc.stdout], [], [], timeout)
    assert r, "the child printed nothing in %.0f s" % timeout
    line = proc.stdout.readline()
    assert line, "the child ended early: %s" % proc.stderr.read()
    return json.loads(line)


# --- 3. many concurrent clients ---------------------------------------------------


def test_64_concurrent_clients_mixed_models(hwoptd, zoo):
    tm = zoo
    with connect(hwoptd) as admin:
        load(admin, tm, "mlp", max_batch=8, batch_delay_us=1000)
        load(admin, tm, "transformer")
        n_clients, rounds = 64, 2
        barrier = threading.Barrier(n_clients)
        failures, done = [], []
        lock = threading.Lock()

        def one_client(i):
            rng = np.random.default_rng(1000 + i)
            try:
                with connect(hwoptd, "worker-%d" % i) as c:
                    barrier.wait(IO_TIMEOUT)
                    n = 0
                    for _ in range(rounds):
                        # Pipelined: three requests out before any answer is read,
                        # collected newest first.
                        sent = []
                        for k in range(3):
                            if (i + k) % 3 == 2:
                                x = tm.random_input("transformer", rng)
                                rid = c.infer_async("transformer", {"x": x})
                                sent.append((rid, "transformer", x))
                            else:
                                x = tm.random_input("mlp", rng, rows=1 + (i + k) % 3)
                                rid = c.infer_async("mlp", {"x": x}, batchable=(i + k) % 2 == 0)
                                sent.append((rid, "mlp", x))
                        for rid, name, x in reversed(sent):
                            r = c.infer_result(rid)
                            assert r.request_id == rid and r.model == name, (rid, r)
                            check_close(r.outputs[tm.io[name][1]], tm.ref(name, x),
                                        "client %d request %r" % (i, rid))
                            n += 1
                        # And one plain call, as a list.
                        x = tm.random_input("mlp", rng, rows=2)
                        r = c.infer("mlp", {"x": hwopt.tensor(x, encoding="list")},
                                    batchable=True)
                        check_close(r.outputs["probs"], tm.ref("mlp", x), "client %d sync" % i)
                        n += 1
                with lock:
                    done.append(n)
            except Exception as e:  # noqa: BLE001 - collected and asserted below
                with lock:
                    failures.append("client %d: %r" % (i, e))

        threads = [threading.Thread(target=one_client, args=(i,), daemon=True)
                   for i in range(n_clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120 * SLOW)
        assert not any(t.is_alive() for t in threads), "clients hang"
        assert not failures, "\n".join(failures[:10])
        per_client = rounds * 4
        assert done == [per_client] * n_clients
        total_t = sum(1 for i in range(n_clients) for _ in range(rounds)
                      for k in range(3) if (i + k) % 3 == 2)
        total_m = n_clients * per_client - total_t
        cm, ct = counters(admin, "mlp"), counters(admin, "transformer")
        assert cm["requests"] == cm["ok"] == total_m, cm
        assert ct["requests"] == ct["ok"] == total_t, ct
        assert cm["failed"] == ct["failed"] == 0
        assert admin.jobs() == []


# --- 4. dynamic batching -----------------------------------------------------------


def test_dynamic_batching(hwoptd, zoo):
    tm = zoo
    rng = np.random.default_rng(21)
    with connect(hwoptd) as c:
        # A long delay costs nothing here: each round fills max_batch (8 rows)
        # and runs at once; it only keeps a slow sender from missing the batch.
        load(c, tm, "mlp", max_batch=8, batch_delay_us=200000)
        for rows in ([1] * 8, [1, 2, 3, 2]):
            xs = [tm.random_input("mlp", rng, rows=r) for r in rows]
            ids = [c.infer_async("mlp", {"x": x}, batchable=True) for x in xs]
            results = [c.infer_result(rid) for rid in ids]
            for x, r in zip(xs, results):
                # Each request gets its own rows back, whatever it was stacked with.
                check_close(r.outputs["probs"], tm.ref("mlp", x), "rows %r" % (rows,))
                assert r.batch["rows"] <= 8, r.batch
            # All were waiting within the batch delay: each answer comes from a
            # run that stacked several requests.
            assert all(r.batch["requests"] > 1 for r in results), [r.batch for r in results]
            for r in results:
                assert r.batch["rows"] > r.outputs["probs"].shape[0], r.batch
        cn = counters(c, "mlp")
        assert cn["batches"] > 0, cn
        assert cn["batched_requests"] >= 2, cn
        assert cn["ok"] == cn["requests"] == 12, cn

        # Not batchable: each request runs alone, however many wait.
        xs = [tm.random_input("mlp", rng) for _ in range(4)]
        ids = [c.infer_async("mlp", {"x": x}) for x in xs]
        for x, rid in zip(xs, ids):
            r = c.infer_result(rid)
            assert r.batch == {"requests": 1, "rows": 1}, r.batch
            check_close(r.outputs["probs"], tm.ref("mlp", x))


# --- 5. deadlines ---------------------------------------------------------------------


def test_deadline_expires_in_the_queue(daemon, zoo):
    tm = zoo
    with blocked_client(daemon, tm, 31, "mlp") as (c, rng, blocker):
        before = counters(c, "mlp")
        x = tm.random_input("mlp", rng)
        e = expect_error(-32004, c.infer, "mlp", {"x": x}, deadline_ms=1)
        assert e.name == "deadline_exceeded"
        after = counters(c, "mlp")
        assert after["expired"] == before["expired"] + 1, after
        assert after["requests"] == before["requests"] + 1, after
        assert after["ok"] == before["ok"], after          # it never ran
        assert after["compute_us_total"] == before["compute_us_total"], after
        assert own_job(c, blocker, "running"), "the blocker should still run"

        # A deadline that is far enough away is no obstacle: the job waits and runs.
        rid = c.infer_async("mlp", {"x": x}, deadline_ms=600000)
        job = wait_for(lambda: own_job(c, rid, "queued"), what="the job queued")
        assert job["deadline_in_us"] is not None and job["deadline_in_us"] > 0
        stop_blocker(c, blocker)
        check_close(c.infer_result(rid)["probs"], tm.ref("mlp", x))
        final = counters(c, "mlp")
        assert final["ok"] == before["ok"] + 1 and final["expired"] == before["expired"] + 1


# --- 6. cancellation and job.list ---------------------------------------------------------


def test_cancel_queued_jobs(daemon, zoo):
    tm = zoo
    with blocked_client(daemon, tm, 41, "mlp") as (c, rng, blocker):
        xs = [tm.random_input("mlp", rng) for _ in range(3)]
        ids = [c.infer_async("mlp", {"x": x}) for x in xs]

        def listed():
            js = [j for j in c.jobs(all=False) if j["request_id"] in ids]
            return js if len(js) == 3 else None
        jobs = {j["request_id"]: j for j in wait_for(listed, what="three queued jobs")}
        for rid in ids:
            assert jobs[rid]["state"] == "queued" and jobs[rid]["model"] == "mlp", jobs[rid]

        # By the daemon's job id, as job.list gives it.
        r = c.cancel(job=jobs[ids[0]]["job"])
        assert r == {"job": jobs[ids[0]]["job"], "state": "queued"}
        e = expect_error(-32005, c.infer_result, ids[0])
        assert e.name == "cancelled"
        # By the JSON-RPC id of the request.
        r = c.cancel(request_id=ids[1])
        assert r == {"job": jobs[ids[1]]["job"], "state": "queued"}
        expect_error(-32005, c.infer_result, ids[1])
        # Gone: cancelling again finds nothing.
        expect_error(-32003, c.cancel, job=jobs[ids[0]]["job"])
        expect_error(-32003, c.cancel, request_id=ids[1])
        remaining = [j["request_id"] for j in c.jobs(all=False)]
        assert sorted(remaining, key=str) == sorted([blocker, ids[2]], key=str), remaining

        cn = counters(c, "mlp")
        assert cn["cancelled"] == 2 and cn["ok"] == 0 and cn["queued"] == 1, cn
        stop_blocker(c, blocker)
        # The job that was not cancelled still runs.
        check_close(c.infer_result(ids[2])["probs"], tm.ref("mlp", xs[2]))
        cn = counters(c, "mlp")
        assert cn["cancelled"] == 2 and cn["ok"] == 1, cn


def test_cancel_running_job(daemon, zoo):
    tm = zoo
    d = daemon(sections=ONE_WORKER)
    rng = np.random.default_rng(51)
    with connect(d) as c:
        load(c, tm, "slow")
        rid = c.infer_async("slow", {"x": slow_input(rng)})
        job = wait_running(c, rid)
        r = c.cancel(job=job["job"])
        assert r == {"job": job["job"], "state": "running"}
        e = expect_error(-32005, c.infer_result, rid, timeout=IO_TIMEOUT)
        assert e.name == "cancelled"
        cn = counters(c, "slow")
        assert cn["cancelled"] == 1 and cn["ok"] == 0 and cn["running"] == 0, cn
        assert c.jobs(all=False) == []
        # The model's session is usable again at once, with right answers.
        x = slow_input(rng, 2)
        check_close(c.infer("slow", {"x": x})["y"], tm.ref("slow", x), "after cancel")
        # Cancelling by request id works for running jobs too.
        rid = c.infer_async("slow", {"x": slow_input(rng)})
        wait_running(c, rid)
        assert c.cancel(request_id=rid)["state"] == "running"
        expect_error(-32005, c.infer_result, rid)
        assert counters(c, "slow")["cancelled"] == 2


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become nobody")
def test_job_list_shows_own_jobs_and_admins_all(daemon, zoo):
    tm = zoo
    nobody = pwd.getpwnam("nobody").pw_uid
    d = daemon(socket_group="nogroup", submit_group="nogroup", sections=ONE_WORKER)
    rng = np.random.default_rng(61)
    with connect(d, "a") as a, connect(d, "b") as b:
        blocker = load_and_block(a, tm, rng, "mlp")
        x = tm.random_input("mlp", rng)
        queued = a.infer_async("mlp", {"x": x})
        wait_for(lambda: own_job(a, queued, "queued"), what="a's mlp job queued")

        mine = a.jobs(all=False)
        assert sorted((j["request_id"], j["state"]) for j in mine) == \
            sorted([(blocker, "running"), (queued, "queued")])
        for j in mine:
            assert j["client"]["pid"] == os.getpid() and j["client"]["uid"] == 0, j
        a_conn = mine[0]["client"]["connection"]
        blocker_job = own_job(a, blocker)["job"]
        # b (root: an admin) has no jobs of its own, but sees every client's.
        assert b.jobs(all=False) == []
        every = b.jobs()
        assert {j["job"] for j in every} == {j["job"] for j in mine}
        assert {j["job"] for j in b.jobs(all=True)} == {j["job"] for j in mine}

        # A client that is not an admin sees only its own jobs, cannot ask for
        # all, and cannot cancel another client's.
        child = subprocess.Popen(nobody_python(d.tmp, """
            import json, sys
            import numpy as np
            import hwopt
            c = hwopt.connect(sys.argv[1], timeout=60)
            c.hello(client="nobody")
            x = np.ones((1, 16), np.float32)
            rid = c.infer_async("mlp", {"x": x})
            out = {"rid": rid, "jobs": c.jobs()}
            for key, fn in (("all", lambda: c.jobs(all=True)),
                            ("cancel_other", lambda: c.cancel(job=int(sys.argv[2])))):
                try:
                    out[key] = fn()
                except hwopt.RPCError as e:
                    out[key] = {"code": e.code, "message": e.message}
            print(json.dumps(out), flush=True)
            sys.stdin.readline()   # stay connected until told
        """) + [d.sock, str(blocker_job)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=clean_env({"PYTHONDONTWRITEBYTECODE": "1"}))
        try:
            got = read_json_line(child)
            assert [j["request_id"] for j in got["jobs"]] == [got["rid"]], got
            assert got["jobs"][0]["client"]["uid"] == nobody
            assert got["jobs"][0]["state"] == "queued"
            assert got["all"]["code"] == -32001, got
            assert "all" in got["all"]["message"], got
            assert got["cancel_other"]["code"] == -32001, got
            # The admin sees nobody's job too; a still sees only its own.
            every = b.jobs()
            theirs = [j for j in every if j["client"]["uid"] == nobody]
            assert len(theirs) == 1 and theirs[0]["request_id"] == got["rid"], every
            assert theirs[0]["client"]["connection"] != a_conn
            assert len(every) == 3
            assert {j["job"] for j in a.jobs(all=False)} == {j["job"] for j in mine}
            assert own_job(a, blocker, "running"), "nobody must not have cancelled it"
        finally:
            child.stdin.write("bye\n")
            child.stdin.close()
            child.wait(EXIT_TIMEOUT)
        # nobody's job went with its connection.
        wait_for(lambda: len(b.jobs()) == 2, what="nobody's job cancelled at disconnect")
        stop_blocker(a, blocker)
        check_close(a.infer_result(queued)["probs"], tm.ref("mlp", x))
        assert b.jobs() == []


# --- 7. a client killed mid-job --------------------------------------------------------


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def fd_listing(pid):
    out = []
    for fd in sorted(os.listdir("/proc/%d/fd" % pid), key=int):
        try:
            out.append("%s -> %s" % (fd, os.readlink("/proc/%d/fd/%s" % (pid, fd))))
        except OSError:
            pass
    return "\n".join(out)


def test_sigkilled_client_leaves_nothing_behind(hwoptd, zoo):
    tm = zoo
    rng = np.random.default_rng(71)
    with connect(hwoptd, "survivor") as c:
        load(c, tm, "slow")
        load(c, tm, "mlp")
        x = tm.random_input("mlp", rng, rows=2)
        check_close(c.infer("mlp", {"x": x})["probs"], tm.ref("mlp", x))
        baseline = fd_count(hwoptd.pid)

        child = subprocess.Popen(["/usr/bin/python3", "-c", textwrap.dedent("""
            import json, os, sys, time
            sys.path.insert(0, %r)
            import numpy as np
            import hwopt
            c = hwopt.connect(sys.argv[1], timeout=60)
            c.hello(client="doomed")
            x = np.random.default_rng(1).standard_normal((%d, 512)).astype(np.float32)
            p1 = c.create_pool(1 << 20)
            p2 = c.create_pool(1 << 16, hugepages="off")
            blk = p1.alloc(x.nbytes)
            blk.write(x)
            out = p2.alloc(64)
            ids = [c.infer_async("slow", {"x": blk.ref("float", x.shape)}),
                   c.infer_async("slow", {"x": x}),
                   c.infer_async("slow", {"x": x[:4]})]
            print(json.dumps({"pid": os.getpid(), "pools": [p1.id, p2.id], "ids": ids}),
                  flush=True)
            time.sleep(600)
        """ % (PYCLIENT_DIR, BLOCKER_ROWS)), hwoptd.sock], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=clean_env())
        try:
            info = read_json_line(child)
            pid = info["pid"]
            assert pid == child.pid

            def theirs_pools():
                return [p for p in c.pools(all=True) if p["client"] and p["client"]["pid"] == pid]

            def theirs_jobs():
                return [j for j in c.jobs(all=True) if j["client"]["pid"] == pid]

            # Before: its pools and jobs are there (and one job runs, using a pool).
            assert sorted(p["pool"] for p in theirs_pools()) == sorted(info["pools"])
            jobs = wait_for(lambda: (lambda js: js if len(js) == 3 and any(
                j["state"] == "running" for j in js) else None)(theirs_jobs()),
                what="the child's three jobs, one running")
            assert sorted(j["request_id"] for j in jobs) == sorted(info["ids"])
            assert fd_count(hwoptd.pid) > baseline  # its connection and two memfds

            child.send_signal(signal.SIGKILL)
            child.wait(EXIT_TIMEOUT)
            assert child.returncode == -signal.SIGKILL
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()

        # Meanwhile another client is served, with right answers.
        x = tm.random_input("mlp", rng, rows=3)
        r = c.infer("mlp", {"x": x}, timeout=IO_TIMEOUT)
        check_close(r.outputs["probs"], tm.ref("mlp", x), "survivor's infer")

        wait_for(lambda: theirs_pools() == [], what="the child's pools to go")
        wait_for(lambda: theirs_jobs() == [], what="the child's jobs to go")
        try:
            wait_for(lambda: fd_count(hwoptd.pid) == baseline, what="the daemon's descriptors")
        except AssertionError:
            raise AssertionError("hwoptd holds %d descriptors, %d before the child:\n%s"
                                 % (fd_count(hwoptd.pid), baseline, fd_listing(hwoptd.pid)))
        st = c.call("pool.list", all=True)
        assert st["pools"] == [] and st["total_bytes"] == 0, st
        cn = counters(c, "slow")
        assert cn["requests"] == 3 and cn["ok"] + cn["cancelled"] == 3, cn
        assert cn["cancelled"] >= 2 and cn["queued"] == cn["running"] == 0, cn
        assert c.status()["connections"]["open"] == 1
        # And the slow model still works.
        x = slow_input(rng, 1)
        check_close(c.infer("slow", {"x": x})["y"], tm.ref("slow", x))
