"""The pytest-benchmark suite (not part of the default test run)."""

SIZES = [2**16, 2**24]

import pytest

import lkreg


@pytest.fixture
def restore_threads():
    before = lkreg.get_num_threads()
    yield
    lkreg.set_num_threads(before)
