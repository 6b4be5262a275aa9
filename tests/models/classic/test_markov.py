"""MarkovChain: counts and stationary distribution by hand, recovery of a known chain,
Tiny Shakespeare characters."""
import numpy as np
import pytest

from glassnet.models.classic import MarkovChain


def test_counts_and_probabilities_by_hand():
    mc = MarkovChain().fit("aab")
    # transitions a->a, a->b; b has none (last symbol): its row stays uniform
    np.testing.assert_array_equal(mc.counts_, [[1, 1], [0, 0]])
    np.testing.assert_allclose(mc.transition_matrix_, [[0.5, 0.5], [0.5, 0.5]])
    smooth = MarkovChain(alpha=1.0).fit("aab")
    np.testing.assert_allclose(smooth.transition_matrix_[0], [2 / 4, 2 / 4])
    assert mc.log_likelihood("aab") == pytest.approx(2 * np.log(0.5))
    assert mc.perplexity("aab") == pytest.approx(2.0)
    np.testing.assert_array_equal(mc.encode("baa"), [1, 0, 0])


def test_two_state_stationary_closed_form():
    a, b = 0.3, 0.1                      # P = [[1-a, a], [b, 1-b]] -> pi = (b, a) / (a + b)
    mc = MarkovChain()
    mc.states_ = [0, 1]
    mc.transition_matrix_ = np.array([[1 - a, a], [b, 1 - b]])
    np.testing.assert_allclose(mc.stationary_distribution(), [0.25, 0.75], rtol=1e-12)


def test_recovers_a_known_chain_from_its_samples():
    P = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.3, 0.3, 0.4]])
    truth = MarkovChain()
    truth.states_, truth.transition_matrix_ = [0, 1, 2], P
    truth.initial_ = np.full(3, 1 / 3)
    seq = truth.sample(60000, seed=0)
    est = MarkovChain().fit(seq)
    np.testing.assert_allclose(est.transition_matrix_, P, atol=0.015)
    np.testing.assert_allclose(np.bincount(seq) / len(seq), truth.stationary_distribution(),
                               atol=0.01)


def test_tinyshakespeare(data_dir):
    from glassnet.data import load_text
    text = load_text(data_dir / "tinyshakespeare" / "input.txt")
    n = int(0.9 * len(text))
    mc = MarkovChain(alpha=0.01).fit(text[:n])
    assert len(mc.states_) == 65
    ppl = mc.perplexity(text[n:])
    assert 10 < ppl < 14                 # a bigram model: far better than 65, far from 1
    # the chain's stationary distribution is the symbol frequency of a long sequence
    np.testing.assert_allclose(mc.stationary_distribution(), mc.initial_, atol=1e-4)
    sample = mc.sample(300, start="T", seed=0)
    assert len(sample) == 300 and sample[0] == "T"


def test_errors():
    with pytest.raises(ValueError, match="at least 2 symbols"):
        MarkovChain().fit("a")
    with pytest.raises(ValueError, match="not in the training"):
        MarkovChain().fit("abab").log_likelihood("abz")
