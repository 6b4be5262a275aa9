"""glassnet.vision.datasets: MNIST / Fashion-MNIST from the local files (glassnet's data
folder and torchvision's layout), and the classic PyTorch MNIST loop."""
from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

import glassnet as gn
from glassnet.utils import Generator
from glassnet.utils.data import DataLoader, Subset
from glassnet.vision import datasets, transforms as T


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
    # the user's own files are read as torchvision reads them: their IDX structure is
    # checked, not the published checksum (issue 14)
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + b"\x00" * 8)
    with pytest.raises(gn.errors.DataFileError, match="promises"):
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


@pytest.mark.integration
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


# ------------------------------------------------------------ the user's own IDX files
def _idx(magic_ndim_dims, payload: bytes, dtype_byte=0x08) -> bytes:
    ndim, dims = magic_ndim_dims
    head = bytes([0, 0, dtype_byte, ndim]) + b"".join(d.to_bytes(4, "big") for d in dims)
    return head + payload


def _write_user_set(root, cls="MNIST", n=5, h=28, w=28, n_labels=None, gz=False,
                    img_dtype=0x08, lbl_ndim=1):
    raw = root / cls / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    r = np.random.default_rng(0)
    imgs = r.integers(0, 256, (n, h, w)).astype(np.uint8)
    n_labels = n if n_labels is None else n_labels
    labels = r.integers(0, 10, n_labels).astype(np.uint8)
    files = {"train-images-idx3-ubyte": _idx((3, (n, h, w)), imgs.tobytes(), img_dtype),
             "train-labels-idx1-ubyte": _idx((lbl_ndim, (n_labels,) + (1,) * (lbl_ndim - 1)),
                                             labels.tobytes())}
    for name, data in files.items():
        if gz:
            (raw / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (raw / name).write_bytes(data)
    return imgs, labels


@pytest.mark.parametrize("cls", ["MNIST", "FashionMNIST"])
@pytest.mark.parametrize("gz", [False, True])
def test_a_users_own_idx_subset_is_read_as_torchvision_reads_it(tmp_path, cls, gz):
    imgs, labels = _write_user_set(tmp_path, cls, n=7, gz=gz)
    ds = getattr(datasets, cls)(tmp_path, train=True)
    assert len(ds) == 7 and ds.data.dtype == np.uint8
    np.testing.assert_array_equal(ds.data.numpy(), imgs)
    assert ds.targets.tolist() == labels.astype(int).tolist()
    x, y = getattr(datasets, cls)(tmp_path, transform=T.ToTensor())[3]
    assert x.shape == (1, 28, 28) and y == int(labels[3])


def test_other_image_sizes_are_read_too(tmp_path):
    imgs, _ = _write_user_set(tmp_path, n=3, h=8, w=6)
    assert datasets.MNIST(tmp_path).data.shape == (3, 8, 6)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_labels=4), "5 images but .* has 4 labels"),
    (dict(img_dtype=0x0D), "not an unsigned-byte IDX"),
    (dict(lbl_ndim=2), "magic number is 2050, expected 2049"),
])
def test_bad_user_idx_files_are_clear_data_file_errors(tmp_path, kwargs, match):
    _write_user_set(tmp_path, n=5, **kwargs)
    with pytest.raises(gn.errors.DataFileError, match=match):
        datasets.MNIST(tmp_path)


def test_wrong_magic_and_truncated_user_files(tmp_path):
    _write_user_set(tmp_path, n=5)
    raw = tmp_path / "MNIST" / "raw"
    img = raw / "train-images-idx3-ubyte"
    good = img.read_bytes()
    img.write_bytes(good[:-10])
    with pytest.raises(gn.errors.DataFileError, match="truncated or corrupt"):
        datasets.MNIST(tmp_path)
    lbl = raw / "train-labels-idx1-ubyte"
    img.write_bytes(good)
    img_as_labels = lbl.read_bytes()
    (raw / "train-images-idx3-ubyte").write_bytes(img_as_labels)   # a label file for images
    with pytest.raises(gn.errors.DataFileError, match="magic number is 2049, expected 2051"):
        datasets.MNIST(tmp_path)


# ------------------------------------------------------------------ issue 15: bad files
@pytest.mark.parametrize("cls", ["MNIST", "FashionMNIST"])
def test_a_label_outside_the_classes_is_a_data_file_error(tmp_path, cls):
    _write_user_set(tmp_path, cls, n=4)
    lbl = tmp_path / cls / "raw" / "train-labels-idx1-ubyte"
    lbl.write_bytes(_idx((1, (4,)), bytes([0, 3, 10, 9])))
    with pytest.raises(gn.errors.DataFileError, match=r"has label 10, expected 0..9") as e:
        getattr(datasets, cls)(tmp_path)
    assert str(lbl) in str(e.value)


@pytest.mark.parametrize("gz", [False, True])
def test_user_files_with_trailing_data_or_a_broken_stream(tmp_path, gz):
    _write_user_set(tmp_path, n=3, gz=gz)
    raw = tmp_path / "MNIST" / "raw"
    name = "train-images-idx3-ubyte" + (".gz" if gz else "")
    img = raw / name
    content = gzip.decompress(img.read_bytes()) if gz else img.read_bytes()
    img.write_bytes(gzip.compress(content + b"\x07") if gz else content + b"\x07")
    match = "trailing data" if gz else "truncated or corrupt"
    with pytest.raises(gn.errors.DataFileError, match=match) as e:
        datasets.MNIST(tmp_path)
    assert str(img) in str(e.value)
    if gz:
        img.write_bytes(gzip.compress(content)[:-6])          # cut inside the trailer
        with pytest.raises(gn.errors.DataFileError, match="truncated"):
            datasets.MNIST(tmp_path)


def test_a_header_over_the_idx_limit_is_refused(tmp_path, monkeypatch):
    _write_user_set(tmp_path, n=3)
    monkeypatch.setattr("glassnet.data.idx.MAX_IDX_BYTES", 1000)
    with pytest.raises(gn.errors.DataFileError, match="more than the limit of 1000 bytes"):
        datasets.MNIST(tmp_path)


def test_not_found_is_a_runtime_error_and_a_data_file_not_found_error(tmp_path):
    with pytest.raises(datasets.mnist.DatasetNotFoundError) as e:
        datasets.FashionMNIST(tmp_path, train=False)
    for cls in (RuntimeError, FileNotFoundError, gn.errors.DataFileNotFoundError,
                gn.GlassnetError):
        assert isinstance(e.value, cls), cls
