"""Checkpoints: exact resume, validation before anything is applied, transactional restore.

* exact resume: N epochs straight == K epochs + checkpoint file + a fresh trainer +
  ``fit(resume=file)`` to N, bit for bit (weights, optimizer state, every history value
  but "time", the lr per epoch, the stop epoch, the callbacks' states), for each
  scheduler, with EarlyStopping (restore_best_weights), ModelCheckpoint,
  ConvergenceCriterion, dropout (glassnet's RNG) and shuffling (the loader's RNG);
* validation: a checkpoint whose content was edited (and re-signed through
  ``io.checkpoint``'s own writer, so only the semantic checks stand between it and the
  trainer) is a CheckpointError naming the field, and the trainer is unchanged;
* transaction: a failure while applying (after the checks) puts everything back.
"""
import math
import os

import numpy as np
import pytest

import glassnet as gn
from glassnet import data, nn, optim
from glassnet.errors import CheckpointError, GlassnetError
from glassnet.io.checkpoint import _write, read_checkpoint
from glassnet.optim import lr_scheduler as S
from glassnet.training import (Callback, ConvergenceCriterion, EarlyStopping, ModelCheckpoint,
                               Trainer)

N = 7


def _digits():
    X, y = data.load_digits()
    X = (X / 16).astype(np.float32)
    return X[:240], y[:240], X[240:400], y[240:400]


SCHEDULERS = {
    "none": None,
    "StepLR": lambda o: S.StepLR(o, step_size=2, gamma=0.5),
    "MultiStepLR": lambda o: S.MultiStepLR(o, milestones=[2, 5, 5], gamma=0.5),
    "ExponentialLR": lambda o: S.ExponentialLR(o, gamma=0.8),
    "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, T_max=4, eta_min=1e-4),
    "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2),
    "OneCycleLR": lambda o: S.OneCycleLR(o, max_lr=0.02, total_steps=N),
    "LambdaLR": lambda o: S.LambdaLR(o, lambda e: 0.9 ** e),
    "MultiplicativeLR": lambda o: S.MultiplicativeLR(o, lambda e: 0.85),
    "LinearLR": lambda o: S.LinearLR(o, start_factor=0.2, total_iters=4),
    "ConstantLR": lambda o: S.ConstantLR(o, factor=0.5, total_iters=3),
    "PolynomialLR": lambda o: S.PolynomialLR(o, total_iters=5, power=2.0),
    "SequentialLR": lambda o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.5, total_iters=2), S.ExponentialLR(o, 0.7)], [2]),
    "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, patience=0, factor=0.5,
                                                       threshold=0.3),
}


def _run(folder, epochs, scheduler="StepLR", resume=None, optimizer="adam", patience=50,
         min_delta=0.0):
    """A run with everything a resume must restore; the checkpoint of every epoch is kept
    (``folder/ck-{epoch}``)."""
    Xtr, ytr, Xva, yva = _digits()
    gn.manual_seed(11)
    model = nn.Sequential(nn.Linear(64, 24), nn.ReLU(), nn.Dropout(0.25), nn.Linear(24, 10))
    if optimizer == "adam":
        opt = optim.Adam(model.parameters(), lr=1e-2)
    else:
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    make = SCHEDULERS[scheduler]
    sched = None if make is None else make(opt)
    cbs = [ModelCheckpoint(str(folder / "ck-{epoch}"), monitor="val_loss", checkpoint=True),
           EarlyStopping("val_loss", patience=patience, min_delta=min_delta,
                         restore_best_weights=True),
           ConvergenceCriterion(grad_norm_tol=1e-12, loss_change_tol=1e-12)]
    t = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched, metrics=["accuracy"])
    h = t.fit((Xtr, ytr), validation=(Xva, yva), epochs=epochs, batch_size=32, verbose=0,
              callbacks=cbs, resume=resume)
    return t, h, cbs


def _same(a, b, where="state"):
    """Equal trees, arrays with np.array_equal (and equal dtypes), NaN equal to NaN."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and sorted(map(str, a)) == sorted(map(str, b)), where
        bk = {str(k): v for k, v in b.items()}
        for k, v in a.items():
            _same(v, bk[str(k)], f"{where}/{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            _same(u, v, f"{where}/{i}")
    elif isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _without_time(h):
    return {k: v for k, v in h.history.items() if k != "time"}


def _assert_same_run(full, resumed):
    (t1, h1, c1), (t2, h2, c2) = full, resumed
    assert h1.epoch == h2.epoch and h1.stop_reason == h2.stop_reason
    _same(_without_time(h1), _without_time(h2), "history")
    _same({k: v.numpy() for k, v in t1.model.state_dict().items()},
          {k: v.numpy() for k, v in t2.model.state_dict().items()}, "weights")
    _same(t1.optimizer.state_dict(), t2.optimizer.state_dict(), "optimizer")
    if t1.scheduler is not None:
        s1, s2 = t1.scheduler.state_dict(), t2.scheduler.state_dict()
        for s in (s1, s2):
            s.pop("lr_lambdas", None)
            if "milestones" in s:
                s["milestones"] = dict(s["milestones"])
        _same(s1, s2, "scheduler")
    for a, b in zip(c1, c2):
        sa, sb = a.state_dict(), b.state_dict()
        if "saved" in sa:           # the runs write to different folders
            sa["saved"] = [os.path.basename(p) for p in sa["saved"]]
            sb["saved"] = [os.path.basename(p) for p in sb["saved"]]
        _same(sa, sb, type(a).__name__)
    _same(t1.state_dict()["rng"], t2.state_dict()["rng"], "rng")
    _same(t1.state_dict()["loader_rng"], t2.state_dict()["loader_rng"], "loader_rng")


@pytest.mark.parametrize("scheduler", sorted(SCHEDULERS))
def test_resume_is_bit_identical_with_each_scheduler(tmp_path, scheduler):
    full = _run(tmp_path / "full", N, scheduler)
    assert len(full[1]) == N
    if scheduler != "none":
        lrs = full[1]["lr"]
        assert len(set(lrs)) > 1, "the schedule must change the lr for the test to mean much"
    _run(tmp_path / "part", 3, scheduler)
    resumed = _run(tmp_path / "res", N, scheduler,
                   resume=tmp_path / "part" / "ck-3.safetensors")
    _assert_same_run(full, resumed)


@pytest.mark.parametrize("k", [1, 4])
def test_resume_from_the_straight_runs_own_checkpoints(tmp_path, k):
    """The checkpoint written during the uninterrupted run after epoch k (not a run told to
    end there) continues to the same end: what a kill after that write would see."""
    full = _run(tmp_path / "full", N, "StepLR", optimizer="sgd")
    resumed = _run(tmp_path / "res", N, "StepLR", optimizer="sgd",
                   resume=tmp_path / "full" / f"ck-{k + 1}.safetensors")
    _assert_same_run(full, resumed)


def test_resume_keeps_early_stopping_and_its_best_weights(tmp_path):
    full = _run(tmp_path / "full", 40, "ExponentialLR", patience=2, min_delta=0.02)
    es = full[2][1]
    assert es.stopped_epoch is not None and es.stopped_epoch < 39, "must stop early"
    stop = es.stopped_epoch
    assert es.best_epoch < stop and es.best_state is not None
    best = {k: v.copy() for k, v in es.best_state.items()}
    # the weights after fit are the best epoch's (restore_best_weights)
    _same(best, {k: v.numpy() for k, v in full[0].model.state_dict().items()}, "best")
    for k in (es.best_epoch, stop - 1, stop):      # before, during the wait, at the stop
        resumed = _run(tmp_path / f"res{k}", 40, "ExponentialLR", patience=2, min_delta=0.02,
                       resume=tmp_path / "full" / f"ck-{k + 1}.safetensors")
        _assert_same_run(full, resumed)
        assert resumed[2][1].stopped_epoch == stop


def test_a_run_a_callback_stopped_stays_stopped(tmp_path):
    t, h, _ = _run(tmp_path / "a", 40, "none", patience=1, min_delta=10.0)
    assert len(h) == 2 and t.state_dict()["stop_training"] is True
    t2, h2, _ = _run(tmp_path / "b", 40, "none", patience=1, min_delta=10.0,
                     resume=tmp_path / "a" / "ck-2.safetensors")
    assert len(h2) == 2 and h2.stop_reason == h.stop_reason


def test_model_checkpoint_saved_list_and_best_survive(tmp_path):
    full = _run(tmp_path / "full", N)
    resumed = _run(tmp_path / "res", N, resume=tmp_path / "full" / "ck-4.safetensors")
    mc_full, mc_res = full[2][0], resumed[2][0]
    assert mc_res.saved[:4] == mc_full.saved[:4]
    assert len(mc_res.saved) == N and mc_res.best == mc_full.best
    state = read_checkpoint(tmp_path / "full" / "ck-4.safetensors")
    # the checkpoint of epoch 3 was written after the scheduler step and lists itself
    assert state["callbacks"][0]["state_dict"]["saved"][-1].endswith("ck-4")   # {epoch} counts from 1
    assert state["scheduler"]["state_dict"]["last_epoch"] == 4


# ---------------------------------------------------------------- validation
def _edited(tmp_path, edit, scheduler="StepLR", optimizer="adam", name="bad"):
    """A real checkpoint after 3 epochs, edited by ``edit(state)`` and written again through
    io.checkpoint's own writer (so its checksum is right and only the content is wrong)."""
    src = tmp_path / "src"
    if not (src / "ck-3.safetensors").exists():
        _run(src, 3, scheduler, optimizer=optimizer)
    state = read_checkpoint(src / "ck-3.safetensors")
    edit(state)
    return _write(tmp_path / name, state)


def _fresh(tmp_path, scheduler="StepLR", optimizer="adam"):
    """A trainer with one epoch of its own (so there is state to keep), and its state."""
    t, _, cbs = _run(tmp_path / "fresh", 1, scheduler, optimizer=optimizer)
    return t, cbs


def _whole_state(t, cbs=()):
    sd = t.state_dict()
    sd["weights"] = {k: v.numpy().copy() for k, v in t.model.state_dict().items()}
    sd["groups"] = [{k: v for k, v in g.items() if k != "params"}
                    for g in t.optimizer.param_groups]
    sd["attrs"] = [t.epoch, t.stop_training, t.stop_reason, len(t.history)]
    if t.scheduler is not None:
        sd["sched_attrs"] = {k: v for k, v in vars(t.scheduler).items()
                             if k not in ("optimizer", "lr_lambdas", "_schedulers")
                             and not callable(v)}
    sd["cbs"] = [cb.state_dict() for cb in cbs]
    return sd


def _set(path, value):
    def edit(state):
        node = state
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value(node[path[-1]]) if callable(value) else value
    return edit


OPT = ("optimizer", "state_dict")
GROUP = OPT + ("param_groups", 0)
ADAM_STATE = OPT + ("state", "0")
SCHED = ("scheduler", "state_dict")
ES = ("callbacks", 1, "state_dict")

BAD = {
    "epoch 10**18 (the hang)": (_set(("epoch",), 10 ** 18), "epoch: expected the last epoch"),
    "epoch -2": (_set(("epoch",), -2), "epoch"),
    "epoch a string": (_set(("epoch",), "2"), "epoch"),
    "lr -0.1 (gradient ascent)": (_set(GROUP + ("lr",), -0.1),
                                  r"param_groups\[0\]\['lr'\] must be a finite number >= 0, "
                                  r"got -0.1"),
    "lr NaN": (_set(GROUP + ("lr",), float("nan")), r"\['lr'\] must be a finite number"),
    "lr inf": (_set(GROUP + ("lr",), float("inf")), r"\['lr'\]"),
    "lr a string": (_set(GROUP + ("lr",), "0.1"), r"\['lr'\] must be a number"),
    "betas[0] 1.5": (_set(GROUP + ("betas",), [1.5, 0.999]), r"\['betas'\]\[0\] must be in "
                                                            r"\[0, 1\)"),
    "eps -1": (_set(GROUP + ("eps",), -1.0), r"\['eps'\]"),
    "weight_decay -1": (_set(GROUP + ("weight_decay",), -1.0), r"\['weight_decay'\]"),
    "initial_lr NaN": (_set(GROUP + ("initial_lr",), float("nan")), r"\['initial_lr'\]"),
    "foreach 'yes'": (_set(GROUP + ("foreach",), "yes"), "foreach must be None"),
    "two param groups": (_set(OPT + ("param_groups",), lambda g: g + g), "2 parameter groups"),
    "a parameter too few": (_set(GROUP + ("params",), [0, 1, 2]), "group 0 has 3 parameters"),
    "step -3": (_set(ADAM_STATE + ("step",), -3), r"\['step'\] must be an integer >= 0"),
    "step 2.5": (_set(ADAM_STATE + ("step",), 2.5), r"\['step'\] must be an integer >= 0"),
    "exp_avg of the wrong shape": (_set(ADAM_STATE + ("exp_avg",), np.zeros((3, 3), np.float32)),
                                   "state 'exp_avg' of parameter 0 has shape"),
    "exp_avg NaN": (_set(ADAM_STATE + ("exp_avg",), lambda a: np.full_like(a, np.nan)),
                    "NaN or infinite"),
    "state for parameter 99": (_set(OPT + ("state", "99"), {"step": 1}), "parameter index '99'"),
    "optimizer class": (_set(("optimizer", "class"), "SGD"),
                        "saved with optimizer SGD, this trainer has Adam"),
    "model weight of the wrong shape": (_set(("model", "0.weight"), np.zeros((2, 2), np.float32)),
                                        r"model\['0.weight'\]: expected shape \(24, 64\)"),
    "model weight float64": (_set(("model", "0.weight"), lambda a: a.astype(np.float64)),
                             "dtype float32"),
    "model missing a tensor": (lambda s: s["model"].pop("3.bias"), "1 missing"),
    "scheduler class": (_set(("scheduler", "class"), "ExponentialLR"),
                        "saved with scheduler ExponentialLR"),
    "scheduler last_epoch -5": (_set(SCHED + ("last_epoch",), -5), "last_epoch must be an "
                                                                   "integer >= -1"),
    "scheduler last_epoch 2.5": (_set(SCHED + ("last_epoch",), 2.5), "last_epoch"),
    "scheduler base_lrs NaN": (_set(SCHED + ("base_lrs",), [float("nan")]), "base_lrs"),
    "scheduler base_lrs two values": (_set(SCHED + ("base_lrs",), [0.1, 0.1]),
                                      "a list of 1 values"),
    "scheduler gamma a string": (_set(SCHED + ("gamma",), "x"), "gamma must be a number"),
    "scheduler step_size 0": (_set(SCHED + ("step_size",), 0), "step_size"),
    "rng not a state": (_set(("rng",), {"bit_generator": "PCG64", "state": "x"}),
                        "rng: not a valid PCG64 state"),
    "rng another generator": (_set(("rng",), {"bit_generator": "MT19937"}),
                              "expected a PCG64 state"),
    "loader_rng garbage": (_set(("loader_rng",), [1, 2]), "loader_rng"),
    "history column too short": (_set(("history", "history", "loss"), [0.5]), "history"),
    "history epochs decreasing": (_set(("history", "epoch"), [0, 2, 1]), "increasing"),
    "history value a string": (_set(("history", "history", "loss"), ["a", "b", "c"]),
                               r"history\['loss'\]"),
    "stop_training 'yes'": (_set(("stop_training",), "yes"), "stop_training"),
    "EarlyStopping wait -1": (_set(ES + ("wait",), -1), r"callbacks\[1\] \(EarlyStopping\): "
                                                        r".*wait must be an integer >= 0"),
    "EarlyStopping best a string": (_set(ES + ("best",), "low"), "best must be a number"),
    "EarlyStopping best_state of another model": (
        _set(ES + ("best_state",), {"w": np.zeros(3, np.float32)}), "best_state holds"),
    "EarlyStopping best_state missing": (_set(ES + ("best_state",), None), "no best_state"),
    "ModelCheckpoint saved not paths": (_set(("callbacks", 0, "state_dict", "saved"), [1, 2]),
                                        "saved must be a list of paths"),
    "ConvergenceCriterion hits 1.5": (_set(("callbacks", 2, "state_dict", "hits"), 1.5),
                                      "hits must be an integer"),
    "callbacks not a list": (_set(("callbacks",), {"a": 1}), "callbacks: expected a list"),
    "model weight NaN": (_set(("model", "3.bias"), lambda a: np.full_like(a, np.nan)),
                         r"model\['3.bias'\]: expected finite weights"),
    "history epochs with a gap (epoch 10**18)": (
        lambda s: (s["history"].__setitem__("epoch", [0, 1, 10 ** 18]),
                   s.__setitem__("epoch", 10 ** 18)), "history.epoch: expected the epochs 0, 1"),
    "exp_avg a dict": (_set(ADAM_STATE + ("exp_avg",), {"a": 1}),
                       r"\['exp_avg'\] must be an array or a number"),
    "scheduler gamma -0.5": (_set(SCHED + ("gamma",), -0.5), "gamma must be a number >= 0"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_an_edited_checkpoint_is_refused_and_changes_nothing(tmp_path, case):
    edit, match = BAD[case]
    path = _edited(tmp_path, edit)
    t, cbs = _fresh(tmp_path)
    before = _whole_state(t, cbs)
    Xtr, ytr, Xva, yva = _digits()
    with pytest.raises(CheckpointError, match=match) as info:
        t.fit((Xtr, ytr), validation=(Xva, yva), epochs=N, verbose=0, callbacks=cbs,
              resume=path)
    assert "Trainer.fit(resume=" in str(info.value) and str(path) in str(info.value)
    _same(before, _whole_state(t, cbs), "trainer")


def test_edited_checkpoint_through_load_state_dict_and_load_checkpoint(tmp_path):
    path = _edited(tmp_path, _set(GROUP + ("lr",), -0.1))
    t, cbs = _fresh(tmp_path)
    before = _whole_state(t, cbs)
    with pytest.raises(CheckpointError, match=r"Trainer.load_state_dict: optimizer: .*lr"):
        gn.io.load_checkpoint(path, t)
    with pytest.raises(CheckpointError):
        t.load_state_dict(read_checkpoint(path))
    _same(before, _whole_state(t, cbs), "trainer")


def test_the_edited_epoch_does_not_hang_and_a_sound_file_still_loads(tmp_path):
    good = _edited(tmp_path, lambda s: None, name="good")
    t, cbs = _fresh(tmp_path)
    Xtr, ytr, Xva, yva = _digits()
    h = t.fit((Xtr, ytr), validation=(Xva, yva), epochs=4, verbose=0, callbacks=cbs,
              resume=good)
    assert h.epoch == [0, 1, 2, 3]


def test_sgd_momentum_and_reduce_on_plateau_fields_are_checked(tmp_path):
    cases = [(_set(GROUP + ("momentum",), 1.5), r"\['momentum'\] must be in \[0, 1\)"),
             (_set(GROUP + ("dampening",), float("nan")), "dampening"),
             (_set(OPT + ("state", "0", "momentum_buffer"), np.zeros(5, np.float32)),
              "momentum_buffer")]
    for i, (edit, match) in enumerate(cases):
        path = _edited(tmp_path / "sgd", edit, scheduler="ReduceLROnPlateau",
                       optimizer="sgd", name=f"bad{i}")
        t, cbs = _fresh(tmp_path / "sgd", "ReduceLROnPlateau", "sgd")
        with pytest.raises(CheckpointError, match=match):
            t.load_state_dict(read_checkpoint(path))
    for field, value, match in [("num_bad_epochs", -1, "num_bad_epochs"),
                                ("mode", "up", r"mode must be one of \['max', 'min'\]"),
                                ("best", float("nan"), "best must be a number"),
                                ("factor", float("inf"), "factor must be a finite number")]:
        path = _edited(tmp_path / "sgd", _set(SCHED + (field,), value),
                       scheduler="ReduceLROnPlateau", optimizer="sgd", name=f"s-{field}")
        t, _ = _fresh(tmp_path / "sgd", "ReduceLROnPlateau", "sgd")
        with pytest.raises(CheckpointError, match=match):
            t.load_state_dict(read_checkpoint(path))


def test_scheduler_state_cannot_set_other_attributes(tmp_path):
    """A field the scheduler does not keep (``step``, ``optimizer``) is never set on it."""
    def edit(state):
        state["scheduler"]["state_dict"].update(step=5, optimizer={"x": 1}, verbose=False)
    path = _edited(tmp_path, edit)
    t, _ = _fresh(tmp_path)
    t.load_state_dict(read_checkpoint(path))
    assert callable(t.scheduler.step) and t.scheduler.optimizer is t.optimizer


# ---------------------------------------------------------------- transaction
def test_a_failure_while_applying_puts_everything_back(tmp_path, monkeypatch):
    """Past the checks, the scheduler's load fails (an error no check foresaw): the model
    and optimizer already loaded are put back, with the history, epoch and RNG."""
    path = tmp_path / "src" / "ck-3.safetensors"
    _run(tmp_path / "src", 3)
    t, cbs = _fresh(tmp_path)
    before = _whole_state(t, cbs)

    def boom(state_dict):
        t.scheduler.last_epoch = 999        # a partial change, then the failure
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(t.scheduler, "load_state_dict", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        t.load_state_dict(read_checkpoint(path))
    _same(before, _whole_state(t, cbs), "trainer")


def test_a_user_callback_that_refuses_its_state_puts_the_trainer_back(tmp_path):
    class Picky(Callback):
        def state_dict(self):
            return {"n": 1}

        def load_state_dict(self, state):
            raise ValueError("Picky: n must be 2")

    Xtr, ytr, Xva, yva = _digits()
    gn.manual_seed(1)
    m = nn.Sequential(nn.Linear(64, 10))
    t = Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters(), lr=1e-2))
    t.fit((Xtr, ytr), epochs=2, verbose=0, callbacks=[Picky()])
    state = t.state_dict()
    gn.manual_seed(2)
    m2 = nn.Sequential(nn.Linear(64, 10))
    t2 = Trainer(m2, nn.CrossEntropyLoss(), optim.Adam(m2.parameters(), lr=1e-2))
    t2.fit((Xtr, ytr), epochs=1, verbose=0)
    before = _whole_state(t2)
    with pytest.raises(CheckpointError, match=r"callbacks\[0\] \(Picky\): Picky: n must be 2"):
        t2.fit((Xtr, ytr), epochs=4, verbose=0, callbacks=[Picky()], resume=state)
    after = _whole_state(t2)
    after.pop("loader_rng"), before.pop("loader_rng")   # a new fit has a new loader
    after.pop("callbacks"), before.pop("callbacks")
    _same(before, after, "trainer")


def test_every_checkpoint_error_is_a_glassnet_error(tmp_path):
    path = _edited(tmp_path, _set(("epoch",), 10 ** 18))
    t, _ = _fresh(tmp_path)
    with pytest.raises(GlassnetError):
        t.load_state_dict(read_checkpoint(path))
    with pytest.raises(CheckpointError, match="expected a dict"):
        t.load_state_dict([1, 2])
    with pytest.raises(CheckpointError, match="expected the fields"):
        t.load_state_dict({"epoch": 1})


def test_model_checkpoint_save_best_only_resumes_with_its_best(tmp_path):
    """ModelCheckpoint(save_best_only=True) keeps its best value and its list of files; the
    resumed run writes exactly the files the straight run wrote after that epoch."""
    def run(folder, epochs, resume=None):
        Xtr, ytr, Xva, yva = _digits()
        gn.manual_seed(5)
        m = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10))
        opt = optim.SGD(m.parameters(), lr=0.3, momentum=0.5)
        best = ModelCheckpoint(str(folder / "best-{epoch}"), monitor="val_accuracy",
                               save_best_only=True, checkpoint=True)
        every = ModelCheckpoint(str(folder / "ck-{epoch}"), checkpoint=True)
        t = Trainer(m, nn.CrossEntropyLoss(), opt, metrics=["accuracy"],
                    scheduler=S.ExponentialLR(opt, 0.7))
        t.fit((Xtr, ytr), validation=(Xva, yva), epochs=epochs, verbose=0,
              callbacks=[best, every], resume=resume)
        return t, best

    t1, b1 = run(tmp_path / "full", N)
    assert 1 < len(b1.saved) < N and math.isfinite(b1.best)
    t2, b2 = run(tmp_path / "res", N, resume=tmp_path / "full" / "ck-3.safetensors")
    assert b2.best == b1.best
    assert [os.path.basename(p) for p in b2.saved] == [os.path.basename(p) for p in b1.saved]
    written = sorted(p.name for p in (tmp_path / "res").iterdir() if p.name.startswith("best"))
    expected = sorted(os.path.basename(p) + ".safetensors" for p in b1.saved
                      if int(p.rsplit("-", 1)[1]) > 3)   # after ck-3, the third epoch
    assert written == expected
    for a, b in zip(t1.model.state_dict().values(), t2.model.state_dict().values()):
        assert np.array_equal(a.numpy(), b.numpy())


def test_a_corrupt_checkpoint_file_is_a_checkpoint_error(tmp_path):
    path = _edited(tmp_path, lambda s: None, name="good")
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF                              # a byte of the last tensor
    path.write_bytes(bytes(raw))
    t, _ = _fresh(tmp_path)
    with pytest.raises(CheckpointError, match="read_checkpoint"):
        t.fit(_digits()[:2], epochs=4, verbose=0, resume=path)
    with pytest.raises(FileNotFoundError):
        t.fit(_digits()[:2], epochs=4, verbose=0, resume=tmp_path / "missing.safetensors")
