"""AdamW (float32, 2 threads) over whole parameter lists: lkreg's one C++ call per param group
against torch.optim.AdamW fused=True and foreach=True, and the memory floor (the 7 streams a
step moves over the copy bandwidth at the list's total size), all timed round-robin in one run
(``lkreg._bench.measure_param_lists``; ``lkreg bench`` prints the same table).

    python -m pytest benchmarks/test_bench_param_groups.py --benchmark-only -s
"""

import pytest

from lkreg import _bench

from conftest import lkreg_and_torch_threads

THREADS = 2


@pytest.fixture(scope="module")
def table():
    with lkreg_and_torch_threads(THREADS):
        print("\n" + _bench.PARAM_HEADER)
        rows = _bench.measure_param_lists(min_time=0.5, log=print)
    return rows


@pytest.mark.parametrize("which", range(len(_bench.param_lists())))
def test_param_list_adamw(benchmark, table, which):
    row = table[which]
    benchmark.group = "AdamW over a param list"
    benchmark.extra_info.update(row)
    benchmark.pedantic(lambda: None, rounds=1)  # the timings are the table's (round-robin)
    assert row["lkreg_s"] > 0
