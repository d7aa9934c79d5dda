"""How the Python layer hands arrays to the kernels."""

from __future__ import annotations

import numpy as np

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_input(x: object, name: str) -> np.ndarray:
    """Return ``x`` as an ndarray the kernels can read, or raise a TypeError naming it.

    Array-likes go through ``np.asarray``, as NumPy's own functions take them. A float32/float64
    array that is not C-contiguous is copied once into C order (the documented copy for strided
    input). Any other dtype (int, bool, float16, complex, object, str, non-native byte order)
    is a TypeError: lkreg never casts silently.
    """
    arr = np.asarray(x)
    if arr.dtype not in _KERNEL_DTYPES:  # equality includes byte order: '>f8' is not in
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {arr.dtype}")
    if not arr.flags.c_contiguous:
        arr = arr.copy(order="C")
    return arr
