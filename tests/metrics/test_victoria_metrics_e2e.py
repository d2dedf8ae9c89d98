"""Long-term history: `capctl fit` against a REAL VictoriaMetrics gives the model it gives against Prometheus.

Both servers hold the same `capctl synth` history (the Prometheus end-to-end test's: two plaques, March to
early May 2021 at 15 minutes); VictoriaMetrics gets it through its Prometheus import API. Its PromQL
dialect (MetricsQL) differs at the edges — `rate` without extrapolation, gaps filled over a longer
look-back — so the models must agree within 3 %, not to the bit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from capacity.learning.model_file import Model, load_model
from tests.metrics.test_prometheus_e2e import FIRST, LAST, PLAQUES, SYNTH_ARGS, cli, plaque_args

pytestmark = pytest.mark.prometheus
TOLERANCE = 0.03


@pytest.fixture(scope="module")
def history_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("synth-vm") / "history.om"
    cli("synth", *SYNTH_ARGS, *plaque_args(), "--out", str(out))
    return out.read_text(encoding="utf-8")


def fit_against(url: str, out: Path) -> Model:
    cli("fit", "--prometheus-url", url, "--from", FIRST, "--to", LAST, "--step", "15m", *plaque_args(),
        "--out", str(out))  # fmt: skip
    return load_model(out)


@pytest.fixture(scope="module")
def models(
    history_text: str,
    prometheus_with: Callable[[str], str],
    victoria_metrics_with: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Model, Model]:
    root = tmp_path_factory.mktemp("models")
    prom = fit_against(prometheus_with(history_text), root / "prometheus.json")
    vm = fit_against(victoria_metrics_with(history_text), root / "victoria-metrics.json")
    return prom, vm


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).sum() / np.abs(a).sum())


def test_the_usage_rates_and_levels_agree(models: tuple[Model, Model]) -> None:
    prom, vm = models
    assert vm.fit_window == prom.fit_window
    for pid in PLAQUES:
        assert vm.plaques[pid].fitted and prom.plaques[pid].fitted
        assert relative(prom.rates_for(pid).rates, vm.rates_for(pid).rates) <= TOLERANCE, pid
        np.testing.assert_allclose(vm.plaques[pid].level, prom.plaques[pid].level, rtol=TOLERANCE)


def test_the_component_capacity_agrees(models: tuple[Model, Model]) -> None:
    prom, vm = models
    for pid in PLAQUES:
        assert set(vm.plaques[pid].components) == set(prom.plaques[pid].components)
        for name, p in prom.plaques[pid].components.items():
            v = vm.plaques[pid].components[name]
            assert v.requests_per_user_s == pytest.approx(p.requests_per_user_s, rel=TOLERANCE), (pid, name)
            assert v.rps_per_replica == pytest.approx(p.rps_per_replica, rel=TOLERANCE), (pid, name)
