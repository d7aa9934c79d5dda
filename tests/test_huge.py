"""64-bit indexing: a float32 array of 2**31 + 17 elements (8.6 GB) through the kernels.

The array is filled with one value plus distinct markers: at the start, around the places a
32-bit index or byte offset would wrap (2**29 elements = 2**31 bytes, 2**30, 2**31), around the
split between two threads, and the last 20 elements (indices 2**31 - 3 .. 2**31 + 16). Then, in
place (one array in memory):

1. ``soft_threshold(x, t, out=x)``: every marker and a sample of the body exactly;
2. ``L1.value`` exactly (all terms are multiples of 1/4, so the float64 sum is exact: it checks
   every element of step 1), and ``Lk(1.5).value`` to 1e-6, where each marker weighs about
   3e-4 of the total, so a skipped or repeated element would show;
3. ``dropout(x, 0.5, out=x)``: every marker and the sample against a pure-Python Philox4x32-10
   at the element's global index; ``dropout_mask(packed=True)``'s bits there too; and
   ``L1.value`` of the result equals the number of kept elements in the packed mask (exactly),
   which checks every element of the dropout against the mask.

The array needs 8.6 GB: the test is skipped when /proc/meminfo's MemAvailable (or the cgroup's
memory limit) leaves less than 12 GB. It takes 20-25 s on a 2-core VM (half of it the page
faults of filling the array; each kernel pass about 1 s), and is marked ``slow``
(``-m "not slow"`` leaves it out; the default run includes it).

Philox's 64-bit counter ``g // 4`` stays below 2**32 for this array, so its high word is
tested on small arrays with offsets past 2**34 (not slow).
"""

from __future__ import annotations

import gc
import math
import time

import numpy as np
import pytest

import lkreg
from philox_reference import MASK32, philox_python


def kept(g, p, seed, stream):
    """Whether the element with global index g is kept: docs/architecture.md's draw, in Python ints."""
    counter = [g // 4 & MASK32, g // 4 >> 32, stream & MASK32, stream >> 32]
    u = philox_python(counter, [seed & MASK32, seed >> 32])[g % 4]
    return p == 0 or u < math.floor((1 - p) * 2**32)


@pytest.mark.parametrize("offset", [2**34 - 8, 2**34 - 5, 2**34 + 3, 2**63 - 30, 2**64 - 64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_past_the_high_counter_word(offset, dtype):
    """g // 4 crosses 2**32 (and higher): the counter's high word must be g // 4 >> 32."""
    n, p, seed, stream = 64, 0.5, 2**40 + 7, 2**33 + 1
    x = np.arange(1, n + 1, dtype=dtype)
    want = np.array([kept(offset + i, p, seed, stream) for i in range(n)])
    assert 0 < want.sum() < n
    y, mask = lkreg.dropout(x, p, seed=seed, stream=stream, offset=offset, return_mask=True)
    np.testing.assert_array_equal(mask, want)
    np.testing.assert_array_equal(y, np.where(want, x * 2, 0).astype(dtype))
    packed = lkreg.dropout_mask(n, p, seed=seed, stream=stream, offset=offset, packed=True)
    np.testing.assert_array_equal(packed, np.packbits(want, bitorder="little"))
    z = x.copy()
    lkreg.dropout(z, p, seed=seed, stream=stream, offset=offset, out=z)  # in place
    np.testing.assert_array_equal(z, y)


# ---------------------------------------------------------------------------------------------
# The 8.6 GB array

N = 2**31 + 17
NEEDED = 12 * 2**30


def _available_bytes():
    """MemAvailable, capped by a cgroup memory limit; None where neither can be read."""
    available = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
    except OSError:
        return None
    for path, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                        ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                         "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(path) as f, open(usage) as g:
                limit, used = f.read().strip(), int(g.read())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 2**60:
            available = min(available or 2**62, int(limit) - used)
        break
    return available


def _markers():
    split = (N + 63) // 64 // 2 * 64  # where two threads split an element-wise kernel
    around = [0, 2**29, 2**30, split, 2**31]
    idx = {i + d for i in around for d in range(-3, 4) if 0 <= i + d < N}
    idx |= set(range(N - 20, N))  # the tail: 2**31 - 3 .. 2**31 + 16
    idx = np.array(sorted(idx), dtype=np.int64)
    j = np.arange(idx.size)
    values = (4096 + 64 * j).astype(np.float32)
    values[j % 5 == 4] = 0.125  # below the threshold: soft-thresholded to 0
    values[j % 2 == 1] *= -1
    return idx, values


def _popcount(bytes_):
    """The number of set bits in a uint8 array (by a table: NumPy < 2 has no bitwise_count)."""
    table = np.array([bin(i).count("1") for i in range(256)], np.uint8)
    step = 2**26
    return sum(int(table[bytes_[i:i + step]].sum(dtype=np.int64))
               for i in range(0, bytes_.size, step))


BODY, T, P, SEED, STREAM = np.float32(0.75), 0.25, 0.5, 2**35 + 11, 3


@pytest.mark.slow
@pytest.mark.skipif(
    (_available_bytes() or 0) < NEEDED,
    reason="needs 12 GB of available memory (MemAvailable in /proc/meminfo, or the cgroup "
    "limit) for an 8.6 GB float32 array of 2**31 + 17 elements",
)
def test_two_to_the_31_plus_17_elements():
    times = {}
    start = time.perf_counter()
    idx, values = _markers()
    rng = np.random.default_rng(0)
    sample = np.unique(rng.integers(0, N, 2000))
    sample = np.setdiff1d(sample, idx)  # body elements, spread over the array
    checked = np.concatenate([idx, sample])

    x = np.full(N, BODY, dtype=np.float32)  # first-touching 8.6 GB: most of the test's time
    try:
        x[idx] = values
        times["fill"] = time.perf_counter() - start

        # 1. soft-thresholding in place
        t0 = time.perf_counter()
        assert lkreg.soft_threshold(x, T, out=x) is x
        times["soft_threshold"] = time.perf_counter() - t0
        soft = np.sign(values) * np.maximum(np.abs(values) - np.float32(T), 0)
        body = BODY - np.float32(T)  # 0.5
        np.testing.assert_array_equal(x[idx], soft)
        np.testing.assert_array_equal(x[sample], np.full(sample.size, body))

        # 2. values: L1 exactly (every term a multiple of 1/4), Lk(1.5) to 1e-6
        n_body = N - idx.size
        t0 = time.perf_counter()
        l1 = lkreg.L1(1.0).value(x)
        times["L1.value"] = time.perf_counter() - t0
        assert l1 == n_body * float(body) + float(np.abs(soft.astype(np.float64)).sum())
        t0 = time.perf_counter()
        lk = lkreg.Lk(1.5, 1.0).value(x)
        times["Lk(1.5).value"] = time.perf_counter() - t0
        want = n_body * float(body) ** 1.5 + float((np.abs(soft.astype(np.float64)) ** 1.5).sum())
        assert lk == pytest.approx(want, rel=1e-6)

        # 3. dropout in place, against the reference Philox at each checked global index
        before = np.concatenate([soft, np.full(sample.size, body)])
        keep = np.array([kept(int(g), P, SEED, STREAM) for g in checked])
        t0 = time.perf_counter()
        assert lkreg.dropout(x, P, seed=SEED, stream=STREAM, out=x) is x
        times["dropout"] = time.perf_counter() - t0
        np.testing.assert_array_equal(x[checked], np.where(keep, before * 2, before * 0))

        t0 = time.perf_counter()
        packed = lkreg.dropout_mask(N, P, seed=SEED, stream=STREAM, packed=True)
        times["dropout_mask(packed)"] = time.perf_counter() - t0
        assert packed.shape == ((N + 7) // 8,)
        bits = (packed[checked // 8] >> (checked % 8).astype(np.uint8)) & 1
        np.testing.assert_array_equal(bits.astype(bool), keep)
        assert packed[-1] >> (N % 8) == 0  # the padding bits of the last byte are 0
        n_kept = _popcount(packed)
        del packed
        kept_markers = keep[: idx.size]
        # every element of the dropout against the mask: body elements are 1 where kept
        t0 = time.perf_counter()
        l1 = lkreg.L1(1.0).value(x)
        times["L1.value again"] = time.perf_counter() - t0
        markers_l1 = float(np.abs(2 * soft[kept_markers].astype(np.float64)).sum())
        assert l1 == (n_kept - kept_markers.sum()) * 1.0 + markers_l1
        assert abs(n_kept / N - (1 - P)) < 1e-4
    finally:
        del x
        gc.collect()
    times["total"] = time.perf_counter() - start
    print("\n2**31 + 17 float32: " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items()))
