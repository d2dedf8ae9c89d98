"""The nowcast on the real API server: a morning busier than the forecast raises the afternoon's floors,
with the `nowcast` reason on the HPA's change Event, an Event on the operator's own object and its gauge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from capacity.operator.decide import Mode
from capacity.operator.lookahead import forecast_users, window
from tests.kube.test_mornings import BASE, at
from tests.realkube.conftest import Slice

BUSIER = {"grand-est": 1.22}  # grand-est's morning a fifth above the forecast; the others as forecast


class Morning:
    """Live usage: each plaque's forecast users at `now`, times its factor in BUSIER."""

    last_error: str | None = None

    def active_users(self, plaques: Sequence[str], now: datetime) -> Mapping[str, float | None]:
        return {p: BUSIER.get(p, 1.0) * forecast_users(BASE[p][0], now) for p in plaques}


def test_a_busy_morning_raises_the_evening_floor_through_the_real_api(kube: Slice) -> None:
    a = kube.instance(mode=Mode.FLOOR)
    a.controller.usage = Morning()
    t = at(9.0)
    while t < at(12.0):  # a tick every 5 minutes: every slot of 9-12 h read
        assert a.tick(t).ok
        t += timedelta(minutes=5)
    noon = a.tick(t)  # the decision, and the first floors it raises
    changed = [c for c in noon.components if c.status == "applied" and c.decision and "nowcast" in c.decision.reasons]
    assert changed and {c.target.plaque for c in changed} == {"grand-est"}
    raised = [e for e in kube.events(kube.home) if e.reason == "NowcastRaised"]
    assert len(raised) == 1 and raised[0].message.startswith("grand-est: users 9-12 h at 122% of the forecast")
    assert "×1.20" in raised[0].message
    assert a.metrics.registry.get_sample_value("capctl_nowcast_factor", {"plaque": "grand-est"}) == 1.2
    assert a.metrics.registry.get_sample_value("capctl_nowcast_factor", {"plaque": "occitanie"}) == 1.0

    evening = at(17.5)
    report = a.tick(evening)
    web = next(c for c in report.components if c.target.key == ("grand-est", "web"))
    plain = window(BASE["grand-est"], "web", evening, 600 + 1800)  # what the forecast alone would ask
    assert web.decision is not None and "nowcast" in web.decision.reasons
    assert web.decision.replicas > plain.planned.replicas
    hpa = kube.autoscaling.read_namespaced_horizontal_pod_autoscaler("web", kube.namespaces["grand-est"])
    assert hpa.spec.min_replicas == web.decision.replicas
    change = [e for e in kube.events(kube.namespaces["grand-est"]) if "nowcast" in e.message]
    assert len(change) >= len(changed), "each change the nowcast made has its Event, naming it"
    other = next(c for c in report.components if c.target.key == ("occitanie", "web"))
    assert other.decision is not None and "nowcast" not in other.decision.reasons
