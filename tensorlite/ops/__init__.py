"""Differentiable ops, one file per family; each op is a :class:`tensorlite.autograd.Function`.

Every public op is declared once, here (by family) or as a row of the unary table
(``elementwise.py``); ``registry.py`` makes ``tl.<name>``, ``Tensor.<name>`` and the
in-place ``Tensor.<name>_`` from the declarations.
"""
from . import registry
from . import (activation, compare, elementwise, linalg, reduce, shape, sort)  # noqa: F401
from .. import creation as _creation, random as _random
from .elementwise import cast  # noqa: F401  (internal: dtype conversion as a graph op)
from .shape import getitem, setitem  # noqa: F401  (internal: Tensor.__getitem__/__setitem__)
from .linalg import vector_norm  # noqa: F401  (tl.linalg.vector_norm)

registry.declare_family(
    elementwise,
    "add sub mul div pow maximum minimum relu clamp clip square floor_divide remainder round "
    "atan2 arctan2 hypot logaddexp fmod lerp nan_to_num arcsin arccos arctan fix clone",
    inplace="add sub mul div pow relu round",
    number_first="add sub mul div pow maximum minimum floor_divide remainder")
registry.declare_family(
    compare,
    "eq ne lt le gt ge isnan isfinite isinf isposinf isneginf isclose allclose equal "
    "logical_and logical_or logical_xor logical_not bitwise_and bitwise_or bitwise_xor bitwise_not",
    function_only="where",
    number_first="eq ne lt le gt ge logical_and logical_or logical_xor bitwise_and bitwise_or "
                 "bitwise_xor where")
registry.declare_family(
    reduce,
    "sum mean max min amax amin var std logsumexp argmax argmin any all gather prod norm "
    "count_nonzero aminmax")
registry.declare_family(
    shape,
    "reshape flatten squeeze unsqueeze transpose permute expand flip split chunk unbind "
    "broadcast_to diag diagonal index_select masked_fill moveaxis movedim narrow "
    "repeat_interleave roll scatter scatter_add swapaxes swapdims take_along_dim tile tril "
    "triu unflatten",
    function_only="cat stack pad concat concatenate broadcast_shapes broadcast_tensors meshgrid",
    method_only="contiguous view repeat",
    inplace="masked_fill scatter scatter_add",
    number_first="cat stack concat concatenate broadcast_shapes broadcast_tensors meshgrid")
registry.declare_family(linalg, "matmul mm bmm dot mv outer ger addmm addmv baddbmm",
                        function_only="einsum tensordot", number_first="einsum")
registry.declare_family(activation, "softmax log_softmax")
registry.declare_family(
    sort, "sort argsort msort topk kthvalue median nonzero unique cumsum cumprod cummax cummin "
    "logcumsumexp masked_select")
registry.declare_family(
    _creation, function_only="is_tensor numel",
    method_only="cpu new_empty new_full new_ones new_tensor new_zeros type_as",
    number_first="is_tensor numel type_as")
registry.declare_family(
    _random, "bernoulli multinomial", function_only="normal",
    method_only="bernoulli_ exponential_ normal_ random_ uniform_", number_first="normal")

for _name, _op in registry.OPS.items():
    globals()[_name] = _op.fn  # tensorlite.ops.<name>, as before
__all__ = registry.exported()
