"""Threads, SIMD level and build information."""

from __future__ import annotations

import operator
import os
from typing import Any

from . import _core

_SIMD_LEVELS = ("baseline", "avx2", "avx512")


def set_num_threads(n: int) -> None:
    """Set how many threads lkreg's kernels may use.

    Parameters
    ----------
    n : int
        Number of threads, at least 1. OpenMP's own limit for the calling thread (set by
        ``OMP_NUM_THREADS`` or ``threadpoolctl.threadpool_limits(..., user_api="openmp")``)
        still caps it.

    Notes
    -----
    Results do not depend on the thread count: element-wise kernels are bit-identical, and
    reductions add fixed blocks in a fixed order. A process made by ``fork()`` after lkreg was
    imported runs on one thread whatever this says (GNU OpenMP does not survive a fork).
    """
    if isinstance(n, bool):
        raise TypeError("n must be an int, got bool")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"n must be an int, got {type(n).__name__}") from None
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """Return the number of threads lkreg's kernels use on the calling thread."""
    return int(_core.get_num_threads())


def show_config() -> dict[str, Any]:
    """Return how this lkreg was built and how it runs.

    Returns
    -------
    dict
        ``version``; ``simd``, the SIMD level in use; ``simd_supported``, the best level this
        CPU runs; ``simd_compiled``, the levels in this build; ``native``, whether it was built
        with ``-march=native``; ``openmp``; ``threads``, from :func:`get_num_threads`.
    """
    return {
        "version": _core.__version__,
        "simd": _core.simd_level(),
        "simd_supported": _core.simd_level_supported(),
        "simd_compiled": list(_core.simd_levels_compiled()),
        "native": bool(_core.native_build()),
        "openmp": bool(_core.openmp_enabled()),
        "threads": get_num_threads(),
    }


def _apply_simd_environment() -> None:
    """Honour ``LKREG_SIMD=baseline|avx2|avx512``: a lower level than the CPU's best."""
    wanted = os.environ.get("LKREG_SIMD", "").strip().lower()
    if not wanted:
        return
    if wanted not in _SIMD_LEVELS:
        raise ValueError(f"LKREG_SIMD must be one of {', '.join(_SIMD_LEVELS)}, got {wanted!r}")
    best = _core.simd_level_supported()
    if _SIMD_LEVELS.index(wanted) < _SIMD_LEVELS.index(best):
        _core.set_simd_level(wanted)
