"""Lasso against scikit-learn, skglm and celer: time to the same objective, side by side.

``python -m pytest benchmarks/test_bench_models.py --benchmark-only``: each group is one
problem (the issue's rows, built by lkreg._bench_models), each library at the same tol; a test
fails if its library's objective is more than 1e-6 (relative) above the best of a tight lkreg
solve, so a fast time is never a wrong answer. ``lkreg bench --models`` prints the same table.
"""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from lkreg import _bench_models as bm  # noqa: E402

PROBLEMS = {
    "20000x500": (lambda: bm.correlated_data(20000, 500, rho=0.0), 0.01, 1e-4),
    "5000x2000 corr": (lambda: bm.correlated_data(5000, 2000, rho=0.6), 0.01, 1e-4),
    "100x10000 corr 0.01": (lambda: bm.correlated_data(100, 10000, rho=0.6), 0.01, 1e-8),
    "100x10000 corr 0.1": (lambda: bm.correlated_data(100, 10000, rho=0.6), 0.1, 1e-8),
}
_data = {}


def _problem(name):
    if name not in _data:
        make, frac, tol = PROBLEMS[name]
        X, y = make()
        alpha = frac * np.max(np.abs(X.T @ y)) / len(y)
        from lkreg.linear_model import Lasso

        best = Lasso(alpha=alpha, tol=1e-12, fit_intercept=False, max_iter=10**6).fit(X, y)
        _data[name] = (X, y, alpha, tol, bm.lasso_objective(X, y, best.coef_, 0.0, alpha))
    return _data[name]


@pytest.mark.parametrize("library", ["lkreg", "lkreg auto", "scikit-learn", "skglm", "celer"])
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_lasso(benchmark, problem, library):
    X, y, alpha, tol, f_best = _problem(problem)
    solvers = bm._lasso_solvers(alpha, tol, False)
    if library not in solvers:
        pytest.skip(f"{library} is not installed")
    fit = solvers[library]
    fit(X, y)  # warm-up (numba compilation)
    benchmark.group = problem
    coef, b = benchmark.pedantic(fit, args=(X, y), rounds=3, iterations=1)
    assert bm.lasso_objective(X, y, coef, float(b), alpha) <= f_best * (1 + 1e-6)


# Logistic regression: the problems (lkreg._bench_models.logistic_problems), each
# library timed in its own test of the problem's group; lkreg must reach the best objective
# (within 1e-6) of the libraries that ran (the others' distance is in extra_info).
_LOGISTIC = []


def _logistic(i):
    if not _LOGISTIC:
        _LOGISTIC.extend(bm.logistic_problems())
    return _LOGISTIC[i]


@pytest.mark.parametrize("library", ["lkreg", "liblinear", "saga", "lbfgs", "skglm"])
@pytest.mark.parametrize("problem", range(5), ids=["L1 breast_cancer", "L1 20000x200",
                                                  "L2 20000x200", "multinomial L1 digits",
                                                  "multinomial L1 digits scaled"])
def test_logistic(benchmark, problem, library):
    name, X, y, C, pen, fits = _logistic(problem)[:6]
    if library not in fits:
        pytest.skip(f"{library} does not run on {name} (or is not installed)")
    import warnings

    benchmark.group = name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits[library]()  # warm-up
        coef, b = benchmark.pedantic(fits[library], rounds=1 if library in ("saga", "skglm")
                                     else 3, iterations=1)
    f = bm.logistic_objective(X, y, coef, b, C, pen(np.asarray(coef)))
    if library == "lkreg":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from lkreg.linear_model import LogisticRegression

            penalty = "l2" if "L2" in name else "l1"
            tight = LogisticRegression(penalty, C=C, tol=1e-7, max_iter=1000).fit(X, y)
        f_best = bm.logistic_objective(X, y, tight.coef_, tight.intercept_, C,
                                       pen(tight.coef_))
        assert f <= f_best * (1 + 1e-6)
    benchmark.extra_info["objective"] = f
