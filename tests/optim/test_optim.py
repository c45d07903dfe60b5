"""Optimizers and schedules match PyTorch step for step (float64); state dicts round-trip."""
import numpy as np
import pytest

import tensorlite as tl
import tensorlite.optim as optim

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
]


def _trajectory(make_opt, params, grads):
    opt = make_opt(params)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = g
        opt.step()
    return opt


@pytest.mark.parametrize("name, kw", CONFIGS)
def test_matches_pytorch(name, kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0 = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    grads = [[rng.standard_normal(w.shape) for w in w0] for _ in range(10)]
    ours = [tl.tensor(w, requires_grad=True) for w in w0]
    theirs = [torch.tensor(w, requires_grad=True) for w in w0]
    _trajectory(lambda p: getattr(optim, name)(p, **kw), ours,
                [[tl.tensor(g) for g in gs] for gs in grads])
    _trajectory(lambda p: getattr(torch.optim, name)(p, **kw), theirs,
                [[torch.tensor(g) for g in gs] for gs in grads])
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_param_groups_have_their_own_hyperparameters():
    a, b = tl.ones(2, requires_grad=True), tl.ones(2, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad, b.grad = tl.ones(2), tl.ones(2)
    opt.step()
    np.testing.assert_allclose(a.numpy(), [0.9, 0.9])
    np.testing.assert_allclose(b.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("name, kw", CONFIGS[3:6] + CONFIGS[9:])
def test_state_dict_round_trip_continues_identically(name, kw, tmp_path):
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal(4)
    grads = [tl.tensor(rng.standard_normal(4)) for _ in range(6)]
    p = tl.tensor(w0, requires_grad=True)
    opt = getattr(optim, name)([p], **kw)
    for g in grads[:3]:
        p.grad = g
        opt.step()
    tl.save({"opt": opt.state_dict(), "w": p.detach()}, tmp_path / "ckpt.npz")
    ckpt = tl.load(tmp_path / "ckpt.npz")
    q = tl.tensor(ckpt["w"].numpy(), requires_grad=True)
    opt2 = getattr(optim, name)([q], **kw)
    opt2.load_state_dict(ckpt["opt"])
    for g in grads[3:]:
        p.grad = q.grad = g
        opt.step()
        opt2.step()
    np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_bad_hyperparameters_are_clear_errors():
    p = tl.ones(1, requires_grad=True)
    with pytest.raises(ValueError, match="SGD: invalid learning rate -1"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Adam: invalid betas"):
        optim.Adam([p], betas=(1.5, 0.9))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)


def test_zero_grad_and_skipping_parameters_without_grad():
    a, b = tl.ones(2, requires_grad=True), tl.ones(2, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.5)
    a.grad = tl.ones(2)
    opt.step()
    np.testing.assert_allclose(b.numpy(), [1, 1])
    opt.zero_grad()
    assert a.grad is None


@pytest.mark.parametrize("make, tmake", [
    (lambda o: optim.lr_scheduler.StepLR(o, 3, gamma=0.5),
     lambda t, o: t.optim.lr_scheduler.StepLR(o, 3, gamma=0.5)),
    (lambda o: optim.lr_scheduler.CosineAnnealingLR(o, 10, eta_min=0.01),
     lambda t, o: t.optim.lr_scheduler.CosineAnnealingLR(o, 10, eta_min=0.01)),
    (lambda o: optim.lr_scheduler.LambdaLR(o, lambda e: 0.9 ** e),
     lambda t, o: t.optim.lr_scheduler.LambdaLR(o, lambda e: 0.9 ** e)),
])
def test_schedules_match_pytorch(make, tmake):
    torch = pytest.importorskip("torch")
    o = optim.SGD([tl.ones(1, requires_grad=True)], lr=0.1)
    to = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=0.1)
    s, ts = make(o), tmake(torch, to)
    for _ in range(12):
        assert s.get_last_lr()[0] == pytest.approx(ts.get_last_lr()[0], rel=1e-12)
        o.step()
        to.step()
        s.step()
        ts.step()


def test_reduce_on_plateau_matches_pytorch():
    torch = pytest.importorskip("torch")
    kw = dict(mode="min", factor=0.5, patience=2, threshold=0.01, cooldown=1, min_lr=0.002)
    o = optim.SGD([tl.ones(1, requires_grad=True)], lr=0.1)
    to = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=0.1)
    s = optim.lr_scheduler.ReduceLROnPlateau(o, **kw)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(to, **kw)
    for metric in [5, 4, 4, 4, 4, 3.99, 4, 4, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 2]:
        s.step(metric)
        ts.step(metric)
        assert o.param_groups[0]["lr"] == pytest.approx(to.param_groups[0]["lr"], rel=1e-12)
