"""nn.Unflatten and nn.Upsample: PyTorch's signatures and results, errors, save/load."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import io, nn


def test_unflatten_matches_torch(torch):
    x = np.random.default_rng(0).standard_normal((3, 24, 5)).astype(np.float32)
    for dim, size in ((1, (2, 3, 4)), (-2, (4, -1)), (2, (5,)), (0, (1, 3))):
        ours = nn.Unflatten(dim, size)(x).numpy()
        ref = torch.nn.Unflatten(dim, size)(torch.tensor(x)).numpy()
        np.testing.assert_array_equal(ours, ref, err_msg=f"dim={dim}, size={size}")
    assert repr(nn.Unflatten(1, (2, 3))) == repr(torch.nn.Unflatten(1, (2, 3)))


def test_unflatten_gradient_and_errors():
    x = gn.tensor(np.arange(12.0).reshape(2, 6), requires_grad=True)
    y = nn.Unflatten(1, [2, 3])(x)
    assert y.shape == (2, 2, 3)
    y.backward(np.ones((2, 2, 3)))
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 6)))
    with pytest.raises(ValueError, match=r"Unflatten\(dim=1, unflattened_size=\(4, 2\)\): "
                                         r"input of shape \(2, 6\) has 6 values along dim 1"):
        nn.Unflatten(1, (4, 2))(x)
    with pytest.raises(ValueError, match="out of range"):
        nn.Unflatten(3, (2, 3))(x)
    with pytest.raises(ValueError, match="at most one -1"):
        nn.Unflatten(1, (-1, -1))
    with pytest.raises(TypeError, match="dim must be an int"):
        nn.Unflatten((2, 3), 1)


def test_upsample_layer_matches_torch(torch):
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 4)).astype(np.float32)
    for kw in ({"scale_factor": 2}, {"scale_factor": (2, 1)}, {"size": (10, 8)}):
        ours = nn.Upsample(**kw)(x).numpy()
        ref = torch.nn.Upsample(**kw)(torch.tensor(x)).numpy()
        np.testing.assert_array_equal(ours, ref, err_msg=str(kw))
    assert "scale_factor=2.0, mode='nearest'" in repr(nn.Upsample(scale_factor=2))  # torch's
    assert "size=(10, 8), mode='nearest'" in repr(nn.Upsample(size=(10, 8)))


def test_upsample_layer_errors():
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        nn.Upsample()
    with pytest.raises(ValueError, match="mode must be 'nearest'"):
        nn.Upsample(scale_factor=2, mode="bicubic")      # bilinear works now; bicubic not
    # as in torch, a factor below 1 downsamples (it used to be refused)
    assert nn.Upsample(scale_factor=0.5)(gn.zeros(1, 1, 4, 6)).shape == (1, 1, 2, 3)


def test_layers_save_and_load_in_a_sequential(tmp_path):
    gn.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 8), nn.Unflatten(1, (2, 2, 2)), nn.Upsample(scale_factor=2),
                      nn.Flatten())
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    io.save(m, tmp_path / "m.safetensors")
    m2 = io.load(tmp_path / "m.safetensors")
    assert isinstance(m2[1], nn.Unflatten) and m2[1].unflattened_size == (2, 2, 2)
    np.testing.assert_array_equal(m2(x).numpy(), m(x).numpy())
    assert m(x).shape == (3, 32)
