"""Functional forms of the layers and losses (``import nn.functional as F``).

Ops backed by numba kernels (convolution, pooling, embedding, fused cross-entropy,
dropout) live in ``tensorlite.ops`` and are imported on first call, so ``import nn``
does not load numba. Everything else is written here from differentiable core ops, so
gradients of gradients work through it. Three hot or delicate ones are single graph
nodes: ``linear`` and the normalisations (one node instead of several; their backward
runs on arrays in ordinary training and as differentiable Tensor ops under
``create_graph``) and ``softplus`` (smooth where the composed form has kinks).

``F.conv2d`` is cross-correlation, PyTorch's convention. The lecture's convolution (the
kernel's rows and columns flipped) is ``F.conv2d(x, w.flip((-2, -1)))``.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Optional, Sequence, Union

import numpy as np

import tensorlite as tl
from tensorlite import Tensor
from tensorlite._checks import broadcast_shape, check_float, check_indices, pair, shape_str
from tensorlite.autograd import Function
from tensorlite.ops.broadcast import as_operand, unbroadcast
from tensorlite.tensor import _make

__all__ = [
    "linear", "relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid", "softplus",
    "softmax", "log_softmax", "one_hot", "flatten", "pad", "dropout", "dropout1d", "dropout2d",
    "batch_norm", "layer_norm",
    "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "embedding", "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy_with_logits",
    "binary_cross_entropy", "l1_loss", "smooth_l1_loss", "huber_loss", "conv1d", "max_pool1d",
    "avg_pool1d", "hardtanh", "relu6", "logsigmoid", "prelu", "kl_div",
    "normalize", "cosine_similarity", "pairwise_distance",
]

_REDUCTIONS = ("mean", "sum", "none")


def _const(a: np.ndarray) -> Tensor:
    return _make(a, False, None, 0, None)


def _check_tensor(op: str, name: str, x: Any) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")


def _check_same_dtype(op: str, input: Tensor, name: str, t: Tensor) -> None:
    # As PyTorch ("mixed dtype"): a float64 input through a float32 module is a forgotten
    # .double(), and silently promoting would also write float64 statistics into float32
    # buffers.
    if t.dtype != input.dtype:
        raise TypeError(f"{op}: input ({input.dtype}) and {name} ({t.dtype}) must have the same "
                        "dtype (convert the input, or the module with .double()/.float())")


def _legacy_reduction(size_average: Optional[bool], reduce: Optional[bool],
                      reduction: str) -> str:
    """PyTorch's deprecated size_average/reduce flags turned into a ``reduction`` (they win
    over it when given, with PyTorch's warning). The losses take them where PyTorch does,
    before ``reduction``, so positional calls written for PyTorch mean the same here."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", UserWarning, stacklevel=3)
    return ret


def _reduce(op: str, loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


# ---------------------------------------------------------------------------------------
# Linear and activations
# ---------------------------------------------------------------------------------------
class _Linear(Function):
    """y = x W^T + b as one node: x (M, in), W (out, in), b (out,) or None -> (M, out).

    Without ``create_graph`` the backward is three BLAS/numpy calls on the arrays; with it,
    the same formulas run as differentiable Tensor ops, so double backward works.
    """

    @staticmethod
    def forward(ctx, x, w, b):
        need_x, need_w = ctx.needs_input_grad[:2]
        ctx.save_for_backward(x if need_w else None, w if need_x else None)
        y = np.dot(x._data, w._data.T)
        if b is not None:
            y += b._data
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        if not tl.is_grad_enabled():
            gd = g._data
            return (_const(np.dot(gd, w._data)) if need_x else None,
                    _const(np.dot(gd.T, x._data)) if need_w else None,
                    _const(_column_sums(gd)) if need_b else None)
        return (g.matmul(w) if need_x else None,
                g.t().matmul(x) if need_w else None,
                g.sum(0) if need_b else None)


def _column_sums(g: np.ndarray) -> np.ndarray:
    """g.sum(0) of a 2-D gradient; large ones as a BLAS product ones @ g, which reads g once
    at BLAS speed (2.2x numpy's sum on the (700, 10000) gradient of a language model's
    decoder)."""
    if g.shape[0] >= 64 and g.size >= 1 << 16 and g.flags.c_contiguous:
        return np.dot(np.ones(g.shape[0], dtype=g.dtype), g)
    return g.sum(0)


def linear(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """y = x W^T + b: input (..., in), weight (out, in), bias (out,) -> (..., out)."""
    op = "linear"
    _check_tensor(op, "input", input)
    _check_tensor(op, "weight", weight)
    if weight.ndim != 2:
        raise ValueError(f"{op}: weight must be 2-D (out_features, in_features), got shape "
                         f"{shape_str(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"{op}: input of shape {shape_str(input.shape)} does not match weight "
                         f"of shape {shape_str(weight.shape)} (expected last dim "
                         f"{weight.shape[1]})")
    if bias is not None:
        _check_tensor(op, "bias", bias)
        if tuple(bias.shape) != (weight.shape[0],):
            raise ValueError(f"{op}: bias must have shape ({weight.shape[0]},), got "
                             f"{shape_str(bias.shape)}")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise TypeError(f"{op}: input ({input.dtype}), weight ({weight.dtype})"
                        + (f" and bias ({bias.dtype})" if bias is not None else "")
                        + " must have the same dtype (convert the input, or the module with "
                        ".double()/.float())")
    if input.ndim == 2:
        return _Linear.apply(input, weight, bias)
    # One GEMM over all leading dims rather than a batched product per leading index.
    lead = input.shape[:-1]
    y = _Linear.apply(input.reshape(-1, input.shape[-1]), weight, bias)
    return y.reshape(lead + (weight.shape[0],))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); the gradient at 0 is 0 (PyTorch's convention). ``inplace`` is accepted
    for compatibility; the result is always a new tensor."""
    _check_tensor("relu", "input", input)
    return input.relu()


def tanh(input: Tensor) -> Tensor:
    _check_tensor("tanh", "input", input)
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    _check_tensor("sigmoid", "input", input)
    return input.sigmoid()


class _Softplus(Function):
    """log(1 + exp(x)), computed stably as max(x, 0) + log1p(exp(-|x|)).

    Written as one op because the composed form has kinks at 0 (relu, abs) whose
    conventional gradients there would not add up to the true derivative sigmoid(0).
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xd = x._data
        return np.maximum(xd, 0) + np.log1p(np.exp(-np.abs(xd)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sigmoid()


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/beta) log(1 + exp(beta x)); the identity where beta x > threshold (as PyTorch)."""
    check_float("softplus", "input", input)
    y = _Softplus.apply(input) if beta == 1 else _Softplus.apply(input * beta) / beta
    if threshold is not None:
        above = input._data * beta > threshold
        if above.any():
            y = tl.where(_const(above), input, y)
    return y


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, negative_slope * x elsewhere (the gradient at 0 is negative_slope, as
    PyTorch's). ``inplace`` is accepted for compatibility; the result is a new tensor."""
    _check_tensor("leaky_relu", "input", input)
    check_float("leaky_relu", "input", input)
    _check_number("leaky_relu", "negative_slope", negative_slope)
    return tl.where(input > 0, input, input * negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, alpha * (exp(x) - 1) elsewhere (Clevert et al. 2016)."""
    _check_tensor("elu", "input", input)
    check_float("elu", "input", input)
    _check_number("elu", "alpha", alpha)
    # exp of the clamped input: the branch where() discards must stay finite, or its zero
    # gradient times exp(large x) = inf would turn into NaN.
    negative = (input.clamp(max=0.0).exp() - 1) * alpha
    return tl.where(input > 0, input, negative)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF (Hendrycks and Gimpel 2016): exactly
    0.5 x (1 + erf(x / sqrt 2)), or with ``approximate="tanh"`` the paper's
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    _check_tensor("gelu", "input", input)
    check_float("gelu", "input", input)
    if approximate == "none":
        return input * 0.5 * (1 + (input * (1 / math.sqrt(2.0))).erf())
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * _SQRT_2_OVER_PI
        return input * 0.5 * (1 + inner.tanh())
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x), also called swish."""
    _check_tensor("silu", "input", input)
    check_float("silu", "input", input)
    return input * input.sigmoid()


def _check_number(op: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value):
        raise ValueError(f"{op}: {name} must be a finite number, got {value!r}")


def _softmax_dim(op: str, ndim: int, dim: Optional[int]) -> int:
    if dim is not None:
        return dim
    warnings.warn(f"{op}: implicit dimension choice is deprecated; pass dim explicitly",
                  UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: Optional[int] = None, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (stable)."""
    _check_tensor("softmax", "input", input)
    if dtype is not None:
        input = input.to(dtype)
    return input.softmax(_softmax_dim("softmax", input.ndim, dim))


def log_softmax(input: Tensor, dim: Optional[int] = None, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along ``dim`` (stable)."""
    _check_tensor("log_softmax", "input", input)
    if dtype is not None:
        input = input.to(dtype)
    return input.log_softmax(_softmax_dim("log_softmax", input.ndim, dim))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding: indices of shape S -> shape S + (num_classes,).

    ``num_classes=-1`` means max(index) + 1. Not differentiable (an integer result).
    """
    op = "one_hot"
    idx = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer tensor, got dtype {idx.dtype}")
    if num_classes == -1:
        if idx.size == 0:
            raise ValueError(f"{op}: cannot infer the number of classes from an empty tensor")
        num_classes = int(idx.max()) + 1
    if num_classes < 1 and idx.size:
        raise ValueError(f"{op}: num_classes must be positive, got {num_classes}")
    check_indices(op, idx, num_classes, "class values")
    out = np.zeros(idx.shape + (num_classes,), np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.int64), 1, axis=-1)
    return _const(out)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    # Checked: an ndarray also has a .flatten, whose complaint would not name this op.
    _check_tensor("flatten", "input", input)
    return input.flatten(start_dim, end_dim)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """PyTorch's F.pad: ``pad`` lists (left, right) pairs from the last dim backwards."""
    return tl.pad(input, pad, mode, value)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p (training only), scale the rest by 1/(1-p).
    ``inplace`` is accepted for compatibility; the result is always a new tensor."""
    from tensorlite.ops.dropout import dropout as _dropout
    return _dropout(input, p, training)


def _feature_dropout(op: str, input: Tensor, p: float, training: bool) -> Tensor:
    """Zero whole channels: one Bernoulli draw per (dim 0, dim 1) entry, shared by the
    remaining dims, the survivors scaled by 1/(1-p) (PyTorch's feature dropout)."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: probability must be a number, got {type(p).__name__} {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    _check_tensor(op, "input", input)
    if not training or p == 0.0:
        return input
    check_float(op, "input", input)
    if p == 1.0:
        return input * 0.0
    from tensorlite.random import generator
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    keep = generator().random(shape, dtype=np.float64 if input.dtype == np.float64
                              else np.float32) >= p
    mask = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return input * _const(mask)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) input with probability p (training only)."""
    _check_tensor("dropout1d", "input", input)
    if input.ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape "
                         f"{shape_str(input.shape)}")
    if input.ndim == 2:
        return _feature_dropout("dropout1d", input.unsqueeze(0), p, training).squeeze(0)
    return _feature_dropout("dropout1d", input, p, training)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) input with probability p (training only).

    As in PyTorch, a 3-D input is taken as (N, C, L) (with PyTorch's warning), not as an
    unbatched (C, H, W).
    """
    _check_tensor("dropout2d", "input", input)
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-D or 4-D (N, C, H, W) input, got shape "
                         f"{shape_str(input.shape)}")
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim (as PyTorch does); use "
                      "dropout1d for that", UserWarning, stacklevel=2)
    return _feature_dropout("dropout2d", input, p, training)


# ---------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------
class _Normalize(Function):
    """y = xhat * weight + bias with xhat = (x - mean) / sqrt(var + eps), the statistics
    taken over ``dims`` (batch norm: all but the channel dim; layer norm: the trailing dims).

    One node instead of a dozen: the caller passes ``centered`` = x - mean (a scratch array
    this op turns into xhat in place) and the biased ``var``, both with kept dims;
    ``weight``/``bias`` arrive already shaped to broadcast against x, and a bias comes only
    with a weight (of the same shape). The gradient is

        gxhat = g * weight
        gx = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat))     (means over dims)
        gweight = sum(g * xhat), gbias = sum(g)     (summed down to the parameter's shape)

    computed on arrays, or with ``create_graph`` as differentiable Tensor ops recomputed
    from x, so double backward works.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, centered, var, eps, dims):
        rstd = 1.0 / np.sqrt(var + eps)
        xhat = np.multiply(centered, rstd, out=centered)
        # Saved (not kept as ctx attributes) so the arrays are freed after backward.
        ctx.save_for_backward(x, weight, xhat, rstd)
        ctx.eps, ctx.dims = eps, dims
        if weight is None:
            y = xhat.copy()
        else:
            y = xhat * weight._data
        if bias is not None:
            y += bias._data
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight, xhat_t, rstd_t = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dims = ctx.dims
        if not tl.is_grad_enabled():
            gd, xhat = g._data, xhat_t._data
            gx = gw = gb = None
            gxhat = gd if weight is None else gd * weight._data
            if need_x:
                gx = gxhat - gxhat.mean(axis=dims, keepdims=True)
                gx -= xhat * (gxhat * xhat).mean(axis=dims, keepdims=True)
                gx *= rstd_t._data
                gx = _const(gx)
            if need_w:
                gw = _const(_sum_to(gd * xhat, weight.shape))
            if need_b:
                gb = _const(_sum_to(gd, weight.shape))
            return gx, gw, gb
        # create_graph: the same formulas as Tensor ops, xhat recomputed from x.
        centered = x - x.mean(dims, keepdim=True)
        rstd = ((centered * centered).mean(dims, keepdim=True) + ctx.eps) ** -0.5
        xhat = centered * rstd
        gxhat = g if weight is None else g * weight
        gx = gw = gb = None
        if need_x:
            gx = rstd * (gxhat - gxhat.mean(dims, keepdim=True)
                         - xhat * (gxhat * xhat).mean(dims, keepdim=True))
        if need_w:
            gw = unbroadcast(g * xhat, tuple(weight.shape))
        if need_b:
            gb = unbroadcast(g, tuple(weight.shape))
        return gx, gw, gb


def _sum_to(a: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a broadcast-shaped gradient array down to ``shape`` (keeping its rank)."""
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and a.shape[lead + i] != 1)
    return a.sum(axis=axes).reshape(shape) if axes else a


def _normalize(input: Tensor, weight: Optional[Tensor], bias: Optional[Tensor],
               centered: np.ndarray, var: np.ndarray, eps: float, dims: tuple) -> Tensor:
    if weight is None and bias is not None:
        # Rare (bias without weight): keep the fused op simple, add the bias outside.
        return _Normalize.apply(input, None, None, centered, var, eps, dims) + bias
    return _Normalize.apply(input, weight, bias, centered, var, eps, dims)


def batch_norm(input: Tensor, running_mean: Optional[Tensor], running_var: Optional[Tensor],
               weight: Optional[Tensor] = None, bias: Optional[Tensor] = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) of (N, C, ...) over the batch and spatial dims.

    Training: y = (x - mean) / sqrt(var + eps) * weight + bias with the batch's mean and
    biased variance; the running statistics (if given) move by ``momentum`` towards the
    batch mean and the *unbiased* variance, as in PyTorch. Evaluation: the running
    statistics replace the batch's.
    """
    op = "batch_norm"
    _check_tensor(op, "input", input)
    check_float(op, "input", input)
    if input.ndim < 2:
        raise ValueError(f"{op}: input must have a channel dim (N, C, ...), got shape "
                         f"{shape_str(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is None:
            continue
        _check_tensor(op, name, t)
        if tuple(t.shape) != (c,):
            raise ValueError(f"{op}: {name} must have shape ({c},) for input of shape "
                             f"{shape_str(input.shape)}, got {shape_str(t.shape)}")
        _check_same_dtype(op, input, name, t)
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training and input.numel() == 0:
        # An empty batch (as PyTorch): an empty result, the running statistics untouched,
        # and still a (zero) gradient for weight and bias.
        out = input * 1.0
        if weight is not None:
            out = out * weight.reshape(shape)
        if bias is not None:
            out = out + bias.reshape(shape)
        return out
    from tensorlite.ops import normalization as _norm  # fused kernels (imported on first use)
    if training:
        n = input.numel() // max(c, 1)
        if n <= 1:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, got "
                             f"input of shape {shape_str(input.shape)}")
        out, mean, var = _norm.batch_norm_train(input, weight, bias, eps)
        if running_mean is not None:
            _update_running(running_mean, mean.astype(input.dtype), momentum)
        if running_var is not None:
            _update_running(running_var, (var * (n / (n - 1))).astype(input.dtype), momentum)
        return out
    if running_mean is None or running_var is None:
        raise ValueError(f"{op}: running_mean and running_var are needed when not training")
    return _norm.batch_norm_eval(input, weight, bias, running_mean._data, running_var._data, eps)


def _update_running(stat: Tensor, batch_value: np.ndarray, momentum: float) -> None:
    # Exponential moving average, in place (the buffer's identity and dtype are kept).
    stat._data[...] = (1 - momentum) * stat._data + momentum * batch_value
    stat._version[0] += 1


def layer_norm(input: Tensor, normalized_shape: Union[int, Sequence[int]],
               weight: Optional[Tensor] = None, bias: Optional[Tensor] = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims (biased variance), then
    scale by ``weight`` and shift by ``bias`` (both of that shape)."""
    op = "layer_norm"
    _check_tensor(op, "input", input)
    check_float(op, "input", input)
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise ValueError(f"{op}: input of shape {shape_str(input.shape)} does not end with "
                         f"normalized_shape {shape_str(shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is None:
            continue
        _check_tensor(op, name, t)
        if tuple(t.shape) != shape:
            raise ValueError(f"{op}: {name} must have shape {shape_str(shape)}, got "
                             f"{shape_str(t.shape)}")
        _check_same_dtype(op, input, name, t)
    dims = tuple(range(input.ndim - k, input.ndim))
    xd = input._data
    centered = xd - xd.mean(axis=dims, keepdims=True)
    var = np.square(centered).mean(axis=dims, keepdims=True)
    return _normalize(input, weight, bias, centered, var, eps, dims)


# ---------------------------------------------------------------------------------------
# Kernel-backed ops (tensorlite.ops), imported on first use
# ---------------------------------------------------------------------------------------
def conv2d(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """Cross-correlation of (N, C, H, W) with weight (O, C/groups, kh, kw) -> (N, O, Ho, Wo).

    The lecture's convolution (flipped kernel) is ``conv2d(x, w.flip((-2, -1)))``.
    """
    from tensorlite.ops.conv import conv2d as _conv2d
    return _conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed convolution: (N, C_in, H, W) with weight (C_in, C_out/groups, kh, kw)."""
    from tensorlite.ops.conv import conv_transpose2d as _conv_transpose2d
    return _conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """Maximum over kh x kw windows: (N, C, H, W) -> (N, C, Ho, Wo).

    With ``return_indices`` also the int64 position of each maximum, flattened over the
    input's (H, W) plane (PyTorch's convention, as ``MaxUnpool2d`` expects).
    """
    from tensorlite.ops.pool import max_pool2d as _max_pool2d
    if dilation != 1 or return_indices:
        dil = pair("max_pool2d", "dilation", dilation, 1)
        if dil != (1, 1) or return_indices:
            return _max_pool2d_gather(input, kernel_size, stride, padding, dil, ceil_mode,
                                      return_indices)
    return _max_pool2d(input, kernel_size, stride, padding, 1, ceil_mode, False)


def _first_max(windows: np.ndarray, valid: Optional[np.ndarray] = None) -> np.ndarray:
    """Index of each window's winner along the last axis, by PyTorch's CPU pooling loop:
    start from -inf at the window's first cell inside the input, take a value when it is
    greater than the best so far or NaN. So the last NaN wins, else the first maximum, and
    a window of nothing but -inf picks its first cell inside the input (padding cells,
    False in ``valid``, are never picked). The fused kernel follows the same rule."""
    nan = np.isnan(windows)
    top = windows.argmax(-1)  # the first maximum (NaN rows are replaced below)
    top_value = np.take_along_axis(windows, top[..., None], -1)[..., 0]
    first_cell = 0 if valid is None else np.argmax(valid, -1)
    pick = np.where(top_value > -np.inf, top, first_cell)
    last_nan = windows.shape[-1] - 1 - nan[..., ::-1].argmax(-1)
    return np.where(nan.any(-1), last_nan, pick)


def _max_pool2d_gather(input: Tensor, kernel_size: Any, stride: Any, padding: Any,
                       dilation: tuple, ceil_mode: bool, return_indices: bool) -> Any:
    """Max pooling the fused kernel does not cover (dilation, return_indices): the winner of
    each window is found on the arrays, then gathered by differentiable indexing, so the
    gradient goes to that one element (the first maximum in row-major window order, as in
    PyTorch) and double backward works."""
    from tensorlite.ops.pool import _check_input, _out_len, check_nonempty
    op = "max_pool2d"
    _check_input(op, input)
    check_nonempty(op, input)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"{op}: ceil_mode must be a bool, got {ceil_mode!r}")
    k = pair(op, "kernel_size", kernel_size, 1)
    empty = isinstance(stride, (tuple, list)) and len(stride) == 0   # PyTorch's default too
    s = k if stride is None or empty else pair(op, "stride", stride, 1)
    p = pair(op, "padding", padding, 0)
    # PyTorch bounds the padding by the kernel size, not the dilated extent.
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{op}: padding {p} must be at most half the kernel size {k}")
    eff = tuple(d * (kk - 1) + 1 for d, kk in zip(dilation, k))
    x = input.unsqueeze(0) if input.ndim == 3 else input
    n, c, h, w = x.shape
    ho, wo = (_out_len(size, e, ss, pp, bool(ceil_mode))
              for size, e, ss, pp in zip((h, w), eff, s, p))
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: the dilated kernel {eff} is larger than the padded input "
                         f"{h + 2 * p[0]}x{w + 2 * p[1]}")
    # -inf padding on every side a window can reach (the right side also for ceil_mode).
    extra = tuple(max(0, (o - 1) * ss + e - size - pp)
                  for o, ss, e, size, pp in zip((ho, wo), s, eff, (h, w), p))
    xp = tl.pad(x, (p[1], extra[1], p[0], extra[0]), value=-np.inf)
    xd = xp._data
    rows = np.arange(ho)[:, None] * s[0] + np.arange(k[0])[None, :] * dilation[0]   # (ho, kh)
    cols = np.arange(wo)[:, None] * s[1] + np.arange(k[1])[None, :] * dilation[1]   # (wo, kw)
    # windows[n, c, oh, ow, i, j] = xp[n, c, rows[oh, i], cols[ow, j]]
    windows = xd[:, :, rows[:, None, :, None], cols[None, :, None, :]]
    flat = windows.reshape(n, c, ho, wo, k[0] * k[1])
    # which window cells lie inside the input (not in the padding or ceil_mode's overhang)
    inside_r = (rows >= p[0]) & (rows < p[0] + h)                                   # (ho, kh)
    inside_c = (cols >= p[1]) & (cols < p[1] + w)                                   # (wo, kw)
    if not (inside_r.any(1).all() and inside_c.any(1).all()):
        # PyTorch 2.13 reads outside the input for such a window (garbage indices, heap
        # corruption); a maximum over no input cell has no value
        raise ValueError(f"{op}: with dilation {dilation} and padding {p} a window lies wholly in "
                         f"the padding of the {h}x{w} input (it covers no input cell)")
    valid = (inside_r[:, None, :, None] & inside_c[None, :, None, :]).reshape(ho, wo, -1)
    win = _first_max(flat, valid)
    i, j = np.divmod(win, k[1])
    hh = rows[np.arange(ho)[:, None], i]          # (n, c, ho, wo) rows in the padded input
    ww = cols[np.arange(wo)[None, :], j]
    nn_idx = np.arange(n)[:, None, None, None]
    cc_idx = np.arange(c)[None, :, None, None]
    out = xp[nn_idx, cc_idx, hh, ww]
    if input.ndim == 3:
        out = out.squeeze(0)
    if not return_indices:
        return out
    indices = (hh - p[0]) * w + (ww - p[1])
    if input.ndim == 3:
        indices = indices[0]
    return out, _const(indices.astype(np.int64))


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: Optional[int] = None) -> Tensor:
    """Mean over kh x kw windows: (N, C, H, W) -> (N, C, Ho, Wo)."""
    from tensorlite.ops.pool import avg_pool2d as _avg_pool2d
    return _avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed output size (Ho, Wo)."""
    from tensorlite.ops.pool import adaptive_avg_pool2d as _adaptive_avg_pool2d
    return _adaptive_avg_pool2d(input, output_size)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling to a fixed output size (Ho, Wo): output cell (i, j) is the maximum over
    rows [floor(i*H/Ho), ceil((i+1)*H/Ho)) and columns [floor(j*W/Wo), ceil((j+1)*W/Wo)),
    PyTorch's adaptive windows. As in ``max_pool2d``'s gather path, the winner of each window
    (the first maximum; the last NaN) is found on the arrays and gathered by differentiable
    indexing, so the gradient reaches that one element and double backward works.
    """
    from tensorlite.ops.pool import _check_input, check_geometry
    op = "adaptive_max_pool2d"
    _check_input(op, input)
    if not isinstance(return_indices, (bool, np.bool_)):
        raise TypeError(f"{op}: return_indices must be a bool, got {return_indices!r}")
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise TypeError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
        output_size = tuple(input.shape[-2 + i] if v is None else v
                            for i, v in enumerate(output_size))
    ho, wo = pair(op, "output_size", output_size, 1)
    check_geometry(op, output_size=(ho, wo))
    x = input.unsqueeze(0) if input.ndim == 3 else input
    n, c, h, w = x.shape
    if h == 0 or w == 0:
        # a window over nothing has no maximum
        raise ValueError(f"{op}: expected non-zero spatial sizes, got input of shape "
                         f"{shape_str(input.shape)}")
    xd = x._data
    hh = np.empty((n, c, ho, wo), np.int64)
    ww = np.empty((n, c, ho, wo), np.int64)
    for i in range(ho):
        r0, r1 = (i * h) // ho, -(-((i + 1) * h) // ho)
        for j in range(wo):
            c0, c1 = (j * w) // wo, -(-((j + 1) * w) // wo)
            win = xd[:, :, r0:r1, c0:c1].reshape(n, c, (r1 - r0) * (c1 - c0))
            k = _first_max(win)
            di, dj = np.divmod(k, c1 - c0)
            hh[:, :, i, j] = r0 + di
            ww[:, :, i, j] = c0 + dj
    out = x[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], hh, ww]
    indices = hh * w + ww
    if input.ndim == 3:
        out, indices = out.squeeze(0), indices[0]
    if not return_indices:
        return out
    return out, _const(indices)


def embedding(input: Tensor, weight: Tensor, padding_idx: Optional[int] = None,
              max_norm: Optional[float] = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (V, D) at integer indices ``input`` (any shape) -> input.shape + (D,).

    ``max_norm`` renormalises (in place, as PyTorch) the looked-up rows whose norm exceeds it.
    """
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse are not supported")
    from tensorlite.ops.embedding import check_embedding_args, lookup
    # Every argument is checked before max_norm may rescale rows of the weight in place.
    idx, pad = check_embedding_args(input, weight, padding_idx)
    if max_norm is not None:
        for name, v in (("max_norm", max_norm), ("norm_type", norm_type)):
            _check_number("embedding", name, v)
        if max_norm < 0:
            raise ValueError(f"embedding: max_norm must be non-negative, got {max_norm!r}")
        _renorm_rows(idx, weight, max_norm, norm_type)
    return lookup(idx, weight, pad)


def _renorm_rows(idx: np.ndarray, weight: Tensor, max_norm: float, norm_type: float) -> None:
    rows = np.unique(idx)
    norms = np.linalg.norm(weight._data[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        scale = max_norm / (norms[big] + 1e-7)
        weight._data[rows[big]] *= scale[:, None].astype(weight.dtype)
        weight._version[0] += 1


# ---------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------
def cross_entropy(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                  size_average: Optional[bool] = None, ignore_index: int = -100,
                  reduce: Optional[bool] = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits (N, C, d1, ...) against class indices (N, d1, ...) or class
    probabilities (the input's shape)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    from tensorlite.ops.loss import cross_entropy as _cross_entropy
    return _cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)


def nll_loss(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
             size_average: Optional[bool] = None, ignore_index: int = -100,
             reduce: Optional[bool] = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C, d1, ...) at class indices."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    from tensorlite.ops.loss import nll_loss as _nll_loss
    return _nll_loss(input, target, weight, ignore_index, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average: Optional[bool] = None,
             reduce: Optional[bool] = None, reduction: str = "mean",
             weight: Optional[Tensor] = None) -> Tensor:
    """(input - target)^2, reduced by 'mean' (default), 'sum' or 'none'.

    ``weight`` (the input's shape) scales each squared error; its 'mean' is then the
    weighted mean sum(w * e) / sum(w), as in PyTorch.
    """
    op = "mse_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_tensor(op, "input", input)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if not isinstance(target, Tensor):
        target = as_operand(target, input, op)
    if target.shape != input.shape:
        # Broadcasting, as PyTorch (with its warning); but shapes that do not broadcast are
        # reported here, under this op's name rather than the subtraction's.
        broadcast_shape(op, input.shape, target.shape)
        warnings.warn(f"{op}: target size {shape_str(target.shape)} differs from input size "
                      f"{shape_str(input.shape)}; they will be broadcast", UserWarning,
                      stacklevel=2)
    if weight is not None:
        _check_tensor(op, "weight", weight)
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError(f"{op}: weight of shape {shape_str(weight.shape)} must have the "
                             f"input's shape {shape_str(input.shape)}")
    diff = input - target
    if weight is None:
        return _reduce(op, diff * diff, reduction)
    loss = diff * diff * weight.to(input.dtype)
    if reduction == "mean":
        return loss.sum() / weight.to(input.dtype).sum()
    return _reduce(op, loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Optional[Tensor] = None,
                                     size_average: Optional[bool] = None,
                                     reduce: Optional[bool] = None, reduction: str = "mean",
                                     pos_weight: Optional[Tensor] = None) -> Tensor:
    """-[pos_weight * y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], computed stably as
    (1 - y) x + (1 + (pos_weight - 1) y) softplus(-x), i.e. max(x, 0) - x y + log(1 + e^-|x|)
    without pos_weight; ``weight`` rescales each element."""
    op = "binary_cross_entropy_with_logits"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_tensor(op, "input", input)
    check_float(op, "input", input)
    if not isinstance(target, Tensor):
        target = as_operand(target, input, op)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: target size {shape_str(target.shape)} must be the same as input "
                         f"size {shape_str(input.shape)}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    for name, t in (("weight", weight), ("pos_weight", pos_weight)):
        if t is not None:
            _check_tensor(op, name, t)
            # the loss is elementwise: the weights must broadcast to the input, not beyond it
            if broadcast_shape(op, t.shape, input.shape) != tuple(input.shape):
                raise ValueError(f"{op}: {name} of shape {shape_str(t.shape)} does not broadcast "
                                 f"to the input's shape {shape_str(input.shape)}")
    target = target.to(input.dtype)
    log_one_plus = _Softplus.apply(-input)          # -log sigmoid(x)
    if pos_weight is None:
        loss = (1 - target) * input + log_one_plus
    else:
        log_weight = (pos_weight.to(input.dtype) - 1) * target + 1
        loss = (1 - target) * input + log_weight * log_one_plus
    if weight is not None:
        loss = loss * weight.to(input.dtype)
    return _reduce(op, loss, reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                         size_average: Optional[bool] = None, reduce: Optional[bool] = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities in [0, 1] (each log clamped at -100, as
    PyTorch); for logits use ``binary_cross_entropy_with_logits``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    from tensorlite.ops.loss import binary_cross_entropy as _bce
    return _bce(input, target, weight, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: Optional[bool] = None,
            reduce: Optional[bool] = None, reduction: str = "mean") -> Tensor:
    """|input - target|, reduced by 'mean' (default), 'sum' or 'none'."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    from tensorlite.ops.loss import l1_loss as _l1_loss
    return _l1_loss(input, target, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Optional[bool] = None,
                   reduce: Optional[bool] = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    from tensorlite.ops.loss import smooth_l1_loss as _smooth_l1_loss
    return _smooth_l1_loss(input, target, reduction, beta)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target)."""
    from tensorlite.ops.loss import huber_loss as _huber_loss
    return _huber_loss(input, target, reduction, delta)


# ---------------------------------------------------------------------------------------
# 1-D convolution and pooling as their 2-D forms over a height-1 plane; more activations;
# the KL divergence: compositions of differentiable ops
# ---------------------------------------------------------------------------------------
def _as_plane(op: str, input: Any) -> Tensor:
    _check_tensor(op, "input", input)
    if input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape "
                         f"{shape_str(input.shape)}")
    return input.unsqueeze(-2)


def _one(op: str, name: str, v: Any) -> int:
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {v!r}")
        v = v[0]
    return v


def conv1d(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """Cross-correlation of (N, C, L) with weight (O, C/groups, k) -> (N, O, Lo); ``padding``
    may be an int, 'valid' or 'same' (stride 1)."""
    op = "conv1d"
    x = _as_plane(op, input)
    _check_tensor(op, "weight", weight)
    if weight.ndim != 3:
        raise ValueError(f"{op}: weight must be 3-D (out, in/groups, k), got shape "
                         f"{shape_str(weight.shape)}")
    stride, dilation = _one(op, "stride", stride), _one(op, "dilation", dilation)
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{op}: padding must be an int, 'valid' or 'same', got {padding!r}")
        if padding == "same":
            if stride != 1:
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 "convolutions")
            total = dilation * (weight.shape[-1] - 1)
            x = pad(x, (total // 2, total - total // 2))    # an even kernel: one more right
        padding = 0
    out = conv2d(x, weight.unsqueeze(-2), bias, (1, stride), (0, _one(op, "padding", padding)),
                 (1, dilation), groups)
    return out.squeeze(-2)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Maximum over windows of length kernel_size: (N, C, L) -> (N, C, Lo)."""
    op = "max_pool1d"
    x = _as_plane(op, input)
    k = _one(op, "kernel_size", kernel_size)
    s = k if stride is None or stride == [] else _one(op, "stride", stride)
    out = max_pool2d(x, (1, k), (1, s), (0, _one(op, "padding", padding)),
                     (1, _one(op, "dilation", dilation)), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over windows of length kernel_size: (N, C, L) -> (N, C, Lo)."""
    op = "avg_pool1d"
    x = _as_plane(op, input)
    k = _one(op, "kernel_size", kernel_size)
    s = k if stride is None or stride == [] else _one(op, "stride", stride)
    return avg_pool2d(x, (1, k), (1, s), (0, _one(op, "padding", padding)), ceil_mode,
                      count_include_pad).squeeze(-2)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val]."""
    _check_tensor("hardtanh", "input", input)
    if not min_val <= max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    return input.clamp(min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0)


def logsigmoid(input: Tensor) -> Tensor:
    """log sigmoid(x) = -softplus(-x), stable for large |x|."""
    _check_tensor("logsigmoid", "input", input)
    return -_Softplus.apply(-input)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x >= 0, else a x; ``weight`` holds one slope or one per channel (dim 1)."""
    op = "prelu"
    _check_tensor(op, "input", input)
    _check_tensor(op, "weight", weight)
    if weight.ndim != 1:
        raise ValueError(f"{op}: weight must be 1-D, got shape {shape_str(weight.shape)}")
    a = weight
    if weight.shape[0] != 1:
        c = input.shape[1] if input.ndim > 1 else input.shape[0] if input.ndim == 1 else 1
        if weight.shape[0] != c:
            raise ValueError(f"{op}: {weight.shape[0]} slopes for {c} channels")
        if input.ndim > 1:
            a = weight.reshape((1, -1) + (1,) * (input.ndim - 2))
    return tl.where(input >= 0, input, a * input)


def kl_div(input: Tensor, target: Tensor, size_average: Optional[bool] = None,
           reduce: Optional[bool] = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL divergence with log-probabilities ``input``: target (log target - input), 0 where
    the target is 0; 'batchmean' divides the sum by the batch size (the true KL)."""
    op = "kl_div"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_tensor(op, "input", input)
    if not isinstance(target, Tensor):
        target = as_operand(target, input, op)
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS + ('batchmean',)}, got "
                         f"{reduction!r}")
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch size "
                      "and the support size; 'batchmean' divides only by the batch size and "
                      "aligns with the KL math definition.", UserWarning, stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # x log x is 0 at x = 0 (xlogy): the log is taken of 1 there, and the product selected
        positive = target > 0
        safe = tl.where(positive, target, 1.0)
        loss = tl.where(positive, target * safe.log(), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(op, loss, reduction)


# ---------------------------------------------------------------------------------------
# normalize, cosine_similarity, pairwise_distance: compositions of differentiable ops
# ---------------------------------------------------------------------------------------
def _float_number(op: str, name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__} "
                        f"{value!r:.40}")
    return float(value)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,  # noqa: A002
              out: Any = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``: unit vectors, a zero vector stays
    zero. As PyTorch, the gradient where the norm is below ``eps`` does not flow through
    the norm."""
    from tensorlite._checks import normalize_dim
    from tensorlite.ops.linalg import vector_norm
    op = "normalize"
    if out is not None:
        raise TypeError(f"{op}: out= is not supported")
    _check_tensor(op, "input", input)
    eps = _float_number(op, "eps", eps)
    dim = normalize_dim(op, dim, input.ndim)
    denom = vector_norm(input, p, dim, True, _op=op).clamp(min=eps)
    return input / denom


def _straight_clamp(n: Tensor, eps: float) -> Tensor:
    # max(n, eps) whose gradient is that of n itself: PyTorch's cosine_similarity clamps
    # the norms in place under no_grad, so the clamp is invisible to autograd.
    lifted = np.maximum(n._data, eps) - n._data
    return n + _const(lifted.astype(n._data.dtype, copy=False))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim`` (they broadcast):
    ``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))``, PyTorch's formula."""
    from tensorlite._checks import normalize_dim
    from tensorlite.ops.broadcast import promote
    from tensorlite.ops.linalg import vector_norm
    op = "cosine_similarity"
    _check_tensor(op, "x1", x1)
    _check_tensor(op, "x2", x2)
    eps = _float_number(op, "eps", eps)
    if not eps >= 0:
        # a negative floor would let a zero vector's norm clamp to a negative divisor
        raise ValueError(f"{op}: eps must be non-negative, got {eps}")
    dt = promote(x1, x2)
    if dt.kind != "f":
        raise TypeError(f"{op}: expected floating-point inputs, got dtypes {x1.dtype} and "
                        f"{x2.dtype}")
    shape = broadcast_shape(op, x1.shape, x2.shape)
    dim = normalize_dim(op, dim, len(shape))
    x1 = x1.to(dt)
    x2 = x2.to(dt)
    if tuple(x1.shape) != shape:
        x1 = x1.expand(shape)
    if tuple(x2.shape) != shape:
        x2 = x2.expand(shape)
    n1 = _straight_clamp(vector_norm(x1, 2, dim, True, _op=op), eps)
    n2 = _straight_clamp(vector_norm(x2, 2, dim, True, _op=op), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dimension (the inputs broadcast), as PyTorch."""
    from tensorlite.ops.linalg import vector_norm
    op = "pairwise_distance"
    _check_tensor(op, "x1", x1)
    _check_tensor(op, "x2", x2)
    eps = _float_number(op, "eps", eps)
    broadcast_shape(op, x1.shape, x2.shape)
    diff = x1 - x2 + eps
    return vector_norm(diff, p, max(x1.ndim, x2.ndim) - 1 if diff.ndim else None, keepdim,
                       _op=op)
