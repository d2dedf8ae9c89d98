"""List filtering as the API server does it: `labelSelector`, `fieldSelector`, `limit` / `continue`."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

from .resources import ResourceType
from .status import ApiError, bad_request

Requirement = Callable[[dict[str, str]], bool]

_SET_RE = re.compile(r"^\s*([^\s!=<>()]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_OP_RE = re.compile(r"^\s*([^\s!=<>()]+)\s*(==|!=|=|>|<)\s*([^\s]*)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)\s*([^\s!=<>()]+)\s*$")

_EVENT_FIELDS = {
    "involvedObject.kind": ("involvedObject", "kind"),
    "involvedObject.namespace": ("involvedObject", "namespace"),
    "involvedObject.name": ("involvedObject", "name"),
    "involvedObject.uid": ("involvedObject", "uid"),
    "involvedObject.apiVersion": ("involvedObject", "apiVersion"),
    "involvedObject.resourceVersion": ("involvedObject", "resourceVersion"),
    "involvedObject.fieldPath": ("involvedObject", "fieldPath"),
    "reason": ("reason",),
    "reportingComponent": ("reportingComponent",),
    "source": ("source", "component"),
    "type": ("type",),
}


def _split(selector: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def _requirement(text: str) -> Requirement:
    if match := _SET_RE.match(text):
        key, op, raw = match.groups()
        values = {v.strip() for v in raw.split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := _OP_RE.match(text):
        key, op, value = match.groups()
        if op in ("=", "=="):
            return lambda labels: labels.get(key) == value
        if op == "!=":
            return lambda labels: labels.get(key) != value
        if not value.lstrip("-").isdigit():
            raise bad_request(
                f"unable to parse requirement: for 'gt', 'lt' operators, the value must be an integer: {value}"
            )
        bound = int(value)

        def compare(labels: dict[str, str]) -> bool:
            found = labels.get(key, "")
            if not found.lstrip("-").isdigit():
                return False
            return int(found) > bound if op == ">" else int(found) < bound

        return compare
    if match := _EXISTS_RE.match(text):
        negated, key = match.groups()
        return (lambda labels: key not in labels) if negated else (lambda labels: key in labels)
    raise bad_request(f"unable to parse requirement: found '{text.strip()}', expected: a valid label selector")


def label_filter(selector: str | None) -> Callable[[dict[str, Any]], bool]:
    if not selector:
        return lambda obj: True
    requirements = [_requirement(part) for part in _split(selector)]

    def matches(obj: dict[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(req(labels) for req in requirements)

    return matches


def _field_value(rt: ResourceType, obj: dict[str, Any], name: str) -> str:
    if name in ("metadata.name", "metadata.namespace"):
        return str(obj["metadata"].get(name.split(".", 1)[1], ""))
    path = _EVENT_FIELDS.get(name) if rt.kind == "Event" else None
    if path is None:
        raise bad_request(f"field label not supported: {name}")
    node: Any = obj
    for part in path:
        node = node.get(part, "") if isinstance(node, dict) else ""
    return str(node)


def field_filter(rt: ResourceType, selector: str | None) -> Callable[[dict[str, Any]], bool]:
    if not selector:
        return lambda obj: True
    terms: list[tuple[str, bool, str]] = []
    for part in _split(selector):
        match = re.match(r"^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if match is None:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{part}'")
        name, op, value = match.groups()
        if name not in ("metadata.name", "metadata.namespace") and not (rt.kind == "Event" and name in _EVENT_FIELDS):
            raise bad_request(f"field label not supported: {name}")
        terms.append((name, op != "!=", value))
    return lambda obj: all((_field_value(rt, obj, n) == v) == eq for n, eq, v in terms)


def paginate(
    items: list[dict[str, Any]], limit: str | None, token: str | None, count_rest: bool
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Cut one page; returns (items, extra list metadata: `continue`, `remainingItemCount`)."""
    if token:
        try:
            start = json.loads(base64.urlsafe_b64decode(token.encode()))["start"]
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise ApiError(400, "BadRequest", "continue key is not valid: illegal base64 data") from None
        items = [o for o in items if (o["metadata"]["namespace"], o["metadata"]["name"]) > tuple(start)]
    if not limit or int(limit) <= 0 or len(items) <= int(limit):
        return items, {}
    page = items[: int(limit)]
    last = page[-1]["metadata"]
    encoded = base64.urlsafe_b64encode(json.dumps({"start": [last["namespace"], last["name"]]}).encode()).decode()
    extra: dict[str, Any] = {"continue": encoded}
    if count_rest:
        extra["remainingItemCount"] = len(items) - len(page)
    return page, extra
