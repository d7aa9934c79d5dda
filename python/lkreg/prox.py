"""Element-wise proximal operators: soft- and hard-thresholding, weight decay.

L1 makes weights exactly zero only when applied as a proximal step (soft-thresholding), not
as a subgradient. These functions take float32/float64 arrays of any shape (a strided one is
copied once into C order); ``out=`` must be C-contiguous, writable and of ``x``'s dtype and
shape, and may be ``x`` itself (in place).
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from . import _core
from ._validation import as_input

__all__ = ["soft_threshold", "hard_threshold", "weight_decay"]


def _threshold(t: Any) -> Any:
    """A scalar threshold (>= 0, not NaN) or an array of them, as the kernels take it."""
    if isinstance(t, (int, float, np.integer, np.floating)) and not isinstance(t, (bool, np.bool_)):
        value = float(t)
        if math.isnan(value) or value < 0:
            raise ValueError(f"t must be >= 0, got {t!r}")
        return value
    if isinstance(t, (bool, np.bool_)) or t is None or isinstance(t, str):
        raise TypeError(f"t must be a number or an array, got {type(t).__name__}")
    arr = as_input(t, "t")
    if arr.ndim == 0:
        return _threshold(arr.item())
    return arr


def soft_threshold(x: Any, t: Any, out: Optional[np.ndarray] = None) -> np.ndarray:
    """Soft-thresholding ``sign(x) * max(|x| - t, 0)``: the proximal operator of ``t * |x|``.

    A zero result keeps the sign of ``x`` (``copysign``), so ``t = 0`` returns ``x`` bit for bit.

    Parameters
    ----------
    x : array_like of float32 or float64
    t : float or ndarray
        Threshold >= 0, or an array of ``x``'s dtype and shape (weighted L1; its entries are
        used as given).
    out : ndarray, optional
        Where to write the result; may be ``x`` (in place).

    Returns
    -------
    ndarray
        The result, ``out`` if given. NaN in ``x`` propagates.
    """
    return _core.soft_threshold(as_input(x, "x"), _threshold(t), out)


def hard_threshold(x: Any, t: Any, out: Optional[np.ndarray] = None) -> np.ndarray:
    """Hard-thresholding: 0 where ``|x| <= t``, else ``x`` (so a NaN in ``x`` or ``t`` keeps x).

    Parameters
    ----------
    x : array_like of float32 or float64
    t : float or ndarray
        Threshold >= 0, or an array of ``x``'s dtype and shape.
    out : ndarray, optional
        Where to write the result; may be ``x`` (in place).

    Returns
    -------
    ndarray
        The result, ``out`` if given.
    """
    return _core.hard_threshold(as_input(x, "x"), _threshold(t), out)


def weight_decay(w: Any, rate: float, out: Optional[np.ndarray] = None) -> np.ndarray:
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
    ndarray
        The result, ``out`` if given.
    """
    if isinstance(rate, (bool, np.bool_)) or not isinstance(rate, (int, float, np.integer, np.floating)):
        raise TypeError(f"rate must be a real number, got {type(rate).__name__}")
    if not math.isfinite(float(rate)) or rate < 0:
        raise ValueError(f"rate must be a finite number >= 0, got {rate!r}")
    return _core.scale(as_input(w, "w"), 1.0 - float(rate), out)
