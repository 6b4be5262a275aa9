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
