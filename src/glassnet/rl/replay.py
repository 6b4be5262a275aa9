"""Experience replay: a preallocated ring buffer of transitions, sampled uniformly.

Each transition ``(s, a, r, s', terminated)`` is written into row ``pos`` of five NumPy
arrays allocated once; ``pos`` wraps around, so once the buffer is full the oldest
transition is overwritten first. ``sample(n)`` draws ``n`` row indices uniformly, with
replacement, from the rows written so far.

>>> buf = ReplayBuffer(3, obs_shape=(2,), seed=0)
>>> for t in range(4):
...     buf.add([t, t], action=t % 2, reward=1.0, next_obs=[t + 1, t + 1], terminated=False)
>>> len(buf), buf.obs[:, 0].tolist()          # the fourth overwrote the first
(3, [3.0, 1.0, 2.0])
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..backend.arrays import rng as _glassnet_rng
from ..errors import ArgumentError
from ..validation import check_int

__all__ = ["ReplayBuffer", "Transitions"]


class Transitions(NamedTuple):
    """A batch of transitions, one row each: ``obs`` and ``next_obs`` ``(n, *obs_shape)``,
    ``actions`` int64 ``(n,)``, ``rewards`` and ``terminated`` (1.0 where the episode ended
    in a terminal state, not merely truncated) float ``(n,)``."""
    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray


class ReplayBuffer:
    """A fixed-capacity ring buffer of transitions for off-policy learning (DQN).

    Parameters
    ----------
    capacity : int
        Number of transitions kept; the oldest is overwritten once it is full.
    obs_shape : tuple of int
        Shape of one observation, e.g. ``(4,)`` for CartPole.
    dtype : numpy dtype
        Storage dtype of observations and rewards (float32).
    seed : int or numpy Generator, optional
        Source of the sampling indices. Default: glassnet's global generator (the one
        ``glassnet.manual_seed`` seeds), read at each ``sample``.
    """

    def __init__(self, capacity: int, obs_shape: Sequence[int] | int, dtype: Any = np.float32,
                 seed: int | np.random.Generator | None = None) -> None:
        who = "ReplayBuffer"
        self.capacity = check_int(capacity, "capacity", who, min=1)
        shape = (obs_shape,) if isinstance(obs_shape, (int, np.integer)) else tuple(obs_shape)
        if not all(isinstance(s, (int, np.integer)) and s >= 1 for s in shape):
            raise ArgumentError(f"{who}: obs_shape must be a tuple of positive ints, got "
                                f"{obs_shape!r}")
        self.obs_shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        if isinstance(seed, np.random.Generator):
            self._rng: np.random.Generator | None = seed
        elif seed is None:
            self._rng = None
        else:
            self._rng = np.random.default_rng(check_int(seed, "seed", who, min=0))
        self.obs = np.zeros((self.capacity, *self.obs_shape), self.dtype)
        self.next_obs = np.zeros_like(self.obs)
        self.actions = np.zeros(self.capacity, np.int64)
        self.rewards = np.zeros(self.capacity, self.dtype)
        self.terminated = np.zeros(self.capacity, self.dtype)
        self.pos = 0      # the row the next transition goes to
        self.size = 0     # rows written so far (at most capacity)

    def __len__(self) -> int:
        return self.size

    @property
    def full(self) -> bool:
        return self.size == self.capacity

    @property
    def rng(self) -> np.random.Generator:
        return self._rng if self._rng is not None else _glassnet_rng()

    def add(self, obs: Any, action: int, reward: float, next_obs: Any,
            terminated: bool) -> None:
        """Write one transition into the next row (overwriting the oldest when full).

        ``terminated`` is True only when the episode reached a terminal state; an episode
        cut by a time limit (Gymnasium's ``truncated``) is not terminal, and its target
        still bootstraps from ``next_obs``.
        """
        i = self.pos
        self.obs[i] = obs          # NumPy checks the shape (broadcasting a wrong one fails)
        self.next_obs[i] = next_obs
        self.actions[i] = action
        self.rewards[i] = reward
        self.terminated[i] = float(terminated)
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> Transitions:
        """``batch_size`` transitions drawn uniformly with replacement from those stored."""
        n = check_int(batch_size, "batch_size", "ReplayBuffer.sample", min=1)
        if self.size == 0:
            raise ArgumentError("ReplayBuffer.sample: the buffer is empty; add transitions "
                                "first")
        idx = self.rng.integers(0, self.size, size=n)
        return self.take(idx)

    def take(self, idx: np.ndarray) -> Transitions:
        """The transitions of rows ``idx`` (copies)."""
        return Transitions(self.obs[idx], self.actions[idx], self.rewards[idx],
                           self.next_obs[idx], self.terminated[idx])

    def __repr__(self) -> str:
        return (f"ReplayBuffer(capacity={self.capacity}, obs_shape={self.obs_shape}, "
                f"size={self.size})")
