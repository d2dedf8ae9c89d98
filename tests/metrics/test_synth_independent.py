"""The independent synthetic ENT (synth_independent.py): deterministic, dirty, and unlike synth.py."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from capacity.learning import synth_independent
from capacity.learning.generators import generator
from capacity.learning.synth import SynthOptions
from tests.support.cli import assert_one_line_error, capctl

FIRST, LAST = date(2020, 3, 2), date(2021, 5, 7)
PLAQUES = ("grand-est", "auvergne-rhone-alpes", "occitanie", "seine-maritime")


@pytest.fixture(scope="module")
def hist(calendar, policies):
    plaques = [policies.topology.plaque(p) for p in PLAQUES]
    return synth_independent.generate(calendar, plaques, FIRST, LAST, SynthOptions(metrics=("sessions", "requests")))


def peak(h, pid: str, d: date) -> float:
    total = np.nansum(h.sessions[pid], axis=0)
    per_day = 86400 // h.step_s
    i = (d - FIRST).days * per_day
    return float(np.nanmax(total[i : i + per_day]))


def test_deterministic_and_windows_agree(calendar, policies):
    plaques = [policies.topology.plaque("occitanie")]
    a = synth_independent.generate(calendar, plaques, date(2021, 3, 1), date(2021, 3, 31), SynthOptions(step_s=900))
    b = synth_independent.generate(calendar, plaques, date(2021, 3, 15), date(2021, 3, 21), SynthOptions(step_s=900))
    c = synth_independent.generate(calendar, plaques, date(2021, 3, 15), date(2021, 3, 21), SynthOptions(step_s=900))
    other = synth_independent.generate(
        calendar, plaques, date(2021, 3, 15), date(2021, 3, 21), SynthOptions(step_s=900, seed=1)
    )
    offset = (b.start_s - a.start_s) // 900
    np.testing.assert_array_equal(a.sessions["occitanie"][:, offset : offset + b.n], b.sessions["occitanie"])
    np.testing.assert_array_equal(b.sessions["occitanie"], c.sessions["occitanie"])
    assert not np.allclose(other.sessions["occitanie"], b.sessions["occitanie"], equal_nan=True)


def test_gaps_missing_samples_and_duplicates(hist):
    for pid in PLAQUES:
        gone = ~hist.present[pid]
        assert 0.003 < gone.mean() < 0.05  # single lost scrapes and gaps
        runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], gone.astype(int), [0]]))))[::2]
        assert runs.max() >= 288  # a multi-day outage in each school year
        assert np.isnan(hist.sessions[pid]).any()  # NaN samples
    dup = {pid for pid in PLAQUES if np.isfinite(hist.duplicate[pid]).any()}
    assert dup == {"auvergne-rhone-alpes"}  # drawn from the seed, per plaque
    # the duplicate differs from the main series (not a byte copy): Prometheus' max() moves it
    pid = "auvergne-rhone-alpes"
    both = np.isfinite(hist.duplicate[pid]) & np.isfinite(hist.sessions[pid])
    assert not np.array_equal(hist.duplicate[pid][both], hist.sessions[pid][both])
    resets = [s for s in hist.series() if s.name == "ent_http_requests_total"]
    assert resets and all(np.any(np.diff(s.values) < 0) for s in resets)


def test_second_confinement_weaker_than_the_first(hist):
    for pid in ("grand-est", "auvergne-rhone-alpes"):
        first = peak(hist, pid, date(2020, 3, 16)) / peak(hist, pid, date(2020, 3, 10))
        second = peak(hist, pid, date(2020, 11, 9)) / peak(hist, pid, date(2020, 11, 3))  # lycées to half gauge
        third = peak(hist, pid, date(2021, 4, 7)) / peak(hist, pid, date(2021, 3, 30))
        spring_2020 = peak(hist, pid, date(2020, 3, 17)) / peak(hist, pid, date(2020, 3, 10))
        assert second < 1.15 < first
        assert third < spring_2020  # distance learning the second time is lighter


def test_distance_rentree_busier_than_the_week_before_the_holidays(hist):
    for pid in PLAQUES:
        before = np.mean([peak(hist, pid, date(2021, 4, d)) for d in (7, 8, 9)])
        assert peak(hist, pid, date(2021, 4, 26)) > 1.15 * before
        assert np.mean([peak(hist, pid, date(2021, 4, d)) for d in (27, 28, 29)]) > before


def test_levels_have_their_own_day_shapes(hist):
    """Class day: collégiens peak in the morning rush, lycéens in the evening."""
    per_day = 86400 // hist.step_s
    i = (date(2021, 3, 16) - FIRST).days * per_day
    college = hist.sessions["seine-maritime"][0, i : i + per_day]
    lycee = hist.sessions["occitanie"][0, i : i + per_day]
    hour = lambda v: np.nanargmax(v) * hist.step_s / 3600  # noqa: E731
    assert hour(college) < 9 and hour(lycee) > 19


def test_accounts_grow_and_departements_differ(hist):
    autumn = np.median([peak(hist, "seine-maritime", date(2020, 9, d)) for d in (22, 29)])
    spring = np.median([peak(hist, "seine-maritime", date(2021, 3, d)) for d in (16, 23)])
    assert spring > 1.05 * autumn
    factors = {synth_independent._dept_factors(20200316, d) for d in ("31", "34", "48", "76")}
    assert len(factors) == 4


def test_cli_generator_option(tmp_path):
    out = tmp_path / "x.om"
    res = capctl("synth", "--from", "2021-03-15", "--to", "2021-03-15", "--plaque", "occitanie", "--generator",
                 "independent", "--metrics", "sessions", "--out", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "independent generator" in res.stdout and out.stat().st_size > 0
    bad = capctl("synth", "--from", "2021-03-15", "--to", "2021-03-15", "--generator", "x", "--out", str(out))
    assert_one_line_error(bad, "unknown generator")
    assert generator("independent") is synth_independent.generate
