"""``lkreg bench --models``: linear models against scikit-learn, skglm and celer.

The logistic rows (``logistic_rows``) compare LogisticRegression with scikit-learn's liblinear
(which penalizes the intercept), saga and lbfgs, and skglm, on the objective with the intercept
unpenalized, ``C * sum log-loss + penalty``.

Every library solves the same problem at the same ``tol`` (a duality-gap tolerance relative to
``||y||^2 / n`` for scikit-learn, celer and lkreg; skglm's tol bounds its optimality
violation); the table gives each one's time (best of the repeats) and how far its objective
is from the best objective any of them reached (``(f - f_best) / f_best``), side by side in one
run. Libraries that are not installed are left out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np


def correlated_data(n: int, p: int, rho: float = 0.6, density: float = 0.2, snr: float = 3.0,
                    seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """skglm's make_correlated_data(n, p, rho=rho, random_state=seed) when skglm is installed,
    else a similar construction: AR(1) columns (corr rho^|i-j|), a fraction `density` of
    nonzero weights, noise at signal-to-noise ratio snr."""
    try:
        from skglm.utils.data import make_correlated_data

        X, y, _ = make_correlated_data(n, p, rho=rho, snr=snr, density=density,
                                       random_state=seed)
        return np.asfortranarray(X), y
    except ImportError:
        pass
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p), order="F")
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
    w = np.zeros(p)
    w[rng.choice(p, size=max(1, int(density * p)), replace=False)] = rng.standard_normal(
        max(1, int(density * p)))
    signal = X @ w
    y = signal + rng.standard_normal(n) * np.sqrt(signal.var() / snr)
    return X, y


def lasso_objective(X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: float,
                    alpha: float) -> float:
    r = y - X @ coef - intercept
    return float(r @ r / (2 * len(y)) + alpha * np.abs(coef).sum())


@dataclass
class Row:
    problem: str
    times: Dict[str, float] = field(default_factory=dict)
    subopt: Dict[str, float] = field(default_factory=dict)
    note: str = ""
    # lkreg's time to reach each less accurate peer's objective (the loosest tol that does)
    to_peer: Dict[str, float] = field(default_factory=dict)


def _best_time(fn: Callable[[], Any], repeats: int) -> Tuple[float, Any]:
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _lasso_solvers(alpha: float, tol: float, fit_intercept: bool) -> Dict[str, Callable]:
    """name -> fit(X, y) returning (coef, intercept), for the libraries installed here."""
    from .linear_model import Lasso

    solvers: Dict[str, Callable] = {}

    def ours(precompute):
        def fit(X, y):
            m = Lasso(alpha=alpha, tol=tol, fit_intercept=fit_intercept, precompute=precompute,
                      max_iter=100000).fit(X, y)
            return m.coef_, m.intercept_
        return fit

    solvers["lkreg"] = ours(False)
    solvers["lkreg auto"] = ours("auto")
    try:
        import sklearn.linear_model as sk

        def fit_sk(X, y):
            m = sk.Lasso(alpha=alpha, tol=tol, fit_intercept=fit_intercept,
                         max_iter=100000).fit(X, y)
            return m.coef_, m.intercept_
        solvers["scikit-learn"] = fit_sk
    except ImportError:
        pass
    try:
        import skglm

        def fit_skglm(X, y):
            m = skglm.Lasso(alpha=alpha, tol=tol, fit_intercept=fit_intercept,
                            max_iter=100000).fit(X, y)
            return m.coef_, m.intercept_
        solvers["skglm"] = fit_skglm
    except ImportError:
        pass
    try:
        import celer

        def fit_celer(X, y):
            m = celer.Lasso(alpha=alpha, tol=tol, fit_intercept=fit_intercept,
                            max_iter=100000).fit(X, y)
            return m.coef_, m.intercept_
        solvers["celer"] = fit_celer
    except ImportError:
        pass
    return solvers


def lasso_row(name: str, X: np.ndarray, y: np.ndarray, fraction: float, tol: float,
              fit_intercept: bool, repeats: int, per_fit_ms: bool = False) -> Row:
    yc = y - y.mean() if fit_intercept else y
    Xc = X - X.mean(axis=0) if fit_intercept else X
    alpha = fraction * np.max(np.abs(Xc.T @ yc)) / len(y)
    row = Row(name)
    objectives: Dict[str, float] = {}
    for lib, fit in _lasso_solvers(alpha, tol, fit_intercept).items():
        fit(X, y)  # warm-up (numba compilation for skglm, first-call costs)
        t, (coef, b) = _best_time(lambda: fit(X, y), repeats)
        row.times[lib] = t * 1e3 if per_fit_ms else t
        objectives[lib] = lasso_objective(X, y, coef, float(b), alpha)
    best = min(objectives.values())
    row.subopt = {lib: (f - best) / best for lib, f in objectives.items()}
    if per_fit_ms:
        row.note = "ms per fit"
    return row


def path_row(name: str, X: np.ndarray, y: np.ndarray, n_alphas: int, eps: float, tol: float,
             repeats: int) -> Row:
    from . import L1
    from .linear_model import regularization_path

    alpha_max = np.max(np.abs(X.T @ y)) / len(y)
    alphas = np.geomspace(alpha_max, alpha_max * eps, n_alphas)
    runs: Dict[str, Callable[[], np.ndarray]] = {
        "lkreg": lambda: regularization_path(X, y, L1(), alphas=alphas, tol=tol,
                                             fit_intercept=False, max_iter=100000,
                                             precompute=False)[1],
    }
    try:
        from sklearn.linear_model import lasso_path

        runs["scikit-learn"] = lambda: lasso_path(X, y, alphas=alphas, tol=tol,
                                                  max_iter=100000)[1]
    except ImportError:
        pass
    try:
        from celer import celer_path

        runs["celer"] = lambda: celer_path(X, y, "lasso", alphas=alphas, tol=tol)[1]
    except ImportError:
        pass
    row = Row(name, note="sum over the path")
    total: Dict[str, float] = {}
    for lib, fn in runs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, coefs = _best_time(fn, repeats)
        row.times[lib] = t
        total[lib] = sum(lasso_objective(X, y, coefs[:, i], 0.0, a) for i, a in enumerate(alphas))
    best = min(total.values())
    row.subopt = {lib: (f - best) / best for lib, f in total.items()}
    return row


def lk_rows(X: np.ndarray, y: np.ndarray, tol: float, repeats: int,
            lasso_fraction: float) -> List[Row]:
    """Lk(1.5), Lk(3) regression against the Lasso time on the same data (nobody else has Lk)."""
    from . import L1, Lk
    from .linear_model import PenalizedRegression

    alpha = lasso_fraction * np.max(np.abs(X.T @ y)) / len(y)
    rows = []
    t_l1, _ = _best_time(lambda: PenalizedRegression(L1(alpha), tol=tol, fit_intercept=False)
                         .fit(X, y), repeats)
    for k in (1.5, 3.0):
        t, m = _best_time(lambda: PenalizedRegression(Lk(k, alpha), tol=tol, fit_intercept=False,
                                                      max_iter=100000).fit(X, y), repeats)
        rows.append(Row(f"Lk({k:g}) {X.shape[0]}x{X.shape[1]}", {"lkreg": t, "lkreg L1": t_l1},
                        {}, f"{t / t_l1:.2f}x the Lasso time; gap {m.dual_gap_:.1e}"))
    return rows


def logistic_objective(X: Any, y: np.ndarray, coef: np.ndarray, intercept: Any, C: float,
                       penalty_value: float) -> float:
    """C * sum log-loss + penalty_value (binary: the sigmoid; 3+ classes: the softmax)."""
    W = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    d = np.asarray(X @ W.T, dtype=np.float64) + np.atleast_1d(intercept)
    if W.shape[0] == 1:
        d = d[:, 0]
        loss = np.logaddexp(0, d) - y * d
    else:
        m = d.max(axis=1, keepdims=True)
        lse = (m + np.log(np.exp(d - m).sum(axis=1, keepdims=True)))[:, 0]
        loss = lse - d[np.arange(len(y)), y]
    return float(C * loss.sum() + penalty_value)


def max_gradient(X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: Any,
                 C: float) -> float:
    """Largest |gradient| of the L2 objective divided by C n (lbfgs' and lkreg's tol scale)."""
    w = np.ravel(coef)
    d = X @ w + float(np.ravel(intercept)[0])
    r = C * (1 / (1 + np.exp(-d)) - y)
    g = np.append(X.T @ r + w, r.sum())
    return float(np.max(np.abs(g)) / (C * len(y)))


#: The tolerances lkreg tries, loosest first, for its time to a peer's objective.
LADDER = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)


def _logistic_row(name: str, X: Any, y: np.ndarray, C: float, pen: Callable[[np.ndarray], float],
                  fits: Dict[str, Callable[[], Tuple[np.ndarray, Any]]], repeats: Dict[str, int],
                  note: str = "", gradient: bool = False,
                  ladder: Optional[Callable[[float], Callable[[], Tuple[np.ndarray, Any]]]] = None
                  ) -> Row:
    """One problem, each library timed (best of its repeats) and scored on the same objective;
    with ``ladder`` (tol -> an lkreg fit), also lkreg's time to each peer's objective where the
    peer stops above lkreg's (time to the same objective, at the loosest tol that reaches it)."""
    row = Row(name, note=note)
    objectives, grads = {}, []
    for lib, fit in fits.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit()  # warm-up (numba compilation for skglm, first-call costs)
            t, (coef, b) = _best_time(fit, repeats.get(lib, 3))
        row.times[lib] = t
        objectives[lib] = logistic_objective(X, y, coef, b, C, pen(np.asarray(coef)))
        if gradient:
            grads.append(f"{lib} max|g| {max_gradient(X, y, coef, b, C):.1e}")
    best = min(objectives.values())
    row.subopt = {lib: (f - best) / abs(best) for lib, f in objectives.items()}
    reached = []
    for lib, target in objectives.items():
        if ladder is None or lib == "lkreg" or target <= objectives.get("lkreg", np.inf):
            continue
        for tol in LADDER:
            fit = ladder(tol)
            coef, b = fit()
            if logistic_objective(X, y, coef, b, C, pen(np.asarray(coef))) <= target:
                row.to_peer[lib] = _best_time(fit, repeats.get("lkreg", 3))[0]
                reached.append(f"lkreg to {lib}'s objective {row.to_peer[lib]:.4f} s (tol {tol:g}),"
                               f" lkreg/{lib} {row.to_peer[lib] / row.times[lib]:.2f}")
                break
    row.note = "; ".join([note] + grads + [f"{lib} {row.subopt[lib]:.0e}" for lib in row.subopt
                                           if row.subopt[lib] > 1e-6] + reached)
    return row


def logistic_rows(quick: bool = False) -> List[Row]:
    """The logistic problems of the issue (digits both raw and scaled), each library at the
    tol given in the note, side by side."""
    return [_logistic_row(*problem) for problem in logistic_problems(quick)]


def logistic_problems(quick: bool = False) -> List[Tuple[Any, ...]]:
    """_logistic_row's arguments for each problem: (name, X, y, C, penalty value, fits,
    repeats, note[, gradient])."""
    from sklearn.datasets import load_breast_cancer, load_digits, make_classification
    from sklearn.preprocessing import StandardScaler

    from .linear_model import LogisticRegression

    def l1(W):
        return float(np.abs(W).sum())

    def l2(W):
        return 0.5 * float(np.sum(np.asarray(W, dtype=np.float64) ** 2))

    # each fit binds the problem's X and y when it is made (the problems are built first)
    def ours(data=None, **kw):  # data: (X, y) bound now, for a fit made later (a ladder)
        Xp, yp = data if data is not None else (X, y)

        def fit():
            m = LogisticRegression(**kw).fit(Xp, yp)
            return m.coef_, m.intercept_
        return fit

    def sk(**kw):
        import sklearn.linear_model as skl

        Xp, yp = X, y

        def fit():
            m = skl.LogisticRegression(**kw).fit(Xp, yp)
            return m.coef_, m.intercept_
        return fit

    def skglm(C):
        try:
            from skglm import SparseLogisticRegression
        except ImportError:
            return {}
        Xp, yp = X, y

        def fit():
            m = SparseLogisticRegression(alpha=1.0 / (C * len(yp)), tol=1e-4,
                                         max_iter=100).fit(Xp, yp)
            return m.coef_, m.intercept_
        return {"skglm": fit}

    rows: List[Tuple[Any, ...]] = []
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rows.append((
        "L1 breast_cancer C=1", X, y, 1.0, l1,
        {"lkreg": ours(penalty="l1", C=1.0, tol=1e-6),
         "liblinear": sk(penalty="l1", solver="liblinear", C=1.0, tol=1e-6),
         "saga": sk(penalty="l1", solver="saga", C=1.0, tol=1e-6, max_iter=1000 if quick else 10000),
         **skglm(1.0)}, {"saga": 1},
        "tol 1e-6 (skglm 1e-4); liblinear penalizes the intercept", False,
        lambda tol, data=(X, y): ours(data, penalty="l1", C=1.0, tol=tol)))
    X, y = make_classification(5000 if quick else 20000, 200, random_state=0)
    X = np.asfortranarray(X)
    rows.append((
        f"L1 make_classification {X.shape[0]}x200 C=0.1", X, y, 0.1, l1,
        {"lkreg": ours(penalty="l1", C=0.1, tol=1e-6), **skglm(0.1)}, {"skglm": 1},
        "lkreg tol 1e-6, skglm 1e-4", False,
        lambda tol, data=(X, y): ours(data, penalty="l1", C=0.1, tol=tol)))
    rows.append((
        f"L2 make_classification {X.shape[0]}x200 C=0.1", X, y, 0.1, l2,
        {"lkreg": ours(penalty="l2", C=0.1, tol=1e-4),
         "lbfgs": sk(penalty="l2", solver="lbfgs", C=0.1, tol=1e-4)}, {},
        "tol 1e-4 (max |gradient| / (C n))", True))
    pixels, y = load_digits(return_X_y=True)
    for X, what in ((np.asfortranarray(pixels), "pixels 0..16"),
                    (np.asfortranarray(pixels / 16.0), "pixels / 16")):
        rows.append((
            f"multinomial L1 digits ({what}) C=0.1", X, y, 0.1, l1,
            {"lkreg": ours(penalty="l1", C=0.1, tol=1e-5),
             "saga": sk(penalty="l1", solver="saga", C=0.1, tol=1e-4, max_iter=1000)},
            {"saga": 1}, "lkreg tol 1e-5, saga tol 1e-4 and at most 1000 epochs"))
    return rows


LIBS = ("scikit-learn", "skglm", "celer", "lkreg", "lkreg auto", "lkreg L1")
LOGISTIC_LIBS = ("lkreg", "liblinear", "saga", "lbfgs", "skglm")


def run(quick: bool = False, log: Callable[[str], None] = lambda s: None) -> List[Row]:
    repeats = 1 if quick else 3
    rows: List[Row] = []
    scale = 4 if quick else 1

    def add(row: Row) -> None:
        rows.append(row)
        log(format_row(row))

    from sklearn.datasets import load_diabetes

    Xd, yd = load_diabetes(return_X_y=True)
    Xd = np.asfortranarray(Xd)
    add(lasso_row("diabetes Lasso(alpha=0.1)", Xd, yd, 0.1 / (np.max(np.abs(
        (Xd - Xd.mean(0)).T @ (yd - yd.mean()))) / len(yd)), 1e-4, True, 20, per_fit_ms=True))
    X, y = correlated_data(20000 // scale, 500, rho=0.0)
    add(lasso_row(f"Lasso {X.shape[0]}x500, 0.01", X, y, 0.01, 1e-4, False, repeats))
    X, y = correlated_data(5000 // scale, 2000 // scale, rho=0.6)
    add(lasso_row(f"Lasso {X.shape[0]}x{X.shape[1]} corr, 0.01", X, y, 0.01, 1e-4, False, repeats))
    for r in lk_rows(X, y, 1e-4, repeats, 0.01):
        add(r)
    X, y = correlated_data(100, 10000 // scale, rho=0.6)
    for frac in (0.01, 0.1):
        add(lasso_row(f"Lasso 100x{X.shape[1]} corr, {frac}", X, y, frac, 1e-8, False, repeats))
    X, y = correlated_data(200, 5000 // scale, rho=0.6)
    add(path_row(f"path 100 alphas 200x{X.shape[1]}", X, y, 100, 1e-3, 1e-6, 1))
    return rows


HEADER = f"{'problem (alpha / alpha_max)':<34}" + "".join(f"{lib:>14}" for lib in LIBS) + "  note"
LOGISTIC_HEADER = (f"{'logistic problem':<40}" + "".join(f"{lib:>12}" for lib in LOGISTIC_LIBS)
                   + "  note")


def format_logistic_row(r: Row) -> str:
    cells = []
    for lib in LOGISTIC_LIBS:
        mark = "*" if r.subopt.get(lib, 0.0) > 1e-6 else ""
        cells.append(f"{(f'{r.times[lib]:.4f}' + mark) if lib in r.times else '':>12}")
    others = [lib for lib in r.times if lib != "lkreg"]
    ratio = ", ".join(f"lkreg/{lib} {r.times['lkreg'] / r.times[lib]:.2f}" for lib in others)
    return f"{r.problem:<40}" + "".join(cells) + f"  {ratio}; {r.note}"


def format_row(r: Row) -> str:
    cells = []
    for lib in LIBS:
        if lib not in r.times:
            cells.append(f"{'':>14}")
            continue
        t = r.times[lib]
        sub = r.subopt.get(lib)
        mark = "" if sub is None or sub <= 1e-6 else "*"
        cells.append(f"{(f'{t:.3f}' if r.note != 'ms per fit' else f'{t:.3f}ms') + mark:>14}")
    ratio = ""
    if "lkreg" in r.times and "scikit-learn" in r.times:
        ratio = f"lkreg/sklearn {r.times['lkreg'] / r.times['scikit-learn']:.2f}"
        if "celer" in r.times:
            ratio += f", lkreg/celer {r.times['lkreg'] / r.times['celer']:.2f}"
    return f"{r.problem:<34}" + "".join(cells) + f"  {r.note} {ratio}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="lkreg bench --models")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--logistic", action="store_true", help="only the logistic rows")
    args = parser.parse_args(argv)
    print("seconds, best of the repeats; * marks an objective more than 1e-6 (relative) above "
          "the best reached", flush=True)
    rows: List[Row] = []
    if not args.logistic:
        print(HEADER, flush=True)
        rows = run(args.quick, log=lambda s: print(s, flush=True))
    print(LOGISTIC_HEADER, flush=True)
    for r in logistic_rows(args.quick):
        print(format_logistic_row(r), flush=True)
        rows.append(r)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([asdict(r) for r in rows], f, indent=2)
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
