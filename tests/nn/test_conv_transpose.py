"""nn.ConvTranspose2d / F.conv_transpose2d: gradcheck, PyTorch parity, adjointness, errors."""
import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import nn
from glassnet.autograd.gradcheck import gradcheck
from glassnet.functional import conv2d

# (N, C_in, C_out, H, W, k, stride, padding, output_padding, dilation, groups)
CASES = [
    (2, 3, 4, 5, 6, 3, 2, 1, 1, 1, 1),
    (2, 4, 6, 7, 7, 4, 2, 1, 0, 1, 2),
    (1, 2, 3, 4, 5, 3, 1, 0, 0, 2, 1),
    (3, 6, 4, 3, 4, 3, 3, 2, 2, 1, 2),
    (2, 2, 2, 3, 3, 3, 2, 0, 1, 3, 1),
    (2, 1, 8, 4, 4, 4, 2, 1, 1, 1, 1),
    (2, 16, 1, 7, 7, 4, 2, 1, 0, 1, 1),
]


@pytest.mark.parametrize("case", CASES[:5])
def test_gradcheck_float64(case):
    N, ci, co, H, W, k, s, p, op, d, g = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, ci, H, W))
    w = rng.standard_normal((ci, co // g, k, k))
    b = rng.standard_normal(co)
    gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, s, p, op, g, d), [x, w, b])


def test_is_the_adjoint_of_conv2d():
    """<conv2d(y, W), x> == <y, conv_transpose2d(x, W)> for any x, y."""
    rng = np.random.default_rng(2)
    w = rng.standard_normal((3, 5, 4, 4))          # conv2d: 5 -> 3 channels
    y = rng.standard_normal((2, 5, 14, 14))
    x = rng.standard_normal((2, 3, 7, 7))
    cy = conv2d(y, w, stride=2, padding=1).numpy()
    tx = F.conv_transpose2d(gn.tensor(x), gn.tensor(w), stride=2, padding=1).numpy()
    assert cy.shape == x.shape and tx.shape == y.shape
    np.testing.assert_allclose(np.sum(cy * x), np.sum(y * tx), rtol=1e-10)


@pytest.mark.parametrize("case", CASES)
def test_parity_with_torch_float32(case):
    torch = pytest.importorskip("torch")
    N, ci, co, H, W, k, s, p, op, d, g = case
    gn.manual_seed(0)
    layer = nn.ConvTranspose2d(ci, co, k, stride=s, padding=p, output_padding=op, groups=g,
                               dilation=d)
    ref = torch.nn.ConvTranspose2d(ci, co, k, stride=s, padding=p, output_padding=op, groups=g,
                                   dilation=d)
    assert tuple(ref.weight.shape) == layer.weight.shape
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.numpy()))
        ref.bias.copy_(torch.from_numpy(layer.bias.numpy()))
    rng = np.random.default_rng(3)
    x = rng.standard_normal((N, ci, H, W)).astype(np.float32)
    xg = gn.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y, yt = layer(xg), ref(xt)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), atol=1e-4, rtol=1e-4)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(gn.tensor(gy))
    yt.backward(torch.from_numpy(gy))
    for a, b in ((xg.grad, xt.grad), (layer.weight.grad, ref.weight.grad),
                 (layer.bias.grad, ref.bias.grad)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-4, rtol=1e-4)


def test_initialisation_matches_torch_bounds():
    layer = nn.ConvTranspose2d(8, 6, 3, groups=2)
    assert layer.weight.shape == (8, 3, 3, 3)
    bound = 1 / np.sqrt(3 * 3 * 3)      # fan-in from the weight's second axis, as torch
    assert np.abs(layer.weight.numpy()).max() <= bound
    assert np.abs(layer.bias.numpy()).max() <= bound
    assert np.abs(layer.weight.numpy()).max() > 0.5 * bound


def test_output_size_argument():
    layer = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    x = gn.randn(1, 4, 7, 7)
    assert layer(x).shape == (1, 2, 13, 13)
    assert layer(x, output_size=(14, 14)).shape == (1, 2, 14, 14)
    assert layer(x, output_size=(1, 2, 13, 14)).shape == (1, 2, 13, 14)
    assert layer.output_shape((1, 4, 7, 7), (14, 13)) == (1, 2, 14, 13)
    with pytest.raises(ValueError, match="valid sizes .* range from 13 to 14"):
        layer(x, output_size=(15, 15))


def test_output_size_parity_with_torch():
    torch = pytest.importorskip("torch")
    layer = nn.ConvTranspose2d(4, 2, 3, stride=3, padding=1)
    ref = torch.nn.ConvTranspose2d(4, 2, 3, stride=3, padding=1)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.numpy()))
        ref.bias.copy_(torch.from_numpy(layer.bias.numpy()))
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 5)).astype(np.float32)
    y = layer(gn.tensor(x), output_size=[15, 14]).numpy()
    yt = ref(torch.from_numpy(x), output_size=[15, 14]).detach().numpy()
    np.testing.assert_allclose(y, yt, atol=1e-5)


def test_unbatched_and_no_bias():
    layer = nn.ConvTranspose2d(3, 2, 2, stride=2, bias=False)
    assert layer.bias is None
    x = gn.randn(3, 4, 4)
    y = layer(x)
    assert y.shape == (2, 8, 8)
    np.testing.assert_allclose(y.numpy(), layer(x.reshape(1, 3, 4, 4)).numpy()[0], atol=1e-6)
    assert "bias=False" in repr(layer)


def test_clear_errors():
    x = gn.randn(1, 4, 5, 5)
    with pytest.raises(ValueError, match="input has 3 channels"):
        F.conv_transpose2d(gn.randn(1, 3, 5, 5), gn.randn(4, 2, 3, 3))
    with pytest.raises(ValueError, match="output_padding.*smaller than"):
        F.conv_transpose2d(x, gn.randn(4, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="output_padding must be smaller"):
        nn.ConvTranspose2d(4, 2, 3, stride=1, output_padding=1)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.ConvTranspose2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        F.conv_transpose2d(gn.randn(1, 3, 5, 5), gn.randn(3, 1, 3, 3), groups=2)
    with pytest.raises(ValueError, match="padding must be an int"):
        F.conv_transpose2d(x, gn.randn(4, 2, 3, 3), padding="same")
    with pytest.raises(ValueError, match="padding_mode='zeros'"):
        nn.ConvTranspose2d(4, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="stride"):
        F.conv_transpose2d(x, gn.randn(4, 2, 3, 3), stride=0)
    with pytest.raises(ValueError, match="output size along height would be"):
        F.conv_transpose2d(gn.randn(1, 4, 1, 1), gn.randn(4, 2, 1, 1), padding=1)
    with pytest.raises(ValueError, match=r"bias of shape \(2,\)"):
        F.conv_transpose2d(x, gn.randn(4, 2, 3, 3), gn.randn(3))
    with pytest.raises(ValueError, match="expected input with 4 channels"):
        nn.ConvTranspose2d(4, 2, 3)(gn.randn(1, 3, 5, 5))


def test_conv_then_transpose_trains_in_a_sequential():
    gn.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 4, stride=2, padding=1), nn.ReLU(),   # 8 -> 4
                        nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1))
    x = gn.rand(8, 1, 8, 8)
    opt = gn.optim.Adam(net.parameters(), lr=1e-2)
    first = None
    for _ in range(60):
        loss = ((net(x) - x) ** 2).mean()
        first = first if first is not None else float(loss.numpy())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.numpy()) < 0.3 * first
