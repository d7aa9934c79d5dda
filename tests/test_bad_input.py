"""The bad-input matrix: every public call, fed every bad input that applies.

Every case ends in the documented result, or in a TypeError/ValueError whose message names the
argument, with the caller's arrays untouched. The matrix is two tables:

- ``CALLS``: one row per public function or method that takes arrays, saying which arguments are
  read (``inputs``), written (``outputs``: ``out``, ``add_grad``'s ``g``, ...) or updated in place
  (``updated``: optimizer parameters). Array cases are generated from the roles: wrong dtypes,
  lists and scalars, 0-d and empty arrays, strided, negative-stride, Fortran-order and read-only
  views, bad ``out`` arrays, partial overlap, and NaN/inf in the data.
- ``SCALAR_CASES``: bad hyper-parameters (p = 1, k = 0, negative lam/step/lr/seeds, NaN, betas
  outside [0, 1), strings, ...) with the exception and the name it must carry.

A new layer joins by adding rows: a ``Call`` for each array-taking entry point, and its bad
hyper-parameters to ``SCALAR_CASES``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np
import pytest

import lkreg
from lkreg import optim

Kwargs = Dict[str, Any]


# ---------------------------------------------------------------------------------------------
# The table of calls


@dataclasses.dataclass(frozen=True)
class Call:
    """One public entry point and the roles of its array arguments.

    ``build(dtype, shape)`` returns the keyword arguments of a good call (arrays of ``shape``);
    ``fn(**kwargs)`` makes the call. ``names`` maps an argument to the name its error messages
    use (default: the argument's own name).
    """

    id: str
    fn: Callable[..., Any]
    build: Callable[[np.dtype, Tuple[int, ...]], Kwargs]
    inputs: Tuple[str, ...] = ()
    outputs: Tuple[str, ...] = ()
    updated: Tuple[str, ...] = ()
    names: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: whether each output element depends on the same input element only
    elementwise: bool = True
    #: whether a NaN in the data gives NaN in the result at its place (L0's gradient is 0)
    nan_propagates: bool = True

    def name(self, arg: str) -> str:
        return self.names.get(arg, arg)

    def __repr__(self) -> str:
        return self.id


def weights(dtype: Any, shape: Tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Signed weights with exact zeros and values on both sides of the usual thresholds."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape).astype(dtype)
    if w.size:
        w.flat[:: max(1, w.size // 3)] = 0
    return w


def _penalty_calls(penalty_id: str, make: Callable[[Tuple[int, ...]], lkreg.Penalty],
                   smooth_elementwise: bool = True, nan_grad: bool = True) -> List[Call]:
    def build(dtype: Any, shape: Tuple[int, ...]) -> Kwargs:
        return {"penalty": make(shape), "w": weights(dtype, shape)}

    def build_out(dtype: Any, shape: Tuple[int, ...]) -> Kwargs:
        return {**build(dtype, shape), "out": None}

    def build_g(dtype: Any, shape: Tuple[int, ...]) -> Kwargs:
        return {**build(dtype, shape), "g": weights(dtype, shape, seed=1)}

    def build_prox(dtype: Any, shape: Tuple[int, ...]) -> Kwargs:
        return {**build_out(dtype, shape), "step": 0.3}

    ew = smooth_elementwise
    return [
        Call(f"{penalty_id}.value", lambda penalty, w: penalty.value(w), build, ("w",),
             elementwise=False, nan_propagates=nan_grad),
        Call(f"{penalty_id}.grad", lambda penalty, w, out: penalty.grad(w, out=out), build_out,
             ("w",), ("out",), elementwise=ew, nan_propagates=nan_grad),
        Call(f"{penalty_id}.value_and_grad",
             lambda penalty, w, out: penalty.value_and_grad(w, out=out), build_out, ("w",),
             ("out",), elementwise=False, nan_propagates=nan_grad),
        Call(f"{penalty_id}.add_grad", lambda penalty, w, g: penalty.add_grad(w, g), build_g,
             ("w",), ("g",), elementwise=ew, nan_propagates=nan_grad),
        Call(f"{penalty_id}.prox", lambda penalty, w, step, out: penalty.prox(w, step, out=out),
             build_prox, ("w",), ("out",), elementwise=ew),
    ]


def _flat_groups(shape: Tuple[int, ...]) -> np.ndarray:
    return np.arange(math.prod(shape)) % 3


PENALTY_CALLS = [
    *_penalty_calls("L1", lambda s: lkreg.L1(0.1)),
    *_penalty_calls("L2", lambda s: lkreg.L2(0.1)),
    *_penalty_calls("Lk(0.5)", lambda s: lkreg.Lk(0.5, 0.1)),
    *_penalty_calls("Lk(1.5)", lambda s: lkreg.Lk(1.5, 0.1)),
    *_penalty_calls("Lk(3)", lambda s: lkreg.Lk(3, 0.1, reduction="mean")),
    *_penalty_calls("Lk(2.5)", lambda s: lkreg.Lk(2.5, 0.1)),
    *_penalty_calls("ElasticNet", lambda s: lkreg.ElasticNet(0.1, 0.2)),
    *_penalty_calls("L0", lambda s: lkreg.L0(0.1), nan_grad=False),
    *_penalty_calls("GroupL2(axis)", lambda s: lkreg.GroupL2(0.1, axis=-1),
                    smooth_elementwise=False),
    *_penalty_calls("GroupL2(groups)", lambda s: lkreg.GroupL2(0.1, groups=_flat_groups(s)),
                    smooth_elementwise=False),
]


def _x_out(dtype: Any, shape: Tuple[int, ...], **scalars: Any) -> Kwargs:
    return {"x": weights(dtype, shape), "out": None, **scalars}


PROX_CALLS = [
    Call("soft_threshold", lambda x, t, out: lkreg.soft_threshold(x, t, out=out),
         lambda d, s: _x_out(d, s, t=0.3), ("x",), ("out",)),
    Call("soft_threshold(t array)", lambda x, t, out: lkreg.soft_threshold(x, t, out=out),
         lambda d, s: _x_out(d, s, t=np.abs(weights(d, s, seed=2))), ("x", "t"), ("out",)),
    Call("hard_threshold", lambda x, t, out: lkreg.hard_threshold(x, t, out=out),
         lambda d, s: _x_out(d, s, t=0.3), ("x",), ("out",)),
    Call("hard_threshold(t array)", lambda x, t, out: lkreg.hard_threshold(x, t, out=out),
         lambda d, s: _x_out(d, s, t=np.abs(weights(d, s, seed=2))), ("x", "t"), ("out",)),
    Call("weight_decay", lambda w, rate, out: lkreg.weight_decay(w, rate, out=out),
         lambda d, s: {"w": weights(d, s), "rate": 0.1, "out": None}, ("w",), ("out",)),
]


def _dropout_args(dtype: Any, shape: Tuple[int, ...]) -> Kwargs:
    return {"x": weights(dtype, shape), "out": None}


def _dropout_backward_args(dtype: Any, shape: Tuple[int, ...]) -> Kwargs:
    mask = lkreg.dropout_mask(shape, 0.4, seed=3)
    return {"grad": weights(dtype, shape), "mask": mask, "out": None}


def _packed_backward_args(dtype: Any, shape: Tuple[int, ...]) -> Kwargs:
    mask = lkreg.dropout_mask(shape, 0.4, seed=3, packed=True)
    return {"grad": weights(dtype, shape), "mask": mask, "out": None}


def _layer_forward(x: Any, out: Optional[np.ndarray]) -> np.ndarray:
    return lkreg.Dropout(0.4, seed=5).forward(x, out=out)


def _layer_backward(grad: Any, out: Optional[np.ndarray]) -> np.ndarray:
    layer = lkreg.Dropout(0.4, seed=5)
    layer.forward(np.zeros(np.shape(grad)))
    return layer.backward(grad, out=out)


DROPOUT_CALLS = [
    Call("dropout", lambda x, out: lkreg.dropout(x, 0.4, seed=7, stream=1, offset=3, out=out),
         _dropout_args, ("x",), ("out",)),
    Call("dropout(return_mask)",
         lambda x, out: lkreg.dropout(x, 0.4, seed=7, out=out, return_mask=True),
         _dropout_args, ("x",), ("out",)),
    Call("alpha_dropout", lambda x, out: lkreg.alpha_dropout(x, 0.4, seed=7, out=out),
         _dropout_args, ("x",), ("out",), nan_propagates=False),  # dropped NaN -> alpha' value
    Call("drop_connect", lambda w, out: lkreg.drop_connect(w, 0.4, seed=7, out=out),
         lambda d, s: {"w": weights(d, s), "out": None}, ("w",), ("out",)),
    Call("dropout_backward", lambda grad, mask, out: lkreg.dropout_backward(grad, mask, 0.4, out),
         _dropout_backward_args, ("grad",), ("out",)),
    Call("dropout_backward(packed)",
         lambda grad, mask, out: lkreg.dropout_backward(grad, mask, 0.4, out),
         _packed_backward_args, ("grad",), ("out",)),
    Call("Dropout.forward", _layer_forward, _dropout_args, ("x",), ("out",)),
    Call("Dropout.backward", _layer_backward,
         lambda d, s: {"grad": weights(d, s), "out": None}, ("grad",), ("out",)),
]


def _optimizer_call(id: str, make: Callable[[List[np.ndarray]], optim.Optimizer],
                    elementwise: bool = True) -> Call:
    def run(w: np.ndarray, g: Any) -> None:
        opt = make([w])
        for _ in range(2):
            opt.step([g])

    return Call(
        id, run, lambda d, s: {"w": weights(d, s), "g": weights(d, s, seed=4)},
        inputs=("g",), updated=("w",), names={"w": "params[0]", "g": "grads[0]"},
        elementwise=elementwise,
    )


OPTIMIZER_CALLS = [
    _optimizer_call("SGD", lambda ps: optim.SGD(ps, lr=0.1)),
    _optimizer_call("SGD(nesterov, L1)", lambda ps: optim.SGD(
        ps, lr=0.1, momentum=0.9, nesterov=True, penalty=lkreg.L1(0.1))),
    _optimizer_call("Adam(amsgrad, Lk(1.5))", lambda ps: optim.Adam(
        ps, lr=0.1, amsgrad=True, penalty=lkreg.Lk(1.5, 0.1))),
    _optimizer_call("AdamW(ElasticNet)", lambda ps: optim.AdamW(
        ps, lr=0.1, penalty=lkreg.ElasticNet(0.1, 0.1))),
    _optimizer_call("RMSprop(centered, momentum)", lambda ps: optim.RMSprop(
        ps, lr=0.1, momentum=0.5, centered=True)),
    _optimizer_call("Adagrad(Lk(0.5))", lambda ps: optim.Adagrad(
        ps, lr=0.1, penalty=lkreg.Lk(0.5, 0.01))),
    _optimizer_call("FTRL", lambda ps: optim.FTRL(ps, alpha=0.1, l1=0.1, l2=0.1)),
    _optimizer_call("SGD(GroupL2)", lambda ps: optim.SGD(
        ps, lr=0.1, penalty=lkreg.GroupL2(0.1, axis=-1)), elementwise=False),
]

CALLS: List[Call] = PENALTY_CALLS + PROX_CALLS + DROPOUT_CALLS + OPTIMIZER_CALLS


# ---------------------------------------------------------------------------------------------
# Running a call and comparing outcomes


def _arrays_in(kwargs: Kwargs) -> Dict[str, np.ndarray]:
    return {k: v for k, v in kwargs.items() if isinstance(v, np.ndarray)}


def run(call: Call, kwargs: Kwargs) -> Tuple[Any, Dict[str, np.ndarray]]:
    """The call's result and the arrays it was given, after the call."""
    result = call.fn(**kwargs)
    return result, {k: np.array(v) for k, v in _arrays_in(kwargs).items()}


def assert_same(actual: Any, expected: Any) -> None:
    """Equal bit for bit (NaN equal to NaN), with equal dtypes and shapes."""
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_same(a, e)
    elif isinstance(expected, dict):
        assert actual.keys() == expected.keys()
        for k in expected:
            assert_same(actual[k], expected[k])
    elif isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray)
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        np.testing.assert_array_equal(actual, expected, strict=True)
    elif isinstance(expected, np.generic):  # a NumPy scalar: the same type and bits
        assert type(actual) is type(expected)
        np.testing.assert_array_equal(np.asarray(actual), np.asarray(expected), strict=True)
    elif isinstance(expected, float):
        assert isinstance(actual, float)
        assert actual == expected or (math.isnan(actual) and math.isnan(expected))
    else:
        assert actual == expected


def raises_untouched(call: Call, kwargs: Kwargs, exc: type, name: str) -> None:
    """The call raises ``exc`` naming ``name``, and leaves every array it was given unchanged."""
    before = {k: v.copy() for k, v in _arrays_in(kwargs).items()}
    lists = {k: list(v) for k, v in kwargs.items() if isinstance(v, list)}
    with pytest.raises(exc, match=rf"(?<![\w\[]){re.escape(name)}(?![\w\]])"):
        call.fn(**kwargs)
    for k, v in before.items():
        np.testing.assert_array_equal(kwargs[k], v, strict=True, err_msg=f"{k} changed")
    for k, v in lists.items():
        assert kwargs[k] == v, f"{k} changed"


def _case_id(value: Any) -> str:
    return value.id if isinstance(value, Call) else str(value)


DTYPES = [np.float32, np.float64]


# ---------------------------------------------------------------------------------------------
# Read arguments: wrong dtypes are TypeErrors; everything NumPy accepts gives the result of the
# contiguous call.

BAD_DTYPES: Dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "int": lambda a: a.astype(np.int64),
    "uint32": lambda a: a.astype(np.uint32),
    "bool": lambda a: a != 0,
    "float16": lambda a: a.astype(np.float16),
    "longdouble": lambda a: a.astype(np.longdouble),
    "complex": lambda a: a.astype(np.complex128),
    "object": lambda a: a.astype(object),
    "str": lambda a: a.astype(str),
    "bytes": lambda a: a.astype("S8"),
    "big-endian": lambda a: a.astype(">f8"),
    "datetime": lambda a: a.astype("datetime64[ns]"),
    "int list": lambda a: a.astype(np.int64).tolist(),
    "str scalar": lambda a: "1.0",
    "None": lambda a: None,
}


@pytest.mark.parametrize("kind", list(BAD_DTYPES))
@pytest.mark.parametrize("call", CALLS, ids=_case_id)
def test_input_of_a_wrong_dtype_is_a_type_error_naming_it(call, kind):
    for arg in call.inputs:
        if kind == "None" and call.updated:
            continue  # an optimizer skips a None gradient, as torch skips a missing .grad
        kwargs = call.build(np.float64, (3, 5))
        kwargs[arg] = BAD_DTYPES[kind](kwargs[arg])
        raises_untouched(call, kwargs, TypeError, call.name(arg))


VIEWS: Dict[str, Callable[[np.ndarray], Any]] = {
    "strided": lambda a: _strided(a),
    "negative-stride": lambda a: np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1],
    "Fortran": np.asfortranarray,
    "read-only": lambda a: _read_only(a),
    "transposed": lambda a: np.ascontiguousarray(a.T).T,
    "list": lambda a: a.tolist(),
}


def _strided(a: np.ndarray) -> np.ndarray:
    big = np.zeros(tuple(2 * n for n in a.shape), a.dtype)
    view = big[tuple(slice(None, None, 2) for _ in a.shape)]
    view[...] = a
    return view


def _read_only(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.setflags(write=False)
    return a


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("call", CALLS, ids=_case_id)
def test_any_layout_numpy_accepts_gives_the_contiguous_result(call, dtype, view):
    if view == "list" and dtype == np.float32:
        pytest.skip("a list of Python floats is float64, as np.asarray makes it")
    expected_result, expected_arrays = run(call, call.build(dtype, (3, 5)))
    for arg in call.inputs:
        kwargs = call.build(dtype, (3, 5))
        original = kwargs[arg].copy()
        kwargs[arg] = VIEWS[view](kwargs[arg])
        result, arrays = run(call, kwargs)
        assert_same(result, expected_result)
        for k in arrays.keys() - {arg}:
            assert_same(arrays[k], expected_arrays[k])
        if isinstance(kwargs[arg], np.ndarray):  # the caller's view is never written
            np.testing.assert_array_equal(kwargs[arg], original, strict=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("call", CALLS, ids=_case_id)
def test_zero_dimensional_input_is_a_one_element_array(call, dtype):
    """A 0-d input computes what a 1-element array does; a new result comes back as a NumPy
    scalar of the dtype (as from a ufunc), an array the caller passed (``g``, ``out``) as itself."""
    if "GroupL2(axis)" in call.id or call.id == "SGD(GroupL2)":
        pytest.skip("axis=-1 needs at least one dimension")
    result, arrays = run(call, call.build(dtype, ()))
    flat_result, flat_arrays = run(call, call.build(dtype, (1,)))
    assert_same(result, _as_0d_result(flat_result, result))
    for k in arrays:
        assert_same(arrays[k].reshape(-1), flat_arrays[k].reshape(-1))


def _as_0d_result(flat: Any, like: Any) -> Any:
    """The 1-element result ``flat`` in the form a 0-d call returns it (``like`` says which)."""
    if isinstance(flat, tuple):
        return tuple(_as_0d_result(f, r) for f, r in zip(flat, like))
    if isinstance(like, np.generic) and not isinstance(flat, np.generic):
        assert isinstance(flat, np.ndarray) and flat.size == 1 and flat.dtype != np.uint8
        return flat.reshape(())[()]
    return _reshaped(flat, ())


def _reshaped(result: Any, shape: Tuple[int, ...]) -> Any:
    if isinstance(result, tuple):
        return tuple(_reshaped(r, shape) for r in result)
    if isinstance(result, np.ndarray) and result.dtype != np.uint8:  # packed masks stay 1-D
        return result.reshape(shape)
    return result


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4)])
@pytest.mark.parametrize("call", CALLS, ids=_case_id)
def test_empty_input_gives_an_empty_result(call, shape):
    kwargs = call.build(np.float32, shape)
    result, arrays = run(call, kwargs)
    for r in result if isinstance(result, tuple) else (result,):
        if isinstance(r, np.ndarray):
            assert r.size == 0 and r.shape in (shape, (0,))
        elif isinstance(r, float):
            assert r == 0.0
        else:
            assert r is None


def test_huge_group_ids_cost_no_memory():
    w = np.array([3.0, 4.0, 1.0])
    huge = lkreg.GroupL2(1.0, groups=[2**40, 2**40, 7])
    small = lkreg.GroupL2(1.0, groups=[1, 1, 0])
    assert huge == small and huge.value(w) == 6.0
    assert_same(huge.prox(w, 0.5), small.prox(w, 0.5))


def test_a_huge_broadcast_view_is_numpys_memory_error_not_a_crash():
    # a strided input is copied once into C order: 2**45 float32 elements cannot be
    huge = np.broadcast_to(np.float32(1), (2**45,))
    for call in (lkreg.L1(1.0).value, lambda x: lkreg.soft_threshold(x, 0.5),
                 lambda x: lkreg.dropout(x, 0.5, seed=1)):
        with pytest.raises(MemoryError):
            call(huge)


def test_python_scalars_are_accepted_like_numpy_accepts_them():
    assert lkreg.L1(2.0).value(-1.5) == 3.0
    assert lkreg.L2(1.0).grad(1.5) == np.float64(3.0)
    assert lkreg.soft_threshold(-1.5, 0.5) == np.float64(-1.0)
    assert lkreg.weight_decay(2.0, 0.25).dtype == np.float64
    assert lkreg.L1(1.0).value([1.0, -2.0, 0.5]) == 3.5


# ---------------------------------------------------------------------------------------------
# Written arguments (out=, add_grad's g) and parameters updated in place.


def _bad_outs(like: np.ndarray) -> Dict[str, Tuple[Any, type]]:
    """Bad arrays to write into, with the exception each must raise."""
    other = np.float32 if like.dtype == np.float64 else np.float64
    return {
        "dtype": (np.zeros(like.shape, other), ValueError),
        "int dtype": (np.zeros(like.shape, np.int64), ValueError),
        "shape": (np.zeros(like.size + 1, like.dtype), ValueError),
        "transposed shape": (np.zeros(like.shape[::-1], like.dtype), ValueError),
        "flat": (np.zeros(like.size, like.dtype), ValueError),
        "strided": (_strided(np.zeros(like.shape, like.dtype)), ValueError),
        "negative-stride": (np.zeros(like.shape, like.dtype)[::-1], ValueError),
        "Fortran": (np.zeros(like.shape, like.dtype, order="F"), ValueError),
        "read-only": (_read_only(np.zeros(like.shape, like.dtype)), ValueError),
        "list": (np.zeros(like.shape, like.dtype).tolist(), TypeError),
        "scalar": (0.0, TypeError),
    }


@pytest.mark.parametrize("case", list(_bad_outs(np.zeros((3, 5)))))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("call", [c for c in CALLS if c.outputs], ids=_case_id)
def test_bad_array_to_write_is_an_error_naming_it(call, dtype, case):
    for arg in call.outputs:
        kwargs = call.build(dtype, (3, 5))
        kwargs[arg], exc = _bad_outs(kwargs[call.inputs[0]])[case]
        raises_untouched(call, kwargs, exc, call.name(arg))


@pytest.mark.parametrize("shift", [1, -1, 14])
@pytest.mark.parametrize("call", [c for c in CALLS if c.outputs], ids=_case_id)
def test_array_to_write_overlapping_the_input_partially_is_rejected(call, shift):
    for arg in call.outputs:
        kwargs = call.build(np.float64, (3, 5))
        src = call.inputs[0]
        buffer = np.concatenate([kwargs[src].ravel(), kwargs[src].ravel(), kwargs[src].ravel()])
        base = 15
        kwargs[src] = buffer[base : base + 15].reshape(3, 5)
        kwargs[arg] = buffer[base + shift : base + shift + 15].reshape(3, 5)
        before = buffer.copy()
        with pytest.raises(ValueError, match=rf"\b{call.name(arg)}\b.*overlaps|overlaps"):
            call.fn(**kwargs)
        np.testing.assert_array_equal(buffer, before)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("call", [c for c in CALLS if "out" in c.outputs], ids=_case_id)
def test_out_may_be_the_input_itself_or_a_separate_array(call, dtype):
    expected = _written(run(call, call.build(dtype, (3, 5)))[0])
    for where in ("separate", "in place"):
        kwargs = call.build(dtype, (3, 5))
        src = call.inputs[0]
        out = kwargs[src] if where == "in place" else np.full_like(kwargs[src], np.nan)
        kwargs["out"] = out
        got = _written(call.fn(**kwargs))
        assert got is out
        assert_same(got, expected)


def _written(result: Any) -> np.ndarray:
    """The float array a call returned (value_and_grad's grad, dropout's y without its mask)."""
    results = result if isinstance(result, tuple) else (result,)
    return next(r for r in results if isinstance(r, np.ndarray) and r.dtype.kind == "f")


UPDATED_BAD: Dict[str, Tuple[Callable[[np.ndarray], Any], type]] = {
    "int": (lambda a: a.astype(np.int64), TypeError),
    "float16": (lambda a: a.astype(np.float16), TypeError),
    "complex": (lambda a: a.astype(np.complex128), TypeError),
    "object": (lambda a: a.astype(object), TypeError),
    "list": (lambda a: a.tolist(), TypeError),
    "scalar": (lambda a: 1.0, TypeError),
    "strided": (_strided, ValueError),
    "negative-stride": (lambda a: a[::-1], ValueError),
    "Fortran": (np.asfortranarray, ValueError),
    "read-only": (_read_only, ValueError),
}


@pytest.mark.parametrize("case", list(UPDATED_BAD))
@pytest.mark.parametrize("call", [c for c in CALLS if c.updated], ids=_case_id)
def test_bad_array_to_update_in_place_is_an_error_naming_it(call, case):
    make, exc = UPDATED_BAD[case]
    for arg in call.updated:
        kwargs = call.build(np.float64, (3, 5))
        kwargs[arg] = make(kwargs[arg])
        raises_untouched(call, kwargs, exc, call.name(arg))


# ---------------------------------------------------------------------------------------------
# NaN and inf in the data propagate element by element; they never crash or hang.


@pytest.mark.parametrize("special", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("call", CALLS, ids=_case_id)
def test_nan_and_inf_in_the_data_stay_where_they_are(call, dtype, special):
    clean = run(call, call.build(dtype, (3, 5)))
    for arg in call.inputs + call.updated:
        kwargs = call.build(dtype, (3, 5))
        if arg == "t":  # a threshold array of NaN is not a threshold
            continue
        kwargs[arg][1, 2] = special
        result, arrays = run(call, kwargs)
        outputs = _element_outputs(result, arrays, call)
        for got, want in zip(outputs, _element_outputs(*clean, call)):
            if call.elementwise:  # the other elements do not see the special value
                keep = np.ones(got.shape, bool)
                keep[1, 2] = False
                np.testing.assert_array_equal(got[keep], want[keep], strict=True)
            if special is np.nan and call.nan_propagates:
                assert np.isnan(got[1, 2]), f"{call.id}: NaN in {arg} lost"
        values = [r for r in (result if isinstance(result, tuple) else (result,))
                  if isinstance(r, float)]
        if special is np.nan and call.nan_propagates:
            assert all(math.isnan(v) for v in values)


def _element_outputs(result: Any, arrays: Dict[str, np.ndarray], call: Call) -> List[np.ndarray]:
    """The float arrays of the input's shape that a call produced or updated."""
    found = []
    for r in result if isinstance(result, tuple) else (result,):
        if isinstance(r, np.ndarray) and r.dtype.kind == "f" and r.shape == (3, 5):
            found.append(r)
    found += [arrays[k] for k in call.updated + tuple(a for a in call.outputs if a != "out")]
    return found


# ---------------------------------------------------------------------------------------------
# Bad scalars: hyper-parameters, seeds, shapes, probabilities.

W = np.linspace(-1, 1, 9)


def _sgd(**kw: Any) -> Callable[[], Any]:
    return lambda: optim.SGD([W.copy()], **{"lr": 0.1, **kw})


def _step_with_group(key: str, value: Any) -> Callable[[], Any]:
    """Change a group's hyper-parameter between steps, as a scheduler does; step() checks it."""

    def run_() -> None:
        w = W.copy()
        opt = optim.Adam([w], lr=0.1)
        opt.param_groups[0][key] = value
        before = w.copy()
        try:
            opt.step([np.ones_like(w)])
        finally:
            np.testing.assert_array_equal(w, before)

    return run_


SCALAR_CASES: List[Tuple[str, Callable[[], Any], type, str]] = [
    # penalties
    ("L1 lam<0", lambda: lkreg.L1(-0.1), ValueError, "lam"),
    ("L1 lam=nan", lambda: lkreg.L1(math.nan), ValueError, "lam"),
    ("L2 lam=inf", lambda: lkreg.L2(math.inf), ValueError, "lam"),
    ("L1 lam=str", lambda: lkreg.L1("0.1"), TypeError, "lam"),
    ("L1 lam=None", lambda: lkreg.L1(None), TypeError, "lam"),
    ("L1 lam=list", lambda: lkreg.L1([0.1]), TypeError, "lam"),
    ("L1 lam=bool", lambda: lkreg.L1(True), TypeError, "lam"),
    ("L1 lam=complex", lambda: lkreg.L1(1j), TypeError, "lam"),
    ("L1 lam=array", lambda: lkreg.L1(np.array([0.1, 0.2])), TypeError, "lam"),
    ("Lk k=0", lambda: lkreg.Lk(0, 1.0), ValueError, "k"),
    ("Lk k<0", lambda: lkreg.Lk(-1.5), ValueError, "k"),
    ("Lk k=nan", lambda: lkreg.Lk(math.nan), ValueError, "k"),
    ("Lk k=inf", lambda: lkreg.Lk(math.inf), ValueError, "k"),
    ("Lk lam<0", lambda: lkreg.Lk(1.5, -1.0), ValueError, "lam"),
    ("ElasticNet l1<0", lambda: lkreg.ElasticNet(-1, 1), ValueError, "l1"),
    ("ElasticNet l2=nan", lambda: lkreg.ElasticNet(1, math.nan), ValueError, "l2"),
    ("L0 lam<0", lambda: lkreg.L0(-2), ValueError, "lam"),
    ("reduction", lambda: lkreg.L1(0.1, reduction="max"), ValueError, "reduction"),
    ("reduction=None", lambda: lkreg.L2(0.1, reduction=None), ValueError, "reduction"),
    ("GroupL2 neither", lambda: lkreg.GroupL2(0.1), ValueError, "axis"),
    ("GroupL2 both", lambda: lkreg.GroupL2(0.1, axis=0, groups=[0]), ValueError, "axis"),
    ("GroupL2 axis=float", lambda: lkreg.GroupL2(0.1, axis=1.0), TypeError, "axis"),
    ("GroupL2 groups<0", lambda: lkreg.GroupL2(0.1, groups=[0, -1]), ValueError, "groups"),
    ("GroupL2 groups=float", lambda: lkreg.GroupL2(0.1, groups=[0.5]), TypeError, "groups"),
    ("GroupL2 axis out of range", lambda: lkreg.GroupL2(0.1, axis=2).value(W), ValueError, "axis"),
    ("GroupL2 groups wrong size",
     lambda: lkreg.GroupL2(0.1, groups=[0, 1]).value(W), ValueError, "groups"),
    ("GroupL2 groups wrong size grad",
     lambda: lkreg.GroupL2(0.1, groups=[0, 1]).grad(W), ValueError, "groups"),
    ("prox step<0", lambda: lkreg.L1(0.1).prox(W, -0.1), ValueError, "step"),
    ("prox step=nan", lambda: lkreg.Lk(0.5).prox(W, math.nan), ValueError, "step"),
    ("prox step=inf", lambda: lkreg.L2(1.0).prox(W, math.inf), ValueError, "step"),
    ("prox step=str", lambda: lkreg.L0().prox(W, "1"), TypeError, "step"),
    ("prox step=None", lambda: lkreg.ElasticNet(1, 1).prox(W, None), TypeError, "step"),
    ("GroupL2 prox step<0",
     lambda: lkreg.GroupL2(1.0, axis=0).prox(W, -1.0), ValueError, "step"),
    # element-wise kernels
    ("soft t<0", lambda: lkreg.soft_threshold(W, -0.1), ValueError, "t"),
    ("soft t=nan", lambda: lkreg.soft_threshold(W, math.nan), ValueError, "t"),
    ("soft t=str", lambda: lkreg.soft_threshold(W, "0.1"), TypeError, "t"),
    ("soft t=None", lambda: lkreg.soft_threshold(W, None), TypeError, "t"),
    ("soft t=bool", lambda: lkreg.soft_threshold(W, True), TypeError, "t"),
    ("soft t shape", lambda: lkreg.soft_threshold(W, np.ones(3)), ValueError, "t"),
    ("soft t<0 entry", lambda: lkreg.soft_threshold(W, np.full(9, -0.1)), ValueError, "t"),
    ("soft t int", lambda: lkreg.soft_threshold(W, np.ones(9, np.int64)), TypeError, "t"),
    ("soft t 0-d nan", lambda: lkreg.soft_threshold(W, np.array(math.nan)), ValueError, "t"),
    ("hard t<0", lambda: lkreg.hard_threshold(W, -1), ValueError, "t"),
    ("hard t shape", lambda: lkreg.hard_threshold(W, np.ones((9, 2))), ValueError, "t"),
    ("hard t<0 entry", lambda: lkreg.hard_threshold(W, np.full((1, 9), -1.0)), ValueError, "t"),
    ("decay rate<0", lambda: lkreg.weight_decay(W, -0.1), ValueError, "rate"),
    ("decay rate=inf", lambda: lkreg.weight_decay(W, math.inf), ValueError, "rate"),
    ("decay rate=nan", lambda: lkreg.weight_decay(W, math.nan), ValueError, "rate"),
    ("decay rate=str", lambda: lkreg.weight_decay(W, "0.1"), TypeError, "rate"),
    ("decay rate=array", lambda: lkreg.weight_decay(W, np.array([0.1])), TypeError, "rate"),
    # dropout
    ("dropout p=1", lambda: lkreg.dropout(W, 1.0, seed=0), ValueError, "p"),
    ("dropout p<0", lambda: lkreg.dropout(W, -0.1, seed=0), ValueError, "p"),
    ("dropout p=nan", lambda: lkreg.dropout(W, math.nan, seed=0), ValueError, "p"),
    ("dropout p=inf", lambda: lkreg.dropout(W, math.inf, seed=0), ValueError, "p"),
    ("dropout p=str", lambda: lkreg.dropout(W, "0.5", seed=0), TypeError, "p"),
    ("dropout p=None", lambda: lkreg.dropout(W, None, seed=0), TypeError, "p"),
    ("dropout seed<0", lambda: lkreg.dropout(W, 0.5, seed=-1), ValueError, "seed"),
    ("dropout seed=2**64", lambda: lkreg.dropout(W, 0.5, seed=2**64), ValueError, "seed"),
    ("dropout seed=float", lambda: lkreg.dropout(W, 0.5, seed=1.0), TypeError, "seed"),
    ("dropout seed=None", lambda: lkreg.dropout(W, 0.5, seed=None), TypeError, "seed"),
    ("dropout seed=str", lambda: lkreg.dropout(W, 0.5, seed="1"), TypeError, "seed"),
    ("dropout stream<0", lambda: lkreg.dropout(W, 0.5, seed=0, stream=-1), ValueError, "stream"),
    ("dropout offset<0", lambda: lkreg.dropout(W, 0.5, seed=0, offset=-1), ValueError, "offset"),
    ("dropout offset+size>2**64",
     lambda: lkreg.dropout(W, 0.5, seed=0, offset=2**64 - 3), ValueError, "offset"),
    ("alpha p=1", lambda: lkreg.alpha_dropout(W, 1.0, seed=0), ValueError, "p"),
    ("alpha seed<0", lambda: lkreg.alpha_dropout(W, 0.5, seed=-5), ValueError, "seed"),
    ("drop_connect p<0", lambda: lkreg.drop_connect(W, -1, seed=0), ValueError, "p"),
    ("backward p=1", lambda: lkreg.dropout_backward(W, W > 0, 1.0), ValueError, "p"),
    ("backward mask shape", lambda: lkreg.dropout_backward(W, W[:4] > 0, 0.5), ValueError, "mask"),
    ("backward mask float", lambda: lkreg.dropout_backward(W, W, 0.5), TypeError, "mask"),
    ("backward mask int", lambda: lkreg.dropout_backward(W, (W > 0).astype(int), 0.5),
     TypeError, "mask"),
    ("backward mask 2-D", lambda: lkreg.dropout_backward(W, np.ones((3, 3), bool), 0.5),
     ValueError, "mask"),
    ("backward packed length",
     lambda: lkreg.dropout_backward(W, np.zeros(1, np.uint8), 0.5), ValueError, "mask"),
    ("backward mask None", lambda: lkreg.dropout_backward(W, None, 0.5), TypeError, "mask"),
    ("mask p=1", lambda: lkreg.dropout_mask(4, 1.0, seed=0), ValueError, "p"),
    ("mask shape<0", lambda: lkreg.dropout_mask(-1, 0.5, seed=0), ValueError, "shape"),
    ("mask shape (2,-1)", lambda: lkreg.dropout_mask((2, -1), 0.5, seed=0), ValueError, "shape"),
    ("mask shape=float", lambda: lkreg.dropout_mask(2.0, 0.5, seed=0), TypeError, "shape"),
    ("mask shape=str", lambda: lkreg.dropout_mask("3", 0.5, seed=0), TypeError, "shape"),
    ("mask shape=None", lambda: lkreg.dropout_mask(None, 0.5, seed=0), TypeError, "shape"),
    ("mask huge shape", lambda: lkreg.dropout_mask((2**40, 2**30), 0.5, seed=0),
     ValueError, "shape"),
    ("mask seed<0", lambda: lkreg.dropout_mask(4, 0.5, seed=-1), ValueError, "seed"),
    ("layer p=1", lambda: lkreg.Dropout(1.0), ValueError, "p"),
    ("layer seed<0", lambda: lkreg.Dropout(0.5, seed=-1), ValueError, "seed"),
    ("layer stream=str", lambda: lkreg.Dropout(0.5, seed=1, stream="0"), TypeError, "stream"),
    ("layer backward shape",
     lambda: _layer_backward_mismatch(), ValueError, "grad"),
    ("philox counter shape",
     lambda: lkreg.philox4x32_10(np.zeros(3, np.uint32), np.zeros(2, np.uint32)),
     ValueError, "counter"),
    ("philox key shape",
     lambda: lkreg.philox4x32_10(np.zeros(4, np.uint32), np.zeros(3, np.uint32)),
     ValueError, "key"),
    ("philox counter float",
     lambda: lkreg.philox4x32_10(np.zeros(4), np.zeros(2, np.uint32)), TypeError, "counter"),
    ("philox key int64",
     lambda: lkreg.philox4x32_10(np.zeros(4, np.uint32), np.zeros(2, np.int64)), TypeError, "key"),
    ("philox counter big-endian",
     lambda: lkreg.philox4x32_10(np.zeros(4, ">u4"), np.zeros(2, np.uint32)), TypeError, "counter"),
    ("philox counter 0-d",
     lambda: lkreg.philox4x32_10(np.zeros((), np.uint32), np.zeros(2, np.uint32)), ValueError,
     "counter"),
    ("philox counter (3, 5)",
     lambda: lkreg.philox4x32_10(np.zeros((3, 5), np.uint32), np.zeros(2, np.uint32)),
     ValueError, "counter"),
    ("philox key uint64",
     lambda: lkreg.philox4x32_10(np.zeros(4, np.uint32), np.zeros(2, np.uint64)), TypeError, "key"),
    ("philox counter negative",
     lambda: lkreg.philox4x32_10([-1, 0, 0, 0], np.zeros(2, np.uint32)), TypeError, "counter"),
    # optimizers: constructors
    ("SGD lr<0", _sgd(lr=-0.1), ValueError, "lr"),
    ("SGD lr=nan", _sgd(lr=math.nan), ValueError, "lr"),
    ("SGD lr=inf", _sgd(lr=math.inf), ValueError, "lr"),
    ("SGD lr=str", _sgd(lr="0.1"), TypeError, "lr"),
    ("SGD lr=None", _sgd(lr=None), TypeError, "lr"),
    ("SGD momentum<0", _sgd(momentum=-0.9), ValueError, "momentum"),
    ("SGD dampening=nan", _sgd(momentum=0.9, dampening=math.nan), ValueError, "dampening"),
    ("SGD weight_decay<0", _sgd(weight_decay=-1e-4), ValueError, "weight_decay"),
    ("SGD nesterov without momentum", _sgd(nesterov=True), ValueError, "nesterov"),
    ("SGD nesterov=str", _sgd(momentum=0.9, nesterov="yes"), TypeError, "nesterov"),
    ("SGD penalty=str", _sgd(penalty="l1"), TypeError, "penalty"),
    ("Adam betas[0]=1", lambda: optim.Adam([W.copy()], betas=(1.0, 0.999)), ValueError, "betas[0]"),
    ("Adam betas[1]<0", lambda: optim.Adam([W.copy()], betas=(0.9, -0.1)), ValueError, "betas[1]"),
    ("Adam betas[1]=nan",
     lambda: optim.Adam([W.copy()], betas=(0.9, math.nan)), ValueError, "betas[1]"),
    ("Adam betas length", lambda: optim.Adam([W.copy()], betas=(0.9,)), TypeError, "betas"),
    ("Adam betas=str", lambda: optim.Adam([W.copy()], betas="ab"), TypeError, "betas"),
    ("Adam eps<0", lambda: optim.Adam([W.copy()], eps=-1e-8), ValueError, "eps"),
    ("Adam amsgrad=int", lambda: optim.Adam([W.copy()], amsgrad=1), TypeError, "amsgrad"),
    ("AdamW weight_decay=nan",
     lambda: optim.AdamW([W.copy()], weight_decay=math.nan), ValueError, "weight_decay"),
    ("AdamW betas[0]>1", lambda: optim.AdamW([W.copy()], betas=(1.5, 0.9)), ValueError, "betas[0]"),
    ("RMSprop alpha<0", lambda: optim.RMSprop([W.copy()], alpha=-0.5), ValueError, "alpha"),
    ("RMSprop momentum<0", lambda: optim.RMSprop([W.copy()], momentum=-1), ValueError, "momentum"),
    ("Adagrad lr_decay<0", lambda: optim.Adagrad([W.copy()], lr_decay=-1), ValueError, "lr_decay"),
    ("Adagrad initial_accumulator_value<0",
     lambda: optim.Adagrad([W.copy()], initial_accumulator_value=-1), ValueError,
     "initial_accumulator_value"),
    ("FTRL alpha missing", lambda: optim.FTRL([W.copy()]), ValueError, "alpha"),
    ("FTRL alpha<0", lambda: optim.FTRL([W.copy()], alpha=-1), ValueError, "alpha"),
    ("FTRL beta<0", lambda: optim.FTRL([W.copy()], alpha=0.1, beta=-1), ValueError, "beta"),
    ("FTRL l1=nan", lambda: optim.FTRL([W.copy()], alpha=0.1, l1=math.nan), ValueError, "l1"),
    ("FTRL l2<0", lambda: optim.FTRL([W.copy()], alpha=0.1, l2=-1), ValueError, "l2"),
    # optimizers: params
    ("params empty", lambda: optim.SGD([], lr=0.1), ValueError, "parameter list"),
    ("params one ndarray", lambda: optim.SGD(W.copy(), lr=0.1), TypeError, "params"),
    ("params set", lambda: optim.SGD({1, 2}, lr=0.1), TypeError, "params"),
    ("params mixed", lambda: optim.SGD([W.copy(), {"params": [W.copy()]}], lr=0.1),
     TypeError, "params"),
    ("params duplicate", lambda: _duplicate_params(), ValueError, "params[1]"),
    ("param group no params", lambda: optim.SGD([{"lr": 0.1}], lr=0.1), ValueError, "params"),
    ("param group lr<0",
     lambda: optim.SGD([{"params": [W.copy()], "lr": -1.0}], lr=0.1), ValueError, "lr"),
    # optimizers: step
    ("step grads count", lambda: optim.SGD([W.copy()], lr=0.1).step([]), ValueError, "gradients"),
    ("step grads ndarray", lambda: optim.SGD([W.copy()], lr=0.1).step(np.ones(9)), TypeError,
     "grads"),
    ("step grads shape",
     lambda: optim.SGD([W.copy()], lr=0.1).step([np.ones(8)]), ValueError, "grads[0]"),
    ("step grads dtype",
     lambda: optim.SGD([W.copy()], lr=0.1).step([np.ones(9, np.float32)]), TypeError,
     "grads[0]"),
    ("step grads overlap", lambda: _overlapping_grad(), ValueError, "grads[0]"),
    ("step second grad bad", lambda: _second_grad_bad(), ValueError, "grads[1]"),
    ("step lr=nan set in the group", _step_with_group("lr", math.nan), ValueError, "lr"),
    ("step betas set in the group", _step_with_group("betas", (0.9, 1.0)), ValueError, "betas[1]"),
    ("step penalty set in the group", _step_with_group("penalty", 0.1), TypeError, "penalty"),
    ("GroupL2 does not fit", lambda: optim.SGD([W.copy()], lr=0.1, penalty=lkreg.GroupL2(
        0.1, axis=1)).step([W.copy()]), ValueError, "params[0]"),
    ("load_state_dict not a dict",
     lambda: optim.Adam([W.copy()]).load_state_dict([1]), TypeError, "state_dict"),
    ("load_state_dict wrong shape", lambda: _load_wrong_shape(), ValueError, "state[0]"),
    # configuration
    ("threads 0", lambda: lkreg.set_num_threads(0), ValueError, "n"),
    ("threads<0", lambda: lkreg.set_num_threads(-2), ValueError, "n"),
    ("threads float", lambda: lkreg.set_num_threads(2.0), TypeError, "n"),
    ("threads bool", lambda: lkreg.set_num_threads(True), TypeError, "n"),
    ("threads str", lambda: lkreg.set_num_threads("2"), TypeError, "n"),
    # learning-rate schedulers
    ("StepLR step_size 0",
     lambda: optim.StepLR(optim.SGD([W.copy()], lr=0.1), step_size=0), ValueError, "step_size"),
    ("ExponentialLR gamma=nan",
     lambda: optim.ExponentialLR(optim.SGD([W.copy()], lr=0.1), gamma=math.nan), ValueError,
     "gamma"),
    ("CosineAnnealingLR T_max=0",
     lambda: optim.CosineAnnealingLR(optim.SGD([W.copy()], lr=0.1), T_max=0), ValueError,
     "T_max"),
    ("scheduler not an optimizer", lambda: optim.StepLR(object(), step_size=1), TypeError,
     "optimizer"),
]


def _layer_backward_mismatch() -> None:
    layer = lkreg.Dropout(0.5, seed=1)
    layer.forward(np.ones(4))
    layer.backward(np.ones(5))


def _duplicate_params() -> None:
    w = W.copy()
    optim.SGD([w, w], lr=0.1)


def _second_grad_bad() -> None:
    """Every gradient is checked before any parameter changes."""
    a, b = W.copy(), W.copy()
    try:
        optim.Adam([a, b], lr=0.1).step([np.ones_like(a), np.ones(3)])
    finally:
        np.testing.assert_array_equal(a, W)
        np.testing.assert_array_equal(b, W)


def _overlapping_grad() -> None:
    buf = np.linspace(-1, 1, 10)
    optim.SGD([buf[:9]], lr=0.1, momentum=0.9).step([buf[1:]])


def _load_wrong_shape() -> None:
    w = W.copy()
    opt = optim.Adam([w])
    opt.step([np.ones_like(w)])
    state = opt.state_dict()
    state["state"][0]["exp_avg"] = np.zeros(3)
    optim.Adam([W.copy()]).load_state_dict(state)


@pytest.mark.parametrize("case_id, make, exc, name", SCALAR_CASES, ids=[c[0] for c in SCALAR_CASES])
def test_bad_scalar_is_an_error_naming_it(case_id, make, exc, name, restore_threads):
    with pytest.raises(exc, match=rf"(?<![\w\[]){re.escape(name)}(?![\w\]])"):
        make()


def test_scalar_cases_leave_the_module_level_weights_untouched():
    np.testing.assert_array_equal(W, np.linspace(-1, 1, 9))


def test_the_matrix_covers_every_public_entry_point():
    """A new public function must join the matrix (a Call row or a scalar case)."""
    covered = {c.id.split("(")[0].split(".")[0] for c in CALLS} | {
        "philox4x32_10", "dropout_mask", "set_num_threads", "get_num_threads", "show_config",
        "Penalty", "Lk", "L1", "L2", "ElasticNet", "L0", "GroupL2", "__version__", "optim",
    }
    missing = set(lkreg.__all__) - covered
    assert not missing, f"public names without rows in the bad-input matrix: {sorted(missing)}"
