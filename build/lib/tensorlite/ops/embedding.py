"""Word embeddings as a lookup table (the lecture's C(w)).

Forward gathers rows of the weight matrix. Backward is the lecture's formula: the
gradient of a word's embedding is the SUM of the output gradients over every position
where that word occurs (a scatter-add); the padding row, if any, gets none.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .._checks import check_indices, check_kernel_float, is_int, shape_str
from ..autograd import Function
from ..kernels import embedding as K
from ..tensor import Tensor, _make


class Embedding(Function):
    @staticmethod
    def forward(ctx, weight, idx, padding_idx):
        ctx.args = (idx, weight._data.shape[0], padding_idx)
        return K.embedding_forward(idx, weight._data if weight._data.flags.c_contiguous
                                   else np.ascontiguousarray(weight._data))

    @staticmethod
    def backward(ctx, g):
        return EmbeddingScatter.apply(g, *ctx.args)


class EmbeddingScatter(Function):
    """(L, D) gradients summed into (V, D) rows by index; padding row zero."""

    @staticmethod
    def forward(ctx, g, idx, num, padding_idx):
        ctx.args = (idx, padding_idx)
        gd = g._data if g._data.flags.c_contiguous else np.ascontiguousarray(g._data)
        return K.embedding_backward(idx, gd, num, padding_idx)

    @staticmethod
    def backward(ctx, h):
        idx, padding_idx = ctx.args
        out = Embedding.apply(h, idx, padding_idx)
        if padding_idx >= 0:
            keep = (idx != padding_idx).astype(h.dtype)[:, None]
            out = out * _make(keep, False, None, 0, None)
        return out


def embedding(indices: Tensor, weight: Tensor, padding_idx: Optional[int] = None) -> Tensor:
    """Rows of ``weight`` (V, D) at integer ``indices`` (any shape) -> indices.shape + (D,)."""
    idx, pad = check_embedding_args(indices, weight, padding_idx)
    return lookup(idx, weight, pad)


def check_embedding_args(indices: Any, weight: Any, padding_idx: Optional[int]) -> tuple:
    """Validate everything embedding() needs, before anything is read or written; returns
    the index array and the padding row (-1 for none)."""
    op = "embedding"
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(f"{op}: weight must be a 2-D Tensor (num_embeddings, dim), got "
                         f"{shape_str(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__}")
    if weight.dtype.kind == "f":
        # the backward kernel exists for float32/float64 only (numba has no float16)
        check_kernel_float(op, "weight", weight)
    try:
        idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    except ValueError:  # a ragged nested list
        raise ValueError(f"{op}: indices must be rectangular, got {indices!r:.60}") from None
    num = weight.shape[0]
    check_indices(op, idx, num)
    if padding_idx is None:
        return idx, -1
    if not is_int(padding_idx):
        raise TypeError(f"{op}: padding_idx must be an int or None, got "
                        f"{type(padding_idx).__name__} {padding_idx!r}")
    if not -num <= padding_idx < num:
        raise ValueError(f"{op}: padding_idx {padding_idx} must be within [{-num}, {num})")
    return idx, padding_idx % num


def lookup(idx: np.ndarray, weight: Tensor, pad: int) -> Tensor:
    """The gather itself, on arguments check_embedding_args has accepted."""
    # A copy, never a view of the indices tensor: the backward scatters at these indices,
    # and indices changed in place after the forward must not move the gradient.
    flat = np.array(idx.reshape(-1), dtype=np.int64)
    out = Embedding.apply(weight, flat, pad)
    return out.reshape(idx.shape + (weight.shape[1],))
