import pytest

import lkreg
from lkreg import _core

from helpers import SIMD_LEVELS


@pytest.fixture(params=SIMD_LEVELS)
def simd_level(request):
    """Run the test at each SIMD level this CPU has."""
    before = _core.simd_level()
    _core.set_simd_level(request.param)
    yield request.param
    _core.set_simd_level(before)


@pytest.fixture
def restore_threads():
    before = lkreg.get_num_threads()
    yield
    lkreg.set_num_threads(before)


try:  # hypothesis is a test dependency, but only tests/test_properties.py needs it
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # pragma: no cover
    pass
else:
    # Reproducible in CI: the same examples every run, no example database written to the tree.
    # HYPOTHESIS_PROFILE=explore draws fresh random examples (and more of them) when hunting.
    import os as _os

    _hypothesis_settings.register_profile("lkreg", derandomize=True, database=None, deadline=None)
    _hypothesis_settings.register_profile(
        "explore", max_examples=1000, deadline=None, database=None, print_blob=True
    )
    _hypothesis_settings.load_profile(_os.environ.get("HYPOTHESIS_PROFILE", "lkreg"))


@pytest.fixture(scope="module")
def client():
    """A real dask.distributed cluster: two in-process workers of one thread each."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as c:
            yield c
