"""Run a cited third-party PyTorch script under glassnet or under real PyTorch.

The scripts in the folders beside this file were written by others (see each folder's
README.md and LICENSE); they are test data, never glassnet code. This driver runs one of
them with only its import lines changed, in memory:

    import torch                     ->  import glassnet as torch
    import torch.nn as nn            ->  import glassnet.nn as nn
    from torch.utils.data import X   ->  from glassnet.utils.data import X
    from torchvision import datasets ->  from glassnet.vision import datasets
    import torchvision               ->  import glassnet.vision as torchvision

(``--backend torch`` leaves ``torch`` alone; torchvision is not installed here, so under
torch, and under glassnet with ``--vision standin``, ``torchvision`` is pointed at
``standin_vision``, a small test-scaffolding stand-in that reads the local IDX files.)

A rewritten line keeps its line number, so a traceback names the script's own line. A
"short version" changes only what the script's README lists: its own command-line
arguments, smaller data (the first N samples of MNIST / Fashion-MNIST, written as IDX
files in torchvision's folder layout), and for scripts with hard-coded sizes a few exact
one-line substitutions (each must match exactly once and keep the line count).

Usage
-----
    PYTHONPATH=src python tests/third_party/run_script.py pytorch_examples_mnist
    PYTHONPATH=src python tests/third_party/run_script.py pytorch_examples_mnist --backend torch
    python tests/third_party/run_script.py --list
    python tests/third_party/run_script.py NAME --json result.json   # machine-readable
    python tests/third_party/run_script.py NAME -- --epochs 2        # more script arguments

The last line printed is ``THIRD_PARTY_RESULT {json}`` with the outcome: ok, seconds,
the loss values parsed from the script's output, and on failure the exception and the
script line it came from.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import gzip
import io
import json
import os
import re
import shutil
import struct
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RESULT_TAG = "THIRD_PARTY_RESULT"
STANDIN_VISION = "standin_vision"


# ---------------------------------------------------------------------------------------
# The registry: one entry per script folder
# ---------------------------------------------------------------------------------------

@dataclass
class Step:
    """One file of a script run in the work folder (most scripts have one)."""
    file: str
    argv: list = field(default_factory=list)        # the short version's arguments
    patches: list = field(default_factory=list)     # (old, new) applied in the short version
    always_patches: list = field(default_factory=list)  # (old, new, why) needed even in full
    call_tests: bool = False                        # then call every test_* function


@dataclass
class Spec:
    name: str
    title: str
    steps: list
    data: str | None = None        # "idx" (MNIST + Fashion-MNIST root), "shakespeare"
    data_links: tuple = ()         # where the script looks for the IDX root, relative to cwd
    short_samples: tuple = (0, 0)  # (train, test) samples kept in the short version
    make_dirs: tuple = ()          # folders the script expects to exist in its cwd
    needs_vision: bool = False
    loss_regex: str | None = None  # one group: a loss value printed by the script
    loss_check: str = "decrease"   # "decrease": last parsed loss < first; "none": finishes
    syspath: tuple = ()            # folders (relative to the script folder) put on sys.path


SCRIPTS = {s.name: s for s in [
    Spec("pytorch_examples_mnist", "pytorch/examples mnist/main.py: LeNet-style CNN on MNIST",
         [Step("original.py", argv=["--epochs", "2", "--log-interval", "8"])],
         data="idx", data_links=("../data",), short_samples=(2048, 1000), needs_vision=True,
         loss_regex=r"Test set: Average loss: ([0-9.]+)"),
    Spec("pytorch_examples_vae", "pytorch/examples vae/main.py: variational autoencoder on MNIST",
         [Step("original.py", argv=["--epochs", "2", "--log-interval", "5"])],
         data="idx", data_links=("../data",), short_samples=(2560, 512), needs_vision=True,
         make_dirs=("results",), loss_regex=r"====> Epoch: \d+ Average loss: ([0-9.]+)"),
    Spec("pytorch_examples_time_sequence",
         "pytorch/examples time_sequence_prediction: two LSTMCells fit sine waves with LBFGS",
         [Step("generate_sine_wave.py", patches=[("L = 1000", "L = 60")]),
          Step("original.py", argv=["--steps", "1"],
               patches=[("future = 1000", "future = 50")],
               always_patches=[("torch.load('traindata.pt')",
                                "torch.load('traindata.pt', weights_only=False)",
                                "torch >= 2.6 refuses to unpickle a NumPy array by default")])],
         loss_regex=r"^loss: ([0-9.e+-]+)"),
    Spec("tutorials_quickstart",
         "pytorch/tutorials quickstart: Fashion-MNIST MLP, train / test / save / load",
         [Step("original.py")], data="idx", data_links=("data",), short_samples=(6400, 1000),
         needs_vision=True, loss_regex=r"Avg loss: ([0-9.]+)"),
    Spec("tutorials_neural_networks",
         "pytorch/tutorials blitz neural_networks_tutorial: LeNet, one forward / backward",
         [Step("original.py")], loss_check="none"),
    Spec("tutorials_polynomial_nn",
         "pytorch/tutorials examples_nn/polynomial_nn: Linear(3, 1) fits sin(x), manual SGD",
         [Step("original.py")], loss_regex=r"^\d+ ([0-9.e+-]+)$"),
    Spec("tutorials_polynomial_custom_function",
         "pytorch/tutorials polynomial_custom_function: a ctx-style autograd.Function",
         [Step("original.py")], loss_regex=r"^\d+ ([0-9.e+-]+)$"),
    Spec("tutorials_sequence_models",
         "pytorch/tutorials nlp/sequence_models_tutorial: LSTM part-of-speech tagger",
         [Step("original.py")], loss_check="tag_scores"),
    Spec("tutorials_word_embeddings",
         "pytorch/tutorials nlp/word_embeddings_tutorial: N-gram language model with Embedding",
         [Step("original.py")], loss_check="list"),
    Spec("micrograd_test_engine",
         "karpathy/micrograd test/test_engine.py: micrograd's gradients checked against torch",
         [Step("original.py", call_tests=True)], loss_check="none", syspath=(".",)),
    Spec("ngvl_bigram", "karpathy/ng-video-lecture bigram.py: bigram character model",
         [Step("original.py", patches=[("max_iters = 3000", "max_iters = 1500"),
                                       ("eval_iters = 200", "eval_iters = 50")])],
         data="shakespeare", loss_regex=r"step \d+: train loss ([0-9.]+)"),
    Spec("ngvl_gpt", "karpathy/ng-video-lecture gpt.py: a small GPT on tiny Shakespeare",
         [Step("original.py", patches=[
             ("batch_size = 64 #", "batch_size = 16 #"),
             ("block_size = 256 #", "block_size = 32 #"),
             ("max_iters = 5000", "max_iters = 200"),
             ("eval_interval = 500", "eval_interval = 50"),
             ("eval_iters = 200", "eval_iters = 10"),
             ("n_embd = 384", "n_embd = 64"),
             ("n_head = 6", "n_head = 4"),
             ("n_layer = 6", "n_layer = 2"),
             ("max_new_tokens=500)[0]", "max_new_tokens=100)[0]")])],
         data="shakespeare", loss_regex=r"step \d+: train loss ([0-9.]+)"),
]}


# ---------------------------------------------------------------------------------------
# Rewriting import lines (and only them)
# ---------------------------------------------------------------------------------------

def _map_module(name: str, backend: str, vision: str) -> str:
    """The module a script's ``torch...`` / ``torchvision...`` name is pointed at."""
    head, _, rest = name.partition(".")
    if head == "torchvision":
        return vision + ("." + rest if rest else "")
    if head == "torch" and backend == "glassnet":
        return "glassnet" + ("." + rest if rest else "")
    return name


def _rewrite_import(node, backend: str, vision: str) -> str | None:
    """The replacement source of one import statement, or None to leave it."""
    if isinstance(node, ast.ImportFrom):
        if node.level or not node.module:
            return None
        new = _map_module(node.module, backend, vision)
        if new == node.module:
            return None
        return ast.unparse(ast.ImportFrom(module=new, names=node.names, level=0))
    parts, changed = [], False
    for alias in node.names:
        new = _map_module(alias.name, backend, vision)
        if new == alias.name:
            parts.append(alias.name + (f" as {alias.asname}" if alias.asname else ""))
            continue
        changed = True
        top = alias.name.split(".")[0]
        if alias.asname:
            parts.append(f"{new} as {alias.asname}")
        elif "." in alias.name:
            # ``import torch.nn`` binds ``torch``: import the submodule, then bind the name
            parts.append(new)
            parts.append(f"{_map_module(top, backend, vision)} as {top}")
        else:
            parts.append(f"{new} as {top}")
    return "import " + ", ".join(parts) if changed else None


def rewrite_imports(source: str, backend: str, vision: str) -> tuple[str, list]:
    """``source`` with its torch / torchvision import statements pointed elsewhere.

    Every line keeps its number (a statement spread over lines becomes one line and
    blank ones), so tracebacks name the script's own lines. Returns the new source and
    the list of (line number, old statement, new statement).
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        new = _rewrite_import(node, backend, vision)
        if new is not None:
            edits.append((node.lineno, node.col_offset, node.end_lineno, node.end_col_offset,
                          new))
    changes = []
    for l0, c0, l1, c1, new in sorted(edits, reverse=True):
        first, last = lines[l0 - 1], lines[l1 - 1]
        old = "".join(lines[l0 - 1:l1])
        # col offsets are UTF-8 byte offsets; import lines of these scripts are ASCII
        lines[l0 - 1] = first[:c0] + new + last.encode()[c1:].decode()
        for k in range(l0, l1):
            lines[k] = "\n"
        changes.append((l0, old.strip(), new))
    return "".join(lines), sorted(changes)


def apply_patches(source: str, patches, where: str) -> str:
    """Exact substitutions; each must match once and keep the line count."""
    for p in patches:
        old, new = p[0], p[1]
        n = source.count(old)
        if n != 1:
            raise RuntimeError(f"{where}: short-version patch {old!r} matches {n} times, "
                               f"expected exactly once")
        if old.count("\n") != new.count("\n"):
            raise RuntimeError(f"{where}: patch {old!r} -> {new!r} changes the line count")
        source = source.replace(old, new)
    return source


def apply_line_patches(source: str, entries, where: str) -> str:
    """probes.py workarounds: (file, line, old, new, gap), ``old`` -> ``new`` within that
    one line (it must occur there once; the line stays one line)."""
    lines = source.splitlines(keepends=True)
    for _, ln, old, new, gap in entries:
        line = lines[ln - 1]
        if line.count(old) != 1:
            raise RuntimeError(f"{where}:{ln}: probe {old!r} occurs {line.count(old)} times in "
                               f"{line!r}, expected once")
        if "\n" in new:
            raise RuntimeError(f"{where}:{ln}: probe replacement must stay on one line")
        lines[ln - 1] = line.replace(old, new)
    return "".join(lines)


# ---------------------------------------------------------------------------------------
# Data: a short copy of the IDX files in torchvision's and glassnet's folder layouts
# ---------------------------------------------------------------------------------------

SHARED_DATA = Path(os.environ.get("THIRD_PARTY_SHARED_DATA", REPO.parent / "shared" / "data"))
IDX_SETS = {"MNIST": "mnist", "FashionMNIST": "fashion-mnist"}
IDX_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def _cut_idx(raw: bytes, n: int | None) -> bytes:
    """The first ``n`` records of an IDX file (all when n is None), header adjusted."""
    ndim = raw[3]
    dims = list(struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim]))
    if n is None or n >= dims[0]:
        return raw
    per = 1
    for d in dims[1:]:
        per *= d
    head = raw[:4] + struct.pack(">" + "I" * ndim, n, *dims[1:])
    start = 4 + 4 * ndim
    return head + raw[start:start + n * per]


def idx_root(n_train: int | None, n_test: int | None) -> Path:
    """A folder with MNIST and Fashion-MNIST cut to the first samples, built once.

    Layouts: ``MNIST/raw/<name>`` and ``FashionMNIST/raw/<name>`` (uncompressed, as
    torchvision leaves them after its download) and ``mnist/<name>.gz`` /
    ``fashion-mnist/<name>.gz`` (glassnet's GLASSNET_DATA layout).
    """
    tag = "full" if n_train is None else f"{n_train}_{n_test}"
    root = Path(tempfile.gettempdir()) / "glassnet_third_party_data" / tag
    if (root / "DONE").exists():
        return root
    if not (SHARED_DATA / "mnist").is_dir():
        raise FileNotFoundError(f"run_script: the MNIST IDX files were not found in "
                                f"{SHARED_DATA}/mnist (set THIRD_PARTY_SHARED_DATA)")
    tmp = Path(tempfile.mkdtemp(prefix=tag + "-", dir=_mkdir(root.parent)))
    for tv_name, gn_name in IDX_SETS.items():
        (tmp / tv_name / "raw").mkdir(parents=True)
        (tmp / gn_name).mkdir()
        for fname in IDX_FILES:
            raw = gzip.decompress((SHARED_DATA / gn_name / (fname + ".gz")).read_bytes())
            cut = _cut_idx(raw, n_train if fname.startswith("train") else n_test)
            (tmp / tv_name / "raw" / fname).write_bytes(cut)
            (tmp / gn_name / (fname + ".gz")).write_bytes(gzip.compress(cut, 6))
    (tmp / "DONE").write_text("ok\n")
    try:
        tmp.rename(root)
    except OSError:          # another process built it first
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


# ---------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------

class _Tee(io.TextIOBase):
    """Write to the real stream and keep a copy (to parse the losses from)."""

    def __init__(self, stream):
        self.stream, self.buf = stream, io.StringIO()

    def write(self, s):
        self.stream.write(s)
        self.buf.write(s)
        return len(s)

    def flush(self):
        self.stream.flush()


def _locate(exc: BaseException, script_files) -> dict:
    """Where an exception came from: the deepest frame in a script file, and the deepest
    frame overall (inside the framework)."""
    frames = traceback.extract_tb(exc.__traceback__)
    script = [f for f in frames if Path(f.filename).resolve() in script_files]
    here = script[-1] if script else None
    inner = frames[-1] if frames else None
    return {
        "type": type(exc).__name__,
        "message": str(exc).strip().splitlines()[0][:500] if str(exc).strip() else "",
        "script_file": Path(here.filename).name if here else None,
        "script_line": here.lineno if here else None,
        "script_code": here.line if here else None,
        "innermost": f"{Path(inner.filename).name}:{inner.lineno} in {inner.name}" if inner
        else None,
    }


def parse_losses(spec: Spec, out: str) -> list:
    """The loss values the script printed, in order."""
    if spec.loss_regex:
        return [float(m.group(1)) for m in re.finditer(spec.loss_regex, out, re.M)]
    if spec.loss_check == "list":       # word_embeddings prints one list of epoch losses
        m = re.findall(r"^\[([0-9., e+-]+)\]$", out, re.M)
        return [float(v) for v in m[-1].split(",")] if m else []
    return []


def check_losses(spec: Spec, losses: list, out: str) -> tuple[bool, str]:
    """Whether the run learned: the script's own loss went down."""
    if spec.loss_check == "none":
        return True, "finishes (no training loss to compare)"
    if spec.loss_check == "tag_scores":
        # sequence_models prints the tag scores before and after training; the tutorial's
        # claim is that training makes the argmax tags DET NN V DET NN (0 1 2 0 1)
        blocks = re.findall(r"tensor\(\[\[(.*?)\]\]", out, re.S)
        if len(blocks) < 2:
            return False, "tag scores before / after training not found in the output"
        rows = [[float(v) for v in r.replace("[", "").split(",") if v.strip()]
                for r in blocks[-1].split("],")]
        tags = [max(range(len(r)), key=r.__getitem__) for r in rows]
        return tags == [0, 1, 2, 0, 1], f"tags after training {tags} (expected [0, 1, 2, 0, 1])"
    if len(losses) < 2:
        return False, f"fewer than two loss values parsed ({losses})"
    return losses[-1] < losses[0], f"loss {losses[0]:.4g} -> {losses[-1]:.4g}"


def set_threads_env(n: int) -> None:
    """Thread counts for OpenMP / BLAS, read when NumPy or torch first load them (so call
    this before either is imported)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "GLASSNET_NUM_THREADS"):
        os.environ[var] = str(n)


def _set_library_threads(backend: str, n: int | None) -> None:
    if not n:
        return
    if backend == "torch":
        import torch
        torch.set_num_threads(n)
    else:
        import glassnet
        if hasattr(glassnet, "set_num_threads"):
            glassnet.set_num_threads(n)


def run(name: str, backend: str = "glassnet", vision: str = "auto", full: bool = False,
        workdir: str | None = None, keep: bool = False, extra_argv=(),
        threads: int | None = None, probes: int = 0) -> dict:
    """Run one script in this process; returns the result dict (also printed).

    ``probes`` > 0 (glassnet only) applies the first that many user-side workarounds of
    probes.py, to reach the failures that lie behind the first ones (FINDINGS.md).
    """
    spec = SCRIPTS[name]
    folder = HERE / name
    workarounds = []
    if probes:
        from probes import PROBES
        workarounds = PROBES.get(name, [])[:probes]
        if any(w[2] == "@vision-standin" for w in workarounds):
            vision = "standin"
    if vision == "auto":
        vision = "glassnet" if backend == "glassnet" else "standin"
    vision_mod = "glassnet.vision" if vision == "glassnet" else STANDIN_VISION
    os.environ["THIRD_PARTY_BACKEND"] = backend         # read by standin_vision
    os.environ.setdefault("MPLBACKEND", "Agg")
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))                   # standin_vision
    for p in spec.syspath:
        sys.path.insert(0, str((folder / p).resolve()))

    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"tp-{name}-"))
    work = _mkdir(base / "work")
    if spec.data == "idx":
        n = (None, None) if full else spec.short_samples
        root = idx_root(*n)
        os.environ["GLASSNET_DATA"] = str(root)
        for link in spec.data_links:
            target = (work / link)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.symlink_to(root, target_is_directory=True)
    elif spec.data == "shakespeare":
        src = SHARED_DATA / "tinyshakespeare" / "input.txt"
        if not (work / "input.txt").exists():
            (work / "input.txt").symlink_to(src)
    for d in spec.make_dirs:
        _mkdir(work / d)

    result = {"name": name, "backend": backend, "vision": vision, "full": full,
              "threads": threads, "probes": len(workarounds),
              "ok": False, "seconds": None, "losses": [], "error": None,
              "import_rewrites": [], "check": None}
    script_files = {(folder / s.file).resolve() for s in spec.steps}
    script_files |= {p.resolve() for p in folder.rglob("*.py")}
    tee_out = _Tee(sys.stdout)
    old_cwd, old_argv = os.getcwd(), sys.argv
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        _set_library_threads(backend, threads)
        os.chdir(work)
        with contextlib.redirect_stdout(tee_out):
            for step in spec.steps:
                path = folder / step.file
                src = path.read_text(encoding="utf-8")
                src = apply_patches(src, [p[:2] for p in step.always_patches], step.file)
                if not full:
                    src = apply_patches(src, step.patches, step.file)
                src = apply_line_patches(src, [w for w in workarounds if w[0] == step.file
                                               and w[2] != "@vision-standin"], step.file)
                src, changes = rewrite_imports(src, backend, vision_mod)
                result["import_rewrites"] += [f"{step.file}:{ln}: {o}  ->  {n}"
                                              for ln, o, n in changes]
                with warnings.catch_warnings():   # e.g. a tutorial's own "\s" in a docstring
                    warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
                    code = compile(src, str(path), "exec")
                sys.argv = [str(path)] + ([] if full else list(step.argv)) + list(extra_argv)
                g = {"__name__": "__main__", "__file__": str(path), "__builtins__": __builtins__}
                exec(code, g)
                if step.call_tests:
                    for fname, fn in list(g.items()):
                        if fname.startswith("test_") and callable(fn):
                            print(f"-- {fname}")
                            fn()
        result["ok"] = True
    except SystemExit as e:
        result["ok"] = e.code in (None, 0)
        if not result["ok"]:
            result["error"] = {"type": "SystemExit", "message": str(e.code)}
    except BaseException as e:  # noqa: BLE001 - report whatever the script raised
        traceback.print_exc()
        result["error"] = _locate(e, script_files)
    finally:
        result["seconds"] = round(time.perf_counter() - t0, 3)
        # CPU time of this process (all its threads): with one thread, close to the wall
        # time the run would take on an idle machine
        result["cpu_seconds"] = round(time.process_time() - c0, 3)
        os.chdir(old_cwd)
        sys.argv = old_argv
    out = tee_out.buf.getvalue()
    result["losses"] = parse_losses(spec, out)
    if result["ok"]:
        learned, why = check_losses(spec, result["losses"], out)
        result["check"] = why
        result["learned"] = learned
    if not keep and not workdir:
        shutil.rmtree(base, ignore_errors=True)
    return result


def run_subprocess(name: str, backend: str = "glassnet", vision: str = "auto",
                   full: bool = False, threads: int | None = None, timeout: float = 300.0,
                   extra=(), probes: int = 0) -> dict:
    """Run one script in a fresh interpreter (PYTHONPATH = this checkout's src); returns
    its result dict, or one describing the timeout / crash."""
    import subprocess
    env = dict(os.environ)
    # the glassnet under test: this checkout's src/, or another (THIRD_PARTY_GLASSNET_SRC)
    src = os.environ.get("THIRD_PARTY_GLASSNET_SRC", str(REPO / "src"))
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    env.setdefault("PYTHONHASHSEED", "0")      # scripts that build vocabularies from sets
    env.setdefault("MPLBACKEND", "Agg")
    cmd = [sys.executable, str(Path(__file__).resolve()), name, "--backend", backend,
           "--vision", vision]
    if full:
        cmd.append("--full")
    if threads:
        cmd += ["--threads", str(threads)]
    if probes:
        cmd += ["--probes", str(probes)]
    if extra:
        cmd += ["--", *extra]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return {"name": name, "backend": backend, "ok": False, "seconds": timeout,
                "error": {"type": "Timeout", "message": f"no result after {timeout:.0f} s"},
                "stdout": out[-4000:]}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith(RESULT_TAG + " "):
            res = json.loads(line[len(RESULT_TAG) + 1:])
            res["stdout"] = p.stdout[-4000:]
            res["stderr"] = p.stderr[-4000:]
            return res
    return {"name": name, "backend": backend, "ok": False,
            "seconds": round(time.perf_counter() - t0, 3),
            "error": {"type": "Crash", "message": f"exit code {p.returncode}, no result line"},
            "stdout": p.stdout[-4000:], "stderr": p.stderr[-4000:]}


def run_all(backend, vision, full, threads, timeout, json_path=None, probes=0) -> int:
    rows = []
    print("| script | ok | wall s | cpu s | losses (first -> last) | first error (script line) |")
    print("|---|---|---|---|---|---|")
    for name in SCRIPTS:
        r = run_subprocess(name, backend, vision, full, threads, timeout, probes=probes)
        rows.append(r)
        loss = r.get("losses") or []
        ls = f"{loss[0]:.4g} -> {loss[-1]:.4g}" if len(loss) >= 2 else ""
        err = r.get("error") or {}
        where = f" (line {err.get('script_line')}: `{err.get('script_code')}`)" \
            if err.get("script_line") else ""
        e = f"{err.get('type')}: {err.get('message', '')[:120]}{where}" if err else ""
        print(f"| {name} | {r.get('ok')} | {r.get('seconds')} | {r.get('cpu_seconds')} | "
              f"{ls} | {e} |", flush=True)
    if json_path:
        Path(json_path).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("name", nargs="?", help="script folder name (see --list)")
    ap.add_argument("--backend", choices=["glassnet", "torch"], default="glassnet")
    ap.add_argument("--vision", choices=["auto", "glassnet", "standin"], default="auto",
                    help="where torchvision points: glassnet.vision (default under glassnet) "
                         "or the test stand-in (default under torch)")
    ap.add_argument("--full", action="store_true",
                    help="the script's own default run (full data, no short-version changes)")
    ap.add_argument("--workdir", help="run in this folder (kept) instead of a temporary one")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    ap.add_argument("--threads", type=int,
                    help="compute threads for the backend (OMP / BLAS / torch / glassnet); "
                         "default: the library's own choice. On a shared, busy machine 1 "
                         "avoids spinning threads (torch with 2 ran one LSTM closure 20x "
                         "slower than with 1 while other jobs held the cores)")
    ap.add_argument("--probes", type=int, default=0,
                    help="apply the first N user-side workarounds from probes.py (to find the "
                         "failures behind the first; see FINDINGS.md); -1: all")
    ap.add_argument("--json", help="also write the result to this file")
    ap.add_argument("--list", action="store_true", help="list the scripts and exit")
    ap.add_argument("--all", action="store_true",
                    help="run every script, each in a fresh interpreter, and print a table")
    ap.add_argument("--timeout", type=float, default=300.0,
                    help="with --all: seconds allowed per script")
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if args.all:
        return run_all(args.backend, args.vision, args.full, args.threads, args.timeout,
                       args.json, probes=10 ** 6 if args.probes < 0 else args.probes)
    if args.list or not args.name:
        for s in SCRIPTS.values():
            print(f"{s.name:40s} {s.title}")
        return 0
    if args.threads:
        set_threads_env(args.threads)
    res = run(args.name, args.backend, args.vision, args.full, args.workdir, args.keep, extra,
              threads=args.threads, probes=10 ** 6 if args.probes < 0 else args.probes)
    line = json.dumps(res)
    if args.json:
        Path(args.json).write_text(line + "\n")
    sys.stdout.flush()
    print(f"{RESULT_TAG} {line}")
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
