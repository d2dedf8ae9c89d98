"""The fitted model file: versioned, human-readable JSON that `plan`, `forecast`, `backtest` and the operator read.

JSON rather than YAML: 36,288 rate values load in milliseconds (a line-tracking YAML parse takes
seconds), and every curve is one line of 288 numbers, so a diff shows which state and weekday moved.
Layout (version 1):
  version, kind, source {prometheus, queries, step_s}, fit_window {from, to}, slot_s, profiles, states,
  weekdays, relative_error {ordinary, event},
  rates[profile][state][weekday] = 288 fractions of accounts connected, slot 0 = 00:00 Paris time,
  surges[rentree|bascule][state] = 288 multipliers, extra_error (optional) {state|rentree|bascule|summer_rentree:
  {state: relative std added to a day's band}}, summer_surge (optional)[state] = 288 multipliers of the September
  rentrée, origin {rates, surges}: how each curve was obtained,
  plaques[id] = {fitted, level[profile], state_factors[state], components[name] {...}, note, recent_states
  (optional), level_year (optional: the school year the level was read on), shape (optional)[profile][state] =
  288 multipliers of the plaque's own day shape (learning/shape.py; states without one are left out)}, notes.
A plaque forecasts with the shared rates × its level (per profile) × its factor (per state) × its shape.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from capacity.calendar.types import DayState
from capacity.common.arrays import FloatArray
from capacity.common.errors import CapctlError, ConfigError
from capacity.common.files import read_bounded, write_atomic
from capacity.common.timegrid import BASE_STEP_S, SLOTS_PER_DAY
from capacity.common.yamlio import load_yaml_file
from capacity.learning.components import ComponentFit
from capacity.learning.pooling import with_new_states
from capacity.planning.demand import FLAGS, WEEKDAYS, UsageRates, rates_from_spec
from capacity.policy.bundle import Policies
from capacity.policy.topology import PROFILES

VERSION = 1
KIND = "capctl-usage-model"
MAX_BYTES = 5_000_000
STATES = tuple(s.value for s in DayState)
SHAPE_MOST = 5.0  # the fit bends at most e^0.5 ≈ 1.65 (learning/shape.py); beyond ×5 a file is not a fit's


@dataclass(frozen=True)
class PlaqueFit:
    fitted: bool
    level: FloatArray  # [profile]
    state_factors: FloatArray  # [state]
    components: Mapping[str, ComponentFit] = field(default_factory=dict)
    note: str = ""
    recent_states: tuple[str, ...] = ()  # class states the plaque was in over the fit's last weeks
    level_year: int | None = None  # school year the level was read on (a later one widens the band)
    shape: FloatArray | None = None  # [profile, state, slot] the plaque's own day shape (learning/shape.py)


@dataclass(frozen=True)
class Model:
    rates: UsageRates  # shared by every plaque
    plaques: Mapping[str, PlaqueFit]
    fit_window: tuple[date, date]
    source: Mapping[str, Any] = field(default_factory=dict)
    origin: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    path: str = ""

    def rates_for(self, plaque_id: str) -> UsageRates:
        """What one plaque forecasts with: shared rates × level per profile × factor per state.

        A plaque the model does not know (or could not fit) gets the shared rates as they are.
        """
        fit = self.plaques.get(plaque_id)
        if fit is None:
            return self.rates
        scale = fit.level[:, None, None, None] * fit.state_factors[None, :, None, None]
        if fit.shape is not None:
            scale = scale * fit.shape[:, :, None, :]
        mine = replace(self.rates, rates=self.rates.rates * scale, level_year=fit.level_year)
        recent = frozenset(STATES.index(s) for s in fit.recent_states if s in STATES)
        return with_new_states(mine, recent)

    def rates_by_plaque(self, plaque_ids: Sequence[str]) -> dict[str, UsageRates]:
        return {p: self.rates_for(p) for p in plaque_ids}

    def apply(self, policies: Policies) -> Policies:
        """The policies with fitted requests per user and capacity per replica (where measured)."""
        plaques = []
        for plaque in policies.topology.plaques:
            fit = self.plaques.get(plaque.id)
            comps = []
            for c in plaque.components:
                cf = fit.components.get(c.name) if fit else None
                if cf is not None:
                    c = replace(
                        c,
                        requests_per_user_s=cf.requests_per_user_s or c.requests_per_user_s,
                        rps_per_replica=cf.rps_per_replica or c.rps_per_replica,
                    )
                comps.append(c)
            plaques.append(replace(plaque, components=tuple(comps)))
        return replace(policies, topology=replace(policies.topology, plaques=tuple(plaques)))


def save_model(model: Model, path: Path) -> None:
    """Write `model` as version-1 JSON (one line per curve), atomically."""
    r = model.rates
    doc: dict[str, Any] = {
        "version": VERSION,
        "kind": KIND,
        "source": dict(model.source),
        "fit_window": {"from": model.fit_window[0].isoformat(), "to": model.fit_window[1].isoformat()},
        "slot_s": BASE_STEP_S,
        "slot_0": "00:00 local time, Europe/Paris",
        "profiles": list(PROFILES),
        "states": list(STATES),
        "weekdays": list(WEEKDAYS),
        "relative_error": {"ordinary": _num(r.relative_error[0]), "event": _num(r.relative_error[1])},
        "rates": {
            p: {s: {w: _curve(r.rates[q, k, d]) for d, w in enumerate(WEEKDAYS)} for k, s in enumerate(STATES)}
            for q, p in enumerate(PROFILES)
        },
        "surges": {f: {s: _curve(r.surge[i, k]) for k, s in enumerate(STATES)} for i, f in enumerate(FLAGS)},
        **({} if r.extra_error is None else {"extra_error": _extra_doc(r.extra_error)}),
        **(
            {}
            if r.summer_surge is None
            else {"summer_surge": {s: _curve(r.summer_surge[k]) for k, s in enumerate(STATES)}}
        ),
        "origin": dict(model.origin),
        "plaques": {pid: _plaque_doc(fit) for pid, fit in model.plaques.items()},
        "notes": list(model.notes),
    }
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    text = re.sub(r"\[\s+([^\[\]{}\"]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    write_atomic(path, text + "\n", "model file")


def is_fitted_model(path: Path) -> bool:
    """Whether `path` looks like a model file written by `capctl fit` (its kind comes first)."""
    if not path.is_file():  # a FIFO or a device: not a model, and never opened (a FIFO would block)
        return False
    try:
        with path.open("rb") as f:
            head = f.read(512).decode("utf-8", errors="replace")
    except OSError:
        return False
    return head.lstrip().startswith("{") and f'"{KIND}"' in head


def load_model(path: Path) -> Model:
    """Read a model file; every problem is a ConfigError naming the file and the field."""
    where = str(path)
    try:
        doc = json.loads(read_bounded(path, MAX_BYTES, "model file").decode("utf-8"))
    except RecursionError:
        raise ConfigError("nested too deep: not a capctl model file", path=where) from None
    except UnicodeDecodeError:
        raise ConfigError("model file is not UTF-8 text", path=where) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON: {exc.msg}", path=where, line=exc.lineno) from None
    except OSError as exc:
        raise ConfigError(f"cannot read model file: {exc.strerror}", path=where) from None
    return parse_model(doc, where)


def parse_model(doc: Any, where: str) -> Model:
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise ConfigError(
            f'not a capctl model file (expected "kind": "{KIND}"); make one with `capctl fit`', path=where
        )
    if doc.get("version") != VERSION:
        raise ConfigError(
            f"model file version {doc.get('version')!r} is not supported (this capctl reads version {VERSION}): "
            "refit it with this capctl",
            path=where,
        )
    rates = np.array(
        [[[_read_curve(doc, ("rates", p, s, w), where) for w in WEEKDAYS] for s in STATES] for p in PROFILES]
    )
    surge = np.array([[_read_curve(doc, ("surges", f, s), where) for s in STATES] for f in FLAGS])
    err = _get(doc, ("relative_error",), where)
    rel = np.array([_positive(err, "ordinary", where), _positive(err, "event", where)])
    window = _get(doc, ("fit_window",), where)
    try:
        fit_window = (date.fromisoformat(window["from"]), date.fromisoformat(window["to"]))
    except (KeyError, TypeError, ValueError):
        raise ConfigError('fit_window: expected {"from": YYYY-MM-DD, "to": YYYY-MM-DD}', path=where) from None
    source = doc.get("source") or {}
    label = f"model {where} (fit {fit_window[0]} to {fit_window[1]})"
    extra = _read_extra(doc.get("extra_error"), where)
    summer = np.array([_read_curve(doc, ("summer_surge", s), where) for s in STATES]) if "summer_surge" in doc else None
    usage = UsageRates(rates, surge, rel, label, extra_error=extra, summer_surge=summer)
    plaques = {str(pid): _read_plaque(raw, str(pid), where) for pid, raw in (doc.get("plaques") or {}).items()}
    notes = tuple(str(n) for n in doc.get("notes") or [])
    return Model(usage, plaques, fit_window, source, doc.get("origin") or {}, notes, where)


EXTRA_ROWS = ("state", *FLAGS, "summer_rentree")  # absent from older files: zeros, the rentrée's band applies


def _extra_doc(extra: FloatArray) -> dict[str, dict[str, float]]:
    return {row: {s: _num(extra[i, k]) for k, s in enumerate(STATES)} for i, row in enumerate(EXTRA_ROWS)}


def _read_extra(node: Any, where: str) -> FloatArray | None:
    """Optional `extra_error {state|rentree|bascule|summer_rentree: {state: relative std}}` (absent: nothing)."""
    if node is None:
        return None
    if not isinstance(node, dict):
        raise ConfigError("extra_error: expected a mapping", path=where)
    out = np.zeros((len(EXTRA_ROWS), len(STATES)))
    for i, row in enumerate(EXTRA_ROWS):
        values = node.get(row) or {}
        for k, s in enumerate(STATES):
            v = values.get(s, 0.0) if isinstance(values, dict) else None
            if not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
                raise ConfigError(f"extra_error.{row}.{s}: expected a number >= 0", path=where)
            out[i, k] = float(v)
    return out


def _plaque_doc(fit: PlaqueFit) -> dict[str, Any]:
    return {
        "fitted": fit.fitted,
        "level": {p: _num(fit.level[q]) for q, p in enumerate(PROFILES)},
        "state_factors": {s: _num(fit.state_factors[k]) for k, s in enumerate(STATES)},
        "components": {
            name: {
                "requests_per_user_s": _opt(c.requests_per_user_s),
                "rps_per_replica": _opt(c.rps_per_replica),
                "cpu_s_per_request": _opt(c.cpu_s_per_request),
                "samples": c.samples,
                "note": c.note,
            }
            for name, c in fit.components.items()
        },
        "note": fit.note,
        **({"recent_states": list(fit.recent_states)} if fit.recent_states else {}),
        **({} if fit.level_year is None else {"level_year": fit.level_year}),
        **({} if fit.shape is None else {"shape": _shape_doc(fit.shape)}),
    }


def _shape_doc(shape: FloatArray) -> dict[str, dict[str, list[float]]]:
    """The states whose shape is not flat, per profile."""
    return {
        p: {s: _curve(shape[q, k]) for k, s in enumerate(STATES) if not np.allclose(shape[q, k], 1.0)}
        for q, p in enumerate(PROFILES)
    }


def _read_shape(node: Any, key: str, where: str) -> FloatArray | None:
    if node is None:
        return None
    if not isinstance(node, dict) or set(node) - set(PROFILES):
        raise ConfigError(f"{key}: expected an object of profiles ({', '.join(PROFILES)})", path=where)
    out = np.ones((len(PROFILES), len(STATES), SLOTS_PER_DAY))
    for q, p in enumerate(PROFILES):
        states = node.get(p) or {}
        if not isinstance(states, dict) or set(states) - set(STATES):
            raise ConfigError(f"{key}.{p}: expected an object of states ({', '.join(STATES)})", path=where)
        for s, values in states.items():
            curve = np.asarray(values, dtype=np.float64) if isinstance(values, list) else np.zeros(0)
            if curve.shape != (SLOTS_PER_DAY,) or not (np.isfinite(curve).all() and (curve > 0).all()):
                raise ConfigError(f"{key}.{p}.{s}: expected {SLOTS_PER_DAY} positive numbers", path=where)
            if not ((curve >= 1 / SHAPE_MOST) & (curve <= SHAPE_MOST)).all():
                raise ConfigError(
                    f"{key}.{p}.{s}: a day shape bends the shared curve by ×{SHAPE_MOST:g} at most either way, "
                    f"found {curve.min():g}..{curve.max():g}: a corrupt or hand-edited file",
                    path=where,
                )
            out[q, STATES.index(s)] = curve
    return out


def _read_plaque(raw: Any, pid: str, where: str) -> PlaqueFit:
    key = f"plaques.{pid}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: expected an object", path=where)
    level = np.array([_positive(raw.get("level"), p, where, f"{key}.level") for p in PROFILES])
    factors = np.array([_positive(raw.get("state_factors"), s, where, f"{key}.state_factors") for s in STATES])
    comps: dict[str, ComponentFit] = {}
    for name, c in (raw.get("components") or {}).items():
        if not isinstance(c, dict):
            raise ConfigError(f"{key}.components.{name}: expected an object", path=where)
        comps[str(name)] = ComponentFit(
            requests_per_user_s=_optional(c, "requests_per_user_s", where, f"{key}.components.{name}"),
            rps_per_replica=_optional(c, "rps_per_replica", where, f"{key}.components.{name}"),
            cpu_s_per_request=_optional(c, "cpu_s_per_request", where, f"{key}.components.{name}"),
            samples=int(c.get("samples") or 0),
            note=str(c.get("note") or ""),
        )
    recent = raw.get("recent_states") or []
    if not isinstance(recent, list) or any(s not in STATES for s in recent):
        raise ConfigError(f"{key}.recent_states: expected a list of states ({', '.join(STATES)})", path=where)
    year = raw.get("level_year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool) or not 1900 < year < 2200):
        raise ConfigError(f"{key}.level_year: expected a year (the school year's first), found {year!r}", path=where)
    shape = _read_shape(raw.get("shape"), f"{key}.shape", where)
    note = str(raw.get("note") or "")
    return PlaqueFit(bool(raw.get("fitted")), level, factors, comps, note, tuple(recent), year, shape)


def _get(doc: Any, key: tuple[str, ...], where: str) -> Any:
    node = doc
    for k in key:
        if not isinstance(node, dict) or k not in node:
            raise ConfigError(f"missing {'.'.join(key)}", path=where)
        node = node[k]
    return node


def _read_curve(doc: Any, key: tuple[str, ...], where: str) -> list[float]:
    values = _get(doc, key, where)
    ok = (
        isinstance(values, list)
        and len(values) == SLOTS_PER_DAY
        and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 for v in values)
    )
    if not ok:
        found = len(values) if isinstance(values, list) else type(values).__name__
        raise ConfigError(f"{'.'.join(key)}: expected {SLOTS_PER_DAY} numbers >= 0, found {found}", path=where)
    return [float(v) for v in values]


def _positive(node: Any, key: str, where: str, parent: str = "relative_error") -> float:
    value = node.get(key) if isinstance(node, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{parent}.{key}: expected a number > 0, found {value!r}", path=where)
    return float(value)


def _optional(node: dict[str, Any], key: str, where: str, parent: str) -> float | None:
    value = node.get(key)
    if value is None:
        return None
    return _positive(node, key, where, parent)


def _curve(values: FloatArray) -> list[float]:
    return [_num(v) for v in values]


def _num(value: float) -> float:
    """Six significant digits: plenty for rates, and the file stays readable."""
    v = float(value)
    return float(f"{v:.6g}") if v != 0 else 0.0


def _opt(value: float | None) -> float | None:
    return None if value is None else _num(value)


def read_model(path: Path) -> UsageRates | Model:
    """The one loader behind every `--model`: a fitted model file (`capctl fit`, JSON), or usage rates in the
    parametric spec of the shipped prior (`capacity/planning/data/default_rates.yaml`, YAML or JSON)."""
    if is_fitted_model(path):
        return load_model(path)
    doc = load_yaml_file(path, "model file")  # missing, a FIFO, a device, too large: one ConfigError
    try:
        return rates_from_spec(doc.data, str(path))
    except CapctlError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"not a usage-rate model ({type(exc).__name__}: {exc})", path=str(path)) from None


def rates_for_plaques(
    loaded: UsageRates | Model, policies: Policies
) -> tuple[UsageRates | Mapping[str, UsageRates], Policies]:
    """What to plan with: shared rates as they are; a fitted model's rates per plaque and, in the policies,
    its fitted requests per user and capacity per replica of each component."""
    if isinstance(loaded, UsageRates):
        return loaded, policies
    return loaded.rates_by_plaque([p.id for p in policies.topology.plaques]), loaded.apply(policies)
