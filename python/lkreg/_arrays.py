"""How the Python layer hands arrays to the kernels."""

from __future__ import annotations

import numpy as np

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_input(x: object) -> np.ndarray:
    """Return ``x`` as an ndarray the kernels can read.

    Array-likes go through ``np.asarray``. A float32/float64 array that is not C-contiguous is
    copied once into C order (the documented copy for strided input). Other dtypes pass through
    unchanged so that the kernel raises a TypeError naming the argument.
    """
    arr = np.asarray(x)
    if arr.dtype in _KERNEL_DTYPES and not arr.flags.c_contiguous:
        arr = arr.copy(order="C")
    return arr
