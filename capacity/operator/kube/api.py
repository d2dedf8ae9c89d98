"""Thin adapter over the `kubernetes` client: configuration, plain-JSON calls and typed errors.

Calls go through the real generated client (auth, TLS, URL building), with an explicit timeout and
content type, and return the server's JSON as dicts: the operator needs a few fields, not 2,000 model
classes. Failures become `KubeError` subclasses the callers can act on: `Conflict` (retry from a fresh
read), `NotFound`, `Transient` (5xx, 429, timeouts, connection errors: back off and retry), and
`Forbidden`/other (configuration problems: report, do not retry).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import urllib3

from capacity.common.errors import ConfigError, DataSourceError

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
Obj = dict[str, Any]


class KubeError(DataSourceError):
    """A Kubernetes API call failed. `status` is the HTTP status (None: no answer)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Conflict(KubeError):
    """409: the object changed since it was read (resourceVersion precondition) or already exists."""


class NotFound(KubeError):
    """404: the object (or its namespace) does not exist."""


class Transient(KubeError):
    """5xx, 429, timeout or connection failure: the same request may succeed later."""


@dataclass(frozen=True)
class KubeSettings:
    """Where the API servers are and how long a request may take."""

    kubeconfig: Path | None = None
    context: str | None = None
    timeout_s: tuple[float, float] = (5.0, 15.0)  # (connect, read)
    user_agent: str = "capctl"


def call(
    fn: Callable[..., Any], *args: Any, timeout_s: tuple[float, float], content_type: str | None = None, **kwargs: Any
) -> Obj:
    """Invoke a generated API method, return the JSON body, raise typed errors.

    `content_type` goes both ways the generated client knows: as `_content_type` (honoured by patches)
    and as a header (POST and PUT methods ignore `_content_type` and would send none).
    """
    from kubernetes.client.exceptions import ApiException

    what = getattr(fn, "__name__", "request")
    if content_type is not None:
        kwargs.update(_content_type=content_type, _headers={"Content-Type": content_type})
    try:
        resp = fn(*args, _preload_content=False, _request_timeout=timeout_s, **kwargs)
        data = resp.data
    except ApiException as exc:
        raise _api_error(what, exc) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise Transient(f"{what}: no answer from the API server ({type(exc).__name__}: {exc})") from None
    try:
        out = json.loads(data) if data else {}
    except ValueError:
        raise Transient(f"{what}: the API server answered with invalid JSON") from None
    if not isinstance(out, dict):
        raise Transient(f"{what}: the API server answered with a non-object JSON body")
    return out


def _api_error(what: str, exc: Any) -> KubeError:
    status = int(exc.status) if exc.status is not None else None
    message = str(exc.reason or "")
    try:
        body = json.loads(exc.body) if exc.body else {}
        message = body.get("message") or message
    except (ValueError, AttributeError):
        pass
    text = f"{what}: HTTP {status}: {message}"
    if status == 409:
        return Conflict(text, status=status)
    if status == 404:
        return NotFound(text, status=status)
    if status is None or status == 429 or status >= 500:
        return Transient(text, status=status)
    if status in (401, 403):
        return KubeError(f"{text} (check the service account's RBAC and credentials)", status=status)
    return KubeError(text, status=status)


@dataclass(frozen=True)
class Apis:
    """The typed API groups the operator uses, bound to one cluster (built once, reused every tick)."""

    autoscaling: Any
    apps: Any
    core: Any


@dataclass
class KubeClients:
    """One `ApiClient` per kubeconfig context, built on first use.

    The default client (`home`) holds the Lease, the state ConfigMap and the operator's own Events;
    plaques whose topology names a `kube_context` are steered through that context.
    """

    settings: KubeSettings
    _clients: dict[str | None, Any] = field(default_factory=dict)
    _apis: dict[str | None, Apis] = field(default_factory=dict)

    def api(self, context: str | None = None) -> Any:
        key = context if context is not None else self.settings.context
        if key not in self._clients:
            self._clients[key] = self._build(key)
        return self._clients[key]

    def apis(self, context: str | None = None) -> Apis:
        """Typed API groups for `context` (the client imports their modules on first use: ~0.3 s)."""
        from kubernetes import client

        key = context if context is not None else self.settings.context
        if key not in self._apis:
            api = self.api(context)
            self._apis[key] = Apis(client.AutoscalingV2Api(api), client.AppsV1Api(api), client.CoreV1Api(api))
        return self._apis[key]

    def close(self) -> None:
        for c in self._clients.values():
            c.close()
        self._clients.clear()

    def _build(self, context: str | None) -> Any:
        import yaml
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException

        conf = client.Configuration()
        try:
            if self.settings.kubeconfig is None and context is None and _in_cluster():
                config.load_incluster_config(client_configuration=conf)  # type: ignore[no-untyped-call]
            else:
                path = str(self.settings.kubeconfig) if self.settings.kubeconfig else None
                config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=path, context=context, client_configuration=conf
                )
        except (ConfigException, OSError, TypeError, ValueError, AttributeError, yaml.YAMLError) as exc:
            where = f"context {context!r} of " if context else ""
            source = self.settings.kubeconfig or "the default kubeconfig"
            problem = " ".join(str(exc).split())  # a malformed file's YAML error spans several lines: one
            raise ConfigError(
                f"cannot configure the Kubernetes client from {where}{source}: {problem}; "
                "pass --kubeconfig FILE (and --context NAME) or run in a pod"
            ) from None
        conf.retries = False  # our own retry with backoff and fresh reads; no silent resends
        api = client.ApiClient(conf)
        api.user_agent = self.settings.user_agent
        return api


def _in_cluster() -> bool:
    return (
        bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
        and Path("/var/run/secrets/kubernetes.io/serviceaccount/token").is_file()
    )


def micro_time(moment: Any) -> str:
    """RFC 3339 with exactly six fractional digits in UTC, as MicroTime fields require."""
    from datetime import UTC

    return str(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def rfc3339(moment: Any) -> str:
    """RFC 3339 seconds in UTC, as Time fields require."""
    from datetime import UTC

    return str(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def parse_time(text: str | None) -> float | None:
    """Epoch seconds of an RFC 3339 (Micro)Time, None when absent or unreadable."""
    if not text:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
