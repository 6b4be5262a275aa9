"""Write the API reference pages of the documentation site (docs/api/*.md).

One page per area of the package; on it, one ``::: module`` block (rendered by mkdocstrings
from the docstrings) for every public module of that area, with the module's ``__all__`` as
its members. A package whose ``__init__`` only re-exports is left out (its names are
documented where they are defined); one that defines public names itself is listed with
those names. Rerun after adding a module; tests/docs/test_site.py fails when a public module
is missing from the pages:

    python tools/gen_api_pages.py            # rewrite docs/api/
    python tools/gen_api_pages.py --check    # exit 1 if the pages are out of date
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
API = REPO / "docs" / "api"

# page file -> (title, module prefixes, one-line introduction)
PAGES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "glassnet.md": ("glassnet", ("glassnet",),
                    "The top-level package: `import glassnet as gn`; the tensor functions it "
                    "re-exports are documented on the pages of the modules that define them."),
    "autograd.md": ("Tensors and autograd", ("glassnet.autograd",),
                    "`Tensor`, `Function`, the backward engine, gradient modes and factories."),
    "functional.md": ("glassnet.functional", ("glassnet.functional",),
                      "Pure tensor functions, one `Function` each with a hand-written backward."),
    "nn.md": ("glassnet.nn", ("glassnet.nn",),
              "`Module`, the layers, losses, initialisers, `nn.functional` and `nn.utils`."),
    "optim.md": ("glassnet.optim", ("glassnet.optim",),
                 "Optimizers, learning-rate schedules and gradient clipping."),
    "data.md": ("glassnet.data", ("glassnet.data",),
                "glassnet's NumPy datasets, loaders, splits, encoders and scalers."),
    "training.md": ("glassnet.training", ("glassnet.training",),
                    "The `Trainer` (fit / evaluate / predict), callbacks and history."),
    "models.md": ("glassnet.models", ("glassnet.models",),
                  "Ready architectures built from `nn`."),
    "text.md": ("glassnet.text", ("glassnet.text",),
                "Words to ids, word vectors, word-level language models, taggers, the window "
                "classifier and a CNN for text."),
    "rl.md": ("glassnet.rl", ("glassnet.rl",),
              "Deep Q-learning on Gymnasium environments: replay buffer, epsilon schedules, "
              "`DQNAgent`."),
    "inspect.md": ("glassnet.inspect", ("glassnet.inspect",),
                   "Backprop traces, gradient flow, activation statistics and pictures."),
    "selection.md": ("glassnet.selection", ("glassnet.selection",),
                     "Cross-validation, grid and random search, restarts, learning curves."),
    "io.md": ("glassnet.io", ("glassnet.io",),
              "Model files (safetensors + JSON, never pickle) and checkpoints."),
    "utils.md": ("glassnet.utils", ("glassnet.utils",),
                 "PyTorch's `torch.utils.data`: datasets, samplers, `DataLoader`, collation."),
    "vision.md": ("glassnet.vision", ("glassnet.vision",),
                  "torchvision's face: datasets, transforms and image utilities."),
    "metrics.md": ("Metrics, validation, errors",
                   ("glassnet.metrics", "glassnet.validation", "glassnet.errors"),
                   "Metrics, the argument checks every public call uses, and glassnet's "
                   "exception classes."),
    "sklearn.md": ("glassnet.sklearn", ("glassnet.sklearn",),
                   "scikit-learn estimators: NeuralNetClassifier, NeuralNetRegressor, "
                   "NeuralNetTransformer."),
    "onnx.md": ("glassnet.onnx", ("glassnet.onnx",),
                "ONNX export of glassnet models, checked with onnxruntime."),
    "backend.md": ("glassnet.backend", ("glassnet.backend",),
                   "Everything about speed and the process: knobs, arrays, threads, memory, "
                   "compiled kernels."),
}
SKIP = ("glassnet.cli",)   # the command line: documented in the guides, not an API


def public_modules() -> list[tuple[str, list[str]]]:
    """(module, members) for every module the reference documents, in walk order."""
    import glassnet

    out: list[tuple[str, list[str]]] = []
    infos = [("glassnet", True)] + [(i.name, i.ispkg) for i in
                                    pkgutil.walk_packages(glassnet.__path__, "glassnet.")]
    for name, ispkg in infos:
        if any(p.startswith("_") for p in name.split(".")) or name.startswith(SKIP):
            continue
        try:
            mod = importlib.import_module(name)
        except ImportError:        # an optional extra that is not installed
            continue
        own = [n for n, v in vars(mod).items() if not n.startswith("_")
               and (inspect.isfunction(v) or inspect.isclass(v))
               and getattr(v, "__module__", None) == name]
        if ispkg:
            members = [n for n in getattr(mod, "__all__", own) if n in own]
        else:
            members = list(getattr(mod, "__all__", own))
        if members:
            out.append((name, members))
    return out


def page_of(module: str) -> str:
    best = ""
    page = "glassnet.md"
    for file, (_, prefixes, _) in PAGES.items():
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > len(best):
                best, page = p, file
    return page


def render() -> dict[str, str]:
    blocks: dict[str, list[str]] = {f: [] for f in PAGES}
    for module, members in public_modules():
        blocks[page_of(module)].append(
            f"::: {module}\n    options:\n      members:\n"
            + "".join(f"        - {m}\n" for m in members))
    pages = {}
    for file, (title, _, intro) in PAGES.items():
        if blocks[file]:
            pages[file] = (f"# {title}\n\n{intro}\n\n<!-- written by tools/gen_api_pages.py: "
                           "edit that script, not this page -->\n\n" + "\n".join(blocks[file]))
    return pages


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="write docs/api/*.md")
    ap.add_argument("--check", action="store_true", help="only check that the pages are current")
    args = ap.parse_args(argv)
    pages = render()
    stale = [f for f, text in pages.items()
             if not (API / f).is_file() or (API / f).read_text(encoding="utf-8") != text]
    if args.check:
        for f in stale:
            print(f"docs/api/{f} is out of date: run python tools/gen_api_pages.py")
        return 1 if stale else 0
    API.mkdir(parents=True, exist_ok=True)
    for f, text in pages.items():
        (API / f).write_text(text, encoding="utf-8")
    print(f"wrote {len(pages)} pages to {API.relative_to(REPO)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
