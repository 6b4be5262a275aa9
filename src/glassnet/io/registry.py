"""The explicit registry of the Module classes a model file may name.

A file names its classes by dotted name (``glassnet.nn.linear.Linear``); :func:`resolve`
turns a name into a class by a dictionary lookup only, never by importing a module the
file names. The registry holds

* glassnet's own Module classes: every subclass of ``nn.Module`` defined in the packages of
  :data:`PACKAGES` (imported here, by glassnet's own code);
* the old names of classes that moved (files written before the move keep loading);
* the classes a user registered with :func:`register`.

>>> resolve("glassnet.nn.linear.Linear", "doc").__name__
'Linear'
>>> resolve("os.system", "doc")
Traceback (most recent call last):
...
glassnet.errors.ModelFileError: doc: the file names class 'os.system', which is neither part of glassnet nor registered: ...
"""
from __future__ import annotations

import importlib
import threading

from ..errors import ArgumentTypeError, ModelFileError
from ..nn.module import Module

from collections.abc import Callable
from typing import Any, TypeVar, overload

_M = TypeVar("_M", bound="type[Module]")

__all__ = ["PACKAGES", "register", "resolve", "registered", "class_name"]

PACKAGES = ("glassnet.nn", "glassnet.models")
_USER: dict[str, type[Module]] = {}
_OWN: dict[str, type[Module]] = {}
_LOCK = threading.Lock()
# classes that moved to another module: files written before the move name the old place
_MOVED = {f"glassnet.models.autoencoder.{c}": f"glassnet.models.{m}.{c}" for m, c in (
    ("stacked_autoencoder", "StackedAutoencoder"), ("conv_autoencoder", "ConvAutoencoder"),
    ("anomaly", "AnomalyDetector"))}


def class_name(cls: type) -> str:
    """The name a file stores for ``cls``: ``module.qualname``."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _in_packages(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in PACKAGES)


def _own_classes(refresh: bool = False) -> dict[str, type[Module]]:
    """glassnet's own Module classes by name, computed once (again with ``refresh``: a
    glassnet module imported since) into a new dict that replaces the old one whole, so a
    concurrent lookup never sees half a registry."""
    global _OWN
    with _LOCK:
        if _OWN and not refresh:
            return _OWN
        for p in PACKAGES:
            importlib.import_module(p)       # a fixed list, never a name from a file
        own: dict[str, type[Module]] = {}
        stack: list[type[Module]] = [Module]
        seen: set[type[Module]] = set()
        while stack:
            c = stack.pop()
            if c in seen:
                continue
            seen.add(c)
            stack.extend(c.__subclasses__())
            if (c is Module or _in_packages(c.__module__)) and "<locals>" not in c.__qualname__:
                own[class_name(c)] = c
        _OWN = own
        return own


def registered() -> dict[str, type[Module]]:
    """Every name :func:`resolve` accepts, mapped to its class (a copy)."""
    out = dict(_own_classes())
    out.update({old: out[new] for old, new in _MOVED.items() if new in out})
    out.update(_USER)
    return out


@overload
def register(cls: _M, *, name: str | None = None) -> _M: ...
@overload
def register(cls: None = None, *, name: str | None = None) -> Callable[[_M], _M]: ...
def register(cls: Any = None, *, name: str | None = None) -> Any:
    """Allow ``load`` to build a Module class defined outside glassnet (usable as a
    decorator, ``@glassnet.io.register``); ``name`` overrides the stored name
    (default ``module.qualname``). Only registered classes and glassnet's own are ever
    instantiated by a load.

    >>> @register(name="mypackage.Net")
    ... class Net(nn.Module):
    ...     pass
    >>> resolve("mypackage.Net", "doc") is Net
    True
    """
    def deco(c: _M) -> _M:
        if not (isinstance(c, type) and issubclass(c, Module)):
            raise ArgumentTypeError(f"register: expected a Module subclass, got {c!r}")
        key = name if name is not None else class_name(c)
        if not isinstance(key, str) or not key:
            raise ArgumentTypeError(f"register: name must be a non-empty string, got {key!r}")
        own = _own_classes().get(key)
        if own is not None and own is not c:
            raise ModelFileError(f"register: {key!r} is the name of glassnet's own class "
                                 f"{own.__qualname__}; give your class another name")
        _USER[key] = c
        return c
    return deco(cls) if cls is not None else deco


def resolve(name: str, who: str) -> type[Module]:
    """The class registered under ``name``; a name that is not there is a
    :class:`ModelFileError` saying how to register it."""
    if not isinstance(name, str):
        raise ModelFileError(f"{who}: a class name must be a string, got "
                             f"{type(name).__name__}")
    if name in _USER:
        return _USER[name]
    key = _MOVED.get(name, name)
    cls = _own_classes().get(key)
    if cls is None and _in_packages(key.rpartition(".")[0]):
        cls = _own_classes(refresh=True).get(key)   # a glassnet module imported since
    if cls is None:
        where = ("is not a Module class of glassnet.nn or glassnet.models in this glassnet "
                 "version" if name.startswith("glassnet.") else "is neither part of glassnet "
                 "nor registered")
        raise ModelFileError(
            f"{who}: the file names class {name[:200]!r}, which {where}: only classes of "
            f"{', '.join(PACKAGES)} and classes registered with @glassnet.io.register are "
            "built. If it is your own class, import its module and decorate the class with "
            "@glassnet.io.register (or build the model yourself and use "
            "glassnet.io.load_weights(model, path))")
    return cls
