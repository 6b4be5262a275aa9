"""text.vocab: the regex tokenizer and the Vocabulary (counts, limits, specials, padding,
decode, JSON round trip, errors)."""
import json

import numpy as np
import pytest

from glassnet.errors import ArgumentError, ArgumentTypeError, DataFileError
from glassnet.text import Tokenizer, Vocabulary, tokenize


def test_tokenizer_splits_words_and_punctuation_and_lowercases():
    assert tokenize("Nay, I'll go -- now!") == ["Nay", ",", "I'll", "go", "-", "-", "now", "!"]
    assert Tokenizer(lower=True)("ROMEO: O, Juliet.") == ["romeo", ":", "o", ",", "juliet", "."]
    assert Tokenizer(pattern=r"\S+")("a,b c") == ["a,b", "c"]
    assert Tokenizer().tokenize_lines("a b\n\n c .\n") == [["a", "b"], ["c", "."]]
    with pytest.raises(ArgumentError, match="pattern"):
        Tokenizer(pattern="(")
    with pytest.raises(ArgumentTypeError, match="str"):
        Tokenizer()(["a"])


def test_build_orders_by_count_and_applies_min_count_and_max_size():
    corpus = ["b a c a b a", "d c a"]
    v = Vocabulary.build(corpus)
    assert v.itos == ["<pad>", "<unk>", "a", "b", "c", "d"]   # a:4, b:2, c:2 (b first seen), d:1
    assert v.pad_id == 0 and v.unk_id == 1 and v.counts["a"] == 4
    assert Vocabulary.build(corpus, min_count=2).itos == ["<pad>", "<unk>", "a", "b", "c"]
    assert Vocabulary.build(corpus, max_size=4).itos == ["<pad>", "<unk>", "a", "b"]
    w = Vocabulary.build([["x", "y", "y"]], specials=("<bos>", "<eos>"), pad_token=None)
    assert w.itos == ["<unk>", "<bos>", "<eos>", "y", "x"] and w.pad_id is None
    assert Vocabulary.build(["A a"], lower=True).itos == ["<pad>", "<unk>", "a"]
    with pytest.raises(ArgumentError, match="max_size"):
        Vocabulary.build(corpus, max_size=1)
    with pytest.raises(ArgumentError, match="min_count"):
        Vocabulary.build(corpus, min_count=0)
    with pytest.raises(ArgumentTypeError, match="not one str"):
        Vocabulary.build("a b c")
    with pytest.raises(ArgumentError, match="twice"):
        Vocabulary(["a", "a"])


def test_encode_unknown_bos_eos_and_no_unknown_token():
    v = Vocabulary.build(["the cat sat"], specials=("<bos>", "<eos>"))
    assert v.encode("the dog sat") == [v["the"], v.unk_id, v["sat"]]
    assert v.encode(["the"], bos="<bos>", eos="<eos>") == [v["<bos>"], v["the"], v["<eos>"]]
    with pytest.raises(ArgumentError, match="bos"):
        v.encode("the", bos="<s>")
    strict = Vocabulary(["a"], unk_token=None)
    with pytest.raises(KeyError, match="no unknown token"):
        strict.encode("b")


def test_batches_pad_with_zero_and_decode_back():
    v = Vocabulary.build(["a b c d e"])
    ids, lengths = v.encode_batch(["a b c", "d", "e a"])
    assert ids.dtype == np.int64 and ids.shape == (3, 3)
    assert ids.numpy().tolist() == [[2, 3, 4], [5, 0, 0], [6, 2, 0]]
    assert lengths.numpy().tolist() == [3, 1, 2]
    assert v.decode_batch(ids, lengths) == [["a", "b", "c"], ["d"], ["e", "a"]]
    assert v.decode_batch(ids) == [["a", "b", "c"], ["d"], ["e", "a"]]   # pads dropped
    cut, n = v.encode_batch(["a b c", "d"], max_len=2)
    assert cut.numpy().tolist() == [[2, 3], [5, 0]] and n.numpy().tolist() == [2, 1]
    empty, n0 = v.pad([[], [2]])
    assert empty.numpy().tolist() == [[0], [2]] and n0.numpy().tolist() == [0, 1]
    assert v.decode([v.unk_id, 2], skip_special=True) == ["a"]
    with pytest.raises(ArgumentError, match="ids must be in"):
        v.decode([99])


def test_json_round_trip_keeps_everything(tmp_path):
    v = Vocabulary.build(["Sweet, sweet Ophelia"], lower=True, specials=("<bos>",))
    path = tmp_path / "vocab.json"
    v.save(path)
    data = json.loads(path.read_text())
    assert data["format"] == "glassnet.Vocabulary" and data["tokens"][0] == "sweet"
    back = Vocabulary.load(path)
    assert back == v and back.itos == v.itos and back.counts == v.counts
    assert back.tokenizer.lower and back.encode("SWEET ophelia") == v.encode("sweet ophelia")
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    with pytest.raises(DataFileError, match="not a glassnet vocabulary"):
        Vocabulary.load(tmp_path / "bad.json")
