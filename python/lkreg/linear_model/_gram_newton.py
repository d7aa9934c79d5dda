"""Proximal Newton for logistic regression on the Gram form, binary and multinomial, for data
with many more samples than coefficients, in memory or on a dask cluster.

Each outer step needs the data only through one pass of sums over the rows
(:func:`block_statistics`): the losses at the candidate point and along the line towards it,
and at the candidate the gradient, the Hessian blocks X' A X (A the per-sample curvature of the
log-loss: c p (1 - p) for the sigmoid, c (diag(p) - p p') for the softmax) and the constant
that makes the quadratic model a weighted least-squares problem. Sums of blocks are sums of
rows, so a dask array's blocks compute their statistics where they live and a tree adds them
(lkreg.dask); in memory the whole X is one block. The intercepts are eliminated from the model
exactly (a Schur complement), and the engine's Gram coordinate descent solves the rest with
the penalty's scalar prox: an epoch costs (m p)^2, not a pass over X.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from .. import _core

#: The softmax curvature uses probabilities mixed with this much of the uniform distribution
#: (the sigmoid's p (1 - p) is floored at it): a sample predicted with certainty keeps a finite
#: working response, so the least-squares constant stays finite; the model changes by 1e-6.
CURVATURE_FLOOR = 1e-6
#: Rows per sub-block of a block's statistics: the float32 scaled copy of X (times the number
#: of classes for the softmax) stays near 16 MB.
SUB_BLOCK_BYTES = 1 << 24
#: The step lengths a remote pass evaluates the loss at (a backtracking line search's, at once:
#: a pass over a cluster's data costs far more than nine more losses per row).
REMOTE_STEPS = tuple(0.5 ** i for i in range(10))
#: A working set (non-smooth penalties) adds at least this many coefficients outside the
#: support, the largest optimality violations, to it: few enough that the first steps stay
#: cheap, enough that a support of a few hundred is reached in a few steps.
WORKING_SET_MIN = 64


@dataclass
class NewtonStatistics:
    """Sums over a set of rows at one point (W, b) and along a line towards it.

    ``loss[i]`` is sum_i c_i log-loss_i at the i-th requested step length; the rest, present
    when derivatives were requested, are at step length 1 (m = 1 for the sigmoid, K for the
    softmax; coefficient (k, j) at index k * p + j)."""

    loss: np.ndarray  # (n_steps,)
    grad: Optional[np.ndarray] = None  # (m, p)  X' R, R = c (P - Y)
    grad_b: Optional[np.ndarray] = None  # (m,)  sum of R
    hess_ww: Optional[np.ndarray] = None  # (q, q) upper triangle of sum A_i (x) x_i x_i'
    hess_wb: Optional[np.ndarray] = None  # (q, m); q = m p, or the working set's size
    hess_bb: Optional[np.ndarray] = None  # (m, m)
    residual: float = 0.0  # sum_i r_i' A_i^+ r_i
    columns: Optional[np.ndarray] = None  # hess_* rows: these coefficients (None: all)

    def __add__(self, other: "NewtonStatistics") -> "NewtonStatistics":
        if self.grad is None:
            return NewtonStatistics(self.loss + other.loss)
        return NewtonStatistics(self.loss + other.loss, self.grad + other.grad,
                                self.grad_b + other.grad_b, self.hess_ww + other.hess_ww,
                                self.hess_wb + other.hess_wb, self.hess_bb + other.hess_bb,
                                self.residual + other.residual, self.columns)


def _losses(eta0: np.ndarray, delta: Optional[np.ndarray], steps: Sequence[float],
            labels: np.ndarray, c: np.ndarray, softmax: bool) -> np.ndarray:
    from scipy.special import log_expit, logsumexp

    out = np.empty(len(steps))
    rows = np.arange(len(labels))
    for s, t in enumerate(steps):
        eta = eta0 if delta is None else eta0 + t * delta
        if softmax:
            out[s] = float(c @ (logsumexp(eta, axis=1) - eta[rows, labels]))
        else:
            e = eta[:, 0]
            out[s] = float(-c @ log_expit(np.where(labels > 0, e, -e)))
    return out


def block_statistics(X: np.ndarray, labels: np.ndarray, weight: np.ndarray, n_classes: int,
                     W: np.ndarray, b: np.ndarray, dW: Optional[np.ndarray] = None,
                     db: Optional[np.ndarray] = None, steps: Sequence[float] = (1.0,),
                     derivatives: bool = True, X32: Optional[np.ndarray] = None,
                     columns: Optional[np.ndarray] = None) -> NewtonStatistics:
    """The statistics of the rows X (n, p) with labels in 0 .. n_classes - 1 and weights c
    (C folded in) at (W + t dW, b + t db) for each t in ``steps``; the derivatives at t = 1.

    ``columns`` (sorted indices k * p + j of coefficients) restricts the Hessian blocks
    ``hess_ww`` and ``hess_wb`` to those coefficients (a working set: their cost falls with
    its square); the gradient is always whole. ``X32``, X as float32, saves its conversion
    when the caller keeps one. Everything is summed in float64 except the Hessian's BLAS
    products, which run in float32 (half the time): the model keeps the exact gradient, so
    the Newton fixed point is the true optimum.
    """
    from scipy.special import expit, softmax as _softmax

    n, p = X.shape
    softmax = n_classes > 2
    m = n_classes if softmax else 1
    cols = np.arange(m * p) if columns is None else np.asarray(columns, dtype=np.intp)
    col_class, col_feature = np.divmod(cols, p)
    # the working set's positions of each class's coefficients, and their features
    by_class = [np.flatnonzero(col_class == k) for k in range(m)]
    steps = tuple(float(t) for t in steps)
    total = NewtonStatistics(np.zeros(len(steps)))
    if derivatives:
        q = len(cols)
        total = NewtonStatistics(np.zeros(len(steps)), np.zeros((m, p)), np.zeros(m),
                                 np.zeros((q, q)), np.zeros((q, m)), np.zeros((m, m)), 0.0,
                                 None if columns is None else cols)
    Wx = np.asarray(W, dtype=np.float64).T
    dWx = None if dW is None else np.asarray(dW, dtype=np.float64).T
    rows = max(256, SUB_BLOCK_BYTES // (4 * m * max(p, 1)))
    eye = np.eye(m)
    for i in range(0, n, rows):
        # the predictions and the gradient in float64 whatever X's dtype (the KKT test reaches
        # tol 1e-9 on float32 X as the C++ solver does); the Hessian's products in float32
        Xb = np.asarray(X[i:i + rows], dtype=np.float64)
        lab = np.asarray(labels[i:i + rows])
        c = np.asarray(weight[i:i + rows], dtype=np.float64)
        eta0 = Xb @ Wx + b
        delta = None if dWx is None else Xb @ dWx + db
        total.loss += _losses(eta0, delta, steps, lab, c, softmax)
        if not derivatives:
            continue
        eta = eta0 if delta is None else eta0 + delta
        Xs = (X32 if X32 is not None else X)[i:i + rows].astype(np.float32, copy=False)
        # X's column of each working-set coefficient (all of X's columns for the sigmoid's
        # whole set)
        Xw = Xs if columns is None and not softmax else Xs[:, col_feature]
        if softmax:
            P = _softmax(eta, axis=1)
            R = c[:, None] * (P - eye[lab])
            Pm = (1.0 - m * CURVATURE_FLOOR) * P + CURVATURE_FLOOR
            # sum_i c_i (diag(p) - p p') (x) x_i x_i': K diagonal blocks minus one product of
            # the rows sqrt(c_i) (p_i (x) x_i), restricted to the working set
            sc = np.sqrt(c)[:, None] * Pm
            U = sc.astype(np.float32)[:, col_class] * Xw
            _add_gram(total.hess_ww, U, -1.0)
            del U
            for k, at in enumerate(by_class):
                if len(at) == 0:
                    continue
                s = np.sqrt(c * Pm[:, k]).astype(np.float32)
                _add_gram(total.hess_ww, Xw[:, at] * s[:, None], 1.0, at)
                Hk = (c * Pm[:, k])[:, None] * (eye[k] - Pm)  # c (p_k delta_kl - p_k p_l)
                total.hess_wb[at] += Xb[:, col_feature[at]].T @ Hk
            cP = c[:, None] * Pm
            total.hess_bb += np.diag(cP.sum(axis=0)) - Pm.T @ cP
            total.residual += float(np.sum(R * (P - eye[lab]) / Pm))
        else:
            prob = expit(eta[:, 0])
            r = c * (prob - (lab > 0))
            h = c * np.maximum(prob * (1.0 - prob), CURVATURE_FLOOR)
            R = r[:, None]
            _add_gram(total.hess_ww, Xw * np.sqrt(h).astype(np.float32)[:, None], 1.0)
            XTh = Xb.T @ h  # then the working set's rows: no gather of X's columns
            total.hess_wb[:, 0] += XTh if columns is None else XTh[col_feature]
            total.hess_bb[0, 0] += float(h.sum())
            total.residual += float(np.sum(np.divide(r * r, h, out=np.zeros_like(r),
                                                     where=h > 0)))
        total.grad += (Xb.T @ R).T
        total.grad_b += R.sum(axis=0)
    return total


def _add_gram(H: np.ndarray, A: np.ndarray, sign: float,
              at: Optional[np.ndarray] = None) -> None:
    """H[at, at] += sign * A' A in its upper triangle (A float32 (n, q), by one ssyrk). A
    C-ordered A goes in as its transpose, which BLAS reads without the copy to Fortran order
    that f2py would otherwise make."""
    from scipy.linalg.blas import ssyrk

    if A.shape[1] == 0:
        return
    if A.flags.f_contiguous:
        G = ssyrk(1.0, A, trans=1, lower=0)
    else:
        G = ssyrk(1.0, np.ascontiguousarray(A).T, trans=0, lower=0)
    if at is None:
        H += sign * G
    else:
        H[np.ix_(at, at)] += sign * G


#: A pass over the data: (W, b, dW, db, steps, derivatives, columns) -> NewtonStatistics.
Pass = Callable[..., NewtonStatistics]


@dataclass
class GramNewtonResult:
    W: np.ndarray
    b: np.ndarray
    n_iter: int
    kkt: float
    objective: float
    converged: bool
    n_passes: int


def _bb_pinv(hess_bb: np.ndarray) -> np.ndarray:
    """The pseudo-inverse of the intercepts' Hessian block. The softmax's is singular along
    the all-ones vector u (shifting every intercept alike changes nothing): inverted with u u'
    added and projected off u, so rounding never makes that direction look invertible."""
    m = len(hess_bb)
    if m == 1:
        return np.array([[1.0 / hess_bb[0, 0]]]) if hess_bb[0, 0] > 0 else np.zeros((1, 1))
    u = np.full((m, 1), 1.0 / np.sqrt(m))
    scale = max(float(np.trace(hess_bb)) / m, np.finfo(float).tiny)
    proj = np.eye(m) - u @ u.T
    return proj @ np.linalg.pinv(hess_bb + scale * (u @ u.T), hermitian=True) @ proj


def gram_newton(data_pass: Pass, total_weight: float, fit_intercept: bool,
                d: _core.PenaltyParams, max_iter: int, tol: float, W: np.ndarray, b: np.ndarray,
                steps: Sequence[float] = (1.0,)) -> GramNewtonResult:
    """Minimize sum_i c_i log-loss_i + penalty(W) by proximal Newton on the Gram form.

    ``data_pass`` computes the statistics (:func:`block_statistics` over all the rows); each
    outer step makes one pass at the candidate point with the loss at each of ``steps`` along
    the line to it (in memory just t = 1: a shorter step costs another pass there; remotely
    :data:`REMOTE_STEPS`), and the line search is Armijo's on the true objective. KKT violation
    and ``tol`` as the C++ solver's (scaled by ``total_weight`` = sum_i c_i). W (m, p) and b
    (m,) are the start; m = 1 for two classes. For L1 and elastic net each step's model covers
    a working set (``working_set`` below), whose Hessian alone the passes form."""
    m, p = W.shape
    fi = fit_intercept
    kind = _core.PenaltyKind
    gap_stopping = d.kind in (kind.L1, kind.ElasticNet)

    # a convex penalty with a sticky zero (L1, elastic net) leaves most coefficients at 0: the
    # model then needs the Hessian of a working set only. (Not L0 or Lk with k < 1: 0 is
    # always stationary for them, so no violation ever shows which coefficient to free.)
    sparse = not d.is_smooth and d.is_convex

    def pen(V):
        return float(_core.penalty_value(d, np.ascontiguousarray(V).ravel()))

    def working_set(W_next: np.ndarray, W: np.ndarray, g: np.ndarray) -> Optional[np.ndarray]:
        """The coefficients whose Hessian the step after W_next gets: W_next's and W's
        nonzeros and as many again (at least WORKING_SET_MIN) of the largest optimality
        violations at W (the gradient at W_next is not known before the pass that forms it:
        one step's lag, which the full KKT check at every step makes safe); None where that
        is all of them."""
        if not sparse:
            return None
        # the support of W_next and of W: a shortened step leaves both nonzero
        support = (W_next.ravel() != 0) | (W.ravel() != 0)
        viol = _core.penalty_subdiff_distance(d, W.ravel(), g.ravel())
        viol[support] = 0.0
        n_extra = min(int(np.count_nonzero(viol)),
                      max(int(np.count_nonzero(support)), WORKING_SET_MIN))
        chosen = support.copy()
        if n_extra:
            chosen[np.argpartition(viol, viol.size - n_extra)[viol.size - n_extra:]] = True
        return None if chosen.all() else np.flatnonzero(chosen)

    # a cold sparse start forms no Hessian: its first step moves the intercepts only (without
    # intercepts, a second pass forms the violators' Hessian), and the pass at that step
    # forms the working set's Hessian
    stats = data_pass(W, b, None, None, (1.0,), True,
                      np.flatnonzero(W.ravel()) if sparse else None)
    n_passes = 1
    f = float(stats.loss[0]) + pen(W)
    n_iter, last, stalls = 0, abs(f), 0
    kkt = np.inf
    while True:
        g = stats.grad
        kkt = max(float(np.max(_core.penalty_subdiff_distance(d, W.ravel(), g.ravel()),
                               initial=0.0)),
                  float(np.max(np.abs(stats.grad_b))) if fi else 0.0) / total_weight
        if kkt <= tol or n_iter >= max_iter or stalls >= 3:
            break
        cols = stats.columns  # the working set (None: every coefficient)
        if cols is not None and len(cols) == 0 and not fi:
            # a cold start without intercepts has nothing to move: the violators' Hessian
            # first (kkt > tol, so there are some)
            stats = data_pass(W, b, None, None, (1.0,), True, working_set(W, W, g))
            n_passes += 1
            continue
        H = np.triu(stats.hess_ww) + np.triu(stats.hess_ww, 1).T
        gw = g.ravel() if cols is None else g.ravel()[cols]
        c0 = stats.residual
        if fi:
            bb = _bb_pinv(stats.hess_bb)
            Hwb = stats.hess_wb
            H -= Hwb @ bb @ Hwb.T
            gw = gw - Hwb @ (bb @ stats.grad_b)
            c0 -= float(stats.grad_b @ bb @ stats.grad_b)
        S = max(float(np.trace(stats.hess_bb)), np.finfo(float).tiny)
        G = np.ascontiguousarray(H / S)
        # the model over the working set; the coefficients outside it (all 0) stay
        w = W.ravel() if cols is None else W.ravel()[cols]
        xty = G @ w - gw / S
        yty = max(c0 / S + 2 * float(w @ xty) - float(w @ G @ w), 0.0)
        w_new = w.copy()
        opts = _core.SolverOptions(d.scaled(1.0 / S), 100000, 1e-4,
                                   tol_abs=max(1e-3 * last / S, np.finfo(float).tiny),
                                   kkt_stopping=not gap_stopping)
        if len(w):
            _core.coordinate_descent_gram(opts, w_new, G, xty, yty)
        dw = w_new - w
        db = (-(bb @ (stats.grad_b + stats.hess_wb.T @ dw)) if fi else np.zeros(m))
        W_new = W.copy()
        W_new.ravel()[slice(None) if cols is None else cols] = w_new
        dW = W_new - W
        slope = float(g.ravel() @ dW.ravel()) + float(stats.grad_b @ db) + pen(W_new) - pen(W)

        def armijo(losses, ts):
            """The first (t, objective) of ts that passes Armijo's test, or None."""
            for loss, t in zip(losses, ts):
                f_t = float(loss) + (pen(W_new) if t == 1.0 else pen(W + t * dW))
                if f_t <= f + 1e-4 * t * slope or (f_t < f and slope >= 0):
                    return t, f_t
            return None

        cols_next = working_set(W_new, W, g)
        cand = data_pass(W, b, dW, db, steps, True, cols_next)
        n_passes += 1
        accepted = armijo(cand.loss, steps)
        if accepted is None:  # backtrack further, losses only
            more = tuple(0.5 ** i for i in range(len(steps), 40))
            accepted = armijo(data_pass(W, b, dW, db, more, False).loss, more)
            n_passes += 1
        if accepted is None:
            stalls += 1
            last *= 1e-3
            n_iter += 1
            continue
        t, f_t = accepted
        stalls = stalls + 1 if f_t >= f else 0
        last = f - f_t if f_t < f else last * 1e-3
        if t == 1.0:
            W, b, stats = W_new.copy(), b + db, cand
        else:
            W, b = W + t * dW, b + t * db
            stats = data_pass(W, b, None, None, (1.0,), True, cols_next)
            n_passes += 1
        f = f_t
        n_iter += 1
    return GramNewtonResult(W, b, n_iter, kkt, f, kkt <= tol, n_passes)


def in_memory_pass(X: np.ndarray, labels: np.ndarray, weight: np.ndarray,
                   n_classes: int) -> Pass:
    """The pass over an in-memory dense X (its float32 copy made once)."""
    X32 = X if X.dtype == np.float32 else np.asfortranarray(X, dtype=np.float32)

    def data_pass(W, b, dW, db, steps, derivatives, columns=None):
        return block_statistics(X, labels, weight, n_classes, W, b, dW, db, steps,
                                derivatives, X32, columns)
    return data_pass


__all__ = ["NewtonStatistics", "block_statistics", "gram_newton", "in_memory_pass",
           "GramNewtonResult", "REMOTE_STEPS"]
