"""glassnet.vision: transforms against torchvision's formulas (torchvision itself is not
installed here; the references below are its recipes written with torch, or by hand),
make_grid / save_image, the batch path of the transforms, MNIST / Fashion-MNIST from the
local files, and the classic PyTorch MNIST loop."""
from __future__ import annotations

import gzip
import math
import shutil
import struct
import zlib

import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd.tensor import Tensor
from glassnet.utils import Generator
from glassnet.utils.data import DataLoader, Subset
from glassnet.vision import datasets, transforms as T, utils
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
        assert t.dtype == np.float32 and t.data.flags.c_contiguous
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


# ------------------------------------------------------------------ make_grid / save_image
def _grid_by_the_book(a, nrow, padding, pad_value):
    """torchvision's make_grid loop: copy image k into cell (k // xmaps, k % xmaps)."""
    n, c, h, w = a.shape
    xmaps = min(nrow, n)
    ymaps = int(math.ceil(n / xmaps))
    hh, ww = h + padding, w + padding
    grid = np.full((c, hh * ymaps + padding, ww * xmaps + padding), pad_value, a.dtype)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= n:
                break
            grid[:, y * hh + padding:y * hh + padding + h, x * ww + padding:x * ww + padding + w] = a[k]
            k += 1
    return grid


@pytest.mark.parametrize("n, nrow, padding", [(5, 2, 2), (16, 8, 0), (3, 8, 1), (7, 3, 4)])
def test_make_grid_layout(n, nrow, padding):
    a = np.random.rand(n, 3, 4, 5).astype(np.float32)
    grid = utils.make_grid(Tensor(a), nrow=nrow, padding=padding, pad_value=0.5)
    np.testing.assert_array_equal(grid.numpy(), _grid_by_the_book(a, nrow, padding, 0.5))
    gray = utils.make_grid(Tensor(a[:, :1]), nrow=nrow, padding=padding)
    assert gray.shape[0] == 3                       # one channel becomes three
    np.testing.assert_array_equal(gray.numpy()[1], _grid_by_the_book(a[:, :1], nrow, padding, 0)[0])
    lst = utils.make_grid([Tensor(x) for x in a], nrow=nrow, padding=padding, pad_value=0.5)
    np.testing.assert_array_equal(lst.numpy(), grid.numpy())


def test_make_grid_single_image_and_normalize():
    one = Tensor(np.random.rand(1, 4, 4).astype(np.float32))
    assert utils.make_grid(one).shape == (3, 4, 4)               # no padding for one image
    assert utils.make_grid(Tensor(np.zeros((4, 4), np.float32))).shape == (3, 4, 4)
    a = np.array([[[[-1.0, 0.0], [1.0, 3.0]]], [[[10.0, 12.0], [14.0, 18.0]]]], np.float32)
    whole = utils.make_grid(Tensor(a), normalize=True, padding=0).numpy()
    np.testing.assert_allclose(whole[0], np.concatenate([(a[0, 0] + 1) / 19, (a[1, 0] + 1) / 19], 1),
                               rtol=1e-6)
    each = utils.make_grid(Tensor(a), normalize=True, scale_each=True, padding=0).numpy()
    np.testing.assert_allclose(each[0], np.concatenate([(a[0, 0] + 1) / 4, (a[1, 0] - 10) / 8], 1),
                               rtol=1e-6)
    ranged = utils.make_grid(Tensor(a), normalize=True, value_range=(0.0, 2.0), padding=0).numpy()
    np.testing.assert_allclose(ranged[0], np.concatenate([np.clip(a[0, 0], 0, 2) / 2,
                                                          np.clip(a[1, 0], 0, 2) / 2], 1))
    assert a.min() == -1.0                                       # the input is left alone
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        utils.make_grid(Tensor(a), normalize=True, value_range=[0, 1])


def _read_png(data):
    """Decode an 8-bit, non-interlaced PNG whose rows all use filter 0 (what glassnet writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[colour]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, 1 + w * channels)
    assert depth == 8 and interlace == 0 and (rows[:, 0] == 0).all() and b"IEND" in chunks
    return rows[:, 1:].reshape(h, w, channels)


def test_save_image_writes_png(tmp_path):
    a = np.random.rand(4, 3, 5, 6).astype(np.float32)
    a[0, 0, 0, 0], a[0, 0, 0, 1] = -1.0, 2.0                   # clamped
    utils.save_image(Tensor(a), tmp_path / "g.png", nrow=2)
    got = _read_png((tmp_path / "g.png").read_bytes())
    grid = utils.make_grid(Tensor(a), nrow=2).numpy()
    want = np.clip(grid * np.float32(255) + np.float32(0.5), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(got, want)
    with open(tmp_path / "h.png", "wb") as f:                   # a file object works too
        utils.save_image(Tensor(a[0]), f)
    assert _read_png((tmp_path / "h.png").read_bytes()).shape == (5, 6, 3)
    try:
        from PIL import Image
    except ImportError:
        with pytest.raises(ValueError, match="needs Pillow"):
            utils.save_image(Tensor(a), tmp_path / "g.jpg")
    else:
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "g.png")), want)
        utils.save_image(Tensor(a), tmp_path / "g.jpg")
        assert Image.open(tmp_path / "g.jpg").format == "JPEG"


# ------------------------------------------------------------------ MNIST / Fashion-MNIST
@pytest.fixture
def mnist_dir(data_dir):
    d = data_dir / "mnist"
    if not (d / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST IDX files not found in {d}")
    return d


def test_mnist_from_glassnet_data_dir(mnist_dir):
    train = datasets.MNIST(mnist_dir.parent, train=True)         # <dir>/mnist/*.gz
    test = datasets.MNIST(mnist_dir.parent, train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert train.data.dtype == np.uint8 and train.data.shape == (60000, 28, 28)
    assert train.targets.dtype == np.int64 and train.targets.shape == (60000,)
    img, label = train[0]
    assert label == 5 and isinstance(label, int) and img.dtype == np.uint8 and img.shape == (28, 28)
    assert test[0][1] == 7
    assert train.classes[5] == "5 - five" and train.class_to_idx["9 - nine"] == 9
    assert "Split: Train" in repr(train) and "Number of datapoints: 60000" in repr(train)
    x, _ = datasets.MNIST(mnist_dir.parent, transform=T.ToTensor())[0]
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and float(x.numpy().max()) == 1.0


def test_mnist_torchvision_layout_and_unpacked_files(mnist_dir, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (raw / (name + ".gz")).symlink_to(mnist_dir / (name + ".gz"))
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):    # as torchvision unpacks
        with gzip.open(mnist_dir / (name + ".gz")) as src, open(raw / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    assert datasets.MNIST(str(tmp_path), train=True).targets[0].item() == 5
    test = datasets.MNIST(tmp_path, train=False)
    assert len(test) == 10000 and test.targets[0].item() == 7
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="SHA-256"):
        datasets.MNIST(tmp_path, train=False)


def test_mnist_download_finds_local_files_or_says_where(mnist_dir, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RuntimeError) as e:
        datasets.MNIST(empty, train=True)
    msg = str(e.value)
    assert "train-images-idx3-ubyte" in msg and str(empty / "MNIST" / "raw") in msg
    assert "download=True" in msg
    monkeypatch.setenv("GLASSNET_DATA", str(mnist_dir.parent))
    assert len(datasets.MNIST(empty, train=False, download=True)) == 10000

    def nowhere(name, path=None, required=None):
        raise FileNotFoundError(f"dataset {name!r} not found; looked in: /x/{name}")
    monkeypatch.setattr("glassnet.vision.datasets.mnist.find_data_dir", nowhere)
    with pytest.raises(RuntimeError) as e:
        datasets.MNIST(empty, download=True)
    msg = str(e.value)
    for name in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert name in msg
    assert "glassnet downloads nothing" in msg and "GLASSNET_DATA" in msg and "/x/mnist" in msg


def test_fashion_mnist(data_dir):
    d = data_dir / "fashion-mnist"
    if not (d / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"Fashion-MNIST IDX files not found in {d}")
    test = datasets.FashionMNIST(data_dir, train=False)
    assert len(test) == 10000 and test[0][1] == 9 and test.classes[9] == "Ankle boot"


def test_mnist_batches_equal_sample_by_sample(mnist_dir):
    """The DataLoader's batch path over MNIST: same tensors and random numbers as the
    per-sample path (forced by a subclass with its own __getitem__)."""
    t = T.Compose([T.RandomRotation(10), T.RandomCrop(28, padding=2), T.ToTensor(),
                   T.Normalize((0.1307,), (0.3081,))])

    class PerSample(datasets.MNIST):
        def __getitem__(self, i):
            return super().__getitem__(i)

    fast = datasets.MNIST(mnist_dir.parent, train=False, transform=t)
    slow = PerSample(mnist_dir.parent, train=False, transform=t)
    out = []
    for ds in (fast, slow):
        gn.manual_seed(4)
        loader = DataLoader(Subset(ds, range(300)), batch_size=64, shuffle=True,
                            generator=Generator().manual_seed(2))
        out.append(list(loader))
    for (fx, fy), (sx, sy) in zip(*out):
        assert fx.shape == sx.shape and fx.dtype == np.float32 and fy.dtype == np.int64
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())
    plain = next(iter(DataLoader(datasets.MNIST(mnist_dir.parent, train=False), batch_size=4)))
    assert plain[0].dtype == np.uint8 and plain[0].shape == (4, 28, 28) and plain[1].tolist() == [7, 2, 1, 0]


def test_classic_pytorch_mnist_loop_learns(mnist_dir, one_blas_thread):
    """The classic PyTorch MNIST MLP loop, with only its imports changed."""
    import glassnet as torch
    from glassnet import nn, optim
    from glassnet.utils.data import DataLoader, Subset
    from glassnet.vision import datasets, transforms

    torch.manual_seed(0)
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.1307,), (0.3081,))])
    train_set = datasets.MNIST(str(mnist_dir.parent), train=True, download=True,
                               transform=transform)
    test_set = datasets.MNIST(str(mnist_dir.parent), train=False, transform=transform)
    train_loader = DataLoader(Subset(train_set, range(20000)), batch_size=100, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for data, target in train_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(data), target)
        loss.backward()
        optimizer.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            pred = model(data).argmax(1)
            correct += int((pred.numpy() == target.numpy()).sum())
    assert correct / len(test_set) > 0.9
