"""Figures of the penalties themselves: their curves and pull, the Lp balls, the L1/L2 geometry."""

from __future__ import annotations

import math
from typing import Any, Sequence, Tuple

import numpy as np

from ._style import new_figure, penalty_color, penalty_label


def _exponents(values: Sequence[float], name: str, allow_inf: bool) -> Tuple[float, ...]:
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of numbers, got {values!r}") from None
    if not out:
        raise ValueError(f"{name} must not be empty")
    for v in out:
        if not (v > 0) or (math.isinf(v) and not allow_inf):
            raise ValueError(f"{name} must hold numbers > 0{' or inf' if allow_inf else ''}, got {v!r}")
    return out


def penalty_curves(ks: Sequence[float] = (0.5, 1, 1.5, 2, 3, 10), *, zoom: float = 0.3) -> Any:
    """|w|**k, its derivative, and the derivative near 0: how each Lk pulls on a weight.

    The derivative is the pull a gradient step applies. For k <= 1 it stays large (k = 1: a
    constant) or grows (k < 1) as w goes to 0, so small weights are driven to exactly 0; for
    k > 1 it vanishes at 0, and the faster the larger k (L3, L10), so small weights are let go
    while large ones are pulled hard.

    Parameters
    ----------
    ks : sequence of float, default (0.5, 1, 1.5, 2, 3, 10)
        The exponents, each > 0.
    zoom : float, default 0.3
        Half-width of the third panel's window around 0.

    Returns
    -------
    matplotlib.figure.Figure
        Three axes: penalty, derivative, derivative near 0.

    Examples
    --------
    >>> from lkreg.plot import penalty_curves
    >>> fig = penalty_curves((1, 2))
    >>> [ax.get_title() for ax in fig.axes]
    ['penalty |w|^k', 'pull d/dw |w|^k', 'pull near 0 (zoom)']
    >>> fig.axes[0].get_legend_handles_labels()[1]
    ['L1', 'L2']
    """
    ks = _exponents(ks, "ks", allow_inf=False)
    if not (isinstance(zoom, (int, float)) and 0 < zoom <= 2):
        raise ValueError(f"zoom must be in (0, 2], got {zoom!r}")
    fig, axes = new_figure(1, 3)
    value_ax, grad_ax, zoom_ax = axes[0]
    w = np.linspace(-2, 2, 801)
    near = np.linspace(-zoom, zoom, 801)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in ks:
            label, color = penalty_label(k), penalty_color(penalty_label(k))
            value_ax.plot(w, np.abs(w) ** k, color=color, label=label)
            for ax, grid in ((grad_ax, w), (zoom_ax, near)):
                pull = k * np.sign(grid) * np.abs(grid) ** (k - 1)
                pull[grid == 0] = np.nan  # k < 1: infinite; k = 1: the subgradient set [-1, 1]
                ax.plot(grid, pull, color=color, label=label)
    value_ax.set(title="penalty |w|^k", xlabel="weight w", ylabel="|w|^k", ylim=(0, 4))
    grad_ax.set(title="pull d/dw |w|^k", xlabel="weight w", ylabel="derivative", ylim=(-6, 6))
    zoom_ax.set(title="pull near 0 (zoom)", xlabel="weight w", ylabel="derivative", ylim=(-2, 2))
    for ax in (value_ax, grad_ax, zoom_ax):
        ax.axhline(0, color="0.8", lw=0.8, zorder=0)
        ax.axvline(0, color="0.8", lw=0.8, zorder=0)
        ax.legend(fontsize="small")
    return fig


def _ball(p: float, n: int = 721) -> Tuple[np.ndarray, np.ndarray]:
    """The boundary |x|^p + |y|^p = 1, by the superellipse parametrization."""
    t = np.linspace(0, 2 * np.pi, n)
    if math.isinf(p):
        c, s = np.cos(t), np.sin(t)
        m = np.maximum(np.abs(c), np.abs(s))
        return c / m, s / m
    c, s = np.cos(t), np.sin(t)
    return np.sign(c) * np.abs(c) ** (2 / p), np.sign(s) * np.abs(s) ** (2 / p)


def unit_balls(ps: Sequence[float] = (0.5, 1, 1.5, 2, 3, math.inf)) -> Any:
    """The unit balls {w : ||w||_p <= 1} in 2-D, one boundary per p.

    Below p = 1 the ball is not convex (its points reach the axes in spikes); p = 1 is the
    diamond whose corners sit on the axes, p = 2 the circle, and p = inf the square.

    Parameters
    ----------
    ps : sequence of float, default (0.5, 1, 1.5, 2, 3, inf)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import math
    >>> from lkreg.plot import unit_balls
    >>> fig = unit_balls((1, 2, math.inf))
    >>> fig.axes[0].get_legend_handles_labels()[1]
    ['L1', 'L2', 'Linf']
    """
    ps = _exponents(ps, "ps", allow_inf=True)
    fig, axes = new_figure(1, 1, width=4.6, height=4.6)
    ax = axes[0, 0]
    for p in ps:
        x, y = _ball(p)
        label = penalty_label(p)
        ax.plot(x, y, color=penalty_color(label), label=label)
    ax.set(title="unit balls ||w||_p = 1", xlabel="w1", ylabel="w2", xlim=(-1.2, 1.2),
           ylim=(-1.2, 1.2), aspect="equal")
    ax.axhline(0, color="0.8", lw=0.8, zorder=0)
    ax.axvline(0, color="0.8", lw=0.8, zorder=0)
    ax.legend(fontsize="small", loc="upper right")
    return fig


def _constrained_minimum(loss: Any, p: float, radius: float) -> np.ndarray:
    """The loss's minimum on the sphere ||w||_p = radius (the unconstrained one lies outside)."""
    x, y = _ball(p, n=20001)
    points = radius * np.stack([x, y], axis=1)
    return points[np.argmin(loss(points))]


def l1_l2_geometry(center: Sequence[float] = (2.0, 0.6), *, radius: float = 1.0,
                   correlation: float = 0.3) -> Any:
    """Contours of a quadratic loss meeting the L1 diamond at a corner, the L2 circle elsewhere.

    The constrained problem min loss(w) s.t. ||w||_p <= radius (the Lagrangian twin of adding
    the penalty) is solved where the lowest contour touches the ball. The diamond's corners
    stick out towards the contours, so the touching point is usually a corner, on an axis:
    a weight exactly 0. The circle has no corners: the touching point has both weights nonzero,
    only shrunk.

    Parameters
    ----------
    center : (float, float), default (2.0, 0.6)
        The unregularized minimizer, outside the ball.
    radius : float, default 1.0
    correlation : float, default 0.3
        Tilt of the loss's elliptic contours, in (-1, 1).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes, L1 and L2, each marking its constrained minimizer.

    Examples
    --------
    >>> from lkreg.plot import l1_l2_geometry
    >>> fig = l1_l2_geometry()
    >>> [ax.get_title().split(":")[0] for ax in fig.axes]
    ['L1 ball', 'L2 ball']
    """
    try:
        c = np.asarray(center, dtype=float).reshape(2)
    except ValueError:
        raise ValueError(f"center must be two numbers, got {center!r}") from None
    if not (isinstance(radius, (int, float)) and radius > 0 and math.isfinite(radius)):
        raise ValueError(f"radius must be a finite number > 0, got {radius!r}")
    if not (isinstance(correlation, (int, float)) and -1 < correlation < 1):
        raise ValueError(f"correlation must be in (-1, 1), got {correlation!r}")
    if np.abs(c).sum() <= radius:
        raise ValueError(f"center must lie outside the L1 ball of radius {radius}, got {center!r}")
    precision = np.linalg.inv(np.array([[1.0, correlation], [correlation, 1.0]]))

    def loss(w: np.ndarray) -> np.ndarray:
        d = w - c
        return np.einsum("...i,ij,...j->...", d, precision, d)

    fig, axes = new_figure(1, 2, width=4.4, height=4.4)
    span = max(abs(c).max(), radius) * 1.35
    g = np.linspace(-span, span, 300)
    grid = np.stack(np.meshgrid(g, g), axis=-1)
    for ax, p, name in ((axes[0, 0], 1.0, "L1"), (axes[0, 1], 2.0, "L2")):
        w = _constrained_minimum(loss, p, radius)
        level = float(loss(w))
        ax.contour(g, g, loss(grid), levels=level * np.array([0.25, 0.5, 1.0, 1.8, 3.0]),
                   colors="0.45", linewidths=0.8)
        x, y = _ball(p)
        ax.fill(radius * x, radius * y, color=penalty_color(name), alpha=0.25)
        ax.plot(radius * x, radius * y, color=penalty_color(name), label=f"{name} ball")
        ax.plot(*c, marker="x", color="0.2", ls="none", label="unregularized minimum")
        ax.plot(*w, marker="o", color=penalty_color(name), ls="none",
                label=f"solution ({w[0]:.2f}, {w[1]:.2f})")
        sparse = "sparse: a weight is 0" if np.min(np.abs(w)) < 1e-3 * radius else "both weights nonzero"
        ax.set(title=f"{name} ball: {sparse}", xlabel="w1", ylabel="w2", aspect="equal",
               xlim=(-span, span), ylim=(-span, span))
        ax.axhline(0, color="0.8", lw=0.8, zorder=0)
        ax.axvline(0, color="0.8", lw=0.8, zorder=0)
        ax.legend(fontsize="small", loc="lower left")
    return fig
