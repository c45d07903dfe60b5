"""The training CLI, `python -m models`: list / train / eval / sample, end to end.

Every test writes its own tiny data into a temporary directory (a few dozen labelled
sentences, a ~1 KB text file, small IDX files) and trains tiny models for one or two
epochs, so the whole file runs in seconds. The CLI is called in-process through
``models.__main__.main``, except for one subprocess that checks ``python -m models list``.
"""
import gzip
import json
import math
import os
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

import tensorlite as tl
from models import registry
from models.__main__ import evaluate_checkpoint, main

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMING = ("seconds", "samples_per_s")          # metrics that depend on the machine's speed

# Flags that make the bag-of-embeddings classifier tiny; the data is the only other input.
BOE_FLAGS = ["--embed", "8", "--batch-size", "8", "--no-progress"]
CHAR_FLAGS = ["--hidden", "16", "--layers", "1", "--bptt", "8", "--batch-size", "4",
              "--no-progress"]


# ---------------------------------------------------------------- tiny data, written here

POSITIVE = "good great fine lovely superb fun".split()
NEGATIVE = "bad awful dull boring poor sad".split()
FILLER = "the movie was a film and plot".split()


def write_sentences(root, sizes=(("stsa.binary.train", 40), ("stsa.binary.dev", 10),
                                 ("stsa.binary.test", 10)), seed=0):
    """SST-2-style `label sentence` files: label 1 sentences draw their sentiment words
    from POSITIVE, label 0 from NEGATIVE, mixed with neutral filler words."""
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    for name, n in sizes:
        lines = []
        for i in range(n):
            label = i % 2
            words = POSITIVE if label else NEGATIVE
            sent = [rng.choice(FILLER) if rng.random() < 0.5 else rng.choice(words)
                    for _ in range(6)]
            lines.append(f"{label} {' '.join(sent)}")
        with open(os.path.join(root, name), "w") as f:
            f.write("\n".join(lines) + "\n")
    return str(root)


def write_corpus(path, seed=1):
    """About 1 KB of text over the characters 'abcd', space and newline."""
    rng = np.random.default_rng(seed)
    words = "abc ab ba cab bad dab cd".split()
    lines = [" ".join(rng.choice(words) for _ in range(10)) for _ in range(30)]
    text = "\n".join(lines) + "\n"
    with open(path, "w") as f:
        f.write(text)
    return text


def idx_bytes(arr):
    """An array of uint8 in the IDX format: 00 00 08 <ndim>, big-endian uint32 dims, data."""
    assert arr.dtype == np.uint8
    return bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) \
        + arr.tobytes()


def write_mnist(root, n_train, n_test, gzip_train=False):
    """The four MNIST IDX files (train-images-idx3-ubyte, ..., t10k-labels-idx1-ubyte).
    Digit d is drawn as a bright 4x4 block at row 2 * d, so that the images differ."""
    os.makedirs(root, exist_ok=True)
    for prefix, n, zipped in (("train", n_train, gzip_train), ("t10k", n_test, False)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = np.zeros((n, 28, 28), np.uint8)
        for d in range(10):
            images[labels == d, 2 * d:2 * d + 4, 10:14] = 255
        for kind, arr in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            data = idx_bytes(arr)
            name = f"{prefix}-{kind}"
            if zipped:
                data, name = gzip.compress(data, compresslevel=1), name + ".gz"
            with open(os.path.join(root, name), "wb") as f:
                f.write(data)
    return str(root)


def read_metrics(out):
    with open(os.path.join(out, "metrics.json")) as f:
        return json.load(f)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def without_timing(rows):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


def train_boe(data, out, *extra):
    return main(["train", "bag-of-embeddings", "--data", data, "--out", str(out)]
                + BOE_FLAGS + list(extra))


# ---------------------------------------------------------------- shared runs (module scope)

@pytest.fixture(scope="module")
def sst(tmp_path_factory):
    return write_sentences(tmp_path_factory.mktemp("sst"))


@pytest.fixture(scope="module")
def boe_run(sst, tmp_path_factory):
    """bag-of-embeddings trained for 2 epochs with seed 0; returns its output directory."""
    out = tmp_path_factory.mktemp("boe") / "run"
    assert train_boe(sst, out, "--epochs", "2", "--seed", "0") == 0
    return str(out)


@pytest.fixture(scope="module")
def char_run(tmp_path_factory):
    """char-lstm trained for 1 epoch on a ~1 KB corpus: (output directory, corpus text)."""
    root = tmp_path_factory.mktemp("char")
    text = write_corpus(root / "corpus.txt")
    out = root / "run"
    assert main(["train", "char-lstm", "--data", str(root / "corpus.txt"), "--out", str(out),
                 "--epochs", "1"] + CHAR_FLAGS) == 0
    return str(out), text


# ---------------------------------------------------------------- list

def test_list_in_a_subprocess_names_every_registered_model_with_its_data(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "models", "list"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # Three lines per model: its name and summary, then (indented) its data and defaults.
    assert len(lines) == 3 * len(registry.SPECS)
    for i, spec in enumerate(registry.SPECS.values()):
        head, data, defaults = lines[3 * i:3 * i + 3]
        assert head.split()[0] == spec.name and head.endswith(spec.summary)
        assert data.strip() == f"data: {spec.data}"
        assert defaults.strip().startswith("defaults: ")
        for k, v in spec.defaults.items():
            assert f"{k}={v}" in defaults


# ---------------------------------------------------------------- train: text classifier

def test_training_writes_checkpoints_metrics_and_test_results(boe_run):
    for name in ("last.npz", "best.npz", "metrics.json", "metrics.csv", "test.json"):
        assert os.path.isfile(os.path.join(boe_run, name)), name
    rows = read_metrics(boe_run)
    assert [r["epoch"] for r in rows] == [1, 2]
    for r in rows:
        assert r["train_loss"] > 0 and math.isfinite(r["train_loss"])
        assert r["val_loss"] > 0 and 0.0 <= r["val_accuracy"] <= 1.0
        assert r["lr"] == pytest.approx(1e-3)              # the model's default --lr
    # The CSV holds the same rows as the JSON.
    with open(os.path.join(boe_run, "metrics.csv")) as f:
        header, *body = f.read().splitlines()
    assert header.split(",")[:5] == ["epoch", "train_loss", "lr", "val_loss", "val_accuracy"]
    assert len(body) == 2
    assert float(body[1].split(",")[1]) == pytest.approx(rows[1]["train_loss"], rel=1e-12)
    test = read_json(os.path.join(boe_run, "test.json"))
    assert set(test) == {"loss", "accuracy"}
    assert 0.0 <= test["accuracy"] <= 1.0 and test["loss"] > 0
    # 10 test sentences: the accuracy is a whole number of tenths.
    assert test["accuracy"] * 10 == pytest.approx(round(test["accuracy"] * 10))


def test_checkpoints_record_the_epoch_the_flags_and_the_task(boe_run):
    last = tl.load(os.path.join(boe_run, "last.npz"))
    best = tl.load(os.path.join(boe_run, "best.npz"))
    assert last["epoch"] == 2 and best["epoch"] in (1, 2)
    cfg = last["config"]
    assert cfg["name"] == "bag-of-embeddings" and cfg["epochs"] == 2
    assert cfg["embed"] == 8 and cfg["batch_size"] == 8            # given flags
    assert cfg["min_freq"] == 2 and cfg["dropout"] == 0.5          # model defaults
    assert last["task"]["num_classes"] == 2 and last["task"]["classes"] == ["0", "1"]
    assert last["task"]["vocab"][:2] == ["<pad>", "<unk>"]
    # best.npz's model is the one of the epoch with the best validation accuracy.
    rows = read_metrics(boe_run)
    assert best["best"] == max(r["val_accuracy"] for r in rows)
    assert rows[best["epoch"] - 1]["val_accuracy"] == max(r["val_accuracy"] for r in rows)


def test_each_epoch_prints_one_summary_line_matching_metrics_json(sst, tmp_path, capsys):
    out = tmp_path / "run"
    assert train_boe(sst, out, "--epochs", "2") == 0
    stdout = capsys.readouterr().out
    line = re.compile(r"^epoch +(\d+) \| train loss (\d+\.\d{4}) \| val loss (\d+\.\d{4}) \| "
                      r"val acc (\d+\.\d{2})% \| lr ([0-9.e+-]+) \| \d+\.\ds \| "
                      r"[\d,]+ samples/s$")
    summaries = [m for m in map(line.match, stdout.splitlines()) if m]
    assert len(summaries) == 2
    assert sum(ln.startswith("epoch") for ln in stdout.splitlines()) == 2
    for m, row in zip(summaries, read_metrics(out)):
        assert int(m.group(1)) == row["epoch"]
        assert m.group(2) == f"{row['train_loss']:.4f}"
        assert m.group(3) == f"{row['val_loss']:.4f}"
        assert m.group(4) == f"{100 * row['val_accuracy']:.2f}"
        assert float(m.group(5)) == pytest.approx(row["lr"])
    first = stdout.splitlines()[0]
    assert re.match(r"^bag-of-embeddings: [\d,]+ parameters; data ready in \d+\.\ds; "
                    r"writing to .+/$", first)
    test = read_json(out / "test.json")
    assert f"test: loss {test['loss']:.4f}, accuracy {test['accuracy']:.4f}" in stdout


def test_same_seed_gives_identical_metrics_and_weights(sst, boe_run, tmp_path):
    out = tmp_path / "again"
    assert train_boe(sst, out, "--epochs", "2", "--seed", "0") == 0
    assert without_timing(read_metrics(out)) == without_timing(read_metrics(boe_run))
    assert read_json(out / "test.json") == read_json(os.path.join(boe_run, "test.json"))
    a = tl.load(os.path.join(boe_run, "last.npz"))["model"]
    b = tl.load(str(out / "last.npz"))["model"]
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]), err_msg=k)


def test_a_different_seed_gives_different_train_losses(sst, boe_run, tmp_path):
    out = tmp_path / "seed1"
    assert train_boe(sst, out, "--epochs", "2", "--seed", "1") == 0
    losses0 = [r["train_loss"] for r in read_metrics(boe_run)]
    losses1 = [r["train_loss"] for r in read_metrics(out)]
    assert all(a != b for a, b in zip(losses0, losses1))


def test_an_alias_trains_the_model_into_runs_NAME_by_default(sst, tmp_path, monkeypatch,
                                                             capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "boe", "--data", sst, "--epochs", "1"] + BOE_FLAGS) == 0
    run = tmp_path / "runs" / "bag-of-embeddings"
    assert (run / "last.npz").is_file() and (run / "test.json").is_file()
    assert tl.load(str(run / "last.npz"))["config"]["name"] == "bag-of-embeddings"
    assert "writing to runs/bag-of-embeddings/" in capsys.readouterr().out


# ---------------------------------------------------------------- eval

def test_eval_reproduces_test_json_and_the_best_epochs_val_figures(boe_run, capsys):
    best = os.path.join(boe_run, "best.npz")
    test = read_json(os.path.join(boe_run, "test.json"))
    assert evaluate_checkpoint(best, "test") == test               # exactly
    capsys.readouterr()
    assert main(["eval", best]) == 0
    out = capsys.readouterr().out.strip()
    m = re.fullmatch(r"test: loss (\d+\.\d{4}), accuracy (\d+\.\d{4}) \(\d+\.\ds\)", out)
    assert m, out
    assert m.group(1) == f"{test['loss']:.4f}" and m.group(2) == f"{test['accuracy']:.4f}"
    # --split val gives the validation figures metrics.json recorded for the best epoch.
    row = read_metrics(boe_run)[tl.load(best)["epoch"] - 1]
    val = evaluate_checkpoint(best, "val")
    assert val["loss"] == pytest.approx(row["val_loss"], rel=1e-6)
    assert val["accuracy"] == row["val_accuracy"]
    assert main(["eval", best, "--split", "val"]) == 0
    assert capsys.readouterr().out.startswith(f"val: loss {row['val_loss']:.4f}, accuracy "
                                              f"{row['val_accuracy']:.4f} (")


def test_eval_with_other_data_uses_the_checkpoints_vocabulary(sst, boe_run, tmp_path):
    # Same dev and test files, but a training file in which 'great' and 'awful' are the
    # most frequent words: a vocabulary rebuilt from it numbers the words differently.
    other = tmp_path / "other"
    other.mkdir()
    for name in ("stsa.binary.dev", "stsa.binary.test"):
        (other / name).write_text(open(os.path.join(sst, name)).read())
    train = open(os.path.join(sst, "stsa.binary.train")).read()
    (other / "stsa.binary.train").write_text(
        "1 " + " ".join(["great"] * 30) + "\n0 " + " ".join(["awful"] * 30) + "\n" + train)
    best = os.path.join(boe_run, "best.npz")
    expected = read_json(os.path.join(boe_run, "test.json"))
    try:
        result = evaluate_checkpoint(best, "test", str(other))
    except SystemExit as e:          # refusing a mismatching vocabulary is fine too
        assert "vocab" in str(e)
    else:
        assert result == expected


# ---------------------------------------------------------------- resume

def test_resume_continues_the_epoch_count_and_matches_an_uninterrupted_run(
        sst, boe_run, tmp_path, capsys):
    out = tmp_path / "resumed"
    assert train_boe(sst, out, "--epochs", "1") == 0
    assert [r["epoch"] for r in read_metrics(out)] == [1]
    capsys.readouterr()
    last = str(out / "last.npz")
    assert train_boe(sst, out, "--epochs", "2", "--resume", last) == 0
    stdout = capsys.readouterr().out
    assert f"resumed from {last} at epoch 2" in stdout
    epochs = [ln.split("|")[0].split() for ln in stdout.splitlines() if ln.startswith("epoch")]
    assert epochs == [["epoch", "2"]]                     # only the missing epoch is trained
    rows = read_metrics(out)
    assert [r["epoch"] for r in rows] == [1, 2]
    assert tl.load(last)["epoch"] == 2
    # Model, optimizer and RNG state are restored: the figures equal a 2-epoch run's.
    assert without_timing(rows) == without_timing(read_metrics(boe_run))


def test_resume_keeps_best_npz_at_the_best_epoch(sst, boe_run, tmp_path):
    out = tmp_path / "resumed"
    assert train_boe(sst, out, "--epochs", "1") == 0
    first = read_metrics(out)[0]
    # The checkpoint remembers the best validation accuracy including its own epoch.
    assert tl.load(str(out / "last.npz"))["best"] == first["val_accuracy"]
    assert train_boe(sst, out, "--epochs", "2", "--resume", str(out / "last.npz")) == 0
    rows = read_metrics(out)
    accs = [r["val_accuracy"] for r in rows]
    assert tl.load(str(out / "best.npz"))["epoch"] == 1 + accs.index(max(accs))
    assert read_json(out / "test.json") == read_json(os.path.join(boe_run, "test.json"))


# ---------------------------------------------------------------- char-lstm and sample

def test_char_lstm_trains_and_reports_perplexity(char_run):
    out, text = char_run
    rows = read_metrics(out)
    assert [r["epoch"] for r in rows] == [1]
    vocab = tl.load(os.path.join(out, "best.npz"))["task"]["vocab"]
    assert vocab == sorted(set(text))                       # its characters, sorted
    r = rows[0]
    assert r["val_perplexity"] == pytest.approx(math.exp(r["val_loss"]))
    # Better than guessing uniformly among the corpus's characters.
    assert r["val_perplexity"] < len(vocab)
    test = read_json(os.path.join(out, "test.json"))
    assert set(test) == {"loss", "perplexity"}
    assert test["perplexity"] == pytest.approx(math.exp(test["loss"]))
    assert evaluate_checkpoint(os.path.join(out, "best.npz")) == test


def test_char_lstm_summary_line_shows_val_perplexity(tmp_path, capsys):
    write_corpus(tmp_path / "c.txt")
    assert main(["train", "char-lstm", "--data", str(tmp_path / "c.txt"), "--out",
                 str(tmp_path / "run"), "--epochs", "1", "--limit", "300"] + CHAR_FLAGS) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("epoch")]
    assert len(lines) == 1
    row = read_metrics(tmp_path / "run")[0]
    assert f"| val ppl {row['val_perplexity']:.2f} |" in lines[0]
    assert "val acc" not in lines[0]


def test_sample_continues_the_prompt_with_corpus_characters(char_run, capsys):
    out, text = char_run
    ckpt = os.path.join(out, "best.npz")
    capsys.readouterr()
    assert main(["sample", ckpt, "--prompt", "ab", "--length", "40", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert printed.endswith("\n")
    sample = printed[:-1]                                   # print() adds one newline
    assert sample.startswith("ab")
    assert len(sample) == 2 + 40                            # prompt + --length characters
    assert set(sample) <= set(text)
    # The same --seed gives the same text; another seed gives another text.
    assert main(["sample", ckpt, "--prompt", "ab", "--length", "40", "--seed", "3"]) == 0
    assert capsys.readouterr().out == printed
    assert main(["sample", ckpt, "--prompt", "ab", "--length", "40", "--seed", "4"]) == 0
    assert capsys.readouterr().out != printed


# ---------------------------------------------------------------- lenet on IDX files

def test_lenet_trains_on_idx_files_with_limit(tmp_path, monkeypatch):
    # load_mnist holds out the last 10,000 training images for validation, so the
    # directory needs more than that for a training split; --limit keeps 24 of them.
    data = write_mnist(tmp_path / "mnist", n_train=10_000 + 64, n_test=20, gzip_train=True)
    from models.tasks import ImageClassification
    seen = []
    real_loss = ImageClassification.loss

    def counting_loss(self, model, batch):
        seen.append(batch[0].shape)
        return real_loss(self, model, batch)

    monkeypatch.setattr(ImageClassification, "loss", counting_loss)
    out = tmp_path / "run"
    assert main(["train", "lenet", "--data", data, "--out", str(out), "--epochs", "1",
                 "--batch-size", "8", "--limit", "24", "--no-progress"]) == 0
    assert [s[0] for s in seen] == [8, 8, 8]                # 24 images in batches of 8
    assert all(tuple(s[1:]) == (1, 28, 28) for s in seen)
    rows = read_metrics(out)
    assert [r["epoch"] for r in rows] == [1]
    assert rows[0]["train_loss"] > 0 and 0 <= rows[0]["val_accuracy"] <= 1
    assert rows[0]["lr"] == pytest.approx(1e-3)             # the lr epoch 1 trained with
    test = read_json(out / "test.json")
    assert 0.0 <= test["accuracy"] <= 1.0 and test["loss"] > 0
    assert test["accuracy"] * 20 == pytest.approx(round(test["accuracy"] * 20))
    info = tl.load(str(out / "best.npz"))["task"]
    assert info["num_classes"] == 10 and info["image_shape"] == [1, 28, 28]


def test_lenet_on_too_few_idx_images_stops_with_a_clear_error(tmp_path, capsys):
    # 60 images cannot give up the standard 10,000 for validation: a clear error, not an
    # epoch "trained" on an empty split.
    data = write_mnist(tmp_path / "mnist", n_train=60, n_test=20)
    code = main(["train", "lenet", "--data", data, "--out", str(tmp_path / "run"),
                 "--epochs", "1", "--batch-size", "8", "--no-progress"])
    assert code == 2
    assert "only 60 training images" in capsys.readouterr().err
    assert not (tmp_path / "run" / "last.npz").exists()


# ---------------------------------------------------------------- bad input

def test_unknown_model_name_exits_naming_it():
    with pytest.raises(SystemExit, match=r"unknown model 'no-such-model'; `python -m models "
                                         r"list` shows the models"):
        main(["train", "no-such-model"])


def test_missing_subcommand_or_model_name_is_a_usage_error(capsys):
    for argv in ([], ["train"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
    assert "usage: python -m models" in capsys.readouterr().err


@pytest.mark.parametrize("model, data, message", [
    ("bag-of-embeddings", "missing-dir",
     "text classification: {data} is not a directory"),
    ("bag-of-embeddings", "only-train",
     "text classification: {data} needs a file named *train* and one named *test* "
     "(found ['stsa.binary.train'])"),
    ("char-lstm", "missing.txt", "char corpus: no such file {data}"),
    ("lenet", "missing-mnist",
     "MNIST: no train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] in {data}"),
])
def test_missing_data_returns_2_with_a_message_naming_what_is_missing(
        tmp_path, capsys, model, data, message):
    if data == "only-train":
        write_sentences(tmp_path / data, sizes=(("stsa.binary.train", 4),))
    path = str(tmp_path / data)
    out = tmp_path / "run"
    assert main(["train", model, "--data", path, "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert message.format(data=path) in err
    assert not out.exists()                         # nothing written for a failed start


def test_eval_and_sample_of_a_missing_checkpoint_exit_naming_the_path(tmp_path):
    missing = str(tmp_path / "nope" / "best.npz")
    for command in ("eval", "sample"):
        with pytest.raises(SystemExit) as e:
            main([command, missing])
        assert str(e.value) == f"no checkpoint at {missing}"


def test_resume_from_a_missing_checkpoint_returns_2_naming_the_path(sst, tmp_path, capsys):
    missing = str(tmp_path / "nope.npz")
    assert train_boe(sst, tmp_path / "run", "--epochs", "1", "--resume", missing) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and missing in err


def test_sample_refuses_a_classifier_checkpoint(boe_run):
    with pytest.raises(SystemExit, match="sample: bag-of-embeddings is not a language model"):
        main(["sample", os.path.join(boe_run, "best.npz"), "--prompt", "good"])


def test_sample_refuses_prompt_characters_outside_the_vocabulary(char_run):
    # A character-level model has no OOV id: an unknown character is an error, not
    # silently some other character.
    out, text = char_run
    assert "Z" not in text and "~" not in text
    with pytest.raises(SystemExit, match=r"sample: the prompt has characters \['Z', '~'\]"):
        main(["sample", os.path.join(out, "best.npz"), "--prompt", "aZb~"])


def test_eval_of_a_file_that_is_not_a_checkpoint_is_a_clear_error(boe_run):
    with pytest.raises(SystemExit, match="metrics.json is not a tensorlite checkpoint"):
        main(["eval", os.path.join(boe_run, "metrics.json")])
