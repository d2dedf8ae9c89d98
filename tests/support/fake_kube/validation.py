"""Defaulting and validation for the served kinds, after the real registry strategies.

Only the rules an autoscaling operator can trip over are here (names, labels, replicas bounds, selectors,
HPA min/max, lease durations, config map keys, event namespaces); each failure is a `FieldError` with the
server's path and wording, aggregated into a 422 `Invalid` by the store.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .resources import ResourceType
from .status import FieldError

_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_SUBDOMAIN_RE = re.compile(f"^{_SUBDOMAIN}$")
_NAME_PART = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_NAME_PART_RE = re.compile(f"^{_NAME_PART}$")
_LABEL_VALUE_RE = re.compile(rf"^({_NAME_PART})?$")
_CONFIG_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")
SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    f"'{_SUBDOMAIN}')"
)
_NAME_PART_MESSAGE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    f"'{_NAME_PART}')"
)
_LABEL_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    f"for validation is '({_NAME_PART})?')"
)
_STS_MUTABLE = {
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
    "revisionHistoryLimit",
}
_METRIC_SOURCES = {
    "ContainerResource": "containerResource",
    "External": "external",
    "Object": "object",
    "Pods": "pods",
    "Resource": "resource",
}


def subdomain_errors(value: str) -> list[str]:
    errors = []
    if len(value) > 253:
        errors.append("must be no more than 253 characters")
    if not _SUBDOMAIN_RE.match(value):
        errors.append(SUBDOMAIN_MESSAGE)
    return errors


def _qualified_name_errors(key: str) -> list[str]:
    prefix, _, name = key.rpartition("/")
    errors = []
    if prefix:
        errors += [f"prefix part {e}" for e in subdomain_errors(prefix)]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    elif not _NAME_PART_RE.match(name):
        errors.append(_NAME_PART_MESSAGE)
    return errors


def validate_meta(meta: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    name = meta.get("name", "")
    if not name:
        errors.append(FieldError("metadata.name", "Required", detail="name or generateName is required"))
    else:
        errors += [FieldError("metadata.name", "Invalid", name, e) for e in subdomain_errors(name)]
    for key, value in (meta.get("labels") or {}).items():
        errors += [FieldError("metadata.labels", "Invalid", key, e) for e in _qualified_name_errors(key)]
        if len(value) > 63:
            errors.append(FieldError("metadata.labels", "Invalid", value, "must be no more than 63 characters"))
        elif not _LABEL_VALUE_RE.match(value):
            errors.append(FieldError("metadata.labels", "Invalid", value, _LABEL_VALUE_MESSAGE))
    annotations = meta.get("annotations") or {}
    for key in annotations:
        errors += [FieldError("metadata.annotations", "Invalid", key, e) for e in _qualified_name_errors(key)]
    if sum(len(k) + len(v) for k, v in annotations.items()) > 256 * 1024:
        errors.append(FieldError("metadata.annotations", "TooLong", detail="must have at most 262144 bytes"))
    return errors


# ---------------------------------------------------------------- label selectors (structured form)


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if (op == "In" and (not present or labels[key] not in values)) or (
            op == "NotIn" and present and labels[key] in values
        ):
            return False
        if (op == "Exists" and not present) or (op == "DoesNotExist" and present):
            return False
    return True


def selector_string(selector: dict[str, Any]) -> str:
    """Render a LabelSelector the way `metav1.LabelSelectorAsSelector(...).String()` does (Scale.status)."""
    parts = [(k, f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], sorted(expr.get("values") or [])
        rendered = {
            "In": f"{key} in ({','.join(values)})",
            "NotIn": f"{key} notin ({','.join(values)})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }[op]
        parts.append((key, rendered))
    return ",".join(text for _, text in sorted(parts))


# ---------------------------------------------------------------- defaults


def _default_pod_template(template: dict[str, Any]) -> None:
    pod = template.setdefault("spec", {})
    for key, value in (
        ("restartPolicy", "Always"),
        ("terminationGracePeriodSeconds", 30),
        ("dnsPolicy", "ClusterFirst"),
        ("securityContext", {}),
        ("schedulerName", "default-scheduler"),
    ):
        pod.setdefault(key, value)
    for container in pod.get("containers") or []:
        image = container.get("image", "")
        latest = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
        container.setdefault("imagePullPolicy", "Always" if latest and "@" not in image else "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})


def _default_scaling_rules(rules: dict[str, Any] | None, up: bool) -> dict[str, Any]:
    rules = dict(rules or {})
    rules.setdefault("selectPolicy", "Max")
    if up:
        rules.setdefault("stabilizationWindowSeconds", 0)
        rules.setdefault(
            "policies",
            [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ],
        )
    else:
        rules.setdefault("policies", [{"type": "Percent", "value": 100, "periodSeconds": 15}])
    return rules


def apply_defaults(rt: ResourceType, obj: dict[str, Any]) -> None:
    """The `SetDefaults_*` functions of the served kinds, for the fields they touch."""
    spec = obj.setdefault("spec", {}) if rt.kind in ("Deployment", "StatefulSet", "HorizontalPodAutoscaler") else {}
    if rt.kind == "Deployment":
        spec.setdefault("replicas", 1)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if strategy.get("type") == "RollingUpdate":
            strategy.setdefault("rollingUpdate", {"maxUnavailable": "25%", "maxSurge": "25%"})
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        _default_pod_template(spec.setdefault("template", {}))
    elif rt.kind == "StatefulSet":
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        update = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
        if update.get("type") == "RollingUpdate":
            update.setdefault("rollingUpdate", {"partition": 0})
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
        _default_pod_template(spec.setdefault("template", {}))
    elif rt.kind == "HorizontalPodAutoscaler":
        spec.setdefault("minReplicas", 1)
        if not spec.get("metrics"):
            target = {"type": "Utilization", "averageUtilization": 80}
            spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
        if "behavior" in spec:
            behavior = spec["behavior"]
            behavior["scaleUp"] = _default_scaling_rules(behavior.get("scaleUp"), up=True)
            behavior["scaleDown"] = _default_scaling_rules(behavior.get("scaleDown"), up=False)


# ---------------------------------------------------------------- per-kind validation


def _nonnegative(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, int) and value < 0:
        return [FieldError(path, "Invalid", value, "must be greater than or equal to 0")]
    return []


def _workload(spec: dict[str, Any], old: dict[str, Any] | None, what: str) -> list[FieldError]:
    errors = _nonnegative(spec.get("replicas"), "spec.replicas")
    selector = spec.get("selector")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if selector is None:
        errors.append(FieldError("spec.selector", "Required"))
    elif not selector.get("matchLabels") and not selector.get("matchExpressions"):
        errors.append(FieldError("spec.selector", "Invalid", selector, f"empty selector is invalid for {what}"))
    elif not selector_matches(selector, labels):
        errors.append(
            FieldError(
                "spec.template.metadata.labels",
                "Invalid",
                labels,
                "`selector` does not match template `labels`",
            )
        )
    containers = (template.get("spec") or {}).get("containers") or []
    if not containers:
        errors.append(FieldError("spec.template.spec.containers", "Required"))
    for i, container in enumerate(containers):
        for key in ("name", "image"):
            if not container.get(key):
                errors.append(FieldError(f"spec.template.spec.containers[{i}].{key}", "Required"))
    if old is not None and old.get("selector") != selector:
        errors.append(FieldError("spec.selector", "Invalid", selector, "field is immutable"))
    return errors


def _statefulset_update(spec: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    frozen_new = {k: v for k, v in spec.items() if k not in _STS_MUTABLE}
    frozen_old = {k: v for k, v in old.items() if k not in _STS_MUTABLE}
    if frozen_new == frozen_old:
        return []
    detail = (
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
        "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    )
    return [FieldError("spec", "Forbidden", detail=detail)]


def _hpa(spec: dict[str, Any], old: dict[str, Any] | None) -> list[FieldError]:
    errors: list[FieldError] = []
    lower = 0 if old is not None and old.get("minReplicas") == 0 else 1
    min_replicas, max_replicas = spec.get("minReplicas"), spec.get("maxReplicas", 0)
    if min_replicas is not None and min_replicas < lower:
        errors.append(
            FieldError("spec.minReplicas", "Invalid", min_replicas, f"must be greater than or equal to {lower}")
        )
    if max_replicas < 1:
        errors.append(FieldError("spec.maxReplicas", "Invalid", max_replicas, "must be greater than 0"))
    if min_replicas is not None and max_replicas < min_replicas:
        errors.append(
            FieldError("spec.maxReplicas", "Invalid", max_replicas, "must be greater than or equal to `minReplicas`")
        )
    ref = spec.get("scaleTargetRef") or {}
    for key in ("kind", "name"):
        if not ref.get(key):
            errors.append(FieldError(f"spec.scaleTargetRef.{key}", "Required"))
    for i, metric in enumerate(spec.get("metrics") or []):
        kind = metric.get("type", "")
        if kind not in _METRIC_SOURCES:
            errors.append(FieldError(f"spec.metrics[{i}].type", "NotSupported", kind, supported=tuple(_METRIC_SOURCES)))
        elif _METRIC_SOURCES[kind] not in metric:
            errors.append(
                FieldError(
                    f"spec.metrics[{i}].{_METRIC_SOURCES[kind]}",
                    "Required",
                    detail="must populate information for the given metric source",
                )
            )
    return errors


def _lease(spec: dict[str, Any]) -> list[FieldError]:
    errors = []
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and duration <= 0:
        errors.append(FieldError("spec.leaseDurationSeconds", "Invalid", duration, "must be greater than 0"))
    return errors + _nonnegative(spec.get("leaseTransitions"), "spec.leaseTransitions")


def _configmap(obj: dict[str, Any], old: dict[str, Any] | None) -> list[FieldError]:
    errors: list[FieldError] = []
    data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
    for section, keys in (("data", data), ("binaryData", binary)):
        for key in keys:
            if not _CONFIG_KEY_RE.match(key) or key in (".", "..") or len(key) > 253:
                message = (
                    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
                    "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', "
                    "regex used for validation is '[-._a-zA-Z0-9]+')"
                )
                errors.append(FieldError(f"{section}[{key}]", "Invalid", key, message))
    for key in set(data) & set(binary):
        errors.append(FieldError(f"data[{key}]", "Invalid", key, "duplicate of key present in binaryData"))
    if len(json.dumps(data)) + len(json.dumps(binary)) > 1024 * 1024:
        errors.append(FieldError("", "TooLong", detail="must have at most 1048576 bytes"))
    if old is not None and old.get("immutable"):
        detail = "field is immutable when `immutable` is set"
        if data != (old.get("data") or {}):
            errors.append(FieldError("data", "Forbidden", detail=detail))
        if binary != (old.get("binaryData") or {}):
            errors.append(FieldError("binaryData", "Forbidden", detail=detail))
        if not obj.get("immutable"):
            errors.append(FieldError("immutable", "Forbidden", detail=detail))
    return errors


def _event(obj: dict[str, Any], namespace: str) -> list[FieldError]:
    errors = []
    involved_ns = (obj.get("involvedObject") or {}).get("namespace", "")
    if "eventTime" not in obj:
        if (involved_ns and involved_ns != namespace) or (not involved_ns and namespace not in ("", "default")):
            errors.append(
                FieldError("involvedObject.namespace", "Invalid", involved_ns, "does not match event.namespace")
            )
        return errors
    if not involved_ns and namespace not in ("default", "kube-system"):
        errors.append(FieldError("involvedObject.namespace", "Invalid", involved_ns, "does not match event.namespace"))
    for key, path in (
        ("reportingComponent", "reportingController"),
        ("reportingInstance", "reportingInstance"),
        ("action", "action"),
        ("reason", "reason"),
    ):
        if not obj.get(key):
            errors.append(FieldError(path, "Required"))
    return errors


def validate(rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None) -> list[FieldError]:
    """All field errors for `obj` (a create when `old` is None, else an update of `old`)."""
    errors = validate_meta(obj.get("metadata") or {})
    spec = obj.get("spec") or {}
    old_spec = None if old is None else old.get("spec") or {}
    if rt.kind == "Deployment":
        errors += _workload(spec, old_spec, "deployment")
    elif rt.kind == "StatefulSet":
        errors += _workload(spec, old_spec, "statefulset")
        if old_spec is not None:
            errors += _statefulset_update(spec, old_spec)
    elif rt.kind == "HorizontalPodAutoscaler":
        errors += _hpa(spec, old_spec)
    elif rt.kind == "Lease":
        errors += _lease(spec)
    elif rt.kind == "ConfigMap":
        errors += _configmap(obj, old)
    elif rt.kind == "Event":
        errors += _event(obj, (obj.get("metadata") or {}).get("namespace", ""))
    return errors
