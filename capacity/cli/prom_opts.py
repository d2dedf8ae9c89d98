"""The Prometheus options, declared once for every command that reads Prometheus (fit, forecast,
backtest, simulate, run). The progress bar is in ui.py.

`@prometheus_options()` adds the options to a command and hands it one `PrometheusOptions` (or None
without --prometheus-url) as its `prometheus` argument: same names, same checks, same queries file
everywhere, so the operator's live query comes from the `--queries` that `capctl fit` uses. Secrets
are read from files (or $CAPCTL_PROMETHEUS_TOKEN), never from the command line, where `ps` would show
them.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from capacity.learning.source import PrometheusOptions

ENV_TOKEN = "CAPCTL_PROMETHEUS_TOKEN"
Command = TypeVar("Command", bound=Callable[..., Any])

UrlOpt = Annotated[str | None, typer.Option("--prometheus-url", help="Prometheus-compatible API root")]
QueriesOpt = Annotated[
    Path | None, typer.Option("--queries", dir_okay=False, help="PromQL templates (YAML), see docs/metrics.md")
]
TokenFileOpt = Annotated[
    Path | None, typer.Option("--prometheus-token-file", dir_okay=False, help=f"bearer token file (or ${ENV_TOKEN})")
]
UserFileOpt = Annotated[Path | None, typer.Option("--prometheus-username-file", dir_okay=False, help="basic auth")]
PasswordFileOpt = Annotated[Path | None, typer.Option("--prometheus-password-file", dir_okay=False)]
CaFileOpt = Annotated[Path | None, typer.Option("--prometheus-ca-file", dir_okay=False, help="CA bundle (PEM)")]
InsecureOpt = Annotated[
    bool, typer.Option("--prometheus-insecure", help="do not verify the server certificate (unsafe)")
]
TimeoutOpt = Annotated[
    str, typer.Option("--prometheus-timeout", help="bound on each request, retries included, e.g. 30s, 2m")
]
MaxMibOpt = Annotated[int, typer.Option("--prometheus-max-mib", min=1, help="largest answer accepted (MiB)")]
StepOpt = Annotated[str, typer.Option("--step", help="query resolution: 5m (default), 15m, 30m or 1h")]

#: (parameter, annotation, default) of each option `prometheus_options` adds; the timeout default is per command.
_OPTIONS: tuple[tuple[str, Any, Any], ...] = (
    ("prometheus_url", UrlOpt, None),
    ("queries", QueriesOpt, None),
    ("prometheus_token_file", TokenFileOpt, None),
    ("prometheus_username_file", UserFileOpt, None),
    ("prometheus_password_file", PasswordFileOpt, None),
    ("prometheus_ca_file", CaFileOpt, None),
    ("prometheus_insecure", InsecureOpt, False),
    ("prometheus_timeout", TimeoutOpt, "30s"),
    ("prometheus_max_mib", MaxMibOpt, 64),
)


def prometheus_options(*, timeout: str = "30s") -> Callable[[Command], Command]:
    """Add the Prometheus options to a typer command whose `prometheus` parameter receives them, built."""

    def decorate(fn: Command) -> Command:
        sig = inspect.signature(fn)
        kept = [_resolved(fn, p) for p in sig.parameters.values() if p.name != "prometheus"]
        added = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=timeout if name == "prometheus_timeout"
                              else default, annotation=annotation)
            for name, annotation, default in _OPTIONS
        ]  # fmt: skip

        @functools.wraps(fn)
        def command(*args: Any, **kwargs: Any) -> Any:
            raw = {name: kwargs.pop(name) for name, _, _ in _OPTIONS}
            return fn(*args, prometheus=build_options(**raw), **kwargs)

        params = [*kept, *added]
        command.__signature__ = sig.replace(parameters=params, return_annotation=None)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command  # type: ignore[return-value]

    return decorate


def _resolved(fn: Callable[..., Any], param: inspect.Parameter) -> inspect.Parameter:
    """The parameter with its string annotation evaluated (as inspect's eval_str would; `prometheus` is
    left out before, its type being imported for type checking only)."""
    if isinstance(param.annotation, str):
        return param.replace(annotation=eval(param.annotation, fn.__globals__))
    return param


def build_options(
    prometheus_url: str | None,
    queries: Path | None,
    prometheus_token_file: Path | None,
    prometheus_username_file: Path | None,
    prometheus_password_file: Path | None,
    prometheus_ca_file: Path | None,
    prometheus_insecure: bool,
    prometheus_timeout: str,
    prometheus_max_mib: int,
) -> PrometheusOptions | None:
    """The options, checked (credential files readable, queries file valid); None without a URL."""
    if not prometheus_url:
        return None
    from capacity.learning.prom_http import PrometheusAuth
    from capacity.learning.queries import load_queries
    from capacity.learning.source import PrometheusOptions
    from capacity.learning.window import parse_duration_s

    auth = PrometheusAuth(
        token=None if prometheus_token_file else os.environ.get(ENV_TOKEN) or None,
        token_file=prometheus_token_file,
        username_file=prometheus_username_file,
        password_file=prometheus_password_file,
        ca_file=prometheus_ca_file,
        verify_tls=not prometheus_insecure,
    )
    auth.check()
    return PrometheusOptions(
        url=prometheus_url,
        auth=auth,
        timeout_s=float(parse_duration_s(prometheus_timeout)),
        max_mib=prometheus_max_mib,
        queries=load_queries(queries),
    )
