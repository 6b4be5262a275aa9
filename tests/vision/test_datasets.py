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
