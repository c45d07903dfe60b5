"""Run by tests/distributed/test_mpi.py: rank 1 raises in the middle of training while
rank 0 waits in an all-reduce; the job must end, non-zero, with the error shown."""
import sys

import numpy as np

import nn
import tensorlite as tl
import tensorlite.distributed as dist
from nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
model = DDP(nn.Linear(3, 2))
for step in range(3):
    if step == 2 and dist.get_rank() == 1:
        raise ValueError("bad batch on rank 1")
    model(tl.randn(4, 3)).sum().backward()
print("unreachable", flush=True)
