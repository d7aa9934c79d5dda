"""The demo's experiments: each fits real models and returns its table, conclusion and figures.

Every experiment is a function of ``quick`` (smaller, for tests and a first look) returning an
:class:`Experiment`; the numbers behind each conclusion are kept in ``facts`` so the test suite
can assert what the seed documents claim, and figures are built lazily (matplotlib optional).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

import lkreg

SEED = 0


@dataclass
class Experiment:
    """One experiment's results: a table with a one-line conclusion, and figures to draw."""

    title: str
    headers: List[str]
    rows: List[List[Any]]
    conclusion: str
    facts: Dict[str, Any] = field(default_factory=dict)
    figures: Dict[str, Callable[[], Any]] = field(default_factory=dict)
    skipped: Optional[str] = None


def _n_zero(coef: np.ndarray) -> int:
    return int(np.count_nonzero(np.ravel(coef) == 0))


# -- 0. the penalties themselves -------------------------------------------------------------

def penalties(quick: bool) -> Experiment:
    """How each Lk pulls on a small and on a large weight: the derivative k|w|^(k-1)."""
    from lkreg.plot import l1_l2_geometry, penalty_curves, unit_balls

    ks = (0.5, 1, 1.5, 2, 3, 10)
    rows = []
    for k in ks:
        pen = lkreg.Lk(k, 1.0) if k != 1 else lkreg.L1(1.0)
        small, large = pen.grad(np.array([0.01, 2.0]))  # lkreg's own gradient kernels
        rows.append([f"L{k:g}", f"{small:.3g}", f"{large:.3g}", f"{large / small:.3g}"])
    return Experiment(
        title="0. How each penalty pulls on weights (gradient of |w|^k)",
        headers=["penalty", "pull at w=0.01", "pull at w=2", "large/small"],
        rows=rows,
        conclusion="L0.5 and L1 pull small weights hardest (to exactly 0: sparsity); L3 and "
                   "L10 barely touch small weights and crush large ones.",
        figures={"penalty_curves.png": lambda: penalty_curves(ks),
                 "unit_balls.png": unit_balls,
                 "l1_l2_geometry.png": l1_l2_geometry},
    )


# -- 1. overfitting and its cure -------------------------------------------------------------

def _polynomial(x: np.ndarray, degree: int) -> np.ndarray:
    return np.vander(2 * x - 1, degree + 1, increasing=True)[:, 1:]  # on [-1, 1]: conditioned


def overfitting(quick: bool) -> Experiment:
    """A degree-15 polynomial through 20 noisy points of a sine, with and without penalties."""
    from lkreg.linear_model import Lasso, PenalizedRegression, Ridge

    rng = np.random.default_rng(SEED)
    degree, n_train = 15, 20  # 16 parameters for 20 points: room to thread through the noise
    x_train = np.sort(rng.uniform(0, 1, n_train))
    x_test = np.linspace(0, 1, 400)
    truth = lambda x: np.sin(2 * np.pi * x)  # noqa: E731
    y_train = truth(x_train) + rng.normal(0, 0.25, n_train)
    y_test = truth(x_test) + rng.normal(0, 0.25, x_test.size)
    mean = _polynomial(x_train, degree).mean(0)
    scale = _polynomial(x_train, degree).std(0)
    features = lambda x: (_polynomial(x, degree) - mean) / scale  # noqa: E731
    A, B = features(x_train), features(x_test)
    # Strengths in each estimator's own convention (Ridge: ||r||^2 + alpha ||w||^2; the others
    # 1/(2n) ||r||^2 + penalty), picked once by hand for this data.
    models = {
        "none": None,
        "L1": Lasso(alpha=3e-3, max_iter=100_000, tol=1e-8),
        "L2": Ridge(alpha=3e-2),
        "L0.5": PenalizedRegression(lkreg.Lk(0.5, 3e-3), max_iter=100_000, tol=1e-8),
        "L1.5": PenalizedRegression(lkreg.Lk(1.5, 1e-3), max_iter=100_000, tol=1e-8),
        "L3": PenalizedRegression(lkreg.Lk(3, 1e-3), max_iter=100_000, tol=1e-8),
    }
    rows, fits, facts = [], {}, {"train_mse": {}, "test_mse": {}, "zeros": {}}
    for name, model in models.items():
        if model is None:  # least squares through every point it can reach
            coef, *_ = np.linalg.lstsq(np.c_[np.ones(n_train), A], y_train, rcond=None)
            predict = lambda M, c=coef: np.c_[np.ones(len(M)), M] @ c  # noqa: E731
            w = coef[1:]
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a non-convex Lk's local optimum is fine here
                model.fit(A, y_train)
            predict, w = model.predict, model.coef_
        train = float(np.mean((predict(A) - y_train) ** 2))
        test = float(np.mean((predict(B) - y_test) ** 2))
        facts["train_mse"][name], facts["test_mse"][name] = train, test
        facts["zeros"][name] = _n_zero(w)
        fits[name] = predict(B)
        rows.append([name, f"{train:.4f}", f"{test:.4f}", f"{test - train:.4f}",
                     f"{_n_zero(w)} of {degree}"])
    gaps = {k: facts["test_mse"][k] - facts["train_mse"][k] for k in models}
    facts["gap"] = gaps
    best = min(facts["test_mse"], key=facts["test_mse"].get)

    def figure() -> Any:
        from lkreg.plot import penalty_color
        from lkreg.plot._style import new_figure

        fig, axes = new_figure(1, 1, width=6.4, height=4.2)
        ax = axes[0, 0]
        ax.plot(x_test, truth(x_test), color="0.6", lw=3, alpha=0.5, label="true curve")
        ax.plot(x_train, y_train, "o", color="0.2", ms=4, label="training points")
        for name, yhat in fits.items():
            ax.plot(x_test, yhat, color=penalty_color(name), lw=1.4, label=name)
        ax.set(title=f"degree-{degree} polynomial fits of {n_train} noisy points",
               xlabel="x", ylabel="y", ylim=(-2, 2))
        ax.legend(fontsize="small", ncol=2)
        return fig

    return Experiment(
        title=f"1. Overfitting: a degree-{degree} polynomial through {n_train} noisy points",
        headers=["penalty", "train MSE", "test MSE", "gap", "zero coefficients"],
        rows=rows,
        conclusion=f"No penalty fits the noise (gap {gaps['none']:.3f}, the largest); every "
                   f"penalty narrows it, {best} generalizes best; L1 and L0.5 also zero "
                   f"{facts['zeros']['L1']} and {facts['zeros']['L0.5']} of the {degree} terms.",
        facts=facts,
        figures={"overfitting.png": figure},
    )


# -- 2. Lasso, Ridge and Lk on diabetes ------------------------------------------------------

def diabetes(quick: bool) -> Experiment:
    """Cross-validated error and the features each penalty keeps, and the regularization path."""
    from sklearn.datasets import load_diabetes

    from lkreg.linear_model import PenalizedRegressionCV, regularization_path

    data = load_diabetes()
    X, y = data.data / data.data.std(0), data.target
    names = list(data.feature_names)
    families = {"L1": lkreg.L1(), "L2": lkreg.L2(), "L0.5": lkreg.Lk(0.5, 1.0),
                "L1.5": lkreg.Lk(1.5, 1.0)}
    rows, facts = [], {"cv_mse": {}, "kept": {}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a non-convex Lk's local optima are fine here
        for label, penalty in families.items():
            # The grid starts at L1's alpha_max; the smooth penalties' best strengths lie further
            # down (their pull vanishes near 0), so their grids reach lower.
            model = PenalizedRegressionCV(penalty, alphas=15 if quick else 40, cv=5,
                                          eps=1e-3 if label in ("L1", "L0.5") else 1e-6,
                                          max_iter=10_000).fit(X, y)
            cv_mse = float(np.min(np.mean(model.mse_path_, axis=1)))
            kept = [n for n, c in zip(names, model.coef_) if c != 0]
            facts["cv_mse"][label], facts["kept"][label] = cv_mse, kept
            rows.append([label, f"{model.alpha_:.3g}", f"{cv_mse:.0f}",
                         f"{len(kept)} of {len(names)}",
                         " ".join(kept) if len(kept) < len(names) else "all"])
    l1_path = regularization_path(X, y, lkreg.L1(), n_alphas=30 if quick else 60)
    l2_path = regularization_path(X, y, lkreg.L2(), n_alphas=30 if quick else 60)
    best = min(facts["cv_mse"], key=facts["cv_mse"].get)
    spread = max(facts["cv_mse"].values()) / facts["cv_mse"][best] - 1

    def figure() -> Any:
        from lkreg.plot import coef_path

        return coef_path({"L1": l1_path, "L2": l2_path}, feature_names=names)

    return Experiment(
        title="2. Lasso, Ridge and Lk on load_diabetes (PenalizedRegressionCV, 5 folds)",
        headers=["penalty", "best alpha", "CV MSE", "features kept", "which"],
        rows=rows,
        conclusion=f"Cross-validated errors within {spread:.1%} of each other (best: {best}); "
                   "features kept: " + ", ".join(f"{k} {len(v)}" for k, v in facts["kept"].items())
                   + f" of {len(names)}: L1 selects, L2 only shrinks.",
        facts=facts,
        figures={"coef_path.png": figure},
    )


# -- 3. L1 versus L2 logistic regression -----------------------------------------------------

def logistic(quick: bool) -> Experiment:
    """Accuracy against the number of features used, L1 and L2, on load_breast_cancer."""
    from lkreg import linear_model

    title = "3. L1 versus L2 logistic regression on load_breast_cancer"
    if not hasattr(linear_model, "LogisticRegression"):
        return Experiment(title=title, headers=[], rows=[], conclusion="",
                          skipped="this lkreg has no LogisticRegression yet")
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=SEED,
                                                        stratify=y)
    mean, std = X_train.mean(0), X_train.std(0)
    X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    Cs = np.logspace(-2.5, 1, 5 if quick else 8)
    curves: Dict[str, List[Sequence[float]]] = {"L1": [], "L2": []}
    rows = []
    for C in Cs:
        row: List[Any] = [f"{C:.3g}"]
        for penalty in ("L1", "L2"):
            model = linear_model.LogisticRegression(penalty=penalty.lower(), C=C, max_iter=1000)
            model.fit(X_train, y_train)
            used = int(np.count_nonzero(model.coef_))
            acc = float(model.score(X_test, y_test))
            curves[penalty].append((used, acc))
            row += [f"{acc:.3f}", used]
        rows.append(row)
    facts = {"curves": curves, "n_features": X.shape[1]}
    l1_small = [acc for used, acc in curves["L1"] if used <= 10]
    best_small = max(l1_small) if l1_small else float("nan")

    def figure() -> Any:
        from lkreg.plot import penalty_color
        from lkreg.plot._style import new_figure

        fig, axes = new_figure(1, 1, width=5.6, height=4.0)
        ax = axes[0, 0]
        for penalty, points in curves.items():
            used, acc = zip(*points)
            ax.plot(used, acc, "o-", color=penalty_color(penalty), label=penalty)
        ax.set(title="test accuracy against features used (C from small to large)",
               xlabel="features with a nonzero weight", ylabel="test accuracy")
        ax.legend()
        return fig

    return Experiment(
        title=title,
        headers=["C", "L1 accuracy", "L1 features", "L2 accuracy", "L2 features"],
        rows=rows,
        conclusion=f"L1 selects features: with at most 10 of {X.shape[1]} it reaches "
                   f"{best_small:.3f} test accuracy; L2 always uses all {X.shape[1]}.",
        facts=facts,
        figures={"logistic_sparsity.png": figure},
    )


# -- 4. an MLP on digits: L2, dropout, both ---------------------------------------------------

def _log_loss(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    proba = np.clip(model.predict_proba(X), 1e-12, 1.0)
    return float(-np.mean(np.log(proba[np.arange(len(y)), np.searchsorted(model.classes_, y)])))


def _train_all(configs: Dict[str, Dict[str, Any]], hidden: Sequence[int], epochs: int,
               X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
               classes: np.ndarray, rows: List[List[Any]], models: Dict[str, Any],
               curves: Dict[str, Any], facts: Dict[str, Any],
               progress: Callable[[str], None]) -> None:
    from lkreg.neural_network import MLPClassifier

    for name, extra in configs.items():
        model = MLPClassifier(hidden, learning_rate=1e-3, batch_size=50, random_state=SEED,
                              **extra)
        train_curve, test_curve = [], []
        for _ in range(epochs):
            model.partial_fit(X_train, y_train, classes=classes)
            train_curve.append(_log_loss(model, X_train, y_train))  # dropout off: predict
            test_curve.append(_log_loss(model, X_test, y_test))
        progress(f"  MLP {name}: {epochs} epochs, test log-loss {test_curve[-1]:.3f}")
        train_acc = float(model.score(X_train, y_train))
        test_acc = float(model.score(X_test, y_test))
        loss_gap = test_curve[-1] - train_curve[-1]
        facts["gap"][name], facts["test_accuracy"][name] = train_acc - test_acc, test_acc
        facts["loss_gap"][name] = loss_gap
        models[name], curves[name] = model, (train_curve, test_curve)
        rows.append([name, f"{train_acc:.3f}", f"{test_acc:.3f}", f"{train_acc - test_acc:.3f}",
                     f"{train_curve[-1]:.3f} / {test_curve[-1]:.3f}", f"{loss_gap:.3f}"])


def mlp(quick: bool, progress: Callable[[str], None] = lambda s: None) -> Experiment:
    """Train/test accuracy and the generalization gap of a digits MLP under L2 and dropout."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from lkreg.neural_network import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    # A small training set and a wide network: room to overfit, which regularization closes.
    X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=400, random_state=SEED,
                                                        stratify=y)
    epochs = 40 if quick else 120
    hidden = (256, 256)
    # Per-layer drop probabilities (keep 0.8 on the input, 0.5 on each hidden layer: the
    # largest layers overfit most and get the lowest keep probability, as the seed advises).
    drop = [0.2, 0.5, 0.5]
    configs = {
        "none": dict(),
        "L2": dict(penalty=lkreg.L2(3e-3)),
        "dropout": dict(dropout=drop),
        "L2 + dropout": dict(penalty=lkreg.L2(1e-3), dropout=drop),
    }
    rows, models, curves = [], {}, {}
    facts: Dict[str, Any] = {"gap": {}, "loss_gap": {}, "test_accuracy": {}}
    classes = np.unique(y)
    # Batches of 50 rows are too small for BLAS threads to pay off, and on a busy machine
    # OpenBLAS's spinning threads made each epoch 70x slower (0.58 s against 8 ms, measured).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        _train_all(configs, hidden, epochs, X_train, y_train, X_test, y_test, classes, rows,
                   models, curves, facts, progress)
        check = MLPClassifier((64,), optimizer="sgd", learning_rate=0.1, batch_size=len(y_train),
                              random_state=SEED, shuffle=False)
        for _ in range(20):
            check.partial_fit(X_train, y_train, classes=classes)
    # The seed's check: with dropout off the cost J is well defined and full-batch gradient
    # descent lowers it at every step; with dropout on, J is a different random function each step.
    losses = np.asarray(check.loss_curve_)
    facts["dropout_off_monotone"] = bool(np.all(np.diff(losses) < 0))
    rows.append(["check: dropout off, full batch",
                 f"J {losses[0]:.3f} -> {losses[-1]:.3f}", "", "", "",
                 "decreasing at every step" if facts["dropout_off_monotone"] else "NOT monotone"])
    best = min(facts["loss_gap"], key=facts["loss_gap"].get)


    def curves_figure() -> Any:
        from lkreg.plot import learning_curves

        return learning_curves(curves, ylabel="log-loss (dropout off)")

    def histograms() -> Any:
        from lkreg.plot import weight_histograms

        return weight_histograms({name: m.coefs_[1] for name, m in models.items()})

    return Experiment(
        title=f"4. load_digits MLP {hidden}, {len(y_train)} training images, {epochs} epochs",
        headers=["regularization", "train accuracy", "test accuracy", "accuracy gap",
                 "log-loss train / test", "log-loss gap"],
        rows=rows,
        conclusion=f"Unregularized, the network memorizes its training set (train log-loss "
                   f"{curves['none'][0][-1]:.3f}, gap {facts['loss_gap']['none']:.3f}); dropout "
                   f"narrows the log-loss gap to {facts['loss_gap']['dropout']:.3f}, {best} the "
                   f"most ({facts['loss_gap'][best]:.3f}); accuracy gaps stay within "
                   f"{min(facts['gap'].values()):.3f}-{max(facts['gap'].values()):.3f} (digits is "
                   f"easy: {facts['test_accuracy']['none']:.3f} test accuracy unregularized).",
        facts=facts,
        figures={"learning_curves.png": curves_figure, "weight_histograms.png": histograms},
    )


EXPERIMENTS = [penalties, overfitting, diabetes, logistic, mlp]
