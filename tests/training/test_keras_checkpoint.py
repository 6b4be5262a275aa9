"""ModelCheckpoint's Keras / Lightning options: save_top_k keeps the k best files and
deletes the rest, save_last keeps a ``last`` file, save_weights_only writes a state dict
that io.load_weights loads; all of it survives an exact resume."""
from __future__ import annotations

import os

import numpy as np
import pytest

import glassnet as gn
from glassnet import data, io, nn, optim
from glassnet.errors import ArgumentError
from glassnet.optim import lr_scheduler as S
from glassnet.training import ModelCheckpoint, Trainer


def _digits():
    X, y = data.load_digits()
    X = (X / 16.0).astype(np.float32)
    return X[:300], y[:300], X[300:450], y[300:450]


def _run(folder, epochs, cbs, resume=None, lr=0.3):
    Xtr, ytr, Xva, yva = _digits()
    gn.manual_seed(5)
    m = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10))
    opt = optim.SGD(m.parameters(), lr=lr, momentum=0.5)
    t = Trainer(m, nn.CrossEntropyLoss(), opt, metrics=["accuracy"],
                scheduler=S.ExponentialLR(opt, 0.8))
    h = t.fit(Xtr, ytr, validation_data=(Xva, yva), epochs=epochs, verbose=0, seed=0,
              callbacks=cbs, resume=resume)
    return t, h


def _files(folder, prefix):
    return sorted(p for p in os.listdir(folder) if p.startswith(prefix))


@pytest.mark.parametrize("monitor", ["val_loss", "val_accuracy"])
def test_save_top_k_keeps_exactly_the_k_best_epochs(tmp_path, monitor):
    ck = ModelCheckpoint(tmp_path / "m-{epoch}", monitor=monitor, save_top_k=2)
    t, h = _run(tmp_path, 7, [ck])
    vals = h[monitor]
    order = sorted(range(7), key=lambda e: vals[e], reverse=monitor == "val_accuracy")
    best2 = order[:2]
    assert _files(tmp_path, "m-") == sorted(f"m-{e + 1}.safetensors" for e in best2)   # {epoch} from 1
    assert [p for p, _ in ck.best_k] == [str(tmp_path / f"m-{e + 1}") for e in best2]
    assert ck.best == vals[best2[0]]
    assert ck.best_model_path == str(tmp_path / f"m-{best2[0] + 1}")
    # the kept file is the model of that epoch: its validation loss is the one recorded
    best = io.load(str(tmp_path / f"m-{best2[0] + 1}.safetensors"))
    t2 = Trainer(best, nn.CrossEntropyLoss(), metrics=["accuracy"])
    Xtr, ytr, Xva, yva = _digits()
    assert t2.evaluate(Xva, yva)[monitor.removeprefix("val_")] == pytest.approx(
        vals[best2[0]], rel=1e-6)


def test_save_top_k_minus_one_keeps_all_and_zero_none(tmp_path):
    a = ModelCheckpoint(tmp_path / "all-{epoch}", save_top_k=-1)
    z = ModelCheckpoint(tmp_path / "none-{epoch}", save_top_k=0, save_last=True)
    _run(tmp_path, 3, [a, z])
    assert _files(tmp_path, "all-") == [f"all-{e}.safetensors" for e in (1, 2, 3)]
    assert _files(tmp_path, "none-") == []
    assert _files(tmp_path, "last") == ["last.safetensors"]


def test_save_last_holds_the_final_weights(tmp_path):
    ck = ModelCheckpoint(tmp_path / "b-{epoch}", save_best_only=True, save_last=True)
    t, _ = _run(tmp_path, 4, [ck])
    assert ck.last_path == str(tmp_path / "last")
    last = io.load(str(tmp_path / "last.safetensors"))
    for a, b in zip(last.state_dict().values(), t.model.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    named = ModelCheckpoint(tmp_path / "c-{epoch}", save_top_k=1,
                            save_last=str(tmp_path / "latest-{epoch}"))
    _run(tmp_path, 2, [named])
    assert _files(tmp_path, "latest") == ["latest-1.safetensors", "latest-2.safetensors"]


def test_save_weights_only_writes_a_state_dict_for_load_weights(tmp_path):
    ck = ModelCheckpoint(tmp_path / "w-{epoch}", save_weights_only=True, save_top_k=1)
    t, h = _run(tmp_path, 3, [ck])
    (name,) = _files(tmp_path, "w-")
    path = tmp_path / name
    assert io.read_metadata(path)["kind"] == "state_dict"     # not a model file
    gn.manual_seed(123)
    fresh = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10))
    io.load_weights(fresh, path)
    Xtr, ytr, Xva, yva = _digits()
    got = Trainer(fresh, nn.CrossEntropyLoss()).evaluate(Xva, yva)["loss"]
    assert got == pytest.approx(min(h["val_loss"]), rel=1e-6)


def test_top_k_and_last_survive_an_exact_resume(tmp_path):
    def cbs(folder):
        return [ModelCheckpoint(folder / "top-{epoch}", monitor="val_loss", save_top_k=2,
                                save_last=True, checkpoint=True),
                ModelCheckpoint(folder / "ck-{epoch}", checkpoint=True)]

    full, res = tmp_path / "full", tmp_path / "res"
    t1, h1 = _run(full, 7, c1 := cbs(full))
    _run(res, 3, cbs(res))
    t2, h2 = _run(res, 7, c2 := cbs(res), resume=res / "ck-3.safetensors")   # after the third epoch
    assert h1["val_loss"] == h2["val_loss"]
    assert [os.path.basename(p) for p, _ in c1[0].best_k] == \
        [os.path.basename(p) for p, _ in c2[0].best_k]
    assert [v for _, v in c1[0].best_k] == [v for _, v in c2[0].best_k]
    assert _files(full, "top-") == _files(res, "top-")
    for a, b in zip(t1.model.state_dict().values(), t2.model.state_dict().values()):
        assert np.array_equal(a.numpy(), b.numpy())
    # the last file is a checkpoint of the final epoch
    assert io.read_checkpoint(res / "last.safetensors")["epoch"] == 6


def test_a_path_without_epoch_is_never_overwritten_by_a_worse_epoch(tmp_path):
    ck = ModelCheckpoint(tmp_path / "best", monitor="val_loss", save_top_k=1)
    t, h = _run(tmp_path, 6, [ck], lr=2.5)        # a high rate: val_loss goes up and down
    assert ck.best == min(h["val_loss"])
    m = io.load(str(tmp_path / "best.safetensors"))
    Xtr, ytr, Xva, yva = _digits()
    assert Trainer(m, nn.CrossEntropyLoss()).evaluate(Xva, yva)["loss"] == pytest.approx(
        min(h["val_loss"]), rel=1e-6)


def test_options_that_contradict_are_errors(tmp_path):
    with pytest.raises(ArgumentError, match="save_best_only or save_top_k, not both"):
        ModelCheckpoint(tmp_path / "x", save_best_only=True, save_top_k=2)
    with pytest.raises(ArgumentError, match="save_weights_only=True writes a state dict"):
        ModelCheckpoint(tmp_path / "x", save_weights_only=True, checkpoint=True)
    with pytest.raises(ArgumentError, match="save_top_k"):
        ModelCheckpoint(tmp_path / "x", save_top_k=-2)
    with pytest.raises(TypeError, match="save_last"):
        ModelCheckpoint(tmp_path / "x", save_last=3)
