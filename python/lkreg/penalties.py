"""Penalties: small immutable objects with value, grad, value_and_grad and add_grad.

One convention for all of them: ``Lk(k, lam).value(w) == lam * sum(abs(w) ** k)``, so
``L1(lam) == Lk(1, lam)`` and ``L2(lam) == Lk(2, lam)`` (no 1/2, as in Keras; PyTorch's
``weight_decay=wd`` is ``L2(wd / 2)``). ``reduction="mean"`` divides by ``w.size``.

Every method takes a float32 or float64 array of any shape (a strided one is copied once into
C order) and computes in that precision, with float64 accumulation for values. ``out=`` and
``add_grad``'s ``g`` must be C-contiguous, writable and of ``w``'s dtype and shape; they may be
``w`` itself.
"""

from __future__ import annotations

import math
from typing import Any, Literal, Optional, Tuple

import numpy as np

from . import _core
from ._arrays import as_input

__all__ = ["Penalty", "L1", "L2", "Lk", "ElasticNet", "L0"]

Reduction = Literal["sum", "mean"]


def _coefficient(value: object, name: str) -> float:
    """A finite float >= 0, else TypeError/ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    x = float(value)
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return x


def _reduction(value: object) -> Reduction:
    if value not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', got {value!r}")
    return value  # type: ignore[return-value]


class Penalty:
    """Base class of lkreg's penalties ``r(w)``.

    Subclasses define ``_fields`` (their constructor arguments, for repr and equality) and
    ``_params(n)``, the kernel coefficients for an array of ``n`` elements.
    """

    __slots__ = ("reduction",)
    _fields: Tuple[str, ...] = ()
    #: Whether the penalty is differentiable everywhere (optimizers add its gradient) or not
    #: (they apply its proximal operator instead).
    is_smooth: bool = False

    reduction: Reduction

    def __init__(self, reduction: Reduction = "sum") -> None:
        object.__setattr__(self, "reduction", _reduction(reduction))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; make a new one")

    def _scale(self, n: int) -> float:
        return 1.0 / n if self.reduction == "mean" and n > 0 else 1.0

    def _params(self, n: int) -> _core.PenaltyParams:  # pragma: no cover - abstract
        raise NotImplementedError

    def value(self, w: Any) -> float:
        """Return the penalty of ``w``.

        Parameters
        ----------
        w : array_like of float32 or float64
            Weights, any shape.

        Returns
        -------
        float
            ``r(w)``, accumulated in float64.
        """
        w = as_input(w)
        return _core.penalty_value(self._params(w.size), w)

    __call__ = value

    def grad(self, w: Any, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Return the gradient of the penalty at ``w`` (0 where ``w == 0`` for k <= 1).

        Parameters
        ----------
        w : array_like of float32 or float64
            Weights, any shape.
        out : ndarray, optional
            Where to write the gradient: C-contiguous, writable, ``w``'s dtype and shape; may be
            ``w`` itself.

        Returns
        -------
        ndarray
            The gradient, ``out`` if given.
        """
        w = as_input(w)
        return _core.penalty_grad(self._params(w.size), w, out)

    def value_and_grad(self, w: Any, out: Optional[np.ndarray] = None) -> Tuple[float, np.ndarray]:
        """Return ``(value(w), grad(w))`` computed in one pass over ``w``.

        Parameters
        ----------
        w : array_like of float32 or float64
            Weights, any shape.
        out : ndarray, optional
            Where to write the gradient, as in :meth:`grad`.

        Returns
        -------
        value : float
        grad : ndarray
        """
        w = as_input(w)
        return _core.penalty_value_and_grad(self._params(w.size), w, out)

    def add_grad(self, w: Any, g: np.ndarray) -> np.ndarray:
        """Add the penalty's gradient at ``w`` to ``g`` in place (what optimizers use).

        Parameters
        ----------
        w : array_like of float32 or float64
            Weights, any shape.
        g : ndarray
            Gradient of the loss: C-contiguous, writable, ``w``'s dtype and shape.

        Returns
        -------
        ndarray
            ``g``.
        """
        w = as_input(w)
        return _core.penalty_grad(self._params(w.size), w, g, accumulate=True)

    def __repr__(self) -> str:
        args = [f"{name}={getattr(self, name)!r}" for name in self._fields]
        if self.reduction != "sum":
            args.append(f"reduction={self.reduction!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    def _key(self) -> tuple:
        return (type(self), self.reduction) + tuple(getattr(self, f) for f in self._fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Penalty):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


class Lk(Penalty):
    """``lam * sum(|w| ** k)`` for any real ``k > 0``.

    k < 1 gives sparser solutions than L1 (non-convex), k = 1 is L1, k = 2 is L2, large k
    punishes the largest weights most. ``Lk(1, lam)`` equals ``L1(lam)`` and ``Lk(2, lam)``
    equals ``L2(lam)``. k = 1/2, 3/2 and 3 use sqrt and products; other k a vectorized pow with
    relative error below about 2**-52 * (|k - 1| * |log2 |w|| + 4) in float64.

    Parameters
    ----------
    k : float
        Exponent, finite and > 0.
    lam : float, default 1.0
        Strength, finite and >= 0.
    reduction : {"sum", "mean"}, default "sum"
        "mean" divides value and gradient by ``w.size``.
    """

    __slots__ = ("k", "lam")
    _fields = ("k", "lam")

    k: float
    lam: float

    def __init__(self, k: float, lam: float = 1.0, reduction: Reduction = "sum") -> None:
        super().__init__(reduction)
        k = _coefficient(k, "k")
        if k == 0:
            raise ValueError("k must be > 0, got 0")
        object.__setattr__(self, "k", k)
        object.__setattr__(self, "lam", _coefficient(lam, "lam"))

    @property
    def is_smooth(self) -> bool:  # type: ignore[override]
        return self.k > 1

    def _params(self, n: int) -> _core.PenaltyParams:
        return _core.PenaltyParams(_core.PenaltyKind.Lk, self.lam * self._scale(n), self.k)

    def _key(self) -> tuple:
        # L1(lam) == Lk(1, lam) and L2(lam) == Lk(2, lam): the same penalty.
        return (Lk, self.reduction, self.k, self.lam)


class L1(Lk):
    """``lam * sum(|w|)``: sparse weights (lasso). Gradient ``lam * sign(w)``, 0 at 0.

    Parameters
    ----------
    lam : float, default 1.0
        Strength, finite and >= 0.
    reduction : {"sum", "mean"}, default "sum"
    """

    __slots__ = ()
    _fields = ("lam",)

    def __init__(self, lam: float = 1.0, reduction: Reduction = "sum") -> None:
        super().__init__(1.0, lam, reduction)


class L2(Lk):
    """``lam * sum(w ** 2)``: small, smooth weights (ridge, weight decay). Gradient ``2*lam*w``.

    Parameters
    ----------
    lam : float, default 1.0
        Strength, finite and >= 0.
    reduction : {"sum", "mean"}, default "sum"
    """

    __slots__ = ()
    _fields = ("lam",)

    def __init__(self, lam: float = 1.0, reduction: Reduction = "sum") -> None:
        super().__init__(2.0, lam, reduction)


class ElasticNet(Penalty):
    """``l1 * sum(|w|) + l2 * sum(w ** 2)``.

    Parameters
    ----------
    l1, l2 : float
        Strengths, finite and >= 0.
    reduction : {"sum", "mean"}, default "sum"
    """

    __slots__ = ("l1", "l2")
    _fields = ("l1", "l2")

    l1: float
    l2: float

    def __init__(self, l1: float, l2: float, reduction: Reduction = "sum") -> None:
        super().__init__(reduction)
        object.__setattr__(self, "l1", _coefficient(l1, "l1"))
        object.__setattr__(self, "l2", _coefficient(l2, "l2"))

    @property
    def is_smooth(self) -> bool:  # type: ignore[override]
        return self.l1 == 0

    def _params(self, n: int) -> _core.PenaltyParams:
        s = self._scale(n)
        return _core.PenaltyParams(_core.PenaltyKind.ElasticNet, self.l1 * s, 2.0, self.l2 * s)


class L0(Penalty):
    """``lam * count(w != 0)``: the number of nonzero weights. Gradient 0 (use its prox).

    Parameters
    ----------
    lam : float, default 1.0
        Strength, finite and >= 0.
    reduction : {"sum", "mean"}, default "sum"
    """

    __slots__ = ("lam",)
    _fields = ("lam",)

    lam: float

    def __init__(self, lam: float = 1.0, reduction: Reduction = "sum") -> None:
        super().__init__(reduction)
        object.__setattr__(self, "lam", _coefficient(lam, "lam"))

    def _params(self, n: int) -> _core.PenaltyParams:
        return _core.PenaltyParams(_core.PenaltyKind.L0, self.lam * self._scale(n), 0.0)
