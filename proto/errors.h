/* Protocol error codes: JSON-RPC 2.0's own, then hwoptd's application range.
 * docs/protocol.md is the contract; keep the two in step. */
#ifndef HWOPT_PROTO_ERRORS_H
#define HWOPT_PROTO_ERRORS_H

enum hwopt_error_code {
	HWOPT_E_PARSE = -32700,
	HWOPT_E_INVALID_REQUEST = -32600,
	HWOPT_E_NO_METHOD = -32601,
	HWOPT_E_INVALID_PARAMS = -32602,
	HWOPT_E_INTERNAL = -32603,

	HWOPT_E_PERMISSION = -32001,
	HWOPT_E_EXHAUSTED = -32002,
	HWOPT_E_NOT_FOUND = -32003,
	HWOPT_E_DEADLINE = -32004,
	HWOPT_E_CANCELLED = -32005,
	HWOPT_E_UNSUPPORTED = -32006,
	HWOPT_E_INVALID_MODEL = -32007,
	HWOPT_E_SHUTTING_DOWN = -32008,
	HWOPT_E_BAD_CONFIG = -32009,
};

/* Stable snake_case name of a code ("permission_denied"), or "unknown". */
const char *hwopt_error_name(int code);

#endif
