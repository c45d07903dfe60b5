"""Wall-clock per training epoch and peak memory of `models train resnet` and
`models train lstm-lm`, against the same model written in PyTorch.

    python benchmarks/epoch.py resnet            # time per epoch, both libraries
    python benchmarks/epoch.py lstm-lm --batches 40
    python benchmarks/epoch.py resnet --rss      # peak RSS of the training steps

Both libraries train the registry's model (same architecture, initialisation scheme,
batch size, optimizer, learning rate, weight decay, clipping, carried LSTM state) on
synthetic data of the real data set's shapes and sizes (Fashion-MNIST: 60,000 images
1x28x28, 10 classes; Penn Treebank: 929,589 training tokens, 10,000 words): the speed of a
step does not depend on the pixel or word values. Augmentation and evaluation are left
out of both. Blocks of ``--block`` steps alternate between the libraries in one process;
the time per step is the median over blocks, and the epoch time is that times the
epoch's number of steps (469 for the ResNet at batch 128, 2323 for the LM at 20x20).

``--rss`` runs each library in its own fresh process and reports the peak resident
memory over ``--batches`` steps, minus the resident memory after building the model and
data (the imports differ: PyTorch's alone is ~300 MB).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

TRAIN_IMAGES = 60000
PTB_TRAIN_TOKENS = 929589
VOCAB = 10000


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# ---------------------------------------------------------------------------- ResNet
def resnet_ours(batch: int):
    import nn.functional as F
    import tensorlite as tl
    from models.registry import SPECS
    spec = SPECS["resnet"]
    cfg = spec.defaults
    tl.manual_seed(0)
    model = spec.make_model(argparse.Namespace(**cfg), {"num_classes": 10})
    opt = tl.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"],
                       weight_decay=cfg["weight_decay"])
    rng = np.random.default_rng(0)
    x = tl.tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    y = tl.tensor(rng.integers(0, 10, batch))
    model.train()

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step, -(-TRAIN_IMAGES // batch)


def resnet_torch(batch: int):
    import torch
    from benchmarks.layers import _torch_resnet
    from models.registry import SPECS
    cfg = SPECS["resnet"].defaults
    torch.manual_seed(0)
    model = _torch_resnet(torch, (32, 64, 128), in_ch=1, stem=16, first_stride=2)
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"],
                          weight_decay=cfg["weight_decay"])
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    y = torch.tensor(rng.integers(0, 10, batch))
    model.train()

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return step, -(-TRAIN_IMAGES // batch)


# ---------------------------------------------------------------------------- LSTM LM
def _lm_steps(batch: int, bptt: int) -> int:
    return -(-(PTB_TRAIN_TOKENS // batch - 1) // bptt)


def lm_ours(batch: int):
    import nn
    import nn.functional as F
    import tensorlite as tl
    from models import RNNLM
    from models.language import detach_hidden
    from models.registry import SPECS
    cfg = SPECS["lstm-lm"].defaults
    tl.manual_seed(0)
    model = RNNLM(VOCAB, cfg["hidden"], cfg["hidden"], cfg["layers"], cfg["cell"],
                  cfg["dropout"])
    opt = tl.optim.SGD(model.parameters(), lr=cfg["lr"])
    rng = np.random.default_rng(0)
    bptt = cfg["bptt"]
    x = tl.tensor(rng.integers(0, VOCAB, (bptt, batch)))
    y = tl.tensor(rng.integers(0, VOCAB, (bptt, batch)))
    state = {"h": None}
    model.train()

    def step():
        opt.zero_grad()
        logits, state["h"] = model(x, detach_hidden(state["h"]))
        F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1)).backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
        opt.step()
    return step, _lm_steps(batch, bptt)


def lm_torch(batch: int):
    import torch
    from models.registry import SPECS
    cfg = SPECS["lstm-lm"].defaults
    torch.manual_seed(0)

    class LM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = torch.nn.Embedding(VOCAB, cfg["hidden"])
            self.rnn = torch.nn.LSTM(cfg["hidden"], cfg["hidden"], cfg["layers"])
            self.decoder = torch.nn.Linear(cfg["hidden"], VOCAB)

        def forward(self, ids, hidden=None):
            out, hidden = self.rnn(self.encoder(ids), hidden)
            return self.decoder(out), hidden

    model = LM()
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"])
    rng = np.random.default_rng(0)
    bptt = cfg["bptt"]
    x = torch.tensor(rng.integers(0, VOCAB, (bptt, batch)))
    y = torch.tensor(rng.integers(0, VOCAB, (bptt, batch)))
    state = {"h": None}
    model.train()

    def step():
        opt.zero_grad()
        h = None if state["h"] is None else tuple(t.detach() for t in state["h"])
        logits, state["h"] = model(x, h)
        torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1)).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
        opt.step()
    return step, _lm_steps(batch, bptt)


MODELS = {"resnet": (resnet_ours, resnet_torch, 128), "lstm-lm": (lm_ours, lm_torch, 20)}


def time_epochs(name: str, batches: int, block: int) -> dict:
    import torch
    torch.set_num_threads(2)
    ours_fn, torch_fn, batch = MODELS[name]
    ours, steps = ours_fn(batch)
    theirs, _ = torch_fn(batch)
    ours()
    theirs()
    a, b = [], []
    for _ in range(max(1, batches // block)):
        t = time.perf_counter()
        for _ in range(block):
            ours()
        a.append((time.perf_counter() - t) / block)
        time.sleep(0.25)
        t = time.perf_counter()
        for _ in range(block):
            theirs()
        b.append((time.perf_counter() - t) / block)
        time.sleep(0.25)
    sa, sb = statistics.median(a), statistics.median(b)
    return {"model": name, "batch": batch, "steps_per_epoch": steps,
            "ours_s_per_epoch": sa * steps, "torch_s_per_epoch": sb * steps,
            "ratio": sa / sb, "blocks": len(a), "block": block}


def peak_rss(name: str, which: str, batches: int) -> dict:
    ours_fn, torch_fn, batch = MODELS[name]
    if which == "torch":
        import torch
        torch.set_num_threads(2)
    step, _ = (ours_fn if which == "ours" else torch_fn)(batch)
    base = rss_mb()
    for _ in range(batches):
        step()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"which": which, "base_mb": base, "peak_mb": peak, "steps_mb": peak - base}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=sorted(MODELS))
    p.add_argument("--batches", type=int, default=30, help="steps timed per library")
    p.add_argument("--block", type=int, default=3, help="steps per alternating block")
    p.add_argument("--rss", action="store_true", help="peak memory instead of time")
    p.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._child:
        print(json.dumps(peak_rss(args.model, args._child, args.batches)))
        return 0
    if args.rss:
        out = {}
        for which in ("ours", "torch"):
            r = subprocess.run([sys.executable, os.path.abspath(__file__), args.model,
                                "--batches", str(args.batches), "--_child", which],
                               capture_output=True, text=True, check=True)
            out[which] = json.loads(r.stdout.strip().splitlines()[-1])
        o, t = out["ours"], out["torch"]
        print(f"{args.model}: peak RSS of {args.batches} training steps above the "
              f"post-setup baseline: ours {o['steps_mb']:.1f} MB (peak {o['peak_mb']:.0f} MB), "
              f"PyTorch {t['steps_mb']:.1f} MB (peak {t['peak_mb']:.0f} MB); "
              f"ratio {o['steps_mb'] / max(t['steps_mb'], 1e-9):.2f}")
        return 0
    r = time_epochs(args.model, args.batches, args.block)
    from benchmarks.machine import cpu_model as cpu_name
    from benchmarks.run import load_average
    print(f"{r['model']} (batch {r['batch']}, {r['steps_per_epoch']} steps/epoch) on "
          f"{cpu_name()}, load average {load_average()}: ours {r['ours_s_per_epoch']:.1f} s/epoch, "
          f"PyTorch {r['torch_s_per_epoch']:.1f} s/epoch, ratio {r['ratio']:.2f}x "
          f"(medians of {r['blocks']} blocks of {r['block']} steps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
