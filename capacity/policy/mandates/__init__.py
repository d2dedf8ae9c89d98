"""Mandates: what each collectivité funds, guarantees, caps and pays on the plaques (floors, ceilings,
budget, exceptions, shortfall policy), how they are read and checked, and how funders combine."""

from capacity.policy.mandates.loader import load_mandates, read_mandate
from capacity.policy.mandates.model import (
    ComponentLimits,
    ExamPeriod,
    Funding,
    MaintenanceWindow,
    Mandate,
    Quota,
    ShortfallPolicy,
    TimeRange,
    Validity,
)

__all__ = [
    "ComponentLimits",
    "ExamPeriod",
    "Funding",
    "MaintenanceWindow",
    "Mandate",
    "Quota",
    "ShortfallPolicy",
    "TimeRange",
    "Validity",
    "load_mandates",
    "read_mandate",
]
