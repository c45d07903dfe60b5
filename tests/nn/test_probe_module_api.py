"""Probe of the Module API and state-dict interop against PyTorch: a model holding every
layer type, load_state_dict(assign=True), foreign bfloat16 / old-format checkpoints,
deepcopy, dtype refusals and nn.init on non-float tensors."""
import copy
import pickle

import numpy as np
import pytest

import nn
import tensorlite as tl

ATOL = 1e-12


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _every_layer_net(M):
    """The same architecture from PyTorch's nn (M=torch.nn) or ours (M=nn)."""

    class Net(M.Module):
        def __init__(self):
            super().__init__()
            self.conv = M.Sequential(
                M.Conv2d(3, 4, 3, padding=1), M.BatchNorm2d(4), M.ReLU(), M.MaxPool2d(2),
                M.ConvTranspose2d(4, 2, 2, stride=2), M.AvgPool2d(2),
                M.AdaptiveAvgPool2d((2, 2)), M.Flatten())
            self.fc = M.Sequential(M.Linear(8, 6), M.BatchNorm1d(6), M.GELU(), M.Dropout(0.5),
                                   M.LayerNorm(6), M.Tanh())
            self.emb = M.Embedding(10, 6)
            self.lstm = M.LSTM(6, 5, num_layers=2, batch_first=True)
            self.gru = M.GRU(5, 4, bidirectional=True)
            self.rnn = M.RNN(8, 3)
            self.head = M.ModuleDict({"a": M.Linear(3, 2), "b": M.Sigmoid()})
            self.acts = M.ModuleList([M.ELU(), M.SiLU(), M.LeakyReLU(0.1), M.Softplus()])

        def forward(self, x, idx):
            h = self.fc(self.conv(x))
            o, _ = self.lstm(self.emb(idx) + h[:, None, :])
            o, _ = self.gru(o.transpose(0, 1))
            o, _ = self.rnn(o)
            o = self.head["b"](self.head["a"](o))
            for act in self.acts:
                o = act(o)
            return o

    return Net()


def _torch_net(torch):
    t = _every_layer_net(torch.nn).double().eval()
    with torch.no_grad():  # non-trivial running statistics, so the buffers matter
        for m in t.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(7)
    return t


_X = np.random.default_rng(0).standard_normal((2, 3, 8, 8))
_IDX = np.array([[1, 2, 3], [4, 5, 9]])


def _theirs(torch, t):
    return t(torch.tensor(_X), torch.tensor(_IDX)).detach().numpy()


def _ours(o):
    return o(tl.tensor(_X), tl.tensor(_IDX))._data


# -- every layer type: keys, order, shapes, outputs both ways -------------------------------
def test_every_layer_state_dict_keys_order_and_shapes_match_pytorch(torch):
    theirs = _torch_net(torch).state_dict()
    ours = _every_layer_net(nn).double().state_dict()
    assert list(ours) == list(theirs)
    for k in theirs:
        assert tuple(ours[k].shape) == tuple(theirs[k].shape), k
        assert str(ours[k].dtype) == str(theirs[k].dtype).replace("torch.", ""), k


@pytest.mark.parametrize("as_numpy", [False, True])
def test_every_layer_model_loads_pytorch_weights_and_gives_its_outputs(torch, as_numpy):
    t = _torch_net(torch)
    sd = t.state_dict()
    if as_numpy:
        sd = {k: v.numpy() for k, v in sd.items()}
    o = _every_layer_net(nn).double().eval()
    assert o.load_state_dict(sd) == ([], [])
    np.testing.assert_allclose(_ours(o), _theirs(torch, t), rtol=0, atol=ATOL)


def test_every_layer_model_weights_load_into_pytorch(torch):
    t = _torch_net(torch)
    o = _every_layer_net(nn).double().eval()
    o.load_state_dict(t.state_dict())
    fresh = _every_layer_net(torch.nn).double().eval()
    fresh.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in o.state_dict().items()})
    np.testing.assert_allclose(_theirs(torch, fresh), _theirs(torch, t), rtol=0, atol=0)


# -- load_state_dict(assign=True) -----------------------------------------------------------
def test_load_state_dict_assign_keeps_checkpoint_dtype_and_requires_grad_like_pytorch(torch):
    sd = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2)).double().state_dict()
    t = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))  # float32
    o = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    t[0].weight.requires_grad_(False)
    o[0].weight.requires_grad_(False)
    old_bias = o[0].bias
    assert t.load_state_dict(sd, assign=True) == ([], [])
    assert o.load_state_dict(sd, assign=True) == ([], [])
    for (kt, vt), (ko, vo) in zip(t.named_parameters(), o.named_parameters()):
        assert ko == kt and isinstance(vo, nn.Parameter)
        assert str(vo.dtype) == str(vt.dtype).replace("torch.", "") == "float64"
        assert vo.requires_grad == vt.requires_grad
    assert o[1].running_var.dtype == tl.float64 and o[1].num_batches_tracked.dtype == tl.int64
    assert o[0].bias is not old_bias and list(o.state_dict()) == list(sd)
    # No copy: the module now holds the checkpoint's memory, as PyTorch's assign does.
    o[0].bias._data[0] = 42.0
    assert float(sd["0.bias"][0]) == 42.0
    t.eval()
    o.eval()
    x = np.random.default_rng(1).standard_normal((4, 3))
    np.testing.assert_allclose(o(tl.tensor(x))._data, t(torch.tensor(x)).detach().numpy(),
                               rtol=0, atol=ATOL)


def test_load_state_dict_assign_keeps_a_given_parameter_object():
    m = nn.Linear(3, 2)
    m.weight.requires_grad_(False)
    p = nn.Parameter(tl.ones(2, 3, dtype=tl.float64))
    m.load_state_dict({"weight": p, "bias": np.zeros(2)}, assign=True)
    assert m.weight is p and not p.requires_grad
    assert m.bias.dtype == tl.float64 and m.bias.requires_grad


def test_load_state_dict_assign_then_optimizer_trains_the_new_parameters():
    m = nn.Linear(3, 1)
    m.load_state_dict({"weight": np.ones((1, 3)), "bias": np.zeros(1)}, assign=True)
    opt = tl.optim.SGD(m.parameters(), lr=0.5)
    m(tl.ones(1, 3, dtype=tl.float64)).sum().backward()
    opt.step()
    np.testing.assert_array_equal(m.weight._data, np.full((1, 3), 0.5))


def test_load_state_dict_assign_refuses_unsupported_dtypes_and_changes_nothing():
    m = nn.Linear(3, 2)
    w, b = m.weight, m.bias
    b_before = b._data.copy()
    for bad in (np.zeros((2, 3), np.float16), np.zeros((2, 3), np.int64)):
        with pytest.raises(RuntimeError, match="weight") as e:
            m.load_state_dict({"weight": bad, "bias": np.ones(2)}, assign=True)
        assert str(bad.dtype) in str(e.value)
        assert m.weight is w and m.bias is b
        np.testing.assert_array_equal(m.bias._data, b_before)


def test_load_state_dict_assign_copies_a_read_only_array():
    m = nn.Linear(2, 2)
    ro = np.broadcast_to(np.ones(2), (2,))
    m.load_state_dict({"weight": np.eye(2), "bias": ro}, assign=True)
    assert m.bias._data.flags.writeable
    np.testing.assert_array_equal(m.bias._data, np.ones(2))


# -- foreign and old-format checkpoints -----------------------------------------------------
def test_load_state_dict_accepts_pytorch_bfloat16_tensors(torch):
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)).bfloat16()
    o = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()
    assert o.load_state_dict(t.state_dict()) == ([], [])
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(o.state_dict()[k]._data, v.double().numpy()
                                      if v.is_floating_point() else v.numpy())


def test_zero_dim_buffer_saved_as_one_element_vector_loads_like_pytorch(torch):
    t, o = torch.nn.BatchNorm1d(2), nn.BatchNorm1d(2)
    sd = {k: v.clone() for k, v in t.state_dict().items()}
    sd["num_batches_tracked"] = torch.tensor([5])
    t.load_state_dict(sd)
    o.load_state_dict({k: v.numpy() for k, v in sd.items()})
    assert o.num_batches_tracked.shape == () and o.num_batches_tracked.item() == \
        t.num_batches_tracked.item() == 5
    # More than one element is a shape mismatch (PyTorch would keep the first silently).
    with pytest.raises(RuntimeError, match=r"size mismatch for num_batches_tracked.*\(2,\)"):
        o.load_state_dict({**{k: v.numpy() for k, v in sd.items()},
                           "num_batches_tracked": np.array([5, 6])})
    assert o.num_batches_tracked.item() == 5


# -- deepcopy / pickle ----------------------------------------------------------------------
def test_deepcopy_and_pickle_drop_gradients_like_pytorch(torch):
    t, o = torch.nn.Linear(2, 2), nn.Linear(2, 2)
    t(torch.ones(1, 2)).sum().backward()
    o(tl.ones(1, 2)).sum().backward()
    for clone in (copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))):
        ct, co = clone(t), clone(o)
        assert (ct.weight.grad is None) and (co.weight.grad is None)
        assert co.weight.requires_grad == ct.weight.requires_grad
        np.testing.assert_array_equal(co.weight._data, o.weight._data)
        assert co.weight._data is not o.weight._data
    assert o.weight.grad is not None  # the original keeps its gradient


# -- dtype conversions ----------------------------------------------------------------------
def test_parameter_refuses_float16_and_longdouble_data():
    for dt in (np.float16, np.longdouble):
        if np.dtype(dt).itemsize in (4, 8):
            continue  # a platform whose longdouble is float64
        with pytest.raises(TypeError, match=f"Parameter.*{np.dtype(dt)}"):
            nn.Parameter(np.ones(2, dt))


def test_module_type_converts_like_pytorch(torch):
    t = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    o = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    w = o[0].weight
    assert t.type(torch.float64) is t and o.type(tl.float64) is o
    assert o[0].weight is w
    for k, v in t.named_parameters():
        assert str(o.get_parameter(k).dtype) == str(v.dtype).replace("torch.", "")
    assert o[1].running_mean.dtype == tl.float64
    with pytest.raises(TypeError, match="type: only floating-point"):
        o.type(tl.int64)
    assert o[0].weight.dtype == tl.float64


@pytest.mark.parametrize("method", ["half", "bfloat16"])
def test_half_and_bfloat16_are_refused_clearly(method):
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=f"Linear.{method}: .*not supported"):
        getattr(m, method)()
    assert m.weight.dtype == tl.float32


# -- nn.init ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_",
                                "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                                "orthogonal_"])
def test_random_init_refuses_integer_tensors_like_pytorch(torch, fn):
    with pytest.raises(Exception):
        getattr(torch.nn.init, fn)(torch.zeros(3, 4, dtype=torch.int64))
    t = tl.zeros(3, 4, dtype=tl.int64)
    with pytest.raises(TypeError, match=f"{fn}: expected a floating-point tensor.*int64"):
        getattr(nn.init, fn)(t)
    assert not t._data.any()


@pytest.mark.parametrize("fn", ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_",
                                "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                                "orthogonal_"])
def test_init_accepts_a_generator_like_pytorch(fn):
    a = getattr(nn.init, fn)(tl.zeros(3, 4, dtype=tl.float64),
                             generator=np.random.default_rng(5))._data
    b = getattr(nn.init, fn)(tl.zeros(3, 4, dtype=tl.float64),
                             generator=np.random.default_rng(5))._data
    np.testing.assert_array_equal(a, b)
    assert a.any()
    with pytest.raises(TypeError, match=f"{fn}: generator"):
        getattr(nn.init, fn)(tl.zeros(3, 4), generator=5)


def test_constant_and_eye_still_fill_integer_tensors_like_pytorch(torch):
    t = torch.zeros(2, 3, dtype=torch.int64)
    o = tl.zeros(2, 3, dtype=tl.int64)
    np.testing.assert_array_equal(nn.init.constant_(o, 3)._data,
                                  torch.nn.init.constant_(t, 3).numpy())
    np.testing.assert_array_equal(nn.init.eye_(o)._data, torch.nn.init.eye_(t).numpy())
