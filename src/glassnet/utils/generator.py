"""``Generator``: glassnet's ``torch.Generator`` (defined in :mod:`glassnet.autograd.generator`,
where the factory functions use it), and :func:`resolve_generator` for the data API.

Example
-------
>>> g = Generator().manual_seed(42)
>>> g.randperm(5).tolist()                 # torch.randperm(5, generator=...) gives the same
[2, 4, 3, 0, 1]
"""
from __future__ import annotations

from .. import backend
from ..autograd.generator import DEFAULT_SEED, Generator, default_generator  # noqa: F401

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from glassnet.autograd.generator import Generator


__all__ = ["Generator", "DEFAULT_SEED", "default_generator", "resolve_generator"]


def resolve_generator(generator: Generator | None, where: str) -> Generator:
    """``generator`` itself, or for None a fresh :class:`Generator` seeded from glassnet's
    global generator (so ``glassnet.manual_seed`` makes the draws reproducible), as PyTorch
    seeds a fresh generator from its global one. ``where`` names the caller in errors."""
    if generator is None:
        return Generator().manual_seed(int(backend.rng().integers(1 << 63)))
    if not isinstance(generator, Generator):
        raise TypeError(f"{where}: generator must be a glassnet Generator "
                        f"(glassnet.utils.Generator().manual_seed(seed)) or None, got "
                        f"{type(generator).__name__}")
    return generator
