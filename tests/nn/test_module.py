"""The Module system: registration, naming, iteration, modes, dtype, state dicts, repr."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import nn
import tensorlite as tl


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 5))
        self.norm = nn.BatchNorm1d(5)
        self.head = nn.Linear(5, 3)
        self.scale = nn.Parameter(tl.ones(3))
        self.register_buffer("offset", tl.zeros(3))

    def forward(self, x):
        return self.head(self.norm(self.features(x))) * self.scale + self.offset


def _names(pairs):
    return [n for n, _ in pairs]


# -- Parameter ------------------------------------------------------------------------------
def test_parameter_is_a_tensor_requiring_grad():
    p = nn.Parameter(tl.zeros(2, 3))
    assert isinstance(p, tl.Tensor)
    assert p.requires_grad and p.is_leaf and p.grad is None
    assert not nn.Parameter(tl.zeros(2), requires_grad=False).requires_grad


def test_parameter_shares_memory_with_its_data():
    a = np.zeros(3, np.float32)
    p = nn.Parameter(a)
    a[0] = 5
    assert p._data[0] == 5
    t = tl.zeros(2)
    assert nn.Parameter(t)._data is t._data


def test_parameter_rejects_integer_data():
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(tl.tensor([1, 2]))


def test_parameter_repr_says_parameter():
    assert repr(nn.Parameter(tl.ones(2))).startswith("Parameter containing:\ntensor(")


def test_ops_on_parameters_give_plain_tensors():
    p = nn.Parameter(tl.ones(2))
    assert type(p * 2) is tl.Tensor
    assert type(p.detach()) is tl.Tensor


# -- registration -----------------------------------------------------------------------------
def test_attribute_assignment_registers_parameters_modules_and_buffers():
    m = Net()
    assert list(m._parameters) == ["scale"]
    assert list(m._modules) == ["features", "norm", "head"]
    assert list(m._buffers) == ["offset"]
    assert m.scale is m._parameters["scale"]
    assert m.head is m._modules["head"]


def test_named_parameters_use_dotted_pytorch_names_in_registration_order():
    assert _names(Net().named_parameters()) == [
        "scale", "features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
        "norm.weight", "norm.bias", "head.weight", "head.bias"]


def test_parameters_recurse_false_gives_only_own():
    m = Net()
    assert list(m.parameters(recurse=False)) == [m.scale]


def test_named_buffers_include_batchnorm_statistics():
    assert _names(Net().named_buffers()) == [
        "offset", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked"]


def test_shared_parameter_is_reported_once():
    m = nn.Module()
    m.a = nn.Linear(3, 3)
    m.b = nn.Linear(3, 3)
    m.b.weight = m.a.weight  # tied weights
    assert _names(m.named_parameters()) == ["a.weight", "a.bias", "b.bias"]
    assert len(list(m.named_parameters(remove_duplicate=False))) == 4


def test_shared_module_is_visited_once():
    shared = nn.Linear(2, 2)
    m = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(m.modules())) == 3
    assert _names(m.named_modules()) == ["", "0", "1"]
    assert len(list(m.parameters())) == 2


def test_children_and_named_modules():
    m = Net()
    assert [type(c).__name__ for c in m.children()] == ["Sequential", "BatchNorm1d", "Linear"]
    assert _names(m.named_modules()) == ["", "features", "features.0", "features.1",
                                         "features.2", "norm", "head"]


def test_assigning_a_plain_tensor_to_a_parameter_name_is_an_error():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        m.weight = tl.zeros(2, 2)


def test_assigning_none_to_a_parameter_keeps_the_slot():
    m = nn.Linear(2, 2)
    m.bias = None
    assert "bias" in m._parameters and m.bias is None
    assert _names(m.named_parameters()) == ["weight"]


def test_assigning_a_non_module_to_a_module_name_is_an_error():
    m = Net()
    with pytest.raises(TypeError, match="child module 'head'"):
        m.head = 3


def test_buffer_assignment_replaces_the_buffer():
    m = Net()
    t = tl.ones(3)
    m.offset = t
    assert m._buffers["offset"] is t and m.offset is t
    with pytest.raises(TypeError, match="buffer 'offset'"):
        m.offset = "x"


def test_reassigning_a_name_moves_it_between_registries():
    m = Net()
    m.head = nn.Parameter(tl.ones(1))
    assert "head" not in m._modules and "head" in m._parameters


def test_assignment_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tl.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_forgetting_super_init_is_explained():
    class Forgot(nn.Module):
        def __init__(self):
            self.size = 3

        def forward(self, x):
            return x

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Forgot()(tl.ones(1))


def test_delattr_unregisters():
    m = Net()
    del m.head
    del m.scale
    del m.offset
    assert "head" not in m._modules and "scale" not in m._parameters
    assert "offset" not in m._buffers
    with pytest.raises(AttributeError):
        m.head


def test_missing_attribute_error_names_the_class():
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        nn.Linear(1, 1).nope


def test_register_buffer_validates_name_and_value():
    m = nn.Module()
    with pytest.raises(KeyError, match="must not contain"):
        m.register_buffer("a.b", tl.zeros(1))
    with pytest.raises(TypeError):
        m.register_buffer("a", np.zeros(1))
    m.x = 5
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("x", tl.zeros(1))


def test_non_persistent_buffer_is_not_in_state_dict():
    m = nn.Module()
    m.register_buffer("cache", tl.zeros(2), persistent=False)
    m.register_buffer("kept", tl.zeros(2))
    assert _names(m.named_buffers()) == ["cache", "kept"]
    assert list(m.state_dict()) == ["kept"]


def test_get_submodule_and_parameter():
    m = Net()
    assert m.get_submodule("features.2") is m.features[2]
    assert m.get_parameter("features.0.bias") is m.features[0].bias
    assert m.get_buffer("norm.running_var") is m.norm.running_var
    with pytest.raises(AttributeError, match="no submodule"):
        m.get_submodule("features.9")


# -- call, hooks ---------------------------------------------------------------------------------
def test_call_runs_forward():
    m = nn.Linear(3, 2)
    x = tl.randn(4, 3)
    np.testing.assert_array_equal(m(x)._data, m.forward(x)._data)


def test_module_without_forward_raises():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(tl.ones(1))


def test_forward_hooks_see_and_may_replace_input_and_output():
    m = nn.Identity()
    seen = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    h2 = m.register_forward_hook(lambda mod, args, out: seen.append(out.item()) or out + 1)
    assert m(tl.tensor(3.0)).item() == 7.0
    assert seen == [6.0]
    h1.remove()
    h2.remove()
    assert m(tl.tensor(3.0)).item() == 3.0


# -- modes, grads, apply -------------------------------------------------------------------------
def test_train_and_eval_propagate_to_every_submodule():
    m = Net()
    assert all(x.training for x in m.modules())
    assert m.eval() is m
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    with pytest.raises(ValueError):
        m.train("yes")


def test_zero_grad_sets_to_none_by_default():
    m = nn.Linear(3, 2)
    m(tl.randn(4, 3)).sum().backward()
    assert m.weight.grad is not None
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None


def test_zero_grad_set_to_none_false_zeroes_in_place():
    m = nn.Linear(3, 2)
    m(tl.randn(4, 3)).sum().backward()
    g = m.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is g
    assert not g._data.any()


def test_requires_grad_false_freezes_parameters():
    m = Net().requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_apply_visits_children_first_and_returns_self():
    m = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    order = []
    assert m.apply(lambda mod: order.append(type(mod).__name__)) is m
    assert order == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_apply_with_init_reinitialises():
    m = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))

    def init(mod):
        if isinstance(mod, nn.Linear):
            nn.init.zeros_(mod.weight)

    m.apply(init)
    assert not any(mod.weight._data.any() for mod in m)


# -- dtype -----------------------------------------------------------------------------------------
def test_layers_are_float32_by_default():
    m = Net()
    assert all(p.dtype == tl.float32 for p in m.parameters())
    assert m.norm.running_mean.dtype == tl.float32


def test_double_converts_parameters_and_buffers_in_place():
    m = Net()
    params = list(m.parameters())
    assert m.double() is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert all(p.dtype == tl.float64 for p in m.parameters())
    assert m.offset.dtype == tl.float64 and m.norm.running_var.dtype == tl.float64
    assert m.norm.num_batches_tracked.dtype == tl.int64  # integer buffers stay integer
    assert m(tl.randn(2, 4, dtype=tl.float64)).dtype == tl.float64
    m.float()
    assert all(p.dtype == tl.float32 for p in m.parameters())


def test_to_converts_gradients_too():
    m = nn.Linear(2, 2)
    m(tl.randn(3, 2)).sum().backward()
    m.to(tl.float64)
    assert m.weight.grad.dtype == tl.float64


def test_to_accepts_dtype_names_and_cpu_but_not_other_devices_or_ints():
    m = nn.Linear(2, 2)
    m.to("float64")
    assert m.weight.dtype == tl.float64
    m.to("cpu")
    m.to(dtype=tl.float32)
    assert m.weight.dtype == tl.float32
    with pytest.raises(RuntimeError, match="CPU only"):
        m.to("cuda")
    with pytest.raises(TypeError, match="floating-point"):
        m.to(tl.int64)


def test_conversion_invalidates_saved_graphs():
    m = nn.Linear(2, 2)
    y = m(tl.randn(3, 2, requires_grad=True)).sum()  # saves the weight
    m.double()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


# -- state dict ------------------------------------------------------------------------------------
def test_state_dict_holds_parameters_and_persistent_buffers_by_name():
    sd = Net().state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["scale", "offset", "features.0.weight", "features.0.bias",
                        "features.2.weight", "features.2.bias", "norm.weight", "norm.bias",
                        "norm.running_mean", "norm.running_var", "norm.num_batches_tracked",
                        "head.weight", "head.bias"]
    assert all(isinstance(v, tl.Tensor) and not v.requires_grad for v in sd.values())


def test_state_dict_shares_memory_with_the_module():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    assert np.shares_memory(sd["weight"]._data, m.weight._data)


def test_state_dict_names_match_pytorch(torch):
    tn = torch.nn
    theirs = tn.Sequential(tn.Conv2d(1, 2, 3), tn.BatchNorm2d(2), tn.ReLU(), tn.Flatten(),
                           tn.Linear(8, 3), tn.LayerNorm(3), tn.Embedding(4, 3))
    ours = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                         nn.Linear(8, 3), nn.LayerNorm(3), nn.Embedding(4, 3))
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]


def test_load_state_dict_round_trip_gives_same_outputs():
    a, b = Net(), Net()
    a.norm.running_mean._data[:] = 0.5
    a.norm.num_batches_tracked._data[...] = 7
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    x = tl.randn(3, 4)
    np.testing.assert_array_equal(a(x)._data, b(x)._data)
    assert b.norm.num_batches_tracked.item() == 7


def test_load_state_dict_copies_into_existing_parameters():
    m = nn.Linear(2, 2)
    w = m.weight
    arr = np.arange(4, dtype=np.float32).reshape(2, 2)
    m.load_state_dict({"weight": arr, "bias": np.zeros(2)})
    assert m.weight is w
    np.testing.assert_array_equal(m.weight._data, arr)
    arr[0, 0] = 99  # a copy, not a view of the source
    assert m.weight._data[0, 0] == 0


def test_load_state_dict_converts_to_the_module_dtype():
    m = nn.Linear(2, 2)
    m.load_state_dict({"weight": np.ones((2, 2), np.float64), "bias": [1, 2]})
    assert m.weight.dtype == tl.float32 and m.bias.dtype == tl.float32
    np.testing.assert_array_equal(m.bias._data, [1, 2])


def test_load_state_dict_strict_names_missing_and_unexpected_keys():
    m = nn.Linear(2, 2)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict({"weight": np.zeros((2, 2)), "extra": np.zeros(1)})
    msg = str(e.value)
    assert 'Missing key(s) in state_dict: "bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra"' in msg
    assert "Linear" in msg


def test_load_state_dict_shape_mismatch_changes_nothing():
    m = nn.Linear(2, 2)
    before = {k: v._data.copy() for k, v in m.state_dict().items()}
    with pytest.raises(RuntimeError, match=r"size mismatch for bias: .*\(3,\).*\(2,\)"):
        m.load_state_dict({"weight": np.ones((2, 2)), "bias": np.ones(3)})
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v._data, before[k])
    with pytest.raises(RuntimeError, match="size mismatch"):
        m.load_state_dict({"weight": np.ones((2, 2)), "bias": np.ones(3)}, strict=False)


def test_load_state_dict_non_strict_reports_keys():
    m = nn.Linear(2, 2)
    result = m.load_state_dict({"weight": np.ones((2, 2)), "junk": np.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["junk"]
    missing, unexpected = result
    assert (missing, unexpected) == (["bias"], ["junk"])
    np.testing.assert_array_equal(m.weight._data, np.ones((2, 2)))
    assert repr(m.load_state_dict(m.state_dict())) == "<All keys matched successfully>"


def test_load_state_dict_bumps_version_of_saved_tensors():
    m = nn.Linear(2, 2)
    y = m(tl.randn(1, 2, requires_grad=True)).sum()  # saves the weight for the input's grad
    m.load_state_dict(m.state_dict())
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward()


def test_load_pytorch_state_dict_gives_same_outputs(torch):
    tn = torch.nn
    theirs = tn.Sequential(tn.Linear(4, 6), tn.Tanh(), tn.Linear(6, 2)).double()
    ours = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2)).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 4))
    np.testing.assert_allclose(ours(tl.tensor(x))._data,
                               theirs(torch.tensor(x)).detach().numpy(), atol=1e-12)


def test_deepcopy_makes_independent_parameters():
    m = Net()
    c = copy.deepcopy(m)
    assert isinstance(c.head.weight, nn.Parameter) and c.head.weight.requires_grad
    assert c.head.weight is not m.head.weight
    c.head.weight._data[:] = 0
    assert m.head.weight._data.any()
    assert _names(c.named_parameters()) == _names(m.named_parameters())


# -- containers ------------------------------------------------------------------------------------
def test_sequential_applies_in_order_and_indexes():
    a, b = nn.Linear(3, 4), nn.Linear(4, 2)
    s = nn.Sequential(a, nn.ReLU(), b)
    x = tl.randn(2, 3)
    np.testing.assert_allclose(s(x)._data, b(a(x).relu())._data)
    assert len(s) == 3 and s[0] is a and s[-1] is b
    assert list(s) == [a, s[1], b]
    assert isinstance(s[1:], nn.Sequential) and len(s[1:]) == 2
    with pytest.raises(IndexError):
        s[3]


def test_sequential_from_ordered_dict_uses_its_names():
    s = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(s.state_dict()) == ["fc.weight", "fc.bias"]
    assert s[0] is s.fc


def test_sequential_append_delete_keep_contiguous_numbering():
    s = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1))
    del s[1]
    assert list(s._modules) == ["0", "1"]
    assert list(s.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    s.append(nn.Tanh())
    s.insert(0, nn.Identity())
    assert [type(m).__name__ for m in s] == ["Identity", "Linear", "Linear", "Tanh"]
    assert s[3] is getattr(s, "3")


def test_module_list_registers_and_behaves_like_a_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers[0] = nn.Identity()
    assert isinstance(layers[0], nn.Identity) and isinstance(layers[-1], nn.Tanh)
    assert isinstance(layers[1:3], nn.ModuleList)
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2", "3"]
    layers += [nn.Sigmoid()]
    assert len(layers) == 5


def test_module_dict_registers_by_key():
    d = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Linear(3, 2)})
    assert list(d.keys()) == ["enc", "dec"] and "enc" in d and len(d) == 2
    assert list(d.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    d["act"] = nn.ReLU()
    assert [k for k, _ in d.items()] == ["enc", "dec", "act"]
    assert isinstance(d.pop("act"), nn.ReLU) and "act" not in d
    with pytest.raises(KeyError, match="already exists"):
        d["forward"] = nn.ReLU()


# -- repr ------------------------------------------------------------------------------------------
def test_repr_is_a_tree_like_pytorch():
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 3), nn.Dropout(0.2),
                      nn.Sequential(nn.Softmax(dim=1)))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)\n"
        "  (1): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, "
        "track_running_stats=True)\n"
        "  (2): ReLU()\n"
        "  (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n"
        "  (4): Flatten(start_dim=1, end_dim=-1)\n"
        "  (5): Linear(in_features=16, out_features=3, bias=True)\n"
        "  (6): Dropout(p=0.2, inplace=False)\n"
        "  (7): Sequential(\n"
        "    (0): Softmax(dim=1)\n"
        "  )\n"
        ")")


def test_repr_matches_pytorch_for_common_layers(torch):
    tn = torch.nn
    pairs = [
        (nn.LayerNorm(3), tn.LayerNorm(3)),
        (nn.Embedding(5, 2, padding_idx=0), tn.Embedding(5, 2, padding_idx=0)),
        (nn.AvgPool2d(2), tn.AvgPool2d(2)),
        (nn.AdaptiveAvgPool2d((1, 1)), tn.AdaptiveAvgPool2d((1, 1))),
        (nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1),
         tn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1)),
        (nn.Conv2d(2, 2, 3, padding="same", groups=2), tn.Conv2d(2, 2, 3, padding="same",
                                                                 groups=2)),
        (nn.BatchNorm1d(3, momentum=None, affine=False), tn.BatchNorm1d(3, momentum=None,
                                                                        affine=False)),
        (nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()]),
         tn.ModuleList([tn.Linear(2, 2), tn.Linear(2, 2), tn.ReLU()])),
        (nn.ModuleDict({"a": nn.Tanh()}), tn.ModuleDict({"a": tn.Tanh()})),
        (nn.CrossEntropyLoss(), tn.CrossEntropyLoss()),
        (nn.Identity(), tn.Identity()),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_custom_extra_repr_and_nested_module():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def extra_repr(self):
            return "width=2"

    assert repr(Block()) == ("Block(\n  width=2\n"
                             "  (fc): Linear(in_features=2, out_features=2, bias=True)\n)")


# -- utils ----------------------------------------------------------------------------------------
def _with_grads(torch, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 2)]
    grads = [rng.standard_normal(s) * 3 for s in shapes]
    ours = [nn.Parameter(tl.zeros(*s, dtype=tl.float64)) for s in shapes]
    theirs = [torch.zeros(*s, dtype=torch.float64, requires_grad=True) for s in shapes]
    for p, tp, g in zip(ours, theirs, grads):
        p.grad = tl.tensor(g)
        tp.grad = torch.tensor(g)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_pytorch(torch, norm_type, max_norm):
    ours, theirs = _with_grads(torch)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, tl.Tensor) and total.ndim == 0
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.grad._data, tp.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_clip_grad_norm_accepts_a_generator_and_skips_missing_grads():
    m = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    m[0](tl.randn(2, 3)).sum().backward()  # only the first layer has gradients
    total = nn.utils.clip_grad_norm_(m.parameters(), 1e-3)
    grads = np.concatenate([p.grad._data.ravel() for p in m.parameters() if p.grad is not None])
    assert total.item() > 1e-3
    np.testing.assert_allclose(np.linalg.norm(grads), 1e-3, rtol=1e-3)


def test_clip_grad_norm_nonfinite():
    p = nn.Parameter(tl.ones(2))
    p.grad = tl.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_elements():
    p = nn.Parameter(tl.ones(3))
    p.grad = tl.tensor([-5.0, 0.5, 5.0])
    nn.utils.clip_grad_value_(p, 1.0)
    np.testing.assert_array_equal(p.grad._data, [-1.0, 0.5, 1.0])


def test_parameters_to_vector_and_back():
    m = nn.Linear(3, 2)
    v = nn.utils.parameters_to_vector(m.parameters())
    assert v.shape == (8,)
    nn.utils.vector_to_parameters(v * 0 + 1, m.parameters())
    assert (m.weight._data == 1).all() and (m.bias._data == 1).all()
