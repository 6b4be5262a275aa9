"""Pictures of a model: decision boundaries, Hinton diagrams, filters, feature maps,
reconstructions, confusion matrices (learning curves are in ``curves``).

Every function returns a matplotlib Figure (no pyplot state to close) and writes it to
``path`` when one is given (PNG, SVG or PDF by suffix).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from ..nn.conv import Conv1d, Conv2d
from ..nn.linear import Linear
from ..nn.module import Module
from ._common import CallRecorder, figure, is_activation, same_tensor, save, to_numpy

if TYPE_CHECKING:  # annotations only
    import numpy.typing as npt
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

    from glassnet._typing import PathLike, TensorLike


__all__ = ["plot_decision_boundary", "hinton", "plot_filters", "plot_feature_maps",
           "plot_reconstructions", "plot_confusion_matrix", "montage"]


# ----------------------------------------------------------- decision boundary
def _predict(model: Module, X: npt.ArrayLike) -> np.ndarray:
    was = model.training
    model.eval()
    try:
        with no_grad():
            out = model(Tensor(np.asarray(X, dtype=model.dtype)))
    finally:
        model.train(was)
    return to_numpy(out)


def _first_linear(model: Module) -> Linear | None:
    if isinstance(model, Linear):
        return model
    for m in model.modules():
        if isinstance(m, Linear):
            return m
    return None


def _last_leaf(model: Module) -> Module:
    leaves = [m for m in model.modules() if not m._modules]
    return leaves[-1] if leaves else model


def plot_decision_boundary(model: Module, X: TensorLike, y: TensorLike, hyperplanes: bool = True,
                           path: PathLike | None = None, resolution: int = 300,
                           title: str | None = None, margin: float = 0.5,
                           ax: Axes | None = None) -> Figure | SubFigure:
    """Regions of a trained 2-D classifier, the data, and each first-layer unit's line.

    Colour shows the predicted class (its probability as the shade); the black contour is
    the decision boundary. With ``hyperplanes=True`` every unit j of the first Linear
    layer draws its line w_j·x + b_j = 0 (dashed), with an arrow on the side where the
    unit's net input is positive: the hidden units' hyperplanes that the output combines.

    Parameters
    ----------
    model : Module
        Output (N, 1) (sigmoid probability if the last module is a Sigmoid, else a logit)
        or (N, C) class scores.
    X : array (N, 2)
    y : array (N,)
    """
    X = np.asarray(to_numpy(X), dtype=float)
    y = np.asarray(to_numpy(y)).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (N, 2), got {X.shape}")
    lo, hi = X.min(0) - margin, X.max(0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    out = _predict(model, np.c_[gx.ravel(), gy.ravel()])
    out = out.reshape(len(out), -1)
    if out.shape[1] == 1:
        s = out[:, 0]
        prob = s if type(_last_leaf(model)).__name__ == "Sigmoid" else 1 / (1 + np.exp(-s))
        cls = (prob >= 0.5).astype(int)
        conf = np.where(cls == 1, prob, 1 - prob)
        ncls = 2
    else:
        z = out - out.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        cls = p.argmax(1)
        conf = p.max(1)
        ncls = out.shape[1]
    ncls = max(ncls, int(y.max()) + 1 if y.size else 0)
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection
    base = colormaps["tab10"](np.arange(ncls) % 10)[:, :3]
    shade = 0.35 + 0.5 * (conf - conf.min()) / max(np.ptp(conf), 1e-12)
    img = 1 - shade[:, None] * (1 - base[cls])
    fig = None
    if ax is None:
        fig = figure(figsize=(5.5, 5))
        ax = fig.subplots()
    ax.imshow(img.reshape(resolution, resolution, 3), origin="lower",
              extent=(lo[0], hi[0], lo[1], hi[1]), aspect="auto", interpolation="nearest")
    if ncls >= 2:
        ax.contour(gx, gy, cls.reshape(gx.shape), levels=np.arange(ncls - 1) + 0.5,
                   colors="k", linewidths=1.5)
    ax.scatter(X[:, 0], X[:, 1], c=base[y.astype(int) % len(base)], edgecolors="k", s=40,
               zorder=3)
    lin = _first_linear(model) if hyperplanes else None
    if lin is not None and lin.in_features == 2:
        W = lin.weight._data.astype(float)
        b = lin.bias._data.astype(float) if lin.bias is not None else np.zeros(len(W))
        # each line w0 x + w1 y + b = 0 as a segment across the box (steep ones by y)
        steep = np.abs(W[:, 1]) < np.abs(W[:, 0])
        w1 = np.where(np.abs(W[:, 1]) < 1e-12, 1e-12, W[:, 1])
        w0 = np.where(np.abs(W[:, 0]) < 1e-12, 1e-12, W[:, 0])
        xa = np.where(steep, -(W[:, 1] * lo[1] + b) / w0, lo[0])
        xb = np.where(steep, -(W[:, 1] * hi[1] + b) / w0, hi[0])
        ya = np.where(steep, lo[1], -(W[:, 0] * lo[0] + b) / w1)
        yb = np.where(steep, hi[1], -(W[:, 0] * hi[0] + b) / w1)
        seg = np.stack([np.c_[xa, ya], np.c_[xb, yb]], axis=1)
        cols = colormaps["Dark2"](np.arange(len(W)) % 8)
        # seg (n, 2, 2) is a sequence of segments; the stubs want a Sequence
        ax.add_collection(LineCollection(seg, colors=cols,  # type: ignore[arg-type]
                                         linestyles="--", linewidths=1.8))
        # the foot of the perpendicular from the box centre, and the normal direction
        c = (lo + hi) / 2
        nrm = np.linalg.norm(W, axis=1, keepdims=True)
        foot = c - ((W @ c + b) / nrm[:, 0] ** 2)[:, None] * W
        u = W / np.maximum(nrm, 1e-12) * 0.08 * float(np.max(hi - lo))
        ax.quiver(foot[:, 0], foot[:, 1], u[:, 0], u[:, 1], color=cols, angles="xy",
                  scale_units="xy", scale=1, width=0.006, zorder=4)
        for j, (fx, fy) in enumerate(foot):
            if lo[0] <= fx <= hi[0] and lo[1] <= fy <= hi[1]:
                ax.annotate(f"h{j + 1}", (fx, fy), textcoords="offset points", xytext=(4, 4),
                            color=cols[j], fontsize=9, fontweight="bold")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title or "Decision regions" + (" and first-layer hyperplanes"
                                                 if lin is not None else ""))
    if fig is None:
        return ax.figure
    fig.tight_layout()
    return save(fig, path)


# ------------------------------------------------------------------- Hinton
def hinton(layer: Module | TensorLike, path: PathLike | None = None,
           max_weight: float | None = None, title: str | None = None,
           ax: Axes | None = None) -> Figure | SubFigure:
    """Hinton diagram of a weight matrix: one square per weight, area ∝ |w|, white for
    positive and black for negative, on grey. Rows are output units, columns inputs.

    ``layer`` is a Linear layer (its ``weight``, shape (out, in)), a Parameter or a 2-D array.
    """
    if isinstance(layer, Module):
        w = getattr(layer, "weight", None)
        if w is None:
            raise ValueError(f"hinton: {type(layer).__name__} has no weight")
        W = to_numpy(w)
    else:
        W = to_numpy(layer)
    W = np.asarray(W, dtype=float)
    if W.ndim != 2:
        raise ValueError(f"hinton: need a 2-D weight matrix, got shape {W.shape}")
    from matplotlib.collections import PolyCollection
    n_out, n_in = W.shape
    mw = max_weight or float(np.abs(W).max()) or 1.0
    size = np.sqrt(np.clip(np.abs(W) / mw, 0, 1)).ravel() * 0.95
    jj, ii = np.meshgrid(np.arange(n_out), np.arange(n_in), indexing="ij")
    cx, cy = ii.ravel().astype(float), jj.ravel().astype(float)
    h = size / 2
    verts = np.stack([np.c_[cx - h, cy - h], np.c_[cx + h, cy - h],
                      np.c_[cx + h, cy + h], np.c_[cx - h, cy + h]], axis=1)
    fig = None
    if ax is None:
        fig = figure(figsize=(min(12, 1.5 + 0.35 * n_in), min(10, 1.2 + 0.35 * n_out)))
        ax = fig.subplots()
    ax.set_facecolor("#808080")
    ax.add_collection(PolyCollection(verts,  # type: ignore[arg-type]  # (n, 4, 2) polygons
                                     facecolors=np.where(W.ravel()[:, None] > 0,
                                                         "white", "black")[:, 0],
                                     edgecolors="none"))
    ax.set_xlim(-0.5, n_in - 0.5)
    ax.set_ylim(n_out - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xlabel("input unit")
    ax.set_ylabel("output unit")
    if n_in <= 30:
        ax.set_xticks(np.arange(n_in))
    if n_out <= 30:
        ax.set_yticks(np.arange(n_out))
    ax.set_title(title or f"Hinton diagram {n_out}x{n_in} (white +, black -, max |w| "
                          f"{mw:.3g})", fontsize=9)
    if fig is None:
        return ax.figure
    fig.tight_layout()
    return save(fig, path)


# ---------------------------------------------------------- filters and maps
def montage(tiles: npt.ArrayLike, ncols: int | None = None, pad: int = 1) -> np.ndarray:
    """Arrange tiles (n, h, w) or (n, h, w, 3) into one image with NaN gaps (vectorised)."""
    tiles = np.asarray(tiles, dtype=float)
    n, h, w = tiles.shape[:3]
    extra = tiles.shape[3:]
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    full = np.full((nrows * ncols, h + pad, w + pad) + extra, np.nan)
    full[:n, :h, :w] = tiles
    img = full.reshape((nrows, ncols, h + pad, w + pad) + extra)
    img = img.swapaxes(1, 2).reshape((nrows * (h + pad), ncols * (w + pad)) + extra)
    return img[:-pad or None, :-pad or None]


def _first_conv(obj: Module) -> tuple[str, Conv1d | Conv2d]:
    if isinstance(obj, (Conv2d, Conv1d)):
        return "", obj
    for name, m in obj.named_modules():
        if isinstance(m, (Conv2d, Conv1d)):
            return name, m
    raise ValueError(f"{type(obj).__name__} has no Conv1d / Conv2d layer")


def plot_filters(conv_layer_or_model: Module, path: PathLike | None = None,
                 max_filters: int = 64, ncols: int | None = None,
                 title: str | None = None) -> Figure:
    """The first convolutional layer's kernels as small images, one per output channel.

    Each filter is scaled by its own largest |w| (red positive, blue negative); filters
    with 3 input channels are shown in colour, others show input channel 0.
    """
    name, conv = _first_conv(conv_layer_or_model)
    W = np.asarray(to_numpy(conv.weight), dtype=float)
    if W.ndim == 3:                 # Conv1d: (out, in, k) -> one row per kernel
        W = W[:, :, None, :]
    W = W[:max_filters]
    n, cin = W.shape[:2]
    fig = figure(figsize=(6, 6))
    ax = fig.subplots()
    if cin == 3:
        t = W.transpose(0, 2, 3, 1)
        m = np.abs(t).reshape(n, -1).max(1)[:, None, None, None]
        img = montage(0.5 + 0.5 * t / np.maximum(m, 1e-12), ncols)
        ax.imshow(np.nan_to_num(img, nan=1.0), interpolation="nearest")
        note = "RGB"
    else:
        t = W[:, 0]
        m = np.abs(t).reshape(n, -1).max(1)[:, None, None]
        img = montage(t / np.maximum(m, 1e-12), ncols)
        from matplotlib import colormaps
        cmap = colormaps["RdBu_r"].with_extremes(bad="white")
        im = ax.imshow(img, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
        fig.colorbar(im, ax=ax, fraction=0.04, label="w / max|w| of the filter")
        note = "input channel 0" + (f" of {cin}" if cin > 1 else "")
    ax.set_axis_off()
    ax.set_title(title or f"{type(conv).__name__} '{name or 'conv'}': {n} filters "
                          f"{'x'.join(map(str, W.shape[2:]))} ({note})", fontsize=9)
    fig.tight_layout()
    return save(fig, path)


def plot_feature_maps(model: Module, image: TensorLike, path: PathLike | None = None,
                      max_maps: int = 32, ncols: int | None = None,
                      title: str | None = None) -> Figure:
    """What the first convolutional layer (and its activation) makes of one image.

    ``image`` is (C, H, W), (1, C, H, W) or (H, W). Each map is shown on its own scale.
    """
    x = np.asarray(to_numpy(image), dtype=model.dtype)
    if x.ndim == 2:
        x = x[None, None]
    elif x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"plot_feature_maps: image must be (C, H, W), (1, C, H, W) or (H, W), "
                         f"got {np.shape(image)}")
    name, conv = _first_conv(model)
    was = model.training
    model.eval()
    rec = CallRecorder(model)
    try:
        with rec, no_grad():
            model(Tensor(x))
    finally:
        model.train(was)
    maps, label = None, ""
    for k, (nm, mod, inp, out) in enumerate(rec.calls):
        if mod is conv:
            maps, label = out, f"{type(conv).__name__} '{nm}'"
            if k + 1 < len(rec.calls):
                nm2, mod2, inp2, out2 = rec.calls[k + 1]
                if same_tensor(inp2, out) and is_activation(mod2, inp2.shape, out2.shape):
                    maps, label = out2, label + f" + {type(mod2).__name__}"
            break
    if maps is None:
        raise ValueError(f"plot_feature_maps: the first conv layer '{name}' was not called")
    a = np.asarray(to_numpy(maps), dtype=float)[0]
    if a.ndim == 2:               # Conv1d maps: (C, L) -> one row each
        a = a[:, None, :]
    a = a[:max_maps]
    lo = a.reshape(len(a), -1).min(1)[:, None, None]
    hi = a.reshape(len(a), -1).max(1)[:, None, None]
    img = montage((a - lo) / np.maximum(hi - lo, 1e-12), ncols)
    fig = figure(figsize=(9, 4.5))
    ax0, ax1 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2.2]})
    src = x[0].transpose(1, 2, 0) if x.shape[1] == 3 else x[0, 0]
    ax0.imshow(src, cmap=None if x.shape[1] == 3 else "gray")
    ax0.set_title("input", fontsize=9)
    ax0.set_axis_off()
    from matplotlib import colormaps
    cmap = colormaps["viridis"].with_extremes(bad="white")
    ax1.imshow(img, cmap=cmap, interpolation="nearest")
    ax1.set_axis_off()
    ax1.set_title(title or f"{len(a)} feature maps after {label} (each on its own scale)",
                  fontsize=9)
    fig.tight_layout()
    return save(fig, path)


# ---------------------------------------------------------- reconstructions
def plot_reconstructions(rows: Sequence[TensorLike], labels: Sequence[str],
                         image_shape: Sequence[int] | None = None, path: PathLike | None = None,
                         n: int = 10, title: str | None = None) -> Figure:
    """A grid of images: row r shows the first ``n`` images of ``rows[r]``, named ``labels[r]``.

    For an autoencoder the rows are typically the inputs, their reconstructions, corrupted
    inputs and theirs. Each row is (N, H*W), (N, H, W) or (N, 1, H, W); flat rows need
    ``image_shape`` (its last two entries are H and W). Gray scale on [0, 1] (values
    outside are clipped).

    >>> rows = [X[:8], autoencoder.reconstruct(X[:8])]  # doctest: +SKIP
    >>> plot_reconstructions(rows, ["input", "reconstruction"], (1, 28, 28),
    ...                      "rec.png")  # doctest: +SKIP
    """
    if len(rows) != len(labels):
        raise ValueError(f"plot_reconstructions: {len(rows)} rows but {len(labels)} labels")
    arrs = [np.asarray(to_numpy(r), dtype=float) for r in rows]
    if not arrs:
        raise ValueError("plot_reconstructions: no rows to draw")
    n = min([int(n)] + [len(a) for a in arrs])
    if n < 1:
        raise ValueError("plot_reconstructions: every row needs at least one image")
    if image_shape is None:
        if arrs[0].ndim < 3:
            raise ValueError(f"plot_reconstructions: rows of flat images (shape "
                             f"{arrs[0].shape}) need image_shape")
        image_shape = arrs[0].shape[-2:]
    h, w = tuple(image_shape)[-2:]
    images = []
    for r, a in enumerate(arrs):
        if a[:n].size != n * h * w:
            raise ValueError(f"plot_reconstructions: row {r} ({labels[r]!r}) has shape "
                             f"{a.shape}, not images of {h}x{w}")
        images.append(np.clip(a[:n].reshape(n, h, w), 0.0, 1.0))
    fig = figure(figsize=(1.1 * n, 1.25 * len(rows)))
    axes = np.atleast_1d(fig.subplots(len(rows), 1))
    from matplotlib import colormaps
    gray = colormaps["gray"].with_extremes(bad="white")   # the gaps of the montage
    for ax, img, label in zip(axes, images, labels):
        ax.imshow(montage(img, ncols=n), cmap=gray, vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save(fig, path, dpi=80)


def plot_confusion_matrix(cm: npt.ArrayLike, path: PathLike | None = None,
                          class_names: Sequence[str] | None = None, normalize: bool = False,
                          title: str | None = None) -> Figure:
    """A confusion matrix (rows: true class, columns: predicted) with counts written in."""
    cm = np.asarray(cm, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion_matrix: need a square matrix, got shape {cm.shape}")
    n = len(cm)
    shown = cm / np.maximum(cm.sum(1, keepdims=True), 1) if normalize else cm
    fig = figure(figsize=(1.5 + 0.5 * n, 1.2 + 0.5 * n))
    ax = fig.subplots()
    im = ax.imshow(shown, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.045)
    names = class_names if class_names is not None else [str(i) for i in range(n)]
    ax.set_xticks(np.arange(n))
    ax.set_yticks(np.arange(n))
    ax.set_xticklabels(names, rotation=45 if n > 10 else 0, fontsize=8)
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 20:
        jj, ii = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        thresh = shown.max() / 2
        fmt = "{:.2f}" if normalize else "{:.0f}"
        for j, i, v in zip(jj.ravel(), ii.ravel(), shown.ravel()):  # one label per cell
            if v:
                # NumPy ints as the coordinates: the stubs say float
                ax.text(i, j, fmt.format(v), ha="center", va="center",  # type: ignore[arg-type]
                        fontsize=7, color="white" if v > thresh else "black")
    acc = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(title or f"Confusion matrix (accuracy {acc:.3f})", fontsize=10)
    fig.tight_layout()
    return save(fig, path)
