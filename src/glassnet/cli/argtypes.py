"""The types of ``glassnet``'s command-line options: each parses one string and raises
``argparse.ArgumentTypeError`` with what it expected (argparse turns it into the one-line
error of the command). Shared by every subcommand's parser (cli/main.py, cli/search.py)."""
from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

_N = TypeVar("_N", int, float)

__all__ = ["positive_int", "non_negative_int", "positive_float", "fraction", "int_list"]


def _number(text: str, kind: type[_N]) -> _N:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}"
                                         f", got {text!r}") from None


def _int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = _number(text, int)
        if value < low:
            raise argparse.ArgumentTypeError(
                f"expected {'a positive integer' if low == 1 else f'an integer >= {low}'}, "
                f"got {text!r}")
        return value
    parse.__name__ = "positive integer" if low == 1 else f"integer >= {low}"
    return parse


positive_int, non_negative_int = _int_at_least(1), _int_at_least(0)


def positive_float(text: str) -> float:
    """A finite number > 0 (learning rates, temperatures)."""
    value = _number(text, float)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return value


def fraction(text: str) -> float:
    """A number in [0, 1) (dropout, masking noise)."""
    value = _number(text, float)
    if not 0 <= value < 1:      # NaN fails too
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def int_list(value: str) -> list[int]:
    """Comma-separated positive integers, at least one: ``256`` or ``256,128``."""
    try:
        sizes = [int(t) for t in value.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {value!r}")
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got "
                                         f"{value!r}")
    return sizes


# newuser: the help texts of --data-dir and predict
