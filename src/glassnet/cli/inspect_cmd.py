"""``glassnet inspect vanishing --out DIR``: the vanishing-gradient demonstration."""
from __future__ import annotations

from argparse import Namespace

from .. import inspect as ins
from ..validation import lookup
from . import runs

__all__ = ["run"]

DEMOS = ("vanishing",)


def run(args: Namespace) -> int:
    """Train the 10-layer net with sigmoid, tanh, ReLU and ReLU + batch norm; write
    ``vanishing.png`` (gradient norm per layer), ``vanishing.json`` and ``vanishing.txt``
    into the run folder ``args.out`` and print the first-layer gradient norms."""
    lookup(runs.option(args, "what", "vanishing"), {d: d for d in DEMOS}, "demonstration",
           "glassnet inspect")
    out = args.out = runs.run_dir(runs.option(args, "out"))
    res = ins.vanishing_gradient_demo(seed=runs.option(args, "seed", 0),
                                      verbose=runs.option(args, "verbose", 1))
    table = res.table()
    (out / "vanishing.txt").write_text(table + "\n")
    res.to_json(out / "vanishing.json")
    runs.draw(ins.plot_vanishing, res, out / "vanishing.png")
    print(table)
    s, r = res.get("sigmoid"), res.get("relu")
    if s and r:
        print(f"sigmoid's first-layer gradient is {r['first_layer'] / s['first_layer']:.1e} "
              f"times smaller than ReLU's -> {out}")
    return 0
