"""Decode request bodies against the wire schema, the way the API server decodes into Go structs.

The schema comes from the real client's generated models (`openapi_types` / `attribute_map`), which are
generated from the server's OpenAPI document. So, like the server:
* a value of the wrong JSON type is a 400 (`cannot be handled as a Deployment`);
* unknown fields are dropped and reported (`fieldValidation=Warn`, the server default) or refused (`Strict`);
* `null` means "absent";
* timestamps are parsed and re-emitted canonically: `metav1.Time` as RFC 3339 seconds in UTC, `MicroTime`
  (lease acquire/renew times, event times) only with exactly six fractional digits and a zone, which is what
  Go's `time.Parse("2006-01-02T15:04:05.000000Z07:00")` accepts. `datetime.isoformat()` drops the fraction
  when microseconds are 0 and the zone on naive datetimes; the real server rejects both, so the fake does.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import re
from typing import Any

import kubernetes.client.models as client_models

from .status import ApiError, bad_request

_MICRO_TIME = {
    ("V1LeaseSpec", "acquireTime"),
    ("V1LeaseSpec", "renewTime"),
    ("CoreV1Event", "eventTime"),
    ("CoreV1EventSeries", "lastObservedTime"),
}
_QUANTITY = {
    ("V1ResourceRequirements", "limits"),
    ("V1ResourceRequirements", "requests"),
    ("V2MetricTarget", "value"),
    ("V2MetricTarget", "averageValue"),
    ("V2MetricValueStatus", "value"),
    ("V2MetricValueStatus", "averageValue"),
}
_QUANTITY_RE = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_RFC3339_MICRO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$")
_GO_TYPES = {"str": "string", "int": "int32", "bool": "bool", "float": "float64", "bytes": "[]uint8"}
_LIST = re.compile(r"^List\[(.*)\]$")
_DICT = re.compile(r"^Dict\[str, (.*)\]$")

_DROP = object()


@functools.cache
def fields(model: str) -> dict[str, str]:
    """JSON key -> client type string for one generated model."""
    cls = getattr(client_models, model)
    return {cls.attribute_map[attr]: type_ for attr, type_ in cls.openapi_types.items()}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def format_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    """Parse RFC 3339 (any fraction, zone required); raises ValueError like Go's parser would fail."""
    if not _RFC3339.match(text):
        raise ValueError(text)
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class Decoder:
    """One request body's decoding: collects unknown-field paths; raises 400 on type errors."""

    def __init__(self, kind: str, version: str) -> None:
        self.kind = kind
        self.version = version
        self.unknown: list[str] = []

    def fail(self, detail: str) -> ApiError:
        return bad_request(f'{self.kind} in version "{self.version}" cannot be handled as a {self.kind}: {detail}')

    def decode_object(self, model: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"json: cannot unmarshal {_json_type(value)} into Go value of type {model}")
        result = self._model(model, value, "")
        assert isinstance(result, dict)
        return result

    def _model(self, model: str, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise self._mismatch(value, path, f"v1.{model.removeprefix('V1')}")
        fields_ = fields(model)
        out: dict[str, Any] = {}
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if key not in fields_:
                self.unknown.append(child)
                continue
            decoded = self._value(fields_[key], item, child, (model, key))
            if decoded is not _DROP:
                out[key] = decoded
        return out

    def _value(self, type_: str, value: Any, path: str, owner: tuple[str, str]) -> Any:
        if value is None:
            return _DROP
        if match := _LIST.match(type_):
            if not isinstance(value, list):
                raise self._mismatch(value, path, f"[]{match.group(1)}")
            items = [self._value(match.group(1), v, f"{path}[{i}]", owner) for i, v in enumerate(value)]
            return [v for v in items if v is not _DROP]
        if match := _DICT.match(type_):
            if not isinstance(value, dict):
                raise self._mismatch(value, path, f"map[string]{match.group(1)}")
            pairs = {k: self._value(match.group(1), v, f"{path}.{k}", owner) for k, v in value.items()}
            return {k: ("" if v is _DROP else v) for k, v in pairs.items()}
        if type_ == "object":
            return value
        if type_ == "datetime":
            return self._time(value, path, micro=owner in _MICRO_TIME)
        if owner in _QUANTITY:
            return self._quantity(value, path)
        if type_ in _GO_TYPES:
            return self._primitive(type_, value, path)
        return self._model(type_, value, path)

    def _primitive(self, type_: str, value: Any, path: str) -> Any:
        ok = {
            "str": isinstance(value, str),
            "bytes": isinstance(value, str),
            "bool": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
        }[type_]
        if not ok:
            raise self._mismatch(value, path, _GO_TYPES[type_])
        if type_ == "bytes":
            try:
                base64.b64decode(value, validate=True)
            except binascii.Error as exc:
                raise self.fail(f"illegal base64 data at {path}: {exc}") from None
        return value

    def _time(self, value: Any, path: str, *, micro: bool) -> str:
        layout = "2006-01-02T15:04:05.000000Z07:00" if micro else "2006-01-02T15:04:05Z07:00"
        if not isinstance(value, str):
            raise self._mismatch(value, path, "v1.MicroTime" if micro else "v1.Time")
        try:
            if micro and not _RFC3339_MICRO.match(value):
                raise ValueError(value)
            moment = parse_time(value)
        except ValueError:
            raise self.fail(f'parsing time "{value}" as "{layout}": cannot parse "{value}" as "{layout}"') from None
        return format_micro_time(moment) if micro else format_time(moment)

    def _quantity(self, value: Any, path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self._mismatch(value, path, "resource.Quantity")
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else f"{round(value * 1000)}m"
        if not _QUANTITY_RE.match(value):
            raise self.fail(
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            )
        return value

    def _mismatch(self, value: Any, path: str, go_type: str) -> ApiError:
        return self.fail(
            f"json: cannot unmarshal {_json_type(value)} into Go struct field {self.kind}.{path} of type {go_type}"
        )


def decode(model: str, kind: str, version: str, body: Any, field_validation: str) -> tuple[dict[str, Any], list[str]]:
    """Decode `body` as `model`; returns (object, warnings). `Strict` turns unknown fields into a 400."""
    decoder = Decoder(kind, version)
    obj = decoder.decode_object(model, body)
    if decoder.unknown and field_validation == "Strict":
        unknown = ", ".join(f'unknown field "{p}"' for p in decoder.unknown)
        raise bad_request(f"strict decoding error: {unknown}")
    if field_validation == "Ignore":
        return obj, []
    return obj, [f'unknown field "{p}"' for p in decoder.unknown]
