"""The synthetic ENT: deterministic, and carrying what real data has (gaps, resets, NaN, drift...)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from capacity.learning.synth import SynthOptions, generate
from tests.support.cli import assert_one_line_error, capctl


@pytest.fixture(scope="module")
def year(calendar, policies):
    plaques = [policies.topology.plaque(p) for p in ("grand-est", "seine-maritime")]
    return generate(calendar, plaques, date(2020, 9, 1), date(2021, 7, 6), SynthOptions(step_s=900))


def test_same_seed_same_file_and_windows_agree(calendar, policies, tmp_path):
    plaques = [policies.topology.plaque("seine-maritime")]
    a = generate(calendar, plaques, date(2021, 3, 1), date(2021, 3, 31), SynthOptions(step_s=900))
    b = generate(calendar, plaques, date(2021, 3, 15), date(2021, 3, 21), SynthOptions(step_s=900))
    other = generate(calendar, plaques, date(2021, 3, 15), date(2021, 3, 21), SynthOptions(step_s=900, seed=1))
    offset = (b.start_s - a.start_s) // 900
    part = a.sessions["seine-maritime"][:, offset : offset + b.n]
    np.testing.assert_array_equal(part, b.sessions["seine-maritime"])  # a week is the same in a month
    assert not np.allclose(other.sessions["seine-maritime"], b.sessions["seine-maritime"], equal_nan=True)
    out1, out2 = tmp_path / "1.om", tmp_path / "2.om"
    for out in (out1, out2):
        res = capctl(
            "synth", "--from", "2021-03-15", "--to", "2021-03-16", "--plaque", "seine-maritime", "--out", str(out)
        )
        assert res.returncode == 0, res.stderr
    assert out1.read_bytes() == out2.read_bytes()


def test_history_has_gaps_nan_duplicates_and_an_incident(year):
    ge = year.sessions["grand-est"]
    assert (~year.present["grand-est"]).mean() > 0.005  # scrape outages
    assert np.isnan(ge).any()  # exporter NaN samples
    assert np.isfinite(year.duplicate["grand-est"]).any()  # a second exporter in October
    assert {p for p, _ in year.incidents} == {"grand-est", "seine-maritime"}


def test_counters_reset_and_pods_are_renamed(year):
    series = [
        s
        for s in year.series()
        if s.labels.get("plaque") == "seine-maritime" or s.labels.get("namespace") == "ent-seine-maritime"
    ]
    requests = [s for s in series if s.name == "ent_http_requests_total"]
    assert requests and all(np.any(np.diff(s.values) < 0) for s in requests)  # resets
    pods = {s.labels["pod"] for s in series if s.name == "container_cpu_usage_seconds_total"}
    assert len(pods) > 10


def test_accounts_drift_through_the_year(year):
    """Same calendar situation, September vs June: more users connected late in the year."""
    sessions = np.nansum(year.sessions["seine-maritime"], axis=0)
    day = 96

    def tuesday_peak(d: date) -> float:
        i = (d - date(2020, 9, 1)).days * day
        return float(np.nanmax(sessions[i : i + day]))

    autumn = np.median(
        [tuesday_peak(date(2020, 9, 15)), tuesday_peak(date(2020, 9, 22)), tuesday_peak(date(2020, 9, 29))]
    )
    spring = np.median(
        [tuesday_peak(date(2021, 6, 1)), tuesday_peak(date(2021, 6, 8)), tuesday_peak(date(2021, 6, 15))]
    )
    assert spring > autumn * 1.02


def test_synth_cli_errors_are_one_line(tmp_path):
    out = str(tmp_path / "x.om")
    assert_one_line_error(capctl("synth", "--from", "2021-13-01", "--to", "2021-12-02", "--out", out), "invalid date")
    assert_one_line_error(
        capctl("synth", "--from", "2001-01-01", "--to", "2001-01-02", "--out", out), "supported range"
    )
    assert_one_line_error(
        capctl("synth", "--from", "2021-01-01", "--to", "2021-01-02", "--plaque", "nowhere", "--out", out),
        "unknown plaque",
    )
    assert_one_line_error(
        capctl("synth", "--from", "2021-01-01", "--to", "2021-01-02", "--metrics", "disk", "--out", out),
        "unknown metric",
    )
