"""Independent references for lkreg's random numbers: Random123's Philox4x32-10 on Python ints
and in NumPy, and docs/architecture.md's mapping from (seed, stream, offset, index) to a kept element."""

import math

import numpy as np

MASK32 = 0xFFFFFFFF
MUL = (0xD2511F53, 0xCD9E8D57)
WEYL = (0x9E3779B9, 0xBB67AE85)

KNOWN_ANSWERS = [  # Random123's kat_vectors for philox4x32_10
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([MASK32] * 4, [MASK32] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    (
        [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
        [0xA4093822, 0x299F31D0],
        [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
    ),
]


def philox_python(counter, key):
    """Philox4x32-10 on Python ints, one counter: the algorithm as Random123 states it."""
    c, (k0, k1) = list(counter), key
    for _ in range(10):
        p0, p1 = MUL[0] * c[0], MUL[1] * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k0, p1 & MASK32, (p0 >> 32) ^ c[3] ^ k1, p0 & MASK32]
        k0, k1 = (k0 + WEYL[0]) & MASK32, (k1 + WEYL[1]) & MASK32
    return c


def philox_numpy(counters, key):
    """Philox4x32-10 vectorized in uint64 NumPy arithmetic: counters (..., 4) -> (..., 4)."""
    c = [counters[..., j].astype(np.uint64) for j in range(4)]
    k0, k1 = int(key[0]), int(key[1])
    low = np.uint64(MASK32)
    for _ in range(10):
        p0 = c[0] * np.uint64(MUL[0])  # < 2**64: no wrap-around
        p1 = c[2] * np.uint64(MUL[1])
        c = [
            (p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0),
            p1 & low,
            (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1),
            p0 & low,
        ]
        k0, k1 = (k0 + WEYL[0]) & MASK32, (k1 + WEYL[1]) & MASK32
    return np.stack(c, axis=-1).astype(np.uint32)


def spec_uniforms(n, seed, stream, offset):
    """The 32-bit draw of each element, from docs/architecture.md's formula."""
    g = np.uint64(offset) + np.arange(n, dtype=np.uint64)
    block = g >> np.uint64(2)
    counters = np.stack(
        [
            block & np.uint64(MASK32),
            block >> np.uint64(32),
            np.full(n, stream & MASK32, np.uint64),
            np.full(n, stream >> 32, np.uint64),
        ],
        axis=-1,
    ).astype(np.uint32)
    key = np.array([seed & MASK32, seed >> 32], np.uint32)
    words = philox_numpy(counters, key)
    return words[np.arange(n), (g & np.uint64(3)).astype(np.intp)]


def spec_mask(n, p, seed, stream=0, offset=0):
    threshold = math.floor((1 - p) * 2**32)
    return spec_uniforms(n, seed, stream, offset).astype(np.uint64) < threshold
