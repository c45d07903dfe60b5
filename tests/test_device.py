"""The CPU device: PyTorch-style device code runs unchanged; other devices are refused."""
import numpy as np
import pytest

import nn
import tensorlite as tl


def test_to_accepts_pytorchs_call_forms():
    x = tl.ones(2, 3)
    assert x.to("cpu") is x and x.to(tl.device("cpu")) is x and x.to(device="cpu") is x
    assert x.to("cpu", tl.float64).dtype == tl.float64
    assert x.to(tl.zeros(1, dtype=tl.float64)).dtype == tl.float64
    assert x.to(dtype=tl.float64, device="cpu:0").dtype == tl.float64
    assert x.to(tl.float32) is x
    y = x.to("cpu", copy=True)
    assert y is not x and np.array_equal(y.numpy(), x.numpy())
    y.data[0, 0] = 5
    assert x.numpy()[0, 0] == 1


def test_device_attribute_and_equality():
    x = tl.zeros(3)
    assert x.device == tl.device("cpu") == "cpu" and str(x.device) == "cpu"
    assert x.device.type == "cpu" and not x.is_cuda
    assert repr(tl.device("cpu:0")) == "device(type='cpu', index=0)"
    assert tl.device("cpu") != "cuda"


@pytest.mark.parametrize("bad", ["cuda", "cuda:0", "mps", "cpu:1", "cpu:x"])
def test_other_devices_are_refused(bad):
    x = tl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="to: .*"):
        x.to(bad)
    m = nn.Linear(2, 2)
    before = m.weight.numpy().copy()
    with pytest.raises(RuntimeError):
        m.to(bad)
    np.testing.assert_array_equal(m.weight.numpy(), before)


def test_cuda_is_not_available_and_cuda_calls_say_so():
    device = "cuda" if tl.cuda.is_available() else "cpu"
    assert device == "cpu" and tl.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="CPU only"):
        tl.ones(2).cuda()
    with pytest.raises(RuntimeError, match="Linear.cuda.*CPU only"):
        nn.Linear(2, 2).cuda()


def test_module_to_device_and_dtype():
    m = nn.Linear(2, 2)
    assert m.to("cpu") is m and m.weight.dtype == tl.float32
    m.to("cpu", tl.float64)
    assert m.weight.dtype == tl.float64
    with pytest.raises(TypeError, match="floating-point"):
        m.to(tl.int64)


def test_inference_mode_is_no_grad():
    w = tl.ones(2, requires_grad=True)
    with tl.inference_mode():
        assert not (w * 2).requires_grad
    with tl.inference_mode(False):
        assert (w * 2).requires_grad

    @tl.inference_mode()
    def f():
        return w * 2

    @tl.inference_mode
    def g():
        return w * 2

    assert not f().requires_grad and not g().requires_grad and tl.is_grad_enabled()
    with pytest.raises(TypeError, match="inference_mode"):
        tl.inference_mode("yes")


@pytest.mark.parametrize("make", [
    lambda d: tl.tensor([1.0], device=d), lambda d: tl.as_tensor([1.0], device=d),
    lambda d: tl.zeros(2, device=d), lambda d: tl.ones(2, device=d),
    lambda d: tl.empty(2, device=d), lambda d: tl.full((2,), 1.0, device=d),
    lambda d: tl.eye(2, device=d), lambda d: tl.arange(3, device=d),
    lambda d: tl.linspace(0, 1, 3, device=d), lambda d: tl.rand(2, device=d),
    lambda d: tl.randn(2, device=d), lambda d: tl.randint(0, 3, (2,), device=d),
    lambda d: tl.randperm(3, device=d), lambda d: tl.zeros_like(tl.ones(2), device=d),
    lambda d: tl.full_like(tl.ones(2), 3.0, device=d), lambda d: tl.ones(2).new_zeros(3, device=d),
])
def test_creation_functions_take_a_cpu_device_and_refuse_others(make):
    assert make("cpu").device == "cpu" and make(tl.device("cpu")).device == "cpu"
    state = tl.get_rng_state()
    with pytest.raises(RuntimeError, match="CPU only"):
        make("cuda")
    assert str(tl.get_rng_state()) == str(state)     # refused before any draw


def test_type_names_and_unsupported_half_precision():
    x = tl.ones(2)
    assert x.type() == "tensorlite.FloatTensor" and tl.ones(2, dtype=tl.int64).type() == \
        "tensorlite.LongTensor"
    assert x.type("torch.DoubleTensor").dtype == tl.float64
    assert x.type(tl.int64).dtype == tl.int64
    for call in (x.half, x.bfloat16, lambda: x.type("torch.HalfTensor")):
        with pytest.raises(TypeError):
            call()
