"""The import graph of glassnet.cli (read with tests/test_import_graph.py's walker, which
counts imports inside functions): main is imported by nothing, every command module shares
cli/runs.py, and nothing below cli (library code, examples) imports from it."""
from pathlib import Path

from ..test_import_graph import cycles, import_graph, imported_modules, module_files

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def test_cli_import_graph_is_acyclic_and_nothing_imports_main():
    full = import_graph()
    graph = {m: {t for t in deps if t.startswith("glassnet.cli")}
             for m, deps in full.items() if m.startswith("glassnet.cli")}
    assert cycles(graph) == [], cycles(graph)
    importers_of_main = [m for m, deps in graph.items() if "glassnet.cli.main" in deps]
    assert importers_of_main == []
    # every command module shares cli/runs.py, which needs no other cli module
    for cmd in ("classify", "autoencoder", "text", "inspect_cmd"):
        assert "glassnet.cli.runs" in graph[f"glassnet.cli.{cmd}"], cmd
        assert graph[f"glassnet.cli.{cmd}"] <= {"glassnet.cli", "glassnet.cli.runs"}, cmd
    assert graph["glassnet.cli.runs"] <= {"glassnet.cli"}


def test_the_cycle_finder_sees_function_level_imports(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n")
    (pkg / "b.py").write_text("from . import c\n")
    (pkg / "c.py").write_text("import pkg.a\n")
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.c"}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_nothing_outside_cli_imports_from_it():
    """cli is the top of the house: library code and the examples import plotting and
    helpers from glassnet.inspect and friends, never from glassnet.cli."""
    modules = module_files(SRC, "glassnet")
    # glassnet/__main__.py is `python -m glassnet`, the command's second entry point
    # (beside the console script), so it is part of the command, not library code
    files = {m: p for m, p in modules.items()
             if not m.startswith("glassnet.cli") and m != "glassnet.__main__"}
    files.update({f"examples.{p.stem}": p for p in sorted((ROOT / "examples").glob("*.py"))})
    offenders = [m for m, p in files.items()
                 if any(t.startswith("glassnet.cli") for t in imported_modules(m, p, modules,
                                                                                 "glassnet"))]
    assert offenders == []
