"""backend/ is the one seam for the process: no module outside it reads or writes the
environment, or reaches into the thread pool or the scratch pool (a static walk of src/)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "glassnet"
ENV_FUNCS = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
POOL_NAMES = {"_pool", "_Pool", "_get_pool", "_pool_lock", "_in_worker", "_Worker", "_loop"}


def _outside_backend():
    files = sorted(p for p in SRC.rglob("*.py") if "backend" not in p.relative_to(SRC).parts)
    assert len(files) > 40, files   # the walk found the package
    return files


def _dotted(node):
    """'a.b.c' for a Name / Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def violations(source: str, path: str = "<src>") -> list:
    """Every place in ``source`` that reads the environment or touches pool internals."""
    tree = ast.parse(source, path)
    os_names = {"os"}            # names bound to the os module (import os as _os)
    backend_names = {"backend"}  # names bound to backend or one of its modules
    out = []

    def bad(node, what):
        out.append(f"{path}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "os":
                    os_names.add(a.asname or "os")
                if "backend" in a.name.split(".") and a.asname:
                    backend_names.add(a.asname)
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            for a in node.names:
                if "backend" in mod.split(".") or a.name == "backend":
                    backend_names.add(a.asname or a.name)
                if mod == "os" and a.name in ENV_FUNCS:
                    bad(node, f"from os import {a.name}")
                if a.name in POOL_NAMES or (a.name.startswith("_") and "backend" in mod.split(".")):
                    bad(node, f"from {'.' * node.level}{mod} import {a.name}")
                if a.name == "ThreadPoolExecutor":
                    bad(node, "a thread pool of its own (use backend.parallel_chunks)")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            d = _dotted(node)
            if d is None:
                continue
            head, _, rest = d.partition(".")
            if head in os_names and rest.split(".")[0] in ENV_FUNCS:
                bad(node, f"{d} (ask backend.config)")
            elif node.attr in POOL_NAMES:
                bad(node, f"{d} (pool internals)")
            elif (node.attr.startswith("_") and not node.attr.startswith("__")
                  and (head in backend_names or "backend" in d.split(".")[:-1])):
                bad(node, f"{d} (a private name of backend)")
            elif node.attr == "ThreadPoolExecutor" or d == "threading.Thread":
                bad(node, f"{d}: a thread pool of its own (use backend.parallel_chunks)")
        elif isinstance(node, ast.Name) and node.id in POOL_NAMES:
            bad(node, f"{node.id} (pool internals)")
    # an Attribute chain is visited once per level: report each place once
    return sorted(set(out))


def test_no_module_outside_backend_reads_the_environment_or_the_pool():
    found = []
    for p in _outside_backend():
        found += violations(p.read_text(), str(p.relative_to(SRC)))
    assert found == []


@pytest.mark.parametrize("code", [
    "import os\nx = os.environ.get('GLASSNET_DATA')",
    "import os as _os\n_os.environ.setdefault('OPENBLAS_THREAD_TIMEOUT', '4')",
    "import os\nos.getenv('HOME')",
    "import os\nos.putenv('A', '1')",
    "from os import environ",
    "from os import getenv as g",
    "from .. import backend\nbackend.threads._pool.stop()",
    "from .. import backend\nbackend.threads._get_pool(2)",
    "from ..backend.threads import _Pool",
    "from ..backend import memory\nmemory._malloc_tuned",
    "from ..backend.memory import ScratchPool\n_pool = ScratchPool()",
    "from concurrent.futures import ThreadPoolExecutor",
    "import threading\nthreading.Thread(target=print).start()",
])
def test_the_walk_catches_each_kind_of_violation(code):
    assert violations(code), code


@pytest.mark.parametrize("code", [
    "from .. import backend\nbackend.parallel_chunks(4, print, 10)",
    "from .. import backend\nbackend.elementwise(max, 1, 2)",
    "from .. import backend\nbackend.take_scratch('y', (2,), 'f4')",
    "from ..backend import config\nconfig.get('data')",
    "import os\nos.path.join('a', 'b')",
    "import threading\nclass M(threading.local): pass",
    "import concurrent.futures as cf\ncf.ProcessPoolExecutor(2)",
])
def test_the_public_seam_is_allowed(code):
    assert violations(code) == [], code
