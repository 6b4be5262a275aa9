"""Where datasets live: ``find_data_dir`` and checksum helpers."""
from __future__ import annotations

import hashlib
from pathlib import Path

from ..backend import config

__all__ = ["find_data_dir", "sha256_file"]

# src/glassnet/data/paths.py -> the repository root is three folders up from this package
_REPO = Path(__file__).resolve().parents[3]
_SYSTEM_DIRS = {"fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")]}


def sha256_file(path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _candidates(name):
    env = config.get("data")    # GLASSNET_DATA
    out = []
    if env:
        out.append(Path(env).expanduser() / name)
    out.append(Path.cwd().parent / "shared" / "data" / name)
    out.append(_REPO.parent / "shared" / "data" / name)
    out.extend(_SYSTEM_DIRS.get(name, []))
    out.append(Path.home() / ".cache" / "glassnet" / name)
    return out


def find_data_dir(name: str, path=None, required=None) -> Path:
    """The folder holding dataset ``name`` ("mnist", "fashion-mnist", "tinyshakespeare", ...).

    Tried in order: ``path`` (when given, it must exist), ``$GLASSNET_DATA/<name>``,
    ``../shared/data/<name>`` relative to the current folder, then relative to the
    repository, ``/usr/share/datasets/fashion-mnist`` (Debian's package, for
    Fashion-MNIST), and ``~/.cache/glassnet/<name>``. ``required`` (file names)
    makes a folder count only when it holds all of them.

    Raises FileNotFoundError listing every place tried.

    Example
    -------
    >>> find_data_dir("mnist")            # doctest: +SKIP
    PosixPath('/work/shared/data/mnist')
    """
    required = list(required or [])
    if path is not None:
        p = Path(path).expanduser()
        if not p.exists():
            raise FileNotFoundError(f"find_data_dir({name!r}): path {str(p)!r} does not exist")
        missing = [f for f in required if not (p / f).exists()] if p.is_dir() else []
        if missing:
            raise FileNotFoundError(f"find_data_dir({name!r}): {str(p)!r} lacks {missing}")
        return p
    tried = _candidates(name)
    for p in tried:
        if p.is_dir() and all((p / f).exists() for f in required):
            return p
    raise FileNotFoundError(
        f"dataset {name!r} not found; looked in: " + ", ".join(str(p) for p in tried)
        + ". Put the files in one of them or set GLASSNET_DATA to the folder holding "
        + f"{name}/" + (f" (needed files: {required})" if required else ""))
