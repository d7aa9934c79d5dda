"""lkreg.linear_model on dask arrays and a real dask.distributed cluster: the fit from one
distributed pass of sufficient statistics equals the in-memory fit and scikit-learn's."""

import numpy as np
import pytest

import lkreg

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
pytest.importorskip("sklearn")
joblib = pytest.importorskip("joblib")

from sklearn import linear_model as sk  # noqa: E402

from lkreg import linear_model as lm  # noqa: E402
from lkreg.dask import sufficient_statistics  # noqa: E402


def problem(n=900, p=7, dtype=np.float64, seed=0, targets=None):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, p)) * rng.uniform(0.5, 3, p) + rng.uniform(-2, 2, p))
    coef = rng.standard_normal(p if targets is None else (p, targets))
    coef[: p // 3] = 0
    y = X @ coef + 0.5 * rng.standard_normal(n if targets is None else (n, targets)) + 1.5
    return X.astype(dtype), y.astype(dtype)


def chunked(X, y, rows=(250, 1, 300, 349)):
    return (da.from_array(X, chunks=(rows, X.shape[1])),
            da.from_array(y, chunks=(rows,) + y.shape[1:]))


def sk_objective(X, y, coef, intercept, penalty_value, sw=None):
    r = y - X @ coef - intercept
    s = np.ones(len(y)) if sw is None else sw
    return np.sum(s * r**2) / (2 * s.sum()) + penalty_value


def test_sufficient_statistics_are_the_numpy_moments(client):
    X, y = problem(targets=2)
    sw = np.random.default_rng(3).uniform(0, 2, len(y))
    dX = da.from_array(X, chunks=(200, 3))  # split along the columns too: rechunked to rows
    m = sufficient_statistics(dX, y, sw)
    np.testing.assert_allclose(m.xtx, X.T @ (X * sw[:, None]), rtol=1e-12)
    np.testing.assert_allclose(m.xty, (y * sw[:, None]).T @ X, rtol=1e-12)
    np.testing.assert_allclose(m.x_sum, sw @ X, rtol=1e-12)
    np.testing.assert_allclose(m.y_sum, sw @ y, rtol=1e-12)
    np.testing.assert_allclose(m.yty, (y**2 * sw[:, None]).sum(0), rtol=1e-12)
    assert m.weight_sum == pytest.approx(sw.sum(), rel=1e-13) and m.n_samples == len(y)
    again = sufficient_statistics(dX, y, sw)  # a fixed tree of sums: the same bits
    assert np.array_equal(again.xtx, m.xtx) and np.array_equal(again.xty, m.xty)


@pytest.mark.parametrize("make", [
    lambda: (lm.Lasso(alpha=0.05, tol=1e-12), sk.Lasso(alpha=0.05, tol=1e-12)),
    lambda: (lm.ElasticNet(alpha=0.1, l1_ratio=0.3, tol=1e-12),
             sk.ElasticNet(alpha=0.1, l1_ratio=0.3, tol=1e-12)),
    lambda: (lm.Lasso(alpha=0.02, fit_intercept=False, tol=1e-12),
             sk.Lasso(alpha=0.02, fit_intercept=False, tol=1e-12)),
    lambda: (lm.Lasso(alpha=0.05, positive=True, tol=1e-12),
             sk.Lasso(alpha=0.05, positive=True, tol=1e-12)),
    lambda: (lm.Ridge(alpha=4.0), sk.Ridge(alpha=4.0)),
    lambda: (lm.Ridge(alpha=4.0, solver="cd", tol=1e-12), sk.Ridge(alpha=4.0)),
])
def test_models_on_dask_equal_in_memory_and_scikit_learn(client, make):
    X, y = problem()
    ours, peer = make()
    dX, dy = chunked(X, y)
    fitted = ours.fit(dX, dy)
    memory = make()[0].fit(X, y)
    peer.fit(X, y)
    np.testing.assert_allclose(fitted.coef_, memory.coef_, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(fitted.coef_, peer.coef_, rtol=1e-6, atol=1e-7)
    assert fitted.intercept_ == pytest.approx(peer.intercept_, rel=1e-6, abs=1e-7)
    assert fitted.n_features_in_ == X.shape[1]
    np.testing.assert_allclose(fitted.predict(dX).compute(), peer.predict(X), rtol=1e-6,
                               atol=1e-7)


def test_sample_weight_multi_target_and_float32(client):
    X, y = problem(targets=3)
    sw = np.random.default_rng(5).uniform(0, 3, len(y))
    dX, dy = chunked(X, y)
    for weights in (sw, da.from_array(sw, chunks=100)):
        fitted = lm.ElasticNet(alpha=0.05, tol=1e-12).fit(dX, dy, sample_weight=weights)
        peer = sk.ElasticNet(alpha=0.05, tol=1e-12).fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(fitted.coef_, peer.coef_, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(fitted.intercept_, peer.intercept_, rtol=1e-6, atol=1e-8)
    X32, y32 = problem(dtype=np.float32)
    fitted = lm.Lasso(alpha=0.05, tol=1e-10).fit(*chunked(X32, y32))
    memory = lm.Lasso(alpha=0.05, tol=1e-10).fit(X32, y32)
    assert fitted.coef_.dtype == np.float32
    x64, y64 = X32.astype(np.float64), y32.astype(np.float64)
    pen = 0.05 * np.abs(fitted.coef_.astype(np.float64)).sum()
    pen_mem = 0.05 * np.abs(memory.coef_.astype(np.float64)).sum()
    assert sk_objective(x64, y64, fitted.coef_, fitted.intercept_, pen) == pytest.approx(
        sk_objective(x64, y64, memory.coef_, memory.intercept_, pen_mem), rel=1e-6)


@pytest.mark.parametrize("penalty", [lkreg.L1(0.05), lkreg.Lk(0.5, 0.05), lkreg.L0(0.01),
                                     lkreg.Lk(1.5, 0.05), lkreg.ElasticNet(0.02, 0.1)])
def test_penalized_regression_on_dask_equals_in_memory(client, penalty):
    X, y = problem()
    fitted = lm.PenalizedRegression(penalty, tol=1e-10).fit(*chunked(X, y))
    memory = lm.PenalizedRegression(penalty, precompute=True, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(fitted.coef_, memory.coef_, rtol=1e-7, atol=1e-9)
    assert fitted.intercept_ == pytest.approx(memory.intercept_, rel=1e-7, abs=1e-9)
    if penalty.is_convex:  # and the optimum: the objective no lower anywhere near
        val = lambda c, b: sk_objective(X, y, c, b, penalty.value(c))  # noqa: E731
        best = val(fitted.coef_, fitted.intercept_)
        rng = np.random.default_rng(1)
        for _ in range(20):
            assert best <= val(fitted.coef_ + 1e-3 * rng.standard_normal(X.shape[1]),
                               fitted.intercept_) + 1e-12


@pytest.mark.parametrize("penalty", [None, lkreg.ElasticNet(0.5, 0.2), lkreg.Lk(0.5, 1.0),
                                     lkreg.GroupL2(1.0, groups=[0, 0, 1, 1, 2, 2, 3])])
@pytest.mark.parametrize("rows", [(250, 1, 300, 349), (900,), (97,) * 9 + (27,)])
def test_regularization_path_on_dask_equals_in_memory(client, penalty, rows):
    # one distributed pass of the statistics, then the in-memory Gram path over every alpha
    X, y = problem()
    dX, dy = chunked(X, y, rows)
    kw = dict(n_alphas=8, eps=1e-2, tol=1e-10)
    alphas, coefs, gaps = lm.regularization_path(dX, dy, penalty, **kw)
    a0, c0, g0 = lm.regularization_path(X, y, penalty, precompute=True, **kw)
    np.testing.assert_allclose(alphas, a0, rtol=1e-12)
    np.testing.assert_allclose(coefs, c0, rtol=1e-8, atol=1e-10)
    assert coefs.shape == (X.shape[1], 8) and gaps.shape == (8,)


def test_regularization_path_on_dask_weights_targets_and_float32(client):
    X, y = problem(targets=2)
    sw = np.random.default_rng(2).uniform(0, 2, len(y))
    dX, dy = chunked(X, y)
    grid = [0.3, 0.1, 0.01]
    for weights in (sw, da.from_array(sw, chunks=200)):
        for fit_intercept in (True, False):
            kw = dict(alphas=grid, fit_intercept=fit_intercept, tol=1e-10)
            alphas, coefs, gaps = lm.regularization_path(dX, dy, sample_weight=weights, **kw)
            a0, c0, _ = lm.regularization_path(X, y, sample_weight=sw, precompute=True, **kw)
            np.testing.assert_array_equal(alphas, a0)
            assert coefs.shape == (2, X.shape[1], 3) and gaps.shape == (2, 3)
            np.testing.assert_allclose(coefs, c0, rtol=1e-8, atol=1e-10)
    X32, y32 = problem(dtype=np.float32)
    _, coefs, _ = lm.regularization_path(*chunked(X32, y32), n_alphas=5, tol=1e-10)
    _, c0, _ = lm.regularization_path(X32, y32, n_alphas=5, tol=1e-10, precompute=True)
    np.testing.assert_allclose(coefs, c0, rtol=1e-4, atol=1e-5)  # float32 statistics summed
    # in another order


def test_regularization_path_on_dask_bad_input(client):
    X, y = problem(n=50)
    dX, dy = chunked(X, y, rows=25)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        lm.regularization_path(dX, y[:-1])
    with pytest.raises(ValueError, match="sample_weight"):
        lm.regularization_path(dX, dy, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="alphas must be"):
        lm.regularization_path(dX, dy, alphas=[-1.0])
    with pytest.raises(TypeError, match="X must be a dask array too"):
        lm.regularization_path(X, dy)


def test_cv_folds_run_on_the_cluster_with_joblibs_dask_backend(client):
    X, y = problem(n=400)
    with distributed.get_task_stream(client) as tasks:
        with joblib.parallel_config("dask"):
            on_cluster = lm.LassoCV(cv=4, n_jobs=-1, alphas=12).fit(X, y)
    assert len(tasks.data) >= 4  # the folds ran as tasks of the cluster
    local = lm.LassoCV(cv=4, alphas=12).fit(X, y)
    assert on_cluster.alpha_ == local.alpha_
    np.testing.assert_allclose(on_cluster.mse_path_, local.mse_path_, rtol=1e-12)
    np.testing.assert_allclose(on_cluster.coef_, local.coef_, rtol=1e-12)
    peer = sk.LassoCV(cv=4, alphas=local.alphas_).fit(X, y)
    assert on_cluster.alpha_ == pytest.approx(peer.alpha_, rel=1e-12)


def test_bad_dask_input_is_a_clear_error(client):
    X, y = problem(n=50)
    dX, dy = chunked(X, y, rows=25)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        lm.Lasso().fit(dX, y[:-1])
    with pytest.raises(ValueError, match="2-dimensional"):
        lm.Lasso().fit(dX[:, 0], dy)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        lm.Lasso().fit(da.from_array(bad, chunks=10), dy)
    with pytest.raises(ValueError, match="sample_weight"):
        lm.Lasso().fit(dX, dy, sample_weight=np.ones(len(y) - 1))
    with pytest.raises(TypeError, match="joblib.parallel_config"):
        lm.LassoCV().fit(dX, dy)
    model = lm.Lasso(alpha=0.1).fit(dX, dy)
    with pytest.raises(ValueError, match="expecting 7 features"):
        model.predict(dX[:, :3])


def test_fitted_models_pickle(client):
    import pickle

    X, y = problem(n=100)
    model = lm.Lasso(alpha=0.1).fit(*chunked(X, y, rows=30))
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.coef_, model.coef_)


def test_worker_processes_one_lkreg_thread_each_and_the_same_results():
    # worker processes on 127.0.0.1: everything sent to them pickles, they run lkreg on one
    # thread each, and the results are those of memory
    X, y = problem(n=600)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        with distributed.Client(cluster) as c:
            threads = c.run(lkreg.get_num_threads)
            assert sorted(threads.values()) == [1, 1]
            dX, dy = chunked(X, y, rows=100)
            fitted = lm.Lasso(alpha=0.05, tol=1e-12).fit(dX, dy)
            np.testing.assert_allclose(fitted.coef_, lm.Lasso(alpha=0.05, tol=1e-12).fit(X, y).coef_,
                                       rtol=1e-9, atol=1e-10)
            got = lkreg.dropout(dX, 0.3, seed=4, stream=2).compute()
            np.testing.assert_array_equal(got, lkreg.dropout(X, 0.3, seed=4, stream=2))
            value = lkreg.Lk(0.5, 0.2).value(dX).compute()
            assert value == pytest.approx(lkreg.Lk(0.5, 0.2).value(X), rel=1e-13)
            labels = (y > np.median(y)).astype(int)  # logistic: one pass per Newton step
            logistic = lm.LogisticRegression(penalty="l1", C=0.2, tol=1e-9)
            assert logistic.fit(dX, da.from_array(labels, chunks=100)).objective_ == \
                pytest.approx(lm.LogisticRegression(penalty="l1", C=0.2, tol=1e-9).fit(
                    X, labels).objective_, rel=1e-10)
            with joblib.parallel_config("dask"):
                cv = lm.ElasticNetCV(cv=3, alphas=6, n_jobs=-1).fit(X, y)
            assert cv.alpha_ == lm.ElasticNetCV(cv=3, alphas=6).fit(X, y).alpha_
