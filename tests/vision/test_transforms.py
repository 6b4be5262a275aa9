"""glassnet.vision.transforms against torchvision's formulas (torchvision itself is not
installed here; the references below are its recipes written with torch, or by hand), and
the batch path of the transforms."""
from __future__ import annotations

import math

import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd.tensor import Tensor
from glassnet.vision import transforms as T
from glassnet.vision.transforms import functional as F
from glassnet.vision.transforms._image import Images


def _img(h=28, w=28, c=None, seed=0):
    r = np.random.default_rng(seed)
    shape = (h, w) if c is None else (h, w, c)
    return r.integers(0, 256, shape).astype(np.uint8)


# ------------------------------------------------------------------ ToTensor / Normalize
def test_to_tensor_is_x_over_255_channels_first(torch):
    for a in (_img(), _img(5, 7, 3), _img(4, 6, 1)):
        t = T.ToTensor()(a)
        ref = torch.from_numpy(np.ascontiguousarray((a if a.ndim == 3 else a[:, :, None])
                                                    .transpose(2, 0, 1))).float().div(255)
        assert t.dtype == np.float32 and t.numpy().flags.c_contiguous
        np.testing.assert_array_equal(t.numpy(), ref.numpy())       # bit for bit
    f = np.random.rand(4, 5, 2)                                      # float64: not scaled
    t = T.ToTensor()(f)
    assert t.dtype == np.float64 and t.shape == (2, 4, 5)
    np.testing.assert_array_equal(t.numpy(), f.transpose(2, 0, 1))
    with pytest.raises(ValueError, match="2/3 dimensional"):
        T.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))
    with pytest.raises(TypeError, match="PIL Image or ndarray"):
        T.ToTensor()(Tensor(np.zeros((1, 2, 2), np.float32)))


def test_to_tensor_of_pil_images():
    Image = pytest.importorskip("PIL.Image", reason="Pillow is not installed")
    a = _img(6, 5, 3)
    for pil, want in ((Image.fromarray(a), a.transpose(2, 0, 1) / 255),
                      (Image.fromarray(a[:, :, 0]), a[None, :, :, 0] / 255),
                      (Image.fromarray(a[:, :, 0] > 127), (a[None, :, :, 0] > 127) * 1.0)):
        t = T.ToTensor()(pil)
        assert t.dtype == np.float32
        np.testing.assert_allclose(t.numpy(), want, rtol=0, atol=1e-7)
    flipped = T.RandomHorizontalFlip(p=1.0)(Image.fromarray(a))
    assert type(flipped).__module__.startswith("PIL") and (np.asarray(flipped) == a[:, ::-1]).all()


def test_normalize_formula(torch):
    x = T.ToTensor()(_img(6, 6, 3))
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    out = T.Normalize(mean, std)(x)
    ref = (torch.from_numpy(x.numpy()) - torch.tensor(mean).view(-1, 1, 1)) \
        / torch.tensor(std).view(-1, 1, 1)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    batch = Tensor(np.stack([x.numpy()] * 2))                       # (N, C, H, W) works too
    np.testing.assert_array_equal(T.Normalize(mean, std)(batch).numpy()[1], out.numpy())
    same = T.Normalize((0.5,), (0.5,), inplace=True)(x)
    assert same is x and np.allclose(x.numpy(), 2 * T.ToTensor()(_img(6, 6, 3)).numpy() - 1)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.0,), (0.0,))(x)
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize((0.0,), (1.0,))(Tensor(np.zeros((1, 2, 2), np.uint8)))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        T.Normalize((0.0,), (1.0,))(Tensor(np.zeros((2, 2), np.float32)))
    with pytest.raises(TypeError, match="Tensor Image"):
        T.Normalize((0.0,), (1.0,))(_img())


# ------------------------------------------------------------------ random transforms
def test_flip_and_crop():
    a = _img(5, 6)
    assert (T.RandomHorizontalFlip(p=1.0)(a) == a[:, ::-1]).all()
    assert (T.RandomHorizontalFlip(p=0.0)(a) == a).all()
    t = Tensor(T.ToTensor()(a).numpy())
    assert (T.RandomHorizontalFlip(p=1.0)(t).numpy() == t.numpy()[..., ::-1]).all()
    padded = np.pad(a, 2)
    seen = set()
    for _ in range(300):
        c = T.RandomCrop((5, 6), padding=2)(a)
        assert c.shape == (5, 6)
        pos = [(i, j) for i in range(5) for j in range(5) if (padded[i:i + 5, j:j + 6] == c).all()]
        assert pos
        seen.update(pos)
    assert len(seen) == 25                              # every window position occurs
    assert T.RandomCrop(8, pad_if_needed=True)(a).shape == (8, 8)
    with pytest.raises(ValueError, match="Required crop size"):
        T.RandomCrop(7)(a)
    edge = T.RandomCrop((5, 6), padding=(0, 3), padding_mode="edge")(a)
    assert edge.shape == (5, 6)


def test_random_transforms_follow_manual_seed():
    t = T.Compose([T.RandomCrop(28, padding=4), T.RandomHorizontalFlip(), T.RandomRotation(20)])
    gn.manual_seed(5)
    a = [t(_img()) for _ in range(4)]
    gn.manual_seed(5)
    b = [t(_img()) for _ in range(4)]
    assert all((x == y).all() for x, y in zip(a, b)) and not (a[0] == a[1]).all()


def _tv_rotate(torch, img, angle, mode, fill):
    """torchvision's tensor rotate, from its recipe: the inverse affine matrix of -angle, the
    affine grid on half-pixel centres, grid_sample (zeros outside, align_corners=False) on the
    image with a ones channel appended, then v * m + (1 - m) * fill (nearest: fill where m < .5)."""
    c, h, w = img.shape
    rot = math.radians(-angle)
    matrix = [math.cos(rot), math.sin(rot), 0.0, -math.sin(rot), math.cos(rot), 0.0]
    theta = torch.tensor(matrix, dtype=torch.float32).reshape(1, 2, 3)
    base = torch.empty(1, h, w, 3)
    base[..., 0].copy_(torch.linspace(-w * 0.5 + 0.5, w * 0.5 + 0.5 - 1, steps=w))
    base[..., 1].copy_(torch.linspace(-h * 0.5 + 0.5, h * 0.5 + 0.5 - 1, steps=h).unsqueeze(-1))
    base[..., 2].fill_(1)
    grid = base.view(1, h * w, 3).bmm(theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h]))
    x = torch.cat([torch.from_numpy(img)[None], torch.ones(1, 1, h, w)], 1)
    out = torch.nn.functional.grid_sample(x, grid.view(1, h, w, 2), mode=mode,
                                          padding_mode="zeros", align_corners=False)[0]
    mask, out = out[-1:].expand(c, h, w), out[:-1]
    if mode == "nearest":
        out = torch.where(mask < 0.5, torch.full_like(out, fill), out)
    else:
        out = out * mask + (1.0 - mask) * fill
    return out.numpy()


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("angle", [17.0, -33.5, 90.0, 143.0])
def test_rotation_matches_torchvisions_recipe(torch, mode, angle):
    img = T.ToTensor()(_img(21, 26, 2))
    ours = F.rotate(img, angle, interpolation=T.InterpolationMode(mode), fill=[0.25, 0.25]).numpy()
    ref = _tv_rotate(torch, img.numpy(), angle, mode, 0.25)
    if mode == "bilinear":
        np.testing.assert_allclose(ours, ref, atol=2e-5)
    elif angle != 90.0:   # at 90 degrees on this shape every point is a rounding tie
        # a float32 grid may round a near-tie the other way in a few pixels
        assert (np.abs(ours - ref) < 1e-6).mean() > 0.99


def test_rotation_by_90_degrees_is_rot90_and_random_rotation_range():
    a = _img(9, 9)
    np.testing.assert_array_equal(F.rotate(a, 90.0), np.rot90(a, 1))     # counter-clockwise
    np.testing.assert_array_equal(F.rotate(a, -90.0), np.rot90(a, -1))
    t = T.RandomRotation((30, 30), interpolation=T.InterpolationMode.BILINEAR)
    np.testing.assert_array_equal(t(a), F.rotate(a, 30.0, T.InterpolationMode.BILINEAR, fill=0))
    # torchvision's size: ceil(4.5 + 4.5 * sqrt(2)) - floor(4.5 - 4.5 * sqrt(2)) = 11 + 2
    assert F.rotate(a, 45.0, expand=True).shape == (13, 13)
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match="BILINEAR"):
        T.RandomRotation(3, interpolation=T.InterpolationMode.BICUBIC)


@pytest.mark.parametrize("size", [(40, 33), (13, 9), (28, 50), 14])
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_matches_torch_interpolate(torch, size, antialias):
    img = T.ToTensor()(_img(28, 20, 3))
    ours = T.Resize(size, antialias=antialias)(img).numpy()
    oh, ow = size if isinstance(size, tuple) else (int(14 * 28 / 20), 14)
    ref = torch.nn.functional.interpolate(torch.from_numpy(img.numpy())[None], size=(oh, ow),
                                          mode="bilinear", align_corners=False,
                                          antialias=antialias)[0].numpy()
    np.testing.assert_allclose(ours, ref, atol=2e-6)
    near = T.Resize(size, interpolation=T.InterpolationMode.NEAREST)(img).numpy()
    ref = torch.nn.functional.interpolate(torch.from_numpy(img.numpy())[None], size=(oh, ow),
                                          mode="nearest")[0].numpy()
    np.testing.assert_array_equal(near, ref)


def test_center_crop_and_pad():
    a = _img(6, 8)
    np.testing.assert_array_equal(T.CenterCrop(4)(a), a[1:5, 2:6])
    big = T.CenterCrop((8, 10))(a)
    assert big.shape == (8, 10) and (big[1:7, 1:9] == a).all() and big[0].sum() == 0
    np.testing.assert_array_equal(T.Pad((1, 2, 3, 4), fill=7)(a),
                                  np.pad(a, ((2, 4), (1, 3)), constant_values=7))
    np.testing.assert_array_equal(T.Pad(2, padding_mode="reflect")(a), np.pad(a, 2, mode="reflect"))
    with pytest.raises(ValueError, match="1, 2, or 4 element"):
        T.Pad((1, 2, 3))


def test_batched_transforms_equal_one_by_one():
    """The batch path gives the values, and takes the random numbers, of N single calls."""
    t = T.Compose([T.RandomCrop(28, padding=4), T.RandomHorizontalFlip(),
                   T.RandomRotation(15, interpolation=T.InterpolationMode.BILINEAR),
                   T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    imgs = np.stack([_img(seed=s) for s in range(6)])
    gn.manual_seed(9)
    singles = np.stack([t(im).numpy() for im in imgs])
    gn.manual_seed(9)
    batch = T.batched(t)(Images.stack(imgs)).image()
    assert batch.shape == (6, 1, 28, 28) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch.numpy(), singles)
    assert T.batched(T.Compose([T.ToTensor(), T.Lambda(lambda x: x)])) is None

    class MyFlip(T.RandomHorizontalFlip):          # a user's own forward: never batched
        def forward(self, img):
            return img
    assert T.batched(MyFlip()) is None and T.batched(None) is not None


# ------------------------------------------------------- the per-sample fast paths
def test_to_tensor_fast_path_equals_the_general_path():
    img = np.random.default_rng(3).integers(0, 256, (28, 28)).astype(np.uint8)
    fast = T.ToTensor()(img)
    general = T.ToTensor()(img[:, :, None])          # (H, W, 1): the general path
    assert fast.shape == (1, 28, 28) and fast.dtype == np.float32
    np.testing.assert_array_equal(fast.numpy(), general.numpy())
    np.testing.assert_array_equal(fast.numpy()[0], img.astype(np.float32) / np.float32(255))


def test_normalize_cache_follows_changes_of_mean_std_and_dtype():
    x = T.ToTensor()(np.arange(16, dtype=np.uint8).reshape(4, 4))
    n = T.Normalize((0.5,), (0.25,))
    a = n(x)
    np.testing.assert_allclose(a.numpy(), (x.numpy() - 0.5) / 0.25, rtol=1e-6)
    n.mean = (0.1,)
    np.testing.assert_allclose(n(x).numpy(), (x.numpy() - 0.1) / 0.25, rtol=1e-6)
    x64 = gn.tensor(x.numpy().astype(np.float64))
    assert n(x64).dtype == np.float64
    three = gn.rand(3, 4, 4)
    with pytest.raises(RuntimeError, match="channels"):
        T.Normalize((0.1, 0.2), (1.0, 1.0))(three)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.1,), (0.0,))(x)
    y = x.clone() if hasattr(x, "clone") else gn.tensor(x.numpy())
    out = T.Normalize((0.5,), (0.5,), inplace=True)(y)
    assert out is y


def test_tensor_images_go_through_random_transforms():
    x = gn.rand(1, 6, 6)
    out = T.RandomHorizontalFlip(p=1.0)(x)
    np.testing.assert_array_equal(out.numpy(), x.numpy()[..., ::-1])
