"""lkreg's thread pool: limits, start-up settings, threadpoolctl, fork/spawn, exit, coverage.

Timing is never asserted here (benchmarks/test_bench_threading.py measures it); these tests
check what the runtime promises: every element exactly once, the same bits for any thread
count, limits that apply process-wide, and no hang in forked or spawned children or at exit.
"""

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import lkreg

CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _run_python(code, env=None, timeout=120):
    full_env = dict(os.environ)
    for name in ("LKREG_NUM_THREADS", "OMP_NUM_THREADS"):
        full_env.pop(name, None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def test_set_num_threads_round_trips(restore_threads):
    for n in (1, 2, 3, 7, 1024):
        lkreg.set_num_threads(n)
        assert lkreg.get_num_threads() == n


def test_set_num_threads_is_process_wide(restore_threads):
    with ThreadPoolExecutor(1) as other:
        lkreg.set_num_threads(1)
        assert other.submit(lkreg.get_num_threads).result() == 1
        other.submit(lkreg.set_num_threads, 3).result()
        assert lkreg.get_num_threads() == 3


@pytest.mark.parametrize(
    "bad, error",
    [(0, ValueError), (-3, ValueError), (1025, ValueError), (2**31, ValueError),
     (10**400, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError), (None, TypeError)],
)
def test_set_num_threads_rejects_bad_counts(bad, error, restore_threads):
    before = lkreg.get_num_threads()
    with pytest.raises(error, match=r"\bn\b"):
        lkreg.set_num_threads(bad)
    assert lkreg.get_num_threads() == before


@pytest.mark.parametrize(
    "env, expected",
    [({"LKREG_NUM_THREADS": "3"}, 3), ({"OMP_NUM_THREADS": "5"}, 5),
     ({"OMP_NUM_THREADS": "4,2"}, 4), ({"LKREG_NUM_THREADS": "2", "OMP_NUM_THREADS": "6"}, 2),
     ({"LKREG_NUM_THREADS": "junk"}, CPUS), ({}, CPUS)],
)
def test_thread_count_at_start_up_comes_from_the_environment(env, expected):
    result = _run_python("import lkreg; print(lkreg.get_num_threads())", env)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == expected


def test_threadpoolctl_lists_and_limits_lkreg(restore_threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    lkreg.set_num_threads(3)
    info = [i for i in threadpoolctl.threadpool_info() if i["internal_api"] == "lkreg"]
    assert len(info) == 1
    assert info[0]["num_threads"] == 3
    assert info[0]["version"] == lkreg.__version__
    assert os.path.basename(info[0]["filepath"]).startswith("_core")
    with threadpoolctl.threadpool_limits(1):
        assert lkreg.get_num_threads() == 1
    assert lkreg.get_num_threads() == 3
    with threadpoolctl.threadpool_limits(2, user_api="lkreg"):
        assert lkreg.get_num_threads() == 2
    with threadpoolctl.threadpool_limits(1, user_api="blas"):  # someone else's limit only
        assert lkreg.get_num_threads() == 3
    assert lkreg.get_num_threads() == 3


def test_threadpoolctl_limit_applies_to_kernels(restore_threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    w = np.random.default_rng(0).standard_normal(2**20)
    lkreg.set_num_threads(4)
    expected = lkreg.Lk(1.5, 0.1).grad(w)
    with threadpoolctl.threadpool_limits(1):
        got = lkreg.Lk(1.5, 0.1).grad(w)
    assert np.array_equal(got, expected)


def _thread_count():
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")
def test_no_threads_at_import_and_workers_at_the_first_parallel_call():
    code = """
import os, numpy as np
count = lambda: len(os.listdir("/proc/self/task"))
before = count()
import lkreg
lkreg.set_num_threads(4)
after_import = count()
lkreg.soft_threshold(np.ones(64), 0.5)          # small: the calling thread only
after_small = count()
lkreg.soft_threshold(np.ones(2**22), 0.5)       # large: the pool starts
print(before, after_import, after_small, count())
"""
    result = _run_python(code, {"OPENBLAS_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    before, after_import, after_small, after_large = map(int, result.stdout.split())
    assert after_import == before
    assert after_small == before
    # 3 workers for 4 threads (ThreadSanitizer, when preloaded, adds a thread of its own)
    tsan = "tsan" in os.environ.get("LD_PRELOAD", "")
    assert after_large - before == 3 + tsan


CHILD_SCRIPT = """
import multiprocessing as mp
import os
import numpy as np
import lkreg

def work(_):
    w = np.random.default_rng(0).standard_normal(2**21)
    return (lkreg.L1(0.1).value(w), lkreg.Lk(1.5, 0.1).grad(w).tobytes(),
            lkreg.dropout(w, 0.3, seed=5).tobytes(), lkreg.get_num_threads(),
            len(os.listdir("/proc/self/task")))

if __name__ == "__main__":
    lkreg.set_num_threads(3)
    parent = work(0)  # the parent's workers exist now
    with mp.get_context("{method}").Pool(2) as pool:
        results = pool.map(work, range(4))
    assert all(r[:3] == parent[:3] for r in results)
    assert all(r[3] == 3 for r in results)  # inherited (fork) or from LKREG_NUM_THREADS
    print(min(r[4] for r in results), parent[4])
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_children_run_in_parallel_and_give_the_parents_bits(method, tmp_path):
    if method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"no {method} here")
    script = tmp_path / "child.py"
    script.write_text(CHILD_SCRIPT.replace("{method}", method))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", LKREG_NUM_THREADS="3")
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    child_threads, parent_threads = map(int, result.stdout.split())
    # a child's own pool: its main thread plus 2 workers at least (pool helpers may add more)
    assert child_threads >= 3


def test_fork_while_another_thread_is_inside_a_parallel_call(tmp_path):
    if not hasattr(os, "fork"):
        pytest.skip("needs fork()")
    code = """
import os, threading, numpy as np, lkreg
lkreg.set_num_threads(3)
w = np.random.default_rng(1).standard_normal(2**23)
stop = False
def busy():
    while not stop:
        lkreg.Lk(1.5, 0.1).grad(w)
t = threading.Thread(target=busy); t.start()
small = np.random.default_rng(2).standard_normal(2**20)
want = lkreg.Lk(2.5, 0.1).grad(small)
for _ in range(20):
    pid = os.fork()
    if pid == 0:
        ok = np.array_equal(lkreg.Lk(2.5, 0.1).grad(small), want)
        os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0, status
stop = True; t.join()
print("ok")
"""
    result = _run_python(code, {"OPENBLAS_NUM_THREADS": "1"}, timeout=180)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_interpreter_exits_cleanly_with_workers_asleep_awake_or_busy():
    code = """
import threading, numpy as np, lkreg
lkreg.set_num_threads(4)
w = np.random.default_rng(0).standard_normal(2**22)
lkreg.L1(0.1).grad(w)                 # workers exist and go to sleep
def forever():
    while True:
        lkreg.L1(0.1).grad(w)
threading.Thread(target=forever, daemon=True).start()   # still calling kernels at exit
lkreg.Lk(1.5, 0.1).prox(w, 0.1)
print("done")
"""
    for _ in range(3):
        result = _run_python(code, {"OPENBLAS_NUM_THREADS": "1"}, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "done"


# Sizes around the chunking: below and above the parallel thresholds, a chunk, a reduction
# block, and odd tails; thread counts beyond the cores too (the caller then does more).
SIZES = [1, 63, 64, 65, 4095, 4096, 2**15 - 1, 2**15, 2**15 + 1, 3 * 2**14 + 7, 2**17 + 13,
         2**20 + 3]


@pytest.mark.parametrize("n", SIZES)
def test_every_element_exactly_once_for_any_thread_count(n, restore_threads):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n)
    t = 0.3
    want_soft = np.sign(x) * np.maximum(np.abs(x) - t, 0)
    want_l1 = 0.1 * np.abs(x).sum()
    results = {}
    for threads in (1, 2, 3, 5, 16):
        lkreg.set_num_threads(threads)
        y = np.full_like(x, np.nan)
        lkreg.soft_threshold(x, t, out=y)
        np.testing.assert_array_equal(y, want_soft)
        # in place: each element read and written once, or the shrink would apply twice
        z = x.copy()
        lkreg.soft_threshold(z, t, out=z)
        np.testing.assert_array_equal(z, want_soft)
        value = lkreg.L1(0.1).value(x)
        np.testing.assert_allclose(value, want_l1, rtol=1e-12)
        mask = lkreg.dropout_mask(x.shape, 0.4, seed=3, packed=True)
        results[threads] = (value, mask.tobytes(), lkreg.Lk(2.5, 0.2).grad(x).tobytes())
    assert len(set(results.values())) == 1


def test_concurrent_callers_and_a_racing_thread_count(restore_threads):
    # 8 Python threads share one pool (a caller that finds it busy runs alone) while another
    # keeps changing the thread count: every result is the serial one.
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(2**18 + 5 * i).astype(np.float32) for i in range(8)]
    lkreg.set_num_threads(1)
    want = [(lkreg.Lk(1.5, 0.1).value(a), lkreg.soft_threshold(a, 0.2).tobytes()) for a in arrays]
    stop = threading.Event()

    def churn():
        i = 0
        while not stop.is_set():
            lkreg.set_num_threads(1 + i % 4)
            i += 1

    def work(i):
        return [(lkreg.Lk(1.5, 0.1).value(arrays[i]), lkreg.soft_threshold(arrays[i], 0.2).tobytes())
                for _ in range(20)]

    churner = threading.Thread(target=churn)
    churner.start()
    try:
        with ThreadPoolExecutor(8) as ex:
            got = list(ex.map(work, range(8)))
    finally:
        stop.set()
        churner.join()
    for i, runs in enumerate(got):
        assert all(r == want[i] for r in runs)
