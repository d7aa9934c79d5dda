"""Proximal operators against NumPy formulas, brute-force minimization and Moreau's identity."""

import numpy as np
import pytest

import lkreg
from lkreg import L0, L1, L2, ElasticNet, GroupL2, Lk
from lkreg import _core

from helpers import DTYPES, SIMD_LEVELS, SIZES, bits, random_weights

KS = [0.3, 0.5, 2 / 3, 0.9, 1.0, 1.5, 2.0, 3.0, 10.0, 1.3, 2.5]


def scalar_objective(z, v, tau, k):
    return 0.5 * (z - v) ** 2 + tau * np.abs(z) ** k


def brute_force_prox(v, tau, k):
    """Global minimizer of 0.5 (z - v)^2 + tau |z|^k: a grid over [0, |v|], then golden-section
    refinement around the best grid point; 0 wins ties."""
    a = abs(v)
    if a == 0:
        return 0.0
    grid = np.linspace(0.0, a, 20001)
    obj = scalar_objective(grid, a, tau, k)
    i = int(np.argmin(obj))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    g = (np.sqrt(5) - 1) / 2
    for _ in range(200):
        m1, m2 = hi - g * (hi - lo), lo + g * (hi - lo)
        if scalar_objective(m1, a, tau, k) < scalar_objective(m2, a, tau, k):
            hi = m2
        else:
            lo = m1
    z = 0.5 * (lo + hi)
    if scalar_objective(0.0, a, tau, k) <= scalar_objective(z, a, tau, k):
        z = 0.0
    return float(np.sign(v) * z)


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("tau", [0.05, 0.7, 3.0])
def test_lk_prox_is_the_global_minimizer(k, tau, simd_level):
    # magnitudes on both sides of the k < 1 threshold C_k tau^(1/(2-k)), and far beyond it
    v = np.concatenate([np.linspace(-4, 4, 161), [1e-3, -2e-3, 25.0, -100.0]]) * max(1.0, tau)
    got = Lk(k, tau).prox(v, 1.0)
    for vi, zi in zip(v, got):
        zb = brute_force_prox(vi, tau, k)
        f_got, f_best = scalar_objective(zi, vi, tau, k), scalar_objective(zb, vi, tau, k)
        # never worse than the brute force, and the same point where the minimum is unique
        assert f_got <= f_best + 1e-12 * max(1.0, abs(f_best)), (vi, zi, zb)
        if zb == 0.0 and scalar_objective(0.0, vi, tau, k) < f_got - 1e-9:
            pytest.fail(f"prox({vi}) = {zi}, expected 0")
        assert zi == pytest.approx(zb, rel=1e-6, abs=1e-6) or abs(f_got - f_best) < 1e-12


@pytest.mark.parametrize("k", [0.3, 0.5, 2 / 3, 0.9])
def test_nonconvex_prox_gives_exact_zeros_below_the_threshold(k):
    tau = 0.8
    threshold_const = (2 * (1 - k)) ** (1 / (2 - k)) + k * (2 * (1 - k)) ** ((k - 1) / (2 - k))
    threshold = threshold_const * tau ** (1 / (2 - k))
    v = np.linspace(-threshold, threshold, 1001) * 0.999
    z = Lk(k, tau).prox(v, 1.0)
    assert np.all(z == 0.0)
    above = Lk(k, tau).prox(np.array([threshold * 1.001, -threshold * 1.001]), 1.0)
    assert np.all(np.abs(above) > 0.5 * (2 * tau * (1 - k)) ** (1 / (2 - k)))


def moreau_conjugate_prox(pen, u, step):
    """prox of f*/step at u, for the convex penalties, from the conjugate's formula."""
    if isinstance(pen, ElasticNet):
        raise NotImplementedError
    if isinstance(pen, Lk) and pen.k == 1:
        return np.clip(u, -pen.lam, pen.lam)  # projection onto the dual ball
    if isinstance(pen, Lk):  # f* = c |y|^q, q = k/(k-1)
        k, lam = pen.k, pen.lam
        q = k / (k - 1)
        c = (k - 1) / k * (lam * k) ** (-1 / (k - 1))
        return Lk(q, c).prox(u, 1.0 / step)
    if isinstance(pen, GroupL2):  # projection of each row onto the ball of radius lam
        norms = np.linalg.norm(u, axis=1, keepdims=True)
        return u * np.minimum(1.0, pen.lam / np.maximum(norms, 1e-300))
    raise NotImplementedError


@pytest.mark.parametrize("pen", [L1(0.7), L2(0.4), Lk(1.5, 0.6), Lk(3, 0.2), Lk(2.5, 0.3), GroupL2(0.9, axis=1)], ids=repr)
@pytest.mark.parametrize("step", [0.1, 1.0, 4.0])
def test_moreau_identity(pen, step):
    v = random_weights(60, np.float64, zeros=False).reshape(12, 5)
    lhs = pen.prox(v, step) + step * moreau_conjugate_prox(pen, v / step, step)
    np.testing.assert_allclose(lhs, v, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("n", SIZES)
def test_thresholds_and_decay_match_numpy(dtype, n, simd_level):
    x = random_weights(n, dtype)
    t = dtype(0.3)
    np.testing.assert_array_equal(lkreg.soft_threshold(x, 0.3), np.sign(x) * np.maximum(np.abs(x) - t, 0))
    np.testing.assert_array_equal(lkreg.hard_threshold(x, 0.3), np.where(np.abs(x) > t, x, 0))
    np.testing.assert_array_equal(lkreg.weight_decay(x, 0.1), x * dtype(1 - 0.1))
    tw = np.abs(random_weights(n, dtype, seed=3))
    np.testing.assert_array_equal(lkreg.soft_threshold(x, tw), np.sign(x) * np.maximum(np.abs(x) - tw, 0))
    np.testing.assert_array_equal(lkreg.hard_threshold(x, tw), np.where(np.abs(x) > tw, x, 0))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_penalty_prox_formulas(dtype):
    w = random_weights(1003, dtype)
    s = 0.5
    cases = [
        (L1(0.4), np.sign(w) * np.maximum(np.abs(w) - dtype(s * 0.4), 0)),
        (L2(0.4), w / (1 + 2 * s * 0.4)),
        (ElasticNet(0.4, 0.3), np.sign(w) * np.maximum(np.abs(w) - dtype(s * 0.4), 0) / (1 + 2 * s * 0.3)),
        (L0(0.4), np.where(np.abs(w) > np.sqrt(2 * s * 0.4), w, 0)),
        (L1(0.4, reduction="mean"), np.sign(w) * np.maximum(np.abs(w) - dtype(s * 0.4 / w.size), 0)),
    ]
    rtol = 1e-6 if dtype == np.float32 else 1e-15
    for pen, expected in cases:
        got = pen.prox(w, s)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=0, err_msg=repr(pen))
        assert np.all((got == 0) == (expected == 0)), repr(pen)  # exact zeros


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("k", [0.5, 2 / 3, 1.5, 3.0, 2.5, 0.3])
def test_lk_prox_float32_matches_float64(dtype, k):
    w = random_weights(5000, np.float64)
    ref = Lk(k, 0.3).prox(w, 1.0)
    got = Lk(k, 0.3).prox(w.astype(dtype), 1.0)
    np.testing.assert_allclose(got, ref.astype(dtype), rtol=2e-6 if dtype == np.float32 else 1e-14, atol=1e-37)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_bit_identical_across_threads_and_simd_levels(dtype, restore_threads):
    x = random_weights(2**20 + 3, dtype)
    tw = np.abs(random_weights(x.size, dtype, seed=4))
    ops = {
        "soft": lambda: lkreg.soft_threshold(x, 0.3),
        "soft_weighted": lambda: lkreg.soft_threshold(x, tw),
        "hard": lambda: lkreg.hard_threshold(x, 0.3),
        "decay": lambda: lkreg.weight_decay(x, 0.01),
        "elastic": lambda: ElasticNet(0.2, 0.3).prox(x, 0.5),
    }
    lk_ops = {f"lk{k}": (lambda k=k: Lk(k, 0.3).prox(x, 1.0)) for k in (0.5, 2 / 3, 1.5, 2.7, 0.3)}
    before = _core.simd_level()
    results = {}
    try:
        for level in SIMD_LEVELS:
            _core.set_simd_level(level)
            for threads in (1, 2):
                lkreg.set_num_threads(threads)
                results[level, threads] = {name: bits(op()) for name, op in {**ops, **lk_ops}.items()}
    finally:
        _core.set_simd_level(before)
    reference = results[SIMD_LEVELS[0], 1]
    for (level, threads), res in results.items():
        for name, got in res.items():
            if name in ops or level == SIMD_LEVELS[0]:  # pure selects and products: any level
                np.testing.assert_array_equal(got, reference[name], err_msg=f"{name} {level} {threads}")
            else:  # Newton iterations may contract into FMAs: same bits across threads only
                np.testing.assert_array_equal(got, results[level, 1][name], err_msg=f"{name} {level}")


def test_in_place_and_out(dtype=np.float64):
    x = random_weights(1000, dtype)
    expected = lkreg.soft_threshold(x, 0.2)
    y = x.copy()
    assert lkreg.soft_threshold(y, 0.2, out=y) is y
    np.testing.assert_array_equal(y, expected)
    w = x.copy()
    assert lkreg.weight_decay(w, 0.1, out=w) is w
    np.testing.assert_array_equal(w, x * 0.9)
    z = x.copy()
    assert Lk(0.5, 0.3).prox(z, 1.0, out=z) is z
    np.testing.assert_array_equal(z, Lk(0.5, 0.3).prox(x, 1.0))


def test_special_values_propagate():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0])
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(lkreg.soft_threshold(x, 0.5), np.sign(x) * np.maximum(np.abs(x) - 0.5, 0))
    np.testing.assert_array_equal(lkreg.hard_threshold(x, 0.5), [np.nan, np.inf, -np.inf, 0, 0, 1.0])
    for k in (0.3, 0.5, 2 / 3, 1.5, 2.5, 3.0):
        z = Lk(k, 0.3).prox(x, 1.0)
        assert np.isnan(z[0]) and z[1] == np.inf and z[2] == -np.inf and z[3] == 0 and z[4] == 0, k


def test_group_l2_by_axis_and_ids():
    w = random_weights(24, np.float64, zeros=False).reshape(6, 4)
    w[2] = 0.0
    for axis in (0, 1, -1):
        pen = GroupL2(0.7, axis=axis)
        norms = np.linalg.norm(w, axis=axis, keepdims=True)
        assert pen.value(w) == pytest.approx(0.7 * norms.sum(), rel=1e-14)
        with np.errstate(divide="ignore", invalid="ignore"):
            grad = np.where(norms > 0, 0.7 * w / norms, 0.0)
            prox = w * np.where(norms > 0, np.maximum(0, 1 - 0.5 * 0.7 / norms), 0.0)
        np.testing.assert_allclose(pen.grad(w), grad, rtol=1e-14)
        np.testing.assert_allclose(pen.prox(w, 0.5), prox, rtol=1e-14)
    ids = np.arange(24).reshape(6, 4) // 4  # the rows again, as ids
    by_ids, by_axis = GroupL2(0.7, groups=ids), GroupL2(0.7, axis=1)
    assert by_ids.value(w) == pytest.approx(by_axis.value(w), rel=1e-14)
    np.testing.assert_allclose(by_ids.prox(w, 2.0), by_axis.prox(w, 2.0), rtol=1e-14)
    # a large step zeroes whole groups: structured sparsity
    z = by_axis.prox(w, 10.0)
    assert np.all((np.abs(z).sum(axis=1) == 0) == (np.linalg.norm(w, axis=1) <= 7.0))


def test_group_l2_over_an_axis_with_large_groups():
    # groups of more than 2**15 elements: the driver's parallel threshold over groups is 1
    # (this divided by zero, SIGFPE, before)
    w = random_weights(3 * (2**15 + 37), np.float64).reshape(-1, 3)
    for axis in (0, 1):
        pen = GroupL2(0.7, axis=axis)
        norms = np.linalg.norm(w, axis=axis, keepdims=True)
        assert pen.value(w) == pytest.approx(0.7 * norms.sum(), rel=1e-12)
        with np.errstate(divide="ignore", invalid="ignore"):
            grad = np.where(norms > 0, 0.7 * w / norms, 0.0)
        np.testing.assert_allclose(pen.grad(w), grad, rtol=1e-12)
    v = random_weights(2**16 + 1, np.float32)
    assert GroupL2(0.5, axis=0).value(v) == pytest.approx(0.5 * np.linalg.norm(v.astype(np.float64)))


def test_group_l2_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((5, 3))
    pen = GroupL2(0.4, axis=0)
    d = rng.standard_normal(w.shape)
    t = 1e-6
    numeric = (pen.value(w + t * d) - pen.value(w - t * d)) / (2 * t)
    assert numeric == pytest.approx(np.sum(pen.grad(w) * d), rel=1e-7)


@pytest.mark.parametrize(
    "call, error, name",
    [
        (lambda: lkreg.soft_threshold(np.ones(3), -1.0), ValueError, "t"),
        (lambda: lkreg.soft_threshold(np.ones(3), float("nan")), ValueError, "t"),
        (lambda: lkreg.soft_threshold(np.ones(3), np.ones(4)), ValueError, "t"),
        (lambda: lkreg.soft_threshold(np.ones(3), np.array([0.5, -1.0, 0.5])), ValueError, "t"),
        (lambda: lkreg.soft_threshold(np.arange(3), 1.0), TypeError, "x"),
        (lambda: lkreg.hard_threshold(np.ones(3), None), TypeError, "t"),
        (lambda: lkreg.soft_threshold(np.ones(3), 1.0, out=np.ones(3, np.float32)), ValueError, "out"),
        (lambda: lkreg.weight_decay(np.ones(3), float("nan")), ValueError, "rate"),
        (lambda: lkreg.weight_decay(np.ones(3), -0.1), ValueError, "rate"),
        (lambda: L1(0.1).prox(np.ones(3), -1.0), ValueError, "step"),
        (lambda: L1(0.1).prox(np.ones(3), float("nan")), ValueError, "step"),
        (lambda: Lk(0.5, 0.1).prox(np.ones(3), 1.0, out=np.ones(2)), ValueError, "out"),
        (lambda: GroupL2(0.1), ValueError, "axis"),
        (lambda: GroupL2(0.1, axis=2).value(np.ones((2, 2))), ValueError, "axis"),
        (lambda: GroupL2(0.1, groups=[0, -1]), ValueError, "groups"),
        (lambda: GroupL2(0.1, groups=[0.5, 1.0]), TypeError, "groups"),
        (lambda: GroupL2(0.1, groups=[0, 1]).value(np.ones(3)), ValueError, "groups"),
    ],
)
def test_bad_arguments(call, error, name):
    with pytest.raises(error, match=rf"\b{name}\b"):
        call()


def test_out_partially_overlapping_the_threshold_array_is_rejected():
    buf = np.abs(random_weights(33, np.float64))
    x = random_weights(32, np.float64, seed=5)
    before = buf.copy()
    with pytest.raises(ValueError, match="overlaps"):
        lkreg.soft_threshold(x, buf[:32], out=buf[1:])
    np.testing.assert_array_equal(buf, before)
