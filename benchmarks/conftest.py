"""Shared pieces of the pytest-benchmark suite (not part of the default test run)."""

import numpy as np
import pytest

SIZES = [2**16, 2**24]


def weights(n, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n).astype(dtype)


@pytest.fixture(scope="module")
def arrays():
    """Cached input arrays by (n, dtype), so that set-up is not timed."""
    cache = {}

    def get(n, dtype=np.float32):
        if (n, dtype) not in cache:
            cache[(n, dtype)] = weights(n, dtype)
        return cache[(n, dtype)]

    return get
