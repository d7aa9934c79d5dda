"""Soft/hard thresholding, weight decay and Lk prox against NumPy (and torch when installed).

``python -m pytest benchmarks/test_bench_prox.py --benchmark-only``
"""

import numpy as np
import pytest

import lkreg

from conftest import SIZES

T = 0.5


def numpy_soft(x, t=T):
    return np.sign(x) * np.maximum(np.abs(x) - t, 0)


def numpy_lk_prox_half(v, tau):
    """Half thresholding (Xu et al. 2012) for 0.5 (z - v)^2 + tau |z|^(1/2), vectorized."""
    a = np.abs(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = np.arccos(np.clip(0.75 * tau * np.sqrt(3) / a ** 1.5, -1, 1))
        z = 4 * a / 3 * np.cos((np.pi - phi) / 3) ** 2
    return np.where(a > 1.5 * tau ** (2 / 3), np.sign(v) * z, 0)


def numpy_lk_prox_three_halves(v, tau):
    a = np.abs(v)
    b = 1.5 * tau
    s = 2 * a / (b + np.sqrt(b * b + 4 * a))
    return np.sign(v) * s * s


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("impl", ["lkreg", "lkreg-inplace", "numpy", "torch"])
def test_soft_threshold(benchmark, arrays, impl, n):
    x = arrays(n)
    benchmark.group = f"soft_threshold float32 n={n}"
    if impl == "lkreg":
        out = np.empty_like(x)
        benchmark(lkreg.soft_threshold, x, T, out)
        np.testing.assert_array_equal(out, numpy_soft(x, np.float32(T)))
    elif impl == "lkreg-inplace":
        y = x.copy()
        benchmark(lkreg.soft_threshold, y, 0.0, y)  # t = 0 keeps the data unchanged across rounds
    elif impl == "numpy":
        benchmark(numpy_soft, x)
    else:
        torch = pytest.importorskip("torch")
        tx = torch.from_numpy(x)
        out = benchmark(torch.nn.functional.softshrink, tx, T)
        np.testing.assert_array_equal(out.numpy(), numpy_soft(x, np.float32(T)))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("impl", ["lkreg", "numpy"])
def test_hard_threshold(benchmark, arrays, impl, n):
    x = arrays(n)
    benchmark.group = f"hard_threshold float32 n={n}"
    if impl == "lkreg":
        out = np.empty_like(x)
        benchmark(lkreg.hard_threshold, x, T, out)
    else:
        benchmark(lambda: np.where(np.abs(x) > T, x, 0))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("impl", ["lkreg-inplace", "numpy-inplace", "floor-scale"])
def test_weight_decay(benchmark, arrays, impl, n):
    w = arrays(n).copy()
    benchmark.group = f"weight_decay in place float32 n={n}"
    if impl == "lkreg-inplace":
        benchmark(lkreg.weight_decay, w, 0.0, w)
    elif impl == "numpy-inplace":
        benchmark(np.multiply, w, np.float32(1.0), out=w)
    else:
        benchmark(lkreg._core.stream_scale, w, 1.0)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("k", [0.5, 1.5])
@pytest.mark.parametrize("impl", ["lkreg", "numpy"])
def test_lk_prox(benchmark, arrays, impl, k, n):
    x = arrays(n)
    tau = 0.3
    reference = {0.5: numpy_lk_prox_half, 1.5: numpy_lk_prox_three_halves}[k]
    benchmark.group = f"Lk({k}) prox float32 n={n}"
    if impl == "lkreg":
        out = np.empty_like(x)
        benchmark(lkreg.Lk(k, tau).prox, x, 1.0, out)
        np.testing.assert_allclose(out, reference(x.astype(np.float64), tau), rtol=1e-5, atol=1e-6)
    else:
        benchmark(reference, x, tau)
