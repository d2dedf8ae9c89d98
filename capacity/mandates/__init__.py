"""Mandates: what each collectivité allows on the plaques it funds (floors, ceilings, budget...)."""

from capacity.mandates.loader import load_mandates
from capacity.mandates.model import ComponentLimits, Funding, Mandate

__all__ = ["ComponentLimits", "Funding", "Mandate", "load_mandates"]
