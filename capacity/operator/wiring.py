"""The composition root: the one place that builds a working operator from its options.

`capctl run` and the tests wire the operator through `build_operator`, so what is tested is what runs:
config source (hot reload), Kubernetes clients, Lease elector, state store, live usage, metrics and the
controller, then the runner with its clock. Everything here is construction; nothing here decides.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from capacity.calendar.types import Calendar
from capacity.common.timegrid import PARIS
from capacity.operator.controller import Controller
from capacity.operator.decide import Mode
from capacity.operator.kube.api import KubeClients, KubeSettings
from capacity.operator.kube.lease import LeaderElector, LeaseSettings
from capacity.operator.kube.state import CONFIGMAP_NAME, StateStore
from capacity.operator.live_usage import LiveUsage
from capacity.operator.ops_metrics import Health, OpsMetrics
from capacity.operator.refit import Fetch, RefitSettings, Refitter, Spawn, in_thread
from capacity.operator.reload import ConfigSource, load_calendar
from capacity.operator.report import TickReport
from capacity.operator.runner import Runner


@dataclass(frozen=True)
class OperatorOptions:
    """What a site chooses when it runs the operator (the CLI's flags and the chart's values)."""

    policies: Path
    mode: Mode
    identity: str
    namespace: str  # where the Lease and the state ConfigMap live
    events: Sequence[Path] = ()
    model: Path | None = None
    lease_name: str = "capctl"
    state_configmap: str = CONFIGMAP_NAME
    kube: KubeSettings = field(default_factory=KubeSettings)
    lease_renew_every_s: float = 5.0
    self_ref: Mapping[str, str] | None = None  # the operator's own object for its Events (default: the Lease)
    timeout_s: tuple[float, float] = (3.0, 10.0)
    cluster_wide_lists: bool = False  # one LIST per kind across namespaces (needs the rights: rbac.clusterWide)
    refit: RefitSettings | None = None  # `--refit weekly`: refit on schedule, write accepted models there


@dataclass
class Operator:
    """The wired operator: the controller (one tick) and the parts a caller may look at or close."""

    controller: Controller
    source: ConfigSource
    clients: KubeClients
    elector: LeaderElector
    metrics: OpsMetrics
    refitter: Refitter | None = None

    def tick(self, now: datetime) -> TickReport:
        return self.controller.tick(now)

    def close(self) -> None:
        self.clients.close()


def default_identity(env: Mapping[str, str] = os.environ) -> str:
    """The pod's name in a cluster, else host and process id."""
    return env.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}"


def default_namespace(env: Mapping[str, str] = os.environ) -> str:
    return env.get("POD_NAMESPACE") or "default"


def self_reference(lease_name: str, namespace: str, env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The object the operator's Events are about: its Pod when it knows it, else its Lease."""
    pod, pod_ns = env.get("POD_NAME"), env.get("POD_NAMESPACE")
    if pod and pod_ns:
        return {"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": pod_ns}
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "name": lease_name, "namespace": namespace}


def build_operator(
    options: OperatorOptions,
    *,
    usage: LiveUsage | None = None,
    calendar_loader: Callable[[Sequence[Path]], Calendar] = load_calendar,
    sleep: Callable[[float], None] = time.sleep,
    refit_fetch: Fetch | None = None,
    refit_spawn: Spawn = in_thread,
) -> Operator:
    """Build every part of the operator; the configuration is loaded once (a broken one raises here).

    With `options.refit`, `refit_fetch` reads the history a refit learns from (Prometheus in `capctl run`).
    """
    refit_path = options.refit.path if options.refit else None
    source = ConfigSource(
        options.policies, options.events, options.model, calendar_loader=calendar_loader, refit_model=refit_path
    )
    source.poll()  # a broken configuration at start-up is fatal (exit 2), later ones are not
    clients = KubeClients(options.kube)
    elector = LeaderElector(
        clients.api(),
        LeaseSettings(
            name=options.lease_name,
            namespace=options.namespace,
            identity=options.identity,
            renew_every_s=options.lease_renew_every_s,
        ),
    )
    metrics = OpsMetrics()
    controller = Controller(
        config=source,
        clients=clients,
        elector=elector,
        state=StateStore(clients.api(), options.namespace, name=options.state_configmap),
        metrics=metrics,
        mode=options.mode,
        usage=usage,
        self_ref=dict(options.self_ref or self_reference(options.lease_name, options.namespace, {})),
        timeout_s=options.timeout_s,
        sleep=sleep,
        cluster_wide_lists=options.cluster_wide_lists,
    )
    refitter = None
    if options.refit is not None:
        if refit_fetch is None:
            raise ValueError("a scheduled refit needs a history source (refit_fetch)")
        refitter = Refitter(options.refit, source, controller, refit_fetch, refit_spawn)
    return Operator(
        controller=controller, source=source, clients=clients, elector=elector, metrics=metrics, refitter=refitter
    )


def operator_clock(start: datetime | None, monotonic: Callable[[], float] = time.monotonic) -> Callable[[], datetime]:
    """Wall clock in Paris, or `start` for the first tick and `start` + elapsed time for the next ones."""
    first_tick: list[float] = []

    def now() -> datetime:
        if start is None:
            return datetime.now(PARIS)
        if not first_tick:
            first_tick.append(monotonic())
            return start
        return start + timedelta(seconds=monotonic() - first_tick[0])

    return now


def build_runner(operator: Operator, tick_s: float, now: Callable[[], datetime]) -> tuple[Runner, Health]:
    """The loop around the controller, with the health it reports on /healthz and /readyz."""
    health = Health(stall_after_s=max(3 * tick_s, 60.0))
    after = operator.refitter.poll if operator.refitter is not None else None
    return Runner(operator.controller, health, tick_s, now, after_tick=after), health
