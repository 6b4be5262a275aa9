"""``Optimizer``: the base of every update rule, with flat-buffer stepping.

An optimizer holds ``param_groups`` (a list of dicts, each with ``"params"`` and
its hyper-parameters) and per-parameter ``state`` (moment estimates, step
counts). ``step()`` reads each parameter's ``.grad`` and updates ``p.data`` in
place: the array object never changes, so layers, views and other code that
hold a reference to it keep seeing the current values.

Speed. A naive optimizer runs about ten small NumPy operations per parameter,
each allocating a temporary. Here, the state arrays of all parameters of one
group and dtype live in one contiguous buffer per state name (``self.state[p]``
holds views into it), and a step

1. cuts that flat range into one chunk per thread (``backend.get_num_threads()``,
   64-byte aligned, balanced on elements plus a fixed cost per call of the rule);
   each chunk is a list of segments: a slice of one large parameter, worked on
   through views of its own ``data`` and ``grad``, or the run of all small
   parameters (laid out after the large ones), gathered into a flat buffer,
2. runs the update rule (``_kernel``) a few times over each segment with ``out=``,
   producing the amount to subtract,
3. subtracts it in place (``p -= alpha * d``, two passes through scratch space).

The chunks run on glassnet's thread pool (NumPy releases the GIL in its loops);
the rule is elementwise, so the result is the same for any number of threads.
The same rule also runs per parameter, on the views of the state buffers,
whenever the flat path does not apply (some gradients are missing, parameters
are at different step counts, or ``foreach=False``); parameters whose arrays are
not C-contiguous take a gathered flat path.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd import enable_grad
from ..autograd.tensor import Tensor
from ._ops import axpy

__all__ = ["Optimizer"]


def _as_param_list(params, where):
    if isinstance(params, Tensor):
        raise TypeError(f"{where}: params must be an iterable of Tensors (e.g. "
                        f"model.parameters()), got a single Tensor; wrap it in a list")
    if isinstance(params, dict):
        raise TypeError(f"{where}: params must be an iterable of Tensors or of dicts, got a dict")
    try:
        return list(params)
    except TypeError:
        raise TypeError(f"{where}: params must be an iterable of Tensors, got "
                        f"{type(params).__name__}") from None


def _jsonable(v):
    """Group values as JSON-friendly types (tuples become lists, NumPy scalars Python ones)."""
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


class _FlatLayout:
    """The contiguous buffers of one (param group, dtype): state, gradients, workspace.

    Parameters of at least ``GATHER_BELOW`` elements come first, in their order, then all
    the smaller ones (biases, norms' scales) as one run, so that one call of the rule
    serves all the small ones (each call is a dozen NumPy operations, whatever its size).
    ``start[i]:end[i]`` is parameter i's place in every flat buffer.
    """

    # A parameter at least this large runs the rule on views of its own arrays; the
    # smaller ones are gathered into the layout's flat buffers (one rule call for them all:
    # gathering costs a copy in and a pass out, a call of its own a dozen NumPy calls).
    GATHER_BELOW = 1 << 16
    # The smallest piece a chunk boundary cuts off a large parameter.
    SEGMENT_MIN = 1 << 13
    # What one more rule call costs, in elements of work: about fifteen NumPy calls of some
    # microseconds each (more between GEMMs, with cold caches) against a few nanoseconds an
    # element for the dozen passes of Adam. Chunks are balanced on elements + this per call.
    SEGMENT_COST = 1 << 15

    def __init__(self, params, dtype, names, fills):
        self.params = list(params)
        self.ids = tuple(id(p) for p in self.params)
        self.shapes = tuple(p.data.shape for p in self.params)
        self.names = tuple(names)
        sizes = [int(np.prod(s)) for s in self.shapes]
        big = [i for i, n in enumerate(sizes) if n >= self.GATHER_BELOW]
        small = [i for i, n in enumerate(sizes) if n < self.GATHER_BELOW]
        self.order = big + small
        self.n_big = len(big)
        self.start, self.end = [0] * len(sizes), [0] * len(sizes)
        pos = 0
        for i in self.order:
            self.start[i], self.end[i] = pos, pos + sizes[i]
            pos += sizes[i]
        self.size = n = pos
        self.dtype = dtype
        self.buffers = {name: np.full(n, fills[name], dtype=dtype) for name in names}
        self.views = {name: self._split(buf) for name, buf in self.buffers.items()}
        self.grad = np.empty(n, dtype)
        self.w1 = np.empty(n, dtype)
        self.w2 = np.empty(n, dtype)
        self._split_cache = {}
        self._plans = {}
        self.param = None  # gathered parameter values, allocated when a rule needs them

    def plan(self, threads):
        """The flat range cut into at most ``threads`` chunks of near-equal cost (elements
        plus ``SEGMENT_COST`` per rule call; cuts 64-byte aligned, inside large parameters
        only), each a list of segments ``(a, b, pieces)`` with ``pieces`` =
        [(param index, lo, hi)] covering flat positions [a, b); cached per thread count."""
        cached = self._plans.get(threads)
        if cached is not None:
            return cached
        segs = [(self.start[i], self.end[i], [(i, 0, self.end[i] - self.start[i])])
                for i in self.order[:self.n_big]]
        smalls = self.order[self.n_big:]
        if smalls:
            segs.append((self.start[smalls[0]], self.size,
                         [(i, 0, self.end[i] - self.start[i]) for i in smalls]))
        cost = self.SEGMENT_COST
        k = max(1, min(threads, self.size // self.SEGMENT_MIN))
        # every cut inside a parameter adds one rule call: k - 1 of them
        target = (self.size + cost * (len(segs) + k - 1)) / k
        chunks, cur, used = [], [], 0.0
        for seg in segs:
            while True:
                a, b, pieces = seg
                if len(chunks) == k - 1:            # the last chunk takes the rest
                    cur.append(seg)
                    break
                room = target - used - cost
                if b - a <= room or len(pieces) > 1 or not cur and room < self.SEGMENT_MIN:
                    cur.append(seg)
                    used += b - a + cost
                    if used >= target - cost / 2:
                        chunks.append(cur)
                        cur, used = [], 0.0
                    break
                cut = a + int(room) // 16 * 16
                if b - cut < self.SEGMENT_MIN:       # no sliver of a call: take it whole
                    cur.append(seg)
                    chunks.append(cur)
                    cur, used = [], 0.0
                    break
                if room >= self.SEGMENT_MIN:         # fill this chunk with the head
                    i, lo = pieces[0][0], a - self.start[pieces[0][0]]
                    cur.append((a, cut, [(i, lo, lo + cut - a)]))
                    seg = (cut, b, [(i, lo + cut - a, pieces[0][2])])
                chunks.append(cur)
                cur, used = [], 0.0
        if cur:
            chunks.append(cur)
        self._plans[threads] = chunks
        return chunks

    def views_of(self, flat):
        """Per-parameter views of one of this layout's flat arrays (cached)."""
        v = self._split_cache.get(id(flat))
        if v is None or v[0] is not flat:
            v = (flat, self._split(flat))
            self._split_cache[id(flat)] = v
        return v[1]

    def _split(self, flat):
        return [flat[a:b].reshape(s) for a, b, s in zip(self.start, self.end, self.shapes)]

    def matches(self, params, names, state):
        if tuple(id(p) for p in params) != self.ids or tuple(names) != self.names:
            return False
        for i, p in enumerate(params):
            if p.data.shape != self.shapes[i] or p.data.dtype != self.dtype:
                return False
            st = state.get(p)
            if st is None:
                return False
            for name in names:
                if st.get(name) is not self.views[name][i]:
                    return False
        return True


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``step``/``zero_grad``, state dicts.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The tensors to optimise (``model.parameters()``), or groups
        ``{"params": [...], "lr": ...}`` whose keys override ``defaults``.
    defaults : dict
        Hyper-parameters every group gets unless it sets them.

    Subclasses define ``_state_names(group)`` (names of state arrays),
    ``_state_fill(group)`` (their initial values), ``_needs_param(group)`` and
    ``_kernel(group, param, grad, state, step, w1, w2) -> (scale, alpha, d)``:
    the update is ``p <- scale * p - alpha * d`` where ``d`` is one of the arrays
    the kernel was given (``grad``, ``w1``, ``w2`` or a state array). ``_kernel``
    must not modify ``param`` or ``grad``; ``w1`` and ``w2`` are scratch space. It
    must be elementwise (no sums or norms over the vector): the flat step runs it
    on slices of the parameters, on several threads at once.
    """

    def __init__(self, params, defaults):
        where = type(self).__name__
        self.defaults = dict(defaults)
        self.defaults.setdefault("foreach", True)
        self.state = {}
        self.param_groups = []
        self._layouts = {}
        params = _as_param_list(params, where)
        if not params:
            raise ValueError(f"{where}: got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for g in params:
            self.add_param_group(g)

    # ---------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group ``{"params": [...], **hyper_parameters}`` (e.g. when unfreezing layers)."""
        where = f"{type(self).__name__}.add_param_group"
        if not isinstance(param_group, dict):
            raise TypeError(f"{where}: param_group must be a dict, got "
                            f"{type(param_group).__name__}")
        group = dict(param_group)
        ps = group.get("params")
        if ps is None:
            raise KeyError(f"{where}: param_group needs a 'params' entry")
        ps = [ps] if isinstance(ps, Tensor) else _as_param_list(ps, where)
        for i, p in enumerate(ps):
            if not isinstance(p, Tensor):
                raise TypeError(f"{where}: params[{i}] must be a Tensor/Parameter, got "
                                f"{type(p).__name__}")
            if p.data.dtype.kind != "f":
                raise TypeError(f"{where}: params[{i}] has dtype {p.data.dtype}; only floating "
                                f"tensors can be optimised")
            if not p.is_leaf:
                raise ValueError(f"{where}: params[{i}] is not a leaf tensor (it was computed "
                                 f"by an operation); optimise the leaves instead")
        if len({id(p) for p in ps}) != len(ps):
            raise ValueError(f"{where}: a parameter appears twice in the same group")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in ps):
            raise ValueError(f"{where}: some parameters already belong to another group")
        group["params"] = ps
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group):
        lr = group.get("lr")
        if not isinstance(lr, numbers.Real) or lr < 0:
            raise ValueError(f"{type(self).__name__}: lr must be a non-negative number, got {lr!r}")
        wd = group.get("weight_decay", 0.0)
        if not isinstance(wd, numbers.Real) or wd < 0:
            raise ValueError(f"{type(self).__name__}: weight_decay must be >= 0, got {wd!r}")

    # ----------------------------------------------------------------- grads
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set ``p.grad = None`` (default) or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.data[...] = 0

    # ------------------------------------------------------------- the rule
    def _state_names(self, group):
        return ()

    def _state_fill(self, group):
        return {name: 0.0 for name in self._state_names(group)}

    def _needs_param(self, group):
        return group.get("weight_decay", 0.0) != 0

    def _kernel(self, group, param, grad, state, step, w1, w2):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _kernel")

    # ------------------------------------------------------------------ step
    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` when given.

        ``closure`` re-evaluates the model and returns the loss (it runs with
        gradients enabled).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for gi, group in enumerate(self.param_groups):
            buckets = {}
            for p in group["params"]:
                buckets.setdefault(p.data.dtype, []).append(p)
            for dtype, ps in buckets.items():
                self._step_bucket(gi, group, dtype, ps)
        return loss

    def _layout(self, gi, group, dtype, ps, names):
        key = (gi, dtype)
        lay = self._layouts.get(key)
        if lay is not None and lay.matches(ps, names, self.state):
            return lay
        # (Re)build: parameters were added, replaced or re-shaped, or the state was loaded.
        # Existing state values are carried over into the new contiguous buffers.
        lay = _FlatLayout(ps, dtype, names, self._state_fill(group))
        for i, p in enumerate(ps):
            st = self.state.setdefault(p, {})
            st.setdefault("step", 0)
            for name in names:
                old = st.get(name)
                view = lay.views[name][i]
                if old is not None and np.shape(old) == view.shape:
                    view[...] = old
                st[name] = view
        self._layouts[key] = lay
        return lay

    def _step_bucket(self, gi, group, dtype, ps):
        names = tuple(self._state_names(group))
        active = []
        for p in ps:
            if p.grad is None or not p.requires_grad:
                continue
            if p.grad.data.shape != p.data.shape:
                raise ValueError(f"{type(self).__name__}.step: a parameter of shape "
                                 f"{p.data.shape} has a gradient of shape {p.grad.data.shape}")
            active.append(p)
        if not active:
            return
        lay = self._layout(gi, group, dtype, ps, names)
        state = self.state
        steps = {state[p]["step"] for p in active}
        if group.get("foreach", True) and len(active) == len(ps) and len(steps) == 1:
            self._step_flat(group, lay, ps, steps.pop() + 1)
        else:
            for p in active:
                self._step_single(group, p, names)

    def _step_flat(self, group, lay, ps, step):
        datas = [p.data for p in ps]
        if not all(d.flags.c_contiguous for d in datas):
            return self._step_gathered(group, lay, ps, step)
        pflat = [d.reshape(-1) for d in datas]
        gflat = [p.grad.data.reshape(-1) for p in ps]   # a copy only for a strided gradient
        needs_param = self._needs_param(group)
        if needs_param and lay.param is None:
            lay.param = np.empty_like(lay.grad)
        plan = lay.plan(backend.get_num_threads())

        def run(lo, hi):
            for chunk in plan[lo:hi]:
                for a, b, pieces in chunk:
                    self._run_segment(group, lay, step, a, b, pieces, pflat, gflat, needs_param)
        backend.parallel_chunks(len(plan), run, lay.size)
        for p in ps:
            self.state[p]["step"] = step

    def _run_segment(self, group, lay, step, a, b, pieces, pflat, gflat, needs_param):
        """The rule on flat positions [a, b): one parameter's slice as views, or a run of
        small parameters gathered into the layout's buffers and written back piece by piece."""
        state = {name: buf[a:b] for name, buf in lay.buffers.items()}
        w1, w2 = lay.w1[a:b], lay.w2[a:b]
        if len(pieces) == 1:
            i, lo, hi = pieces[0]
            data = pflat[i][lo:hi]
            scale, alpha, d = self._kernel(group, data if needs_param else None, gflat[i][lo:hi],
                                           state, step, w1, w2)
            if scale != 1.0:
                data *= scale
            axpy(-alpha, d, data, w1 if d is not w1 else w2)
            return
        grad = lay.grad[a:b]
        np.concatenate([gflat[i][lo:hi] for i, lo, hi in pieces], out=grad)
        param = None
        if needs_param:
            param = lay.param[a:b]
            np.concatenate([pflat[i][lo:hi] for i, lo, hi in pieces], out=param)
        scale, alpha, d = self._kernel(group, param, grad, state, step, w1, w2)
        if d is not w1 and d is not w2:     # the rule's step lives in a state buffer
            d = np.multiply(d, -alpha, out=w1)
        else:
            d *= -alpha
        k = 0
        for i, lo, hi in pieces:           # one pass per parameter: p += (-alpha d)
            data = pflat[i][lo:hi]
            if scale != 1.0:
                data *= scale
            data += d[k:k + hi - lo]
            k += hi - lo

    def _step_gathered(self, group, lay, ps, step):
        """The flat step for parameters whose arrays are not contiguous: gather, one rule
        over the whole flat vectors, and subtract through per-parameter views."""
        order = lay.order
        np.concatenate([ps[i].grad.data.reshape(-1) for i in order], out=lay.grad)
        param = None
        if self._needs_param(group):
            if lay.param is None:
                lay.param = np.empty_like(lay.grad)
            np.concatenate([ps[i].data.reshape(-1) for i in order], out=lay.param)
            param = lay.param
        scale, alpha, d = self._kernel(group, param, lay.grad, lay.buffers, step, lay.w1, lay.w2)
        tmp = lay.w1 if d is not lay.w1 else lay.w2
        for p, dv, tv in zip(ps, lay.views_of(d), lay.views_of(tmp)):
            data = p.data
            if scale != 1.0:
                data *= scale
            axpy(-alpha, dv, data, tv)
            self.state[p]["step"] = step

    def _step_single(self, group, p, names):
        st = self.state[p]
        step = st["step"] + 1
        g = p.grad.data
        w1 = np.empty_like(p.data)
        w2 = np.empty_like(p.data)
        scale, alpha, d = self._kernel(group, p.data, g, {n: st[n] for n in names}, step, w1, w2)
        if scale != 1.0:
            p.data *= scale
        axpy(-alpha, d, p.data, w1 if d is not w1 else w2)
        st["step"] = step

    # ----------------------------------------------------------------- state
    def _index(self):
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self) -> dict:
        """The optimizer's state as NumPy arrays and JSON-able values (no pickle needed).

        ``{"state": {index: {"step": int, name: ndarray, ...}}, "param_groups": [{..., "params":
        [indices]}]}``; indices count parameters across groups in order, like PyTorch.
        """
        params = self._index()
        state = {}
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

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state saved by :meth:`state_dict` (arrays are copied)."""
        where = f"{type(self).__name__}.load_state_dict"
        groups = state_dict.get("param_groups")
        if groups is None or "state" not in state_dict:
            raise KeyError(f"{where}: expected keys 'state' and 'param_groups'")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{where}: the state dict has {len(groups)} parameter groups, this "
                             f"optimizer has {len(self.param_groups)}")
        for i, (saved, own) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(f"{where}: group {i} has {len(saved['params'])} parameters in the "
                                 f"state dict but {len(own['params'])} here")
        params = self._index()
        new_state = {}
        for key, st in state_dict["state"].items():
            idx = int(key)
            if not 0 <= idx < len(params):
                raise ValueError(f"{where}: state for parameter index {idx}, but there are only "
                                 f"{len(params)} parameters")
            p = params[idx]
            d = {}
            for k, v in st.items():
                if isinstance(v, np.ndarray) or (isinstance(v, list)):
                    arr = np.array(v, dtype=p.data.dtype, copy=True)
                    if arr.shape != p.data.shape:
                        raise ValueError(f"{where}: state {k!r} of parameter {idx} has shape "
                                         f"{arr.shape}, the parameter has {p.data.shape}")
                    d[k] = arr
                else:
                    d[k] = v
            d["step"] = int(d.get("step", 0))
            new_state[p] = d
        for saved, own in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k == "params":
                    continue
                own[k] = tuple(v) if k == "betas" else v
        self.state = new_state
        self._layouts = {}

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)
