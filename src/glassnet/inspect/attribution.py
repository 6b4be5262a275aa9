"""Which inputs a prediction depends on: attribution maps, and a sanity check for them.

Each function takes a model, a batch ``x`` (N, ...) and the ``target`` class(es) whose
score S_c(x) is explained (None: the predicted class of each sample; an int: that class
for every sample; an array (N,): one class per sample; a model with one output explains
that output), and returns an array with the input's shape (Grad-CAM: its spatial shape):

* :func:`saliency` (Simonyan, Vedaldi & Zisserman 2014): the gradient dS_c/dx;
* :func:`smoothgrad` (Smilkov et al. 2017): the gradient averaged over ``n_samples``
  noisy copies x + N(0, sigma^2), sigma = ``noise_level`` (max(x) - min(x)) per sample;
* :func:`integrated_gradients` (Sundararajan, Taly & Yan 2017):
  (x - x') * integral_0^1 dS_c/dx (x' + a (x - x')) da for a baseline x', the integral
  by a Riemann sum (left, right, middle) or the trapezoid rule over ``steps`` points;
  the attributions add up to S_c(x) - S_c(x') (completeness) as the steps grow;
* :func:`occlusion` (Zeiler & Fergus 2014): how much the score drops when a patch is
  replaced by the baseline, S_c(x) - S_c(x with the patch occluded), averaged over the
  patches that cover each input element;
* :func:`grad_cam` (Selvaraju et al. 2017), for convolutional nets: with A^k the k-th
  feature map of a chosen layer, weights alpha_k = mean_ij dS_c/dA^k_ij and the map
  ReLU(sum_k alpha_k A^k), upsampled bilinearly to the input's height and width.

All of them run the whole batch at once (the noisy copies, the integration points and
the occluded copies are batched too, ``batch_size`` rows per forward pass), in eval mode,
without touching any parameter's ``.grad``.

The sanity check of Adebayo et al. (2018): an explanation that does not change when the
weights are randomised explains the input, not the model. :func:`randomized_copy` gives
the randomised model and :func:`rank_correlation` the per-sample Spearman correlation of
two attribution maps. :func:`plot_attributions` overlays maps on the images.

>>> model = nn.Linear(3, 2)
>>> x = np.ones((4, 3), np.float32)
>>> g = saliency(model, x, target=1)
>>> bool(np.allclose(g, model.weight.numpy()[1]))     # the gradient of w_1 . x + b_1
True
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..autograd.api import grad as _grad
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from ..errors import ArgumentError, ArgumentTypeError
from ..nn.module import Module
from ._common import figure, save

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import PathLike

__all__ = ["saliency", "smoothgrad", "integrated_gradients", "occlusion", "grad_cam",
           "resize_bilinear", "randomized_copy", "rank_correlation", "plot_attributions"]

_METHODS = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")


# ------------------------------------------------------------------ plumbing
class _eval_mode:
    """The model in eval mode inside the block (dropout off, batch norm on its running
    statistics, so every sample is explained alone); its mode put back afterwards."""

    def __init__(self, model: Module) -> None:
        self.model = model

    def __enter__(self) -> None:
        self.was = self.model.training
        self.model.eval()

    def __exit__(self, *exc: object) -> None:
        self.model.train(self.was)


def _check_model(model: Any, who: str) -> Module:
    if not isinstance(model, Module):
        raise ArgumentTypeError(f"{who}: model must be a glassnet nn.Module, got "
                                f"{type(model).__name__}")
    return model


def _dtype(model: Module) -> np.dtype:
    try:
        return np.dtype(model.dtype)
    except Exception:  # noqa: BLE001 - a module without parameters
        return np.dtype(np.float32)


def _batch(model: Module, x: Any, who: str) -> np.ndarray:
    X = np.asarray(x.numpy() if isinstance(x, Tensor) else x, dtype=_dtype(model))
    if X.ndim < 2 or len(X) == 0:
        raise ArgumentError(f"{who}: x must be a batch (N, ...) with N >= 1, got shape "
                            f"{X.shape}; add a leading axis for one sample (x[None])")
    return X


def _outputs(model: Module, X: np.ndarray, batch_size: int) -> np.ndarray:
    """The model's outputs (N, n_out) without a graph."""
    outs = []
    with no_grad():
        for s in range(0, len(X), batch_size):
            o = model(Tensor(X[s:s + batch_size])).numpy()
            outs.append(o.reshape(len(o), -1))
    return np.concatenate(outs).astype(np.float64)


def _targets(model: Module, X: np.ndarray, target: Any, batch_size: int,
             who: str) -> np.ndarray:
    """One class index per sample; 0 for a model with one output."""
    out = _outputs(model, X[:1], 1)
    n_out = out.shape[1]
    if target is None:
        if n_out == 1:
            return np.zeros(len(X), np.int64)
        return np.argmax(_outputs(model, X, batch_size), axis=1)
    t = np.asarray(target)
    if t.dtype.kind not in "iu" or t.ndim > 1:
        raise ArgumentError(f"{who}: target must be None, an int or an int array (N,), got "
                            f"{target!r}")
    t = np.broadcast_to(t, (len(X),)).astype(np.int64) if t.ndim == 0 else t.astype(np.int64)
    if len(t) != len(X):
        raise ArgumentError(f"{who}: target has {len(t)} entries for {len(X)} samples")
    if (t < 0).any() or (t >= n_out).any():
        raise ArgumentError(f"{who}: target must be in 0..{n_out - 1} (the model has {n_out} "
                            f"outputs), got {np.unique(t[(t < 0) | (t >= n_out)]).tolist()}")
    return t


def _score(out: Tensor, target: np.ndarray) -> Tensor:
    """S_c per sample as a Tensor (B,): the target column of the outputs."""
    flat = out.reshape(out.shape[0], -1)
    mask = np.zeros(tuple(flat.shape), dtype=flat.numpy().dtype)
    mask[np.arange(len(target)), target] = 1.0
    return (flat * Tensor(mask)).sum(1)


def _gradients(model: Module, X: np.ndarray, target: np.ndarray,
               batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """dS_c/dx (B, ...) and S_c (B,) for every row of X, ``batch_size`` rows at a time."""
    grads = np.empty(X.shape, dtype=np.float64)
    scores = np.empty(len(X), dtype=np.float64)
    for s in range(0, len(X), batch_size):
        xt = Tensor(X[s:s + batch_size], requires_grad=True)
        score = _score(model(xt), target[s:s + batch_size])
        g, = _grad(score.sum(), xt)
        assert g is not None                     # xt requires grad and the score uses it
        grads[s:s + batch_size] = g.numpy()
        scores[s:s + batch_size] = score.numpy()
    return grads, scores


def _positive_int(value: Any, name: str, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ArgumentError(f"{who}: {name} must be a positive integer, got {value!r}")
    return int(value)


# ------------------------------------------------------------------ gradients
def saliency(model: Module, x: Any, target: Any = None, absolute: bool = False,
             batch_size: int = 256) -> np.ndarray:
    """The gradient of the target score with respect to the input, dS_c/dx, with x's
    shape (float64); ``absolute=True`` gives |dS_c/dx| (Simonyan et al.'s map)."""
    who = "saliency"
    model = _check_model(model, who)
    X = _batch(model, x, who)
    bs = _positive_int(batch_size, "batch_size", who)
    with _eval_mode(model):
        t = _targets(model, X, target, bs, who)
        g, _ = _gradients(model, X, t, bs)
    return np.abs(g) if absolute else g


def smoothgrad(model: Module, x: Any, target: Any = None, n_samples: int = 25,
               noise_level: float = 0.15, absolute: bool = False, seed: int | None = 0,
               batch_size: int = 256) -> np.ndarray:
    """The gradient averaged over ``n_samples`` noisy copies of each sample,
    (1/n) sum_i dS_c/dx (x + e_i), e_i ~ N(0, sigma^2), sigma = noise_level times the
    sample's value range (max - min). The target is that of the clean input."""
    who = "smoothgrad"
    model = _check_model(model, who)
    X = _batch(model, x, who)
    n = _positive_int(n_samples, "n_samples", who)
    bs = _positive_int(batch_size, "batch_size", who)
    if not noise_level >= 0:
        raise ArgumentError(f"{who}: noise_level must be >= 0, got {noise_level!r}")
    flat = X.reshape(len(X), -1)
    sigma = noise_level * (flat.max(1) - flat.min(1))
    sigma = sigma.reshape((len(X),) + (1,) * (X.ndim - 1))
    rng = np.random.default_rng(seed)
    with _eval_mode(model):
        t = _targets(model, X, target, bs, who)
        noisy = X[None] + sigma[None] * rng.standard_normal((n,) + X.shape)   # (n, N, ...)
        g, _ = _gradients(model, noisy.reshape((n * len(X),) + X.shape[1:]).astype(X.dtype),
                          np.tile(t, n), bs)
    g = g.reshape((n,) + X.shape)
    return np.abs(g).mean(0) if absolute else g.mean(0)


def _baseline(X: np.ndarray, baseline: Any, who: str) -> np.ndarray:
    if baseline is None:
        return np.zeros_like(X)
    b = np.asarray(baseline, dtype=X.dtype)
    try:
        return np.broadcast_to(b, X.shape).copy()
    except ValueError:
        raise ArgumentError(f"{who}: baseline must be a number, one sample {X.shape[1:]} or "
                            f"a batch {X.shape}, got shape {b.shape}") from None


def _alphas(steps: int, method: str, who: str) -> tuple[np.ndarray, np.ndarray]:
    """The integration points a_k in [0, 1] and their weights (summing to 1)."""
    if method not in _METHODS:
        raise ArgumentError(f"{who}: method must be one of {list(_METHODS)}, got {method!r}")
    m = steps
    if method == "riemann_trapezoid":
        if m < 2:
            raise ArgumentError(f"{who}: the trapezoid rule needs steps >= 2, got {m}")
        a = np.linspace(0.0, 1.0, m)
        w = np.full(m, 1.0 / (m - 1))
        w[[0, -1]] *= 0.5
        return a, w
    k = np.arange(m, dtype=np.float64)
    a = {"riemann_left": k / m, "riemann_right": (k + 1) / m,
         "riemann_middle": (k + 0.5) / m}[method]
    return a, np.full(m, 1.0 / m)


def integrated_gradients(model: Module, x: Any, target: Any = None, baseline: Any = None,
                         steps: int = 50, method: str = "riemann_trapezoid",
                         return_delta: bool = False, batch_size: int = 256) -> Any:
    """Integrated gradients (x - x') * sum_k w_k dS_c/dx (x' + a_k (x - x')).

    Parameters
    ----------
    baseline : None (zeros), a number, one sample or a batch
        The reference input x' that scores "nothing" (a black image).
    steps : int
        Points of the path integral.
    method : "riemann_trapezoid" (default), "riemann_left", "riemann_right" or
        "riemann_middle": where on each of the steps intervals the gradient is taken.
    return_delta : bool
        Also return the completeness gap per sample,
        sum(attributions) - (S_c(x) - S_c(x')), which shrinks as ``steps`` grows.

    Returns
    -------
    ndarray, or (ndarray, ndarray)
        The attributions (x's shape), and the gap (N,) with ``return_delta``.
    """
    who = "integrated_gradients"
    model = _check_model(model, who)
    X = _batch(model, x, who)
    m = _positive_int(steps, "steps", who)
    bs = _positive_int(batch_size, "batch_size", who)
    B = _baseline(X, baseline, who)
    alphas, weights = _alphas(m, method, who)
    shape = (1,) * X.ndim
    with _eval_mode(model):
        t = _targets(model, X, target, bs, who)
        path = B[None] + alphas.reshape((m,) + shape).astype(X.dtype) * (X - B)[None]
        g, _ = _gradients(model, path.reshape((m * len(X),) + X.shape[1:]), np.tile(t, m),
                          bs)
        avg = np.tensordot(weights, g.reshape((m,) + X.shape), axes=1)
        attr = (X.astype(np.float64) - B) * avg
        if not return_delta:
            return attr
        ends = _outputs(model, np.concatenate([X, B]), bs)
    rows = np.arange(len(X))
    gap = attr.reshape(len(X), -1).sum(1) - (ends[rows, t] - ends[len(X) + rows, t])
    return attr, gap


# ------------------------------------------------------------------ occlusion
def _windows(sample_shape: tuple[int, ...], patch: Any, stride: Any,
             who: str) -> np.ndarray:
    """Boolean masks (W, *sample_shape), one per patch position; a patch covers the
    trailing len(patch) axes and the whole of the leading ones (all channels)."""
    nd = len(sample_shape)
    if isinstance(patch, (int, np.integer)):
        k = min(nd, 2)                       # images: a square patch on (H, W)
        patch = (int(patch),) * k
    patch = tuple(int(p) for p in patch)
    k = len(patch)
    if not 1 <= k <= nd:
        raise ArgumentError(f"{who}: patch must be an int or a tuple of 1..{nd} sizes for "
                            f"the trailing axes of a sample {sample_shape}, got {patch}")
    stride = (int(stride),) * k if isinstance(stride, (int, np.integer)) else \
        tuple(int(s) for s in stride)
    if len(stride) != k or min(stride) < 1:
        raise ArgumentError(f"{who}: stride must be a positive int or a tuple of {k} "
                            f"positive ints, got {stride}")
    sizes = sample_shape[nd - k:]
    if any(p < 1 or p > s for p, s in zip(patch, sizes)):
        raise ArgumentError(f"{who}: patch {patch} must fit the sample's trailing axes "
                            f"{sizes}")
    starts = [np.arange(0, s - p + 1, st) for s, p, st in zip(sizes, patch, stride)]
    grid = np.stack(np.meshgrid(*starts, indexing="ij"), -1).reshape(-1, k)
    masks = np.zeros((len(grid),) + sample_shape, dtype=bool)
    lead = (slice(None),) * (nd - k)
    for w, corner in enumerate(grid):        # one slice per patch position
        masks[(w,) + lead + tuple(slice(c, c + p) for c, p in zip(corner, patch))] = True
    return masks


def occlusion(model: Module, x: Any, target: Any = None, patch: Any = 4, stride: Any = 1,
              baseline: Any = 0.0, batch_size: int = 256) -> np.ndarray:
    """The score drop S_c(x) - S_c(x occluded) when a patch is replaced by ``baseline``,
    averaged over every patch position covering each input element (x's shape).

    Parameters
    ----------
    patch : int or tuple
        The patch size on the trailing axes of a sample: an int is a square patch on the
        last two axes (the last one for 1-D samples); the axes before the patch (the
        channels) are occluded whole.
    stride : int or tuple
        Step between patch positions. Positions are those of a convolution without
        padding, so with a stride that does not fit, the last rows or columns are covered
        by no patch and get 0.
    baseline : number or array broadcastable to one sample
        What an occluded element is replaced with.
    """
    who = "occlusion"
    model = _check_model(model, who)
    X = _batch(model, x, who)
    bs = _positive_int(batch_size, "batch_size", who)
    masks = _windows(X.shape[1:], patch, stride, who)
    fill = np.asarray(baseline, dtype=X.dtype)
    try:
        fill = np.broadcast_to(fill, X.shape[1:])
    except ValueError:
        raise ArgumentError(f"{who}: baseline must broadcast to one sample {X.shape[1:]}, "
                            f"got shape {fill.shape}") from None
    n = len(X)
    rows = np.arange(n)
    attr = np.zeros(X.shape, dtype=np.float64)
    with _eval_mode(model):
        t = _targets(model, X, target, bs, who)
        base = _outputs(model, X, bs)[rows, t]
        per = max(1, bs // n)                # patch positions per forward pass
        for s in range(0, len(masks), per):
            M = masks[s:s + per]                                   # (w, *S)
            occluded = np.where(M[:, None], fill, X[None])         # (w, N, *S)
            out = _outputs(model, occluded.reshape((-1,) + X.shape[1:]), bs)
            drop = base[None] - out[np.arange(len(out)), np.tile(t, len(M))].reshape(len(M), n)
            attr += np.tensordot(drop, M.astype(np.float64), axes=(0, 0))   # (N, *S)
    counts = masks.sum(0)
    return np.divide(attr, counts, out=np.zeros_like(attr), where=counts > 0)


# ------------------------------------------------------------------ Grad-CAM
def resize_bilinear(maps: Any, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of (N, h, w) maps to (N, H, W), as PyTorch's
    ``interpolate(mode="bilinear", align_corners=False)``: output pixel i samples the input
    at (i + 0.5) h / H - 0.5, clamped to the border."""
    A = np.asarray(maps, dtype=np.float64)
    if A.ndim != 3:
        raise ArgumentError(f"resize_bilinear: maps must be (N, h, w), got shape {A.shape}")
    H, W = (int(s) for s in size)

    def axis(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0.0)
        i0 = np.minimum(np.floor(src).astype(int), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, src - i0

    r0, r1, fr = axis(A.shape[1], H)
    c0, c1, fc = axis(A.shape[2], W)
    rows = A[:, r0] * (1 - fr)[None, :, None] + A[:, r1] * fr[None, :, None]   # (N, H, w)
    return rows[:, :, c0] * (1 - fc) + rows[:, :, c1] * fc


def _layer(model: Module, layer: Any, who: str) -> Module:
    if isinstance(layer, str):
        try:
            return model.get_submodule(layer)
        except (AttributeError, KeyError, ValueError) as e:
            names = [n for n, _ in model.named_modules() if n]
            raise ArgumentError(f"{who}: model has no sub-module {layer!r}; its modules are "
                                f"{names}") from e
    if isinstance(layer, Module):
        if not any(m is layer for m in model.modules()):
            raise ArgumentError(f"{who}: layer ({type(layer).__name__}) is not a sub-module "
                                f"of the model")
        return layer
    raise ArgumentTypeError(f"{who}: layer must be a sub-module's name or the module, got "
                            f"{type(layer).__name__}")


def grad_cam(model: Module, x: Any, layer: Any, target: Any = None, relu: bool = True,
             upsample: bool = True, batch_size: int = 256) -> np.ndarray:
    """Grad-CAM of a convolutional net: ReLU(sum_k alpha_k A^k), alpha_k = the mean over
    the positions of dS_c/dA^k, for the feature maps A (N, K, h, w) that ``layer``
    outputs (a sub-module's dotted name, such as ``"features.3"``, or the module), read
    by a forward hook.

    Returns (N, H, W), upsampled bilinearly to the input's height and width (``upsample``
    False: the layer's (N, h, w)); ``relu=False`` keeps the negative evidence.
    """
    who = "grad_cam"
    model = _check_model(model, who)
    X = _batch(model, x, who)
    bs = _positive_int(batch_size, "batch_size", who)
    module = _layer(model, layer, who)
    if X.ndim != 4:
        raise ArgumentError(f"{who}: x must be images (N, C, H, W), got shape {X.shape}")
    seen: list[Tensor] = []

    def keep(mod: Module, args: Any, out: Any) -> None:
        seen.append(out)

    cams = []
    with _eval_mode(model):
        t = _targets(model, X, target, bs, who)
        handle = module.register_forward_hook(keep)
        try:
            for s in range(0, len(X), bs):
                seen.clear()
                xt = Tensor(X[s:s + bs], requires_grad=True)   # keeps a graph when frozen
                score = _score(model(xt), t[s:s + bs])
                if len(seen) != 1 or not isinstance(seen[0], Tensor) or seen[0].ndim != 4:
                    got = "was not called" if not seen else \
                        f"was called {len(seen)} times" if len(seen) > 1 else \
                        f"output {getattr(seen[0], 'shape', type(seen[0]).__name__)}"
                    raise ArgumentError(f"{who}: the layer must output feature maps "
                                        f"(N, K, h, w) once per forward pass; it {got}")
                A = seen[0]
                g, = _grad(score.sum(), A)
                assert g is not None             # the score depends on the layer's output
                alpha = g.numpy().astype(np.float64).mean(axis=(2, 3))          # (B, K)
                cams.append(np.einsum("bk,bkhw->bhw", alpha, A.numpy().astype(np.float64)))
        finally:
            handle.remove()
    cam = np.concatenate(cams)
    if relu:
        cam = np.maximum(cam, 0.0)
    if upsample and cam.shape[1:] != X.shape[2:]:
        cam = resize_bilinear(cam, X.shape[2:])
    return cam


# ------------------------------------------------------------------ sanity check
def randomized_copy(model: Module, seed: int | None = 0) -> Module:
    """A deep copy of ``model`` with every layer re-initialised (``reset_parameters``),
    drawn from ``seed``: the same architecture without what training taught it."""
    from .. import backend
    net = copy.deepcopy(_check_model(model, "randomized_copy"))
    saved = backend.rng().bit_generator.state
    try:
        if seed is not None:
            backend.manual_seed(int(seed))
        for sub in net.modules():
            reset = getattr(sub, "reset_parameters", None)
            if callable(reset):
                reset()
    finally:
        if seed is not None:
            backend.rng().bit_generator.state = saved
    return net


def _ranks(a: np.ndarray) -> np.ndarray:
    """Average ranks along the last axis (ties share their mean rank)."""
    order = np.argsort(a, axis=-1, kind="stable")
    sorted_a = np.take_along_axis(a, order, -1)
    n = a.shape[-1]
    pos = np.broadcast_to(np.arange(n, dtype=np.float64), a.shape)
    # the rank of a tie group is the mean of its positions: group by runs of equal values
    new_run = np.concatenate([np.ones(a.shape[:-1] + (1,), bool),
                              sorted_a[..., 1:] != sorted_a[..., :-1]], -1)
    run_id = np.cumsum(new_run, -1) - 1
    flat_id = run_id + (np.arange(int(np.prod(a.shape[:-1]))) * n).reshape(
        a.shape[:-1] + (1,))
    sums = np.bincount(flat_id.ravel(), pos.ravel(), minlength=flat_id.size)
    counts = np.bincount(flat_id.ravel(), minlength=flat_id.size)
    mean_rank = (sums / np.maximum(counts, 1))[flat_id]
    ranks = np.empty_like(mean_rank)
    np.put_along_axis(ranks, order, mean_rank, -1)
    return ranks


def rank_correlation(a: Any, b: Any, absolute: bool = True) -> np.ndarray:
    """Spearman's rank correlation between two attribution maps of each sample, (N,):
    the Pearson correlation of their ranks (ties get their mean rank). With
    ``absolute`` (default) the magnitudes are compared, as Adebayo et al. do.

    >>> rank_correlation([[1.0, 2.0, 3.0]], [[10.0, 20.0, 30.0]]).tolist()
    [1.0]
    """
    A = np.asarray(a, dtype=np.float64)
    B = np.asarray(b, dtype=np.float64)
    if A.shape != B.shape or A.ndim < 2:
        raise ArgumentError(f"rank_correlation: a and b must be batches of maps with one "
                            f"shape, got {A.shape} and {B.shape}")
    A, B = A.reshape(len(A), -1), B.reshape(len(B), -1)
    if absolute:
        A, B = np.abs(A), np.abs(B)
    ra, rb = _ranks(A), _ranks(B)
    ra -= ra.mean(1, keepdims=True)
    rb -= rb.mean(1, keepdims=True)
    den = np.sqrt((ra * ra).sum(1) * (rb * rb).sum(1))
    return np.divide((ra * rb).sum(1), den, out=np.zeros(len(A)), where=den > 0)


# ------------------------------------------------------------------ pictures
def _image(a: np.ndarray) -> np.ndarray:
    """(C, H, W), (H, W) or (1, H, W) -> something imshow draws: (H, W) or (H, W, 3)."""
    if a.ndim == 3 and a.shape[0] == 3:
        lo, hi = a.min(), a.max()
        return ((a - lo) / max(hi - lo, 1e-12)).transpose(1, 2, 0)
    if a.ndim == 3:
        return a.mean(0)
    if a.ndim == 2:
        return a
    raise ArgumentError(f"plot_attributions: images must be (N, C, H, W) or (N, H, W), got "
                        f"a sample of shape {a.shape}")


def _heat(a: np.ndarray) -> np.ndarray:
    """A map of one sample on (H, W): the channels summed."""
    return a.sum(0) if a.ndim == 3 else a


def plot_attributions(images: Any, attributions: Any, path: PathLike | None = None,
                      labels: Any = None, alpha: float = 0.65, input_title: str = "input",
                      title: str | None = None) -> Any:
    """Attribution maps over the images: one row per sample, the input first and then one
    column per method.

    ``attributions`` is one array with the images' shape (or their spatial shape, as
    Grad-CAM gives), or a dict {method name: array}. Each map (channels summed) is scaled
    by its own largest |value| and drawn over the grey image: signed maps in red
    (positive) and blue (negative), non-negative ones (Grad-CAM, |gradient|) in a heat
    colour map. ``labels`` names the rows (e.g. "3 (p=0.98)").
    """
    imgs = np.asarray(images.numpy() if isinstance(images, Tensor) else images, dtype=float)
    maps = attributions if isinstance(attributions, dict) else {"attribution": attributions}
    maps = {k: np.asarray(v, dtype=float) for k, v in maps.items()}
    n = len(imgs)
    for k, v in maps.items():
        if len(v) != n:
            raise ArgumentError(f"plot_attributions: {k!r} has {len(v)} maps for {n} images")
    if labels is not None and len(labels) != n:
        raise ArgumentError(f"plot_attributions: {len(labels)} labels for {n} images")
    from matplotlib import colormaps
    cols = 1 + len(maps)
    fig = figure(figsize=(1.7 * cols, 1.7 * n + 0.5))
    axes = np.asarray(fig.subplots(n, cols, squeeze=False))
    for r in range(n):
        base = _image(imgs[r])
        gray = base.ndim == 2
        axes[r, 0].imshow(base, cmap="gray" if gray else None)
        if labels is not None:
            axes[r, 0].set_ylabel(str(labels[r]), fontsize=8)
        for c, (name, A) in enumerate(maps.items(), start=1):
            h = _heat(A[r])
            if h.shape != base.shape[:2]:
                raise ArgumentError(f"plot_attributions: {name!r} maps are {h.shape}, the "
                                    f"images {base.shape[:2]}")
            ax = axes[r, c]
            ax.imshow(base if gray else base.mean(-1), cmap="gray")
            top = float(np.abs(h).max()) or 1.0
            if h.min() >= 0:
                ax.imshow(h / top, cmap=colormaps["inferno"], vmin=0, vmax=1, alpha=alpha)
            else:
                ax.imshow(h / top, cmap=colormaps["RdBu_r"], vmin=-1, vmax=1, alpha=alpha)
            if r == 0:
                ax.set_title(name, fontsize=9)
        if r == 0:
            axes[r, 0].set_title(input_title, fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig if path is None else save(fig, path)

