"""The pytest-benchmark suite (not part of the default test run)."""

SIZES = [2**16, 2**24]
