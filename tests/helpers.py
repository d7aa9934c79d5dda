"""Shared test helpers: SIMD levels, sizes, dtypes, exact comparisons, test data."""

import numpy as np

from lkreg import _core

_ORDER = ("baseline", "avx2", "avx512")
SIMD_LEVELS = [
    level
    for level in _core.simd_levels_compiled()
    if _ORDER.index(level) <= _ORDER.index(_core.simd_level_supported())
]
SIZES = [0, 1, 7, 8, 9, 15, 16, 17, 1000, 2**20 + 3]
DTYPES = [np.float32, np.float64]


def bits(a):
    """The bit pattern of a float array, for exact comparisons (NaN == NaN, -0 != +0)."""
    a = np.asarray(a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def random_weights(n, dtype, seed=0, zeros=True):
    """Normal weights with a spread of magnitudes and some exact zeros."""
    rng = np.random.default_rng(seed + n)
    w = rng.standard_normal(n) * np.exp(rng.uniform(-3, 3, n))
    if zeros and n:
        w[rng.random(n) < 0.1] = 0.0
    return w.astype(dtype)
