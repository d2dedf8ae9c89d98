"""The replay as JSON (issue 6's shape, plus details) and as a table that fits 100 columns."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from capacity.common.numbers import count, percent
from capacity.simulate.metrics import DayShortfall, Shortfall, StrategyResult
from capacity.simulate.run import SweepPoint


def _day(d: DayShortfall | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "date": d.day.isoformat(),
        "underprovisioned_user_minutes": round(d.underprovisioned_user_minutes, 1),
        "peak_unserved_users": round(d.peak_unserved_users, 1),
    }


def _short(r: StrategyResult, s: Shortfall) -> dict[str, Any]:
    return {
        "user_minutes": round(s.user_minutes, 1),
        "share": r.share(s.user_minutes),
        "plaque_hours": s.plaque_hours,
        "peak_users": round(s.peak_users, 1),
        "beyond_ceiling_user_minutes": round(s.beyond_ceiling_user_minutes, 1),
        "beyond_ceiling_share": r.share(s.beyond_ceiling_user_minutes),
        "own_share": r.share(s.own_user_minutes),
    }


def strategy_dict(r: StrategyResult) -> dict[str, Any]:
    return {
        "strategy": r.strategy,
        "replica_hours": round(r.replica_hours, 2),
        "cost_eur": round(r.cost_eur, 2),
        "underprovisioned_user_minutes": round(r.underprovisioned_user_minutes, 1),
        "short_user_minutes_slo": round(r.slo.user_minutes, 1),
        "short_user_minutes_saturation": round(r.saturation.user_minutes, 1),
        "shortfall": {
            "saturation": _short(r, r.saturation),
            "slo": _short(r, r.slo),
            "headroom_breaches": _short(r, r.headroom),
        },
        "demand_user_minutes": round(r.demand_user_minutes, 1),
        "underprovisioned_share": r.underprovisioned_share,
        "saturated_hours": r.saturated_hours,
        "worst_day": _day(r.worst_day),
        "scaling_actions": r.scaling_actions,
        "cost_ratio_to_oracle": r.cost_ratio_to_oracle,
        "mornings": [_day(m) for m in r.mornings],
        "own_saturation_days": [
            {
                "date": d.day.isoformat(),
                "user_minutes": round(d.user_minutes, 1),
                "plaques": list(d.plaques),
                "hours": list(d.hours),
            }
            for d in r.own_saturation_days
        ],
    }


def report_dict(meta: dict[str, Any], results: Sequence[StrategyResult], sweep: Sequence[SweepPoint]) -> dict[str, Any]:
    return {
        **meta,
        "strategies": [strategy_dict(r) for r in results],
        "sweep": [{"startup_s": p.startup_s, "strategies": [strategy_dict(r) for r in p.results]} for p in sweep],
    }


def report_table(meta: dict[str, Any], results: Sequence[StrategyResult], sweep: Sequence[SweepPoint]) -> str:
    slo = meta.get("slo_utilisation", 0.9)
    most = meta.get("nowcast_most", 1.0)
    nowcast = f"capctl's nowcast up to ×{most:g}" if most > 1 else "no nowcast"
    surprise = f"; the plan did not know {', '.join(meta['surprise'])}" if meta.get("surprise") else ""
    lines = [
        *_prose(
            f"Season replay {meta['from']} → {meta['to']}, demand: {meta['source']}{surprise}, "
            f"start-up delay {meta['startup_s'] // 60} min, step {meta['step_s'] // 60} min, {nowcast}."
        ),
        *_prose(
            f"Users short (share of user-minutes) above saturation — what users feel —, above {slo:.0%} of it "
            "(SLO) and above the operating point (headroom breaches); plaque-hours and peak users at saturation."
        ),
        f"{'strategy':<8} {'replica-h':>10} {'cost €':>9} {'×oracle':>7} {'saturat.':>9} {'slo':>8} "
        f"{'headroom':>8} {'sat. p-h':>8} {'peak u.':>8} {'actions':>7}",
    ]
    for r in results:
        lines.append(
            f"{r.strategy:<8} {r.replica_hours:>10.0f} {r.cost_eur:>9.0f} {_ratio(r):>7} "
            f"{_pct(r, r.saturation):>9} {_pct(r, r.slo):>8} {_pct(r, r.headroom):>8} "
            f"{r.saturation.plaque_hours:>8d} {count(r.saturation.peak_users):>8} {r.scaling_actions:>7d}"
        )
    lines.extend(_beyond_ceiling(results))
    lines.extend(_own_days(results))
    worst = [f"{r.strategy} {r.worst_day.day}" for r in results if r.worst_day]
    if worst:
        lines.extend(_prose("worst day (headroom breaches): " + ", ".join(worst)))
    for n in meta.get("hpa_notes", ()):
        lines.extend(_prose(f"note: {n}"))
    refits = meta.get("refit")
    if isinstance(refits, dict) and refits.get("refits"):
        lines.append(
            f"weekly refit: {refits['refits']} refits, {refits['accepted']} accepted, {refits['rejected']} rejected"
        )
    days = [m.day for m in results[0].mornings] if results else []
    if days:
        lines.append("")
        lines.append("Mornings (6-12 h), under-provisioned user-minutes / peak users not served:")
        lines.append(f"{'strategy':<8} " + " ".join(f"{d.isoformat():>24}" for d in days))
        for r in results:
            cells = [f"{m.underprovisioned_user_minutes:>12.4g} / {m.peak_unserved_users:>9.4g}" for m in r.mornings]
            lines.append(f"{r.strategy:<8} " + " ".join(cells))
    if sweep:
        lines.append("")
        lines.append("Start-up delay sweep: share of user-minutes above saturation, cost × oracle")
        lines.append(f"{'strategy':<8} " + " ".join(f"{p.startup_s // 60:>10} min    " for p in sweep))
        for i, r in enumerate(results):
            cells = [f"{_pct(p.results[i], p.results[i].saturation):>8} ×{_ratio(p.results[i]):>5}" for p in sweep]
            lines.append(f"{r.strategy:<8} " + " ".join(f"{c:>17}" for c in cells))
    return "\n".join(lines)


def _beyond_ceiling(results: Sequence[StrategyResult]) -> list[str]:
    """What the mandates' ceilings kept out under every strategy, and each strategy's own share."""
    if not results or results[0].headroom.beyond_ceiling_user_minutes <= 0:
        return []
    r0 = results[0]
    sat, op = r0.saturation.beyond_ceiling_user_minutes, r0.headroom.beyond_ceiling_user_minutes
    own = ", ".join(f"{r.strategy} {_own(r, r.saturation)} / {_own(r, r.headroom)}" for r in results)
    text = (
        f"Beyond the mandates' ceilings, short under every strategy: {percent(r0.share(sat))} above saturation, "
        f"{percent(r0.share(op))} above the operating point. Each strategy's own (saturation / headroom): {own}"
    )
    return _prose(text)


def _prose(text: str) -> list[str]:
    """Sentences for a terminal: wrapped at the table's 100 columns, continuation lines indented."""
    return textwrap.wrap(text, width=100, subsequent_indent="  ", break_on_hyphens=False)


def _own_days(results: Sequence[StrategyResult]) -> list[str]:
    """Where capctl's own users above saturation were: the days to look at."""
    capctl = next((r for r in results if r.strategy == "capctl"), None)
    if capctl is None or not capctl.own_saturation_days:
        return []
    total = capctl.saturation.own_user_minutes
    days = "; ".join(
        f"{d.day} {', '.join(d.plaques)} {'/'.join(f'{h} h' for h in d.hours)} ({d.user_minutes / total:.0%})"
        for d in capctl.own_saturation_days
    )
    return _prose(f"capctl's own users above saturation, worst days (share of its own): {days}")


def _own(r: StrategyResult, s: Shortfall) -> str:
    return percent(r.share(s.own_user_minutes))


def _pct(r: StrategyResult, s: Shortfall) -> str:
    return percent(r.share(s.user_minutes))  # 6.1%, 0.04%: for people


def _ratio(r: StrategyResult) -> str:
    return "-" if r.cost_ratio_to_oracle is None else f"{r.cost_ratio_to_oracle:.2f}"
