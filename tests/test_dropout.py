"""Philox4x32-10, dropout masks and dropout against independent references (docs/architecture.md, "The random-number scheme")."""

import math

import numpy as np
import pytest

import lkreg
from lkreg import _core
from lkreg import (
    Dropout,
    alpha_dropout,
    drop_connect,
    dropout,
    dropout_backward,
    dropout_mask,
    philox4x32_10,
)

from helpers import DTYPES, SIMD_LEVELS, SIZES, bits, random_weights
from philox_reference import (
    KNOWN_ANSWERS,
    MASK32,
    philox_numpy,
    philox_python,
    spec_mask,
    spec_uniforms,
)


def spec_dropout(x, mask, p):
    """y = x * mask / (1 - p) as IEEE products: x * (scale if kept else 0), scale rounded once."""
    scale = x.dtype.type(1 / (1 - p))
    factor = np.where(mask.reshape(x.shape), scale, x.dtype.type(0)).astype(x.dtype)
    with np.errstate(invalid="ignore"):  # inf * 0
        return x * factor


DRAWS = [  # (seed, stream, offset): small, >= 2**32, offsets not multiples of 4 or 8
    (0, 0, 0),
    (12345, 7, 3),
    (2**32 + 5, 2**33 + 1, 2**32 - 2),
    (2**64 - 1, 2**64 - 1, 2**40 + 13),
]


# ---------------------------------------------------------------- Philox


@pytest.mark.parametrize("counter, key, expected", KNOWN_ANSWERS)
def test_philox_known_answers(counter, key, expected):
    assert philox_python(counter, key) == expected
    np.testing.assert_array_equal(philox_numpy(np.array(counter, np.uint32), key), expected)
    got = philox4x32_10(np.array(counter, np.uint32), np.array(key, np.uint32))
    assert got.dtype == np.uint32 and got.shape == (4,)
    np.testing.assert_array_equal(got, np.array(expected, np.uint32))


@pytest.mark.parametrize(
    "shape",
    # vector groups of 8 and 16 counters, steps of 32 and 128, and the tails around them
    [(0, 4), (1, 4), (5, 4), (3, 7, 4), (15, 4), (16, 4), (17, 4), (129, 4), (100_003, 4)],
)
def test_philox_matches_numpy_reference(shape, simd_level):
    rng = np.random.default_rng(sum(shape))
    counters = rng.integers(0, 2**32, size=shape, dtype=np.uint32)
    key = rng.integers(0, 2**32, size=2, dtype=np.uint32)
    got = philox4x32_10(counters, key)
    assert got.shape == shape and got.dtype == np.uint32
    np.testing.assert_array_equal(got, philox_numpy(counters, key))
    for i in range(min(3, shape[0])):  # and the plain-int version, on a few
        flat = counters.reshape(-1, 4)[i]
        assert list(got.reshape(-1, 4)[i]) == philox_python(
            [int(v) for v in flat], [int(k) for k in key]
        )


def test_philox_accepts_strided_counters():
    counters = np.arange(64, dtype=np.uint32).reshape(8, 8)[:, ::2]
    key = np.array([1, 2], np.uint32)
    np.testing.assert_array_equal(philox4x32_10(counters, key), philox_numpy(counters, key))


# ---------------------------------------------------------------- masks


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("seed, stream, offset", DRAWS)
def test_mask_matches_spec(n, seed, stream, offset):
    p = 0.3
    expected = spec_mask(n, p, seed, stream, offset)
    mask = dropout_mask(n, p, seed=seed, stream=stream, offset=offset)
    assert mask.dtype == np.bool_ and mask.shape == (n,)
    np.testing.assert_array_equal(mask, expected)
    packed = dropout_mask(n, p, seed=seed, stream=stream, offset=offset, packed=True)
    assert packed.dtype == np.uint8 and packed.shape == ((n + 7) // 8,)
    np.testing.assert_array_equal(packed, np.packbits(expected, bitorder="little"))


@pytest.mark.parametrize("n", [0, 1, 9, 1000, 2**16 + 5])
def test_mask_matches_spec_at_every_simd_level(n, simd_level):
    seed, stream, offset = DRAWS[2]
    expected = spec_mask(n, 0.6, seed, stream, offset)
    np.testing.assert_array_equal(
        dropout_mask(n, 0.6, seed=seed, stream=stream, offset=offset), expected
    )
    np.testing.assert_array_equal(
        dropout_mask(n, 0.6, seed=seed, stream=stream, offset=offset, packed=True),
        np.packbits(expected, bitorder="little"),
    )
    x = random_weights(n, np.float32)
    np.testing.assert_array_equal(
        bits(dropout(x, 0.6, seed=seed, stream=stream, offset=offset)),
        bits(spec_dropout(x, expected, 0.6)),
    )


@pytest.mark.parametrize(
    "p", [0.0, 1e-300, 2.0**-33, 0.25, 0.5, 0.999, 1 - 2.0**-32, 1 - 2.0**-40, np.nextafter(1, 0)]
)
def test_threshold_is_exact_at_the_edges(p):
    """floor((1 - p) * 2**32) compared as an integer: all kept, none kept, and in between."""
    n = 4096
    expected = spec_mask(n, p, 99, 1, 5)
    np.testing.assert_array_equal(dropout_mask(n, p, seed=99, stream=1, offset=5), expected)
    threshold = math.floor((1 - p) * 2**32)
    if threshold == 2**32:
        assert expected.all()
    if threshold == 0:
        assert not expected.any()
        x = random_weights(n, np.float64)
        assert not np.any(dropout(x, p, seed=99, stream=1, offset=5))


def test_keep_boundary_is_u_less_than_threshold():
    """With p = 1 - t / 2**32 the threshold is exactly t: a draw u is kept iff u < t."""
    n, seed, stream, offset = 64, 8, 9, 10
    u = spec_uniforms(n, seed, stream, offset)
    for i in (0, 1, 2, 3, 37):
        t = int(u[i])
        if t == 0 or t == MASK32:
            continue
        at_u = dropout_mask(n, 1 - t / 2**32, seed=seed, stream=stream, offset=offset)
        above_u = dropout_mask(n, 1 - (t + 1) / 2**32, seed=seed, stream=stream, offset=offset)
        assert not at_u[i] and above_u[i]
        np.testing.assert_array_equal(above_u, u <= t)


def test_mask_shapes():
    mask = dropout_mask((3, 4, 5), 0.5, seed=1)
    assert mask.shape == (3, 4, 5)
    np.testing.assert_array_equal(mask.ravel(), dropout_mask(60, 0.5, seed=1))
    assert dropout_mask((), 0.5, seed=1).shape == ()
    assert dropout_mask((0, 3), 0.5, seed=1).shape == (0, 3)
    assert dropout_mask((3, 4, 5), 0.5, seed=1, packed=True).shape == (8,)
    assert dropout_mask(np.int64(5), 0.5, seed=np.uint64(3)).shape == (5,)


@pytest.mark.parametrize("n", [2**20 + 3, 12345])
def test_identical_for_one_and_two_threads(n, simd_level, restore_threads):
    x32, x64 = random_weights(n, np.float32), random_weights(n, np.float64)
    kw = dict(seed=2**40 + 3, stream=5, offset=2**35 + 6)
    results = []
    for threads in (1, 2):
        lkreg.set_num_threads(threads)
        y32, m = dropout(x32, 0.4, return_mask=True, **kw)
        results.append(
            [
                dropout_mask(n, 0.4, **kw),
                dropout_mask(n, 0.4, packed=True, **kw),
                m,
                bits(y32),
                bits(dropout(x64, 0.4, **kw)),
                bits(alpha_dropout(x32, 0.4, **kw)),
                bits(dropout_backward(x64, m, 0.4)),
                bits(dropout_backward(x64, np.packbits(m, bitorder="little"), 0.4)),
            ]
        )
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(results[0][0], spec_mask(n, 0.4, **kw))


def test_identical_at_every_simd_level():
    from lkreg import _core

    n = 100_003
    x = random_weights(n, np.float64)
    before = _core.simd_level()
    out = {}
    try:
        for level in SIMD_LEVELS:
            _core.set_simd_level(level)
            out[level] = (
                dropout_mask(n, 0.3, seed=7, offset=1, packed=True),
                bits(dropout(x, 0.3, seed=7, offset=1)),
                bits(alpha_dropout(x, 0.3, seed=7, offset=1)),
                philox4x32_10(
                    np.arange(4 * 999, dtype=np.uint32).reshape(-1, 4), np.array([3, 4], np.uint32)
                ),
            )
    finally:
        _core.set_simd_level(before)
    for arrays in out.values():
        for a, b in zip(arrays, out[SIMD_LEVELS[0]]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "cuts",
    [
        [0, 1, 2, 3, 5, 8, 13, 100, 777, 4096, 70_001, 100_000],
        [0, 64, 50_000, 100_000],
        [0, 99_999, 100_000],
    ],
)
def test_blocks_with_offsets_reproduce_the_whole(cuts):
    n, p, seed, stream, base = 100_000, 0.35, 2**50 + 1, 3, 2**33 + 1
    x = random_weights(n, np.float32)
    whole_mask = dropout_mask(n, p, seed=seed, stream=stream, offset=base)
    whole = dropout(x, p, seed=seed, stream=stream, offset=base)
    for start, stop in zip(cuts[:-1], cuts[1:]):
        kw = dict(seed=seed, stream=stream, offset=base + start)
        np.testing.assert_array_equal(dropout_mask(stop - start, p, **kw), whole_mask[start:stop])
        np.testing.assert_array_equal(
            dropout_mask(stop - start, p, packed=True, **kw),
            np.packbits(whole_mask[start:stop], bitorder="little"),
        )
        np.testing.assert_array_equal(
            bits(dropout(x[start:stop], p, **kw)), bits(whole[start:stop])
        )


def test_offsets_past_2_to_the_32_blocks():
    """Counters carry from the low to the high word (g // 4 crosses 2**32 inside the array)."""
    offset = 4 * (2**32 - 3) + 1
    np.testing.assert_array_equal(
        dropout_mask(50, 0.5, seed=1, offset=offset), spec_mask(50, 0.5, 1, 0, offset)
    )
    offset = 2**64 - 37
    np.testing.assert_array_equal(
        dropout_mask(37, 0.5, seed=1, offset=offset), spec_mask(37, 0.5, 1, 0, offset)
    )


def test_more_than_2_to_the_31_elements():
    n = 2**31 + 11
    packed = dropout_mask(n, 0.5, seed=3, stream=1, packed=True)
    assert packed.shape == ((n + 7) // 8,)
    tail = n - 2**31 + 13  # the last bytes: elements from 2**31 - 13 on, checked against the spec
    start = n - tail
    expected = spec_mask(tail, 0.5, 3, 1, start)
    np.testing.assert_array_equal(
        np.unpackbits(packed, bitorder="little", count=n)[start:], expected
    )
    assert abs(np.unpackbits(packed[: 2**24]).mean() - 0.5) < 1e-3


# ---------------------------------------------------------------- statistics


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_kept_fraction_within_5_sigma(p):
    n = 10**7
    mask = dropout_mask(n, p, seed=2024, stream=3)
    kept = np.count_nonzero(mask)
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(kept - n * (1 - p)) < 5 * sigma


def _correlation(a, b):
    a = a.astype(np.float64) - a.mean()
    b = b.astype(np.float64) - b.mean()
    return float(a @ b / math.sqrt((a @ a) * (b @ b)))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_no_correlation_between_neighbours_or_streams(p):
    n = 2**22
    m = dropout_mask(n, p, seed=77, stream=0)
    bound = 5 / math.sqrt(n)
    for lag in (1, 2, 3, 4, 5, 8):  # lags inside one Philox call and across calls
        assert abs(_correlation(m[:-lag], m[lag:])) < bound, lag
    for other in (dropout_mask(n, p, seed=77, stream=1), dropout_mask(n, p, seed=78, stream=0)):
        assert abs(_correlation(m, other)) < bound
    # chi-square of the 16 patterns of 4 consecutive elements against independent Bernoulli(1-p)
    quads = m[: n // 4 * 4].reshape(-1, 4).astype(np.int64) @ np.array([1, 2, 4, 8])
    counts = np.bincount(quads, minlength=16)
    ones = np.array([bin(k).count("1") for k in range(16)])
    expected = quads.size * (1 - p) ** ones * p ** (4 - ones)
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    assert chi2 < 50.0  # 15 degrees of freedom: P(chi2 > 50) < 1e-5


def test_uniform_words_are_uniform():
    u = spec_uniforms(2**16, 5, 6, 7)
    np.testing.assert_array_equal(dropout_mask(2**16, 0.5, seed=5, stream=6, offset=7), u < 2**31)
    counts = np.bincount(u >> 28, minlength=16)  # top 4 bits of the kernel-checked draws
    expected = u.size / 16
    assert float(np.sum((counts - expected) ** 2 / expected)) < 50.0


# ---------------------------------------------------------------- dropout


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("n", SIZES)
def test_dropout_matches_formula(n, dtype, simd_level):
    p, seed, stream, offset = 0.45, 2**33 + 9, 2, 7
    x = random_weights(n, dtype)
    expected_mask = spec_mask(n, p, seed, stream, offset)
    y = dropout(x, p, seed=seed, stream=stream, offset=offset)
    assert y.dtype == dtype and y.shape == x.shape
    np.testing.assert_array_equal(bits(y), bits(spec_dropout(x, expected_mask, p)))
    y2, mask = dropout(x, p, seed=seed, stream=stream, offset=offset, return_mask=True)
    assert mask.dtype == np.bool_ and mask.shape == x.shape
    np.testing.assert_array_equal(mask, expected_mask)
    np.testing.assert_array_equal(bits(y2), bits(y))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_special_values_follow_ieee_products(dtype):
    """y = x * (scale if kept else 0): a dropped NaN or inf gives NaN, a dropped finite x a zero
    with x's sign; kept values are x * scale. The same for every way to drop."""
    n = 4000
    x = np.resize(np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 1.0, -1.0], dtype), n)
    mask = dropout_mask(n, 0.5, seed=4)
    dropped = np.resize(np.array([np.nan, np.nan, np.nan, -0.0, 0.0, 0.0, -0.0], dtype), n)
    with np.errstate(invalid="ignore"):
        expected = np.where(mask, x * dtype(2), dropped)
    packed = np.packbits(mask, bitorder="little")
    for y in (
        dropout(x, 0.5, seed=4),
        dropout(x, 0.5, seed=4, return_mask=True)[0],
        drop_connect(x, 0.5, seed=4),
        dropout_backward(x, mask, 0.5),
        dropout_backward(x, packed, 0.5),
    ):
        np.testing.assert_array_equal(y, expected)  # NaN where expected is NaN (any payload)
        signed = ~np.isnan(expected)
        np.testing.assert_array_equal(np.signbit(y[signed]), np.signbit(expected[signed]))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_p_zero_is_the_identity(dtype):
    x = np.array([np.nan, -0.0, 0.0, np.inf, 1.5, -3.0] * 2000, dtype)
    for fn in (dropout, alpha_dropout, drop_connect):
        np.testing.assert_array_equal(bits(fn(x, 0.0, seed=1)), bits(x))
    y, mask = dropout(x, 0.0, seed=1, return_mask=True)
    assert mask.all() and np.array_equal(bits(y), bits(x))
    assert dropout_mask(10, 0.0, seed=1).all()
    np.testing.assert_array_equal(dropout_mask(10, 0.0, seed=1, packed=True), [255, 3])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_out_and_in_place(dtype):
    x = random_weights(10_001, dtype)
    expected = dropout(x, 0.3, seed=5, offset=2)
    out = np.empty_like(x)
    assert dropout(x, 0.3, seed=5, offset=2, out=out) is out
    np.testing.assert_array_equal(bits(out), bits(expected))
    x2 = x.copy()
    y, mask = dropout(x2, 0.3, seed=5, offset=2, out=x2, return_mask=True)
    assert y is x2
    np.testing.assert_array_equal(bits(x2), bits(expected))
    np.testing.assert_array_equal(mask, dropout_mask(x.size, 0.3, seed=5, offset=2))
    x3 = x.copy()
    assert alpha_dropout(x3, 0.3, seed=5, out=x3) is x3
    np.testing.assert_array_equal(bits(x3), bits(alpha_dropout(x, 0.3, seed=5)))


@pytest.mark.parametrize(
    "make",
    [
        lambda w: w[::2],
        lambda w: w.reshape(40, 50).T,
        lambda w: np.asfortranarray(w.reshape(40, 50)),
    ],
    ids=["step2", "transposed", "fortran"],
)
def test_strided_input_is_copied_once(make):
    view = make(random_weights(2000, np.float32))
    assert not view.flags.c_contiguous
    y = dropout(view, 0.5, seed=3)
    assert y.shape == view.shape and y.flags.c_contiguous
    np.testing.assert_array_equal(bits(y), bits(dropout(np.ascontiguousarray(view), 0.5, seed=3)))


def test_lists_and_shapes():
    np.testing.assert_array_equal(dropout([1.0, 2.0, 3.0], 0.0, seed=0), [1.0, 2.0, 3.0])
    for shape in [(), (3, 4), (2, 3, 5), (0, 4)]:
        x = random_weights(int(np.prod(shape)), np.float64).reshape(shape)
        y, mask = dropout(x, 0.5, seed=9, return_mask=True)
        assert y.shape == shape and mask.shape == shape
        np.testing.assert_array_equal(mask.ravel(), dropout_mask(x.size, 0.5, seed=9))


# ---------------------------------------------------------------- backward


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("n", SIZES)
def test_backward_from_stored_masks(n, dtype, simd_level):
    p, kw = 0.6, dict(seed=11, stream=1, offset=5)
    x, grad = random_weights(n, dtype), random_weights(n, dtype, seed=1)
    _, mask = dropout(x, p, return_mask=True, **kw)
    packed = dropout_mask(n, p, packed=True, **kw)
    np.testing.assert_array_equal(packed, np.packbits(mask.ravel(), bitorder="little"))
    expected = spec_dropout(grad, mask, p)  # grad * (scale if kept else 0)
    for stored in (mask, packed):
        np.testing.assert_array_equal(bits(dropout_backward(grad, stored, p)), bits(expected))
    # the recomputing backward (same call on the gradient) is the same
    np.testing.assert_array_equal(bits(dropout(grad, p, **kw)), bits(expected))


def test_backward_shapes_out_and_in_place():
    x = random_weights(60, np.float32).reshape(3, 4, 5)
    y, mask = dropout(x, 0.5, seed=8, return_mask=True)
    g = np.ones_like(x)
    expected = dropout(g, 0.5, seed=8)
    packed = np.packbits(mask.ravel(), bitorder="little")
    out = np.empty_like(g)
    assert dropout_backward(g, packed, 0.5, out=out) is out
    np.testing.assert_array_equal(out, expected)
    assert dropout_backward(g, mask, 0.5, out=g) is g
    np.testing.assert_array_equal(g, expected)
    # a strided bool mask is copied like a strided gradient
    mask_f = np.asfortranarray(mask)
    np.testing.assert_array_equal(dropout_backward(np.ones_like(x), mask_f, 0.5), expected)


# ---------------------------------------------------------------- alpha dropout and DropConnect

ALPHA_PRIME = -1.7580993408473766


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("p", [0.05, 0.3, 0.8])
def test_alpha_dropout_matches_torch_formula(p, dtype, simd_level):
    n = 10_007
    kw = dict(seed=21, stream=4, offset=3)
    x = random_weights(n, dtype)
    a = 1 / math.sqrt((ALPHA_PRIME * ALPHA_PRIME * p + 1) * (1 - p))  # torch's expression
    assert a == pytest.approx(((1 - p) * (1 + p * ALPHA_PRIME**2)) ** -0.5, rel=1e-15)
    b = -a * ALPHA_PRIME * p
    mask = spec_mask(n, p, 21, 4, 3)
    expected = np.where(mask, dtype(a) * x, dtype(a * ALPHA_PRIME)) + dtype(b)
    np.testing.assert_array_equal(bits(alpha_dropout(x, p, **kw)), bits(expected))


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_mean_and_variance(p):
    n = 2_000_000
    x = np.random.default_rng(3).standard_normal(n)
    y = alpha_dropout(x, p, seed=123)
    # sampling error of the mean is ~1/sqrt(n); of the variance ~sqrt(var(y**2)/n) < 3/sqrt(n)
    assert abs(y.mean()) < 5 / math.sqrt(n)
    assert abs(y.var() - 1.0) < 15 / math.sqrt(n)
    y32 = alpha_dropout(x.astype(np.float32), p, seed=123)
    np.testing.assert_allclose(y32, y, rtol=1e-6, atol=1e-6)


def test_alpha_dropout_against_torch_when_installed():
    """torch draws its own mask: each of its outputs must be our kept value or our dropped one."""
    torch = pytest.importorskip("torch")
    p = 0.2
    x = np.random.default_rng(0).standard_normal(10_000)
    t = torch.nn.functional.alpha_dropout(torch.from_numpy(x), p=p, training=True).numpy()
    ours_kept = alpha_dropout(x, p, seed=5)  # kept where the mask says so
    mask = dropout_mask(x.size, p, seed=5)
    kept_value = np.where(mask, ours_kept, np.nan)
    dropped_value = ours_kept[~mask][0]
    a = ((1 - p) * (1 + p * ALPHA_PRIME**2)) ** -0.5
    np.testing.assert_allclose(
        kept_value[mask], a * x[mask] - a * ALPHA_PRIME * p, rtol=1e-15, atol=1e-15
    )
    torch_dropped = np.isclose(t, dropped_value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        t[~torch_dropped], a * x[~torch_dropped] - a * ALPHA_PRIME * p, rtol=1e-12, atol=1e-12
    )
    assert 0.15 < torch_dropped.mean() < 0.25


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_drop_connect_is_dropout_on_weights(dtype):
    w = random_weights(300, dtype).reshape(20, 15)
    kw = dict(seed=6, stream=2, offset=10)
    np.testing.assert_array_equal(bits(drop_connect(w, 0.25, **kw)), bits(dropout(w, 0.25, **kw)))
    out = np.empty_like(w)
    assert drop_connect(w, 0.25, out=out, **kw) is out
    mask = spec_mask(w.size, 0.25, 6, 2, 10).reshape(w.shape)
    np.testing.assert_array_equal(bits(out), bits(spec_dropout(w, mask, 0.25)))


# ---------------------------------------------------------------- the layer


def test_dropout_layer_train_eval_forward_backward():
    layer = Dropout(0.4, seed=31)
    assert layer.training and layer.offset == 0
    x = random_weights(1000, np.float32).reshape(10, 100)
    y1 = layer.forward(x)
    assert layer.offset == 1000
    np.testing.assert_array_equal(bits(y1), bits(dropout(x, 0.4, seed=31, offset=0)))
    g = random_weights(1000, np.float32, seed=5).reshape(10, 100)
    dx = layer.backward(g)
    np.testing.assert_array_equal(bits(dx), bits(dropout(g, 0.4, seed=31, offset=0)))
    y2 = layer(x)  # a second batch: fresh mask
    assert layer.offset == 2000
    assert not np.array_equal(y1 != 0, y2 != 0)
    np.testing.assert_array_equal(bits(y2), bits(dropout(x, 0.4, seed=31, offset=1000)))
    np.testing.assert_array_equal(
        bits(layer.backward(g)), bits(dropout(g, 0.4, seed=31, offset=1000))
    )
    with pytest.raises(ValueError, match="grad"):
        layer.backward(g[:5])

    assert layer.eval() is layer and not layer.training
    assert layer.forward(x) is x
    assert layer.backward(g) is g
    assert layer.offset == 2000  # eval draws nothing
    layer.train()
    np.testing.assert_array_equal(
        bits(layer.forward(x)), bits(dropout(x, 0.4, seed=31, offset=2000))
    )


def test_dropout_layer_streams_seeds_and_repr():
    a, b = Dropout(0.5, seed=1), Dropout(0.5, seed=1, stream=1)
    x = np.ones(4096)
    assert not np.array_equal(a.forward(x), b.forward(x))
    assert Dropout(0.5).seed != Dropout(0.5).seed  # drawn from the OS
    assert 0 <= Dropout(0.5).seed < 2**64
    layer = Dropout(0.25, seed=7)
    assert repr(layer) == "Dropout(p=0.25, seed=7, offset=0, mode='train')"
    layer.forward(np.ones(3))
    layer.eval()
    assert repr(layer) == "Dropout(p=0.25, seed=7, offset=3, mode='eval')"
    assert (
        repr(Dropout(0.5, seed=1, stream=2))
        == "Dropout(p=0.5, seed=1, stream=2, offset=0, mode='train')"
    )
    with pytest.raises(RuntimeError, match="forward"):
        Dropout(0.5, seed=1).backward(np.ones(3))


def test_dropout_layer_p_zero_and_validation():
    layer = Dropout(0.0, seed=3)
    x = random_weights(100, np.float64)
    np.testing.assert_array_equal(bits(layer.forward(x)), bits(x))
    with pytest.raises(ValueError, match=r"\bp\b"):
        Dropout(1.0)
    with pytest.raises(ValueError, match=r"\bseed\b"):
        Dropout(0.5, seed=-1)
    with pytest.raises(TypeError, match=r"\bseed\b"):
        Dropout(0.5, seed=1.5)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "p", [1.0, 1.5, -0.1, -1e-300, float("nan"), float("inf"), np.float32(1.0)]
)
def test_bad_p_is_value_error(p):
    x = np.ones(10)
    before = x.copy()
    for call in (
        lambda: dropout(x, p, seed=1, out=x),
        lambda: alpha_dropout(x, p, seed=1, out=x),
        lambda: drop_connect(x, p, seed=1, out=x),
        lambda: dropout_mask(10, p, seed=1),
        lambda: dropout_backward(x, np.ones(10, bool), p, out=x),
    ):
        with pytest.raises(ValueError, match=r"\bp must be in \[0, 1\)"):
            call()
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("p", ["0.5", None, True, 0.5j])
def test_non_real_p_is_type_error(p):
    with pytest.raises(TypeError, match=r"\bp\b"):
        dropout(np.ones(3), p, seed=1)


@pytest.mark.parametrize("name", ["seed", "stream", "offset"])
@pytest.mark.parametrize(
    "value, error",
    [
        (-1, ValueError),
        (2**64, ValueError),
        (-(2**70), ValueError),
        (1.0, TypeError),
        ("3", TypeError),
        (True, TypeError),
    ],
)
def test_bad_seed_stream_offset(name, value, error):
    x = np.ones(10)
    before = x.copy()
    kw = {"seed": 1, name: value}
    for call in (
        lambda: dropout(x, 0.5, out=x, **kw),
        lambda: alpha_dropout(x, 0.5, out=x, **kw),
        lambda: dropout_mask(10, 0.5, **kw),
    ):
        with pytest.raises(error, match=rf"\b{name}\b"):
            call()
    np.testing.assert_array_equal(x, before)


def test_offset_must_be_below_2_to_the_64_even_for_empty_arrays():
    with pytest.raises(ValueError, match=r"\boffset\b"):
        dropout_mask(0, 0.5, seed=1, offset=2**64)
    with pytest.raises(ValueError, match=r"\bseed\b"):
        dropout(np.ones(0), 0.5, seed=2**64)
    assert dropout_mask(0, 0.5, seed=2**64 - 1, stream=2**64 - 1, offset=2**64 - 1).shape == (0,)


def test_offset_plus_size_past_2_to_the_64():
    with pytest.raises(ValueError, match=r"\boffset\b"):
        dropout_mask(10, 0.5, seed=1, offset=2**64 - 9)
    assert dropout_mask(10, 0.5, seed=1, offset=2**64 - 10).shape == (10,)
    with pytest.raises(ValueError, match=r"\boffset\b"):
        dropout(np.ones(3), 0.5, seed=1, offset=2**64 - 2)


def test_seed_is_required():
    with pytest.raises(TypeError):
        dropout(np.ones(3), 0.5)  # type: ignore[call-arg]


# ---- blocks of a larger array (lkreg.dask's entry points; no dask needed) -------------------

def test_block_entry_points_are_slices_of_the_whole(simd_level):
    shape = (5, 6, 7)
    whole = lkreg.dropout_mask(shape, 0.4, seed=9, stream=3, offset=77)
    x = np.random.default_rng(0).standard_normal(shape)
    for start, block in [((0, 0, 0), (5, 6, 7)), ((1, 2, 3), (3, 2, 4)), ((4, 0, 0), (1, 6, 7)),
                         ((0, 5, 6), (5, 1, 1)), ((2, 3, 0), (0, 3, 7))]:
        sl = tuple(slice(s, s + b) for s, b in zip(start, block))
        np.testing.assert_array_equal(
            _core.dropout_mask_block(list(block), 0.4, 9, 3, 77, list(shape), list(start)),
            whole[sl])
        xb = np.ascontiguousarray(x[sl])
        np.testing.assert_array_equal(
            bits(_core.dropout_block(xb, 0.4, 9, 3, 77, list(shape), list(start))),
            bits(lkreg.dropout(x, 0.4, seed=9, stream=3, offset=77)[sl]))
        np.testing.assert_array_equal(
            bits(_core.alpha_dropout_block(xb, 0.4, 9, 3, 77, list(shape), list(start))),
            bits(lkreg.alpha_dropout(x, 0.4, seed=9, stream=3, offset=77)[sl]))
    # a 0-d array is one block of one element
    np.testing.assert_array_equal(_core.dropout_mask_block([], 0.5, 1, 0, 3, [], []),
                                  lkreg.dropout_mask(1, 0.5, seed=1, offset=3)[0])


def test_a_block_split_along_the_last_axis_in_parallel(simd_level, restore_threads):
    # one run per row, the threads' chunks cutting through rows: the whole array's slice at any
    # thread count
    shape = (3000, 50)
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    whole = lkreg.dropout(x, 0.3, seed=11, stream=4, offset=999)
    mask = lkreg.dropout_mask(shape, 0.3, seed=11, stream=4, offset=999)
    for threads in (1, 2, 3):
        lkreg.set_num_threads(threads)
        for start, width in [(0, 7), (13, 1), (20, 30)]:
            block = np.ascontiguousarray(x[:, start:start + width])
            y, m = _core.dropout_block(block, 0.3, 11, 4, 999, list(shape), [0, start],
                                       return_mask=True)
            np.testing.assert_array_equal(bits(y), bits(whole[:, start:start + width]))
            np.testing.assert_array_equal(m, mask[:, start:start + width])


@pytest.mark.parametrize("start, block, shape", [
    ([0, 5], [2, 2], [4, 6]),  # past the end of axis 1
    ([-1, 0], [1, 1], [4, 6]),
    ([0], [1, 1], [4, 6]),  # lengths differ
    ([0, 0], [1, -1], [4, 6]),
])
def test_a_block_outside_the_array_is_a_value_error(start, block, shape):
    with pytest.raises(ValueError, match="block|length"):
        _core.dropout_mask_block(block, 0.5, 1, 0, 0, shape, start)
    with pytest.raises(ValueError, match="offset"):
        _core.dropout_mask_block([1], 0.5, 1, 0, 2**64 - 5, [10], [0])
