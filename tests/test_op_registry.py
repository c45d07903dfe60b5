"""The op registry (tensorlite/ops/registry.py): every public op declared once, and each
piece the declaration promises exists -- tl.<name>, Tensor.<name>, Tensor.<name>_, an
OpInfo entry for each Function it records, PyTorch's keyword for its first argument and
one clear error for a first argument that is not a Tensor."""
import inspect

import numpy as np
import pytest

import tensorlite as tl
import tensorlite.ops as O
from tensorlite.autograd import Function
from tensorlite.ops import registry, unary
from tensorlite.testing.opinfo import op_db
from tensorlite.testing.opinfo_math import entry_from_declaration

# Callables in tensorlite.ops that are not public ops: the dtype conversion behind
# Tensor.to, Tensor.__getitem__/__setitem__, and tl.linalg.vector_norm.
INTERNAL = {"cast", "getitem", "setitem", "vector_norm"}
NAMES = sorted(registry.OPS)


def test_every_callable_in_tensorlite_ops_is_declared():
    undeclared = [n for n, obj in vars(O).items()
                  if not n.startswith("_") and callable(obj) and not inspect.ismodule(obj)
                  and not inspect.isclass(obj) and n not in registry.OPS and n not in INTERNAL]
    assert not undeclared, f"public ops without a declaration: {undeclared}"


@pytest.mark.parametrize("name", NAMES)
def test_declared_op_is_exported_and_a_method_as_declared(name):
    op = registry.OPS[name]
    assert getattr(O, name) is op.fn
    if op.export:
        assert getattr(tl, name) is op.fn
    if op.method:
        assert getattr(tl.Tensor, name) is op.fn
    if op.inplace:
        assert callable(getattr(tl.Tensor, name + "_"))


def test_logical_and_bitwise_ops_are_functions_and_methods():
    a = tl.tensor([True, False, True])
    b = tl.tensor([True, True, False])
    assert tl.logical_and(a, b).tolist() == [True, False, False]
    assert a.logical_or(b).tolist() == [True, True, True]
    assert tl.logical_xor(a, b).tolist() == [False, True, True]
    assert a.logical_not().tolist() == [False, True, False]
    i, j = tl.tensor([12, 10]), tl.tensor([10, 6])
    assert tl.bitwise_and(i, j).tolist() == [8, 2]
    assert i.bitwise_or(j).tolist() == [14, 14]
    assert tl.bitwise_xor(i, j).tolist() == [6, 12]
    assert tl.bitwise_not(i).tolist() == [-13, -11]


def _tensor_first(name):
    op = registry.OPS[name]
    if not (op.export and op.tensor_input):
        return False
    params = list(inspect.signature(op.fn).parameters.values())
    return bool(params) and params[0].kind is params[0].POSITIONAL_OR_KEYWORD


TENSOR_FIRST = [n for n in NAMES if _tensor_first(n)]


@pytest.mark.parametrize("name", TENSOR_FIRST)
def test_first_argument_is_called_input_as_in_pytorch(name):
    first = next(iter(inspect.signature(registry.OPS[name].fn).parameters))
    assert first == "input"


@pytest.mark.parametrize("name", TENSOR_FIRST)
def test_non_tensor_input_gives_one_clear_error_naming_the_op(name):
    with pytest.raises(TypeError, match=f"^{name}: input must be a Tensor, got list"):
        registry.OPS[name].fn([1.0, 2.0])


def test_input_keyword_works_as_in_pytorch():
    t = tl.tensor([0.5, 2.0])
    np.testing.assert_allclose(tl.exp(input=t).numpy(), np.exp([0.5, 2.0]), rtol=1e-6)
    assert tl.sum(input=t).item() == 2.5
    assert tl.add(input=t, other=t).tolist() == [1.0, 4.0]
    assert next(iter(inspect.signature(tl.where).parameters)) == "condition"


def _op_functions():
    """Every Function class an op records: classes in tensorlite.ops modules, and those
    the unary table makes (reached through each row's functional form)."""
    found = set()
    for mod in vars(O).values():
        if inspect.ismodule(mod) and mod.__name__.startswith("tensorlite.ops."):
            found |= {obj for obj in vars(mod).values() if inspect.isclass(obj)
                      and issubclass(obj, Function) and obj.__module__.startswith("tensorlite.ops")}
    found |= {op.fn.Function for op in registry.OPS.values() if hasattr(op.fn, "Function")}
    return found


def test_every_function_an_op_records_has_an_opinfo_entry():
    covered = {cls for info in op_db for cls in info.covers}
    missing = sorted(f"{c.__module__}.{c.__name__}" for c in _op_functions() - covered)
    assert not missing, f"Function classes without an OpInfo entry: {missing}"


def test_a_new_elementwise_op_is_one_table_row():
    """The recipe of docs/architecture.md: one row gives the Function, tl.<name>,
    Tensor.<name> (and <name>_), and with test= its OpInfo entry."""
    def ref(x):
        return x / (1 + np.abs(x))

    softsign = unary.define("softsign_row", ref, "input", lambda g, x: g / (1 + x.abs()) ** 2,
                            inplace=True, test=dict(ref=ref, lo=-3, hi=3, avoid=(0.0,)))
    try:
        assert tl.softsign_row is softsign
        x = tl.tensor([-2.0, 0.5, 3.0], dtype=tl.float64, requires_grad=True)
        np.testing.assert_allclose(x.softsign_row().detach().numpy(), ref(x.detach().numpy()))
        assert tl.gradcheck(softsign, (x,))
        assert tl.gradgradcheck(softsign, (x,))
        y = tl.tensor([1.0, -1.0])
        y.softsign_row_()
        assert y.tolist() == [0.5, -0.5]
        with pytest.raises(TypeError, match="^softsign_row: input must be a Tensor, got list"):
            tl.softsign_row([1.0])
        info = entry_from_declaration(registry.OPS["softsign_row"])
        assert info.covers == (softsign.Function,) and info.ref is ref
    finally:
        registry.undeclare("softsign_row")
    assert not hasattr(tl, "softsign_row") and not hasattr(tl.Tensor, "softsign_row")
