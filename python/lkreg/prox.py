"""Element-wise proximal operators: soft- and hard-thresholding, weight decay.

L1 makes weights exactly zero only when applied as a proximal step (soft-thresholding), not
as a subgradient. These functions take float32/float64 arrays of any shape (a strided one is
copied once into C order; an ndarray subclass comes back as a plain ndarray, a masked array is
a TypeError); ``out=`` must be C-contiguous, writable and of the result's dtype and shape, and
may be ``x`` itself (in place). Like ufuncs, a scalar or 0-d input gives a NumPy scalar. A dask
array gives a lazy dask array equal to the in-memory result bit for bit (:mod:`lkreg.dask`).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Optional, Tuple

import numpy as np

from . import _core
from ._validation import (as_input, dask_backend, is_dask_array, no_out_for_dask,
                          nonnegative, real_number, scalar_if_0d)

__all__ = ["soft_threshold", "hard_threshold", "weight_decay"]


def _scalar_threshold(t: Any) -> float:
    value = real_number(t, "t")
    if math.isnan(value) or value < 0:
        raise ValueError(f"t must be >= 0, got {t!r}")
    return value


def _broadcast_period(t_shape: Tuple[int, ...], shape: Tuple[int, ...]) -> Optional[Tuple[int, int]]:
    """``(mid, inner)`` with ``broadcast_to(t, shape).flat[i] == t.flat[(i // inner) % mid]``.

    That holds when t's axes other than 1 are one run that matches ``shape`` (t of x's shape,
    one threshold per row, per column, per channel, ...); None when t repeats along an axis
    between two of its own (then the kernels get it laid out at x's size).
    """
    padded = (1,) * (len(shape) - len(t_shape)) + tuple(t_shape)
    axes = [d for d, n in enumerate(padded) if n != 1]
    if not axes:
        return 1, math.prod(shape)
    lo, hi = axes[0], axes[-1]
    if any(padded[d] != shape[d] for d in range(lo, hi + 1)):
        return None
    return math.prod(shape[lo : hi + 1]), math.prod(shape[hi + 1 :])


def _threshold_args(x: Any, t: Any) -> Tuple[np.ndarray, Any, int, int]:
    """``(x, t, mid, inner)`` as the kernels take them; t a checked float or a broadcast array.

    An array t broadcasts against x by NumPy's rules and is cast to x's dtype (a cast of t,
    never of x); if the broadcast shape is larger than x's, x is broadcast to it (a new array,
    as a ufunc's result would be).
    """
    xa = as_input(x, "x")
    if isinstance(t, (bool, np.bool_)) or t is None or isinstance(t, str):
        raise TypeError(f"t must be a number or an array, got {type(t).__name__}")
    if isinstance(t, numbers.Real):  # Fractions too: one rule for every scalar (_validation)
        return xa, _scalar_threshold(t), 0, 1
    ta = as_input(t, "t")
    if ta.ndim == 0:
        return xa, _scalar_threshold(ta.item()), 0, 1
    try:
        shape = np.broadcast_shapes(xa.shape, ta.shape)
    except ValueError:
        raise ValueError(f"t with shape {ta.shape} does not broadcast against x's shape {xa.shape}") from None
    if shape != xa.shape:
        xa = np.broadcast_to(xa, shape).copy()
    ta = ta.astype(xa.dtype, copy=False)
    period = _broadcast_period(ta.shape, shape)
    if period is None:
        ta = np.ascontiguousarray(np.broadcast_to(ta, shape))
        period = (ta.size, 1)
    return (xa, ta, *period)


def soft_threshold(x: Any, t: Any, out: Optional[np.ndarray] = None) -> Any:
    """Soft-thresholding ``sign(x) * max(|x| - t, 0)``: the proximal operator of ``t * |x|``.

    A zero result keeps the sign of ``x`` (``copysign``), so ``t = 0`` returns ``x`` bit for bit.

    Parameters
    ----------
    x : array_like of float32 or float64
    t : float or array_like of float32 or float64
        Threshold >= 0, or an array of them (weighted L1) that broadcasts against ``x`` by
        NumPy's rules and is cast to ``x``'s dtype. A negative entry is a ValueError, found in
        the same pass over the data; a NaN entry propagates.
    out : ndarray, optional
        Where to write the result; may be ``x`` (in place). If a negative entry of ``t`` is
        found, ``out`` (when not ``x``) holds no meaningful result.

    Returns
    -------
    ndarray or NumPy scalar
        The result, ``out`` if given; a NumPy scalar for a scalar or 0-d ``x`` and ``t``. NaN
        in ``x`` propagates.

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> lkreg.soft_threshold(np.array([-2.0, -0.3, 0.0, 0.5, 3.0]), 0.5)
    array([-1.5, -0. ,  0. ,  0. ,  2.5])
    >>> lkreg.soft_threshold(1.5, 0.5)
    np.float64(1.0)

    One threshold per column of a matrix, broadcast as NumPy would (float64 ``t`` is cast to
    ``x``'s float32):

    >>> x = np.array([[1.0, -2.0], [3.0, 0.5]], dtype=np.float32)
    >>> lkreg.soft_threshold(x, np.array([0.5, 1.0]))
    array([[ 0.5, -1. ],
           [ 2.5,  0. ]], dtype=float32)
    """
    if is_dask_array(x):  # lazy, block by block (lkreg.dask)
        return _on_dask(soft_threshold, x, t, out)
    xa, ta, mid, inner = _threshold_args(x, t)
    return scalar_if_0d(_core.soft_threshold(xa, ta, out, 1.0, mid, inner), out)


def hard_threshold(x: Any, t: Any, out: Optional[np.ndarray] = None) -> Any:
    """Hard-thresholding: 0 where ``|x| <= t``, else ``x`` (so a NaN in ``x`` or ``t`` keeps x).

    It is the proximal operator of ``t**2 / 2 * count_nonzero(x)`` (see :class:`lkreg.L0`).

    Parameters
    ----------
    x : array_like of float32 or float64
    t : float or array_like of float32 or float64
        Threshold >= 0, or an array of them broadcast against ``x`` and cast to its dtype, as
        in :func:`soft_threshold`.
    out : ndarray, optional
        Where to write the result; may be ``x`` (in place).

    Returns
    -------
    ndarray or NumPy scalar
        The result, ``out`` if given; a NumPy scalar for a scalar or 0-d ``x`` and ``t``.

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> lkreg.hard_threshold(np.array([-2.0, -0.3, 0.5, 0.7]), 0.5)
    array([-2. ,  0. ,  0. ,  0.7])

    In place, with one threshold per row:

    >>> x = np.array([[0.2, 0.9], [0.2, 0.9]])
    >>> out = lkreg.hard_threshold(x, np.array([[0.1], [0.5]]), out=x)
    >>> out is x, x
    (True, array([[0.2, 0.9],
           [0. , 0.9]]))
    """
    if is_dask_array(x):
        return _on_dask(hard_threshold, x, t, out)
    xa, ta, mid, inner = _threshold_args(x, t)
    return scalar_if_0d(_core.hard_threshold(xa, ta, out, mid, inner), out)


def weight_decay(w: Any, rate: float, out: Optional[np.ndarray] = None) -> Any:
    """Decoupled weight decay ``w * (1 - rate)``; ``out=w`` is the in-place form.

    Parameters
    ----------
    w : array_like of float32 or float64
    rate : float
        Finite and >= 0 (for an optimizer step, ``lr * weight_decay``).
    out : ndarray, optional
        Where to write the result; pass ``w`` to decay in place.

    Returns
    -------
    ndarray or NumPy scalar
        The result, ``out`` if given; a NumPy scalar for a scalar or 0-d ``w``.

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> w = np.array([1.0, -2.0, 4.0], dtype=np.float32)
    >>> lkreg.weight_decay(w, 0.25)
    array([ 0.75, -1.5 ,  3.  ], dtype=float32)
    >>> _ = lkreg.weight_decay(w, 0.5, out=w)  # in place
    >>> w
    array([ 0.5, -1. ,  2. ], dtype=float32)
    """
    if is_dask_array(w):
        no_out_for_dask(out)
        return dask_backend().weight_decay(w, rate)
    return scalar_if_0d(_core.scale(as_input(w, "w"), 1.0 - nonnegative(rate, "rate"), out), out)


def _on_dask(kernel: Any, x: Any, t: Any, out: Any) -> Any:
    """``kernel`` (this module's in-memory function) on every block of dask x."""
    no_out_for_dask(out)
    return dask_backend().threshold_blocks(kernel, x, t)
