"""``Generator``: a random-number generator that draws exactly the numbers ``torch.Generator``
(CPU) draws, so a seeded split or shuffle gives PyTorch's indices.

PyTorch's CPU generator is the 32-bit Mersenne Twister (MT19937) seeded by the classic
``init_genrand(seed mod 2**32)``; NumPy's :class:`numpy.random.MT19937` with the same key
produces the same 32-bit words. On those words PyTorch builds

* ``randperm(n)`` (n < 2**32 / 20): for i = 0 .. n-2 swap a[i] with a[i + r_i mod (n - i)],
  a forward Fisher-Yates shuffle, one word r_i per step;
* ``randint(high)``: r mod high, one word per value for high < 2**28; from 2**28 on
  ((r_0 << 32) | r_1) mod high, two words per value;
* ``random_()`` on an int64 scalar: ((r_0 << 32) | r_1) mod 2**63 (the DataLoader's base seed).

:meth:`Generator.randperm` replays the Fisher-Yates swaps without a Python loop (see its
docstring), so a shuffle costs a few vectorised passes.

Example
-------
>>> g = Generator().manual_seed(42)
>>> g.randperm(5).tolist()                 # torch.randperm(5, generator=...) gives the same
[2, 4, 3, 0, 1]

:func:`default_generator` is the one ``glassnet.randperm`` / ``randint`` draw from when no
generator is given (``torch.default_generator``): ``glassnet.manual_seed(s)`` reseeds it with
``s`` and returns it, so ``manual_seed(0); randperm(5)`` is PyTorch's permutation. (rand,
randn and the layers' initialisation draw from NumPy's generator, also seeded by
``manual_seed``, so they do not advance this one as they advance PyTorch's.)

(This module sits in autograd so that the factory functions can use it; glassnet.utils
re-exports it as ``glassnet.utils.Generator``.)
"""
from __future__ import annotations

import numpy as np

from .. import backend
from .tensor import Tensor

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # annotations only
    from glassnet._typing import DeviceLike


__all__ = ["Generator", "DEFAULT_SEED", "default_generator"]

# torch.Generator().initial_seed() before any manual_seed
DEFAULT_SEED = 67280421310721
_U64 = 1 << 64
_STATE_WORDS = 624


def _mt_key(seed32: int) -> np.ndarray:
    """MT19937's 624-word state after init_genrand(seed32) (NumPy's legacy seeding is that)."""
    state = np.random.RandomState(seed32).get_state(legacy=True)
    assert isinstance(state, tuple)     # the legacy layout: (name, key, pos, ...)
    return state[1]


class Generator:
    """A seeded random-number generator with ``torch.Generator``'s CPU semantics.

    ``manual_seed(seed)`` returns the generator (so ``Generator().manual_seed(42)`` works),
    ``initial_seed()``, ``seed()`` (a fresh non-deterministic seed), ``get_state()`` /
    ``set_state()``. A new generator starts from PyTorch's default seed 67280421310721.
    The draws used by :mod:`glassnet.utils.data` (``randperm``, ``randint``,
    ``random_int64``) equal PyTorch's for the same seed.

    ``get_state()`` is a uint8 Tensor in glassnet's own layout (seed, position, the 624
    words); it round-trips through ``set_state`` but is not byte-compatible with PyTorch's.

    Example
    -------
    >>> g = Generator().manual_seed(0)
    >>> g.randint(10, 3).tolist()            # torch.randint(10, (3,), generator=g)
    [4, 9, 3]
    """

    def __init__(self, device: DeviceLike = "cpu") -> None:
        if str(device) != "cpu":
            raise RuntimeError(f"Generator: glassnet runs on the CPU only; device must be "
                               f"'cpu', got {device!r}")
        self._bits = np.random.MT19937()
        self.manual_seed(DEFAULT_SEED)

    @property
    def device(self) -> str:
        return "cpu"

    # ---------------------------------------------------------------- seeding and state
    def manual_seed(self, seed: int) -> "Generator":
        """Reset to ``seed`` (any integer in [-2**63, 2**64); negatives wrap mod 2**64)."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed: seed must be an integer, got "
                            f"{type(seed).__name__} {seed!r}")
        seed = int(seed)
        if not -(1 << 63) <= seed < _U64:
            raise RuntimeError(f"manual_seed: seed must be within [-0x8000_0000_0000_0000, "
                               f"0xffff_ffff_ffff_ffff], got {seed}")
        self._seed = seed % _U64
        self._set_words(_mt_key(self._seed & 0xFFFFFFFF), _STATE_WORDS)
        return self

    def initial_seed(self) -> int:
        """The seed the generator was last reset with."""
        return self._seed

    def seed(self) -> int:
        """Reset to a non-deterministic seed (from the OS) and return it."""
        import secrets  # noqa: PLC0415  (rarely used; keeps import glassnet light)
        s = secrets.randbits(64)
        self.manual_seed(s)
        return s

    def _set_words(self, key: np.ndarray, pos: int) -> None:
        self._bits.state = {"bit_generator": "MT19937",
                            "state": {"key": np.asarray(key, np.uint32), "pos": int(pos)}}

    def get_state(self) -> Tensor:
        """The full state as a uint8 Tensor: seed (8 bytes), position (8), 624 words."""
        st = self._bits.state["state"]
        head = np.array([self._seed, st["pos"]], dtype="<u8")
        body = np.asarray(st["key"], dtype="<u4")
        return Tensor(np.concatenate([head.view(np.uint8), body.view(np.uint8)]))

    def set_state(self, new_state: Tensor | np.ndarray) -> "Generator":
        """Restore a state returned by :meth:`get_state`."""
        a = new_state._data if isinstance(new_state, Tensor) else np.asarray(new_state)
        want = 16 + 4 * _STATE_WORDS
        if a.dtype != np.uint8 or a.ndim != 1 or a.size != want:
            raise RuntimeError(f"set_state: expected a uint8 tensor of {want} bytes from "
                               f"Generator.get_state(), got dtype {a.dtype}, shape {a.shape}")
        a = np.ascontiguousarray(a)
        seed, pos = (int(v) for v in a[:16].view("<u8"))
        if pos > _STATE_WORDS:
            raise RuntimeError(f"set_state: position {pos} is out of range (0..624); the "
                               f"state is corrupt")
        self._seed = seed
        self._set_words(a[16:].view("<u4"), pos)
        return self

    def __getstate__(self) -> dict[str, np.ndarray]:   # worker processes get a copy of a sampler and its generator
        return {"state": self.get_state()._data}

    def __setstate__(self, d: dict[str, np.ndarray]) -> None:
        self._bits = np.random.MT19937()
        self.set_state(d["state"])

    def __repr__(self) -> str:
        return f"<glassnet.Generator seed={self._seed}>"

    # ---------------------------------------------------------------- draws (PyTorch's)
    def random32(self, n: int) -> np.ndarray:
        """The next ``n`` 32-bit words of the Mersenne Twister (uint64 array)."""
        return self._bits.random_raw(int(n))

    def random_int64(self) -> int:
        """What ``torch.empty((), dtype=torch.int64).random_(generator=g)`` returns:
        two words w0, w1 combined as ((w0 << 32) | w1) mod 2**63."""
        w = self.random32(2)
        return ((int(w[0]) << 32) | int(w[1])) & ((1 << 63) - 1)

    def randint(self, high: int, size: int) -> np.ndarray:
        """``size`` integers uniform in [0, high) as ``torch.randint(high, (size,))``: for
        high < 2**28 one word per value (word mod high); from 2**28 on, as PyTorch, two
        words per value, ((w0 << 32) | w1) mod high. Returns a uint64 array for high above
        2**63, else int64. ``high`` must be in 1 .. 2**64."""
        if not 1 <= high <= _U64:
            raise ValueError(f"randint: high must be in 1..2**64, got {high}")
        if high < (1 << 28):
            return (self.random32(size) % np.uint64(high)).astype(np.int64)
        w = self.random32(2 * int(size)).reshape(-1, 2)
        both = (w[:, 0] << np.uint64(32)) | w[:, 1]
        if high < _U64:
            both %= np.uint64(high)
        return both.astype(np.int64) if high <= (1 << 63) else both

    def randperm(self, n: int) -> np.ndarray:
        """A permutation of 0..n-1, identical to ``torch.randperm(n, generator=g)``.

        PyTorch runs, for i = 0 .. n-2, ``swap(a[i], a[j_i])`` with j_i = i + (r_i mod (n-i)).
        Position i is final after step i, so a[i] is the value that sat at j_i just before
        step i: the value step k put there (k the last earlier step with j_k = j_i), else
        the original j_i. Step k put there what sat at position k before step k, which by
        the same rule follows a chain back through earlier steps to an untouched position;
        the chains are followed by pointer jumping (about log2 of their length passes).

        Shapes: returns an int64 array of shape (n,). n must be below 2**32 / 20, the range
        where PyTorch uses this algorithm.
        """
        n = int(n)
        if n < 0:
            raise RuntimeError(f"randperm: n must be non-negative, got {n}")
        if n >= (1 << 32) // 20:
            raise ValueError(f"randperm: n = {n} is beyond the range (< 2**32 / 20) where "
                             f"glassnet reproduces PyTorch's algorithm")
        ar = np.arange(n, dtype=np.int64)
        if n <= 1:
            return ar
        j = np.empty(n, np.int64)
        j[:-1] = self.random32(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)
        j[:-1] += ar[:-1]
        j[-1] = n - 1                       # the last position: a formal swap with itself
        # group the steps by target j (stable, so each group is in step order)
        order = np.argsort(j, kind="stable")
        js = j[order]
        same = js[1:] == js[:-1]            # sorted neighbour s+1 shares s's target
        before = np.full(n, -1, np.int64)   # previous step with the same target
        before[order[1:][same]] = order[:-1][same]
        ends = np.append(~same, True)       # the last step of each target group
        last = np.full(n, -1, np.int64)     # last step that targeted position p
        last[js[ends]] = order[ends]
        stay = j == ar
        # what sat at position i before step i came from step prev[i] (or is i itself)
        prev = np.where(stay, before, last)
        root = np.where(prev >= 0, prev, ar)
        while True:
            nxt = root[root]
            if np.array_equal(nxt, root):
                break
            root = nxt
        moved = np.where(before >= 0, root[np.maximum(before, 0)], j)
        return np.where(stay, root, moved)


_DEFAULT: list[Any] = [None, None]     # the default Generator, the backend generator it follows


def default_generator() -> Generator:
    """The generator ``randperm`` / ``randint`` use when none is given. It is reseeded, with
    the same seed, whenever glassnet's global generator is (``glassnet.manual_seed``)."""
    rng = backend.rng()
    if _DEFAULT[0] is None or _DEFAULT[1] is not rng:
        entropy = cast("np.random.SeedSequence", rng.bit_generator.seed_seq).entropy
        seed = int(entropy) % _U64 if isinstance(entropy, (int, np.integer)) else DEFAULT_SEED
        _DEFAULT[0] = (_DEFAULT[0] or Generator()).manual_seed(seed)
        _DEFAULT[1] = rng
    return _DEFAULT[0]


def numpy_draws(generator: Generator | None, where: str) -> np.random.Generator:
    """The NumPy generator a fill draws from: glassnet's global one (``manual_seed``) for
    None, else one sharing ``generator``'s Mersenne Twister state, so that the draws
    advance it and two generators with the same seed give the same values. (The values
    are NumPy's transforms of the stream, not PyTorch's: ``randint`` and ``randperm``
    are the draws that equal PyTorch's.)"""
    if generator is None:
        return backend.rng()
    if not isinstance(generator, Generator):
        raise TypeError(f"{where}: generator must be a glassnet Generator or None, got "
                        f"{type(generator).__name__}")
    return np.random.Generator(generator._bits)

