"""Dropout forward and packed masks against NumPy, PyTorch and the copy-bandwidth floor.

Each group holds lkreg, the alternatives and the floor for one size, so the ratios come from
one run: ``python -m pytest benchmarks/test_bench_dropout.py --benchmark-only``. Everything runs
with ``THREADS`` threads (lkreg and torch; NumPy's expression is single-threaded).

The floor for ``dropout(x, out=y)`` is ``_core.stream_copy(x, y)``: the same bytes (read x,
write y: 8 per float32 element). For ``dropout_mask(packed=True)`` the output is n / 8 bytes,
so it is compute-bound: report elements per second (``extra_info["elements"]`` / time).

The module prints the ratios at the end (``-s`` shows them): dropout's fraction of the copy
floor, its speed-up over NumPy and torch (medians), and the packed mask's elements per second.
"""

import numpy as np
import pytest

import lkreg
from lkreg import _core

from conftest import SIZES

P = 0.5
THREADS = 2
_medians = {}  # (test, n, impl) -> median seconds, for the closing summary


def _record(benchmark, test, n, impl):
    _medians[(test, n, impl)] = benchmark.stats.stats.median


@pytest.fixture(scope="module", autouse=True)
def summary():
    yield
    lines = []
    for n in SIZES:
        t = {impl: _medians.get(("forward", n, impl)) for impl in ("lkreg", "numpy", "torch")}
        floor = _medians.get(("forward", n, "floor-copy"))
        if t["lkreg"] and floor:
            line = f"dropout n={n}: {floor / t['lkreg']:.0%} of the copy floor"
            line += "".join(
                f", {t[k] / t['lkreg']:.1f}x {k}" for k in ("numpy", "torch") if t[k] is not None
            )
            lines.append(line)
        packed = _medians.get(("packed", n, "lkreg"))
        if packed:
            lines.append(f"dropout_mask packed n={n}: {n / packed / 1e9:.2f} G elements/s")
    if lines:
        print("\n" + "\n".join(lines))


@pytest.fixture(scope="module")
def arrays():
    """Input arrays by size, made once so that set-up is not timed."""
    cache = {}

    def get(n):
        if n not in cache:
            cache[n] = np.random.default_rng(0).standard_normal(n).astype(np.float32)
        return cache[n]

    return get


@pytest.fixture(autouse=True)
def threads():
    before = lkreg.get_num_threads()
    lkreg.set_num_threads(THREADS)
    lkreg.dropout(np.ones(2**16, np.float32), P, seed=0)  # start the thread team untimed
    yield
    lkreg.set_num_threads(before)


def numpy_dropout(x, rng):
    return x * (rng.random(x.size) < 1 - P) / (1 - P)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("impl", ["lkreg", "numpy", "torch", "floor-copy"])
def test_dropout_forward(benchmark, arrays, impl, n):
    x = arrays(n)
    benchmark.group = f"dropout forward float32 n={n}"
    benchmark.extra_info["bytes"] = 8 * n
    benchmark.extra_info["elements"] = n
    if impl == "lkreg":
        y = np.empty_like(x)
        benchmark(lkreg.dropout, x, P, seed=1, offset=0, out=y)
        assert abs(np.count_nonzero(y) / n - (1 - P)) < 0.05
    elif impl == "numpy":
        rng = np.random.default_rng(0)
        benchmark(numpy_dropout, x, rng)
    elif impl == "torch":
        torch = pytest.importorskip("torch")
        torch.set_num_threads(THREADS)
        t = torch.from_numpy(x)
        with torch.no_grad():
            benchmark(torch.nn.functional.dropout, t, P, True)
    else:
        y = np.empty_like(x)
        benchmark(_core.stream_copy, x, y)
    _record(benchmark, "forward", n, impl)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("impl", ["lkreg", "numpy"])
def test_dropout_mask_packed(benchmark, impl, n):
    benchmark.group = f"dropout_mask packed n={n}"
    benchmark.extra_info["elements"] = n
    if impl == "lkreg":
        packed = benchmark(lkreg.dropout_mask, n, P, seed=1, packed=True)
        assert packed.shape == ((n + 7) // 8,)
    else:
        rng = np.random.default_rng(0)
        benchmark(lambda: np.packbits(rng.random(n) < 1 - P, bitorder="little"))
    _record(benchmark, "packed", n, impl)
