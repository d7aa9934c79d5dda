import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

import lkreg
from lkreg import _core


def test_show_config_describes_the_build():
    cfg = lkreg.show_config()
    assert cfg["version"] == lkreg.__version__
    assert cfg["simd"] in cfg["simd_compiled"]
    assert cfg["simd_supported"] in cfg["simd_compiled"]
    assert isinstance(cfg["openmp"], bool)
    assert cfg["threads"] == lkreg.get_num_threads() >= 1


def _openmp_limit():
    """OpenMP's limit for this thread: what set_num_threads(huge) gives."""
    before = lkreg.get_num_threads()
    lkreg.set_num_threads(10**6)
    limit = lkreg.get_num_threads()
    lkreg.set_num_threads(before)
    return limit


def test_set_num_threads_round_trips(restore_threads):
    lkreg.set_num_threads(1)
    assert lkreg.get_num_threads() == 1
    if _openmp_limit() >= 2:
        lkreg.set_num_threads(2)
        assert lkreg.get_num_threads() == 2


def test_set_num_threads_is_process_wide(restore_threads):
    # one setting for every Python thread, and OpenMP's own per-thread limit left alone
    limit = _openmp_limit()
    with ThreadPoolExecutor(1) as other:
        lkreg.set_num_threads(1)
        assert other.submit(lkreg.get_num_threads).result() == 1
        other.submit(lkreg.set_num_threads, limit).result()
        assert lkreg.get_num_threads() == limit
        assert other.submit(_openmp_limit).result() == limit


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-3, ValueError), (1.5, TypeError), (True, TypeError)])
def test_set_num_threads_rejects_bad_counts(bad, error, restore_threads):
    with pytest.raises(error, match=r"\bn\b"):
        lkreg.set_num_threads(bad)


def test_threadpoolctl_limits_openmp_threads(restore_threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if _openmp_limit() < 2:
        pytest.skip("OpenMP runs one thread here")
    lkreg.set_num_threads(2)
    with threadpoolctl.threadpool_limits(1, user_api="openmp"):
        assert lkreg.get_num_threads() == 1
    assert lkreg.get_num_threads() == 2


def _config_in_subprocess(simd):
    env = dict(os.environ, LKREG_SIMD=simd)
    code = "import lkreg; print(lkreg.show_config()['simd'])"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_lkreg_simd_environment_forces_a_lower_level():
    result = _config_in_subprocess("baseline")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "baseline"


def test_lkreg_simd_environment_rejects_unknown_levels():
    result = _config_in_subprocess("sse9")
    assert result.returncode != 0
    assert "LKREG_SIMD" in result.stderr


def test_set_simd_level_refuses_levels_the_cpu_lacks():
    with pytest.raises(ValueError, match="level"):
        _core.set_simd_level("avx1024")


FORK_SCRIPT = """
import multiprocessing as mp
import numpy as np
import lkreg

w = np.random.default_rng(0).standard_normal(2**21)
parent = (lkreg.L1(0.1).value(w), lkreg.Lk(1.5, 0.1).grad(w).sum())  # the parent's thread pool exists now

def work(_):
    return lkreg.L1(0.1).value(w), lkreg.Lk(1.5, 0.1).grad(w).sum(), lkreg.get_num_threads()

with mp.get_context("fork").Pool(2) as pool:
    results = pool.map(work, range(2))
assert all(r[:2] == parent for r in results), (results, parent)
assert all(r[2] == 1 for r in results)
print("ok")
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_fork_after_use_does_not_hang_and_gives_the_same_results():
    # GNU OpenMP's pool does not survive fork(): a forked child must run single-threaded
    result = subprocess.run([sys.executable, "-c", FORK_SCRIPT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
