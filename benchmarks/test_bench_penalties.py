"""Penalty value and grad against the NumPy expression a user would write.

Each group holds lkreg, NumPy and the memory floor for the same size, so the ratios come from
one run: ``python -m pytest benchmarks/test_bench_penalties.py --benchmark-only``.
"""

import numpy as np
import pytest

import lkreg
from lkreg import _core

from conftest import SIZES

PENALTIES = {
    "L1": (lkreg.L1(1e-3), lambda w: 1e-3 * np.sign(w), lambda w: 1e-3 * np.sum(np.abs(w))),
    "L2": (lkreg.L2(1e-3), lambda w: 2e-3 * w, lambda w: 1e-3 * np.sum(w * w)),
    "Lk0.5": (
        lkreg.Lk(0.5, 1e-3),
        lambda w: 1e-3 * 0.5 * np.abs(w) ** -0.5 * np.sign(w),
        lambda w: 1e-3 * np.sum(np.abs(w) ** 0.5),
    ),
    "Lk1.5": (
        lkreg.Lk(1.5, 1e-3),
        lambda w: 1e-3 * 1.5 * np.abs(w) ** 0.5 * np.sign(w),
        lambda w: 1e-3 * np.sum(np.abs(w) ** 1.5),
    ),
    "Lk3": (
        lkreg.Lk(3, 1e-3),
        lambda w: 1e-3 * 3 * np.abs(w) ** 2 * np.sign(w),
        lambda w: 1e-3 * np.sum(np.abs(w) ** 3),
    ),
    "Lk2.7": (
        lkreg.Lk(2.7, 1e-3),
        lambda w: 1e-3 * 2.7 * np.abs(w) ** 1.7 * np.sign(w),
        lambda w: 1e-3 * np.sum(np.abs(w) ** 2.7),
    ),
    "ElasticNet": (
        lkreg.ElasticNet(1e-3, 2e-3),
        lambda w: 1e-3 * np.sign(w) + 4e-3 * w,
        lambda w: 1e-3 * np.sum(np.abs(w)) + 2e-3 * np.sum(w * w),
    ),
}


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", list(PENALTIES))
@pytest.mark.parametrize("impl", ["lkreg", "numpy"])
def test_grad(benchmark, arrays, impl, name, n):
    pen, numpy_grad, _ = PENALTIES[name]
    w = arrays(n)
    benchmark.group = f"grad {name} float32 n={n}"
    if impl == "lkreg":
        out = np.empty_like(w)
        benchmark(pen.grad, w, out)
        np.testing.assert_allclose(out, numpy_grad(w), rtol=1e-5, atol=1e-30)
    else:
        benchmark(numpy_grad, w)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", list(PENALTIES))
@pytest.mark.parametrize("impl", ["lkreg", "numpy"])
def test_value(benchmark, arrays, impl, name, n):
    pen, _, numpy_value = PENALTIES[name]
    w = arrays(n)
    benchmark.group = f"value {name} float32 n={n}"
    result = benchmark(pen.value if impl == "lkreg" else numpy_value, w)
    assert result == pytest.approx(numpy_value(w.astype(np.float64)), rel=1e-5)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("floor", ["copy", "sum"])
def test_memory_floor(benchmark, arrays, floor, n):
    """y = x (the floor for grad: read w, write g) and sum x (the floor for value)."""
    x = arrays(n)
    if floor == "copy":
        y = np.empty_like(x)
        benchmark.group = f"floor copy float32 n={n}"
        benchmark(_core.stream_copy, x, y)
        np.testing.assert_array_equal(x, y)
    else:
        benchmark.group = f"floor sum float32 n={n}"
        benchmark(_core.stream_sum, x)
