"""Loggers: callbacks that write every epoch's logs to disk as training goes.

* :class:`CSVLogger` - one CSV row per epoch (Keras' ``CSVLogger``);
* :class:`JSONLinesLogger` - one JSON object per line and epoch;
* :class:`TensorBoardLogger` - TensorBoard event files (scalars, the learning rate of
  every parameter group, histograms of the weights and the gradients), through
  tensorboardX (``pip install glassnet[tensorboard]``).

Each writes and flushes at the end of every epoch, so a run that is interrupted (an
exception, Ctrl-C, a killed process) leaves its completed epochs on disk, and the file
can be watched while training runs. Each survives an exact resume
(``Trainer.fit(resume=checkpoint)`` with the same callbacks): the resumed run's file is
the one an uninterrupted run would have written (the epochs after the checkpoint that an
interrupted run had already written are replaced, not duplicated).

>>> import glassnet as gn
>>> from glassnet import nn, optim
>>> from glassnet.training import Trainer, CSVLogger
>>> model = nn.Linear(3, 2)
>>> trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
>>> X, y = gn.randn(16, 3).numpy(), (gn.randn(16).numpy() > 0).astype(int)
>>> history = trainer.fit((X, y), epochs=2, verbose=0,
...                       callbacks=[CSVLogger("train_log.csv")])  # doctest: +SKIP
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError
from ..validation import check_int, is_int
from .callbacks import Callback

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = ["CSVLogger", "JSONLinesLogger", "TensorBoardLogger"]

_MISSING = "NA"     # a CSV cell of a key an epoch did not log (Keras writes "NA" too)


def _path(value: Any, name: str, who: str) -> Path:
    if not isinstance(value, (str, os.PathLike)) or str(value) == "":
        raise ArgumentTypeError(f"{who}: {name} must be a file path (str or os.PathLike), "
                                f"got {value!r:.80}")
    return Path(value)


def _bool(value: Any, name: str, who: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{who}: {name} must be True or False, got {value!r:.80}")
    return bool(value)


def _scalar(value: Any) -> float | int | str | None:
    """A logs value as a plain Python scalar (NumPy scalars and 0-d arrays included)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    return str(value)


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary beside it, then a rename), so
    an interruption leaves the old file or the new one, never half of either."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class _FileLogger(Callback):
    """What the text loggers share: the file opened at the first epoch (after a resumed
    fit has loaded this callback's state), one record per epoch flushed at once, and the
    resume bookkeeping.

    ``rows_before`` (in :meth:`state_dict`) counts the records that were in the file
    before this run began (those of earlier runs kept by ``append=True``); a resumed run
    keeps them and its own records of the epochs before the one it resumes at."""

    _who = "logger"

    def __init__(self, filename: str | os.PathLike, append: bool = False) -> None:
        self.filename = _path(filename, "filename", self._who)
        self.append = _bool(append, "append", self._who)
        self._file: io.TextIOBase | None = None
        self._rows_before = 0
        self._resumed: dict | None = None

    # ---------------------------------------------------------------- to override
    def _read(self, text: str) -> tuple[Any, list]:
        """(header or None, records) of the file's ``text``."""
        raise NotImplementedError

    def _render(self, header: Any, records: list) -> str:
        raise NotImplementedError

    def _epoch_of(self, header: Any, record: Any) -> int | None:
        """The epoch of ``record`` (None for a record without one)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- the file
    def _existing(self) -> tuple[Any, list]:
        try:
            text = self.filename.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, []
        return self._read(text)

    def _open(self, epoch: int) -> None:
        """Open the file for this run (``epoch``: the first epoch it trains)."""
        self.filename.parent.mkdir(parents=True, exist_ok=True)
        if self._resumed is not None:
            header, records = self._existing()
            keep = self._resumed["rows_before"]
            mine = [r for r in records[keep:]
                    if (e := self._epoch_of(header, r)) is not None and e < epoch]
            self._rows_before = min(keep, len(records))
            self._start(header, records[:keep] + mine)
        elif self.append and self.filename.exists():
            header, records = self._existing()
            self._rows_before = len(records)
            self._start(header, records)
        else:
            self._rows_before = 0
            self._start(None, [])

    def _start(self, header: Any, records: list) -> None:
        """Make the file hold ``header`` and ``records`` and open it for appending."""
        self._header = header
        _replace(self.filename, self._render(header, records))
        self._file = open(self.filename, "a", encoding="utf-8", newline="")

    def _write(self, text: str) -> None:
        assert self._file is not None
        self._file.write(text)
        self._file.flush()
        os.fsync(self._file.fileno())

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # ---------------------------------------------------------------- hooks
    def on_train_begin(self, trainer: Trainer) -> None:
        self._close()
        self._resumed = None

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        if self._file is None:
            self._open(epoch)

    def on_train_end(self, trainer: Trainer) -> None:
        self._close()
        self._resumed = None

    # ---------------------------------------------------------------- resume
    def state_dict(self) -> dict:
        """``{"rows_before": n}``: the records of earlier runs at the top of the file."""
        return {"rows_before": int(self._rows_before)}

    def _check_state_dict(self, state: Any, trainer: Trainer | None = None) -> None:
        super()._check_state_dict(state, trainer)
        v = state.get("rows_before")
        if not (is_int(v) and v >= 0):
            raise ArgumentError(f"{type(self).__name__}.load_state_dict: rows_before must "
                                f"be an integer >= 0, got {v!r:.60}")

    def load_state_dict(self, state: dict) -> None:
        """Continue this run's file at the next :meth:`on_epoch_begin` (a resumed fit)."""
        self._check_state_dict(state)
        self._resumed = {"rows_before": int(state["rows_before"])}

    def __del__(self) -> None:
        try:
            self._close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


class CSVLogger(_FileLogger):
    """Write the epoch logs to a CSV file, one row per epoch (Keras' ``CSVLogger``).

    The first column is ``epoch`` (0-based, as in ``History.epoch``), then every key of
    the epoch logs in sorted order (``accuracy``, ``loss``, ``lr``, ``time``,
    ``val_accuracy``, ``val_loss``, ...). Numbers are written with Python's ``repr``, so
    reading them back gives the History's values exactly; a NaN or an infinity is
    ``nan`` / ``inf`` (``float()`` and pandas read both). Each row is written and flushed
    (``fsync``) at the end of its epoch.

    A key that appears in a later epoch (a callback that starts logging something) adds
    a column at the right end: the file is rewritten once with the wider header, the
    earlier rows holding ``NA`` in it, so the file stays one rectangular table. A key
    that an epoch lacks is ``NA`` in that row.

    Parameters
    ----------
    filename : str or os.PathLike
        The CSV file (its folder is created).
    separator : str
        The one-character field delimiter.
    append : bool
        Continue an existing file (its header and rows are kept; a header with fewer
        columns is widened) instead of starting a new one.

    Examples
    --------
    >>> from glassnet.training import CSVLogger
    >>> logger = CSVLogger("runs/log.csv")   # then fit(..., callbacks=[logger])
    >>> logger.separator
    ','
    """

    _who = "CSVLogger"

    def __init__(self, filename: str | os.PathLike, separator: str = ",",
                 append: bool = False) -> None:
        super().__init__(filename, append)
        if not isinstance(separator, str) or len(separator) != 1 \
                or separator in "\r\n\"" or separator.isalnum():
            raise ArgumentError(f"CSVLogger: separator must be one character that is no "
                                f"letter, digit, quote or line break, got {separator!r:.40}")
        self.separator = separator

    def _read(self, text: str) -> tuple[list[str] | None, list[list[str]]]:
        rows = [r for r in csv.reader(io.StringIO(text, newline=""),
                                      delimiter=self.separator) if r]
        if not rows:
            return None, []
        return rows[0], rows[1:]

    def _render(self, header: Any, records: list) -> str:
        buf = io.StringIO(newline="")
        w = csv.writer(buf, delimiter=self.separator, lineterminator="\n")
        if header is not None:
            w.writerow(header)
            w.writerows([r + [_MISSING] * (len(header) - len(r)) for r in records])
        return buf.getvalue()

    def _epoch_of(self, header: list[str] | None, record: list[str]) -> int | None:
        try:
            return int(record[(header or ["epoch"]).index("epoch")])
        except (ValueError, IndexError):
            return None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict) -> None:
        if self._file is None:
            self._open(epoch)
        values = {k: _scalar(v) for k, v in logs.items()}
        header = self._header
        if header is None:
            header = ["epoch"] + sorted(k for k in values if k != "epoch")
            self._start(header, [])
        new = sorted(k for k in values if k not in header and k != "epoch")
        if new:   # widen the table once; the earlier rows get NA in the new columns
            _, records = self._existing()
            self._close()
            header = header + new
            self._start(header, records)
        row = [epoch if k == "epoch" else values.get(k) for k in header]
        row = [_MISSING if v is None else repr(v) if isinstance(v, float) else v
               for v in row]
        buf = io.StringIO(newline="")
        csv.writer(buf, delimiter=self.separator, lineterminator="\n").writerow(row)
        self._write(buf.getvalue())


def _json_value(value: Any) -> Any:
    v = _scalar(value)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class JSONLinesLogger(_FileLogger):
    """Write the epoch logs as JSON lines: one object per epoch,
    ``{"epoch": 0, "loss": 0.52, "val_loss": 0.61, "lr": 0.001, ...}``.

    ``epoch`` is 0-based (as in ``History.epoch``), then every key of the epoch logs in
    sorted order. A key an epoch lacks is simply absent from its line; a key that
    appears later is in the lines from then on. A NaN or infinite value is written as
    ``null``: strict JSON has no NaN or Infinity (Python's ``json`` would write the
    non-standard ``NaN``, which ``jq``, JavaScript and many other readers refuse), so
    every line parses with any JSON reader; read ``null`` back as NaN. Each line is
    written and flushed (``fsync``) at the end of its epoch.

    Parameters
    ----------
    filename : str or os.PathLike
        The ``.jsonl`` file (its folder is created).
    append : bool
        Continue an existing file instead of starting a new one.

    Examples
    --------
    >>> from glassnet.training import JSONLinesLogger
    >>> logger = JSONLinesLogger("runs/log.jsonl")   # then fit(..., callbacks=[logger])
    """

    _who = "JSONLinesLogger"

    def _read(self, text: str) -> tuple[None, list[dict]]:
        records = []
        for line in text.splitlines():
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue   # a line cut by a crash mid-write: not a record
        return None, records

    def _render(self, header: Any, records: list) -> str:
        return "".join(json.dumps(r, allow_nan=False) + "\n" for r in records)

    def _epoch_of(self, header: None, record: Any) -> int | None:
        e = record.get("epoch") if isinstance(record, dict) else None
        return e if is_int(e) else None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict) -> None:
        if self._file is None:
            self._open(epoch)
        record = {"epoch": int(epoch)}
        record.update((k, _json_value(logs[k])) for k in sorted(logs) if k != "epoch")
        self._write(json.dumps(record, allow_nan=False) + "\n")


def _tensorboardx() -> tuple[Any, Any, Any, Any]:
    try:
        from tensorboardX import summary
        from tensorboardX.event_file_writer import EventsWriter
        from tensorboardX.proto.event_pb2 import Event, SessionLog
    except ImportError as e:
        raise ImportError("TensorBoardLogger needs tensorboardX: pip install "
                          "glassnet[tensorboard]") from e
    return summary, EventsWriter, Event, SessionLog


def _tf_bins() -> list[float]:
    """TensorFlow's default histogram bucket edges (tensorboardX's ``bins="tensorflow"``):
    +-1e-12 growing by 10% to 1e20, and 0."""
    v, pos = 1e-12, []
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return [-b for b in reversed(pos)] + [0.0] + pos


class _EventFile:
    """One TensorBoard event file, written synchronously: ``flush`` has every event on
    disk. (tensorboardX's ``SummaryWriter`` hands events to a background thread, and its
    ``flush`` does not wait for that thread, so an epoch's events could still be in a
    queue when the next epoch begins or the process dies.)"""

    def __init__(self, log_dir: Path, purge_step: int | None) -> None:
        self._summary, EventsWriter, self._Event, SessionLog = _tensorboardx()
        # tensorboardX names a file by the second it was opened and truncates one of
        # that name: the nanosecond suffix keeps a writer of the same second (a quick
        # resume) from erasing the earlier file, and sorts after it
        self._w = EventsWriter(str(log_dir / "events"), f".{time.time_ns()}")
        if purge_step is not None:   # TensorBoard hides the earlier files' steps >= it
            self._w.write_event(self._Event(
                wall_time=time.time(), step=purge_step,
                session_log=SessionLog(status=SessionLog.START)))
        self._bins = _tf_bins()

    def scalar(self, tag: str, value: float, step: int) -> None:
        self._w.write_event(self._Event(wall_time=time.time(), step=step,
                                        summary=self._summary.scalar(tag, value)))

    def histogram(self, tag: str, values: np.ndarray, step: int) -> None:
        self._w.write_event(self._Event(
            wall_time=time.time(), step=step,
            summary=self._summary.histogram(tag, values, self._bins)))

    def flush(self) -> None:
        self._w.flush()

    def close(self) -> None:
        self._w.close()


def _gradients(model: Any) -> dict[str, np.ndarray]:
    """A copy of every parameter's gradient, by name (parameters without one left out)."""
    out = {}
    for name, p in model.named_parameters():
        g = p.grad
        if g is not None:
            out[name] = np.array(g._data, copy=True)
    return out


class TensorBoardLogger(Callback):
    """Write TensorBoard event files: the epoch logs as scalars, the learning rate of
    every parameter group, and histograms of the weights and of the gradients.

    Per epoch (the TensorBoard step is the 0-based epoch, as in ``History.epoch``):

    * a scalar for every numeric key of the epoch logs, under its own name (``loss``,
      ``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``, ``time``, ...); TensorBoard
      stores scalars as float32;
    * ``lr/group_{i}``: the learning rate of parameter group ``i`` at the end of the
      epoch (before an epoch scheduler steps; ``lr`` is group 0's, as in the History);
    * every ``histogram_freq`` epochs, ``weights/{name}`` for every parameter at the end
      of the epoch and, with ``write_grads``, ``gradients/{name}``: the gradients of the
      epoch's last batch, taken in ``on_after_backward`` (before gradient clipping and
      the optimizer step; on an epoch that a callback ended early, the gradients left
      in ``p.grad`` by its last step).

    The writer flushes at the end of every epoch and closes at the end of training. A
    resumed fit (``fit(resume=...)``) starts a new event file that purges the steps from
    the resumed epoch on, so TensorBoard shows the epochs an interrupted run had logged
    after its checkpoint once, from the resumed run.

    Needs tensorboardX (``pip install glassnet[tensorboard]``); ``tensorboard --logdir
    LOG_DIR`` shows the files, ``tensorboard.backend.event_processing.event_accumulator``
    reads them back.

    Parameters
    ----------
    log_dir : str or os.PathLike
        The folder of the event files (created).
    histogram_freq : int
        Write the histograms every this many epochs (epochs 0, f, 2f, ...); 0 writes none.
    write_grads : bool
        Also the gradient histograms (when ``histogram_freq > 0``).
    write_lr : bool
        The ``lr/group_{i}`` scalars.

    Examples
    --------
    >>> from glassnet.training import TensorBoardLogger
    >>> logger = TensorBoardLogger("runs/tb", histogram_freq=1)  # doctest: +SKIP
    """

    def __init__(self, log_dir: str | os.PathLike, histogram_freq: int = 1,
                 write_grads: bool = True, write_lr: bool = True) -> None:
        who = "TensorBoardLogger"
        self.log_dir = _path(log_dir, "log_dir", who)
        self.histogram_freq = check_int(histogram_freq, "histogram_freq", who, min=0)
        self.write_grads = _bool(write_grads, "write_grads", who)
        self.write_lr = _bool(write_lr, "write_lr", who)
        _tensorboardx()                 # the ImportError at construction, not at epoch 0
        self.writer: _EventFile | None = None
        self._grads: dict[str, np.ndarray] = {}
        self._capture = False
        self._steps: int | None = None

    def _histograms_at(self, epoch: int) -> bool:
        return self.histogram_freq > 0 and epoch % self.histogram_freq == 0

    def on_train_begin(self, trainer: Trainer) -> None:
        self._close()

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        if self.writer is None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            # a run that starts after epoch 0 (a resume) hides what an earlier writer
            # logged at its steps and later: TensorBoard shows each epoch once
            self.writer = _EventFile(self.log_dir, epoch if epoch > 0 else None)
        steps: Any = trainer.history.params.get("steps")
        self._steps = steps if is_int(steps) and steps > 0 else None
        self._capture = self.write_grads and self._histograms_at(epoch)
        self._grads = {}

    def on_after_backward(self, trainer: Trainer, step: int) -> None:
        """Keep the gradients of the epoch's last batch (of every batch when the number
        of batches is unknown; the last one kept wins)."""
        if not self._capture or (self._steps is not None and step != self._steps - 1):
            return
        self._grads = _gradients(trainer.model)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict) -> None:
        if self.writer is None:
            self.on_epoch_begin(trainer, epoch)
        w = self.writer
        assert w is not None
        for k in sorted(logs):
            v = _scalar(logs[k])
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                w.scalar(k, float(v), epoch)
        if self.write_lr:
            for i, g in enumerate(trainer.optimizer.param_groups):
                w.scalar(f"lr/group_{i}", float(g["lr"]), epoch)
        if self._histograms_at(epoch):
            for name, p in trainer.model.named_parameters():
                w.histogram(f"weights/{name}", np.asarray(p._data), epoch)
            if self.write_grads:
                if not self._grads:   # a callback ended the epoch before its last batch
                    self._grads = _gradients(trainer.model)
                for name, grad in self._grads.items():
                    w.histogram(f"gradients/{name}", grad, epoch)
        self._grads = {}
        w.flush()

    def on_train_end(self, trainer: Trainer) -> None:
        self._close()

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
