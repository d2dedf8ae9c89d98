"""The envtest fixture itself: what it starts, how it authenticates, and when it skips or fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _pytest.outcomes import Failed, Skipped
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support import envtest
from tests.support.envtest import ControlPlane


def test_a_real_api_server_with_rbac_and_service_account_tokens(control_plane: ControlPlane, tmp_path: Path) -> None:
    status, body = control_plane.get("/version")
    assert status == 200 and json.loads(body)["gitVersion"].startswith("v1.36.")
    assert control_plane.url.startswith("https://127.0.0.1:")
    admin = control_plane.admin_client()
    namespace = envtest.unique_name("envtest")
    try:
        client.CoreV1Api(admin).create_namespace({"metadata": {"name": namespace}})
        review = client.AuthorizationV1Api(admin).create_self_subject_access_review(
            {"spec": {"resourceAttributes": {"verb": "*", "resource": "*", "group": "*"}}}
        )
        assert review.status.allowed  # the admin certificate is in system:masters
    finally:
        admin.close()
    sa = control_plane.service_account_client(namespace, "nobody")
    try:
        with pytest.raises(ApiException) as err:
            client.CoreV1Api(sa).list_namespaced_config_map(namespace)
        assert err.value.status == 403  # authenticated (not 401), and RBAC grants it nothing
        assert "system:serviceaccount:" + namespace + ":nobody" in err.value.body
    finally:
        sa.close()
    # the kubeconfig writer: what `capctl run --kubeconfig` reads
    from kubernetes import config

    path = control_plane.write_kubeconfig(tmp_path / "kubeconfig")
    conf = client.Configuration()
    config.load_kube_config(config_file=str(path), client_configuration=conf)
    with client.ApiClient(conf) as api:
        assert client.CoreV1Api(api).read_namespace(namespace).metadata.name == namespace


def test_without_assets_it_skips_with_how_to_get_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))
    monkeypatch.setattr(envtest, "DEFAULT_ASSETS", tmp_path / "none")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(Skipped, match=r"setup-envtest use 1\.36\.x"):
        envtest.assets_dir()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(Failed, match="KUBEBUILDER_ASSETS"):
        envtest.assets_dir()


def test_kubebuilder_assets_wins_over_the_repository_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("etcd", "kube-apiserver"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))
    assert envtest.assets_dir() == tmp_path
