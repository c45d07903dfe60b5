"""Real MPI jobs of 2 and 3 ranks (mpirun), each under a timeout so that a hang fails.

Skipped, saying why, when mpi4py or mpirun is missing (pip install -e ".[distributed]").
"""
import importlib.util
import os
import subprocess
import sys

import pytest

from tensorlite.distributed import launch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None,
                       reason='mpi4py is not installed (pip install -e ".[distributed]")'),
    pytest.mark.skipif(launch.find_mpirun() is None,
                       reason='mpirun not found (pip install -e ".[distributed]" brings Open MPI)'),
]


def mpi_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    # One thread per rank: the ranks share this machine's cores.
    env["NUMBA_NUM_THREADS"] = "1"
    env["OMP_NUM_THREADS"] = "1"
    env["OPENBLAS_NUM_THREADS"] = "1"
    return env


def run_job(nproc, args, timeout):
    try:
        return launch.run(nproc, args, timeout=timeout, env=mpi_env(), capture=True)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"the {nproc}-rank job hung (killed after {timeout} s); output:\n{err.output}")


@pytest.mark.parametrize("nproc", [2, 3])
def test_collectives_match_numpy_on_every_dtype(nproc):
    res = run_job(nproc, [os.path.join(HERE, "worker_collectives.py")], timeout=240)
    assert res.returncode == 0, res.stdout
    for r in range(nproc):
        assert f"rank {r}: 250 collective checks OK" in res.stdout, res.stdout


@pytest.mark.parametrize("nproc", [2, 3])
def test_ddp_training_equals_one_process_on_the_concatenated_batch(nproc):
    # float64, 5 SGD-momentum steps of a conv net and of an LSTM, one bucket and several:
    # every rank's parameters bit-identical, and within 1e-10 of one process on the
    # concatenated batch; no_sync accumulation; find_unused_parameters and its error;
    # BatchNorm buffers broadcast from rank 0.
    res = run_job(nproc, [os.path.join(HERE, "worker_ddp.py")], timeout=300)
    assert res.returncode == 0, res.stdout
    for r in range(nproc):
        for what in ("conv bucket_cap_mb=25 OK", "conv bucket_cap_mb=0.0005 OK (2 buckets)",
                     "lstm bucket_cap_mb=25 OK", "lstm bucket_cap_mb=0.0005 OK (4 buckets)",
                     "no_sync OK", "unused parameters OK", "buffers OK"):
            assert f"rank {r}: {what}" in res.stdout, res.stdout


def test_a_rank_that_raises_ends_the_job_with_its_error():
    # Rank 1 raises while rank 0 waits for it in DDP's all-reduce: without the abort the
    # job would hang until the timeout.
    res = run_job(2, [os.path.join(HERE, "worker_fail.py")], timeout=60)
    assert res.returncode != 0
    assert "ValueError: bad batch on rank 1" in res.stdout
    assert "unreachable" not in res.stdout
