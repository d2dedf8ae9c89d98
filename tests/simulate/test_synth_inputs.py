"""A synthetic replay is one world: the refits read the history of the generator the demand is drawn from.

`capctl simulate --synth --generator independent --refit weekly` once refitted on the default generator's
history while replaying the independent one's demand (1.20 × the oracle instead of 1.09 ×): the model
learnt another world than the one it planned for.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from capacity.calendar import SchoolCalendar
from capacity.learning.generators import GENERATORS
from capacity.policy.bundle import load_policies
from capacity.simulate.trace import history_trace, synth_history, synth_trace

FIRST, LAST = date(2021, 3, 8), date(2021, 3, 14)


@pytest.mark.parametrize("generator", sorted(GENERATORS))
def test_the_refit_history_is_the_world_the_trace_is_drawn_from(generator: str) -> None:
    calendar = SchoolCalendar.load([])
    plaques = list(load_policies().topology.plaques)[:2]
    trace = synth_trace(calendar, plaques, FIRST, LAST, 300, seed=11, generator=generator)
    history = synth_history(calendar, plaques, date(2021, 2, 22), LAST, seed=11, generator=generator)
    replayed = history_trace(history, plaques, FIRST, LAST, 300)
    # instants where every profile was scraped (elsewhere the trace bridges the gap, the history sums what it has)
    at = (trace.start_s - history.start_s) // history.step_s
    scraped = np.array([np.isfinite(history.sessions[p.id]).all(axis=0)[at : at + trace.n] for p in plaques])
    ok = scraped & np.isfinite(trace.users) & np.isfinite(replayed.users)
    assert ok.mean() > 0.9
    np.testing.assert_allclose(replayed.users[ok], trace.users[ok], rtol=1e-9)


def test_the_two_generators_are_different_worlds() -> None:
    """What makes the test above able to fail: the same seed draws different demand in each generator."""
    calendar = SchoolCalendar.load([])
    plaques = list(load_policies().topology.plaques)[:1]
    a, b = (synth_trace(calendar, plaques, FIRST, LAST, 300, seed=11, generator=g) for g in sorted(GENERATORS))
    assert np.nanmax(np.abs(a.users - b.users) / np.maximum(b.users, 1.0)) > 0.1
