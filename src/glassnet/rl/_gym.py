"""The one place that imports Gymnasium (an optional extra: ``pip install "glassnet[rl]"``)."""
from __future__ import annotations

from types import ModuleType
from typing import Any

__all__ = ["require_gymnasium", "make_env"]

INSTALL = 'pip install "glassnet[rl]"'


def require_gymnasium(who: str) -> ModuleType:
    """The ``gymnasium`` module, or an ImportError that says how to install it."""
    try:
        import gymnasium
    except ImportError as e:
        raise ImportError(f"{who} needs Gymnasium, which is not installed: {INSTALL} "
                          f"(or pip install gymnasium)") from e
    return gymnasium


def make_env(env_id: str, seed: int | None = None, **kwargs: Any) -> Any:
    """``gymnasium.make(env_id, **kwargs)``, its action space seeded with ``seed``.

    The environment itself is seeded by the first ``reset(seed=...)`` (the train and
    evaluate loops do that). An unknown id is a ValueError that names it.
    """
    gym = require_gymnasium("glassnet.rl.make_env")
    if not isinstance(env_id, str) or not env_id:
        raise TypeError(f"make_env: env_id must be a Gymnasium id such as 'CartPole-v1', "
                        f"got {env_id!r}")
    try:
        env = gym.make(env_id, **kwargs)
    except gym.error.Error as e:
        raise ValueError(f"make_env: Gymnasium cannot make env_id={env_id!r} ({e})") from None
    if seed is not None:
        env.action_space.seed(int(seed))
    return env
