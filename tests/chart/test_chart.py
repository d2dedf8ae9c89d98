"""The Helm chart, rendered by the real helm binary and checked the way a cluster admin would check it.

Every manifest is validated against the Kubernetes OpenAPI schemas (strict: an unknown field is an error),
for the oldest Kubernetes the chart supports and the newest one we have schemas for. RBAC is read back as
the effective grants of the operator's ServiceAccount and compared with the exact list the operator needs.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from tests.support.ops_metric_names import exported_series_names, metric_names_in
from tests.support.tools import tool_path

pytestmark = pytest.mark.helm

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "capctl"
NONDEFAULT = Path(__file__).with_name("values-nondefault.yaml")
# Rendered before any other values: the one value without a default (watchNamespaces, least privilege).
MINIMAL = ("-f", str(Path(__file__).with_name("values-minimal.yaml")))
RELEASE = "capctl"
NAMESPACE = "capctl-system"
# Oldest Kubernetes allowed by Chart.yaml's kubeVersion, and the newest schemas kubernetes-validate ships.
KUBE_VERSIONS = ("1.25.0", kubernetes_validate.latest_version())

Doc = dict[str, Any]

# (apiGroup, resource, verb): everything the operator may do, per mode, and nothing else. These are the calls
# capacity/operator/kube/*.py makes: observe.py lists; actuator.py patches (merge patch), and after a 409 reads one
# object again; events.py creates core/v1 Events; lease.py and state.py get/create/update (PUT) by name.
OWN = {
    *{("coordination.k8s.io", "leases", v) for v in ("get", "create", "update")},
    *{("", "configmaps", v) for v in ("get", "create", "update")},
    ("", "events", "create"),
}
READ = {("apps", r, "list") for r in ("deployments", "statefulsets")} | {
    ("autoscaling", "horizontalpodautoscalers", "list")
}
FLOOR = {("autoscaling", "horizontalpodautoscalers", v) for v in ("get", "patch")}
DIRECT = {("apps", r, v) for r in ("deployments/scale", "statefulsets/scale") for v in ("get", "patch")}
ALLOWED = {
    "recommend": OWN | READ,
    "floor": OWN | READ | FLOOR,
    "direct": OWN | READ | FLOOR | DIRECT,
}
WORKLOAD_RESOURCES = {"deployments", "statefulsets", "horizontalpodautoscalers", "deployments/scale"}
OWN_NAMESPACE_ONLY = {"leases", "configmaps"}


# --------------------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def helm() -> Path:
    return tool_path("helm")


def run_helm(helm: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm), *args], capture_output=True, text=True, timeout=60, check=False)


def render(helm: Path, *args: str, kube_version: str = KUBE_VERSIONS[0]) -> list[Doc]:
    result = run_helm(
        helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--kube-version", kube_version, *MINIMAL, *args
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render_error(helm: Path, *args: str) -> str:
    result = run_helm(helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, *args)
    assert result.returncode != 0, f"rendering should have failed with {args}"
    return result.stderr


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[Doc], kind: str) -> Doc:
    found = of_kind(docs, kind)
    assert len(found) == 1, f"expected one {kind}, got {[d['metadata']['name'] for d in found]}"
    return found[0]


def container(docs: list[Doc]) -> Doc:
    containers: list[Doc] = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def arg_value(args: list[str], flag: str) -> str:
    """Value of `flag` in a `--flag value` argument list."""
    assert flag in args, f"{flag} missing from {args}"
    return args[args.index(flag) + 1]


def values_file() -> Doc:
    values: Doc = yaml.safe_load(NONDEFAULT.read_text())
    return values


@pytest.fixture(scope="module")
def default_docs(helm: Path) -> list[Doc]:
    return render(helm)


@pytest.fixture(scope="module")
def nondefault_docs(helm: Path) -> list[Doc]:
    return render(helm, "-f", str(NONDEFAULT))


@pytest.fixture(params=["default", "nondefault"])
def docs(request: pytest.FixtureRequest) -> list[Doc]:
    return request.getfixturevalue(f"{request.param}_docs")  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------ lint and schemas


@pytest.mark.parametrize("extra", [(), ("-f", str(NONDEFAULT))], ids=["default", "nondefault"])
def test_helm_lint_strict_passes(helm: Path, extra: tuple[str, ...]) -> None:
    result = run_helm(helm, "lint", "--strict", str(CHART), "--namespace", NAMESPACE, *MINIMAL, *extra)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("extra", [(), ("-f", str(NONDEFAULT))], ids=["default", "nondefault"])
def test_every_manifest_validates_against_the_kubernetes_schema(
    helm: Path, extra: tuple[str, ...], kube_version: str
) -> None:
    docs = render(helm, *extra, kube_version=kube_version)
    validated = set()
    for doc in docs:
        if doc["apiVersion"] == "monitoring.coreos.com/v1":
            continue  # CRD without a schema in kubernetes-validate: see test_service_monitor_*
        kubernetes_validate.validate(doc, kube_version, strict=True)
        validated.add(doc["kind"])
    assert {"Deployment", "ServiceAccount", "Service", "ConfigMap", "PodDisruptionBudget"} <= validated
    assert {"Role", "RoleBinding"} <= validated
    if extra:
        assert "NetworkPolicy" in validated


def test_schema_validation_would_catch_a_typo(default_docs: list[Doc]) -> None:
    """Guard for the test above: strict validation really rejects an unknown field."""
    deployment = json.loads(json.dumps(one(default_docs, "Deployment")))
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContxt"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBE_VERSIONS[0], strict=True)


def test_service_monitor_scrapes_the_metrics_service(nondefault_docs: list[Doc]) -> None:
    monitor = one(nondefault_docs, "ServiceMonitor")
    service = one(nondefault_docs, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(monitor) == {"apiVersion", "kind", "metadata", "spec"}
    assert set(monitor["spec"]) <= {"selector", "namespaceSelector", "endpoints", "jobLabel"}
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    assert endpoint["interval"] == "15s"


def test_service_monitor_is_optional(default_docs: list[Doc]) -> None:
    assert of_kind(default_docs, "ServiceMonitor") == []


def test_metrics_service_reaches_the_operator_port(docs: list[Doc]) -> None:
    service = one(docs, "Service")
    pod_labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    (port,) = service["spec"]["ports"]
    ports = {p["name"]: p["containerPort"] for p in container(docs)["ports"]}
    assert port["targetPort"] in ports
    assert str(ports[port["targetPort"]]) == arg_value(container(docs)["args"], "--metrics-port")


# ----------------------------------------------------------------------------------------------- RBAC


@dataclass(frozen=True)
class Grant:
    scope: str  # a namespace, or "*" for cluster-wide
    api_group: str
    resource: str
    verb: str
    names: tuple[str, ...]  # resourceNames; empty = any object


def grants(docs: list[Doc], service_account: str) -> set[Grant]:
    """Effective permissions of the ServiceAccount, read from the rendered roles and bindings."""
    roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs}
    result: set[Grant] = set()
    for binding in [*of_kind(docs, "RoleBinding"), *of_kind(docs, "ClusterRoleBinding")]:
        subject = {"kind": "ServiceAccount", "name": service_account, "namespace": NAMESPACE}
        if subject not in binding["subjects"]:
            continue
        scope = binding["metadata"].get("namespace", "*")
        ref = binding["roleRef"]
        role_ns = binding["metadata"].get("namespace") if ref["kind"] == "Role" else None
        role = roles.get((ref["kind"], role_ns, ref["name"]))
        assert role is not None, f"{binding['metadata']['name']} refers to a role the chart does not render"
        for rule in role["rules"]:
            assert "nonResourceURLs" not in rule
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        names = tuple(sorted(rule.get("resourceNames", [])))
                        result.add(Grant(scope, group, resource, verb, names))
    return result


def service_account(docs: list[Doc]) -> str:
    return str(one(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"])


def mode_of(docs: list[Doc]) -> str:
    return arg_value(container(docs)["args"], "--mode")


def test_rbac_grants_exactly_the_allowed_verbs(docs: list[Doc]) -> None:
    allowed = ALLOWED[mode_of(docs)]
    granted = grants(docs, service_account(docs))
    assert {(g.api_group, g.resource, g.verb) for g in granted} == allowed
    # Nothing in any rendered role (bound or not) goes beyond the list either.
    for role in [*of_kind(docs, "Role"), *of_kind(docs, "ClusterRole")]:
        for rule in role["rules"]:
            for triple in ((g, r, v) for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]):
                assert triple in allowed, f"{role['metadata']['name']} grants {triple}"


@pytest.mark.parametrize("mode", list(ALLOWED))
def test_each_mode_gets_exactly_its_verbs(helm: Path, mode: str) -> None:
    docs = render(helm, "--set", f"mode={mode}", "--set", "watchNamespaces={ent-a,ent-b}")
    granted = grants(docs, service_account(docs))
    assert {(g.api_group, g.resource, g.verb) for g in granted} == ALLOWED[mode]
    workload = {(g.api_group, g.resource, g.verb) for g in granted if g.scope == "ent-a"}
    if mode == "recommend":  # read-only on workloads and HPAs, no Event about them either
        assert workload == READ
    else:
        assert workload == READ | FLOOR | {("", "events", "create")} | (DIRECT if mode == "direct" else set())
    never = {"delete", "deletecollection", "watch", "escalate", "bind", "impersonate", "*"}
    assert not any(g.verb in never or g.resource in ("secrets", "pods", "*") for g in granted)


def test_rbac_is_bound_to_the_pod_service_account(docs: list[Doc]) -> None:
    sa = one(docs, "ServiceAccount")
    assert sa["metadata"]["name"] == service_account(docs)
    bindings = [*of_kind(docs, "RoleBinding"), *of_kind(docs, "ClusterRoleBinding")]
    assert bindings
    for binding in bindings:
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": service_account(docs), "namespace": NAMESPACE}
        ]


def test_lease_and_state_configmap_only_in_own_namespace_and_by_name(docs: list[Doc]) -> None:
    args = container(docs)["args"]
    lease = arg_value(args, "--lease-name")
    assert arg_value(args, "--lease-namespace") == NAMESPACE
    own = [g for g in grants(docs, service_account(docs)) if g.resource in OWN_NAMESPACE_ONLY]
    assert own and all(g.scope == NAMESPACE for g in own)
    for g in own:
        if g.verb == "create":
            continue  # Kubernetes cannot restrict create by name
        expected = (lease,) if g.resource == "leases" else (arg_value(args, "--state-configmap"),)
        assert g.names == expected, g


def test_without_watch_namespaces_the_render_fails(helm: Path) -> None:
    error = render_error(helm)  # the chart's own defaults, nothing else
    assert "watchNamespaces is empty" in error and "rbac.clusterWide=true" in error
    assert "watchNamespaces is empty" not in render_error(helm, "--set", "rbac.create=false", "--set", "mode=x")


def test_cluster_wide_rbac_is_opt_in(helm: Path) -> None:
    docs = render(helm, "--set", "watchNamespaces=null", "--set", "rbac.clusterWide=true", "--set", "mode=floor")
    granted = grants(docs, service_account(docs))
    workload = {g for g in granted if g.resource in WORKLOAD_RESOURCES}
    assert workload and {g.scope for g in workload} == {"*"}
    assert len(of_kind(docs, "ClusterRole")) == 1
    assert {(g.api_group, g.resource, g.verb) for g in granted} == ALLOWED["floor"]
    both = render_error(helm, *MINIMAL, "--set", "rbac.clusterWide=true")
    assert "set either watchNamespaces" in both


def test_the_state_configmap_name_reaches_the_operator_and_its_rbac(helm: Path) -> None:
    docs = render(helm, "--set", "state.configMapName=ent-capctl-stab")
    assert arg_value(container(docs)["args"], "--state-configmap") == "ent-capctl-stab"
    named = {g.names for g in grants(docs, service_account(docs)) if g.resource == "configmaps" and g.verb != "create"}
    assert named == {("ent-capctl-stab",)}


def test_watch_namespaces_turn_rbac_into_roles_per_namespace(nondefault_docs: list[Doc]) -> None:
    watched = set(values_file()["watchNamespaces"])
    assert of_kind(nondefault_docs, "ClusterRole") == []
    assert of_kind(nondefault_docs, "ClusterRoleBinding") == []
    granted = grants(nondefault_docs, service_account(nondefault_docs))
    workload_scopes = {g.scope for g in granted if g.resource in WORKLOAD_RESOURCES}
    assert workload_scopes == watched
    for namespace in watched:
        in_ns = {(g.api_group, g.resource, g.verb) for g in granted if g.scope == namespace}
        assert ("autoscaling", "horizontalpodautoscalers", "patch") in in_ns  # floor mode
        assert not any(r.endswith("/scale") for _, r, _ in in_ns)  # floor mode never scales directly
        assert not any(r in OWN_NAMESPACE_ONLY for _, r, _ in in_ns)


def test_duplicate_watch_namespaces_render_once(helm: Path) -> None:
    docs = render(helm, "--set", "watchNamespaces={ent-a,ent-a,ent-b}")
    roles = [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in of_kind(docs, "Role")]
    assert len(roles) == len(set(roles)) == 3  # own namespace + ent-a + ent-b


# ------------------------------------------------------------------------------------------ Deployment


def test_two_replicas_rolling_update_never_below_one(docs: list[Doc]) -> None:
    spec = one(docs, "Deployment")["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_pod_disruption_budget_keeps_one_operator_pod(docs: list[Doc]) -> None:
    pdb = one(docs, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    pod_labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_restricted_security_context(docs: list[Doc]) -> None:
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    ctx = container(docs)["securityContext"]
    assert ctx["runAsNonRoot"] is True
    assert ctx["runAsUser"] == 10001
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "hostNetwork" not in pod and "hostPID" not in pod
    # Pod Security Standard "restricted" also limits the volume types.
    for volume in pod["volumes"]:
        assert set(volume) - {"name"} <= {"configMap", "secret", "emptyDir", "projected", "downwardAPI"}


def test_api_token_is_projected_where_the_kubernetes_client_reads_it(docs: list[Doc]) -> None:
    from kubernetes.config.incluster_config import SERVICE_CERT_FILENAME, SERVICE_TOKEN_FILENAME

    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False  # no implicit token in every container
    volumes = {v["name"]: v for v in pod["volumes"]}
    files = {}
    for mount in container(docs)["volumeMounts"]:
        for source in volumes[mount["name"]].get("projected", {}).get("sources", []):
            if "serviceAccountToken" in source:
                files[f"{mount['mountPath']}/{source['serviceAccountToken']['path']}"] = source
            for item in source.get("configMap", {}).get("items", []):
                files[f"{mount['mountPath']}/{item['path']}"] = source
    token = files[SERVICE_TOKEN_FILENAME]["serviceAccountToken"]
    assert 600 <= token["expirationSeconds"] <= 3607  # a bound, rotated token (the client re-reads it)
    assert files[SERVICE_CERT_FILENAME]["configMap"]["name"] == "kube-root-ca.crt"


def test_tmp_is_a_writable_empty_dir(docs: list[Doc]) -> None:
    mounts = {m["mountPath"]: m for m in container(docs)["volumeMounts"]}
    volumes = {v["name"]: v for v in one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    tmp = mounts["/tmp"]
    assert not tmp.get("readOnly", False)
    assert "emptyDir" in volumes[tmp["name"]]
    assert all(m.get("readOnly") for path, m in mounts.items() if path != "/tmp")


def test_downward_api_identity_and_probes(docs: list[Doc]) -> None:
    c = container(docs)
    env = {e["name"]: e for e in c["env"]}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}


def test_default_command_line(default_docs: list[Doc]) -> None:
    args = container(default_docs)["args"]
    assert args[0] == "run"
    assert arg_value(args, "--mode") == "recommend"
    assert arg_value(args, "--tick") == "60"
    assert arg_value(args, "--metrics-address") == "0.0.0.0"
    assert arg_value(args, "--log-format") == "json"
    for absent in ("--model", "--prometheus-url", "--prometheus-token-file", "--kubeconfig"):
        assert absent not in args


def test_values_reach_the_command_line(nondefault_docs: list[Doc]) -> None:
    values = values_file()
    args = container(nondefault_docs)["args"]
    assert arg_value(args, "--mode") == "floor"
    assert arg_value(args, "--tick") == "30"
    assert arg_value(args, "--prometheus-url") == values["prometheus"]["url"]
    assert arg_value(args, "--lease-name") == "capctl-leader"
    assert args[-2:] == values["extraArgs"]
    assert container(nondefault_docs)["image"] == f"{values['image']['repository']}@{values['image']['digest']}"


def mounted_files(docs: list[Doc]) -> dict[str, tuple[str, str]]:
    """Container path -> (ConfigMap/Secret name, key) for every file projected with explicit items."""
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    files: dict[str, tuple[str, str]] = {}
    for mount in container(docs)["volumeMounts"]:
        volume = volumes[mount["name"]]
        source = volume.get("configMap") or volume.get("secret")
        if not source:
            continue
        name = source.get("name") or source.get("secretName")
        for item in source.get("items", []):
            files[f"{mount['mountPath']}/{item['path']}"] = (name, item["key"])
    return files


FILE_FLAGS = (
    "--model",
    "--prometheus-token-file",
    "--prometheus-ca-file",
    "--prometheus-username-file",
    "--prometheus-password-file",
    "--kubeconfig",
)


@pytest.mark.parametrize(
    "extra",
    [
        ("-f", str(NONDEFAULT)),
        (
            "--set",
            "prometheus.url=http://prom:9090,prometheus.auth.existingSecret=prom,prometheus.auth.caKey=ca.crt",
            "--set",
            "model.existingConfigMap=fitted-model,model.key=rates.json",
        ),
    ],
    ids=["basic-auth", "token-auth"],
)
def test_every_file_given_to_the_cli_is_mounted(helm: Path, extra: tuple[str, ...]) -> None:
    docs = render(helm, *extra)
    args = container(docs)["args"]
    files = mounted_files(docs)
    given = {flag: arg_value(args, flag) for flag in FILE_FLAGS if flag in args}
    assert "--model" in given
    assert "--prometheus-ca-file" in given
    for flag, path in given.items():
        assert path in files, f"{flag} {path} is not mounted (mounted: {sorted(files)})"


def test_prometheus_secret_keys_are_the_configured_ones(nondefault_docs: list[Doc]) -> None:
    auth = values_file()["prometheus"]["auth"]
    files = mounted_files(nondefault_docs)
    args = container(nondefault_docs)["args"]
    assert files[arg_value(args, "--prometheus-username-file")] == (
        auth["existingSecret"],
        auth["usernameKey"],
    )
    assert files[arg_value(args, "--prometheus-password-file")] == (
        auth["existingSecret"],
        auth["passwordKey"],
    )
    assert files[arg_value(args, "--prometheus-ca-file")] == (auth["existingSecret"], auth["caKey"])
    assert "--prometheus-token-file" not in args


def test_token_auth_reads_the_token_key(helm: Path) -> None:
    docs = render(
        helm,
        "--set",
        "prometheus.url=http://prom:9090,prometheus.auth.existingSecret=prom,prometheus.auth.tokenKey=jwt",
    )
    args = container(docs)["args"]
    assert mounted_files(docs)[arg_value(args, "--prometheus-token-file")] == ("prom", "jwt")
    assert "--prometheus-username-file" not in args and "--prometheus-ca-file" not in args


# ---------------------------------------------------------------------------------- policies and events


def mounted_tree(docs: list[Doc], volume_name: str) -> dict[str, str]:
    """Files (relative path -> content) the pod sees in a chart-created ConfigMap volume."""
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    source = next(v for v in pod["volumes"] if v["name"] == volume_name)["configMap"]
    data = next(d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"] == source["name"])["data"]
    if "items" not in source:
        return dict(data)
    return {item["path"]: data[item["key"]] for item in source["items"]}


def test_policies_configmap_holds_the_files_from_values(nondefault_docs: list[Doc]) -> None:
    files = values_file()["policies"]["files"]
    assert mounted_tree(nondefault_docs, "policies") == files
    assert "mandats/region-grand-est.yaml" in files  # a sub-directory survives the ConfigMap key rules


def test_events_configmap_holds_the_files_from_values(nondefault_docs: list[Doc]) -> None:
    assert mounted_tree(nondefault_docs, "events") == values_file()["events"]["files"]


def test_file_contents_are_kept_byte_for_byte(helm: Path) -> None:
    tricky = "  indented first line\n\ttab: 'quotes' \"double\" {{ not helm }}\nno final newline"
    docs = render(helm, "--set-string", f"policies.files.mandats/odd\\.yaml={tricky}")
    assert mounted_tree(docs, "policies") == {"mandats/odd.yaml": tricky}


def test_the_repository_policies_install_unchanged(helm: Path) -> None:
    """The shipped policies/ tree (topology + mandats/*), passed file by file, is what the pod reads."""
    root = REPO / "policies"
    on_disk = {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*.yaml"))}
    assert "topology.yaml" in on_disk and any(p.startswith("mandats/") for p in on_disk)
    args = []
    for path in on_disk:
        args += ["--set-file", f"policies.files.{path.replace('.', chr(92) + '.')}={root / path}"]
    docs = render(helm, *args)
    assert mounted_tree(docs, "policies") == on_disk


def test_structured_policy_values_are_written_as_yaml(helm: Path) -> None:
    docs = render(helm, "--set", "policies.files.operator\\.yaml.lead_time_s=900")
    assert yaml.safe_load(mounted_tree(docs, "policies")["operator.yaml"]) == {"lead_time_s": 900}


def test_existing_configmap_switches_the_volume_source(helm: Path) -> None:
    docs = render(
        helm,
        "--set",
        "policies.existingConfigMap=ent-policies,events.existingConfigMap=ent-events",
        "--set",
        "policies.items[0].key=mandats__ge.yaml,policies.items[0].path=mandats/ge.yaml",
    )
    volumes = {v["name"]: v for v in one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    assert volumes["policies"]["configMap"] == {
        "name": "ent-policies",
        "items": [{"key": "mandats__ge.yaml", "path": "mandats/ge.yaml"}],
    }
    assert volumes["events"]["configMap"] == {"name": "ent-events"}
    assert of_kind(docs, "ConfigMap") == []  # the chart creates neither ConfigMap any more


def test_model_configmap_from_values(nondefault_docs: list[Doc]) -> None:
    args = container(nondefault_docs)["args"]
    name, key = mounted_files(nondefault_docs)[arg_value(args, "--model")]
    model = next(d for d in of_kind(nondefault_docs, "ConfigMap") if d["metadata"]["name"] == name)
    assert model["data"][key] == values_file()["model"]["content"]


# ------------------------------------------------------------------------------------------- dashboard


def dashboard_of(docs: list[Doc]) -> Doc:
    (cm,) = [d for d in of_kind(docs, "ConfigMap") if "grafana_dashboard" in d["metadata"]["labels"]]
    (content,) = cm["data"].values()
    dashboard: Doc = json.loads(content)
    return dashboard


def test_grafana_dashboard_configmap(nondefault_docs: list[Doc]) -> None:
    (cm,) = [d for d in of_kind(nondefault_docs, "ConfigMap") if "grafana_dashboard" in d["metadata"]["labels"]]
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["namespace"] == "monitoring"
    assert cm["metadata"]["annotations"] == {"grafana_folder": "Capacity"}
    dashboard = dashboard_of(nondefault_docs)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert "capctl_forecast_users" in variables["plaque"]["definition"]
    repeated = [p for p in dashboard["panels"] if p.get("repeat") == "plaque"]
    assert repeated, "one row per plaque"


def dashboard_queries(dashboard: Doc) -> dict[str, list[str]]:
    """Panel title -> its PromQL queries (template variables included, as "variable <name>")."""
    queries = {p["title"]: [t["expr"] for t in p.get("targets", [])] for p in iter_panels(dashboard["panels"])}
    for v in dashboard["templating"]["list"]:
        if v["type"] == "query":
            queries[f"variable {v['name']}"] = [v["definition"]]
    return queries


def test_dashboard_reads_only_series_capctl_exports(nondefault_docs: list[Doc]) -> None:
    exported = exported_series_names()
    for title, exprs in dashboard_queries(dashboard_of(nondefault_docs)).items():
        for expr in exprs:
            used = metric_names_in(expr)
            assert used, f"{title}: {expr}"
            assert used <= exported, f"{title} reads {sorted(used - exported)}, which capctl does not export"


def test_dashboard_has_a_panel_for_each_operator_signal(nondefault_docs: list[Doc]) -> None:
    queries = dashboard_queries(dashboard_of(nondefault_docs))
    panels_reading = {
        name: {title for title, exprs in queries.items() if any(name in e for e in exprs)}
        for name in (
            "capctl_errors_total",
            "capctl_config_reloads_total",
            "capctl_metrics_available",
            "capctl_changes_total",
            "capctl_ticks_total",
            "capctl_build_info",
            "capctl_is_leader",
            "capctl_budget_level",
            "capctl_forecast_users",
            "capctl_observed_users",
            "capctl_planned_replicas",
            "capctl_clamps_total",
        )
    }
    missing = [name for name, titles in panels_reading.items() if not titles]
    assert not missing, f"no panel shows {missing}"


def test_dashboard_queries_parse_as_promql(nondefault_docs: list[Doc], tmp_path: Path) -> None:
    """Each query, with Grafana's variables filled in, checked by promtool as a recording rule."""
    variables = {"$__rate_interval": "2m", "$plaque": ".*", "$component": ".*"}
    rules: list[dict[str, str]] = []
    for title, exprs in dashboard_queries(dashboard_of(nondefault_docs)).items():
        for expr in exprs:
            if title.startswith("variable "):
                expr = expr.removeprefix("label_values(").rsplit(",", 1)[0]
            for name, value in variables.items():
                expr = expr.replace(name, value)
            rules.append({"record": f"dashboard:query_{len(rules)}", "expr": expr})
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(
        [str(tool_path("promtool")), "check", "rules", str(tmp_path / "queries.yaml")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_dashboard_panels_do_not_overlap(nondefault_docs: list[Doc]) -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard_of(nondefault_docs)["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def iter_panels(panels: list[Doc]) -> Iterator[Doc]:
    for panel in panels:
        yield panel
        yield from iter_panels(panel.get("panels", []))


def test_grafana_dashboard_is_optional(default_docs: list[Doc]) -> None:
    assert not any("grafana_dashboard" in d["metadata"]["labels"] for d in of_kind(default_docs, "ConfigMap"))


# ------------------------------------------------------------------------------------ invalid values


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        # Types, enums and ranges are values.schema.json's (tests/chart/test_values_schema.py); these are the
        # rules between values that a schema cannot say.
        ("prometheus.auth.existingSecret=prom", "prometheus.url is empty"),
        ("policies.existingConfigMap=x,policies.files.a=b", "either policies.files or"),
        ("policies.files.\\.\\./escape=x", "must be relative"),
        ("state.configMapName=Capctl_State", "/state/configMapName"),
    ],
)
def test_invalid_values_fail_at_render_time(helm: Path, setting: str, message: str) -> None:
    assert message in render_error(helm, *MINIMAL, "--set", setting)


def test_queries_file_reaches_the_operator_from_the_policies_folder(helm: Path) -> None:
    """The operator's live query comes from the same `--queries` file as `capctl fit`, shipped with the policies."""
    docs = render(
        helm,
        *MINIMAL,
        "--set",
        "prometheus.url=http://prom:9090,prometheus.queriesFile=queries.yaml",
        "--set-string",
        "policies.files.queries\\.yaml=version: 1",
    )
    args = container(docs)["args"]
    assert arg_value(args, "--queries") == "/etc/capctl/policies/queries.yaml"
    policies = next(m for m in container(docs)["volumeMounts"] if m["name"] == "policies")
    assert arg_value(args, "--queries").startswith(policies["mountPath"] + "/")
    assert "--queries" not in container(render(helm, *MINIMAL, "--set", "prometheus.url=http://prom:9090"))["args"]
