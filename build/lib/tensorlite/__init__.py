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
from .ops import (abs, add, all, amax, amin, any, argmax, argmin, cat, chunk, clamp, clone, cos,
                  div, eq, erf, exp, expand, flatten, flip, floor_divide, gather, ge, gt, isfinite,
                  isnan, le, log, log_softmax, logsumexp, lt, matmul, max, maximum, mean, min,
                  minimum, mul, ne, neg, pad, permute, pow, relu, remainder, reshape, sigmoid, sign,
                  sin, softmax, split, sqrt, square, squeeze, stack, std, sub, sum, tanh, transpose,
                  unbind, unsqueeze, var, where)
# -- more elementwise math --
from .ops import (acos, allclose, arccos, arcsin, arctan, arctan2, asin, atan, atan2, ceil, cosh,
                  equal, expm1, fix, floor, fmod, frac, hypot, isclose, isinf, isneginf,
                  isposinf, lerp, log1p, log2, log10, logaddexp, nan_to_num, reciprocal, round,
                  rsqrt, sinh, tan, trunc)
# -- more reductions, scans and sorting --
from .ops import (aminmax, argsort, count_nonzero, cummax, cummin, cumprod, cumsum, kthvalue,
                  logcumsumexp, masked_select, median, msort, nonzero, norm, prod, sort, topk,
                  unique)
# -- more shape and indexing ops, creation helpers --
from .ops import (broadcast_shapes, broadcast_tensors, broadcast_to, concat, concatenate, diag,
                  diagonal, index_select, masked_fill, meshgrid, moveaxis, movedim, narrow,
                  repeat_interleave, roll, scatter, scatter_add, swapaxes, swapdims,
                  take_along_dim, tile, tril, triu, unflatten)
from .creation import is_tensor, logspace, numel, tril_indices, triu_indices
# -- more linear algebra and random sampling --
from .ops import addmm, addmv, baddbmm, bmm, dot, einsum, ger, mm, mv, outer, tensordot
from .random import bernoulli, multinomial, normal
from .legacy import BoolTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor
from .ops.linalg import linalg_namespace as linalg
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
