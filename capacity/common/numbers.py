"""Numbers for people: 611 800 not 6.118e+05, "5 min" not 0.0833 h, "6.1 %" not 0.06149.

One place so that every table, text and report words quantities alike, in English or French
(French: space as thousands separator, decimal comma, space before %).
"""

from __future__ import annotations

import math


def count(value: float, lang: str = "en") -> str:
    """A whole number with thousands separated: 611,800 (en) / 611 800 (fr)."""
    text = f"{round(value):,}"
    return text.replace(",", " ") if lang == "fr" else text


def decimal(value: float, digits: int = 1, lang: str = "en") -> str:
    """A number with `digits` decimals, thousands separated: 1,234.5 (en) / 1 234,5 (fr)."""
    text = f"{value:,.{digits}f}"
    if lang == "fr":
        text = text.replace(",", " ").replace(".", ",")
    return text


def percent(share: float, lang: str = "en") -> str:
    """A share (0.0615) as a percentage with two significant decimals where small: 6.1 %, 0.04 %, 0 %."""
    pct = share * 100
    if pct == 0:
        return "0 %" if lang == "fr" else "0%"
    digits = 1 if abs(pct) >= 1 else 2 if abs(pct) >= 0.01 else 3
    text = decimal(pct, digits, lang)
    return f"{text} %" if lang == "fr" else f"{text}%"


def duration_h(hours: float, lang: str = "en") -> str:
    """A duration in hours as people say it: "5 min", "2 h", "1 h 30 min", "3 days 4 h"."""
    if math.isnan(hours):
        return "-"
    minutes = round(abs(hours) * 60)
    sign = "-" if hours < 0 and minutes else ""
    days, minutes = divmod(minutes, 24 * 60)
    h, m = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(f"{days} {'j' if lang == 'fr' else 'd'}")
    if h:
        parts.append(f"{h} h")
    if m or not parts:
        parts.append(f"{m} min")
    return sign + " ".join(parts)
