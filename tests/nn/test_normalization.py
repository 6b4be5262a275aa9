"""nn.BatchNorm1d / BatchNorm2d against PyTorch: outputs, gradients and running statistics
over several training steps, then evaluation mode."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn

from ._layer_parity import close


R = np.random.default_rng(0)


def _same_affine(torch, ours, theirs, C):
    """Random weight and bias in the torch layer, copied into ours."""
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(R.standard_normal(C).astype(np.float32)))
        theirs.bias.copy_(torch.from_numpy(R.standard_normal(C).astype(np.float32)))
    ours.weight.numpy()[...] = theirs.weight.detach().numpy()
    ours.bias.numpy()[...] = theirs.bias.detach().numpy()


def _step_both(torch, ours, theirs, x, g):
    """Forward and backward of x with output gradient g in both layers; outputs and input
    gradients compared."""
    tx = torch.from_numpy(x).requires_grad_()
    ty = theirs(tx)
    ty.backward(torch.from_numpy(g))
    gx = gn.tensor(x, requires_grad=True)
    y = ours(gx)
    y.backward(g)
    close(y.numpy(), ty.detach().numpy())
    close(gx.grad.numpy(), tx.grad.numpy())


def _same_state(ours, theirs):
    """Parameter gradients (summed over the steps) and running statistics compared."""
    close(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), 1e-3)
    close(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), 1e-3)
    close(ours.running_mean, theirs.running_mean.numpy())
    close(ours.running_var, theirs.running_var.numpy())


@pytest.mark.parametrize("dims", [2, 4])
def test_batch_norm_matches_torch(torch, dims):
    C = 5
    shape = (8, C) if dims == 2 else (8, C, 4, 3)
    ours = nn.BatchNorm1d(C, momentum=0.2) if dims == 2 else nn.BatchNorm2d(C, momentum=0.2)
    theirs = (torch.nn.BatchNorm1d if dims == 2 else torch.nn.BatchNorm2d)(C, momentum=0.2)
    _same_affine(torch, ours, theirs, C)
    for _ in range(4):   # running statistics after several training steps
        x = (R.standard_normal(shape) * 3 + 1).astype(np.float32)
        g = R.standard_normal(shape).astype(np.float32)
        _step_both(torch, ours, theirs, x, g)
    _same_state(ours, theirs)   # gradients summed over 4 steps
    ours.eval()
    theirs.eval()
    x = R.standard_normal(shape).astype(np.float32)
    _step_both(torch, ours, theirs, x, np.ones(shape, np.float32))   # the gradient of sum()
    assert set(ours.state_dict()) == set(theirs.state_dict())


def test_batch_norm2d_matches_torch_at_a_real_size_on_two_threads(torch):
    """A ResNet-sized activation (32, 16, 16, 16): many blocks of samples, split over two
    threads (above PARALLEL_MIN_ELEMENTS), against torch.nn.BatchNorm2d in training and
    in eval, outputs, input/weight/bias gradients and running statistics."""
    from glassnet.functional import normalization as FN
    shape = (32, 16, 16, 16)
    assert FN._blocks(np.empty(shape).reshape(32, 16, -1))[1] > 1
    assert 2 * np.prod(shape) >= gn.backend.PARALLEL_MIN_ELEMENTS
    prev = gn.get_num_threads()
    gn.set_num_threads(2)
    try:
        ours, theirs = nn.BatchNorm2d(16), torch.nn.BatchNorm2d(16)
        _same_affine(torch, ours, theirs, 16)
        for mode in ("train", "eval"):
            getattr(ours, mode)()
            getattr(theirs, mode)()
            x = (R.standard_normal(shape) * 2 + 0.5).astype(np.float32)
            g = R.standard_normal(shape).astype(np.float32)
            _step_both(torch, ours, theirs, x, g)
        _same_state(ours, theirs)
    finally:
        gn.set_num_threads(prev)
