"""Dataset, TensorDataset, Subset, random_split, default_collate and DataLoader."""
from collections import namedtuple

import numpy as np
import pytest

import tensorlite as tl
from tensorlite.data import (ConcatDataset, DataLoader, Dataset, Subset, TensorDataset,
                             default_collate, random_split)


class Squares(Dataset):
    """A per-sample dataset (no fast path): sample i is a dict."""

    def __init__(self, n=5):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full(2, i, np.float32), "y": i * i}


def batches_as_lists(loader):
    return [tuple(t.tolist() for t in batch) for batch in loader]


# ---------------------------------------------------------------- TensorDataset

def test_tensor_dataset_items_are_rows_as_tensors():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = np.array([0, 1, 0, 1])
    ds = TensorDataset(x, tl.from_numpy(y))
    assert len(ds) == 4
    xi, yi = ds[2]
    assert isinstance(xi, tl.Tensor) and isinstance(yi, tl.Tensor)
    assert xi.tolist() == [6.0, 7.0, 8.0] and yi.item() == 0 and yi.shape == ()
    assert ds[-1][0].tolist() == [9.0, 10.0, 11.0]


def test_tensor_dataset_rows_share_memory_with_the_data():
    x = np.zeros((3, 2), np.float32)
    row = TensorDataset(x)[1][0]
    x[1, 0] = 5.0
    assert row.tolist() == [5.0, 0.0]


def test_tensor_dataset_checks_first_dimensions_and_indices():
    with pytest.raises(ValueError, match=r"same first dimension"):
        TensorDataset(tl.zeros(3), tl.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="scalar"):
        TensorDataset(np.float32(1.0))
    with pytest.raises(IndexError, match="out of range for 3 samples"):
        TensorDataset(tl.zeros(3))[3]


def test_tensor_dataset_slices_and_index_lists_select_rows_of_every_tensor():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = np.array([10, 11, 12, 13])
    ds = TensorDataset(x, y)
    xs, ys = ds[0:2]
    assert xs.tolist() == [[0, 1, 2], [3, 4, 5]] and ys.tolist() == [10, 11]
    assert [t.tolist() for t in ds[::-2]] == [[[9, 10, 11], [3, 4, 5]], [13, 11]]
    assert [t.tolist() for t in ds[[3, 0, -1]]] == [[[9, 10, 11], [0, 1, 2], [9, 10, 11]],
                                                    [13, 10, 13]]
    assert ds[tl.tensor([1])][1].tolist() == [11]
    assert ds[np.array([True, False, False, True])][1].tolist() == [10, 13]
    assert ds[tl.tensor(2)][1].item() == 12                 # a 0-d Tensor is one row
    assert ds[5:][0].shape == (0, 3)
    x[0, 0] = 7.0                                           # a slice is a view, as in torch
    assert xs.tolist()[0][0] == 7.0


def test_tensor_dataset_rejects_bad_index_lists():
    ds = TensorDataset(np.arange(4))
    with pytest.raises(IndexError, match="index 4 is out of range for 4 samples"):
        ds[[0, 4]]
    with pytest.raises(IndexError, match="boolean mask needs 4 entries, got 2"):
        ds[[True, False]]
    with pytest.raises(TypeError, match="1-D ints or bools"):
        ds[[[0]]]
    with pytest.raises(TypeError, match="index must be an int, got float"):
        ds[1.0]


# ---------------------------------------------------------------- Subset, random_split, concat

def test_subset_and_concat_index_through():
    ds = TensorDataset(np.arange(10))
    sub = Subset(ds, [7, 2, -1])
    assert [sub[i][0].item() for i in range(3)] == [7, 2, 9]
    both = sub + ds
    assert isinstance(both, ConcatDataset)
    assert len(both) == 13 and both[3][0].item() == 0 and both[12][0].item() == 9
    with pytest.raises(IndexError):
        Subset(ds, [10])


def test_random_split_is_a_reproducible_partition():
    ds = TensorDataset(np.arange(10))
    tl.manual_seed(4)
    a, b = random_split(ds, [7, 3])
    got = sorted(int(a[i][0].item()) for i in range(7)) + [b[i][0].item() for i in range(3)]
    assert sorted(got) == list(range(10)) and len(a) == 7 and len(b) == 3
    tl.manual_seed(4)
    a2, _ = random_split(ds, [7, 3])
    assert a2.indices.tolist() == a.indices.tolist()


def test_random_split_fractions_and_bad_lengths():
    parts = random_split(TensorDataset(np.arange(10)), [0.5, 0.25, 0.25])
    assert [len(p) for p in parts] == [6, 2, 2]          # leftover goes round-robin (torch)
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(TensorDataset(np.arange(10)), [4, 5])


# ---------------------------------------------------------------- default_collate

@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def test_collate_numbers_give_int64_float64_and_bool():
    # PyTorch's default_collate: a Python float is a double, not the default dtype.
    assert default_collate([1, 2]).dtype == tl.int64
    floats = default_collate([1.5, 0.1])
    assert floats.dtype == tl.float64 and floats.tolist() == [1.5, 0.1]
    flags = default_collate([True, False])
    assert flags.dtype == tl.bool and flags.tolist() == [True, False]


@pytest.mark.parametrize("samples", [
    [1, 2, 3], [1.5, 0.1], [True, False], [np.float32(1.5), np.float32(2.0)],
    [np.int32(3), np.int32(4)], [np.arange(3.0), np.ones(3)],
    [(1, 0.5, "a"), (2, 1.5, "b")], [[1, 2.5], [3, 4.5]],
    [{"x": 0.25, "y": 1}, {"x": 0.75, "y": 2}],
    [(np.zeros(2, np.float32), {"k": 1.0}), (np.ones(2, np.float32), {"k": 2.0})],
])
def test_collate_matches_pytorch_in_structure_dtypes_and_values(torch, samples):
    from torch.utils.data import default_collate as torch_collate

    def plain(out):
        """Containers kept (list/tuple/dict), leaves as (dtype name, values)."""
        if isinstance(out, dict):
            return {k: plain(v) for k, v in out.items()}
        if isinstance(out, (list, tuple)) and out and isinstance(out[0], str):
            return list(out)                        # a batch of strings: a sequence of them
        if isinstance(out, (list, tuple)):
            return type(out).__name__, [plain(v) for v in out]
        return str(out.dtype).split(".")[-1], out.tolist()

    assert plain(default_collate(samples)) == plain(torch_collate(samples))


def test_collate_arrays_and_tensors_keep_their_dtype_and_stack():
    out = default_collate([np.zeros((2, 3), np.float64), np.ones((2, 3), np.float64)])
    assert isinstance(out, tl.Tensor) and out.shape == (2, 2, 3) and out.dtype == tl.float64
    t = default_collate([tl.tensor([1, 2]), tl.tensor([3, 4])])
    assert t.tolist() == [[1, 2], [3, 4]]
    assert default_collate([np.int32(3), np.int32(4)]).dtype == np.int32


def test_collate_recurses_into_tuples_dicts_and_namedtuples():
    Pair = namedtuple("Pair", "a b")
    out = default_collate([(np.zeros(2), {"k": 1, "s": "x"}), (np.ones(2), {"k": 2, "s": "y"})])
    assert isinstance(out, list) and out[0].shape == (2, 2)       # a list, as PyTorch's
    assert out[1]["k"].tolist() == [1, 2] and out[1]["s"] == ["x", "y"]
    nt = default_collate([Pair(1, 2.0), Pair(3, 4.0)])
    assert isinstance(nt, Pair) and nt.a.tolist() == [1, 3]
    assert isinstance(default_collate([[1, 2], [3, 4]]), list)


def test_collate_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"shape \(3,\) but sample 0 has \(2,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(ValueError, match="non-empty"):
        default_collate([])
    with pytest.raises(TypeError, match="NoneType"):
        default_collate([None, None])
    with pytest.raises(ValueError, match="keys"):
        default_collate([{"a": 1}, {"b": 1}])


# ---------------------------------------------------------------- DataLoader

def test_loader_batches_in_order_with_a_short_last_batch():
    ds = TensorDataset(np.arange(10), np.arange(10) * 2)
    loader = DataLoader(ds, batch_size=4)
    assert len(loader) == 3
    assert batches_as_lists(loader) == [([0, 1, 2, 3], [0, 2, 4, 6]), ([4, 5, 6, 7],
                                        [8, 10, 12, 14]), ([8, 9], [16, 18])]


def test_loader_drop_last():
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(b[0]) for b in loader] == [4, 4]


def test_shuffle_is_a_new_permutation_each_epoch_and_reproducible():
    loader = DataLoader(TensorDataset(np.arange(20)), batch_size=5, shuffle=True)
    tl.manual_seed(1)
    epoch1 = [x for b in loader for x in b[0].tolist()]
    epoch2 = [x for b in loader for x in b[0].tolist()]
    assert sorted(epoch1) == list(range(20)) and epoch1 != epoch2
    tl.manual_seed(1)
    assert [x for b in loader for x in b[0].tolist()] == epoch1


def test_fast_path_matches_the_per_sample_path():
    rng = np.random.default_rng(0)
    x, y = rng.random((11, 3)).astype(np.float32), rng.integers(0, 5, 11)
    ds = TensorDataset(x, y)
    collate = lambda samples: default_collate(samples)      # noqa: E731  (not the default)
    for shuffle in (False, True):
        tl.manual_seed(2)
        fast = batches_as_lists(DataLoader(ds, 4, shuffle=shuffle))
        tl.manual_seed(2)
        slow = batches_as_lists(DataLoader(ds, 4, shuffle=shuffle, collate_fn=collate))
        assert fast == slow
    batch = next(iter(DataLoader(ds, 4)))
    assert batch[0].dtype == tl.float32 and batch[1].dtype == tl.int64
    # The same container as the per-sample path and as PyTorch: a list of the fields.
    assert isinstance(batch, list)
    assert isinstance(next(iter(DataLoader(ds, 4, shuffle=True))), list)


def test_fast_path_through_a_subset_and_batches_own_their_memory():
    x = np.arange(10, dtype=np.float32)
    sub = Subset(TensorDataset(x), [9, 8, 1])
    assert batches_as_lists(DataLoader(sub, batch_size=2)) == [([9.0, 8.0],), ([1.0],)]
    (xb,) = next(iter(DataLoader(TensorDataset(x), batch_size=3)))
    xb.data[0] = 100.0
    assert x[0] == 0.0


def test_loader_with_a_custom_dataset_and_collate_fn():
    batches = list(DataLoader(Squares(), batch_size=2))
    assert batches[0]["x"].shape == (2, 2) and batches[0]["y"].dtype == tl.int64
    assert [b["y"].tolist() for b in batches] == [[0, 1], [4, 9], [16]]
    sizes = [len(b) for b in DataLoader(Squares(), batch_size=2, collate_fn=lambda b: b)]
    assert sizes == [2, 2, 1]


def test_loader_accepts_num_workers_and_pin_memory_and_loads_in_process():
    ds = TensorDataset(np.arange(10))
    plain = [b[0].tolist() for b in DataLoader(ds, batch_size=4)]
    assert plain == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    for kwargs in (dict(num_workers=0, pin_memory=False), dict(num_workers=2, pin_memory=True)):
        loader = DataLoader(ds, batch_size=4, **kwargs)
        assert [b[0].tolist() for b in loader] == plain
        assert loader.num_workers == kwargs["num_workers"]
    with pytest.raises(ValueError, match="num_workers must be an int >= 0, got -1"):
        DataLoader(ds, num_workers=-1)


def test_loader_rejects_bad_arguments():
    with pytest.raises(ValueError, match="positive int"):
        DataLoader(Squares(), batch_size=0)
    with pytest.raises(TypeError, match="__getitem__"):
        DataLoader(42)
    with pytest.raises(NotImplementedError, match="must define"):
        len(Dataset())


# -- samplers and PyTorch's DataLoader arguments ----------------------------------------------
def _loader_torch():
    return pytest.importorskip("torch")


def test_dataloader_takes_pytorchs_positional_order():
    import inspect
    torch = _loader_torch()
    ours = list(inspect.signature(DataLoader).parameters)
    theirs = list(inspect.signature(torch.utils.data.DataLoader).parameters)
    assert ours == theirs[:len(ours)]
    assert ours[:9] == ["dataset", "batch_size", "shuffle", "sampler", "batch_sampler",
                        "num_workers", "collate_fn", "pin_memory", "drop_last"]


def test_samplers_match_pytorch_where_the_order_is_determined():
    from tensorlite.data import BatchSampler, SequentialSampler, SubsetRandomSampler
    torch = _loader_torch()
    ds = TensorDataset(tl.arange(10), tl.arange(10) * 2)
    tds = torch.utils.data.TensorDataset(torch.arange(10), torch.arange(10) * 2)
    assert list(SequentialSampler(ds)) == list(torch.utils.data.SequentialSampler(tds))
    bs = BatchSampler(SequentialSampler(ds), 4, drop_last=False)
    tbs = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(tds), 4, False)
    assert list(bs) == list(tbs) and len(bs) == len(tbs) == 3
    assert len(BatchSampler(SequentialSampler(ds), 4, drop_last=True)) == 2
    # the loader with a batch_sampler yields what PyTorch's does
    ours = [[t.tolist() for t in b] for b in DataLoader(ds, batch_sampler=bs)]
    theirs = [[t.tolist() for t in b] for b in torch.utils.data.DataLoader(tds, batch_sampler=tbs)]
    assert ours == theirs
    # a subset sampler visits exactly its indices, in an order fixed by the seed
    tl.manual_seed(3)
    first = [b[0].tolist() for b in DataLoader(ds, batch_size=2, sampler=SubsetRandomSampler(
        [1, 4, 7, 8]))]
    tl.manual_seed(3)
    again = [b[0].tolist() for b in DataLoader(ds, batch_size=2, sampler=SubsetRandomSampler(
        [1, 4, 7, 8]))]
    assert first == again and sorted(sum(first, [])) == [1, 4, 7, 8]


def test_random_sampler_with_and_without_replacement():
    from tensorlite.data import RandomSampler
    ds = TensorDataset(tl.arange(5))
    tl.manual_seed(0)
    order = list(RandomSampler(ds))
    assert sorted(order) == [0, 1, 2, 3, 4]
    more = list(RandomSampler(ds, num_samples=12))
    assert len(more) == 12 and sorted(more[:5]) == [0, 1, 2, 3, 4]
    drawn = list(RandomSampler(ds, replacement=True, num_samples=50))
    assert len(drawn) == 50 and set(drawn) <= set(range(5))
    g = np.random.default_rng(1)
    assert list(RandomSampler(ds, generator=g)) == list(np.random.default_rng(1).permutation(5))


def test_unbatched_loading_and_argument_conflicts():
    ds = TensorDataset(tl.arange(3.0), tl.tensor([0, 1, 0]))
    items = list(DataLoader(ds, batch_size=None))
    assert len(items) == 3 and items[1][0].item() == 1.0 and items[1][1].item() == 1
    assert len(DataLoader(ds, batch_size=None)) == 3
    from tensorlite.data import SequentialSampler
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, shuffle=True, sampler=SequentialSampler(ds))
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="batch_size=None"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(TypeError, match="generator must be None"):
        DataLoader(ds, shuffle=True, generator=123)


def test_a_generator_of_its_own_makes_loading_reproducible_without_reseeding():
    ds = TensorDataset(tl.arange(20))
    g = tl.Generator().manual_seed(7)
    first = [b[0].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True, generator=g)]
    tl.randn(3)                                      # the library stream moves; g's does not
    g.manual_seed(7)
    again = [b[0].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True, generator=g)]
    assert first == again and sorted(sum(first, [])) == list(range(20))
    parts = random_split(ds, [15, 5], generator=tl.Generator().manual_seed(1))
    parts2 = random_split(ds, [15, 5], generator=tl.Generator().manual_seed(1))
    assert list(parts[1].indices) == list(parts2[1].indices)
    assert tl.Generator().initial_seed() == 67280421310721
    state = g.get_state()
    a = tl.multinomial(tl.ones(10), 3, generator=g).tolist()
    g.set_state(state)
    assert tl.multinomial(tl.ones(10), 3, generator=g).tolist() == a
    with pytest.raises(RuntimeError, match="CPU only"):
        tl.Generator(device="cuda")
