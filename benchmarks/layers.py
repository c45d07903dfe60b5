"""Workloads of issue 16: the layers and steps the lecture's networks use beyond the first
ten rows (batch norm, depthwise/grouped/transposed/1x1 convolution, a ResNet step, GRU,
bidirectional LSTM, an Adam step). Each returns (name, ours, theirs, calls per round) rows
for ``benchmarks/run.py``; ``theirs`` is None without PyTorch.
"""
from __future__ import annotations

import numpy as np

import tensorlite as tl


def _fwd_bwd(name, ours_fn, torch_fn, inputs, number):
    """A row timing fn(*inputs) forward + backward (a ones gradient) for both libraries.

    ``inputs`` are numpy arrays; floating ones require grad in both libraries.
    """
    ts = [tl.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    out = ours_fn(*ts)
    g = tl.ones(*out.shape)

    def ours():
        for t in ts:
            t.grad = None
        ours_fn(*ts).backward(g)
    theirs = None
    if torch_fn is not None:
        import torch
        Ts = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
        G = torch.ones(*out.shape)

        def theirs():
            for t in Ts:
                t.grad = None
            torch_fn(*Ts).backward(G)
    return (name, ours, theirs, number)


def w_batchnorm(torch):
    import nn
    rows = []
    rng = np.random.default_rng(0)
    for label, shape, mk, tmk in [
            ("BatchNorm2d (32,64,32,32)", (32, 64, 32, 32), nn.BatchNorm2d,
             None if torch is None else torch.nn.BatchNorm2d),
            ("BatchNorm1d (512,256)", (512, 256), nn.BatchNorm1d,
             None if torch is None else torch.nn.BatchNorm1d)]:
        xa = rng.standard_normal(shape).astype(np.float32)
        for mode in ("train", "eval"):
            m = mk(shape[1])
            m.train(mode == "train")
            tm = None
            if torch is not None:
                tm = tmk(shape[1])
                tm.train(mode == "train")
            rows.append(_module_row(f"{label} {mode} fwd+bwd", m, tm, xa, 10))
    return rows


def _module_row(name, m, tm, xa, number):
    x = tl.tensor(xa, requires_grad=True)
    g = tl.ones(*m(x).shape)

    def ours():
        x.grad = None
        m.zero_grad()
        m(x).backward(g)
    theirs = None
    if tm is not None:
        import torch
        X = torch.tensor(xa, requires_grad=True)
        G = torch.ones(*tm(X).shape)

        def theirs():
            X.grad = None
            tm.zero_grad()
            tm(X).backward(G)
    return (name, ours, theirs, number)


def w_conv_variants(torch):
    import nn.functional as F
    tf = None if torch is None else torch.nn.functional
    rng = np.random.default_rng(0)
    rows = []

    def conv_row(name, xshape, wshape, number, **kw):
        xa = rng.standard_normal(xshape).astype(np.float32)
        wa = (rng.standard_normal(wshape) * 0.1).astype(np.float32)
        rows.append(_fwd_bwd(name, lambda x, w: F.conv2d(x, w, **kw),
                             None if tf is None else lambda x, w: tf.conv2d(x, w, **kw),
                             [xa, wa], number))

    conv_row("depthwise conv2d 64ch groups=64 (32,64,32,32) k3 p1", (32, 64, 32, 32),
             (64, 1, 3, 3), 5, padding=1, groups=64)
    conv_row("grouped conv2d 64->64 groups=4 (32,64,32,32) k3 p1", (32, 64, 32, 32),
             (64, 16, 3, 3), 3, padding=1, groups=4)
    conv_row("conv2d 1x1 256->64 (32,256,16,16)", (32, 256, 16, 16), (64, 256, 1, 1), 5)
    xa = rng.standard_normal((32, 64, 16, 16)).astype(np.float32)
    wa = (rng.standard_normal((64, 32, 4, 4)) * 0.1).astype(np.float32)
    rows.append(_fwd_bwd("conv_transpose2d 64->32 k4 s2 p1 (32,64,16,16)",
                         lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1),
                         None if tf is None else
                         lambda x, w: tf.conv_transpose2d(x, w, stride=2, padding=1),
                         [xa, wa], 3))
    return rows


def _torch_resnet(torch, widths=(32, 64, 128), in_ch=3, stem=None, first_stride=1,
                  num_classes=10):
    """models.ResNet's 'basic' (1, 1, 1) network written in PyTorch, module for module."""
    tnn = torch.nn

    class Block(tnn.Module):
        def __init__(self, cin, w, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, w, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(w)
            self.conv2 = tnn.Conv2d(w, w, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(w)
            self.shortcut = tnn.Identity() if stride == 1 and cin == w else tnn.Sequential(
                tnn.Conv2d(cin, w, 1, stride, bias=False), tnn.BatchNorm2d(w))

        def forward(self, x):
            out = self.bn1(self.conv1(x)).relu()
            out = self.bn2(self.conv2(out))
            return (out + self.shortcut(x)).relu()

    stem = stem or widths[0]
    layers = [tnn.Conv2d(in_ch, stem, 3, padding=1, bias=False), tnn.BatchNorm2d(stem),
              tnn.ReLU()]
    cin = stem
    for i, w in enumerate(widths):
        layers.append(Block(cin, w, 2 if i > 0 else first_stride))
        cin = w
    layers += [tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Linear(cin, num_classes)]
    return tnn.Sequential(*layers)


def w_resnet(torch):
    import nn.functional as F
    from models import ResNet
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((32, 3, 32, 32)).astype(np.float32)
    ya = rng.integers(0, 10, 32)
    tl.manual_seed(0)
    model = ResNet("basic", (1, 1, 1), (32, 64, 128), 10, in_channels=3)
    opt = tl.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = tl.tensor(xa), tl.tensor(ya)

    def ours():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    theirs = None
    if torch is not None:
        tmodel = _torch_resnet(torch)
        topt = torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9)
        X, Y = torch.tensor(xa), torch.tensor(ya)

        def theirs():
            topt.zero_grad()
            torch.nn.functional.cross_entropy(tmodel(X), Y).backward()
            topt.step()
    return [("ResNet step (3 BasicBlocks+BN, 32-128, 32x32, batch 32, SGD)", ours, theirs, 3)]


def w_rnn_variants(torch):
    import nn
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((35, 20, 200)).astype(np.float32)
    rows = []
    for label, cls, kw in [("bidirectional LSTM 2 layers", "LSTM", dict(bidirectional=True)),
                           ("GRU 2 layers", "GRU", {})]:
        tl.manual_seed(0)
        m = getattr(nn, cls)(200, 200, 2, **kw)
        x = tl.tensor(xa, requires_grad=True)

        def ours(m=m, x=x):
            m.zero_grad()
            x.grad = None
            out, _ = m(x)
            out.sum().backward()
        theirs = None
        if torch is not None:
            tm = getattr(torch.nn, cls)(200, 200, 2, **kw)
            X = torch.tensor(xa, requires_grad=True)

            def theirs(tm=tm, X=X):
                tm.zero_grad()
                X.grad = None
                out, _ = tm(X)
                out.sum().backward()
        rows.append((f"{label}, seq 35, batch 20, 200->200 fwd+bwd", ours, theirs, 3))
    return rows


def w_adam(torch):
    # ~5M parameters in a few tensors of the sizes a small model has.
    rng = np.random.default_rng(0)
    shapes = [(2000, 2000), (1000, 500), (500,), (200, 200, 3, 3), (10000, 5)]
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ps = [tl.tensor(a.copy(), requires_grad=True) for a in arrays]
    for p, g in zip(ps, grads):
        p.grad = tl.tensor(g)
    opt = tl.optim.Adam(ps, lr=1e-3)
    n = sum(a.size for a in arrays)
    theirs = None
    if torch is not None:
        Ps = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
        for p, g in zip(Ps, grads):
            p.grad = torch.tensor(g)
        topt = torch.optim.Adam(Ps, lr=1e-3)
        theirs = topt.step
    return [(f"Adam step over {n / 1e6:.1f}M parameters", opt.step, theirs, 10)]
