from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
import glassnet.inspect as ins
from glassnet.errors import ArgumentError

pytest.importorskip("matplotlib")


def test_plot_attention_draws_the_weights_with_labels(tmp_path: Path) -> None:
    w = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    fig = ins.plot_attention(gn.tensor(w), ["a", "b", "c"], ["X", "Y"],
                             path=tmp_path / "att.png", title="t")
    assert (tmp_path / "att.png").stat().st_size > 2000
    ax = fig.axes[0]
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), w)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["X", "Y"]
    assert ax.get_title() == "t"


def test_plot_attention_refuses_mismatched_labels() -> None:
    with pytest.raises(ArgumentError, match="2 source and 2 target labels"):
        ins.plot_attention(np.ones((2, 3)) / 3, ["a", "b"], ["X", "Y"])
    with pytest.raises(ArgumentError, match="one \\(target length, source length\\) matrix"):
        ins.plot_attention(np.ones(3))


def test_attention_monotonicity() -> None:
    assert ins.attention_monotonicity(np.eye(5)) == 1.0
    assert ins.attention_monotonicity(np.eye(5)[::-1]) == 0.0
    assert ins.attention_monotonicity(np.eye(5)[::-1], reverse=True) == 1.0
    w = np.eye(4)[[0, 2, 1, 3]]                      # one step back out of three
    assert ins.attention_monotonicity(w) == pytest.approx(2 / 3)
