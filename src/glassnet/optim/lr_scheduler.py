"""Learning-rate schedules that change ``group["lr"]`` of an optimizer, PyTorch-style.

Call ``scheduler.step()`` once per epoch (or per batch for ``OneCycleLR`` / ``CyclicLR``),
after ``optimizer.step()``; ``ReduceLROnPlateau.step(val_loss)`` takes the monitored value.
The formulas are PyTorch 2.13's: the recursive ("chainable") ones for ``step()``, so that
several schedulers on one optimizer compose, and the closed forms for the deprecated
``step(epoch)``. ``get_last_lr()`` gives the rates the latest step set, ``last_epoch``
counts the steps, ``state_dict()`` is JSON-able (functions are left out, as PyTorch does).

>>> from glassnet import nn, optim
>>> import numpy as np
>>> opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=0.1)
>>> sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> for _ in range(4):
...     opt.step(); sched.step()
>>> sched.get_last_lr()
[0.025]
"""
from __future__ import annotations

import math
import types
from bisect import bisect_right
from collections import Counter

from ..errors import ArgumentError, ArgumentTypeError
from ..validation import check_choice, check_int, check_real, is_int
from .optimizer import Optimizer

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, SupportsFloat, Union, cast

if TYPE_CHECKING:  # annotations only
    from typing import TypeAlias

    # a learning rate (momentum) for every group, or one per group
    _PerGroup: TypeAlias = Union[float, Sequence[float]]
    _Lambda: TypeAlias = Callable[[int], float]


__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR",
           "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR", "SequentialLR",
           "ChainedScheduler", "ReduceLROnPlateau"]


def _check_optimizer(optimizer: object, where: str) -> None:
    if not isinstance(optimizer, Optimizer):
        raise ArgumentTypeError(f"{where}: optimizer must be a glassnet.optim.Optimizer, got "
                                f"{type(optimizer).__name__}")


def _per_group(name: str, optimizer: Optimizer, value: Any, where: str) -> list[Any]:
    """One value per parameter group: a list/tuple of that length, or one value repeated."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ArgumentError(f"{where}: {name} must have one value per parameter group "
                                f"({n}), got {len(value)}")
        return list(value)
    return [value] * n


def _lambdas(lr_lambda: _Lambda | Sequence[_Lambda], optimizer: Optimizer,
             where: str) -> list[_Lambda]:
    n = len(optimizer.param_groups)
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != n:
            raise ArgumentError(f"{where}: expected {n} lr_lambdas (one per group), got "
                                f"{len(lr_lambda)}")
        fns = list(lr_lambda)
    else:
        fns = [lr_lambda] * n
    for f in fns:
        if not callable(f):
            raise ArgumentTypeError(f"{where}: lr_lambda must be callable, got {type(f).__name__}")
    return fns


# integer fields of the schedulers' states and their least values
_INT_FIELDS = {"last_epoch": -1, "_step_count": 0, "step_size": 1, "T_0": 1, "T_mult": 1,
               "total_steps": 1, "patience": 0, "cooldown": 0, "cooldown_counter": 0,
               "num_bad_epochs": 0}
_POSITIVE = ("T_max", "T_i", "total_size")
# fields holding one learning rate (or momentum) per group: finite and >= 0
_PER_GROUP = ("base_lrs", "_last_lr", "min_lrs", "max_lrs", "base_momentums", "max_momentums")
# fields that are never negative
_NON_NEGATIVE = ("gamma", "eta_min", "factor", "eps", "threshold", "power", "start_factor",
                 "end_factor", "default_min_lr", "cooldown", "total_iters")
# fields that may be infinite (ReduceLROnPlateau's best before any value)
_MAY_BE_INF = ("best", "mode_worse")
# string fields take one value of the set their current value belongs to
_CHOICES = ({"min", "max"}, {"rel", "abs"}, {"cos", "linear"}, {"cycle", "iterations"},
            {"triangular", "triangular2", "exp_range"},
            {"initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"})


def _bad(where: str, name: str, what: str, v: Any) -> NoReturn:
    raise ArgumentError(f"{where}: {name} must be {what}, got {v!r:.100}")


def _check_like(v: Any, ref: Any, name: str, key: str, where: str) -> None:
    """``v`` (a saved state value) must have the kind of ``ref`` (the scheduler's own
    current value of that field): the same JSON type, per-group lists of the same length,
    integers where counters are, no NaN."""
    if isinstance(ref, bool):
        if not isinstance(v, bool):
            _bad(where, name, "True or False", v)
    elif isinstance(ref, (int, float)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
            _bad(where, name, "a number", v)
        if key in _INT_FIELDS and (not is_int(v) or v < _INT_FIELDS[key]):
            _bad(where, name, f"an integer >= {_INT_FIELDS[key]}", v)
        if math.isinf(v) and key not in _MAY_BE_INF and not math.isinf(ref):
            _bad(where, name, "a finite number", v)
        if key in _POSITIVE and not v > 0:
            _bad(where, name, "a positive number", v)
        if key in _PER_GROUP and not (0 <= v < math.inf):
            _bad(where, name, "a finite number >= 0", v)
        if key in _NON_NEGATIVE and not v >= 0:
            _bad(where, name, "a number >= 0", v)
    elif isinstance(ref, str):
        allowed = next((c for c in _CHOICES if ref in c), None)
        if not isinstance(v, str) or (allowed is not None and v not in allowed):
            _bad(where, name, f"one of {sorted(allowed)}" if allowed else "a string", v)
    elif isinstance(ref, (list, tuple)):
        if not isinstance(v, (list, tuple)) or len(v) != len(ref):
            _bad(where, name, f"a list of {len(ref)} values", v)
        for i, (a, b) in enumerate(zip(v, ref)):
            _check_like(a, b, f"{name}[{i}]", key, where)
    elif isinstance(ref, dict):
        if not isinstance(v, dict):
            _bad(where, name, "a dict", v)
        if key == "milestones":
            for m, c in v.items():
                if not (is_int(m) or (isinstance(m, str) and m.lstrip("-").isdigit())) \
                        or not is_int(c) or c < 1:
                    _bad(where, name, "epochs (integers) mapped to counts >= 1",
                         {m: c})
            return
        if sorted(map(str, v)) != sorted(map(str, ref)):
            _bad(where, name, f"a dict with the keys {sorted(map(str, ref))}", v)
        for k, sub in ref.items():
            _check_like(v[k], sub, f"{name}[{k!r}]", k, where)


def _check_fields(sched: LRScheduler, state_dict: Any, own: dict[str, Any],
                  where: str) -> dict[str, Any]:
    """Check the fields of ``state_dict`` that ``sched`` keeps (``own``: its own state);
    returns them (fields it does not keep are ignored, never set on the object)."""
    if not isinstance(state_dict, dict):
        raise ArgumentTypeError(f"{where}: expected a dict, got {type(state_dict).__name__}")
    kept = {k: v for k, v in state_dict.items() if k in own}
    for k, v in kept.items():
        _check_like(v, own[k], k, k, where)
    total = kept.get("total_steps", own.get("total_steps"))
    if total is not None and kept.get("last_epoch", -1) > total:
        _bad(where, "last_epoch", f"at most total_steps ({total})", kept["last_epoch"])
    return kept


def _lambdas_state(fns: Sequence[_Lambda]) -> list[dict[str, Any] | None]:
    """PyTorch's state of lr_lambdas: None for a plain function, else the object's __dict__."""
    return [None if isinstance(f, types.FunctionType) else dict(vars(f)) for f in fns]


class LRScheduler:
    """Base class: keeps ``last_epoch``, ``base_lrs`` and writes ``get_lr()`` into the groups.

    Construction performs step 0 (most schedules leave the learning rates as they are;
    ``LinearLR``, ``ConstantLR``, ``OneCycleLR`` and ``CyclicLR`` set their first value).
    With ``last_epoch=-1`` each group gets ``initial_lr`` (its current ``lr``) unless it has
    one; resuming with ``last_epoch >= 0`` needs ``initial_lr`` in every group.
    """

    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        where = type(self).__name__
        _check_optimizer(optimizer, where)
        self.optimizer = optimizer
        if last_epoch == -1:
            for g in optimizer.param_groups:
                g.setdefault("initial_lr", g["lr"])
        else:
            for i, g in enumerate(optimizer.param_groups):
                if "initial_lr" not in g:
                    raise KeyError(f"{where}: param_groups[{i}] has no 'initial_lr'; resuming "
                                   f"with last_epoch={last_epoch} needs the optimizer's state")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:  # pragma: no cover - abstract
        """The learning rates of the step in progress (one per group)."""
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and set the new learning rates.

        ``epoch`` (deprecated in PyTorch, still accepted) jumps to that epoch, through the
        schedule's closed form where it has one.
        """
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for g, lr in zip(self.optimizer.param_groups, values):
            g["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the latest ``step`` (one per group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state: every attribute except the optimizer and functions."""
        return {k: v for k, v in self.__dict__.items()
                if k not in ("optimizer", "lr_lambdas") and not callable(v)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (also PyTorch's scheduler state).

        Only the fields this scheduler keeps are restored (others, e.g. PyTorch's
        ``verbose``, are ignored), each checked first against the scheduler's own value:
        the same type, ``last_epoch`` an integer >= -1, counters integers >= 0, per-group
        learning rates finite and >= 0, one per group, no NaN; a bad field is an
        :class:`~glassnet.errors.ArgumentError` naming it, and nothing is changed.
        """
        self.__dict__.update(self._check_state_dict(state_dict))

    def _check_state_dict(self, state_dict: Any) -> dict[str, Any]:
        """The checked fields of ``state_dict`` that :meth:`load_state_dict` applies."""
        own = LRScheduler.state_dict(self)
        own.pop("lr_lambdas", None)
        return _check_fields(self, state_dict, own, f"{type(self).__name__}.load_state_dict")


# the pre-2.0 name, still subclassed by custom schedulers in the wild
_LRScheduler = LRScheduler


class LambdaLR(LRScheduler):
    r""":math:`\eta_t = \eta_0 \cdot f(t)` for a function ``lr_lambda`` (or one per group).

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> sched = LambdaLR(opt, lambda epoch: 0.95 ** epoch)
    >>> for _ in range(10): opt.step(); sched.step()
    >>> round(sched.get_last_lr()[0], 6)
    0.059874
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: _Lambda | Sequence[_Lambda],
                 last_epoch: int = -1) -> None:
        _check_optimizer(optimizer, "LambdaLR")
        self.lr_lambdas = _lambdas(lr_lambda, optimizer, "LambdaLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict[str, Any]:
        d = super().state_dict()
        d["lr_lambdas"] = _lambdas_state(self.lr_lambdas)
        return d

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """The fields (checked, see :meth:`LRScheduler.load_state_dict`) and the attributes
        of callable objects given as ``lr_lambda`` (plain functions are not saved, as in
        PyTorch: the fresh scheduler's own functions are used)."""
        kept = self._check_state_dict(state_dict)
        saved = state_dict.get("lr_lambdas") or []
        if not isinstance(saved, list) or len(saved) > len(self.lr_lambdas) or not all(
                s is None or isinstance(s, dict) for s in saved):
            raise ArgumentError(f"{type(self).__name__}.load_state_dict: lr_lambdas must be a "
                                f"list of {len(self.lr_lambdas)} dicts or None, got "
                                f"{saved!r:.100}")
        for f, s in zip(self.lr_lambdas, saved):
            if s is not None and isinstance(f, types.FunctionType):
                raise ArgumentError(f"{type(self).__name__}.load_state_dict: the state holds "
                                    "attributes of a callable object, but this lr_lambda is a "
                                    "plain function")
        self.__dict__.update(kept)
        for f, s in zip(self.lr_lambdas, saved):
            if s is not None:
                vars(f).update(s)


class MultiplicativeLR(LambdaLR):
    r""":math:`\eta_t = \eta_{t-1} \cdot f(t)` for ``t >= 1``: each step multiplies the
    current learning rate by ``lr_lambda(epoch)``.

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> sched = MultiplicativeLR(opt, lambda epoch: 0.95)
    >>> for _ in range(10): opt.step(); sched.step()
    >>> round(sched.get_last_lr()[0], 6)
    0.059874
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: _Lambda | Sequence[_Lambda],
                 last_epoch: int = -1) -> None:
        _check_optimizer(optimizer, "MultiplicativeLR")
        self.lr_lambdas = _lambdas(lr_lambda, optimizer, "MultiplicativeLR")
        LRScheduler.__init__(self, optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [g["lr"] for g in groups]
        return [g["lr"] * f(self.last_epoch) for f, g in zip(self.lr_lambdas, groups)]


class StepLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every ``step_size`` epochs:
    :math:`\eta_t = \eta_0\,\gamma^{\lfloor t / s \rfloor}`.

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> sched = StepLR(opt, step_size=30, gamma=0.1)
    >>> lrs = []
    >>> for _ in range(90): lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> sorted(set(round(x, 6) for x in lrs), reverse=True)
    [0.1, 0.01, 0.001]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size = check_int(step_size, "step_size", "StepLR")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` at each epoch listed in ``milestones``
    (a milestone listed twice multiplies by ``gamma**2``).

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> sched = MultiStepLR(opt, milestones=[30, 80], gamma=0.1)
    >>> for _ in range(80): opt.step(); sched.step()
    >>> round(sched.get_last_lr()[0], 6)
    0.001
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        ms = list(milestones)
        if not all(is_int(m) for m in ms):
            raise ArgumentTypeError(f"MultiStepLR: milestones must be integers, got {ms}")
        self.milestones = Counter(sorted(int(m) for m in ms))
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch not in self.milestones:
            return [g["lr"] for g in groups]
        f = self.gamma ** self.milestones[self.last_epoch]
        return [g["lr"] * f for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        ms = sorted(self.milestones.elements())
        return [b * self.gamma ** bisect_right(ms, self.last_epoch) for b in self.base_lrs]

    def state_dict(self) -> dict[str, Any]:
        d = super().state_dict()
        d["milestones"] = {int(k): v for k, v in self.milestones.items()}
        return d

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        kept = self._check_state_dict(state_dict)
        if "milestones" in kept:
            kept["milestones"] = Counter({int(a): b for a, b in kept["milestones"].items()})
        self.__dict__.update(kept)

    def _check_state_dict(self, state_dict: Any) -> dict[str, Any]:
        own = LRScheduler.state_dict(self)
        own["milestones"] = dict(self.milestones)
        return _check_fields(self, state_dict, own, "MultiStepLR.load_state_dict")


class ConstantLR(LRScheduler):
    r"""The learning rate times ``factor`` for the first ``total_iters`` epochs, then the
    learning rate itself.

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> sched = ConstantLR(opt, factor=0.5, total_iters=4)
    >>> lrs = []
    >>> for _ in range(6): lrs.append(round(sched.get_last_lr()[0], 6)); opt.step(); sched.step()
    >>> lrs
    [0.05, 0.05, 0.05, 0.05, 0.1, 0.1]
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if not 0 <= factor <= 1:
            raise ArgumentError(f"ConstantLR: factor must be in [0, 1], got {factor!r}")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [g["lr"] * self.factor for g in groups]
        if self.last_epoch != self.total_iters:
            return [g["lr"] for g in groups]
        return [g["lr"] * (1.0 / self.factor) for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        f = self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor)
        return [b * f for b in self.base_lrs]


class LinearLR(LRScheduler):
    r"""The learning rate times a factor going linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` epochs (a warm-up with the defaults), then constant.

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> sched = LinearLR(opt, start_factor=0.1, total_iters=10)
    >>> lrs = []
    >>> for _ in range(11): lrs.append(round(sched.get_last_lr()[0], 4)); opt.step(); sched.step()
    >>> lrs[0], lrs[5], lrs[10]
    (0.01, 0.055, 0.1)
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        if not 0 < start_factor <= 1:
            raise ArgumentError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}")
        if not 0 <= end_factor <= 1:
            raise ArgumentError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        t, n, a, b = self.last_epoch, self.total_iters, self.start_factor, self.end_factor
        if t == 0:
            return [g["lr"] * a for g in groups]
        if self._is_initial or t > n:
            return [g["lr"] for g in groups]
        # the ratio of the factor at t to the factor at t - 1
        ratio = 1.0 + (b - a) / (n * a + (t - 1) * (b - a))
        return [g["lr"] * ratio for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        t, n = self.last_epoch, self.total_iters
        f = self.start_factor + (self.end_factor - self.start_factor) * min(n, t) / n
        return [b * f for b in self.base_lrs]


class ExponentialLR(LRScheduler):
    r""":math:`\eta_t = \eta_0\,\gamma^t`.

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> sched = ExponentialLR(opt, gamma=0.95)
    >>> for _ in range(10): opt.step(); sched.step()
    >>> round(sched.get_last_lr()[0], 6)
    0.059874
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [b * self.gamma ** self.last_epoch for b in self.base_lrs]


class PolynomialLR(LRScheduler):
    r""":math:`\eta_t = \eta_0\,(1 - \min(t, T)/T)^{p}` with ``total_iters`` :math:`T` and
    ``power`` :math:`p` (zero from epoch :math:`T` on).

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> sched = PolynomialLR(opt, total_iters=50, power=2.0)
    >>> for _ in range(25): opt.step(); sched.step()
    >>> round(sched.get_last_lr()[0], 6)
    0.025
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        t, n = self.last_epoch, self.total_iters
        if self._is_initial or t > n:
            return [g["lr"] for g in groups]
        f = ((1.0 - t / n) / (1.0 - (t - 1) / n)) ** self.power
        return [g["lr"] * f for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        n = self.total_iters
        return [b * (1.0 - min(n, self.last_epoch) / n) ** self.power for b in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial learning rate down to ``eta_min`` over ``T_max`` epochs:

    .. math:: \eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})(1 + \cos(\pi t / T_{max}))

    (computed recursively like PyTorch, so it composes with other changes of the lr;
    beyond ``T_max`` it rises again, a cosine of period ``2 T_max``).

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> sched = CosineAnnealingLR(opt, T_max=50, eta_min=1e-5)
    >>> for _ in range(50): opt.step(); sched.step()
    >>> round(sched.get_last_lr()[0], 6)
    1e-05
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        check_real(T_max, "T_max", "CosineAnnealingLR", 0, low_open=True)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        t, T, lo = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return [g["lr"] for g in groups]
        if self._step_count == 1 and t > 0:
            return [lo + (b - lo) * (1 + math.cos(t * math.pi / T)) / 2 for b in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [g["lr"] + (b - lo) * (1 - math.cos(math.pi / T)) / 2
                    for b, g in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (g["lr"] - lo) + lo for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        t, T, lo = self.last_epoch, self.T_max, self.eta_min
        return [lo + (b - lo) * (1 + math.cos(math.pi * t / T)) / 2 for b in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""SGDR: cosine annealing that restarts at the initial learning rate.

    .. math:: \eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})(1 + \cos(\pi T_{cur} / T_i))

    with :math:`T_{cur}` the epochs since the last restart and :math:`T_i` the current
    period: ``T_0`` first, multiplied by ``T_mult`` at each restart. ``step(epoch)``
    accepts a fractional epoch (e.g. ``epoch + i / iters_per_epoch`` per batch).

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> sched = CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2)
    >>> for _ in range(10): opt.step(); sched.step()
    >>> round(sched.get_last_lr()[0], 6)
    0.1
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if not is_int(T_0) or T_0 <= 0:
            raise ArgumentError(f"CosineAnnealingWarmRestarts: T_0 must be a positive integer, "
                                f"got {T_0!r}")
        if not is_int(T_mult) or T_mult < 1:
            raise ArgumentError(f"CosineAnnealingWarmRestarts: T_mult must be an integer >= 1, "
                                f"got {T_mult!r}")
        if isinstance(eta_min, bool) or not isinstance(eta_min, (int, float)):
            raise ArgumentError(f"CosineAnnealingWarmRestarts: eta_min must be a float or int, "
                                f"got {type(eta_min).__name__}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur: float = last_epoch   # fractional after step(epoch) with a float epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lo = self.eta_min
        return [lo + (b - lo) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for b in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """One epoch on, or jump to ``epoch`` (may be fractional)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ArgumentError(f"CosineAnnealingWarmRestarts.step: epoch must be "
                                    f"non-negative, got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    # the restart index n: T_0 (m^n - 1) / (m - 1) <= epoch
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for g, lr in zip(self.optimizer.param_groups, self.get_lr()):
            g["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]


def _set_momentum(group: dict[str, Any], use_beta1: bool, value: float) -> None:
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


class CyclicLR(LRScheduler):
    r"""Cyclical learning rates (Smith, 2017): the rate goes from ``base_lr`` up to
    ``max_lr`` in ``step_size_up`` steps and back in ``step_size_down``, per batch.

    ``mode``: "triangular" (constant amplitude), "triangular2" (halved each cycle),
    "exp_range" (times ``gamma**iteration``), or a custom ``scale_fn`` of the cycle number
    or of the iteration (``scale_mode``). With ``cycle_momentum`` the momentum (or Adam's
    beta1) moves the other way, between ``max_momentum`` and ``base_momentum``.

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> sched = CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=20)
    >>> for _ in range(20): opt.step(); sched.step()
    >>> round(sched.get_last_lr()[0], 6)
    0.1
    """

    def __init__(self, optimizer: Optimizer, base_lr: _PerGroup, max_lr: _PerGroup,
                 step_size_up: int = 2000, step_size_down: int | None = None,
                 mode: str = "triangular", gamma: float = 1.0,
                 scale_fn: Callable[[float], float] | None = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: _PerGroup = 0.8,
                 max_momentum: _PerGroup = 0.9, last_epoch: int = -1) -> None:
        who = "CyclicLR"
        _check_optimizer(optimizer, who)
        self.optimizer = optimizer
        base_lrs = _per_group("base_lr", optimizer, base_lr, who)
        if last_epoch == -1:
            for lr, g in zip(base_lrs, optimizer.param_groups):
                g["lr"] = lr
        self.max_lrs = _per_group("max_lr", optimizer, max_lr, who)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if scale_fn is None:
            check_choice(mode, "mode", who, ("triangular", "triangular2", "exp_range"))
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ArgumentError(f"{who}: cycle_momentum=True needs an optimizer with momentum "
                                    f"or betas (got {type(optimizer).__name__}); pass "
                                    "cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = _per_group("base_momentum", optimizer, base_momentum, who)
            self.max_momentums = _per_group("max_momentum", optimizer, max_momentum, who)
            if last_epoch == -1:
                for hi, lo, g in zip(self.max_momentums, self.base_momentums,
                                     optimizer.param_groups):
                    _set_momentum(g, self.use_beta1, hi)
                    g["max_momentum"] = hi
                    g["base_momentum"] = lo
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        if self._scale_fn_custom is not None:
            return
        if self.mode in ("triangular", "triangular2"):
            self.scale_mode = "cycle"
        elif self.mode == "exp_range":
            self.scale_mode = "iterations"

    def scale_fn(self, x: float) -> float:
        """The amplitude's scale at cycle number (or iteration) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        if x <= self.step_ratio:
            f = x / self.step_ratio
        else:
            f = (x - 1) / (self.step_ratio - 1)
        s = self.scale_fn(cycle if self.scale_mode == "cycle" else t)
        lrs = [lo + (hi - lo) * f * s for lo, hi in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for g, lo, hi in zip(self.optimizer.param_groups, self.base_momentums,
                                 self.max_momentums):
                _set_momentum(g, self.use_beta1, hi - (hi - lo) * f * s)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        d = super().state_dict()
        fn = self._scale_fn_custom
        d["_scale_fn_custom"] = (None if fn is None or isinstance(fn, types.FunctionType)
                                 else dict(vars(fn)))
        return d

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not isinstance(state_dict, dict):
            raise ArgumentTypeError(f"CyclicLR.load_state_dict: expected a dict, got "
                                    f"{type(state_dict).__name__}")
        state_dict = dict(state_dict)
        fn = state_dict.pop("_scale_fn_custom", None)
        if fn is not None and not isinstance(fn, dict):
            raise ArgumentError(f"CyclicLR.load_state_dict: _scale_fn_custom must be a dict "
                                f"of the scale function's attributes or None, got {fn!r:.100}")
        super().load_state_dict(state_dict)
        if fn is not None and self._scale_fn_custom is not None:
            vars(self._scale_fn_custom).update(fn)
        self._init_scale_fn()


class OneCycleLR(LRScheduler):
    r"""The 1cycle policy (Smith & Topin, 2018), per batch: from ``max_lr / div_factor`` up
    to ``max_lr`` in the first ``pct_start`` of ``total_steps``, then down to
    ``initial_lr / final_div_factor``; ``three_phase=True`` comes back to the initial rate
    symmetrically before the final descent. ``anneal_strategy`` "cos" or "linear". With
    ``cycle_momentum`` the momentum (or beta1) goes from ``max_momentum`` to
    ``base_momentum`` and back. ``total_steps`` or ``epochs`` and ``steps_per_epoch``.

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> sched = OneCycleLR(opt, max_lr=0.1, epochs=10, steps_per_epoch=100)
    >>> for _ in range(300): opt.step(); sched.step()
    >>> round(sched.get_last_lr()[0], 6)
    0.099999
    """

    def __init__(self, optimizer: Optimizer, max_lr: _PerGroup, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: _PerGroup = 0.85,
                 max_momentum: _PerGroup = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        who = "OneCycleLR"
        _check_optimizer(optimizer, who)
        self.optimizer = optimizer
        if total_steps is not None:
            if not is_int(total_steps) or total_steps <= 0:
                raise ArgumentError(f"{who}: total_steps must be a positive integer, got "
                                    f"{total_steps!r}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not is_int(epochs) or epochs <= 0:
                raise ArgumentError(f"{who}: epochs must be a positive integer, got {epochs!r}")
            if not is_int(steps_per_epoch) or steps_per_epoch <= 0:
                raise ArgumentError(f"{who}: steps_per_epoch must be a positive integer, got "
                                    f"{steps_per_epoch!r}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ArgumentError(f"{who}: give total_steps, or epochs and steps_per_epoch")
        n = self.total_steps
        # per phase: its last step (a number) and the group keys it goes from and to
        self._schedule_phases: list[dict[str, Any]]
        if three_phase:
            self._schedule_phases = [
                dict(end_step=float(pct_start * n) - 1, start_lr="initial_lr",
                     end_lr="max_lr", start_momentum="max_momentum",
                     end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * n) - 2, start_lr="max_lr",
                     end_lr="initial_lr", start_momentum="base_momentum",
                     end_momentum="max_momentum"),
                dict(end_step=n - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum")]
        else:
            self._schedule_phases = [
                dict(end_step=float(pct_start * n) - 1, start_lr="initial_lr",
                     end_lr="max_lr", start_momentum="max_momentum",
                     end_momentum="base_momentum"),
                dict(end_step=n - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum")]
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ArgumentError(f"{who}: pct_start must be a float in [0, 1], got {pct_start!r}")
        check_choice(anneal_strategy, "anneal_strategy", who, ("cos", "linear"))
        self._anneal_func_type = anneal_strategy
        max_lrs = _per_group("max_lr", optimizer, max_lr, who)
        if last_epoch == -1:
            for m, g in zip(max_lrs, optimizer.param_groups):
                g["initial_lr"] = m / div_factor
                g["max_lr"] = m
                g["min_lr"] = g["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ArgumentError(f"{who}: cycle_momentum=True needs an optimizer with momentum "
                                    f"or betas (got {type(optimizer).__name__}); pass "
                                    "cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            his = _per_group("max_momentum", optimizer, max_momentum, who)
            los = _per_group("base_momentum", optimizer, base_momentum, who)
            if last_epoch == -1:
                for hi, lo, g in zip(his, los, optimizer.param_groups):
                    _set_momentum(g, self.use_beta1, hi)
                    g["max_momentum"] = hi
                    g["base_momentum"] = lo
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t > self.total_steps:
            raise ArgumentError(f"OneCycleLR: stepped {t} times, but total_steps is "
                                f"{self.total_steps}")
        lrs = []
        last = len(self._schedule_phases) - 1
        for g in self.optimizer.param_groups:
            start = 0.0
            for i, ph in enumerate(self._schedule_phases):
                end = ph["end_step"]
                if t <= end or i == last:
                    pct = (t - start) / (end - start)
                    lr = self._anneal(g[ph["start_lr"]], g[ph["end_lr"]], pct)
                    if self.cycle_momentum:
                        mom = self._anneal(g[ph["start_momentum"]], g[ph["end_momentum"]], pct)
                    break
                start = ph["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                _set_momentum(g, self.use_beta1, mom)
        return lrs


def _check_schedulers(schedulers: Sequence[LRScheduler], optimizer: Optimizer | None,
                      who: str) -> None:
    for i, s in enumerate(schedulers):
        if not hasattr(s, "optimizer"):
            raise ArgumentTypeError(f"{who}: schedulers[{i}] has no optimizer attribute (got "
                                    f"{type(s).__name__})")
        if isinstance(s, ReduceLROnPlateau):
            raise ArgumentError(f"{who}: schedulers[{i}] is a ReduceLROnPlateau, whose step needs "
                                "the monitored value; it cannot be chained")
        if s.optimizer is not optimizer:
            raise ArgumentError(f"{who}: schedulers[{i}] ({type(s).__name__}) belongs to another "
                                "optimizer; all must share one")


class SequentialLR(LRScheduler):
    r"""Run ``schedulers`` one after another, switching at the epochs in ``milestones``
    (one fewer than the schedulers); each starts from its own epoch 0 at its milestone.

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> warm = LinearLR(opt, start_factor=0.1, total_iters=5)
    >>> cos = CosineAnnealingLR(opt, T_max=95)
    >>> sched = SequentialLR(opt, [warm, cos], milestones=[5])
    >>> lrs = []
    >>> for _ in range(100): lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> round(lrs[0], 6), round(max(lrs), 6), round(lrs[-1], 6)
    (0.01, 0.1, 2.7e-05)
    """

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler],
                 milestones: Sequence[int], last_epoch: int = -1) -> None:
        who = "SequentialLR"
        _check_optimizer(optimizer, who)
        if len(schedulers) < 1:
            raise ArgumentError(f"{who}: needs at least one scheduler, got none")
        _check_schedulers(schedulers, optimizer, who)
        if len(milestones) != len(schedulers) - 1:
            raise ArgumentError(f"{who}: needs one milestone fewer than schedulers, got "
                                f"{len(schedulers)} schedulers and {len(milestones)} milestones")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for g in optimizer.param_groups:
            g["lr"] = g["initial_lr"]
        self._undo(self)          # the schedulers' own initial steps are taken back
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def _undo(self, sched: LRScheduler) -> None:
        if hasattr(sched, "_schedulers"):
            for s in sched._schedulers:
                self._undo(s)
        elif hasattr(sched, "last_epoch"):
            sched.last_epoch -= 1

    def step(self) -> None:  # type: ignore[override]  # PyTorch's: no epoch argument
        """One epoch on, in the scheduler whose span holds it."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        s = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            s._update_lr(0)
        else:
            s.step()
        self._last_lr = s.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        d["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return d

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Its own fields and each scheduler's state, all checked before any is applied."""
        kept = self._check_state_dict(state_dict)
        subs = cast("list[dict[str, Any]]", state_dict.get("_schedulers"))   # checked above
        for s, sd in zip(self._schedulers, subs):
            s._check_state_dict(sd)
        self.__dict__.update(kept)
        for s, sd in zip(self._schedulers, subs):
            s.load_state_dict(sd)

    def _check_state_dict(self, state_dict: Any) -> dict[str, Any]:
        who = f"{type(self).__name__}.load_state_dict"
        own = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        kept = _check_fields(self, state_dict, own, who)
        subs = state_dict.get("_schedulers")
        if not isinstance(subs, list) or len(subs) != len(self._schedulers):
            raise ArgumentError(f"{who}: _schedulers must be a list of {len(self._schedulers)} "
                                f"state dicts, got {subs!r:.100}")
        return kept


class ChainedScheduler(LRScheduler):
    r"""Step several schedulers together: each ``step()`` steps them all, in order, so
    their (chainable) changes multiply.

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> sched = ChainedScheduler([ConstantLR(opt, 0.1, 5), ExponentialLR(opt, 0.9)])
    >>> for _ in range(5): opt.step(); sched.step()
    >>> round(sched.get_last_lr()[0], 6)
    0.059049
    """

    def __init__(self, schedulers: Sequence[LRScheduler],
                 optimizer: Optimizer | None = None) -> None:
        who = "ChainedScheduler"
        if len(schedulers) < 1:
            raise ArgumentError(f"{who}: needs at least one scheduler, got none")
        optimizer = optimizer or schedulers[0].optimizer
        _check_schedulers(schedulers, optimizer, who)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = [g["lr"] for g in self._schedulers[-1].optimizer.param_groups]

    def step(self) -> None:  # type: ignore[override]  # PyTorch's: no epoch argument
        """Step every scheduler once."""
        for s in self._schedulers:
            s.step()
        self._last_lr = [g["lr"] for g in self._schedulers[-1].optimizer.param_groups]

    state_dict = SequentialLR.state_dict
    load_state_dict = SequentialLR.load_state_dict
    # its own fields and the schedulers' states, checked as SequentialLR checks them (the
    # base class's check took the saved list of states for the schedulers themselves, so
    # a round trip through state_dict() broke the scheduler)
    _check_state_dict = SequentialLR._check_state_dict


class ReduceLROnPlateau(LRScheduler):
    r"""Multiply the learning rate by ``factor`` when a monitored value stops improving.

    ``step(metric)`` once per epoch. A value improves on the best so far when it
    is below ``best * (1 - threshold)`` (mode "min", threshold_mode "rel"),
    ``best - threshold`` ("abs"), or above ``best * (1 + threshold)`` /
    ``best + threshold`` in mode "max". After more than ``patience`` epochs
    without improvement, ``lr <- max(lr * factor, min_lr)``, then ``cooldown``
    epochs pass before bad epochs count again.

    Example
    -------
    >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    >>> sched = ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=3)
    >>> for val_loss in [1.0, 0.9, 0.9, 0.9, 0.9, 0.9]: sched.step(val_loss)
    >>> opt.param_groups[0]["lr"]
    0.05
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: _PerGroup = 0, eps: float = 1e-8) -> None:
        who = "ReduceLROnPlateau"
        _check_optimizer(optimizer, who)
        check_choice(mode, "mode", who, ("min", "max"))
        check_choice(threshold_mode, "threshold_mode", who, ("rel", "abs"))
        factor = check_real(factor, "factor", who, 0, 1, high_open=True)
        patience = check_int(patience, "patience", who, min=0)
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ArgumentError(f"ReduceLROnPlateau: expected {n} min_lr values, got "
                                    f"{len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * n
        self.optimizer = optimizer
        self.factor, self.patience = factor, patience
        self.cooldown, self.eps = cooldown, eps
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def is_better(self, a: float, best: float) -> bool:
        """Whether ``a`` improves on ``best`` (mode and threshold)."""
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return a < best * (1.0 - self.threshold)
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (1.0 + self.threshold)
        return a > best + self.threshold

    _is_better = is_better

    @property
    def in_cooldown(self) -> bool:
        """Whether the cooldown after a reduction is still running."""
        return self.cooldown_counter > 0

    def step(self, metrics: SupportsFloat | None = None,  # type: ignore[override]
             epoch: int | None = None) -> None:
        """Record this epoch's monitored value and reduce the learning rate if it plateaued."""
        if metrics is None:
            raise ArgumentTypeError("ReduceLROnPlateau.step: needs the monitored value, e.g. "
                                    "sched.step(val_loss)")
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            groups = self.optimizer.param_groups
            if len(groups) != len(self.min_lrs):
                if self.default_min_lr is None:
                    raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} "
                                       f"parameter groups, min_lr has {len(self.min_lrs)} "
                                       "values; set min_lrs to one per group")
                self.min_lrs = [self.default_min_lr] * len(groups)
            for g, lo in zip(groups, self.min_lrs):
                old = float(g["lr"])
                new = max(old * self.factor, lo)
                if old - new > self.eps:
                    g["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`, each field checked first (see
        :meth:`LRScheduler.load_state_dict`)."""
        self.__dict__.update(self._check_state_dict(state_dict))

    def _check_state_dict(self, state_dict: Any) -> dict[str, Any]:
        return _check_fields(self, state_dict, self.state_dict(),
                                "ReduceLROnPlateau.load_state_dict")
