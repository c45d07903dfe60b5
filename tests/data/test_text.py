"""The lecture's text pipeline: tokenize, normalize, lemmatize, Vocabulary, one-hot."""
import json

import numpy as np
import pytest

import tensorlite as tl
from tensorlite.data import Vocabulary, lemmatize, normalize, one_hot, tokenize


def test_lecture_example_tokenizes_and_normalizes():
    # The required example: clitics split, the multi-word name kept whole and cased.
    toks = tokenize("He's spending 7 days in San Francisco.", mwes=["San Francisco"])
    assert toks == ["He", "'s", "spending", "7", "days", "in", "San Francisco", "."]
    assert normalize(toks) == ["he", "be", "spend", "NUMBER", "day", "in", "San Francisco", "."]


# ---------------------------------------------------------------- tokenize

@pytest.mark.parametrize("text, tokens", [
    ("I don't know, it's 3.5 km!", ["I", "do", "n't", "know", ",", "it", "'s", "3.5", "km", "!"]),
    ("They'll go; we've 1,000 left.", ["They", "'ll", "go", ";", "we", "'ve", "1,000", "left",
                                       "."]),
    ("I'd say we can't, won't.", ["I", "'d", "say", "we", "ca", "n't", ",", "wo", "n't", "."]),
    ("Mr. Smith left the U.S. at 10:30...", ["Mr.", "Smith", "left", "the", "U.S.", "at",
                                             "10:30", "..."]),
    ("a re-imagining at 5 o'clock in the 1990s", ["a", "re-imagining", "at", "5", "o'clock",
                                                  "in", "the", "1990s"]),
    ("costs $5 (or 20%)", ["costs", "$", "5", "(", "or", "20", "%", ")"]),
    ("", []),
])
def test_tokenize_keeps_clitics_numbers_and_punctuation_as_tokens(text, tokens):
    assert tokenize(text) == tokens


def test_longest_multi_word_expression_wins_and_case_must_match():
    toks = tokenize("New York City is not New Jersey or new york",
                    mwes=["New York", "New York City"])
    assert toks[0] == "New York City" and toks[-2:] == ["new", "york"]
    assert tokenize("the  San   Francisco bay", mwes=["San  Francisco"])[1] == "San Francisco"


def test_tokenize_rejects_bad_input():
    with pytest.raises(TypeError, match="expected a str"):
        tokenize(["already", "tokens"])
    with pytest.raises(TypeError, match="mwes=\\['San Francisco'\\]"):
        tokenize("in San Francisco", mwes="San Francisco")


# ---------------------------------------------------------------- lemmatize

@pytest.mark.parametrize("word, lemma", [
    # be / have / do and clitics
    ("was", "be"), ("'re", "be"), ("has", "have"), ("'ve", "have"), ("did", "do"),
    ("n't", "not"), ("'ll", "will"),
    # irregular verbs and plurals
    ("went", "go"), ("children", "child"), ("people", "person"), ("feet", "foot"),
    ("leaves", "leaf"),
    # -s / -es / -ies with guards
    ("cats", "cat"), ("boxes", "box"), ("classes", "class"), ("stories", "story"),
    ("movies", "movie"), ("heroes", "hero"), ("makes", "make"),
    ("this", "this"), ("always", "always"), ("news", "news"), ("glass", "glass"),
    ("status", "status"), ("analysis", "analysis"),
    # -ing / -ed: undoubling, silent e, guards
    ("spending", "spend"), ("running", "run"), ("making", "make"), ("using", "use"),
    ("stopped", "stop"), ("liked", "like"), ("played", "play"), ("tried", "try"),
    ("died", "die"), ("caused", "cause"), ("danced", "dance"), ("handled", "handle"),
    ("related", "relate"), ("treated", "treat"), ("opening", "open"), ("needed", "need"),
    ("thing", "thing"), ("bring", "bring"), ("morning", "morning"), ("speed", "speed"),
    ("bed", "bed"), ("hundred", "hundred"),
    # hyphenated words inflect in their last part
    ("twenty-somethings", "twenty-something"),
    # plurals whose singular ends in s, z or a Latin -ex (the table, or _KEEP + es)
    ("biases", "bias"), ("vertices", "vertex"), ("quizzes", "quiz"), ("quizzing", "quiz"),
    ("appendices", "appendix"), ("lenses", "lens"), ("atlases", "atlas"), ("uses", "use"),
])
def test_lemmatiser_rules_and_exceptions(word, lemma):
    assert lemmatize(word) == lemma


def test_lemmatize_lowercases_and_reads_curly_apostrophes():
    assert lemmatize("Days") == "day" and lemmatize("’s") == "be"


# ---------------------------------------------------------------- normalize

def test_normalize_maps_numbers_in_their_usual_spellings():
    assert normalize(["7", "3.5", "1,000", "10:30", "1990s", "21st", "-4"]) == ["NUMBER"] * 7


@pytest.mark.parametrize("text, tokens", [
    ("-3 and .5 and 1e-3", ["-3", "and", ".5", "and", "1e-3"]),
    ("x (-3.5e+2) +4 2E5", ["x", "(", "-3.5e+2", ")", "+4", "2E5"]),
    # not a sign after a word or number character: a minus, a hyphen or a dash
    ("5-3 a-3 1990--2000", ["5", "-", "3", "a-3", "1990", "--", "2000"]),
    # not a number: a dot ending a word, an ellipsis, a letter after the exponent
    ("end.5 ...5 1e3x", ["end", ".", "5", "...", "5", "1e3x"]),
])
def test_tokenize_keeps_signs_leading_dots_and_exponents_in_numbers(text, tokens):
    assert tokenize(text) == tokens


def test_signed_dotted_and_exponent_numbers_normalize_to_NUMBER():
    assert normalize(tokenize("-3 and .5 and 1e-3 or -.25")) == \
        ["NUMBER", "and", "NUMBER", "and", "NUMBER", "or", "NUMBER"]
    assert normalize(tokenize("5-3")) == ["NUMBER", "-", "NUMBER"]


def test_clitic_s_is_be_by_default_and_read_from_the_word_before_with_possessives():
    # The default keeps the vocabulary of models trained before the option existed.
    assert normalize(tokenize("Children's toys")) == ["child", "be", "toy"]
    assert normalize(tokenize("Children's toys"), possessives=True) == ["child", "'s", "toy"]
    assert normalize(tokenize("It's the film's end, and that's it"), possessives=True) == \
        ["it", "be", "the", "film", "'s", "end", ",", "and", "that", "be", "it"]
    # SST-2 style, already lower-cased and split
    assert normalize(["there", "'s", "nothing", "in", "the", "movie", "'s", "plot"],
                     possessives=True) == \
        ["there", "be", "nothing", "in", "the", "movie", "'s", "plot"]
    assert normalize(["'s"], possessives=True) == ["'s"]   # no word before: the possessive
    assert normalize(["He", "'s"], lemmatize=False, possessives=True) == ["he", "'s"]
    # The lecture's example reads the same either way.
    toks = tokenize("He's spending 7 days in San Francisco.", mwes=["San Francisco"])
    assert normalize(toks, possessives=True) == normalize(toks) == \
        ["he", "be", "spend", "NUMBER", "day", "in", "San Francisco", "."]


def test_normalize_switches_are_independent():
    toks = ["Cats", "42", "were", "NASA"]
    assert normalize(toks, lower=False, numbers=False, lemmatize=False) == toks
    assert normalize(toks, numbers=False, lemmatize=False) == ["cats", "42", "were", "nasa"]
    assert normalize(toks, lower=False) == ["Cat", "NUMBER", "be", "NASA"]


def test_normalize_keeps_listed_expressions_and_joined_ones_cased():
    assert normalize(["Macy's", "Big Apple"], mwes=["Macy's"]) == ["Macy's", "Big Apple"]


def test_normalize_rejects_an_untokenized_string():
    with pytest.raises(TypeError, match="tokenize it first"):
        normalize("He's here")


# ---------------------------------------------------------------- Vocabulary

def test_vocabulary_orders_by_frequency_then_first_occurrence():
    v = Vocabulary.build([["b", "a", "b"], ["c", "a", "b", "d"]])
    assert v.itos == ["<unk>", "b", "a", "c", "d"]
    assert v.stoi == {t: i for i, t in enumerate(v.itos)}


def test_vocabulary_min_freq_and_max_size_cut_rare_words():
    sents = [["b", "a", "b"], ["c", "b", "a", "d"]]
    assert Vocabulary.build(sents, min_freq=2).itos == ["<unk>", "b", "a"]
    assert Vocabulary.build(sents, max_size=3).itos == ["<unk>", "b", "a"]   # specials count
    assert Vocabulary.build("abcabca", max_size=2).itos == ["<unk>", "a"]     # a str stream


def test_encode_maps_oov_to_unk_and_decode_inverts():
    v = Vocabulary.build([["a", "b", "a"]])
    ids = v.encode(["a", "zzz", "b"])
    assert ids == [1, 0, 2] and v.unk_id == 0 and v["zzz"] == 0
    assert v.decode(ids) == ["a", "<unk>", "b"]
    assert v.decode(np.array([2, 1])) == ["b", "a"] and v.decode(tl.tensor([1])) == ["a"]
    assert "a" in v and "zzz" not in v and len(v) == 3


def test_specials_come_first_in_order_with_an_optional_pad():
    v = Vocabulary.build([["x", "y", "x"]], specials=("<pad>", "<unk>"))
    assert v.itos[:2] == ["<pad>", "<unk>"] and v.pad_id == 0 and v.unk_id == 1
    w = Vocabulary.build([["x"]], specials=("<pad>",))      # the OOV token is added first
    assert w.itos == ["<unk>", "<pad>", "x"] and Vocabulary.build([["x"]]).pad_id is None


def test_vocabulary_without_oov_token_raises_for_unknown_tokens():
    v = Vocabulary.build([["a"]], specials=(), unk=None)
    assert v.encode(["a"]) == [0]
    with pytest.raises(KeyError, match="'b' is not in the vocabulary"):
        v.encode(["b"])


def test_encode_reads_an_iterator_once_and_names_the_missing_token():
    v = Vocabulary.build([["a", "b"]], specials=(), unk=None)
    assert v.encode(iter(["b", "a"])) == [1, 0]
    with pytest.raises(KeyError, match="'zzz' is not in the vocabulary"):
        v.encode(iter(["a", "zzz"]))
    with_unk = Vocabulary.build([["a"]])
    assert with_unk.encode(t for t in ["a", "zzz", "a"]) == [1, 0, 1]


@pytest.mark.parametrize("max_size", [2.5, "3", True])
def test_max_size_must_be_an_int(max_size):
    with pytest.raises(TypeError, match=r"max_size must be an int or None, got "):
        Vocabulary.build([["a", "b"]], max_size=max_size)


def test_vocabulary_save_load_round_trip(tmp_path):
    v = Vocabulary.build([["héllo", "x", "x"]], specials=("<pad>", "<unk>"))
    path = tmp_path / "v.json"
    v.save(str(path))
    w = Vocabulary.load(str(path))
    assert w == v and w.unk_id == 1 and json.loads(path.read_text())["itos"][2] == "x"


def test_vocabulary_errors_are_clear(tmp_path):
    v = Vocabulary.build([["a"]])
    with pytest.raises(TypeError, match="tokenize it first"):
        v.encode("a b")
    with pytest.raises(TypeError, match="tokens must be str"):
        v.encode(["a", 3])
    with pytest.raises(IndexError, match="id 5 is out of range"):
        v.decode([5])
    with pytest.raises(TypeError, match="integers"):
        v.decode([1.5])
    with pytest.raises(ValueError, match="min_freq"):
        Vocabulary.build([["a"]], min_freq=0)
    with pytest.raises(ValueError, match="max_size 1 is smaller"):
        Vocabulary.build([["a"]], max_size=1, specials=("<pad>", "<unk>"))
    with pytest.raises(ValueError, match="unique"):
        Vocabulary(["<unk>", "a", "a"])
    (tmp_path / "bad.json").write_text('{"hello": 1}')
    with pytest.raises(ValueError, match="not a saved Vocabulary"):
        Vocabulary.load(str(tmp_path / "bad.json"))


# ---------------------------------------------------------------- one-hot

def test_one_hot_vectors_of_ids():
    np.testing.assert_array_equal(one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    out = one_hot(np.array([[1], [0]]), 2)
    assert out.shape == (2, 1, 2) and out.dtype == np.float32
    assert one_hot([3, 1]).shape == (2, 4)                  # num_classes = max + 1


def test_one_hot_of_a_tensor_is_a_tensor_and_the_vocabulary_has_one():
    t = one_hot(tl.tensor([1, 2]), 3)
    assert isinstance(t, tl.Tensor) and t.dtype == tl.float32 and t.tolist()[1] == [0, 0, 1]
    v = Vocabulary.build([["a", "b"]])
    np.testing.assert_array_equal(v.one_hot(v.encode(["b"])), [[0, 0, 1]])


def test_one_hot_errors():
    with pytest.raises(IndexError, match="id 3 is out of range"):
        one_hot([3], 3)
    with pytest.raises(TypeError, match="integers"):
        one_hot([0.5], 3)
    with pytest.raises(ValueError, match="num_classes"):
        one_hot([0], 0)
