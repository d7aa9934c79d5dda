"""Regularization paths (strengths from alpha_max down, warm starts) and the CV estimators."""

from __future__ import annotations

import dataclasses
from typing import Any, List, Optional, Tuple

import numpy as np

from .. import penalties as _penalties
from .._validation import flag, fraction, integer, is_dask_array, positive as _positive
from ._coordinate_descent import (ElasticNet, Lasso, PenalizedRegression, _LinearModel,
                                  engine_penalty)
from ._data import (Data, Gram, Options, check_options, grad_at_zero, gram_of, layout, prepare,
                    solve_target, use_gram, warn_not_converged)


def with_strength(penalty: _penalties.Penalty, alpha: float) -> _penalties.Penalty:
    """The penalty of the same family with strength alpha: ``lam`` (``l1`` for ElasticNet,
    whose ``l2 / l1`` ratio is kept)."""
    kwargs = penalty._init_kwargs()
    if isinstance(penalty, _penalties.ElasticNet):
        if penalty.l1 == 0:
            raise ValueError("penalty ElasticNet(l1=0, ...) has no l1 strength to scale: use L2")
        kwargs["l2"] = penalty.l2 * (alpha / penalty.l1)
        kwargs["l1"] = alpha
    else:
        kwargs["lam"] = alpha
    return type(penalty)(**kwargs)


def alpha_max(penalty: _penalties.Penalty, g0: np.ndarray) -> float:
    """Where the path starts: the penalty's own alpha_max (L1, ElasticNet), else that of L1
    with the same reduction (L0, Lk: 0 is a local minimizer at any strength, or never exact)."""
    a = penalty.alpha_max(g0) if penalty.is_convex and not penalty.is_smooth else 0.0
    if not (0 < a < np.inf):
        a = _penalties.L1(1.0, reduction=penalty.reduction).alpha_max(g0)
    return float(a)


def alpha_grid(penalty: _penalties.Penalty, data: Data, gram: Optional[Gram], n_alphas: int,
               eps: float) -> np.ndarray:
    top = max(alpha_max(penalty, grad_at_zero(data, t, gram)) for t in range(data.Y.shape[1]))
    if top <= 0:
        return np.full(n_alphas, np.finfo(float).resolution)
    return np.geomspace(top, top * eps, num=n_alphas)


def path_on(data: Data, penalty: _penalties.Penalty, alphas: np.ndarray, options: Options,
            gram: Optional[Gram], warn: bool = True) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """coefs (n_targets, p, n_alphas), intercepts (n_targets, n_alphas), gaps or KKT
    violations (n_targets, n_alphas), each strength warm-started from the previous."""
    k, p = data.Y.shape[1], data.n_features
    coefs = np.zeros((k, p, len(alphas)))
    intercepts = np.zeros((k, len(alphas)))
    gaps = np.zeros((k, len(alphas)))
    description, groups = engine_penalty(penalty, data, gram)
    descriptions = [engine_penalty(with_strength(penalty, float(a)), data, gram)[0]
                    if groups is None else description for a in alphas]
    # a group lasso keeps its groups and block steps: only the strength moves
    group_list = [None if groups is None else dataclasses.replace(
        groups, lam=float(a) / (p if penalty.reduction == "mean" else 1))
        for a in alphas]
    for t in range(k):
        w = None
        for i in range(len(alphas)):
            sol = solve_target(data, t, descriptions[i], options, w, gram, group_list[i])
            if warn and not sol.converged:
                warn_not_converged(sol, penalty.is_convex)
            w = sol.coef
            coefs[t, :, i], intercepts[t, i] = w, sol.intercept
            gaps[t, i] = sol.gap if penalty.is_convex else sol.kkt
    return coefs, intercepts, gaps


def _check_alphas(alphas: Any, n_alphas: Any, eps: Any) -> Tuple[Optional[np.ndarray], int, float]:
    eps = _positive(eps, "eps")
    if alphas is None or (isinstance(alphas, (int, np.integer)) and not isinstance(alphas, bool)):
        return None, integer(n_alphas if alphas is None else alphas, "alphas", 1), eps
    arr = np.asarray(alphas, dtype=np.float64).ravel()
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("alphas must be finite numbers >= 0")
    return np.sort(arr)[::-1], arr.size, eps


def regularization_path(X: Any, y: Any, penalty: Optional[_penalties.Penalty] = None, *,
                        alphas: Any = None, n_alphas: int = 100, eps: float = 1e-3,
                        fit_intercept: bool = True, sample_weight: Any = None,
                        precompute: Any = "auto", max_iter: int = 1000, tol: float = 1e-4,
                        positive: bool = False,
                        loss: str = "squared") -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solutions of ``1/(2n) ||y - Xw - b||^2 + penalty_alpha(w)`` along a grid of strengths
    (``loss="log"``: ``1/n sum log-loss + penalty_alpha(W)``, logistic regression).

    The strengths go from alpha_max (the smallest making w = 0 optimal, for L1 and
    ElasticNet; L1's for other families) down to ``eps * alpha_max`` on a log grid, each solve
    warm-started from the previous one. ``penalty`` fixes the family: its ``lam`` (``l1`` for
    ElasticNet, the ``l2 / l1`` ratio kept) is replaced by each alpha.

    A dask X (tall, chunked along the rows) and y give the path from one distributed pass of
    sufficient statistics (as ``Lasso.fit`` on dask arrays, :mod:`lkreg.dask`), then the
    in-memory Gram solver over all strengths (``precompute`` does not apply); with
    ``loss="log"``, proximal Newton on the Gram form with one distributed pass per step
    (alpha_max from one more), warm-started along the grid.

    Parameters
    ----------
    X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
    y : array-like or dask array of shape (n_samples,) or (n_samples, n_targets)
    penalty : lkreg penalty, default None (L1)
    alphas : array-like, optional
        The strengths (sorted decreasing); None for the log grid.
    n_alphas : int, default 100
    eps : float, default 1e-3
    fit_intercept : bool, default True
    sample_weight : array-like, optional
    precompute : bool or "auto", default "auto"
    max_iter : int, default 1000
    tol : float, default 1e-4
    positive : bool, default False
    loss : {"squared", "log"}, default "squared"
        "log": y holds class labels; the weighted mean log-loss (binary, or multinomial for 3+
        classes, the intercepts unpenalized) by LogisticRegression's proximal Newton solver
        (``max_iter`` Newton iterations, ``tol`` its KKT tolerance; ``precompute`` and
        ``positive`` do not apply). alpha_max is that of L1 on the log-loss gradient at 0.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas) or (n_targets, n_features, n_alphas)
        (``loss="log"`` with 3+ classes: (n_classes, n_features, n_alphas).)
    gaps : ndarray of shape (n_alphas,) or (n_targets, n_alphas)
        Duality gaps (convex penalties) or KKT violations (L0, Lk with k < 1; every penalty
        with ``loss="log"``).

    Examples
    --------
    >>> import numpy as np
    >>> import lkreg
    >>> from lkreg.linear_model import regularization_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 6))
    >>> y = X[:, 0] - 2 * X[:, 3]
    >>> alphas, coefs, gaps = regularization_path(X, y, lkreg.L1(), n_alphas=5)
    >>> coefs.shape
    (6, 5)
    >>> [int(np.count_nonzero(coefs[:, i])) for i in range(5)]
    [0, 2, 2, 2, 2]
    >>> labels = (y > 0).astype(int)
    >>> alphas, coefs, kkts = regularization_path(X, labels, lkreg.L1(), n_alphas=4, loss="log")
    >>> coefs.shape, int(np.count_nonzero(coefs[:, 0])), int(np.count_nonzero(coefs[:, 1]))
    ((6, 4), 0, 2)
    """
    from sklearn.utils.validation import check_array, check_X_y

    from .._validation import choice

    if choice(loss, "loss", ("squared", "log")) == "log":
        from ._logistic import logistic_path

        if flag(positive, "positive"):
            raise ValueError("positive=True is not supported with loss='log'")
        return logistic_path(X, y, penalty, alphas, n_alphas, eps, flag(fit_intercept,
                             "fit_intercept"), sample_weight, max_iter, tol)
    penalty = _penalties.L1(1.0) if penalty is None else penalty
    fit_intercept = flag(fit_intercept, "fit_intercept")
    options = check_options(max_iter, tol, positive)
    grid, n, eps = _check_alphas(alphas, n_alphas, eps)
    if is_dask_array(X) or is_dask_array(y):  # one distributed pass of the Gram statistics
        from ..dask._models import prepare_dask

        data = prepare_dask(None, X, y, sample_weight, fit_intercept)
    else:
        X, y = check_X_y(X, y, accept_sparse=["csc", "csr"], dtype=[np.float64, np.float32],
                         order="F", multi_output=True, y_numeric=True)
        data = layout(X, y, sample_weight, fit_intercept)
    gram = gram_of(data) if use_gram(precompute, data) else None
    if grid is None:
        engine_penalty(penalty, data, gram)
        grid = alpha_grid(penalty, data, gram, n, eps)
    coefs, _, gaps = path_on(data, penalty, grid, options, gram)
    if data.single_target:
        return grid, coefs[0], gaps[0]
    return grid, coefs, gaps


def _fold_mse(X: Any, y: np.ndarray, sw: Optional[np.ndarray], train: np.ndarray,
              test: np.ndarray, fit_intercept: bool, penalty: _penalties.Penalty,
              alphas: np.ndarray, options: Options, precompute: Any) -> np.ndarray:
    """Mean squared test error of the training path at every alpha (one fold)."""
    Xtr = X[train]
    if not isinstance(Xtr, np.ndarray):
        Xtr = Xtr.tocsc()
    else:
        Xtr = np.asfortranarray(Xtr)
    data = layout(Xtr, y[train], None if sw is None else sw[train], fit_intercept)
    gram = gram_of(data) if use_gram(precompute, data) else None
    coefs, intercepts, _ = path_on(data, penalty, alphas, options, gram, warn=False)
    pred = np.asarray(X[test] @ coefs[0]) + intercepts[0]
    err = (y[test, None].astype(np.float64) - pred) ** 2
    w = None if sw is None else sw[test]
    return np.average(err, axis=0, weights=w)


class _PathCV(_LinearModel):
    """Cross-validated choice of the strength along a path; refits the best on all data."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False  # one target, as scikit-learn's LassoCV
        return tags

    def _families(self) -> List[Tuple[float, _penalties.Penalty]]:  # pragma: no cover
        """(scale, penalty family) pairs: the path strength is alpha * scale."""
        raise NotImplementedError

    def _final(self, l1_ratio: float, alpha: float) -> _LinearModel:  # pragma: no cover
        raise NotImplementedError

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "_PathCV":
        """Fit the path on each fold, choose the strength of least mean squared test error,
        and refit it on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        from joblib import Parallel, delayed
        from sklearn.model_selection import check_cv

        if is_dask_array(X) or is_dask_array(y):
            raise TypeError(f"{type(self).__name__} takes in-memory X and y; to run its folds on "
                            "a dask cluster, fit inside joblib.parallel_config('dask')")
        fit_intercept = flag(self.fit_intercept, "fit_intercept")
        options = check_options(self.max_iter, self.tol, self.positive,
                                getattr(self, "selection", "cyclic"),
                                getattr(self, "random_state", None))
        grid, n, eps = _check_alphas(self.alphas, 100, self.eps)
        families = self._families()
        data = prepare(self, X, y, sample_weight, fit_intercept, multi_output=False)
        X, Y, sw = data.X, data.Y[:, 0], data.sample_weight
        for _, pen in families:
            engine_penalty(pen, data)
        # a family's path strength is alpha * scale (ElasticNetCV: l1 = alpha * l1_ratio)
        grids = [grid * scale if grid is not None else alpha_grid(pen, data, None, n, eps)
                 for scale, pen in families]
        folds = list(check_cv(self.cv).split(np.zeros((data.n_samples, 1)), Y))
        jobs = [(i, f) for i in range(len(families)) for f in range(len(folds))]
        mses = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_fold_mse)(X, Y, sw, folds[f][0], folds[f][1], fit_intercept,
                               families[i][1], grids[i], options, self.precompute)
            for i, f in jobs)
        mse = np.zeros((len(families), len(grids[0]), len(folds)))
        for (i, f), m in zip(jobs, mses):
            mse[i, :, f] = m
        mean = mse.mean(axis=2)
        best_i, best_a = np.unravel_index(np.argmin(mean), mean.shape)
        scale = families[best_i][0]
        self.alpha_ = float(grids[best_i][best_a]) / scale
        final = self._final(scale, self.alpha_)
        final.fit(X, Y, sample_weight=sw)
        alphas = np.array(grids) / np.array([s for s, _ in families])[:, None]
        many = np.ndim(getattr(self, "l1_ratio", 0.0)) > 0
        self.mse_path_ = mse if many else mse[0]
        self.alphas_ = alphas if many else alphas[0]
        if hasattr(self, "l1_ratio"):
            self.l1_ratio_ = scale
        for name in ("coef_", "intercept_", "n_iter_", "dual_gap_", "kkt_violation_"):
            if hasattr(final, name):
                setattr(self, name, getattr(final, name))
        return self


_CV_PARAMS = """
    eps : float, default 1e-3
        The grid goes from alpha_max down to ``eps * alpha_max``.
    alphas : int or array-like, default 100
        The number of strengths on the grid, or the strengths themselves.
    fit_intercept : bool, default True
    precompute : bool or "auto", default "auto"
    max_iter : int, default 1000
    tol : float, default 1e-4
    cv : int, cross-validation generator or iterable, optional
        scikit-learn's ``cv`` (5-fold by default).
    n_jobs : int, optional
        Folds run in parallel threads (joblib; the C++ solver releases the GIL), or on a dask
        cluster inside ``with joblib.parallel_config("dask"):`` (a distributed Client active).
    positive : bool, default False
"""


class LassoCV(_PathCV):
    __doc__ = """Lasso with the strength chosen by cross-validation (scikit-learn's LassoCV).

    Parameters
    ----------""" + _CV_PARAMS + """    copy_X, verbose : accepted for scikit-learn compatibility.
    random_state, selection : as in Lasso.

    Attributes
    ----------
    alpha_, alphas_, mse_path_ (n_alphas, n_folds), coef_, intercept_, dual_gap_, n_iter_

    Examples
    --------
    >>> import numpy as np
    >>> from lkreg.linear_model import LassoCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 8))
    >>> y = X[:, 0] - 2 * X[:, 3] + 0.1 * rng.standard_normal(60)
    >>> model = LassoCV(cv=3).fit(X, y)
    >>> model.mse_path_.shape
    (100, 3)
    >>> np.flatnonzero(np.abs(model.coef_) > 0.1)
    array([0, 3])
    """

    def __init__(self, *, eps: float = 1e-3, alphas: Any = 100, fit_intercept: bool = True,
                 precompute: Any = "auto", max_iter: int = 1000, tol: float = 1e-4,
                 copy_X: bool = True, cv: Any = None, verbose: Any = False, n_jobs: Any = None,
                 positive: bool = False, random_state: Any = None,
                 selection: str = "cyclic") -> None:
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.copy_X = copy_X
        self.cv = cv
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection

    def _families(self):
        return [(1.0, _penalties.L1(1.0))]

    def _final(self, l1_ratio, alpha):
        return Lasso(alpha, fit_intercept=self.fit_intercept, precompute=self.precompute,
                     max_iter=self.max_iter, tol=self.tol, positive=self.positive,
                     random_state=self.random_state, selection=self.selection)


class ElasticNetCV(_PathCV):
    __doc__ = """ElasticNet with the strength (and l1_ratio) chosen by cross-validation.

    Parameters
    ----------
    l1_ratio : float or list of float, default 0.5
        One path per ratio; the best pair wins.""" + _CV_PARAMS + """    copy_X, verbose : accepted for scikit-learn compatibility.
    random_state, selection : as in ElasticNet.

    Attributes
    ----------
    alpha_, l1_ratio_, alphas_, mse_path_ ((n_l1_ratio,) n_alphas, n_folds), coef_, intercept_,
    dual_gap_, n_iter_

    Examples
    --------
    >>> import numpy as np
    >>> from lkreg.linear_model import ElasticNetCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 8))
    >>> y = X[:, 0] - 2 * X[:, 3] + 0.1 * rng.standard_normal(60)
    >>> model = ElasticNetCV(l1_ratio=[0.5, 0.9], cv=3).fit(X, y)
    >>> model.mse_path_.shape
    (2, 100, 3)
    """

    def __init__(self, *, l1_ratio: Any = 0.5, eps: float = 1e-3, alphas: Any = 100,
                 fit_intercept: bool = True, precompute: Any = "auto", max_iter: int = 1000,
                 tol: float = 1e-4, cv: Any = None, copy_X: bool = True, verbose: Any = 0,
                 n_jobs: Any = None, positive: bool = False, random_state: Any = None,
                 selection: str = "cyclic") -> None:
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection

    def _families(self):
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))
        out = []
        for r in ratios:
            r = fraction(float(r), "l1_ratio")
            if r == 0:
                raise ValueError("l1_ratio must be > 0 for a path (alpha_max is infinite at 0)")
            out.append((r, _penalties.ElasticNet(r, 0.5 * (1.0 - r))))
        return out

    def _final(self, l1_ratio, alpha):
        return ElasticNet(alpha, l1_ratio=l1_ratio, fit_intercept=self.fit_intercept,
                          precompute=self.precompute, max_iter=self.max_iter, tol=self.tol,
                          positive=self.positive, random_state=self.random_state,
                          selection=self.selection)


class PenalizedRegressionCV(_PathCV):
    __doc__ = """PenalizedRegression with the strength of its penalty chosen by cross-validation.

    Parameters
    ----------
    penalty : lkreg penalty, default None (L1)
        The family: its ``lam`` (``l1`` for ElasticNet, ratio kept) runs over the grid.""" + \
        _CV_PARAMS + """
    Attributes
    ----------
    alpha_ : the chosen strength; alphas_, mse_path_ (n_alphas, n_folds), coef_, intercept_,
    n_iter_, dual_gap_ or kkt_violation_

    Examples
    --------
    >>> import numpy as np
    >>> import lkreg
    >>> from lkreg.linear_model import PenalizedRegressionCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 8))
    >>> y = X[:, 0] - 2 * X[:, 3] + 0.1 * rng.standard_normal(60)
    >>> model = PenalizedRegressionCV(lkreg.Lk(1.5), alphas=20, cv=3).fit(X, y)
    >>> model.best_penalty_.k
    1.5
    """

    def __init__(self, penalty: Optional[_penalties.Penalty] = None, *, eps: float = 1e-3,
                 alphas: Any = 100, fit_intercept: bool = True, precompute: Any = "auto",
                 max_iter: int = 1000, tol: float = 1e-4, cv: Any = None, n_jobs: Any = None,
                 positive: bool = False) -> None:
        self.penalty = penalty
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.n_jobs = n_jobs
        self.positive = positive

    def _families(self):
        return [(1.0, _penalties.L1(1.0) if self.penalty is None else self.penalty)]

    def _final(self, l1_ratio, alpha):
        self.best_penalty_ = with_strength(self._families()[0][1], alpha)
        return PenalizedRegression(self.best_penalty_, fit_intercept=self.fit_intercept,
                                   precompute=self.precompute, max_iter=self.max_iter,
                                   tol=self.tol, positive=self.positive)


__all__ = ["regularization_path", "LassoCV", "ElasticNetCV", "PenalizedRegressionCV",
           "with_strength", "alpha_max", "path_on"]
