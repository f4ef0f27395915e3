"""Exceptions raised by the hwopt client.

The daemon answers failures with JSON-RPC error objects whose codes are
listed in docs/protocol.md ("Errors"). RPCError keeps the three members
as they came and adds the snake_case name from that table, so callers can
branch on a stable word (``e.name == "deadline_exceeded"``) instead of a
magic number.
"""

# docs/protocol.md, "Errors": code -> name.
ERROR_NAMES = {
    -32700: "parse_error",
    -32600: "invalid_request",
    -32601: "method_not_found",
    -32602: "invalid_params",
    -32603: "internal_error",
    -32001: "permission_denied",
    -32002: "resource_exhausted",
    -32003: "not_found",
    -32004: "deadline_exceeded",
    -32005: "cancelled",
    -32006: "unsupported",
    -32007: "invalid_model",
    -32008: "shutting_down",
    -32009: "bad_config",
}

# name -> code, for callers who prefer to compare codes.
ERROR_CODES = {name: code for code, name in ERROR_NAMES.items()}


class RPCError(Exception):
    """The daemon answered a request with an error object.

    ``code``, ``message`` and ``data`` are the error object's members
    (``data`` is None when absent); ``name`` is the protocol's name for the
    code, or "unknown" for a code the table does not list; ``request_id``
    is the id of the request it answers (None for errors the daemon sends
    with id null, such as a refused connection).
    """

    def __init__(self, code, message, data=None, request_id=None):
        self.code = code
        self.message = message
        self.data = data
        self.request_id = request_id
        self.name = ERROR_NAMES.get(code, "unknown")
        super().__init__(code, message, data)

    def __str__(self):
        s = "%s (%s): %s" % (self.name, self.code, self.message)
        if self.data is not None:
            s += " %r" % (self.data,)
        return s

    @classmethod
    def from_object(cls, err, request_id=None):
        """Builds the exception from a JSON-RPC error object, tolerating a
        malformed one (the message says so) rather than failing twice."""
        if not isinstance(err, dict):
            return cls(-32603, "malformed error object: %r" % (err,), None, request_id)
        code = err.get("code")
        if not isinstance(code, int) or isinstance(code, bool):
            code = -32603
        return cls(code, str(err.get("message", "")), err.get("data"), request_id)


class ConnectionClosed(ConnectionError):
    """The connection to the daemon is closed: by the daemon (stopping, a
    refused connection, a dropped slow reader) or by this client.

    ``error`` holds the last error the daemon sent with id null before
    closing (an RPCError, e.g. resource_exhausted when the daemon had too
    many connections), or None.
    """

    def __init__(self, message, error=None):
        super().__init__(message if error is None else "%s (last error: %s)" % (message, error))
        self.error = error


class ProtocolError(Exception):
    """The daemon sent something the protocol does not allow (a line that is
    not JSON, a pool.create answer without its descriptor). It indicates a
    daemon/client mismatch rather than a failed request."""
