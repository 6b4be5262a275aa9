"""HopfieldNetwork: Hebbian weights by hand, recall of noisy patterns, energy descent under
asynchronous updates, the cross-talk error rate against its Gaussian closed form."""
import numpy as np
import pytest

from glassnet.models.classic import HopfieldNetwork, hebbian_error_rate, random_patterns


def test_hebbian_weights_by_hand():
    xi = np.array([[1, -1, 1], [1, 1, -1]])
    W = HopfieldNetwork(3).store(xi).weight
    # w_ij = (1/N) sum_p xi_pi xi_pj, zero diagonal
    np.testing.assert_allclose(W, np.array([[0, 0, 0], [0, 0, -2], [0, -2, 0]]) / 3)
    assert HopfieldNetwork(3).store(xi).energy(xi[:1]).item() == pytest.approx(-0.5 * 4 / 3)


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_recalls_noisy_random_patterns(mode):
    N, P = 200, 10                       # P / N = 0.05, well below 0.138
    X = random_patterns(P, N, seed=0)
    net = HopfieldNetwork(N).store(X)
    rng = np.random.default_rng(1)
    noisy = X * np.where(rng.random(X.shape) < 0.15, -1, 1)   # 15 % of the bits flipped
    out, sweeps = net.recall(noisy, mode=mode, seed=0)
    np.testing.assert_array_equal(out, X)
    assert sweeps < 10


def test_energy_never_increases_asynchronously():
    N = 64
    X = random_patterns(12, N, seed=2)
    net = HopfieldNetwork(N).store(X)
    start = random_patterns(20, N, seed=3)
    _, _, E = net.recall(start, mode="async", seed=0, record_energy=True)
    assert np.all(np.diff(E, axis=0) <= 1e-12)
    assert np.all(E[-1] < E[0])


def test_crosstalk_error_rate_matches_closed_form():
    N, P = 400, 100                       # the starting bit-error rate of one sync step
    X = random_patterns(P, N, seed=4)
    net = HopfieldNetwork(N).store(X)
    measured = (net.step(X) != X).mean()
    theory = hebbian_error_rate(P, N)     # Phi(-sqrt(400 / 99)) = Phi(-2.010) = 0.0222
    assert theory == pytest.approx(0.0222, abs=1e-4)
    assert measured == pytest.approx(theory, rel=0.15)


def test_capacity_breaks_near_0138_n():
    N = 300
    below = random_patterns(int(0.07 * N), N, seed=5)
    above = random_patterns(int(0.25 * N), N, seed=6)
    m_below = np.diag(HopfieldNetwork(N).store(below).overlap(
        HopfieldNetwork(N).store(below).recall(below, seed=0)[0], below)).mean()
    net = HopfieldNetwork(N).store(above)
    m_above = np.diag(net.overlap(net.recall(above, seed=0)[0], above)).mean()
    assert m_below > 0.99 and m_above < 0.9


def test_projection_rule_stores_correlated_patterns():
    rng = np.random.default_rng(7)
    base = random_patterns(1, 100, seed=8)
    X = np.where(rng.random((8, 100)) < 0.15, -base, base)   # 8 patterns, ~70 % alike
    heb, _ = HopfieldNetwork(100).store(X).recall(X, seed=0)
    proj, _ = HopfieldNetwork(100).store(X, rule="projection").recall(X, seed=0)
    assert not np.array_equal(heb, X)          # Hebb merges them
    np.testing.assert_array_equal(proj, X)     # the pseudo-inverse rule keeps every one


def test_errors():
    with pytest.raises(ValueError, match="bipolar"):
        HopfieldNetwork(3).store(np.array([[0, 1, 1]]))
    with pytest.raises(ValueError, match=r"shape \(P, 3\)"):
        HopfieldNetwork(3).recall(np.ones((2, 4)))
