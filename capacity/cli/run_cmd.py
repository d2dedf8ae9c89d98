"""`capctl run`: the in-cluster operator (control loop), or one tick with --once."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from capacity.cli import app
from capacity.cli.common import EventsOpt, PoliciesOpt
from capacity.cli.prom_opts import prometheus_options

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date, datetime

    from capacity.learning.history import History
    from capacity.learning.source import PrometheusOptions
    from capacity.operator.refit import Fetch, RefitSettings
    from capacity.operator.report import TickReport
    from capacity.policy.topology import Plaque


class ModeOpt(StrEnum):
    recommend = "recommend"
    floor = "floor"
    direct = "direct"


class LogFormat(StrEnum):
    json = "json"
    text = "text"


@app.command()
@prometheus_options(timeout="5s")
def run(
    policies: PoliciesOpt = None,
    events: EventsOpt = None,
    model: Annotated[Path | None, typer.Option("--model", help="usage-rate model file", dir_okay=False)] = None,
    mode: Annotated[ModeOpt, typer.Option("--mode", help="recommend (writes nothing), floor or direct")] = (
        ModeOpt.recommend
    ),
    tick: Annotated[float, typer.Option("--tick", min=1.0, help="seconds between ticks")] = 60.0,
    metrics_address: Annotated[str, typer.Option("--metrics-address")] = "0.0.0.0",
    metrics_port: Annotated[int, typer.Option("--metrics-port", help="/metrics, /healthz, /readyz")] = 9090,
    lease_name: Annotated[str, typer.Option("--lease-name")] = "capctl",
    lease_namespace: Annotated[str | None, typer.Option("--lease-namespace", help="default: $POD_NAMESPACE")] = None,
    state_configmap: Annotated[
        str, typer.Option("--state-configmap", help="ConfigMap (lease namespace) holding the stabilisation state")
    ] = "capctl-state",
    identity: Annotated[str | None, typer.Option("--identity", help="default: $POD_NAME")] = None,
    cluster_wide_lists: Annotated[
        bool,
        typer.Option(
            "--cluster-wide-lists",
            help="read workloads with one LIST across namespaces per kind (needs cluster-wide list rights: "
            "the chart's rbac.clusterWide); default one LIST per namespace",
        ),
    ] = False,
    once: Annotated[bool, typer.Option("--once", help="run one tick, print it, exit")] = False,
    now: Annotated[
        str | None, typer.Option("--now", help="act as if at this ISO time, e.g. 2021-04-26T06:30+02:00")
    ] = (None),
    kubeconfig: Annotated[Path | None, typer.Option("--kubeconfig", dir_okay=False)] = None,
    context: Annotated[str | None, typer.Option("--context", help="kubeconfig context")] = None,
    log_format: Annotated[LogFormat, typer.Option("--log-format")] = LogFormat.json,
    refit: Annotated[
        str | None,
        typer.Option("--refit", help="weekly|never: refit on Sundays 3 h (default: weekly with --prometheus-url)"),
    ] = None,
    refit_model: Annotated[
        Path | None, typer.Option("--refit-model", dir_okay=False, help="where accepted refits are written")
    ] = None,
    prometheus: PrometheusOptions | None = None,
) -> None:
    """Raise capacity before the rush, within the mandates: plan, decide and act every tick."""
    import logging

    from capacity.common.errors import InputError
    from capacity.operator.decide import Mode
    from capacity.operator.kube.api import KubeSettings
    from capacity.operator.live_usage import PrometheusUsage
    from capacity.operator.logs import setup_logging
    from capacity.operator.ops_metrics import serve
    from capacity.operator.wiring import (
        OperatorOptions,
        build_operator,
        build_runner,
        default_identity,
        default_namespace,
        operator_clock,
        self_reference,
    )
    from capacity.planning.nowcast import tick_too_slow
    from capacity.policy.bundle import default_policies_dir

    setup_logging(log_format.value)
    start = _parse_now(now) if now else None
    if model is not None and not model.is_file():
        raise InputError(f"file {model} not found")
    refit_choice = refit or ("weekly" if prometheus else "never")
    if refit_choice not in ("weekly", "never"):
        raise InputError(f"--refit must be weekly or never, got {refit!r}")
    if refit_choice == "weekly" and prometheus is None:
        raise InputError("--refit weekly needs --prometheus-url: the history the model is refitted on")
    ident = identity or default_identity()
    namespace = lease_namespace or default_namespace()

    log = logging.getLogger("capctl.run")
    facts = {
        "mode": mode.value,
        "tick_s": tick,
        "identity": ident,
        "lease": f"{namespace}/{lease_name}",
        "state": f"{namespace}/{state_configmap}",
        "prometheus": prometheus.url if prometheus else None,
        "queries": prometheus.queries.source if prometheus else None,
        "once": once,
        "now": start.isoformat() if start else None,
        "refit": refit_choice,
    }
    log.info("starting", extra={"fields": facts})
    if prometheus is None:
        log.warning("no --prometheus-url: scale-down follows the forecast alone (no live-usage guard)")
    elif not once and (slow := tick_too_slow(tick)):
        log.warning(slow)
    usage = None
    if prometheus is not None:
        usage = PrometheusUsage(
            prometheus.url,
            prometheus.auth,
            query=prometheus.queries.live_promql(),
            plaque_label=prometheus.queries.labels["plaque"],
            timeout_s=prometheus.timeout_s,
            max_mib=prometheus.max_mib,
        )
    options = OperatorOptions(
        policies=policies or default_policies_dir(),
        events=tuple(events or ()),
        model=model,
        mode=Mode(mode.value),
        identity=ident,
        namespace=namespace,
        lease_name=lease_name,
        state_configmap=state_configmap,
        kube=KubeSettings(kubeconfig=kubeconfig, context=context, user_agent=f"capctl/{ident}"),
        self_ref=self_reference(lease_name, namespace),
        cluster_wide_lists=cluster_wide_lists,
        refit=_refit_settings(refit_model) if refit_choice == "weekly" else None,
    )
    fetch = None
    if refit_choice == "weekly":
        assert prometheus is not None
        fetch = _refit_fetch(prometheus)
    operator = build_operator(options, usage=usage, refit_fetch=fetch)
    runner, health = build_runner(operator, tick, operator_clock(start))
    if once:
        report = runner.run_once()
        operator.close()
        if report is not None:
            typer.echo(report_table(report))
            if not report.ok:
                raise typer.Exit(1)
        return
    server = serve(operator.metrics, health, metrics_address, metrics_port)
    runner.install_signals()
    try:
        runner.run_forever()
    finally:
        server.shutdown()
        operator.close()


def _refit_settings(path: Path | None) -> RefitSettings:
    from capacity.operator.refit import DEFAULT_REFIT_MODEL, RefitSettings

    return RefitSettings(path=path or DEFAULT_REFIT_MODEL)


def _refit_fetch(prometheus: PrometheusOptions) -> Fetch:
    """The history a refit learns from: the same fetch as `capctl fit`, at 5-minute resolution (the
    credential files are read at every request: a week is long enough for a Secret to rotate)."""
    from capacity.learning.pipeline import fetch_for_fit

    def fetch(plaques: Sequence[Plaque], first: date, last: date) -> History:
        return fetch_for_fit(prometheus.source(), prometheus.queries, plaques, first, last, 300)

    return fetch


def _parse_now(text: str) -> datetime:
    """--now: an aware ISO time inside the calendar's range (one line now, not a failing tick later)."""
    from capacity.calendar import SUPPORTED_FROM, SUPPORTED_TO
    from capacity.common.errors import InputError
    from capacity.common.timegrid import local_day, parse_moment

    moment = parse_moment(text, "--now")
    day = local_day(moment)
    if not SUPPORTED_FROM <= day <= SUPPORTED_TO:
        raise InputError(f"--now: date {day} is outside the supported range {SUPPORTED_FROM} to {SUPPORTED_TO}")
    return moment


def report_table(report: TickReport) -> str:
    """One line per component: what was in force, what the operator set (or would), and why."""
    head = f"tick at {report.now.isoformat()} — config {report.config_version}"
    if not report.leader:
        why = f": {report.aborted}" if report.aborted else ""
        return f"{head}\nnot the leader{why}; nothing written"
    lines = [
        head,
        f"{'plaque':26} {'component':10} {'mode':9} {'current':>7} {'set':>4} {'max':>4}  status       reasons",
    ]
    for c in report.components:
        d = c.decision
        cur = "-" if d is None or d.current is None else str(d.current)
        val = "-" if d is None else str(d.replicas)
        top = "-" if d is None else str(d.ceiling)
        why = ", ".join(d.reasons) if d is not None else ""
        if c.error:
            why = (why + "; " if why else "") + c.error
        where = f"{c.target.plaque:26} {c.target.component:10} {c.mode.value:9}"
        lines.append(f"{where} {cur:>7} {val:>4} {top:>4}  {c.status:12} {why}")
    lines.extend(f"error: {e}" for e in report.errors)
    if report.aborted:
        lines.append(f"aborted: {report.aborted}")
    return "\n".join(lines)
