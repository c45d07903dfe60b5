"""Adagrad, Adadelta and L-BFGS take PyTorch's steps (float64, a small tanh regression)."""
import numpy as np
import pytest

import tensorlite as tl

torch = pytest.importorskip("torch")

_rng = np.random.default_rng(0)
X = _rng.normal(size=(30, 3))
Y = np.tanh(X @ _rng.normal(size=(3, 2))) + 0.1 * _rng.normal(size=(30, 2))
INIT = (_rng.normal(size=(5, 3)) * 0.5, _rng.normal(size=5) * 0.1, _rng.normal(size=(2, 5)) * 0.5)


def _train(T, name, kw, steps=4):
    ps = [T.tensor(a.copy(), requires_grad=True) for a in INIT]
    x, y = T.tensor(X), T.tensor(Y)
    opt = getattr(T.optim, name)(ps, **kw)

    def closure():
        opt.zero_grad()
        loss = (((T.tanh(x @ ps[0].T + ps[1]) @ ps[2].T) - y) ** 2).mean()
        loss.backward()
        return loss
    losses = [float(opt.step(closure).detach()) for _ in range(2 if name == "LBFGS" else steps)]
    extra = []
    if name == "LBFGS":
        st = opt.state[ps[0]]
        extra = [st["func_evals"], st["n_iter"], float(st["t"])]
    return losses, [p.detach().numpy().copy() for p in ps], extra


@pytest.mark.parametrize("name, kw", [
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.05, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.01)),
    ("LBFGS", dict()),
    ("LBFGS", dict(lr=0.5, history_size=3, max_iter=7)),
    ("LBFGS", dict(line_search_fn="strong_wolfe")),
    ("LBFGS", dict(line_search_fn="strong_wolfe", history_size=2, max_iter=9, max_eval=11)),
])
def test_steps_match_pytorch(name, kw):
    ours, theirs = _train(tl, name, kw), _train(torch, name, kw)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-14)
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    assert ours[2][:2] == theirs[2][:2]        # the same number of evaluations / iterations
    np.testing.assert_allclose(ours[2][2:], theirs[2][2:], rtol=1e-9)


def test_lbfgs_needs_a_closure_and_one_group():
    p = tl.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="LBFGS.step: needs a closure"):
        tl.optim.LBFGS([p]).step()
    with pytest.raises(ValueError, match="parameter groups"):
        tl.optim.LBFGS([{"params": [p]}, {"params": [tl.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        tl.optim.LBFGS([p], line_search_fn="backtracking")


def test_lbfgs_converges_on_rosenbrock_as_pytorch():
    def run(T):
        xy = T.tensor([-1.5, 2.0], dtype=T.float64, requires_grad=True)
        opt = T.optim.LBFGS([xy], lr=1, max_iter=100, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            f = (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2
            f.backward()
            return f
        opt.step(closure)
        return xy.detach().numpy()
    np.testing.assert_allclose(run(tl), [1.0, 1.0], atol=1e-4)
    np.testing.assert_allclose(run(tl), run(torch), atol=1e-9)


def test_invalid_hyperparameters_named():
    p = [tl.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="Adadelta: invalid rho"):
        tl.optim.Adadelta(p, rho=1.5)
    with pytest.raises(ValueError, match="Adagrad: invalid lr_decay"):
        tl.optim.Adagrad(p, lr_decay=-1)


@pytest.mark.parametrize("opt_name, opt_kw, kw", [
    ("SGD", dict(lr=0.1, momentum=0.9), dict(max_lr=0.5, total_steps=20)),
    ("SGD", dict(lr=0.1, momentum=0.9), dict(max_lr=[0.5], epochs=4, steps_per_epoch=5,
                                             pct_start=0.25, anneal_strategy="linear")),
    ("Adam", dict(lr=1e-3), dict(max_lr=0.01, total_steps=17, three_phase=True,
                                 div_factor=10.0, final_div_factor=100.0)),
    ("SGD", dict(lr=0.1), dict(max_lr=0.3, total_steps=10, cycle_momentum=False)),
])
def test_one_cycle_lr_matches_pytorch(opt_name, opt_kw, kw):
    def run(T):
        opt = getattr(T.optim, opt_name)([T.zeros(2, requires_grad=True)], **opt_kw)
        sched = T.optim.lr_scheduler.OneCycleLR(opt, **kw)
        seen = []
        for _ in range(sched.total_steps - 1):
            opt.step()
            sched.step()
            g = opt.param_groups[0]
            seen.append([g["lr"], g["betas"][0] if "betas" in g else g.get("momentum", 0.0)])
        return np.array(seen)
    np.testing.assert_allclose(run(tl), run(torch), rtol=1e-12, atol=1e-15)


def test_one_cycle_lr_refuses_stepping_past_the_end():
    opt = tl.optim.SGD([tl.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = tl.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="OneCycleLR: tried to step 3 times"):
        sched.step()
    with pytest.raises(ValueError, match="total_steps OR"):
        tl.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0)
