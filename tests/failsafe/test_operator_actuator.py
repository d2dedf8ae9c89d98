"""The actuator never writes an HPA that scales another workload than the topology says."""

from __future__ import annotations

from pathlib import Path

from capacity.operator.decide import Mode
from tests.failsafe.operator_support import RENTREE, component, events, fake_kube, seeded  # noqa: F401 - fixtures
from tests.kube.conftest import HPA_MIN, all_hpas, hpa, make_instance, metric
from tests.support.fake_kube import FakeKube


def _retarget(fake: FakeKube, namespace: str, name: str, workload: str) -> None:
    """The HPA is recreated under the same name by a team, for another Deployment."""
    obj = hpa(fake, namespace, name)
    obj["spec"]["scaleTargetRef"]["name"] = workload
    fake.put_object(obj)


def test_an_hpa_recreated_for_another_workload_between_read_and_write_is_skipped(
    seeded: FakeKube,  # noqa: F811
    tmp_path: Path,
) -> None:
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR)
    guard, calls = a.controller.actuator.guard, []

    def retarget_before_the_first_write() -> None:
        calls.append(1)
        if len(calls) == 1:  # the first write is grand-est/web: its HPA changes under us (our patch gets a 409)
            _retarget(seeded, "ent-grand-est", "web", "autre-application")
        guard()

    a.controller.actuator.guard = retarget_before_the_first_write
    before = all_hpas(seeded)
    report = a.tick(RENTREE)
    web = component(report, "grand-est", "web")
    assert web.status == "skipped" and web.error is not None and "autre-application" in web.error
    assert all_hpas(seeded)[("ent-grand-est", "web")] == before[("ent-grand-est", "web")]  # not written
    assert [w.status for w in seeded.writes(r"/horizontalpodautoscalers/web$") if "grand-est" in w.path] == [409]
    said = events(seeded, "WrongScaleTarget")
    assert len(said) == 1 and said[0]["type"] == "Warning" and said[0]["involvedObject"]["name"] == "web"
    assert hpa(seeded, "ent-grand-est", "api")["spec"]["minReplicas"] > HPA_MIN  # the others go on
    assert metric(a, "capctl_errors_total", kind="target") == 1.0
    assert not report.ok and not report.failed


def test_an_hpa_already_pointing_elsewhere_is_skipped_with_an_event(seeded: FakeKube, tmp_path: Path) -> None:  # noqa: F811
    _retarget(seeded, "ent-grand-est", "api", "autre-application")
    seeded.clear_log()
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR)
    report = a.tick(RENTREE)
    assert component(report, "grand-est", "api").status == "skipped"
    assert not [w for w in seeded.writes(r"/horizontalpodautoscalers/api$") if "grand-est" in w.path]
    assert [e["involvedObject"]["name"] for e in events(seeded, "WrongScaleTarget")] == ["api"]
