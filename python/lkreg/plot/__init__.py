"""Figures of regularization: the penalties, their geometry, and fitted models (matplotlib).

Every function returns a :class:`matplotlib.figure.Figure` made without pyplot (no global
state, no window): save it with ``fig.savefig("name.png")`` or show it in a notebook. Each
penalty has one colour in every figure (:func:`penalty_color`). Needs the optional extra
``lkreg[plot]`` (matplotlib); ``import lkreg`` never imports it.
"""

from ._bench import bench_figure
from ._models import coef_path, learning_curves, weight_histograms
from ._style import PENALTY_COLORS, penalty_color
from ._theory import l1_l2_geometry, penalty_curves, unit_balls

__all__ = [
    "PENALTY_COLORS",
    "bench_figure",
    "coef_path",
    "l1_l2_geometry",
    "learning_curves",
    "penalty_color",
    "penalty_curves",
    "unit_balls",
    "weight_histograms",
]
