"""The summary table, and the findings page: failures grouped by target, outcome and
exception, with counts, a message and one replay file each."""
from __future__ import annotations

from collections import defaultdict

from .runner import OUTCOMES


def table(report: dict) -> str:
    """A markdown table: one row per target, one column per outcome met, then failures and
    cases/s."""
    seen = [o for o in OUTCOMES if any(t["outcomes"].get(o) for t in report["targets"].values())]
    head = ["target", "cases"] + seen + ["failures", "cases/s", "peak MB (ok/refused)",
                                         "bound MB"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, t in report["targets"].items():
        cells = [name, str(t["cases"])] + [str(t["outcomes"].get(o, 0)) for o in seen] + [
            f"**{t['failures']}**" if t["failures"] else "0", str(t["cases_per_s"]),
            str(t["peak_rss_mb_ok"]), str(t["memory_bound_mb"])]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def group_failures(report: dict) -> dict:
    """{(target, outcome, error, where): [cases]}."""
    groups = defaultdict(list)
    for c in report["failures"]:
        key = (c["target"], c["outcome"], c.get("error") or c.get("signal") or "",
               c.get("where", ""))
        groups[key].append(c)
    return groups


def owner(target: str, outcome: str, where: str, mutators) -> str:
    """The part of glassnet (issue 15's split of the work) a failure group most likely
    belongs to: a hint for the reader, from the target and the raising frame."""
    if target in ("idx", "digits", "text"):
        return "data readers (datafiles)"
    if "_nonfinite" in where:
        return "training guards (NonFiniteError)"
    if target == "checkpoint":
        if "serialize.py" in where or outcome in ("ok-unchecked",) or (
                outcome == "ok-changed" and not any(m.startswith("resigned") for m in mutators)):
            return "model files (checksum over the metadata, strict parsing)"
        return "checkpoints (validate the trainer state before applying it)"
    return "model files (serialize: checksum, parsing, registry, allocation budget)"


def findings(report: dict, title="Fuzz findings") -> str:
    """Markdown: the table, then every failure group (most frequent first) with the
    mutators that produced it, one message and one replay command."""
    out = [f"# {title}", "", table(report), ""]
    for n in report.get("notes", []):
        out.append(f"- note: {n}")
    groups = group_failures(report)
    by_target = defaultdict(list)
    for key, cases in groups.items():
        by_target[key[0]].append((key, cases))
    for target, items in by_target.items():
        out += ["", f"## {target}", ""]
        items.sort(key=lambda kv: (kv[0][1], -len(kv[1])))
        for (t, outcome, err, where), cases in items:
            muts = defaultdict(int)
            for c in cases:
                muts[c["mutator"]] += 1
            kinds = sorted({c["kind"] for c in cases})
            ex = cases[0]
            line = f"- **{outcome}**" + (f" `{err}`" if err else "") + f" x{len(cases)}"
            if where:
                line += f" at `{where}`"
            line += f" — *{owner(t, outcome, where, list(muts))}*"
            out.append(line)
            out.append(f"  - kinds: {', '.join(kinds)}; mutators: " + ", ".join(
                f"{m} ({k})" for m, k in sorted(muts.items(), key=lambda x: -x[1])[:8]))
            msg = (ex.get("message") or ex.get("detail") or "").replace("\n", " ")
            if msg:
                out.append(f"  - message: `{msg[:300]}`")
            if ex.get("file"):
                out.append(f"  - replay: `PYTHONPATH=src python -m tools.fuzz --replay "
                           f"{ex['file']} --target {t}`")
    return "\n".join(out) + "\n"


def by_mutator(report: dict) -> str:
    """Markdown: per target and mutator family, what the cases got (outcome and error class,
    with counts and one message): the source of the bad-input table in docs/reliability.md."""
    out = ["| target | mutator family | outcomes (count) | example message |", "|---|---|---|---|"]
    for name, t in report["targets"].items():
        for fam, labels in sorted(t.get("by_mutator", {}).items()):
            got = ", ".join(f"{k} ({v['count']})" for k, v in
                            sorted(labels.items(), key=lambda kv: -kv[1]["count"]))
            ex = next((v["example"] for k, v in sorted(labels.items(), key=lambda kv:
                                                        -kv[1]["count"]) if v["example"]), "")
            ex = ex.replace("|", "\\|").replace("\n", " ")
            out.append(f"| {name} | {fam} | {got} | `{ex[:160]}` |")
    return "\n".join(out) + "\n"
