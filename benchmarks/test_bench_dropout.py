"""Dropout forward and packed masks against NumPy, PyTorch and the copy-bandwidth floor.

Each group holds lkreg, the alternatives and the floor for one size, so the ratios come from
one run: ``python -m pytest benchmarks/test_bench_dropout.py --benchmark-only``. Everything runs
with ``THREADS`` threads (lkreg and torch; NumPy's expression is single-threaded).

The floor for ``dropout(x, out=y)`` is ``_core.stream_copy(x, y)``: the same bytes (read x,
write y: 8 per float32 element). For ``dropout_mask(packed=True)`` the output is n / 8 bytes,
so it is compute-bound: report elements per second.
"""

import numpy as np
import pytest

import lkreg
from lkreg import _core

from conftest import SIZES

P = 0.5
THREADS = 2


@pytest.fixture(autouse=True)
def threads():
    before = lkreg.get_num_threads()
    lkreg.set_num_threads(THREADS)
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


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("impl", ["lkreg", "numpy"])
def test_dropout_mask_packed(benchmark, impl, n):
    benchmark.group = f"dropout_mask packed n={n}"
    if impl == "lkreg":
        packed = benchmark(lkreg.dropout_mask, n, P, seed=1, packed=True)
        assert packed.shape == ((n + 7) // 8,)
    else:
        rng = np.random.default_rng(0)
        benchmark(lambda: np.packbits(rng.random(n) < 1 - P, bitorder="little"))
