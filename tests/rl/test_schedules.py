"""Epsilon schedules: values at chosen steps, against the formulas."""
import math

import pytest

from glassnet.errors import ArgumentError
from glassnet.rl import (ConstantEpsilon, ExponentialEpsilon, LinearEpsilon,
                         schedule_from_dict)


def test_linear():
    s = LinearEpsilon(1.0, 0.1, steps=1000)
    assert s(0) == 1.0
    assert s(250) == pytest.approx(0.775)
    assert s(500) == pytest.approx(0.55)
    assert s(1000) == pytest.approx(0.1)
    assert s(10**6) == pytest.approx(0.1)


def test_exponential():
    s = ExponentialEpsilon(1.0, 0.05, decay=0.99)
    assert s(0) == 1.0
    assert s(10) == pytest.approx(0.05 + 0.95 * 0.99 ** 10)
    assert s(10**5) == pytest.approx(0.05)
    o = ExponentialEpsilon.over(1.0, 0.0, steps=500)
    assert o(500) == pytest.approx(0.01) and o(250) == pytest.approx(0.1)
    assert all(o(t) > o(t + 1) for t in range(0, 2000, 97))


def test_constant_round_trip_and_errors():
    assert ConstantEpsilon(0.2)(12345) == 0.2
    for s in (LinearEpsilon(0.9, 0.02, 77), ExponentialEpsilon(1.0, 0.1, 0.995),
              ConstantEpsilon(0.3)):
        back = schedule_from_dict(s.to_dict())
        assert type(back) is type(s) and all(back(t) == s(t) for t in (0, 10, 100))
    with pytest.raises(ArgumentError, match="end"):
        LinearEpsilon(1.0, 1.5)
    with pytest.raises(ArgumentError, match="steps"):
        LinearEpsilon(1.0, 0.1, steps=0)
    with pytest.raises(ArgumentError, match="decay"):
        ExponentialEpsilon(decay=0.0)
    with pytest.raises(ArgumentError, match="step"):
        LinearEpsilon()(-1)
    with pytest.raises(ArgumentError, match="kind"):
        schedule_from_dict({"kind": "cosine"})
    assert math.isclose(LinearEpsilon(0.5, 0.5, 3)(2), 0.5)
