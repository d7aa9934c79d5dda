"""Data preparation and the call into the C++ coordinate-descent engine.

Every estimator of lkreg.linear_model goes through ``prepare`` (X, y and sample_weight checked
and laid out once: dense X in Fortran order in its own dtype, sparse X as CSC) and
``solve_target`` (one target, one penalty description, one C++ call that releases the GIL).
The intercept is never penalized: the engine centers implicitly with the weighted column
means, so X is never centered in memory.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from .. import _core
from .._validation import choice, flag, integer, is_dask_array, nonnegative


def _is_sparse(X: Any) -> bool:
    # scipy is imported only when such input arrives: it is a sparse matrix iff scipy is
    # already loaded (whoever built the matrix imported it)
    import sys

    sp = sys.modules.get("scipy.sparse")
    return sp is not None and sp.issparse(X)


@dataclass
class Data:
    """X, y and the weights as the engine reads them."""

    X: Any  # Fortran-ordered ndarray, scipy.sparse CSC, or a dask array (with gram)
    Y: Any  # (n_samples, n_targets), X's dtype (a dask array with a dask X)
    sample_weight: Optional[np.ndarray]  # X's dtype, or None
    weight_sum: float
    x_mean: Optional[np.ndarray]  # float64 (p,), None without intercept
    y_mean: np.ndarray  # float64 (n_targets,), zeros without intercept
    fit_intercept: bool
    single_target: bool
    # the Gram statistics, already computed: a dask X's one distributed pass (lkreg.dask)
    gram: Optional["Gram"] = None

    @property
    def sparse(self) -> bool:
        return _is_sparse(self.X)

    @property
    def dtype(self) -> np.dtype:
        return self.X.dtype

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        return self.X.shape[1]


def prepare(estimator: Any, X: Any, y: Any, sample_weight: Any, fit_intercept: bool,
            multi_output: bool = True, reset: bool = True) -> Data:
    """Validate (scikit-learn's checks and errors, which set n_features_in_ and
    feature_names_in_) and lay out the data once. A dask X (or y) gets its Gram statistics
    from one distributed pass instead (lkreg.dask)."""
    from sklearn.utils.validation import validate_data

    if is_dask_array(X) or is_dask_array(y):
        from ..dask._models import prepare_dask

        return prepare_dask(estimator, X, y, sample_weight, fit_intercept, multi_output, reset)

    X, y = validate_data(
        estimator, X, y, reset=reset, accept_sparse=["csc", "csr"], dtype=[np.float64, np.float32],
        order="F", multi_output=multi_output, y_numeric=True, copy=False,
    )
    return layout(X, y, sample_weight, fit_intercept)


def layout(X: Any, y: Any, sample_weight: Any, fit_intercept: bool) -> Data:
    """Data for X (checked: Fortran-ordered float array or sparse), y and the weights."""
    from sklearn.utils.validation import _check_sample_weight

    if _is_sparse(X):
        X = X.tocsc()  # CSR is converted (a copy); CSC is used as it is
    y = np.asarray(y)
    single = y.ndim == 1
    Y = np.asarray(y, dtype=X.dtype).reshape(X.shape[0], -1)
    if sample_weight is not None:
        sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
        weight_sum = float(np.sum(sw, dtype=np.float64))
        if not weight_sum > 0:
            raise ValueError("sample_weight must have a positive sum")
    else:
        sw = None
        weight_sum = float(X.shape[0])
    if fit_intercept:
        if _is_sparse(X):
            ones = np.ones(X.shape[0], dtype=np.float64) if sw is None else sw.astype(np.float64)
            x_mean = np.asarray(X.T @ ones, dtype=np.float64).ravel() / weight_sum
        elif sw is None:
            x_mean = X.mean(axis=0, dtype=np.float64)
        else:  # a product in X's dtype: no float64 copy of X
            x_mean = np.asarray(sw @ X, dtype=np.float64) / weight_sum
        y_mean = np.average(Y.astype(np.float64), axis=0, weights=sw)
    else:
        x_mean = None
        y_mean = np.zeros(Y.shape[1])
    return Data(X, Y, sw, weight_sum, x_mean, np.atleast_1d(y_mean), fit_intercept, single)


def use_gram(precompute: Any, data: Data) -> bool:
    if data.gram is not None:  # a dask X: the Gram statistics are all there is in memory
        return True
    if isinstance(precompute, str):
        if precompute != "auto":
            raise ValueError(f"precompute must be True, False or 'auto', got {precompute!r}")
        return data.n_samples > data.n_features
    if isinstance(precompute, (bool, np.bool_)):
        return bool(precompute)
    raise ValueError(f"precompute must be True, False or 'auto', got {precompute!r}")


@dataclass
class Gram:
    """X_c' W X_c / S and its companions for every target (computed once with BLAS)."""

    gram: np.ndarray
    xty: np.ndarray  # (n_targets, p)
    yty: np.ndarray  # (n_targets,)


def gram_of(data: Data) -> Gram:
    if data.gram is not None:
        return data.gram
    X, sw, S = data.X, data.sample_weight, data.weight_sum
    Xw = X if sw is None else (X.multiply(sw[:, None]).tocsc() if data.sparse else X * sw[:, None])
    G = Xw.T @ X
    G = np.asarray(G.toarray() if hasattr(G, "toarray") else G, dtype=np.float64)
    xty = np.asarray(Xw.T @ data.Y, dtype=np.float64).T  # (n_targets, p)
    Yw = data.Y if sw is None else data.Y * sw[:, None]
    yty = np.einsum("ij,ij->j", data.Y.astype(np.float64), Yw.astype(np.float64))
    return gram_from_moments(G, xty, yty, data.x_mean, data.y_mean, S)


def gram_from_moments(G: np.ndarray, xty: np.ndarray, yty: np.ndarray,
                      x_mean: Optional[np.ndarray], y_mean: np.ndarray, S: float) -> Gram:
    """The engine's Gram statistics from the raw weighted moments X'WX (p, p), Y'WX
    (n_targets, p) and sum W y^2 (n_targets,), centered with the weighted means when given
    (the intercept), all divided by the weight sum S."""
    G, xty, yty = (np.array(a, dtype=np.float64) for a in (G, xty, yty))
    if x_mean is not None:
        mu = x_mean
        G -= S * np.outer(mu, mu)
        xty -= S * np.outer(y_mean, mu)
        yty -= S * y_mean**2
    G /= S
    return Gram(np.ascontiguousarray((G + G.T) / 2), np.ascontiguousarray(xty / S),
                np.maximum(yty, 0.0) / S)


def grad_at_zero(data: Data, t: int, gram: Optional[Gram] = None) -> np.ndarray:
    """The loss gradient at w = 0 (intercept fitted): -X_c' W y_c / S, float64 (p,)."""
    if gram is not None:
        return -gram.xty[t]
    y = data.Y[:, t]
    yw = y if data.sample_weight is None else y * data.sample_weight
    xty = np.asarray(data.X.T @ yw, dtype=np.float64).ravel()
    if data.x_mean is not None:
        xty -= data.weight_sum * data.y_mean[t] * data.x_mean
    return -xty / data.weight_sum


@dataclass
class Options:
    max_iter: int
    tol: float
    positive: bool = False
    random_selection: bool = False
    seed: int = 0


def check_options(max_iter: Any, tol: Any, positive: Any = False, selection: str = "cyclic",
                  random_state: Any = None) -> Options:
    """The solver arguments every estimator shares, checked in one place."""
    max_iter = integer(max_iter, "max_iter", 1)
    tol = nonnegative(tol, "tol")
    positive = flag(positive, "positive")
    selection = choice(selection, "selection", ("cyclic", "random"))
    seed = 0
    if selection == "random":
        from sklearn.utils import check_random_state

        seed = int(check_random_state(random_state).randint(0, 2**31 - 1))
    return Options(max_iter, tol, positive, selection == "random", seed)


@dataclass
class Groups:
    """A group lasso for the engine: features ordered by group, block steps, strength."""

    ptr: np.ndarray  # int64 (n_groups + 1,)
    features: np.ndarray  # int64 (p,)
    lipschitz: np.ndarray  # float64 (n_groups,): largest eigenvalue of X_gc' W X_gc / S
    lam: float


def groups_of(ids: np.ndarray, lam: float, data: Data, gram: Optional[Gram]) -> Groups:
    """Groups from one id per feature (0..G-1); block steps from each block's spectral norm."""
    order = np.argsort(ids, kind="stable").astype(np.int64)
    ptr = np.concatenate([[0], np.cumsum(np.bincount(ids))]).astype(np.int64)
    lips = np.zeros(len(ptr) - 1)
    sw = data.sample_weight
    for g in range(len(lips)):
        F = order[ptr[g]:ptr[g + 1]]
        if F.size == 0:
            continue
        if gram is not None:
            lips[g] = np.linalg.eigvalsh(gram.gram[np.ix_(F, F)])[-1]
            continue
        block = data.X[:, F]
        block = np.asarray(block.toarray() if hasattr(block, "toarray") else block, dtype=np.float64)
        if data.x_mean is not None:
            block -= data.x_mean[F]
        if sw is not None:
            block *= np.sqrt(sw.astype(np.float64))[:, None]
        lips[g] = np.linalg.norm(block, 2) ** 2 / data.weight_sum
    return Groups(ptr, order, lips, float(lam))


@dataclass
class Solution:
    coef: np.ndarray  # float64 (p,)
    intercept: float
    n_iter: int
    gap: float
    kkt: float
    tol: float
    converged: bool
    primal: float


def solve_target(data: Data, t: int, description: _core.PenaltyParams, options: Options,
                 w0: Optional[np.ndarray] = None, gram: Optional[Gram] = None,
                 groups: Optional[Groups] = None) -> Solution:
    """Minimize 1/(2S) sum_i s_i (y_ti - x_i w - b)^2 + penalty(w) for target t (the group
    lasso of ``groups`` instead of ``description`` when given)."""
    w = np.zeros(data.n_features) if w0 is None else np.array(w0, dtype=np.float64)
    opts = _core.SolverOptions(description, options.max_iter, options.tol, options.positive,
                               options.random_selection, options.seed)
    grouped = {} if groups is None else dict(
        group_ptr=groups.ptr, group_features=groups.features, group_lipschitz=groups.lipschitz,
        group_lam=groups.lam)
    if gram is not None:
        r = _core.coordinate_descent_gram(opts, w, gram.gram, gram.xty[t], float(gram.yty[t]),
                                          **grouped)
        intercept = float(data.y_mean[t] - data.x_mean @ w) if data.x_mean is not None else 0.0
    else:
        y = np.ascontiguousarray(data.Y[:, t])
        common = dict(y=y, sample_weight=data.sample_weight, x_mean=data.x_mean,
                      y_mean=float(data.y_mean[t]), weight_sum=data.weight_sum, **grouped)
        if data.sparse:
            X = data.X
            indptr = X.indptr.astype(np.int64, copy=False)
            r = _core.coordinate_descent(opts, w, data=X.data, indices=X.indices, indptr=indptr,
                                         n_samples=X.shape[0], **common)
        else:
            r = _core.coordinate_descent(opts, w, X=data.X, **common)
        intercept = r["intercept"]
    return Solution(w, intercept, r["n_iter"], r["gap"], r["kkt"], r["tol"], r["converged"],
                    r["primal"])


def warn_not_converged(sol: Solution, convex: bool) -> None:
    from sklearn.exceptions import ConvergenceWarning

    if convex:
        msg = (f"Objective did not converge: duality gap {sol.gap:.3e}, tolerance {sol.tol:.3e}. "
               "Increase max_iter, or scale the features.")
    else:
        msg = (f"Objective did not converge: KKT violation {sol.kkt:.3e}, tolerance "
               f"{sol.tol:.3e}. Increase max_iter.")
    warnings.warn(msg, ConvergenceWarning, stacklevel=3)


def objective(data: Data, t: int, coef: np.ndarray, intercept: float, penalty_value: float) -> float:
    """1/(2S) sum s (y - Xw - b)^2 + penalty_value, in float64 (tests and benchmarks)."""
    r = data.Y[:, t].astype(np.float64) - data.X @ coef.astype(np.float64) - intercept
    s = 1.0 if data.sample_weight is None else data.sample_weight.astype(np.float64)
    return float(np.sum(s * r * r) / (2 * data.weight_sum) + penalty_value)


__all__ = ["Data", "Gram", "Options", "Solution", "prepare", "use_gram", "gram_of",
           "gram_from_moments",
           "check_options", "Groups", "groups_of", "grad_at_zero", "layout", "solve_target", "warn_not_converged", "objective"]
