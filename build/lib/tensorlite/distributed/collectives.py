"""Collectives on tensors: all_reduce, broadcast, all_gather, reduce, barrier.

Each works in place on the tensors' numpy arrays, which MPI reads and writes directly
when they are C-contiguous (a non-contiguous tensor goes through one contiguous copy).
Before communicating, each public call exchanges a few integers per rank (which
collective, dtype, shape, root) so that ranks that disagree get a clear error on every
rank instead of corrupt data or a hang; DistributedDataParallel's internal all-reduces
skip that exchange (it checks the parameters once, at construction).
"""
from __future__ import annotations

import enum
from typing import Any, Callable, List, Optional

import numpy as np

from .process_group import _check_group, _Group

# Index of each dtype in the metadata exchange (and the dtypes tensors can hold).
_DTYPES = [np.dtype(t) for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                                 np.uint16, np.uint32, np.uint64, np.float32, np.float64)]
_DTYPE_CODE = {dt: k for k, dt in enumerate(_DTYPES)}
_COLLECTIVES = ["all_reduce", "broadcast", "all_gather", "reduce", "barrier",
                "broadcast_object_list"]
_MAX_DIMS = 6  # dims beyond these are compared through the element count only


class ReduceOp(enum.Enum):
    """How ``all_reduce``/``reduce`` combine the ranks' tensors (PyTorch's names)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"

    def __repr__(self) -> str:
        return f"ReduceOp.{self.name}"


_OP_CODE = {op: k for k, op in enumerate(ReduceOp)}


def _mpi_op(MPI: Any, op: ReduceOp, dtype: np.dtype) -> Any:
    if dtype.kind == "b":
        # As PyTorch on bool tensors: SUM/MAX is "any", PRODUCT/MIN is "all".
        return MPI.LOR if op in (ReduceOp.SUM, ReduceOp.MAX, ReduceOp.AVG) else MPI.LAND
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}[op]


class Work:
    """What a collective called with ``async_op=True`` returns: ``wait()`` blocks until it
    has completed on this rank (and the tensor holds the result); ``is_completed()``
    polls (which also lets MPI progress the operation)."""

    __slots__ = ("_request", "_finish", "_done")

    def __init__(self, request: Any, finish: Optional[Callable[[], None]]) -> None:
        self._request = request
        self._finish = finish
        self._done = False

    def _complete(self) -> None:
        self._done = True
        self._request = None
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def wait(self, timeout: Any = None) -> bool:
        if not self._done:
            self._request.Wait()
            self._complete()
        return True

    def is_completed(self) -> bool:
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self._done

    def __repr__(self) -> str:
        return f"<Work {'completed' if self._done else 'pending'}>"


# -- checks ---------------------------------------------------------------------------------
def _tensor_array(op: str, t: Any, what: str = "tensor") -> np.ndarray:
    from ..tensor import Tensor
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor, got {type(t).__name__}")
    a = t._data
    if a.dtype not in _DTYPE_CODE:
        raise TypeError(f"{op}: unsupported dtype {a.dtype}")
    if not a.flags.writeable:
        raise ValueError(f"{op}: {what} of shape {tuple(a.shape)} is read-only memory (an "
                         "expanded view?); pass a tensor the collective can write into")
    return a


def _check_rank(op: str, name: str, value: Any, g: _Group) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int rank, got {type(value).__name__}")
    if not 0 <= value < g.size:
        raise ValueError(f"{op}: {name}={value} is not a rank of this group (0..{g.size - 1})")
    return int(value)


def _check_op(name: str, op: Any, dtype: np.dtype) -> ReduceOp:
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{name}: op must be a ReduceOp (SUM, AVG, PRODUCT, MIN, MAX), got {op!r}")
    if op is ReduceOp.AVG and dtype.kind != "f":
        raise TypeError(f"{name}: ReduceOp.AVG needs a floating-point tensor, got {dtype}")
    return op


def _describe(meta: np.ndarray) -> str:
    coll = _COLLECTIVES[meta[0]] if 0 <= meta[0] < len(_COLLECTIVES) else "?"
    if coll == "barrier":
        return "barrier"
    ndim = int(meta[4])
    shape = tuple(int(d) for d in meta[6:6 + min(ndim, _MAX_DIMS)])
    if ndim > _MAX_DIMS:
        shape = shape + ("...",)
    text = f"{coll} of {_DTYPES[meta[3]]} {shape}"
    if coll in ("all_reduce", "reduce"):
        text += f" op={list(ReduceOp)[meta[1]].name}"
    if coll in ("broadcast", "reduce"):
        text += f" root={meta[2]}"
    return text


def _agree(name: str, g: _Group, a: Optional[np.ndarray], op: Optional[ReduceOp] = None,
           root: int = -1) -> None:
    """Exchange what each rank is about to do; raise the same clear error on every rank when
    they differ (a mismatch would otherwise corrupt data, crash MPI or hang)."""
    if g.size == 1:
        return
    meta = np.full(6 + _MAX_DIMS, -1, np.int64)
    meta[0] = _COLLECTIVES.index(name)
    meta[1] = -1 if op is None else _OP_CODE[op]
    meta[2] = root
    if a is not None:
        meta[3] = _DTYPE_CODE[a.dtype]
        meta[4] = a.ndim
        meta[5] = a.size
        meta[6:6 + min(a.ndim, _MAX_DIMS)] = a.shape[:_MAX_DIMS]
    everyone = np.empty((g.size, meta.size), np.int64)
    g.comm.Allgather(meta, everyone)
    if (everyone == everyone[0]).all():
        return
    lines = "; ".join(f"rank {r}: {_describe(everyone[r])}" for r in range(g.size))
    raise RuntimeError(f"{name}: the ranks called collectives that do not match ({lines}); every "
                       "rank must call the same collectives in the same order, on tensors of "
                       "the same dtype and shape")


def _bump(t: Any) -> None:
    # An in-place change: saved-tensor checks must see it, as for any in-place op.
    t._version[0] += 1


def _run(g: _Group, async_op: bool, blocking: Callable[[], None],
         start: Callable[[], Any], finish: Optional[Callable[[], None]]) -> Optional[Work]:
    if not async_op:
        blocking()
        if finish is not None:
            finish()
        return None
    return Work(start(), finish)


# -- the collectives --------------------------------------------------------------------------
def all_reduce(tensor: Any, op: ReduceOp = ReduceOp.SUM, group: Any = None,
               async_op: bool = False) -> Optional[Work]:
    """Combine ``tensor`` across all ranks with ``op``; every rank's tensor gets the result
    (in place). With ``async_op=True`` returns a :class:`Work`; the tensor holds the result
    after its ``wait()``."""
    g = _check_group("all_reduce", group)
    a = _tensor_array("all_reduce", tensor)
    op = _check_op("all_reduce", op, a.dtype)
    _agree("all_reduce", g, a, op)
    return _all_reduce_array(g, a, op, async_op, lambda: _bump(tensor))


def _all_reduce_array(g: _Group, a: np.ndarray, op: ReduceOp, async_op: bool,
                      after: Optional[Callable[[], None]] = None) -> Optional[Work]:
    """All-reduce the array ``a`` in place, without the metadata exchange (DDP's buckets)."""
    MPI = g.MPI
    buf = a if a.flags.c_contiguous else np.ascontiguousarray(a)
    mop = _mpi_op(MPI, op, a.dtype)

    def finish() -> None:
        if op is ReduceOp.AVG:
            np.divide(buf, g.size, out=buf)
        if buf is not a:
            a[...] = buf
        if after is not None:
            after()

    return _run(g, async_op, lambda: g.comm.Allreduce(MPI.IN_PLACE, buf, mop),
                lambda: g.comm.Iallreduce(MPI.IN_PLACE, buf, mop), finish)


def broadcast(tensor: Any, src: int, group: Any = None, async_op: bool = False) -> Optional[Work]:
    """Copy rank ``src``'s tensor into ``tensor`` on every other rank (in place)."""
    g = _check_group("broadcast", group)
    a = _tensor_array("broadcast", tensor)
    src = _check_rank("broadcast", "src", src, g)
    _agree("broadcast", g, a, root=src)
    return _broadcast_array(g, a, src, async_op, lambda: _bump(tensor))


def _broadcast_array(g: _Group, a: np.ndarray, src: int, async_op: bool,
                     after: Optional[Callable[[], None]] = None) -> Optional[Work]:
    buf = a if a.flags.c_contiguous else np.ascontiguousarray(a)

    def finish() -> None:
        if buf is not a:
            a[...] = buf
        if after is not None and g.rank != src:
            after()

    return _run(g, async_op, lambda: g.comm.Bcast(buf, root=src),
                lambda: g.comm.Ibcast(buf, root=src), finish)


def all_gather(tensor_list: List[Any], tensor: Any, group: Any = None,
               async_op: bool = False) -> Optional[Work]:
    """Every rank's ``tensor`` into ``tensor_list`` (one tensor per rank, in rank order, each
    of ``tensor``'s shape and dtype), on every rank."""
    name = "all_gather"
    g = _check_group(name, group)
    a = _tensor_array(name, tensor)
    if not isinstance(tensor_list, (list, tuple)):
        raise TypeError(f"{name}: tensor_list must be a list of Tensors, got "
                        f"{type(tensor_list).__name__}")
    if len(tensor_list) != g.size:
        raise ValueError(f"{name}: tensor_list has {len(tensor_list)} tensors but the group has "
                         f"{g.size} ranks (one tensor per rank)")
    outs = [_tensor_array(name, t, f"tensor_list[{k}]") for k, t in enumerate(tensor_list)]
    for k, o in enumerate(outs):
        if o.shape != a.shape or o.dtype != a.dtype:
            raise ValueError(f"{name}: tensor_list[{k}] is {o.dtype} {tuple(o.shape)} but tensor "
                             f"is {a.dtype} {tuple(a.shape)}; they must match")
    _agree(name, g, a)
    send = a if a.flags.c_contiguous else np.ascontiguousarray(a)
    recv = np.empty((g.size,) + a.shape, a.dtype)

    def finish() -> None:
        for t, o, part in zip(tensor_list, outs, recv):
            o[...] = part
            _bump(t)

    return _run(g, async_op, lambda: g.comm.Allgather(send, recv),
                lambda: g.comm.Iallgather(send, recv), finish)


def reduce(tensor: Any, dst: int, op: ReduceOp = ReduceOp.SUM, group: Any = None,
           async_op: bool = False) -> Optional[Work]:
    """Combine ``tensor`` across ranks with ``op`` into rank ``dst``'s tensor (in place); the
    other ranks' tensors are left unchanged."""
    name = "reduce"
    g = _check_group(name, group)
    a = _tensor_array(name, tensor)
    dst = _check_rank(name, "dst", dst, g)
    op = _check_op(name, op, a.dtype)
    _agree(name, g, a, op, dst)
    MPI = g.MPI
    buf = a if a.flags.c_contiguous else np.ascontiguousarray(a)
    mop = _mpi_op(MPI, op, a.dtype)
    root = g.rank == dst
    sendbuf = MPI.IN_PLACE if root else buf
    recvbuf = buf if root else None

    def finish() -> None:
        if not root:
            return
        if op is ReduceOp.AVG:
            np.divide(buf, g.size, out=buf)
        if buf is not a:
            a[...] = buf
        _bump(tensor)

    return _run(g, async_op, lambda: g.comm.Reduce(sendbuf, recvbuf, mop, root=dst),
                lambda: g.comm.Ireduce(sendbuf, recvbuf, mop, root=dst), finish)


def barrier(group: Any = None, async_op: bool = False) -> Optional[Work]:
    """Wait until every rank has reached this call."""
    g = _check_group("barrier", group)
    _agree("barrier", g, None)
    return _run(g, async_op, g.comm.Barrier, g.comm.Ibarrier, None)


def broadcast_object_list(object_list: list, src: int = 0, group: Any = None) -> None:
    """Replace the entries of ``object_list`` on every rank by rank ``src``'s (picklable
    Python objects: a metrics dict, a decision). The list must have the same length on
    every rank. Pickle is safe here: the bytes come from the job's own ranks."""
    name = "broadcast_object_list"
    g = _check_group(name, group)
    if not isinstance(object_list, list):
        raise TypeError(f"{name}: object_list must be a list, got {type(object_list).__name__}")
    src = _check_rank(name, "src", src, g)
    _agree(name, g, np.zeros(len(object_list), np.int64), root=src)
    values = g.comm.bcast(object_list if g.rank == src else None, root=src)
    object_list[:] = values
