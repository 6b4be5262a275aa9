"""``History``: what ``Trainer.fit`` recorded, epoch by epoch."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..errors import ArgumentError, ArgumentTypeError
from ..validation import is_int

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import PathLike

__all__ = ["History"]


class History:
    """Per-epoch values of the loss, the metrics and the learning rate.

    ``history.history`` maps a name ("loss", "val_loss", "accuracy", "val_accuracy",
    "lr", ...) to a list with one value per epoch; ``history.epoch`` lists the epoch
    numbers (0-based). ``history["val_loss"]`` is a shortcut.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float | None]] = {}
        self.epoch: list[int] = []
        self.params: dict[str, Any] = {}
        self.stop_reason: str | None = None

    def append(self, epoch: int, logs: dict[str, Any]) -> None:
        n = len(self.epoch)
        self.epoch.append(int(epoch))
        for k, v in logs.items():
            col = self.history.setdefault(k, [None] * n)
            col.append(float(v) if v is not None else None)
        for k, col in self.history.items():
            if len(col) < n + 1:
                col.append(None)

    def update_last(self, logs: dict[str, Any]) -> None:
        """Set the last epoch's values of ``logs`` (keys new to the history included)."""
        n = len(self.epoch)
        for k, v in logs.items():
            col = self.history.setdefault(k, [None] * n)
            col[-1] = float(v) if v is not None else None

    def __getitem__(self, key: str) -> list[float | None]:
        if key not in self.history:
            raise KeyError(f"History has no {key!r}; it recorded {sorted(self.history)}")
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.epoch)

    def best(self, monitor: str = "val_loss", mode: str = "min") -> tuple[int, float]:
        """(epoch, value) of the best recorded value of ``monitor``."""
        vals = [(v, e) for e, v in zip(self.epoch, self[monitor]) if v is not None]
        if not vals:
            raise ValueError(f"History.best: no values recorded for {monitor!r}")
        v, e = (min if mode == "min" else max)(vals)
        return e, v

    def to_dict(self) -> dict[str, Any]:
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()},
                "params": dict(self.params), "stop_reason": self.stop_reason}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        """The History of :meth:`to_dict`, checked first: ``epoch`` a list of increasing
        integers >= 0, ``history`` a dict of name -> list with one number (or None) per
        epoch, ``params`` a dict, ``stop_reason`` a string or None; anything else is an
        :class:`~glassnet.errors.ArgumentError` naming the field."""
        who = "History.from_dict"
        if not isinstance(d, dict):
            raise ArgumentTypeError(f"{who}: expected a dict, got {type(d).__name__}")
        epochs = d.get("epoch", [])
        if not isinstance(epochs, list) or not all(is_int(e) and e >= 0 for e in epochs) \
                or any(b <= a for a, b in zip(epochs, epochs[1:])):
            raise ArgumentError(f"{who}: epoch must be a list of increasing integers >= 0, "
                                f"got {epochs!r:.100}")
        cols = d.get("history", {})
        if not isinstance(cols, dict):
            raise ArgumentError(f"{who}: history must be a dict of name -> list, got "
                                f"{type(cols).__name__}")
        for k, col in cols.items():
            if not isinstance(col, list) or len(col) != len(epochs) or not all(
                    v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                    for v in col):
                raise ArgumentError(f"{who}: history[{k!r}] must be a list of {len(epochs)} "
                                    f"numbers or None (one per epoch), got {col!r:.100}")
        params = d.get("params", {})
        if not isinstance(params, dict):
            raise ArgumentError(f"{who}: params must be a dict, got {type(params).__name__}")
        reason = d.get("stop_reason")
        if reason is not None and not isinstance(reason, str):
            raise ArgumentError(f"{who}: stop_reason must be a string or None, got {reason!r}")
        h = cls()
        h.epoch = [int(e) for e in epochs]
        h.history = {k: [None if v is None else float(v) for v in col]
                     for k, col in cols.items()}
        h.params = dict(params)
        h.stop_reason = reason
        return h

    def to_json(self, path: PathLike | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    def __repr__(self) -> str:
        last = {k: v[-1] for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"
