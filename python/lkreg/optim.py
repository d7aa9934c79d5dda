"""Optimizers over lists of NumPy arrays: torch.optim's update rules, one fused C++ pass each.

``SGD``, ``Adam``, ``AdamW``, ``RMSprop`` and ``Adagrad`` take torch.optim's hyper-parameter
names and defaults and follow its (single-tensor, ``maximize=False``) update formulas operation
for operation, in the parameter's precision: porting a PyTorch training loop gives the same
trajectory. ``FTRL`` is FTRL-Proximal, Algorithm 1 of McMahan et al. (2013).

Each ``step(grads)`` updates every parameter in place with ONE pass of a SIMD/OpenMP kernel
that reads the parameter, its gradient and its state once and writes them once, with the GIL
released. Every gradient and hyper-parameter is checked before any parameter changes.

``penalty=`` (per param group) adds regularization inside that pass: a smooth penalty's
gradient is added to the gradient; a non-smooth one is applied as its proximal operator
``penalty.prox(w, lr)`` after the update, which gives exact zeros (fused into the pass for L1,
ElasticNet and L0; a second pass for Lk with k < 1 and GroupL2).

Examples
--------
>>> import numpy as np, lkreg
>>> w, b = np.zeros((3, 4), np.float32), np.zeros(3, np.float32)
>>> opt = lkreg.optim.AdamW([
...     {"params": [w], "penalty": lkreg.L1(1e-3)},
...     {"params": [b], "weight_decay": 0.0},
... ], lr=1e-2)
>>> opt.step([np.ones_like(w), np.ones_like(b)])
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any, Dict, List, NamedTuple, Optional, Tuple, Union

import numpy as np

from . import _core
from ._lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    StepLR,
)
from .penalties import L0, ElasticNet, GroupL2, Lk, Penalty

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "FTRL",
    "LRScheduler",
    "LambdaLR",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
]

ParamsT = Union[Iterable[np.ndarray], Iterable[Dict[str, Any]]]

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_NO_PENALTY = _core.FusedPenalty()


class _Required:
    """Marks a hyper-parameter without a default (FTRL's alpha)."""

    def __repr__(self) -> str:
        return "<required>"


required = _Required()


# ---------------------------------------------------------------------------------------------
# Checks. Messages name the hyper-parameter and its param group.


def _number(value: object, name: str, where: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}{where}")
    return float(value)


def _nonnegative(value: object, name: str, where: str) -> float:
    x = _number(value, name, where)
    if not (math.isfinite(x) and x >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}{where}")
    return x


def _positive(value: object, name: str, where: str) -> float:
    x = _number(value, name, where)
    if not (math.isfinite(x) and x > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}{where}")
    return x


def _finite(value: object, name: str, where: str) -> float:
    x = _number(value, name, where)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {value!r}{where}")
    return x


def _unit_interval(value: object, name: str, where: str) -> float:
    """In [0, 1), like torch's betas and RMSprop's alpha < 1 for a decaying average."""
    x = _number(value, name, where)
    if not 0.0 <= x < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}{where}")
    return x


def _flag(value: object, name: str, where: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}{where}")
    return bool(value)


def _betas(value: object, where: str) -> Tuple[float, float]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(f"betas must be a pair of numbers, got {value!r}{where}")
    return (
        _unit_interval(value[0], "betas[0]", where),
        _unit_interval(value[1], "betas[1]", where),
    )


def _penalty(value: object, where: str) -> Optional[Penalty]:
    if value is not None and not isinstance(value, Penalty):
        kind = type(value).__name__
        raise TypeError(f"penalty must be an lkreg Penalty or None, got {kind}{where}")
    return value


def _check_param(p: object, name: str) -> np.ndarray:
    if not isinstance(p, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(p).__name__}")
    if p.dtype not in _KERNEL_DTYPES:
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {p.dtype}")
    if not p.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous: the optimizer updates it in place")
    if not p.flags.writeable:
        raise ValueError(f"{name} is read-only")
    return p


def _overlaps_partially(a: np.ndarray, b: np.ndarray) -> bool:
    if not np.may_share_memory(a, b):  # a bounds check: the usual, fast answer
        return False
    a0, b0 = a.__array_interface__["data"][0], b.__array_interface__["data"][0]
    if a0 == b0 and a.nbytes == b.nbytes:
        return False
    return a0 < b0 + b.nbytes and b0 < a0 + a.nbytes


def _check_grad(g: object, p: np.ndarray, i: int, state: Dict[str, Any]) -> np.ndarray:
    """``g`` as the kernel reads it: p's dtype and shape, C-contiguous (copied once if not)."""
    arr = np.asarray(g)
    if arr.dtype != p.dtype:
        raise TypeError(f"grads[{i}] must have dtype {p.dtype} like params[{i}], got {arr.dtype}")
    if arr.shape != p.shape:
        raise ValueError(f"grads[{i}] must have shape {p.shape} like params[{i}], got {arr.shape}")
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    for other in [p, *(v for v in state.values() if isinstance(v, np.ndarray))]:
        if _overlaps_partially(arr, other):
            raise ValueError(f"grads[{i}] overlaps params[{i}] or its state partially")
    return arr


def _check_penalty_fits(penalty: Optional[Penalty], p: np.ndarray, i: int) -> None:
    if isinstance(penalty, GroupL2):
        if penalty.axis is not None and not -p.ndim <= penalty.axis < p.ndim:
            raise ValueError(
                f"{penalty!r} does not fit params[{i}] of shape {p.shape}: axis out of range"
            )
        if penalty.groups is not None and penalty.groups.size != p.size:
            raise ValueError(
                f"{penalty!r} does not fit params[{i}]: it has {penalty.groups.size} group ids "
                f"for {p.size} elements"
            )


class _PenaltyPlan(NamedTuple):
    """How one penalty enters one parameter's step."""

    fused: Any  # _core.FusedPenalty: gradient or element-wise prox inside the kernel
    extra_grad: Optional[Penalty]  # smooth, without kernel coefficients: g + grad(w) first
    prox_after: Optional[Penalty]  # non-smooth, not element-wise-fusable: prox(w, lr) after


def _penalty_plan(penalty: Optional[Penalty], p: np.ndarray, lr: float) -> _PenaltyPlan:
    if penalty is None:
        return _PenaltyPlan(_NO_PENALTY, None, None)
    n = p.size
    if penalty.is_smooth:
        try:
            params = penalty._params(n)
        except NotImplementedError:
            return _PenaltyPlan(_NO_PENALTY, penalty, None)
        return _PenaltyPlan(_core.FusedPenalty(gradient=params), None, None)
    # the thresholds of penalty.prox(w, lr), computed as it computes them
    step = float(lr) * penalty._scale(n)
    soft, hard = _core.FusedProx.soft, _core.FusedProx.hard
    if isinstance(penalty, Lk) and penalty.k == 1.0:
        tau = step * penalty.lam
        fused = _core.FusedPenalty(prox=soft, threshold=tau) if tau != 0 else _NO_PENALTY
        return _PenaltyPlan(fused, None, None)
    if isinstance(penalty, ElasticNet):
        scale = 1.0 / (1.0 + 2.0 * step * penalty.l2)
        return _PenaltyPlan(
            _core.FusedPenalty(prox=soft, threshold=step * penalty.l1, scale=scale), None, None
        )
    if isinstance(penalty, L0):
        threshold = math.sqrt(2.0 * step * penalty.lam)
        return _PenaltyPlan(_core.FusedPenalty(prox=hard, threshold=threshold), None, None)
    return _PenaltyPlan(_NO_PENALTY, None, penalty)


def _as_groups(params: ParamsT) -> List[Dict[str, Any]]:
    if isinstance(params, np.ndarray):
        raise TypeError("params must be a list of arrays or of param-group dicts, got one ndarray")
    if isinstance(params, (set, frozenset, dict)):
        raise TypeError(f"params must be an ordered sequence, got {type(params).__name__}")
    items = list(params)
    if not items:
        raise ValueError("optimizer got an empty parameter list")
    if all(isinstance(item, dict) for item in items):
        return items
    if any(isinstance(item, dict) for item in items):
        raise TypeError("params must be all arrays or all param-group dicts")
    return [{"params": items}]


# ---------------------------------------------------------------------------------------------


class Optimizer:
    """Base class of lkreg's optimizers.

    Parameters
    ----------
    params : list of ndarray, or list of dict
        C-contiguous, writable float32/float64 arrays, updated in place; or param groups,
        dicts ``{"params": [...], **overrides}`` whose other keys override the defaults for
        their arrays (e.g. ``{"params": biases, "weight_decay": 0.0, "penalty": None}``).
    defaults : dict
        Hyper-parameters of the groups that do not override them.

    Attributes
    ----------
    param_groups : list of dict
        Each group's ``params`` and hyper-parameters; change ``lr`` here between steps (or
        with a scheduler).
    state : dict
        Per-parameter state, keyed by the parameter's position in the flattened groups.
    """

    #: The group key that learning-rate schedulers set.
    _lr_key = "lr"

    def __init__(self, params: ParamsT, defaults: Dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: List[Dict[str, Any]] = []
        self.state: Dict[int, Dict[str, Any]] = {}
        for group in _as_groups(params):
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]!r}")
        lines.append(")")
        return "\n".join(lines)

    def _all_params(self) -> List[np.ndarray]:
        return [p for group in self.param_groups for p in group["params"]]

    def add_param_group(self, param_group: Dict[str, Any]) -> None:
        """Add a group of parameters with its own hyper-parameters (torch's method).

        Parameters
        ----------
        param_group : dict
            ``{"params": array or list of arrays, **overrides}``.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a param group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a param group needs a 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, np.ndarray):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("a param group's params must be an ordered sequence, not a set")
        params = list(params)
        start = len(self._all_params())
        existing = {id(p) for p in self._all_params()}
        for j, p in enumerate(params):
            _check_param(p, f"params[{start + j}]")
            if id(p) in existing:
                raise ValueError(f"params[{start + j}] appears in more than one param group")
            existing.add(id(p))
        group["params"] = params
        for key, value in self.defaults.items():
            if key not in group and value is required:
                raise ValueError(f"{key} is required: give it to the optimizer or to every group")
            group.setdefault(key, value)
        self._options(group, f" (param_groups[{len(self.param_groups)}])")
        self.param_groups.append(group)

    # Subclasses: _options(group, where) -> dict of checked hyper-parameters, and
    # _update(index, p, g, options, plan) -> None.
    def _options(self, group: Dict[str, Any], where: str) -> Dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def _update(self, index: int, p: np.ndarray, g: np.ndarray, o: Dict[str, Any],
                plan: _PenaltyPlan) -> None:  # pragma: no cover
        raise NotImplementedError

    def _plan(self, o: Dict[str, Any], p: np.ndarray) -> _PenaltyPlan:
        return _penalty_plan(o["penalty"], p, o[self._lr_key])

    def step(self, grads: Sequence[Optional[np.ndarray]]) -> None:
        """Update every parameter in place from its gradient.

        Parameters
        ----------
        grads : sequence of ndarray or None
            One gradient per parameter, in the order of the flattened param groups, each of its
            parameter's dtype and shape (a strided one is copied once). ``None`` skips that
            parameter (its state does not advance), like a missing ``.grad`` in PyTorch.

        Raises
        ------
        TypeError, ValueError
            For a gradient of the wrong dtype or shape, or a bad hyper-parameter (such as a
            NaN learning rate), before any parameter changes.
        """
        if isinstance(grads, (np.ndarray, str, bytes, dict)) or not isinstance(grads, Iterable):
            raise TypeError("grads must be a list of arrays, one per parameter")
        grads = list(grads)
        n_params = sum(len(group["params"]) for group in self.param_groups)
        if len(grads) != n_params:
            raise ValueError(f"got {len(grads)} gradients for {n_params} parameters")
        work = []
        index = 0
        for gi, group in enumerate(self.param_groups):
            o = self._options(group, f" (param_groups[{gi}])")
            for p in group["params"]:
                g = grads[index]
                if g is not None:
                    g = _check_grad(g, p, index, self.state.get(index, {}))
                    _check_penalty_fits(o["penalty"], p, index)
                    work.append((index, p, g, o, self._plan(o, p)))
                index += 1
        for index, p, g, o, plan in work:
            if plan.extra_grad is not None:
                g = g + plan.extra_grad.grad(p)
            self._update(index, p, g, o, plan)
            if plan.prox_after is not None:
                plan.prox_after.prox(p, o[self._lr_key], out=p)

    def state_dict(self) -> Dict[str, Any]:
        """Return the optimizer's state as plain Python values and NumPy arrays (copies).

        Returns
        -------
        dict
            ``{"state": {index: {"step": int, name: ndarray, ...}}, "param_groups": [...]}``
            with each group's hyper-parameters and ``params`` as the indices of its arrays,
            as in PyTorch. Saving, loading it into an optimizer over the same parameters and
            continuing gives the same bits as never stopping.
        """
        groups = []
        start = 0
        for group in self.param_groups:
            saved = {key: value for key, value in group.items() if key != "params"}
            saved["params"] = list(range(start, start + len(group["params"])))
            start += len(group["params"])
            groups.append(saved)
        state = {
            index: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
            for index, s in self.state.items()
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Load a state from :meth:`state_dict`, copying its arrays.

        The groups must hold as many parameters as the saved ones, in the same order; the
        saved hyper-parameters replace the current ones. State arrays must have their
        parameter's shape; float arrays of another precision are converted to it.

        Parameters
        ----------
        state_dict : dict
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise TypeError("state_dict must be a dict with 'state' and 'param_groups'")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"the state has {len(saved_groups)} param groups, the optimizer "
                f"{len(self.param_groups)}"
            )
        index_of: Dict[Any, int] = {}
        position = 0
        new_groups = []
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            saved_params = list(saved["params"])
            if len(saved_params) != len(group["params"]):
                raise ValueError(
                    f"param_groups[{gi}] has {len(group['params'])} parameters, the saved group "
                    f"{len(saved_params)}"
                )
            for saved_index in saved_params:
                index_of[saved_index] = position
                position += 1
            new_group = {key: value for key, value in saved.items() if key != "params"}
            new_group["params"] = group["params"]
            self._options(new_group, f" (param_groups[{gi}])")
            new_groups.append(new_group)
        params = self._all_params()
        new_state: Dict[int, Dict[str, Any]] = {}
        for saved_index, saved_state in state_dict["state"].items():
            if saved_index not in index_of:
                raise ValueError(f"the state names parameter {saved_index!r}, which no group holds")
            index = index_of[saved_index]
            p = params[index]
            new_state[index] = {
                key: self._loaded_value(key, value, p, index) for key, value in saved_state.items()
            }
        self.param_groups = new_groups
        self.state = new_state

    @staticmethod
    def _loaded_value(key: str, value: Any, p: np.ndarray, index: int) -> Any:
        if key == "step":
            step = float(np.asarray(value))
            if not (step >= 0 and step == int(step)):
                raise ValueError(
                    f"state[{index}]['step'] must be a whole number >= 0, got {value!r}"
                )
            return int(step)
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        arr = np.asarray(value)
        if arr.dtype.kind != "f":
            raise TypeError(f"state[{index}][{key!r}] must be a float array, got dtype {arr.dtype}")
        if arr.shape != p.shape:
            raise ValueError(
                f"state[{index}][{key!r}] must have shape {p.shape} like params[{index}], "
                f"got {arr.shape}"
            )
        return np.array(arr, dtype=p.dtype, order="C", copy=True)

    @staticmethod
    def _state_array(
        state: Dict[str, Any], key: str, p: np.ndarray, fill: float = 0.0
    ) -> np.ndarray:
        """state[key], created (filled with ``fill``, like p) on first use."""
        arr = state.get(key)
        if arr is None:
            arr = np.full_like(p, fill) if fill else np.zeros_like(p)
            state[key] = arr
        return arr


# ---------------------------------------------------------------------------------------------


class SGD(Optimizer):
    r"""Stochastic gradient descent with momentum (torch.optim.SGD).

    .. math::
        g \leftarrow g + \lambda w,\quad
        b \leftarrow \mu b + (1 - \tau) g \ (b_1 = g),\quad
        g \leftarrow g + \mu b \text{ (Nesterov) or } b,\quad
        w \leftarrow w - \gamma g

    Parameters
    ----------
    params : list of ndarray or list of dict
        See :class:`Optimizer`.
    lr : float, default 1e-3
        Learning rate :math:`\gamma`.
    momentum : float, default 0
        :math:`\mu`.
    dampening : float, default 0
        :math:`\tau`.
    weight_decay : float, default 0
        :math:`\lambda`, coupled (L2 added to the gradient; equals ``penalty=L2(wd / 2)``).
    nesterov : bool, default False
        Needs momentum > 0 and dampening 0.
    penalty : Penalty, optional
        See the module docstring. With a non-smooth penalty and momentum 0 this is proximal
        gradient descent (ISTA for L1).

    Notes
    -----
    State per parameter: ``momentum_buffer`` (when momentum != 0).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        penalty: Optional[Penalty] = None,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            penalty=penalty,
        )
        super().__init__(params, defaults)

    def _options(self, group: Dict[str, Any], where: str) -> Dict[str, Any]:
        o = {
            "lr": _nonnegative(group["lr"], "lr", where),
            "momentum": _nonnegative(group["momentum"], "momentum", where),
            "dampening": _finite(group["dampening"], "dampening", where),
            "weight_decay": _nonnegative(group["weight_decay"], "weight_decay", where),
            "nesterov": _flag(group["nesterov"], "nesterov", where),
            "penalty": _penalty(group["penalty"], where),
        }
        if o["nesterov"] and (o["momentum"] <= 0 or o["dampening"] != 0):
            raise ValueError(f"nesterov=True requires momentum > 0 and dampening = 0{where}")
        return o

    def _update(self, index: int, p: np.ndarray, g: np.ndarray, o: Dict[str, Any],
                plan: _PenaltyPlan) -> None:
        state = self.state.setdefault(index, {})
        buf, first = None, False
        if o["momentum"] != 0:
            first = state.get("momentum_buffer") is None
            buf = self._state_array(state, "momentum_buffer", p)
        _core.sgd_step(p, g, buf, first, o["lr"], o["momentum"], o["dampening"],
                       o["weight_decay"], o["nesterov"], plan.fused)


class Adam(Optimizer):
    r"""Adam (torch.optim.Adam), with AMSGrad and coupled or decoupled weight decay.

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        w \leftarrow w - \frac{\gamma}{1-\beta_1^t}\,
                     \frac{m}{\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon}

    computed as torch does (``m.lerp_(g, 1 - beta1)``, bias corrections in float64).

    Parameters
    ----------
    params : list of ndarray or list of dict
        See :class:`Optimizer`.
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
        Each in [0, 1).
    eps : float, default 1e-8
    weight_decay : float, default 0
        Coupled (``g += weight_decay * w``) unless ``decoupled_weight_decay``.
    amsgrad : bool, default False
        Use the running maximum of ``v``.
    decoupled_weight_decay : bool, default False
        ``w *= 1 - lr * weight_decay`` before the update: AdamW.
    penalty : Penalty, optional
        See the module docstring.

    Notes
    -----
    State per parameter: ``step`` (its own counter), ``exp_avg``, ``exp_avg_sq``,
    ``max_exp_avg_sq`` (with amsgrad).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        decoupled_weight_decay: bool = False,
        penalty: Optional[Penalty] = None,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            decoupled_weight_decay=decoupled_weight_decay,
            penalty=penalty,
        )
        super().__init__(params, defaults)

    def _options(self, group: Dict[str, Any], where: str) -> Dict[str, Any]:
        return {
            "lr": _nonnegative(group["lr"], "lr", where),
            "betas": _betas(group["betas"], where),
            "eps": _nonnegative(group["eps"], "eps", where),
            "weight_decay": _nonnegative(group["weight_decay"], "weight_decay", where),
            "amsgrad": _flag(group["amsgrad"], "amsgrad", where),
            "decoupled_weight_decay": _flag(
                group["decoupled_weight_decay"], "decoupled_weight_decay", where
            ),
            "penalty": _penalty(group["penalty"], where),
        }

    def _update(self, index: int, p: np.ndarray, g: np.ndarray, o: Dict[str, Any],
                plan: _PenaltyPlan) -> None:
        state = self.state.setdefault(index, {})
        state.setdefault("step", 0)
        exp_avg = self._state_array(state, "exp_avg", p)
        exp_avg_sq = self._state_array(state, "exp_avg_sq", p)
        max_exp_avg_sq = self._state_array(state, "max_exp_avg_sq", p) if o["amsgrad"] else None
        step = state["step"] + 1
        beta1, beta2 = o["betas"]
        _core.adam_step(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, step, o["lr"], beta1, beta2,
                        o["eps"], o["weight_decay"], o["decoupled_weight_decay"], plan.fused)
        state["step"] = step


class AdamW(Adam):
    r"""AdamW (torch.optim.AdamW): Adam with decoupled weight decay.

    ``w *= 1 - lr * weight_decay`` (the decay is scaled by the learning rate, as in PyTorch),
    then the Adam update without decay in the gradient.

    Parameters
    ----------
    params : list of ndarray or list of dict
        See :class:`Optimizer`.
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 1e-2
    amsgrad : bool, default False
    penalty : Penalty, optional
        See the module docstring.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        penalty: Optional[Penalty] = None,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad,
                         decoupled_weight_decay=True, penalty=penalty)


class RMSprop(Optimizer):
    r"""RMSprop (torch.optim.RMSprop), optionally centered and with momentum.

    .. math::
        v \leftarrow \alpha v + (1-\alpha) g^2,\quad
        \bar g \leftarrow \alpha \bar g + (1-\alpha) g \text{ (centered)},\quad
        d = \sqrt{v - \bar g^2} + \epsilon,\quad
        b \leftarrow \mu b + g / d,\quad w \leftarrow w - \gamma b \ (\text{or } \gamma g/d)

    Parameters
    ----------
    params : list of ndarray or list of dict
        See :class:`Optimizer`.
    lr : float, default 1e-2
    alpha : float, default 0.99
        Smoothing constant, >= 0.
    eps : float, default 1e-8
    weight_decay : float, default 0
        Coupled: ``g += weight_decay * w``.
    momentum : float, default 0
    centered : bool, default False
        Normalize by the estimated variance instead of the second moment.
    penalty : Penalty, optional
        See the module docstring.

    Notes
    -----
    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0),
    ``grad_avg`` (centered).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        penalty: Optional[Penalty] = None,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            penalty=penalty,
        )
        super().__init__(params, defaults)

    def _options(self, group: Dict[str, Any], where: str) -> Dict[str, Any]:
        return {
            "lr": _nonnegative(group["lr"], "lr", where),
            "alpha": _nonnegative(group["alpha"], "alpha", where),
            "eps": _nonnegative(group["eps"], "eps", where),
            "weight_decay": _nonnegative(group["weight_decay"], "weight_decay", where),
            "momentum": _nonnegative(group["momentum"], "momentum", where),
            "centered": _flag(group["centered"], "centered", where),
            "penalty": _penalty(group["penalty"], where),
        }

    def _update(self, index: int, p: np.ndarray, g: np.ndarray, o: Dict[str, Any],
                plan: _PenaltyPlan) -> None:
        state = self.state.setdefault(index, {})
        state.setdefault("step", 0)
        square_avg = self._state_array(state, "square_avg", p)
        buf = self._state_array(state, "momentum_buffer", p) if o["momentum"] > 0 else None
        grad_avg = self._state_array(state, "grad_avg", p) if o["centered"] else None
        _core.rmsprop_step(p, g, square_avg, grad_avg, buf, o["lr"], o["alpha"], o["eps"],
                           o["weight_decay"], o["momentum"], plan.fused)
        state["step"] += 1


class Adagrad(Optimizer):
    r"""Adagrad (torch.optim.Adagrad).

    .. math::
        \tilde\gamma = \frac{\gamma}{1 + (t-1)\,\eta},\quad
        s \leftarrow s + g^2,\quad
        w \leftarrow w - \tilde\gamma\, \frac{g}{\sqrt{s} + \epsilon}

    Parameters
    ----------
    params : list of ndarray or list of dict
        See :class:`Optimizer`.
    lr : float, default 1e-2
    lr_decay : float, default 0
        :math:`\eta`.
    weight_decay : float, default 0
        Coupled: ``g += weight_decay * w``.
    initial_accumulator_value : float, default 0
        Starting value of ``s``.
    eps : float, default 1e-10
    penalty : Penalty, optional
        See the module docstring (a non-smooth one is applied as ``prox(w, lr)``).

    Notes
    -----
    State per parameter: ``step``, ``sum``.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        penalty: Optional[Penalty] = None,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            penalty=penalty,
        )
        super().__init__(params, defaults)

    def _options(self, group: Dict[str, Any], where: str) -> Dict[str, Any]:
        return {
            "lr": _nonnegative(group["lr"], "lr", where),
            "lr_decay": _nonnegative(group["lr_decay"], "lr_decay", where),
            "weight_decay": _nonnegative(group["weight_decay"], "weight_decay", where),
            "initial_accumulator_value": _nonnegative(
                group["initial_accumulator_value"], "initial_accumulator_value", where
            ),
            "eps": _nonnegative(group["eps"], "eps", where),
            "penalty": _penalty(group["penalty"], where),
        }

    def _update(self, index: int, p: np.ndarray, g: np.ndarray, o: Dict[str, Any],
                plan: _PenaltyPlan) -> None:
        state = self.state.setdefault(index, {})
        state.setdefault("step", 0)
        total = self._state_array(state, "sum", p, o["initial_accumulator_value"])
        step = state["step"] + 1
        _core.adagrad_step(p, g, total, step, o["lr"], o["lr_decay"], o["weight_decay"],
                           o["eps"], plan.fused)
        state["step"] = step


class FTRL(Optimizer):
    r"""FTRL-Proximal: Algorithm 1 of McMahan et al. (2013), "Ad Click Prediction: a View from
    the Trenches", per coordinate.

    .. math::
        \sigma = \frac{\sqrt{n + g^2} - \sqrt{n}}{\alpha},\quad
        z \leftarrow z + g - \sigma w,\quad n \leftarrow n + g^2,\quad
        w = \begin{cases} 0 & |z| \le \lambda_1 \\
            -\dfrac{z - \operatorname{sign}(z)\lambda_1}{(\beta + \sqrt n)/\alpha + \lambda_2}
            & \text{otherwise} \end{cases}

    Per-coordinate learning rates :math:`\alpha / (\beta + \sqrt{n})`, and exact zeros.

    Parameters
    ----------
    params : list of ndarray or list of dict
        See :class:`Optimizer`. Algorithm 1 starts from ``w = 0``; other starting weights are
        used as the first point (the gradient is taken there).
    alpha : float
        > 0. What learning-rate schedulers change (``group["alpha"]``).
    beta : float, default 1.0
        >= 0.
    l1, l2 : float, default 0.0
        The paper's :math:`\lambda_1 \|w\|_1 + \tfrac12 \lambda_2 \|w\|_2^2`.
    penalty : Penalty, optional
        A smooth penalty adds its gradient. ``L1(lam)`` adds ``lam`` to ``l1`` and
        ``ElasticNet(a, b)`` adds ``a`` to ``l1`` and ``2 * b`` to ``l2`` (lkreg's
        ``b * ||w||**2`` is the paper's ``l2 / 2 * ||w||**2``): solved exactly in closed form.
        Other non-smooth penalties are not supported (ValueError).

    Notes
    -----
    State per parameter: ``step``, ``z``, ``n``.
    """

    _lr_key = "alpha"

    def __init__(
        self,
        params: ParamsT,
        alpha: Any = required,
        beta: float = 1.0,
        l1: float = 0.0,
        l2: float = 0.0,
        *,
        penalty: Optional[Penalty] = None,
    ) -> None:
        super().__init__(params, dict(alpha=alpha, beta=beta, l1=l1, l2=l2, penalty=penalty))

    def _options(self, group: Dict[str, Any], where: str) -> Dict[str, Any]:
        o = {
            "alpha": _positive(group["alpha"], "alpha", where),
            "beta": _nonnegative(group["beta"], "beta", where),
            "l1": _nonnegative(group["l1"], "l1", where),
            "l2": _nonnegative(group["l2"], "l2", where),
            "penalty": _penalty(group["penalty"], where),
        }
        pen = o["penalty"]
        if (
            pen is not None
            and not pen.is_smooth
            and not isinstance(pen, ElasticNet)
            and not (isinstance(pen, Lk) and pen.k == 1.0)
        ):
            raise ValueError(
                f"FTRL takes a smooth penalty, L1 or ElasticNet (solved in closed form), "
                f"got {pen!r}{where}"
            )
        return o

    def _plan(self, o: Dict[str, Any], p: np.ndarray) -> _PenaltyPlan:
        pen = o["penalty"]
        if pen is None or not pen.is_smooth:
            return _PenaltyPlan(_NO_PENALTY, None, None)  # folded into l1/l2 by _update
        return _penalty_plan(pen, p, o["alpha"])

    def _update(self, index: int, p: np.ndarray, g: np.ndarray, o: Dict[str, Any],
                plan: _PenaltyPlan) -> None:
        l1, l2 = o["l1"], o["l2"]
        pen = o["penalty"]
        if pen is not None and not pen.is_smooth:
            scale = pen._scale(p.size)
            if isinstance(pen, ElasticNet):
                l1, l2 = l1 + pen.l1 * scale, l2 + 2.0 * pen.l2 * scale
            else:
                l1 = l1 + pen.lam * scale
        state = self.state.setdefault(index, {})
        state.setdefault("step", 0)
        z = self._state_array(state, "z", p)
        n = self._state_array(state, "n", p)
        _core.ftrl_step(p, g, z, n, o["alpha"], o["beta"], l1, l2, plan.fused)
        state["step"] += 1


# torch-style access: lkreg.optim.lr_scheduler.StepLR
from . import _lr_scheduler as lr_scheduler  # noqa: E402
