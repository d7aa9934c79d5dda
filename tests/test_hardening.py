"""Hardening, round 2: scalars and sizes, aliasing, scheduler arguments (table-driven)."""

from fractions import Fraction

import numpy as np
import pytest

import lkreg
from lkreg import L0, L1, L2, ElasticNet, GroupL2, Lk
from lkreg.optim import SGD, Adam, FTRL, StepLR, MultiStepLR, ExponentialLR, LambdaLR
from lkreg.optim import CosineAnnealingLR, CosineAnnealingWarmRestarts

HUGE = [10**400, -(10**400), Fraction(10**400)]
W = np.array([1.0, -2.0, 0.5])

# (name, call with the value under test): every scalar argument of penalties, kernels, optimizers
SCALAR_SITES = [
    ("lam", lambda v: L1(v)),
    ("lam", lambda v: L2(v)),
    ("lam", lambda v: L0(v)),
    ("lam", lambda v: Lk(0.5, v)),
    ("k", lambda v: Lk(v, 1.0)),
    ("l1", lambda v: ElasticNet(v, 1.0)),
    ("l2", lambda v: ElasticNet(1.0, v)),
    ("lam", lambda v: GroupL2(v, axis=0)),
    ("step", lambda v: L1(1.0).prox(W, v)),
    ("t", lambda v: lkreg.soft_threshold(W, v)),
    ("t", lambda v: lkreg.hard_threshold(W, v)),
    ("rate", lambda v: lkreg.weight_decay(W, v)),
    ("p", lambda v: lkreg.dropout(W, v, seed=1)),
    ("lr", lambda v: SGD([W.copy()], lr=v)),
    ("eps", lambda v: Adam([W.copy()], eps=v)),
    ("alpha", lambda v: FTRL([W.copy()], alpha=v)),
    ("gamma", lambda v: StepLR(SGD([W.copy()], lr=0.1), 1, gamma=v)),
]


@pytest.mark.parametrize("value", HUGE, ids=["1e400", "-1e400", "Fraction(1e400)"])
@pytest.mark.parametrize("name, call", SCALAR_SITES)
def test_huge_scalars_are_value_errors_naming_the_argument(name, call, value):
    with pytest.raises(ValueError, match=name):
        call(value)


@pytest.mark.parametrize("name, call", SCALAR_SITES)
def test_fractions_are_accepted_everywhere_as_floats(name, call):
    # one rule: a Fraction is a real number wherever a float is (p = 1/4 is a valid everywhere)
    value = Fraction(1, 4)
    call(value)
    call(0.25)


def test_packed_mask_size_overflow_is_a_clear_error():
    with pytest.raises((MemoryError, ValueError)):
        lkreg.dropout_mask(2**63 - 1, 0.5, seed=1, packed=True)


@pytest.mark.parametrize("shape", [(0,), (0, 2**60), (2**60, 0), (3, 0, 5)])
@pytest.mark.parametrize("method", ["grad", "prox", "value_and_grad", "value"])
def test_group_l2_empty_input_gives_empty_result(shape, method):
    w = np.empty(shape, np.float32)
    pen = GroupL2(1.0, axis=0)
    if method == "value":
        assert pen.value(w) == 0.0
        return
    got = pen.prox(w, 0.5) if method == "prox" else getattr(pen, method)(w)
    got = got[1] if method == "value_and_grad" else got
    assert got.shape == shape and got.dtype == np.float32


def test_group_l2_ids_cannot_be_made_writable():
    ids = np.array([0, 0, 1, 1, 2])
    pen = GroupL2(1.0, groups=ids)
    ids[:] = 7  # the caller's array is not the penalty's
    assert np.array_equal(pen.groups, [0, 0, 1, 1, 2])
    with pytest.raises(ValueError):
        pen.groups.setflags(write=True)
    with pytest.raises(ValueError):
        pen.groups[0] = 10**9


def test_bfloat16_tensor_names_the_argument():
    torch = pytest.importorskip("torch")
    w = torch.ones(3, dtype=torch.bfloat16)
    for call in (lambda: L1(1.0).grad(w), lambda: L1(1.0).prox(w, 0.1),
                 lambda: lkreg.soft_threshold(w, 0.1), lambda: lkreg.dropout(w, 0.5, seed=1)):
        with pytest.raises(TypeError, match=r"\b(w|x)\b"):
            call()


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("where", ["start", "middle", "whole"])
def test_dropout_backward_out_overlapping_the_mask_is_refused(packed, where):
    n = 64
    g = np.ones(n, np.float32)
    mask = lkreg.dropout_mask(n, 0.5, seed=3, packed=packed)
    raw = mask.view(np.uint8)
    before = raw.copy()
    # a float32 view of the mask's own bytes (4 mask bytes per out element)
    buf = np.zeros(4 * n + 64, np.uint8)
    offset = {"start": 0, "middle": 32, "whole": 0}[where]
    buf[offset:offset + raw.size] = raw
    mask_in_buf = buf[offset:offset + raw.size].view(mask.dtype)
    out = buf[:4 * n].view(np.float32)
    with pytest.raises(ValueError, match="out overlaps mask"):
        lkreg.dropout_backward(g, mask_in_buf, 0.5, out=out)
    assert np.array_equal(buf[offset:offset + raw.size], before)
    # a separate out gives the reference
    ref = lkreg.dropout_backward(g, mask, 0.5)
    assert np.array_equal(lkreg.dropout_backward(g, mask, 0.5, out=np.empty_like(g)), ref)


BAD_SCHEDULERS = [
    ("gamma", lambda o: StepLR(o, 2, gamma=-1.0)),
    ("gamma", lambda o: ExponentialLR(o, gamma=float("nan"))),
    ("gamma", lambda o: MultiStepLR(o, [1], gamma=-0.5)),
    ("eta_min", lambda o: CosineAnnealingLR(o, 10, eta_min=-1e-3)),
    ("eta_min", lambda o: CosineAnnealingWarmRestarts(o, 5, eta_min=-1.0)),
    ("milestones", lambda o: MultiStepLR(o, 3)),
    ("milestones", lambda o: MultiStepLR(o, "12")),
    ("LambdaLR", lambda o: LambdaLR(o, lambda e: float("nan"))),
    ("LambdaLR", lambda o: LambdaLR(o, lambda e: -1.0)),
    ("LambdaLR", lambda o: LambdaLR(o, lambda e: "fast")),
]


@pytest.mark.parametrize("name, make", BAD_SCHEDULERS)
def test_schedulers_reject_bad_arguments_at_construction(name, make):
    opt = SGD([W.copy()], lr=0.1)
    with pytest.raises((TypeError, ValueError), match=name):
        make(opt)
    assert opt.param_groups[0]["lr"] == 0.1


def test_lambda_lr_going_bad_later_leaves_the_rates():
    opt = SGD([W.copy()], lr=0.1)
    sched = LambdaLR(opt, lambda e: 1.0 if e < 2 else float("nan"))
    sched.step()
    with pytest.raises(ValueError, match="LambdaLR"):
        sched.step()
    assert opt.param_groups[0]["lr"] == 0.1


# -- optimizers: all or nothing -------------------------------------------------------------

def _adam_with_state():
    w = [np.ones(4), np.full(3, 2.0)]
    opt = Adam(w, lr=0.1)
    opt.step([np.ones(4), np.ones(3)])
    return opt, w


TAMPERED = [
    ("exp_avg", lambda sd: sd["state"][0].update(exp_avg=0.5)),
    ("exp_avg", lambda sd: sd["state"][0].update(exp_avg="zeros")),
    ("exp_avg", lambda sd: sd["state"][1].update(exp_avg=np.zeros(4))),
    ("step", lambda sd: sd["state"][0].update(step=2**70)),
    ("step", lambda sd: sd["state"][0].update(step=float("inf"))),
    ("step", lambda sd: sd["state"][0].update(step=None)),
    ("step", lambda sd: sd["state"][0].update(step=-1)),
    ("state", lambda sd: sd["state"].update({0: [1, 2]})),
    ("param_groups", lambda sd: sd.update(param_groups={"params": [0, 1]})),
    ("lr", lambda sd: sd["param_groups"][0].update(lr=float("nan"))),
    ("lr", lambda sd: sd["param_groups"][0].update(lr=10**400)),
]


@pytest.mark.parametrize("field, tamper", TAMPERED)
def test_tampered_state_dict_is_refused_and_changes_nothing(field, tamper):
    opt, w = _adam_with_state()
    sd = opt.state_dict()
    tamper(sd)
    before = opt.state_dict()
    with pytest.raises((TypeError, ValueError), match=field):
        opt.load_state_dict(sd)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i in before["state"]:
        for key, value in before["state"][i].items():
            assert np.array_equal(after["state"][i][key], value)


def test_state_dict_of_another_kind_is_a_value_error():
    opt, _ = _adam_with_state()
    sgd = SGD([np.ones(4), np.ones(3)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="another optimizer"):
        sgd.load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="another optimizer"):
        opt.load_state_dict(sgd.state_dict())


def _bad_appended():
    ro = np.ones(2)
    ro.setflags(write=False)
    return [("read-only", ro), ("numpy.ndarray", [1.0, 2.0]), ("float32 or float64", np.ones(2, int))]


@pytest.mark.parametrize("index", range(3))
def test_param_appended_after_construction_is_caught_before_any_update(index):
    match, bad = _bad_appended()[index]
    w = np.ones(3)
    opt = SGD([w], lr=0.1)
    opt.param_groups[0]["params"].append(bad)
    with pytest.raises((TypeError, ValueError), match=match):
        opt.step([np.ones(3), np.ones(2)])
    assert np.array_equal(w, np.ones(3))


def _sharing():
    buf = np.zeros(10)
    w = np.zeros(4)
    return [[w, w.view()], [buf[:6], buf[4:]], [buf[2:5], buf[:3]], [w, w.reshape(2, 2)]]


@pytest.mark.parametrize("case", range(4))
@pytest.mark.parametrize("cls", [SGD, Adam])
def test_params_sharing_memory_are_refused(cls, case):
    params = _sharing()[case]
    with pytest.raises(ValueError, match="shares memory"):
        cls(params, lr=0.1)
    # appended later: refused at the step, nothing changed
    opt = cls([params[0]], lr=0.1)
    opt.param_groups[0]["params"].append(params[1])
    before = [p.copy() for p in params]
    with pytest.raises(ValueError, match="shares memory"):
        opt.step([np.ones_like(p) for p in params])
    assert all(np.array_equal(p, b) for p, b in zip(params, before))


def test_ftrl_reaches_a_zero_learning_rate_under_cosine_annealing():
    w = np.ones(5)
    opt = FTRL([w], alpha=0.5, l1=0.01)
    sched = CosineAnnealingLR(opt, T_max=4)  # eta_min = 0: the last rate is 0
    for _ in range(4):
        opt.step([np.full(5, 0.3)])
        sched.step()
    assert opt.param_groups[0]["alpha"] == 0.0
    state = {k: v.copy() for k, v in opt.state[0].items() if isinstance(v, np.ndarray)}
    before = w.copy()
    opt.step([np.full(5, 0.3)])  # a learning rate of 0: nothing moves
    assert np.array_equal(w, before)
    assert all(np.array_equal(opt.state[0][k], v) for k, v in state.items())
