"""A broken policy file, a plaque without a mandate, a crash in planning: only what they touch stops."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from capacity.operator.decide import Mode
from capacity.operator.ops_metrics import Health
from capacity.operator.runner import Runner
from tests.failsafe.operator_support import (  # noqa: F401 - fixtures
    RENTREE,
    component,
    copy_policies,
    events,
    fake_kube,
    seed_policies,
    seeded,
)
from tests.kube.conftest import HOME, HPA_MIN, all_hpas, hpa, make_instance, metric, set_hpa_min
from tests.support.fake_kube import FakeKube


def _expire(mandate: Path, last_day: str = "2021-04-25") -> None:
    """The contract ends: the `validite` block's `au:` becomes `last_day`."""
    text = mandate.read_text()
    new = re.sub(r"(validite:[^\n]*\n\s+du: [^\n]*\n\s+au: )[0-9-]+", rf"\g<1>{last_day}", text, count=1)
    assert new != text
    mandate.write_text(new)


def _seeded_with_expired(fake: FakeKube, tmp_path: Path, mandates: str) -> Path:
    """A copy of the shipped policies whose mandate files matching `mandates` ended on 2021-04-25, seeded."""
    policies = copy_policies(tmp_path)
    expired = sorted((policies / "mandats").glob(mandates))
    assert expired
    for mandate in expired:
        _expire(mandate)
    return seed_policies(fake, tmp_path, policies)


def test_a_mandate_file_removed_mid_run_stops_nothing(fake_kube: FakeKube, tmp_path: Path) -> None:  # noqa: F811
    policies = seed_policies(fake_kube, tmp_path)
    a = make_instance(fake_kube, tmp_path, mode=Mode.FLOOR, policies=policies)
    assert a.tick(RENTREE - timedelta(minutes=30)).ok
    (policies / "mandats" / "departement-57.yaml").unlink()  # a ConfigMap edit gone wrong, mid-run
    report = a.tick(RENTREE)
    assert {c.status for c in report.components} <= {"applied", "unchanged", "recommended"}
    assert all(v[0] > HPA_MIN for v in all_hpas(fake_kube).values())  # every floor raised for the rush
    said = events(fake_kube, "ConfigReloadFailed")
    assert len(said) == 1 and "departement-57.yaml (removed)" in said[0]["message"]
    assert metric(a, "capctl_config_last_reload_successful", part="policies") == 0.0


def test_a_broken_file_keeps_its_last_good_version_and_other_changes_take_effect(
    fake_kube: FakeKube,  # noqa: F811
    tmp_path: Path,
) -> None:
    policies = seed_policies(fake_kube, tmp_path)
    a = make_instance(fake_kube, tmp_path, mode=Mode.FLOOR, policies=policies)
    a.tick(RENTREE - timedelta(minutes=30))
    ge_web_max = hpa(fake_kube, "ent-grand-est", "web")["spec"]["maxReplicas"]
    grand_est = policies / "mandats" / "region-grand-est.yaml"
    grand_est.write_text(grand_est.read_text().replace("plafond: 15", "plafond: [15"))  # a typo
    occitanie = policies / "mandats" / "region-occitanie.yaml"
    occitanie.write_text(
        occitanie.read_text().replace("api:       {plancher: 2, plafond: 55}", "api: {plancher: 2, plafond: 20}")
    )
    report = a.tick(RENTREE)
    assert hpa(fake_kube, "ent-occitanie", "api")["spec"]["maxReplicas"] == 20  # the valid change is in force
    assert hpa(fake_kube, "ent-grand-est", "web")["spec"]["maxReplicas"] == ge_web_max  # the broken one is not
    assert component(report, "grand-est", "web").status in ("applied", "unchanged")
    said = events(fake_kube, "ConfigReloadFailed")
    assert len(said) == 1 and "region-grand-est.yaml (invalid)" in said[0]["message"]


def test_a_plaque_without_a_mandate_in_force_keeps_its_replicas_and_says_so(
    fake_kube: FakeKube,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    policies = _seeded_with_expired(fake_kube, tmp_path, "region-occitanie.yaml")  # its only funder ended on the 25th
    set_hpa_min(fake_kube, "ent-occitanie", "api", 7)
    a = make_instance(fake_kube, tmp_path, mode=Mode.FLOOR, policies=policies)
    with caplog.at_level(logging.WARNING, logger="capctl.controller"):
        report = a.tick(RENTREE)
    held = [c for c in report.components if c.target.plaque == "occitanie"]
    assert held and all(c.status == "held" for c in held)
    assert hpa(fake_kube, "ent-occitanie", "api")["spec"]["minReplicas"] == 7  # neither raised nor lowered
    assert not fake_kube.writes(r"/namespaces/ent-occitanie/horizontalpodautoscalers")
    assert hpa(fake_kube, "ent-grand-est", "api")["spec"]["minReplicas"] > HPA_MIN  # the others go on
    assert metric(a, "capctl_plaque_held", plaque="occitanie") == 1.0
    said = events(fake_kube, "PlaqueHeld")
    assert len(said) == 1 and said[0]["type"] == "Warning" and "occitanie" in said[0]["message"]
    assert any("occitanie" in e for e in report.errors) and not report.ok and not report.failed
    assert any(r.getMessage() == "plaque not planned: current replicas kept" for r in caplog.records)


def test_when_nothing_can_be_planned_the_tick_fails_and_the_leader_gives_the_lease_up(
    seeded: FakeKube,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def crash(*_args: object, **_kw: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("capacity.operator.plan_cache.plan_plaques", crash)  # a bug in planning, every tick
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-a")
    health = Health(stall_after_s=600)
    minutes = iter(range(100))
    runner = Runner(a.controller, health, 60.0, lambda: RENTREE + timedelta(minutes=next(minutes)))
    hpas = all_hpas(seeded)
    with caplog.at_level(logging.WARNING):
        first = runner.tick()
    assert first is not None and first.failed and first.aborted and "RecursionError" in first.aborted
    assert any(r.getMessage().startswith("tick failed") for r in caplog.records)
    assert health.ready and len(events(seeded, "TickFailed")) == 1
    runner.tick()
    assert health.ready  # not yet: 2 of 3
    runner.tick()
    assert not health.ready and "3 failed ticks" in health.reason
    lease = seeded.get_object("coordination.k8s.io/v1", "Lease", HOME, "capctl")
    assert lease is not None and not lease["spec"].get("holderIdentity")  # given up
    assert len(events(seeded, "LeaseGivenUp")) == 1
    assert all_hpas(seeded) == hpas  # nothing written blind
    assert metric(a, "capctl_is_leader") == 0.0
    monkeypatch.undo()  # the standby, on another node, plans fine: it takes over at once
    b = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-b")
    assert b.tick(RENTREE + timedelta(minutes=4)).leader
    b.elector.release()  # even when the lease is free again, the instance that gave it up stays off it a while
    again = runner.tick()
    assert again is not None and not again.leader and not health.ready


def test_with_every_mandate_expired_the_tick_is_failed_not_done(
    fake_kube: FakeKube,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    policies = _seeded_with_expired(fake_kube, tmp_path, "*.yaml")
    a = make_instance(fake_kube, tmp_path, mode=Mode.FLOOR, policies=policies)
    with caplog.at_level(logging.INFO, logger="capctl.controller"):
        report = a.tick(RENTREE)
    assert report.failed and report.aborted is not None and "nothing could be planned" in report.aborted
    assert not [r for r in caplog.records if r.getMessage() == "tick done"]
    assert [r.levelname for r in caplog.records if r.getMessage().startswith("tick failed")] == ["WARNING"]
    assert not fake_kube.writes(r"/horizontalpodautoscalers")
