"""One colour per series everywhere (plots and reports), so that a reader learns them once.

Okabe–Ito colours (distinguishable with the common colour-vision deficiencies). The same thing has the
same colour in `plan --plot`, `simulate --plot`, `backtest --plot` and the monthly report.
"""

from __future__ import annotations

BLACK = "#000000"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#7F7F7F"

#: What is drawn, by meaning.
SERIES = {
    "demand": BLACK,  # users connected (actual or forecast demand)
    "forecast": SKY,  # the forecast and its band
    "replicas": BLUE,  # what capctl plans / sets
    "capacity": BLUE,
    "ceiling": GREY,  # mandate ceilings, budgets: limits are grey and dashed
    "budget": GREY,
    "shortfall": VERMILLION,  # users kept out, under-provisioned demand
    "cost": GREEN,
    "budget_cut": ORANGE,  # capacity lowered by the monthly budget
}

#: The replay's strategies (capctl simulate), fixed whatever their order or number.
STRATEGIES = {
    "capctl": BLUE,
    "oracle": GREEN,  # not black: black is the demand
    "hpa": VERMILLION,
    "cron": ORANGE,
    "static": PURPLE,
}

#: User profiles (who is kept out).
PROFILES = {"eleves": SKY, "enseignants": GREEN, "parents": PURPLE}


def strategy_colour(name: str) -> str:
    return STRATEGIES.get(name, GREY)


#: A plaque's components (replicas panels): the same component, the same colour, in every plaque; none of
#: them is a colour of the users panel (forecast, capacity, kept out), so no line reads as another.
COMPONENTS = {"web": "#117733", "api": "#882255", "auth": "#DDAA33", "messaging": "#44AA99"}
_SPARE = ("#332288", "#999933", "#AA4499", "#661100")


def component_colour(name: str, index: int = 0) -> str:
    """The component's colour; an unknown component takes a spare colour by its position."""
    return COMPONENTS.get(name, _SPARE[index % len(_SPARE)])
