"""Dataset loaders: embedded digits, IDX files (real and synthetic, incl. corrupt), text, toys."""
from __future__ import annotations

import gzip
import hashlib
import time

import numpy as np
import pytest

from glassnet import data
from glassnet.data import idx as idx_mod

MNIST_TRAIN = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_load_digits_embedded():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16
    counts = np.bincount(y)
    assert len(counts) == 10 and counts.min() == 174 and counts.max() == 183


def test_load_digits_rejects_a_modified_copy(tmp_path):
    src = data.datasets._EMBEDDED / "digits.csv.gz"
    text = gzip.decompress(src.read_bytes()).replace(b"0,0,5,13", b"0,0,5,14", 1)
    bad = tmp_path / "digits.csv.gz"
    bad.write_bytes(gzip.compress(text))
    with pytest.raises(data.DataChecksumError, match="digits.csv.gz"):
        data.load_digits(tmp_path)
    X, _ = data.load_digits(bad, verify=False)
    assert X[0, 3] == 14


def _write_idx(path, arr, magic=None):
    arr = np.asarray(arr, np.uint8)
    head = (magic if magic is not None else 0x0800 + arr.ndim).to_bytes(4, "big")
    head += b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    raw = head + arr.tobytes()
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)
    return path


def _fake_mnist(folder, n=20, label_max=9):
    r = np.random.default_rng(0)
    imgs = r.integers(0, 256, (n, 28, 28))
    labels = np.arange(n) % (label_max + 1)
    _write_idx(folder / "t10k-images-idx3-ubyte.gz", imgs)
    _write_idx(folder / "t10k-labels-idx1-ubyte.gz", labels)
    return imgs, labels


def test_synthetic_idx_files_load(tmp_path):
    imgs, labels = _fake_mnist(tmp_path)
    X, y = data.load_mnist(tmp_path, split="test", verify=False)
    assert X.shape == (20, 1, 28, 28) and X.dtype == np.float32
    np.testing.assert_allclose(X[:, 0], imgs / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    Xf, _ = data.load_fashion_mnist(tmp_path, split="test", flatten=True, verify=False)
    assert Xf.shape == (20, 784)
    raw = _write_idx(tmp_path / "plain-idx1-ubyte", np.arange(5))
    np.testing.assert_array_equal(data.read_idx(raw, magic=2049), np.arange(5))


def test_idx_validation_errors(tmp_path):
    _fake_mnist(tmp_path)
    # the published checksums reject these synthetic files, naming the file
    with pytest.raises(data.DataChecksumError, match="t10k-images-idx3-ubyte.gz"):
        data.load_mnist(tmp_path, split="test")
    # swapped magic number
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros((20, 28, 28)))
    with pytest.raises(ValueError, match="magic number is 2051, expected 2049"):
        data.load_mnist(tmp_path, split="test", verify=False)
    # truncated data
    f = tmp_path / "t10k-labels-idx1-ubyte.gz"
    good = (2049).to_bytes(4, "big") + (20).to_bytes(4, "big") + bytes(range(10)) * 2
    f.write_bytes(gzip.compress(good[:-3]))
    with pytest.raises(ValueError, match="truncated or corrupt"):
        data.load_mnist(tmp_path, split="test", verify=False)
    # label count differs from image count
    _write_idx(f, np.arange(19) % 10)
    with pytest.raises(ValueError, match="has 20 images but"):
        data.load_mnist(tmp_path, split="test", verify=False)
    # labels out of range
    _write_idx(f, np.arange(20) % 12)
    with pytest.raises(ValueError, match="label 11"):
        data.load_mnist(tmp_path, split="test", verify=False)
    # not gzip at all
    f.write_bytes(b"not a gzip stream at all")
    with pytest.raises(ValueError, match="not a valid gzip"):
        data.load_mnist(tmp_path, split="test", verify=False)
    # wrong image size
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((20, 8, 8)))
    _write_idx(f, np.arange(20) % 10)
    with pytest.raises(ValueError, match=r"expected \(28, 28\)"):
        data.load_mnist(tmp_path, split="test", verify=False)
    with pytest.raises(ValueError, match="split"):
        data.load_mnist(tmp_path, split="valid")
    with pytest.raises(FileNotFoundError, match="holds neither mnist/ with"):
        data.load_mnist(tmp_path / "..", split="test")


def test_recompressed_file_passes_by_content(tmp_path):
    # Debian re-compresses Fashion-MNIST with another gzip header; the content digest accepts it
    _fake_mnist(tmp_path)
    f = tmp_path / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(f.read_bytes())
    digest = hashlib.sha256(raw).hexdigest()
    f.write_bytes(gzip.compress(raw, mtime=12345))
    out = data.read_idx(f, 2049, sha256="0" * 64, content_sha256=digest)
    assert out.shape == (20,)
    with pytest.raises(data.DataChecksumError, match="decompressed"):
        data.read_idx(f, 2049, sha256="0" * 64, content_sha256="1" * 64)


def test_find_data_dir(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path))
    assert data.find_data_dir("mnist") == tmp_path / "mnist"
    monkeypatch.setattr(data.paths.Path, "home", classmethod(lambda cls: tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="GLASSNET_DATA"):
        data.find_data_dir("no-such-dataset-xyz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.find_data_dir("mnist", tmp_path / "missing")


@pytest.mark.parametrize("split,n,counts", [("train", 60000, MNIST_TRAIN),
                                            ("test", 10000, MNIST_TEST)])
def test_real_mnist(data_dir, split, n, counts):
    t = time.perf_counter()
    X, y = data.load_mnist(data_dir / "mnist", split=split)
    elapsed = time.perf_counter() - t
    assert X.shape == (n, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == counts
    assert 0.0 <= X.min() and X.max() <= 1.0
    assert abs(X.mean() - (0.1307 if split == "train" else 0.1325)) < 5e-4
    assert elapsed < 4.0  # < 2 s when the machine is not shared (see report)


def test_real_fashion_mnist(data_dir):
    X, y = data.load_fashion_mnist(data_dir / "fashion-mnist", split="test", flatten=True)
    assert X.shape == (10000, 784) and np.bincount(y).tolist() == [1000] * 10
    X, y = data.load_fashion_mnist(data_dir / "fashion-mnist", split="train")
    assert X.shape == (60000, 1, 28, 28) and np.bincount(y).tolist() == [6000] * 10
    assert abs(X.mean() - 0.2860) < 5e-4


def test_real_text(data_dir, monkeypatch):
    text = data.load_text(data_dir / "tinyshakespeare")
    monkeypatch.setenv("GLASSNET_DATA", str(data_dir))
    assert data.load_text() == text  # the default corpus, found and checksum-verified
    assert len(text) == 1115394 and len(set(text)) == 65
    assert text.startswith("First Citizen")


def test_toy_datasets():
    X, y = data.make_xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    X, y = data.make_xor(100, noise=0.1, seed=0)
    assert X.shape == (100, 2) and np.bincount(y).tolist() == [50, 50]
    np.testing.assert_array_equal(y, np.logical_xor(X[:, 0] > 0.5, X[:, 1] > 0.5))
    X, y = data.make_moons(101, noise=0.0, seed=0)
    assert X.shape == (101, 2) and X.dtype == np.float32 and np.bincount(y).tolist() == [50, 51]
    r0 = np.hypot(X[y == 0, 0], X[y == 0, 1])
    np.testing.assert_allclose(r0, 1.0, rtol=1e-6)
    a, b = data.make_moons(50, 0.2, seed=3), data.make_moons(50, 0.2, seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    X, y = data.make_blobs(90, centers=[[0, 0], [10, 10], [-10, 5]], cluster_std=0.5, seed=0)
    assert np.bincount(y).tolist() == [30, 30, 30]
    for k, c in enumerate([[0, 0], [10, 10], [-10, 5]]):
        np.testing.assert_allclose(X[y == k].mean(0), c, atol=0.3)


def test_hardcoded_digests_match_shared_sums(data_dir):
    for name, table in [("mnist", idx_mod.MNIST_SHA256),
                        ("fashion-mnist", idx_mod.FASHION_MNIST_SHA256)]:
        sums = dict(line.split()[::-1] for line in
                    (data_dir / name / "SHA256SUMS").read_text().splitlines() if line.strip())
        assert sums == table
