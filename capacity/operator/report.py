"""What one tick did, per component and as a whole: the value the CLI prints and the runner counts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from capacity.operator.decide import Decision, Mode, Planned
from capacity.operator.kube.observe import Observed, TargetRef


@dataclass(frozen=True)
class ComponentReport:
    target: TargetRef
    mode: Mode
    status: str  # applied | unchanged | recommended | failed | skipped | held
    decision: Decision | None = None
    planned: Planned | None = None
    before: Observed | None = None
    spec: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class TickReport:
    now: datetime
    leader: bool
    components: tuple[ComponentReport, ...] = ()
    errors: tuple[str, ...] = ()
    aborted: str | None = None
    config_version: str = ""

    @property
    def ok(self) -> bool:
        bad = ("failed", "held", "skipped")
        return (
            self.leader
            and self.aborted is None
            and not self.errors
            and all(c.status not in bad for c in self.components)
        )

    @property
    def failed(self) -> bool:
        """A leader's tick that did nothing useful: aborted, nothing planned, or every component failed."""
        if not self.leader:
            return False
        return self.aborted is not None or all(c.status in ("failed", "held") for c in self.components)
