"""The PyTorch-compatibility pieces one by one: device queries answer as a CPU-only
PyTorch does, the alias installs and uninstalls cleanly, out-of-scope APIs refuse naming
themselves, legacy constructors and Variable behave as PyTorch's."""
import os
import subprocess
import sys

import numpy as np
import pytest

import tensorlite as tl
from tensorlite import compat
from tensorlite._unsupported import UnsupportedError

torch = pytest.importorskip("torch")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# -- device queries: PyTorch's answers on a CPU-only build -------------------------------------
@pytest.mark.parametrize("query", [
    "accelerator.is_available()", "accelerator.current_accelerator()",
    "accelerator.device_count()", "cuda.is_available()", "cuda.device_count()",
    "cuda.is_initialized()", "cuda.is_bf16_supported()", "cuda.manual_seed(0)",
    "cuda.manual_seed_all(0)", "cuda.empty_cache()", "mps.device_count()",
    "backends.mps.is_available()", "backends.mps.is_built()", "backends.cuda.is_built()",
    "backends.cudnn.is_available()", "backends.cudnn.enabled", "backends.cudnn.benchmark",
    "backends.cudnn.deterministic", "backends.openmp.is_available()",
])
def test_device_queries_answer_as_cpu_only_pytorch(query):
    assert eval(f"tl.{query}") == eval(f"torch.{query}")


@pytest.mark.parametrize("call", ["accelerator.current_device_index()",
                                  "accelerator.synchronize()", "cuda.current_device()",
                                  "cuda.get_device_name(0)", "cuda.synchronize()"])
def test_calls_needing_a_device_refuse_naming_themselves(call):
    with pytest.raises((RuntimeError, AssertionError)):
        eval(f"torch.{call}")
    with pytest.raises(UnsupportedError, match=call.split("(")[0].replace(".", r"\.")):
        eval(f"tl.{call}")


def test_the_usual_device_selection_picks_the_cpu():
    device = torch.device("cuda" if tl.cuda.is_available() else "cpu")
    assert str(device) == "cpu"
    acc = tl.accelerator.current_accelerator() if tl.accelerator.is_available() else tl.device("cpu")
    assert tl.ones(2).to(acc).device == "cpu"
    tl.backends.cudnn.benchmark = True      # accepted, as in PyTorch without a GPU
    tl.backends.cudnn.benchmark = False


# -- legacy constructors, Variable -------------------------------------------------------------
@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor",
                                  "BoolTensor"])
@pytest.mark.parametrize("args", [(), (2, 3), (0,), ([1, 2, 3],), ([[1.7, -2.2]],),
                                  (np.array([1.0, 0.0]),)])
def test_typed_constructors_match_pytorch(name, args):
    ours, theirs = getattr(tl, name)(*args), getattr(torch, name)(*args)
    assert ours.shape == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    if not (len(args) and all(isinstance(a, int) for a in args)):   # sized ones: uninitialised
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert isinstance(ours, getattr(tl, name)) and isinstance(ours, tl.Tensor)


def test_typed_constructor_refusals():
    with pytest.raises(TypeError, match="LongTensor: expected a int64 tensor"):
        tl.LongTensor(tl.ones(2))
    with pytest.raises(RuntimeError, match="FloatTensor: negative dimension"):
        tl.FloatTensor(2, -1)
    assert not isinstance(tl.ones(2), tl.DoubleTensor)


def test_variable_is_a_no_op_wrapper_sharing_storage():
    t = tl.ones(2)
    v = tl.autograd.Variable(t, requires_grad=True)
    assert v.requires_grad and v.is_leaf and not t.requires_grad
    v.data.mul_(3)
    np.testing.assert_array_equal(t.numpy(), [3.0, 3.0])
    (v * v).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [6.0, 6.0])
    assert not tl.autograd.Variable(t).requires_grad


# -- tl.load / tl.save with torch's keywords, onnx ----------------------------------------------
def test_load_accepts_torch_keywords(tmp_path):
    path = str(tmp_path / "m.pt")
    tl.save({"w": tl.ones(2)}, path, pickle_protocol=4)
    for kw in [dict(weights_only=True), dict(weights_only=False), dict(map_location="cpu"),
               dict(map_location=tl.device("cpu")), dict(map_location={"cuda:0": "cpu"}),
               dict(map_location=lambda storage, loc: storage), dict(mmap=True)]:
        np.testing.assert_array_equal(tl.load(path, **kw)["w"].numpy(), [1.0, 1.0])
    with pytest.raises(RuntimeError, match="map_location.*CPU only"):
        tl.load(path, map_location="cuda:0")
    with pytest.raises(TypeError, match="never pickled"):
        tl.load(path, pickle_module=object())


def test_a_pytorch_checkpoint_is_named_as_such(tmp_path):
    path = str(tmp_path / "t.pt")
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(ValueError, match="a PyTorch checkpoint .pickled.*np.savez"):
        tl.load(path)


def test_onnx_exists_and_refuses_export():
    import tensorlite.onnx as onnx
    assert not onnx.is_in_onnx_export()
    with pytest.raises(UnsupportedError, match=r"torch\.onnx\.export: ONNX export is not "
                                               r"supported.*state_dict"):
        onnx.export(None, tl.ones(1), "model.onnx")


# -- the alias -----------------------------------------------------------------------------------
def test_alias_installs_and_restores_pytorch():
    import torch.nn  # noqa: F401
    real = {k: v for k, v in sys.modules.items() if k == "torch" or k.startswith("torch.")}
    with compat.installed() as t:
        import torch as aliased
        import torch.nn.functional as F
        from torch.utils.data import DataLoader
        assert aliased is t and aliased.nn.functional is F
        assert DataLoader is tl.data.DataLoader
        assert aliased.nn.Linear is __import__("nn").Linear
        assert isinstance(aliased.ones(2), aliased.Tensor)
        assert "torch._C" not in sys.modules           # the real PyTorch is set aside
    assert sys.modules["torch"] is torch
    assert all(sys.modules.get(k) is v for k, v in real.items())


def test_alias_facade_answers_torch_level_calls():
    import tensorlite.compat.torch as t
    assert t.Tensor(2, 3).shape == (2, 3) and t.Tensor([1, 2]).dtype == tl.float32
    assert issubclass(tl.Tensor, t.Tensor) and t.get_default_dtype() == tl.float32
    assert t.compile(len) is len and t.__version__.startswith("2.")
    t.set_default_dtype(t.float32)
    with pytest.raises(UnsupportedError, match="set_default_dtype.*dtype=torch.float64"):
        t.set_default_dtype(t.float64)
    assert t.Size([2, 3]).numel() == 6


@pytest.mark.parametrize("stmt, match", [
    ("import torchvision", "torchvision is not part of tensorlite.*TensorDataset"),
    ("from torchvision import datasets", "torchvision is not part of tensorlite"),
    ("import torch.jit", r"torch\.jit.*TorchScript"),
    ("from torch.cuda.amp import autocast", r"torch\.cuda\.amp.*mixed precision"),
    ("from torch.nn.utils.rnn import pack_padded_sequence", "packed sequences"),
    ("import torch.distributions", "torch.distributions is not supported"),
    ("import torch.nosuchthing", r"torch\.nosuchthing: not provided"),
])
def test_out_of_scope_imports_say_what_to_do(stmt, match):
    with compat.installed():
        with pytest.raises(ModuleNotFoundError, match=match):
            exec(stmt, {})


def test_missing_attributes_name_the_pytorch_api():
    with compat.installed() as t:
        with pytest.raises(AttributeError, match=r"torch\.nn\.TransformerEncoderLayer: .*not "
                                                 r"provided.*pytorch-compat"):
            t.nn.TransformerEncoderLayer
        with pytest.raises(AttributeError, match=r"torch\.jit: TorchScript"):
            t.jit
        assert not hasattr(t, "no_such_function")


def test_run_cli_runs_a_script_under_the_alias(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import sys, torch, torch.nn as nn\n"
                      "assert torch.cuda.is_available() is False\n"
                      "print(type(nn.Linear(2, 2)(torch.ones(1, 2))).__module__, sys.argv[1:])\n")
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-m", "tensorlite.run", str(script), "--x", "1"],
                         capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["tensorlite.tensor", "['--x',", "'1']"]
    missing = subprocess.run([sys.executable, "-m", "tensorlite.run", "nope.py"],
                             capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert missing.returncode == 2 and "no such script" in missing.stderr


# -- small gaps the scripts hit ------------------------------------------------------------------
def test_inplace_shape_methods_match_pytorch():
    for T in (tl, torch):
        a = T.ones(3)
        assert tuple(a.unsqueeze_(-1).shape) == (3, 1) and tuple(a.squeeze_().shape) == (3,)
    grads = []
    for T in (tl, torch):
        x = T.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=T.float64, requires_grad=True)
        y = x * 2
        y.t_()
        y.unsqueeze_(0)
        y.transpose_(1, 2)
        (y * T.tensor([[[1.0, 10.0], [100.0, 1000.0]]], dtype=T.float64)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)
    with pytest.raises(RuntimeError, match="unsqueeze_: a leaf tensor that requires grad"):
        tl.ones(2, requires_grad=True).unsqueeze_(0)


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_div_rounding_modes_match_pytorch(mode):
    for a, b in [([5, -5, 7, -7, 6], [2, 2, -2, -2, 3]), ([5.5, -5.5, 1.0], [2.0, 2.0, -3.0])]:
        ours = tl.div(tl.tensor(a), tl.tensor(b), rounding_mode=mode)
        theirs = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    with pytest.raises(ValueError, match="div: rounding_mode"):
        tl.div(tl.ones(1), 2, rounding_mode="round")


def test_random_creation_takes_a_generator():
    g = tl.Generator().manual_seed(3)
    first = [tl.randn(3, generator=g), tl.rand(2, generator=g), tl.randint(0, 9, (4,), generator=g),
             tl.randperm(5, generator=g)]
    g.manual_seed(3)
    tl.randn(7)                        # the library generator is not the one drawn from
    again = [tl.randn(3, generator=g), tl.rand(2, generator=g), tl.randint(0, 9, (4,), generator=g),
             tl.randperm(5, generator=g)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_indexing_with_a_range_as_pytorch():
    for T in (tl, torch):
        x = T.zeros(3, 4)
        x[range(3), T.tensor([0, 1, 2])] = 5
        assert x.sum().item() == 15 and tuple(x[:, range(0, 4, 2)].shape) == (3, 2)


def test_weighted_random_sampler_draws_by_weight():
    s = tl.data.WeightedRandomSampler([0.1, 0.0, 0.9], 4000,
                                      generator=tl.Generator().manual_seed(0))
    counts = np.bincount(list(s), minlength=3)
    assert len(s) == 4000 and counts[1] == 0 and abs(counts[2] / 4000 - 0.9) < 0.03
    assert sorted(tl.data.WeightedRandomSampler(tl.tensor([1.0, 1, 1, 0]), 3,
                                                replacement=False)) == [0, 1, 2]
    with pytest.raises(ValueError, match="WeightedRandomSampler: num_samples"):
        tl.data.WeightedRandomSampler([1.0], 0)
    with pytest.raises(RuntimeError, match="without replacement"):
        tl.data.WeightedRandomSampler([1.0, 0.0], 2, replacement=False)
    loader = tl.data.DataLoader(tl.data.TensorDataset(tl.arange(3)), batch_size=5, sampler=s)
    assert len(loader) == 800


def test_saving_a_whole_model_says_to_save_its_state_dict(tmp_path):
    import nn
    with pytest.raises(TypeError, match=r"save: cannot save a whole Linear .*state_dict\(\)"):
        tl.save(nn.Linear(1, 1), str(tmp_path / "net.pkl"))
    with pytest.raises(TypeError, match=r"save: cannot save a whole SGD"):
        tl.save({"opt": tl.optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1)},
                str(tmp_path / "ckpt.pt"))
    assert not (tmp_path / "net.pkl").exists()
