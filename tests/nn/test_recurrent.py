"""nn.RNN / LSTM / GRU and their cells: float64 gradient checks through the layer, PyTorch
parity, variable lengths, shapes, errors, dropout between layers."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import nn

# small GEMMs: one BLAS thread (the fixture's docstring in tests/conftest.py says why)
pytestmark = pytest.mark.usefixtures("one_blas_thread")

T, N, I, H = 4, 3, 2, 3


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_layer_gradcheck_float64_two_layers(mode, bidirectional):
    from glassnet.autograd.gradcheck import numerical_grad
    gn.manual_seed(0)
    layer = getattr(nn, mode)(I, H, num_layers=2, bidirectional=bidirectional,
                              batch_first=True).double()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((N, T, I))
    gn.gradcheck(lambda x: layer(x)[0], [x])                    # input gradient
    wout = rng.standard_normal((N, T, H * (2 if bidirectional else 1)))

    def loss(*_):
        with gn.no_grad():
            return float((layer(x)[0].numpy() * wout).sum())
    layer.zero_grad()
    (layer(x)[0] * wout).sum().backward()
    for name, p in layer.named_parameters():                    # every weight and bias
        num = numerical_grad(loss, [p.numpy()], 0)
        np.testing.assert_allclose(p.grad.numpy(), num, rtol=1e-6, atol=1e-8, err_msg=name)


# ------------------------------------------------------------- torch parity
def _torch_run(torch, tm, x, hs, kind):
    xt = torch.tensor(x, requires_grad=True)
    ht = [torch.tensor(h, requires_grad=True) for h in hs]
    if hs:
        out, st = tm(xt, tuple(ht) if kind == "LSTM" else ht[0])
    else:
        out, st = tm(xt)
    return xt, ht, out, (st if kind == "LSTM" else (st,))


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_h0", [False, True])
def test_parity_with_torch(torch, kind, num_layers, bidirectional, batch_first, with_h0):
    torch.manual_seed(0)
    Tn, Nn, In, Hn = 5, 3, 4, 6
    tm = getattr(torch.nn, kind)(In, Hn, num_layers=num_layers, bidirectional=bidirectional,
                                 batch_first=batch_first)
    gm = getattr(nn, kind)(In, Hn, num_layers=num_layers, bidirectional=bidirectional,
                           batch_first=batch_first)
    gm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    assert list(gm.state_dict()) == list(tm.state_dict())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((Nn, Tn, In) if batch_first else (Tn, Nn, In)).astype(np.float32)
    D = 2 if bidirectional else 1
    hs = [rng.standard_normal((num_layers * D, Nn, Hn)).astype(np.float32)
          for _ in range(2 if kind == "LSTM" else 1)] if with_h0 else []
    xt, ht, ot, st = _torch_run(torch, tm, x, hs, kind)
    xg = gn.Tensor(x, requires_grad=True)
    hg = [gn.Tensor(h, requires_grad=True) for h in hs]
    og, sg = gm(xg, (tuple(hg) if kind == "LSTM" else hg[0]) if hs else None)
    sg = sg if kind == "LSTM" else (sg,)
    wo = rng.standard_normal(ot.shape).astype(np.float32)
    ws = [rng.standard_normal(s.shape).astype(np.float32) for s in st]
    lt = (ot * torch.tensor(wo)).sum() + sum((s * torch.tensor(w)).sum() for s, w in zip(st, ws))
    lg = (og * wo).sum()
    for s, w in zip(sg, ws):
        lg = lg + (s * w).sum()
    lt.backward()
    lg.backward()
    tol = 1e-4
    np.testing.assert_allclose(og.numpy(), ot.detach().numpy(), atol=tol, rtol=0)
    for a, b in zip(sg, st):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), atol=tol, rtol=0)
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), atol=tol, rtol=0)
    gp = dict(gm.named_parameters())
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(gp[name].grad.numpy(), p.grad.numpy(), atol=tol, rtol=0,
                                   err_msg=name)
    for a, b in zip(hg, ht):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=tol, rtol=0)


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_cells_match_torch(torch, kind):
    torch.manual_seed(1)
    tc = getattr(torch.nn, kind + "Cell")(4, 5)
    gc = getattr(nn, kind + "Cell")(4, 5)
    gc.load_state_dict({k: v.detach().numpy() for k, v in tc.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    h = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)
    if kind == "LSTM":
        ht, ct = tc(torch.tensor(x), (torch.tensor(h), torch.tensor(h)))
        hg, cg = gc(x, (h, h))
        np.testing.assert_allclose(cg.numpy(), ct.detach().numpy(), atol=1e-5)
    else:
        ht, hg = tc(torch.tensor(x), torch.tensor(h)), gc(x, h)
    np.testing.assert_allclose(hg.numpy(), ht.detach().numpy(), atol=1e-5)


# ------------------------------------------------------------ variable lengths
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lengths_match_unpadded_sequences(kind, bidirectional):
    gn.manual_seed(0)
    layer = getattr(nn, kind)(I, H, num_layers=2, bidirectional=bidirectional,
                              batch_first=True).double()
    rng = np.random.default_rng(0)
    lengths = np.array([5, 2, 4])
    x = rng.standard_normal((3, 5, I))
    x[1, 2:] = 1e3   # garbage in the padding must not matter
    x[2, 4:] = -7.0
    xt = gn.Tensor(x, requires_grad=True)
    out, state = layer(xt, lengths=lengths)
    h_n = state[0] if kind == "LSTM" else state
    out.sum().backward()
    for n, L in enumerate(lengths):
        alone, st1 = layer(gn.Tensor(x[n:n + 1, :L]))
        h1 = st1[0] if kind == "LSTM" else st1
        np.testing.assert_allclose(out.numpy()[n, :L], alone.numpy()[0], atol=1e-12)
        np.testing.assert_allclose(h_n.numpy()[:, n], h1.numpy()[:, 0], atol=1e-12)
        assert np.all(out.numpy()[n, L:] == 0)
        assert np.all(xt.grad.numpy()[n, L:] == 0)   # padding gets no gradient
        xa = gn.Tensor(x[n:n + 1, :L], requires_grad=True)
        layer(xa)[0].sum().backward()
        np.testing.assert_allclose(xt.grad.numpy()[n, :L], xa.grad.numpy()[0], atol=1e-10)


@pytest.mark.torch
def test_lengths_match_torch_packed_sequences(torch):
    torch.manual_seed(0)
    tm = torch.nn.LSTM(I, H, bidirectional=True, batch_first=True)
    gm = nn.LSTM(I, H, bidirectional=True, batch_first=True)
    gm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 5, I)).astype(np.float32)
    lengths = np.array([3, 5, 1])
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths),
                                                     batch_first=True, enforce_sorted=False)
    po, (th, tc) = tm(packed)
    to, _ = torch.nn.utils.rnn.pad_packed_sequence(po, batch_first=True, total_length=5)
    go, (gh, gc) = gm(x, lengths=lengths)
    np.testing.assert_allclose(go.numpy(), to.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(gh.numpy(), th.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(gc.numpy(), tc.detach().numpy(), atol=1e-5)


# ------------------------------------------------------------------- misc API
def test_shapes_unbatched_and_errors():
    lstm = nn.LSTM(3, 5, num_layers=2)
    out, (h, c) = lstm(gn.randn(7, 3))
    assert out.shape == (7, 5) and h.shape == (2, 5) and c.shape == (2, 5)
    out, h = nn.GRU(3, 5, batch_first=True, bidirectional=True)(gn.randn(2, 7, 3))
    assert out.shape == (2, 7, 10) and h.shape == (2, 2, 5)
    with pytest.raises(ValueError, match="input_size=3"):
        lstm(gn.randn(7, 2, 4))
    with pytest.raises(ValueError, match="h0"):
        lstm(gn.randn(7, 2, 3), (gn.zeros(1, 2, 5), gn.zeros(2, 2, 5)))
    with pytest.raises(ValueError, match="lengths must lie"):
        lstm(gn.randn(7, 2, 3), lengths=[8, 1])
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 5, nonlinearity="sigmoid")
    assert "weight_hh_l1_reverse" in nn.RNN(3, 5, 2, bidirectional=True).state_dict()
    k = 1 / np.sqrt(5)
    assert all(np.abs(p.numpy()).max() <= k for p in lstm.parameters())


def test_dropout_between_layers_only_in_training():
    gn.manual_seed(0)
    lstm = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = gn.randn(4, 2, 3)
    a, b = lstm(x)[0].numpy(), lstm(x)[0].numpy()
    assert not np.allclose(a, b)
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].numpy(), lstm(x)[0].numpy())


def test_truncated_bptt_detached_state_cuts_the_graph():
    gn.manual_seed(0)
    rnn = nn.RNN(2, 4)
    x1, x2 = gn.randn(3, 1, 2, requires_grad=True), gn.randn(3, 1, 2)
    _, h = rnn(x1)
    out, _ = rnn(x2, h.detach())
    out.sum().backward()
    assert x1.grad is None and rnn.weight_hh_l0.grad is not None
