"""The fuzz run: seeds, then per target N mutated cases through the forked runner, with
controls (each seed unmutated, which must load as "ok-same"), kept failing files, and a
report.

>>> fz = Fuzzer(seed=0)                                         # doctest: +SKIP
>>> report = fz.run(["model", "checkpoint"], cases=200, jobs=2)  # doctest: +SKIP
>>> report["targets"]["model"]["failures"]                      # doctest: +SKIP
0
"""
from __future__ import annotations

import json
import random
import re
import shutil
import tempfile
import time
from pathlib import Path

from . import mutators as M
from . import runner
from . import seeds as S
from .targets import TARGETS

FAILING = ("foreign", "crash", "hang", "memory", "memory-refused", "ok-unchecked")
ALL_TARGETS = ("model", "weights", "checkpoint", "idx", "digits", "text")


def is_failure(target, case: dict) -> bool:
    """A crash, hang, foreign exception, memory failure, a file without its checksum that
    loaded, or (checksummed files, not re-signed) a load that changed something."""
    out = case["outcome"]
    return out in FAILING or (out == "ok-changed" and target.checksummed
                              and not case.get("resigned"))


def family(mutator: str) -> str:
    """A mutator's family, without the details that vary from case to case (sizes, keys)."""
    name = re.sub(r"-\d+MB", "", mutator)
    name = re.sub(r"^(struct|resigned)-meta-delete .*", r"\1-meta-delete", name)
    return name


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60]


class Fuzzer:
    """Seeds written into ``workdir`` (a new temporary folder by default) and the targets
    built on them. ``max_bomb`` caps the decompressed size of the gzip bombs."""

    def __init__(self, workdir=None, seed: int = 0, max_bomb: int = 1 << 30):
        self.seed = int(seed)
        self.own_dir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="glassnet-fuzz-")) if workdir is None \
            else Path(workdir)
        self.seed_dir = self.workdir / "seeds"
        self.seed_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        S.warm_kernels()
        model_seeds = S.write_model_seeds(self.seed_dir)
        ck_seeds = S.write_checkpoint_seeds(self.seed_dir)
        data = S.write_data_seeds(self.seed_dir)
        self.seed_seconds = time.perf_counter() - t0
        self.resigner = M.Resigner()
        self.resigner.check(model_seeds[0].path.read_bytes(), self.seed_dir)
        self.notes = []
        if not self.resigner.available:
            self.notes.append("re-signed mutators skipped: " + self.resigner.why)
        seeds = {"model": model_seeds, "weights": model_seeds, "checkpoint": ck_seeds,
                 **data}
        self.targets = {n: TARGETS[n](seeds[n], self.resigner, max_bomb) for n in ALL_TARGETS}

    def close(self):
        if self.own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # ------------------------------------------------------------------ cases
    def case(self, target: str, i: int):
        """(seed, bytes, mutator, re-signed, must-refuse) of case ``i``: the same in every
        run with the same ``seed``."""
        t = self.targets[target]
        seed = t.seeds[i % len(t.seeds)]
        rng = random.Random(f"glassnet-fuzz/{self.seed}/{target}/{i}")
        return (seed, *t.mutate(rng, seed))

    def _job(self, target, key, seed, raw, bound, cap=None, mutator=""):
        t = self.targets[target]
        casedir = self.workdir / "cases" / f"{target}-{key}"
        shutil.rmtree(casedir, ignore_errors=True)
        casedir.mkdir(parents=True)
        path = t.setup(casedir, seed, raw)
        m = re.search(r"bomb-claims-(\d+)MB", mutator)
        if m:   # a valid file of that size: bounded by what its declared array needs
            extra = 6 * (int(m.group(1)) << 20)
            bound, cap = bound + extra, (cap or bound) + extra
        return (key, lambda: t.run(path, seed, casedir), bound, cap), casedir

    def bounds(self, target, slack_mb=64):
        """(memory bound, address-space cap) in bytes for a target's cases: 4x its largest
        valid seed plus ``slack_mb`` MB, and the cap 4x plus 256 MB."""
        big = self.targets[target].largest
        return 4 * big + slack_mb * 2**20, 4 * big + 256 * 2**20

    def run(self, targets=ALL_TARGETS, cases=100, jobs=2, timeout=10.0, keep=None,
            slack_mb=64, controls=True, progress=None, start=0) -> dict:
        """Fuzz each target with ``cases`` cases (numbers ``start`` ..); returns the report
        (see :func:`tools.fuzz.report.summary`). Failing files are copied into ``keep``
        with a ``.json`` sidecar to replay them."""
        keep = Path(keep) if keep else None
        report = {"seed": self.seed, "cases_per_target": cases, "jobs": jobs,
                  "timeout_s": timeout, "slack_mb": slack_mb, "notes": list(self.notes),
                  "seed_seconds": round(self.seed_seconds, 2), "targets": {}, "failures": [],
                  "controls": []}
        if keep:
            (keep / "seeds").mkdir(parents=True, exist_ok=True)
            for p in self.seed_dir.rglob("*"):
                rel = p.relative_to(self.seed_dir)
                if p.is_file() and not rel.parts[0].startswith("_"):
                    dst = keep / "seeds" / rel
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(p, dst)
        for name in targets:
            report["targets"][name] = self._run_target(name, cases, jobs, timeout, keep,
                                                       slack_mb, controls, progress, report,
                                                       start)
        report["total_failures"] = sum(t["failures"] for t in report["targets"].values())
        return report

    def _run_target(self, name, cases, jobs, timeout, keep, slack_mb, controls, progress,
                    report, start):
        t = self.targets[name]
        bound, cap = self.bounds(name, slack_mb)
        dirs = {}
        info = {}
        if controls:
            ctl = []
            for j, seed in enumerate(t.seeds):
                job, d = self._job(name, f"control-{seed.kind}", seed, seed.path.read_bytes(),
                                   bound)
                dirs[job[0]] = d
                ctl.append(job)
            for key, rec in runner.run_many(ctl, jobs, timeout, cap, bound):
                shutil.rmtree(dirs.pop(key), ignore_errors=True)
                if rec["outcome"] == "ok-same":
                    rec.pop("traceback", None)
                report["controls"].append({"target": name, "case": key, **rec})
                if rec["outcome"] != "ok-same":
                    report["notes"].append(f"CONTROL FAILED: {name} {key}: {rec['outcome']} "
                                           f"{rec.get('error', '')} {rec.get('message', '')}")

        counts = {o: 0 for o in runner.OUTCOMES}
        families: dict = {}
        peak = {"ok": 0, "all": 0}
        failures = 0
        done = [0]
        gen_time = [0.0]

        def jobs_iter():
            for i in range(start, start + cases):
                g0 = time.perf_counter()
                seed, raw, mut, resigned, must = self.case(name, i)
                job, d = self._job(name, i, seed, raw, bound, cap, mut)
                gen_time[0] += time.perf_counter() - g0
                dirs[i] = d
                info[i] = {"target": name, "case": i, "seed": self.seed, "kind": seed.kind,
                           "mutator": mut, "resigned": resigned, "must_refuse": must,
                           "size": len(raw), "_path": d / t.file_name(seed)}
                yield job

        def on_result(key, rec):
            nonlocal failures
            case = info.pop(key)
            if case["must_refuse"] and rec["outcome"] in ("ok-same", "ok-changed"):
                rec["outcome"] = "ok-unchecked"
            case.update(rec)
            counts[case["outcome"]] = counts.get(case["outcome"], 0) + 1
            fam = families.setdefault(family(case["mutator"]), {})
            label = case["outcome"] + (f" {case['error']}" if case.get("error") else "")
            entry = fam.setdefault(label, {"count": 0, "example": ""})
            entry["count"] += 1
            if not entry["example"]:
                entry["example"] = str(case.get("message") or case.get("detail") or "")[:240]
            peak["all"] = max(peak["all"], rec["peak_rss_kb"])
            if rec["outcome"].startswith("ok") or rec["outcome"] == "refused":
                peak["ok"] = max(peak["ok"], rec["peak_rss_kb"])
            path = case.pop("_path")
            if is_failure(t, case):
                failures += 1
                if keep:
                    dst = keep / name / (f"{name}-s{self.seed}-c{key:05d}-{case['kind']}-"
                                         f"{_safe(case['mutator'])}{path.suffix}")
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    if path.exists():
                        shutil.copyfile(path, dst)
                        case["file"] = str(dst)
                        dst.with_name(dst.name + ".json").write_text(json.dumps(case, indent=1))
                report["failures"].append(case)
            shutil.rmtree(dirs.pop(key), ignore_errors=True)
            done[0] += 1
            if progress and (done[0] % max(1, cases // 10) == 0 or done[0] == cases):
                progress(f"{name}: {done[0]}/{cases} cases, {failures} failing")

        t0 = time.perf_counter()
        runner.run_many(jobs_iter(), jobs, timeout, cap, bound, on_result)
        wall = time.perf_counter() - t0
        return {"cases": cases, "outcomes": {k: v for k, v in counts.items() if v},
                "by_mutator": families,
                "failures": failures, "seconds": round(wall, 2),
                "cases_per_s": round(cases / wall, 2) if wall else None,
                "mutation_seconds": round(gen_time[0], 2),
                "peak_rss_mb_ok": round(peak["ok"] / 1024, 1),
                "peak_rss_mb_any": round(peak["all"] / 1024, 1),
                "memory_bound_mb": round(bound / 2**20, 1),
                "address_cap_mb": round(cap / 2**20, 1),
                "largest_seed_bytes": t.largest, "resigned_available": self.resigner.available}

    # ------------------------------------------------------------------ valid large files
    def valid_memory(self, sizes=(784, 4096, 4096, 10), timeout=120.0, slack_mb=16) -> dict:
        """Peak RSS of loading one large *valid* model file (an MLP of ``sizes``, 76 MB by
        default) with ``gn.load`` and ``io.load_weights``, against the issue's bound of 4x
        the file's size (plus ``slack_mb`` for the interpreter): {call: {"size_mb",
        "peak_mb", "ratio", "outcome"}}. The model that load_weights fills is built before
        the fork, so only what loading costs is counted."""
        import glassnet as gn
        from glassnet import models
        d = self.workdir / "_valid_memory"
        d.mkdir(exist_ok=True)
        path = d / "big.safetensors"
        gn.manual_seed(0)
        gn.save(models.MLP(list(sizes)), path)
        size = path.stat().st_size
        fresh = models.MLP(list(sizes))
        bound = 4 * size + slack_mb * 2**20
        jobs = [("gn.load", lambda: (gn.load(path), "same")[1], bound, bound + (256 << 20)),
                ("io.load_weights", lambda: (gn.io.load_weights(fresh, path), "same")[1],
                 bound, bound + (256 << 20))]
        out = {}
        for key, rec in runner.run_many(jobs, 1, timeout):
            peak = rec["peak_rss_kb"] * 1024
            out[key] = {"size_mb": round(size / 2**20, 1), "peak_mb": round(peak / 2**20, 1),
                        "ratio": round(peak / size, 2), "outcome": rec["outcome"],
                        "bound_mb": round(bound / 2**20, 1)}
        shutil.rmtree(d, ignore_errors=True)
        return out

    # ------------------------------------------------------------------ replay
    def replay(self, file, target, kind=None, timeout=10.0, slack_mb=64) -> dict:
        """Run one kept file again (in a child) as a case of ``target``."""
        file = Path(file)
        side = file.with_name(file.name + ".json")
        meta = json.loads(side.read_text()) if side.exists() else {}
        kind = kind or meta.get("kind")
        t = self.targets[target]
        if kind is None:
            kinds = sorted((s.kind for s in t.seeds), key=len, reverse=True)
            kind = next((k for k in kinds if f"-{k}-" in file.name), None)
        seed = next((s for s in t.seeds if s.kind == kind), None)
        if seed is None:
            raise SystemExit(f"replay: cannot tell the seed kind of {file.name}; give --kind "
                             f"(one of {', '.join(s.kind for s in t.seeds)})")
        bound, cap = self.bounds(target, slack_mb)
        job, d = self._job(target, "replay", seed, file.read_bytes(), bound, cap,
                           meta.get("mutator", file.name))
        rec = runner.run_many([job], 1, timeout, cap, bound)[0][1]
        shutil.rmtree(d, ignore_errors=True)
        if meta.get("must_refuse") and rec["outcome"] in ("ok-same", "ok-changed"):
            rec["outcome"] = "ok-unchecked"
        case = {"target": target, "kind": kind, "file": str(file),
                "resigned": meta.get("resigned", False), **rec}
        case["failure"] = is_failure(t, case)
        return case
