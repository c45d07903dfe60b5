"""tensorlite: a small deep-learning framework — Tensor with reverse-mode autodiff,
numba kernels, gradient-checked ops.

    import tensorlite as tl
    x = tl.randn(3, 4, requires_grad=True)
    (x.tanh() ** 2).sum().backward()
    x.grad
"""
# Importing tensorlite changes no process-wide setting. BLAS thread tuning is the
# caller's: OPENBLAS_THREAD_TIMEOUT=18 before numpy loads keeps OpenBLAS's workers from
# spinning ~0.1 s after each call (a threaded kernel launched then waits for the cores);
# the project's entry points (python -m models, python -m benchmarks) set it, see
# docs/architecture.md.

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
