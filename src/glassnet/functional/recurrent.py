"""Recurrent layers as single Functions: a whole sequence is one node on the tape.

Each Function runs one layer in one direction over a time-major sequence
``x`` of shape (T, N, I) and returns the outputs (T, N, H) and the final state.
The work is arranged for speed:

* the input projection of all time steps is one GEMM, (T*N, I) @ W_ih^T;
* each step computes all gates with one GEMM, h_{t-1} @ W_hh^T, and applies the
  nonlinearities in place on one buffer;
* backward is hand-written backpropagation through time: the loop over steps
  only carries dh (and dc), and the weight gradients dW_ih, dW_hh and the input
  gradient dx are each one GEMM over all steps after the loop;
* the elementwise work of one LSTM or GRU step, forward and backward, is one call of a
  step function: the NumPy ones below are the reference, and ``backend.kernels`` has
  compiled ones with the same arguments (Numba, when installed). ``_step_kernels``
  chooses, once per call: compiled for unmasked NumPy batches when they are on.

Weights and gate order follow PyTorch: W_ih is (G*H, I), W_hh is (G*H, H), the
LSTM stacks gates i, f, g, o and the GRU r, z, n.

``mask`` (T, N) marks real steps (True) and padding (False): at a padded step the
state is carried unchanged, the output is zero and no gradient passes through
the cell, so variable-length batches give the same numbers as running every
sequence alone. A reversed pass (``reverse=True``, for bidirectional layers)
walks t = T-1 .. 0; with a mask it starts on each sequence's last real step.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_array
from ..validation import check_choice

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable
    from typing import Any

    from glassnet._typing import TensorLike
    from glassnet.backend.kernels import StepKernels


__all__ = ["rnn", "lstm", "gru", "rnn_cell", "lstm_cell", "gru_cell", "lengths_to_mask",
           "RNNFunction", "LSTMFunction", "GRUFunction"]


# ------------------------------------------------------------------ helpers
def _sigmoid_neg_(a: np.ndarray) -> np.ndarray:
    """In place: a <- 1 / (1 + e^a), i.e. sigmoid(-a).

    The weights feeding sigmoid gates are pre-negated, so one exp pass serves a
    whole gate block (NumPy's exp is far cheaper than its tanh here).
    """
    np.exp(a, out=a)
    a += 1.0
    np.divide(1.0, a, out=a)   # same bits as np.reciprocal, whose float32 loop is not vectorised
    return a


def lengths_to_mask(lengths: TensorLike, T: int, N: int | None = None) -> np.ndarray:
    """Boolean mask (T, N): ``mask[t, n] = t < lengths[n]``.

    >>> lengths_to_mask([2, 3], 3).astype(int).T
    array([[1, 1, 0],
           [1, 1, 1]])
    """
    lengths = as_array(lengths)
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu":
        raise ValueError(f"lengths must be a 1-D integer array (one length per sequence), got "
                         f"shape {lengths.shape} and dtype {lengths.dtype}")
    if N is not None and len(lengths) != N:
        raise ValueError(f"lengths has {len(lengths)} entries for a batch of {N} sequences")
    if len(lengths) and (lengths.min() < 0 or lengths.max() > T):
        raise ValueError(f"lengths must lie in [0, {T}] (the padded sequence length), got "
                         f"min {lengths.min()}, max {lengths.max()}")
    return np.arange(T)[:, None] < lengths[None, :]


def _layout(T: int, reverse: bool) -> tuple[Callable[[int], int], Callable[[int], int], range]:
    """(index of the previous state, index of the new state) in the (T+1, N, H) state array.

    Forward: states[t] is the state before step t and states[t+1] after it.
    Reverse: states[t+1] is the state before step t and states[t] after it.
    """
    if reverse:
        return (lambda t: t + 1), (lambda t: t), range(T - 1, -1, -1)
    return (lambda t: t), (lambda t: t + 1), range(T)


def _split_states(S: np.ndarray, reverse: bool) -> tuple[np.ndarray, np.ndarray]:
    """(previous-state view, new-state view), each (T, N, H) and contiguous."""
    return (S[1:], S[:-1]) if reverse else (S[:-1], S[1:])


def _check(x: np.ndarray, h0: np.ndarray | None, w_ih: np.ndarray, w_hh: np.ndarray, gates: int,
           who: str, c0: np.ndarray | None = None) -> tuple[int, int, int, int]:
    if x.ndim != 3:
        raise ValueError(f"{who}: input must be time-major (T, N, input_size), got shape {x.shape}")
    T, N, I = x.shape
    if T < 1:
        raise ValueError(f"{who}: the sequence must have at least one time step, got T = {T}")
    if w_ih.ndim != 2 or w_ih.shape[1] != I or w_ih.shape[0] % gates:
        raise ValueError(f"{who}: weight_ih must be ({gates}*hidden_size, {I}), got {w_ih.shape}")
    H = w_ih.shape[0] // gates
    if w_hh.shape != (gates * H, H):
        raise ValueError(f"{who}: weight_hh must be ({gates * H}, {H}), got {w_hh.shape}")
    for name, s in (("h0", h0), ("c0", c0)):
        if s is not None and s.shape != (N, H):
            raise ValueError(f"{who}: {name} must be (batch, hidden_size) = ({N}, {H}), got "
                             f"{s.shape}")
    return T, N, I, H


def _input_projection(x: np.ndarray, w_ih: np.ndarray, b_ih: np.ndarray | None,
                      b_hh: np.ndarray | None, scale: np.ndarray | None = None) -> np.ndarray:
    """(T*N, G*H) pre-activations from the input for all steps: one GEMM."""
    T, N, I = x.shape
    wT = w_ih.T if scale is None else w_ih.T * scale
    xp = x.reshape(T * N, I) @ wT
    if b_ih is not None:
        b = b_ih + b_hh
        if scale is not None:
            b = b * scale
        xp += b
    return xp


def _weight_grads(self: Any, dG: np.ndarray, prev_states: np.ndarray, x: np.ndarray,
                  dG_hh: np.ndarray | None = None) -> tuple[np.ndarray | None, ...]:
    """dW_ih, dW_hh, db_ih, db_hh and dx from the gate gradients of all steps."""
    T, N, I = x.shape
    GH = dG.shape[-1]
    dG2 = dG.reshape(T * N, GH)
    dGh2 = dG2 if dG_hh is None else dG_hh.reshape(T * N, GH)
    need = self.needs_input_grad
    dx = (dG2 @ self.w_ih).reshape(T, N, I) if need[0] else None
    dw_ih = dG2.T @ x.reshape(T * N, I) if need[self.i_wih] else None
    dw_hh = dGh2.T @ prev_states.reshape(T * N, -1) if need[self.i_wih + 1] else None
    db_ih = db_hh = None
    if self.has_bias:
        ones = np.ones(T * N, dtype=dG.dtype)
        if need[self.i_wih + 2]:
            db_ih = ones @ dG2
        if need[self.i_wih + 3]:
            db_hh = db_ih if dG_hh is None and db_ih is not None else ones @ dGh2
    return dx, dw_ih, dw_hh, db_ih, db_hh


def _float_mask(mask: np.ndarray | None, T: int, N: int,
                dtype: np.dtype[Any]) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    if mask is None:
        return None, None
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (T, N):
        raise ValueError(f"mask must be (T, N) = ({T}, {N}), got {mask.shape}")
    m = mask.astype(dtype)[:, :, None]
    return m, 1.0 - m


# ------------------------------------------------------------- step functions
# One time step's elementwise work, forward and backward, in NumPy: the reference. The
# arguments are those of the compiled kernels in backend.kernels (flat views of C-ordered
# arrays; ``one`` is 1 in their dtype, unused here), so one time loop runs either.
def _lstm_forward_step(g: np.ndarray, c_prev: np.ndarray, c: np.ndarray, tanh_c: np.ndarray,
                       Zh: np.ndarray, N: int, M: int, col: int, one: float) -> None:
    """One LSTM step, feature-major (g (4H, N), states (H, N), Zh (H, M))::

        i, f, o = sigmoid(.),  g = tanh(.)      g holds the pre-activations, scaled so
        c = f c_prev + i g                      that every gate is 1 / (1 + e^a)
        h = o tanh(c)                           -> columns col .. col+N of Zh

    ``g`` receives the activations (i, f, g, o); ``c``, ``tanh_c`` and h are written.
    """
    H = c_prev.size // N
    _sigmoid_neg_(g)
    i, f, gg, o = g.reshape(4, H, N)
    gg *= 2.0
    gg -= 1.0                                  # tanh z = 2 sigmoid(2z) - 1
    c = np.multiply(f, c_prev.reshape(H, N), out=c.reshape(H, N))
    c += i * gg
    tc = np.tanh(c, out=tanh_c.reshape(H, N))
    np.multiply(o, tc, out=Zh.reshape(H, M)[:, col:col + N])


def _lstm_backward_step(dh: np.ndarray, dc: np.ndarray, dy: np.ndarray, g: np.ndarray,
                        c_prev: np.ndarray, tanh_c: np.ndarray, dg: np.ndarray, dG: np.ndarray,
                        N: int, M: int, col: int, one: float) -> None:
    """One LSTM step backward; ``dh``, ``dc`` arrive from step t+1, ``dy`` from the output::

        dh += dy,   dc += dh o (1 - tanh(c)^2)
        d(pre_i) = dc g i (1 - i)      d(pre_f) = dc c_prev f (1 - f)
        d(pre_g) = dc i (1 - g^2)      d(pre_o) = dh tanh(c) o (1 - o)
        dc <- dc f

    The gate gradients go into ``dg`` (4H, N); the caller carries dh back with
    ``W_hh^T dg``. First, when ``col >= 0``, the previous step's ``dg`` is stored in
    columns col .. col+N of ``dG`` (4H, M).
    """
    H = dh.size // N
    if col >= 0:
        dG.reshape(4 * H, M)[:, col:col + N] = dg.reshape(4 * H, N)
    G, D = g.reshape(4, H, N), dg.reshape(4, H, N)
    i, f, gg, o = G
    dh, dc, tc = dh.reshape(H, N), dc.reshape(H, N), tanh_c.reshape(H, N)
    dh += dy.reshape(H, N)
    dc += dh * ((1.0 - tc * tc) * o)
    np.subtract(1.0, G, out=D)
    D *= G                                     # s (1 - s): the sigmoid gates
    np.multiply(gg, gg, out=D[2])
    np.subtract(1.0, D[2], out=D[2])           # 1 - g^2: the tanh gate
    D[0] *= gg                                 # times each gate's partner in its product
    D[1] *= c_prev.reshape(H, N)
    D[2] *= i
    D[3] *= tc
    D[:3] *= dc                                # i, f, g feed c; o feeds h
    D[3] *= dh
    dc *= f


def _gru_forward_step(g: np.ndarray, gh: np.ndarray, bh: np.ndarray, h_prev: np.ndarray,
                      hn: np.ndarray, h: np.ndarray, N: int, H: int, one: float) -> None:
    """One GRU step, batch-major (gates (N, 3H) ordered r, z, n; states (N, H))::

        r, z = sigmoid(x W_i^T + b_i + h W_h^T + b_h)     (pre-activations negated)
        hn   = h_prev W_hn^T + b_hn
        n    = tanh(x W_in^T + b_in + r hn)
        h    = (1 - z) n + z h_prev = (h_prev - n) z + n

    ``g`` holds x W_ih^T + b_ih and receives (r, z, n); ``gh`` is h_prev W_hh^T and
    ``bh`` b_hh (zeros without bias); ``hn`` and ``h`` are written.
    """
    g, gh, hn = g.reshape(N, 3 * H), gh.reshape(N, 3 * H), hn.reshape(N, H)
    rz, n = g[:, :2 * H], g[:, 2 * H:]
    rz += gh[:, :2 * H] + bh[:2 * H]
    _sigmoid_neg_(rz)
    np.add(gh[:, 2 * H:], bh[2 * H:], out=hn)
    n += rz[:, :H] * hn
    np.tanh(n, out=n)
    h = np.subtract(h_prev.reshape(N, H), n, out=h.reshape(N, H))
    h *= rz[:, H:]
    h += n


def _gru_backward_step(dh: np.ndarray, tmp: np.ndarray, dy: np.ndarray, g: np.ndarray,
                       h_prev: np.ndarray, hn: np.ndarray, dgh: np.ndarray, dgn: np.ndarray,
                       N: int, H: int, one: float) -> None:
    """One GRU step backward; the gradient reaching h_t is dh + tmp + dy (``dh`` is
    z dh_{t+1}, ``tmp`` the hidden-side GEMM's part, ``dy`` the output's)::

        d(pre_n) = dh (1 - n^2) (1 - z)     -> dgn (input side) and, times r, dgh's n block
        d(pre_r) = d(pre_n) hn r (1 - r)    d(pre_z) = dh (h_prev - n) z (1 - z)
        dh <- dh z                          (the caller adds dgh W_hh)
    """
    g, d = g.reshape(N, 3 * H), dgh.reshape(N, 3 * H)
    r, z, n = g[:, :H], g[:, H:2 * H], g[:, 2 * H:]
    dh = dh.reshape(N, H)
    dh += tmp.reshape(N, H)
    dh += dy.reshape(N, H)
    dn = np.multiply(dh, (1.0 - n * n) * (1.0 - z), out=dgn.reshape(N, H))
    np.multiply(dn, r, out=d[:, 2 * H:])
    np.multiply(dn, (1.0 - r) * r * hn.reshape(N, H), out=d[:, :H])
    np.multiply(dh, (h_prev.reshape(N, H) - n) * z * (1.0 - z), out=d[:, H:2 * H])
    dh *= z


_NUMPY_STEPS = {
    "lstm": backend.kernels.StepKernels(_lstm_forward_step, _lstm_backward_step, 1.0),
    "gru": backend.kernels.StepKernels(_gru_forward_step, _gru_backward_step, 1.0),
}


def _step_kernels(cell: str, x: np.ndarray, mask: np.ndarray | None) -> StepKernels:
    """The step functions of ``cell`` ("lstm" or "gru") for one call on ``x``: the
    compiled ones from ``backend.kernels`` for an unmasked NumPy batch when they are on
    (and compile), else the NumPy reference above. Chosen in forward, kept for backward."""
    if mask is None and type(x) is np.ndarray:
        get = backend.kernels.lstm_kernels if cell == "lstm" else backend.kernels.gru_kernels
        k = get(x.dtype)
        if k is not None:
            return k
    return _NUMPY_STEPS[cell]


def _carry(new: np.ndarray, old: np.ndarray, m: np.ndarray, nm: np.ndarray) -> None:
    """In place: new <- new m + old (1 - m): a padded step (m = 0) keeps the old state."""
    new *= m
    new += old * nm


# ---------------------------------------------------------------------- RNN
class RNNFunction(Function):
    """Elman RNN over a sequence: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    act is tanh or relu. Inputs: x (T, N, I), h0 (N, H) or None, w_ih, w_hh,
    b_ih, b_hh (or None). Returns (outputs (T, N, H), h_n (N, H)).
    Backward: dpre_t = (dy_t + dh_t) * act'(.), dh_{t-1} = dpre_t W_hh.
    """

    i_wih = 2

    def forward(self, x: np.ndarray, h0: np.ndarray | None, w_ih: np.ndarray, w_hh: np.ndarray,
                b_ih: np.ndarray | None = None, b_hh: np.ndarray | None = None,
                mask: np.ndarray | None = None, reverse: bool = False,
                nonlinearity: str = "tanh") -> tuple[np.ndarray, np.ndarray]:
        T, N, _, H = _check(x, h0, w_ih, w_hh, 1, "rnn")
        check_choice(nonlinearity, "nonlinearity", "rnn", ("tanh", "relu"))
        dt = x.dtype
        A = _input_projection(x, w_ih, b_ih, b_hh).reshape(T, N, H)
        S = np.empty((T + 1, N, H), dtype=dt)
        prev, new, steps = _layout(T, reverse)
        S[prev(steps[0])] = 0 if h0 is None else h0
        m, nm = _float_mask(mask, T, N, dt)
        whT = w_hh.T
        tmp = np.empty((N, H), dtype=dt)
        relu = nonlinearity == "relu"
        for t in steps:
            a = A[t]
            s = S[new(t)]
            if m is None:   # write straight into the state array
                a, s = s, a
                np.matmul(S[prev(t)], whT, out=a)
                a += s
            else:
                np.matmul(S[prev(t)], whT, out=tmp)
                a += tmp
            if relu:
                np.maximum(a, 0, out=a)
            else:
                np.tanh(a, out=a)
            if m is not None and nm is not None:   # padded steps keep the previous state
                np.multiply(a, m[t], out=s)
                np.multiply(S[prev(t)], nm[t], out=tmp)
                s += tmp
        _, Y = _split_states(S, reverse)
        if m is None:
            out = act = Y
        else:
            act = A                 # the activations of every step, before masking
            out = A * m
        if any(self.needs_input_grad):
            self.x, self.A, self.S, self.m, self.nm = x, act, S, m, nm
            self.w_ih, self.w_hh, self.reverse, self.relu = w_ih, w_hh, reverse, relu
            self.has_bias = b_ih is not None
        return out, S[new(steps[-1])]

    def backward(self, dy: np.ndarray, dhn: np.ndarray) -> tuple[np.ndarray | None, ...]:
        A, S, m, nm, w_hh = self.A, self.S, self.m, self.nm, self.w_hh
        T, N, H = A.shape
        # local derivative of the activation for all steps at once
        if self.relu:
            D = (A > 0).astype(A.dtype)
        else:
            D = np.multiply(A, A)
            np.subtract(1.0, D, out=D)
        if m is not None:
            dy = dy * m
        dG = np.empty_like(A)
        dh = np.array(dhn, dtype=A.dtype, copy=True)
        keep = np.empty_like(dh) if m is not None else None
        _, _, steps = _layout(T, self.reverse)
        for t in reversed(steps):   # backward walks the steps in reverse order
            dh += dy[t]
            if m is not None and nm is not None:
                np.multiply(dh, nm[t], out=keep)
                dh *= m[t]
            np.multiply(dh, D[t], out=dG[t])
            np.matmul(dG[t], w_hh, out=dh)
            if m is not None:
                dh += keep
        P, _ = _split_states(S, self.reverse)
        dx, dwi, dwh, dbi, dbh = _weight_grads(self, dG, P, self.x)
        dh0 = dh if self.needs_input_grad[1] else None
        return (dx, dh0, dwi, dwh, dbi, dbh)[:len(self.needs_input_grad)]


# --------------------------------------------------------------------- LSTM
class LSTMFunction(Function):
    """LSTM over a sequence (PyTorch equations, gates i, f, g, o)::

        i, f, o = sigmoid(.), g = tanh(.)   of  x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)

    Inputs: x (T, N, I), h0, c0 (N, H) or None, w_ih (4H, I), w_hh (4H, H), b_ih,
    b_hh (4H,) or None. Returns (outputs (T, N, H), h_n, c_n).

    Inside, the arrays are feature-major (features x batch), which suits the BLAS
    kernel best for these thin matrices: a buffer Z of shape (I + 1 + H, (T+1) N)
    holds, per step, the column block [x_t; 1; h_{t-1}], so each step's four gates
    are ONE GEMM [W_ih b W_hh] @ Z_t (input projection and bias included), and
    backward gets dW_ih, db and dW_hh from ONE GEMM dG @ Z^T over all steps. A step's
    elementwise work is :func:`_lstm_forward_step` / :func:`_lstm_backward_step` (or
    their compiled twins); backward carries dh <- W_hh^T d(pre) between steps.
    """

    i_wih = 3

    def forward(self, x: np.ndarray, h0: np.ndarray | None, c0: np.ndarray | None,
                w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray | None = None,
                b_hh: np.ndarray | None = None, mask: np.ndarray | None = None,
                reverse: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        T, N, I, H = _check(x, h0, w_ih, w_hh, 4, "lstm", c0)
        dt = x.dtype
        K = I + 1 + H
        # [W_ih | b | W_hh] with rows negated (sigmoid gates) or times -2 (the g gate):
        # then sigmoid(z) = 1 / (1 + e^{-z}) for all four blocks in one exp pass, and
        # tanh(z) = 2 sigmoid(2z) - 1 for g. NumPy's exp is far cheaper than its tanh.
        scale = np.full((4 * H, 1), -1.0, dtype=dt)
        scale[2 * H:3 * H] = -2.0
        W = np.empty((4 * H, K), dtype=dt)
        np.multiply(w_ih, scale, out=W[:, :I])
        if b_ih is not None:
            np.multiply((b_ih + b_hh)[:, None], scale, out=W[:, I:I + 1])
        else:
            W[:, I] = 0
        np.multiply(w_hh, scale, out=W[:, I + 1:])
        Z = np.empty((K, (T + 1) * N), dtype=dt)
        prev, new, steps = _layout(T, reverse)
        xcols = slice(N, None) if reverse else slice(0, T * N)
        Z[:I, xcols] = x.reshape(T * N, I).T
        Z[I] = 1.0
        Zh = Z[I + 1:]
        Gs = np.empty((T, 4 * H, N), dtype=dt)      # gate activations, per step
        C = np.empty((T + 1, H, N), dtype=dt)       # cell states
        TC = np.empty((T, H, N), dtype=dt)          # tanh(c_t)
        p0 = prev(steps[0])
        Zh[:, p0 * N:(p0 + 1) * N] = 0 if h0 is None else h0.T
        C[p0] = 0 if c0 is None else c0.T
        m, nm = _float_mask(mask, T, N, dt)
        if m is not None and nm is not None:
            m, nm = m.reshape(T, 1, N), nm.reshape(T, 1, N)
        k = _step_kernels("lstm", x, m)
        Gf, Cf, TCf = Gs.reshape(T, -1), C.reshape(T + 1, -1), TC.reshape(T, -1)
        M = (T + 1) * N
        Zhf = Z.reshape(-1)[(I + 1) * M:]          # flat view of the h rows of Z
        with np.errstate(over="ignore"):           # e^a = inf is a gate at 0: fine
            for t in steps:
                p, q = prev(t), new(t)
                np.matmul(W, Z[:, p * N:(p + 1) * N], out=Gs[t])
                k.forward_step(Gf[t], Cf[p], Cf[q], TCf[t], Zhf, N, M, q * N, k.one)
                if m is not None and nm is not None:
                    _carry(Zh[:, q * N:(q + 1) * N], Zh[:, p * N:(p + 1) * N], m[t], nm[t])
                    _carry(C[q], C[p], m[t], nm[t])
        # The outputs are returned as a (T, N, H) view of the feature-major states (no
        # copy); a following Linear multiplies it as a transposed matrix.
        ycols = slice(0, T * N) if reverse else slice(N, None)
        Y = Zh[:, ycols].reshape(H, T, N).transpose(1, 2, 0)
        if m is not None:
            Y = (Gs[:, 3 * H:] * TC * m).transpose(0, 2, 1)
        last = new(steps[-1])
        hn = np.ascontiguousarray(Zh[:, last * N:(last + 1) * N].T)
        cn = np.ascontiguousarray(C[last].T)
        if any(self.needs_input_grad):
            self.Z, self.Gs, self.C, self.TC, self.m, self.nm = Z, Gs, C, TC, m, nm
            self.w_ih, self.w_hh, self.reverse, self.xcols = w_ih, w_hh, reverse, xcols
            self.kernels = k
            self.has_bias = b_ih is not None
        return Y, hn, cn

    def backward(self, dy: np.ndarray, dhn: np.ndarray,
                 dcn: np.ndarray) -> tuple[np.ndarray | None, ...]:
        Gs, C, TC, m, nm, Z = self.Gs, self.C, self.TC, self.m, self.nm, self.Z
        T, H4, N = Gs.shape
        H = H4 // 4
        I = Z.shape[0] - 1 - H
        dt = Gs.dtype
        dyT = np.empty((T, H, N), dtype=dt)     # dy made feature-major for the step loop
        dG = np.empty((4 * H, (T + 1) * N), dtype=dt)  # columns aligned with Z
        dh = np.array(dhn.T, dtype=dt, order="C")
        dc = np.array(dcn.T, dtype=dt, order="C")
        whT = np.ascontiguousarray(self.w_hh.T)
        prev, _, steps = _layout(T, self.reverse)
        k = self.kernels
        backend.copy(dyT, dy.transpose(0, 2, 1))
        if m is not None:
            dyT *= m                            # a padded step's output is a constant 0
        Gf, Cf, TCf, dyf = (a.reshape(len(a), -1) for a in (Gs, C, TC, dyT))
        dhf, dcf, dGf, M = dh.reshape(-1), dc.reshape(-1), dG.reshape(-1), (T + 1) * N
        dg = np.empty((4 * H, N), dtype=dt)     # this step's gate gradients, contiguous
        dgf, col = dg.reshape(-1), -1
        for t in reversed(steps):               # backward walks the steps in reverse order
            p = prev(t)
            if m is not None and nm is not None:  # a padded step passes dh, dc on untouched
                keep_h, keep_c = dh * nm[t], dc * nm[t]
                dh *= m[t]
                dc *= m[t]
            k.backward_step(dhf, dcf, dyf[t], Gf[t], Cf[p], TCf[t], dgf, dGf, N, M, col, k.one)
            np.matmul(whT, dg, out=dh)
            if m is not None:
                dh += keep_h
                dc += keep_c
            col = p * N
        dG[:, col:col + N] = dg
        need = self.needs_input_grad
        cols = self.xcols
        dGc = dG[:, cols]
        dx = dwi = dwh = dbi = dbh = None
        if need[0]:
            dx = (dGc.T @ self.w_ih).reshape(T, N, I)    # dG^T used transposed: no copy
        if need[3] or need[4] or (self.has_bias and (need[5] or need[6])):
            dW = dGc @ Z[:, cols].T             # (4H, I + 1 + H): [dW_ih | db | dW_hh]
            dwi = np.ascontiguousarray(dW[:, :I]) if need[3] else None
            dwh = np.ascontiguousarray(dW[:, I + 1:]) if need[4] else None
            if self.has_bias:
                dbi = dW[:, I].copy() if need[5] else None
                dbh = dW[:, I].copy() if need[6] else None
        return (dx, dh.T.copy() if need[1] else None, dc.T.copy() if need[2] else None,
                dwi, dwh, dbi, dbh)[:len(need)]


# ---------------------------------------------------------------------- GRU
class GRUFunction(Function):
    """GRU over a sequence (PyTorch equations, gates r, z, n)::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    Inputs: x (T, N, I), h0 (N, H) or None, w_ih (3H, I), w_hh (3H, H), b_ih,
    b_hh (3H,) or None. Returns (outputs (T, N, H), h_n).
    """

    i_wih = 2

    def forward(self, x: np.ndarray, h0: np.ndarray | None, w_ih: np.ndarray, w_hh: np.ndarray,
                b_ih: np.ndarray | None = None, b_hh: np.ndarray | None = None,
                mask: np.ndarray | None = None,
                reverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
        T, N, _, H = _check(x, h0, w_ih, w_hh, 3, "gru")
        dt = x.dtype
        # r and z pre-activations are computed negated so one exp pass gives both sigmoids
        scale = np.ones(3 * H, dtype=dt)
        scale[:2 * H] = -1.0
        G = (x.reshape(T * N, -1) @ (w_ih.T * scale)).reshape(T, N, 3 * H)
        if b_ih is not None:
            G += b_ih * scale
        bh = None if b_hh is None else b_hh * scale
        whT = w_hh.T * scale
        S = np.empty((T + 1, N, H), dtype=dt)
        HN = np.empty((T, N, H), dtype=dt)     # W_hn h + b_hn, needed for dr
        prev, new, steps = _layout(T, reverse)
        S[prev(steps[0])] = 0 if h0 is None else h0
        m, nm = _float_mask(mask, T, N, dt)
        gh = np.empty((N, 3 * H), dtype=dt)
        k = _step_kernels("gru", x, m)
        Gf, Sf, HNf = G.reshape(T, -1), S.reshape(T + 1, -1), HN.reshape(T, -1)
        ghf = gh.reshape(-1)
        bhf = np.zeros(3 * H, dtype=dt) if bh is None else np.ascontiguousarray(bh)
        with np.errstate(over="ignore"):        # e^a = inf is a gate at 0: fine
            for t in steps:
                np.matmul(S[prev(t)], whT, out=gh)
                k.forward_step(Gf[t], ghf, bhf, Sf[prev(t)], HNf[t], Sf[new(t)], N, H, k.one)
                if m is not None and nm is not None:
                    _carry(S[new(t)], S[prev(t)], m[t], nm[t])
        P, Y = _split_states(S, reverse)
        if m is not None:
            # the output of a padded step is zero; recompute the unmasked new state
            z, n = G[:, :, H:2 * H], G[:, :, 2 * H:]
            Y = (n + z * (P - n)) * m
        if any(self.needs_input_grad):
            self.x, self.G, self.S, self.HN, self.m, self.nm = x, G, S, HN, m, nm
            self.w_ih, self.w_hh, self.reverse, self.kernels = w_ih, w_hh, reverse, k
            self.has_bias = b_ih is not None
        return Y, S[new(steps[-1])]

    def backward(self, dy: np.ndarray, dhn: np.ndarray) -> tuple[np.ndarray | None, ...]:
        G, S, HN, m = self.G, self.S, self.HN, self.m
        T, N, H3 = G.shape
        H = H3 // 3
        P, _ = _split_states(S, self.reverse)
        dGh = np.empty((T, N, 3 * H), dtype=G.dtype)   # gradients of the hidden-side sums
        dGn = np.empty((T, N, H), dtype=G.dtype)       # input-side n gradient
        dh = np.array(dhn, dtype=G.dtype, copy=True)
        k, nm = self.kernels, self.nm
        dyc = np.ascontiguousarray(dy, dtype=G.dtype) if m is None else dy * m
        prev, _, steps = _layout(T, self.reverse)
        Gf, Sf, HNf = G.reshape(T, -1), S.reshape(T + 1, -1), HN.reshape(T, -1)
        dyf, dGhf, dGnf = dyc.reshape(T, -1), dGh.reshape(T, -1), dGn.reshape(T, -1)
        tmp = np.zeros((N, H), dtype=G.dtype)   # dGh_{t+1} W_hh: the GEMM's part of dh_t
        dhf, tmpf = dh.reshape(-1), tmp.reshape(-1)
        for t in reversed(steps):               # backward walks the steps in reverse order
            if m is not None and nm is not None:  # a padded step passes dh on untouched
                keep = (dh + tmp) * nm[t]
                dh *= m[t]
                tmp *= m[t]
            k.backward_step(dhf, tmpf, dyf[t], Gf[t], Sf[prev(t)], HNf[t], dGhf[t], dGnf[t],
                            N, H, k.one)
            np.matmul(dGh[t], self.w_hh, out=tmp)
            if m is not None:
                dh += keep
        dh += tmp
        dGi = dGh.copy()
        dGi[:, :, 2 * H:] = dGn
        dx, dwi, dwh, dbi, dbh = _weight_grads(self, dGi, P, self.x, dG_hh=dGh)
        return (dx, (dh if self.needs_input_grad[1] else None), dwi, dwh, dbi,
                dbh)[:len(self.needs_input_grad)]


# --------------------------------------------------------------- public API
def _mask_from(lengths: TensorLike | None, mask: TensorLike | None, T: int,
               N: int) -> np.ndarray | None:
    if lengths is not None and mask is not None:
        raise ValueError("give either lengths or mask, not both")
    if lengths is not None:
        m = lengths_to_mask(lengths, T, N)
        return None if m.all() else m
    if mask is not None:
        mask = as_array(mask, bool)
        if mask.shape != (T, N):
            raise ValueError(f"mask must be (T, N) = ({T}, {N}), got {mask.shape}")
    return mask


def rnn(x: Tensor, h0: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
        b_hh: Tensor | None = None, nonlinearity: str = "tanh", lengths: TensorLike | None = None,
        mask: TensorLike | None = None, reverse: bool = False) -> tuple[Tensor, Tensor]:
    """One Elman RNN layer over a time-major sequence x (T, N, I).

    Returns ``(output (T, N, H), h_n (N, H))``. ``lengths`` (N,) or ``mask``
    (T, N) mark the real steps of padded sequences.
    """
    T, N = x.shape[0], x.shape[1]
    return RNNFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh, mask=_mask_from(lengths, mask, T, N),
                             reverse=reverse, nonlinearity=nonlinearity)


def lstm(x: Tensor, h0: Tensor | None, c0: Tensor | None, w_ih: Tensor, w_hh: Tensor,
         b_ih: Tensor | None = None, b_hh: Tensor | None = None,
         lengths: TensorLike | None = None, mask: TensorLike | None = None,
         reverse: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """One LSTM layer over a time-major sequence x (T, N, I).

    Returns ``(output (T, N, H), h_n (N, H), c_n (N, H))``.

    >>> y, h, c = lstm(gn.randn(5, 2, 3), None, None, w_ih, w_hh, b_ih, b_hh)  # doctest: +SKIP
    """
    T, N = x.shape[0], x.shape[1]
    return LSTMFunction.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh,
                              mask=_mask_from(lengths, mask, T, N), reverse=reverse)


def gru(x: Tensor, h0: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
        b_hh: Tensor | None = None, lengths: TensorLike | None = None,
        mask: TensorLike | None = None, reverse: bool = False) -> tuple[Tensor, Tensor]:
    """One GRU layer over a time-major sequence x (T, N, I). Returns ``(output, h_n)``."""
    T, N = x.shape[0], x.shape[1]
    return GRUFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh, mask=_mask_from(lengths, mask, T, N),
                             reverse=reverse)


def _one_step(x: Tensor, who: str) -> Tensor:
    from . import math as M
    if x.ndim != 2:
        raise ValueError(f"{who}: input must be (batch, input_size), got shape {tuple(x.shape)}")
    return M.reshape(x, (1,) + tuple(x.shape)) if isinstance(x, Tensor) else x[None]


def rnn_cell(x: Tensor, h: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None, nonlinearity: str = "tanh") -> Tensor:
    """One step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh); x (N, I), h (N, H) or None."""
    return RNNFunction.apply(_one_step(x, "rnn_cell"), h, w_ih, w_hh, b_ih, b_hh,
                             nonlinearity=nonlinearity)[1]


def lstm_cell(x: Tensor, h: Tensor | None, c: Tensor | None, w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step; returns ``(h', c')``."""
    _, h1, c1 = LSTMFunction.apply(_one_step(x, "lstm_cell"), h, c, w_ih, w_hh, b_ih, b_hh)
    return h1, c1


def gru_cell(x: Tensor, h: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step; returns h'."""
    return GRUFunction.apply(_one_step(x, "gru_cell"), h, w_ih, w_hh, b_ih, b_hh)[1]
