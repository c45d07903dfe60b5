"""The lecture's text pipeline: tokenisation, normalisation (lower-case, numbers ->
NUMBER, lemmatisation), a vocabulary with an out-of-vocabulary id, one-hot vectors.

    >>> toks = tokenize("He's spending 7 days in San Francisco.", mwes=["San Francisco"])
    >>> toks
    ['He', "'s", 'spending', '7', 'days', 'in', 'San Francisco', '.']
    >>> normalize(toks)
    ['he', 'be', 'spend', 'NUMBER', 'day', 'in', 'San Francisco', '.']
    >>> vocab = Vocabulary.build([normalize(toks)])
    >>> vocab.encode(["he", "be", "unseen"])
    [1, 2, 0]
"""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence

import numpy as np

__all__ = ["tokenize", "normalize", "lemmatize", "Vocabulary", "one_hot"]

# ---------------------------------------------------------------- tokenisation

_CLITIC = r"['’](?i:s|re|ve|ll|d|m)\b"
# A number: 7, 3.5, 1,000, 10:30, 1/2, .5, 1e-3. A + or - is its sign only where a sign
# can stand (not after a word or number character, nor after a dot: "5-3" is 5, -, 3;
# "x -3" and "(-3)" hold -3), and a leading dot only where it cannot end a word ("end.5").
_NUMBER_TOKEN = (r"(?:(?<![\w.])[+-](?=\.?\d))?"
                 r"(?:\d+(?:[.,:/]\d+)*|(?<![\w.])\.\d+)"
                 r"(?:[eE][+-]?\d+)?(?!\w)")
# Alternatives are tried in order at each position, so the order is the grammar:
_TOKEN = re.compile(
    r"(?:[A-Za-z]\.){2,}(?![A-Za-z])"             # acronyms with dots: U.S., e.g., a.m.
    r"|(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs|etc)\.(?=\s|$)"  # a few abbreviations
    r"|\w+(?=(?i:n)['’](?i:t)\b)"                 # the verb of a negation: do (in don't)
    r"|(?i:n)['’](?i:t)\b"                        # n't
    r"|" + _CLITIC +                              # clitics: 's 're 've 'll 'd 'm
    r"|" + _NUMBER_TOKEN +                        # numbers: 7, 3.5, 1,000, -3, .5, 1e-3
    r"|\w+(?:(?:-|['’](?!(?i:s|re|ve|ll|d|m)\b))\w+)*"  # words: re-imagining, o'clock
    r"|\.\.\.+|--+"                               # ellipsis, dash
    r"|[^\w\s]")                                  # any other symbol, one character each


def tokenize(text: str, mwes: Iterable[str] = ()) -> List[str]:
    """Split ``text`` into words, clitics ("He's" -> "He", "'s"; "don't" -> "do",
    "n't"), numbers and punctuation; each listed multi-word expression (e.g. "San
    Francisco") that occurs (same case) becomes one token, the longest match winning."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize: expected a str, got {type(text).__name__}")
    if isinstance(mwes, str):
        raise TypeError("tokenize: mwes must be a list of expressions, got a single str "
                        f"({mwes!r}); write mwes=[{mwes!r}]")
    tokens = _TOKEN.findall(text)
    if not mwes:
        return tokens
    # first token -> [(the expression's tokens, the joined token)], longest first
    table: Dict[str, list] = {}
    for m in mwes:
        if not isinstance(m, str):
            raise TypeError(f"tokenize: multi-word expressions must be str, got {m!r}")
        parts = tuple(_TOKEN.findall(m))
        if parts:
            table.setdefault(parts[0], []).append((parts, " ".join(m.split())))
    for entries in table.values():
        entries.sort(key=lambda e: -len(e[0]))
    out, i = [], 0
    while i < len(tokens):
        for parts, joined in table.get(tokens[i], ()):
            if tuple(tokens[i:i + len(parts)]) == parts:
                out.append(joined)
                i += len(parts)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


# ---------------------------------------------------------------- lemmatisation

def _table(**groups: str) -> Dict[str, str]:
    """{form: lemma} from lemma="form form ..." groups."""
    return {form: lemma.rstrip("_") for lemma, forms in groups.items()
            for form in forms.split()}


# Forms no suffix rule gets right: be/have/do, clitics, irregular verbs and plurals
# (a lemma spelled like a keyword gets a trailing underscore: not_, break_).
# (Ambiguous forms are left out on purpose: "left" is more often a direction than a
# past tense, "lay" a present tense, "lead" a noun.)
LEMMA_EXCEPTIONS: Dict[str, str] = {
    **_table(be="am is are was were been being 's 're 'm",
             have="has had having 've", do="does did done doing", not_="n't",
             will="'ll wo", would="'d", can="ca", shall="sha"),
    **_table(go="went gone goes going", come="came", see="saw seen seeing",
             make="made", say="said says", take="took taken", get="got gotten",
             give="gave given", know="knew known", think="thought", tell="told",
             find="found", feel="felt", keep="kept", begin="began begun", write="wrote written",
             run="ran", eat="ate eaten", buy="bought", bring="brought", teach="taught",
             catch="caught", fight="fought", seek="sought", spend="spent", send="sent",
             build="built", lend="lent", sit="sat", stand="stood", understand="understood",
             meet="met", pay="paid", sell="sold", hold="held", hear="heard", mean="meant",
             win="won", lose="lost", fall="fell fallen", grow="grew grown", draw="drew drawn",
             drive="drove driven", ride="rode ridden", rise="rose risen", speak="spoke spoken",
             break_="broke broken", choose="chose chosen", steal="stole stolen",
             wake="woke woken", wear="wore worn", swim="swam swum", sing="sang sung",
             drink="drank drunk", ring="rang rung", throw="threw thrown", fly="flew flown",
             show="shown", hide="hid hidden", forget="forgot forgotten",
             lead="led", feed="fed", flee="fled", die="dying", lie="lying", tie="tying",
             add="added adding", focus="focused focusing focuses", bias="biased biases",
             quiz="quizzes quizzed quizzing",
             create="created creating", guide="guided guiding", agree="agreed",
             free="freed", change="changed changing", arrange="arranged arranging",
             range="ranged ranging", explore="explored exploring", ignore="ignored ignoring",
             store="stored storing", restore="restored restoring", score="scored scoring",
             adore="adored adoring", bore="bored boring", phone="phoned phoning",
             complete="completed completing", delete="deleted deleting",
             compete="competed competing", excite="excited exciting",
             invite="invited inviting", unite="united uniting",
             become="became becoming becomes", overcome="overcame overcoming",
             control="controlled controlling",
             travel="travelled travelling", cancel="cancelled cancelling",
             label="labelled labelling", model="modelled modelling", refer="referred referring",
             excel="excelled excelling", rebel="rebelled rebelling", compel="compelled",
             propel="propelled", expel="expelled", patrol="patrolled patrolling",
             canoe="canoes", oboe="oboes", gas="gases", bus="buses", ache="aches",
             headache="headaches", niche="niches", cache="caches"),
    **_table(man="men", woman="women", child="children", foot="feet", tooth="teeth",
             goose="geese", mouse="mice", louse="lice", ox="oxen", person="people",
             life="lives", wife="wives", knife="knives", leaf="leaves", half="halves",
             self="selves", wolf="wolves", shelf="shelves", thief="thieves", loaf="loaves",
             calf="calves", criterion="criteria", phenomenon="phenomena", analysis="analyses",
             crisis="crises", thesis="theses", hypothesis="hypotheses", index="indices",
             matrix="matrices", vertex="vertices", vortex="vortices", apex="apices",
             appendix="appendices", good="better best", bad="worse worst"),
}

# Words the suffix rules must leave alone: they only look inflected.
_KEEP = frozenset(
    "this his its us thus yes plus always perhaps sometimes whereas series species news "
    "lens bias atlas canvas alias chaos ethos cosmos christmas physics mathematics economics "
    "politics ethics athletics measles diabetes ourselves yourselves themselves "
    "something nothing anything everything morning evening during ceiling pudding wedding "
    "lightning sibling darling duckling seedling herring awning offspring "
    "hundred sacred naked wicked wretched rugged kindred hatred".split())
# Nouns in -ie whose plural -ies must not become -y (movies -> movie, not movy).
_IE_NOUNS = frozenset(
    "movie cookie zombie calorie rookie prairie brownie hippie goalie genie pixie newbie "
    "selfie smoothie sortie auntie collie birdie hoodie indie junkie yuppie veggie cutie "
    "freebie talkie walkie boogie lassie eerie".split())


def _vowel_pattern(word: str) -> str:
    """'v'/'c' per letter; y is a vowel after a consonant (as in Porter's stemmer)."""
    out = []
    for k, ch in enumerate(word):
        vowel = ch in "aeiou" or (ch == "y" and k > 0 and out[-1] == "c")
        out.append("v" if vowel else "c")
    return "".join(out)


def _measure(word: str) -> int:
    """Porter's m: the number of vowel-consonant sequences in the word."""
    return len(re.findall(r"v+c+", _vowel_pattern(word)))


def _restore_stem(stem: str) -> str:
    """A verb's base form from what is left after removing -ing/-ed: undouble a final
    consonant (stopp -> stop), or put back a silent e (mak -> make, danc -> dance)."""
    if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in "aeiouylsfz":
        return stem[:-1]                                  # stopp, runn, plann
    pattern = _vowel_pattern(stem)
    if (re.search(r"(?:(?<!s)s|(?<!z)z|c|v|u|dg|rg|ag)$", stem)
            or re.search(r"(?:[^aeiou]|qu)(?:at|ut|ot|ir|ur|ar|in|id|ud|ul|il)$", stem)
            or re.search(r"[bcdfgkptz]l$", stem)):
        return stem + "e"                                 # caus, danc, giv, handl, relat
    if _measure(stem) == 1 and pattern.endswith("cvc") and stem[-1] not in "wxy":
        return stem + "e"                                 # mak, hop, writ, smil
    return stem


def _lemma(low: str) -> str:
    """The lemma of a lower-case word (see :func:`lemmatize`)."""
    if low in LEMMA_EXCEPTIONS:
        return LEMMA_EXCEPTIONS[low]
    if low in _KEEP or len(low) <= 3:
        return low
    if not low.isalpha():
        # re-imagining -> re-imagine: the last part of a hyphenated word inflects.
        head, dash, tail = low.rpartition("-")
        return head + dash + _lemma(tail) if dash and head and tail.isalpha() else low
    # Plurals and third persons.
    if low.endswith("ies"):
        return low[:-1] if low[:-1] in _IE_NOUNS or len(low) <= 4 else low[:-3] + "y"
    if low.endswith("oes"):
        return low[:-2] if len(low) > 5 else low[:-1]     # heroes -> hero, shoes -> shoe
    # lenses, atlases: a kept word in -s plus -es (four letters at least: "uses" is not us)
    if re.search(r"(?:ss|x|zz|ch|sh)es$", low) or (
            low.endswith("es") and len(low) >= 6 and low[:-2] in _KEEP):
        return low[:-2]                                   # classes, boxes, watches
    if low.endswith("s"):
        return low if re.search(r"(?:ss|us|is)$", low) else low[:-1]
    # Participles and past tenses: only when a vowel is left (sing, bed, red stay).
    if low.endswith("ing") and len(low) >= 5 and "v" in _vowel_pattern(low[:-3]):
        return _restore_stem(low[:-3])
    if low.endswith("eed"):
        return low                                        # need, speed, proceed
    if low.endswith("ied"):
        return low[:-3] + "y" if len(low) > 4 else low[:-1]   # tried -> try, died -> die
    if low.endswith("ed") and "v" in _vowel_pattern(low[:-2]):
        return _restore_stem(low[:-2])
    return low


def lemmatize(word: str) -> str:
    """A small rule-based lemmatiser (no part-of-speech tagging): an exceptions table
    (be/have/do forms, clitics, irregular verbs and plurals), then suffix rules with
    guards: -ies/-es/-s plurals, -ing and -ed with consonant undoubling and silent-e
    restoration. Returns the lower-case lemma: ``lemmatize("spending") == "spend"``."""
    if not isinstance(word, str):
        raise TypeError(f"lemmatize: expected a str, got {type(word).__name__}")
    return _lemma(word.lower().replace("’", "'"))


# ---------------------------------------------------------------- normalisation

_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,:/]\d+)*|\.\d+)(?:[eE][+-]?\d+)?(?:st|nd|rd|th|s)?")
# Words after which 's is "is"/"has" rather than a possessive (it's vs its, who's vs
# whose): their possessives are spelled without it. After any other word the clitic is
# far more often the possessive ("Children's toys", "the film's ending").
_S_IS_AFTER = frozenset("he she it that what there here who where when how why this".split())


def normalize(tokens: Sequence[str], lower: bool = True, numbers: bool = True,
              lemmatize: bool = True, mwes: Iterable[str] = (),
              possessives: bool = False) -> List[str]:
    """The lecture's normalisation of a token list: lower-case, numbers -> 'NUMBER'
    (7, 3.5, 1,000, 1990s, 21st), words -> their lemma. Multi-word expressions (tokens
    with a space, as :func:`tokenize` joins them, or listed in ``mwes``) are names and
    keep their case. With ``lower=False`` a lemma keeps a capital initial; all-capital
    words (acronyms) are then left as they are.

    Limitation: without part-of-speech tagging the clitic 's cannot tell "is"/"has" from
    the possessive, and becomes "be" everywhere ("He's spending" -> "he be spend", but
    also "Children's toys" -> "child be toy"). With ``possessives=True`` it is read from
    the word before it: after a pronoun (he, she, it, that, what, there, here, who, ...)
    it is "be", after any other word the possessive, kept as "'s" ("child 's toy"). That
    guess is wrong too at times ("The film's great" keeps "'s"); it is off by default
    because it changes the vocabulary, and so the ids, of models trained without it."""
    if isinstance(tokens, str):
        raise TypeError("normalize: expected a list of tokens, got a str (tokenize it first)")
    keep = set(mwes)
    out = []
    prev = ""
    for tok in tokens:
        if not isinstance(tok, str):
            raise TypeError(f"normalize: tokens must be str, got {tok!r}")
        before, prev = prev, tok
        if " " in tok or tok in keep:
            out.append(tok)
        elif numbers and _NUMBER.fullmatch(tok):
            out.append("NUMBER")
        elif possessives and lemmatize and tok.lower().replace("’", "'") == "'s" \
                and before.lower() not in _S_IS_AFTER:
            out.append("'s")
        elif lemmatize and any(ch.isalpha() for ch in tok):
            if lower or tok.islower() or tok[0] in "'’":
                out.append(_lemma(tok.lower().replace("’", "'")))
            elif tok[0].isupper() and tok[1:].islower():
                out.append(_lemma(tok.lower()).capitalize())
            else:
                out.append(tok)
        else:
            out.append(tok.lower() if lower else tok)
    return out


# ---------------------------------------------------------------- vocabulary

class Vocabulary:
    """Token <-> id maps (``stoi``, ``itos``). Specials come first, in the order given,
    then tokens by decreasing frequency (ties: first occurrence). Tokens not in the
    vocabulary encode to the id of ``unk`` (the OOV token, "<unk>"), or raise a KeyError
    when ``unk`` is None.

        vocab = Vocabulary.build(sentences, min_freq=2, specials=("<pad>", "<unk>"))
        ids = vocab.encode(["a", "film"])       # list[int]
        vocab.decode(ids)                        # ["a", "film"]
    """

    def __init__(self, itos: Sequence[str], unk: Optional[str] = "<unk>") -> None:
        if isinstance(itos, str):
            raise TypeError("Vocabulary: expected a list of tokens, got a str")
        self.itos: List[str] = list(itos)
        for t in self.itos:
            if not isinstance(t, str):
                raise TypeError(f"Vocabulary: tokens must be str, got {t!r}")
        self.stoi: Dict[str, int] = {t: i for i, t in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            dup = next(t for t, c in Counter(self.itos).items() if c > 1)
            raise ValueError(f"Vocabulary: tokens must be unique, {dup!r} repeats")
        if unk is not None and unk not in self.stoi:
            raise ValueError(f"Vocabulary: the OOV token {unk!r} is not in the vocabulary "
                             "(add it, or pass unk=None)")
        self.unk = unk

    @classmethod
    def build(cls, tokens: Iterable[Any], min_freq: int = 1, max_size: Optional[int] = None,
              specials: Sequence[str] = ("<unk>",), unk: Optional[str] = "<unk>"
              ) -> "Vocabulary":
        """Count ``tokens`` (a stream of str, or an iterable of token lists) and keep those
        seen at least ``min_freq`` times; ``max_size`` caps ``len(vocab)`` (specials
        included), dropping the rarest. ``unk``, when not among ``specials``, is put first."""
        if isinstance(min_freq, bool) or not isinstance(min_freq, (int, np.integer)) \
                or min_freq < 1:
            raise ValueError(f"Vocabulary.build: min_freq must be an int >= 1, got {min_freq!r}")
        if isinstance(specials, str):
            raise TypeError(f"Vocabulary.build: specials must be a list of str, got {specials!r}")
        specials = list(specials)
        if unk is not None and unk not in specials:
            specials.insert(0, unk)
        if max_size is not None and (isinstance(max_size, bool)
                                     or not isinstance(max_size, (int, np.integer))):
            raise TypeError(f"Vocabulary.build: max_size must be an int or None, got "
                            f"{max_size!r}")
        if max_size is not None and max_size < len(specials):
            raise ValueError(f"Vocabulary.build: max_size {max_size!r} is smaller than the "
                             f"{len(specials)} special tokens {specials}")
        counts: Counter = Counter()
        for item in tokens:
            if isinstance(item, str):
                counts[item] += 1
            else:
                counts.update(item)
        bad = next((t for t in counts if not isinstance(t, str)), None)
        if bad is not None:
            raise TypeError(f"Vocabulary.build: tokens must be str, got {bad!r}")
        special_set = set(specials)
        # sorted() is stable and Counter keeps first-occurrence order: ties keep it.
        ordered = [t for t, c in sorted(counts.items(), key=lambda kv: -kv[1])
                   if c >= min_freq and t not in special_set]
        if max_size is not None:
            ordered = ordered[:max_size - len(specials)]
        return cls(specials + ordered, unk)

    @property
    def unk_id(self) -> Optional[int]:
        """The id unknown tokens get (None without an OOV token)."""
        return None if self.unk is None else self.stoi[self.unk]

    @property
    def pad_id(self) -> Optional[int]:
        """The id of "<pad>", or None when the vocabulary has none."""
        return self.stoi.get("<pad>")

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __iter__(self) -> Iterator[str]:
        return iter(self.itos)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Vocabulary) and self.itos == other.itos
                and self.unk == other.unk)

    def __getitem__(self, token: str) -> int:
        """The id of one token (the OOV id for an unknown one)."""
        return self.encode([token])[0]

    def encode(self, tokens: Iterable[str]) -> List[int]:
        """Token ids; unknown tokens -> ``unk_id``."""
        if isinstance(tokens, str):
            raise TypeError("Vocabulary.encode: expected a list of tokens, got a str "
                            "(tokenize it first, or pass list(text) for characters)")
        if not isinstance(tokens, (list, tuple)):
            tokens = list(tokens)       # the error paths below read the tokens again
        get = self.stoi.get
        ids = [get(t, -1) for t in tokens]
        if -1 in ids:
            # Only the misses are inspected, so the common path stays one list pass.
            for t, i in zip(tokens, ids):
                if i == -1 and not isinstance(t, str):
                    raise TypeError(f"Vocabulary.encode: tokens must be str, got {t!r}")
            if self.unk is None:
                missing = next(t for t, i in zip(tokens, ids) if i == -1)
                raise KeyError(f"Vocabulary.encode: {missing!r} is not in the vocabulary, which "
                               "has no OOV token")
            unk = self.stoi[self.unk]
            ids = [unk if i == -1 else i for i in ids]
        return ids

    def decode(self, ids: Iterable[int]) -> List[str]:
        """Tokens of ``ids`` (a list, array or Tensor of ints)."""
        arr = _int_array("Vocabulary.decode", ids)
        if arr.ndim > 1:
            raise ValueError(f"Vocabulary.decode: expected a 1-D sequence of ids, got shape "
                             f"{arr.shape}")
        if arr.size and (arr.min() < 0 or arr.max() >= len(self.itos)):
            bad = arr.min() if arr.min() < 0 else arr.max()
            raise IndexError(f"Vocabulary.decode: id {bad} is out of range [0, {len(self.itos)})")
        itos = self.itos
        return [itos[i] for i in arr.reshape(-1).tolist()]

    def one_hot(self, ids: Any) -> Any:
        """One-hot vectors of ``ids`` over this vocabulary: (..., len(vocab)) float32."""
        return one_hot(ids, len(self))

    def save(self, path: str) -> None:
        """Write the vocabulary as JSON (atomically: a temporary file, then a rename)."""
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"format": "tensorlite.Vocabulary", "version": 1, "itos": self.itos,
                       "unk": self.unk}, f, ensure_ascii=False)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str) -> "Vocabulary":
        """A vocabulary written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            try:
                d = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f"Vocabulary.load: {path} is not JSON ({e})") from None
        if not isinstance(d, dict) or not isinstance(d.get("itos"), list) \
                or not isinstance(d.get("unk"), (str, type(None))):
            raise ValueError(f"Vocabulary.load: {path} is not a saved Vocabulary")
        return cls(d["itos"], d["unk"])

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.itos[:5])
        return (f"Vocabulary({len(self)} tokens: [{head}{', ...' if len(self) > 5 else ''}], "
                f"unk={self.unk!r})")


# ---------------------------------------------------------------- one-hot vectors

def _int_array(op: str, ids: Any) -> np.ndarray:
    from ..tensor import Tensor
    arr = ids._data if isinstance(ids, Tensor) else np.asarray(ids)
    if arr.size == 0 and arr.dtype.kind == "f":
        arr = arr.astype(np.int64)                       # np.asarray([]) is float64
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{op}: ids must be integers, got dtype {arr.dtype}")
    return arr


def one_hot(ids: Any, num_classes: Optional[int] = None, dtype: Any = np.float32) -> Any:
    """The lecture's one-hot vectors: ids of shape S -> (*S, num_classes) with a 1 at each
    id and 0 elsewhere (float32 by default). A Tensor in gives a Tensor out, anything
    else an array. ``num_classes`` defaults to ``max(ids) + 1``."""
    from ..tensor import Tensor
    arr = _int_array("one_hot", ids)
    if num_classes is None:
        if arr.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from no ids; pass num_classes")
        num_classes = int(arr.max()) + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive int, got {num_classes!r}")
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        bad = arr.min() if arr.min() < 0 else arr.max()
        raise IndexError(f"one_hot: id {bad} is out of range [0, {num_classes})")
    out = np.zeros(arr.shape + (int(num_classes),), dtype=dtype)
    np.put_along_axis(out, arr[..., None].astype(np.intp), 1, axis=-1)
    if isinstance(ids, Tensor):
        from ..tensor import _make
        return _make(out, False, None, 0, None)
    return out
