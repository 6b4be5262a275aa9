"""glassnet.inspect.dimensionality: distance concentration grows with the dimension, at the
rate and with the constant that the asymptotics of sums of independent coordinates give."""
from __future__ import annotations

import numpy as np
import pytest

from glassnet.errors import ArgumentError
from glassnet.inspect.dimensionality import (concentration_curve, distance_concentration,
                                             pairwise_distances, plot_concentration)

DIMS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]


@pytest.mark.parametrize("p", [1, 2, 3, "linf"])
def test_pairwise_distances_match_the_definition(p):
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(5, 7)), rng.normal(size=(4, 7))
    q = np.inf if p == "linf" else p
    want = np.array([[np.linalg.norm(a - b, ord=q) for b in B] for a in A])
    assert np.allclose(pairwise_distances(A, B, p, chunk=2), want)


def test_distance_concentration_by_hand():
    X = np.array([[0.0], [1.0], [3.0]])
    got = distance_concentration(X, queries=np.array([[-1.0]]))
    # distances 1, 2, 4: (4 - 1) / 1 and mean 7/3 over the nearest 1
    assert got["relative_contrast"] == pytest.approx(3.0)
    assert got["nn_contrast"] == pytest.approx(7 / 3)
    assert (got["d_min"], got["d_max"]) == (1.0, 4.0)


@pytest.mark.parametrize("distribution", ["uniform", "gaussian"])
@pytest.mark.parametrize("p", [1, 2])
def test_contrast_decreases_with_dimension(distribution, p):
    c = concentration_curve(DIMS[:10], n_samples=300, distribution=distribution, p=p,
                            n_queries=20, seed=1)
    rc, nn = c["relative_contrast"], c["nn_contrast"]
    assert np.all(np.diff(rc) < 0), rc          # strictly shrinking, dimension after dimension
    assert np.all(np.diff(nn[2:]) < 0), nn
    assert rc[0] > 100 and rc[-1] < 0.3         # from "nearest" meaning a lot to hardly at all
    assert 1.0 < nn[-1] < 1.1


@pytest.mark.parametrize("distribution", ["uniform", "gaussian"])
def test_relative_contrast_of_l2_shrinks_like_one_over_sqrt_d(distribution):
    n = 500
    c = concentration_curve(DIMS, n_samples=n, distribution=distribution, p=2, n_queries=20,
                            seed=0)
    d, rc = c["dims"].astype(float), c["relative_contrast"]
    big = d >= 256
    slope = np.polyfit(np.log(d[big]), np.log(rc[big]), 1)[0]
    assert -0.6 < slope < -0.4, slope
    # The constant: for a fixed query, D^2 = sum of d independent terms, so
    # D ~ mu sqrt(d) + (s / (2 mu)) Z with Z standard normal; the n distances then spread
    # over the expected range R_n of n normals, and (D_max - D_min) / D_min -> s R_n /
    # (2 mu^2 sqrt(d)). Uniform cube: mu^2 = 1/6, s^2 = E_q Var((x - q)^2 | q) = 1/30;
    # Gaussian: mu^2 = 2, s^2 = E_q (2 + 4 q^2) = 6.
    mu2, s2 = (1 / 6, 1 / 30) if distribution == "uniform" else (2.0, 6.0)
    r_n = np.ptp(np.random.default_rng(5).standard_normal((2000, n)), axis=1).mean()
    limit = np.sqrt(s2) * r_n / (2 * mu2)
    assert rc[-1] * np.sqrt(d[-1]) == pytest.approx(limit, rel=0.12)


def test_plot_concentration(tmp_path):
    pytest.importorskip("matplotlib")
    c = concentration_curve([1, 4, 16, 64], n_samples=50, n_queries=5)
    fig = plot_concentration({"uniform, L2": c}, tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 1000
    assert len(fig.axes) == 2


def test_bad_input_is_named():
    with pytest.raises(ArgumentError, match="p must be"):
        pairwise_distances(np.zeros((2, 2)), np.zeros((2, 2)), p=0.5)
    with pytest.raises(ArgumentError, match=r"\(m, d\) and \(n, d\)"):
        pairwise_distances(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ArgumentError, match="distribution"):
        concentration_curve([2], distribution="cauchy")
    with pytest.raises(ArgumentError, match="n_queries"):
        distance_concentration(np.zeros((3, 2)) + np.arange(3)[:, None], n_queries=3)
    with pytest.raises(ArgumentError, match="coincides"):
        distance_concentration(np.zeros((3, 2)), queries=np.zeros((1, 2)))
