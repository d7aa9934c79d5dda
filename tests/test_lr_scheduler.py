"""lkreg.optim.lr_scheduler against torch.optim.lr_scheduler: the same learning rates (and
momenta, for OneCycleLR) step by step, and clear errors for foreign states."""

import numpy as np
import pytest

import lkreg
from lkreg import optim
from lkreg.optim import lr_scheduler

torch = pytest.importorskip("torch")

# torch warns when its scheduler steps before its optimizer; these tests compare schedules only
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step")


def pair(opt_name="SGD", **kwargs):
    """The same two-group optimizer in lkreg and torch."""
    a, b = np.zeros(3), np.zeros(2)
    mine = getattr(optim, opt_name)([{"params": [a]}, {"params": [b], "lr": 0.3}], lr=0.1, **kwargs)
    ta, tb = torch.zeros(3, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    theirs = getattr(torch.optim, opt_name)([{"params": [ta]}, {"params": [tb], "lr": 0.3}], lr=0.1,
                                            **kwargs)
    return mine, theirs


def build(module, opt, name, **kwargs):
    lr = module
    if name == "SequentialLR":
        return lr.SequentialLR(opt, [lr.LinearLR(opt, 0.2, total_iters=4), lr.ExponentialLR(opt, 0.9),
                                     lr.StepLR(opt, 3, 0.5)], milestones=[4, 9])
    if name == "ChainedScheduler":
        return lr.ChainedScheduler([lr.ExponentialLR(opt, 0.95), lr.StepLR(opt, 4, 0.5)])
    return getattr(lr, name)(opt, **kwargs)


CASES = [
    ("CosineAnnealingWarmRestarts", dict(T_0=5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.01)),
    ("OneCycleLR", dict(max_lr=[1.0, 2.0], total_steps=31)),
    ("OneCycleLR", dict(max_lr=1.0, epochs=3, steps_per_epoch=10, anneal_strategy="linear",
                        three_phase=True)),
    ("SequentialLR", {}),
    ("ChainedScheduler", {}),
]


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch(name, kwargs, opt_name):
    extra = dict(momentum=0.9) if opt_name == "SGD" else {}
    mine, theirs = pair(opt_name, **extra)
    s, t = build(lr_scheduler, mine, name, **kwargs), build(torch.optim.lr_scheduler, theirs, name, **kwargs)
    for epoch in range(30):
        assert s.get_last_lr() == pytest.approx(t.get_last_lr(), rel=1e-14, abs=1e-16), epoch
        for g, tg in zip(mine.param_groups, theirs.param_groups):
            assert g["lr"] == pytest.approx(tg["lr"], rel=1e-14, abs=1e-16), epoch
            key = "betas" if opt_name == "Adam" else "momentum"
            assert g[key] == pytest.approx(tg[key], rel=1e-14), epoch
        s.step()
        t.step()


def test_reduce_on_plateau_matches_torch():
    mine, theirs = pair()
    kw = dict(mode="min", factor=0.5, patience=2, threshold=0.01, cooldown=1, min_lr=[0.0, 0.05])
    s = lr_scheduler.ReduceLROnPlateau(mine, **kw)
    t = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kw)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.94, 0.8, 0.81, 0.8, 0.8, 0.8, 0.8, 0.79, 0.9, 0.9, 0.9]
    for m in metrics:
        s.step(m)
        t.step(m)
        assert s.get_last_lr() == t.get_last_lr()
        assert s.num_bad_epochs == t.num_bad_epochs and s.best == t.best
    assert s.get_last_lr()[0] < 0.1  # it did reduce


def test_warm_restarts_with_fractional_epochs_matches_torch():
    mine, theirs = pair()
    s = lr_scheduler.CosineAnnealingWarmRestarts(mine, T_0=4, T_mult=2)
    t = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs, T_0=4, T_mult=2)
    for epoch in np.arange(0, 20, 0.37):
        s.step(float(epoch))
        t.step(float(epoch))
        assert s.get_last_lr() == pytest.approx(t.get_last_lr(), rel=1e-14)


def test_import_path_and_bad_arguments():
    import lkreg.optim.lr_scheduler as module

    assert module.StepLR is optim.StepLR
    opt = optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="factor"):
        module.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode"):
        module.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(ValueError, match="total_steps"):
        module.OneCycleLR(opt, 1.0)
    with pytest.raises(ValueError, match="T_0"):
        module.CosineAnnealingWarmRestarts(opt, 0)
    with pytest.raises(ValueError, match="milestone"):
        module.SequentialLR(opt, [module.StepLR(opt, 2)], milestones=[3])
    other = optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="another optimizer"):
        module.ChainedScheduler([module.StepLR(opt, 2), module.StepLR(other, 2)])
    with pytest.raises(TypeError, match="optimizer"):
        module.StepLR("sgd", 2)


def test_load_state_dict_of_a_foreign_or_damaged_state_names_the_key():
    opt = optim.SGD([np.zeros(2)], lr=0.1)
    step = lr_scheduler.StepLR(opt, 2)
    cosine = lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    with pytest.raises(ValueError, match="lacks 'gamma': not a StepLR state"):
        step.load_state_dict(cosine.state_dict())
    damaged = step.state_dict()
    del damaged["gamma"]
    with pytest.raises(ValueError, match="gamma"):
        step.load_state_dict(damaged)
    seq = lr_scheduler.SequentialLR(opt, [lr_scheduler.StepLR(opt, 2), lr_scheduler.StepLR(opt, 3)], [2])
    bad = seq.state_dict()
    bad["_schedulers"] = bad["_schedulers"][:1]
    with pytest.raises(ValueError, match="_schedulers"):
        seq.load_state_dict(bad)
    # and the optimizer's own state
    adam = optim.Adam([np.zeros(2)], lr=0.1)
    adam.step([np.ones(2)])
    with pytest.raises(ValueError, match="momentum"):
        opt.load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match="'state'"):
        opt.load_state_dict({"param_groups": []})
    damaged = adam.state_dict()
    del damaged["param_groups"][0]["params"]
    with pytest.raises(ValueError, match="'params'"):
        adam.load_state_dict(damaged)
    damaged = adam.state_dict()
    damaged["state"][0]["exp_avgg"] = damaged["state"][0].pop("exp_avg")
    with pytest.raises(ValueError, match="exp_avgg"):
        adam.load_state_dict(damaged)
