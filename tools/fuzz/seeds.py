"""Valid files to mutate, written at the start of a run into a temporary folder, and the
facts about each that a target needs to say whether a load gave back the same thing.

Everything is deterministic (fixed ``gn.manual_seed``, synthetic data, gzip with mtime 0,
checkpoints written with relative paths), so a case number names the same bytes in
every run.

Kinds
-----
model files (``gn.save(model, path)``): mlp, lenet (CNN), convseq (a Sequential of
Conv2d / MaxPool2d / Linear), lstm and gru (SequenceClassifier), autoencoder, charlm
(LSTM CharLM); a state dict ``gn.save(mlp.state_dict(), path)``: mlp-sd.
checkpoints (after two epochs of ``Trainer.fit``): ck-mlp (Adam, StepLR, EarlyStopping,
ModelCheckpoint(checkpoint=True)), ck-cnn (SGD with momentum, StepLR, ModelCheckpoint),
ck-lstm (Adam, EarlyStopping, ModelCheckpoint), ck-ae (an autoencoder, SGD,
``io.save_checkpoint``).
data files: IDX images and labels (gzip'd and plain), a digits CSV (gzip'd and plain, 120
rows of the embedded file), a UTF-8 text.
"""
from __future__ import annotations

import contextlib
import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet import models, nn, optim
from glassnet.optim import lr_scheduler
from glassnet.training import EarlyStopping, ModelCheckpoint, Trainer

MODEL_KINDS = ("mlp", "lenet", "convseq", "lstm", "gru", "autoencoder", "charlm", "mlp-sd")
CHECKPOINT_KINDS = ("ck-mlp", "ck-cnn", "ck-lstm", "ck-ae")
CHARS = "abcdefghij klmnopqrstuvwxyz.,\n"


@dataclass
class Seed:
    """One valid file: ``path`` (inside the seed folder), its ``kind`` and what a load of
    it must give back (``expect``: target-specific)."""
    kind: str
    path: Path
    expect: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.path.stat().st_size


# ---------------------------------------------------------------------------- models
def make_model(kind: str):
    """A fresh (untrained) model of a seed kind."""
    if kind in ("mlp", "mlp-sd"):
        return models.MLP([64, 32, 10])
    if kind == "lenet":
        return models.LeNet()
    if kind == "convseq":
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(4 * 3 * 3, 10))
    if kind == "lstm":
        return models.SequenceClassifier(8, 16, 10)
    if kind == "gru":
        return models.SequenceClassifier(8, 12, 3, cell="gru", num_layers=2)
    if kind == "autoencoder":
        return models.Autoencoder(64, [32, 8])
    if kind == "charlm":
        return models.CharLM(CHARS, embedding_dim=8, hidden_size=48)
    raise KeyError(kind)


def state_arrays(model) -> dict:
    """name -> NumPy array copy of a module's state dict."""
    return {k: np.array(v.numpy()) for k, v in model.state_dict().items()}


def write_model_seeds(folder: Path) -> list[Seed]:
    from glassnet.io.serialize import architecture
    out = []
    for i, kind in enumerate(MODEL_KINDS):
        gn.manual_seed(100 + i)
        model = make_model(kind)
        path = folder / f"{kind}.safetensors"
        if kind == "mlp-sd":
            gn.save(model.state_dict(), path)
            expect = {"state": state_arrays(model), "object": True}
        else:
            gn.save(model, path, metadata={"seed": kind, "note": "fuzz seed"})
            expect = {"state": state_arrays(model), "architecture": architecture(model),
                      "class": type(model).__name__, "extra": {"seed": kind,
                                                              "note": "fuzz seed"}}
        out.append(Seed(kind, path, expect))
    return out


# ---------------------------------------------------------------------------- checkpoints
def _digits(n=128):
    X, y = gn.data.load_digits()
    X = (X[:n] / 16.0).astype(np.float32)
    return X, y[:n]


def trainer_setup(kind: str, folder: Path):
    """(trainer, fit arguments without epochs/resume) of a checkpoint kind; callbacks write
    into ``folder`` with relative names (the caller's cwd is ``folder``)."""
    X, y = _digits()
    Xt, yt, Xv, yv = X[:96], y[:96], X[96:], y[96:]
    ck = ModelCheckpoint(kind, monitor="val_loss", checkpoint=True)
    if kind == "ck-mlp":
        model = models.MLP([64, 16, 10])
        opt = optim.Adam(model.parameters(), lr=1e-2)
        sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        cbs = [EarlyStopping(monitor="val_loss", patience=3), ck]
        data = ((Xt, yt), (Xv, yv))
        loss = nn.CrossEntropyLoss()
    elif kind == "ck-cnn":
        model = make_model("convseq")
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
        cbs = [ck]
        data = ((Xt.reshape(-1, 1, 8, 8), yt), (Xv.reshape(-1, 1, 8, 8), yv))
        loss = nn.CrossEntropyLoss()
    elif kind == "ck-lstm":
        model = models.SequenceClassifier(8, 16, 10)
        opt = optim.Adam(model.parameters(), lr=5e-3)
        sched = None
        cbs = [EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True), ck]
        data = ((Xt.reshape(-1, 8, 8), yt), (Xv.reshape(-1, 8, 8), yv))
        loss = nn.CrossEntropyLoss()
    elif kind == "ck-ae":
        model = models.Autoencoder(64, [16])
        opt = optim.SGD(model.parameters(), lr=0.5)
        sched = None
        cbs = [EarlyStopping(monitor="loss", patience=2)]
        data = ((Xt, Xt), None)
        loss = "mse"
    else:
        raise KeyError(kind)
    trainer = Trainer(model, loss, opt, scheduler=sched)
    fit = {"x": data[0], "validation_data": data[1], "batch_size": 32, "callbacks": cbs,
           "verbose": 0, "seed": 0}
    return trainer, fit


@contextlib.contextmanager
def chdir(path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def resume_once(kind: str, path: Path, epoch: int, workdir: Path):
    """Fresh trainer of ``kind``, ``fit(resume=path)`` for one more epoch (up to
    ``epoch + 2``); returns the trainer."""
    with chdir(workdir):
        gn.manual_seed(7)
        trainer, fit = trainer_setup(kind, workdir)
        trainer.fit(epochs=epoch + 2, resume=str(path), **fit)
    return trainer


class _StoppedClock:
    """Stands in for the ``time`` module of the training loop while seeds are written, so
    the epoch times in a checkpoint's history (and so its bytes) are the same every run."""

    @staticmethod
    def perf_counter():
        return 0.0


@contextlib.contextmanager
def stopped_clock():
    from glassnet.training import trainer as _trainer
    old = _trainer.time
    _trainer.time = _StoppedClock
    try:
        yield
    finally:
        _trainer.time = old


def write_checkpoint_seeds(folder: Path) -> list[Seed]:
    from glassnet.io import read_checkpoint, save_checkpoint
    out = []
    ref = folder / "_resume_reference"
    ref.mkdir(exist_ok=True)
    for i, kind in enumerate(CHECKPOINT_KINDS):
        with chdir(folder), stopped_clock():
            gn.manual_seed(200 + i)
            trainer, fit = trainer_setup(kind, folder)
            trainer.fit(epochs=2, **fit)
            path = folder / f"{kind}.safetensors"
            if kind == "ck-ae":
                save_checkpoint(kind, trainer)
        state = read_checkpoint(path)
        epoch = int(state["epoch"])
        final = state_arrays(resume_once(kind, path, epoch, ref).model)
        out.append(Seed(kind, path, {"state": state, "epoch": epoch, "final": final}))
    return out


# ---------------------------------------------------------------------------- data files
IDX_NAMES = {"images": "train-images-idx3-ubyte", "labels": "train-labels-idx1-ubyte"}


def idx_bytes(arr: np.ndarray) -> bytes:
    """An unsigned-byte IDX file of ``arr``."""
    head = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return head + np.ascontiguousarray(arr, np.uint8).tobytes()


def gz(raw: bytes, level=6) -> bytes:
    return gzip.compress(raw, compresslevel=level, mtime=0)


def write_data_seeds(folder: Path) -> dict[str, list[Seed]]:
    rng = np.random.default_rng(0)
    n = 64
    images = (rng.random((n, 28, 28)) ** 3 * 255).astype(np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    idx = []
    for what, arr in (("images", images), ("labels", labels)):
        raw = idx_bytes(arr)
        for packed in (True, False):
            name = IDX_NAMES[what] + (".gz" if packed else "")
            sub = folder / ("idx-gz" if packed else "idx-raw")
            sub.mkdir(exist_ok=True)
            p = sub / name
            p.write_bytes(gz(raw) if packed else raw)
            idx.append(Seed(f"idx-{what}{'-gz' if packed else ''}", p,
                            {"array": arr, "what": what, "packed": packed,
                             "raw_size": len(raw)}))
    # digits: the first 120 rows of the embedded CSV
    from glassnet.data import datasets
    text = gzip.decompress((datasets._EMBEDDED / "digits.csv.gz").read_bytes())
    rows = text.splitlines(keepends=True)[:120]
    csv = b"".join(rows)
    ddir = folder / "digits"
    ddir.mkdir(exist_ok=True)
    digits = []
    for packed in (True, False):
        p = ddir / ("digits.csv.gz" if packed else "digits.csv")
        p.write_bytes(gz(csv) if packed else csv)
        X, y = gn.data.load_digits(p, verify=False)
        digits.append(Seed("digits-gz" if packed else "digits-csv", p,
                           {"X": X, "y": y, "raw_size": len(csv)}))
    # text: UTF-8 with multi-byte characters
    tdir = folder / "text"
    tdir.mkdir(exist_ok=True)
    lines = ["ROMEO: But soft, what light through yonder window breaks?",
             "JULIET: Ô Roméo, Roméo — pourquoi es-tu Roméo ? naïve café",
             "Ελληνικά, Русский, 日本語のテキスト, emoji 🙂 and tabs\tend"]
    body = ("\n".join(lines[i % 3] + f" {i}" for i in range(60)) + "\n").encode("utf-8")
    p = tdir / "input.txt"
    p.write_bytes(body)
    text_seeds = [Seed("text", p, {"text": body.decode("utf-8"), "raw_size": len(body)})]
    return {"idx": idx, "digits": digits, "text": text_seeds}


def warm_kernels():
    """Compile (or load from Numba's cache) the recurrent step kernels for float32 and
    float64 in the parent, so that no child spends its time budget, or its memory cap, on
    the compiler."""
    for cell in ("lstm", "gru"):
        for dtype in (np.float32, np.float64):
            m = models.SequenceClassifier(8, 4, 3, cell=cell)
            m.to_dtype(dtype)
            m(gn.tensor(np.zeros((2, 3, 8), dtype))).sum().backward()
    lm = make_model("charlm")
    lm(gn.tensor(np.zeros((2, 3), np.int64)))[0].sum().backward()
