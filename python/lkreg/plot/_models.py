"""Figures of fitted models: coefficient paths, learning curves, weight distributions."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Tuple

import numpy as np

from ._style import new_figure, penalty_color


def _as_mapping(value: Any, name: str, what: str) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        if not value:
            raise ValueError(f"{name} must not be empty")
        return value
    raise TypeError(f"{name} must be a mapping of label -> {what}, got {type(value).__name__}")


def coef_path(paths: Any, *, feature_names: Optional[Sequence[str]] = None) -> Any:
    """Coefficients against the strength alpha, one panel per penalty, side by side.

    Parameters
    ----------
    paths : tuple or mapping of str to tuple
        What :func:`lkreg.linear_model.regularization_path` returns, ``(alphas, coefs, gaps)``
        with ``coefs`` of shape (n_features, n_alphas); or ``{"L1": path, "L2": path}``.
    feature_names : sequence of str, optional
        Legend entries, one per feature.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per path, alpha on a log axis decreasing to the right.

    Examples
    --------
    >>> import numpy as np
    >>> from lkreg.plot import coef_path
    >>> alphas = np.logspace(0, -2, 5)
    >>> coefs = np.outer([1.0, -0.5], 1 - alphas)
    >>> fig = coef_path({"L1": (alphas, coefs, None)}, feature_names=["a", "b"])
    >>> fig.axes[0].get_title(), fig.axes[0].get_legend_handles_labels()[1]
    ('L1 path', ['a', 'b'])
    """
    if isinstance(paths, tuple):
        paths = {"L1": paths}
    paths = _as_mapping(paths, "paths", "(alphas, coefs, gaps)")
    fig, axes = new_figure(1, len(paths), width=4.8)
    for ax, (label, path) in zip(axes[0], paths.items()):
        try:
            alphas, coefs = np.asarray(path[0], float), np.asarray(path[1], float)
        except (TypeError, IndexError, ValueError):
            raise TypeError(f"paths[{label!r}] must be (alphas, coefs, gaps)") from None
        if coefs.ndim != 2 or coefs.shape[1] != alphas.shape[0]:
            raise ValueError(
                f"paths[{label!r}]: coefs must have shape (n_features, {alphas.shape[0]}), "
                f"got {coefs.shape}"
            )
        names = list(feature_names) if feature_names is not None else [
            f"x{j}" for j in range(coefs.shape[0])]
        if len(names) != coefs.shape[0]:
            raise ValueError(f"feature_names has {len(names)} names for {coefs.shape[0]} features")
        for j in range(coefs.shape[0]):
            ax.plot(alphas, coefs[j], label=names[j], lw=1.2)
        ax.set_xscale("log")
        ax.invert_xaxis()  # strong to weak regularization, left to right
        ax.axhline(0, color="0.7", lw=0.8, zorder=0)
        ax.set(title=f"{label} path", xlabel="alpha (regularization strength)",
               ylabel="coefficient")
        for side in ("left", "right", "top", "bottom"):
            ax.spines[side].set_edgecolor(penalty_color(str(label)))
    axes[0, -1].legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def learning_curves(curves: Mapping[str, Tuple[Sequence[float], Sequence[float]]], *,
                    ylabel: str = "loss") -> Any:
    """Train (solid) and validation (dashed) loss by epoch, one colour per model.

    The gap between a model's two curves is its overfitting: it grows without
    regularization and narrows with it.

    Parameters
    ----------
    curves : mapping of str to (train, validation)
        Per label, the two sequences of per-epoch values (equal lengths).
    ylabel : str, default "loss"

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from lkreg.plot import learning_curves
    >>> fig = learning_curves({"none": ([1.0, 0.5, 0.2], [1.1, 0.8, 0.9])})
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['none: train', 'none: validation']
    """
    curves = _as_mapping(curves, "curves", "(train, validation)")
    fig, axes = new_figure(1, 1, width=5.6, height=4.0)
    ax = axes[0, 0]
    for label, pair in curves.items():
        try:
            train, valid = (np.asarray(c, float) for c in pair)
        except (TypeError, ValueError):
            raise TypeError(f"curves[{label!r}] must be (train, validation) sequences") from None
        if train.ndim != 1 or train.shape != valid.shape:
            raise ValueError(f"curves[{label!r}]: train and validation must be 1-D of one length")
        epochs = np.arange(1, train.size + 1)
        color = penalty_color(str(label))
        ax.plot(epochs, train, color=color, label=f"{label}: train")
        ax.plot(epochs, valid, color=color, ls="--", label=f"{label}: validation")
    ax.set(title="learning curves (solid: train, dashed: validation)", xlabel="epoch",
           ylabel=ylabel)
    ax.legend(fontsize="x-small", ncol=2)
    return fig


def _weights_of(model: Any) -> np.ndarray:
    if hasattr(model, "coefs_"):  # MLP: every weight matrix
        return np.concatenate([np.ravel(c) for c in model.coefs_])
    if hasattr(model, "coef_"):
        return np.ravel(model.coef_)
    return np.ravel(np.asarray(model, dtype=float))


def weight_histograms(models: Mapping[str, Any], *, bins: int = 60) -> Any:
    """Distribution of the weights of each model, on one shared axis.

    L1 piles weights at exactly 0 (the count of exact zeros is in each title), L2 gives a
    narrow bell of small nonzero weights, L3 and L10 cut the tails.

    Parameters
    ----------
    models : mapping of str to estimator or array
        A fitted lkreg or scikit-learn model (``coef_`` or, for an MLP, ``coefs_``), or the
        weights themselves.
    bins : int, default 60

    Returns
    -------
    matplotlib.figure.Figure
        One axes per model.

    Examples
    --------
    >>> import numpy as np
    >>> from lkreg.plot import weight_histograms
    >>> fig = weight_histograms({"L1": np.array([0.0, 0.0, 1.5]), "L2": np.array([0.2, -0.1, 0.9])})
    >>> [ax.get_title() for ax in fig.axes]
    ['L1: 2 of 3 exactly 0', 'L2: 0 of 3 exactly 0']
    """
    models = _as_mapping(models, "models", "model or weights")
    if not (isinstance(bins, int) and bins > 0):
        raise ValueError(f"bins must be a positive int, got {bins!r}")
    weights = {label: _weights_of(m) for label, m in models.items()}
    top = max((np.abs(w).max() for w in weights.values() if w.size), default=1.0) or 1.0
    edges = np.linspace(-top, top, bins + 1)
    fig, axes = new_figure(1, len(weights), width=3.4, height=3.2)
    for ax, (label, w) in zip(axes[0], weights.items()):
        ax.hist(w, bins=edges, color=penalty_color(str(label)), alpha=0.85)
        zeros = int(np.count_nonzero(w == 0))
        ax.set(title=f"{label}: {zeros} of {w.size} exactly 0", xlabel="weight", ylabel="count")
    return fig
