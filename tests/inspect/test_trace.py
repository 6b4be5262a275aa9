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
    m[0].weight.data[...] = [[0.15, 0.20], [0.25, 0.30]]   # h1 <- (w1, w2), h2 <- (w3, w4)
    m[0].bias.data[...] = 0.35
    m[2].weight.data[...] = [[0.40, 0.45], [0.50, 0.55]]   # o1 <- (w5, w6), o2 <- (w7, w8)
    m[2].bias.data[...] = 0.60
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
    assert model[2].weight.data[0, 0] == 0.40
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
        assert np.allclose(L["grad_W"], user_w.grad.data, rtol=1e-3, atol=1e-5)
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
