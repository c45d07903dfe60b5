"""Probe-review regressions for recurrent layers, optimizers, schedules and serialization:
PyTorch parity (float64) in the corners the main suites leave out, LSTM projections
(``proj_size``), PyTorch-only keyword arguments, and hostile or unusual files."""
import gzip
import io
import itertools
import json
import os
import warnings
import zipfile

import numpy as np
import pytest

import tensorlite as tl
import tensorlite.optim as optim
from nn.rnn import GRU, LSTM, RNN
from tensorlite.testing import gradgradcheck

CLASSES = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}


def _torch():
    return pytest.importorskip("torch")


def _states(rng, shapes):
    arrays = [rng.standard_normal(s) for s in shapes]
    return [tl.tensor(a, requires_grad=True) for a in arrays], arrays


def _compare_layer(torch, mode, kw, shape, with_state, through_hn_only, seed=0):
    """Outputs, final states and the gradients of input, initial states and every
    parameter, against PyTorch's layer carrying the same weights."""
    theirs = getattr(torch.nn, mode)(**kw).double()
    ours = CLASSES[mode](**kw).double()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(seed)
    xa = rng.standard_normal(shape)
    x, X = tl.tensor(xa, requires_grad=True), torch.tensor(xa, requires_grad=True)
    states, tstates, hx, HX = [], [], None, None
    if with_state:
        layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        batch = () if len(shape) == 2 else (shape[0] if kw.get("batch_first") else shape[1],)
        sizes = [kw.get("proj_size") or kw["hidden_size"]]
        if mode == "LSTM":
            sizes.append(kw["hidden_size"])
        states, arrays = _states(rng, [(layers,) + batch + (s,) for s in sizes])
        tstates = [torch.tensor(a, requires_grad=True) for a in arrays]
        hx = tuple(states) if mode == "LSTM" else states[0]
        HX = tuple(tstates) if mode == "LSTM" else tstates[0]
    out, hn = ours(x, hx)
    OUT, HN = theirs(X, HX)
    hns = hn if isinstance(hn, tuple) else (hn,)
    HNS = HN if isinstance(HN, tuple) else (HN,)
    for a, b in zip((out,) + hns, (OUT,) + HNS):
        assert a.shape == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(tuple(OUT.shape))
    loss = sum((h * h * 1.3).sum() for h in hns)
    LOSS = sum((h * h * 1.3).sum() for h in HNS)
    if not through_hn_only:
        loss = loss + (out * tl.tensor(w)).sum()
        LOSS = LOSS + (OUT * torch.tensor(w)).sum()
    grads = tl.autograd.grad(loss, [x] + states + list(ours.parameters()))
    tgrads = torch.autograd.grad(LOSS, [X] + tstates + list(theirs.parameters()))
    names = ["input"] + [f"state{i}" for i in range(len(states))] + \
        [n for n, _ in ours.named_parameters()]
    for name, a, b in zip(names, grads, tgrads):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-10, err_msg=name)


# The corners test_rnn.py's two-layer sweep does not reach: relu, no bias, three layers,
# unbatched input with a state, length-1 sequences, batch 1, gradients through h_n only.
CORNERS = [
    ("RNN", dict(nonlinearity="relu", num_layers=3, bias=False), (1, 1, 5), True, True),
    ("RNN", dict(nonlinearity="relu", bidirectional=True), (4, 5), True, False),
    ("RNN", dict(num_layers=3, bidirectional=True, batch_first=True), (1, 4, 5), False, True),
    ("LSTM", dict(num_layers=3, bias=False, bidirectional=True), (4, 5), True, True),
    ("LSTM", dict(batch_first=True), (2, 1, 5), True, False),
    ("GRU", dict(num_layers=3, bias=False, batch_first=True), (1, 4, 5), True, True),
    ("GRU", dict(bidirectional=True), (4, 5), True, False),
]


@pytest.mark.parametrize("mode, kw, shape, with_state, hn_only", CORNERS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CORNERS)])
def test_layers_match_pytorch_in_the_corners(mode, kw, shape, with_state, hn_only):
    _compare_layer(_torch(), mode, dict(input_size=5, hidden_size=3, **kw), shape, with_state,
                   hn_only)


# -- LSTM projections (proj_size) -----------------------------------------------------
@pytest.mark.parametrize("layers, bidirectional, batch_first, bias, shape, with_state",
                         [(1, False, False, True, (4, 2, 5), False),
                          (2, True, False, True, (3, 2, 5), True),
                          (3, False, True, False, (2, 4, 5), True),
                          (2, True, True, True, (4, 5), True),     # unbatched
                          (2, False, False, True, (1, 1, 5), False)])
def test_lstm_with_proj_size_matches_pytorch(layers, bidirectional, batch_first, bias, shape,
                                             with_state):
    kw = dict(input_size=5, hidden_size=4, num_layers=layers, bidirectional=bidirectional,
              batch_first=batch_first, bias=bias, proj_size=2)
    for hn_only in (False, True):
        _compare_layer(_torch(), "LSTM", kw, shape, with_state, hn_only)


def test_lstm_proj_size_shapes_repr_and_double_backward():
    m = LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2).double()
    shapes = {n: p.shape for n, p in m.named_parameters()}
    assert shapes["weight_hr_l0"] == (2, 5) and shapes["weight_hh_l1_reverse"] == (20, 2)
    assert shapes["weight_ih_l1"] == (20, 4)  # the next layer reads 2 directions x proj_size
    assert repr(m) == "LSTM(3, 5, proj_size=2, num_layers=2, bidirectional=True)"
    with pytest.raises(ValueError, match=r"LSTM: expected h_0 of shape \(4, 1, 2\)"):
        m(tl.randn(2, 1, 3, dtype=tl.float64),
          (tl.zeros(4, 1, 5, dtype=tl.float64), tl.zeros(4, 1, 5, dtype=tl.float64)))
    small = LSTM(2, 3, proj_size=1).double()
    x = tl.randn(3, 2, 2, dtype=tl.float64, requires_grad=True)
    assert gradgradcheck(lambda x, *p: small(x)[0], (x,) + tuple(small.parameters()),
                         fast_mode=True)


@pytest.mark.parametrize("make, exc, match", [
    (lambda: LSTM(5, 3, proj_size=3), ValueError, r"proj_size \(3\) must be smaller"),
    (lambda: LSTM(5, 3, proj_size=-1), ValueError, "proj_size must be an int >= 0"),
    (lambda: LSTM(5, 3, proj_size=1.0), ValueError, "proj_size must be an int >= 0"),
])
def test_bad_proj_size_is_a_clear_error(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


# -- PyTorch conveniences on the layers -----------------------------------------------
def test_dropout_with_one_layer_warns_like_pytorch():
    torch = _torch()
    with pytest.warns(UserWarning, match="dropout=0.5 has no effect with num_layers=1"):
        LSTM(3, 4, dropout=0.5)
    with pytest.warns(UserWarning, match="dropout"):
        torch.nn.LSTM(3, 4, dropout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GRU(3, 4, num_layers=2, dropout=0.5)


def test_all_weights_and_flatten_parameters_follow_pytorch():
    torch = _torch()
    for kw in (dict(num_layers=2, bidirectional=True), dict(bias=False),
               dict(num_layers=2, proj_size=2)):
        ours, theirs = LSTM(3, 4, **kw), torch.nn.LSTM(3, 4, **kw)
        assert [[tuple(p.shape) for p in layer] for layer in ours.all_weights] == \
            [[tuple(p.shape) for p in layer] for layer in theirs.all_weights]
        assert ours.all_weights[0][0] is ours.weight_ih_l0
    m = GRU(3, 4)
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    m.flatten_parameters()
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


@pytest.mark.parametrize("hx", [(tl.zeros(1, 2, 4), None), (None, tl.zeros(1, 2, 4)),
                                [tl.zeros(1, 2, 4), tl.zeros(1, 2, 4)]],
                         ids=["c0-None", "h0-None", "list"])
def test_lstm_state_pair_with_a_missing_half_is_refused(hx):
    # (h_0, None) used to run with a silent zero c_0
    with pytest.raises(TypeError, match=r"LSTM: hx must be a tuple \(h_0, c_0\) of two Tensors"):
        LSTM(3, 4)(tl.randn(5, 2, 3), hx)


# -- optimizers ------------------------------------------------------------------------
OPT_KW = {"SGD": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
          "Adam": dict(lr=0.01, amsgrad=True, weight_decay=0.1),
          "AdamW": dict(lr=0.01, betas=(0.8, 0.95)),
          "RMSprop": dict(lr=0.01, centered=True, momentum=0.5)}


def _trajectories(torch, name, kw, tkw=None, grad_dtype=np.float64, steps=12):
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((3, 4))
    p, tp = tl.tensor(w0.copy(), requires_grad=True), torch.tensor(w0.copy(), requires_grad=True)
    opt = getattr(optim, name)([p], **kw)
    topt = getattr(torch.optim, name)([tp], **(kw if tkw is None else tkw))
    for _ in range(steps):
        g = rng.standard_normal((3, 4)) * 10.0 ** rng.uniform(-3, 2)
        try:
            p.grad = tl.tensor(g.astype(grad_dtype))
        except (TypeError, RuntimeError) as e:  # pragma: no cover - depends on Tensor.grad
            pytest.skip(f"Tensor.grad refuses a gradient of another dtype ({e}): the "
                        "mismatch cannot reach an optimizer")
        # PyTorch refuses a gradient of another dtype: give it the same values in float64
        tp.grad = torch.tensor(g.astype(grad_dtype).astype(np.float64))
        opt.step()
        topt.step()
    return p.numpy(), tp.detach().numpy()


@pytest.mark.parametrize("name", list(OPT_KW))
def test_a_float32_gradient_on_a_float64_parameter_updates_in_float64(name):
    # The update used to square a float32 gradient in float32: 1e-8 off PyTorch.
    ours, theirs = _trajectories(_torch(), name, OPT_KW[name], grad_dtype=np.float32)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", list(OPT_KW))
def test_pytorchs_foreach_and_fused_flags_are_accepted(name):
    torch = _torch()
    flags = dict(foreach=False) if name == "RMSprop" else dict(foreach=False, fused=None)
    ours, theirs = _trajectories(torch, name, {**OPT_KW[name], **flags})
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)
    with pytest.raises(TypeError, match=f"{name}: foreach must be None or a bool"):
        getattr(optim, name)([tl.zeros(2, requires_grad=True)], foreach="yes")


# -- schedules ---------------------------------------------------------------------------
def test_reduce_on_plateau_with_non_finite_and_noisy_metrics_matches_pytorch():
    torch = _torch()
    rng = np.random.default_rng(5)
    metrics = list(np.cumsum(rng.standard_normal(60) * 0.3 - 0.02))
    for i, v in ((7, np.inf), (8, np.inf), (20, np.nan), (31, -np.inf), (40, 0.0)):
        metrics[i] = v
    for kw in (dict(mode="max", threshold_mode="abs", threshold=0.1, patience=1, cooldown=2,
                    factor=0.5, min_lr=[0.01, 0.0], eps=1e-4),
               dict(mode="min", threshold=0.0, patience=0, factor=0.0)):
        o = optim.SGD([{"params": [tl.zeros(1, requires_grad=True)], "lr": lr}
                       for lr in (0.1, 0.03)], lr=1.0)
        to = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr}
                              for lr in (0.1, 0.03)], lr=1.0)
        s = optim.lr_scheduler.ReduceLROnPlateau(o, **kw)
        ts = torch.optim.lr_scheduler.ReduceLROnPlateau(to, **kw)
        for epoch, m in enumerate(metrics):
            s.step(float(m))
            ts.step(float(m))
            np.testing.assert_allclose(s.get_last_lr(), ts.get_last_lr(), rtol=1e-12,
                                       err_msg=f"epoch {epoch}")
            assert (s.num_bad_epochs, s.cooldown_counter) == \
                (ts.num_bad_epochs, ts.cooldown_counter)


# -- serialization -----------------------------------------------------------------------
def _sample():
    return {"w": tl.tensor(np.arange(6.0).reshape(2, 3)), "i": np.arange(4, dtype=np.int16),
            "meta": {"epoch": 3, 7: (None, True, "x")}}


def _assert_sample(back):
    np.testing.assert_array_equal(back["w"].numpy(), np.arange(6.0).reshape(2, 3))
    assert back["i"].dtype == np.int16 and back["meta"] == {"epoch": 3, 7: (None, True, "x")}


def test_save_and_load_accept_binary_file_objects_like_torch():
    buf = io.BytesIO(b"prefix")
    buf.seek(6)
    tl.save(_sample(), buf)
    buf.seek(6)
    _assert_sample(tl.load(buf))
    assert not buf.closed


def test_save_to_a_stream_that_cannot_seek_back(tmp_path):
    # zipfile seeks back to patch entry headers; a gzip stream cannot: written in one go
    path = tmp_path / "ckpt.gz"
    with gzip.open(path, "wb") as f:
        tl.save(_sample(), f)
    with gzip.open(path, "rb") as f:
        _assert_sample(tl.load(f))


def test_text_mode_file_objects_are_refused(tmp_path):
    with open(tmp_path / "t.txt", "w") as f:
        with pytest.raises(TypeError, match=r"save: the file object must be open in binary"):
            tl.save({"a": 1}, f)
    with open(tmp_path / "t.txt") as f:
        with pytest.raises(TypeError, match=r"load: the file object must be open in binary"):
            tl.load(f)


def test_a_directory_path_is_a_clear_error_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "ckpt"
    target.mkdir()
    with pytest.raises(IsADirectoryError, match=r"save: .*ckpt' is a directory"):
        tl.save(_sample(), target)
    with pytest.raises(IsADirectoryError, match=r"load: .*ckpt' is a directory"):
        tl.load(target)
    assert os.listdir(tmp_path) == ["ckpt"] and os.listdir(target) == []


def test_too_deep_nesting_is_a_value_error_and_writes_nothing(tmp_path):
    obj = []
    for _ in range(100_000):
        obj = [obj]
    with pytest.raises(ValueError, match="nested too deeply"):
        tl.save(obj, tmp_path / "deep.npz")
    assert os.listdir(tmp_path) == []


def _npy(a):
    f = io.BytesIO()
    np.save(f, a)
    return f.getvalue()


def _write(path, root, arrays, compression=zipfile.ZIP_STORED):
    header = {"format": "tensorlite", "version": 1, "arrays": len(arrays), "root": root}
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        z.writestr("header.npy", _npy(np.frombuffer(json.dumps(header).encode(), np.uint8)))
        for i, a in enumerate(arrays):
            z.writestr(f"a{i}.npy", _npy(a))


def test_a_compressed_entry_is_refused_before_inflating(tmp_path):
    # 80 MB of zeros deflate to ~80 KB: a small file must not make load allocate that much
    n = 10_000_000
    path = tmp_path / "bomb.npz"
    header = {"format": "tensorlite", "version": 1, "arrays": 1,
              "root": {"$array": 0, "dtype": "<f8", "shape": [n]}}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("header.npy", _npy(np.frombuffer(json.dumps(header).encode(), np.uint8)))
        z.writestr("a0.npy", _npy(np.zeros(n)), compress_type=zipfile.ZIP_DEFLATED)
    assert os.path.getsize(path) < n // 10
    with pytest.raises(ValueError, match=r"bomb\.npz: entry a0 is compressed"):
        tl.load(path)


@pytest.mark.parametrize("dtype", ["<f2", "<c16"])
def test_a_tensor_entry_of_a_dtype_tensors_cannot_hold_is_refused(dtype, tmp_path):
    path = tmp_path / "forged.npz"
    a = np.ones(3, dtype=dtype)
    _write(path, {"$tensor": 0, "dtype": a.dtype.str, "shape": [3]}, [a])
    with pytest.raises(ValueError, match=f"forged\\.npz: array a0 is marked as a Tensor but "
                                         f"has dtype {a.dtype}"):
        tl.load(path)
    # the same data as a plain array is fine: save writes such arrays itself
    _write(path, {"$array": 0, "dtype": a.dtype.str, "shape": [3]}, [a])
    back = tl.load(path)
    assert back.dtype == a.dtype and np.array_equal(back, a)


def test_every_saveable_dtype_round_trips_in_tensors_and_arrays(tmp_path):
    arrays = {np.dtype(d).name: (np.arange(6).reshape(2, 3) % 3).astype(d)
              for d in ["?", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8",
                        "c8", "c16"]}
    tensors = {k: tl.tensor(v) for k, v in arrays.items() if k in ("bool", "int64", "float32",
                                                                    "float64")}
    scalars = {k: v.reshape(-1)[1] for k, v in arrays.items()}
    path = tmp_path / "all.npz"
    tl.save({"a": arrays, "t": tensors, "s": scalars}, path)
    back = tl.load(path)
    for k, v in arrays.items():
        assert back["a"][k].dtype == v.dtype and np.array_equal(back["a"][k], v), k
        assert type(back["s"][k]) is type(scalars[k]) and back["s"][k] == scalars[k], k
    for k, v in tensors.items():
        assert isinstance(back["t"][k], tl.Tensor) and back["t"][k].dtype == v.dtype
        np.testing.assert_array_equal(back["t"][k].numpy(), v.numpy())


def test_layer_state_dicts_survive_save_and_load_with_identical_outputs(tmp_path):
    for mode, kw in itertools.product(["RNN", "LSTM", "GRU"], [dict(num_layers=2),
                                                               dict(bidirectional=True)]):
        a = CLASSES[mode](3, 4, **kw).double()
        tl.save(a.state_dict(), tmp_path / "m.npz")
        b = CLASSES[mode](3, 4, **kw).double()
        b.load_state_dict(tl.load(tmp_path / "m.npz"))
        x = tl.randn(5, 2, 3, dtype=tl.float64)
        np.testing.assert_array_equal(a(x)[0].numpy(), b(x)[0].numpy())
