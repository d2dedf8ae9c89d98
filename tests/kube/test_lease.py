"""Leader election on a coordination.k8s.io/v1 Lease, with controllable monotonic clocks."""

from __future__ import annotations

import pytest

from capacity.operator.decide import History
from capacity.operator.kube.lease import LeaderElector, LeadershipLost, LeaseSettings
from capacity.operator.kube.state import decode, encode
from tests.kube.conftest import HOME
from tests.support.fake_kube import FakeKube


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def elector(fake: FakeKube, identity: str, clock: Clock, **kw: float) -> LeaderElector:
    fake.add_namespace(HOME)
    settings = LeaseSettings(name="capctl", namespace=HOME, identity=identity, **kw)  # type: ignore[arg-type]
    return LeaderElector(fake.api_client(), settings, clock=clock)


def lease_spec(fake: FakeKube) -> dict[str, object]:
    obj = fake.get_object("coordination.k8s.io/v1", "Lease", HOME, "capctl")
    assert obj is not None
    spec: dict[str, object] = obj["spec"]
    return spec


def test_a_standby_takes_over_only_after_the_lease_expired(fake_kube: FakeKube) -> None:
    ca, cb = Clock(), Clock()
    a, b = elector(fake_kube, "a", ca), elector(fake_kube, "b", cb)
    assert a.try_acquire_or_renew()
    assert not b.try_acquire_or_renew()
    cb.t += 14  # less than the 15 s lease since b first saw it
    assert not b.try_acquire_or_renew()
    ca.t += 5
    assert a.try_acquire_or_renew()  # a renews: b sees a new record and restarts its count
    cb.t += 10
    assert not b.try_acquire_or_renew()
    cb.t += 16  # a went silent
    assert b.try_acquire_or_renew()
    spec = lease_spec(fake_kube)
    assert spec["holderIdentity"] == "b" and spec["leaseTransitions"] == 1
    ca.t += 16
    assert not a.is_leader
    with pytest.raises(LeadershipLost):
        a.ensure()


def test_a_leader_cut_off_from_the_api_stops_before_its_lease_can_expire(fake_kube: FakeKube) -> None:
    ca = Clock()
    a = elector(fake_kube, "a", ca)
    assert a.try_acquire_or_renew()
    fake_kube.set_down("refused")
    ca.t += 6
    assert a.try_acquire_or_renew()  # renewal failed, but the last one is still surely valid
    ca.t += 8  # 14 s after the last renewal: inside the 2 s safety margin of a 15 s lease
    assert not a.is_leader
    with pytest.raises(LeadershipLost):
        a.ensure()
    fake_kube.set_up()


def test_release_hands_over_without_waiting(fake_kube: FakeKube) -> None:
    a, b = elector(fake_kube, "a", Clock()), elector(fake_kube, "b", Clock())
    assert a.try_acquire_or_renew()
    assert not b.try_acquire_or_renew()
    a.release()
    assert lease_spec(fake_kube).get("holderIdentity") is None
    assert b.try_acquire_or_renew()
    assert not a.is_leader


def test_ensure_renews_when_due_and_notices_a_taken_lease(fake_kube: FakeKube) -> None:
    ca = Clock()
    a = elector(fake_kube, "a", ca, renew_every_s=5.0)
    assert a.try_acquire_or_renew()
    fake_kube.clear_log()
    a.ensure()  # fresh: no request
    assert fake_kube.requests == []
    ca.t += 5
    a.ensure()  # due: one renewal (GET + PUT)
    assert [r.method for r in fake_kube.requests] == ["GET", "PUT"]
    lease = fake_kube.get_object("coordination.k8s.io/v1", "Lease", HOME, "capctl")
    assert lease is not None
    lease["spec"]["holderIdentity"] = "intruder"
    fake_kube.put_object(lease)
    ca.t += 5
    with pytest.raises(LeadershipLost):
        a.ensure()


def test_state_round_trips_and_survives_a_corrupt_entry() -> None:
    state = {("grand-est", "api"): History(((1.5, 82), (61.5, 60))), ("occitanie", "web"): History(((3.0, 4),))}
    data = encode(state)
    assert decode(data) == state
    data["occitanie"] = "{not json"
    assert decode(data) == {("grand-est", "api"): state[("grand-est", "api")]}
