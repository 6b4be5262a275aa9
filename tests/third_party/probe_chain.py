"""Walk a cited script past its glassnet failures with the workarounds of probes.py and
list every failure on the way (TEST TOOLING; the results are in FINDINGS.md).

    PYTHONPATH=src python tests/third_party/probe_chain.py NAME [NAME ...] [--json out.json]

For N = 0, 1, 2, ... the script runs (in a fresh interpreter, glassnet backend) with the
first N workarounds applied; each run's failure is printed with the script line it came
from. The chain is only as long as probes.py makes it: the last line says whether the
script then ran to the end, or which failure has no workaround yet.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from probes import PROBES  # noqa: E402
from run_script import SCRIPTS, run_subprocess  # noqa: E402


def chain(name: str, threads: int = 1, timeout: float = 120.0) -> list:
    rows = []
    for k in range(len(PROBES.get(name, [])) + 1):
        r = run_subprocess(name, "glassnet", "auto", False, threads, timeout, probes=k)
        err = r.get("error")
        rows.append({"k": k, "ok": r.get("ok"), "error": err, "losses": r.get("losses"),
                     "check": r.get("check"), "learned": r.get("learned"),
                     "seconds": r.get("seconds"), "cpu_seconds": r.get("cpu_seconds"),
                     "workaround": PROBES[name][k][4] if k < len(PROBES.get(name, [])) else None})
        e = err or {}
        where = f"line {e.get('script_line')}: {e.get('script_code')}" if e.get("script_line") \
            else ""
        print(f"{name} [{k}] ok={r.get('ok')} {e.get('type', '')}: "
              f"{(e.get('message') or '')[:150]} | {where} | {r.get('check') or ''}", flush=True)
        if r.get("ok") and r.get("learned") and k == len(PROBES.get(name, [])):
            break
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*")
    ap.add_argument("--json")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    names = args.names or list(SCRIPTS)
    out = {n: chain(n, args.threads) for n in names}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
