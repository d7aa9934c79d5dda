"""Penalty values and gradients against their NumPy formulas (the penalty table of README.md, "The API in brief")."""

import math

import numpy as np
import pytest

import lkreg
from lkreg import L0, L1, L2, ElasticNet, Lk

from helpers import DTYPES, SIZES, bits, random_weights

PENALTIES = [
    L1(0.3),
    L2(0.7),
    Lk(0.5, 0.2),
    Lk(1.5, 0.4),
    Lk(3, 0.1),
    Lk(10, 0.05),
    Lk(0.3, 0.2),
    Lk(2.7, 0.3),
    Lk(1, 0.3),
    Lk(2, 0.3),
    ElasticNet(0.2, 0.5),
    ElasticNet(0.2, 0.0),
    ElasticNet(0.0, 0.5),
    L0(0.25),
    Lk(1.5, 0.4, reduction="mean"),
    ElasticNet(0.2, 0.5, reduction="mean"),
    L0(0.25, reduction="mean"),
]


def reference_value(pen, w):
    """The penalty's formula in float64 NumPy."""
    a = np.abs(w.astype(np.float64))
    if isinstance(pen, Lk):
        v = pen.lam * np.sum(a**pen.k)
    elif isinstance(pen, ElasticNet):
        v = pen.l1 * np.sum(a) + pen.l2 * np.sum(a * a)
    else:
        v = pen.lam * np.count_nonzero(w)
    return v / w.size if pen.reduction == "mean" and w.size else v


def reference_grad(pen, w):
    """The gradient formula in float64 NumPy, 0 where w == 0."""
    w64 = w.astype(np.float64)
    a, s = np.abs(w64), np.sign(w64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if isinstance(pen, Lk):
            g = np.where(a == 0, 0.0, pen.lam * pen.k * a ** (pen.k - 1) * s)
        elif isinstance(pen, ElasticNet):
            g = pen.l1 * s + 2 * pen.l2 * w64
        else:
            g = np.zeros_like(w64)
    return g / w.size if pen.reduction == "mean" and w.size else g


def tolerances(dtype):
    # atol: results that underflow into the subnormals lose relative precision
    return dict(rtol=2e-6, atol=1e-37) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("pen", PENALTIES, ids=repr)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("n", SIZES)
def test_matches_numpy_formula(pen, dtype, n, simd_level):
    w = random_weights(n, dtype)
    expected_value, expected_grad = reference_value(pen, w), reference_grad(pen, w)

    # float64 accumulation; float32 terms may round once in float32 (sqrt for k = 1/2, 3/2)
    value_rel = 3e-7 if dtype == np.float32 else 1e-12
    value = pen.value(w)
    assert isinstance(value, float)
    assert value == pytest.approx(expected_value, rel=value_rel, abs=1e-300)

    g = pen.grad(w)
    assert g.dtype == dtype and g.shape == w.shape
    np.testing.assert_allclose(g, expected_grad.astype(dtype), **tolerances(dtype))

    v2, g2 = pen.value_and_grad(w)
    assert v2 == pytest.approx(expected_value, rel=value_rel, abs=1e-300)
    np.testing.assert_array_equal(bits(g2), bits(g))  # one pass or two: the same gradient

    base = random_weights(n, dtype, seed=1)
    acc = base.copy()
    assert pen.add_grad(w, acc) is acc
    # a sum can cancel: bound the error by the size of its terms, not of the result
    exact = base.astype(np.float64) + expected_grad
    scale = np.abs(base.astype(np.float64)) + np.abs(expected_grad)
    tol = tolerances(dtype)
    assert np.all(np.abs(acc - exact) <= tol["rtol"] * scale + tol["atol"])


@pytest.mark.parametrize("pen", PENALTIES, ids=repr)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_bit_identical_for_one_and_two_threads(pen, dtype, simd_level, restore_threads):
    w = random_weights(2**20 + 3, dtype)
    acc0 = random_weights(w.size, dtype, seed=2)
    results = []
    for threads in (1, 2):
        lkreg.set_num_threads(threads)
        acc = acc0.copy()
        pen.add_grad(w, acc)
        v, g = pen.value_and_grad(w)
        results.append((pen.value(w), v, bits(pen.grad(w)), bits(g), bits(acc)))
    (a_value, a_v, *a_arrays), (b_value, b_v, *b_arrays) = results
    assert a_value == b_value and a_v == b_v
    for a, b in zip(a_arrays, b_arrays):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("pen", [L1(0.3), Lk(2.7, 0.3), Lk(0.5, 0.2), ElasticNet(0.2, 0.5)], ids=repr)
def test_simd_levels_agree(pen):
    from lkreg import _core

    from helpers import SIMD_LEVELS

    w = random_weights(100_003, np.float64)
    before = _core.simd_level()
    try:
        out = {}
        for level in SIMD_LEVELS:
            _core.set_simd_level(level)
            out[level] = pen.value_and_grad(w)
    finally:
        _core.set_simd_level(before)
    v0, g0 = out[SIMD_LEVELS[0]]
    for v, g in out.values():
        assert v == pytest.approx(v0, rel=1e-13)
        np.testing.assert_allclose(g, g0, rtol=1e-14, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(
    "make",
    [
        lambda w: w[::2],
        lambda w: w[::-1],
        lambda w: w.reshape(40, 50).T,
        lambda w: np.asfortranarray(w.reshape(40, 50)),
    ],
    ids=["step2", "reversed", "transposed", "fortran"],
)
def test_strided_inputs_match_contiguous_copy(make, dtype):
    view = make(random_weights(2000, dtype))
    assert not view.flags.c_contiguous
    dense = np.ascontiguousarray(view)
    for pen in (L1(0.3), Lk(2.7, 0.3), ElasticNet(0.1, 0.2)):
        assert pen.value(view) == pen.value(dense)
        g = pen.grad(view)
        assert g.shape == view.shape and g.flags.c_contiguous
        np.testing.assert_array_equal(bits(g), bits(pen.grad(dense)))


@pytest.mark.parametrize("shape", [(), (3, 4), (2, 3, 5), (0, 4)])
def test_any_shape(shape):
    w = random_weights(int(np.prod(shape)), np.float64).reshape(shape)
    pen = Lk(1.5, 0.3)
    g = pen.grad(w)
    assert g.shape == shape
    np.testing.assert_allclose(g, reference_grad(pen, w), rtol=1e-12)
    assert pen.value(w) == pytest.approx(reference_value(pen, w), rel=1e-12)


def test_lists_are_accepted_like_numpy():
    assert L2(1.0).value([1.0, -2.0]) == 5.0
    np.testing.assert_array_equal(L1(2.0).grad([3.0, 0.0, -1.0]), [2.0, 0.0, -2.0])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_out_and_in_place(dtype):
    w = random_weights(1001, dtype)
    pen = Lk(2.7, 0.3)
    expected = pen.grad(w)
    out = np.empty_like(w)
    assert pen.grad(w, out=out) is out
    np.testing.assert_array_equal(bits(out), bits(expected))
    v, g = pen.value_and_grad(w, out=out)
    assert g is out
    w2 = w.copy()
    assert pen.grad(w2, out=w2) is w2
    np.testing.assert_array_equal(bits(w2), bits(expected))


@pytest.mark.parametrize("k", [0.5, 1.0, 1.5, 2.0, 3.0, 10.0, 0.3, 2.7])
def test_gradient_matches_central_differences(k):
    rng = np.random.default_rng(7)
    w = rng.uniform(0.5, 2.0, 50) * rng.choice([-1.0, 1.0], 50)
    pen = Lk(k, 0.7)
    g = pen.grad(w)
    # the penalty is a sum over elements: differentiate each term on its own, so that the
    # difference quotient does not cancel against the other terms
    h = 1e-6 * np.abs(w)
    numeric = np.array(
        [(pen.value([wi + hi]) - pen.value([wi - hi])) / (2 * hi) for wi, hi in zip(w, h)]
    )
    np.testing.assert_allclose(g, numeric, rtol=1e-7)
    # and the whole array at once, along a random direction
    d = rng.standard_normal(w.size)
    t = 1e-6
    directional = (pen.value(w + t * d) - pen.value(w - t * d)) / (2 * t)
    assert directional == pytest.approx(g @ d, rel=1e-6, abs=1e-6 * pen.value(w))


def test_elastic_net_gradient_matches_central_differences():
    rng = np.random.default_rng(8)
    w = rng.uniform(0.5, 2.0, 30) * rng.choice([-1.0, 1.0], 30)
    pen = ElasticNet(0.3, 0.8)
    h = 1e-6
    numeric = np.array(
        [(pen.value(w + h * e) - pen.value(w - h * e)) / (2 * h) for e in np.eye(w.size)]
    )
    np.testing.assert_allclose(pen.grad(w), numeric, rtol=1e-6)


@pytest.mark.parametrize("k", [0.3, 0.9, 1.7, 2.7, 10.0, 0.5, 1.5, 3.0])
def test_general_power_accuracy_over_the_whole_range(k, simd_level):
    """The vectorized pow against NumPy's over magnitudes 1e-300..1e300, subnormals included."""
    a = np.concatenate(
        [10.0 ** np.linspace(-300, 300, 20001), [5e-324, 3e-310, 2.2e-308, 1.0, 2.0, 0.5]]
    )
    w = np.concatenate([a, -a])
    pen = Lk(k, 1.0 / k)  # grad = sign(w) |w|^(k-1)
    with np.errstate(over="ignore", under="ignore"):
        expected = np.sign(w) * np.abs(w) ** (k - 1)
    got = pen.grad(w)
    normal = (np.abs(expected) > 1e-300) & np.isfinite(expected)
    y = np.abs((k - 1) * np.log2(np.abs(w[normal])))
    err = np.abs(got[normal] / expected[normal] - 1)
    assert np.all(err <= 2.0**-52 * (1.5 * y + 4)), err.max()
    np.testing.assert_allclose(got[~normal], expected[~normal], rtol=1e-10, atol=1e-307)


@pytest.mark.parametrize("pen", [L1(0.5), L2(0.5), Lk(0.3, 0.5), Lk(2.7, 0.5), Lk(0.5, 0.5),
                                 Lk(1.5, 0.5), Lk(3, 0.5), ElasticNet(0.5, 0.5), L0(0.5)], ids=repr)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_special_values_follow_ieee(pen, dtype):
    w = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0], dtype=dtype)
    g = pen.grad(w)
    expected = reference_grad(pen, w)
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(g, expected.astype(dtype), rtol=1e-6)
    # the value sees the NaN (L0 counts it as nonzero, like np.count_nonzero)
    assert math.isnan(pen.value(w)) == (not isinstance(pen, L0))
    assert pen.value(w[[0, 1, 2, 3, 5]]) == reference_value(pen, w[[0, 1, 2, 3, 5]])


def test_equality_repr_and_immutability():
    assert L1(0.5) == Lk(1, 0.5) and L2(0.5) == Lk(2, 0.5)
    assert L1(0.5) != L1(0.5, reduction="mean") and L1(0.5) != L0(0.5)
    assert hash(L1(0.5)) == hash(Lk(1.0, 0.5))
    assert repr(Lk(1.5, 0.25)) == "Lk(k=1.5, lam=0.25)"
    assert repr(ElasticNet(0.1, 0.2, reduction="mean")) == "ElasticNet(l1=0.1, l2=0.2, reduction='mean')"
    with pytest.raises(AttributeError):
        L1(0.5).lam = 1.0
    assert [p.is_smooth for p in (L1(1), L2(1), Lk(0.5), Lk(1.5), ElasticNet(1, 1), ElasticNet(0, 1), L0())] == [
        False, True, False, True, False, True, False
    ]


def test_mean_reduction_divides_by_size():
    w = random_weights(1000, np.float64)
    for total, mean in [(Lk(2.7, 0.3), Lk(2.7, 0.3, "mean")), (ElasticNet(0.1, 0.2), ElasticNet(0.1, 0.2, "mean"))]:
        assert mean.value(w) == pytest.approx(total.value(w) / w.size, rel=1e-14)
        np.testing.assert_allclose(mean.grad(w), total.grad(w) / w.size, rtol=1e-14)
    assert L2(1.0, reduction="mean").value(np.empty(0)) == 0.0
