"""The lecture's text pipeline: tokenisation, normalisation (lower-case, numbers ->
NUMBER, lemmatisation), a vocabulary with an out-of-vocabulary id, one-hot vectors.

    >>> toks = tokenize("He's spending 7 days in San Francisco.", mwes=["San Francisco"])
    >>> toks
    ['He', "'s", 'spending', '7', 'days', 'in', 'San Francisco', '.']
    >>> normalize(toks)
    ['he', 'be', 'spend', 'NUMBER', 'day', 'in', 'San Francisco', '.']
"""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from typing import Iterable, List, Optional, Sequence, Union

import numpy as np

# Order matters: a word directly before n't stops there ("do|n't"), clitics are their own
# tokens ("He|'s"), numbers keep their separators ("3.5", "1,000"), any other symbol is
# one token.
_TOKEN = re.compile(
    r"[A-Za-z]+(?=n't\b)"             # do (in don't)
    r"|n't\b"                         # n't
    r"|'(?:s|re|ve|ll|d|m)\b"         # clitics
    r"|\d+(?:[.,:/]\d+)*"             # numbers
    r"|\w+(?:-\w+)*"                  # words, hyphenated words
    r"|[^\w\s]",                      # punctuation
    re.IGNORECASE)
_NUMBER = re.compile(r"^\d+(?:[.,:/]\d+)*(?:st|nd|rd|th)?$")


def tokenize(text: str, mwes: Sequence[str] = ()) -> List[str]:
    """Words, clitics ('s, n't, 're ...) and punctuation as tokens; each listed multi-word
    expression (e.g. "San Francisco") becomes one token."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize: expected a str, got {type(text).__name__}")
    tokens = _TOKEN.findall(text)
    if not mwes:
        return tokens
    # Greedy longest match of each expression's own tokens.
    patterns = sorted({tuple(_TOKEN.findall(m)): m for m in mwes}.items(),
                      key=lambda kv: -len(kv[0]))
    out, i = [], 0
    while i < len(tokens):
        for parts, mwe in patterns:
            n = len(parts)
            if n and tuple(tokens[i:i + n]) == parts:
                out.append(" ".join(parts))
                i += n
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


# Exceptions first: forms no suffix rule gets right.
LEMMA_EXCEPTIONS = {
    "'s": "be", "'re": "be", "'m": "be", "is": "be", "are": "be", "am": "be", "was": "be",
    "were": "be", "been": "be", "being": "be", "'ve": "have", "has": "have", "had": "have",
    "having": "have", "does": "do", "did": "do", "done": "do", "doing": "do", "n't": "not",
    "'ll": "will", "'d": "would", "ca": "can", "wo": "will",
    "went": "go", "gone": "go", "goes": "go", "saw": "see", "seen": "see", "made": "make",
    "said": "say", "says": "say", "took": "take", "taken": "take", "came": "come",
    "got": "get", "gotten": "get", "gave": "give", "given": "give", "knew": "know",
    "known": "know", "thought": "think", "told": "tell", "found": "find", "left": "leave",
    "felt": "feel", "kept": "keep", "began": "begin", "begun": "begin", "wrote": "write",
    "written": "write", "ran": "run", "ate": "eat", "eaten": "eat", "bought": "buy",
    "brought": "bring", "taught": "teach", "spent": "spend", "sat": "sit", "stood": "stand",
    "met": "meet", "paid": "pay", "sold": "sell", "built": "build", "won": "win",
    "men": "man", "women": "woman", "children": "child", "feet": "foot", "teeth": "tooth",
    "mice": "mouse", "geese": "goose", "people": "person", "lives": "life", "wives": "wife",
    "knives": "knife", "leaves": "leaf", "better": "good", "best": "good", "worse": "bad",
    "worst": "bad", "data": "data", "news": "news", "going": "go", "dying": "die",
    "lying": "lie", "tying": "tie", "seeing": "see", "created": "create",
    "creating": "create", "creates": "create",
}
# Words the suffix rules must leave alone (they only look inflected).
_KEEP = {"this", "his", "its", "us", "thus", "yes", "bus", "gas", "plus", "always", "perhaps",
         "series", "species", "analysis", "basis", "crisis", "bed", "red", "need", "feed",
         "seed", "speed", "hundred", "sing", "ring", "king", "thing", "something", "nothing",
         "anything", "everything", "morning", "evening", "spring", "string", "during", "bring",
         "wing", "ceiling", "ping", "sled", "shed", "less", "unless", "across", "process",
         "business", "class", "glass", "grass", "mass", "pass", "miss", "kiss", "boss",
         "loss", "cross"}
_VOWELS = set("aeiou")


def _restore_e(stem: str) -> str:
    """After stripping -ing/-ed: undouble a final consonant (stopp -> stop) or put back a
    silent e (mak -> make, creat -> create, us -> use) for the common patterns."""
    if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in "lsz" + "aeiou":
        return stem[:-1]
    if len(stem) == 2 and stem[0] in _VOWELS and stem[1] not in _VOWELS:
        return stem + "e"                                   # us -> use
    if len(stem) == 3 and re.search(r"[^aeiou][aeiou][^aeiouwxy]$", stem):
        return stem + "e"                                   # lik -> like, hop -> hope
    if re.search(r"([^aeiou]at|iz|[^aeiou]bl|[^aeiou][aeiou]v|dg|rc|rg|uc|[^aeiou]ur)$", stem):
        return stem + "e"                                   # creat -> create, mov -> move
    return stem


def lemmatize(word: str) -> str:
    """A small rule-based lemmatiser: the exceptions table, then -ies/-es/-s, -ing, -ed."""
    low = word.lower()
    if low in LEMMA_EXCEPTIONS:
        return LEMMA_EXCEPTIONS[low]
    if low in _KEEP or len(low) <= 3 or not low.isalpha():
        return low
    if low.endswith("ies") and len(low) > 4:
        return low[:-3] + "y"
    if re.search(r"(ss|x|z|ch|sh)es$", low):
        return low[:-2]
    if low.endswith("s") and not re.search(r"(ss|us|is)$", low):
        return low[:-1]
    if low.endswith("ing") and len(low) > 4 and set(low[:-3]) & _VOWELS:
        return _restore_e(low[:-3])
    if low.endswith("ied") and len(low) > 4:
        return low[:-3] + "y"
    if low.endswith("ed") and len(low) > 3 and set(low[:-2]) & _VOWELS:
        return _restore_e(low[:-2])
    return low


def normalize(tokens: Sequence[str], lower: bool = True, numbers: bool = True,
              lemmas: bool = True, mwes: Sequence[str] = ()) -> List[str]:
    """Lower-case, map numbers to 'NUMBER', lemmatise. Multi-word expressions (tokens
    containing a space, or listed in ``mwes``) keep their case: they are names."""
    keep = set(mwes)
    out = []
    for tok in tokens:
        if " " in tok or tok in keep:
            out.append(tok)
        elif numbers and _NUMBER.match(tok):
            out.append("NUMBER")
        elif lemmas and (tok[:1].isalpha() or tok.startswith("'") or tok == "n't"):
            lem = lemmatize(tok)
            out.append(lem if lower else (lem if tok.islower() else tok))
        else:
            out.append(tok.lower() if lower else tok)
    return out


class Vocabulary:
    """Token <-> id maps. Specials come first (``<unk>`` is the out-of-vocabulary id), then
    tokens by decreasing frequency (ties: first occurrence)."""

    def __init__(self, itos: Sequence[str], unk: Optional[str] = "<unk>") -> None:
        self.itos = list(itos)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("Vocabulary: tokens must be unique")
        if unk is not None and unk not in self.stoi:
            raise ValueError(f"Vocabulary: the OOV token {unk!r} is not in the vocabulary")
        self.unk = unk

    @classmethod
    def build(cls, tokens: Iterable, min_freq: int = 1, max_size: Optional[int] = None,
              specials: Sequence[str] = ("<unk>",), unk: Optional[str] = "<unk>"
              ) -> "Vocabulary":
        """From a token stream or an iterable of token lists."""
        if min_freq < 1:
            raise ValueError(f"Vocabulary.build: min_freq must be >= 1, got {min_freq}")
        counts: Counter = Counter()
        for item in tokens:
            if isinstance(item, str):
                counts[item] += 1
            else:
                counts.update(item)
        specials = list(specials)
        if unk is not None and unk not in specials:
            specials.insert(0, unk)
        ordered = [t for t, c in sorted(counts.items(), key=lambda kv: -kv[1])
                   if c >= min_freq and t not in specials]
        if max_size is not None:
            ordered = ordered[:max(0, max_size - len(specials))]
        return cls(specials + ordered, unk)

    @property
    def unk_id(self) -> Optional[int]:
        return None if self.unk is None else self.stoi[self.unk]

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        return self.stoi.get(token, self.unk_id) if self.unk is not None else self.stoi[token]

    def encode(self, tokens: Sequence[str]) -> List[int]:
        if isinstance(tokens, str):
            raise TypeError("Vocabulary.encode: expected a list of tokens, got a str "
                            "(tokenize it first)")
        if self.unk is None:
            missing = [t for t in tokens if t not in self.stoi]
            if missing:
                raise KeyError(f"Vocabulary.encode: {missing[0]!r} is not in the vocabulary and "
                               "it has no OOV token")
            return [self.stoi[t] for t in tokens]
        unk = self.unk_id
        return [self.stoi.get(t, unk) for t in tokens]

    def decode(self, ids: Iterable[int]) -> List[str]:
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise IndexError(f"Vocabulary.decode: id {i} out of range [0, {len(self.itos)})")
            out.append(self.itos[i])
        return out

    def save(self, path: str) -> None:
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"itos": self.itos, "unk": self.unk}, f, ensure_ascii=False)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str) -> "Vocabulary":
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        return cls(d["itos"], d.get("unk"))

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens, unk={self.unk!r})"


def one_hot(ids: Union[Sequence[int], np.ndarray], num_classes: int) -> np.ndarray:
    """The lecture's one-hot vectors: (..., num_classes) float32 with a 1 at each id."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"one_hot: ids must be integers, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= num_classes):
        raise IndexError(f"one_hot: ids must be in [0, {num_classes}), got "
                         f"{ids.min() if ids.min() < 0 else ids.max()}")
    out = np.zeros(ids.shape + (num_classes,), np.float32)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out
