"""Where datasets live (``find_data_dir``), checksums (``sha256_file``), and
``DataStream``: a data file's bytes read with a bound, decompressed as they are read
when the file is gzip'd, every failure a :class:`~glassnet.errors.DataFileError`
naming the file (:class:`~glassnet.errors.DataFileNotFoundError` when it is missing).
"""
from __future__ import annotations

import hashlib
import io
import os
import zlib
from pathlib import Path

from ..backend import config
from ..errors import DataFileError, DataFileNotFoundError

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import PathLike


__all__ = ["find_data_dir", "sha256_file", "DataStream", "GZIP_MAX_RATIO"]

# src/glassnet/data/paths.py -> the repository root is three folders up from this package
_REPO = Path(__file__).resolve().parents[3]
_SYSTEM_DIRS = {"fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")]}


_CHUNK = 1 << 20          # compressed bytes read at a time
_OUT_CHUNK = 1 << 20      # most decompressed bytes produced by one zlib call
# Deflate cannot expand data by more than 1032:1 (a 258-byte match costs at least two
# bits), so a gzip file of n bytes holds at most about 1032 n bytes; the slack covers
# the IDX header of a near-empty file.
GZIP_MAX_RATIO = 1032


def _open(path: PathLike, who: str) -> io.BufferedReader:
    """``open(path, "rb")``; a missing file is DataFileNotFoundError, any other failure to
    open it (a folder, no permission) DataFileError, both naming the file."""
    try:
        return open(path, "rb")
    except (FileNotFoundError, NotADirectoryError):
        raise DataFileNotFoundError(f"{who}: {str(path)!r} not found") from None
    except OSError as e:
        raise DataFileError(f"{who}: cannot read {str(path)!r} ({e.strerror or e})") from None


def sha256_file(path: PathLike, who: str = "sha256_file") -> str:
    """Hex SHA-256 of a file's bytes, read in 4 MiB chunks."""
    h = hashlib.sha256()
    with _open(path, who) as f:
        try:
            for chunk in iter(lambda: f.read(1 << 22), b""):
                h.update(chunk)
        except OSError as e:
            raise DataFileError(f"{who}: cannot read {str(path)!r} ({e})") from None
    return h.hexdigest()


class DataStream:
    """The content of a data file (decompressed when its name ends in ``.gz``), read in
    chunks with a bound, so that no file can make glassnet hold more than the caller asked
    for: a gzip bomb costs at most what the caller reads, never the whole stream.

    ``read(n)`` gives up to ``n`` content bytes (fewer only at the end), ``readinto(buf)``
    fills ``buf`` (returning the count, short only at the end), ``read_all(limit)`` the
    whole content when it is at most ``limit`` bytes, and ``finish()`` checks that nothing follows what was read (and,
    for gzip, that the stream ends properly: its CRC and length trailer). ``size`` is the
    file's length on disk and ``max_content`` the most content it can hold. Every failure
    (a missing file, an I/O error, a broken or truncated gzip stream, trailing data) is a
    :class:`~glassnet.errors.DataFileError` whose message starts with ``who`` and names
    the file. ``gz`` says whether to decompress (default: the name ends in ``.gz``).

    >>> with DataStream("train-labels-idx1-ubyte.gz", "read_idx") as s:  # doctest: +SKIP
    ...     head = s.read(8)
    """

    def __init__(self, path: PathLike, who: str, gz: bool | None = None) -> None:
        self.path, self.who = Path(path), who
        self.gz = self.path.suffix == ".gz" if gz is None else bool(gz)
        self._f = _open(self.path, who)
        try:
            self.size = os.fstat(self._f.fileno()).st_size
        except OSError as e:                       # pragma: no cover - fstat on an open file
            self._f.close()
            raise DataFileError(f"{who}: cannot read {str(path)!r} ({e})") from None
        self.max_content = self.size * GZIP_MAX_RATIO + 64 if self.gz else self.size
        self._d = zlib.decompressobj(31) if self.gz else None
        self._ended = False                        # gzip: the last member is finished
        self.pos = 0                               # content bytes given out so far

    def __enter__(self) -> DataStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._f.close()

    def fail(self, what: str) -> DataFileError:
        """A DataFileError ``"{who}: '{path}': {what}"`` (to raise)."""
        return DataFileError(f"{self.who}: {str(self.path)!r}: {what}")

    def _raw(self, n: int) -> bytes:
        try:
            return self._f.read(n)
        except OSError as e:
            raise DataFileError(f"{self.who}: cannot read {str(self.path)!r} ({e})") from None

    def _gunzip(self, n: int) -> bytes:
        """Up to ``n`` more decompressed bytes; b"" once every member has ended."""
        while not self._ended:
            d = self._d
            assert d is not None        # made for a gzip'd file, the only caller
            if d.eof:       # a member ended: then padding, another member, or the end of the file
                # (test eof first: with max_length, CPython also leaves what follows the member
                # in unconsumed_tail); gzip allows zero padding after a member
                data = d.unused_data.lstrip(b"\0")
                while not data:
                    chunk = self._raw(_CHUNK)
                    if not chunk:
                        self._ended = True
                        return b""
                    data = chunk.lstrip(b"\0")
                self._d = d = zlib.decompressobj(31)
            elif d.unconsumed_tail:
                data = d.unconsumed_tail
            else:
                data = self._raw(_CHUNK)
                if not data:
                    raise self.fail(f"the gzip stream ends early (truncated after {self.pos} "
                                    f"decompressed bytes)")
            try:
                out = d.decompress(data, n)
            except zlib.error as e:
                raise DataFileError(f"{self.who}: {str(self.path)!r} is not a valid gzip file "
                                    f"({e})") from None
            if out:
                return out
        return b""

    def read(self, n: int) -> bytes:
        """Up to ``n`` content bytes; fewer only at the end of the content."""
        if not self.gz:
            out = self._raw(n)
        else:
            parts, got = [], 0
            while got < n:
                out = self._gunzip(min(n - got, _OUT_CHUNK))
                if not out:
                    break
                parts.append(out)
                got += len(out)
            out = b"".join(parts)
        self.pos += len(out)
        return out

    def readinto(self, buf: Any) -> int:
        """Fill the writable buffer ``buf`` (a NumPy array or memoryview) from the content;
        returns the number of bytes filled, less than ``len(buf)`` only at the end."""
        mv = memoryview(buf).cast("B")
        want, got = len(mv), 0
        while got < want:
            if self.gz:
                out = self._gunzip(min(want - got, _OUT_CHUNK))
                k = len(out)
                mv[got:got + k] = out
            else:
                try:
                    k = self._f.readinto(mv[got:])
                except OSError as e:
                    raise DataFileError(f"{self.who}: cannot read {str(self.path)!r} "
                                        f"({e})") from None
            if not k:
                break
            got += k
        self.pos += got
        return got

    def read_all(self, limit: int, what: str = "the content", hint: str = "") -> bytes | bytearray:
        """The whole remaining content, refused (DataFileError) when it is more than
        ``limit`` bytes: before reading anything for a plain file, after reading at most
        ``limit + 1`` bytes for a gzip'd one (gathered in one growing buffer, so the peak is
        about the content plus one chunk)."""
        if not self.gz:
            if self.size - self.pos > limit:
                raise self.fail(f"{what} is {self.size - self.pos} bytes, more than the limit "
                                f"of {limit} bytes{hint}")
            out: bytes | bytearray = self.read(min(limit, self.size - self.pos) + 1)
        else:
            out = bytearray()
            while len(out) <= limit:
                chunk = self._gunzip(min(limit + 1 - len(out), _OUT_CHUNK))
                if not chunk:
                    break
                out += chunk
            self.pos += len(out)
        if len(out) > limit:
            raise self.fail(f"{what} decompresses to more than the limit of {limit} "
                            f"bytes{hint}")
        return out

    def finish(self, what: str = "the data") -> None:
        """Check that the content ends here: trailing bytes (or, for gzip, a stream that does
        not end properly) raise a DataFileError."""
        extra = self._gunzip(1) if self.gz else self._raw(1)
        if extra:
            raise self.fail(f"there is more content after {what} (trailing data: corrupt, "
                            f"or not this kind of file)")


def _candidates(name: str) -> list[Path]:
    env = config.get("data")    # GLASSNET_DATA
    out = []
    if env:
        out.append(Path(env).expanduser() / name)
        if Path(env).expanduser().name == name:     # GLASSNET_DATA=.../mnist, for mnist
            out.append(Path(env).expanduser())
    out.append(Path.cwd().parent / "shared" / "data" / name)
    out.append(_REPO.parent / "shared" / "data" / name)
    out.extend(_SYSTEM_DIRS.get(name, []))
    out.append(Path.home() / ".cache" / "glassnet" / name)
    return out


def find_data_dir(name: str, path: PathLike | None = None,
                  required: Sequence[str] | None = None) -> Path:
    """The folder holding dataset ``name`` ("mnist", "fashion-mnist", "tinyshakespeare", ...).

    ``path`` and ``$GLASSNET_DATA`` name the same folder: the data folder holding one
    sub-folder per dataset (``mnist/``, ``fashion-mnist/``, ``tinyshakespeare/``, as
    ``../shared/data`` does). ``path`` may also be the dataset's own folder: ``path/<name>``
    is used when it holds the ``required`` files, else ``path`` when it holds them; when
    neither does, the error names both layouts.

    Tried in order: ``path`` (when given, it must exist), ``$GLASSNET_DATA/<name>`` (or
    ``$GLASSNET_DATA`` itself when the folder is named ``<name>``),
    ``../shared/data/<name>`` relative to the current folder, then relative to the
    repository, ``/usr/share/datasets/fashion-mnist`` (Debian's package, for
    Fashion-MNIST), and ``~/.cache/glassnet/<name>``. ``required`` (file names)
    makes a folder count only when it holds all of them.

    Raises :class:`~glassnet.errors.DataFileNotFoundError` (a ``FileNotFoundError``)
    listing every place tried.

    Example
    -------
    >>> find_data_dir("mnist")            # doctest: +SKIP
    PosixPath('/work/shared/data/mnist')
    """
    required = list(required or [])
    if path is not None:
        p = Path(path).expanduser()
        if not p.exists():
            raise DataFileNotFoundError(f"find_data_dir({name!r}): path {str(p)!r} does not "
                                        f"exist")
        if not p.is_dir():
            return p
        sub = p / name
        if sub.is_dir() and all((sub / f).exists() for f in required):
            return sub          # the data folder (as GLASSNET_DATA): p/<name>/files
        if all((p / f).exists() for f in required) and (required or not sub.is_dir()):
            return p            # the dataset's own folder: p/files
        raise DataFileNotFoundError(
            f"find_data_dir({name!r}): {str(p)!r} holds neither {name}/ with {required} (a "
            f"data folder, as GLASSNET_DATA and ../shared/data are) nor {required} itself (the "
            f"dataset's own folder)")
    tried = _candidates(name)
    for p in tried:
        if p.is_dir() and all((p / f).exists() for f in required):
            return p
    raise DataFileNotFoundError(
        f"dataset {name!r} not found; looked in: " + ", ".join(str(p) for p in tried)
        + ". Put the files in one of them or set GLASSNET_DATA to the folder holding "
        + f"{name}/" + (f" (needed files: {required})" if required else ""))
