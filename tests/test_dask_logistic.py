"""LogisticRegression on dask arrays (lkreg.dask._logistic): proximal Newton with one
distributed pass per outer step reaches the in-memory fit's optimum, binary and multinomial,
and scikit-learn's objective where scikit-learn solves the same problem."""

import numpy as np
import pytest

import lkreg

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
pytest.importorskip("sklearn")

from scipy.special import log_softmax  # noqa: E402
from sklearn import linear_model as sk  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402

from lkreg.linear_model import LogisticRegression  # noqa: E402
from lkreg.linear_model._logistic import sklearn_penalty  # noqa: E402

ROWS = (250, 1, 300, 349)  # irregular, a one-row block included


def binary(n=900, p=8, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2, p) + rng.uniform(-1, 1, p)
    w = rng.standard_normal(p)
    w[: p // 3] = 0
    y = (X @ w + 0.3 + rng.standard_normal(n) > 0).astype(int)
    return X.astype(dtype), y


def dask_of(a, rows=ROWS):
    return da.from_array(a, chunks=(rows,) + tuple((d,) for d in a.shape[1:]))


def log_loss_sum(X, y, coef, intercept, classes, weight):
    """sum_i weight_i * log-loss_i in NumPy (the independent reference)."""
    eta = X @ coef.T + intercept
    if eta.shape[1] == 1:
        eta = np.hstack([np.zeros_like(eta), eta])
    labels = np.searchsorted(classes, y)
    return float(-weight @ log_softmax(eta, axis=1)[np.arange(len(y)), labels])


@pytest.mark.parametrize("penalty", ["l1", "l2", lkreg.Lk(0.3, 1.5), lkreg.ElasticNet(0.5, 0.2)])
def test_binary_equals_the_in_memory_fit(client, penalty):
    X, y = binary()
    ours = LogisticRegression(penalty=penalty, C=0.5, tol=1e-9).fit(dask_of(X), dask_of(y))
    ref = LogisticRegression(penalty=penalty, C=0.5, tol=1e-9).fit(X, y)
    assert ours.objective_ == pytest.approx(ref.objective_, rel=1e-10)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    if penalty == "l1":
        assert np.array_equal(ours.coef_ == 0, ref.coef_ == 0) and np.any(ours.coef_ == 0)
    # the objective recomputed from the coefficients: the log-loss in NumPy, the penalty's value
    pen = sklearn_penalty(penalty, None).value(ours.coef_.astype(np.float64))
    expected = 0.5 * log_loss_sum(X, y, ours.coef_, ours.intercept_, ours.classes_,
                                  np.ones(len(y))) + pen
    assert ours.objective_ == pytest.approx(expected, rel=1e-10)
    assert ours.n_iter_[0] < 30


def test_binary_l2_matches_scikit_learn_lbfgs(client):
    X, y = binary(seed=3)
    ours = LogisticRegression(C=2.0, tol=1e-10).fit(dask_of(X), dask_of(y))
    ref = sk.LogisticRegression(C=2.0, tol=1e-12, max_iter=10000).fit(X, y)

    def objective(m):
        return 2.0 * log_loss_sum(X, y, m.coef_, m.intercept_, m.classes_, np.ones(len(y))) \
            + 0.5 * float(np.sum(m.coef_ ** 2))
    assert objective(ours) == pytest.approx(objective(ref), rel=1e-9)
    assert ours.objective_ == pytest.approx(objective(ours), rel=1e-9)


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_multinomial_with_string_labels_and_weights(client, penalty):
    X, yi = load_iris(return_X_y=True)
    y = np.array(["setosa", "versicolor", "virginica"])[yi]
    sw = np.linspace(0.5, 2.0, len(y))
    kw = dict(penalty=penalty, C=0.5, tol=1e-9, class_weight="balanced")
    ours = LogisticRegression(**kw).fit(dask_of(X, (40, 40, 70)), dask_of(y, (40, 40, 70)),
                                        sample_weight=dask_of(sw, (40, 40, 70)))
    ref = LogisticRegression(**kw).fit(X, y, sample_weight=sw)
    assert list(ours.classes_) == ["setosa", "versicolor", "virginica"]
    assert ours.coef_.shape == (3, 4) and ours.intercept_.shape == (3,)
    assert ours.objective_ == pytest.approx(ref.objective_, rel=1e-9)
    # intercepts are defined up to a common shift: the probabilities are what must agree
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    cw = len(y) / (3 * np.bincount(yi))
    weight = sw * cw[yi]
    pen = (float(np.abs(ours.coef_).sum()) if penalty == "l1"
           else 0.5 * float(np.sum(ours.coef_ ** 2)))
    expected = 0.5 * log_loss_sum(X, y, ours.coef_, ours.intercept_, ours.classes_, weight) + pen
    assert ours.objective_ == pytest.approx(expected, rel=1e-9)


def test_float32_and_warm_start(client):
    X, y = binary(dtype=np.float32, seed=5)
    model = LogisticRegression(penalty="l1", C=0.3, tol=1e-6, warm_start=True)
    model.fit(dask_of(X), dask_of(y))
    assert model.coef_.dtype == np.float32
    first = model.n_iter_[0]
    model.fit(dask_of(X), dask_of(y))  # from the solution: no step needed
    assert model.n_iter_[0] <= 1 < first
    ref = LogisticRegression(penalty="l1", C=0.3, tol=1e-6).fit(X, y)
    assert model.objective_ == pytest.approx(ref.objective_, rel=1e-6)


def test_bad_input_names_the_problem(client):
    X, y = binary(n=60)
    dX = dask_of(X, (30, 30))
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegression().fit(dX, dask_of(np.zeros(60), (30, 30)))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LogisticRegression().fit(dX, y[:50])
    Xn = X.copy()
    Xn[7, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        LogisticRegression().fit(dask_of(Xn, (30, 30)), y)
    with pytest.raises(ValueError, match="NaN or infinity"):
        LogisticRegression().fit(dX, dask_of(np.where(np.arange(60) == 9, np.nan, y), (30, 30)))
    with pytest.raises(ValueError, match="sample_weight"):
        LogisticRegression().fit(dX, y, sample_weight=-np.ones(60))
    with pytest.raises(ValueError, match="continuous"):
        LogisticRegression().fit(dX, dask_of(np.linspace(0, 1, 60), (30, 30)))
    with pytest.raises(ValueError, match="C"):
        LogisticRegression(C=-1.0).fit(dX, y)
    assert not np.isnan(X).any()  # the caller's arrays unchanged


def test_predictions_on_dask_are_lazy_and_equal_to_memory(client):
    X, yi = load_iris(return_X_y=True)
    y = np.array(["a", "b", "c"])[yi]
    for labels in (y, (yi > 0).astype(int)):
        model = LogisticRegression(penalty="l1", C=0.5).fit(X, labels)
        dX = dask_of(X, (40, 40, 70))
        for method in ("decision_function", "predict", "predict_proba", "predict_log_proba"):
            lazy = getattr(model, method)(dX)
            assert isinstance(lazy, da.Array)
            expected = getattr(model, method)(X)
            got = lazy.compute()
            assert got.shape == expected.shape and got.dtype == expected.dtype
            assert np.array_equal(got, expected) if method == "predict" else \
                np.allclose(got, expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="features"):
        model.predict(dask_of(X[:, :3], (40, 40, 70)))


@pytest.mark.parametrize("penalty", [None, lkreg.ElasticNet(1.0, 0.5), lkreg.Lk(1.5, 1.0)])
def test_log_path_equals_the_in_memory_path(client, penalty):
    """regularization_path(loss="log") on dask: the same grid (alpha_max from one pass, so the
    first L1 / elastic-net solution is all zeros) and the in-memory path's coefficients and
    zeros at every strength, with sample weights."""
    from lkreg.linear_model import regularization_path

    X, y = binary()
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    kw = dict(penalty=penalty, loss="log", n_alphas=4, eps=1e-2, tol=1e-10, max_iter=200)
    alphas, coefs, kkts = regularization_path(dask_of(X), dask_of(y), sample_weight=dask_of(sw),
                                              **kw)
    a0, c0, _ = regularization_path(X, y, sample_weight=sw, **kw)
    np.testing.assert_allclose(alphas, a0, rtol=1e-10)
    assert coefs.shape == c0.shape == (X.shape[1], 4) and np.all(kkts <= 1e-10)
    np.testing.assert_allclose(coefs, c0, atol=1e-6 * np.abs(c0).max())
    if penalty is None or isinstance(penalty, lkreg.ElasticNet):
        assert not coefs[:, 0].any() and coefs[:, -1].any()
        np.testing.assert_array_equal(coefs == 0, c0 == 0)


def test_log_path_multinomial_on_dask(client):
    """Three classes: the in-memory path's coefficients, on every strength."""
    from lkreg.linear_model import regularization_path

    X, y = load_iris(return_X_y=True)
    kw = dict(loss="log", n_alphas=3, eps=1e-2, tol=1e-10, max_iter=200)
    alphas, coefs, _ = regularization_path(dask_of(X, 50), dask_of(y, 50), **kw)
    a0, c0, _ = regularization_path(X, y, **kw)
    np.testing.assert_allclose(alphas, a0, rtol=1e-10)
    assert coefs.shape == c0.shape == (3, 4, 3)
    np.testing.assert_allclose(coefs, c0, atol=1e-5 * np.abs(c0).max())


def test_log_path_with_a_class_of_zero_weight(client):
    """A class whose samples all weigh 0 (its intercept at W = 0 would be log 0, and it has
    no finite optimum): the in-memory path's grid, and its coefficients where they are
    determined, the differences between the classes that weigh something."""
    from lkreg.linear_model import regularization_path

    X, y = load_iris(return_X_y=True)
    sw = np.where(y == 2, 0.0, 1.0)
    kw = dict(loss="log", n_alphas=3, eps=1e-2, tol=1e-8, max_iter=300)
    alphas, coefs, _ = regularization_path(dask_of(X, 50), dask_of(y, 50),
                                           sample_weight=dask_of(sw, 50), **kw)
    a0, c0, _ = regularization_path(X, y, sample_weight=sw, **kw)
    np.testing.assert_allclose(alphas, a0, rtol=1e-10)
    assert np.all(np.isfinite(coefs))
    np.testing.assert_allclose(coefs[0] - coefs[1], c0[0] - c0[1], atol=1e-4 * np.abs(c0).max())
