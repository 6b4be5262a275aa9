"""Build the tables of FINDINGS.md from the tools' JSON output (TEST TOOLING).

    PYTHONPATH=src python tests/third_party/probe_chain.py --json chains.json
    PYTHONPATH=src python tests/third_party/run_script.py --all --backend torch --threads 1 \
        --json torch.json
    PYTHONPATH=src python tests/third_party/idioms.py --json idioms.json
    python tests/third_party/report.py chains.json torch.json idioms.json [torch2.json
        probed.json] > tables.md      # torch with 2 threads; glassnet with --probes -1
"""
from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from idioms import SCRIPT_CODES  # noqa: E402
from probes import GAPS, PROBES, gap_keys  # noqa: E402
from run_script import SCRIPTS  # noqa: E402


def _esc(s) -> str:
    return str(s if s is not None else "").replace("|", "\\|").replace("\n", " ")


def _fmt_losses(losses) -> str:
    if not losses:
        return ""
    if len(losses) == 1:
        return f"{losses[0]:.4g}"
    return f"{losses[0]:.4g} -> {losses[-1]:.4g}"


def gap_table() -> str:
    where = defaultdict(dict)            # gap -> script -> [lines]
    for name, entries in PROBES.items():
        for e in entries:
            for k in gap_keys(e):
                where[k].setdefault(name, [])
                tag = f"{e[1]}" if e[0] == "original.py" else f"{e[0]}:{e[1]}"
                where[k][name].append(tag)
    rows = sorted(where.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    out = ["| # | gap | scripts | where (script: lines) |", "|---|---|---|---|"]
    for i, (k, per) in enumerate(rows, 1):
        places = "; ".join(f"{n}: {', '.join(v)}" for n, v in sorted(per.items()))
        out.append(f"| {i} | **{k}**: {_esc(GAPS[k])} | {len(per)} | {_esc(places)} |")
    return "\n".join(out)


def chain_tables(chains: dict, torch_rows: dict) -> str:
    parts = []
    for name in SCRIPTS:
        rows = chains.get(name, [])
        probes = PROBES.get(name, [])
        parts.append(f"### {name}\n\n{SCRIPTS[name].title}\n")
        parts.append("| step | what happens on glassnet | script line | next edit (gap, line) |")
        parts.append("|---|---|---|---|")
        for r in rows:
            k = r["k"]
            e = r.get("error") or {}
            if r.get("ok"):
                what = "runs to the end: " + (r.get("check") or "")
            else:
                what = f"{e.get('type')}: {e.get('message')}"
            line = f"{e.get('script_file') or ''}:{e.get('script_line')} `{e.get('script_code')}`" \
                if e.get("script_line") else ""
            fix = ""
            if k < len(probes):
                p = probes[k]
                fix = ", ".join(gap_keys(p)) + (f" (line {p[1]})" if p[2] != "@vision-standin"
                                                else " (torchvision -> stand-in)")
            parts.append(f"| {k} | {_esc(what)[:260]} | {_esc(line)[:160]} | {_esc(fix)} |")
        last = rows[-1] if rows else {}
        t = torch_rows.get(name, {})
        parts.append("")
        if last.get("losses") or t.get("losses"):
            outcome = (f"losses glassnet {_fmt_losses(last.get('losses'))} vs torch "
                       f"{_fmt_losses(t.get('losses'))}")
        else:
            outcome = f"glassnet: {last.get('check')}; torch: {t.get('check')}"
        parts.append(f"After {len(probes)} edits: ran={last.get('ok')}, "
                     f"learned={last.get('learned')}; {outcome}.\n")
    return "\n".join(parts)


def idiom_table(idioms: list) -> str:
    order = {"differs": 0, "missing": 1, "n/a": 2, "ok (glassnet imports)": 3, "ok": 4,
             "torch-error": 5}
    rows = sorted(idioms, key=lambda r: (order.get(r["status"], 9), r["area"]))
    out = ["| status | idiom | area | used by | glassnet today |", "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['status']} | `{_esc(r['id'])}` | {r['area']} | {r['scripts']} | "
                   f"{_esc(r['detail'])[:200]} |")
    counts = defaultdict(int)
    for r in idioms:
        counts[r["status"]] += 1
    out.append("")
    out.append("Totals: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) +
               f" (of {len(idioms)}). Script codes: " +
               ", ".join(f"{c} = {n}" for c, n in SCRIPT_CODES.items()) + ".")
    return "\n".join(out)


def idioms_by_script(idioms: list) -> str:
    """For each stored script, the idioms it uses and their status on glassnet."""
    mark = {"ok": "ok", "missing": "MISSING", "differs": "DIFFERS", "n/a": "n/a",
            "ok (glassnet imports)": "ok*"}
    out = []
    for code, name in SCRIPT_CODES.items():
        used = [r for r in idioms if code in re.sub(r"\(.*?\)", " ", r["scripts"]).split()
                or r["scripts"] == "all"]
        bad = sum(r["status"] not in ("ok", "ok (glassnet imports)") for r in used)
        items = "; ".join(f"`{_esc(r['id'])}` {mark.get(r['status'], r['status'])}" for r in used)
        out.append(f"- **{name}** ({code}, {len(used)} idioms, {bad} not ok): {items}")
    return "\n".join(out)


def timing_table(torch_rows: dict, chains: dict, torch2: dict | None = None,
                 probed: dict | None = None) -> str:
    """Wall / CPU seconds of each short run (imports included: torch's is ~1.5 s of CPU,
    glassnet's ~0.3 s)."""
    head = "| script | torch, 1 thread: wall s | CPU s |"
    sep = "|---|---|---|"
    if torch2:
        head += " torch, 2 threads: wall s |"
        sep += "---|"
    head += " glassnet + workarounds, 1 thread: wall s |"
    sep += "---|"
    out = [head, sep]
    for name in SCRIPTS:
        t = torch_rows.get(name, {})
        g = (probed or {}).get(name) or (chains.get(name) or [{}])[-1]
        row = f"| {name} | {t.get('seconds')} | {t.get('cpu_seconds')} |"
        if torch2:
            row += f" {torch2.get(name, {}).get('seconds')} |"
        row += f" {g.get('seconds') if g.get('ok') else '(does not run)'} |"
        out.append(row)
    return "\n".join(out)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    chains = json.loads(Path(argv[0]).read_text())
    torch_rows = {r["name"]: r for r in json.loads(Path(argv[1]).read_text())}
    idioms = json.loads(Path(argv[2]).read_text())
    def rows(i):
        return {r["name"]: r for r in json.loads(Path(argv[i]).read_text())} \
            if len(argv) > i else None
    torch2, probed = rows(3), rows(4)
    print("## Gaps, by the number of scripts they block\n")
    print(gap_table())
    print("\n## Short-run times\n")
    print(timing_table(torch_rows, chains, torch2, probed))
    print("\n## Every failure, script by script\n")
    print(chain_tables(chains, torch_rows))
    print("\n## The idioms each script uses\n")
    print(idioms_by_script(idioms))
    print("\n## The idioms, checked against torch\n")
    print(idiom_table(idioms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
