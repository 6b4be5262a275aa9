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
* with Numba installed, the elementwise work of each LSTM or GRU step, forward and
  backward, is one compiled call (:mod:`glassnet.jit`); the NumPy code beside it runs
  otherwise and for masked batches.

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
from .. import jit
from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_array
from ..validation import check_choice

__all__ = ["rnn", "lstm", "gru", "rnn_cell", "lstm_cell", "gru_cell", "lengths_to_mask",
           "RNNFunction", "LSTMFunction", "GRUFunction"]


# ------------------------------------------------------------------ helpers
def _sigmoid_neg_(a):
    """In place: a <- 1 / (1 + e^a), i.e. sigmoid(-a).

    The weights feeding sigmoid gates are pre-negated, so one exp pass serves a
    whole gate block (NumPy's exp is far cheaper than its tanh here).
    """
    np.exp(a, out=a)
    a += 1.0
    np.divide(1.0, a, out=a)   # same bits as np.reciprocal, whose float32 loop is not vectorised
    return a


def _tanh_(a):
    np.tanh(a, out=a)
    return a


def lengths_to_mask(lengths, T, N=None):
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


def _layout(T, reverse):
    """(index of the previous state, index of the new state) in the (T+1, N, H) state array.

    Forward: states[t] is the state before step t and states[t+1] after it.
    Reverse: states[t+1] is the state before step t and states[t] after it.
    """
    if reverse:
        return (lambda t: t + 1), (lambda t: t), range(T - 1, -1, -1)
    return (lambda t: t), (lambda t: t + 1), range(T)


def _split_states(S, reverse):
    """(previous-state view, new-state view), each (T, N, H) and contiguous."""
    return (S[1:], S[:-1]) if reverse else (S[:-1], S[1:])


def _check(x, h0, w_ih, w_hh, gates, who, c0=None):
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


def _input_projection(x, w_ih, b_ih, b_hh, scale=None):
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


def _weight_grads(self, dG, prev_states, x, dG_hh=None):
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


def _float_mask(mask, T, N, dtype):
    if mask is None:
        return None, None
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (T, N):
        raise ValueError(f"mask must be (T, N) = ({T}, {N}), got {mask.shape}")
    m = mask.astype(dtype)[:, :, None]
    return m, 1.0 - m


# ---------------------------------------------------------------------- RNN
class RNNFunction(Function):
    """Elman RNN over a sequence: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    act is tanh or relu. Inputs: x (T, N, I), h0 (N, H) or None, w_ih, w_hh,
    b_ih, b_hh (or None). Returns (outputs (T, N, H), h_n (N, H)).
    Backward: dpre_t = (dy_t + dh_t) * act'(.), dh_{t-1} = dpre_t W_hh.
    """

    i_wih = 2

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, mask=None, reverse=False,
                nonlinearity="tanh"):
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
            if m is not None:   # padded steps keep the previous state
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

    def backward(self, dy, dhn):
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
            if m is not None:
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
    backward gets dW_ih, db and dW_hh from ONE GEMM dG @ Z^T over all steps.

    Backward per step (dh, dc carried from t+1)::

        dc += dh * o * (1 - tanh(c)^2)
        d(pre_o) = dh * tanh(c) * o (1 - o)     d(pre_i) = dc * g * i (1 - i)
        d(pre_f) = dc * c_{t-1} * f (1 - f)    d(pre_g) = dc * i * (1 - g^2)
        dc <- dc * f,   dh <- W_hh^T d(pre)
    """

    i_wih = 3

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, mask=None, reverse=False):
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
        if m is not None:
            m, nm = m.reshape(T, 1, N), nm.reshape(T, 1, N)
        kern = jit.lstm_kernels(dt) if m is None and type(x) is np.ndarray else None
        if kern is not None:        # one compiled call per step does all the elementwise work
            step, one = kern.forward_step, kern.one
            Gf, Cf, TCf = Gs.reshape(T, -1), C.reshape(T + 1, -1), TC.reshape(T, -1)
            M = (T + 1) * N
            Zhf = Z.reshape(-1)[(I + 1) * M:]      # flat view of the h rows of Z
            for t in steps:
                p, q = prev(t), new(t)
                np.matmul(W, Z[:, p * N:(p + 1) * N], out=Gs[t])
                step(Gf[t], Cf[p], Cf[q], TCf[t], Zhf, N, M, q * N, one)
        else:
            ig = np.empty((H, N), dtype=dt)
            with np.errstate(over="ignore"):
                for t in steps:
                    p, q = prev(t), new(t)
                    g = Gs[t]
                    np.matmul(W, Z[:, p * N:(p + 1) * N], out=g)
                    _sigmoid_neg_(g)
                    gg = g[2 * H:3 * H]
                    gg *= 2.0
                    gg -= 1.0
                    c = C[q]
                    np.multiply(g[H:2 * H], C[p], out=c)
                    np.multiply(g[:H], gg, out=ig)
                    c += ig
                    tc = TC[t]
                    np.tanh(c, out=tc)
                    h = Zh[:, q * N:(q + 1) * N]
                    np.multiply(g[3 * H:], tc, out=h)
                    if m is not None:   # padded steps keep the previous state
                        h *= m[t]
                        np.multiply(Zh[:, p * N:(p + 1) * N], nm[t], out=ig)
                        h += ig
                        c *= m[t]
                        np.multiply(C[p], nm[t], out=ig)
                        c += ig
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
            self.has_bias = b_ih is not None
        return Y, hn, cn

    def backward(self, dy, dhn, dcn):
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
        kern = jit.lstm_kernels(dt) if m is None and type(Gs) is np.ndarray else None
        if kern is not None:        # one compiled call per step does all the elementwise work
            backend.parallel_chunks(
                T, lambda lo, hi: np.copyto(dyT[lo:hi], dy[lo:hi].transpose(0, 2, 1)), dyT.size)
            step, one = kern.backward_step, kern.one
            Gf, Cf, TCf, dyf = (a.reshape(len(a), -1) for a in (Gs, C, TC, dyT))
            dhf, dcf, dGf, M = dh.reshape(-1), dc.reshape(-1), dG.reshape(-1), (T + 1) * N
            dg = np.empty((4 * H, N), dtype=dt)   # this step's gate gradients, contiguous
            dgf, col = dg.reshape(-1), -1
            for t in reversed(steps):   # backward walks the steps in reverse order
                p = prev(t)
                step(dhf, dcf, dyf[t], Gf[t], Cf[p], TCf[t], dgf, dGf, N, M, col, one)
                np.matmul(whT, dg, out=dh)
                col = p * N
            dG[:, col:col + N] = dg
        else:
            self._numpy_steps(dy, dyT, dG, dh, dc, whT)
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

    def _numpy_steps(self, dy, dyT, dG, dh, dc, whT):
        """The step loop of backward in NumPy (with masks, or without Numba)."""
        Gs, C, TC, m, nm = self.Gs, self.C, self.TC, self.m, self.nm
        T, H4, N = Gs.shape
        H = H4 // 4
        dt = Gs.dtype
        G4 = Gs.reshape(T, 4, H, N)
        Cprev, _ = _split_states(C, self.reverse)
        # Local derivatives of all steps at once (vectorised over T, chunks of steps on
        # glassnet's threads): D[:, k] multiplies dc (k = i, f, g) or dh (k = o); A
        # multiplies dh into dc; dyT is dy made feature-major (masked) for the step loop.
        D = np.empty((T, 4, H, N), dtype=dt)
        A = np.empty((T, H, N), dtype=dt)
        i, f, g, o = (G4[:, k] for k in range(4))
        pairs = ((i, g), (f, Cprev), (g, i), (o, TC))

        def local(lo, hi):
            for k, (a, b) in enumerate(pairs):
                d, a = D[lo:hi, k], a[lo:hi]
                if k == 2:
                    np.multiply(a, a, out=d)
                    np.subtract(1.0, d, out=d)     # 1 - g^2
                else:
                    np.subtract(1.0, a, out=d)
                    d *= a                         # s (1 - s)
                d *= b[lo:hi]
            At = A[lo:hi]
            np.multiply(TC[lo:hi], TC[lo:hi], out=At)
            np.subtract(1.0, At, out=At)
            At *= o[lo:hi]
            np.copyto(dyT[lo:hi], dy[lo:hi].transpose(0, 2, 1))
            if m is not None:
                dyT[lo:hi] *= m[lo:hi]
        backend.parallel_chunks(T, local, D.size)
        tmp = np.empty_like(dh)
        if m is not None:
            keep_h, keep_c = np.empty_like(dh), np.empty_like(dh)
        prev, _, steps = _layout(T, self.reverse)
        for t in reversed(steps):   # backward walks the steps in reverse order
            dh += dyT[t]
            if m is not None:
                np.multiply(dh, nm[t], out=keep_h)
                dh *= m[t]
                np.multiply(dc, nm[t], out=keep_c)
                dc *= m[t]
            np.multiply(dh, A[t], out=tmp)
            dc += tmp
            p = prev(t)
            dgt = dG[:, p * N:(p + 1) * N]
            d4 = dgt.reshape(4, H, N)
            np.multiply(dc, D[t, :3], out=d4[:3])
            np.multiply(dh, D[t, 3], out=d4[3])
            dc *= f[t]
            np.matmul(whT, dgt, out=dh)
            if m is not None:
                dh += keep_h
                dc += keep_c


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

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, mask=None, reverse=False):
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
        tmp = np.empty((N, H), dtype=dt)
        kern = jit.gru_kernels(dt) if m is None and type(x) is np.ndarray else None
        if kern is not None:        # one compiled call per step does all the elementwise work
            step, one = kern.forward_step, kern.one
            Gf, Sf, HNf = G.reshape(T, -1), S.reshape(T + 1, -1), HN.reshape(T, -1)
            ghf = gh.reshape(-1)
            bhf = np.zeros(3 * H, dtype=dt) if bh is None else np.ascontiguousarray(bh)
            for t in steps:
                np.matmul(S[prev(t)], whT, out=gh)
                step(Gf[t], ghf, bhf, Sf[prev(t)], HNf[t], Sf[new(t)], N, H, one)
        else:
            with np.errstate(over="ignore"):
                for t in steps:
                    g = G[t]
                    hp = S[prev(t)]
                    np.matmul(hp, whT, out=gh)
                    if bh is not None:
                        gh += bh
                    rz = g[:, :2 * H]
                    rz += gh[:, :2 * H]
                    _sigmoid_neg_(rz)
                    HN[t] = gh[:, 2 * H:]
                    n = g[:, 2 * H:]
                    np.multiply(rz[:, :H], HN[t], out=tmp)
                    n += tmp
                    np.tanh(n, out=n)
                    h = S[new(t)]
                    np.subtract(hp, n, out=h)
                    h *= rz[:, H:]
                    h += n
                    if m is not None:
                        h *= m[t]
                        np.multiply(hp, nm[t], out=tmp)
                        h += tmp
        P, Y = _split_states(S, reverse)
        if m is not None:
            # the output of a padded step is zero; recompute the unmasked new state
            z, n = G[:, :, H:2 * H], G[:, :, 2 * H:]
            Y = (n + z * (P - n)) * m
        if any(self.needs_input_grad):
            self.x, self.G, self.S, self.HN, self.m, self.nm = x, G, S, HN, m, nm
            self.w_ih, self.w_hh, self.reverse = w_ih, w_hh, reverse
            self.has_bias = b_ih is not None
        return Y, S[new(steps[-1])]

    def backward(self, dy, dhn):
        G, S, HN, m = self.G, self.S, self.HN, self.m
        T, N, H3 = G.shape
        H = H3 // 3
        P, _ = _split_states(S, self.reverse)
        dGh = np.empty((T, N, 3 * H), dtype=G.dtype)   # gradients of the hidden-side sums
        dGn = np.empty((T, N, H), dtype=G.dtype)       # input-side n gradient
        dh = np.array(dhn, dtype=G.dtype, copy=True)
        kern = jit.gru_kernels(G.dtype) if m is None and type(G) is np.ndarray else None
        if kern is not None:        # one compiled call per step does all the elementwise work
            step, one = kern.backward_step, kern.one
            dyc = np.ascontiguousarray(dy, dtype=G.dtype)
            prev, _, steps = _layout(T, self.reverse)
            Gf, Sf, HNf = G.reshape(T, -1), S.reshape(T + 1, -1), HN.reshape(T, -1)
            dyf, dGhf, dGnf = dyc.reshape(T, -1), dGh.reshape(T, -1), dGn.reshape(T, -1)
            dhf, tmp = dh.reshape(-1), np.zeros((N, H), dtype=G.dtype)
            tmpf = tmp.reshape(-1)
            for t in reversed(steps):   # backward walks the steps in reverse order
                step(dhf, tmpf, dyf[t], Gf[t], Sf[prev(t)], HNf[t], dGhf[t], dGnf[t], N, H, one)
                np.matmul(dGh[t], self.w_hh, out=tmp)
            dh += tmp
        else:
            self._numpy_steps(dy, dh, dGh, dGn, P)
        dGi = dGh.copy()
        dGi[:, :, 2 * H:] = dGn
        dx, dwi, dwh, dbi, dbh = _weight_grads(self, dGi, P, self.x, dG_hh=dGh)
        return (dx, (dh if self.needs_input_grad[1] else None), dwi, dwh, dbi,
                dbh)[:len(self.needs_input_grad)]

    def _numpy_steps(self, dy, dh, dGh, dGn, P):
        """The step loop of backward in NumPy (with masks, or without Numba)."""
        G, HN, m, nm, w_hh = self.G, self.HN, self.m, self.nm, self.w_hh
        T, N, H3 = G.shape
        H = H3 // 3
        r, z, n = G[:, :, :H], G[:, :, H:2 * H], G[:, :, 2 * H:]
        # local derivatives of all steps at once
        Dz = P - n
        Dz *= z
        Dz *= 1.0 - z                      # dh -> d(pre_z)
        Dn = np.multiply(n, n)
        np.subtract(1.0, Dn, out=Dn)
        Dn *= 1.0 - z                      # dh -> d(pre_n input part)
        Dr = np.subtract(1.0, r)
        Dr *= r
        Dr *= HN                           # d(pre_n) -> d(pre_r)
        Z = np.ascontiguousarray(z)
        R = np.ascontiguousarray(r)
        if m is not None:
            dy = dy * m
        tmp = np.empty_like(dh)
        keep = np.empty_like(dh) if m is not None else None
        _, _, steps = _layout(T, self.reverse)
        for t in reversed(steps):   # backward walks the steps in reverse order
            dh += dy[t]
            if m is not None:
                np.multiply(dh, nm[t], out=keep)
                dh *= m[t]
            d = dGh[t]
            dn = dGn[t]
            np.multiply(dh, Dn[t], out=dn)
            np.multiply(dn, R[t], out=d[:, 2 * H:])
            np.multiply(dn, Dr[t], out=d[:, :H])
            np.multiply(dh, Dz[t], out=d[:, H:2 * H])
            np.matmul(d, w_hh, out=tmp)
            dh *= Z[t]
            dh += tmp
            if m is not None:
                dh += keep


# --------------------------------------------------------------- public API
def _mask_from(lengths, mask, T, N):
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


def rnn(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh", lengths=None,
        mask=None, reverse=False):
    """One Elman RNN layer over a time-major sequence x (T, N, I).

    Returns ``(output (T, N, H), h_n (N, H))``. ``lengths`` (N,) or ``mask``
    (T, N) mark the real steps of padded sequences.
    """
    T, N = x.shape[0], x.shape[1]
    return RNNFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh, mask=_mask_from(lengths, mask, T, N),
                             reverse=reverse, nonlinearity=nonlinearity)


def lstm(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, mask=None, reverse=False):
    """One LSTM layer over a time-major sequence x (T, N, I).

    Returns ``(output (T, N, H), h_n (N, H), c_n (N, H))``.

    >>> y, h, c = lstm(gn.randn(5, 2, 3), None, None, w_ih, w_hh, b_ih, b_hh)
    """
    T, N = x.shape[0], x.shape[1]
    return LSTMFunction.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh,
                              mask=_mask_from(lengths, mask, T, N), reverse=reverse)


def gru(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, mask=None, reverse=False):
    """One GRU layer over a time-major sequence x (T, N, I). Returns ``(output, h_n)``."""
    T, N = x.shape[0], x.shape[1]
    return GRUFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh, mask=_mask_from(lengths, mask, T, N),
                             reverse=reverse)


def _one_step(x, who):
    from . import math as M
    if x.ndim != 2:
        raise ValueError(f"{who}: input must be (batch, input_size), got shape {tuple(x.shape)}")
    return M.reshape(x, (1,) + tuple(x.shape)) if isinstance(x, Tensor) else x[None]


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """One step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh); x (N, I), h (N, H) or None."""
    return RNNFunction.apply(_one_step(x, "rnn_cell"), h, w_ih, w_hh, b_ih, b_hh,
                             nonlinearity=nonlinearity)[1]


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step; returns ``(h', c')``."""
    _, h1, c1 = LSTMFunction.apply(_one_step(x, "lstm_cell"), h, c, w_ih, w_hh, b_ih, b_hh)
    return h1, c1


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step; returns h'."""
    return GRUFunction.apply(_one_step(x, "gru_cell"), h, w_ih, w_hh, b_ih, b_hh)[1]
