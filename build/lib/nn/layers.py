"""Layers with PyTorch's constructor arguments, parameter names, shapes and default
initialisations, so a PyTorch state dict of the same architecture loads by name and
gives the same outputs."""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

import tensorlite as tl
from tensorlite import Tensor
from tensorlite._checks import check_int, is_int, pair, shape_str

from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = ["Identity", "Linear", "Flatten", "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Softplus",
           "Tanh", "Sigmoid", "Softmax", "LogSoftmax",
           "Dropout", "Dropout1d", "Dropout2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
           "Conv2d", "ConvTranspose2d",
           "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Embedding"]


def _dtype(dtype: Any, device: Any = None) -> np.dtype:
    from tensorlite.device import check_device
    check_device(device, "device")
    dt = tl.float32 if dtype is None else tl.as_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"layers hold floating-point parameters, got dtype {dt}")
    return dt


def _sizes(cls: str, **sizes: Any) -> None:
    """Constructor sizes must be non-negative ints: np.empty would otherwise fail with
    "negative dimensions are not allowed" (or truncate 2.5), naming neither layer nor value."""
    for name, v in sizes.items():
        check_int(cls, name, v, 0)


def _empty_param(shape: Tuple[int, ...], dtype: np.dtype) -> Parameter:
    return Parameter(np.empty(shape, dtype))


def _uniform_bias(bias: Optional[Parameter], fan_in: int) -> None:
    # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    if bias is not None:
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


# ---------------------------------------------------------------------------------------
# Simple layers
# ---------------------------------------------------------------------------------------
class Identity(Module):
    """Returns its input; accepts and ignores any constructor arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Linear(Module):
    """y = x W^T + b. weight (out_features, in_features), bias (out_features,).

    Initialised like PyTorch: W ~ kaiming_uniform_(a=sqrt(5)) i.e. U(-1/sqrt(in), 1/sqrt(in)),
    b ~ U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        _sizes("Linear", in_features=in_features, out_features=out_features)
        dt = _dtype(dtype, device)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _empty_param((out_features, in_features), dt)
        if bias:
            self.bias = _empty_param((out_features,), dt)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        _uniform_bias(self.bias, self.in_features)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one (default: all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return F.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class ReLU(Module):
    """max(x, 0). ``inplace`` is accepted for compatibility (the result is a new tensor)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input)


class Softplus(Module):
    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Tanh(Module):
    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Sigmoid(Module):
    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Softmax(Module):
    def __init__(self, dim: Optional[int] = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    def __init__(self, dim: Optional[int] = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Dropout(Module):
    """Zero elements with probability p in training mode, scaling the rest by 1/(1-p);
    the identity in eval mode."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: probability has to be between 0 and 1, "
                             f"but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return input
        return F.dropout(input, self.p, True)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) or (C, L) input with probability p in training mode
    (one draw per channel), scaling the rest by 1/(1-p); the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) input with probability p in training mode (one
    draw per feature map), scaling the rest by 1/(1-p); the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training)


# ---------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------
class _BatchNorm(Module):
    """Batch normalisation over dim 1 with running statistics (PyTorch's semantics).

    Parameters ``weight`` (1s) and ``bias`` (0s, unless ``bias=False``) when ``affine``;
    buffers ``running_mean`` (0s), ``running_var`` (1s) and ``num_batches_tracked`` when
    ``track_running_stats``.
    ``momentum=None`` makes the running statistics a cumulative average.
    """

    _input_dims: Tuple[int, ...] = ()
    # Checkpoints written before PyTorch 0.4.1 have no num_batches_tracked; it is optional.
    _optional_state = ("num_batches_tracked",)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        _sizes(type(self).__name__, num_features=num_features)
        dt = _dtype(dtype, device)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = _empty_param((num_features,), dt)
            if bias:
                self.bias = _empty_param((num_features,), dt)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", tl.zeros(num_features, dtype=dt))
            self.register_buffer("running_var", tl.ones(num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", tl.tensor(0, dtype=tl.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked._data[...] = 0
            self.num_batches_tracked._version[0] += 1

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:
        if not isinstance(input, Tensor) or input.ndim not in self._input_dims:
            want = " or ".join(f"{d}D" for d in self._input_dims)
            got = f"{input.ndim}D input of shape {shape_str(input.shape)}" \
                if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"{type(self).__name__}: expected {want} input (got {got})")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected {self.num_features} channels "
                             f"(dim 1), got input of shape {shape_str(input.shape)}")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        count = None
        if self.training and self.track_running_stats:
            count = int(self.num_batches_tracked._data) + 1
            if self.momentum is None:
                momentum = 1.0 / count
        # Batch statistics in training, and in eval when no running statistics are kept.
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        out = F.batch_norm(input, self.running_mean if track else None,
                           self.running_var if track else None, self.weight, self.bias,
                           use_batch, momentum, self.eps)
        if count is not None:
            # Counted only now: a batch that batch_norm refused (one value per channel, wrong
            # dtype) must leave every statistic, the counter included, as it was.
            self.num_batches_tracked._data[...] = count
            self.num_batches_tracked._version[0] += 1
        return out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input over N (and L)."""

    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input over N, H, W."""

    _input_dims = (4,)


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dims; weight 1s and bias 0s of that
    shape when ``elementwise_affine``."""

    def __init__(self, normalized_shape: Union[int, Sequence[int]], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        dt = _dtype(dtype, device)
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        for n in normalized_shape:
            check_int("LayerNorm", "normalized_shape entry", n, 0)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = _empty_param(self.normalized_shape, dt)
            if bias:
                self.bias = _empty_param(self.normalized_shape, dt)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


# ---------------------------------------------------------------------------------------
# Convolution and pooling
# ---------------------------------------------------------------------------------------
def _check_conv_sizes(name: str, in_channels: Any, out_channels: Any, groups: Any) -> None:
    # Before the weight shape (in_channels // groups) is computed from them.
    _sizes(name, in_channels=in_channels, out_channels=out_channels)
    if not is_int(groups) or groups <= 0:
        raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")


_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    def _init_common(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                     padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str,
                     weight_shape: Tuple[int, ...], dt: np.dtype) -> None:
        name = type(self).__name__
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups "
                             f"({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups "
                             f"({groups})")
        modes = ("zeros",) if name == "ConvTranspose2d" else _PADDING_MODES
        if padding_mode not in modes:
            raise ValueError(f"{name}: padding_mode must be one of "
                             f"{', '.join(map(repr, modes))}, got {padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = pair(name, "kernel_size", kernel_size, 1)
        self.stride = pair(name, "stride", stride, 1)
        self.padding = padding if isinstance(padding, str) else pair(name, "padding", padding, 0)
        self.dilation = pair(name, "dilation", dilation, 1)
        self.groups = groups
        self.padding_mode = padding_mode
        self.weight = _empty_param(weight_shape, dt)
        if bias:
            self.bias = _empty_param((out_channels,), dt)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's default: kaiming_uniform_(a=sqrt(5)) -> U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            _uniform_bias(self.bias, fan_in)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if isinstance(self.padding, str) or self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D cross-correlation (PyTorch's convolution): weight (out, in/groups, kh, kw),
    bias (out,). ``padding`` may be an int, a pair, 'valid' or 'same' (stride 1).

    The lecture's convolution with a flipped kernel is ``F.conv2d(x, w.flip((-2, -1)))``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        _check_conv_sizes("Conv2d", in_channels, out_channels, groups)
        k = pair("Conv2d", "kernel_size", kernel_size, 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Conv2d: padding must be an int, a pair, 'valid' or 'same', "
                                 f"got {padding!r}")
            if padding == "same" and pair("Conv2d", "stride", stride, 1) != (1, 1):
                raise ValueError("Conv2d: padding='same' is not supported for strided "
                                 "convolutions")
        self._init_common(in_channels, out_channels, k, stride, padding, dilation, groups, bias,
                          padding_mode, (out_channels, in_channels // groups) + k,
                          _dtype(dtype, device))

    def forward(self, input: Tensor) -> Tensor:
        padding = self.padding
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            # An even effective kernel needs one more row/column on the bottom/right, as in
            # PyTorch.
            th, tw = (d * (k - 1) for d, k in zip(self.dilation, self.kernel_size))
            sides = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
            if self.padding_mode != "zeros" or th % 2 or tw % 2:
                return self._padded_conv(input, sides)
            padding = (th // 2, tw // 2)
        if self.padding_mode != "zeros":
            ph, pw = padding
            return self._padded_conv(input, (pw, pw, ph, ph))
        return F.conv2d(input, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)

    def _padded_conv(self, input: Tensor, sides: Tuple[int, int, int, int]) -> Tensor:
        """Pad explicitly (left, right, top, bottom) with padding_mode, then convolve."""
        mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
        if not isinstance(input, Tensor):
            raise TypeError(f"Conv2d: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (3, 4):
            raise ValueError(f"Conv2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                             f"shape {shape_str(input.shape)}")
        return F.conv2d(F.pad(input, sides, mode), self.weight, self.bias, self.stride, 0,
                        self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution: weight (in, out/groups, kh, kw), bias (out,)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        _check_conv_sizes("ConvTranspose2d", in_channels, out_channels, groups)
        k = pair("ConvTranspose2d", "kernel_size", kernel_size, 1)
        if isinstance(padding, str):
            raise ValueError("ConvTranspose2d: padding must be an int or a pair")
        self.output_padding = pair("ConvTranspose2d", "output_padding", output_padding, 0)
        self._init_common(in_channels, out_channels, k, stride, padding, dilation, groups, bias,
                          padding_mode, (in_channels, out_channels // groups) + k,
                          _dtype(dtype, device))

    def forward(self, input: Tensor) -> Tensor:
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)


class MaxPool2d(Module):
    """Maximum over kernel_size windows (stride defaults to kernel_size)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over kernel_size windows (stride defaults to kernel_size)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: Optional[int] = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (int or (Ho, Wo); None keeps that dim)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size (int or (Ho, Wo); None keeps that dim)."""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


# ---------------------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------------------
class Embedding(Module):
    """A lookup table: weight (num_embeddings, embedding_dim) ~ N(0, 1); the row at
    ``padding_idx`` is zero and receives no gradient."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: Optional[int] = None,
                 max_norm: Optional[float] = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Optional[Tensor] = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        _sizes("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        dt = _dtype(dtype, device)
        if padding_idx is not None:
            check_int("Embedding", "padding_idx", padding_idx)
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within "
                                 f"[{-num_embeddings}, {num_embeddings})")
            padding_idx %= num_embeddings
        if scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: scale_grad_by_freq and sparse are not supported")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dt),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight must have shape "
                                 f"({num_embeddings}, {embedding_dim}), got "
                                 f"{shape_str(_weight.shape)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        padding_idx: Optional[int] = None, max_norm: Optional[float] = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> "Embedding":
        """An Embedding whose weight is ``embeddings`` (2-D), frozen unless ``freeze=False``."""
        if not isinstance(embeddings, Tensor):
            embeddings = tl.tensor(embeddings)
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape "
                             f"{shape_str(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze, dtype=embeddings.dtype)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        return s


# -- 1-D convolution and pooling, more activations, Unflatten ------------------------------------
class Conv1d(Module):
    """1-D cross-correlation: weight (out, in/groups, k), bias (out,); PyTorch's default
    initialisation. ``padding`` may be an int, 'valid' or 'same' (stride 1)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        _check_conv_sizes("Conv1d", in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(f"Conv1d: only padding_mode='zeros' is supported, got "
                             f"{padding_mode!r}")
        one = F._one
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = (one("Conv1d", "kernel_size", kernel_size),)
        self.stride = (one("Conv1d", "stride", stride),)
        self.padding = padding if isinstance(padding, str) else (one("Conv1d", "padding",
                                                                     padding),)
        self.dilation = (one("Conv1d", "dilation", dilation),)
        self.padding_mode = padding_mode
        dt = _dtype(dtype, device)
        self.weight = _empty_param((out_channels, in_channels // groups) + self.kernel_size, dt)
        if bias:
            self.bias = _empty_param((out_channels,), dt)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    reset_parameters = _ConvNd.reset_parameters

    def forward(self, input: Tensor) -> Tensor:
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F.conv1d(input, self.weight, self.bias, self.stride[0], padding,
                        self.dilation[0], self.groups)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}" + ("" if self.padding == (0,) else
                                           f", padding={self.padding}"))


class MaxPool1d(Module):
    """Maximum over windows of length kernel_size (stride defaults to kernel_size)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor) -> Any:
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """Mean over windows of length kernel_size (stride defaults to kernel_size)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, \
            count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size`` (the inverse of Flatten)."""

    def __init__(self, dim: int, unflattened_size: Any) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Hardtanh(Module):
    """x clipped to [min_val, max_val]."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if not min_val <= max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val "
                             f"({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Hardtanh):
    """min(max(x, 0), 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)


class LogSigmoid(Module):
    """log sigmoid(x)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.logsigmoid(input)


class PReLU(Module):
    """x where x >= 0, else a x, with a learnt slope (one, or one per channel), initially
    ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = _empty_param((num_parameters,), _dtype(dtype, device))
        self.weight._data.fill(init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
