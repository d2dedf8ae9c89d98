"""Least privilege, proven on a real kube-apiserver (--authorization-mode=RBAC).

The chart is rendered by the real helm binary; its ServiceAccount, Roles and bindings are created as they
are; the operator then runs as `capctl run --once` with the container arguments the chart renders and the
ServiceAccount's OWN token (TokenRequest API): it completes a tick with exactly those rights, and what it
must not do is refused with 403.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.realkube.conftest import HPA_MIN, RENTREE, REPLICAS, Slice, make_slice
from tests.support.cli import capctl
from tests.support.envtest import ControlPlane
from tests.support.tools import tool_path

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "capctl"
RELEASE = "capctl"
RBAC_KINDS = ("ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")
NO_HPA_FOR_API = "      hpa: api\n"  # removed from the topology: grand-est's api is then scaled directly


def render(namespace: str, *values: str) -> list[dict[str, Any]]:
    helm = tool_path("helm")
    out = subprocess.run(
        [str(helm), "template", RELEASE, str(CHART), "--namespace", namespace, *values],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def install_rbac(s: Slice, docs: list[dict[str, Any]]) -> None:
    """Create the chart's ServiceAccount, Roles and bindings exactly as rendered (admin credentials)."""
    rbac = client.RbacAuthorizationV1Api(s.admin)
    for d in docs:
        kind, ns = d["kind"], d["metadata"].get("namespace")
        if kind == "ServiceAccount":
            s.core.create_namespaced_service_account(ns, d)
        elif kind == "Role":
            rbac.create_namespaced_role(ns, d)
        elif kind == "RoleBinding":
            rbac.create_namespaced_role_binding(ns, d)
        elif kind == "ClusterRole":
            rbac.create_cluster_role(d)
        elif kind == "ClusterRoleBinding":
            rbac.create_cluster_role_binding(d)


def container_args(docs: list[dict[str, Any]]) -> list[str]:
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    args: list[str] = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    return args


def with_value(args: list[str], flag: str, value: str) -> list[str]:
    out = list(args)
    out[out.index(flag) + 1] = value
    return out


def value_of(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def run_once(s: Slice, args: list[str], kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    """The chart's own command line, pointed at local files, run once at 06:30 on the rentrée morning."""
    events = s.tmp / "events"
    events.mkdir(exist_ok=True)
    argv = with_value(with_value(args, "--policies", str(s.policies)), "--events", str(events))
    argv = with_value(argv, "--log-format", "text")
    env = {k: v for k, v in os.environ.items() if k not in ("POD_NAME", "POD_NAMESPACE", "KUBECONFIG")}
    return capctl(
        *argv, "--once", "--now", RENTREE.isoformat(), "--kubeconfig", str(kubeconfig), "--identity", "capctl-0",
        env=env, timeout=120,
    )  # fmt: skip


def forbidden(call: Any, *args: Any, **kwargs: Any) -> None:
    with pytest.raises(ApiException) as err:
        call(*args, **kwargs)
    assert err.value.status == 403, (getattr(call, "__name__", call), err.value.status, err.value.body)


@pytest.fixture
def other(kube: Slice) -> Slice:
    """A second slice (another team's plaques) that the release under test does not watch."""
    return make_slice(kube.cp, kube.tmp / "other")


@pytest.mark.parametrize("mode", ["recommend", "floor", "direct"])
def test_the_chart_rbac_is_enough_for_a_tick_and_nothing_more(
    control_plane: ControlPlane, tmp_path: Path, other: Slice, mode: str
) -> None:
    s = make_slice(control_plane, tmp_path / "release", edit=lambda t: t.replace(NO_HPA_FOR_API, ""))
    try:
        _check_release(s, other, mode)
    finally:
        s.close()
        other.close()


def _check_release(s: Slice, other: Slice, mode: str) -> None:
    watched = sorted(s.namespaces.values())
    docs = render(
        s.home, "--set", f"mode={mode}", "--set", f"watchNamespaces={{{','.join(watched)}}}",
        "--set", "state.configMapName=capctl-stabilisation",
    )  # fmt: skip
    assert not [d for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    install_rbac(s, [d for d in docs if d["kind"] in RBAC_KINDS])
    sa = next(d for d in docs if d["kind"] == "ServiceAccount")["metadata"]["name"]
    token = s.cp.service_account_token(s.home, sa)
    args = container_args(docs)
    hpas, scales = s.hpas(), s.scales()

    result = run_once(s, args, s.kubeconfig("sa", token=token))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout + result.stderr
    # errors are logged as "HTTP 403: ..." (api.py); a bare "403" also occurs inside config hashes
    assert not re.search(r"\bHTTP 403\b|\(403\)", out) and "forbidden" not in out.lower(), out
    ge_ns = s.namespaces["grand-est"]
    state = s.core.read_namespaced_config_map(value_of(args, "--state-configmap"), s.home)
    assert state.data["format"] == "1"
    lease = client.CoordinationV1Api(s.admin).read_namespaced_lease(value_of(args, "--lease-name"), s.home)
    assert lease.spec.acquire_time is not None and lease.spec.holder_identity is None  # taken, released at exit
    if mode == "recommend":
        assert s.hpas() == hpas and s.scales() == scales
    else:
        assert s.hpas()[(ge_ns, "web")][0] > HPA_MIN  # floor raised (direct mode floors HPA'd components too)
        events = s.events(ge_ns)
        assert events and all(e.source.component == "capctl" for e in events)
    if mode == "direct":
        assert s.scales()[("Deployment", ge_ns, "api")] > REPLICAS
        assert s.scales()[("StatefulSet", ge_ns, "messagerie")] > REPLICAS
    else:
        assert s.scales() == scales

    # What the operator must never be able to do, with its own token.
    api = s.cp.token_client(token)
    try:
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        hpa_api, rbac = client.AutoscalingV2Api(api), client.RbacAuthorizationV1Api(api)
        forbidden(core.list_namespaced_secret, s.home)
        forbidden(core.read_namespaced_secret, "anything", ge_ns)
        forbidden(core.list_namespaced_pod, ge_ns)
        forbidden(core.list_namespaced_config_map, s.home)
        forbidden(core.read_namespaced_config_map, "kube-root-ca.crt", s.home)
        forbidden(core.patch_namespaced_config_map, value_of(args, "--state-configmap"), s.home, {"data": {}})
        forbidden(core.delete_namespaced_config_map, value_of(args, "--state-configmap"), s.home)
        forbidden(client.CoordinationV1Api(api).delete_namespaced_lease, value_of(args, "--lease-name"), s.home)
        forbidden(apps.delete_namespaced_deployment, "web", ge_ns)
        forbidden(hpa_api.delete_namespaced_horizontal_pod_autoscaler, "web", ge_ns)
        forbidden(core.delete_namespace, ge_ns)
        forbidden(apps.patch_namespaced_deployment, "web", ge_ns, {"spec": {"replicas": 3}})
        forbidden(hpa_api.list_namespaced_horizontal_pod_autoscaler, ge_ns, watch=True, timeout_seconds=1)
        forbidden(
            rbac.create_namespaced_role,
            s.home,
            {"metadata": {"name": "escalate"}, "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
        )
        forbidden(rbac.create_namespaced_role_binding, ge_ns, {
            "metadata": {"name": "escalate"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                                          "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": s.home}],
        })  # fmt: skip
        # another team's namespaces, not in watchNamespaces: not even readable
        far = other.namespaces["grand-est"]
        forbidden(hpa_api.patch_namespaced_horizontal_pod_autoscaler, "web", far, {"spec": {"minReplicas": 9}})
        forbidden(apps.patch_namespaced_deployment_scale, "web", far, {"spec": {"replicas": 9}})
        forbidden(apps.patch_namespaced_stateful_set_scale, "messagerie", far, {"spec": {"replicas": 9}})
        forbidden(hpa_api.list_namespaced_horizontal_pod_autoscaler, far)
        forbidden(core.create_namespaced_event, far, _event(far))
        # per mode, in the watched namespaces
        if mode != "direct":
            forbidden(apps.patch_namespaced_deployment_scale, "web", ge_ns, {"spec": {"replicas": 9}})
            forbidden(apps.read_namespaced_stateful_set_scale, "messagerie", ge_ns)
        if mode == "recommend":
            forbidden(hpa_api.patch_namespaced_horizontal_pod_autoscaler, "web", ge_ns, {"spec": {"minReplicas": 9}})
            forbidden(hpa_api.read_namespaced_horizontal_pod_autoscaler, "web", ge_ns)
            forbidden(core.create_namespaced_event, ge_ns, _event(ge_ns))
        else:
            # allowed (the operator's own verbs): a sanity check that the 403s above are not a broken token
            hpa_api.read_namespaced_horizontal_pod_autoscaler("web", ge_ns)
    finally:
        api.close()
    assert other.hpas() and all(v == (HPA_MIN, 10) for v in other.hpas().values())  # untouched


def test_cluster_wide_is_opt_in_and_still_least_privilege(control_plane: ControlPlane, tmp_path: Path) -> None:
    s = make_slice(control_plane, tmp_path / "release")
    try:
        docs = render(s.home, "--set", "mode=floor", "--set", "rbac.clusterWide=true")
        assert [d["kind"] for d in docs if d["kind"].startswith("Cluster")] == ["ClusterRole", "ClusterRoleBinding"]
        install_rbac(s, [d for d in docs if d["kind"] in RBAC_KINDS])
        sa = next(d for d in docs if d["kind"] == "ServiceAccount")["metadata"]["name"]
        token = s.cp.service_account_token(s.home, sa)
        result = run_once(s, container_args(docs), s.kubeconfig("sa", token=token))
        assert result.returncode == 0, result.stdout + result.stderr
        assert s.hpas()[(s.namespaces["grand-est"], "web")][0] > HPA_MIN
        api = s.cp.token_client(token)
        try:
            forbidden(client.CoreV1Api(api).list_secret_for_all_namespaces)
            forbidden(client.CoreV1Api(api).list_namespaced_pod, s.namespaces["grand-est"])
            forbidden(client.AppsV1Api(api).delete_namespaced_deployment, "web", s.namespaces["grand-est"])
        finally:
            api.close()
    finally:
        client.RbacAuthorizationV1Api(s.admin).delete_cluster_role_binding(
            next(d for d in docs if d["kind"] == "ClusterRoleBinding")["metadata"]["name"]
        )
        s.close()


def _event(namespace: str) -> dict[str, Any]:
    return {
        "metadata": {"generateName": "probe.", "namespace": namespace},
        "involvedObject": {"kind": "HorizontalPodAutoscaler", "name": "web", "namespace": namespace},
        "reason": "Probe",
        "message": "probe",
        "source": {"component": "capctl"},
    }
