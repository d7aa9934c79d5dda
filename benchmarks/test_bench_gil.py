"""Two Python threads calling lkreg kernels at once against one thread doing the same work.

The bindings release the GIL around each kernel (tests/test_concurrency.py proves it without a
clock), so two Python threads run two kernels on two cores at once. Here lkreg runs each kernel
on one thread (``set_num_threads(1)``) and the same two calls are made either one after the
other on one Python thread ("serial") or one each on two Python threads started together
("2 threads"). The ratio serial / 2 threads is the speed-up the released GIL gives: up to 2 on
two idle cores for a compute-bound kernel (Lk(2.5).value, pow per element; Lk(2.5).prox, a
scalar Newton per element), less for a memory-bound one (soft_threshold in place), which shares
the memory bandwidth. The module prints the ratios at the end (``-s`` shows it):

    python -m pytest benchmarks/test_bench_gil.py --benchmark-only -s

Standalone, without pytest-benchmark (best of 7 rounds of each)::

    python benchmarks/test_bench_gil.py
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import lkreg

KERNELS = {
    # name: (array size, call on one array)
    "Lk(2.5).value": (2**22, lambda x: lkreg.Lk(2.5).value(x)),
    "Lk(2.5).prox": (2**16, lambda x: lkreg.Lk(2.5).prox(x, 0.1, out=x)),
    "soft_threshold in place": (2**24, lambda x: lkreg.soft_threshold(x, 0.0, out=x)),
}
_medians = {}  # (kernel, mode) -> seconds


def _arrays(n):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(n).astype(np.float32) for _ in range(2)]


class _TwoThreads:
    """Two persistent Python threads, each calling ``fn`` on its own array, started together."""

    def __init__(self, fn, arrays):
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.fn, self.arrays = fn, arrays
        self.barrier = threading.Barrier(2)

    def _one(self, x):
        self.barrier.wait()
        return self.fn(x)

    def __call__(self):
        for future in [self.pool.submit(self._one, x) for x in self.arrays]:
            future.result()

    def close(self):
        self.pool.shutdown()


def _modes(fn, arrays):
    two = _TwoThreads(fn, arrays)

    def serial():
        for x in arrays:
            fn(x)

    return {"serial": serial, "2 threads": two}, two.close


@pytest.fixture(scope="module", autouse=True)
def one_kernel_thread():
    before = lkreg.get_num_threads()
    lkreg.set_num_threads(1)
    yield
    lkreg.set_num_threads(before)
    print_ratios()


@pytest.mark.parametrize("mode", ["serial", "2 threads"])
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_gil_release(benchmark, kernel, mode):
    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs two cores")
    n, fn = KERNELS[kernel]
    calls, close = _modes(fn, _arrays(n))
    benchmark.group = f"GIL: two calls of {kernel}, n={n} float32, lkreg on 1 thread"
    try:
        benchmark.pedantic(calls[mode], rounds=15, warmup_rounds=2)
    finally:
        close()
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None:
        _medians[kernel, mode] = stats.stats.median


def print_ratios():
    for kernel in KERNELS:
        if (kernel, "serial") in _medians and (kernel, "2 threads") in _medians:
            serial, two = _medians[kernel, "serial"], _medians[kernel, "2 threads"]
            print(f"\n{kernel}: serial {serial * 1e3:.2f} ms, 2 Python threads {two * 1e3:.2f} ms:"
                  f" {serial / two:.2f}x")


def main(rounds=7):
    """Best of ``rounds`` for each kernel and mode, interleaved; prints the ratios."""
    lkreg.set_num_threads(1)
    for kernel, (n, fn) in KERNELS.items():
        calls, close = _modes(fn, _arrays(n))
        best = {mode: float("inf") for mode in calls}
        for _ in range(rounds):
            for mode, call in calls.items():
                start = time.perf_counter()
                call()
                best[mode] = min(best[mode], time.perf_counter() - start)
        close()
        print(f"{kernel} (n={n}): serial {best['serial'] * 1e3:.2f} ms, 2 Python threads "
              f"{best['2 threads'] * 1e3:.2f} ms: {best['serial'] / best['2 threads']:.2f}x")


if __name__ == "__main__":
    main()
