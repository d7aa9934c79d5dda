"""lkreg.linear_model.LogisticRegression against scikit-learn, scipy and the KKT conditions."""

import copy
import pickle
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
sp = pytest.importorskip("scipy.sparse")

import sklearn.linear_model as sk  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from scipy.special import logsumexp  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import lkreg  # noqa: E402
from lkreg.linear_model import LogisticRegression  # noqa: E402

TIGHT = dict(tol=1e-10, max_iter=1000)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def log_loss_sum(X, y, W, b, sw=None):
    """sum_i s_i log-loss_i in float64 (the reference formula: log-sum-exp over the classes,
    the sigmoid's as log(1 + e^d) - y d)."""
    X = X.toarray() if sp.issparse(X) else X
    W, b = np.atleast_2d(W).astype(np.float64), np.atleast_1d(b).astype(np.float64)
    d = X.astype(np.float64) @ W.T + b
    s = np.ones(len(y)) if sw is None else np.asarray(sw, dtype=np.float64)
    if W.shape[0] == 1:
        d = d[:, 0]
        return float(s @ (np.logaddexp(0, d) - y * d))
    return float(s @ (logsumexp(d, axis=1) - d[np.arange(len(y)), y]))


def objective(X, y, model, C, pen, sw=None):
    return C * log_loss_sum(X, y, model.coef_, model.intercept_, sw) + pen(model.coef_)


def l2(W):
    return 0.5 * float(np.sum(np.asarray(W, dtype=np.float64) ** 2))


def l1(W):
    return float(np.sum(np.abs(W)))


def split_reference(X, y, C, l1_weight, l2_weight):
    """min C sum log-loss + l1_weight ||w||_1 + l2_weight ||w||^2 with an unpenalized
    intercept, by L-BFGS-B on w = u - v, u, v >= 0 (smooth; an independent solver)."""
    n, p = X.shape

    def f(z):
        u, v, b = z[:p], z[p:2 * p], z[-1]
        w = u - v
        d = X @ w + b
        pr = 1.0 / (1.0 + np.exp(-d))
        g = C * (pr - y)
        gw = X.T @ g + 2 * l2_weight * w
        val = C * np.sum(np.logaddexp(0, d) - y * d) + l1_weight * (u + v).sum() + l2_weight * w @ w
        return val, np.concatenate([gw + l1_weight, -gw + l1_weight, [g.sum()]])

    bounds = [(0, None)] * (2 * p) + [(None, None)]
    r = minimize(f, np.zeros(2 * p + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                 options=dict(maxiter=100000, maxfun=100000, ftol=1e-16, gtol=1e-12))
    return r.fun


# ----------------------------------------------------------------------------- vs references

@pytest.mark.parametrize("layout", ["dense", "csr"])  # exact Newton, and the C++ prox Newton
def test_l2_matches_lbfgs(cancer, layout):
    X, y = cancer
    Xf = X if layout == "dense" else sp.csr_matrix(X)
    ours = LogisticRegression("l2", C=1.0, **TIGHT).fit(Xf, y)
    ref = sk.LogisticRegression(C=1.0, tol=1e-12, max_iter=100000).fit(X, y)
    f_ours, f_ref = objective(X, y, ours, 1.0, l2), objective(X, y, ref, 1.0, l2)
    assert abs(f_ours - f_ref) <= 1e-7 * f_ref
    np.testing.assert_allclose(ours.objective_, f_ours, rtol=1e-10)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4 * np.abs(ref.coef_).max())


@pytest.mark.parametrize("penalty,l1_ratio", [("l1", None), ("elasticnet", 0.5)])
@pytest.mark.parametrize("C", [0.1, 1.0])
def test_l1_and_elastic_net_match_a_smooth_reformulation(cancer, penalty, l1_ratio, C):
    X, y = cancer
    r = 1.0 if l1_ratio is None else l1_ratio
    ours = LogisticRegression(penalty, C=C, l1_ratio=l1_ratio, tol=1e-12, max_iter=1000).fit(X, y)
    pen = lambda W: r * l1(W) + (1 - r) * l2(W)  # noqa: E731
    f_ours = objective(X, y, ours, C, pen)
    f_ref = split_reference(X, y, C, r, 0.5 * (1 - r))
    assert f_ours <= f_ref * (1 + 1e-9)
    assert abs(f_ours - f_ref) <= 1e-7 * f_ref
    assert ours.kkt_violation_ <= 1e-12


@pytest.mark.parametrize("penalty,l1_ratio", [("l1", None), ("elasticnet", 1.0),
                                              ("elasticnet", 0.5)])
def test_l1_and_elastic_net_match_saga(cancer, penalty, l1_ratio):
    """scikit-learn's saga at tol 1e-12 (the intercept unpenalized there too) reaches the same
    objective to 1e-7, more slowly."""
    X, y = cancer
    r = 1.0 if l1_ratio is None else l1_ratio
    ours = LogisticRegression(penalty, l1_ratio=l1_ratio, C=0.1, tol=1e-12).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sk.LogisticRegression(C=0.1, l1_ratio=r, solver="saga", tol=1e-12,
                                    max_iter=10000).fit(X, y)
    pen = lambda W: r * l1(W) + (1 - r) * l2(W)  # noqa: E731
    f_ours, f_ref = objective(X, y, ours, 0.1, pen), objective(X, y, ref, 0.1, pen)
    assert f_ours <= f_ref * (1 + 1e-12)
    assert abs(f_ours - f_ref) <= 1e-7 * f_ref
    np.testing.assert_array_equal(ours.coef_ == 0, np.abs(ref.coef_) < 1e-6)


def test_multinomial_l2_matches_lbfgs(iris):
    X, y = iris
    ours = LogisticRegression("l2", C=1.0, **TIGHT).fit(X, y)
    ref = sk.LogisticRegression(C=1.0, tol=1e-12, max_iter=100000).fit(X, y)
    assert ours.coef_.shape == (3, 4) and ours.intercept_.shape == (3,)
    f_ours, f_ref = objective(X, y, ours, 1.0, l2), objective(X, y, ref, 1.0, l2)
    assert abs(f_ours - f_ref) <= 1e-7 * f_ref
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def _gradient(X, y, model, C, sw=None):
    """d(C sum log-loss)/dW and d/db (NumPy formula)."""
    W, b = np.atleast_2d(model.coef_).astype(np.float64), model.intercept_.astype(np.float64)
    d = X @ W.T + b
    s = np.ones(len(y)) if sw is None else sw
    if W.shape[0] == 1:
        r = (1.0 / (1.0 + np.exp(-d[:, 0])) - y)[:, None]
    else:
        P = np.exp(d - logsumexp(d, axis=1, keepdims=True))
        r = P - np.eye(W.shape[0])[y]
    r = C * s[:, None] * r
    return (X.T @ r).T, r.sum(axis=0)


@pytest.mark.parametrize("data", ["cancer", "iris"])
def test_l1_gives_exact_zeros_and_its_kkt_conditions(data, request):
    X, y = request.getfixturevalue(data)
    C = 0.05
    m = LogisticRegression("l1", C=C, tol=1e-10).fit(X, y)
    gW, gb = _gradient(X, y, m, C)
    W = np.atleast_2d(m.coef_)
    zero = W == 0
    assert zero.any() and (~zero).any()
    scale = C * len(y)
    assert np.all(np.abs(gW[zero]) <= 1 + 1e-8 * scale)
    np.testing.assert_allclose(gW[~zero], -np.sign(W[~zero]), atol=1e-8 * scale)
    np.testing.assert_allclose(gb, 0, atol=1e-8 * scale)


@pytest.mark.parametrize("k", [1.5, 3.0])
@pytest.mark.parametrize("data", ["cancer", "iris"])
def test_lk_stationarity(data, k, request):
    X, y = request.getfixturevalue(data)
    C, lam = 0.5, 0.3
    m = LogisticRegression(lkreg.Lk(k, lam), C=C, tol=1e-10, max_iter=2000).fit(X, y)
    gW, gb = _gradient(X, y, m, C)
    W = np.atleast_2d(m.coef_).astype(np.float64)
    full = gW + lam * k * np.sign(W) * np.abs(W) ** (k - 1)
    scale = C * len(y)
    assert np.max(np.abs(full)) <= 1e-8 * scale
    np.testing.assert_allclose(gb, 0, atol=1e-8 * scale)
    # and the objective is no worse than a generic smooth minimizer's
    p = X.shape[1]
    rows = W.shape[0]

    def f(z):
        Wz, bz = z[:rows * p].reshape(rows, p), z[rows * p:]
        model = type("M", (), dict(coef_=Wz, intercept_=bz))
        return C * log_loss_sum(X, y, Wz, bz) + lam * np.sum(np.abs(Wz) ** k), None

    ref = minimize(lambda z: f(z)[0], np.zeros(rows * (p + 1)), method="BFGS",
                   options=dict(gtol=1e-8, maxiter=10000))
    assert f(np.concatenate([W.ravel(), m.intercept_]))[0] <= ref.fun * (1 + 1e-9)


def test_l0_and_lk_below_one_are_stationary(cancer):
    """Non-convex penalties: no single coordinate can move the objective down from the
    solution by its own scalar prox (coordinate-wise stationarity, checked on a grid)."""
    X, y = cancer
    C = 0.5
    for pen in (lkreg.L0(0.5), lkreg.Lk(0.5, 0.5)):
        m = LogisticRegression(pen, C=C, tol=1e-8, max_iter=500).fit(X, y)
        base = C * log_loss_sum(X, y, m.coef_, m.intercept_) + pen.value(m.coef_)
        assert np.count_nonzero(m.coef_) < X.shape[1]
        for j in range(X.shape[1]):
            for step in (-0.05, 0.05):
                W = m.coef_.copy()
                W[0, j] += step
                f = C * log_loss_sum(X, y, W, m.intercept_) + pen.value(W)
                assert f >= base - 1e-9 * base


# ----------------------------------------------------------------------------- the estimator

def test_string_labels_and_predictions(cancer):
    X, y = cancer
    names = np.array(["benign", "malignant"])[y]
    m = LogisticRegression(C=0.5).fit(X, names)
    ref = LogisticRegression(C=0.5).fit(X, y)
    assert list(m.classes_) == ["benign", "malignant"]
    np.testing.assert_array_equal(m.predict(X), np.array(["benign", "malignant"])[ref.predict(X)])
    P = m.predict_proba(X)
    assert P.shape == (len(y), 2)
    np.testing.assert_allclose(P.sum(axis=1), 1)
    np.testing.assert_allclose(np.exp(m.predict_log_proba(X)), P, rtol=1e-12)
    np.testing.assert_allclose(P[:, 1], 1 / (1 + np.exp(-m.decision_function(X))), rtol=1e-12)


def test_predict_log_proba_is_stable():
    X = np.array([[-1.0], [1.0], [-2.0], [2.0]])
    y = np.array([0, 1, 0, 1])
    m = LogisticRegression(C=1.0).fit(X, y)
    m.coef_ = np.array([[1000.0]])
    lp = m.predict_log_proba(np.array([[1.0], [-1.0]]))
    assert np.all(np.isfinite(lp))
    np.testing.assert_allclose(lp[0], [-1000.0 - m.intercept_[0], 0.0], atol=1e-9)


@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_sample_weight_equals_repeated_rows(cancer, penalty):
    X, y = cancer
    sw = np.random.default_rng(0).integers(0, 4, size=len(y)).astype(np.float64)
    rows = np.repeat(np.arange(len(y)), sw.astype(int))
    a = LogisticRegression(penalty, C=0.3, **TIGHT).fit(X, y, sample_weight=sw)
    b = LogisticRegression(penalty, C=0.3, **TIGHT).fit(X[rows], y[rows])
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6 * np.abs(b.coef_).max())
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-6)


def test_class_weight_matches_sklearn(iris):
    X, y = iris
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    for class_weight in (cw, "balanced"):
        ours = LogisticRegression(C=0.7, class_weight=class_weight, **TIGHT).fit(X[:120], y[:120])
        ref = sk.LogisticRegression(C=0.7, class_weight=class_weight, tol=1e-12,
                                    max_iter=100000).fit(X[:120], y[:120])
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_float32_is_kept_and_close_to_float64(cancer, penalty):
    X, y = cancer
    m32 = LogisticRegression(penalty, C=0.5, tol=1e-6).fit(X.astype(np.float32), y)
    m64 = LogisticRegression(penalty, C=0.5, tol=1e-8).fit(X, y)
    assert m32.coef_.dtype == np.float32 and m32.intercept_.dtype == np.float32
    pen = l1 if penalty == "l1" else l2
    f32, f64 = objective(X, y, m32, 0.5, pen), objective(X, y, m64, 0.5, pen)
    assert abs(f32 - f64) <= 1e-5 * f64


@pytest.mark.parametrize("penalty", ["l1", "l2", lkreg.Lk(1.5, 0.2)])
@pytest.mark.parametrize("data", ["cancer", "iris"])
def test_sparse_equals_dense(data, penalty, request):
    X, y = request.getfixturevalue(data)
    Xs = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    a = LogisticRegression(penalty, C=0.5, **TIGHT).fit(Xs, y)
    b = LogisticRegression(penalty, C=0.5, **TIGHT).fit(Xs.toarray(), y)
    np.testing.assert_allclose(a.objective_, b.objective_, rtol=1e-9)
    pen = penalty if not isinstance(penalty, str) else (lkreg.L1(1.0) if penalty == "l1"
                                                         else lkreg.L2(0.5))
    f = lambda m: 0.5 * log_loss_sum(Xs, y, m.coef_, m.intercept_) + pen.value(m.coef_)  # noqa
    np.testing.assert_allclose(f(a), a.objective_, rtol=1e-10)
    if data == "cancer" or penalty != "l1":  # multinomial L1 minimizers need not be unique
        np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-5 * max(1.0, np.abs(b.coef_).max()))
        np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-5)
    before = Xs.copy()
    LogisticRegression(penalty).fit(Xs, y)
    assert (Xs != before).nnz == 0


def test_no_intercept_and_no_penalty(cancer):
    X, y = cancer
    m = LogisticRegression(None, fit_intercept=False, C=1.0, tol=1e-8, max_iter=200).fit(
        X[:, :5], y)
    assert np.all(m.intercept_ == 0)
    gW, _ = _gradient(X[:, :5], y, m, 1.0)
    assert np.max(np.abs(gW)) <= 1e-8 * len(y)


def test_warm_start_continues(cancer):
    X, y = cancer
    m = LogisticRegression("l1", C=0.5, warm_start=True, tol=1e-10).fit(X, y)
    it = m.fit(X, y).n_iter_[0]
    assert it <= 1


def test_non_convergence_warns(cancer):
    X, y = cancer
    with pytest.warns(ConvergenceWarning, match="KKT violation"):
        LogisticRegression("l1", C=10.0, max_iter=1, tol=1e-14).fit(X, y)


def test_caller_arrays_unchanged(cancer):
    X, y = cancer
    X2, y2 = np.asfortranarray(X.copy()), y.copy()
    sw = np.ones(len(y))
    LogisticRegression("l1").fit(X2, y2, sample_weight=sw)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    assert np.all(sw == 1)


@pytest.mark.parametrize("make,Xf,yf,exc,word", [
    (lambda: LogisticRegression(), None, lambda y: np.zeros_like(y), ValueError, "one class"),
    (lambda: LogisticRegression(), None, lambda y: np.column_stack([y, y]), ValueError, "y"),
    (lambda: LogisticRegression(), lambda X: np.where(X > 2, np.nan, X), None, ValueError, "NaN"),
    (lambda: LogisticRegression(), lambda X: np.where(X > 2, np.inf, X), None, ValueError,
     "infinity"),
    (lambda: LogisticRegression(C=-1.0), None, None, ValueError, "C"),
    (lambda: LogisticRegression(C=0.0), None, None, ValueError, "C"),
    (lambda: LogisticRegression(penalty="l3"), None, None, ValueError, "penalty"),
    (lambda: LogisticRegression(penalty="elasticnet"), None, None, ValueError, "l1_ratio"),
    (lambda: LogisticRegression(penalty="elasticnet", l1_ratio=2.0), None, None, ValueError,
     "l1_ratio"),
    (lambda: LogisticRegression(penalty=lkreg.GroupL2(1.0, axis=0)), None, None, ValueError, "GroupL2"),
    (lambda: LogisticRegression(tol=-1.0), None, None, ValueError, "tol"),
    (lambda: LogisticRegression(max_iter=-1), None, None, ValueError, "max_iter"),
    (lambda: LogisticRegression(), None, lambda y: y.astype(float) + 0.5, ValueError, "Unknown"),
])
def test_bad_input(cancer, make, Xf, yf, exc, word):
    X, y = cancer
    X = X if Xf is None else Xf(X)
    y = y if yf is None else yf(y)
    with pytest.raises(exc, match=word):
        make().fit(X, y)


ESTIMATORS = [LogisticRegression(), LogisticRegression("l1", C=0.5),
              LogisticRegression(lkreg.Lk(1.5, 0.1))]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_pickle_clone_copy(iris, estimator):
    X, y = iris
    m = clone(estimator).fit(X, y)
    for other in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        np.testing.assert_array_equal(other.coef_, m.coef_)
        np.testing.assert_array_equal(other.predict_proba(X), m.predict_proba(X))
    assert clone(m).get_params() == m.get_params()


def test_results_do_not_depend_on_thread_count(cancer):
    X, y = cancer
    before = lkreg.get_num_threads()
    try:
        lkreg.set_num_threads(1)
        a = LogisticRegression("l1", C=0.5, tol=1e-8).fit(sp.csc_matrix(X), y)
        lkreg.set_num_threads(2)
        b = LogisticRegression("l1", C=0.5, tol=1e-8).fit(sp.csc_matrix(X), y)
    finally:
        lkreg.set_num_threads(before)
    np.testing.assert_array_equal(a.coef_, b.coef_)


# ----------------------------------------------------------------------------- path and CV

def test_log_path_starts_at_alpha_max_and_matches_the_estimator(cancer, iris):
    from lkreg.linear_model import regularization_path

    for X, y in (cancer, iris):
        alphas, coefs, kkts = regularization_path(X, y, lkreg.L1(), n_alphas=6, eps=1e-2,
                                                  loss="log", tol=1e-10)
        W = coefs if coefs.ndim == 3 else coefs[None]
        assert np.all(W[:, :, 0] == 0) and np.any(W[:, :, 1] != 0)
        assert np.all(kkts <= 1e-10)
        # slightly below alpha_max the solution is no longer 0: alpha_max is the boundary
        below = regularization_path(X, y, lkreg.L1(), alphas=[alphas[0] * 0.99], loss="log")[1]
        assert np.any(below != 0)
        # each point is LogisticRegression with penalty alpha * n * ||W||_1 and C = 1
        i = 3
        ref = LogisticRegression(lkreg.L1(alphas[i] * len(y)), C=1.0, tol=1e-10).fit(X, y)
        np.testing.assert_allclose(W[:, :, i], np.atleast_2d(ref.coef_), atol=1e-6)


def test_log_path_of_lk_is_stationary(cancer):
    from lkreg.linear_model import regularization_path

    X, y = cancer
    alphas, coefs, kkts = regularization_path(X, y, lkreg.Lk(1.5), n_alphas=4, loss="log",
                                              tol=1e-9)
    assert np.all(kkts <= 1e-9)


def test_logistic_cv_picks_the_best_mean_score(cancer):
    from sklearn.model_selection import StratifiedKFold
    from lkreg.linear_model import LogisticRegressionCV

    X, y = cancer
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    Cs = [0.01, 0.1, 1.0, 10.0]
    m = LogisticRegressionCV(Cs=Cs, penalty="l1", cv=cv, tol=1e-8, n_jobs=2).fit(X, y)
    # brute force: each fold and C fitted from scratch
    brute = np.zeros((3, len(Cs)))
    for f, (tr, te) in enumerate(cv.split(X, y)):
        for i, C in enumerate(Cs):
            brute[f, i] = LogisticRegression("l1", C=C, tol=1e-8).fit(X[tr], y[tr]).score(
                X[te], y[te])
    np.testing.assert_allclose(m.scores_, brute)
    assert m.C_[0] == Cs[int(np.argmax(brute.mean(axis=0)))]
    ref = LogisticRegression("l1", C=m.C_[0], tol=1e-8).fit(X, y)
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-6)
    assert m.coefs_paths_.shape == (3, len(Cs), 1, X.shape[1] + 1)


def test_logistic_cv_multinomial_and_checks(iris):
    from lkreg.linear_model import LogisticRegressionCV

    X, y = iris
    m = LogisticRegressionCV(Cs=3, cv=3).fit(X, y)
    assert m.coef_.shape == (3, 4) and m.C_.shape == (3,)
    pickle.loads(pickle.dumps(m)).predict(X)


@parametrize_with_checks([__import__("lkreg.linear_model", fromlist=["x"]).LogisticRegressionCV(
    Cs=3, cv=3)])
def test_sklearn_estimator_checks_cv(estimator, check):
    check(estimator)


@pytest.mark.parametrize("penalty", ["l1", lkreg.ElasticNet(0.5, 0.3), lkreg.Lk(1.5, 0.4),
                                     lkreg.L0(0.3), "l2"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_newton_solvers_agree_with_the_cpp_solver(cancer, monkeypatch, penalty, fit_intercept):
    """The Gram-form proximal Newton (n >> p) and the truncated Newton (smooth penalties) reach
    the C++ residual-form solver's objective (forced on a small problem; CSC X takes C++)."""
    from lkreg.linear_model import _logistic

    X, y = cancer
    X = X[:, :25]
    sw = np.random.default_rng(3).uniform(0.5, 2.0, len(y))
    sw[::7] = 0.0  # samples that weigh nothing
    monkeypatch.setattr(_logistic, "GRAM_MIN_SIZE", 1)
    pb = _logistic.problem_of(np.asfortranarray(X), y, 2, sw, None, np.array([0, 1]), y,
                              fit_intercept)
    pen = _logistic.sklearn_penalty(penalty, None)
    assert _logistic.uses_gram(pb) or _logistic.uses_newton(pb, pen)
    a = LogisticRegression(penalty, C=0.7, fit_intercept=fit_intercept, tol=1e-9).fit(
        X, y, sample_weight=sw)
    b = LogisticRegression(penalty, C=0.7, fit_intercept=fit_intercept, tol=1e-9).fit(
        sp.csc_matrix(X), y, sample_weight=sw)
    if isinstance(pen, lkreg.L0):  # non-convex: each a stationary point, not one minimizer
        assert a.kkt_violation_ <= 1e-9
        return
    np.testing.assert_allclose(a.objective_, b.objective_, rtol=1e-9)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6 * np.abs(b.coef_).max())
    assert a.kkt_violation_ <= 1e-9


def _digits5(monkeypatch):
    """Five digit classes (odd: the L1 optimum has no shift freedom), every other pixel, with
    the Gram form forced on and samples of weight 0."""
    from sklearn.datasets import load_digits

    from lkreg.linear_model import _logistic

    X, y = load_digits(n_class=5, return_X_y=True)
    X = np.asfortranarray(X[:, ::2] / 16.0)
    sw = np.random.default_rng(5).uniform(0.5, 2.0, len(y))
    sw[::9] = 0.0
    monkeypatch.setattr(_logistic, "GRAM_MIN_SIZE", 1)
    assert _logistic.uses_gram(_logistic.problem_of(X, y, 5, sw, None, np.arange(5), y, True))
    return X, y, sw


@pytest.mark.parametrize("penalty", ["l1", lkreg.ElasticNet(0.05, 0.3), lkreg.Lk(1.5, 0.2), "l2"])
def test_multinomial_gram_form_agrees_with_the_cpp_solver(monkeypatch, penalty):
    """The softmax on the Gram form (with its working set for non-smooth penalties) reaches
    the C++ residual-form solver's objective and zeros, with class and sample weights."""
    X, y, sw = _digits5(monkeypatch)
    kw = dict(C=0.3, tol=1e-8, class_weight="balanced", max_iter=1000)
    a = LogisticRegression(penalty, **kw).fit(X, y, sample_weight=sw)
    b = LogisticRegression(penalty, **kw).fit(sp.csc_matrix(X), y, sample_weight=sw)
    np.testing.assert_allclose(a.objective_, b.objective_, rtol=1e-9)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-5 * np.abs(b.coef_).max())
    if penalty == "l1" or isinstance(penalty, lkreg.ElasticNet):
        assert 0 < np.count_nonzero(a.coef_) < a.coef_.size
        np.testing.assert_array_equal(a.coef_ == 0, b.coef_ == 0)
    assert a.kkt_violation_ <= 1e-8


@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_multinomial_gram_form_on_float32_reaches_a_tight_tol(monkeypatch, penalty):
    """float32 X keeps float32 coefficients, and the Gram form sums its predictions and
    gradient in float64: tol 1e-9 is reached as by the C++ solver, at the float64 fit's
    objective."""
    X, y, sw = _digits5(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        a = LogisticRegression(penalty, C=0.3, tol=1e-9).fit(X.astype(np.float32), y,
                                                             sample_weight=sw)
    b = LogisticRegression(penalty, C=0.3, tol=1e-9).fit(X, y, sample_weight=sw)
    assert a.coef_.dtype == np.float32 and a.kkt_violation_ <= 1e-9
    np.testing.assert_allclose(a.objective_, b.objective_, rtol=1e-6)


@pytest.mark.parametrize("l1, l2", [(1.0, 0.0), (0.05, 0.3)])
def test_multinomial_gram_form_without_intercept_meets_its_kkt_conditions(monkeypatch, l1, l2):
    """Without an intercept (slow for the C++ solver), the NumPy gradient checks the optimum:
    g + l1 sign(w) + 2 l2 w = 0 where w != 0, |g| <= l1 where w = 0."""
    X, y, sw = _digits5(monkeypatch)
    C = 0.3
    m = LogisticRegression(lkreg.ElasticNet(l1, l2), C=C, fit_intercept=False, tol=1e-10,
                           max_iter=1000).fit(X, y, sample_weight=sw)
    gW, _ = _gradient(X, y, m, C, sw)
    W = m.coef_
    zero = W == 0
    assert zero.any() and (~zero).any()
    atol = 1e-8 * C * sw.sum()
    assert np.all(np.abs(gW[zero]) <= l1 + atol)
    np.testing.assert_allclose(gW[~zero] + l1 * np.sign(W[~zero]) + 2 * l2 * W[~zero], 0,
                               atol=atol)
    assert np.all(m.intercept_ == 0)
    if l2 > 0:
        # the C++ class-block solver (CSC X) reaches the same optimum: its per-feature shift
        # of the class coefficients (the softmax's free direction) takes it there in a few
        # dozen outer iterations (without the shift: 473)
        c = LogisticRegression(lkreg.ElasticNet(l1, l2), C=C, fit_intercept=False, tol=1e-10,
                               max_iter=100).fit(sp.csc_matrix(X), y, sample_weight=sw)
        assert c.n_iter_[0] <= 60
        np.testing.assert_allclose(c.objective_, m.objective_, rtol=1e-10)
        np.testing.assert_allclose(c.coef_, W, atol=1e-6 * np.abs(W).max())


from test_concurrency import _steps_inside, needs_gil  # noqa: E402


@needs_gil
def test_the_solver_releases_the_gil():
    rng = np.random.default_rng(0)
    X = sp.csc_matrix(rng.standard_normal((3000, 300)))
    y = (X[:, :20] @ rng.standard_normal(20) > 0).astype(int)
    model = LogisticRegression("l1", C=10.0, tol=1e-12, max_iter=30)
    before = lkreg.get_num_threads()
    lkreg.set_num_threads(1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            steps = _steps_inside(lambda: model.fit(X, y), lkreg._core.logistic_regression)
    finally:
        lkreg.set_num_threads(before)
    assert steps > 0, "the solver holds the GIL for the whole solve"
