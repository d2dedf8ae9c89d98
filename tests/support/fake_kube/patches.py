"""The three patch formats the API server accepts for built-in types.

* JSON merge patch (RFC 7386): maps merge, `null` deletes, lists are replaced whole.
* Strategic merge patch: like merge patch, but lists declared `patchStrategy=merge` in the Go types merge
  by their key (containers by `name`, env by `name`, conditions by `type`, finalizers as a set), and the
  `$patch: replace|delete`, `$retainKeys`, `$deleteFromPrimitiveList/…` directives apply. The declarations
  below cover the types this fake serves; any other list is replaced, as the server does for atomic lists
  (HPA `spec.metrics`, label selector `matchExpressions`).
* JSON patch (RFC 6902): add/remove/replace/move/copy/test with JSON pointers; a malformed patch is a 400,
  an operation that does not apply (failed `test`, missing path) is a 422, like the server.
"""

from __future__ import annotations

import copy
from typing import Any

from . import schema
from .status import ApiError, bad_request

# (model, json field) -> merge key; "" marks a primitive list merged as a set.
MERGE_KEYS: dict[tuple[str, str], str] = {
    ("V1PodSpec", "containers"): "name",
    ("V1PodSpec", "initContainers"): "name",
    ("V1PodSpec", "ephemeralContainers"): "name",
    ("V1PodSpec", "volumes"): "name",
    ("V1PodSpec", "imagePullSecrets"): "name",
    ("V1PodSpec", "hostAliases"): "ip",
    ("V1Container", "env"): "name",
    ("V1Container", "ports"): "containerPort",
    ("V1Container", "volumeMounts"): "mountPath",
    ("V1Container", "volumeDevices"): "devicePath",
    ("V1ObjectMeta", "finalizers"): "",
    ("V1ObjectMeta", "ownerReferences"): "uid",
    ("V1DeploymentStatus", "conditions"): "type",
    ("V1StatefulSetStatus", "conditions"): "type",
    ("V2HorizontalPodAutoscalerStatus", "conditions"): "type",
}


def _invalid_patch(message: str) -> ApiError:
    return ApiError(422, "Invalid", message, {})


# ---------------------------------------------------------------- JSON merge patch (RFC 7386)


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# ---------------------------------------------------------------- strategic merge patch


def _element_model(model: str | None, key: str) -> str | None:
    if model is None:
        return None
    type_ = schema.fields(model).get(key)
    if type_ is None:
        return None
    for wrapper in ("List[", "Dict[str, "):
        if type_.startswith(wrapper):
            type_ = type_[len(wrapper) : -1]
    return type_ if type_[:1].isupper() else None


def strategic_merge_patch(target: dict[str, Any], patch: Any, model: str) -> dict[str, Any]:
    if not isinstance(patch, dict):
        raise bad_request("error decoding patch: a strategic merge patch must be a JSON object")
    merged = _smp_map(target, patch, model)
    if merged is None:
        raise bad_request("error applying patch: the patch deletes the whole object")
    return merged


def _smp_map(target: Any, patch: dict[str, Any], model: str | None) -> dict[str, Any] | None:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    body = {k: v for k, v in patch.items() if k != "$patch"}
    if directive == "replace":
        replaced: dict[str, Any] = _strip_directives(body)
        return replaced
    if directive is not None:
        raise bad_request(f"error applying patch: unknown patch type {directive!r} in map")
    result: dict[str, Any] = copy.deepcopy(target) if isinstance(target, dict) else {}
    retain = body.pop("$retainKeys", None)
    for key, value in body.items():
        if key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            if isinstance(result.get(name), list) and isinstance(value, list):
                result[name] = [item for item in result[name] if item not in value]
            continue
        if value is None:
            result.pop(key, None)
            continue
        child_model = _element_model(model, key)
        current = result.get(key)
        if isinstance(value, dict):
            merged = _smp_map(current, value, child_model)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and model is not None and (model, key) in MERGE_KEYS:
            result[key] = _smp_list(current, value, MERGE_KEYS[(model, key)], child_model)
        else:
            result[key] = _strip_directives(value)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain or k in body}
    return result


def _smp_list(current: Any, patch: list[Any], merge_key: str, model: str | None) -> list[Any]:
    existing = copy.deepcopy(current) if isinstance(current, list) else []
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [_strip_directives(i) for i in patch if not (isinstance(i, dict) and i.get("$patch") == "replace")]
    if merge_key == "":
        return existing + [item for item in patch if item not in existing]
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise bad_request(f"error applying patch: map: {item!r} does not contain declared merge key: {merge_key}")
        index = next(
            (i for i, old in enumerate(existing) if isinstance(old, dict) and old.get(merge_key) == item[merge_key]),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del existing[index]
        elif index is None:
            existing.append(_strip_directives(item))
        else:
            merged = _smp_map(existing[index], item, model)
            if merged is not None:
                existing[index] = merged
    return existing


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


# ---------------------------------------------------------------- JSON patch (RFC 6902)


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise bad_request(f"error decoding patch: invalid JSON pointer {path!r}")
    if path == "":
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], op: str, path: str) -> Any:
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise _invalid_patch(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    return node


def _get(doc: Any, path: str, op: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, op, path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise _invalid_patch(f"{op} operation does not apply: doc is missing key: {path}: missing value")


def _remove(doc: Any, path: str, op: str) -> Any:
    parts = _pointer(path)
    parent = _parent(doc, parts, op, path)
    last = parts[-1] if parts else ""
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise _invalid_patch(f"{op} operation does not apply: doc is missing key: {path}: missing value")


def _add(doc: Any, path: str, value: Any, op: str, *, must_exist: bool) -> Any:
    parts = _pointer(path)
    if not parts:
        return copy.deepcopy(value)
    parent = _parent(doc, parts, op, path)
    last = parts[-1]
    if isinstance(parent, dict):
        if must_exist and last not in parent:
            raise _invalid_patch(f"{op} operation does not apply: doc is missing key: {path}: missing value")
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        if last == "-" and not must_exist:
            parent.append(copy.deepcopy(value))
        elif last.isdigit() and int(last) <= len(parent) - (1 if must_exist else 0):
            if must_exist:
                parent[int(last)] = copy.deepcopy(value)
            else:
                parent.insert(int(last), copy.deepcopy(value))
        else:
            raise _invalid_patch(f"{op} operation does not apply: index out of range: {path}")
    else:
        raise _invalid_patch(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    return doc


def json_patch(target: dict[str, Any], ops: Any) -> dict[str, Any]:
    if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
        raise bad_request("error decoding patch: a JSON patch must be a list of operation objects")
    doc: Any = copy.deepcopy(target)
    for op in ops:
        name = op.get("op")
        path = op.get("path")
        if name in ("add", "replace", "test") and "value" not in op:
            raise bad_request(f"error decoding patch: {name} operation is missing 'value'")
        if name == "add":
            doc = _add(doc, path, op["value"], "add", must_exist=False)
        elif name == "replace":
            doc = _add(doc, path, op["value"], "replace", must_exist=True)
        elif name == "remove":
            _remove(doc, path, "remove")
        elif name == "test":
            if _get(doc, path, "test") != op["value"]:
                raise _invalid_patch(f"testing value {path} failed: test failed")
        elif name in ("move", "copy"):
            value = copy.deepcopy(_get(doc, op.get("from"), name))
            if name == "move":
                _remove(doc, op.get("from"), name)
            doc = _add(doc, path, value, name, must_exist=False)
        else:
            raise bad_request(f"error decoding patch: unexpected kind of operation: {name!r}")
    if not isinstance(doc, dict):
        raise _invalid_patch("the patched document is not a JSON object")
    return doc
