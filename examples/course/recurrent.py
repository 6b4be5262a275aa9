"""Recurrent networks: the "hello" character model, the LSTM equations, RNN topologies
and the vanishing gradient through time.

Decks: 000 (h_t = tanh(W_hh h_{t-1} + W_xh x_t); vocabulary [h, e, l, o] and the training
sequence "hello"; many-to-one and many-to-many graphs), 001 (the LSTM equations
i, f, o, g, c_t = c_{t-1} o f + g o i, s_t = tanh(c_t) o o; gradients through time are
products of factors below 1). Run: ``python examples/course/recurrent.py``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _course import Checks  # noqa: E402

import glassnet as gn  # noqa: E402
import glassnet.inspect as ins  # noqa: E402
import glassnet.nn.functional as F  # noqa: E402
from glassnet import nn, optim  # noqa: E402

VOCAB = ["h", "e", "l", "o"]


class CharRNN(nn.Module):
    """One-hot characters -> tanh RNN -> scores over the vocabulary at every step."""

    def __init__(self, hidden: int = 3) -> None:
        super().__init__()
        self.rnn = nn.RNN(len(VOCAB), hidden, nonlinearity="tanh", bias=False, batch_first=True)
        self.out = nn.Linear(hidden, len(VOCAB))

    def forward(self, x: gn.Tensor, h: gn.Tensor | None = None) -> tuple[gn.Tensor, gn.Tensor]:
        y, h = self.rnn(x, h)
        return self.out(y), h


def one_hot(text: str) -> gn.Tensor:
    return F.one_hot(gn.tensor([VOCAB.index(ch) for ch in text]), len(VOCAB)).float()[None]


def hello(c: Checks) -> None:
    gn.manual_seed(0)
    model = CharRNN(hidden=3)
    c.check("000 hello", "W_xh, W_hh shapes (hidden 3, vocabulary 4), no bias as in the deck",
            [(3, 4), (3, 3)], [tuple(model.rnn.weight_ih_l0.shape), tuple(model.rnn.weight_hh_l0.shape)])
    x, target = one_hot("hell"), gn.tensor([[VOCAB.index(ch) for ch in "ello"]])
    opt = optim.Adam(model.parameters(), lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        scores, _ = model(x)
        loss = F.cross_entropy(scores.reshape(-1, 4), target.reshape(-1))
        loss.backward()
        opt.step()
    scores, _ = model(x)
    c.check("000 hello", "trained on 'hello': predicts 'ello' from 'hell'", "ello",
            "".join(VOCAB[i] for i in scores.argmax(-1).numpy()[0]))
    # sampling, greedily: feed back each prediction, starting from "h"
    text, h, ch = "h", None, one_hot("h")
    with gn.no_grad():
        for _ in range(4):
            s, h = model(ch, h)
            nxt = VOCAB[int(s.argmax(-1).numpy()[0, -1])]
            text += nxt
            ch = one_hot(nxt)
    c.check("000 hello", "sampling from 'h' (greedy)", "hello", text)


def lstm_equations(c: Checks) -> None:
    # the deck's equations with its names: U (input weights), W (recurrent weights), per gate
    rng = np.random.default_rng(0)
    n_in, n_h = 3, 4
    cell = nn.LSTMCell(n_in, n_h, bias=False, dtype="float64")
    x = rng.normal(size=(1, n_in))
    s_prev, c_prev = rng.normal(size=(1, n_h)), rng.normal(size=(1, n_h))
    Wih, Whh = cell.weight_ih.detach().numpy(), cell.weight_hh.detach().numpy()
    U = dict(zip("ifgo", np.split(Wih, 4)))        # PyTorch's gate order: i, f, g, o
    W = dict(zip("ifgo", np.split(Whh, 4)))
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    i = sig(x @ U["i"].T + s_prev @ W["i"].T)
    f = sig(x @ U["f"].T + s_prev @ W["f"].T)
    o = sig(x @ U["o"].T + s_prev @ W["o"].T)
    g = np.tanh(x @ U["g"].T + s_prev @ W["g"].T)
    c_t = c_prev * f + g * i
    s_t = np.tanh(c_t) * o
    h_gn, c_gn = cell(gn.tensor(x), (gn.tensor(s_prev), gn.tensor(c_prev)))
    c.check("001 lstm", "c_t = c_{t-1} o f + g o i", c_t, c_gn.numpy(), 1e-12)
    c.check("001 lstm", "s_t = tanh(c_t) o o", s_t, h_gn.numpy(), 1e-12)


def topologies(c: Checks) -> None:
    gn.manual_seed(0)
    rnn = nn.LSTM(5, 8, batch_first=True)
    x = gn.randn(2, 7, 5)                          # 2 sequences of 7 steps
    y, (h, _) = rnn(x)
    c.check("000 topo", "many-to-many: one output per step", (2, 7, 8), y.shape)
    c.check("000 topo", "many-to-one: the last state", (1, 2, 8), h.shape)
    c.check("000 topo", "the last state is the last step's output", y.numpy()[:, -1], h.numpy()[0], 1e-7)


def through_time(c: Checks) -> None:
    gn.manual_seed(0)
    rnn = nn.RNN(4, 16, nonlinearity="tanh")
    with gn.no_grad():
        rnn.weight_hh_l0.mul_(0.5)            # a contracting recurrence: factors below 1
    norms = ins.timestep_gradient_norms(rnn, gn.randn(30, 8, 4))
    c.check("001 vanish", "|dL/dx_t| of the last step's loss shrinks going back in time",
            True, bool(norms[0] < 1e-3 * norms[-1]))
    c.note("001 vanish", "|dL/dx_t| at t = 0, 15, 29", norms[[0, 15, 29]])


def run() -> Checks:
    c = Checks("Recurrent networks (decks 000, 001)")
    hello(c)
    lstm_equations(c)
    topologies(c)
    through_time(c)
    return c


if __name__ == "__main__":
    raise SystemExit(run().finish())
