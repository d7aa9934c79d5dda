"""lkreg.neural_network: gradients against finite differences, trajectories against
scikit-learn's MLP, dropout wiring against lkreg.dropout_mask, penalties, reproducibility,
partial_fit / warm_start / early stopping semantics and scikit-learn's estimator checks."""

import copy
import pickle
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

import lkreg  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from lkreg.neural_network import MLPClassifier, MLPRegressor  # noqa: E402

from helpers import bits  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ACTIVATIONS = ["relu", "tanh", "logistic"]


def _blobs(n=60, n_features=5, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 2, (n_classes, n_features))
    y = rng.integers(0, n_classes, n)
    X = centers[y] + rng.normal(0, 1, (n, n_features))
    return X, y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, random_state=0)


# -- backward pass against central finite differences --------------------------------------------

def _fitted(kind, activation, dropout):
    """A float64 network after one epoch, with its targets as the loss sees them."""
    X, y = _blobs(n=24, n_classes=3 if kind == "softmax" else 2)
    common = dict(hidden_layer_sizes=(7, 5), activation=activation, dropout=dropout,
                  dtype="float64", max_epochs=1, random_state=1)
    if kind == "identity":
        Y = np.column_stack([X[:, 0] * X[:, 1], np.sin(X[:, 2])])
        est = MLPRegressor(**common).fit(X, Y)
        return est, X, Y
    est = MLPClassifier(**common).fit(X, y)
    Y = est._label_binarizer.transform(y).astype(np.float64)
    return est, X, Y


@pytest.mark.parametrize("kind", ["softmax", "logistic", "identity"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dropout", [0.0, (0.2, 0.3, 0.4)], ids=["no-dropout", "fixed-mask"])
def test_backward_matches_central_differences(kind, activation, dropout):
    est, X, Y = _fitted(kind, activation, dropout)
    drops = None if dropout == 0.0 else list(dropout)
    _, coef_grads, intercept_grads = est._loss_and_grads(X, Y, drops)
    params = est.coefs_ + est.intercepts_
    grads = coef_grads + intercept_grads
    rng = np.random.default_rng(0)
    eps = 1e-6
    checked = 0
    for p, g in zip(params, grads):
        assert g.shape == p.shape
        flat, gflat = p.reshape(-1), g.reshape(-1)
        for i in rng.choice(flat.size, min(flat.size, 12), replace=False):
            old = flat[i]
            flat[i] = old + eps
            up = est._loss_and_grads(X, Y, drops)[0]  # the offsets do not move: same mask
            flat[i] = old - eps
            down = est._loss_and_grads(X, Y, drops)[0]
            flat[i] = old
            numeric = (up - down) / (2 * eps)
            assert gflat[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8)
            checked += 1
    assert checked > 40


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    from lkreg.neural_network._multilayer_perceptron import _softmax_cross_entropy

    z = np.array([[1000.0, 0.0, -1000.0], [0.0, 800.0, 0.0]])
    y = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    loss, prob, grad = _softmax_cross_entropy(z.copy(), y)
    assert np.isfinite(loss) and loss == pytest.approx(800.0 / 2)
    np.testing.assert_allclose(prob.sum(axis=1), 1.0)
    assert np.all(np.isfinite(grad))


# -- against scikit-learn's MLP: same initial weights, same objective, same SGD steps -------------

@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_classes", [2, 3, 0], ids=["binary", "multiclass", "regression"])
def test_sgd_trajectory_equals_scikit_learns(activation, n_classes):
    from sklearn.neural_network import MLPClassifier as SkC, MLPRegressor as SkR

    X, y = _blobs(n=50, n_classes=max(n_classes, 2))
    if n_classes == 0:
        y = X @ np.arange(1.0, 6.0) / 10
    n, alpha = X.shape[0], 0.05
    sk_cls, ours_cls = (SkR, MLPRegressor) if n_classes == 0 else (SkC, MLPClassifier)
    sk = sk_cls(hidden_layer_sizes=(8, 6), activation=activation, solver="sgd", momentum=0.0,
                learning_rate_init=0.05, alpha=alpha, batch_size=n, shuffle=False, max_iter=6,
                tol=0.0, n_iter_no_change=100, random_state=3).fit(X, y)
    ours = ours_cls((8, 6), activation=activation, optimizer="sgd", learning_rate=0.05,
                    penalty=lkreg.L2(alpha / (2 * n)), batch_size=n, shuffle=False, max_epochs=6,
                    tol=0.0, n_iter_no_change=100, dtype="float64", random_state=3).fit(X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-9, atol=1e-12)
    if n_classes:
        np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), rtol=1e-9,
                                   atol=1e-12)


# -- dropout: wiring, evaluation mode, p = 0 -----------------------------------------------------

def test_training_masks_are_lkreg_dropout_masks():
    X, y = _blobs(n=40)
    clf = MLPClassifier((16, 9), dropout=(0.25, 0.5, 0.3), dtype="float64", max_epochs=1,
                        random_state=0).fit(X, y)
    offsets = list(clf._dropout_offsets)
    assert offsets == [40 * 5, 40 * 16, 40 * 9]  # one epoch advanced each layer by its size
    inputs, hidden = clf._forward(X, [0.25, 0.5, 0.3])
    seed = clf._dropout_seed
    keep0 = lkreg.dropout_mask(X.shape, 0.25, seed=seed, stream=0, offset=offsets[0])
    np.testing.assert_array_equal(inputs[0], X * np.where(keep0, 1 / 0.75, 0.0))
    for layer, p in ((1, 0.5), (2, 0.3)):
        h = hidden[layer - 1]
        keep = lkreg.dropout_mask(h.shape, p, seed=seed, stream=layer, offset=offsets[layer])
        np.testing.assert_array_equal(inputs[layer], h * np.where(keep, 1 / (1 - p), 0.0))
        assert 0 < keep.mean() < 1


def _numpy_predict_proba(clf, X):
    a = X
    for w, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1]):
        a = np.maximum(a @ w.astype(np.float64) + b, 0)
    z = a @ clf.coefs_[-1].astype(np.float64) + clf.intercepts_[-1]
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def test_prediction_is_the_network_without_dropout():
    X, y = _blobs(n=80)
    clf = MLPClassifier((32,), dropout=(0.3, 0.5), max_epochs=5, random_state=0).fit(X, y)
    first = clf.predict_proba(X)
    state = pickle.dumps(clf)
    np.testing.assert_array_equal(first, clf.predict_proba(X))  # deterministic ...
    assert pickle.dumps(clf) == state  # ... and nothing moved (no dropout offset advanced)
    np.testing.assert_allclose(first, _numpy_predict_proba(clf, X), rtol=1e-12, atol=1e-14)


def test_zero_dropout_is_no_dropout_bit_for_bit():
    X, y = _blobs(n=60)
    plain = MLPClassifier((12, 8), max_epochs=4, random_state=5).fit(X, y)
    zeros = MLPClassifier((12, 8), dropout=(0.0, 0.0, 0.0), max_epochs=4,
                          random_state=5).fit(X, y)
    for a, b in zip(plain.coefs_ + plain.intercepts_, zeros.coefs_ + zeros.intercepts_):
        np.testing.assert_array_equal(bits(a), bits(b))
    dropped = MLPClassifier((12, 8), dropout=0.3, max_epochs=4, random_state=5).fit(X, y)
    assert not np.array_equal(plain.coefs_[1], dropped.coefs_[1])


def test_loss_decreases_monotonically_with_dropout_off():
    # seed 003's advice: before turning dropout on, check that the loss goes down without it
    X, y = _blobs(n=40, seed=2)
    clf = MLPClassifier((10,), activation="tanh", optimizer="sgd", learning_rate=0.1,
                        batch_size=40, shuffle=False, max_epochs=60, tol=0.0,
                        n_iter_no_change=1000, dtype="float64", random_state=0).fit(X, y)
    curve = np.array(clf.loss_curve_)
    assert len(curve) == 60
    assert np.all(np.diff(curve) < 0)
    assert curve[-1] < 0.5 * curve[0]


# -- penalties ----------------------------------------------------------------------------------

def test_l1_gives_exact_zeros_and_l2_does_not(digits):
    Xtr, Xte, ytr, yte = digits
    common = dict(hidden_layer_sizes=(64,), learning_rate=3e-3, max_epochs=40, random_state=0)
    l1 = MLPClassifier(penalty=lkreg.L1(2e-4), **common).fit(Xtr, ytr)
    l2 = MLPClassifier(penalty=lkreg.L2(2e-4), **common).fit(Xtr, ytr)
    zeros_l1 = sum(int((w == 0).sum()) for w in l1.coefs_)
    zeros_l2 = sum(int((w == 0).sum()) for w in l2.coefs_)
    size = sum(w.size for w in l1.coefs_)
    assert zeros_l1 > 0.2 * size
    assert zeros_l1 > 20 * max(zeros_l2, 1)
    assert l1.score(Xte, yte) > l2.score(Xte, yte) - 0.03
    assert all(np.count_nonzero(b) == b.size for b in l1.intercepts_)  # biases unpenalized


def test_per_layer_penalties_and_unpenalized_biases():
    X, y = _blobs(n=80)
    clf = MLPClassifier((20,), penalty=[lkreg.L1(0.2), None], optimizer="sgd",
                        learning_rate=0.05, max_epochs=60, random_state=0).fit(X, y)
    assert (clf.coefs_[0] == 0).mean() > 0.3
    assert np.count_nonzero(clf.coefs_[1]) == clf.coefs_[1].size
    groups = clf._optimizer.param_groups
    assert [g["penalty"] for g in groups] == [lkreg.L1(0.2), None, None]
    assert groups[-1]["params"][0] is clf.intercepts_[0]


@pytest.mark.parametrize("pen", [lkreg.GroupL2(0.02, axis=1), lkreg.L0(1e-3), lkreg.Lk(0.5, 1e-3),
                                 lkreg.ElasticNet(1e-3, 1e-3)], ids=repr)
def test_non_smooth_penalties_zero_weights(pen):
    # only features 0 and 1 matter; GroupL2 over each input row of W_1 selects features
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 10))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    clf = MLPClassifier((16,), penalty=[pen, None], learning_rate=1e-2, max_epochs=100,
                        random_state=0).fit(X, y)
    w = clf.coefs_[0]
    assert clf.score(X, y) > 0.95
    assert (w == 0).mean() > 0.25
    row_is_zero = np.all(w == 0, axis=1)
    assert not row_is_zero[:2].any()
    if isinstance(pen, lkreg.GroupL2):
        assert row_is_zero[2:].sum() >= 4


def test_adamw_weight_decay_spares_the_biases():
    X, y = _blobs(n=30)
    clf = MLPClassifier((6,), optimizer={"name": "adamw", "weight_decay": 0.1}, max_epochs=2,
                        random_state=0).fit(X, y)
    weights, biases = clf._optimizer.param_groups
    assert weights["weight_decay"] == 0.1 and biases["weight_decay"] == 0.0


# -- reproducibility ---------------------------------------------------------------------------

def test_bit_identical_whatever_the_thread_count(restore_threads):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 40))
    y = (X[:, :3].sum(axis=1) > 0).astype(int) + (X[:, 3] > 1)
    runs = []
    for threads in (1, 2, 3):
        lkreg.set_num_threads(threads)
        clf = MLPClassifier((512,), dropout=(0.1, 0.5), penalty=lkreg.L1(1e-4), max_epochs=3,
                            random_state=7).fit(X, y)
        runs.append([bits(p).copy() for p in clf.coefs_ + clf.intercepts_] + [clf.loss_curve_])
    for other in runs[1:]:
        for a, b in zip(runs[0][:-1], other[:-1]):
            np.testing.assert_array_equal(a, b)
        assert runs[0][-1] == other[-1]


def test_same_random_state_same_fit_and_other_state_other_fit():
    X, y = _blobs(n=80)
    fit = lambda rs: MLPClassifier((16,), dropout=0.4, max_epochs=3, random_state=rs).fit(X, y)  # noqa: E731
    a, b, c = fit(11), fit(11), fit(12)
    np.testing.assert_array_equal(bits(a.coefs_[0]), bits(b.coefs_[0]))
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


# -- partial_fit, warm_start, early stopping ---------------------------------------------------

def test_partial_fit_epochs_equal_fit_epochs():
    X, y = _blobs(n=90)
    kw = dict(hidden_layer_sizes=(16,), dropout=0.3, penalty=lkreg.L1(1e-3), batch_size=32,
              tol=0.0, n_iter_no_change=1000, random_state=4)
    full = MLPClassifier(max_epochs=5, **kw).fit(X, y)
    inc = MLPClassifier(**kw)
    for _ in range(5):
        inc.partial_fit(X, y, classes=np.unique(y))
    assert inc.n_iter_ == 5 and inc.loss_curve_ == full.loss_curve_
    for a, b in zip(full.coefs_ + full.intercepts_, inc.coefs_ + inc.intercepts_):
        np.testing.assert_array_equal(bits(a), bits(b))


def test_partial_fit_needs_classes_first_and_keeps_them():
    X, y = _blobs(n=30)
    clf = MLPClassifier((4,))
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:10], y[:10], classes=[0, 1, 2, 3])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2, 3])
    assert clf.predict_proba(X).shape == (30, 4)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y, classes=[0, 1])


def test_warm_start_continues_and_cold_start_restarts():
    X, y = _blobs(n=60)
    kw = dict(hidden_layer_sizes=(10,), optimizer="sgd", learning_rate=0.05, shuffle=False,
              dropout=0.2, tol=0.0, n_iter_no_change=1000, random_state=2)
    five = MLPClassifier(max_epochs=5, **kw).fit(X, y)
    warm = MLPClassifier(max_epochs=3, warm_start=True, **kw).fit(X, y)
    warm.set_params(max_epochs=2).fit(X, y)  # SGD without momentum: no optimizer state to lose
    assert warm.n_iter_ == 5 and warm.loss_curve_ == five.loss_curve_
    np.testing.assert_array_equal(bits(warm.coefs_[0]), bits(five.coefs_[0]))
    cold = MLPClassifier(max_epochs=3, **kw).fit(X, y)
    once = [w.copy() for w in cold.coefs_]
    cold.fit(X, y)
    assert cold.n_iter_ == 3
    np.testing.assert_array_equal(bits(cold.coefs_[0]), bits(once[0]))


def test_early_stopping_keeps_the_best_epoch(digits):
    Xtr, _, ytr, _ = digits
    kw = dict(hidden_layer_sizes=(32,), learning_rate=1e-2, early_stopping=True,
              validation_fraction=0.2, random_state=0)
    clf = MLPClassifier(n_iter_no_change=3, max_epochs=300, **kw).fit(Xtr, ytr)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_ < 300
    assert clf.best_validation_score_ == max(scores)
    best = int(np.argmax(scores))
    assert clf.n_iter_ >= best + 1 + 3
    # the same run stopped right after its best epoch ends at the weights early stopping kept
    again = MLPClassifier(n_iter_no_change=1000, max_epochs=best + 1, **kw).fit(Xtr, ytr)
    assert again.validation_scores_ == scores[:best + 1]
    for a, b in zip(clf.coefs_, again.coefs_):
        np.testing.assert_array_equal(bits(a), bits(b))


def test_training_loss_stopping_and_convergence_warning():
    X, y = _blobs(n=60)
    stopped = MLPClassifier((8,), tol=10.0, n_iter_no_change=2, max_epochs=100,
                            random_state=0).fit(X, y)
    assert stopped.n_iter_ == 4 and stopped.validation_scores_ is None
    with pytest.warns(ConvergenceWarning, match="max_epochs"):
        MLPClassifier((8,), max_epochs=3, random_state=0).fit(X, y)


# -- options -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["adam", "adamw", "sgd", "rmsprop", "adagrad", "ftrl"])
def test_every_optimizer_trains(name):
    X, y = _blobs(n=120)
    lr = {"sgd": 0.1, "ftrl": 1.0, "adagrad": 0.05}.get(name, 0.01)
    clf = MLPClassifier((16,), optimizer=name, learning_rate=lr, max_epochs=40, tol=0.0,
                        n_iter_no_change=1000, random_state=0).fit(X, y)
    expected = {"adam": lkreg.optim.Adam, "adamw": lkreg.optim.AdamW, "sgd": lkreg.optim.SGD,
                "rmsprop": lkreg.optim.RMSprop, "adagrad": lkreg.optim.Adagrad,
                "ftrl": lkreg.optim.FTRL}[name]
    assert type(clf._optimizer) is expected
    assert clf.loss_curve_[-1] < 0.7 * clf.loss_curve_[0]
    assert clf.score(X, y) > 0.8


def test_optimizer_dict_settings_reach_the_optimizer():
    X, y = _blobs(n=30)
    clf = MLPClassifier((4,), optimizer={"name": "sgd", "momentum": 0.9, "nesterov": True},
                        learning_rate=0.02, max_epochs=1).fit(X, y)
    group = clf._optimizer.param_groups[0]
    assert (group["momentum"], group["nesterov"], group["lr"]) == (0.9, True, 0.02)


def test_lr_scheduler_steps_once_per_epoch():
    from functools import partial

    X, y = _blobs(n=30)
    named = MLPClassifier((4,), learning_rate=0.08, max_epochs=3, tol=0.0,
                          lr_scheduler={"name": "StepLR", "step_size": 1, "gamma": 0.5}).fit(X, y)
    assert [g["lr"] for g in named._optimizer.param_groups] == [0.01, 0.01]
    factory = partial(lkreg.optim.lr_scheduler.ExponentialLR, gamma=0.1)
    made = MLPClassifier((4,), learning_rate=1.0, max_epochs=2, tol=0.0,
                         lr_scheduler=factory).fit(X, y)
    assert made._optimizer.param_groups[0]["lr"] == pytest.approx(0.01)
    clone(made)  # a partial is a parameter like any other


def test_dtype_float64_and_float32():
    X, y = _blobs(n=30)
    assert MLPClassifier((4,), max_epochs=1).fit(X, y).coefs_[0].dtype == np.float32
    clf = MLPClassifier((4,), max_epochs=1, dtype="float64").fit(X, y)
    assert all(p.dtype == np.float64 for p in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float64


def test_multi_output_regression():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (300, 3))
    Y = np.column_stack([X[:, 0] * X[:, 1], np.sin(2 * X[:, 2]), X.sum(axis=1)])
    reg = MLPRegressor((64,), activation="tanh", learning_rate=1e-2, max_epochs=200,
                       random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (300, 3) and reg.n_outputs_ == 3
    assert reg.score(X, Y) > 0.9
    one = MLPRegressor((8,), max_epochs=2).fit(X, Y[:, 0])
    assert one.predict(X).shape == (300,)


def test_multilabel_classification():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0]).astype(int)
    clf = MLPClassifier((32,), learning_rate=1e-2, max_epochs=100, random_state=0).fit(X, Y)
    assert clf.out_activation_ == "logistic"
    assert clf.predict(X).shape == (200, 2)
    assert clf.score(X, Y) > 0.85


def test_verbose_prints_a_line_per_epoch_without_tqdm(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y = _blobs(n=40)
    MLPClassifier((4,), max_epochs=3, early_stopping=True, validation_fraction=0.25,
                  verbose=True, random_state=0).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Epoch")]
    assert len(lines) == 3
    assert lines[0].startswith("Epoch 1/3, loss = ") and "validation score = " in lines[0]


def test_verbose_uses_tqdm_when_installed(capsys):
    pytest.importorskip("tqdm")
    X, y = _blobs(n=40)
    MLPClassifier((4,), max_epochs=3, verbose=True, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "3/3" in err and "loss=" in err


# -- pickling, copies, bad input ---------------------------------------------------------------

def test_pickle_copy_and_continue_bit_for_bit():
    X, y = _blobs(n=60)
    clf = MLPClassifier((8,), dropout=0.2, penalty=lkreg.L1(1e-3), max_epochs=3,
                        random_state=0).fit(X, y)
    copies = [pickle.loads(pickle.dumps(clf)), copy.deepcopy(clf)]
    for other in copies:
        np.testing.assert_array_equal(other.predict_proba(X), clf.predict_proba(X))
        assert other._optimizer.param_groups[0]["params"][0] is other.coefs_[0]
    clf.partial_fit(X, y)
    for other in copies:
        other.partial_fit(X, y)
        for a, b in zip(clf.coefs_, other.coefs_):
            np.testing.assert_array_equal(bits(a), bits(b))
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params() and not hasattr(fresh, "coefs_")


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"dropout": 1.0}, ValueError, "dropout"),
        ({"dropout": -0.1}, ValueError, "dropout"),
        ({"dropout": (0.1, 0.2)}, ValueError, "dropout must have 3 entries"),
        ({"dropout": (0.0, 0.1, 1.5)}, ValueError, r"dropout\[2\]"),
        ({"hidden_layer_sizes": (4, 0)}, ValueError, r"hidden_layer_sizes\[1\]"),
        ({"hidden_layer_sizes": "big"}, TypeError, "hidden_layer_sizes"),
        ({"activation": "gelu"}, ValueError, "activation"),
        ({"penalty": "l1"}, TypeError, "penalty"),
        ({"penalty": [lkreg.L1(0.1)]}, ValueError, "penalty must have 3 entries"),
        ({"optimizer": "lbfgs"}, ValueError, "optimizer"),
        ({"optimizer": {"name": "adam", "lr": 0.1}}, ValueError, "learning_rate"),
        ({"optimizer": {"name": "adam", "bogus": 1}}, ValueError, "optimizer"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"max_epochs": 0}, ValueError, "max_epochs"),
        ({"validation_fraction": 1.0}, ValueError, "validation_fraction"),
        ({"dtype": "float16"}, ValueError, "dtype"),
        ({"lr_scheduler": {"name": "Nope"}}, ValueError, "lr_scheduler"),
    ],
)
def test_bad_parameters_name_the_argument(params, error, match):
    X, y = _blobs(n=30)
    before = X.copy()
    kwargs = {"hidden_layer_sizes": (4, 3), "max_epochs": 2, **params}
    with pytest.raises(error, match=match):
        MLPClassifier(**kwargs).fit(X, y)
    np.testing.assert_array_equal(X, before)


def test_bad_data():
    X, y = _blobs(n=30)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier((4,)).fit(bad, y)
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        MLPRegressor((4,)).fit(bad, y.astype(float))
    with pytest.raises(ValueError, match="class"):
        MLPClassifier((4,)).fit(X, np.zeros(30, int))
    clf = MLPClassifier((4,), max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])


# -- digits: accuracy next to scikit-learn's MLP (same architecture); not a timing test ---------

def test_digits_accuracy_with_dropout_and_l2(digits):
    from sklearn.neural_network import MLPClassifier as SkC

    Xtr, Xte, ytr, yte = digits
    ours = MLPClassifier((128,), dropout=0.2, penalty=lkreg.L2(1e-5), learning_rate=3e-3,
                         max_epochs=60, random_state=0).fit(Xtr, ytr)
    sk = SkC((128,), learning_rate_init=3e-3, max_iter=60, random_state=0).fit(Xtr, ytr)
    assert ours.score(Xte, yte) >= 0.97
    assert ours.score(Xte, yte) >= sk.score(Xte, yte) - 0.01


# -- scikit-learn's estimator checks -----------------------------------------------------------

@parametrize_with_checks(
    [
        MLPClassifier((10,), max_epochs=100, random_state=0),
        MLPClassifier((6, 5), dropout=0.1, penalty=lkreg.L1(1e-4), max_epochs=150,
                      learning_rate=1e-2, random_state=0),
        MLPRegressor((10,), max_epochs=300, learning_rate=1e-2, random_state=0),
    ]
)
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
