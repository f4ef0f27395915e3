#include "errors.h"

const char *hwopt_error_name(int code)
{
	switch (code) {
	case HWOPT_E_PARSE: return "parse_error";
	case HWOPT_E_INVALID_REQUEST: return "invalid_request";
	case HWOPT_E_NO_METHOD: return "method_not_found";
	case HWOPT_E_INVALID_PARAMS: return "invalid_params";
	case HWOPT_E_INTERNAL: return "internal_error";
	case HWOPT_E_PERMISSION: return "permission_denied";
	case HWOPT_E_EXHAUSTED: return "resource_exhausted";
	case HWOPT_E_NOT_FOUND: return "not_found";
	case HWOPT_E_DEADLINE: return "deadline_exceeded";
	case HWOPT_E_CANCELLED: return "cancelled";
	case HWOPT_E_UNSUPPORTED: return "unsupported";
	case HWOPT_E_INVALID_MODEL: return "invalid_model";
	case HWOPT_E_SHUTTING_DOWN: return "shutting_down";
	case HWOPT_E_BAD_CONFIG: return "bad_config";
	}
	return "unknown";
}
