"""The replay as JSON (issue 6's shape, plus details) and as a table that fits 100 columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from capacity.common.numbers import count, percent
from capacity.simulate.metrics import DayShortfall, StrategyResult
from capacity.simulate.run import SweepPoint


def _day(d: DayShortfall | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "date": d.day.isoformat(),
        "underprovisioned_user_minutes": round(d.underprovisioned_user_minutes, 1),
        "peak_unserved_users": round(d.peak_unserved_users, 1),
    }


def strategy_dict(r: StrategyResult) -> dict[str, Any]:
    return {
        "strategy": r.strategy,
        "replica_hours": round(r.replica_hours, 2),
        "cost_eur": round(r.cost_eur, 2),
        "underprovisioned_user_minutes": round(r.underprovisioned_user_minutes, 1),
        "demand_user_minutes": round(r.demand_user_minutes, 1),
        "underprovisioned_share": r.underprovisioned_share,
        "saturated_hours": r.saturated_hours,
        "worst_day": _day(r.worst_day),
        "scaling_actions": r.scaling_actions,
        "cost_ratio_to_oracle": r.cost_ratio_to_oracle,
        "mornings": [_day(m) for m in r.mornings],
    }


def report_dict(meta: dict[str, Any], results: Sequence[StrategyResult], sweep: Sequence[SweepPoint]) -> dict[str, Any]:
    return {
        **meta,
        "strategies": [strategy_dict(r) for r in results],
        "sweep": [{"startup_s": p.startup_s, "strategies": [strategy_dict(r) for r in p.results]} for p in sweep],
    }


def report_table(meta: dict[str, Any], results: Sequence[StrategyResult], sweep: Sequence[SweepPoint]) -> str:
    lines = [
        f"Season replay {meta['from']} → {meta['to']}, demand: {meta['source']}, "
        f"start-up delay {meta['startup_s'] // 60} min, step {meta['step_s'] // 60} min",
        f"{'strategy':<8} {'replica-h':>10} {'cost €':>10} {'×oracle':>7} {'short u·min':>12} "
        f"{'share':>8} {'sat. h':>6} {'actions':>7}  worst day",
    ]
    for r in results:
        worst = f"{r.worst_day.day} ({count(r.worst_day.underprovisioned_user_minutes)})" if r.worst_day else "-"
        lines.append(
            f"{r.strategy:<8} {r.replica_hours:>10.0f} {r.cost_eur:>10.0f} {_ratio(r):>7} "
            f"{count(r.underprovisioned_user_minutes):>12} {percent(r.underprovisioned_share):>8} "
            f"{r.saturated_hours:>6d} {r.scaling_actions:>7d}  {worst}"
        )
    days = [m.day for m in results[0].mornings] if results else []
    if days:
        lines.append("")
        lines.append("Mornings (6-12 h), under-provisioned user-minutes / peak users not served:")
        lines.append(f"{'strategy':<8} " + " ".join(f"{d.isoformat():>24}" for d in days))
        for r in results:
            cells = [
                f"{count(m.underprovisioned_user_minutes):>12} / {count(m.peak_unserved_users):>9}" for m in r.mornings
            ]
            lines.append(f"{r.strategy:<8} " + " ".join(cells))
    if sweep:
        lines.append("")
        lines.append("Start-up delay sweep: under-provisioned share of demand, cost × oracle")
        lines.append(f"{'strategy':<8} " + " ".join(f"{p.startup_s // 60:>10} min    " for p in sweep))
        for i, r in enumerate(results):
            cells = [f"{percent(p.results[i].underprovisioned_share):>8} ×{_ratio(p.results[i]):>5}" for p in sweep]
            lines.append(f"{r.strategy:<8} " + " ".join(f"{c:>17}" for c in cells))
    return "\n".join(lines)


def _ratio(r: StrategyResult) -> str:
    return "-" if r.cost_ratio_to_oracle is None else f"{r.cost_ratio_to_oracle:.2f}"
