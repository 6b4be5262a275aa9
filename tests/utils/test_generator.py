"""glassnet.utils.Generator: torch.Generator's Mersenne Twister, randperm as torch.randperm
(the vectorised Fisher-Yates replay), draws and state."""
from __future__ import annotations

import numpy as np
import pytest

from glassnet.utils import Generator

# ------------------------------------------------------------------ the generator
@pytest.mark.parametrize("seed", [0, 1, 42, 12345, 2 ** 40 + 7])
def test_randperm_is_torchs(torch, seed):
    for n in list(range(0, 40)) + [257, 1000, 60000]:
        ours = Generator().manual_seed(seed).randperm(n)
        theirs = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=f"n={n}, seed={seed}")


def test_randperm_is_a_permutation_and_replays_fisher_yates():
    """Without torch: the vectorised replay equals the plain swap loop it stands for."""
    for n in (2, 3, 10, 500):
        g, ref = Generator().manual_seed(7), Generator().manual_seed(7)
        words = ref.random32(n - 1)
        a = list(range(n))
        for i in range(n - 1):
            j = i + int(words[i]) % (n - i)
            a[i], a[j] = a[j], a[i]
        np.testing.assert_array_equal(g.randperm(n), a)


def test_generator_draws_and_state(torch):
    g, t = Generator(), torch.Generator()
    assert g.initial_seed() == t.initial_seed() == 67280421310721
    np.testing.assert_array_equal(g.randperm(10), torch.randperm(10, generator=t).numpy())
    g.manual_seed(5)
    t.manual_seed(5)
    assert g.random_int64() == torch.empty((), dtype=torch.int64).random_(generator=t).item()
    np.testing.assert_array_equal(g.randint(1000, 70),
                                  torch.randint(1000, (70,), generator=t).numpy())
    state = g.get_state()
    a = g.randperm(50)
    g.set_state(state)
    np.testing.assert_array_equal(g.randperm(50), a)
    assert Generator().manual_seed(-1).initial_seed() == torch.Generator().manual_seed(-1).initial_seed()
    with pytest.raises(RuntimeError, match="cpu"):
        Generator("cuda")
    with pytest.raises(RuntimeError, match="624"):
        g.set_state(np.zeros(16 + 4 * 624, np.uint8) + 255)
