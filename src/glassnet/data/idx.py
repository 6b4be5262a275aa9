"""MNIST and Fashion-MNIST from their original gzip'd IDX files, with checksum checks.

IDX layout (big-endian): two zero bytes, a type byte (0x08 = unsigned byte), the
number of dimensions, one uint32 per dimension, then the values. Image files of
these datasets have magic number 2051 (three dimensions: N, 28, 28), label files
2049 (one dimension: N).
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np

from ..errors import DataChecksumError, DataFileError, DataFileNotFoundError
from ..validation import check_choice, check_int
from .paths import DataStream, find_data_dir, sha256_file

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import PathLike


__all__ = ["read_idx", "load_mnist", "load_fashion_mnist", "MNIST_SHA256",
           "FASHION_MNIST_SHA256", "FASHION_MNIST_CLASSES", "MAX_IDX_BYTES"]

#: The most data bytes :func:`read_idx` accepts from one IDX header unless told otherwise
#: (``max_bytes=``): 2 GiB, 45 times MNIST's largest file (47 MB decompressed).
MAX_IDX_BYTES = 2 << 30

# SHA-256 of the published files (their MD5s equal the original distributions').
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz":
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz":
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz":
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz":
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
# SHA-256 of the decompressed IDX bytes: accepts the same data re-compressed with another gzip
# header (Debian's dataset-fashion-mnist package strips the file name and time stamp).
_CONTENT_SHA256 = {
    ("mnist", "train-images-idx3-ubyte.gz"):
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ("mnist", "train-labels-idx1-ubyte.gz"):
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ("mnist", "t10k-images-idx3-ubyte.gz"):
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ("mnist", "t10k-labels-idx1-ubyte.gz"):
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ("fashion-mnist", "train-images-idx3-ubyte.gz"):
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ("fashion-mnist", "train-labels-idx1-ubyte.gz"):
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ("fashion-mnist", "t10k-images-idx3-ubyte.gz"):
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ("fashion-mnist", "t10k-labels-idx1-ubyte.gz"):
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot"]

_SPLITS = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60000),
           "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000)}
_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049


def read_idx(path: PathLike, magic: int | None = None, sha256: str | None = None,
             content_sha256: str | None = None, *, max_bytes: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip'd when its name ends in .gz) as a uint8 array.

    ``magic`` (2051 images, 2049 labels) is checked when given. With ``sha256``
    (hex digest of the file as stored) the file must match it, or, when
    ``content_sha256`` is also given, its decompressed bytes must match that.

    The header is read first and the array it declares is checked before anything is
    allocated: it must fit ``max_bytes`` (default :data:`MAX_IDX_BYTES`, 2 GiB; MNIST's
    largest file holds 47 MB) and what the file can hold (its length, or for gzip the
    most deflate can expand it to). Then exactly that array is allocated and filled as
    the stream is decompressed; a stream that ends early or goes on after it (trailing
    data, a gzip bomb behind a small header) is refused, so no file costs more memory
    than the array its header declares.

    Raises :class:`~glassnet.errors.DataFileError` naming the file for a bad header,
    size, gzip stream or checksum (:class:`~glassnet.errors.DataChecksumError`), and
    :class:`~glassnet.errors.DataFileNotFoundError` when there is no file.

    Example
    -------
    >>> read_idx("train-labels-idx1-ubyte.gz", magic=2049).shape   # doctest: +SKIP
    (60000,)
    """
    who = "read_idx"
    limit = MAX_IDX_BYTES if max_bytes is None else check_int(max_bytes, "max_bytes", who, min=0)
    path = Path(path)
    name = repr(str(path))
    stored_ok = True
    if sha256 is not None:
        got = sha256_file(path, who)
        stored_ok = got == sha256
        if not stored_ok and content_sha256 is None:
            raise DataChecksumError(f"{name} has SHA-256 {got}, expected {sha256}: the "
                                    f"file is corrupt or not the published one; download it again")
    with DataStream(path, who) as src:
        head = src.read(4)
        if len(head) < 4:
            raise DataFileError(f"{name}: file too short ({len(head)} bytes) for an IDX header")
        if head[0] != 0 or head[1] != 0 or head[2] != 0x08:
            raise DataFileError(f"{name}: not an unsigned-byte IDX file (header bytes "
                                f"{head.hex()}, expected 000008xx)")
        got_magic = int.from_bytes(head, "big")
        if magic is not None and got_magic != magic:
            raise DataFileError(f"{name}: IDX magic number is {got_magic}, expected {magic} "
                                f"({'images' if magic == _IMAGES_MAGIC else 'labels'})")
        ndim = head[3]
        header = 4 + 4 * ndim
        head += src.read(4 * ndim)
        if len(head) < header:
            raise DataFileError(f"{name}: truncated IDX header ({len(head)} bytes, need "
                                f"{header})")
        dims = tuple(int.from_bytes(head[i:i + 4], "big") for i in range(4, header, 4))
        count = math.prod(dims)
        expected = header + count
        if count > limit:
            raise DataFileError(f"{name}: IDX header promises dims {dims} ({count} bytes of "
                                f"data), more than the limit of {limit} bytes (max_bytes; the "
                                f"default is glassnet.data.idx.MAX_IDX_BYTES)")
        if not src.gz and src.size != expected:
            raise DataFileError(f"{name}: IDX header promises dims {dims} ({expected} bytes) "
                                f"but the data has {src.size} bytes (truncated or corrupt)")
        if expected > src.max_content:
            raise DataFileError(f"{name}: IDX header promises dims {dims} ({expected} bytes) "
                                f"but a gzip file of {src.size} bytes cannot hold more than "
                                f"{src.max_content} (truncated or corrupt)")
        out = np.empty(count, np.uint8)
        if src.readinto(out) < count:
            raise DataFileError(f"{name}: IDX header promises dims {dims} ({expected} bytes) "
                                f"but the data has {src.pos} bytes (truncated or corrupt)")
        src.finish(f"the {expected} bytes that the IDX header promises (dims {dims})")
    if not stored_ok:
        h = hashlib.sha256(head)
        h.update(out.data)
        got_c = h.hexdigest()
        if got_c != content_sha256:
            raise DataChecksumError(f"{name} has SHA-256 {got} (decompressed {got_c}), "
                                    f"expected {sha256} (decompressed {content_sha256}): the file "
                                    f"is corrupt or not the published one; download it again")
    return out.reshape(dims)


def _load(name: str, digests: dict[str, str], path: PathLike | None, split: str, flatten: bool,
          verify: bool, where: str) -> tuple[np.ndarray, np.ndarray]:
    check_choice(split, "split", where, tuple(_SPLITS))
    img_name, lbl_name, n = _SPLITS[split]
    folder = find_data_dir(name, path, required=[img_name, lbl_name])
    img_file, lbl_file = folder / img_name, folder / lbl_name
    for f in (img_file, lbl_file):
        if not f.is_file():
            raise DataFileNotFoundError(f"{where}: {str(f)!r} not found")
    def read(f: Path, fname: str, magic: int) -> np.ndarray:
        if not verify:
            return read_idx(f, magic)
        return read_idx(f, magic, digests[fname], _CONTENT_SHA256[(name, fname)])

    images = read(img_file, img_name, _IMAGES_MAGIC)
    labels = read(lbl_file, lbl_name, _LABELS_MAGIC)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataFileError(f"{where}: {str(img_file)!r} holds images of shape {images.shape[1:]}, "
                            f"expected (28, 28)")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataFileError(f"{where}: {str(img_file)!r} has {len(images)} images but "
                            f"{str(lbl_file)!r} has {labels.shape} labels")
    if verify and len(images) != n:
        raise DataFileError(f"{where}: {str(img_file)!r} has {len(images)} images, expected {n}")
    if labels.size and labels.max() > 9:
        raise DataFileError(f"{where}: {str(lbl_file)!r} has label {int(labels.max())}, "
                            f"expected 0..9")
    X: np.ndarray = np.empty(images.shape, np.float32)
    np.multiply(images, np.float32(1.0 / 255.0), out=X)
    X = X.reshape(len(X), -1) if flatten else X.reshape(len(X), 1, 28, 28)
    return X, labels.astype(np.int64)


def load_mnist(path: PathLike | None = None, split: str = "train", flatten: bool = False,
               verify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits: ``(X, y)`` with X float32 in [0, 1] of shape (N, 1, 28, 28)
    ((N, 784) when ``flatten``) and y int64 in 0..9; N = 60000 (train) or 10000 (test).

    The folder is ``path`` or found by :func:`find_data_dir` ("mnist"). The four
    original gzip'd IDX files are expected; with ``verify`` their SHA-256 must
    equal the published files'. Nothing is downloaded.

    Example
    -------
    >>> X, y = load_mnist(split="test", flatten=True); X.shape   # doctest: +SKIP
    (10000, 784)
    """
    return _load("mnist", MNIST_SHA256, path, split, flatten, verify, "load_mnist")


def load_fashion_mnist(path: PathLike | None = None, split: str = "train", flatten: bool = False,
                       verify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST articles, same layout as :func:`load_mnist`; class names in
    ``FASHION_MNIST_CLASSES``. Also found in ``/usr/share/datasets/fashion-mnist``
    (Debian's ``dataset-fashion-mnist`` package)."""
    return _load("fashion-mnist", FASHION_MNIST_SHA256, path, split, flatten, verify,
                 "load_fashion_mnist")
