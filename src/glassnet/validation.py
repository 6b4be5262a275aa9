"""Argument checks shared by every layer of glassnet.

Each check takes the value, the argument's ``name`` and ``who`` (the function or layer
asking), returns the value in its plain Python form (``int``, ``float``, a tuple of ints,
the table entry) and otherwise raises :class:`~glassnet.errors.ArgumentError` (a
``ValueError``) with one message shape: ``"{who}: {name} must be {what}, got {value!r}"``.

* :func:`check_int` - an integer (bool and floats such as 3.0 refused), >= ``min``;
* :func:`check_real` - a real number (bool and NaN refused) in an interval;
* :func:`check_probability` - a real number in [0, 1] (ends optionally open);
* :func:`check_choice` - one of a few allowed values;
* :func:`check_ints` / :func:`check_pair` - an int or a tuple of ``n`` ints (kernel sizes,
  strides, paddings);
* :func:`lookup` - a name resolved in a table of classes or functions (activations,
  losses, optimizers, ...), forgiving about case, ``-`` and ``_``.

This module imports only NumPy and :mod:`glassnet.errors`, so every layer may use it.
Unwrapping a Tensor argument into its array lives beside Tensor
(:func:`glassnet.autograd.tensor.as_array`).

>>> check_int(3, "in_features", "Linear")
3
>>> check_probability(1.5, "p", "Dropout")
Traceback (most recent call last):
...
glassnet.errors.ArgumentError: Dropout: p must be a probability in [0, 1], got 1.5
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any, Literal, NoReturn, TypeVar, overload

import numpy as np

from .errors import ArgumentError, ArgumentTypeError

__all__ = ["is_int", "check_int", "check_real", "check_probability", "check_choice",
           "check_ints", "check_pair", "check_samples", "lookup"]

_T = TypeVar("_T")


def is_int(value: object) -> bool:
    """True for Python and NumPy integers, False for bools (``True`` is not a size) and
    for every float, even an integral one such as 3.0."""
    t = type(value)
    if t is int:             # the common case first: these checks run on per-call paths
        return True
    return t is not bool and isinstance(value, numbers.Integral) and t is not np.bool_


def _is_real(value: object) -> bool:
    t = type(value)
    if t is float or t is int:
        return True
    return t is not bool and isinstance(value, numbers.Real) and t is not np.bool_


def _num(x: float) -> str:
    """A bound as a person writes it: 0, 1, 0.5, 1e-08."""
    return f"{x:g}" if isinstance(x, float) else str(x)


def _fail(who: str, name: str, what: str, value: object) -> NoReturn:
    raise ArgumentError(f"{who}: {name} must be {what}, got {value!r}")


@overload
def check_int(value: Any, name: str, who: str, min: int | None = ..., max: int | None = ...,
              allow_none: Literal[False] = ...) -> int:
    ...


@overload
def check_int(value: Any, name: str, who: str, min: int | None = ..., max: int | None = ...,
              allow_none: bool | str = ...) -> int | None:
    ...


def check_int(value: Any, name: str, who: str, min: int | None = 1, max: int | None = None,
              allow_none: bool | str = False) -> int | None:
    """``int(value)`` for an integer in [min, max] (``None`` leaves that side open).

    Refuses bools and non-integers, floats with an integral value included: a size of
    ``3.0`` or ``True`` is almost always a mistake elsewhere. The message says
    ``"must be a positive integer"`` for ``min=1``, ``"must be an integer >= {min}"``
    otherwise and ``"must be an integer in [min, max]"`` with both bounds; with
    ``allow_none`` a ``None`` passes through and the message adds ``"or None"`` (followed
    by ``allow_none`` in parentheses when it is a string saying what None means).

    >>> check_int(2, "samples", "mc_predict", min=2)
    2
    """
    if value is None and allow_none:
        return None
    if (not is_int(value) or (min is not None and value < min)
            or (max is not None and value > max)):
        if max is not None and min is not None:
            what = f"an integer in [{min}, {max}]"
        elif max is not None:
            what = f"an integer <= {max}"
        elif min == 1:
            what = "a positive integer"
        elif min is not None:
            what = f"an integer >= {min}"
        else:
            what = "an integer"
        _fail(who, name, what + _or_none(allow_none), value)
    return int(value)


def _or_none(allow_none: bool | str) -> str:
    if not allow_none:
        return ""
    return " or None" + (f" ({allow_none})" if isinstance(allow_none, str) else "")


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return (f"in {'(' if low_open else '['}{_num(low)}, {_num(high)}"
                f"{')' if high_open else ']'}")
    if low is not None:
        if low == 0:
            return "a positive number" if low_open else "a non-negative number"
        return f"a number {'>' if low_open else '>='} {_num(low)}"
    if high is not None:
        return f"a number {'<' if high_open else '<='} {_num(high)}"
    return "a real number"


def _inside(value: Any, low: float | None, high: float | None, low_open: bool,
            high_open: bool) -> bool:
    if not _is_real(value) or math.isnan(value):
        return False
    if low is not None and (value <= low if low_open else value < low):
        return False
    return high is None or (value < high if high_open else value <= high)


@overload
def check_real(value: Any, name: str, who: str, low: float | None = ...,
               high: float | None = ..., low_open: bool = ..., high_open: bool = ...,
               allow_none: Literal[False] = ...) -> float:
    ...


@overload
def check_real(value: Any, name: str, who: str, low: float | None = ...,
               high: float | None = ..., low_open: bool = ..., high_open: bool = ...,
               allow_none: bool | str = ...) -> float | None:
    ...


def check_real(value: Any, name: str, who: str, low: float | None = None,
               high: float | None = None, low_open: bool = False, high_open: bool = False,
               allow_none: bool | str = False) -> float | None:
    """``float(value)`` for a real number inside the interval from ``low`` to ``high``
    (closed ends unless ``low_open`` / ``high_open``; ``None`` is no bound).

    Refuses bools, strings, NaN (always) and values outside the interval; an infinity
    passes only where no bound excludes it. Messages read ``"must be in [0, 1)"``,
    ``"must be a non-negative number"`` (``low=0``), ``"must be a positive number"``
    (``low=0, low_open=True``) or ``"must be a number >= 2"``.

    >>> check_real(0.9, "momentum", "SGD", 0, 1, high_open=True)
    0.9
    """
    if value is None and allow_none:
        return None
    if not _inside(value, low, high, low_open, high_open):
        _fail(who, name, _interval(low, high, low_open, high_open) + _or_none(allow_none),
              value)
    return float(value)


def check_probability(value: Any, name: str, who: str, low_open: bool = False,
                      high_open: bool = False) -> float:
    """``float(value)`` for a probability: a real number in [0, 1] (an end excluded with
    ``low_open`` / ``high_open``, e.g. a dropout rate in [0, 1)); message
    ``"must be a probability in [0, 1], got ..."``.

    >>> check_probability(0.25, "p", "Dropout")
    0.25
    """
    if not _inside(value, 0, 1, low_open, high_open):
        _fail(who, name, "a probability " + _interval(0, 1, low_open, high_open), value)
    return float(value)


def _is_choice(value: object, choice: object) -> bool:
    if isinstance(value, (bool, np.bool_)) != isinstance(choice, (bool, np.bool_)):
        return False                  # 1 == True in Python, but 1 is not the choice True
    try:
        return bool(value == choice)
    except (TypeError, ValueError):   # an array compares elementwise: not a choice
        return False


def check_choice(value: _T, name: str, who: str, choices: Iterable[object]) -> _T:
    """``value`` when it is one of ``choices`` (compared with ``==``, a bool only with a
    bool), else ``"{who}: {name} must be one of [...], got ..."``.

    >>> check_choice("mean", "reduction", "L1Loss", ("mean", "sum", "none"))
    'mean'
    """
    if isinstance(value, str) and value in choices:   # the common case, on per-call paths
        return value
    choices = tuple(choices)
    if not any(_is_choice(value, c) for c in choices):
        _fail(who, name, f"one of {list(choices)!r}", value)
    return value


def check_ints(value: Any, name: str, who: str, n: int,
               min: int | None = None) -> tuple[int, ...]:
    """A tuple of ``n`` ints from one int (repeated) or a tuple/list of ``n`` ints, each
    >= ``min`` when given (kernel sizes, strides, paddings, output sizes).

    >>> check_ints(3, "kernel_size", "Conv2d", 2, min=1), check_ints((1, 2), "stride", "x", 2)
    ((3, 3), (1, 2))
    """
    out: tuple[int, ...] | None = None
    if is_int(value):
        out = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n:
        ints = [int(v) for v in value if is_int(v)]
        out = tuple(ints) if len(ints) == n else None
    if out is None or (min is not None and any(v < min for v in out)):
        what = ("an int" if n == 1 else
                "an int or a pair of ints" if n == 2 else f"an int or a tuple of {n} ints")
        if min is not None:
            what += f", each >= {min}" if n > 1 else f" >= {min}"
        _fail(who, name, what, value)
    return out


def check_pair(value: Any, name: str, who: str, min: int | None = None) -> tuple[int, ...]:
    """``check_ints(value, name, who, 2, min)``: (a, a) from an int a, or (a, b) from a pair.

    >>> check_pair(2, "stride", "MaxPool2d")
    (2, 2)
    """
    return check_ints(value, name, who, 2, min)


def check_samples(a: np.ndarray, name: str, who: str) -> np.ndarray:
    """``a`` (an array) when it has a first, sample dimension; a 0-d array is refused
    with ``"{who}: {name} must be an array of samples (with a first dimension), got a
    scalar"``.

    >>> check_samples(np.zeros(3), "y", "accuracy").shape
    (3,)
    """
    if np.ndim(a) == 0:
        raise ArgumentError(f"{who}: {name} must be an array of samples (with a first "
                            f"dimension), got a scalar")
    return a


def _canonical(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "").replace(" ", "")


def lookup(name: str, table: Mapping[str, _T], what: str, who: str,
           aliases: Mapping[str, str] | None = None, also: str | None = None) -> _T:
    """``table[name]`` for a name given loosely: case, ``-``, ``_`` and spaces do not matter
    (``"Leaky-ReLU"`` finds ``"leaky_relu"``), and ``aliases`` maps other names to keys.

    A name that is not a string raises :class:`~glassnet.errors.ArgumentTypeError`; an
    unknown one :class:`~glassnet.errors.ArgumentError`
    ``"{who}: unknown {what} 'x'; choose from [...]"`` (``also`` adds another kind of
    accepted value to that list, e.g. ``"a callable"``).

    >>> lookup("ReLU", {"relu": abs, "tanh": math.tanh}, "activation", "get_activation")
    <built-in function abs>
    """
    aliases = aliases or {}
    if not isinstance(name, str):
        kinds = "a string" + (f" or {also}" if also else "")
        raise ArgumentTypeError(f"{who}: {what} must be {kinds}, got {type(name).__name__} "
                                f"{name!r:.60}")
    key = name.lower().replace("-", "_")
    key = aliases.get(key, key)
    if key not in table:
        loose = {_canonical(k): k for k in table}
        loose.update({_canonical(a): k for a, k in aliases.items() if _canonical(a) not in loose})
        key = loose.get(_canonical(name), key)
    if key not in table:
        choices = sorted(set(table) | set(aliases))
        raise ArgumentError(f"{who}: unknown {what} {name!r}; choose from {choices}"
                            + (f" or {also}" if also else ""))
    return table[key]
