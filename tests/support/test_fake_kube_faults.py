"""Fault injection and the request log of the fake API server, seen through the real client.

These tests also pin down what the real client stack does with failures (urllib3 retries reads on timeout and
honours Retry-After), because the operator's error handling depends on it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.utils.retry import retry_on_conflict

from tests.support.fake_kube import FakeKube

NS = "default"
SMP = "application/strategic-merge-patch+json"


def status_body(error: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.body)
    return body


def test_injected_500_raises_and_leaves_the_store_unchanged(fake_kube: FakeKube, fake_apps: client.AppsV1Api) -> None:
    before = fake_kube.add_deployment(NS, "web", 2)
    fake_kube.fail_next("PATCH", r"/deployments/web$", status=500)
    with pytest.raises(ApiException) as caught:
        fake_apps.patch_namespaced_deployment("web", NS, {"spec": {"replicas": 7}})
    assert (caught.value.status, status_body(caught.value)["reason"]) == (500, "InternalError")
    assert fake_kube.get_object("apps/v1", "Deployment", NS, "web") == before
    assert fake_apps.patch_namespaced_deployment("web", NS, {"spec": {"replicas": 7}}).spec.replicas == 7


def test_injected_503_reaches_the_caller_but_429_with_retry_after_is_absorbed_by_urllib3(
    fake_kube: FakeKube, fake_apps: client.AppsV1Api
) -> None:
    fake_kube.fail_next("GET", r"/deployments$", status=503)
    with pytest.raises(ApiException) as caught:
        fake_apps.list_namespaced_deployment(NS)
    assert (caught.value.status, status_body(caught.value)["reason"]) == (503, "ServiceUnavailable")
    fake_kube.fail_next("GET", r"/deployments$", status=429, retry_after=0)
    assert fake_apps.list_namespaced_deployment(NS).items == []
    assert [r.status for r in fake_kube.requests] == [503, 429, 200]


def test_delayed_write_times_out_on_the_client_yet_lands_on_the_server(
    fake_kube: FakeKube, fake_apps: client.AppsV1Api
) -> None:
    fake_kube.add_deployment(NS, "web", 2)
    fake_kube.delay_next("PATCH", r"/deployments/web/scale$", seconds=0.5)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):  # PATCH is not retried by urllib3
        fake_apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 7}}, _request_timeout=0.1)
    assert fake_kube.wait_idle()
    assert fake_kube.get_object("apps/v1", "Deployment", NS, "web")["spec"]["replicas"] == 7


def test_delayed_write_that_is_dropped_changes_nothing(fake_kube: FakeKube, fake_apps: client.AppsV1Api) -> None:
    before = fake_kube.add_deployment(NS, "web", 2)
    fake_kube.delay_next("PATCH", r"/deployments/web/scale$", seconds=0.3, apply=False)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        fake_apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 7}}, _request_timeout=0.1)
    assert fake_kube.wait_idle()
    assert fake_kube.get_object("apps/v1", "Deployment", NS, "web") == before


def test_slow_reads_are_retried_three_times_by_urllib3_before_failing(
    fake_kube: FakeKube, fake_apps: client.AppsV1Api
) -> None:
    fake_kube.add_deployment(NS, "web", 2)
    fake_kube.delay_next("GET", r"/deployments/web$", seconds=0.3, times=1)
    assert fake_apps.read_namespaced_deployment("web", NS, _request_timeout=0.1).spec.replicas == 2  # retried
    fake_kube.delay_next("GET", r"/deployments/web$", seconds=0.3, times=4)
    with pytest.raises(urllib3.exceptions.MaxRetryError) as caught:
        fake_apps.read_namespaced_deployment("web", NS, _request_timeout=0.1)
    assert isinstance(caught.value.reason, urllib3.exceptions.ReadTimeoutError)
    assert fake_kube.wait_idle()
    assert len(fake_kube.requests) == 2 + 4


def test_conflict_injection_moves_the_resource_version_and_retry_on_conflict_recovers(
    fake_kube: FakeKube, fake_apps: client.AppsV1Api
) -> None:
    fake_kube.add_deployment(NS, "web", 2)
    fake_kube.conflict_next("PUT", r"/deployments/web$")
    seen: list[str] = []

    def scale_to_five() -> client.V1Deployment:
        current = fake_apps.read_namespaced_deployment("web", NS)
        seen.append(current.metadata.resource_version)
        current.spec.replicas = 5
        return fake_apps.replace_namespaced_deployment("web", NS, current)

    assert retry_on_conflict(scale_to_five, sleep_func=lambda _: None).spec.replicas == 5
    assert len(seen) == 2 and seen[0] != seen[1]
    assert [w.status for w in fake_kube.writes()] == [409, 200]


def test_conflict_injection_only_fails_writes_that_carry_a_resource_version(
    fake_kube: FakeKube, fake_apps: client.AppsV1Api
) -> None:
    fake_kube.add_deployment(NS, "web", 2)
    fake_kube.conflict_next("PATCH", r"/deployments/web$", times=2)
    # an unconditional patch lands on top of the concurrent write, as on the real server
    assert fake_apps.patch_namespaced_deployment("web", NS, {"spec": {"replicas": 3}}).spec.replicas == 3
    version = fake_kube.get_object("apps/v1", "Deployment", NS, "web")["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as caught:
        guarded = {"metadata": {"resourceVersion": version}, "spec": {"replicas": 4}}
        fake_apps.patch_namespaced_deployment("web", NS, guarded)
    assert status_body(caught.value)["reason"] == "Conflict"
    assert fake_kube.get_object("apps/v1", "Deployment", NS, "web")["spec"]["replicas"] == 3


def test_server_down_refuses_connections_then_comes_back_with_its_data(
    fake_kube: FakeKube, fake_apps: client.AppsV1Api
) -> None:
    fake_kube.add_deployment(NS, "web", 2)
    fake_apps.read_namespaced_deployment("web", NS)  # leaves a keep-alive connection in the pool
    fake_kube.set_down()
    with pytest.raises(urllib3.exceptions.MaxRetryError) as caught:
        fake_apps.read_namespaced_deployment("web", NS)
    assert isinstance(caught.value.reason, urllib3.exceptions.NewConnectionError)
    fake_kube.set_up()
    assert fake_apps.read_namespaced_deployment("web", NS).spec.replicas == 2


def test_server_closing_connections_fails_writes_without_applying_them(
    fake_kube: FakeKube, fake_apps: client.AppsV1Api
) -> None:
    before = fake_kube.add_deployment(NS, "web", 2)
    fake_kube.set_down("closed")
    with pytest.raises(urllib3.exceptions.ProtocolError):
        fake_apps.patch_namespaced_deployment("web", NS, {"spec": {"replicas": 9}})
    fake_kube.set_up()
    assert fake_kube.get_object("apps/v1", "Deployment", NS, "web") == before
    assert [(r.method, r.status) for r in fake_kube.requests] == [("PATCH", None)]


def test_request_log_records_exactly_which_writes_happened(fake_kube: FakeKube, fake_apps: client.AppsV1Api) -> None:
    fake_kube.add_deployment(NS, "web", 2)
    fake_kube.add_hpa(NS, "web", "Deployment", "web", 2, 10)
    fake_apps.read_namespaced_deployment("web", NS)
    client.AutoscalingV2Api(fake_kube.api_client()).patch_namespaced_horizontal_pod_autoscaler(
        "web", NS, {"spec": {"minReplicas": 4}}, dry_run="All"
    )
    assert [w.as_tuple() for w in fake_kube.writes()] == [
        (
            "PATCH",
            f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/web",
            {"dryRun": "All"},
            SMP,
            {"spec": {"minReplicas": 4}},
        )
    ]
    assert fake_kube.get_object("autoscaling/v2", "HorizontalPodAutoscaler", NS, "web")["spec"]["minReplicas"] == 2
    assert [r.method for r in fake_kube.requests] == ["GET", "PATCH"]
    fake_kube.clear_log()
    assert fake_kube.requests == [] and fake_kube.writes() == []
