"""``History``: what ``Trainer.fit`` recorded, epoch by epoch."""
from __future__ import annotations

import json

__all__ = ["History"]


class History:
    """Per-epoch values of the loss, the metrics and the learning rate.

    ``history.history`` maps a name ("loss", "val_loss", "accuracy", "val_accuracy",
    "lr", ...) to a list with one value per epoch; ``history.epoch`` lists the epoch
    numbers (0-based). ``history["val_loss"]`` is a shortcut.
    """

    def __init__(self):
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []
        self.params: dict = {}
        self.stop_reason: str | None = None

    def append(self, epoch: int, logs: dict) -> None:
        n = len(self.epoch)
        self.epoch.append(int(epoch))
        for k, v in logs.items():
            col = self.history.setdefault(k, [None] * n)
            col.append(float(v) if v is not None else None)
        for k, col in self.history.items():
            if len(col) < n + 1:
                col.append(None)

    def update_last(self, logs: dict) -> None:
        """Set the last epoch's values of ``logs`` (keys new to the history included)."""
        n = len(self.epoch)
        for k, v in logs.items():
            col = self.history.setdefault(k, [None] * n)
            col[-1] = float(v) if v is not None else None

    def __getitem__(self, key):
        if key not in self.history:
            raise KeyError(f"History has no {key!r}; it recorded {sorted(self.history)}")
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def __len__(self):
        return len(self.epoch)

    def best(self, monitor: str = "val_loss", mode: str = "min"):
        """(epoch, value) of the best recorded value of ``monitor``."""
        vals = [(v, e) for e, v in zip(self.epoch, self[monitor]) if v is not None]
        if not vals:
            raise ValueError(f"History.best: no values recorded for {monitor!r}")
        v, e = (min if mode == "min" else max)(vals)
        return e, v

    def to_dict(self) -> dict:
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()},
                "params": dict(self.params), "stop_reason": self.stop_reason}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        h = cls()
        h.epoch = [int(e) for e in d.get("epoch", [])]
        h.history = {k: list(v) for k, v in d.get("history", {}).items()}
        h.params = dict(d.get("params", {}))
        h.stop_reason = d.get("stop_reason")
        return h

    def to_json(self, path=None) -> str:
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    def __repr__(self):
        last = {k: v[-1] for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"
