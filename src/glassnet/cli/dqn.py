"""``glassnet train --task dqn``: deep Q-learning on a Gymnasium environment, and
``glassnet play``: evaluate or watch a saved policy.

    glassnet train --task dqn                              # CartPole-v1, 100,000 steps at most
    glassnet train --task dqn --env Acrobot-v1 --steps 100000
    glassnet play runs/<stamp> --episodes 100              # mean greedy return
    glassnet play runs/<stamp> --watch                     # one episode as text, step by step

``train`` writes ``policy.safetensors`` (the kept policy: the best periodic evaluation),
``history.json`` (one row per training episode, the evaluations in its params),
``metrics.json`` (the final greedy evaluation of the kept policy), ``config.json`` and
``returns.png`` (the episode-return curve). Gymnasium is an optional extra
(``pip install "glassnet[rl]"``).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import inspect as ins
from ..errors import ArgumentError, GlassnetError, ModelFileNotFoundError
from . import runs

__all__ = ["run", "play", "add_play_parser", "POLICY_FILE", "SOLVED"]

POLICY_FILE = "policy.safetensors"
# the return at which Gymnasium calls an environment solved (spec.reward_threshold), for
# the curve's dashed line and the verdict in metrics.json
SOLVED = {"CartPole-v1": 475.0, "CartPole-v0": 195.0, "Acrobot-v1": -100.0,
          "MountainCar-v0": -110.0, "LunarLander-v3": 200.0}


def _threshold(env: Any, env_id: str) -> float | None:
    spec = getattr(env, "spec", None)
    t = getattr(spec, "reward_threshold", None)
    return float(t) if t is not None else SOLVED.get(env_id)


def run(args: argparse.Namespace) -> int:
    """Train a Double DQN as ``args`` says and fill its run folder; returns 0."""
    from ..rl import DQNAgent, LinearEpsilon, make_env
    for name, why in (("epochs", "--steps sets the budget in environment steps"),
                      ("dataset", "the data come from --env"),
                      ("data_dir", "the data come from --env"), ("limit", "use --steps"),
                      ("model", "the Q-network is an MLP sized by --hidden")):
        if getattr(args, name, None) is not None:
            flag = "--" + name.replace("_", "-")
            raise ArgumentError(f"{flag} does not apply to --task dqn ({why})")
    env_id = runs.option(args, "env", "CartPole-v1")
    seed = runs.option(args, "seed", 0)
    steps = runs.option(args, "steps", 100_000)
    try:
        env, eval_env = make_env(env_id, seed=seed), make_env(env_id, seed=seed + 1)
    except ImportError as e:     # Gymnasium missing: the one-line error, not "unexpected"
        raise GlassnetError(str(e)) from None
    hidden = runs.option(args, "hidden", [256, 256])
    hidden = [hidden] if isinstance(hidden, int) else list(hidden)
    eps_steps = max(1, min(15_000, steps // 4))
    agent = DQNAgent.for_env(env, hidden=hidden, activation=runs.option(args, "activation", "relu"),
                             lr=runs.option(args, "lr", 5e-4),
                             batch_size=runs.option(args, "batch_size", 64),
                             learning_starts=min(1000, max(1, steps // 10)),
                             target_update=500 if steps >= 10_000 else 100,
                             epsilon=LinearEpsilon(1.0, 0.02, eps_steps), seed=seed)
    out = args.out = runs.run_dir(runs.option(args, "out"))
    verbose = runs.option(args, "verbose", 1)
    solved = _threshold(env, env_id)
    eval_every = max(1, min(2500, steps // 10))
    if verbose:
        runs.note(f"glassnet: Double DQN on {env_id}: {agent.obs_dim} observations, "
                  f"{agent.n_actions} actions, MLP {'x'.join(map(str, hidden))}, at most "
                  f"{steps} steps, greedy evaluation every {eval_every} -> {out}")
    t0 = time.perf_counter()
    history = agent.train(env, steps, eval_env=eval_env, eval_every=eval_every,
                          eval_episodes=10, stop_return=_best_possible(env),
                          checkpoint=out / POLICY_FILE, verbose=verbose)
    seconds = time.perf_counter() - t0
    episodes = runs.option(args, "eval_episodes", 100)
    returns = agent.evaluate(make_env(env_id), episodes, seed=seed + 10_000)
    agent.save(out / POLICY_FILE)        # the kept (best) policy, restored by train
    result = {"task": "dqn", "env": env_id, "eval_episodes": episodes,
              "mean_return": float(returns.mean()), "std_return": float(returns.std()),
              "min_return": float(returns.min()), "max_return": float(returns.max()),
              "solved_threshold": solved,
              "solved": None if solved is None else bool(returns.mean() >= solved),
              "env_steps": history.params["env_steps"], "episodes": len(history),
              "train_seconds": round(seconds, 2), "best_evaluation": history.params["best"],
              "stop_reason": history.stop_reason}
    history.to_json(out / "history.json")
    runs.write_json(out / "metrics.json", result)
    runs.write_json(out / "config.json", vars(args))
    runs.draw(ins.plot_episode_returns, history, out / "returns.png", solved=solved)
    print(f"{env_id}: greedy mean return {result['mean_return']:.1f} +- "
          f"{result['std_return']:.1f} over {episodes} episodes "
          f"({result['env_steps']} env steps, {seconds:.1f} s)  -> {out}")
    return 0


def _best_possible(env: Any) -> float | None:
    """The most an episode can return where that is known (CartPole: +1 a step up to the
    time limit), so training stops once evaluation reaches it."""
    spec = getattr(env, "spec", None)
    if spec is not None and str(spec.id).startswith("CartPole") and spec.max_episode_steps:
        return float(spec.max_episode_steps)
    return None


def policy_file(path: str | Path) -> Path:
    """The policy of ``path``: the file itself, or a run folder's ``policy.safetensors``."""
    p = Path(path)
    if p.is_dir():
        if not (p / POLICY_FILE).is_file():
            raise ModelFileNotFoundError(f"no {POLICY_FILE} in the folder {p} (glassnet train "
                                         f"--task dqn writes it)")
        return p / POLICY_FILE
    return p


def add_play_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``glassnet play`` to ``sub`` (the subparsers of ``glassnet``)."""
    from .argtypes import non_negative_int, positive_int
    x = sub.add_parser("play", help="evaluate or watch a saved DQN policy",
                       description="Play a policy that glassnet train --task dqn saved: print "
                       "the return of each greedy episode and their mean, or with --watch "
                       "every step as text (CartPole: cart position and velocity, pole angle "
                       "and angular velocity, the action).")
    x.add_argument("policy", type=Path, help="a policy file, or a run folder")
    x.add_argument("--episodes", type=positive_int, default=None,
                   help="default 10 (1 with --watch)")
    x.add_argument("--watch", action="store_true", help="print every step of the episodes")
    x.add_argument("--env", default=None, help="default: the environment it was trained on")
    x.add_argument("--seed", type=non_negative_int, default=None)
    x.add_argument("--max-steps", type=positive_int, default=None,
                   help="--watch: stop an episode after this many steps")
    return x


def play(args: argparse.Namespace) -> int:
    """``glassnet play``: the returns of a saved policy's greedy episodes (or a watch)."""
    from ..rl import DQNAgent, make_env
    agent = DQNAgent.load(policy_file(args.policy))
    env_id = runs.option(args, "env", agent.env_id)
    if env_id is None:
        raise ArgumentError("the policy file does not say its environment: give --env")
    env = make_env(env_id)
    if args.watch:
        agent.watch(env, episodes=runs.option(args, "episodes", 1), seed=args.seed,
                    max_steps=args.max_steps)
        return 0
    episodes = runs.option(args, "episodes", 10)
    returns = agent.evaluate(env, episodes, seed=args.seed)
    for i, r in enumerate(returns):
        print(f"episode {i + 1}: return {r:g}")
    print(f"{env_id}: greedy mean return {np.mean(returns):.1f} +- {np.std(returns):.1f} "
          f"over {episodes} episodes")
    return 0
