"""One-off codemod (kept for the record): give ``-> Tensor`` to a public function or method
every one of whose ``return`` statements returns a call of something already known to return
a Tensor: ``SomeFunction.apply(...)``, ``Tensor(...)``, or a function whose own annotation is
``-> Tensor`` (found across the package, repeated until nothing changes; a name defined
twice with different returns is not trusted). mypy checks the result: a wrong guess whose
returned value mypy knows is an error there.

    python tools/annotate_returns.py src/glassnet FILE...
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import libcst as cst

from annotate_names import _Returns, insert_after_imports  # tools/ is sys.path[0] when run


def tensor_returning(root: Path) -> set[str]:
    good: set[str] = set()
    bad: set[str] = set()
    for f in root.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                r = ast.unparse(node.returns) if node.returns else None
                if r in ("Tensor", "'Tensor'"):
                    good.add(node.name)
                elif r is not None:
                    bad.add(node.name)
    return good - bad


def _callee(e: cst.BaseExpression | None) -> str | None:
    if not isinstance(e, cst.Call):
        return None
    f = e.func
    if isinstance(f, cst.Name):
        return f.value
    if isinstance(f, cst.Attribute):
        # Function.apply, or a function reached through a module (F.relu, functional.conv2d);
        # never a method of an unknown receiver (an ndarray's reshape is not a Tensor's)
        if f.attr.value == "apply" or (isinstance(f.value, cst.Name)
                                       and f.value.value in MODULES):
            return f.attr.value
    return None


MODULES = {"F", "functional", "_F", "gn", "glassnet", "_functional", "fn_math", "_math",
           "_shape", "_reduce", "_elementwise", "_act", "activations", "losses", "shape",
           "reduce", "elementwise", "math", "factories"}


class Annotate(cst.CSTTransformer):
    def __init__(self, known: set[str], raw_arrays: bool = False) -> None:
        self.raw_arrays = raw_arrays     # functional/, autograd/: forward sees ndarrays
        self.known = known | {"apply", "Tensor", "as_tensor", "tensor"}
        self.depth = 0
        self.changed = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, o: cst.FunctionDef, n: cst.FunctionDef) -> cst.FunctionDef:
        self.depth -= 1
        if self.depth > 0 or n.returns is not None or n.name.value in ("__init__", "backward") \
                or (n.name.value == "forward" and self.raw_arrays) \
                or (n.name.value.startswith("_") and n.name.value != "__call__"):
            return n
        v = _Returns()
        o.body.visit(v)
        if v.values and not v.yields and all(_callee(e) in self.known for e in v.values):
            self.changed = True
            return n.with_changes(returns=cst.Annotation(cst.Name("Tensor")))
        return n


def main(root: str, files: list[str]) -> None:
    known = tensor_returning(Path(root))
    for _ in range(5):
        changed = 0
        for f in files:
            src = Path(f).read_text(encoding="utf-8")
            tr = Annotate(known, raw_arrays=("/functional/" in f or "/autograd/" in f))
            code = cst.parse_module(src).visit(tr).code
            if tr.changed:
                here = f.split("src/", 1)[-1][:-3].replace("/", ".")
                if "Tensor" not in _imported(code) and here != "glassnet.autograd.tensor":
                    code = _add_import(code)
                Path(f).write_text(code, encoding="utf-8")
                changed += 1
        known = tensor_returning(Path(root))
        if not changed:
            break


def _imported(code: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, (ast.ImportFrom, ast.Import)):
            names |= {a.asname or a.name for a in node.names}
    return names


def _add_import(code: str) -> str:
    line = "    from glassnet.autograd.tensor import Tensor\n"
    key = "if TYPE_CHECKING:  # annotations only\n"
    if key in code:
        return code.replace(key, key + line, 1)
    return insert_after_imports(code, "\nfrom typing import TYPE_CHECKING\n\n" + key + line)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
