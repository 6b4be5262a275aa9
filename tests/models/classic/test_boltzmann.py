"""BoltzmannMachine: energies by hand, the Gibbs sampler against exact enumeration, the
learning rule against finite differences of the exact log-likelihood, and learning
bars-and-stripes exactly and by sampling."""
import numpy as np
import pytest

from glassnet.models.classic import BoltzmannMachine, all_states, bars_and_stripes


def test_states_and_patterns():
    np.testing.assert_array_equal(all_states(2), [[0, 0], [0, 1], [1, 0], [1, 1]])
    bs = bars_and_stripes(2)
    assert len(bs) == 2 ** 3 - 2 == 6
    assert len(bars_and_stripes(3)) == 14


def test_energy_and_partition_by_hand():
    bm = BoltzmannMachine(2, 0)
    bm.weight[...] = [[0, 1.0], [1.0, 0]]
    bm.bias[...] = [-0.5, 0.25]
    # E(00) = 0, E(01) = -0.25, E(10) = 0.5, E(11) = -1 + 0.5 - 0.25 = -0.75
    np.testing.assert_allclose(bm.energy(all_states(2)), [0, -0.25, 0.5, -0.75])
    Z = 1 + np.exp(0.25) + np.exp(-0.5) + np.exp(0.75)
    assert bm.log_partition() == pytest.approx(np.log(Z))
    np.testing.assert_allclose(bm.distribution(),
                               np.exp([0, 0.25, -0.5, 0.75]) / Z)


def test_gibbs_sampler_reaches_the_exact_distribution():
    bm = BoltzmannMachine(3, 2, weight_std=1.0, seed=1)
    bm.bias[:] = np.random.default_rng(0).normal(size=5)
    S = bm.gibbs(np.zeros((20000, 5)), sweeps=30)
    codes = (S @ (2 ** np.arange(4, -1, -1))).astype(int)
    empirical = np.bincount(codes, minlength=32) / len(S)
    assert 0.5 * np.abs(empirical - bm.distribution()).sum() < 0.03   # total variation


def test_learning_rule_is_the_exact_gradient():
    """<s_i s_j>_data - <s_i s_j>_model = d mean log P(v) / d w_ij (w_ij = w_ji moved
    together, which changes E by -s_i s_j)."""
    bm = BoltzmannMachine(3, 2, weight_std=0.7, seed=3)
    bm.bias[:] = np.random.default_rng(1).normal(size=5) * 0.5
    V = np.array([[1, 0, 1], [1, 1, 0], [0, 0, 1], [1, 0, 1]], float)
    pos, pos_m = bm._exact_positive(V)
    neg, neg_m = bm._exact_negative()
    eps = 1e-5
    for i, j in [(0, 1), (0, 3), (2, 4), (3, 4)]:
        W0 = bm.weight.copy()
        bm.weight[i, j] = bm.weight[j, i] = W0[i, j] + eps
        up = bm.log_likelihood(V)
        bm.weight[i, j] = bm.weight[j, i] = W0[i, j] - eps
        down = bm.log_likelihood(V)
        bm.weight[...] = W0
        assert (up - down) / (2 * eps) == pytest.approx(pos[i, j] - neg[i, j], abs=1e-7)
    b0 = bm.bias.copy()
    bm.bias[4] += eps
    up = bm.log_likelihood(V)
    bm.bias[4] -= 2 * eps
    down = bm.log_likelihood(V)
    bm.bias[...] = b0
    assert (up - down) / (2 * eps) == pytest.approx(pos_m[4] - neg_m[4], abs=1e-7)


def test_exact_learning_of_bars_and_stripes():
    data = bars_and_stripes(2)
    bm = BoltzmannMachine(4, 2, seed=0).fit(data, epochs=500, lr=1.0, method="exact",
                                            track_kl=True)
    assert bm.history_[0] > 0.5 and bm.history_[-1] < 0.1
    # the 6 patterns now hold most of the probability (10 of 16 vectors are not patterns)
    codes = (data @ [8, 4, 2, 1]).astype(int)
    assert bm.visible_distribution()[codes].sum() > 0.9


def test_sampled_learning_lowers_the_kl():
    data = bars_and_stripes(2)
    bm = BoltzmannMachine(4, 2, seed=0)
    before = bm.kl_from(data)
    bm.fit(data, epochs=300, lr=0.2, method="gibbs", n_chains=200, sweeps=2)
    assert bm.kl_from(data) < 0.5 * before


def test_errors():
    with pytest.raises(ValueError, match="binary"):
        BoltzmannMachine(2, 1).energy(np.array([[0.5, 1, 0]]))
    with pytest.raises(ValueError, match="n_visible \\+ n_hidden <= 20"):
        BoltzmannMachine(20, 5).log_partition()
