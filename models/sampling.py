"""Text generation from a trained language model."""
from __future__ import annotations

import numpy as np

import tensorlite as tl
from tensorlite.random import generator


def _draw(logits: np.ndarray, temperature: float) -> int:
    z = logits.astype(np.float64) / max(temperature, 1e-6)
    p = np.exp(z - z.max())
    p /= p.sum()
    return int(generator().choice(len(p), p=p))


def sample_text(model, info: dict, prompt: str, length: int, temperature: float) -> str:
    vocab = info["vocab"]
    stoi = {w: i for i, w in enumerate(vocab)}
    char_level = info.get("char_level", False)
    unk = stoi.get("<unk>")
    tokens = list(prompt) if char_level else prompt.split()
    missing = sorted({t for t in tokens if t not in stoi})
    if missing and unk is None:
        raise ValueError(f"sample: the prompt has {'characters' if char_level else 'words'} "
                         f"{missing} that are not in the model's vocabulary")
    ids = [stoi.get(t, unk) for t in tokens] or [stoi.get("<eos>", 0)]
    out = list(ids)
    with tl.no_grad():
        if "context" in info:  # Bengio's n-gram model: a sliding window of n-1 words
            n = info["context"]
            for _ in range(length):
                ctx = ([stoi.get("<eos>", 0)] * n + out)[-n:]
                logits = model(tl.tensor([ctx]))
                out.append(_draw(logits.numpy()[0], temperature))
        else:  # recurrent: feed the prompt once, then one token at a time
            logits, hidden = model(tl.tensor(np.asarray(ids)[:, None]))
            for _ in range(length):
                nxt = _draw(logits.numpy()[-1, 0], temperature)
                out.append(nxt)
                logits, hidden = model(tl.tensor([[nxt]]), hidden)
    words = [vocab[i] for i in out]
    return "".join(words) if char_level else " ".join(words)
