"""EchoStateNetwork: spectral radius scaling, the echo state property, the readout as ridge
regression, sine and Mackey-Glass prediction."""
import numpy as np
import pytest

from glassnet.models.classic import EchoStateNetwork, mackey_glass, nrmse


def test_spectral_radius_is_scaled_exactly():
    esn = EchoStateNetwork(1, 80, spectral_radius=0.7, seed=0)
    assert np.abs(np.linalg.eigvals(esn.weight)).max() == pytest.approx(0.7, rel=1e-10)


def test_echo_state_property_forgets_the_initial_state():
    esn = EchoStateNetwork(1, 100, spectral_radius=0.8, seed=1)
    u = np.sin(np.arange(200) * 0.3)[:, None]
    a = esn.states(u, x0=np.zeros(100))
    b = esn.states(u, x0=np.random.default_rng(0).uniform(-1, 1, 100))
    assert np.abs(a[0] - b[0]).max() > 0.1
    assert np.abs(a[-1] - b[-1]).max() < 1e-6


def test_readout_is_ridge_regression_on_the_states():
    rng = np.random.default_rng(2)
    U, Y = rng.normal(size=(150, 2)), rng.normal(size=(150, 1))
    esn = EchoStateNetwork(2, 30, n_outputs=1, ridge=0.1, washout=20, seed=0).fit(U, Y)
    X = esn.states(U, np.zeros(30))
    D = np.hstack([np.ones((150, 1)), U, X])[20:]
    want = np.linalg.solve(D.T @ D + 0.1 * np.eye(D.shape[1]), D.T @ Y[20:])
    np.testing.assert_allclose(esn.output_weight, want, rtol=1e-7, atol=1e-10)


def test_nrmse_by_hand():
    assert nrmse([1.0, 2.0, 3.0], [1.0, 2.0, 4.0]) == pytest.approx(np.sqrt(1 / 3) /
                                                                   np.std([1, 2, 4]))


def test_sine_one_step_prediction():
    u = np.sin(np.arange(600) * 0.2)[:, None]
    esn = EchoStateNetwork(1, 100, seed=0).fit(u[:-1], u[1:])
    assert nrmse(esn.predict(u[:-1])[100:], u[1:][100:]) < 1e-3


def test_mackey_glass_prediction():
    s = mackey_glass(1500)[:, None]
    assert 0.2 < s.min() < s.max() < 1.5           # the attractor's usual range
    tr = 1000
    esn = EchoStateNetwork(1, 200, spectral_radius=1.2, leak=0.3, input_scale=1.0,
                           ridge=1e-7, seed=0).fit(s[:tr - 1], s[1:tr])
    one_step = esn.predict(s[:-1])[tr:]
    assert nrmse(one_step, s[1:][tr:]) < 0.01
    esn.predict(s[:tr])                           # the state after the training part
    free = esn.generate(50, s[tr])                # then 50 steps on its own
    assert nrmse(free, s[tr + 1:tr + 51]) < 0.2


def test_errors():
    with pytest.raises(ValueError, match="longer than the washout"):
        EchoStateNetwork(1, 10, density=0.5, washout=50).fit(np.zeros((20, 1)), np.zeros((20, 1)))
    with pytest.raises(RuntimeError, match="call fit"):
        EchoStateNetwork(1, 10, density=0.5).predict(np.zeros((5, 1)))
