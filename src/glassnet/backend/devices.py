"""Devices, honestly: glassnet computes on the CPU and says so.

``glassnet.device("cpu")`` (also ``"cpu:0"``) is the one device there is.
``glassnet.device("cuda")`` can be *built*, as in PyTorch, so the usual line
``device = torch.device("cuda" if torch.cuda.is_available() else "cpu")`` runs; moving a
tensor or a module there (``.to("cuda")``) is an :class:`~glassnet.errors.ArgumentError`
that says glassnet has no such device. ``glassnet.cuda.is_available()``,
``glassnet.accelerator.is_available()`` and ``glassnet.backends.mps.is_available()`` are
False, so CPU scripts take their CPU branch unchanged.

>>> device("cpu"), device("cpu") == "cpu", device("cuda:1").index
(device(type='cpu'), True, 1)
>>> check(device("cuda"), "device", "Tensor.to")
Traceback (most recent call last):
...
glassnet.errors.ArgumentError: Tensor.to: device must be 'cpu' (glassnet computes on the CPU only), got device(type='cuda'); ...
"""
from __future__ import annotations

from ..errors import ArgumentError, ArgumentTypeError

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import DeviceLike


# the device types PyTorch knows, so a typo is told apart from a real but absent device
KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "mtia", "privateuseone")


class device:
    """A device name in PyTorch's form: ``device("cpu")``, ``device("cuda", 0)``,
    ``device("cuda:1")``. Compares equal to another device or to its string."""

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: str | device, index: int | None = None) -> None:  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device):
            if index is not None:
                raise ArgumentError("device: give the index once (in the device or as index=)")
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise ArgumentTypeError(f"device: expected a string such as 'cpu' or a device, "
                                    f"got {type!r}")
        kind, _, idx = type.partition(":")
        if kind not in KNOWN_TYPES:
            raise ArgumentError(f"device: unknown device type {kind!r}; expected one of "
                                f"{', '.join(KNOWN_TYPES)}")
        if idx:
            if index is not None:
                raise ArgumentError(f"device: {type!r} already names an index; index={index!r} "
                                    f"is one too many")
            if not idx.isdigit():
                raise ArgumentError(f"device: invalid device string {type!r}")
            index = int(idx)
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ArgumentError(f"device: index must be a non-negative int, got {index!r}")
        self.type, self.index = kind, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (ArgumentError, ArgumentTypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def check(dev: DeviceLike | int, arg: str = "device", where: str = "") -> device:
    """``dev`` as a device, when it is the CPU (None, "cpu", "cpu:0", device("cpu"), or an
    int, which PyTorch reads as a CUDA ordinal and so is refused); else a clear error."""
    if dev is None:
        return CPU
    if isinstance(dev, int) and not isinstance(dev, bool):
        dev = device("cuda", dev)
    # a bool reaches device(), which refuses it with a clear error
    d = dev if isinstance(dev, device) else device(dev)  # type: ignore[arg-type]
    if d.type != "cpu" or d.index not in (None, 0):
        name = f"{where}: " if where else ""
        raise ArgumentError(
            f"{name}{arg} must be 'cpu' (glassnet computes on the CPU only), got {d!r}; "
            f"glassnet.cuda.is_available() is False, so write "
            f"device = 'cuda' if glassnet.cuda.is_available() else 'cpu'")
    return CPU


def is_device_spec(x: object) -> bool:
    """True when ``x`` reads as a device (a device, or a string naming a known type)."""
    if isinstance(x, device):
        return True
    return isinstance(x, str) and x.partition(":")[0] in KNOWN_TYPES
