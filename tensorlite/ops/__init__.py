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
# -- more reductions, scans and sorting --
# -- more shape and indexing ops --
# -- more linear algebra --
