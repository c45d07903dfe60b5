"""The op registry: every public op declared once, and everything else made from that.

A declaration names the op's function (its module attribute) and says whether it is a
Tensor method, whether it has an in-place variant (``name_``) and whether it is exported
as ``tl.name``. From the registry:

* ``tensorlite.ops.__all__`` and so ``tl.<name>`` (``tensorlite/__init__.py``),
* the Tensor methods and their in-place variants (``ops/methods.py``),
* the meta-test (``tests/ops/test_registry.py``): every public op has each piece it
  declares, an OpInfo entry for each Function it records, a clear error naming it for
  a non-Tensor input, and PyTorch's keyword for its first argument.

Elementwise math is declared as rows of a table (``ops/unary.py``); each row also
yields its Function class and its OpInfo entry.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
from types import ModuleType
from typing import Any, Callable, Iterable, Optional

from .._checks import check_tensor
from ..tensor import Tensor


@dataclasses.dataclass
class OpDef:
    name: str
    fn: Callable
    method: bool = True            # Tensor.<name>
    inplace: bool = False          # Tensor.<name>_
    export: bool = True            # tl.<name>
    test: Optional[dict] = None    # an OpInfo spec (table rows): ref, lo, hi, ...
    tensor_input: bool = True      # the first argument must be a Tensor


OPS: dict = {}
# Called with each OpDef declared after import (a user's table row): tl.<name> and the
# Tensor methods are installed by the listeners that tensorlite/__init__.py and
# ops/methods.py register here.
listeners: list = []


def declare(fn: Callable, name: Optional[str] = None, *, method: bool = True,
            inplace: bool = False, export: bool = True, test: Optional[dict] = None,
            tensor_input: bool = True, checks_itself: bool = False) -> Callable:
    """Register one op; returns its public form (``fn`` itself, or ``fn`` behind the
    common argument check: see :func:`_checked`). ``checks_itself``: ``fn`` refuses a
    non-Tensor first argument with the same error already (the unary table's ops)."""
    name = name or fn.__name__
    if name in OPS and OPS[name].fn is not fn and getattr(OPS[name].fn, "__wrapped__", None) \
            is not fn:
        raise ValueError(f"op {name!r} is declared twice")
    fn = _checked(name, fn, tensor_input and not checks_itself)
    OPS[name] = op = OpDef(name, fn, method, inplace, export, test, tensor_input)
    for listener in listeners:
        listener(op)
    return fn


# First parameters that PyTorch calls something else than ours: the public form takes
# PyTorch's keyword (tl.sum(input=t), tl.where(condition=...)).
_PYTORCH_FIRST = {"x": "input", "a": "input", "cond": "condition"}


def _checked(name: str, fn: Callable, tensor_input: bool) -> Callable:
    """``fn``, or a thin front of it that takes PyTorch's keyword for the first argument and,
    with ``tensor_input``, refuses a first argument that is not a Tensor with one clear
    error naming the op (before ``fn`` can fail on it somewhere deeper)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return fn
    if not params or params[0].kind not in (params[0].POSITIONAL_ONLY,
                                            params[0].POSITIONAL_OR_KEYWORD):
        return fn
    ours = params[0].name
    theirs = _PYTORCH_FIRST.get(ours, ours)
    if ours == theirs and not tensor_input:
        return fn

    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        if theirs in kwargs and not args:
            args = (kwargs.pop(theirs),)
        if tensor_input and args and not isinstance(args[0], Tensor):
            check_tensor(name, theirs, args[0])
        return fn(*args, **kwargs)

    op.__signature__ = inspect.signature(fn).replace(
        parameters=[params[0].replace(name=theirs)] + params[1:])
    return op


def _names(spec: str) -> list:
    return spec.split()


def declare_family(module: ModuleType, both: str = "", *, inplace: str = "",
                   function_only: str = "", method_only: str = "",
                   number_first: str = "") -> None:
    """Declare a family's ops by name: ``both`` are ``tl.<name>`` and ``Tensor.<name>``;
    ``function_only`` only ``tl.<name>``, ``method_only`` only ``Tensor.<name>``;
    ``inplace`` names those (of any group) that also have ``Tensor.<name>_``;
    ``number_first`` those whose first argument may be a number (``tl.add(2, t)``) or a
    sequence of tensors (``tl.cat``), and so is not checked to be a Tensor."""
    with_inplace, numbers = set(_names(inplace)), set(_names(number_first))
    groups = ((both, True, True), (function_only, False, True), (method_only, True, False))
    for spec, method, export in groups:
        for name in _names(spec):
            declare(getattr(module, name), name, method=method, inplace=name in with_inplace,
                    export=export, tensor_input=name not in numbers)
    unknown = with_inplace - {n for spec, _, _ in groups for n in _names(spec)}
    if unknown:
        raise ValueError(f"in-place variants declared for unknown ops: {sorted(unknown)}")


def undeclare(name: str) -> None:
    """Remove an op declared at run time (a test's), with its tl name and Tensor methods."""
    import sys
    op = OPS.pop(name)
    tl = sys.modules["tensorlite"]
    if op.export and getattr(tl, name, None) is op.fn:
        delattr(tl, name)
    for attr in (name, name + "_"):
        if attr in vars(Tensor):
            delattr(Tensor, attr)


def exported() -> list:
    return sorted(n for n, d in OPS.items() if d.export)


def methods() -> Iterable:
    return ((n, d) for n, d in OPS.items() if d.method)


def get(name: str) -> Any:
    return OPS[name]
