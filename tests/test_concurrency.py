"""lkreg from several Python threads at once, and proof that its kernels release the GIL.

1. Eight Python threads run the same mix of kernels and optimizer steps, each on its own
   arrays (plus one shared read-only array), started together by a barrier; every result must
   have the bits of the same work done serially beforehand (on one lkreg thread), with lkreg on
   1 and on 2 threads, and while the workers themselves change the thread count.
2. The bindings release the GIL around each kernel. The proof is deterministic, not a timing:
   the switch interval is made longer than the whole experiment, so a thread that holds the GIL
   is never preempted; a second Python thread counts while it holds the GIL, and a profile hook
   on the calling thread reads that count when a ``lkreg._core`` function is entered and when
   it returns. The count can move in between only if that function let go of the GIL.
   Controls: ``sum(range(...))`` (holds the GIL) never shows a step; ``time.sleep`` always does.
   The speed-up this gives two threads is measured in ``benchmarks/test_bench_gil.py``.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import lkreg
from lkreg import _core, optim

from helpers import random_weights

needs_gil = pytest.mark.skipif(
    not getattr(sys, "_is_gil_enabled", lambda: True)(),
    reason="a free-threaded Python has no GIL to release",
)

# ---------------------------------------------------------------------------------------------
# 1. Many threads, each on its own arrays: the serial bits

WORKERS = 8
ROUNDS = 6
SHAPE = (257, 259)  # 66563 elements: above the OpenMP threshold, not a multiple of any vector
SHARED = random_weights(SHAPE[0] * SHAPE[1], np.float64, seed=99).reshape(SHAPE)
SHARED.flags.writeable = False  # every worker reads it; nobody may write it


def _digest(a) -> str:
    if isinstance(a, float):
        return a.hex()
    a = np.ascontiguousarray(a)
    return f"{a.dtype}{a.shape}:" + hashlib.blake2b(a.view(np.uint8).ravel()).hexdigest()


def _workload(worker: int, set_threads=None):
    """Everything worker ``worker`` computes, in order, as (name, digest) pairs.

    Deterministic in ``worker`` alone. ``set_threads``, when given, is called with a thread
    count before each round (the workers then change lkreg's thread count while others run).
    """
    dtype = np.float32 if worker % 2 == 0 else np.float64
    rng = np.random.default_rng(1000 + worker)
    w = random_weights(SHAPE[0] * SHAPE[1], dtype, seed=worker).reshape(SHAPE)
    t_array = np.abs(rng.standard_normal(SHAPE)).astype(dtype)
    grads = [rng.standard_normal(SHAPE).astype(dtype) for _ in range(3)]
    buf = np.empty_like(w)
    mine = np.empty_like(SHARED)

    optimizers = {
        "sgd": optim.SGD([w.copy()], lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-3),
        "adam": optim.Adam([w.copy()], lr=1e-3, amsgrad=True, penalty=lkreg.L2(1e-3)),
        "adamw-l1": optim.AdamW([{"params": [w.copy()], "penalty": lkreg.L1(1e-3)}], lr=1e-3),
        "adamw-lk": optim.AdamW([w.copy()], lr=1e-3, penalty=lkreg.Lk(1.5, 1e-3)),
        "ftrl": optim.FTRL([w.copy()], alpha=0.1, l1=1e-3, l2=1e-3),
        "rmsprop": optim.RMSprop([w.copy()], lr=1e-3, momentum=0.5, centered=True),
        "adagrad": optim.Adagrad([w.copy()], lr=1e-2, penalty=lkreg.ElasticNet(1e-3, 1e-3)),
    }
    penalties = [lkreg.L1(0.5), lkreg.L2(0.25), lkreg.Lk(1.5, 0.3), lkreg.Lk(0.5, 0.2),
                 lkreg.ElasticNet(0.1, 0.2), lkreg.L0(0.3), lkreg.GroupL2(0.4, axis=1)]
    out = []
    for r in range(ROUNDS):
        if set_threads is not None:
            set_threads(1 + (worker + r) % 2)
        x = w * (1.0 + r / 8)  # a new input each round
        out.append(("soft", _digest(lkreg.soft_threshold(x, 0.3))))
        out.append(("soft-array", _digest(lkreg.soft_threshold(x, t_array))))
        out.append(("hard", _digest(lkreg.hard_threshold(x, 0.3, out=buf))))
        out.append(("decay", _digest(lkreg.weight_decay(x, 0.01))))
        for pen in penalties:
            name = repr(pen)
            out.append((name + ".value", _digest(pen.value(x))))
            value, g = pen.value_and_grad(x)
            out.append((name + ".value_and_grad", _digest(value) + _digest(g)))
            out.append((name + ".grad", _digest(pen.grad(x, out=buf))))
            acc = grads[r % 3].copy()
            out.append((name + ".add_grad", _digest(pen.add_grad(x, acc))))
            out.append((name + ".prox", _digest(pen.prox(x, 0.7))))
        y, mask = lkreg.dropout(x, 0.3, seed=7, stream=worker, offset=r * x.size,
                                return_mask=True)
        out.append(("dropout", _digest(y) + _digest(mask)))
        packed = lkreg.dropout_mask(x.shape, 0.3, seed=7, stream=worker, offset=r * x.size,
                                    packed=True)
        out.append(("dropout_mask", _digest(packed)))
        out.append(("dropout_backward", _digest(lkreg.dropout_backward(x, packed, 0.3))))
        out.append(("alpha_dropout", _digest(lkreg.alpha_dropout(x, 0.2, seed=worker))))
        z = x.copy()
        lkreg.drop_connect(z, 0.4, seed=3, stream=r, out=z)  # in place
        out.append(("drop_connect", _digest(z)))
        # the shared read-only array: every worker reads it at the same time
        out.append(("shared.value", _digest(lkreg.Lk(1.5, 0.1).value(SHARED))))
        out.append(("shared.prox", _digest(lkreg.Lk(0.5, 0.1).prox(SHARED, 0.3, out=mine))))
        for name, opt in optimizers.items():
            opt.step([grads[(r + len(name)) % 3]])
            out.append((name + ".step", _digest(opt.param_groups[0]["params"][0])))
    for name, opt in optimizers.items():
        state = opt.state_dict()["state"][0]
        out.append((name + ".state", "".join(
            k + (_digest(v) if isinstance(v, np.ndarray) else repr(v))
            for k, v in sorted(state.items()))))
    return out


@pytest.fixture(scope="module")
def serial():
    """Every worker's results, computed one after the other on one lkreg thread."""
    before = lkreg.get_num_threads()
    try:
        lkreg.set_num_threads(1)
        return [_workload(i) for i in range(WORKERS)]
    finally:
        lkreg.set_num_threads(before)


def _first_difference(got, want):
    for (name, a), (_, b) in zip(got, want):
        if a != b:
            return name
    return None if len(got) == len(want) else "length"


@pytest.mark.parametrize("threads", [1, 2, "changing"])
def test_eight_threads_give_the_serial_bits(serial, threads, restore_threads):
    if threads == "changing":
        lkreg.set_num_threads(2)
        set_threads = lkreg.set_num_threads  # each worker flips the count every round
    else:
        lkreg.set_num_threads(threads)
        set_threads = None
    barrier = threading.Barrier(WORKERS)

    def run(worker):
        barrier.wait(timeout=60)  # all start together
        return _workload(worker, set_threads)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(run, range(WORKERS)))
    # serial ran on one lkreg thread: with threads=2 this also checks that the bits do not
    # depend on the thread count
    for worker, got in enumerate(results):
        differs = _first_difference(got, serial[worker])
        assert differs is None, f"worker {worker}: {differs} differs from the serial result"


# ---------------------------------------------------------------------------------------------
# 2. The GIL is released inside the kernels: a deterministic proof

ATTEMPTS = 25  # a waking thread may miss a short kernel; a GIL held throughout misses every time


class _Counter(threading.Thread):
    """Counts in bursts while it holds the GIL, sleeping between bursts (which hands the GIL
    back at once, so the caller never waits for a forced switch)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.count = 0
        self.go = threading.Event()
        self.stop = False

    def run(self):
        self.go.wait()
        while not self.stop:
            for _ in range(50):
                self.count += 1
            time.sleep(0.0002)


def _steps_inside(call, target, attempts=ATTEMPTS):
    """How far another Python thread counted while the calling thread was inside ``target``
    (a C function that ``call()`` calls), over up to ``attempts`` tries: the first non-zero
    count, or 0 if every try saw none."""
    before = sys.getswitchinterval()
    counter = _Counter()
    counter.start()
    inside = []

    def profile(frame, event, arg):
        if arg is target and event in ("c_call", "c_return", "c_exception"):
            inside.append(counter.count)

    try:
        # Longer than the whole experiment: the thread holding the GIL is never made to give it
        # up, so the counter can run only while the caller has released it.
        sys.setswitchinterval(100.0)
        counter.go.set()
        for _ in range(attempts):
            inside.clear()
            sys.setprofile(profile)
            try:
                call()
            finally:
                sys.setprofile(None)
            assert len(inside) >= 2, f"{call} did not call {target}"
            steps = sum(b - a for a, b in zip(inside[::2], inside[1::2]))
            if steps > 0:
                return steps
            time.sleep(0.001)  # let the counter settle
        return 0
    finally:
        counter.stop = True
        sys.setswitchinterval(before)
        counter.join()


@needs_gil
def test_the_harness_sees_a_call_that_holds_the_gil_and_one_that_releases_it():
    assert _steps_inside(lambda: sum(range(2_000_000)), sum, attempts=3) == 0
    assert _steps_inside(lambda: time.sleep(0.005), time.sleep) > 0


BIG, SMALL = 2**24, 2**22  # float64: 10-30 ms per kernel on one thread, memory- or pow-bound


def _data(n, seed=5):
    return np.random.default_rng(seed).standard_normal(n) * 2


def _with(fn, n=BIG):
    """A setup: arrays x (data) and y (empty) of n float64, and the call fn(x, y)."""

    def setup():
        x = _data(n)
        y = np.empty_like(x)
        return lambda: fn(x, y)

    return setup


def _step(opt_class, **kw):
    """A setup: an optimizer over SMALL float64, its state made by a first step."""

    def setup():
        p, g = _data(SMALL), _data(SMALL, seed=6)
        opt = opt_class([p], **kw)
        opt.step([g])
        return lambda: opt.step([g])

    return setup


def _soft_array_t():
    x, t = _data(BIG), np.abs(_data(BIG, seed=7))
    return lambda: lkreg.soft_threshold(x, t, out=x)


def _dropout_backward():
    g = _data(BIG)
    mask = lkreg.dropout_mask(BIG, 0.5, seed=1, packed=True)
    return lambda: lkreg.dropout_backward(g, mask, 0.5, out=g)


def _philox():
    counters = np.arange(4 * SMALL, dtype=np.uint32).reshape(-1, 4)
    return lambda: lkreg.philox4x32_10(counters, np.array([1, 2], np.uint32))


def _group_ids():
    x = _data(2**20)
    return lambda: lkreg.GroupL2(0.1, groups=np.arange(x.size) % 1000).value(x)


C = _core
LK = lkreg.Lk(2.5, 0.1)  # pow per element: compute-bound
# (name, setup() -> call, the _core function whose kernel must run without the GIL)
GIL_CASES = [
    ("Lk(2.5).value", _with(lambda x, y: LK.value(x), SMALL), C.penalty_value),
    ("Lk(2.5).grad", _with(lambda x, y: LK.grad(x, out=y), SMALL), C.penalty_grad),
    ("Lk(2.5).add_grad", _with(lambda x, y: LK.add_grad(x, y), SMALL), C.penalty_grad),
    ("Lk(2.5).value_and_grad", _with(lambda x, y: LK.value_and_grad(x, out=y), SMALL),
     C.penalty_value_and_grad),
    ("Lk(2.5).prox", _with(lambda x, y: LK.prox(x, 0.1, out=y), 2**18), C.penalty_prox),
    ("Lk(0.5).prox(step array)",
     _with(lambda x, y: lkreg.Lk(0.5, 0.1).prox(x, np.abs(y) + 0.1, out=y), 2**18),
     C.penalty_prox),
    ("ElasticNet.prox", _with(lambda x, y: lkreg.ElasticNet(0.1, 0.2).prox(x, 0.1, out=y)),
     C.penalty_prox),
    ("L0.prox", _with(lambda x, y: lkreg.L0(0.1).prox(x, 0.1, out=y)), C.penalty_prox),
    ("L1.subdiff_distance", _with(lambda x, y: lkreg.L1(0.1).subdiff_distance(x, y)),
     C.penalty_subdiff_distance),
    ("GroupL2(axis).value",
     _with(lambda x, y: lkreg.GroupL2(0.1, axis=1).value(x.reshape(2**11, -1)), SMALL),
     C.group_sumsq_axis),
    ("GroupL2(axis).prox",
     _with(lambda x, y: lkreg.GroupL2(0.1, axis=1).prox(x.reshape(2**11, -1), 0.1,
                                                         out=y.reshape(2**11, -1))),
     C.group_scale_axis),
    ("GroupL2(groups).value", _group_ids, C.group_sumsq_ids),
    ("soft_threshold", _with(lambda x, y: lkreg.soft_threshold(x, 0.1, out=y)),
     C.soft_threshold),
    ("soft_threshold(array t)", _soft_array_t, C.soft_threshold),
    ("hard_threshold", _with(lambda x, y: lkreg.hard_threshold(x, 0.1, out=y)),
     C.hard_threshold),
    ("weight_decay", _with(lambda x, y: lkreg.weight_decay(x, 0.1, out=y)), C.scale),
    ("dropout", _with(lambda x, y: lkreg.dropout(x, 0.5, seed=1, out=y)), C.dropout),
    ("drop_connect", _with(lambda x, y: lkreg.drop_connect(x, 0.5, seed=1, out=x)), C.dropout),
    ("dropout_mask", _with(lambda x, y: lkreg.dropout_mask(x.size, 0.5, seed=1), 2 * BIG),
     C.dropout_mask),
    ("dropout_backward", _dropout_backward, C.dropout_backward),
    ("alpha_dropout", _with(lambda x, y: lkreg.alpha_dropout(x, 0.5, seed=1, out=y)),
     C.alpha_dropout),
    ("philox4x32_10", _philox, C.philox4x32_10),
    ("SGD.step", _step(optim.SGD, lr=0.1, momentum=0.9, penalty=LK), C.sgd_step),
    ("Adam.step", _step(optim.Adam, lr=0.1, penalty=LK), C.adam_step),
    ("AdamW.step", _step(optim.AdamW, lr=0.1, penalty=lkreg.L1(1e-3)), C.adam_step),
    ("RMSprop.step", _step(optim.RMSprop, lr=0.1, centered=True, penalty=LK), C.rmsprop_step),
    ("Adagrad.step", _step(optim.Adagrad, lr=0.1, penalty=LK), C.adagrad_step),
    ("FTRL.step", _step(optim.FTRL, alpha=0.1, l1=0.01), C.ftrl_step),
    ("stream_copy", _with(lambda x, y: C.stream_copy(x, y)), C.stream_copy),
    ("stream_scale", _with(lambda x, y: C.stream_scale(x, 1.0)), C.stream_scale),
    ("stream_sum", _with(lambda x, y: C.stream_sum(x)), C.stream_sum),
]


@needs_gil
@pytest.mark.parametrize("name, setup, target", GIL_CASES, ids=[c[0] for c in GIL_CASES])
def test_every_kernel_releases_the_gil(name, setup, target, restore_threads):
    lkreg.set_num_threads(1)  # the kernel itself runs on the calling thread
    assert _steps_inside(setup(), target) > 0, f"{name} holds the GIL for the whole kernel"


@needs_gil
def test_a_long_kernel_runs_while_another_python_thread_makes_progress(restore_threads):
    """Thread A is inside one long Lk(2.5).prox call (a scalar Newton per element: about
    0.1 s) while thread B, pure Python, counts; B's count moves before A returns."""
    lkreg.set_num_threads(1)
    x = np.random.default_rng(0).standard_normal(2**19)
    steps = _steps_inside(lambda: lkreg.Lk(2.5).prox(x, 0.1), _core.penalty_prox, attempts=2)
    assert steps > 0
