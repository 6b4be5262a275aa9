"""pytest hooks for the whole repository: the docstring examples of src/glassnet are collected
as doctests by the one test command (``python -m pytest``, see testpaths in pyproject.toml),
with ``gn``, ``np``, ``nn``, ``optim``, ``F`` and ``models`` already imported, each example seeded and
run in a fresh temporary folder so that nothing it writes lands in the working tree.

With pytest-xdist (``-n auto``, the README's test command) the workers are as many as the
CPUs this process may run on, and each worker's BLAS gets one thread: two workers on two
cores each spinning two OpenBLAS threads made the suite slower than one worker."""
import os
from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem, DoctestModule   # pytest exports neither

SRC = Path(__file__).resolve().parent / "src" / "glassnet"


def pytest_xdist_auto_num_workers(config):
    # the CPUs of this process's affinity mask (a container's or taskset's), not the host's
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:          # not on Linux
        return max(1, os.cpu_count() or 1)


def pytest_configure(config):
    # in the controller, before the workers start: they inherit this environment (a worker
    # imports NumPy before any test could set it)
    if getattr(config.option, "numprocesses", None) and "PYTEST_XDIST_WORKER" not in os.environ:
        for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")


def pytest_collect_file(file_path, parent):
    # only src/glassnet: --doctest-modules on the whole tree would also import every script
    # under tests/ (tests/third_party runs trainings at import); with that flag given by
    # hand pytest collects the modules itself
    if (file_path.suffix == ".py" and SRC in file_path.parents
            and file_path.name not in ("conftest.py", "__main__.py")
            and not parent.config.option.doctestmodules):
        return DoctestModule.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session", autouse=True)
def _doctest_names(doctest_namespace):
    import numpy as np

    import glassnet as gn
    doctest_namespace.update(gn=gn, np=np, nn=gn.nn, optim=gn.optim, F=gn.functional,
                             models=gn.models)


@pytest.fixture(autouse=True)
def _doctest_sandbox(request):
    if isinstance(request.node, DoctestItem):
        import numpy as np

        import glassnet as gn
        gn.manual_seed(0)
        np.random.seed(0)
        request.getfixturevalue("monkeypatch").chdir(request.getfixturevalue("tmp_path"))
    yield
