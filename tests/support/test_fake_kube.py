"""The fake API server, driven through the real `kubernetes` client exactly as the operator will drive it."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tests.support.fake_kube import FakeKube

NS = "default"


def status_body(error: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.body)
    return body


def deployment(name: str, replicas: int = 2) -> client.V1Deployment:
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.27")]),
            ),
        ),
    )


def raw(fake_kube: FakeKube, method: str, path: str, body: bytes | None, content_type: str) -> tuple[int, Any]:
    """A request outside the client, for what the client cannot send (malformed JSON, unknown paths)."""
    request = urllib.request.Request(fake_kube.url + path, data=body, method=method)
    request.add_header("Authorization", f"Bearer {fake_kube.token}")
    request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# ---------------------------------------------------------------- configuration and discovery


def test_kubeconfig_file_loads_with_the_real_loader_and_reaches_the_fake(fake_kube: FakeKube, tmp_path: Path) -> None:
    fake_kube.add_deployment(NS, "web", 3)
    configuration = client.Configuration()
    config.load_kube_config(
        config_file=str(fake_kube.kubeconfig(tmp_path / "kubeconfig")), client_configuration=configuration
    )
    api = client.AppsV1Api(client.ApiClient(configuration))
    assert api.read_namespaced_deployment("web", NS).spec.replicas == 3


def test_discovery_answers_version_groups_and_resources(fake_kube: FakeKube) -> None:
    api_client = fake_kube.api_client()
    assert client.VersionApi(api_client).get_code().git_version.startswith("v1.")
    groups = {g.name: g.preferred_version.version for g in client.ApisApi(api_client).get_api_versions().groups}
    assert groups == {"apps": "v1", "autoscaling": "v2", "coordination.k8s.io": "v1"}
    assert client.CoreApi(api_client).get_api_versions().versions == ["v1"]
    resources = {r.name for r in client.AppsV1Api(api_client).get_api_resources().resources}
    assert resources == {"deployments", "deployments/scale", "statefulsets", "statefulsets/scale"}


def test_wrong_token_is_refused_with_401(fake_kube: FakeKube) -> None:
    stolen = client.Configuration(host=fake_kube.url, api_key={"BearerToken": "Bearer stolen"})
    with pytest.raises(ApiException) as caught:
        client.AppsV1Api(client.ApiClient(stolen)).list_namespaced_deployment(NS)
    assert (caught.value.status, status_body(caught.value)["reason"]) == (401, "Unauthorized")


# ---------------------------------------------------------------- CRUD round trips


def test_deployment_create_sets_server_fields_defaults_and_drops_client_status(
    fake_apps: client.AppsV1Api,
) -> None:
    body = deployment("web")
    body.status = client.V1DeploymentStatus(replicas=99)
    created = fake_apps.create_namespaced_deployment(NS, body)
    assert created.metadata.uid and created.metadata.creation_timestamp is not None
    assert created.metadata.resource_version.isdigit() and created.metadata.generation == 1
    assert created.spec.strategy.type == "RollingUpdate" and created.spec.revision_history_limit == 10
    assert created.status is None or created.status.replicas is None
    assert created.spec.template.spec.containers[0].image_pull_policy == "IfNotPresent"


def test_deployment_crud_round_trip(fake_kube: FakeKube, fake_apps: client.AppsV1Api) -> None:
    created = fake_apps.create_namespaced_deployment(NS, deployment("web", 2))
    fake_kube.add_deployment("other", "api", 1)
    listed = fake_apps.list_namespaced_deployment(NS)
    assert [d.metadata.name for d in listed.items] == ["web"]
    assert listed.kind == "DeploymentList" and listed.items[0].kind is None  # kubernetes#3030, as on a cluster
    assert sorted(d.metadata.name for d in fake_apps.list_deployment_for_all_namespaces().items) == [
        "api",
        "web",
    ]

    current = fake_apps.read_namespaced_deployment("web", NS)
    current.spec.replicas = 4
    replaced = fake_apps.replace_namespaced_deployment("web", NS, current)
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    assert (replaced.spec.replicas, replaced.metadata.generation) == (4, 2)

    patched = fake_apps.patch_namespaced_deployment("web", NS, {"metadata": {"annotations": {"capctl/why": "rentree"}}})
    assert patched.metadata.annotations == {"capctl/why": "rentree"}
    assert patched.metadata.generation == 3  # deployments also bump generation on annotation changes

    deleted = fake_apps.delete_namespaced_deployment("web", NS)
    assert deleted["status"] == "Success" and deleted["details"]["uid"] == created.metadata.uid
    with pytest.raises(ApiException) as caught:
        fake_apps.read_namespaced_deployment("web", NS)
    assert caught.value.status == 404


def test_statefulset_scale_subresource(fake_kube: FakeKube, fake_apps: client.AppsV1Api) -> None:
    fake_kube.add_statefulset(NS, "db", 2)
    scale = fake_apps.patch_namespaced_stateful_set_scale("db", NS, {"spec": {"replicas": 3}})
    assert scale.spec.replicas == 3
    assert fake_kube.get_object("apps/v1", "StatefulSet", NS, "db")["spec"]["replicas"] == 3


def test_configmap_crud_and_type_errors_like_the_server(fake_kube: FakeKube) -> None:
    core = client.CoreV1Api(fake_kube.api_client())
    core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata={"name": "state"}, data={"floor": "3"}))
    patched = core.patch_namespaced_config_map("state", NS, {"data": {"floor": "4"}})
    assert patched.data == {"floor": "4"}
    with pytest.raises(ApiException) as caught:  # an int where the schema says string: decoding fails
        core.patch_namespaced_config_map("state", NS, {"data": {"floor": 5}})
    assert caught.value.status == 400 and "cannot be handled as a ConfigMap" in status_body(caught.value)["message"]
    assert [c.metadata.name for c in core.list_namespaced_config_map(NS).items] == ["state"]
    core.delete_namespaced_config_map("state", NS)
    assert fake_kube.get_object("v1", "ConfigMap", NS, "state") is None


def test_finalizers_hold_a_deleted_object_until_they_are_removed(fake_kube: FakeKube) -> None:
    core = client.CoreV1Api(fake_kube.api_client())
    meta = client.V1ObjectMeta(name="state", finalizers=["capctl.ent/cleanup"])
    core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=meta, data={"floor": "3"}))
    core.delete_namespaced_config_map("state", NS)
    held = core.read_namespaced_config_map("state", NS)
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("state", NS, {"metadata": {"finalizers": None}})
    assert fake_kube.get_object("v1", "ConfigMap", NS, "state") is None


def test_events_create_and_list_by_involved_object(fake_kube: FakeKube) -> None:
    core = client.CoreV1Api(fake_kube.api_client())

    def event(name: str, target: str, namespace: str = NS) -> client.CoreV1Event:
        involved = client.V1ObjectReference(kind="Deployment", name=target, namespace=namespace)
        return client.CoreV1Event(
            metadata=client.V1ObjectMeta(name=name), involved_object=involved, reason="Planned", type="Normal"
        )

    core.create_namespaced_event(NS, event("web.1", "web"))
    generated = event("", "api")
    generated.metadata = client.V1ObjectMeta(generate_name="api.")
    assert core.create_namespaced_event(NS, generated).metadata.name.startswith("api.")
    listed = core.list_namespaced_event(NS, field_selector="involvedObject.name=web")
    assert [e.metadata.name for e in listed.items] == ["web.1"]
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_event(NS, event("web.2", "web", namespace="elsewhere"))
    assert caught.value.status == 422
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_event("no-such-namespace", event("web.3", "web", namespace="no-such-namespace"))
    assert status_body(caught.value)["message"] == 'namespaces "no-such-namespace" not found'


def test_list_label_selector_and_pagination(fake_kube: FakeKube, fake_apps: client.AppsV1Api) -> None:
    for name, tier in (("a", "front"), ("b", "back"), ("c", "front"), ("d", "front")):
        fake_kube.add_deployment(NS, name, 1, labels={"app": name, "tier": tier})
    front = fake_apps.list_namespaced_deployment(NS, label_selector="tier=front,app notin (d)")
    assert [d.metadata.name for d in front.items] == ["a", "c"]
    first = fake_apps.list_namespaced_deployment(NS, limit=3)
    assert [d.metadata.name for d in first.items] == ["a", "b", "c"]
    assert first.metadata.remaining_item_count == 1
    rest = fake_apps.list_namespaced_deployment(NS, limit=3, _continue=first.metadata._continue)
    assert [d.metadata.name for d in rest.items] == ["d"] and rest.metadata._continue is None


# ---------------------------------------------------------------- optimistic concurrency and errors


def test_stale_replace_is_a_409_conflict_status_and_changes_nothing(
    fake_kube: FakeKube, fake_apps: client.AppsV1Api
) -> None:
    fake_kube.add_deployment(NS, "web", 2)
    stale = fake_apps.read_namespaced_deployment("web", NS)
    fake_apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 5}})
    before = fake_kube.get_object("apps/v1", "Deployment", NS, "web")
    stale.spec.replicas = 3
    with pytest.raises(ApiException) as caught:
        fake_apps.replace_namespaced_deployment("web", NS, stale)
    assert caught.value.status == 409
    assert status_body(caught.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; '
        "please apply your changes to the latest version and try again",
        "reason": "Conflict",
        "details": {"name": "web", "group": "apps", "kind": "deployments"},
        "code": 409,
    }
    assert fake_kube.get_object("apps/v1", "Deployment", NS, "web") == before


def test_patch_carrying_a_stale_resource_version_is_a_conflict(
    fake_kube: FakeKube, fake_apps: client.AppsV1Api
) -> None:
    old = fake_kube.add_deployment(NS, "web", 2)["metadata"]["resourceVersion"]
    fake_apps.patch_namespaced_deployment("web", NS, {"spec": {"replicas": 3}})
    with pytest.raises(ApiException) as caught:
        fake_apps.patch_namespaced_deployment(
            "web", NS, {"metadata": {"resourceVersion": old}, "spec": {"replicas": 9}}
        )
    assert caught.value.status == 409
    assert fake_kube.get_object("apps/v1", "Deployment", NS, "web")["spec"]["replicas"] == 3


def test_noop_write_keeps_the_resource_version_but_stale_noop_is_still_a_conflict(
    fake_kube: FakeKube, fake_apps: client.AppsV1Api
) -> None:
    fake_kube.add_deployment(NS, "web", 2)
    current = fake_apps.read_namespaced_deployment("web", NS)
    same = fake_apps.replace_namespaced_deployment("web", NS, current)
    assert same.metadata.resource_version == current.metadata.resource_version
    fake_apps.patch_namespaced_deployment("web", NS, {"spec": {"replicas": 3}})
    with pytest.raises(ApiException) as caught:
        fake_apps.replace_namespaced_deployment("web", NS, current)
    assert caught.value.status == 409


def test_create_existing_is_already_exists_and_missing_is_not_found(
    fake_kube: FakeKube, fake_apps: client.AppsV1Api
) -> None:
    fake_apps.create_namespaced_deployment(NS, deployment("web"))
    with pytest.raises(ApiException) as caught:
        fake_apps.create_namespaced_deployment(NS, deployment("web"))
    assert (caught.value.status, status_body(caught.value)["reason"]) == (409, "AlreadyExists")
    with pytest.raises(ApiException) as caught:
        fake_apps.read_namespaced_deployment("ghost", NS)
    assert status_body(caught.value)["message"] == 'deployments.apps "ghost" not found'


def test_unknown_path_and_malformed_body(fake_kube: FakeKube) -> None:
    code, body = raw(fake_kube, "GET", "/apis/apps/v1/namespaces/x/cronjobs", None, "application/json")
    assert (code, body["reason"]) == (404, "NotFound")
    code, body = raw(fake_kube, "POST", f"/api/v1/namespaces/{NS}/configmaps", b"{not json", "application/json")
    assert (code, body["reason"]) == (400, "BadRequest")
    assert fake_kube.list_objects("v1", "ConfigMap") == []


def test_unknown_fields_are_dropped_by_default_and_refused_when_strict(
    fake_kube: FakeKube, fake_apps: client.AppsV1Api
) -> None:
    fake_kube.add_deployment(NS, "web", 2)
    patched, _, headers = fake_apps.patch_namespaced_deployment_with_http_info(
        "web", NS, {"spec": {"replicas": 3, "replica": 7}}
    )
    assert patched.spec.replicas == 3
    assert headers["Warning"] == '299 - "unknown field \\"spec.replica\\""'
    assert "replica" not in fake_kube.get_object("apps/v1", "Deployment", NS, "web")["spec"]
    with pytest.raises(ApiException) as caught:
        fake_apps.patch_namespaced_deployment("web", NS, {"spec": {"replica": 7}}, field_validation="Strict")
    assert status_body(caught.value)["message"] == 'strict decoding error: unknown field "spec.replica"'


def test_delete_with_stale_precondition_is_refused(fake_kube: FakeKube, fake_apps: client.AppsV1Api) -> None:
    fake_kube.add_deployment(NS, "web", 2)
    options = client.V1DeleteOptions(preconditions=client.V1Preconditions(resource_version="1"))
    fake_apps.patch_namespaced_deployment("web", NS, {"spec": {"replicas": 3}})
    with pytest.raises(ApiException) as caught:
        fake_apps.delete_namespaced_deployment("web", NS, body=options)
    assert caught.value.status == 409
    assert fake_kube.get_object("apps/v1", "Deployment", NS, "web") is not None


# ---------------------------------------------------------------- scale subresource


def test_scale_read_and_patch_update_the_parent(fake_kube: FakeKube, fake_apps: client.AppsV1Api) -> None:
    before = fake_kube.add_deployment(NS, "web", 2)
    scale = fake_apps.read_namespaced_deployment_scale("web", NS)
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (2, 2, "app=web")
    assert scale.metadata.resource_version == before["metadata"]["resourceVersion"]
    patched = fake_apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 6}})
    after = fake_kube.get_object("apps/v1", "Deployment", NS, "web")
    assert after["spec"]["replicas"] == 6 and after["metadata"]["generation"] == 2
    assert patched.metadata.resource_version == after["metadata"]["resourceVersion"] != scale.metadata.resource_version
    assert after["status"]["replicas"] == 2  # no controller in the fake: status moves only when the test says so


def test_scale_replace_needs_the_name_and_a_fresh_resource_version(
    fake_kube: FakeKube, fake_apps: client.AppsV1Api
) -> None:
    fake_kube.add_deployment(NS, "web", 2)
    with pytest.raises(ApiException) as caught:  # the real server refuses a Scale body without metadata.name
        fake_apps.replace_namespaced_deployment_scale("web", NS, client.V1Scale(spec=client.V1ScaleSpec(replicas=4)))
    assert status_body(caught.value)["message"] == "the name of the object () does not match the name on the URL (web)"
    scale = fake_apps.read_namespaced_deployment_scale("web", NS)
    scale.spec.replicas = 4
    assert fake_apps.replace_namespaced_deployment_scale("web", NS, scale).spec.replicas == 4
    scale.spec.replicas = 5  # still carries the resourceVersion read before the previous write
    with pytest.raises(ApiException) as caught:
        fake_apps.replace_namespaced_deployment_scale("web", NS, scale)
    assert caught.value.status == 409
    with pytest.raises(ApiException) as caught:
        fake_apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": -1}})
    assert caught.value.status == 422
    assert fake_kube.get_object("apps/v1", "Deployment", NS, "web")["spec"]["replicas"] == 4


# ---------------------------------------------------------------- HPA


def hpa_body(name: str, min_replicas: int | None, max_replicas: int) -> client.V2HorizontalPodAutoscaler:
    target = client.V2CrossVersionObjectReference(api_version="apps/v1", kind="Deployment", name=name)
    spec = client.V2HorizontalPodAutoscalerSpec(
        scale_target_ref=target, min_replicas=min_replicas, max_replicas=max_replicas
    )
    return client.V2HorizontalPodAutoscaler(metadata=client.V1ObjectMeta(name=name), spec=spec)


def test_hpa_create_defaults_min_replicas_and_cpu_metric(fake_kube: FakeKube) -> None:
    hpas = client.AutoscalingV2Api(fake_kube.api_client())
    created = hpas.create_namespaced_horizontal_pod_autoscaler(NS, hpa_body("web", None, 5))
    assert created.spec.min_replicas == 1
    assert created.spec.metrics[0].resource.target.average_utilization == 80


def test_hpa_validation_is_422_invalid_with_causes(fake_kube: FakeKube) -> None:
    hpas = client.AutoscalingV2Api(fake_kube.api_client())
    with pytest.raises(ApiException) as caught:
        hpas.create_namespaced_horizontal_pod_autoscaler(NS, hpa_body("web", 0, 5))
    body = status_body(caught.value)
    assert (caught.value.status, body["reason"]) == (422, "Invalid")
    assert body["message"] == (
        'HorizontalPodAutoscaler.autoscaling "web" is invalid: '
        "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"
    )
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: 0: must be greater than or equal to 1",
            "field": "spec.minReplicas",
        }
    ]
    fake_kube.add_hpa(NS, "api", "Deployment", "api", 2, 10)
    with pytest.raises(ApiException) as caught:
        hpas.patch_namespaced_horizontal_pod_autoscaler("api", NS, {"spec": {"minReplicas": 12}})
    assert (
        "spec.maxReplicas: Invalid value: 10: must be greater than or equal to `minReplicas`"
        in (status_body(caught.value)["message"])
    )
    assert fake_kube.get_object("autoscaling/v2", "HorizontalPodAutoscaler", NS, "api")["spec"]["minReplicas"] == 2


def test_hpa_status_cannot_be_written_through_the_main_resource(fake_kube: FakeKube) -> None:
    fake_kube.add_hpa(NS, "web", "Deployment", "web", 2, 10, current_replicas=4)
    hpas = client.AutoscalingV2Api(fake_kube.api_client())
    patched = hpas.patch_namespaced_horizontal_pod_autoscaler(
        "web", NS, {"spec": {"minReplicas": 3}, "status": {"currentReplicas": 9, "desiredReplicas": 9}}
    )
    assert (patched.spec.min_replicas, patched.status.current_replicas) == (3, 4)


# ---------------------------------------------------------------- leases


def lease(holder: str, renew: dt.datetime) -> client.V1Lease:
    spec = client.V1LeaseSpec(holder_identity=holder, lease_duration_seconds=15, acquire_time=renew, renew_time=renew)
    return client.V1Lease(metadata=client.V1ObjectMeta(name="capctl-leader"), spec=spec)


NOW = dt.datetime(2025, 9, 1, 7, 0, 0, 123456, tzinfo=dt.UTC)


def test_lease_round_trip_keeps_micro_time(fake_kube: FakeKube) -> None:
    leases = client.CoordinationV1Api(fake_kube.api_client())
    leases.create_namespaced_lease(NS, lease("pod-a", NOW))
    stored = fake_kube.get_object("coordination.k8s.io/v1", "Lease", NS, "capctl-leader")
    assert stored["spec"]["renewTime"] == "2025-09-01T07:00:00.123456Z"
    read = leases.read_namespaced_lease("capctl-leader", NS)
    assert read.spec.renew_time == NOW and read.spec.holder_identity == "pod-a"


def test_lease_times_the_real_server_cannot_parse_are_refused(fake_kube: FakeKube) -> None:
    leases = client.CoordinationV1Api(fake_kube.api_client())
    # datetime.isoformat() drops ".000000" when microsecond == 0, and the zone on naive datetimes; MicroTime
    # needs both, so the real server answers 400 to these bodies.
    for renew in (NOW.replace(microsecond=0), NOW.replace(tzinfo=None)):
        with pytest.raises(ApiException) as caught:
            leases.create_namespaced_lease(NS, lease("pod-a", renew))
        assert caught.value.status == 400
        assert "cannot be handled as a Lease" in status_body(caught.value)["message"]
    assert fake_kube.list_objects("coordination.k8s.io/v1", "Lease") == []


def test_lease_replace_race_one_writer_wins(fake_kube: FakeKube) -> None:
    a, b = (client.CoordinationV1Api(fake_kube.api_client()) for _ in range(2))
    a.create_namespaced_lease(NS, lease("pod-a", NOW))
    seen_by_a = a.read_namespaced_lease("capctl-leader", NS)
    seen_by_b = b.read_namespaced_lease("capctl-leader", NS)
    seen_by_b.spec.holder_identity = "pod-b"
    b.replace_namespaced_lease("capctl-leader", NS, seen_by_b)
    seen_by_a.spec.renew_time = NOW + dt.timedelta(seconds=5)
    with pytest.raises(ApiException) as caught:
        a.replace_namespaced_lease("capctl-leader", NS, seen_by_a)
    assert status_body(caught.value)["reason"] == "Conflict"
    assert (
        fake_kube.get_object("coordination.k8s.io/v1", "Lease", NS, "capctl-leader")["spec"]["holderIdentity"]
        == "pod-b"
    )


def test_lease_concurrent_create_exactly_one_succeeds(fake_kube: FakeKube) -> None:
    clients = [client.CoordinationV1Api(fake_kube.api_client()) for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    outcomes: list[int] = []

    def contend(api: client.CoordinationV1Api, index: int) -> None:
        barrier.wait()
        try:
            api.create_namespaced_lease(NS, lease(f"pod-{index}", NOW))
            outcomes.append(201)
        except ApiException as error:
            outcomes.append(error.status)

    threads = [threading.Thread(target=contend, args=(api, i)) for i, api in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [201, 409, 409, 409]
