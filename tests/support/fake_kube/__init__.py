"""In-process fake Kubernetes API server for capctl's operator tests.

Drive it with the real `kubernetes` client: `FakeKube().api_client()` or `FakeKube().kubeconfig(path)`.
It serves apps/v1 deployments and statefulsets (with `scale`), autoscaling/v2 HPAs, coordination.k8s.io/v1
leases, core/v1 configmaps and events, plus minimal discovery, with the real server's semantics where an
operator can notice them: optimistic concurrency, 404/409/422/400 `Status` bodies, defaulting, validation,
unknown-field dropping, MicroTime parsing, no-op writes that keep their resourceVersion. Tests arm faults
(`fail_next`, `delay_next`, `conflict_next`, `set_down`), read the request log (`requests`, `writes()`) and
reach the store directly (`put_object`, `get_object`, `add_deployment`, `add_hpa`).

Scope: the operator's behaviour is tested on a REAL kube-apiserver (tests/realkube, tests/support/envtest.py:
modes, Events, state ConfigMap, leases, real 409s from concurrent writers, policy reload, RBAC with the
ServiceAccount's own token). Keep this fake for what the real server cannot be made to do on demand:
scripted 5xx/429 answers, requests held past the client's timeout (applied or dropped), an API server
that is down, a conflict injected at an exact request, and exact request-log assertions (bodies, content
types, the sequence of calls).
"""

from .faults import LoggedRequest
from .server import FakeKube

__all__ = ["FakeKube", "LoggedRequest"]
