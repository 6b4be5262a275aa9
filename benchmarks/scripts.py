"""Full runs of the third-party PyTorch scripts (tests/third_party) as benchmarks, glassnet
against PyTorch on the same machine: wall time, ratio torch / glassnet, peak memory.

Each run is a fresh interpreter (so peak memory is the run's own ``ru_maxrss``) that runs one
script through ``tests/third_party/run_script.py`` (which rewrites only its import lines) with
``--threads`` compute threads (torch.set_num_threads, glassnet.set_num_threads, OMP / BLAS
variables). The two libraries alternate (``--repeats`` pairs, the first library of each pair
alternating), and the report gives the median wall time of each and the median of the
per-pair ratios torch / glassnet (>= 1: glassnet is as fast; the bar is 0.9).

What is run: each script's own default run on the full data (MNIST, Fashion-MNIST, tiny
Shakespeare), with only the script's own command-line knobs (``RUNS[name].argv``, e.g.
``--epochs 1``) and, where a script has no knob and its default run takes hours on a CPU,
documented exact edits (``RUNS[name].edits``; the same on both libraries).

Edits for glassnet (``--edits``): ``auto`` (default) runs a script on glassnet unchanged
first and, only if that fails, again with every user-side workaround that
tests/third_party/probes.py lists for it (the report names them); ``none`` never edits,
``all`` always applies them. So the day glassnet has the API, the runs use zero edits with
no change here.

    python benchmarks/scripts.py                           # the six training scripts
    python benchmarks/scripts.py ngvl_bigram --repeats 3
    python benchmarks/scripts.py --all --out docs/results/scripts.md
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
THIRD_PARTY = REPO / "tests" / "third_party"
CHILD_TAG = "SCRIPT_BENCH_RESULT"


@dataclass
class Run:
    """How one script is benchmarked: its own arguments, exact edits (old, new, why) applied
    on both libraries, and the seconds allowed per run."""
    argv: list = field(default_factory=list)
    edits: list = field(default_factory=list)
    timeout: float = 1800.0


def _gpt_iters() -> str:
    return os.environ.get("SCRIPT_BENCH_GPT_ITERS", "10")


RUNS = {
    "pytorch_examples_mnist": Run(argv=["--epochs", "1"]),
    "pytorch_examples_vae": Run(argv=["--epochs", "1"]),
    "tutorials_quickstart": Run(),                  # its own 5 epochs (no knob)
    "ngvl_bigram": Run(),                           # its own 3000 steps
    # the full GPT (6 layers, 384 wide, context 256, batch 64) trains 5000 steps, hours on
    # 2 CPU cores: only the step counts change (the model and batch are the script's)
    "ngvl_gpt": Run(edits=[
        ("max_iters = 5000", f"max_iters = {_gpt_iters()}",
         "train 10 steps (SCRIPT_BENCH_GPT_ITERS) instead of 5000"),
        ("eval_iters = 200", "eval_iters = 2", "estimate each loss on 2 batches, not 200"),
        ("max_new_tokens=500)[0]", "max_new_tokens=50)[0]", "sample 50 characters, not 500"),
    ]),
    "tutorials_word_embeddings": Run(),
    "tutorials_sequence_models": Run(),
}
TRAINING = list(RUNS)
OTHERS = ["pytorch_examples_time_sequence", "tutorials_neural_networks",
          "tutorials_polynomial_nn", "tutorials_polynomial_custom_function",
          "micrograd_test_engine"]


def _third_party():
    if str(THIRD_PARTY) not in sys.path:
        sys.path.insert(0, str(THIRD_PARTY))
    import run_script
    return run_script


def workarounds(name: str) -> list:
    """probes.py's user-side edits for ``name`` that a full run can need (the stand-in
    vision entry is dropped: the full IDX files carry the published checksums)."""
    _third_party()
    from probes import PROBES
    return [p for p in PROBES.get(name, []) if p[2] != "@vision-standin"]


# --------------------------------------------------------------------------- one run
def child(name: str, backend: str, threads: int, probes: int, extra) -> dict:
    """Run ``name`` in this (fresh) process and return run_script's result dict, with the
    process's peak resident memory (MiB) added."""
    import resource
    rs = _third_party()
    t0 = time.perf_counter()
    if backend == "torch":      # the library's import is timed apart from the script's run
        import torch  # noqa: F401
    else:
        import glassnet  # noqa: F401
    import_s = time.perf_counter() - t0
    spec = rs.SCRIPTS[name]
    cfg = RUNS.get(name, Run())
    for step in spec.steps:      # the documented edits, on both libraries
        step.always_patches = list(step.always_patches) + [
            e for e in cfg.edits if (THIRD_PARTY / name / step.file).read_text(
                encoding="utf-8").count(e[0]) == 1]
        if probes:
            from probes import PROBES
            PROBES[name] = workarounds(name)
    res = rs.run(name, backend, full=True, extra_argv=list(cfg.argv) + list(extra),
                 threads=threads, probes=probes)
    res["import_seconds"] = round(import_s, 3)
    res["maxrss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return res


def run_once(name: str, backend: str, threads: int, probes: int = 0, extra=(),
             timeout: float | None = None) -> dict:
    """One run in a fresh interpreter; the result dict (or one describing the failure)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    env.setdefault("PYTHONHASHSEED", "0")
    env.setdefault("MPLBACKEND", "Agg")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "GLASSNET_NUM_THREADS"):
        env[var] = str(threads)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--backend",
           backend, "--threads", str(threads), "--probes", str(probes)]
    if extra:
        cmd += ["--", *extra]
    t0 = time.perf_counter()
    timeout = timeout or RUNS.get(name, Run()).timeout
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"name": name, "backend": backend, "ok": False, "seconds": timeout,
                "error": {"type": "Timeout", "message": f"no result after {timeout:.0f} s"}}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith(CHILD_TAG + " "):
            res = json.loads(line[len(CHILD_TAG) + 1:])
            res["stderr_tail"] = p.stderr[-2000:]
            return res
    return {"name": name, "backend": backend, "ok": False,
            "seconds": round(time.perf_counter() - t0, 3),
            "error": {"type": "Crash", "message": f"exit code {p.returncode}, no result line"},
            "stderr_tail": p.stderr[-2000:]}


def run_glassnet(name, threads, edits, extra=(), timeout=None):
    """A glassnet run with the fewest edits ``edits`` allows: auto = none, then all of
    probes.py's if the unedited run fails."""
    n = len(workarounds(name))
    if edits == "all" and n:
        return run_once(name, "glassnet", threads, n, extra, timeout)
    res = run_once(name, "glassnet", threads, 0, extra, timeout)
    if edits == "auto" and not res.get("ok") and n and \
            (res.get("error") or {}).get("type") != "Timeout":
        first = res
        res = run_once(name, "glassnet", threads, n, extra, timeout)
        res["unedited_error"] = first.get("error")
    return res


def bench(name, threads=2, repeats=1, edits="auto", extra=(), timeout=None, log=print):
    """``repeats`` alternating pairs of runs of ``name``; a summary dict."""
    runs = {"torch": [], "glassnet": []}
    probes = None
    for r in range(repeats):
        order = ("torch", "glassnet") if r % 2 == 0 else ("glassnet", "torch")
        for lib in order:
            if lib == "torch":
                res = run_once(name, "torch", threads, 0, extra, timeout)
            elif probes is None:
                res = run_glassnet(name, threads, edits, extra, timeout)
                probes = res.get("probes", 0)
            else:      # the edits the first glassnet run needed
                res = run_once(name, "glassnet", threads, probes, extra, timeout)
            runs[lib].append(res)
            log(f"  {name} {lib}: ok={res.get('ok')} {res.get('seconds')} s "
                f"maxrss {res.get('maxrss_mib')} MiB probes={res.get('probes')} "
                f"{(res.get('error') or {}).get('message', '')[:100]}")
    return summarize(name, runs)


def summarize(name, runs) -> dict:
    ok = {k: [r for r in v if r.get("ok")] for k, v in runs.items()}
    med = {k: (statistics.median(r["seconds"] for r in v) if v else None)
           for k, v in ok.items()}
    mem = {k: (max(r.get("maxrss_mib") or 0 for r in v) if v else None)
           for k, v in ok.items()}
    pairs = [t["seconds"] / g["seconds"] for t, g in zip(runs["torch"], runs["glassnet"])
             if t.get("ok") and g.get("ok") and g["seconds"]]
    cpu = {k: [r["cpu_seconds"] for r in v if r.get("cpu_seconds")] for k, v in ok.items()}
    cpu = {k: (statistics.median(v) if v else None) for k, v in cpu.items()}
    cpu_pairs = [t["cpu_seconds"] / g["cpu_seconds"]
                 for t, g in zip(runs["torch"], runs["glassnet"])
                 if t.get("ok") and g.get("ok") and g.get("cpu_seconds") and t.get("cpu_seconds")]
    g0 = runs["glassnet"][0] if runs["glassnet"] else {}
    n_edit = g0.get("probes", 0) or 0
    return {"name": name, "torch_s": med["torch"], "glassnet_s": med["glassnet"],
            "ratio": statistics.median(pairs) if pairs else None,
            "ratio_range": (min(pairs), max(pairs)) if pairs else None,
            "torch_cpu_s": cpu["torch"], "glassnet_cpu_s": cpu["glassnet"],
            "cpu_ratio": statistics.median(cpu_pairs) if cpu_pairs else None,
            "torch_mib": mem["torch"], "glassnet_mib": mem["glassnet"],
            "edits": [f"line {w[1]}: `{w[2]}` -> `{w[3]}`" for w in workarounds(name)[:n_edit]],
            "bench_edits": [f"`{e[0]}` -> `{e[1]}` ({e[2]})" for e in RUNS.get(name, Run()).edits],
            "argv": RUNS.get(name, Run()).argv,
            "glassnet_error": None if g0.get("ok") else g0.get("error"),
            "torch_error": None if any(r.get("ok") for r in runs["torch"])
            else (runs["torch"][0].get("error") if runs["torch"] else None),
            "glassnet_losses": (g0.get("losses") or [])[-1:],
            "torch_losses": ((runs["torch"][0].get("losses") if runs["torch"] else None)
                             or [])[-1:],
            "runs": {k: [{x: r.get(x) for x in _KEPT} for r in v] for k, v in runs.items()}}


_KEPT = ("ok", "seconds", "cpu_seconds", "import_seconds", "maxrss_mib", "probes", "error",
         "check", "losses")


# ------------------------------------------------------------------------- the report
def _f(v, fmt="{:.1f}"):
    return "-" if v is None else fmt.format(v)


def render(rows, meta) -> str:
    out = ["# Third-party scripts, full runs: glassnet against PyTorch",
           "",
           "Written by `benchmarks/scripts.py` (do not edit by hand). Each run is a fresh "
           "interpreter running the script through `tests/third_party/run_script.py` (only "
           "its import lines rewritten); torch and glassnet alternate. Times are the "
           "script's own wall time, the library already imported (importing torch takes "
           "seconds, glassnet a fraction of one). Ratio = torch wall "
           "time / glassnet wall time (median over pairs; >= 0.9 is the bar). Memory: the "
           "run's peak resident set (`ru_maxrss`).",
           "",
           f"- when: {meta['when']}; commit {meta['commit']}; {meta['threads']} threads; "
           f"{meta['repeats']} pair(s) per script",
           f"- machine: {meta['machine']}; load before: {meta['load_before']}, "
           f"after: {meta['load_after']} (`uptime`: other jobs shared the cores, so times "
           "are noisy)",
           "",
           "CPU s: the process time of all the run's threads; on a machine shared with other "
           "jobs it is the steadier measure (a run's wall time depends on how much of the "
           "cores it got), so its ratio is given too.",
           "",
           "| script | torch s | glassnet s | ratio torch/glassnet | torch CPU s | glassnet CPU s "
           "| CPU ratio | torch MiB | glassnet MiB | glassnet edits | notes |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        rng = r["ratio_range"]
        ratio = _f(r["ratio"], "{:.2f}") + (f" ({rng[0]:.2f}-{rng[1]:.2f})"
                                            if rng and rng[0] != rng[1] else "")
        notes = []
        if r["glassnet_error"]:
            e = r["glassnet_error"]
            notes.append(f"glassnet fails: {e.get('type')}: {str(e.get('message'))[:120]}"
                         + (f" (line {e.get('script_line')})" if e.get("script_line") else ""))
        if r["torch_error"]:
            notes.append(f"torch fails: {r['torch_error'].get('message', '')[:80]}")
        if r["argv"]:
            notes.append("args " + " ".join(r["argv"]))
        if r["bench_edits"]:
            notes.append("both: " + "; ".join(r["bench_edits"]))
        if r["glassnet_losses"] and r["torch_losses"]:
            notes.append(f"last loss torch {r['torch_losses'][-1]:.4g}, "
                         f"glassnet {r['glassnet_losses'][-1]:.4g}")
        out.append(f"| {r['name']} | {_f(r['torch_s'])} | {_f(r['glassnet_s'])} | {ratio} | "
                   f"{_f(r.get('torch_cpu_s'))} | {_f(r.get('glassnet_cpu_s'))} | "
                   f"{_f(r.get('cpu_ratio'), '{:.2f}')} | "
                   f"{_f(r['torch_mib'], '{:.0f}')} | {_f(r['glassnet_mib'], '{:.0f}')} | "
                   f"{len(r['edits'])} | {'; '.join(notes)} |")
    out += ["", "## Edits glassnet needed (from tests/third_party/probes.py)", ""]
    for r in rows:
        if r["edits"]:
            out.append(f"- {r['name']}: " + "; ".join(r["edits"]))
    if not any(r["edits"] for r in rows):
        out.append("- none")
    return "\n".join(out) + "\n"


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="script folders (default: the training scripts)")
    ap.add_argument("--all", action="store_true", help="every script of tests/third_party")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1, help="alternating pairs per script")
    ap.add_argument("--edits", choices=["auto", "none", "all"], default="auto")
    ap.add_argument("--timeout", type=float, help="seconds per run (default: per script)")
    ap.add_argument("--out", help="write the markdown report here (and .json beside it)")
    ap.add_argument("--render", nargs="+", metavar="JSON",
                    help="re-render the report from earlier runs' .json files (rows in order)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--backend", default="glassnet", help=argparse.SUPPRESS)
    ap.add_argument("--probes", type=int, default=0, help=argparse.SUPPRESS)
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if args.child:
        res = child(args.child, args.backend, args.threads, args.probes, extra)
        sys.stdout.flush()
        print(f"{CHILD_TAG} {json.dumps(res)}")
        return 0
    if args.render:
        rows, meta = [], None
        for path in args.render:
            data = json.loads(Path(path).read_text())
            rows += [summarize(r["name"], r["runs"]) for r in data["rows"]]
            meta = meta or data["meta"]
        md = render(rows, meta)
        if args.out:
            Path(args.out).write_text(md)
            Path(args.out).with_suffix(".json").write_text(
                json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
        print(md)
        return 0
    names = args.names or (TRAINING + OTHERS if args.all else TRAINING)
    meta = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": _commit(),
            "threads": args.threads, "repeats": args.repeats,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    rows = []
    for name in names:
        rows.append(bench(name, args.threads, args.repeats, args.edits, extra, args.timeout))
        meta["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        if args.out:       # rewritten after each script, so a long session keeps its rows
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(render(rows, meta))
            Path(args.out).with_suffix(".json").write_text(
                json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    meta["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(render(rows, meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
