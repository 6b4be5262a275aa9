"""glassnet.io: model files (safetensors + JSON), no pickle, atomic writes, checkpoints."""
import json
import os

import numpy as np
import pytest

import glassnet as gn
from glassnet import data, io, models, nn, optim, training
from glassnet.training import ModelCheckpoint, Trainer


def _model():
    gn.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))


def test_save_load_round_trip_rebuilds_architecture(tmp_path):
    m = _model()
    p = gn.save(m, tmp_path / "m", metadata={"classes": ["a", "b", "c"]})
    assert p.suffix == ".safetensors" and p.exists()
    m2 = gn.load(p)
    assert type(m2) is nn.Sequential and repr(m2) == repr(m)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_array_equal(m2(x).numpy(), m.eval()(x).numpy())
    assert m2.metadata == {"classes": ["a", "b", "c"]} and not m2.training


@pytest.mark.parametrize("build", [
    lambda: models.MLP([6, 5, 4, 3], activation="tanh", output="multiclass"),
    lambda: models.LeNet(),
    lambda: nn.Sequential(nn.Conv2d(1, 2, 3, padding="same"), nn.BatchNorm2d(2), nn.ReLU(),
                          nn.Flatten(), nn.Linear(2 * 5 * 5, 2)),
])
def test_round_trip_of_models_and_buffers(tmp_path, build):
    m = build()
    for b in m.buffers():
        b.numpy()[...] = np.random.default_rng(1).normal(size=b.shape) if b.dtype.kind == "f" else 3
    m2 = gn.load(gn.save(m, tmp_path / "x.safetensors"))
    for (k, a), (k2, b) in zip(m.state_dict().items(), m2.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(a, b)


def test_float64_model_loads_as_float64(tmp_path):
    m = _model().double()
    m2 = gn.load(gn.save(m, tmp_path / "d"))
    assert m2.dtype == np.float64


def test_file_is_plain_safetensors_readable_by_torch(tmp_path, torch):
    from safetensors.torch import load_file
    m = _model()
    p = gn.save(m, tmp_path / "m")
    sd = load_file(str(p))
    tm = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    tm.load_state_dict(sd)
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(tm(torch.from_numpy(x)).detach().numpy(), m(x).numpy(), rtol=1e-6)
    # and back: a torch state dict saved with safetensors loads into glassnet
    from safetensors.torch import save_file
    save_file(tm.state_dict(), str(tmp_path / "t.safetensors"))
    m3 = io.load_weights(_model(), tmp_path / "t.safetensors")
    np.testing.assert_array_equal(m3[0].weight.numpy(), tm[0].weight.detach().numpy())


def test_no_pickle_in_the_file(tmp_path):
    raw = gn.save(_model(), tmp_path / "m").read_bytes()
    assert b"\x80\x04" not in raw[:64] and b"pickle" not in raw
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + header_len])
    arch = json.loads(header["__metadata__"]["glassnet"])["architecture"]
    assert arch["class"] == "glassnet.nn.container.Sequential"


def _patch_header(path, fn, resign=True):
    """Edit a file's glassnet metadata with ``fn``; with ``resign`` the checksum is computed
    again (as anyone editing a file can), so what is tested is the check of the edited
    field itself, not the checksum."""
    from glassnet.io import serialize
    if resign:
        tensors, meta = serialize.read_file(path)
        fn(meta)
        serialize.write_file(path, tensors, meta, exact=True)
        return
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    meta = json.loads(header["__metadata__"]["glassnet"])
    fn(meta)
    header["__metadata__"]["glassnet"] = json.dumps(meta)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    path.write_bytes(len(h).to_bytes(8, "little") + h + raw[8 + n:])


def test_foreign_class_names_are_refused(tmp_path):
    p = gn.save(_model(), tmp_path / "m")

    def evil(meta):
        meta["architecture"] = {"class": "os.system", "args": ["echo pwned"], "kwargs": {}}
    _patch_header(p, evil)
    with pytest.raises(io.ModelFileError, match="neither part of glassnet nor registered"):
        gn.load(p)


def test_corrupt_tensor_bytes_are_detected(tmp_path):
    p = gn.save(_model(), tmp_path / "m")
    raw = bytearray(p.read_bytes())
    raw[-3] ^= 0xFF
    p.write_bytes(bytes(raw))
    with pytest.raises(io.ModelFileError, match="SHA-256"):
        gn.load(p)
    with pytest.raises(FileNotFoundError, match="no model file"):
        gn.load(tmp_path / "missing.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a model")
    with pytest.raises(io.ModelFileError, match="not a readable safetensors"):
        gn.load(tmp_path / "junk.safetensors")


def test_registered_user_class_round_trips(tmp_path):
    @io.register
    class Net(nn.Module):
        def __init__(self, width=3):
            super().__init__()
            self.fc = nn.Linear(2, width)

        def forward(self, x):
            return self.fc(x)

    m = Net(width=5)
    m2 = gn.load(gn.save(m, tmp_path / "n"))
    assert isinstance(m2, Net) and m2.fc.out_features == 5


def test_crash_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    m = _model()
    p = gn.save(m, tmp_path / "m")
    before = p.read_bytes()
    from glassnet.io import _format

    def boom(f, tensors, metadata=None):
        f.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(_format, "write", boom)
    # every failure of save is a glassnet error (issue 15), the OSError chained to it
    with pytest.raises(io.ModelFileError, match="disk full") as info:
        gn.save(m, p)
    assert isinstance(info.value.__cause__, OSError)
    assert p.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["m.safetensors"]


def test_unserialisable_constructor_argument_is_named(tmp_path):
    class Odd(nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn
    with pytest.raises(io.ModelFileError, match=r"Odd\(arg 0\)"):
        gn.save(Odd(lambda x: x), tmp_path / "o")
    assert not list(tmp_path.iterdir())


def test_checkpoint_resume_continues_the_same_run(tmp_path):
    X, y = data.load_digits()
    X = X / 16

    def run(epochs, resume=None, cbs=()):
        gn.manual_seed(1)
        m = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10))
        t = Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters(), lr=1e-2))
        h = t.fit((X, y), epochs=epochs, batch_size=64, verbose=0, callbacks=list(cbs),
                  resume=resume)
        return m, h

    full, h_full = run(5)
    ck = tmp_path / "ck.safetensors"
    run(2, cbs=[ModelCheckpoint(ck, monitor="loss", checkpoint=True)])
    resumed, h_res = run(5, resume=ck)
    assert h_res["loss"] == h_full["loss"]
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_best_only(tmp_path):
    X, y = data.load_digits()
    m = nn.Sequential(nn.Linear(64, 10))
    cp = ModelCheckpoint(str(tmp_path / "best-{epoch}"), monitor="val_loss", save_best_only=True)
    Trainer(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.5)).fit(
        (X[:200] / 16, y[:200]), validation=(X[200:400] / 16, y[200:400]), epochs=4, verbose=0,
        callbacks=[cp])
    assert cp.saved and all(os.path.exists(p + ".safetensors") for p in cp.saved)


def test_checkpoint_file_holds_the_trainer_state_dict(tmp_path):
    from glassnet.io.checkpoint import read_checkpoint
    X, y = data.load_digits()
    gn.manual_seed(2)
    m = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10))
    opt = optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    t = Trainer(m, nn.CrossEntropyLoss(), opt,
                scheduler=optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0))
    es = training.EarlyStopping("val_loss", patience=9, restore_best_weights=True)
    t.fit((X[:300] / 16, y[:300]), validation=(X[300:400] / 16, y[300:400]), epochs=3,
          verbose=0, callbacks=[es])
    state = t.state_dict()
    p = io.save_checkpoint(tmp_path / "ck", t)
    raw = p.read_bytes()
    assert b"pickle" not in raw and b"\x80\x04" not in raw[:64]
    back = read_checkpoint(p)

    def same(a, b, where=""):
        if isinstance(a, np.ndarray):
            assert isinstance(b, np.ndarray) and a.dtype == b.dtype, where
            np.testing.assert_array_equal(a, b)
        elif isinstance(a, dict):
            assert [str(k) for k in a] == list(b), where
            for k, v in a.items():
                same(v, b[str(k)], f"{where}/{k}")
        elif isinstance(a, (list, tuple)):
            assert len(a) == len(b), where
            for i, (u, v) in enumerate(zip(a, b)):
                same(u, v, f"{where}/{i}")
        else:
            assert a == b or (a != a and b != b), where

    same(state, back)
    assert back["scheduler"]["class"] == "ReduceLROnPlateau" and back["epoch"] == 2
    assert back["callbacks"][0]["state_dict"]["best_epoch"] == es.best_epoch
    tensors = set(gn.io.load_state_dict(p))
    assert "model/0.weight" in tensors and "callbacks/0/state_dict/best_state/0.weight" in tensors
    t2 = Trainer(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.1, momentum=0.9))
    with pytest.raises(ValueError, match="saved with scheduler ReduceLROnPlateau"):
        io.load_checkpoint(p, t2)


def test_checkpoint_errors_are_named(tmp_path):
    from glassnet.io.checkpoint import read_checkpoint
    m = _model()
    t = Trainer(m, nn.MSELoss(), optim.SGD(m.parameters(), lr=0.1))
    t.fit((np.ones((4, 4)), np.ones((4, 3))), epochs=1, verbose=0,
          callbacks=[_Odd()])
    with pytest.raises(io.ModelFileError, match=r"state at 'callbacks/0/state_dict/fn' is a builtin"):
        io.save_checkpoint(tmp_path / "ck", t)
    assert not list(tmp_path.iterdir())
    with pytest.raises(io.ModelFileError, match="is not a glassnet checkpoint"):
        read_checkpoint(gn.save(m, tmp_path / "model"))
    p = gn.save(m, tmp_path / "old")

    def old_layout(meta):
        meta["kind"] = "checkpoint"
    _patch_header(p, old_layout)
    with pytest.raises(io.ModelFileError, match="from before Trainer.state_dict"):
        read_checkpoint(p)


class _Odd(training.Callback):
    def state_dict(self):
        return {"fn": print}


# Modules that can run code while reading bytes; none of them may be imported by glassnet
# (cloudpickle may be: the search runner measures a task's size with cloudpickle.dumps, and
# any cloudpickle.load/loads call is still caught by the call check below).
_UNSAFE_MODULES = {"pickle", "_pickle", "cPickle", "dill", "shelve", "marshal",
                   "joblib.numpy_pickle"}
# The one decoder of pickled bytes allowed: the DataLoader's own forked workers send batches
# to the parent through multiprocessing's ForkingPickler (in memory, as PyTorch's workers do);
# it never reads a file.
_ALLOWED_LOADS = {("utils/data/worker.py", "ForkingPickler")}


def test_the_package_never_unpickles():
    """No module of the package imports a pickle-family module or calls a pickle-style
    ``load``/``loads``/``Unpickler`` (model files are safetensors + JSON); the AST is
    scanned, so a docstring that names pickle does not count."""
    import ast
    import pathlib
    root = pathlib.Path(gn.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                names = []
            for name in names:
                if name in _UNSAFE_MODULES or name.split(".")[0] in _UNSAFE_MODULES:
                    found.append(f"{rel}:{node.lineno} imports {name}")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"load", "loads", "Unpickler"}
                    and isinstance(node.func.value, ast.Name)):
                owner = node.func.value.id
                if owner in {"np", "numpy", "json", "io", "gn", "glassnet", "torch",
                             "safetensors", "yaml", "tomllib"}:
                    continue
                if (rel, owner) in _ALLOWED_LOADS:
                    continue
                if "pickle" in owner.lower() or owner in _UNSAFE_MODULES:
                    found.append(f"{rel}:{node.lineno} calls {owner}.{node.func.attr}")
    assert not found, "pickle in the package:\n" + "\n".join(found)


def test_the_pickle_scan_catches_an_unpickling_module(tmp_path, monkeypatch):
    """The scan above is not vacuous: a package module that unpickles is reported."""
    import shutil
    fake = tmp_path / "glassnet"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "bad.py").write_text("import pickle\n\ndef f(b):\n    return pickle.loads(b)\n")
    monkeypatch.setattr(gn, "__file__", str(fake / "__init__.py"))
    with pytest.raises(AssertionError, match="bad.py:1 imports pickle"):
        test_the_package_never_unpickles()
    shutil.rmtree(fake)
