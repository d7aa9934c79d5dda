"""Learning-rate schedulers for :mod:`lkreg.optim`, with torch.optim.lr_scheduler's semantics.

``lkreg.optim.lr_scheduler.StepLR`` and the others, as ``torch.optim.lr_scheduler``; also
re-exported by :mod:`lkreg.optim`.

Each scheduler sets ``group["lr"]`` (``group["alpha"]`` for FTRL) of every parameter group when
it is created and on every :meth:`LRScheduler.step`; call it after ``optimizer.step(grads)``,
once per epoch (or per iteration), as with PyTorch. The recursive formulas are PyTorch's, so
the learning rates are the same floats; they also compose with changes made by hand.
"""

from __future__ import annotations

import math
import types
from bisect import bisect_right
from collections import Counter
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

from .._validation import choice, finite, integer, nonnegative, real_number

if TYPE_CHECKING:  # pragma: no cover
    from .optimizer import Optimizer

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "SequentialLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
]


def _integer(value: object, name: str, minimum: int) -> int:
    return integer(value, name, minimum)


def _finite(value: object, name: str) -> float:
    return finite(value, name)


def _int_list(values: object, name: str = "milestones") -> List[object]:
    """The items of an iterable of ints (not a lone int or a string), else TypeError naming it."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be an iterable of ints, got {type(values).__name__}")
    return list(values)


def _check_optimizer(optimizer: object) -> None:
    from .optimizer import Optimizer

    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an lkreg.optim.Optimizer, got {type(optimizer).__name__}")


def _checked_state(scheduler: object, state_dict: object, skip: Sequence[str] = ()) -> Dict[str, Any]:
    """A scheduler state to load: a dict with exactly the scheduler's own keys (ValueError
    naming the first missing or foreign one: another scheduler's state, or a damaged one)."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
    own = {key for key in scheduler.__dict__ if key not in ("optimizer",) and key not in skip}
    for key in sorted(own - state_dict.keys()):
        raise ValueError(f"state_dict lacks {key!r}: not a {type(scheduler).__name__} state")
    for key in sorted(state_dict.keys() - own - set(skip)):
        raise ValueError(f"state_dict has {key!r}, which {type(scheduler).__name__} does not keep")
    return dict(state_dict)


class LRScheduler:
    """Base class: sets each group's learning rate from :meth:`get_lr` on every step.

    Parameters
    ----------
    optimizer : lkreg.optim.Optimizer
        The optimizer whose param groups it changes.
    last_epoch : int, default -1
        Index of the last epoch seen; -1 starts a new schedule (and records each group's
        learning rate as ``group["initial_lr"]``). Other values resume one, and need
        ``initial_lr`` in every group (as saved by the optimizer's ``state_dict``).

    Notes
    -----
    Creating a scheduler takes its first step (``last_epoch`` becomes 0), as in PyTorch.

    Examples
    --------
    Every scheduler sets the ``lr`` of the optimizer's groups; call ``step()`` once per epoch,
    after the optimizer's:

    >>> import numpy as np, lkreg
    >>> opt = lkreg.optim.SGD([np.zeros(2)], lr=1.0)
    >>> sched = lkreg.optim.StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(opt.param_groups[0]["lr"])
    ...     opt.step([np.zeros(2)])
    ...     sched.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: "Optimizer", last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        last_epoch = integer(last_epoch, "last_epoch", -1)
        self.optimizer = optimizer
        key = optimizer._lr_key
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group[key])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                        "a scheduler with last_epoch >= 0"
                    )
        self.base_lrs: List[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def _current_lrs(self) -> List[float]:
        key = self.optimizer._lr_key
        return [group[key] for group in self.optimizer.param_groups]

    def get_lr(self) -> List[float]:
        """The learning rates for epoch ``last_epoch`` (already advanced by :meth:`step`)."""
        raise NotImplementedError

    def get_last_lr(self) -> List[float]:
        """The learning rates the last :meth:`step` set, one per param group."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch and set every group's learning rate."""
        self._step_count += 1
        self._update_lr()

    def _update_lr(self, epoch: Optional[int] = None) -> None:
        # torch: epoch None advances by one (the recursive form); an epoch jumps there (the
        # closed form where the scheduler has one)
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        key = self.optimizer._lr_key
        # every value checked before the first group changes: NaN, inf or a non-number is an
        # error naming the scheduler, not a later step's (torch's three-phase OneCycleLR may dip
        # just below 0, so the sign is LambdaLR's check)
        checked = [
            finite(lr, f"the learning rate {type(self).__name__} computed",
                        f" for param_groups[{i}]")
            for i, lr in enumerate(values)
        ]
        for group, lr in zip(self.optimizer.param_groups, checked):
            group[key] = lr
        self._last_lr = self._current_lrs()

    def state_dict(self) -> Dict[str, Any]:
        """The scheduler's state: every attribute except the optimizer."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict` (ValueError naming a missing or foreign key)."""
        self.__dict__.update(_checked_state(self, state_dict))


class LambdaLR(LRScheduler):
    """``lr = initial_lr * lr_lambda(epoch)``: any schedule, e.g. a linear warm-up.

    Parameters
    ----------
    optimizer : lkreg.optim.Optimizer
    lr_lambda : callable or list of callables
        ``epoch -> factor``, or one per param group.
    last_epoch : int, default -1

    Examples
    --------
    A linear warm-up over 4 epochs:

    >>> import numpy as np, lkreg
    >>> opt = lkreg.optim.SGD([np.zeros(1)], lr=1.0)
    >>> sched = lkreg.optim.LambdaLR(opt, lambda epoch: min(1.0, (epoch + 1) / 4))
    >>> lrs = [opt.param_groups[0]["lr"]]
    >>> for epoch in range(4):
    ...     sched.step()
    ...     lrs.append(sched.get_last_lr()[0])
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(
        self,
        optimizer: "Optimizer",
        lr_lambda: Union[Callable[[int], float], Sequence[Callable[[int], float]]],
        last_epoch: int = -1,
    ) -> None:
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(
                    f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}"
                )
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda must be callable, got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        return [base * nonnegative(fn(self.last_epoch), "the value LambdaLR's lr_lambda returned")
                for fn, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> Dict[str, Any]:
        """As :meth:`LRScheduler.state_dict`; plain functions are not saved, callable objects'
        attributes are."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else dict(getattr(fn, "__dict__", {}))
            for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        state = _checked_state(self, state_dict)
        saved = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, attrs in zip(self.lr_lambdas, saved):
            if attrs is not None:
                fn.__dict__.update(attrs)


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    Parameters
    ----------
    optimizer : lkreg.optim.Optimizer
    step_size : int
        Period of the decay, >= 1.
    gamma : float, default 0.1
    last_epoch : int, default -1

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> opt = lkreg.optim.SGD([np.zeros(1)], lr=1.0)
    >>> sched = lkreg.optim.StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(4):
    ...     sched.step()
    ...     lrs.append(sched.get_last_lr()[0])
    >>> lrs
    [1.0, 0.5, 0.5, 0.25]
    """

    def __init__(
        self, optimizer: "Optimizer", step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = _integer(step_size, "step_size", 1)
        self.gamma = nonnegative(gamma, "gamma")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> List[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone epoch.

    Parameters
    ----------
    optimizer : lkreg.optim.Optimizer
    milestones : iterable of int
        Epochs; a repeated milestone applies gamma as many times.
    gamma : float, default 0.1
    last_epoch : int, default -1

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> opt = lkreg.optim.SGD([np.zeros(1)], lr=1.0)
    >>> sched = lkreg.optim.MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(4):
    ...     sched.step()
    ...     lrs.append(sched.get_last_lr()[0])
    >>> lrs
    [0.5, 0.5, 0.25, 0.25]
    """

    def __init__(
        self,
        optimizer: "Optimizer",
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        self.milestones = Counter(_integer(m, "milestones", 0) for m in _int_list(milestones))
        self.gamma = nonnegative(gamma, "gamma")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> List[float]:
        milestones = sorted(self.milestones.elements())
        return [base * self.gamma ** bisect_right(milestones, self.last_epoch) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch.

    Parameters
    ----------
    optimizer : lkreg.optim.Optimizer
    gamma : float
    last_epoch : int, default -1

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> opt = lkreg.optim.SGD([np.zeros(1)], lr=1.0)
    >>> sched = lkreg.optim.ExponentialLR(opt, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(3):
    ...     sched.step()
    ...     lrs.append(sched.get_last_lr()[0])
    >>> lrs
    [0.5, 0.25, 0.125]
    """

    def __init__(self, optimizer: "Optimizer", gamma: float, last_epoch: int = -1) -> None:
        self.gamma = nonnegative(gamma, "gamma")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> List[float]:
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the initial learning rate to ``eta_min`` over ``T_max`` epochs.

    ``lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``, computed by
    PyTorch's recursive form (so that it composes with other changes to the learning rate), and
    rising again after ``T_max`` as PyTorch's does.

    Parameters
    ----------
    optimizer : lkreg.optim.Optimizer
    T_max : int
        Half period in epochs, >= 1.
    eta_min : float, default 0.0
    last_epoch : int, default -1

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> opt = lkreg.optim.SGD([np.zeros(1)], lr=1.0)
    >>> sched = lkreg.optim.CosineAnnealingLR(opt, T_max=4)
    >>> lrs = []
    >>> for epoch in range(4):
    ...     sched.step()
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    >>> lrs
    [0.8536, 0.5, 0.1464, 0.0]
    """

    def __init__(
        self, optimizer: "Optimizer", T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        self.T_max = _integer(T_max, "T_max", 1)
        self.eta_min = nonnegative(eta_min, "eta_min")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        current = self._current_lrs()
        if self._is_initial:
            return current
        if self._step_count == 1 and self.last_epoch > 0:
            return [
                self.eta_min
                + (base - self.eta_min) * (1 + math.cos(self.last_epoch * math.pi / self.T_max)) / 2
                for base in self.base_lrs
            ]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [
                lr + (base - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                for base, lr in zip(self.base_lrs, current)
            ]
        return [
            (1 + math.cos(math.pi * self.last_epoch / self.T_max))
            / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
            * (lr - self.eta_min)
            + self.eta_min
            for lr in current
        ]

    def _get_closed_form_lr(self) -> List[float]:
        return [
            self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
            for base in self.base_lrs
        ]


class LinearLR(LRScheduler):
    """Linear warm-up (or decay): the factor goes from ``start_factor`` to ``end_factor`` in
    ``total_iters`` epochs, then stays.

    Parameters
    ----------
    optimizer : lkreg.optim.Optimizer
    start_factor : float, default 1/3
        In (0, 1].
    end_factor : float, default 1.0
        In [0, 1].
    total_iters : int, default 5
        >= 1.
    last_epoch : int, default -1

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> opt = lkreg.optim.SGD([np.zeros(1)], lr=1.0)
    >>> sched = lkreg.optim.LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> lrs = [opt.param_groups[0]["lr"]]
    >>> for epoch in range(4):
    ...     sched.step()
    ...     lrs.append(sched.get_last_lr()[0])
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(
        self,
        optimizer: "Optimizer",
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        start_factor = _finite(start_factor, "start_factor")
        end_factor = _finite(end_factor, "end_factor")
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."
            )
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = _integer(total_iters, "total_iters", 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        current = self._current_lrs()
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in current]
        if self._is_initial or self.last_epoch > self.total_iters:
            return current
        factor = 1.0 + (self.end_factor - self.start_factor) / (
            self.total_iters * self.start_factor
            + (self.last_epoch - 1) * (self.end_factor - self.start_factor)
        )
        return [lr * factor for lr in current]

    def _get_closed_form_lr(self) -> List[float]:
        return [
            base * (self.start_factor + (self.end_factor - self.start_factor)
                    * min(self.total_iters, self.last_epoch) / self.total_iters)
            for base in self.base_lrs
        ]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing with warm restarts (SGDR, Loshchilov and Hutter 2017), as torch's.

    ``lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``, where ``T_cur``
    counts epochs since the last restart and the period ``T_i`` starts at ``T_0`` and is
    multiplied by ``T_mult`` at each restart.

    Parameters
    ----------
    optimizer : lkreg.optim.Optimizer
    T_0 : int
        First period, >= 1.
    T_mult : int, default 1
        >= 1.
    eta_min : float, default 0.0
    last_epoch : int, default -1

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> opt = lkreg.optim.SGD([np.zeros(1)], lr=1.0)
    >>> sched = lkreg.optim.CosineAnnealingWarmRestarts(opt, T_0=2)
    >>> lrs = []
    >>> for epoch in range(4):
    ...     sched.step()
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    >>> lrs
    [0.5, 1.0, 0.5, 1.0]
    """

    def __init__(self, optimizer: "Optimizer", T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_0 = _integer(T_0, "T_0", 1)
        self.T_i = self.T_0
        self.T_mult = _integer(T_mult, "T_mult", 1)
        self.eta_min = nonnegative(eta_min, "eta_min")
        self.T_cur = integer(last_epoch, "last_epoch", -1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        return [
            self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
            for base in self.base_lrs
        ]

    def step(self, epoch: Optional[float] = None) -> None:
        """Advance one epoch, or jump to ``epoch`` (a float: a fraction of an epoch, as torch)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            epoch = nonnegative(epoch, "epoch")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self._step_count += 1
        self.last_epoch = math.floor(epoch)
        key = self.optimizer._lr_key
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group[key] = lr
        self._last_lr = self._current_lrs()


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith and Topin 2018), as torch's: warm up from ``max_lr /
    div_factor`` to ``max_lr``, then anneal to ``initial_lr / final_div_factor``, cycling the
    momentum (``momentum``, or Adam's ``betas[0]``) the other way. Step it once per batch.

    Parameters
    ----------
    optimizer : lkreg.optim.Optimizer
    max_lr : float or list of float
    total_steps : int, optional
        Or ``epochs`` and ``steps_per_epoch``.
    epochs, steps_per_epoch : int, optional
    pct_start : float, default 0.3
    anneal_strategy : {"cos", "linear"}, default "cos"
    cycle_momentum : bool, default True
    base_momentum, max_momentum : float or list of float, default 0.85, 0.95
    div_factor : float, default 25.0
    final_div_factor : float, default 1e4
    three_phase : bool, default False
    last_epoch : int, default -1

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> opt = lkreg.optim.SGD([np.zeros(1)], lr=1.0)
    >>> sched = lkreg.optim.OneCycleLR(opt, max_lr=1.0, total_steps=4)
    >>> lrs = []
    >>> for epoch in range(3):
    ...     sched.step()
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    >>> lrs
    [0.8117, 0.2831, 0.0]
    """

    def __init__(
        self,
        optimizer: "Optimizer",
        max_lr: Union[float, Sequence[float]],
        total_steps: Optional[int] = None,
        epochs: Optional[int] = None,
        steps_per_epoch: Optional[int] = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: Union[float, Sequence[float]] = 0.85,
        max_momentum: Union[float, Sequence[float]] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            self.total_steps = _integer(total_steps, "total_steps", 1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = _integer(epochs, "epochs", 1) * _integer(
                steps_per_epoch, "steps_per_epoch", 1)
        else:
            raise ValueError("give total_steps, or epochs and steps_per_epoch")
        pct_start = real_number(pct_start, "pct_start")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"pct_start must be in [0, 1], got {pct_start!r}")
        self._anneal_func_type = choice(anneal_strategy, "anneal_strategy", ("cos", "linear"))
        if three_phase:
            self._schedule_phases = [
                {"end_step": float(pct_start * self.total_steps) - 1, "start_lr": "initial_lr",
                 "end_lr": "max_lr", "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": float(2 * pct_start * self.total_steps) - 2, "start_lr": "max_lr",
                 "end_lr": "initial_lr", "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": self.total_steps - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"},
            ]
        else:
            self._schedule_phases = [
                {"end_step": float(pct_start * self.total_steps) - 1, "start_lr": "initial_lr",
                 "end_lr": "max_lr", "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": self.total_steps - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
            ]
        div_factor = _finite(div_factor, "div_factor")
        final_div_factor = _finite(final_div_factor, "final_div_factor")
        max_lrs = self._per_group("max_lr", max_lr)
        key = optimizer._lr_key
        if last_epoch == -1:
            for lr, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = lr / div_factor
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
                group[key] = group["initial_lr"]
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("cycle_momentum needs an optimizer with momentum or betas")
            self.use_beta1 = "betas" in optimizer.defaults
            max_momentums = self._per_group("max_momentum", max_momentum)
            base_momentums = self._per_group("base_momentum", base_momentum)
            if last_epoch == -1:
                for m_max, m_base, group in zip(max_momentums, base_momentums, optimizer.param_groups):
                    if self.use_beta1:
                        group["betas"] = (m_max, *group["betas"][1:])
                    else:
                        group["momentum"] = m_max
                    group["max_momentum"] = m_max
                    group["base_momentum"] = m_base
        super().__init__(optimizer, last_epoch)

    def _per_group(self, name: str, value: Any) -> List[float]:
        groups = self.optimizer.param_groups
        if isinstance(value, (list, tuple)):
            if len(value) != len(groups):
                raise ValueError(f"{name} must have one value per param group ({len(groups)}), "
                                 f"got {len(value)}")
            return [_finite(v, name) for v in value]
        return [_finite(value, name)] * len(groups)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> List[float]:
        lrs = []
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(
                f"Tried to step {step_num} times. The specified number of total steps is "
                f"{self.total_steps}"
            )
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lr = self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        momentum = self._anneal(group[phase["start_momentum"]],
                                                group[phase["end_momentum"]], pct)
                    break
                start_step = phase["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                if self.use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
        return lrs


def _check_members(owner: str, optimizer: "Optimizer", schedulers: Sequence[Any]) -> None:
    if len(schedulers) < 1:
        raise ValueError(f"{owner} expects at least one scheduler")
    for i, scheduler in enumerate(schedulers):
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{owner} does not support ReduceLROnPlateau (schedulers[{i}]): its "
                             "step needs a metric")
        if not isinstance(scheduler, LRScheduler):
            raise TypeError(f"schedulers[{i}] must be an lkreg scheduler, got "
                            f"{type(scheduler).__name__}")
        if scheduler.optimizer is not optimizer:
            raise ValueError(f"schedulers[{i}] belongs to another optimizer")


class _Composite(LRScheduler):
    """State handling of schedulers made of schedulers (their states saved inside)."""

    _schedulers: List[LRScheduler]

    def state_dict(self) -> Dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        state = _checked_state(self, state_dict, skip=("_schedulers",))
        inner = state.pop("_schedulers", None)
        if not isinstance(inner, list) or len(inner) != len(self._schedulers):
            raise ValueError(f"state_dict['_schedulers'] must hold {len(self._schedulers)} states")
        for s, saved in zip(self._schedulers, inner):
            s.load_state_dict(saved)
        self.__dict__.update(state)


class SequentialLR(_Composite):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]``, ... (torch's).

    Parameters
    ----------
    optimizer : lkreg.optim.Optimizer
    schedulers : list of LRScheduler
        Each built on ``optimizer``.
    milestones : list of int
        One fewer than the schedulers, increasing.
    last_epoch : int, default -1

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> opt = lkreg.optim.SGD([np.zeros(1)], lr=1.0)
    >>> sched = lkreg.optim.SequentialLR(opt, [lkreg.optim.LinearLR(opt, start_factor=0.5, total_iters=2),
    ...                                         lkreg.optim.ExponentialLR(opt, gamma=0.5)], milestones=[2])
    >>> lrs = []
    >>> for epoch in range(4):
    ...     sched.step()
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    >>> lrs
    [0.75, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer: "Optimizer", schedulers: Sequence[LRScheduler],
                 milestones: Sequence[int], last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        schedulers = list(schedulers)
        _check_members("SequentialLR", optimizer, schedulers)
        milestones = [_integer(m, "milestones", 0) for m in _int_list(milestones)]
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR needs one milestone fewer than schedulers, got "
                             f"{len(schedulers)} schedulers and {len(milestones)} milestones")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = integer(last_epoch, "last_epoch", -1) + 1
        self.optimizer = optimizer
        key = optimizer._lr_key
        for group in optimizer.param_groups:  # undo the schedulers' own first steps
            group[key] = group["initial_lr"]
        for s in self._schedulers:
            s.last_epoch -= 1
        idx = bisect_right(self._milestones, 0)
        scheduler = self._schedulers[idx]
        scheduler._step_count = 0
        scheduler._is_initial = True
        try:
            scheduler.step()
        finally:
            scheduler._is_initial = False
        self._step_count = 1
        self._is_initial = False
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self._last_lr = scheduler.get_last_lr()

    def get_lr(self) -> List[float]:
        return self._current_lrs()

    def step(self) -> None:
        self._step_count += 1
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Step every scheduler of the list at once, each applying its change (torch's).

    Parameters
    ----------
    schedulers : list of LRScheduler
        Each built on the same optimizer.
    optimizer : lkreg.optim.Optimizer, optional
        Defaults to the schedulers' one.

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> opt = lkreg.optim.SGD([np.zeros(1)], lr=1.0)
    >>> sched = lkreg.optim.ChainedScheduler([lkreg.optim.ExponentialLR(opt, gamma=0.5),
    ...                                     lkreg.optim.StepLR(opt, step_size=2, gamma=0.1)])
    >>> lrs = []
    >>> for epoch in range(3):
    ...     sched.step()
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    >>> lrs
    [0.5, 0.025, 0.0125]
    """

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optional["Optimizer"] = None) -> None:
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("ChainedScheduler expects at least one scheduler")
        optimizer = optimizer if optimizer is not None else schedulers[0].optimizer
        _check_optimizer(optimizer)
        _check_members("ChainedScheduler", optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self.last_epoch = schedulers[-1].last_epoch
        self._step_count = 1
        self._is_initial = False
        self.base_lrs = list(schedulers[-1].base_lrs)
        self._last_lr = self._current_lrs()

    def get_lr(self) -> List[float]:
        return self._current_lrs()

    def step(self) -> None:
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` when a metric stops improving (torch's).

    Call ``step(metric)`` after each evaluation.

    Parameters
    ----------
    optimizer : lkreg.optim.Optimizer
    mode : {"min", "max"}, default "min"
    factor : float, default 0.1
        In [0, 1).
    patience : int, default 10
        Epochs without improvement tolerated.
    threshold : float, default 1e-4
    threshold_mode : {"rel", "abs"}, default "rel"
    cooldown : int, default 0
    min_lr : float or list of float, default 0
    eps : float, default 1e-8
        Changes smaller than this are skipped.

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> opt = lkreg.optim.SGD([np.zeros(1)], lr=1.0)
    >>> sched = lkreg.optim.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> lrs = []
    >>> for loss in [1.0, 0.5, 0.6, 0.7, 0.8]:  # two epochs without improvement: halve
    ...     sched.step(loss)
    ...     lrs.append(opt.param_groups[0]["lr"])
    >>> lrs
    [1.0, 1.0, 1.0, 0.5, 0.5]
    """

    def __init__(
        self,
        optimizer: "Optimizer",
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: Union[float, Sequence[float]] = 0,
        eps: float = 1e-8,
    ) -> None:
        _check_optimizer(optimizer)
        factor = nonnegative(factor, "factor")
        if factor >= 1.0:
            raise ValueError(f"factor must be < 1, got {factor!r}")
        self.factor = factor
        self.optimizer = optimizer
        groups = optimizer.param_groups
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(groups):
                raise ValueError(f"expected {len(groups)} min_lrs, got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = [nonnegative(m, "min_lr") for m in min_lr]
        else:
            self.default_min_lr = nonnegative(min_lr, "min_lr")
            self.min_lrs = [self.default_min_lr] * len(groups)
        self.patience = _integer(patience, "patience", 0)
        self.cooldown = _integer(cooldown, "cooldown", 0)
        self.eps = nonnegative(eps, "eps")
        self.last_epoch = 0
        self._step_count = 0
        self._is_initial = False
        self.base_lrs = self._current_lrs()
        self._last_lr = self._current_lrs()
        self.mode = choice(mode, "mode", ("min", "max"))
        self.threshold = _finite(threshold, "threshold")
        self.threshold_mode = choice(threshold_mode, "threshold_mode", ("rel", "abs"))
        self.mode_worse = math.inf if self.mode == "min" else -math.inf
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def get_lr(self) -> List[float]:
        return self._current_lrs()

    def step(self, metrics: float) -> None:  # type: ignore[override]
        """Record one evaluation of the metric; reduce the learning rates after ``patience``
        epochs without improvement."""
        current = real_number(metrics, "metrics")
        self._step_count += 1
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError("the optimizer has more param groups than min_lr values")
            self.min_lrs = [self.default_min_lr] * len(groups)
        key = self.optimizer._lr_key
        for i, group in enumerate(groups):
            old_lr = float(group[key])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                group[key] = new_lr

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold
