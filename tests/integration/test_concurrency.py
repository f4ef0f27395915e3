"""Many clients at once, each pipelining many requests: every answer is
correct and carries the id of its request."""

import json
import selectors
import socket
import time

from conftest import IO_TIMEOUT, SLOW, check_status

N_CLIENTS = 200
N_REQUESTS = 50


def _requests(client):
    """50 requests: a mix of methods, number and string ids (distinct across
    all clients), a few errors and a notification, which is not answered."""
    reqs = []
    for j in range(N_REQUESTS):
        kind = j % 5
        if j % 2:
            rid = client * 1000 + j
        else:
            rid = "c%d-r%d-\u00e9" % (client, j)
        if kind == 0:
            reqs.append(({"jsonrpc": "2.0", "id": rid, "method": "hello",
                          "params": {"client": "client-%d" % client}}, "hello"))
        elif kind == 1:
            reqs.append(({"jsonrpc": "2.0", "id": rid, "method": "status"}, "status"))
        elif kind == 2:
            reqs.append(({"jsonrpc": "2.0", "id": rid, "method": "config.get"}, "config.get"))
        elif kind == 3 and j % 10 == 3:
            reqs.append(({"jsonrpc": "2.0", "id": rid, "method": "no.such"}, "error"))
        else:
            reqs.append(({"jsonrpc": "2.0", "id": rid, "method": "hello"}, "hello"))
    # A notification in the middle gets no answer.
    reqs.insert(25, ({"jsonrpc": "2.0", "method": "status"}, None))
    return reqs


def _check(resp, kind, client, d):
    if kind == "hello":
        r = resp["result"]
        assert r["daemon"] == "hwoptd" and r["protocol"] == 1
    elif kind == "status":
        check_status(resp["result"], sock=d.sock)
        assert resp["result"]["pid"] == d.pid
        assert resp["result"]["connections"]["max"] == 500
    elif kind == "config.get":
        assert resp["result"]["daemon"]["max_connections"] == 500
    else:
        assert resp["error"]["code"] == -32601, resp


def test_200_clients_50_pipelined_requests(daemon):
    d = daemon(max_connections=500)
    sel = selectors.DefaultSelector()
    clients = {}
    for i in range(N_CLIENTS):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(IO_TIMEOUT)
        s.connect(d.sock)
        s.setblocking(False)
        reqs = _requests(i)
        expect = {r["id"]: kind for r, kind in reqs if kind is not None}
        out = "".join(json.dumps(r) + "\n" for r, _ in reqs).encode()
        clients[s] = {"i": i, "out": out, "in": b"", "expect": expect, "got": {}, "eof": False}
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)

    pending = len(clients)
    deadline = time.monotonic() + 60 * SLOW
    while pending:
        assert time.monotonic() < deadline, "%d clients still waiting for answers" % pending
        for key, ev in sel.select(timeout=1.0):
            s = key.fileobj
            st = clients[s]
            if ev & selectors.EVENT_WRITE and st["out"]:
                n = s.send(st["out"])
                st["out"] = st["out"][n:]
                if not st["out"]:
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    continue
                assert chunk, "client %d: the daemon closed the connection" % st["i"]
                st["in"] += chunk
                *lines, st["in"] = st["in"].split(b"\n")
                for line in lines:
                    resp = json.loads(line)
                    assert resp["jsonrpc"] == "2.0"
                    rid = resp.get("id")
                    assert rid in st["expect"], "client %d: unexpected id %r" % (st["i"], rid)
                    assert rid not in st["got"], "client %d: id %r answered twice" % (st["i"], rid)
                    st["got"][rid] = resp
                    _check(resp, st["expect"][rid], st["i"], d)
                if len(st["got"]) == len(st["expect"]):
                    sel.unregister(s)
                    pending -= 1

    for s, st in clients.items():
        # Answers on one connection come in request order.
        order = [r["id"] for r, kind in _requests(st["i"]) if kind is not None]
        assert list(st["got"]) == order
        s.close()
    sel.close()

    st = d.result("status")
    assert st["connections"]["total"] >= N_CLIENTS
    assert st["requests"]["served"] >= N_CLIENTS * (N_REQUESTS + 1)
    assert st["connections"]["refused"] == 0
    assert st["connections"]["dropped_slow"] == 0
