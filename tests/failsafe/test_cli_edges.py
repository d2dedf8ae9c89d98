"""Edge inputs on the command line: one line on stderr, exit 2 (bad input) or 1 (run time), never a traceback,
never a boxed panel, and output paths checked before any computation."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from capacity.cli import run
from tests.support.cli import assert_one_line_error, capctl
from tests.support.prometheus import unused_url

NOW = "2021-04-26T06:30:00+02:00"


def no_box(res_stderr: str) -> None:
    assert not any(c in res_stderr for c in "╭╰│"), res_stderr


def assert_run_error(res: subprocess.CompletedProcess[str], *needles: str) -> str:
    """`capctl run` logs on stderr (the operator's log stream); the failure is still its one last line."""
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert "Traceback" not in res.stderr
    assert [line for line in lines if line.startswith("capctl: ")] == [lines[-1]]
    assert all(line.startswith(("info ", "warning ")) for line in lines[:-1]), lines
    return assert_one_line_error(subprocess.CompletedProcess(res.args, res.returncode, res.stdout, lines[-1]), *needles)


def test_an_impossible_date_says_why() -> None:
    res = capctl("plan", "--date", "2021-02-30")
    assert_one_line_error(res, "2021-02-30: day is out of range for month")
    assert "expected YYYY-MM-DD" not in res.stderr
    assert_one_line_error(capctl("plan", "--date", "2021-13-01"), "2021-13-01: month must be in 1..12")
    assert_one_line_error(capctl("plan", "--date", "26/04/2021"), "expected YYYY-MM-DD")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["plan", "--bogus"], "No such option: --bogus (see `capctl plan --help`)"),
        (["plan"], "Missing option '--date'"),
        (["plan", "--date", "2021-04-26", "-o", "xml"], "'xml' is not one of"),
        (["policy", "validate", "--bogus"], "No such option: --bogus"),
        (["nosuchcommand"], "No such command"),
    ],
)
def test_usage_errors_are_one_line_without_a_box(args: list[str], needle: str) -> None:
    res = capctl(*args)
    assert_one_line_error(res, needle)
    no_box(res.stderr)


def test_a_malformed_kubeconfig_is_one_line(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("clusters: [\n", encoding="utf-8")
    res = capctl("run", "--once", "--now", NOW, "--kubeconfig", str(kubeconfig), "--log-format", "text")
    line = assert_run_error(res, "cannot configure the Kubernetes client", str(kubeconfig))
    assert "while parsing a flow node" in line


@pytest.mark.parametrize(
    ("now", "needle"),
    [
        ("9999-12-31T23:59:00+01:00", "outside the dates capctl can plan"),
        ("0001-01-01T00:00:00+00:00", "outside the dates capctl can plan"),
        ("2035-09-01T08:00:00+02:00", "date 2035-09-01 is outside the supported range"),
        ("2021-04-26T06:30:00", "has no UTC offset"),
        ("demain", "expected an ISO time"),
    ],
)
def test_now_out_of_range_is_one_line(now: str, needle: str) -> None:
    res = capctl("run", "--once", "--now", now, "--log-format", "text")
    assert_run_error(res, needle)


@pytest.mark.parametrize(
    ("plot", "needle"),
    [
        ("missing-folder/plan.png", "folder {tmp}/missing-folder does not exist"),
        ("plan.txt", "unsupported image format; end the name with .png, .svg, .pdf"),
        ("plan", "unsupported image format"),
        (".", "unsupported image format"),
    ],
)
def test_plot_paths_are_checked_before_planning(tmp_path: Path, plot: str, needle: str) -> None:
    target = str(tmp_path / plot)
    res = capctl("plan", "--date", "2021-04-26", "--plot", target)
    assert_one_line_error(res, needle.format(tmp=tmp_path))
    assert res.stdout == ""  # nothing planned nor printed


@pytest.mark.parametrize("command", ["backtest", "simulate"])
def test_every_command_with_a_plot_checks_it_before_computing(tmp_path: Path, command: str) -> None:
    """The Prometheus URL refuses connections: the error is the plot's, so it was checked first."""
    plot = str(tmp_path / "nowhere" / "x.png")
    args = ["--from", "2021-04-01", "--to", "2021-04-02", "--prometheus-url", unused_url(), "--plot", plot]
    res = capctl(command, *args)
    assert_one_line_error(res, "nowhere does not exist")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_plot_folder_is_refused_up_front(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    res = capctl("plan", "--date", "2021-04-26", "--plot", str(folder / "p.png"))
    assert_one_line_error(res, "is not writable")


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_each_supported_plot_format_is_written(tmp_path: Path, suffix: str) -> None:
    plot = tmp_path / f"plan{suffix}"
    res = capctl("plan", "--date", "2021-04-26", "--plaque", "occitanie", "--plot", str(plot))
    assert res.returncode == 0, res.stderr
    assert plot.stat().st_size > 1000
    assert [p.name for p in tmp_path.iterdir()] == [plot.name]  # no temporary file left behind


def test_fit_checks_its_out_folder_before_fetching(tmp_path: Path) -> None:
    out = tmp_path / "nowhere" / "model.json"
    res = capctl(
        "fit", "--prometheus-url", unused_url(), "--from", "2021-03-01", "--to", "2021-03-07", "--out", str(out)
    )
    assert_one_line_error(res, "--out model file", "does not exist")
    assert "Prometheus" not in res.stderr


def test_a_service_down_is_exit_1_in_one_line(tmp_path: Path) -> None:
    res = capctl("fit", "--prometheus-url", unused_url(), "--from", "2021-03-01", "--to", "2021-03-07",
                 "--out", str(tmp_path / "m.json"))  # fmt: skip
    assert_one_line_error(res, "cannot reach Prometheus", code=1)
    assert not (tmp_path / "m.json").exists()


def test_a_bug_is_one_line_exit_1_and_says_how_to_see_more(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import capacity.planning.plans as plans

    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(plans, "plan_day", broken)
    code = run(["plan", "--date", "2021-04-26"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines() == [
        "capctl: internal error (ZeroDivisionError: division by zero second line); "
        "rerun with CAPCTL_DEBUG=1 for the traceback"
    ]
    monkeypatch.setenv("CAPCTL_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        run(["plan", "--date", "2021-04-26"])


def test_help_still_works_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", "--help"]) == 0
    assert "Usage: capctl plan" in capsys.readouterr().out
