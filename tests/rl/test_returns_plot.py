"""inspect.plot_episode_returns and moving_average (no environment needed)."""
import numpy as np
import pytest

pytest.importorskip("matplotlib")

from glassnet.inspect import plot_episode_returns  # noqa: E402
from glassnet.inspect.returns import moving_average  # noqa: E402
from glassnet.training import History  # noqa: E402


def test_moving_average_by_hand():
    np.testing.assert_allclose(moving_average([2, 4, 6, 8, 10], 3), [2, 3, 4, 6, 8])
    with pytest.raises(ValueError, match="window"):
        moving_average([1.0], 0)


def test_plot_from_a_history_and_from_its_dict(tmp_path):
    h = History()
    steps = 0
    for i, r in enumerate([10, 20, 15, 40, 80]):
        steps += r
        h.append(i, {"return": r, "length": r, "env_steps": steps})
    h.params.update(env_id="CartPole-v1", evaluations=[
        {"env_steps": 50, "mean_return": 30.0, "std_return": 2.0}])
    fig = plot_episode_returns(h, tmp_path / "r.png", window=2, solved=475)
    ax = fig.axes[0]
    assert ax.get_title() == "DQN on CartPole-v1" and ax.get_xlabel() == "environment step"
    lines = ax.get_lines()
    np.testing.assert_allclose(lines[0].get_xdata(), [10, 30, 45, 85, 165])
    np.testing.assert_allclose(lines[1].get_ydata(), [10, 15, 17.5, 27.5, 60])
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    fig2 = plot_episode_returns(h.to_dict(), window=2, solved=475)
    assert len(fig2.axes[0].get_lines()) == len(lines)
    with pytest.raises(ValueError, match="'return'"):
        plot_episode_returns({"loss": [1.0]})
