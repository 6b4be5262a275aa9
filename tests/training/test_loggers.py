"""Loggers: CSVLogger, JSONLinesLogger, TensorBoardLogger.

* every epoch's record is on disk (flushed) before the next epoch begins, and a run that
  an exception stops leaves its completed epochs;
* the values are the History's (CSV and JSON exactly, TensorBoard at float32, read back
  with tensorboard's own EventAccumulator), with the lr of every parameter group and the
  weight and gradient histograms at per-epoch steps; the gradients are those of the last
  batch;
* a key appearing later, NaN/inf, append=True, bad arguments;
* exact resume: kill + fit(resume=checkpoint) gives the files of an uninterrupted run.
"""
import csv
import json
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet import data, nn, optim
from glassnet.errors import ArgumentError, ArgumentTypeError
from glassnet.training import (Callback, CSVLogger, JSONLinesLogger, LambdaCallback,
                               ModelCheckpoint, TensorBoardLogger, Trainer)

pytest.importorskip("tensorboardX")   # in the test extra: CI runs these
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402


def _digits():
    X, y = data.load_digits()
    X = (X / 16).astype(np.float32)
    return X[:160], y[:160], X[160:260], y[160:260]


def _trainer(two_groups=False):
    gn.manual_seed(3)
    model = nn.Sequential(nn.Linear(64, 12), nn.ReLU(), nn.Linear(12, 10))
    if two_groups:
        params = [{"params": model[0].parameters()},
                  {"params": model[2].parameters(), "lr": 3e-3}]
    else:
        params = model.parameters()
    opt = optim.Adam(params, lr=1e-2)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    return Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched, metrics=["accuracy"])


def _fit(trainer, epochs, callbacks, resume=None):
    Xtr, ytr, Xva, yva = _digits()
    return trainer.fit((Xtr, ytr), validation=(Xva, yva), epochs=epochs, batch_size=50,
                       verbose=0, seed=1, callbacks=callbacks, resume=resume)


def _csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _jsonl(path):
    return [json.loads(line) for line in open(path)]


def _events(folder):
    ea = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    ea.Reload()
    return ea


# ---------------------------------------------------------------- written every epoch
class _Reader(Callback):
    """Before each epoch, reads what the loggers have on disk (they run after it)."""

    def __init__(self, csv_path, jsonl_path, tb_dir):
        self.paths = csv_path, jsonl_path, tb_dir
        self.seen = []

    def on_epoch_begin(self, trainer, epoch):
        c, j, tb = self.paths
        rows = _csv(c) if c.exists() else []
        lines = _jsonl(j) if j.exists() else []
        steps = [e.step for e in _events(tb).Scalars("loss")] if epoch else []
        self.seen.append((epoch, [int(r["epoch"]) for r in rows],
                          [r["epoch"] for r in lines], steps))


def test_each_epoch_is_on_disk_before_the_next_begins(tmp_path):
    c, j, tb = tmp_path / "log.csv", tmp_path / "log.jsonl", tmp_path / "tb"
    reader = _Reader(c, j, tb)
    _fit(_trainer(), 4, [reader, CSVLogger(c), JSONLinesLogger(j),
                          TensorBoardLogger(tb, histogram_freq=0, write_lr=False)])
    for epoch, rows, lines, steps in reader.seen:
        assert rows == lines == list(range(epoch)), (epoch, rows, lines)
        assert steps == list(range(epoch)), (epoch, steps)


def test_a_run_stopped_by_an_exception_leaves_its_completed_epochs(tmp_path):
    def boom(trainer, epoch):
        if epoch == 3:
            raise RuntimeError("killed")
    c, j, tb = tmp_path / "log.csv", tmp_path / "log.jsonl", tmp_path / "tb"
    t = _trainer()
    with pytest.raises(RuntimeError, match="killed"):
        _fit(t, 10, [CSVLogger(c), JSONLinesLogger(j), TensorBoardLogger(tb),
                     LambdaCallback(on_epoch_begin=boom)])
    assert [int(r["epoch"]) for r in _csv(c)] == [0, 1, 2]
    assert [r["epoch"] for r in _jsonl(j)] == [0, 1, 2]
    assert [float(r["loss"]) for r in _csv(c)] == t.history["loss"]
    assert [e.step for e in _events(tb).Scalars("val_loss")] == [0, 1, 2]


# ---------------------------------------------------------------- the values
def test_csv_and_jsonl_hold_the_historys_values_exactly(tmp_path):
    t = _trainer()
    h = _fit(t, 3, [CSVLogger(tmp_path / "a.csv"), JSONLinesLogger(tmp_path / "a.jsonl")])
    rows, lines = _csv(tmp_path / "a.csv"), _jsonl(tmp_path / "a.jsonl")
    keys = sorted(h.history)
    assert list(rows[0]) == ["epoch"] + keys            # Keras' column order
    assert list(lines[0]) == ["epoch"] + keys
    assert {"loss", "val_loss", "accuracy", "val_accuracy", "lr"} <= set(keys)
    for k in keys:
        assert [float(r[k]) for r in rows] == h[k], k
        assert [r[k] for r in lines] == h[k], k
    assert h["lr"] == [1e-2, 5e-3, 2.5e-3]             # the StepLR schedule is what is logged


def test_tensorboard_read_back_with_event_accumulator(tmp_path):
    t = _trainer(two_groups=True)
    grads = []

    class LastGrads(Callback):        # the gradients of each epoch's last batch (of 4)
        def on_after_backward(self, trainer, step):
            if step == 3:
                grads.append(trainer.model[2].weight.grad.numpy().copy())

    h = _fit(t, 3, [LastGrads(), TensorBoardLogger(tmp_path / "tb")])
    ea = _events(tmp_path / "tb")
    tags = ea.Tags()
    for k in ("loss", "val_loss", "accuracy", "val_accuracy", "lr", "time"):
        ev = ea.Scalars(k)
        assert [e.step for e in ev] == [0, 1, 2], k
        np.testing.assert_array_equal([e.value for e in ev],
                                      np.array(h[k], dtype=np.float32), err_msg=k)
    np.testing.assert_array_equal([e.value for e in ea.Scalars("lr/group_0")],
                                  np.float32([1e-2, 5e-3, 2.5e-3]))
    np.testing.assert_array_equal([e.value for e in ea.Scalars("lr/group_1")],
                                  np.float32([3e-3, 1.5e-3, 7.5e-4]))
    names = [n for n, _ in t.model.named_parameters()]
    assert sorted(tags["histograms"]) == sorted([f"weights/{n}" for n in names]
                                                + [f"gradients/{n}" for n in names])
    w = ea.Histograms("weights/2.weight")
    assert [e.step for e in w] == [0, 1, 2]
    final = t.model[2].weight.numpy()
    last = w[-1].histogram_value
    assert last.num == final.size and last.min == final.min() and last.max == final.max()
    assert math.isclose(last.sum, float(final.sum(dtype=np.float64)), rel_tol=1e-6)
    g = ea.Histograms("gradients/2.weight")
    assert [e.step for e in g] == [0, 1, 2]
    for e, want in zip(g, grads):
        hv = e.histogram_value
        assert hv.min == want.min() and hv.max == want.max() and hv.num == want.size


def test_histogram_freq_and_write_grads(tmp_path):
    _fit(_trainer(), 5, [TensorBoardLogger(tmp_path / "a", histogram_freq=2),
                         TensorBoardLogger(tmp_path / "b", histogram_freq=0),
                         TensorBoardLogger(tmp_path / "c", write_grads=False)])
    a = _events(tmp_path / "a")
    assert [e.step for e in a.Histograms("weights/0.weight")] == [0, 2, 4]
    assert [e.step for e in a.Histograms("gradients/0.bias")] == [0, 2, 4]
    assert _events(tmp_path / "b").Tags()["histograms"] == []
    c = _events(tmp_path / "c").Tags()["histograms"]
    assert c and all(t.startswith("weights/") for t in c)


def test_a_key_appearing_later_and_non_finite_values(tmp_path):
    def add(trainer, epoch, logs):
        if epoch >= 1:
            logs["extra"] = float("nan") if epoch == 1 else float("inf")
    c, j = tmp_path / "log.csv", tmp_path / "log.jsonl"
    h = _fit(_trainer(), 3, [LambdaCallback(on_epoch_end=add), CSVLogger(c, separator=";"),
                             JSONLinesLogger(j)])
    text = c.read_text()
    rows = list(csv.DictReader(text.splitlines(), delimiter=";"))
    assert list(rows[0])[-1] == "extra" and len(text.splitlines()[0].split(";")) == \
        len(h.history) + 1
    assert [r["extra"] for r in rows] == ["NA", "nan", "inf"]
    assert [float(r["loss"]) for r in rows] == h["loss"]
    lines = [json.loads(s) for s in j.read_text().splitlines()]   # strict JSON: no NaN
    for s in j.read_text().splitlines():
        json.loads(s, parse_constant=lambda name: pytest.fail(f"non-standard {name}"))
    assert "extra" not in lines[0] and lines[1]["extra"] is None and lines[2]["extra"] is None


def test_append_continues_a_file_and_the_default_starts_over(tmp_path):
    c, j = tmp_path / "log.csv", tmp_path / "log.jsonl"
    _fit(_trainer(), 2, [CSVLogger(c), JSONLinesLogger(j)])
    _fit(_trainer(), 3, [CSVLogger(c, append=True), JSONLinesLogger(j, append=True)])
    assert [r["epoch"] for r in _csv(c)] == ["0", "1", "0", "1", "2"]
    assert c.read_text().count("epoch") == 1                 # one header
    assert [r["epoch"] for r in _jsonl(j)] == [0, 1, 0, 1, 2]
    _fit(_trainer(), 1, [CSVLogger(c), JSONLinesLogger(j)])
    assert [r["epoch"] for r in _csv(c)] == ["0"] and len(_jsonl(j)) == 1


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(ArgumentTypeError, match="filename"):
        CSVLogger(3)
    with pytest.raises(ArgumentError, match="separator"):
        CSVLogger(tmp_path / "a.csv", separator=",,")
    with pytest.raises(ArgumentTypeError, match="append"):
        JSONLinesLogger(tmp_path / "a.jsonl", append="yes")
    with pytest.raises(ArgumentError, match="histogram_freq"):
        TensorBoardLogger(tmp_path, histogram_freq=-1)
    with pytest.raises(ArgumentTypeError, match="write_grads"):
        TensorBoardLogger(tmp_path, write_grads=1)


def hide_tensorboardx(monkeypatch):
    """Make ``import tensorboardX`` fail, as where it is not installed."""
    import builtins
    real = builtins.__import__

    def no_tbx(name, *a, **k):
        if name.startswith("tensorboardX"):
            raise ImportError("No module named 'tensorboardX'")
        return real(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", no_tbx)


def test_without_tensorboardx_the_message_says_what_to_install(tmp_path, monkeypatch):
    hide_tensorboardx(monkeypatch)
    with pytest.raises(ImportError, match=r"pip install glassnet\[tensorboard\]"):
        TensorBoardLogger(tmp_path)


# ---------------------------------------------------------------- exact resume
def _logged_run(folder, epochs, resume=None, die_at=None, append_csv=False):
    def die(trainer, epoch):
        if epoch == die_at:
            raise KeyboardInterrupt
    cbs = [ModelCheckpoint(str(folder / "ck-{epoch}"), monitor="val_loss", checkpoint=True),
           CSVLogger(folder / "log.csv", append=append_csv), JSONLinesLogger(folder / "log.jsonl"),
           TensorBoardLogger(folder / "tb"), LambdaCallback(on_epoch_begin=die)]
    t = _trainer()
    try:
        _fit(t, epochs, cbs, resume=resume)
    except KeyboardInterrupt:
        pass
    return t


def _without_time(rows):
    return [{k: v for k, v in r.items() if k != "time"} for r in rows]


def test_loggers_survive_an_exact_resume(tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    _logged_run(full, 6)
    # a kill during epoch 4, after epochs 0-3 were logged; resumed from epoch 1's checkpoint
    _logged_run(part, 6, die_at=4)
    assert [r["epoch"] for r in _jsonl(part / "log.jsonl")] == [0, 1, 2, 3]
    _logged_run(part, 6, resume=part / "ck-2.safetensors")
    assert _without_time(_csv(part / "log.csv")) == _without_time(_csv(full / "log.csv"))
    assert _without_time(_jsonl(part / "log.jsonl")) == _without_time(_jsonl(full / "log.jsonl"))
    a, b = _events(full / "tb"), _events(part / "tb")     # epochs 2, 3 shown once, resumed
    for k in ("loss", "val_loss", "val_accuracy", "lr/group_0"):
        assert [(e.step, e.value) for e in b.Scalars(k)] == \
            [(e.step, e.value) for e in a.Scalars(k)], k
    assert [e.step for e in b.Histograms("weights/0.weight")] == list(range(6))


def test_an_appended_file_keeps_the_earlier_runs_rows_through_a_resume(tmp_path):
    folder = tmp_path / "run"
    _logged_run(folder, 3)                                  # an earlier run: epochs 0-2
    _logged_run(folder, 5, die_at=3, append_csv=True)       # appended, killed in epoch 3
    _logged_run(folder, 5, resume=folder / "ck-1.safetensors", append_csv=True)
    assert [r["epoch"] for r in _csv(folder / "log.csv")] == \
        ["0", "1", "2", "0", "1", "2", "3", "4"]


def test_gradients_of_the_last_batch_when_the_number_of_batches_is_unknown(tmp_path):
    Xtr, ytr, _, _ = _digits()

    class Batches:                     # iterable, no __len__: the logger cannot count
        def __iter__(self):
            return iter([(Xtr[i:i + 40], ytr[i:i + 40]) for i in range(0, 160, 40)])

    grads = []
    last = LambdaCallback(on_after_backward=lambda t, step: step == 3 and grads.append(
        t.model[0].bias.grad.numpy().copy()))
    t = _trainer()
    t.fit(Batches(), epochs=2, verbose=0, callbacks=[last, TensorBoardLogger(tmp_path)])
    ev = _events(tmp_path).Histograms("gradients/0.bias")
    assert [e.step for e in ev] == [0, 1] and len(grads) == 2
    for e, want in zip(ev, grads):
        assert e.histogram_value.min == want.min() and e.histogram_value.max == want.max()
