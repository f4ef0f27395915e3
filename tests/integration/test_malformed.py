"""Abuse from one client never disturbs another: every case runs while a
well-behaved client calls status in a loop on its own connection, and a
fresh client checks status afterwards."""

import random
import socket
import threading
import time

from conftest import (IO_TIMEOUT, assert_refused_as_full, check_error, check_status, connect, connect_accepted,
                      wait_for)


def final_status(d):
    st = d.result("status")
    check_status(st, sock=d.sock)
    assert st["pid"] == d.pid
    return st


def sender_thread(c, data, chunk=65536):
    """Sends data from a thread, tolerating the daemon closing on us."""
    state = {"error": None, "sent": 0}

    def run():
        try:
            for i in range(0, len(data), chunk):
                c.sock.sendall(data[i:i + chunk])
                state["sent"] = i + chunk
        except (BrokenPipeError, ConnectionResetError) as e:
            state["error"] = e
        except OSError as e:  # closed under us at the end of the test
            state["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, state


def test_non_json(hwoptd, prober):
    with prober(hwoptd.sock):
        with connect(hwoptd.sock) as c:
            for junk in (b"hello", b"{", b"}", b"{'single': 'quotes'}", b"{\"a\":}",
                         b"GET / HTTP/1.1", b"\x1b[31mred", b"nan", b"[1,2"):
                c.send(junk + b"\n")
                check_error(c.recv(), -32700, id=None)
            assert c.result("hello")["daemon"] == "hwoptd"
    final_status(hwoptd)


def test_truncated_line_then_eof(hwoptd, prober):
    with prober(hwoptd.sock):
        with connect(hwoptd.sock) as c:
            c.send(b'{"jsonrpc":"2.0","id":1,"method":"sta')
            c.shutdown_write()
            got = c.read_until_eof()
        assert len(got) == 1
        check_error(got[0], -32700, id=None)
    final_status(hwoptd)


def test_two_mib_line_gets_error_then_close(hwoptd, prober):
    line = b'{"jsonrpc":"2.0","id":1,"method":"hello","params":{"client":"' + \
        b"x" * (2 << 20) + b'"}}\n'
    with prober(hwoptd.sock):
        c = connect(hwoptd.sock)
        t, state = sender_thread(c, line)
        first = c.recv()
        err = check_error(first, -32600, id=None, contains="max_line_bytes")
        assert str(1 << 20) in err["message"]
        assert c.read_until_eof() == []
        t.join(IO_TIMEOUT)
        assert not t.is_alive()
        c.close()
    assert "max_line_bytes" in hwoptd.log_text()
    final_status(hwoptd)


def test_two_mib_without_any_newline(hwoptd, prober):
    with prober(hwoptd.sock):
        c = connect(hwoptd.sock)
        t, state = sender_thread(c, b"a" * (2 << 20))
        check_error(c.recv(), -32600, id=None, contains="max_line_bytes")
        assert c.read_until_eof() == []
        t.join(IO_TIMEOUT)
        c.close()
    final_status(hwoptd)


def test_wrong_requests_during_probe(hwoptd, prober):
    cases = [
        (b'{"jsonrpc":"1.0","id":3,"method":"status"}', -32600, 3),
        (b'{"jsonrpc":"2.0","id":{"x":[1]},"method":"status"}', -32600, None),
        (b'{"jsonrpc":"2.0","id":false,"method":"status"}', -32600, None),
        (b'{"jsonrpc":"2.0","id":4,"method":"status","params":[]}', -32602, 4),
        (b'{"jsonrpc":"2.0","id":5,"method":"status","params":null}', -32602, 5),
        (b'{"jsonrpc":"2.0","id":6,"method":"status","params":{"bogus":1}}', -32602, 6),
        (b'{"jsonrpc":"2.0","id":7,"method":"no.such.method"}', -32601, 7),
        (b'[{"jsonrpc":"2.0","id":8,"method":"status"}]', -32600, None),
    ]
    with prober(hwoptd.sock):
        with connect(hwoptd.sock) as c:
            for _ in range(20):
                for line, code, id in cases:
                    c.send(line + b"\n")
                    check_error(c.recv(), code, id=id)
    final_status(hwoptd)


def _expected_answers(data):
    """How many answers the daemon owes for data: one per line that is not
    blank (spaces and tabs only, one trailing '\\r' removed)."""
    n = 0
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for line in lines:
        if line.endswith(b"\r"):
            line = line[:-1]
        if line.strip(b" \t"):
            n += 1
    return n


def test_binary_garbage_with_newlines(hwoptd, prober):
    rng = random.Random(1234)
    with prober(hwoptd.sock):
        for round_ in range(10):
            data = bytes(rng.getrandbits(8) for _ in range(8192))
            data += b"\x00\xff\xfe\xc0\x80\xed\xa0\x80\n"
            with connect(hwoptd.sock) as c:
                c.send(data)
                c.shutdown_write()
                got = c.read_until_eof()
            assert len(got) == _expected_answers(data), "round %d" % round_
            for g in got:
                assert g["id"] is None and g["error"]["code"] in (-32700, -32600), g
    final_status(hwoptd)


def test_binary_garbage_without_newlines(hwoptd, prober):
    rng = random.Random(99)
    with prober(hwoptd.sock):
        for _ in range(5):
            data = bytes(rng.getrandbits(8) for _ in range(50000)).replace(b"\n", b"\x00")
            # One unfinished garbage line, then end of input.
            with connect(hwoptd.sock) as c:
                c.send(data)
                c.shutdown_write()
                got = c.read_until_eof()
            assert len(got) == 1
            check_error(got[0], -32700, id=None)
            # The same garbage then a newline and a good request.
            with connect(hwoptd.sock) as c:
                c.send(data + b"\n")
                check_error(c.recv(), -32700, id=None)
                assert c.result("status")["pid"] == hwoptd.pid
    final_status(hwoptd)


def test_many_connections_dropped_mid_line(hwoptd, prober):
    with prober(hwoptd.sock, reconnect_every=10):
        for batch in range(8):
            conns = []
            for i in range(40):
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                c.settimeout(IO_TIMEOUT)
                c.connect(hwoptd.sock)
                c.sendall(b'{"jsonrpc":"2.0","id":%d,"method":"topo' % i)
                conns.append(c)
            for i, c in enumerate(conns):
                if i % 2:
                    # With unread answers in flight too.
                    c.sendall(b'logy"}\n{"jsonrpc":"2.0","id":1,"method":"hel')
                c.close()
    # Every one of them is gone: only our own connection stays open.
    wait_for(lambda: hwoptd.result("status")["connections"]["open"] == 1,
             what="the dropped connections to be closed")
    st = final_status(hwoptd)
    assert st["connections"]["total"] >= 320


def test_max_connections_exceeded(daemon, prober):
    d = daemon(max_connections=8)
    with prober(d.sock, reconnect_every=0):  # holds connection 1 of 8
        held = []
        for i in range(7):
            held.append(connect_accepted(d.sock))  # accepted and counted
        # The 9th gets one line, resource exhausted, then EOF.
        extra = connect(d.sock)
        got = extra.read_until_eof()
        extra.close()
        assert len(got) == 1
        check_error(got[0], -32002, id=None, contains="max_connections")
        st = held[0].result("status")
        assert st["connections"]["open"] == 8
        assert st["connections"]["refused"] >= 1
        # Close two; new clients are accepted again once the daemon has seen it.
        for c in held[:2]:
            c.close()
        del held[:2]

        held.append(connect_accepted(d.sock))
        held.append(connect_accepted(d.sock))
        assert_refused_as_full(d.sock)
        for c in held:
            c.close()
    assert "too many connections" in d.log_text()
    final_status(d)


def test_slow_reader_is_dropped(daemon, prober):
    d = daemon(max_queued_bytes="64K")
    with prober(d.sock):
        c = connect(d.sock)
        # Thousands of pipelined topology requests; nothing is ever read.
        data = b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"topology"}\n' % i
                        for i in range(6000))
        t, state = sender_thread(c, data)
        d.wait_log("dropping client")
        # The connection ends: what the kernel had buffered, then EOF.
        c.sock.settimeout(IO_TIMEOUT)
        total = 0
        deadline = time.monotonic() + IO_TIMEOUT
        while True:
            try:
                chunk = c.sock.recv(1 << 20)
            except ConnectionResetError:
                break
            if not chunk:
                break
            total += len(chunk)
            assert time.monotonic() < deadline, "the dropped client's connection stays open"
        t.join(IO_TIMEOUT)
        assert not t.is_alive()
        c.close()
        # It was dropped before all its answers were written.
        assert total < 6000 * 1000
    st = final_status(d)
    assert st["connections"]["dropped_slow"] >= 1
    assert "max_queued_bytes" in d.log_text()


def test_pipelining_reader_is_not_dropped(daemon):
    # A client that keeps a window of requests outstanding and reads its
    # answers is never dropped, however many it sends in all.
    d = daemon(max_queued_bytes="64K")
    n, window = 3000, 16  # 16 topology answers stay well under 64 KiB
    with connect(d.sock) as c:
        sent = 0
        for i in range(n):
            while sent < n and sent - i < window:
                c.send(b'{"jsonrpc":"2.0","id":%d,"method":"topology"}\n' % sent)
                sent += 1
            resp = c.recv()
            assert resp["id"] == i and "result" in resp
    assert "dropping client" not in d.log_text()
    assert d.result("status")["connections"]["dropped_slow"] == 0


def test_deeply_nested_json(hwoptd, prober):
    deep = b"[" * 200000 + b"]" * 200000
    with prober(hwoptd.sock):
        with connect(hwoptd.sock) as c:
            c.send(b'{"jsonrpc":"2.0","id":1,"method":"hello","params":{"a":' + deep + b"}}\n")
            check_error(c.recv(), -32700, id=None)
            c.send(deep + b"\n")
            check_error(c.recv(), -32700, id=None)
            c.send(b'{"a":' * 100000 + b"1" + b"}" * 100000 + b"\n")
            check_error(c.recv(), -32700, id=None)
            # Nested, but within what a parser should take: an unknown member.
            ok = b"[" * 500 + b"]" * 500
            c.send(b'{"jsonrpc":"2.0","id":2,"method":"hello","params":{"deep":' + ok + b"}}\n")
            check_error(c.recv(), -32602, id=2, contains="deep")
    final_status(hwoptd)


def test_huge_method_name_and_many_params(hwoptd, prober):
    with prober(hwoptd.sock):
        with connect(hwoptd.sock) as c:
            c.send(b'{"jsonrpc":"2.0","id":1,"method":"' + b"m" * 900000 + b'"}\n')
            err = check_error(c.recv(), -32601, id=1)
            assert len(err["message"]) < 1000
            members = b",".join(b'"k%d":%d' % (i, i) for i in range(50000))
            c.send(b'{"jsonrpc":"2.0","id":2,"method":"status","params":{' + members + b"}}\n")
            check_error(c.recv(), -32602, id=2, contains="k0")
    final_status(hwoptd)
