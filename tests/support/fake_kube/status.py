"""`Status` failures shaped like the real API server's, so the client raises the same ApiException.

The wording follows k8s.io/apimachinery (`errors.NewConflict`, `NewInvalid`, `field.Error`) because operators
match on `reason` and sometimes log `message`; a fake that invents its own text trains code on strings that
production never sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OPTIMISTIC_LOCK_MESSAGE = "the object has been modified; please apply your changes to the latest version and try again"

_REASON_BY_CODE = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    501: "NotImplemented",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    """A request the fake refuses; `body()` is the `Status` object the real server would send."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            status["details"] = self.details
        status["code"] = self.code
        return status


def _details(name: str, group: str, kind: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    return details


def _qualified(group: str, plural: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{_qualified(group, plural)} "{name}" not found', _details(name, group, plural))


def path_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{_qualified(group, plural)} "{name}" already exists',
        _details(name, group, plural),
    )


def conflict(group: str, plural: str, name: str, why: str = OPTIMISTIC_LOCK_MESSAGE) -> ApiError:
    message = f'Operation cannot be fulfilled on {_qualified(group, plural)} "{name}": {why}'
    return ApiError(409, "Conflict", message, _details(name, group, plural))


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def for_code(code: int, message: str, retry_after: int | None = None) -> ApiError:
    """A failure with the reason the server uses for `code` (used by fault injection)."""
    headers = None if retry_after is None else {"Retry-After": str(retry_after)}
    details = {} if retry_after is None else {"retryAfterSeconds": retry_after}
    return ApiError(code, _REASON_BY_CODE.get(code, "Unknown"), message, details, headers)


def _go_value(value: Any) -> str:
    """Render a value like Go's `%v`/`%q` in field errors: strings quoted, numbers bare."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        inner = ", ".join(f'"{k}":{_go_value(v)}' for k, v in value.items())
        return "map[string]string{" + inner + "}"
    return repr(value)


@dataclass(frozen=True)
class FieldError:
    """One entry of a 422 `Invalid` response, like `field.Error` in apimachinery."""

    path: str
    type: str  # Invalid | Required | Forbidden | NotSupported | TooLong | Duplicate
    value: Any = None
    detail: str = ""
    supported: tuple[str, ...] = field(default=())

    @property
    def reason(self) -> str:
        return {
            "Invalid": "FieldValueInvalid",
            "Required": "FieldValueRequired",
            "Forbidden": "FieldValueForbidden",
            "NotSupported": "FieldValueNotSupported",
            "TooLong": "FieldValueTooLong",
            "Duplicate": "FieldValueDuplicate",
        }[self.type]

    def body(self) -> str:
        if self.type == "Invalid":
            text = f"Invalid value: {_go_value(self.value)}"
        elif self.type == "Required":
            text = "Required value"
        elif self.type == "Forbidden":
            text = "Forbidden"
        elif self.type == "TooLong":
            text = "Too long"
        elif self.type == "Duplicate":
            text = f"Duplicate value: {_go_value(self.value)}"
        else:
            options = ", ".join(f'"{s}"' for s in self.supported)
            return f"Unsupported value: {_go_value(self.value)}: supported values: {options}"
        return f"{text}: {self.detail}" if self.detail else text

    def message(self) -> str:
        return f"{self.path}: {self.body()}"


def invalid(group: str, kind: str, name: str, errors: list[FieldError]) -> ApiError:
    """422 with one cause per field error; the message aggregates like `utilerrors.NewAggregate`."""
    joined = errors[0].message() if len(errors) == 1 else "[" + ", ".join(e.message() for e in errors) + "]"
    qualified = f"{kind}.{group}" if group else kind
    details = _details(name, group, kind)
    details["causes"] = [{"reason": e.reason, "message": e.body(), "field": e.path} for e in errors]
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {joined}', details)
