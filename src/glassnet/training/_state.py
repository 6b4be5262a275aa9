"""A trainer state (``Trainer.state_dict()``, a checkpoint's content) checked before any of
it is applied, and applied as one transaction.

:func:`check_state` compares every part with the trainer it is loaded into and raises
:class:`~glassnet.errors.CheckpointError` naming the field, what was expected and what
was found: the epoch (an integer in [-1, ...] that agrees with the history), the model's
names, shapes and dtypes, the optimizer's class, groups, hyper-parameters and state
arrays, the scheduler's class and fields, the history, the RNG states and, for a resumed
``fit``, the callbacks' states. :func:`snapshot` / :func:`restore` put a trainer back as
it was if applying fails anyway (an error no check foresaw).
"""
from __future__ import annotations

import copy
from collections import defaultdict

import numpy as np

from .. import backend
from ..errors import CheckpointError, GlassnetError
from ..validation import is_int
from .history import History

_KEYS = ("epoch", "model", "optimizer", "scheduler", "history", "rng")


def _fail(where, field, msg):
    raise CheckpointError(f"{where}: {field}: {msg}")


def _wrapped(where, field, check, *args):
    """Run a component's own check; its error becomes a CheckpointError naming ``field``."""
    try:
        return check(*args)
    except CheckpointError:
        raise
    except (GlassnetError, ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        raise CheckpointError(f"{where}: {field}: {e}") from None


def check_rng_state(value, generator, where, field):
    """``value`` must be a state that ``generator``'s bit generator accepts (checked on a
    scratch generator of the same kind, so ``generator`` is untouched)."""
    if not isinstance(value, dict):
        _fail(where, field, f"expected a bit-generator state (a dict), found "
                            f"{type(value).__name__}")
    kind = type(generator.bit_generator)
    name = value.get("bit_generator")
    if not isinstance(name, str) or name != kind.__name__:
        _fail(where, field, f"expected a {kind.__name__} state, found "
                            f"{value.get('bit_generator')!r:.60}")
    try:
        kind().state = value
    except Exception as e:     # NumPy raises ValueError, TypeError, KeyError, OverflowError
        _fail(where, field, f"not a valid {kind.__name__} state ({type(e).__name__}: {e})")


def _check_model(trainer, saved, where):
    if not isinstance(saved, dict):
        _fail(where, "model", f"expected a dict of name -> array, found {type(saved).__name__}")
    own = trainer.model.state_dict()
    if list(saved) != list(own):
        missing = [k for k in own if k not in saved]
        extra = [k for k in saved if k not in own]
        _fail(where, "model", f"expected the model's tensors {list(own)[:8]}, found "
                              f"{len(missing)} missing {missing[:8]} and {len(extra)} "
                              f"unexpected {extra[:8]}")
    for k, t in own.items():
        a, b = saved[k], t.numpy()
        if not isinstance(a, np.ndarray):
            _fail(where, f"model[{k!r}]", f"expected an array, found {type(a).__name__}")
        if a.shape != b.shape or a.dtype != b.dtype:
            _fail(where, f"model[{k!r}]", f"expected shape {b.shape} and dtype {b.dtype}, "
                                         f"found {a.shape} and {a.dtype}")
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            _fail(where, f"model[{k!r}]", "expected finite weights, found NaN or infinite "
                                         "values (training never saves those)")


def _check_class(part, saved, own, where):
    if saved is None and own is None:
        return
    name = saved.get("class") if isinstance(saved, dict) else None
    mine = None if own is None else type(own).__name__
    if not isinstance(name, str) or name != mine:
        _fail(where, part, f"the state was saved with {part} {name}, this trainer has {mine}")
    if not isinstance(saved.get("state_dict"), dict):
        _fail(where, f"{part}.state_dict", "expected a dict, found "
                                           f"{type(saved.get('state_dict')).__name__}")


def _check_callbacks(trainer, callbacks, saved, where):
    if not isinstance(saved, list):
        _fail(where, "callbacks", f"expected a list, found {type(saved).__name__}")
    for i, entry in enumerate(saved):
        if not isinstance(entry, dict) or not isinstance(entry.get("class"), str) \
                or not isinstance(entry.get("state_dict"), dict):
            _fail(where, f"callbacks[{i}]", "expected {'class': name, 'state_dict': dict}, "
                                            f"found {entry!r:.100}")
    for i, (cb, entry) in enumerate(zip(callbacks, saved)):
        if entry["class"] == type(cb).__name__ and entry["state_dict"]:
            check = getattr(cb, "_check_state_dict", None)
            if check is not None:
                _wrapped(where, f"callbacks[{i}] ({entry['class']})", check,
                         entry["state_dict"], trainer)


def check_state(trainer, state, where, callbacks=None, loader=None):
    """Raise :class:`CheckpointError` unless ``state`` can be applied to ``trainer``
    whole; changes nothing. ``callbacks`` (a resumed fit's) and ``loader`` (the training
    loader's generator) are checked too when given."""
    if not isinstance(state, dict):
        _fail(where, "state", f"expected a dict (Trainer.state_dict()), found "
                              f"{type(state).__name__}")
    missing = [k for k in _KEYS if k not in state]
    if missing:
        _fail(where, "state", f"expected the fields {list(_KEYS)}, found no {missing}")
    history = _wrapped(where, "history", History.from_dict, state["history"])
    first = history.epoch[0] if history.epoch else 0   # > 0 after fit(initial_epoch=...)
    if history.epoch != list(range(first, first + len(history.epoch))):
        _fail(where, "history.epoch", f"expected the epochs 0, 1, ... of one run (or "
                                      f"consecutive epochs from fit's initial_epoch), found "
                                      f"{history.epoch[:10]!r}")
    epoch = state["epoch"]
    last = history.epoch[-1] if history.epoch else -1
    if not is_int(epoch) or epoch != last:
        _fail(where, "epoch", f"expected the last epoch the history records ({last}; -1 "
                              f"before any), found {epoch!r:.60}")
    for key in ("stop_training",):
        if not isinstance(state.get(key, False), bool):
            _fail(where, key, f"expected True or False, found {state[key]!r:.60}")
    reason = state.get("stop_reason")
    if reason is not None and not isinstance(reason, str):
        _fail(where, "stop_reason", f"expected a string or None, found {reason!r:.60}")
    _check_model(trainer, state["model"], where)
    _check_class("optimizer", state["optimizer"], trainer.optimizer, where)
    _wrapped(where, "optimizer", trainer.optimizer._check_state_dict,
             state["optimizer"]["state_dict"])
    _check_class("scheduler", state["scheduler"], trainer.scheduler, where)
    if trainer.scheduler is not None:
        check = getattr(trainer.scheduler, "_check_state_dict", None)
        if check is not None:
            _wrapped(where, "scheduler", check, state["scheduler"]["state_dict"])
    check_rng_state(state["rng"], backend.rng(), where, "rng")
    if loader is not None and state.get("loader_rng") is not None:
        check_rng_state(state["loader_rng"], loader, where, "loader_rng")
    if callbacks is not None:
        saved = state.get("callbacks")
        _check_callbacks(trainer, callbacks, [] if saved is None else saved, where)


def load_callbacks(trainer, callbacks, saved, snap, where) -> None:
    """Load each saved state into the callback at its position when the classes match; a
    callback whose own load_state_dict fails (past the checks) puts the trainer back as
    ``snap`` found it and is a CheckpointError naming it."""
    for i, (cb, entry) in enumerate(zip(callbacks, saved)):
        if entry["class"] == type(cb).__name__ and entry["state_dict"]:
            try:
                cb.load_state_dict(entry["state_dict"])
            except Exception as e:
                if snap is not None:
                    restore(trainer, snap)
                raise CheckpointError(f"{where}: callbacks[{i}] ({entry['class']}): {e}") \
                    from e


def snapshot(trainer) -> dict:
    """Everything :meth:`Trainer.load_state_dict` and a resumed fit change, copied."""
    opt, sched = trainer.optimizer, trainer.scheduler
    keep = {id(opt): opt}          # the scheduler's copy must not copy its optimizer
    return {
        "model": {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()},
        "groups": [dict(g) for g in opt.param_groups],
        "opt_state": {p: {k: np.array(v, copy=True) if isinstance(v, np.ndarray)
                          else copy.deepcopy(v) for k, v in st.items()}
                      for p, st in opt.state.items()},
        "scheduler": None if sched is None else copy.deepcopy(
            {k: v for k, v in vars(sched).items() if k != "optimizer"}, keep),
        "sched_subs": [] if sched is None else [
            (s, copy.deepcopy({k: v for k, v in vars(s).items() if k != "optimizer"}, keep))
            for s in getattr(sched, "_schedulers", [])],
        "history": trainer.history,
        "fields": {k: getattr(trainer, k) for k in ("epoch", "stop_training", "stop_reason")},
        "rng": copy.deepcopy(backend.rng().bit_generator.state),
        "loader": None if trainer._shuffle_rng is None else
        (trainer._shuffle_rng, copy.deepcopy(trainer._shuffle_rng.bit_generator.state)),
    }


def restore(trainer, snap) -> None:
    """Put ``trainer`` back as :func:`snapshot` found it."""
    trainer.model.load_state_dict(snap["model"])
    opt = trainer.optimizer
    for g, saved in zip(opt.param_groups, snap["groups"]):
        g.clear()
        g.update(saved)
    opt.state = defaultdict(dict, snap["opt_state"])
    opt._engine.reset()
    sched = trainer.scheduler
    if sched is not None:
        subs = [s for s, _ in snap["sched_subs"]]
        vars(sched).clear()
        vars(sched).update(snap["scheduler"], optimizer=opt)
        if subs:                          # the same sub-scheduler objects, their old fields
            sched._schedulers = subs
            for s, fields in snap["sched_subs"]:
                vars(s).clear()
                vars(s).update(fields, optimizer=opt)
    trainer.history = snap["history"]
    for k, v in snap["fields"].items():
        setattr(trainer, k, v)
    backend.rng().bit_generator.state = snap["rng"]
    if snap["loader"] is not None:
        gen, st = snap["loader"]
        gen.bit_generator.state = st
