"""TEST SCAFFOLDING: make_grid and save_image with torchvision's layout (nrow images a
row, ``padding`` pixels between them), written as PNG through matplotlib."""
from __future__ import annotations

import numpy as np

from . import _backend

__all__ = ["make_grid", "save_image"]


def _grid(a: np.ndarray, nrow=8, padding=2, normalize=False, pad_value=0.0) -> np.ndarray:
    if a.ndim == 2:
        a = a[None, None]
    elif a.ndim == 3:
        a = a[None]
    if a.shape[1] == 1:
        a = np.repeat(a, 3, axis=1)
    if normalize:
        lo, hi = a.min(), a.max()
        a = (a - lo) / max(hi - lo, 1e-5)
    n, c, h, w = a.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding),
                   pad_value, dtype=np.float32)
    for k in range(n):
        r, q = divmod(k, cols)
        y, x = r * (h + padding) + padding, q * (w + padding) + padding
        grid[:, y:y + h, x:x + w] = a[k]
    return grid


def make_grid(tensor, nrow=8, padding=2, normalize=False, pad_value=0.0, **kwargs):
    return _backend.to_tensor(_grid(_backend.to_numpy(tensor), nrow, padding, normalize,
                                    pad_value))


def save_image(tensor, fp, nrow=8, padding=2, normalize=False, pad_value=0.0, **kwargs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    g = _grid(_backend.to_numpy(tensor), nrow, padding, normalize, pad_value)
    plt.imsave(fp, np.clip(g.transpose(1, 2, 0), 0.0, 1.0))
