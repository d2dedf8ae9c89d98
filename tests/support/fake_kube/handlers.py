"""Route an HTTP request to discovery, the served resources or their `scale` subresource.

Transport-free: takes a parsed `Request`, returns a `Response`, so routing can be reasoned about apart from
sockets. Every failure leaves as a `Status` body with the server's code and reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import patches, schema, selectors, validation
from .resources import (
    SCALE_MODEL,
    SERVER_VERSION,
    ResourceType,
    api_group,
    api_group_list,
    api_versions,
    find_by_path,
    resource_list,
)
from .status import ApiError, FieldError, bad_request, invalid, path_not_found
from .store import Obj, Store

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
_PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, APPLY_PATCH, STRATEGIC_MERGE_PATCH, "application/apply-patch+cbor")
_OBJECT_PATH = re.compile(
    r"^(?P<prefix>/api/v1|/apis/[^/]+/[^/]+)"
    r"(?:/namespaces/(?P<namespace>[^/]+))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?$"
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    content_type: str | None
    body: Any  # parsed JSON, or None when the request had no body
    body_error: str | None = None  # JSON parse error, reported as a 400 where a body is needed


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Target:
    rt: ResourceType
    namespace: str | None
    name: str | None
    sub: str | None


class Router:
    def __init__(self, store: Store, server_address: Callable[[], str]) -> None:
        self.store = store
        self.server_address = server_address

    def handle(self, request: Request) -> Response:
        try:
            return self._route(request)
        except ApiError as error:
            return Response(error.code, error.body(), dict(error.headers))

    # ------------------------------------------------------------ routing

    def _route(self, req: Request) -> Response:
        discovery = self._discovery(req.path)
        if discovery is not None:
            if req.method != "GET":
                raise _method_not_allowed()
            return Response(200, discovery)
        target = self.parse_target(req.path)
        if target is None:
            raise path_not_found()
        if target.sub is not None:
            if target.sub != "scale" or not target.rt.has_scale:
                raise path_not_found()
            return self._scale(req, target)
        if target.name is None:
            if req.method == "GET":
                return self._list(req, target)
            if req.method == "POST" and target.namespace is not None:
                return self._create(req, target)
            raise _method_not_allowed()
        assert target.namespace is not None
        verbs: dict[str, Callable[[Request, _Target], Response]] = {
            "GET": self._get,
            "PUT": self._replace,
            "PATCH": self._patch,
            "DELETE": self._delete,
        }
        if req.method not in verbs:
            raise _method_not_allowed()
        return verbs[req.method](req, target)

    def _discovery(self, path: str) -> dict[str, Any] | None:
        # The generated client asks for "/version/", "/api/" and "/apis/" (trailing slash); the server
        # answers both spellings.
        path = path.rstrip("/") or "/"
        if path == "/version":
            return SERVER_VERSION
        if path == "/api":
            return api_versions(self.server_address())
        if path == "/apis":
            return api_group_list()
        if match := re.match(r"^/apis/([^/]+)$", path):
            return api_group(match.group(1))
        if path == "/api/v1" or re.match(r"^/apis/[^/]+/[^/]+$", path):
            return resource_list(path)
        return None

    @staticmethod
    def parse_target(path: str) -> _Target | None:
        match = _OBJECT_PATH.match(path)
        if match is None:
            return None
        rt = find_by_path(match["prefix"], match["plural"])
        if rt is None or (match["namespace"] is None and match["name"] is not None):
            return None
        return _Target(rt, match["namespace"], match["name"], match["sub"])

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _options(req: Request) -> tuple[bool, str]:
        dry_run = req.query.get("dryRun")
        if dry_run not in (None, "", "All"):
            raise bad_request(f'dryRun: Unsupported value: "{dry_run}": supported values: "All"')
        validation_mode = req.query.get("fieldValidation") or "Warn"
        if validation_mode not in ("Ignore", "Warn", "Strict"):
            raise bad_request(
                f'fieldValidation: Unsupported value: "{validation_mode}": supported values: "Ignore", "Strict", "Warn"'
            )
        return dry_run == "All", validation_mode

    @staticmethod
    def _object_body(req: Request, rt_kind: str, api_version: str) -> Any:
        content_type = (req.content_type or "application/json").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: "
                f'application/json (the fake does not decode "{content_type}")',
            )
        if req.body_error is not None or req.body is None:
            raise bad_request(f"couldn't get version/kind; json parse error: {req.body_error or 'empty body'}")
        body = req.body
        if isinstance(body, dict):
            if body.get("apiVersion", api_version) != api_version:
                raise bad_request(
                    f"the API version in the data ({body['apiVersion']}) does not match "
                    f"the expected API version ({api_version})"
                )
            if body.get("kind", rt_kind) != rt_kind:
                raise bad_request(
                    f'{body["kind"]} in version "{api_version.split("/")[-1]}" cannot be handled '
                    f"as a {rt_kind}: the object provided is unrecognized"
                )
        return body

    @staticmethod
    def _decode(rt: ResourceType, body: Any, mode: str) -> tuple[Obj, dict[str, str]]:
        obj, warnings = schema.decode(rt.model, rt.kind, rt.version, body, mode)
        return obj, _warning_headers(warnings)

    # ------------------------------------------------------------ verbs

    def _list(self, req: Request, target: _Target) -> Response:
        if req.query.get("watch") in ("true", "1"):
            raise ApiError(
                501,
                "NotImplemented",
                "watch is not implemented by the fake API server (tests/support/fake_kube)",
            )
        limit = req.query.get("limit")
        if limit is not None and not limit.lstrip("-").isdigit():
            raise bad_request(f"limit: Invalid value: {limit!r}: must be an integer")
        labels = selectors.label_filter(req.query.get("labelSelector"))
        fields = selectors.field_filter(target.rt, req.query.get("fieldSelector"))
        revision = self.store.revision()
        items = [o for o in self.store.list(target.rt, target.namespace) if labels(o) and fields(o)]
        filtered = bool(req.query.get("labelSelector") or req.query.get("fieldSelector"))
        page, extra = selectors.paginate(items, limit, req.query.get("continue"), not filtered)
        for item in page:
            item.pop("apiVersion", None)
            item.pop("kind", None)
        metadata = {"resourceVersion": revision, **extra}
        return Response(
            200,
            {
                "kind": target.rt.list_kind,
                "apiVersion": target.rt.api_version,
                "metadata": metadata,
                "items": page,
            },
        )

    def _get(self, req: Request, target: _Target) -> Response:
        assert target.namespace is not None and target.name is not None
        return Response(200, self.store.require(target.rt, target.namespace, target.name))

    def _create(self, req: Request, target: _Target) -> Response:
        assert target.namespace is not None
        dry_run, mode = self._options(req)
        body = self._object_body(req, target.rt.kind, target.rt.api_version)
        obj, headers = self._decode(target.rt, body, mode)
        return Response(201, self.store.create(target.rt, target.namespace, obj, dry_run=dry_run), headers)

    def _replace(self, req: Request, target: _Target) -> Response:
        assert target.namespace is not None and target.name is not None
        dry_run, mode = self._options(req)
        body = self._object_body(req, target.rt.kind, target.rt.api_version)
        obj, headers = self._decode(target.rt, body, mode)
        stored, created = self.store.update(target.rt, target.namespace, target.name, obj, dry_run=dry_run)
        return Response(201 if created else 200, stored, headers)

    def _patch(self, req: Request, target: _Target) -> Response:
        assert target.namespace is not None and target.name is not None
        dry_run, mode = self._options(req)
        with self.store.lock:
            current = self.store.require(target.rt, target.namespace, target.name)
            patched = apply_patch(req, current, target.rt.model)
            obj, headers = self._decode(target.rt, patched, mode)
            _check_patched_name(obj, target.name)
            stored, _ = self.store.update(target.rt, target.namespace, target.name, obj, dry_run=dry_run)
            return Response(200, stored, headers)

    def _delete(self, req: Request, target: _Target) -> Response:
        assert target.namespace is not None and target.name is not None
        dry_run, _ = self._options(req)
        options = req.body if isinstance(req.body, dict) else {}
        if req.body_error is not None:
            raise bad_request(f"error decoding DeleteOptions: {req.body_error}")
        dry_run = dry_run or options.get("dryRun") == ["All"]
        result = self.store.delete(target.rt, target.namespace, target.name, options, dry_run=dry_run)
        return Response(200, result)

    # ------------------------------------------------------------ scale subresource

    def _scale(self, req: Request, target: _Target) -> Response:
        rt, namespace, name = target.rt, target.namespace, target.name
        assert namespace is not None and name is not None
        if req.method == "GET":
            return Response(200, scale_of(self.store.require(rt, namespace, name)))
        if req.method not in ("PUT", "PATCH"):
            raise _method_not_allowed()
        dry_run, mode = self._options(req)
        with self.store.lock:
            parent = self.store.require(rt, namespace, name)
            if req.method == "PUT":
                body = self._object_body(req, "Scale", "autoscaling/v1")
            else:
                body = apply_patch(req, scale_of(parent), SCALE_MODEL)
            scale, warnings = schema.decode(SCALE_MODEL, "Scale", "v1", body, mode)
            _check_patched_name(scale, name)
            replicas = (scale.get("spec") or {}).get("replicas", 0)
            if replicas < 0:
                error = FieldError("spec.replicas", "Invalid", replicas, "must be greater than or equal to 0")
                raise invalid("autoscaling", "Scale", name, [error])
            meta = scale.get("metadata") or {}
            parent.setdefault("spec", {})["replicas"] = replicas
            parent["metadata"]["resourceVersion"] = meta.get("resourceVersion", "")
            if meta.get("uid"):
                parent["metadata"]["uid"] = meta["uid"]
            stored, _ = self.store.update(rt, namespace, name, parent, dry_run=dry_run)
            return Response(200, scale_of(stored), _warning_headers(warnings))


def scale_of(obj: Obj) -> Obj:
    """The autoscaling/v1 Scale view of a deployment or statefulset, as the registry builds it."""
    meta = obj["metadata"]
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")},
        "spec": {"replicas": spec.get("replicas", 0)},
        "status": {
            "replicas": status.get("replicas", 0),
            "selector": validation.selector_string(spec.get("selector") or {}),
        },
    }


def apply_patch(req: Request, current: Obj, model: str) -> Obj:
    content_type = (req.content_type or "").split(";")[0].strip().lower()
    if content_type not in _PATCH_TYPES:
        accepted = ", ".join(_PATCH_TYPES)
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - accepted media types include: {accepted}",
        )
    if content_type.startswith("application/apply-patch"):
        raise ApiError(415, "UnsupportedMediaType", "server-side apply is not implemented by the fake API server")
    if req.body_error is not None or req.body is None:
        raise bad_request(f"error decoding patch: {req.body_error or 'empty body'}")
    if content_type == JSON_PATCH:
        return patches.json_patch(current, req.body)
    if content_type == MERGE_PATCH:
        merged = patches.merge_patch(current, req.body)
        if not isinstance(merged, dict):
            raise bad_request("error decoding patch: a merge patch must be a JSON object")
        return merged
    return patches.strategic_merge_patch(current, req.body, model)


def _check_patched_name(obj: Obj, name: str) -> None:
    found = (obj.get("metadata") or {}).get("name", "")
    if found != name:
        raise bad_request(f"the name of the object ({found}) does not match the name on the URL ({name})")


def _warning_headers(warnings: list[str]) -> dict[str, str]:
    if not warnings:
        return {}
    return {"Warning": ", ".join('299 - "' + w.replace('"', '\\"') + '"' for w in warnings)}


def _method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})
