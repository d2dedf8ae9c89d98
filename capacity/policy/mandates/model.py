"""Mandate values: what one collectivité funds, guarantees, caps and pays, and whom it admits first.

One file per collectivité (and per period: a renewed mandate is a new file with its own `validite`).
The planner combines the funders of a plaque (see capacity/planning/combine.py); these values only say
what each mandate allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time

from capacity.calendar.types import Level

KINDS = ("region", "departement", "commune")
#: Admission order when no `penurie.ordre_admission` is given: teachers and pupils share, then parents.
DEFAULT_ADMISSION: tuple[tuple[str, ...], ...] = (("enseignants", "eleves"), ("parents",))
DEFAULT_CLASS_HOURS = "08:00-18:00"


@dataclass(frozen=True)
class TimeRange:
    """A local (Europe/Paris) time range within a day, [start, end) in minutes after midnight."""

    start_min: int
    end_min: int

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """'07:30-17:30' or '7h30-17h30' (already checked by the schema)."""
        left, right = text.replace("h", ":").split("-")
        return cls(_minutes(left), _minutes(right))

    def __str__(self) -> str:
        return f"{self.start_min // 60:02d}:{self.start_min % 60:02d}-{self.end_min // 60:02d}:{self.end_min % 60:02d}"

    def contains(self, t: time) -> bool:
        m = t.hour * 60 + t.minute
        return self.start_min <= m < self.end_min


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


@dataclass(frozen=True)
class ComponentLimits:
    """Floor (guaranteed replicas), ceiling (most replicas it pays for) and an optional floor in users.

    `floor_users`: connected users served for sure during class hours; the planner converts it into
    replicas of this component with `sizing.users_served`.
    """

    floor: int
    ceiling: int
    floor_users: float | None = None


@dataclass(frozen=True)
class Funding:
    """The part of a plaque a collectivité funds: levels, and départements (empty = all of the plaque)."""

    plaque: str
    levels: tuple[Level, ...]
    departements: tuple[str, ...] = ()

    def covers(self, level: Level, departement: str) -> bool:
        return level in self.levels and (not self.departements or departement in self.departements)


@dataclass(frozen=True)
class Validity:
    """Dates (inclusive) during which a mandate applies; `end` None = open-ended."""

    start: date
    end: date | None = None

    def contains(self, d: date) -> bool:
        return self.start <= d and (self.end is None or d <= self.end)

    def overlaps(self, other: Validity) -> bool:
        far = date.max
        return self.start <= (other.end or far) and other.start <= (self.end or far)


@dataclass(frozen=True)
class ExamPeriod:
    """A higher floor during class hours of the weekdays from `start` to `end` (inclusive)."""

    name: str
    start: date
    end: date
    plaque: str | None  # None = every plaque the mandate funds
    floor_users: float | None
    floors: Mapping[str, int]  # component → replicas

    def applies(self, plaque: str, d: date) -> bool:
        return (self.plaque is None or self.plaque == plaque) and self.start <= d <= self.end and d.weekday() < 5


@dataclass(frozen=True)
class MaintenanceWindow:
    """From `start` to `end` (aware, Europe/Paris) the plaque's capacity must not go down.

    The operator reads these (`Policies.maintenance_windows`) to hold scale-down; the planner holds the
    plaque's total and charges the replicas it keeps to the mandate that asked for the window.
    """

    name: str
    start: datetime
    end: datetime
    plaque: str | None
    components: tuple[str, ...] = ()  # empty = every component
    mandate_id: str = ""

    def applies_to(self, plaque: str, component: str) -> bool:
        return (self.plaque is None or self.plaque == plaque) and (not self.components or component in self.components)


@dataclass(frozen=True)
class Quota:
    """What a profile gets when capacity is short: a share of it at most, and hours it is kept out."""

    max_share: float | None = None
    closed: tuple[TimeRange, ...] = ()


@dataclass(frozen=True)
class ShortfallPolicy:
    """Admission when demand exceeds what the mandate pays for: groups in order, then per-profile quotas."""

    order: tuple[tuple[str, ...], ...] = DEFAULT_ADMISSION
    quotas: Mapping[str, Quota] = field(default_factory=dict)


@dataclass(frozen=True)
class Contact:
    name: str
    role: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Mandate:
    """What one collectivité allows. `sha256` is the content hash of its file (audit trail)."""

    id: str
    kind: str
    code: str
    name: str
    fundings: tuple[Funding, ...]
    limits: Mapping[str, Mapping[str, ComponentLimits]]  # plaque → component → limits
    path: str
    sha256: str
    validity: Validity = Validity(date.min)
    floor_users: Mapping[str, float] = field(default_factory=dict)  # plaque → users, every component
    class_hours: TimeRange = TimeRange(8 * 60, 18 * 60)  # DEFAULT_CLASS_HOURS
    monthly_budget_eur: float | None = None
    exams: tuple[ExamPeriod, ...] = ()
    maintenance: tuple[MaintenanceWindow, ...] = ()
    shortfall: ShortfallPolicy = ShortfallPolicy()
    contacts: tuple[Contact, ...] = ()

    def funding_for(self, plaque: str) -> Funding | None:
        for f in self.fundings:
            if f.plaque == plaque:
                return f
        return None

    def component_floor_users(self, plaque: str, component: str) -> float | None:
        """Users to serve during class hours on this component: its own value, else the funding's."""
        own = self.limits.get(plaque, {}).get(component)
        if own is not None and own.floor_users is not None:
            return own.floor_users
        return self.floor_users.get(plaque)
