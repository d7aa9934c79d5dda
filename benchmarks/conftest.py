"""The pytest-benchmark suite (not part of the default test run)."""

import contextlib

import lkreg
from lkreg import _bench

SIZES = [2**16, 2**24]


@contextlib.contextmanager
def lkreg_and_torch_threads(n):
    """Run lkreg and torch (when installed) on ``n`` threads, restoring both afterwards."""
    before = lkreg.get_num_threads()
    lkreg.set_num_threads(n)
    torch = _bench._torch()
    if torch is not None:
        torch_before = torch.get_num_threads()
        torch.set_num_threads(n)
    try:
        yield
    finally:
        lkreg.set_num_threads(before)
        if torch is not None:
            torch.set_num_threads(torch_before)
