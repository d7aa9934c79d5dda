"""Bit-identical results for any thread count, and at every SIMD level where that is promised
or exact by construction: one table of every public array-producing call, run at sizes on both
sides of the parallel thresholds.

docs/architecture.md, "The kernel contract": element-wise results are bit-identical for any thread count; reductions
add fixed blocks in a fixed order, so values are too. Section 5: the dropout mask does not
depend on threads or the SIMD level. cpp/src/parallel.hpp sets the thresholds: kernels go
parallel from kParallelMinCompute = 2**12 elements (pow), cpp/src/dropout.cpp's
kMinParallelDraw = 2**13 (Philox; it counts 4 elements per counter), kParallelMinStreaming =
2**15 (memory-bound kernels), and reductions add blocks of kReductionBlock = 2**14; chunks start
at multiples of 64. SIZES has each threshold - 1 and + 1, 3 blocks + 5 and one large size.

Across SIMD levels the table asserts identical bits only for the calls marked ``simd``:
- PROMISED: the dropout family (mask, dropout, DropConnect, backward, alpha dropout, the layer,
  Philox): docs/architecture.md, "The random-number scheme", and alpha dropout's kernel is written to avoid FMA contraction.
- EXACT: correctly rounded operations with nothing for the compiler to contract into an FMA
  (thresholds, weight decay, the L1/L2/L0 and k = 1/2, 3/2, 3 gradients, the L1/L2/L0/
  ElasticNet/Lk(3/2) proxes, L0's value: lam times a count), or baseline-only driver code
  (GroupL2's group sums and scaling): the vector width cannot change the bits.
The other calls are not promised to agree across SIMD levels and do not: penalty values are
summed in lane order (2, 4 or 8 doubles per vector), and a * b + c contracts into an FMA at
avx2/avx512 (the L2/Lk(3)/pow add_grad, ElasticNet's gradient, the pow gradients, the Newton
proxes, every optimizer step).
Those are checked against their references at every level by tests/test_penalties.py,
tests/test_prox.py, tests/test_optim.py and tests/test_properties.py instead.

What other modules already cover at 2**20 + 3 (and so is skipped here at that size; the sizes
around the thresholds, which none of them use, are all run here):
- tests/test_penalties.py::test_bit_identical_for_one_and_two_threads: value, grad,
  value_and_grad and add_grad of L1, L2, Lk (0.5, 1.5, 3, 0.3, 2.7, 10), ElasticNet, L0, at
  every SIMD level, 1 vs 2 threads;
- tests/test_prox.py::test_bit_identical_across_threads_and_simd_levels: soft_threshold
  (scalar and array t), hard_threshold (scalar t), weight_decay, ElasticNet.prox, Lk.prox for
  k = 0.5, 2/3, 1.5, 2.7, 0.3;
- tests/test_dropout.py::test_identical_for_one_and_two_threads: dropout_mask (bool, packed),
  dropout, alpha_dropout, dropout_backward (bool and packed masks).
- tests/test_optim.py::test_bit_identical_for_any_thread_count runs every optimizer with no
  penalty, L1, L0, L2 and Lk(2.5) at 2**17 + 3 for 1, 2 and 3 threads; the table here adds the
  penalties it does not use (ElasticNet fused, Lk(1.5) fused gradient, Lk(0.5) and GroupL2 as
  a prox after the step) at the threshold sizes, up to 3 * 2**14 + 5 (three chunks).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest

import lkreg
from lkreg import L0, L1, L2, ElasticNet, GroupL2, Lk, _core
from lkreg.optim import FTRL, SGD, Adagrad, Adam, AdamW, RMSprop

from helpers import DTYPES, SIMD_LEVELS, random_weights

COMPUTE_MIN, DRAW_MIN, REDUCTION_BLOCK, STREAMING_MIN = 2**12, 2**13, 2**14, 2**15
LARGE = 2**20 + 3
SIZES = [
    COMPUTE_MIN - 1,
    COMPUTE_MIN + 1,
    DRAW_MIN - 1,
    DRAW_MIN + 1,
    REDUCTION_BLOCK + 1,
    STREAMING_MIN - 1,
    STREAMING_MIN + 1,
    3 * REDUCTION_BLOCK + 5,
    LARGE,
]
THREADS = (1, 2, 3)
THREADS_LARGE = (1, 2)

PROMISED, EXACT = "promised", "exact"


@dataclass(frozen=True)
class Call:
    name: str
    run: Callable[["Inputs"], Any]
    simd: str = ""  # PROMISED or EXACT: the same bits at every SIMD level are asserted
    covered_large: str = ""  # the test that already checks this call at LARGE


@dataclass(frozen=True)
class Inputs:
    x: np.ndarray  # weights: a spread of magnitudes, +-0, subnormals
    t: np.ndarray  # thresholds >= 0 of x's shape
    g: np.ndarray  # a second array (upstream gradient, accumulator)
    steps: tuple  # three gradients for the optimizers


@functools.lru_cache(maxsize=4)
def inputs(n: int, dtype) -> Inputs:
    x = random_weights(n, dtype)
    rng = np.random.default_rng(n)
    if n:  # signed zeros and subnormals among ordinary values (all finite: sums stay finite)
        fi = np.finfo(dtype)
        x[rng.integers(0, n, max(1, n // 97))] = -0.0
        x[rng.integers(0, n, max(1, n // 89))] = fi.smallest_subnormal * 3
        x[rng.integers(0, n, max(1, n // 83))] = -fi.smallest_normal / 2
    t = np.abs(random_weights(n, dtype, seed=3))
    g = random_weights(n, dtype, seed=2, zeros=False)
    steps = tuple(random_weights(n, dtype, seed=10 + s, zeros=False) for s in range(3))
    for a in (x, t, g, *steps):  # shared between calls: none may write to them
        a.setflags(write=False)
    return Inputs(x, t, g, steps)


# ---------------------------------------------------------------------------------------------
# The table

PENALTY_TESTS = "test_penalties.py::test_bit_identical_for_one_and_two_threads"
# every optimizer at 2**17 + 3 (more elements than any threshold) for 1, 2 and 3 threads; the
# step kernels split like every element-wise kernel, which 3 * 2**14 + 5 here already splits
# into three chunks
OPTIM_TESTS = "test_optim.py::test_bit_identical_for_any_thread_count"
PROX_TESTS = "test_prox.py::test_bit_identical_across_threads_and_simd_levels"
DROPOUT_TESTS = "test_dropout.py::test_identical_for_one_and_two_threads"
DRAW = dict(seed=2**40 + 3, stream=5, offset=2**35 + 6)


def elementwise_calls():
    return [
        Call("soft_threshold", lambda i: lkreg.soft_threshold(i.x, 0.3), EXACT, PROX_TESTS),
        Call("soft_threshold[t array]", lambda i: lkreg.soft_threshold(i.x, i.t), EXACT,
             PROX_TESTS),
        Call("soft_threshold[in place]", lambda i: _in_place(lkreg.soft_threshold, i.x, 0.3), EXACT,
             PROX_TESTS),
        Call("hard_threshold", lambda i: lkreg.hard_threshold(i.x, 0.3), EXACT, PROX_TESTS),
        Call("hard_threshold[t array]", lambda i: lkreg.hard_threshold(i.x, i.t), EXACT),
        Call("weight_decay", lambda i: lkreg.weight_decay(i.x, 0.01), EXACT, PROX_TESTS),
        Call("weight_decay[in place]", lambda i: _in_place(lkreg.weight_decay, i.x, 0.01), EXACT),
    ]


def _in_place(fn, x, *args):
    y = x.copy()
    assert fn(y, *args, out=y) is y
    return y


# (penalty, the methods whose bits are the same at every SIMD level by construction, the test
# that covers its prox at LARGE). By construction: no a * b + c for the compiler to contract
# into an FMA (a select, a product, a sqrt or a division per element, or g + one of those);
# Lk(1.5).prox's b**2 + 4 a is exact either way (4 a is exact). Not: values (lane-order sums),
# pow gradients, g + c * w (L2, Lk(3) add_grad), ElasticNet's l1 sign(w) + 2 l2 w, and the
# Newton iterations and 1 + 12 tau a of the other proxes.
PRODUCTS = {"grad", "add_grad"}
PENALTIES = [
    (L1(0.3), PRODUCTS | {"prox"}, ""),
    (L2(0.7), {"grad", "prox"}, ""),
    (Lk(0.5, 0.2), PRODUCTS, PROX_TESTS),
    (Lk(2 / 3, 0.2), set(), PROX_TESTS),
    (Lk(1.5, 0.4), PRODUCTS | {"prox"}, PROX_TESTS),
    (Lk(3, 0.1), {"grad"}, ""),
    (Lk(2.5, 0.3), set(), PROX_TESTS + " (k = 2.7, the same Newton)"),
    (Lk(0.3, 0.2), set(), PROX_TESTS),
    (ElasticNet(0.2, 0.5), {"prox"}, PROX_TESTS),
    (L0(0.25), {"value", "value_and_grad"} | PRODUCTS | {"prox"}, ""),  # value: lam * a count
    (Lk(1.5, 0.4, reduction="mean"), PRODUCTS | {"prox"}, ""),
    (ElasticNet(0.2, 0.5, reduction="mean"), {"prox"}, ""),
]


def penalty_calls():
    calls = []
    for pen, exact, prox_large in PENALTIES:
        methods = {
            "value": lambda i, p=pen: p.value(i.x),
            "grad": lambda i, p=pen: p.grad(i.x),
            "value_and_grad": lambda i, p=pen: p.value_and_grad(i.x),
            "add_grad": lambda i, p=pen: p.add_grad(i.x, i.g.copy()),
            "prox": lambda i, p=pen: p.prox(i.x, 0.7),
        }
        for method, run in methods.items():
            covered = prox_large if method == "prox" else PENALTY_TESTS
            calls.append(Call(f"{pen!r}.{method}", run, EXACT if method in exact else "", covered))
    return calls


def _rows(x, d):
    """x's first n - n % d elements as rows of d (groups along axis 1)."""
    return x[: x.size - x.size % d].reshape(-1, d)


GROUP_PENALTIES = [
    # many small groups: parallel over the rows from 2**15 / 7 of them
    ("GroupL2(axis=1, 7 per row)", GroupL2(0.5, axis=1), lambda x: _rows(x, 7)),
    # few large groups: one group per row of n / 4 (min_parallel_outer == 1 above 2**15 each)
    ("GroupL2(axis=1, 4 rows)", GroupL2(0.5, axis=1), lambda x: _rows(x, max(1, x.size // 4))),
    # groups along axis 0 (inner stride 5)
    ("GroupL2(axis=0)", GroupL2(0.5, axis=0), lambda x: _rows(x, 5)),
]


def group_calls():
    calls = []
    for name, pen, shape in GROUP_PENALTIES:
        calls += [
            Call(f"{name}.value", lambda i, p=pen, s=shape: p.value(s(i.x)), EXACT),
            Call(f"{name}.grad", lambda i, p=pen, s=shape: p.grad(s(i.x)), EXACT),
            Call(f"{name}.value_and_grad",
                 lambda i, p=pen, s=shape: p.value_and_grad(s(i.x)), EXACT),
            Call(f"{name}.add_grad",
                 lambda i, p=pen, s=shape: p.add_grad(s(i.x), s(i.g).copy()), EXACT),
            Call(f"{name}.prox", lambda i, p=pen, s=shape: p.prox(s(i.x), 0.7), EXACT),
        ]

    def by_ids(i):  # groups of 3 consecutive elements, by id
        ids = np.arange(i.x.size) // 3
        pen = GroupL2(0.5, groups=ids)
        return pen.value(i.x), pen.grad(i.x), pen.prox(i.x, 0.7)

    calls.append(Call("GroupL2(groups=ids)", by_ids, EXACT))
    return calls


def dropout_calls():
    def layer(i):  # two batches forward and the last one's backward: offsets advance by n
        lay = lkreg.Dropout(0.3, seed=11, stream=2)
        y1 = lay.forward(i.x)
        y2 = lay(i.x)
        return y1, y2, lay.backward(i.g), lay.offset

    def philox(i):
        counters = np.arange(4 * (i.x.size // 4), dtype=np.uint32).reshape(-1, 4)
        counters[:, 2] = 7  # a stream
        return lkreg.philox4x32_10(counters, np.array([3, 2**31 + 5], np.uint32))

    def backward(i, packed):
        _, mask = lkreg.dropout(i.x, 0.4, return_mask=True, **DRAW)
        stored = np.packbits(mask, bitorder="little") if packed else mask
        return lkreg.dropout_backward(i.g, stored, 0.4)

    return [
        Call("dropout_mask", lambda i: lkreg.dropout_mask(i.x.size, 0.4, **DRAW), PROMISED,
             DROPOUT_TESTS),
        Call("dropout_mask[packed]",
             lambda i: lkreg.dropout_mask(i.x.size, 0.4, packed=True, **DRAW), PROMISED,
             DROPOUT_TESTS),
        Call("dropout[return_mask]", lambda i: lkreg.dropout(i.x, 0.4, return_mask=True, **DRAW),
             PROMISED, DROPOUT_TESTS),
        Call("dropout[in place]", lambda i: _dropout_in_place(i.x), PROMISED),
        Call("alpha_dropout", lambda i: lkreg.alpha_dropout(i.x, 0.4, **DRAW), PROMISED,
             DROPOUT_TESTS),
        Call("drop_connect", lambda i: lkreg.drop_connect(i.x, 0.25, seed=6, stream=1, offset=9),
             PROMISED),
        Call("dropout_backward[bool mask]", lambda i: backward(i, False), PROMISED, DROPOUT_TESTS),
        Call("dropout_backward[packed mask]", lambda i: backward(i, True), PROMISED, DROPOUT_TESTS),
        Call("Dropout layer", layer, PROMISED),
        Call("philox4x32_10", philox, PROMISED),
    ]


def _dropout_in_place(x):
    y = x.copy()
    assert lkreg.dropout(y, 0.4, out=y, **DRAW) is y
    return y


OPTIMIZERS = [
    (SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    (AdamW, dict(lr=0.01)),
    (RMSprop, dict(lr=0.01, centered=True, momentum=0.5)),
    (Adagrad, dict(lr=0.1, lr_decay=0.01)),
    (FTRL, dict(alpha=0.5, l1=0.01, l2=0.01)),
]
# penalties test_optim.py's thread test does not use: fused soft-threshold with a scale, a fused
# sqrt gradient, and two proxes applied after the step
OPTIMIZER_PENALTIES = [ElasticNet(1e-3, 1e-2), Lk(1.5, 1e-2), Lk(0.5, 1e-3), "GroupL2"]


def optimizer_calls():
    calls = []
    for cls, config in OPTIMIZERS:
        for pen in OPTIMIZER_PENALTIES:
            if cls is FTRL and (pen == "GroupL2" or (isinstance(pen, Lk) and pen.k < 1)):
                continue  # FTRL takes smooth penalties and ElasticNet only

            def run(i, cls=cls, config=config, pen=pen):
                shape = (lambda a: _rows(a, 8)) if pen == "GroupL2" else (lambda a: a)
                param = shape(i.x).copy()
                penalty = GroupL2(1e-3, axis=1) if pen == "GroupL2" else pen
                opt = cls([param], penalty=penalty, **config)
                for grad in i.steps:
                    opt.step([shape(grad)])
                state = opt.state_dict()["state"][0]
                return (param, *(v for _, v in sorted(state.items()) if isinstance(v, np.ndarray)))

            name = "GroupL2(axis=1)" if pen == "GroupL2" else repr(pen)
            calls.append(Call(f"{cls.__name__}(penalty={name})", run, covered_large=OPTIM_TESTS))
    return calls


CALLS = elementwise_calls() + penalty_calls() + group_calls() + dropout_calls() + optimizer_calls()


# ---------------------------------------------------------------------------------------------
# Running and comparing


def fingerprint(result):
    """Exact bytes of a result: arrays by dtype, shape and bits (NaN payload included), floats
    by their 64 bits, ints as they are."""
    if isinstance(result, tuple):
        return tuple(fingerprint(r) for r in result)
    if isinstance(result, float):
        return ("float", np.float64(result).tobytes())
    if isinstance(result, (int, np.integer)):
        return ("int", int(result))
    a = np.asarray(result)
    return (str(a.dtype), a.shape, np.ascontiguousarray(a).tobytes())


def describe(a, b):
    """Where two fingerprints differ, for the failure message."""
    if isinstance(a, tuple) and a and isinstance(a[0], tuple):
        for k, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return f"output {k}: " + describe(x, y)
    if a[0] == "float":
        return f"{float(np.frombuffer(a[1])[0])!r} != {float(np.frombuffer(b[1])[0])!r}"
    if a[0] == "int" or a[:2] != b[:2]:
        return f"{a[:2]} != {b[:2]}"
    x, y = np.frombuffer(a[2], a[0]), np.frombuffer(b[2], b[0])
    i = np.flatnonzero(x.view(np.uint8 if x.dtype.itemsize == 1 else f"u{x.dtype.itemsize}")
                       != y.view(np.uint8 if y.dtype.itemsize == 1 else f"u{y.dtype.itemsize}"))
    return (f"{i.size} of {x.size} elements differ, first at {i[:3]}: "
            f"{x[i[:3]].tolist()} != {y[i[:3]].tolist()}")


def results_at(call: Call, i: Inputs, threads):
    """{(level, threads): fingerprint} over every SIMD level and thread count."""
    before = _core.simd_level()
    out = {}
    try:
        for level in SIMD_LEVELS:
            _core.set_simd_level(level)
            for n in threads:
                lkreg.set_num_threads(n)
                out[level, n] = fingerprint(call.run(i))
    finally:
        _core.set_simd_level(before)
    return out


XFAIL: dict = {}  # name -> reason, for a call that breaks a promise (none at present)


def _param(call):
    marks = [pytest.mark.xfail(strict=True, reason=XFAIL[call.name])] if call.name in XFAIL else []
    return pytest.param(call, id=call.name, marks=marks)


@pytest.mark.parametrize("call", [_param(c) for c in CALLS])
def test_bit_identical_across_threads_and_simd_levels(call, restore_threads):
    for dtype in DTYPES:
        for n in SIZES:
            if n == LARGE and call.covered_large:
                continue  # checked at this size by call.covered_large (module docstring)
            threads = THREADS_LARGE if n == LARGE else THREADS
            res = results_at(call, inputs(n, np.dtype(dtype).type), threads)
            where = f"{call.name}, {np.dtype(dtype).name}, n = {n}"
            for level in SIMD_LEVELS:  # any thread count: docs/architecture.md
                ref = res[level, threads[0]]
                for t in threads[1:]:
                    assert res[level, t] == ref, (
                        f"{where}: {t} threads differ from 1 at {level}: "
                        + describe(res[level, t], ref))
            if call.simd:  # every SIMD level
                ref = res[SIMD_LEVELS[0], 1]
                for level in SIMD_LEVELS[1:]:
                    assert res[level, 1] == ref, (
                        f"{where}: {level} differs from {SIMD_LEVELS[0]} ({call.simd}): "
                        + describe(res[level, 1], ref))


def test_the_table_covers_the_public_api():
    """Every public array-producing function and class of lkreg and lkreg.optim is in CALLS (a
    new one must be added to the table)."""
    names = " ".join(c.name for c in CALLS)
    public = [n for n in lkreg.__all__ if n not in ("__version__", "show_config",
                                                     "set_num_threads", "get_num_threads",
                                                     "Penalty")]
    missing = [n for n in public if n not in names]
    assert not missing, missing
    for cls in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "FTRL"):
        assert f"{cls}(penalty=" in names, cls
