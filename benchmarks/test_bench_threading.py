"""The three threading scenarios of ``lkreg bench --threading`` as pytest-benchmark groups.

Each group times one call with lkreg's default thread count ("default") and with
``set_num_threads(1)`` ("1 thread"): idle, after a NumPy matmul, and beside busy processes.
The ratios are what matter (docs/architecture.md, "Threading runtime")::

    python -m pytest benchmarks/test_bench_threading.py --benchmark-only
"""

import os

import pytest

import lkreg
from lkreg import _bench_threads as scenarios

SIZES = [2**12, 2**16, 2**20, 2**24]


@pytest.fixture(params=["idle", "numpy-loop", "busy"])
def scenario(request):
    if request.param == "busy":
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        with scenarios.BusyProcesses(max(1, cpus - 1)):
            yield request.param
    else:
        yield request.param


@pytest.mark.parametrize("threads", ["default", "1 thread"])
@pytest.mark.parametrize("name", ["soft_threshold", "L1.grad", "Lk(1.5).value", "dropout"])
@pytest.mark.parametrize("n", SIZES)
def test_threading_scenario(benchmark, scenario, threads, name, n, restore_threads):
    call = scenarios._kernels(n)[name]
    if scenario == "numpy-loop":
        call = scenarios._after_matmul(call)
    if threads == "1 thread":
        lkreg.set_num_threads(1)
    benchmark.group = f"{scenario} {name} n={n}"
    benchmark(call)


@pytest.mark.parametrize("threads", ["default", "1 thread"])
def test_mlp_training_step(benchmark, threads, restore_threads):
    if threads == "1 thread":
        lkreg.set_num_threads(1)
    benchmark.group = "numpy-loop MLP step 256x784"
    benchmark(scenarios._mlp_step())
