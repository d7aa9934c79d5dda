"""Learning-rate schedulers for :mod:`lkreg.optim`, with torch.optim.lr_scheduler's semantics.

Each scheduler sets ``group["lr"]`` (``group["alpha"]`` for FTRL) of every parameter group when
it is created and on every :meth:`LRScheduler.step`; call it after ``optimizer.step(grads)``,
once per epoch (or per iteration), as with PyTorch. The recursive formulas are PyTorch's, so
the learning rates are the same floats; they also compose with changes made by hand.
"""

from __future__ import annotations

import math
import numbers
import types
from collections import Counter
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Sequence, Union

if TYPE_CHECKING:  # pragma: no cover
    from .optim import Optimizer

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
]


def _integer(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _finite(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


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
    """

    def __init__(self, optimizer: "Optimizer", last_epoch: int = -1) -> None:
        from .optim import Optimizer

        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be an lkreg.optim.Optimizer, got {type(optimizer).__name__}")
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, numbers.Integral):
            raise TypeError(f"last_epoch must be an int, got {type(last_epoch).__name__}")
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
        self.last_epoch += 1
        values = self.get_lr()
        key = self.optimizer._lr_key
        for group, lr in zip(self.optimizer.param_groups, values):
            group[key] = lr
        self._last_lr = self._current_lrs()

    def state_dict(self) -> Dict[str, Any]:
        """The scheduler's state: every attribute except the optimizer."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict`."""
        self.__dict__.update(state_dict)


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
    >>> warmup = 100  # doctest: +SKIP
    >>> LambdaLR(opt, lambda epoch: min(1.0, (epoch + 1) / warmup))  # doctest: +SKIP
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
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]

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
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
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
    """

    def __init__(
        self, optimizer: "Optimizer", step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = _integer(step_size, "step_size", 1)
        self.gamma = _finite(gamma, "gamma")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone epoch.

    Parameters
    ----------
    optimizer : lkreg.optim.Optimizer
    milestones : iterable of int
        Epochs; a repeated milestone applies gamma as many times.
    gamma : float, default 0.1
    last_epoch : int, default -1
    """

    def __init__(
        self,
        optimizer: "Optimizer",
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        self.milestones = Counter(_integer(m, "milestones", 0) for m in milestones)
        self.gamma = _finite(gamma, "gamma")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch.

    Parameters
    ----------
    optimizer : lkreg.optim.Optimizer
    gamma : float
    last_epoch : int, default -1
    """

    def __init__(self, optimizer: "Optimizer", gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _finite(gamma, "gamma")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


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
    """

    def __init__(
        self, optimizer: "Optimizer", T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        self.T_max = _integer(T_max, "T_max", 1)
        self.eta_min = _finite(eta_min, "eta_min")
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
