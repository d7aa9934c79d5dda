"""Every kernel of ``lkreg bench`` as pytest-benchmark groups: lkreg, NumPy and torch (when
installed) side by side, and the memory floors, at 2**16 and 2**24 elements.

The cases are lkreg._bench's, so the command line and this suite measure the same calls::

    python -m pytest benchmarks/ --benchmark-only
"""

import numpy as np
import pytest

from lkreg import _bench, _core

from conftest import SIZES

CASES = _bench.all_cases()


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name.replace(" ", "_"))
@pytest.mark.parametrize("impl", ["lkreg", "numpy", "torch"])
def test_kernel(benchmark, impl, case, n):
    runners = case.make(n, np.float32)
    if impl == "lkreg":
        _bench.check_agreement(case.name, runners)  # never time a wrong answer
    fn = getattr(runners, impl)
    if fn is None:
        pytest.skip(f"no {impl} baseline (torch not installed?)")
    benchmark.group = f"{case.name} float32 n={n}"
    benchmark(fn)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("floor", _bench.FLOORS)
def test_memory_floor(benchmark, floor, n):
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    y = np.empty_like(x)
    benchmark.group = f"floor {floor} float32 n={n}"
    run = {
        "copy": lambda: _core.stream_copy(x, y),
        "scale": lambda: _core.stream_scale(x, 1.0),
        "sum": lambda: _core.stream_sum(x),
    }[floor]
    benchmark(run)
