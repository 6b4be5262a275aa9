"""nn.init and the in-place fills honour the Generator they are given."""
import numpy as np
import pytest


def test_a_generator_given_to_a_fill_is_used():
    """uniform_ / normal_ (nn.init and Tensor methods) and the schemes built on them draw
    from the Generator they are given: same seed, same values; the global stream is left
    alone; the generator's state advances."""
    import glassnet as gn
    from glassnet import nn

    fills = [lambda t, g: nn.init.uniform_(t, generator=g),
             lambda t, g: nn.init.normal_(t, generator=g),
             lambda t, g: nn.init.xavier_uniform_(t, generator=g),
             lambda t, g: nn.init.kaiming_normal_(t, generator=g),
             lambda t, g: nn.init.orthogonal_(t, generator=g),
             lambda t, g: t.uniform_(generator=g),
             lambda t, g: t.normal_(generator=g)]
    for fill in fills:
        gn.manual_seed(0)
        a = fill(gn.empty(4, 5), gn.Generator().manual_seed(7)).numpy().copy()
        gn.manual_seed(1)
        b = fill(gn.empty(4, 5), gn.Generator().manual_seed(7)).numpy().copy()
        np.testing.assert_array_equal(a, b)          # the generator decides, not the global seed
        g = gn.Generator().manual_seed(7)
        first = fill(gn.empty(4, 5), g).numpy().copy()
        second = fill(gn.empty(4, 5), g).numpy().copy()
        assert not np.array_equal(first, second)     # its state moved on
    with pytest.raises(TypeError, match="generator must be a glassnet Generator"):
        nn.init.uniform_(gn.empty(2, 2), generator=np.random.default_rng(0))


def test_trunc_normal_without_scipy(monkeypatch):
    """NumPy alone (a fresh install has no SciPy): rejection sampling, values inside [a, b]
    with the truncated normal's mean and spread."""
    import builtins

    import glassnet as gn
    from glassnet import nn
    real = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name.startswith("scipy"):
            raise ImportError("No module named 'scipy'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    gn.manual_seed(0)
    w = nn.init.trunc_normal_(gn.empty(200, 200), mean=0.5, std=1.0, a=0.0, b=2.0).numpy()
    assert w.min() >= 0.0 and w.max() <= 2.0
    # the mean of N(0.5, 1) truncated to [0, 2]: 0.5 + (phi(-0.5) - phi(1.5)) / (Phi(1.5) - Phi(-0.5))
    from math import erf, exp, pi, sqrt
    phi = lambda z: exp(-z * z / 2) / sqrt(2 * pi)  # noqa: E731
    Phi = lambda z: 0.5 * (1 + erf(z / sqrt(2)))  # noqa: E731
    want = 0.5 + (phi(-0.5) - phi(1.5)) / (Phi(1.5) - Phi(-0.5))
    assert abs(w.mean() - want) < 0.01
    with pytest.raises(ValueError, match="needs SciPy"):
        nn.init.trunc_normal_(gn.empty(3), a=10.0, b=10.1)
