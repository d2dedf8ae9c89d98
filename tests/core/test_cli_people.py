"""`capctl` as an operator meets it at a terminal: version, completion, readable help, progress, words."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capacity.cli.backtest_cmd import backtest_table
from capacity.common.numbers import count, duration_h, percent
from tests.support.cli import REPO, capctl


def test_version_and_completion() -> None:
    res = capctl("--version")
    assert res.returncode == 0 and res.stdout.startswith("capctl 0."), res
    help_text = capctl("--help").stdout
    assert "--install-completion" in help_text and "--show-completion" in help_text
    script = capctl(env={**os.environ, "_CAPCTL_COMPLETE": "source_bash"})
    assert "complete" in script.stdout and "capctl" in script.stdout, script


@pytest.mark.parametrize("command", [(), ("run",), ("simulate",), ("policy", "validate"), ("plan",)])
def test_help_at_80_columns_cuts_nothing_and_flags_take_no_value(command: tuple[str, ...]) -> None:
    res = capctl(*command, "--help", env={**os.environ, "COLUMNS": "80", "TERM": "xterm"})
    assert res.returncode == 0, res.stderr
    text = res.stdout.split("\n", 1)[1]  # the usage line may say `[ARGS]...`: repeatable, not cut
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text and "..." not in text and "<bool>" not in text and "list[" not in text
    if command == ("run",):
        for name in ("--prometheus-username-file FILE", "--prometheus-password-file FILE", "--once  "):
            assert name in text, name
    if command == ():
        assert "older than D - horizon." in text  # whole summaries, wrapped


def _on_a_terminal(*args: str) -> tuple[int, str]:
    """Run capctl with stderr on a pseudo-terminal (stdout piped); returns (exit code, terminal bytes)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "capacity", *args], cwd=REPO, stdout=subprocess.PIPE, stderr=follower, env=env
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the follower side closed (Linux raises EIO)
            break
        if not data:
            break
        chunks.append(data)
    proc.communicate(timeout=120)
    os.close(leader)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_progress_shows_on_a_terminal_and_never_in_a_pipe_or_with_quiet(tmp_path: Path) -> None:
    args = ("synth", "--from", "2021-04-01", "--to", "2021-04-02", "--plaque", "occitanie", "--plaque", "grand-est")
    code, terminal = _on_a_terminal(*args, "--out", str(tmp_path / "a.om"))
    assert code == 0, terminal
    assert "generating" in terminal and "writing" in terminal and "━" in terminal
    for quiet in (("--quiet", *args), (*args, "--quiet")):  # before the command, or among its options
        code, terminal = _on_a_terminal(*quiet, "--out", str(tmp_path / "b.om"))
        assert code == 0 and "━" not in terminal and "generating" not in terminal, terminal
    piped = capctl(*args, "--out", str(tmp_path / "c.om"))
    assert piped.returncode == 0 and piped.stderr == "", piped.stderr
    assert (tmp_path / "a.om").read_bytes() == (tmp_path / "c.om").read_bytes()


def test_one_language_per_output() -> None:
    en = capctl("calendar", "--date", "2021-04-26", env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": ""})
    assert en.stdout.splitlines()[0].split()[:3] == ["place", "level", "state"] and " yes " in en.stdout
    assert " oui " not in en.stdout
    fr = capctl("calendar", "--date", "2021-04-26", env={**os.environ, "LC_ALL": "fr_FR.UTF-8"})
    assert fr.stdout.splitlines()[0].split()[:3] == ["lieu", "niveau", "état"] and " oui " in fr.stdout
    flag = capctl("--lang", "fr", "calendar", "--date", "2021-04-26", env={**os.environ, "LC_ALL": ""})
    assert flag.stdout == fr.stdout
    policy_en = capctl("--lang", "en", "policy", "validate")
    assert policy_en.stdout.strip().endswith("0 error(s), 0 warning(s)"), policy_en.stdout
    assert capctl("policy", "validate").stdout.strip().endswith("0 erreur(s), 0 avertissement(s)")


def test_a_french_error_gets_a_french_prefix(tmp_path: Path) -> None:
    bad = tmp_path / "policies"
    subprocess.run(["cp", "-r", str(REPO / "policies"), str(bad)], check=True)
    path = bad / "mandats" / "departement-57.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("plafond: 6}", "plafnd: 6}"), encoding="utf-8")
    res = capctl("plan", "--date", "2021-04-26", "--policies", str(bad))
    assert res.returncode == 2
    assert res.stderr.startswith("capctl : erreur : "), res.stderr
    assert "error:" not in res.stderr


def test_backtest_text_says_durations_as_people_do() -> None:
    stats = {"days": 3, "daily_peak_mape_pct": 4.2, "bias_pct": -1.0}
    summary = {
        "from": "2021-04-01", "to": "2021-04-30", "horizon_days": 7, "refit_days": 7, "model": "prior",
        "plaques": {}, "ordinary_school_days": stats, "event_days": stats, "under_forecast_share": 0.5,
        "band_coverage": 0.9, "band_coverage_ordinary": 0.9, "band_coverage_event": None,
        "peak_hour_mape_pct": 5.123, "peak_time_shift_h_median": 0.08333333333333333,
        "days_scored": 3, "days_without_data": 0, "notes": [],
    }  # fmt: skip
    text = backtest_table({"summary": summary, "days": []})
    assert "median peak-time shift 5 min" in text and "0.0833" not in text and "5.1%" in text
    fr = backtest_table({"summary": summary, "days": []}, "fr")
    assert "décalage médian de la pointe 5 min" in fr and "5,1 %" in fr and "toutes les plaques" in fr
    assert "days" not in fr and "shift" not in fr


@given(st.floats(min_value=0, max_value=1e4, allow_nan=False))
def test_durations_round_trip_to_the_minute(hours: float) -> None:
    words = duration_h(hours).split()
    minutes = 0
    for value, unit in zip(words[::2], words[1::2], strict=True):
        minutes += int(value) * {"d": 1440, "h": 60, "min": 1}[unit]
    assert minutes == round(hours * 60)


def test_numbers_for_people() -> None:
    assert count(611_812.4) == "611,812" and count(611_812.4, "fr") == "611 812"
    assert percent(0.06149) == "6.1%" and percent(0.0004, "fr") == "0,04 %" and percent(0) == "0%"
    assert duration_h(1.5) == "1 h 30 min" and duration_h(2) == "2 h" and duration_h(0) == "0 min"


def test_the_plan_table_in_french_says_its_reasons_in_french() -> None:
    fr = capctl("plan", "--date", "2021-04-06", env={**os.environ, "LC_ALL": "fr_FR.UTF-8"})
    assert fr.returncode == 0, fr.stderr
    assert "états du jour" in fr.stdout and "Capacité insuffisante" in fr.stdout
    assert "contenu dans le budget mensuel de departement-76 (messaging)" in " ".join(fr.stdout.split())  # wrapped
    assert not re.search(r"\b(floor|ceiling|budget|maintenance):| at \d|day states|Short of", fr.stdout), fr.stdout
    assert max(len(line) for line in fr.stdout.splitlines()) <= 100
    en = capctl("plan", "--date", "2021-04-06", env={**os.environ, "LC_ALL": "", "LANG": "en_US.UTF-8"})
    assert "budget:departement-76 (messaging)" in " ".join(en.stdout.split()) and "Capacité" not in en.stdout
