"""Fixtures shared by the tests of tests/support."""

from tests.support.fake_kube.fixtures import fake_apps, fake_kube  # noqa: F401
