import numpy as np
import pytest

import glassnet as gn
from glassnet import nn


def test_parameter_names_and_layouts_follow_pytorch():
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    shapes = {k: v.shape for k, v in m.state_dict().items()}
    assert shapes == {"0.weight": (8, 4), "0.bias": (8,), "2.weight": (3, 8), "2.bias": (3,)}


def test_load_state_dict_roundtrip_and_shape_error():
    a = nn.Linear(3, 2)
    b = nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    # PyTorch's errors: RuntimeError with its text
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        nn.Linear(3, 4).load_state_dict(a.state_dict())
    with pytest.raises(RuntimeError, match="Missing key"):
        nn.Sequential(nn.Linear(3, 2)).load_state_dict(a.state_dict())


def test_linear_rejects_wrong_input_width_naming_the_layer():
    with pytest.raises(ValueError, match=r"Linear\(3, 2\).*last dimension 3"):
        nn.Linear(3, 2)(np.zeros((4, 5), dtype=np.float32))


def test_freeze_stops_gradients():
    m = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    m[0].freeze()
    m(np.ones((2, 3), dtype=np.float32)).sum().backward()
    assert m[0].weight.grad is None and m[1].weight.grad is not None
    m[0].unfreeze()
    assert m[0].weight.requires_grad


def test_train_eval_propagate():
    m = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.Linear(4, 1)))
    m.eval()
    assert all(not x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())


def test_seed_gives_identical_init():
    gn.manual_seed(3)
    a = nn.Linear(5, 5).weight.numpy().copy()
    gn.manual_seed(3)
    b = nn.Linear(5, 5).weight.numpy().copy()
    np.testing.assert_array_equal(a, b)


def test_double_casts_parameters():
    m = nn.Linear(2, 2).double()
    assert m.weight.dtype == np.float64


def test_numpy_inputs_take_the_module_dtype():
    import numpy as np
    from glassnet import nn
    x = np.linspace(0, 1, 6).reshape(2, 3) + 1e-12      # float64, beyond float32 precision
    m = nn.Sequential(nn.Linear(3, 2), nn.Tanh()).double()
    out = m(x)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.numpy(), m(gn.Tensor(x)).numpy())
    assert nn.Linear(3, 2)(x).dtype == np.float32              # default dtype otherwise
    emb = nn.Embedding(5, 2).double()
    assert emb(np.array([1, 2])).dtype == np.float64            # integer ids stay integers


def test_forward_hook_fires_replaces_output_and_is_removed():
    layer = nn.Linear(3, 2)
    x = np.ones((1, 3), dtype=np.float32)
    seen = []
    h1 = layer.register_forward_hook(lambda m, inp, out: seen.append((m, inp[0].shape)))
    h2 = layer.register_forward_hook(lambda m, inp, out: out * 0.0)
    np.testing.assert_array_equal(layer(x).numpy(), [[0.0, 0.0]])
    with gn.no_grad():
        np.testing.assert_array_equal(layer(x).numpy(), [[0.0, 0.0]])
    assert seen == [(layer, (1, 3))] * 2
    h1.remove()
    h2.remove()
    with gn.no_grad():
        assert np.abs(layer(x).numpy()).sum() > 0
    assert len(seen) == 2
