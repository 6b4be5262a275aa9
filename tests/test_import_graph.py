"""No import cycles in src/glassnet.

The graph is read from the source with ``ast`` (nothing is imported): every ``import`` and
``from ... import`` statement counts, at module level and inside functions alike, because a
cycle that is only closed inside a function still couples the two modules and breaks as soon
as someone hoists the import. Imports under ``if TYPE_CHECKING:`` never run and are skipped.

An edge M -> T is added for each module T that executing the statement in M imports:

* ``import a.b.c`` and ``from a.b.c import name``: ``a.b.c``, and the packages above it
  (``a.b``, ``a``) whose ``__init__`` has to run first, except the packages above M itself,
  which are already imported by the time M runs;
* ``from pkg import name``: the submodule ``pkg.name`` when it is a module, else ``pkg``;
* relative imports are resolved against M's package first.

A package ``__init__`` that imports its own submodules is therefore no cycle, but a
submodule that imports its package back (``from glassnet.models import X`` inside
glassnet.models.pretrain, X not a module) is one.
"""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "glassnet"


def module_files(src: Path, root: str) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under ``src/root`` (a package's
    ``__init__.py`` is the package's own name)."""
    out = {}
    for path in sorted((src / root).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every Import / ImportFrom node of a module, at any depth, outside TYPE_CHECKING."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)   # only the else branch runs
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imported_modules(name: str, path: Path, modules: dict[str, Path], root: str) -> set[str]:
    """The modules of ``root`` that running the file of module ``name`` imports."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    targets = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
            continue
        if node.level:  # relative: strip level - 1 packages off the current package
            base_parts = package.split(".")
            base_parts = base_parts[:len(base_parts) - (node.level - 1)]
            base = ".".join(base_parts + ([node.module] if node.module else []))
        else:
            base = node.module
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            targets.add(sub if sub in modules else base)
    own = set(_ancestors(name))
    edges = set()
    for t in targets:
        if not (t == root or t.startswith(root + ".")):
            continue
        # `import a.b.c` runs the __init__ of every package above a.b.c that is not
        # already running above this module
        edges.update(a for a in _ancestors(t) if a not in own)
        edges.add(t)
    edges.discard(name)
    return {e for e in edges if e in modules}


def import_graph(src: Path = SRC, root: str = ROOT) -> dict[str, set[str]]:
    modules = module_files(src, root)
    return {name: imported_modules(name, path, modules, root) for name, path in modules.items()}


def knots(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components that hold a cycle (Tarjan's algorithm, iterative):
    sets of modules that all import each other, directly or through the others."""
    index, low, on_stack, stack, comps = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1 or v in graph[v]:
                        comps.append(set(comp))
    return comps


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle ``[a, b, ..., a]`` through each knot, sorted."""
    return sorted(_cycle_in(graph, comp) for comp in knots(graph))


def _cycle_in(graph, comp):
    """A shortest cycle through the smallest member of a strongly connected component."""
    start = min(comp)
    prev, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & comp):
                if w == start:
                    path = [v]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return [start] + path[::-1][1:] + [start] if v != start else [start, start]
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle through {start} in {sorted(comp)}")


# ---------------------------------------------------------------------- the rule
def test_no_import_cycles_in_src():
    graph = import_graph()
    lines = []
    for comp in sorted(knots(graph), key=min):
        lines.append("  " + " -> ".join(_cycle_in(graph, comp)))
        if len(comp) > 2 and len(_cycle_in(graph, comp)) <= len(comp):
            lines.append(f"    (one cycle of a knot of {len(comp)} modules: "
                         f"{', '.join(sorted(comp))})")
    assert not lines, "import cycles in src/glassnet:\n" + "\n".join(lines)


# ---------------------------------------------------------------------- the checker itself
def _tree(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / "pkg" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return import_graph(tmp_path, "pkg")


def test_graph_resolves_relative_function_level_and_from_imports(tmp_path):
    g = _tree(tmp_path, {
        "__init__.py": "from .a import f\nfrom . import b\n",
        "a.py": "import numpy\nfrom .sub import thing\n",     # name in a package
        "b.py": "def g():\n    from .sub.leaf import h\n",    # function level, two deep
        "c.py": "from .sub import leaf\nimport pkg.b\n",      # a submodule, absolute
        "d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n",
        "sub/__init__.py": "",
        "sub/leaf.py": "from .. import a\nfrom ..b import g\n",
    })
    assert g["pkg"] == {"pkg.a", "pkg.b"}
    assert g["pkg.a"] == {"pkg.sub"}
    assert g["pkg.b"] == {"pkg.sub", "pkg.sub.leaf"}
    assert g["pkg.c"] == {"pkg.sub", "pkg.sub.leaf", "pkg.b"}
    assert g["pkg.d"] == set()
    # the packages above sub.leaf are already running when it runs: no edge to them
    assert g["pkg.sub.leaf"] == {"pkg.a", "pkg.b"}
    # b -> sub.leaf -> b: a cycle closed inside a function counts
    assert cycles(g) == [["pkg.b", "pkg.sub.leaf", "pkg.b"]]


def test_package_init_importing_submodules_is_no_cycle_but_importing_it_back_is(tmp_path):
    files = {"__init__.py": "from .a import f\nfrom .b import g\n",
             "a.py": "def f(): pass\n", "b.py": "from .a import f\ndef g(): pass\n"}
    assert cycles(_tree(tmp_path, files)) == []
    files["b.py"] = "from pkg import f\ndef g(): pass\n"   # the package, not a module
    assert cycles(_tree(tmp_path, files)) == [["pkg", "pkg.b", "pkg"]]


def test_a_sibling_importing_a_package_whose_init_imports_it_back_is_a_cycle(tmp_path):
    # models/__init__ -> x -> models.y.z runs models/y/__init__ -> w -> x
    g = _tree(tmp_path, {
        "__init__.py": "", "x.py": "from .y.z import q\n",
        "y/__init__.py": "from .w import r\n", "y/z.py": "q = 1\n",
        "y/w.py": "from ..x import q\nr = q\n"})
    assert cycles(g) == [["pkg.x", "pkg.y", "pkg.y.w", "pkg.x"]]
