"""Optimizers: PyTorch's update rules step for step (float64, 1e-10), state dicts that resume
a trajectory exactly, parameter groups, and clear errors for bad hyper-parameters."""
import numpy as np
import pytest

import tensorlite as tl
import tensorlite.optim as optim

SHAPES = [(3, 4), (5,), ()]

# (optimizer name, constructor kwargs): every hyper-parameter path of the update rules.
CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.8, dampening=0.5, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.4))),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.7)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1, maximize=True)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for n, kw in CONFIGS]

# Several groups overriding different hyper-parameters of the defaults.
GROUP_CONFIGS = [
    ("SGD", dict(lr=0.1, momentum=0.9),
     [dict(), dict(lr=0.3, nesterov=True, weight_decay=0.01), dict(momentum=0.0)]),
    ("Adam", dict(lr=0.01),
     [dict(), dict(betas=(0.5, 0.9), amsgrad=True), dict(lr=0.1, weight_decay=0.2)]),
    ("AdamW", dict(lr=0.01),
     [dict(weight_decay=0.0), dict(lr=0.05), dict(amsgrad=True, weight_decay=0.3)]),
    ("RMSprop", dict(lr=0.01),
     [dict(centered=True), dict(momentum=0.9), dict(alpha=0.5, weight_decay=0.1)]),
]


def _problem(seed, steps=10, dtype=np.float64):
    """Initial weights and a gradient sequence; some parameters have no gradient sometimes."""
    rng = np.random.default_rng(seed)
    w0 = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[None if (k == 2 and t % 3 == 1) else rng.standard_normal(s).astype(dtype)
              for k, s in enumerate(SHAPES)] for t in range(steps)]
    return w0, grads


def _run(opt, params, grads, set_grad, after_step=None):
    for t, gs in enumerate(grads):
        for p, g in zip(params, gs):
            set_grad(p, g)
        opt.step()
        if after_step is not None:
            after_step(t)


def _tl_set(p, g):
    p.grad = None if g is None else tl.tensor(g)


def _groups(params, specs):
    return [dict(params=[p], **spec) for p, spec in zip(params, specs)]


def _compare_with_torch(name, kw, specs=None, dtype=np.float64, rtol=1e-10, atol=1e-12):
    torch = pytest.importorskip("torch")
    w0, grads = _problem(0, dtype=dtype)
    ours = [tl.tensor(w, requires_grad=True) for w in w0]
    theirs = [torch.tensor(w, requires_grad=True) for w in w0]
    a = getattr(optim, name)(ours if specs is None else _groups(ours, specs), **kw)
    b = getattr(torch.optim, name)(theirs if specs is None else _groups(theirs, specs), **kw)
    trajectory = []
    _run(b, theirs, grads, lambda p, g: setattr(p, "grad", None if g is None else torch.tensor(g)),
         lambda t: trajectory.append([p.detach().numpy().copy() for p in theirs]))

    def check(t):
        for k, (p, ref) in enumerate(zip(ours, trajectory[t])):
            assert p.dtype == dtype
            np.testing.assert_allclose(p.numpy(), ref, rtol=rtol, atol=atol,
                                       err_msg=f"step {t + 1}, parameter {k}")
    _run(a, ours, grads, _tl_set, check)
    return a, b


@pytest.mark.parametrize("name, kw", CONFIGS, ids=IDS)
def test_matches_pytorch_step_for_step_in_float64(name, kw):
    _compare_with_torch(name, kw)


@pytest.mark.parametrize("name, kw, specs", GROUP_CONFIGS, ids=[c[0] for c in GROUP_CONFIGS])
def test_parameter_groups_match_pytorch(name, kw, specs):
    _compare_with_torch(name, kw, specs)


@pytest.mark.parametrize("name, kw", [CONFIGS[5], CONFIGS[11], CONFIGS[16], CONFIGS[21]],
                         ids=["SGD", "Adam", "AdamW", "RMSprop"])
def test_float32_parameters_stay_float32_and_match_pytorch(name, kw):
    _compare_with_torch(name, kw, dtype=np.float32, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, kw", CONFIGS, ids=IDS)
def test_state_holds_pytorchs_entries(name, kw):
    a, b = _compare_with_torch(name, kw)
    ours, theirs = a.state_dict(), b.state_dict()
    assert set(ours["state"]) == set(theirs["state"])
    for k in theirs["state"]:
        assert set(ours["state"][k]) == set(theirs["state"][k]), k
        for key, v in theirs["state"][k].items():
            if key != "step":
                np.testing.assert_allclose(ours["state"][k][key].numpy(), v.numpy(),
                                           rtol=1e-9, atol=1e-12)
            else:
                assert ours["state"][k][key] == int(v.item())
    for g, tg in zip(ours["param_groups"], theirs["param_groups"]):
        assert g["params"] == tg["params"]
        for key in g:
            assert key in tg and g[key] == tg[key], key


@pytest.mark.parametrize("name, kw", CONFIGS, ids=IDS)
def test_step_updates_in_place_and_never_touches_the_gradient(name, kw):
    w0, grads = _problem(1, steps=3)
    params = [tl.tensor(w, requires_grad=True) for w in w0]
    arrays = [p._data for p in params]
    versions = [p._version[0] for p in params]
    opt = getattr(optim, name)(params, **kw)
    for gs in grads:
        for p, g in zip(params, gs):
            _tl_set(p, g)
        before = [None if p.grad is None else p.grad.numpy().copy() for p in params]
        opt.step()
        for p, g in zip(params, before):
            if g is not None:
                np.testing.assert_array_equal(p.grad.numpy(), g)
    assert all(p._data is a for p, a in zip(params, arrays))
    assert all(p._version[0] > v for p, v in zip(params, versions))  # autograd sees the change


@pytest.mark.parametrize("name, kw", CONFIGS, ids=IDS)
def test_state_dict_round_trip_through_a_file_continues_identically(name, kw, tmp_path):
    w0, grads = _problem(2, steps=9)
    a_params = [tl.tensor(w, requires_grad=True) for w in w0]
    a = getattr(optim, name)(a_params, **kw)
    _run(a, a_params, grads[:4], _tl_set)
    tl.save({"optimizer": a.state_dict(), "params": [p.detach() for p in a_params]},
            tmp_path / "ckpt.npz")
    ckpt = tl.load(tmp_path / "ckpt.npz")
    b_params = [tl.tensor(p.numpy().copy(), requires_grad=True) for p in ckpt["params"]]
    b = getattr(optim, name)(b_params, lr=123.0)  # hyper-parameters come from the state dict
    b.load_state_dict(ckpt["optimizer"])
    assert b.param_groups[0]["lr"] == a.param_groups[0]["lr"]
    _run(a, a_params, grads[4:], _tl_set)
    _run(b, b_params, grads[4:], _tl_set)
    for p, q in zip(a_params, b_params):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_state_dict_is_a_snapshot_and_load_copies():
    p = tl.tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = tl.tensor(np.ones(3))
    opt.step()
    sd = opt.state_dict()
    saved = sd["state"][0]["momentum_buffer"].numpy().copy()
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"].numpy(), saved)
    q = tl.tensor(np.ones(3), requires_grad=True)
    opt2 = optim.SGD([q], lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)
    q.grad = tl.tensor(np.ones(3))
    opt2.step()
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"].numpy(), saved)


def test_state_dict_numbers_parameters_across_groups_in_order():
    a, b, c = (tl.tensor(np.ones(2), requires_grad=True) for _ in range(3))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}])
    for p in (a, c):
        p.grad = tl.tensor(np.ones(2))
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sorted(sd["state"]) == [0, 2]
    assert sd["param_groups"][1]["lr"] == 0.5


def test_load_state_dict_casts_state_to_the_parameters_dtype():
    p = tl.tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p])
    p.grad = tl.tensor(np.ones(3))
    opt.step()
    q = tl.tensor(np.ones(3, np.float32), requires_grad=True)
    opt2 = optim.Adam([q])
    opt2.load_state_dict(opt.state_dict())
    assert opt2.state[q]["exp_avg"].dtype == np.float32
    assert opt2.state[q]["step"] == 1


@pytest.mark.parametrize("mutate, match", [
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])), "2 parameter groups"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), "group 0 has 1 parameters"),
    (lambda sd: sd["state"][0].update(exp_avg=tl.zeros(7)), "has shape"),
    (lambda sd: sd["state"].update({5: {}}), "parameter index 5"),
    (lambda sd: sd.pop("state"), "'state' and 'param_groups'"),
    (lambda sd: sd["param_groups"][0].update(lr=-1.0), "invalid learning rate -1.0"),
])
def test_bad_state_dicts_are_refused_and_leave_the_optimizer_unchanged(mutate, match):
    ps = [tl.tensor(np.ones(2), requires_grad=True) for _ in range(2)]
    opt = optim.Adam(ps, lr=0.1)
    for p in ps:
        p.grad = tl.tensor(np.ones(2))
    opt.step()
    sd = opt.state_dict()
    mutate(sd)
    fresh = optim.Adam(ps, lr=0.2)
    with pytest.raises(ValueError, match=match):
        fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["lr"] == 0.2 and not fresh.state


def test_parameters_without_gradient_are_skipped_and_keep_no_state():
    a, b = tl.tensor(np.ones(2), requires_grad=True), tl.tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([a, b], lr=0.5)
    a.grad = tl.tensor(np.ones(2))
    opt.step()
    np.testing.assert_array_equal(b.numpy(), [1.0, 1.0])
    assert b not in opt.state and opt.state[a]["step"] == 1


def test_frozen_parameters_are_accepted_and_never_move():
    # as PyTorch: optimizer over model.parameters() where some do not require grad
    frozen = tl.tensor(np.ones(2))
    live = tl.tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([frozen, live], lr=0.5)
    live.grad = tl.tensor(np.ones(2))
    opt.step()
    np.testing.assert_array_equal(frozen.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(live.numpy(), [0.5, 0.5])


def test_zero_grad_sets_to_none_or_zeroes_in_place():
    p = tl.tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = tl.tensor(np.ones(2))
    opt.zero_grad()
    assert p.grad is None
    p.grad = tl.tensor(np.ones(2))
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])


def test_step_with_closure_returns_its_loss_computed_with_grad_enabled():
    p = tl.tensor(np.array([3.0]), requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with tl.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(p.numpy(), [1.5])  # 3 - 0.25 * 6


def test_a_training_loop_through_autograd_converges():
    rng = np.random.default_rng(0)
    x = tl.tensor(rng.standard_normal((32, 3)))
    y = x @ tl.tensor(np.array([[1.0], [-2.0], [0.5]]))
    w = tl.zeros(3, 1, dtype=tl.float64, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        ((x @ w - y) ** 2).mean().backward()
        opt.step()
    np.testing.assert_allclose(w.numpy().ravel(), [1.0, -2.0, 0.5], atol=1e-3)


def test_changing_a_groups_hyperparameters_takes_effect():
    p = tl.tensor(np.zeros(1), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = tl.tensor(np.ones(1))
    opt.step()
    opt.param_groups[0]["lr"] = 1.0
    opt.step()
    np.testing.assert_allclose(p.numpy(), [-1.1])


def test_named_parameters_are_accepted_and_named_in_the_state_dict():
    a, b = tl.tensor(np.ones(2), requires_grad=True), tl.tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([("w", a), ("b", b)], lr=0.1)
    group = opt.param_groups[0]
    assert len(group["params"]) == 2 and group["params"][0] is a and group["params"][1] is b
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


def test_add_param_group_uses_the_defaults():
    a, b = tl.tensor(np.ones(1), requires_grad=True), tl.tensor(np.ones(1), requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": b, "lr": 0.2})
    assert opt.param_groups[1]["momentum"] == 0.5 and opt.param_groups[1]["lr"] == 0.2


P = tl.tensor(np.ones(1), requires_grad=True)


@pytest.mark.parametrize("make, exc, match", [
    (lambda: optim.SGD([P], lr=-1), ValueError, "SGD: invalid learning rate -1"),
    (lambda: optim.SGD([P], lr=float("nan")), ValueError, "SGD: invalid learning rate nan"),
    (lambda: optim.SGD([P], lr="0.1"), TypeError, "SGD: learning rate must be a real number"),
    (lambda: optim.SGD([P], momentum=-0.5), ValueError, "SGD: invalid momentum -0.5"),
    (lambda: optim.SGD([P], weight_decay=-1e-4), ValueError, "SGD: invalid weight_decay"),
    (lambda: optim.SGD([P], nesterov=True), ValueError, "SGD: nesterov momentum requires"),
    (lambda: optim.SGD([P], momentum=0.9, dampening=0.1, nesterov=True), ValueError, "nesterov"),
    (lambda: optim.Adam([P], betas=(1.0, 0.9)), ValueError,
     "Adam: invalid beta parameter at index 0: 1.0"),
    (lambda: optim.Adam([P], betas=(0.9, -0.1)), ValueError, "index 1: -0.1"),
    (lambda: optim.Adam([P], betas=0.9), ValueError, "betas must be a pair"),
    (lambda: optim.Adam([P], eps=-1e-8), ValueError, "Adam: invalid epsilon value"),
    (lambda: optim.AdamW([P], lr=-0.1), ValueError, "AdamW: invalid learning rate -0.1"),
    (lambda: optim.RMSprop([P], alpha=-0.1), ValueError, "RMSprop: invalid alpha value -0.1"),
    (lambda: optim.RMSprop([P], momentum=-1), ValueError, "RMSprop: invalid momentum value"),
    (lambda: optim.SGD([{"params": [P], "lr": -2}], lr=0.1), ValueError,
     "SGD: invalid learning rate -2"),
    (lambda: optim.SGD([], lr=0.1), ValueError, "SGD: got an empty parameter list"),
    (lambda: optim.SGD(P, lr=0.1), TypeError, "a single Tensor"),
    (lambda: optim.SGD({P}, lr=0.1), TypeError, "ordered collection"),
    (lambda: optim.SGD([np.ones(2)], lr=0.1), TypeError, "parameters must be Tensors"),
    (lambda: optim.SGD([P, P], lr=0.1), ValueError, "appears twice"),
    (lambda: optim.SGD([{"params": [P]}, {"params": [P]}]), ValueError, "more than one"),
    (lambda: optim.SGD([P * 2], lr=0.1), ValueError, "non-leaf"),
])
def test_bad_arguments_are_clear_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_a_gradient_of_the_wrong_shape_is_a_clear_error():
    p = tl.tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = tl.tensor(np.ones(4))
    with pytest.raises(RuntimeError, match=r"SGD.step: gradient of shape \(4,\) for a "
                                           r"parameter of shape \(3,\)"):
        opt.step()
    np.testing.assert_array_equal(p.numpy(), np.ones(3))


def test_state_survives_a_change_of_the_parameters_dtype():
    # nn's Module.double() replaces .data; the Tensor, and so its state, stays the same
    p = tl.tensor(np.ones(2, np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = tl.ones(2)
    opt.step()
    p._data = p._data.astype(np.float64)
    p.grad = tl.tensor(np.ones(2))
    opt.step()
    assert opt.state[p]["step"] == 2 and p.dtype == np.float64
