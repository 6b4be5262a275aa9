"""``python -m tools.fuzz``: fuzz glassnet's file readers (run from the repository root with
``PYTHONPATH=src``).

Examples::

    python -m tools.fuzz --target all --cases 200                 # a few minutes
    python -m tools.fuzz --target model --cases 10000 --jobs 2 --report fuzz.json --keep failures/
    python -m tools.fuzz --replay failures/model/model-s0-c00042-lenet-...safetensors --target model

Exit status: 0 when no case failed, 1 when some did, 3 when a control (an unmutated seed)
did not load back unchanged (a harness or glassnet regression).
"""
from __future__ import annotations

import argparse
import json
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.fuzz", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", default="all",
                   help="model, weights, checkpoint, idx, digits, text, all, or a "
                        "comma-separated list (default all)")
    p.add_argument("--cases", type=int, default=100, help="cases per target (default 100)")
    p.add_argument("--start", type=int, default=0, help="number of the first case (default 0)")
    p.add_argument("--seed", type=int, default=0, help="mutation seed (default 0)")
    p.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds a case may run (default 10)")
    p.add_argument("--slack-mb", type=int, default=64,
                   help="memory bound: 4x the largest valid seed plus this (default 64)")
    p.add_argument("--max-bomb-mb", type=int, default=1024,
                   help="largest decompressed size of a gzip bomb (default 1024)")
    p.add_argument("--report", help="write the JSON report here")
    p.add_argument("--findings", help="write the markdown findings here")
    p.add_argument("--by-mutator", metavar="FILE",
                   help="write a markdown table of what each mutator family got here")
    p.add_argument("--keep", help="copy failing files (with a .json sidecar) into this folder")
    p.add_argument("--replay", help="run one kept file again and print its outcome")
    p.add_argument("--kind", help="seed kind of the replayed file (default: from its sidecar "
                                  "or name)")
    p.add_argument("--from-report", metavar="REPORT",
                   help="print the table (and write --findings) of an earlier --report, "
                        "without running anything")
    p.add_argument("--no-valid-memory", action="store_true",
                   help="skip the peak-memory measurement of a large valid model file (done "
                        "when the model or weights target runs)")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    if a.from_report:
        from .report import table
        with open(a.from_report) as f:
            report = json.load(f)
        print(table(report))
        _write(a, report)
        return 1 if report.get("total_failures") else 0

    from .harness import ALL_TARGETS, Fuzzer
    from .report import table
    import glassnet as gn
    gn.set_num_threads(1)        # cases run in parallel processes, not threads

    targets = ALL_TARGETS if a.target == "all" else tuple(a.target.split(","))
    bad = [t for t in targets if t not in ALL_TARGETS]
    if bad:
        p.error(f"--target: unknown {bad}; choose from {', '.join(ALL_TARGETS)} or all")
    fz = Fuzzer(seed=a.seed, max_bomb=a.max_bomb_mb << 20)
    try:
        if a.replay:
            if len(targets) != 1:
                p.error("--replay needs one --target")
            case = fz.replay(a.replay, targets[0], a.kind, a.timeout, a.slack_mb)
            tb = case.pop("traceback", None)
            print(json.dumps(case, indent=1))
            if tb:
                print(tb, file=sys.stderr)
            return 1 if case["failure"] else 0
        log = None if a.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
        report = fz.run(targets, a.cases, a.jobs, a.timeout, a.keep, a.slack_mb,
                        progress=log, start=a.start)
        if not a.no_valid_memory and {"model", "weights"} & set(targets):
            report["valid_memory"] = vm = fz.valid_memory()
            bad = [k for k, v in vm.items() if v["outcome"] != "ok-same"]
            report["total_failures"] += len(bad)
    finally:
        fz.close()
    print(table(report))
    for call, v in report.get("valid_memory", {}).items():
        print(f"valid {v['size_mb']} MB model, {call}: peak RSS {v['peak_mb']} MB = "
              f"{v['ratio']}x the file (bound 4x + 16 MB = {v['bound_mb']} MB): {v['outcome']}")
    for n in report["notes"]:
        print("note:", n)
    if a.report:
        with open(a.report, "w") as f:
            json.dump(report, f, indent=1, default=str)
    _write(a, report)
    if any(n.startswith("CONTROL FAILED") for n in report["notes"]):
        return 3
    return 1 if report["total_failures"] else 0


def _write(a, report):
    from .report import by_mutator, findings
    if a.findings:
        with open(a.findings, "w") as f:
            f.write(findings(report))
    if a.by_mutator:
        with open(a.by_mutator, "w") as f:
            f.write(by_mutator(report))


if __name__ == "__main__":
    sys.exit(main())
