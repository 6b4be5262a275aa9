"""Sequential's inference fast path (no_grad): cached raw-array plan, in-place activations on
arrays it made, one-row inputs run as vectors. It must give the graph path's answers and
keep every module's behaviour (hooks, replaced children, stochastic layers, dtypes)."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
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
    model[0].weight.data[...] = 0.0
    model[0].bias.data[...] = 1.0
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
