"""The synthetic histories capctl can generate, by name (`capctl synth --generator`, benchmarks, simulate)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from capacity.calendar.types import Calendar
from capacity.common.arrays import FloatArray
from capacity.common.errors import InputError
from capacity.learning import synth, synth_independent
from capacity.learning.synth import Synth, SynthOptions
from capacity.policy.topology import Plaque

Generator = Callable[[Calendar, Sequence[Plaque], date, date, SynthOptions], Synth]
#: (calendar, plaque, first, last, seed, known_days) -> users [profile, 5-minute instant]
Expectation = Callable[[Calendar, Plaque, date, date, int, int], FloatArray]

#: default: synth.py (issue 3's generator); independent: synth_independent.py, written from other assumptions.
GENERATORS: dict[str, Generator] = {"default": synth.generate, "independent": synth_independent.generate}
#: Each generator's own expectation at a horizon: the noise floor a forecast is measured against (bench/).
EXPECTATIONS: dict[str, Expectation] = {
    "default": synth.expected_users,
    "independent": synth_independent.expected_users,
}


def generator(name: str) -> Generator:
    """The generator called `name`, or a one-line error listing the choices."""
    try:
        return GENERATORS[name]
    except KeyError:
        raise InputError(f"unknown generator {name!r}: choose from {', '.join(GENERATORS)}") from None
