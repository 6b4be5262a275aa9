"""Reinforcement learning: deep Q-learning on Gymnasium environments.

Gymnasium is an optional extra (``pip install "glassnet[rl]"``); this package imports it
only when an environment is made, and says how to install it when it is missing.

>>> from glassnet.rl import DQNAgent, make_env          # doctest: +SKIP
>>> env = make_env("CartPole-v1")                        # doctest: +SKIP
>>> agent = DQNAgent.for_env(env, seed=0)                # doctest: +SKIP
>>> history = agent.train(env, total_steps=50_000, eval_every=5_000)  # doctest: +SKIP
>>> agent.evaluate(env, episodes=100).mean()             # doctest: +SKIP
>>> agent.save("cartpole-dqn.safetensors"); agent.watch(env)  # doctest: +SKIP
"""
from __future__ import annotations

from ._gym import make_env, require_gymnasium
from .replay import ReplayBuffer, Transitions
from .schedules import (ConstantEpsilon, EpsilonSchedule, ExponentialEpsilon, LinearEpsilon,
                        schedule_from_dict)
from .networks import q_mlp
from .render import action_name, render_state
from .dqn import DQNAgent

__all__ = ["DQNAgent", "ReplayBuffer", "Transitions", "EpsilonSchedule", "LinearEpsilon",
           "ExponentialEpsilon", "ConstantEpsilon", "schedule_from_dict", "q_mlp",
           "make_env", "require_gymnasium", "render_state", "action_name"]
