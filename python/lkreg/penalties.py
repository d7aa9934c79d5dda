"""Penalties: small immutable objects with value, grad, value_and_grad, add_grad and prox.

One convention for all of them: ``Lk(k, lam).value(w) == lam * sum(abs(w) ** k)``, so
``L1(lam) == Lk(1, lam)`` and ``L2(lam) == Lk(2, lam)`` (no 1/2, as in Keras; PyTorch's
``weight_decay=wd`` is ``L2(wd / 2)``). ``reduction="mean"`` divides by ``w.size``.

Every method takes a float32 or float64 array of any shape (a strided one is copied once into
C order) and computes in that precision, with float64 accumulation for values. ``out=`` and
``add_grad``'s ``g`` must be C-contiguous, writable and of ``w``'s dtype and shape; they may be
``w`` itself. A dask array ``w`` gives lazy dask results (``value`` a 0-d float64 dask array,
``add_grad`` the sum as a new array), GroupL2's included: see :mod:`lkreg.dask`.
"""

from __future__ import annotations

import math
from typing import Any, Dict, FrozenSet, Literal, Optional, Tuple, Union

import numpy as np

from . import _core
from ._validation import (as_input, choice, dask_backend, integer, is_dask_array,
                          no_out_for_dask, nonnegative, scalar_if_0d)

__all__ = ["Penalty", "L1", "L2", "Lk", "ElasticNet", "L0", "GroupL2"]

Reduction = Literal["sum", "mean"]
Step = Union[float, np.ndarray]


def _reduction(value: object) -> Reduction:
    return choice(value, "reduction", ("sum", "mean"))  # type: ignore[return-value]


def _rebuild(cls: type, kwargs: Dict[str, Any]) -> "Penalty":
    """Unpickle (and copy) a penalty through its constructor, which checks its arguments."""
    return cls(**kwargs)


def _step_array(step: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A per-element step: real, w's shape, finite and >= 0; cast to w's dtype (C order)."""
    if step.dtype.kind not in "fiu":
        raise TypeError(f"step must be a real number or array, got dtype {step.dtype}")
    if step.shape != w.shape:
        raise ValueError(f"step must be a number or an array of w's shape {w.shape}, got {step.shape}")
    arr = np.asarray(step, dtype=w.dtype, order="C")  # (ascontiguousarray makes 0-d 1-d)
    with np.errstate(invalid="ignore"):
        ok = bool(np.all((arr >= 0) & (arr < np.inf)))
    if not ok:
        raise ValueError("step must be finite and >= 0 everywhere")
    return arr


class Penalty:
    """Base class of lkreg's penalties ``r(w)``.

    Subclasses define ``_fields`` (their constructor arguments, for repr, equality and
    pickling) and ``_params()``, their description for the C++ side (None if not element-wise).

    Examples
    --------
    Every penalty has the same methods:

    >>> import numpy as np, lkreg
    >>> w = np.array([-2.0, 0.0, 0.5])
    >>> for penalty in (lkreg.L1(0.1), lkreg.L2(0.1), lkreg.Lk(0.5, 0.1), lkreg.L0(0.1)):
    ...     print(f"{penalty!r:24} value {penalty.value(w):.4f}  prox {penalty.prox(w, 1.0)}")
    L1(lam=0.1)              value 0.2500  prox [-1.9  0.   0.4]
    L2(lam=0.1)              value 0.4250  prox [-1.66666667  0.          0.41666667]
    Lk(k=0.5, lam=0.1)       value 0.2121  prox [-1.96432505  0.          0.42313463]
    L0(lam=0.1)              value 0.2000  prox [-2.   0.   0.5]
    """

    __slots__ = ("reduction",)
    _fields: Tuple[str, ...] = ()
    #: Whether the penalty is differentiable everywhere (optimizers add its gradient) or not
    #: (they apply its proximal operator instead).
    is_smooth: bool = False
    #: Whether the penalty is convex (solvers' duality gaps and screening need it).
    is_convex: bool = True

    reduction: Reduction

    def __init__(self, reduction: Reduction = "sum") -> None:
        object.__setattr__(self, "reduction", _reduction(reduction))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; make a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; make a new one")

    def check_shape(self, shape: Tuple[int, ...], name: str = "w") -> None:
        """Raise a ValueError naming ``name`` if the penalty cannot apply to that shape.

        Element-wise penalties fit any shape; GroupL2 needs its axis or one group id per
        element. Optimizers call this for every parameter before a step changes anything.
        """

    def _init_kwargs(self) -> Dict[str, Any]:
        kwargs = {name: getattr(self, name) for name in self._fields}
        kwargs["reduction"] = self.reduction
        return kwargs

    def __reduce__(self) -> Tuple[Any, ...]:
        # pickle, copy.copy and copy.deepcopy all rebuild through the constructor: the slots
        # cannot be set after creation (immutability), and a copy of an immutable object may be
        # a new equal one.
        return (_rebuild, (type(self), self._init_kwargs()))

    def _scale(self, n: int) -> float:
        return 1.0 / n if self.reduction == "mean" and n > 0 else 1.0

    def description(self, size: Optional[int] = None) -> Optional[_core.PenaltyParams]:
        """What the C++ side needs to know about this penalty: its kind and coefficients.

        Kernels, optimizers and solvers take this description instead of reading the
        penalty's fields (see ``docs/architecture.md``, "Penalties and the prox contract").

        Parameters
        ----------
        size : int, optional
            The number of elements the penalty is applied to: ``reduction="mean"`` divides the
            coefficients by it. None gives the coefficients of ``reduction="sum"``.

        Returns
        -------
        _core.PenaltyParams or None
            None for penalties that are not a sum of one function per element (GroupL2).
        """
        params = self._params()
        if params is None or size is None:
            return params
        return params.scaled(self._scale(integer(size, "size", 0)))

    def _params(self) -> Optional[_core.PenaltyParams]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def capabilities(self) -> FrozenSet[str]:
        """What this penalty offers a solver: a subset of ``{"value", "grad", "prox",
        "prox_1d", "smooth", "convex"}`` ("prox_1d": a scalar prox per coordinate, the
        ``description()`` coordinate descent needs)."""
        caps = {"value", "grad", "prox"}
        if self.description() is not None:
            caps.add("prox_1d")
        if self.is_smooth:
            caps.add("smooth")
        if self.is_convex:
            caps.add("convex")
        return frozenset(caps)

    def _desc(self, w: np.ndarray) -> _core.PenaltyParams:
        params = self._params()
        assert params is not None
        return params.scaled(self._scale(w.size))

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
        if is_dask_array(w):  # a lazy 0-d float64 dask array (lkreg.dask)
            return dask_backend().penalty_value(self, w)
        w = as_input(w, "w")
        return _core.penalty_value(self._desc(w), w)

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
        if is_dask_array(w):
            no_out_for_dask(out)
            return dask_backend().penalty_grad(self, w)
        w = as_input(w, "w")
        return scalar_if_0d(_core.penalty_grad(self._desc(w), w, out), out)

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
        if is_dask_array(w):  # two lazy results; each block is read once per result
            no_out_for_dask(out)
            return dask_backend().penalty_value(self, w), dask_backend().penalty_grad(self, w)
        w = as_input(w, "w")
        value, grad = _core.penalty_value_and_grad(self._desc(w), w, out)
        return value, scalar_if_0d(grad, out)

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
        if is_dask_array(w):  # dask arrays are immutable: the sum, as a new lazy array
            return dask_backend().penalty_add_grad(self, w, g)
        w = as_input(w, "w")
        return _core.penalty_grad(self._desc(w), w, g, accumulate=True)

    def prox(self, w: Any, step: Step, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Return the proximal operator ``argmin_x 0.5 * ||x - w||**2 + step * r(x)``.

        With a step array this is the prox in the metric ``diag(1 / step)``:
        ``argmin_x sum((x - w)**2 / (2 * step)) + r(x)``, element by element for the
        element-wise penalties (what adaptive optimizers and solvers need). At an exact tie
        between 0 and a nonzero minimizer (non-convex penalties) it returns 0.

        Parameters
        ----------
        w : array_like of float32 or float64
            Point, any shape.
        step : float or array_like
            Step size, finite and >= 0 (an optimizer's learning rate), or one per element of
            ``w`` (an array of its shape, cast to its dtype).
        out : ndarray, optional
            Where to write the result, as in :meth:`grad`; may be ``w`` (in place).

        Returns
        -------
        ndarray
            The result, ``out`` if given.

        Examples
        --------
        >>> import numpy as np, lkreg
        >>> lkreg.L1(1.0).prox(np.array([3.0, -0.5, 2.0]), np.array([1.0, 1.0, 4.0]))
        array([ 2., -0.,  0.])
        """
        if is_dask_array(w):
            no_out_for_dask(out)
            return dask_backend().penalty_prox(self, w, step)
        w = as_input(w, "w")
        if isinstance(step, (np.ndarray, list, tuple)):
            return scalar_if_0d(self._prox_steps(w, _step_array(np.asarray(step), w), out), out)
        return scalar_if_0d(self._prox(w, nonnegative(step, "step") * self._scale(w.size), out), out)

    def _prox(self, w: np.ndarray, step: float, out: Optional[np.ndarray]) -> np.ndarray:
        """The prox for a C-contiguous ``w``, ``step`` already including the reduction (as
        (step / n) * lam: the rounding users' references have)."""
        params = self._params()
        assert params is not None
        return _core.penalty_prox(params, w, step, out)

    def _prox_steps(self, w: np.ndarray, step: np.ndarray, out: Optional[np.ndarray]) -> np.ndarray:
        return _core.penalty_prox(self._desc(w), w, step, out)

    def alpha_max(self, grad_at_zero: Any) -> float:
        """The smallest strength that makes ``w = 0`` a minimizer of ``loss + penalty``.

        For a loss whose gradient at ``w = 0`` is ``grad_at_zero``, ``w = 0`` satisfies the
        optimality condition exactly when the penalty's strength (``lam``; ``l1`` for
        ElasticNet) is at least this value: a regularization path starts there. It is
        ``max|g|`` for L1 and ElasticNet (times ``w.size`` with ``reduction="mean"``), the
        largest group norm for GroupL2, 0 for L0 and Lk with k < 1 (0 is a local minimizer at
        any strength), and 0 or inf for smooth penalties (whether ``g`` is 0).

        Parameters
        ----------
        grad_at_zero : array_like of float32 or float64
            The loss gradient at ``w = 0``, of ``w``'s shape.

        Returns
        -------
        float
        """
        g = as_input(grad_at_zero, "grad_at_zero")
        largest = float(np.max(np.abs(g))) if g.size else 0.0
        if not self.is_convex:
            return 0.0
        if self.is_smooth:
            return 0.0 if largest == 0 else math.inf
        return largest / self._scale(g.size)

    def subdiff_distance(self, w: Any, grad: Any) -> np.ndarray:
        """Per coordinate, the distance from ``-grad`` to the penalty's subdifferential at ``w``.

        0 everywhere exactly when ``w`` is a stationary point of ``loss + penalty`` for a loss
        with gradient ``grad`` at ``w`` (the KKT violation solvers stop on). Non-convex
        penalties use the limiting subdifferential, all of R at ``w_i = 0``.

        Parameters
        ----------
        w : array_like of float32 or float64
        grad : array_like
            The loss gradient at ``w``: ``w``'s dtype and shape.

        Returns
        -------
        ndarray
            ``w``'s shape (GroupL2: one distance per group).
        """
        w = as_input(w, "w")
        return _core.penalty_subdiff_distance(self._desc(w), w, as_input(grad, "grad"))

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

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> w = np.array([-2.0, 0.0, 1.0])
    >>> lkreg.Lk(3, lam=0.5).value(w)  # 0.5 * (8 + 0 + 1)
    4.5
    >>> lkreg.Lk(3, lam=0.5).grad(w)  # lam * k * |w|**(k-1) * sign(w)
    array([-6. ,  0. ,  1.5])
    >>> lkreg.Lk(1, 0.1) == lkreg.L1(0.1), lkreg.Lk(0.5, 0.1).is_smooth
    (True, False)
    """

    __slots__ = ("k", "lam")
    _fields = ("k", "lam")

    k: float
    lam: float

    def __init__(self, k: float, lam: float = 1.0, reduction: Reduction = "sum") -> None:
        super().__init__(reduction)
        k = nonnegative(k, "k")
        if k == 0:
            raise ValueError("k must be > 0, got 0")
        object.__setattr__(self, "k", k)
        object.__setattr__(self, "lam", nonnegative(lam, "lam"))

    @property
    def is_smooth(self) -> bool:  # type: ignore[override]
        return self.k > 1

    @property
    def is_convex(self) -> bool:  # type: ignore[override]
        return self.k >= 1

    def _params(self) -> _core.PenaltyParams:
        # prox: the exact global minimizer, closed forms for k = 1/2, 2/3, 1, 3/2, 2, 3 and a
        # safeguarded Newton otherwise
        if self.k == 1.0:
            return _core.PenaltyParams(_core.PenaltyKind.L1, self.lam)
        if self.k == 2.0:
            return _core.PenaltyParams(_core.PenaltyKind.L2, self.lam)
        return _core.PenaltyParams(_core.PenaltyKind.Lk, self.lam, self.k)

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

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> w = np.array([-2.0, 0.0, 0.05, 1.0], dtype=np.float32)
    >>> round(lkreg.L1(0.1).value(w), 6)  # a float, summed in float64
    0.305
    >>> lkreg.L1(0.1).grad(w)
    array([-0.1,  0. ,  0.1,  0.1], dtype=float32)
    >>> lkreg.L1(0.1).prox(w, step=1.0)  # soft-thresholding at step * lam: exact zeros
    array([-1.9,  0. ,  0. ,  0.9], dtype=float32)
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

    Examples
    --------
    No 1/2 in front (Keras' convention), so PyTorch's ``weight_decay=wd`` is ``L2(wd / 2)``:

    >>> import numpy as np, lkreg
    >>> w = np.array([-2.0, 1.0])
    >>> lkreg.L2(0.5).value(w), lkreg.L2(0.5).grad(w)
    (2.5, array([-2.,  1.]))
    >>> lkreg.L2(0.5).prox(w, step=1.0)  # w / (1 + 2 * step * lam)
    array([-1. ,  0.5])
    >>> lkreg.L2(0.5, reduction="mean").value(w)  # divided by w.size
    1.25
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

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> w = np.array([-2.0, 0.05, 1.0])
    >>> pen = lkreg.ElasticNet(l1=0.1, l2=0.5)
    >>> round(pen.value(w), 10)  # 0.1 * 3.05 + 0.5 * 5.0025
    2.80625
    >>> pen.prox(w, step=1.0)  # soft(w, step * l1) / (1 + 2 * step * l2)
    array([-0.95,  0.  ,  0.45])
    """

    __slots__ = ("l1", "l2")
    _fields = ("l1", "l2")

    l1: float
    l2: float

    def __init__(self, l1: float, l2: float, reduction: Reduction = "sum") -> None:
        super().__init__(reduction)
        object.__setattr__(self, "l1", nonnegative(l1, "l1"))
        object.__setattr__(self, "l2", nonnegative(l2, "l2"))

    @property
    def is_smooth(self) -> bool:  # type: ignore[override]
        return self.l1 == 0

    def _params(self) -> _core.PenaltyParams:
        # prox: soft(w, step*l1) / (1 + 2*step*l2) in one pass
        return _core.PenaltyParams(_core.PenaltyKind.ElasticNet, self.l1, 2.0, self.l2)


class L0(Penalty):
    """``lam * count(w != 0)``: the number of nonzero weights. Gradient 0 (use its prox).

    Parameters
    ----------
    lam : float, default 1.0
        Strength, finite and >= 0.
    reduction : {"sum", "mean"}, default "sum"

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> w = np.array([-2.0, 0.0, 0.3, 1.0])
    >>> lkreg.L0(0.5).value(w)
    1.5
    >>> lkreg.L0(0.5).prox(w, step=0.125)  # hard-threshold at sqrt(2 * step * lam) = 0.5
    array([-2.,  0.,  0.,  1.])
    """

    __slots__ = ("lam",)
    _fields = ("lam",)

    lam: float

    def __init__(self, lam: float = 1.0, reduction: Reduction = "sum") -> None:
        super().__init__(reduction)
        object.__setattr__(self, "lam", nonnegative(lam, "lam"))

    is_convex = False

    def _params(self) -> _core.PenaltyParams:
        # prox: keep w_i iff 0.5 * w_i**2 > step * lam (ties go to 0)
        return _core.PenaltyParams(_core.PenaltyKind.L0, self.lam, 0.0)


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

    A dask ``w`` gives lazy results (:mod:`lkreg.dask`). With ``axis``, ``w`` is first rechunked
    so that the axis lies whole in every block (one shuffle if it is split along the axis; the
    results are chunked that way) and ``grad``, ``add_grad`` and ``prox`` are the in-memory
    results bit for bit. With ``groups``, the groups' sums of squares are per-block partial
    sums added in a fixed order: bit for bit when every group lies inside one block, to
    float64 rounding otherwise. ``prox`` then takes a number as ``step``, not an array.

    Examples
    --------
    Each row of a weight matrix is a group (say, the weights of one output unit):

    >>> import numpy as np, lkreg
    >>> w = np.array([[3.0, 4.0], [0.3, 0.4]])
    >>> lkreg.GroupL2(1.0, axis=1).value(w)  # 5 + 0.5
    5.5
    >>> lkreg.GroupL2(1.0, axis=1).prox(w, step=1.0)  # the small row goes to zero as a whole
    array([[2.4, 3.2],
           [0. , 0. ]])
    >>> lkreg.GroupL2(1.0, groups=[0, 0, 1, 1]).value(w.ravel())  # the same groups by id
    5.5
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
        object.__setattr__(self, "lam", nonnegative(lam, "lam"))
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
            renumbered = np.unique(ids, return_inverse=True)[1].reshape(ids.shape)
            # Backed by immutable bytes: the kernels trust these ids (validated once) and read
            # them again, so nobody may write them, not even after setflags(write=True).
            groups = np.frombuffer(renumbered.astype(np.int64).tobytes(), dtype=np.int64)
            groups = groups.reshape(ids.shape)
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
        factor = np.asarray(factor, dtype=np.float64)
        if self.axis is not None:
            return _core.group_scale_axis(w, self._normalized_axis(w), factor, out, accumulate)
        return _core.group_scale_ids(w, self.groups, factor, out, accumulate)

    @staticmethod
    def _empty(w: np.ndarray, out: Optional[np.ndarray]) -> np.ndarray:
        """The result for an empty ``w``, without its groups (along an axis of an empty array
        there may be 2**60 empty ones): a scale of nothing, which checks ``out`` as usual."""
        return _core.scale(w, 1.0, out)

    # The pieces below take ``size``, the number of elements of the whole w, so that lkreg.dask
    # can apply them to blocks of a larger array with the whole array's reduction="mean".

    def _value_of(self, norms: np.ndarray, size: int) -> float:
        return float(self.lam * self._scale(size) * np.sum(norms))

    def value(self, w: Any) -> float:
        if is_dask_array(w):  # a lazy 0-d float64 dask array (lkreg.dask)
            return dask_backend().penalty_value(self, w)
        w = as_input(w, "w")
        if w.size == 0:
            return 0.0
        return self._value_of(np.sqrt(self._group_sumsq(w)), w.size)

    __call__ = value

    def _grad_factor(self, norms: np.ndarray, size: int) -> np.ndarray:
        lam = self.lam * self._scale(size)
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 for lam = 0: not used
            return np.where(norms > 0, lam / norms, 0.0)

    def _prox_factor(self, norms: np.ndarray, tau: float) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(norms > 0, np.maximum(0.0, 1.0 - tau / norms), 0.0)

    def grad(self, w: Any, out: Optional[np.ndarray] = None) -> np.ndarray:
        if is_dask_array(w):
            no_out_for_dask(out)
            return dask_backend().penalty_grad(self, w)
        w = as_input(w, "w")
        if w.size == 0:
            return self._empty(w, out)
        factor = self._grad_factor(np.sqrt(self._group_sumsq(w)), w.size)
        return scalar_if_0d(self._group_scale(w, factor, out), out)

    def value_and_grad(self, w: Any, out: Optional[np.ndarray] = None) -> Tuple[float, np.ndarray]:
        if is_dask_array(w):  # two lazy results (lkreg.dask)
            no_out_for_dask(out)
            return dask_backend().penalty_value(self, w), dask_backend().penalty_grad(self, w)
        w = as_input(w, "w")
        if w.size == 0:
            return 0.0, self._empty(w, out)
        norms = np.sqrt(self._group_sumsq(w))
        grad = self._group_scale(w, self._grad_factor(norms, w.size), out)
        return self._value_of(norms, w.size), scalar_if_0d(grad, out)

    def add_grad(self, w: Any, g: np.ndarray) -> np.ndarray:
        if is_dask_array(w):  # dask arrays are immutable: the sum, as a new lazy array
            return dask_backend().penalty_add_grad(self, w, g)
        w = as_input(w, "w")
        if w.size == 0:
            return self._empty(w, g)
        factor = self._grad_factor(np.sqrt(self._group_sumsq(w)), w.size)
        return self._group_scale(w, factor, g, accumulate=True)

    def _params(self) -> None:
        return None  # not a sum over elements: no scalar prox

    def check_shape(self, shape: Tuple[int, ...], name: str = "w") -> None:
        if self.axis is not None and not -len(shape) <= self.axis < len(shape):
            raise ValueError(f"{self!r} does not fit {name} of shape {shape}: axis out of range")
        size = int(np.prod(shape))
        if self.groups is not None and self.groups.size != size:
            raise ValueError(
                f"{self!r} does not fit {name}: it has {self.groups.size} group ids for {size} "
                "elements"
            )

    def _init_kwargs(self) -> Dict[str, Any]:
        return {"lam": self.lam, "axis": self.axis, "groups": self.groups,
                "reduction": self.reduction}

    def _prox(self, w: np.ndarray, step: float, out: Optional[np.ndarray]) -> np.ndarray:
        if w.size == 0:
            return self._empty(w, out)
        factor = self._prox_factor(np.sqrt(self._group_sumsq(w)), step * self.lam)
        return self._group_scale(w, factor, out)

    def _prox_steps(self, w: np.ndarray, step: np.ndarray, out: Optional[np.ndarray]) -> np.ndarray:
        # argmin_x sum((x - w)**2 / (2 step)) + lam sum_g ||x_g||: x_i = w_i r / (r + c_i) with
        # c_i = lam step_i and r = ||x_g|| the root of h(r) = 1 / ||w_g / (r + c_g)|| = 1 (h
        # rises from h(0) to about (r + c)/||w_g||, nearly linear: Newton, kept in the bracket
        # [0, ||w_g||] by bisection). The group is 0 iff h(0) >= 1, i.e. ||w_g / c_g|| <= 1.
        if w.size == 0:
            return self._empty(w, out)
        c = (step * (self.lam * self._scale(w.size))).astype(np.float64)
        w64 = w.astype(np.float64)
        ones = np.ones_like(w64)
        hi = np.sqrt(self._group_sumsq(w64))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            h0 = 1.0 / np.sqrt(self._group_sumsq(w64 / c))
            nonzero = (hi > 0) & ~(h0 >= 1.0)
            lo = np.zeros_like(hi)
            r = np.where(nonzero, 0.5 * hi, 0.0)
            for _ in range(100):
                d = self._group_scale(ones, r, None) + c  # r + c_i per element
                s2 = self._group_sumsq(w64 / d)  # sum w^2 / (r + c)^2
                s3 = self._group_sumsq(w64 / d**1.5)  # sum w^2 / (r + c)^3
                h = 1.0 / np.sqrt(s2)
                f = h - 1.0
                lo = np.where(f < 0, r, lo)
                hi = np.where(f > 0, r, hi)
                slope = s3 / s2**1.5
                new = r - f / slope
                new = np.where((new > lo) & (new < hi), new, 0.5 * (lo + hi))
                new = np.where(nonzero, new, 0.0)
                done = np.all(np.abs(new - r) <= 1e-15 * np.abs(new))
                r = new
                if done:
                    break
            d = self._group_scale(ones, r, None) + c
            x = np.where(self._group_scale(ones, nonzero.astype(np.float64), None) > 0,
                         w64 * self._group_scale(ones, r, None) / d, 0.0)
        if out is None:
            return x.astype(w.dtype)
        out[...] = x
        return out

    def alpha_max(self, grad_at_zero: Any) -> float:
        g = as_input(grad_at_zero, "grad_at_zero")
        norms = np.sqrt(self._group_sumsq(g))
        return (float(np.max(norms)) if norms.size else 0.0) / self._scale(g.size)

    def subdiff_distance(self, w: Any, grad: Any) -> np.ndarray:
        w, g = as_input(w, "w"), as_input(grad, "grad")
        if g.shape != w.shape:
            raise ValueError(f"grad must have shape {w.shape} like w, got {g.shape}")
        lam = self.lam * self._scale(w.size)
        norms = np.sqrt(self._group_sumsq(w))
        gnorm = np.sqrt(self._group_sumsq(g))
        moved = g.astype(np.float64) + self._group_scale(w, self._grad_factor(norms, w.size), None)
        at_nonzero = np.sqrt(self._group_sumsq(moved))
        return np.where(norms > 0, at_nonzero, np.maximum(0.0, gnorm - lam))

    def _key(self) -> tuple:
        ids = None if self.groups is None else (self.groups.shape, self.groups.tobytes())
        return (GroupL2, self.reduction, self.lam, self.axis, ids)

    def __repr__(self) -> str:
        where = f"axis={self.axis}" if self.axis is not None else f"groups=<{self.groups.size} ids>"
        extra = f", reduction={self.reduction!r}" if self.reduction != "sum" else ""
        return f"GroupL2(lam={self.lam!r}, {where}{extra})"
