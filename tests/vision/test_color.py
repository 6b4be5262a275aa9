"""RGB images (issue 17): uint8 <-> float, HWC <-> CHW, grayscale by the ITU-R 601-2 luma
(torchvision's formula on tensors, Pillow's on arrays and PIL images), per-channel
statistics for Normalize, and a real colour photograph end to end."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.vision import color, transforms
from glassnet.vision.transforms import functional as F

R = np.random.default_rng(0)


def _rgb(h=5, w=7):
    return R.integers(0, 256, (h, w, 3)).astype(np.uint8)


def test_grayscale_of_tensor_images_is_torchvisions_formula():
    x = R.random((2, 3, 4, 5)).astype(np.float32)
    got = F.rgb_to_grayscale(gn.tensor(x)).numpy()
    want = 0.2989 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert got.shape == (2, 1, 4, 5) and got.dtype == np.float32
    three = F.rgb_to_grayscale(gn.tensor(x), num_output_channels=3).numpy()
    assert three.shape == x.shape and (three == got).all()
    u = gn.tensor(_rgb().transpose(2, 0, 1))                        # uint8 tensor image
    a = u.numpy().astype(np.float32)
    trunc = (0.2989 * a[0] + 0.587 * a[1] + 0.114 * a[2]).astype(np.uint8)
    np.testing.assert_array_equal(F.rgb_to_grayscale(u).numpy()[0], trunc)
    one = gn.tensor(x[:, :1])
    assert F.rgb_to_grayscale(one).numpy().tolist() == x[:, :1].tolist()      # passes through
    with pytest.raises(TypeError, match="1 or 3 channels"):
        F.rgb_to_grayscale(gn.tensor(x[:, :2]))
    with pytest.raises(ValueError, match="num_output_channels"):
        transforms.Grayscale(2)


def test_grayscale_of_arrays_and_pil_images_is_pillows():
    Image = pytest.importorskip("PIL.Image")
    for _ in range(3):
        rgb = _rgb(9, 11)
        want = np.array(Image.fromarray(rgb).convert("L"))
        np.testing.assert_array_equal(F.rgb_to_grayscale(rgb), want)
        np.testing.assert_array_equal(transforms.Grayscale()(rgb), want)
        pil = transforms.Grayscale()(Image.fromarray(rgb))
        assert pil.mode == "L" and (np.array(pil) == want).all()
        assert transforms.Grayscale(3)(Image.fromarray(rgb)).mode == "RGB"
    from glassnet.vision.transforms._image import Images
    batch = np.stack([_rgb(), _rgb()])                               # (N, H, W, 3) samples
    out = transforms.batched(transforms.Grayscale())(Images.stack(batch)).image()
    assert out.shape == (2, 5, 7)
    np.testing.assert_array_equal(out.numpy()[1], F.rgb_to_grayscale(batch[1]))


def test_convert_image_dtype_both_ways_like_torchvision():
    u = np.array([0, 1, 127, 128, 254, 255], np.uint8)
    f = F.convert_image_dtype(gn.tensor(u))
    np.testing.assert_allclose(f.numpy(), u / np.float32(255), rtol=1e-7)
    assert f.dtype == np.float32
    back = F.convert_image_dtype(f, np.uint8).numpy()
    np.testing.assert_array_equal(back, u)                           # the round trip holds
    np.testing.assert_array_equal(F.convert_image_dtype(gn.tensor([0.0, 0.5, 0.999, 1.0]),
                                                        np.uint8).numpy(), [0, 127, 255, 255])
    np.testing.assert_array_equal(F.convert_image_dtype(u, np.int16), u.astype(np.int16) * 128)
    assert isinstance(F.convert_image_dtype(u, np.float64), np.ndarray)
    with pytest.raises(RuntimeError, match="safely"):
        F.convert_image_dtype(gn.tensor([0.5]), np.int64)
    t = transforms.ConvertImageDtype(np.float64)
    assert t(gn.tensor(u)).dtype == np.float64 and "float64" in repr(t)


def test_layouts_and_channel_statistics():
    img = _rgb()
    chw = color.hwc_to_chw(img)
    assert chw.shape == (3, 5, 7) and np.shares_memory(chw, img)
    np.testing.assert_array_equal(color.chw_to_hwc(chw), img)
    np.testing.assert_array_equal(transforms.ToTensor()(img).numpy(), chw / np.float32(255))
    batch = R.random((4, 6, 5, 3))
    assert color.hwc_to_chw(batch).shape == (4, 3, 6, 5)
    x = gn.tensor(batch, requires_grad=True)                          # the gradient follows
    (color.hwc_to_chw(x) * gn.tensor(np.arange(3.0).reshape(3, 1, 1))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[..., 2], 2.0)
    with pytest.raises(ValueError, match="at least 3 axes"):
        color.hwc_to_chw(np.zeros((4, 4)))
    nchw = R.random((8, 3, 6, 6)) * [[[2.0]], [[3.0]], [[0.5]]] + [[[1.0]], [[-1.0]], [[0.0]]]
    mean, std = color.channel_stats(nchw)
    np.testing.assert_allclose(mean, nchw.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(std, nchw.std(axis=(0, 2, 3)))
    assert color.channel_stats(nchw.transpose(0, 2, 3, 1), channel_axis=-1)[0] == \
        pytest.approx(mean)
    z = transforms.Normalize(mean, std)(gn.tensor(nchw)).numpy()
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1, rtol=1e-12)


def test_a_real_colour_photograph_end_to_end():
    datasets = pytest.importorskip("sklearn.datasets")
    Image = pytest.importorskip("PIL.Image")
    photo = datasets.load_sample_image("china.jpg")                 # (427, 640, 3) uint8
    x = transforms.ToTensor()(photo)
    assert x.shape == (3, 427, 640) and 0 <= x.numpy().min() and x.numpy().max() <= 1
    np.testing.assert_array_equal(F.convert_image_dtype(x, np.uint8).numpy(),
                                  color.hwc_to_chw(photo))
    np.testing.assert_array_equal(transforms.Grayscale()(photo),
                                  np.array(Image.fromarray(photo).convert("L")))
    mean, std = color.channel_stats(x.numpy()[None])
    assert len(mean) == 3 and all(0 < s < 0.5 for s in std)
    # a Sobel kernel on every channel at once: the depthwise (groups=3) convolution
    sobel = np.repeat(gn.nn.kernels.sobel_x()[None, None], 3, axis=0)        # (3, 1, 3, 3)
    maps = gn.functional.conv2d(x[None], sobel, padding=1, groups=3).numpy()[0]
    for c in range(3):
        one = gn.functional.conv2d(x[c], gn.nn.kernels.sobel_x(), padding=1).numpy()
        np.testing.assert_allclose(maps[c], one, rtol=1e-5, atol=1e-5)
