"""Run by tests/distributed/test_mpi.py under mpirun: each collective against numpy on
every dtype, synchronous and async_op, contiguous and not; sampler partitions; errors."""
import numpy as np

import tensorlite as tl
import tensorlite.distributed as dist
from tensorlite.data import DistributedSampler

DTYPES = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
          np.uint64, np.float32, np.float64]


def rank_data(r, dtype, shape=(3, 4)):
    """What rank r contributes: small values so sums and products stay exact."""
    rng = np.random.default_rng(1000 + r)
    if np.dtype(dtype).kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    return rng.integers(1, 4, shape).astype(dtype)


def expected_reduce(op, world, dtype):
    parts = np.stack([rank_data(r, dtype) for r in range(world)])
    if np.dtype(dtype).kind == "b":
        return parts.any(0) if op in (dist.ReduceOp.SUM, dist.ReduceOp.MAX) else parts.all(0)
    return {dist.ReduceOp.SUM: lambda: parts.sum(0, dtype=dtype),
            dist.ReduceOp.PRODUCT: lambda: parts.prod(0, dtype=dtype),
            dist.ReduceOp.MAX: lambda: parts.max(0), dist.ReduceOp.MIN: lambda: parts.min(0),
            dist.ReduceOp.AVG: lambda: parts.sum(0) / world}[op]()


def main():
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    ops = [dist.ReduceOp.SUM, dist.ReduceOp.PRODUCT, dist.ReduceOp.MAX, dist.ReduceOp.MIN,
           dist.ReduceOp.AVG]
    checked = 0
    for dtype in DTYPES:
        for op in ops:
            if op is dist.ReduceOp.AVG and np.dtype(dtype).kind != "f":
                continue
            for async_op in (False, True):
                for contiguous in (True, False):
                    mine = rank_data(rank, dtype)
                    if contiguous:
                        t = tl.tensor(mine)
                    else:  # a transposed view: goes through one contiguous copy
                        t = tl.tensor(np.ascontiguousarray(mine.T)).T
                    version = t._version[0]
                    work = dist.all_reduce(t, op=op, async_op=async_op)
                    if async_op:
                        assert work.wait() and work.is_completed()
                    else:
                        assert work is None
                    want = expected_reduce(op, world, dtype)
                    np.testing.assert_array_equal(t.numpy(), want, err_msg=f"{dtype} {op}")
                    assert t.dtype == np.dtype(dtype) and t._version[0] == version + 1
                    checked += 1
        # broadcast from the last rank, all_gather, reduce into rank 0
        for async_op in (False, True):
            t = tl.tensor(rank_data(rank, dtype))
            w = dist.broadcast(t, src=world - 1, async_op=async_op)
            if w is not None:
                w.wait()
            np.testing.assert_array_equal(t.numpy(), rank_data(world - 1, dtype))
            out = [tl.tensor(np.zeros((3, 4), dtype)) for _ in range(world)]
            w = dist.all_gather(out, tl.tensor(rank_data(rank, dtype)), async_op=async_op)
            if w is not None:
                w.wait()
            for r in range(world):
                np.testing.assert_array_equal(out[r].numpy(), rank_data(r, dtype))
            t = tl.tensor(rank_data(rank, dtype))
            w = dist.reduce(t, dst=0, op=dist.ReduceOp.MAX, async_op=async_op)
            if w is not None:
                w.wait()
            want = expected_reduce(dist.ReduceOp.MAX, world, dtype) if rank == 0 \
                else rank_data(rank, dtype)
            np.testing.assert_array_equal(t.numpy(), want)
            checked += 3
    w = dist.barrier(async_op=True)
    w.wait()
    dist.barrier()

    # Ranks that disagree get the same clear error on every rank (no hang, no corruption).
    try:
        dist.all_reduce(tl.zeros(2 + rank))
    except RuntimeError as err:
        msg = str(err)
        assert "rank 0: all_reduce of float32 (2,)" in msg and "rank 1: all_reduce of float32 (3,)" in msg, msg
    else:
        raise AssertionError("shape mismatch not detected")
    try:
        dist.all_reduce(tl.zeros(2, dtype=tl.float64 if rank else tl.float32))
    except RuntimeError as err:
        assert "float64" in str(err) and "float32" in str(err)
    else:
        raise AssertionError("dtype mismatch not detected")
    try:
        if rank == 0:
            dist.broadcast(tl.zeros(2), src=0)
        else:
            dist.all_reduce(tl.zeros(2))
    except RuntimeError as err:
        assert "broadcast" in str(err) and "all_reduce" in str(err)
    else:
        raise AssertionError("different collectives not detected")

    # The sampler: disjoint shares covering the dataset once per epoch, new order per epoch.
    for n in (10, 11, 2):
        sampler = DistributedSampler(range(n), shuffle=True, seed=3)
        epochs = []
        for epoch in range(2):
            sampler.set_epoch(epoch)
            mine = list(sampler)
            assert len(mine) == len(sampler) == -(-n // world)
            everyone = [tl.zeros(len(mine), dtype=tl.int64) for _ in range(world)]
            dist.all_gather(everyone, tl.tensor(mine))
            allidx = np.concatenate([e.numpy() for e in everyone])
            assert sorted(set(allidx.tolist())) == list(range(n))
            assert len(allidx) - n == (-n) % world  # padding only what evens the shares
            epochs.append(allidx)
        assert n < 3 or not np.array_equal(epochs[0], epochs[1])
    print(f"rank {rank}: {checked} collective checks OK", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
