"""``MNIST`` and ``FashionMNIST`` in torchvision's shape, read from the local IDX files.

Where the files are looked for, in order (each file may be gzip'd, ``name.gz``, or not):

1. ``root/MNIST/raw/`` (``root/FashionMNIST/raw/``): torchvision's layout;
2. ``root/mnist/`` (``root/fashion-mnist/``): glassnet's data folder layout;
3. ``root`` itself;
4. with ``download=True`` only: glassnet's data folders (:func:`glassnet.data.find_data_dir`:
   ``$GLASSNET_DATA/mnist``, ``../shared/data/mnist``, ...).

Nothing is downloaded (glassnet has no network access by design): when the files are not
found, the error lists every place looked in and says which files to put where.

Files in the user's ``root`` (places 1-3) are read as torchvision reads them, whatever
they hold (your own IDX files, a subset of MNIST): their IDX header is checked (magic
number 2051 / 2049, the unsigned-byte type, 3-D images and 1-D labels, the data length the
dimensions promise, within :data:`glassnet.data.idx.MAX_IDX_BYTES`; gzip decompressed no
further than that), the images and labels must agree in count and every label must be a
class (0-9), each problem a :class:`~glassnet.errors.DataFileError` naming the file. Files
glassnet finds on its own (place 4) must also match the published SHA-256. When no files
are found the error is a :class:`DatasetNotFoundError`: a ``RuntimeError`` as torchvision
raises, and also a :class:`~glassnet.errors.DataFileNotFoundError` (``FileNotFoundError``).

``ds[i]`` is ``(image, target)``: the image a uint8 (28, 28) NumPy array (torchvision
returns a PIL image; glassnet needs no Pillow, and ``transforms.ToTensor`` takes either),
the target an int. ``ds.data`` is the uint8 (N, 28, 28) Tensor, ``ds.targets`` the int64
(N,) Tensor, ``ds.classes`` the class names.

Example
-------
>>> train = MNIST("data", train=True, download=True,
...               transform=transforms.Compose([transforms.ToTensor(),
...                                             transforms.Normalize((0.1307,), (0.3081,))]))
... # doctest: +SKIP
>>> len(train), train.targets[0].item()          # doctest: +SKIP
(60000, 5)
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...autograd.tensor import Tensor
from ...data.idx import _CONTENT_SHA256, FASHION_MNIST_CLASSES, FASHION_MNIST_SHA256, \
    MNIST_SHA256, read_idx
from ...data.paths import find_data_dir
from ...errors import DataFileError, DataFileNotFoundError
from ..transforms._image import Images
from ..transforms.transforms import batched
from .vision import VisionDataset

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import PathLike

__all__ = ["MNIST", "FashionMNIST", "DatasetNotFoundError"]


class DatasetNotFoundError(DataFileNotFoundError, RuntimeError):
    """No copy of the dataset's files was found: a ``RuntimeError`` as torchvision raises,
    and a :class:`~glassnet.errors.DataFileNotFoundError` (so also a ``FileNotFoundError``
    and a :class:`~glassnet.GlassnetError`). The message lists every place looked in."""

_FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049


class MNIST(VisionDataset):
    """The MNIST digits: 60000 training or 10000 test 28x28 grayscale images, labels 0-9.

    Parameters (torchvision's)
    ----------
    root : folder holding ``MNIST/raw/`` (or ``mnist/``, or the files themselves)
    train : the training split (else the test split)
    transform : applied to the uint8 (28, 28) image array, e.g. ``transforms.ToTensor()``
    target_transform : applied to the int target
    download : also look in glassnet's data folders (nothing is fetched from the network)

    With the default collate, a DataLoader over this dataset gathers and transforms a whole
    batch at once when ``transform`` is made of ``glassnet.vision.transforms`` (and there is
    no ``target_transform``): the same values, and the same random numbers, as sample by
    sample.
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    root: PathLike                       # required here (VisionDataset allows None)
    _data_name = "mnist"                 # the folder name in glassnet's data layout
    _digests = MNIST_SHA256
    _source = "https://ossci-datasets.s3.amazonaws.com/mnist/"

    def __init__(self, root: PathLike, train: bool = True,
                 transform: Callable[[Any], Any] | None = None,
                 target_transform: Callable[[Any], Any] | None = None,
                 download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = bool(train)
        folder, verify = self._find(download)
        images, labels = self._read(folder, verify)
        self.data = Tensor(images)
        self.targets = Tensor(labels)

    # ------------------------------------------------------------------ files
    @property
    def raw_folder(self) -> Path:
        return Path(self.root) / type(self).__name__ / "raw"

    def _places(self) -> list[Path]:
        root = Path(self.root)
        return [self.raw_folder, root / self._data_name, root]

    @staticmethod
    def _has(folder: Path, names: Sequence[str]) -> bool:
        return all((folder / n).is_file() or (folder / (n + ".gz")).is_file() for n in names)

    def _find(self, download: bool) -> tuple[Path, bool]:
        names = _FILES[self.train]
        places = self._places()
        for p in places:
            if self._has(p, names):
                return p, False                     # the user's files: read what is there
        tried = [str(p) for p in places]
        if download:
            try:                                    # found by glassnet: the published files
                return find_data_dir(self._data_name, required=[n + ".gz" for n in names]), True
            except FileNotFoundError as e:
                tried.append(f"glassnet's data folders: {e}")
        cls = type(self).__name__
        wanted = ", ".join(n + ".gz" for pair in _FILES.values() for n in pair)
        where = f"{self.raw_folder}/ (torchvision's layout) or {Path(self.root) / self._data_name}/"
        if download:
            raise DatasetNotFoundError(
                f"{cls}: download=True found no local copy, and glassnet downloads nothing. "
                f"Put the four files {wanted} (from {self._source}) into {where}, or into a "
                f"folder named {self._data_name!r} under $GLASSNET_DATA. Looked in: "
                + "; ".join(tried))
        raise DatasetNotFoundError(
            f"Dataset not found: {cls} ({'train' if self.train else 'test'} split) needs "
            f"{names[0]} and {names[1]} (gzip'd or not) in {where}. Looked in: "
            + "; ".join(tried) + f". Put the files {wanted} there, or use download=True to "
            f"also search $GLASSNET_DATA/{self._data_name} and ../shared/data/"
            f"{self._data_name}.")

    def _read_one(self, folder: Path, name: str, magic: int,
                  verify: bool) -> tuple[np.ndarray, Path]:
        plain, gz = folder / name, folder / (name + ".gz")
        path = gz if gz.is_file() else plain
        if not verify:
            arr = read_idx(path, magic)
        elif gz.is_file():
            content = _CONTENT_SHA256[(self._data_name, name + ".gz")]
            arr = read_idx(gz, magic, self._digests[name + ".gz"], content)
        else:   # an unpacked published file: its bytes are the content
            arr = read_idx(plain, magic, _CONTENT_SHA256[(self._data_name, name + ".gz")])
        return arr, path                 # a new writable array, as torchvision's .data is

    def _read(self, folder: Path, verify: bool = True) -> tuple[np.ndarray, np.ndarray]:
        img_name, lbl_name = _FILES[self.train]
        cls = type(self).__name__
        images, ipath = self._read_one(folder, img_name, _IMAGES_MAGIC, verify)
        labels, lpath = self._read_one(folder, lbl_name, _LABELS_MAGIC, verify)
        if images.ndim != 3:
            raise DataFileError(f"{cls}: {str(ipath)!r} holds a {images.ndim}-D IDX array of "
                                f"shape {images.shape}; images must be 3-D (N, height, width)")
        if labels.ndim != 1:
            raise DataFileError(f"{cls}: {str(lpath)!r} holds a {labels.ndim}-D IDX array of "
                                f"shape {labels.shape}; labels must be 1-D (N,)")
        if len(labels) != len(images):
            raise DataFileError(f"{cls}: {str(ipath)!r} has {len(images)} images but "
                                f"{str(lpath)!r} has {len(labels)} labels; they must agree")
        top = int(labels.max()) if labels.size else 0
        if top >= len(self.classes):
            raise DataFileError(f"{cls}: {str(lpath)!r} has label {top}, expected 0.."
                                f"{len(self.classes) - 1} (one of the {len(self.classes)} "
                                f"classes)")
        return images, labels.astype(np.int64)

    # ------------------------------------------------------------------ samples
    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img = self.data._data[index].copy()
        target = int(self.targets._data[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def _batch_fetcher(self) -> Callable[[np.ndarray], list[Any]] | None:
        if self.target_transform is not None:
            return None
        transform = batched(self.transform)
        if transform is None:
            return None
        images, labels = self.data._data, self.targets._data

        def fetch(idx: np.ndarray) -> list[Any]:
            return [transform(Images.stack(images[idx])).image(), Tensor(labels[idx])]
        return fetch

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): 28x28 grayscale articles of clothing in 10 classes, the same
    layout and arguments as :class:`MNIST` (folders ``root/FashionMNIST/raw/`` or
    ``root/fashion-mnist/``; also Debian's ``/usr/share/datasets/fashion-mnist``)."""

    classes = list(FASHION_MNIST_CLASSES)
    _data_name = "fashion-mnist"
    _digests = FASHION_MNIST_SHA256
    _source = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
