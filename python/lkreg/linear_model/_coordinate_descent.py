"""Lasso, ElasticNet and PenalizedRegression on lkreg's C++ coordinate-descent engine."""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import penalties as _penalties
from .._validation import flag, fraction, is_dask_array, nonnegative
from ._data import (Data, Gram, Groups, Options, check_options, gram_of, groups_of, prepare,
                    solve_target, use_gram, warn_not_converged)


def engine_penalty(penalty: Any, data: Data, gram: Optional[Gram] = None,
                   name: str = "penalty") -> Tuple[Any, Optional[Groups]]:
    """(description, groups) the engine takes for penalty, or an error naming the argument:
    an element-wise penalty's description, or GroupL2's groups (block coordinate descent)."""
    if not isinstance(penalty, _penalties.Penalty):
        raise TypeError(f"{name} must be an lkreg penalty (lkreg.L1, lkreg.Lk, ...), got "
                        f"{type(penalty).__name__}")
    p = data.n_features
    if isinstance(penalty, _penalties.GroupL2):
        try:
            penalty.check_shape((p,), "coef_")
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
        ids = np.zeros(p, dtype=np.int64) if penalty.groups is None else penalty.groups.ravel()
        lam = penalty.lam / p if penalty.reduction == "mean" else penalty.lam
        return _penalties.L1(0.0).description(), groups_of(ids, lam, data, gram)
    description = penalty.description(size=p)
    if description is None:  # pragma: no cover - every other lkreg penalty is element-wise
        raise ValueError(f"{name}={penalty!r} has no scalar prox")
    return description, None


class _LinearModel(RegressorMixin, BaseEstimator):
    """predict and the tags shared by lkreg's linear estimators."""

    def predict(self, X: Any) -> np.ndarray:
        """Predict with the fitted linear model: ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A dask array gives a lazy dask array.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self, "coef_")
        if is_dask_array(X):  # lazy, block by block (lkreg.dask)
            if X.ndim != 2 or X.shape[1] != self.n_features_in_:
                raise ValueError(f"X has shape {X.shape}, but {type(self).__name__} is "
                                 f"expecting {self.n_features_in_} features as input.")
            return X @ self.coef_.T + self.intercept_
        X = validate_data(self, X, reset=False, accept_sparse=["csr", "csc"],
                          dtype=[np.float64, np.float32])
        out = X @ self.coef_.T + self.intercept_
        return np.asarray(out)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags

    def _set_fitted(self, data: Data, coefs: np.ndarray, intercepts: np.ndarray,
                    n_iters: List[int], gaps: np.ndarray) -> None:
        dtype = data.dtype
        if data.single_target:
            self.coef_ = coefs[0].astype(dtype)
            self.intercept_ = dtype.type(intercepts[0]) if data.fit_intercept else 0.0
            self.n_iter_ = n_iters[0]
            self.dual_gap_ = float(gaps[0])
        else:
            self.coef_ = coefs.astype(dtype)
            self.intercept_ = intercepts.astype(dtype) if data.fit_intercept else np.zeros(
                coefs.shape[0], dtype=dtype)
            self.n_iter_ = list(n_iters)
            self.dual_gap_ = gaps.astype(np.float64)


class _CoordinateDescentModel(_LinearModel):
    """fit through the engine for the penalty ``_penalty()`` returns."""

    def _penalty(self) -> _penalties.Penalty:  # pragma: no cover - abstract
        raise NotImplementedError

    def _options(self) -> Options:
        return check_options(self.max_iter, self.tol, getattr(self, "positive", False),
                             getattr(self, "selection", "cyclic"),
                             getattr(self, "random_state", None))

    def _start(self, data: Data, t: int) -> Optional[np.ndarray]:
        if not (getattr(self, "warm_start", False) and hasattr(self, "coef_")):
            return None
        coef = np.atleast_2d(self.coef_)
        if coef.shape != (data.Y.shape[1], data.n_features):
            return None
        return coef[t]

    def _init(self, data, t, description, penalty, options, gram) -> Optional[np.ndarray]:
        return self._start(data, t)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "_CoordinateDescentModel":
        """Fit the model by coordinate descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float32 stays float32 (dense X is used in Fortran order; C-ordered input is copied
            once into it in its own dtype, as scikit-learn does). CSR input is converted to CSC.
            A dask array (tall, chunked along the rows) is fitted from one distributed pass of
            sufficient statistics and the Gram solver (lkreg.dask; ``precompute`` is then
            ignored).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            A dask array or an ndarray when X is a dask array.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights: a weight of 2 is a repeated row.

        Returns
        -------
        self
        """
        fit_intercept = flag(self.fit_intercept, "fit_intercept")
        penalty = self._penalty()
        options = self._options()
        data = prepare(self, X, y, sample_weight, fit_intercept)
        gram = gram_of(data) if use_gram(getattr(self, "precompute", False), data) else None
        description, groups = engine_penalty(penalty, data, gram)
        k = data.Y.shape[1]
        coefs = np.zeros((k, data.n_features))
        intercepts = np.zeros(k)
        gaps = np.zeros(k)
        n_iters: List[int] = []
        for t in range(k):
            w0 = self._init(data, t, description, penalty, options, gram)
            sol = solve_target(data, t, description, options, w0, gram, groups)
            if not sol.converged:
                warn_not_converged(sol, penalty.is_convex)
            coefs[t], intercepts[t] = sol.coef, sol.intercept
            gaps[t] = sol.gap if penalty.is_convex else sol.kkt
            n_iters.append(sol.n_iter)
        self._set_fitted(data, coefs, intercepts, n_iters, gaps)
        if not penalty.is_convex:
            self.kkt_violation_ = self.dual_gap_
            del self.dual_gap_
        return self

    @property
    def sparse_coef_(self):
        """``coef_`` as a scipy.sparse CSR matrix (imports scipy)."""
        from scipy import sparse

        return sparse.csr_matrix(np.atleast_2d(self.coef_))


class ElasticNet(_CoordinateDescentModel):
    """Linear regression with combined L1 and L2 penalties, scikit-learn's ElasticNet.

    Minimizes ``1/(2n) ||y - Xw - b||^2 + alpha*l1_ratio*||w||_1
    + 0.5*alpha*(1 - l1_ratio)*||w||^2`` (n the sum of the sample weights) with lkreg's C++
    coordinate descent (working sets, gap-safe screening, duality-gap stopping).

    Parameters
    ----------
    alpha : float, default 1.0
        Strength, >= 0.
    l1_ratio : float, default 0.5
        In [0, 1]: 1 is the Lasso, 0 ridge regression (in this 1/(2n) scaling).
    fit_intercept : bool, default True
        Fit an unpenalized intercept (data centered implicitly: X is never copied for it).
    precompute : bool or "auto", default False
        Work on the Gram matrix X'X (computed once with BLAS); "auto" when n_samples > n_features.
    max_iter : int, default 1000
        Epochs (passes over the working set).
    copy_X : bool, default True
        Accepted for scikit-learn compatibility: X is never modified.
    tol : float, default 1e-4
        Stop when the duality gap is below ``tol * ||y - mean(y)||^2 / n`` (scikit-learn's
        meaning).
    warm_start : bool, default False
        Start from the previous ``coef_``.
    positive : bool, default False
        Constrain the coefficients to be >= 0.
    random_state : int, RandomState or None, default None
        Seed of ``selection="random"``.
    selection : {"cyclic", "random"}, default "cyclic"

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int or list of int
    dual_gap_ : float or ndarray of shape (n_targets,)
        The duality gap reached (in the objective's 1/(2n) scaling).
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> import numpy as np
    >>> from lkreg.linear_model import ElasticNet
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> y = X @ np.array([2.0, 0.0]) + 1.0
    >>> model = ElasticNet(alpha=0.01, l1_ratio=0.5).fit(X, y)
    >>> np.round(model.coef_, 2)
    array([1.99, 0.  ])
    """

    def __init__(self, alpha: float = 1.0, *, l1_ratio: float = 0.5, fit_intercept: bool = True,
                 precompute: Any = False, max_iter: int = 1000, copy_X: bool = True,
                 tol: float = 1e-4, warm_start: bool = False, positive: bool = False,
                 random_state: Any = None, selection: str = "cyclic") -> None:
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.copy_X = copy_X
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection

    def _penalty(self) -> _penalties.Penalty:
        alpha = nonnegative(self.alpha, "alpha")
        l1_ratio = fraction(self.l1_ratio, "l1_ratio")
        return _penalties.ElasticNet(alpha * l1_ratio, 0.5 * alpha * (1.0 - l1_ratio))


class Lasso(ElasticNet):
    """Linear regression with an L1 penalty, scikit-learn's Lasso.

    Minimizes ``1/(2n) ||y - Xw - b||^2 + alpha*||w||_1``; the parameters are ElasticNet's
    with ``l1_ratio=1``.

    Examples
    --------
    >>> import numpy as np
    >>> from lkreg.linear_model import Lasso
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> y = X @ np.array([2.0, 0.0]) + 1.0
    >>> np.round(Lasso(alpha=0.1).fit(X, y).coef_, 2)
    array([1.92, 0.  ])
    """

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True, precompute: Any = False,
                 copy_X: bool = True, max_iter: int = 1000, tol: float = 1e-4,
                 warm_start: bool = False, positive: bool = False, random_state: Any = None,
                 selection: str = "cyclic") -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection

    def _penalty(self) -> _penalties.Penalty:
        return _penalties.L1(nonnegative(self.alpha, "alpha"))


class PenalizedRegression(_CoordinateDescentModel):
    """Least squares with any element-wise lkreg penalty.

    Minimizes ``1/(2n) ||y - Xw - b||^2 + penalty(w)`` (n the sum of the sample weights) on
    the same C++ coordinate-descent engine as Lasso, the penalty entering only through its
    scalar prox: L1, L2, ElasticNet, Lk for any real k > 0 (k < 1: sparser than L1, non-convex;
    k = 1.5, 3, 10: smooth), L0; and GroupL2 (one group id per feature, or ``axis=0``: all
    features one group) by block coordinate descent.

    Convex penalties stop on the duality gap (``dual_gap_``, scikit-learn's ``tol`` meaning).
    Non-convex ones (L0, Lk with k < 1) stop when a full pass changes no coordinate's support
    and the largest KKT violation (distance of the gradient to the limiting subdifferential)
    is below ``tol * sqrt(||y - mean(y)||^2 / n * max_j ||x_j||^2 / n)`` (``kkt_violation_``);
    by default they start from the Lasso solution with the same strength (``init="l1"``).

    Parameters
    ----------
    penalty : lkreg penalty, default None
        None means ``lkreg.L1(1.0)``. ``reduction="mean"`` divides by n_features.
    fit_intercept : bool, default True
    precompute : bool or "auto", default False
    max_iter : int, default 1000
    tol : float, default 1e-4
    warm_start : bool, default False
    positive : bool, default False
    init : {"l1", "zero"}, default "l1"
        Start of non-convex penalties (ignored for convex ones).

    Attributes
    ----------
    coef_, intercept_, n_iter_, n_features_in_, feature_names_in_
    dual_gap_ : float or ndarray (convex penalties)
    kkt_violation_ : float or ndarray (non-convex penalties)

    Examples
    --------
    >>> import numpy as np
    >>> import lkreg
    >>> from lkreg.linear_model import PenalizedRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 5))
    >>> y = X @ np.array([3.0, 0.0, 0.0, -2.0, 0.0])
    >>> model = PenalizedRegression(lkreg.Lk(0.5, 0.05)).fit(X, y)
    >>> np.flatnonzero(model.coef_)
    array([0, 3])
    """

    def __init__(self, penalty: Optional[_penalties.Penalty] = None, *, fit_intercept: bool = True,
                 precompute: Any = False, max_iter: int = 1000, tol: float = 1e-4,
                 warm_start: bool = False, positive: bool = False, init: str = "l1") -> None:
        self.penalty = penalty
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.init = init

    def _penalty(self) -> _penalties.Penalty:
        return _penalties.L1(1.0) if self.penalty is None else self.penalty

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # no alpha for scikit-learn's checks to lower: the fit is as good as the penalty given
        tags.regressor_tags.poor_score = True
        return tags

    def _init(self, data, t, description, penalty, options, gram) -> Optional[np.ndarray]:
        start = self._start(data, t)
        init = self.init
        if init not in ("l1", "zero"):
            raise ValueError(f"init must be 'l1' or 'zero', got {init!r}")
        if start is not None or penalty.is_convex or init == "zero" or description.lam == 0:
            return start
        l1 = _penalties.L1(description.lam).description()
        return solve_target(data, t, l1, options, None, gram).coef


__all__ = ["Lasso", "ElasticNet", "PenalizedRegression", "engine_penalty"]
