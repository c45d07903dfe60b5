"""Run by tests/distributed/test_mpi.py under mpirun: DDP training equals one process on
the concatenated batch, and every rank ends with bit-identical parameters."""
import sys

import numpy as np

import nn
import nn.functional as F
import tensorlite as tl
import tensorlite.distributed as dist
from nn.parallel import DistributedDataParallel as DDP

B = 4        # samples per rank
STEPS = 5


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, padding=1)
        self.fc = nn.Linear(3 * 4 * 4, 5)

    def forward(self, x):
        return self.fc(F.max_pool2d(self.conv(x).relu(), 2).flatten(1))


class CharLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(7, 4)
        self.lstm = nn.LSTM(4, 6, batch_first=True)
        self.out = nn.Linear(6, 7)

    def forward(self, x):
        h, _ = self.lstm(self.emb(x))
        return self.out(h[:, -1])


def data(kind, n, step):
    rng = np.random.default_rng(100 + step)
    if kind == "conv":
        x = tl.tensor(rng.standard_normal((n, 1, 8, 8)))
    else:
        x = tl.tensor(rng.integers(0, 7, (n, 5)))
    return x, tl.tensor(rng.integers(0, 5, n))


def params(model):
    return np.concatenate([p.numpy().ravel() for p in model.parameters()])


def train(model, opt, kind, rank, world, step, lo=None, hi=None):
    x, y = data(kind, B * world, step)
    if lo is not None:
        x, y = x[lo:hi], y[lo:hi]
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()


def check(kind, bucket_cap_mb):
    rank, world = dist.get_rank(), dist.get_world_size()
    make = ConvNet if kind == "conv" else CharLSTM
    tl.manual_seed(0)
    reference = make().double()
    tl.manual_seed(0 if rank == 0 else 100 + rank)  # others differ: DDP broadcasts rank 0's
    local = make().double()
    model = DDP(local, bucket_cap_mb=bucket_cap_mb)
    np.testing.assert_array_equal(params(local), params(reference))
    opt = tl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ref_opt = tl.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    for step in range(STEPS):
        train(model, opt, kind, rank, world, step, rank * B, (rank + 1) * B)
        train(reference, ref_opt, kind, rank, world, step)
    mine = params(local)
    moved = np.abs(mine - params(make().double())).max()
    assert moved > 1e-3, moved
    np.testing.assert_allclose(mine, params(reference), rtol=0, atol=1e-10)
    everyone = [tl.zeros(mine.size, dtype=tl.float64) for _ in range(world)]
    dist.all_gather(everyone, tl.tensor(mine))
    for r in range(world):
        assert np.array_equal(everyone[r].numpy(), mine), f"rank {r} differs from rank {rank}"
    assert list(model.state_dict())[0].startswith("module.")
    print(f"rank {rank}: {kind} bucket_cap_mb={bucket_cap_mb} OK "
          f"({len(model._buckets)} buckets)", flush=True)


def check_no_sync():
    rank, world = dist.get_rank(), dist.get_world_size()
    tl.manual_seed(0)
    reference = ConvNet().double()
    tl.manual_seed(0)
    model = DDP(ConvNet().double(), bucket_cap_mb=0.0005)
    # Two micro-batches accumulated locally, then averaged once: the gradient of the sum of
    # both micro-batches' mean losses over the global batch.
    for micro in range(2):
        x, y = data("conv", B * world, 10 + micro)
        ctx = model.no_sync() if micro == 0 else None
        if ctx is not None:
            with ctx:
                F.cross_entropy(model(x[rank * B:(rank + 1) * B]), y[rank * B:(rank + 1) * B]).backward()
            # nothing communicated yet: this rank's own gradient only
            own = model.module.fc.bias.grad.numpy().copy()
        else:
            F.cross_entropy(model(x[rank * B:(rank + 1) * B]), y[rank * B:(rank + 1) * B]).backward()
        F.cross_entropy(reference(x), y).backward()
    for p, q in zip(model.module.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=0, atol=1e-12)
    assert world == 1 or not np.allclose(own, model.module.fc.bias.grad.numpy())
    print(f"rank {rank}: no_sync OK", flush=True)


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(3, 4)
        self.head_a = nn.Linear(4, 2)
        self.head_b = nn.Linear(4, 2)

    def forward(self, x, use_b):
        h = self.body(x).tanh()
        return self.head_b(h) if use_b else self.head_a(h)


def check_unused():
    rank, world = dist.get_rank(), dist.get_world_size()
    tl.manual_seed(0)
    model = DDP(TwoHeads().double(), find_unused_parameters=True)
    x = tl.randn(4, 3, dtype=tl.float64)
    # Rank 0 uses head_b, the others head_a: each head's gradient is averaged with zeros.
    model(x, rank == 0).sum().backward()
    tl.manual_seed(0)
    ref = TwoHeads().double()
    ref(x, True).sum().backward()
    np.testing.assert_allclose(model.module.head_b.weight.grad.numpy(),
                               ref.head_b.weight.grad.numpy() / world, rtol=1e-12)
    # Never used on any rank: .grad stays None.
    model.module.zero_grad()
    model(x, False).sum().backward()
    assert model.module.head_b.weight.grad is None
    # Without find_unused_parameters: a clear error naming the parameters.
    strict = DDP(TwoHeads().double())
    try:
        strict(x, False).sum().backward()
    except RuntimeError as err:
        assert "head_b.weight, head_b.bias" in str(err), err
    else:
        raise AssertionError("no error for unused parameters")
    print(f"rank {rank}: unused parameters OK", flush=True)


def check_buffers():
    # BatchNorm's running statistics: rank 0's at construction and before every training
    # forward (broadcast_buffers, PyTorch's default).
    rank = dist.get_rank()
    tl.manual_seed(0)
    bn = nn.BatchNorm1d(3).double()
    with tl.no_grad():
        bn.running_mean.fill_(float(rank))
    model = DDP(nn.Sequential(nn.Linear(2, 3).double(), bn))
    np.testing.assert_array_equal(bn.running_mean.numpy(), [0.0, 0.0, 0.0])
    model.eval()                                   # normalise with the running statistics
    with tl.no_grad():
        bn.running_mean.fill_(10.0 + rank)         # drift apart ...
    x = tl.ones(2, 2, dtype=tl.float64)
    out = model(x)                                 # ... and come back to rank 0's
    np.testing.assert_array_equal(bn.running_mean.numpy(), [10.0, 10.0, 10.0])
    everyone = [tl.zeros(out.shape, dtype=tl.float64) for _ in range(dist.get_world_size())]
    dist.all_gather(everyone, out.detach())
    for e in everyone:
        np.testing.assert_array_equal(e.numpy(), out.detach().numpy())
    print(f"rank {rank}: buffers OK", flush=True)


if __name__ == "__main__":
    dist.init_process_group("mpi")
    what = sys.argv[1:] or ["conv", "lstm", "no_sync", "unused", "buffers"]
    if "conv" in what:
        check("conv", 25)
        check("conv", 0.0005)        # one bucket per parameter or two
    if "lstm" in what:
        check("lstm", 25)
        check("lstm", 0.0005)
    if "no_sync" in what:
        check_no_sync()
    if "unused" in what:
        check_unused()
    if "buffers" in what:
        check_buffers()
    dist.destroy_process_group()
