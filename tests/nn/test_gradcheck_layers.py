"""Every layer's backward against central differences in float64, for its input and for each
of its parameters (relative error < 1e-6), through the Module interface a user calls."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import nn


def _loss(m, x, R, seed):
    gn.manual_seed(seed)              # stochastic layers draw the same mask every call
    out = m(x)
    out = out[0] if isinstance(out, tuple) else out
    return (out * R).sum()


def check_layer(m, x, seed=0, eps=1e-6, rtol=1e-6, atol=1e-9, n_elem=12):
    m.double()
    rng = np.random.default_rng(1)
    x = np.asarray(x)
    floating = x.dtype.kind == "f"
    xt = gn.Tensor(x.astype(np.float64) if floating else x.copy(), requires_grad=floating)
    with gn.no_grad():
        probe = _loss(m, xt, 1.0, seed)
        out = m(xt)
    shape = (out[0] if isinstance(out, tuple) else out).shape
    R = rng.standard_normal(shape)
    m.zero_grad()
    _loss(m, xt, R, seed).backward()
    targets = [("input", xt)] if xt.requires_grad else []
    targets += list(m.named_parameters())
    assert targets, "nothing to check"
    worst = {}
    for name, t in targets:
        g = t.grad.numpy() if t.grad is not None else np.zeros_like(t.numpy())
        flat = t.numpy().reshape(-1)
        idx = rng.choice(flat.size, size=min(n_elem, flat.size), replace=False)
        errs = []
        for i in idx:
            old = flat[i]
            flat[i] = old + eps
            with gn.no_grad():
                up = float(_loss(m, xt, R, seed).numpy())
            flat[i] = old - eps
            with gn.no_grad():
                down = float(_loss(m, xt, R, seed).numpy())
            flat[i] = old
            num = (up - down) / (2 * eps)
            ana = g.reshape(-1)[i]
            err = abs(num - ana)
            if err > atol:
                errs.append(err / max(abs(num), abs(ana)))
        worst[name] = max(errs, default=0.0)
        assert worst[name] < rtol, f"{type(m).__name__}: {name} relative error {worst[name]:.2e}"
    del probe
    return worst


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


LAYERS = {
    "Linear": (lambda: nn.Linear(5, 4), (3, 5)),
    "PReLU": (lambda: nn.PReLU(4), (3, 4, 2)),
    "Maxout": (lambda: nn.Maxout(5, 3, pieces=3), (4, 5)),
    "APL": (lambda: nn.APL(5, hinges=2), (4, 5)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), (3, 5)),
    "ELU": (lambda: nn.ELU(), (3, 5)),
    "SELU": (lambda: nn.SELU(), (3, 5)),
    "Softplus-centered": (lambda: nn.Softplus(centered=True), (3, 5)),
    "Softsign": (lambda: nn.Softsign(), (3, 5)),
    "Sigmoid": (lambda: nn.Sigmoid(), (3, 5)),
    "Tanh": (lambda: nn.Tanh(), (3, 5)),
    "Softmax": (lambda: nn.Softmax(dim=-1), (3, 5)),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=-1), (3, 5)),
    "RReLU-train": (lambda: nn.RReLU(), (3, 5)),
    "Dropout-train": (lambda: nn.Dropout(0.3), (3, 5)),
    "DropConnectLinear-train": (lambda: nn.DropConnectLinear(5, 4, p=0.3), (3, 5)),
    "Conv1d": (lambda: nn.Conv1d(2, 3, 3, stride=2, padding=1), (2, 2, 9)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, padding="same"), (2, 2, 5, 5)),
    "Conv2d-stride-dilation": (lambda: nn.Conv2d(2, 2, 3, stride=2, dilation=2, padding=2),
                               (2, 2, 7, 7)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (2, 2, 4, 4)),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 2, 5, 5)),
    "LPPool2d": (lambda: nn.LPPool2d(2, 2), (2, 2, 4, 4)),
    "MaxAvgPool2d": (lambda: nn.MaxAvgPool2d(2), (2, 2, 4, 4)),
    "MaxPool1d": (lambda: nn.MaxPool1d(2), (2, 2, 6)),
    "AvgPool1d": (lambda: nn.AvgPool1d(2), (2, 2, 6)),
    "GlobalAvgPool2d": (lambda: nn.GlobalAvgPool2d(), (2, 3, 4, 4)),
    "BatchNorm1d-train": (lambda: nn.BatchNorm1d(4), (6, 4)),
    "BatchNorm2d-train": (lambda: nn.BatchNorm2d(3), (4, 3, 3, 3)),
    "LayerNorm": (lambda: nn.LayerNorm(5), (3, 5)),
    "Residual": (lambda: nn.Residual(nn.Sequential(nn.Linear(5, 5), nn.Tanh())), (3, 5)),
    "RNN": (lambda: nn.RNN(3, 4, num_layers=2, batch_first=True), (2, 5, 3)),
    "LSTM": (lambda: nn.LSTM(3, 4, bidirectional=True), (5, 2, 3)),
    "GRU": (lambda: nn.GRU(3, 4, batch_first=True), (2, 5, 3)),
    "ActivityRegularization": (lambda: nn.ActivityRegularization(l1=0.1, l2=0.1), (3, 5)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_gradients(name):
    build, shape = LAYERS[name]
    gn.manual_seed(0)
    m = build()
    if name.endswith("-train") or name in ("RNN", "LSTM", "GRU"):
        m.train()
    x = _x(*shape)
    if "Pool" in name and "Max" in name:
        # distinct values so the max is unique (finite differences cannot cross a tie)
        x = np.random.default_rng(0).permutation(x.size).reshape(shape) / x.size
    check_layer(m, x)


def test_embedding_gradient_reaches_only_used_rows():
    gn.manual_seed(0)
    check_layer(nn.Embedding(7, 3), np.array([[1, 2, 2], [0, 6, 1]]))
    # the padding row is used in forward but, as in PyTorch, never receives a gradient
    m = nn.Embedding(7, 3, padding_idx=0)
    m.zero_grad()
    m(np.array([[1, 2, 2], [0, 6, 1]])).sum().backward()
    np.testing.assert_array_equal(m.weight.grad.numpy()[[0, 3, 4, 5]], 0)
    np.testing.assert_array_equal(m.weight.grad.numpy()[2], 2)


def test_the_checker_catches_a_wrong_backward():
    class Bad(gn.Function):
        def forward(self, x):
            return x * x

        def backward(self, g):
            return g * self.needs_input_grad[0] * 1.0   # should be 2x

    class BadLayer(nn.Module):
        def forward(self, x):
            return Bad.apply(x)

    with pytest.raises(AssertionError, match="input relative error"):
        check_layer(BadLayer(), _x(3, 4))
