"""Backpropagation, step by step: every number of one forward and backward pass.

:func:`trace` runs one forward and backward pass of a model on a copy in float64 and
records, in the order backprop computes them, every quantity of the chain rule. For a
feed-forward network (Linear layers, each followed by at most one activation) it also
computes the *delta form* of the course explicitly, with NumPy and no autograd,

    δ(L) = a(L) − y                          (sigmoid / softmax + matching cross-entropy)
    δ(l) = (W(l+1)ᵀ δ(l+1)) ⊙ f′(z(l))
    ∂E/∂W(l) = δ(l) a(l−1)ᵀ,   ∂E/∂b(l) = δ(l)

and :meth:`Trace.check` compares it with what autograd found.

The module reads in the order of the work: :func:`trace` records the forward pass and the
backward walk (:func:`_record_pass`), groups the calls into layers (:func:`_feed_forward`),
computes the delta form (:func:`_delta_form`, with the output rule of each loss in
``_OUTPUT_RULES``) and lists every partial derivative as a record; :class:`Trace` formats them.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import backward_hooks
from ..autograd.tensor import Tensor
from ..nn import loss as nnloss
from ..nn.linear import Flatten, Identity, Linear
from ._common import (CallRecorder, activation_derivative, copy_in_dtype, is_activation, kind,
                      loss_target, resolve_loss, same_tensor, to_numpy)

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable, Iterator

    import numpy.typing as npt

    from glassnet._typing import DTypeLike, TensorLike
    from glassnet.nn.module import Module


__all__ = ["trace", "Trace"]

_NUMBERING = ("units and weights numbered from 1; W(l)[j,i] connects unit i of layer l-1 to "
              "unit j of layer l")


def _val(v: npt.ArrayLike) -> float | np.ndarray:
    """A per-unit value: a float for a single sample, else the (N,) array."""
    v = np.asarray(v)
    return float(v[0]) if v.shape == (1,) else v.copy()


def _fmt(v: float, width: int = 12) -> str:
    """``v`` to 8 decimals, right-aligned in ``width`` characters."""
    return f"{v:{width}.8f}"


def _short(a: npt.ArrayLike | None) -> str:
    """An array in a few characters: its values when at most 4, else its size and norm."""
    if a is None:
        return "-"
    a = np.asarray(a)
    if a.size <= 4:
        return "[" + " ".join(f"{v:.8f}" for v in a.ravel()) + "]"
    return f"|{a.size} values| norm {np.linalg.norm(a):.8f}"


class Trace:
    """One recorded forward/backward pass (see :func:`trace`).

    Attributes
    ----------
    records : list of dict
        In backprop order. ``kind`` is "loss", then for a feed-forward net "unit"
        (z, a, ∂E/∂a, f′(z), δ), "weight" and "bias" (value, ∂E/∂w, updated value) layer by
        layer from the output down; otherwise "node" (one per autograd Function: upstream
        gradient and gradients passed to its inputs) and "param".
    layers : list of dict or None
        Feed-forward nets: per layer (first to last) the arrays ``input``, ``z``, ``a``,
        ``f_prime``, ``dE_da``, ``delta``, ``grad_W``, ``grad_b`` of the delta form and their
        autograd counterparts (``*_autograd``).
    nodes : list of dict
        Every autograd node in the order backward visited it.
    loss : float
    rules : list of str
        The formulas used.
    """

    def __init__(self, records: list[dict[str, Any]], layers: list[dict[str, Any]] | None,
                 nodes: list[dict[str, Any]], loss: float, rules: list[str], title: str,
                 lr: float | None, reason: str | None, n: int,
                 updated: dict[str, Any] | None = None) -> None:
        self.records = records
        self.layers = layers
        self.nodes = nodes
        self.loss = loss
        self.rules = rules
        self.title = title
        self.lr = lr
        self.reason = reason
        self.n_samples = n
        self._updated = {} if updated is None else updated

    @property
    def feed_forward(self) -> bool:
        return self.layers is not None

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.records[i]

    def find(self, **match: Any) -> list[dict[str, Any]]:
        """Records whose fields equal ``match`` (e.g. ``kind="weight", layer=2``)."""
        return [r for r in self.records if all(r.get(k) == v for k, v in match.items())]

    def check(self, rtol: float = 1e-7, atol: float = 1e-10) -> dict[str, float]:
        """Compare the explicit delta form with autograd.

        Returns ``{quantity: worst absolute difference}`` for δ, ∂E/∂a, ∂E/∂W and ∂E/∂b
        over all layers; raises ``AssertionError`` naming the layer and quantity when one
        differs by more than ``atol + rtol * |autograd|``.
        """
        if self.layers is None:
            raise ValueError(f"Trace.check: the delta form applies to feed-forward nets of "
                             f"Linear layers and activations; this model is not one "
                             f"({self.reason})")
        worst: dict[str, float] = {}
        for li, L in enumerate(self.layers, 1):
            for q in ("delta", "dE_da", "grad_W", "grad_b"):
                mine, ref = L.get(q), L.get(q + "_autograd")
                if mine is None or ref is None:
                    continue
                err = np.abs(mine - ref)
                worst[q] = max(worst.get(q, 0.0), float(err.max(initial=0.0)))
                bad = err > atol + rtol * np.abs(ref)
                if bad.any():
                    raise AssertionError(
                        f"Trace.check: layer {li} ({L['module']}): {q} by the delta form differs "
                        f"from autograd by up to {err.max():.3e} at index "
                        f"{np.unravel_index(np.argmax(err), err.shape)}")
        return worst

    def updated(self) -> dict:
        """{parameter name: value after one SGD step w − lr ∂E/∂w} (needs ``lr``)."""
        if self.lr is None:
            raise ValueError("Trace.updated: give lr to trace() to see the updated weights")
        return dict(self._updated)

    # ---------------------------------------------------------------- table
    def table(self, max_units: int = 12, max_weights: int = 24, max_samples: int = 3) -> str:
        """The trace as plain text, in backprop order, values to 8 decimals."""
        lines = [self.title, f"E = {self.loss:.8f}"]
        if self.rules:
            lines.append("formulas:")
            lines += [f"  {r}" for r in self.rules]
        if self.layers is not None:
            for li in range(len(self.layers), 0, -1):
                lines += self._layer_table(li, max_units, max_weights, max_samples)
        else:
            lines.append(f"(not a plain feed-forward net: {self.reason}; showing autograd "
                         f"nodes)")
            lines += self._node_table(max_weights)
        return "\n".join(lines)

    __str__ = table

    def __repr__(self) -> str:
        return (f"<Trace {len(self.records)} records, E={self.loss:.8f}, "
                f"{'feed-forward' if self.layers is not None else 'graph'}>")

    def _layer_table(self, li, max_units, max_weights, max_samples):
        """Layer ``li`` of the delta form: a title line, its units, then its weights."""
        L = self.layers[li - 1]
        act = L["activation"] or "identity"
        lines = ["", f"layer {li} ({'output' if li == len(self.layers) else 'hidden'}): Linear "
                     f"'{L['module']}' {L['W'].shape[1]} -> {L['W'].shape[0]}, {act}, "
                     f"f'(z) = {L['f_prime_rule']}"]
        return (lines + self._unit_rows(li, max_units, max_samples)
                + self._weight_rows(li, max_weights))

    def _unit_rows(self, li, max_units, max_samples):
        """z, a, ∂E/∂a, f′(z) and δ of the first ``max_units`` units of layer ``li``, one row
        per unit and sample (at most ``max_samples``)."""
        units = [r for r in self.records if r["kind"] == "unit" and r["layer"] == li]
        lines = [f"{'step':>5} {'unit':>5} {'sample':>6} {'z':>12} {'a':>12} {'dE/da':>12} "
                 f"{'f_prime(z)':>12} {'delta=dE/dz':>12}"]
        for r in units[:max_units]:
            vals = [np.atleast_1d(r[k]) for k in ("z", "a", "dE_da", "f_prime", "delta")]
            for s in range(min(len(vals[0]), max_samples)):
                lines.append(f"{r['step']:>5} {r['unit'] + 1:>5} {s:>6} "
                             + " ".join(_fmt(v[s]) for v in vals))
        if len(units) > max_units:
            lines.append(f"  ... {len(units) - max_units} more units (see .records)")
        if self.n_samples > max_samples:
            lines.append(f"  (first {max_samples} of {self.n_samples} samples shown)")
        return lines

    def _weight_rows(self, li, max_weights):
        """w, ∂E/∂w and (with ``lr``) w − lr ∂E/∂w of the first ``max_weights`` weights and
        biases of layer ``li``."""
        weights = [r for r in self.records if r["kind"] in ("weight", "bias") and r["layer"] == li]
        eta = "w - lr*dE/dw" if self.lr is not None else ""
        lines = [f"{'step':>5} {'weight':>14} {'w':>12} {'dE/dw':>12} "
                 + (f"{eta:>14}" if eta else "")]
        for r in weights[:max_weights]:
            up = _fmt(r["updated"], 14) if r.get("updated") is not None else ""
            lines.append(f"{r['step']:>5} {r['label']:>14} {_fmt(r['value'])} "
                         f"{_fmt(r['grad'])} {up}")
        if len(weights) > max_weights:
            lines.append(f"  ... {len(weights) - max_weights} more weights (see .records)")
        return lines

    def _node_table(self, max_params):
        """Every autograd node (upstream gradient, gradient to each input), then the first
        ``max_params`` parameters (∂E/∂w and the updated value)."""
        lines = [f"{'step':>5} {'node':<28} {'output shape':<14} upstream dE/d(output)"]
        for r in self.records:
            if r["kind"] == "node":
                name = r["function"] + (f" ({r['module']})" if r["module"] else "")
                lines.append(f"{r['step']:>5} {name:<28} {str(r['output_shape']):<14} "
                             f"{_short(r['upstream'])}")
                for nm, g in zip(r["input_names"], r["grads_in"]):
                    if g is not None:
                        lines.append(f"{'':>5}   -> dE/d{nm}: {_short(g)}")
        params = [r for r in self.records if r["kind"] == "param"]
        lines.append("parameters:")
        for r in params[:max_params]:
            up = f"  updated {_short(r['updated'])}" if r.get("updated") is not None else ""
            lines.append(f"{r['step']:>5} {r['name']:<28} dE/dw {_short(r['grad'])}{up}")
        return lines


# ------------------------------------------------------------------ trace
def trace(model: Module, x: TensorLike, target: TensorLike, loss: str | Callable[..., Tensor],
          lr: float | None = None, dtype: DTypeLike = np.float64) -> Trace:
    """Record one forward and backward pass, every partial derivative in backprop order.

    Parameters
    ----------
    model : Module
        Not modified: a copy is traced (in ``dtype``), and the model's ``.grad`` stay.
    x : array or Tensor
        One sample as a batch of one, e.g. shape (1, n_in), or a small batch.
    target : array
        Class indices, one-hot / probabilities or real targets, as the loss expects.
    loss : Module or str
        A loss module (e.g. ``nn.MSELoss(reduction="sum", half=True)`` for
        E = Σ ½(t − o)²) or a name for ``nn.get_loss``.
    lr : float, optional
        When given, each weight's value after one SGD step ``w − lr ∂E/∂w`` is recorded.
    dtype : default float64
        Precision of the traced copy.

    Returns
    -------
    Trace
        ``print(trace)`` shows the table; ``trace.records`` the data; ``trace.check()``
        compares the delta form with autograd (feed-forward nets).

    Example
    -------
    >>> t = gn.inspect.trace(model, [[0.05, 0.10]], [[0.01, 0.99]],
    ...                      nn.MSELoss(reduction="sum", half=True), lr=0.5)  # doctest: +SKIP
    >>> print(t)  # doctest: +SKIP
    """
    loss_fn = resolve_loss(loss, "trace")
    dtype = np.dtype(dtype)
    m = copy_in_dtype(model, dtype)
    xa = np.array(to_numpy(x), dtype=dtype)
    xt = Tensor(xa[None, :] if xa.ndim == 1 else xa, requires_grad=True)
    y = loss_target(target, dtype)
    out, E, calls, nodes = _record_pass(m, xt, y, loss_fn)
    layers, reason = _feed_forward(calls, xt, out)
    records = [{"kind": "loss", "step": 0, "E": float(E._data), "loss": repr(loss_fn)}]
    if layers is not None:
        layers, rules = _delta_form(layers, loss_fn, y)
        records += _delta_records(layers, lr)
        rules.append(_NUMBERING)
    else:
        rules = []
        records += [dict(nd, kind="node", step=None) for nd in nodes]
    updated = _sgd_step(m, lr)
    if layers is None:
        records += _param_records(m, updated)
    for step, r in enumerate(records):   # steps count the records in backprop order
        r["step"] = step
    if lr is not None:
        rules.append(f"updated weight: w - lr * dE/dw with lr = {lr}")
    title = (f"Backprop trace of {type(model).__name__} ({dtype.name}, batch of "
             f"{xt.shape[0]}), loss {_loss_label(loss_fn)}")
    return Trace(records, layers, nodes, float(E._data), rules, title, lr, reason, xt.shape[0],
                 updated)


# ------------------------------------------------ forward pass and backward walk
def _record_pass(m, xt, y, loss_fn):
    """E = loss(m(x), y), then E.backward(), recording both.

    Returns ``(out, E, calls, nodes)``: the model's output, the loss, every leaf module's
    call ``(name, module, input, output)`` in forward order (their outputs keep ``.grad``),
    and one dict per autograd node in the order backward visited it (see :func:`_node_hook`).
    """
    nodes = []
    with CallRecorder(m, retain=True) as rec:
        out = m(xt)
        if not isinstance(out, Tensor):
            raise TypeError(f"trace: the model returned {type(out).__name__}; it must return "
                            f"one Tensor")
        out.retain_grad()
        E = loss_fn(out, y)
        if E._data.size != 1:
            raise ValueError(f"trace: the loss must be a scalar, got shape {E.shape}")
        with backward_hooks(_node_hook(nodes, m, xt, rec.calls)):
            E.backward()
    return out, E, rec.calls, nodes


def _node_hook(nodes, m, xt, calls):
    """A backward hook that appends to ``nodes``, for every autograd Function it visits:
    its name, the module that called it, its output shape, the upstream gradient
    ∂E/∂(output), the gradients it passes to its inputs and the inputs' names."""
    pnames = {id(p): n for n, p in m.named_parameters()}
    module_of = {id(o._ctx): n for n, _, _, o in calls
                 if isinstance(o, Tensor) and o._ctx is not None}

    def input_name(i, t):
        if t is None:
            return f"input{i}"
        if id(t) in pnames:
            return pnames[id(t)]
        if t is xt:
            return "x"
        return f"({t._ctx.name if t._ctx else 'leaf'} output)"

    def hook(fn, gouts, gins) -> None:
        nodes.append({"function": fn.name, "module": module_of.get(id(fn), ""),
                      "output_shape": tuple(fn.output_shapes[0]),
                      "upstream": None if gouts[0] is None else np.array(gouts[0]),
                      "grads_in": [None if g is None else np.array(g) for g in gins],
                      "input_names": [input_name(i, t) for i, t in enumerate(fn.inputs)]})
    return hook


def _grad(t):
    """A copy of ``t.grad`` as an array (None when there is none)."""
    return None if t is None or t.grad is None else t.grad._data.copy()


def _sgd_step(m, lr):
    """{parameter name: w − lr ∂E/∂w} for every parameter with a gradient ({} without lr)."""
    updated = {}
    if lr is not None:
        for name, p in m.named_parameters():
            g = _grad(p)
            if g is not None:
                updated[name] = p._data - lr * g
    return updated


def _param_records(m, updated):
    """One "param" record per parameter: value, ∂E/∂w and the updated value (graph mode)."""
    return [{"kind": "param", "step": None, "name": name, "value": p._data.copy(),
             "grad": _grad(p), "updated": updated.get(name)}
            for name, p in m.named_parameters()]


# ------------------------------------------------------- the delta form
def _passes_through(mod) -> bool:
    """Identity, or a dropout that drops nothing (eval mode or p = 0)."""
    return isinstance(mod, Identity) or (kind(mod).startswith("dropout") and
                                         (not mod.training or getattr(mod, "p", 0) == 0))


def _feed_forward(calls, x, out):
    """Group the recorded calls into layers (Linear + optional activation), or a reason."""
    prev, layers, cur = x, [], None
    for name, mod, inp, o in calls:
        if not same_tensor(inp, prev):
            return None, f"module '{name}' does not take the previous module's output"
        if not isinstance(o, Tensor):
            return None, f"module '{name}' returns {type(o).__name__}, not one tensor"
        if isinstance(mod, Linear):
            if inp.ndim != 2:
                return None, f"Linear '{name}' gets a {inp.ndim}-D input"
            cur = {"linear": mod, "module": name, "input": inp, "z": o, "act": None, "a": o}
            layers.append(cur)
        elif _passes_through(mod):
            if cur is not None:
                cur["a"] = o if cur["act"] is None else cur["a"]
                cur["pass"] = o
        elif isinstance(mod, Flatten) and cur is None:
            pass
        elif is_activation(mod, inp.shape, o.shape):
            if cur is None:
                return None, f"activation '{name}' comes before any Linear layer"
            if cur["act"] is not None or "pass" in cur:
                return None, f"activation '{name}' follows another activation"
            cur["act"], cur["act_name"], cur["a"] = mod, name, o
        else:
            return None, f"module '{name}' ({type(mod).__name__}) is not part of the delta form"
        prev = o
    if not layers:
        return None, "no Linear layer was called"
    if not same_tensor(prev, out):
        return None, "the model's output is not the last module's output"
    return layers, ""


def _delta_form(raw, loss_fn, y):
    """The explicit delta form over the grouped layers, beside autograd's values.

    δ of the output layer by the loss's rule, δ(l) = (W(l+1)ᵀ δ(l+1)) ⊙ f′(z(l)) below it,
    then ∂E/∂W(l) = δ(l)ᵀ a(l−1) and ∂E/∂b(l) = Σ δ(l). Returns ``(layers, rules)``.
    """
    layers = [_layer_arrays(r) for r in raw]
    rules = [_output_layer(layers[-1], loss_fn, y)]
    if len(layers) > 1:
        rules.append("delta(l) = (W(l+1)^T delta(l+1)) * f'(z(l))   [hidden layers]")
    rules.append("dE/dW(l) = delta(l) a(l-1)^T (summed over the batch),  dE/db(l) = delta(l)")
    for li in range(len(layers) - 2, -1, -1):   # the hidden layers, from the output down
        L, above = layers[li], layers[li + 1]
        g = above["delta"] @ above["W"]
        d, fpl, how = _act_backward(L["act"], L["z"]._data, L["a"]._data, g)
        L.update(delta=d, dE_da=g, f_prime=fpl if fpl is not None else
                 np.full_like(d, np.nan), f_prime_rule=how)
    for L in layers:
        _weight_gradients(L)
    return layers, rules


def _layer_arrays(r):
    """One grouped layer as the arrays of the delta form: W, b, its input, and autograd's
    δ = ∂E/∂z, ∂E/∂a, ∂E/∂W and ∂E/∂b (z and a are still Tensors)."""
    lin, act = r["linear"], r["act"]
    return {"module": r["module"], "linear": lin, "act": act,
            "activation": type(act).__name__ if act is not None else None,
            "W": lin.weight._data.copy(),
            "b": None if lin.bias is None else lin.bias._data.copy(),
            "input": r["input"]._data.copy(), "z": r["z"], "a": r["a"],
            "delta_autograd": _grad(r["z"]),
            "dE_da_autograd": _grad(r["a"]),
            "grad_W_autograd": _grad(lin.weight),
            "grad_b_autograd": None if lin.bias is None else _grad(lin.bias)}


def _output_layer(out, loss_fn, y):
    """δ(L), ∂E/∂a(L) and f′(z(L)) of the output layer ``out`` (in place); returns the rule."""
    delta, dEda, rule = _output_delta(out, loss_fn, y)
    z, a, act = out["z"]._data, out["a"]._data, out["act"]
    if act is None:
        fp, how = np.ones_like(z), "1"
    elif kind(act) in ("softmax", "logsoftmax"):
        fp, how = np.full_like(z, np.nan), "(not elementwise)"
    else:
        fp, how = activation_derivative(act, z, a)
    if dEda is None:   # a rule where f' cancels: dE/da for the table, from autograd
        dEda = delta if act is None else _grad(out["a"])
    out.update(delta=delta, dE_da=dEda, f_prime=fp, f_prime_rule=how)
    return rule


def _weight_gradients(L) -> None:
    """∂E/∂W = δᵀ a(l−1) and ∂E/∂b = Σ δ over the batch (in place); z and a become arrays."""
    L["grad_W"] = L["delta"].T @ L["input"]
    L["grad_b"] = None if L["b"] is None else L["delta"].sum(0)
    L["z"], L["a"] = L["z"]._data.copy(), L["a"]._data.copy()
    if L["dE_da"] is None:
        L["dE_da"] = np.full_like(L["z"], np.nan)
    if L["act"] is None:
        L["dE_da_autograd"] = L["delta_autograd"]


def _act_backward(act, z, a, g):
    """(δ, f′(z) or None, rule): δ = ∂E/∂z from g = ∂E/∂a through the activation."""
    if act is None:
        return g, np.ones_like(z), "1"
    k = kind(act)
    if k == "softmax":
        return a * (g - (a * g).sum(-1, keepdims=True)), None, "a (g - sum(a g)) (softmax)"
    if k == "logsoftmax":
        return g - np.exp(a) * g.sum(-1, keepdims=True), None, "g - softmax(z) sum(g)"
    fp, how = activation_derivative(act, z, a)
    return g * fp, fp, how


# -------------------------------------------- δ(L): the output rule of each loss
def _scale(loss_fn, n):
    """(factor, text) of the reduction over ``n`` terms: (1/n, " / n") for "mean", else (1, "")."""
    return (1.0 / n, f" / {n}") if loss_fn.reduction == "mean" else (1.0, "")


def _par(expr, div):
    """``expr`` followed by ``div``, in parentheses when there is a ``div``."""
    return f"({expr}){div}" if div else expr


def _through_act(act, z, a, dEda, rule):
    """(δ(L), ∂E/∂a(L), rule) for a loss whose ∂E/∂a is ``dEda``: δ = ∂E/∂a ⊙ f′(z)."""
    return _act_backward(act, z, a, dEda)[0], dEda, rule


def _onehot_targets(y, z, ignore_index=-100):
    """Class indices as one-hot rows shaped like ``z`` (None when one is ``ignore_index``);
    probabilities pass through."""
    y = to_numpy(y)
    if y.dtype.kind in "iu":
        if (y == ignore_index).any():
            return None
        Y = np.zeros_like(z)
        Y[np.arange(len(y)), y.reshape(-1)] = 1
        return Y
    return y.astype(z.dtype).reshape(z.shape)


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _mse_delta(loss_fn, z, a, act, y):
    """E = c Σ (a − y)² / n (c = 1/2 with ``half``): δ(L) = 2c (a − y) / n ⊙ f′(z)."""
    c = 1.0 if loss_fn.half else 2.0
    s, div = _scale(loss_fn, a.size)
    y = y.astype(a.dtype).reshape(a.shape)
    rule = _par(f"{'' if c == 1 else '2 '}(a(L) - y) * f'(z(L))", div)
    return _through_act(act, z, a, c * s * (a - y),
                        f"delta(L) = {rule}   [squared error{' 1/2' if c == 1 else ''}]")


def _bce_delta(loss_fn, z, a, act, y):
    """Binary cross-entropy on probabilities: δ(L) = (a − y) / n after a sigmoid (f′
    cancels), else (a − y) / (a (1 − a)) / n ⊙ f′(z)."""
    if loss_fn.weight is not None:
        return None
    s, div = _scale(loss_fn, a.size)
    y = y.astype(a.dtype).reshape(a.shape)
    if act is not None and kind(act) == "sigmoid":
        return s * (a - y), None, (f"delta(L) = {_par('a(L) - y', div)}   [sigmoid + binary "
                                   f"cross-entropy: f' cancels]")
    return _through_act(act, z, a, s * (a - y) / (a * (1 - a)),
                        f"delta(L) = {_par('(a - y) / (a (1 - a)) * f(z(L))', div)}   [binary "
                        f"cross-entropy]")


def _bce_logits_delta(loss_fn, z, a, act, y):
    """Binary cross-entropy on logits (no activation): δ(L) = (sigmoid(z) − y) / n."""
    if act is not None or loss_fn.weight is not None or \
            getattr(loss_fn, "pos_weight", None) is not None:
        return None
    s, div = _scale(loss_fn, a.size)
    y = y.astype(a.dtype).reshape(a.shape)
    return (s * (1 / (1 + np.exp(-z)) - y), None,
            f"delta(L) = {_par('sigmoid(z(L)) - y', div)}   [sigmoid folded into the "
            f"cross-entropy]")


def _cross_entropy_delta(loss_fn, z, a, act, y):
    """Cross-entropy on logits (no activation, no weights or smoothing): δ(L) =
    (softmax(z) − y) / N, y one-hot or probabilities."""
    if (act is not None or z.ndim != 2 or loss_fn.weight is not None
            or loss_fn.label_smoothing):
        return None
    Y = _onehot_targets(y, z, loss_fn.ignore_index)
    if Y is None:
        return None
    s, div = _scale(loss_fn, a.shape[0])
    return (s * (_softmax(z) - Y), None,
            f"delta(L) = {_par('softmax(z(L)) - y', div)}   [softmax folded into the "
            f"cross-entropy]")


def _nll_delta(loss_fn, z, a, act, y):
    """NLL after a log-softmax, class indices: δ(L) = (softmax(z) − y) / N."""
    if (act is None or kind(act) != "logsoftmax" or loss_fn.weight is not None
            or y.dtype.kind not in "iu" or (y == loss_fn.ignore_index).any()):
        return None
    s, div = _scale(loss_fn, a.shape[0])
    return (s * (_softmax(z) - _onehot_targets(y, z)), None,
            f"delta(L) = {_par('softmax(z(L)) - y', div)}   [log-softmax + NLL]")


# tried in this order; a rule returns None where its loss's options leave the formula
_OUTPUT_RULES = ((nnloss.MSELoss, _mse_delta), (nnloss.BCELoss, _bce_delta),
                 (nnloss.BCEWithLogitsLoss, _bce_logits_delta),
                 (nnloss.CrossEntropyLoss, _cross_entropy_delta), (nnloss.NLLLoss, _nll_delta))


def _output_delta(L, loss_fn, target):
    """(δ(L), ∂E/∂a(L) or None, rule) for the output layer: the loss's own formula where
    ``_OUTPUT_RULES`` has one, else ∂E/∂a(L) from autograd times f′(z(L))."""
    z, a, act = L["z"]._data, L["a"]._data, L["act"]
    if getattr(loss_fn, "reduction", "mean") == "none":
        raise ValueError("trace: the loss must be a scalar; use reduction='mean' or 'sum'")
    y = to_numpy(target)
    for cls, rule in _OUTPUT_RULES:
        found = rule(loss_fn, z, a, act, y) if isinstance(loss_fn, cls) else None
        if found is not None:
            return found
    g = L["a"].grad
    if g is None:
        raise ValueError("trace: the loss did not depend on the model's output")
    return _through_act(act, z, a, g._data.copy(), f"delta(L) = dE/da(L) * f'(z(L)), dE/da(L) "
                                                   f"of {type(loss_fn).__name__} from autograd")


# --------------------------------------------------------------- the records
def _delta_records(layers, lr):
    """The delta form as records, from the output layer down: each layer's units, then its
    weights and biases (steps are numbered by :func:`trace`)."""
    records = []
    for li in range(len(layers), 0, -1):
        records += _unit_records(layers[li - 1], li) + _weight_records(layers[li - 1], li, lr)
    return records


def _unit_records(L, li):
    """One "unit" record per unit j of layer ``li``: z, a, ∂E/∂a, f′(z), δ and autograd's δ."""
    keys = ("z", "a", "dE_da", "f_prime", "delta", "delta_autograd")
    return [{"kind": "unit", "step": None, "layer": li, "unit": j, "module": L["module"],
             **{k: _val(L[k][:, j]) for k in keys}}
            for j in range(L["z"].shape[1])]


def _weight_records(L, li, lr):
    """One record per weight W(l)[j,i], then per bias b(l)[j]: value, ∂E/∂w by the delta
    form and by autograd, and (with ``lr``) w − lr ∂E/∂w."""
    records = []
    for name, sym in (("weight", "W"), ("bias", "b")):
        if L[sym] is None:
            continue
        grad, ref = L[f"grad_{sym}"], L[f"grad_{sym}_autograd"]
        for idx, w in np.ndenumerate(L[sym]):
            records.append({"kind": name, "step": None, "layer": li,
                            "param": f"{L['module']}.{name}", "index": idx,
                            "label": f"{sym}({li})[{','.join(str(k + 1) for k in idx)}]",
                            "value": float(w), "grad": float(grad[idx]),
                            "grad_autograd": float(ref[idx]),
                            "updated": None if lr is None else float(w - lr * grad[idx])})
    return records


def _loss_label(fn):
    """The loss's repr with its reduction shown (PyTorch's loss reprs leave it out)."""
    r = repr(fn)
    red = getattr(fn, "reduction", None)
    if red is None or "reduction=" in r or "(" not in r:
        return r
    inner = r[r.index("(") + 1:-1]
    return f"{type(fn).__name__}(reduction={red!r}" + (f", {inner}" if inner else "") + ")"
