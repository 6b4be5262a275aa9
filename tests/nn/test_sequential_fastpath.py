"""Sequential under no_grad (glassnet.nn.inference): children whose exact class is in
LOWERINGS run as raw-array steps (in place on arrays the call made, one (1, n) sample as a
vector). It must give the module loop's answers bit for bit and keep every module's
behaviour (hooks, replaced children, subclasses, stochastic layers, dtypes)."""
import copy

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.nn import inference
from glassnet.nn.dropout import enable_mc_dropout


def _graph(model, x):
    """The reference: the ordinary recording path."""
    return model(gn.tensor(x)).numpy()


def _fast(model, x):
    with gn.no_grad():
        return model(x).numpy()


def _net(act=nn.ReLU):
    gn.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), act(), nn.Linear(8, 5), act(), nn.Linear(5, 3))


@pytest.mark.parametrize("act", [nn.ReLU, nn.Tanh, nn.Sigmoid, nn.Identity])
@pytest.mark.parametrize("shape", [(1, 6), (4, 6), (6,), (2, 3, 6)])
def test_fast_path_matches_graph_path(act, shape):
    model = _net(act).eval()
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    x0 = x.copy()
    out = _fast(model, x)
    assert out.shape == shape[:-1] + (3,)
    np.testing.assert_allclose(out, _graph(model, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(x, x0)  # the caller's array is never written


def test_activation_first_does_not_touch_input():
    model = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Identity(), nn.ReLU())
    x = np.array([[-1.0, 2.0, -3.0]], dtype=np.float32)
    x0 = x.copy()
    out = _fast(model, x)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_allclose(out, np.maximum(np.tanh(np.maximum(x0, 0)), 0))


def test_hook_added_after_first_call_fires():
    model = _net().eval()
    x = np.ones((1, 6), np.float32)
    _fast(model, x)  # builds and caches the plan
    seen = []
    h = model[1].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    _fast(model, x)
    assert seen == [(1, 8)]
    h.remove()
    _fast(model, x)
    assert len(seen) == 1


def test_replaced_child_is_used():
    model = _net().eval()
    x = np.ones((2, 6), np.float32)
    _fast(model, x)
    model[-1] = nn.Linear(5, 2)
    assert list(model._modules) == ["0", "1", "2", "3", "4"]
    assert _fast(model, x).shape == (2, 2)
    np.testing.assert_allclose(_fast(model, x), _graph(model, x), rtol=1e-5, atol=1e-6)


def test_setitem_errors_named():
    model = _net()
    with pytest.raises(IndexError, match="Sequential: index 5"):
        model[5] = nn.ReLU()
    with pytest.raises(TypeError, match="Sequential: element 0 must be a Module"):
        model[0] = "relu"


def test_weights_changed_in_place_and_replaced_are_seen():
    model = _net().eval()
    x = np.ones((1, 6), np.float32)
    _fast(model, x)
    model[0].weight.numpy()[...] = 0.0
    model[0].bias.numpy()[...] = 1.0
    np.testing.assert_allclose(_fast(model, x), _graph(model, x), rtol=1e-5, atol=1e-6)
    model.load_state_dict({k: v * 2 for k, v in model.state_dict().items()})
    np.testing.assert_allclose(_fast(model, x), _graph(model, x), rtol=1e-5, atol=1e-6)


def test_mc_dropconnect_stays_stochastic_under_no_grad():
    # DropConnectLinear inherits from Linear but overrides forward: it must not take
    # Linear's raw-array shortcut, or Monte-Carlo DropConnect would silently be deterministic
    gn.manual_seed(0)
    model = nn.Sequential(nn.DropConnectLinear(6, 4, p=0.5), nn.ReLU()).eval()
    enable_mc_dropout(model)
    x = np.ones((1, 6), np.float32)
    outs = [_fast(model, x) for _ in range(5)]
    assert any(not np.array_equal(outs[0], o) for o in outs[1:])


def test_dropout_train_and_eval_respected():
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 50), nn.Dropout(0.5), nn.ReLU())
    x = np.ones((1, 6), np.float32)
    model.eval()
    np.testing.assert_array_equal(_fast(model, x), _fast(model, x))
    model.train()
    a, b = _fast(model, x), _fast(model, x)
    assert not np.array_equal(a, b)


def test_dtype_follows_module():
    model = _net().double().eval()
    x = np.random.default_rng(0).standard_normal((1, 6))
    out = _fast(model, x)
    assert out.dtype == np.float64
    model32 = _net().eval()
    assert _fast(model32, x).dtype == np.float32  # float64 input cast like the graph path


def test_nested_sequential_and_shape_error_named():
    gn.manual_seed(0)
    model = nn.Sequential(nn.Sequential(nn.Linear(6, 4), nn.ReLU()), nn.Linear(4, 2)).eval()
    x = np.ones((3, 6), np.float32)
    np.testing.assert_allclose(_fast(model, x), _graph(model, x), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"Linear\(6, 4\)"):
        _fast(model, np.ones((1, 5), np.float32))


# ---------------------------------------------------------------- the lowering table
def _loop(model, x):
    """The plain module loop the lowered path must equal: every child called as a Module."""
    with gn.no_grad():
        for m in model:
            x = m(x)
    return x


# one instance of every class in the table (a new entry without one here fails below)
_LOWERED = {
    nn.Linear: lambda: nn.Linear(5, 5),
    nn.ReLU: nn.ReLU,
    nn.Tanh: nn.Tanh,
    nn.Sigmoid: nn.Sigmoid,
    nn.LeakyReLU: lambda: nn.LeakyReLU(0.2),
    nn.Identity: nn.Identity,
    nn.Dropout: lambda: nn.Dropout(0.3),
    nn.Dropout2d: lambda: nn.Dropout2d(0.3),
}


def test_every_lowering_has_a_bit_identity_test():
    assert set(_LOWERED) == set(inference.LOWERINGS)


@pytest.mark.parametrize("cls", list(_LOWERED), ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 6), (7, 6), (6,)])
def test_lowered_steps_are_bit_identical_to_the_module_loop(cls, dtype, shape):
    gn.manual_seed(0)
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    # alone on the input, between two Linears (its in-place step where there is one), last
    for layers in ([_LOWERED[cls]()], [nn.Linear(6, 5), _LOWERED[cls](), nn.Linear(5, 3)],
                   [nn.Linear(6, 5), _LOWERED[cls]()]):
        if cls is nn.Linear and len(layers) == 1:
            layers = [nn.Linear(6, 5)]
        model = nn.Sequential(*layers).to_dtype(dtype).eval()
        for inp in (x, gn.tensor(x, dtype=dtype)):
            with gn.no_grad():
                out = model(inp)
            ref = _loop(model, inp)
            assert type(out) is gn.Tensor and out.dtype == ref.dtype == dtype
            assert out.shape == ref.shape
            np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_no_private_inference_protocol_on_layers():
    import glassnet.nn.module as module_mod
    assert not hasattr(module_mod, "_structure_version")
    for name in dir(nn):
        obj = getattr(nn, name)
        if isinstance(obj, type) and issubclass(obj, nn.Module):
            assert not [a for a in vars(obj) if a.startswith("_infer")], name


# ------------------------------------------------------ subclasses and own forwards
class _Doubled(nn.Linear):
    def forward(self, x):
        return super().forward(x) * 2.0


class _Shifted(nn.ReLU):
    def forward(self, x):
        return super().forward(x) + 1.0


class _Quiet(nn.ReLU):
    """A subclass that keeps ReLU's forward but counts its calls."""
    calls = 0

    def forward(self, x):
        type(self).calls += 1
        return super().forward(x)


def test_subclass_overriding_forward_is_called_through_it():
    gn.manual_seed(0)
    model = nn.Sequential(_Doubled(6, 4), _Shifted(), nn.Linear(4, 2)).eval()
    x = np.random.default_rng(0).standard_normal((1, 6)).astype(np.float32)
    lin = model[0]
    expected = (np.maximum(2 * (x @ lin.weight.numpy().T + lin.bias.numpy()), 0) + 1.0
                ) @ model[2].weight.numpy().T + model[2].bias.numpy()
    np.testing.assert_allclose(_fast(model, x), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(_fast(model, x), _loop(model, x).numpy())
    _Quiet.calls = 0
    _fast(nn.Sequential(nn.Linear(6, 3), _Quiet()), x)
    assert _Quiet.calls == 1   # not ReLU's shortcut, even with the same forward


def test_forward_set_on_an_instance_is_used():
    model = _net().eval()
    x = np.ones((1, 6), np.float32)
    before = _fast(model, x)
    model[1].forward = lambda t: t * 0.0
    np.testing.assert_array_equal(_fast(model, x), _loop(model, x).numpy())
    assert not np.array_equal(_fast(model, x), before)
    del model[1].forward
    np.testing.assert_array_equal(_fast(model, x), before)


def test_sequential_subclass_forward_is_used():
    class Residual(nn.Sequential):
        def forward(self, x):
            return super().forward(x) + x

    gn.manual_seed(0)
    model = Residual(nn.Linear(4, 4), nn.ReLU()).eval()
    x = np.random.default_rng(0).standard_normal((1, 4)).astype(np.float32)
    ref = model(gn.tensor(x)).numpy()   # recording path
    np.testing.assert_array_equal(_fast(model, x), ref)
    np.testing.assert_array_equal(ref, np.maximum(x @ model[0].weight.numpy().T
                                                  + model[0].bias.numpy(), 0) + x)


# ---------------------------------------------------- changes are seen at once
def test_append_delete_and_nested_replacement_are_seen():
    gn.manual_seed(0)
    inner = nn.Sequential(nn.Linear(6, 4), nn.ReLU())
    model = nn.Sequential(inner, nn.Linear(4, 3)).eval()
    x = np.random.default_rng(0).standard_normal((2, 6)).astype(np.float32)
    _fast(model, x)
    model.append(nn.Tanh())
    np.testing.assert_array_equal(_fast(model, x), _loop(model, x).numpy())
    assert np.abs(_fast(model, x)).max() < 1
    inner[1] = nn.Identity()
    np.testing.assert_array_equal(_fast(model, x), _loop(model, x).numpy())
    assert _fast(inner, x).min() < 0
    delattr(model, "2")
    np.testing.assert_array_equal(_fast(model, x), _loop(model, x).numpy())
    assert np.abs(_fast(model, x)).max() > 0


def test_rebound_weight_data_and_new_parameters_are_seen():
    model = _net().eval()
    x = np.ones((1, 6), np.float32)
    _fast(model, x)
    lin = model[4]
    lin.weight.data = np.zeros_like(lin.weight.numpy())
    np.testing.assert_array_equal(_fast(model, x)[0], lin.bias.numpy())
    lin.bias = nn.Parameter(np.full(3, 7.0, np.float32))
    np.testing.assert_array_equal(_fast(model, x), [[7.0, 7.0, 7.0]])
    model.double()   # every parameter's .data rebound to float64
    out = _fast(model, x)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, _loop(model, x.astype(np.float64)).numpy())


def test_deepcopy_does_not_share_the_plan():
    model = _net().eval()
    x = np.ones((1, 6), np.float32)
    _fast(model, x)
    twin = copy.deepcopy(model)
    seen = []
    h = twin[3].register_forward_hook(lambda m, i, o: seen.append(m))
    np.testing.assert_array_equal(_fast(twin, x), _fast(model, x))
    assert seen == [twin[3]]
    h.remove()
    twin[3].forward = lambda t: t * 0.0   # the twin's own child, not the original's
    np.testing.assert_array_equal(_fast(twin, x)[0], twin[4].bias.numpy())
    assert not np.array_equal(_fast(model, x)[0], model[4].bias.numpy())


# --------------------------------------------------------------------------- hooks
def test_hooks_fire_and_their_outputs_are_not_overwritten():
    model = _net().eval()
    x = np.random.default_rng(3).standard_normal((1, 6)).astype(np.float32)
    _fast(model, x)
    kept = {}
    for i, m in enumerate(model):
        m.register_forward_hook(lambda m, inp, out, i=i: kept.update({i: out.numpy()}))
    out = _fast(model, x)
    assert sorted(kept) == [0, 1, 2, 3, 4]
    ref = gn.tensor(x)
    for i, m in enumerate(model):
        ref = m(ref)   # recording path: kept[i] must be each layer's own output, unchanged
        np.testing.assert_array_equal(kept[i], ref.numpy())
    assert kept[0].min() < 0   # Linear's output, not the ReLU after it written in place
    np.testing.assert_array_equal(out, ref.numpy())


def test_hook_on_the_sequential_and_a_replacing_hook():
    model = _net().eval()
    x = np.ones((1, 6), np.float32)
    seen = []
    h = model.register_forward_hook(lambda m, inp, out: seen.append(out.shape))
    _fast(model, x)
    assert seen == [(1, 3)]
    h.remove()
    h = model[2].register_forward_hook(lambda m, inp, out: out * 0.0)
    np.testing.assert_array_equal(_fast(model, x), _loop(model, x).numpy())
    np.testing.assert_allclose(_fast(model, x)[0], model[4].bias.numpy())
    h.remove()


# ---------------------------------------------------------- train / eval and others
def test_dropout_after_eval_then_train_drops_under_no_grad():
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 50), nn.Dropout(0.5), nn.ReLU(), nn.Dropout2d(0.5))
    x = np.ones((1, 6), np.float32)
    model.eval()
    e = _fast(model, x)
    np.testing.assert_array_equal(e, _loop(model, x).numpy())
    model.train()   # the plan is the same; the Dropout step declines while active
    outs = [_fast(model, x) for _ in range(3)]
    assert not np.array_equal(outs[0], outs[1])
    assert any((o == 0).sum() > (e == 0).sum() for o in outs)


def test_batchnorm_in_training_updates_its_statistics_under_no_grad():
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    x = np.random.default_rng(0).standard_normal((8, 6)).astype(np.float32)
    before = model[1].running_mean.numpy().copy()     # buffers are Tensors, as in torch
    out = _fast(model, x)
    assert not np.array_equal(model[1].running_mean.numpy(), before)
    model[1].running_mean.numpy()[...] = before
    model[1].running_var.numpy()[...] = 1.0
    np.testing.assert_array_equal(out, _loop(model, x).numpy())


def test_identity_chain_returns_the_input_tensor_and_tuples_pass_through():
    t = gn.tensor(np.ones((1, 3), np.float32))
    with gn.no_grad():
        assert nn.Sequential(nn.Identity(), nn.Dropout(0.5).eval())(t) is t

    class Pair(nn.Module):
        def forward(self, x):
            return x, x * 2.0

    class Sum(nn.Module):
        def forward(self, pair):
            return pair[0] + pair[1]

    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), Pair(), Sum(), nn.ReLU()).eval()
    np.testing.assert_array_equal(_fast(model, t.numpy()), _graph(model, t.numpy()))


def test_inputs_of_other_types_and_dtypes_take_the_ordinary_path():
    model = _net().eval()
    x64 = np.random.default_rng(0).standard_normal((1, 6))
    out = _fast(model, x64)   # cast to float32 by Module.__call__, as the graph path does
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, _loop(model, x64).numpy())
    rng = np.random.default_rng(1)
    for shape in [(1, 6), (6,), (7, 6)]:   # a float64 Tensor is not cast (NumPy promotes)
        t64 = gn.Tensor(rng.standard_normal(shape))
        with gn.no_grad():
            o = model(t64)
        assert o.dtype == np.float64 == _loop(model, t64).dtype
        np.testing.assert_array_equal(o.numpy(), _loop(model, t64).numpy())
    model64 = _net().double().eval()
    t32 = gn.tensor(rng.standard_normal((1, 6)))   # and float32 into float64 layers
    with gn.no_grad():
        np.testing.assert_array_equal(model64(t32).numpy(), _loop(model64, t32).numpy())
    t = gn.tensor(x64.astype(np.float32))
    t0 = t.numpy().copy()
    with gn.no_grad():
        model(t)
    np.testing.assert_array_equal(t.numpy(), t0)   # a Tensor's array is never written either
