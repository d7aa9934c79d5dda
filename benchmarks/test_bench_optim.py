"""One optimizer step on 2**24 float32 parameters: lkreg against the in-place NumPy
implementation, torch.optim (foreach=True and fused=True, when installed) and the memory floor.

Each group holds every implementation of one step, so the ratios come from one run; the module
prints them at the end (``-s`` shows it):

    python -m pytest benchmarks/test_bench_optim.py --benchmark-only -s

All run with 2 threads (lkreg, torch; NumPy's element-wise loops are serial). The floor is the
time lkreg._core.stream_scale (x *= c in place: read + write, as a step does to p and its state)
and stream_copy (y = x) take on one array of the same size, scaled to the arrays a step must
stream: AdamW reads p, g, m, v and writes p, m, v (7 arrays of 2**24 float32); SGD with
momentum reads p, g, buf and writes p, buf (5).

Every round starts from memory, not cache: an untimed pass over 384 MB precedes it. A step
streams 192-256 MB, more than a last-level cache holds, but a single 64 MB array fits in a
large one (260 MB here), where a warm floor would measure the cache's bandwidth instead of the
memory's. The warm floor is timed too ("scale-warm"), for reference. The ratios to the floor use
the cold scale timed between the rounds of the same test (the untimed pass is that scale), so
that a change in the machine's load during the run does not skew them.
"""

import math
import time

import numpy as np
import pytest

import lkreg
from lkreg import _bench, _core

N = 2**24
THREADS = 2
LR, BETAS, EPS, WD, MOMENTUM = _bench.LR, _bench.BETAS, _bench.EPS, _bench.WD, _bench.MOMENTUM
STREAMS = {"AdamW": 7, "SGD-momentum": 5, "Adam-amsgrad": 9, "RMSprop": 5, "Adagrad": 5}
_medians = {}  # (group, impl) -> seconds, for the closing table
_floor_during = {}  # (group, impl) -> the cold scale floor timed between that test's rounds
_flush_buffers = []
_flush_times = []


def flush_caches():
    """Stream 384 MB through the caches (untimed), so that the next round reads memory.

    Each array it scales was evicted by the others, so its time is the cold floor, measured
    between the rounds: the ratios do not drift with the machine's load over the run.
    """
    if not _flush_buffers:
        _flush_buffers.extend(np.ones(N, np.float32) for _ in range(6))
    for buf in _flush_buffers:
        start = time.perf_counter()
        _core.stream_scale(buf, 1.0)
        _flush_times.append(time.perf_counter() - start)


@pytest.fixture(scope="module", autouse=True)
def two_threads():
    before = lkreg.get_num_threads()
    lkreg.set_num_threads(THREADS)
    try:
        import torch

        torch_before = torch.get_num_threads()
        torch.set_num_threads(THREADS)
    except ImportError:
        torch = None
    yield
    lkreg.set_num_threads(before)
    if torch is not None:
        torch.set_num_threads(torch_before)
    print_ratios()


def arrays(count, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(N).astype(np.float32) for _ in range(count)]


def run(benchmark, group, impl, fn, rounds=15, cold=True):
    benchmark.group = f"{group} float32 n=2**24"
    _flush_times.clear()
    benchmark.pedantic(fn, setup=flush_caches if cold else None, rounds=rounds, warmup_rounds=1)
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None:
        _medians[group, impl] = stats.stats.median
        if _flush_times:
            _floor_during[group, impl] = float(np.median(_flush_times))


# --- NumPy in place: lkreg bench's implementations (the fewest temporaries NumPy allows) ------


def numpy_adamw(p, g, m, v, tmp, step=10):
    _bench.numpy_adam_step(p, g, m, v, tmp, step, WD, decoupled=True)


numpy_sgd_momentum = _bench.numpy_sgd_momentum_step


# --- the steps -----------------------------------------------------------------------------

IMPLS = ["lkreg", "numpy", "torch-foreach", "torch-fused"]


def torch_step(kind, fused, p, g):
    torch = pytest.importorskip("torch")
    tp, tg = torch.from_numpy(p), torch.from_numpy(g)
    tp.grad = tg
    flags = dict(fused=True) if fused else dict(foreach=True)
    try:
        if kind == "AdamW":
            opt = torch.optim.AdamW([tp], lr=LR, betas=BETAS, eps=EPS, weight_decay=WD, **flags)
        else:
            opt = torch.optim.SGD([tp], lr=LR, momentum=MOMENTUM, **flags)
    except RuntimeError as exc:  # a build without the fused CPU kernels
        pytest.skip(str(exc))
    opt.step()  # allocates the state outside the timing
    return opt.step


@pytest.mark.parametrize("impl", IMPLS)
def test_adamw_step(benchmark, impl):
    p, g = arrays(2)
    if impl == "lkreg":
        opt = lkreg.optim.AdamW([p], lr=LR, betas=BETAS, eps=EPS, weight_decay=WD)
        opt.step([g])
        run(benchmark, "AdamW", impl, lambda: opt.step([g]))
    elif impl == "numpy":
        m, v, tmp = np.zeros_like(p), np.zeros_like(p), np.empty_like(p)
        run(benchmark, "AdamW", impl, lambda: numpy_adamw(p, g, m, v, tmp), rounds=5)
    else:
        step = torch_step("AdamW", impl == "torch-fused", p, g)
        run(benchmark, "AdamW", impl, step, rounds=5 if impl == "torch-foreach" else 15)


@pytest.mark.parametrize("impl", IMPLS)
def test_sgd_momentum_step(benchmark, impl):
    p, g = arrays(2)
    if impl == "lkreg":
        opt = lkreg.optim.SGD([p], lr=LR, momentum=MOMENTUM)
        opt.step([g])
        run(benchmark, "SGD-momentum", impl, lambda: opt.step([g]))
    elif impl == "numpy":
        buf, tmp = np.zeros_like(p), np.empty_like(p)
        run(benchmark, "SGD-momentum", impl, lambda: numpy_sgd_momentum(p, g, buf, tmp), rounds=5)
    else:
        step = torch_step("SGD", impl == "torch-fused", p, g)
        run(benchmark, "SGD-momentum", impl, step, rounds=5 if impl == "torch-foreach" else 15)


OTHERS = {
    "Adam-amsgrad": lambda p: lkreg.optim.Adam([p], lr=LR, amsgrad=True),
    "RMSprop": lambda p: lkreg.optim.RMSprop([p], lr=LR),
    "Adagrad": lambda p: lkreg.optim.Adagrad([p], lr=LR),
}


@pytest.mark.parametrize("name", list(OTHERS))
def test_other_steps(benchmark, name):
    p, g = arrays(2)
    opt = OTHERS[name](p)
    opt.step([g])
    run(benchmark, name, "lkreg", lambda: opt.step([g]))


@pytest.mark.parametrize("floor", ["copy", "scale", "scale-warm"])
def test_memory_floor(benchmark, floor):
    (x,) = arrays(1)
    if floor == "copy":
        y = np.empty_like(x)
        run(benchmark, "floor", floor, lambda: _core.stream_copy(x, y), rounds=30)
    else:
        cold = floor == "scale"
        run(benchmark, "floor", floor, lambda: _core.stream_scale(x, 1.0), rounds=30, cold=cold)


def print_ratios():
    """The issue's targets, from this run's medians."""
    if ("floor", "scale") not in _medians:
        return
    scale, copy = _medians["floor", "scale"], _medians["floor", "copy"]
    warm = _medians.get(("floor", "scale-warm"), math.nan)
    array_bytes = 4 * N
    gbs = lambda seconds, arrays=2: arrays * array_bytes / seconds / 1e9  # noqa: E731
    lines = [
        f"memory floor ({THREADS} threads): in-place scale {gbs(scale):.1f} GB/s from memory"
        f" ({gbs(warm):.1f} from cache), copy {gbs(copy):.1f} GB/s"
    ]
    for group, streams in STREAMS.items():
        t = _medians.get((group, "lkreg"))
        if t is None:
            continue
        alongside = _floor_during.get((group, "lkreg"), scale)
        line = (
            f"{group}: lkreg {t * 1e3:.2f} ms = {gbs(t, streams):.1f} GB/s for {streams} arrays, "
            f"{t / (alongside * streams / 2):.2f}x the scale floor timed alongside "
            f"({gbs(alongside):.1f} GB/s), {t / (copy * streams / 2):.2f}x the copy floor"
        )
        for other in ("numpy", "torch-foreach", "torch-fused"):
            if (group, other) in _medians:
                line += f"; {_medians[group, other] / t:.1f}x faster than {other}"
        lines.append(line)
    print("\n" + "\n".join(lines))
