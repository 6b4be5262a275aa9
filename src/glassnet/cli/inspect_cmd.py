"""``glassnet inspect vanishing --out DIR``: the vanishing-gradient demonstration."""
from __future__ import annotations

import sys
from pathlib import Path


def run(args) -> int:
    """Train the 10-layer net with sigmoid, tanh, ReLU and ReLU + batch norm; write
    ``vanishing.png`` (gradient norm per layer), ``vanishing.json`` and ``vanishing.txt``
    into ``args.out`` and print the first-layer gradient norms."""
    from .. import inspect as ins
    what = getattr(args, "what", "vanishing")
    if what != "vanishing":
        raise ValueError(f"glassnet inspect: unknown demonstration {what!r}; choose vanishing")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    verbose = getattr(args, "verbose", 1)
    seed = getattr(args, "seed", 0) or 0
    res = ins.vanishing_gradient_demo(seed=seed, verbose=verbose)
    table = res.table()
    (out / "vanishing.txt").write_text(table + "\n")
    res.to_json(out / "vanishing.json")
    try:
        ins.plot_vanishing(res, out / "vanishing.png")
    except ImportError as e:
        print(f"(no picture: {e})", file=sys.stderr)
    print(table)
    s, r = res.get("sigmoid"), res.get("relu")
    if s and r:
        print(f"sigmoid's first-layer gradient is {r['first_layer'] / s['first_layer']:.1e} "
              f"times smaller than ReLU's -> {out}")
    return 0
