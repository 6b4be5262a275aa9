"""Measure how much of glassnet's public surface carries full type annotations.

The public surface is every name in ``__all__`` of every public module of the package (a
module whose dotted path has no component starting with ``_``; a public module without
``__all__`` contributes the public names it defines itself).  Each public function counts
once, and so does each public method (and ``__init__``, ``__call__``, property getter)
defined by a public class.  A callable is *fully annotated* when every parameter except
``self``/``cls`` has an annotation and the return is annotated (``__init__`` may leave the
return out, as mypy allows when its parameters are annotated).

    python tools/annotation_coverage.py            # totals
    python tools/annotation_coverage.py --missing  # also list what is not annotated
    python tools/annotation_coverage.py --by-file  # per source file
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

DUNDERS = {"__init__", "__call__", "__iter__", "__len__", "__getitem__", "__enter__",
           "__exit__", "__repr__", "__contains__", "__setitem__"}


def public_modules(package: str = "glassnet") -> Iterator[object]:
    pkg = importlib.import_module(package)
    yield pkg
    for info in pkgutil.walk_packages(pkg.__path__, prefix=package + "."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        if info.name.startswith("glassnet.cli"):  # the command line, not an API
            continue
        try:
            yield importlib.import_module(info.name)
        except ImportError:   # an optional extra that is not installed
            continue


def public_names(module: object) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [n for n, v in vars(module).items() if not n.startswith("_")
            and getattr(v, "__module__", None) == module.__name__]   # type: ignore[attr-defined]


def fully_annotated(fn: Callable[..., object], name: str) -> bool:
    fn = inspect.unwrap(fn)
    ann = getattr(fn, "__annotations__", None)
    if ann is None:
        return False
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    for i, p in enumerate(params):
        if i == 0 and p.name in ("self", "cls"):
            continue
        if p.name not in ann:
            return False
    if "return" not in ann and not (name == "__init__" and len(params) > 1):
        return False
    return True


def callables() -> dict[tuple[str, str], tuple[Callable[..., object], str, str]]:
    """(module, qualname) -> (function, short name, source file)."""
    found: dict[tuple[str, str], tuple[Callable[..., object], str, str]] = {}

    def add(fn: object, name: str) -> None:
        fn = inspect.unwrap(fn)  # type: ignore[arg-type]
        if not inspect.isfunction(fn) or not fn.__module__.startswith("glassnet"):
            return
        src = inspect.getsourcefile(fn) or "?"
        if src == "?" or not Path(src).is_file():   # generated (dataclass, exec): no source
            return
        found[(fn.__module__, fn.__qualname__)] = (fn, name, src)

    for mod in public_modules():
        for name in public_names(mod):
            obj = getattr(mod, name, None)
            if obj is None:
                continue
            if inspect.isclass(obj):
                if not obj.__module__.startswith("glassnet"):
                    continue
                for attr, val in vars(obj).items():
                    if attr.startswith("_") and attr not in DUNDERS:
                        continue
                    if isinstance(val, (staticmethod, classmethod)):
                        val = val.__func__
                    elif isinstance(val, property):
                        val = val.fget
                    add(val, attr)
            else:
                add(obj, name)
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--missing", action="store_true", help="list the unannotated callables")
    ap.add_argument("--by-file", action="store_true", help="counts per source file")
    ap.add_argument("--under", default="", help="only files under this path (e.g. src/glassnet/nn)")
    args = ap.parse_args(argv)
    root = Path(importlib.import_module("glassnet").__file__).resolve().parent.parent
    per_file: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    missing = []
    for (mod, qual), (fn, name, src) in sorted(callables().items()):
        try:
            rel = str(Path(src).resolve().relative_to(root)) if src != "?" else src
        except ValueError:  # generated code (exec, namedtuple): no file of ours
            continue
        if args.under and not rel.startswith(args.under.removeprefix("src/")):
            continue
        ok = fully_annotated(fn, name)
        per_file[rel][0] += ok
        per_file[rel][1] += 1
        if not ok:
            missing.append(f"{rel}: {qual}")
    done = sum(v[0] for v in per_file.values())
    total = sum(v[1] for v in per_file.values())
    if args.by_file:
        for rel, (a, t) in sorted(per_file.items()):
            print(f"{a:5d}/{t:<5d} {rel}")
    if args.missing:
        print("\n".join(missing))
    print(f"fully annotated: {done}/{total} = {100.0 * done / max(total, 1):.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
