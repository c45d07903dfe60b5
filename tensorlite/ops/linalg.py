"""Matrix products on BLAS (numpy's matmul), batched with broadcasting batch dims."""
from __future__ import annotations

import numpy as np

from typing import Any

from .._checks import (broadcast_shape, check_same_dtype, check_tensor, normalize_dim,
                       normalize_dims, shape_str)
from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor, _make
from .broadcast import as_operand, result_dtype, unbroadcast
from .compare import where
from .elementwise import mul


def _const(a: np.ndarray) -> Tensor:
    return _make(a, False, None, 0, None)


class MatMul(Function):
    """(..., n, k) @ (..., k, m) -> (..., n, m); both inputs at least 2-D."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        ctx.shapes = (a._data.shape, b._data.shape)
        return np.matmul(a._data, b._data)

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
    if a._data.ndim == 0 or b._data.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dim, got shapes "
                         f"{shape_str(a.shape)} and {shape_str(b.shape)}")
    if a._data.dtype.kind == "b" or b._data.dtype.kind == "b":
        raise TypeError("matmul: bool tensors are not supported")
    dt = result_dtype(a._data.dtype, b._data.dtype)
    from .elementwise import cast
    a, b = cast(a, dt), cast(b, dt)
    va, vb = a._data.ndim == 1, b._data.ndim == 1
    if va:
        a = a.reshape(1, -1)
    if vb:
        b = b.reshape(-1, 1)
    if a._data.shape[-1] != b._data.shape[-2]:
        sa = a.shape[1:] if va else a.shape
        sb = b.shape[:1] if vb else b.shape
        raise ValueError(f"matmul: shapes {shape_str(sa)} and {shape_str(sb)} cannot be "
                         f"multiplied ({a._data.shape[-1]} != {b._data.shape[-2]})")
    broadcast_shape("matmul", a._data.shape[:-2], b._data.shape[:-2])
    out = MatMul.apply(a, b)
    if va and vb:
        return out.reshape(out.shape[:-2])
    if va:
        return out.squeeze(-2)
    if vb:
        return out.squeeze(-1)
    return out


# ---------------------------------------------------------------------------------------
# mm, bmm, dot, mv, outer: PyTorch's fixed-rank products (checked, then one MatMul node)
# ---------------------------------------------------------------------------------------
def _same_dtype(op: str, *named: tuple) -> None:
    # PyTorch's BLAS products refuse mixed dtypes ("expected m1 and m2 to have the same
    # dtype") rather than promoting as matmul's broadcasting path does here.
    for name, t in named:
        if t._data.dtype.kind == "b":
            raise TypeError(f"{op}: bool tensors are not supported (got {name} of dtype bool)")
    check_same_dtype(op, **dict(named))


def _operands(op: str, *specs: tuple) -> None:
    """The operands of a fixed-rank product, each ``(name, value, ndim or None)``: Tensors,
    of those ranks, of one dtype (checked in that order, each over all operands)."""
    for name, t, _ in specs:
        check_tensor(op, name, t)
    for name, t, ndim in specs:
        if ndim is not None and t._data.ndim != ndim:
            raise ValueError(f"{op}: {name} must be a {ndim}-D tensor, got shape "
                             f"{shape_str(t.shape)}")
    _same_dtype(op, *((name, t) for name, t, _ in specs))


def mm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002 - PyTorch's keyword name
    """``input @ mat2`` for two matrices only: (n, k) @ (k, m) -> (n, m), no broadcasting."""
    _operands("mm", ("input", input, 2), ("mat2", mat2, 2))
    if input._data.shape[1] != mat2._data.shape[0]:
        raise ValueError(f"mm: shapes {shape_str(input.shape)} and {shape_str(mat2.shape)} cannot "
                         f"be multiplied ({input._data.shape[1]} != {mat2._data.shape[0]})")
    return MatMul.apply(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """Batched ``(b, n, k) @ (b, k, m) -> (b, n, m)``; the batch sizes must be equal."""
    _operands("bmm", ("input", input, 3), ("mat2", mat2, 3))
    (b, _, k), (b2, k2, _) = input._data.shape, mat2._data.shape
    if b != b2 or k != k2:
        raise ValueError(f"bmm: shapes {shape_str(input.shape)} and {shape_str(mat2.shape)} cannot "
                         f"be multiplied (batch sizes {b} and {b2}, inner sizes {k} and {k2} "
                         "must be equal)")
    return MatMul.apply(input, mat2)


class Dot(Function):
    """(k,) . (k,) -> (); one node (matmul's path would add three reshapes)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return np.asarray(np.dot(a._data, b._data))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


class Mv(Function):
    """(n, m) @ (m,) -> (n,) as one node."""

    @staticmethod
    def forward(ctx, m, v):
        ctx.save_for_backward(m if ctx.needs_input_grad[1] else None,
                              v if ctx.needs_input_grad[0] else None)
        return np.matmul(m._data, v._data)

    @staticmethod
    def backward(ctx, g):
        m, v = ctx.saved_tensors
        need_m, need_v = ctx.needs_input_grad
        gm = g.reshape(-1, 1) * v if need_m else None
        gv = Mv.apply(m.mT, g) if need_v else None
        return gm, gv


def dot(input: Tensor, tensor: Tensor) -> Tensor:  # noqa: A002
    """The inner product of two 1-D tensors of the same size (a 0-d tensor)."""
    check_tensor("dot", "input", input)
    check_tensor("dot", "tensor", tensor)
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise ValueError(f"dot: 1-D tensors expected, got shapes {shape_str(input.shape)} and "
                         f"{shape_str(tensor.shape)}")
    _same_dtype("dot", ("input", input), ("tensor", tensor))
    if input._data.shape != tensor._data.shape:
        raise ValueError(f"dot: the tensors must have the same number of elements, got shapes "
                         f"{shape_str(input.shape)} and {shape_str(tensor.shape)}")
    return Dot.apply(input, tensor)


def mv(input: Tensor, vec: Tensor) -> Tensor:  # noqa: A002
    """Matrix times vector: (n, m) @ (m,) -> (n,)."""
    _operands("mv", ("input", input, 2), ("vec", vec, 1))
    if input._data.shape[1] != vec._data.shape[0]:
        raise ValueError(f"mv: shapes {shape_str(input.shape)} and {shape_str(vec.shape)} cannot "
                         f"be multiplied ({input._data.shape[1]} != {vec._data.shape[0]})")
    return Mv.apply(input, vec)


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """The outer product of two 1-D tensors: (n,) x (m,) -> (n, m); dtypes promote as ``*``."""
    check_tensor("outer", "input", input)
    check_tensor("outer", "vec2", vec2)
    for name, t in (("input", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise ValueError(f"outer: {name} must be a 1-D tensor, got shape {shape_str(t.shape)}")
    return mul(input.reshape(-1, 1), vec2)


ger = outer  # PyTorch's older name


# ---------------------------------------------------------------------------------------
# addmm, addmv, baddbmm: beta * input + alpha * (product)
# ---------------------------------------------------------------------------------------
def _scalar(op: str, name: str, value: Any, integral: bool) -> Any:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__} {value!r:.40}")
    if integral and not isinstance(value, (int, np.integer)):
        # PyTorch casts it to the integer dtype: alpha=0.5 would silently become 0.
        raise TypeError(f"{op}: {name} must be an int for integer tensors, got {value!r}")
    return value


def _scalars(op: str, t: Tensor, beta: Any, alpha: Any) -> tuple:
    integral = t._data.dtype.kind in "iu"
    return _scalar(op, "beta", beta, integral), _scalar(op, "alpha", alpha, integral)


def _add_scaled(input: Tensor, prod: Tensor, beta: Any, alpha: Any) -> Tensor:  # noqa: A002
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        # As PyTorch: input is ignored (its NaN and inf do not reach the result), and its
        # gradient is zero, not missing.
        if not input.requires_grad:
            return prod
        return prod + where(_const(np.zeros((), np.bool_)), input, 0)
    return prod + (input if beta == 1 else input * beta)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1,  # noqa: A002
          alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts to (n, m)."""
    _operands("addmm", ("input", input, None), ("mat1", mat1, 2), ("mat2", mat2, 2))
    _check_product("addmm", mat1, mat2, 1, 0)
    _check_addend("addmm", input, (mat1._data.shape[0], mat2._data.shape[1]))
    beta, alpha = _scalars("addmm", input, beta, alpha)
    return _add_scaled(input, MatMul.apply(mat1, mat2), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1,  # noqa: A002
          alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``; ``input`` broadcasts to (n,)."""
    _operands("addmv", ("input", input, None), ("mat", mat, 2), ("vec", vec, 1))
    _check_product("addmv", mat, vec, 1, 0)
    _check_addend("addmv", input, (mat._data.shape[0],))
    beta, alpha = _scalars("addmv", input, beta, alpha)
    return _add_scaled(input, Mv.apply(mat, vec), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,  # noqa: A002
            alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``; ``input`` broadcasts to (b, n, m)."""
    _operands("baddbmm", ("input", input, None), ("batch1", batch1, 3), ("batch2", batch2, 3))
    if batch1._data.shape[0] != batch2._data.shape[0]:
        raise ValueError(f"baddbmm: batch1 of shape {shape_str(batch1.shape)} and batch2 of shape "
                         f"{shape_str(batch2.shape)} have different batch sizes")
    _check_product("baddbmm", batch1, batch2, 2, 1)
    _check_addend("baddbmm", input, (batch1._data.shape[0], batch1._data.shape[1],
                                     batch2._data.shape[2]))
    beta, alpha = _scalars("baddbmm", input, beta, alpha)
    return _add_scaled(input, MatMul.apply(batch1, batch2), beta, alpha)


def _check_product(op: str, a: Tensor, b: Tensor, da: int, db: int) -> None:
    if a._data.shape[da] != b._data.shape[db]:
        raise ValueError(f"{op}: shapes {shape_str(a.shape)} and {shape_str(b.shape)} cannot be "
                         f"multiplied ({a._data.shape[da]} != {b._data.shape[db]})")


def _check_addend(op: str, input: Tensor, out_shape: tuple) -> None:  # noqa: A002
    # Checked before the product is computed: a wrong input shape costs no BLAS call.
    s = input._data.shape
    ok = len(s) <= len(out_shape) and all(
        n == 1 or n == m for n, m in zip(reversed(s), reversed(out_shape)))
    if not ok:
        raise ValueError(f"{op}: input of shape {shape_str(s)} does not broadcast to the "
                         f"product's shape {shape_str(out_shape)}")


# ---------------------------------------------------------------------------------------
# einsum and tensordot
# ---------------------------------------------------------------------------------------
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ELL = "..."
# numpy's path search costs tens of microseconds; below this many elements, or for two
# operands that are small, the plain C loop is faster than BLAS through a planned path.
_OPTIMIZE_ABOVE = 4096


def _einsum_array(eq: str, arrays: list) -> np.ndarray:
    big = len(arrays) > 2 or sum(a.size for a in arrays) > _OPTIMIZE_ABOVE
    out = np.einsum(eq, *arrays, optimize=big)
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    # 'ij->ji' or 'ii->i' can come back as a view of an input: the result must own its
    # memory, or an in-place change of it would write into the operand.
    for a in arrays:
        if np.may_share_memory(out, a):
            return out.copy()
    return out


class Einsum(Function):
    """``np.einsum(eq, *operands)`` for an equation in explicit form without ellipsis,
    with every subscript of one size throughout (``einsum`` prepares both).

    The gradient of an operand is itself an einsum: the output gradient times all other
    operands, summed over the subscripts the operand does not have. A subscript repeated
    in the operand (a diagonal, 'ii') is reached through an identity matrix, and one
    that only the operand has (summed out, 'ij->i' for j) through a vector of ones, so the
    backward is an Einsum node too and differentiates again."""

    @staticmethod
    def forward(ctx, eq, *operands):
        ctx.eq = eq
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(*operands)
        return _einsum_array(eq, [t._data for t in operands])

    @staticmethod
    def backward(ctx, g):
        operands = ctx.saved_tensors
        lhs, out_subs = ctx.eq.split("->")
        subs = lhs.split(",")
        sizes = {}
        for s, t in zip(subs, operands):
            sizes.update(zip(s, t._data.shape))
        used = set(ctx.eq)
        fresh = (c for c in _LETTERS if c not in used)
        grads = [None]
        for i, s in enumerate(subs):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            in_subs, ins = [out_subs], [g]
            for j, t in enumerate(operands):
                if j != i:
                    in_subs.append(subs[j])
                    ins.append(t)
            target = []
            for c in s:
                if c in target:
                    # A diagonal: the gradient lives on it, through identity(c, f).
                    f = next(fresh)
                    in_subs.append(c + f)
                    ins.append(_const(np.eye(sizes[c], dtype=g._data.dtype)))
                    target.append(f)
                else:
                    target.append(c)
            present = set("".join(in_subs))
            for c in dict.fromkeys(s):
                if c not in present:
                    # Summed out by the forward: the gradient is broadcast along it.
                    in_subs.append(c)
                    ins.append(_const(np.ones(sizes[c], g._data.dtype)))
            grads.append(Einsum.apply(",".join(in_subs) + "->" + "".join(target), *ins))
        return tuple(grads)


def _parse_subscripts(spec: str, where_: str) -> list:
    """A term of an equation as a list of letters and ``_ELL``, or a clear error."""
    out, k = [], 0
    while k < len(spec):
        c = spec[k]
        if c == ".":
            if spec[k:k + 3] != _ELL:
                raise ValueError(f"einsum: found '.' in {where_} that is not part of an "
                                 "ellipsis '...'")
            if _ELL in out:
                raise ValueError(f"einsum: {where_} has more than one ellipsis '...'")
            out.append(_ELL)
            k += 3
            continue
        if c not in _LETTERS:
            raise ValueError(f"einsum: invalid subscript {c!r} in {where_}; subscripts must be "
                             "letters in [a-zA-Z]")
        out.append(c)
        k += 1
    return out


# einsum is longer than the ~80 lines a function here should be: it validates the whole
# equation grammar (subscripts, '...', the implicit output) in one pass so that each error
# names the exact part at fault; splitting it is left for a later clean-up (issue 13).
def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum('ij,jk->ik', a, b)``.

    Subscripts are letters; '...' stands for broadcast dimensions; without '->' the
    output is the ellipsis dims followed by the subscripts that appear once, in
    alphabetical order. Sizes of one subscript broadcast (1 against n), as in PyTorch.
    Operands may also come as one list: ``einsum('ij->i', [a])``."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the first argument must be the equation string, got "
                        f"{type(equation).__name__} (the sublist form is not supported)")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: at least one operand is needed")
    for k, t in enumerate(operands):
        check_tensor("einsum", f"operand {k}", t)
    dts = [t._data.dtype for t in operands]
    if any(dt != dts[0] for dt in dts):
        desc = ", ".join(f"{dt} (operand {k})" for k, dt in enumerate(dts))
        raise TypeError(f"einsum: expected all operands to have the same dtype, got {desc}")
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->", 1)
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: the equation {equation!r} has {len(terms)} input term(s) but "
                         f"{len(operands)} operand(s) were given")
    specs = [_parse_subscripts(s, f"operand {k}'s subscripts") for k, s in enumerate(terms)]
    out_spec = None if rhs is None else _parse_subscripts(rhs, "the output subscripts")

    # Ellipsis dims become fresh letters, right-aligned (broadcasting like numpy's).
    ell_n = 0
    for k, (spec, t) in enumerate(zip(specs, operands)):
        n_letters = len(spec) - (_ELL in spec)
        nd = t._data.ndim
        if _ELL in spec:
            if n_letters > nd:
                raise ValueError(f"einsum: operand {k} has {n_letters} subscripts but only {nd} "
                                 f"dimensions (shape {shape_str(t.shape)})")
            ell_n = max(ell_n, nd - n_letters)
        elif n_letters != nd:
            raise ValueError(f"einsum: operand {k} has {n_letters} subscripts but {nd} dimensions "
                             f"(shape {shape_str(t.shape)}) and no ellipsis")
    used = set(lhs) | set(rhs or "")
    spare = [c for c in _LETTERS if c not in used]
    if ell_n > len(spare):
        raise ValueError(f"einsum: too many dimensions ({ell_n} under the ellipsis) for the "
                         "52 subscript letters")
    ell_letters = spare[:ell_n]

    def expand_ell(spec, nd):
        if _ELL not in spec:
            return list(spec)
        k = spec.index(_ELL)
        e = nd - (len(spec) - 1)
        return spec[:k] + ell_letters[ell_n - e:] + spec[k + 1:]

    in_letters = [expand_ell(s, t._data.ndim) for s, t in zip(specs, operands)]
    counts = {}
    for letters in in_letters:
        for c in letters:
            counts[c] = counts.get(c, 0) + 1
    if out_spec is None:
        out_letters = ell_letters + sorted(c for c in counts
                                           if counts[c] == 1 and c not in ell_letters)
    else:
        seen = set()
        for c in out_spec:
            if c == _ELL:
                continue
            if c in seen:
                raise ValueError(f"einsum: output subscript {c!r} appears more than once")
            if c not in counts:
                raise ValueError(f"einsum: output subscript {c!r} does not appear in any "
                                 "operand's subscripts")
            seen.add(c)
        # Without '...' in the output, the ellipsis dims are summed out (as PyTorch).
        out_letters = expand_ell(out_spec, len(out_spec) - 1 + ell_n) if _ELL in out_spec \
            else list(out_spec)

    # One size per subscript: equal, or 1 broadcast against the others.
    sizes = {}
    for k, (letters, t) in enumerate(zip(in_letters, operands)):
        own = {}
        for c, n in zip(letters, t._data.shape):
            if c in own and own[c] != n:
                raise ValueError(f"einsum: subscript {c!r} is repeated in operand {k} with "
                                 f"different sizes {own[c]} and {n}")
            own[c] = n
            m = sizes.get(c)
            if m is None or m == 1:
                sizes[c] = n
            elif n != 1 and n != m:
                raise ValueError(f"einsum: subscript {c!r} has size {n} in operand {k} (shape "
                                 f"{shape_str(t.shape)}), which does not broadcast with size {m} "
                                 "seen before")
    ops = []
    for letters, t in zip(in_letters, operands):
        full = tuple(sizes[c] for c in letters)
        ops.append(t if full == t._data.shape else t.expand(full))
    eq_full = ",".join("".join(ls) for ls in in_letters) + "->" + "".join(out_letters)
    return Einsum.apply(eq_full, *ops)


def _dims_list(value: Any, ndim: int, name: str) -> list:
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"tensordot: dims for {name} must be a list of ints, got {value!r}")
    return [normalize_dim("tensordot", d, ndim) for d in value]


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Contract ``a``'s dims with ``b``'s: ``dims=n`` pairs a's last n dims with b's first
    n; ``dims=([1, 2], [0, 1])`` names them. The free dims of a, then of b, remain."""
    check_tensor("tensordot", "a", a)
    check_tensor("tensordot", "b", b)
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.item() if dims._data.ndim == 0 else dims.tolist()
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, (bool, np.bool_)):
        n = int(dims)
        if n < 0:
            raise ValueError(f"tensordot: dims must be >= 0, got {n}")
        if n > min(na, nb):
            raise ValueError(f"tensordot: dims={n} is more than the dimensions of a (shape "
                             f"{shape_str(a.shape)}) or b (shape {shape_str(b.shape)})")
        da, db = list(range(na - n, na)), list(range(n))
    elif isinstance(dims, (list, tuple)) and len(dims) == 2:
        da, db = _dims_list(dims[0], na, "a"), _dims_list(dims[1], nb, "b")
    else:
        raise TypeError(f"tensordot: dims must be an int or a pair of lists of ints, got "
                        f"{dims!r:.60}")
    if len(da) != len(db):
        raise ValueError(f"tensordot: both dimension lists must have the same length, got {da} "
                         f"and {db}")
    for name, d in (("a", da), ("b", db)):
        if len(set(d)) != len(d):
            raise ValueError(f"tensordot: dims of {name} {d} name a dimension twice")
    for i, j in zip(da, db):
        m, n = a._data.shape[i], b._data.shape[j]
        if m != n and m != 1 and n != 1:
            raise ValueError(f"tensordot: contracted dimensions must match, but a has size {m} "
                             f"in dim {i} and b has size {n} in dim {j}")
    if a._data.dtype != b._data.dtype:
        raise TypeError(f"tensordot: both inputs must have the same dtype, got {a.dtype} and "
                        f"{b.dtype}")
    if na + nb - len(da) > len(_LETTERS):
        raise ValueError("tensordot: too many dimensions for one contraction (at most 52)")
    la = list(_LETTERS[:na])
    lb = list(_LETTERS[na:na + nb])
    for i, j in zip(da, db):
        lb[j] = la[i]
    out = [c for k, c in enumerate(la) if k not in da] + [c for k, c in enumerate(lb)
                                                          if k not in db]
    return einsum("".join(la) + "," + "".join(lb) + "->" + "".join(out), a, b)


# ---------------------------------------------------------------------------------------
# vector norms
# ---------------------------------------------------------------------------------------
def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
                dtype: Any = None, _op: str = "linalg.vector_norm") -> Tensor:
    """PyTorch's ``linalg.vector_norm``: the ``ord``-norm of ``x`` over ``dim`` (None: all
    elements). ``ord`` is any real number or +-inf; 0 counts the non-zero elements."""
    check_tensor(_op, "input", x)
    if isinstance(ord, (bool, np.bool_)) or not isinstance(ord, (int, float, np.integer,
                                                                 np.floating)):
        raise TypeError(f"{_op}: ord must be a real number, got {type(ord).__name__} {ord!r:.40}")
    p = float(ord)
    if p != p:
        raise ValueError(f"{_op}: ord must not be NaN")
    if dtype is not None:
        from ..tensor import as_dtype
        from .elementwise import cast
        dt = as_dtype(dtype, _op)
        if dt.kind != "f":
            raise TypeError(f"{_op}: dtype must be floating point, got {dt}")
        if x._data.dtype.kind != "f":
            raise TypeError(f"{_op}: expected a floating-point input, got dtype {x.dtype}")
        x = cast(x, dt)
    if x._data.dtype.kind != "f":
        raise TypeError(f"{_op}: expected a floating-point input, got dtype {x.dtype}")
    if type(dim) in (tuple, list) and not dim:
        dim = None
    dims = normalize_dims(_op, dim, x._data.ndim)
    # max |x| and the negative-order norms (min |x| for -inf; (sum |x|^p)^(1/p) is 1/0 for
    # p < 0) have no value over an empty dim: refused, as PyTorch
    if (p < 0 or p == np.inf) and x._data.size == 0:
        for d in dims:
            if x._data.shape[d] == 0:
                raise ValueError(f"{_op}: cannot compute the {ord} norm over dimension {d} of "
                                 f"size 0 (shape {shape_str(x.shape)}): it has no identity")
    # The same Function as torch.norm's vector case (reduce.Norm): one forward, one
    # backward (PyTorch's norm_backward) for both spellings.
    from .reduce import Norm
    return Norm.apply(x, p, dims, bool(keepdim))


def _linalg_namespace() -> Any:
    # tl.linalg, as torch.linalg (the subset there is so far); a module object, so that
    # `import tensorlite.linalg` and `from tensorlite.linalg import vector_norm` work too.
    import types

    def linalg_vector_norm(x: Tensor, ord: Any = 2, dim: Any = None,  # noqa: A002
                           keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return vector_norm(x, ord, dim, keepdim, dtype=dtype)

    linalg_vector_norm.__name__ = linalg_vector_norm.__qualname__ = "vector_norm"
    linalg_vector_norm.__doc__ = vector_norm.__doc__
    mod = types.ModuleType("tensorlite.linalg", "Linear algebra, as torch.linalg: vector_norm, "
                                                "matmul.")
    mod.vector_norm = linalg_vector_norm
    mod.matmul = matmul
    mod.__all__ = ["matmul", "vector_norm"]
    return mod


linalg_namespace = _linalg_namespace()


# -- nn.functional.linear's node ------------------------------------------------------
class Linear(Function):
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
        if not is_grad_enabled():
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
