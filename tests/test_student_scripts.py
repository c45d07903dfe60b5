"""Training scripts as a PyTorch user writes them, ported by renaming ``torch`` to ``tl``.

Each script is written once against a backend namespace (``T`` = torch or tensorlite, plus
``nn``, ``F``, ``optim``, ``data``) and run on both with the same float64 initial weights;
the losses (and learning rates, running statistics, ...) must agree step by step to 1e-10.
Without PyTorch, the tensorlite run still checks what it can on its own (a resumed run is
identical to an uninterrupted one, losses are finite and fall).
"""
import os
import types

import numpy as np
import pytest

import nn
import nn.functional as F
import tensorlite as tl
import tensorlite.data as tldata

TL = types.SimpleNamespace(T=tl, nn=nn, F=F, optim=tl.optim, data=tldata, name="tl")


def _torch_backend():
    torch = pytest.importorskip("torch")
    import torch.nn
    import torch.nn.functional
    import torch.optim
    import torch.utils.data
    return types.SimpleNamespace(T=torch, nn=torch.nn, F=torch.nn.functional,
                                 optim=torch.optim, data=torch.utils.data, name="torch")


def _state_of(model):
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _side_by_side(build, train, tol=1e-10):
    """Train ``build(backend)`` with ``train(backend, model)`` on tensorlite and, when it is
    importable, on PyTorch from PyTorch's initial weights; return tensorlite's results."""
    try:
        TB = _torch_backend()
    except pytest.skip.Exception:
        TB = None
    ml = build(TL)
    if TB is not None:
        mt = build(TB)
        ml.load_state_dict(_state_of(mt))
        theirs = train(TB, mt)
    ours = train(TL, ml)
    if TB is not None:
        for k, (a, b) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=tol,
                                       atol=tol, err_msg=f"result {k}")
    return ours


def _finite_and_falling(losses):
    losses = np.asarray(losses)
    assert np.isfinite(losses).all()
    assert losses[-3:].mean() < losses[:3].mean()


# (1) MLP regression: MSELoss, Adam, StepLR.
def test_mlp_regression_adam_steplr():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5))
    Y = X @ rng.normal(size=(5, 1)) + 0.1 * rng.normal(size=(64, 1))

    def build(B):
        return B.nn.Sequential(B.nn.Linear(5, 16), B.nn.ReLU(), B.nn.Linear(16, 1)).double()

    def train(B, model):
        x, y = B.T.tensor(X), B.T.tensor(Y)
        opt = B.optim.Adam(model.parameters(), lr=1e-2)
        sched = B.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        loss_fn = B.nn.MSELoss()
        losses, lrs = [], []
        for epoch in range(8):
            for i in range(0, 64, 16):
                opt.zero_grad()
                loss = loss_fn(model(x[i:i + 16]), y[i:i + 16])
                loss.backward()
                opt.step()
                losses.append(loss.item())
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        return losses, lrs

    losses, lrs = _side_by_side(build, train)
    _finite_and_falling(losses)
    assert lrs[-1] == pytest.approx(1e-2 * 0.5 ** 2)


# (2) CNN: Conv2d/BatchNorm2d/MaxPool2d/Dropout(p=0), SGD momentum + weight decay,
# train()/eval() and no_grad() evaluation.
def test_cnn_classifier_sgd_train_eval():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(16, 3, 8, 8))
    Y = rng.integers(0, 4, size=16)

    def build(B):
        class Net(B.nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = B.nn.Conv2d(3, 6, 3, padding=1)
                self.bn = B.nn.BatchNorm2d(6)
                self.pool = B.nn.MaxPool2d(2)
                self.drop = B.nn.Dropout(0.0)
                self.fc = B.nn.Linear(6 * 4 * 4, 4)

            def forward(self, x):
                x = self.pool(B.F.relu(self.bn(self.conv(x))))
                return self.fc(self.drop(x.view(x.size(0), -1)))
        return Net().double()

    def train(B, model):
        opt = B.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        crit = B.nn.CrossEntropyLoss()
        x, y = B.T.tensor(X), B.T.tensor(Y)
        losses, evals = [], []
        for epoch in range(3):
            model.train()
            for i in range(0, 16, 8):
                opt.zero_grad()
                loss = crit(model(x[i:i + 8]), y[i:i + 8])
                loss.backward()
                opt.step()
                losses.append(loss.item())
            model.eval()
            with B.T.no_grad():
                out = model(x)
                evals += [crit(out, y).item(), (out.argmax(dim=1) == y).float().mean().item()]
        return losses, evals, model.bn.running_mean.detach().numpy().copy(), \
            model.bn.running_var.detach().numpy().copy()

    losses, evals, _, _ = _side_by_side(build, train)
    assert np.isfinite(losses).all() and np.isfinite(evals).all()


# (3) char-level LSTM: hidden state carried across batches and detached, clip_grad_norm_,
# CosineAnnealingLR.
def test_char_lstm_truncated_bptt_clip_cosine():
    text = "hello world, a tiny corpus for a char level lstm. " * 2
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    V, bs, seq = len(chars), 4, 6
    n = (len(ids) - 1) // (bs * seq) * bs * seq

    def build(B):
        class CharRNN(B.nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = B.nn.Embedding(V, 8)
                self.lstm = B.nn.LSTM(8, 12, num_layers=2, batch_first=True)
                self.fc = B.nn.Linear(12, V)

            def forward(self, x, h=None):
                out, h = self.lstm(self.emb(x), h)
                return self.fc(out), h
        return CharRNN().double()

    def train(B, model):
        xs = B.T.tensor(ids[:n].reshape(bs, -1))
        ys = B.T.tensor(ids[1:n + 1].reshape(bs, -1))
        opt = B.optim.Adam(model.parameters(), lr=3e-3)
        sched = B.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=1e-4)
        losses, norms, lrs = [], [], []
        for epoch in range(3):
            h = None
            for t in range(0, xs.shape[1], seq):
                if h is not None:
                    h = tuple(s.detach() for s in h)
                logits, h = model(xs[:, t:t + seq], h)
                loss = B.F.cross_entropy(logits.reshape(-1, V), ys[:, t:t + seq].reshape(-1))
                opt.zero_grad()
                loss.backward()
                norms.append(float(B.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)))
                opt.step()
                losses.append(loss.item())
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        return losses, norms, lrs

    losses, norms, _ = _side_by_side(build, train)
    _finite_and_falling(losses)


# (4) Bengio-style neural LM: embedding rows concatenated, softmax + multinomial sampling.
def test_bengio_nplm_concatenated_embeddings_and_sampling():
    rng = np.random.default_rng(2)
    V, ctx, E = 12, 3, 5
    corpus = rng.integers(0, V, size=120)
    Xn = np.stack([corpus[i:i + ctx] for i in range(len(corpus) - ctx)])
    Yn = corpus[ctx:]
    batches = rng.integers(0, len(Xn), size=(15, 16))

    def build(B):
        class NPLM(B.nn.Module):
            def __init__(self):
                super().__init__()
                self.C = B.nn.Embedding(V, E)
                self.hidden = B.nn.Linear(ctx * E, 20)
                self.out = B.nn.Linear(20, V)

            def forward(self, x):
                e = self.C(x).view(x.shape[0], -1)
                return self.out(B.T.tanh(self.hidden(e)))
        return NPLM().double()

    def train(B, model):
        x, y = B.T.tensor(Xn), B.T.tensor(Yn)
        opt = B.optim.SGD(model.parameters(), lr=0.1)
        losses = []
        for rows in batches:
            idx = B.T.tensor(rows)
            loss = B.F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with B.T.no_grad():
            probs = B.F.softmax(model(x[:4]), dim=-1)
            # the view of concatenated rows is the same as concatenating per-position lookups
            cat = B.T.cat([model.C(x[:4, i]) for i in range(ctx)], dim=1)
            same = (cat - model.C(x[:4]).view(4, -1)).abs().max().item()
        return losses, probs.numpy(), [same]

    losses, probs, _ = _side_by_side(build, train)
    p = tl.tensor(probs)
    tl.manual_seed(0)
    draws = tl.multinomial(p, 2000, replacement=True)
    assert draws.shape == (4, 2000) and draws.dtype == tl.int64
    freq = np.stack([np.bincount(r, minlength=V) for r in draws.numpy()]) / 2000
    np.testing.assert_allclose(freq, probs, atol=0.05)
    assert tl.multinomial(p[0], 1).shape == (1,)


# (5) bag-of-embeddings classifier with padding_idx and a mask over the padding.
def test_bag_of_embeddings_padding_idx_masking():
    rng = np.random.default_rng(4)
    V, E, C, L, N = 20, 6, 3, 5, 24
    toks = np.zeros((N, L), dtype=np.int64)
    for i, k in enumerate(rng.integers(1, L + 1, size=N)):
        toks[i, :k] = rng.integers(1, V, size=k)
    labels = rng.integers(0, C, size=N)

    def build(B):
        class Bag(B.nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = B.nn.Embedding(V, E, padding_idx=0)
                self.fc = B.nn.Linear(E, C)

            def forward(self, x):
                mask = (x != 0).unsqueeze(-1).to(self.emb.weight.dtype)
                mean = (self.emb(x) * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
                return self.fc(mean)
        return Bag().double()

    def train(B, model):
        x, y = B.T.tensor(toks), B.T.tensor(labels)
        opt = B.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.01)
        losses, pad_grads = [], []
        for step in range(10):
            opt.zero_grad()
            loss = B.F.cross_entropy(model(x), y)
            loss.backward()
            pad_grads.append(model.emb.weight.grad[0].abs().sum().item())
            opt.step()
            losses.append(loss.item())
        return losses, pad_grads, model.emb.weight.detach().numpy().copy()

    assert np.all(nn.Embedding(V, E, padding_idx=0).weight.numpy()[0] == 0)
    losses, pad_grads, weight = _side_by_side(build, train)
    assert pad_grads == [0.0] * 10
    _finite_and_falling(losses)


# (6) DataLoader(TensorDataset(...), batch_size, shuffle=True) with a custom collate_fn.
def test_dataloader_shuffle_custom_collate_trains():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 4))
    Y = rng.integers(0, 3, size=30)
    model = nn.Linear(4, 3).double()
    opt = tl.optim.SGD(model.parameters(), lr=0.1)

    def collate(batch):
        xs, ys = zip(*batch)
        return {"x": tl.stack(xs), "y": tl.stack(ys), "n": len(xs)}

    ds = tldata.TensorDataset(tl.tensor(X), tl.tensor(Y))
    loader = tldata.DataLoader(ds, batch_size=8, shuffle=True, collate_fn=collate)
    assert len(loader) == 4
    seen, losses = [], []
    for batch in loader:
        assert batch["x"].shape == (batch["n"], 4) and batch["y"].dtype == tl.int64
        # the rows of a batch are rows of the data set, each label with its features
        for xr, yr in zip(batch["x"].numpy(), batch["y"].numpy()):
            k = int(np.flatnonzero((X == xr).all(1))[0])
            seen.append(k)
            assert Y[k] == yr
        opt.zero_grad()
        loss = F.cross_entropy(model(batch["x"]), batch["y"])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sorted(seen) == list(range(30)) and seen != list(range(30))
    assert [b["n"] for b in loader] == [8, 8, 8, 6]
    assert np.isfinite(losses).all()


def test_dataloader_default_collate_matches_pytorch_batches():
    TB = _torch_backend()
    samples = [(np.full(3, i, np.float64), i, float(i) / 2, {"a": np.ones(2) * i}) for i in range(5)]
    for B in (TL, TB):
        batches = list(B.data.DataLoader(samples, batch_size=2))
        if B is TL:
            ours = batches
        else:
            theirs = batches
    for a, b in zip(ours, theirs):
        for u, v in zip(a[:3], b[:3]):
            assert str(u.dtype).split(".")[-1] == str(v.dtype).split(".")[-1]
            np.testing.assert_array_equal(u.numpy(), v.numpy())
        np.testing.assert_array_equal(a[3]["a"].numpy(), b[3]["a"].numpy())


# (7) ReduceLROnPlateau driven by a validation loss (passed as a 0-dim tensor).
@pytest.mark.parametrize("kw", [dict(mode="min", factor=0.5, patience=2),
                                dict(factor=0.1, patience=0, threshold=0.1, threshold_mode="abs",
                                     cooldown=2, min_lr=1e-3)])
def test_reduce_lr_on_plateau_from_validation_loss(kw):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(40, 3))
    Y = np.sin(X.sum(1, keepdims=True)) + 0.3 * rng.normal(size=(40, 1))

    def build(B):
        return B.nn.Sequential(B.nn.Linear(3, 16), B.nn.ReLU(), B.nn.Linear(16, 1)).double()

    def train(B, model):
        opt = B.optim.SGD(model.parameters(), lr=0.3, momentum=0.5)
        sched = B.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        out = []
        for epoch in range(25):
            model.train()
            opt.zero_grad()
            loss = B.F.mse_loss(model(B.T.tensor(X[10:])), B.T.tensor(Y[10:]))
            loss.backward()
            opt.step()
            model.eval()
            with B.T.no_grad():
                val = B.F.mse_loss(model(B.T.tensor(X[:10])), B.T.tensor(Y[:10]))
            sched.step(val)
            out.append([loss.item(), val.item(), opt.param_groups[0]["lr"]])
        return out, [sched.best, sched.num_bad_epochs, sched.cooldown_counter]

    out, _ = _side_by_side(build, train)
    assert np.asarray(out)[-1, 2] < 0.3      # the plateau did lower the learning rate


# (8) save a checkpoint, load it, continue: identical to the uninterrupted run.
def test_checkpoint_resume_is_identical_to_uninterrupted_run(tmp_path):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 4))
    Y = rng.integers(0, 3, size=40)
    tl.manual_seed(3)
    init = _state_of(nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.Tanh(),
                                   nn.Linear(16, 3)).double())

    def make():
        model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.Tanh(),
                              nn.Linear(16, 3)).double()
        model.load_state_dict(init)
        opt = tl.optim.Adam(model.parameters(), lr=0.02, amsgrad=True)
        return (model, opt, tl.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.7),
                tl.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5))

    def epoch(model, opt, sched, plateau, losses):
        model.train()
        for i in range(0, 40, 10):
            opt.zero_grad()
            loss = F.cross_entropy(model(tl.tensor(X[i:i + 10])), tl.tensor(Y[i:i + 10]))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        sched.step()
        plateau.step(losses[-1])

    model, opt, sched, plateau = make()
    full = []
    for ep in range(8):
        epoch(model, opt, sched, plateau, full)
    full_state = _state_of(model)
    full_lrs = [g["lr"] for g in opt.param_groups]

    model, opt, sched, plateau = make()
    part = []
    for ep in range(4):
        epoch(model, opt, sched, plateau, part)
    path = os.path.join(tmp_path, "ck.pt")
    tl.save({"model": model.state_dict(), "optim": opt.state_dict(),
             "sched": sched.state_dict(), "plateau": plateau.state_dict(), "epoch": ep,
             "losses": part}, path)

    ck = tl.load(path)
    model, opt, sched, plateau = make()
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optim"])
    sched.load_state_dict(ck["sched"])
    plateau.load_state_dict(ck["plateau"])
    resumed = list(ck["losses"])
    for ep in range(ck["epoch"] + 1, 8):
        epoch(model, opt, sched, plateau, resumed)
    assert resumed == full
    for k, v in _state_of(model).items():
        np.testing.assert_array_equal(v, full_state[k], err_msg=k)
    assert [g["lr"] for g in opt.param_groups] == full_lrs
    assert full_lrs[0] < 0.02 * 0.7 ** 2         # both schedules acted on the run


# Schedules students reach for beyond the three in DESIGN.md: MultiStepLR, ExponentialLR.
SCHEDULES = {
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 7], gamma=0.5),
    "MultiStepLR-unsorted": lambda m, o: m.MultiStepLR(o, milestones=[6, 1], gamma=0.5),
    "MultiStepLR-at-0": lambda m, o: m.MultiStepLR(o, milestones=[0, 3], gamma=0.5),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "Exponential+MultiStep": lambda m, o: (m.ExponentialLR(o, gamma=0.9),
                                           m.MultiStepLR(o, milestones=[3], gamma=0.1))[1],
}


@pytest.mark.parametrize("jump", [False, True], ids=["step()", "step(epoch)"])
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_more_schedules_match_pytorch(name, jump):
    import warnings
    TB = _torch_backend()
    seqs = []
    for B in (TL, TB):
        opt = B.optim.SGD([B.nn.Parameter(B.T.zeros(2, dtype=B.T.float64))], lr=0.1)
        opt.add_param_group({"params": [B.nn.Parameter(B.T.zeros(1, dtype=B.T.float64))],
                             "lr": 0.3})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # PyTorch deprecates step(epoch)
            s = SCHEDULES[name](B.optim.lr_scheduler, opt)
            seq = [[g["lr"] for g in opt.param_groups]]
            for e in range(1, 9):
                opt.step()
                s.step(e) if jump else s.step()
                seq.append(s.get_last_lr())
        seqs.append(seq)
    np.testing.assert_allclose(seqs[0], seqs[1], rtol=1e-14, atol=0)


def test_multisteplr_state_dict_resumes_and_saves(tmp_path):
    sched = tl.optim.lr_scheduler
    opt = tl.optim.SGD([tl.zeros(2, requires_grad=True)], lr=0.1)
    s = sched.MultiStepLR(opt, [2, 4], 0.1)
    for _ in range(3):
        opt.step()
        s.step()
    path = os.path.join(tmp_path, "s.pt")
    tl.save({"s": s.state_dict(), "o": opt.state_dict()}, path)
    ck = tl.load(path)
    opt2 = tl.optim.SGD([tl.zeros(2, requires_grad=True)], lr=0.1)
    opt2.load_state_dict(ck["o"])
    s2 = sched.MultiStepLR(opt2, [2, 4], 0.1)
    s2.load_state_dict(ck["s"])
    got = []
    for _ in range(3):
        opt2.step()
        s2.step()
        got.append(s2.get_last_lr()[0])
    np.testing.assert_allclose(got, [0.1 * 0.1 ** 2] * 3, rtol=1e-14)


@pytest.mark.parametrize("make, match", [
    (lambda m, o: m.MultiStepLR(o, milestones=3), "milestones"),
    (lambda m, o: m.MultiStepLR(o, milestones=[1, -2]), "milestone"),
    (lambda m, o: m.MultiStepLR(o, milestones=[1.5]), "milestone"),
    (lambda m, o: m.ExponentialLR(o, gamma="0.9"), "gamma"),
])
def test_more_schedules_reject_bad_arguments_before_touching_lr(make, match):
    opt = tl.optim.SGD([tl.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises((TypeError, ValueError), match=match):
        make(tl.optim.lr_scheduler, opt)
    assert opt.param_groups[0]["lr"] == 0.1 and "initial_lr" not in opt.param_groups[0]
