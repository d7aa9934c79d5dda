"""No reference or memory leaks: every public call, and its error paths, many times over.

Each case is one call, or a call that must raise a given exception. Three checks:

- tracemalloc (Python objects, and NumPy's array data, which NumPy reports to it): after a
  warm-up, the traced memory after 1000 more calls on 1024-element arrays is within 8 KiB of
  before (the slack is bounded noise: caches and free lists that do not grow with the calls).
  One leaked Python object per call (16 bytes or more) or one leaked result array would show.
- ``sys.getrefcount`` of every array a case touches is unchanged, after errors too.
- RSS (``/proc/self/statm``, which also sees C++ allocations that tracemalloc does not): 2500
  calls over all cases on 1 MB float32 arrays grow it by less than 20 MB (one leaked array per
  call would be 2.5 GB), and 50 000 calls on 16-element arrays by less than 2 MB (a leaked
  C++ allocation of 100 bytes per call would be about 5 MB).
"""

from __future__ import annotations

import gc
import os
import sys
import tracemalloc

import numpy as np
import pytest

import lkreg
from lkreg import _core, optim

N = 2**18  # 1 MB of float32


def _raises(exc, fn, *args, **kwargs):
    """Call fn, which must raise exc (exactly that family); return nothing."""
    try:
        fn(*args, **kwargs)
    except exc:
        return
    raise AssertionError(f"{fn} did not raise {exc.__name__}")


def _err(exc, fn, *args, **kwargs):
    """A case: the call fn(*args, **kwargs), which must raise exc."""
    return lambda: _raises(exc, fn, *args, **kwargs)


def _make_cases(n):
    """(arrays, cases): the arrays the cases use, and name -> zero-argument call."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(np.float32)
    a = {
        "x": x,
        "out": np.empty_like(x),
        "g": np.zeros_like(x),
        "t": np.abs(rng.standard_normal(n)).astype(np.float32),
        "x2d": x.reshape(-1, 16),
        "ids": np.arange(n, dtype=np.int64) % 7,
        "ints": np.arange(n, dtype=np.int32),
        "halves": x.astype(np.float16),
        "doubles": x.astype(np.float64),
        "readonly": np.empty_like(x),
        "big": np.empty(n + 1, np.float32),
        "mask": np.ones(n, bool),
        "packed": lkreg.dropout_mask(n, 0.5, seed=3, packed=True),
        "counter": np.arange(4 * 64, dtype=np.uint32).reshape(-1, 4),
        "key": np.array([1, 2], np.uint32),
        "p": x.copy(),
        "p_ftrl": x.copy(),
        "p_lk": x.copy(),
        "strided": np.repeat(x, 2)[::2],
    }
    a["readonly"].flags.writeable = False
    a["shifted"] = a["big"][1:]  # partially overlaps a["big"][:-1]
    a["unshifted"] = a["big"][:-1]
    a["unshifted"][:] = x
    x, out, g, t = a["x"], a["out"], a["g"], a["t"]

    adamw = optim.AdamW([a["p"]], lr=1e-3, amsgrad=True, penalty=lkreg.L1(1e-4))
    ftrl = optim.FTRL([a["p_ftrl"]], alpha=0.1, l1=1e-3)
    sgd_lk = optim.SGD([a["p_lk"]], lr=1e-3, momentum=0.9, penalty=lkreg.Lk(1.5, 1e-4))
    for opt in (adamw, ftrl, sgd_lk):
        opt.step([x])  # the state exists before the loops
    saved = adamw.state_dict()

    def round_trip():
        adamw.step([x])
        adamw.load_state_dict(adamw.state_dict())

    penalties = {
        "L1": lkreg.L1(0.5),
        "L2": lkreg.L2(0.5),
        "Lk(1.5)": lkreg.Lk(1.5, 0.5),
        "Lk(0.5)": lkreg.Lk(0.5, 0.5),
        "ElasticNet": lkreg.ElasticNet(0.1, 0.2),
        "L0": lkreg.L0(0.5),
        "GroupL2(axis)": lkreg.GroupL2(0.5, axis=1),
        "GroupL2(groups)": lkreg.GroupL2(0.5, groups=a["ids"]),
    }
    cases = {}
    for name, pen in penalties.items():
        w = a["x2d"] if name == "GroupL2(axis)" else x
        o = out.reshape(w.shape)
        gg = g.reshape(w.shape)
        cases.update({
            f"{name}.value": lambda pen=pen, w=w: pen.value(w),
            f"{name}.grad": lambda pen=pen, w=w: pen.grad(w),
            f"{name}.grad(out)": lambda pen=pen, w=w, o=o: pen.grad(w, out=o),
            f"{name}.value_and_grad": lambda pen=pen, w=w: pen.value_and_grad(w),
            f"{name}.add_grad": lambda pen=pen, w=w, gg=gg: pen.add_grad(w, gg),
            f"{name}.prox": lambda pen=pen, w=w: pen.prox(w, 0.1),
            f"{name}.prox(out)": lambda pen=pen, w=w, o=o: pen.prox(w, 0.1, out=o),
            # error paths, in C++ (dtype, read-only, overlap) and in Python (bad step)
            f"{name}.value(int) raises": _err(TypeError, pen.value, a["ints"].reshape(w.shape)),
            f"{name}.grad(out read-only) raises":
                _err(ValueError, pen.grad, w, out=a["readonly"].reshape(w.shape)),
            f"{name}.prox(step=-1) raises": _err(ValueError, pen.prox, w, -1.0),
        })
    cases.update({
        "Lk(1.5).value(strided)": lambda: penalties["Lk(1.5)"].value(a["strided"]),
        "Lk(1.5).value(float16) raises": _err(TypeError, penalties["Lk(1.5)"].value, a["halves"]),
        "L1.grad(partial overlap) raises":
            _err(ValueError, penalties["L1"].grad, a["unshifted"], out=a["shifted"]),
        "L2.add_grad(float64 g) raises":
            _err(ValueError, penalties["L2"].add_grad, x, a["doubles"]),
        "Lk(k=0) raises": _err(ValueError, lkreg.Lk, 0.0),
        "soft_threshold": lambda: lkreg.soft_threshold(x, 0.3),
        "soft_threshold(out)": lambda: lkreg.soft_threshold(x, 0.3, out=out),
        "soft_threshold(array t)": lambda: lkreg.soft_threshold(x, t, out=out),
        "soft_threshold(list)": lambda: lkreg.soft_threshold([1.0, -2.0, 0.5], 0.3),
        "soft_threshold(int) raises": _err(TypeError, lkreg.soft_threshold, a["ints"], 0.3),
        "soft_threshold(t=-1) raises": _err(ValueError, lkreg.soft_threshold, x, -1.0),
        "soft_threshold(t wrong shape) raises":
            _err(ValueError, lkreg.soft_threshold, x, t[:-1]),
        "soft_threshold(out partial overlap) raises":
            _err(ValueError, lkreg.soft_threshold, a["unshifted"], 0.1, out=a["shifted"]),
        "hard_threshold": lambda: lkreg.hard_threshold(x, 0.3),
        "hard_threshold(out=read-only) raises":
            _err(ValueError, lkreg.hard_threshold, x, 0.3, out=a["readonly"]),
        "weight_decay": lambda: lkreg.weight_decay(x, 0.1),
        "weight_decay(in place)": lambda: lkreg.weight_decay(out, 0.0, out=out),
        "weight_decay(nan) raises": _err(ValueError, lkreg.weight_decay, x, float("nan")),
        "weight_decay(out float64) raises":
            _err(ValueError, lkreg.weight_decay, x, 0.1, out=a["doubles"]),
        "dropout": lambda: lkreg.dropout(x, 0.5, seed=1),
        "dropout(return_mask)": lambda: lkreg.dropout(x, 0.5, seed=1, offset=5, return_mask=True),
        "dropout(out)": lambda: lkreg.dropout(x, 0.5, seed=1, out=out),
        "dropout(p=1) raises": _err(ValueError, lkreg.dropout, x, 1.0, seed=1),
        "dropout(int) raises": _err(TypeError, lkreg.dropout, a["ints"], 0.5, seed=1),
        "dropout(offset overflow) raises":
            _err(ValueError, lkreg.dropout, x, 0.5, seed=1, offset=2**64 - 2),
        "dropout(seed=-1) raises": _err(ValueError, lkreg.dropout, x, 0.5, seed=-1),
        "dropout(out read-only) raises":
            _err(ValueError, lkreg.dropout, x, 0.5, seed=1, out=a["readonly"]),
        "dropout_mask": lambda: lkreg.dropout_mask(x.shape, 0.5, seed=2),
        "dropout_mask(packed)": lambda: lkreg.dropout_mask(n, 0.5, seed=2, packed=True),
        "dropout_mask(bad shape) raises":
            _err(ValueError, lkreg.dropout_mask, (-1, 2), 0.5, seed=2),
        "dropout_backward(bool)": lambda: lkreg.dropout_backward(x, a["mask"], 0.5),
        "dropout_backward(packed)": lambda: lkreg.dropout_backward(x, a["packed"], 0.5, out=out),
        "dropout_backward(short mask) raises":
            _err(ValueError, lkreg.dropout_backward, x, a["packed"][:-1], 0.5),
        "alpha_dropout": lambda: lkreg.alpha_dropout(x, 0.2, seed=3),
        "drop_connect": lambda: lkreg.drop_connect(x, 0.2, seed=3),
        "Dropout layer": lambda: lkreg.Dropout(0.3, seed=4).forward(x),
        "philox4x32_10": lambda: lkreg.philox4x32_10(a["counter"], a["key"]),
        "philox4x32_10(int64) raises":
            _err(TypeError, lkreg.philox4x32_10, a["counter"].astype(np.int64), a["key"]),
        "philox4x32_10(bad shape) raises":
            _err(ValueError, lkreg.philox4x32_10, a["counter"][:, :3], a["key"]),
        "AdamW.step": lambda: adamw.step([x]),
        "FTRL.step": lambda: ftrl.step([x]),
        "SGD(Lk prox).step": lambda: sgd_lk.step([x]),
        "AdamW.state_dict round trip": round_trip,
        "AdamW.load_state_dict(saved)": lambda: adamw.load_state_dict(saved),
        "AdamW.step(wrong shape) raises": _err(ValueError, adamw.step, [x[:-1]]),
        "AdamW.step(float64) raises": _err(TypeError, adamw.step, [a["doubles"]]),
        "AdamW.step(two grads) raises": _err(ValueError, adamw.step, [x, x]),
        "AdamW(lr=nan) raises": _err(ValueError, optim.AdamW, [a["p"]], lr=float("nan")),
        # the compiled module's own checks, past the Python layer
        "_core.penalty_value(list) raises":
            _err(TypeError, _core.penalty_value, lkreg.L1(1.0).description(3), [1.0, 2.0, 3.0]),
        "_core.sgd_step(read-only) raises":
            _err(ValueError, _core.sgd_step, [a["readonly"]], [x], None, None, 0.1, 0.0, 0.0,
                 0.0, False),
        "_core.adam_step(state overlaps) raises":
            _err(ValueError, _core.adam_step, [out], [x], [out], [g], None, [1], 0.1, 0.9, 0.99,
                 1e-8, 0.0, False),
        "_core.dropout(offset + size > 2**64) raises":
            _err(ValueError, _core.dropout, x, 0.5, 0, 0, 2**64 - 1, None, False),
        "_core.soft_threshold(float64 t array) raises":
            _err(ValueError, _core.soft_threshold, x, a["doubles"], None),
    })
    return a, cases


ARRAYS, CASES = _make_cases(N)
SMALL_ARRAYS, SMALL_CASES = _make_cases(1024)


def _refcounts(arrays):
    return {name: sys.getrefcount(arr) for name, arr in arrays.items()}


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Leaks are in the bindings and the Python layer, not in how many threads run a kernel;
    one thread keeps the run short on a loaded machine."""
    before = lkreg.get_num_threads()
    lkreg.set_num_threads(1)
    yield
    lkreg.set_num_threads(before)


@pytest.fixture(scope="module")
def traced():
    gc.collect()
    tracemalloc.start()
    yield
    tracemalloc.stop()


@pytest.mark.parametrize("name", list(CASES))
def test_no_leak_per_call(name, traced):
    call = SMALL_CASES[name]
    for _ in range(500):  # warm-up: caches, free lists, first-use allocations (a C++ error
        # raised through the optimizer's frames fills CPython's caches for about 300 calls)
        call()
    gc.collect()
    refs = _refcounts(SMALL_ARRAYS)
    # A leak of one object (16 bytes or more) per call grows every round; a cache still filling (CPython's
    # for exceptions raised through several frames takes a few thousand calls) stops growing.
    rounds = []
    for _ in range(3):
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):
            call()
        gc.collect()
        rounds.append(tracemalloc.get_traced_memory()[0] - before)
        if rounds[-1] < 8 * 1024:
            break
    assert _refcounts(SMALL_ARRAYS) == refs
    assert rounds[-1] < 8 * 1024, f"{rounds} bytes more traced in successive rounds of 1000 calls"


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
def test_rss_stays_flat_on_megabyte_arrays():
    for call in CASES.values():
        call()
    gc.collect()
    refs = _refcounts(ARRAYS)
    before = _rss()
    calls = 0
    while calls < 2500:
        for call in CASES.values():
            call()
            calls += 1
    gc.collect()
    grown = _rss() - before
    assert _refcounts(ARRAYS) == refs
    print(f"RSS grew by {grown / 2**20:.2f} MB over {calls} calls on 1 MB arrays")
    assert grown < 20 * 2**20, f"RSS grew by {grown / 2**20:.1f} MB over {calls} calls"


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
def test_rss_stays_flat_on_small_arrays():
    arrays, cases = _make_cases(16)
    for call in cases.values():
        call()
    gc.collect()
    before = _rss()
    rounds = 50_000 // len(cases) + 1
    for call in cases.values():
        for _ in range(rounds):
            call()
    gc.collect()
    grown = _rss() - before
    calls = rounds * len(cases)
    print(f"RSS grew by {grown / 2**20:.2f} MB over {calls} calls on 16 elements")
    assert grown < 2 * 2**20, f"RSS grew by {grown / 2**20:.1f} MB over {calls} calls"
