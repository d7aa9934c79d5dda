"""MLP training on load_digits: lkreg.neural_network against scikit-learn's MLPClassifier and
torch CPU, timed round-robin in one run (``benchmarks/bench_mlp.py`` prints the same table).

    python -m pytest benchmarks/test_bench_mlp.py --benchmark-only -s
"""

import pytest

pytest.importorskip("sklearn")
threadpoolctl = pytest.importorskip("threadpoolctl")

import bench_mlp  # noqa: E402
from conftest import lkreg_and_torch_threads  # noqa: E402

THREADS = 2
NAMES = [name for name, _ in bench_mlp.models((128,), 1)]


@pytest.fixture(scope="module")
def table():
    with lkreg_and_torch_threads(THREADS), threadpoolctl.threadpool_limits(THREADS):
        print("\n" + bench_mlp.HEADER)
        rows = bench_mlp.measure(bench_mlp.digits_data(), (128,), 30, 5, log=print)
    return {row["model"]: row for row in rows}


@pytest.mark.parametrize("name", NAMES)
def test_mlp_digits(benchmark, table, name):
    benchmark.group = "MLP on load_digits, 30 epochs"
    benchmark.extra_info.update(table[name])
    benchmark.pedantic(lambda: None, rounds=1)  # the timings are the table's (round-robin)
