"""Learning-rate schedules that change ``group["lr"]`` of an optimizer, PyTorch-style.

Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``
(``ReduceLROnPlateau.step(val_loss)`` takes the monitored value). The formulas
are PyTorch's recursive ("chainable") ones, so the learning rates equal
``torch.optim.lr_scheduler``'s step for step.
"""
from __future__ import annotations

import math
from collections import Counter

from ..errors import ArgumentTypeError
from ..validation import check_choice, check_int, check_real, is_int
from .optimizer import Optimizer

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR",
           "CosineAnnealingLR", "ReduceLROnPlateau"]


def _check_optimizer(optimizer, where):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{where}: optimizer must be a glassnet.optim.Optimizer, got "
                        f"{type(optimizer).__name__}")


class LRScheduler:
    """Base class: keeps ``last_epoch``, ``base_lrs`` and writes ``get_lr()`` into the groups.

    Construction performs step 0 (the learning rates stay what they are).
    """

    def __init__(self, optimizer, last_epoch=-1):
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
        self._step_count = 0
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self):
        """Advance one epoch and set the new learning rates."""
        self._step_count += 1
        self.last_epoch += 1
        for g, lr in zip(self.optimizer.param_groups, self.get_lr()):
            g["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rates set by the latest ``step`` (one per group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """JSON-able state (everything except the optimizer and any lambdas)."""
        return {k: v for k, v in self.__dict__.items()
                if k not in ("optimizer", "lr_lambdas") and not callable(v)}

    def load_state_dict(self, state_dict: dict) -> None:
        for k, v in state_dict.items():
            if k == "milestones":
                v = Counter({int(a): b for a, b in dict(v).items()})
            self.__dict__[k] = v


class LambdaLR(LRScheduler):
    r""":math:`\eta_t = \eta_0 \cdot f(t)` for a function ``lr_lambda`` (or one per group).

    Example
    -------
    >>> sched = LambdaLR(opt, lambda epoch: 0.95 ** epoch)  # doctest: +SKIP
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _check_optimizer(optimizer, "LambdaLR")
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: expected {n} lr_lambdas (one per group), got "
                                 f"{len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            if not callable(lr_lambda):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got "
                                f"{type(lr_lambda).__name__}")
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]


class StepLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every ``step_size`` epochs:
    :math:`\eta_t = \eta_0\,\gamma^{\lfloor t / s \rfloor}`.

    Example
    -------
    >>> sched = StepLR(opt, step_size=30, gamma=0.1)  # doctest: +SKIP
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = check_int(step_size, "step_size", "StepLR")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma for g in groups]


class MultiStepLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` at each epoch listed in ``milestones``.

    Example
    -------
    >>> sched = MultiStepLR(opt, milestones=[30, 80], gamma=0.1)  # doctest: +SKIP
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        ms = list(milestones)
        if not all(is_int(m) for m in ms):
            raise ArgumentTypeError(f"MultiStepLR: milestones must be integers, got {ms}")
        self.milestones = Counter(sorted(int(m) for m in ms))
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch not in self.milestones:
            return [g["lr"] for g in groups]
        f = self.gamma ** self.milestones[self.last_epoch]
        return [g["lr"] * f for g in groups]

    def state_dict(self):
        d = super().state_dict()
        d["milestones"] = {int(k): v for k, v in self.milestones.items()}
        return d


class ExponentialLR(LRScheduler):
    r""":math:`\eta_t = \eta_0\,\gamma^t`.

    Example
    -------
    >>> sched = ExponentialLR(opt, gamma=0.95)  # doctest: +SKIP
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma for g in groups]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial learning rate down to ``eta_min`` over ``T_max`` epochs:

    .. math:: \eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})(1 + \cos(\pi t / T_{max}))

    (computed recursively like PyTorch, so it composes with other changes of the lr;
    beyond ``T_max`` it rises again, a cosine of period ``2 T_max``).

    Example
    -------
    >>> sched = CosineAnnealingLR(opt, T_max=50, eta_min=1e-5)  # doctest: +SKIP
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = check_int(T_max, "T_max", "CosineAnnealingLR")
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        t, T, lo = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial and t == 0:
            return [g["lr"] for g in groups]
        if self._step_count == 1 and t > 0:
            return [lo + (b - lo) * (1 + math.cos(t * math.pi / T)) / 2 for b in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [g["lr"] + (b - lo) * (1 - math.cos(math.pi / T)) / 2
                    for b, g in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (g["lr"] - lo) + lo for g in groups]


class ReduceLROnPlateau:
    r"""Multiply the learning rate by ``factor`` when a monitored value stops improving.

    ``step(metric)`` once per epoch. A value improves on the best so far when it
    is below ``best * (1 - threshold)`` (mode "min", threshold_mode "rel"),
    ``best - threshold`` ("abs"), or above ``best * (1 + threshold)`` /
    ``best + threshold`` in mode "max". After more than ``patience`` epochs
    without improvement, ``lr <- max(lr * factor, min_lr)``, then ``cooldown``
    epochs pass before bad epochs count again.

    Example
    -------
    >>> sched = ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=3)  # doctest: +SKIP
    >>> for epoch in range(50): ...; sched.step(val_loss)  # doctest: +SKIP
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        _check_optimizer(optimizer, "ReduceLROnPlateau")
        who = "ReduceLROnPlateau"
        check_choice(mode, "mode", who, ("min", "max"))
        check_choice(threshold_mode, "threshold_mode", who, ("rel", "abs"))
        factor = check_real(factor, "factor", who, 0, 1, high_open=True)
        patience = check_int(patience, "patience", who, min=0)
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"ReduceLROnPlateau: expected {n} min_lr values, got "
                                 f"{len(min_lr)}")
            self.min_lrs = [float(x) for x in min_lr]
        else:
            self.min_lrs = [float(min_lr)] * n
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = float(threshold), threshold_mode
        self.cooldown, self.eps = int(cooldown), float(eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def is_better(self, a, best) -> bool:
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return a < best * (1.0 - self.threshold)
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (1.0 + self.threshold)
        return a > best + self.threshold

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def step(self, metrics=None):
        """Record this epoch's monitored value and reduce the learning rate if it plateaued."""
        if metrics is None:
            raise TypeError("ReduceLROnPlateau.step: needs the monitored value, e.g. "
                            "sched.step(val_loss)")
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for g, lo in zip(self.optimizer.param_groups, self.min_lrs):
                old = g["lr"]
                new = max(old * self.factor, lo)
                if old - new > self.eps:
                    g["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self):
        return list(self._last_lr)

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)
