"""Dropout: zero each element with probability p during training, scale the rest by
1/(1-p) so the expected activation is unchanged (inverted dropout)."""
from __future__ import annotations

import numpy as np

from ..random import generator
from ..tensor import Tensor, _make


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"dropout: probability must be a number, got {type(p).__name__} {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability must be in [0, 1], got {p}")
    if not isinstance(x, Tensor):
        raise TypeError(f"dropout: input must be a Tensor, got {type(x).__name__}")
    if not training or p == 0.0:
        return x
    if x.dtype.kind != "f":
        raise TypeError(f"dropout: input must be floating point, got dtype {x.dtype}")
    if p == 1.0:
        return x * 0.0
    keep = generator().random(x.shape, dtype=np.float64 if x.dtype == np.float64
                              else np.float32) >= p
    mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
    # A constant mask: the gradient is g * mask, through Mul (double backward included).
    return x * _make(mask, False, None, 0, None)
