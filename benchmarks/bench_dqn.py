"""Deep Q-learning on Gymnasium environments: CartPole-v1 (goal: a greedy policy that
averages >= 475 over 100 episodes, the environment's "solved" threshold) and Acrobot-v1.

Protocol per environment: train a Double DQN (glassnet.rl.DQNAgent) for at most
``--steps`` environment steps; every ``--eval-every`` steps evaluate the greedy policy for
``--eval-episodes`` episodes on a separate environment and keep the best weights (the
checkpoint); stop early once such an evaluation reaches ``--stop-return``; finally
evaluate the kept policy greedily for ``--final-episodes`` (100) fresh episodes of a new
environment seeded apart from the training one, and report that mean honestly, beside
the number of environment steps and the wall time of training (one process, one thread).

    python benchmarks/bench_dqn.py                        # CartPole-v1 and Acrobot-v1
    python benchmarks/bench_dqn.py --envs CartPole-v1 --steps 60000 --seed 1

Writes docs/results/dqn.json, docs/results/dqn.md and docs/results/dqn_<env>.png (the
episode-return curve), and the kept policies under --policy-dir (not committed).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import numpy as np  # noqa: E402

# known-good settings per environment (each can be overridden on the command line)
DEFAULTS = {
    "CartPole-v1": dict(steps=100_000, hidden=(256, 256), lr=5e-4, batch_size=64, buffer_size=50_000,
                        gamma=0.99, target_update=500, tau=1.0, learning_starts=1000,
                        eps_end=0.02, eps_steps=15_000, eval_every=2500, stop_return=500.0,
                        solved=475.0),
    "Acrobot-v1": dict(steps=100_000, hidden=(256, 256), lr=5e-4, batch_size=64, buffer_size=50_000,
                       gamma=0.99, target_update=500, tau=1.0, learning_starts=1000,
                       eps_end=0.02, eps_steps=15_000, eval_every=5000, stop_return=None,
                       solved=-100.0),
}
KEYS = ("steps", "hidden", "lr", "batch_size", "buffer_size", "gamma", "target_update", "tau",
        "learning_starts", "eps_end", "eps_steps", "eval_every", "stop_return", "solved")


def run_env(env_id: str, cfg: dict, seed: int, eval_episodes: int, final_episodes: int,
            policy_dir: Path, out_dir: Path, verbose: int) -> dict:
    from glassnet.inspect import plot_episode_returns
    from glassnet.rl import DQNAgent, LinearEpsilon, make_env

    env, eval_env = make_env(env_id, seed=seed), make_env(env_id, seed=seed + 1)
    agent = DQNAgent.for_env(
        env, hidden=cfg["hidden"], lr=cfg["lr"], gamma=cfg["gamma"], double=True,
        target_update=cfg["target_update"], tau=cfg["tau"], batch_size=cfg["batch_size"],
        buffer_size=cfg["buffer_size"], learning_starts=cfg["learning_starts"],
        epsilon=LinearEpsilon(1.0, cfg["eps_end"], cfg["eps_steps"]), seed=seed)
    policy_dir.mkdir(parents=True, exist_ok=True)
    ckpt = policy_dir / f"dqn_{env_id}.safetensors"
    t0 = time.perf_counter()
    hist = agent.train(env, cfg["steps"], eval_env=eval_env, eval_every=cfg["eval_every"],
                       eval_episodes=eval_episodes, stop_return=cfg["stop_return"],
                       checkpoint=ckpt, verbose=verbose)
    train_wall = time.perf_counter() - t0
    best = hist.params["best"]
    # the kept (best) policy, read back from its file: what a user would load
    policy = DQNAgent.load(ckpt)
    final_env = make_env(env_id)
    t1 = time.perf_counter()
    final = policy.evaluate(final_env, final_episodes, seed=seed + 10_000)
    eval_wall = time.perf_counter() - t1
    slug = env_id.replace("/", "_")
    png = out_dir / f"dqn_{slug}.png"
    plot_episode_returns(hist, png, solved=cfg["solved"],
                         title=f"Double DQN on {env_id} (seed {seed})")
    return {
        "env": env_id, "seed": seed, "settings": {k: cfg[k] for k in KEYS},
        "eval_episodes": eval_episodes, "final_episodes": final_episodes,
        "env_steps": hist.params["env_steps"], "episodes": len(hist),
        "train_wall_s": round(train_wall, 2),
        "best_checkpoint": best,
        "final_mean_return": float(final.mean()), "final_std_return": float(final.std()),
        "final_min_return": float(final.min()), "final_eval_wall_s": round(eval_wall, 2),
        "solved_threshold": cfg["solved"], "solved": bool(final.mean() >= cfg["solved"]),
        "stop_reason": hist.stop_reason, "evaluations": hist.params["evaluations"],
        "curve": png.name,
        "history": {k: hist.history[k] for k in ("return", "length", "env_steps")},
    }


def render_md(results: list[dict], command: str) -> str:
    n_final = results[0]["final_episodes"] if results else 100
    lines = ["# Deep Q-learning (Double DQN) on Gymnasium environments", "",
             "Written by `benchmarks/bench_dqn.py`; every number below comes from that run.", "",
             f"Command: `{command}`", "",
             f"Machine: {platform.machine()}, Python {platform.python_version()}, NumPy "
             f"{np.__version__}, one thread (OMP_NUM_THREADS=1), on a CPU shared with other jobs "
             "(wall times are upper bounds).", "",
             "Protocol: train for at most the step budget, evaluate the greedy policy every "
             "`eval_every` steps for a few episodes on a separate environment, keep the best "
             "weights (checkpoint file), stop early once an evaluation reaches `stop_return`; "
             "then load the kept policy from its file and evaluate it greedily on "
             f"**{n_final} fresh episodes** of a new environment with another seed. That last "
             "number is the result. The training wall time includes the periodic evaluations.", "",
             f"| environment | final mean return ({n_final} episodes) | std | min | solved at | "
             "env steps | wall time (training) | best periodic eval |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        b = r["best_checkpoint"] or {}
        lines.append(
            f"| {r['env']} | **{r['final_mean_return']:.1f}** | {r['final_std_return']:.1f} | "
            f"{r['final_min_return']:.0f} | {r['solved_threshold']:g} "
            f"({'yes' if r['solved'] else 'no'}) | {r['env_steps']:,} | {r['train_wall_s']:.0f} s | "
            f"{b.get('mean_return', float('nan')):.1f} at step {b.get('env_steps', 0):,} |")
    lines.append("")
    for r in results:
        s = r["settings"]
        lines += [f"## {r['env']}", "",
                  f"![episode returns]({r['curve']})", "",
                  f"Settings: MLP {'x'.join(map(str, s['hidden']))} (ReLU), Adam lr {s['lr']:g}, "
                  f"batch {s['batch_size']}, replay {s['buffer_size']:,}, gamma {s['gamma']}, "
                  f"hard target update every {s['target_update']} updates (tau {s['tau']}), "
                  f"Huber loss, gradient norm clipped at 10, epsilon 1 -> {s['eps_end']} over "
                  f"{s['eps_steps']:,} steps, {s['learning_starts']:,} steps before learning, "
                  f"Double DQN, seed {r['seed']}. {r['episodes']} training episodes. "
                  + (f"Stop: {r['stop_reason']}." if r["stop_reason"] else
                     "No early stop (the whole budget ran)."), ""]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--envs", nargs="+", default=["CartPole-v1", "Acrobot-v1"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, help="step budget (default per env)")
    p.add_argument("--hidden", type=int, nargs="+")
    p.add_argument("--lr", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--target-update", type=int)
    p.add_argument("--tau", type=float)
    p.add_argument("--eps-steps", type=int)
    p.add_argument("--eval-every", type=int)
    p.add_argument("--eval-episodes", type=int, default=10)
    p.add_argument("--final-episodes", type=int, default=100)
    p.add_argument("--out", default=str(REPO / "docs" / "results"))
    p.add_argument("--name", default="dqn", help="stem of the .json/.md files")
    p.add_argument("--policy-dir", default=str(REPO / "runs" / "bench_dqn"))
    p.add_argument("--verbose", type=int, default=2)
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for env_id in a.envs:
        cfg = dict(DEFAULTS.get(env_id, DEFAULTS["Acrobot-v1"]))
        for k in ("steps", "lr", "batch_size", "target_update", "tau", "eps_steps", "eval_every"):
            v = getattr(a, k)
            if v is not None:
                cfg[k] = v
        if a.hidden:
            cfg["hidden"] = tuple(a.hidden)
        print(f"== {env_id}: {cfg}", flush=True)
        r = run_env(env_id, cfg, a.seed, a.eval_episodes, a.final_episodes,
                    Path(a.policy_dir), out, a.verbose)
        print(f"== {env_id}: final mean return {r['final_mean_return']:.1f} over "
              f"{a.final_episodes} episodes, {r['env_steps']} env steps, "
              f"{r['train_wall_s']:.0f} s", flush=True)
        results.append(r)
        command = "python benchmarks/bench_dqn.py " + " ".join(argv if argv is not None else sys.argv[1:])
        (out / f"{a.name}.json").write_text(json.dumps({"command": command.strip(),
                                                         "results": results}, indent=1))
        (out / f"{a.name}.md").write_text(render_md(results, command.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
