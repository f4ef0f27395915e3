#!/usr/bin/python3
"""A fake hwoptd for testing libhwoptclient without the daemon: JSON-RPC
lines on a Unix socket, pool.create passing a memfd with SCM_RIGHTS on the
answer's first byte, and answers out of request order.

Usage: fake_hwoptd.py CLIENT_TEST_BINARY
Starts the fake daemon on a temporary socket, runs the binary with the
socket path as its argument, and exits with the binary's status.

Methods:
  status                    {"ok": true}
  echo {v}                  {"v": v}; answers held back and sent in reverse
                            order, 7 at a time (the rest on "flush")
  flush                     sends the held echo answers (reversed), then {}
  slow {ms}                 sleeps, then {"slept": ms}
  pool.create {bytes, ...}  a memfd of bytes, passed with the answer
  pool.create_coalesced     like pool.create, but the next answer of the
                            connection goes out in the same sendmsg
  pool.alloc/free/destroy   a bump allocator (64-byte blocks); pool.alloc of
                            77 bytes answers a block outside the pool
  pool.read {pool, offset, bytes}   {"data_b64": ...} read through the memfd
  pool.write {pool, offset, data_b64}  writes through the memfd
  fdtest                    {"x": 1} with a pipe's read end, unmarked
  infer {model, inputs, outputs?}   outputs = inputs (inline as given; a pool
                            reference input is read and its bytes written to
                            the output's POOLREF when one is named), plus
                            "y/out:0": the first input's first 3 values and
                            NaN, as a float list
  model.list/load/unload, job.list/cancel, pool.list   canned answers shaped
                            as docs/protocol.md says (model "echo")
  notify {n, first}         n notifications {"method": "tick", "params":
                            {"i": 0..n-1}}, then the answer {"sent": n}; with
                            first true the answer goes out before them
  bye                       an error with id null, then closes
  anything else             -32601
"""
import base64
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time


SIZES = {"float": 4, "uint8": 1, "int8": 1, "uint16": 2, "int16": 2, "int32": 4, "int64": 8,
         "bool": 1, "float16": 2, "double": 8, "uint32": 4, "uint64": 8, "bfloat16": 2}

ECHO_MODEL = {
    "name": "echo", "path": "/models/echo.onnx", "state": "ready", "precision": "fp32",
    "reduced_nodes": 0,
    "inputs": [{"name": "x", "dtype": "float", "shape": [2, 3]},
               {"name": "ids", "dtype": "int64", "shape": [-1, 4], "dim_names": ["batch", ""]}],
    "outputs": [{"name": "x", "dtype": "float", "shape": [2, 3]},
                {"name": "ids", "dtype": "int64", "shape": [-1, 4], "dim_names": ["batch", ""]},
                {"name": "y/out:0", "dtype": "float", "shape": [-1], "dim_names": ["n"]}],
    "memory_bytes": {"weights": 1 << 20, "arenas": 3 << 19, "total": 5 << 19},
    "instances": 2, "threads_per_instance": 4, "max_batch": 8, "batch_delay_us": 500,
    "batchable": True, "loaded_at": 1795277349, "load_ms": 42, "accuracy": [],
    "counters": {"requests": 10, "ok": 9, "failed": 1, "cancelled": 0, "expired": 0,
                 "batches": 3, "batched_requests": 7, "queued": 0, "running": 1,
                 "queue_us_total": 5000, "compute_us_total": 90000},
}


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.held = []
        self.pools = {}
        self.next_pool = 1
        self.coalesce = None  # (line, fds) waiting for the next answer

    def send(self, obj, fds=()):
        line = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
        if self.coalesce is not None:
            first, ffds = self.coalesce
            self.coalesce = None
            socket.send_fds(self.sock, [first + line], ffds)
            for fd in ffds:
                os.close(fd)
            return
        if fds:
            socket.send_fds(self.sock, [line], list(fds))
        else:
            self.sock.sendall(line)

    def answer(self, rid, result=None, error=None, fds=()):
        msg = {"jsonrpc": "2.0", "id": rid}
        if error is not None:
            msg["error"] = error
        else:
            msg["result"] = result
        self.send(msg, fds)

    def flush(self):
        for rid, v in reversed(self.held):
            self.answer(rid, {"v": v})
        self.held = []

    def pool(self, params):
        return self.pools[params["pool"]]

    def handle(self, req):
        rid = req.get("id")
        m = req.get("method")
        p = req.get("params") or {}
        if m == "status":
            return self.answer(rid, {"ok": True})
        if m == "echo":
            self.held.append((rid, p.get("v")))
            if len(self.held) == 7:
                self.flush()
            return None
        if m == "flush":
            self.flush()
            return self.answer(rid, {})
        if m == "slow":
            time.sleep(p["ms"] / 1000.0)
            return self.answer(rid, {"slept": p["ms"]})
        if m in ("pool.create", "pool.create_coalesced"):
            n = (int(p["bytes"]) + 4095) // 4096 * 4096
            fd = os.memfd_create("hwopt-pool", os.MFD_CLOEXEC)
            os.ftruncate(fd, n)
            pid = self.next_pool
            self.next_pool += 1
            self.pools[pid] = {"fd": fd, "bytes": n, "next": 0, "blocks": {}}
            res = {"pool": pid, "bytes": n, "page_kind": "normal", "page_size": 4096,
                   "numa_node": -1, "fd": "scm_rights"}
            msg = {"jsonrpc": "2.0", "id": rid, "result": res}
            line = (json.dumps(msg) + "\n").encode()
            if m == "pool.create_coalesced":
                self.coalesce = (line, [os.dup(fd)])
                return None
            return socket.send_fds(self.sock, [line], [fd])
        if m == "pool.alloc":
            pl = self.pool(p)
            size = (int(p["bytes"]) + 63) // 64 * 64
            if p["bytes"] == 77:  # a block outside the pool, for the client to refuse
                return self.answer(rid, {"pool": p["pool"], "offset": pl["bytes"], "bytes": size})
            if pl["next"] + size > pl["bytes"]:
                return self.answer(rid, error={"code": -32002, "message": "pool full"})
            off = pl["next"]
            pl["next"] += size
            pl["blocks"][off] = size
            return self.answer(rid, {"pool": p["pool"], "offset": off, "bytes": size})
        if m == "pool.free":
            pl = self.pool(p)
            if pl["blocks"].pop(p["offset"], None) is None:
                return self.answer(rid, error={"code": -32003, "message": "no block there"})
            return self.answer(rid, {"pool": p["pool"], "offset": p["offset"], "freed": True})
        if m == "pool.destroy":
            pl = self.pools.pop(p["pool"], None)
            if pl is None:
                return self.answer(rid, error={"code": -32003, "message": "no such pool"})
            os.close(pl["fd"])
            return self.answer(rid, {"pool": p["pool"], "destroyed": True, "deferred": False})
        if m == "pool.read":
            pl = self.pool(p)
            data = os.pread(pl["fd"], p["bytes"], p["offset"])
            return self.answer(rid, {"data_b64": base64.b64encode(data).decode()})
        if m == "pool.write":
            pl = self.pool(p)
            os.pwrite(pl["fd"], base64.b64decode(p["data_b64"]), p["offset"])
            return self.answer(rid, {})
        if m == "fdtest":
            r, w = os.pipe()
            os.write(w, b"hello")
            os.close(w)
            self.answer(rid, {"x": 1}, fds=[r])
            os.close(r)
            return None
        if m == "infer":
            outs = {}
            for name, t in p["inputs"].items():
                if "pool" in t:
                    pl = self.pools[t["pool"]]
                    size = SIZES[t["dtype"]]
                    for d in t["shape"]:
                        size *= d
                    data = os.pread(pl["fd"], size, t["offset"])
                    ref = (p.get("outputs") or {}).get(name)
                    if ref:
                        os.pwrite(self.pools[ref["pool"]]["fd"], data, ref["offset"])
                        outs[name] = {"pool": ref["pool"], "offset": ref["offset"],
                                      "bytes": len(data), "dtype": t["dtype"],
                                      "shape": t["shape"]}
                    else:
                        outs[name] = {"dtype": t["dtype"], "shape": t["shape"],
                                      "data_b64": base64.b64encode(data).decode()}
                else:
                    outs[name] = t
            first = next(iter(p["inputs"].values()))
            if first["dtype"] == "float":
                if "pool" in first:
                    raw = os.pread(self.pools[first["pool"]]["fd"], 12, first["offset"])
                else:
                    raw = base64.b64decode(first["data_b64"])[:12]
                vals = list(struct.unpack("<%df" % (len(raw) // 4), raw)) + ["NaN"]
                outs["y/out:0"] = {"dtype": "float", "shape": [len(vals)], "data": vals}
            return self.answer(rid, {"job": 1, "model": p["model"], "outputs": outs,
                                     "timings": {"queue_us": 1, "compute_us": 2, "total_us": 3},
                                     "workers": [0], "batch": {"requests": 1, "rows": 1}})
        if m == "model.list":
            if p.get("name") not in (None, "echo"):
                return self.answer(rid, {"models": []})
            return self.answer(rid, {"models": [ECHO_MODEL]})
        if m == "model.load":
            if not p["path"].startswith("/"):
                return self.answer(rid, error={"code": -32602, "message": "params.path: not absolute"})
            return self.answer(rid, dict(ECHO_MODEL, name=p["name"], path=p["path"],
                                         precision=p.get("precision", "fp32"),
                                         instances=p.get("instances", 1),
                                         threads_per_instance=p.get("threads_per_instance", 0)))
        if m == "model.unload":
            if p["name"] != "echo":
                return self.answer(rid, error={"code": -32003, "message": "no model " + p["name"]})
            return self.answer(rid, {"name": p["name"], "finished": 2, "cancelled": 1})
        if m == "job.list":
            return self.answer(rid, {"jobs": [
                {"job": 17, "request_id": 4, "model": "echo", "priority": "batch",
                 "state": "queued", "batchable": True, "rows": 8, "age_us": 1500,
                 "deadline_in_us": None, "client": {"connection": 3, "pid": 4242, "uid": 1000}},
                {"job": 18, "request_id": "req-a", "model": "echo", "priority": "interactive",
                 "state": "running", "batchable": False, "rows": 1, "age_us": 12000000,
                 "deadline_in_us": 800, "client": {"connection": 4, "pid": 4243, "uid": 0}}]})
        if m == "job.cancel":
            if p.get("job") != 17:
                return self.answer(rid, error={"code": -32003, "message": "no job %s" % p.get("job")})
            return self.answer(rid, {"job": 17, "state": "queued"})
        if m == "pool.list":
            return self.answer(rid, {"pools": [
                {"pool": 1, "bytes": 1 << 30, "used": 3 << 20, "peak": 5 << 20,
                 "free": (1 << 30) - (3 << 20), "blocks": 3, "allocations": 9, "frees": 6,
                 "failures": 0, "fragmentation_pct": 12.5, "largest_free": 900 << 20,
                 "page_kind": "hugetlb", "page_size": 2 << 20, "numa_node": 0, "jobs": 1,
                 "client": {"connection": 3, "pid": 4242, "uid": 1000}}],
                "quota": {"bytes": 4 << 30, "used": 1 << 30}})
        if m == "notify":
            n = int(p.get("n", 1))
            if p.get("first"):
                self.answer(rid, {"sent": n})
            for i in range(n):
                self.send({"jsonrpc": "2.0", "method": "tick", "params": {"i": i}})
            if not p.get("first"):
                self.answer(rid, {"sent": n})
            return None
        if m == "bye":
            self.send({"jsonrpc": "2.0", "id": None,
                       "error": {"code": -32002, "message": "too many connections"}})
            raise EOFError
        return self.answer(rid, error={"code": -32601, "message": "no method " + str(m)})

    def run(self):
        buf = b""
        try:
            while True:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        self.handle(json.loads(line))
        except (EOFError, BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self.sock.close()


def serve(lsock):
    while True:
        try:
            s, _ = lsock.accept()
        except OSError:
            return
        threading.Thread(target=Conn(s).run, daemon=True).start()


def main():
    d = tempfile.mkdtemp(prefix="fake-hwoptd-")
    path = os.path.join(d, "hwoptd.sock")
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    lsock.listen(16)
    threading.Thread(target=serve, args=(lsock,), daemon=True).start()
    rc = subprocess.call(sys.argv[1:] + [path])
    lsock.close()
    os.unlink(path)
    os.rmdir(d)
    sys.exit(rc)


if __name__ == "__main__":
    main()
