"""``glassnet.accelerator``: PyTorch's device-agnostic query, answered for a CPU-only
library (``is_available()`` is False, ``current_accelerator()`` is None).

>>> import glassnet as gn
>>> gn.accelerator.is_available(), gn.accelerator.current_accelerator()
(False, None)
"""


def is_available() -> bool:
    """False: glassnet has no accelerator."""
    return False


def current_accelerator(check_available: bool = False) -> None:
    """None: no accelerator."""
    return None


def device_count() -> int:
    return 0
