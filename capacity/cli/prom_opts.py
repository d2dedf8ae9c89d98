"""Options shared by the commands that read Prometheus (fit, forecast, backtest); the progress bar is in ui.py.

Secrets are read from files (or $CAPCTL_PROMETHEUS_TOKEN), never from the command line, where `ps`
would show them; the option names are those of `capctl run`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from capacity.common.errors import InputError

if TYPE_CHECKING:
    from capacity.learning.source import PrometheusSource

ENV_TOKEN = "CAPCTL_PROMETHEUS_TOKEN"

UrlOpt = Annotated[str | None, typer.Option("--prometheus-url", help="Prometheus-compatible API root")]
TokenFileOpt = Annotated[
    Path | None, typer.Option("--prometheus-token-file", dir_okay=False, help=f"bearer token file (or ${ENV_TOKEN})")
]
UserFileOpt = Annotated[Path | None, typer.Option("--prometheus-username-file", dir_okay=False, help="basic auth")]
PasswordFileOpt = Annotated[Path | None, typer.Option("--prometheus-password-file", dir_okay=False)]
CaFileOpt = Annotated[Path | None, typer.Option("--prometheus-ca-file", dir_okay=False, help="CA bundle (PEM)")]
InsecureOpt = Annotated[
    bool, typer.Option("--prometheus-insecure", help="do not verify the server certificate (unsafe)")
]
TimeoutOpt = Annotated[str, typer.Option("--prometheus-timeout", help="per request, e.g. 30s, 2m")]
QueriesOpt = Annotated[
    Path | None, typer.Option("--queries", dir_okay=False, help="PromQL templates (YAML), see docs/metrics.md")
]
StepOpt = Annotated[str, typer.Option("--step", help="query resolution: 5m (default), 15m, 30m or 1h")]


def make_source(
    url: str,
    token_file: Path | None,
    username_file: Path | None,
    password_file: Path | None,
    ca_file: Path | None,
    insecure: bool,
    timeout: str,
) -> PrometheusSource:
    """A Prometheus source from the command-line options (files read once, here)."""
    from capacity.learning.source import PrometheusAuth, PrometheusSource
    from capacity.learning.window import parse_duration_s

    token = _read(token_file) if token_file else os.environ.get(ENV_TOKEN) or None
    if (username_file is None) != (password_file is None):
        raise InputError("basic auth needs both --prometheus-username-file and --prometheus-password-file")
    auth = PrometheusAuth(
        token=token,
        username=_read(username_file) if username_file else None,
        password=_read(password_file) if password_file else None,
        ca_file=str(ca_file) if ca_file else None,
        verify_tls=not insecure,
    )
    if ca_file is not None and not ca_file.is_file():
        raise InputError(f"CA file {ca_file} not found")
    return PrometheusSource(url, auth, timeout_s=float(parse_duration_s(timeout)))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
