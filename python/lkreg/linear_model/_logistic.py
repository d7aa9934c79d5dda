"""Penalized logistic regression, binary and multinomial, on the C++ proximal Newton solver.

The objective is scikit-learn's: ``C * sum_i s_i * log-loss_i + penalty(W)`` (s_i the sample
weight times the class weight), the intercepts never penalized. ``_core.logistic_regression``
runs the outer proximal Newton loop and its inner coordinate-descent solves in C++ (the
penalty entering through its scalar prox). Binary problems with a smooth penalty whose Hessian
is bounded (L2, Lk with k >= 2, none) on dense X with few features take
truncated Newton steps instead (``_newton``: conjugate gradients on exact Hessian-vector
products, preconditioned by a subsampled Hessian from one small BLAS call), and other
problems, binary or multinomial, with n_samples >> n_features on dense X proximal Newton on
the Gram form (``_gram_newton``: the model's Hessian by BLAS, over a working set of
coefficients for non-smooth penalties, the engine's Gram variant inside; the same solver fits
dask arrays, one distributed pass per step):
both reach in a handful of passes over X what the coordinate-descent inner loop of the
residual form needs many for.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Optional, Tuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model._base import LinearClassifierMixin, SparseCoefMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import _core
from .. import penalties as _penalties
from .._validation import (choice, flag, fraction, integer, is_dask_array, nonnegative,
                           positive)
from ._data import _is_sparse

# truncated Newton (smooth binary problems, dense X) up to this many features (a (p+1)^2
# preconditioner); its preconditioner from this many rows (at least 4 p), rebuilt after a solve
# of more than NEWTON_REFRESH_CG conjugate-gradient iterations
NEWTON_MAX_FEATURES = 1000
NEWTON_PRECONDITIONER_ROWS = 4000
NEWTON_REFRESH_CG = 10
# the Gram form (any penalty, dense) from this many samples per feature and this size (samples
# times coefficients; below it, e.g. on iris, the C++ solver's passes cost less than the Gram
# form's Python steps), up to this many coefficients (the Hessian is their square, 32 MB)
GRAM_MIN_SAMPLES_PER_FEATURE = 20
GRAM_MIN_SIZE = 10**6
GRAM_MAX_COEFFICIENTS = 2000


def sklearn_penalty(penalty: Any, l1_ratio: Any) -> Optional[_penalties.Penalty]:
    """The lkreg penalty for scikit-learn's names ("l2": 0.5 ||w||^2, "l1", "elasticnet" with
    l1_ratio, None), or the lkreg penalty itself; an error naming the argument otherwise."""
    if penalty is None or (isinstance(penalty, str) and penalty == "none"):
        return None
    if isinstance(penalty, _penalties.Penalty):
        if isinstance(penalty, _penalties.GroupL2):
            raise ValueError("penalty GroupL2 is not supported by LogisticRegression: use an "
                             "element-wise penalty (L1, L2, ElasticNet, Lk, L0)")
        return penalty
    if isinstance(penalty, str):
        name = choice(penalty, "penalty", ("l1", "l2", "elasticnet"))
        if name == "l2":
            return _penalties.L2(0.5)
        if name == "l1":
            return _penalties.L1(1.0)
        if l1_ratio is None:
            raise ValueError("l1_ratio must be a number in [0, 1] with penalty='elasticnet', "
                             "got None")
        r = fraction(l1_ratio, "l1_ratio")
        return _penalties.ElasticNet(r, 0.5 * (1.0 - r))
    raise TypeError(f"penalty must be 'l1', 'l2', 'elasticnet', None or an lkreg penalty, got "
                    f"{type(penalty).__name__}")


@dataclass
class Problem:
    """X, the labels and the folded weights c_i = C * s_i as the solver reads them."""

    X: Any  # Fortran-ordered float ndarray, or scipy.sparse CSC
    labels: np.ndarray  # int32 (n,), in 0 .. n_classes - 1
    weight: np.ndarray  # float64 (n,): sample_weight * class_weight (C not folded)
    n_classes: int
    fit_intercept: bool

    @property
    def n_rows(self) -> int:
        return 1 if self.n_classes == 2 else self.n_classes


def problem_of(X: Any, labels: np.ndarray, n_classes: int, sample_weight: Any,
               class_weight: Any, classes: np.ndarray, y: np.ndarray,
               fit_intercept: bool) -> Problem:
    from sklearn.utils.class_weight import compute_class_weight
    from sklearn.utils.validation import _check_sample_weight

    if _is_sparse(X):
        X = X.tocsc()
    if sample_weight is not None:
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    else:
        sw = np.ones(X.shape[0])
    if class_weight is not None:
        cw = compute_class_weight(class_weight, classes=classes, y=y)
        sw = sw * cw[labels]
    if not np.sum(sw) > 0:
        raise ValueError("sample_weight must have a positive sum")
    return Problem(X, labels.astype(np.int32), np.ascontiguousarray(sw, dtype=np.float64),
                   n_classes, fit_intercept)


@dataclass
class Fit:
    W: np.ndarray  # float64 (m, p)
    b: np.ndarray  # float64 (m,)
    n_iter: int
    kkt: float
    objective: float
    converged: bool


def penalty_description(penalty: Optional[_penalties.Penalty], size: int) -> _core.PenaltyParams:
    if penalty is None:
        return _penalties.L2(0.0).description()
    description = penalty.description(size=size)
    if description is None:  # pragma: no cover - every non-group lkreg penalty is element-wise
        raise ValueError(f"penalty={penalty!r} has no scalar prox")
    return description


def solve(pb: Problem, C: float, penalty: Optional[_penalties.Penalty], max_iter: int,
          tol: float, W0: Optional[np.ndarray] = None, b0: Optional[np.ndarray] = None) -> Fit:
    """Minimize C * sum_i s_i loss_i + penalty(W) (warm-started at W0, b0 when given)."""
    m, p = pb.n_rows, pb.X.shape[1]
    W = np.zeros((m, p)) if W0 is None else np.array(W0, dtype=np.float64, order="C")
    b = np.zeros(m) if b0 is None else np.array(b0, dtype=np.float64)
    description = penalty_description(penalty, m * p)
    weight = pb.weight * C
    if uses_newton(pb, penalty) or uses_gram(pb):
        newton = _newton if uses_newton(pb, penalty) else _gram_newton
        with one_blas_thread():
            return newton(pb, weight, description, max_iter, tol, W, b)
    common = dict(labels=pb.labels, weight=weight, n_classes=pb.n_classes,
                  fit_intercept=pb.fit_intercept, max_iter=max_iter, tol=tol)
    if _is_sparse(pb.X):
        X = pb.X
        r = _core.logistic_regression(description, W, b, data=X.data, indices=X.indices,
                                      indptr=X.indptr.astype(np.int64, copy=False),
                                      n_samples=X.shape[0], **common)
    else:
        r = _core.logistic_regression(description, W, b, X=pb.X, **common)
    return Fit(W, b, r["n_iter"], r["kkt"], r["objective"], r["converged"])


def uses_newton(pb: Problem, penalty: Optional[_penalties.Penalty]) -> bool:
    """Exact Newton: binary, dense, few features, and a penalty with a bounded Hessian."""
    if pb.n_classes != 2 or _is_sparse(pb.X) or pb.X.shape[1] > NEWTON_MAX_FEATURES:
        return False
    if penalty is None:
        return True
    d = penalty.description()
    kind = _core.PenaltyKind
    return (d.kind == kind.L2 or (d.kind == kind.Lk and d.k >= 2.0)
            or (d.kind == kind.ElasticNet and d.lam == 0))


def uses_gram(pb: Problem) -> bool:
    """Proximal Newton on the Gram form: dense, n_samples >> n_features, a Hessian of at most
    GRAM_MAX_COEFFICIENTS squared, and large enough that forming X' A X by BLAS costs less than
    the coordinate-descent passes it saves (n_samples times the number of coefficients)."""
    n, p = pb.X.shape
    n_coef = pb.n_rows * p
    return (not _is_sparse(pb.X) and p <= NEWTON_MAX_FEATURES
            and n_coef <= GRAM_MAX_COEFFICIENTS
            and n >= GRAM_MIN_SAMPLES_PER_FEATURE * p and n * n_coef >= GRAM_MIN_SIZE)


def _line_search(loss, pen, eta: np.ndarray, delta: np.ndarray, w: np.ndarray,
                 w_new: np.ndarray, f: float, slope: float):
    """Backtracking (Armijo) on the true objective from (w, eta) towards (w_new, eta + delta):
    (t, f_t, w_t, eta_t), t = 0 when no step lowers it. t = 1 takes w_new itself (its exact
    zeros kept)."""
    t = 1.0
    for _ in range(40):
        w_t = w_new if t == 1.0 else w + t * (w_new - w)
        e_t = eta + t * delta
        f_t = loss(e_t) + pen(w_t)
        if f_t <= f + 1e-4 * t * slope or (f_t < f and slope >= 0):
            return t, f_t, w_t, e_t
        t *= 0.5
    return 0.0, f, w, eta


_controller = None


def one_blas_thread():
    """A context in which BLAS runs on one thread (the Newton solvers run in it): their p x p
    factors and solves are too small to share, their matrix-vector products are memory-bound,
    and on a busy machine a second BLAS thread that is not scheduled made a 0.3 ms Cholesky
    take tens of ms and a 10 ms syrk hundreds (measured); results also keep their bits
    whatever the thread settings."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def _newton(pb: Problem, weight: np.ndarray, d: _core.PenaltyParams, max_iter: int, tol: float,
            W: np.ndarray, b: np.ndarray) -> Fit:
    """Truncated Newton for binary logistic regression with a smooth penalty (see the module
    docstring), the same objective, KKT measure and tol as the C++ solver.

    Each step solves H s = -g by conjugate gradients with exact Hessian-vector products
    (X' (D (X v)): two passes over X), preconditioned by the Cholesky factor of the Hessian of
    a strided subsample of rows (one small BLAS syrk), to the forcing tolerance
    min(0.5, sqrt(|g| / |g_0|)) |g|; then a backtracking line search on the true objective.
    The preconditioner is rebuilt when a solve needs many iterations (the weights moved)."""
    from scipy.linalg import cho_factor, cho_solve
    from scipy.linalg.blas import dsyrk
    from scipy.special import expit, log_expit

    X, y = pb.X, pb.labels.astype(np.float64)
    n, p = X.shape
    total = float(weight.sum())
    fi = pb.fit_intercept
    w, b0 = W[0].copy(), float(b[0]) if fi else 0.0
    kind = _core.PenaltyKind
    if d.kind == kind.ElasticNet:
        lam, k = d.l2, 2.0
    else:
        lam, k = d.lam, (2.0 if d.kind == kind.L2 else d.k)
    rows = np.arange(0, n, max(1, n // max(NEWTON_PRECONDITIONER_ROWS, 4 * p)))
    Xs = np.asfortranarray(X[rows], dtype=np.float64)
    rows_scale = n / len(rows)
    block = max(256, 65536 // max(p, 1))

    def pen(v):
        return lam * float(np.sum(np.abs(v) ** k))

    def pen_curv(v):  # the penalty's Hessian diagonal
        return np.full(p, 2 * lam) if k == 2 else lam * k * (k - 1) * np.abs(v) ** (k - 2)

    def loss(eta):
        return float(-weight @ log_expit(np.where(y > 0, eta, -eta)))

    def matvec(v):
        return np.asarray(X @ v.astype(X.dtype, copy=False), dtype=np.float64)

    def rmatvec(u):
        return np.asarray(X.T @ u.astype(X.dtype, copy=False), dtype=np.float64)

    def precondition(res):
        return cho_solve(fac, res, check_finite=False)

    def preconditioner(h, curv):
        hs = h[rows] * rows_scale
        H = np.zeros((p + 1, p + 1))
        H[:p, :p] = dsyrk(1.0, Xs * np.sqrt(hs)[:, None], trans=1, lower=0)
        H[np.arange(p), np.arange(p)] += curv
        H[:p, p], H[p, p] = Xs.T @ hs, hs.sum()
        if not fi:
            H[:p, p], H[p, p] = 0.0, 1.0
        H[np.arange(p + 1), np.arange(p + 1)] += 1e-12 * (np.trace(H) / (p + 1) + 1.0)
        return cho_factor(H, lower=False, check_finite=False)

    eta = matvec(w) + b0
    f = loss(eta) + pen(w)
    n_iter, kkt, fac, g0 = 0, np.inf, None, None
    while True:
        prob = expit(eta)
        r = weight * (prob - y)
        g = np.append(rmatvec(r) + lam * k * np.sign(w) * np.abs(w) ** (k - 1),
                      r.sum() if fi else 0.0)
        kkt = float(np.max(np.abs(g))) / total
        if kkt <= tol or n_iter >= max_iter:
            break
        h = weight * prob * (1.0 - prob)
        curv = pen_curv(w)
        gn = float(np.linalg.norm(g))
        if fac is None:
            fac, g0 = preconditioner(h, curv), gn

        def hess(v):
            # X' (h (X v + c)) over blocks of rows small enough to stay in cache between the
            # two products: one pass over X instead of two
            vw, acc, usum = v[:p].astype(X.dtype), np.zeros(p), 0.0
            for i in range(0, n, block):
                Xb = X[i:i + block]
                u = h[i:i + block] * (Xb @ vw + v[p])
                acc += Xb.T @ u.astype(X.dtype)
                usum += float(u.sum())
            return np.append(acc + curv * v[:p], usum if fi else 0.0)

        forcing = min(0.5, np.sqrt(gn / g0)) * gn
        step, res = np.zeros(p + 1), -g
        z = precondition(res)
        dirn, rz = z.copy(), float(res @ z)
        for cg in range(1, 4 * (p + 1)):
            Hd = hess(dirn)
            curvature = float(dirn @ Hd)
            if not curvature > 0:
                break
            a = rz / curvature
            step += a * dirn
            res = res - a * Hd
            if np.linalg.norm(res) <= forcing:
                break
            z = precondition(res)
            rz_new = float(res @ z)
            dirn, rz = z + (rz_new / rz) * dirn, rz_new
        if not step.any():
            step = -precondition(g)
        if cg > NEWTON_REFRESH_CG:
            fac = None  # rebuilt at the next step, from the weights there
        delta = matvec(step[:p]) + step[p]
        t, f_t, w, eta = _line_search(loss, pen, eta, delta, w, w + step[:p], f,
                                      float(g @ step))
        moved, f, b0 = f_t < f, f_t, b0 + t * step[p]
        n_iter += 1
        if not moved:
            break
    W[0], b[0] = w, b0
    return Fit(W, b, n_iter, kkt, f, kkt <= tol)


def _gram_newton(pb: Problem, weight: np.ndarray, d: _core.PenaltyParams, max_iter: int,
                 tol: float, W: np.ndarray, b: np.ndarray) -> Fit:
    """Proximal Newton on the Gram form (``_gram_newton.gram_newton``) over the in-memory X."""
    from ._gram_newton import gram_newton, in_memory_pass

    r = gram_newton(in_memory_pass(pb.X, pb.labels, weight, pb.n_classes), float(weight.sum()),
                    pb.fit_intercept, d, max_iter, tol, W, b)
    return Fit(r.W, r.b, r.n_iter, r.kkt, r.objective, r.converged)


def check_labels(estimator: Any, X: Any, y: Any, reset: bool = True):
    """Validated X (Fortran-ordered float, or sparse) and y, the classes and the labels."""
    from sklearn.preprocessing import LabelEncoder

    X, y = validate_data(estimator, X, y, reset=reset, accept_sparse=["csc", "csr"],
                         dtype=[np.float64, np.float32], order="F", copy=False)
    check_classification_targets(y)
    enc = LabelEncoder()
    labels = enc.fit_transform(y)
    classes = enc.classes_
    if len(classes) < 2:
        raise ValueError("This solver needs samples of at least 2 classes in the data, but "
                         f"the data contains only one class: {classes[0]!r}")
    return X, y, classes, labels


def check_solver_args(max_iter: Any, tol: Any) -> Tuple[int, float]:
    return integer(max_iter, "max_iter", 0), nonnegative(tol, "tol")


class _LogisticBase(LinearClassifierMixin, SparseCoefMixin, BaseEstimator):
    """predict_proba, predict_log_proba and the tags shared by the logistic estimators; a dask
    X gets lazy results, block of rows by block of rows."""

    def _by_blocks(self, X: Any, method: str) -> Any:
        """The dask array of ``method`` applied to each block of X's rows."""
        check_is_fitted(self, "coef_")
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has shape {X.shape}, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input.")
        X = X.rechunk({1: X.shape[1]})
        one = getattr(self, method)(np.zeros((1, X.shape[1]), dtype=X.dtype))
        fn = getattr(type(self), method)
        return X.map_blocks(lambda block: fn(self, block), dtype=one.dtype,
                            chunks=(X.chunks[0],) + one.shape[1:],
                            drop_axis=None if one.ndim == 2 else 1,
                            meta=np.empty((0,) + one.shape[1:], dtype=one.dtype))

    def decision_function(self, X: Any) -> Any:
        """Decision values ``X @ coef_.T + intercept_`` (raveled for two classes).

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            A dask array gives a lazy dask array.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        if is_dask_array(X):
            return self._by_blocks(X, "decision_function")
        return super().decision_function(X)

    def predict(self, X: Any) -> Any:
        """Class labels (a dask X gives a lazy dask array).

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        if is_dask_array(X):
            return self._by_blocks(X, "predict")
        return super().predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (the sigmoid for two classes, the softmax otherwise).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        if is_dask_array(X):
            return self._by_blocks(X, "predict_proba")
        return np.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithms of the class probabilities, computed stably (log-sum-exp).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        from scipy.special import log_expit, logsumexp

        if is_dask_array(X):
            return self._by_blocks(X, "predict_log_proba")
        check_is_fitted(self, "coef_")
        d = self.decision_function(X)
        if d.ndim == 1:
            return np.column_stack([log_expit(-d), log_expit(d)])
        return d - logsumexp(d, axis=1, keepdims=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _set_fitted(self, fit: Fit, fit_intercept: bool, n_rows: int, dtype: np.dtype) -> None:
        self.coef_ = fit.W.astype(dtype)
        self.intercept_ = fit.b.astype(dtype) if fit_intercept else np.zeros(n_rows, dtype=dtype)
        self.n_iter_ = np.array([fit.n_iter], dtype=np.int32)
        self.kkt_violation_ = float(fit.kkt)
        self.objective_ = float(fit.objective)


def warn_not_converged(fit: Fit, tol: float) -> None:
    from sklearn.exceptions import ConvergenceWarning

    warnings.warn(f"lkreg LogisticRegression did not converge: KKT violation {fit.kkt:.3e}, "
                  f"tolerance {tol:.3e}. Increase max_iter, or scale the features.",
                  ConvergenceWarning, stacklevel=3)


class LogisticRegression(_LogisticBase):
    """Logistic regression with any lkreg penalty, binary and multinomial.

    Minimizes ``C * sum_i s_i * log-loss_i + penalty(W)``, scikit-learn's objective (s_i the
    sample weight times the class weight; the intercepts never penalized), by proximal Newton:
    each step solves the weighted quadratic model of the log-loss with lkreg's C++ coordinate
    descent (the penalty entering through its scalar prox: L1, ElasticNet, Lk for any k > 0,
    L0), then a line search on the true objective. Two classes use the sigmoid and one
    coefficient row; three or more the softmax (multinomial). Binary problems with L2, Lk
    (k >= 2) or no penalty on dense X with at most 1000 features take truncated Newton steps
    (preconditioned conjugate gradients on exact Hessian-vector products).

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"}, lkreg penalty or None, default "l2"
        scikit-learn's names: "l2" is ``0.5 ||W||^2``, "l1" is ``||W||_1``, "elasticnet"
        ``l1_ratio ||W||_1 + 0.5 (1 - l1_ratio) ||W||^2``; or any element-wise lkreg penalty
        (``reduction="mean"`` divides by the number of coefficients); None: no penalty.
    tol : float, default 1e-4
        Stop when the largest KKT violation (distance of the negative gradient to the
        penalty's subdifferential, over the coefficients and intercepts) of the objective
        divided by ``C * sum_i s_i`` is below tol: that scaled objective is the mean log-loss
        plus ``penalty / (C sum s)``, in which scikit-learn's lbfgs ``tol`` bounds the largest
        gradient entry, so equal ``tol`` means equal accuracy there.
    C : float, default 1.0
        Inverse regularization strength, > 0.
    fit_intercept : bool, default True
    class_weight : dict, "balanced" or None, default None
    max_iter : int, default 100
        Outer (Newton) iterations.
    warm_start : bool, default False
        Start from the previous ``coef_`` and ``intercept_``.
    l1_ratio : float, optional
        With ``penalty="elasticnet"``, in [0, 1].

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        In X's dtype (float32 stays float32).
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,)
    kkt_violation_ : float
        The scaled KKT violation reached (see ``tol``).
    objective_ : float
        ``C * sum s_i log-loss_i + penalty`` at the solution.
    n_features_in_, feature_names_in_

    Examples
    --------
    >>> import numpy as np
    >>> from lkreg.linear_model import LogisticRegression
    >>> X = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 0.0], [3.0, 0.0], [1.5, 0.5], [0.5, 1.0]])
    >>> y = np.array(["no", "no", "yes", "yes", "yes", "no"])
    >>> model = LogisticRegression(penalty="l1", C=10.0).fit(X, y)
    >>> model.predict([[0.2, 1.0], [2.5, 0.0]])
    array(['no', 'yes'], dtype='<U3')
    >>> model.predict_proba([[1.25, 0.5]]).shape
    (1, 2)
    """

    def __init__(self, penalty: Any = "l2", *, tol: float = 1e-4, C: float = 1.0,
                 fit_intercept: bool = True, class_weight: Any = None, max_iter: int = 100,
                 warm_start: bool = False, l1_ratio: Optional[float] = None) -> None:
        self.penalty = penalty
        self.tol = tol
        self.C = C
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.l1_ratio = l1_ratio

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "LogisticRegression":
        """Fit the model by proximal Newton.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            float32 stays float32; dense X is used in Fortran order, CSR is converted to CSC.
            A tall dask array (chunked along the rows) is fitted by proximal Newton on the
            Gram form with one distributed pass per outer step (lkreg.dask).
        y : array-like or dask array of shape (n_samples,)
            Class labels (any type scikit-learn accepts: strings work).
        sample_weight : array-like or dask array of shape (n_samples,), optional
            Non-negative weights: a weight of 2 is a repeated row.

        Returns
        -------
        self
        """
        C = positive(self.C, "C")
        fit_intercept = flag(self.fit_intercept, "fit_intercept")
        max_iter, tol = check_solver_args(self.max_iter, self.tol)
        penalty = sklearn_penalty(self.penalty, self.l1_ratio)
        warm = flag(self.warm_start, "warm_start") and hasattr(self, "coef_")
        if is_dask_array(X) or is_dask_array(y):  # one distributed pass per step (lkreg.dask)
            from ..dask._logistic import fit_dask

            prev = (self.coef_, self.intercept_) if warm else None
            fit, classes, dtype, m = fit_dask(self, X, y, sample_weight, C, penalty,
                                              fit_intercept, max_iter, tol, prev)
            if not fit.converged:
                warn_not_converged(fit, tol)
            self.classes_ = classes
            self._set_fitted(fit, fit_intercept, m, dtype)
            return self
        X, y, classes, labels = check_labels(self, X, y)
        pb = problem_of(X, labels, len(classes), sample_weight, self.class_weight, classes, y,
                        fit_intercept)
        W0 = b0 = None
        if warm and self.coef_.shape == (pb.n_rows, X.shape[1]):
            W0, b0 = self.coef_, self.intercept_
        fit = solve(pb, C, penalty, max_iter, tol, W0, b0)
        if not fit.converged:
            warn_not_converged(fit, tol)
        self.classes_ = classes
        self._set_fitted(fit, pb.fit_intercept, pb.n_rows, X.dtype)
        return self


__all__ = ["LogisticRegression", "sklearn_penalty", "Problem", "problem_of", "solve", "Fit",
           "check_labels", "uses_newton"]


def zero_gradient(pb: Problem) -> np.ndarray:
    """The gradient in W of the weighted mean log-loss at W = 0, the intercepts optimal there
    (the class frequencies; 1/2 or 1/K without intercept): (m * p,)."""
    S = float(pb.weight.sum())
    onehot = np.eye(pb.n_classes)[pb.labels]
    if pb.fit_intercept:
        p0 = pb.weight @ onehot / S
    else:
        p0 = np.full(pb.n_classes, 1.0 / pb.n_classes)
    if pb.n_classes == 2:
        onehot, p0 = onehot[:, 1:], p0[1:]
    R = pb.weight[:, None] * (p0 - onehot) / S
    return np.asarray(pb.X.T @ R.astype(pb.X.dtype), dtype=np.float64).T.ravel()


def logistic_path(X: Any, y: Any, penalty: Optional[_penalties.Penalty], alphas: Any,
                  n_alphas: int, eps: float, fit_intercept: bool, sample_weight: Any,
                  max_iter: int, tol: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """regularization_path(loss="log"): minimize the weighted mean log-loss + penalty_alpha(W)
    along the grid (the C++ solver with C = 1 / sum(sample_weight)), warm starts; a dask X
    (lkreg.dask) by the Gram form, one distributed pass per Newton step."""
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils.validation import check_X_y

    from ._path import _check_alphas, with_strength

    grid, n, eps = _check_alphas(alphas, n_alphas, eps)
    max_iter, tol = check_solver_args(max_iter, tol)
    family = _penalties.L1(1.0) if penalty is None else sklearn_penalty(penalty, None)
    if is_dask_array(X) or is_dask_array(y):  # one distributed pass per Newton step
        from ..dask._logistic import logistic_path_dask

        return logistic_path_dask(X, y, family, grid, n, eps, fit_intercept, sample_weight,
                                  max_iter, tol)
    X, y = check_X_y(X, y, accept_sparse=["csc", "csr"], dtype=[np.float64, np.float32],
                     order="F")
    check_classification_targets(y)
    enc = LabelEncoder()
    labels = enc.fit_transform(y)
    if len(enc.classes_) < 2:
        raise ValueError("y must contain at least 2 classes, got only "
                         f"{enc.classes_[0]!r}")
    pb = problem_of(X, labels, len(enc.classes_), sample_weight, None, enc.classes_, y,
                    fit_intercept)
    if grid is None:
        grid = log_grid(family, zero_gradient(pb), n, eps)
    C = 1.0 / float(pb.weight.sum())
    return walk_path(grid, pb.n_rows, X.shape[1], tol,
                     lambda a, W, b: solve(pb, C, with_strength(family, a), max_iter, tol, W, b))


def log_grid(family: _penalties.Penalty, g0: np.ndarray, n: int, eps: float) -> np.ndarray:
    """The path's strengths from alpha_max (on g0, the mean log-loss gradient at W = 0 with the
    intercepts optimal there) down to eps times it."""
    from ._path import alpha_max

    top = alpha_max(family, g0)
    return (np.full(n, np.finfo(float).resolution) if top <= 0
            else np.geomspace(top, top * eps, num=n))


def walk_path(grid: np.ndarray, m: int, p: int, tol: float, fit_at: Any
              ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """regularization_path(loss="log")'s result: ``fit_at(alpha, W, b) -> Fit`` at each
    strength, warm-started from the previous one (None at the first)."""
    coefs = np.zeros((m, p, len(grid)))
    kkts = np.zeros(len(grid))
    W = b = None
    for i, a in enumerate(grid):
        fit = fit_at(float(a), W, b)
        if not fit.converged:
            warn_not_converged(fit, tol)
        W, b = fit.W, fit.b
        coefs[:, :, i], kkts[i] = W, fit.kkt
    return grid, (coefs[0] if m == 1 else coefs), kkts


def _fold_scores(est: "LogisticRegressionCV", X: Any, y: np.ndarray, labels: np.ndarray,
                 classes: np.ndarray, sw: Optional[np.ndarray], train: np.ndarray,
                 test: np.ndarray, penalty: Optional[_penalties.Penalty], Cs: np.ndarray,
                 max_iter: int, tol: float, fit_intercept: bool, class_weight: Any):
    """Scores on the test rows of the training path over Cs (increasing, warm starts)."""
    from sklearn.metrics import get_scorer

    Xtr = X[train]
    Xtr = Xtr.tocsc() if _is_sparse(Xtr) else np.asfortranarray(Xtr)
    pb = problem_of(Xtr, labels[train], len(classes), None if sw is None else sw[train],
                    class_weight, classes, y[train], fit_intercept)
    scorer = get_scorer("accuracy" if est.scoring is None else est.scoring)
    probe = LogisticRegression()
    probe.classes_, probe.n_features_in_ = classes, X.shape[1]
    scores, coefs = np.zeros(len(Cs)), []
    W = b = None
    for i, C in enumerate(Cs):
        fit = solve(pb, float(C), penalty, max_iter, tol, W, b)
        W, b = fit.W, fit.b
        probe.coef_, probe.intercept_ = W.copy(), b.copy()
        scores[i] = scorer(probe, X[test], y[test])
        coefs.append(np.hstack([W, b[:, None]]) if fit_intercept else W.copy())
    return scores, np.array(coefs)


class LogisticRegressionCV(_LogisticBase):
    """LogisticRegression with C chosen by cross-validation over a grid.

    Each fold fits the path over ``Cs`` in increasing order, each fit warm-started from the
    previous one (folds in parallel threads through joblib: the C++ solver releases the GIL);
    the C of best mean test score is refitted on all the data.

    Parameters
    ----------
    Cs : int or array-like, default 10
        The grid, or its size: ``np.logspace(-4, 4, Cs)`` as scikit-learn.
    fit_intercept : bool, default True
    cv : int, cross-validation generator or iterable, optional
        scikit-learn's ``cv`` (stratified 5-fold by default).
    penalty, l1_ratio, tol, max_iter, class_weight : as in LogisticRegression.
    scoring : str or callable, optional
        scikit-learn's scoring; None is accuracy.
    n_jobs : int, optional
        Folds run in parallel threads.

    Attributes
    ----------
    Cs_ : ndarray of shape (n_Cs,)
    C_ : ndarray of shape (1,) or (n_classes,)
        The chosen C (the same for every class: one multinomial fit).
    scores_ : ndarray of shape (n_folds, n_Cs)
    coefs_paths_ : ndarray of shape (n_folds, n_Cs, n_rows, n_features (+ 1 with intercept))
    classes_, coef_, intercept_, n_iter_, kkt_violation_, objective_

    Examples
    --------
    >>> import numpy as np
    >>> from lkreg.linear_model import LogisticRegressionCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((120, 4))
    >>> y = (X[:, 0] - X[:, 2] + 0.3 * rng.standard_normal(120) > 0).astype(int)
    >>> model = LogisticRegressionCV(Cs=5, penalty="l1", cv=3).fit(X, y)
    >>> model.scores_.shape
    (3, 5)
    >>> bool(model.score(X, y) > 0.9)
    True
    """

    def __init__(self, *, Cs: Any = 10, fit_intercept: bool = True, cv: Any = None,
                 penalty: Any = "l2", scoring: Any = None, tol: float = 1e-4,
                 max_iter: int = 100, class_weight: Any = None, n_jobs: Any = None,
                 l1_ratio: Optional[float] = None) -> None:
        self.Cs = Cs
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.penalty = penalty
        self.scoring = scoring
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.l1_ratio = l1_ratio

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "LogisticRegressionCV":
        """Cross-validate the grid of C, then refit the best on all the data.

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
        from sklearn.utils.validation import _check_sample_weight

        fit_intercept = flag(self.fit_intercept, "fit_intercept")
        max_iter, tol = check_solver_args(self.max_iter, self.tol)
        penalty = sklearn_penalty(self.penalty, self.l1_ratio)
        if isinstance(self.Cs, (int, np.integer)) and not isinstance(self.Cs, bool):
            Cs = np.logspace(-4, 4, integer(self.Cs, "Cs", 1))
        else:
            Cs = np.sort(np.asarray(self.Cs, dtype=np.float64).ravel())
            if Cs.size == 0 or not np.all(np.isfinite(Cs)) or np.any(Cs <= 0):
                raise ValueError("Cs must be a positive int or finite numbers > 0")
        X, y, classes, labels = check_labels(self, X, y)
        sw = None if sample_weight is None else _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        class_weight = self.class_weight
        if class_weight is not None:  # from all the labels, the same in every fold
            from sklearn.utils.class_weight import compute_class_weight

            class_weight = dict(zip(classes, compute_class_weight(class_weight, classes=classes,
                                                                  y=y)))
        folds = list(check_cv(self.cv, y, classifier=True).split(
            np.zeros((X.shape[0], 1)), y))
        out = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_fold_scores)(self, X, y, labels, classes, sw, train, test, penalty, Cs,
                                  max_iter, tol, fit_intercept, class_weight)
            for train, test in folds)
        self.Cs_ = Cs
        self.scores_ = np.array([s for s, _ in out])
        self.coefs_paths_ = np.array([c for _, c in out])
        best = int(np.argmax(self.scores_.mean(axis=0)))
        pb = problem_of(X, labels, len(classes), sw, class_weight, classes, y, fit_intercept)
        fit = solve(pb, float(Cs[best]), penalty, max_iter, tol)
        if not fit.converged:
            warn_not_converged(fit, tol)
        self.C_ = np.full(pb.n_rows, Cs[best])
        self.classes_ = classes
        self._set_fitted(fit, pb.fit_intercept, pb.n_rows, X.dtype)
        return self


__all__ += ["LogisticRegressionCV", "logistic_path", "zero_gradient"]
