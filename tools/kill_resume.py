"""kill -9 a training run at random moments and resume it: the end must be bit-identical.

The run: the digits MLP with dropout (glassnet's RNG), shuffled batches (the loader's RNG),
SGD with momentum, a StepLR schedule, EarlyStopping(restore_best_weights=True) and
ModelCheckpoint(checkpoint=True) writing ``ck.safetensors`` after every epoch. It runs
once uninterrupted (the reference), then ``--kills`` times in a child process that is
sent SIGKILL at a moment drawn from a seeded generator, and resumed from its latest
checkpoint (a fresh process, ``fit(resume=...)``) until it completes. Every completed
run's final state (weights, optimizer state, scheduler, history values except "time",
callback states, RNG states) must equal the reference's, array for array, and the run
folder must hold no temporary file.

Two kills in three fall at a moment drawn uniformly over the reference's training time
(counted from the end of the child's imports). One kill in three is aimed at a checkpoint
write: the child reports when each write
begins and ends, and, only in this test and only in the aimed-at child, each checkpoint
write waits ``--slow-write`` seconds just before its rename (the bytes are in the
temporary file, the file at the final path is the previous one), so the kill lands
inside the write; the training itself is the same.

    python tools/kill_resume.py                 # 30 kills
    python tools/kill_resume.py --kills 3 --seed 1

A kill drawn after the child had already finished is reported as missed and another
run is made, so that ``--kills`` processes are really killed. Prints a summary (kills,
kills during writes, identical runs, leftover temporaries) and exits 1 if any run
differs or leaves a temporary file.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 12
EXPECTED = {"ck.safetensors", "final.safetensors"}


# ------------------------------------------------------------------ the child
def _child(run_dir: Path, epochs: int, slow: float) -> None:
    os.chdir(run_dir)
    sys.path.insert(0, str(ROOT / "src"))
    import glassnet as gn
    from glassnet import data, nn, optim
    from glassnet.io import save_checkpoint
    from glassnet.training import EarlyStopping, ModelCheckpoint, Trainer
    from glassnet.training import callbacks as cbmod

    def say(*words):
        print(*words, flush=True)

    real_save, real_replace = cbmod.save_checkpoint, os.replace
    writes = [0]

    def save(path, trainer, epoch=None):           # tell the parent when writes happen
        say("write_begin", writes[0], time.monotonic())
        out = real_save(path, trainer, epoch=epoch)
        say("write_end", writes[0], time.monotonic())
        writes[0] += 1
        return out

    def replace(src, dst, *a, **k):
        if slow and str(dst).endswith("ck.safetensors"):
            time.sleep(slow)                       # the temporary file is written, not renamed
        return real_replace(src, dst, *a, **k)

    cbmod.save_checkpoint = save
    os.replace = replace

    X, y = data.load_digits()
    X = (X / 16).astype("float32")
    Xtr, ytr, Xva, yva = X[:1200], y[:1200], X[1200:], y[1200:]
    gn.manual_seed(2024)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched, metrics=["accuracy"])
    cbs = [EarlyStopping("val_loss", patience=4, restore_best_weights=True),
           ModelCheckpoint("ck", monitor="val_loss", checkpoint=True)]
    resume = "ck.safetensors" if Path("ck.safetensors").exists() else None
    say("start", resume is not None, time.monotonic())
    trainer.fit((Xtr, ytr), validation=(Xva, yva), epochs=epochs, batch_size=8, verbose=0,
                callbacks=cbs, resume=resume)
    save_checkpoint("final", trainer)
    say("done", len(trainer.history), time.monotonic())


# ------------------------------------------------------------------ the parent
class _Child:
    """A child process and the events it printed, read on a thread."""

    def __init__(self, run_dir: Path, epochs: int, slow: float):
        self.events = []
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--child", str(run_dir), "--epochs", str(epochs),
             "--slow-write", str(slow)],
            stdout=subprocess.PIPE, stderr=open(run_dir.parent / f"{run_dir.name}.err", "ab"),
            text=True)
        self.started = time.monotonic()
        self.begun = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.events.append((time.monotonic(), line.split()))
            if line.startswith("write_begin"):
                self.begun.set()

    def in_write(self) -> bool:
        """Whether the latest event is the beginning of a write (no end seen yet)."""
        names = [e[1][0] for e in self.events if e[1]]
        return bool(names) and names[-1] == "write_begin"

    def wait(self, timeout=300):
        rc = self.proc.wait(timeout)
        self.reader.join(5)
        return rc


def _final(run_dir: Path):
    sys.path.insert(0, str(ROOT / "src"))
    from glassnet.io.checkpoint import read_checkpoint
    state = read_checkpoint(run_dir / "final.safetensors")
    state["history"]["history"].pop("time", None)
    return state


def _diff(a, b, where="state"):
    """The first place where two states differ (arrays compared bit for bit), or None."""
    import numpy as np
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        same = (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and a.tobytes() == b.tobytes())
        return None if same else where
    if isinstance(a, dict) and isinstance(b, dict):
        if sorted(a) != sorted(b):
            return f"{where} (keys)"
        for k in a:
            d = _diff(a[k], b[k], f"{where}/{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where} (length)"
        for i, (u, v) in enumerate(zip(a, b)):
            d = _diff(u, v, f"{where}/{i}")
            if d:
                return d
        return None
    same = a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)
    return None if same else where


def _complete(run_dir: Path, epochs: int, tries=4) -> bool:
    """Resume (fresh processes, no kill) until the run completes."""
    for _ in range(tries):
        c = _Child(run_dir, epochs, 0.0)
        if c.wait() == 0 and (run_dir / "final.safetensors").exists():
            return True
    return False


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--slow-write", type=float, default=0.3,
                    help="seconds a checkpoint write waits before its rename, only in the "
                         "children whose kill is aimed at a write")
    ap.add_argument("--dir", help="folder for the runs (default: a temporary one)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        _child(Path(a.child), a.epochs, a.slow_write)
        return 0

    import numpy as np
    rng = np.random.default_rng(a.seed)
    base = Path(a.dir or tempfile.mkdtemp(prefix="kill-resume-"))
    base.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    ref_dir = base / "reference"
    ref_dir.mkdir(exist_ok=True)
    ref = _Child(ref_dir, a.epochs, 0.0)
    if ref.wait() != 0:
        print(f"kill_resume: the reference run failed; see {ref_dir}.err", file=sys.stderr)
        return 1
    duration = time.monotonic() - ref.started
    seen = {e[0]: t for t, e in ref.events if e}
    training = seen["done"] - seen["start"]       # from the end of the imports to the end
    ref_state = _final(ref_dir)
    n_epochs = len(ref_state["history"]["epoch"])
    n_writes = sum(1 for _, e in ref.events if e and e[0] == "write_begin")
    print(f"reference: {n_epochs} epochs (stop: {ref_state['history']['stop_reason']}), "
          f"{n_writes} checkpoint writes, {duration:.2f} s ({training:.2f} s of training)")

    kills = during = missed = identical = runs = fresh = 0
    leftovers, differ = [], []
    i = -1
    while kills < a.kills and i < 3 * a.kills:
        i += 1
        run = base / f"run{i:03d}"
        run.mkdir(exist_ok=True)
        aimed = i % 3 == 0
        c = _Child(run, a.epochs, a.slow_write if aimed else 0.0)
        if aimed:        # at a write: wait for the beginning of write k, then a moment
            k = int(rng.integers(n_writes))
            target, delay = k, float(rng.uniform(0.0, 1.2 * a.slow_write))
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and c.proc.poll() is None:
                if sum(1 for _, e in c.events if e and e[0] == "write_begin") > target:
                    break
                time.sleep(0.002)
            time.sleep(delay)
        else:            # a moment of the training: after the imports, before the end
            moment = float(rng.uniform(0.0, training))
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and c.proc.poll() is None and not any(
                    e and e[0] == "start" for _, e in c.events):
                time.sleep(0.002)
            time.sleep(moment)
        if c.proc.poll() is None:
            writing = c.in_write()
            c.proc.send_signal(signal.SIGKILL)
            c.wait()
            kills += 1
            during += writing
            first = not (run / "ck.safetensors").exists()
            fresh += first
            kind = ("during a write" if writing else "between writes") + (
                " (before the first checkpoint)" if first else "")
        else:
            c.wait()
            missed += 1
            kind = "missed (the run had finished)"
        ok = _complete(run, a.epochs)
        runs += 1
        d = _diff(ref_state, _final(run)) if ok else "the resumed run did not complete"
        if d is None:
            identical += 1
        else:
            differ.append((run.name, d))
        extra = sorted(p.name for p in run.iterdir() if p.name not in EXPECTED)
        leftovers += [f"{run.name}/{x}" for x in extra]
        print(f"{run.name}: kill {kind}; resumed run "
              f"{'identical' if d is None else 'DIFFERS at ' + d}"
              + (f"; left behind {extra}" if extra else ""), flush=True)

    print(f"\nkills: {kills} ({during} during a checkpoint write, {fresh} before the first "
          f"checkpoint existed, {missed} missed)")
    print(f"identical runs: {identical}/{runs}")
    print(f"leftover temporaries: {len(leftovers)}" + (f" {leftovers}" if leftovers else ""))
    print(f"time: {time.monotonic() - t0:.1f} s (runs in {base})")
    for name, d in differ:
        print(f"DIFFERS: {name} at {d}", file=sys.stderr)
    return 0 if kills == a.kills and identical == runs and not leftovers else 1


if __name__ == "__main__":
    sys.exit(main())
