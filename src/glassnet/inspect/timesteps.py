"""How much gradient reaches each time step: the vanishing gradient made visible.

For a loss computed at the end of a sequence, ``||dL/dx_t||`` (the norm over the
batch and the features of the gradient arriving at the input of step t) shows
how far back a recurrent network can assign credit. In a tanh RNN it shrinks
geometrically with the distance from the end (each step multiplies it by
W_hh^T diag(1 - h^2)); in an LSTM the additive cell path c_t = f * c_{t-1} + ...
lets it survive for as long as the forget gates stay open.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, as_input
from ..nn.module import Module
from ..nn.recurrent import RNNBase
from ._common import figure, save

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable, Mapping

    import numpy.typing as npt
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from glassnet._typing import PathLike, TensorLike


__all__ = ["timestep_gradient_norms", "plot_timestep_gradients", "timestep_vanishing_demo"]


def _first_recurrent(model: Module) -> RNNBase:
    if isinstance(model, RNNBase):
        return model
    for m in model.modules():
        if isinstance(m, RNNBase):
            return m
    raise ValueError(f"timestep_gradient_norms: {type(model).__name__} holds no RNN, LSTM or "
                     "GRU layer")


def _default_loss(out: Any, layer: RNNBase, direct: bool) -> Tensor:
    if isinstance(out, tuple):
        out = out[0]
    if direct:
        # a bare recurrent layer: the sum of the outputs at the final step (many-to-one)
        last = out[:, -1] if layer.batch_first else out[-1]
        return last.sum()
    return out.sum()


def timestep_gradient_norms(model_or_layer: Module, x: TensorLike,
                            loss_fn: Callable[[Any], Tensor] | None = None) -> np.ndarray:
    """Norm of the gradient reaching the input of every time step, shape (T,).

    Parameters
    ----------
    model_or_layer : Module
        A recurrent layer (``nn.RNN``, ``nn.LSTM``, ``nn.GRU``) or a model holding one;
        the gradient is measured at the input of its first recurrent layer (for a
        character model: at the embeddings).
    x : array or Tensor
        The model's input (for a bare layer: (T, N, I), or (N, T, I) when batch_first).
    loss_fn : callable, optional
        ``loss_fn(output) -> scalar Tensor``. Default: for a bare layer the sum of the
        outputs at the last time step; for a model the sum of its outputs.

    Returns
    -------
    ndarray (T,): ``||dL/dx_t||`` for t = 0 .. T-1 (Frobenius norm over batch and features).

    Example
    -------
    >>> X = np.random.default_rng(0).normal(size=(50, 8, 1)).astype(np.float32)  # (T, N, F)
    >>> g_rnn = timestep_gradient_norms(nn.RNN(1, 32), X)
    >>> g_lstm = timestep_gradient_norms(nn.LSTM(1, 32), X)
    >>> g_rnn.shape
    (50,)
    >>> bool(g_lstm[0] / g_lstm[-1] > g_rnn[0] / g_rnn[-1])   # more reaches the first step
    True
    """
    if not isinstance(model_or_layer, Module):
        raise TypeError(f"timestep_gradient_norms: expected a Module, got "
                        f"{type(model_or_layer).__name__}")
    layer = _first_recurrent(model_or_layer)
    direct = layer is model_or_layer
    captured: dict[str, Any] = {}

    def hook(module: Module, args: tuple[Any, ...], out: Any) -> None:
        inp = args[0]
        if isinstance(inp, Tensor) and inp.requires_grad:
            inp.retain_grad()
        captured["input"] = inp

    model = model_or_layer
    if isinstance(x, Tensor):
        xin = Tensor(x._data, requires_grad=x.dtype.kind == "f")
    else:
        a = np.asarray(x)
        # as_input takes arrays (it is annotated Tensor, as a module's input is)
        xin = as_input(a) if a.dtype.kind != "f" else Tensor(
            a.astype(model.dtype), requires_grad=True)
        if a.dtype.kind == "f":
            xin.requires_grad = True
    handle = layer.register_forward_hook(hook)
    was_training = model.training
    model.eval()
    for p in model.parameters():
        p.grad = None
    try:
        out = model(xin)
        loss = loss_fn(out) if loss_fn is not None else _default_loss(out, layer, direct)
        loss.backward()
    finally:
        handle.remove()
        model.train(was_training)
    inp = captured.get("input")
    if inp is None or inp.grad is None:
        raise RuntimeError("timestep_gradient_norms: no gradient reached the recurrent layer's "
                           "input (does the loss depend on it?)")
    g = inp.grad._data
    if g.ndim == 2:          # unbatched (T, I)
        g = g[:, None, :]
    elif layer.batch_first:
        g = np.swapaxes(g, 0, 1)
    for p in model.parameters():
        p.grad = None
    return np.sqrt(np.einsum("tni,tni->t", g.astype(np.float64), g.astype(np.float64)))


def timestep_vanishing_demo(T: int = 50, hidden_size: int = 32, batch: int = 16, seed: int = 0,
                            forget_bias: float = 1.0) -> dict[str, np.ndarray]:
    """Gradient per time step of a tanh RNN and an LSTM on the same random sequences.

    Both layers are initialised as in PyTorch; the LSTM's forget-gate bias is set to
    ``forget_bias`` (1.0, Keras's ``unit_forget_bias`` and Gers et al.'s advice), so its
    forget gates start mostly open. The loss is the sum of the outputs at the last step.

    Returns ``{"tanh RNN": norms (T,), "LSTM": norms (T,)}``; at T = 50 the first
    step's gradient of the RNN is many orders of magnitude below the LSTM's.

    >>> norms = timestep_vanishing_demo()
    >>> plot_timestep_gradients(norms, "vanishing.png")  # doctest: +SKIP
    """
    from .. import backend
    from ..nn.recurrent import LSTM, RNN
    backend.manual_seed(seed)
    x = np.random.default_rng(seed).standard_normal((T, batch, 1)).astype(
        backend.get_default_dtype())
    rnn = RNN(1, hidden_size, nonlinearity="tanh")
    lstm = LSTM(1, hidden_size)
    H = hidden_size
    lstm.bias_ih_l0._data[H:2 * H] = forget_bias
    lstm.bias_hh_l0._data[H:2 * H] = 0.0
    return {"tanh RNN": timestep_gradient_norms(rnn, x),
            "LSTM": timestep_gradient_norms(lstm, x)}


def plot_timestep_gradients(norms: dict[str, npt.ArrayLike] | npt.ArrayLike,
                            path: PathLike | None = None, ax: Axes | None = None,
                            title: str | None = None, log: bool = True) -> Figure:
    """Plot ``{name: norms (T,)}`` (or one array) against the time step, log scale by default.

    Draws into ``ax`` when given, else into a new Figure; returns the Figure (saved to
    ``path`` when given). Needs matplotlib (``pip install glassnet[plot]``).

    >>> fig = plot_timestep_gradients(timestep_vanishing_demo(), "timesteps.png")  # doctest: +SKIP
    """
    series = norms if isinstance(norms, dict) else {"gradient": norms}
    if ax is None:
        fig = figure(figsize=(6, 3.5))
        ax = fig.subplots()
    else:
        fig = cast("Figure", ax.figure)  # the Axes of a Figure (a SubFigure cannot be saved)
    for name, v in series.items():
        v = np.asarray(v, dtype=float)
        ax.plot(np.arange(1, len(v) + 1), v, marker=".", label=name)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("time step t")
    ax.set_ylabel(r"$\|\partial L / \partial x_t\|$")
    ax.set_title(title or "gradient reaching each time step (loss at the last step)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return save(fig, path, dpi=90)
