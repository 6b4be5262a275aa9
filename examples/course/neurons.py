"""Neurons, Boolean functions, the perceptron rule, XOR, and two hand exercises.

Decks: 002 (Boolean functions from sigmoid units, XOR/XNOR), 001 (expressiveness of
perceptrons; the window classifier and its margin objective), 000 (the sign(S - 0.2)
exercise). Run: ``python examples/course/neurons.py`` — it prints what the deck says
beside what glassnet computes and exits 1 if any worked number differs.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _course import Checks  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet import metrics, models, nn, optim  # noqa: E402

BOOL = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def unit(bias: float, *weights: float) -> nn.Sequential:
    """One sigmoid unit h = f(bias + w . x) with the deck's weights."""
    lin = nn.Linear(len(weights), 1, dtype="float64")
    lin.weight.numpy()[...] = [weights]
    lin.bias.numpy()[...] = bias
    return nn.Sequential(lin, nn.Sigmoid())


def boolean_units(c: Checks) -> None:
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    x1 = np.array([[0.0], [1.0]])
    h = unit(10, -20)(gn.tensor(x1)).numpy().ravel()
    c.check("002 bool", "NOT x1 = f(10 - 20 x1): f(10), f(-10)", [sig(10), sig(-10)], h, 1e-12)
    c.check("002 bool", "NOT x1 rounded, x1 = 0, 1", [1, 0], np.round(h).astype(int))
    h = unit(10, -20, -20)(gn.tensor(BOOL)).numpy().ravel()
    c.check("002 bool", "(NOT x1) AND (NOT x2): f(10), f(-10), f(-10), f(-30)",
            sig(np.array([10, -10, -10, -30.0])), h, 1e-12)
    c.check("002 bool", "(NOT x1) AND (NOT x2) rounded", [1, 0, 0, 0], np.round(h).astype(int))
    # AND and OR with the same +-20 construction, then XNOR = OR(AND, NOR): a hidden layer.
    and_ = unit(-30, 20, 20)(gn.tensor(BOOL)).numpy().ravel()
    or_ = unit(-10, 20, 20)(gn.tensor(BOOL)).numpy().ravel()
    c.check("002 bool", "x1 AND x2 = f(-30 + 20 x1 + 20 x2) rounded", [0, 0, 0, 1],
            np.round(and_).astype(int))
    c.check("002 bool", "x1 OR x2 = f(-10 + 20 x1 + 20 x2) rounded", [0, 1, 1, 1],
            np.round(or_).astype(int))
    hidden = nn.Linear(2, 2, dtype="float64")
    hidden.weight.numpy()[...] = [[20, 20], [-20, -20]]   # AND, NOR
    hidden.bias.numpy()[...] = [-30, 10]
    out = nn.Linear(2, 1, dtype="float64")
    out.weight.numpy()[...] = [[20, 20]]                  # OR of the two
    out.bias.numpy()[...] = -10
    xnor = nn.Sequential(hidden, nn.Sigmoid(), out, nn.Sigmoid())
    c.check("002 xor", "x1 XNOR x2 from AND, NOR -> OR (2-2-1 net)", [1, 0, 0, 1],
            np.round(xnor(gn.tensor(BOOL)).numpy().ravel()).astype(int))


def perceptron_rule(c: Checks) -> None:
    for name, y in (("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1])):
        p = models.Perceptron(2, activation="step")
        p.fit(BOOL, np.array(y, dtype=np.float64), epochs=50, lr=1.0)
        c.check("001 expr", f"perceptron rule learns {name}: converged, accuracy",
                [True, 1.0], [bool(p.converged_), p.score(BOOL, np.array(y, float))])
    X3 = np.array([[a, b, d] for a in (0, 1) for b in (0, 1) for d in (0, 1)], dtype=np.float64)
    maj = (X3.sum(1) >= 2).astype(np.float64)
    p = models.Perceptron(3, activation="step")
    p.fit(X3, maj, epochs=50, lr=1.0)
    c.check("001 expr", "perceptron rule learns majority of 3", [True, 1.0],
            [bool(p.converged_), p.score(X3, maj)])
    xor = np.array([0, 1, 1, 0], dtype=np.float64)
    p = models.Perceptron(2, activation="step")
    p.fit(BOOL, xor, epochs=200, lr=1.0)
    c.check("001 expr", "perceptron on XOR: never converges, accuracy <= 3/4", [False, True],
            [bool(p.converged_), p.score(BOOL, xor) <= 0.75])
    # ... while one hidden layer solves it
    gn.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    opt = optim.Adam(net.parameters(), lr=0.05)
    X, Y = gn.tensor(BOOL, dtype=gn.float32), gn.tensor(xor[:, None], dtype=gn.float32)
    lossf = nn.BCEWithLogitsLoss()
    for _ in range(500):   # full-batch training on the four points
        opt.zero_grad()
        loss = lossf(net(X), Y)
        loss.backward()
        opt.step()
    pred = (net(X).numpy().ravel() > 0).astype(int)
    c.check("001 xor", "2-4-1 tanh net trained on XOR: predictions", [0, 1, 1, 0], pred)


def sign_exercise(c: Checks) -> None:
    # Deck 000's exercise: every node computes f(S) = sign(S - 0.2). The weights that survive
    # in the text are those of the worked solution for the first record, x = (-1, +1):
    # H1 = sign(0.4*-1 + 0.1*1 - 0.2), H2 = sign(0.0*-1 - 0.4*1 - 0.2),
    # H3 = sign(-0.1*-1 + 0.4*1 - 0.2), Y = sign(0.2*H1 + 0.2*H2 + 0.3*H3 - 0.2).
    hidden = nn.Linear(2, 3, dtype="float64")
    hidden.weight.numpy()[...] = [[0.4, 0.1], [0.0, -0.4], [-0.1, 0.4]]
    hidden.bias.numpy()[...] = -0.2
    out = nn.Linear(3, 1, dtype="float64")
    out.weight.numpy()[...] = [[0.2, 0.2, 0.3]]
    out.bias.numpy()[...] = -0.2
    x = gn.tensor([[-1.0, 1.0]], dtype=gn.float64)
    s_h = hidden(x)
    h = gn.sign(s_h)
    s_y = out(h)
    c.check("000 exer", "S of H1, H2, H3 for x = (-1, +1)", [-0.5, -0.6, 0.3],
            s_h.numpy().ravel(), 1e-12)
    c.check("000 exer", "H1, H2, H3 = sign(S)", [-1, -1, 1], h.numpy().ravel().astype(int))
    c.check("000 exer", "S of Y = 0.2*-1 + 0.2*-1 + 0.3*1 - 0.2", -0.3,
            float(s_y.numpy().ravel()[0]), 1e-12)
    c.check("000 exer", "Y = sign(-0.3)", -1, int(gn.sign(s_y).numpy().ravel()[0]))
    # The test set of the exercise, as the text keeps it: ten records of two inputs (read
    # with the first record as x = (-1, +1), as the worked solution does) and a class row.
    pairs = np.array([[+1, -1], [+1, +1], [-1, -1], [-1, +1], [+1, +1], [+1, +1], [-1, -1],
                      [+1, -1], [-1, -1], [+1, +1]], dtype=np.float64)[:, ::-1].copy()
    labels = np.array([+1, +1, -1, -1, +1, +1, -1, +1, -1, -1])
    net = nn.Sequential(hidden, nn.Sign(), out, nn.Sign())
    pred = net(gn.tensor(pairs)).numpy().ravel().astype(int)
    c.note("000 exer", "predicted labels of the ten records", pred)
    c.note("000 exer", "accuracy", metrics.accuracy(labels, pred))
    prec = metrics.precision(labels, pred, average=None)   # per class, classes sorted: -1, +1
    rec = metrics.recall(labels, pred, average=None)
    for i, cls in enumerate((-1, +1)):
        c.note("000 exer", f"precision, recall of class {cls:+d}", [prec[i], rec[i]])
    # the second exercise's unit: f(S) = sign(S) with sign(0) = 0 (three-valued)
    c.check("000 exer", "sign(-0.3), sign(0), sign(0.4) (three-valued)", [-1, 0, 1],
            gn.sign(gn.tensor([-0.3, 0.0, 0.4])).numpy().astype(int))


def window_classifier(c: Checks) -> None:
    # Deck 001: s = U^T f(W x + b), x in R^20 (a window of 5 words of d = 4), W 8x20, U 8x1,
    # J = max(0, 1 + s_c - s); the derivation gives dJ/dW = delta_c x_c^T - delta x^T with
    # delta = U * f'(z), f logistic, f'(z) = f(z)(1 - f(z)).
    rng = np.random.default_rng(0)
    W = gn.tensor(rng.normal(0, 0.5, (8, 20)), dtype=gn.float64, requires_grad=True)
    b = gn.tensor(rng.normal(0, 0.5, (8, 1)), dtype=gn.float64, requires_grad=True)
    U = gn.tensor(rng.normal(0, 0.5, (8, 1)), dtype=gn.float64, requires_grad=True)
    x = rng.normal(0, 1, (20, 1))     # "museums in Paris are amazing"
    xc = rng.normal(0, 1, (20, 1))    # a corrupted window, "Not all museums in Paris"
    s = (U.T @ gn.sigmoid(W @ gn.tensor(x) + b)).sum()
    sc = (U.T @ gn.sigmoid(W @ gn.tensor(xc) + b)).sum()
    J = gn.relu(1 + sc - s)
    J.backward()
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    Wn, bn, Un = W.detach().numpy(), b.detach().numpy(), U.detach().numpy()
    a, ac = sig(Wn @ x + bn), sig(Wn @ xc + bn)
    delta, delta_c = Un * a * (1 - a), Un * ac * (1 - ac)
    c.check("001 window", "J = max(0, 1 + s_c - s) > 0 for this draw", True, float(J.item()) > 0)
    c.check("001 window", "dJ/dW = delta_c x_c^T - delta x^T", delta_c @ xc.T - delta @ x.T,
            W.grad.numpy(), 1e-12)
    c.check("001 window", "dJ/db = delta_c - delta", delta_c - delta, b.grad.numpy(), 1e-12)
    c.check("001 window", "dJ/dU = f(W x_c + b) - f(W x + b)", ac - a, U.grad.numpy(), 1e-12)


def run() -> Checks:
    c = Checks("Neurons, Boolean units, perceptrons (decks 000, 001, 002)")
    boolean_units(c)
    perceptron_rule(c)
    sign_exercise(c)
    window_classifier(c)
    return c


if __name__ == "__main__":
    raise SystemExit(run().finish())
