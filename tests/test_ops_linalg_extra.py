"""Edge cases of the linear-algebra products (mm, bmm, dot, mv, outer, addmm/addmv/baddbmm,
einsum, tensordot), linalg.vector_norm, F.normalize / cosine_similarity /
pairwise_distance (compared with PyTorch in float64, gradients included), and the random
sampling ops (distributional checks with a fixed seed and reproducibility under
tl.manual_seed; random values are never compared with PyTorch's)."""
import numpy as np
import pytest

import nn.functional as F
import tensorlite as tl
from tensorlite.ops.linalg import vector_norm
from tensorlite.testing import gradcheck, gradgradcheck

INF = float("inf")
NAN = float("nan")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _run(lib, fn, arrays):
    """fn(*inputs) and the gradients of <out, seed> for float64 inputs (floats require grad)."""
    if lib is tl:
        xs = [tl.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    else:
        xs = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(*xs)
    data = out._data if lib is tl else out.detach().numpy()
    diff = [x for x in xs if x.requires_grad]
    if not diff or not out.requires_grad:
        return np.asarray(data), []
    seed = np.random.default_rng(1).standard_normal(out.shape)
    if lib is tl:
        grads = tl.autograd.grad([out], diff, [tl.tensor(seed)], allow_unused=True)
        grads = [None if g is None else g._data for g in grads]
    else:
        grads = lib.autograd.grad([out], diff, [lib.tensor(seed)], allow_unused=True)
        grads = [None if g is None else g.numpy() for g in grads]
    if all(g is None for g in grads):
        grads = []  # no gradient at all (PyTorch's ord=0 norm has a node that reaches nothing)
    return np.asarray(data), grads


def assert_like_torch(torch, ours, theirs, *arrays, rtol=1e-12, atol=1e-12):
    arrays = [np.asarray(a) for a in arrays]
    out, grads = _run(tl, ours, arrays)
    out_t, grads_t = _run(torch, theirs, arrays)
    assert out.shape == out_t.shape
    assert out.dtype == out_t.dtype, (out.dtype, out_t.dtype)
    np.testing.assert_allclose(out, out_t, rtol=rtol, atol=atol)
    assert len(grads) == len(grads_t)
    for g, gt in zip(grads, grads_t):
        if gt is None:
            assert g is None or not np.any(g)
            continue
        np.testing.assert_allclose(g, gt, rtol=rtol, atol=atol)


def rnd(*shape, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape)


# ---------------------------------------------------------------------------------------
# mm, bmm, dot, mv, outer
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("sa,sb", [((0, 3), (3, 2)), ((2, 0), (0, 3)), ((2, 3), (3, 0))])
def test_mm_empty(torch, sa, sb):
    assert_like_torch(torch, tl.mm, torch.mm, rnd(*sa), rnd(*sb))
    assert_like_torch(torch, lambda a, b: a.mm(b), lambda a, b: a.mm(b), rnd(*sa), rnd(*sb))


def test_products_match_torch_with_method_forms(torch):
    a, b, v = rnd(3, 4), rnd(4, 2), rnd(4)
    assert_like_torch(torch, lambda x, y: x.mm(y), lambda x, y: x.mm(y), a, b)
    assert_like_torch(torch, lambda x, y: x.mv(y), lambda x, y: x.mv(y), a, v)
    assert_like_torch(torch, lambda x, y: x.dot(y), lambda x, y: x.dot(y), v, rnd(4, seed=3))
    assert_like_torch(torch, lambda x, y: x.outer(y), lambda x, y: x.outer(y), v, rnd(3))
    assert_like_torch(torch, lambda x, y: x.ger(y), lambda x, y: x.ger(y), v, rnd(3))
    assert_like_torch(torch, lambda x, y: x.bmm(y), lambda x, y: x.bmm(y), rnd(2, 3, 4),
                      rnd(2, 4, 1))
    assert_like_torch(torch, tl.dot, torch.dot, rnd(0), rnd(0))


def test_integer_products_match_torch(torch):
    a = np.arange(6).reshape(2, 3)
    b = np.arange(12).reshape(3, 4) - 5
    for ours, theirs, x, y in [(tl.mm, torch.mm, a, b), (tl.mv, torch.mv, a, b[:, 0]),
                               (tl.dot, torch.dot, a[0], b[:, 1]),
                               (tl.outer, torch.outer, a[0], b[0].astype(np.float64))]:
        got = ours(tl.tensor(x), tl.tensor(y))
        want = theirs(torch.tensor(x), torch.tensor(y))
        assert str(want.dtype).endswith(str(got.dtype))
        np.testing.assert_array_equal(got._data, want.numpy())
        assert not got.requires_grad


@pytest.mark.parametrize("call,match", [
    (lambda: tl.mm(tl.ones(3), tl.ones(3, 2)), r"mm: input must be a 2-D tensor, got shape \(3,\)"),
    (lambda: tl.mm(tl.ones(2, 3), tl.ones(2, 2)), r"mm: shapes \(2, 3\) and \(2, 2\) cannot"),
    (lambda: tl.mm(tl.ones(2, 3), tl.ones(3, 2, dtype=tl.float64)), "mm: expected all tensors "
     "to have the same dtype"),
    (lambda: tl.mm(tl.ones(2, 2, dtype=tl.bool), tl.ones(2, 2, dtype=tl.bool)), "mm: bool"),
    (lambda: tl.bmm(tl.ones(2, 3), tl.ones(3, 2)), "bmm: input must be a 3-D tensor"),
    (lambda: tl.bmm(tl.ones(2, 2, 3), tl.ones(3, 3, 2)), "bmm: .*batch sizes 2 and 3"),
    (lambda: tl.bmm(tl.ones(2, 2, 3), tl.ones(2, 2, 2)), "bmm: .*inner sizes 3 and 2"),
    (lambda: tl.dot(tl.ones(2, 2), tl.ones(2, 2)), "dot: 1-D tensors expected"),
    (lambda: tl.dot(tl.tensor(1.), tl.tensor(1.)), "dot: 1-D tensors expected"),
    (lambda: tl.dot(tl.ones(3), tl.ones(2)), r"dot: .*same number of elements.*\(3,\) and \(2,\)"),
    (lambda: tl.mv(tl.ones(2, 3), tl.ones(2)), r"mv: shapes \(2, 3\) and \(2,\)"),
    (lambda: tl.mv(tl.ones(2, 3), tl.ones(3, 1)), "mv: vec must be a 1-D tensor"),
    (lambda: tl.outer(tl.ones(2, 2), tl.ones(2)), "outer: input must be a 1-D tensor"),
    (lambda: tl.mm(np.ones((2, 2)), tl.ones(2, 2)), "mm: input must be a Tensor"),
])
def test_product_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# ---------------------------------------------------------------------------------------
# addmm, addmv, baddbmm
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, -2), (0, 1), (2, 0)])
def test_addmm_family_matches_torch(torch, beta, alpha):
    kw = {"beta": beta, "alpha": alpha}
    assert_like_torch(torch, lambda i, a, b: tl.addmm(i, a, b, **kw),
                      lambda i, a, b: torch.addmm(i, a, b, **kw), rnd(3), rnd(2, 4), rnd(4, 3))
    assert_like_torch(torch, lambda i, a, b: i.addmm(a, b, **kw),
                      lambda i, a, b: i.addmm(a, b, **kw), rnd(2, 1), rnd(2, 4), rnd(4, 3))
    assert_like_torch(torch, lambda i, a, b: tl.addmv(i, a, b, **kw),
                      lambda i, a, b: torch.addmv(i, a, b, **kw), rnd(), rnd(2, 4), rnd(4))
    assert_like_torch(torch, lambda i, a, b: i.baddbmm(a, b, **kw),
                      lambda i, a, b: i.baddbmm(a, b, **kw), rnd(1, 2, 3), rnd(5, 2, 4),
                      rnd(5, 4, 3))


def test_addmm_beta_zero_ignores_nan_input_but_gives_it_a_zero_gradient(torch):
    inp = np.full((2, 3), NAN)
    assert_like_torch(torch, lambda i, a, b: tl.addmm(i, a, b, beta=0),
                      lambda i, a, b: torch.addmm(i, a, b, beta=0), inp, rnd(2, 4), rnd(4, 3))
    out = tl.addmm(tl.tensor(inp), tl.tensor(rnd(2, 4)), tl.tensor(rnd(4, 3)), beta=0)
    assert np.isfinite(out._data).all()


@pytest.mark.parametrize("call,match", [
    (lambda: tl.addmm(tl.ones(4), tl.ones(2, 4), tl.ones(4, 3)),
     r"addmm: input of shape \(4,\) does not broadcast to the product's shape \(2, 3\)"),
    (lambda: tl.addmm(tl.ones(2, 3, 1), tl.ones(2, 4), tl.ones(4, 3)), "addmm: input of shape"),
    (lambda: tl.addmm(tl.ones(2, 3, dtype=tl.float64), tl.ones(2, 4), tl.ones(4, 3)),
     "addmm: expected all tensors to have the same dtype"),
    (lambda: tl.addmm(tl.ones(2, 3, dtype=tl.int64), tl.ones(2, 4, dtype=tl.int64),
                      tl.ones(4, 3, dtype=tl.int64), alpha=0.5),
     "addmm: alpha must be an int for integer tensors"),
    (lambda: tl.addmm(tl.ones(2, 3), tl.ones(2, 4), tl.ones(4, 3), beta="1"),
     "addmm: beta must be a number"),
    (lambda: tl.addmv(tl.ones(2), tl.ones(2, 4), tl.ones(3)), r"addmv: shapes \(2, 4\) and \(3,\)"),
    (lambda: tl.baddbmm(tl.ones(4, 2, 3), tl.ones(5, 2, 4), tl.ones(5, 4, 3)),
     r"baddbmm: input of shape \(4, 2, 3\) does not broadcast"),
    (lambda: tl.baddbmm(tl.ones(2, 3), tl.ones(5, 2, 4), tl.ones(4, 4, 3)),
     "baddbmm: .*different batch sizes"),
])
def test_addmm_family_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# ---------------------------------------------------------------------------------------
# einsum
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iii->i", [(2, 2, 2)]),
    ("ii->", [(0, 0)]),
    ("...ij->...ji", [(2, 3, 4)]),
    ("...ij->ij", [(5, 2, 3)]),
    ("i...->...", [(5, 2, 3)]),
    ("...", [(2, 3)]),
    ("ba,ab", [(2, 3), (3, 2)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bA", [(2, 3)]),
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),
    ("iJ,Jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("...ij,...jk->...ik", [(4, 1, 2, 3), (5, 3, 2)]),
    ("i,i->i", [(1,), (3,)]),
    ("ij,jk->ik", [(2, 1), (3, 2)]),
    ("ii,i->i", [(1, 1), (3,)]),
    (",i->i", [(), (3,)]),
    ("i,i->", [(0,), (0,)]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),
    ("ij->ji", [(2, 3)]),
    ("i->", [(4,)]),
])
def test_einsum_matches_torch(torch, eq, shapes):
    arrays = [rnd(*s, seed=k) for k, s in enumerate(shapes)]
    assert_like_torch(torch, lambda *xs: tl.einsum(eq, *xs),
                      lambda *xs: torch.einsum(eq, *xs), *arrays)
    assert_like_torch(torch, lambda *xs: tl.einsum(eq, list(xs)),
                      lambda *xs: torch.einsum(eq, list(xs)), *arrays)


@pytest.mark.parametrize("eq,shapes", [
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ij,jk->ik", [(2, 3), (3, 2)]),
    ("iij->j", [(2, 2, 3)]), ("ij->", [(2, 3)]), ("bn,anm,bm->ba", [(2, 3), (2, 3, 2), (2, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
])
def test_einsum_gradgrad(eq, shapes):
    xs = [tl.tensor(rnd(*s, seed=k), requires_grad=True) for k, s in enumerate(shapes)]
    assert gradcheck(lambda *a: tl.einsum(eq, *a), xs)
    assert gradgradcheck(lambda *a: tl.einsum(eq, *a), xs)


def test_einsum_integer_and_result_owns_its_memory(torch):
    a = np.arange(9).reshape(3, 3)
    got = tl.einsum("ii->i", tl.tensor(a))
    np.testing.assert_array_equal(got._data, torch.einsum("ii->i", torch.tensor(a)).numpy())
    assert got.dtype == tl.int64 and not got.requires_grad
    # numpy returns views for a diagonal or a transpose: the result must not alias x
    x = tl.tensor(rnd(3, 3))
    for eq in ("ii->i", "ij->ji", "ij->ij"):
        y = tl.einsum(eq, x)
        before = x._data.copy()
        y += 1
        np.testing.assert_array_equal(x._data, before)


@pytest.mark.parametrize("call,match", [
    (lambda: tl.einsum("i,i->", tl.ones(3)), "einsum: the equation 'i,i->' has 2 input term"),
    (lambda: tl.einsum("i->i", tl.ones(2), tl.ones(2)), "has 1 input term.* 2 operand"),
    (lambda: tl.einsum("i1,i->i", tl.ones(2, 2), tl.ones(2)), "einsum: invalid subscript '1'"),
    (lambda: tl.einsum("i->i->i", tl.ones(2)), "einsum: invalid subscript '-'"),
    (lambda: tl.einsum("i->ii", tl.ones(2)), "output subscript 'i' appears more than once"),
    (lambda: tl.einsum("i->j", tl.ones(2)), "output subscript 'j' does not appear"),
    (lambda: tl.einsum("ij->i", tl.ones(2)), r"operand 0 has 2 subscripts but 1 dimensions"),
    (lambda: tl.einsum("...ij->", tl.ones(2)), "operand 0 has 2 subscripts but only 1"),
    (lambda: tl.einsum("......", tl.ones(2)), "more than one ellipsis"),
    (lambda: tl.einsum("..i", tl.ones(2)), "not part of an ellipsis"),
    (lambda: tl.einsum("i,i->i", tl.ones(2), tl.ones(3)),
     r"subscript 'i' has size 3 in operand 1 .* size 2"),
    (lambda: tl.einsum("ii->i", tl.ones(2, 3)), "subscript 'i' is repeated in operand 0 with "
     "different sizes 2 and 3"),
    (lambda: tl.einsum("i,i->", tl.ones(3), tl.ones(3, dtype=tl.float64)),
     "einsum: expected all operands to have the same dtype"),
    (lambda: tl.einsum("i->i"), "einsum: at least one operand"),
    (lambda: tl.einsum(tl.ones(2), [0]), "einsum: the first argument must be the equation"),
    (lambda: tl.einsum("i->i", np.ones(2)), "einsum: operand 0 must be a Tensor"),
])
def test_einsum_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# ---------------------------------------------------------------------------------------
# tensordot
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("sa,sb,dims", [
    ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (3, 2), 1), ((2,), (3,), 0), ((), (2,), 0),
    ((2, 3, 4), (4, 3), ([1, 2], [1, 0])), ((2, 3, 4), (4, 3), ((2,), (0,))),
    ((2, 3, 4), (4, 3), ([-1], [0])), ((2, 1), (3, 2), ([1], [0])), ((2, 3), (2, 3), 2),
    ((2, 0), (0, 3), 1),
])
def test_tensordot_matches_torch(torch, sa, sb, dims):
    assert_like_torch(torch, lambda a, b: tl.tensordot(a, b, dims),
                      lambda a, b: torch.tensordot(a, b, dims), rnd(*sa), rnd(*sb, seed=1))


def test_tensordot_dims_as_tensor(torch):
    a, b = rnd(2, 3), rnd(3, 2)
    got = tl.tensordot(tl.tensor(a), tl.tensor(b), tl.tensor(1))
    want = torch.tensordot(torch.tensor(a), torch.tensor(b), torch.tensor(1))
    np.testing.assert_allclose(got._data, want.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call,match", [
    (lambda: tl.tensordot(tl.ones(2, 3), tl.ones(3, 2), -1), "tensordot: dims must be >= 0"),
    (lambda: tl.tensordot(tl.ones(2, 3), tl.ones(3, 2), 3), "tensordot: dims=3 is more than"),
    (lambda: tl.tensordot(tl.ones(2, 3), tl.ones(2, 2), 1),
     "contracted dimensions must match, but a has size 3 in dim 1 and b has size 2 in dim 0"),
    (lambda: tl.tensordot(tl.ones(2, 3, 3), tl.ones(3, 3), ([1, 1], [0, 1])), "twice"),
    (lambda: tl.tensordot(tl.ones(2, 3, 3), tl.ones(3, 3), ([1, 2], [0])), "same length"),
    (lambda: tl.tensordot(tl.ones(2, 3), tl.ones(3, 2), 1.0), "tensordot: dims must be an int"),
    (lambda: tl.tensordot(tl.ones(2, 3), tl.ones(3, 2, dtype=tl.float64), 1),
     "tensordot: both inputs must have the same dtype"),
    (lambda: tl.tensordot(tl.ones(2, 3), tl.ones(3, 2), ([5], [0])), "dim 5 is out of range"),
])
def test_tensordot_errors(call, match):
    with pytest.raises((ValueError, TypeError, IndexError), match=match):
        call()


# ---------------------------------------------------------------------------------------
# linalg.vector_norm
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("ord", [2, 1, 3, 1.5, 0.5, -1, -2, INF, -INF, 0])
def test_vector_norm_with_zeros_matches_torch(torch, ord):
    # Zero rows and zero elements: PyTorch's subgradient (0 where the norm is 0).
    x = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.0], [3.0, -3.0, 0.5]])
    assert_like_torch(torch, lambda t: vector_norm(t, ord, 1),
                      lambda t: torch.linalg.vector_norm(t, ord, 1), x)
    assert_like_torch(torch, lambda t: vector_norm(t, ord, (0, 1), True),
                      lambda t: torch.linalg.vector_norm(t, ord, (0, 1), True), x)


def test_vector_norm_edge_cases(torch):
    assert_like_torch(torch, lambda t: vector_norm(t), lambda t: torch.linalg.vector_norm(t),
                      np.zeros(0))
    assert_like_torch(torch, lambda t: vector_norm(t, 2, 1),
                      lambda t: torch.linalg.vector_norm(t, 2, 1), np.zeros((3, 0)))
    assert_like_torch(torch, lambda t: vector_norm(t, INF, 1),
                      lambda t: torch.linalg.vector_norm(t, INF, 1), np.zeros((0, 3)))
    assert_like_torch(torch, lambda t: vector_norm(t, 3), lambda t: torch.linalg.vector_norm(t, 3),
                      np.array(-2.0))
    got = vector_norm(tl.ones(2, 3), dtype=tl.float64)
    assert got.dtype == tl.float64
    with pytest.raises(ValueError, match="inf norm over dimension 0 of size 0"):
        vector_norm(tl.ones(0, 3), INF, 0)
    with pytest.raises(TypeError, match="expected a floating-point input, got dtype int64"):
        vector_norm(tl.ones(3, dtype=tl.int64))
    with pytest.raises(TypeError, match="ord must be a real number"):
        vector_norm(tl.ones(3), "fro")
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        vector_norm(tl.ones(3, 2), 2, 2)
    x = tl.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=tl.float64, requires_grad=True)
    # twice differentiable away from the kinks, through the saved norm
    y = tl.tensor([[0.5, -1.0], [1.0, 2.0]], dtype=tl.float64, requires_grad=True)
    for p in (2, 3, 1.5, 0.5):
        assert gradgradcheck(lambda t: vector_norm(t, p, 1), [y])
    assert vector_norm(x, 2, 1).requires_grad


# ---------------------------------------------------------------------------------------
# F.normalize, F.cosine_similarity, F.pairwise_distance
# ---------------------------------------------------------------------------------------
def _with_zero_rows():
    x = rnd(3, 4)
    x[1] = 0
    y = rnd(3, 4, seed=5)
    y[2] = 0
    return x, y


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, INF, -1, 0])
@pytest.mark.parametrize("dim", [1, 0, -1])
def test_normalize_matches_torch_with_zero_vectors(torch, p, dim):
    x, _ = _with_zero_rows()
    assert_like_torch(torch, lambda t: F.normalize(t, p=p, dim=dim),
                      lambda t: torch.nn.functional.normalize(t, p=p, dim=dim), x)


def test_normalize_edge_cases(torch):
    tf = torch.nn.functional
    assert_like_torch(torch, lambda t: F.normalize(t, dim=0), lambda t: tf.normalize(t, dim=0),
                      np.array(-2.0))
    assert_like_torch(torch, F.normalize, tf.normalize, np.zeros((0, 3)))
    assert_like_torch(torch, F.normalize, tf.normalize, np.zeros((3, 0)))
    assert_like_torch(torch, lambda t: F.normalize(t, eps=0.5), lambda t: tf.normalize(t, eps=0.5),
                      rnd(2, 3) * 0.1)
    with pytest.raises(IndexError, match="normalize: dim 1 is out of range"):
        F.normalize(tl.ones(3))
    with pytest.raises(TypeError, match="normalize: expected a floating-point input"):
        F.normalize(tl.ones(2, 3, dtype=tl.int64))


@pytest.mark.parametrize("dim", [1, 0, -1])
def test_cosine_similarity_matches_torch_with_zero_vectors(torch, dim):
    x, y = _with_zero_rows()
    tf = torch.nn.functional
    assert_like_torch(torch, lambda a, b: F.cosine_similarity(a, b, dim=dim),
                      lambda a, b: tf.cosine_similarity(a, b, dim=dim), x, y)
    # tiny vectors below eps, and both vectors zero
    assert_like_torch(torch, lambda a, b: F.cosine_similarity(a, b, dim=dim),
                      lambda a, b: tf.cosine_similarity(a, b, dim=dim), x * 1e-10, y)
    assert_like_torch(torch, lambda a, b: F.cosine_similarity(a, b, dim=dim),
                      lambda a, b: tf.cosine_similarity(a, b, dim=dim), np.zeros((3, 4)),
                      np.zeros((3, 4)))


def test_cosine_similarity_broadcast_dtypes_and_errors(torch):
    tf = torch.nn.functional
    assert_like_torch(torch, F.cosine_similarity, tf.cosine_similarity, rnd(2, 3), rnd(3))
    assert_like_torch(torch, lambda a, b: F.cosine_similarity(a, b, dim=0),
                      lambda a, b: tf.cosine_similarity(a, b, dim=0), rnd(2, 3), rnd(3))
    assert_like_torch(torch, lambda a, b: F.cosine_similarity(a, b, dim=0),
                      lambda a, b: tf.cosine_similarity(a, b, dim=0), rnd(3), rnd(3, seed=2))
    got = F.cosine_similarity(tl.ones(2, 3), tl.ones(2, 3, dtype=tl.float64))
    assert got.dtype == tl.float64
    with pytest.raises(ValueError, match=r"cosine_similarity: shapes \(2, 3\), \(4,\) cannot be "
                                         "broadcast"):
        F.cosine_similarity(tl.ones(2, 3), tl.ones(4))
    with pytest.raises(TypeError, match="cosine_similarity: expected floating-point inputs"):
        F.cosine_similarity(tl.ones(2, 3, dtype=tl.int64), tl.ones(2, 3, dtype=tl.int64))
    with pytest.raises(IndexError, match="cosine_similarity: dim 1 is out of range"):
        F.cosine_similarity(tl.ones(3), tl.ones(3))


@pytest.mark.parametrize("p", [2, 1, 3, INF, 0.5, -1])
def test_pairwise_distance_matches_torch(torch, p):
    x, y = _with_zero_rows()
    tf = torch.nn.functional
    assert_like_torch(torch, lambda a, b: F.pairwise_distance(a, b, p=p),
                      lambda a, b: tf.pairwise_distance(a, b, p=p), x, y)
    # identical inputs with eps=0: the distance is 0 and so is the gradient
    assert_like_torch(torch, lambda a, b: F.pairwise_distance(a, b, p=p, eps=0.0),
                      lambda a, b: tf.pairwise_distance(a, b, p=p, eps=0.0), x, x.copy())


def test_pairwise_distance_shapes(torch):
    tf = torch.nn.functional
    assert_like_torch(torch, lambda a, b: F.pairwise_distance(a, b, keepdim=True),
                      lambda a, b: tf.pairwise_distance(a, b, keepdim=True), rnd(2, 3), rnd(3))
    assert_like_torch(torch, F.pairwise_distance, tf.pairwise_distance, rnd(3), rnd(3, seed=4))
    assert_like_torch(torch, F.pairwise_distance, tf.pairwise_distance, np.array(1.5),
                      np.array(0.25))
    got = F.pairwise_distance(tl.ones(2, 3, dtype=tl.int64), tl.zeros(2, 3, dtype=tl.int64))
    want = tf.pairwise_distance(torch.ones(2, 3, dtype=torch.long),
                                torch.zeros(2, 3, dtype=torch.long))
    assert got.dtype == tl.float32
    np.testing.assert_allclose(got._data, want.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="pairwise_distance: shapes"):
        F.pairwise_distance(tl.ones(2, 3), tl.ones(4))


# ---------------------------------------------------------------------------------------
# Random sampling: distributions (fixed seed, loose tolerances), reproducibility, errors
# ---------------------------------------------------------------------------------------
def _draw_all():
    """One draw of every sampling op, as arrays."""
    x = tl.zeros(5, dtype=tl.float64)
    return [tl.multinomial(tl.tensor([0.2, 0.3, 0.5]), 4, True)._data,
            tl.multinomial(tl.tensor([[1.0, 2.0, 3.0], [3.0, 0.0, 1.0]]), 2)._data,
            tl.bernoulli(tl.full((6,), 0.5))._data,
            tl.bernoulli(tl.zeros(6), 0.5)._data,
            tl.normal(tl.zeros(3), tl.ones(3))._data, tl.normal(0.0, 2.0, (3,))._data,
            x.uniform_(-1, 1)._data.copy(), x.normal_(2, 3)._data.copy(),
            x.bernoulli_(0.3)._data.copy(), x.exponential_(2.0)._data.copy(),
            x.random_(0, 100)._data.copy()]


def test_sampling_is_reproducible_under_manual_seed():
    tl.manual_seed(123)
    first = _draw_all()
    tl.manual_seed(123)
    second = _draw_all()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    tl.manual_seed(124)
    third = _draw_all()
    assert any(not np.array_equal(a, b) for a, b in zip(first, third))


def test_refused_calls_do_not_advance_the_generator():
    tl.manual_seed(7)
    want = tl.rand(3)._data
    tl.manual_seed(7)
    for call in (lambda: tl.multinomial(tl.tensor([1.0, -1.0]), 1),
                 lambda: tl.multinomial(tl.tensor([1.0, 0.0]), 2),
                 lambda: tl.bernoulli(tl.tensor([1.5])),
                 lambda: tl.normal(tl.zeros(2), -1.0),
                 lambda: tl.zeros(2).uniform_(3, 2),
                 lambda: tl.zeros(2, requires_grad=True).normal_(),
                 lambda: tl.zeros(2).random_(5, 2)):
        with pytest.raises((ValueError, TypeError, RuntimeError)):
            call()
    np.testing.assert_array_equal(tl.rand(3)._data, want)


def test_multinomial_with_replacement_frequencies():
    tl.manual_seed(0)
    w = tl.tensor([[1.0, 0.0, 3.0, 4.0], [0.0, 0.0, 0.0, 2.0]])  # unnormalised weights
    s = tl.multinomial(w, 20000, replacement=True)
    assert s.shape == (2, 20000) and s.dtype == tl.int64 and not s.requires_grad
    freq = np.bincount(s._data[0], minlength=4) / 20000
    np.testing.assert_allclose(freq, [0.125, 0.0, 0.375, 0.5], atol=0.015)
    assert freq[1] == 0
    assert (s._data[1] == 3).all()
    one = tl.multinomial(tl.tensor([0.0, 1.0]), 5, True)
    assert one.shape == (5,) and (one._data == 1).all()


def test_multinomial_without_replacement():
    tl.manual_seed(0)
    w = tl.tensor([1.0, 0.0, 2.0, 7.0])
    firsts = np.array([tl.multinomial(w, 3)._data for _ in range(4000)])
    # never a repeat, never the zero-weight category
    assert all(len(set(r)) == 3 for r in firsts) and not (firsts == 1).any()
    # the first draw follows the weights
    freq = np.bincount(firsts[:, 0], minlength=4) / 4000
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.2, 0.7], atol=0.025)
    # the second draw, given the first was 3, follows the remaining weights 1 : 2
    second = firsts[firsts[:, 0] == 3, 1]
    np.testing.assert_allclose(np.mean(second == 2), 2 / 3, atol=0.04)
    perm = tl.multinomial(tl.ones(2, 5), 5)._data
    assert (np.sort(perm, axis=1) == np.arange(5)).all()
    assert tl.multinomial(tl.ones(0, 3), 2).shape == (0, 2)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: tl.multinomial(tl.ones(2, 2, 2), 1), ValueError, "must be 1-D or 2-D"),
    (lambda: tl.multinomial(tl.tensor(1.0), 1), ValueError, "must be 1-D or 2-D"),
    (lambda: tl.multinomial(tl.ones(3, dtype=tl.int64), 1), TypeError, "floating-point"),
    (lambda: tl.multinomial(tl.tensor([1.0, -1.0]), 1), ValueError,
     "finite and non-negative, got -1.0 at index 1"),
    (lambda: tl.multinomial(tl.tensor([[1.0, 1.0], [1.0, NAN]]), 1), ValueError,
     "got nan at row 1, index 1"),
    (lambda: tl.multinomial(tl.tensor([1.0, INF]), 1), ValueError, "got inf"),
    (lambda: tl.multinomial(tl.tensor([[1.0, 1.0], [0.0, 0.0]]), 1), ValueError,
     "row 1 sum to 0"),
    (lambda: tl.multinomial(tl.tensor([1.0, 1.0]), 0), ValueError, "must be positive"),
    (lambda: tl.multinomial(tl.tensor([1.0, 1.0]), 2.0), TypeError, "num_samples must be an int"),
    (lambda: tl.multinomial(tl.tensor([1.0, 1.0]), 3), ValueError,
     "cannot draw 3 samples without replacement from 2 categories"),
    (lambda: tl.multinomial(tl.tensor([1.0, 0.0, 0.0]), 2), ValueError,
     "only 1 non-zero weight"),
    (lambda: tl.multinomial(tl.ones(0), 1, True), ValueError, "no categories"),
])
def test_multinomial_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_bernoulli():
    tl.manual_seed(0)
    p = tl.tensor([0.0, 0.25, 1.0], dtype=tl.float64)
    draws = tl.bernoulli(p.expand(20000, 3))
    assert draws.dtype == tl.float64 and not draws.requires_grad
    np.testing.assert_allclose(draws._data.mean(0), [0.0, 0.25, 1.0], atol=0.015)
    assert set(np.unique(draws._data)) <= {0.0, 1.0}
    np.testing.assert_allclose(tl.bernoulli(tl.zeros(20000), 0.7)._data.mean(), 0.7, atol=0.015)
    assert not tl.bernoulli(tl.full((3,), 0.5, requires_grad=True)).requires_grad
    with pytest.raises(ValueError, match=r"bernoulli: probabilities must be in \[0, 1\], got 1.5"):
        tl.bernoulli(tl.tensor([1.5, 1.0]))
    with pytest.raises(ValueError, match="got nan"):
        tl.bernoulli(tl.tensor([NAN]))
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.3"):
        tl.bernoulli(tl.zeros(3), 1.3)
    with pytest.raises(TypeError, match="bernoulli: input must be a floating-point"):
        tl.bernoulli(tl.tensor([0, 1]))


def test_normal_forms():
    tl.manual_seed(0)
    m = tl.tensor([[-5.0], [5.0]], dtype=tl.float64)
    s = tl.tensor([0.0, 1.0, 3.0])
    x = tl.normal(m, s.expand(20000, 2, 3).permute(1, 0, 2).reshape(2, 60000))
    assert x.shape == (2, 60000) and x.dtype == tl.float64
    y = tl.normal(m, s)
    assert y.shape == (2, 3)
    np.testing.assert_array_equal(y._data[:, 0], [-5.0, 5.0])  # std 0: the mean itself
    z = tl.normal(tl.full((40000,), 2.0), 3.0)
    np.testing.assert_allclose([z._data.mean(), z._data.std()], [2.0, 3.0], atol=0.06)
    w = tl.normal(1.0, tl.full((40000,), 0.5, dtype=tl.float64))
    assert w.dtype == tl.float64
    np.testing.assert_allclose([w._data.mean(), w._data.std()], [1.0, 0.5], atol=0.02)
    v = tl.normal(-1.0, 2.0, (40000,))
    assert v.dtype == tl.float32
    np.testing.assert_allclose([v._data.mean(), v._data.std()], [-1.0, 2.0], atol=0.05)
    assert tl.normal(0.0, 1.0, size=(2,), dtype=tl.float64).dtype == tl.float64
    assert tl.normal(0.0, 1.0, (2,), requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="normal: std must be >= 0, got -1.0"):
        tl.normal(tl.zeros(2), -1.0)
    with pytest.raises(ValueError, match="all elements of std must be >= 0, got -1.0"):
        tl.normal(tl.zeros(2), tl.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="std must be >= 0, got nan"):
        tl.normal(tl.zeros(2), NAN)
    with pytest.raises(ValueError, match=r"normal: shapes \(2,\), \(3,\) cannot be broadcast"):
        tl.normal(tl.zeros(2), tl.ones(3))
    with pytest.raises(TypeError, match="normal: size is required"):
        tl.normal(0.0, 1.0)
    with pytest.raises(TypeError, match="normal: mean must be a floating-point tensor"):
        tl.normal(tl.zeros(2, dtype=tl.int64), 1.0)


def test_inplace_initialisers_distributions():
    tl.manual_seed(0)
    x = tl.zeros(40000, dtype=tl.float64)
    assert x.uniform_(-2, 4) is x
    assert x._data.min() >= -2 and x._data.max() < 4
    np.testing.assert_allclose([x._data.mean(), x._data.var()], [1.0, 3.0], atol=0.05)
    x.normal_(3, 0.5)
    np.testing.assert_allclose([x._data.mean(), x._data.std()], [3.0, 0.5], atol=0.01)
    x.exponential_(4.0)
    assert x._data.min() >= 0
    np.testing.assert_allclose([x._data.mean(), x._data.std()], [0.25, 0.25], atol=0.01)
    x.bernoulli_(0.2)
    np.testing.assert_allclose(x._data.mean(), 0.2, atol=0.01)
    x.random_(3, 7)
    assert set(np.unique(x._data)) == {3.0, 4.0, 5.0, 6.0}
    x.random_(2)
    assert set(np.unique(x._data)) == {0.0, 1.0}
    x.uniform_(**{"from": 5, "to": 6})
    assert 5 <= x._data.min() and x._data.max() < 6
    x.uniform_(to=0.5)
    assert 0 <= x._data.min() and x._data.max() < 0.5
    assert (tl.zeros(3).uniform_(2, 2)._data == 2).all()
    assert (tl.zeros(3).normal_(mean=5, std=0)._data == 5).all()
    probs = tl.tensor([0.0, 1.0, 0.5])
    b = tl.zeros(2000, 3).bernoulli_(probs)
    np.testing.assert_allclose(b._data.mean(0), [0.0, 1.0, 0.5], atol=0.04)
    # integer, bool and float tensors: random_ covers the dtype's range
    f32 = tl.zeros(20000).random_()
    assert f32._data.min() >= 0 and f32._data.max() <= 2 ** 24 and f32._data.max() > 2 ** 23
    ints = tl.zeros(20000, dtype=tl.int64).random_()
    assert ints._data.min() >= 0 and ints._data.max() > 2 ** 62
    bools = tl.zeros(100, dtype=tl.bool).random_()
    assert set(np.unique(bools._data)) == {False, True}
    assert set(np.unique(tl.zeros(100, dtype=tl.int64).bernoulli_(0.5)._data)) == {0, 1}


def test_inplace_initialisers_and_autograd(torch):
    leaf = tl.zeros(3, requires_grad=True)
    for name in ("uniform_", "normal_", "bernoulli_", "exponential_", "random_"):
        with pytest.raises(RuntimeError, match=f"{name}: a leaf tensor that requires grad"):
            getattr(leaf, name)()
    with tl.no_grad():
        leaf.uniform_(-1, 1)
    assert (leaf._data != 0).all() and leaf.grad_fn is None
    # a non-leaf overwritten in place: the old values get a zero gradient, as PyTorch's
    x = tl.ones(3, dtype=tl.float64, requires_grad=True)
    y = x * 2
    y.normal_()
    (y * 3).sum().backward()
    xt = torch.ones(3, dtype=torch.float64, requires_grad=True)
    yt = xt * 2
    yt.normal_()
    (yt * 3).sum().backward()
    np.testing.assert_array_equal(x.grad._data, xt.grad.numpy())
    with pytest.raises(RuntimeError, match="read-only"):
        tl.zeros(3).expand(2, 3).uniform_()


@pytest.mark.parametrize("call,exc,match", [
    (lambda: tl.zeros(3).uniform_(3, 2), ValueError, "from=3.0 > to=2.0"),
    (lambda: tl.zeros(3).uniform_(0, INF), ValueError, "uniform_: to=inf is out of bounds"),
    (lambda: tl.zeros(3).uniform_(NAN, 1), ValueError, "uniform_: from=nan is out of bounds"),
    (lambda: tl.zeros(3).uniform_(0, 1e300), ValueError, "out of bounds for float32"),
    (lambda: tl.zeros(3, dtype=tl.int64).uniform_(), TypeError, "needs a floating-point"),
    (lambda: tl.zeros(3).uniform_(0, 1, 2), TypeError, "takes at most 2 arguments"),
    (lambda: tl.zeros(3).uniform_(0, a=1), TypeError, "unexpected keyword argument 'a'"),
    (lambda: tl.zeros(3).normal_(0, -1), ValueError, "normal_: std must be >= 0, got -1.0"),
    (lambda: tl.zeros(3, dtype=tl.int64).normal_(), TypeError, "needs a floating-point"),
    (lambda: tl.zeros(3).exponential_(0), ValueError, "lambd must be > 0, got 0.0"),
    (lambda: tl.zeros(3, dtype=tl.int64).exponential_(), TypeError, "needs a floating-point"),
    (lambda: tl.zeros(3).bernoulli_(-0.1), ValueError, r"p must be in \[0, 1\], got -0.1"),
    (lambda: tl.zeros(2, 3).bernoulli_(tl.tensor([0.0, 1.0])), ValueError,
     r"p of shape \(2,\) does not broadcast to the tensor's shape \(2, 3\)"),
    (lambda: tl.zeros(2, 3).bernoulli_(tl.tensor([0, 1, 1])), TypeError,
     "p must be a floating-point tensor"),
    (lambda: tl.zeros(3).random_(5, 2), ValueError, "'from' to be less than 'to'.*from=5"),
    (lambda: tl.zeros(3).random_(5, 5), ValueError, "'from' to be less than 'to'"),
    (lambda: tl.zeros(3).random_(2.5), TypeError, "random_: to must be an int"),
    (lambda: tl.zeros(3, dtype=tl.int32).random_(0, 2 ** 40), ValueError, "does not fit dtype"),
])
def test_inplace_initialiser_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_uniform_float32_stays_below_to():
    tl.manual_seed(0)
    # to = from + 1 ulp: every draw rounds to one of the two; `to` itself is excluded
    lo = np.float32(1.0)
    hi = float(np.nextafter(lo, np.float32(2)))
    x = tl.zeros(1000).uniform_(float(lo), hi)
    assert (x._data == lo).all()


def test_linalg_namespace(torch):
    import tensorlite.linalg
    from tensorlite.linalg import vector_norm as vn
    assert tensorlite.linalg is tl.linalg and vn is tl.linalg.vector_norm
    x = rnd(3, 4)
    assert_like_torch(torch, lambda t: tl.linalg.vector_norm(t, 3, dim=-1, keepdim=True),
                      lambda t: torch.linalg.vector_norm(t, 3, dim=-1, keepdim=True), x)
    assert_like_torch(torch, lambda a, b: tl.linalg.matmul(a, b),
                      lambda a, b: torch.linalg.matmul(a, b), x, rnd(4, 2))


# -- probe review: hostile inputs ----------------------------------------------------------
@pytest.mark.parametrize("ord", [-1, -0.5, -INF, INF])
def test_vector_norm_without_identity_over_empty_dim_is_refused_as_torch(torch, ord):
    # (sum |x|^p)^(1/p) of nothing is 1/0 for p < 0: PyTorch refuses, we must not answer inf
    a = np.zeros((0, 4))
    with pytest.raises(RuntimeError):
        torch.linalg.vector_norm(torch.tensor(a), ord, dim=0)
    with pytest.raises(ValueError, match=r"vector_norm.*dimension 0 of size 0"):
        vector_norm(tl.tensor(a), ord, dim=0)
    # reducing a non-empty dim of an empty tensor is fine in both
    ours = vector_norm(tl.tensor(a), ord, dim=1)
    theirs = torch.linalg.vector_norm(torch.tensor(a), ord, dim=1)
    assert ours.shape == tuple(theirs.shape) == (0,)


def test_vector_norm_ord0_has_zero_gradient_as_torch(torch):
    a = np.array([[0.0, 1.5, -2.0], [3.0, 0.0, 0.0]])
    for dim in (None, 1):
        x, xt = tl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        out, out_t = vector_norm(x, 0, dim), torch.linalg.vector_norm(xt, 0, dim)
        np.testing.assert_array_equal(out._data, out_t.detach().numpy())
        out.sum().backward()  # runs, as PyTorch's, and leaves no gradient
        out_t.sum().backward()
        assert x.grad is None and xt.grad is None
        out, out_t = vector_norm(x, 0, dim), torch.linalg.vector_norm(xt, 0, dim)
        (out.sum() + (x * x).sum()).backward()
        (out_t.sum() + (xt * xt).sum()).backward()
        np.testing.assert_array_equal(x.grad._data, xt.grad.numpy())


def test_cosine_similarity_refuses_negative_eps_as_torch(torch):
    a = np.zeros((2, 3))
    with pytest.raises(RuntimeError):
        torch.nn.functional.cosine_similarity(torch.tensor(a), torch.tensor(a), eps=-1.0)
    with pytest.raises(ValueError, match="cosine_similarity: eps must be non-negative"):
        F.cosine_similarity(tl.tensor(a), tl.tensor(a), eps=-1.0)


def test_normal_with_more_entries_than_memory_is_a_clear_error():
    state = tl.random.get_rng_state()
    with pytest.raises(RuntimeError, match=r"normal: the result of shape \(1000000000000,\) "
                                           "would be too large"):
        tl.normal(0.0, 1.0, (10**12,))
    assert repr(tl.random.get_rng_state()) == repr(state)
