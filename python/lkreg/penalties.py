"""Penalties: small immutable objects with value, grad, value_and_grad, add_grad and prox.

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

__all__ = ["Penalty", "L1", "L2", "Lk", "ElasticNet", "L0", "GroupL2"]

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
        w = as_input(w, "w")
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
        w = as_input(w, "w")
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
        w = as_input(w, "w")
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
        w = as_input(w, "w")
        return _core.penalty_grad(self._params(w.size), w, g, accumulate=True)

    def prox(self, w: Any, step: float, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Return the proximal operator ``argmin_x 0.5 * ||x - w||**2 + step * r(x)``.

        At an exact tie between 0 and a nonzero minimizer (non-convex penalties) it returns 0.

        Parameters
        ----------
        w : array_like of float32 or float64
            Point, any shape.
        step : float
            Step size, finite and >= 0 (an optimizer's learning rate).
        out : ndarray, optional
            Where to write the result, as in :meth:`grad`; may be ``w`` (in place).

        Returns
        -------
        ndarray
            The result, ``out`` if given.
        """
        w = as_input(w, "w")
        return self._prox(w, _coefficient(step, "step") * self._scale(w.size), out)

    def _prox(self, w: np.ndarray, step: float, out: Optional[np.ndarray]) -> np.ndarray:
        """The prox for a C-contiguous ``w`` with ``step`` already including the reduction."""
        raise NotImplementedError  # pragma: no cover - abstract

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

    def _prox(self, w: np.ndarray, step: float, out: Optional[np.ndarray]) -> np.ndarray:
        # exact global minimizer: closed forms for k = 1/2, 2/3, 1, 3/2, 2, 3; Newton otherwise
        return _core.lk_prox(w, self.k, step * self.lam, out)

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

    def _prox(self, w: np.ndarray, step: float, out: Optional[np.ndarray]) -> np.ndarray:
        # soft(w, step*l1) / (1 + 2*step*l2) in one pass
        return _core.soft_threshold(w, step * self.l1, out, 1.0 / (1.0 + 2.0 * step * self.l2))


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

    def _prox(self, w: np.ndarray, step: float, out: Optional[np.ndarray]) -> np.ndarray:
        # keep w_i iff 0.5 * w_i**2 > step * lam (ties go to 0)
        return _core.hard_threshold(w, math.sqrt(2.0 * step * self.lam), out)


class GroupL2(Penalty):
    """Group lasso ``lam * sum_g ||w_g||_2``: whole groups (neurons, features) go to zero.

    Exactly one of ``axis`` and ``groups`` says what the groups are.

    Parameters
    ----------
    lam : float, default 1.0
        Strength, finite and >= 0.
    axis : int, optional
        The group norms are ``np.linalg.norm(w, axis=axis)``: for a 2-D weight, ``axis=1``
        makes each row a group and ``axis=0`` each column.
    groups : array_like of int, optional
        A group id >= 0 per element of ``w`` (same shape, or flat with ``w.size`` entries). Only
        which elements share an id matters: ``groups`` keeps them renumbered 0, 1, ... in the
        order of the ids.
    reduction : {"sum", "mean"}, default "sum"
        "mean" divides by ``w.size``.

    Notes
    -----
    ``grad`` is ``lam * w_g / ||w_g||`` (0 for a zero group) and ``prox`` is block
    soft-thresholding ``w_g * max(0, 1 - step * lam / ||w_g||)``. Group sums of squares
    accumulate in float64.
    """

    __slots__ = ("lam", "axis", "groups")
    _fields = ("lam", "axis")

    lam: float
    axis: Optional[int]
    groups: Optional[np.ndarray]

    def __init__(
        self,
        lam: float = 1.0,
        axis: Optional[int] = None,
        groups: Any = None,
        reduction: Reduction = "sum",
    ) -> None:
        super().__init__(reduction)
        object.__setattr__(self, "lam", _coefficient(lam, "lam"))
        if (axis is None) == (groups is None):
            raise ValueError("give exactly one of axis and groups")
        if axis is not None:
            if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
                raise TypeError(f"axis must be an int, got {type(axis).__name__}")
            axis = int(axis)
        else:
            ids = np.asarray(groups)
            if ids.dtype.kind not in "iu":
                raise TypeError(f"groups must be an integer array, got dtype {ids.dtype}")
            if ids.size and ids.min() < 0:
                raise ValueError("groups must be >= 0")
            # ids 0..n_groups-1 in the same order: large ids cost no memory for empty groups
            groups = np.unique(ids, return_inverse=True)[1].reshape(ids.shape).astype(np.int64)
            groups.setflags(write=False)
        object.__setattr__(self, "axis", axis)
        object.__setattr__(self, "groups", groups)

    def _normalized_axis(self, w: np.ndarray) -> int:
        assert self.axis is not None
        if not -w.ndim <= self.axis < w.ndim:
            raise ValueError(f"axis {self.axis} is out of bounds for w with {w.ndim} dimensions")
        return self.axis % w.ndim

    def _group_sumsq(self, w: np.ndarray) -> np.ndarray:
        if self.axis is not None:
            return _core.group_sumsq_axis(w, self._normalized_axis(w))
        return _core.group_sumsq_ids(w, self.groups)

    def _group_scale(
        self, w: np.ndarray, factor: np.ndarray, out: Optional[np.ndarray], accumulate: bool = False
    ) -> np.ndarray:
        if self.axis is not None:
            return _core.group_scale_axis(w, self._normalized_axis(w), factor, out, accumulate)
        return _core.group_scale_ids(w, self.groups, factor, out, accumulate)

    def value(self, w: Any) -> float:
        w = as_input(w, "w")
        norms = np.sqrt(self._group_sumsq(w))
        return float(self.lam * self._scale(w.size) * np.sum(norms))

    __call__ = value

    def _grad_factor(self, w: np.ndarray, norms: np.ndarray) -> np.ndarray:
        lam = self.lam * self._scale(w.size)
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 for lam = 0: not used
            return np.where(norms > 0, lam / norms, 0.0)

    def grad(self, w: Any, out: Optional[np.ndarray] = None) -> np.ndarray:
        w = as_input(w, "w")
        return self._group_scale(w, self._grad_factor(w, np.sqrt(self._group_sumsq(w))), out)

    def value_and_grad(self, w: Any, out: Optional[np.ndarray] = None) -> Tuple[float, np.ndarray]:
        w = as_input(w, "w")
        norms = np.sqrt(self._group_sumsq(w))
        value = float(self.lam * self._scale(w.size) * np.sum(norms))
        return value, self._group_scale(w, self._grad_factor(w, norms), out)

    def add_grad(self, w: Any, g: np.ndarray) -> np.ndarray:
        w = as_input(w, "w")
        factor = self._grad_factor(w, np.sqrt(self._group_sumsq(w)))
        return self._group_scale(w, factor, g, accumulate=True)

    def _prox(self, w: np.ndarray, step: float, out: Optional[np.ndarray]) -> np.ndarray:
        norms = np.sqrt(self._group_sumsq(w))
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(norms > 0, np.maximum(0.0, 1.0 - step * self.lam / norms), 0.0)
        return self._group_scale(w, factor, out)

    def _key(self) -> tuple:
        ids = None if self.groups is None else (self.groups.shape, self.groups.tobytes())
        return (GroupL2, self.reduction, self.lam, self.axis, ids)

    def __repr__(self) -> str:
        where = f"axis={self.axis}" if self.axis is not None else f"groups=<{self.groups.size} ids>"
        extra = f", reduction={self.reduction!r}" if self.reduction != "sum" else ""
        return f"GroupL2(lam={self.lam!r}, {where}{extra})"
