"""Argument checks shared by the update rules.

Every rule lists the numeric hyper-parameters of its groups as :class:`Bound` entries (the
base class adds ``lr``, ``weight_decay`` and the keys schedulers put in a group). The same
table is used three times: by the constructor (through ``add_param_group``), by
``load_state_dict`` before anything is applied, and at every ``step()``, cheaply (a few
comparisons per group, never per element), so that ``opt.param_groups[0]["lr"] = nan``
is an error at the next step instead of NaN weights.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ..errors import ArgumentError, ArgumentTypeError
from ..validation import check_real

# compile_bounds' plain tuples: (key, index, low, high, low_open, high_open, required)
_Compiled = tuple[tuple[str, "int | None", float, float, bool, bool, bool], ...]


INF = math.inf


class Bound(NamedTuple):
    """``group[key]`` (or ``group[key][index]``) must be a real number between ``low``
    and ``high`` (``None``: no bound, NaN always refused); ``required``: the key must be
    in the group (else it is checked only when present)."""
    key: str
    low: float | None = 0.0
    high: float | None = INF
    low_open: bool = False
    high_open: bool = True
    # the field's name hides tuple.index(); kept: the rules build Bound(..., index=i)
    index: int | None = None  # type: ignore[assignment]
    required: bool = False

    @property
    def name(self) -> str:
        return self.key if self.index is None else f"{self.key}[{self.index}]"

    def what(self) -> str:
        lo, hi = self.low, self.high
        if lo is None and hi is None:
            return "a real number (not NaN)"
        if hi == INF and self.high_open:
            if lo == -INF and self.low_open:
                return "a finite number"
            return f"a finite number {'>' if self.low_open else '>='} {lo:g}"
        return (f"in {'(' if self.low_open else '['}{lo:g}, {hi:g}"
                f"{')' if self.high_open else ']'}")

    def holds(self, v: Any) -> bool:
        """The cheap test: comparisons only (NaN fails them all)."""
        if self.low is None:
            return v == v
        if not (v > self.low if self.low_open else v >= self.low):
            return False
        return v < self.high if self.high_open else v <= self.high


def _value(group: Mapping[str, Any], b: Bound) -> Any:
    v = group.get(b.key)
    if v is None or b.index is None:
        return v
    if not isinstance(v, (tuple, list)) or len(v) <= b.index:
        return v
    return v[b.index]


def check_bounds(group: Mapping[str, Any], bounds: Sequence[Bound], who: str,
                 where: str = "") -> None:
    """Raise :class:`ArgumentError` (``ArgumentTypeError`` for a non-number) for the first
    entry of ``bounds`` that ``group`` breaks; with ``where`` (e.g. ``"param_groups[0]"``)
    the message names ``param_groups[0]['lr']`` instead of ``lr``."""
    for b in bounds:
        label = b.name if not where else (
            f"{where}[{b.key!r}]" + ("" if b.index is None else f"[{b.index}]"))
        if b.index is not None:
            seq = group.get(b.key)
            if seq is None and not b.required:
                continue
            if not isinstance(seq, (tuple, list)) or len(seq) <= b.index:
                raise ArgumentError(f"{who}: {label} must be a pair of numbers, got {seq!r}")
        v = _value(group, b)
        if v is None and not b.required:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
            raise ArgumentTypeError(f"{who}: {label} must be a real number, got "
                                    f"{type(v).__name__} {v!r:.60}")
        try:
            ok = b.holds(v)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ArgumentError(f"{who}: {label} must be {b.what()}, got {v!r}")


def compile_bounds(bounds: Sequence[Bound]) -> _Compiled:
    """``bounds`` as plain tuples ``(key, index, low, high, low_open, high_open,
    required)`` with the missing bounds as infinities, for :func:`bounds_hold`."""
    return tuple((b.key, b.index, -INF if b.low is None else b.low,
                  INF if b.high is None else b.high,
                  b.low_open and b.low is not None, b.high_open and b.high is not None,
                  b.required) for b in bounds)


def bounds_hold(group: Mapping[str, Any], compiled: _Compiled) -> bool:
    """Whether ``group`` keeps every bound of ``compiled`` (:func:`compile_bounds`);
    comparisons only (NaN fails them all), for ``step()``."""
    get = group.get
    try:
        for key, index, lo, hi, lo_open, hi_open, required in compiled:
            v = get(key)
            if v is None:
                if required:
                    return False
                continue
            if index is not None:
                v = v[index]
            if not ((v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)):
                return False
    except (TypeError, ValueError, IndexError, KeyError):
        return False
    return True


BETAS = (Bound("betas", 0.0, 1.0, index=0, required=True),
         Bound("betas", 0.0, 1.0, index=1, required=True))
EPS = Bound("eps", required=True)


def betas(value: Any, who: str) -> tuple[float, float]:
    """``(beta1, beta2)`` as floats, each in [0, 1)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ArgumentError(f"{who}: betas must be two numbers in [0, 1), got {value!r}")
    b1, b2 = (check_real(b, f"betas[{i}]", who, 0, 1, high_open=True)
              for i, b in enumerate(value))
    return b1, b2


def f32(x: float) -> float:
    """``x`` rounded to float32 and back: PyTorch keeps some scalar state (``step``,
    NAdam's ``mu_product``, ASGD's ``eta`` and ``mu``) in float32 tensors, whatever the
    parameters' dtype, and its updates use the rounded value."""
    import numpy as np
    return float(np.float32(x))
