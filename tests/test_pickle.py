"""Every public object pickles, copies and deep-copies; equal objects compare (and hash) equal;
an unpickled optimizer or scheduler continues bit for bit; a spawn Pool takes penalties."""

import copy
import multiprocessing
import pickle

import numpy as np
import pytest

import lkreg
from lkreg import optim

from helpers import bits

PENALTIES = [
    lkreg.L1(0.1), lkreg.L2(0.2, reduction="mean"), lkreg.Lk(0.5, 0.3), lkreg.Lk(3, 0.1),
    lkreg.ElasticNet(0.1, 0.2), lkreg.L0(0.05), lkreg.GroupL2(0.1, axis=1),
    lkreg.GroupL2(0.3, groups=[[5, 5, 9], [9, 0, 0]], reduction="mean"),
]
COPIES = {
    "pickle": lambda x: pickle.loads(pickle.dumps(x)),
    "pickle0": lambda x: pickle.loads(pickle.dumps(x, protocol=0)),
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}


@pytest.mark.parametrize("how", COPIES)
@pytest.mark.parametrize("pen", PENALTIES, ids=repr)
def test_penalties_round_trip_equal_and_behave_the_same(pen, how):
    twin = COPIES[how](pen)
    assert twin == pen and hash(twin) == hash(pen) and repr(twin) == repr(pen)
    assert type(twin) is type(pen)
    w = np.random.default_rng(0).standard_normal((2, 3))
    np.testing.assert_array_equal(bits(twin.prox(w, 0.7)), bits(pen.prox(w, 0.7)))
    assert twin.value(w) == pen.value(w)
    with pytest.raises(AttributeError, match="immutable"):
        twin.lam = 1.0


def test_unpickling_checks_arguments_like_the_constructor():
    data = pickle.dumps(lkreg.L1(0.1)).replace(b"G?\xb9\x99\x99\x99\x99\x99\x9a", b"G\xbf\xb9\x99\x99\x99\x99\x99\x9a")
    with pytest.raises(ValueError, match="lam"):  # a damaged pickle with lam = -0.1
        pickle.loads(data)


def _prox_in_worker(args):
    penalty, w = args
    return penalty.prox(w, 0.5)


def test_spawn_pool_takes_penalties():
    w = np.linspace(-2, 2, 11)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.map_async(_prox_in_worker, [(pen, w) for pen in PENALTIES[:6]]).get(timeout=120)
    for pen, got in zip(PENALTIES[:6], results):
        np.testing.assert_array_equal(got, pen.prox(w, 0.5))


@pytest.mark.parametrize("how", COPIES)
def test_dropout_layer_round_trips_and_continues(how):
    layer = lkreg.Dropout(0.3, seed=7, stream=2)
    x = np.ones((4, 5), np.float32)
    layer.forward(x)
    twin = COPIES[how](layer)
    assert twin == layer and twin is not layer
    np.testing.assert_array_equal(twin.forward(x), layer.forward(x))
    assert twin == layer
    layer.eval()
    assert twin != layer


OPTIMIZERS = [
    (optim.SGD, dict(lr=0.1, momentum=0.9, penalty=lkreg.L1(0.01))),
    (optim.Adam, dict(lr=0.05, amsgrad=True, penalty=lkreg.ElasticNet(0.01, 0.02))),
    (optim.AdamW, dict(lr=0.05, penalty=lkreg.GroupL2(0.05, axis=-1))),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5, penalty=lkreg.Lk(0.5, 0.01))),
    (optim.Adagrad, dict(lr=0.1, penalty=lkreg.L0(1e-4))),
    (optim.FTRL, dict(alpha=0.5, l1=0.01, penalty=lkreg.L2(0.01))),
]


def _grads(params, steps, seed):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(p.shape).astype(p.dtype) for p in params] for _ in range(steps)]


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize("cls, config", OPTIMIZERS, ids=[c.__name__ for c, _ in OPTIMIZERS])
def test_optimizers_continue_bit_identically(cls, config, how):
    rng = np.random.default_rng(1)
    params = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(5)]
    opt = cls([{"params": [params[0]]}, {"params": [params[1]], "penalty": None}], **config)
    for g in _grads(params, 5, seed=2):
        opt.step(g)
    twin = COPIES[how](opt)
    twin_params = twin._all_params()
    assert all(a is not b for a, b in zip(twin_params, params))
    for g in _grads(params, 7, seed=3):
        opt.step(g)
        twin.step(g)
    for a, b in zip(twin_params, params):
        np.testing.assert_array_equal(bits(a), bits(b))
    sa, sb = twin.state_dict(), opt.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    for i in sb["state"]:
        for key, value in sb["state"][i].items():
            np.testing.assert_array_equal(sa["state"][i][key], value)


def test_copy_copy_of_an_optimizer_shares_its_parameters():
    w = np.zeros(3)
    opt = optim.SGD([w], lr=0.1)
    assert copy.copy(opt)._all_params()[0] is w


def _scheduled(make):
    w = np.zeros(4)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    return opt, make(opt)


SCHEDULERS = {
    "StepLR": lambda o: optim.lr_scheduler.StepLR(o, 3, 0.5),
    "CosineAnnealingWarmRestarts": lambda o: optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 4, 2),
    "OneCycleLR": lambda o: optim.lr_scheduler.OneCycleLR(o, 1.0, total_steps=40),
    "ReduceLROnPlateau": lambda o: optim.lr_scheduler.ReduceLROnPlateau(o, patience=1),
    "SequentialLR": lambda o: optim.lr_scheduler.SequentialLR(
        o, [optim.lr_scheduler.LinearLR(o, 0.1, total_iters=3),
            optim.lr_scheduler.ExponentialLR(o, 0.9)], [3]),
}


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize("name", SCHEDULERS)
def test_schedulers_round_trip_with_their_optimizer(name, how):
    opt, sched = _scheduled(SCHEDULERS[name])
    step = (lambda s, t: s.step(1.0)) if name == "ReduceLROnPlateau" else (lambda s, t: s.step())
    for t in range(5):
        step(sched, t)
    twin = COPIES[how](sched)
    assert twin.optimizer is not opt
    for t in range(10):
        step(sched, t)
        step(twin, t)
        assert twin.get_last_lr() == sched.get_last_lr()
        assert twin.optimizer.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
