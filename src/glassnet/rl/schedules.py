"""Exploration schedules: epsilon as a function of the environment step.

* :class:`LinearEpsilon`: from ``start`` straight down to ``end`` over ``steps`` steps,
  then ``end``: ``eps(t) = start + (end - start) * min(t / steps, 1)``.
* :class:`ExponentialEpsilon`: ``eps(t) = end + (start - end) * decay ** t``, approaching
  ``end`` geometrically; :meth:`ExponentialEpsilon.over` picks ``decay`` so that the gap
  to ``end`` has shrunk to 1% after ``steps`` steps.

>>> LinearEpsilon(1.0, 0.1, steps=100)(50)
0.55
>>> round(ExponentialEpsilon(1.0, 0.0, decay=0.5)(3), 3)
0.125
"""
from __future__ import annotations

import math
from typing import Any

from ..errors import ArgumentError
from ..validation import check_int, check_probability, check_real

__all__ = ["EpsilonSchedule", "LinearEpsilon", "ExponentialEpsilon", "ConstantEpsilon",
           "schedule_from_dict"]


class EpsilonSchedule:
    """Base: ``schedule(t)`` is epsilon at environment step ``t`` (t >= 0)."""

    kind = "base"

    def value(self, t: int) -> float:
        raise NotImplementedError

    def __call__(self, t: int) -> float:
        if t < 0:
            raise ArgumentError(f"{type(self).__name__}: step must be >= 0, got {t}")
        return self.value(int(t))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **{k: v for k, v in vars(self).items()}}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class ConstantEpsilon(EpsilonSchedule):
    """The same epsilon at every step."""

    kind = "constant"

    def __init__(self, epsilon: float) -> None:
        self.epsilon = check_probability(epsilon, "epsilon", "ConstantEpsilon")

    def value(self, t: int) -> float:
        return self.epsilon


class LinearEpsilon(EpsilonSchedule):
    """``start`` to ``end`` linearly over ``steps`` environment steps, ``end`` after."""

    kind = "linear"

    def __init__(self, start: float = 1.0, end: float = 0.05, steps: int = 10_000) -> None:
        who = "LinearEpsilon"
        self.start = check_probability(start, "start", who)
        self.end = check_probability(end, "end", who)
        self.steps = check_int(steps, "steps", who, min=1)

    def value(self, t: int) -> float:
        frac = min(t / self.steps, 1.0)
        return self.start + (self.end - self.start) * frac


class ExponentialEpsilon(EpsilonSchedule):
    """``end + (start - end) * decay ** t``: the gap to ``end`` shrinks by ``decay`` a step."""

    kind = "exponential"

    def __init__(self, start: float = 1.0, end: float = 0.05, decay: float = 0.9995) -> None:
        who = "ExponentialEpsilon"
        self.start = check_probability(start, "start", who)
        self.end = check_probability(end, "end", who)
        self.decay = check_real(decay, "decay", who, 0, 1, low_open=True)

    @classmethod
    def over(cls, start: float, end: float, steps: int) -> ExponentialEpsilon:
        """The schedule whose gap to ``end`` is 1% of ``start - end`` after ``steps`` steps."""
        steps = check_int(steps, "steps", "ExponentialEpsilon.over", min=1)
        return cls(start, end, decay=math.exp(math.log(0.01) / steps))

    def value(self, t: int) -> float:
        return self.end + (self.start - self.end) * self.decay ** t


_KINDS: dict[str, type[EpsilonSchedule]] = {
    "constant": ConstantEpsilon, "linear": LinearEpsilon, "exponential": ExponentialEpsilon}


def schedule_from_dict(d: dict[str, Any]) -> EpsilonSchedule:
    """The schedule of :meth:`EpsilonSchedule.to_dict`."""
    if not isinstance(d, dict) or d.get("kind") not in _KINDS:
        raise ArgumentError(f"schedule_from_dict: expected a dict with kind one of "
                            f"{sorted(_KINDS)}, got {d!r:.100}")
    args = {k: v for k, v in d.items() if k != "kind"}
    try:
        return _KINDS[d["kind"]](**args)
    except TypeError as e:
        raise ArgumentError(f"schedule_from_dict: bad arguments for {d['kind']} ({e})") from None
