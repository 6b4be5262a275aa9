"""Backpropagation, step by step: every number of one forward and backward pass.

:func:`trace` runs one forward and backward pass of a model on a copy in float64 and
records, in the order backprop computes them, every quantity of the chain rule. For a
feed-forward network (Linear layers, each followed by at most one activation) it also
computes the *delta form* of the course explicitly, with NumPy and no autograd,

    δ(L) = a(L) − y                          (sigmoid / softmax + matching cross-entropy)
    δ(l) = (W(l+1)ᵀ δ(l+1)) ⊙ f′(z(l))
    ∂E/∂W(l) = δ(l) a(l−1)ᵀ,   ∂E/∂b(l) = δ(l)

and :meth:`Trace.check` compares it with what autograd found.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import backward_hooks
from ..autograd.tensor import Tensor
from ..nn import loss as nnloss
from ..nn.linear import Flatten, Identity, Linear
from ._common import (CallRecorder, activation_derivative, float64_copy, is_activation, kind,
                      same_tensor, to_numpy)

__all__ = ["trace", "Trace"]


def _val(v):
    """A per-unit value: a float for a single sample, else the (N,) array."""
    v = np.asarray(v)
    return float(v[0]) if v.shape == (1,) else v.copy()


def _fmt(v, width=12):
    return f"{v:{width}.8f}"


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

    def __init__(self, records, layers, nodes, loss, rules, title, lr, reason, n):
        self.records = records
        self.layers = layers
        self.nodes = nodes
        self.loss = loss
        self.rules = rules
        self.title = title
        self.lr = lr
        self.reason = reason
        self.n_samples = n

    @property
    def feed_forward(self) -> bool:
        return self.layers is not None

    def __len__(self):
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def __getitem__(self, i):
        return self.records[i]

    def find(self, **match):
        """Records whose fields equal ``match`` (e.g. ``kind="weight", layer=2``)."""
        return [r for r in self.records if all(r.get(k) == v for k, v in match.items())]

    def check(self, rtol: float = 1e-7, atol: float = 1e-10) -> dict:
        """Compare the explicit delta form with autograd.

        Returns ``{quantity: worst absolute difference}`` for δ, ∂E/∂a, ∂E/∂W and ∂E/∂b
        over all layers; raises ``AssertionError`` naming the layer and quantity when one
        differs by more than ``atol + rtol * |autograd|``.
        """
        if self.layers is None:
            raise ValueError(f"Trace.check: the delta form applies to feed-forward nets of "
                             f"Linear layers and activations; this model is not one "
                             f"({self.reason})")
        worst = {}
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
            lines += self._ff_table(max_units, max_weights, max_samples)
        else:
            lines.append(f"(not a plain feed-forward net: {self.reason}; showing autograd "
                         f"nodes)")
            lines += self._node_table(max_weights)
        return "\n".join(lines)

    __str__ = table

    def __repr__(self):
        return (f"<Trace {len(self.records)} records, E={self.loss:.8f}, "
                f"{'feed-forward' if self.layers is not None else 'graph'}>")

    def _ff_table(self, max_units, max_weights, max_samples):
        lines = []
        eta = "w - lr*dE/dw" if self.lr is not None else ""
        nl = len(self.layers)
        for li in range(nl, 0, -1):
            L = self.layers[li - 1]
            recs_u = [r for r in self.records if r["kind"] == "unit" and r["layer"] == li]
            recs_w = [r for r in self.records if r["kind"] in ("weight", "bias")
                      and r["layer"] == li]
            act = L["activation"] or "identity"
            lines.append("")
            lines.append(f"layer {li} ({'output' if li == nl else 'hidden'}): Linear "
                         f"'{L['module']}' {L['W'].shape[1]} -> {L['W'].shape[0]}, {act}, "
                         f"f'(z) = {L['f_prime_rule']}")
            hdr = (f"{'step':>5} {'unit':>5} {'sample':>6} {'z':>12} {'a':>12} {'dE/da':>12} "
                   f"{'f_prime(z)':>12} {'delta=dE/dz':>12}")
            lines.append(hdr)
            shown = 0
            for r in recs_u:
                if shown >= max_units:
                    break
                shown += 1
                vals = [np.atleast_1d(r[k]) for k in ("z", "a", "dE_da", "f_prime", "delta")]
                for s in range(min(len(vals[0]), max_samples)):
                    lines.append(f"{r['step']:>5} {r['unit'] + 1:>5} {s:>6} "
                                 + " ".join(_fmt(v[s]) for v in vals))
            if len(recs_u) > max_units:
                lines.append(f"  ... {len(recs_u) - max_units} more units (see .records)")
            if self.n_samples > max_samples:
                lines.append(f"  (first {max_samples} of {self.n_samples} samples shown)")
            lines.append(f"{'step':>5} {'weight':>14} {'w':>12} {'dE/dw':>12} "
                         + (f"{eta:>14}" if eta else ""))
            for r in recs_w[:max_weights]:
                up = _fmt(r["updated"], 14) if r.get("updated") is not None else ""
                lines.append(f"{r['step']:>5} {r['label']:>14} {_fmt(r['value'])} "
                             f"{_fmt(r['grad'])} {up}")
            if len(recs_w) > max_weights:
                lines.append(f"  ... {len(recs_w) - max_weights} more weights (see .records)")
        return lines

    def _node_table(self, max_params):
        def short(a):
            if a is None:
                return "-"
            a = np.asarray(a)
            if a.size <= 4:
                return "[" + " ".join(f"{v:.8f}" for v in a.ravel()) + "]"
            return f"|{a.size} values| norm {np.linalg.norm(a):.8f}"
        lines = [f"{'step':>5} {'node':<28} {'output shape':<14} upstream dE/d(output)"]
        for r in self.records:
            if r["kind"] == "node":
                name = r["function"] + (f" ({r['module']})" if r["module"] else "")
                lines.append(f"{r['step']:>5} {name:<28} {str(r['output_shape']):<14} "
                             f"{short(r['upstream'])}")
                for nm, g in zip(r["input_names"], r["grads_in"]):
                    if g is not None:
                        lines.append(f"{'':>5}   -> dE/d{nm}: {short(g)}")
        params = [r for r in self.records if r["kind"] == "param"]
        lines.append("parameters:")
        for r in params[:max_params]:
            up = f"  updated {short(r['updated'])}" if r.get("updated") is not None else ""
            lines.append(f"{r['step']:>5} {r['name']:<28} dE/dw {short(r['grad'])}{up}")
        return lines


# ------------------------------------------------------------- the delta form
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
        elif isinstance(mod, Identity) or (kind(mod).startswith("dropout") and
                                            (not mod.training or getattr(mod, "p", 0) == 0)):
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


def _act_backward(act, z, a, g):
    """δ = ∂E/∂z from g = ∂E/∂a through the activation (explicit formulas)."""
    if act is None:
        return g, np.ones_like(z), "1"
    k = kind(act)
    if k == "softmax":
        return a * (g - (a * g).sum(-1, keepdims=True)), None, "a (g - sum(a g)) (softmax)"
    if k == "logsoftmax":
        return g - np.exp(a) * g.sum(-1, keepdims=True), None, "g - softmax(z) sum(g)"
    fp, how = activation_derivative(act, z, a)
    return g * fp, fp, how


def _onehot_targets(y, z, ignore_index=-100):
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


def _par(expr, div):
    return f"({expr}){div}" if div else expr


def _output_delta(L, loss_fn, target):
    """(δ(L), ∂E/∂a(L) or None, rule) for the output layer, explicitly."""
    z, a, act = L["z"].data, L["a"].data, L["act"]
    k = kind(act) if act is not None else "identity"
    red = getattr(loss_fn, "reduction", "mean")
    if red == "none":
        raise ValueError("trace: the loss must be a scalar; use reduction='mean' or 'sum'")
    N = a.shape[0]
    y = to_numpy(target)

    def elementwise(dEda, rule):
        return _act_backward(act, z, a, dEda)[0], dEda, rule

    if isinstance(loss_fn, nnloss.MSELoss):
        c = 1.0 if loss_fn.half else 2.0
        s = 1.0 / a.size if red == "mean" else 1.0
        y = y.astype(a.dtype).reshape(a.shape)
        cs = "" if c == 1 else "2 "
        div = f" / {a.size}" if red == "mean" else ""
        rule = _par(f"{cs}(a(L) - y) * f'(z(L))", div)
        return elementwise(c * s * (a - y), f"delta(L) = {rule}   [squared error"
                                            f"{' 1/2' if c == 1 else ''}]")
    if isinstance(loss_fn, nnloss.BCELoss) and loss_fn.weight is None:
        s = 1.0 / a.size if red == "mean" else 1.0
        y = y.astype(a.dtype).reshape(a.shape)
        div = f" / {a.size}" if red == "mean" else ""
        if k == "sigmoid":
            return s * (a - y), None, (f"delta(L) = {_par('a(L) - y', div)}   [sigmoid + binary "
                                          f"cross-entropy: f' cancels]")
        return elementwise(s * (a - y) / (a * (1 - a)),
                           f"delta(L) = {_par('(a - y) / (a (1 - a)) * f(z(L))', div)}   [binary "
                           f"cross-entropy]")
    if (isinstance(loss_fn, nnloss.BCEWithLogitsLoss) and act is None
            and loss_fn.weight is None and getattr(loss_fn, "pos_weight", None) is None):
        s = 1.0 / a.size if red == "mean" else 1.0
        y = y.astype(a.dtype).reshape(a.shape)
        div = f" / {a.size}" if red == "mean" else ""
        return (s * (1 / (1 + np.exp(-z)) - y), None,
                f"delta(L) = {_par('sigmoid(z(L)) - y', div)}   [sigmoid folded into the cross-entropy]")
    if (isinstance(loss_fn, nnloss.CrossEntropyLoss) and act is None and z.ndim == 2
            and loss_fn.weight is None and not loss_fn.label_smoothing):
        Y = _onehot_targets(y, z, loss_fn.ignore_index)
        if Y is not None:
            s = 1.0 / N if red == "mean" else 1.0
            div = f" / {N}" if red == "mean" else ""
            return (s * (_softmax(z) - Y), None,
                    f"delta(L) = {_par('softmax(z(L)) - y', div)}   [softmax folded into the "
                    f"cross-entropy]")
    if (isinstance(loss_fn, nnloss.NLLLoss) and k == "logsoftmax" and loss_fn.weight is None
            and y.dtype.kind in "iu" and not (y == loss_fn.ignore_index).any()):
        Y = _onehot_targets(y, z)
        s = 1.0 / N if red == "mean" else 1.0
        div = f" / {N}" if red == "mean" else ""
        return (s * (_softmax(z) - Y), None,
                f"delta(L) = {_par('softmax(z(L)) - y', div)}   [log-softmax + NLL]")
    # any other loss: its gradient with respect to the output, from autograd
    g = L["a"].grad
    if g is None:
        raise ValueError("trace: the loss did not depend on the model's output")
    return elementwise(g.data.copy(), f"delta(L) = dE/da(L) * f'(z(L)), dE/da(L) of "
                                      f"{type(loss_fn).__name__} from autograd")


def _grad(t):
    return None if t is None or t.grad is None else t.grad.data.copy()


# ------------------------------------------------------------------ trace
def trace(model, x, target, loss, lr=None, dtype=np.float64) -> Trace:
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
    ...                      nn.MSELoss(reduction="sum", half=True), lr=0.5)
    >>> print(t)
    """
    loss_fn = nnloss.get_loss(loss) if isinstance(loss, str) else loss
    if not callable(loss_fn):
        raise TypeError(f"trace: loss must be a loss module, a callable or a name, got "
                        f"{type(loss).__name__}")
    dtype = np.dtype(dtype)
    m = float64_copy(model) if dtype == np.float64 else float64_copy(model).to_dtype(dtype)
    xa = np.array(to_numpy(x), dtype=dtype)
    if xa.ndim == 1:
        xa = xa[None, :]
    xt = Tensor(xa, requires_grad=True)
    y = to_numpy(target)
    if y.dtype.kind == "f":
        y = y.astype(dtype)
    pnames = {id(p): n for n, p in m.named_parameters()}
    nodes = []

    rec = CallRecorder(m, retain=True)
    with rec:
        out = m(xt)
        if not isinstance(out, Tensor):
            raise TypeError(f"trace: the model returned {type(out).__name__}; it must return "
                            f"one Tensor")
        out.retain_grad()
        # a Tensor keeps the float64 target (Module.__call__ would cast an array to float32)
        E = loss_fn(out, Tensor(y) if y.dtype.kind == "f" else y)
        if E.data.size != 1:
            raise ValueError(f"trace: the loss must be a scalar, got shape {E.shape}")
        module_of = {id(o._ctx): n for n, _, _, o in rec.calls
                     if isinstance(o, Tensor) and o._ctx is not None}

        def hook(fn, gouts, gins):
            names = []
            for i, t in enumerate(fn.inputs):
                if t is None:
                    names.append(f"input{i}")
                elif id(t) in pnames:
                    names.append(pnames[id(t)])
                elif t is xt:
                    names.append("x")
                else:
                    names.append(f"({t._ctx.name if t._ctx else 'leaf'} output)")
            nodes.append({"function": fn.name, "module": module_of.get(id(fn), ""),
                          "output_shape": tuple(fn.output_shapes[0]),
                          "upstream": None if gouts[0] is None else np.array(gouts[0]),
                          "grads_in": [None if g is None else np.array(g) for g in gins],
                          "input_names": names})
        with backward_hooks(hook):
            E.backward()
    layers, reason = _feed_forward(rec.calls, xt, out)
    N = xa.shape[0]
    Evalue = float(E.data)
    title = (f"Backprop trace of {type(model).__name__} ({dtype.name}, batch of {N}), loss "
             f"{loss_fn!r}")
    records = [{"kind": "loss", "step": 0, "E": Evalue, "loss": repr(loss_fn)}]
    updated = {}
    rules = []
    if layers is not None:
        layers, rules = _delta_form(layers, loss_fn, y)
        step = 1
        for li in range(len(layers), 0, -1):
            L = layers[li - 1]
            for j in range(L["z"].shape[1]):
                records.append({"kind": "unit", "step": step, "layer": li, "unit": j,
                                "module": L["module"], "z": _val(L["z"][:, j]),
                                "a": _val(L["a"][:, j]), "dE_da": _val(L["dE_da"][:, j]),
                                "f_prime": _val(L["f_prime"][:, j]),
                                "delta": _val(L["delta"][:, j]),
                                "delta_autograd": _val(L["delta_autograd"][:, j])})
                step += 1
            W, gW = L["W"], L["grad_W"]
            for (j, i), w in np.ndenumerate(W):
                records.append({"kind": "weight", "step": step, "layer": li,
                                "param": f"{L['module']}.weight", "index": (j, i),
                                "label": f"W({li})[{j + 1},{i + 1}]", "value": float(w),
                                "grad": float(gW[j, i]),
                                "grad_autograd": float(L["grad_W_autograd"][j, i]),
                                "updated": None if lr is None else float(w - lr * gW[j, i])})
                step += 1
            if L["b"] is not None:
                for j, b in enumerate(L["b"]):
                    records.append({"kind": "bias", "step": step, "layer": li,
                                    "param": f"{L['module']}.bias", "index": (j,),
                                    "label": f"b({li})[{j + 1}]", "value": float(b),
                                    "grad": float(L["grad_b"][j]),
                                    "grad_autograd": float(L["grad_b_autograd"][j]),
                                    "updated": None if lr is None else
                                    float(b - lr * L["grad_b"][j])})
                    step += 1
        rules.append("units and weights numbered from 1; W(l)[j,i] connects unit i of "
                     "layer l-1 to unit j of layer l")
    else:
        step = 1
        for nd in nodes:
            records.append(dict(nd, kind="node", step=step))
            step += 1
    for name, p in m.named_parameters():
        g = _grad(p)
        if lr is not None and g is not None:
            updated[name] = p.data - lr * g
        if layers is None:
            records.append({"kind": "param", "step": step, "name": name,
                            "value": p.data.copy(), "grad": g,
                            "updated": updated.get(name)})
            step += 1
    if lr is not None:
        rules.append(f"updated weight: w - lr * dE/dw with lr = {lr}")
    t = Trace(records, layers, nodes, Evalue, rules, title, lr, reason, N)
    t._updated = updated
    return t


def _delta_form(raw, loss_fn, y):
    """The explicit delta form over the grouped layers, beside autograd's values."""
    layers = []
    for r in raw:
        lin = r["linear"]
        act = r["act"]
        layers.append({
            "module": r["module"], "linear": lin, "act": act,
            "activation": type(act).__name__ if act is not None else None,
            "W": lin.weight.data.copy(),
            "b": None if lin.bias is None else lin.bias.data.copy(),
            "input": r["input"].data.copy(), "z": r["z"], "a": r["a"],
            "delta_autograd": _grad(r["z"]),
            "dE_da_autograd": _grad(r["a"]),
            "grad_W_autograd": _grad(lin.weight),
            "grad_b_autograd": None if lin.bias is None else _grad(lin.bias),
        })
    nl = len(layers)
    out = layers[-1]
    delta, dEda, rule = _output_delta(out, loss_fn, y)
    rules = [rule]
    z, a, act = out["z"].data, out["a"].data, out["act"]
    if act is None:
        fp, how = np.ones_like(z), "1"
    elif kind(act) in ("softmax", "logsoftmax"):
        fp, how = np.full_like(z, np.nan), "(not elementwise)"
    else:
        fp, how = activation_derivative(act, z, a)
    if dEda is None:   # a rule where f' cancels: dE/da for the table, from autograd
        dEda = delta if act is None else _grad(out["a"])
    out.update(delta=delta, dE_da=dEda, f_prime=fp, f_prime_rule=how)
    if nl > 1:
        rules.append("delta(l) = (W(l+1)^T delta(l+1)) * f'(z(l))   [hidden layers]")
    rules.append("dE/dW(l) = delta(l) a(l-1)^T (summed over the batch),  dE/db(l) = delta(l)")
    for li in range(nl - 2, -1, -1):
        L, above = layers[li], layers[li + 1]
        g = above["delta"] @ above["W"]
        d, fpl, how = _act_backward(L["act"], L["z"].data, L["a"].data, g)
        L.update(delta=d, dE_da=g, f_prime=fpl if fpl is not None else
                 np.full_like(d, np.nan), f_prime_rule=how)
    for L in layers:
        L["grad_W"] = L["delta"].T @ L["input"]
        L["grad_b"] = None if L["b"] is None else L["delta"].sum(0)
        L["z"], L["a"] = L["z"].data.copy(), L["a"].data.copy()
        if L["dE_da"] is None:
            L["dE_da"] = np.full_like(L["z"], np.nan)
        if L["act"] is None:
            L["dE_da_autograd"] = L["delta_autograd"]
    return layers, rules
