"""Optimizers over lists of NumPy arrays: torch.optim's update rules, one C++ call per param group.

``SGD``, ``Adam``, ``AdamW``, ``RMSprop`` and ``Adagrad`` take torch.optim's hyper-parameter
names and defaults and follow its (single-tensor, ``maximize=False``) update formulas operation
for operation, in the parameter's precision: porting a PyTorch training loop gives the same
trajectory. ``FTRL`` is FTRL-Proximal, Algorithm 1 of McMahan et al. (2013).

Each ``step(grads)`` makes ONE C++ call per param group: the group's arrays become one work
list (small arrays packed together, large ones split) updated in one parallel pass that reads
each parameter, gradient and state element once and writes it once, with the GIL released.
Every gradient and hyper-parameter of every group is checked before any parameter changes.

``penalty=`` (per param group) adds regularization inside that pass, from the penalty's
``description()``: a smooth penalty's gradient is added to the gradient; a non-smooth one is a
proximal step after the update, with exact zeros. SGD applies ``prox(w, lr)``. Adam, AdamW,
RMSprop and Adagrad apply it in their own metric by default (``penalty_mode="preconditioned"``):
``prox(w, step)`` with the update's per-coordinate step ``lr / (sqrt(v_hat) + eps)`` (RMSprop:
``lr / (sqrt(square_avg) + eps)``, Adagrad: ``clr / (sqrt(sum) + eps)``), the preconditioned
proximal gradient step (Yun, Lozano and Yang, NeurIPS 2021) whose fixed points minimize
``loss + penalty``. ``penalty_mode="decoupled"`` applies the plain ``prox(w, lr)`` instead.
GroupL2 (not element-wise) is applied the same way, in a second pass.

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

from collections.abc import Iterable, Sequence
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from .. import _core
from .._validation import (
    choice,
    finite,
    flag,
    nonnegative,
    pair,
    unit_interval,
    writable_array,
)
from ..penalties import Penalty

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "FTRL"]

ParamsT = Union[Iterable[np.ndarray], Iterable[Dict[str, Any]]]
_USE = _core.PenaltyUse
_MODES = ("preconditioned", "decoupled")


class _Required:
    """Marks a hyper-parameter without a default (FTRL's alpha)."""

    def __repr__(self) -> str:
        return "<required>"

    def __reduce__(self) -> str:
        return "required"  # unpickles as the module's singleton


required = _Required()


def _betas(value: object, where: str) -> Tuple[float, float]:
    b1, b2 = pair(value, "betas", where)
    return unit_interval(b1, "betas[0]", where), unit_interval(b2, "betas[1]", where)


def _penalty(value: object, where: str) -> Optional[Penalty]:
    if value is not None and not isinstance(value, Penalty):
        kind = type(value).__name__
        raise TypeError(f"penalty must be an lkreg Penalty or None, got {kind}{where}")
    return value


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


class _GroupLists:
    """One group's arrays as the C++ call takes them: lists built once, reused every step.

    ``steps`` holds each parameter's step count (the state dicts get it back on access).
    """

    __slots__ = ("key", "states", "steps", "has", "complete")

    def __init__(self, key: Tuple[Any, ...], states: Dict[str, Optional[List[Any]]],
                 steps: List[int], has: List[bool]) -> None:
        self.key = key
        self.states = states
        self.steps = steps
        self.has = has  # which parameters have state (the others have not had a gradient)
        self.complete = all(has)


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

    Notes
    -----
    Optimizers pickle, copy and deep-copy with their parameters and state: an unpickled one
    continues bit for bit as the original would (on its own copies of the parameters).

    Examples
    --------
    Every optimizer takes a list of arrays (or param groups) and steps them in place:

    >>> import numpy as np, lkreg
    >>> w, b = np.ones(3), np.zeros(2)
    >>> opt = lkreg.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    >>> opt.step([np.ones(3), np.ones(2)])  # gradients in the same order
    >>> w, b
    (array([0.9, 0.9, 0.9]), array([-0.5, -0.5]))
    >>> saved = opt.state_dict()
    >>> opt.load_state_dict(saved)  # round-trips exactly
    """

    #: The group key that learning-rate schedulers set.
    _lr_key = "lr"
    #: The state arrays of a parameter, in the order the C++ step takes them, with when each is
    #: in use for a group's options, and its starting value.
    _state_arrays: Tuple[Tuple[str, Callable[[Dict[str, Any]], bool], Callable[[Dict[str, Any]], float]], ...] = ()
    #: Whether the state counts steps (``state[i]["step"]``), as torch's does.
    _counts_steps = True
    #: Whether a non-smooth penalty can be applied in the optimizer's metric (penalty_mode).
    _has_metric = False

    def __init__(self, params: ParamsT, defaults: Dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: List[Dict[str, Any]] = []
        self._state: Dict[int, Dict[str, Any]] = {}
        self._lists: Dict[int, _GroupLists] = {}
        for group in _as_groups(params):
            self.add_param_group(group)

    # -- state ----------------------------------------------------------------------------

    @property
    def state(self) -> Dict[int, Dict[str, Any]]:
        """Per-parameter state (reading it hands back the step counts the fast path keeps)."""
        self._flush()
        return self._state

    @state.setter
    def state(self, value: Dict[int, Dict[str, Any]]) -> None:
        self._lists = {}
        self._state = value

    def _flush(self) -> None:
        """Write the cached step counts back into the state dicts and drop the caches (the
        caller may replace state arrays)."""
        starts = self._group_starts()
        for gi, lists in self._lists.items():
            self._write_steps(lists, starts[gi])
        self._lists = {}

    def _write_steps(self, lists: _GroupLists, start: int) -> None:
        if self._counts_steps:
            for j, count in enumerate(lists.steps):
                if count:
                    self._state.setdefault(start + j, {})["step"] = count

    def __getstate__(self) -> Dict[str, Any]:
        self._flush()
        return {k: v for k, v in self.__dict__.items() if k != "_lists"}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lists = {}

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

    def _group_starts(self) -> List[int]:
        starts, total = [], 0
        for group in self.param_groups:
            starts.append(total)
            total += len(group["params"])
        return starts

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
            writable_array(p, f"params[{start + j}]")
            if id(p) in existing:
                raise ValueError(f"params[{start + j}] appears in more than one param group")
            existing.add(id(p))
        group["params"] = params
        _check_params(self.param_groups + [group])
        for key, value in self.defaults.items():
            if key not in group and value is required:
                raise ValueError(f"{key} is required: give it to the optimizer or to every group")
            group.setdefault(key, value)
        self._options(group, f" (param_groups[{len(self.param_groups)}])")
        self.param_groups.append(group)

    # Subclasses: _options(group, where) -> dict of checked hyper-parameters;
    # _kernel(o, params, grads, states, steps, penalty, index, check_only) -> None, the C++ call;
    # _metric_steps(o, state, p) -> the per-coordinate steps of the update just made.
    def _options(self, group: Dict[str, Any], where: str) -> Dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def _kernel(self, o: Dict[str, Any], params: List[np.ndarray], grads: List[Any],
                states: List[Optional[List[np.ndarray]]], steps: List[int],
                penalty: Tuple[Any, Any, bool], index: Any, check_only: bool) -> None:  # pragma: no cover
        raise NotImplementedError

    def _metric_steps(self, o: Dict[str, Any], state: Dict[str, Any],
                      p: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _uses_metric(self, o: Dict[str, Any]) -> bool:
        return self._has_metric and o.get("penalty_mode") == "preconditioned"

    def _penalty_args(self, o: Dict[str, Any]) -> Tuple[Any, Any, bool]:
        """(description, use, per_array_mean) for the C++ pass; GroupL2 enters after it."""
        pen = o["penalty"]
        description = None if pen is None else pen.description()
        if description is None:
            return None, _USE.none, False
        if pen.is_smooth:
            use = _USE.gradient
        else:
            use = _USE.preconditioned_prox if self._uses_metric(o) else _USE.prox
        return description, use, pen.reduction == "mean"

    def _group_lists(self, gi: int, o: Dict[str, Any], start: int, params: List[np.ndarray],
                     active: Optional[List[int]]) -> _GroupLists:
        """The group's state lists, cached; state is created for the parameters that get a
        gradient (as torch creates it on a parameter's first step)."""
        enabled = tuple(in_use(o) for _, in_use, _ in self._state_arrays)
        key = (enabled, len(params))
        lists = self._lists.get(gi)
        if lists is not None and lists.key == key and (lists.complete or active is not None
                                                        and all(lists.has[j] for j in active)):
            return lists
        self._flush_group(gi, start)
        wanted = range(len(params)) if active is None else active
        states: Dict[str, Optional[List[Any]]] = {}
        fresh = [False] * len(params)
        has = [False] * len(params)
        for j in wanted:
            has[j] = True
        for j in range(len(params)):
            entry = self._state.get(start + j)
            if entry is not None and all(entry.get(name) is not None
                                         for (name, _, _), on in zip(self._state_arrays, enabled) if on):
                has[j] = True
        for (name, _, fill), on in zip(self._state_arrays, enabled):
            if not on:
                states[name] = None
                continue
            column: List[Any] = []
            for j, p in enumerate(params):
                if not has[j]:
                    column.append(None)
                    continue
                entry = self._state.setdefault(start + j, {})
                arr = entry.get(name)
                if arr is None:
                    value = fill(o)
                    arr = np.full_like(p, value) if value else np.zeros_like(p)
                    entry[name] = arr
                    fresh[j] = True
                column.append(arr)
            states[name] = column
        if self._counts_steps:
            steps = [int(self._state.get(start + j, {}).get("step", 0)) for j in range(len(params))]
        else:
            steps = [1 if f else 2 for f in fresh]
        lists = _GroupLists(key, states, steps, has)
        self._lists[gi] = lists
        return lists

    def _flush_group(self, gi: int, start: int) -> None:
        lists = self._lists.pop(gi, None)
        if lists is not None:
            self._write_steps(lists, start)

    def step(self, grads: Sequence[Optional[np.ndarray]]) -> None:
        """Update every parameter in place from its gradient: one C++ call per param group.

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
        _check_params(self.param_groups)
        calls = []
        start = 0
        for gi, group in enumerate(self.param_groups):
            params = group["params"]
            count = len(params)
            o = self._options(group, f" (param_groups[{gi}])")
            pen = o["penalty"]
            if pen is not None:
                for j, p in enumerate(params):
                    pen.check_shape(p.shape, f"params[{start + j}]")
            group_grads = grads[start:start + count]
            active = None
            for g in group_grads:
                if g is None:  # skip those parameters (their state does not advance)
                    active = [j for j, g in enumerate(group_grads) if g is not None]
                    break
            lists = self._group_lists(gi, o, start, params, active)
            calls.append((o, params, group_grads, lists, active, start))
            start += count
        if len(calls) > 1:  # check every group before the first one changes
            for call in calls[1:]:
                self._run(*call, check_only=True)
        for call in calls:
            self._run(*call, check_only=False)

    def _run(self, o: Dict[str, Any], params: List[np.ndarray], grads: List[Any],
             lists: _GroupLists, active: Optional[List[int]], start: int,
             check_only: bool) -> None:
        columns = [lists.states[name] for name, _, _ in self._state_arrays]
        if self._counts_steps:
            steps = [t + 1 for t in lists.steps]
        else:
            steps = lists.steps
        penalty = self._penalty_args(o)
        if active is None:
            self._kernel(o, params, grads, columns, steps, penalty, start, check_only)
        else:
            pick = lambda xs: [xs[j] for j in active]  # noqa: E731
            self._kernel(o, pick(params), pick(grads), [None if c is None else pick(c) for c in columns],
                         pick(steps), penalty, [start + j for j in active], check_only)
        if check_only:
            return
        if active is None:
            lists.steps = steps if self._counts_steps else [2] * len(steps)
        else:
            for j in active:
                lists.steps[j] = steps[j] if self._counts_steps else 2
        pen = o["penalty"]
        if pen is not None and penalty[0] is None:  # not element-wise: its prox after the pass
            self._write_steps(lists, start)  # _metric_steps reads state["step"]
            for j in range(len(params)) if active is None else active:
                p = params[j]
                if self._uses_metric(o):
                    step = self._metric_steps(o, self._state[start + j], p)
                else:
                    step = o[self._lr_key]
                pen.prox(p, step, out=p)

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
        parameter's shape; float arrays of another precision are converted to it. A dict that
        is not such a state (another optimizer's, or damaged) is a ValueError naming the key,
        and changes nothing.

        Parameters
        ----------
        state_dict : dict
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(f"state_dict has no {key!r} entry: not an optimizer state")
        if not isinstance(state_dict["state"], dict):
            raise ValueError("state_dict['state'] must be a dict of per-parameter dicts")
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, (list, tuple)):
            raise ValueError("state_dict['param_groups'] must be a list of dicts")
        saved_groups = list(saved_groups)
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"the state has {len(saved_groups)} param groups, the optimizer "
                f"{len(self.param_groups)}"
            )
        index_of: Dict[Any, int] = {}
        position = 0
        new_groups = []
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(f"state_dict['param_groups'][{gi}] has no 'params' entry")
            saved_params = list(saved["params"])
            if len(saved_params) != len(group["params"]):
                raise ValueError(
                    f"param_groups[{gi}] has {len(group['params'])} parameters, the saved group "
                    f"{len(saved_params)}"
                )
            for saved_index in saved_params:
                index_of[saved_index] = position
                position += 1
            missing = [key for key in self.defaults if key not in saved and key not in
                       ("penalty", "penalty_mode")]  # (keys older states may lack)
            if missing:
                raise ValueError(
                    f"state_dict['param_groups'][{gi}] lacks {missing[0]!r}: a state of another "
                    f"optimizer than {type(self).__name__}?"
                )
            new_group = {key: value for key, value in saved.items() if key != "params"}
            for key in ("penalty", "penalty_mode"):
                if key in self.defaults:
                    new_group.setdefault(key, self.defaults[key])
            new_group["params"] = group["params"]
            self._options(new_group, f" (param_groups[{gi}])")
            new_groups.append(new_group)
        params = self._all_params()
        known = {name for name, _, _ in self._state_arrays} | {"step"}
        new_state: Dict[int, Dict[str, Any]] = {}
        for saved_index, saved_state in state_dict["state"].items():
            if saved_index not in index_of:
                raise ValueError(f"the state names parameter {saved_index!r}, which no group holds")
            if not isinstance(saved_state, dict):
                raise ValueError(f"state[{saved_index!r}] must be a dict")
            index = index_of[saved_index]
            p = params[index]
            for key in saved_state:
                if key not in known:
                    raise ValueError(
                        f"state[{saved_index!r}] has {key!r}, which {type(self).__name__} does "
                        "not keep"
                    )
            new_state[index] = {
                key: self._loaded_value(key, value, p, index) for key, value in saved_state.items()
            }
        self.param_groups = new_groups
        self.state = new_state

    @staticmethod
    def _loaded_value(key: str, value: Any, p: np.ndarray, index: int) -> Any:
        if key == "step":
            try:
                step = float(np.asarray(value))
            except (TypeError, ValueError):
                raise ValueError(f"state[{index}]['step'] must be a whole number >= 0, got {value!r}") from None
            if not (0 <= step < 2.0**63 and step == int(step)):
                raise ValueError(
                    f"state[{index}]['step'] must be a whole number >= 0, got {value!r}"
                )
            return int(step)
        if value is None:
            return value
        arr = np.asarray(value)
        if arr.dtype.kind != "f":
            raise ValueError(f"state[{index}][{key!r}] must be a float array, got dtype {arr.dtype}")
        if arr.shape != p.shape:
            raise ValueError(
                f"state[{index}][{key!r}] must have shape {p.shape} like params[{index}], "
                f"got {arr.shape}"
            )
        return np.array(arr, dtype=p.dtype, order="C", copy=True)


def _check_params(groups: List[Dict[str, Any]]) -> None:
    """Every parameter writable, and no two sharing memory (``[w, w.view()]``, overlapping
    slices of one buffer: each would be stepped twice), before any of them changes: a list
    appended to after construction is checked again at each step."""
    spans = []
    index = 0
    for group in groups:
        params = group["params"]
        if isinstance(params, np.ndarray) or not isinstance(params, list):
            raise TypeError(f"param_groups[...]['params'] must be a list of arrays, got "
                            f"{type(params).__name__}")
        for p in params:
            writable_array(p, f"params[{index}]")
            if p.nbytes:
                start = p.__array_interface__["data"][0]
                spans.append((start, start + p.nbytes, index))
            index += 1
    spans.sort()
    for (_, end, i), (begin, _, j) in zip(spans, spans[1:]):
        if begin < end:
            first, second = sorted((i, j))
            raise ValueError(f"params[{second}] shares memory with params[{first}]: each "
                             "parameter must be its own array")


def _penalty_mode(group: Dict[str, Any], where: str) -> str:
    return choice(group["penalty_mode"], "penalty_mode", _MODES, where)


def _on(_: Dict[str, Any]) -> bool:
    return True


def _zero(_: Dict[str, Any]) -> float:
    return 0.0


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

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> w = np.array([1.0, -2.0, 3.0], np.float32)
    >>> opt = lkreg.optim.SGD([w], lr=0.1)
    >>> opt.step([np.array([1.0, 1.0, -1.0], np.float32)])  # w -= lr * g, in place
    >>> w
    array([ 0.9, -2.1,  3.1], dtype=float32)

    With momentum the buffer starts as the first gradient, as in torch:

    >>> w = np.array([1.0, -2.0])
    >>> opt = lkreg.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.step([np.ones(2)])  # b = 1, then 0.9 * 1 + 1 = 1.9
    >>> w  # 1 - 0.1 * (1 + 1.9)
    array([ 0.71, -2.29])

    With a non-smooth penalty, SGD is proximal gradient descent (ISTA for L1): exact zeros.

    >>> w = np.array([0.05, -2.0])
    >>> lkreg.optim.SGD([w], lr=0.1, penalty=lkreg.L1(1.0)).step([np.zeros(2)])
    >>> w  # soft-threshold at lr * lam = 0.1
    array([ 0. , -1.9])
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
            "lr": nonnegative(group["lr"], "lr", where),
            "momentum": nonnegative(group["momentum"], "momentum", where),
            "dampening": finite(group["dampening"], "dampening", where),
            "weight_decay": nonnegative(group["weight_decay"], "weight_decay", where),
            "nesterov": flag(group["nesterov"], "nesterov", where),
            "penalty": _penalty(group["penalty"], where),
        }
        if o["nesterov"] and (o["momentum"] <= 0 or o["dampening"] != 0):
            raise ValueError(f"nesterov=True requires momentum > 0 and dampening = 0{where}")
        return o

    _state_arrays = (("momentum_buffer", lambda o: o["momentum"] != 0, _zero),)
    _counts_steps = False

    def _kernel(self, o, params, grads, states, steps, penalty, index, check_only):  # type: ignore[no-untyped-def]
        _core.sgd_step(params, grads, states[0], steps, o["lr"], o["momentum"], o["dampening"],
                       o["weight_decay"], o["nesterov"], *penalty, index, check_only)


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

    Examples
    --------
    The first step moves every coordinate by about ``lr`` against its gradient's sign
    (bias-corrected ``m / sqrt(v) = g / |g|``):

    >>> import numpy as np, lkreg
    >>> w = np.array([1.0, -2.0])
    >>> lkreg.optim.Adam([w], lr=0.1).step([np.array([0.5, -3.0])])
    >>> w
    array([ 0.9, -1.9])
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
        penalty_mode: str = "preconditioned",
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            decoupled_weight_decay=decoupled_weight_decay,
            penalty=penalty,
            penalty_mode=penalty_mode,
        )
        super().__init__(params, defaults)

    def _options(self, group: Dict[str, Any], where: str) -> Dict[str, Any]:
        return {
            "lr": nonnegative(group["lr"], "lr", where),
            "betas": _betas(group["betas"], where),
            "eps": nonnegative(group["eps"], "eps", where),
            "weight_decay": nonnegative(group["weight_decay"], "weight_decay", where),
            "amsgrad": flag(group["amsgrad"], "amsgrad", where),
            "decoupled_weight_decay": flag(
                group["decoupled_weight_decay"], "decoupled_weight_decay", where
            ),
            "penalty": _penalty(group["penalty"], where),
            "penalty_mode": _penalty_mode(group, where),
        }

    _state_arrays = (
        ("exp_avg", _on, _zero),
        ("exp_avg_sq", _on, _zero),
        ("max_exp_avg_sq", lambda o: o["amsgrad"], _zero),
    )
    _has_metric = True

    def _kernel(self, o, params, grads, states, steps, penalty, index, check_only):  # type: ignore[no-untyped-def]
        beta1, beta2 = o["betas"]
        _core.adam_step(params, grads, states[0], states[1], states[2], steps, o["lr"], beta1,
                        beta2, o["eps"], o["weight_decay"], o["decoupled_weight_decay"],
                        *penalty, index, check_only)

    def _metric_steps(self, o: Dict[str, Any], state: Dict[str, Any], p: np.ndarray) -> np.ndarray:
        # lr / (sqrt(v) / sqrt(1 - beta2**t) + eps), as the update's denominator
        v = state["max_exp_avg_sq"] if o["amsgrad"] else state["exp_avg_sq"]
        bc2_sqrt = p.dtype.type((1.0 - o["betas"][1] ** state["step"]) ** 0.5)
        return p.dtype.type(o["lr"]) / (np.sqrt(v) / bc2_sqrt + p.dtype.type(o["eps"]))


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

    Examples
    --------
    Weight decay is decoupled: ``w *= 1 - lr * weight_decay`` before the Adam update.

    >>> import numpy as np, lkreg
    >>> w = np.array([1.0, -2.0])
    >>> lkreg.optim.AdamW([w], lr=0.1, weight_decay=0.5).step([np.zeros(2)])
    >>> w  # a zero gradient: only the decay, 1 - 0.1 * 0.5
    array([ 0.95, -1.9 ])
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
        penalty_mode: str = "preconditioned",
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad,
                         decoupled_weight_decay=True, penalty=penalty, penalty_mode=penalty_mode)


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

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> w = np.array([1.0, -2.0])
    >>> lkreg.optim.RMSprop([w], lr=0.01).step([np.array([0.5, -3.0])])
    >>> w.round(6)  # v = (1 - alpha) * g**2, so the step is lr * g / sqrt(v) = 0.1 * sign(g)
    array([ 0.9, -1.9])
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
        penalty_mode: str = "preconditioned",
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            penalty=penalty,
            penalty_mode=penalty_mode,
        )
        super().__init__(params, defaults)

    def _options(self, group: Dict[str, Any], where: str) -> Dict[str, Any]:
        return {
            "lr": nonnegative(group["lr"], "lr", where),
            "alpha": nonnegative(group["alpha"], "alpha", where),
            "eps": nonnegative(group["eps"], "eps", where),
            "weight_decay": nonnegative(group["weight_decay"], "weight_decay", where),
            "momentum": nonnegative(group["momentum"], "momentum", where),
            "centered": flag(group["centered"], "centered", where),
            "penalty": _penalty(group["penalty"], where),
            "penalty_mode": _penalty_mode(group, where),
        }

    _state_arrays = (
        ("square_avg", _on, _zero),
        ("grad_avg", lambda o: o["centered"], _zero),
        ("momentum_buffer", lambda o: o["momentum"] > 0, _zero),
    )
    _has_metric = True

    def _kernel(self, o, params, grads, states, steps, penalty, index, check_only):  # type: ignore[no-untyped-def]
        _core.rmsprop_step(params, grads, states[0], states[1], states[2], o["lr"], o["alpha"],
                           o["eps"], o["weight_decay"], o["momentum"], *penalty, index, check_only)

    def _metric_steps(self, o: Dict[str, Any], state: Dict[str, Any], p: np.ndarray) -> np.ndarray:
        sq = state["square_avg"]
        if o["centered"]:
            sq = sq - state["grad_avg"] * state["grad_avg"]
        return p.dtype.type(o["lr"]) / (np.sqrt(sq) + p.dtype.type(o["eps"]))


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

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> w = np.array([1.0, -2.0])
    >>> lkreg.optim.Adagrad([w], lr=0.1).step([np.array([0.5, -3.0])])
    >>> w  # the sum of squares is g**2: a first step of lr * sign(g)
    array([ 0.9, -1.9])
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
        penalty_mode: str = "preconditioned",
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            penalty=penalty,
            penalty_mode=penalty_mode,
        )
        super().__init__(params, defaults)

    def _options(self, group: Dict[str, Any], where: str) -> Dict[str, Any]:
        return {
            "lr": nonnegative(group["lr"], "lr", where),
            "lr_decay": nonnegative(group["lr_decay"], "lr_decay", where),
            "weight_decay": nonnegative(group["weight_decay"], "weight_decay", where),
            "initial_accumulator_value": nonnegative(
                group["initial_accumulator_value"], "initial_accumulator_value", where
            ),
            "eps": nonnegative(group["eps"], "eps", where),
            "penalty": _penalty(group["penalty"], where),
            "penalty_mode": _penalty_mode(group, where),
        }

    _state_arrays = (("sum", _on, lambda o: o["initial_accumulator_value"]),)
    _has_metric = True

    def _kernel(self, o, params, grads, states, steps, penalty, index, check_only):  # type: ignore[no-untyped-def]
        _core.adagrad_step(params, grads, states[0], steps, o["lr"], o["lr_decay"],
                           o["weight_decay"], o["eps"], *penalty, index, check_only)

    def _metric_steps(self, o: Dict[str, Any], state: Dict[str, Any], p: np.ndarray) -> np.ndarray:
        clr = o["lr"] / (1.0 + (state["step"] - 1) * o["lr_decay"])
        return p.dtype.type(clr) / (np.sqrt(state["sum"]) + p.dtype.type(o["eps"]))


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

    Examples
    --------
    Coordinates whose accumulated gradient stays within ``l1`` stay exactly zero:

    >>> import numpy as np, lkreg
    >>> w = np.zeros(3)
    >>> lkreg.optim.FTRL([w], alpha=0.5, l1=1.0).step([np.array([0.5, -3.0, 2.0])])
    >>> w  # -(z - sign(z) l1) / ((beta + sqrt(n)) / alpha) where |z| > l1
    array([ 0.        ,  0.25      , -0.16666667])
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
            # 0 is legal (a scheduler's eta_min): the step then leaves weights and state alone
            "alpha": nonnegative(group["alpha"], "alpha", where),
            "beta": nonnegative(group["beta"], "beta", where),
            "l1": nonnegative(group["l1"], "l1", where),
            "l2": nonnegative(group["l2"], "l2", where),
            "penalty": _penalty(group["penalty"], where),
        }
        pen = o["penalty"]
        if pen is not None and not pen.is_smooth:
            description = pen.description()
            kinds = (_core.PenaltyKind.L1, _core.PenaltyKind.ElasticNet)
            if description is None or description.kind not in kinds:
                raise ValueError(
                    f"FTRL takes a smooth penalty, L1 or ElasticNet (solved in closed form), "
                    f"got {pen!r}{where}"
                )
        return o

    _state_arrays = (("z", _on, _zero), ("n", _on, _zero))

    def _kernel(self, o, params, grads, states, steps, penalty, index, check_only):  # type: ignore[no-untyped-def]
        alpha = o["alpha"]
        # alpha = 0: every argument still checked, nothing moves (the limit of w -> w is not
        # FTRL's closed form, whose 1 / alpha terms would divide by 0)
        _core.ftrl_step(params, grads, states[0], states[1], alpha if alpha > 0 else 1.0, o["beta"],
                        o["l1"], o["l2"], *penalty, index, check_only or alpha == 0)
