"""Hypothesis strategies for op inputs: shapes, broadcastable shapes, float arrays kept
away from kinks and domain edges, and non-contiguous layouts.

Needs ``hypothesis`` (a test dependency); nothing in the library imports this module.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
from hypothesis import assume, strategies as st
from hypothesis.extra import numpy as hnp


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 4):
    """``num`` shapes that broadcast together (size-1 and missing leading dims included)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num, min_dims=min_dims,
                                             max_dims=max_dims, max_side=max_side).map(
        lambda r: r.input_shapes)


@st.composite
def float_arrays(draw: Any, shape: Sequence[int], lo: float = -3.0, hi: float = 3.0,
                 avoid: Sequence[float] = (), margin: float = 0.05, unique: bool = False,
                 noncontiguous: Optional[bool] = None, dtype: Any = np.float64) -> np.ndarray:
    """float64 values in [lo, hi], at least ``margin`` away from each point in ``avoid``
    (kinks such as 0 for relu/abs), distinct when ``unique`` (no ties for max/min), and
    sometimes laid out non-contiguously."""
    shape = tuple(shape)
    n = int(np.prod(shape)) if shape else 1
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    vals = rng.uniform(lo, hi, size=n)
    # A few exact edge values hypothesis likes: small integers inside the range.
    if n and draw(st.booleans()):
        k = draw(st.integers(0, n - 1))
        vals[k] = float(np.clip(np.round(vals[k]), lo, hi))
    for p in avoid:
        close = np.abs(vals - p) < margin
        side = np.where(vals[close] >= p, 1.0, -1.0)
        # Step off the kink towards the side that stays inside [lo, hi] (avoid=(lo,) must
        # not push samples out of an op's domain, e.g. below 0 for log).
        side = np.where((p + 2 * margin * side > hi) | (p + 2 * margin * side < lo), -side, side)
        vals[close] = p + side * 2 * margin
    if unique and n > 1:
        # Spread values so no two are within 1e-3 of each other (well above eps = 1e-6),
        # then shift the set back inside [lo, hi] if spreading pushed it past hi.
        order = np.argsort(vals)
        gaps = np.maximum(np.diff(vals[order]), 1e-3)
        vals[order] = vals[order][0] + np.concatenate([[0.0], np.cumsum(gaps)])
        vals -= max(vals.max() - hi, 0.0)
    # The rare draw the adjustments above could not fix (spreading moved a value back next
    # to a kink, or the range is too narrow) is rejected rather than returned out of spec.
    assume(bool(np.all((vals >= lo) & (vals <= hi))))
    for p in avoid:
        assume(bool(np.all(np.abs(vals - p) >= margin * (1 - 1e-9))))
    arr = vals.reshape(shape).astype(dtype)
    if noncontiguous is None:
        noncontiguous = draw(st.booleans())
    return make_noncontiguous(arr) if noncontiguous else arr


def make_noncontiguous(arr: np.ndarray) -> np.ndarray:
    """The same values in a non-C-contiguous layout (a strided view of a larger buffer)."""
    if arr.ndim == 0 or arr.size <= 1:
        return arr
    big = np.empty(arr.shape[:-1] + (arr.shape[-1] * 2,), arr.dtype)
    view = big[..., ::2]
    view[...] = arr
    return view


def index_arrays(draw: Any, size: int, shape: Sequence[int]) -> np.ndarray:
    return np.asarray(draw(hnp.arrays(np.int64, tuple(shape),
                                      elements=st.integers(0, max(size - 1, 0)))))
