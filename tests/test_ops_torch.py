"""Second layer: forward and gradients of every op compared with PyTorch (float64).

Skipped, not failed, when PyTorch is not installed.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tensorlite as tl
from tensorlite.testing.opinfo import op_db

torch = pytest.importorskip("torch")

OPS = [pytest.param(info, id=info.name) for info in op_db if info.torch_fn is not None]


@pytest.mark.parametrize("info", OPS)
@given(data=st.data())
def test_matches_pytorch(info, data):
    sample = data.draw(info.samples())
    ours, theirs = [], []
    for a in sample.args:
        if isinstance(a, np.ndarray):
            grad = a.dtype.kind == "f"
            ours.append(tl.tensor(a, requires_grad=grad))
            theirs.append(torch.tensor(a, requires_grad=grad))
        else:
            ours.append(a)
            theirs.append(a)
    out = info.op(*ours, **sample.kwargs)
    ref = info.torch_fn(torch, *theirs, **sample.kwargs)
    outs = out if isinstance(out, tuple) else (out,)
    refs = ref if isinstance(ref, tuple) else (ref,)
    for o, r in zip(outs, refs):
        np.testing.assert_allclose(o._data, r.detach().numpy(), atol=info.atol * 10 + 1e-12,
                                   rtol=1e-7)
    rng = np.random.default_rng(0)
    seeds = [rng.standard_normal(o.shape) for o in outs]
    diff_ours = [t for t in ours if isinstance(t, tl.Tensor) and t.requires_grad]
    diff_theirs = [t for t in theirs if isinstance(t, torch.Tensor) and t.requires_grad]
    g_ours = tl.autograd.grad(list(outs), diff_ours, [tl.tensor(s, dtype=o.dtype)
                                                      for s, o in zip(seeds, outs)],
                              allow_unused=True)
    g_theirs = torch.autograd.grad(list(refs), diff_theirs,
                                   [torch.tensor(s, dtype=r.dtype) for s, r in zip(seeds, refs)],
                                   allow_unused=True)
    for go, gt in zip(g_ours, g_theirs):
        if gt is None:
            assert go is None or not np.any(go._data)
            continue
        np.testing.assert_allclose(go._data, gt.numpy(), atol=1e-9, rtol=1e-7)
