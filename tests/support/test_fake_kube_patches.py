"""Patch semantics of the fake: the pure merge functions, and the patch formats the real client sends."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.fake_kube import FakeKube
from tests.support.fake_kube.patches import json_patch, merge_patch, strategic_merge_patch
from tests.support.fake_kube.status import ApiError

NS = "default"
SMP = "application/strategic-merge-patch+json"
_names = itertools.count()

keys = st.text(alphabet="abcdef/~", min_size=1, max_size=4)
flat = st.dictionaries(keys, st.text(max_size=3), max_size=6)


def status_body(error: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.body)
    return body


# ---------------------------------------------------------------- pure functions


@given(flat, st.dictionaries(keys, st.none() | st.text(max_size=3), max_size=6))
def test_merge_patch_sets_non_null_keys_and_deletes_null_ones(target: dict[str, str], patch: dict[str, Any]) -> None:
    expected = {k: v for k, v in {**target, **patch}.items() if v is not None}
    assert merge_patch(target, patch) == expected
    assert strategic_merge_patch(target, patch, "V1ObjectMeta") == expected  # maps merge the same way


@given(flat, keys, st.text(max_size=3))
def test_json_patch_add_then_remove_is_identity_for_a_new_key(target: dict[str, str], key: str, value: str) -> None:
    target.pop(key, None)
    pointer = "/" + key.replace("~", "~0").replace("/", "~1")
    added = json_patch(target, [{"op": "add", "path": pointer, "value": value}])
    assert added[key] == value
    assert json_patch(added, [{"op": "remove", "path": pointer}]) == target


def test_merge_patch_replaces_lists_and_rfc7386_examples() -> None:
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": ["b"]}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch({}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}


def test_strategic_merge_directives() -> None:
    meta = {"finalizers": ["a"], "ownerReferences": [{"uid": "1", "name": "x"}, {"uid": "2", "name": "y"}]}
    patched = strategic_merge_patch(
        meta,
        {"finalizers": ["b", "a"], "ownerReferences": [{"uid": "2", "$patch": "delete"}]},
        "V1ObjectMeta",
    )
    assert patched == {"finalizers": ["a", "b"], "ownerReferences": [{"uid": "1", "name": "x"}]}
    labels = {"labels": {"a": "1", "b": "2"}}
    assert strategic_merge_patch(labels, {"labels": {"$patch": "replace", "c": "3"}}, "V1ObjectMeta") == {
        "labels": {"c": "3"}
    }
    with pytest.raises(ApiError) as caught:  # a merge list item without its key cannot be placed
        strategic_merge_patch({}, {"ownerReferences": [{"name": "x"}]}, "V1ObjectMeta")
    assert caught.value.code == 400


def test_json_patch_errors_are_400_when_malformed_and_422_when_they_do_not_apply() -> None:
    with pytest.raises(ApiError) as caught:
        json_patch({"a": 1}, {"op": "add"})
    assert caught.value.code == 400
    with pytest.raises(ApiError) as caught:
        json_patch({"a": 1}, [{"op": "replace", "path": "/b", "value": 2}])
    assert caught.value.code == 422
    assert json_patch(
        {"a": [1, 3]}, [{"op": "add", "path": "/a/1", "value": 2}, {"op": "move", "from": "/a", "path": "/b"}]
    ) == {"b": [1, 2, 3]}


# ---------------------------------------------------------------- through the server


@pytest.fixture(scope="module")
def shared_kube() -> Iterator[FakeKube]:
    """One server for all examples of the property test; each example uses its own deployment."""
    with FakeKube() as fake:
        yield fake


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=6))
def test_resource_version_moves_exactly_on_effective_writes(shared_kube: FakeKube, replica_counts: list[int]) -> None:
    name = f"web-{next(_names)}"
    shared_kube.add_deployment(NS, name, 1)
    apps = client.AppsV1Api(shared_kube.api_client())
    previous, replicas, generation = shared_kube.get_object("apps/v1", "Deployment", NS, name), 1, 1
    for count in replica_counts:
        scale = apps.patch_namespaced_deployment_scale(name, NS, {"spec": {"replicas": count}})
        stored = shared_kube.get_object("apps/v1", "Deployment", NS, name)
        changed = count != replicas
        generation += changed
        assert (int(stored["metadata"]["resourceVersion"]) > int(previous["metadata"]["resourceVersion"])) == changed
        assert scale.metadata.resource_version == stored["metadata"]["resourceVersion"]
        assert stored["metadata"]["generation"] == generation
        previous, replicas = stored, count


def test_patch_content_types_the_client_actually_sends(fake_kube: FakeKube, fake_apps: client.AppsV1Api) -> None:
    fake_kube.add_deployment(NS, "web", 2)
    fake_apps.patch_namespaced_deployment("web", NS, {"spec": {"replicas": 3}})
    fake_apps.patch_namespaced_deployment("web", NS, [{"op": "replace", "path": "/spec/replicas", "value": 4}])
    merge = "application/merge-patch+json"
    fake_apps.patch_namespaced_deployment("web", NS, {"spec": {"replicas": 5}}, _content_type=merge)
    # asking for JSON patch with a dict body: the client's REST layer silently switches to strategic merge
    fake_apps.patch_namespaced_deployment(
        "web", NS, {"spec": {"replicas": 6}}, _content_type="application/json-patch+json"
    )
    assert [w.content_type for w in fake_kube.writes()] == [SMP, "application/json-patch+json", merge, SMP]
    assert fake_kube.get_object("apps/v1", "Deployment", NS, "web")["spec"]["replicas"] == 6


def test_strategic_merge_merges_containers_by_name_merge_patch_replaces_them(
    fake_kube: FakeKube, fake_apps: client.AppsV1Api
) -> None:
    fake_kube.add_deployment(NS, "web", 2)
    sidecar = {"spec": {"template": {"spec": {"containers": [{"name": "envoy", "image": "envoy:1.31"}]}}}}
    merged = fake_apps.patch_namespaced_deployment("web", NS, sidecar)
    assert [c.name for c in merged.spec.template.spec.containers] == ["web", "envoy"]
    replaced = fake_apps.patch_namespaced_deployment("web", NS, sidecar, _content_type="application/merge-patch+json")
    assert [c.name for c in replaced.spec.template.spec.containers] == ["envoy"]


def test_json_patch_test_operation_guards_the_write(fake_kube: FakeKube, fake_apps: client.AppsV1Api) -> None:
    fake_kube.add_deployment(NS, "web", 2)
    guarded = [
        {"op": "test", "path": "/spec/replicas", "value": 9},
        {"op": "replace", "path": "/spec/replicas", "value": 1},
    ]
    with pytest.raises(ApiException) as caught:
        fake_apps.patch_namespaced_deployment("web", NS, guarded)
    assert (caught.value.status, status_body(caught.value)["reason"]) == (422, "Invalid")
    assert fake_kube.get_object("apps/v1", "Deployment", NS, "web")["spec"]["replicas"] == 2
    guarded[0]["value"] = 2
    assert fake_apps.patch_namespaced_deployment("web", NS, guarded).spec.replicas == 1
