"""The lecture's text pipeline."""
import numpy as np
import pytest

from tensorlite.data import Vocabulary, lemmatize, normalize, one_hot, tokenize


def test_lecture_example_tokenizes_and_normalizes():
    toks = tokenize("He's spending 7 days in San Francisco.", mwes=["San Francisco"])
    assert toks == ["He", "'s", "spending", "7", "days", "in", "San Francisco", "."]
    assert normalize(toks) == ["he", "be", "spend", "NUMBER", "day", "in", "San Francisco", "."]


def test_clitics_numbers_and_punctuation_are_tokens():
    assert tokenize("I don't know, it's 3.5 km!") == [
        "I", "do", "n't", "know", ",", "it", "'s", "3.5", "km", "!"]
    assert tokenize("They'll go; we've 1,000 left.") == [
        "They", "'ll", "go", ";", "we", "'ve", "1,000", "left", "."]


def test_longest_multi_word_expression_wins():
    toks = tokenize("New York City is not New Jersey", mwes=["New York", "New York City"])
    assert toks[0] == "New York City" and toks[-2:] == ["New", "Jersey"]


@pytest.mark.parametrize("word, lemma", [
    ("was", "be"), ("has", "have"), ("children", "child"), ("went", "go"), ("stories", "story"),
    ("boxes", "box"), ("cats", "cat"), ("running", "run"), ("making", "make"),
    ("stopped", "stop"), ("liked", "like"), ("played", "play"), ("this", "this"),
    ("always", "always"), ("news", "news"), ("thing", "thing"),
])
def test_lemmatiser_rules_and_exceptions(word, lemma):
    assert lemmatize(word) == lemma


def test_normalize_can_keep_case_and_numbers():
    assert normalize(["Cats", "42"], lower=False, numbers=False, lemmas=False) == ["Cats", "42"]


def test_vocabulary_orders_by_frequency_and_maps_oov_to_unk():
    v = Vocabulary.build([["b", "a", "b"], ["c", "b", "a", "d"]], min_freq=2)
    assert v.itos == ["<unk>", "b", "a"]
    assert v.encode(["a", "zzz", "b"]) == [2, 0, 1]
    assert v.decode([1, 2]) == ["b", "a"]
    assert "a" in v and "c" not in v and len(v) == 3
    assert Vocabulary.build("abcabc", max_size=2).itos == ["<unk>", "a"]


def test_vocabulary_save_load_round_trip(tmp_path):
    v = Vocabulary.build(["x", "y", "x"], specials=("<pad>", "<unk>"))
    v.save(str(tmp_path / "v.json"))
    w = Vocabulary.load(str(tmp_path / "v.json"))
    assert w.itos == v.itos and w.unk_id == 1


def test_vocabulary_errors():
    v = Vocabulary.build(["a"])
    with pytest.raises(TypeError, match="tokenize it first"):
        v.encode("a b")
    with pytest.raises(IndexError, match="out of range"):
        v.decode([5])


def test_one_hot_vectors():
    np.testing.assert_array_equal(one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(IndexError):
        one_hot([3], 3)
