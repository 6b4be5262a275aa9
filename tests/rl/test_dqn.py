"""DQNAgent: TD targets against a hand computation, target-network updates, the Huber
update, graph-free action selection, and the save/load round trip."""
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.errors import ArgumentError, ArgumentTypeError, ModelFileError
from glassnet.rl import DQNAgent, ExponentialEpsilon, Transitions


def linear_agent(double, gamma=0.9, **kw):
    """Q(s) = W s with W = I (online); the target network's W = diag(5, 1)."""
    q = nn.Linear(2, 2, bias=False)
    q.weight._data[...] = np.eye(2, dtype=np.float32)
    agent = DQNAgent(2, 2, q_network=q, gamma=gamma, double=double, **kw)
    agent.target_network.weight._data[...] = np.diag([5.0, 1.0]).astype(np.float32)
    return agent


NEXT = np.array([[1, 2], [3, 1], [1, 2]], np.float32)
REWARDS = np.array([1.0, -1.0, 0.5], np.float32)
TERMINATED = np.array([0, 0, 1], np.float32)


def test_td_target_dqn_by_hand():
    # target Q(s') rows: [5, 2], [15, 1], [5, 2]; max: 5, 15, (terminal)
    y = linear_agent(double=False).td_target(REWARDS, NEXT, TERMINATED)
    np.testing.assert_allclose(y, [1 + 0.9 * 5, -1 + 0.9 * 15, 0.5], rtol=1e-6)
    assert y.dtype == np.float32 and y.shape == (3,)


def test_td_target_double_dqn_by_hand():
    # online Q(s') = s' picks actions 1, 0; the target network values them: 2, 15
    y = linear_agent(double=True).td_target(REWARDS, NEXT, TERMINATED)
    np.testing.assert_allclose(y, [1 + 0.9 * 2, -1 + 0.9 * 15, 0.5], rtol=1e-6)


def huber(d):
    a = np.abs(d)
    return np.where(a < 1, 0.5 * d * d, a - 0.5)


def test_update_is_huber_on_the_taken_action_and_adam_steps_by_the_gradient_sign():
    agent = linear_agent(double=False, lr=0.01, max_grad_norm=None, target_update=1000)
    obs = np.array([[0.5, 0.0], [0.0, 2.0], [1.0, 1.0]], np.float32)
    actions = np.array([0, 1, 0])
    batch = Transitions(obs, actions, REWARDS, NEXT, TERMINATED)
    y = np.array([5.5, 12.5, 0.5])
    q_taken = obs[np.arange(3), actions]                    # W = I: Q(s, a) = s[a]
    d = q_taken - y                                         # -5, -10.5, 0.5
    loss = agent.update(batch)
    assert loss == pytest.approx(huber(d).mean(), rel=1e-6)
    # dL/dW[a_i] += huber'(d_i) s_i / N; Adam's first step is -lr * sign(grad)
    grad = np.zeros((2, 2))
    for i in range(3):
        grad[actions[i]] += np.clip(d[i], -1, 1) * obs[i] / 3
    expected = np.eye(2) - 0.01 * np.sign(grad)
    np.testing.assert_allclose(agent.q_network.weight._data, expected, atol=1e-6)
    # the target network did not move (target_update=1000)
    np.testing.assert_array_equal(agent.target_network.weight._data, np.diag([5.0, 1.0]))
    assert agent.updates == 1


def batch_for(agent, n=16, seed=0):
    r = np.random.default_rng(seed)
    return Transitions(r.standard_normal((n, agent.obs_dim)).astype(np.float32),
                       r.integers(0, agent.n_actions, n), r.standard_normal(n).astype(np.float32),
                       r.standard_normal((n, agent.obs_dim)).astype(np.float32),
                       (r.random(n) < 0.2).astype(np.float32))


def weights(module):
    return [p._data.copy() for p in module.parameters()]


def test_hard_target_update_every_n_updates():
    agent = DQNAgent(4, 2, hidden=(8,), target_update=3, seed=0)
    start = weights(agent.target_network)
    for a, b in zip(start, weights(agent.q_network)):
        np.testing.assert_array_equal(a, b)      # the target starts as a copy
    agent.update(batch_for(agent, seed=1))
    agent.update(batch_for(agent, seed=2))
    for a, b in zip(weights(agent.target_network), start):
        np.testing.assert_array_equal(a, b)      # untouched before the third update
    online_moved = any(not np.array_equal(a, b) for a, b in zip(weights(agent.q_network), start))
    assert online_moved
    agent.update(batch_for(agent, seed=3))
    for a, b in zip(weights(agent.target_network), weights(agent.q_network)):
        np.testing.assert_array_equal(a, b)      # copied at the third
    assert all(not p.requires_grad for p in agent.target_network.parameters())


def test_polyak_target_update():
    agent = DQNAgent(4, 2, hidden=(8,), target_update=1, tau=0.1, seed=0)
    for p in agent.target_network.parameters():
        p._data[...] = 0.5
    before = weights(agent.target_network)
    agent.update(batch_for(agent))
    for t, t0, q in zip(weights(agent.target_network), before, weights(agent.q_network)):
        np.testing.assert_allclose(t, 0.1 * q + 0.9 * t0, rtol=1e-6, atol=1e-7)
    agent.update_target(1.0)
    for t, q in zip(weights(agent.target_network), weights(agent.q_network)):
        np.testing.assert_array_equal(t, q)


class GradRecorder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.seen = []

    def forward(self, x):
        self.seen.append(gn.is_grad_enabled())
        return self.lin(x)


def test_action_selection_records_no_graph():
    q = GradRecorder()
    agent = DQNAgent(3, 2, q_network=q, seed=0)
    q.seen.clear()
    a = agent.act(np.ones(3, np.float32))
    assert a in (0, 1) and q.seen == [False]
    assert agent.q_values(np.ones(3)).shape == (2,)
    assert agent.q_values(np.ones((5, 3))).shape == (5, 2)
    assert all(p.grad is None for p in q.parameters())
    # epsilon = 1: uniform random, every action appears
    assert set(agent.act(np.ones(3), epsilon=1.0) for _ in range(200)) == {0, 1}


def test_save_load_round_trip(tmp_path):
    agent = DQNAgent(4, 3, hidden=(16, 8), double=False, gamma=0.95, tau=0.5,
                     epsilon=ExponentialEpsilon(0.9, 0.1, 0.999), seed=3, env_id="Foo-v0")
    for i in range(4):
        agent.update(batch_for(agent, seed=i))
    agent.env_steps, agent.episodes = 1234, 7
    path = agent.save(tmp_path / "policy.safetensors")
    assert path.read_bytes()[8:9] == b"{"             # a safetensors header, not a pickle
    back = DQNAgent.load(path)
    x = np.random.default_rng(0).standard_normal((10, 4)).astype(np.float32)
    np.testing.assert_array_equal(back.q_values(x), agent.q_values(x))
    for a, b in zip(weights(back.target_network), weights(agent.target_network)):
        np.testing.assert_array_equal(a, b)
    assert back.config() == agent.config()
    assert (back.env_steps, back.updates, back.episodes) == (1234, 4, 7)
    assert back.epsilon(100) == agent.epsilon(100)
    assert [back.act(s) for s in x] == [agent.act(s) for s in x]
    back.update(batch_for(back, seed=9))             # a loaded agent trains on
    gn.save({"kind": "something else"}, tmp_path / "other.safetensors")
    with pytest.raises(ModelFileError, match="not a saved DQNAgent"):
        DQNAgent.load(tmp_path / "other.safetensors")


def test_bad_arguments_are_named():
    with pytest.raises(ArgumentError, match="gamma"):
        DQNAgent(4, 2, gamma=1.5)
    with pytest.raises(ArgumentError, match="tau"):
        DQNAgent(4, 2, tau=0.0)
    with pytest.raises(ArgumentError, match="target_update"):
        DQNAgent(4, 2, target_update=0)
    with pytest.raises(ArgumentTypeError, match="q_network"):
        DQNAgent(4, 2, q_network="mlp")
    with pytest.raises(ArgumentError, match=r"\(N, 4\) to \(N, 3\)"):
        DQNAgent(4, 3, q_network=nn.Linear(4, 2))
    with pytest.raises(ArgumentTypeError, match="epsilon"):
        DQNAgent(4, 2, epsilon=0.1)


def test_missing_gymnasium_says_how_to_install(monkeypatch):
    from glassnet.rl import make_env
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    with pytest.raises(ImportError, match=r'pip install "glassnet\[rl\]"'):
        make_env("CartPole-v1")
