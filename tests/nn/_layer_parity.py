"""A layer against its PyTorch twin: the same parameters, one forward and one backward with
the same random output gradient, outputs and every gradient compared."""
import numpy as np

import glassnet as gn

R = np.random.default_rng(0)


def close(a, b, tol=1e-4):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def layer_parity(torch, layer, tlayer, x):
    """Copy ``layer``'s parameters into the torch layer, run both forward and backward with
    one random output gradient, and compare outputs, input and parameter gradients."""
    params = dict(layer.named_parameters())
    with torch.no_grad():
        for name, tp in tlayer.named_parameters():
            tp.copy_(torch.from_numpy(params[name].numpy()))
    tx = torch.from_numpy(x).requires_grad_()
    ty = tlayer(tx)
    g = R.standard_normal(ty.shape).astype(np.float32)
    ty.backward(torch.from_numpy(g))
    gx = gn.tensor(x, requires_grad=True)
    y = layer(gx)
    y.backward(g)
    close(y.numpy(), ty.detach().numpy())
    close(gx.grad.numpy(), tx.grad.numpy())
    assert set(params) == {n for n, _ in tlayer.named_parameters()}
    for name, tp in tlayer.named_parameters():
        close(params[name].grad.numpy(), tp.grad.numpy())
