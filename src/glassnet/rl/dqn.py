"""Deep Q-learning (DQN): a Q-network, experience replay, a target network, epsilon-greedy.

The Q-network maps a state ``s`` to one value ``Q(s, a)`` per discrete action. Each update
draws a batch of transitions ``(s, a, r, s', d)`` from the replay buffer (``d`` = 1 where
``s'`` is terminal) and regresses ``Q(s, a)`` on the TD target

* DQN:        ``y = r + gamma * (1 - d) * max_a' Qt(s', a')``
* Double DQN: ``y = r + gamma * (1 - d) * Qt(s', argmax_a' Q(s', a'))``

where ``Qt`` is the target network, a lagged copy of ``Q`` (copied every
``target_update`` updates, or moved toward it by Polyak averaging
``Qt <- tau * Q + (1 - tau) * Qt``). The loss is the Huber loss (``nn.SmoothL1Loss``), the
gradient norm is clipped, Adam steps. Double DQN picks the next action with the online
network and values it with the target network, which removes most of the max operator's
overestimation.

>>> agent = DQNAgent(obs_dim=4, n_actions=2, hidden=(32,), seed=0)
>>> agent.act(np.zeros(4, np.float32), epsilon=0.0) in (0, 1)
True
"""
from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from .. import io as gio
from .. import nn
from ..autograd import Tensor, no_grad
from ..backend import arrays as _arrays
from ..errors import ArgumentError, ArgumentTypeError, ModelFileError, NonFiniteError
from ..nn.module import Module
from ..nn.utils.clip_grad import clip_grad_norm_
from ..optim.adam import Adam
from ..training.history import History
from ..validation import check_int, check_probability, check_real
from ._gym import make_env
from .networks import q_mlp
from .render import action_name, render_state
from .replay import ReplayBuffer, Transitions
from .schedules import EpsilonSchedule, LinearEpsilon, schedule_from_dict

if TYPE_CHECKING:  # annotations only
    from pathlib import Path

    from glassnet._typing import PathLike

__all__ = ["DQNAgent", "FILE_KIND"]

FILE_KIND = "glassnet.rl.DQNAgent"


def _env_id(env: Any) -> str | None:
    spec = getattr(env, "spec", None)
    return getattr(spec, "id", None)


def _space_sizes(env: Any, who: str) -> tuple[int, int]:
    """(observation size, number of actions) of an env with a flat Box observation and a
    Discrete action space."""
    obs_space, act_space = getattr(env, "observation_space", None), getattr(env, "action_space", None)
    n = getattr(act_space, "n", None)
    shape = getattr(obs_space, "shape", None)
    if n is None or shape is None or len(shape) != 1:
        raise ArgumentError(f"{who}: DQN needs a flat (1-D) observation and a Discrete action "
                            f"space, got observation_space={obs_space!r}, "
                            f"action_space={act_space!r}")
    return int(shape[0]), int(n)


class DQNAgent:
    """A deep Q-learning agent for an environment with a discrete action space.

    Parameters
    ----------
    obs_dim, n_actions : int
        Size of the (flat) observation and number of actions; :meth:`for_env` reads them
        from a Gymnasium environment.
    q_network : Module, optional
        Any glassnet module mapping ``(N, obs_dim)`` to ``(N, n_actions)``. Default:
        :func:`~glassnet.rl.networks.q_mlp` with ``hidden`` and ``activation``.
    lr : float
        Adam's learning rate.
    gamma : float
        Discount factor in [0, 1].
    double : bool
        Double DQN target (True) or the plain max target (False).
    target_update : int
        The target network is updated every ``target_update`` gradient updates.
    tau : float
        1.0: that update is a hard copy; below 1: Polyak averaging
        ``Qt <- tau * Q + (1 - tau) * Qt`` (then ``target_update=1`` is usual).
    max_grad_norm : float or None
        Clip the gradient's global 2-norm to this value (None: no clipping).
    batch_size, buffer_size : int
        Replay batch size and replay capacity (transitions).
    learning_starts : int
        Environment steps of pure collection before the first update.
    train_freq, gradient_steps : int
        ``gradient_steps`` updates every ``train_freq`` environment steps.
    epsilon : EpsilonSchedule, optional
        Exploration rate per environment step; default ``LinearEpsilon(1.0, 0.05, 10_000)``.
    seed : int, optional
        Seeds the agent's generator (exploration, replay sampling, environment resets) and,
        when the agent builds its own network, glassnet's global generator first (as
        ``glassnet.manual_seed``) so that the initial weights repeat too.
    env_id : str, optional
        The Gymnasium id the agent is for (stored in its file).
    """

    def __init__(self, obs_dim: int | None = None, n_actions: int | None = None, *,
                 q_network: Module | None = None, hidden: Sequence[int] = (128, 128),
                 activation: str = "relu", lr: float = 5e-4, gamma: float = 0.99,
                 double: bool = True, target_update: int = 500, tau: float = 1.0,
                 max_grad_norm: float | None = 10.0, batch_size: int = 64,
                 buffer_size: int = 50_000, learning_starts: int = 1000, train_freq: int = 1,
                 gradient_steps: int = 1, epsilon: EpsilonSchedule | None = None,
                 seed: int | None = None, env_id: str | None = None) -> None:
        who = "DQNAgent"
        self.obs_dim = check_int(obs_dim, "obs_dim", who, min=1)
        self.n_actions = check_int(n_actions, "n_actions", who, min=1)
        self.lr = check_real(lr, "lr", who, 0, None, low_open=True)
        self.gamma = check_probability(gamma, "gamma", who)
        if not isinstance(double, (bool, np.bool_)):
            raise ArgumentTypeError(f"{who}: double must be a bool, got {double!r}")
        self.double = bool(double)
        self.target_update = check_int(target_update, "target_update", who, min=1)
        self.tau = check_real(tau, "tau", who, 0, 1, low_open=True)
        self.max_grad_norm = check_real(max_grad_norm, "max_grad_norm", who, 0, None,
                                        low_open=True, allow_none=True)
        self.batch_size = check_int(batch_size, "batch_size", who, min=1)
        self.buffer_size = check_int(buffer_size, "buffer_size", who, min=1)
        self.learning_starts = check_int(learning_starts, "learning_starts", who, min=0)
        self.train_freq = check_int(train_freq, "train_freq", who, min=1)
        self.gradient_steps = check_int(gradient_steps, "gradient_steps", who, min=1)
        if epsilon is None:
            epsilon = LinearEpsilon(1.0, 0.05, 10_000)
        if not isinstance(epsilon, EpsilonSchedule):
            raise ArgumentTypeError(f"{who}: epsilon must be an EpsilonSchedule (LinearEpsilon, "
                                    f"ExponentialEpsilon, ...), got {type(epsilon).__name__}")
        self.epsilon = epsilon
        self.seed = None if seed is None else check_int(seed, "seed", who, min=0)
        self.env_id = env_id
        self.hidden = tuple(int(h) for h in hidden)
        self.activation = activation
        if q_network is None:
            if self.seed is not None:
                _arrays.manual_seed(self.seed)
            q_network = q_mlp(self.obs_dim, self.n_actions, self.hidden, activation)
        elif not isinstance(q_network, Module):
            raise ArgumentTypeError(f"{who}: q_network must be a glassnet nn.Module, got "
                                    f"{type(q_network).__name__}")
        self.q_network = q_network
        out = self.q_values(np.zeros(self.obs_dim, np.float32))
        if out.shape != (self.n_actions,):
            raise ArgumentError(f"{who}: q_network must map (N, {self.obs_dim}) to "
                                f"(N, {self.n_actions}), it gave {out.shape} for one state")
        self.target_network = copy.deepcopy(q_network)
        self.target_network.requires_grad_(False)
        self.optimizer = Adam(self.q_network.parameters(), lr=self.lr)
        self.loss_fn = nn.SmoothL1Loss()
        self.rng = np.random.default_rng(self.seed)
        self.buffer = ReplayBuffer(self.buffer_size, (self.obs_dim,), seed=self.rng)
        self.env_steps = 0     # environment steps taken in training, over all train calls
        self.updates = 0       # gradient updates
        self.episodes = 0

    @classmethod
    def for_env(cls, env: Any, **kwargs: Any) -> DQNAgent:
        """An agent sized for ``env`` (a Gymnasium environment with a 1-D Box observation
        and a Discrete action space)."""
        obs_dim, n_actions = _space_sizes(env, "DQNAgent.for_env")
        kwargs.setdefault("env_id", _env_id(env))
        return cls(obs_dim, n_actions, **kwargs)

    # ---- acting ----------------------------------------------------------------------
    def q_values(self, obs: Any) -> np.ndarray:
        """``Q(s, .)`` of one state ``(obs_dim,)`` -> ``(n_actions,)``, or of a batch
        ``(N, obs_dim)`` -> ``(N, n_actions)``; no graph is recorded."""
        x = np.asarray(obs, dtype=np.float32)
        one = x.ndim == 1
        with no_grad():
            out = self.q_network(Tensor(x[None] if one else x))
        q = _arrays.to_numpy(out)
        return q[0] if one else q

    def act(self, obs: Any, epsilon: float = 0.0) -> int:
        """Epsilon-greedy action: uniform random with probability ``epsilon``, else
        ``argmax_a Q(obs, a)`` (one forward without a graph)."""
        if epsilon > 0.0 and self.rng.random() < epsilon:
            return int(self.rng.integers(self.n_actions))
        return int(np.argmax(self.q_values(obs)))

    # ---- learning --------------------------------------------------------------------
    def _target_q(self, x: np.ndarray) -> np.ndarray:
        with no_grad():
            return _arrays.to_numpy(self.target_network(Tensor(x)))

    def td_target(self, rewards: np.ndarray, next_obs: np.ndarray,
                  terminated: np.ndarray) -> np.ndarray:
        """The regression target ``y`` of a batch (see the module docstring), float32 (N,)."""
        q_next_t = self._target_q(np.asarray(next_obs, np.float32))
        if self.double:
            best = np.argmax(self.q_values(next_obs), axis=1)
            q_next = q_next_t[np.arange(len(best)), best]
        else:
            q_next = q_next_t.max(axis=1)
        r = np.asarray(rewards, np.float32)
        d = np.asarray(terminated, np.float32)
        return (r + np.float32(self.gamma) * (1.0 - d) * q_next).astype(np.float32)

    def update(self, batch: Transitions) -> float:
        """One gradient step on a batch; returns its Huber loss. Updates the target network
        every ``target_update`` calls."""
        y = self.td_target(batch.rewards, batch.next_obs, batch.terminated)
        q = self.q_network(Tensor(np.asarray(batch.obs, np.float32)))
        q_taken = q[np.arange(len(y)), np.asarray(batch.actions, np.int64)]
        loss = self.loss_fn(q_taken, Tensor(y))
        self.optimizer.zero_grad()
        loss.backward()
        if self.max_grad_norm is not None:
            clip_grad_norm_(self.q_network.parameters(), self.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        if self.updates % self.target_update == 0:
            self.update_target()
        value = float(loss.item())
        if not math.isfinite(value):
            raise NonFiniteError(f"DQNAgent.update: the loss became {value} at update "
                                     f"{self.updates}; lower lr or clip harder")
        return value

    def update_target(self, tau: float | None = None) -> None:
        """``Qt <- tau * Q + (1 - tau) * Qt`` in place (tau=1: a copy); buffers are copied."""
        tau = self.tau if tau is None else check_real(tau, "tau", "update_target", 0, 1,
                                                      low_open=True)
        for pt, p in zip(self.target_network.parameters(), self.q_network.parameters()):
            if tau >= 1.0:
                np.copyto(pt._data, p._data)
            else:
                pt._data *= 1.0 - tau
                pt._data += tau * p._data
        for bt, b in zip(self.target_network.buffers(), self.q_network.buffers()):
            np.copyto(bt._data, b._data)

    # ---- the loop --------------------------------------------------------------------
    def train(self, env: Any, total_steps: int, *, eval_env: Any = None, eval_every: int = 0,
              eval_episodes: int = 10, restore_best: bool = True,
              stop_return: float | None = None, checkpoint: PathLike | None = None,
              verbose: int = 1, file: IO[str] | None = None) -> History:
        """Run ``total_steps`` environment steps of epsilon-greedy collection and learning.

        Every ``eval_every`` steps (0: never) the greedy policy is evaluated for
        ``eval_episodes`` episodes on ``eval_env`` (default: a new environment of the same
        id); the best mean so far is kept (in memory, and written to ``checkpoint`` when a
        path is given) and, with ``restore_best``, put back into the agent at the end.
        Training stops early once an evaluation reaches ``stop_return``.

        Returns a :class:`~glassnet.training.History` with one row per finished episode:
        ``return``, ``length``, ``epsilon`` (at its end), ``loss`` (mean over its updates,
        None before learning starts), ``env_steps`` and ``wall_time`` (cumulative,
        seconds). ``history.params`` holds the settings, ``evaluations`` (a list of
        ``{"env_steps", "wall_time", "mean_return", "std_return"}``), ``best`` and the
        totals ``env_steps`` and ``wall_time``.
        """
        who = "DQNAgent.train"
        total_steps = check_int(total_steps, "total_steps", who, min=1)
        eval_every = check_int(eval_every, "eval_every", who, min=0)
        eval_episodes = check_int(eval_episodes, "eval_episodes", who, min=1)
        verbose = check_int(verbose, "verbose", who, min=0, max=2)
        obs_dim, n_actions = _space_sizes(env, who)
        if (obs_dim, n_actions) != (self.obs_dim, self.n_actions):
            raise ArgumentError(f"{who}: the agent is for {self.obs_dim} observations and "
                                f"{self.n_actions} actions, env has {obs_dim} and {n_actions}")
        if eval_every and eval_env is None:
            env_id = _env_id(env)
            if env_id is None:
                raise ArgumentError(f"{who}: eval_every needs eval_env (env has no spec id "
                                    "to make a second one from)")
            eval_env = make_env(env_id)
        out = file or sys.stderr
        history = History()
        history.params.update(self.config(), total_steps=total_steps, eval_every=eval_every,
                              eval_episodes=eval_episodes, env_id=_env_id(env) or self.env_id)
        evaluations: list[dict[str, float]] = []
        best: dict[str, Any] = {"mean_return": -math.inf}
        best_state: dict[str, np.ndarray] | None = None

        bar: Any = None
        if verbose == 1:
            from tqdm.auto import tqdm
            bar = tqdm(total=total_steps, desc="dqn", unit="step", leave=True, file=out,
                       dynamic_ncols=True)
        start_steps = self.env_steps
        t0 = time.perf_counter()
        seed = None if self.seed is None else self.seed + self.episodes
        obs, _ = env.reset(seed=seed)
        ep_return, ep_len, ep_losses = 0.0, 0, []
        recent: list[float] = []
        stop = None
        for _ in range(total_steps):
            eps = self.epsilon(self.env_steps)
            action = self.act(obs, eps)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            self.buffer.add(obs, action, float(reward), next_obs, bool(terminated))
            self.env_steps += 1
            ep_return += float(reward)
            ep_len += 1
            obs = next_obs
            if self.env_steps > self.learning_starts and self.env_steps % self.train_freq == 0:
                for _ in range(self.gradient_steps):
                    ep_losses.append(self.update(self.buffer.sample(self.batch_size)))
            if terminated or truncated:
                self.episodes += 1
                history.append(self.episodes - 1, {
                    "return": ep_return, "length": ep_len, "epsilon": eps,
                    "loss": float(np.mean(ep_losses)) if ep_losses else None,
                    "env_steps": self.env_steps, "wall_time": time.perf_counter() - t0})
                recent = (recent + [ep_return])[-20:]
                if verbose == 2 and self.episodes % 20 == 0:
                    print(f"episode {self.episodes}  step {self.env_steps}  mean return (20) "
                          f"{np.mean(recent):.1f}  epsilon {eps:.3f}", file=out)
                obs, _ = env.reset()
                ep_return, ep_len, ep_losses = 0.0, 0, []
            if eval_every and (self.env_steps - start_steps) % eval_every == 0:
                # a seeded agent seeds the evaluation env once, at its first reset
                eval_seed = (None if self.seed is None or evaluations
                             else self.seed + 1_000_003)
                returns = self.evaluate(eval_env, eval_episodes, seed=eval_seed)
                row = {"env_steps": self.env_steps, "wall_time": time.perf_counter() - t0,
                       "mean_return": float(returns.mean()), "std_return": float(returns.std())}
                evaluations.append(row)
                if row["mean_return"] > best["mean_return"]:
                    best = dict(row)
                    best_state = {k: v._data.copy()
                                  for k, v in self.q_network.state_dict().items()}
                    if checkpoint is not None:
                        self.save(checkpoint)
                if verbose == 2:
                    print(f"eval at step {self.env_steps}: mean return "
                          f"{row['mean_return']:.1f} +- {row['std_return']:.1f}", file=out)
                if stop_return is not None and row["mean_return"] >= stop_return:
                    stop = (f"stopped at step {self.env_steps}: evaluation mean return "
                            f"{row['mean_return']:.1f} >= stop_return {stop_return}")
            if bar is not None:
                bar.update(1)
                if self.env_steps % 250 == 0:
                    bar.set_postfix_str(
                        f"episodes {self.episodes} return(20) "
                        f"{np.mean(recent) if recent else 0.0:.1f} eps {eps:.2f}"
                        + (f" best eval {best['mean_return']:.0f}" if evaluations else ""),
                        refresh=False)
            if stop:
                break
        wall = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        if stop and verbose:
            print(stop, file=out)
        if restore_best and best_state is not None:
            self.q_network.load_state_dict(best_state)
            self.update_target(1.0)
        history.stop_reason = stop
        history.params.update(env_steps=self.env_steps - start_steps, wall_time=wall,
                              evaluations=evaluations,
                              best=best if evaluations else None,
                              restored_best=bool(restore_best and best_state is not None))
        return history

    def evaluate(self, env: Any, episodes: int = 10, greedy: bool = True,
                 epsilon: float = 0.05, seed: int | None = None) -> np.ndarray:
        """The return of each of ``episodes`` episodes of the policy: greedy, or
        epsilon-greedy with ``epsilon`` when ``greedy=False``. ``seed`` seeds the first
        reset (the rest follow from it). Does not touch the replay buffer or the counters.
        """
        episodes = check_int(episodes, "episodes", "DQNAgent.evaluate", min=1)
        eps = 0.0 if greedy else check_probability(epsilon, "epsilon", "DQNAgent.evaluate")
        returns = np.zeros(episodes)
        for i in range(episodes):
            obs, _ = env.reset(seed=seed if i == 0 else None)
            done, total = False, 0.0
            while not done:
                obs, reward, terminated, truncated, _ = env.step(self.act(obs, eps))
                total += float(reward)
                done = bool(terminated or truncated)
            returns[i] = total
        return returns

    def watch(self, env: Any, episodes: int = 1, file: IO[str] | None = None,
              delay: float = 0.0, max_steps: int | None = None, seed: int | None = None,
              every: int = 1) -> list[float]:
        """Play ``episodes`` greedy episodes, printing every ``every``-th step as text
        (the state, e.g. CartPole's cart position, velocity, pole angle and angular
        velocity, and the action taken); returns the episode returns."""
        episodes = check_int(episodes, "episodes", "DQNAgent.watch", min=1)
        every = check_int(every, "every", "DQNAgent.watch", min=1)
        out = file or sys.stdout
        env_id = _env_id(env) or self.env_id
        returns = []
        for i in range(episodes):
            obs, _ = env.reset(seed=seed if i == 0 else None)
            total, t, end = 0.0, 0, "running"
            print(f"episode {i + 1}/{episodes} ({env_id or 'env'})", file=out)
            while True:
                action = self.act(obs, 0.0)
                if t % every == 0:
                    print(f"{t:5d} {render_state(obs, env_id)}  -> {action_name(action, env_id)}",
                          file=out)
                obs, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                t += 1
                if delay:
                    time.sleep(delay)
                if terminated or truncated or (max_steps is not None and t >= max_steps):
                    end = "terminated" if terminated else ("truncated" if truncated else "stopped")
                    break
            print(f"episode {i + 1}: return {total:g} in {t} steps ({end})", file=out)
            returns.append(total)
        return returns

    # ---- files -----------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The settings as JSON values (what :meth:`save` stores beside the weights)."""
        return {"obs_dim": self.obs_dim, "n_actions": self.n_actions, "hidden": list(self.hidden),
                "activation": self.activation, "lr": self.lr, "gamma": self.gamma,
                "double": self.double, "target_update": self.target_update, "tau": self.tau,
                "max_grad_norm": self.max_grad_norm, "batch_size": self.batch_size,
                "buffer_size": self.buffer_size, "learning_starts": self.learning_starts,
                "train_freq": self.train_freq, "gradient_steps": self.gradient_steps,
                "epsilon": self.epsilon.to_dict(), "seed": self.seed, "env_id": self.env_id}

    def save(self, path: PathLike) -> Path | None:
        """Write the policy: both networks (architecture as JSON, weights as safetensors),
        the settings and the counters, in one glassnet file (no pickle). The replay buffer
        and Adam's moments are not stored."""
        obj = {"kind": FILE_KIND, "version": 1, "config": self.config(),
               "q_network": self.q_network, "target_network": self.target_network,
               "counters": {"env_steps": self.env_steps, "updates": self.updates,
                            "episodes": self.episodes}}
        return gio.save(obj, path)

    @classmethod
    def load(cls, path: PathLike) -> DQNAgent:
        """The agent :meth:`save` wrote, ready to act, evaluate, watch or train on."""
        d = gio.load(path)
        if not isinstance(d, dict) or d.get("kind") != FILE_KIND:
            raise ModelFileError(f"DQNAgent.load: {path} is not a saved DQNAgent (no "
                                 f"kind={FILE_KIND!r} in it)")
        cfg = dict(d["config"])
        cfg["epsilon"] = schedule_from_dict(cfg["epsilon"])
        obs_dim, n_actions = cfg.pop("obs_dim"), cfg.pop("n_actions")
        q = d["q_network"]
        q.train()
        agent = cls(obs_dim, n_actions, q_network=q, **cfg)
        agent.target_network.load_state_dict(d["target_network"].state_dict())
        counters = d.get("counters", {})
        agent.env_steps = int(counters.get("env_steps", 0))
        agent.updates = int(counters.get("updates", 0))
        agent.episodes = int(counters.get("episodes", 0))
        return agent

    def __repr__(self) -> str:
        return (f"DQNAgent(obs_dim={self.obs_dim}, n_actions={self.n_actions}, "
                f"double={self.double}, env_steps={self.env_steps})")
