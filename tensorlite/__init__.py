"""tensorlite: a small deep-learning framework — Tensor with reverse-mode autodiff,
numba kernels, gradient-checked ops.

    import tensorlite as tl
    x = tl.randn(3, 4, requires_grad=True)
    (x.tanh() ** 2).sum().backward()
    x.grad
"""
import os as _os

# OpenBLAS keeps its worker threads spinning ~0.1 s (2^28 cycles) after each call; a
# threaded kernel launched in that window waits for the cores (measured: LeNet-5 training
# step 40 ms -> 13 ms with a short timeout). Too short a timeout puts them to sleep between
# the per-step products of a recurrent layer, and waking them costs more than the spin:
# 2^18 cycles (~0.1 ms) measured 2-layer LSTM 1.35x PyTorch against 1.59x with the
# shortest timeout (means of five runs), LeNet-5 step 1.10x against 1.28x. OpenBLAS reads
# this once, when numpy loads it, so it only takes effect when tensorlite is imported
# before numpy; users can override it.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "18")

from .tensor import Tensor, float32, float64, int64, int32, bool_, as_dtype
from .random import Generator, manual_seed, get_rng_state, set_rng_state
from . import autograd
from .autograd import (Function, no_grad, enable_grad, set_grad_enabled, is_grad_enabled,
                       inference_mode)
from .device import device
from . import accelerator, backends, cuda, mps
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                       linspace, ones, ones_like, rand, rand_like, randint, randint_like, randn,
                       randn_like, randperm, tensor, zeros, zeros_like)
from .creation import logspace, tril_indices, triu_indices
# Every op declared in tensorlite/ops (ops/registry.py): tl.add, tl.exp, tl.logical_and ...
from .ops import *  # noqa: F401,F403
from .ops import registry as _registry
from .legacy import BoolTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor
from .ops.linalg import linalg_namespace as linalg
from .ops import methods as _methods  # noqa: F401  (installs Tensor's operators and methods)
_registry.listeners.append(lambda op: op.export and globals().__setitem__(op.name, op.fn))
import sys as _sys
_sys.modules.setdefault("tensorlite.linalg", linalg)  # import tensorlite.linalg works

bool = bool_  # noqa: A001  (tl.bool, as torch.bool)
float = float32  # noqa: A001
double = float64
long = int64

__version__ = "0.1.0"


def __getattr__(name):
    # Heavier subpackages load on first use, keeping `import tensorlite` fast.
    import importlib
    if name in ("optim", "data", "testing", "kernels", "serialization", "distributed",
                "onnx"):
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".serialization", __name__), name)
    if name in ("gradcheck", "gradgradcheck"):
        return getattr(importlib.import_module(".testing", __name__), name)
    raise AttributeError(f"module 'tensorlite' has no attribute {name!r}")
