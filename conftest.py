"""pytest hooks for the whole repository: the docstring examples of src/glassnet are collected
as doctests by the one test command (``python -m pytest``, see testpaths in pyproject.toml),
with ``gn``, ``np``, ``nn``, ``optim``, ``F`` and ``models`` already imported, each example seeded and
run in a fresh temporary folder so that nothing it writes lands in the working tree."""
from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem, DoctestModule   # pytest exports neither

SRC = Path(__file__).resolve().parent / "src" / "glassnet"


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
