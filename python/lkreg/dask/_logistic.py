"""LogisticRegression on tall dask arrays: proximal Newton on the Gram form with one
distributed pass per outer step.

Each pass sends the current point and direction (m * p numbers) to every row block, which
computes :func:`lkreg.linear_model._gram_newton.block_statistics` where it lives: the losses
along the line search, the gradient and the Hessian blocks (p^2 m^2 numbers); a fixed binary
tree adds them and the in-memory Gram solver takes the step. X is never gathered nor
persisted: persist it yourself (``X = X.persist()``) when the cluster's memory holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass
class DaskProblem:
    """A dask X, y and sample weights checked and split into row blocks, with the classes and
    their weights: what a pass over the data needs."""

    xs: List[Any]  # X's row blocks (delayed)
    ys: List[Any]
    ws: List[Any]  # sample weights' blocks, or None each
    classes: np.ndarray
    factor: np.ndarray  # class weights
    counts: np.ndarray  # per class: rows, weight sum
    dtype: Any
    n_features: int

    @property
    def n_rows(self) -> int:
        """Rows of W: 1 for two classes, else the number of classes."""
        return 1 if len(self.classes) == 2 else len(self.classes)

    @property
    def total_weight(self) -> float:
        """sum_i s_i (sample weight times class weight)."""
        return float(self.counts[1] @ self.factor)

    def data_pass(self, C: float):
        """The pass of gram_newton: every block's statistics where it lives, summed by a tree,
        with c_i = C s_i."""
        xs, ys, ws, classes, factor = self.xs, self.ys, self.ws, self.classes, self.factor

        def data_pass(W, b, dW, db, steps, derivatives, columns=None):
            parts = [dask.delayed(_block_pass, pure=True)(xb, yb, wb, classes, factor, C, W, b,
                                                          dW, db, steps, derivatives, columns)
                     for xb, yb, wb in zip(xs, ys, ws)]
            stats = tree_sum(parts)
            if not np.isfinite(stats.loss[0]) or (derivatives and not np.all(np.isfinite(
                    stats.grad))):
                raise ValueError("Input X contains NaN or infinity.")
            return stats

        return data_pass


def dask_problem(X: Any, y: Any, sample_weight: Any, class_weight: Any) -> DaskProblem:
    """Checks X (a dask array), y and sample_weight as the in-memory estimator does, with
    scikit-learn's errors, and counts the classes in one pass over y."""
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
    xs, ys = list(X.to_delayed().ravel()), list(y.to_delayed().ravel())
    ws: List[Any] = [None] * len(xs) if sw is None else list(sw.to_delayed().ravel())
    counts = tree_sum([dask.delayed(_block_counts, pure=True)(yb, wb, classes)
                        for yb, wb in zip(ys, ws)])
    if counts[2, 0] > 0:
        raise ValueError("sample_weight must be finite and non-negative")
    factor = _class_factor(class_weight, classes, counts[0])
    if not float(counts[1] @ factor) > 0:
        raise ValueError("sample_weight must have a positive sum")
    return DaskProblem(xs, ys, ws, classes, factor, counts[:2], dtype, p)


def fit_dask(estimator: Any, X: Any, y: Any, sample_weight: Any, C: float, penalty: Any,
             fit_intercept: bool, max_iter: int, tol: float,
             warm: Optional[Tuple[np.ndarray, np.ndarray]]) -> Any:
    """LogisticRegression.fit for a dask X: the fitted pieces as ``_logistic.Fit``, the
    classes and X's dtype."""
    from ..linear_model._gram_newton import REMOTE_STEPS, gram_newton
    from ..linear_model._logistic import Fit, penalty_description

    pb = dask_problem(X, y, sample_weight, estimator.class_weight)
    m, p = pb.n_rows, pb.n_features
    estimator.n_features_in_ = p
    if warm is not None and np.shape(warm[0]) != (m, p):
        warm = None  # as in memory: a warm start of another shape is ignored
    W0 = np.zeros((m, p)) if warm is None else np.array(warm[0], dtype=np.float64)
    b0 = np.zeros(m) if warm is None else np.array(warm[1], dtype=np.float64)
    d = penalty_description(penalty, m * p)
    r = gram_newton(pb.data_pass(C), C * pb.total_weight, fit_intercept, d, max_iter, tol, W0,
                    b0, REMOTE_STEPS)
    fit = Fit(r.W, r.b, r.n_iter, r.kkt, r.objective, r.converged)
    return fit, pb.classes, pb.dtype, m


def logistic_path_dask(X: Any, y: Any, family: Any, grid: Optional[np.ndarray], n_alphas: int,
                       eps: float, fit_intercept: bool, sample_weight: Any, max_iter: int,
                       tol: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """regularization_path(loss="log") on a dask X: the in-memory path's problem (the weighted
    mean log-loss + penalty_alpha(W), C = 1 / sum(sample_weight)), each strength by the Gram
    form's proximal Newton warm-started from the previous one; alpha_max from one pass for
    the gradient at W = 0 with the intercepts optimal there."""
    from ..linear_model._gram_newton import REMOTE_STEPS, gram_newton
    from ..linear_model._logistic import Fit, log_grid, penalty_description, walk_path
    from ..linear_model._path import with_strength

    pb = dask_problem(X, y, sample_weight, None)
    m, p = pb.n_rows, pb.n_features
    S = pb.total_weight
    data_pass = pb.data_pass(1.0 / S)
    if grid is None:
        # the intercepts' optimum at W = 0: the log class frequencies (their differences for
        # the sigmoid); without an intercept 0
        b0 = np.zeros(m)
        if fit_intercept:  # a class of zero weight: a finite floor (its rows weigh nothing)
            logf = np.log(np.maximum(pb.counts[1] / S, np.finfo(float).tiny))
            b0 = logf[1:] - logf[:1] if m == 1 else logf
        g0 = data_pass(np.zeros((m, p)), b0, None, None, (1.0,), True, np.empty(0, np.intp))
        grid = log_grid(family, g0.grad.ravel(), n_alphas, eps)

    def fit_at(a, W, b):
        d = penalty_description(with_strength(family, a), m * p)
        r = gram_newton(data_pass, 1.0, fit_intercept, d, max_iter, tol,
                        np.zeros((m, p)) if W is None else W, np.zeros(m) if b is None else b,
                        REMOTE_STEPS)
        return Fit(r.W, r.b, r.n_iter, r.kkt, r.objective, r.converged)

    return walk_path(grid, m, p, tol, fit_at)


__all__ = ["fit_dask", "logistic_path_dask", "dask_problem"]
