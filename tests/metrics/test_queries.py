"""PromQL templates: defaults, operator overrides, and file:line errors."""

from __future__ import annotations

import pytest

from capacity.common.errors import ConfigError
from capacity.learning.queries import QueryConfig, load_queries


def test_defaults_fill_the_rate_window_from_the_step():
    q = QueryConfig()
    assert q.promql("sessions", 300) == "max by (plaque, profile) (ent_active_sessions)"
    assert "[600s]" in q.promql("requests", 300) and "[1800s]" in q.promql("requests", 900)
    assert 'container!="POD"' in q.promql("cpu", 300)


def test_operator_file_overrides_queries_labels_and_profiles(tmp_path):
    path = tmp_path / "queries.yaml"
    path.write_text(
        "version: 1\n"
        "rate_window: 15m\n"
        "queries:\n"
        "  sessions: sum by (tenant, role) (portal_users_online)\n"
        "  requests: sum by (tenant, app) (rate(http_total[$rate_window]))\n"
        "labels: {plaque: tenant, profile: role, component: app}\n"
        "profiles: {student: eleves, teacher: enseignants, family: parents}\n",
        encoding="utf-8",
    )
    q = load_queries(path)
    assert q.promql("sessions", 300) == "sum by (tenant, role) (portal_users_online)"
    assert q.promql("requests", 300) == "sum by (tenant, app) (rate(http_total[900s]))"
    assert q.labels["plaque"] == "tenant" and q.profile_of("family") == "parents"
    assert q.promql("cpu", 300).startswith("sum by (namespace, container)")  # not overridden: default


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "version: 1\nqueries:\n  sessions: foo[$window]\n",
            r"queries\.yaml:3:\d+: queries.sessions: unknown variable \$window",
        ),
        ("version: 1\nqueries:\n  disk: x\n", r":3:\d+: queries.disk: unknown entry"),
        ("version: 1\nprofiles:\n  pupil: kids\n", r":3:\d+: profiles.pupil: maps to 'kids'"),
        ("version: 2\n", r":1:\d+: version"),
        ("version: 1\nrate_window: soon\n", r":2:\d+: rate_window"),
    ],
)
def test_errors_name_file_line_and_field(tmp_path, body, message):
    path = tmp_path / "queries.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_queries(path)
