"""Corruption of inputs for denoising autoencoders (Vincent et al., 2008/2010): the
corrupted input is x~ = x * keep + add with

    mask         keep ~ Bernoulli(1 - level), add = 0         (a fraction level set to 0)
    gaussian     keep = 1, add ~ N(0, level^2)
    salt_pepper  keep = 0 and add ~ {0, 1} (half each) on a fraction level, else keep = 1

>>> X = np.ones((100, 50), np.float32)
>>> Xn = corrupt(X, "mask", 0.3, seed=0)     # same shape as X
>>> Xn.shape, 0.25 < float((Xn == 0).mean()) < 0.35
((100, 50), True)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

import numpy as np

from .. import backend
from ..autograd import Tensor
from ..functional import math as F
from ..validation import check_choice, check_real

if TYPE_CHECKING:  # annotations only
    import numpy.typing as npt


__all__ = ["corrupt", "NOISES"]

NOISES = ("mask", "gaussian", "salt_pepper")


def _noise_arrays(shape: tuple[int, ...], dtype: np.dtype[Any], noise: str, level: float,
                  rng: np.random.Generator) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(keep, add) so that the corrupted input is ``x * keep + add`` (either may be None)."""
    if noise == "mask":             # masking noise: a random fraction of inputs set to 0
        return (rng.random(shape, dtype=np.float32) >= level).astype(dtype), None
    if noise == "gaussian":         # additive isotropic Gaussian noise N(0, level^2)
        return None, (level * rng.standard_normal(shape, dtype=np.float32)).astype(dtype)
    # salt-and-pepper: a random fraction of inputs set to 0 or 1 with equal probability
    u = rng.random(shape, dtype=np.float32)
    hit = u < level
    salt = u < level / 2            # uniform below `level`: half the hits become 1
    return (~hit).astype(dtype), salt.astype(dtype)


def check_noise(noise: str, level: float, who: str) -> float:
    """``level`` as a float, checked for ``noise`` (``who`` names the caller in errors)."""
    check_choice(noise, "noise", who, NOISES)
    if noise == "gaussian":
        return check_real(level, "noise_level (the Gaussian std)", who, 0)
    return check_real(level, "noise_level (the corrupted fraction)", who, 0, 1, high_open=True)


@overload
def corrupt(x: Tensor, noise: str = ..., level: float = ..., seed: int | None = ...) -> Tensor:
    ...


@overload
def corrupt(x: npt.ArrayLike, noise: str = ..., level: float = ...,
            seed: int | None = ...) -> np.ndarray:
    ...


def corrupt(x: Tensor | npt.ArrayLike, noise: str = "mask", level: float = 0.3,
            seed: int | None = None) -> Tensor | np.ndarray:
    """A corrupted copy of ``x`` (array or Tensor): masking, Gaussian or salt-and-pepper.

    ``mask`` sets a random fraction ``level`` of the entries to 0; ``gaussian`` adds
    N(0, level^2); ``salt_pepper`` sets a fraction ``level`` to 0 or 1 (half each).
    A Tensor that requires a gradient stays differentiable (x * keep + add).

    >>> Xn = corrupt(np.ones((4, 1000), np.float32), "gaussian", 0.1, seed=0)
    >>> round(float(Xn.std()), 1)
    0.1
    """
    level = check_noise(noise, level, "corrupt")
    rng = np.random.default_rng(seed) if seed is not None else backend.rng()
    if isinstance(x, Tensor):
        keep, add = _noise_arrays(x.shape, x.dtype, noise, level, rng)
        if x.requires_grad:
            out = F.mul(x, keep) if keep is not None else x
            return F.add(out, add) if add is not None else out
        a = x._data
    else:
        a = np.asarray(x)
        if a.dtype.kind != "f":
            a = a.astype(backend.get_default_dtype())
        keep, add = _noise_arrays(a.shape, a.dtype, noise, level, rng)
    out = a * keep if keep is not None else a.copy()
    if add is not None:
        out += add
    return Tensor(out) if isinstance(x, Tensor) else out
