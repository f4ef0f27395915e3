"""Reading answer lines, and the descriptors that come with them.

The daemon passes a pool's memfd as SCM_RIGHTS ancillary data on the first
byte of the pool.create answer line. Linux delivers ancillary data with the
recvmsg call that returns that byte (and ends the call right after the
segment carrying it), so a descriptor always arrives in the same recvmsg
call as the first byte of its line. This module therefore reads only with
recvmsg and hands the descriptors of one call to the lines that *start* in
that call, in order, to those lines that want one (the client says which:
successful pool.create answers). Whatever no line claims is closed as soon
as every line that started in that call has been parsed, so a stray
descriptor never leaks.
"""

import array
import json
import os
import select
import socket

from .errors import ProtocolError

# Large enough that a big inline tensor answer takes few calls.
RECV_BYTES = 256 * 1024
# Descriptors one recvmsg call can carry; the daemon sends one per answer.
MAX_FDS = 64


def _close_fds(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


class _FdGroup:
    """The descriptors of one recvmsg call, shared by the lines whose first
    byte came in that call. Closes what is left when the last of those lines
    has been handled."""

    __slots__ = ("fds", "lines")

    def __init__(self, fds, lines):
        self.fds = list(fds)
        self.lines = lines

    def take(self):
        return self.fds.pop(0) if self.fds else None

    def release(self):
        self.lines -= 1
        if self.lines <= 0:
            self.close()

    def close(self):
        fds, self.fds = self.fds, []
        _close_fds(fds)


class LineReader:
    """Turns a Unix stream socket into parsed JSON lines, each with the
    descriptor it claimed (or None).

    wants_fd(msg) is asked for every parsed line that started in a recvmsg
    call which brought descriptors; when it returns true the line takes the
    next of them. Not thread-safe: the client serializes reads.
    """

    def __init__(self, sock, wants_fd):
        self._sock = sock
        self._wants_fd = wants_fd
        self._partial = bytearray()   # bytes of the line being received
        self._at_start = True         # the next byte begins a line
        self._line_group = None       # _FdGroup of the line being received
        self.eof = False
        self.ctrunc = 0               # recvmsg calls whose descriptors the kernel truncated

    def read(self, timeout):
        """Reads what one recvmsg call returns, waiting up to timeout seconds
        (None: forever). Returns a list of (msg, fd) for the lines completed;
        msg is a ProtocolError for a line that is not JSON. Returns [] on
        timeout or at end of stream (then .eof is true)."""
        if self.eof:
            return []
        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLIN)
        ms = None if timeout is None else max(0, int(timeout * 1000 + 0.999))
        if not poller.poll(ms):
            return []
        try:
            data, anc, flags, _ = self._sock.recvmsg(
                RECV_BYTES, socket.CMSG_SPACE(MAX_FDS * 4), socket.MSG_CMSG_CLOEXEC)
        except (BlockingIOError, InterruptedError, socket.timeout):
            return []
        except (ConnectionResetError, BrokenPipeError):
            data, anc, flags = b"", [], 0
        fds = []
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                a = array.array("i")
                a.frombytes(payload[:len(payload) - len(payload) % a.itemsize])
                fds.extend(a)
        if flags & socket.MSG_CTRUNC:
            self.ctrunc += 1
        if not data:
            _close_fds(fds)
            self._end()
            return []
        return self._feed(data, fds)

    def _feed(self, data, fds):
        n = len(data)
        group = None
        if fds:
            # Lines starting in this chunk: one at offset 0 if we are at a line
            # start, and one after every newline that is not the last byte.
            starts = data.count(b"\n", 0, n - 1) + (1 if self._at_start else 0)
            if starts:
                group = _FdGroup(fds, starts)
            else:
                _close_fds(fds)  # no line begins here: nobody may claim them
        out = []
        pos = 0
        try:
            while pos < n:
                if self._at_start:
                    self._line_group = group
                    self._at_start = False
                nl = data.find(b"\n", pos)
                if nl < 0:
                    self._partial += data[pos:]
                    break
                if self._partial:
                    self._partial += data[pos:nl]
                    line = bytes(self._partial)
                    self._partial.clear()
                else:
                    line = data[pos:nl]
                pos = nl + 1
                self._at_start = True
                g, self._line_group = self._line_group, None
                item = self._finish(line, g)
                if item is not None:
                    out.append(item)
        except BaseException:
            for _, fd in out:
                if fd is not None:
                    _close_fds([fd])
            if group is not None:
                group.close()
            raise
        return out

    def _finish(self, line, group):
        try:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line.strip():
                return None  # blank lines are ignored, as the daemon does
            try:
                msg = json.loads(line)
            except (ValueError, UnicodeDecodeError) as e:
                return ProtocolError("answer line is not JSON (%s): %r" % (e, line[:200])), None
            fd = None
            if group is not None and self._wants_fd(msg):
                fd = group.take()
            return msg, fd
        finally:
            if group is not None:
                group.release()

    def _end(self):
        """End of stream: an unfinished line is dropped with its descriptors."""
        self.eof = True
        self._partial.clear()
        if self._line_group is not None:
            self._line_group.close()
            self._line_group = None

    def close(self):
        self._end()
