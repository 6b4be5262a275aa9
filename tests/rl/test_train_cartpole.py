"""A short seeded DQN training on CartPole-v1 beats a random policy by a wide margin; the
history, evaluation, checkpoint and watch paths on a real environment."""
import io

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium", reason='needs Gymnasium: pip install "glassnet[rl]"')

from glassnet.inspect import plot_episode_returns  # noqa: E402
from glassnet.rl import DQNAgent, LinearEpsilon, make_env  # noqa: E402


def random_returns(env, episodes, seed):
    env.action_space.seed(seed)
    out = []
    for i in range(episodes):
        env.reset(seed=seed + i)
        done, total = False, 0.0
        while not done:
            _, r, term, trunc, _ = env.step(env.action_space.sample())
            total += r
            done = term or trunc
        out.append(total)
    return np.array(out)


@pytest.fixture(scope="module")
def trained():
    env = make_env("CartPole-v1", seed=0)
    agent = DQNAgent.for_env(env, hidden=(64, 64), lr=1e-3, learning_starts=500,
                             target_update=100, epsilon=LinearEpsilon(1.0, 0.05, 1500), seed=0)
    hist = agent.train(env, 3000, eval_every=1000, eval_episodes=3, verbose=0)
    return agent, hist


def test_training_beats_a_random_policy(trained):
    agent, hist = trained
    env = make_env("CartPole-v1")
    greedy = agent.evaluate(env, 20, seed=100)
    rand = random_returns(env, 20, seed=100)
    # a random policy lasts ~22 steps; 3000 steps of DQN reach 90-220 on seeds 0-5
    assert rand.mean() < 35
    assert greedy.mean() >= 60 and greedy.mean() >= 2.5 * rand.mean()


def test_history_records_every_episode(trained):
    agent, hist = trained
    n = len(hist)
    assert n >= 10 and agent.env_steps == 3000 and hist.params["env_steps"] == 3000
    for k in ("return", "length", "epsilon", "loss", "env_steps", "wall_time"):
        assert len(hist[k]) == n
    assert hist["return"] == hist["length"]            # CartPole: +1 per step
    steps = hist["env_steps"]
    assert all(b > a for a, b in zip(steps, steps[1:])) and steps[-1] <= 3000
    assert sum(hist["length"]) == steps[-1]
    assert hist["loss"][0] is None and hist["loss"][-1] is not None   # learning starts at 500
    assert hist["epsilon"][-1] == pytest.approx(0.05)
    evals = hist.params["evaluations"]
    assert [e["env_steps"] for e in evals] == [1000, 2000, 3000]
    assert hist.params["best"]["mean_return"] == max(e["mean_return"] for e in evals)
    assert hist.params["restored_best"] is True
    fig = plot_episode_returns(hist, solved=475)
    assert len(fig.axes) == 1 and fig.axes[0].get_xlabel() == "environment step"


def test_evaluate_is_seeded_and_epsilon_greedy_differs(trained):
    agent, _ = trained
    env = make_env("CartPole-v1")
    a, b = agent.evaluate(env, 3, seed=5), agent.evaluate(env, 3, seed=5)
    np.testing.assert_array_equal(a, b)
    noisy = agent.evaluate(env, 3, greedy=False, epsilon=1.0, seed=5)
    assert noisy.mean() < a.mean()


def test_checkpoint_keeps_the_best_and_watch_prints_the_state(trained, tmp_path):
    agent, _ = trained
    env = make_env("CartPole-v1")
    path = agent.save(tmp_path / "policy.safetensors")
    back = DQNAgent.load(path)
    np.testing.assert_array_equal(back.evaluate(env, 2, seed=1), agent.evaluate(env, 2, seed=1))
    out = io.StringIO()
    returns = back.watch(env, episodes=1, file=out, seed=3, max_steps=30)
    text = out.getvalue()
    assert "x=" in text and "angle=" in text and "omega=" in text and "[#]" in text
    assert "push" in text and f"return {returns[0]:g}" in text
    assert len([ln for ln in text.splitlines() if "angle=" in ln]) == min(30, int(returns[0]))


def test_env_mismatch_is_refused():
    agent = DQNAgent(6, 3)
    with pytest.raises(ValueError, match="4 observations and 2 actions|6 observations"):
        agent.train(make_env("CartPole-v1"), 10, verbose=0)


def test_progress_bar_and_early_stop():
    env = make_env("CartPole-v1")
    agent = DQNAgent.for_env(env, hidden=(16,), learning_starts=100, seed=1)
    out = io.StringIO()
    hist = agent.train(env, 400, eval_every=100, eval_episodes=2, stop_return=1.0, file=out)
    text = out.getvalue()
    assert "dqn:" in text and "step" in text
    # every episode returns >= 1, so the first evaluation stops the run
    assert agent.env_steps == 100 and hist.params["env_steps"] == 100
    assert hist.stop_reason.startswith("stopped at step 100") and hist.stop_reason in text
