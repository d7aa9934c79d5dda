"""MLPClassifier and MLPRegressor: NumPy matmuls for the layers, lkreg kernels for the rest.

A network with hidden layers ``h_1 .. h_L`` computes, for a batch ``A_0 = X``::

    A_0 <- dropout(A_0, p_0)                       (stream 0; p_0 = 0 by default)
    H_l  = act(A_{l-1} @ W_l + b_l),  A_l = dropout(H_l, p_l)   for l = 1 .. L (stream l)
    out  = softmax / logistic / identity (A_L @ W_{L+1} + b_{L+1})

and minimizes, per batch, ``mean data loss + sum_l penalty_l(W_l)`` (biases unpenalized):
softmax cross-entropy (computed from the logits by log-sum-exp), binary cross-entropy per
output (``logaddexp(0, z) - y z``) or half the squared error summed over outputs. The
penalty is given to the optimizer (one param group per distinct weight penalty, one for the
biases): a smooth one adds its gradient inside the fused C++ step, a non-smooth one is the
optimizer's proximal step, so L1 leaves exact zeros.

Dropout masks come from lkreg's counter-based generator: layer ``l`` uses
``(seed, stream=l, offset)`` with an offset that advances by the layer's size per batch, so
the backward pass is the same :func:`lkreg.dropout` call on the upstream gradient (no mask is
stored) and every run with one ``random_state`` draws the same masks whatever the thread count.
"""

from __future__ import annotations

import numbers
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .. import optim
from .._dropout import dropout
from ..penalties import Penalty

__all__ = ["MLPClassifier", "MLPRegressor"]

_OPTIMIZERS = {
    "adam": optim.Adam,
    "adamw": optim.AdamW,
    "sgd": optim.SGD,
    "rmsprop": optim.RMSprop,
    "adagrad": optim.Adagrad,
    "ftrl": optim.FTRL,
}
_ACTIVATIONS = ("relu", "tanh", "logistic")
_DTYPES = {"float32": np.float32, "float64": np.float64}


# -- activations: in place on the pre-activation, and the derivative from the activation -----

def _activate(z: np.ndarray, name: str) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0, out=z)
    if name == "tanh":
        return np.tanh(z, out=z)
    return expit(z, out=z)


def _scale_by_derivative(grad: np.ndarray, h: np.ndarray, name: str) -> None:
    """grad *= act'(z), written from h = act(z)."""
    if name == "relu":
        np.multiply(grad, h > 0, out=grad)
    elif name == "tanh":
        grad *= 1 - h * h
    else:
        grad *= h * (1 - h)


# -- output layers: loss (float64) and d loss / d logits, from the logits ----------------------

def _softmax_cross_entropy(z: np.ndarray, y: np.ndarray) -> Tuple[float, np.ndarray, np.ndarray]:
    """Mean cross-entropy of softmax(z) against one-hot rows y; (loss, probabilities, grad)."""
    n = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)  # log-sum-exp: no overflow, no log(0)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_prob = shifted - log_norm
    loss = -float(np.sum(y * log_prob, dtype=np.float64)) / n
    prob = np.exp(log_prob, out=log_prob)
    grad = prob - y
    grad /= n
    return loss, prob, grad


def _logistic_cross_entropy(z: np.ndarray, y: np.ndarray) -> Tuple[float, np.ndarray, np.ndarray]:
    """Mean over rows of the summed binary cross-entropies of sigmoid(z) against y."""
    n = z.shape[0]
    loss = float(np.sum(np.logaddexp(0, z) - y * z, dtype=np.float64)) / n
    prob = expit(z)
    grad = prob - y
    grad /= n
    return loss, prob, grad


def _squared_error(z: np.ndarray, y: np.ndarray) -> Tuple[float, np.ndarray, np.ndarray]:
    """Half the squared error summed over outputs, averaged over rows."""
    n = z.shape[0]
    grad = z - y
    loss = 0.5 * float(np.sum(grad * grad, dtype=np.float64)) / n
    grad /= n
    return loss, z, grad


_OUTPUTS = {
    "softmax": _softmax_cross_entropy,
    "logistic": _logistic_cross_entropy,
    "identity": _squared_error,
}


# -- hyper-parameter checks (scikit-learn raises them at fit time) -----------------------------

def _probability(value: object, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in [0, 1), got {type(value).__name__}")
    p = float(value)
    if not 0.0 <= p < 1.0:  # NaN fails too
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return p


def _int_param(value: object, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _per_layer(value: object, name: str, count: int, what: str) -> Optional[List[Any]]:
    """A sequence given per layer, checked for length; None when ``value`` is not one."""
    if isinstance(value, (str, bytes, Mapping, np.ndarray)) or not isinstance(value, Sequence):
        return None
    items = list(value)
    if len(items) != count:
        raise ValueError(f"{name} must have {count} entries ({what}), got {len(items)}")
    return items


class _BaseMLP(BaseEstimator):
    """Shared fitting machinery; see MLPClassifier and MLPRegressor for the parameters."""

    _output: str = "identity"

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        dropout=0.0,
        penalty=None,
        optimizer="adam",
        learning_rate=1e-3,
        lr_scheduler=None,
        batch_size="auto",
        max_epochs=200,
        shuffle=True,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        dtype="float32",
        random_state=None,
        warm_start=False,
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.penalty = penalty
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_scheduler = lr_scheduler
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.shuffle = shuffle
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.dtype = dtype
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # -- checks -------------------------------------------------------------------------------

    def _hidden_sizes(self) -> Tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, (bool, np.bool_)):
            sizes = (sizes,)
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)):
            raise TypeError(
                f"hidden_layer_sizes must be an int or a sequence of ints, got {sizes!r}"
            )
        return tuple(_int_param(s, f"hidden_layer_sizes[{i}]", 1) for i, s in enumerate(sizes))

    def _np_dtype(self) -> type:
        try:
            name = np.dtype(self.dtype).name
        except TypeError:
            name = None
        if name not in _DTYPES:
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        return _DTYPES[name]

    def _check_params(self) -> Dict[str, Any]:
        hidden = self._hidden_sizes()
        n_layers = len(hidden) + 1
        if self.activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be 'relu', 'tanh' or 'logistic', got {self.activation!r}"
            )
        drops = _per_layer(self.dropout, "dropout", len(hidden) + 1,
                           "the input and each hidden layer")
        if drops is None:
            p = _probability(self.dropout, "dropout")
            drops = [0.0] + [p] * len(hidden)
        else:
            drops = [_probability(p, f"dropout[{i}]") for i, p in enumerate(drops)]
        penalties = _per_layer(self.penalty, "penalty", n_layers, "one per weight matrix")
        if penalties is None:
            penalties = [self.penalty] * n_layers
        for i, pen in enumerate(penalties):
            if pen is not None and not isinstance(pen, Penalty):
                raise TypeError(
                    f"penalty[{i}] must be an lkreg Penalty or None, got {type(pen).__name__}"
                )
        opt_class, opt_kwargs = self._optimizer_spec()
        if isinstance(self.learning_rate, (bool, np.bool_)) or not isinstance(
                self.learning_rate, numbers.Real) or not np.isfinite(self.learning_rate) \
                or self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be a finite number > 0, got {self.learning_rate!r}")
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            _int_param(self.batch_size, "batch_size", 1)
        _int_param(self.max_epochs, "max_epochs", 1)
        _int_param(self.n_iter_no_change, "n_iter_no_change", 1)
        if isinstance(self.tol, (bool, np.bool_)) or not isinstance(self.tol, numbers.Real) \
                or not self.tol >= 0:
            raise ValueError(f"tol must be a number >= 0, got {self.tol!r}")
        if isinstance(self.validation_fraction, (bool, np.bool_)) or not isinstance(
                self.validation_fraction, numbers.Real) or not 0 < self.validation_fraction < 1:
            raise ValueError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}"
            )
        for name in ("shuffle", "early_stopping", "warm_start"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if self.lr_scheduler is not None and not callable(self.lr_scheduler) and not (
                isinstance(self.lr_scheduler, Mapping) and "name" in self.lr_scheduler):
            raise TypeError(
                "lr_scheduler must be None, a callable taking the optimizer, or a dict "
                f"{{'name': <lkreg.optim.lr_scheduler class name>, ...}}, got {self.lr_scheduler!r}"
            )
        return dict(hidden=hidden, drops=drops, penalties=penalties, opt_class=opt_class,
                    opt_kwargs=opt_kwargs, dtype=self._np_dtype())

    def _optimizer_spec(self) -> Tuple[type, Dict[str, Any]]:
        spec = self.optimizer
        if isinstance(spec, str):
            name, kwargs = spec, {}
        elif isinstance(spec, Mapping):
            kwargs = dict(spec)
            name = kwargs.pop("name", None)
            for key in ("lr", "alpha", "penalty", "params"):
                if key in kwargs:
                    raise ValueError(
                        f"optimizer[{key!r}] is not allowed: use the estimator's "
                        f"{'penalty' if key == 'penalty' else 'learning_rate'} parameter"
                        if key != "params" else "optimizer['params'] is not allowed"
                    )
        else:
            raise TypeError(
                f"optimizer must be a name or a dict of lkreg.optim settings, got {spec!r}"
            )
        if name not in _OPTIMIZERS:
            names = ", ".join(repr(n) for n in _OPTIMIZERS)
            raise ValueError(f"optimizer must be one of {names} (or a dict with 'name'), got {name!r}")
        return _OPTIMIZERS[name], kwargs

    # -- parameters, optimizer, scheduler -----------------------------------------------------

    def _initialize(self, spec: Dict[str, Any], n_features: int, n_outputs: int,
                    rng: np.random.RandomState) -> None:
        # Glorot uniform, drawn as scikit-learn draws it (so one random_state starts both
        # libraries at the same weights); sigmoid layers get the factor 2
        sizes = [n_features, *spec["hidden"], n_outputs]
        factor = 2.0 if self.activation == "logistic" else 6.0
        dtype = spec["dtype"]
        self.coefs_: List[np.ndarray] = []
        self.intercepts_: List[np.ndarray] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            self.coefs_.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype))
            self.intercepts_.append(rng.uniform(-bound, bound, fan_out).astype(dtype))
        self.n_layers_ = len(sizes)
        self.n_outputs_ = n_outputs
        self.loss_curve_: List[float] = []
        self.validation_scores_: Optional[List[float]] = [] if self.early_stopping else None
        self.best_validation_score_: Optional[float] = None
        self.best_loss_: Optional[float] = np.inf
        self.n_iter_ = 0
        self.t_ = 0
        self._no_improvement_count = 0
        self._dropout_seed = int(rng.randint(0, 2**63, dtype=np.int64))
        self._dropout_offsets = [0] * (len(sizes) - 1)

    def _make_optimizer(self, spec: Dict[str, Any]) -> None:
        """One param group per distinct weight penalty, and one for the unpenalized biases."""
        opt_class, kwargs = spec["opt_class"], dict(spec["opt_kwargs"])
        lr_key = opt_class._lr_key
        kwargs[lr_key] = float(self.learning_rate)
        groups: List[Dict[str, Any]] = []
        order: List[Tuple[str, int]] = []
        for pen in dict.fromkeys(spec["penalties"]):  # distinct, in layer order
            layers = [i for i, p in enumerate(spec["penalties"]) if p == pen]
            groups.append({"params": [self.coefs_[i] for i in layers], "penalty": pen})
            order += [("coef", i) for i in layers]
        try:
            probe = opt_class([np.zeros(1)], **kwargs)
        except TypeError as exc:
            raise ValueError(f"optimizer: {exc}") from None
        bias_group: Dict[str, Any] = {"params": list(self.intercepts_), "penalty": None}
        for key in ("weight_decay", "l1", "l2"):  # biases are never regularized
            if key in probe.defaults:
                bias_group[key] = 0.0
        groups.append(bias_group)
        order += [("intercept", i) for i in range(len(self.intercepts_))]
        self._optimizer = opt_class(groups, **kwargs)
        self._grad_order = order
        self._scheduler = self._make_scheduler(self._optimizer)

    def _make_scheduler(self, opt: optim.Optimizer) -> Any:
        spec = self.lr_scheduler
        if spec is None:
            return None
        if isinstance(spec, Mapping):
            kwargs = dict(spec)
            name = kwargs.pop("name")
            cls = getattr(optim.lr_scheduler, name, None) if isinstance(name, str) else None
            if cls is None or name not in optim.lr_scheduler.__all__:
                raise ValueError(f"lr_scheduler['name'] must name a class of "
                                 f"lkreg.optim.lr_scheduler, got {name!r}")
            return cls(opt, **kwargs)
        return spec(opt)

    # -- forward and backward -----------------------------------------------------------------

    def _forward(self, X: np.ndarray, drops: Optional[List[float]],
                 coefs: Optional[List[np.ndarray]] = None,
                 intercepts: Optional[List[np.ndarray]] = None,
                 ) -> Tuple[List[np.ndarray], List[np.ndarray]]:
        """Logits of the output layer; with ``drops`` (training) the layers' dropped inputs
        and hidden activations for the backward pass, masks at the current offsets."""
        a = X
        inputs, hidden = [], []
        coefs = self.coefs_ if coefs is None else coefs
        intercepts = self.intercepts_ if intercepts is None else intercepts
        last = len(coefs) - 1
        for layer, (w, b) in enumerate(zip(coefs, intercepts)):
            if drops is not None and drops[layer] > 0:
                a = dropout(a, drops[layer], seed=self._dropout_seed, stream=layer,
                            offset=self._dropout_offsets[layer])
            inputs.append(a)
            z = a @ w
            z += b
            if layer < last:
                a = _activate(z, self.activation)
                hidden.append(a)
            else:
                a = z
        inputs.append(a)  # the logits
        return inputs, hidden

    def _loss_and_grads(self, X: np.ndarray, Y: np.ndarray,
                        drops: Optional[List[float]]) -> Tuple[float, List[np.ndarray],
                                                              List[np.ndarray]]:
        """Mean data loss of one batch and its gradients (penalties excluded: the optimizer
        adds them). Masks at the current offsets, which this does not advance."""
        inputs, hidden = self._forward(X, drops)
        loss, _, delta = _OUTPUTS[self._output](inputs[-1], Y)
        coef_grads: List[np.ndarray] = [None] * len(self.coefs_)  # type: ignore[list-item]
        intercept_grads: List[np.ndarray] = [None] * len(self.coefs_)  # type: ignore[list-item]
        for layer in range(len(self.coefs_) - 1, -1, -1):
            coef_grads[layer] = inputs[layer].T @ delta
            intercept_grads[layer] = delta.sum(axis=0)
            if layer == 0:
                break
            delta = delta @ self.coefs_[layer].T
            if drops is not None and drops[layer] > 0:  # the forward's call is the backward
                dropout(delta, drops[layer], seed=self._dropout_seed, stream=layer,
                        offset=self._dropout_offsets[layer], out=delta)
            _scale_by_derivative(delta, hidden[layer - 1], self.activation)
        return loss, coef_grads, intercept_grads

    def _penalty_value(self, penalties: List[Optional[Penalty]]) -> float:
        return sum(pen.value(w) for pen, w in zip(penalties, self.coefs_) if pen is not None)

    def _predict_raw(self, X: np.ndarray, coefs: Optional[List[np.ndarray]] = None,
                     intercepts: Optional[List[np.ndarray]] = None) -> np.ndarray:
        """The output layer's values in evaluation mode (dropout is the identity)."""
        z = self._forward(X, None, coefs, intercepts)[0][-1]
        if self._output == "softmax":
            z = z - z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
            return z
        if self._output == "logistic":
            return expit(z, out=z)
        return z

    # -- training -----------------------------------------------------------------------------

    def _fit(self, X: Any, y: Any, incremental: bool, classes: Any = None) -> "_BaseMLP":
        spec = self._check_params()
        first = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, spec["dtype"], reset=first, incremental=incremental,
                                    classes=classes)
        if first:
            self._random_state = check_random_state(self.random_state)
            self._initialize(spec, X.shape[1], Y.shape[1], self._random_state)
        else:
            self._check_layout(spec, X.shape[1], Y.shape[1])
            if self.coefs_[0].dtype != spec["dtype"]:
                raise ValueError(
                    f"dtype is {np.dtype(spec['dtype']).name} but the fitted network is "
                    f"{self.coefs_[0].dtype.name}: refit without warm_start to change it"
                )
        if not incremental or not hasattr(self, "_optimizer"):
            self._make_optimizer(spec)
        n = X.shape[0]
        early_stopping = self.early_stopping and not incremental
        if not incremental:
            self._best_params = None
        X_val = Y_val = None
        if early_stopping:
            stratify = self._stratify(Y)
            X, X_val, Y, Y_val = train_test_split(
                X, Y, random_state=self._random_state, test_size=self.validation_fraction,
                stratify=stratify)
            if X_val.shape[0] < 2:
                raise ValueError(
                    "validation_fraction leaves fewer than 2 samples for validation: use a "
                    "larger validation_fraction or early_stopping=False"
                )
            n = X.shape[0]
            if self.validation_scores_ is None:
                self.validation_scores_ = []
        batch = min(200, n) if self.batch_size == "auto" else self.batch_size
        if batch > n:
            warnings.warn(f"batch_size {batch} is larger than the {n} training samples: "
                          f"using {n}", UserWarning)
            batch = n
        epochs = 1 if incremental else self.max_epochs
        bar = _Progress(self.verbose, epochs, type(self).__name__)
        try:
            for _ in range(epochs):
                self._epoch(X, Y, batch, spec)
                self.n_iter_ += 1
                if early_stopping:
                    score = float(self._score_arrays(X_val, Y_val))
                    self.validation_scores_.append(score)
                if self._scheduler is not None:
                    if isinstance(self._scheduler, optim.ReduceLROnPlateau):
                        self._scheduler.step(self.loss_curve_[-1])
                    else:
                        self._scheduler.step()
                bar.update(self.loss_curve_[-1],
                           self.validation_scores_[-1] if early_stopping else None)
                if not np.isfinite(self.loss_curve_[-1]):
                    raise ValueError(
                        "the training loss became non-finite: lower learning_rate or scale X"
                    )
                if incremental:
                    break
                if self._update_no_improvement(early_stopping):
                    break
            else:
                if not incremental:
                    warnings.warn(
                        f"{type(self).__name__}: max_epochs ({self.max_epochs}) reached and "
                        "the optimization has not converged yet.", ConvergenceWarning)
        finally:
            bar.close()
        if early_stopping and self._best_params is not None:
            for dst, src in zip(self.coefs_ + self.intercepts_, self._best_params):
                dst[...] = src
        return self

    def _epoch(self, X: np.ndarray, Y: np.ndarray, batch: int, spec: Dict[str, Any]) -> None:
        n = X.shape[0]
        drops = spec["drops"] if any(p > 0 for p in spec["drops"]) else None
        order = self._random_state.permutation(n) if self.shuffle else None
        total = 0.0
        opt = self._optimizer
        for start in range(0, n, batch):
            stop = min(start + batch, n)
            if order is None:
                xb, yb = X[start:stop], Y[start:stop]
            else:
                rows = order[start:stop]
                xb, yb = X[rows], Y[rows]
            loss, coef_grads, intercept_grads = self._loss_and_grads(xb, yb, drops)
            loss += self._penalty_value(spec["penalties"])
            total += loss * (stop - start)
            if drops is not None:
                for layer, p in enumerate(drops):
                    if p > 0:
                        self._dropout_offsets[layer] += (stop - start) * self.coefs_[layer].shape[0]
            opt.step([coef_grads[i] if kind == "coef" else intercept_grads[i]
                      for kind, i in self._grad_order])
            self.t_ += stop - start
        self.loss_curve_.append(total / n)

    def _update_no_improvement(self, early_stopping: bool) -> bool:
        """scikit-learn's rule: stop after n_iter_no_change epochs without a tol improvement."""
        if early_stopping:
            score = self.validation_scores_[-1]
            best = self.best_validation_score_
            if best is not None and score < best + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if best is None or score > best:
                self.best_validation_score_ = score
                self._best_params = [p.copy() for p in self.coefs_ + self.intercepts_]
        else:
            loss = self.loss_curve_[-1]
            if loss > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if loss < self.best_loss_:
                self.best_loss_ = loss
        if self._no_improvement_count > self.n_iter_no_change:
            if self.verbose:
                what = "Validation score" if early_stopping else "Training loss"
                print(f"{what} did not improve more than tol={self.tol} for "
                      f"{self.n_iter_no_change} consecutive epochs. Stopping.")
            return True
        return False

    _best_params: Optional[List[np.ndarray]] = None

    def _check_layout(self, spec: Dict[str, Any], n_features: int, n_outputs: int) -> None:
        sizes = [n_features, *spec["hidden"], n_outputs]
        have = [self.coefs_[0].shape[0]] + [w.shape[1] for w in self.coefs_]
        if sizes != have:
            raise ValueError(
                f"the fitted network has layer sizes {have}, these parameters and data give "
                f"{sizes}: refit without warm_start"
            )

    def _predict_outputs(self, X: Any) -> np.ndarray:
        """The output layer on ``X``, in float32 for float32 input and float64 otherwise (as
        scikit-learn returns predictions), whatever precision the network computes in."""
        check_is_fitted(self, "coefs_")
        out_dtype = np.float32 if getattr(X, "dtype", None) == np.float32 else np.float64
        X = validate_data(self, X, reset=False, dtype=np.float64)
        # evaluated in float64 from the weights, so that a row's prediction does not depend on
        # which other rows share its call (BLAS picks kernels by the batch's shape, and float32
        # sums in another order differ in the last bit)
        weights = [p.astype(np.float64) for p in self.coefs_ + self.intercepts_]
        n = len(self.coefs_)
        return self._predict_raw(X, weights[:n], weights[n:]).astype(out_dtype, copy=False)

    # -- pickling: the optimizer and scheduler travel with the weights they update -------------

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class _Progress:
    """One line per epoch: a tqdm bar when tqdm is installed, a printed line otherwise."""

    def __init__(self, verbose: Any, total: int, name: str) -> None:
        self.verbose = bool(verbose)
        self.bar = None
        self.epoch = 0
        self.total = total
        if self.verbose and total > 1:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, desc=name, unit="epoch", leave=True)

    def update(self, loss: float, score: Optional[float]) -> None:
        self.epoch += 1
        if not self.verbose:
            return
        if self.bar is not None:
            postfix = {"loss": f"{loss:.6f}"}
            if score is not None:
                postfix["validation score"] = f"{score:.6f}"
            self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(1)
            return
        line = f"Epoch {self.epoch}/{self.total}, loss = {loss:.8f}"
        if score is not None:
            line += f", validation score = {score:.6f}"
        print(line, file=sys.stdout, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


_SHARED_PARAMETERS = """
    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default (100,)
        The width of each hidden layer (each >= 1).
    activation : {"relu", "tanh", "logistic"}, default "relu"
        Hidden-layer activation.
    dropout : float or sequence of float, default 0.0
        Inverted-dropout drop probability in [0, 1): one number for every hidden layer (the
        input is not dropped), or a sequence of ``len(hidden_layer_sizes) + 1`` numbers, the
        input's first. Masks come from :func:`lkreg.dropout`; prediction never drops.
    penalty : lkreg Penalty, sequence of Penalty or None, default None
        Regularization of the weight matrices (never of the biases) added to the mean batch
        loss: one for all of them, or one per weight matrix (``len(hidden_layer_sizes) + 1``,
        None for none). Smooth penalties add their gradient inside the optimizer's step;
        non-smooth ones (L1, ElasticNet, L0, Lk with k <= 1, GroupL2) are its proximal step,
        so they set weights exactly to zero. ``lkreg.L2(alpha / (2 * batch_size))`` is
        scikit-learn's ``alpha`` for full batches.
    optimizer : str or dict, default "adam"
        ``"adam"``, ``"adamw"``, ``"sgd"``, ``"rmsprop"``, ``"adagrad"`` or ``"ftrl"`` (the
        :mod:`lkreg.optim` classes with their defaults), or a dict
        ``{"name": "sgd", "momentum": 0.9, ...}`` of that class's settings (not ``lr``: that
        is ``learning_rate``; not ``penalty``). Biases get no weight decay.
    learning_rate : float, default 1e-3
        The optimizer's learning rate (FTRL's ``alpha``).
    lr_scheduler : dict, callable or None, default None
        A learning-rate schedule stepped once per epoch: ``{"name": "StepLR", "step_size": 10}``
        names a class of :mod:`lkreg.optim.lr_scheduler` with its settings; a callable gets the
        optimizer and returns a scheduler (``functools.partial(StepLR, step_size=10)``).
        ``ReduceLROnPlateau`` is stepped with the epoch's training loss.
    batch_size : int or "auto", default "auto"
        Minibatch size; "auto" is ``min(200, n_samples)``.
    max_epochs : int, default 200
        Passes over the training data in :meth:`fit`.
    shuffle : bool, default True
        Shuffle the samples before each epoch.
    tol : float, default 1e-4
        Training stops when the training loss (or, with early stopping, the validation score)
        has not improved by at least ``tol`` for ``n_iter_no_change`` consecutive epochs.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training data (stratified for classifiers),
        score it after each epoch, stop on the rule above and keep the best weights.
    validation_fraction : float, default 0.1
        In (0, 1).
    n_iter_no_change : int, default 10
    dtype : {"float32", "float64"}, default "float32"
        Precision of the weights and of the computation; X is converted to it.
    random_state : int, RandomState or None, default None
        Initial weights, shuffling, the validation split and the dropout seed. An int gives
        bit-identical fits whatever ``lkreg.set_num_threads`` says.
    warm_start : bool, default False
        :meth:`fit` starts from the current weights (with a fresh optimizer).
    verbose : bool, default False
        A progress bar per epoch with the loss and validation score (tqdm when installed,
        otherwise one printed line per epoch).

    Attributes
    ----------
    coefs_ : list of ndarray
        Weight matrices, ``coefs_[i]`` of shape ``(n_in, n_out)`` of layer ``i``.
    intercepts_ : list of ndarray
        Bias vectors.
    loss_curve_ : list of float
        Training loss (mean data loss + penalty, averaged over each epoch's batches) per epoch.
    validation_scores_ : list of float or None
        Validation score per epoch with early stopping, else None.
    best_validation_score_ : float or None
    best_loss_ : float
        Best training loss seen (without early stopping).
    n_iter_ : int
        Epochs run.
    t_ : int
        Training samples seen.
    n_layers_ : int
        Layers including the input and output layers.
    n_outputs_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X has string column names.
"""


class MLPClassifier(ClassifierMixin, _BaseMLP):
    __doc__ = (
        """Multi-layer perceptron classifier with dropout and any lkreg weight penalty.

    Softmax cross-entropy for more than two classes; a logistic output for two classes and
    for multilabel indicator targets.
"""
        + _SHARED_PARAMETERS
        + """    classes_ : ndarray or list of ndarray
        Class labels.
    out_activation_ : str
        "softmax" or "logistic".

    Examples
    --------
    >>> import lkreg
    >>> from lkreg.neural_network import MLPClassifier
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier((32,), dropout=0.1, penalty=lkreg.L1(1e-4), max_epochs=300,
    ...                     learning_rate=1e-2, random_state=0).fit(X / 8, y)
    >>> bool(clf.score(X / 8, y) > 0.9)
    True
    """
    )

    def _validate_input(self, X, y, dtype, reset, incremental, classes=None):  # type: ignore[no-untyped-def]
        X, y = validate_data(self, X, y, multi_output=True, dtype=dtype, reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if reset and not incremental or not hasattr(self, "_label_binarizer"):
            if incremental:
                if classes is None:
                    raise ValueError("classes must be passed on the first call to partial_fit")
                labels = unique_labels(classes)
            else:
                labels = unique_labels(y)
            if len(labels) < 2:
                raise ValueError(
                    f"y must contain at least 2 classes (the classifier can't train with one), "
                    f"got {len(labels)} class"
                )
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(labels if type_of_target(y) != "multilabel-indicator"
                                      else y)
            self.classes_ = self._label_binarizer.classes_
        elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(f"classes={classes!r} is not the same as on the first call "
                             f"to partial_fit, {self.classes_!r}")
        unknown = np.setdiff1d(unique_labels(y), self.classes_) \
            if type_of_target(y) != "multilabel-indicator" else []
        if len(unknown):
            raise ValueError(f"y has classes not in classes_: {unknown}")
        Y = self._label_binarizer.transform(y).astype(dtype)
        self._output = "logistic" if Y.shape[1] == 1 or self._label_binarizer.y_type_ \
            == "multilabel-indicator" else "softmax"
        self.out_activation_ = self._output
        return X, Y

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        """Fit the network to ``X`` (n_samples, n_features) and class labels ``y``.

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y, classes=None):  # type: ignore[no-untyped-def]
        """One epoch over ``(X, y)`` from the current weights and optimizer state.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
        y : array_like of shape (n_samples,)
        classes : array_like, optional
            All the classes; required on the first call.

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        """Class probabilities, one column per class of ``classes_``."""
        prob = self._predict_outputs(X)
        if prob.shape[1] == 1 and self._label_binarizer.y_type_ != "multilabel-indicator":
            return np.hstack([1 - prob, prob])
        return prob

    def predict_log_proba(self, X):  # type: ignore[no-untyped-def]
        """Logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def predict(self, X):  # type: ignore[no-untyped-def]
        """Predicted class labels."""
        prob = self._predict_outputs(X)
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return self._label_binarizer.inverse_transform(prob)
        if prob.shape[1] == 1:
            return self.classes_[(prob[:, 0] > 0.5).astype(np.intp)]
        return self.classes_[prob.argmax(axis=1)]

    def _stratify(self, Y: np.ndarray) -> Optional[np.ndarray]:
        if self._output == "softmax":
            return Y.argmax(axis=1)
        return Y[:, 0] if Y.shape[1] == 1 else None

    def _score_arrays(self, X: np.ndarray, Y: np.ndarray) -> float:
        prob = self._predict_raw(X)
        if prob.shape[1] == 1 or self._label_binarizer.y_type_ == "multilabel-indicator":
            return float(np.mean(np.all((prob > 0.5) == (Y > 0.5), axis=1)))
        return float(np.mean(prob.argmax(axis=1) == Y.argmax(axis=1)))

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    __doc__ = (
        """Multi-layer perceptron regressor with dropout and any lkreg weight penalty.

    Half the squared error (summed over outputs, averaged over samples), identity output;
    ``y`` may have several columns (multi-output regression).
"""
        + _SHARED_PARAMETERS
        + """
    Examples
    --------
    >>> import numpy as np, lkreg
    >>> from lkreg.neural_network import MLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, (400, 2))
    >>> y = np.column_stack([X[:, 0] * X[:, 1], np.sin(X[:, 0])])
    >>> reg = MLPRegressor((64,), activation="tanh", penalty=lkreg.L2(1e-5), max_epochs=300,
    ...                    learning_rate=1e-2, random_state=0).fit(X, y)
    >>> reg.predict(X).shape, bool(reg.score(X, y) > 0.9)
    ((400, 2), True)
    """
    )

    _output = "identity"

    def _validate_input(self, X, y, dtype, reset, incremental, classes=None):  # type: ignore[no-untyped-def]
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=dtype,
                             reset=reset)
        if reset:
            self._y_ndim = y.ndim
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        return X, np.ascontiguousarray(Y, dtype=dtype)

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        """Fit the network to ``X`` (n_samples, n_features) and targets ``y`` (n_samples,) or
        (n_samples, n_outputs).

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y):  # type: ignore[no-untyped-def]
        """One epoch over ``(X, y)`` from the current weights and optimizer state.

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=True)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def predict(self, X):  # type: ignore[no-untyped-def]
        """Predicted targets, of shape (n_samples,) when fitted on a 1-D ``y``."""
        out = self._predict_outputs(X)
        return out.ravel() if self._y_ndim == 1 else out

    def _stratify(self, Y: np.ndarray) -> None:
        return None

    def _score_arrays(self, X: np.ndarray, Y: np.ndarray) -> float:
        from sklearn.metrics import r2_score

        return float(r2_score(Y, self._predict_raw(X)))
