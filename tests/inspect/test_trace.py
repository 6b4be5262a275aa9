"""Backprop trace: a published hand-worked example to 8 decimals, and the delta form
against autograd for random MLPs of several depths, activations and losses."""
import numpy as np
import pytest

import glassnet as gn
import glassnet.inspect as ins
from glassnet import nn


def mazur_net():
    # Matt Mazur, "A Step by Step Backpropagation Example" (2015),
    # https://mattmazur.com/2015/03/17/a-step-by-step-backpropagation-example/
    # 2-2-2 sigmoid net; w1..w4 input->hidden, w5..w8 hidden->output; b1 = .35, b2 = .60
    m = nn.Sequential(nn.Linear(2, 2, dtype="float64"), nn.Sigmoid(),
                      nn.Linear(2, 2, dtype="float64"), nn.Sigmoid())
    m[0].weight.numpy()[...] = [[0.15, 0.20], [0.25, 0.30]]   # h1 <- (w1, w2), h2 <- (w3, w4)
    m[0].bias.numpy()[...] = 0.35
    m[2].weight.numpy()[...] = [[0.40, 0.45], [0.50, 0.55]]   # o1 <- (w5, w6), o2 <- (w7, w8)
    m[2].bias.numpy()[...] = 0.60
    return m


def test_mazur_example_to_8_decimals():
    model = mazur_net()
    # E_total = sum 1/2 (target - out)^2, one SGD step with learning rate 0.5
    t = ins.trace(model, [[0.05, 0.10]], [[0.01, 0.99]],
                  nn.MSELoss(reduction="sum", half=True), lr=0.5)
    assert round(t.loss, 9) == 0.298371109
    up = {r["label"]: r["updated"] for r in t.records if r["kind"] == "weight"}
    published = {"W(2)[1,1]": 0.35891648, "W(2)[1,2]": 0.408666186,   # w5, w6
                 "W(2)[2,1]": 0.511301270, "W(2)[2,2]": 0.561370121,  # w7, w8
                 "W(1)[1,1]": 0.149780716, "W(1)[1,2]": 0.19956143,   # w1, w2
                 "W(1)[2,1]": 0.24975114, "W(1)[2,2]": 0.29950229}    # w3, w4
    for k, v in published.items():
        assert round(up[k], 8) == round(v, 8), k
    # intermediate values of the walk-through
    o1 = t.find(kind="unit", layer=2, unit=0)[0]
    assert round(o1["a"], 9) == 0.751365070
    assert round(o1["dE_da"], 9) == 0.741365070
    assert round(o1["f_prime"], 9) == 0.186815602
    h1 = t.find(kind="unit", layer=1, unit=0)[0]
    assert round(h1["a"], 9) == 0.593269992
    assert round(t.find(kind="weight", layer=2, index=(0, 0))[0]["grad"], 9) == 0.082167041
    t.check()
    # backprop order: output layer units first, then its weights, then the hidden layer
    kinds = [(r["kind"], r.get("layer")) for r in t.records]
    assert kinds[0] == ("loss", None)
    assert kinds.index(("unit", 1)) > kinds.index(("weight", 2))
    assert [r["step"] for r in t.records] == list(range(len(t.records)))
    text = str(t)
    assert "0.35891648" in text and "0.14978072" in text and "E = 0.29837111" in text
    # the model itself is untouched
    assert model[0].weight.grad is None
    assert model[2].weight.numpy()[0, 0] == 0.40
    assert np.allclose(t.updated()["2.weight"], [[0.35891648, 0.40866619],
                                                 [0.51130127, 0.56137012]], atol=1e-8)


CASES = [
    (2, "sigmoid", "mse"), (3, "tanh", "ce"), (4, "relu", "ce"), (5, "leaky_relu", "mse"),
    (3, "elu", "bce_logits"), (3, "softplus", "ce"), (2, "sigmoid", "bce"),
    (3, "selu", "l1"), (4, "softsign", "mse_half"),
]


@pytest.mark.parametrize("depth,act,lossname", CASES)
def test_delta_form_equals_autograd(depth, act, lossname):
    rng = np.random.default_rng(depth)
    sizes = [5] + [int(s) for s in rng.integers(3, 8, depth - 1)]
    n_out = 1 if lossname in ("bce", "bce_logits") else 4
    mods = []
    for a, b in zip(sizes, sizes[1:] + [n_out]):
        mods += [nn.Linear(a, b), nn.get_activation(act)]
    if lossname == "ce" or lossname == "bce_logits":
        mods = mods[:-1]                       # logits out
    elif lossname == "bce":
        mods[-1] = nn.Sigmoid()
    model = nn.Sequential(*mods)
    X = rng.normal(size=(6, 5))
    if lossname == "ce":
        y, loss = rng.integers(0, n_out, 6), nn.CrossEntropyLoss()
    elif lossname in ("bce", "bce_logits"):
        y = rng.integers(0, 2, (6, 1)).astype(float)
        loss = nn.BCELoss() if lossname == "bce" else nn.BCEWithLogitsLoss(reduction="sum")
    else:
        y = rng.normal(size=(6, n_out))
        loss = {"mse": nn.MSELoss(), "mse_half": nn.MSELoss(reduction="sum", half=True),
                "l1": nn.L1Loss()}[lossname]
    t = ins.trace(model, X, y, loss, lr=0.1)
    assert t.feed_forward
    assert len(t.layers) == depth
    worst = t.check()
    assert set(worst) >= {"delta", "grad_W", "grad_b"}
    # and against the user's own (float32) model's autograd
    out = model(gn.tensor(X))
    loss(out, y).backward()
    for L in t.layers:
        user_w = dict(model.named_parameters())[L["module"] + ".weight"]
        assert np.allclose(L["grad_W"], user_w.grad.numpy(), rtol=1e-3, atol=1e-5)
        assert L["linear"].weight is not user_w  # a copy was traced
    if lossname == "bce":
        assert "a(L) - y" in t.rules[0]
    if lossname == "ce":
        assert "softmax(z(L)) - y" in t.rules[0]
    if lossname == "l1":
        assert "autograd" in t.rules[0]


def test_check_catches_a_wrong_delta():
    t = ins.trace(mazur_net(), [[0.05, 0.10]], [[0.01, 0.99]],
                  nn.MSELoss(reduction="sum", half=True))
    t.layers[0]["delta"] = t.layers[0]["delta"] * 1.01
    with pytest.raises(AssertionError, match="layer 1"):
        t.check()


def test_trace_of_a_conv_net_lists_autograd_nodes():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4, 3))
    x = np.random.default_rng(0).normal(size=(2, 1, 4, 3))
    t = ins.trace(model, x, np.array([0, 2]), nn.CrossEntropyLoss(), lr=0.1)
    assert not t.feed_forward
    fns = [r["function"] for r in t.records if r["kind"] == "node"]
    assert fns[0] == "CrossEntropy" and "Conv" in fns[-1]
    params = {r["name"]: r for r in t.records if r["kind"] == "param"}
    assert set(params) == {"0.weight", "0.bias", "3.weight", "3.bias"}
    assert np.allclose(params["0.weight"]["updated"],
                       params["0.weight"]["value"] - 0.1 * params["0.weight"]["grad"])
    assert "autograd nodes" in str(t)
    with pytest.raises(ValueError, match="feed-forward"):
        t.check()


def test_trace_accepts_a_loss_name_and_rejects_nonscalar():
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
    t = ins.trace(model, np.ones((1, 3)), np.zeros((1, 2)), "mse")
    assert t.check()["delta"] < 1e-12
    with pytest.raises(ValueError, match="scalar"):
        ins.trace(model, np.ones((1, 3)), np.zeros((1, 2)), nn.MSELoss(reduction="none"))


# ------------------------------------------------------- pinned text and records
# The tables below were printed by the code before its restructuring (issue 13); the
# trace must keep printing exactly these lines.
MAZUR_TABLE = [
    "Backprop trace of Sequential (float64, batch of 1), loss MSELoss(reduction='sum', half=True)",
    'E = 0.29837111',
    'formulas:',
    "  delta(L) = (a(L) - y) * f'(z(L))   [squared error 1/2]",
    "  delta(l) = (W(l+1)^T delta(l+1)) * f'(z(l))   [hidden layers]",
    '  dE/dW(l) = delta(l) a(l-1)^T (summed over the batch),  dE/db(l) = delta(l)',
    '  units and weights numbered from 1; W(l)[j,i] connects unit i of layer l-1 to unit j of layer l',
    '  updated weight: w - lr * dE/dw with lr = 0.5',
    '',
    "layer 2 (output): Linear '2' 2 -> 2, Sigmoid, f'(z) = a(1 - a)",
    ' step  unit sample            z            a        dE/da   f_prime(z)  delta=dE/dz',
    '    1     1      0   1.10590597   0.75136507   0.74136507   0.18681560   0.13849856',
    '    2     2      0   1.22492140   0.77292847  -0.21707153   0.17551005  -0.03809824',
    ' step         weight            w        dE/dw   w - lr*dE/dw',
    '    3      W(2)[1,1]   0.40000000   0.08216704     0.35891648',
    '    4      W(2)[1,2]   0.45000000   0.08266763     0.40866619',
    '    5      W(2)[2,1]   0.50000000  -0.02260254     0.51130127',
    '    6      W(2)[2,2]   0.55000000  -0.02274024     0.56137012',
    '    7        b(2)[1]   0.60000000   0.13849856     0.53075072',
    '    8        b(2)[2]   0.60000000  -0.03809824     0.61904912',
    '',
    "layer 1 (hidden): Linear '0' 2 -> 2, Sigmoid, f'(z) = a(1 - a)",
    ' step  unit sample            z            a        dE/da   f_prime(z)  delta=dE/dz',
    '    9     1      0   0.37750000   0.59326999   0.03635031   0.24130071   0.00877135',
    '   10     2      0   0.39250000   0.59688438   0.04137032   0.24061342   0.00995425',
    ' step         weight            w        dE/dw   w - lr*dE/dw',
    '   11      W(1)[1,1]   0.15000000   0.00043857     0.14978072',
    '   12      W(1)[1,2]   0.20000000   0.00087714     0.19956143',
    '   13      W(1)[2,1]   0.25000000   0.00049771     0.24975114',
    '   14      W(1)[2,2]   0.30000000   0.00099543     0.29950229',
    '   15        b(1)[1]   0.35000000   0.00877135     0.34561432',
    '   16        b(1)[2]   0.35000000   0.00995425     0.34502287',
]
MAZUR_SHORT = [
    "Backprop trace of Sequential (float64, batch of 1), loss MSELoss(reduction='sum', half=True)",
    'E = 0.29837111',
    'formulas:',
    "  delta(L) = (a(L) - y) * f'(z(L))   [squared error 1/2]",
    "  delta(l) = (W(l+1)^T delta(l+1)) * f'(z(l))   [hidden layers]",
    '  dE/dW(l) = delta(l) a(l-1)^T (summed over the batch),  dE/db(l) = delta(l)',
    '  units and weights numbered from 1; W(l)[j,i] connects unit i of layer l-1 to unit j of layer l',
    '  updated weight: w - lr * dE/dw with lr = 0.5',
    '',
    "layer 2 (output): Linear '2' 2 -> 2, Sigmoid, f'(z) = a(1 - a)",
    ' step  unit sample            z            a        dE/da   f_prime(z)  delta=dE/dz',
    '    1     1      0   1.10590597   0.75136507   0.74136507   0.18681560   0.13849856',
    '  ... 1 more units (see .records)',
    ' step         weight            w        dE/dw   w - lr*dE/dw',
    '    3      W(2)[1,1]   0.40000000   0.08216704     0.35891648',
    '    4      W(2)[1,2]   0.45000000   0.08266763     0.40866619',
    '  ... 4 more weights (see .records)',
    '',
    "layer 1 (hidden): Linear '0' 2 -> 2, Sigmoid, f'(z) = a(1 - a)",
    ' step  unit sample            z            a        dE/da   f_prime(z)  delta=dE/dz',
    '    9     1      0   0.37750000   0.59326999   0.03635031   0.24130071   0.00877135',
    '  ... 1 more units (see .records)',
    ' step         weight            w        dE/dw   w - lr*dE/dw',
    '   11      W(1)[1,1]   0.15000000   0.00043857     0.14978072',
    '   12      W(1)[1,2]   0.20000000   0.00087714     0.19956143',
    '  ... 4 more weights (see .records)',
]
NODE_TABLE = [
    "Backprop trace of Sequential (float64, batch of 1), loss CrossEntropyLoss(reduction='mean')",
    'E = 1.66388554',
    'formulas:',
    '  updated weight: w - lr * dE/dw with lr = 0.1',
    "(not a plain feed-forward net: activation '0' comes before any Linear layer; showing autograd nodes)",
    ' step node                         output shape   upstream dE/d(output)',
    '    1 CrossEntropy                 ()             [1.00000000]',
    '        -> dE/d(Linear output): [0.81059838 -0.81059838]',
    '    2 Linear (1)                   (1, 2)         [0.81059838 -0.81059838]',
    '        -> dE/d(Tanh output): [0.40529919 -0.72953854 0.28370943]',
    '        -> dE/d1.weight: |6 values| norm 1.50471476',
    '        -> dE/d1.bias: [0.81059838 -0.81059838]',
    '    3 Tanh (0)                     (1, 3)         [0.40529919 -0.72953854 0.28370943]',
    '        -> dE/dx: [0.31874663 -0.30638747 0.02004431]',
    'parameters:',
    '    4 1.weight                     dE/dw |6 values| norm 1.50471476  updated |6 values| norm 0.88422809',
    '    5 1.bias                       dE/dw [0.81059838 -0.81059838]  updated [0.01894016 -0.01894016]',
]
BATCH_TABLE = [
    "Backprop trace of Sequential (float64, batch of 4), loss MSELoss(reduction='mean')",
    'E = 0.76536628',
    'formulas:',
    "  delta(L) = (2 (a(L) - y) * f'(z(L))) / 4   [squared error]",
    '  dE/dW(l) = delta(l) a(l-1)^T (summed over the batch),  dE/db(l) = delta(l)',
    '  units and weights numbered from 1; W(l)[j,i] connects unit i of layer l-1 to unit j of layer l',
    '',
    "layer 1 (output): Linear '0' 2 -> 1, Tanh, f'(z) = 1 - a^2",
    ' step  unit sample            z            a        dE/da   f_prime(z)  delta=dE/dz',
    '    1     1      0  -0.90000000  -0.71629787  -0.60814894   0.48691736  -0.29611827',
    '    1     1      1   1.05000000   0.78180636   0.39090318   0.38877882   0.15197488',
    '    1     1      2  -0.10000000  -0.09966799   0.20016600   0.99006629   0.19817761',
    '  (first 3 of 4 samples shown)',
    ' step         weight            w        dE/dw ',
    '    2      W(1)[1,1]   0.30000000  -1.30969682 ',
    '    3      W(1)[1,2]  -0.70000000  -1.18990561 ',
    '    4        b(1)[1]   0.20000000  -0.39165997 ',
]


def test_mazur_table_is_pinned():
    t = ins.trace(mazur_net(), [[0.05, 0.10]], [[0.01, 0.99]],
                  nn.MSELoss(reduction="sum", half=True), lr=0.5)
    assert str(t).split("\n") == MAZUR_TABLE
    assert t.table(max_units=1, max_weights=2).split("\n") == MAZUR_SHORT
    assert repr(t) == "<Trace 17 records, E=0.29837111, feed-forward>"


def test_record_fields_and_steps_are_pinned():
    t = ins.trace(mazur_net(), [[0.05, 0.10]], [[0.01, 0.99]],
                  nn.MSELoss(reduction="sum", half=True), lr=0.5)
    fields = {r["kind"]: list(r) for r in t.records}
    assert fields == {
        "loss": ["kind", "step", "E", "loss"],
        "unit": ["kind", "step", "layer", "unit", "module", "z", "a", "dE_da", "f_prime",
                 "delta", "delta_autograd"],
        "weight": ["kind", "step", "layer", "param", "index", "label", "value", "grad",
                   "grad_autograd", "updated"],
        "bias": ["kind", "step", "layer", "param", "index", "label", "value", "grad",
                 "grad_autograd", "updated"]}
    b = t.find(kind="bias", layer=1)[1]
    assert (b["step"], b["param"], b["index"], b["label"]) == (16, "0.bias", (1,), "b(1)[2]")
    assert b["updated"] == b["value"] - 0.5 * b["grad"]
    w = t.find(kind="weight", layer=2, index=(1, 0))[0]
    assert (w["step"], w["param"], w["label"]) == (5, "2.weight", "W(2)[2,1]")
    assert type(w["index"][0]) is int and type(w["value"]) is float


def _tanh_first():
    model = nn.Sequential(nn.Tanh(), nn.Linear(3, 2)).double()
    model[1].weight.numpy()[...] = [[0.2, -0.4, 0.6], [-0.3, 0.5, 0.25]]
    model[1].bias.numpy()[...] = [0.1, -0.1]
    return model


def test_node_table_is_pinned():
    t = ins.trace(_tanh_first(), [[0.5, -1.0, 2.0]], np.array([1]), nn.CrossEntropyLoss(),
                  lr=0.1)
    assert str(t).split("\n") == NODE_TABLE
    nodes = [r for r in t.records if r["kind"] == "node"]
    assert list(nodes[0]) == ["function", "module", "output_shape", "upstream", "grads_in",
                              "input_names", "kind", "step"]
    assert nodes[1]["input_names"] == ["(Tanh output)", "1.weight", "1.bias"]
    assert nodes[2]["input_names"] == ["x"]
    params = [r for r in t.records if r["kind"] == "param"]
    assert list(params[0]) == ["kind", "step", "name", "value", "grad", "updated"]
    assert params[1]["updated"] is t.updated()["1.bias"]
    assert [r["step"] for r in t.records] == list(range(6))


def test_batch_table_shows_the_first_samples():
    model = nn.Sequential(nn.Linear(2, 1), nn.Tanh()).double()
    model[0].weight.numpy()[...] = [[0.3, -0.7]]
    model[0].bias.numpy()[...] = 0.2
    t = ins.trace(model, [[1.0, 2.0], [0.5, -1.0], [-1.0, 0.0], [2.0, 1.0]],
                  [[0.5], [0.0], [-0.5], [1.0]], nn.MSELoss())
    assert str(t).split("\n") == BATCH_TABLE
    u = t.find(kind="unit")[0]
    assert u["z"].shape == (4,) and t.n_samples == 4
    with pytest.raises(ValueError, match="give lr"):
        t.updated()


class _Cube(nn.Module):
    def forward(self, x):
        return x * x * x


class _Sig(nn.Module):
    """A sigmoid the inspector does not know: its f' comes from autograd."""

    def forward(self, x):
        return 1.0 / (1.0 + (x * -1.0).exp())


RULES = {
    "mse": "delta(L) = (2 (a(L) - y) * f'(z(L))) / 15   [squared error]",
    "mse_sum_half": "delta(L) = (a(L) - y) * f'(z(L))   [squared error 1/2]",
    "bce_sigmoid": "delta(L) = (a(L) - y) / 5   [sigmoid + binary cross-entropy: f' cancels]",
    "bce_sigmoid_sum": "delta(L) = a(L) - y   [sigmoid + binary cross-entropy: f' cancels]",
    "bce_other": "delta(L) = ((a - y) / (a (1 - a)) * f(z(L))) / 5   [binary cross-entropy]",
    "bce_logits": "delta(L) = (sigmoid(z(L)) - y) / 5   [sigmoid folded into the cross-entropy]",
    "ce": "delta(L) = (softmax(z(L)) - y) / 5   [softmax folded into the cross-entropy]",
    "ce_sum": "delta(L) = softmax(z(L)) - y   [softmax folded into the cross-entropy]",
    "nll": "delta(L) = (softmax(z(L)) - y) / 5   [log-softmax + NLL]",
    "l1_cube": "delta(L) = dE/da(L) * f'(z(L)), dE/da(L) of L1Loss from autograd",
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_output_rule_of_each_loss_is_pinned(name):
    X = np.linspace(-1, 1, 15).reshape(5, 3)
    cls, b, real = np.array([0, 2, 1, 2, 0]), np.array([[1.0], [0.0], [1.0], [1.0], [0.0]]), X * 0.5
    last, n_out, y, loss = {
        "mse": (None, 3, real, nn.MSELoss()),
        "mse_sum_half": (nn.Sigmoid(), 3, real, nn.MSELoss(reduction="sum", half=True)),
        "bce_sigmoid": (nn.Sigmoid(), 1, b, nn.BCELoss()),
        "bce_sigmoid_sum": (nn.Sigmoid(), 1, b, nn.BCELoss(reduction="sum")),
        "bce_other": (_Sig(), 1, b, nn.BCELoss()),
        "bce_logits": (None, 1, b, nn.BCEWithLogitsLoss()),
        "ce": (None, 3, cls, nn.CrossEntropyLoss()),
        "ce_sum": (None, 3, cls, nn.CrossEntropyLoss(reduction="sum")),
        "nll": (nn.LogSoftmax(dim=-1), 3, cls, nn.NLLLoss()),
        "l1_cube": (_Cube(), 3, real, nn.L1Loss()),
    }[name]
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, n_out),
                          *([last] if last is not None else [])).double()
    t = ins.trace(model, X, y, loss)
    assert t.rules[0] == RULES[name]
    assert t.check()["grad_W"] < 1e-12
    if name == "bce_other":
        assert t.layers[-1]["f_prime_rule"] == "autograd"


def test_trace_error_messages():
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
    with pytest.raises(TypeError, match="trace: loss must be a loss module, a callable or a "
                                        "name, got int"):
        ins.trace(model, np.ones((1, 3)), np.zeros((1, 2)), 3)

    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x):
            return self.lin(x), x

    with pytest.raises(TypeError, match="the model returned tuple; it must return one Tensor"):
        ins.trace(Pair(), np.ones((1, 3)), np.zeros((1, 2)), "mse")
