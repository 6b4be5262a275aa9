"""The flat engine: one optimizer rule run over all parameters of a group at once.

Each rule's readable update (``_update`` in sgd.py, adam.py, ...) steps one parameter with
NumPy expressions, a dozen temporaries each. That is the reference. This module runs the
same rules fast, and it is what ``step()`` uses unless a group says ``foreach=False``:

1. The state arrays of all parameters of one (group, dtype) live in one contiguous buffer
   per state name (:class:`FlatLayout`); ``optimizer.state[p]`` holds views into them.
2. A step cuts that flat range into one chunk per thread (``backend.get_num_threads()``,
   64-byte aligned, balanced on elements plus a fixed cost per call of the rule). Each chunk
   is a list of segments: a slice of one large parameter, worked on through views of its own
   ``data`` and ``grad``, or the run of all small parameters (laid out after the large ones),
   gathered into a flat buffer, so that one call serves every bias and norm scale.
3. The rule's kernel (``sgd``, ``rmsprop``, ``adagrad``, ``adam`` below) runs on each segment
   with ``out=`` into two scratch buffers, returning ``(scale, alpha, d)``; the parameter
   becomes ``scale * p - alpha * d``, written back in place.

The chunks run on glassnet's thread pool (NumPy releases the GIL in its loops); every kernel
is elementwise, so the result is bit-identical for any number of threads. When the flat step
does not apply (some parameters have no gradient, or they are at different step counts) the
kernel runs per parameter on the views of the flat state; parameters whose arrays are not
C-contiguous take a gathered flat path (copy in, one kernel call, write back).

Kernel contract: ``kernel(group, param, grad, state, step, w1, w2) -> (scale, alpha, d)``.
``param`` (``None`` unless :func:`needs_param`) and ``grad`` are read only; ``state`` maps the
rule's state names to arrays of the same length, updated in place; ``w1`` and ``w2`` are
scratch; ``d`` is one of ``grad``, ``w1``, ``w2`` or a state array. Kernels compute the
readable rule's formula, with the scalar factors folded to save passes.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # annotations only
    from typing import TypeAlias

    from glassnet.autograd.tensor import Tensor

    # a rule's flat kernel: (group, param or None, grad, state arrays, step, w1, w2) ->
    # (scale, alpha, d), the write-back being p = scale * p - alpha * d
    Kernel: TypeAlias = Callable[..., tuple[float, float, np.ndarray]]
    # flat positions [a, b) and the (param index, lo, hi) pieces they cover
    _Segment: TypeAlias = tuple[int, int, list[tuple[int, int, int]]]


__all__ = ["FlatEngine", "FlatLayout", "axpy", "needs_param", "sgd", "rmsprop", "adagrad",
           "adam", "adadelta", "adamax", "radam"]

# Below this many parameters a group's step runs on the calling thread only: waking a pool
# thread costs about 100 us here, more than half of a small step. Measured (compiled Adam,
# float32, 2 cores, one thread / two): 118k parameters 92 / 97 us, 235k (the MLP
# 784-256-128-10) 189 / 266 us, 670k 454 / 405 us, 2.1M 1235 / 779 us.
PARALLEL_MIN_PARAMS = 1 << 19


def axpy(a: float, x: np.ndarray, y: np.ndarray, tmp: np.ndarray | None = None) -> np.ndarray:
    """``y += a * x`` in place (``x``, ``y`` same shape); ``tmp`` is scratch space.

    NumPy has no fused multiply-add, so this is two passes through ``tmp``. (SciPy's BLAS
    ``axpy`` does one, but its own OpenBLAS thread pool fights NumPy's for the cores: with
    2 threads the MLP training step became 8x slower.)
    """
    if a == 1.0:
        y += x
    elif a == -1.0:
        y -= x
    else:
        if tmp is None:
            tmp = np.empty_like(y)
        np.multiply(x, a, out=tmp)
        y += tmp
    return y


# ------------------------------------------------------------------------------ kernels
def needs_param(group: dict[str, Any]) -> bool:
    """Whether the kernel reads the parameter's values: for L2 weight decay (``g + wd * p``);
    AdamW's decoupled decay is the ``scale`` of the write-back instead."""
    return group["weight_decay"] != 0 and not group.get("decoupled_weight_decay", False)


def _grad(group: dict[str, Any], param: np.ndarray | None, grad: np.ndarray,
          w1: np.ndarray) -> tuple[np.ndarray, float]:
    """The gradient the rule works with, as ``(g, s)``: the rule's gradient is ``s * g``.

    ``maximize`` only flips ``s`` (the kernels fold it into their coefficients, no pass);
    L2 weight decay writes ``wd * param - grad`` or ``+ grad`` into ``w1`` (``s = 1``).
    """
    s = -1.0 if group.get("maximize", False) else 1.0
    if not needs_param(group):
        return grad, s
    assert param is not None, "the engine passes the parameter when needs_param"
    np.multiply(param, group["weight_decay"], out=w1)
    if s > 0:
        w1 += grad
    else:
        w1 -= grad
    return w1, 1.0


def _add(y: np.ndarray, s: float, x: np.ndarray) -> None:
    """``y += s * x`` for ``s`` = +1 or -1 (exact, no scratch)."""
    if s > 0:
        y += x
    else:
        y -= x


def sgd(group: dict[str, Any], param: np.ndarray | None, grad: np.ndarray,
        state: dict[str, np.ndarray], step: int, w1: np.ndarray,
        w2: np.ndarray) -> tuple[float, float, np.ndarray]:
    """SGD (see :meth:`glassnet.optim.SGD._update`): momentum, dampening, Nesterov."""
    g, s = _grad(group, param, grad, w1)
    lr, mu = group["lr"], group["momentum"]
    if mu == 0:
        return 1.0, s * lr, g
    buf = state["momentum_buffer"]
    if step == 1:
        np.multiply(g, s, out=buf)
    else:
        buf *= mu
        axpy(s * (1.0 - group["dampening"]), g, buf, w2)
    if group["nesterov"]:
        np.multiply(buf, mu, out=w2)
        _add(w2, s, g)
        return 1.0, lr, w2
    return 1.0, lr, buf


def rmsprop(group: dict[str, Any], param: np.ndarray | None, grad: np.ndarray,
            state: dict[str, np.ndarray], step: int, w1: np.ndarray,
            w2: np.ndarray) -> tuple[float, float, np.ndarray]:
    """RMSprop (see :meth:`glassnet.optim.RMSprop._update`): centered, momentum."""
    g, s = _grad(group, param, grad, w1)
    lr, alpha = group["lr"], group["alpha"]
    sq = state["square_avg"]
    sq *= alpha
    np.multiply(g, g, out=w2)
    w2 *= 1.0 - alpha
    sq += w2
    if group["centered"]:
        ga = state["grad_avg"]
        ga *= alpha
        axpy(s * (1.0 - alpha), g, ga, w2)
        np.multiply(ga, ga, out=w2)
        np.subtract(sq, w2, out=w2)
        np.sqrt(w2, out=w2)
    else:
        np.sqrt(sq, out=w2)
    w2 += group["eps"]
    np.divide(g, w2, out=w2)
    if group["momentum"] > 0:
        buf = state["momentum_buffer"]
        buf *= group["momentum"]
        _add(buf, s, w2)
        return 1.0, lr, buf
    return 1.0, s * lr, w2


def adagrad(group: dict[str, Any], param: np.ndarray | None, grad: np.ndarray,
            state: dict[str, np.ndarray], step: int, w1: np.ndarray,
            w2: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Adagrad (see :meth:`glassnet.optim.Adagrad._update`): lr_decay, initial sum."""
    g, s = _grad(group, param, grad, w1)
    clr = group["lr"] / (1.0 + (step - 1) * group["lr_decay"])
    acc = state["sum"]
    np.multiply(g, g, out=w2)
    acc += w2
    np.sqrt(acc, out=w2)
    w2 += group["eps"]
    np.divide(g, w2, out=w2)
    return 1.0, s * clr, w2


def _adam_moments(group: dict[str, Any], param: np.ndarray | None, grad: np.ndarray,
                  state: dict[str, np.ndarray], w1: np.ndarray,
                  w2: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The moment updates Adam and RAdam share: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2
    (g with L2 decay and the maximize sign folded in; m carries the sign). Returns the
    decoupled-decay factor of the write-back and the two moments."""
    b1, b2 = group["betas"]
    g, s = _grad(group, param, grad, w1)
    scale = 1.0 - group["lr"] * group["weight_decay"] if group["decoupled_weight_decay"] else 1.0
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m *= b1
    axpy(s * (1.0 - b1), g, m, w2)
    v *= b2
    np.multiply(g, g, out=w2)
    w2 *= 1.0 - b2
    v += w2
    return scale, m, v


def adam(group: dict[str, Any], param: np.ndarray | None, grad: np.ndarray,
         state: dict[str, np.ndarray], step: int, w1: np.ndarray,
         w2: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Adam and AdamW (see :meth:`glassnet.optim.Adam._update`): amsgrad, decoupled decay."""
    lr, eps = group["lr"], group["eps"]
    b1, b2 = group["betas"]
    scale, m, v = _adam_moments(group, param, grad, state, w1, w2)
    if group["amsgrad"]:
        vmax = state["max_exp_avg_sq"]
        np.maximum(vmax, v, out=vmax)
        v = vmax
    # lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) == (lr*sqrt(bc2)/bc1) * m / (sqrt(v) + eps*sqrt(bc2)):
    # one pass fewer; the factor in front is the alpha of the write-back.
    sqrt_bc2 = math.sqrt(1.0 - b2 ** step)
    np.sqrt(v, out=w2)
    w2 += eps * sqrt_bc2
    np.divide(m, w2, out=w2)
    return scale, lr * sqrt_bc2 / (1.0 - b1 ** step), w2     # m carries the sign s


def _adam_fused(group: dict[str, Any], dtype: np.dtype[Any]) -> Callable[..., None] | None:
    """:func:`adam` and its write-back as one compiled pass over flat contiguous slices
    (``backend.kernels.optim_kernels``), or None where it does not apply (no Numba,
    kernels off, amsgrad): then the NumPy rule runs. Every path of the engine uses the
    same one, so a chunked, gathered or per-parameter step gives the same numbers."""
    if group["amsgrad"]:
        return None
    kr = backend.kernels.optim_kernels(dtype)
    if kr is None:
        return None
    t = dtype.type
    lr, eps = group["lr"], group["eps"]
    b1, b2 = group["betas"]
    s = -1.0 if group.get("maximize", False) else 1.0
    wd = group["weight_decay"] if needs_param(group) else 0.0
    scale = 1.0 - lr * group["weight_decay"] if group["decoupled_weight_decay"] else 1.0

    def run(param: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray],
            step: int) -> None:
        sqrt_bc2 = math.sqrt(1.0 - b2 ** step)
        kr.adam(param, grad, state["exp_avg"], state["exp_avg_sq"], t(s), t(wd), t(b1),
                t(1.0 - b1), t(b2), t(1.0 - b2), t(lr * sqrt_bc2 / (1.0 - b1 ** step)),
                t(eps * sqrt_bc2), t(scale))
    return run


adam.fused = _adam_fused  # type: ignore[attr-defined]


def _fused(kernel: Kernel, group: dict[str, Any], dtype: np.dtype[Any]
           ) -> Callable[..., None] | None:
    """The rule's compiled one-pass step (rule and write-back) for this group, or None."""
    make = getattr(kernel, "fused", None)
    return None if make is None else make(group, dtype)


def _flat1(a: np.ndarray) -> np.ndarray:
    """``a`` as a 1-D C-contiguous array: a view when it is contiguous, else a copy."""
    return a.reshape(-1) if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(-1)


def adadelta(group: dict[str, Any], param: np.ndarray | None, grad: np.ndarray,
             state: dict[str, np.ndarray], step: int, w1: np.ndarray,
             w2: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Adadelta (see :meth:`glassnet.optim.Adadelta._update`)."""
    g, s = _grad(group, param, grad, w1)
    lr, rho, eps = group["lr"], group["rho"], group["eps"]
    v, u = state["square_avg"], state["acc_delta"]
    v *= rho
    np.multiply(g, g, out=w2)
    w2 *= 1.0 - rho
    v += w2
    # delta / s = g / sqrt(v + eps) * sqrt(u + eps), the old u; g (maybe in w1) is read first
    np.add(v, eps, out=w2)
    np.sqrt(w2, out=w2)
    np.divide(g, w2, out=w2)
    np.add(u, eps, out=w1)
    np.sqrt(w1, out=w1)
    w2 *= w1
    u *= rho
    np.multiply(w2, w2, out=w1)
    w1 *= 1.0 - rho
    u += w1
    return 1.0, s * lr, w2


def adamax(group: dict[str, Any], param: np.ndarray | None, grad: np.ndarray,
           state: dict[str, np.ndarray], step: int, w1: np.ndarray,
           w2: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Adamax (see :meth:`glassnet.optim.Adamax._update`)."""
    g, s = _grad(group, param, grad, w1)
    b1, b2 = group["betas"]
    m, u = state["exp_avg"], state["exp_inf"]
    m *= b1
    axpy(s * (1.0 - b1), g, m, w2)
    u *= b2
    np.abs(g, out=w2)
    w2 += group["eps"]
    np.maximum(u, w2, out=u)
    np.divide(m, u, out=w2)
    return 1.0, group["lr"] / (1.0 - b1 ** step), w2     # m carries the sign s


def radam(group: dict[str, Any], param: np.ndarray | None, grad: np.ndarray,
          state: dict[str, np.ndarray], step: int, w1: np.ndarray,
          w2: np.ndarray) -> tuple[float, float, np.ndarray]:
    """RAdam (see :meth:`glassnet.optim.RAdam._update`): L2 or decoupled decay."""
    lr, eps = group["lr"], group["eps"]
    b1, b2 = group["betas"]
    scale, m, v = _adam_moments(group, param, grad, state, w1, w2)
    bc1, bc2 = 1.0 - b1 ** step, 1.0 - b2 ** step
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * step * b2 ** step / bc2
    if rho_t <= 5.0:
        return scale, lr / bc1, m
    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    np.sqrt(v, out=w2)
    w2 += eps
    np.divide(m, w2, out=w2)
    return scale, lr / bc1 * math.sqrt(bc2) * rect, w2


# ------------------------------------------------------------------------------- layout
class FlatLayout:
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

    def __init__(self, params: Sequence[Tensor], dtype: np.dtype[Any], names: Sequence[str],
                 fills: Mapping[str, float]) -> None:
        self.params = list(params)
        self.ids = tuple(id(p) for p in self.params)
        self.shapes = tuple(p._data.shape for p in self.params)
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
        self._split_cache: dict[int, tuple[np.ndarray, list[np.ndarray]]] = {}
        self._plans: dict[int, list[list[_Segment]]] = {}
        self.param: np.ndarray | None = None  # gathered parameter values, allocated when a rule needs them

    def plan(self, threads: int) -> list[list[_Segment]]:
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
        chunks: list[list[_Segment]]
        cur: list[_Segment]
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

    def views_of(self, flat: np.ndarray) -> list[np.ndarray]:
        """Per-parameter views of one of this layout's flat arrays (cached)."""
        v = self._split_cache.get(id(flat))
        if v is None or v[0] is not flat:
            v = (flat, self._split(flat))
            self._split_cache[id(flat)] = v
        return v[1]

    def _split(self, flat: np.ndarray) -> list[np.ndarray]:
        return [flat[a:b].reshape(s) for a, b, s in zip(self.start, self.end, self.shapes)]

    def matches(self, params: Sequence[Tensor], names: Sequence[str],
                state: Mapping[Tensor, dict[str, Any]]) -> bool:
        """Whether this layout still describes ``params`` and their ``state`` (same
        parameters, shapes, dtype, state names, and the state arrays are its views)."""
        if tuple(id(p) for p in params) != self.ids or tuple(names) != self.names:
            return False
        for i, p in enumerate(params):
            if p._data.shape != self.shapes[i] or p._data.dtype != self.dtype:
                return False
            st = state.get(p)
            if st is None:
                return False
            for name in names:
                if st.get(name) is not self.views[name][i]:
                    return False
        return True


# ------------------------------------------------------------------------------- engine
class FlatEngine:
    """The flat step of one optimizer: a :class:`FlatLayout` per (group index, dtype).

    ``step(gi, group, active, kernel, state, names, fills)`` updates the parameters in
    ``active`` (those of group ``gi`` that have a gradient) with ``kernel`` and advances
    their ``state[p]["step"]``; ``reset()`` forgets the layouts (after a state dict load).
    """

    def __init__(self) -> None:
        self.layouts: dict[tuple[int, np.dtype[Any]], FlatLayout] = {}

    def reset(self) -> None:
        self.layouts = {}

    def step(self, gi: int, group: dict[str, Any], active: list[Tensor], kernel: Kernel,
             state: dict[Tensor, dict[str, Any]], names: Sequence[str],
             fills: Mapping[str, float]) -> None:
        buckets: dict[np.dtype[Any], list[Tensor]]
        if len(active) == len(group["params"]):
            buckets = {}
            for p in active:
                buckets.setdefault(p._data.dtype, []).append(p)
            for dtype, ps in buckets.items():
                self._step_bucket(gi, group, dtype, ps, ps, kernel, state, names, fills)
            return
        ids = {id(p) for p in active}
        buckets = {}
        for p in group["params"]:
            buckets.setdefault(p._data.dtype, []).append(p)
        for dtype, ps in buckets.items():
            act = [p for p in ps if id(p) in ids]
            if act:
                self._step_bucket(gi, group, dtype, ps, act, kernel, state, names, fills)

    def _step_bucket(self, gi: int, group: dict[str, Any], dtype: np.dtype[Any],
                     ps: list[Tensor], active: list[Tensor], kernel: Kernel,
                     state: dict[Tensor, dict[str, Any]], names: Sequence[str],
                     fills: Mapping[str, float]) -> None:
        lay = self._layout(gi, dtype, ps, names, fills, state)
        steps = {state[p]["step"] for p in active}
        if len(active) == len(ps) and len(steps) == 1:
            step = steps.pop() + 1
            if all(p._data.flags.c_contiguous for p in ps):
                self._step_flat(group, lay, ps, step, kernel)
            else:
                self._step_gathered(group, lay, ps, step, kernel)
            for p in ps:
                state[p]["step"] = step
        else:
            ids = {id(p) for p in active}
            for i, p in enumerate(ps):
                if id(p) in ids:
                    self._step_one(group, lay, i, p, state[p], kernel)

    def _layout(self, gi: int, dtype: np.dtype[Any], ps: list[Tensor], names: Sequence[str],
                fills: Mapping[str, float], state: dict[Tensor, dict[str, Any]]) -> FlatLayout:
        key = (gi, dtype)
        lay = self.layouts.get(key)
        if lay is not None and lay.matches(ps, names, state):
            return lay
        # (Re)build: parameters were added, replaced or re-shaped, or the state was loaded.
        # Existing state values are carried over into the new contiguous buffers.
        lay = FlatLayout(ps, dtype, names, fills)
        for i, p in enumerate(ps):
            st = state.setdefault(p, {})
            st.setdefault("step", 0)
            for name in names:
                old = st.get(name)
                view = lay.views[name][i]
                if old is not None and np.shape(old) == view.shape:
                    view[...] = old
                st[name] = view
        self.layouts[key] = lay
        return lay

    def _step_flat(self, group: dict[str, Any], lay: FlatLayout, ps: list[Tensor], step: int,
                   kernel: Kernel) -> None:
        pflat = [p._data.reshape(-1) for p in ps]
        gflat = [cast("Tensor", p.grad)._data.reshape(-1) for p in ps]   # a copy only for a strided gradient
        with_param = needs_param(group)
        if with_param and lay.param is None:
            lay.param = np.empty_like(lay.grad)
        plan = lay.plan(backend.get_num_threads())

        def run(lo: int, hi: int) -> None:
            for chunk in plan[lo:hi]:
                for a, b, pieces in chunk:
                    _run_segment(group, lay, step, a, b, pieces, pflat, gflat, with_param,
                                 kernel)
        if lay.size < PARALLEL_MIN_PARAMS:
            run(0, len(plan))
        else:
            backend.parallel_chunks(len(plan), run, lay.size)

    def _step_gathered(self, group: dict[str, Any], lay: FlatLayout, ps: list[Tensor],
                       step: int, kernel: Kernel) -> None:
        """The flat step for parameters whose arrays are not contiguous: gather, one rule
        over the whole flat vectors, and subtract through per-parameter views."""
        order = lay.order
        np.concatenate([cast("Tensor", ps[i].grad)._data.reshape(-1) for i in order], out=lay.grad)
        fused = _fused(kernel, group, lay.grad.dtype)
        if fused is not None:          # gather, one compiled pass, write back
            if lay.param is None:
                lay.param = np.empty_like(lay.grad)
            np.concatenate([ps[i]._data.reshape(-1) for i in order], out=lay.param)
            fused(lay.param, lay.grad, lay.buffers, step)
            for p, pv in zip(ps, lay.views_of(lay.param)):
                p._data[...] = pv
            return
        param = None
        if needs_param(group):
            if lay.param is None:
                lay.param = np.empty_like(lay.grad)
            np.concatenate([ps[i]._data.reshape(-1) for i in order], out=lay.param)
            param = lay.param
        scale, alpha, d = kernel(group, param, lay.grad, lay.buffers, step, lay.w1, lay.w2)
        tmp = lay.w1 if d is not lay.w1 else lay.w2
        for p, dv, tv in zip(ps, lay.views_of(d), lay.views_of(tmp)):
            data = p._data
            if scale != 1.0:
                data *= scale
            axpy(-alpha, dv, data, tv)

    def _step_one(self, group: dict[str, Any], lay: FlatLayout, i: int, p: Tensor,
                  st: dict[str, Any], kernel: Kernel) -> None:
        """One parameter, on the views of the flat state (its scratch is its own slice of
        the layout's workspace)."""
        step = st["step"] + 1
        fused = _fused(kernel, group, p._data.dtype)
        if fused is not None:
            data = _flat1(p._data)
            fused(data, _flat1(cast("Tensor", p.grad)._data),
                  {n: st[n].reshape(-1) for n in lay.names}, step)
            if not np.shares_memory(data, p._data):
                p._data[...] = data.reshape(p._data.shape)
            st["step"] = step
            return
        w1, w2 = lay.views_of(lay.w1)[i], lay.views_of(lay.w2)[i]
        scale, alpha, d = kernel(group, p._data, cast("Tensor", p.grad)._data, {n: st[n] for n in lay.names},
                                 step, w1, w2)
        if scale != 1.0:
            p._data *= scale
        axpy(-alpha, d, p._data, w1 if d is not w1 else w2)
        st["step"] = step


def _run_segment(group: dict[str, Any], lay: FlatLayout, step: int, a: int, b: int,
                 pieces: list[tuple[int, int, int]], pflat: list[np.ndarray],
                 gflat: list[np.ndarray], with_param: bool, kernel: Kernel) -> None:
    """The rule on flat positions [a, b): one parameter's slice as views, or a run of
    small parameters gathered into the layout's buffers and written back piece by piece."""
    state = {name: buf[a:b] for name, buf in lay.buffers.items()}
    w1, w2 = lay.w1[a:b], lay.w2[a:b]
    if len(pieces) == 1:
        i, lo, hi = pieces[0]
        data = pflat[i][lo:hi]
        fused = _fused(kernel, group, data.dtype)   # the rule and its write-back compiled
        if fused is not None:
            fused(data, _flat1(gflat[i][lo:hi]), state, step)
            return
        scale, alpha, d = kernel(group, data if with_param else None, gflat[i][lo:hi],
                                 state, step, w1, w2)
        if scale != 1.0:
            data *= scale
        axpy(-alpha, d, data, w1 if d is not w1 else w2)
        return
    grad = lay.grad[a:b]
    np.concatenate([gflat[i][lo:hi] for i, lo, hi in pieces], out=grad)
    fused = _fused(kernel, group, grad.dtype)
    if fused is not None:              # gathered parameters, one compiled pass, scattered
        if lay.param is None:
            lay.param = np.empty_like(lay.grad)
        gathered = lay.param[a:b]
        np.concatenate([pflat[i][lo:hi] for i, lo, hi in pieces], out=gathered)
        fused(gathered, grad, state, step)
        k = 0
        for i, lo, hi in pieces:
            pflat[i][lo:hi] = gathered[k:k + hi - lo]
            k += hi - lo
        return
    param = None
    if with_param:
        assert lay.param is not None, "_step_flat allocates it when the rule needs it"
        param = lay.param[a:b]
        np.concatenate([pflat[i][lo:hi] for i, lo, hi in pieces], out=param)
    scale, alpha, d = kernel(group, param, grad, state, step, w1, w2)
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
