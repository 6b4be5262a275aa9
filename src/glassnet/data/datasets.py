"""Small datasets: the embedded 8x8 digits, text corpora, and synthetic toy problems."""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np

from .. import backend
from ..validation import check_int
from ..errors import DataChecksumError, DataFileError, DataFileNotFoundError
from .paths import DataStream, find_data_dir, sha256_file

from typing import TYPE_CHECKING, cast

from collections.abc import Sequence

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import PathLike


__all__ = ["load_digits", "load_text", "make_xor", "make_moons", "make_blobs", "DIGITS_SHA256",
           "TINYSHAKESPEARE_SHA256", "MAX_DIGITS_BYTES", "MAX_TEXT_BYTES"]

#: The most CSV bytes :func:`load_digits` reads (after decompression) unless told otherwise
#: (``max_bytes=``): 16 MiB, some 60 times the published file (0.27 MB).
MAX_DIGITS_BYTES = 16 << 20
#: The longest file :func:`load_text` reads unless told otherwise (``max_bytes=``): 1 GiB,
#: about 1000 times Tiny Shakespeare.
MAX_TEXT_BYTES = 1 << 30

DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
TINYSHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
_EMBEDDED = Path(__file__).resolve().parent / "_embedded"


def load_digits(path: PathLike | None = None, verify: bool = True, *,
                max_bytes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The UCI 8x8 optical digits (1797 samples, 10 classes), embedded in the package.

    Returns ``(X, y)``: X float32 of shape (1797, 64) with pixel values 0..16
    (rows of the 8x8 image, row by row), y int64 in 0..9. ``path`` reads another
    copy of ``digits.csv.gz`` (a file or a folder holding it; a name without ``.gz``
    is read as plain CSV). Its SHA-256 is checked against the published copy when
    ``verify``. Source and licence (CC BY 4.0): ``glassnet/data/_embedded/README.md``.

    Another file is read as trusted only as far as it proves: at most ``max_bytes`` of
    CSV (default :data:`MAX_DIGITS_BYTES`, 16 MiB; the published one is 0.27 MB), with
    the gzip stream decompressed no further than that; 65 integer columns per row (64
    pixels in 0..16, then the label in 0..9), at least one row. Anything else raises
    :class:`~glassnet.errors.DataFileError` naming the file
    (:class:`~glassnet.errors.DataFileNotFoundError` when missing,
    :class:`~glassnet.errors.DataChecksumError` for another checksum).

    Example
    -------
    >>> X, y = load_digits(); X.shape, int(np.bincount(y).min())
    ((1797, 64), 174)
    """
    who = "load_digits"
    limit = MAX_DIGITS_BYTES if max_bytes is None else check_int(max_bytes, "max_bytes", who,
                                                                 min=0)
    f = _EMBEDDED / "digits.csv.gz" if path is None else Path(path)
    if f.is_dir():
        f = f / "digits.csv.gz"
    if not f.is_file():
        raise DataFileNotFoundError(f"{who}: {str(f)!r} not found")
    if verify:
        got = sha256_file(f, who)
        if got != DIGITS_SHA256:
            raise DataChecksumError(f"{who}: {str(f)!r} has SHA-256 {got}, expected "
                                    f"{DIGITS_SHA256} (corrupt or a different file)")
    with DataStream(f, who) as src:
        text = src.read_all(limit, "the CSV", " (max_bytes; the default is "
                            "glassnet.data.datasets.MAX_DIGITS_BYTES)")
        src.finish("the CSV")
    name = f"{who}: {str(f)!r}"
    if not text.strip():
        raise DataFileError(f"{name} holds no rows, expected 65 comma-separated integers per "
                            f"row (64 pixels + label)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")         # numpy's "input contained no data" etc.
            table = np.loadtxt(io.BytesIO(text), delimiter=",", dtype=np.int64, ndmin=2)
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError, UserWarning) as e:
        raise DataFileError(f"{name} is not a CSV of integers ({e}); expected 65 "
                            f"comma-separated integers per row (64 pixels + label)") from None
    if table.shape[1] != 65:
        raise DataFileError(f"{name} has {table.shape[1]} columns, expected 65 "
                            f"(64 pixels + label)")
    pixels, labels = table[:, :64], table[:, 64]
    lo, hi = int(pixels.min()), int(pixels.max())
    if lo < 0 or hi > 16:
        raise DataFileError(f"{name} has pixel values in [{lo}, {hi}], expected 0..16")
    lo, hi = int(labels.min()), int(labels.max())
    if lo < 0 or hi > 9:
        raise DataFileError(f"{name} has labels in [{lo}, {hi}], expected 0..9")
    return pixels.astype(np.float32), labels.copy()


def load_text(path: PathLike | None = None, verify: bool = True, *,
              max_bytes: int | None = None) -> str:
    """A text corpus as one string; by default Tiny Shakespeare (1,115,394 characters).

    ``path`` is a text file or a folder holding ``input.txt``; without it the
    ``tinyshakespeare`` folder is found with :func:`find_data_dir` and, when
    ``verify``, its SHA-256 is checked.

    The file must be UTF-8, hold at least one character (a corpus to learn from) and be
    at most ``max_bytes`` long (default :data:`MAX_TEXT_BYTES`, 1 GiB; checked before it
    is read); otherwise :class:`~glassnet.errors.DataFileError` names the file
    (:class:`~glassnet.errors.DataFileNotFoundError` when it is missing).

    Example
    -------
    >>> text = load_text(); len(set(text))   # doctest: +SKIP
    65
    """
    who = "load_text"
    limit = MAX_TEXT_BYTES if max_bytes is None else check_int(max_bytes, "max_bytes", who,
                                                               min=0)
    default = path is None
    p = find_data_dir("tinyshakespeare", required=["input.txt"]) / "input.txt" if path is None \
        else Path(path).expanduser()
    if p.is_dir():
        p = p / "input.txt"
    if not p.is_file():
        raise DataFileNotFoundError(f"{who}: {str(p)!r} not found")
    if default and verify:
        got = sha256_file(p, who)
        if got != TINYSHAKESPEARE_SHA256:
            raise DataChecksumError(f"{who}: {str(p)!r} has SHA-256 {got}, expected "
                                    f"{TINYSHAKESPEARE_SHA256} (corrupt or a different file)")
    with DataStream(p, who, gz=False) as src:       # read as it is, whatever its name
        raw = src.read_all(limit, "the text", " (max_bytes; the default is "
                           "glassnet.data.datasets.MAX_TEXT_BYTES)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataFileError(f"{who}: {str(p)!r} is not UTF-8 text ({e})") from None
    if not text:
        raise DataFileError(f"{who}: {str(p)!r} is empty; a text corpus needs at least one "
                            f"character")
    return text


def _rng(seed: int | None) -> np.random.Generator:
    return backend.rng() if seed is None else np.random.default_rng(seed)


def make_xor(n_samples: int | None = None, noise: float = 0.0,
             seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: y = x1 XOR x2, not linearly separable.

    With ``n_samples=None`` the four corners of the unit square (the truth
    table); otherwise ``n_samples`` points cycling over the corners (balanced),
    shuffled, plus Gaussian noise of standard deviation ``noise``.
    Returns X float32 (n, 2), y int64 (n,).

    Example
    -------
    >>> X, y = make_xor(); y
    array([0, 1, 1, 0])
    """
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    labels = np.array([0, 1, 1, 0], np.int64)
    if n_samples is None:
        idx = np.arange(4)
        rng = None
    else:
        n_samples = check_int(n_samples, "n_samples", "make_xor")
        rng = _rng(seed)
        idx = rng.permutation(np.arange(n_samples) % 4)
    X, y = corners[idx].copy(), labels[idx]
    if noise:
        rng = rng or _rng(seed)
        X += rng.normal(0.0, noise, X.shape).astype(np.float32)
    return X, y


def make_moons(n_samples: int = 100, noise: float = 0.0,
               seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (a classic non-linear 2-class problem), like scikit-learn's.

    Class 0: :math:`(\\cos t, \\sin t)`; class 1: :math:`(1 - \\cos t, 0.5 - \\sin t)`,
    :math:`t \\in [0, \\pi]`, plus Gaussian noise; shuffled. Returns X float32 (n, 2), y int64.

    Example
    -------
    >>> X, y = make_moons(200, noise=0.1, seed=0)
    """
    n_samples = check_int(n_samples, "n_samples", "make_moons", min=2)
    rng = _rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    perm = rng.permutation(n_samples)
    X, y = X[perm], y[perm]
    if noise:
        X = X + rng.normal(0.0, noise, X.shape)
    return X.astype(np.float32), y


def make_blobs(n_samples: int = 100, centers: int | Sequence[Sequence[float]] | np.ndarray = 3,
               n_features: int = 2, cluster_std: float = 1.0,
               center_box: tuple[float, float] = (-10.0, 10.0),
               seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters: ``centers`` (a count, drawn uniformly in ``center_box``, or an array of
    shape (k, n_features)), samples spread evenly over them. Returns X float32, y int64.

    Example
    -------
    >>> X, y = make_blobs(300, centers=4, seed=0)
    """
    rng = _rng(seed)
    if np.isscalar(centers):
        k = int(cast(int, centers))
        if k < 1:
            raise ValueError(f"make_blobs: centers must be >= 1, got {centers!s}")
        c = rng.uniform(center_box[0], center_box[1], size=(k, n_features))
    else:
        c = np.asarray(centers, dtype=np.float64)
        if c.ndim != 2:
            raise ValueError(f"make_blobs: centers must be an int or a (k, d) array, got shape "
                             f"{c.shape}")
        k = len(c)
    y = rng.permutation(np.arange(n_samples) % k).astype(np.int64)
    X = c[y] + rng.normal(0.0, cluster_std, (n_samples, c.shape[1]))
    return X.astype(np.float32), y
