"""Linear models on tall dask arrays: one distributed pass of sufficient statistics, then the
in-memory Gram solver.

For least squares with any penalty on w, the data enter the objective only through X'WX,
X'Wy, the weighted column sums, sum W y^2 and the weight sum (the intercept is the weighted
means' business). Each row block computes these in float64 where it lives (in sub-blocks, so a
float32 block never has a float64 copy of more than a few MB); a fixed binary tree adds them;
one ``compute`` brings p*p + O(p) numbers to the caller, who solves in memory exactly as for
``precompute=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional

import dask
import dask.array as da
import numpy as np

from .._validation import is_dask_array

#: Rows per float64 sub-block of a block's statistics (8 MB of float64 at 128 features).
_ROWS = 8192


@dataclass
class Moments:
    """Raw weighted moments of a set of rows, float64."""

    xtx: np.ndarray  # (p, p)  X'WX
    xty: np.ndarray  # (k, p)  Y'WX
    x_sum: np.ndarray  # (p,)  W'X
    y_sum: np.ndarray  # (k,)  W'Y
    yty: np.ndarray  # (k,)  sum W y^2
    weight_sum: float
    n_samples: int

    def __add__(self, other: "Moments") -> "Moments":
        return Moments(self.xtx + other.xtx, self.xty + other.xty, self.x_sum + other.x_sum,
                       self.y_sum + other.y_sum, self.yty + other.yty,
                       self.weight_sum + other.weight_sum, self.n_samples + other.n_samples)


def block_moments(X: np.ndarray, Y: np.ndarray, w: Optional[np.ndarray]) -> Moments:
    """The moments of one row block (X (n, p), Y (n, k), weights (n,) or None)."""
    n, p = X.shape
    k = Y.shape[1]
    m = Moments(np.zeros((p, p)), np.zeros((k, p)), np.zeros(p), np.zeros(k), np.zeros(k),
                0.0, n)
    for i in range(0, n, _ROWS):
        x = np.asarray(X[i:i + _ROWS], dtype=np.float64)
        y = np.asarray(Y[i:i + _ROWS], dtype=np.float64)
        if w is None:
            xw, yw, m.weight_sum = x, y, m.weight_sum + len(x)
        else:
            s = np.asarray(w[i:i + _ROWS], dtype=np.float64)
            xw, yw = x * s[:, None], y * s[:, None]
            m.weight_sum += float(s.sum())
        m.xtx += xw.T @ x
        m.xty += yw.T @ x
        m.x_sum += xw.sum(axis=0)
        m.y_sum += yw.sum(axis=0)
        m.yty += np.einsum("ij,ij->j", y, yw)
    return m


def _add(a: Moments, b: Moments) -> Moments:
    return a + b


def moments(X: "da.Array", Y: "da.Array", sample_weight: Optional["da.Array"]) -> Moments:
    """The whole array's moments: one task per row block, a fixed binary tree of sums, one
    compute (the current scheduler: a distributed Client when one is active)."""
    X = X.rechunk({1: X.shape[1]})  # one block per row range (a no-op for tall arrays)
    Y = Y.rechunk({0: X.chunks[0], 1: Y.shape[1]})
    xs, ys = X.to_delayed().ravel(), Y.to_delayed().ravel()
    ws: List[Any] = ([None] * len(xs) if sample_weight is None
                     else list(sample_weight.rechunk({0: X.chunks[0]}).to_delayed().ravel()))
    parts = [dask.delayed(block_moments, pure=True)(x, y, w) for x, y, w in zip(xs, ys, ws)]
    if not parts:
        raise ValueError("X has no rows")
    return tree_sum(parts)


def tree_add(parts: List[Any]) -> Any:
    """The sum of delayed per-block results by a fixed binary tree (pairs in order: the same
    sums on every run for a given chunking), still delayed."""
    while len(parts) > 1:
        parts = [dask.delayed(_add, pure=True)(parts[i], parts[i + 1]) if i + 1 < len(parts)
                 else parts[i] for i in range(0, len(parts), 2)]
    return parts[0]


def tree_sum(parts: List[Any]) -> Any:
    """:func:`tree_add`, computed on the current scheduler."""
    (total,) = dask.compute(tree_add(parts))
    return total


def _as_dask(a: Any, chunks: Any, name: str) -> "da.Array":
    """a as a dask array chunked along its rows like X (``chunks``)."""
    if is_dask_array(a):
        return a
    arr = np.asarray(a)
    if arr.ndim == 0 or arr.shape[0] != sum(chunks):
        raise ValueError(f"X and {name} have inconsistent numbers of samples: {sum(chunks)} and "
                         f"{arr.shape[0] if arr.ndim else 'a scalar'}")
    return da.from_array(arr, chunks=(chunks,) + tuple((d,) for d in arr.shape[1:]))


def _float_dtype(X: "da.Array") -> np.dtype:
    if X.dtype in (np.float32, np.float64):
        return X.dtype
    if X.dtype.kind in "biu":  # as scikit-learn: integers become float64
        return np.dtype(np.float64)
    raise ValueError(f"X must be a numeric array, got dtype {X.dtype}")


def prepare_dask(estimator: Any, X: Any, y: Any, sample_weight: Any, fit_intercept: bool,
                 multi_output: bool = True, reset: bool = True) -> Any:
    """lkreg.linear_model's ``prepare`` for dask input: checks, then the statistics' pass
    (``estimator`` None: nothing to set ``n_features_in_`` on)."""
    from ..linear_model._data import Data, gram_from_moments

    if not is_dask_array(X):
        raise TypeError(f"with a dask y, X must be a dask array too, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-dimensional X, got shape {X.shape}")
    n, p = X.shape
    if p == 0:
        raise ValueError("X has 0 features: a minimum of 1 is required")
    if n == 0:
        raise ValueError("X has 0 samples: a minimum of 1 is required")
    dtype = _float_dtype(X)
    X = X.astype(dtype)
    y = _as_dask(y, X.chunks[0], "y")
    if y.ndim not in (1, 2) or (y.ndim == 2 and not multi_output and y.shape[1] != 1):
        raise ValueError(f"y must have shape (n_samples,){' or (n_samples, n_targets)' if multi_output else ''}, got {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"X and y have inconsistent numbers of samples: {n} and {y.shape[0]}")
    single = y.ndim == 1
    Y = y.astype(dtype).reshape((n, -1))
    sw = None
    if sample_weight is not None:
        if np.ndim(sample_weight) == 0 and not is_dask_array(sample_weight):
            sw = da.full(n, float(sample_weight), chunks=(X.chunks[0],))
        else:
            sw = _as_dask(sample_weight, X.chunks[0], "sample_weight")
            if sw.shape != (n,):
                raise ValueError(f"sample_weight must have shape ({n},), got {sw.shape}")
    if estimator is not None:  # (regularization_path has none to record n_features_in_ on)
        if reset:
            estimator.n_features_in_ = p
        elif getattr(estimator, "n_features_in_", p) != p:
            raise ValueError(f"X has {p} features, but {type(estimator).__name__} is "
                             f"expecting {estimator.n_features_in_} features as input.")
    m = moments(X, Y, sw)
    if not (np.all(np.isfinite(m.xtx)) and np.all(np.isfinite(m.x_sum))):
        raise ValueError("Input X contains NaN or infinity.")
    if not (np.all(np.isfinite(m.yty)) and np.all(np.isfinite(m.y_sum))):
        raise ValueError("Input y contains NaN or infinity.")
    S = m.weight_sum
    if sw is not None and not (np.isfinite(S) and S > 0):
        raise ValueError("sample_weight must have a positive sum")
    if fit_intercept:
        x_mean, y_mean = m.x_sum / S, m.y_sum / S
    else:
        x_mean, y_mean = None, np.zeros(Y.shape[1])
    gram = gram_from_moments(m.xtx, m.xty, m.yty, x_mean, y_mean, S)
    return Data(X, Y, None, S, x_mean, np.atleast_1d(y_mean), fit_intercept, single, gram)


def sufficient_statistics(X: Any, y: Any, sample_weight: Any = None) -> Moments:
    """The raw weighted moments of dask X and y in one distributed pass.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
        Chunked along the rows (a column-chunked X is rechunked to whole rows).
    y : dask array or ndarray of shape (n_samples,) or (n_samples, n_targets)
    sample_weight : dask array or ndarray of shape (n_samples,), optional

    Returns
    -------
    Moments
        float64 ``xtx`` = X'WX, ``xty`` = Y'WX (one row per target), ``x_sum`` = W'X,
        ``y_sum`` = W'Y, ``yty`` = sum of W y**2 per target, ``weight_sum`` and
        ``n_samples``.

    Examples
    --------
    >>> import numpy as np, dask.array as da, lkreg.dask
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> m = lkreg.dask.sufficient_statistics(da.from_array(X, chunks=(4, 2)), X[:, 0])
    >>> bool(np.allclose(m.xtx, X.T @ X)), m.weight_sum, m.n_samples
    (True, 6.0, 6)
    """
    if not is_dask_array(X):
        raise TypeError(f"X must be a dask array, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional, got shape {X.shape}")
    X = X.astype(_float_dtype(X))
    y = _as_dask(y, X.chunks[0], "y")
    sw = None if sample_weight is None else _as_dask(sample_weight, X.chunks[0], "sample_weight")
    return moments(X, y.reshape((X.shape[0], -1)), sw)


__all__ = ["Moments", "block_moments", "moments", "prepare_dask", "sufficient_statistics",
           "tree_add", "tree_sum"]
