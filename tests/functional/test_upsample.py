"""functional.upsample: the UpsampleNearest Function (float64 gradient check) and
upsample_nearest against PyTorch."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import functional as F
from glassnet.functional.upsample import UpsampleNearest, upsample_nearest


def test_upsample_gradcheck():
    x = np.random.default_rng(0).standard_normal((2, 3, 3, 4))
    gn.gradcheck(lambda t: upsample_nearest(t, scale_factor=2), [x])
    gn.gradcheck(lambda t: upsample_nearest(t, scale_factor=(1, 3)), [x])
    rep = gn.gradcheck(lambda t: UpsampleNearest.apply(t, scale=(3, 2)), [x])
    assert rep[0] < 1e-6


def test_upsample_is_block_copy_and_sums_blocks_back():
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    t = gn.tensor(x, dtype="float64", requires_grad=True)
    y = upsample_nearest(t, scale_factor=(2, 3))
    assert y.shape == (1, 1, 4, 9)
    np.testing.assert_array_equal(y.numpy()[0, 0], np.kron(x[0, 0], np.ones((2, 3))))
    g = np.random.default_rng(1).standard_normal((1, 1, 4, 9))
    y.backward(g)
    want = g[0, 0].reshape(2, 2, 3, 3).sum(axis=(1, 3))
    np.testing.assert_allclose(t.grad.numpy()[0, 0], want, rtol=1e-12)


@pytest.mark.filterwarnings("ignore:`nn.functional.upsample_nearest` is deprecated")
def test_upsample_matches_torch(torch):
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 4)).astype(np.float32)
    tx = torch.tensor(x)
    for kw in ({"scale_factor": 2}, {"scale_factor": (1, 3)}, {"size": (10, 12)},
               {"size": 20}):
        ours = F.upsample_nearest(gn.tensor(x), **kw).numpy()
        ref = torch.nn.functional.upsample_nearest(tx, **kw)
        np.testing.assert_array_equal(ours, ref.numpy(), err_msg=str(kw))
        ref = torch.nn.functional.interpolate(tx, mode="nearest", **kw)
        np.testing.assert_array_equal(ours, ref.numpy(), err_msg=str(kw))


def test_upsample_rejects_bad_input():
    with pytest.raises(ValueError, match="scale_factor"):
        upsample_nearest(gn.randn(1, 1, 2, 2), scale_factor=1.5)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        upsample_nearest(gn.randn(2, 2), scale_factor=2)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        upsample_nearest(gn.randn(1, 1, 2, 2))
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        upsample_nearest(gn.randn(1, 1, 2, 2), size=4, scale_factor=2)
    with pytest.raises(ValueError, match=r"size \(5, 4\) is not a whole multiple .* \(2, 2\)"):
        upsample_nearest(gn.randn(1, 1, 2, 2), size=(5, 4))
