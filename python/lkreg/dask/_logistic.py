"""LogisticRegression on tall dask arrays: proximal Newton on the Gram form with one
distributed pass per outer step.

Each pass sends the current point and direction (m * p numbers) to every row block, which
computes :func:`lkreg.linear_model._gram_newton.block_statistics` where it lives: the losses
along the line search, the gradient and the Hessian blocks (p^2 m^2 numbers); a fixed binary
tree adds them and the in-memory Gram solver takes the step. X is never gathered nor
persisted: persist it yourself (``X = X.persist()``) when the cluster's memory holds it.
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

import dask
import dask.array as da
import numpy as np

from .._validation import is_dask_array
from ._models import _as_dask, _float_dtype, tree_sum


def _labels_of(y_block: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return np.searchsorted(classes, np.asarray(y_block).ravel()).astype(np.int32)


def _block_pass(X: np.ndarray, y: np.ndarray, sw: Optional[np.ndarray], classes: np.ndarray,
                class_factor: np.ndarray, C: float, W, b, dW, db, steps, derivatives, columns):
    from ..linear_model._gram_newton import block_statistics

    labels = _labels_of(y, classes)
    c = C * class_factor[labels]
    if sw is not None:
        c = c * np.asarray(sw, dtype=np.float64)
    return block_statistics(np.asarray(X), labels, c, len(classes), W, b, dW, db, steps,
                            derivatives, columns=columns)


def _block_counts(y: np.ndarray, sw: Optional[np.ndarray], classes: np.ndarray) -> np.ndarray:
    """Per class: (number of rows, weight sum, non-finite count) of one block."""
    labels = _labels_of(y, classes)
    w = np.ones(len(labels)) if sw is None else np.asarray(sw, dtype=np.float64)
    return np.stack([np.bincount(labels, minlength=len(classes)).astype(np.float64),
                     np.bincount(labels, weights=w, minlength=len(classes)),
                     np.full(len(classes), float(np.sum(~(np.isfinite(w) & (w >= 0)))))])


def _class_factor(class_weight: Any, classes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """scikit-learn's class weights from the class counts (no gathering of y)."""
    if class_weight is None:
        return np.ones(len(classes))
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be 'balanced', a dict or None, got "
                             f"{class_weight!r}")
        return counts.sum() / (len(classes) * counts)
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight must be 'balanced', a dict or None, got "
                         f"{type(class_weight).__name__}")
    unknown = [k for k in class_weight if k not in set(classes.tolist())]
    if unknown:
        raise ValueError(f"The classes, {unknown}, are not in class_weight")
    return np.array([float(class_weight.get(k, 1.0)) for k in classes.tolist()])


def fit_dask(estimator: Any, X: Any, y: Any, sample_weight: Any, C: float, penalty: Any,
             fit_intercept: bool, max_iter: int, tol: float,
             warm: Optional[Tuple[np.ndarray, np.ndarray]]) -> Any:
    """LogisticRegression.fit for a dask X: the fitted pieces as ``_logistic.Fit``, the
    classes and X's dtype."""
    from ..linear_model._gram_newton import REMOTE_STEPS, gram_newton
    from ..linear_model._logistic import Fit, penalty_description

    if not is_dask_array(X):
        raise TypeError(f"with a dask y, X must be a dask array too, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-dimensional X, got shape {X.shape}")
    n, p = X.shape
    if n == 0 or p == 0:
        raise ValueError(f"X has shape {X.shape}: at least 1 sample and 1 feature are required")
    dtype = _float_dtype(X)
    X = X.astype(dtype).rechunk({1: p})
    y = _as_dask(y, X.chunks[0], "y")
    if y.ndim != 1 and not (y.ndim == 2 and y.shape[1] == 1):
        raise ValueError(f"y must have shape (n_samples,), got {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"X and y have inconsistent numbers of samples: {n} and {y.shape[0]}")
    y = y.reshape((n,)).rechunk({0: X.chunks[0]})
    sw = None
    if sample_weight is not None:
        sw = _as_dask(sample_weight, X.chunks[0], "sample_weight")
        if sw.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},), got {sw.shape}")
        sw = sw.rechunk({0: X.chunks[0]})
    classes = np.unique(dask.compute(da.unique(y))[0])
    if y.dtype.kind == "f" and not np.all(np.isfinite(classes)):  # NaN and inf are classes
        raise ValueError("Input y contains NaN or infinity.")
    if len(classes) < 2:
        raise ValueError("This solver needs samples of at least 2 classes in the data, but "
                         f"the data contains only one class: {classes[0]!r}")
    if y.dtype.kind == "f" and np.any(classes != np.round(classes)):
        raise ValueError("Unknown label type: continuous. Maybe you are trying to fit a "
                         "classifier, which expects discrete classes on a regression target.")
    xs, ys = X.to_delayed().ravel(), y.to_delayed().ravel()
    ws: List[Any] = [None] * len(xs) if sw is None else list(sw.to_delayed().ravel())
    counts = tree_sum([dask.delayed(_block_counts, pure=True)(yb, wb, classes)
                        for yb, wb in zip(ys, ws)])
    if counts[2, 0] > 0:
        raise ValueError("sample_weight must be finite and non-negative")
    factor = _class_factor(estimator.class_weight, classes, counts[0])
    if not float(counts[1] @ factor) > 0:
        raise ValueError("sample_weight must have a positive sum")
    K = len(classes)
    m = 1 if K == 2 else K
    estimator.n_features_in_ = p

    def data_pass(W, b, dW, db, steps, derivatives, columns=None):
        parts = [dask.delayed(_block_pass, pure=True)(xb, yb, wb, classes, factor, C, W, b, dW,
                                                      db, steps, derivatives, columns)
                 for xb, yb, wb in zip(xs, ys, ws)]
        stats = tree_sum(parts)
        if not np.isfinite(stats.loss[0]) or (derivatives and not np.all(np.isfinite(
                stats.grad))):
            raise ValueError("Input X contains NaN or infinity.")
        return stats

    if warm is not None and np.shape(warm[0]) != (m, p):
        warm = None  # as in memory: a warm start of another shape is ignored
    W0 = np.zeros((m, p)) if warm is None else np.array(warm[0], dtype=np.float64)
    b0 = np.zeros(m) if warm is None else np.array(warm[1], dtype=np.float64)
    total = float(C * (counts[1] @ factor))
    d = penalty_description(penalty, m * p)
    r = gram_newton(data_pass, total, fit_intercept, d, max_iter, tol, W0, b0, REMOTE_STEPS)
    fit = Fit(r.W, r.b, r.n_iter, r.kkt, r.objective, r.converged)
    return fit, classes, dtype, m


__all__ = ["fit_dask"]
