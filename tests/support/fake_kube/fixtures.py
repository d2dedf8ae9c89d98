"""Pytest fixtures for the fake API server; `tests/support/conftest.py` exposes them to tests/support.

To offer them suite-wide, add "tests.support.fake_kube.fixtures" to `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from .server import FakeKube


@pytest.fixture
def fake_kube() -> Iterator[FakeKube]:
    """A running fake API server, stopped after the test."""
    with FakeKube() as fake:
        yield fake


@pytest.fixture
def fake_apps(fake_kube: FakeKube) -> client.AppsV1Api:
    """The real AppsV1Api, configured through the kubeconfig loader to talk to `fake_kube`."""
    return client.AppsV1Api(fake_kube.api_client())
