"""``glassnet.cuda``: there is no CUDA device, and every query says so as PyTorch does on a
machine without one (``is_available()`` is False, ``device_count()`` is 0, seeding is a
no-op), so a script's ``if torch.cuda.is_available():`` takes its CPU branch.

>>> import glassnet as gn
>>> gn.cuda.is_available(), gn.cuda.device_count()
(False, 0)
"""


def is_available() -> bool:
    """False: glassnet computes on the CPU."""
    return False


def device_count() -> int:
    """0: no CUDA devices."""
    return 0


def manual_seed(seed: int) -> None:
    """Nothing to seed (PyTorch ignores this call too when CUDA is absent)."""


def manual_seed_all(seed: int) -> None:
    """Nothing to seed (PyTorch ignores this call too when CUDA is absent)."""


def empty_cache() -> None:
    """Nothing cached (a no-op, as in PyTorch without CUDA)."""


def is_initialized() -> bool:
    return False
