"""Each plaque's own day shape (learning/shape.py): a plaque whose pupils work later in the evening than the
shared curve gets its evening back, without moving the day's users, and the model file keeps it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from capacity.calendar.types import STATE_INDEX, DayState
from capacity.common.errors import ConfigError
from capacity.common.timegrid import BASE_STEP_S
from capacity.learning.days import expected, plaque_days
from capacity.learning.model_file import Model, PlaqueFit, load_model, save_model
from capacity.learning.shape import SHRINK_DAYS, plaque_shape, shaped
from capacity.planning.demand import default_rates

P = STATE_INDEX[DayState.PRESENTIEL]
HOURS = np.arange(288) * BASE_STEP_S / 3600
FIRST, LAST = date(2021, 1, 4), date(2021, 3, 26)  # eleven weeks in class (zone C: one holiday fortnight)


def later_evening(curve: np.ndarray) -> np.ndarray:
    """The same day with the evening an hour later (the shape a plaque of lycées alone shows)."""
    return np.where(HOURS >= 16, np.interp(HOURS - 1.0, HOURS, curve), curve)


@pytest.fixture(scope="module")
def collèges(calendar, policies):
    plaque = policies.topology.plaque("seine-maritime")  # collèges: in class all winter
    pd = plaque_days(calendar, plaque, FIRST, LAST)
    days = [FIRST.fromordinal(FIRST.toordinal() + i) for i in range((LAST - FIRST).days + 1)]
    weekday = np.array([d.weekday() for d in days])
    rates = default_rates()
    pred = expected(rates, pd, weekday)
    rng = np.random.default_rng(3)
    y = np.stack([np.stack([later_evening(pred[q, d]) for d in range(len(days))]) for q in range(pred.shape[0])])
    y *= rng.lognormal(0, 0.03, y.shape) * 1.15  # noise, and a volume the shape must leave to the factors
    return pd, y, rates, weekday


def test_a_later_evening_is_learnt_and_moves_no_users(collèges) -> None:
    pd, y, rates, weekday = collèges
    level = np.ones((y.shape[0], y.shape[1]))
    shape = plaque_shape(pd, y, rates, level, weekday, y.shape[1])
    pupils = shape[0, P]
    assert pupils[(HOURS >= 20.5) & (HOURS < 21.5)].mean() > 1.1  # the evening it forecast too low
    assert pupils[(HOURS >= 16.0) & (HOURS < 20.0)].min() < 0.9  # and lower where the shared evening came early
    in_class = (pd.dominant == P) & (weekday < 5) & ~pd.event
    typical = expected(rates, pd, weekday)[0][in_class].mean(axis=0)
    assert (typical * pupils).sum() == pytest.approx(typical.sum(), rel=1e-6)  # shape only, not volume
    after = shaped(rates, shape)
    fixed = expected(after, pd, weekday)[0][in_class].mean(axis=0)
    seen = np.nanmean(y[0][in_class], axis=0) / 1.15
    evening = (HOURS >= 19) & (HOURS < 22)
    before_err = np.abs(np.log(typical[evening] / seen[evening])).mean()
    after_err = np.abs(np.log(fixed[evening] / seen[evening])).mean()
    assert after_err < 0.5 * before_err


def test_a_state_seen_too_rarely_or_not_at_all_keeps_the_shared_shape(collèges) -> None:
    pd, y, rates, weekday = collèges
    shape = plaque_shape(pd, y, rates, np.ones(y.shape[:2]), weekday, 3)  # three days known
    assert (shape == 1.0).all()
    shape = plaque_shape(pd, y, rates, np.ones(y.shape[:2]), weekday, y.shape[1])
    assert (shape[:, STATE_INDEX[DayState.DISTANCIEL]] == 1.0).all()  # never at a distance in the window


def test_a_shape_learnt_on_few_days_is_shrunk(collèges) -> None:
    pd, y, rates, weekday = collèges
    level = np.ones(y.shape[:2])
    full = np.log(plaque_shape(pd, y, rates, level, weekday, y.shape[1])[0, P])
    few = np.log(plaque_shape(pd, y, rates, level, weekday, 14)[0, P])  # about eight class days
    assert np.abs(few).max() < np.abs(full).max()
    assert SHRINK_DAYS > 0


def test_the_model_file_keeps_the_shape_and_refuses_a_broken_one(tmp_path: Path) -> None:
    shape = np.ones((3, len(DayState), 288))
    shape[0, P] = np.linspace(0.8, 1.2, 288)
    fit = PlaqueFit(fitted=True, level=np.ones(3), state_factors=np.ones(len(DayState)), shape=shape)
    model = Model(replace(default_rates(), source="test"), {"occitanie": fit}, (FIRST, LAST))
    path = tmp_path / "m.json"
    save_model(model, path)
    doc = json.loads(path.read_text())
    assert list(doc["plaques"]["occitanie"]["shape"]["eleves"]) == ["presentiel"]  # flat states left out
    back = load_model(path)
    np.testing.assert_allclose(back.rates_for("occitanie").rates, model.rates_for("occitanie").rates, rtol=1e-5)
    np.testing.assert_allclose(
        back.rates_for("occitanie").rates[0, P, 1], default_rates().rates[0, P, 1] * shape[0, P], rtol=1e-5
    )
    doc["plaques"]["occitanie"]["shape"]["eleves"]["presentiel"][5] = -1
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=r"plaques\.occitanie\.shape\.eleves\.presentiel: expected 288 positive"):
        load_model(path)
    doc["plaques"]["occitanie"]["shape"]["eleves"]["presentiel"][5] = 1000.0  # would plan ×1000 at 0:25
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=r"×5 at most either way, found .*1000: a corrupt"):
        load_model(path)
