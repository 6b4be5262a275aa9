"""Shared by the course scripts: a table of "the deck says / glassnet computes" rows.

Each script builds a :class:`Checks`, calls :meth:`Checks.check` once per worked number
(the deck's value, glassnet's value, the tolerance the deck's rounding allows) and ends
with :meth:`Checks.finish`, which prints the table and exits non-zero when a row differs.
The tests in tests/course run every script and assert that no row differs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Row:
    deck: str          # which deck (file of ../shared/seeds) and section the number is from
    what: str
    expected: Any      # the deck's number (or a value from the literature the deck cites)
    got: Any           # glassnet's
    tol: float
    ok: bool
    compared: bool = True


@dataclass
class Checks:
    title: str
    rows: list[Row] = field(default_factory=list)

    def check(self, deck: str, what: str, expected: Any, got: Any, tol: float = 0.0) -> bool:
        """Record one comparison. Numbers (or arrays) agree when every |got - expected| <= tol;
        anything else must be equal."""
        e, g = np.asarray(expected), np.asarray(got)
        if e.dtype.kind in "biuf" and g.dtype.kind in "biuf":
            ok = e.shape == g.shape and bool(np.all(np.abs(g.astype(float) - e.astype(float))
                                                    <= tol + 1e-12))
        else:
            ok = bool(e.shape == g.shape and np.all(e == g))
        self.rows.append(Row(deck, what, expected, got, tol, ok))
        return ok

    def note(self, deck: str, what: str, got: Any) -> None:
        """A number glassnet computes where the deck gives none (printed, not compared)."""
        self.rows.append(Row(deck, what, "-", got, math.nan, True, compared=False))

    @property
    def failures(self) -> list[Row]:
        return [r for r in self.rows if not r.ok]

    def table(self) -> str:
        def fmt(v: Any) -> str:
            a = np.asarray(v)
            if a.dtype.kind == "f":
                s = np.array2string(a, precision=6, suppress_small=True, separator=", ")
            else:
                s = np.array2string(a, separator=", ") if a.ndim else str(v)
            return " ".join(s.split())
        lines = [self.title, "=" * len(self.title),
                 f"{'':2} {'deck':10} {'what':52} {'deck says':>22} {'glassnet':>22}"]
        for r in self.rows:
            mark = "ok" if r.ok else "XX"
            lines.append(f"{mark:2} {r.deck:10} {r.what[:52]:52} {fmt(r.expected)[:22]:>22} "
                         f"{fmt(r.got)[:22]:>22}")
        n = sum(r.compared for r in self.rows)
        lines.append(f"{n - len(self.failures)}/{n} worked numbers reproduced")
        return "\n".join(lines)

    def finish(self) -> int:
        """Print the table; the exit status of a script: 0 when every row agrees, else 1."""
        print(self.table())
        return 1 if self.failures else 0
