"""The penalty contract solvers and optimizers use: description(), prox with a per-coordinate
step array, is_convex, alpha_max and subdiff_distance, against brute force, scalar calls and
scikit-learn."""

import numpy as np
import pytest

import lkreg
from lkreg import _core

from helpers import DTYPES, bits

ELEMENTWISE = [
    lkreg.L1(0.7), lkreg.L2(0.4), lkreg.Lk(0.5, 0.3), lkreg.Lk(2 / 3, 0.3), lkreg.Lk(0.3, 0.2),
    lkreg.Lk(1.5, 0.5), lkreg.Lk(3, 0.2), lkreg.Lk(2.5, 0.3), lkreg.ElasticNet(0.5, 0.3),
    lkreg.L0(0.2), lkreg.L1(3.0, reduction="mean"),
]


def brute_force_prox(pen, x, step, size):
    """argmin_z 0.5 (z - x)^2 + step * r(z) over a fine grid plus refinement (1 element of an
    array of `size` elements, for reduction="mean")."""
    grid = np.linspace(-abs(x) - 1, abs(x) + 1, 200001)
    r = np.abs(grid)
    d = pen.description(size)
    kind = d.kind
    if kind == _core.PenaltyKind.L1:
        pr = d.lam * r
    elif kind == _core.PenaltyKind.L2:
        pr = d.lam * r**2
    elif kind == _core.PenaltyKind.ElasticNet:
        pr = d.lam * r + d.l2 * r**2
    elif kind == _core.PenaltyKind.L0:
        pr = d.lam * (grid != 0)
    else:
        pr = d.lam * r**d.k
    values = 0.5 * (grid - x) ** 2 + step * pr
    z0 = 0.5 * x**2  # z = 0 exactly (the grid may miss it)
    best = grid[np.argmin(values)]
    return 0.0 if z0 <= values.min() else best


@pytest.mark.parametrize("pen", ELEMENTWISE, ids=repr)
def test_step_array_is_the_scalar_prox_per_element_and_the_brute_force_minimizer(pen):
    rng = np.random.default_rng(3)
    w = rng.standard_normal(40) * 2
    steps = rng.uniform(0.0, 2.0, 40)
    steps[:3] = 0.0
    got = pen.prox(w, steps)
    one_by_one = np.array([pen.prox(w, s)[i] for i, s in enumerate(steps)])  # scalar-step path
    np.testing.assert_allclose(got, one_by_one, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(got[:3], w[:3])  # step 0: the identity
    for i in range(3, 12):
        expected = brute_force_prox(pen, w[i], steps[i], w.size)
        assert abs(got[i] - expected) <= 1e-4 * max(1.0, abs(w[i])), (i, w[i], steps[i])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("pen", ELEMENTWISE, ids=repr)
def test_constant_step_array_equals_scalar_step(pen, dtype, simd_level):
    w = np.random.default_rng(4).standard_normal((7, 9)).astype(dtype) * 3
    out = np.empty_like(w)
    got = pen.prox(w, np.full(w.shape, 0.25), out=out)
    assert got is out
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(got, pen.prox(w, 0.25), rtol=tol, atol=tol)
    np.testing.assert_array_equal(got == 0, pen.prox(w, 0.25) == 0)


def test_group_prox_with_step_array_satisfies_its_optimality_conditions():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((6, 4))
    w[0] *= 0.05  # a group that goes to zero
    steps = rng.uniform(0.1, 1.5, w.shape)
    pen = lkreg.GroupL2(1.2, axis=1)
    x = pen.prox(w, steps)
    c = steps * pen.lam
    for g in range(6):
        if np.all(x[g] == 0):  # zero iff ||w_g / c_g|| <= 1
            assert np.linalg.norm(w[g] / c[g]) <= 1
        else:  # (x - w) / step + lam x / ||x|| = 0
            assert np.linalg.norm(w[g] / c[g]) > 1
            residual = (x[g] - w[g]) / steps[g] + pen.lam * x[g] / np.linalg.norm(x[g])
            np.testing.assert_allclose(residual, 0, atol=1e-10)
    assert np.any(np.all(x == 0, axis=1)) and not np.all(x == 0)
    # a step constant within each group is block soft-thresholding
    const = np.repeat(rng.uniform(0.1, 1.5, (6, 1)), 4, axis=1)
    expected = np.vstack([pen.prox(w[g:g + 1], const[g, 0]) for g in range(6)])
    np.testing.assert_allclose(pen.prox(w, const), expected, rtol=1e-12, atol=1e-14)


def test_step_array_checks():
    w = np.ones(4)
    with pytest.raises(ValueError, match="shape"):
        lkreg.L1(0.1).prox(w, np.ones(3))
    with pytest.raises(ValueError, match="step"):
        lkreg.L1(0.1).prox(w, np.array([1.0, -1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="step"):
        lkreg.L1(0.1).prox(w, np.array([1.0, np.nan, 1.0, 1.0]))
    with pytest.raises(TypeError, match="step"):
        lkreg.L1(0.1).prox(w, np.ones(4, complex))
    np.testing.assert_array_equal(w, 1.0)


def test_description_is_kind_and_coefficients():
    d = lkreg.ElasticNet(0.1, 0.2, reduction="mean").description(4)
    assert d.kind == _core.PenaltyKind.ElasticNet and d.lam == 0.1 / 4 and d.l2 == 0.2 / 4
    assert lkreg.L1(0.3).description() == lkreg.Lk(1, 0.3).description()
    assert lkreg.Lk(2, 0.3).description().kind == _core.PenaltyKind.L2
    assert lkreg.GroupL2(0.1, axis=0).description() is None
    assert "prox_1d" in lkreg.L0(0.1).capabilities
    assert "prox_1d" not in lkreg.GroupL2(0.1, axis=0).capabilities
    assert "smooth" in lkreg.L2(0.1).capabilities and "convex" in lkreg.L2(0.1).capabilities


@pytest.mark.parametrize("pen, convex", [
    (lkreg.L1(1.0), True), (lkreg.L2(1.0), True), (lkreg.Lk(1.2, 1.0), True),
    (lkreg.Lk(0.9, 1.0), False), (lkreg.L0(1.0), False), (lkreg.ElasticNet(1.0, 1.0), True),
    (lkreg.GroupL2(1.0, axis=0), True),
])
def test_is_convex(pen, convex):
    assert pen.is_convex is convex
    assert pen.description() is None or pen.description().is_convex is convex


def test_alpha_max_is_sklearns_lasso_threshold():
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((50, 8)), rng.standard_normal(50)
    n = len(y)
    # 1/(2n)||y - Xw||^2 + alpha ||w||_1: the loss gradient at 0 is -X'y / n
    alpha_max = lkreg.L1(1.0).alpha_max(-X.T @ y / n)
    fit = lambda a: linear_model.Lasso(alpha=a, fit_intercept=False, tol=1e-12).fit(X, y).coef_  # noqa
    assert np.all(fit(alpha_max * 1.001) == 0)
    assert np.any(fit(alpha_max * 0.99) != 0)
    g = -X.T @ y / n
    assert lkreg.L1(1.0, reduction="mean").alpha_max(g) == pytest.approx(alpha_max * g.size)
    assert lkreg.ElasticNet(1.0, 5.0).alpha_max(g) == alpha_max
    assert lkreg.L2(1.0).alpha_max(g) == np.inf and lkreg.L2(1.0).alpha_max(0 * g) == 0
    assert lkreg.L0(1.0).alpha_max(g) == 0
    group = lkreg.GroupL2(1.0, groups=[0, 0, 1, 1, 2, 2, 2, 2])
    assert group.alpha_max(g) == pytest.approx(max(np.linalg.norm(g[:2]), np.linalg.norm(g[2:4]),
                                                   np.linalg.norm(g[4:])))


def test_subdiff_distance_is_zero_at_sklearns_lasso_solution_and_matches_numpy():
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((60, 10)), rng.standard_normal(60)
    n, alpha = len(y), 0.05
    w = linear_model.Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100000).fit(X, y).coef_
    grad = X.T @ (X @ w - y) / n
    assert np.any(w == 0) and np.any(w != 0)
    assert np.max(lkreg.L1(alpha).subdiff_distance(w, grad)) < 1e-8
    assert np.max(lkreg.L1(alpha * 1.2).subdiff_distance(w, grad)) > 1e-3
    # NumPy formulas at an arbitrary point
    w, g = rng.standard_normal(12), rng.standard_normal(12)
    w[:4] = 0
    lam = 0.6
    expected = np.where(w == 0, np.maximum(0, np.abs(g) - lam), np.abs(g + lam * np.sign(w)))
    np.testing.assert_allclose(lkreg.L1(lam).subdiff_distance(w, g), expected, rtol=1e-15)
    en = np.where(w == 0, np.maximum(0, np.abs(g) - lam), np.abs(g + lam * np.sign(w) + 2 * 0.3 * w))
    np.testing.assert_allclose(lkreg.ElasticNet(lam, 0.3).subdiff_distance(w, g), en, rtol=1e-14)
    lk = np.where(w == 0, 0.0, np.abs(g + lam * 0.5 * np.abs(w) ** -0.5 * np.sign(w)))
    np.testing.assert_allclose(lkreg.Lk(0.5, lam).subdiff_distance(w, g), lk, rtol=1e-13)
    np.testing.assert_allclose(lkreg.L0(lam).subdiff_distance(w, g), np.where(w == 0, 0, np.abs(g)))
    np.testing.assert_allclose(lkreg.Lk(2.5, lam).subdiff_distance(w, g),
                               np.abs(g + lkreg.Lk(2.5, lam).grad(w)), rtol=1e-13)
    groups = lkreg.GroupL2(lam, axis=1)
    W, G = w.reshape(3, 4), g.reshape(3, 4)
    d = groups.subdiff_distance(W, G)
    assert d[0] == max(0, np.linalg.norm(G[0]) - lam)
    np.testing.assert_allclose(d[1], np.linalg.norm(G[1] + lam * W[1] / np.linalg.norm(W[1])))
