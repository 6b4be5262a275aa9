"""cross_validate's checks of what it is given."""
import numpy as np
import pytest

from glassnet import nn
from glassnet.errors import ArgumentError
from glassnet.selection import cross_validate


def test_build_returning_a_module_is_named_in_the_error():
    X = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    y = np.arange(30) % 2
    with pytest.raises(ArgumentError, match="returned Linear, expected a Trainer"):
        cross_validate(lambda: nn.Linear(4, 2), X, y, cv=2)
