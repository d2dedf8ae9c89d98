"""A leader killed mid-tick (SIGKILL: no cleanup at all) leaves enough for its successor to finish."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from capacity.operator.decide import Mode
from capacity.operator.kube.lease import LeaderElector, LeadershipLost, LeaseSettings
from capacity.operator.kube.state import CONFIGMAP_NAME
from capacity.operator.ops_metrics import Health
from capacity.operator.runner import Runner
from capacity.operator.wiring import Operator
from tests.failsafe.operator_support import RENTREE, Clock, Instant, events, fake_kube, seeded  # noqa: F401
from tests.kube.conftest import HOME, all_hpas, make_instance
from tests.support.fake_kube import FakeKube


class Killed(BaseException):
    """SIGKILL: nothing of the process runs after it (not even `finally` matters: we never look again)."""


def _kill_at(instance: Operator, where: str, call: int) -> None:
    """Kill the process at the `call`-th guard of the actuator (before a write) or of the Event recorder."""
    target = instance.controller.actuator if where == "write" else instance.controller.events
    guard, calls = target.guard, []

    def dying() -> None:
        calls.append(1)
        if len(calls) == call:
            raise Killed
        guard()

    target.guard = dying


def _intent(fake: FakeKube) -> dict[str, object]:
    cm = fake.get_object("v1", "ConfigMap", HOME, CONFIGMAP_NAME)
    assert cm is not None, "no state ConfigMap: the killed leader's window and writes are lost"
    intent: dict[str, object] = json.loads(cm["data"]["intent"])
    return intent


def _successor(fake: FakeKube, tmp_path: Path) -> Operator:
    """A standby that sees the dead leader's lease, waits for it to expire and takes over."""
    b = make_instance(fake, tmp_path, mode=Mode.FLOOR, identity="capctl-b")
    clock = Clock()
    b.elector.clock = clock
    assert not b.tick(RENTREE + timedelta(seconds=30)).leader
    clock.t += 16
    return b


def test_a_leader_killed_after_some_writes_is_finished_by_its_successor(seeded: FakeKube, tmp_path: Path) -> None:  # noqa: F811
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-a")
    _kill_at(a, "write", 4)
    before = all_hpas(seeded)
    with pytest.raises(Killed):
        a.tick(RENTREE)
    landed = {k for k, v in all_hpas(seeded).items() if v != before[k]}
    assert len(landed) == 3
    intent = _intent(seeded)
    assert intent["leader"] == "capctl-a" and intent["done"] is False
    planned = intent["writes"]
    assert isinstance(planned, list) and len(planned) == len(before)  # every HPA write, recorded first

    b = _successor(seeded, tmp_path)
    report = b.tick(RENTREE + timedelta(minutes=1))
    assert report.leader and report.ok
    assert all(v != before[k] for k, v in all_hpas(seeded).items())  # every floor is now raised
    resumed = events(seeded, "TickResumed")
    assert len(resumed) == 1 and "capctl-a" in resumed[0]["message"] and "3 of its" in resumed[0]["message"]
    assert len(events(seeded, "WriteConfirmed")) == 3
    assert _intent(seeded)["done"] is True


def test_a_write_whose_event_was_never_sent_is_logged_and_evented_later(
    seeded: FakeKube,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-a")
    _kill_at(a, "event", 1)  # killed between the first patch and its Event
    before = all_hpas(seeded)
    with caplog.at_level(logging.INFO, logger="capctl.actuator"), pytest.raises(Killed):
        a.tick(RENTREE)
    (written,) = [k for k, v in all_hpas(seeded).items() if v != before[k]]
    assert not seeded.writes(r"/events$")
    logged = [r for r in caplog.records if r.getMessage() == "writing"]
    assert len(logged) == 1 and f"{written[0]}/{written[1]}" in str(logged[0].__dict__.get("fields"))
    b = _successor(seeded, tmp_path)
    b.tick(RENTREE + timedelta(minutes=1))
    confirmed = events(seeded, "WriteConfirmed")
    assert [(e["involvedObject"]["namespace"], e["involvedObject"]["name"]) for e in confirmed] == [written]
    assert "capctl-a" in confirmed[0]["message"]


def test_run_once_after_a_killed_leader_waits_for_its_lease_then_acts(seeded: FakeKube, tmp_path: Path) -> None:  # noqa: F811
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-a")
    _kill_at(a, "write", 1)
    with pytest.raises(Killed):
        a.tick(RENTREE)
    once = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-once")
    clock = Clock(step=1.0)
    once.elector.clock = clock
    runner = Runner(once.controller, Health(600), 60.0, lambda: RENTREE, clock=clock, stop=Instant())
    report = runner.run_once()
    assert report is not None and report.leader and report.ok
    assert clock.t > 1000 + 15  # it waited for the dead leader's lease to expire
    lease = seeded.get_object("coordination.k8s.io/v1", "Lease", HOME, "capctl")
    assert lease is not None and not lease["spec"].get("holderIdentity")  # and handed it back


def test_run_once_while_a_live_leader_holds_the_lease_says_who_and_writes_nothing(
    seeded: FakeKube,  # noqa: F811
    tmp_path: Path,
) -> None:
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-a")
    assert a.tick(RENTREE).leader
    seeded.clear_log()

    class LeaderAlive(Instant):
        def wait(self, timeout: float | None = None) -> bool:
            a.elector.try_acquire_or_renew()  # the leader keeps renewing while --once waits
            return False

    once = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-once")
    clock = Clock(step=1.0)
    once.elector.clock = clock
    a.elector.clock = clock
    runner = Runner(once.controller, Health(600), 60.0, lambda: RENTREE, clock=clock, stop=LeaderAlive())
    with pytest.raises(LeadershipLost, match=r"held by capctl-a .*nothing written"):
        runner.run_once()
    assert [w.path for w in seeded.writes() if "/leases/" not in w.path] == []


def test_two_processes_with_one_identity_never_both_lead(fake_kube: FakeKube) -> None:  # noqa: F811
    fake_kube.add_namespace(HOME)
    clock = Clock()
    settings = LeaseSettings(name="capctl", namespace=HOME, identity="capctl-0")
    first = LeaderElector(fake_kube.api_client(), settings, clock=clock)
    second = LeaderElector(fake_kube.api_client(), settings, clock=clock)  # same --identity, another process
    assert first.try_acquire_or_renew()
    for _ in range(5):
        clock.t += 5
        assert first.try_acquire_or_renew()
        assert not second.try_acquire_or_renew()
    clock.t += 16  # the first one dies: the second takes over once the lease expired
    assert second.try_acquire_or_renew()
    clock.t += 5
    assert not first.try_acquire_or_renew()  # and the first, back, does not take it back
    with pytest.raises(LeadershipLost):
        first.ensure()


def test_a_leader_does_not_report_its_own_unfinished_tick_as_resumed(seeded: FakeKube, tmp_path: Path) -> None:  # noqa: F811
    a = make_instance(seeded, tmp_path, mode=Mode.FLOOR, identity="capctl-a")
    seeded.fail_next("PUT", r"/configmaps/capctl-state$", status=503)  # the closing "done" write fails
    first = a.tick(RENTREE)
    assert any("not saved after the writes" in e for e in first.errors)
    assert _intent(seeded)["done"] is False
    a.tick(RENTREE + timedelta(minutes=1))
    assert events(seeded, "TickResumed") == []  # it knows its own tick: no news for anyone
