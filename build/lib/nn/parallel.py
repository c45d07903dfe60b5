"""Data-parallel training: ``nn.parallel.DistributedDataParallel`` (PyTorch's DDP) on MPI.

Every rank holds the whole model and trains on its own slice of each batch; after
``loss.backward()`` every rank's ``.grad`` holds the gradient averaged over all ranks, so
the optimizer steps keep the replicas identical. The average is computed in *buckets*
(groups of gradients of about ``bucket_cap_mb``) launched as non-blocking all-reduces as
soon as each bucket's gradients are complete -- from post-accumulate-grad hooks, while the
backward pass is still computing the gradients of earlier layers -- and waited for at the
end of the backward pass (an end-of-backward callback), before ``backward()`` returns.
"""
from __future__ import annotations

import contextlib
import os
import queue
import threading
from typing import Any, Iterator, List, Optional

import numpy as np

import tensorlite as tl
from tensorlite import autograd as _ag
from tensorlite.distributed import collectives as _coll
from tensorlite.distributed.process_group import _check_group

from .module import Module

__all__ = ["DistributedDataParallel"]

# PyTorch's first bucket is small (1 MB) so that the first all-reduce starts early.
_FIRST_BUCKET_BYTES = 1 << 20


class _Bucket:
    """Gradients of a few parameters (one dtype) reduced by one all-reduce of ``flat``."""

    __slots__ = ("index", "params", "offsets", "flat", "pending", "work", "done")

    def __init__(self, index: int, dtype: np.dtype) -> None:
        self.index = index
        self.params: List[int] = []               # indices into DDP._params
        self.offsets = [0]                        # param j's gradient: flat[offsets[j]:offsets[j+1]]
        self.flat: np.ndarray = np.empty(0, dtype)
        self.pending = 0
        self.work: Any = None
        self.done: Optional[threading.Event] = None


class DistributedDataParallel(Module):
    """Wrap ``module`` for synchronous data-parallel training across the ranks of the
    default process group (``tensorlite.distributed.init_process_group`` first).

    - At construction, rank 0's parameters and buffers are copied to every rank (and the
      ranks are checked to hold the same parameter shapes and dtypes).
    - ``forward`` broadcasts rank 0's buffers (BatchNorm's running statistics) first when
      ``broadcast_buffers`` (PyTorch's default), then runs ``module``.
    - ``backward`` averages the gradients over the ranks, bucketed (``bucket_cap_mb``,
      PyTorch's 25 MB) and overlapped with the rest of the backward pass; when it returns,
      every rank's ``.grad`` holds the average.
    - ``no_sync()``: backward passes inside it accumulate locally, with no communication
      (gradient accumulation); the first backward after it averages the sum.
    - Parameters that get no gradient in a backward (not used for the loss) are an error
      naming them, unless ``find_unused_parameters=True``: then they count as zero on that
      rank, and a parameter no rank used keeps its ``.grad`` as it was.

    ``state_dict()`` keys carry the ``module.`` prefix, as PyTorch's; save
    ``ddp.module.state_dict()`` for a checkpoint that loads into the bare module.
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, init_sync: bool = True,
                 process_group: Any = None, bucket_cap_mb: Optional[float] = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False) -> None:
        name = "DistributedDataParallel"
        # Everything is checked before any communication or state change.
        if not isinstance(module, Module):
            raise TypeError(f"{name}: module must be an nn.Module, got {type(module).__name__}")
        if device_ids not in (None, [], ["cpu"]) or output_device not in (None, "cpu"):
            raise ValueError(f"{name}: device_ids/output_device name devices; tensorlite runs on "
                             "the CPU only, leave them None")
        if dim != 0:
            raise ValueError(f"{name}: dim={dim}: only dim=0 is supported (each rank feeds its "
                             "own batch; nothing is scattered)")
        if gradient_as_bucket_view:
            raise NotImplementedError(f"{name}: gradient_as_bucket_view=True is not supported")
        if bucket_cap_mb is None:
            bucket_cap_mb = 25.0
        if isinstance(bucket_cap_mb, bool) or not isinstance(bucket_cap_mb, (int, float)) \
                or not bucket_cap_mb > 0:
            raise ValueError(f"{name}: bucket_cap_mb must be a positive number, got "
                             f"{bucket_cap_mb!r}")
        self_group = _check_group(name, process_group)
        super().__init__()
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.bucket_cap_mb = float(bucket_cap_mb)
        self.static_graph = bool(static_graph)
        # PyTorch's attribute name; no_sync() sets it False.
        self.require_backward_grad_sync = True
        object.__setattr__(self, "_group", self_group)

        named: List[tuple] = []
        seen = set()
        for pname, p in module.named_parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                named.append((pname, p))
        object.__setattr__(self, "_names", [n for n, _ in named])
        object.__setattr__(self, "_params", [p for _, p in named])
        self._verify_same_model()
        if init_sync:
            self._sync_module_states()
        self._build_buckets()
        # "poll": Test() the in-flight all-reduces from each hook (MPI progresses only inside
        # MPI calls); "thread": a helper thread waits on them (MPI_THREAD_MULTIPLE).
        # benchmarks/distributed.py measures both; see docs/distributed.md.
        progress = os.environ.get("TENSORLITE_DDP_PROGRESS", "poll")
        if progress not in ("poll", "thread"):
            raise ValueError(f"{name}: TENSORLITE_DDP_PROGRESS must be 'poll' or 'thread', got "
                             f"{progress!r}")
        object.__setattr__(self, "_progress", progress)
        object.__setattr__(self, "_thread", None)
        self._reset_iteration()
        handles = []
        for k, p in enumerate(self._params):
            handles.append(p.register_post_accumulate_grad_hook(self._make_hook(k)))
        object.__setattr__(self, "_handles", handles)

    # -- construction -------------------------------------------------------------------
    def _verify_same_model(self) -> None:
        g = self._group
        if g.size == 1:
            return
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in zip(self._names, self._params)]
        everyone = g.comm.allgather(mine)  # once, at construction: pickled lists are fine
        for r, theirs in enumerate(everyone):
            if theirs == mine:
                continue
            for k in range(max(len(mine), len(theirs))):
                a = mine[k] if k < len(mine) else None
                b = theirs[k] if k < len(theirs) else None
                if a != b:
                    raise RuntimeError(
                        f"DistributedDataParallel: rank {g.rank} and rank {r} hold different models: "
                        f"parameter {k} is {a} here and {b} on rank {r} (name, shape, dtype); every "
                        "rank must build the same model")

    def _sync_module_states(self) -> None:
        """Rank 0's parameters and buffers on every rank."""
        g = self._group
        if g.size == 1:
            return
        for p in self._params:
            _coll._broadcast_array(g, p._data, 0, False)
            p._version[0] += 1
        self._broadcast_buffers()

    def _broadcast_buffers(self) -> None:
        g = self._group
        for b in self.module.buffers():
            _coll._broadcast_array(g, b._data, 0, False)
            b._version[0] += 1

    def _build_buckets(self) -> None:
        """Parameters in reverse registration order (roughly the order backward produces
        their gradients), cut into buckets of one dtype: 1 MB first, then bucket_cap_mb."""
        cap = int(self.bucket_cap_mb * (1 << 20))
        buckets: List[_Bucket] = []
        open_by_dtype: dict = {}
        where: list = [None] * len(self._params)
        for k in reversed(range(len(self._params))):
            a = self._params[k]._data
            b = open_by_dtype.get(a.dtype)
            if b is not None:
                limit = min(_FIRST_BUCKET_BYTES, cap) if b is buckets[0] else cap
                if b.offsets[-1] * a.itemsize >= limit:
                    b = None
            if b is None:
                b = _Bucket(len(buckets), a.dtype)
                buckets.append(b)
                open_by_dtype[a.dtype] = b
            where[k] = (b.index, len(b.params))
            b.params.append(k)
            b.offsets.append(b.offsets[-1] + a.size)
        for b in buckets:
            b.flat = np.zeros(b.offsets[-1], b.flat.dtype)
        object.__setattr__(self, "_buckets", buckets)
        object.__setattr__(self, "_where", where)

    # -- one iteration --------------------------------------------------------------------
    def _reset_iteration(self) -> None:
        object.__setattr__(self, "_ready", [False] * len(self._params))
        object.__setattr__(self, "_next_launch", 0)
        object.__setattr__(self, "_active", False)
        object.__setattr__(self, "_unused", None)
        for b in self._buckets:
            b.pending = len(b.params)
            b.work = None
            b.done = None

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        g = self._group
        # As PyTorch: buffers are synchronised for training forwards (grad enabled, outside
        # no_sync), which every rank runs alike; evaluation under no_grad skips it.
        if self.broadcast_buffers and g.size > 1 and tl.is_grad_enabled() \
                and self.require_backward_grad_sync:
            self._broadcast_buffers()
        out = self.module(*inputs, **kwargs)
        if self.find_unused_parameters and tl.is_grad_enabled() and self.require_backward_grad_sync:
            object.__setattr__(self, "_unused", self._find_unused(out))
        return out

    def _find_unused(self, out: Any) -> list:
        """Indices of the parameters that ``out``'s graph does not reach (PyTorch's
        find_unused_parameters walk): they are marked ready as backward starts."""
        roots = []
        stack = [out]
        while stack:
            o = stack.pop()
            if isinstance(o, tl.Tensor):
                if o.grad_fn is not None:
                    roots.append(o.grad_fn)
                elif o.requires_grad:
                    roots.append(o)
            elif isinstance(o, (list, tuple)):
                stack.extend(o)
            elif isinstance(o, dict):
                stack.extend(o.values())
        reached = set()
        visited = set()
        stack = roots
        while stack:
            node = stack.pop()
            if isinstance(node, tl.Tensor):
                reached.add(id(node))
                continue
            if node in visited:
                continue
            visited.add(node)
            for e in node.next_edges:
                if e is None:
                    continue
                if e[1] < 0:
                    reached.add(id(e[0]))
                else:
                    stack.append(e[0])
        return [k for k, p in enumerate(self._params) if id(p) not in reached]

    def _make_hook(self, k: int):
        def ddp_grad_ready(p: Any) -> None:
            self._grad_ready(k)
        return ddp_grad_ready

    def _start_iteration(self) -> None:
        object.__setattr__(self, "_active", True)
        _ag.queue_callback(self._finish_iteration)
        if self._unused:
            for k in self._unused:
                self._mark_ready(k, None)

    def _grad_ready(self, k: int) -> None:
        if not self.require_backward_grad_sync:
            return
        if not self._active:
            self._start_iteration()
        if self._ready[k]:
            # A second gradient for the same parameter in one backward (reentrant use):
            # the bucket may already be on its way, so this cannot be averaged.
            raise RuntimeError(f"DistributedDataParallel: parameter {self._names[k]!r} received "
                               "its gradient twice in one backward pass")
        self._mark_ready(k, self._params[k].grad._data)

    def _mark_ready(self, k: int, grad: Optional[np.ndarray]) -> None:
        self._ready[k] = True
        bi, slot = self._where[k]
        b = self._buckets[bi]
        lo, hi = b.offsets[slot], b.offsets[slot + 1]
        if grad is None:
            b.flat[lo:hi] = 0
        else:
            b.flat[lo:hi] = grad.reshape(-1)
        b.pending -= 1
        if b.pending == 0:
            self._launch_ready()
        elif self._progress == "poll":
            self._poll()

    def _launch_ready(self) -> None:
        # Buckets start strictly in index order: non-blocking collectives must be started
        # in the same order on every rank, whatever order the hooks fired in.
        buckets = self._buckets
        n = self._next_launch
        while n < len(buckets) and buckets[n].pending == 0:
            self._launch(buckets[n])
            n += 1
        object.__setattr__(self, "_next_launch", n)
        if self._progress == "poll":
            self._poll()

    def _launch(self, b: _Bucket) -> None:
        g = self._group
        if g.size == 1:
            return
        b.work = _coll._all_reduce_array(g, b.flat, _coll.ReduceOp.SUM, True)
        if self._progress == "thread":
            b.done = threading.Event()
            self._progress_queue().put(b)

    def _progress_queue(self) -> "queue.SimpleQueue":
        t = self._thread
        if t is None:
            q: queue.SimpleQueue = queue.SimpleQueue()

            def run() -> None:
                while True:
                    b = q.get()
                    if b is None:
                        return
                    b.work._request.Wait()  # the GIL is released inside MPI's wait
                    b.done.set()

            t = threading.Thread(target=run, name="tensorlite-ddp-progress", daemon=True)
            t.start()
            t.q = q
            object.__setattr__(self, "_thread", t)
        return t.q

    def _poll(self) -> None:
        # One Test on the oldest unfinished all-reduce is enough to let MPI move all of them.
        for b in self._buckets[:self._next_launch]:
            if b.work is not None and not b.work._done:
                b.work.is_completed()
                return

    def _finish_iteration(self) -> None:
        """End of backward: every bucket launched, waited for, averaged into ``.grad``."""
        try:
            missing = [k for k, r in enumerate(self._ready) if not r]
            if missing:
                if not self.find_unused_parameters:
                    names = ", ".join(self._names[k] for k in missing)
                    raise RuntimeError(
                        f"DistributedDataParallel: these parameters got no gradient in this "
                        f"backward pass: {names}. Every rank must average every gradient; pass "
                        "find_unused_parameters=True if parts of the model are legitimately "
                        "unused in some iterations (or make sure all forward outputs take "
                        "part in the loss)")
                for k in missing:
                    self._mark_ready(k, None)
            self._launch_ready()
            g = self._group
            globally_unused = self._globally_unused()
            inv = 1.0 / g.size
            for b in self._buckets:
                if b.work is not None:
                    if b.done is not None:
                        b.done.wait()
                        b.work._complete()
                    else:
                        b.work.wait()
                if g.size > 1:
                    np.multiply(b.flat, inv, out=b.flat)
                for slot, k in enumerate(b.params):
                    if k in globally_unused:
                        continue
                    self._write_grad(k, b.flat[b.offsets[slot]:b.offsets[slot + 1]])
        finally:
            self._reset_iteration()

    def _globally_unused(self) -> set:
        if not self.find_unused_parameters or self._unused is None:
            return set()
        # A parameter no rank used keeps its .grad untouched (as PyTorch): which ones is
        # one small all-reduce of a used-flag per parameter.
        used = np.ones(len(self._params), np.uint8)
        used[self._unused] = 0
        g = self._group
        if g.size > 1:
            _coll._all_reduce_array(g, used, _coll.ReduceOp.MAX, False)
        return {k for k in range(len(used)) if not used[k]}

    def _write_grad(self, k: int, values: np.ndarray) -> None:
        p = self._params[k]
        shape = p._data.shape
        grad = p.grad
        if grad is None:
            p.grad = tl.Tensor(values.reshape(shape).copy())
            return
        a = grad._data
        if type(grad._version) is _ag._OwnedVersion and a.flags.writeable:
            a[...] = values.reshape(shape)
            grad._version[0] += 1
        else:
            # Not an array the engine allocated for .grad (it may be shared): a fresh one.
            grad._data = values.reshape(shape).copy()
            grad._version = _ag._OwnedVersion([grad._version[0] + 1])

    # -- the rest of PyTorch's DDP surface ------------------------------------------------
    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes inside accumulate gradients locally without communicating; the
        first backward after the block averages the accumulated sum."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def extra_repr(self) -> str:
        return (f"world_size={self._group.size}, buckets={len(self._buckets)}, "
                f"bucket_cap_mb={self.bucket_cap_mb:g}")
