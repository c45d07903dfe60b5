"""Process groups and collectives over MPI (``import tensorlite.distributed as dist``).

PyTorch's ``torch.distributed`` API on one backend, MPI through mpi4py::

    # mpirun -n 2 python -m mpi4py train.py
    import tensorlite.distributed as dist
    dist.init_process_group("mpi")          # rank and world size come from mpirun
    dist.all_reduce(t, op=dist.ReduceOp.SUM)  # in place, on every rank

mpi4py is optional: ``import tensorlite`` never imports it; ``init_process_group`` does,
and says how to install it when it is missing (``pip install -e ".[distributed]"``).
Every collective is synchronous unless called with ``async_op=True``, which returns a
:class:`Work` whose ``wait()`` completes it. See docs/distributed.md.
"""
from .collectives import (ReduceOp, Work, all_gather, all_reduce, barrier, broadcast,
                          broadcast_object_list, reduce)
from .process_group import (destroy_process_group, get_backend, get_rank, get_world_size,
                            init_process_group, is_available, is_initialized, is_mpi_available,
                            launched_by_mpi)

__all__ = [
    "init_process_group", "destroy_process_group", "is_initialized", "is_available",
    "is_mpi_available", "get_rank", "get_world_size", "get_backend", "ReduceOp", "Work",
    "all_reduce", "broadcast", "all_gather", "reduce", "barrier", "broadcast_object_list",
    "launched_by_mpi",
]
