"""MLP training on load_digits: lkreg.neural_network against scikit-learn's MLPClassifier and
torch CPU, timed round-robin in one run (``benchmarks/bench_mlp.py`` prints the same table).

    python -m pytest benchmarks/test_bench_mlp.py --benchmark-only -s
"""

import pytest

pytest.importorskip("sklearn")
threadpoolctl = pytest.importorskip("threadpoolctl")

import lkreg  # noqa: E402

import bench_mlp  # noqa: E402

THREADS = 2
NAMES = [name for name, _ in bench_mlp.models((128,), 1)]


@pytest.fixture(scope="module")
def table():
    before = lkreg.get_num_threads()
    lkreg.set_num_threads(THREADS)
    torch = bench_mlp._torch()
    if torch is not None:
        torch_before = torch.get_num_threads()
        torch.set_num_threads(THREADS)
    try:
        with threadpoolctl.threadpool_limits(THREADS):
            print("\n" + bench_mlp.HEADER)
            rows = bench_mlp.measure(bench_mlp.digits_data(), (128,), 30, 5, log=print)
    finally:
        lkreg.set_num_threads(before)
        if torch is not None:
            torch.set_num_threads(torch_before)
    return {row["model"]: row for row in rows}


@pytest.mark.parametrize("name", NAMES)
def test_mlp_digits(benchmark, table, name):
    benchmark.group = "MLP on load_digits, 30 epochs"
    benchmark.extra_info.update(table[name])
    benchmark.pedantic(lambda: None, rounds=1)  # the timings are the table's (round-robin)
