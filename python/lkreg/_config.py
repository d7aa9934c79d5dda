"""Threads, SIMD level and build information."""

from __future__ import annotations

import operator
import os
from typing import Any

from . import _core

_SIMD_LEVELS = ("baseline", "avx2", "avx512")
_MAX_THREADS = 1024  # kMaxThreads in lkreg/config.hpp


def set_num_threads(n: int) -> None:
    """Set how many threads lkreg's kernels may use.

    Parameters
    ----------
    n : int
        Most threads a kernel may use, from 1 to 1024, for every Python thread of the process.
        At start-up it is ``LKREG_NUM_THREADS``, else ``OMP_NUM_THREADS``, else the number of
        CPUs the process may run on. ``threadpoolctl.threadpool_limits(n)`` sets it too.

    Notes
    -----
    Results do not depend on the thread count: element-wise kernels are bit-identical, and
    reductions add fixed blocks in a fixed order. Small arrays run on the calling thread
    whatever this says; a call never waits for a worker thread that has not started, so a
    busy machine costs parallel calls little. Worker threads start at the first parallel
    call; a process made by ``fork()`` starts its own.

    Examples
    --------
    >>> import lkreg
    >>> before = lkreg.get_num_threads()
    >>> lkreg.set_num_threads(1)
    >>> lkreg.get_num_threads()
    1
    >>> lkreg.set_num_threads(before)
    """
    if isinstance(n, bool):
        raise TypeError("n must be an int, got bool")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"n must be an int, got {type(n).__name__}") from None
    if not 1 <= n <= _MAX_THREADS:
        raise ValueError(f"n must be between 1 and {_MAX_THREADS}, got {n}")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """Return the most threads lkreg's kernels may use (see :func:`set_num_threads`).

    Examples
    --------
    >>> import lkreg
    >>> lkreg.get_num_threads() >= 1
    True
    """
    return int(_core.get_num_threads())


def show_config() -> dict[str, Any]:
    """Return how this lkreg was built and how it runs.

    Returns
    -------
    dict
        ``version``; ``simd``, the SIMD level in use; ``simd_supported``, the best level this
        CPU runs; ``simd_compiled``, the levels in this build; ``native``, whether it was built
        with ``-march=native``; ``threading``, the threading runtime (lkreg's own pool);
        ``threads``, from :func:`get_num_threads`.

    Examples
    --------
    >>> import lkreg
    >>> cfg = lkreg.show_config()
    >>> cfg["simd"] in cfg["simd_compiled"], cfg["threading"]
    (True, 'lkreg-pool')
    """
    return {
        "version": _core.__version__,
        "simd": _core.simd_level(),
        "simd_supported": _core.simd_level_supported(),
        "simd_compiled": list(_core.simd_levels_compiled()),
        "native": bool(_core.native_build()),
        "threading": _core.threading_runtime(),
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


def _register_threadpoolctl() -> None:
    """Make threadpoolctl see lkreg's thread pool, when threadpoolctl is installed.

    threadpoolctl finds libraries among the loaded shared objects by file name and then talks
    to them through ctypes, so the controller points it at ``_core``'s two exported C
    functions. ``threadpool_limits(n)`` and ``threadpool_limits(n, user_api="lkreg")`` then
    limit lkreg, and ``threadpool_info()`` lists it.
    """
    try:
        import threadpoolctl  # noqa: PLC0415 - optional, and only worth its import when present
    except ImportError:
        return

    class LkregController(threadpoolctl.LibController):
        user_api = "lkreg"
        internal_api = "lkreg"
        filename_prefixes = ("_core",)
        check_symbols = ("lkreg_threadpool_get_num_threads",)

        def get_num_threads(self) -> int:
            return int(self.dynlib.lkreg_threadpool_get_num_threads())

        def set_num_threads(self, num_threads: int) -> None:
            self.dynlib.lkreg_threadpool_set_num_threads(int(num_threads))

        def get_version(self) -> str:
            return _core.__version__

    threadpoolctl.register(LkregController)
