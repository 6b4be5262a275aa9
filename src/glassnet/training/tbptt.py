"""Truncated backpropagation through time (TBPTT) with the ``Trainer``.

A long sequence (a text as character ids) is cut into ``N`` parallel streams that are
read ``T`` steps at a time: window k of every stream is one batch.
:class:`SequenceStreams` yields those batches, and :class:`TruncatedBPTT` is the
Trainer's forward hook that starts window k + 1 from the state window k ended in,
detached: the forward pass continues the streams, but the gradient of a window stops
at its first step instead of running back through the whole epoch.

>>> streams = SequenceStreams(ids, batch_size=32, seq_len=64, random_offset=True)  # doctest: +SKIP
>>> hook = TruncatedBPTT(CharLM.stream_logits)      # (model, x, state) -> (logits, state)  # doctest: +SKIP
>>> Trainer(lm, nn.CrossEntropyLoss(), opt, forward=hook).fit(streams, epochs=5)  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from .. import backend
from ..validation import check_int

if TYPE_CHECKING:  # annotations only
    from typing import TypeAlias

    import numpy.typing as npt

    from glassnet.autograd.tensor import Tensor
    from glassnet.nn.module import Module

    # a recurrent layer's state: none yet (zeros), h (RNN, GRU) or a tuple such as (h, c)
    State: TypeAlias = Union[Tensor, tuple[Tensor, ...], None]

__all__ = ["SequenceStreams", "TruncatedBPTT", "text_streams", "detach_state"]


def text_streams(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """Cut a 1-D id array into ``batch_size`` contiguous streams: (batch_size, len // batch_size).

    >>> text_streams(np.arange(10), 2)
    array([[0, 1, 2, 3, 4],
           [5, 6, 7, 8, 9]])
    """
    n = len(ids) // batch_size
    if n < 2:
        raise ValueError(f"text of {len(ids)} characters is too short for {batch_size} streams "
                         "of at least 2 characters; use a smaller batch_size")
    return np.ascontiguousarray(ids[:n * batch_size].reshape(batch_size, n))


def detach_state(state: State) -> State:
    """A recurrent state (None, a Tensor, or a tuple such as an LSTM's (h, c)) detached."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


class SequenceStreams:
    """The batches of one epoch of truncated BPTT over a long sequence.

    ``ids`` (L,) are cut into ``N = batch_size`` contiguous streams of ``S = L // N``
    steps (:func:`text_streams`), read ``T = seq_len`` steps at a time. Window k starts
    at ``s = offset + k T`` and yields

        x = streams[:, s:s + T].T                      (T, N) inputs, time-major
        y = streams[:, s + 1:s + T + 1].T.reshape(-1)  (T N,) the next ids

    the targets flattened time-major, like a model's logits reshaped to (T N, V), so a
    plain cross-entropy applies. The last window is shorter when the streams run out.
    With ``random_offset`` each epoch starts at an offset drawn from [0, T) (when the
    streams hold more than 2 T steps), so the windows cut the text at new places;
    ``rng`` is the generator (default ``glassnet.backend.rng()``).

    ``len()`` is the number of windows at offset 0, ``n_samples`` the targets they hold.

    >>> batches = SequenceStreams(np.arange(100), batch_size=4, seq_len=8)
    >>> x, y = next(iter(batches))   # x (8, 4), y (32,)
    """

    def __init__(self, ids: npt.ArrayLike, batch_size: int, seq_len: int,
                 random_offset: bool = False, rng: np.random.Generator | None = None) -> None:
        self.seq_len = check_int(seq_len, "seq_len", "SequenceStreams")
        self.streams = text_streams(np.asarray(ids), batch_size)
        self.batch_size = int(batch_size)
        self.random_offset = bool(random_offset)
        self._rng = rng

    def __len__(self) -> int:
        return -(-(self.streams.shape[1] - 1) // self.seq_len)

    @property
    def n_samples(self) -> int:
        return self.batch_size * (self.streams.shape[1] - 1)

    def _offset(self) -> int:
        T = self.seq_len
        if not self.random_offset or self.streams.shape[1] <= 2 * T:
            return 0
        rng = self._rng if self._rng is not None else backend.rng()
        return int(rng.integers(T))

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        # the offset is drawn when the epoch starts, not at its first batch
        return self._windows(self._offset())

    def _windows(self, offset: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        streams, last = self.streams, self.streams.shape[1] - 1
        for s in range(offset, last, self.seq_len):
            e = min(s + self.seq_len, last)
            yield np.ascontiguousarray(streams[:, s:e].T), streams[:, s + 1:e + 1].T.reshape(-1)


def _call(model: Module, x: Any, state: State) -> tuple[Any, State]:
    return model(x, state)


class TruncatedBPTT:
    """The Trainer's forward hook for truncated BPTT: a recurrent state carried from batch
    to batch, detached.

    Batch k + 1 of :class:`SequenceStreams` continues the streams where batch k stopped,
    so the model starts from the state batch k ended in, ``h_0^(k+1) = h_T^(k)``. The
    state is detached: its value is carried, but the gradient of batch k + 1's loss stops
    at the window's first step (backpropagating into earlier windows would cost memory
    and time growing with the epoch). The state starts at None (zeros) in every training
    epoch and every evaluation pass; training and evaluation keep separate states, so an
    evaluation inside an epoch leaves the training streams alone.

    Parameters
    ----------
    forward : callable ``(model, x, state) -> (output, state)``, optional
        Runs the model on one window; default ``model(x, state)``, the calling
        convention of ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN``.

    Example
    -------
    >>> hook = TruncatedBPTT(CharLM.stream_logits)  # doctest: +SKIP
    >>> Trainer(lm, nn.CrossEntropyLoss(), opt, forward=hook).fit(streams, epochs=3)  # doctest: +SKIP
    """

    def __init__(self, forward: Callable[[Any, Any, State], tuple[Any, State]] | None = None
                 ) -> None:
        if forward is not None and not callable(forward):
            raise TypeError(f"TruncatedBPTT: forward must be a callable (model, x, state) -> "
                            f"(output, state), got {type(forward).__name__}")
        self.fn = forward if forward is not None else _call
        self.states: dict[bool, State] = {True: None, False: None}   # by model.training

    def reset(self, training: bool) -> None:
        """Start a new pass (a training epoch, or an evaluation) from a zero state."""
        self.states[bool(training)] = None

    def forward(self, model: Module, x: Any) -> Any:
        mode = bool(model.training)
        out, self.states[mode] = self.fn(model, x, detach_state(self.states[mode]))
        return out
