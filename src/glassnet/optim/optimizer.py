"""``Optimizer``: the base of every update rule.

An optimizer holds ``param_groups`` (a list of dicts, each with ``"params"`` and
its hyper-parameters) and per-parameter ``state`` (moment estimates, step
counts). ``step()`` reads each parameter's ``.grad`` and updates ``p._data`` in
place: the array object never changes, so layers, views and other code that
hold a reference to it keep seeing the current values.

Each rule (sgd.py, rmsprop.py, adagrad.py, adam.py) writes its update once, for one
parameter, as its formula (``_update``). The same rule also exists as a kernel of the flat
engine (``_flat.py``), which steps all parameters of a group at once through contiguous
state buffers on glassnet's threads; :meth:`Optimizer.step` picks one of the two, per
group, in one place (``foreach``: ``None`` or ``True`` take the engine, ``False`` the
readable loop). Both give the same numbers up to rounding; tests/optim compares them.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, Union, cast

import numpy as np

from ..autograd import enable_grad
from ..autograd.tensor import Tensor
from ..errors import ArgumentError, ArgumentTypeError
from ..validation import is_int
from . import _flat
from ._checks import Bound, bounds_hold, check_bounds, compile_bounds

if TYPE_CHECKING:  # annotations only
    from typing import TypeAlias

# PyTorch's ParamsT: tensors, (name, tensor) pairs, or parameter-group dicts (one iterable
# of the union, so that a list of group dicts with values of mixed types type-checks)
ParamsT: TypeAlias = Iterable[Union[Tensor, dict[str, Any], tuple[str, Tensor]]]
_T = TypeVar("_T")

__all__ = ["Optimizer"]


def _as_param_list(params: Any, where: str) -> list[Any]:
    if isinstance(params, Tensor):
        raise ArgumentTypeError(f"{where}: params must be an iterable of Tensors (e.g. "
                                f"model.parameters()), got a single Tensor; wrap it in a list")
    if isinstance(params, dict):
        raise ArgumentTypeError(f"{where}: params must be an iterable of Tensors or of dicts, "
                                "got a dict")
    try:
        return list(params)
    except TypeError:
        raise ArgumentTypeError(f"{where}: params must be an iterable of Tensors, got "
                                f"{type(params).__name__}") from None


def _kernel_of(cls: type) -> Callable[..., Any] | None:
    """The flat engine's kernel for ``cls``: the ``_flat_kernel`` defined in the class that
    defines the ``_update`` in use, else ``None`` (so that a subclass with its own
    ``_update`` never inherits a kernel that computes a different rule)."""
    for klass in cls.__mro__:
        if "_update" in vars(klass):
            return vars(klass).get("_flat_kernel")
    return None


def _state_value(v: Any) -> Any:
    """A saved state value as glassnet keeps it: an array of a parameter's shape as an
    ndarray, a scalar (0-d tensor, e.g. torch's ``step``) as a Python number, a list of
    arrays (LBFGS's history) as a list; accepts ndarrays, lists, glassnet and torch tensors."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, (int, float)) for x in v):
            return np.asarray(v)
        return [_state_value(x) for x in v]
    if hasattr(v, "detach") and hasattr(v, "numpy"):     # a torch tensor
        v = v.detach().cpu().numpy()
    elif isinstance(v, Tensor):
        v = v._data
    if isinstance(v, (np.ndarray, np.generic)):
        a = np.asarray(v)
        if a.ndim == 0:
            return a.item()
        return a
    return v


def _step_count(v: Any, label: str) -> int:
    """A saved step count as an int: an integer >= 0 (torch saves it as a float tensor,
    so an integral float such as 3.0 is accepted)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
            or not (0 <= v < 2 ** 62) or v != int(v):
        raise ArgumentError(f"{label} must be an integer >= 0, got {v!r}")
    return int(v)


_ABSENT = object()


def _check_group_value(v: Any, ref: Any, label: str) -> None:
    """A saved group value must be of the kind of the group's own (``ref``): a bool for a
    flag, a number for a number, a string, a pair of numbers for ``betas``; a key the group
    lacks may hold a JSON scalar only (PyTorch's extra flags)."""
    def number(x: Any) -> bool:
        return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
    if ref is _ABSENT or ref is None:
        ok = v is None or isinstance(v, (bool, str)) or number(v) or (
            isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v))
        what = "a plain value (None, a bool, a number or a string)"
    elif isinstance(ref, bool):
        ok, what = isinstance(v, bool), "True or False"
    elif number(ref):
        ok, what = number(v), "a number"
    elif isinstance(ref, str):
        ok, what = isinstance(v, str), "a string"
    elif isinstance(ref, tuple):
        ok = isinstance(v, tuple) and len(v) == len(ref) and all(number(x) for x in v)
        what = f"{len(ref)} numbers"
    elif isinstance(ref, list):
        ok = isinstance(v, (list, tuple)) and len(v) == len(ref) and all(
            isinstance(x, str) for x in v)
        what = f"a list of {len(ref)} names"
    else:
        ok, what = True, ""
    if not ok:
        raise ArgumentError(f"{label} must be {what}, got {v!r:.60}")


def _jsonable(v: Any) -> Any:
    """Group values as JSON-friendly types (tuples become lists, NumPy scalars Python ones)."""
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``step``/``zero_grad``, state dicts.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dict
        The tensors to optimise (``model.parameters()``, or ``model.named_parameters()``:
        the group then keeps ``"param_names"``, as in PyTorch), or groups
        ``{"params": [...], "lr": ...}`` whose keys override ``defaults``.
    defaults : dict
        Hyper-parameters every group gets unless it sets them. ``foreach`` (default
        ``None``, as in PyTorch) picks the implementation: ``None`` or ``True`` the flat
        engine, where the rule has a kernel; ``False`` the readable per-parameter rule.

    Notes
    -----
    A rule subclasses this and defines

    * ``_bounds``: a tuple of :class:`~glassnet.optim._checks.Bound`, the ranges of its own
      numeric hyper-parameters (``lr``, ``weight_decay`` and the schedulers' ``initial_lr``,
      ``max_lr``, ``min_lr`` are the base class's); they are checked when a group is added,
      when a state dict is loaded and, cheaply, at every ``step()``;
    * ``_state_names(group)``: the names of its per-parameter state arrays, and
      ``_state_fill(group)``: their initial values (default 0);
    * ``_update(p, g, state, group)``: one parameter's step, in place. ``p`` is the
      parameter's array, ``g`` its gradient (read only), ``state`` its dict of arrays, with
      ``state["step"]`` already counting this step;
    * optionally ``_flat_kernel``, in the same class as the ``_update`` it mirrors: the
      flat engine's version of the rule (see ``_flat.py``). A subclass that overrides
      ``_update`` without giving a kernel of its own runs its ``_update``.

    Example
    -------
    >>> class SignSGD(Optimizer):
    ...     def __init__(self, params, lr=0.01):
    ...         super().__init__(params, dict(lr=lr))
    ...     def _update(self, p, g, state, group):
    ...         p -= group["lr"] * np.sign(g)
    """

    _bounds: tuple[Bound, ...] = ()
    # lr and weight_decay: finite and >= 0 (PyTorch refuses negative values; NaN and inf
    # are refused here too, see docs/porting.md); the keys schedulers add likewise.
    _base_bounds = (Bound("lr", required=True), Bound("weight_decay"), Bound("initial_lr"),
                    Bound("max_lr"), Bound("min_lr"))

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        where = type(self).__name__
        self._hyper = self._base_bounds + tuple(type(self)._bounds)
        self._hyper_fast = compile_bounds(self._hyper)
        self.defaults = dict(defaults)
        self.defaults.setdefault("foreach", None)
        # as in PyTorch: state[p] is {} before p's first step
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._engine = _flat.FlatEngine()
        self._kernel = _kernel_of(type(self))
        groups = _as_param_list(params, where)
        if not groups:
            raise ArgumentError(f"{where}: got an empty parameter list")
        if not isinstance(groups[0], dict):      # tensors, or (name, tensor) pairs
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # ---------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group ``{"params": [...], **hyper_parameters}`` (e.g. when unfreezing layers)."""
        where = f"{type(self).__name__}.add_param_group"
        if not isinstance(param_group, dict):
            raise ArgumentTypeError(f"{where}: param_group must be a dict, got "
                                    f"{type(param_group).__name__}")
        group = dict(param_group)
        ps = group.get("params")
        if ps is None:
            raise KeyError(f"{where}: param_group needs a 'params' entry")
        ps = [ps] if isinstance(ps, Tensor) else _as_param_list(ps, where)
        if ps and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
                      for p in ps):
            group["param_names"] = [n for n, _ in ps]    # from model.named_parameters()
            ps = [p for _, p in ps]
        for i, p in enumerate(ps):
            if not isinstance(p, Tensor):
                raise ArgumentTypeError(f"{where}: params[{i}] must be a Tensor/Parameter, got "
                                        f"{type(p).__name__}")
            if p._data.dtype.kind != "f":
                raise ArgumentTypeError(f"{where}: params[{i}] has dtype {p._data.dtype}; only "
                                        f"floating tensors can be optimised")
            if not p.is_leaf:
                raise ArgumentError(f"{where}: params[{i}] is not a leaf tensor (it was computed "
                                    f"by an operation); optimise the leaves instead")
        if len({id(p) for p in ps}) != len(ps):
            raise ArgumentError(f"{where}: a parameter appears twice in the same group")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in ps):
            raise ArgumentError(f"{where}: some parameters already belong to another group")
        group["params"] = ps
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any], where: str = "",
                     who: str | None = None) -> None:
        """Raise :class:`ArgumentError` for a hyper-parameter of ``group`` out of range
        (``where``, e.g. ``"param_groups[1]"``, names the group in the message; ``who`` the
        caller, default the optimizer's class)."""
        name = who or type(self).__name__
        check_bounds(group, self._hyper, name, where)
        if group.get("foreach") not in (None, True, False):
            raise ArgumentError(f"{name}: foreach must be None, True or False, got "
                                f"{group['foreach']!r}")
        if group.get("differentiable", False):
            raise ArgumentError(f"{name}: differentiable=True (autograd through the update) is "
                                f"not supported by glassnet; the update runs outside autograd")
        if group.get("maximize", False) not in (True, False):
            raise ArgumentError(f"{name}: maximize must be True or False, got "
                                f"{group['maximize']!r}")

    # ----------------------------------------------------------------- grads
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set ``p.grad = None`` (default) or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad._data[...] = 0

    # ------------------------------------------------------------- the rule
    def _state_names(self, group: dict[str, Any]) -> Sequence[str]:
        return ()

    def _state_fill(self, group: dict[str, Any]) -> dict[str, float]:
        return {name: 0.0 for name in self._state_names(group)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    # ------------------------------------------------------------------ step
    def step(self, closure: Callable[[], _T] | None = None) -> _T | None:
        """Update every parameter that has a gradient; returns ``closure()`` when given.

        ``closure`` re-evaluates the model and returns the loss (it runs with
        gradients enabled).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for gi, group in enumerate(self.param_groups):   # all groups before any update
            self._check_step_group(gi, group)
        for gi, group in enumerate(self.param_groups):
            active = self._with_grads(group)
            if not active:
                continue
            # The one place where the flat engine or the readable rule is chosen.
            if self._kernel is not None and group["foreach"] is not False:
                self._engine.step(gi, group, active, self._kernel, self.state,
                                  self._state_names(group), self._state_fill(group))
            else:
                for p in active:
                    st = self._state_of(p, group)
                    st["step"] += 1
                    self._update(p._data, cast(Tensor, p.grad)._data, st, group)
        return loss

    def _check_step_group(self, gi: int, group: dict[str, Any]) -> None:
        """A few comparisons per group (never per element): a hyper-parameter edited into
        ``param_groups`` since the last step (``group["lr"] = float("nan")``) is an
        :class:`ArgumentError` before anything is updated."""
        if not bounds_hold(group, self._hyper_fast):
            check_bounds(group, self._hyper, f"{type(self).__name__}.step",
                         f"param_groups[{gi}]")

    def _with_grads(self, group: dict[str, Any]) -> list[Tensor]:
        """The group's parameters that take part in this step (a gradient, requires_grad)."""
        active = []
        for p in group["params"]:
            if p.grad is None or not p.requires_grad:
                continue
            if p.grad._data.shape != p._data.shape:
                raise ArgumentError(f"{type(self).__name__}.step: a parameter of shape "
                                    f"{p._data.shape} has a gradient of shape {p.grad._data.shape}")
            active.append(p)
        return active

    def _state_of(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """``self.state[p]`` for the readable rule: ``step`` and the rule's arrays, created
        at their initial values on the first step, in the parameter's shape and dtype."""
        st = self.state.setdefault(p, {})
        st.setdefault("step", 0)
        shape, dtype = p._data.shape, p._data.dtype
        fills = None
        for name in self._state_names(group):
            a = st.get(name)
            if a is not None and a.shape == shape and a.dtype == dtype:
                continue
            if a is not None and a.shape == shape:     # e.g. after model.float()
                st[name] = a.astype(dtype)
                continue
            fills = fills or self._state_fill(group)
            st[name] = np.full(shape, fills[name], dtype)
        return st

    # ----------------------------------------------------------------- state
    def _index(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as NumPy arrays and JSON-able values (no pickle needed).

        ``{"state": {index: {"step": int, name: ndarray, ...}}, "param_groups": [{..., "params":
        [indices]}]}``; indices count parameters across groups in order, like PyTorch.
        """
        params = self._index()
        state: dict[int, dict[str, Any]] = {}
        for i, p in enumerate(params):
            st = self.state.get(p)
            if not st:
                continue
            state[i] = {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else _jsonable(v))
                        for k, v in st.items()}
        groups = []
        start = 0
        for g in self.param_groups:
            d = {k: _jsonable(v) for k, v in g.items() if k != "params"}
            d["params"] = list(range(start, start + len(g["params"])))
            start += len(g["params"])
            groups.append(d)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and state saved by :meth:`state_dict` (arrays are copied).

        Everything is checked before anything is applied, so a refused state dict leaves
        the optimizer as it was: the number of groups and of parameters per group, each
        group's hyper-parameters (the ranges the constructor enforces), each state entry's
        parameter index, ``step`` (an integer >= 0) and arrays (the parameter's shape,
        finite numbers). A failure is an :class:`~glassnet.errors.ArgumentError` naming the
        entry, e.g. ``param_groups[0]['lr']`` or ``state[3]['exp_avg']``.
        """
        updates, new_state = self._check_state_dict(state_dict)
        for new, own in zip(updates, self.param_groups):
            own.update(new)
        self.state = new_state
        self._engine.reset()

    def _check_state_dict(self, state_dict: Any) -> tuple[list[dict[str, Any]],
                                                          defaultdict[Tensor, dict[str, Any]]]:
        """``(group updates, new state)`` that :meth:`load_state_dict` applies, every field
        checked; changes nothing."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise ArgumentTypeError(f"{where}: expected a dict with 'state' and "
                                    f"'param_groups', got {type(state_dict).__name__}")
        groups, saved_state = state_dict.get("param_groups"), state_dict.get("state")
        if not isinstance(groups, list) or not isinstance(saved_state, dict):
            raise ArgumentError(f"{where}: expected keys 'state' (a dict) and 'param_groups' "
                                f"(a list), got {sorted(map(str, state_dict))}")
        if len(groups) != len(self.param_groups):
            raise ArgumentError(f"{where}: the state dict has {len(groups)} parameter groups, "
                                f"this optimizer has {len(self.param_groups)}")
        updates = []
        for i, (saved, own) in enumerate(zip(groups, self.param_groups)):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), list):
                raise ArgumentError(f"{where}: param_groups[{i}] must be a dict with a "
                                    f"'params' list, got {saved!r:.100}")
            if len(saved["params"]) != len(own["params"]):
                raise ArgumentError(f"{where}: group {i} has {len(saved['params'])} parameters "
                                    f"in the state dict but {len(own['params'])} here")
            if not all(is_int(k) for k in saved["params"]):
                raise ArgumentError(f"{where}: param_groups[{i}]['params'] must be parameter "
                                    f"indices (integers), got {saved['params']!r:.100}")
            new = {k: tuple(v) if isinstance(v, list) and isinstance(own.get(k), tuple) else v
                   for k, v in saved.items() if k != "params"}
            for k, v in new.items():
                _check_group_value(v, own.get(k, _ABSENT), f"{where}: param_groups[{i}][{k!r}]")
            self._check_group(dict(own, **new), f"param_groups[{i}]", where)
            updates.append(new)
        params = self._index()
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, st in saved_state.items():
            try:
                idx = int(key)
            except (TypeError, ValueError):
                idx = None
            if idx is None or str(idx) != str(key).strip() or not 0 <= idx < len(params):
                raise ArgumentError(f"{where}: state for parameter index {key!r}, but the "
                                    f"indices are 0 to {len(params) - 1}")
            if not isinstance(st, dict):
                raise ArgumentError(f"{where}: state[{idx}] must be a dict, got "
                                    f"{type(st).__name__}")
            p = params[idx]
            new_state[p] = self._restore_state(idx, p, st, where)
            group = next(g for g in self.param_groups if any(q is p for q in g["params"]))
            for name in self._state_names(group):
                v = new_state[p].get(name)
                if v is not None and not isinstance(v, np.ndarray):
                    raise ArgumentError(f"{where}: state[{idx}][{name!r}] must be an array of "
                                        f"the parameter's shape, got {type(v).__name__}")
        return updates, new_state

    def _restore_state(self, idx: int, p: Tensor, st: dict[str, Any],
                       where: str) -> dict[str, Any]:
        """One parameter's saved state as this optimizer keeps it: arrays of the
        parameter's shape and dtype (copied, finite), numbers, ``step`` an integer >= 0;
        ``None`` entries (torch's SGD without momentum) are dropped."""
        d: dict[str, Any] = {}
        for k, v in st.items():
            v = _state_value(v)
            if isinstance(v, np.ndarray):
                if v.dtype.kind not in "biuf":
                    raise ArgumentError(f"{where}: state[{idx}][{k!r}] has dtype {v.dtype}; "
                                        "expected numbers")
                arr = np.array(v, dtype=p._data.dtype, copy=True)
                if arr.shape != p._data.shape:
                    raise ArgumentError(f"{where}: state {k!r} of parameter {idx} has shape "
                                        f"{arr.shape}, the parameter has {p._data.shape}")
                if not np.all(np.isfinite(arr)):
                    raise ArgumentError(f"{where}: state[{idx}][{k!r}] holds NaN or infinite "
                                        "values")
                d[k] = arr
            elif v is not None:
                if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
                    raise ArgumentError(f"{where}: state[{idx}][{k!r}] must be an array or a "
                                        f"number, got {v!r:.60}")
                d[k] = v
        d["step"] = _step_count(d.get("step", 0), f"{where}: state[{idx}]['step']")
        return d

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)
