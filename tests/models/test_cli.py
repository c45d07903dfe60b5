"""The training CLI, `python -m models`: list / train / eval / sample, end to end.

Every test writes its own tiny data into a temporary directory (a few dozen labelled
sentences, a ~1 KB text file, small IDX files) and trains tiny models for one or two
epochs, so the whole file runs in seconds. The CLI is called in-process through
``models.__main__.main``, except for one subprocess that checks ``python -m models list``;
test_cli_newcomer.py runs the commands of issue 14 as subprocesses.
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
from models.__main__ import CLIError, evaluate_checkpoint, main

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
        ready = "ready" if registry.default_data_present(spec) else "not installed here"
        assert data.strip() == f"data ({ready}): {spec.data}"
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
    assert (f"test: loss {test['loss']:.4f}, accuracy {test['accuracy']:.4f}, error "
            f"{100 * (1 - test['accuracy']):.2f}%") in stdout


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


def test_an_alias_trains_the_model_into_runs_NAME_1_by_default(sst, tmp_path, monkeypatch,
                                                               capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "boe", "--data", sst, "--epochs", "1"] + BOE_FLAGS) == 0
    run = tmp_path / "runs" / "bag-of-embeddings" / "1"
    assert (run / "last.npz").is_file() and (run / "test.json").is_file()
    assert tl.load(str(run / "last.npz"))["config"]["name"] == "bag-of-embeddings"
    assert "writing to runs/bag-of-embeddings/1/" in capsys.readouterr().out


# ---------------------------------------------------------------- eval

def test_eval_reproduces_test_json_and_the_best_epochs_val_figures(boe_run, capsys):
    best = os.path.join(boe_run, "best.npz")
    test = read_json(os.path.join(boe_run, "test.json"))
    assert evaluate_checkpoint(best, "test") == test               # exactly
    capsys.readouterr()
    assert main(["eval", best]) == 0
    out = capsys.readouterr().out.strip()
    m = re.fullmatch(r"test: loss (\d+\.\d{4}), accuracy (\d+\.\d{4}), error (\d+\.\d\d)% "
                     r"\(\d+\.\ds\)", out)
    assert m, out
    assert m.group(1) == f"{test['loss']:.4f}" and m.group(2) == f"{test['accuracy']:.4f}"
    # The error rate, as the papers (and the README's table) report a classifier.
    assert m.group(3) == f"{100 * (1 - test['accuracy']):.2f}"
    # --split val gives the validation figures metrics.json recorded for the best epoch.
    row = read_metrics(boe_run)[tl.load(best)["epoch"] - 1]
    val = evaluate_checkpoint(best, "val")
    assert val["loss"] == pytest.approx(row["val_loss"], rel=1e-6)
    assert val["accuracy"] == row["val_accuracy"]
    assert main(["eval", best, "--split", "val"]) == 0
    assert capsys.readouterr().out.startswith(f"val: loss {row['val_loss']:.4f}, accuracy "
                                              f"{row['val_accuracy']:.4f}, error ")


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
    except CLIError as e:            # refusing a mismatching vocabulary is fine too
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

def one_error_line(capsys):
    """stderr of a command that failed: exactly one line, starting with "error: "."""
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err.strip()


def test_unknown_model_name_returns_2_naming_it_and_the_models(capsys):
    assert main(["train", "no-such-model"]) == 2
    err = one_error_line(capsys)
    assert "unknown model 'no-such-model'; `python -m models list` shows the models" in err
    assert "lenet" in err and "char-lstm" in err


def test_missing_subcommand_or_model_name_is_a_usage_error(capsys):
    # Nothing at all: the help, to show what there is; a missing argument: one line.
    assert main([]) == 2
    assert capsys.readouterr().err.startswith("usage: python -m models")
    with pytest.raises(SystemExit) as e:
        main(["train"])
    assert e.value.code == 2
    assert capsys.readouterr().err == ("error: the following arguments are required: name "
                                       "(see `python -m models train --help`)\n")


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


def test_eval_and_sample_of_a_missing_checkpoint_return_2_naming_the_path(tmp_path, capsys):
    # The README's promise for every command: one `error:` line and exit code 2.
    missing = str(tmp_path / "nope" / "best.npz")
    for command in ("eval", "sample"):
        assert main([command, missing]) == 2
        assert one_error_line(capsys) == f"error: no checkpoint at {missing}"


def test_resume_from_a_missing_checkpoint_returns_2_naming_the_path(sst, tmp_path, capsys):
    missing = str(tmp_path / "nope.npz")
    assert train_boe(sst, tmp_path / "run", "--epochs", "1", "--resume", missing) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and missing in err


def test_sample_refuses_a_classifier_checkpoint(boe_run, capsys):
    assert main(["sample", os.path.join(boe_run, "best.npz"), "--prompt", "good"]) == 2
    assert one_error_line(capsys) == "error: sample: bag-of-embeddings is not a language model"


def test_sample_refuses_prompt_characters_outside_the_vocabulary(char_run, capsys):
    # A character-level model has no OOV id: an unknown character is an error, not
    # silently some other character.
    out, text = char_run
    assert "Z" not in text and "~" not in text
    assert main(["sample", os.path.join(out, "best.npz"), "--prompt", "aZb~"]) == 2
    assert re.match(r"error: sample: the prompt has characters \['Z', '~'\]",
                    one_error_line(capsys))


def test_eval_of_a_file_that_is_not_a_checkpoint_is_a_clear_error(boe_run, capsys):
    assert main(["eval", os.path.join(boe_run, "metrics.json")]) == 2
    assert "metrics.json is not a tensorlite checkpoint" in one_error_line(capsys)


def test_eval_of_a_checkpoint_whose_weights_were_damaged_is_a_clear_error(boe_run, tmp_path,
                                                                          capsys):
    ckpt = tl.load(os.path.join(boe_run, "best.npz"))
    ckpt["model"].pop("embedding.weight")
    damaged = str(tmp_path / "damaged.npz")
    tl.save(ckpt, damaged)
    assert main(["eval", damaged]) == 2
    err = one_error_line(capsys)
    assert f"error: {damaged}: its weights do not fit the bag-of-embeddings model" in err
    assert "embedding.weight" in err


# ---------------------------------------------------------------- flag validation

@pytest.mark.parametrize("argv, flag", [
    (["train", "lenet", "--epochs", "-1"], "--epochs"),
    (["train", "lenet", "--epochs", "0"], "--epochs"),
    (["train", "lenet", "--lr", "-1"], "--lr"),
    (["train", "lenet", "--lr", "nan"], "--lr"),
    (["train", "lenet", "--batch-size", "0"], "--batch-size"),
    (["train", "lenet", "--batch-size", "-3"], "--batch-size"),
    (["train", "char-lstm", "--bptt", "0"], "--bptt"),
    (["train", "bag", "--epochs", "-1"], "--epochs"),
    (["train", "lenet", "--limit", "0"], "--limit"),
    (["train", "lenet", "--limit", "-5"], "--limit"),
    (["train", "lenet", "--schedule", "foo"], "--schedule"),
    (["train", "bag", "--min-freq", "0"], "--min-freq"),
    (["train", "bag", "--dropout", "1"], "--dropout"),
    (["train", "lenet", "--optimizer", "adagrad"], "--optimizer"),
    (["sample", "x.npz", "--length", "-1"], "--length"),
    (["sample", "x.npz", "--temperature", "0"], "--temperature"),
])
def test_bad_flag_values_are_usage_errors_naming_the_flag(tmp_path, capsys, argv, flag):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as e:
        main(argv + (["--out", str(out)] if argv[0] == "train" else []))
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"error: argument {flag}: " in err
    # One line naming the flag and where the usage is, not argparse's usage block.
    assert err.startswith(f"error: argument {flag}: ") and err.count("\n") == 1
    assert err.rstrip().endswith(f"(see `python -m models {argv[0]} --help`)")
    assert not out.exists()


def test_flag_values_at_their_bounds_are_accepted(capsys):
    from models.__main__ import build_parser
    args = build_parser().parse_args(["train", "bag", "--epochs", "1", "--lr", "1e-9",
                                      "--hidden", "0", "--dropout", "0", "--limit", "1",
                                      "--schedule", "none", "--min-freq", "1"])
    assert (args.epochs, args.lr, args.hidden, args.dropout, args.limit) == (1, 1e-9, 0, 0.0, 1)
    assert args.schedule == "none" and args.min_freq == 1


def test_make_scheduler_rejects_unknown_names_and_builds_the_known_ones():
    from types import SimpleNamespace
    import nn
    import tensorlite.optim as optim
    opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="unknown schedule 'foo'; expected one of cosine, "
                                         "zaremba, step, plateau, none"):
        registry.make_scheduler(SimpleNamespace(schedule="foo", epochs=3), opt)
    assert registry.make_scheduler(SimpleNamespace(schedule="none", epochs=3), opt) is None
    assert registry.make_scheduler(SimpleNamespace(schedule="cosine", epochs=3), opt).T_max == 3
    with pytest.raises(ValueError, match="unknown optimizer 'adagrad'"):
        registry.make_optimizer(SimpleNamespace(optimizer="adagrad", lr=0.1), [])


# ---------------------------------------------------------------- resume: wrong checkpoints

def test_resume_from_another_models_checkpoint_fails_before_loading_data(
        char_run, tmp_path, capsys):
    ckpt = os.path.join(char_run[0], "last.npz")
    out = tmp_path / "run"
    # --data names nothing: the checkpoint is refused before any data is read.
    code = main(["train", "bag", "--data", str(tmp_path / "absent"), "--out", str(out),
                 "--epochs", "3", "--resume", ckpt])
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: --resume: {ckpt} is a checkpoint of char-lstm, not bag-of-embeddings; resume "
        f"it with `python -m models train char-lstm --resume {ckpt}`\n")
    assert not out.exists()


def test_resume_on_data_with_a_same_size_but_reordered_vocabulary_is_refused(
        sst, boe_run, tmp_path, capsys):
    # More 'awful' makes it the most frequent word: the same words, other ids.
    other = tmp_path / "other"
    other.mkdir()
    for name in ("stsa.binary.train", "stsa.binary.dev", "stsa.binary.test"):
        (other / name).write_text(open(os.path.join(sst, name)).read())
    with open(other / "stsa.binary.train", "a") as f:
        f.write("0 " + " ".join(["awful"] * 40) + "\n")
    last = os.path.join(boe_run, "last.npz")
    n = len(tl.load(last)["task"]["vocab"])
    out = tmp_path / "run"
    assert train_boe(str(other), out, "--epochs", "3", "--resume", last) == 2
    assert capsys.readouterr().err == (
        f"error: --resume: the data at {other} gives a different vocabulary from the one "
        f"{last} was trained with ({n} entries; the checkpoint's has {n})\n")
    assert not out.exists()


def test_resume_from_a_damaged_file_is_one_error_line(boe_run, tmp_path, capsys):
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(open(os.path.join(boe_run, "last.npz"), "rb").read()[:300])
    assert train_boe(str(tmp_path / "absent"), tmp_path / "run", "--epochs", "3",
                     "--resume", str(damaged)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --resume: {damaged} is not a tensorlite checkpoint (")
    assert err.count("\n") == 1


def test_resume_with_a_different_model_shape_names_the_flags(boe_run, sst, tmp_path, capsys):
    last = os.path.join(boe_run, "last.npz")
    assert main(["train", "bag", "--data", sst, "--out", str(tmp_path / "run"), "--resume",
                 last, "--epochs", "3", "--embed", "16", "--optimizer", "sgd"]) == 2
    assert capsys.readouterr().err == (
        f"error: --resume: {last} was trained with other settings that a resumed run cannot "
        "change: --optimizer sgd (it has adam), --embed 16 (it has 8); leave these flags out "
        "(the checkpoint's are used) or start a new run\n")


def test_resume_from_a_missing_file_fails_before_loading_data(tmp_path, capsys):
    missing = str(tmp_path / "nope.npz")
    assert train_boe(str(tmp_path / "absent"), tmp_path / "run", "--resume", missing) == 2
    assert capsys.readouterr().err == f"error: --resume: no checkpoint at {missing}\n"


# ---------------------------------------------------------------- resume: epochs, lr, best

def test_a_resumed_run_keeps_its_checkpoints_flags_and_directory(sst, tmp_path, capsys):
    # Only --epochs is given again: --embed 8 and --batch-size 8 come from the checkpoint
    # (the model's defaults, embed 100, would not fit its weights), and without --out
    # the run goes on in the checkpoint's directory.
    out = tmp_path / "run"
    assert train_boe(sst, out, "--epochs", "1") == 0
    assert main(["train", "bag", "--resume", str(out / "last.npz"), "--epochs", "2"]) == 0
    cfg = tl.load(str(out / "last.npz"))["config"]
    assert (cfg["embed"], cfg["batch_size"], cfg["epochs"], cfg["data"]) == (8, 8, 2, sst)
    assert [r["epoch"] for r in read_metrics(out)] == [1, 2]
    assert f"writing to {out}/" in capsys.readouterr().out


def test_resuming_with_more_epochs_stretches_the_cosine_schedule(sst, tmp_path, capsys):
    short, straight = tmp_path / "short", tmp_path / "straight"
    assert train_boe(sst, short, "--epochs", "2", "--schedule", "cosine") == 0
    assert [r["lr"] for r in read_metrics(short)] == pytest.approx([1e-3, 5e-4])
    capsys.readouterr()
    assert train_boe(sst, short, "--epochs", "3", "--resume", str(short / "last.npz")) == 0
    stdout = capsys.readouterr().out
    assert "the CosineAnnealingLR schedule now fits --epochs 3: T_max 3 (was 2)" in stdout
    assert "epoch 3 trains at lr 0.00025" in stdout
    # Epoch 3 trains at the lr a 3-epoch run has in its epoch 3 (1e-3 * (1 + cos 2pi/3) / 2),
    # not at the old schedule's 0.
    assert train_boe(sst, straight, "--epochs", "3", "--schedule", "cosine") == 0
    lrs = [r["lr"] for r in read_metrics(short)]
    assert lrs == pytest.approx([1e-3, 5e-4, 2.5e-4])
    assert lrs[2] == pytest.approx(read_metrics(straight)[2]["lr"])


def test_an_explicit_lr_on_resume_sets_the_schedules_base_rate(sst, tmp_path, capsys):
    constant, cosine = tmp_path / "constant", tmp_path / "cosine"
    assert train_boe(sst, constant, "--epochs", "1") == 0            # schedule "none"
    assert train_boe(sst, constant, "--epochs", "2", "--lr", "0.01",
                     "--resume", str(constant / "last.npz")) == 0
    assert [r["lr"] for r in read_metrics(constant)] == pytest.approx([1e-3, 0.01])
    assert "--lr 0.01 replaces the checkpoint's base learning rate 0.001" in \
        capsys.readouterr().out
    assert train_boe(sst, cosine, "--epochs", "2", "--schedule", "cosine") == 0
    assert train_boe(sst, cosine, "--epochs", "3", "--lr", "0.002",
                     "--resume", str(cosine / "last.npz")) == 0
    # The cosine's epoch-3 factor (1 + cos 2pi/3) / 2 = 0.25 of the new base 0.002.
    assert read_metrics(cosine)[2]["lr"] == pytest.approx(5e-4)
    # Given again with the checkpoint's value (0.01 since the resume), --lr changes nothing.
    capsys.readouterr()
    assert train_boe(sst, constant, "--epochs", "3", "--lr", "0.01",
                     "--resume", str(constant / "last.npz")) == 0
    assert "replaces" not in capsys.readouterr().out
    assert read_metrics(constant)[2]["lr"] == pytest.approx(0.01)


def test_resuming_a_finished_run_says_there_is_nothing_to_do(boe_run, tmp_path, capsys):
    out = tmp_path / "run"
    last = os.path.join(boe_run, "last.npz")
    for epochs in ("2", "1"):
        assert train_boe(str(tmp_path / "absent"), out, "--epochs", epochs,
                         "--resume", last) == 0
        assert capsys.readouterr().out == (
            f"nothing to do: {last} has trained 2 epochs and --epochs is {epochs}; pass a "
            "larger --epochs to train further\n")
    assert not out.exists()


def _unbeatable(src, dst, own_row_too):
    """A copy of checkpoint ``src`` whose best val accuracy is 1.0, so that no resumed
    epoch beats it; with ``own_row_too`` its own epoch scored that 1.0."""
    ckpt = tl.load(src)
    ckpt["best"] = 1.0
    if own_row_too:
        ckpt["history"][-1]["val_accuracy"] = 1.0
    tl.save(ckpt, str(dst))
    return str(dst)


def test_resume_into_a_new_directory_carries_the_best_checkpoint(sst, boe_run, tmp_path):
    src = _unbeatable(os.path.join(boe_run, "last.npz"), tmp_path / "best-so-far.npz", True)
    out = tmp_path / "new"
    assert train_boe(sst, out, "--epochs", "3", "--resume", src) == 0
    assert [r["epoch"] for r in read_metrics(out)] == [1, 2, 3]
    best = tl.load(str(out / "best.npz"))
    assert best["epoch"] == 2 and best["best"] == 1.0          # the resumed file itself
    assert read_json(out / "test.json") == evaluate_checkpoint(src, "test")


def test_resume_without_the_best_weights_evaluates_last_npz_and_says_so(
        sst, boe_run, tmp_path, capsys):
    src = _unbeatable(os.path.join(boe_run, "last.npz"), tmp_path / "src.npz", False)
    out = tmp_path / "new"
    capsys.readouterr()
    assert train_boe(sst, out, "--epochs", "3", "--resume", src) == 0
    stdout = capsys.readouterr().out
    assert (f"note: no epoch after the resume beat {src}'s best val accuracy (1), and no "
            f"best.npz with those weights was found next to it; the test figures are of "
            f"{out}/last.npz") in stdout
    assert not (out / "best.npz").exists()
    assert read_json(out / "test.json") == evaluate_checkpoint(str(out / "last.npz"), "test")


# ---------------------------------------------------------------- Ctrl-C

def _interrupt_in_epoch(monkeypatch, stop_at):
    """Make Trainer raise KeyboardInterrupt on the second batch of epoch ``stop_at``."""
    from models.train import Trainer
    real = Trainer._train_epoch

    def train_epoch(self, epoch):
        if epoch == stop_at:
            real_loss = self.task.loss
            calls = []

            def loss(model, batch):
                calls.append(1)
                if len(calls) == 2:
                    raise KeyboardInterrupt
                return real_loss(model, batch)
            monkeypatch.setattr(self.task, "loss", loss)
        return real(self, epoch)
    monkeypatch.setattr(Trainer, "_train_epoch", train_epoch)


def test_ctrl_c_in_epoch_1_saves_stops_and_exits_130(sst, tmp_path, monkeypatch, capsys):
    _interrupt_in_epoch(monkeypatch, 1)
    out = tmp_path / "run"
    assert train_boe(sst, out, "--epochs", "2") == 130
    captured = capsys.readouterr()
    assert f"interrupted during epoch 1: saving the partly trained model to {out}/" \
           "interrupted.npz\n" in captured.out
    assert f"--resume {out}/interrupted.npz keeps these weights and trains epoch 1 again from " \
           "its first batch" in captured.out
    assert "last.npz" not in captured.out
    assert "stopped without the test evaluation" in captured.err
    # The first batch's loss is in steps.csv; no epoch finished, so no plot.
    assert sorted(os.listdir(out)) == ["interrupted.npz", "metrics.json", "steps.csv"]
    ckpt = tl.load(str(out / "interrupted.npz"))
    assert ckpt["epoch"] == 0 and ckpt["interrupted"] is True


def test_ctrl_c_then_resume_equals_an_uninterrupted_cosine_run(sst, tmp_path, monkeypatch,
                                                               capsys):
    straight, out = tmp_path / "straight", tmp_path / "run"
    flags = ["--epochs", "3", "--schedule", "cosine"]
    assert train_boe(sst, straight, *flags) == 0
    with monkeypatch.context() as m:
        _interrupt_in_epoch(m, 3)
        assert train_boe(sst, out, *flags) == 130
    stdout = capsys.readouterr().out
    assert f"{out}/last.npz holds the end of epoch 2; --resume takes either file and trains " \
           "epoch 3 again from its first batch" in stdout
    assert not (out / "test.json").exists()
    assert [r["epoch"] for r in read_metrics(out)] == [1, 2]
    # The epoch count is unchanged, so the schedule is too: the same run as straight.
    assert train_boe(sst, out, *flags, "--resume", str(out / "last.npz")) == 0
    assert "schedule now fits" not in capsys.readouterr().out
    assert without_timing(read_metrics(out)) == without_timing(read_metrics(straight))
    assert read_json(out / "test.json") == read_json(straight / "test.json")


# ---------------------------------------------------------------- data messages

def test_an_unusable_cache_directory_is_one_error_naming_TENSORLITE_DATA(
        tmp_path, monkeypatch, capsys):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("TENSORLITE_DATA", str(tmp_path / "a-file" / "cache"))
    assert main(["train", "lenet", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: the data cache directory {tmp_path}/a-file/cache (set by "
                          "$TENSORLITE_DATA) cannot be created: ")


# ---------------------------------------------------------------- sample: word models

def word_lm_checkpoint(path):
    """A tiny untrained LSTM LM over a lower-cased vocabulary with Penn Treebank's
    conventions (<unk>, N for numbers, <eos>), saved as `train` would save it."""
    from models.language import RNNLM
    vocab = ["<unk>", "the", "company", "said", "N", "<eos>"]
    tl.manual_seed(0)
    model = RNNLM(len(vocab), 4, 4, 1, "lstm", 0.0)
    cfg = dict(name="lstm-lm", hidden=4, layers=1, cell="lstm", dropout=0.0, data=None)
    tl.save({"config": cfg, "task": {"vocab": vocab, "bptt": 5, "char_level": False},
             "model": model.state_dict(), "epoch": 1}, str(path))
    return str(path)


def test_prompt_words_take_the_vocabularys_case_and_number_spelling():
    from models.sampling import prompt_ids
    info = {"vocab": ["<unk>", "the", "company", "N", "<eos>", "Ford"]}
    assert prompt_ids(info, "The COMPANY 7 Ford ford 1,000.5 Foo") == \
        ([1, 2, 3, 5, 0, 3, 0], ["Foo", "ford"])
    # Characters are case-sensitive: a character model has no case to fold.
    with pytest.raises(ValueError, match=r"characters \['A'\]"):
        prompt_ids({"vocab": ["a", "b"], "char_level": True}, "aA")


def test_sample_lower_cases_a_prompt_for_a_lower_cased_vocabulary(tmp_path, capsys):
    ckpt = word_lm_checkpoint(tmp_path / "lm.npz")
    assert main(["sample", ckpt, "--prompt", "The Company said 7", "--length", "3"]) == 0
    captured = capsys.readouterr()
    words = captured.out.split()
    assert words[:4] == ["the", "company", "said", "N"] and len(words) == 7
    assert captured.err == ""
    assert main(["sample", ckpt, "--prompt", "The Foo", "--length", "0"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "the <unk>\n"
    assert captured.err == ("warning: the prompt's words ['Foo'] are not in the model's "
                            "vocabulary and are read as <unk>\n")
