"""The import graph of glassnet.cli: acyclic, counting imports inside functions; the shared
code in cli/runs.py; nothing below cli (library code, examples) imports from it."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def _module_name(path, src):
    parts = list(path.relative_to(src).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(path, src=SRC):
    """Every module name that ``path`` imports anywhere in its body (top level, functions,
    conditionals), relative imports resolved: ``from . import b`` gives ``pkg.b``,
    ``from .b import x`` gives ``pkg.b`` and ``pkg.b.x``."""
    inside = src in path.parents
    name = _module_name(path, src) if inside else ""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield node.lineno, [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            mod = (f"{base}.{node.module}" if node.module else base) if node.level \
                else node.module
            # "from . import b" imports b (the package is only a fallback when b is a name
            # defined in it); "from .b import x" imports b, and x when x is a module
            names = [f"{mod}.{a.name}" for a in node.names]
            yield node.lineno, names if node.module is None else [mod] + names


def import_graph(folder, src=SRC):
    """{module: modules of ``folder`` it imports} for every module in ``folder``."""
    files = {_module_name(p, src): p for p in sorted(Path(folder).rglob("*.py"))}
    graph = {}
    for m, p in files.items():
        graph[m] = set()
        for _, targets in _targets(p, src):
            for t in targets:
                # "import a.b.c" also imports a and a.b; the deepest known module is the edge
                while t and t not in files:
                    t = t.rpartition(".")[0]
                if t and t != m:
                    graph[m].add(t)
    return graph


def find_cycle(graph):
    """One import cycle [a, b, ..., a] in ``graph`` (module -> modules), or None."""
    state = {}

    def visit(m, path):
        state[m] = "open"
        for n in sorted(graph.get(m, ())):
            if state.get(n) == "open":
                return path[path.index(n):] + [n]
            if n not in state:
                cycle = visit(n, path + [n])
                if cycle:
                    return cycle
        state[m] = "done"
        return None

    for m in sorted(graph):
        if m not in state:
            cycle = visit(m, [m])
            if cycle:
                return cycle
    return None


def test_cli_import_graph_is_acyclic_and_nothing_imports_main():
    graph = import_graph(SRC / "glassnet" / "cli")
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))
    importers_of_main = [m for m, deps in graph.items() if "glassnet.cli.main" in deps]
    assert importers_of_main == []
    # every command module shares cli/runs.py, which needs no other cli module
    for cmd in ("classify", "autoencoder", "text", "inspect_cmd"):
        assert "glassnet.cli.runs" in graph[f"glassnet.cli.{cmd}"], cmd
        assert graph[f"glassnet.cli.{cmd}"] <= {"glassnet.cli", "glassnet.cli.runs"}, cmd
    assert graph["glassnet.cli.runs"] <= {"glassnet.cli"}


def test_the_cycle_finder_sees_function_level_imports(tmp_path):
    pkg = tmp_path / "src" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n")
    (pkg / "b.py").write_text("from . import c\n")
    (pkg / "c.py").write_text("import pkg.a\n")
    graph = import_graph(pkg, src=tmp_path / "src")
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.c"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]


def test_nothing_outside_cli_imports_from_it():
    """cli is the top of the house: library code and the examples import plotting and
    helpers from glassnet.inspect and friends, never from glassnet.cli."""
    files = [p for p in (SRC / "glassnet").rglob("*.py") if "cli" not in p.parts]
    files += sorted((ROOT / "examples").glob("*.py"))
    offenders = [f"{p.relative_to(ROOT)}:{line}" for p in files for line, targets in _targets(p)
                 if any(t == "glassnet.cli" or t.startswith("glassnet.cli.") for t in targets)]
    assert offenders == []
