"""One-off codemod (kept for the record and for new modules): annotate the parameters of
public functions whose NAME fixes their type across glassnet (``input: TensorLike``,
``dtype: DTypeLike``, ``keepdim: bool``, ...), and the return of a function every one of
whose ``return`` statements returns ``SomeFunction.apply(...)`` (a Tensor). A parameter
whose default is None gets ``X | None``. The names come from glassnet._typing, imported
under TYPE_CHECKING so that no import cycle appears at run time. mypy then checks every
annotated body: a name whose table type is wrong for one function shows up there.

    python tools/annotate_names.py FILE...
"""
from __future__ import annotations

import sys

import libcst as cst

T = "Tensor"      # PyTorch's stubs annotate these so; bodies use .shape, .ndim, ...
A = "TensorLike"  # a Tensor, an array, a Python number or a nested list
TABLE: dict[str, str] = {
    "input": T, "x": T, "other": A, "target": T, "tensor": T, "img": T, "mask": T,
    "index": T, "w_ih": T, "w_hh": T, "b_ih": T, "b_hh": T, "lengths": T, "y_true": A,
    "y_pred": A, "X": A,
    "dtype": "DTypeLike", "device": "DeviceLike", "dim": "Dims", "axis": "Dims",
    "keepdim": "bool", "keepdims": "bool", "inplace": "bool", "requires_grad": "bool",
    "training": "bool", "maximize": "bool", "differentiable": "bool", "capturable": "bool",
    "foreach": "bool", "size_average": "bool", "reduce": "bool",
    "path": "PathLike", "name": "str", "title": "str", "reduction": "str",
    "generator": "Generator", "eps": "float", "lr": "float", "weight_decay": "float",
    "margin": "float", "norm_type": "float", "seed": "int", "last_epoch": "int",
    "hidden_size": "int", "input_size": "int",
    "kernel_size": "IntTuple", "stride": "IntTuple", "dilation": "IntTuple",
    "output_size": "IntTuple", "padding": "IntTuple | str", "memory_format": "object",
    "optimizer": "Optimizer",
}
IMPORTS = {
    "TensorLike": "from glassnet._typing import TensorLike",
    "DTypeLike": "from glassnet._typing import DTypeLike",
    "DeviceLike": "from glassnet._typing import DeviceLike",
    "Dims": "from glassnet._typing import Dims",
    "IntTuple": "from glassnet._typing import IntTuple",
    "PathLike": "from glassnet._typing import PathLike",
    "Generator": "from glassnet.autograd.generator import Generator",
    "Optimizer": "from glassnet.optim.optimizer import Optimizer",
    "Tensor": "from glassnet.autograd.tensor import Tensor",
    "Any": "from typing import Any",
}
PUBLIC_DUNDERS = {"__init__", "__call__"}


class _Returns(cst.CSTVisitor):
    def __init__(self) -> None:
        self.values: list[cst.BaseExpression | None] = []
        self.yields = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False        # nested functions have returns of their own

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Return(self, node: cst.Return) -> None:
        self.values.append(node.value)

    def visit_Yield(self, node: cst.Yield) -> None:
        self.yields = True



def insert_after_imports(code: str, block: str) -> str:
    """``code`` with ``block`` inserted after the last top-level import of the module's
    header (after the closing line of a parenthesised import)."""
    body = code.split("\n")
    last = 0
    for i, line in enumerate(body):
        if line.startswith(("import ", "from ")):
            last = i
        elif line.startswith(("def ", "class ", "@")):
            break
    j = last
    if "(" in body[last] and ")" not in body[last]:
        while ")" not in body[j]:
            j += 1
    body.insert(j + 1, block)
    return "\n".join(body)

def _is_apply(e: cst.BaseExpression | None) -> bool:
    return (isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute)
            and e.func.attr.value == "apply")


class Annotate(cst.CSTTransformer):
    def __init__(self, is_function_module: bool) -> None:
        self.used: set[str] = set()
        self.depth = 0
        self.class_depth = 0
        self.is_function_module = is_function_module

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.class_depth += 1

    def leave_ClassDef(self, o: cst.ClassDef, n: cst.ClassDef) -> cst.ClassDef:
        self.class_depth -= 1
        return n

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, o: cst.FunctionDef, n: cst.FunctionDef) -> cst.FunctionDef:
        self.depth -= 1
        name = n.name.value
        if self.depth > 0 or (name.startswith("_") and name not in PUBLIC_DUNDERS):
            return n
        in_class = self.class_depth > 0

        def fix(p: cst.Param) -> cst.Param:
            if p.annotation is not None or p.name.value not in TABLE:
                return p
            ann = TABLE[p.name.value]
            # in a Function subclass forward/backward see raw arrays, not Tensors
            if in_class and ann in (T, A) and name in ("forward", "backward") and self.is_function_module:
                return p
            if isinstance(p.default, cst.Name) and p.default.value == "None":
                ann = f"{ann} | None" if "None" not in ann and ann not in ("Dims", "DTypeLike", "DeviceLike") else ann
            for part in ann.replace("|", " ").split():
                if part in IMPORTS:
                    self.used.add(part)
            eq = (cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(" "),
                                  whitespace_after=cst.SimpleWhitespace(" "))
                  if p.default is not None else cst.MaybeSentinel.DEFAULT)
            return p.with_changes(annotation=cst.Annotation(cst.parse_expression(ann)), equal=eq)

        params = n.params.with_changes(
            params=[fix(p) for p in n.params.params],
            kwonly_params=[fix(p) for p in n.params.kwonly_params],
            posonly_params=[fix(p) for p in n.params.posonly_params])
        n = n.with_changes(params=params)
        if n.returns is None and name != "__init__":
            v = _Returns()
            o.body.visit(v)
            if v.values and not v.yields and all(_is_apply(e) for e in v.values):
                n = n.with_changes(returns=cst.Annotation(cst.Name("Tensor")))
                self.used.add("Tensor")
        return n


def annotate(path: str) -> bool:
    src = open(path, encoding="utf-8").read()
    mod = cst.parse_module(src)
    tr = Annotate(is_function_module=True)
    new = mod.visit(tr)
    if not tr.used and new.code == src:
        return False
    code = new.code
    import os
    here = os.path.abspath(path).split(os.sep + "src" + os.sep, 1)[1][:-3].replace(os.sep, ".")
    lines = []
    for name in sorted(tr.used):
        imp = IMPORTS[name]
        if imp.split()[1] == here:
            continue                                  # the module defines the name itself
        lines.append("    " + imp)
    if lines:
        block = "\nif TYPE_CHECKING:  # annotations only\n" + "\n".join(lines) + "\n"
        code = insert_after_imports(code, block)
        if "TYPE_CHECKING" not in code.split("if TYPE_CHECKING:  # annotations only")[0]:
            code = code.replace(block, "\nfrom typing import TYPE_CHECKING\n" + block, 1)
    if "from __future__ import annotations" not in code:
        raise SystemExit(f"{path}: needs 'from __future__ import annotations' first")
    open(path, "w", encoding="utf-8").write(code)
    return True


if __name__ == "__main__":
    for f in sys.argv[1:]:
        if annotate(f):
            print("annotated", f)
