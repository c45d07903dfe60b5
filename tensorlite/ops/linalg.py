"""Matrix products on BLAS (numpy's matmul), batched with broadcasting batch dims."""
from __future__ import annotations

import numpy as np

from .._checks import broadcast_shape, shape_str
from ..autograd import Function
from ..tensor import Tensor
from .broadcast import as_operand, result_dtype, unbroadcast


class MatMul(Function):
    """(..., n, k) @ (..., k, m) -> (..., n, m); both inputs at least 2-D."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        ctx.shapes = (a.data.shape, b.data.shape)
        return np.matmul(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = unbroadcast(MatMul.apply(g, b.mT), ctx.shapes[0]) if need_a else None
        gb = unbroadcast(MatMul.apply(a.mT, g), ctx.shapes[1]) if need_b else None
        return ga, gb


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """PyTorch's matmul: 1-D operands are promoted to matrices and the added dim removed."""
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError("matmul: expected at least one Tensor operand")
        a = as_operand(a, b, "matmul")
    if not isinstance(b, Tensor):
        b = as_operand(b, a, "matmul")
    if a.data.ndim == 0 or b.data.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dim, got shapes "
                         f"{shape_str(a.shape)} and {shape_str(b.shape)}")
    if a.data.dtype.kind == "b" or b.data.dtype.kind == "b":
        raise TypeError("matmul: bool tensors are not supported")
    dt = result_dtype(a.data.dtype, b.data.dtype)
    from .elementwise import cast
    a, b = cast(a, dt), cast(b, dt)
    va, vb = a.data.ndim == 1, b.data.ndim == 1
    if va:
        a = a.reshape(1, -1)
    if vb:
        b = b.reshape(-1, 1)
    if a.data.shape[-1] != b.data.shape[-2]:
        sa = a.shape[1:] if va else a.shape
        sb = b.shape[:1] if vb else b.shape
        raise ValueError(f"matmul: shapes {shape_str(sa)} and {shape_str(sb)} cannot be "
                         f"multiplied ({a.data.shape[-1]} != {b.data.shape[-2]})")
    broadcast_shape("matmul", a.data.shape[:-2], b.data.shape[:-2])
    out = MatMul.apply(a, b)
    if va and vb:
        return out.reshape(out.shape[:-2])
    if va:
        return out.squeeze(-2)
    if vb:
        return out.squeeze(-1)
    return out
