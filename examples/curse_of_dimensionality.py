"""The curse of dimensionality: distances between random points concentrate.

For uniform and Gaussian data of growing dimension d, measure how much farther the
farthest point is than the nearest one, (D_max - D_min) / D_min, and how much nearer the
nearest neighbour is than an average point, D_mean / D_min, for the L1 and L2 distances;
print the table and draw the figure (docs/images/curse_of_dimensionality.png).

    python examples/curse_of_dimensionality.py docs/images/curse_of_dimensionality.png
"""
from __future__ import annotations

import sys

import numpy as np

from glassnet.inspect.dimensionality import concentration_curve, plot_concentration

DIMS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]


def main(path: str | None = None) -> dict:
    curves = {}
    for dist in ("uniform", "gaussian"):
        for p, name in ((2, "L2"), (1, "L1")):
            curves[f"{dist}, {name}"] = concentration_curve(
                DIMS, n_samples=1000, distribution=dist, p=p, n_queries=20, seed=0)
    print(f"{'d':>6} " + " ".join(f"{k:>16}" for k in curves)
          + "   (relative contrast (D_max - D_min) / D_min)")
    for i, d in enumerate(DIMS):
        print(f"{d:>6} " + " ".join(f"{c['relative_contrast'][i]:>16.4g}"
                                   for c in curves.values()))
    c = curves["uniform, L2"]
    big = c["dims"] >= 256
    slope = np.polyfit(np.log(c["dims"][big]), np.log(c["relative_contrast"][big]), 1)[0]
    print(f"uniform, L2: log-log slope over d >= 256 = {slope:.3f} (theory -0.5); "
          f"D_mean / D_min at d = {DIMS[-1]}: {c['nn_contrast'][-1]:.3f}")
    plot_concentration(curves, path, title="Distances concentrate as the dimension grows "
                                           "(1000 random points, 20 queries)")
    return curves


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
