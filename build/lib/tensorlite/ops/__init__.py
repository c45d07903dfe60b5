"""Differentiable ops, one file per family. Each op is a :class:`tensorlite.autograd.Function`."""
from .elementwise import (abs, add, cast, clamp, clone, cos, div, erf, exp, floor_divide, log,
                          maximum, minimum, mul, neg, pow, relu, remainder, sigmoid, sign, sin, sqrt,
                          square, sub, tanh)
from .compare import (bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, ge, gt, isfinite, isnan,
                      le, logical_and, logical_not, logical_or, logical_xor, lt, ne, where)
from .reduce import (all, amax, amin, any, argmax, argmin, gather, logsumexp, max, mean, min, std,
                     sum, var)
from .shape import (cat, chunk, contiguous, expand, flatten, flip, getitem, pad, permute, reshape,
                    setitem, split, squeeze, stack, transpose, unbind, unsqueeze, view)
from .linalg import matmul
from .activation import log_softmax, softmax
# -- more elementwise math --
from .elementwise import (acos, arccos, arcsin, arctan, arctan2, asin, atan, atan2, ceil, cosh,
                          expm1, fix, floor, fmod, frac, hypot, lerp, log1p, log2, log10,
                          logaddexp, nan_to_num, reciprocal, round, rsqrt, sinh, tan, trunc)
from .compare import allclose, equal, isclose, isinf, isneginf, isposinf
# -- more reductions, scans and sorting --
from .reduce import aminmax, count_nonzero, norm, prod
from .sort import (argsort, cummax, cummin, cumprod, cumsum, kthvalue, logcumsumexp, masked_select,
                   median, msort, nonzero, sort, topk, unique)
# -- more shape and indexing ops --
from .shape import (broadcast_shapes, broadcast_tensors, broadcast_to, concat, concatenate, diag,
                    diagonal, index_select, masked_fill, meshgrid, moveaxis, movedim, narrow,
                    repeat, repeat_interleave, roll, scatter, scatter_add, swapaxes, swapdims,
                    take_along_dim, tile, tril, triu, unflatten)
from ..creation import (cpu, is_tensor, new_empty, new_full, new_ones, new_tensor, new_zeros,
                        numel, type_as)
# -- more linear algebra --
from .linalg import (addmm, addmv, baddbmm, bmm, dot, einsum, ger, mm, mv, outer, tensordot,
                     vector_norm)
from ..random import (bernoulli, bernoulli_, exponential_, multinomial, normal, normal_,
                      random_, uniform_)
