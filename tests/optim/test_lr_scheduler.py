"""Learning-rate schedules: PyTorch's lr sequences (chainable semantics included), state
dicts that resume a schedule exactly, and clear errors for bad arguments."""
import math

import numpy as np
import pytest

import tensorlite as tl
import tensorlite.optim as optim
from tensorlite.optim import lr_scheduler as sched

LRS = [0.1, 0.03]  # two parameter groups with different base learning rates


def _opts(torch=None):
    ours = optim.SGD([{"params": [tl.tensor(np.ones(1), requires_grad=True)], "lr": lr}
                      for lr in LRS], lr=1.0, momentum=0.9)
    if torch is None:
        return ours
    theirs = torch.optim.SGD([{"params": [torch.ones(1, requires_grad=True)], "lr": lr}
                              for lr in LRS], lr=1.0, momentum=0.9)
    return ours, theirs


def _lrs(opt):
    return [g["lr"] for g in opt.param_groups]


def _assert_same_lrs(a, b, epoch):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, err_msg=f"epoch {epoch}")


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    "StepLR-1": lambda m, o: m.StepLR(o, step_size=1, gamma=0.9),
    "Cosine": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "Cosine-no-min": lambda m, o: m.CosineAnnealingLR(o, T_max=4),
    "Lambda": lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e),
    "Lambda-per-group": lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.5 ** e]),
}


@pytest.mark.parametrize("kind", list(SCHEDULES))
def test_schedule_matches_pytorch_over_several_periods(kind):
    torch = pytest.importorskip("torch")
    o, to = _opts(torch)
    s, ts = SCHEDULES[kind](sched, o), SCHEDULES[kind](torch.optim.lr_scheduler, to)
    for epoch in range(30):  # past T_max: the cosine rises again, as PyTorch's
        _assert_same_lrs(s.get_last_lr(), ts.get_last_lr(), epoch)
        _assert_same_lrs(_lrs(o), _lrs(to), epoch)
        o.step()
        to.step()
        s.step()
        ts.step()


def test_two_schedules_on_one_optimizer_compose_like_pytorchs():
    torch = pytest.importorskip("torch")
    o, to = _opts(torch)
    a = [sched.StepLR(o, 4, gamma=0.5), sched.CosineAnnealingLR(o, T_max=10, eta_min=0.0)]
    b = [torch.optim.lr_scheduler.StepLR(to, 4, gamma=0.5),
         torch.optim.lr_scheduler.CosineAnnealingLR(to, T_max=10, eta_min=0.0)]
    for epoch in range(15):
        to.step()
        for s, ts in zip(a, b):
            s.step()
            ts.step()
        _assert_same_lrs(_lrs(o), _lrs(to), epoch)


def test_a_manual_lr_change_persists_under_a_chainable_schedule():
    o = _opts()
    s = sched.StepLR(o, step_size=2, gamma=0.1)
    s.step()
    o.param_groups[0]["lr"] = 1.0
    s.step()  # epoch 2: decay the current lr, not base_lr
    assert o.param_groups[0]["lr"] == pytest.approx(0.1)
    assert s.get_last_lr()[0] == pytest.approx(0.1)


@pytest.mark.parametrize("kind", ["StepLR", "Cosine"])
def test_stepping_to_an_epoch_uses_the_closed_form_like_pytorch(kind):
    torch = pytest.importorskip("torch")
    o, to = _opts(torch)
    s, ts = SCHEDULES[kind](sched, o), SCHEDULES[kind](torch.optim.lr_scheduler, to)
    with pytest.warns(UserWarning):
        for epoch in [5, 2, 11, 6]:
            s.step(epoch)
            ts.step(epoch)
            _assert_same_lrs(_lrs(o), _lrs(to), epoch)


def test_cosine_resumed_at_a_later_epoch_matches_pytorch():
    torch = pytest.importorskip("torch")
    o, to = _opts(torch)
    for g, tg in zip(o.param_groups, to.param_groups):
        g["initial_lr"] = tg["initial_lr"] = g["lr"]
    s = sched.CosineAnnealingLR(o, T_max=10, eta_min=0.01, last_epoch=3)
    ts = torch.optim.lr_scheduler.CosineAnnealingLR(to, T_max=10, eta_min=0.01, last_epoch=3)
    for epoch in range(8):
        _assert_same_lrs(_lrs(o), _lrs(to), epoch)
        o.step()
        to.step()
        s.step()
        ts.step()


def test_resuming_without_initial_lr_is_a_clear_error():
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(_opts(), step_size=2, last_epoch=4)


PLATEAU = [
    dict(),
    dict(mode="min", factor=0.5, patience=2, threshold=0.01, cooldown=1, min_lr=0.002),
    dict(mode="min", factor=0.3, patience=0, threshold=0.5, threshold_mode="abs"),
    dict(mode="max", factor=0.5, patience=1, threshold=0.05, cooldown=2),
    dict(mode="max", factor=0.2, patience=1, threshold=0.3, threshold_mode="abs",
         min_lr=[0.01, 0.0]),
    dict(mode="min", factor=0.1, patience=1, eps=0.05),  # decays smaller than eps are skipped
]
METRICS = [5, 4, 4, 4, 4, 3.99, 4, 4, 6, 4, 4, 3, 3, 3, 2, 2.5, 2, 2, 2, 2, 1, 1, 1, 1,
           float("nan"), 1, 1, 7, 8, 9, 9.5, 9.6, 9.6, 9.6, 9.6, 9.6, 9.6, 12, 12, 12]


@pytest.mark.parametrize("kw", PLATEAU, ids=[str(k) for k in PLATEAU])
def test_reduce_on_plateau_matches_pytorch(kw):
    torch = pytest.importorskip("torch")
    o, to = _opts(torch)
    s = sched.ReduceLROnPlateau(o, **kw)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(to, **kw)
    for epoch, metric in enumerate(METRICS):
        s.step(metric)
        ts.step(metric)
        _assert_same_lrs(_lrs(o), _lrs(to), epoch)
        _assert_same_lrs(s.get_last_lr(), ts.get_last_lr(), epoch)
        assert s.num_bad_epochs == ts.num_bad_epochs
        assert s.cooldown_counter == ts.cooldown_counter


def test_reduce_on_plateau_accepts_a_one_element_tensor_metric():
    o = _opts()
    s = sched.ReduceLROnPlateau(o, patience=0)
    s.step(tl.tensor(1.0))
    s.step(tl.tensor([2.0]))
    assert _lrs(o) == pytest.approx([0.01, 0.003])


ROUND_TRIP = {
    "StepLR": lambda o: sched.StepLR(o, step_size=3, gamma=0.5),
    "Cosine": lambda o: sched.CosineAnnealingLR(o, T_max=6, eta_min=0.001),
    "Lambda": lambda o: sched.LambdaLR(o, lambda e: 0.9 ** e),
    "Plateau": lambda o: sched.ReduceLROnPlateau(o, factor=0.5, patience=1, cooldown=1),
}


@pytest.mark.parametrize("kind", list(ROUND_TRIP))
def test_state_dict_round_trip_through_a_file_resumes_the_schedule(kind, tmp_path):
    metrics = [3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]

    def advance(s, o, epochs):
        for e in epochs:
            o.step()
            s.step(metrics[e]) if kind == "Plateau" else s.step()

    o = _opts()
    s = ROUND_TRIP[kind](o)
    advance(s, o, range(5))
    tl.save({"optimizer": o.state_dict(), "scheduler": s.state_dict()}, tmp_path / "c.npz")
    ckpt = tl.load(tmp_path / "c.npz")
    o2 = _opts()
    s2 = ROUND_TRIP[kind](o2)           # build the schedule first (it sets the lrs),
    o2.load_state_dict(ckpt["optimizer"])  # then restore the optimizer and the schedule
    s2.load_state_dict(ckpt["scheduler"])
    assert s2.get_last_lr() == s.get_last_lr()
    advance(s, o, range(5, 16))
    advance(s2, o2, range(5, 16))
    assert _lrs(o2) == _lrs(o)
    assert s2.get_last_lr() == s.get_last_lr()


def test_lambda_state_dict_keeps_callable_objects_attributes():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, e):
            return min(1.0, (e + 1) / self.n)

    s = sched.LambdaLR(_opts(), Warmup(5))
    state = s.state_dict()
    assert state["lr_lambdas"] == [{"n": 5}, {"n": 5}]
    s2 = sched.LambdaLR(_opts(), Warmup(2))
    s2.load_state_dict(state)
    assert s2.lr_lambdas[0].n == 5


def test_scheduler_state_dict_excludes_the_optimizer():
    s = sched.CosineAnnealingLR(_opts(), T_max=3)
    state = s.state_dict()
    assert "optimizer" not in state and state["T_max"] == 3 and state["last_epoch"] == 0


@pytest.mark.parametrize("make, exc, match", [
    (lambda o: sched.StepLR(o, step_size=0), ValueError, "StepLR: step_size must be > 0, got 0"),
    (lambda o: sched.StepLR(o, step_size=2.5), TypeError, "StepLR: step_size must be an integer"),
    (lambda o: sched.CosineAnnealingLR(o, T_max=0), ValueError, "CosineAnnealingLR: T_max"),
    (lambda o: sched.LambdaLR(o, [lambda e: 1.0]), ValueError, "expected 2 lr_lambdas"),
    (lambda o: sched.LambdaLR(o, 0.5), TypeError, "lr_lambda must be callable"),
    (lambda o: sched.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor must be < 1.0"),
    (lambda o: sched.ReduceLROnPlateau(o, mode="up"), ValueError, "mode must be 'min' or 'max'"),
    (lambda o: sched.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold_mode"),
    (lambda o: sched.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs"),
    (lambda o: sched.ReduceLROnPlateau(o, patience=-1), ValueError, "patience must be >= 0"),
    (lambda o: sched.StepLR("sgd", 2), TypeError, "expected a tensorlite Optimizer"),
])
def test_bad_arguments_are_clear_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make(_opts())


def test_reduce_on_plateau_rejects_a_non_numeric_metric():
    s = sched.ReduceLROnPlateau(_opts())
    with pytest.raises(TypeError, match="metric must be a number"):
        s.step("low")


def test_cosine_reaches_eta_min_at_t_max():
    o = _opts()
    s = sched.CosineAnnealingLR(o, T_max=5, eta_min=0.002)
    for _ in range(5):
        s.step()
    assert _lrs(o) == pytest.approx([0.002, 0.002], abs=1e-15)
    assert math.isclose(s.get_last_lr()[1], 0.002)
