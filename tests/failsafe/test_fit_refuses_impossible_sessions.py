"""`capctl fit` refuses session data that cannot be users connected, in one line, exit 2, writing nothing.

All zeros would give a model that plans demand 0; negative or 1e308 values a model whose plan shows
`inf` users and a wish of -2**63 replicas. The same data shifted into the plausible range fits (exit 0),
so each refusal is about the data, not the set-up.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from capacity.learning.days import compose, expected
from capacity.learning.plausible import MAX_SESSIONS_PER_ACCOUNT, ImplausibleSessions, check_sessions
from capacity.learning.window import midnight_s
from capacity.planning.demand import default_rates
from tests.support.cli import assert_one_line_error, capctl
from tests.support.fault_server import Reply, Script, fault_server, matrix

FIRST, LAST = date(2021, 3, 1), date(2021, 3, 14)  # two school weeks in zone C (weekends included)
PROFILES = {"eleve": 0.08, "enseignant": 0.3, "parent": 0.02}  # share of accounts connected at the peak


def _hours() -> list[int]:
    start = midnight_s(FIRST)
    return list(range(start, midnight_s(LAST + timedelta(days=1)), 3600))


def _body(value) -> bytes:
    """Hourly session series for occitanie: a school-day shape scaled by `value(profile_share, hour)`."""
    series = []
    for profile, share in PROFILES.items():
        points = []
        for t in _hours():
            hour = (t // 3600 + 1) % 24  # CET
            busy = 1.0 if 8 <= hour < 18 else 0.1
            points.append((t, value(share * busy * 20_000, t)))
        series.append(({"plaque": "occitanie", "profile": profile}, points))
    return matrix(series)


def _fit(tmp_path, body: bytes):
    out = tmp_path / "model.json"
    with fault_server(Script([Reply(body=body)])) as url:
        res = capctl("fit", "--prometheus-url", url, "--from", str(FIRST), "--to", str(LAST), "--step", "1h",
                     "--plaque", "occitanie", "--out", str(out))  # fmt: skip
    return res, out


def test_plausible_data_fits(tmp_path):
    res, out = _fit(tmp_path, _body(lambda v, _t: f"{v:.0f}"))
    assert res.returncode == 0, res.stderr
    assert out.exists()


@pytest.mark.parametrize(
    ("value", "needles"),
    [
        (lambda v, t: "0", ("occitanie", "is 0 at every instant", "school days", "plan for no one")),
        (lambda v, t: f"{-v:.0f}", ("occitanie", "negative", "2021-03-01")),
        (lambda v, t: "+Inf", ("occitanie", "infinite")),
        (lambda v, t: "1e308", ("occitanie", "accounts in the topology")),
        (lambda v, t: f"{v * 1000:.0f}", ("occitanie", "accounts in the topology", "counter, duplicated series")),
    ],
    ids=["all-zero", "negative", "infinite", "1e308", "a-thousand-times-too-many"],
)
def test_impossible_session_data_is_refused_and_nothing_is_written(tmp_path, value, needles):
    res, out = _fit(tmp_path, _body(value))
    assert_one_line_error(res, *needles, "--queries")
    assert not out.exists()


def test_zero_on_school_days_is_refused_even_if_weekends_have_users(tmp_path):
    def value(v, t):
        weekday = ((t + 3600) // 86400 + 3) % 7  # 1970-01-01 was a Thursday
        return f"{v:.0f}" if weekday >= 5 else "0"

    res, out = _fit(tmp_path, _body(value))
    assert_one_line_error(res, "is 0 at every instant", "school days")
    assert not out.exists()


# ------------------------------------------------------------------------- the check itself, as properties


@pytest.fixture(scope="module")
def plausible(calendar, policies):
    plaque = policies.topology.plaque("occitanie")
    frame = compose(calendar, [plaque], FIRST, LAST)
    pd = frame.plaques["occitanie"]
    return frame, expected(default_rates(), pd, frame.weekday), float(pd.population.sum())


@given(scale=st.floats(0.01, 2.0), holes=st.floats(0.0, 0.9), seed=st.integers(0, 2**16))
def test_realistic_curves_with_gaps_are_never_refused(plausible, scale, holes, seed):
    frame, curves, _ = plausible
    c = curves * scale
    c[np.random.default_rng(seed).random(c.shape) < holes] = np.nan
    check_sessions(frame, {"occitanie": c}, "test")


@given(data=st.data(), bad=st.sampled_from(["negative", "inf", "-inf", "absurd"]))
def test_one_impossible_sample_anywhere_is_refused(plausible, data, bad):
    frame, curves, accounts = plausible
    c = curves.copy()
    q, d, s = (data.draw(st.integers(0, n - 1)) for n in c.shape)
    c[q, d, s] = {
        "negative": -data.draw(st.floats(0.5, 1e308)),
        "inf": np.inf,
        "-inf": -np.inf,
        "absurd": MAX_SESSIONS_PER_ACCOUNT * accounts * data.draw(st.floats(1.01, 1e300)),
    }[bad]
    with pytest.raises(ImplausibleSessions, match="occitanie"):
        check_sessions(frame, {"occitanie": c}, "test")
