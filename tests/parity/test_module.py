"""``nn.Module``'s API against PyTorch's (issue 14): traversal order and names, hooks,
state_dict / load_state_dict (keys, values, errors, the returned named tuple), modes,
casting and devices, repr. Each test builds the same model in both libraries."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn

from ._compare import TORCH_REASON, assert_same

torch = pytest.importorskip("torch", reason=TORCH_REASON)
tnn = torch.nn


def _net(lib):
    m = lib.nn

    class Net(m.Module):
        def __init__(self):
            super().__init__()
            self.conv = m.Conv2d(1, 2, 3)
            self.bn = m.BatchNorm2d(2)
            self.body = m.Sequential(m.Linear(8, 4), m.ReLU(), m.Sequential(m.Linear(4, 3)))
            self.heads = m.ModuleList([m.Linear(3, 2), m.Linear(3, 1)])
            self.register_buffer("steps", lib.zeros(3))
            self.register_buffer("scratch", lib.ones(2), persistent=False)

        def forward(self, x):
            return x
    return Net()


def _names(it):
    return [n for n, _ in it]


G, T = _net(gn), _net(torch)


@pytest.mark.parametrize("what", [
    lambda m: _names(m.named_modules()),
    lambda m: _names(m.named_modules(prefix="model")),
    lambda m: _names(m.named_children()),
    lambda m: _names(m.named_parameters()),
    lambda m: _names(m.named_parameters(prefix="p")),
    lambda m: _names(m.named_parameters(recurse=False)),
    lambda m: _names(m.body.named_parameters()),
    lambda m: _names(m.named_buffers()),
    lambda m: _names(m.named_buffers(recurse=False)),
    lambda m: list(m.state_dict()),
    lambda m: list(m.state_dict(prefix="net.")),
    lambda m: [type(c).__name__ for c in m.children()],
    lambda m: [type(c).__name__ for c in m.modules()],
    lambda m: len(list(m.parameters())),
    lambda m: len(list(m.buffers())),
    lambda m: [tuple(p.shape) for p in m.parameters()],
    lambda m: type(m.get_submodule("body.2.0")).__name__,
    lambda m: tuple(m.get_parameter("body.0.weight").shape),
    lambda m: tuple(m.get_buffer("bn.running_mean").shape),
    lambda m: "conv" in dir(m) and "steps" in dir(m),
], ids=[f"traversal{i}" for i in range(20)])
def test_traversal_matches_torch(what):
    assert what(G) == what(T)


def test_apply_visits_children_before_the_module():
    seen_g, seen_t = [], []
    G.apply(lambda m: seen_g.append(type(m).__name__))
    T.apply(lambda m: seen_t.append(type(m).__name__))
    assert seen_g == seen_t
    assert seen_g[-1] == "Net"


def test_apply_initialises_weights_the_tutorial_way():
    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)
            nn.init.zeros_(m.bias)
    m = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Linear(3, 1))).apply(init)
    assert all(np.all(p.numpy() == 0.5) for n, p in m.named_parameters() if "weight" in n)


def test_shared_module_and_parameter_are_listed_once():
    def build(m):
        shared = m.Linear(2, 2)
        return m.Sequential(shared, m.ReLU(), shared)
    g, t = build(nn), build(tnn)
    assert _names(g.named_modules()) == _names(t.named_modules())
    assert _names(g.named_parameters()) == _names(t.named_parameters())
    assert (_names(g.named_modules(remove_duplicate=False))
            == _names(t.named_modules(remove_duplicate=False)))
    assert (_names(g.named_parameters(remove_duplicate=False))
            == _names(t.named_parameters(remove_duplicate=False)))
    assert list(g.state_dict()) == list(t.state_dict())


def test_state_dict_values_are_tensors_sharing_memory():
    m = nn.Linear(2, 3)
    sd = m.state_dict()
    assert isinstance(sd["weight"], gn.Tensor) and not sd["weight"].requires_grad
    sd["weight"].numpy()[...] = 7.0
    assert np.all(m.weight.numpy() == 7.0)
    kv = m.state_dict(keep_vars=True)
    assert kv["weight"] is m.weight


def test_non_persistent_buffer_is_not_saved_but_is_a_buffer():
    assert "scratch" not in G.state_dict() and "scratch" not in T.state_dict()
    assert "scratch" in _names(G.named_buffers())


def test_load_a_torch_state_dict_and_back():
    tm = tnn.Sequential(tnn.Conv2d(1, 2, 3), tnn.BatchNorm2d(2), tnn.Flatten(),
                        tnn.Linear(8, 3))
    gm = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    tm.train()
    tm(torch.randn(4, 1, 4, 4))        # running statistics move
    r = gm.load_state_dict(tm.state_dict())
    assert repr(r) == "<All keys matched successfully>"
    assert r.missing_keys == [] and r.unexpected_keys == []
    for k, v in gm.state_dict().items():
        np.testing.assert_allclose(v.numpy(), tm.state_dict()[k].numpy(), rtol=1e-6)
    back = tnn.Sequential(tnn.Conv2d(1, 2, 3), tnn.BatchNorm2d(2), tnn.Flatten(),
                          tnn.Linear(8, 3))
    back.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                          for k, v in gm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32)
    gm.eval(), back.eval()
    assert_same(gm(gn.tensor(x)), back(torch.tensor(x)), rtol=1e-5, atol=1e-5)


def test_load_state_dict_strict_errors_have_torchs_text():
    a_g, a_t = nn.Linear(3, 2), tnn.Linear(3, 2)
    msgs = []
    for dst, src in ((nn.Sequential(nn.Linear(3, 2)), a_g.state_dict()),
                     (tnn.Sequential(tnn.Linear(3, 2)), a_t.state_dict())):
        with pytest.raises(RuntimeError) as e:
            dst.load_state_dict(src)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_load_state_dict_size_mismatch_has_torchs_text():
    msgs = []
    for dst, src in ((nn.Linear(3, 4), nn.Linear(3, 2).state_dict()),
                     (tnn.Linear(3, 4), tnn.Linear(3, 2).state_dict())):
        with pytest.raises(RuntimeError) as e:
            dst.load_state_dict(src, strict=False)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_load_state_dict_non_strict_returns_the_named_tuple():
    rg = nn.Sequential(nn.Linear(3, 2)).load_state_dict(nn.Linear(3, 2).state_dict(),
                                                        strict=False)
    rt = tnn.Sequential(tnn.Linear(3, 2)).load_state_dict(tnn.Linear(3, 2).state_dict(),
                                                          strict=False)
    assert rg.missing_keys == rt.missing_keys and rg.unexpected_keys == rt.unexpected_keys
    assert repr(rg) == repr(rt)
    missing, unexpected = rg
    assert missing == ["0.weight", "0.bias"]


def test_load_keeps_the_parameter_objects():
    m = nn.Linear(3, 2)
    w = m.weight
    m.load_state_dict({"weight": np.ones((2, 3)), "bias": np.zeros(2)})
    assert m.weight is w and np.all(w.numpy() == 1)


@pytest.mark.parametrize("use_kwargs", [False, True])
def test_forward_hook_and_pre_hook(use_kwargs):
    res = []
    for lib, mod in ((gn, nn), (torch, tnn)):
        m = mod.Linear(3, 2)
        with lib.no_grad():
            m.weight.data.fill_(0.0) if lib is torch else m.weight.numpy().fill(0.0)
            m.bias.data.fill_(1.0) if lib is torch else m.bias.numpy().fill(1.0)
        calls = []
        if use_kwargs:
            h1 = m.register_forward_pre_hook(lambda mod_, a, kw: ((a[0] * 2,), kw),
                                             with_kwargs=True)
            h2 = m.register_forward_hook(lambda mod_, a, kw, out: out + 1, with_kwargs=True)
        else:
            h1 = m.register_forward_pre_hook(lambda mod_, a: (a[0] * 2,))
            h2 = m.register_forward_hook(lambda mod_, a, out: calls.append(tuple(out.shape)))
        out = m(lib.ones(1, 3))
        h1.remove()
        h2.remove()
        out2 = m(lib.ones(1, 3))
        res.append((out.detach().numpy().tolist(), out2.detach().numpy().tolist(), calls))
    assert res[0] == res[1]


def test_forward_hook_captures_activations_by_name():
    acts = {}
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    for name, m in model.named_modules():
        if isinstance(m, nn.ReLU):
            m.register_forward_hook(lambda mod, inp, out, name=name: acts.__setitem__(name, out))
    model(gn.randn(5, 3))
    assert list(acts) == ["1"] and acts["1"].shape == (5, 4)


def test_full_backward_hook_sees_torchs_gradients():
    x = np.random.default_rng(0).standard_normal((2, 3))
    w = np.random.default_rng(1).standard_normal((2, 3))
    res = []
    for lib, mod in ((gn, nn), (torch, tnn)):
        m = mod.Linear(3, 2).double()
        m.load_state_dict({"weight": lib.tensor(w, dtype=lib.float64), "bias": lib.zeros(2, dtype=lib.float64)})
        got = {}
        m.register_full_backward_hook(
            lambda mod_, gi, go: got.update(gi=[g.detach().numpy() for g in gi],
                                            go=[g.detach().numpy() for g in go]))
        xi = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        (m(xi) ** 2).sum().backward()
        res.append(got)
    for k in ("gi", "go"):
        for a, b in zip(res[0][k], res[1][k]):
            np.testing.assert_allclose(a, b, rtol=1e-10)


def test_train_eval_and_training_flag():
    for m in (copy.deepcopy(G), copy.deepcopy(T)):
        m.eval()
        assert not m.training and not m.body[2].training
        m.train()
        assert m.heads[1].training
        m.train(False)
        assert not m.bn.training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        nn.Linear(2, 2).train("yes")


def test_zero_grad_set_to_none_default_and_false():
    for lib, mod in ((gn, nn), (torch, tnn)):
        m = mod.Linear(2, 1)
        m(lib.ones(1, 2)).sum().backward()
        m.zero_grad(set_to_none=False)
        assert float(m.weight.grad.sum()) == 0.0
        m.zero_grad()
        assert m.weight.grad is None


def test_requires_grad_freezes():
    m = nn.Linear(2, 2).requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


@pytest.mark.parametrize("arg", ["cpu", "device", "float64", "tensor", "kw"])
def test_to_returns_self_and_casts(arg):
    m = nn.Linear(2, 2)
    if arg == "cpu":
        r = m.to("cpu")
    elif arg == "device":
        r = m.to(gn.device("cpu"), non_blocking=True)
    elif arg == "float64":
        r = m.to(gn.float64)
    elif arg == "tensor":
        r = m.to(gn.zeros(1, dtype=gn.float64))
    else:
        r = m.to(device="cpu", dtype=gn.double)
    assert r is m
    want = np.float64 if arg in ("float64", "tensor", "kw") else np.float32
    assert m.weight.dtype == want


def test_to_an_integer_dtype_is_refused_as_in_torch():
    with pytest.raises(TypeError, match="floating point"):
        tnn.Linear(2, 2).to(torch.int64)
    with pytest.raises(TypeError, match="floating point"):
        nn.Linear(2, 2).to(gn.int64)


def test_cuda_is_a_clear_error_and_cpu_is_self():
    m = nn.Linear(2, 2)
    assert m.cpu() is m
    with pytest.raises(ValueError, match="cuda"):
        m.cuda()
    with pytest.raises(ValueError, match="cuda"):
        m.to("cuda")


def test_half_double_float_type():
    m = nn.Linear(2, 2)
    assert m.half().weight.dtype == np.float16
    assert m.double().weight.dtype == np.float64
    assert m.float().weight.dtype == np.float32
    assert m.type(gn.float64).bias.dtype == np.float64
    m2 = nn.BatchNorm1d(3).double()
    assert m2.running_mean.dtype == np.float64 and m2.num_batches_tracked.dtype == np.int64


def test_register_buffer_and_parameter_errors_match_torch():
    for mod in (nn, tnn):
        m = mod.Linear(2, 2)
        with pytest.raises(KeyError, match="already exists"):
            m.register_buffer("weight", None)
        with pytest.raises(TypeError):
            m.register_buffer("x", 3)
        with pytest.raises(TypeError, match="cannot assign"):
            m.weight = torch.zeros(2, 2) if mod is tnn else gn.zeros(2, 2)
        with pytest.raises(KeyError, match="contain"):
            m.add_module("a.b", mod.ReLU())
        with pytest.raises(TypeError, match="is not a Module subclass"):
            m.add_module("x", 3)


def test_assigning_a_tensor_to_a_buffer_updates_it():
    for lib, mod in ((gn, nn), (torch, tnn)):
        m = mod.BatchNorm1d(2)
        m.running_mean = lib.ones(2)
        assert "running_mean" in dict(m.named_buffers())
        assert float(m.state_dict()["running_mean"].sum()) == 2.0


def test_parameter_set_to_none_drops_it():
    for mod in (nn, tnn):
        m = mod.Linear(2, 2)
        m.bias = None
        assert list(m.state_dict()) == ["weight"]


def test_delattr_and_add_module_and_register_module():
    for mod in (nn, tnn):
        m = mod.Sequential()
        m.add_module("fc", mod.Linear(2, 2))
        m.register_module("act", mod.ReLU())
        assert list(dict(m.named_children())) == ["fc", "act"]
        del m.act
        assert list(dict(m.named_children())) == ["fc"]
        with pytest.raises(AttributeError):
            del m.nothing


def test_get_submodule_error():
    for m in (G, T):
        with pytest.raises(AttributeError, match="has no attribute `9`"):
            m.get_submodule("body.9")


REPRS = [
    lambda mod: mod.Linear(2, 3),
    lambda mod: mod.Linear(2, 3, bias=False),
    lambda mod: mod.Sequential(mod.Linear(2, 3), mod.ReLU(), mod.Sequential(mod.Tanh())),
    lambda mod: mod.ModuleList([mod.Linear(2, 2) for _ in range(3)] + [mod.ReLU()]),
    lambda mod: mod.ModuleDict({"a": mod.ReLU(), "b": mod.Sigmoid()}),
    lambda mod: mod.Dropout(0.2),
    lambda mod: mod.ReLU(inplace=True),
    lambda mod: mod.LeakyReLU(0.2),
    lambda mod: mod.GELU(approximate="tanh"),
    lambda mod: mod.Softmax(dim=1),
    lambda mod: mod.Flatten(),
    lambda mod: mod.Identity(),
    lambda mod: mod.LayerNorm(4),
    lambda mod: mod.GroupNorm(2, 4),
    lambda mod: mod.BatchNorm2d(3),
    lambda mod: mod.InstanceNorm2d(3),
    lambda mod: mod.Embedding(5, 3),
    lambda mod: mod.CrossEntropyLoss(),
    lambda mod: mod.MSELoss(),
    lambda mod: mod.Upsample(scale_factor=2),
    lambda mod: mod.AdaptiveAvgPool2d((1, 1)),
    lambda mod: mod.Hardtanh(),
    lambda mod: mod.Threshold(0.1, 2.0),
    lambda mod: mod.PixelShuffle(2),
    lambda mod: mod.Bilinear(2, 3, 4),
    lambda mod: mod.ZeroPad2d(1),
    lambda mod: mod.Conv2d(1, 2, 3, padding="same"),
    lambda mod: mod.Conv2d(1, 2, 3, stride=2, padding=1, bias=False),
    lambda mod: mod.Conv1d(1, 2, 3, padding=1),
    lambda mod: mod.MaxPool2d(2),
    lambda mod: mod.MaxPool2d(3, 1, 1),
    lambda mod: mod.AvgPool2d(2),
    lambda mod: mod.LSTM(3, 4),
    lambda mod: mod.BatchNorm1d(3),
]


@pytest.mark.parametrize("build", REPRS, ids=[f"repr{i}" for i in range(len(REPRS))])
def test_repr_matches_torch(build):
    assert repr(build(nn)) == repr(build(tnn))


def test_user_module_repr_matches_torch():
    assert repr(G) == repr(T)


def test_deepcopy_keeps_buffers_and_parameters_separate():
    m = nn.BatchNorm1d(2)
    c = copy.deepcopy(m)
    c.running_mean.numpy()[...] = 5
    assert float(m.running_mean.numpy().sum()) == 0.0
    assert list(c.state_dict()) == list(m.state_dict())
