"""Recurrent layers (RNN, LSTM, GRU) and their single-step cells, PyTorch-compatible.

Parameter names and layouts are PyTorch's (``weight_ih_l0``, ``weight_hh_l0``,
``bias_ih_l0``, ``bias_hh_l0``, ``..._reverse`` for the backward direction; LSTM
gates stacked i, f, g, o and GRU gates r, z, n), so a state dict moves between
glassnet and ``torch.nn.LSTM`` unchanged. Each layer and direction runs the whole
sequence as one Function with hand-written backpropagation through time (see
:mod:`glassnet.functional.recurrent`).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor, as_input
from ..functional import math as M
from ..functional import recurrent as R
from ..validation import check_choice, check_int, check_real
from . import init
from .module import Module, Parameter

from typing import TYPE_CHECKING, Any, Union, cast

if TYPE_CHECKING:  # annotations only
    from typing import TypeAlias

    from glassnet._typing import DTypeLike, TensorLike

    # what RNN / GRU return beside the output: h_n; LSTM: (h_n, c_n)
    _State: TypeAlias = Union[Tensor, tuple[Tensor, Tensor]]


__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _check_common(module: Module, input_size: int, hidden_size: int, bias: bool,
                  nonlinearity: str) -> None:
    """Check and store the arguments every recurrent layer and cell takes."""
    who = type(module).__name__
    module.input_size = check_int(input_size, "input_size", who)
    module.hidden_size = check_int(hidden_size, "hidden_size", who)
    module.bias = bool(bias)
    module.nonlinearity = check_choice(nonlinearity, "nonlinearity", who, ("tanh", "relu"))


def _dropout_mask(shape: tuple[int, ...], p: float, dtype: np.dtype[Any]) -> np.ndarray:
    keep = backend.rng().random(shape) >= p
    return keep.astype(dtype) * np.asarray(1.0 / (1.0 - p), dtype=dtype)


class RNNBase(Module):
    """Shared machinery of :class:`RNN`, :class:`LSTM` and :class:`GRU`.

    Parameters
    ----------
    input_size, hidden_size : int
    num_layers : int
        Stacked layers; layer k > 0 reads the outputs of layer k - 1.
    bias : bool
        Use ``bias_ih`` and ``bias_hh``.
    batch_first : bool
        Inputs and outputs are (N, T, features) instead of (T, N, features).
    dropout : float
        Dropout on the outputs of every layer but the last (training only).
    bidirectional : bool
        Add a layer reading the sequence backwards; outputs are concatenated.
    """

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 nonlinearity: str = "tanh", dtype: DTypeLike = None) -> None:
        super().__init__()
        who = type(self).__name__
        _check_common(self, input_size, hidden_size, bias, nonlinearity)
        self.num_layers = check_int(num_layers, "num_layers", who)
        self.dropout = check_real(dropout, "dropout", who, 0, 1, high_open=True)
        self.batch_first = bool(batch_first)
        self.bidirectional = bool(bidirectional)
        gates = _GATES[self.mode]
        H = self.hidden_size
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        self._names: list[tuple[str, str, str, str]] = []
        for layer in range(self.num_layers):
            in_size = self.input_size if layer == 0 else H * self.num_directions
            for d in range(self.num_directions):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                names = (f"weight_ih{sfx}", f"weight_hh{sfx}", f"bias_ih{sfx}", f"bias_hh{sfx}")
                setattr(self, names[0], Parameter(backend.allocate((gates * H, in_size), dt,
                                                                     names[0])))
                setattr(self, names[1], Parameter(backend.allocate((gates * H, H), dt, names[1])))
                if self.bias:
                    setattr(self, names[2], Parameter(backend.allocate(gates * H, dt, names[2])))
                    setattr(self, names[3], Parameter(backend.allocate(gates * H, dt, names[3])))
                self._names.append(names)
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def _weights(self, layer: int, d: int) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        names = self._names[layer * self.num_directions + d]
        w_ih, w_hh = getattr(self, names[0]), getattr(self, names[1])
        if self.bias:
            return w_ih, w_hh, getattr(self, names[2]), getattr(self, names[3])
        return w_ih, w_hh, None, None

    # ------------------------------------------------------------- forward
    def _check_input(self, x: Tensor) -> Tensor:
        who = type(self).__name__
        if not isinstance(x, Tensor):
            x = as_input(x)
        if x.dtype.kind != "f":
            raise TypeError(f"{who}: input must be floating point (use nn.Embedding for token "
                            f"ids), got dtype {x.dtype}")
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            layout = "(N, T, input_size)" if self.batch_first else "(T, N, input_size)"
            raise ValueError(f"{who}(input_size={self.input_size}): expected input {layout} "
                             f"or unbatched (T, input_size), got shape {tuple(x.shape)}")
        return x

    def _check_state(self, h: Tensor | None, N: int, name: str) -> Tensor | None:
        who = type(self).__name__
        if h is None:
            return None
        if not isinstance(h, Tensor):
            h = as_input(h)
        want = (self.num_layers * self.num_directions, N, self.hidden_size)
        if tuple(h.shape) != want:
            raise ValueError(f"{who}: {name} must be (num_layers * num_directions, batch, "
                             f"hidden_size) = {want}, got {tuple(h.shape)}")
        return h

    def forward(self, x: Tensor, hx: _State | None = None,
                lengths: TensorLike | None = None) -> tuple[Tensor, _State]:
        """Run the sequence.

        Parameters
        ----------
        x : Tensor (T, N, I), or (N, T, I) with ``batch_first``, or unbatched (T, I)
        hx : initial state (L*D, N, H) -- for LSTM a tuple ``(h0, c0)`` -- or None (zeros)
        lengths : (N,) ints, optional
            Real lengths of padded sequences: outputs past a sequence's end are zero,
            and its final state is the one at its last real step.

        Returns
        -------
        output : (T, N, D*H) (or batch-first), and h_n (L*D, N, H) -- for LSTM
        ``(h_n, c_n)``.
        """
        x = self._check_input(x)
        unbatched = x.ndim == 2
        if unbatched:
            x = M.unsqueeze(x, 1)
        elif self.batch_first:
            x = M.transpose(x, 1, 0, 2)
        T, N = x.shape[0], x.shape[1]
        is_lstm = self.mode == "LSTM"
        h0: Tensor | None
        c0: Tensor | None
        if is_lstm and hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ValueError("LSTM: hx must be a tuple (h0, c0)")
            h0, c0 = hx
            if unbatched:
                h0, c0 = (M.unsqueeze(as_input(s), 1) if s is not None else None
                          for s in (h0, c0))
            h0, c0 = self._check_state(h0, N, "h0"), self._check_state(c0, N, "c0")
        else:
            h = cast("Tensor | None", hx)   # RNN, GRU: one state tensor
            if unbatched and h is not None:
                h = M.unsqueeze(as_input(h), 1)
            h0, c0 = self._check_state(h, N, "hx"), None
        mask = None
        if lengths is not None:
            mask = R.lengths_to_mask(lengths, T, N)
            if mask.all():
                mask = None
        if x.dtype != self.dtype:   # e.g. NumPy float64 input (made float32) to a double layer
            x = M.cast(x, self.dtype)
        h0 = M.cast(h0, self.dtype) if h0 is not None and h0.dtype != self.dtype else h0
        c0 = M.cast(c0, self.dtype) if c0 is not None and c0.dtype != self.dtype else c0
        D = self.num_directions
        hs, cs = [], []
        inp = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                w = self._weights(layer, d)
                hk = M.getitem(h0, k) if h0 is not None else None
                if self.mode == "LSTM":
                    ck = M.getitem(c0, k) if c0 is not None else None
                    y, hn, cn = R.LSTMFunction.apply(inp, hk, ck, *w, mask=mask, reverse=d == 1)
                    cs.append(cn)
                elif self.mode == "GRU":
                    y, hn = R.GRUFunction.apply(inp, hk, *w, mask=mask, reverse=d == 1)
                else:
                    y, hn = R.RNNFunction.apply(inp, hk, *w, mask=mask, reverse=d == 1,
                                                nonlinearity=self.nonlinearity)
                outs.append(y)
                hs.append(hn)
            inp = outs[0] if D == 1 else M.concat(outs, axis=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                inp = inp * _dropout_mask(inp.shape, self.dropout, inp.dtype)
        out = inp
        h_n = M.unsqueeze(hs[0], 0) if len(hs) == 1 else M.stack(hs, axis=0)
        c_n = None
        if is_lstm:
            c_n = M.unsqueeze(cs[0], 0) if len(cs) == 1 else M.stack(cs, axis=0)
        if unbatched:
            out = M.squeeze(out, 1)
            h_n = M.squeeze(h_n, 1)
            c_n = M.squeeze(c_n, 1) if c_n is not None else None
        elif self.batch_first:
            out = M.transpose(out, 1, 0, 2)
        if is_lstm:
            assert c_n is not None
            return out, (h_n, c_n)
        return out, h_n

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN" and self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False)):
            v = getattr(self, name)
            if v != default:
                s += f", {name}={v}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).

    >>> rnn = nn.RNN(10, 20, num_layers=2)
    >>> out, h_n = rnn(gn.randn(5, 3, 10))      # out (5, 3, 20), h_n (2, 3, 20)
    """

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False,
                 dtype: DTypeLike = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, nonlinearity=nonlinearity, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o)::

        i, f, o = sigmoid(x W_i*^T + b_i* + h W_h*^T + b_h*),  g = tanh(...)
        c_t = f * c_{t-1} + i * g,    h_t = o * tanh(c_t)

    >>> lstm = nn.LSTM(10, 20, batch_first=True)
    >>> out, (h_n, c_n) = lstm(gn.randn(3, 5, 10))   # out (3, 5, 20)
    """

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype: DTypeLike = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n)::

        r, z = sigmoid(...),  n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h_t = (1 - z) * n + z * h_{t-1}

    >>> out, h_n = nn.GRU(10, 20)(gn.randn(5, 3, 10))
    """

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype: DTypeLike = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype)


# -------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """One time step with parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    mode = "RNN"
    bias_ih: Parameter | None
    bias_hh: Parameter | None

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype: DTypeLike = None) -> None:
        super().__init__()
        _check_common(self, input_size, hidden_size, bias, nonlinearity)
        gates = _GATES[self.mode]
        H = self.hidden_size
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        self.weight_ih = Parameter(backend.allocate((gates * H, self.input_size), dt,
                                                     "weight_ih"))
        self.weight_hh = Parameter(backend.allocate((gates * H, H), dt, "weight_hh"))
        if self.bias:
            self.bias_ih = Parameter(backend.allocate(gates * H, dt, "bias_ih"))
            self.bias_hh = Parameter(backend.allocate(gates * H, dt, "bias_hh"))
        else:
            self.bias_ih = self.bias_hh = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def _prep(self, x: Tensor, h: Tensor | None,
              name: str = "hx") -> tuple[Tensor, Tensor | None, bool]:
        who = type(self).__name__
        x = x if isinstance(x, Tensor) else as_input(x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{who}(input_size={self.input_size}): expected input (N, "
                             f"{self.input_size}) or ({self.input_size},), got {tuple(x.shape)}")
        unbatched = x.ndim == 1
        if unbatched:
            x = M.unsqueeze(x, 0)
        if h is not None:
            h = h if isinstance(h, Tensor) else as_input(h)
            if unbatched and h.ndim == 1:
                h = M.unsqueeze(h, 0)
            if tuple(h.shape) != (x.shape[0], self.hidden_size):
                raise ValueError(f"{who}: {name} must be (N, hidden_size) = "
                                 f"{(x.shape[0], self.hidden_size)}, got {tuple(h.shape)}")
        return x, h, unbatched

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "RNN" and self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu), one step.

    >>> cell = nn.RNNCell(3, 5); h = cell(gn.randn(2, 3))   # (2, 5)
    """

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype: DTypeLike = None) -> None:
        super().__init__(input_size, hidden_size, bias, nonlinearity, dtype)

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        x, h, unb = self._prep(x, hx)
        out = R.rnn_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
                         self.nonlinearity)
        return M.squeeze(out, 0) if unb else out


class LSTMCell(RNNCellBase):
    """One LSTM step: ``h', c' = cell(x, (h, c))``.

    >>> cell = nn.LSTMCell(3, 5); h, c = cell(gn.randn(2, 3))
    """

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: DTypeLike = None) -> None:
        super().__init__(input_size, hidden_size, bias, dtype=dtype)

    def forward(self, x: Tensor,
                hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError("LSTMCell: hx must be a tuple (h, c)")
        h, c = hx if hx is not None else (None, None)
        x, h, unb = self._prep(x, h, "h")
        _, c, _ = self._prep(x, c, "c")
        h1, c1 = R.lstm_cell(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if unb:
            return M.squeeze(h1, 0), M.squeeze(c1, 0)
        return h1, c1


class GRUCell(RNNCellBase):
    """One GRU step: h' = (1 - z) * n + z * h.

    >>> cell = nn.GRUCell(3, 5); h = cell(gn.randn(2, 3))
    """

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: DTypeLike = None) -> None:
        super().__init__(input_size, hidden_size, bias, dtype=dtype)

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        x, h, unb = self._prep(x, hx)
        out = R.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return M.squeeze(out, 0) if unb else out


# the recurrent layers by name, for models that take ``cell="lstm"``
LAYERS: dict[str, type[RNNBase]] = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
