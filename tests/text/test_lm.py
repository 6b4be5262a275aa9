"""text.lm: word-level language models (LSTM and causal Transformer): log_prob equals the
explicit product of softmax probabilities, perplexity, causality, learning the word order
of a synthetic grammar, and the deck's example after a short Tiny Shakespeare run."""
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import ArgumentError
from glassnet.text import Tokenizer, Vocabulary, WordLSTMLM, WordTransformerLM

pytestmark = pytest.mark.usefixtures("one_blas_thread")

SPECIALS = ("<bos>", "<eos>")


def _vocab():
    return Vocabulary.build(["the cat is small", "a dog is big"], specials=SPECIALS)


def _models(v):
    return [WordLSTMLM(v, embedding_dim=6, hidden_size=7),
            WordTransformerLM(v, d_model=8, nhead=2, num_layers=2, context=6)]


@pytest.mark.parametrize("which", [0, 1])
def test_log_prob_is_the_log_of_the_product_of_softmax_probabilities(which):
    v = _vocab()
    lm = _models(v)[which]
    ids = [v["<bos>"], v["the"], v["cat"], v["is"], v["small"], v["<eos>"]]
    z = lm(np.array([ids[:-1]])).numpy().astype(np.float64)[0]        # (5, V)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    product = np.prod([p[t, ids[t + 1]] for t in range(5)])
    assert lm.log_prob("the cat is small") == pytest.approx(math.log(product), rel=1e-5)
    assert lm.log_prob(["the", "cat", "is", "small"]) == lm.log_prob("the cat is small")
    # a batch with padding gives each sentence's own value
    batch = lm.log_probs(["the cat is small", "a dog", "is"])
    assert batch[0] == pytest.approx(math.log(product), rel=1e-5)
    assert batch[1] == pytest.approx(lm.log_prob("a dog"), rel=1e-5)
    assert batch[2] == pytest.approx(lm.log_prob("is"), rel=1e-5)
    # perplexity: exp(-total log p / predicted tokens) with <eos> counted
    ppl = lm.perplexity("the cat is small\n\na dog\n")
    total = lm.log_prob("the cat is small") + lm.log_prob("a dog")
    assert ppl == pytest.approx(math.exp(-total / (5 + 3)), rel=1e-5)


def test_transformer_position_sees_only_the_past():
    v = _vocab()
    lm = _models(v)[1]
    full = lm(np.array([[2, 4, 5, 6, 7]])).numpy()
    prefix = lm(np.array([[2, 4, 5]])).numpy()
    np.testing.assert_allclose(full[0, :3], prefix[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ArgumentError, match="context"):
        lm.log_prob("the cat is small the cat is small")


def test_vocabulary_without_markers_is_refused():
    with pytest.raises(ArgumentError, match="<bos>"):
        WordLSTMLM(Vocabulary.build(["a b"]))


GRAMMAR = [f"{d} {n} is {a}" for d in ("the", "a", "one") for n in ("cat", "dog", "bird")
           for a in ("small", "big", "old")]


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_learns_the_word_order_of_a_small_grammar(kind):
    gn.manual_seed(0)
    v = Vocabulary.build(GRAMMAR, specials=SPECIALS)
    lm = (WordLSTMLM(v, 16, 32) if kind == "lstm"
          else WordTransformerLM(v, d_model=32, nhead=2, num_layers=1, context=8))
    before = lm.perplexity(GRAMMAR)
    hist = lm.fit(GRAMMAR, steps=150, batch_size=16, lr=1e-2, validation=GRAMMAR[:5])
    after = lm.perplexity(GRAMMAR)
    # uniform over 3 choices at 3 of 5 predictions, certain at "is" and <eos>: 3^(3/5) = 1.93
    assert after < 2.3 < 8 < before
    assert hist["val_perplexity"][-1] < 2.5
    assert lm.log_prob("the cat is small") > lm.log_prob("small the cat is") + 5
    assert lm.log_prob("the cat is small") > lm.log_prob("the cat small is") + 5


@pytest.mark.integration
def test_tiny_shakespeare_prefers_the_deck_word_order(data_dir):
    from glassnet.data import load_text
    lines = [ln for ln in load_text(data_dir / "tinyshakespeare" / "input.txt").splitlines()
             if ln.strip()]
    train, held = lines[:-3000], lines[-3000:]
    v = Vocabulary.build(train, min_count=5, tokenizer=Tokenizer(lower=True), specials=SPECIALS)
    gn.manual_seed(0)
    lm = WordTransformerLM(v, d_model=64, nhead=4, num_layers=1, context=48)
    lm.fit(train, steps=300, batch_size=64, lr=3e-3)
    assert lm.log_prob("the cat is small") > lm.log_prob("small the cat is")
    rng = np.random.default_rng(0)
    held = [s for s in held[:300] if len(set(v.tokenizer(s))) > 2]
    shuffled = [" ".join(rng.permutation(v.tokenizer(s))) for s in held]
    assert np.mean(lm.log_probs(held) > lm.log_probs(shuffled)) > 0.7
    assert lm.perplexity(held) < 400
