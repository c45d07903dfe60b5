"""Memory stays flat over many training steps (no graph or tensor leak).

    python benchmarks/memory.py [--steps 10000] [--model mlp|cnn|lstm]

Trains a small model (an MLP; a CNN with batch norm, pooling and dropout; or an LSTM
language model carrying its state across steps) for N steps and prints the process's
resident memory every 1000 steps; the last figure should equal the first within noise.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import tensorlite as tl  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _mlp(rng):
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    x = tl.tensor(rng.standard_normal((32, 64)).astype(np.float32))
    y = tl.tensor(rng.integers(0, 10, 32))
    return model, lambda: F.cross_entropy(model(x), y)


def _cnn(rng):
    # Convolution, batch norm, pooling, dropout: the kernels with saved index arrays.
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                          nn.Linear(16, 10))
    x = tl.tensor(rng.standard_normal((16, 1, 14, 14)).astype(np.float32))
    y = tl.tensor(rng.integers(0, 10, 16))
    return model, lambda: F.cross_entropy(model(x), y)


def _lstm(rng):
    # Embedding + a 2-layer LSTM carrying its (detached) state across steps, as truncated
    # BPTT does: the state must not keep the previous steps' graphs alive.
    from models import RNNLM
    from models.language import detach_hidden
    model = RNNLM(500, 32, 32, 2, "lstm", dropout=0.1)
    x = tl.tensor(rng.integers(0, 500, (10, 8)))
    y = tl.tensor(rng.integers(0, 500, (10, 8)))
    state = {"h": model.init_hidden(8)}

    def loss():
        logits, state["h"] = model(x, detach_hidden(state["h"]))
        return F.cross_entropy(logits.reshape(-1, 500), y.reshape(-1))
    return model, loss


MODELS = {"mlp": _mlp, "cnn": _cnn, "lstm": _lstm}


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--model", choices=sorted(MODELS), default="mlp")
    args = p.parse_args(argv)
    tl.manual_seed(0)
    rng = np.random.default_rng(0)
    model, loss_fn = MODELS[args.model](rng)
    opt = tl.optim.Adam(model.parameters(), lr=1e-3)
    readings = []
    for step in range(1, args.steps + 1):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
        if step % 1000 == 0 or step == 100:
            readings.append((step, rss_mb()))
            print(f"step {step:6d}  rss {readings[-1][1]:8.1f} MB", flush=True)
    growth = readings[-1][1] - readings[0][1]
    print(f"growth from step {readings[0][0]} to {readings[-1][0]}: {growth:+.1f} MB "
          f"(peak rss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
