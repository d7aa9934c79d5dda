"""Optimizers against NumPy implementations of torch.optim's documented pseudo-code (and
torch.optim itself when installed), penalties inside the step, state round trips, schedulers
and bad input."""

import itertools
import math

import numpy as np
import pytest

import lkreg
from lkreg import L0, L1, L2, ElasticNet, GroupL2, Lk, _core
from lkreg.optim import FTRL, SGD, Adagrad, Adam, AdamW, RMSprop

from helpers import DTYPES, bits

STEPS = 50
SHAPES = [(37,), (4, 5)]  # one tail after the vector loop, one 2-D parameter


# ---------------------------------------------------------------------------------------------
# References: torch's documented pseudo-code, formula for formula, in the parameter's dtype
# (NumPy keeps float32 arrays float32 when combined with Python floats).


class Reference:
    def __init__(self, **options):
        self.o = options
        self.state = {}

    def step(self, params, grads):
        for i, (p, g) in enumerate(zip(params, grads)):
            p[...] = self.update(p.copy(), g.copy(), self.state.setdefault(i, {"t": 0}))

    def grad_with_penalty(self, p, g):
        pen = self.o.get("penalty")
        if pen is not None and pen.is_smooth:
            g = g + pen.grad(p)
        return g


class SGDRef(Reference):
    def update(self, p, g, s):
        o = self.o
        g = self.grad_with_penalty(p, g)
        if o.get("weight_decay", 0):
            g = g + o["weight_decay"] * p
        mu = o.get("momentum", 0)
        if mu:
            s["b"] = g.copy() if "b" not in s else mu * s["b"] + (1 - o.get("dampening", 0)) * g
            g = g + mu * s["b"] if o.get("nesterov") else s["b"]
        return p - o["lr"] * g


class AdamRef(Reference):
    decoupled = False
    default_weight_decay = 0.0

    def update(self, p, g, s):
        o = self.o
        lr, (b1, b2), eps = o["lr"], o.get("betas", (0.9, 0.999)), o.get("eps", 1e-8)
        wd = o.get("weight_decay", self.default_weight_decay)
        s["t"] += 1
        t = s["t"]
        g = self.grad_with_penalty(p, g)
        if wd and self.decoupled:
            p = p - lr * wd * p
        elif wd:
            g = g + wd * p
        s["m"] = b1 * s.get("m", 0 * p) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0 * p) + (1 - b2) * g * g
        m_hat = s["m"] / (1 - b1**t)
        if o.get("amsgrad"):
            s["vmax"] = np.maximum(s.get("vmax", 0 * p), s["v"])
            v_hat = s["vmax"] / (1 - b2**t)
        else:
            v_hat = s["v"] / (1 - b2**t)
        return p - lr * m_hat / (np.sqrt(v_hat) + eps)


class AdamWRef(AdamRef):
    decoupled = True
    default_weight_decay = 1e-2


class RMSpropRef(Reference):
    def update(self, p, g, s):
        o = self.o
        lr, alpha, eps = o["lr"], o.get("alpha", 0.99), o.get("eps", 1e-8)
        g = self.grad_with_penalty(p, g)
        if o.get("weight_decay", 0):
            g = g + o["weight_decay"] * p
        s["v"] = alpha * s.get("v", 0 * p) + (1 - alpha) * g * g
        v = s["v"]
        if o.get("centered"):
            s["gavg"] = alpha * s.get("gavg", 0 * p) + (1 - alpha) * g
            v = v - s["gavg"] ** 2
        if o.get("momentum", 0) > 0:
            s["b"] = o["momentum"] * s.get("b", 0 * p) + g / (np.sqrt(v) + eps)
            return p - lr * s["b"]
        return p - lr * g / (np.sqrt(v) + eps)


class AdagradRef(Reference):
    def update(self, p, g, s):
        o = self.o
        s["t"] += 1
        clr = o["lr"] / (1 + (s["t"] - 1) * o.get("lr_decay", 0))
        g = self.grad_with_penalty(p, g)
        if o.get("weight_decay", 0):
            g = g + o["weight_decay"] * p
        s["sum"] = s.get("sum", 0 * p + o.get("initial_accumulator_value", 0)) + g * g
        return p - clr * g / (np.sqrt(s["sum"]) + o.get("eps", 1e-10))


class FTRLRef(Reference):
    """Algorithm 1 of McMahan et al. (2013), vectorized over coordinates."""

    def update(self, w, g, s):
        o = self.o
        alpha, beta, l1, l2 = o["alpha"], o.get("beta", 1.0), o.get("l1", 0.0), o.get("l2", 0.0)
        g = self.grad_with_penalty(w, g)
        z, n = s.get("z", 0 * w), s.get("n", 0 * w)
        sigma = (np.sqrt(n + g * g) - np.sqrt(n)) / alpha
        z = z + g - sigma * w
        n = n + g * g
        s["z"], s["n"] = z, n
        with np.errstate(invalid="ignore"):
            w_new = -(z - np.sign(z) * l1) / ((beta + np.sqrt(n)) / alpha + l2)
        return np.where(np.abs(z) <= l1, 0, w_new).astype(w.dtype)


def grid(**axes):
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*axes.values())]


SGD_CONFIGS = [
    c
    for c in grid(lr=[0.05], momentum=[0.0, 0.9], dampening=[0.0, 0.5], nesterov=[False, True],
                  weight_decay=[0.0, 0.1])
    if not c["nesterov"] or (c["momentum"] > 0 and c["dampening"] == 0)
]
ADAM_CONFIGS = grid(lr=[0.01], betas=[(0.9, 0.999), (0.3, 0.6)], amsgrad=[False, True],
                    weight_decay=[0.0, 0.1])
RMSPROP_CONFIGS = grid(lr=[0.01], alpha=[0.99, 0.3], centered=[False, True], momentum=[0.0, 0.5],
                       weight_decay=[0.0, 0.1])
ADAGRAD_CONFIGS = grid(lr=[0.1], lr_decay=[0.0, 0.05], weight_decay=[0.0, 0.1],
                       initial_accumulator_value=[0.0, 0.2])
FTRL_CONFIGS = grid(alpha=[0.5], beta=[1.0, 0.0], l1=[0.0, 0.5], l2=[0.0, 0.3])

CASES = (
    [(SGD, SGDRef, c) for c in SGD_CONFIGS]
    + [(Adam, AdamRef, c) for c in ADAM_CONFIGS]
    + [(AdamW, AdamWRef, c) for c in ADAM_CONFIGS]
    + [(RMSprop, RMSpropRef, c) for c in RMSPROP_CONFIGS]
    + [(Adagrad, AdagradRef, c) for c in ADAGRAD_CONFIGS]
    + [(FTRL, FTRLRef, c) for c in FTRL_CONFIGS]
)
CASE_IDS = [f"{cls.__name__}-" + "-".join(f"{k}={v}" for k, v in c.items()) for cls, _, c in CASES]


def start_params(dtype, shapes=SHAPES, seed=0, zero=False):
    rng = np.random.default_rng(seed)
    return [np.zeros(s, dtype) if zero else rng.standard_normal(s).astype(dtype) for s in shapes]


def gradient_stream(params, steps=STEPS, seed=1):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(p.shape).astype(p.dtype) for p in params] for _ in range(steps)]


def assert_trajectory_close(got, expected, rtol, err_msg=""):
    """Element-wise rtol, plus rtol times the array's largest magnitude for entries near 0."""
    for a, b in zip(got, expected):
        scale = float(np.max(np.abs(b), initial=0.0))
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, err_msg=err_msg)


def reference_tolerance(dtype):
    # the pseudo-code groups operations differently from torch's code (and lkreg's)
    return 2e-12 if dtype == np.float64 else 2e-5


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("cls, ref_cls, config", CASES, ids=CASE_IDS)
def test_matches_reference_pseudo_code(cls, ref_cls, config, dtype, simd_level):
    zero = cls is FTRL  # Algorithm 1 starts from w = 0
    params = start_params(dtype, zero=zero)
    expected = [p.copy() for p in params]
    opt, ref = cls(params, **config), ref_cls(**config)
    for t, grads in enumerate(gradient_stream(params)):
        opt.step(grads)
        ref.step(expected, grads)
        for p in params:
            assert p.dtype == dtype
        assert_trajectory_close(params, expected, reference_tolerance(dtype), f"step {t + 1}")


SIZES = [0, 1, 7, 8, 9, 15, 16, 17, 1000]
ONE_CONFIG = [
    (SGD, SGDRef, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    (Adam, AdamRef, dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    (AdamW, AdamWRef, dict(lr=0.01, weight_decay=0.1)),
    (RMSprop, RMSpropRef, dict(lr=0.01, centered=True, momentum=0.5)),
    (Adagrad, AdagradRef, dict(lr=0.1, lr_decay=0.05)),
    (FTRL, FTRLRef, dict(alpha=0.5, l1=0.5, l2=0.3)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("cls, ref_cls, config", ONE_CONFIG, ids=[c[0].__name__ for c in ONE_CONFIG])
def test_sizes_around_simd_widths(cls, ref_cls, config, n, dtype, simd_level):
    params = start_params(dtype, shapes=[(n,)], zero=cls is FTRL)
    expected = [p.copy() for p in params]
    opt, ref = cls(params, **config), ref_cls(**config)
    for grads in gradient_stream(params, steps=10):
        opt.step(grads)
        ref.step(expected, grads)
    assert_trajectory_close(params, expected, reference_tolerance(dtype))


# ---------------------------------------------------------------------------------------------
# torch.optim itself


def torch_optimizer(torch, cls, config, tensors):
    config = dict(config)
    if cls is SGD:
        return torch.optim.SGD(tensors, foreach=False, **config)
    if cls in (Adam, AdamW):
        return getattr(torch.optim, cls.__name__)(tensors, foreach=False, **config)
    if cls is RMSprop:
        return torch.optim.RMSprop(tensors, foreach=False, **config)
    if cls is Adagrad:
        return torch.optim.Adagrad(tensors, foreach=False, **config)
    raise AssertionError(cls)


TORCH_CASES = [case for case in CASES if case[0] is not FTRL]
TORCH_IDS = [i for i, case in zip(CASE_IDS, CASES) if case[0] is not FTRL]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("cls, ref_cls, config", TORCH_CASES, ids=TORCH_IDS)
def test_matches_torch(cls, ref_cls, config, dtype, simd_level):
    torch = pytest.importorskip("torch")
    params = start_params(dtype)
    tensors = [torch.from_numpy(p.copy()) for p in params]
    opt, topt = cls(params, **config), torch_optimizer(torch, cls, config, tensors)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for t, grads in enumerate(gradient_stream(params)):
        opt.step(grads)
        for tensor, g in zip(tensors, grads):
            tensor.grad = torch.from_numpy(g.copy())
        topt.step()
        assert_trajectory_close(params, [x.numpy() for x in tensors], rtol, f"step {t + 1}")


def test_matches_torch_with_groups_and_lr_changes():
    torch = pytest.importorskip("torch")
    params = start_params(np.float64)
    tensors = [torch.from_numpy(p.copy()) for p in params]
    opt = AdamW([{"params": [params[0]]}, {"params": [params[1]], "weight_decay": 0.0, "lr": 0.03}],
                lr=0.01, weight_decay=0.1)
    topt = torch.optim.AdamW([{"params": [tensors[0]]}, {"params": [tensors[1]], "weight_decay": 0.0,
                                                         "lr": 0.03}], lr=0.01, weight_decay=0.1,
                             foreach=False)
    for t, grads in enumerate(gradient_stream(params)):
        if t == 20:
            opt.param_groups[0]["lr"] = topt.param_groups[0]["lr"] = 0.002
        opt.step(grads)
        for tensor, g in zip(tensors, grads):
            tensor.grad = torch.from_numpy(g.copy())
        topt.step()
        assert_trajectory_close(params, [x.numpy() for x in tensors], 1e-12, f"step {t + 1}")


def test_step_counters_are_per_parameter_as_in_torch():
    torch = pytest.importorskip("torch")
    params = start_params(np.float64)
    tensors = [torch.from_numpy(p.copy()) for p in params]
    opt, topt = Adam(params, lr=0.01), torch.optim.Adam(tensors, lr=0.01, foreach=False)
    for t, grads in enumerate(gradient_stream(params, steps=20)):
        skip = t % 3 == 0  # the second parameter has no gradient every third step
        opt.step([grads[0], None if skip else grads[1]])
        tensors[0].grad = torch.from_numpy(grads[0].copy())
        tensors[1].grad = None if skip else torch.from_numpy(grads[1].copy())
        topt.step()
        assert_trajectory_close(params, [x.numpy() for x in tensors], 1e-12)
    assert opt.state_dict()["state"][1]["step"] == 13


# ---------------------------------------------------------------------------------------------
# Penalties inside the step

ALL_OPTIMIZERS = [
    (SGD, dict(lr=0.05, momentum=0.9)),
    (Adam, dict(lr=0.01, amsgrad=True)),
    (AdamW, dict(lr=0.01)),
    (RMSprop, dict(lr=0.01, centered=True, momentum=0.5)),
    (Adagrad, dict(lr=0.1, lr_decay=0.01)),
]
REFS = {SGD: SGDRef, Adam: AdamRef, AdamW: AdamWRef, RMSprop: RMSpropRef, Adagrad: AdagradRef,
        FTRL: FTRLRef}
OPT_IDS = [c[0].__name__ for c in ALL_OPTIMIZERS]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("penalty", [L2(0.05), Lk(3, 0.02), Lk(2.5, 0.03), Lk(1.5, 0.02),
                                     ElasticNet(0.0, 0.05), L2(0.3, reduction="mean")], ids=repr)
@pytest.mark.parametrize("cls, config", ALL_OPTIMIZERS + [(FTRL, dict(alpha=0.5))],
                         ids=OPT_IDS + ["FTRL"])
def test_smooth_penalty_adds_its_gradient(cls, config, penalty, dtype):
    params = start_params(dtype, zero=cls is FTRL)
    expected = [p.copy() for p in params]
    opt, ref = cls(params, penalty=penalty, **config), REFS[cls](penalty=penalty, **config)
    for grads in gradient_stream(params, steps=30):
        opt.step(grads)
        ref.step(expected, grads)
    assert_trajectory_close(params, expected, reference_tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_weight_decay_is_the_l2_penalty_of_half_its_value(dtype, simd_level):
    a, b = start_params(dtype), start_params(dtype)
    opt_a = SGD(a, lr=0.05, momentum=0.9, weight_decay=0.2)
    opt_b = SGD(b, lr=0.05, momentum=0.9, penalty=L2(0.1))
    for grads in gradient_stream(a, steps=20):
        opt_a.step(grads)
        opt_b.step(grads)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(bits(x), bits(y))


PROX_PENALTIES = [L1(2.0), ElasticNet(2.0, 0.5), L0(0.5), L1(30.0, reduction="mean"),
                  Lk(0.5, 0.5), GroupL2(50.0, axis=-1)]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("penalty", PROX_PENALTIES, ids=repr)
@pytest.mark.parametrize("cls, config", ALL_OPTIMIZERS, ids=OPT_IDS)
def test_nonsmooth_penalty_is_the_prox_after_the_update(cls, config, penalty, dtype, simd_level):
    """Fused (element-wise penalties) or not (GroupL2), SGD and penalty_mode="decoupled": the
    same bits as the plain step then prox(w, lr)."""
    params = [p / 10 for p in start_params(dtype)]
    plain = [p.copy() for p in params]
    mode = {} if cls is SGD else {"penalty_mode": "decoupled"}
    opt, opt_plain = cls(params, penalty=penalty, **mode, **config), cls(plain, **config)
    for t, grads in enumerate(gradient_stream(params, steps=30)):
        if t == 10:  # a new learning rate reaches the thresholds
            opt.param_groups[0]["lr"] = opt_plain.param_groups[0]["lr"] = config["lr"] / 2
        opt.step(grads)
        opt_plain.step(grads)
        for p in plain:
            penalty.prox(p, opt_plain.param_groups[0]["lr"], out=p)
    for x, y in zip(params, plain):
        np.testing.assert_array_equal(bits(x), bits(y))
    assert sum(int(np.count_nonzero(p == 0)) for p in params) > 0  # exact zeros


def metric_steps(opt, index, p):
    """lr / denominator of the update just made, from the optimizer's state, in NumPy."""
    o = opt.param_groups[0]
    s = opt.state[index]
    t = p.dtype.type
    if isinstance(opt, Adam):
        v = s["max_exp_avg_sq"] if o["amsgrad"] else s["exp_avg_sq"]
        bc2 = (1 - o["betas"][1] ** s["step"]) ** 0.5
        return t(o["lr"]) / (np.sqrt(v) / t(bc2) + t(o["eps"]))
    if isinstance(opt, RMSprop):
        sq = s["square_avg"] - (s["grad_avg"] ** 2 if o["centered"] else 0)
        return t(o["lr"]) / (np.sqrt(sq) + t(o["eps"]))
    clr = o["lr"] / (1 + (s["step"] - 1) * o["lr_decay"])
    return t(clr) / (np.sqrt(s["sum"]) + t(o["eps"]))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("penalty", PROX_PENALTIES, ids=repr)
@pytest.mark.parametrize("cls, config", ALL_OPTIMIZERS[1:], ids=OPT_IDS[1:])
def test_preconditioned_prox_uses_the_updates_own_steps(cls, config, penalty, dtype, simd_level):
    """penalty_mode="preconditioned" (the default): the plain step, then
    prox(w, lr / denominator) with the optimizer's per-coordinate denominator."""
    params = [p / 10 for p in start_params(dtype)]
    plain = [p.copy() for p in params]
    opt, opt_plain = cls(params, penalty=penalty, **config), cls(plain, **config)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for t, grads in enumerate(gradient_stream(params, steps=30)):
        if t == 10:
            opt.param_groups[0]["lr"] = opt_plain.param_groups[0]["lr"] = config["lr"] / 2
        opt.step(grads)
        opt_plain.step(grads)
        for i, p in enumerate(plain):
            penalty.prox(p, metric_steps(opt_plain, i, p), out=p)
        # restart the comparison from the fused iterate: rounding (the threshold's product is
        # formed in another order) must not decide a zero once and carry it on
        for x, y in zip(params, plain):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol * float(np.max(np.abs(y), initial=1)))
            y[...] = x
    assert sum(int(np.count_nonzero(p == 0)) for p in params) > 0  # exact zeros


def lasso_problem(seed=0):
    rng = np.random.default_rng(seed)
    n, d = 60, 15
    X = rng.standard_normal((n, d))
    w_true = np.where(rng.random(d) < 0.4, rng.standard_normal(d) * 3, 0.0)
    y = X @ w_true + 0.1 * rng.standard_normal(n)
    return X, y


def test_proximal_sgd_is_ista_on_a_lasso_problem():
    X, y = lasso_problem()
    n = X.shape[0]
    lam = 0.3
    step = 1.0 / (np.linalg.norm(X, 2) ** 2 / n)  # 1 / Lipschitz constant of the smooth part

    def grad(w):
        return X.T @ (X @ w - y) / n

    w = np.zeros(X.shape[1])
    opt = SGD([w], lr=step, penalty=L1(lam))
    w_ista = np.zeros(X.shape[1])
    for _ in range(2000):
        opt.step([grad(w)])
        v = w_ista - step * grad(w_ista)
        w_ista = np.sign(v) * np.maximum(np.abs(v) - step * lam, 0.0)
        np.testing.assert_allclose(w, w_ista, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(w == 0, w_ista == 0)
    assert 0 < np.count_nonzero(w == 0) < w.size
    # the Lasso optimality conditions: X^T(y - Xw)/n = lam*sign(w) on the support, |.| <= lam off it
    corr = X.T @ (y - X @ w) / n
    support = w != 0
    np.testing.assert_allclose(corr[support], lam * np.sign(w[support]), atol=1e-8)
    assert np.all(np.abs(corr[~support]) <= lam + 1e-8)


def test_param_groups_leave_biases_unpenalized():
    w, b = start_params(np.float64, shapes=[(5, 4), (5,)])
    w0, b0 = w.copy(), b.copy()
    opt = Adam([{"params": [w], "penalty": L1(0.1), "weight_decay": 0.1},
                {"params": [b], "weight_decay": 0.0}], lr=0.01, penalty_mode="decoupled")
    ref_w, ref_b = AdamRef(lr=0.01, weight_decay=0.1), AdamRef(lr=0.01, weight_decay=0.0)
    for gw, gb in gradient_stream([w, b], steps=10):
        opt.step([gw, gb])
        w0[...] = L1(0.1).prox(ref_w.update(w0.copy(), gw, ref_w.state.setdefault(0, {"t": 0})), 0.01)
        b0[...] = ref_b.update(b0.copy(), gb, ref_b.state.setdefault(0, {"t": 0}))
    assert_trajectory_close([w, b], [w0, b0], 1e-12)
    assert opt.param_groups[1]["penalty"] is None and opt.param_groups[1]["lr"] == 0.01


def test_ftrl_l1_penalty_is_its_l1_and_gives_exact_zeros():
    a, b = start_params(np.float64, zero=True), start_params(np.float64, zero=True)
    opt_a = FTRL(a, alpha=0.5, l1=1.0, l2=0.1, penalty=ElasticNet(3.0, 0.05))
    opt_b = FTRL(b, alpha=0.5, l1=4.0, l2=0.2)
    for grads in gradient_stream(a, steps=30):
        opt_a.step(grads)
        opt_b.step(grads)
        state = opt_a.state_dict()["state"][0]
        np.testing.assert_array_equal(a[0] == 0, np.abs(state["z"]) <= 4.0)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(bits(x), bits(y))
    assert np.count_nonzero(a[0] == 0) > 0


# ---------------------------------------------------------------------------------------------
# Threads, SIMD levels, special values


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("penalty", [None, L1(1e-3), L0(1e-4), L2(1e-2), Lk(2.5, 1e-2)], ids=repr)
def test_bit_identical_for_any_thread_count(penalty, dtype, restore_threads, simd_level):
    n = 2**17 + 3
    configs = ALL_OPTIMIZERS + ([(FTRL, dict(alpha=0.5))] if penalty is None or penalty.is_smooth else [])
    for cls, config in configs:
        results = []
        for threads in (1, 2, 3):
            lkreg.set_num_threads(threads)
            params = start_params(dtype, shapes=[(n,)], zero=cls is FTRL)
            opt = cls(params, penalty=penalty, **config)
            for grads in gradient_stream(params, steps=3):
                opt.step(grads)
            results.append(bits(params[0]))
        for other in results[1:]:
            np.testing.assert_array_equal(other, results[0], err_msg=cls.__name__)


def test_nan_and_inf_propagate():
    p = np.array([1.0, 2.0, np.inf, 0.0, -1.0])
    g = np.array([np.nan, 1.0, 1.0, np.inf, 0.0])
    with np.errstate(invalid="ignore"):
        for cls, config in ALL_OPTIMIZERS:
            q = p.copy()
            cls([q], **config).step([g])
            assert np.isnan(q[0]) and np.isfinite(q[1]) and not np.isfinite(q[2])
    w = np.zeros(3)
    SGD([w], lr=0.1, weight_decay=0.0).step([np.array([np.inf, -np.inf, 1.0])])
    np.testing.assert_array_equal(w, [-np.inf, np.inf, -0.1])


def test_none_gradient_skips_the_parameter():
    a, b = start_params(np.float32)
    before = b.copy()
    opt = Adam([a, b], lr=0.1)
    opt.step([np.ones_like(a), None])
    np.testing.assert_array_equal(b, before)
    assert 1 not in opt.state and opt.state[0]["step"] == 1


# ---------------------------------------------------------------------------------------------
# state_dict round trips

ROUND_TRIP = [
    (SGD, dict(lr=0.05, momentum=0.9, nesterov=True, penalty=L1(0.01))),
    (Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.1, penalty=L2(0.01))),
    (AdamW, dict(lr=0.01, penalty=ElasticNet(0.01, 0.02))),
    (RMSprop, dict(lr=0.01, centered=True, momentum=0.5, penalty=L0(1e-4))),
    (Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, penalty=Lk(0.5, 1e-3))),
    (FTRL, dict(alpha=0.5, l1=0.1, l2=0.1)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("cls, config", ROUND_TRIP, ids=[c[0].__name__ for c in ROUND_TRIP])
def test_save_load_continue_is_bit_identical(cls, config, dtype):
    steps = gradient_stream(start_params(dtype), steps=STEPS)
    straight = start_params(dtype)
    opt = cls(straight, **config)
    for grads in steps:
        opt.step(grads)

    first = start_params(dtype)
    opt1 = cls(first, **config)
    for grads in steps[:20]:
        opt1.step(grads)
    saved = opt1.state_dict()
    saved_params = [p.copy() for p in first]
    opt1.step(steps[20])  # the saved state is a copy: later steps do not change it

    resumed = [p.copy() for p in saved_params]
    opt2 = cls(resumed, lr=123.0) if cls is not FTRL else cls(resumed, alpha=9.0)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0][opt2._lr_key] == config.get("lr", config.get("alpha"))
    for grads in steps[20:]:
        opt2.step(grads)
    for x, y in zip(resumed, straight):
        np.testing.assert_array_equal(bits(x), bits(y))
    for s in saved["state"].values():
        assert all(isinstance(v, (int, np.ndarray)) for v in s.values())


def test_load_state_dict_checks_before_changing_anything():
    params = start_params(np.float64)
    opt = Adam(params, lr=0.01)
    opt.step(gradient_stream(params, steps=1)[0])
    good = opt.state_dict()
    bad_shape = opt.state_dict()
    bad_shape["state"][1]["exp_avg"] = np.zeros(3)
    with pytest.raises(ValueError, match="exp_avg"):
        opt.load_state_dict(bad_shape)
    bad_groups = opt.state_dict()
    bad_groups["param_groups"][0]["params"] = [0]
    with pytest.raises(ValueError, match="parameters"):
        opt.load_state_dict(bad_groups)
    bad_lr = opt.state_dict()
    bad_lr["param_groups"][0]["lr"] = float("nan")
    with pytest.raises(ValueError, match="lr"):
        opt.load_state_dict(bad_lr)
    for key in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_array_equal(opt.state[1][key], good["state"][1][key])
    f32 = opt.state_dict()
    f32["state"][0]["exp_avg"] = f32["state"][0]["exp_avg"].astype(np.float32)
    opt.load_state_dict(f32)
    assert opt.state[0]["exp_avg"].dtype == np.float64


# ---------------------------------------------------------------------------------------------
# Schedulers

SCHEDULERS = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 8, 8, 20], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),
    ("LinearLR", dict(start_factor=0.1, end_factor=1.0, total_iters=6)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 1.0 / (1 + epoch) ** 0.5)),
]


@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=[s[0] for s in SCHEDULERS])
def test_schedulers_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    params = start_params(np.float64)
    tensors = [torch.from_numpy(p.copy()) for p in params]
    opt = SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.3}], lr=0.1)
    topt = torch.optim.SGD([{"params": [tensors[0]]}, {"params": [tensors[1]], "lr": 0.3}], lr=0.1)
    sched = getattr(lkreg.optim, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for epoch in range(30):
        assert sched.get_last_lr() == tsched.get_last_lr(), epoch
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
        grads = [np.ones_like(p) for p in params]
        opt.step(grads)
        for tensor, g in zip(tensors, grads):
            tensor.grad = torch.from_numpy(g.copy())
        topt.step()
        sched.step()
        tsched.step()
    assert_trajectory_close(params, [x.numpy() for x in tensors], 1e-12)


def test_schedulers_closed_forms_and_state():
    opt = SGD(start_params(np.float64), lr=0.1)
    sched = lkreg.optim.CosineAnnealingLR(opt, T_max=10, eta_min=0.0)
    lrs = []
    for _ in range(11):
        lrs.append(opt.param_groups[0]["lr"])
        sched.step()
    expected = [0.1 * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(11)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12, atol=1e-15)
    state = sched.state_dict()
    opt2 = SGD(start_params(np.float64), lr=0.1)
    opt2.param_groups[0]["initial_lr"] = 0.1
    sched2 = lkreg.optim.CosineAnnealingLR(opt2, T_max=10, last_epoch=0)
    sched2.load_state_dict(state)
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    sched.step()
    sched2.step()
    assert sched2.get_last_lr() == sched.get_last_lr()

    opt = FTRL(start_params(np.float64, zero=True), alpha=1.0)
    steps = lkreg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(5):
        steps.step()
    assert opt.param_groups[0]["alpha"] == 0.25  # FTRL's learning rate is alpha


# ---------------------------------------------------------------------------------------------
# Bad input: clear errors, nothing changed


def snapshot(opt, params):
    return [p.copy() for p in params], opt.state_dict()


def assert_unchanged(opt, params, before):
    old_params, old_state = before
    for p, q in zip(params, old_params):
        np.testing.assert_array_equal(bits(p), bits(q))
    new_state = opt.state_dict()["state"]
    assert new_state.keys() == old_state["state"].keys()
    for i, s in new_state.items():
        for k, v in s.items():
            np.testing.assert_array_equal(v, old_state["state"][i][k])


@pytest.mark.parametrize("cls, config", ALL_OPTIMIZERS + [(FTRL, dict(alpha=0.5))],
                         ids=OPT_IDS + ["FTRL"])
def test_bad_grads_change_nothing(cls, config):
    params = start_params(np.float32)
    opt = cls(params, **config)
    opt.step(gradient_stream(params, steps=1)[0])
    before = snapshot(opt, params)
    good = np.ones_like(params[0])
    cases = [
        (TypeError, r"grads\[1\] must have dtype float32", [good, np.ones((4, 5))]),
        (TypeError, r"grads\[1\] must have dtype float32", [good, np.ones((4, 5), np.int32)]),
        (ValueError, r"grads\[1\] must have shape \(4, 5\)", [good, np.ones((5, 4), np.float32)]),
        (ValueError, "2 parameters", [good]),
        (TypeError, "list", good),
    ]
    for error, match, grads in cases:
        with pytest.raises(error, match=match):
            opt.step(grads)
        assert_unchanged(opt, params, before)
    key = opt._lr_key
    for bad in (float("nan"), -1.0, float("inf")):
        opt.param_groups[0][key] = bad
        with pytest.raises(ValueError, match=rf"{key} must be"):
            opt.step([good, np.ones((4, 5), np.float32)])
        assert_unchanged(opt, params, before)
    opt.param_groups[0][key] = "0.1"
    with pytest.raises(TypeError, match=key):
        opt.step([good, np.ones((4, 5), np.float32)])
    assert_unchanged(opt, params, before)


def test_penalty_that_does_not_fit_a_parameter_changes_nothing():
    w, b = start_params(np.float64, shapes=[(3, 4), (3,)])
    opt = SGD([w, b], lr=0.1, penalty=GroupL2(0.1, axis=1))
    before = snapshot(opt, [w, b])
    with pytest.raises(ValueError, match=r"params\[1\]"):
        opt.step([np.ones_like(w), np.ones_like(b)])
    assert_unchanged(opt, [w, b], before)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda p: SGD(p, lr=-0.1), ValueError, "lr"),
        (lambda p: SGD(p, lr=float("nan")), ValueError, "lr"),
        (lambda p: SGD(p, momentum=-1.0), ValueError, "momentum"),
        (lambda p: SGD(p, nesterov=True), ValueError, "nesterov"),
        (lambda p: SGD(p, momentum=0.9, dampening=0.1, nesterov=True), ValueError, "nesterov"),
        (lambda p: Adam(p, betas=(0.9, 1.0)), ValueError, r"betas\[1\]"),
        (lambda p: Adam(p, betas=0.9), TypeError, "betas"),
        (lambda p: Adam(p, eps=-1e-8), ValueError, "eps"),
        (lambda p: AdamW(p, amsgrad=1), TypeError, "amsgrad"),
        (lambda p: RMSprop(p, alpha=-0.5), ValueError, "alpha"),
        (lambda p: Adagrad(p, lr_decay=float("nan")), ValueError, "lr_decay"),
        (lambda p: Adagrad(p, initial_accumulator_value=-1.0), ValueError, "initial_accumulator_value"),
        (lambda p: FTRL(p), ValueError, "alpha is required"),
        (lambda p: FTRL(p, alpha=-0.1), ValueError, "alpha"),  # 0 is legal (a schedule end)
        (lambda p: FTRL(p, alpha=0.1, penalty=L0(0.1)), ValueError, "FTRL takes"),
        (lambda p: SGD(p, penalty="l1"), TypeError, "penalty"),
        (lambda p: SGD([p[0], p[0]]), ValueError, "more than one param group"),
        (lambda p: SGD([p[0].astype(np.int64)]), TypeError, r"params\[0\] must be a float32"),
        (lambda p: SGD([p[0].astype(np.float16)]), TypeError, r"params\[0\]"),
        (lambda p: SGD([p[1].T]), ValueError, "C-contiguous"),
        (lambda p: SGD([np.frombuffer(p[0].tobytes())]), ValueError, "read-only"),
        (lambda p: SGD([[1.0, 2.0]]), TypeError, r"params\[0\] must be a numpy.ndarray"),
        (lambda p: SGD(p[0]), TypeError, "one ndarray"),
        (lambda p: SGD([]), ValueError, "empty"),
        (lambda p: SGD([{"params": [p[0]]}, p[1]]), TypeError, "all arrays or all"),
        (lambda p: SGD([{"params": [p[0]], "lr": -1.0}, {"params": [p[1]]}]), ValueError,
         r"param_groups\[0\]"),
    ],
)
def test_bad_construction(make, error, match):
    with pytest.raises(error, match=match):
        make(start_params(np.float64))


def test_core_rejects_overlapping_state():
    buf = np.zeros(20)
    p, g = buf[:10], np.ones(10)
    sgd = lambda params, grads, bufs, steps=None: _core.sgd_step(  # noqa: E731
        params, grads, bufs, steps, 0.1, 0.9, 0.0, 0.0, False)
    with pytest.raises(ValueError, match=r"overlaps params\[0\]"):
        sgd([p], [g], [buf[5:15]], [1])
    with pytest.raises(ValueError, match=r"grads\[0\] overlaps params\[0\] partially"):
        sgd([p], [buf[1:11]], None)
    with pytest.raises(ValueError, match="step"):
        _core.adam_step([p], [g], [np.zeros(10)], [np.zeros(10)], None, [0], 0.1, 0.9, 0.99,
                        1e-8, 0.0, False)
    with pytest.raises(TypeError, match=r"grads\[0\] must have dtype float64"):
        sgd([p], [g.astype(np.float32)], None)
    # across the arrays of one group: another parameter's memory is never a gradient, and two
    # parameters (or states) never share memory
    other = buf[10:]
    with pytest.raises(ValueError, match=r"grads\[1\] overlaps params\[0\]"):
        sgd([p, other], [g, p], None)
    with pytest.raises(ValueError, match=r"overlaps"):
        sgd([p, buf[5:15]], [g, g], None)
    with pytest.raises(ValueError, match=r"state\[7\]\['momentum_buffer'\]"):
        _core.sgd_step([p], [g], [np.zeros(3)], [1], 0.1, 0.9, 0.0, 0.0, False, index=7)
    np.testing.assert_array_equal(buf, 0.0)
    # the gradient may be the parameter itself: each element is read before it is written
    w = np.arange(8.0)
    _core.sgd_step([w], [w], None, None, 0.5, 0.0, 0.0, 0.0, False)
    np.testing.assert_array_equal(w, np.arange(8.0) * 0.5)


def test_one_call_packs_many_arrays_bit_identical_to_one_call_each(restore_threads):
    """A group of many arrays of mixed sizes (packed into thread ranges, large ones split) gives
    the bits of updating each array in its own group, for 1 and 2 threads."""
    rng = np.random.default_rng(5)
    sizes = [1, 3, 64, 65, 200, 1, 40000, 7, 70001, 0, 129]
    start = [rng.standard_normal(n).astype(np.float32) for n in sizes]
    grads = [[rng.standard_normal(n).astype(np.float32) for n in sizes] for _ in range(4)]
    results = []
    for threads in (1, 2):
        lkreg.set_num_threads(threads)
        for grouped in (True, False):
            params = [x.copy() for x in start]
            groups = [{"params": params}] if grouped else [{"params": [x]} for x in params]
            opt = AdamW(groups, lr=0.05, penalty=L1(0.01))
            for gs in grads:
                opt.step(gs)
            results.append(params)
    for other in results[1:]:
        for x, y in zip(results[0], other):
            np.testing.assert_array_equal(bits(x), bits(y))
