"""One colour per penalty, the same in every figure, and matplotlib imported only when drawing."""

from __future__ import annotations

import math
from typing import Any, Dict

# Tableau-like colours, fixed per penalty so that "L1" is the same orange in every figure of a
# report; a label outside the table gets a colour from its name (stable across runs).
PENALTY_COLORS: Dict[str, str] = {
    "none": "#7f7f7f",
    "L0.5": "#9467bd",
    "L1": "#ff7f0e",
    "elastic net": "#bcbd22",
    "L1.5": "#8c564b",
    "L2": "#1f77b4",
    "L3": "#2ca02c",
    "L10": "#17becf",
    "Linf": "#000000",
    "dropout": "#d62728",
    "L2 + dropout": "#e377c2",
}
_SPARE = ["#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d"]


def penalty_label(k: float) -> str:
    """'L1', 'L0.5', 'Linf' for the exponent ``k`` (or ``p`` of a norm)."""
    if math.isinf(k):
        return "Linf"
    return f"L{k:g}"


def penalty_color(label: str) -> str:
    """The colour of the penalty named ``label`` ('L1', 'L2', 'dropout', ...)."""
    if label in PENALTY_COLORS:
        return PENALTY_COLORS[label]
    return _SPARE[sum(map(ord, label)) % len(_SPARE)]


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float = 4.2, height: float = 3.6,
               **subplot_kw: Any) -> Any:
    """A Figure and its axes without pyplot: no global state, no GUI backend, safe in threads."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:  # pragma: no cover - exercised where matplotlib is missing
        raise ImportError(
            "lkreg.plot needs matplotlib: pip install 'lkreg[plot]' (or matplotlib)"
        ) from e
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, subplot_kw=subplot_kw or None)
    return fig, axes
