"""Ridge regression, scikit-learn's objective, on the Gram matrix or the coordinate-descent engine."""

from __future__ import annotations

from typing import Any, List

import numpy as np

from .. import penalties as _penalties
from .._validation import choice, flag, integer, nonnegative
from ._coordinate_descent import _LinearModel
from ._data import check_options, gram_of, prepare, solve_target, warn_not_converged


class Ridge(_LinearModel):
    """Linear least squares with an L2 penalty, scikit-learn's Ridge.

    Minimizes ``||y - Xw - b||^2 + alpha*||w||^2`` (weighted by ``sample_weight``, no 1/n).

    Parameters
    ----------
    alpha : float or array of shape (n_targets,), default 1.0
        Strength, >= 0.
    fit_intercept : bool, default True
    copy_X : bool, default True
        Accepted for scikit-learn compatibility: X is never modified.
    max_iter : int, optional
        Epochs of ``solver="cd"`` (default 1000).
    tol : float, default 1e-4
        ``solver="cd"``: duality gap below ``tol * ||y - mean(y)||^2 / n``.
    solver : {"auto", "cholesky", "cd"}, default "auto"
        "cholesky" solves ``(X_c' W X_c + alpha I) w = X_c' W y_c`` (LAPACK); "cd" runs lkreg's
        coordinate descent with ``L2(alpha / (2n))``. "auto": "cholesky" for dense X without
        ``positive``, else "cd".
    positive : bool, default False
        Coefficients >= 0 (``solver="cd"``).
    random_state : None
        Accepted for scikit-learn compatibility.

    Attributes
    ----------
    coef_, intercept_, n_features_in_, feature_names_in_
    n_iter_ : None, int or list of int
        None for "cholesky".

    Examples
    --------
    >>> import numpy as np
    >>> from lkreg.linear_model import Ridge
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> y = np.array([1.0, 3.0, 5.0, 7.0])
    >>> np.round(Ridge(alpha=1.0).fit(X, y).coef_, 3)
    array([ 1.636, -0.182])
    """

    def __init__(self, alpha: Any = 1.0, *, fit_intercept: bool = True, copy_X: bool = True,
                 max_iter: Any = None, tol: float = 1e-4, solver: str = "auto",
                 positive: bool = False, random_state: Any = None) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.positive = positive
        self.random_state = random_state

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "Ridge":
        """Fit ridge regression.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        fit_intercept = flag(self.fit_intercept, "fit_intercept")
        solver = choice(self.solver, "solver", ("auto", "cholesky", "cd"))
        positive = flag(self.positive, "positive")
        max_iter = 1000 if self.max_iter is None else integer(self.max_iter, "max_iter", 1)
        options = check_options(max_iter, self.tol, positive)
        data = prepare(self, X, y, sample_weight, fit_intercept)
        k = data.Y.shape[1]
        alphas = np.broadcast_to(np.asarray(self.alpha, dtype=np.float64).ravel()
                                 if np.ndim(self.alpha) else float(self.alpha), (k,))
        if np.ndim(self.alpha) and np.size(self.alpha) not in (1, k):
            raise ValueError(f"alpha must be a number or have one entry per target ({k}), "
                             f"got {np.size(self.alpha)}")
        for a in alphas:
            nonnegative(float(a), "alpha")
        if solver == "auto":
            solver = "cd" if data.sparse or positive else "cholesky"
        if solver == "cholesky" and positive:
            raise ValueError("positive=True needs solver='cd' or 'auto'")
        gram = (gram_of(data) if solver == "cholesky" or data.n_samples > data.n_features
                or data.gram is not None else None)
        coefs = np.zeros((k, data.n_features))
        intercepts = np.zeros(k)
        n_iters: List[Any] = []
        for t in range(k):
            S = data.weight_sum
            if solver == "cholesky":
                assert gram is not None
                A = gram.gram + (alphas[t] / S) * np.eye(data.n_features)
                try:
                    coefs[t] = np.linalg.solve(A, gram.xty[t])
                except np.linalg.LinAlgError:  # singular (alpha = 0, collinear): least norm
                    coefs[t] = np.linalg.lstsq(A, gram.xty[t], rcond=None)[0]
                intercepts[t] = (data.y_mean[t] - data.x_mean @ coefs[t]
                                 if data.x_mean is not None else 0.0)
                n_iters.append(None)
            else:
                description = _penalties.L2(alphas[t] / (2.0 * S)).description()
                sol = solve_target(data, t, description, options, None, gram)
                if not sol.converged:
                    warn_not_converged(sol, True)
                coefs[t], intercepts[t] = sol.coef, sol.intercept
                n_iters.append(sol.n_iter)
        self._set_fitted(data, coefs, intercepts, n_iters, np.zeros(k))
        del self.dual_gap_
        if data.single_target:
            self.n_iter_ = n_iters[0]
        else:
            self.n_iter_ = None if n_iters[0] is None else np.array(n_iters)
        return self


__all__ = ["Ridge"]
