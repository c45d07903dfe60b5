"""The distributed API in this process, without MPI jobs: what works without mpi4py, and
the errors before init_process_group."""
import subprocess
import sys

import numpy as np
import pytest

import nn
import tensorlite as tl
import tensorlite.distributed as dist
from tensorlite.data import DistributedSampler


def test_importing_tensorlite_does_not_import_mpi4py():
    code = ("import sys, tensorlite, nn, tensorlite.distributed, nn.parallel, tensorlite.data; "
            "print('mpi4py' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("call", [
    lambda: dist.all_reduce(tl.zeros(2)), lambda: dist.broadcast(tl.zeros(2), 0),
    lambda: dist.all_gather([tl.zeros(2)], tl.zeros(2)), lambda: dist.reduce(tl.zeros(2), 0),
    lambda: dist.barrier(), lambda: dist.get_rank(), lambda: dist.get_world_size(),
    lambda: dist.destroy_process_group(),
    lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2)),
])
def test_calls_before_init_process_group_are_clear_errors(call):
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="not been initialized.*init_process_group"):
        call()


def test_missing_mpi4py_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now raises ImportError
    with pytest.raises(RuntimeError, match=r'pip install -e "\.\[distributed\]"'):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


def test_other_backends_are_refused_before_mpi_starts():
    with pytest.raises(ValueError, match="backend 'nccl'.*only backend is 'mpi'"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="init_method"):
        dist.init_process_group("mpi", init_method="tcp://10.0.0.1:23456")


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (11, 2, False),
                                                 (2, 3, False), (12, 4, True)])
def test_distributed_sampler_pads_and_drops_as_pytorch(n, replicas, drop_last):
    shares = [list(DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last))
              for r in range(replicas)]
    # PyTorch's rule: round-robin over the indices, padded from the start (or cut).
    order = list(range(n))
    if drop_last:
        total = (n // replicas) * replicas
        order = order[:total]
    else:
        total = -(-n // replicas) * replicas
        order = (order * replicas)[:total]
    assert shares == [order[r::replicas] for r in range(replicas)]
    assert all(len(s) == len(DistributedSampler(range(n), replicas, 0, drop_last=drop_last))
               for s in shares)


def test_distributed_sampler_shuffles_by_epoch_the_same_on_every_rank():
    def shares(epoch):
        out = []
        for r in range(3):
            s = DistributedSampler(range(20), 3, r, seed=7)
            s.set_epoch(epoch)
            out.append(list(s))
        return out

    e0, e1 = shares(0), shares(1)
    assert shares(0) == e0                       # deterministic from seed + epoch
    assert e0 != e1
    for e in (e0, e1):
        flat = sum(e, [])
        assert set(flat) == set(range(20)) and len(flat) == 21  # one index repeated as padding


def test_distributed_sampler_bad_arguments():
    with pytest.raises(ValueError, match=r"invalid rank 3.*\[0, 2\]"):
        DistributedSampler(range(5), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="not initialized"):
        DistributedSampler(range(5))
    with pytest.raises(TypeError, match="shuffle must be a bool"):
        DistributedSampler(range(5), 2, 0, shuffle="yes")


def test_distributed_sampler_feeds_a_dataloader():
    ds = tl.data.TensorDataset(tl.arange(10))
    loader = tl.data.DataLoader(ds, batch_size=2, sampler=DistributedSampler(ds, 2, 1, shuffle=False))
    got = [b[0].tolist() for b in loader]
    assert got == [[1, 3], [5, 7], [9]]
