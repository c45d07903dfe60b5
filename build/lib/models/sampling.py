"""Text generation from a trained language model."""
from __future__ import annotations

import re
from typing import List, Tuple

import numpy as np

import tensorlite as tl
from tensorlite.random import generator


def _draw(logits: np.ndarray, temperature: float) -> int:
    z = logits.astype(np.float64) / max(temperature, 1e-6)
    p = np.exp(z - z.max())
    p /= p.sum()
    return int(generator().choice(len(p), p=p))


_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,:/]\d+)*|\.\d+)")


def prompt_ids(info: dict, prompt: str) -> Tuple[List[int], List[str]]:
    """(token ids of ``prompt``, its tokens the vocabulary lacks), spelling each word the
    way the training text was: a word missing as written is looked up in lower case
    (Penn Treebank is lower-cased: "The" is "the"), and a number is "N" when the
    vocabulary has that token (Penn Treebank writes every number as N). Characters are
    taken as they are. Missing tokens map to "<unk>"; without one they raise ValueError."""
    stoi = {w: i for i, w in enumerate(info["vocab"])}
    char_level = info.get("char_level", False)
    unk = stoi.get("<unk>")
    tokens = list(prompt) if char_level else prompt.split()
    if not char_level:
        def spell(word: str) -> str:
            if word in stoi:
                return word
            if word.lower() in stoi:
                return word.lower()
            if "N" in stoi and _NUMBER.fullmatch(word):
                return "N"
            return word
        tokens = [spell(t) for t in tokens]
    missing = sorted({t for t in tokens if t not in stoi})
    if missing and unk is None:
        raise ValueError(f"sample: the prompt has {'characters' if char_level else 'words'} "
                         f"{missing} that are not in the model's vocabulary")
    return [stoi.get(t, unk) for t in tokens], missing


def sample_text(model, info: dict, prompt: str, length: int, temperature: float) -> str:
    """``prompt`` (read by :func:`prompt_ids`) followed by ``length`` drawn tokens."""
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise ValueError(f"sample: length must be an int >= 0, got {length!r}")
    vocab = info["vocab"]
    stoi = {w: i for i, w in enumerate(vocab)}
    char_level = info.get("char_level", False)
    ids = prompt_ids(info, prompt)[0] or [stoi.get("<eos>", 0)]
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
