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
